package io.engram.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;

/** The config setter gives a store the shared cache and the memtable bounds, on real RocksDB options. */
class BoundedRocksDbTest {
    @Test
    void aStoreGetsTheSharedCacheAndBoundedMemtables() {
        RocksDB.loadLibrary();
        try (Options options = new Options()) {
            options.setTableFormatConfig(new BlockBasedTableConfig());
            new BoundedRocksDb().setConfig("store", options, Map.of(BoundedRocksDb.MEMORY_MB, 16L));
            BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
            assertTrue(table.cacheIndexAndFilterBlocks(), "index and filter blocks count against the cache");
            assertEquals(2, options.maxWriteBufferNumber());
            assertTrue(BoundedRocksDb.boundMb() > 0, "the shared cache is sized once per process");
            assertTrue(options.writeBufferSize() <= Math.max(1L << 20, BoundedRocksDb.boundMb() * 1024 * 1024 / 4),
                    "memtables within the write-buffer manager's share: " + options.writeBufferSize());
        }
    }
}
