package io.engram.engine.pipeline.activity;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import java.util.List;

/**
 * Every label's probability after a frame, written as the JSON object {@code {"label": p, ...}} in
 * the model's label order straight from the model's output array: no map per frame. The values are
 * the output's float32s widened to double, as before this class (the bytes are unchanged).
 *
 * @param labels the model's labels (shared, not copied)
 * @param values the model's output for this frame (owned by this record)
 */
@JsonSerialize(using = Probabilities.Writer.class)
public record Probabilities(List<String> labels, float[] values) {
    static final class Writer extends StdSerializer<Probabilities> {
        Writer() {
            super(Probabilities.class);
        }

        @Override
        public void serialize(Probabilities p, JsonGenerator g, SerializerProvider provider) throws IOException {
            g.writeStartObject();
            for (int i = 0; i < p.values.length; i++) {
                g.writeFieldName(p.labels.get(i));
                g.writeNumber((double) p.values[i]);
            }
            g.writeEndObject();
        }
    }
}
