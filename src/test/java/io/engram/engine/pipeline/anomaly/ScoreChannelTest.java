package io.engram.engine.pipeline.anomaly;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.engram.engine.pipeline.anomaly.ScoringConfig.Channel;
import io.engram.engine.state.StateSerde;
import io.engram.engine.state.StreamState;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What every channel promises the scorer, and how the scorer builds them from its configuration. */
class ScoreChannelTest {
    static List<Channel> keys(ScoreChannel[] channels) {
        return Arrays.stream(channels).map(ScoreChannel::key).toList();
    }

    @Test
    void theScorerBuildsTheChannelsThatAreOnInConfigurationOrder() {
        ScoringConfig all = ScoringConfig.DEFAULTS;
        assertEquals(List.of(Channel.values()), keys(AnomalyScorer.channels(all, true)), "a one-value stream: every channel");
        assertEquals(List.of(Channel.FORECAST, Channel.LEVEL, Channel.STUCK, Channel.JOINT), keys(AnomalyScorer.channels(all, false)),
                "a vector: the channels without memory, and stuck, which watches each value");
        for (Channel off : Channel.values()) {
            List<Channel> left = new ArrayList<>(EnumSet.complementOf(EnumSet.of(off)));
            assertEquals(left, keys(AnomalyScorer.channels(all.without(off), true)), "the ablation without " + off.key());
        }
        ScoringConfig noLevelWeight = new ScoringConfig(all.shortAlpha(), all.longAlpha(), all.warmupSteps(), all.threshold(),
                all.suppressSteps(), all.rawClip(), 0.0, all.channels(), all.seasonal(), all.routine(), all.shape(), all.stuck());
        assertEquals(List.of(Channel.FORECAST, Channel.STUCK, Channel.JOINT), keys(AnomalyScorer.channels(noLevelWeight, false)),
                "level weight 0 is off");
    }

    @Test
    void eachChannelGivesItsOwnReasonAndItsNameIsTheReasonsBit() {
        List<Integer> bits = new ArrayList<>();
        for (ScoreChannel c : AnomalyScorer.channels(ScoringConfig.DEFAULTS, true)) {
            int bit = AnomalyScorer.reasonBit(c.reason());
            assertEquals(List.of(c.reason()), AnomalyScorer.reasonNames(bit), c.key().key());
            assertEquals(false, bits.contains(bit), "one reason per channel: " + c.reason());
            bits.add(bit);
        }
        assertEquals(7, bits.size());
    }

    @Test
    void theMemoryChannelsSlicesAreTheWholeStoredMemory() {
        ForecastState s = ForecastMemoryStateTest.scored(new AnomalyScorer(ScoringConfig.DEFAULTS), 1000);
        StateSerde<ForecastState> serde = new StateSerde<>(new ForecastCodec());
        int with = serde.serialize("t", new StreamState<>("m", "1", "c", 1, 0, new float[1], s)).length;
        ForecastState.Memory m = s.memory;
        s.memory = null;
        int without = serde.serialize("t", new StreamState<>("m", "1", "c", 1, 0, new float[1], s)).length;
        s.memory = m;
        int slices = 0;
        for (ScoreChannel c : AnomalyScorer.channels(ScoringConfig.DEFAULTS, true)) {
            if (c.needsMemory()) {
                slices += c.stateBytes(s);
            }
        }
        assertEquals(with - without, slices, "the memory's bytes, all in some channel's slice");
    }
}
