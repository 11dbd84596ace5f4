package io.engram.engine.monitoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.Collections;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** /health, /ready and /metrics on one port, bound where asked (loopback by default in every shipped file). */
class MetricsServerTest {
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
}
