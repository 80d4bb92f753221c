# low-memory: a small machine, or many servers on one host.
#
# The same shape as default (point lookups, bloom filters, leveled compaction), with a small
# cache and small memtables. Gets miss the cache more often and go to the disk; flushes are
# more frequent and produce more, smaller level-0 files.
# Memory budget: 32 MiB block cache + 2 x 16 MiB memtables (+ 2 MiB for the meta family).

block_cache_size = 32 MiB
block_size = 4 KiB
bloom_bits_per_key = 10
cache_index_and_filter_blocks = true
pin_l0_filter_and_index_blocks_in_cache = true

write_buffer_size = 16 MiB
max_write_buffer_number = 2

compression = lz4

max_background_jobs = 2
level0_file_num_compaction_trigger = 4
level0_slowdown_writes_trigger = 20
level0_stop_writes_trigger = 36
# Smaller memtables flush smaller files; keep SST files in proportion.
target_file_size_base = 16 MiB

# Every get of a cold value finds its key, so the last level (most of the data, and most of
# the filter memory) needs no bloom filter.
optimize_filters_for_hits = true
