package io.engram.tools.harness;

import io.engram.tools.kafka.KafkaClients;

import io.engram.engine.kafka.DeadLetterHandler;
import io.engram.engine.kafka.PipelineTopics;
import io.engram.engine.kafka.TopicRole;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.header.Header;

/**
 * The output topics of one run of a pipeline, read with {@code read_committed}: role -> key ->
 * that key's records in offset order. Two runs over the same input compare per key, byte for byte
 * ({@link #diff}): record timestamps and values, and for dead letters their reason and message
 * (not the headers that name the run's own input topic, partition and offset). Records without a
 * key have no order between them (a producer spreads them over partitions): they are compared as
 * a sorted list.
 */
public final class RunOutputs {
    public static final String NO_KEY = "<no key>";
    private final Map<TopicRole, Map<String, List<Rec>>> byRole = new LinkedHashMap<>();

    /** One output record as compared. */
    public record Rec(long timestamp, byte[] value, String reason, String message) {
        static Rec of(boolean deadLetter, ConsumerRecord<byte[], byte[]> r) {
            return new Rec(r.timestamp(), r.value(), deadLetter ? header(r, DeadLetterHandler.H_REASON) : null,
                    deadLetter ? header(r, DeadLetterHandler.H_MESSAGE) : null);
        }

        /** Equal canonical forms = equal timestamps, compared headers and value bytes. */
        public String canonical() {
            String v;
            if (value == null) {
                v = "null";
            } else {
                String s = new String(value, StandardCharsets.UTF_8);
                v = Arrays.equals(s.getBytes(StandardCharsets.UTF_8), value) ? s : "base64:" + Base64.getEncoder().encodeToString(value);
            }
            return "ts=" + timestamp + (reason != null ? " reason=" + reason + " message=" + message : "") + " value=" + v;
        }
    }

    /**
     * Reads every record of the topics of {@code roles} up to their end offsets. Call it once the
     * topics have settled ({@link TopicReader#awaitSettled}), so that nothing more is to come.
     */
    public static RunOutputs read(String bootstrap, PipelineTopics topics, List<TopicRole> roles, Duration timeout) {
        RunOutputs o = new RunOutputs();
        try (KafkaConsumer<byte[], byte[]> c = KafkaClients.consumer(bootstrap, IsolationLevel.READ_COMMITTED)) {
            for (TopicRole role : roles) {
                Map<String, List<Rec>> byKey = new TreeMap<>();
                boolean dead = role.equals(TopicRole.DEAD_LETTER);
                for (ConsumerRecord<byte[], byte[]> r : TopicReader.readToEnd(c, topics.name(role), timeout)) {
                    String key = r.key() == null ? NO_KEY : new String(r.key(), StandardCharsets.UTF_8);
                    byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(Rec.of(dead, r));
                }
                if (byKey.containsKey(NO_KEY)) {
                    byKey.get(NO_KEY).sort(Comparator.comparing(Rec::canonical));
                }
                o.byRole.put(role, byKey);
            }
        }
        return o;
    }

    /** Outputs given directly: role -> key -> records (tests of what compares them). */
    public static RunOutputs of(Map<TopicRole, Map<String, List<Rec>>> byRole) {
        RunOutputs o = new RunOutputs();
        byRole.forEach((role, keys) -> o.byRole.put(role, new TreeMap<>(keys)));
        return o;
    }

    /** The records of {@code role}, by key. */
    public Map<String, List<Rec>> role(TopicRole role) {
        Map<String, List<Rec>> m = byRole.get(role);
        if (m == null) {
            throw new IllegalArgumentException("no output role " + role + " (roles " + byRole.keySet() + ")");
        }
        return m;
    }

    public List<TopicRole> roles() {
        return List.copyOf(byRole.keySet());
    }

    public int total(TopicRole role) {
        return role(role).values().stream().mapToInt(List::size).sum();
    }

    /** E.g. {@code 2640 predictions, 2 anomalies, 8 dead_letter, 2 state_events}. */
    public String summary() {
        StringBuilder b = new StringBuilder();
        for (TopicRole role : byRole.keySet()) {
            b.append(b.length() > 0 ? ", " : "").append(total(role)).append(' ').append(role);
        }
        return b.toString();
    }

    /** Every difference between this (the reference) and {@code got}: totals, then the first differing record of each key. */
    public List<String> diff(RunOutputs got) {
        List<String> out = new ArrayList<>();
        for (TopicRole role : byRole.keySet()) {
            if (total(role) != got.total(role)) {
                out.add(role + ": " + got.total(role) + " records, expected " + total(role));
            }
            Map<String, List<Rec>> want = role(role);
            Map<String, List<Rec>> have = got.role(role);
            TreeSet<String> keys = new TreeSet<>(want.keySet());
            keys.addAll(have.keySet());
            for (String key : keys) {
                List<Rec> w = want.getOrDefault(key, List.of());
                List<Rec> h = have.getOrDefault(key, List.of());
                for (int i = 0; i < Math.max(w.size(), h.size()); i++) {
                    String a = i < w.size() ? w.get(i).canonical() : "(none)";
                    String b = i < h.size() ? h.get(i).canonical() : "(none)";
                    if (!a.equals(b)) {
                        out.add(String.format(Locale.ROOT, "%s, key %s: %d records, expected %d; first difference at record %d:%n"
                                + "      expected %s%n      got      %s", role, key, h.size(), w.size(), i, abbreviate(a), abbreviate(b)));
                        break;
                    }
                }
            }
        }
        return out;
    }

    private static String abbreviate(String s) {
        return s.length() > 400 ? s.substring(0, 400) + "... (" + s.length() + " chars)" : s;
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
