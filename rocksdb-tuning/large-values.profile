# large-values: cold values of several KiB and more (documents, serialized blobs, big hashes).
#
# BlobDB keeps values of min_blob_size bytes or more in blob files; SSTs hold only keys and
# small pointers to them. Compaction then rewrites keys, not values, which cuts write
# amplification; blob garbage collection reclaims the space of deleted and rewritten values.
# Memory budget: 256 MiB block cache + 2 x 64 MiB memtables (+ 2 MiB for the meta family).

block_cache_size = 256 MiB
block_size = 4 KiB
bloom_bits_per_key = 10
cache_index_and_filter_blocks = true
pin_l0_filter_and_index_blocks_in_cache = true

write_buffer_size = 64 MiB
max_write_buffer_number = 2

# SSTs now hold keys and blob pointers; values in blob files are compressed on their own.
compression = lz4

max_background_jobs = 2
level0_file_num_compaction_trigger = 4
level0_slowdown_writes_trigger = 20
level0_stop_writes_trigger = 36
target_file_size_base = 64 MiB
optimize_filters_for_hits = true

enable_blob_files = true
min_blob_size = 4 KiB
blob_file_size = 256 MiB
blob_compression = lz4
# Relocate live values out of the oldest blob files when compaction passes over them.
enable_blob_garbage_collection = true
