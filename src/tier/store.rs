//! The RocksDB side of the cold tier: opening the database from a tuning profile, the key
//! layout, reads, ordered batched writes and the statistics INFO reports.
//!
//! STUB: the signatures below are the contract the rest of the tier codes against; the bodies
//! are being written.

use std::path::Path;

/// The version of the on-disk layout (key layout, record header, metadata keys). A data
/// directory written with another version is refused at open.
pub const DISK_FORMAT_VERSION: u32 = 1;

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

/// The RocksDB key of `key` in database `db`: db (u16 big-endian), slot (u16 big-endian), then
/// the key's bytes, so that one slot of one database is one contiguous key range.
pub fn data_key(db: u16, slot: u16, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(4 + key.len());
    k.extend_from_slice(&db.to_be_bytes());
    k.extend_from_slice(&slot.to_be_bytes());
    k.extend_from_slice(key);
    k
}

/// The key range `[from, to)` holding slots `first..=last` of database `db`.
pub fn slot_range(db: u16, first: u16, last: u16) -> (Vec<u8>, Vec<u8>) {
    let from = data_key(db, first, b"");
    let to = if last == u16::MAX {
        data_key(db + 1, 0, b"")
    } else {
        data_key(db, last + 1, b"")
    };
    (from, to)
}

/// Figures INFO's `# Tiering` section reports about RocksDB.
#[derive(Debug, Clone, Default)]
pub struct StoreStats {
    pub block_cache_capacity: u64,
    pub block_cache_usage: u64,
    pub memtable_bytes: u64,
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
    _private: (),
}

impl Store {
    /// Opens (creating if needed) the database in `dir` with the options of `profile`: the name
    /// of a profile shipped in `rocksdb-tuning/` (`default`, `low-memory`, `large-values`) or a
    /// path to a profile file. A directory written with another [`DISK_FORMAT_VERSION`] is
    /// refused with a message saying which version it holds. Values left by an earlier run
    /// are dropped (until the binlog issue, the keys that pointed at them are gone).
    pub fn open(_dir: &Path, _profile: &str) -> Result<Store, StoreError> {
        Err(StoreError("not yet written".into()))
    }

    /// The record stored under `key` (a [`data_key`]).
    pub fn get(&self, _key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        unimplemented!()
    }

    /// The records of `keys`, in order, in one RocksDB multi-get.
    pub fn multi_get(&self, _keys: &[Vec<u8>]) -> Vec<Result<Option<Vec<u8>>, StoreError>> {
        unimplemented!()
    }

    /// Applies `deletes` then `puts` as one atomic write batch (no RocksDB WAL: durability is
    /// the binlog's job).
    pub fn write(&self, _puts: &[(Vec<u8>, Vec<u8>)], _deletes: &[Vec<u8>]) -> Result<(), StoreError> {
        unimplemented!()
    }

    /// Deletes every record in `[from, to)`.
    pub fn delete_range(&self, _from: &[u8], _to: &[u8]) -> Result<(), StoreError> {
        unimplemented!()
    }

    /// Metadata (zstd dictionaries, the format version), kept apart from the data records.
    pub fn put_meta(&self, _name: &[u8], _value: &[u8]) -> Result<(), StoreError> {
        unimplemented!()
    }

    pub fn get_meta(&self, _name: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        unimplemented!()
    }

    pub fn stats(&self) -> StoreStats {
        unimplemented!()
    }
}
