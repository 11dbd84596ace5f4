package io.engram.tools.soak;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The soak's input for one pipeline: the same records, in the same order, from a seed, for the
 * uninterrupted reference run and for the run under faults. Good records interleave over every
 * stream (so every partition gets input all the time); a few bad ones (which the pipeline must
 * dead-letter) are mixed in. Keyed records go to their key's partition; the one without a key
 * names its partition, so that both runs' input topics are identical.
 *
 * @param records the records to send, in order
 * @param good how many of them must give one prediction each (the rest are bad: one dead letter each)
 */
public record SoakInput(List<ProducerRecord<byte[], byte[]>> records, int good) {
    static final long T0 = 1_700_000_000_000L;

    /**
     * Sensor readings: {@code streams} streams, one reading a minute (event time), noisy sines at
     * different levels and periods with spikes and level shifts, until there are about {@code total}
     * records; one bad record (not JSON, a wrong value count, an out-of-order reading, no key) in
     * about every 500.
     */
    public static SoakInput sensor(String topic, long seed, int streams, int total) {
        SplittableRandom rnd = new SplittableRandom(seed);
        double[] level = new double[streams];
        double[] period = new double[streams];
        for (int s = 0; s < streams; s++) {
            level[s] = 1 + 20 * rnd.nextDouble();
            period[s] = 10 + 90 * rnd.nextDouble();
        }
        List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
        int good = 0;
        for (int i = 0; out.size() < total; i++) {
            for (int s = 0; s < streams; s++) {
                double v = level[s] + Math.sin(2 * Math.PI * i / period[s]) + 0.1 * rnd.nextGaussian();
                if (rnd.nextInt(400) == 0) {
                    v += 8 + 4 * rnd.nextDouble(); // spike
                }
                if (rnd.nextInt(2000) == 0) {
                    level[s] += 5; // level shift
                }
                out.add(new ProducerRecord<>(topic, null, ts(s, i), bytes(sensorKey(s)), json(ts(s, i), v)));
                good++;
                if (rnd.nextInt(500) == 0) {
                    int b = i == 0 ? 0 : rnd.nextInt(4);
                    long t = ts(s, i);
                    out.add(switch (b) {
                        case 0 -> new ProducerRecord<>(topic, null, t, bytes(sensorKey(s)), bytes("{oops"));
                        case 1 -> new ProducerRecord<>(topic, null, t, bytes(sensorKey(s)),
                                bytes(String.format(Locale.ROOT, "{\"ts\":%d,\"values\":[1.0,2.0]}", t)));
                        case 2 -> new ProducerRecord<>(topic, null, t - 3_600_000, bytes(sensorKey(s)), json(t - 3_600_000, v));
                        default -> new ProducerRecord<>(topic, s % 4 == 0 ? 0 : 1, t, null, json(t, v));
                    });
                }
            }
        }
        return new SoakInput(List.copyOf(out), good);
    }

    /**
     * Video frames: {@code cameras} cameras at 10 frames a second (event time), each a walk through
     * the PNG frames of one of the sample directories under {@code samples}, until there are about
     * {@code total} records; one bad frame (not an image, an unsupported content type) in about
     * every 200.
     */
    public static SoakInput video(String topic, long seed, int cameras, int total, Path samples) {
        List<List<byte[]>> sources = pngDirectories(samples);
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] at = new int[cameras];
        for (int c = 0; c < cameras; c++) {
            at[c] = rnd.nextInt(1000);
        }
        List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
        int good = 0;
        for (int i = 0; out.size() < total; i++) {
            for (int c = 0; c < cameras; c++) {
                List<byte[]> src = sources.get(c % sources.size());
                out.add(frame(topic, c, i, src.get(at[c]++ % src.size()), "image/png"));
                good++;
                if (rnd.nextInt(200) == 0) {
                    out.add(rnd.nextBoolean() ? frame(topic, c, i, bytes("not an image"), "image/jpeg")
                            : frame(topic, c, i, src.get(0), "image/gif"));
                }
            }
        }
        return new SoakInput(List.copyOf(out), good);
    }

    /** The records that must each give one dead letter. */
    public int bad() {
        return records.size() - good;
    }

    /** The topic the input goes to. */
    public String topic() {
        return records.get(0).topic();
    }

    static String sensorKey(int s) {
        return "soak-sensor-" + s;
    }

    static String camera(int c) {
        return "soak-cam-" + c;
    }

    /** Stream s's reading i: one a minute, the streams a few milliseconds apart. */
    static long ts(int s, int i) {
        return T0 + 60_000L * i + s;
    }

    private static ProducerRecord<byte[], byte[]> frame(String topic, int c, int i, byte[] image, String contentType) {
        ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, null, T0 + 100L * i + c, bytes(camera(c)), image);
        r.headers().add("content-type", bytes(contentType)).add("seq", bytes(Integer.toString(i)));
        return r;
    }

    private static byte[] json(long ts, double v) {
        return bytes(String.format(Locale.ROOT, "{\"ts\":%d,\"values\":[%.6f]}", ts, v));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The PNG frames of each directory under {@code samples} (e.g. {@code ingest/samples/video/cam-a}), in name order. */
    private static List<List<byte[]>> pngDirectories(Path samples) {
        List<List<byte[]>> out = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(samples)) {
            for (Path d : dirs.filter(Files::isDirectory).sorted().toList()) {
                List<byte[]> frames = new ArrayList<>();
                try (Stream<Path> files = Files.list(d)) {
                    for (Path f : files.filter(p -> p.toString().endsWith(".png")).sorted().toList()) {
                        frames.add(Files.readAllBytes(f));
                    }
                }
                if (!frames.isEmpty()) {
                    out.add(frames);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading the sample frames in " + samples, e);
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no PNG frames in the directories under " + samples
                    + ". Fix: point --samples at a folder of camera folders, such as ingest/samples/video");
        }
        return out;
    }
}
