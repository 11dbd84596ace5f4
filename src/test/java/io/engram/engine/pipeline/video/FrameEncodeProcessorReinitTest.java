package io.engram.engine.pipeline.video;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.engram.engine.monitoring.PipelineMeters;
import io.engram.engine.model.EncoderModel;
import io.engram.engine.model.ModelManifest;
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
 * Kafka Streams may initialise the same processor again after its task's store was wiped and
 * restored (a task revived under exactly-once). A camera's frame size that this task had stored in
 * a transaction that was then aborted is gone from the restored store; the processor must store it
 * again rather than trust what it remembered.
 */
class FrameEncodeProcessorReinitTest {
    @Test
    void aRevivedTaskStoresTheCamerasFrameSizeAgainWhenTheRestoredStoreLacksIt() throws Exception {
        ModelManifest m = ModelManifest.load(Path.of("models/activity/frame-encoder.yaml"));
        byte[] png = Files.readAllBytes(Path.of("models/activity/clip/frame-00000.png"));
        try (EncoderModel encoder = EncoderModel.load(m, 1)) {
            FrameEncodeProcessor p = new FrameEncodeProcessor(encoder, new FramePreprocessor(m.image(), Long.MAX_VALUE), "shapes",
                    1_000_000, PipelineMeters.NONE, List.of());
            MockProcessorContext<String, byte[]> ctx = new MockProcessorContext<>();
            KeyValueStore<String, Long> shapes = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("shapes"), Serdes.String(),
                    Serdes.Long()).withLoggingDisabled().build();
            shapes.init(ctx.getStateStoreContext(), shapes);
            ctx.addStateStore(shapes);
            p.init(ctx);
            p.process(new Record<>("cam-1", png, 1_000L));
            long shape = shapes.get("cam-1");

            // The transaction that stored it aborts; the task is revived on the restored store.
            shapes.delete("cam-1");
            p.close();
            p.init(ctx);
            p.process(new Record<>("cam-1", png, 1_100L));
            assertNotNull(shapes.get("cam-1"), "the frame size is stored again");
            assertEquals(shape, shapes.get("cam-1"));
            assertEquals(2, ctx.forwarded().size(), "both frames encoded");
            p.close();
        }
    }
}
