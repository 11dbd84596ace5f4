package io.engram.testkit;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/** Small helpers for keys, values and headers as bytes, and for printing them in failure messages. */
public final class Bytes {
    private Bytes() {}

    public static String utf8(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    public static byte[] utf8bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The last header {@code name} of a record, as UTF-8 text; null when it has none or it has no value. */
    public static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null || h.value() == null ? null : utf8(h.value());
    }

    /** The last header {@code name} of {@code headers}, as UTF-8 text (null for none or a null value). */
    public static String lastHeader(Header[] headers, String name) {
        String v = null;
        for (Header h : headers) {
            if (h.key().equals(name)) {
                v = h.value() == null ? null : utf8(h.value());
            }
        }
        return v;
    }

    public static Header header(String name, String value) {
        return new RecordHeader(name, utf8bytes(value));
    }

    public static Header header(String name, byte[] value) {
        return new RecordHeader(name, value);
    }

    /** Headers from name, value, name, value, ... */
    public static Header[] headers(String... nameValues) {
        Header[] h = new Header[nameValues.length / 2];
        for (int i = 0; i < h.length; i++) {
            h[i] = header(nameValues[2 * i], nameValues[2 * i + 1]);
        }
        return h;
    }

    public static Header[] concat(Header[] a, Header b) {
        Header[] c = Arrays.copyOf(a, a.length + 1);
        c[a.length] = b;
        return c;
    }

    /** Header names (UTF-8) and values, in bytes: what the input limits count. */
    public static long headerBytes(Header[] headers) {
        long n = 0;
        for (Header h : headers) {
            n += utf8bytes(h.key()).length + (h.value() == null ? 0 : h.value().length);
        }
        return n;
    }

    /** At most about 100 characters of a value, for a failure message (bytes as ISO-8859-1). */
    public static String abbreviate(Object o) {
        String s = o instanceof byte[] b ? (b.length > 60 ? b.length + " bytes: " + new String(b, 0, 60, StandardCharsets.ISO_8859_1)
                : new String(b, StandardCharsets.ISO_8859_1)) : String.valueOf(o);
        return s.length() > 100 ? s.substring(0, 100) + "... (" + s.length() + " chars)" : s;
    }
}
