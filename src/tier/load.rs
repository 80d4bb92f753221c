//! Reading cold values back: a pool of reader threads fed through a channel, with concurrent
//! requests for one key merged into one read.
//!
//! A connection whose command needs cold values calls [`await_loads`]: each key not already
//! being read joins one job for the pool (a RocksDB multi-get when there are several); every
//! requester of a key, this one or a later one while the read is under way, gets the same
//! result through its own oneshot channel. Only that connection waits; its I/O thread goes on
//! serving the others. Readers never touch the keyspace: the values go back to the
//! connection, and dispatch installs them under the command's own locks (`tier::prepare`),
//! where the version check makes a read that raced with a write harmless.
//!
//! A command that reads only some elements of a cold split collection (HGET, SISMEMBER,
//! ZSCORE ...) asks for just those ([`LoadRequest::elements`]): one RocksDB multi-get of the
//! elements, never merged with a load of the whole value.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Instant;

use bytes::Bytes;
use lru::LruCache;
use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::store::data_key;
use super::Tier;
use crate::keyspace::{key_slot, ColdReader};
use crate::server::Server;
use crate::types::Value;

/// A record's key version and value; `Ok(None)` when RocksDB has no record for the key.
pub type LoadResult = Result<Option<(u64, Value)>, String>;

/// Values loaded for a command about to run again: (db, key, result).
pub type Preloaded = Vec<(usize, Bytes, LoadResult)>;

/// The cold keys of database `db` a command needs; `disk_db` is the number their records are
/// written under (see `keyspace::Shard::disk_dbs`), taken under the command's locks.
#[derive(Debug)]
pub struct LoadRequest {
    pub db: usize,
    pub disk_db: u16,
    pub keys: Vec<Bytes>,
    /// Not empty: read only these elements (distinct) of the one key, a split collection.
    pub elements: Vec<Bytes>,
}

/// How many recently loaded keys the second-hit ghost list remembers.
const GHOST_KEYS: usize = 65_536;

struct Job {
    /// (on-disk database number, key)
    keys: Vec<(u16, Bytes)>,
    queued: Instant,
    /// A read of these elements of the one key, answered on this channel (such a read is
    /// nobody else's: it is never merged with other loads).
    elements: Option<(Vec<Bytes>, oneshot::Sender<LoadResult>)>,
}

type Waiters = Vec<oneshot::Sender<LoadResult>>;

#[derive(Default)]
pub(super) struct Loader {
    jobs: std::sync::OnceLock<crossbeam_channel::Sender<Job>>,
    /// Keys being read (by on-disk database number), with everyone waiting for each.
    inflight: Mutex<HashMap<(u16, Bytes), Waiters>>,
    /// Keys loaded recently but not promoted (`tiering-promote-on second-hit`): a second load
    /// within the list's memory promotes.
    ghost: Mutex<Option<LruCache<(usize, Bytes), ()>>>,
}

impl Loader {
    pub(super) fn start(&self, tier: &Arc<Tier>, threads: usize) -> Result<(), String> {
        let (tx, rx) = crossbeam_channel::unbounded::<Job>();
        for i in 0..threads {
            let rx = rx.clone();
            let tier = Arc::downgrade(tier);
            std::thread::Builder::new()
                .name(format!("tier-reader-{i}"))
                .spawn(move || reader_loop(tier, rx))
                .map_err(|e| format!("cannot start a tiering reader thread: {e}"))?;
        }
        let _ = self.jobs.set(tx);
        Ok(())
    }

    /// Records a load of `key` that may not promote it; true when it was loaded recently
    /// already (a second hit: promote now).
    pub(super) fn second_hit(&self, db: usize, key: &Bytes) -> bool {
        let mut ghost = self.ghost.lock();
        let ghost = ghost
            .get_or_insert_with(|| LruCache::new(NonZeroUsize::new(GHOST_KEYS).expect("nonzero")));
        if ghost.pop(&(db, key.clone())).is_some() {
            true
        } else {
            ghost.put((db, key.clone()), ());
            false
        }
    }
}

/// Loads `request`'s keys; returns each one's result. Fails only when the server is going
/// away (the reader pool is gone).
pub async fn await_loads(server: &Server, request: LoadRequest) -> Result<Preloaded, String> {
    let Some(tier) = server.tier.get() else {
        return Err("ERR tiering is off".into());
    };
    if !request.elements.is_empty() {
        return await_elements(tier, request).await;
    }
    let mut receivers = Vec::with_capacity(request.keys.len());
    let mut job = Vec::new();
    {
        let mut inflight = tier.loader.inflight.lock();
        let (db, disk_db) = (request.db, request.disk_db);
        for key in request.keys {
            let (tx, rx) = oneshot::channel();
            match inflight.entry((disk_db, key.clone())) {
                std::collections::hash_map::Entry::Occupied(mut o) => o.get_mut().push(tx),
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(vec![tx]);
                    job.push((disk_db, key.clone()));
                }
            }
            receivers.push((db, key, rx));
        }
    }
    if !job.is_empty() {
        tier.stats
            .loads_in_flight
            .fetch_add(job.len() as i64, Ordering::Relaxed);
        let sent = tier.loader.jobs.get().is_some_and(|tx| {
            tx.send(Job {
                keys: job.clone(),
                queued: Instant::now(),
                elements: None,
            })
            .is_ok()
        });
        if !sent {
            let mut inflight = tier.loader.inflight.lock();
            for k in &job {
                inflight.remove(k);
            }
            return Err("ERR the tiering reader threads are gone".into());
        }
    }
    let mut out = Vec::with_capacity(receivers.len());
    for (db, key, rx) in receivers {
        let result = rx
            .await
            .unwrap_or_else(|_| Err("ERR a tiering read was abandoned".into()));
        out.push((db, key, result));
    }
    Ok(out)
}

/// [`await_loads`] of some elements of one key.
async fn await_elements(tier: &Tier, request: LoadRequest) -> Result<Preloaded, String> {
    let Some(key) = request.keys.into_iter().next() else {
        return Ok(Vec::new());
    };
    let (tx, rx) = oneshot::channel();
    let job = Job {
        keys: vec![(request.disk_db, key.clone())],
        queued: Instant::now(),
        elements: Some((request.elements, tx)),
    };
    let sent = tier
        .loader
        .jobs
        .get()
        .is_some_and(|jobs| jobs.send(job).is_ok());
    if !sent {
        return Err("ERR the tiering reader threads are gone".into());
    }
    let result = rx
        .await
        .unwrap_or_else(|_| Err("ERR a tiering read was abandoned".into()));
    Ok(vec![(request.db, key, result)])
}

/// Reads the elements an element job asks for and answers it.
fn read_elements(tier: &Tier, job: Job) {
    let (Some((names, done)), Some((db, key))) = (job.elements, job.keys.first()) else {
        return;
    };
    let result = tier
        .read_elements(*db, key, &names)
        .map_err(|e| load_failed(tier, "reading elements of", key, e));
    tier.stats.element_loads.fetch_add(1, Ordering::Relaxed);
    tier.stats
        .elements_loaded
        .fetch_add(names.len() as u64, Ordering::Relaxed);
    tier.stats
        .record_load_latency(job.queued.elapsed().as_micros() as u64);
    let _ = done.send(result);
}

/// Most keys one read takes from the queue at once.
const BATCH_KEYS: usize = 64;

fn reader_loop(tier: Weak<Tier>, jobs: crossbeam_channel::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let Some(tier) = tier.upgrade() else {
            return;
        };
        if first.elements.is_some() {
            read_elements(&tier, first);
            continue;
        }
        // Whatever else is queued (other connections' loads) joins this read: one multi-get
        // instead of a read and a thread hand-off each.
        let mut batch = vec![first];
        let mut n = batch[0].keys.len();
        while n < BATCH_KEYS {
            match jobs.try_recv() {
                Ok(job) if job.elements.is_some() => read_elements(&tier, job),
                Ok(job) => {
                    n += job.keys.len();
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        let keys: Vec<Vec<u8>> = batch
            .iter()
            .flat_map(|job| job.keys.iter())
            .map(|(db, key)| data_key(*db, key_slot(key), key))
            .collect();
        let mut records = if keys.len() == 1 {
            vec![tier.store.get(&keys[0])]
        } else {
            tier.store.multi_get(&keys)
        }
        .into_iter();
        let mut data_keys = keys.iter();
        for job in batch {
            let micros = job.queued.elapsed().as_micros() as u64;
            for (db, key) in job.keys {
                let record = records
                    .next()
                    .unwrap_or_else(|| Err(super::store::StoreError("no result".into())));
                let data_key = data_keys.next().map_or(&[][..], |k| &k[..]);
                finish(&tier, db, key, data_key, record, micros);
            }
        }
    }
}

/// Counts and logs a failed read of `key` (`doing` says what was being done to it) and gives
/// the reply its waiters get.
fn load_failed(tier: &Tier, doing: &str, key: &[u8], e: String) -> String {
    tier.stats.load_errors.fetch_add(1, Ordering::Relaxed);
    tracing::warn!(
        "{doing} cold key '{}' failed: {e}",
        crate::error::printable(key, 64)
    );
    format!("ERR loading a cold value failed: {e}")
}

/// Decodes one read and hands it to everyone waiting for that key.
fn finish(
    tier: &Tier,
    db: u16,
    key: Bytes,
    data_key: &[u8],
    record: Result<Option<Vec<u8>>, super::store::StoreError>,
    micros: u64,
) {
    let result = tier
        .decode_read(data_key, record)
        .map_err(|e| load_failed(tier, "loading", &key, e));
    tier.stats.loads.fetch_add(1, Ordering::Relaxed);
    tier.stats.loads_in_flight.fetch_sub(1, Ordering::Relaxed);
    tier.stats.record_load_latency(micros);
    let waiters = tier.loader.inflight.lock().remove(&(db, key));
    for w in waiters.into_iter().flatten() {
        let _ = w.send(result.clone());
    }
}

/// The keyspace's synchronous reader (`Locked::ensure_hot`).
pub(super) struct SyncReader(pub(super) Arc<Tier>);

impl ColdReader for SyncReader {
    fn read(&self, db: u16, slot: u16, key: &[u8]) -> Result<Option<(u64, Value)>, String> {
        let tier = &self.0;
        tier.stats.sync_loads.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let data_key = data_key(db, slot, key);
        let record = tier.store.get(&data_key);
        let result = tier.decode_read(&data_key, record);
        tier.stats
            .record_load_latency(started.elapsed().as_micros() as u64);
        if result.is_err() {
            tier.stats.load_errors.fetch_add(1, Ordering::Relaxed);
        }
        result
    }
}
