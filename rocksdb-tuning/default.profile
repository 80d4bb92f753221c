# default: point lookups of cold values on an SSD.
#
# Cold values are read one at a time by key (and in small multi-gets), never scanned, so
# every knob here is chosen for a get that finds its key in one data block read.
# Memory budget: 256 MiB block cache + 2 x 64 MiB memtables (+ 2 MiB for the meta family).

# Shared LRU cache of uncompressed data blocks, plus index and filter blocks (see below).
block_cache_size = 256 MiB
# 4 KiB blocks: a point get reads one block; bigger blocks would read more bytes per get.
block_size = 4 KiB
# A bloom filter lets a get skip every SST file that cannot hold the key: ~1% false positives.
bloom_bits_per_key = 10
# Index and filter blocks count against the block cache, so the budget above is a real bound.
cache_index_and_filter_blocks = true
# ...but level-0 ones, which every get consults, are never evicted.
pin_l0_filter_and_index_blocks_in_cache = true

# Two 64 MiB memtables: one taking writes while the other flushes.
write_buffer_size = 64 MiB
max_write_buffer_number = 2

# lz4 costs little CPU on a read and usually shrinks values that zstd dictionaries left alone.
compression = lz4

# Leveled compaction (RocksDB's default style) keeps read amplification low.
max_background_jobs = 2
level0_file_num_compaction_trigger = 4
level0_slowdown_writes_trigger = 20
level0_stop_writes_trigger = 36
target_file_size_base = 64 MiB

# A load always finds its key (the key is in RAM only because its value is here), and a key
# found nowhere above is on the last level, so last-level filters would only cost memory.
optimize_filters_for_hits = true
