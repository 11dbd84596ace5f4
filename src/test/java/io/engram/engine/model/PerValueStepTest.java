package io.engram.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class PerValueStepTest {
    /** A one-value "model" with two state floats: y = x + h0, then h0 += x, h1 counts steps. */
    static final class Accumulator implements RecurrentStep {
        boolean closed;

        @Override
        public void step(float[] x, float[] state, float[] y) {
            assertEquals(1, x.length);
            y[0] = x[0] + state[0];
            state[0] += x[0];
            state[1] += 1;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    @Test
    void eachValueStepsTheOneValueModelOnItsOwnState() {
        Accumulator one = new Accumulator();
        PerValueStep step = new PerValueStep(one, 3, 2);
        float[] state = new float[6];
        float[] y = new float[3];
        step.step(new float[] {1, 10, 100}, state, y);
        assertArrayEquals(new float[] {1, 10, 100}, y);
        step.step(new float[] {2, 20, 200}, state, y);
        assertArrayEquals(new float[] {3, 30, 300}, y, "each value sees only its own past");
        assertArrayEquals(new float[] {3, 2, 30, 2, 300, 2}, state, "the states lie value after value");
        step.close();
        assertTrue(one.closed);
    }

    @Test
    void theWideManifestIsTheModelsTimesTheValues() {
        ModelManifest m = new ModelManifest("m", "1", Path.of("m.onnx"), "gru", "forecast", new ModelManifest.Tensor("x", 1),
                new ModelManifest.Tensor("y", 1), List.of(new ModelManifest.StatePair("h", "h_out", 64)),
                ModelManifest.Preprocessing.NONE, "gru-h64", null, List.of(), "", null, Path.of("m.yaml"));
        ModelManifest wide = PerValueStep.manifest(m, 8);
        assertEquals(8, wide.input().size());
        assertEquals(8, wide.output().size());
        assertEquals(512, wide.stateFloats());
        assertEquals("gru-h64-x8", wide.stateCompat(), "a one-value stream's state is not taken over by an 8-value one");
        assertEquals(m.id(), wide.id());
        assertThrows(IllegalArgumentException.class, () -> PerValueStep.manifest(wide, 2));
    }
}
