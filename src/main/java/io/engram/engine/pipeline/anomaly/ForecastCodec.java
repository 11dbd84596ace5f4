package io.engram.engine.pipeline.anomaly;

import io.engram.engine.state.VersionedPayloadCodec;
import io.engram.engine.state.StateSerde;
import io.engram.engine.state.StreamState;
import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;

/**
 * Binary layout of {@link ForecastState} behind the common state header (big-endian):
 *
 * <pre>
 * byte    payload version (5)
 * int     channels C
 * C x double mean, C x double var, C x double forecast
 * double  shortAvg, longMean, longVar
 * long    scored, lastAlertStep, lastAboveStep
 * C x double levelShort, C x double levelMean, C x double levelVar
 * byte    memory present (0 | 1); if 1 (one-value streams, see ForecastState.Memory):
 *   int B, B x float binMean, B x short binCount, int binsReady,
 *   double globalMean, globalVar, residualVar, residualShort,
 *   int W, W x float words, double wordScale, wordTotal, wordMean, wordVar,
 *   double lastValue, long run, long maxRun,
 *   int N, N x int incidents, long incidentCount
 * byte    per-value runs present (0 | 1); if 1 (streams of several values, see ForecastState#stuckLast):
 *   C x double stuckLast, C x long stuckRun, C x long stuckMaxRun
 * </pre>
 *
 * byte    joint statistics present (0 | 1); if 1 (streams of several values, see ForecastState#jointShort):
 *   C x double jointShort, C x double jointMean, C(C+1)/2 x double jointCov, long jointCount,
 *   long jointDistCount, 96 x double jointHist
 * </pre>
 *
 * Payload version 4 is version 5 with {@code double jointDistMean, jointDistVar, long jointDistCount}
 * (the log distance's mean and variance) in place of {@code long jointDistCount, 96 x double jointHist}:
 * it is read with the joint channel's mean and covariance, and its distance statistics start afresh.
 * Payload version 3 is version 4 without the joint statistics' byte and fields: it is read without
 * them (the joint channel starts afresh on a stream of several values, the rest continues).
 * Payload version 2 is version 3 without the per-value runs' byte and fields: it is read without
 * them (the stuck channel starts afresh on a stream of several values, the rest continues).
 * Payload version 1 is version 2 without the memory byte and its fields: it is read with no memory
 * (the memory channels start afresh, the rest continues).
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
        super("forecast", (byte) 5);
    }

    @Override
    protected int bodySize(ForecastState f) {
        return 4 + 48 + 48 * f.channels() + 1 + (f.memory == null ? 0 : memorySize(f.memory))
                + 1 + (f.stuckLast == null ? 0 : 24 * f.channels())
                + 1 + (f.jointShort == null ? 0 : jointSize(f.channels()));
    }

    /** Bytes of the joint channel's statistics of a stream of {@code c} values. */
    static int jointSize(int c) {
        return 16 * c + 8 * (c * (c + 1) / 2) + 16 + 8 * JointChannel.BINS;
    }

    private static int memorySize(ForecastState.Memory m) {
        return 4 + 6 * m.binMean.length + 4 + 32 + 4 + 4 * m.words.length + 32 + 24 + 4 + 4 * m.incidents.length + 8;
    }

    @Override
    protected void writeBody(ForecastState f, ByteBuffer b) {
        b.putInt(f.channels());
        StateSerde.putDoubles(b, f.mean);
        StateSerde.putDoubles(b, f.var);
        StateSerde.putDoubles(b, f.forecast);
        writeScorer(f, b);
        ForecastState.Memory m = f.memory;
        b.put((byte) (m == null ? 0 : 1));
        if (m != null) {
            b.putInt(m.binMean.length);
            StateSerde.putFloats(b, m.binMean);
            for (short v : m.binCount) {
                b.putShort(v);
            }
            b.putInt(m.binsReady);
            b.putDouble(m.globalMean).putDouble(m.globalVar).putDouble(m.residualVar).putDouble(m.residualShort);
            b.putInt(m.words.length);
            StateSerde.putFloats(b, m.words);
            b.putDouble(m.wordScale).putDouble(m.wordTotal).putDouble(m.wordMean).putDouble(m.wordVar);
            b.putDouble(m.lastValue).putLong(m.run).putLong(m.maxRun);
            b.putInt(m.incidents.length);
            for (int v : m.incidents) {
                b.putInt(v);
            }
            b.putLong(m.incidentCount);
        }
        b.put((byte) (f.stuckLast == null ? 0 : 1));
        if (f.stuckLast != null) {
            StateSerde.putDoubles(b, f.stuckLast);
            for (long v : f.stuckRun) {
                b.putLong(v);
            }
            for (long v : f.stuckMaxRun) {
                b.putLong(v);
            }
        }
        b.put((byte) (f.jointShort == null ? 0 : 1));
        if (f.jointShort != null) {
            StateSerde.putDoubles(b, f.jointShort);
            StateSerde.putDoubles(b, f.jointMean);
            StateSerde.putDoubles(b, f.jointCov);
            b.putLong(f.jointCount).putLong(f.jointDistCount);
            StateSerde.putDoubles(b, f.jointHist);
        }
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
        return readBody((byte) 5, b);
    }

    @Override
    protected ForecastState readBody(byte version, ByteBuffer b) {
        ForecastState f = channels(b);
        readScorer(f, b);
        if (version >= 2 && b.get() != 0) {
            f.memory = readMemory(b);
        }
        if (version >= 3 && b.get() != 0) {
            int c = f.channels();
            f.stuckLast = StateSerde.doubles(b, c);
            f.stuckRun = longs(b, c);
            f.stuckMaxRun = longs(b, c);
        }
        if (version >= 4 && b.get() != 0) {
            int c = f.channels();
            f.jointShort = StateSerde.doubles(b, c);
            f.jointMean = StateSerde.doubles(b, c);
            f.jointCov = StateSerde.doubles(b, c * (c + 1) / 2);
            f.jointCount = b.getLong();
            if (version >= 5) {
                f.jointDistCount = b.getLong();
                f.jointHist = StateSerde.doubles(b, JointChannel.BINS);
            } else {
                // The log distance's mean and variance: the distance statistics start afresh.
                b.getDouble();
                b.getDouble();
                b.getLong();
                f.jointDistCount = 0;
                f.jointHist = new double[JointChannel.BINS];
            }
        }
        return f;
    }

    private static long[] longs(ByteBuffer b, int n) {
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = b.getLong();
        }
        return out;
    }

    private static ForecastState.Memory readMemory(ByteBuffer b) {
        ForecastState.Memory m = new ForecastState.Memory();
        int bins = StateSerde.length(b);
        m.binMean = StateSerde.floats(b, bins);
        m.binCount = new short[bins];
        for (int i = 0; i < bins; i++) {
            m.binCount[i] = b.getShort();
        }
        m.binsReady = b.getInt();
        m.globalMean = b.getDouble();
        m.globalVar = b.getDouble();
        m.residualVar = b.getDouble();
        m.residualShort = b.getDouble();
        m.words = StateSerde.floats(b, StateSerde.length(b));
        m.wordScale = b.getDouble();
        m.wordTotal = b.getDouble();
        m.wordMean = b.getDouble();
        m.wordVar = b.getDouble();
        m.lastValue = b.getDouble();
        m.run = b.getLong();
        m.maxRun = b.getLong();
        int n = StateSerde.length(b);
        m.incidents = new int[n];
        for (int i = 0; i < n; i++) {
            m.incidents[i] = b.getInt();
        }
        m.incidentCount = b.getLong();
        return m;
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
