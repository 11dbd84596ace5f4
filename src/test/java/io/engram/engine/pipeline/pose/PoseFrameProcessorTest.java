package io.engram.engine.pipeline.pose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.errors.BadInputException;
import io.engram.engine.kafka.InputKeyDeserializer;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.model.PoseEstimator;
import io.engram.engine.monitoring.PipelineMeters;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;

/**
 * The pose stage's processor alone: the camera's tracks are read from the store at every frame,
 * never remembered by the processor, so a task revived by Kafka Streams (closed, then initialised
 * again on a store restored without an aborted transaction's writes) tracks from what the store
 * holds; each person's record carries the frame's size; and a camera id too long to take a track
 * id is refused.
 */
class PoseFrameProcessorTest {
    static final Path FRAME = Path.of("models/pose/golden/frames/group-480x360.png");

    @Test
    void aRevivedTaskTracksFromTheRestoredStoreAndATooLongCameraIdIsRefused() throws Exception {
        byte[] png = Files.readAllBytes(FRAME);
        try (PoseEstimator pose = PoseEstimator.load(ModelManifest.load(Path.of("models/pose/movenet-multipose.yaml")), 1)) {
            PoseFrameProcessor p = new PoseFrameProcessor(pose, new PersonTracker(PersonTracker.Settings.DEFAULT), "tracks", 0.2f,
                    1_000_000, Long.MAX_VALUE, PipelineMeters.NONE, List.of());
            MockProcessorContext<String, byte[]> ctx = new MockProcessorContext<>();
            KeyValueStore<String, byte[]> tracks = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("tracks"), Serdes.String(),
                    Serdes.ByteArray()).withLoggingDisabled().build();
            tracks.init(ctx.getStateStoreContext(), tracks);
            ctx.addStateStore(tracks);
            p.init(ctx);
            p.process(new Record<>("cam-1", png, 1_000L));
            int people = ctx.forwarded().size();
            assertTrue(people >= 2, "people in the group frame: " + people);
            for (var f : ctx.forwarded()) { // the frame's size, for the travel gate's aspect ratio
                assertEquals("480", new String(f.record().headers().lastHeader(PersonRecord.H_FRAME_WIDTH).value(), StandardCharsets.UTF_8));
                assertEquals("360", new String(f.record().headers().lastHeader(PersonRecord.H_FRAME_HEIGHT).value(), StandardCharsets.UTF_8));
            }
            byte[] first = tracks.get("cam-1");
            p.process(new Record<>("cam-1", png, 1_100L));
            assertEquals(ctx.forwarded().get(0).record().key(), ctx.forwarded().get(people).record().key(), "the same track");

            // The second frame's transaction aborts; the task is revived on the restored store.
            tracks.put("cam-1", first);
            p.close();
            p.close(); // idempotent
            ctx.resetForwards();
            p.init(ctx);
            p.process(new Record<>("cam-1", png, 1_100L));
            assertEquals(people, ctx.forwarded().size());
            assertEquals(PersonTracks.fromBytes(first).nextId(), PersonTracks.fromBytes(tracks.get("cam-1")).nextId(), "no new track");
            assertEquals("cam-1/1", ctx.forwarded().get(0).record().key());

            String longId = "c".repeat(InputKeyDeserializer.MAX_KEY_BYTES - PoseFrameProcessor.TRACK_KEY_BYTES + 1);
            BadInputException e = assertThrows(BadInputException.class, () -> p.process(new Record<>(longId, png, 1_200L)));
            assertEquals(BadInputException.Reason.TOO_LARGE, e.reason());
            p.close();
        }
    }
}
