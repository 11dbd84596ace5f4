package io.engram.engine.monitoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * /health, /ready and /metrics on one port, bound where asked (loopback by default in every shipped
 * file); a probe that can trust it: a stalled client or a hanging route does not hold up /health
 * (each test waits for the answer itself; the JUnit timeouts only stop a hang), GET only, bad paths a 400.
 */
class MetricsServerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    final HttpClient http = HttpClient.newHttpClient();

    HttpResponse<String> get(int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void healthIsUpAndReadyFollowsThePipelines() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.counter("engram.test").increment();
        AtomicReference<String> notReady = new AtomicReference<>("sensor-anomaly is REBALANCING");
        try (MetricsServer s = new MetricsServer(registry, "127.0.0.1", 0, notReady::get)) {
            HttpResponse<String> health = get(s.port(), "/health");
            assertEquals(200, health.statusCode());
            assertEquals("{\"status\":\"up\"}", health.body());
            HttpResponse<String> ready = get(s.port(), "/ready");
            assertEquals(503, ready.statusCode());
            assertEquals("{\"status\":\"not ready\",\"reason\":\"sensor-anomaly is REBALANCING\"}", ready.body());
            assertEquals("application/json", ready.headers().firstValue("Content-Type").orElse(""));
            notReady.set(null);
            assertEquals(200, get(s.port(), "/ready").statusCode());
            HttpResponse<String> metrics = get(s.port(), "/metrics");
            assertEquals(200, metrics.statusCode());
            assertTrue(metrics.body().contains("engram_test_total 1.0"), metrics.body());
        }
    }

    @Test
    void loopbackIsNotReachableFromAnotherInterface() throws Exception {
        try (MetricsServer s = new MetricsServer(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), "127.0.0.1", 0)) {
            assertTrue(s.address().isLoopbackAddress(), "bound to " + s.address());
            try (Socket ok = new Socket(InetAddress.getLoopbackAddress(), s.port())) {
                assertTrue(ok.isConnected());
            }
            // Any non-loopback address of this machine, if it has one, is refused.
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                for (InetAddress a : Collections.list(nic.getInetAddresses())) {
                    if (a instanceof Inet4Address && !a.isLoopbackAddress()) {
                        assertRefused(a, s.port());
                    }
                }
            }
        }
    }

    static void assertRefused(InetAddress a, int port) {
        try (Socket ignored = new Socket(a, port)) {
            throw new AssertionError("metrics bound to loopback answered on " + a);
        } catch (java.io.IOException expected) {
            // refused: not listening there
        }
    }

    static PrometheusMeterRegistry registry() {
        return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    }

    HttpResponse<String> send(int port, String method, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Waits for a condition of the server (an event, polled); the JUnit timeout of the test stops a hang. */
    static void await(BooleanSupplier condition) throws InterruptedException {
        while (!condition.getAsBoolean()) {
            Thread.sleep(5);
        }
    }

    /** A client that connects, sends one byte of a request, and stalls. */
    static Socket stalled(int port) throws Exception {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        s.getOutputStream().write('G');
        s.getOutputStream().flush();
        return s;
    }

    /** Reads until the server closes the connection: true once it did (end of stream or a reset). */
    static boolean closedByServer(Socket s) {
        try (InputStream in = s.getInputStream()) {
            while (in.read() >= 0) {
                // the server sent something: read on until it closes
            }
            return true;
        } catch (java.io.IOException reset) {
            return true;
        }
    }

    /** One raw request (a path that java.net.URI would refuse); the whole answer, or "" when the connection was dropped. */
    static String raw(int port, String method, String path) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            OutputStream out = s.getOutputStream();
            out.write((method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            try {
                return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException reset) {
                return "";
            }
        }
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES) // a safety net: the assertion is that /health answers at all
    void healthAnswersWhileClientsStallAndStalledClientsAreCutOff() throws Exception {
        MetricsServer.Limits limits = new MetricsServer.Limits(3, 1, Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(20));
        try (MetricsServer s = new MetricsServer(registry(), "127.0.0.1", 0, () -> null, limits)) {
            // One client stalls in its request: it holds one thread, and /health is answered by another.
            try (Socket one = stalled(s.port())) {
                await(() -> s.inFlight() == 1);
                HttpResponse<String> health = get(s.port(), "/health");
                assertEquals(200, health.statusCode());
                assertEquals("{\"status\":\"up\"}", health.body());
                assertTrue(closedByServer(one), "the request time limit closes a stalled client's connection");
            }
            // As many stalled clients as threads: the request time limit frees the threads, so /health is still answered.
            List<Socket> all = new ArrayList<>();
            try {
                for (int i = 0; i < limits.threads(); i++) {
                    all.add(stalled(s.port()));
                }
                await(() -> s.inFlight() == limits.threads());
                assertEquals(200, get(s.port(), "/health").statusCode());
                for (Socket each : all) {
                    assertTrue(closedByServer(each));
                }
            } finally {
                for (Socket each : all) {
                    each.close();
                }
            }
            await(() -> s.inFlight() == 0);
            assertEquals(200, get(s.port(), "/ready").statusCode());
        }
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void probesAnswerWhileRoutesHangAndRoutesOverTheLimitAreBusy() throws Exception {
        MetricsServer.Limits limits = new MetricsServer.Limits(4, 2, Duration.ofSeconds(10), Duration.ofMinutes(10), Duration.ofMinutes(5));
        CountDownLatch entered = new CountDownLatch(limits.routeThreads());
        CountDownLatch release = new CountDownLatch(1);
        try (MetricsServer s = new MetricsServer(registry(), "127.0.0.1", 0, () -> null, limits)) {
            s.route("/streams/", (id, local) -> {
                entered.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return new MetricsServer.Response(200, "{\"id\":\"" + id + "\"}");
            });
            List<CompletableFuture<HttpResponse<String>>> hanging = new ArrayList<>();
            try {
                for (int i = 0; i < limits.routeThreads(); i++) {
                    hanging.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/streams/hang-" + i)).build(),
                            HttpResponse.BodyHandlers.ofString()));
                }
                entered.await();
                // Every route thread hangs (a forward to an instance that does not answer): the probes still answer.
                assertEquals(200, get(s.port(), "/health").statusCode());
                assertEquals(200, get(s.port(), "/ready").statusCode());
                assertEquals(200, get(s.port(), "/metrics").statusCode());
                HttpResponse<String> busy = get(s.port(), "/streams/one-more");
                assertEquals(503, busy.statusCode(), busy.body());
                assertEquals("one-more", JSON.readTree(busy.body()).get("id").asText());
                assertEquals(200, get(s.port(), "/health").statusCode());
            } finally {
                release.countDown();
            }
            for (int i = 0; i < hanging.size(); i++) {
                HttpResponse<String> r = hanging.get(i).get();
                assertEquals(200, r.statusCode());
                assertEquals("{\"id\":\"hang-" + i + "\"}", r.body());
            }
        }
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void aRouteThatHangsIsAnsweredWithA504() throws Exception {
        MetricsServer.Limits limits = new MetricsServer.Limits(2, 1, Duration.ofSeconds(10), Duration.ofMinutes(10), Duration.ofMillis(200));
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch interrupted = new CountDownLatch(1);
        try (MetricsServer s = new MetricsServer(registry(), "127.0.0.1", 0, () -> null, limits)) {
            s.route("/streams/", (id, local) -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    interrupted.countDown();
                }
                return new MetricsServer.Response(200, "{}");
            });
            HttpResponse<String> late = get(s.port(), "/streams/pump-7");
            assertEquals(504, late.statusCode(), late.body());
            JsonNode body = JSON.readTree(late.body());
            assertEquals("pump-7", body.get("id").asText());
            assertTrue(body.get("error").asText().startsWith("no answer within 200 ms"), late.body());
            interrupted.await(); // the late route was stopped, so its thread is free again
            assertEquals(200, get(s.port(), "/health").statusCode());
        } finally {
            release.countDown();
        }
    }

    @Test
    void onlyGetIsServed() throws Exception {
        try (MetricsServer s = new MetricsServer(registry(), "127.0.0.1", 0)) {
            s.route("/streams/", (id, local) -> new MetricsServer.Response(200, "{}"));
            for (String path : List.of("/health", "/ready", "/metrics", "/streams/pump-7")) {
                for (String method : List.of("POST", "PUT", "DELETE", "HEAD")) {
                    HttpResponse<String> r = send(s.port(), method, path);
                    assertEquals(405, r.statusCode(), method + " " + path);
                    assertEquals("GET", r.headers().firstValue("Allow").orElse(""), method + " " + path);
                }
                assertEquals(200, send(s.port(), "GET", path).statusCode(), path);
            }
            assertEquals("{\"error\":\"POST is not allowed: GET only\"}", send(s.port(), "POST", "/health").body());
        }
    }

    @Test
    void aRouteGetsOnePercentDecodedSegmentAndABadPathIsA400() throws Exception {
        try (MetricsServer s = new MetricsServer(registry(), "127.0.0.1", 0)) {
            s.route("/streams/", (id, local) -> new MetricsServer.Response(200, json(Map.of("id", id, "local", local))));
            assertEquals(Map.of("id", "site/pump-7", "local", false), answer(s.port(), "/streams/site%2Fpump-7"));
            assertEquals(Map.of("id", "site/pump-7", "local", true), answer(s.port(), "/streams/site%2fpump-7?local"));
            assertEquals(Map.of("id", "a+b c%", "local", false), answer(s.port(), "/streams/a+b%20c%25"));
            assertEquals(Map.of("id", "caméra", "local", false), answer(s.port(), "/streams/cam%C3%A9ra"));
            // An id as long as the input keys' limit (4096 bytes), 2-byte characters all escaped: 12288 characters.
            String longest = "é".repeat(2048);
            String encoded = java.net.URLEncoder.encode(longest, StandardCharsets.UTF_8);
            assertEquals(12_288, encoded.length());
            assertEquals(Map.of("id", longest, "local", false), answer(s.port(), "/streams/" + encoded));

            // A bad escape is a 400, never a dropped connection: java.net.URI refuses it before any handler (the JDK's
            // own 400), and the route's decoder would too.
            for (String bad : List.of("%zz", "pump%2", "pump%", "%zz%2F")) {
                String answer = raw(s.port(), "GET", "/streams/" + bad);
                assertTrue(answer.startsWith("HTTP/1.1 400 "), bad + ": " + answer);
            }
            // What java.net.URI lets through but is no id: bytes that are not UTF-8, or a second segment.
            for (String bad : List.of("%ff", "caf%E9", "site/pump-7")) {
                String answer = raw(s.port(), "GET", "/streams/" + bad);
                assertTrue(answer.startsWith("HTTP/1.1 400 "), bad + ": " + answer);
                JsonNode body = JSON.readTree(answer.substring(answer.indexOf("\r\n\r\n") + 4));
                assertEquals(bad, body.get("id").asText(), answer);
                assertTrue(body.get("error").asText().contains(bad.contains("/") ? "%2F" : "UTF-8"), answer);
            }
            for (String bad : List.of("%zz", "pump%2", "pump%")) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MetricsServer.decodeSegment(bad));
                assertTrue(e.getMessage().startsWith("bad escape '" + bad.substring(bad.indexOf('%')) + "'"), e.getMessage());
            }
            assertEquals(200, get(s.port(), "/health").statusCode(), "still serving after the bad requests");
        }
    }

    @Test
    void aRouteThatThrowsIsA500() throws Exception {
        try (MetricsServer s = new MetricsServer(registry(), "127.0.0.1", 0)) {
            s.route("/streams/", (id, local) -> {
                throw new IllegalStateException("store closed");
            });
            HttpResponse<String> r = get(s.port(), "/streams/x");
            assertEquals(500, r.statusCode());
            assertEquals("{\"error\":\"store closed\"}", r.body());
        }
    }

    @Test
    void limitsKeepARouteThreadForTheProbes() {
        assertThrows(IllegalArgumentException.class, () -> new MetricsServer.Limits(2, 2, Duration.ofSeconds(1), Duration.ofSeconds(3), Duration.ofSeconds(2)));
        assertThrows(IllegalArgumentException.class, () -> new MetricsServer.Limits(3, 1, Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(2)));
    }

    Map<String, Object> answer(int port, String path) throws Exception {
        HttpResponse<String> r = get(port, path);
        assertEquals(200, r.statusCode(), path + ": " + r.body());
        return JSON.readValue(r.body(), new com.fasterxml.jackson.core.type.TypeReference<Map<String, Object>>() {});
    }

    static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
