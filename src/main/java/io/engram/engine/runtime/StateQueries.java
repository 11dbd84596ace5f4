package io.engram.engine.runtime;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.kafka.InputKeyDeserializer;
import io.engram.engine.state.StateSummary;
import io.engram.engine.state.StreamState;
import io.engram.engine.monitoring.MetricsServer.Response;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * {@code GET /streams/{id}}: one stream's or camera's state summary, by Kafka Streams' interactive
 * queries. The instance that owns the key's partition answers: asked elsewhere, an instance
 * forwards the request there ({@code application.server} names every instance's HTTP address) and
 * relays the answer (the id percent-encoded, a {@code /} in it as {@code %2F}). Ids are the input
 * keys, up to {@link InputKeyDeserializer#MAX_KEY_BYTES} bytes. Each pipeline of the process is asked in turn; an id none of them holds is a
 * 404 with a JSON body. Holds no state of its own; the runners stay owned by their caller.
 */
public final class StateQueries {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<PipelineRunner> runners;
    private final HostInfo self;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** @param self this instance's {@code application.server}, or null for a single instance without routing (the demo) */
    public StateQueries(List<PipelineRunner> runners, HostInfo self) {
        this.runners = runners;
        this.self = self;
    }

    /** The answer for {@code id}; {@code local}: asked by another instance, so answered from this one's stores only. */
    public Response get(String id, boolean local) {
        if (id.isEmpty()) {
            return error(400, "give one stream or camera id: /streams/{id}", id);
        }
        if (id.getBytes(StandardCharsets.UTF_8).length > InputKeyDeserializer.MAX_KEY_BYTES) {
            return error(400, "an id is at most " + InputKeyDeserializer.MAX_KEY_BYTES + " bytes (UTF-8), the input keys' limit", id);
        }
        for (PipelineRunner r : runners) {
            KafkaStreams streams = r.streams();
            if (streams.state() != KafkaStreams.State.RUNNING) {
                return error(503, r.name() + " is " + streams.state() + "; ask again when /ready answers 200", id);
            }
            String store = r.spec().stateStore();
            KeyQueryMetadata md = streams.queryMetadataForKey(store, id, Serdes.String().serializer());
            HostInfo owner = md == null || md == KeyQueryMetadata.NOT_AVAILABLE ? null : md.activeHost();
            boolean here = self == null || local || owner == null || owner.equals(self);
            if (here) {
                StoreQueryParameters<ReadOnlyKeyValueStore<String, StreamState<?>>> q =
                        StoreQueryParameters.fromNameAndType(store, QueryableStoreTypes.<String, StreamState<?>>keyValueStore());
                if (owner != null && self != null) {
                    q = q.withPartition(md.partition());
                }
                StreamState<?> s;
                try {
                    s = streams.store(q).get(id);
                } catch (org.apache.kafka.streams.errors.InvalidStateStoreException e) {
                    return error(503, "the state of " + r.name() + " is moving (rebalance or restore); ask again", id);
                }
                if (s != null) {
                    return new Response(200, json(summary(r, id, s)));
                }
            } else {
                Response forwarded = forward(owner, id);
                if (forwarded.status() != 404) {
                    return forwarded;
                }
            }
        }
        return error(404, "no stream or camera with this id in " + String.join(", ", runners.stream().map(PipelineRunner::name).toList()), id);
    }

    private Map<String, Object> summary(PipelineRunner r, String id, StreamState<?> s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("pipeline", r.name());
        m.put("steps", s.steps());
        m.put("last_event_time", s.lastEventTime() == Long.MIN_VALUE ? null : Instant.ofEpochMilli(s.lastEventTime()).toString());
        m.put("model_id", s.modelId());
        m.put("model_version", s.modelVersion());
        if (s.payload() instanceof StateSummary p) {
            m.putAll(p.summary(r.manifest()));
        }
        m.put("served_by", self == null ? "local" : self.host() + ":" + self.port());
        return m;
    }

    private Response forward(HostInfo owner, String id) {
        URI uri = URI.create("http://" + owner.host() + ":" + owner.port() + "/streams/"
                + URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20") + "?local");
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return new Response(r.statusCode(), r.body());
        } catch (java.io.IOException e) {
            return error(502, "the instance that owns this id, " + owner.host() + ":" + owner.port() + ", did not answer: " + e, id);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return error(503, "interrupted", id);
        }
    }

    private static Response error(int status, String message, String id) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("error", message);
        m.put("id", id);
        return new Response(status, json(m));
    }

    private static String json(Map<String, Object> m) {
        try {
            return JSON.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
