package io.engram.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.kafka.InputKeyDeserializer;
import io.engram.engine.monitoring.MetricsServer.Response;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The checks of an id before any store is asked (the stores themselves: StateQueriesIT, on a broker). */
class StateQueriesTest {
    final StateQueries none = new StateQueries(List.of(), null);

    @Test
    void idsUpToTheKeyLimitAreLookedUpAndLongerOnesAre400() {
        String longest = "é".repeat(InputKeyDeserializer.MAX_KEY_BYTES / 2);
        assertEquals(404, none.get(longest, false).status(), "a key of the limit's size may exist");
        Response tooLong = none.get(longest + "x", false);
        assertEquals(400, tooLong.status());
        assertTrue(tooLong.json().contains("at most 4096 bytes"), tooLong.json());
        assertEquals(400, none.get("", false).status());
    }

    @Test
    void anIdWithASlashIsAnId() {
        // The HTTP server passes one decoded segment: "site/pump-7" came as site%2Fpump-7.
        Response r = none.get("site/pump-7", false);
        assertEquals(404, r.status(), r.json());
        assertTrue(r.json().contains("\"id\":\"site/pump-7\""), r.json());
    }
}
