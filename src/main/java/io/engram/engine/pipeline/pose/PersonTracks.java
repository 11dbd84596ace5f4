package io.engram.engine.pipeline.pose;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;

/**
 * One camera's tracks: the people it is following, each with a track id that never repeats on that
 * camera, where the person was last seen (box and keypoints, in frame pixels) and when (event time),
 * and the next id to give. The state of {@link PersonTracker} for one camera, kept in a state store
 * and changelogged like every other state, so that track ids survive a restart and a replayed frame
 * is assigned exactly as the first time.
 *
 * <p>Binary format ({@link #toBytes}), big-endian: version byte 1; {@code nextId} (long); the number
 * of tracks (int); per track: id (long), last seen (long, epoch ms), keypoint count K (int), box
 * (4 floats: xmin, ymin, xmax, ymax), keypoints (3K floats: x, y, score). Mutable; not thread-safe
 * (one camera's frames are processed in order by one task).
 */
public final class PersonTracks {
    static final byte VERSION = 1;

    /** One followed person. */
    public static final class Track {
        final long id;
        long lastSeenMs;
        float[] box;
        float[] keypoints;

        Track(long id, long lastSeenMs, float[] box, float[] keypoints) {
            this.id = id;
            this.lastSeenMs = lastSeenMs;
            this.box = box;
            this.keypoints = keypoints;
        }

        public long id() {
            return id;
        }

        public long lastSeenMs() {
            return lastSeenMs;
        }
    }

    long nextId;
    final List<Track> tracks = new ArrayList<>();

    public PersonTracks() {
        this(1);
    }

    PersonTracks(long nextId) {
        this.nextId = nextId;
    }

    /** The tracks followed now, oldest first. */
    public List<Track> tracks() {
        return List.copyOf(tracks);
    }

    /** The id the next new track gets. */
    public long nextId() {
        return nextId;
    }

    public byte[] toBytes() {
        int size = 1 + Long.BYTES + Integer.BYTES;
        for (Track t : tracks) {
            size += 2 * Long.BYTES + Integer.BYTES + Float.BYTES * (4 + t.keypoints.length);
        }
        ByteBuffer b = ByteBuffer.allocate(size);
        b.put(VERSION).putLong(nextId).putInt(tracks.size());
        for (Track t : tracks) {
            b.putLong(t.id).putLong(t.lastSeenMs).putInt(t.keypoints.length / 3);
            for (float v : t.box) {
                b.putFloat(v);
            }
            for (float v : t.keypoints) {
                b.putFloat(v);
            }
        }
        return b.array();
    }

    /** The tracks in {@code bytes}; null for null. */
    public static PersonTracks fromBytes(byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            byte version = b.get();
            if (version != VERSION) {
                throw new SerializationException("person tracks: unknown format version " + version + " (this build reads " + VERSION + ")");
            }
            PersonTracks out = new PersonTracks(b.getLong());
            int n = b.getInt();
            if (n < 0 || n > bytes.length) {
                throw new SerializationException("person tracks: bad track count " + n);
            }
            for (int i = 0; i < n; i++) {
                long id = b.getLong();
                long seen = b.getLong();
                int k = b.getInt();
                if (k < 0 || 12L * k > b.remaining()) {
                    throw new SerializationException("person tracks: bad keypoint count " + k);
                }
                float[] box = new float[4];
                for (int j = 0; j < 4; j++) {
                    box[j] = b.getFloat();
                }
                float[] kp = new float[3 * k];
                for (int j = 0; j < kp.length; j++) {
                    kp[j] = b.getFloat();
                }
                out.tracks.add(new Track(id, seen, box, kp));
            }
            if (b.hasRemaining()) {
                throw new SerializationException("person tracks: " + b.remaining() + " bytes left over");
            }
            return out;
        } catch (java.nio.BufferUnderflowException e) {
            throw new SerializationException("person tracks: truncated (" + bytes.length + " bytes)", e);
        }
    }
}
