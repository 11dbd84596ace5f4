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
 * zero state, one of them with missed points, missed hips and shoulders, low scores and whole missed frames;
 * and its fixed-lag refiner (keypoint-refiner) fed live, from the classifier's own ONNX Runtime states.
 */
class KeypointGruParityTest {
    static final Path MANIFEST = Path.of("models/pose-activity/keypoint-gru.yaml");
    static final Path GOLDEN = Path.of("models/pose-activity/golden/keypoint-gru.json");
    static final Path REFINER = Path.of("models/pose-activity/keypoint-refiner.yaml");
    static final Path REFINED = Path.of("models/pose-activity/golden/keypoint-refined.json");

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

    /**
     * The refiner, as the live pipeline runs it: keypoint-gru stepped frame by frame (its state pair h
     * after each frame, checked against PyTorch's), and for each frame j the window j .. j+L newest first,
     * frame j-1 (zeros for j = 0) and h after frame j; PyTorch's refined probabilities at L = 2 and 8 to 1e-4.
     */
    @Test
    void refinerFedFromTheClassifiersOwnStatesEqualsPyTorchTo1e4() throws Exception {
        ModelManifest m = ModelManifest.load(MANIFEST);
        ModelManifest rm = ModelManifest.load(REFINER);
        JsonNode g = new Golden(REFINED).root;
        assertEquals("refine", rm.task());
        assertEquals(m.id(), rm.refine().forwardModel());
        assertEquals(m.version(), rm.refine().forwardVersion());
        assertEquals("h", rm.refine().forwardPair());
        assertEquals(m.labels(), rm.labels());
        assertEquals(m.input().size(), rm.input().size());
        double[][] kp = Golden.rowsDouble(g.get("kp"));
        double[][] hGolden = Golden.rowsDouble(g.get("h_fwd"));
        int f = m.input().size();
        int hs = m.state().get(0).size();
        int sf = m.stateFloats();
        float[][] frames = new float[kp.length][f];
        float[] hAfter = new float[kp.length * hs];
        try (StepSession model = StepSession.load(m); OnnxStep stepper = model.newStep(1)) {
            float[] state = new float[sf];
            float[] out = new float[m.output().size()];
            for (int t = 0; t < kp.length; t++) {
                for (int i = 0; i < f; i++) frames[t][i] = (float) kp[t][i];
                stepper.step(frames[t], state, out);
                System.arraycopy(state, 0, hAfter, t * hs, hs);          // pair h comes first in the manifest
                for (int i = 0; i < hs; i++) {
                    assertEquals(hGolden[t][i], hAfter[t * hs + i], 1e-4, "h after frame " + t);
                }
            }
        }
        int checked = 0;
        try (RefinerModel refiner = RefinerModel.load(rm)) {
            assertEquals(hs, refiner.forwardSize());
            for (String lagName : new String[] {"2", "8"}) {
                int lag = Integer.parseInt(lagName);
                double[][] expected = Golden.rowsDouble(g.get("refined").get(lagName));
                assertEquals(kp.length - lag, expected.length);
                float[] probs = new float[rm.output().size()];
                float[] window = new float[(lag + 1) * f];
                float[] before = new float[f];
                try (RefinerModel.Window w = refiner.newWindow(lag + 1)) {
                    for (int j = 0; j + lag < kp.length; j++) {
                        for (int k = 0; k <= lag; k++) System.arraycopy(frames[j + lag - k], 0, window, k * f, f);
                        if (j > 0) System.arraycopy(frames[j - 1], 0, before, 0, f);
                        w.run(window, before, hAfter, j * hs, probs);
                        for (int c = 0; c < probs.length; c++) {
                            assertEquals(expected[j][c], probs[c], 1e-4, "L=" + lag + " frame " + j + " probs[" + c + "]");
                        }
                        checked++;
                    }
                }
            }
        }
        assertEquals(true, checked > 100, "refined frames checked: " + checked);
    }
}
