//! Server-wide counters behind INFO stats, INFO commandstats and INFO errorstats.
//!
//! Counters are relaxed atomics: they are read for reporting only, never to make decisions.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use parking_lot::Mutex;

use crate::keyspace::LookupStats;

#[derive(Default)]
pub struct CommandStats {
    pub calls: AtomicU64,
    pub usec: AtomicU64,
    pub rejected: AtomicU64,
    pub failed: AtomicU64,
}

pub struct Stats {
    pub commands: Vec<CommandStats>,
    pub total_commands: AtomicU64,
    pub total_connections: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub keyspace_hits: AtomicU64,
    pub keyspace_misses: AtomicU64,
    pub expired_keys: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    pub total_error_replies: AtomicU64,
    /// Clients currently waiting for a CLIENT PAUSE to end (INFO's `blocked_clients`, which
    /// Redis counts them in). A gauge: CONFIG RESETSTAT leaves it alone.
    pub blocked_clients: AtomicU64,
    /// Error code (first word of the error) -> count.
    pub errors: Mutex<BTreeMap<String, u64>>,
}

impl Stats {
    pub fn new(commands: usize) -> Stats {
        Stats {
            commands: (0..commands).map(|_| CommandStats::default()).collect(),
            total_commands: AtomicU64::new(0),
            total_connections: AtomicU64::new(0),
            rejected_connections: AtomicU64::new(0),
            keyspace_hits: AtomicU64::new(0),
            keyspace_misses: AtomicU64::new(0),
            expired_keys: AtomicU64::new(0),
            net_input_bytes: AtomicU64::new(0),
            net_output_bytes: AtomicU64::new(0),
            total_error_replies: AtomicU64::new(0),
            blocked_clients: AtomicU64::new(0),
            errors: Mutex::new(BTreeMap::new()),
        }
    }

    /// A command ran (successfully or with an error reply).
    pub fn record_call(
        &self,
        idx: usize,
        elapsed: Duration,
        lookups: LookupStats,
        error: Option<&str>,
    ) {
        let c = &self.commands[idx];
        c.calls.fetch_add(1, Relaxed);
        c.usec.fetch_add(elapsed.as_micros() as u64, Relaxed);
        self.total_commands.fetch_add(1, Relaxed);
        if lookups.hits != 0 {
            self.keyspace_hits.fetch_add(lookups.hits, Relaxed);
        }
        if lookups.misses != 0 {
            self.keyspace_misses.fetch_add(lookups.misses, Relaxed);
        }
        if lookups.expired != 0 {
            self.expired_keys.fetch_add(lookups.expired, Relaxed);
        }
        if let Some(e) = error {
            c.failed.fetch_add(1, Relaxed);
            self.record_error(e);
        }
    }

    /// A command was refused before running (arity, authentication, ...).
    pub fn record_rejected(&self, idx: usize, error: &str) {
        self.commands[idx].rejected.fetch_add(1, Relaxed);
        self.total_commands.fetch_add(1, Relaxed);
        self.record_error(error);
    }

    /// An error reply was sent.
    pub fn record_error(&self, error: &str) {
        self.total_error_replies.fetch_add(1, Relaxed);
        let code = error.split(' ').next().unwrap_or("ERR");
        let mut errors = self.errors.lock();
        // Redis caps the table at 128 codes so that clients cannot grow it without bound.
        if errors.len() < 128 || errors.contains_key(code) {
            *errors.entry(code.to_string()).or_default() += 1;
        }
    }

    /// CONFIG RESETSTAT.
    pub fn reset(&self) {
        for c in &self.commands {
            c.calls.store(0, Relaxed);
            c.usec.store(0, Relaxed);
            c.rejected.store(0, Relaxed);
            c.failed.store(0, Relaxed);
        }
        for a in [
            &self.total_commands,
            &self.total_connections,
            &self.rejected_connections,
            &self.keyspace_hits,
            &self.keyspace_misses,
            &self.expired_keys,
            &self.net_input_bytes,
            &self.net_output_bytes,
            &self.total_error_replies,
        ] {
            a.store(0, Relaxed);
        }
        self.errors.lock().clear();
    }
}
