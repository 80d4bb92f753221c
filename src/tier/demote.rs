//! The demotion threads: they keep used memory under `maxmemory` by moving cold values to
//! RocksDB, delete the records of keys that went away, and write their shards' share of each
//! checkpoint (`Worker::checkpoint`; see `tier/checkpoint.rs`).
//!
//! Every write they make to RocksDB first has the binlog synced past the steps that decided it
//! (`Worker::try_write`): RocksDB never holds a state the binlog could lose in a crash.
//!
//! Thread `i` of `n` owns the shards `s` with `s % n == i` and is the only thing that writes
//! their records. In one pass over a shard it takes, under the shard lock, both the shard's
//! garbage and its victims; it then deletes the garbage and writes the victims in one RocksDB
//! batch (deletes first), and finally installs the stubs of the victims whose version did not
//! change. Because garbage and victims are taken in one locked step, a delete decided before a
//! key was re-created and demoted can never land after that key's new record.
//!
//! Victims are chosen by sampling (`Keyspace::pick_victims`), not from a global list: a few
//! entries of a random slot, the least frequently (LFU) or least recently (LRU) used first.
//! The thread encodes and compresses a victim's value without any lock: values are
//! reference-counted and copy-on-write, so a command that changes the key meanwhile works on
//! its own copy, and the changed version keeps the stub from being installed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::record::{self, Dictionary, Trainer};
use super::store::{data_key, slot_range, Delete, ElementWrites, Put};
use super::{ShardMark, Tier};
use crate::keyspace::cold::{Garbage, IndexEntry, Layout};
use crate::keyspace::{key_slot, Picked, Victim, SHARDS, SLOTS};
use crate::server::Server;
use crate::types::codec;
use crate::types::ColdStub;

/// Demotion starts when used memory passes this fraction of `maxmemory`, so that writes
/// rarely have to wait for it.
const START_FRACTION: f64 = 0.95;
/// Entries sampled per shard visit, and victims taken from each sample.
const SAMPLE: usize = 16;
const VICTIMS_PER_SAMPLE: usize = 4;
/// A batch is written once it holds this many plain bytes or victims.
const BATCH_BYTES: usize = 1 << 20;
const BATCH_VICTIMS: usize = 256;

/// How long a write to RocksDB waits for the binlog to be synced before giving up (the values
/// stay in RAM; the write is tried again later).
const BINLOG_SYNC_TIMEOUT: Duration = Duration::from_secs(5);

/// Deletes a demotion thread has yet to apply, oldest first: whole slot ranges of flushed
/// databases, then single records. A failed write keeps them for the next one.
#[derive(Default)]
struct Deletes {
    ranges: Vec<(Vec<u8>, Vec<u8>)>,
    keys: Vec<Delete>,
}

/// What a demotion thread is asked to do.
enum Request {
    /// Memory is over the limit: look.
    Wake,
    /// Demote this key now (TIERING DEMOTE); answer whether it is cold afterwards.
    Demote {
        db: usize,
        key: bytes::Bytes,
        done: tokio::sync::oneshot::Sender<Result<bool, String>>,
    },
    /// Write every owned shard's changes to RocksDB (a checkpoint); answer with where each
    /// shard's state stands.
    Checkpoint {
        done: crossbeam_channel::Sender<Result<Vec<(usize, ShardMark)>, String>>,
    },
}

#[derive(Default)]
pub(super) struct Demoters {
    wake: Mutex<Vec<crossbeam_channel::Sender<Request>>>,
    /// Victims picked and not yet installed.
    queued: AtomicU64,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    trainer: Mutex<Option<Trainer>>,
}

impl Demoters {
    pub(super) fn start(
        &self,
        tier: &Arc<Tier>,
        server: Weak<Server>,
        threads: usize,
        train: bool,
    ) -> Result<(), String> {
        let mut wake = self.wake.lock();
        if train {
            *self.trainer.lock() = Some(Trainer::new());
        }
        for i in 0..threads {
            let (tx, rx) = crossbeam_channel::bounded::<Request>(1024);
            wake.push(tx);
            let tier = Arc::downgrade(tier);
            let server = server.clone();
            let handle = std::thread::Builder::new()
                .name(format!("tier-demote-{i}"))
                .spawn(move || demote_loop(tier, server, rx, i, threads))
                .map_err(|e| format!("cannot start a tiering demotion thread: {e}"))?;
            self.threads.lock().push(handle);
        }
        Ok(())
    }

    /// Wakes every demotion thread (memory is over the limit).
    pub(super) fn wake(&self) {
        for tx in self.wake.lock().iter() {
            if tx.is_empty() {
                let _ = tx.try_send(Request::Wake);
            }
        }
    }

    /// Has the thread that owns `key`'s shard demote it now; true when it is cold afterwards.
    pub(super) async fn demote_now(&self, db: usize, key: bytes::Bytes) -> Result<bool, String> {
        let (done, rx) = tokio::sync::oneshot::channel();
        let sent = {
            let wake = self.wake.lock();
            let shard = crate::keyspace::shard_of(&key);
            match wake.get(shard % wake.len().max(1)) {
                Some(tx) => tx.send(Request::Demote { db, key, done }).is_ok(),
                None => false,
            }
        };
        if !sent {
            return Err("ERR the tiering demotion threads are gone".into());
        }
        rx.await
            .unwrap_or_else(|_| Err("ERR the demotion was abandoned".into()))
    }

    /// Has every demotion thread write its shards' changes (see [`Worker::checkpoint`]), and
    /// returns each shard's mark, or the first failure.
    pub(super) fn checkpoint(&self) -> Result<Vec<ShardMark>, String> {
        let (done, results) = crossbeam_channel::unbounded();
        let threads = {
            let wake = self.wake.lock();
            for tx in wake.iter() {
                tx.send(Request::Checkpoint { done: done.clone() })
                    .map_err(|_| "the tiering demotion threads are gone".to_string())?;
            }
            wake.len()
        };
        drop(done);
        let mut marks: Vec<Option<ShardMark>> = vec![None; SHARDS];
        for _ in 0..threads {
            let got = results
                .recv()
                .map_err(|_| "a demotion thread stopped during the checkpoint".to_string())??;
            for (shard, mark) in got {
                marks[shard] = Some(mark);
            }
        }
        marks
            .into_iter()
            .enumerate()
            .map(|(s, m)| m.ok_or_else(|| format!("no demotion thread owns shard {s}")))
            .collect()
    }

    /// Stops the demotion threads (after the last checkpoint of a shutdown) and waits for
    /// them: no write of theirs is under way after.
    pub(super) fn stop(&self) {
        self.wake.lock().clear();
        for handle in std::mem::take(&mut *self.threads.lock()) {
            let _ = handle.join();
        }
    }

    pub(super) fn queue_depth(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }
}

/// How a demotion pass ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// Memory was back under the threshold before anything needed demoting.
    Satisfied,
    /// Values were demoted until memory was back under the threshold.
    Demoted,
    /// A whole pass over the owned shards found no hot value to demote.
    NothingLeft,
}

/// What one value's write puts in RocksDB (see [`Worker::record`]).
struct Written {
    /// The value's record (a split collection's: its header).
    record: Vec<u8>,
    elements: ElementWrites,
    /// The value's size in its plain encoding, and on disk (for a split collection, its
    /// header plus the plain size of its elements), for statistics and its stub.
    plain_bytes: u64,
    disk_bytes: u32,
}

/// One thread's state across passes.
struct Worker {
    tier: Arc<Tier>,
    server: Arc<Server>,
    /// Deletes not yet applied (a failed write keeps them for the next one).
    deletes: Deletes,
    skip: CompressionSkip,
    /// This thread's number (its bit in `Tier::exhausted`).
    index: usize,
}

/// Stops trying to compress values that keep not compressing. A failed zstd attempt costs about
/// as much as the rest of a demotion, and data that does not compress (already compressed
/// images, encrypted blobs, random bytes) tends to come in runs: after `GIVE_UP` failures in a
/// row only one value in `PROBE` is tried, until one compresses again.
#[derive(Debug, Default, Clone, Copy)]
struct CompressionSkip {
    failures: u32,
    skipped: u32,
}

impl CompressionSkip {
    const GIVE_UP: u32 = 16;
    const PROBE: u32 = 32;

    /// The compression to use for the next value.
    fn compression(&mut self, wanted: record::Compression) -> record::Compression {
        if wanted.level == 0 || self.failures < Self::GIVE_UP {
            return wanted;
        }
        self.skipped += 1;
        if self.skipped % Self::PROBE == 0 {
            wanted
        } else {
            record::Compression { level: 0, ..wanted }
        }
    }

    /// Notes whether a value whose compression was `attempted` came out compressed.
    fn record(&mut self, attempted: bool, rec: &[u8]) {
        if !attempted {
            return;
        }
        if rec.get(1) == Some(&record::method::PLAIN) {
            self.failures = self.failures.saturating_add(1);
        } else {
            self.failures = 0;
            self.skipped = 0;
        }
    }
}

/// Sleep between an idle demotion thread's sweeps for garbage, at first and at most.
const IDLE_MIN: Duration = Duration::from_millis(10);
const IDLE_MAX: Duration = Duration::from_millis(500);

fn demote_loop(
    tier: Weak<Tier>,
    server: Weak<Server>,
    wake: crossbeam_channel::Receiver<Request>,
    index: usize,
    threads: usize,
) {
    let shards: Vec<usize> = (0..SHARDS).filter(|s| s % threads == index).collect();
    let mut deletes = Deletes::default();
    let mut skip = CompressionSkip::default();
    let mut dry_passes = 0u32;
    let mut next = 0usize;
    // How long an idle thread sleeps between garbage sweeps: doubled after each sweep that
    // found nothing, so that an idle server's threads do not keep locking every shard.
    let mut idle = IDLE_MIN;
    loop {
        let (Some(tier), Some(server)) = (tier.upgrade(), server.upgrade()) else {
            return;
        };
        let mut w = Worker {
            tier,
            server,
            deletes: std::mem::take(&mut deletes),
            skip,
            index,
        };
        // Once shutting down, demote no more: the last checkpoint comes instead.
        let limit = if w.server.is_shutting_down() || !w.tier.demoting {
            0
        } else {
            w.server.memory.limit()
        };
        let over = limit != 0 && w.server.memory.used() as f64 > limit as f64 * START_FRACTION;
        let busy = if over {
            let pass = w.demote_pass(&shards, &mut next);
            // Two dry passes in a row: a single one may have met every hot value while it
            // sat in another batch.
            dry_passes = if pass == Pass::NothingLeft {
                dry_passes + 1
            } else {
                0
            };
            w.tier.set_exhausted(index, dry_passes >= 2);
            pass == Pass::Demoted
        } else {
            dry_passes = 0;
            w.tier.set_exhausted(index, false);
            // Near the limit, look again soon: demotion should start before writes stall.
            let near = limit != 0 && w.server.memory.used() as f64 > limit as f64 * 0.8;
            idle = if w.collect_garbage(&shards) || near {
                IDLE_MIN
            } else {
                (idle * 2).min(IDLE_MAX)
            };
            false
        };
        let request = if busy {
            idle = IDLE_MIN;
            wake.try_recv().map_err(|e| e.is_disconnected())
        } else {
            wake.recv_timeout(idle).map_err(|e| e.is_disconnected())
        };
        if request.is_ok() {
            idle = IDLE_MIN;
        }
        match request {
            Ok(Request::Demote { db, key, done }) => {
                let _ = done.send(w.demote_key(db, &key));
            }
            Ok(Request::Checkpoint { done }) => {
                let _ = done.send(w.checkpoint(&shards));
            }
            Ok(Request::Wake) | Err(false) => {}
            // Stopped: every sender is gone.
            Err(true) => return,
        }
        deletes = std::mem::take(&mut w.deletes);
        skip = w.skip;
        drop(w);
    }
}

impl Worker {
    /// Deletes the records of keys that went away, for every owned shard.
    /// Returns whether there was any.
    fn collect_garbage(&mut self, shards: &[usize]) -> bool {
        let mut found = false;
        for &s in shards {
            let garbage = self.server.keyspace.take_garbage(s);
            found |= !garbage.is_empty();
            self.queue_deletes(s, garbage);
        }
        self.flush_deletes();
        found
    }

    /// Applies the pending deletes on their own (nothing to write with them).
    fn flush_deletes(&mut self) {
        if !self.deletes.keys.is_empty() || !self.deletes.ranges.is_empty() {
            self.write(Vec::new());
        }
    }

    fn queue_deletes(&mut self, shard: usize, garbage: Garbage) {
        let per_shard = (SLOTS / SHARDS) as u16;
        let first = shard as u16 * per_shard;
        self.deletes.ranges.extend(
            garbage
                .flushed
                .into_iter()
                .map(|db| slot_range(db, first, first + per_shard - 1)),
        );
        self.tier
            .stats
            .deletes
            .fetch_add(garbage.keys.len() as u64, Ordering::Relaxed);
        self.deletes
            .keys
            .extend(garbage.keys.into_iter().map(|(db, k, split)| Delete {
                key: data_key(db, key_slot(&k), &k),
                elements: split,
            }));
    }

    /// Writes `puts` after the pending deletes, in one batch. On failure the deletes are kept
    /// for the next batch and false is returned (the values stay hot).
    fn write(&mut self, puts: Vec<Put>) -> bool {
        self.try_write(&puts, None).is_ok()
    }

    /// [`Worker::write`], saying why it failed.
    ///
    /// First the binlog is synced up to `decided` (None: its end): every state written here
    /// (and every pending delete) was decided by a step before that offset, and RocksDB must
    /// never hold (after a flush and a crash) the effect of a step the binlog lost, or a lost
    /// transaction could come back in part. A checkpoint passes its shard's mark, so that one
    /// fsync covers all of the shard's batches.
    fn try_write(&mut self, puts: &[Put], decided: Option<u64>) -> Result<(), String> {
        if let Some(log) = self.server.binlog.get() {
            let decided = decided.unwrap_or_else(|| log.end());
            log.sync_to(decided, BINLOG_SYNC_TIMEOUT).inspect_err(|e| {
                tracing::error!("not writing to RocksDB until the binlog is synced: {e}");
            })?;
        }
        let result = self
            .deletes
            .ranges
            .iter()
            .try_for_each(|(from, to)| self.tier.store.delete_range(from, to));
        let result = result.and_then(|()| self.tier.store.write(puts, &self.deletes.keys));
        match result {
            Ok(()) => {
                self.deletes.keys.clear();
                self.deletes.ranges.clear();
                Ok(())
            }
            Err(e) => {
                self.tier
                    .stats
                    .demotion_errors
                    .fetch_add(puts.len() as u64, Ordering::Relaxed);
                tracing::error!("writing cold values to RocksDB failed (they stay in RAM): {e}");
                Err(e.to_string())
            }
        }
    }

    /// Demotes until memory is back under the start threshold or a whole pass over the owned
    /// shards finds nothing to demote.
    fn demote_pass(&mut self, shards: &[usize], next: &mut usize) -> Pass {
        let mut found_any = false;
        let mut empty_visits = 0;
        while empty_visits < shards.len() {
            let limit = self.server.memory.limit();
            if limit == 0 || (self.server.memory.used() as f64) <= limit as f64 * START_FRACTION {
                return if found_any {
                    Pass::Demoted
                } else {
                    Pass::Satisfied
                };
            }
            // Fill one batch from consecutive shards.
            let mut batch: Vec<(usize, Victim)> = Vec::new();
            let mut batch_bytes = 0usize;
            let mut visits = 0;
            while visits < shards.len() && batch.len() < BATCH_VICTIMS && batch_bytes < BATCH_BYTES
            {
                let shard = shards[*next % shards.len()];
                *next += 1;
                visits += 1;
                let clock = self.server.clock(Instant::now());
                let policy = self.tier.settings().policy;
                let picked = self.server.keyspace.pick_victims(
                    shard,
                    SAMPLE,
                    VICTIMS_PER_SAMPLE,
                    policy,
                    clock,
                );
                let (victims, clean) = self.absorb(shard, picked);
                if clean > 0 || !victims.is_empty() {
                    // Something to demote: writers stalled on memory must keep waiting, not
                    // take the "nothing left" of an earlier pass for an OOM.
                    self.tier.set_exhausted(self.index, false);
                }
                found_any |= clean > 0;
                if victims.is_empty() && clean == 0 {
                    empty_visits += 1;
                } else {
                    empty_visits = 0;
                }
                for v in victims {
                    batch_bytes += v.value.mem_size();
                    batch.push((shard, v));
                }
            }
            if batch.is_empty() {
                self.flush_deletes();
                continue;
            }
            found_any = true;
            self.write_batch(batch);
        }
        Pass::NothingLeft
    }

    /// Demotes one key now (TIERING DEMOTE). True when it is cold afterwards.
    fn demote_key(&mut self, db: usize, key: &[u8]) -> Result<bool, String> {
        let shard = crate::keyspace::shard_of(key);
        let picked = self.server.keyspace.pick_key(shard, db, key);
        let (victims, _) = self.absorb(shard, picked);
        if victims.is_empty() {
            self.flush_deletes();
        } else if !self.write_batch(victims.into_iter().map(|v| (shard, v)).collect()) {
            return Err("ERR writing the value to RocksDB failed (it stays in RAM)".into());
        }
        let mut ks = self.server.keyspace.lock(
            self.server.clock(Instant::now()),
            std::iter::once(shard).collect(),
        );
        Ok(ks.meta(db, key).is_some_and(|e| e.value.is_cold()))
    }

    /// Takes what a pick found in `shard`: queues its garbage, counts the values it made cold
    /// in place, and returns the victims still to write, with that count.
    fn absorb(&mut self, shard: usize, picked: Picked) -> (Vec<Victim>, u64) {
        self.queue_deletes(shard, picked.garbage);
        if picked.clean > 0 {
            self.server.memory.note_freed(picked.freed);
            self.tier
                .stats
                .clean_demotions
                .fetch_add(picked.clean, Ordering::Relaxed);
        }
        (picked.victims, picked.clean)
    }

    /// Encodes, writes and installs one batch of victims; false when the write failed (the
    /// values stay hot).
    fn write_batch(&mut self, batch: Vec<(usize, Victim)>) -> bool {
        self.tier
            .demoters
            .queued
            .store(batch.len() as u64, Ordering::Relaxed);
        let mut puts = Vec::with_capacity(batch.len());
        let mut sizes = Vec::with_capacity(batch.len());
        let (mut plain_total, mut disk_total) = (0u64, 0u64);
        for (_, v) in &batch {
            let written = self.record(&v.value, v.version, &v.layout);
            plain_total += written.plain_bytes;
            disk_total += written.disk_bytes as u64;
            sizes.push(written.disk_bytes);
            let index = record::encode_index(&IndexEntry {
                version: v.version,
                expires_at: v.expires_at,
                stub: ColdStub {
                    disk_version: v.version,
                    disk_bytes: written.disk_bytes,
                    tag: v.value.tag(),
                    split: v.layout.is_split(),
                },
            });
            puts.push(Put {
                key: data_key(v.disk_db, key_slot(&v.key), &v.key),
                record: Some(written.record),
                index,
                elements: written.elements,
            });
        }
        let ok = self.write(puts);
        self.tier.demoters.queued.store(0, Ordering::Relaxed);
        if !ok {
            // RocksDB's split collections may not be where their element changes count from.
            let mut shards: Vec<usize> = batch.iter().map(|(s, _)| *s).collect();
            shards.dedup();
            for shard in shards {
                self.server.keyspace.forget_element_changes(shard);
            }
            return false;
        }
        let stats = &self.tier.stats;
        stats
            .demotions
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        stats
            .demoted_plain_bytes
            .fetch_add(plain_total, Ordering::Relaxed);
        stats
            .demoted_disk_bytes
            .fetch_add(disk_total, Ordering::Relaxed);
        // Install per shard, in the order picked.
        let mut by_shard: Vec<(usize, Vec<(Victim, u32)>)> = Vec::new();
        for ((shard, v), size) in batch.into_iter().zip(sizes) {
            match by_shard.last_mut() {
                Some((s, list)) if *s == shard => list.push((v, size)),
                _ => by_shard.push((shard, vec![(v, size)])),
            }
        }
        for (shard, written) in by_shard {
            let freed = self.server.keyspace.install_cold(shard, written);
            self.server.memory.note_freed(freed);
        }
        true
    }

    /// What writing `value` (at key version `version`) in `layout` puts in RocksDB.
    fn record(&mut self, value: &crate::types::Value, version: u64, layout: &Layout) -> Written {
        let header = layout
            .is_split()
            .then(|| codec::split::header(value))
            .flatten();
        let Some(header) = header else {
            // Only collections are given a split layout. Were another value given one, it is
            // written whole, clearing whatever elements the key has.
            debug_assert!(
                !layout.is_split(),
                "a split layout for a value that cannot be split"
            );
            let (plain, record) = self.encode(value, version);
            return Written {
                plain_bytes: plain.len() as u64,
                disk_bytes: record.len() as u32,
                record,
                elements: ElementWrites {
                    clear: !matches!(layout, Layout::Whole { clear: false }),
                    ..ElementWrites::default()
                },
            };
        };
        let record = record::encode_split(&header, version);
        let elements = match layout {
            Layout::SplitDelta(names) => {
                let mut e = ElementWrites::default();
                for name in names {
                    match codec::split::element(value, name) {
                        Some(payload) => e.put.push((name.to_vec(), payload)),
                        None => e.delete.push(name.to_vec()),
                    }
                }
                e
            }
            _ => {
                let mut e = ElementWrites {
                    clear: true,
                    ..ElementWrites::default()
                };
                codec::split::for_each_element(value, |name, payload| {
                    e.put.push((name.to_vec(), payload.to_vec()));
                });
                e
            }
        };
        let plain_bytes = value.mem_size() as u64;
        Written {
            plain_bytes,
            disk_bytes: u32::try_from(record.len() as u64 + plain_bytes).unwrap_or(u32::MAX),
            record,
            elements,
        }
    }

    /// A value's plain encoding and its record, compressed as the settings say.
    fn encode(&mut self, value: &crate::types::Value, version: u64) -> (Vec<u8>, Vec<u8>) {
        let settings = self.tier.settings();
        let dict = self.tier.dict.read().clone();
        let plain = codec::encode_to_vec(value);
        if dict.is_none() && plain.len() < settings.compression.min_bytes {
            self.offer_sample(&plain);
        }
        let compression = self.skip.compression(settings.compression);
        let rec = record::encode(&plain, version, compression, dict.as_deref());
        let attempted =
            compression.level > 0 && (plain.len() >= compression.min_bytes || dict.is_some());
        self.skip.record(attempted, &rec);
        (plain, rec)
    }

    /// Writes the changes of each owned shard to RocksDB: under the shard's lock, its garbage
    /// and every entry the index does not hold as it is (`Keyspace::checkpoint_take`); off
    /// the lock, the deletes, then the records and index entries in batches; then the
    /// entries written are marked indexed. Returns each shard's mark: the journal offset its
    /// state was taken at. The caller flushes RocksDB before it records the marks.
    fn checkpoint(&mut self, shards: &[usize]) -> Result<Vec<(usize, ShardMark)>, String> {
        let mut marks = Vec::with_capacity(shards.len());
        for &shard in shards {
            match self.checkpoint_shard(shard) {
                Ok(mark) => marks.push((shard, mark)),
                Err(e) => {
                    self.server.keyspace.checkpoint_failed(shard);
                    return Err(e);
                }
            }
        }
        Ok(marks)
    }

    /// One shard's share of [`Worker::checkpoint`].
    fn checkpoint_shard(&mut self, shard: usize) -> Result<ShardMark, String> {
        let snap = self.server.keyspace.checkpoint_take(shard);
        self.tier
            .stats
            .checkpoint_lock_max_us
            .fetch_max(snap.locked_for.as_micros() as u64, Ordering::Relaxed);
        self.queue_deletes(shard, snap.garbage);
        let mut puts = Vec::new();
        let mut written = Vec::new();
        let mut bytes = 0usize;
        let count = snap.dirty.len();
        for (i, d) in snap.dirty.into_iter().enumerate() {
            let key = data_key(d.disk_db, key_slot(&d.key), &d.key);
            let (record, stub, elements) = match &d.value {
                Some(value) => {
                    let written = self.record(value, d.version, &d.layout);
                    let stub = ColdStub {
                        disk_bytes: written.disk_bytes,
                        ..d.stub
                    };
                    (Some(written.record), stub, written.elements)
                }
                None => (None, d.stub, ElementWrites::default()),
            };
            bytes += key.len() + record.as_ref().map_or(0, Vec::len) + elements.bytes();
            self.tier.stats.checkpointed_elements.fetch_add(
                (elements.put.len() + elements.delete.len()) as u64,
                Ordering::Relaxed,
            );
            let index = record::encode_index(&IndexEntry {
                version: d.version,
                expires_at: d.expires_at,
                stub,
            });
            puts.push(Put {
                key,
                record,
                index,
                elements,
            });
            written.push((d, stub.disk_bytes));
            if bytes >= BATCH_BYTES || puts.len() >= BATCH_VICTIMS * 4 || i + 1 == count {
                self.try_write(&puts, Some(snap.offset))?;
                self.tier
                    .stats
                    .checkpointed
                    .fetch_add(puts.len() as u64, Ordering::Relaxed);
                puts.clear();
                bytes = 0;
                self.server
                    .keyspace
                    .checkpoint_written(shard, std::mem::take(&mut written));
                self.tier.maybe_crash_in_checkpoint();
            }
        }
        if !self.deletes.keys.is_empty() || !self.deletes.ranges.is_empty() {
            self.try_write(&[], Some(snap.offset))?;
        }
        Ok(ShardMark {
            offset: snap.offset,
            next_version: snap.next_version,
            disk_dbs: snap.disk_dbs,
        })
    }

    /// Gives the dictionary trainer a small value; trains and installs a dictionary once it
    /// has enough.
    fn offer_sample(&self, plain: &[u8]) {
        let mut trainer = self.tier.demoters.trainer.lock();
        let Some(t) = trainer.as_mut() else {
            return;
        };
        t.offer(plain);
        if let Some(dict) = t.train(1) {
            *trainer = None;
            drop(trainer);
            self.install_dictionary(dict);
        }
    }

    fn install_dictionary(&self, dict: Dictionary) {
        let name = format!("dict:{}", dict.id);
        if let Err(e) = self.tier.store.put_meta(name.as_bytes(), dict.bytes()) {
            tracing::error!(
                "storing the zstd dictionary failed (small values stay uncompressed): {e}"
            );
            return;
        }
        let dict = Arc::new(dict);
        self.tier.dicts.write().insert(dict.clone());
        *self.tier.dict.write() = Some(dict);
        tracing::info!("trained a zstd dictionary for small cold values");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_is_skipped_after_a_run_of_failures_and_probed_now_and_then() {
        let wanted = record::Compression {
            level: 3,
            min_bytes: 64,
        };
        let plain_record = [record::RECORD_FORMAT, record::method::PLAIN, 1];
        let zstd_record = [record::RECORD_FORMAT, record::method::ZSTD, 1];
        let mut skip = CompressionSkip::default();
        for _ in 0..CompressionSkip::GIVE_UP {
            assert_eq!(skip.compression(wanted).level, 3);
            skip.record(true, &plain_record);
        }
        let tried = (0..CompressionSkip::PROBE * 4)
            .filter(|_| skip.compression(wanted).level == 3)
            .count();
        assert_eq!(tried, 4, "one value in PROBE is still tried");
        // A value that compresses ends the skipping; values never tried do not count.
        skip.record(true, &zstd_record);
        assert_eq!(skip.compression(wanted).level, 3);
        for _ in 0..100 {
            skip.record(false, &plain_record);
        }
        assert_eq!(skip.compression(wanted).level, 3);
    }
}
