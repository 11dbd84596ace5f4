package io.engram.pipeline.forecast;

import io.engram.core.VersionedPayloadCodec;
import io.engram.core.StateSerde;
import io.engram.core.StreamState;
import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;

/**
 * Binary layout of {@link ForecastState} behind the common state header (big-endian):
 *
 * <pre>
 * byte    payload version (1)
 * int     channels C
 * C x double mean, C x double var, C x double forecast
 * double  shortAvg, longMean, longVar
 * long    scored, lastAlertStep, lastAboveStep
 * C x double levelShort, C x double levelMean, C x double levelVar
 * </pre>
 *
 * Also reads the sensor pipeline's own state format 1, from before the common format (its
 * changelogs restore after an upgrade):
 *
 * <pre>
 * byte 1; string model id, version, compat; long steps; long last event time; int C;
 * C x double mean, var, forecast; int H, H x float hidden; double shortAvg, longMean, longVar;
 * long scored, lastAlertStep, lastAboveStep; C x double levelShort, levelMean, levelVar
 * </pre>
 */
public final class ForecastCodec extends VersionedPayloadCodec<ForecastState> {
    public ForecastCodec() {
        super("forecast", (byte) 1);
    }

    @Override
    protected int bodySize(ForecastState f) {
        return 4 + 48 + 48 * f.channels();
    }

    @Override
    protected void writeBody(ForecastState f, ByteBuffer b) {
        b.putInt(f.channels());
        StateSerde.putDoubles(b, f.mean);
        StateSerde.putDoubles(b, f.var);
        StateSerde.putDoubles(b, f.forecast);
        writeScorer(f, b);
    }

    /** The fields after the per-channel preprocessing, the same in every format. */
    private static void writeScorer(ForecastState f, ByteBuffer b) {
        b.putDouble(f.shortAvg).putDouble(f.longMean).putDouble(f.longVar);
        b.putLong(f.scored).putLong(f.lastAlertStep).putLong(f.lastAboveStep);
        StateSerde.putDoubles(b, f.levelShort);
        StateSerde.putDoubles(b, f.levelMean);
        StateSerde.putDoubles(b, f.levelVar);
    }

    @Override
    protected ForecastState readBody(ByteBuffer b) {
        ForecastState f = channels(b);
        readScorer(f, b);
        return f;
    }

    /** C, then C x mean, var, forecast. */
    private static ForecastState channels(ByteBuffer b) {
        int c = StateSerde.length(b);
        ForecastState f = new ForecastState();
        f.mean = StateSerde.doubles(b, c);
        f.var = StateSerde.doubles(b, c);
        f.forecast = StateSerde.doubles(b, c);
        return f;
    }

    private static void readScorer(ForecastState f, ByteBuffer b) {
        int c = f.channels();
        f.shortAvg = b.getDouble();
        f.longMean = b.getDouble();
        f.longVar = b.getDouble();
        f.scored = b.getLong();
        f.lastAlertStep = b.getLong();
        f.lastAboveStep = b.getLong();
        f.levelShort = StateSerde.doubles(b, c);
        f.levelMean = StateSerde.doubles(b, c);
        f.levelVar = StateSerde.doubles(b, c);
    }

    @Override
    public StreamState<ForecastState> readLegacy(byte version, ByteBuffer b) {
        if (version != 1) {
            throw new SerializationException("stream state format version " + version + " was never written by the forecaster"
                    + " (sensor) pipeline");
        }
        StateSerde.Header h = StateSerde.readHeader(b);
        ForecastState f = channels(b);
        float[] hidden = StateSerde.floats(b, StateSerde.length(b));
        readScorer(f, b);
        if (b.hasRemaining()) {
            throw new SerializationException("sensor state has " + b.remaining() + " trailing bytes");
        }
        return new StreamState<>(h.modelId(), h.modelVersion(), h.stateCompat(), h.steps(), h.lastEventTime(), hidden, f);
    }
}
