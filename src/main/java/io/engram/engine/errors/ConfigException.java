package io.engram.engine.errors;

/**
 * A startup problem a user can fix: a missing or bad file, a wrong setting. The message names the
 * file (or setting) and the fix; the CLI prints it without a stack trace and exits non-zero.
 */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * A YAML/JSON parser's error as one line: what it found and where, e.g. {@code while parsing a flow
     * sequence: expected ',' or ']', but got : (line 4, column 13)}. The parsers' own messages spread
     * this over several lines with excerpts of the file.
     */
    public static String syntaxError(java.io.IOException e) {
        String text = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        StringBuilder what = new StringBuilder();
        for (String line : String.valueOf(text).split("\\R")) {
            // Keep the statements; drop the parser's "in 'reader', line ..." marks and file excerpts (indented).
            if (!line.isBlank() && !Character.isWhitespace(line.charAt(0))) {
                what.append(what.length() > 0 ? ": " : "").append(line.strip());
            }
        }
        if (e instanceof com.fasterxml.jackson.core.JsonProcessingException j && j.getLocation() != null
                && j.getLocation().getLineNr() > 0) {
            what.append(" (line ").append(j.getLocation().getLineNr()).append(", column ").append(j.getLocation().getColumnNr()).append(')');
        }
        return what.toString();
    }

    /**
     * When {@code e} is a parser's refusal of a key given twice (a parser built with
     * {@code STRICT_DUPLICATE_DETECTION}): the key in full, dotted (e.g. {@code kafka.security.protocol});
     * null for any other error. YAML parsers otherwise keep the last value without a word.
     */
    public static String duplicateKey(java.io.IOException e) {
        if (!(e instanceof com.fasterxml.jackson.core.exc.StreamReadException s) || s.getOriginalMessage() == null
                || !s.getOriginalMessage().startsWith("Duplicate field '") || s.getProcessor() == null) {
            return null;
        }
        java.util.Deque<String> parts = new java.util.ArrayDeque<>();
        for (var c = s.getProcessor().getParsingContext(); c != null && !c.inRoot(); c = c.getParent()) {
            parts.addFirst(c.inArray() ? "[" + c.getCurrentIndex() + "]" : c.getCurrentName());
        }
        return String.join(".", parts).replace(".[", "[");
    }

    /** The message for {@code key} given twice ({@link #duplicateKey}): {@code 'key' is given twice (the second at line N)}. */
    public static String givenTwice(String key, java.io.IOException e) {
        return "'" + key + "' is given twice" + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j && j.getLocation() != null
                && j.getLocation().getLineNr() > 0 ? " (the second at line " + j.getLocation().getLineNr() + ")" : "");
    }
}
