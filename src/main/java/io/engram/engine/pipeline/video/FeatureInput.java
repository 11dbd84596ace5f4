package io.engram.engine.pipeline.video;

import io.engram.engine.errors.BadInputException;
import io.engram.engine.errors.BadInputException.Reason;
import io.engram.engine.model.ModelManifest;
import org.apache.kafka.common.errors.SerializationException;

/**
 * Decodes a {@code frame-features} record for a head whose model steps over frame features (the
 * activity classifier, the feature forecaster): the binary format, the feature count, the encoder
 * the model was trained on, and finite values. Every refusal is a {@link BadInputException} with
 * reason {@code bad-features}. Stateless.
 */
public final class FeatureInput {
    private static final FeatureRecordSerde SERDE = new FeatureRecordSerde();

    private FeatureInput() {}

    public static FeatureRecord decode(byte[] value, ModelManifest model) {
        FeatureRecord f;
        try {
            f = SERDE.deserialize(null, value);
        } catch (SerializationException e) {
            throw new BadInputException(Reason.BAD_FEATURES, "not a feature record: " + e.getMessage());
        }
        if (f.values().length != model.input().size()) {
            throw new BadInputException(Reason.BAD_FEATURES, "feature record has " + f.values().length + " values; model "
                    + model.id() + " takes " + model.input().size());
        }
        if (!model.encoder().isEmpty() && !f.encoder().startsWith(model.encoder() + "@")) {
            throw new BadInputException(Reason.BAD_FEATURES, "features come from encoder " + f.encoder() + " but model "
                    + model.id() + " was trained on " + model.encoder());
        }
        for (int i = 0; i < f.values().length; i++) {
            if (!Float.isFinite(f.values()[i])) {
                // A NaN stepped into a recurrent state stays there for good.
                throw new BadInputException(Reason.BAD_FEATURES, "feature " + i + " is " + f.values()[i] + ", not finite");
            }
        }
        return f;
    }
}
