package io.engram.engine.kafka;

import io.engram.engine.errors.ConfigException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Kafka client properties given by the user, for every client a command makes (admin clients
 * included): a {@code --command-config} file (Java properties, as Kafka's own tools take), {@code -X
 * key=value}, a pipeline's {@code kafka:} section. Values may name environment variables as
 * {@code ${NAME}}, so that secrets stay out of files and argv. Stateless.
 */
public final class KafkaProperties {
    private static final Pattern VAR = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");
    /**
     * Keys whose values are never printed, whatever their prefix ({@code producer.}, {@code
     * schema.registry.}, ...): passwords and pass phrases, JAAS configurations, secrets, tokens,
     * credentials (e.g. {@code sasl.oauthbearer.client.credentials.client.secret}), user info
     * ({@code basic.auth.user.info}, as {@code user:password}), API keys and private keys (PEM, as
     * {@code ssl.keystore.key}).
     */
    private static final Pattern SECRET = Pattern.compile(
            ".*(password|passphrase|passwd|secret|jaas|token|credential|user\\.?info|api\\.?key|\\.key$|keystore\\.key|private).*");
    /** A value that carries a login whatever its key: a JAAS configuration ({@code ... password="..."}). */
    private static final Pattern SECRET_VALUE = Pattern.compile("(?is).*(loginmodule|password\\s*=).*");
    /**
     * The user info of a URL: {@code scheme://user:password@} up to the last {@code @} before the
     * host's end (a password may hold an unencoded {@code @}), in a value or any text; the scheme may
     * be a Kafka listener's name ({@code SASL_SSL://}).
     */
    private static final Pattern URL_USER_INFO = Pattern.compile("(?i)\\b([a-z][a-z0-9+._-]*://)[^/?#\\s]*@");
    public static final String MASK = "[hidden]";

    private KafkaProperties() {}

    /**
     * Reads a properties file and substitutes {@code ${NAME}} from {@code env}.
     *
     * @throws ConfigException naming the file when it cannot be read or names an unset variable
     */
    public static Map<String, String> load(Path file, Function<String, String> env) {
        // Properties.load keeps the last of two lines with one key without a word: refuse that, as for pipeline files.
        java.util.Set<String> twice = new java.util.TreeSet<>();
        Properties p = new Properties() {
            @Override
            public synchronized Object put(Object key, Object value) {
                Object before = super.put(key, value);
                if (before != null) {
                    twice.add(String.valueOf(key));
                }
                return before;
            }
        };
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new ConfigException("cannot read the client settings file " + file + ": " + e.getMessage()
                    + ". Fix: give --command-config a readable Java properties file (key=value lines)", e);
        }
        if (!twice.isEmpty()) {
            throw new ConfigException("the client settings file " + file + " gives " + (twice.size() == 1 ? "the key '" : "the keys '")
                    + String.join("', '", twice) + "' twice; Java properties would silently take the last value."
                    + " Fix: keep one line for each key");
        }
        Map<String, String> out = new TreeMap<>();
        for (String k : p.stringPropertyNames()) {
            out.put(k.trim(), substitute(p.getProperty(k).trim(), env, file + ": " + k));
        }
        return out;
    }

    /**
     * {@code value} with each {@code ${NAME}} replaced by the variable's value.
     *
     * @param where the file and key, for the error when a variable is not set
     */
    public static String substitute(String value, Function<String, String> env, String where) {
        Matcher m = VAR.matcher(value);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            String v = env.apply(m.group(1));
            if (v == null) {
                throw new ConfigException(where + " names the environment variable " + m.group(1) + ", which is not set."
                        + " Fix: export " + m.group(1) + " before starting engram");
            }
            m.appendReplacement(b, Matcher.quoteReplacement(v));
        }
        m.appendTail(b);
        return b.toString();
    }

    /** Whether a key's value is a secret (never printed). */
    public static boolean isSecret(String key) {
        return SECRET.matcher(key.toLowerCase(Locale.ROOT)).matches();
    }

    /**
     * The one masking rule for a setting, wherever Engram prints, logs or reports one: {@value #MASK}
     * for a secret's key ({@link #isSecret}) or a value that holds a login (a JAAS configuration);
     * otherwise the value with the user info of every URL in it hidden ({@link #redactUrls}).
     */
    public static String mask(String key, String value) {
        if (value == null) {
            return null;
        }
        if (isSecret(key) || SECRET_VALUE.matcher(value).matches()) {
            return MASK;
        }
        return redactUrls(value);
    }

    /**
     * {@code text} with the user info of every URL in it replaced by {@code ***}: {@code
     * http://user:secret@registry:8081} becomes {@code http://***@registry:8081}, {@code
     * rtsp://admin:pw@cam/stream} {@code rtsp://***@cam/stream}. For settings, camera sources and
     * the errors that quote them.
     */
    public static String redactUrls(String text) {
        return text == null ? null : URL_USER_INFO.matcher(text).replaceAll("$1***@");
    }

    /** The properties with every value {@link #mask}ed, sorted by key. */
    public static Map<String, String> masked(Map<String, String> props) {
        Map<String, String> out = new TreeMap<>();
        props.forEach((k, v) -> out.put(k, mask(k, v)));
        return out;
    }

    /**
     * When {@code e} or a cause is a refused login (wrong password, unknown user, a TLS handshake
     * that failed), the one-line error that says so; null otherwise. KafkaClients would retry an
     * unreachable broker, but a refused login fails at once, so commands stop at once with this.
     */
    public static ConfigException authenticationFailed(String bootstrap, Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof org.apache.kafka.common.errors.AuthenticationException) {
                return new ConfigException("authentication failed at " + bootstrap + ": " + t.getMessage()
                        + ". Fix: check the credentials and TLS settings (--command-config, -X, or the pipeline's kafka: section)", e);
            }
        }
        return null;
    }
}
