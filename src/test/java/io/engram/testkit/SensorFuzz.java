package io.engram.testkit;

import static io.engram.testkit.Bytes.abbreviate;
import static io.engram.testkit.Bytes.header;
import static io.engram.testkit.Bytes.utf8;
import static io.engram.testkit.Bytes.utf8bytes;
import static io.engram.testkit.DeadLetterCheck.keyProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.engram.engine.kafka.InputKeyDeserializer;
import io.engram.engine.errors.BadInputException;
import io.engram.engine.pipeline.anomaly.VectorReading;
import io.engram.engine.pipeline.anomaly.VectorReadingSerde;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.common.header.Header;

/**
 * FuzzIT's oracle and generator for the sensor pipeline: good readings of a few streams (in every
 * documented form, with odd but valid keys), bad records between them, each with the reason the
 * pipeline's rules (docs/topics.md, in the pipeline's order) give it.
 */
public final class SensorFuzz extends Fuzzer {
    public final String topic;
    public final long t0;
    /** The oracle's view of each stream: the event time of its last stepped reading. */
    public final Map<String, Long> lastStepped = new HashMap<>();
    public final Map<String, Integer> stepped = new HashMap<>();

    public SensorFuzz(long seed, String topic, long t0) {
        super(seed, 0);
        this.topic = topic;
        this.t0 = t0;
    }

    public List<FuzzRecord> generate() {
        // Good streams: four plain ids, and valid but odd ones (non-ASCII, whitespace, a key of the maximal length).
        Map<String, Integer> todo = new LinkedHashMap<>();
        for (int i = 0; i < 4; i++) {
            todo.put("s-" + i, 50);
        }
        todo.put("датчик-✓", 5);
        todo.put("tab\there and space", 5);
        todo.put("k".repeat(InputKeyDeserializer.MAX_KEY_BYTES), 5);
        int badTarget = 230;
        List<Runnable> fixed = new ArrayList<>(List.of(
                // A good reading of 1,000,000 bytes (padded): large is not bad.
                () -> good("s-0", padded(goodJson("s-0"), 1_000_000), noHeaders(), "1 MB valid reading"),
                // A good reading with 60 KB of headers, under the limit.
                () -> good("s-1", goodJson("s-1"), new Header[] {header("big", new byte[60_000])}, "60 KB header"),
                () -> bad("fz-big-1", randomBytes(899_000), noHeaders(), ts(null), "899,000 random bytes (copied)", null),
                () -> bad("s-2", randomBytes(950_000), noHeaders(), ts("s-2"), "950,000 random bytes (dropped)", null),
                () -> bad("s-3", padded("{\"ts\":1,\"values\":[1,2]}", 1_040_000), noHeaders(), ts("s-3"),
                        "1,040,000-byte reading with two values", "wrong-value-count"),
                () -> bad(new byte[1_000_000], goodJson("s-0").getBytes(StandardCharsets.UTF_8), noHeaders(), ts(null),
                        "1,000,000-byte key", "too-large"),
                () -> bad("s-1", goodJson("s-1"), new Header[] {header("x", randomBytes(200_000))}, ts("s-1"),
                        "200 KB header", "too-large"),
                () -> bad("s-2", goodJson("s-2"), manyHeaders(InputKeyDeserializer.MAX_HEADER_BYTES / 6 + 1), ts("s-2"),
                        "thousands of small headers", "too-large")));
        int total = todo.values().stream().mapToInt(Integer::intValue).sum();
        while (!todo.isEmpty() || bads < badTarget) {
            int slot = r.nextInt(total + badTarget + fixed.size());
            if (!fixed.isEmpty() && slot < fixed.size()) {
                fixed.remove(r.nextInt(fixed.size())).run();
            } else if (!todo.isEmpty() && (bads >= badTarget || r.nextBoolean())) {
                List<String> keys = new ArrayList<>(todo.keySet());
                String k = keys.get(r.nextInt(keys.size()));
                good(k, goodJson(k), r.nextInt(3) == 0 ? randomHeaders() : noHeaders(), "reading");
                if (todo.merge(k, -1, Integer::sum) == 0) {
                    todo.remove(k);
                }
            } else {
                badOne();
            }
        }
        fixed.forEach(Runnable::run);
        return out;
    }

    /** A valid reading of stream k, one minute after its last one, in one of the documented forms. */
    String goodJson(String k) {
        long ts = nextTs(k);
        double v = 10 * (Math.abs(k.hashCode()) % 5) + Math.sin(stepped.getOrDefault(k, 0) / 7.0) + 0.1 * r.nextGaussian();
        String num = Double.toString(v);
        return switch (r.nextInt(5)) {
            case 0 -> String.format(Locale.ROOT, "{\"ts\":\"%s\",\"value\":%s}", Instant.ofEpochMilli(ts), num);
            case 1 -> String.format(Locale.ROOT, "{ \"values\" : [ %s ] , \"ts\" : %d , \"note\" : {\"a\": [1, \"x\", null]} }", num, ts);
            default -> String.format(Locale.ROOT, "{\"ts\":%d,\"values\":[%s]}", ts, num);
        };
    }

    public long nextTs(String k) {
        Long last = lastStepped.get(k);
        return last == null ? t0 : last + 60_000;
    }

    /** Record timestamp of a bad record on stream k: that of its last stepped reading. */
    public long ts(String k) {
        Long last = k == null ? null : lastStepped.get(k);
        return last == null ? t0 : last;
    }

    public void good(String k, String json, Header[] headers, String what) {
        byte[] key = k.getBytes(StandardCharsets.UTF_8);
        byte[] value = json.getBytes(StandardCharsets.UTF_8);
        long ts = nextTs(k);
        String outcome = outcome(key, value, headers, ts);
        assertNull(outcome, seed("a good record must be valid: " + what + " " + abbreviate(json)));
        out.add(new FuzzRecord(what, topic, key, value, headers, ts, null, k, topic));
    }

    public boolean bad(String k, String json, Header[] headers, long ts, String what, String reason) {
        return bad(k == null ? null : k.getBytes(StandardCharsets.UTF_8), json.getBytes(StandardCharsets.UTF_8), headers, ts, what, reason);
    }

    public boolean bad(String k, byte[] value, Header[] headers, long ts, String what, String reason) {
        return bad(k == null ? null : k.getBytes(StandardCharsets.UTF_8), value, headers, ts, what, reason);
    }

    /**
     * Adds a bad record if the oracle finds it bad; {@code reason}, when not null, is the reason it
     * was made for, which the oracle must agree with.
     */
    public boolean bad(byte[] key, byte[] value, Header[] headers, long ts, String what, String reason) {
        String outcome = outcome(key, value, headers, ts);
        if (reason != null) {
            assertEquals(reason, outcome, seed("oracle for " + what + ": " + abbreviate(value)));
        }
        if (outcome == null) {
            // A random mutation that is still a valid reading: not a bad record, and sending it
            // would step a good stream. Undo the oracle's bookkeeping and make another.
            return false;
        }
        out.add(new FuzzRecord(what, topic, key, value, headers, ts, outcome, null, topic));
        bads++;
        return true;
    }

    /** The sensor pipeline's rules in its order; null when the record is stepped (and then counted as such). */
    String outcome(byte[] key, byte[] value, Header[] headers, long recordTs) {
        String k = keyProblem(key, headers);
        if (k != null) {
            return k;
        }
        if (value == null) {
            return "null-value";
        }
        VectorReading reading;
        try {
            reading = VectorReadingSerde.parse(value);
        } catch (BadInputException e) {
            return e.reason().code();
        }
        if (reading.values().length != 1) {
            return "wrong-value-count";
        }
        long eventTime = reading.ts() != null ? reading.ts() : recordTs;
        if (eventTime - Math.min(recordTs, System.currentTimeMillis()) > io.engram.engine.step.StepProcessor.MAX_TS_AHEAD_MS) {
            return "bad-field";
        }
        String id = utf8(key);
        Long last = lastStepped.get(id);
        if (last != null && eventTime < last) {
            return "out-of-order";
        }
        return null;
    }

    /** One random bad record, of a random kind. */
    public void badOne() {
        for (int attempt = 0; attempt < 20; attempt++) {
            String k = r.nextInt(4) == 0 ? "fz-" + r.nextInt(1000) : "s-" + r.nextInt(4);
            long ts = ts(k);
            String good = template(k);
            Header[] h = r.nextInt(4) == 0 ? randomHeaders() : noHeaders();
            boolean added = switch (r.nextInt(22)) {
                case 0 -> bad(k, randomBytes(r.nextInt(200)), h, ts, "random bytes", null);
                case 1 -> bad(k, flipBits(utf8bytes(good)), h, ts, "bit flips", null);
                case 2 -> bad(k, truncate(utf8bytes(good)), h, ts, "truncated", null);
                case 3 -> bad(k, insertBytes(utf8bytes(good)), h, ts, "inserted bytes", null);
                case 4 -> bad(k, "{\"ts\":" + ts + "}", h, ts, "values deleted", "missing-field");
                case 5 -> typeChange(k, ts, h);
                case 6 -> nonFinite(k, ts, h);
                case 7 -> hugeNumber(k, ts, h);
                case 8 -> bad(k, "{\"ts\":" + ts + ",\"values\":[" + "1.5,".repeat(1 + r.nextInt(20)) + "2]}", h, ts,
                        "wrong value count", "wrong-value-count");
                case 9 -> bad(k, "{\"ts\":" + ts + ",\"values\":[1],\"deep\":" + "[".repeat(5000) + "]".repeat(5000) + "}", h, ts,
                        "deep nesting", "not-json");
                case 10 -> bad(k, invalidUtf8(good), h, ts, "invalid UTF-8 in a string", "not-json");
                case 11 -> lastStepped.containsKey(k) && bad(k, "{\"ts\":" + (ts - 1 - r.nextInt(100_000)) + ",\"values\":[1]}", h, ts,
                        "older than the stream's last reading", "out-of-order");
                case 12 -> bad(k, "{\"ts\":" + (-1 - r.nextInt(1_000_000)) + ",\"values\":[1]}", h, ts, "negative ts", "bad-field");
                case 13 -> bad(k, "{\"ts\":" + (ts + 7_200_000L + r.nextInt(1_000_000_000)) + ",\"values\":[1]}", h, ts,
                        "ts hours after the record's timestamp", "bad-field");
                case 14 -> bad(k, "{\"ts\":" + pick("\"+999999999-12-31T23:59:59Z\"", "\"1969-12-31T23:59:59Z\"", "99999999999999999999999",
                        "\"yesterday\"", "1.5e3", "true", "[1]") + ",\"values\":[1]}", h, ts, "bad ts", "bad-field");
                case 15 -> bad(k, (byte[]) null, h, ts, "null value (tombstone)", "null-value");
                case 16 -> bad((byte[]) null, utf8bytes(good), h, ts, "null key", "null-key");
                case 17 -> bad(new byte[0], utf8bytes(good), h, ts, "empty key", "null-key");
                case 18 -> bad(invalidUtf8Key(), utf8bytes(good), h, ts, "key not UTF-8", "bad-key");
                case 19 -> bad(("L" + "o".repeat(InputKeyDeserializer.MAX_KEY_BYTES + r.nextInt(10_000))).getBytes(StandardCharsets.UTF_8),
                        utf8bytes(good), h, ts, "key over the limit", "too-large");
                case 20 -> bad(k, good, new Header[] {header("h", randomBytes(InputKeyDeserializer.MAX_HEADER_BYTES + 1))}, ts,
                        "header over the limit", "too-large");
                default -> bad(k, pick("", " ", "null", "[]", "{}", "\"text\"", "42", "{\"values\":[1]} trailing", "{\"values\":[1],}",
                        "{'values':[1]}", "\u00ef\u00bb\u00bf{\"values\":[1]}"), h, ts, "malformed JSON", null);
            };
            if (added) {
                return;
            }
        }
    }

    /** A good-looking reading for stream k at its current time, to mutate. */
    String template(String k) {
        return String.format(Locale.ROOT, "{\"ts\":%d,\"values\":[%s]}", nextTs(k), Double.toString(r.nextDouble() * 100));
    }

    public boolean typeChange(String k, long ts, Header[] h) {
        String[][] cases = {
            {"\"values\":\"abc\"", "bad-field"}, {"\"values\":[\"1.5\"]", "bad-field"}, {"\"values\":{}", "bad-field"},
            {"\"values\":[]", "bad-field"}, {"\"values\":[null]", "bad-field"}, {"\"values\":[[1]]", "bad-field"},
            {"\"value\":true", "bad-field"}, {"\"value\":\"1\"", "bad-field"}, {"\"values\":[true]", "bad-field"},
            {"\"values\":null", "missing-field"}, {"\"value\":null", "missing-field"}};
        String[] c = cases[r.nextInt(cases.length)];
        return bad(k, "{\"ts\":" + ts + "," + c[0] + "}", h, ts, "type change " + c[0], c[1]);
    }

    public boolean nonFinite(String k, long ts, Header[] h) {
        String[][] cases = {{"NaN", "not-json"}, {"Infinity", "not-json"}, {"-Infinity", "not-json"}, {"\"NaN\"", "bad-field"},
            {"1e400", "non-finite-value"}, {"-1e999", "non-finite-value"}};
        String[] c = cases[r.nextInt(cases.length)];
        return bad(k, "{\"ts\":" + ts + ",\"values\":[" + c[0] + "]}", h, ts, "non-finite " + c[0], c[1]);
    }

    public boolean hugeNumber(String k, long ts, Header[] h) {
        String[][] cases = {{"1e39", "non-finite-value"}, {"-3.5e38", "non-finite-value"}, {"1e300", "non-finite-value"},
            {"-1.7976931348623157e308", "non-finite-value"}, {"1" + "0".repeat(60), "non-finite-value"},
            {"9".repeat(5000), "not-json"}};
        String[] c = cases[r.nextInt(cases.length)];
        return bad(k, "{\"ts\":" + ts + ",\"values\":[" + c[0] + "]}", h, ts, "huge number " + abbreviate(c[0]), c[1]);
    }

    @Override
    protected void onAdded(FuzzRecord s) {
        if (s.reason == null) {
            VectorReading reading = VectorReadingSerde.parse(s.value);
            long eventTime = reading.ts() != null ? reading.ts() : s.timestamp;
            lastStepped.merge(s.stream, eventTime, Math::max);
            stepped.merge(s.stream, 1, Integer::sum);
        }
    }

    /** A JSON reading padded with a string field to {@code size} bytes: still a valid reading. */
    public static String padded(String json, int size) {
        String head = json.substring(0, json.lastIndexOf('}')) + ",\"pad\":\"";
        return head + "x".repeat(size - head.length() - 2) + "\"}";
    }
}
