package io.engram.testkit;

import org.apache.kafka.common.header.Header;

/**
 * A record a fuzz run sends, and what the pipeline must do with it: a good record is stepped (and
 * gives its prediction); a bad one gives exactly one dead letter with {@link #reason}. Where it
 * landed ({@link #partition}, {@link #offset}) is filled in when it is sent ({@link FuzzRun}).
 */
public final class FuzzRecord {
    /** What the record is, for failure messages (e.g. "bit flips in image/png"). */
    public final String what;
    public final String topic;
    public final byte[] key;
    public final byte[] value;
    public final Header[] headers;
    public final long timestamp;
    /** The dead-letter reason it must get; null for a good record. */
    public final String reason;
    /** For a good record: the stream (camera) id of its prediction. */
    public final String stream;
    /** For a bad record: the topic its dead letter names (e.g. the features topic for a frame that the second stage refuses). */
    public final String deadLetterTopic;
    /** For a good record: its frame or step number, when the pipeline's checks need it; -1 otherwise. */
    public long frame = -1;
    public int partition = -1;
    public long offset = -1;

    public FuzzRecord(String what, String topic, byte[] key, byte[] value, Header[] headers, long timestamp, String reason, String stream,
            String deadLetterTopic) {
        this.what = what;
        this.topic = topic;
        this.key = key;
        this.value = value;
        this.headers = headers;
        this.timestamp = timestamp;
        this.reason = reason;
        this.stream = stream;
        this.deadLetterTopic = deadLetterTopic;
    }

    public boolean good() {
        return reason == null;
    }

    /** The record for a failure message: what it is, where it landed, its key and value abbreviated. */
    public String describe() {
        return what + " (" + topic + "-" + partition + "@" + offset + ", key " + Bytes.abbreviate(key) + ", value "
                + Bytes.abbreviate(value) + ")";
    }
}
