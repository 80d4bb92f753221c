//! Server configuration: redis.conf syntax, `--option value` overrides, and the option table
//! behind CONFIG GET / SET / REWRITE.
//!
//! Every option is declared once in [`OPTIONS`] with its Redis name, default, and whether CONFIG
//! SET may change it at run time; parsing, CONFIG GET, CONFIG SET, CONFIG REWRITE and the sample
//! `thermocline.conf` all read that table.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::glob;
use crate::protocol::split_args;

/// Log verbosity, with Redis's level names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Verbose,
    Notice,
    Warning,
    Nothing,
}

impl LogLevel {
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Verbose => "verbose",
            LogLevel::Notice => "notice",
            LogLevel::Warning => "warning",
            LogLevel::Nothing => "nothing",
        }
    }

    /// The `tracing` filter directive for this level.
    pub fn filter(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Verbose => "debug",
            LogLevel::Notice => "info",
            LogLevel::Warning => "warn",
            LogLevel::Nothing => "off",
        }
    }
}

pub const MAXMEMORY_POLICIES: &[&str] = &[
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
];

/// The running configuration. Fields are public for reading; changes go through [`Config::set`]
/// so that every change is validated the same way.
#[derive(Clone, Debug)]
pub struct Config {
    pub port: u16,
    pub bind: Vec<String>,
    pub dir: PathBuf,
    pub requirepass: String,
    pub maxclients: u64,
    pub timeout: u64,
    pub tcp_keepalive: u64,
    pub databases: u64,
    pub loglevel: LogLevel,
    pub logfile: String,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    pub hz: u64,
    pub maxmemory: u64,
    pub maxmemory_policy: String,
    /// Tiering on: values over `maxmemory` move to RocksDB (src/tier).
    pub tiering: bool,
    pub tiering_dir: String,
    pub rocksdb_options_file: String,
    pub tiering_policy: String,
    pub tiering_compression_level: i32,
    pub tiering_compress_min_bytes: u64,
    pub tiering_split_elements: u64,
    pub tiering_promote_on: String,
    pub tiering_load_threads: u64,
    pub tiering_demote_threads: u64,
    pub lfu_log_factor: u64,
    pub lfu_decay_time: u64,
    pub busy_reply_threshold: u64,
    pub appendonly: bool,
    pub appendfsync: String,
    pub appenddirname: String,
    pub binlog_segment_bytes: u64,
    pub binlog_retention_bytes: u64,
    pub binlog_retention_seconds: u64,
    /// Seconds between checkpoints (0: only at shutdown and on BGREWRITEAOF).
    pub checkpoint_interval: u64,
    pub auto_aof_rewrite_percentage: u64,
    pub auto_aof_rewrite_min_size: u64,
    pub tiering_preload: bool,
    /// Microseconds to pause after each replayed binlog record (tests watch the LOADING state).
    pub key_load_delay: u64,
    pub backup_retention_days: u64,
    pub io_threads: u64,
    pub save: String,
    /// The value types' encoding thresholds (see `types::limits`).
    pub limits: crate::types::limits::Limits,
    pub list_compress_depth: i64,
    /// Bytes, or a percentage of `maxmemory` stored negated (Redis's encoding).
    pub maxmemory_clients: i64,
    pub daemonize: bool,
    /// `notify-keyspace-events` as class bits (see [`crate::keyspace::events`]).
    pub notify_keyspace_events: u16,
    /// `client-output-buffer-limit`: (hard bytes, soft bytes, soft seconds) for the normal,
    /// replica and pubsub classes.
    pub client_output_buffer_limit: [(u64, u64, u64); 3],
    /// The file the configuration was read from, for CONFIG REWRITE.
    pub config_file: Option<PathBuf>,
    /// `--repair` on the command line: start from a binlog damaged before its tail, keeping
    /// the records before the damage (not an option of the table).
    pub binlog_repair: bool,
    /// `--restore <backup-dir>` on the command line: start from that backup.
    pub restore_from: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Config {
        let mut config = Config {
            port: 0,
            bind: Vec::new(),
            dir: PathBuf::new(),
            requirepass: String::new(),
            maxclients: 0,
            timeout: 0,
            tcp_keepalive: 0,
            databases: 0,
            loglevel: LogLevel::Notice,
            logfile: String::new(),
            proto_max_bulk_len: 0,
            client_query_buffer_limit: 0,
            hz: 0,
            maxmemory: 0,
            maxmemory_policy: String::new(),
            tiering: false,
            tiering_dir: String::new(),
            rocksdb_options_file: String::new(),
            tiering_policy: String::new(),
            tiering_compression_level: 0,
            tiering_compress_min_bytes: 0,
            tiering_split_elements: 0,
            tiering_promote_on: String::new(),
            tiering_load_threads: 0,
            tiering_demote_threads: 0,
            lfu_log_factor: 0,
            lfu_decay_time: 0,
            busy_reply_threshold: 5000,
            appendonly: false,
            appendfsync: String::new(),
            appenddirname: String::new(),
            binlog_segment_bytes: 0,
            binlog_retention_bytes: 0,
            binlog_retention_seconds: 0,
            checkpoint_interval: 0,
            auto_aof_rewrite_percentage: 0,
            auto_aof_rewrite_min_size: 0,
            tiering_preload: false,
            key_load_delay: 0,
            backup_retention_days: 0,
            io_threads: 0,
            save: String::new(),
            limits: crate::types::limits::Limits {
                hash_max_listpack_entries: 0,
                hash_max_listpack_value: 0,
                set_max_intset_entries: 0,
                set_max_listpack_entries: 0,
                set_max_listpack_value: 0,
                list_max_listpack_size: 0,
                zset_max_listpack_entries: 0,
                zset_max_listpack_value: 0,
            },
            list_compress_depth: 0,
            maxmemory_clients: 0,
            daemonize: false,
            notify_keyspace_events: 0,
            client_output_buffer_limit: [(0, 0, 0); 3],
            config_file: None,
            binlog_repair: false,
            restore_from: None,
        };
        for opt in OPTIONS {
            (opt.set)(&mut config, opt.default).expect("option defaults are valid");
        }
        config
    }
}

/// One configuration option.
pub struct OptionSpec {
    pub name: &'static str,
    /// Other names accepted for it (Redis keeps old names working).
    pub aliases: &'static [&'static str],
    pub default: &'static str,
    /// CONFIG SET may change it while the server runs.
    pub mutable: bool,
    pub doc: &'static str,
    get: fn(&Config) -> String,
    set: fn(&mut Config, &str) -> Result<(), String>,
}

fn parse_i64(v: &str, min: i64, max: i64) -> Result<i64, String> {
    let n: i64 = v
        .parse()
        .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
    if n < min || n > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(n)
}

fn parse_yes_no(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

/// A lowercased value that must be one of `allowed`.
fn one_of(v: &str, allowed: &[&str]) -> Result<String, String> {
    let v = v.to_ascii_lowercase();
    if allowed.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(format!(
            "argument(s) must be one of the following: {}",
            allowed.join(", ")
        ))
    }
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

/// A yes/no option of which only `no` is supported so far: `yes` fails with `unsupported`.
fn only_no(v: &str, unsupported: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "no" => Ok(false),
        "yes" => Err(unsupported.to_string()),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

fn parse_u64(v: &str, min: u64, max: u64) -> Result<u64, String> {
    let n: u64 = v
        .parse()
        .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
    if n < min || n > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(n)
}

/// Parses a memory amount the way redis.conf does: `1gb`, `512mb`, `100k`, `1024`.
pub fn parse_memory(v: &str) -> Result<u64, String> {
    let lower = v.to_ascii_lowercase();
    let (digits, mul): (&str, u64) = if let Some(d) = lower.strip_suffix("gb") {
        (d, 1 << 30)
    } else if let Some(d) = lower.strip_suffix("mb") {
        (d, 1 << 20)
    } else if let Some(d) = lower.strip_suffix("kb") {
        (d, 1 << 10)
    } else if let Some(d) = lower.strip_suffix('g') {
        (d, 1_000_000_000)
    } else if let Some(d) = lower.strip_suffix('m') {
        (d, 1_000_000)
    } else if let Some(d) = lower.strip_suffix('k') {
        (d, 1_000)
    } else if let Some(d) = lower.strip_suffix('b') {
        (d, 1)
    } else {
        (lower.as_str(), 1)
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| "argument must be a memory value".to_string())?;
    n.checked_mul(mul)
        .ok_or_else(|| "argument must be a memory value".to_string())
}

/// A memory value, or `N%` (0..=`max_percent`) returned negated, as Redis stores percent
/// configs such as `maxmemory-clients`.
fn parse_memory_or_percent(v: &str, max_percent: i64) -> Result<i64, String> {
    if let Some(p) = v.strip_suffix('%') {
        if let Ok(n) = p.parse::<i64>() {
            if n >= 0 {
                if n > max_percent {
                    return Err(format!(
                        "percentage argument must be less or equal to {max_percent}"
                    ));
                }
                return Ok(-n);
            }
        }
        return Err("argument must be a memory or percent value".into());
    }
    match parse_memory(v) {
        Ok(n) if n <= i64::MAX as u64 => Ok(n as i64),
        _ => Err("argument must be a memory or percent value".into()),
    }
}

/// The client classes of `client-output-buffer-limit`, in the order CONFIG GET lists them.
const OBUF_CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];

/// Parses `client-output-buffer-limit`: groups of `<class> <hard> <soft> <seconds>`; only the
/// classes named change, and an error in any group changes nothing (as in Redis).
fn set_obuf_limits(c: &mut Config, v: &str) -> Result<(), String> {
    let words: Vec<&str> = v.split_whitespace().collect();
    if words.len() % 4 != 0 {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut limits = c.client_output_buffer_limit;
    for group in words.chunks(4) {
        let class = match group[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let bad = || "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
        let hard = parse_memory(group[1]).map_err(|_| bad())?;
        let soft = parse_memory(group[2]).map_err(|_| bad())?;
        let secs: u64 = group[3].parse().map_err(|_| bad())?;
        limits[class] = (hard, soft, secs);
    }
    c.client_output_buffer_limit = limits;
    Ok(())
}

fn get_obuf_limits(c: &Config) -> String {
    OBUF_CLASSES
        .iter()
        .zip(c.client_output_buffer_limit)
        .map(|(name, (hard, soft, secs))| format!("{name} {hard} {soft} {secs}"))
        .collect::<Vec<_>>()
        .join(" ")
}

macro_rules! opt {
    ($name:literal, $default:literal, $mutable:expr, $doc:literal, |$c:ident| $get:expr, |$cs:ident, $v:ident| $set:expr) => {
        OptionSpec {
            name: $name,
            aliases: &[],
            default: $default,
            mutable: $mutable,
            doc: $doc,
            get: |$c: &Config| $get,
            set: |$cs: &mut Config, $v: &str| {
                $set;
                Ok(())
            },
        }
    };
}

/// An encoding threshold of `types::limits` (a non-negative count or byte length).
macro_rules! encoding_limit {
    ($name:literal, $aliases:expr, $default:literal, $doc:literal, $field:ident) => {
        OptionSpec {
            name: $name,
            aliases: $aliases,
            default: $default,
            mutable: true,
            doc: $doc,
            get: |c| c.limits.$field.to_string(),
            set: |c, v| {
                c.limits.$field = parse_u64(v, 0, i64::MAX as u64)? as usize;
                Ok(())
            },
        }
    };
}

/// Every option, in the order the sample configuration lists them.
pub static OPTIONS: &[OptionSpec] = &[
    opt!(
        "bind",
        "127.0.0.1",
        true,
        "Addresses to listen on, separated by spaces (`-addr`: skip it if unavailable).",
        |c| c.bind.join(" "),
        |c, v| c.bind = v.split_whitespace().map(str::to_string).collect()
    ),
    opt!(
        "port",
        "6379",
        true,
        "TCP port to listen on (0: any free port).",
        |c| c.port.to_string(),
        |c, v| c.port = parse_u64(v, 0, 65535)? as u16
    ),
    opt!(
        "dir",
        "./data",
        false,
        "Directory for data files (created if missing).",
        |c| c.dir.display().to_string(),
        |c, v| c.dir = PathBuf::from(v)
    ),
    opt!(
        "databases",
        "16",
        false,
        "Number of logical databases (SELECT 0 .. databases-1).",
        |c| c.databases.to_string(),
        |c, v| c.databases = parse_u64(v, 1, 1 << 16)?
    ),
    opt!(
        "io-threads",
        "0",
        false,
        "Threads serving client connections, each with its own event loop. 0 picks one per CPU core minus one (at least one), leaving a core for background work and co-located clients.",
        |c| c.io_threads.to_string(),
        |c, v| c.io_threads = parse_u64(v, 0, 128)?
    ),
    opt!(
        "requirepass",
        "",
        true,
        "Password clients must give with AUTH or HELLO; empty disables it.",
        |c| c.requirepass.clone(),
        |c, v| c.requirepass = v.to_string()
    ),
    opt!(
        "maxclients",
        "10000",
        true,
        "Most clients connected at once; more get '-ERR max number of clients reached'.",
        |c| c.maxclients.to_string(),
        |c, v| c.maxclients = parse_u64(v, 1, u32::MAX as u64)?
    ),
    opt!(
        "timeout",
        "0",
        true,
        "Close a client after this many idle seconds (0: never).",
        |c| c.timeout.to_string(),
        |c, v| c.timeout = parse_u64(v, 0, i32::MAX as u64)?
    ),
    opt!(
        "tcp-keepalive",
        "300",
        true,
        "TCP keepalive interval in seconds for client sockets (0: off).",
        |c| c.tcp_keepalive.to_string(),
        |c, v| c.tcp_keepalive = parse_u64(v, 0, i32::MAX as u64)?
    ),
    opt!(
        "loglevel",
        "notice",
        true,
        "debug, verbose, notice, warning or nothing.",
        |c| c.loglevel.name().to_string(),
        |c, v| {
            c.loglevel = match v.to_ascii_lowercase().as_str() {
            "debug" => LogLevel::Debug,
            "verbose" => LogLevel::Verbose,
            "notice" => LogLevel::Notice,
            "warning" => LogLevel::Warning,
            "nothing" => LogLevel::Nothing,
            _ => return Err("argument(s) must be one of the following: debug, verbose, notice, warning, nothing".into()),
        }
        }
    ),
    opt!(
        "daemonize",
        "no",
        false,
        "Thermocline does not fork into the background; only 'no' is accepted (use a supervisor).",
        |c| yes_no(c.daemonize),
        |c, v| c.daemonize = only_no(v, "daemonize yes is not supported")?
    ),
    opt!(
        "logfile",
        "",
        false,
        "Log to this file; empty logs to standard output.",
        |c| c.logfile.clone(),
        |c, v| c.logfile = v.to_string()
    ),
    opt!(
        "proto-max-bulk-len",
        "512mb",
        true,
        "Largest single argument a client may send.",
        |c| c.proto_max_bulk_len.to_string(),
        |c, v| c.proto_max_bulk_len = {
            let n = parse_memory(v)?;
            if n < 1024 * 1024 {
                return Err("argument must be a memory value bigger than 1mb".into());
            }
            n
        }
    ),
    opt!(
        "client-query-buffer-limit",
        "1gb",
        true,
        "Largest unprocessed input buffered for one client; beyond it the client is closed.",
        |c| c.client_query_buffer_limit.to_string(),
        |c, v| c.client_query_buffer_limit = {
            let n = parse_memory(v)?;
            if n < 1024 * 1024 {
                return Err("argument must be a memory value bigger than 1mb".into());
            }
            n
        }
    ),
    opt!(
        "hz",
        "10",
        true,
        "Background task frequency (active expiry runs this many times a second).",
        |c| c.hz.to_string(),
        |c, v| c.hz = parse_u64(v, 0, i32::MAX as u64)?.clamp(1, 500)
    ),
    opt!(
        "maxmemory",
        "0",
        true,
        "Memory budget in bytes (0: none). Enforced by the tiering issue's eviction and demotion.",
        |c| c.maxmemory.to_string(),
        |c, v| c.maxmemory = parse_memory(v)?
    ),
    opt!(
        "maxmemory-policy",
        "noeviction",
        true,
        "What to do above maxmemory (Redis's eight policies).",
        |c| c.maxmemory_policy.clone(),
        |c, v| c.maxmemory_policy = {
            let v = v.to_ascii_lowercase();
            if !MAXMEMORY_POLICIES.contains(&v.as_str()) {
                return Err(format!(
                    "argument(s) must be one of the following: {}",
                    MAXMEMORY_POLICIES.join(", ")
                ));
            }
            v
        }
    ),
    opt!(
        "tiering",
        "yes",
        false,
        "Hybrid mode: above maxmemory, values (never keys) move to RocksDB and are loaded back when used. 'no' is pure-memory mode: nothing is demoted (RocksDB is opened only for the checkpoints of appendonly yes) and maxmemory-policy applies as in Redis.",
        |c| yes_no(c.tiering),
        |c, v| c.tiering = parse_yes_no(v)?
    ),
    opt!(
        "tiering-dir",
        "tiering",
        false,
        "Directory of the RocksDB database holding cold values, relative to dir.",
        |c| c.tiering_dir.clone(),
        |c, v| c.tiering_dir = v.to_string()
    ),
    opt!(
        "rocksdb-options-file",
        "default",
        false,
        "RocksDB tuning profile: the name of one shipped in rocksdb-tuning/ (default, low-memory, large-values) or the path of a profile file.",
        |c| c.rocksdb_options_file.clone(),
        |c, v| c.rocksdb_options_file = v.to_string()
    ),
    opt!(
        "tiering-policy",
        "lfu",
        true,
        "How demotion picks victims among sampled values: lfu (Redis's LFU counter with decay) or lru.",
        |c| c.tiering_policy.clone(),
        |c, v| c.tiering_policy = one_of(v, &["lfu", "lru"])?
    ),
    opt!(
        "tiering-compression-level",
        "3",
        true,
        "zstd level for cold values (0 stores them uncompressed).",
        |c| c.tiering_compression_level.to_string(),
        |c, v| c.tiering_compression_level = parse_i64(v, 0, 22)? as i32
    ),
    opt!(
        "tiering-compress-min-bytes",
        "256",
        true,
        "Cold values at least this long are compressed on their own; smaller ones with a zstd dictionary trained on a sample of them.",
        |c| c.tiering_compress_min_bytes.to_string(),
        |c, v| c.tiering_compress_min_bytes = parse_u64(v, 0, u32::MAX as u64)?
    ),
    opt!(
        "tiering-split-elements",
        "1024",
        true,
        "Hashes, sets and sorted sets with at least this many elements are stored in RocksDB one entry per element: a checkpoint or demotion then writes only the elements changed since the last one, and HGET, HMGET, HEXISTS, HSTRLEN, SISMEMBER, SMISMEMBER, ZSCORE and ZMSCORE of a cold one read only their elements. 0 stores every value whole.",
        |c| c.tiering_split_elements.to_string(),
        |c, v| c.tiering_split_elements = parse_u64(v, 0, u32::MAX as u64)?
    ),
    opt!(
        "tiering-promote-on",
        "first-hit",
        true,
        "When a loaded value stays in RAM: first-hit (always), or second-hit (only when loaded again soon after, so a one-off sweep does not push out the hot set).",
        |c| c.tiering_promote_on.clone(),
        |c, v| c.tiering_promote_on = one_of(v, &["first-hit", "second-hit"])?
    ),
    opt!(
        "tiering-load-threads",
        "4",
        false,
        "Threads reading cold values back from RocksDB.",
        |c| c.tiering_load_threads.to_string(),
        |c, v| c.tiering_load_threads = parse_u64(v, 1, 64)?
    ),
    opt!(
        "tiering-demote-threads",
        "2",
        false,
        "Threads moving values to RocksDB (each owns a share of the keyspace).",
        |c| c.tiering_demote_threads.to_string(),
        |c, v| c.tiering_demote_threads = parse_u64(v, 1, 16)?
    ),
    opt!(
        "tiering-preload",
        "no",
        true,
        "After a restart, load values back into RAM in the background up to 90% of maxmemory (values load when touched either way). With tiering no every value is loaded back.",
        |c| yes_no(c.tiering_preload),
        |c, v| c.tiering_preload = parse_yes_no(v)?
    ),
    opt!(
        "maxmemory-clients",
        "0",
        true,
        "Memory budget for all client buffers, in bytes or as a percentage of maxmemory (0: none). Validated and kept; nothing enforces it yet.",
        |c| if c.maxmemory_clients < 0 {
            format!("{}%", -c.maxmemory_clients)
        } else {
            c.maxmemory_clients.to_string()
        },
        |c, v| c.maxmemory_clients = parse_memory_or_percent(v, 100)?
    ),
    opt!(
        "lfu-log-factor",
        "10",
        true,
        "LFU counter logarithm factor, as in Redis.",
        |c| c.lfu_log_factor.to_string(),
        |c, v| c.lfu_log_factor = parse_u64(v, 0, i32::MAX as u64)?
    ),
    opt!(
        "lfu-decay-time",
        "1",
        true,
        "Minutes of idleness after which the LFU counter is decremented, as in Redis.",
        |c| c.lfu_decay_time.to_string(),
        |c, v| c.lfu_decay_time = parse_u64(v, 0, i32::MAX as u64)?
    ),
    OptionSpec {
        name: "busy-reply-threshold",
        aliases: &["lua-time-limit"],
        default: "5000",
        mutable: true,
        doc: "Milliseconds a script may run before other clients get -BUSY (used by scripting).",
        get: |c| c.busy_reply_threshold.to_string(),
        set: |c, v| {
            c.busy_reply_threshold = parse_u64(v, 0, i64::MAX as u64)?;
            Ok(())
        },
    },
    opt!(
        "appendonly",
        "no",
        false,
        "Durability: log every write's effects to the binlog in appenddirname, replayed at start. Set at startup only.",
        |c| yes_no(c.appendonly),
        |c, v| c.appendonly = parse_yes_no(v)?
    ),
    opt!(
        "appendfsync",
        "everysec",
        true,
        "When the binlog is synced to disk: always (a write is acknowledged only once synced; concurrent writes share one fsync), everysec (once a second), or no (when the OS decides).",
        |c| c.appendfsync.clone(),
        |c, v| c.appendfsync = one_of(v, &["always", "everysec", "no"])?
    ),
    opt!(
        "appenddirname",
        "appendonlydir",
        false,
        "The binlog's directory, inside dir.",
        |c| c.appenddirname.clone(),
        |c, v| c.appenddirname = v.to_string()
    ),
    opt!(
        "binlog-segment-bytes",
        "64mb",
        true,
        "Size at which the binlog moves on to a new segment file.",
        |c| c.binlog_segment_bytes.to_string(),
        |c, v| c.binlog_segment_bytes = parse_memory(v)?.max(4096)
    ),
    opt!(
        "binlog-retention-bytes",
        "128mb",
        true,
        "Binlog kept behind the last checkpoint, in bytes (the backlog a replica can resume from); a segment goes only when it is outside both retention windows.",
        |c| c.binlog_retention_bytes.to_string(),
        |c, v| c.binlog_retention_bytes = parse_memory(v)?
    ),
    opt!(
        "binlog-retention-seconds",
        "3600",
        true,
        "Binlog kept behind the last checkpoint, in seconds of age (see binlog-retention-bytes).",
        |c| c.binlog_retention_seconds.to_string(),
        |c, v| c.binlog_retention_seconds = parse_u64(v, 0, 10 * 365 * 86_400)?
    ),
    opt!(
        "checkpoint-interval",
        "60",
        true,
        "Seconds between checkpoints of changed values into RocksDB (0: none on a timer; see also auto-aof-rewrite-percentage, BGREWRITEAOF and shutdown).",
        |c| c.checkpoint_interval.to_string(),
        |c, v| c.checkpoint_interval = parse_u64(v, 0, 86_400)?
    ),
    opt!(
        "auto-aof-rewrite-percentage",
        "100",
        true,
        "A checkpoint is also taken when the binlog written since the last one reaches this percentage of the data RocksDB holds (and auto-aof-rewrite-min-size): replay stays proportional to the dataset, checkpoints to the writes. 0: never on size.",
        |c| c.auto_aof_rewrite_percentage.to_string(),
        |c, v| c.auto_aof_rewrite_percentage = parse_u64(v, 0, 1_000_000)?
    ),
    opt!(
        "auto-aof-rewrite-min-size",
        "64mb",
        true,
        "The least binlog written since the last checkpoint that auto-aof-rewrite-percentage takes a checkpoint for.",
        |c| c.auto_aof_rewrite_min_size.to_string(),
        |c, v| c.auto_aof_rewrite_min_size = parse_memory(v)?
    ),
    opt!(
        "backup-retention-days",
        "7",
        true,
        "Days a backup (BGSAVE, SAVE) is kept in dir/backups before a later backup deletes it (0: keep them all).",
        |c| c.backup_retention_days.to_string(),
        |c, v| c.backup_retention_days = parse_u64(v, 0, 100_000)?
    ),
    opt!(
        "key-load-delay",
        "0",
        true,
        "Microseconds to pause after each binlog record replayed at start (for tests of the LOADING state).",
        |c| c.key_load_delay.to_string(),
        |c, v| c.key_load_delay = parse_u64(v, 0, 1_000_000)?
    ),
    opt!(
        "save",
        "",
        true,
        "Redis RDB snapshot schedule. Accepted for compatibility with tools that read or set it; Thermocline writes no RDB files.",
        |c| c.save.clone(),
        |c, v| c.save = v.to_string()
    ),
    opt!(
        "notify-keyspace-events",
        "",
        true,
        "Keyspace notifications to publish, in Redis's letters: K (keyspace channel), E (keyevent channel) and the classes g $ l s h z x e t m d n, A for g$lshzxetd. Empty: none.",
        |c| crate::keyspace::events::flags_to_string(c.notify_keyspace_events),
        |c, v| c.notify_keyspace_events = crate::keyspace::events::parse_flags(v)
            .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?
    ),
    OptionSpec {
        name: "client-output-buffer-limit",
        aliases: &[],
        default: "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        mutable: true,
        doc: "Output buffer limits per client class: <class> <hard> <soft> <soft-seconds>. A Pub/Sub subscriber whose undelivered messages reach the hard limit, or stay over the soft limit for longer than soft-seconds, is disconnected.",
        get: get_obuf_limits,
        set: set_obuf_limits,
    },
    OptionSpec {
        name: "list-max-listpack-size",
        aliases: &["list-max-ziplist-size"],
        default: "-2",
        mutable: true,
        doc: "Redis's list listpack limit: negative values are byte limits (-1: 4 KiB, -2: 8 KiB ... -5: 64 KiB), positive ones element counts. Decides when OBJECT ENCODING reports a list as quicklist rather than listpack.",
        get: |c| c.limits.list_max_listpack_size.to_string(),
        set: |c, v| {
            c.limits.list_max_listpack_size = parse_i64(v, i32::MIN as i64, i32::MAX as i64)?;
            Ok(())
        },
    },
    encoding_limit!("hash-max-listpack-entries", &["hash-max-ziplist-entries"], "128",
        "Most fields a hash may have and still report the listpack encoding.", hash_max_listpack_entries),
    encoding_limit!("hash-max-listpack-value", &["hash-max-ziplist-value"], "64",
        "Longest field or value (bytes) a hash may hold and still report the listpack encoding.", hash_max_listpack_value),
    encoding_limit!("set-max-intset-entries", &[], "512",
        "Most members an all-integer set may have and still report the intset encoding.", set_max_intset_entries),
    encoding_limit!("set-max-listpack-entries", &[], "128",
        "Most members a set may have and still report the listpack encoding.", set_max_listpack_entries),
    encoding_limit!("set-max-listpack-value", &[], "64",
        "Longest member (bytes) a set may hold and still report the listpack encoding.", set_max_listpack_value),
    OptionSpec {
        name: "list-compress-depth",
        aliases: &[],
        default: "0",
        mutable: true,
        doc: "Redis's count of list nodes left uncompressed at each end. Accepted and reported for compatibility; Thermocline does not compress lists.",
        get: |c| c.list_compress_depth.to_string(),
        set: |c, v| {
            c.list_compress_depth = parse_i64(v, 0, i32::MAX as i64)?;
            Ok(())
        },
    },
    encoding_limit!("zset-max-listpack-entries", &["zset-max-ziplist-entries"], "128",
        "Most members a sorted set has while OBJECT ENCODING reports it as listpack (the storage is always the order tree).", zset_max_listpack_entries),
    encoding_limit!("zset-max-listpack-value", &["zset-max-ziplist-value"], "64",
        "Longest member (bytes) a sorted set has while OBJECT ENCODING reports it as listpack.", zset_max_listpack_value),
];

/// Finds an option by name or alias, case-insensitively.
pub fn find_option(name: &str) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|o| {
        o.name.eq_ignore_ascii_case(name) || o.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

/// A configuration error at start-up, reported with the line it came from.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Config {
    /// Value of an option as CONFIG GET prints it.
    pub fn get(&self, name: &str) -> Option<String> {
        find_option(name).map(|o| (o.get)(self))
    }

    /// Changes an option, validating the value. `at_runtime` refuses immutable options.
    pub fn set(&mut self, name: &str, value: &str, at_runtime: bool) -> Result<(), String> {
        let opt = find_option(name).ok_or_else(|| "Unknown option".to_string())?;
        if at_runtime && !opt.mutable {
            return Err("can't set immutable config".into());
        }
        (opt.set)(self, value)
    }

    /// Every (name, value) whose name matches the glob `pattern`, in table order.
    pub fn matching(&self, pattern: &[u8]) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for o in OPTIONS {
            if glob::matches(pattern, o.name.as_bytes(), true) {
                out.push((o.name, (o.get)(self)));
            }
            for alias in o.aliases {
                if glob::matches(pattern, alias.as_bytes(), true) {
                    out.push((alias, (o.get)(self)));
                }
            }
        }
        out
    }

    /// Builds the configuration from the command line: `[config-file] [--name value ...]`.
    pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        let mut rest = args;
        if let Some(first) = rest.first() {
            if !first.starts_with('-') {
                let path = PathBuf::from(first);
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    ConfigError(format!(
                        "Fatal error, can't open config file '{}': {e}",
                        path.display()
                    ))
                })?;
                config.apply_text(&text)?;
                config.config_file = Some(std::fs::canonicalize(&path).unwrap_or(path));
                rest = &rest[1..];
            }
        }
        config.apply_text(&args_to_config_text(rest))?;
        Ok(config)
    }

    /// Applies redis.conf-style text: one `name value...` per line, `#` comments, quoting as in
    /// redis-cli. Options take exactly one value, except `bind`, which takes several.
    pub fn apply_text(&mut self, text: &str) -> Result<(), ConfigError> {
        for (n, line) in text.lines().enumerate() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let fail = |why: &str| {
                ConfigError(format!(
                    "\n*** FATAL CONFIG FILE ERROR (Redis {}) ***\nReading the configuration file, at line {}\n>>> '{}'\n{}",
                    crate::server::REDIS_VERSION,
                    n + 1,
                    trimmed,
                    why
                ))
            };
            let words = split_args(trimmed.as_bytes())
                .ok_or_else(|| fail("Unbalanced quotes in configuration line"))?;
            let words: Vec<String> = words
                .into_iter()
                .map(|w| String::from_utf8_lossy(&w).into_owned())
                .collect();
            let Some((name, values)) = words.split_first() else {
                continue;
            };
            let Some(opt) = find_option(name) else {
                return Err(fail("Bad directive or wrong number of arguments"));
            };
            if opt.name != "bind" && opt.name != "client-output-buffer-limit" && values.len() != 1 {
                return Err(fail("wrong number of arguments"));
            }
            self.set(name, &values.join(" "), false)
                .map_err(|e| fail(&e))?;
        }
        Ok(())
    }

    /// CONFIG REWRITE: rewrites the file the server was started with so that it holds the
    /// current values, keeping comments and unknown lines, updating lines for known options and
    /// appending the options that differ from their defaults.
    /// `force_all` writes every option, defaults included (DEBUG CONFIG-REWRITE-FORCE-ALL).
    pub fn rewrite(&self, force_all: bool) -> Result<(), String> {
        let path = self
            .config_file
            .as_ref()
            .ok_or("The server is running without a config file")?;
        let old = std::fs::read_to_string(path).unwrap_or_default();
        let new = self.rewritten(&old, force_all);
        let tmp = path.with_extension("tmp-rewrite");
        std::fs::write(&tmp, new)
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(|e| format!("Rewriting config file: {e}"))
    }

    fn rewritten(&self, old: &str, force_all: bool) -> String {
        let mut out = String::new();
        let mut written = std::collections::HashSet::new();
        for line in old.lines() {
            let trimmed = line.trim();
            let name = trimmed.split_whitespace().next().unwrap_or("");
            match find_option(name) {
                Some(opt) if !trimmed.starts_with('#') => {
                    if written.insert(opt.name) {
                        let _ = writeln!(out, "{} {}", opt.name, quote((opt.get)(self)));
                    }
                }
                _ => {
                    let _ = writeln!(out, "{line}");
                }
            }
        }
        for opt in OPTIONS {
            let value = (opt.get)(self);
            if !written.contains(opt.name) && (force_all || value != normalized_default(opt)) {
                let _ = writeln!(out, "{} {}", opt.name, quote(value));
            }
        }
        out
    }

    /// The sample configuration file: every option, commented, with its default.
    pub fn sample() -> String {
        let mut out = String::from(
            "# Thermocline configuration (redis.conf syntax).\n\
             # Start with: thermocline-server thermocline.conf [--name value ...]\n\
             # Every option below is shown with its default value.\n",
        );
        for opt in OPTIONS {
            let _ = write!(out, "\n# {}\n", opt.doc);
            if !opt.mutable {
                out.push_str("# (fixed at start-up; CONFIG SET cannot change it)\n");
            }
            let _ = writeln!(out, "{} {}", opt.name, quote(opt.default.to_string()));
        }
        out
    }

    /// The number of I/O threads to run: `io-threads`, or when it is 0 one per CPU core minus
    /// one, at least one. (Measured on 2 cores with the load generator beside the server: one
    /// event loop matches Redis at pipeline depth 1, two oversubscribe the cores; see
    /// docs/benchmarks.md.)
    pub fn io_threads(&self) -> usize {
        match self.io_threads {
            0 => {
                std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
            }
            n => n as usize,
        }
    }

    /// Path of the data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Turns command-line options into configuration text the way redis-server does: `--name`
/// starts a line, the arguments after it are its values (quoted), and a value may itself start
/// with `--` when it directly follows an option name (`--port --bla` sets port to `--bla`).
/// `"--port 6380"` in one argument is a whole line, and a bare `--save` means `save ""`.
fn args_to_config_text(args: &[String]) -> String {
    let mut text = String::new();
    let mut name_has_value = true;
    for (j, arg) in args.iter().enumerate() {
        if name_has_value && arg.starts_with("--") {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&arg[2..]);
            text.push(' ');
            if split_args(arg.as_bytes()).map_or(0, |w| w.len()) == 1 {
                name_has_value = false;
                let next_is_option = args.get(j + 1).is_some_and(|a| a.starts_with("--"));
                if arg.eq_ignore_ascii_case("--save") && (next_is_option || j + 1 == args.len()) {
                    text.push_str("\"\"");
                    name_has_value = next_is_option;
                }
            } else {
                name_has_value = true;
            }
        } else {
            text.push_str(&repr(arg.as_bytes()));
            text.push(' ');
            name_has_value = true;
        }
    }
    text
}

/// Quotes bytes so that [`split_args`] reads them back as one word (Redis's `sdscatrepr`).
pub fn repr(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for &c in bytes {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            c if c.is_ascii_graphic() || c == b' ' => out.push(c as char),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('"');
    out
}

fn normalized_default(opt: &OptionSpec) -> String {
    let mut c = Config::default();
    let _ = (opt.set)(&mut c, opt.default);
    (opt.get)(&c)
}

fn quote(v: String) -> String {
    if v.is_empty() || v.contains(|c: char| c.is_whitespace() || c == '"' || c == '\'') {
        format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = Config::default();
        assert_eq!(c.port, 6379);
        assert_eq!(c.bind, vec!["127.0.0.1".to_string()]);
        assert_eq!(c.proto_max_bulk_len, 512 * 1024 * 1024);
        assert_eq!(c.get("maxmemory-policy").unwrap(), "noeviction");
    }

    #[test]
    fn file_and_args() {
        let mut c = Config::default();
        c.apply_text("# comment\nport 7000\nrequirepass \"a b\"\nmaxmemory 1mb\n")
            .unwrap();
        assert_eq!(c.port, 7000);
        assert_eq!(c.requirepass, "a b");
        assert_eq!(c.maxmemory, 1 << 20);
        let err = c.apply_text("nosuchoption 1\n").unwrap_err();
        assert!(err.0.contains("at line 1"), "{}", err.0);
        let c = Config::from_args(&[
            "--port".into(),
            "7001".into(),
            "--bind".into(),
            "127.0.0.1".into(),
            "::1".into(),
        ])
        .unwrap();
        assert_eq!(c.port, 7001);
        assert_eq!(c.bind.len(), 2);
    }

    #[test]
    fn runtime_set_rules() {
        let mut c = Config::default();
        assert_eq!(
            c.set("databases", "1", true).unwrap_err(),
            "can't set immutable config"
        );
        assert!(c.set("maxclients", "abc", true).is_err());
        c.set("LFU-LOG-FACTOR", "5", true).unwrap();
        assert_eq!(c.lfu_log_factor, 5);
        c.set("lua-time-limit", "100", true).unwrap();
        assert_eq!(c.busy_reply_threshold, 100);
        let names: Vec<&str> = c.matching(b"*max*").iter().map(|(n, _)| *n).collect();
        for name in [
            "maxclients",
            "maxmemory",
            "hash-max-ziplist-entries",
            "set-max-intset-entries",
        ] {
            assert!(names.contains(&name), "{name} in {names:?}");
        }
        assert!(!names.contains(&"port"));
    }

    #[test]
    fn rewrite_keeps_comments_and_updates_values() {
        let mut c = Config::default();
        c.set("maxclients", "5", true).unwrap();
        let text = c.rewritten("# hello\nmaxclients 100\nport 6379\n", false);
        assert!(
            text.starts_with("# hello\nmaxclients 5\nport 6379\n"),
            "{text}"
        );
    }

    fn from_args(args: &[&str]) -> Result<Config, String> {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        Config::from_args(&args).map_err(|e| e.0)
    }

    #[test]
    fn command_line_like_redis_server() {
        let c = from_args(&["--maxmemory 700mb", "--maxmemory-policy volatile-lru"]).unwrap();
        assert_eq!(c.maxmemory, 700 << 20);
        assert_eq!(c.maxmemory_policy, "volatile-lru");
        let c = from_args(&["--requirepass", "--secret", "--loglevel", "debug"]).unwrap();
        assert_eq!(c.requirepass, "--secret");
        assert_eq!(c.loglevel, LogLevel::Debug);
        let c = from_args(&["--requirepass", "a \"b\"\n"]).unwrap();
        assert_eq!(c.requirepass, "a \"b\"\n");
        let err = from_args(&["--invalid"]).unwrap_err();
        assert!(
            err.contains("Bad directive or wrong number of arguments"),
            "{err}"
        );
        let err = from_args(&["--port"]).unwrap_err();
        assert!(
            err.contains(">>> 'port'\nwrong number of arguments"),
            "{err}"
        );
        let err = from_args(&["--port", "6379", "6380"]).unwrap_err();
        assert!(
            err.contains(">>> 'port \"6379\" \"6380\"'\nwrong number of arguments"),
            "{err}"
        );
        let err = from_args(&["--port", "--loglevel", "verbose"]).unwrap_err();
        assert!(err.contains("'port \"--loglevel\" \"verbose\"'"), "{err}");
        let err = from_args(&["--port", "--bla", "--loglevel", "verbose"]).unwrap_err();
        assert!(
            err.contains("'port \"--bla\"'\nargument couldn't be parsed into an integer"),
            "{err}"
        );
        let err = from_args(&["--port", "6380", "--loglevel"]).unwrap_err();
        assert!(
            err.contains("'loglevel'\nwrong number of arguments"),
            "{err}"
        );
        assert!(from_args(&["--bind", "127.0.0.1", "::1"]).is_ok());
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("1gb").unwrap(), 1 << 30);
        assert_eq!(parse_memory("2k").unwrap(), 2000);
        assert!(parse_memory("x").is_err());
    }
}
