package io.engram.tools.ingest.video;

import io.engram.testkit.TestImages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.errors.ConfigException;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageDirectorySourceTest {
    @TempDir
    Path dir;

    private void png(String name, int x) throws Exception {
        ImageIO.write(TestImages.square(16, 12, x, 2, 4), "png", dir.resolve(name).toFile());
    }

    private static List<String> names(List<Path> files) {
        return files.stream().map(p -> p.getFileName().toString()).toList();
    }

    @Test
    void imagesAreSortedByFileNameWithNumbersComparedByValue() throws Exception {
        for (String n : List.of("f10.png", "f2.png", "f1.png", "a.jpg", "f02b.bmp", "F3.JPEG")) {
            png(n, 0);
        }
        assertEquals(List.of("a.jpg", "f1.png", "f2.png", "f02b.bmp", "F3.JPEG", "f10.png"), names(ImageDirectorySource.list(dir)));
    }

    @Test
    void zeroPaddedNamesKeepTheirPlainOrder() throws Exception {
        for (String n : List.of("frame_0010.png", "frame_0002.png", "frame_0001.png", "frame_0100.png")) {
            png(n, 0);
        }
        assertEquals(List.of("frame_0001.png", "frame_0002.png", "frame_0010.png", "frame_0100.png"), names(ImageDirectorySource.list(dir)));
    }

    @Test
    void nonImageFilesHiddenFilesAndSubdirectoriesAreIgnored() throws Exception {
        png("b.png", 0);
        png(".hidden.png", 0);
        Files.writeString(dir.resolve("notes.txt"), "hello");
        Files.writeString(dir.resolve("clip.mp4"), "not really");
        Files.writeString(dir.resolve("png"), "no extension");
        Files.createDirectories(dir.resolve("sub.png"));
        png("a.JPG", 0);
        assertEquals(List.of("a.JPG", "b.png"), names(ImageDirectorySource.list(dir)));
    }

    @Test
    void framesAreSpacedAtTheSourceFrameRateAndDecodeToTheFilesPixels() throws Exception {
        for (int i = 0; i < 3; i++) {
            png("img" + i + ".png", i * 3);
        }
        List<CapturedFrame> frames = new ArrayList<>();
        try (ImageDirectorySource src = new ImageDirectorySource(dir, 4)) {
            assertEquals(3, src.frameCount());
            assertFalse(src.live());
            CapturedFrame f;
            while ((f = src.next(() -> true)) != null) {
                BufferedImage img = f.image();
                assertTrue(TestImages.samePixels(TestImages.square(16, 12, (int) f.index() * 3, 2, 4), img), f.label());
                frames.add(f);
            }
        }
        assertEquals(List.of(0L, 250_000L, 500_000L), frames.stream().map(CapturedFrame::offsetMicros).toList());
        assertEquals(List.of("img0.png", "img1.png", "img2.png"), frames.stream().map(CapturedFrame::label).toList());
        assertEquals(-1, frames.get(0).epochMillis());
    }

    @Test
    void aFrameIsNoLongerValidOnceTheSourceMovesOn() throws Exception {
        png("a.png", 0);
        png("b.png", 1);
        try (ImageDirectorySource src = new ImageDirectorySource(dir, 10)) {
            CapturedFrame first = src.next(() -> true);
            src.next(() -> true);
            assertThrows(IllegalStateException.class, first::image);
        }
    }

    @Test
    void rewindStartsAgainAtTheFirstFileAndOffsetZero() throws Exception {
        png("a.png", 0);
        png("b.png", 1);
        try (ImageDirectorySource src = new ImageDirectorySource(dir, 10)) {
            src.next(() -> true);
            src.next(() -> true);
            assertNull(src.next(() -> true));
            assertTrue(src.rewind());
            CapturedFrame f = src.next(() -> true);
            assertEquals("a.png", f.label());
            assertEquals(0, f.offsetMicros());
        }
    }

    @Test
    void aCorruptImageIsASkippedFrameNamingTheFile() throws Exception {
        Files.writeString(dir.resolve("bad.png"), "this is not a png");
        try (ImageDirectorySource src = new ImageDirectorySource(dir, 10)) {
            CapturedFrame f = src.next(() -> true);
            SkippedFrameException e = assertThrows(SkippedFrameException.class, f::image);
            assertEquals("bad.png", e.frame());
            assertTrue(e.getMessage().startsWith("bad.png: not a readable image"), e.getMessage());
        }
    }

    @Test
    void aDirectoryWithoutImagesIsAConfigErrorNamingItAndTheExtensions() throws Exception {
        Files.writeString(dir.resolve("notes.txt"), "hello");
        ConfigException e = assertThrows(ConfigException.class, () -> new ImageDirectorySource(dir, 10));
        assertTrue(e.getMessage().contains(dir.toString()) && e.getMessage().contains("bmp, jpeg, jpg, png"), e.getMessage());
    }
}
