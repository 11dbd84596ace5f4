package io.engram.engine.model;

/**
 * A one-value model run on each value of a vector reading in turn, each value with its own
 * recurrent state (channel-independent forecasting): a stream of N values steps the one-value model
 * N times per record. The stream's state holds the N states one after the other, value by value.
 * Made by {@link #manifest} and {@link #PerValueStep}; closes the step it wraps.
 */
public final class PerValueStep implements RecurrentStep {
    private final RecurrentStep one;
    private final int values;
    private final int stateFloats;
    private final float[] x1 = new float[1];
    private final float[] y1 = new float[1];
    private final float[] h1;

    /**
     * @param one the one-value model's step
     * @param values the number of values of a reading
     * @param stateFloats the one-value model's state floats ({@link ModelManifest#stateFloats()})
     */
    public PerValueStep(RecurrentStep one, int values, int stateFloats) {
        this.one = one;
        this.values = values;
        this.stateFloats = stateFloats;
        this.h1 = new float[stateFloats];
    }

    /**
     * The manifest the pipeline sees for {@code values} values: the one-value model's, with input,
     * output and state {@code values} times as wide, and a state compatibility of its own (a stream's
     * state is only taken over by the same model at the same width).
     */
    public static ModelManifest manifest(ModelManifest one, int values) {
        if (one.input().size() != 1 || one.output().size() != 1) {
            throw new IllegalArgumentException("model " + one.id() + " takes " + one.input().size() + " values, not one");
        }
        java.util.List<ModelManifest.StatePair> state = new java.util.ArrayList<>();
        for (ModelManifest.StatePair p : one.state()) {
            state.add(new ModelManifest.StatePair(p.input(), p.output(), p.size() * values));
        }
        return new ModelManifest(one.id(), one.version(), one.onnxFile(), one.architecture(), one.task(),
                new ModelManifest.Tensor(one.input().name(), values), new ModelManifest.Tensor(one.output().name(), values),
                state, one.preprocessing(), one.stateCompat().isEmpty() ? "" : one.stateCompat() + "-x" + values, one.image(),
                one.labels(), one.encoder(), one.refine(), one.manifestPath());
    }

    @Override
    public void step(float[] x, float[] state, float[] y) {
        for (int c = 0; c < values; c++) {
            x1[0] = x[c];
            System.arraycopy(state, c * stateFloats, h1, 0, stateFloats);
            one.step(x1, h1, y1);
            System.arraycopy(h1, 0, state, c * stateFloats, stateFloats);
            y[c] = y1[0];
        }
    }

    @Override
    public void close() {
        one.close();
    }
}
