package io.engram.engine.model;

import java.awt.image.BufferedImage;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;

/**
 * Development tool, not a test: the per-frame cost of the pose model under ONNX Runtime Java, on a
 * golden frame (the figure in models/pose/MODEL_CARD.md). Prints, per intra-op thread count, the
 * median and p90 wall time of the preprocessing and of preprocessing + model run, and the calling thread's CPU
 * time (with 1 thread ONNX Runtime computes on the calling thread, so that is the model's CPU time).
 * Usage (after {@code mvn -o -q test-compile}):
 * {@code java -Xss4m -cp target/classes:target/test-classes:CLASSPATH io.engram.engine.model.PoseTiming [frames] [frame.png]}
 * with the test class path (e.g. surefire's, from a test report). -Xss: with the launcher's default 1 MB stack,
 * creating any ONNX Runtime 1.29 session on the main thread crashed the JVM on the development machine.
 */
public final class PoseTiming {
    private PoseTiming() {}

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        Path png = Path.of(args.length > 1 ? args[1] : "models/pose/golden/frames/group-480x360.png");
        BufferedImage img = ImageIO.read(png.toFile());
        byte[] rgb = new byte[img.getWidth() * img.getHeight() * 3];
        PoseInput.rgb(img, rgb);
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        ModelManifest manifest = ModelManifest.load(Path.of("models/pose/movenet-multipose.yaml"));
        System.out.printf("frame %s %dx%d, %d frames, %d cores%n", png, img.getWidth(), img.getHeight(), n,
                Runtime.getRuntime().availableProcessors());
        for (int threads : new int[] {1, 2}) {
            try (PoseEstimator model = PoseEstimator.load(manifest, threads); PoseEstimator.Runner runner = model.newRunner()) {
                PoseInput pre = new PoseInput(model.spec().inputSize());
                java.nio.IntBuffer scratch = java.nio.IntBuffer.allocate(3 * 256 * 256);
                for (int i = 0; i < 20; i++) {
                    runner.estimate(rgb, img.getWidth(), img.getHeight(), 0.2f);
                }
                long[] preNs = new long[n];
                long[] allNs = new long[n];
                long cpu0 = mx.getCurrentThreadCpuTime();
                long proc0 = os.getProcessCpuTime();
                for (int i = 0; i < n; i++) {
                    long t0 = System.nanoTime();
                    pre.toInput(rgb, img.getWidth(), img.getHeight(), scratch);
                    long t1 = System.nanoTime();
                    runner.estimate(rgb, img.getWidth(), img.getHeight(), 0.2f);
                    long t2 = System.nanoTime();
                    preNs[i] = t1 - t0;
                    allNs[i] = t2 - t1;
                }
                double cpuMs = (mx.getCurrentThreadCpuTime() - cpu0) / 1e6 / n;
                double procMs = (os.getProcessCpuTime() - proc0) / 1e6 / n;
                Arrays.sort(preNs);
                Arrays.sort(allNs);
                System.out.printf("intra-op threads %d: preprocessing median %.2f ms; preprocessing + model median %.1f ms, p90 %.1f ms;"
                        + " CPU per frame: calling thread %.1f ms, process %.1f ms (both count the preprocessing twice)%n", threads,
                        preNs[n / 2] / 1e6, allNs[n / 2] / 1e6, allNs[n * 9 / 10] / 1e6, cpuMs, procMs);
            }
        }
    }
}
