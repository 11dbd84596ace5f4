package io.engram.errors;

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
}
