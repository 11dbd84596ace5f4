package io.engram.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.engram.engine.errors.ConfigException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The {@code pose:} section of a {@code task: pose} manifest: a MoveNet-style multi-person pose
 * model. Input {@code [1, inputSize, inputSize, 3]} int32 RGB 0..255 (NHWC): the frame padded with
 * zeros at the bottom and right to a square, resized bilinearly (half-pixel centres) to
 * {@code inputSize}. Output {@code [1, maxPeople, 3K + 5]} float32: per person K x (y, x, score),
 * then the box (ymin, xmin, ymax, xmax) and the person's score, all normalised to the padded square.
 *
 * @param inputSize the side of the square model input
 * @param maxPeople rows of the output
 * @param keypoints the K keypoint names, in output order
 */
public record PoseSpec(int inputSize, int maxPeople, List<String> keypoints) {
    public PoseSpec {
        keypoints = List.copyOf(keypoints);
    }

    /** Floats per person in the output: K x (y, x, score) + box + score. */
    public int rowSize() {
        return 3 * keypoints.size() + 5;
    }

    /** Reads and checks the manifest's {@code pose:} section against its tensor sizes. */
    public static PoseSpec of(ModelManifest m) {
        if (!"pose".equals(m.task())) {
            throw new ConfigException("Model manifest " + m.manifestPath() + " is not a pose model (task: pose)."
                    + " Fix: point the pose estimator at a pose model's manifest (models/pose/movenet-multipose.yaml).");
        }
        JsonNode root;
        try {
            String name = m.manifestPath().getFileName().toString().toLowerCase(Locale.ROOT);
            root = (name.endsWith(".json") ? new ObjectMapper() : new ObjectMapper(new YAMLFactory())).readTree(m.manifestPath().toFile());
        } catch (IOException e) {
            throw new ConfigException("Model manifest " + m.manifestPath() + " could not be read again: " + e.getMessage(), e);
        }
        JsonNode p = root.path("pose");
        JsonNode names = p.path("keypoints");
        List<String> kps = new ArrayList<>();
        names.forEach(n -> kps.add(n.asText()));
        int side = p.path("input_size").asInt(0);
        int people = p.path("max_people").asInt(0);
        if (side <= 0 || people <= 0 || kps.isEmpty()) {
            throw error(m, "a pose model needs 'pose: {input_size, max_people, keypoints: [...]}'");
        }
        PoseSpec spec = new PoseSpec(side, people, kps);
        if (m.input().size() != side * side * 3 || m.output().size() != people * spec.rowSize()) {
            throw error(m, "input.size must be input_size^2*3 (" + side * side * 3 + ") and output.size max_people*(3*keypoints+5) ("
                    + people * spec.rowSize() + ")");
        }
        return spec;
    }

    private static ConfigException error(ModelManifest m, String what) {
        return new ConfigException("Model manifest " + m.manifestPath() + ": " + what + ". Fix the manifest (see models/pose/MODEL_CARD.md).");
    }
}
