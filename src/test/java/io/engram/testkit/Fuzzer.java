package io.engram.testkit;

import static io.engram.testkit.Bytes.utf8bytes;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * The base of a pipeline's fuzz input generator: random bytes and mutations that are not specific
 * to any pipeline (bit flips, truncation, inserted bytes, invalid UTF-8, odd keys and headers), all
 * from one seeded generator, so that a run is deterministic for its seed; and the list of records
 * made so far. A subclass is the pipeline's oracle: it decides what each record must give and
 * keeps its view of each stream up to date in {@link #onAdded}.
 */
public abstract class Fuzzer {
    /** The run's seed, printed in every failure message ({@link #seed(String)}). */
    public final long seed;
    public final SplittableRandom r;
    /** The records made so far, in sending order; adding one calls {@link #onAdded}. */
    public final List<FuzzRecord> out = new ArrayList<>() {
        @Override
        public boolean add(FuzzRecord s) {
            super.add(s);
            onAdded(s);
            return true;
        }
    };
    /** Bad records made so far. */
    public int bads;

    /** @param salt mixed into the seed, so that two generators of one run draw different numbers */
    protected Fuzzer(long seed, long salt) {
        this.seed = seed;
        this.r = new SplittableRandom(seed ^ salt);
    }

    /** Updates the oracle's view once a record is part of the run. */
    protected abstract void onAdded(FuzzRecord s);

    /** {@code message} with the seed, to replay the run. */
    public String seed(String message) {
        return message + " [seed " + seed + "]";
    }

    public byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) r.nextInt(256);
        }
        return b;
    }

    /** One to eight bits flipped at random places. */
    public byte[] flipBits(byte[] b) {
        byte[] c = b.clone();
        int flips = 1 + r.nextInt(8);
        for (int i = 0; i < flips && c.length > 0; i++) {
            int at = r.nextInt(c.length);
            c[at] ^= (byte) (1 << r.nextInt(8));
        }
        return c;
    }

    /** A random prefix, shorter than the whole. */
    public byte[] truncate(byte[] b) {
        return Arrays.copyOf(b, r.nextInt(Math.max(1, b.length - 1)));
    }

    /** One to sixteen random bytes inserted at a random place. */
    public byte[] insertBytes(byte[] b) {
        int at = r.nextInt(b.length + 1);
        byte[] ins = randomBytes(1 + r.nextInt(16));
        byte[] c = new byte[b.length + ins.length];
        System.arraycopy(b, 0, c, 0, at);
        System.arraycopy(ins, 0, c, at, ins.length);
        System.arraycopy(b, at, c, at + ins.length, b.length - at);
        return c;
    }

    /** A JSON object text with an invalid UTF-8 sequence inside a string field added at its end. */
    public byte[] invalidUtf8(String json) {
        byte[] bad = pick(new byte[] {(byte) 0xC3, 0x28}, new byte[] {(byte) 0xFF}, new byte[] {(byte) 0xE2, (byte) 0x82},
                new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, new byte[] {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80});
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] j = utf8bytes(json);
        b.write(j, 0, j.length - 1);
        b.writeBytes(utf8bytes(",\"note\":\"a"));
        b.writeBytes(bad);
        b.writeBytes(utf8bytes("b\"}"));
        return b.toByteArray();
    }

    /** A key that is not valid UTF-8. */
    public byte[] invalidUtf8Key() {
        return pick(new byte[] {(byte) 0xFF, (byte) 0xFE}, new byte[] {'s', '-', (byte) 0xC0, (byte) 0x80},
                new byte[] {'s', '-', '1', (byte) 0xE2, (byte) 0x28, (byte) 0xA1}, new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80});
    }

    public Header[] noHeaders() {
        return new Header[0];
    }

    /** Headers that do not make a record bad: odd names, binary and null values, repeats. */
    public Header[] randomHeaders() {
        int n = 1 + r.nextInt(6);
        Header[] h = new Header[n];
        for (int i = 0; i < n; i++) {
            String name = pick("x-" + r.nextInt(100), "", "ünïcödé", "engram.error.reason", "content-length", "trace id", "\u0000");
            byte[] value = switch (r.nextInt(4)) {
                case 0 -> null;
                case 1 -> new byte[0];
                case 2 -> randomBytes(r.nextInt(64));
                default -> utf8bytes("v" + r.nextInt(1000));
            };
            h[i] = new RecordHeader(name, value);
        }
        return h;
    }

    /** {@code n} headers of 6 bytes each (name and value). */
    public Header[] manyHeaders(int n) {
        Header[] h = new Header[n];
        for (int i = 0; i < n; i++) {
            h[i] = Bytes.header("h" + (i % 10), utf8bytes("1234"));
        }
        return h;
    }

    @SafeVarargs
    public final <T> T pick(T... options) {
        return options[r.nextInt(options.length)];
    }

    public int pickInt(int... options) {
        return options[r.nextInt(options.length)];
    }

    /** A copy of {@code b} with trailing zero bytes up to {@code size} (e.g. an image that decoders read up to its end). */
    public static byte[] padded(byte[] b, int size) {
        return Arrays.copyOf(b, size);
    }

    /** A copy of {@code b} with byte {@code at} set to {@code v}. */
    public static byte[] withByte(byte[] b, int at, int v) {
        byte[] c = b.clone();
        c[at] = (byte) v;
        return c;
    }

    /** A copy of {@code b} with the big-endian int at {@code at} set to {@code v}. */
    public static byte[] withInt(byte[] b, int at, int v) {
        byte[] c = b.clone();
        java.nio.ByteBuffer.wrap(c).putInt(at, v);
        return c;
    }
}
