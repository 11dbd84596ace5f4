package io.engram.testkit;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The four crash scenarios as tests, written once: a pipeline's crash test extends this class,
 * builds its {@link CrashHarness} (its YAML, its input and the check of its reference run) in a
 * {@code @BeforeAll}, and returns it from {@link #crash()}. Every scenario compares every output
 * topic with the uninterrupted reference run, per key, byte for byte.
 */
public abstract class CrashScenarios {
    /** The pipeline's harness, built once per class. */
    protected abstract CrashHarness crash();

    @Test
    void killDashNineMidStreamThenRestartGivesTheOutputOfAnUninterruptedRun() throws Exception {
        crash().killDashNineThenRestart();
    }

    @Test
    void killOneOfTwoInstancesWithStandbysThenAddAThirdMidTrafficGivesTheOutputOfAnUninterruptedRun() throws Exception {
        crash().failoverWithStandbysThenJoin();
    }

    @Test
    void killThenDeleteTheStateDirectoryThenRestartRebuildsStateFromTheChangelog() throws Exception {
        crash().lostStateDirectory();
    }

    @Test
    void brokerDownForTenSecondsWithTrafficRunningEngramRecoversByItself() throws Exception {
        crash().brokerOutage(Duration.ofSeconds(10));
    }

    /** Prints where each kill landed (the transaction it was in), for the log. */
    protected static void report(String name, CrashHarness crash) {
        if (crash != null) {
            System.out.println(name + " kills: " + String.join("\n  ", crash.kills()));
        }
    }
}
