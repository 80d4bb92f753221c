//! The keyspace's side of tiering: turning hot values into cold stubs and back.
//!
//! Everything here happens under shard locks, and is the only code that changes whether a
//! value is cold. The tier (src/tier) does the RocksDB reads and writes off the locks:
//!
//! - Demotion: [`Keyspace::pick_victims`] samples a shard and returns copies of the chosen hot
//!   values (cheap: values are reference-counted) with their versions; a value whose record is
//!   already current (`Disk::Clean`) is made cold at once, without a write. The demotion
//!   thread encodes and writes the others, then [`Keyspace::install_cold`] makes each one cold
//!   only if its version is unchanged.
//! - Garbage: records whose entry went away; [`Keyspace::take_garbage`] hands them to the
//!   shard's demotion thread, which deletes them before it writes anything newer.
//! - Loading: dispatch asks [`Locked::cold_keys`] which of a command's keys are cold, the
//!   connection has them read, and [`Locked::install_loaded`] puts each value back if the stub
//!   still names the record that was read. [`Locked::ensure_hot`] is the fallback for a cold
//!   value a command meets without dispatch having loaded it (a key a script did not declare,
//!   SORT ... BY patterns): it reads synchronously, under the lock.

use bytes::Bytes;
use smallvec::SmallVec;

use super::*;
use crate::types::ColdStub;

/// Values smaller than this stay hot: their stub would save next to nothing.
pub const MIN_DEMOTE_BYTES: usize = 64;

/// What RocksDB's index holds of one key (`tier::store`): enough to rebuild its entry as a
/// cold stub at restart without reading the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexEntry {
    /// The key's version when the entry was written: replay skips effects at or below it.
    pub version: u64,
    /// Absolute expiry, Unix ms; 0 for none.
    pub expires_at: u64,
    /// The record: the version it was written from, its size and the value's type.
    pub stub: ColdStub,
}

/// How a value's record is written, decided under the shard lock when the value is taken.
///
/// A hash, set or sorted set with at least `tiering-split-elements` elements is written split
/// (`codec::split`): a header record, and one entry per element in RocksDB's `elements`
/// family. Written whole again and again, a 100,000-field hash would cost a full rewrite per
/// checkpoint for one changed field; split, a write carries only the elements the binlog's
/// effects named since the last split write was taken (`DbShard::element_changes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// One record holding the whole value. `clear`: RocksDB's record under the key is split,
    /// so its elements must be deleted.
    Whole { clear: bool },
    /// A split header and every element, after deleting whatever elements the key has.
    SplitFull,
    /// A split header and these elements, each written or deleted as the value holds it:
    /// RocksDB's elements are the value's but for these.
    SplitDelta(Vec<Key>),
}

impl Layout {
    pub fn is_split(&self) -> bool {
        !matches!(self, Layout::Whole { .. })
    }
}

/// Decides how `e`'s value (under `key`) is written now, and starts tracking the element
/// changes made after this point when `track` (the binlog is on). `split_min` is
/// `tiering-split-elements`.
fn layout_for(
    changes: &mut HashMap<Key, HashSet<Key>>,
    track: bool,
    split_min: usize,
    key: &Key,
    e: &Entry,
) -> Layout {
    let split =
        split_min > 0 && crate::types::codec::split::len(&e.value).is_some_and(|n| n >= split_min);
    let prior = changes.remove(key);
    if !split {
        return Layout::Whole { clear: e.split };
    }
    if track {
        changes.insert(key.clone(), HashSet::new());
    }
    match prior {
        Some(names) if e.split && e.disk != Disk::None => {
            Layout::SplitDelta(names.into_iter().collect())
        }
        _ => Layout::SplitFull,
    }
}

/// Notes, after a step, what it did to `key` for the tracking of element changes: `named`
/// holds the elements a narrowed write changed (None: the value may have changed whole, or the
/// key went away). A key is tracked only between a split write and the next write that is not
/// narrowed; a change set that grows past a quarter of the collection is dropped (a whole
/// write costs little more, and the set would cost memory and time on every write).
pub(super) fn note_element_changes(d: &mut DbShard, key: &[u8], named: Option<&[Bytes]>) {
    if d.element_changes.is_empty() {
        return;
    }
    let len = d
        .table(key_slot(key))
        .get(key)
        .and_then(|e| crate::types::codec::split::len(&e.value));
    let (Some(named), Some(len)) = (named, len) else {
        d.element_changes.remove(key);
        return;
    };
    let Some(set) = d.element_changes.get_mut(key) else {
        return;
    };
    // Copies, not the commands' argument buffers (which a long-lived handle would pin).
    set.extend(named.iter().map(|n| Key::from_slice(n)));
    if set.len() > len / 4 + 1 {
        d.element_changes.remove(key);
    }
}

/// A hot value chosen for demotion.
#[derive(Debug, Clone)]
pub struct Victim {
    /// The database number its record is written under (see `Shard::disk_dbs`).
    pub disk_db: u16,
    pub key: Key,
    pub version: u64,
    /// The key's expiry, for its index entry.
    pub expires_at: u64,
    pub value: Value,
    pub layout: Layout,
}

/// Records of one shard to delete from RocksDB, oldest first.
#[derive(Debug, Default)]
pub struct Garbage {
    /// Databases flushed: delete the shard's whole slot range of each (on-disk numbers).
    pub flushed: Vec<u16>,
    /// Single keys, with the on-disk number of their database and whether their record is
    /// split (its elements go too).
    pub keys: Vec<(u16, Key, bool)>,
}

impl Garbage {
    pub fn is_empty(&self) -> bool {
        self.flushed.is_empty() && self.keys.is_empty()
    }
}

/// What [`Keyspace::pick_victims`] found in one shard.
#[derive(Debug, Default)]
pub struct Picked {
    /// Hot values to write, then install with [`Keyspace::install_cold`].
    pub victims: Vec<Victim>,
    /// The shard's garbage, to delete before writing the victims.
    pub garbage: Garbage,
    /// Values made cold in place (their record was current), and the bytes that freed.
    pub clean: u64,
    pub freed: u64,
}

/// A victim's rank under LFU (lower goes first): the decayed access counter, then the time
/// since the last access.
fn lfu_score(e: &Entry, clock: &Clock) -> u64 {
    let now_s = clock.now_s();
    let freq = e.access.decayed_counter(now_s, clock.lfu_decay_time) as u64;
    (freq << 32) | (u32::MAX - e.access.idle_seconds(now_s)) as u64
}

/// A victim's rank under LRU (lower goes first): least recently used first.
fn lru_score(e: &Entry, clock: &Clock) -> u64 {
    u64::MAX - e.access.idle_seconds(clock.now_s()) as u64
}

impl DbShard {
    /// Visits entries from a random slot table on, each table from a random position, until
    /// `f` has counted `wanted` of them (it says whether an entry counts) or all were seen: the
    /// sample demotion and eviction choose from.
    fn sample(&self, wanted: usize, mut f: impl FnMut(&Key, &Entry) -> bool) {
        let start = rand::random::<u32>() as usize;
        let mut counted = 0;
        for i in 0..SLOTS_PER_SHARD {
            let table = &self.slots[(start + i) % SLOTS_PER_SHARD];
            if table.is_empty() {
                continue;
            }
            let skip = rand::random::<u32>() as usize % table.len();
            for (k, e) in table.iter().skip(skip).chain(table.iter().take(skip)) {
                if counted >= wanted {
                    return;
                }
                counted += f(k, e) as usize;
            }
        }
    }
}

/// How the keyspace decides a value's [`Layout`]: `tiering-split-elements`, and whether
/// element changes are tracked (the binlog is on).
#[derive(Debug, Clone, Copy)]
struct SplitRule {
    min: usize,
    track: bool,
}

impl Keyspace {
    fn split_rule(&self) -> SplitRule {
        SplitRule {
            min: self
                .split_elements
                .load(std::sync::atomic::Ordering::Relaxed),
            track: self.journal.get().is_some(),
        }
    }
}

/// Takes `key`'s value as a victim if it is hot: made cold at once when its record is current
/// (no write needed), else queued for the caller to write.
fn take_victim(d: &mut DbShard, disk_db: u16, key: Key, rule: SplitRule, picked: &mut Picked) {
    let slot = key_slot(&key);
    let DbShard {
        slots,
        element_changes,
        cold,
        ..
    } = d;
    let Some(e) = slots[slot as usize % SLOTS_PER_SHARD].get_mut(&key) else {
        return;
    };
    if e.value.is_cold() {
        return;
    }
    if e.disk == Disk::Clean {
        picked.freed += e.value.heap_bytes() as u64;
        e.value = stub_for(e, 0);
        *cold += 1;
        picked.clean += 1;
    } else {
        let layout = layout_for(element_changes, rule.track, rule.min, &key, e);
        picked.victims.push(Victim {
            disk_db,
            key,
            version: e.version,
            expires_at: e.expires_at,
            value: e.value.clone(),
            layout,
        });
    }
}

impl Shard {
    /// The database whose records are written under on-disk number `disk_db` (found by the
    /// number: a SWAPDB may have moved it since the records were decided).
    fn db_by_disk_number(&mut self, disk_db: u16) -> Option<&mut DbShard> {
        let db = self.disk_dbs.iter().position(|&n| n == disk_db)?;
        Some(self.db_mut(db))
    }
}

fn take_garbage(shard: &mut Shard) -> Garbage {
    let mut garbage = Garbage {
        flushed: std::mem::take(&mut shard.flushed),
        keys: Vec::new(),
    };
    for (d, &disk_db) in shard.dbs.iter_mut().zip(&shard.disk_dbs) {
        if let Some(d) = d.as_deref_mut() {
            garbage
                .keys
                .extend(d.garbage.drain(..).map(|(k, split)| (disk_db, k, split)));
        }
    }
    garbage
}

/// The outcome of [`Locked::install_loaded`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installed {
    /// The value is hot again.
    Yes,
    /// The key is no longer cold (loaded by someone else, rewritten or removed): nothing to do.
    NotCold,
    /// The stub names a newer record than the one read: read again.
    Outdated,
}

/// Which victims a sample prefers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Least frequently used first (Redis's LFU counter with decay), then least recent.
    Lfu,
    /// Least recently used first.
    Lru,
}

/// Puts `value`, read from the record written from key version `version`, into the cold entry
/// `e` (its `DbShard`'s cold count is `cold`): the record is current if the key has not been
/// written since, else older (a TTL change, say).
fn make_hot(cold: &mut usize, e: &mut Entry, version: u64, value: Value) {
    e.value = value;
    e.disk = if e.version == version {
        Disk::Clean
    } else {
        Disk::Stale
    };
    *cold -= 1;
}

fn stub_for(entry: &Entry, disk_bytes: u32) -> Value {
    Value::Cold(ColdStub {
        disk_version: entry.version,
        disk_bytes,
        tag: entry.value.tag(),
        split: entry.split,
    })
}

impl Keyspace {
    /// Samples up to `sample` entries of shard `shard` and picks the `max` best hot victims by
    /// `policy`. Victims whose record is current become cold here and now; the others are
    /// returned for the caller to write. The shard's garbage is taken in the same locked step
    /// (the caller must delete it before writing the victims).
    pub fn pick_victims(
        &self,
        shard: usize,
        sample: usize,
        max: usize,
        policy: Policy,
        clock: Clock,
    ) -> Picked {
        let rule = self.split_rule();
        let mut guard = self.shards[shard].lock();
        let shard = &mut *guard;
        let mut picked = Picked {
            garbage: take_garbage(shard),
            ..Picked::default()
        };
        let dbs: SmallVec<[usize; 4]> = shard
            .dbs
            .iter()
            .enumerate()
            .filter(|(_, d)| d.as_deref().is_some_and(|d| d.len > d.cold))
            .map(|(i, _)| i)
            .collect();
        if dbs.is_empty() {
            return picked;
        }
        let db = dbs[rand::random::<u32>() as usize % dbs.len()];
        let disk_db = shard.disk_dbs[db];
        let Some(d) = shard.dbs[db].as_deref_mut() else {
            return picked;
        };
        // (score: lower goes first, key)
        let mut candidates: Vec<(u64, Key)> = Vec::with_capacity(sample);
        d.sample(sample, |k, e| {
            if e.value.is_cold() || e.value.mem_size() < MIN_DEMOTE_BYTES {
                return false;
            }
            let score = match policy {
                Policy::Lfu => lfu_score(e, &clock),
                Policy::Lru => lru_score(e, &clock),
            };
            candidates.push((score, k.clone()));
            true
        });
        candidates.sort_unstable_by_key(|c| c.0);
        candidates.truncate(max);
        for (_, key) in candidates {
            take_victim(d, disk_db, key, rule, &mut picked);
        }
        if !picked.victims.is_empty() {
            shard.tiered = true;
        }
        picked
    }

    /// [`Keyspace::pick_victims`] for one named key (TIERING DEMOTE): the shard's garbage, and
    /// the key as a victim if it holds a hot value (made cold at once if its record is current).
    pub fn pick_key(&self, shard: usize, db: usize, key: &[u8]) -> Picked {
        let rule = self.split_rule();
        let mut guard = self.shards[shard].lock();
        let shard = &mut *guard;
        let mut picked = Picked {
            garbage: take_garbage(shard),
            ..Picked::default()
        };
        let disk_db = shard.disk_dbs[db];
        let Some(d) = shard.dbs[db].as_deref_mut() else {
            return picked;
        };
        take_victim(d, disk_db, Key::from_slice(key), rule, &mut picked);
        if !picked.victims.is_empty() {
            shard.tiered = true;
        }
        picked
    }

    /// Makes each written victim cold if its key still holds the version that was written
    /// (`disk_bytes` is its record's size). A victim whose key changed meanwhile stays hot, its
    /// record now an older one; one whose key is gone leaves garbage. The database is found by
    /// the number the record was written under, which a SWAPDB meanwhile moved with it.
    /// Returns the bytes freed.
    pub fn install_cold(&self, shard: usize, written: Vec<(Victim, u32)>) -> u64 {
        let mut guard = self.shards[shard].lock();
        let mut freed = 0u64;
        for (v, disk_bytes) in written {
            let Some(d) = guard.db_by_disk_number(v.disk_db) else {
                continue;
            };
            let slot = key_slot(&v.key);
            let split = v.layout.is_split();
            match d.slots[slot as usize % SLOTS_PER_SHARD].get_mut(&v.key) {
                Some(e) if e.version == v.version && !e.value.is_cold() => {
                    freed += e.value.heap_bytes() as u64;
                    e.split = split;
                    e.value = stub_for(e, disk_bytes);
                    e.disk = Disk::Clean;
                    // The batch wrote the index entry of this very version.
                    e.indexed = true;
                    d.cold += 1;
                }
                Some(e) => {
                    e.split = split;
                    if e.disk == Disk::None {
                        e.disk = Disk::Stale;
                    }
                }
                None => d.garbage.push((v.key, split)),
            }
        }
        freed
    }

    /// Takes the records shard `shard` must delete, oldest first.
    pub fn take_garbage(&self, shard: usize) -> Garbage {
        take_garbage(&mut self.shards[shard].lock())
    }

    /// A write of shard `shard`'s records failed: RocksDB's elements of its split collections
    /// may not be what the element changes are counted from, so none is tracked any more
    /// (their next writes are whole ones).
    pub fn forget_element_changes(&self, shard: usize) {
        let mut guard = self.shards[shard].lock();
        for d in guard.dbs.iter_mut().flatten() {
            d.element_changes.clear();
        }
    }
}

/// What a checkpoint takes of one shard, in one locked step (see [`Keyspace::checkpoint_take`]).
#[derive(Debug, Default)]
pub struct ShardSnapshot {
    /// The shard's garbage, to delete before anything is written.
    pub garbage: Garbage,
    /// The entries RocksDB's index does not hold as they are now.
    pub dirty: Vec<Dirty>,
    /// The journal's end when the shard was locked: every step before it is in this state,
    /// none after it.
    pub offset: u64,
    /// The shard's version counter then: every version in the state is at or below it.
    pub next_version: u64,
    /// The on-disk number of each database then (see `Shard::disk_dbs`).
    pub disk_dbs: Vec<u16>,
    /// How long the shard's lock was held to take this.
    pub locked_for: std::time::Duration,
}

/// One entry a checkpoint writes.
#[derive(Debug, Clone)]
pub struct Dirty {
    pub disk_db: u16,
    pub key: Key,
    pub version: u64,
    pub expires_at: u64,
    /// A hot value whose record must be written; None when RocksDB's record is current
    /// (`stub`) and only the index entry changes.
    pub value: Option<Value>,
    /// The record RocksDB holds, when `value` is None.
    pub stub: ColdStub,
    /// How `value` is written.
    pub layout: Layout,
}

impl Keyspace {
    /// Takes, under shard `shard`'s lock, what a checkpoint must write for it: its garbage, a
    /// copy of every entry not indexed as it is (hot values are reference-counted: a copy is
    /// cheap; only the slot tables marked by a write since the last checkpoint are looked at,
    /// and their marks are cleared), and where the journal stood. Marks the shard as holding
    /// records.
    pub fn checkpoint_take(&self, shard: usize) -> ShardSnapshot {
        let rule = self.split_rule();
        let mut guard = self.shards[shard].lock();
        let locked = std::time::Instant::now();
        let shard = &mut *guard;
        let mut snap = ShardSnapshot {
            garbage: take_garbage(shard),
            offset: self.journal.get().map_or(0, |j| j.end()),
            next_version: shard.next_version,
            disk_dbs: shard.disk_dbs.clone(),
            dirty: Vec::new(),
            locked_for: std::time::Duration::ZERO,
        };
        for (d, &disk_db) in shard.dbs.iter_mut().zip(&shard.disk_dbs) {
            let Some(d) = d.as_deref_mut() else { continue };
            let DbShard {
                slots,
                element_changes,
                unindexed_slots,
                ..
            } = d;
            // Only the tables written since the last checkpoint can hold entries not indexed.
            let marked = std::mem::take(unindexed_slots);
            let tables = slots
                .iter()
                .enumerate()
                .filter(|(t, _)| marked & (1u64 << t) != 0);
            for (_, table) in tables {
                for (k, e) in table.iter().filter(|(_, e)| !e.indexed) {
                    let stub = |split| ColdStub {
                        disk_version: e.version,
                        disk_bytes: 0,
                        tag: e.value.tag(),
                        split,
                    };
                    let (value, stub, layout) = match &e.value {
                        Value::Cold(stub) => (None, *stub, Layout::Whole { clear: false }),
                        _ if e.disk == Disk::Clean => {
                            (None, stub(e.split), Layout::Whole { clear: false })
                        }
                        v => {
                            let layout = layout_for(element_changes, rule.track, rule.min, k, e);
                            (Some(v.clone()), stub(layout.is_split()), layout)
                        }
                    };
                    snap.dirty.push(Dirty {
                        disk_db,
                        key: k.clone(),
                        version: e.version,
                        expires_at: e.expires_at,
                        value,
                        stub,
                        layout,
                    });
                }
            }
        }
        if !snap.dirty.is_empty() {
            shard.tiered = true;
        }
        snap.locked_for = locked.elapsed();
        snap
    }

    /// A checkpoint of shard `shard` failed: what it took but did not write must be found by
    /// the next one, so every table of the shard is marked (the next scan is a full one).
    pub fn checkpoint_failed(&self, shard: usize) {
        let mut guard = self.shards[shard].lock();
        for d in guard.dbs.iter_mut().flatten() {
            d.unindexed_slots = u64::MAX;
            d.element_changes.clear();
        }
    }

    /// Records that a checkpoint wrote `written` (entries of shard `shard`, with their record
    /// sizes): an entry still at the version written is indexed now, and a hot one's record
    /// is current. One whose key changed meanwhile now has an older record; one whose key is
    /// gone leaves garbage.
    pub fn checkpoint_written(&self, shard: usize, written: Vec<(Dirty, u32)>) {
        let mut guard = self.shards[shard].lock();
        for (w, disk_bytes) in written {
            let Some(d) = guard.db_by_disk_number(w.disk_db) else {
                continue;
            };
            let slot = key_slot(&w.key);
            // A written value's record is now RocksDB's, split or not as its layout says.
            let wrote_record = w.value.is_some();
            let split = if wrote_record {
                w.layout.is_split()
            } else {
                w.stub.split
            };
            match d.slots[slot as usize % SLOTS_PER_SHARD].get_mut(&w.key) {
                Some(e) if e.version == w.version => {
                    e.indexed = true;
                    if wrote_record {
                        e.disk = Disk::Clean;
                        e.split = split;
                    }
                    if let Value::Cold(stub) = &mut e.value {
                        if stub.disk_bytes == 0 {
                            stub.disk_bytes = disk_bytes;
                        }
                    }
                }
                Some(e) => {
                    if wrote_record {
                        e.split = split;
                        if e.disk == Disk::None {
                            e.disk = Disk::Stale;
                        }
                    }
                }
                None => d.garbage.push((w.key, split)),
            }
        }
    }

    /// Puts entries read from RocksDB's index into database `db` of shard `shard` as cold
    /// stubs (restart), raising the shard's version counter above theirs. A key already in
    /// RAM is left alone.
    pub fn restore_stubs(&self, shard: usize, db: usize, entries: Vec<(Key, IndexEntry)>) {
        let mut guard = self.shards[shard].lock();
        let shard = &mut *guard;
        shard.tiered = true;
        if let Some(highest) = entries.iter().map(|(_, ie)| ie.version).max() {
            shard.next_version = shard.next_version.max(highest);
        }
        let d = shard.db_mut(db);
        for (key, ie) in entries {
            let slot = key_slot(&key);
            let table = &mut d.slots[slot as usize % SLOTS_PER_SHARD];
            if table.contains_key(&key[..]) {
                continue;
            }
            let mut e = Entry::new(Value::Cold(ie.stub), ie.expires_at, 0);
            e.version = ie.version;
            e.disk = Disk::Clean;
            e.indexed = true;
            e.split = ie.stub.split;
            if ie.expires_at != 0 {
                d.expires.insert((ie.expires_at, key.clone()));
            }
            table.insert(key, e);
            d.len += 1;
            d.cold += 1;
        }
    }

    /// Raises shard `shard`'s version counter to at least `version` and gives it these on-disk
    /// database numbers (restart, from a checkpoint).
    pub fn restore_shard(&self, shard: usize, next_version: u64, disk_dbs: &[u16]) {
        let mut guard = self.shards[shard].lock();
        guard.next_version = guard.next_version.max(next_version);
        if disk_dbs.len() == guard.disk_dbs.len() {
            guard.disk_dbs.copy_from_slice(disk_dbs);
        }
    }

    /// Every cold key of shard `shard`: database, on-disk number, key (preload).
    pub fn cold_keys_of(&self, shard: usize) -> Vec<(usize, u16, Key)> {
        let guard = self.shards[shard].lock();
        let mut keys = Vec::new();
        for (db, (d, &disk_db)) in guard.dbs.iter().zip(&guard.disk_dbs).enumerate() {
            let Some(d) = d.as_deref().filter(|d| d.cold > 0) else {
                continue;
            };
            for table in &d.slots {
                keys.extend(
                    table
                        .iter()
                        .filter(|(_, e)| e.value.is_cold())
                        .map(|(k, _)| (db, disk_db, k.clone())),
                );
            }
        }
        keys
    }

    /// Puts values read from RocksDB back into their cold entries of shard `shard` (preload),
    /// each only if its stub still names the record read (`version`). Returns how many were
    /// installed.
    pub fn install_preloaded(&self, shard: usize, values: Vec<(usize, Key, u64, Value)>) -> u64 {
        let mut guard = self.shards[shard].lock();
        let mut installed = 0;
        for (db, key, version, value) in values {
            let Some(d) = guard.dbs[db].as_deref_mut() else {
                continue;
            };
            let slot = key_slot(&key);
            let Some(e) = d.slots[slot as usize % SLOTS_PER_SHARD].get_mut(&key) else {
                continue;
            };
            match &e.value {
                Value::Cold(stub) if stub.disk_version == version => {}
                _ => continue,
            }
            make_hot(&mut d.cold, e, version, value);
            installed += 1;
        }
        installed
    }
}

impl<'a> Locked<'a> {
    /// Loads `key`'s value if it is cold and a reader is installed, synchronously (the
    /// fallback for a value dispatch did not load). A failure is kept in `load_error` and the
    /// entry stays cold.
    pub(super) fn ensure_hot(&mut self, db: usize, slot: u16, key: &[u8]) {
        let Some(reader) = self.reader else {
            return;
        };
        let now = self.clock.now_ms;
        let shard = shard_in(&mut self.guards, self.all, shard_of_slot(slot));
        let disk_db = shard.disk_dbs[db];
        let Some(d) = shard.dbs[db].as_deref_mut() else {
            return;
        };
        if d.cold == 0 {
            return;
        }
        let Some(Value::Cold(stub)) = d
            .table(slot)
            .get(key)
            .filter(|e| !e.is_expired(now))
            .map(|e| &e.value)
        else {
            return;
        };
        let stub = *stub;
        match reader.read(disk_db, slot, key) {
            Ok(Some((version, value))) if version == stub.disk_version => {
                self.install_loaded(db, key, version, value, true);
            }
            Ok(found) => {
                let text = format!(
                    "ERR cold value of key '{}' is missing from the store (record version {:?}, expected {})",
                    crate::error::printable(key, 64),
                    found.map(|(v, _)| v),
                    stub.disk_version
                );
                tracing::error!("{text}");
                self.load_error = Some(text);
            }
            Err(e) => self.load_error = Some(format!("ERR loading a cold value: {e}")),
        }
    }

    /// Which of `keys` (in `db`) hold a cold value now (live keys only).
    pub fn cold_keys<'k>(
        &mut self,
        db: usize,
        keys: impl Iterator<Item = &'k Bytes>,
    ) -> SmallVec<[Bytes; 4]> {
        let mut cold = SmallVec::new();
        let now = self.clock.now_ms;
        for key in keys {
            let slot = self.slot_of(key);
            let Some(d) = self.shard_at(shard_of_slot(slot)).db(db) else {
                continue;
            };
            if d.cold == 0 {
                continue;
            }
            if d.table(slot)
                .get(key.as_ref())
                .is_some_and(|e| e.value.is_cold() && !e.is_expired(now))
                && !cold.contains(key)
            {
                cold.push(key.clone());
            }
        }
        cold
    }

    /// Puts a value read from RocksDB (written from key version `version`) back into `key`'s
    /// cold entry. Unless `promote`, the value is hot for this view only: it goes cold again
    /// when the view closes, if the command did not change it.
    pub fn install_loaded(
        &mut self,
        db: usize,
        key: &[u8],
        version: u64,
        value: Value,
        promote: bool,
    ) -> Installed {
        let Some((cold, e, stub)) = self.cold_entry_mut(db, key) else {
            return Installed::NotCold;
        };
        if stub.disk_version != version {
            return Installed::Outdated;
        }
        make_hot(cold, e, version, value);
        if !promote && e.disk == Disk::Clean {
            self.transient
                .push((db, Key::from_slice(key), stub.disk_bytes));
        }
        Installed::Yes
    }

    /// `key`'s entry in `db` when its value is cold, with its stub and the cold count of its
    /// table's `DbShard`.
    fn cold_entry_mut(
        &mut self,
        db: usize,
        key: &[u8],
    ) -> Option<(&mut usize, &mut Entry, ColdStub)> {
        let slot = self.slot_of(key);
        let shard = shard_in(&mut self.guards, self.all, shard_of_slot(slot));
        let DbShard { slots, cold, .. } = shard.dbs[db].as_deref_mut()?;
        let e = slots[slot as usize % SLOTS_PER_SHARD].get_mut(key)?;
        match e.value {
            Value::Cold(stub) => Some((cold, e, stub)),
            _ => None,
        }
    }

    /// The stub of `key`'s value when it is cold (and live).
    pub fn cold_stub(&mut self, db: usize, key: &[u8]) -> Option<ColdStub> {
        let now = self.clock.now_ms;
        let slot = self.slot_of(key);
        let d = self.shard_at(shard_of_slot(slot)).db(db)?;
        match d.table(slot).get(key) {
            Some(e) if !e.is_expired(now) => match &e.value {
                Value::Cold(stub) => Some(*stub),
                _ => None,
            },
            _ => None,
        }
    }

    /// Puts `value`, some elements of `key`'s split collection read from the record written
    /// from key version `version` (`codec::split::build` without `whole`), into its cold entry
    /// for this view only, so that a command reading just those elements (HGET, SISMEMBER,
    /// ZSCORE ...) runs on it. The stub is put back as it was when the view closes, whatever
    /// the command did: such a command must never write.
    pub fn install_elements(
        &mut self,
        db: usize,
        key: &[u8],
        version: u64,
        value: Value,
    ) -> Installed {
        let Some((cold, e, stub)) = self.cold_entry_mut(db, key) else {
            return Installed::NotCold;
        };
        if stub.disk_version != version || !stub.split {
            return Installed::Outdated;
        }
        e.value = value;
        *cold -= 1;
        let version = e.version;
        self.partial.push((db, Key::from_slice(key), stub, version));
        Installed::Yes
    }

    /// Puts back the stubs of the collections read in part for this view (see
    /// [`Locked::install_elements`]). Returns the bytes freed. Dropping the view does it too,
    /// so that not even a command that panicked can leave a partial collection behind.
    pub(super) fn restore_partial(&mut self) -> u64 {
        let mut freed = 0u64;
        for (db, key, stub, version) in std::mem::take(&mut self.partial) {
            let slot = key_slot(&key);
            let shard = shard_in(&mut self.guards, self.all, shard_of_slot(slot));
            let Some(d) = shard.dbs[db].as_deref_mut() else {
                continue;
            };
            if let Some(e) = d.slots[slot as usize % SLOTS_PER_SHARD].get_mut(&key) {
                debug_assert_eq!(
                    e.version, version,
                    "a command wrote a collection it had read in part"
                );
                if !e.value.is_cold() {
                    freed += e.value.heap_bytes() as u64;
                    e.value = Value::Cold(stub);
                    d.cold += 1;
                }
            }
        }
        freed
    }

    /// Makes the values loaded for this view only cold again, unless the command changed them,
    /// and puts back the stubs of collections read in part. Returns the bytes freed.
    pub fn revert_transient(&mut self) -> u64 {
        let mut freed = self.restore_partial();
        for (db, key, disk_bytes) in std::mem::take(&mut self.transient) {
            let slot = key_slot(&key);
            let shard = shard_in(&mut self.guards, self.all, shard_of_slot(slot));
            let Some(d) = shard.dbs[db].as_deref_mut() else {
                continue;
            };
            if let Some(e) = d.slots[slot as usize % SLOTS_PER_SHARD].get_mut(&key) {
                if e.disk == Disk::Clean && !e.value.is_cold() {
                    freed += e.value.heap_bytes() as u64;
                    e.value = stub_for(e, disk_bytes);
                    d.cold += 1;
                }
            }
        }
        freed
    }

    /// Keys and cold keys over the locked shards.
    pub fn tier_counts(&self) -> (usize, usize) {
        let (mut keys, mut cold) = (0, 0);
        for (_, g) in self.guards.iter() {
            for d in g.dbs.iter().flatten() {
                keys += d.len;
                cold += d.cold;
            }
        }
        (keys, cold)
    }

    /// True when values loaded for this view only are waiting to go cold again.
    pub fn has_transient(&self) -> bool {
        !self.transient.is_empty() || !self.partial.is_empty()
    }
}

/// Which keys pure-memory eviction may remove, and which it prefers (Redis's
/// `maxmemory-policy`, less `noeviction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eviction {
    AllKeysLru,
    AllKeysLfu,
    AllKeysRandom,
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
}

impl Eviction {
    pub fn from_policy(name: &str) -> Option<Eviction> {
        Some(match name {
            "allkeys-lru" => Eviction::AllKeysLru,
            "allkeys-lfu" => Eviction::AllKeysLfu,
            "allkeys-random" => Eviction::AllKeysRandom,
            "volatile-lru" => Eviction::VolatileLru,
            "volatile-lfu" => Eviction::VolatileLfu,
            "volatile-random" => Eviction::VolatileRandom,
            "volatile-ttl" => Eviction::VolatileTtl,
            _ => return None,
        })
    }

    fn volatile(self) -> bool {
        matches!(
            self,
            Eviction::VolatileLru
                | Eviction::VolatileLfu
                | Eviction::VolatileRandom
                | Eviction::VolatileTtl
        )
    }

    /// Lower goes first.
    fn score(self, e: &Entry, clock: &Clock) -> u64 {
        match self {
            Eviction::AllKeysLru | Eviction::VolatileLru => lru_score(e, clock),
            Eviction::AllKeysLfu | Eviction::VolatileLfu => lfu_score(e, clock),
            Eviction::AllKeysRandom | Eviction::VolatileRandom => rand::random::<u64>(),
            Eviction::VolatileTtl => e.expires_at,
        }
    }
}

/// A key removed by eviction.
#[derive(Debug)]
pub struct Evicted {
    pub db: usize,
    pub key: Bytes,
    /// Estimated bytes freed.
    pub bytes: u64,
}

impl Keyspace {
    /// Removes one key chosen by `policy` among `samples` sampled in each of a few random
    /// shards (Redis's approximated LRU/LFU: the best of a sample, not of every key). None when
    /// the samples found no key the policy may remove.
    pub fn evict_one(&self, policy: Eviction, samples: usize, clock: Clock) -> Option<Evicted> {
        // (score, shard, db, key)
        let mut best: Option<(u64, usize, usize, Key)> = None;
        let mut tries = 0;
        let mut sampled_shards = 0;
        while sampled_shards < 4 && tries < 64 {
            tries += 1;
            let idx = rand::random::<u32>() as usize % SHARDS;
            let shard = self.shards[idx].lock();
            let dbs: SmallVec<[usize; 4]> = shard
                .dbs
                .iter()
                .enumerate()
                .filter(|(_, d)| {
                    d.as_deref().is_some_and(|d| {
                        if policy.volatile() {
                            !d.expires.is_empty()
                        } else {
                            d.len > 0
                        }
                    })
                })
                .map(|(i, _)| i)
                .collect();
            if dbs.is_empty() {
                continue;
            }
            sampled_shards += 1;
            let db = dbs[rand::random::<u32>() as usize % dbs.len()];
            let Some(d) = shard.db(db) else { continue };
            let mut consider = |k: &Key, e: &Entry| {
                let score = policy.score(e, &clock);
                if best.as_ref().is_none_or(|b| score < b.0) {
                    best = Some((score, idx, db, k.clone()));
                }
            };
            if policy.volatile() {
                // Keys with a TTL: a random run of the expiry index.
                let skip = rand::random::<u32>() as usize % d.expires.len();
                for (_, k) in d
                    .expires
                    .iter()
                    .skip(skip)
                    .chain(d.expires.iter())
                    .take(samples)
                {
                    if let Some(e) = d.table(key_slot(k)).get(k) {
                        consider(k, e);
                    }
                }
            } else {
                d.sample(samples, |k, e| {
                    consider(k, e);
                    true
                });
            }
        }
        let (_, idx, db, key) = best?;
        let mut shard = self.shards[idx].lock();
        let d = shard.dbs[db].as_deref_mut()?;
        let entry = d.remove(key_slot(&key), &key)?;
        if let Some(journal) = self.journal.get() {
            let version = shard.bump();
            journal.append(&[super::Effect::Del {
                db,
                key: &key,
                version,
            }]);
        }
        let bytes = (entry.value.heap_bytes()
            + std::mem::size_of::<(Key, Entry)>()
            + if key.len() > 24 { key.len() } else { 0 }) as u64;
        Some(Evicted {
            db,
            key: Bytes::copy_from_slice(&key),
            bytes,
        })
    }
}
