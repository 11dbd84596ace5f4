package io.engram.engine.state;

import io.engram.engine.model.ModelManifest;
import java.util.Map;

/**
 * A head payload that says what it holds, for {@code GET /streams/{id}}: e.g. the classifier's
 * current activity, the forecaster's next forecast and score. Read-only; JSON-ready values.
 */
public interface StateSummary {
    /** The payload's fields worth showing, by name; {@code model} gives label names. */
    Map<String, Object> summary(ModelManifest model);
}
