package io.engram.tools.ingest.video;

import io.engram.engine.errors.ConfigException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * A directory of still images played as a video: every {@code .png}, {@code .jpg}, {@code .jpeg}
 * and {@code .bmp} file directly in the directory (not in subdirectories; hidden files and other
 * files ignored), in file-name order, at a fixed frame rate. Frame {@code i} is captured at
 * {@code i / fps} seconds.
 *
 * <p>File-name order is "natural": runs of digits compare as numbers, so {@code f2.png} comes before
 * {@code f10.png} (zero-padded names sort the same either way). Images are read with
 * {@link ImageIO} when the frame's image is asked for; a file that is not a readable image is
 * reported as a {@link SkippedFrameException} and keeps its time slot.
 *
 * <p>The list of files is taken once, when the source is created. Holds no native resources;
 * {@link #close()} does nothing, but call it anyway (the {@link FrameSource} contract).
 */
public final class ImageDirectorySource implements FrameSource {
    /** File extensions read as images (lower case, without the dot). */
    public static final Set<String> EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp");

    private final Path dir;
    private final List<Path> files;
    private final double fps;
    private int next;
    private CapturedFrame current;

    /**
     * @param dir the directory
     * @param fps frames per second to assign (e.g. 10: frame i is at i/10 s); must be positive
     * @throws ConfigException when the directory cannot be listed or holds no images
     */
    public ImageDirectorySource(Path dir, double fps) {
        if (!(fps > 0) || !Double.isFinite(fps)) {
            throw new ConfigException("the frame rate of an image directory must be positive, not " + fps + "; set --source-fps");
        }
        this.dir = dir;
        this.fps = fps;
        this.files = list(dir);
        if (files.isEmpty()) {
            throw new ConfigException("directory " + dir + " holds no images (" + String.join(", ", sortedExtensions())
                    + "); check --source");
        }
    }

    /**
     * The image files directly in {@code dir}, in natural file-name order.
     *
     * @throws ConfigException when the directory cannot be listed
     */
    public static List<Path> list(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(ImageDirectorySource::isImageFile)
                    .sorted(Comparator.comparing((Path p) -> p.getFileName().toString(), ImageDirectorySource::compareNatural)
                            .thenComparing(p -> p.getFileName().toString()))
                    .toList();
        } catch (IOException e) {
            throw new ConfigException("cannot list directory " + dir + ": " + e.getMessage() + "; check --source and its permissions", e);
        }
    }

    /** A regular, non-hidden file with an image extension (any case). */
    static boolean isImageFile(Path p) {
        String name = p.getFileName().toString();
        int dot = name.lastIndexOf('.');
        if (name.startsWith(".") || dot < 0) {
            return false;
        }
        return EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT)) && Files.isRegularFile(p);
    }

    /** Compares names with runs of digits compared by value ("f2" before "f10"), the rest case-insensitively. */
    static int compareNatural(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            char ca = a.charAt(i);
            char cb = b.charAt(j);
            if (Character.isDigit(ca) && Character.isDigit(cb)) {
                int ei = i;
                while (ei < a.length() && Character.isDigit(a.charAt(ei))) {
                    ei++;
                }
                int ej = j;
                while (ej < b.length() && Character.isDigit(b.charAt(ej))) {
                    ej++;
                }
                // Compare by value without overflow: strip leading zeros, then longer is larger.
                String da = stripZeros(a.substring(i, ei));
                String db = stripZeros(b.substring(j, ej));
                int c = da.length() != db.length() ? Integer.compare(da.length(), db.length()) : da.compareTo(db);
                if (c != 0) {
                    return c;
                }
                i = ei;
                j = ej;
            } else {
                int c = Character.compare(Character.toLowerCase(ca), Character.toLowerCase(cb));
                if (c != 0) {
                    return c;
                }
                i++;
                j++;
            }
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

    private static String stripZeros(String digits) {
        int k = 0;
        while (k < digits.length() - 1 && digits.charAt(k) == '0') {
            k++;
        }
        return digits.substring(k);
    }

    private static List<String> sortedExtensions() {
        return EXTENSIONS.stream().sorted().toList();
    }

    /** The files this source plays, in order. */
    public List<Path> files() {
        return files;
    }

    @Override
    public CapturedFrame next(BooleanSupplier keepGoing) {
        invalidateCurrent();
        if (next >= files.size()) {
            return null;
        }
        int i = next++;
        Path file = files.get(i);
        String label = file.getFileName().toString();
        long offset = Math.round(i * 1_000_000.0 / fps);
        current = new CapturedFrame(i, offset, -1, label, () -> read(file, label));
        return current;
    }

    private static BufferedImage read(Path file, String label) throws IOException {
        try {
            BufferedImage img = ImageIO.read(file.toFile());
            if (img == null) {
                throw new SkippedFrameException(label, "not a readable image");
            }
            return img;
        } catch (SkippedFrameException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // ImageIO throws IIOException for corrupt files, and sometimes runtime exceptions.
            throw new SkippedFrameException(label, "not a readable image (" + e.getMessage() + ")", e);
        }
    }

    @Override
    public boolean rewind() {
        invalidateCurrent();
        next = 0;
        return true;
    }

    @Override
    public boolean live() {
        return false;
    }

    @Override
    public long frameCount() {
        return files.size();
    }

    @Override
    public double frameRate() {
        return fps;
    }

    @Override
    public String description() {
        return dir.getFileName() != null ? dir.getFileName() + "/" : dir.toString();
    }

    private void invalidateCurrent() {
        if (current != null) {
            current.invalidate();
            current = null;
        }
    }

    @Override
    public void close() {
        invalidateCurrent();
    }
}
