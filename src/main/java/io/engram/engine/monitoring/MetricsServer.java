package io.engram.engine.monitoring;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * Serves, on one address and port (0 = a free one): {@code GET /metrics} in the Prometheus text
 * format; {@code GET /health}, 200 while the process is up (a liveness probe); {@code GET /ready},
 * 200 once every pipeline of the process is RUNNING, else 503 (a readiness probe), each with a
 * small JSON body. Owns its HTTP server thread; {@link #close()} stops it and is idempotent.
 */
public final class MetricsServer implements AutoCloseable {
    private final HttpServer server;
    private boolean closed;

    /** As {@link #MetricsServer(PrometheusMeterRegistry, String, int, Supplier)}, always ready (no pipeline to wait for). */
    public MetricsServer(PrometheusMeterRegistry registry, String host, int port) throws IOException {
        this(registry, host, port, () -> null);
    }

    /**
     * @param notReady why the process is not ready (e.g. {@code "sensor-anomaly is REBALANCING"}), or
     *     null when it is; asked on every {@code /ready}
     */
    public MetricsServer(PrometheusMeterRegistry registry, String host, int port, Supplier<String> notReady) throws IOException {
        server = HttpServer.create(new InetSocketAddress(host, port), 0);
        server.createContext("/health", exchange -> json(exchange, 200, "{\"status\":\"up\"}"));
        server.createContext("/ready", exchange -> {
            String why = notReady.get();
            if (why == null) {
                json(exchange, 200, "{\"status\":\"ready\"}");
            } else {
                json(exchange, 503, "{\"status\":\"not ready\",\"reason\":" + quoted(why) + "}");
            }
        });
        server.createContext("/metrics", exchange -> send(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape()));
        server.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "engram-metrics-http");
            t.setDaemon(true);
            return t;
        }));
        server.start();
    }

    /** An answer of a route: its status and JSON body. */
    public record Response(int status, String json) {}

    /**
     * Answers {@code GET prefix...} with {@code handler}, given the rest of the path (URL-decoded)
     * and whether the query string has {@code local} (a request forwarded by another instance).
     */
    public void route(String prefix, java.util.function.BiFunction<String, Boolean, Response> handler) {
        server.createContext(prefix, exchange -> {
            String rest = java.net.URLDecoder.decode(exchange.getRequestURI().getRawPath().substring(prefix.length()), StandardCharsets.UTF_8);
            String query = exchange.getRequestURI().getRawQuery();
            boolean local = query != null && java.util.Arrays.asList(query.split("&")).contains("local");
            Response r;
            try {
                r = handler.apply(rest, local);
            } catch (RuntimeException e) {
                r = new Response(500, "{\"error\":" + quoted(String.valueOf(e.getMessage())) + "}");
            }
            json(exchange, r.status(), r.json());
        });
    }

    /** {@code s} as a JSON string literal, every character that needs it escaped. */
    private static String quoted(String s) {
        return "\"" + new String(com.fasterxml.jackson.core.io.JsonStringEncoder.getInstance().quoteAsString(s)) + "\"";
    }

    private static void json(HttpExchange exchange, int status, String body) throws IOException {
        send(exchange, status, "application/json", body);
    }

    private static void send(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", contentType);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream os = exchange.getResponseBody()) {
            os.write(bytes);
        }
    }

    /** The address it listens on (127.0.0.1 unless metrics.host says otherwise). */
    public java.net.InetAddress address() {
        return server.getAddress().getAddress();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            server.stop(0);
        }
    }
}
