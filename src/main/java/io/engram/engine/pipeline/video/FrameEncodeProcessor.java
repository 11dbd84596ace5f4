package io.engram.engine.pipeline.video;

import io.engram.engine.errors.BadInputException;
import io.engram.engine.errors.BadInputException.Reason;
import io.engram.engine.model.EncoderModel;
import io.engram.engine.monitoring.PipelineMeters;
import java.awt.image.BufferedImage;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The CNN stage: decodes each frame, checks it, preprocesses it as the encoder's manifest says, runs
 * the encoder and emits a {@link FeatureRecord} keyed by camera, with the frame's capture time, in
 * its binary form ({@link FeatureRecordSerde}): the bytes the features topic carries, which the
 * recurrent step reads the same way whether they come from the topic (the split layout) or straight
 * from this processor (the fused layout, {@link FrameStage}).
 * A camera's first frame fixes its frame size (kept in a changelogged store); a later frame of
 * another size, like a corrupt, empty, oversized or unsupported one, is thrown as a
 * {@link BadInputException} and dead-lettered by the processing exception handler.
 *
 * <p>One instance per task; owns its {@link EncoderModel.Batch} (native buffers), released in
 * {@link #close()}. The encoder session is shared and owned by the caller.
 */
public final class FrameEncodeProcessor implements Processor<String, byte[], String, byte[]> {
    public static final String H_CONTENT_TYPE = "content-type";
    public static final String H_WIDTH = "width";
    public static final String H_HEIGHT = "height";
    public static final String H_SEQ = "seq";

    private final EncoderModel encoder;
    private final FramePreprocessor pre;
    private final String shapeStoreName;
    /** Cameras' frame sizes as read from (or written to) the store by this task. */
    private final java.util.Map<String, Long> knownShapes = new java.util.HashMap<>();
    private final int maxFrameBytes;
    private final PipelineMeters metrics;
    private final String encoderRef;
    private final float[] pixels;
    /** The encoder's output, reused: each feature record is serialised before the next frame. */
    private final float[] features;
    private final java.util.List<String> children;
    private final FeatureRecordSerde serde = new FeatureRecordSerde();
    private ProcessorContext<String, byte[]> context;
    private KeyValueStore<String, Long> shapes;
    private EncoderModel.Batch batch;
    /** The last decoded frame, decoded into again when the next one has its size and type (task thread only). */
    private BufferedImage last;

    /**
     * @param children the nodes each feature record goes to, in this order; empty = every child.
     *     A child's refusal (the step's, e.g. an out-of-order frame) is dead-lettered by Kafka
     *     Streams at that child and does not stop the record going to the others: as in the split
     *     layout, the features topic has a record for every frame the encoder accepted.
     */
    public FrameEncodeProcessor(EncoderModel encoder, FramePreprocessor pre, String shapeStoreName, int maxFrameBytes, PipelineMeters metrics,
            java.util.List<String> children) {
        this.children = java.util.List.copyOf(children);
        this.encoder = encoder;
        this.pre = pre;
        this.shapeStoreName = shapeStoreName;
        this.maxFrameBytes = maxFrameBytes;
        this.metrics = metrics;
        this.encoderRef = encoder.manifest().id() + "@" + encoder.manifest().version();
        this.pixels = new float[encoder.manifest().input().size()];
        this.features = new float[encoder.manifest().output().size()];
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        this.context = context;
        this.shapes = context.getStateStore(shapeStoreName);
        // Kafka Streams may initialise the same processor again after its store was wiped and
        // restored (a task revived under exactly-once): what this task remembered of the store may
        // come from an aborted transaction, so the store is read afresh.
        knownShapes.clear();
        this.batch = encoder.newBatch(1);
    }

    @Override
    public void process(Record<String, byte[]> record) {
        String camera = FrameIntake.camera(record);
        if (FrameIntake.isReset(record, camera)) {
            // A reset also forgets the camera's frame size, so a camera can change resolution. The
            // command goes on to the classifier stage as an empty feature record with its headers.
            shapes.delete(camera);
            knownShapes.remove(camera);
            forward(new Record<>(camera, serde.serialize(null, new FeatureRecord(encoderRef, -1, new float[0])), record.timestamp(),
                    record.headers()));
            return;
        }
        // Every check that can refuse the frame comes before the camera's frame size is stored:
        // a refused first frame must not fix the size its good frames are held to.
        FrameIntake.Frame frame = FrameIntake.frame(record, camera, maxFrameBytes, "encoder.max_frame_bytes");
        long t0 = System.nanoTime();
        BufferedImage img = pre.decode(frame.bytes(), frame.contentType(), last);
        last = img;
        long shape = ((long) img.getWidth() << 32) | img.getHeight();
        // The store is the source of truth (restored with the task); this task's memory saves a store
        // read per frame once a camera's size is known.
        Long known = knownShapes.get(camera);
        if (known == null) {
            known = shapes.get(camera);
            if (known == null) {
                shapes.put(camera, shape);
                known = shape;
            }
            knownShapes.put(camera, known);
        }
        if (known != shape) {
            throw new BadInputException(Reason.FRAME_SIZE_CHANGED, "camera " + camera + " sent a " + img.getWidth() + "x"
                    + img.getHeight() + " frame; its earlier frames were " + (known >>> 32) + "x" + (known & 0xffffffffL));
        }
        pre.toInput(img, pixels);
        batch.encode(pixels, features);
        metrics.frameEncoded(System.nanoTime() - t0);
        forward(new Record<>(camera, serde.serialize(null, new FeatureRecord(encoderRef, frame.seq(), features)), record.timestamp(),
                record.headers()));
    }

    private void forward(Record<String, byte[]> r) {
        FrameStage.forward(context, children, r);
    }

    @Override
    public void close() {
        if (batch != null) {
            batch.close();
            batch = null;
        }
        last = null;
    }
}
