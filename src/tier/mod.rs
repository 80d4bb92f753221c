//! Tiering: every key stays in RAM; values go cold (to RocksDB) in the background when memory
//! runs over `maxmemory`, and come back when a command needs them. RocksDB also holds the
//! checkpoints the binlog is pruned behind, and the index a restart rebuilds the keyspace from.
//!
//! The pieces, each in its own file:
//!
//! - `store.rs`: RocksDB (the tuning profile, the key layout `db | slot | key`, the data, index
//!   and meta column families, batched writes).
//! - `record.rs`: a cold value's bytes on disk: header plus the docs/FORMAT.md encoding,
//!   zstd-compressed, small values with a trained dictionary; and the index entry beside it.
//! - `checkpoint.rs`: the checkpoint record, and the rebuild of the keyspace from the index at
//!   start.
//! - `demote.rs`: the demotion threads. Each owns a fixed set of shards and is the only
//!   writer of their records, so a shard's deletes and writes reach RocksDB in the order they
//!   were decided (the ordering argument is in `keyspace::entry::Disk`).
//! - `load.rs`: the reader pool. A command that needs cold values is answered with
//!   `After::Load`; its connection awaits [`await_loads`] (other connections keep being
//!   served), then runs the command again with the values in hand, which dispatch installs
//!   under the command's locks ([`prepare`]). Concurrent loads of one key share one read.
//!
//! The keyspace side (stubs, versions, garbage) is `keyspace/cold.rs`.

mod checkpoint;
mod demote;
mod load;
pub mod record;
pub mod store;

use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};

pub use checkpoint::{Checkpoint, Rebuilt, ShardMark};
pub use load::{await_loads, LoadRequest, LoadResult, Preloaded};

use crate::config::Config;
use crate::keyspace::cold::Policy;
use crate::server::evict::Verdict;
use crate::server::Server;
use record::{Compression, Dictionaries, Dictionary};
use store::Store;

/// The tier's settings, from the `tiering-*` options (changeable with CONFIG SET).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub policy: Policy,
    pub compression: Compression,
    /// Promote a loaded value only when it is loaded twice within the ghost list's memory.
    pub promote_on_second_hit: bool,
}

impl Settings {
    pub fn from_config(c: &Config) -> Settings {
        Settings {
            policy: if c.tiering_policy == "lru" {
                Policy::Lru
            } else {
                Policy::Lfu
            },
            compression: Compression {
                level: c.tiering_compression_level,
                min_bytes: c.tiering_compress_min_bytes as usize,
            },
            promote_on_second_hit: c.tiering_promote_on == "second-hit",
        }
    }
}

/// Counters behind INFO's `# Tiering`.
#[derive(Debug, Default)]
pub struct TierStats {
    pub demotions: AtomicU64,
    /// Demotions that needed no write (the record was current).
    pub clean_demotions: AtomicU64,
    pub demotion_errors: AtomicU64,
    /// Bytes of values demoted, in their plain encoding, and as written (compressed).
    pub demoted_plain_bytes: AtomicU64,
    pub demoted_disk_bytes: AtomicU64,
    pub promotions: AtomicU64,
    pub loads: AtomicU64,
    pub load_errors: AtomicU64,
    /// Cold values loaded synchronously, under a lock (see `Locked::ensure_hot`).
    pub sync_loads: AtomicU64,
    pub loads_in_flight: AtomicI64,
    pub deletes: AtomicU64,
    pub write_stalls: AtomicU64,
    /// Checkpoints recorded, and entries they wrote.
    pub checkpoints: AtomicU64,
    pub checkpointed: AtomicU64,
    /// Elements of split collections checkpoints wrote or deleted.
    pub checkpointed_elements: AtomicU64,
    /// Reads of single elements of cold split collections (HGET, SISMEMBER, ZSCORE ...), and
    /// the elements they read.
    pub element_loads: AtomicU64,
    pub elements_loaded: AtomicU64,
    /// Cold keys loaded ahead for the next commands of a pipeline (see [`prefetch`]).
    pub prefetched: AtomicU64,
    /// The longest a shard's lock was held to take its share of the last checkpoint, µs.
    pub checkpoint_lock_max_us: AtomicU64,
    /// Load latency in microseconds.
    pub load_latency: Mutex<Option<hdrhistogram::Histogram<u64>>>,
}

impl TierStats {
    fn record_load_latency(&self, us: u64) {
        let mut h = self.load_latency.lock();
        let h = h.get_or_insert_with(|| {
            hdrhistogram::Histogram::new_with_bounds(1, 60_000_000, 2).expect("valid bounds")
        });
        let _ = h.record(us.max(1));
    }

    /// Load latency percentile `q` (0..=100) in microseconds.
    fn load_latency_us(&self, q: f64) -> u64 {
        self.load_latency
            .lock()
            .as_ref()
            .map_or(0, |h| h.value_at_percentile(q))
    }
}

pub struct Tier {
    pub store: Store,
    /// Values are demoted when memory runs over `maxmemory` (`tiering yes`). Without it the
    /// store only takes checkpoints (`appendonly yes` in pure-memory mode).
    pub demoting: bool,
    /// The last checkpoint recorded, or rebuilt from at start.
    last_checkpoint: Mutex<Option<Checkpoint>>,
    pub stats: TierStats,
    settings: RwLock<Settings>,
    dicts: RwLock<Dictionaries>,
    /// The dictionary new small records use.
    dict: RwLock<Option<Arc<Dictionary>>>,
    loader: load::Loader,
    demoters: demote::Demoters,
    /// One bit per demotion thread, set when its last full pass over its shards found nothing
    /// hot left to demote. When every thread's bit is set, writes that need memory get the OOM
    /// error quickly instead of waiting (one thread running dry says nothing of the others).
    exhausted: AtomicU32,
    /// The value of `exhausted` when every thread has run dry.
    all_exhausted: AtomicU32,
    /// DEBUG CHECKPOINT-CRASH: checkpoint batches still to write before the process aborts
    /// (0: off).
    crash_after: AtomicU32,
    /// For per-second rates in INFO: (when, demotions, promotions) at the last INFO.
    rates: Mutex<(Instant, u64, u64)>,
}

impl Tier {
    /// Opens RocksDB and starts the demotion and reader threads for `server`. What RocksDB
    /// holds is kept: the caller rebuilds the keyspace from it ([`Tier::rebuild`]) or resets it.
    pub fn start(server: &Arc<Server>) -> Result<Arc<Tier>, String> {
        let (dir, profile, settings, load_threads, demote_threads, demoting) = {
            let c = server.config.read();
            (
                c.dir.join(&c.tiering_dir),
                c.rocksdb_options_file.clone(),
                Settings::from_config(&c),
                c.tiering_load_threads.max(1) as usize,
                c.tiering_demote_threads.max(1) as usize,
                c.tiering,
            )
        };
        let store = Store::open(Path::new(&dir), &profile).map_err(|e| e.to_string())?;
        // Records written with a dictionary need it to be read back.
        let mut dicts = Dictionaries::default();
        let mut newest: Option<Arc<Dictionary>> = None;
        for (name, bytes) in store
            .meta_with_prefix(b"dict:")
            .map_err(|e| e.to_string())?
        {
            let id = std::str::from_utf8(&name[5..])
                .ok()
                .and_then(|id| id.parse::<u32>().ok())
                .ok_or_else(|| "a damaged dictionary name in the tiering directory".to_string())?;
            let dict = Arc::new(Dictionary::try_from_bytes(id, &bytes).map_err(|e| e.to_string())?);
            if newest.as_ref().is_none_or(|n| n.id < id) {
                newest = Some(dict.clone());
            }
            dicts.insert(dict);
        }
        let trained = newest.is_some();
        let tier = Arc::new(Tier {
            store,
            demoting,
            last_checkpoint: Mutex::new(None),
            stats: TierStats::default(),
            settings: RwLock::new(settings),
            dicts: RwLock::new(dicts),
            dict: RwLock::new(newest),
            loader: load::Loader::default(),
            demoters: demote::Demoters::default(),
            exhausted: AtomicU32::new(0),
            all_exhausted: AtomicU32::new(u32::MAX),
            crash_after: AtomicU32::new(0),
            rates: Mutex::new((Instant::now(), 0, 0)),
        });
        tier.loader.start(&tier, load_threads)?;
        tier.all_exhausted
            .store((1u32 << demote_threads) - 1, Ordering::Relaxed);
        tier.demoters
            .start(&tier, Arc::downgrade(server), demote_threads, !trained)?;
        server
            .keyspace
            .set_cold_reader(Arc::new(load::SyncReader(tier.clone())));
        if demoting {
            tracing::info!(
                "tiering on: RocksDB in {} (profile {profile}), {demote_threads} demotion and {load_threads} reader threads",
                dir.display()
            );
        } else {
            tracing::info!(
                "checkpoints into RocksDB in {} (profile {profile}); values stay in RAM (tiering no)",
                dir.display()
            );
        }
        Ok(tier)
    }

    pub fn settings(&self) -> Settings {
        *self.settings.read()
    }

    /// Records whether demotion thread `index`'s last pass ran dry.
    fn set_exhausted(&self, index: usize, dry: bool) {
        let bit = 1u32 << index;
        if dry {
            self.exhausted.fetch_or(bit, Ordering::Relaxed);
        } else {
            self.exhausted.fetch_and(!bit, Ordering::Relaxed);
        }
    }

    /// Applies changed `tiering-*` options.
    pub fn configure(&self, c: &Config) {
        *self.settings.write() = Settings::from_config(c);
    }

    /// What a command meets above `maxmemory` with tiering on: the demotion threads are woken,
    /// and a command that may grow memory waits for them (a write stall, `stalls` times in a
    /// row so far). It gets the OOM error when the wait lasts too long: after about half a
    /// second when every demotion thread's last two passes found nothing hot left to demote
    /// (the keys alone fill the budget), after about 30 s otherwise (demotion cannot write: a
    /// full or failing disk). Memory that is neither keys nor values comes and goes: a
    /// demotion's encoding and compression buffers, values loaded for a command, allocator
    /// caches. With big values it can hold the server over the limit for tens of milliseconds
    /// while nothing hot is left (seen at 64 ms under load), so the wait must outlast it.
    pub fn enforce(&self, denyoom: bool, stalls: u32) -> Verdict {
        self.demoters.wake();
        let patience = if self.exhausted.load(Ordering::Relaxed)
            == self.all_exhausted.load(Ordering::Relaxed)
        {
            500
        } else {
            30_000
        };
        if !denyoom {
            Verdict::Fits
        } else if stalls >= patience {
            Verdict::Oom
        } else {
            Verdict::Stall
        }
    }

    /// Demotes `key` of `db` now, through the thread that owns its shard (TIERING DEMOTE).
    /// True when the value is cold afterwards.
    pub async fn demote_now(&self, db: usize, key: Bytes) -> Result<bool, String> {
        self.demoters.demote_now(db, key).await
    }

    /// Reads the cold value of `key` without loading it into the keyspace; `disk_db` is the
    /// number its database's records are written under ([`crate::keyspace::Locked::disk_db`]).
    pub fn read_value(
        &self,
        disk_db: u16,
        key: &[u8],
    ) -> Result<Option<crate::types::Value>, String> {
        self.read_whole(disk_db, key).map(|r| r.map(|(_, v)| v))
    }

    /// Reads the cold value of `key` (under on-disk database `disk_db`): the key version its
    /// record was written from, and the value, with all its elements when it is split.
    fn read_whole(&self, disk_db: u16, key: &[u8]) -> LoadResult {
        let data_key = store::data_key(disk_db, crate::keyspace::key_slot(key), key);
        let read = self.store.get(&data_key);
        self.decode_read(&data_key, read)
    }

    /// A read of the record under `data_key` as a load's result: the value, or None when
    /// RocksDB has none, or why it could not be read or decoded. A split collection's header
    /// is read again with its elements, from one snapshot.
    fn decode_read(
        &self,
        data_key: &[u8],
        read: Result<Option<Vec<u8>>, store::StoreError>,
    ) -> LoadResult {
        let bytes = match read {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Ok(None),
            Err(e) => return Err(e.to_string()),
        };
        match record::read(&bytes, &self.dicts.read()).map_err(|e| e.to_string())? {
            (version, record::Read::Whole(value)) => return Ok(Some((version, value))),
            (_, record::Read::Split(_)) => {}
        }
        let Some((bytes, elements)) = self
            .store
            .get_split(data_key, record::is_split)
            .map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        // (Rewritten whole since the first read: then read whole.)
        self.with_elements(&bytes, elements.into_iter(), true)
    }

    /// The value of `record` read with `elements` (name, payload) when it is a split
    /// collection's header: all of them (`whole`), or some (see `codec::split::build`).
    fn with_elements(
        &self,
        record: &[u8],
        elements: impl Iterator<Item = (Bytes, Bytes)>,
        whole: bool,
    ) -> LoadResult {
        match record::read(record, &self.dicts.read()).map_err(|e| e.to_string())? {
            (version, record::Read::Whole(value)) => Ok(Some((version, value))),
            (version, record::Read::Split(header)) => {
                crate::types::codec::split::build(&header, elements, whole)
                    .map(|value| Some((version, value)))
                    .map_err(|e| format!("cold record is corrupt: {e}"))
            }
        }
    }

    /// Reads the elements `names` (distinct) of the split collection under `key`: the key
    /// version its record was written from, and a collection holding just those of them it
    /// has. A record that is not split (any more) is read whole.
    fn read_elements(&self, disk_db: u16, key: &[u8], names: &[Bytes]) -> LoadResult {
        let data_key = store::data_key(disk_db, crate::keyspace::key_slot(key), key);
        let Some((bytes, payloads)) = self
            .store
            .get_elements(&data_key, names)
            .map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        let found = names
            .iter()
            .zip(payloads)
            .filter_map(|(name, payload)| Some((name.clone(), Bytes::from(payload?))));
        self.with_elements(&bytes, found, false)
    }

    /// INFO's `# Tiering` section.
    /// `counts` is (keys, cold keys), from the caller's view of every shard.
    pub fn info(&self, server: &Server, counts: (usize, usize)) -> String {
        let s = &self.stats;
        let (keys, cold) = counts;
        let store = self.store.stats();
        let demotions = s.demotions.load(Ordering::Relaxed);
        let promotions = s.promotions.load(Ordering::Relaxed);
        let (demotions_ps, promotions_ps) = {
            let mut r = self.rates.lock();
            let secs = r.0.elapsed().as_secs_f64().max(0.001);
            let rates = (
                (demotions - r.1) as f64 / secs,
                (promotions - r.2) as f64 / secs,
            );
            *r = (Instant::now(), demotions, promotions);
            rates
        };
        let plain = s.demoted_plain_bytes.load(Ordering::Relaxed);
        let disk = s.demoted_disk_bytes.load(Ordering::Relaxed);
        let ratio = if disk == 0 {
            1.0
        } else {
            plain as f64 / disk as f64
        };
        let hits = store.block_cache_hits;
        let lookups = hits + store.block_cache_misses;
        let hit_rate = if lookups == 0 {
            0.0
        } else {
            hits as f64 / lookups as f64
        };
        let used = server.memory.used();
        let stub_bytes = cold * COLD_ENTRY_BYTES;
        let hot_bytes = used.saturating_sub((keys * COLD_ENTRY_BYTES) as u64);
        let settings = self.settings();
        format!(
            "tiering_enabled:{}\r\n\
             tiering_policy:{}\r\n\
             hot_keys:{}\r\n\
             cold_keys:{cold}\r\n\
             hot_bytes:{hot_bytes}\r\n\
             cold_bytes_on_disk:{}\r\n\
             stub_bytes:{stub_bytes}\r\n\
             compression_ratio:{ratio:.2}\r\n\
             demotions:{demotions}\r\n\
             clean_demotions:{}\r\n\
             demotions_per_sec:{demotions_ps:.0}\r\n\
             demotion_errors:{}\r\n\
             promotions:{promotions}\r\n\
             promotions_per_sec:{promotions_ps:.0}\r\n\
             loads:{}\r\n\
             sync_loads:{}\r\n\
             element_loads:{}\r\n\
             elements_loaded:{}\r\n\
             prefetched_keys:{}\r\n\
             load_errors:{}\r\n\
             loads_in_flight:{}\r\n\
             load_latency_p50_us:{}\r\n\
             load_latency_p99_us:{}\r\n\
             demotion_queue_depth:{}\r\n\
             cold_deletes:{}\r\n\
             write_stalls:{}\r\n\
             rocksdb_memory_budget:{}\r\n\
             rocksdb_block_cache_capacity:{}\r\n\
             rocksdb_block_cache_usage:{}\r\n\
             rocksdb_memtable_bytes:{}\r\n\
             rocksdb_table_readers_bytes:{}\r\n\
             rocksdb_block_cache_hit_rate:{hit_rate:.4}\r\n\
             rocksdb_write_stalls:{}\r\n",
            self.demoting as u8,
            match settings.policy {
                Policy::Lfu => "lfu",
                Policy::Lru => "lru",
            },
            keys - cold,
            store.live_data_bytes,
            s.clean_demotions.load(Ordering::Relaxed),
            s.demotion_errors.load(Ordering::Relaxed),
            s.loads.load(Ordering::Relaxed),
            s.sync_loads.load(Ordering::Relaxed),
            s.element_loads.load(Ordering::Relaxed),
            s.elements_loaded.load(Ordering::Relaxed),
            s.prefetched.load(Ordering::Relaxed),
            s.load_errors.load(Ordering::Relaxed),
            s.loads_in_flight.load(Ordering::Relaxed).max(0),
            s.load_latency_us(50.0),
            s.load_latency_us(99.0),
            self.demoters.queue_depth(),
            s.deletes.load(Ordering::Relaxed),
            s.write_stalls.load(Ordering::Relaxed),
            store.memory_budget,
            store.block_cache_capacity,
            store.block_cache_usage,
            store.memtable_bytes,
            store.table_readers_bytes,
            store.write_stalls,
        )
    }
}

/// Most requests of a pipeline a load looks ahead into (see [`prefetch`]).
pub const PREFETCH_REQUESTS: usize = 64;

/// Adds to `request` (a load for the running command) the cold keys of the same database that
/// the pipeline's next requests will read (`cmd::upcoming_keys`), so that one read fetches
/// them all instead of one round trip to the reader pool per command: a pipeline of GETs of
/// cold keys then waits for one load, not sixteen. The keys added come after the request's own;
/// their values are installed as soon as they are read ([`install_prefetched`]), so that they
/// are hot values demotion can take back like any other, not memory held outside the
/// keyspace (which, at a small `maxmemory`, made the pipeline's writes fail with OOM). Only
/// with `tiering-promote-on first-hit` (a value installed for a later command must stay hot
/// until it runs); a request for single elements is left alone.
pub fn prefetch(server: &Server, request: &mut LoadRequest, upcoming: Vec<Bytes>) {
    if !request.elements.is_empty() || upcoming.is_empty() {
        return;
    }
    let Some(tier) = server.tier.get() else {
        return;
    };
    if tier.demoting && tier.settings().promote_on_second_hit {
        return;
    }
    let shards: smallvec::SmallVec<[usize; 4]> = upcoming
        .iter()
        .map(|k| crate::keyspace::shard_of(k))
        .collect();
    let mut ks = server.keyspace.lock(server.clock(Instant::now()), shards);
    let cold = ks.cold_keys(request.db, upcoming.iter());
    drop(ks);
    let before = request.keys.len();
    for key in cold {
        if !request.keys.contains(&key) {
            request.keys.push(key);
        }
    }
    tier.stats
        .prefetched
        .fetch_add((request.keys.len() - before) as u64, Ordering::Relaxed);
}

/// Installs values read ahead for a pipeline's next commands (see [`prefetch`]) in database
/// `db`, each under its shard's lock and only if its stub still names the record read, as hot
/// values.
pub fn install_prefetched(server: &Server, db: usize, values: Preloaded) {
    let Some(tier) = server.tier.get() else {
        return;
    };
    let found: Vec<(Bytes, u64, crate::types::Value)> = values
        .into_iter()
        .filter_map(|(d, key, read)| match read {
            Ok(Some((version, value))) if d == db => Some((key, version, value)),
            _ => None,
        })
        .collect();
    if found.is_empty() {
        return;
    }
    let shards = found
        .iter()
        .map(|(k, _, _)| crate::keyspace::shard_of(k))
        .collect();
    let mut ks = server.keyspace.lock(server.clock(Instant::now()), shards);
    for (key, version, value) in found {
        if ks.install_loaded(db, &key, version, value, true)
            == crate::keyspace::cold::Installed::Yes
        {
            tier.stats.promotions.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Loads cold values back into RAM after a restart (see `server::persist`): every one in
/// pure-memory mode or without `maxmemory`, else until used memory reaches 90% of it. Returns
/// how many.
pub fn preload(server: &Server, tier: &Tier) -> u64 {
    let mut loaded = 0;
    for shard in 0..crate::keyspace::SHARDS {
        let keys = server.keyspace.cold_keys_of(shard);
        for chunk in keys.chunks(256) {
            if server.is_shutting_down() {
                return loaded;
            }
            let limit = server.memory.limit();
            if tier.demoting && limit != 0 && server.memory.used() as f64 > limit as f64 * 0.9 {
                return loaded;
            }
            let data_keys: Vec<Vec<u8>> = chunk
                .iter()
                .map(|(_, disk_db, k)| store::data_key(*disk_db, crate::keyspace::key_slot(k), k))
                .collect();
            let mut values = Vec::with_capacity(chunk.len());
            let reads = tier.store.multi_get(&data_keys);
            for (((db, _, key), data_key), read) in chunk.iter().zip(&data_keys).zip(reads) {
                match tier.decode_read(data_key, read) {
                    Ok(Some((version, value))) => values.push((*db, key.clone(), version, value)),
                    // Deleted meanwhile: nothing to load.
                    Ok(None) => {}
                    Err(e) => {
                        tracing::error!("preload stopped: reading a cold value failed: {e}");
                        return loaded;
                    }
                }
            }
            loaded += server.keyspace.install_preloaded(shard, values);
        }
    }
    loaded
}

/// RAM one key costs as a cold stub, for INFO's estimates: its hash-table bucket (key inline
/// up to 24 bytes, entry) and control byte.
pub const COLD_ENTRY_BYTES: usize =
    std::mem::size_of::<(crate::keyspace::Key, crate::keyspace::Entry)>() + 1;

/// Dispatch's step before a command runs with tiering on: which of its keys are cold, and
/// for those whose values the connection already loaded (`client.preloaded`), put them back.
pub enum Prepared {
    /// Every key the command needs is hot.
    Ready,
    /// These keys must be loaded first.
    Load(Box<LoadRequest>),
    /// Loading failed: the command answers this error and does not run.
    Failed(String),
}

/// Readies the keys `keys` of database `db` for a command about to run on `ks`. Values loaded
/// are promoted (hot for good) as `tiering-promote-on` says, or always with `promote`: a
/// script loads its keys in a view of its own before it runs, so they must stay hot past it.
///
/// `elements`, when not empty, are the only elements of its one key the command reads (HGET,
/// SMISMEMBER, ZMSCORE ...): a cold split collection is then read in part, for this command
/// only (see `Locked::install_elements`), and stays cold.
pub fn prepare<'k>(
    tier: &Tier,
    preloaded: &mut Preloaded,
    ks: &mut crate::keyspace::Locked,
    db: usize,
    keys: impl Iterator<Item = &'k Bytes>,
    elements: &[Bytes],
    promote: bool,
) -> Prepared {
    let cold = ks.cold_keys(db, keys);
    if cold.is_empty() {
        preloaded.clear();
        return Prepared::Ready;
    }
    let promote_all = promote || !tier.demoting || !tier.settings().promote_on_second_hit;
    let disk_db = ks.disk_db(db);
    let mut missing = Vec::new();
    let mut by_element = false;
    for key in cold {
        let found = preloaded
            .iter()
            .position(|(d, k, _)| *d == db && *k == key)
            .map(|i| preloaded.swap_remove(i).2);
        let split = !elements.is_empty() && ks.cold_stub(db, &key).is_some_and(|s| s.split);
        match found {
            Some(Ok(Some((version, value)))) if split => {
                let installed = ks.install_elements(db, &key, version, value);
                if installed == crate::keyspace::cold::Installed::Outdated {
                    by_element = true;
                    missing.push(key);
                }
            }
            Some(Ok(Some((version, value)))) => {
                let promote = promote_all || tier.loader.second_hit(db, &key);
                match ks.install_loaded(db, &key, version, value, promote) {
                    crate::keyspace::cold::Installed::Yes => {
                        if promote {
                            tier.stats.promotions.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    crate::keyspace::cold::Installed::NotCold => {}
                    crate::keyspace::cold::Installed::Outdated => missing.push(key),
                }
            }
            // The record was gone when read: the key changed meanwhile; read it again.
            Some(Ok(None)) | None => {
                by_element |= split;
                missing.push(key);
            }
            Some(Err(e)) => {
                preloaded.clear();
                return Prepared::Failed(e);
            }
        }
    }
    preloaded.clear();
    if missing.is_empty() {
        Prepared::Ready
    } else {
        let elements = if by_element && missing.len() == 1 {
            let mut names = elements.to_vec();
            names.sort_unstable();
            names.dedup();
            names
        } else {
            Vec::new()
        };
        Prepared::Load(Box::new(LoadRequest {
            db,
            disk_db,
            keys: missing,
            elements,
        }))
    }
}
