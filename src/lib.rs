//! Thermocline: a Redis-compatible server that keeps every key in RAM and (in later issues) moves
//! cold values to RocksDB.
//!
//! Code map (docs/ARCHITECTURE.md has the long form):
//!
//! - [`protocol`]: RESP in and out. Parses requests, encodes [`protocol::Reply`] as RESP2/RESP3.
//!   Knows nothing of keys or commands.
//! - [`server`]: the listener, one task per connection, the client registry, clients blocked on
//!   keys (BLPOP ...), Pub/Sub subscribers, statistics, cron (active expiry, idle timeouts) and
//!   shutdown.
//! - [`cmd`]: the command table (one `COMMANDS` list per family file) and [`cmd::dispatch`], which
//!   applies every cross-cutting check once and runs handlers on a locked keyspace view.
//! - [`keyspace`]: keys grouped by hash slot into independently locked shards; entries with
//!   value, TTL, version and access clock; lazy and active expiry; the keyspace events a
//!   command collects for notifications.
//! - [`types`]: value types (string, hash, list, set, sorted set) and their one binary encoding
//!   (`types::codec`, docs/FORMAT.md).
//! - [`scripting`]: the Lua engine behind EVAL and FCALL, the script cache, function libraries
//!   and the gate that makes a script atomic.
//! - [`binlog`]: durability: each write's effects appended to a log with group commit, and
//!   replayed at start (`appendonly yes`).
//! - [`config`]: redis.conf parsing and the option table behind CONFIG.
//! - [`error`]: Redis's error texts.

pub mod binlog;
pub mod cmd;
pub mod config;
pub mod error;
pub mod glob;
pub mod keyspace;
pub mod logging;
pub mod protocol;
pub mod scripting;
pub mod server;
pub mod tier;
pub mod types;
