package io.engram.tools.cli;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Finds Engram's own files (topology/, models/) when a command runs from another directory. */
final class InstallPaths {
    private InstallPaths() {}

    /**
     * A relative path that does not exist under the working directory is looked up under the
     * Engram checkout that holds the running jar ({@code <home>/target/engram.jar}).
     */
    static Path resolve(Path p) {
        if (p.isAbsolute() || Files.exists(p)) {
            return p;
        }
        try {
            Path jar = Path.of(InstallPaths.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path home = jar.getParent() == null ? null : jar.getParent().getParent();
            if (home != null && Files.exists(home.resolve(p))) {
                return home.resolve(p);
            }
        } catch (URISyntaxException | RuntimeException ignored) {
            // fall back to the path as given: the error will name it
        }
        return p;
    }
}
