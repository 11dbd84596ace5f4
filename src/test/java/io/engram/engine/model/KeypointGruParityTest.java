package io.engram.engine.model;

import io.engram.testkit.Golden;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The keypoint activity model (models/pose-activity/keypoint-gru) in ONNX Runtime equals PyTorch on the
 * golden vectors that train.py wrote: its manifest (a classifier with two state pairs, h and prev), one
 * batched step from random state, and whole sequences of raw keypoints stepped one frame at a time from
 * zero state, one of them with missed points, missed hips and shoulders, low scores and whole missed frames.
 */
class KeypointGruParityTest {
    static final Path MANIFEST = Path.of("models/pose-activity/keypoint-gru.yaml");
    static final Path GOLDEN = Path.of("models/pose-activity/golden/keypoint-gru.json");

    @Test
    void manifestIsAClassifierOverRawKeypointsWithTwoStatePairs() throws Exception {
        ModelManifest m = ModelManifest.load(MANIFEST);
        JsonNode g = new Golden(GOLDEN).root;
        assertEquals("keypoint-gru", m.id());
        assertEquals(g.get("version").asText(), m.version());
        assertEquals("classify", m.task());
        assertEquals(new ModelManifest.Tensor("kp", 51), m.input());
        assertEquals("probs", m.output().name());
        List<String> labels = new ArrayList<>();
        g.get("label_names").forEach(n -> labels.add(n.asText()));
        assertEquals(labels, m.labels());
        assertEquals(List.of("stand", "walk", "run", "wave", "sit_squat", "fall_lying", "other"), m.labels());
        assertEquals(2, m.state().size());
        assertEquals("h", m.state().get(0).input());
        assertEquals("h_out", m.state().get(0).output());
        assertEquals("prev", m.state().get(1).input());
        assertEquals("prev_out", m.state().get(1).output());
        assertEquals(m.state().get(0).size() + m.state().get(1).size(), m.stateFloats());
    }

    @Test
    void oneBatchedStepEqualsPyTorchTo1e5() throws Exception {
        ModelManifest m = ModelManifest.load(MANIFEST);
        JsonNode g = new Golden(GOLDEN).root.get("single_step");
        int batch = g.get("x").size();
        float[] x = Golden.rowsFloat(g.get("x"));
        int sf = m.stateFloats();
        float[] state = new float[batch * sf];
        int off = 0;
        for (ModelManifest.StatePair p : m.state()) {
            float[] s = Golden.rowsFloat(g.get("state_in").get(p.input()));
            for (int b = 0; b < batch; b++) {
                System.arraycopy(s, b * p.size(), state, b * sf + off, p.size());
            }
            off += p.size();
        }
        float[] out = new float[batch * m.output().size()];
        try (StepSession model = StepSession.load(m); OnnxStep stepper = model.newStep(batch)) {
            stepper.stepBatch(x, state, out);
        }
        float[] expected = Golden.rowsFloat(g.get("output"));
        for (int i = 0; i < out.length; i++) {
            assertEquals(expected[i], out[i], 1e-5, "probs " + i);
        }
        off = 0;
        for (ModelManifest.StatePair p : m.state()) {
            float[] e = Golden.rowsFloat(g.get("state_out").get(p.output()));
            for (int b = 0; b < batch; b++) {
                for (int j = 0; j < p.size(); j++) {
                    assertEquals(e[b * p.size() + j], state[b * sf + off + j], 1e-5, p.output() + "[" + b + "][" + j + "]");
                }
            }
            off += p.size();
        }
    }

    /**
     * Every golden sequence stepped frame by frame, the state fed back: the probabilities equal PyTorch's
     * to 1e-4, and so do the logits up to the softmax's shift (log p_i - log p_j = logit_i - logit_j).
     */
    @Test
    void goldenSequencesSteppedFrameByFrameEqualPyTorchTo1e4() throws Exception {
        ModelManifest m = ModelManifest.load(MANIFEST);
        JsonNode seqs = new Golden(GOLDEN).root.get("sequences");
        int c = m.output().size();
        int checked = 0;
        boolean sawMissed = false;
        try (StepSession model = StepSession.load(m); OnnxStep stepper = model.newStep(1)) {
            for (JsonNode seq : seqs) {
                String name = seq.get("name").asText();
                double[][] kp = Golden.rowsDouble(seq.get("kp"));
                double[][] probs = Golden.rowsDouble(seq.get("probs"));
                double[][] logits = Golden.rowsDouble(seq.get("logits"));
                float[] state = new float[m.stateFloats()];
                float[] x = new float[m.input().size()];
                float[] out = new float[c];
                for (int t = 0; t < kp.length; t++) {
                    int seen = 0;
                    for (int i = 0; i < x.length; i++) {
                        x[i] = (float) kp[t][i];
                        if (i % 3 == 2 && x[i] >= 0.15f) seen++;
                    }
                    if (seen < 17) sawMissed = true;
                    stepper.step(x, state, out);
                    for (int k = 0; k < c; k++) {
                        assertEquals(probs[t][k], out[k], 1e-4, name + " frame " + t + " probs[" + k + "]");
                        double dl = Math.log(Math.max(out[k], 1e-30)) - Math.log(Math.max(out[0], 1e-30));
                        if (out[k] > 1e-6 && out[0] > 1e-6) {
                            assertEquals(logits[t][k] - logits[t][0], dl, 1e-3, name + " frame " + t + " logit diff " + k);
                        }
                    }
                    checked++;
                }
            }
        }
        assertEquals(true, sawMissed, "a golden sequence has missed points");
        assertEquals(true, checked >= 100, "frames checked: " + checked);
    }
}
