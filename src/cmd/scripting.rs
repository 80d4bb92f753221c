//! Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT, FCALL, FCALL_RO, FUNCTION.
//!
//! A script command's handler runs the script on the view in its [`Ctx`], which must hold every
//! shard. Inside MULTI that is EXEC's view (the commands are flagged whole-keyspace). Outside,
//! dispatch does not run the handler itself but answers [`After::RunScript`], and the
//! connection calls [`run_detached`]: the script runs on a blocking-pool thread that takes the
//! script gate exclusively and locks every shard, while the connection's task awaits it; other
//! clients then wait or get BUSY (see src/scripting/mod.rs).
//!
//! FUNCTION DUMP's payload is Thermocline's own format: the line `thermocline-functions 1\n`,
//! then for each library its code's length as 4 bytes (big-endian) followed by the code. RESTORE
//! accepts exactly that.

use std::sync::Arc;
use std::time::Instant;

use bytes::{BufMut, Bytes, BytesMut};

use super::args::is;
use super::keys::help_reply;
use super::{flags::*, CommandSpec, CommandTable, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult};
use crate::glob;
use crate::protocol::{parse_i64, Reply};
use crate::scripting::lua::Library;
use crate::server::clients::Client;
use crate::server::Server;

const RO_WITH_WRITE_FLAG: &str = "ERR Can not execute a script with write flag using *_ro command.";
const DUMP_MAGIC: &[u8] = b"thermocline-functions 1\n";
const BAD_PAYLOAD: &str = "ERR payload version or checksum are wrong";

/// Runs the script command at table index `idx` for `client` off the I/O thread, holding the
/// script gate and every shard, and returns its reply.
pub async fn run_detached(
    server: Arc<Server>,
    client: &mut Client,
    args: &[Bytes],
    idx: usize,
) -> Reply {
    let info = client.info.clone();
    let (db, protocol, authenticated) = (client.db, client.protocol, client.authenticated);
    let args_v: Vec<Bytes> = args.to_vec();
    let started = Instant::now();
    if let Err(e) = load_declared_keys(&server, client, args, idx).await {
        return Reply::Error(e);
    }
    // The semaphore is never closed, so acquiring only fails if it were.
    let _slot = server.scripting.detached.acquire().await.ok();
    let srv = server.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let spec = CommandTable::get().spec(idx);
        let function = spec.name.starts_with("fcall");
        let name = if function {
            String::from_utf8_lossy(&args_v[1]).into_owned()
        } else {
            String::new()
        };
        let _gate = srv.scripting.exclusive();
        let _running = srv.scripting.begin(name, args_v.clone(), function);
        let mut ks = srv.keyspace.lock_all(srv.clock(Instant::now()));
        srv.open_view(&mut ks);
        let mut script_client = Client::new(info, authenticated);
        script_client.db = db;
        script_client.protocol = protocol;
        let mut ctx = Ctx {
            server: &srv,
            client: &mut script_client,
            args: &args_v,
            ks: &mut ks,
            spec,
            after: super::After::Nothing,
        };
        ctx.ks.begin_command();
        let result = (spec.handler)(&mut ctx);
        // Keys the script created serve blocked clients, in the same atomic step.
        let lookups = srv.close_view(ks);
        (result, lookups)
    })
    .await;
    let (result, lookups) = match joined {
        Ok(x) => x,
        Err(_) => (
            Err(CmdError::new("ERR the script runner failed")),
            Default::default(),
        ),
    };
    client
        .stats
        .record(idx, started.elapsed(), lookups, result.is_err());
    if let Err(e) = &result {
        server.stats.record_error(&e.0);
    }
    result.unwrap_or_else(Into::into)
}

/// With tiering, loads the cold values of the keys a script declares before it starts, so
/// that it runs without waiting on the disk (a key it uses without declaring it is read
/// synchronously, under the script's locks).
async fn load_declared_keys(
    server: &Server,
    client: &mut Client,
    args: &[Bytes],
    idx: usize,
) -> Result<(), String> {
    let Some(tier) = server.tier.get() else {
        return Ok(());
    };
    let spec = CommandTable::get().spec(idx);
    for _ in 0..8 {
        let shards: smallvec::SmallVec<[usize; 4]> = spec
            .keys
            .positions(args)
            .map(|i| crate::keyspace::shard_of(&args[i]))
            .collect();
        if shards.is_empty() {
            return Ok(());
        }
        let mut ks = server.keyspace.lock(server.clock(Instant::now()), shards);
        server.open_view(&mut ks);
        let keys = spec.keys.positions(args).map(|i| &args[i]);
        // Promoted whatever `tiering-promote-on` says: a value loaded for this view only would
        // go cold again when it closes, before the script runs.
        let prepared = crate::tier::prepare(
            tier,
            &mut client.preloaded,
            &mut ks,
            client.db,
            keys,
            &[],
            true,
        );
        server.close_view(ks);
        match prepared {
            crate::tier::Prepared::Ready => return Ok(()),
            crate::tier::Prepared::Load(request) => {
                client.preloaded = crate::tier::await_loads(server, *request).await?;
            }
            crate::tier::Prepared::Failed(e) => return Err(e),
        }
    }
    Ok(())
}

/// Splits `<numkeys> key... arg...` starting at `args[at]` into keys and arguments.
fn keys_and_args(
    args: &[Bytes],
    at: usize,
    not_integer: fn() -> CmdError,
) -> CmdResult<(&[Bytes], &[Bytes])> {
    let n = parse_i64(&args[at]).ok_or_else(not_integer)?;
    if n < 0 {
        return Err(CmdError::new("ERR Number of keys can't be negative"));
    }
    let rest = &args[at + 1..];
    if n as u64 > rest.len() as u64 {
        return Err(CmdError::new(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    Ok(rest.split_at(n as usize))
}

fn eval_generic(ctx: &mut Ctx, by_sha: bool, readonly: bool) -> CmdResult<Reply> {
    let args = ctx.args;
    let (keys, argv) = keys_and_args(args, 2, CmdError::not_integer)?;
    let server = ctx.server;
    let mut engine = server.scripting.eval.lock();
    let sha = if by_sha {
        let sha = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
        if !engine.exists(&sha) {
            return Err(CmdError::new(
                "NOSCRIPT No matching script. Please use EVAL.",
            ));
        }
        sha
    } else {
        let sha = engine.load(&args[1])?;
        server.scripting.note_sizes(&engine);
        sha
    };
    if let Some(s) = engine.get(&sha) {
        if readonly && !s.flags.compat && !s.flags.no_writes {
            return Err(CmdError::new(RO_WITH_WRITE_FLAG));
        }
    }
    engine.run(ctx, &sha, keys, argv, readonly)
}

fn cmd_eval(ctx: &mut Ctx) -> CmdResult<Reply> {
    eval_generic(ctx, false, false)
}

fn cmd_evalsha(ctx: &mut Ctx) -> CmdResult<Reply> {
    eval_generic(ctx, true, false)
}

fn cmd_eval_ro(ctx: &mut Ctx) -> CmdResult<Reply> {
    eval_generic(ctx, false, true)
}

fn cmd_evalsha_ro(ctx: &mut Ctx) -> CmdResult<Reply> {
    eval_generic(ctx, true, true)
}

fn fcall_generic(ctx: &mut Ctx, readonly: bool) -> CmdResult<Reply> {
    let args = ctx.args;
    let server = ctx.server;
    let engine = server.scripting.functions.lock();
    let name = String::from_utf8_lossy(&args[1]).into_owned();
    let Some(f) = engine.function(&name) else {
        return Err(CmdError::new("ERR Function not found"));
    };
    let (keys, argv) = keys_and_args(args, 2, || CmdError::new("ERR Bad number of keys provided"))?;
    if readonly && !f.flags.no_writes {
        return Err(CmdError::new(RO_WITH_WRITE_FLAG));
    }
    engine.run(ctx, &name, keys, argv, readonly)
}

fn cmd_fcall(ctx: &mut Ctx) -> CmdResult<Reply> {
    fcall_generic(ctx, false)
}

fn cmd_fcall_ro(ctx: &mut Ctx) -> CmdResult<Reply> {
    fcall_generic(ctx, true)
}

fn cmd_script_load(ctx: &mut Ctx) -> CmdResult<Reply> {
    let mut engine = ctx.server.scripting.eval.lock();
    let sha = engine.load(&ctx.args[2])?;
    ctx.server.scripting.note_sizes(&engine);
    Ok(Reply::bulk_str(&sha))
}

fn cmd_script_exists(ctx: &mut Ctx) -> CmdResult<Reply> {
    let engine = ctx.server.scripting.eval.lock();
    Ok(Reply::Array(
        ctx.args[2..]
            .iter()
            .map(|sha| {
                let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
                Reply::Int(engine.exists(&sha) as i64)
            })
            .collect(),
    ))
}

/// The optional ASYNC|SYNC argument of SCRIPT FLUSH and FUNCTION FLUSH.
fn flush_mode(ctx: &Ctx, error: &'static str) -> CmdResult<()> {
    match ctx.args.get(2) {
        None => Ok(()),
        Some(a) if (is(a, "ASYNC") || is(a, "SYNC")) && ctx.args.len() == 3 => Ok(()),
        Some(_) => Err(CmdError::new(error)),
    }
}

fn cmd_script_flush(ctx: &mut Ctx) -> CmdResult<Reply> {
    flush_mode(ctx, "ERR SCRIPT FLUSH only support SYNC|ASYNC option")?;
    let mut engine = ctx.server.scripting.eval.lock();
    engine.flush();
    ctx.server.scripting.note_sizes(&engine);
    Ok(Reply::Ok)
}

fn cmd_script_kill(ctx: &mut Ctx) -> CmdResult<Reply> {
    ctx.server
        .scripting
        .control
        .request_kill(false)
        .map(|()| Reply::Ok)
        .map_err(CmdError::new)
}

fn cmd_script_help(_ctx: &mut Ctx) -> CmdResult<Reply> {
    Ok(help_reply(
        "SCRIPT",
        &[
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ],
    ))
}

fn cmd_function_load(ctx: &mut Ctx) -> CmdResult<Reply> {
    let mut replace = false;
    let mut i = 2;
    while i < ctx.args.len() - 1 {
        if is(&ctx.args[i], "REPLACE") {
            replace = true;
            i += 1;
        } else {
            return Err(CmdError(format!(
                "ERR Unknown option given: {}",
                String::from_utf8_lossy(&ctx.args[i])
            )));
        }
    }
    if i >= ctx.args.len() {
        return Err(CmdError::new("ERR Function code is missing"));
    }
    let mut engine = ctx.server.scripting.functions.lock();
    let lib = engine.compile_library(&ctx.args[i])?;
    let name = lib.name.clone();
    engine.install(lib, replace)?;
    Ok(Reply::bulk_str(&name))
}

fn cmd_function_delete(ctx: &mut Ctx) -> CmdResult<Reply> {
    let name = String::from_utf8_lossy(&ctx.args[2]).into_owned();
    if ctx.server.scripting.functions.lock().remove(&name) {
        Ok(Reply::Ok)
    } else {
        Err(CmdError::new("ERR Library not found"))
    }
}

/// Redis's error for a FUNCTION subcommand given too many arguments.
fn subcommand_syntax(ctx: &Ctx) -> CmdError {
    CmdError(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try FUNCTION HELP.",
        String::from_utf8_lossy(&ctx.args[1])
    ))
}

fn cmd_function_flush(ctx: &mut Ctx) -> CmdResult<Reply> {
    if ctx.args.len() > 3 {
        return Err(subcommand_syntax(ctx));
    }
    flush_mode(ctx, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option")?;
    ctx.server.scripting.functions.lock().flush();
    Ok(Reply::Ok)
}

fn library_reply(lib: &Library, with_code: bool) -> Reply {
    let functions = lib
        .functions
        .values()
        .map(|f| {
            Reply::Map(vec![
                (Reply::bulk_str("name"), Reply::bulk_str(&f.name)),
                (
                    Reply::bulk_str("description"),
                    f.description.as_deref().map_or(Reply::Nil, Reply::bulk_str),
                ),
                (
                    Reply::bulk_str("flags"),
                    Reply::Set(
                        f.flags
                            .names()
                            .into_iter()
                            .map(|n| Reply::Status(Bytes::from_static(n.as_bytes())))
                            .collect(),
                    ),
                ),
            ])
        })
        .collect();
    let mut fields = vec![
        (Reply::bulk_str("library_name"), Reply::bulk_str(&lib.name)),
        (Reply::bulk_str("engine"), Reply::bulk_str("LUA")),
        (Reply::bulk_str("functions"), Reply::Array(functions)),
    ];
    if with_code {
        fields.push((
            Reply::bulk_str("library_code"),
            Reply::Bulk(lib.code.clone()),
        ));
    }
    Reply::Map(fields)
}

fn cmd_function_list(ctx: &mut Ctx) -> CmdResult<Reply> {
    let mut with_code = false;
    let mut pattern: Option<&Bytes> = None;
    let mut i = 2;
    while i < ctx.args.len() {
        let a = &ctx.args[i];
        if is(a, "WITHCODE") && !with_code {
            with_code = true;
        } else if is(a, "LIBRARYNAME") && pattern.is_none() {
            i += 1;
            let Some(p) = ctx.args.get(i) else {
                return Err(CmdError::new("ERR library name argument was not given"));
            };
            pattern = Some(p);
        } else {
            return Err(CmdError(format!(
                "ERR Unknown argument {}",
                String::from_utf8_lossy(a)
            )));
        }
        i += 1;
    }
    let engine = ctx.server.scripting.functions.lock();
    Ok(Reply::Array(
        engine
            .libraries
            .values()
            .filter(|l| pattern.is_none_or(|p| glob::matches(p, l.name.as_bytes(), false)))
            .map(|l| library_reply(l, with_code))
            .collect(),
    ))
}

fn cmd_function_dump(ctx: &mut Ctx) -> CmdResult<Reply> {
    let engine = ctx.server.scripting.functions.lock();
    let mut out = BytesMut::from(DUMP_MAGIC);
    for lib in engine.libraries.values() {
        out.put_u32(lib.code.len() as u32);
        out.put_slice(&lib.code);
    }
    Ok(Reply::Bulk(out.freeze()))
}

/// The library codes in a FUNCTION DUMP payload.
fn parse_dump(payload: &[u8]) -> Option<Vec<Bytes>> {
    let mut rest = payload.strip_prefix(DUMP_MAGIC)?;
    let mut codes = Vec::new();
    while !rest.is_empty() {
        let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let code = rest.get(4..4 + len)?;
        codes.push(Bytes::copy_from_slice(code));
        rest = &rest[4 + len..];
    }
    Some(codes)
}

fn cmd_function_restore(ctx: &mut Ctx) -> CmdResult<Reply> {
    #[derive(PartialEq)]
    enum Policy {
        Append,
        Replace,
        Flush,
    }
    if ctx.args.len() > 4 {
        return Err(subcommand_syntax(ctx));
    }
    let policy =
        match ctx.args.get(3) {
            None => Policy::Append,
            Some(a) if ctx.args.len() == 4 && is(a, "APPEND") => Policy::Append,
            Some(a) if ctx.args.len() == 4 && is(a, "REPLACE") => Policy::Replace,
            Some(a) if ctx.args.len() == 4 && is(a, "FLUSH") => Policy::Flush,
            Some(_) => return Err(CmdError::new(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            )),
        };
    let codes = parse_dump(&ctx.args[2]).ok_or_else(|| CmdError::new(BAD_PAYLOAD))?;
    let mut engine = ctx.server.scripting.functions.lock();
    let mut libs = Vec::with_capacity(codes.len());
    for code in &codes {
        libs.push(engine.compile_library(code)?);
    }
    // Check every collision before changing anything, so that a failed restore changes nothing.
    if policy != Policy::Flush {
        let mut seen = std::collections::HashSet::new();
        for lib in &libs {
            if policy == Policy::Append && engine.libraries.contains_key(&lib.name) {
                return Err(CmdError(format!("ERR Library {} already exists", lib.name)));
            }
            for f in lib.functions.keys() {
                let taken_elsewhere = engine
                    .index
                    .get(&f.to_lowercase())
                    .is_some_and(|(owner, _)| policy == Policy::Append || *owner != lib.name);
                if taken_elsewhere || !seen.insert(f.to_lowercase()) {
                    return Err(CmdError(format!("ERR Function {f} already exists")));
                }
            }
        }
    }
    if policy == Policy::Flush {
        engine.flush();
    }
    for lib in libs {
        engine.install(lib, true)?;
    }
    Ok(Reply::Ok)
}

fn cmd_function_stats(ctx: &mut Ctx) -> CmdResult<Reply> {
    let running = match ctx.server.scripting.control.running() {
        Some(info) if ctx.server.scripting.control.is_function() => Reply::Map(vec![
            (Reply::bulk_str("name"), Reply::bulk_str(&info.name)),
            (
                Reply::bulk_str("command"),
                Reply::Array(info.command.iter().cloned().map(Reply::Bulk).collect()),
            ),
            (
                Reply::bulk_str("duration_ms"),
                Reply::Int(info.started.elapsed().as_millis() as i64),
            ),
        ]),
        _ => Reply::Nil,
    };
    // While a function runs its engine is locked: report the counts FUNCTION LOAD last left.
    let (libs, funcs) = match ctx.server.scripting.functions.try_lock() {
        Some(e) => (e.libraries.len(), e.functions_len()),
        None => (0, 0),
    };
    Ok(Reply::Map(vec![
        (Reply::bulk_str("running_script"), running),
        (
            Reply::bulk_str("engines"),
            Reply::Map(vec![(
                Reply::bulk_str("LUA"),
                Reply::Map(vec![
                    (Reply::bulk_str("libraries_count"), Reply::Int(libs as i64)),
                    (Reply::bulk_str("functions_count"), Reply::Int(funcs as i64)),
                ]),
            )]),
        ),
    ]))
}

fn cmd_function_kill(ctx: &mut Ctx) -> CmdResult<Reply> {
    ctx.server
        .scripting
        .control
        .request_kill(true)
        .map(|()| Reply::Ok)
        .map_err(CmdError::new)
}

fn cmd_function_help(_ctx: &mut Ctx) -> CmdResult<Reply> {
    Ok(help_reply(
        "FUNCTION",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries.",
            "STATS",
            "    Return information about the current function running.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries.",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload.",
        ],
    ))
}

macro_rules! cmd {
    ($($spec:tt)*) => {
        super::command!("scripting", $($spec)*)
    };
}

/// EVAL-family flags: scripts lock every shard; outside MULTI they run detached.
const SCRIPT: u64 =
    RUNS_SCRIPT | WHOLE_KEYSPACE | NOSCRIPT | SKIP_MONITOR | STALE | NO_MANDATORY_KEYS;

const SCRIPT_SUBCOMMANDS: &[CommandSpec] = &[
    cmd!("exists", -3, NOSCRIPT, KeySpec::NONE, "2.6.0", "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
        "Determines whether server-side Lua scripts exist in the script cache.", cmd_script_exists),
    cmd!("flush", -2, NOSCRIPT, KeySpec::NONE, "2.6.0", "O(N) with N being the number of scripts in cache",
        "Removes all server-side Lua scripts from the script cache.", cmd_script_flush),
    cmd!("help", 2, LOADING | STALE, KeySpec::NONE, "5.0.0", "O(1)",
        "Returns helpful text about the different subcommands.", cmd_script_help),
    cmd!("kill", 2, NOSCRIPT | ALLOW_BUSY, KeySpec::NONE, "2.6.0", "O(1)",
        "Terminates a server-side Lua script during execution.", cmd_script_kill),
    cmd!("load", 3, NOSCRIPT | STALE, KeySpec::NONE, "2.6.0", "O(N) with N being the length in bytes of the script body.",
        "Loads a server-side Lua script to the script cache.", cmd_script_load),
];

const FUNCTION_SUBCOMMANDS: &[CommandSpec] = &[
    cmd!(
        "delete",
        3,
        WRITE | NOSCRIPT,
        KeySpec::NONE,
        "7.0.0",
        "O(1)",
        "Deletes a library and its functions.",
        cmd_function_delete
    ),
    cmd!(
        "dump",
        2,
        NOSCRIPT,
        KeySpec::NONE,
        "7.0.0",
        "O(N) where N is the number of functions",
        "Dumps all libraries into a serialized binary payload.",
        cmd_function_dump
    ),
    cmd!(
        "flush",
        -2,
        WRITE | NOSCRIPT,
        KeySpec::NONE,
        "7.0.0",
        "O(N) where N is the number of functions deleted",
        "Deletes all libraries and functions.",
        cmd_function_flush
    ),
    cmd!(
        "help",
        2,
        LOADING | STALE,
        KeySpec::NONE,
        "7.0.0",
        "O(1)",
        "Returns helpful text about the different subcommands.",
        cmd_function_help
    ),
    cmd!(
        "kill",
        2,
        NOSCRIPT | ALLOW_BUSY,
        KeySpec::NONE,
        "7.0.0",
        "O(1)",
        "Terminates a function during execution.",
        cmd_function_kill
    ),
    cmd!(
        "list",
        -2,
        NOSCRIPT,
        KeySpec::NONE,
        "7.0.0",
        "O(N) where N is the number of functions",
        "Returns information about all libraries.",
        cmd_function_list
    ),
    cmd!(
        "load",
        -3,
        WRITE | DENYOOM | NOSCRIPT,
        KeySpec::NONE,
        "7.0.0",
        "O(1) (considering compilation time is redundant)",
        "Creates a library.",
        cmd_function_load
    ),
    cmd!(
        "restore",
        -3,
        WRITE | DENYOOM | NOSCRIPT,
        KeySpec::NONE,
        "7.0.0",
        "O(N) where N is the number of functions on the payload",
        "Restores all libraries from a payload.",
        cmd_function_restore
    ),
    cmd!(
        "stats",
        2,
        NOSCRIPT | ALLOW_BUSY,
        KeySpec::NONE,
        "7.0.0",
        "O(1)",
        "Returns information about a function during execution.",
        cmd_function_stats
    ),
];

pub const COMMANDS: &[CommandSpec] = &[
    cmd!(
        "eval",
        -3,
        SCRIPT | MAY_REPLICATE,
        KeySpec::numkeys(2),
        "2.6.0",
        "Depends on the script that is executed.",
        "Executes a server-side Lua script.",
        cmd_eval
    ),
    cmd!(
        "evalsha",
        -3,
        SCRIPT | MAY_REPLICATE,
        KeySpec::numkeys(2),
        "2.6.0",
        "Depends on the script that is executed.",
        "Executes a server-side Lua script by SHA1 digest.",
        cmd_evalsha
    ),
    cmd!(
        "eval_ro",
        -3,
        SCRIPT | READONLY,
        KeySpec::numkeys(2),
        "7.0.0",
        "Depends on the script that is executed.",
        "Executes a read-only server-side Lua script.",
        cmd_eval_ro
    ),
    cmd!(
        "evalsha_ro",
        -3,
        SCRIPT | READONLY,
        KeySpec::numkeys(2),
        "7.0.0",
        "Depends on the script that is executed.",
        "Executes a read-only server-side Lua script by SHA1 digest.",
        cmd_evalsha_ro
    ),
    cmd!(
        "fcall",
        -3,
        SCRIPT | MAY_REPLICATE,
        KeySpec::numkeys(2),
        "7.0.0",
        "Depends on the function that is executed.",
        "Invokes a function.",
        cmd_fcall
    ),
    cmd!(
        "fcall_ro",
        -3,
        SCRIPT | READONLY,
        KeySpec::numkeys(2),
        "7.0.0",
        "Depends on the function that is executed.",
        "Invokes a read-only function.",
        cmd_fcall_ro
    ),
    cmd!(
        "script",
        -2,
        0,
        KeySpec::NONE,
        "2.6.0",
        "Depends on subcommand.",
        "A container for Lua scripts management commands.",
        super::container,
        SCRIPT_SUBCOMMANDS
    ),
    cmd!(
        "function",
        -2,
        0,
        KeySpec::NONE,
        "7.0.0",
        "Depends on subcommand.",
        "A container for function commands.",
        super::container,
        FUNCTION_SUBCOMMANDS
    ),
];
