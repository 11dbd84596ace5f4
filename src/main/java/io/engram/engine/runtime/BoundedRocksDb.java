package io.engram.engine.runtime;

import java.util.Map;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.WriteBufferManager;

/**
 * Bounds RocksDB's off-heap memory for every state store of the process together
 * ({@code state.memory_mb}): one shared LRU block cache, with the memtables counted against it by a
 * write-buffer manager, and index and filter blocks in the cache too. Without it each store of each
 * task takes its own 50 MB block cache and up to 3 x 16 MB of memtables (about 100 MB per task),
 * so memory grew with partitions.
 *
 * <p>Kafka Streams makes one instance per store; the cache and manager are shared, made on first
 * use with the first pipeline's size, and live as long as the process (they are never closed by a
 * store, since every store uses them).
 */
public final class BoundedRocksDb implements RocksDBConfigSetter {
    /** The Kafka Streams config key that carries {@code state.memory_mb} to the setter. */
    public static final String MEMORY_MB = "engram.rocksdb.memory.mb";
    /** Share of the memory for memtables (the rest caches blocks). */
    static final double MEMTABLE_SHARE = 0.25;

    private static Cache cache;
    private static WriteBufferManager writeBuffers;
    private static long sizedMb;

    private static synchronized void init(long mb) {
        if (cache == null) {
            long bytes = mb * 1024 * 1024;
            // High-priority pool for index and filter blocks, so that data blocks cannot evict them.
            cache = new LRUCache(bytes, -1, false, 0.1);
            writeBuffers = new WriteBufferManager((long) (bytes * MEMTABLE_SHARE), cache);
            sizedMb = mb;
        }
    }

    /** The bound in force in this process (MB), 0 before the first store opened. */
    public static synchronized long boundMb() {
        return sizedMb;
    }

    @Override
    public void setConfig(String storeName, Options options, Map<String, Object> configs) {
        Object mb = configs.get(MEMORY_MB);
        init(mb == null ? io.engram.engine.config.StatePolicy.DEFAULT_MEMORY_MB : Long.parseLong(mb.toString()));
        BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
        table.setBlockCache(cache);
        table.setCacheIndexAndFilterBlocks(true);
        table.setCacheIndexAndFilterBlocksWithHighPriority(true);
        table.setPinTopLevelIndexAndFilter(true);
        options.setWriteBufferManager(writeBuffers);
        options.setMaxWriteBufferNumber(2);
        options.setWriteBufferSize(Math.max(1L << 20, (long) (sizedMb * 1024 * 1024 * MEMTABLE_SHARE / 4)));
        options.setTableFormatConfig(table);
    }

    @Override
    public void close(String storeName, Options options) {
        // The cache and the write-buffer manager are shared by every store: not closed here.
    }
}
