//! What a command meets above `maxmemory`.
//!
//! STUB: pure-memory eviction (the eight maxmemory-policy values) is being written.

use super::Server;

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

/// Called before a command while used memory is over `maxmemory`. In pure-memory mode evicts
/// keys according to `maxmemory-policy`; with tiering, asks the tier.
pub fn enforce(server: &Server, denyoom: bool) -> Verdict {
    if let Some(tier) = server.tier.get() {
        return tier.enforce(server, denyoom);
    }
    Verdict::Oom
}
