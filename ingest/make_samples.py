#!/usr/bin/env python3
"""Writes the small sample inputs under ingest/samples/ (deterministic; standard library only).

    python3 ingest/make_samples.py

machine-temperature.csv: NAB-style `timestamp,value`, 5-minute readings over 10 days of a machine's
temperature with a daily cycle and noise, a spike on day 6 and a slow overheating drift on day 8.
pump-multichannel.csv: `timestamp,c1,c2,c3` (vibration, pressure, flow) every minute for 2 days,
with a vibration burst near the end. Both are synthetic: made here, not downloaded.
"""
import math
import os
import random
from datetime import datetime, timedelta

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "samples")


def machine_temperature(path):
    rnd = random.Random(7)
    t0 = datetime(2026, 3, 1)
    with open(path, "w") as f:
        f.write("timestamp,value\n")
        for i in range(288 * 10):
            day = i / 288.0
            v = 70 + 6 * math.sin(2 * math.pi * day) + rnd.gauss(0, 0.6)
            if i == 288 * 6 + 100:
                v += 25
            if 288 * 8 <= i < 288 * 8 + 150:
                v += (i - 288 * 8) * 0.12
            f.write("%s,%.3f\n" % ((t0 + timedelta(minutes=5 * i)).strftime("%Y-%m-%d %H:%M:%S"), v))


def pump(path):
    rnd = random.Random(11)
    t0 = datetime(2026, 3, 1)
    with open(path, "w") as f:
        f.write("timestamp,vibration,pressure,flow\n")
        for i in range(60 * 48):
            vib = 2 + 0.3 * math.sin(i / 30.0) + rnd.gauss(0, 0.05)
            pres = 5 + 0.5 * math.sin(2 * math.pi * i / 1440) + rnd.gauss(0, 0.02)
            flow = 120 + 10 * math.sin(2 * math.pi * i / 1440) + rnd.gauss(0, 1)
            if 60 * 40 <= i < 60 * 40 + 20:
                vib += rnd.gauss(0, 1.5)
            f.write("%s,%.4f,%.4f,%.3f\n" % ((t0 + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"), vib, pres, flow))


if __name__ == "__main__":
    os.makedirs(HERE, exist_ok=True)
    machine_temperature(os.path.join(HERE, "machine-temperature.csv"))
    pump(os.path.join(HERE, "pump-multichannel.csv"))
