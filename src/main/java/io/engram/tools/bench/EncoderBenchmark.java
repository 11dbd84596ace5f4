package io.engram.tools.bench;

import io.engram.engine.config.PipelineSpec;
import io.engram.engine.model.EncoderModel;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.model.OnnxStep;
import io.engram.engine.model.StepSession;
import io.engram.engine.pipeline.video.FramePreprocessor;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * The video benchmark's first two steps, without Kafka: the encoder alone on decoded, preprocessed
 * frames, and the pipeline's whole work per frame (decode, preprocess, encode, step the GRU). Each
 * measurement loads its models, measures on one thread and closes them before it returns.
 */
final class EncoderBenchmark {
    private EncoderBenchmark() {}

    /** Raw encoder frames/s on decoded, preprocessed frames (batch 1, one thread, as the pipeline runs it). */
    static double rawFps(ModelManifest em, List<byte[]> jpegs, int frameCount) throws Exception {
        try (EncoderModel enc = EncoderModel.load(em, 1); EncoderModel.Batch batch = enc.newBatch(1)) {
            FramePreprocessor pre = new FramePreprocessor(em.image(), Long.MAX_VALUE);
            List<float[]> inputs = new ArrayList<>();
            for (int i = 0; i < Math.min(200, jpegs.size()); i++) {
                float[] in = new float[em.input().size()];
                pre.toInput(pre.decode(jpegs.get(i), FramePreprocessor.JPEG), in);
                inputs.add(in);
            }
            float[] feats = new float[em.output().size()];
            for (int i = 0; i < 200; i++) {
                batch.encode(inputs.get(i % inputs.size()), feats); // warm-up
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < frameCount; i++) {
                batch.encode(inputs.get(i % inputs.size()), feats);
            }
            return frameCount / ((System.nanoTime() - t0) / 1e9);
        }
    }

    /** Frames/s of the same work as the pipeline without Kafka: decode, preprocess, encode, step the GRU. */
    static double computeFps(PipelineSpec base, ModelManifest em, List<byte[]> jpegs, int frameCount) throws Exception {
        double computeFps = 0;
        try (EncoderModel enc = EncoderModel.load(em, 1); EncoderModel.Batch batch = enc.newBatch(1);
                StepSession gru = StepSession.load(ModelManifest.load(base.modelManifest())); OnnxStep stepper = gru.newStep(1)) {
            FramePreprocessor pre = new FramePreprocessor(em.image(), Long.MAX_VALUE);
            float[] in = new float[em.input().size()];
            float[] feats = new float[em.output().size()];
            float[] state = new float[gru.manifest().stateFloats()];
            float[] probs = new float[gru.manifest().output().size()];
            BufferedImage last = null;
            for (int pass = 0; pass < 2; pass++) { // the first pass warms up the JIT
                long t0 = System.nanoTime();
                for (int i = 0; i < frameCount; i++) {
                    last = pre.decode(jpegs.get(i % jpegs.size()), FramePreprocessor.JPEG, last); // as the pipeline decodes
                    pre.toInput(last, in);
                    batch.encode(in, feats);
                    stepper.step(feats, state, probs);
                }
                computeFps = frameCount / ((System.nanoTime() - t0) / 1e9);
            }
        }
        return computeFps;
    }
}
