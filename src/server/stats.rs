//! Server-wide counters behind INFO stats, INFO commandstats and INFO errorstats.
//!
//! Counters are relaxed atomics: they are read for reporting only, never to make decisions.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use parking_lot::Mutex;
use smallvec::SmallVec;

use crate::keyspace::LookupStats;

#[derive(Default)]
pub struct CommandStats {
    pub calls: AtomicU64,
    pub usec: AtomicU64,
    pub rejected: AtomicU64,
    pub failed: AtomicU64,
}

/// One command's counters inside [`LocalStats`].
#[derive(Debug)]
struct LocalCommand {
    idx: u32,
    calls: u64,
    usec: u64,
    failed: u64,
}

/// Counters a connection accumulates without touching shared cache lines, added to [`Stats`]
/// once per batch of pipelined commands (and before whole-keyspace commands such as INFO, so
/// that a connection always sees its own earlier commands counted).
#[derive(Debug, Default)]
pub struct LocalStats {
    commands: SmallVec<[LocalCommand; 4]>,
    lookups: LookupStats,
}

impl LocalStats {
    /// A command ran (successfully or with an error reply, `failed`).
    pub fn record(&mut self, idx: usize, elapsed: Duration, lookups: LookupStats, failed: bool) {
        let usec = elapsed.as_micros() as u64;
        match self.commands.iter_mut().find(|c| c.idx == idx as u32) {
            Some(c) => {
                c.calls += 1;
                c.usec += usec;
                c.failed += failed as u64;
            }
            None => self.commands.push(LocalCommand {
                idx: idx as u32,
                calls: 1,
                usec,
                failed: failed as u64,
            }),
        }
        self.lookups.hits += lookups.hits;
        self.lookups.misses += lookups.misses;
        self.lookups.expired += lookups.expired;
    }

    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }
}

pub struct Stats {
    pub commands: Vec<CommandStats>,
    pub total_commands: AtomicU64,
    pub total_connections: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub keyspace_hits: AtomicU64,
    pub keyspace_misses: AtomicU64,
    pub expired_keys: AtomicU64,
    /// Keys removed by maxmemory eviction (pure-memory mode).
    pub evicted_keys: AtomicU64,
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
            evicted_keys: AtomicU64::new(0),
            net_input_bytes: AtomicU64::new(0),
            net_output_bytes: AtomicU64::new(0),
            total_error_replies: AtomicU64::new(0),
            blocked_clients: AtomicU64::new(0),
            errors: Mutex::new(BTreeMap::new()),
        }
    }

    /// Adds a connection's counters to the totals and clears them.
    pub fn flush(&self, local: &mut LocalStats) {
        let mut total = 0;
        for c in local.commands.drain(..) {
            let g = &self.commands[c.idx as usize];
            g.calls.fetch_add(c.calls, Relaxed);
            g.usec.fetch_add(c.usec, Relaxed);
            if c.failed != 0 {
                g.failed.fetch_add(c.failed, Relaxed);
            }
            total += c.calls;
        }
        if total != 0 {
            self.total_commands.fetch_add(total, Relaxed);
        }
        let l = std::mem::take(&mut local.lookups);
        for (counter, n) in [
            (&self.keyspace_hits, l.hits),
            (&self.keyspace_misses, l.misses),
            (&self.expired_keys, l.expired),
        ] {
            if n != 0 {
                counter.fetch_add(n, Relaxed);
            }
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
            &self.evicted_keys,
            &self.net_input_bytes,
            &self.net_output_bytes,
            &self.total_error_replies,
        ] {
            a.store(0, Relaxed);
        }
        self.errors.lock().clear();
    }
}
