package io.engram.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;

/** Reads the golden vectors that the export script wrote from PyTorch (models/<model>/golden/*.json). */
public final class Golden {
    public final JsonNode root;

    public Golden(Path file) throws IOException {
        root = new ObjectMapper().readTree(file.toFile());
    }

    public static float[] rowsFloat(JsonNode rows) {
        int n = rows.size();
        int w = rows.get(0).size();
        float[] out = new float[n * w];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < w; j++) {
                out[i * w + j] = (float) rows.get(i).get(j).asDouble();
            }
        }
        return out;
    }

    public static double[][] rowsDouble(JsonNode rows) {
        double[][] out = new double[rows.size()][];
        for (int i = 0; i < rows.size(); i++) {
            out[i] = new double[rows.get(i).size()];
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = rows.get(i).get(j).asDouble();
            }
        }
        return out;
    }
}
