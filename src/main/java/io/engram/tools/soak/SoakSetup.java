package io.engram.tools.soak;

import java.util.List;
import java.util.Random;

/**
 * What the steps of the run under faults share: the options, the lanes, the broker, the soak's
 * seeded random (which picks every fault and target, so the same seed gives the same sequence) and
 * its log. Owns nothing: the soak owns and closes each part.
 */
record SoakSetup(Soak.Options o, List<SoakLane> lanes, SoakBroker broker, Random random, SoakLog log) {}
