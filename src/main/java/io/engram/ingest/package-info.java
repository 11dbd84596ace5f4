/**
 * Getting records into and out of Kafka from the command line: {@link io.engram.ingest.SensorCsv}
 * reads sensor CSV files (also used by {@code engram nab}), {@link io.engram.ingest.SensorReplay}
 * sends them as readings ({@code engram ingest sensors}), {@link io.engram.ingest.TopicTail} prints
 * a topic as JSON lines ({@code engram tail}), and {@link io.engram.ingest.KafkaAccess} turns a
 * missing topic or an unreachable broker into one clear {@link io.engram.errors.ConfigException}.
 * The CLI commands only wire options to these classes; the tests call them directly.
 */
package io.engram.ingest;
