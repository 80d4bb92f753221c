//! What a command meets above `maxmemory`.
//!
//! In pure-memory mode (`tiering no`) this is Redis's eviction: before the command runs, keys
//! chosen by `maxmemory-policy` are removed until used memory is back under the limit (each
//! one an `evicted` keyspace event and a count in INFO's `evicted_keys`); with `noeviction`,
//! or when the policy finds nothing it may remove, commands that may grow memory get the OOM
//! error. With tiering on, values are demoted instead, in the background (src/tier), and a
//! write waits for that while memory is over the limit.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::Server;
use crate::keyspace::cold::Eviction;
use crate::keyspace::events::class;
use crate::keyspace::KeyEvent;

/// The outcome of making room before a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Memory is within the limit (or was brought back within it).
    Fits,
    /// Still over the limit and nothing more can be freed: commands that may grow memory get
    /// the OOM error.
    Oom,
    /// Tiering is demoting values to make room: wait a moment and try again.
    Stall,
}

/// The OOM error, as Redis words it.
pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// Keys sampled per eviction (Redis's `maxmemory-samples` default).
const SAMPLES: usize = 5;
/// Evictions one command may do before giving up (a bound on the time it waits).
const MAX_EVICTIONS_PER_COMMAND: usize = 10_000;

/// Called before a command while used memory is over `maxmemory`; `stalls` is how many times
/// in a row this client's command already waited.
pub fn enforce(server: &Server, denyoom: bool, stalls: u32) -> Verdict {
    if let Some(tier) = server.tier.get().filter(|t| t.demoting) {
        return tier.enforce(denyoom, stalls);
    }
    let policy = {
        let c = server.config.read();
        Eviction::from_policy(&c.maxmemory_policy)
    };
    let Some(policy) = policy else {
        return Verdict::Oom;
    };
    let mut events = Vec::new();
    let notify = server.notify_flags() & class::EVICTED != 0;
    let mut verdict = Verdict::Fits;
    let mut evicted = 0;
    while server.memory.over_limit() {
        if evicted >= MAX_EVICTIONS_PER_COMMAND {
            verdict = Verdict::Oom;
            break;
        }
        let clock = server.clock(Instant::now());
        match server.keyspace.evict_one(policy, SAMPLES, clock) {
            Some(e) => {
                server.memory.note_freed(e.bytes);
                server.stats.evicted_keys.fetch_add(1, Ordering::Relaxed);
                evicted += 1;
                if notify {
                    events.push(KeyEvent {
                        class: class::EVICTED,
                        event: "evicted",
                        db: e.db,
                        key: e.key,
                    });
                }
            }
            None => {
                verdict = Verdict::Oom;
                break;
            }
        }
    }
    server.publish_events(events);
    verdict
}
