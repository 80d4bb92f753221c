//! Checkpoints: every change of the keyspace written into RocksDB, with the binlog offset each
//! shard's state was taken at, so that a restart rebuilds the keyspace from RocksDB's index and
//! replays only the binlog after those offsets.
//!
//! A checkpoint asks each demotion thread to write its shards (the thread is the only writer of
//! its shards' records, so garbage deletes and writes stay in the order they were decided):
//! under a shard's lock it takes the shard's garbage, a copy of every entry the index does not
//! hold as it is now (looking only in the slot tables written since the last checkpoint), and
//! the journal's end; off the lock it writes them. Then RocksDB is
//! flushed (data and index together) and the marks are recorded in `meta`, synced. A shard's
//! mark is exact: every step before its offset is in the state written, none after. What the
//! store holds beyond a mark (demotions, a later checkpoint cut short by a crash) is a newer
//! state of some keys, each with its version: replay skips an effect whose version the entry
//! already has, so it is harmless.
//!
//! A restart ([`Tier::rebuild`]) reads the marks, gives each shard its version counter and
//! on-disk database numbers, and turns every index entry into a cold stub, reading no value.

use std::sync::atomic::Ordering;

use super::record;
use super::store::{CHECKPOINT_KEY, CLEAN_SHUTDOWN_KEY};
use super::Tier;
use crate::keyspace::{Key, Keyspace, SHARDS, SLOTS};

/// Where one shard's state stood when a checkpoint took it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardMark {
    /// The binlog offset: every step before it is in the state, none after.
    pub offset: u64,
    /// The shard's version counter: every version in the state is at or below it.
    pub next_version: u64,
    /// The on-disk number of each database (see `keyspace::Shard::disk_dbs`).
    pub disk_dbs: Vec<u16>,
}

/// A recorded checkpoint (the `checkpoint` entry of `meta`; docs/FORMAT.md "Checkpoint").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// When it was recorded, Unix milliseconds.
    pub unix_ms: u64,
    /// Taken with the binlog on: the marks are binlog offsets. Without it (cache mode) they are
    /// all 0 and the store alone holds the dataset.
    pub binlog: bool,
    /// One mark per shard.
    pub marks: Vec<ShardMark>,
}

const CHECKPOINT_FORMAT: u8 = 1;

impl Checkpoint {
    /// The replay start: the lowest mark (records before it are in every shard's state).
    pub fn from_offset(&self) -> u64 {
        self.marks.iter().map(|m| m.offset).min().unwrap_or(0)
    }

    /// The highest mark: the binlog must be synced past it before the checkpoint is recorded.
    pub fn to_offset(&self) -> u64 {
        self.marks.iter().map(|m| m.offset).max().unwrap_or(0)
    }

    pub fn encode(&self) -> Vec<u8> {
        let dbs = self.marks.first().map_or(0, |m| m.disk_dbs.len());
        let mut out = Vec::with_capacity(16 + self.marks.len() * (16 + 2 * dbs));
        out.push(CHECKPOINT_FORMAT);
        out.push(self.binlog as u8);
        out.extend_from_slice(&self.unix_ms.to_be_bytes());
        out.extend_from_slice(&(self.marks.len() as u16).to_be_bytes());
        out.extend_from_slice(&(dbs as u16).to_be_bytes());
        for m in &self.marks {
            out.extend_from_slice(&m.offset.to_be_bytes());
            out.extend_from_slice(&m.next_version.to_be_bytes());
            for d in &m.disk_dbs {
                out.extend_from_slice(&d.to_be_bytes());
            }
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Checkpoint, String> {
        let bad = || "the checkpoint record in the tiering directory is damaged".to_string();
        let mut r = bytes;
        let mut take = |n: usize| -> Result<&[u8], String> {
            if r.len() < n {
                return Err(bad());
            }
            let (head, rest) = r.split_at(n);
            r = rest;
            Ok(head)
        };
        let u16_of = |b: &[u8]| u16::from_be_bytes([b[0], b[1]]);
        let u64_of = |b: &[u8]| u64::from_be_bytes(b.try_into().expect("8 bytes"));
        let format = take(1)?[0];
        if format != CHECKPOINT_FORMAT {
            return Err(format!(
                "the checkpoint record has format {format}; this server reads {CHECKPOINT_FORMAT}"
            ));
        }
        let binlog = take(1)?[0] != 0;
        let unix_ms = u64_of(take(8)?);
        let shards = u16_of(take(2)?) as usize;
        let dbs = u16_of(take(2)?) as usize;
        let mut marks = Vec::with_capacity(shards);
        for _ in 0..shards {
            let offset = u64_of(take(8)?);
            let next_version = u64_of(take(8)?);
            let disk_dbs = (0..dbs)
                .map(|_| take(2).map(u16_of))
                .collect::<Result<Vec<u16>, String>>()?;
            marks.push(ShardMark {
                offset,
                next_version,
                disk_dbs,
            });
        }
        if !r.is_empty() {
            return Err(bad());
        }
        Ok(Checkpoint {
            unix_ms,
            binlog,
            marks,
        })
    }
}

/// What [`Tier::rebuild`] found.
#[derive(Debug, Default)]
pub struct Rebuilt {
    /// The checkpoint the keyspace was rebuilt from.
    pub checkpoint: Option<Checkpoint>,
    /// Keys rebuilt (as cold stubs).
    pub keys: u64,
}

impl Tier {
    /// Writes every shard's changes to RocksDB (through the demotion threads) and returns the
    /// marks, not yet recorded: see [`Tier::record_checkpoint`].
    pub fn write_changes(&self) -> Result<Vec<ShardMark>, String> {
        self.stats
            .checkpoint_lock_max_us
            .store(0, Ordering::Relaxed);
        self.demoters.checkpoint()
    }

    /// Flushes RocksDB (so that everything the marks describe is on disk), then records the
    /// checkpoint, synced. With `clean`, also records that the store holds the whole dataset as
    /// a clean shutdown left it.
    pub fn record_checkpoint(&self, checkpoint: &Checkpoint, clean: bool) -> Result<(), String> {
        self.store.flush().map_err(|e| e.to_string())?;
        self.store
            .put_meta(CHECKPOINT_KEY, &checkpoint.encode())
            .map_err(|e| e.to_string())?;
        if clean {
            self.store
                .put_meta(CLEAN_SHUTDOWN_KEY, &checkpoint.unix_ms.to_be_bytes())
                .map_err(|e| e.to_string())?;
        }
        self.stats.checkpoints.fetch_add(1, Ordering::Relaxed);
        *self.last_checkpoint.lock() = Some(checkpoint.clone());
        Ok(())
    }

    /// The checkpoint RocksDB holds, if any.
    pub fn recorded_checkpoint(&self) -> Result<Option<Checkpoint>, String> {
        match self
            .store
            .get_meta(CHECKPOINT_KEY)
            .map_err(|e| e.to_string())?
        {
            Some(bytes) => Checkpoint::decode(&bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Whether the last run shut down cleanly (and recorded so).
    pub fn shut_down_cleanly(&self) -> Result<bool, String> {
        Ok(self
            .store
            .get_meta(CLEAN_SHUTDOWN_KEY)
            .map_err(|e| e.to_string())?
            .is_some())
    }

    /// From now on a crash must not be mistaken for a clean shutdown.
    pub fn forget_clean_shutdown(&self) -> Result<(), String> {
        self.store
            .delete_meta(CLEAN_SHUTDOWN_KEY)
            .map_err(|e| e.to_string())
    }

    /// Drops everything RocksDB holds (a start that cannot use it).
    pub fn reset(&self) -> Result<(), String> {
        *self.last_checkpoint.lock() = None;
        self.store.reset().map_err(|e| e.to_string())
    }

    /// Rebuilds `keyspace` (empty) from the recorded checkpoint: each shard's version counter
    /// and database numbers from its mark, then one cold stub per index entry. Without a
    /// checkpoint, drops whatever the store holds and rebuilds nothing. `progress` is called
    /// now and then with the keys rebuilt so far.
    pub fn rebuild(
        &self,
        keyspace: &Keyspace,
        mut progress: impl FnMut(u64),
    ) -> Result<Rebuilt, String> {
        let Some(checkpoint) = self.recorded_checkpoint()? else {
            self.reset()?;
            return Ok(Rebuilt::default());
        };
        let databases = keyspace.databases();
        if checkpoint.marks.len() != SHARDS {
            return Err(format!(
                "the checkpoint in the tiering directory has {} shards; this server has {SHARDS}",
                checkpoint.marks.len()
            ));
        }
        for (shard, mark) in checkpoint.marks.iter().enumerate() {
            if mark.disk_dbs.len() != databases {
                return Err(format!(
                    "the tiering directory was written with {} databases; this server has \
                     {databases} (set `databases` to {})",
                    mark.disk_dbs.len(),
                    mark.disk_dbs.len()
                ));
            }
            keyspace.restore_shard(shard, mark.next_version, &mark.disk_dbs);
        }
        let per_shard = (SLOTS / SHARDS) as u16;
        // Entries come in key order: database number, slot, key. Gather one slot range at a
        // time and hand it over under one lock.
        let mut batch: Vec<(Key, crate::keyspace::IndexEntry)> = Vec::new();
        let mut at: Option<(usize, usize)> = None; // (shard, db)
        let mut keys = 0u64;
        let flush = |at: Option<(usize, usize)>,
                     batch: &mut Vec<(Key, crate::keyspace::IndexEntry)>| {
            if let Some((shard, db)) = at {
                keyspace.restore_stubs(shard, db, std::mem::take(batch));
            }
        };
        self.store.scan_index(|k, v| {
            if k.len() < 4 {
                return Err(
                    "a damaged index entry (key too short) in the tiering directory".into(),
                );
            }
            let disk_db = u16::from_be_bytes([k[0], k[1]]);
            let slot = u16::from_be_bytes([k[2], k[3]]);
            let shard = (slot / per_shard) as usize;
            let entry = record::decode_index(v).map_err(|e| e.to_string())?;
            let db = checkpoint.marks[shard.min(SHARDS - 1)]
                .disk_dbs
                .iter()
                .position(|&n| n == disk_db)
                .ok_or_else(|| {
                    format!(
                        "the tiering index names database number {disk_db}, which no database has"
                    )
                })?;
            if at != Some((shard, db)) || batch.len() >= 4096 {
                flush(at, &mut batch);
                at = Some((shard, db));
            }
            batch.push((Key::from_slice(&k[4..]), entry));
            keys += 1;
            if keys % 1_000_000 == 0 {
                progress(keys);
            }
            Ok(())
        })?;
        flush(at, &mut batch);
        *self.last_checkpoint.lock() = Some(checkpoint.clone());
        Ok(Rebuilt {
            checkpoint: Some(checkpoint),
            keys,
        })
    }

    /// The last checkpoint recorded (or rebuilt from).
    pub fn last_checkpoint(&self) -> Option<Checkpoint> {
        self.last_checkpoint.lock().clone()
    }

    /// Makes the process abort in the middle of the next checkpoint, once `batches` of its
    /// batches are written and flushed (DEBUG CHECKPOINT-CRASH; 0 clears).
    pub fn crash_checkpoint_after(&self, batches: u32) {
        self.crash_after.store(batches, Ordering::Relaxed);
    }

    /// Called after each checkpoint batch: aborts when DEBUG CHECKPOINT-CRASH says so, with
    /// what was written flushed to disk (a crash that leaves a partial checkpoint behind).
    pub(super) fn maybe_crash_in_checkpoint(&self) {
        let left = self
            .crash_after
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        if left == Ok(1) {
            let _ = self.store.flush();
            tracing::warn!("DEBUG CHECKPOINT-CRASH: aborting in the middle of a checkpoint");
            std::process::abort();
        }
    }

    /// Stops the demotion threads and RocksDB's background work (flushes, compactions), and
    /// waits for both: nothing is written to RocksDB after this, and the process can exit
    /// without a RocksDB thread running into its static destructors.
    pub fn stop(&self) {
        self.demoters.stop();
        self.store.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_round_trips_and_refuses_damage() {
        let c = Checkpoint {
            unix_ms: 1_700_000_000_123,
            binlog: true,
            marks: (0..SHARDS as u64)
                .map(|i| ShardMark {
                    offset: 1000 + i,
                    next_version: i * 7,
                    disk_dbs: vec![1, 0, 2],
                })
                .collect(),
        };
        let bytes = c.encode();
        assert_eq!(Checkpoint::decode(&bytes).unwrap(), c);
        assert_eq!(c.from_offset(), 1000);
        assert_eq!(c.to_offset(), 1000 + SHARDS as u64 - 1);
        for cut in [0, 1, 5, bytes.len() - 1] {
            assert!(Checkpoint::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Checkpoint::decode(&longer).is_err());
        let mut other = bytes;
        other[0] = 9;
        assert!(Checkpoint::decode(&other).unwrap_err().contains("format 9"));
    }
}
