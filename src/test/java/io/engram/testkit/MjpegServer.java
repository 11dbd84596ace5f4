package io.engram.testkit;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.imageio.ImageIO;

/**
 * A tiny MJPEG-over-HTTP camera for tests, on 127.0.0.1 (an ephemeral port): every GET is answered
 * {@code multipart/x-mixed-replace; boundary=...} with one JPEG part ({@code Content-Type: image/jpeg},
 * {@code Content-Length}) every {@code 1/fps} s until the connection is cut, like an IP camera's
 * {@code /video.mjpg}.
 *
 * <p>Frame {@code n} (numbered across all connections and restarts, from 0) is a dark frame with a
 * white square moving right, the number written in text, and the number coded in its top 8 pixel
 * rows and again in its bottom 8 rows, as 16 black/white 8x8 cells (most significant bit first,
 * from x = 16): {@link #frameNumber} reads it back, also after JPEG re-encoding, so a test can tell
 * which served frame it holds, and {@link #torn} tells a frame whose bottom is not the same frame's
 * (a JPEG cut short decodes top to bottom, the rest left from an earlier frame).
 *
 * <p>{@link #stop()} closes the listening socket and cuts every connection (clients see the stream
 * end, then "connection refused"), {@link #stopMidFrame()} does so half-way through a JPEG part;
 * {@link #restart()} listens on the same port again. {@link #stall}
 * keeps connections open but sends nothing (a camera that hangs, or a dead network path).
 * {@link #close()} stops for good; it is idempotent, as is {@link #stop()}.
 */
public final class MjpegServer implements AutoCloseable {
    public static final String BOUNDARY = "engramframe";
    public static final String PATH = "/video.mjpg";
    private static final int BITS = 16;
    private static final int CELL = 8;
    private static final int FIRST_CELL_X = 16;

    private final int width;
    private final int height;
    private final long periodNanos;
    private final AtomicLong nextFrame = new AtomicLong();
    private final AtomicInteger connections = new AtomicInteger();
    private final Set<Socket> open = new HashSet<>();
    private final int port;
    private ServerSocket listener;
    private volatile boolean stalled;
    private volatile boolean cutMidFrame;
    private boolean closed;

    private MjpegServer(int width, int height, double fps) throws IOException {
        if (width < FIRST_CELL_X + BITS * CELL || height < 64) {
            throw new IllegalArgumentException("frames must be at least " + (FIRST_CELL_X + BITS * CELL) + "x64");
        }
        this.width = width;
        this.height = height;
        this.periodNanos = Math.round(1e9 / fps);
        listener = listen(0);
        port = listener.getLocalPort();
        acceptIn(listener);
    }

    /** Starts serving {@code width x height} frames at {@code fps}. */
    public static MjpegServer start(int width, int height, double fps) throws IOException {
        return new MjpegServer(width, height, fps);
    }

    public int port() {
        return port;
    }

    /** {@code http://127.0.0.1:PORT/video.mjpg}. */
    public String url() {
        return "http://127.0.0.1:" + port + PATH;
    }

    /** Frames written so far, over all connections; the next frame's number. */
    public long framesServed() {
        return nextFrame.get();
    }

    /** Connections accepted so far. */
    public int connections() {
        return connections.get();
    }

    /** Stops listening and cuts every connection. Does nothing when stopped already. */
    public synchronized void stop() {
        if (listener != null) {
            closeQuietly(listener);
            listener = null;
        }
        for (Socket s : open) {
            closeQuietly(s);
        }
        open.clear();
    }

    /** Listens on the same port again (after {@link #stop()}); does nothing when running. */
    public synchronized void restart() throws IOException {
        if (closed) {
            throw new IllegalStateException("the server is closed");
        }
        if (listener != null) {
            return;
        }
        // The cut connections linger in TIME_WAIT; SO_REUSEADDR (set in listen) lets the port be bound anyway.
        BindException last = null;
        for (int i = 0; i < 50; i++) {
            try {
                listener = listen(port);
                acceptIn(listener);
                return;
            } catch (BindException e) {
                last = e;
                sleep(100);
            }
        }
        throw new IOException("cannot listen on port " + port + " again", last);
    }

    /**
     * Stops the server in the middle of the next frame: its part headers and half its JPEG are sent,
     * then every connection is cut and the port closed, as by {@link #stop()}. Returns once stopped
     * (or after 5 s; then stops anyway).
     */
    public void stopMidFrame() throws InterruptedException {
        cutMidFrame = true;
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (cutMidFrame && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        cutMidFrame = false;
        stop();
    }

    /** While true, connections stay open but get nothing (not even the response headers). */
    public void stall(boolean on) {
        stalled = on;
    }

    @Override
    public synchronized void close() {
        closed = true;
        stop();
    }

    private static ServerSocket listen(int port) throws IOException {
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
        return s;
    }

    private void acceptIn(ServerSocket ss) {
        Thread t = new Thread(() -> {
            while (true) {
                Socket s;
                try {
                    s = ss.accept();
                } catch (IOException e) {
                    return; // stopped
                }
                synchronized (this) {
                    if (listener != ss) {
                        closeQuietly(s);
                        return;
                    }
                    open.add(s);
                }
                connections.incrementAndGet();
                Thread w = new Thread(() -> serve(s), "mjpeg-server-" + port + "-conn");
                w.setDaemon(true);
                w.start();
            }
        }, "mjpeg-server-" + port + "-accept");
        t.setDaemon(true);
        t.start();
    }

    private void serve(Socket s) {
        try (s) {
            s.setTcpNoDelay(true);
            readRequest(s.getInputStream());
            OutputStream out = s.getOutputStream();
            waitWhileStalled(s);
            out.write(("HTTP/1.0 200 OK\r\n"
                    + "Content-Type: multipart/x-mixed-replace; boundary=" + BOUNDARY + "\r\n"
                    + "Cache-Control: no-cache, no-store\r\n"
                    + "Pragma: no-cache\r\n"
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            long due = System.nanoTime();
            while (!s.isClosed()) {
                waitWhileStalled(s);
                long n = nextFrame.getAndIncrement();
                byte[] jpeg = jpeg(frame(width, height, n));
                out.write(("--" + BOUNDARY + "\r\n"
                        + "Content-Type: image/jpeg\r\n"
                        + "Content-Length: " + jpeg.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                if (cutMidFrame) {
                    out.write(jpeg, 0, jpeg.length / 2);
                    out.flush();
                    stop();
                    cutMidFrame = false;
                    return;
                }
                out.write(jpeg);
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                due += periodNanos;
                long left = due - System.nanoTime();
                if (left > 0) {
                    sleep(left / 1_000_000, (int) (left % 1_000_000));
                } else {
                    due = System.nanoTime(); // fell behind (e.g. after a stall): do not burst
                }
            }
        } catch (IOException e) {
            // cut by stop(), or the client went away
        } finally {
            synchronized (this) {
                open.remove(s);
            }
        }
    }

    private void waitWhileStalled(Socket s) {
        while (stalled && !s.isClosed()) {
            sleep(10);
        }
    }

    /** Reads up to the blank line that ends the request headers (the request itself is not checked). */
    private static void readRequest(InputStream in) throws IOException {
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        for (int total = 0; total < 64 * 1024; total++) {
            int b = in.read();
            if (b < 0) {
                throw new SocketException("the client closed before sending a request");
            }
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
            if (matched == end.length) {
                return;
            }
        }
        throw new IOException("request headers too long");
    }

    /** Frame {@code n}: see the class comment. */
    public static BufferedImage frame(int width, int height, long n) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        Graphics2D g = img.createGraphics();
        try {
            g.setColor(new Color(30, 30, 30));
            g.fillRect(0, 0, width, height);
            for (int y : new int[] {0, codeY(height)}) {
                g.setColor(Color.BLACK);
                g.fillRect(0, y, width, CELL);
                g.setColor(Color.WHITE);
                for (int bit = 0; bit < BITS; bit++) {
                    if (((n >> (BITS - 1 - bit)) & 1) != 0) {
                        g.fillRect(FIRST_CELL_X + bit * CELL, y, CELL, CELL);
                    }
                }
            }
            int size = 16;
            int travel = width - size;
            g.fillRect((int) ((n * 4) % travel), height / 2, size, size);
            g.setColor(Color.LIGHT_GRAY);
            g.setFont(new Font(Font.MONOSPACED, Font.PLAIN, 12));
            g.drawString("frame " + n, 4, 26);
        } finally {
            g.dispose();
        }
        return img;
    }

    /** The frame number coded in {@code img}'s top rows (see {@link #frame}). */
    public static long frameNumber(BufferedImage img) {
        return code(img, 0);
    }

    /** Whether {@code img}'s bottom rows code another frame number than its top rows: a frame cut short. */
    public static boolean torn(BufferedImage img) {
        return code(img, codeY(img.getHeight())) != code(img, 0);
    }

    /** The top of the bottom code row: on the 8x8 JPEG block grid, the last full row of blocks. */
    private static int codeY(int height) {
        return (height / CELL - 1) * CELL;
    }

    private static long code(BufferedImage img, int y0) {
        long n = 0;
        for (int bit = 0; bit < BITS; bit++) {
            long sum = 0;
            int x0 = FIRST_CELL_X + bit * CELL;
            for (int y = y0 + 2; y < y0 + CELL - 2; y++) {
                for (int x = x0 + 2; x < x0 + CELL - 2; x++) {
                    int rgb = img.getRGB(x, y);
                    sum += ((rgb >> 16) & 0xFF) + ((rgb >> 8) & 0xFF) + (rgb & 0xFF);
                }
            }
            n = (n << 1) | (sum / (3L * (CELL - 4) * (CELL - 4)) > 128 ? 1 : 0);
        }
        return n;
    }

    public static byte[] jpeg(BufferedImage img) {
        ByteArrayOutputStream b = new ByteArrayOutputStream(16 * 1024);
        try {
            if (!ImageIO.write(img, "jpg", b)) {
                throw new IllegalStateException("no JPEG writer");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.toByteArray();
    }

    private static void sleep(long ms) {
        sleep(ms, 0);
    }

    private static void sleep(long ms, int nanos) {
        try {
            Thread.sleep(ms, nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // already closed
        }
    }
}
