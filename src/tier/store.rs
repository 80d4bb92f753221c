//! The RocksDB side of the cold tier: opening the database from a tuning profile, the key
//! layout, reads, ordered batched writes and the statistics INFO reports.
//!
//! This is the only module that imports `rocksdb`. The database has four column families:
//! `default` holds the data records under [`data_key`]s, `index` holds one small entry per
//! record under the same key (the key's version, TTL and type: what a restart rebuilds the
//! keyspace from without reading a value), `elements` holds the elements of split collections
//! (one entry per element under [`element_prefix`] + the element's name, so that one element
//! is read or rewritten alone, and a range tombstone over the prefix deletes them all), and
//! `meta` holds metadata (the format version, zstd dictionaries, the last checkpoint). A
//! record, its index entry and its elements are always written and deleted in one batch. Data
//! writes skip RocksDB's WAL because durability is the binlog's job; the data, index and
//! elements families are flushed together (`atomic_flush`), so whatever survives a crash is
//! the same prefix of the batches in all of them. Metadata writes are rare and go through the
//! WAL with a sync. Tuning lives in profiles (`rocksdb-tuning/*.profile`, format in
//! [`Profile::parse`] and `rocksdb-tuning/README.md`).

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use rocksdb::statistics::{Histogram, Ticker};
use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamily, ColumnFamilyDescriptor, DBCompressionType, Options,
    WriteBatch, WriteOptions, DB,
};

/// The version of the on-disk layout (key layout, record header, metadata keys). A data
/// directory written with another version is refused at open.
pub const DISK_FORMAT_VERSION: u32 = 3;

/// The `meta` key holding the directory's [`DISK_FORMAT_VERSION`], a u32 big-endian.
pub const FORMAT_VERSION_KEY: &[u8] = b"format-version";

/// The column family of the data records (RocksDB's own default one).
const DATA_CF: &str = "default";
/// The column family of the index entries (one per data record, under the same key).
const INDEX_CF: &str = "index";
/// The column family of split collections' elements.
const ELEMENTS_CF: &str = "elements";
/// The column family of the metadata.
const META_CF: &str = "meta";
/// The `meta` column family holds a few small values: a small memtable, whatever the profile.
const META_WRITE_BUFFER_SIZE: u64 = 1 << 20;
/// RocksDB never keeps fewer than two memtables per column family.
const META_MAX_WRITE_BUFFER_NUMBER: u64 = 2;
/// Index entries are about 40 bytes a record: a memtable of this size holds ~200,000 of them.
const INDEX_WRITE_BUFFER_SIZE: u64 = 8 << 20;
/// Split collections' elements: only big collections have them, so a smaller memtable than the
/// data family's.
const ELEMENTS_WRITE_BUFFER_SIZE: u64 = 16 << 20;

/// The profiles shipped in `rocksdb-tuning/`, by name, built into the binary so that the server
/// finds them from any working directory.
pub const SHIPPED_PROFILES: &[(&str, &str)] = &[
    (
        "default",
        include_str!("../../rocksdb-tuning/default.profile"),
    ),
    (
        "low-memory",
        include_str!("../../rocksdb-tuning/low-memory.profile"),
    ),
    (
        "large-values",
        include_str!("../../rocksdb-tuning/large-values.profile"),
    ),
];

/// Metadata entries [`Store::reset`] deletes with the records they describe.
const RESET_META: &[&[u8]] = &[CHECKPOINT_KEY, CLEAN_SHUTDOWN_KEY];

/// The `meta` key holding the last checkpoint (`tier::checkpoint`).
pub const CHECKPOINT_KEY: &[u8] = b"checkpoint";
/// The `meta` key present while the store holds everything a clean shutdown left (cache mode).
pub const CLEAN_SHUTDOWN_KEY: &[u8] = b"clean-shutdown";

/// A metadata entry: its name and value.
pub type MetaEntry = (Vec<u8>, Vec<u8>);

/// One record to write: its [`data_key`], the record (None: the index entry alone changes, the
/// record RocksDB holds stays), its index entry, and what changes among its elements.
#[derive(Debug, Clone)]
pub struct Put {
    pub key: Vec<u8>,
    pub record: Option<Vec<u8>>,
    pub index: Vec<u8>,
    pub elements: ElementWrites,
}

/// The element writes of one [`Put`], applied before its record: first every element of the
/// key is deleted (`clear`: a range tombstone over its [`element_prefix`]), then `delete`, then
/// `put` (element name, payload).
#[derive(Debug, Clone, Default)]
pub struct ElementWrites {
    pub clear: bool,
    pub delete: Vec<Vec<u8>>,
    pub put: Vec<(Vec<u8>, Vec<u8>)>,
}

impl ElementWrites {
    /// Bytes the writes carry (for batch sizing).
    pub fn bytes(&self) -> usize {
        self.delete.iter().map(Vec::len).sum::<usize>()
            + self
                .put
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
    }
}

/// A record read with its elements (name, payload), in name order (see [`Store::get_split`]).
pub type WithElements = (Vec<u8>, Vec<(bytes::Bytes, bytes::Bytes)>);

/// A record read with the payloads of some of its elements, in the order asked (None: no such
/// element; see [`Store::get_elements`]).
pub type WithSomeElements = (Vec<u8>, Vec<Option<Vec<u8>>>);

/// One record to delete, with its index entry, by [`data_key`]; `elements`: the record is split,
/// so its elements go too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delete {
    pub key: Vec<u8>,
    pub elements: bool,
}

/// What went wrong talking to RocksDB, with its cause as text (it becomes an `-ERR` reply or a
/// log line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

/// A RocksDB error as a [`StoreError`] saying what was being done.
fn rocks(doing: &str, e: rocksdb::Error) -> StoreError {
    StoreError(format!("RocksDB {doing}: {e}"))
}

/// The RocksDB key of `key` in database `db`: db (u16 big-endian), slot (u16 big-endian), then
/// the key's bytes, so that one slot of one database is one contiguous key range. `db` is the
/// database's on-disk number (`keyspace::Shard::disk_dbs`), which SWAPDB swaps.
pub fn data_key(db: u16, slot: u16, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(4 + key.len());
    k.extend_from_slice(&db.to_be_bytes());
    k.extend_from_slice(&slot.to_be_bytes());
    k.extend_from_slice(key);
    k
}

/// Where the elements of the key whose [`data_key`] is `data_key` start in the `elements`
/// family: its db and slot, the key's length (u32 big-endian, so that no key's elements fall
/// among another's), the key. An element's entry is this prefix followed by its name.
pub fn element_prefix(data_key: &[u8]) -> Vec<u8> {
    let (head, key) = data_key.split_at(4.min(data_key.len()));
    let mut p = Vec::with_capacity(8 + key.len());
    p.extend_from_slice(head);
    p.extend_from_slice(&(key.len() as u32).to_be_bytes());
    p.extend_from_slice(key);
    p
}

/// The first key after every key that starts with `prefix` (None: there is none, the prefix is
/// all 0xff bytes).
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last != 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// The key range `[from, to)` holding slots `first..=last` of database `db` (in the data and
/// index families, and in the elements family, whose keys start the same way).
pub fn slot_range(db: u16, first: u16, last: u16) -> (Vec<u8>, Vec<u8>) {
    let from = data_key(db, first, b"");
    let to = if last == u16::MAX {
        data_key(db + 1, 0, b"")
    } else {
        data_key(db, last + 1, b"")
    };
    (from, to)
}

/// Compression of SST blocks (and of blob files), as a profile names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Lz4,
    Zstd,
}

impl Compression {
    fn rocksdb(self) -> DBCompressionType {
        match self {
            Compression::None => DBCompressionType::None,
            Compression::Lz4 => DBCompressionType::Lz4,
            Compression::Zstd => DBCompressionType::Zstd,
        }
    }
}

/// The RocksDB options a tuning profile sets. A key a profile leaves out keeps the value of
/// [`Profile::default`], which is RocksDB's own default for that option (except compression:
/// RocksDB's default, snappy, is not built in, so the default here is `none`).
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// Capacity of the shared LRU block cache, bytes.
    pub block_cache_size: u64,
    /// Uncompressed size of an SST data block, bytes.
    pub block_size: u64,
    /// Bloom filter bits per key; 0 means no filter.
    pub bloom_bits_per_key: f64,
    /// Index and filter blocks live in (and are charged to) the block cache.
    pub cache_index_and_filter_blocks: bool,
    /// Level-0 index and filter blocks stay pinned in the block cache.
    pub pin_l0_filter_and_index_blocks_in_cache: bool,
    /// Size of one memtable, bytes.
    pub write_buffer_size: u64,
    /// Memtables (active and waiting for flush) per column family; at least 2.
    pub max_write_buffer_number: u64,
    pub compression: Compression,
    pub max_background_jobs: u64,
    pub level0_file_num_compaction_trigger: u64,
    pub level0_slowdown_writes_trigger: u64,
    pub level0_stop_writes_trigger: u64,
    pub target_file_size_base: u64,
    /// No filter on the last level: saves memory when most gets find their key.
    pub optimize_filters_for_hits: bool,
    /// BlobDB: values of at least `min_blob_size` bytes go to blob files, not SSTs.
    pub enable_blob_files: bool,
    pub min_blob_size: u64,
    pub blob_file_size: u64,
    pub blob_compression: Compression,
    pub enable_blob_garbage_collection: bool,
}

impl Default for Profile {
    fn default() -> Profile {
        Profile {
            block_cache_size: 32 << 20,
            block_size: 4 << 10,
            bloom_bits_per_key: 0.0,
            cache_index_and_filter_blocks: false,
            pin_l0_filter_and_index_blocks_in_cache: false,
            write_buffer_size: 64 << 20,
            max_write_buffer_number: 2,
            compression: Compression::None,
            max_background_jobs: 2,
            level0_file_num_compaction_trigger: 4,
            level0_slowdown_writes_trigger: 20,
            level0_stop_writes_trigger: 36,
            target_file_size_base: 64 << 20,
            optimize_filters_for_hits: false,
            enable_blob_files: false,
            min_blob_size: 0,
            blob_file_size: 256 << 20,
            blob_compression: Compression::None,
            enable_blob_garbage_collection: false,
        }
    }
}

impl Profile {
    /// The profile `profile` names: a shipped one by name ([`SHIPPED_PROFILES`]) or else a path
    /// to a profile file.
    pub fn load(profile: &str) -> Result<Profile, StoreError> {
        if let Some((name, text)) = SHIPPED_PROFILES.iter().find(|(name, _)| *name == profile) {
            return Profile::parse(text, &format!("rocksdb-tuning/{name}.profile (built in)"));
        }
        let text = std::fs::read_to_string(profile).map_err(|e| {
            let names: Vec<&str> = SHIPPED_PROFILES.iter().map(|(name, _)| *name).collect();
            StoreError(format!(
                "cannot read RocksDB profile file {profile}: {e} (the built-in profiles are {})",
                names.join(", ")
            ))
        })?;
        Profile::parse(&text, profile)
    }

    /// Parses a profile: one `key = value` per line; blank lines and lines starting with `#`
    /// are ignored, as is anything after a `#` on a line. Sizes are a number of bytes, or a
    /// number followed by `KiB`, `MiB` or `GiB`; booleans are `true` or `false`; compression is
    /// `none`, `lz4` or `zstd`. `origin` names the file in errors, which also give the line and
    /// the key.
    pub fn parse(text: &str, origin: &str) -> Result<Profile, StoreError> {
        let mut p = Profile::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let at = |msg: String| StoreError(format!("{origin} line {}: {msg}", i + 1));
            let Some((key, value)) = line.split_once('=') else {
                return Err(at(format!("expected `key = value`, got `{line}`")));
            };
            let (key, value) = (key.trim(), value.trim());
            let bad = |what: &str| at(format!("{key}: `{value}` is not {what}"));
            let size = || parse_size(value).ok_or_else(|| bad(SIZE_SYNTAX));
            let count = || value.parse::<u64>().map_err(|_| bad("a whole number"));
            let flag = || match value {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(bad("true or false")),
            };
            let compression = || match value {
                "none" => Ok(Compression::None),
                "lz4" => Ok(Compression::Lz4),
                "zstd" => Ok(Compression::Zstd),
                _ => Err(bad("none, lz4 or zstd")),
            };
            match key {
                "block_cache_size" => p.block_cache_size = size()?,
                "block_size" => p.block_size = size()?,
                "bloom_bits_per_key" => {
                    p.bloom_bits_per_key = value
                        .parse::<f64>()
                        .ok()
                        .filter(|b| b.is_finite() && *b >= 0.0)
                        .ok_or_else(|| bad("a number of bits, 0 or more"))?
                }
                "cache_index_and_filter_blocks" => p.cache_index_and_filter_blocks = flag()?,
                "pin_l0_filter_and_index_blocks_in_cache" => {
                    p.pin_l0_filter_and_index_blocks_in_cache = flag()?
                }
                "write_buffer_size" => p.write_buffer_size = size()?,
                "max_write_buffer_number" => {
                    p.max_write_buffer_number = count().and_then(|n| {
                        if n >= 2 {
                            Ok(n)
                        } else {
                            Err(bad("2 or more (RocksDB keeps at least two memtables)"))
                        }
                    })?
                }
                "compression" => p.compression = compression()?,
                "max_background_jobs" => p.max_background_jobs = count()?,
                "level0_file_num_compaction_trigger" => {
                    p.level0_file_num_compaction_trigger = count()?
                }
                "level0_slowdown_writes_trigger" => p.level0_slowdown_writes_trigger = count()?,
                "level0_stop_writes_trigger" => p.level0_stop_writes_trigger = count()?,
                "target_file_size_base" => p.target_file_size_base = size()?,
                "optimize_filters_for_hits" => p.optimize_filters_for_hits = flag()?,
                "enable_blob_files" => p.enable_blob_files = flag()?,
                "min_blob_size" => p.min_blob_size = size()?,
                "blob_file_size" => p.blob_file_size = size()?,
                "blob_compression" => p.blob_compression = compression()?,
                "enable_blob_garbage_collection" => p.enable_blob_garbage_collection = flag()?,
                _ => return Err(at(format!("unknown key `{key}`"))),
            }
        }
        // RocksDB takes the counts as C ints and block sizes as size_t: refuse what would wrap.
        for (key, n) in [
            ("max_write_buffer_number", p.max_write_buffer_number),
            ("max_background_jobs", p.max_background_jobs),
            (
                "level0_file_num_compaction_trigger",
                p.level0_file_num_compaction_trigger,
            ),
            (
                "level0_slowdown_writes_trigger",
                p.level0_slowdown_writes_trigger,
            ),
            ("level0_stop_writes_trigger", p.level0_stop_writes_trigger),
        ] {
            if n > i32::MAX as u64 {
                return Err(StoreError(format!("{origin}: {key} {n} is too large")));
            }
        }
        for (key, n) in [
            ("block_cache_size", p.block_cache_size),
            ("block_size", p.block_size),
            ("write_buffer_size", p.write_buffer_size),
        ] {
            if usize::try_from(n).is_err() {
                return Err(StoreError(format!("{origin}: {key} {n} is too large")));
            }
        }
        Ok(p)
    }

    /// The memory the profile gives RocksDB: the block cache plus every memtable the data column
    /// family may hold, plus the smaller fixed memtables of the `index`, `elements` and `meta`
    /// families.
    pub fn memory_budget(&self) -> u64 {
        self.block_cache_size
            .saturating_add(
                self.write_buffer_size
                    .saturating_mul(self.max_write_buffer_number),
            )
            .saturating_add(META_WRITE_BUFFER_SIZE * META_MAX_WRITE_BUFFER_NUMBER)
            .saturating_add(INDEX_WRITE_BUFFER_SIZE * META_MAX_WRITE_BUFFER_NUMBER)
            .saturating_add(ELEMENTS_WRITE_BUFFER_SIZE * META_MAX_WRITE_BUFFER_NUMBER)
    }

    /// The options of the data column family (and the database-wide ones), sharing `cache`.
    fn data_options(&self, cache: &Cache) -> Options {
        let mut table = BlockBasedOptions::default();
        table.set_block_cache(cache);
        table.set_block_size(self.block_size as usize);
        if self.bloom_bits_per_key > 0.0 {
            table.set_bloom_filter(self.bloom_bits_per_key, false);
        }
        table.set_cache_index_and_filter_blocks(self.cache_index_and_filter_blocks);
        table.set_pin_l0_filter_and_index_blocks_in_cache(
            self.pin_l0_filter_and_index_blocks_in_cache,
        );

        let mut o = Options::default();
        o.set_block_based_table_factory(&table);
        o.set_write_buffer_size(self.write_buffer_size as usize);
        o.set_max_write_buffer_number(self.max_write_buffer_number as i32);
        o.set_compression_type(self.compression.rocksdb());
        o.set_max_background_jobs(self.max_background_jobs as i32);
        o.set_level_zero_file_num_compaction_trigger(
            self.level0_file_num_compaction_trigger as i32,
        );
        o.set_level_zero_slowdown_writes_trigger(self.level0_slowdown_writes_trigger as i32);
        o.set_level_zero_stop_writes_trigger(self.level0_stop_writes_trigger as i32);
        o.set_target_file_size_base(self.target_file_size_base);
        o.set_optimize_filters_for_hits(self.optimize_filters_for_hits);
        o.set_enable_blob_files(self.enable_blob_files);
        o.set_min_blob_size(self.min_blob_size);
        o.set_blob_file_size(self.blob_file_size);
        o.set_blob_compression_type(self.blob_compression.rocksdb());
        o.set_enable_blob_gc(self.enable_blob_garbage_collection);
        if self.enable_blob_files {
            // Blob values are cached in the same cache as blocks, within the same budget;
            // without this every read of a large value goes to its blob file.
            o.set_blob_cache(cache);
        }
        o
    }
}

const SIZE_SYNTAX: &str = "a size (bytes, or a number followed by KiB, MiB or GiB)";

/// `4096`, `64 KiB`, `256MiB`, `1 GiB` as bytes; `None` if malformed or too large.
fn parse_size(value: &str) -> Option<u64> {
    let digits = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(digits);
    let number: u64 = number.parse().ok()?;
    let shift = match unit.trim() {
        "" => 0,
        "KiB" => 10,
        "MiB" => 20,
        "GiB" => 30,
        _ => return None,
    };
    number.checked_mul(1 << shift)
}

/// Figures INFO's `# Tiering` section reports about RocksDB.
#[derive(Debug, Clone, Default)]
pub struct StoreStats {
    pub block_cache_capacity: u64,
    pub block_cache_usage: u64,
    pub memtable_bytes: u64,
    /// Index and filter blocks held outside the block cache by open table readers.
    pub table_readers_bytes: u64,
    /// The memory budget the profile gives RocksDB (block cache + memtables).
    pub memory_budget: u64,
    pub block_cache_hits: u64,
    pub block_cache_misses: u64,
    /// RocksDB's estimate of the live data size (SST files), bytes.
    pub live_data_bytes: u64,
    /// Times RocksDB stalled or slowed writes.
    pub write_stalls: u64,
}

pub struct Store {
    db: DB,
    /// The options the database was opened with: their statistics object is the database's.
    options: Options,
    cache: Cache,
    profile: Profile,
    faults: Faults,
}

/// I/O errors injected for tests (`DEBUG TIERING-FAULT`): how many of the next data reads
/// (a get or a multi-get) and data writes (a batch or a range delete) fail.
#[derive(Debug, Default)]
struct Faults {
    reads: AtomicU32,
    writes: AtomicU32,
}

/// Which store operations [`Store::inject_faults`] makes fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    Reads,
    Writes,
}

/// Takes one injected fault from `counter`, if any is left.
fn injected(counter: &AtomicU32, doing: &str) -> Result<(), StoreError> {
    let took = counter
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok();
    if took {
        Err(StoreError(format!(
            "RocksDB {doing}: IO error: injected by DEBUG TIERING-FAULT"
        )))
    } else {
        Ok(())
    }
}

impl Store {
    /// Opens (creating if needed) the database in `dir` with the options of `profile`: the name
    /// of a profile shipped in `rocksdb-tuning/` (`default`, `low-memory`, `large-values`) or a
    /// path to a profile file. A directory written with another [`DISK_FORMAT_VERSION`] is
    /// refused with a message saying which version it holds. What an earlier run left is kept:
    /// the caller decides whether to rebuild the keyspace from it or [`Store::reset`] it.
    pub fn open(dir: &Path, profile: &str) -> Result<Store, StoreError> {
        let profile = Profile::load(profile)?;
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError(format!(
                "cannot create data directory {}: {e}",
                dir.display()
            ))
        })?;
        // A directory holding some other RocksDB database (no `meta` family) is not ours.
        if let Ok(families) = DB::list_cf(&Options::default(), dir) {
            if !families.iter().any(|f| f == META_CF) {
                return Err(StoreError(format!(
                    "data directory {} holds a RocksDB database that is not a tiering \
                     directory (no `{META_CF}` column family): move it away or point \
                     tiering-dir elsewhere",
                    dir.display()
                )));
            }
        }

        let cache = Cache::new_lru_cache(profile.block_cache_size as usize);
        let mut options = profile.data_options(&cache);
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        options.enable_statistics();
        // The data and index families are written in the same batches without a WAL: flushed
        // together, a crash leaves both at the same point.
        options.set_atomic_flush(true);

        let mut meta_table = BlockBasedOptions::default();
        meta_table.set_block_cache(&cache);
        let mut meta = Options::default();
        meta.set_block_based_table_factory(&meta_table);
        meta.set_write_buffer_size(META_WRITE_BUFFER_SIZE as usize);
        meta.set_max_write_buffer_number(META_MAX_WRITE_BUFFER_NUMBER as i32);

        let mut index_table = BlockBasedOptions::default();
        index_table.set_block_cache(&cache);
        let mut index = Options::default();
        index.set_block_based_table_factory(&index_table);
        index.set_write_buffer_size(INDEX_WRITE_BUFFER_SIZE as usize);
        index.set_max_write_buffer_number(META_MAX_WRITE_BUFFER_NUMBER as i32);
        index.set_compression_type(DBCompressionType::Lz4);

        let mut elements = profile.data_options(&cache);
        elements.set_write_buffer_size(ELEMENTS_WRITE_BUFFER_SIZE as usize);
        elements.set_max_write_buffer_number(META_MAX_WRITE_BUFFER_NUMBER as i32);

        let families = [
            ColumnFamilyDescriptor::new(DATA_CF, options.clone()),
            ColumnFamilyDescriptor::new(INDEX_CF, index),
            ColumnFamilyDescriptor::new(ELEMENTS_CF, elements),
            ColumnFamilyDescriptor::new(META_CF, meta),
        ];
        let db = DB::open_cf_descriptors(&options, dir, families)
            .map_err(|e| rocks(&format!("open of {}", dir.display()), e))?;
        let store = Store {
            db,
            options,
            cache,
            profile,
            faults: Faults::default(),
        };
        store.check_format_version(dir)?;
        Ok(store)
    }

    /// Refuses a directory written with another format version; stamps a new one with ours.
    fn check_format_version(&self, dir: &Path) -> Result<(), StoreError> {
        match self.get_meta(FORMAT_VERSION_KEY)? {
            None => self.put_meta(FORMAT_VERSION_KEY, &DISK_FORMAT_VERSION.to_be_bytes()),
            Some(v) => {
                let held = <[u8; 4]>::try_from(v.as_slice()).map(u32::from_be_bytes);
                match held {
                    Ok(DISK_FORMAT_VERSION) => Ok(()),
                    // Version 2 had no split records: its records are version 3's as they are.
                    Ok(2) => {
                        tracing::info!(
                            "data directory {} holds tiering format version 2: upgrading it to \
                             version {DISK_FORMAT_VERSION} (nothing to convert)",
                            dir.display()
                        );
                        self.put_meta(FORMAT_VERSION_KEY, &DISK_FORMAT_VERSION.to_be_bytes())
                    }
                    // Version 1 had no index and its records were dropped at every start:
                    // nothing in it is named by anything. Start it afresh.
                    Ok(1) => {
                        tracing::info!(
                            "data directory {} holds tiering format version 1 (no index): \
                             dropping its records and upgrading it to version \
                             {DISK_FORMAT_VERSION}",
                            dir.display()
                        );
                        self.reset()?;
                        self.put_meta(FORMAT_VERSION_KEY, &DISK_FORMAT_VERSION.to_be_bytes())
                    }
                    Ok(other) => Err(StoreError(format!(
                        "data directory {} holds tiering format version {other}, this server \
                         writes version {DISK_FORMAT_VERSION}: move it away or point \
                         tiering-dir elsewhere",
                        dir.display()
                    ))),
                    Err(_) => Err(StoreError(format!(
                        "data directory {} holds an unreadable tiering format version \
                         ({} bytes), this server writes version {DISK_FORMAT_VERSION}: move it \
                         away or point tiering-dir elsewhere",
                        dir.display(),
                        v.len()
                    ))),
                }
            }
        }
    }

    /// Deletes every record, index entry, element and checkpoint (a range tombstone up to the
    /// last key of each family, then that key), keeping the format version and the
    /// dictionaries, and compacts so that the disk space is returned now rather than whenever
    /// compaction gets there.
    pub fn reset(&self) -> Result<(), StoreError> {
        for cf in [self.data_cf(), self.index_cf(), self.elements_cf()] {
            let last = {
                let mut it = self.db.raw_iterator_cf(cf);
                it.seek_to_last();
                it.status()
                    .map_err(|e| rocks("scan for leftover records", e))?;
                match it.key() {
                    Some(k) => k.to_vec(),
                    None => continue,
                }
            };
            let mut batch = WriteBatch::default();
            batch.delete_range_cf(cf, &b""[..], &last[..]);
            batch.delete_cf(cf, &last);
            self.db
                .write_opt(batch, &no_wal())
                .map_err(|e| rocks("drop of leftover records", e))?;
            self.db.compact_range_cf(cf, None::<&[u8]>, None::<&[u8]>);
        }
        for name in RESET_META {
            self.delete_meta(name)?;
        }
        self.flush()
    }

    fn data_cf(&self) -> &ColumnFamily {
        self.db
            .cf_handle(DATA_CF)
            .expect("open_cf_descriptors created the data column family")
    }

    fn index_cf(&self) -> &ColumnFamily {
        self.db
            .cf_handle(INDEX_CF)
            .expect("open_cf_descriptors created the index column family")
    }

    fn elements_cf(&self) -> &ColumnFamily {
        self.db
            .cf_handle(ELEMENTS_CF)
            .expect("open_cf_descriptors created the elements column family")
    }

    fn meta_cf(&self) -> &ColumnFamily {
        self.db
            .cf_handle(META_CF)
            .expect("open_cf_descriptors created the meta column family")
    }

    /// The profile the store was opened with.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The record stored under `key` (a [`data_key`]).
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        injected(&self.faults.reads, "get")?;
        self.db
            .get_pinned_cf(self.data_cf(), key)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| rocks("get", e))
    }

    /// The records of `keys`, in order, in one RocksDB multi-get.
    pub fn multi_get(&self, keys: &[Vec<u8>]) -> Vec<Result<Option<Vec<u8>>, StoreError>> {
        if let Err(e) = injected(&self.faults.reads, "multi-get") {
            return keys.iter().map(|_| Err(e.clone())).collect();
        }
        self.db
            .batched_multi_get_cf(self.data_cf(), keys, false)
            .into_iter()
            .map(|r| {
                r.map(|v| v.map(|v| v.to_vec()))
                    .map_err(|e| rocks("multi-get", e))
            })
            .collect()
    }

    /// Applies `deletes` (record, index entry and elements) then `puts` as one atomic write
    /// batch (no RocksDB WAL: durability is the binlog's job).
    pub fn write(&self, puts: &[Put], deletes: &[Delete]) -> Result<(), StoreError> {
        injected(&self.faults.writes, "write")?;
        let (data, index, elements) = (self.data_cf(), self.index_cf(), self.elements_cf());
        let mut batch = WriteBatch::default();
        for d in deletes {
            batch.delete_cf(data, &d.key);
            batch.delete_cf(index, &d.key);
            if d.elements {
                self.clear_elements(&mut batch, &element_prefix(&d.key));
            }
        }
        for put in puts {
            let e = &put.elements;
            if e.clear || !e.delete.is_empty() || !e.put.is_empty() {
                let prefix = element_prefix(&put.key);
                if e.clear {
                    self.clear_elements(&mut batch, &prefix);
                }
                let mut key = prefix.clone();
                for name in &e.delete {
                    key.truncate(prefix.len());
                    key.extend_from_slice(name);
                    batch.delete_cf(elements, &key);
                }
                for (name, payload) in &e.put {
                    key.truncate(prefix.len());
                    key.extend_from_slice(name);
                    batch.put_cf(elements, &key, payload);
                }
            }
            if let Some(record) = &put.record {
                batch.put_cf(data, &put.key, record);
            }
            batch.put_cf(index, &put.key, &put.index);
        }
        self.db
            .write_opt(batch, &no_wal())
            .map_err(|e| rocks("write", e))
    }

    /// Adds to `batch` the deletion of every element under `prefix`: one range tombstone, so
    /// deleting a collection of any size costs the same; compaction drops what it covers.
    fn clear_elements(&self, batch: &mut WriteBatch, prefix: &[u8]) {
        let cf = self.elements_cf();
        match prefix_end(prefix) {
            Some(end) => batch.delete_range_cf(cf, prefix, &end),
            // Only a prefix of 0xff bytes has no end: no data key is that long and all 0xff.
            None => batch.delete_range_cf(cf, prefix, &[0xffu8; 16][..]),
        }
    }

    /// A snapshot of the database and the record under `data_key` in it (None: no record).
    fn snapshot_get(
        &self,
        data_key: &[u8],
    ) -> Result<Option<(rocksdb::Snapshot<'_>, Vec<u8>)>, StoreError> {
        injected(&self.faults.reads, "get")?;
        let snapshot = self.db.snapshot();
        let record = snapshot
            .get_cf(self.data_cf(), data_key)
            .map_err(|e| rocks("get", e))?;
        Ok(record.map(|r| (snapshot, r)))
    }

    /// The record under `data_key` and, when it is a split collection's header (`split` says
    /// which records are), its elements (name, payload) in name order, all read from one
    /// snapshot, so that a write between the two reads cannot mix two states of the key.
    pub fn get_split(
        &self,
        data_key: &[u8],
        split: impl Fn(&[u8]) -> bool,
    ) -> Result<Option<WithElements>, StoreError> {
        let Some((snapshot, record)) = self.snapshot_get(data_key)? else {
            return Ok(None);
        };
        if !split(&record) {
            return Ok(Some((record, Vec::new())));
        }
        let prefix = element_prefix(data_key);
        let mut options = rocksdb::ReadOptions::default();
        if let Some(end) = prefix_end(&prefix) {
            options.set_iterate_upper_bound(end);
        }
        let mut it = snapshot.raw_iterator_cf_opt(self.elements_cf(), options);
        it.seek(&prefix);
        let mut elements = Vec::new();
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            if !k.starts_with(&prefix) {
                break;
            }
            elements.push((
                bytes::Bytes::copy_from_slice(&k[prefix.len()..]),
                bytes::Bytes::copy_from_slice(v),
            ));
            it.next();
        }
        it.status().map_err(|e| rocks("scan of elements", e))?;
        Ok(Some((record, elements)))
    }

    /// The record under `data_key` and the payloads of its elements `names` (None: no such
    /// element), read from one snapshot (see [`Store::get_split`]).
    pub fn get_elements(
        &self,
        data_key: &[u8],
        names: &[bytes::Bytes],
    ) -> Result<Option<WithSomeElements>, StoreError> {
        let Some((snapshot, record)) = self.snapshot_get(data_key)? else {
            return Ok(None);
        };
        let prefix = element_prefix(data_key);
        let cf = self.elements_cf();
        let keys: Vec<Vec<u8>> = names.iter().map(|n| [&prefix[..], n].concat()).collect();
        let payloads = snapshot
            .multi_get_cf(keys.iter().map(|k| (cf, k)))
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| rocks("multi-get of elements", e))?;
        Ok(Some((record, payloads)))
    }

    /// How many element entries the key whose record is under `data_key` has.
    pub fn count_elements(&self, data_key: &[u8]) -> Result<u64, StoreError> {
        let prefix = element_prefix(data_key);
        let mut it = self.db.raw_iterator_cf(self.elements_cf());
        it.seek(&prefix);
        let mut n = 0;
        while it.key().is_some_and(|k| k.starts_with(&prefix)) {
            n += 1;
            it.next();
        }
        it.status().map_err(|e| rocks("scan of elements", e))?;
        Ok(n)
    }

    /// Deletes every record, index entry and element in `[from, to)`.
    pub fn delete_range(&self, from: &[u8], to: &[u8]) -> Result<(), StoreError> {
        injected(&self.faults.writes, "delete-range")?;
        let mut batch = WriteBatch::default();
        batch.delete_range_cf(self.data_cf(), from, to);
        batch.delete_range_cf(self.index_cf(), from, to);
        batch.delete_range_cf(self.elements_cf(), from, to);
        self.db
            .write_opt(batch, &no_wal())
            .map_err(|e| rocks("delete-range", e))
    }

    /// Visits every index entry in key order (`f` gets the [`data_key`] and the entry's bytes)
    /// until `f` fails.
    pub fn scan_index(
        &self,
        mut f: impl FnMut(&[u8], &[u8]) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut it = self.db.raw_iterator_cf(self.index_cf());
        it.seek_to_first();
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            f(k, v)?;
            it.next();
        }
        it.status()
            .map_err(|e| rocks("scan of the index", e).to_string())
    }

    /// Metadata entries whose name starts with `prefix`, in name order.
    pub fn meta_with_prefix(&self, prefix: &[u8]) -> Result<Vec<MetaEntry>, StoreError> {
        let mut it = self.db.raw_iterator_cf(self.meta_cf());
        it.seek(prefix);
        let mut found = Vec::new();
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            if !k.starts_with(prefix) {
                break;
            }
            found.push((k.to_vec(), v.to_vec()));
            it.next();
        }
        it.status().map_err(|e| rocks("metadata scan", e))?;
        Ok(found)
    }

    pub fn delete_meta(&self, name: &[u8]) -> Result<(), StoreError> {
        let mut sync = WriteOptions::default();
        sync.set_sync(true);
        self.db
            .delete_cf_opt(self.meta_cf(), name, &sync)
            .map_err(|e| rocks("metadata delete", e))
    }

    /// Writes a consistent copy of the whole database into `path` (which must not exist):
    /// memtables are flushed first, and SST files are hard-linked where the file system allows.
    pub fn copy_to(&self, path: &Path) -> Result<(), StoreError> {
        rocksdb::checkpoint::Checkpoint::new(&self.db)
            .and_then(|c| c.create_checkpoint(path))
            .map_err(|e| rocks(&format!("checkpoint into {}", path.display()), e))
    }

    /// Metadata (zstd dictionaries, the format version), kept apart from the data records.
    /// Unlike data writes, these go through the WAL and are synced: they are few and must
    /// survive a crash.
    pub fn put_meta(&self, name: &[u8], value: &[u8]) -> Result<(), StoreError> {
        let mut sync = WriteOptions::default();
        sync.set_sync(true);
        self.db
            .put_cf_opt(self.meta_cf(), name, value, &sync)
            .map_err(|e| rocks("metadata write", e))
    }

    pub fn get_meta(&self, name: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.db
            .get_cf(self.meta_cf(), name)
            .map_err(|e| rocks("metadata read", e))
    }

    /// Makes the next `count` data reads or writes fail with an I/O error (0: none), so that
    /// tests can drive the error paths of a real server.
    pub fn inject_faults(&self, kind: FaultKind, count: u32) {
        match kind {
            FaultKind::Reads => self.faults.reads.store(count, Ordering::Relaxed),
            FaultKind::Writes => self.faults.writes.store(count, Ordering::Relaxed),
        }
    }

    /// Writes the memtables out to SST files, the data and index families together: what was
    /// written before is then on disk (a checkpoint flushes before it records itself;
    /// benchmarks and tests use it to read from disk rather than from memtables).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db
            .flush_cfs_opt(
                &[
                    self.data_cf(),
                    self.index_cf(),
                    self.elements_cf(),
                    self.meta_cf(),
                ],
                &Default::default(),
            )
            .map_err(|e| rocks("flush", e))
    }

    /// The size of the data and elements families' live SST and blob files (see
    /// [`Store::stats`]).
    pub fn live_data_bytes(&self) -> u64 {
        let names = ["rocksdb.live-sst-files-size", "rocksdb.live-blob-file-size"];
        [self.data_cf(), self.elements_cf()]
            .into_iter()
            .flat_map(|cf| names.into_iter().map(move |name| (cf, name)))
            .map(|(cf, name)| {
                self.db
                    .property_int_value_cf(cf, name)
                    .ok()
                    .flatten()
                    .unwrap_or(0)
            })
            .sum()
    }

    /// Stops RocksDB's background work (flushes, compactions) and waits for what is running:
    /// the last step before the process exits. What was written stays (WAL-less writes only if
    /// flushed before: the last checkpoint flushes).
    pub fn close(&self) {
        self.db.cancel_all_background_work(true);
    }

    /// The figures INFO reports. `write_stalls` counts the writes RocksDB delayed or stopped
    /// (the number of samples in its `rocksdb.db.write.stall` histogram). `live_data_bytes` is
    /// the size of the data family's live SST and blob files (`rocksdb.live-sst-files-size` +
    /// `rocksdb.live-blob-file-size`): an upper bound that still counts overwritten and deleted
    /// records until compaction drops them. (`rocksdb.estimate-live-data-size` was tried and
    /// dropped: with overlapping level-0 files it counts only one of them, and read 11 MiB for
    /// 200 MiB of freshly flushed records.) A property RocksDB cannot give reads as 0.
    pub fn stats(&self) -> StoreStats {
        let property = |cf: &ColumnFamily, name: &str| {
            self.db
                .property_int_value_cf(cf, name)
                .ok()
                .flatten()
                .unwrap_or(0)
        };
        StoreStats {
            block_cache_capacity: self.profile.block_cache_size,
            block_cache_usage: self.cache.get_usage() as u64,
            memtable_bytes: [
                self.data_cf(),
                self.index_cf(),
                self.elements_cf(),
                self.meta_cf(),
            ]
            .into_iter()
            .map(|cf| property(cf, "rocksdb.cur-size-all-mem-tables"))
            .sum(),
            table_readers_bytes: [
                self.data_cf(),
                self.index_cf(),
                self.elements_cf(),
                self.meta_cf(),
            ]
            .into_iter()
            .map(|cf| property(cf, "rocksdb.estimate-table-readers-mem"))
            .sum(),
            memory_budget: self.profile.memory_budget(),
            block_cache_hits: self.options.get_ticker_count(Ticker::BlockCacheHit),
            block_cache_misses: self.options.get_ticker_count(Ticker::BlockCacheMiss),
            live_data_bytes: self.live_data_bytes(),
            write_stalls: self
                .options
                .get_histogram_data(Histogram::WriteStall)
                .count(),
        }
    }
}

fn no_wal() -> WriteOptions {
    let mut w = WriteOptions::default();
    w.disable_wal(true);
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn open(dir: &Path) -> Store {
        match Store::open(dir, "default") {
            Ok(s) => s,
            Err(e) => panic!("open: {e}"),
        }
    }

    /// Puts of records with an index entry that names their value.
    fn puts(records: &[(Vec<u8>, Vec<u8>)]) -> Vec<Put> {
        records
            .iter()
            .map(|(k, v)| Put {
                key: k.clone(),
                record: Some(v.clone()),
                index: [b"i:", &v[..]].concat(),
                elements: ElementWrites::default(),
            })
            .collect()
    }

    fn del(key: &[u8]) -> Delete {
        Delete {
            key: key.to_vec(),
            elements: false,
        }
    }

    fn kv(db: u16, slot: u16, key: &str, value: &str) -> (Vec<u8>, Vec<u8>) {
        (
            data_key(db, slot, key.as_bytes()),
            value.as_bytes().to_vec(),
        )
    }

    #[test]
    fn store_is_shared_between_threads() {
        fn check<T: Send + Sync>() {}
        check::<Store>();
    }

    #[test]
    fn put_get_multi_get_delete() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        let a = kv(0, 1, "a", "alpha");
        let b = kv(0, 2, "b", "beta");
        s.write(&puts(&[a.clone(), b.clone()]), &[]).unwrap();
        assert_eq!(s.get(&a.0).unwrap(), Some(a.1.clone()));
        let missing = data_key(0, 3, b"c");
        let got: Vec<_> = s
            .multi_get(&[b.0.clone(), missing.clone(), a.0.clone()])
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(got, vec![Some(b.1.clone()), None, Some(a.1.clone())]);

        // Deletes apply before puts: deleting and putting one key leaves the new value.
        s.write(
            &puts(&[(a.0.clone(), b"again".to_vec())]),
            &[del(&a.0), del(&b.0)],
        )
        .unwrap();
        assert_eq!(s.get(&a.0).unwrap(), Some(b"again".to_vec()));
        assert_eq!(s.get(&b.0).unwrap(), None);
        assert!(s.multi_get(&[]).is_empty());
    }

    #[test]
    fn delete_range_drops_exactly_the_slots() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        let records = [
            kv(0, 9, "below", "1"),
            kv(0, 10, "first", "2"),
            kv(0, 11, "inside", "3"),
            kv(0, 12, "last", "4"),
            kv(0, 13, "above", "5"),
            kv(1, 11, "other db", "6"),
        ];
        s.write(&puts(&records), &[]).unwrap();
        let (from, to) = slot_range(0, 10, 12);
        s.delete_range(&from, &to).unwrap();
        let keys: Vec<Vec<u8>> = records.iter().map(|(k, _)| k.clone()).collect();
        let present: Vec<bool> = s
            .multi_get(&keys)
            .into_iter()
            .map(|r| r.unwrap().is_some())
            .collect();
        assert_eq!(present, [true, false, false, false, true, true]);

        // The last slot's range ends at the next database.
        s.write(
            &puts(&[kv(2, u16::MAX, "end", "7"), kv(3, 0, "next", "8")]),
            &[],
        )
        .unwrap();
        let (from, to) = slot_range(2, 0, u16::MAX);
        s.delete_range(&from, &to).unwrap();
        assert_eq!(s.get(&data_key(2, u16::MAX, b"end")).unwrap(), None);
        assert!(s.get(&data_key(3, 0, b"next")).unwrap().is_some());
    }

    /// A split record's elements, by scanning them.
    fn elements_of(s: &Store, key: &[u8]) -> Vec<(String, String)> {
        let (_, elements) = s.get_split(key, |_| true).unwrap().expect("a record");
        elements
            .into_iter()
            .map(|(k, v)| {
                (
                    String::from_utf8(k.to_vec()).unwrap(),
                    String::from_utf8(v.to_vec()).unwrap(),
                )
            })
            .collect()
    }

    fn split_put(key: &[u8], header: &str, elements: ElementWrites) -> Put {
        Put {
            key: key.to_vec(),
            record: Some(header.as_bytes().to_vec()),
            index: b"i".to_vec(),
            elements,
        }
    }

    fn names(list: &[&str]) -> Vec<Vec<u8>> {
        list.iter().map(|n| n.as_bytes().to_vec()).collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
        list.iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn split_records_write_and_read_their_elements() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        let a = data_key(0, 5, b"a");
        // A key that extends `a`: its elements must never be taken for `a`'s.
        let ab = data_key(0, 5, b"ab");
        let full = |put: &[(&str, &str)]| ElementWrites {
            clear: true,
            delete: Vec::new(),
            put: pairs(put),
        };
        s.write(
            &[
                split_put(&a, "h1", full(&[("f1", "1"), ("f2", "2"), ("f3", "3")])),
                split_put(&ab, "h2", full(&[("b", "x")])),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(
            elements_of(&s, &a),
            vec![
                ("f1".into(), "1".into()),
                ("f2".into(), "2".into()),
                ("f3".into(), "3".into())
            ]
        );
        assert_eq!(elements_of(&s, &ab), vec![("b".into(), "x".into())]);

        // A delta: one element changed, one deleted, one added; the rest stay.
        let delta = ElementWrites {
            clear: false,
            delete: names(&["f2"]),
            put: pairs(&[("f1", "one"), ("f4", "4")]),
        };
        s.write(&[split_put(&a, "h3", delta)], &[]).unwrap();
        assert_eq!(
            elements_of(&s, &a),
            vec![
                ("f1".into(), "one".into()),
                ("f3".into(), "3".into()),
                ("f4".into(), "4".into())
            ]
        );
        let (record, got) = s
            .get_elements(&a, &[Bytes::from_static(b"f4"), Bytes::from_static(b"f2")])
            .unwrap()
            .unwrap();
        assert_eq!(record, b"h3");
        assert_eq!(got, vec![Some(b"4".to_vec()), None]);

        // A full rewrite drops every old element first, in the same batch.
        s.write(&[split_put(&a, "h4", full(&[("g", "7")]))], &[])
            .unwrap();
        assert_eq!(elements_of(&s, &a), vec![("g".into(), "7".into())]);
        // A record that is not split reads without its (absent) elements.
        assert_eq!(
            s.get_split(&a, |_| false).unwrap(),
            Some((b"h4".to_vec(), Vec::new()))
        );

        // Deleting a split record takes its elements, and only its own.
        s.write(
            &[],
            &[Delete {
                key: a.clone(),
                elements: true,
            }],
        )
        .unwrap();
        assert_eq!(s.get_split(&a, |_| true).unwrap(), None);
        s.write(&[split_put(&a, "h5", ElementWrites::default())], &[])
            .unwrap();
        assert_eq!(elements_of(&s, &a), vec![]);
        assert_eq!(elements_of(&s, &ab), vec![("b".into(), "x".into())]);

        // A flushed slot range takes the elements with the records.
        let (from, to) = slot_range(0, 5, 5);
        s.delete_range(&from, &to).unwrap();
        assert_eq!(s.get_split(&ab, |_| true).unwrap(), None);
        s.write(&[split_put(&ab, "h6", ElementWrites::default())], &[])
            .unwrap();
        assert_eq!(elements_of(&s, &ab), vec![]);
    }

    #[test]
    fn element_prefixes_and_their_ends() {
        assert_eq!(
            element_prefix(&data_key(1, 2, b"k")),
            vec![0, 1, 0, 2, 0, 0, 0, 1, b'k']
        );
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xff, 0xff]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xff, 0xff]), None);
    }

    #[test]
    fn meta_is_apart_from_data() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        s.put_meta(b"dict:1", b"dictionary").unwrap();
        assert_eq!(s.get_meta(b"dict:1").unwrap(), Some(b"dictionary".to_vec()));
        assert_eq!(s.get(b"dict:1").unwrap(), None);
        assert_eq!(
            s.get_meta(FORMAT_VERSION_KEY).unwrap(),
            Some(DISK_FORMAT_VERSION.to_be_bytes().to_vec())
        );
    }

    /// Every record with its index entry, by scanning the index.
    fn index_of(s: &Store) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut found = Vec::new();
        s.scan_index(|k, v| {
            found.push((k.to_vec(), v.to_vec()));
            Ok(())
        })
        .unwrap();
        found
    }

    #[test]
    fn index_follows_records_and_survives_reopen_until_reset() {
        let dir = tempfile::tempdir().unwrap();
        let a = kv(0, 1, "a", "alpha");
        let b = kv(0, 2, "b", "beta");
        let z = kv(u16::MAX, u16::MAX, "\u{ff}\u{ff}", "last possible");
        {
            let s = open(dir.path());
            s.write(&puts(&[a.clone(), b.clone(), z.clone()]), &[])
                .unwrap();
            // An index-only put leaves the record; a delete takes both.
            let only_index = Put {
                key: a.0.clone(),
                record: None,
                index: b"i:new ttl".to_vec(),
                elements: ElementWrites::default(),
            };
            s.write(&[only_index], &[del(&b.0)]).unwrap();
            s.put_meta(b"dict:1", b"d").unwrap();
            s.put_meta(CHECKPOINT_KEY, b"c").unwrap();
            s.flush().unwrap();
            assert!(s.stats().live_data_bytes > 0);
        }
        let s = open(dir.path());
        assert_eq!(s.get(&a.0).unwrap(), Some(a.1.clone()));
        assert_eq!(s.get(&b.0).unwrap(), None);
        assert_eq!(
            index_of(&s),
            vec![
                (a.0.clone(), b"i:new ttl".to_vec()),
                (z.0.clone(), b"i:last possible".to_vec())
            ]
        );
        let (from, to) = slot_range(0, 0, 1);
        s.delete_range(&from, &to).unwrap();
        assert_eq!(s.get(&a.0).unwrap(), None);
        assert_eq!(
            index_of(&s).len(),
            1,
            "a range delete takes index entries too"
        );

        s.reset().unwrap();
        assert_eq!(s.get(&z.0).unwrap(), None);
        assert!(index_of(&s).is_empty());
        assert_eq!(s.get_meta(CHECKPOINT_KEY).unwrap(), None);
        assert_eq!(s.get_meta(b"dict:1").unwrap(), Some(b"d".to_vec()));
        assert_eq!(
            s.meta_with_prefix(b"dict:").unwrap(),
            vec![(b"dict:1".to_vec(), b"d".to_vec())]
        );
        // The store still works after the reset.
        s.write(&puts(std::slice::from_ref(&a)), &[]).unwrap();
        assert_eq!(s.get(&a.0).unwrap(), Some(a.1));
    }

    #[test]
    fn copy_to_makes_an_openable_copy() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(&dir.path().join("db"));
        let a = kv(0, 1, "a", "alpha");
        s.write(&puts(std::slice::from_ref(&a)), &[]).unwrap();
        s.copy_to(&dir.path().join("copy")).unwrap();
        s.write(&[], &[del(&a.0)]).unwrap();
        drop(s);
        let copy = open(&dir.path().join("copy"));
        assert_eq!(copy.get(&a.0).unwrap(), Some(a.1));
        assert_eq!(index_of(&copy).len(), 1);
    }

    #[test]
    fn another_format_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = open(dir.path());
            s.put_meta(FORMAT_VERSION_KEY, &7u32.to_be_bytes()).unwrap();
        }
        let err = Store::open(dir.path(), "default").err().expect("refused");
        assert_eq!(
            err.0,
            format!(
                "data directory {} holds tiering format version 7, this server writes version \
                 3: move it away or point tiering-dir elsewhere",
                dir.path().display()
            )
        );
    }

    #[test]
    fn a_version_2_directory_is_upgraded_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let a = kv(0, 1, "a", "alpha");
        {
            let s = open(dir.path());
            s.write(&puts(std::slice::from_ref(&a)), &[]).unwrap();
            s.put_meta(FORMAT_VERSION_KEY, &2u32.to_be_bytes()).unwrap();
            s.flush().unwrap();
        }
        let s = open(dir.path());
        assert_eq!(s.get(&a.0).unwrap(), Some(a.1), "its records are kept");
        assert_eq!(
            s.get_meta(FORMAT_VERSION_KEY).unwrap(),
            Some(DISK_FORMAT_VERSION.to_be_bytes().to_vec())
        );
    }

    #[test]
    fn a_foreign_rocksdb_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut o = Options::default();
            o.create_if_missing(true);
            DB::open(&o, dir.path()).unwrap();
        }
        let err = Store::open(dir.path(), "default").err().expect("refused");
        assert!(err.0.contains("not a tiering directory"), "{err}");
    }

    #[test]
    fn every_shipped_profile_opens() {
        for (name, _) in SHIPPED_PROFILES {
            let dir = tempfile::tempdir().unwrap();
            let s = Store::open(dir.path(), name).unwrap_or_else(|e| panic!("{name}: {e}"));
            let big = vec![b'v'; 8192];
            s.write(&puts(&[(data_key(0, 0, b"k"), big.clone())]), &[])
                .unwrap();
            s.flush().unwrap();
            assert_eq!(s.get(&data_key(0, 0, b"k")).unwrap(), Some(big), "{name}");
            let stats = s.stats();
            assert_eq!(stats.memory_budget, s.profile().memory_budget(), "{name}");
            assert_eq!(stats.block_cache_capacity, s.profile().block_cache_size);
            assert!(
                stats.block_cache_hits + stats.block_cache_misses > 0,
                "{name}"
            );
            assert!(stats.live_data_bytes > 0, "{name}");
        }
    }

    #[test]
    fn shipped_budgets() {
        let budget = |name| Profile::load(name).unwrap().memory_budget() >> 20;
        assert_eq!(budget("default"), 256 + 128 + 2 + 16 + 32);
        assert_eq!(budget("low-memory"), 32 + 32 + 2 + 16 + 32);
        assert_eq!(budget("large-values"), 256 + 128 + 2 + 16 + 32);
        assert!(Profile::load("large-values").unwrap().enable_blob_files);
    }

    #[test]
    fn profile_file_by_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.profile");
        std::fs::write(
            &path,
            "# tiny\nblock_cache_size = 1 MiB # inline comment\n\nwrite_buffer_size=1048576\n",
        )
        .unwrap();
        let p = Profile::load(path.to_str().unwrap()).unwrap();
        assert_eq!(p.block_cache_size, 1 << 20);
        assert_eq!(p.write_buffer_size, 1 << 20);
        assert_eq!(p.max_write_buffer_number, 2);
        let s = Store::open(&dir.path().join("db"), path.to_str().unwrap()).unwrap();
        assert_eq!(
            s.stats().memory_budget,
            (1 << 20) + (2 << 20) + (2 << 20) + (16 << 20) + (32 << 20)
        );

        let err = Profile::load("/nonexistent/x.profile").unwrap_err();
        assert!(err
            .0
            .starts_with("cannot read RocksDB profile file /nonexistent/x.profile"));
    }

    #[test]
    fn profile_errors_name_file_line_and_key() {
        let parse = |text| Profile::parse(text, "t.profile").unwrap_err().0;
        assert_eq!(
            parse("block_size = 4 KiB\n\nblock_cahce_size = 1 MiB\n"),
            "t.profile line 3: unknown key `block_cahce_size`"
        );
        assert_eq!(
            parse("# c\nwrite_buffer_size = lots\n"),
            "t.profile line 2: write_buffer_size: `lots` is not a size (bytes, or a number \
             followed by KiB, MiB or GiB)"
        );
        assert_eq!(
            parse("max_background_jobs = -1"),
            "t.profile line 1: max_background_jobs: `-1` is not a whole number"
        );
        assert_eq!(
            parse("compression = snappy"),
            "t.profile line 1: compression: `snappy` is not none, lz4 or zstd"
        );
        assert_eq!(
            parse("enable_blob_files = yes"),
            "t.profile line 1: enable_blob_files: `yes` is not true or false"
        );
        assert_eq!(
            parse("max_write_buffer_number = 1"),
            "t.profile line 1: max_write_buffer_number: `1` is not 2 or more (RocksDB keeps \
             at least two memtables)"
        );
        assert_eq!(
            parse("bloom_bits_per_key"),
            "t.profile line 1: expected `key = value`, got `bloom_bits_per_key`"
        );
        assert_eq!(
            parse("block_size = 99999999999 GiB"),
            "t.profile line 1: block_size: `99999999999 GiB` is not a size (bytes, or a number \
             followed by KiB, MiB or GiB)"
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("4 KiB"), Some(4096));
        assert_eq!(parse_size("256MiB"), Some(256 << 20));
        assert_eq!(parse_size("1 GiB"), Some(1 << 30));
        assert_eq!(parse_size("1 GB"), None);
        assert_eq!(parse_size("KiB"), None);
        assert_eq!(parse_size("1.5 MiB"), None);
    }
}
