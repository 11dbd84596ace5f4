package io.engram.engine.monitoring;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/**
 * Serves, on one address and port (0 = a free one): {@code GET /metrics} in the Prometheus text
 * format; {@code GET /health}, 200 while the process is up (a liveness probe); {@code GET /ready},
 * 200 once every pipeline of the process is RUNNING, else 503 (a readiness probe), each with a
 * small JSON body; and any {@link #route routes} added (e.g. {@code /streams/{id}}).
 *
 * <p>A probe can trust it ({@link Limits}): requests are served by a small pool of threads, so
 * that a slow route or a slow client does not hold up {@code /health}. A client has {@link
 * Limits#request()} to send its request and the server {@link Limits#response()} to answer it;
 * past either the connection is closed and its thread freed (a client that sends one byte and
 * stalls takes one thread for that long, never the pool). Routes run on threads of their own, at
 * most {@link Limits#routeThreads()} at once (more are a 503) and each for at most {@link
 * Limits#route()} (then a 504), so they never take the threads that the probes need. Only
 * {@code GET} is served (405 with {@code Allow: GET} otherwise).
 *
 * <p>Owns its threads; {@link #close()} stops them and is idempotent.
 */
public final class MetricsServer implements AutoCloseable {
    static {
        // The JDK's own request and response time limits (seconds), read once per process when its
        // HTTP server class loads: they also close connections that never send a byte, which hold no
        // thread but a socket. Unset they mean no limit; an operator's own -D setting wins.
        setIfAbsent("sun.net.httpserver.maxReqTime", Limits.DEFAULTS.request());
        setIfAbsent("sun.net.httpserver.maxRspTime", Limits.DEFAULTS.response());
    }

    /**
     * How the server protects its probes.
     *
     * @param threads the HTTP threads, which read requests and answer them
     * @param routeThreads routes answered at once (fewer than {@code threads}, so that probes always find a thread)
     * @param request how long a client may take to send its request line and headers
     * @param response how long the server may take to answer once the request is in (longer than {@code route})
     * @param route how long a route may take before its request is answered 504
     */
    public record Limits(int threads, int routeThreads, Duration request, Duration response, Duration route) {
        public static final Limits DEFAULTS = new Limits(8, 4, Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(20));

        public Limits {
            if (routeThreads < 1 || threads <= routeThreads) {
                throw new IllegalArgumentException("need 1 <= routeThreads < threads, got " + routeThreads + " and " + threads);
            }
            if (request.isNegative() || request.isZero() || route.isNegative() || route.isZero() || response.compareTo(route) <= 0) {
                throw new IllegalArgumentException("need positive limits and response > route, got " + request + ", " + response + ", " + route);
            }
        }
    }

    private final HttpServer server;
    private final Limits limits;
    private final Exchanges exchanges;
    private final ThreadPoolExecutor routes;
    private boolean closed;

    /** As {@link #MetricsServer(PrometheusMeterRegistry, String, int, Supplier)}, always ready (no pipeline to wait for). */
    public MetricsServer(PrometheusMeterRegistry registry, String host, int port) throws IOException {
        this(registry, host, port, () -> null);
    }

    /**
     * As {@link #MetricsServer(PrometheusMeterRegistry, String, int, Supplier, Limits)} with {@link Limits#DEFAULTS}.
     *
     * @param notReady why the process is not ready (e.g. {@code "sensor-anomaly is REBALANCING"}), or
     *     null when it is; asked on every {@code /ready}
     */
    public MetricsServer(PrometheusMeterRegistry registry, String host, int port, Supplier<String> notReady) throws IOException {
        this(registry, host, port, notReady, Limits.DEFAULTS);
    }

    public MetricsServer(PrometheusMeterRegistry registry, String host, int port, Supplier<String> notReady, Limits limits)
            throws IOException {
        this.limits = limits;
        server = HttpServer.create(new InetSocketAddress(host, port), 0);
        exchanges = new Exchanges(limits);
        routes = new ThreadPoolExecutor(0, limits.routeThreads(), 60, TimeUnit.SECONDS, new SynchronousQueue<>(),
                daemon("engram-http-route-"));
        get("/health", exchange -> json(exchange, 200, "{\"status\":\"up\"}"));
        get("/ready", exchange -> {
            String why = notReady.get();
            if (why == null) {
                json(exchange, 200, "{\"status\":\"ready\"}");
            } else {
                json(exchange, 503, "{\"status\":\"not ready\",\"reason\":" + quoted(why) + "}");
            }
        });
        get("/metrics", exchange -> send(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape()));
        server.setExecutor(exchanges);
        server.start();
    }

    /** An answer of a route: its status and JSON body. */
    public record Response(int status, String json) {}

    /**
     * Answers {@code GET prefix{segment}} with {@code handler}, given the segment percent-decoded
     * (as UTF-8; a {@code /} in it comes as {@code %2F}) and whether the query string has
     * {@code local} (a request forwarded by another instance). A bad escape, bytes that are not
     * UTF-8, or more than one segment is a 400 without asking the handler; a handler that throws is
     * a 500, one that is busy or late a 503 or 504.
     */
    public void route(String prefix, BiFunction<String, Boolean, Response> handler) {
        get(prefix, exchange -> {
            String raw = exchange.getRequestURI().getRawPath().substring(prefix.length());
            String query = exchange.getRequestURI().getRawQuery();
            boolean local = query != null && java.util.Arrays.asList(query.split("&")).contains("local");
            Response r;
            if (raw.contains("/")) {
                r = error(400, "give one id after " + prefix + "; percent-encode a / in an id as %2F", raw);
            } else {
                try {
                    r = answer(prefix, decodeSegment(raw), local, handler); // a handler's own exceptions come back as a 500
                } catch (IllegalArgumentException badPath) {
                    r = error(400, badPath.getMessage(), raw);
                }
            }
            json(exchange, r.status(), r.json());
        });
    }

    /** The route's answer, on a route thread, within {@link Limits#route()}. */
    private Response answer(String prefix, String segment, boolean local, BiFunction<String, Boolean, Response> handler)
            throws IOException {
        Future<Response> f;
        try {
            f = routes.submit(() -> handler.apply(segment, local));
        } catch (RejectedExecutionException e) {
            return error(503, limits.routeThreads() + " requests to " + prefix + " are being answered; ask again", segment);
        }
        try {
            return f.get(limits.route().toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            return error(504, "no answer within " + limits.route().toMillis() + " ms (a forward to another instance that hangs?); ask again",
                    segment);
        } catch (ExecutionException e) {
            return new Response(500, "{\"error\":" + quoted(String.valueOf(e.getCause().getMessage())) + "}");
        } catch (InterruptedException e) {
            // The response limit: the connection is closed.
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new IOException("no answer within the response limit", e);
        }
    }

    /**
     * A path segment percent-decoded as UTF-8; '+' is itself (a path, not a form).
     *
     * @throws IllegalArgumentException on a bad escape or bytes that are not UTF-8
     */
    static String decodeSegment(String raw) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                int hi = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 1), 16) : -1;
                int lo = hi >= 0 ? Character.digit(raw.charAt(i + 2), 16) : -1;
                if (lo < 0) {
                    throw new IllegalArgumentException("bad escape '" + raw.substring(i, Math.min(i + 3, raw.length()))
                            + "' in the path: % must be followed by two hex digits");
                }
                bytes.write(hi << 4 | lo);
                i += 2;
            } else {
                bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("the decoded path is not UTF-8: an id is UTF-8 text", e);
        }
    }

    /** {@code handler} on {@code GET path...}, any other method a 405; within the request and response limits. */
    private void get(String path, HttpHandler handler) {
        server.createContext(path, exchange -> {
            exchanges.requestIn();
            try {
                if (!"GET".equals(exchange.getRequestMethod())) {
                    exchange.getResponseHeaders().set("Allow", "GET");
                    json(exchange, 405, "{\"error\":" + quoted(exchange.getRequestMethod() + " is not allowed: GET only") + "}");
                } else {
                    handler.handle(exchange);
                }
            } finally {
                exchange.close();
            }
        });
    }

    private static Response error(int status, String message, String id) {
        return new Response(status, "{\"error\":" + quoted(message) + ",\"id\":" + quoted(id) + "}");
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
        if ("HEAD".equals(exchange.getRequestMethod())) {
            exchange.sendResponseHeaders(status, -1);
            return;
        }
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

    /** Requests being read or answered now (a stalled client's included). */
    int inFlight() {
        return exchanges.inFlight.get();
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            server.stop(0);
            routes.shutdownNow();
            exchanges.shutdown();
        }
    }

    private static void setIfAbsent(String property, Duration value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, Long.toString(value.toSeconds()));
        }
    }

    private static ThreadFactory daemon(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * The HTTP server's executor: a fixed pool (requests over its queue are refused: the JDK server
     * closes their connection), and a watchdog that interrupts an exchange past its limit, which
     * closes its connection (the JDK server reads and writes it on an interruptible channel) and
     * frees its thread.
     */
    private static final class Exchanges implements Executor {
        final Limits limits;
        final ThreadPoolExecutor pool;
        final ScheduledThreadPoolExecutor watchdog;
        final ThreadLocal<Deadline> current = new ThreadLocal<>();
        final AtomicInteger inFlight = new AtomicInteger();

        Exchanges(Limits limits) {
            this.limits = limits;
            pool = new ThreadPoolExecutor(limits.threads(), limits.threads(), 60, TimeUnit.SECONDS,
                    new ArrayBlockingQueue<>(64), daemon("engram-http-"));
            pool.allowCoreThreadTimeOut(true);
            watchdog = new ScheduledThreadPoolExecutor(1, daemon("engram-http-watchdog-"));
            watchdog.setRemoveOnCancelPolicy(true);
        }

        @Override
        public void execute(Runnable exchange) {
            pool.execute(() -> {
                Deadline d = new Deadline(Thread.currentThread());
                current.set(d);
                inFlight.incrementAndGet();
                d.arm(limits.request());
                try {
                    exchange.run();
                } finally {
                    inFlight.decrementAndGet();
                    current.remove();
                    d.finish();
                }
            });
        }

        /** The request line and headers are in: the response limit from now on. */
        void requestIn() {
            Deadline d = current.get();
            if (d != null) {
                d.arm(limits.response());
            }
        }

        void shutdown() {
            watchdog.shutdownNow();
            pool.shutdownNow();
        }

        /** One exchange's time limit; each arm() replaces the previous one. */
        final class Deadline {
            final Thread thread;
            ScheduledFuture<?> timer;
            int armed;
            boolean done;

            Deadline(Thread thread) {
                this.thread = thread;
            }

            synchronized void arm(Duration after) {
                if (timer != null) {
                    timer.cancel(false);
                }
                int generation = ++armed;
                try {
                    timer = watchdog.schedule(() -> expire(generation), after.toNanos(), TimeUnit.NANOSECONDS);
                } catch (RejectedExecutionException closing) {
                    timer = null;
                }
            }

            synchronized void expire(int generation) {
                if (!done && generation == armed) {
                    thread.interrupt();
                }
            }

            void finish() {
                synchronized (this) {
                    done = true;
                    if (timer != null) {
                        timer.cancel(false);
                    }
                }
                Thread.interrupted(); // an interrupt of this exchange, not of the next one on this thread
            }
        }
    }
}
