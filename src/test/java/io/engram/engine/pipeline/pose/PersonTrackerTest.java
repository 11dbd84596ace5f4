package io.engram.engine.pipeline.pose;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.model.Person;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

/** How people in a camera's frames become tracks: continued, started, ended, and kept across a restart. */
class PersonTrackerTest {
    static final PersonTracker TRACKER = new PersonTracker(PersonTracker.Settings.DEFAULT);

    /** A person of 17 keypoints in a 60 x 160 px box whose left edge is at {@code x}, every keypoint seen. */
    static Person at(float x, float y) {
        float[] kp = new float[17 * 3];
        for (int k = 0; k < 17; k++) {
            kp[3 * k] = x + 10 + (k % 4) * 12;
            kp[3 * k + 1] = y + 10 + k * 8;
            kp[3 * k + 2] = 0.9f;
        }
        return new Person(0.8f, new float[] {x, y, x + 60, y + 160}, kp);
    }

    static List<Long> ids(PersonTracker.Step s) {
        return s.seen().stream().map(PersonTracker.Seen::trackId).toList();
    }

    @Test
    void twoPeopleWalkingKeepTheirTracksWhateverOrderTheModelGivesThem() {
        PersonTracks tracks = new PersonTracks();
        assertEquals(List.of(1L, 2L), ids(TRACKER.step(tracks, List.of(at(20, 40), at(300, 50)), 0)));
        for (int f = 1; f <= 30; f++) {
            Person left = at(20 + 4 * f, 40);   // walks right, 4 px a frame
            Person right = at(300 - 3 * f, 50); // walks left
            // The model lists people in any order: odd frames the other way round.
            List<Person> frame = f % 2 == 0 ? List.of(left, right) : List.of(right, left);
            PersonTracker.Step s = TRACKER.step(tracks, frame, f * 100L);
            assertEquals(f % 2 == 0 ? List.of(1L, 2L) : List.of(2L, 1L), ids(s), "frame " + f);
            assertTrue(s.seen().stream().noneMatch(PersonTracker.Seen::started));
            assertEquals(List.of(), s.ended());
        }
        assertEquals(3, tracks.nextId());
    }

    @Test
    void aPersonNotSeenForLongerThanTheTimeoutEndsAndComesBackAsANewTrack() {
        PersonTracks tracks = new PersonTracks();
        TRACKER.step(tracks, List.of(at(100, 40)), 0);
        // Out of sight for 1.5 s: within the 2 s timeout, the same track.
        assertEquals(List.of(), TRACKER.step(tracks, List.of(), 1_000).ended());
        PersonTracker.Step back = TRACKER.step(tracks, List.of(at(104, 40)), 1_500);
        assertEquals(List.of(1L), ids(back));
        // Out of sight for 2.5 s: the track ends (reported once), and the person gets track 2.
        PersonTracker.Step gone = TRACKER.step(tracks, List.of(), 4_000);
        assertEquals(List.of(1L), gone.ended());
        assertEquals(List.of(), TRACKER.step(tracks, List.of(), 4_100).ended());
        PersonTracker.Step again = TRACKER.step(tracks, List.of(at(104, 40)), 4_200);
        assertEquals(List.of(2L), ids(again));
        assertTrue(again.seen().get(0).started());
    }

    @Test
    void aPersonFarFromEveryTrackStartsOneAndNoTwoPeopleShareATrack() {
        PersonTracks tracks = new PersonTracks();
        TRACKER.step(tracks, List.of(at(100, 40)), 0);
        // Two people near the one track: the closer one continues it, the other starts a track.
        PersonTracker.Step s = TRACKER.step(tracks, List.of(at(130, 40), at(102, 40)), 100);
        assertEquals(List.of(2L, 1L), ids(s));
        assertEquals(List.of(true, false), s.seen().stream().map(PersonTracker.Seen::started).toList());
        // Someone at the other end of the frame is someone else.
        assertEquals(List.of(3L), ids(TRACKER.step(tracks, List.of(at(600, 40)), 200)).subList(0, 1));
    }

    @Test
    void atTheCapTheLongestUnseenTrackEnds() {
        PersonTracker capped = new PersonTracker(new PersonTracker.Settings(0.3, 0.1, 0.3f, 60_000, 2));
        PersonTracks tracks = new PersonTracks();
        capped.step(tracks, List.of(at(0, 0)), 0);
        capped.step(tracks, List.of(at(300, 0)), 100);
        PersonTracker.Step s = capped.step(tracks, List.of(at(600, 0)), 200);
        assertEquals(List.of(1L), s.ended());
        assertEquals(List.of(2L, 3L), tracks.tracks().stream().map(PersonTracks.Track::id).toList());
    }

    @Test
    void tracksRestoredFromTheirBytesAssignTheNextFramesExactlyAsTheOriginals() {
        PersonTracks a = new PersonTracks();
        List<List<Long>> first = new ArrayList<>();
        List<List<Long>> restored = new ArrayList<>();
        for (int f = 0; f < 10; f++) {
            first.add(ids(TRACKER.step(a, List.of(at(10 + 5 * f, 0), at(400 - 5 * f, 20)), f * 100L)));
        }
        PersonTracks b = PersonTracks.fromBytes(a.toBytes());
        assertArrayEquals(a.toBytes(), b.toBytes());
        for (int f = 10; f < 20; f++) {
            List<Person> frame = List.of(at(10 + 5 * f, 0), at(400 - 5 * f, 20), at(700, 30));
            first.add(ids(TRACKER.step(a, frame, f * 100L)));
            restored.add(ids(TRACKER.step(b, frame, f * 100L)));
        }
        assertEquals(first.subList(10, 20), restored);
        assertArrayEquals(a.toBytes(), b.toBytes());
    }

    @Test
    void theFormatIsReadFromFixedBytes() {
        // Version 1, next id 8, one track: id 7, last seen 1000 ms, 1 keypoint, box (1,2,3,4), keypoint (5,6,0.5).
        byte[] fixed = HexFormat.of().parseHex("01" + "0000000000000008" + "00000001" + "0000000000000007" + "00000000000003e8" + "00000001"
                + "3f800000" + "40000000" + "40400000" + "40800000" + "40a00000" + "40c00000" + "3f000000");
        PersonTracks t = PersonTracks.fromBytes(fixed);
        assertEquals(8, t.nextId());
        assertEquals(1, t.tracks().size());
        assertEquals(7, t.tracks().get(0).id());
        assertEquals(1000, t.tracks().get(0).lastSeenMs());
        assertArrayEquals(new float[] {1, 2, 3, 4}, t.tracks().get(0).box);
        assertArrayEquals(new float[] {5, 6, 0.5f}, t.tracks().get(0).keypoints);
        assertArrayEquals(fixed, t.toBytes());
        assertEquals(null, PersonTracks.fromBytes(null));
        assertThrows(SerializationException.class, () -> PersonTracks.fromBytes(new byte[] {2, 0}));
        assertThrows(SerializationException.class, () -> PersonTracks.fromBytes(java.util.Arrays.copyOf(fixed, fixed.length - 1)));
        assertThrows(SerializationException.class, () -> PersonTracks.fromBytes(java.util.Arrays.copyOf(fixed, fixed.length + 1)));
    }
}
