//! The keyspace: every key of every database, grouped by hash slot into shards that are locked
//! independently.
//!
//! The 16384 slots are split into [`SHARDS`] contiguous ranges; each range is one [`Shard`]
//! behind its own mutex and holds that range for all databases, so a command on one key (or on
//! one key in two databases, as MOVE and COPY ... DB do) locks exactly one shard. Within a shard,
//! keys are kept per slot, so that a slot's keys can be listed without scanning others
//! (SCAN's cursor, and later replication, migration and the inspector, work slot by slot).
//!
//! Commands never lock shards themselves: dispatch locks every shard a command (or a whole
//! transaction) needs, in ascending order, and hands the handler a [`Locked`] view. Lock order is
//! the deadlock-freedom argument: every path that holds two shard locks took them in ascending
//! shard index.
//!
//! Expiry is lazy (a lookup of an expired key removes it) plus active: [`Keyspace::expire_cycle`]
//! pops due keys from each shard's time-ordered expiry index.

pub mod cold;
pub mod entry;
pub mod events;
pub mod journal;
pub mod slot;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use crossbeam_utils::CachePadded;
use hashbrown::hash_map::EntryRef;
use hashbrown::{HashMap, HashSet};
use parking_lot::{Mutex, MutexGuard};
use smallvec::SmallVec;

pub use cold::{Dirty, Garbage, IndexEntry, Picked, ShardSnapshot, Victim};
pub use entry::{Access, Disk, Entry, StrEncoding};
pub use events::{class, KeyEvent};
use journal::Wrote;
pub use journal::{Effect, Journal};
pub use slot::{key_slot, SLOTS};

use crate::types::Value;

/// A stored key. Keys of up to 24 bytes live inline in the hash table's bucket, so a lookup
/// compares them without chasing a pointer (one cache miss fewer per command); longer keys are
/// on the heap. Keys are copied out of the read buffer when first stored, so a stored key never
/// pins a client's buffer.
pub type Key = SmallVec<[u8; 24]>;

/// Number of independently locked shards.
pub const SHARDS: usize = 256;
const SLOTS_PER_SHARD: usize = SLOTS / SHARDS;

type Table = HashMap<Key, Entry, foldhash::fast::RandomState>;

/// The shard that owns `slot`.
pub fn shard_of_slot(slot: u16) -> usize {
    slot as usize / SLOTS_PER_SHARD
}

/// The shard that owns `key`.
pub fn shard_of(key: &[u8]) -> usize {
    shard_of_slot(key_slot(key))
}

pub struct Keyspace {
    /// Padded to a cache line each, so that two threads locking neighbouring shards do not
    /// contend on one line.
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    databases: usize,
    /// Reads cold values back when a command meets one that dispatch did not load beforehand
    /// (set when tiering is on).
    cold_reader: std::sync::OnceLock<Arc<dyn ColdReader>>,
    /// Receives every step's effects (set when the binlog is on, after replay).
    journal: std::sync::OnceLock<Arc<dyn Journal>>,
    /// `tiering-split-elements`: hashes, sets and sorted sets with at least this many elements
    /// are written to RocksDB split, one entry per element (0: never).
    split_elements: std::sync::atomic::AtomicUsize,
}

/// Reads a cold value's record from RocksDB (implemented by the tier, src/tier).
pub trait ColdReader: Send + Sync {
    /// The record of `key` under on-disk database `disk_db` (see [`Shard::disk_dbs`]): the key
    /// version it was written from, and the value.
    fn read(&self, disk_db: u16, slot: u16, key: &[u8]) -> Result<Option<(u64, Value)>, String>;
}

/// One slot range of every database.
pub struct Shard {
    dbs: Vec<Option<Box<DbShard>>>,
    next_version: u64,
    /// Keys some client WATCHes while they do not exist, by database (see [`MissingWatch`]).
    watched_missing: HashMap<(usize, Key), Arc<MissingWatch>>,
    /// Some value of this shard was ever written to RocksDB.
    tiered: bool,
    /// Databases flushed since the demotion thread last looked (by on-disk number): their
    /// slot ranges must be deleted from RocksDB before anything else of this shard is written.
    flushed: Vec<u16>,
    /// The database number each database's records are written under in RocksDB, by index:
    /// `i` until SWAPDB swaps two entries along with the databases themselves, so that records
    /// never move. The same permutation in every shard (SWAPDB locks them all).
    disk_dbs: Vec<u16>,
}

/// A WATCH on a key that did not exist when watched. Versions cannot tell whether such a key
/// was created and deleted again before EXEC (it is missing both times), so creating a key
/// that is watched this way bumps `created`, which EXEC compares. Entries live in the shard
/// while any [`WatchGuard`] holds them; dropping the guard (UNWATCH, EXEC, DISCARD, RESET,
/// disconnect) releases them without taking the shard lock, and the shard drops released
/// entries the next time it looks.
#[derive(Debug, Default)]
pub struct MissingWatch {
    watchers: AtomicU32,
    created: AtomicU64,
}

/// What WATCH recorded about one key (see [`Locked::watch`] and [`Locked::watch_changed`]).
#[derive(Debug)]
pub struct WatchState {
    /// The key's version when watched; None when it did not exist.
    pub version: Option<u64>,
    /// For a missing key: its registration and the creation count seen at WATCH time.
    missing: Option<(WatchGuard, u64)>,
}

/// Holds one watcher's registration of a missing key; dropping it releases the registration.
#[derive(Debug)]
pub struct WatchGuard(Arc<MissingWatch>);

impl Drop for WatchGuard {
    fn drop(&mut self) {
        self.0.watchers.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One slot range of one database.
#[derive(Default)]
pub struct DbShard {
    /// One table per slot of the range, indexed by `slot % SLOTS_PER_SHARD`.
    slots: Vec<Table>,
    len: usize,
    /// Keys with a TTL, ordered by expiry time.
    expires: BTreeSet<(u64, Key)>,
    /// How many entries hold a cold value.
    cold: usize,
    /// Keys whose RocksDB record must be deleted (their entry was removed or replaced), in the
    /// order that happened, each with whether the record was split (its elements go too); the
    /// shard's demotion thread takes them (see [`entry::Disk`]).
    garbage: Vec<(Key, bool)>,
    /// For big collections written split: the elements changed since their last split write
    /// was taken (see [`cold::Layout`]). A key is here only while the binlog is on (every
    /// write's effect then names what it changed) and RocksDB's elements, once that write is
    /// done, differ from the value only in these; any other write, a removal or a failed write
    /// takes it out, and the next write of the key is a whole one.
    element_changes: HashMap<Key, HashSet<Key>>,
    /// One bit per slot table: set when an entry of the table stops being indexed (a write),
    /// so that a checkpoint scans only these tables. Every entry not indexed is in a marked
    /// table, except those a checkpoint under way has taken (it marks them again if it fails).
    unindexed_slots: u64,
}

impl DbShard {
    fn new() -> Box<DbShard> {
        Box::new(DbShard {
            slots: (0..SLOTS_PER_SHARD).map(|_| Table::default()).collect(),
            ..Default::default()
        })
    }

    /// An entry of `slot`'s table stops (or may stop) being indexed.
    fn mark_unindexed(&mut self, slot: u16) {
        self.unindexed_slots |= 1u64 << (slot as usize % SLOTS_PER_SHARD);
    }

    fn table(&self, slot: u16) -> &Table {
        &self.slots[slot as usize % SLOTS_PER_SHARD]
    }

    fn table_mut(&mut self, slot: u16) -> &mut Table {
        &mut self.slots[slot as usize % SLOTS_PER_SHARD]
    }

    /// The live entry for `key`, in one hash lookup. An expired entry is reported as missing and
    /// removed on the way (lazy expiry, recorded in `expired`), unless `keep` (expiry paused).
    fn live_mut(
        &mut self,
        slot: u16,
        key: &[u8],
        now_ms: u64,
        expired: journal::Expired<'_>,
        keep: bool,
    ) -> Option<&mut Entry> {
        let DbShard {
            slots,
            len,
            expires,
            cold,
            garbage,
            element_changes,
            unindexed_slots: _,
        } = self;
        match slots[slot as usize % SLOTS_PER_SHARD].entry_ref(key) {
            EntryRef::Vacant(_) => None,
            EntryRef::Occupied(o) if o.get().is_expired(now_ms) && keep => None,
            EntryRef::Occupied(o) if o.get().is_expired(now_ms) => {
                let (k, e) = o.remove_entry();
                *len -= 1;
                forget_record(cold, garbage, element_changes, &k, &e);
                expires.remove(&(e.expires_at, k));
                expired.record(key);
                None
            }
            EntryRef::Occupied(o) => Some(o.into_mut()),
        }
    }

    fn remove(&mut self, slot: u16, key: &[u8]) -> Option<Entry> {
        let (k, entry) = self.table_mut(slot).remove_entry(key)?;
        self.len -= 1;
        self.forget_record(&k, &entry);
        if entry.expires_at != 0 {
            self.expires.remove(&(entry.expires_at, k));
        }
        Some(entry)
    }

    /// Sets the expiry of `key`'s entry, keeping the expiry index in step; None when the key
    /// is not in the table (expired or not).
    fn set_expires_at(&mut self, slot: u16, key: &[u8], expires_at: u64) -> Option<&mut Entry> {
        let DbShard { slots, expires, .. } = self;
        let (k, entry) = slots[slot as usize % SLOTS_PER_SHARD].get_key_value_mut(key)?;
        let old = std::mem::replace(&mut entry.expires_at, expires_at);
        if old != expires_at {
            if old != 0 {
                expires.remove(&(old, k.clone()));
            }
            if expires_at != 0 {
                expires.insert((expires_at, k.clone()));
            }
        }
        Some(entry)
    }

    /// `entry` left the table under `key`: its record, if any, becomes garbage.
    fn forget_record(&mut self, key: &Key, entry: &Entry) {
        forget_record(
            &mut self.cold,
            &mut self.garbage,
            &mut self.element_changes,
            key,
            entry,
        );
    }
}

/// The entry under `key` left the table or had its value replaced whole: the record RocksDB
/// holds for it, if any, becomes garbage of its shard, and no element changes are tracked for
/// it any more (`cold`, `garbage` and `changes` are that `DbShard`'s fields, passed apart so
/// that callers can hold a table borrow meanwhile).
fn forget_record(
    cold: &mut usize,
    garbage: &mut Vec<(Key, bool)>,
    changes: &mut HashMap<Key, HashSet<Key>>,
    key: &Key,
    entry: &Entry,
) {
    if !changes.is_empty() {
        changes.remove(key);
    }
    if entry.disk != Disk::None {
        *cold -= entry.value.is_cold() as usize;
        garbage.push((key.clone(), entry.split));
    }
}

impl Shard {
    fn db(&self, db: usize) -> Option<&DbShard> {
        self.dbs[db].as_deref()
    }

    fn db_mut(&mut self, db: usize) -> &mut DbShard {
        self.dbs[db].get_or_insert_with(DbShard::new)
    }

    /// A key was created: a watch registered on it while it was missing sees the change.
    fn note_created(&mut self, db: usize, key: &[u8]) {
        let k = (db, Key::from_slice(key));
        if let Some(w) = self.watched_missing.get(&k) {
            if w.watchers.load(Ordering::Relaxed) == 0 {
                self.watched_missing.remove(&k);
            } else {
                w.created.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn bump(&mut self) -> u64 {
        self.next_version += 1;
        self.next_version
    }
}

/// Counts a command's lookups produced, for INFO's keyspace_hits/misses and expired_keys.
#[derive(Debug, Default, Clone, Copy)]
pub struct LookupStats {
    pub hits: u64,
    pub misses: u64,
    pub expired: u64,
}

/// Access-clock settings a lookup needs to update a key's LRU/LFU state.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub now_ms: u64,
    pub lfu_log_factor: u32,
    pub lfu_decay_time: u32,
}

impl Clock {
    pub fn now_s(&self) -> u32 {
        (self.now_ms / 1000) as u32
    }
}

impl Keyspace {
    pub fn new(databases: usize) -> Keyspace {
        let shards = (0..SHARDS)
            .map(|_| {
                CachePadded::new(Mutex::new(Shard {
                    dbs: (0..databases).map(|_| None).collect(),
                    next_version: 0,
                    watched_missing: HashMap::new(),
                    tiered: false,
                    flushed: Vec::new(),
                    disk_dbs: (0..databases as u16).collect(),
                }))
            })
            .collect();
        Keyspace {
            shards,
            databases,
            cold_reader: std::sync::OnceLock::new(),
            journal: std::sync::OnceLock::new(),
            split_elements: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Installs the reader of cold values (once, when tiering starts).
    /// Sends every write's effects to `journal` from now on (see [`journal`]).
    pub fn set_journal(&self, journal: Arc<dyn Journal>) {
        let _ = self.journal.set(journal);
    }

    /// Sets `tiering-split-elements` (see [`cold::Layout`]).
    pub fn set_split_elements(&self, n: usize) {
        self.split_elements.store(n, Ordering::Relaxed);
    }

    pub fn set_cold_reader(&self, reader: Arc<dyn ColdReader>) {
        let _ = self.cold_reader.set(reader);
    }

    pub fn databases(&self) -> usize {
        self.databases
    }

    /// Locks the given shards (any order, duplicates allowed) in ascending order.
    pub fn lock(&self, clock: Clock, mut shards: SmallVec<[usize; 4]>) -> Locked<'_> {
        shards.sort_unstable();
        shards.dedup();
        let all = shards.len() == SHARDS;
        let guards = shards
            .into_iter()
            .map(|i| (i, self.shards[i].lock()))
            .collect();
        Locked {
            guards,
            all,
            reader: self.cold_reader.get().map(|r| &**r),
            journal: self.journal.get().map(|j| &**j),
            touched: Vec::new(),
            command_start: 0,
            structural: Vec::new(),
            load_error: None,
            transient: Vec::new(),
            partial: Vec::new(),
            clock,
            stats: LookupStats::default(),
            slot_hint: (0, 0, 0),
            notify_mask: 0,
            keep_expired: false,
            events: Vec::new(),
            track_ready: false,
            ready: Vec::new(),
        }
    }

    /// Adds `shards` to the locked view `ks` (a blocked client's command being served after
    /// the command that woke it). A shard above every one held is simply locked; a lower one is
    /// only tried, and if another command holds it, every lock is released and the union taken
    /// again in ascending order (lock order stays ascending, so no deadlock; only then can
    /// another command run between the write and the serving).
    pub fn lock_also<'a>(&'a self, ks: &mut Locked<'a>, shards: &[usize]) {
        if ks.all {
            return;
        }
        let mut missing: SmallVec<[usize; 4]> = shards
            .iter()
            .copied()
            .filter(|s| !ks.guards.iter().any(|(i, _)| i == s))
            .collect();
        if missing.is_empty() {
            return;
        }
        missing.sort_unstable();
        missing.dedup();
        let max_held = ks.guards.iter().map(|(i, _)| *i).max();
        let mut contended = false;
        for &s in &missing {
            if max_held.is_none_or(|m| s > m) {
                ks.guards.push((s, self.shards[s].lock()));
            } else if let Some(g) = self.shards[s].try_lock() {
                ks.guards.push((s, g));
            } else {
                contended = true;
                break;
            }
        }
        if contended {
            let mut all: SmallVec<[usize; 4]> = ks.guards.iter().map(|(i, _)| *i).collect();
            all.extend(missing);
            all.sort_unstable();
            all.dedup();
            ks.guards.clear();
            for s in all {
                ks.guards.push((s, self.shards[s].lock()));
            }
        }
        ks.guards.sort_unstable_by_key(|(i, _)| *i);
        ks.all = ks.guards.len() == SHARDS;
    }

    /// Locks every shard, in ascending order.
    pub fn lock_all(&self, clock: Clock) -> Locked<'_> {
        self.lock(clock, (0..SHARDS).collect())
    }

    /// Removes keys whose TTL has passed, visiting every shard and locking one at a time; at most
    /// `budget` keys per shard per call. Returns the keys removed, with their database.
    pub fn expire_cycle(&self, now_ms: u64, budget: usize) -> Vec<(usize, Bytes)> {
        let mut removed = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = shard.lock();
            let first = removed.len();
            for (db, dbs) in shard.dbs.iter_mut().enumerate() {
                let Some(dbs) = dbs.as_deref_mut() else {
                    continue;
                };
                for _ in 0..budget {
                    match dbs.expires.first() {
                        Some((at, _)) if *at <= now_ms => {}
                        _ => break,
                    }
                    let Some((_, key)) = dbs.expires.pop_first() else {
                        break;
                    };
                    if let Some(e) = dbs.table_mut(key_slot(&key)).remove(&key) {
                        dbs.len -= 1;
                        dbs.forget_record(&key, &e);
                    }
                    removed.push((db, Bytes::copy_from_slice(&key)));
                }
            }
            // Recorded under the shard's lock, like a command's writes.
            if let (Some(journal), true) = (self.journal.get(), removed.len() > first) {
                let version = shard.bump();
                let dels: Vec<Effect<'_>> = removed[first..]
                    .iter()
                    .map(|(db, key)| Effect::Del {
                        db: *db,
                        key,
                        version,
                    })
                    .collect();
                journal.append(&dels);
            }
        }
        removed
    }
}

/// A set of locked shards: the only way to read or write keys. Dropping it releases the locks.
pub struct Locked<'a> {
    guards: SmallVec<[(usize, MutexGuard<'a, Shard>); 2]>,
    all: bool,
    /// Reads cold values a command meets (None without tiering).
    reader: Option<&'a dyn ColdReader>,
    /// Where the view's effects go when it is dropped (None without the binlog).
    journal: Option<&'a dyn Journal>,
    /// Keys this view wrote, and its FLUSHDBs and SWAPDBs (see [`journal`]).
    touched: Vec<journal::Touched>,
    /// Where the running command's notes start in `touched`.
    command_start: usize,
    structural: Vec<journal::Structural>,
    /// Why a cold value the command needed could not be read: dispatch replies with it.
    pub load_error: Option<String>,
    /// Values loaded for this command only (not promoted): made cold again when the view
    /// closes, unless the command changed them.
    transient: Vec<(usize, Key, u32)>,
    /// Collections holding only the elements a command reads (`Locked::install_elements`),
    /// with the stub each is given back when the view closes and the key's version then.
    partial: Vec<(usize, Key, crate::types::ColdStub, u64)>,
    pub clock: Clock,
    pub stats: LookupStats,
    /// The slot of one key the caller already hashed: (address, length, slot) of a slice that
    /// stays alive and unchanged for as long as this view (see [`Locked::hint_slot`]).
    slot_hint: (usize, usize, u16),
    /// The event classes to collect (notify-keyspace-events); 0 collects nothing.
    pub notify_mask: u16,
    /// Expiry is paused (CLIENT PAUSE): an expired key reads as missing but is not removed,
    /// counted or reported, as Redis's expireIfNeeded does while expires are paused.
    pub keep_expired: bool,
    /// Effects collected for dispatch to publish after the command (see [`events`]).
    pub events: Vec<KeyEvent>,
    /// Record keys that blocked clients may be waiting for (some client is blocked).
    pub track_ready: bool,
    /// (db, key) of the list or sorted set keys this view created, while `track_ready`:
    /// dispatch serves their blocked clients (src/server/blocking.rs).
    pub ready: Vec<(usize, Bytes)>,
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        if !self.partial.is_empty() {
            self.restore_partial();
        }
        // Still under the locks: the step's record is ordered with every other step on its keys.
        self.emit_effects();
    }
}

/// The locked shard `idx` among `guards` (a free function so that callers can borrow other
/// fields of [`Locked`] at the same time).
fn shard_in<'g, 'a>(
    guards: &'g mut [(usize, MutexGuard<'a, Shard>)],
    all: bool,
    idx: usize,
) -> &'g mut Shard {
    if all {
        return &mut guards[idx].1;
    }
    match guards.iter_mut().find(|(i, _)| *i == idx) {
        Some((_, g)) => g,
        None => {
            panic!("shard {idx} used without being locked: a command's key positions are wrong")
        }
    }
}

/// Collects `event` when its class is in `mask` (the body of [`Locked::notify`], usable while a
/// shard of the view is borrowed).
#[inline]
fn push_event(
    events: &mut Vec<KeyEvent>,
    mask: u16,
    class: u16,
    event: &'static str,
    db: usize,
    key: &[u8],
) {
    if mask & class != 0 {
        events.push(KeyEvent {
            class,
            event,
            db,
            key: Bytes::copy_from_slice(key),
        });
    }
}

impl<'a> Locked<'a> {
    fn shard_at(&self, idx: usize) -> &Shard {
        if self.all {
            return &self.guards[idx].1;
        }
        match self.guards.iter().find(|(i, _)| *i == idx) {
            Some((_, g)) => g,
            None => {
                panic!("shard {idx} used without being locked: a command's key positions are wrong")
            }
        }
    }

    fn shard_mut(&mut self, slot: u16) -> &mut Shard {
        shard_in(&mut self.guards, self.all, shard_of_slot(slot))
    }

    /// Remembers that `key` hashes to `slot`, so that the view's operations on that very slice
    /// skip hashing it again (dispatch hashed the command's first key to lock its shard).
    /// `key` must stay alive and unchanged for as long as the view: then a slice at the same
    /// address with the same length is the same bytes (dispatch passes a request argument, which
    /// outlives the view it locks).
    pub fn hint_slot(&mut self, key: &[u8], slot: u16) {
        self.slot_hint = (key.as_ptr() as usize, key.len(), slot);
    }

    /// The hash slot of `key`: the hinted one for the hinted slice, else computed.
    #[inline]
    fn slot_of(&self, key: &[u8]) -> u16 {
        let (ptr, len, slot) = self.slot_hint;
        if ptr == key.as_ptr() as usize && len == key.len() && ptr != 0 {
            slot
        } else {
            key_slot(key)
        }
    }

    /// Reports that the command did `event` (of `class`, see [`events::class`]) to `key`.
    #[inline]
    pub fn notify(&mut self, class: u16, event: &'static str, db: usize, key: &[u8]) {
        push_event(&mut self.events, self.notify_mask, class, event, db, key);
    }

    /// True when every shard is locked (whole-keyspace commands).
    pub fn is_all(&self) -> bool {
        self.all
    }

    /// Removes `key` if its TTL has passed; true when it did.
    fn expire_if_due(&mut self, db: usize, slot: u16, key: &[u8]) -> bool {
        let now = self.clock.now_ms;
        let keep = self.keep_expired;
        let shard = self.shard_mut(slot);
        let Some(dbs) = shard.dbs[db].as_deref_mut() else {
            return false;
        };
        let due = dbs.table(slot).get(key).is_some_and(|e| e.is_expired(now));
        if due && !keep {
            dbs.remove(slot, key);
            self.stats.expired += 1;
            self.notify(class::EXPIRED, "expired", db, key);
            self.note_write(db, key, Wrote::Removed);
        }
        due
    }

    /// Looks `key` up for reading: expires it if due, records the access and a hit or miss.
    pub fn get(&mut self, db: usize, key: &[u8]) -> Option<&Entry> {
        let slot = self.slot_of(key);
        self.ensure_hot(db, slot, key);
        self.touch(db, key)
    }

    /// [`Locked::get`] that leaves a cold value on disk (TOUCH).
    pub fn touch(&mut self, db: usize, key: &[u8]) -> Option<&Entry> {
        let slot = self.slot_of(key);
        if self.notify_mask & class::EXPIRED != 0 {
            self.expire_if_due(db, slot, key);
        }
        let (clock, keep) = (self.clock, self.keep_expired);
        let shard = shard_in(&mut self.guards, self.all, shard_of_slot(slot));
        let expired =
            journal::Expired::new(&mut self.stats.expired, &mut self.touched, self.journal, db);
        let found = match shard.dbs[db].as_deref_mut() {
            Some(d) => d.live_mut(slot, key, clock.now_ms, expired, keep),
            None => None,
        };
        match found {
            Some(entry) => {
                entry
                    .access
                    .touch(clock.now_s(), clock.lfu_log_factor, clock.lfu_decay_time);
                self.stats.hits += 1;
                Some(entry)
            }
            None => {
                self.stats.misses += 1;
                // `self.notify` would borrow all of `self` while `found` holds the shard.
                push_event(
                    &mut self.events,
                    self.notify_mask,
                    class::KEY_MISS,
                    "keymiss",
                    db,
                    key,
                );
                None
            }
        }
    }

    /// Looks `key` up for reading without recording an access: counts a hit or miss like
    /// [`Locked::get`] but leaves the LRU/LFU clock alone (Redis's `LOOKUP_NOTOUCH`: TTL, TYPE,
    /// EXISTS, OBJECT).
    pub fn get_notouch(&mut self, db: usize, key: &[u8]) -> Option<&Entry> {
        self.lookup_notouch(db, key, true)
    }

    /// [`Locked::get_notouch`] without the `keymiss` event (Redis's `LOOKUP_NONOTIFY`: OBJECT).
    pub fn get_notouch_nonotify(&mut self, db: usize, key: &[u8]) -> Option<&Entry> {
        self.lookup_notouch(db, key, false)
    }

    fn lookup_notouch(&mut self, db: usize, key: &[u8], notify_miss: bool) -> Option<&Entry> {
        let slot = self.slot_of(key);
        let expired = self.expire_if_due(db, slot, key);
        let exists = !expired
            && self
                .shard_at(shard_of_slot(slot))
                .db(db)
                .is_some_and(|d| d.table(slot).contains_key(key));
        if exists {
            self.stats.hits += 1;
        } else {
            self.stats.misses += 1;
            if notify_miss {
                self.notify(class::KEY_MISS, "keymiss", db, key);
            }
            return None;
        }
        self.shard_at(shard_of_slot(slot))
            .db(db)
            .and_then(|d| d.table(slot).get(key))
    }

    /// Looks `key` up without recording an access or a hit (writes' existence checks), its
    /// value loaded if it was cold.
    pub fn peek(&mut self, db: usize, key: &[u8]) -> Option<&Entry> {
        let slot = self.slot_of(key);
        self.ensure_hot(db, slot, key);
        self.meta(db, key)
    }

    /// [`Locked::peek`] that leaves a cold value on disk: for what the entry itself knows
    /// (existence, type, TTL, version), never its value.
    pub fn meta(&mut self, db: usize, key: &[u8]) -> Option<&Entry> {
        let slot = self.slot_of(key);
        if self.expire_if_due(db, slot, key) {
            return None;
        }
        self.shard_at(shard_of_slot(slot))
            .db(db)
            .and_then(|d| d.table(slot).get(key))
    }

    /// MEMORY USAGE: the bytes `key` costs, its share of its slot's hash table (bucket, control
    /// byte and the table's unused slack) plus its heap buffers (a key longer than the inline 24
    /// bytes, the value) and its expiry-index node. None when the key does not exist.
    pub fn memory_usage(&mut self, db: usize, key: &[u8]) -> Option<usize> {
        let slot = self.slot_of(key);
        if self.expire_if_due(db, slot, key) {
            return None;
        }
        let table = self.shard_at(shard_of_slot(slot)).db(db)?.table(slot);
        let entry = table.get(key)?;
        // hashbrown keeps 7/8 of its power-of-two buckets usable (all but one below 8 buckets),
        // with one control byte per bucket plus a 16-byte group at the end.
        let cap = table.capacity();
        let buckets = if cap < 8 { cap + 1 } else { cap / 7 * 8 };
        let table_bytes =
            crate::types::alloc_size(buckets * (std::mem::size_of::<(Key, Entry)>() + 1) + 16);
        let share = table_bytes / table.len().max(1);
        let key_heap = if key.len() > 24 {
            crate::types::alloc_size(key.len())
        } else {
            0
        };
        // A B-tree node holds up to 11 (expiry, key) pairs and is on average about 2/3 full.
        let ttl = if entry.expires_at != 0 {
            std::mem::size_of::<(u64, Key)>() * 3 / 2 + key_heap
        } else {
            0
        };
        Some(share + key_heap + entry.value.heap_bytes() + ttl)
    }

    /// Looks `key` up to modify it in place. The key gets a new version, so call this only when
    /// about to write. The expiry must be changed through [`Locked::set_expiry`], not here.
    pub fn get_mut(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        let slot = self.slot_of(key);
        self.ensure_hot(db, slot, key);
        // The one-lookup path below expires silently; when expirations are reported, look
        // first (the extra lookup costs only while notifications are on).
        if self.notify_mask & class::EXPIRED != 0 {
            self.expire_if_due(db, slot, key);
        }
        let (clock, keep) = (self.clock, self.keep_expired);
        let shard = shard_in(&mut self.guards, self.all, shard_of_slot(slot));
        let version = shard.next_version + 1;
        let expired =
            journal::Expired::new(&mut self.stats.expired, &mut self.touched, self.journal, db);
        let found = shard.dbs[db].as_deref_mut().and_then(|d| {
            d.mark_unindexed(slot);
            d.live_mut(slot, key, clock.now_ms, expired, keep)
        });
        if found.is_some() {
            journal::note(
                &mut self.touched,
                self.journal.is_some(),
                db,
                key,
                Wrote::Value,
            );
        }
        let entry = found?;
        shard.next_version = version;
        entry.written(version);
        entry
            .access
            .touch(clock.now_s(), clock.lfu_log_factor, clock.lfu_decay_time);
        Some(entry)
    }

    /// [`Locked::get_mut`] in one lookup for a write that first checks the entry: `check`
    /// sees the live entry, and only when it passes does the key get a new version (a refused
    /// write, WRONGTYPE, leaves it alone). `Ok(None)` when the key does not exist.
    pub fn get_mut_checked<E>(
        &mut self,
        db: usize,
        key: &[u8],
        check: impl FnOnce(&Entry) -> Result<(), E>,
    ) -> Result<Option<&mut Entry>, E> {
        let slot = self.slot_of(key);
        self.ensure_hot(db, slot, key);
        let (clock, keep) = (self.clock, self.keep_expired);
        let shard = shard_in(&mut self.guards, self.all, shard_of_slot(slot));
        let version = shard.next_version + 1;
        let Some(dbs) = shard.dbs[db].as_deref_mut() else {
            return Ok(None);
        };
        dbs.mark_unindexed(slot);
        let expired =
            journal::Expired::new(&mut self.stats.expired, &mut self.touched, self.journal, db);
        let Some(entry) = dbs.live_mut(slot, key, clock.now_ms, expired, keep) else {
            return Ok(None);
        };
        check(entry)?;
        journal::note(
            &mut self.touched,
            self.journal.is_some(),
            db,
            key,
            Wrote::Value,
        );
        shard.next_version = version;
        entry.written(version);
        entry
            .access
            .touch(clock.now_s(), clock.lfu_log_factor, clock.lfu_decay_time);
        Ok(Some(entry))
    }

    /// True when `key` exists (and is not expired).
    pub fn contains(&mut self, db: usize, key: &[u8]) -> bool {
        self.meta(db, key).is_some()
    }

    /// Stores `value` under `key`, replacing any previous value and TTL. `expires_at` is absolute
    /// Unix milliseconds, 0 for none. Returns the previous entry.
    pub fn set(&mut self, db: usize, key: &[u8], value: Value, expires_at: u64) -> Option<Entry> {
        let entry = Entry::new(value, expires_at, self.clock.now_s());
        self.set_entry(db, key, entry)
    }

    /// Stores a whole entry under `key` (value, TTL, access clock and encoding as given; a new
    /// version), replacing any previous one: RENAME and MOVE carry an entry over this way.
    /// Returns the previous entry.
    pub fn set_entry(&mut self, db: usize, key: &[u8], mut entry: Entry) -> Option<Entry> {
        self.note_write(db, key, Wrote::Value);
        let slot = self.slot_of(key);
        let now_ms = self.clock.now_ms;
        let wakes = self.track_ready && entry.value.wakes_blocked();
        let new_type = entry.value.type_name();
        let shard = shard_in(&mut self.guards, self.all, shard_of_slot(slot));
        entry.version = shard.bump();
        // A new incarnation of the key: whatever RocksDB holds belongs to the entry replaced
        // (or, for RENAME and MOVE, to another key), never to this one.
        debug_assert!(
            !entry.value.is_cold(),
            "storing a cold stub under a new key"
        );
        entry.disk = Disk::None;
        entry.split = false;
        entry.indexed = false;
        let expires_at = entry.expires_at;
        let dbs = shard.db_mut(db);
        dbs.mark_unindexed(slot);
        let table = dbs.table_mut(slot);
        let (stored_key, old) = match table.get_key_value_mut(key) {
            Some((k, e)) => (k.clone(), Some(std::mem::replace(e, entry))),
            None => {
                let k = Key::from_slice(key);
                table.insert(k.clone(), entry);
                dbs.len += 1;
                (k, None)
            }
        };
        if let Some(old) = &old {
            dbs.forget_record(&stored_key, old);
        }
        let old_at = old.as_ref().map_or(0, |e| e.expires_at);
        if old_at != expires_at {
            if old_at != 0 {
                dbs.expires.remove(&(old_at, stored_key.clone()));
            }
            if expires_at != 0 {
                dbs.expires.insert((expires_at, stored_key));
            }
        }
        // Creating a key a client WATCHes while it is missing (an expired old value counts as
        // missing) must fail that client's EXEC.
        if old.as_ref().is_none_or(|e| e.is_expired(now_ms)) && !shard.watched_missing.is_empty() {
            shard.note_created(db, key);
        }
        // An old value that had already expired was logically gone: report no previous entry.
        let old = match old {
            Some(e) if e.is_expired(now_ms) => {
                self.stats.expired += 1;
                self.notify(class::EXPIRED, "expired", db, key);
                None
            }
            old => old,
        };
        if old.is_none() {
            self.notify(class::NEW, "new", db, key);
        }
        if wakes && old.as_ref().is_none_or(|e| e.value.type_name() != new_type) {
            self.ready.push((db, Bytes::copy_from_slice(key)));
        }
        old
    }

    /// Starts watching `key` for a transaction (WATCH): records its version, or, when it is
    /// missing, registers the watch so that a creation in between is seen.
    pub fn watch(&mut self, db: usize, key: &[u8]) -> WatchState {
        if let Some(e) = self.meta(db, key) {
            return WatchState {
                version: Some(e.version),
                missing: None,
            };
        }
        let shard = self.shard_mut(self.slot_of(key));
        if shard.watched_missing.len() >= 64 {
            // Forget registrations nobody holds any more.
            shard
                .watched_missing
                .retain(|_, w| w.watchers.load(Ordering::Relaxed) > 0);
        }
        let w = shard
            .watched_missing
            .entry((db, Key::from_slice(key)))
            .or_default()
            .clone();
        w.watchers.fetch_add(1, Ordering::Relaxed);
        let created = w.created.load(Ordering::Relaxed);
        WatchState {
            version: None,
            missing: Some((WatchGuard(w), created)),
        }
    }

    /// Whether `key` was written since `state` was recorded by [`Locked::watch`] (EXEC aborts).
    pub fn watch_changed(&mut self, db: usize, key: &[u8], state: &WatchState) -> bool {
        let version = self.meta(db, key).map(|e| e.version);
        if version != state.version {
            return true;
        }
        match &state.missing {
            Some((w, created)) => w.0.created.load(Ordering::Relaxed) != *created,
            None => false,
        }
    }

    /// Replaces the value of an existing key, keeping its TTL (the encoding goes back to
    /// [`StrEncoding::Auto`]). Returns false when the key does not exist.
    pub fn set_keep_ttl(&mut self, db: usize, key: &[u8], value: Value) -> bool {
        let slot = self.slot_of(key);
        if self.expire_if_due(db, slot, key) {
            return false;
        }
        let clock = self.clock;
        let shard = shard_in(&mut self.guards, self.all, shard_of_slot(slot));
        let version = shard.bump();
        let Some(dbs) = shard.dbs[db].as_deref_mut() else {
            return false;
        };
        dbs.mark_unindexed(slot);
        let Some((k, entry)) = dbs.slots[slot as usize % SLOTS_PER_SHARD].get_key_value_mut(key)
        else {
            return false;
        };
        journal::note(
            &mut self.touched,
            self.journal.is_some(),
            db,
            key,
            Wrote::Value,
        );
        // The old value is replaced, not read: a cold one is not loaded, its record is garbage.
        forget_record(
            &mut dbs.cold,
            &mut dbs.garbage,
            &mut dbs.element_changes,
            k,
            entry,
        );
        entry.disk = Disk::None;
        entry.split = false;
        entry.value = value;
        entry.str_enc = StrEncoding::Auto;
        entry.version = version;
        entry.indexed = false;
        entry
            .access
            .touch(clock.now_s(), clock.lfu_log_factor, clock.lfu_decay_time);
        true
    }

    /// Removes `key`; returns its entry if it existed (and had not expired).
    pub fn remove(&mut self, db: usize, key: &[u8]) -> Option<Entry> {
        let slot = self.slot_of(key);
        if self.expire_if_due(db, slot, key) {
            return None;
        }
        let removed = self.shard_mut(slot).dbs[db]
            .as_deref_mut()?
            .remove(slot, key)?;
        self.note_write(db, key, Wrote::Removed);
        Some(removed)
    }

    /// Sets (or with 0 clears) the absolute expiry of an existing key. False if it does not exist.
    pub fn set_expiry(&mut self, db: usize, key: &[u8], expires_at: u64) -> bool {
        let slot = self.slot_of(key);
        if self.expire_if_due(db, slot, key) {
            return false;
        }
        let shard = shard_in(&mut self.guards, self.all, shard_of_slot(slot));
        let version = shard.next_version + 1;
        let Some(entry) = shard.dbs[db].as_deref_mut().and_then(|d| {
            d.mark_unindexed(slot);
            d.set_expires_at(slot, key, expires_at)
        }) else {
            return false;
        };
        shard.next_version = version;
        entry.written(version);
        journal::note(
            &mut self.touched,
            self.journal.is_some(),
            db,
            key,
            Wrote::Ttl,
        );
        true
    }

    /// Number of keys in `db` over the locked shards (expired keys not yet removed included, as
    /// in Redis).
    pub fn len(&self, db: usize) -> usize {
        self.guards
            .iter()
            .filter_map(|(_, g)| g.db(db))
            .map(|d| d.len)
            .sum()
    }

    /// Number of keys with a TTL in `db` over the locked shards.
    pub fn expires_len(&self, db: usize) -> usize {
        self.guards
            .iter()
            .filter_map(|(_, g)| g.db(db))
            .map(|d| d.expires.len())
            .sum()
    }

    /// Average remaining TTL in ms of the keys with one, 0 when none.
    pub fn avg_ttl(&self, db: usize) -> u64 {
        let now = self.clock.now_ms;
        let (mut sum, mut n) = (0u128, 0u128);
        for d in self.guards.iter().filter_map(|(_, g)| g.db(db)) {
            for (at, _) in d.expires.iter().take(1000) {
                sum += at.saturating_sub(now) as u128;
                n += 1;
            }
        }
        sum.checked_div(n).unwrap_or(0) as u64
    }

    /// Deletes every key of `db` over the locked shards; returns the dropped tables so that the
    /// caller can free them off the lock (FLUSHDB ASYNC).
    pub fn flush_db(&mut self, db: usize) -> Vec<Box<DbShard>> {
        self.note_flush(db);
        self.flush_db_where(db, |_| true)
    }

    /// Empties `db` in the locked shards `which` accepts (replay after a checkpoint, where
    /// shards whose state is newer than the FLUSHDB keep theirs). Not journaled. The tables
    /// come back whole, as [`Locked::flush_db`]'s do, to be dropped after the locks.
    #[allow(clippy::vec_box)]
    pub(super) fn flush_db_where(
        &mut self,
        db: usize,
        which: impl Fn(usize) -> bool,
    ) -> Vec<Box<DbShard>> {
        self.guards
            .iter_mut()
            .filter(|(i, _)| which(*i))
            .filter_map(|(_, g)| {
                let taken = g.dbs[db].take()?;
                if g.tiered {
                    let disk_db = g.disk_dbs[db];
                    g.flushed.push(disk_db);
                }
                Some(taken)
            })
            .collect()
    }

    /// Swaps two databases in every locked shard (SWAPDB needs them all). Their records in
    /// RocksDB stay where they are: the on-disk numbers swap with the databases.
    pub fn swap_dbs(&mut self, a: usize, b: usize) {
        self.note_swap(a, b);
        self.swap_dbs_where(a, b, |_| true);
    }

    /// Swaps two databases in the locked shards `which` accepts (see
    /// [`Locked::flush_db_where`]). Not journaled.
    pub(super) fn swap_dbs_where(&mut self, a: usize, b: usize, which: impl Fn(usize) -> bool) {
        for (_, g) in self.guards.iter_mut().filter(|(i, _)| which(*i)) {
            g.dbs.swap(a, b);
            g.disk_dbs.swap(a, b);
        }
    }

    /// The number database `db`'s records are written under in RocksDB (see
    /// [`Shard::disk_dbs`]).
    pub fn disk_db(&self, db: usize) -> u16 {
        self.guards
            .iter()
            .next()
            .map_or(db as u16, |(_, g)| g.disk_dbs[db])
    }

    /// Visits every live key of `db` in slot order (all shards must be locked), calling `f` with
    /// each key and entry until it returns false.
    pub fn for_each(&self, db: usize, mut f: impl FnMut(&[u8], &Entry) -> bool) {
        let now = self.clock.now_ms;
        for (_, g) in self.guards.iter() {
            let Some(d) = g.db(db) else { continue };
            for table in &d.slots {
                for (k, e) in table {
                    if !e.is_expired(now) && !f(k, e) {
                        return;
                    }
                }
            }
        }
    }

    /// One SCAN step over `db` (all shards must be locked). The cursor is the next slot to visit;
    /// whole slots are returned, so every key present for the whole scan is returned at least
    /// once, whatever writes happen between calls. Keys whose name fails `wanted` (MATCH) are
    /// skipped; wanted keys whose TTL has passed are removed, as Redis's SCAN does; `f` gets the
    /// other wanted keys. Stops after the slot that brings the keys looked at to at least
    /// `count`. Returns the next cursor (0 when done).
    pub fn scan(
        &mut self,
        db: usize,
        cursor: u64,
        count: usize,
        wanted: impl Fn(&[u8]) -> bool,
        mut f: impl FnMut(&[u8], &Entry),
    ) -> u64 {
        let now = self.clock.now_ms;
        let mut seen = 0usize;
        let mut slot = cursor as usize;
        let mut expired = Vec::new();
        // Empty slots cost next to nothing (and every shard is locked already), so only keys
        // count towards `count`: a small database is scanned in one call, as in Redis.
        while slot < SLOTS {
            let shard = self.shard_at(shard_of_slot(slot as u16));
            if let Some(d) = shard.db(db) {
                let table = &d.slots[slot % SLOTS_PER_SHARD];
                for (k, e) in table {
                    if !wanted(k) {
                        continue;
                    }
                    if e.is_expired(now) {
                        expired.push(k.clone());
                    } else {
                        f(k, e);
                    }
                }
                seen += table.len();
            }
            slot += 1;
            if seen >= count {
                break;
            }
        }
        for k in expired {
            self.expire_if_due(db, key_slot(&k), &k);
        }
        if slot >= SLOTS {
            0
        } else {
            slot as u64
        }
    }

    /// A uniformly chosen live key of `db` (all shards must be locked), or None when empty.
    pub fn random_key(&mut self, db: usize) -> Option<Bytes> {
        // A chosen key may turn out to be expired: it is removed and another one drawn, so this
        // ends with a live key or an empty database. While expiry is paused expired keys stay,
        // so after 100 draws the last one is returned even if expired (as Redis does).
        let mut draws = 0;
        loop {
            let total = self.len(db);
            if total == 0 {
                return None;
            }
            let mut n = rand::random::<u64>() as usize % total;
            let mut chosen = None;
            'find: for (_, g) in self.guards.iter() {
                let Some(d) = g.db(db) else { continue };
                if n >= d.len {
                    n -= d.len;
                    continue;
                }
                for table in &d.slots {
                    if n >= table.len() {
                        n -= table.len();
                        continue;
                    }
                    chosen = table.iter().nth(n).map(|(k, _)| Bytes::copy_from_slice(k));
                    break 'find;
                }
            }
            let key = chosen?;
            draws += 1;
            if !self.expire_if_due(db, key_slot(&key), &key) || (self.keep_expired && draws >= 100)
            {
                return Some(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(now_ms: u64) -> Clock {
        Clock {
            now_ms,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
        }
    }

    fn val(s: &str) -> Value {
        Value::Str(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn set_get_remove() {
        let ks = Keyspace::new(16);
        let mut v = ks.lock_all(clock(1000));
        assert!(v.set(0, b"a", val("1"), 0).is_none());
        assert_eq!(v.get(0, b"a").unwrap().value, val("1"));
        assert!(v.get(1, b"a").is_none());
        assert_eq!(v.len(0), 1);
        assert!(v.remove(0, b"a").is_some());
        assert_eq!(v.len(0), 0);
    }

    #[test]
    fn slot_hint_serves_only_its_own_slice() {
        let ks = Keyspace::new(1);
        let key = b"user:1".to_vec();
        {
            let mut v = ks.lock_all(clock(1000));
            v.hint_slot(&key, key_slot(&key));
            v.set(0, &key, val("1"), 0);
            v.set(0, b"user:2", val("2"), 0);
            // Other slices, equal bytes or not, are hashed as usual.
            let copy = key.clone();
            assert_eq!(v.peek(0, &copy).unwrap().value, val("1"));
            assert_eq!(v.peek(0, b"user:2").unwrap().value, val("2"));
        }
        // Without the hint, the entry is where the hint put it.
        let mut v = ks.lock_all(clock(1000));
        assert_eq!(v.get(0, b"user:1").unwrap().value, val("1"));
        assert_eq!(v.len(0), 2);
    }

    #[test]
    fn versions_change_on_every_write() {
        let ks = Keyspace::new(1);
        let mut v = ks.lock_all(clock(1000));
        v.set(0, b"k", val("1"), 0);
        let v1 = v.peek(0, b"k").unwrap().version;
        v.get_mut(0, b"k").unwrap();
        let v2 = v.peek(0, b"k").unwrap().version;
        v.set_expiry(0, b"k", 5000);
        let v3 = v.peek(0, b"k").unwrap().version;
        assert!(v1 < v2 && v2 < v3);
    }

    #[test]
    fn lazy_and_active_expiry() {
        let ks = Keyspace::new(1);
        {
            let mut v = ks.lock_all(clock(1000));
            v.set(0, b"a", val("1"), 1500);
            v.set(0, b"b", val("1"), 3000);
            v.set(0, b"c", val("1"), 0);
            assert_eq!(v.expires_len(0), 2);
        }
        {
            let mut v = ks.lock_all(clock(2000));
            assert!(v.get(0, b"a").is_none());
            assert_eq!(v.stats.expired, 1);
            assert_eq!(v.len(0), 2);
        }
        let removed = ks.expire_cycle(3000, 100);
        assert_eq!(removed, vec![(0, Bytes::from_static(b"b"))]);
        let v = ks.lock_all(clock(3000));
        assert_eq!(v.len(0), 1);
        assert_eq!(v.expires_len(0), 0);
    }

    #[test]
    fn scan_visits_every_key_once_without_writes() {
        let ks = Keyspace::new(1);
        let mut v = ks.lock_all(clock(1000));
        for i in 0..5000 {
            v.set(0, format!("key:{i}").as_bytes(), val("x"), 0);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        loop {
            cursor = v.scan(
                0,
                cursor,
                10,
                |_| true,
                |k, _| {
                    assert!(seen.insert(k.to_vec()), "duplicate key");
                },
            );
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 5000);
    }

    #[test]
    fn scan_removes_wanted_expired_keys_only() {
        let ks = Keyspace::new(1);
        let mut v = ks.lock_all(clock(1000));
        v.set(0, b"live", val("x"), 0);
        v.set(0, b"old:1", val("x"), 1500);
        v.set(0, b"other", val("x"), 1500);
        drop(v);
        let mut v = ks.lock_all(clock(2000));
        let mut seen = Vec::new();
        let next = v.scan(
            0,
            0,
            1000,
            |k| !k.starts_with(b"other"),
            |k, _| seen.push(k.to_vec()),
        );
        assert_eq!(next, 0);
        assert_eq!(seen, vec![b"live".to_vec()]);
        assert_eq!(v.stats.expired, 1);
        // `other` was not wanted, so it is still there (expired, not yet removed).
        assert_eq!(v.len(0), 2);
    }

    #[test]
    fn random_key_skips_any_number_of_expired_keys() {
        let ks = Keyspace::new(1);
        let mut v = ks.lock_all(clock(1000));
        for i in 0..1000 {
            v.set(0, format!("e{i}").as_bytes(), val("x"), 1500);
        }
        v.set(0, b"alive", val("x"), 0);
        drop(v);
        let mut v = ks.lock_all(clock(2000));
        assert_eq!(v.random_key(0), Some(Bytes::from_static(b"alive")));
    }

    #[test]
    fn set_entry_keeps_ttl_access_and_encoding() {
        let ks = Keyspace::new(1);
        let mut v = ks.lock_all(clock(1000));
        let mut e = Entry::new(val("12"), 5000, 1);
        e.str_enc = StrEncoding::Raw;
        v.set_entry(0, b"k", e);
        let stored = v.peek(0, b"k").unwrap();
        assert_eq!(stored.encoding(), "raw");
        assert_eq!(stored.access.last_access, 1);
        assert!(stored.version > 0);
        assert_eq!(v.expires_len(0), 1);
        // Replacing the value keeping the TTL goes back to encoding by content.
        assert!(v.set_keep_ttl(0, b"k", val("13")));
        assert_eq!(v.peek(0, b"k").unwrap().encoding(), "int");
        assert_eq!(v.peek(0, b"k").unwrap().expires_at, 5000);
    }

    #[test]
    fn get_notouch_counts_but_does_not_touch() {
        let ks = Keyspace::new(1);
        let mut v = ks.lock_all(clock(1_000_000));
        let mut e = Entry::new(val("x"), 0, 7);
        e.access.lfu_counter = 9;
        v.set_entry(0, b"k", e);
        let seen = v
            .get_notouch(0, b"k")
            .map(|e| (e.access.last_access, e.access.lfu_counter));
        assert_eq!(seen, Some((7, 9)));
        assert!(v.get_notouch(0, b"nope").is_none());
        assert_eq!((v.stats.hits, v.stats.misses), (1, 1));
    }

    #[test]
    fn random_key_and_swap() {
        let ks = Keyspace::new(2);
        let mut v = ks.lock_all(clock(1000));
        assert!(v.random_key(0).is_none());
        v.set(0, b"only", val("x"), 0);
        assert_eq!(v.random_key(0).unwrap(), Bytes::from_static(b"only"));
        v.swap_dbs(0, 1);
        assert!(v.random_key(0).is_none());
        assert_eq!(v.len(1), 1);
    }
}
