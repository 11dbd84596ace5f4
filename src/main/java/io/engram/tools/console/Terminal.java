package io.engram.tools.console;

/**
 * Whether a person is watching the command's output. Progress bars and status lines redraw in
 * place with {@code \r} only then; elsewhere (a container's log, a pipe, CI) they print one plain
 * line every {@link #PLAIN_INTERVAL_NANOS}, since each redraw would be a line of its own there.
 */
public final class Terminal {
    /** Between two plain progress lines when no terminal watches. */
    public static final long PLAIN_INTERVAL_NANOS = 5_000_000_000L;

    private Terminal() {}

    /**
     * True on a console whose {@code TERM} is not {@code dumb}. {@code ENGRAM_PROGRESS=plain} or
     * {@code =bar} forces either.
     */
    public static boolean interactive() {
        String forced = System.getenv("ENGRAM_PROGRESS");
        if ("plain".equalsIgnoreCase(forced)) {
            return false;
        }
        if ("bar".equalsIgnoreCase(forced)) {
            return true;
        }
        return System.console() != null && !"dumb".equals(System.getenv("TERM"));
    }
}
