//! Server commands: INFO, CONFIG, COMMAND, TIME, SHUTDOWN, DEBUG and the FUNCTION FLUSH stub.

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use bytes::Bytes;

use super::args::{float, is};
use super::keys::help_reply;
use super::{flags, flags::*, After, CommandSpec, CommandTable, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::glob;
use crate::protocol::Reply;
use crate::server::{unix_us, Server, REDIS_VERSION, VERSION};
use crate::types::Value;

/// Sections INFO prints without arguments (Redis's "default" set), in order.
const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
    "tiering",
];
const ALL_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "cluster",
    "keyspace",
    "tiering",
];

fn human_bytes(n: u64) -> String {
    let n = n as f64;
    if n < 1024.0 {
        format!("{}B", n as u64)
    } else if n < 1024.0 * 1024.0 {
        format!("{:.2}K", n / 1024.0)
    } else if n < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", n / (1024.0 * 1024.0))
    } else {
        format!("{:.2}G", n / (1024.0 * 1024.0 * 1024.0))
    }
}

/// Bytes allocated by the process (jemalloc's count).
pub fn used_memory() -> u64 {
    let _ = tikv_jemalloc_ctl::epoch::advance();
    tikv_jemalloc_ctl::stats::allocated::read().unwrap_or(0) as u64
}

/// Resident set size from /proc (0 where unavailable).
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn total_system_memory() -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn cpu_times() -> (f64, f64) {
    // utime and stime, fields 14 and 15 of /proc/self/stat, in clock ticks (100 Hz on Linux).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 100.0
    };
    (tick(11), tick(12))
}

/// The kernel's name and release (`Linux 6.1.0`), as `uname` gives them to Redis.
fn os_name() -> String {
    let read = |p: &str| std::fs::read_to_string(p).map(|s| s.trim().to_string());
    match (
        read("/proc/sys/kernel/ostype"),
        read("/proc/sys/kernel/osrelease"),
    ) {
        (Ok(name), Ok(release)) => format!("{name} {release}"),
        _ => std::env::consts::OS.to_string(),
    }
}

fn section_server(s: &Server, out: &mut String) {
    let uptime = s.started.elapsed().as_secs();
    let c = s.config.read();
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let _ = write!(
        out,
        "redis_version:{REDIS_VERSION}\r\nthermocline_version:{VERSION}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:{} {}\r\narch_bits:{}\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\nprocess_id:{}\r\nprocess_supervised:no\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{}\r\nuptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nlru_clock:{}\r\nexecutable:{}\r\nconfig_file:{}\r\n",
        os_name(),
        std::env::consts::ARCH,
        usize::BITS,
        std::process::id(),
        s.run_id,
        s.port.load(Relaxed),
        unix_us(),
        uptime,
        uptime / 86400,
        c.hz,
        c.hz,
        (crate::server::unix_ms() / 1000) & 0xFF_FFFF,
        exe,
        c.config_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
    );
}

fn section_clients(s: &Server, out: &mut String) {
    let c = s.config.read();
    let _ = write!(
        out,
        "connected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:{}\r\ntracking_clients:0\r\nclients_in_timeout_table:{}\r\ntotal_blocking_keys:{}\r\ntotal_blocking_keys_on_nokey:0\r\n",
        s.clients.len(),
        c.maxclients,
        s.stats.blocked_clients.load(Relaxed),
        s.blocking.timed_clients(),
        s.blocking.blocking_keys(),
    );
}

fn section_memory(s: &Server, out: &mut String) {
    let used = used_memory();
    let peak = s.memory_peak.fetch_max(used, Relaxed).max(used);
    let rss = rss_bytes();
    let sys = total_system_memory();
    let c = s.config.read();
    let _ = tikv_jemalloc_ctl::epoch::advance();
    let active = tikv_jemalloc_ctl::stats::active::read().unwrap_or(0);
    let resident = tikv_jemalloc_ctl::stats::resident::read().unwrap_or(0);
    let _ = write!(
        out,
        "used_memory:{used}\r\nused_memory_human:{}\r\nallocator_allocated:{used}\r\nallocator_active:{active}\r\nallocator_resident:{resident}\r\nused_memory_rss:{rss}\r\nused_memory_rss_human:{}\r\nused_memory_peak:{peak}\r\nused_memory_peak_human:{}\r\ntotal_system_memory:{sys}\r\ntotal_system_memory_human:{}\r\nmaxmemory:{}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\nmem_fragmentation_ratio:{:.2}\r\nmem_not_counted_for_evict:{}\r\nmem_aof_buffer:{}\r\nmem_allocator:jemalloc-5.3.0\r\nlazyfree_pending_objects:0\r\n",
        human_bytes(used),
        human_bytes(rss),
        human_bytes(peak),
        human_bytes(sys),
        c.maxmemory,
        human_bytes(c.maxmemory),
        c.maxmemory_policy,
        if used > 0 { rss as f64 / used as f64 } else { 0.0 },
        s.memory.not_counted(),
        s.memory.not_counted(),
    );
    section_memory_scripts(s, out);
}

/// The scripting part of `# Memory`, with Redis 7.2's field names.
fn section_memory_scripts(s: &Server, out: &mut String) {
    let sc = &s.scripting;
    let vm_eval = sc.eval.try_lock().map_or(0, |e| e.lua_memory());
    let (vm_functions, libs, funcs, functions_bytes) =
        sc.functions.try_lock().map_or((0, 0, 0, 0), |f| {
            let code: usize = f.libraries.values().map(|l| l.code.len()).sum();
            (f.lua_memory(), f.libraries.len(), f.functions_len(), code)
        });
    let scripts_eval = sc.scripts_memory.load(Relaxed) as usize;
    let scripts = scripts_eval + functions_bytes;
    let _ = write!(
        out,
        "used_memory_lua:{vm_eval}\r\nused_memory_vm_eval:{vm_eval}\r\nused_memory_lua_human:{}\r\nused_memory_scripts_eval:{scripts_eval}\r\nnumber_of_cached_scripts:{}\r\nnumber_of_functions:{funcs}\r\nnumber_of_libraries:{libs}\r\nused_memory_vm_functions:{vm_functions}\r\nused_memory_vm_total:{}\r\nused_memory_vm_total_human:{}\r\nused_memory_functions:{functions_bytes}\r\nused_memory_scripts:{scripts}\r\nused_memory_scripts_human:{}\r\n",
        human_bytes(vm_eval as u64),
        sc.cached_scripts.load(Relaxed),
        vm_eval + vm_functions,
        human_bytes((vm_eval + vm_functions) as u64),
        human_bytes(scripts as u64),
    );
}

fn section_persistence(s: &Server, out: &mut String) {
    let loading = s.is_loading();
    let log = s.binlog.get();
    let aof = s.config.read().appendonly;
    let _ = write!(
        out,
        "loading:{}\r\nasync_loading:0\r\nrdb_changes_since_last_save:0\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\naof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:{}\r\naof_last_write_status:{}\r\n",
        loading as u8,
        s.bgsave_in_progress.load(Relaxed) as u8,
        s.last_save.load(Relaxed),
        if s.last_bgsave_ok.load(Relaxed) { "ok" } else { "err" },
        aof as u8,
        s.checkpoint_in_progress.load(Relaxed) as u8,
        s.checkpoint_requested.load(Relaxed) as u8,
        if log.is_some_and(|l| l.error().is_some()) { "err" } else { "ok" },
    );
    if loading {
        let (done, total) = (
            s.loading_progress.0.load(Relaxed),
            s.loading_progress.1.load(Relaxed),
        );
        let _ = write!(
            out,
            "loading_total_bytes:{total}\r\nloading_loaded_records:{done}\r\n"
        );
    }
    if let Some(tier) = s.tier.get() {
        let last = tier.last_checkpoint();
        let status = s.checkpoint_status.lock().clone();
        // Redis's AOF-rewrite fields describe checkpoints, Thermocline's counterpart.
        let _ = write!(
            out,
            "aof_last_rewrite_time_sec:{}\r\naof_current_rewrite_time_sec:{}\r\naof_last_bgrewrite_status:{}\r\naof_rewrites:{}\r\naof_rewrites_consecutive_failures:{}\r\nrdb_last_load_keys_loaded:{}\r\n",
            status.last_seconds,
            status
                .started
                .map_or(-1, |t| t.elapsed().as_secs() as i64),
            if status.last_ok { "ok" } else { "err" },
            tier.stats.checkpoints.load(Relaxed),
            status.failures_in_a_row,
            s.keys_rebuilt.load(Relaxed),
        );
        let _ = write!(
            out,
            "checkpoints:{}\r\ncheckpoint_entries_written:{}\r\ncheckpoint_elements_written:{}\r\ncheckpoint_shard_lock_max_us:{}\r\ncheckpoint_last_unix_ms:{}\r\ncheckpoint_offset:{}\r\n",
            tier.stats.checkpoints.load(Relaxed),
            tier.stats.checkpointed.load(Relaxed),
            tier.stats.checkpointed_elements.load(Relaxed),
            tier.stats.checkpoint_lock_max_us.load(Relaxed),
            last.as_ref().map_or(0, |c| c.unix_ms),
            last.as_ref().map_or(0, |c| c.from_offset()),
        );
    }
    if let Some(log) = log {
        let st = &log.stats;
        let _ = write!(
            out,
            "aof_current_size:{}\r\naof_base_size:0\r\naof_buffer_length:{}\r\naof_pending_bio_fsync:0\r\naof_delayed_fsync:0\r\nbinlog_first_offset:{}\r\nbinlog_offset:{}\r\nbinlog_written_offset:{}\r\nbinlog_synced_offset:{}\r\nbinlog_records:{}\r\nbinlog_writes:{}\r\nbinlog_fsyncs:{}\r\nbinlog_write_errors:{}\r\n",
            log.end() - log.first(),
            log.end() - log.written(),
            log.first(),
            log.end(),
            log.written(),
            log.synced(),
            st.records.load(Relaxed),
            st.writes.load(Relaxed),
            st.fsyncs.load(Relaxed),
            st.write_errors.load(Relaxed),
        );
    }
}

fn section_stats(s: &Server, out: &mut String) {
    let st = &s.stats;
    let _ = write!(
        out,
        "total_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:0\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\nrejected_connections:{}\r\nexpired_keys:{}\r\nevicted_keys:{}\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\npubsubshard_channels:{}\r\ntotal_error_replies:{}\r\n",
        st.total_connections.load(Relaxed),
        st.total_commands.load(Relaxed),
        st.net_input_bytes.load(Relaxed),
        st.net_output_bytes.load(Relaxed),
        st.rejected_connections.load(Relaxed),
        st.expired_keys.load(Relaxed),
        st.evicted_keys.load(Relaxed),
        st.keyspace_hits.load(Relaxed),
        st.keyspace_misses.load(Relaxed),
        s.pubsub.channel_count(),
        s.pubsub.pattern_count(),
        s.pubsub.shard_channel_count(),
        st.total_error_replies.load(Relaxed),
    );
}

fn section_replication(s: &Server, out: &mut String) {
    let _ = write!(
        out,
        "role:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\nmaster_replid:{}\r\nmaster_replid2:0000000000000000000000000000000000000000\r\nmaster_repl_offset:0\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:0\r\nrepl_backlog_size:0\r\n",
        s.run_id
    );
}

fn section_cpu(out: &mut String) {
    let (user, sys) = cpu_times();
    let _ = write!(out, "used_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\n");
}

fn section_commandstats(s: &Server, out: &mut String) {
    let table = CommandTable::get();
    for (i, c) in s.stats.commands.iter().enumerate() {
        let calls = c.calls.load(Relaxed);
        let (rejected, failed) = (c.rejected.load(Relaxed), c.failed.load(Relaxed));
        if calls == 0 && rejected == 0 && failed == 0 {
            continue;
        }
        let usec = c.usec.load(Relaxed);
        let per_call = if calls > 0 {
            usec as f64 / calls as f64
        } else {
            0.0
        };
        let _ = write!(
            out,
            "cmdstat_{}:calls={calls},usec={usec},usec_per_call={per_call:.2},rejected_calls={rejected},failed_calls={failed}\r\n",
            table.full_name(i)
        );
    }
}

fn section_errorstats(s: &Server, out: &mut String) {
    for (code, count) in s.stats.errors.lock().iter() {
        let _ = write!(out, "errorstat_{code}:count={count}\r\n");
    }
}

fn section_keyspace(ctx: &Ctx, out: &mut String) {
    for db in 0..ctx.server.keyspace.databases() {
        let keys = ctx.ks.len(db);
        if keys > 0 {
            let _ = write!(
                out,
                "db{db}:keys={keys},expires={},avg_ttl={}\r\n",
                ctx.ks.expires_len(db),
                ctx.ks.avg_ttl(db)
            );
        }
    }
}

fn cmd_info(ctx: &mut Ctx) -> CmdResult<Reply> {
    let mut wanted: Vec<String> = ctx.args[1..]
        .iter()
        .map(|a| String::from_utf8_lossy(a).to_lowercase())
        .collect();
    if wanted.is_empty() || wanted.iter().any(|w| w == "default") {
        wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
    }
    if wanted.iter().any(|w| w == "all" || w == "everything") {
        wanted.extend(ALL_SECTIONS.iter().map(|s| s.to_string()));
    }
    let mut out = String::new();
    for section in ALL_SECTIONS {
        if !wanted.iter().any(|w| w == section) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        let title = format!("# {}{}\r\n", section[..1].to_uppercase(), &section[1..]);
        out.push_str(match *section {
            "commandstats" => "# Commandstats\r\n",
            "errorstats" => "# Errorstats\r\n",
            "cpu" => "# CPU\r\n",
            _ => &title,
        });
        match *section {
            "server" => section_server(ctx.server, &mut out),
            "clients" => section_clients(ctx.server, &mut out),
            "memory" => section_memory(ctx.server, &mut out),
            "persistence" => section_persistence(ctx.server, &mut out),
            "stats" => section_stats(ctx.server, &mut out),
            "replication" => section_replication(ctx.server, &mut out),
            "cpu" => section_cpu(&mut out),
            "commandstats" => section_commandstats(ctx.server, &mut out),
            "errorstats" => section_errorstats(ctx.server, &mut out),
            "cluster" => out.push_str("cluster_enabled:0\r\n"),
            "keyspace" => section_keyspace(ctx, &mut out),
            "tiering" => match ctx.server.tier.get() {
                Some(tier) => out.push_str(&tier.info(ctx.server, ctx.ks.tier_counts())),
                None => out.push_str("tiering_enabled:0\r\n"),
            },
            _ => {}
        }
    }
    Ok(Reply::Verbatim(out))
}

fn cmd_config_get(ctx: &mut Ctx) -> CmdResult<Reply> {
    let config = ctx.server.config.read();
    let mut pairs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for pattern in &ctx.args[2..] {
        for (name, value) in config.matching(pattern) {
            if seen.insert(name) {
                pairs.push((Reply::bulk_static(name), Reply::Bulk(Bytes::from(value))));
            }
        }
    }
    Ok(Reply::Map(pairs))
}

fn cmd_config_set(ctx: &mut Ctx) -> CmdResult<Reply> {
    if ctx.args.len() % 2 != 0 {
        return Err(CmdError::arity("config|set"));
    }
    let pairs: Vec<(String, String)> = ctx.args[2..]
        .chunks(2)
        .map(|p| {
            (
                String::from_utf8_lossy(&p[0]).into_owned(),
                String::from_utf8_lossy(&p[1]).into_owned(),
            )
        })
        .collect();
    // All or nothing: apply to a copy, then publish it.
    let mut config = ctx.server.config.read().clone();
    let mut names = std::collections::HashSet::new();
    for (name, value) in &pairs {
        let Some(opt) = crate::config::find_option(name) else {
            return Err(CmdError(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
            )));
        };
        if !names.insert(opt.name) {
            return Err(CmdError(format!("ERR CONFIG SET failed (possibly related to argument '{name}') - duplicate parameter")));
        }
        config.set(name, value, true).map_err(|e| {
            CmdError(format!(
                "ERR CONFIG SET failed (possibly related to argument '{name}') - {e}"
            ))
        })?;
    }
    // A new port or bind address takes effect now: listen there before anything is published,
    // so that a failure leaves every setting as it was.
    let (old_bind, old_port) = {
        let c = ctx.server.config.read();
        (c.bind.clone(), c.port)
    };
    if config.port != old_port || config.bind != old_bind {
        let (arg, why) = if config.port != old_port {
            ("port", "Unable to listen on this port")
        } else {
            ("bind", "Failed to bind to specified addresses.")
        };
        let given = pairs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(arg))
            .map_or(arg, |(n, _)| n.as_str());
        if let Err(e) = ctx.server.listen(&config.bind, config.port) {
            tracing::warn!("CONFIG SET {arg}: {e}");
            return Err(CmdError(format!(
                "ERR CONFIG SET failed (possibly related to argument '{given}') - {why}"
            )));
        }
    }
    *ctx.server.config.write() = config;
    ctx.server.config_changed();
    Ok(Reply::Ok)
}

fn cmd_config_resetstat(ctx: &mut Ctx) -> CmdResult<Reply> {
    ctx.server.stats.reset();
    Ok(Reply::Ok)
}

fn cmd_config_rewrite(ctx: &mut Ctx) -> CmdResult<Reply> {
    ctx.server
        .config
        .read()
        .rewrite(false)
        .map_err(|e| CmdError(format!("ERR {e}")))?;
    Ok(Reply::Ok)
}

fn cmd_config_help(_ctx: &mut Ctx) -> CmdResult<Reply> {
    Ok(help_reply(
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    ))
}

/// One Redis 7 key specification: `flags`, a `begin_search` by index, and `find_keys` of the
/// given type with its integer parameters.
fn key_spec_reply(
    flag: &'static str,
    index: i64,
    find_type: &'static str,
    find: Vec<(&'static str, i64)>,
) -> Reply {
    Reply::Map(vec![
        (
            Reply::bulk_static("flags"),
            Reply::Array(vec![Reply::Status(Bytes::from_static(flag.as_bytes()))]),
        ),
        (
            Reply::bulk_static("begin_search"),
            Reply::Map(vec![
                (Reply::bulk_static("type"), Reply::bulk_static("index")),
                (
                    Reply::bulk_static("spec"),
                    Reply::Map(vec![(Reply::bulk_static("index"), Reply::Int(index))]),
                ),
            ]),
        ),
        (
            Reply::bulk_static("find_keys"),
            Reply::Map(vec![
                (Reply::bulk_static("type"), Reply::bulk_static(find_type)),
                (
                    Reply::bulk_static("spec"),
                    Reply::Map(
                        find.into_iter()
                            .map(|(k, v)| (Reply::bulk_static(k), Reply::Int(v)))
                            .collect(),
                    ),
                ),
            ]),
        ),
    ])
}

/// COMMAND INFO's array for one command.
fn command_info(idx: usize) -> Reply {
    let table = CommandTable::get();
    let spec = table.spec(idx);
    let mut flag_names: Vec<Reply> = flags::NAMES
        .iter()
        .filter(|(f, _)| spec.has(*f))
        .map(|(_, n)| Reply::Status(Bytes::from_static(n.as_bytes())))
        .collect();
    if spec.keys.movable() {
        flag_names.push(Reply::Status(Bytes::from_static(b"movablekeys")));
    }
    let flag = if spec.has(WRITE) { "RW" } else { "RO" };
    let mut key_specs = Vec::new();
    if spec.keys.first > 0 {
        let lastkey = if spec.keys.last < 0 {
            spec.keys.last
        } else {
            spec.keys.last - spec.keys.first
        };
        key_specs.push(key_spec_reply(
            flag,
            spec.keys.first as i64,
            "range",
            vec![
                ("lastkey", lastkey as i64),
                ("keystep", spec.keys.step as i64),
                ("limit", 0),
            ],
        ));
    }
    if spec.keys.extra.is_some() {
        // Found by the command's own rule (SORT's STORE, SORT_RO's BY/GET): Redis reports it
        // as `unknown`.
        let unknown = |name: &'static str| {
            (
                Reply::bulk_static(name),
                Reply::Map(vec![
                    (Reply::bulk_static("type"), Reply::bulk_static("unknown")),
                    (Reply::bulk_static("spec"), Reply::Map(Vec::new())),
                ]),
            )
        };
        key_specs.push(Reply::Map(vec![
            (
                Reply::bulk_static("flags"),
                Reply::Set(if spec.has(WRITE) {
                    vec![
                        Reply::Status(Bytes::from_static(b"OW")),
                        Reply::Status(Bytes::from_static(b"UPDATE")),
                    ]
                } else {
                    vec![
                        Reply::Status(Bytes::from_static(b"RO")),
                        Reply::Status(Bytes::from_static(b"ACCESS")),
                    ]
                }),
            ),
            unknown("begin_search"),
            unknown("find_keys"),
        ]));
    }
    if spec.keys.keynum > 0 {
        key_specs.push(key_spec_reply(
            if spec.keys.first > 0 { "RO" } else { flag },
            spec.keys.keynum as i64,
            "keynum",
            vec![("keynumidx", 0), ("firstkey", 1), ("keystep", 1)],
        ));
    }
    let subs: Vec<Reply> = spec
        .subcommands
        .iter()
        .filter_map(|sub| table.lookup_sub(idx, sub.name.as_bytes()))
        .map(command_info)
        .collect();
    Reply::Array(vec![
        Reply::Bulk(Bytes::from(table.full_name(idx))),
        Reply::Int(spec.arity as i64),
        Reply::Set(flag_names),
        Reply::Int(spec.keys.first as i64),
        Reply::Int(spec.keys.last as i64),
        Reply::Int(spec.keys.step as i64),
        Reply::Set(
            spec.acl_categories()
                .into_iter()
                .map(|c| Reply::Status(Bytes::from_static(c.as_bytes())))
                .collect(),
        ),
        Reply::Array(vec![]),
        Reply::Array(key_specs),
        Reply::Array(subs),
    ])
}

fn command_doc(idx: usize) -> Reply {
    let table = CommandTable::get();
    let spec = table.spec(idx);
    let mut doc = vec![
        (
            Reply::bulk_static("summary"),
            Reply::bulk_static(spec.summary),
        ),
        (Reply::bulk_static("since"), Reply::bulk_static(spec.since)),
        (Reply::bulk_static("group"), Reply::bulk_static(spec.group)),
        (
            Reply::bulk_static("complexity"),
            Reply::bulk_static(spec.complexity),
        ),
    ];
    if !spec.subcommands.is_empty() {
        let subs = spec
            .subcommands
            .iter()
            .filter_map(|s| table.lookup_sub(idx, s.name.as_bytes()))
            .map(|i| (Reply::Bulk(Bytes::from(table.full_name(i))), command_doc(i)))
            .collect();
        doc.push((Reply::bulk_static("subcommands"), Reply::Map(subs)));
    }
    Reply::Map(doc)
}

fn cmd_command(ctx: &mut Ctx) -> CmdResult<Reply> {
    if ctx.args.len() > 1 {
        return Err(CmdError::unknown_subcommand(&ctx.args[1], "command"));
    }
    Ok(Reply::Array(
        CommandTable::get()
            .top_level()
            .map(|(i, _)| command_info(i))
            .collect(),
    ))
}

fn cmd_command_count(_ctx: &mut Ctx) -> CmdResult<Reply> {
    Ok(Reply::Int(CommandTable::get().top_level().count() as i64))
}

/// Resolves `name` or `container|sub` to a table index.
fn find_command(name: &[u8]) -> Option<usize> {
    let table = CommandTable::get();
    match name.iter().position(|&c| c == b'|') {
        Some(bar) => table.lookup_sub(table.lookup(&name[..bar])?, &name[bar + 1..]),
        None => table.lookup(name),
    }
}

fn cmd_command_info(ctx: &mut Ctx) -> CmdResult<Reply> {
    if ctx.args.len() == 2 {
        return cmd_command(&mut Ctx {
            args: &ctx.args[..1],
            ..reborrow(ctx)
        });
    }
    Ok(Reply::Array(
        ctx.args[2..]
            .iter()
            .map(|n| find_command(n).map_or(Reply::Nil, command_info))
            .collect(),
    ))
}

fn reborrow<'b, 'k>(ctx: &'b mut Ctx<'_, 'k>) -> Ctx<'b, 'k> {
    Ctx {
        server: ctx.server,
        client: ctx.client,
        args: ctx.args,
        ks: ctx.ks,
        spec: ctx.spec,
        after: After::Nothing,
    }
}

fn cmd_command_docs(ctx: &mut Ctx) -> CmdResult<Reply> {
    let table = CommandTable::get();
    let docs: Vec<(Reply, Reply)> = if ctx.args.len() == 2 {
        table
            .top_level()
            .map(|(i, s)| (Reply::bulk_static(s.name), command_doc(i)))
            .collect()
    } else {
        ctx.args[2..]
            .iter()
            .filter_map(|n| {
                find_command(n)
                    .map(|i| (Reply::Bulk(Bytes::from(table.full_name(i))), command_doc(i)))
            })
            .collect()
    };
    Ok(Reply::Map(docs))
}

fn cmd_command_list(ctx: &mut Ctx) -> CmdResult<Reply> {
    let table = CommandTable::get();
    let mut filter: Option<(String, Bytes)> = None;
    if ctx.args.len() > 2 {
        if ctx.args.len() != 5 || !is(&ctx.args[2], "FILTERBY") {
            return Err(CmdError::syntax());
        }
        let kind = String::from_utf8_lossy(&ctx.args[3]).to_ascii_uppercase();
        if !["MODULE", "ACLCAT", "PATTERN"].contains(&kind.as_str()) {
            return Err(CmdError::syntax());
        }
        filter = Some((kind, ctx.args[4].clone()));
    }
    // Every command followed by its subcommands (`config`, `config|get`, ...), as Redis lists
    // them; a filter applies to each, by full name for PATTERN.
    let mut names = Vec::new();
    for (i, spec) in table.top_level() {
        let subs = spec
            .subcommands
            .iter()
            .filter_map(|sub| table.lookup_sub(i, sub.name.as_bytes()));
        for idx in std::iter::once(i).chain(subs) {
            let full = table.full_name(idx);
            let keep = match &filter {
                None => true,
                Some((k, _)) if k == "MODULE" => false,
                Some((k, v)) if k == "ACLCAT" => {
                    let cat = format!("@{}", String::from_utf8_lossy(v).to_lowercase());
                    table.spec(idx).acl_categories().contains(&cat.as_str())
                }
                Some((_, pattern)) => glob::matches(pattern, full.as_bytes(), true),
            };
            if keep {
                names.push(Reply::Bulk(Bytes::from(full)));
            }
        }
    }
    Ok(Reply::Array(names))
}

fn cmd_command_getkeys(ctx: &mut Ctx) -> CmdResult<Reply> {
    let args = &ctx.args[2..];
    let table = CommandTable::get();
    let idx = match table.resolve(args) {
        Ok(i) => i,
        Err(super::Resolve::Unknown(_)) => {
            return Err(CmdError::new("ERR Invalid command specified"))
        }
        Err(super::Resolve::Rejected(..)) => {
            return Err(CmdError::new(
                "ERR Invalid number of arguments specified for command",
            ))
        }
    };
    let spec = table.spec(idx);
    let keys: Vec<Reply> = spec
        .keys
        .positions(args)
        .map(|i| Reply::Bulk(args[i].clone()))
        .collect();
    if !spec.keys.has_keys() {
        return Err(CmdError::new("ERR The command has no key arguments"));
    }
    if keys.is_empty() && !spec.has(super::flags::NO_MANDATORY_KEYS) {
        return Err(CmdError::new("ERR Invalid arguments specified for command"));
    }
    Ok(Reply::Array(keys))
}

fn cmd_command_help(_ctx: &mut Ctx) -> CmdResult<Reply> {
    Ok(help_reply(
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
        ],
    ))
}

fn cmd_time(_ctx: &mut Ctx) -> CmdResult<Reply> {
    let us = unix_us();
    Ok(Reply::Array(vec![
        Reply::bulk_int((us / 1_000_000) as i64),
        Reply::bulk_int((us % 1_000_000) as i64),
    ]))
}

/// The binlog a backup copies, and where backups go; an error without the binlog.
fn backup_source(
    ctx: &Ctx,
) -> CmdResult<(
    std::sync::Arc<crate::binlog::Binlog>,
    std::path::PathBuf,
    u64,
)> {
    let Some(log) = ctx.server.binlog.get() else {
        return Err(CmdError::new(
            "ERR backups copy the binlog: start the server with appendonly yes",
        ));
    };
    let c = ctx.server.config.read();
    Ok((log.clone(), c.dir.join("backups"), c.backup_retention_days))
}

/// Takes a backup and records the outcome (SAVE runs it in place, BGSAVE on a thread).
fn run_backup(
    server: &crate::server::Server,
    log: &crate::binlog::Binlog,
    backups: &std::path::Path,
    days: u64,
) -> Result<crate::binlog::backup::BackupInfo, String> {
    // No checkpoint is recorded (and no segment deleted) while the backup copies.
    let _no_checkpoint = server.checkpointing.lock();
    let result = crate::binlog::backup::take(log, backups, Duration::from_secs(60), |to| {
        let Some(tier) = server.tier.get() else {
            return Ok(0);
        };
        tier.store.copy_to(to).map_err(|e| e.to_string())?;
        Ok(tier
            .last_checkpoint()
            .filter(|c| c.binlog)
            .map_or(0, |c| c.from_offset()))
    });
    match &result {
        Ok(info) => {
            server.last_save.store(info.unix_ms / 1000, Relaxed);
            server.last_bgsave_ok.store(true, Relaxed);
            crate::binlog::backup::prune(backups, days);
            tracing::info!(
                "backup done: {} (RocksDB copy and binlog offsets {} to {})",
                info.dir.display(),
                info.from,
                info.offset
            );
        }
        Err(e) => {
            server.last_bgsave_ok.store(false, Relaxed);
            tracing::error!("backup failed: {e}");
        }
    }
    result
}

fn cmd_save(ctx: &mut Ctx) -> CmdResult<Reply> {
    let (log, backups, days) = backup_source(ctx)?;
    if ctx.server.bgsave_in_progress.load(Relaxed) {
        return Err(CmdError::new("ERR Background save already in progress"));
    }
    run_backup(ctx.server, &log, &backups, days).map_err(|e| CmdError(format!("ERR {e}")))?;
    Ok(Reply::Ok)
}

fn cmd_bgsave(ctx: &mut Ctx) -> CmdResult<Reply> {
    match ctx.args.get(1) {
        None => {}
        Some(a) if is(a, "SCHEDULE") => {}
        Some(_) => return Err(CmdError::syntax()),
    }
    let (log, backups, days) = backup_source(ctx)?;
    if ctx.server.bgsave_in_progress.swap(true, Relaxed) {
        return Err(CmdError::new("ERR Background save already in progress"));
    }
    let server = ctx.server.this();
    let spawned = std::thread::Builder::new()
        .name("backup".into())
        .spawn(move || {
            if let Some(server) = server {
                let _ = run_backup(&server, &log, &backups, days);
                server.bgsave_in_progress.store(false, Relaxed);
            }
        });
    if let Err(e) = spawned {
        ctx.server.bgsave_in_progress.store(false, Relaxed);
        return Err(CmdError(format!("ERR cannot start the backup thread: {e}")));
    }
    Ok(Reply::status("Background saving started"))
}

fn cmd_bgrewriteaof(ctx: &mut Ctx) -> CmdResult<Reply> {
    if ctx.server.tier.get().is_none() {
        return Err(CmdError::new(
            "ERR checkpoints need RocksDB: start the server with appendonly yes or tiering yes",
        ));
    }
    if ctx.server.checkpoint_in_progress.load(Relaxed) {
        return Err(CmdError::new(
            "ERR Background append only file rewriting already in progress",
        ));
    }
    // The checkpoint thread takes it within a few milliseconds: it starts after this command,
    // so it holds every write acknowledged before.
    ctx.server.checkpoint_requested.store(true, Relaxed);
    Ok(Reply::status(
        "Background append only file rewriting started",
    ))
}

fn cmd_lastsave(ctx: &mut Ctx) -> CmdResult<Reply> {
    Ok(Reply::Int(ctx.server.last_save.load(Relaxed) as i64))
}

fn cmd_shutdown(ctx: &mut Ctx) -> CmdResult<Reply> {
    let (mut save, mut nosave, mut abort, mut other) = (false, false, false, false);
    for a in &ctx.args[1..] {
        let opt = String::from_utf8_lossy(a).to_ascii_uppercase();
        match opt.as_str() {
            "NOSAVE" => nosave = true,
            "SAVE" => save = true,
            "NOW" | "FORCE" => other = true,
            "ABORT" => abort = true,
            _ => return Err(CmdError::syntax()),
        }
    }
    // ABORT takes no other flag, and SAVE and NOSAVE exclude each other (as in Redis).
    if (abort && (save || nosave || other)) || (save && nosave) {
        return Err(CmdError::syntax());
    }
    if abort {
        return Err(CmdError::new("ERR No shutdown in progress."));
    }
    tracing::warn!("User requested shutdown...");
    ctx.server.nosave.store(nosave, Relaxed);
    ctx.after = After::Shutdown;
    // Like Redis, a successful SHUTDOWN sends no reply: the connection just closes.
    ctx.client.close_after_reply = true;
    Ok(Reply::Ok)
}

/// Digest of one value, as DEBUG DIGEST-VALUE reports it. Like Redis, a TTL adds a fixed
/// mark but not its time, so that the same data gives the same digest whenever it was written.
/// A hash's fields (a set's members) are digested one by one and XORed together, so their order
/// does not matter.
fn value_digest(value: &Value, has_ttl: bool) -> [u8; 20] {
    let mut h = sha1_smol::Sha1::new();
    h.update(value.type_name().as_bytes());
    match value {
        Value::Str(s) => h.update(s),
        Value::Hash(hash) => {
            let mut acc = [0u8; 20];
            for (f, v) in hash.iter() {
                let mut fh = sha1_smol::Sha1::new();
                fh.update(&(f.len() as u64).to_le_bytes());
                fh.update(f);
                fh.update(v);
                for (a, x) in acc.iter_mut().zip(fh.digest().bytes()) {
                    *a ^= x;
                }
            }
            h.update(&acc);
        }
        Value::List(list) => {
            // Order matters in a list: each element is digested with its length.
            for e in list.iter() {
                h.update(&(e.len() as u64).to_le_bytes());
                h.update(e);
            }
        }
        Value::Set(set) => {
            let mut acc = [0u8; 20];
            for m in set.iter() {
                let mut mh = sha1_smol::Sha1::new();
                mh.update(m);
                for (a, x) in acc.iter_mut().zip(mh.digest().bytes()) {
                    *a ^= x;
                }
            }
            h.update(&acc);
        }
        // Only reached when a cold value could not be read: its digest says so.
        Value::Cold(_) => h.update(b"!!unreadable cold value!!"),
        // A sorted set has an order: its members and scores are digested in that order.
        Value::ZSet(zset) => {
            for (m, score) in zset.iter() {
                h.update(&(m.len() as u64).to_le_bytes());
                h.update(m);
                h.update(crate::protocol::format_double(score).as_bytes());
            }
        }
    }
    if has_ttl {
        h.update(b"!!expire!!");
    }
    h.digest().bytes()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// DEBUG DIGEST: an order-independent digest of every key, value and TTL in every database;
/// forty zeros for an empty dataset.
fn dataset_digest(ctx: &Ctx) -> [u8; 20] {
    let mut total = [0u8; 20];
    for db in 0..ctx.server.keyspace.databases() {
        let disk_db = ctx.ks.disk_db(db);
        ctx.ks.for_each(db, |k, e| {
            let mut h = sha1_smol::Sha1::new();
            h.update(&(db as u64).to_le_bytes());
            h.update(k);
            // A cold value is read (not loaded: the digest must not change what is hot).
            let read;
            let value = match &e.value {
                Value::Cold(_) => {
                    read = ctx
                        .server
                        .tier
                        .get()
                        .and_then(|t| t.read_value(disk_db, k).ok().flatten());
                    read.as_ref().unwrap_or(&e.value)
                }
                v => v,
            };
            h.update(&value_digest(value, e.expires_at() != 0));
            for (t, x) in total.iter_mut().zip(h.digest().bytes()) {
                *t ^= x;
            }
            true
        });
    }
    total
}

fn cmd_debug(ctx: &mut Ctx) -> CmdResult<Reply> {
    let sub = String::from_utf8_lossy(&ctx.args[1]).to_ascii_lowercase();
    let argc = ctx.args.len();
    match (sub.as_str(), argc) {
        ("sleep", 3) => {
            // Redis reads the time with strtod and no error: what is not a number sleeps 0.
            let secs = float(&ctx.args[2]).unwrap_or(0.0);
            if secs > 0.0 {
                ctx.after = After::Sleep(Duration::from_secs_f64(secs.min(3600.0)));
            }
            Ok(Reply::Ok)
        }
        ("digest", 2) => Ok(Reply::Status(Bytes::from(hex(&dataset_digest(ctx))))),
        ("digest-value", _) => {
            let db = ctx.db();
            let digests = ctx.args[2..]
                .iter()
                .map(|k| {
                    let d = ctx
                        .ks
                        .peek(db, k)
                        .map_or([0u8; 20], |e| value_digest(&e.value, e.expires_at() != 0));
                    Reply::Status(Bytes::from(hex(&d)))
                })
                .collect();
            Ok(Reply::Array(digests))
        }
        ("log", 3) => {
            tracing::warn!("DEBUG LOG: {}", String::from_utf8_lossy(&ctx.args[2]));
            Ok(Reply::Ok)
        }
        ("protocol", 3) => debug_protocol(ctx),
        ("binlog-fault", 3) => {
            let count = u32::try_from(super::args::int(&ctx.args[2])?)
                .map_err(|_| CmdError::new("ERR count must be between 0 and 4294967295"))?;
            let Some(log) = ctx.server.binlog.get() else {
                return Err(CmdError::new("ERR the binlog is off (appendonly no)"));
            };
            log.inject_faults(count);
            Ok(Reply::Ok)
        }
        ("checkpoint-crash", 3) => {
            let batches = u32::try_from(super::args::int(&ctx.args[2])?)
                .map_err(|_| CmdError::new("ERR count must be between 0 and 4294967295"))?;
            let Some(tier) = ctx.server.tier.get() else {
                return Err(CmdError::new("ERR checkpoints need RocksDB"));
            };
            tier.crash_checkpoint_after(batches);
            Ok(Reply::Ok)
        }
        ("tiering-fault", 4) => {
            use crate::tier::store::FaultKind;
            let kind = match String::from_utf8_lossy(&ctx.args[2])
                .to_ascii_lowercase()
                .as_str()
            {
                "reads" => FaultKind::Reads,
                "writes" => FaultKind::Writes,
                _ => return Err(CmdError::new("ERR DEBUG TIERING-FAULT READS|WRITES <count>")),
            };
            let count = u32::try_from(super::args::int(&ctx.args[3])?)
                .map_err(|_| CmdError::new("ERR count must be between 0 and 4294967295"))?;
            let Some(tier) = ctx.server.tier.get() else {
                return Err(CmdError::new("ERR tiering is off (tiering no)"));
            };
            tier.store.inject_faults(kind, count);
            Ok(Reply::Ok)
        }
        ("config-rewrite-force-all", 2) => {
            ctx.server
                .config
                .read()
                .rewrite(true)
                .map_err(|e| CmdError(format!("ERR CONFIG-REWRITE-FORCE-ALL failed: {e}")))?;
            Ok(Reply::Ok)
        }
        ("pause-cron", 3) => {
            let on = super::args::int(&ctx.args[2])? != 0;
            ctx.server.cron_paused.store(on, Relaxed);
            Ok(Reply::Ok)
        }
        ("set-active-expire", 3) => {
            let on = super::args::int(&ctx.args[2])? != 0;
            ctx.server.active_expire.store(on, Relaxed);
            Ok(Reply::Ok)
        }
        ("object", 3) => {
            let db = ctx.db();
            let now_s = ctx.ks.clock.now_s();
            let Some(e) = ctx.ks.peek(db, &ctx.args[2]) else { return Err(CmdError::new("ERR no such key")) };
            Ok(Reply::Status(Bytes::from(format!(
                "Value at:0x0 refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
                e.encoding(),
                e.value.mem_size(),
                e.access.last_access & 0xFF_FFFF,
                e.access.idle_seconds(now_s)
            ))))
        }
        ("help", 2) => Ok(help_reply(
            "DEBUG",
            &[
                "BINLOG-FAULT <count>",
                "    Make the next <count> binlog writes fail as on a full disk (0 clears). For",
                "    testing: writes get -MISCONF until a retry succeeds.",
                "CHECKPOINT-CRASH <batches>",
                "    Abort the process in the middle of the next checkpoint, once <batches> of",
                "    its batches are written and flushed to RocksDB (0 clears). For testing.",
                "CONFIG-REWRITE-FORCE-ALL",
                "    Like CONFIG REWRITE but writes all configuration options, including",
                "    keywords not listed in original configuration file or default values.",
                "DIGEST",
                "    Output a hex signature representing the current DB content.",
                "DIGEST-VALUE <key> [<key> ...]",
                "    Output a hex signature of the values of all the specified keys.",
                "LOG <message>",
                "    Write <message> to the server log.",
                "OBJECT <key>",
                "    Show low level info about the key and associated value.",
                "PROTOCOL <type>",
                "    Reply with a test value of the specified type. <type> can be: string,",
                "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
                "    true, false.",
                "PAUSE-CRON <0|1>",
                "    Stop periodic cron job processing.",
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Setting it to 0 disables expiring keys in background when they are not accessed.",
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
                "TIERING-FAULT <READS|WRITES> <count>",
                "    Make the next <count> RocksDB data reads or writes of the tiering layer fail",
                "    with an I/O error (0 clears). For testing the error paths.",
            ],
        )),
        _ => Err(CmdError(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
            String::from_utf8_lossy(&ctx.args[1])
        ))),
    }
}

/// DEBUG PROTOCOL <type>: a sample reply of each RESP3 type, as Redis sends them.
fn debug_protocol(ctx: &mut Ctx) -> CmdResult<Reply> {
    let kind = String::from_utf8_lossy(&ctx.args[2]).to_ascii_lowercase();
    let ints = || (0..3).map(Reply::Int).collect::<Vec<_>>();
    Ok(match kind.as_str() {
        "string" => Reply::bulk_static("Hello World"),
        "integer" => Reply::Int(12345),
        // Redis's sample value, not an attempt at pi.
        #[allow(clippy::approx_constant)]
        "double" => Reply::Double(3.141),
        "bignum" => Reply::BigNumber(Bytes::from_static(b"1234567999999999999999999999999999999")),
        "null" => Reply::Nil,
        "array" => Reply::Array(ints()),
        "set" => Reply::Set(ints()),
        "map" => Reply::Map((0..3).map(|i| (Reply::Int(i), Reply::Bool(i == 1))).collect()),
        "attrib" => Reply::Attributed(
            vec![(
                Reply::bulk_static("key-popularity"),
                Reply::Array(vec![Reply::bulk_static("key:123"), Reply::Int(90)]),
            )],
            Box::new(Reply::bulk_static("Some real reply following the attribute")),
        ),
        "push" => {
            if ctx.client.protocol == crate::protocol::Protocol::Resp2 {
                return Err(CmdError::new("ERR RESP2 is not supported by this command"));
            }
            // Redis sends a push message and then a normal reply; a command here answers with
            // one reply, so this waits for out-of-band pushes (client tracking, pub/sub).
            return Err(CmdError::new(
                "ERR DEBUG PROTOCOL push is not supported yet",
            ));
        }
        "verbatim" => Reply::Verbatim("This is a verbatim\nstring".into()),
        "true" => Reply::Bool(true),
        "false" => Reply::Bool(false),
        _ => return Err(CmdError::new(
            "ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
        )),
    })
}

/// MEMORY USAGE key [SAMPLES count]: bytes the key costs (see `Locked::memory_usage`); nil for
/// a missing key. SAMPLES is accepted and validated; a string value needs no sampling.
fn cmd_memory_usage(ctx: &mut Ctx) -> CmdResult<Reply> {
    match &ctx.args[3..] {
        [] => {}
        [opt, n] if is(opt, "SAMPLES") => {
            super::args::int(n)?;
        }
        _ => return Err(CmdError::syntax()),
    }
    let db = ctx.db();
    Ok(ctx
        .ks
        .memory_usage(db, &ctx.args[2])
        .map_or(Reply::Nil, |n| Reply::Int(n as i64)))
}

fn cmd_memory_help(_ctx: &mut Ctx) -> CmdResult<Reply> {
    Ok(help_reply(
        "MEMORY",
        &[
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    ))
}

/// This family's commands: [`keyless_command!`](super::keyless_command) with the group fixed.
macro_rules! cmd {
    ($($spec:tt)*) => {
        super::keyless_command!("server", $($spec)*)
    };
}

const CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    cmd!(
        "get",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "2.0.0",
        "Returns the effective values of configuration parameters.",
        cmd_config_get
    ),
    cmd!(
        "set",
        -4,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "2.0.0",
        "Sets configuration parameters in-flight.",
        cmd_config_set
    ),
    cmd!(
        "resetstat",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "2.0.0",
        "Resets the server's statistics.",
        cmd_config_resetstat
    ),
    cmd!(
        "rewrite",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "2.8.0",
        "Persists the effective configuration to file.",
        cmd_config_rewrite
    ),
    cmd!(
        "help",
        2,
        LOADING | STALE,
        "5.0.0",
        "Returns helpful text about the different subcommands.",
        cmd_config_help
    ),
];

const COMMAND_SUBCOMMANDS: &[CommandSpec] = &[
    cmd!(
        "count",
        2,
        LOADING | STALE,
        "2.8.13",
        "Returns a count of commands.",
        cmd_command_count
    ),
    cmd!(
        "info",
        -2,
        LOADING | STALE,
        "2.8.13",
        "Returns information about one, multiple or all commands.",
        cmd_command_info
    ),
    cmd!(
        "docs",
        -2,
        LOADING | STALE,
        "7.0.0",
        "Returns documentary information about one, multiple or all commands.",
        cmd_command_docs
    ),
    cmd!(
        "list",
        -2,
        LOADING | STALE,
        "7.0.0",
        "Returns a list of command names.",
        cmd_command_list
    ),
    cmd!(
        "getkeys",
        -3,
        LOADING | STALE,
        "2.8.13",
        "Extracts the key names from an arbitrary command.",
        cmd_command_getkeys
    ),
    cmd!(
        "help",
        2,
        LOADING | STALE,
        "5.0.0",
        "Returns helpful text about the different subcommands.",
        cmd_command_help
    ),
];

const MEMORY_SUBCOMMANDS: &[CommandSpec] = &[
    super::command!(
        "server",
        "usage",
        -3,
        READONLY,
        super::KeySpec::range(2, 2, 1),
        "4.0.0",
        "O(N) where N is the number of samples.",
        "Estimates the memory usage of a key.",
        cmd_memory_usage
    ),
    cmd!(
        "help",
        2,
        LOADING | STALE,
        "4.0.0",
        "Returns helpful text about the different subcommands.",
        cmd_memory_help
    ),
];

pub const COMMANDS: &[CommandSpec] = &[
    cmd!(
        "info",
        -1,
        LOADING | STALE | WHOLE_KEYSPACE,
        "1.0.0",
        "Returns information and statistics about the server.",
        cmd_info
    ),
    cmd!(
        "config",
        -2,
        0,
        "2.0.0",
        "A container for server configuration commands.",
        super::container,
        CONFIG_SUBCOMMANDS
    ),
    cmd!(
        "command",
        -1,
        LOADING | STALE,
        "2.8.13",
        "Returns detailed information about all commands.",
        cmd_command,
        COMMAND_SUBCOMMANDS
    ),
    cmd!(
        "time",
        1,
        LOADING | STALE | FAST,
        "2.6.0",
        "Returns the server time.",
        cmd_time
    ),
    cmd!(
        "save",
        1,
        ADMIN | NOSCRIPT | NO_MULTI,
        "1.0.0",
        "Synchronously saves the database(s) to disk.",
        cmd_save
    ),
    cmd!(
        "bgsave",
        -1,
        ADMIN | NOSCRIPT,
        "1.0.0",
        "Asynchronously saves the database(s) to disk.",
        cmd_bgsave
    ),
    cmd!(
        "bgrewriteaof",
        1,
        ADMIN | NOSCRIPT,
        "1.0.0",
        "Takes a checkpoint into RocksDB in the background (Thermocline never rewrites its binlog: a checkpoint lets it delete the segments before it).",
        cmd_bgrewriteaof
    ),
    cmd!(
        "lastsave",
        1,
        LOADING | STALE | FAST,
        "1.0.0",
        "Returns the Unix timestamp of the last successful save to disk.",
        cmd_lastsave
    ),
    cmd!(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
        "1.0.0",
        "Synchronously saves the database(s) to disk and shuts down the Redis server.",
        cmd_shutdown
    ),
    cmd!(
        "debug",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE | WHOLE_KEYSPACE,
        "1.0.0",
        "A container for debugging commands.",
        cmd_debug
    ),
    cmd!(
        "memory",
        -2,
        0,
        "4.0.0",
        "A container for memory diagnostics commands.",
        super::container,
        MEMORY_SUBCOMMANDS
    ),
];
