package io.engram.release;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * What {@code target/engram.jar} (built by {@code mvn package}, before the integration tests) ships:
 * at most 90 MB, native code for linux-x86_64 only, and Engram's LICENSE with the third-party
 * notice (FFmpeg's LGPL among them) kept by the shade plugin's transformers.
 */
class JarContentsIT {
    static final Path JAR = Path.of("target/engram.jar");
    static final long MAX_BYTES = 90L * 1024 * 1024;
    static final Pattern NATIVE = Pattern.compile(".*\\.(so(\\.[0-9]+)*|dll|dylib|jnilib|a)$");
    static final Pattern LINUX_X86_64 = Pattern.compile(
            "(.*/linux-x86_64/.*|.*/native/linux-x64/.*|(.*/)?linux/amd64/.*|.*/Linux/x86_64/.*|librocksdbjni-linux64\\.so)");

    @Test
    void theJarIsAtMost90Megabytes() throws IOException {
        long size = Files.size(JAR);
        System.out.printf("target/engram.jar: %.1f MB%n", size / 1024.0 / 1024.0);
        assertTrue(size <= MAX_BYTES, "target/engram.jar is " + size + " bytes, over " + MAX_BYTES);
    }

    @Test
    void everyNativeLibraryIsForLinuxX8664() throws IOException {
        List<String> natives = new ArrayList<>();
        List<String> foreign = new ArrayList<>();
        try (ZipFile z = new ZipFile(JAR.toFile())) {
            z.stream().map(ZipEntry::getName).filter(n -> NATIVE.matcher(n).matches()).forEach(n -> {
                natives.add(n);
                if (!LINUX_X86_64.matcher(n).matches() || n.contains("-gpl")) {
                    foreign.add(n);
                }
            });
        }
        assertEquals(List.of(), foreign, "natives for other platforms (or a GPL build) in the jar");
        for (String needed : List.of("libonnxruntime.so", "librocksdbjni-linux64.so", "libavcodec.so", "libzstd-jni", "libsnappyjava.so")) {
            assertTrue(natives.stream().anyMatch(n -> n.contains(needed)), needed + " is in the jar: " + natives);
        }
    }

    @Test
    void theLicenceAndTheThirdPartyNoticeAreInTheJar() throws IOException {
        try (ZipFile z = new ZipFile(JAR.toFile())) {
            assertEquals(Files.readString(Path.of("LICENSE")), read(z, "META-INF/LICENSE"), "META-INF/LICENSE is Engram's");
            String notice = read(z, "META-INF/THIRD-PARTY.md");
            assertEquals(Files.readString(Path.of("THIRD-PARTY.md")), notice);
            assertTrue(notice.contains("FFmpeg") && notice.contains("LGPL"), "the notice covers FFmpeg's LGPL");
            assertTrue(read(z, "META-INF/LGPL-3.0.txt").contains("GNU LESSER GENERAL PUBLIC LICENSE"), "the LGPL's text");
            assertTrue(read(z, "META-INF/GPL-3.0.txt").contains("GNU GENERAL PUBLIC LICENSE"), "the GPL's text, which the LGPL 3 adds to");
        }
    }

    private static String read(ZipFile z, String name) throws IOException {
        ZipEntry e = z.getEntry(name);
        assertNotNull(e, name + " in the jar");
        try (InputStream in = z.getInputStream(e)) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }
}
