package io.engram.tools.ingest;

import io.engram.engine.errors.BadInputException;
import io.engram.engine.errors.ConfigException;
import io.engram.engine.pipeline.anomaly.VectorReadingSerde;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a sensor CSV file into timestamped rows. Used by {@code engram ingest sensors} and
 * {@code engram nab}; stateless, every call reads the whole file (NAB files are at most a few
 * tens of thousands of rows, and callers need the total for progress and scoring windows).
 *
 * <p>Accepted layouts, comma-separated, one reading per line:
 * <ul>
 *   <li>NAB: {@code timestamp,value} with a header line and times like {@code 2015-07-10 14:24:00};
 *   <li>multi-column: {@code timestamp,c1,c2,...}, each row becoming {@code values = [c1, c2, ...]}.
 * </ul>
 * The header line is optional: the first line is taken as a header when its first field is not a
 * time. A time is epoch milliseconds (digits) or ISO-8601; a time without a zone is read as UTC,
 * like {@link VectorReadingSerde#parseTime(String)}. The number of columns is set by the header (or
 * the first row).
 *
 * <p>Rows are kept exactly in file order, repeated or backward timestamps included: NAB files
 * repeat times, and whether that matters is the consumer's decision, not the reader's. A bad row
 * (wrong number of columns, unparseable time or number, NaN/Infinity) is skipped and reported with
 * its {@code file:line}; it never fails the read. Blank lines are ignored.
 */
public final class SensorCsv {
    /** Skip reasons, a bounded set so that summaries can count them. */
    public static final String WRONG_COLUMN_COUNT = "wrong column count";
    public static final String BAD_TIMESTAMP = "bad timestamp";
    public static final String BAD_NUMBER = "bad number";
    public static final String NON_FINITE_NUMBER = "non-finite number";

    private SensorCsv() {}

    /**
     * One reading.
     *
     * @param line 1-based line number in the file
     * @param ts event time, epoch ms
     * @param values one finite value per value column, in column order
     * @param timestampText the time exactly as written in the file (trimmed), for reports
     */
    public record Row(int line, long ts, double[] values, String timestampText) {}

    /**
     * What a read produced.
     *
     * @param rows the good rows, in file order
     * @param problems one message per skipped row, {@code "file:line: reason: detail"}, in file order
     * @param skippedByReason number of skipped rows per reason ({@link #BAD_NUMBER} etc.), in first-seen order
     * @param header the header line's names, the time column's first; empty when the file has no header
     */
    public record Result(List<Row> rows, List<String> problems, Map<String, Integer> skippedByReason, List<String> header) {
        public Result {
            rows = Collections.unmodifiableList(rows);
            problems = Collections.unmodifiableList(problems);
            skippedByReason = Collections.unmodifiableMap(skippedByReason);
            header = List.copyOf(header);
        }

        /** The value columns' names: the header's, or {@code c1..cN} without a header. */
        public List<String> valueNames() {
            List<String> out = new ArrayList<>();
            for (int i = 1; i <= channels(); i++) {
                out.add(header.size() == channels() + 1 ? header.get(i) : "c" + i);
            }
            return out;
        }

        /** The number of value columns of the rows (0 when there are none). */
        public int channels() {
            return rows.isEmpty() ? 0 : rows.get(0).values().length;
        }

        /** Total skipped rows. */
        public int skipped() {
            return problems.size();
        }

        /** e.g. {@code "2 bad number, 1 wrong column count"}, or {@code ""} when nothing was skipped. */
        public String skippedSummary() {
            StringBuilder sb = new StringBuilder();
            skippedByReason.forEach((reason, n) -> sb.append(sb.length() == 0 ? "" : ", ").append(n).append(' ').append(reason));
            return sb.toString();
        }
    }

    /**
     * Reads {@code file}.
     *
     * @throws ConfigException when the file is missing, unreadable, not UTF-8, or has fewer than two
     *     columns (a time and at least one value)
     */
    public static Result read(Path file) {
        if (!Files.exists(file)) {
            throw new ConfigException("CSV file " + file + " does not exist; check the path");
        }
        if (!Files.isRegularFile(file)) {
            throw new ConfigException("CSV file " + file + " is not a regular file; give the path of a .csv file");
        }
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return parse(in, file.getFileName().toString());
        } catch (NoSuchFileException e) {
            throw new ConfigException("CSV file " + file + " does not exist; check the path", e);
        } catch (CharacterCodingException e) {
            throw new ConfigException("CSV file " + file + " is not UTF-8 text; convert it (e.g. iconv -t UTF-8)", e);
        } catch (IOException e) {
            throw new ConfigException("cannot read CSV file " + file + ": " + e.getMessage() + "; check its permissions", e);
        }
    }

    /**
     * Parses CSV text; {@code name} prefixes problem messages (usually the file name).
     *
     * @throws ConfigException when the header or first row has fewer than two columns
     */
    public static Result parse(BufferedReader in, String name) throws IOException {
        List<Row> rows = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        Map<String, Integer> byReason = new LinkedHashMap<>();
        int columns = -1;
        List<String> header = List.of();
        int lineNo = 0;
        String line;
        while ((line = in.readLine()) != null) {
            lineNo++;
            if (lineNo == 1 && !line.isEmpty() && line.charAt(0) == '\uFEFF') {
                line = line.substring(1); // a byte-order mark, as spreadsheet exports write
            }
            if (line.isBlank()) {
                continue;
            }
            String[] fields = split(line);
            if (columns < 0) {
                columns = fields.length;
                if (columns < 2) {
                    throw new ConfigException(name + ":" + lineNo + ": found " + columns
                            + " column; a sensor CSV needs a timestamp column and at least one value column (timestamp,value[,...])");
                }
                if (!isTime(fields[0])) {
                    header = List.of(fields);
                    continue; // header line: names only
                }
            }
            String where = name + ":" + lineNo + ": ";
            if (fields.length != columns) {
                skip(problems, byReason, where, WRONG_COLUMN_COUNT, fields.length + " columns, expected " + columns);
                continue;
            }
            long ts;
            try {
                ts = parseTime(fields[0]);
            } catch (BadInputException | NumberFormatException e) {
                skip(problems, byReason, where, BAD_TIMESTAMP, "'" + fields[0] + "' is not epoch ms or ISO-8601");
                continue;
            }
            double[] values = new double[columns - 1];
            String reason = null;
            String detail = null;
            for (int i = 1; i < columns && reason == null; i++) {
                try {
                    values[i - 1] = Double.parseDouble(fields[i]);
                    if (!Double.isFinite(values[i - 1])) {
                        reason = NON_FINITE_NUMBER;
                        detail = "'" + fields[i] + "' in column " + (i + 1);
                    }
                } catch (NumberFormatException e) {
                    reason = BAD_NUMBER;
                    detail = "'" + fields[i] + "' in column " + (i + 1);
                }
            }
            if (reason != null) {
                skip(problems, byReason, where, reason, detail);
                continue;
            }
            rows.add(new Row(lineNo, ts, values, fields[0]));
        }
        return new Result(rows, problems, byReason, header);
    }

    private static void skip(List<String> problems, Map<String, Integer> byReason, String where, String reason, String detail) {
        problems.add(where + reason + ": " + detail);
        byReason.merge(reason, 1, Integer::sum);
    }

    /** Splits on commas, trimming fields and one pair of surrounding double quotes (no embedded commas). */
    private static String[] split(String line) {
        String[] f = line.split(",", -1);
        for (int i = 0; i < f.length; i++) {
            String s = f[i].trim();
            if (s.length() >= 2 && s.charAt(0) == '"' && s.charAt(s.length() - 1) == '"') {
                s = s.substring(1, s.length() - 1).trim();
            }
            f[i] = s;
        }
        return f;
    }

    private static boolean isTime(String s) {
        try {
            parseTime(s);
            return true;
        } catch (BadInputException | NumberFormatException e) {
            return false;
        }
    }

    /** Epoch ms when all digits (an optional leading minus), else ISO-8601 via the reading serde. */
    static long parseTime(String s) {
        if (!s.isEmpty() && s.chars().skip(s.charAt(0) == '-' ? 1 : 0).allMatch(Character::isDigit) && !s.equals("-")) {
            return Long.parseLong(s);
        }
        return VectorReadingSerde.parseTime(s);
    }
}
