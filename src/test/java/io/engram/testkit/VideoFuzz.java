package io.engram.testkit;

import static io.engram.testkit.Bytes.concat;
import static io.engram.testkit.Bytes.header;
import static io.engram.testkit.Bytes.headers;
import static io.engram.testkit.Bytes.lastHeader;
import static io.engram.testkit.Bytes.utf8;
import static io.engram.testkit.Bytes.utf8bytes;
import static io.engram.testkit.DeadLetterCheck.keyProblem;
import static io.engram.testkit.Fuzzer.padded;
import static io.engram.testkit.Fuzzer.withByte;
import static io.engram.testkit.Fuzzer.withInt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.engram.engine.kafka.InputKeyDeserializer;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.errors.BadInputException;
import io.engram.engine.pipeline.activity.VideoActivityPipeline;
import io.engram.engine.pipeline.video.FeatureRecord;
import io.engram.engine.pipeline.video.FeatureRecordSerde;
import io.engram.engine.pipeline.video.FramePreprocessor;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * Makes the video records: the golden clip's frames on a few cameras, its features on a camera
 * of the features topic, bad frames and bad feature records between them.
 */
public final class VideoFuzz extends Fuzzer {
    public static final int FRAMES = 30;
    public final PipelineSpec cfg;
    public final FramePreprocessor pre;
    public final String encoderRef;
    public final JsonNode golden;
    public final long t0 = (System.currentTimeMillis() / 1000 - 3600) * 1000;
    public final byte[][] png = new byte[FRAMES][];
    public final byte[][] jpeg = new byte[FRAMES][];
    public final FeatureRecordSerde fs = new FeatureRecordSerde();
    /** The oracle's view: each camera's frame size (first accepted frame), last stepped capture time, frames stepped. */
    public final Map<String, Long> shape = new HashMap<>();
    public final Map<String, Long> lastStepped = new HashMap<>();
    public final Map<String, Integer> stepped = new HashMap<>();
    /** The frame size the last frame judged would fix for its camera, if it is sent (the first stage accepted it). */
    Map.Entry<String, Long> pendingShape;

    public VideoFuzz(long seed, PipelineSpec cfg, FramePreprocessor pre, String encoderRef, JsonNode golden) throws Exception {
        super(seed, 0x5DEECE66DL);
        this.cfg = cfg;
        this.pre = pre;
        this.encoderRef = encoderRef;
        this.golden = golden;
        for (int i = 0; i < FRAMES; i++) {
            png[i] = Files.readAllBytes(Path.of(String.format("models/activity/clip/frame-%05d.png", i)));
            jpeg[i] = encode(ImageIO.read(new java.io.ByteArrayInputStream(png[i])), "jpeg");
        }
    }

    String frames() {
        return cfg.topics().name(VideoActivityPipeline.FRAMES);
    }

    String features() {
        return cfg.topics().name(VideoActivityPipeline.FEATURES);
    }

    public List<FuzzRecord> generate() throws Exception {
        // Good cameras: the clip's first FRAMES frames, with the header variants the docs allow.
        Map<String, Integer> todo = new LinkedHashMap<>();
        todo.put("cam-a", FRAMES);
        todo.put("cam-b", FRAMES);
        todo.put("камера ✓", 5);
        todo.put("feat-a", FRAMES); // feature records written straight to the features topic
        int badTarget = 260;
        List<Runnable> fixed = new ArrayList<>(List.of(
                () -> goodFrame("cam-big", padded(png[0], 999_000), headers("content-type", "image/png", "seq", "0"), "999,000-byte PNG"),
                () -> badFrame("fz-big-1", randomBytes(cfg.settings(VideoActivityPipeline.INSTANCE).maxFrameBytes() + 1), headers("content-type", "image/jpeg"), "over max_frame_bytes",
                        "too-large"),
                () -> badFrame("cam-a", randomBytes(cfg.settings(VideoActivityPipeline.INSTANCE).maxFrameBytes()), headers("content-type", "image/png"), "exactly max_frame_bytes of noise",
                        "corrupt-image"),
                () -> badFrame("cam-b", jpegNoise(950_000), noHeaders(), "950,000 bytes with a JPEG start", "corrupt-image"),
                () -> badFrame("fz-big-2", randomBytes(899_000), noHeaders(), "899,000 random bytes", "unsupported-content-type"),
                () -> badFeatures("feat-a", randomBytes(950_000), noHeaders(), lastOr("feat-a"), "950,000 random bytes", "bad-features"),
                () -> badFrame(new byte[1_000_000], png[0], noHeaders(), ts("fz"), "1,000,000-byte key", "too-large")));
        int total = todo.values().stream().mapToInt(Integer::intValue).sum();
        while (!todo.isEmpty() || bads < badTarget) {
            int slot = r.nextInt(total + badTarget + fixed.size());
            if (!fixed.isEmpty() && slot < fixed.size()) {
                fixed.remove(r.nextInt(fixed.size())).run();
            } else if (!todo.isEmpty() && (bads >= badTarget || r.nextBoolean())) {
                List<String> keys = new ArrayList<>(todo.keySet());
                String k = keys.get(r.nextInt(keys.size()));
                int i = stepped.getOrDefault(k, 0);
                if (k.startsWith("feat-")) {
                    goodFeatures(k, i);
                } else {
                    goodFrame(k, png[i], goodHeaders(i), "frame " + i);
                }
                if (todo.merge(k, -1, Integer::sum) == 0) {
                    todo.remove(k);
                }
            } else if (r.nextInt(3) == 0) {
                badFeaturesOne();
            } else {
                badFrameOne();
            }
        }
        fixed.forEach(Runnable::run);
        return out;
    }

    /** The documented header variants of a good frame: content-type in any case or sniffed, extra and repeated headers. */
    Header[] goodHeaders(int seq) {
        List<Header> h = new ArrayList<>(Arrays.asList(r.nextInt(3) == 0 ? randomHeaders() : noHeaders()));
        switch (r.nextInt(5)) {
            case 0 -> h.add(header("content-type", "IMAGE/PNG"));
            case 1 -> { } // no content-type: sniffed from the bytes
            case 2 -> {
                h.add(header("content-type", "image/gif"));
                h.add(header("content-type", "image/png")); // the last header of a name counts
            }
            case 3 -> h.add(new RecordHeader("content-type", null)); // no value: sniffed
            default -> h.add(header("content-type", "image/png"));
        }
        h.add(header("width", pick("64", "wide", "")));
        h.add(header("seq", r.nextBoolean() ? Integer.toString(seq) : " " + seq + " "));
        return h.toArray(new Header[0]);
    }

    public long ts(String k) {
        Long last = lastStepped.get(k);
        return last == null ? t0 : last + 100;
    }

    public long lastOr(String k) {
        Long last = lastStepped.get(k);
        return last == null ? t0 : last;
    }

    public void goodFrame(String k, byte[] image, Header[] headers, String what) {
        byte[] key = utf8bytes(k);
        long ts = ts(k);
        assertNull(frameOutcome(key, image, headers, ts), seed("a good frame must be valid: " + what));
        shape.putIfAbsent(pendingShape.getKey(), pendingShape.getValue());
        FuzzRecord s = new FuzzRecord(what, frames(), key, image, headers, ts, null, k, null);
        s.frame = stepped.getOrDefault(k, 0);
        out.add(s);
    }

    public void goodFeatures(String k, int i) {
        float[] f = new float[golden.get("features").get(i).size()];
        for (int j = 0; j < f.length; j++) {
            f[j] = (float) golden.get("features").get(i).get(j).asDouble();
        }
        byte[] key = utf8bytes(k);
        byte[] value = fs.serialize("t", new FeatureRecord(encoderRef, i, f));
        Header[] h = r.nextInt(3) == 0 ? randomHeaders() : noHeaders();
        long ts = ts(k);
        assertNull(featureOutcome(key, value, h, ts), seed("good feature record must be valid"));
        FuzzRecord s = new FuzzRecord("features " + i, features(), key, value, h, ts, null, k, features());
        s.frame = i;
        out.add(s);
    }

    public void badFrame(String k, byte[] value, Header[] headers, String what, String reason) {
        badFrame(utf8bytes(k), value, headers, lastOr(k), what, reason);
    }

    public boolean badFrame(byte[] key, byte[] value, Header[] headers, long ts, String what, String reason) {
        String outcome = frameOutcome(key, value, headers, ts);
        if (reason != null) {
            assertEquals(reason, outcome, seed("oracle for " + what));
        }
        if (outcome == null) {
            return false;
        }
        boolean stage2 = outcome.equals("out-of-order");
        if (pendingShape != null) {
            shape.putIfAbsent(pendingShape.getKey(), pendingShape.getValue());
        }
        if (stage2) {
            // Refused by the second stage: its dead letter holds the feature record; found by this header.
            Header[] h = Arrays.copyOf(headers, headers.length + 1);
            h[headers.length] = header(DeadLetterCheck.FUZZ_ID, UUID.randomUUID().toString());
            headers = h;
        }
        out.add(new FuzzRecord(what, frames(), key, value, headers, ts, outcome, null, stage2 ? features() : frames()));
        bads++;
        return true;
    }

    public boolean badFeatures(String k, byte[] value, Header[] headers, long ts, String what, String reason) {
        return badFeatures(k == null ? null : utf8bytes(k), value, headers, ts, what, reason);
    }

    public boolean badFeatures(byte[] key, byte[] value, Header[] headers, long ts, String what, String reason) {
        String outcome = featureOutcome(key, value, headers, ts);
        if (reason != null) {
            assertEquals(reason, outcome, seed("oracle for " + what));
        }
        if (outcome == null) {
            return false;
        }
        out.add(new FuzzRecord(what, features(), key, value, headers, ts, outcome, null, features()));
        bads++;
        return true;
    }

    /** The frame-encode stage's rules in its order, then the classifier stage's; null when the frame is stepped. */
    String frameOutcome(byte[] key, byte[] value, Header[] headers, long ts) {
        pendingShape = null;
        String k = keyProblem(key, headers);
        if (k != null) {
            return k;
        }
        String camera = utf8(key);
        if (value == null || value.length == 0) {
            return "empty-frame";
        }
        if (value.length > cfg.settings(VideoActivityPipeline.INSTANCE).maxFrameBytes()) {
            return "too-large";
        }
        String seq = lastHeader(headers, "seq");
        if (seq != null) {
            try {
                Long.parseLong(seq.trim());
            } catch (NumberFormatException e) {
                return "bad-field";
            }
        }
        BufferedImage img;
        try {
            img = pre.decode(value, lastHeader(headers, "content-type"));
        } catch (BadInputException e) {
            return e.reason().code();
        }
        long s = ((long) img.getWidth() << 32) | img.getHeight();
        Long known = shape.get(camera);
        if (known != null && known != s) {
            return "frame-size-changed";
        }
        pendingShape = Map.entry(camera, s);
        Long last = lastStepped.get(camera);
        if (last != null && ts < last) {
            return "out-of-order";
        }
        return null;
    }

    /** The classifier stage's rules for a record written to the features topic; null when it is stepped. */
    String featureOutcome(byte[] key, byte[] value, Header[] headers, long ts) {
        String k = keyProblem(key, headers);
        if (k != null) {
            return k;
        }
        if (value == null) {
            return "null-value";
        }
        FeatureRecord f;
        try {
            f = fs.deserialize("t", value);
        } catch (SerializationException e) {
            return "bad-features";
        }
        if (f.values().length != 128 || !f.encoder().startsWith("frame-encoder-cnn@")) {
            return "bad-features";
        }
        Long last = lastStepped.get(utf8(key));
        if (last != null && ts < last) {
            return "out-of-order";
        }
        return null;
    }

    @Override
    protected void onAdded(FuzzRecord s) {
        if (s.reason == null) {
            lastStepped.merge(s.stream, s.timestamp, Math::max);
            stepped.merge(s.stream, 1, Integer::sum);
        }
    }

    public void badFrameOne() {
        for (int attempt = 0; attempt < 20; attempt++) {
            String k = r.nextInt(4) == 0 ? "fz-" + r.nextInt(1000) : pick("cam-a", "cam-b");
            byte[] key = utf8bytes(k);
            int i = Math.min(stepped.getOrDefault(k, 0), FRAMES - 1);
            byte[] base = r.nextBoolean() ? png[i] : jpeg[i];
            String ct = base == png[i] ? "image/png" : "image/jpeg";
            Header[] h = headers("content-type", ct, "seq", Integer.toString(i));
            Header[] hp = headers("content-type", "image/png", "seq", Integer.toString(i));
            long ts = ts(k);
            boolean added = switch (r.nextInt(17)) {
                case 0 -> badFrame(key, randomBytes(1 + r.nextInt(3000)), r.nextBoolean() ? h : noHeaders(), ts, "random bytes", null);
                case 1 -> badFrame(key, truncate(base), h, ts, "truncated " + ct, null);
                case 2 -> badFrame(key, flipBits(base), h, ts, "bit flips in " + ct, null);
                case 3 -> badFrame(key, insertBytes(base), h, ts, "inserted bytes in " + ct, null);
                case 4 -> badFrame(key, png[i], headers("content-type", pick("text/plain", "image/gif", "application/octet-stream",
                        "image/png; q=1", "png", "image/webp")), ts, "wrong content-type", "unsupported-content-type");
                case 5 -> badFrame(key, png[i], new Header[] {new RecordHeader("content-type", new byte[] {(byte) 0xC3, 0x28})}, ts,
                        "content-type not UTF-8", "unsupported-content-type");
                case 6 -> badFrame(key, png[i], headers("content-type", "image/jpeg"), ts, "PNG labelled JPEG", "corrupt-image");
                case 7 -> badFrame(key, png[i], headers("content-type", "image/png", "seq", "1", "seq", pick("abc", "1.5", "", "0x10",
                        "9223372036854775808", "-", "1e3")), ts, "seq not a number", "bad-field");
                case 8 -> shape.containsKey(k) && badFrame(key, png(32, 48), hp, ts, "other frame size", "frame-size-changed");
                case 9 -> badFrame(key, withPngSize(png[i], 100_000, 50_000), hp, ts, "PNG header claims 100000x50000", "too-large");
                case 10 -> badFrame(key, withPngSize(png[i], 0, 64), hp, ts, "PNG header claims width 0", null);
                case 11 -> badFrame(key, r.nextBoolean() ? null : new byte[0], h, ts, "no bytes", "empty-frame");
                case 12 -> lastStepped.containsKey(k) && badFrame(key, base, h, lastStepped.get(k) - 1 - r.nextInt(10_000), "older frame",
                        "out-of-order");
                case 13 -> badFrame(r.nextBoolean() ? null : new byte[0], png[i], h, ts, "no key", "null-key");
                case 14 -> badFrame(invalidUtf8Key(), png[i], h, ts, "key not UTF-8", "bad-key");
                case 15 -> badFrame(("C".repeat(InputKeyDeserializer.MAX_KEY_BYTES + 1 + r.nextInt(5000))).getBytes(StandardCharsets.UTF_8),
                        png[i], h, ts, "key over the limit", "too-large");
                default -> badFrame(key, png[i], concat(h, header("x", randomBytes(InputKeyDeserializer.MAX_HEADER_BYTES))), ts,
                        "headers over the limit", "too-large");
            };
            if (added) {
                return;
            }
        }
    }

    public void badFeaturesOne() {
        for (int attempt = 0; attempt < 20; attempt++) {
            String k = r.nextInt(3) == 0 ? "fzf-" + r.nextInt(1000) : "feat-a";
            byte[] key = utf8bytes(k);
            float[] f = new float[128];
            for (int j = 0; j < f.length; j++) {
                f[j] = (float) r.nextGaussian();
            }
            byte[] base = fs.serialize("t", new FeatureRecord(encoderRef, 7, f));
            long ts = ts(k);
            Header[] h = r.nextInt(3) == 0 ? randomHeaders() : noHeaders();
            boolean added = switch (r.nextInt(14)) {
                case 0 -> badFeatures(key, randomBytes(r.nextInt(1200)), h, ts, "random bytes", null);
                case 1 -> badFeatures(key, truncate(base), h, ts, "truncated", "bad-features");
                case 2 -> badFeatures(key, flipBits(Arrays.copyOf(base, 40)), h, ts, "bit flips in the header", null);
                case 3 -> badFeatures(key, insertBytes(base), h, ts, "inserted bytes", "bad-features");
                case 4 -> badFeatures(key, fs.serialize("t", new FeatureRecord(encoderRef, 1, new float[pickInt(0, 1, 127, 129, 4096)])), h, ts,
                        "wrong dimension", "bad-features");
                case 5 -> badFeatures(key, fs.serialize("t", new FeatureRecord(pick("other-cnn@1.0.0", "", "frame-encoder-cnn", "x@y"), 1, f)),
                        h, ts, "other encoder", "bad-features");
                case 6 -> badFeatures(key, withByte(base, 0, pickInt(0, 2, 0x7f, 0xff)), h, ts, "format version", "bad-features");
                case 7 -> badFeatures(key, withInt(base, 1, pickInt(-1, 1 << 20 | 1, Integer.MAX_VALUE, Integer.MIN_VALUE)), h, ts,
                        "dimension out of range", "bad-features");
                case 8 -> badFeatures(key, new byte[0], h, ts, "empty", "bad-features");
                case 9 -> badFeatures(key, null, h, ts, "null value", "null-value");
                case 10 -> lastStepped.containsKey(k) && badFeatures(key, base, h, lastStepped.get(k) - 1 - r.nextInt(10_000),
                        "older features", "out-of-order");
                case 11 -> badFeatures(r.nextBoolean() ? null : new byte[0], base, h, ts, "no key", "null-key");
                case 12 -> badFeatures(invalidUtf8Key(), base, h, ts, "key not UTF-8", "bad-key");
                default -> badFeatures(key, utf8bytes("{\"features\":[1,2,3]}"), h, ts, "JSON", "bad-features");
            };
            if (added) {
                return;
            }
        }
    }

    public byte[] jpegNoise(int n) {
        byte[] b = randomBytes(n);
        b[0] = (byte) 0xFF;
        b[1] = (byte) 0xD8;
        return b;
    }

    public static byte[] png(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setSample(w / 2, h / 2, 0, 200);
        return encode(img, "png");
    }

    public static byte[] encode(BufferedImage img, String format) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertTrue(ImageIO.write(img, format, out));
            return out.toByteArray();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A PNG whose header (IHDR, with a correct CRC) claims another size. */
    public static byte[] withPngSize(byte[] png, int w, int h) {
        byte[] c = png.clone();
        ByteBuffer b = ByteBuffer.wrap(c);
        b.putInt(16, w).putInt(20, h);
        CRC32 crc = new CRC32();
        crc.update(c, 12, 17);
        b.putInt(29, (int) crc.getValue());
        return c;
    }
}
