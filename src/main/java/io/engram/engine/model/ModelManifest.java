package io.engram.engine.model;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.engram.engine.errors.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Describes an ONNX step model: its tensors, its recurrent state pairs and its preprocessing. See
 * {@code docs/model-contract.md}. Immutable; {@link #load(Path)} validates it and resolves the ONNX
 * file next to the manifest.
 *
 * @param id stable model id, stored with every stream's state
 * @param version model version, reported on every output record
 * @param onnxFile absolute path of the ONNX file
 * @param architecture gru, lstm or other; informational
 * @param task what the output means; only {@code forecast} is scored by the anomaly pipeline; {@code pose}: a
 *     per-frame pose estimator, whose {@code pose:} section {@link PoseSpec} reads
 * @param input the step input tensor
 * @param output the step output tensor
 * @param state the state pairs, in manifest order
 * @param preprocessing how raw readings become model inputs
 * @param stateCompat models with the same non-empty value may take over each other's state
 * @param image for {@code task: encode}: the frame geometry and normalisation; else null
 * @param labels for {@code task: classify}: the class names, one per output; else empty
 * @param encoder for a classifier over frame features: the encoder id it was trained on; else ""
 * @param manifestPath where this manifest was read from
 */
public record ModelManifest(
        String id,
        String version,
        Path onnxFile,
        String architecture,
        String task,
        Tensor input,
        Tensor output,
        List<StatePair> state,
        Preprocessing preprocessing,
        String stateCompat,
        Image image,
        List<String> labels,
        String encoder,
        Refine refine,
        Path manifestPath) {

    /**
     * A fixed-lag refiner's extra inputs ({@code task: refine}): the frame before the window, and the
     * forward model's state after the window's oldest frame ({@code forwardState}, the refiner's
     * input, fed from the forward model's state pair named {@code forwardPair}); the forward model it
     * was trained on; the largest lag it was trained for.
     */
    public record Refine(String before, String forwardState, String forwardPair, String forwardModel, String forwardVersion, int maxLag) {}

    /** Geometry and normalisation of an encoder's input frame: {@code x = (v/255 - mean) / std}. */
    public record Image(int channels, int height, int width, double mean, double std) {}

    /** A 2-D float tensor {@code [batch, size]}. */
    public record Tensor(String name, int size) {}

    /** State input {@code input} of the next step is the state output {@code output} of this one. */
    public record StatePair(String input, String output, int size) {}

    /** Parameters of the {@code ewm-standardize} preprocessing; {@code type} "none" passes values through. */
    public record Preprocessing(String type, double alpha, double clip, double minScale, double relMinScale) {
        public static final Preprocessing NONE = new Preprocessing("none", 0, 0, 0, 0);

        public boolean standardize() {
            return "ewm-standardize".equals(type);
        }
    }

    public ModelManifest {
        state = List.copyOf(state);
        labels = List.copyOf(labels);
    }

    /**
     * The same model with other state, under another id: for a step that keeps a different state
     * from the model's (the benchmark's windowed baseline keeps the last inputs).
     */
    public ModelManifest withState(String newId, List<StatePair> newState) {
        return new ModelManifest(newId, version, onnxFile, architecture, task, input, output, List.copyOf(newState), preprocessing, "",
                image, labels, encoder, refine, manifestPath);
    }

    /** Total floats of recurrent state, over all pairs. */
    public int stateFloats() {
        int n = 0;
        for (StatePair p : state) {
            n += p.size();
        }
        return n;
    }

    /**
     * Reads and validates a YAML or JSON manifest. Every failure names the file and what to fix.
     * The checks run in the manifest's order (identity, file, tensors, state, preprocessing, then
     * what the task needs), so that the first error reported is the same whatever the task.
     */
    public static ModelManifest load(Path manifestPath) {
        Path path = manifestPath.toAbsolutePath().normalize();
        JsonNode root = readTree(path);
        Reader r = new Reader(path, root);
        String id = r.text(root, "id");
        String version = r.text(root, "version");
        Path onnx = onnxFile(r, root);
        Tensor input = r.tensor(root, "input");
        Tensor output = r.tensor(root, "output");
        String task = root.path("task").asText("forecast");
        List<StatePair> pairs = statePairs(r, root, task);
        Preprocessing pre = preprocessing(r, root);
        if ("forecast".equals(task) && pre.standardize() && input.size() != output.size()) {
            throw r.error("a forecast model with ewm-standardize needs input.size == output.size (one forecast per channel)");
        }
        Image image = "encode".equals(task) ? image(r, root, input) : null;
        List<String> labels = labels(r, root, task, output);
        Refine refine = "refine".equals(task) ? refine(r, root) : null;
        return new ModelManifest(id, version, onnx, root.path("architecture").asText("other"), task,
                input, output, pairs, pre, root.path("state_compat").asText(""), image, labels,
                root.path("encoder").asText(""), refine, path);
    }

    /** The manifest file's tree: a mapping, from a file that exists and parses (JSON by its extension, else YAML). */
    private static JsonNode readTree(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new ConfigException("Model manifest not found: " + path
                    + ". Fix: point the pipeline's model.manifest (encoder.manifest for a frame encoder) at an existing"
                    + " .yaml/.json manifest (see docs/model-contract.md).");
        }
        JsonNode root;
        try {
            String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
            ObjectMapper mapper = name.endsWith(".json") ? new ObjectMapper() : new ObjectMapper(new YAMLFactory());
            mapper.enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
            // A key given twice is refused: YAML would keep the last value without a word.
            mapper.enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            root = mapper.readTree(path.toFile());
        } catch (IOException e) {
            String dup = ConfigException.duplicateKey(e);
            if (dup != null) {
                throw new ConfigException("Model manifest " + path + ": the key " + ConfigException.givenTwice(dup, e)
                        + "; the parser would silently take the last value. Fix: keep one '" + dup + "' (see docs/model-contract.md).", e);
            }
            throw new ConfigException("Model manifest " + path + " is not valid YAML/JSON: " + ConfigException.syntaxError(e)
                    + ". Fix the syntax (see docs/model-contract.md).", e);
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException("Model manifest " + path + " is empty or not a mapping. Fix: see docs/model-contract.md.");
        }
        return root;
    }

    /** {@code file:}, resolved next to the manifest; it must exist. */
    private static Path onnxFile(Reader r, JsonNode root) {
        String file = r.text(root, "file");
        Path onnx = r.path().getParent().resolve(file).normalize();
        if (!Files.isRegularFile(onnx)) {
            throw new ConfigException("Model file " + onnx + " named by manifest " + r.path() + " does not exist."
                    + " Fix: correct 'file:' in the manifest, or train/export the model (see the model card next to it).");
        }
        return onnx;
    }

    /** {@code state:}: at least one pair, except for the stateless tasks (encode, refine, pose). */
    private static List<StatePair> statePairs(Reader r, JsonNode root, String task) {
        List<StatePair> pairs = new ArrayList<>();
        JsonNode st = root.get("state");
        boolean stateless = "encode".equals(task) || "refine".equals(task) || "pose".equals(task);
        if (st == null || !st.isArray() || (st.isEmpty() && !stateless)) {
            throw r.error("'state' must list at least one {input, output, size} pair (an encoder has state: [])");
        }
        for (JsonNode p : st) {
            String at = "state[" + pairs.size() + "].";
            pairs.add(new StatePair(r.text(p, "input", at), r.text(p, "output", at), r.positiveInt(p, "size", at)));
        }
        return pairs;
    }

    /** {@code preprocessing:}: {@code none} when absent. */
    private static Preprocessing preprocessing(Reader r, JsonNode root) {
        JsonNode pp = root.get("preprocessing");
        if (pp == null || pp.isNull()) {
            return Preprocessing.NONE;
        }
        String type = r.text(pp, "type");
        if ("ewm-standardize".equals(type)) {
            Preprocessing pre = new Preprocessing(type, r.number(pp, "alpha"), r.number(pp, "clip"),
                    r.number(pp, "min_scale"), r.number(pp, "rel_min_scale"));
            if (!(pre.alpha() > 0 && pre.alpha() <= 1) || !(pre.clip() > 0) || pre.minScale() <= 0 || pre.relMinScale() < 0) {
                throw r.error("preprocessing needs 0 < alpha <= 1, clip > 0, min_scale > 0, rel_min_scale >= 0");
            }
            return pre;
        }
        if (!"none".equals(type)) {
            throw r.error("preprocessing.type '" + type + "' is unknown; use ewm-standardize or none");
        }
        return Preprocessing.NONE;
    }

    /** An encoder's {@code image:}, whose geometry must be its input's size. */
    private static Image image(Reader r, JsonNode root, Tensor input) {
        JsonNode im = root.get("image");
        if (im == null || !im.isObject()) {
            throw r.error("an encoder needs 'image: {channels, height, width, mean, std}'");
        }
        Image image = new Image(r.positiveInt(im, "channels"), r.positiveInt(im, "height"), r.positiveInt(im, "width"),
                r.number(im, "mean"), r.number(im, "std"));
        if (image.channels() * image.height() * image.width() != input.size() || !(image.std() > 0)) {
            throw r.error("input.size must equal channels*height*width and image.std must be > 0");
        }
        return image;
    }

    /** {@code labels:}; a classifier or refiner needs one per output. */
    private static List<String> labels(Reader r, JsonNode root, String task, Tensor output) {
        List<String> labels = new ArrayList<>();
        JsonNode lb = root.get("labels");
        if (lb != null && lb.isArray()) {
            lb.forEach(n -> labels.add(n.asText()));
        }
        if (("classify".equals(task) || "refine".equals(task)) && labels.size() != output.size()) {
            throw r.error("a classifier needs one label per output (" + output.size() + "), has " + labels.size());
        }
        return labels;
    }

    /** A refiner's {@code refine:} section. */
    private static Refine refine(Reader r, JsonNode root) {
        JsonNode rf = root.get("refine");
        if (rf == null || !rf.isObject()) {
            throw r.error("a refiner needs 'refine: {before, forward_state, forward_pair, forward_model, forward_version, max_lag}'");
        }
        return new Refine(r.text(rf, "before", "refine."), r.text(rf, "forward_state", "refine."), r.text(rf, "forward_pair", "refine."),
                r.text(rf, "forward_model", "refine."), r.text(rf, "forward_version", "refine."), r.positiveInt(rf, "max_lag", "refine."));
    }

    /** Small helper so every validation error names the manifest file. */
    private record Reader(Path path, JsonNode root) {
        ConfigException error(String what) {
            return new ConfigException("Model manifest " + path + ": " + what + ". Fix the manifest (see docs/model-contract.md).");
        }

        String text(JsonNode node, String field) {
            return text(node, field, "");
        }

        /** @param at where {@code node} is, for the message: "" at the top, else e.g. {@code "input."} */
        String text(JsonNode node, String field, String at) {
            JsonNode v = node.get(field);
            if (v == null || v.isNull() || !v.isValueNode() || v.asText().isBlank()) {
                throw error("missing or empty '" + at + field + "'");
            }
            return v.asText();
        }

        int positiveInt(JsonNode node, String field) {
            return positiveInt(node, field, "");
        }

        int positiveInt(JsonNode node, String field, String at) {
            JsonNode v = node.get(field);
            if (v == null || !v.canConvertToInt() || v.asInt() <= 0) {
                throw error("'" + at + field + "' must be a positive integer");
            }
            return v.asInt();
        }

        double number(JsonNode node, String field) {
            JsonNode v = node.get(field);
            if (v == null || !v.isNumber()) {
                throw error("'" + field + "' must be a number");
            }
            return v.asDouble();
        }

        Tensor tensor(JsonNode node, String field) {
            JsonNode t = node.get(field);
            if (t == null || !t.isObject()) {
                throw error("'" + field + "' must be {name, size}");
            }
            return new Tensor(text(t, "name", field + "."), positiveInt(t, "size", field + "."));
        }
    }
}
