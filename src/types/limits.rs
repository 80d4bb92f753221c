//! The encoding thresholds of Redis's `*-max-listpack-*` / `set-max-intset-entries` options,
//! read by the value types when they decide what OBJECT ENCODING reports.
//!
//! They are process-wide atomics rather than fields passed down to every insert: a value type
//! has no handle on the server's configuration, and one server runs per process. The server
//! stores the configured values here at start and after every CONFIG SET
//! (`Server::config_changed`); a relaxed load per insert is all a type pays.

use std::sync::atomic::{AtomicUsize, Ordering};

static HASH_MAX_LISTPACK_ENTRIES: AtomicUsize = AtomicUsize::new(128);
static HASH_MAX_LISTPACK_VALUE: AtomicUsize = AtomicUsize::new(64);
static SET_MAX_INTSET_ENTRIES: AtomicUsize = AtomicUsize::new(512);
static SET_MAX_LISTPACK_ENTRIES: AtomicUsize = AtomicUsize::new(128);
static SET_MAX_LISTPACK_VALUE: AtomicUsize = AtomicUsize::new(64);

/// The thresholds as configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub set_max_listpack_entries: usize,
    pub set_max_listpack_value: usize,
}

/// Installs `l` for every value type of this process.
pub fn install(l: Limits) {
    HASH_MAX_LISTPACK_ENTRIES.store(l.hash_max_listpack_entries, Ordering::Relaxed);
    HASH_MAX_LISTPACK_VALUE.store(l.hash_max_listpack_value, Ordering::Relaxed);
    SET_MAX_INTSET_ENTRIES.store(l.set_max_intset_entries, Ordering::Relaxed);
    SET_MAX_LISTPACK_ENTRIES.store(l.set_max_listpack_entries, Ordering::Relaxed);
    SET_MAX_LISTPACK_VALUE.store(l.set_max_listpack_value, Ordering::Relaxed);
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
