//! The encoding thresholds of Redis's `*-max-listpack-*` / `set-max-intset-entries` options,
//! read by the value types (or, for lists and sorted sets, by their commands, which pass them
//! in) when they decide what OBJECT ENCODING reports.
//!
//! They are process-wide atomics rather than fields passed down to every insert: a value type
//! has no handle on the server's configuration, and one server runs per process. The server
//! stores the configured values here at start and after every CONFIG SET
//! (`Server::config_changed`); a relaxed load per insert is all a type pays.

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

static HASH_MAX_LISTPACK_ENTRIES: AtomicUsize = AtomicUsize::new(128);
static HASH_MAX_LISTPACK_VALUE: AtomicUsize = AtomicUsize::new(64);
static SET_MAX_INTSET_ENTRIES: AtomicUsize = AtomicUsize::new(512);
static SET_MAX_LISTPACK_ENTRIES: AtomicUsize = AtomicUsize::new(128);
static SET_MAX_LISTPACK_VALUE: AtomicUsize = AtomicUsize::new(64);
static LIST_MAX_LISTPACK_SIZE: AtomicI64 = AtomicI64::new(-2);
static ZSET_MAX_LISTPACK_ENTRIES: AtomicUsize = AtomicUsize::new(128);
static ZSET_MAX_LISTPACK_VALUE: AtomicUsize = AtomicUsize::new(64);

/// The thresholds as configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub set_max_listpack_entries: usize,
    pub set_max_listpack_value: usize,
    /// Redis's list fill factor: negative, a byte-size class; positive, an element count.
    pub list_max_listpack_size: i64,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
}

/// Installs `l` for every value type of this process.
pub fn install(l: Limits) {
    HASH_MAX_LISTPACK_ENTRIES.store(l.hash_max_listpack_entries, Ordering::Relaxed);
    HASH_MAX_LISTPACK_VALUE.store(l.hash_max_listpack_value, Ordering::Relaxed);
    SET_MAX_INTSET_ENTRIES.store(l.set_max_intset_entries, Ordering::Relaxed);
    SET_MAX_LISTPACK_ENTRIES.store(l.set_max_listpack_entries, Ordering::Relaxed);
    SET_MAX_LISTPACK_VALUE.store(l.set_max_listpack_value, Ordering::Relaxed);
    LIST_MAX_LISTPACK_SIZE.store(l.list_max_listpack_size, Ordering::Relaxed);
    ZSET_MAX_LISTPACK_ENTRIES.store(l.zset_max_listpack_entries, Ordering::Relaxed);
    ZSET_MAX_LISTPACK_VALUE.store(l.zset_max_listpack_value, Ordering::Relaxed);
}

/// `list-max-listpack-size`, the fill factor list writes take.
pub fn list_fill() -> i64 {
    LIST_MAX_LISTPACK_SIZE.load(Ordering::Relaxed)
}

/// `zset-max-listpack-entries` / `-value`, as sorted-set writes take them.
pub fn zset() -> super::zset::Limits {
    super::zset::Limits {
        entries: ZSET_MAX_LISTPACK_ENTRIES.load(Ordering::Relaxed),
        value: ZSET_MAX_LISTPACK_VALUE.load(Ordering::Relaxed),
    }
}

pub fn hash_max_listpack_entries() -> usize {
    HASH_MAX_LISTPACK_ENTRIES.load(Ordering::Relaxed)
}

pub fn hash_max_listpack_value() -> usize {
    HASH_MAX_LISTPACK_VALUE.load(Ordering::Relaxed)
}

pub fn set_max_intset_entries() -> usize {
    SET_MAX_INTSET_ENTRIES.load(Ordering::Relaxed)
}

pub fn set_max_listpack_entries() -> usize {
    SET_MAX_LISTPACK_ENTRIES.load(Ordering::Relaxed)
}

pub fn set_max_listpack_value() -> usize {
    SET_MAX_LISTPACK_VALUE.load(Ordering::Relaxed)
}
