package io.engram.tools.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.errors.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SensorCsvTest {
    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, text, StandardCharsets.UTF_8);
        return f;
    }

    private static long utc(String iso) {
        return Instant.parse(iso).toEpochMilli();
    }

    @Test
    void nabFileWithHeaderBecomesOneValueRowsWithTimesReadAsUtc() throws IOException {
        Path f = write("nyc_taxi.csv", "timestamp,value\n2015-07-10 14:24:00,10844\n2015-07-10 14:29:00,8127.5\n");
        SensorCsv.Result r = SensorCsv.read(f);
        assertEquals(2, r.rows().size());
        assertEquals(List.of(), r.problems());
        SensorCsv.Row first = r.rows().get(0);
        assertEquals(2, first.line());
        assertEquals(utc("2015-07-10T14:24:00Z"), first.ts());
        assertArrayEquals(new double[] {10844}, first.values());
        assertEquals("2015-07-10 14:24:00", first.timestampText());
        assertEquals(utc("2015-07-10T14:29:00Z"), r.rows().get(1).ts());
        assertArrayEquals(new double[] {8127.5}, r.rows().get(1).values());
        assertEquals(1, r.channels());
    }

    @Test
    void multiColumnRowsKeepColumnOrderAndAcceptEpochMsAndIsoWithZone() throws IOException {
        Path f = write("machine.csv", "timestamp,temp,pressure,rpm\n"
                + "1700000000000,20.5,1.01,1500\n"
                + "2023-11-14T22:13:21+01:00, 21 ,\"1.02\",1490\n");
        SensorCsv.Result r = SensorCsv.read(f);
        assertEquals(List.of(), r.problems());
        assertEquals(3, r.channels());
        assertEquals(1_700_000_000_000L, r.rows().get(0).ts());
        assertArrayEquals(new double[] {20.5, 1.01, 1500}, r.rows().get(0).values());
        assertEquals(utc("2023-11-14T21:13:21Z"), r.rows().get(1).ts());
        assertArrayEquals(new double[] {21, 1.02, 1490}, r.rows().get(1).values());
        assertEquals(List.of("temp", "pressure", "rpm"), r.valueNames(), "the header names the value columns");
    }

    @Test
    void fileWithoutHeaderStartsWithData() throws IOException {
        Path f = write("raw.csv", "2020-01-01T00:00:00Z,1\n2020-01-01T00:05:00Z,2\n");
        SensorCsv.Result r = SensorCsv.read(f);
        assertEquals(2, r.rows().size());
        assertEquals(1, r.rows().get(0).line());
        assertEquals(List.of(), r.header());
        assertEquals(List.of("c1"), r.valueNames(), "without a header a value column is c<n>");
    }

    @Test
    void badRowsAreSkippedAndReportedWithFileAndLineWhileGoodRowsSurvive() throws IOException {
        Path f = write("bad.csv", "timestamp,a,b\n"
                + "2020-01-01 00:00:00,1,2\n"        // 2 ok
                + "2020-01-01 00:01:00,1\n"          // 3 too few columns
                + "yesterday,1,2\n"                  // 4 bad time
                + "2020-01-01 00:02:00,x,2\n"        // 5 bad number
                + "\n"                               // 6 blank: ignored, not a problem
                + "2020-01-01 00:03:00,NaN,2\n"      // 7 not finite
                + "2020-01-01 00:04:00,1,2,3\n"      // 8 too many columns
                + "2020-01-01 00:05:00,3,4\n");      // 9 ok
        SensorCsv.Result r = SensorCsv.read(f);
        assertEquals(List.of(2, 9), r.rows().stream().map(SensorCsv.Row::line).toList());
        assertEquals(5, r.skipped());
        List<String> p = r.problems();
        assertTrue(p.get(0).startsWith("bad.csv:3: wrong column count"), p.get(0));
        assertTrue(p.get(1).startsWith("bad.csv:4: bad timestamp"), p.get(1));
        assertTrue(p.get(2).startsWith("bad.csv:5: bad number: 'x' in column 2"), p.get(2));
        assertTrue(p.get(3).startsWith("bad.csv:7: non-finite number"), p.get(3));
        assertTrue(p.get(4).startsWith("bad.csv:8: wrong column count"), p.get(4));
        assertEquals(Map.of("wrong column count", 2, "bad timestamp", 1, "bad number", 1, "non-finite number", 1), r.skippedByReason());
        assertEquals("2 wrong column count, 1 bad timestamp, 1 bad number, 1 non-finite number", r.skippedSummary());
    }

    @Test
    void repeatedAndBackwardTimestampsAreKeptInFileOrder() throws IOException {
        Path f = write("repeats.csv", "timestamp,value\n"
                + "2014-03-09 01:55:00,1\n"
                + "2014-03-09 01:55:00,2\n"
                + "2014-03-09 01:50:00,3\n"
                + "2014-03-09 02:00:00,4\n");
        SensorCsv.Result r = SensorCsv.read(f);
        assertEquals(List.of(1.0, 2.0, 3.0, 4.0), r.rows().stream().map(row -> row.values()[0]).toList());
        assertEquals(r.rows().get(0).ts(), r.rows().get(1).ts());
        assertTrue(r.rows().get(2).ts() < r.rows().get(1).ts());
    }

    @Test
    void byteOrderMarkAndWindowsLineEndingsAreTolerated() throws IOException {
        Path f = write("excel.csv", "\uFEFFtimestamp,value\r\n2020-01-01 00:00:00,1.5\r\n");
        SensorCsv.Result r = SensorCsv.read(f);
        assertEquals(List.of(), r.problems());
        assertArrayEquals(new double[] {1.5}, r.rows().get(0).values());
    }

    @Test
    void missingFileIsAConfigExceptionNamingTheFile() {
        Path missing = dir.resolve("nope.csv");
        ConfigException e = assertThrows(ConfigException.class, () -> SensorCsv.read(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test
    void singleColumnFileIsAConfigExceptionSayingWhatIsNeeded() throws IOException {
        Path f = write("one.csv", "value\n1\n2\n");
        ConfigException e = assertThrows(ConfigException.class, () -> SensorCsv.read(f));
        assertTrue(e.getMessage().contains("one.csv:1"), e.getMessage());
        assertTrue(e.getMessage().contains("timestamp"), e.getMessage());
    }

    @Test
    void emptyFileHasNoRowsAndNoProblems() throws IOException {
        SensorCsv.Result r = SensorCsv.read(write("empty.csv", ""));
        assertEquals(0, r.rows().size());
        assertEquals(0, r.skipped());
        assertEquals(0, r.channels());
    }
}
