//! Tiering: cold values moved to RocksDB in the background and loaded back on demand.

pub mod record;
pub mod store;
