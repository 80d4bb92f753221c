//! Generic key commands: deletion, existence, renaming, expiry, iteration, databases, OBJECT.

use bytes::Bytes;

use super::args::{int, int32, is, Cursor};
use super::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::error::{printable, CmdError, CmdResult, DB_INDEX, NO_SUCH_KEY, SAME_OBJECT};
use crate::glob;
use crate::keyspace::{class, Entry, Locked, StrEncoding};
use crate::protocol::Reply;
use crate::types::{Value, TYPE_NAMES};

fn cmd_del(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let mut removed = 0;
    for key in &ctx.args[1..] {
        if ctx.ks.remove(db, key).is_some() {
            ctx.ks.notify(class::GENERIC, "del", db, key);
            removed += 1;
        }
    }
    Ok(Reply::Int(removed))
}

fn cmd_exists(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    // Repeated keys count each time, as in Redis.
    let n = ctx.args[1..]
        .iter()
        .filter(|k| ctx.ks.get_notouch(db, k).is_some())
        .count();
    Ok(Reply::Int(n as i64))
}

fn cmd_touch(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let n = ctx.args[1..]
        .iter()
        .filter(|k| ctx.ks.touch(db, k).is_some())
        .count();
    Ok(Reply::Int(n as i64))
}

fn cmd_type(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let name = ctx
        .ks
        .get_notouch(db, &ctx.args[1])
        .map_or("none", |e| e.value.type_name());
    Ok(Reply::Status(Bytes::from_static(name.as_bytes())))
}

/// RENAME semantics: moves `src` to `dst` (replacing it), keeping the TTL. `nx` refuses when
/// `dst` exists. Returns false when `nx` refused.
pub fn op_rename(ks: &mut Locked, db: usize, src: &[u8], dst: &[u8], nx: bool) -> CmdResult<bool> {
    if !ks.contains(db, src) {
        return Err(CmdError::new(NO_SUCH_KEY));
    }
    if src == dst {
        return Ok(!nx);
    }
    if nx && ks.contains(db, dst) {
        return Ok(false);
    }
    let entry = ks
        .remove(db, src)
        .ok_or_else(|| CmdError::new(NO_SUCH_KEY))?;
    // The value moves with its TTL, access clock and encoding. Like Redis, drop a key already
    // at `dst` first, so that `dst` is reported as a new key.
    ks.remove(db, dst);
    ks.set_entry(db, dst, entry);
    ks.notify(class::GENERIC, "rename_from", db, src);
    ks.notify(class::GENERIC, "rename_to", db, dst);
    Ok(true)
}

fn cmd_rename(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    op_rename(ctx.ks, db, &ctx.args[1], &ctx.args[2], false)?;
    Ok(Reply::Ok)
}

fn cmd_renamenx(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    Ok(Reply::Int(
        op_rename(ctx.ks, db, &ctx.args[1], &ctx.args[2], true)? as i64,
    ))
}

fn cmd_keys(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let pattern = ctx.args[1].clone();
    let all = &pattern[..] == b"*";
    let mut out = Vec::new();
    ctx.ks.for_each(db, |k, _| {
        if all || glob::matches(&pattern, k, false) {
            out.push(Reply::Bulk(Bytes::copy_from_slice(k)));
        }
        true
    });
    Ok(Reply::Array(out))
}

/// A SCAN-family reply: the cursor to continue from (0: done) and this call's items.
pub fn scan_reply(next: u64, items: Vec<Reply>) -> Reply {
    Reply::Array(vec![
        Reply::Bulk(Bytes::from(next.to_string())),
        Reply::Array(items),
    ])
}

/// Parses SCAN's cursor as Redis does (`strtoul` over the whole argument): an optional sign and
/// decimal digits, a negative value wrapping around, the empty string meaning 0; no spaces, no
/// value above `u64::MAX`. Redis's text for a bad one.
pub fn parse_cursor(arg: &[u8]) -> CmdResult<u64> {
    let bad = || CmdError::new("ERR invalid cursor");
    let (neg, digits) = match arg.first() {
        Some(b'-') => (true, &arg[1..]),
        Some(b'+') => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() {
        // strtoul("") is 0 and consumes everything; a lone sign is not a number.
        return if arg.is_empty() { Ok(0) } else { Err(bad()) };
    }
    let mut n: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(bad());
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(c - b'0')))
            .ok_or_else(bad)?;
    }
    Ok(if neg { n.wrapping_neg() } else { n })
}

fn cmd_scan(ctx: &mut Ctx) -> CmdResult<Reply> {
    let cursor = parse_cursor(&ctx.args[1])?;
    let (mut pattern, mut count, mut type_filter) = (None, 10usize, None);
    let mut c = Cursor::new(ctx.args, 2);
    while !c.is_empty() {
        let opt = c.next_upper()?;
        match opt.as_str() {
            "MATCH" => pattern = Some(c.next()?.clone()),
            "COUNT" => {
                let n = c.next_int()?;
                if n < 1 {
                    return Err(CmdError::syntax());
                }
                count = n as usize;
            }
            "TYPE" => {
                let t = String::from_utf8_lossy(c.next()?).to_ascii_lowercase();
                // Unknown type names match nothing (Redis 7 behaviour).
                type_filter = Some(
                    TYPE_NAMES
                        .iter()
                        .find(|n| **n == t)
                        .copied()
                        .unwrap_or("\0unknown"),
                );
            }
            _ => return Err(CmdError::syntax()),
        }
    }
    let db = ctx.db();
    let mut keys = Vec::new();
    // Expired keys that match the pattern are removed as the scan meets them (Redis 7.2).
    let wanted = |k: &[u8]| pattern.as_ref().is_none_or(|p| glob::matches(p, k, false));
    let next = ctx.ks.scan(
        db,
        cursor.min(u64::from(u16::MAX)),
        count,
        wanted,
        |k, e| {
            if type_filter.is_none_or(|t| t == e.value.type_name()) {
                keys.push(Reply::Bulk(Bytes::copy_from_slice(k)));
            }
        },
    );
    Ok(scan_reply(next, keys))
}

fn cmd_randomkey(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    Ok(ctx.ks.random_key(db).map_or(Reply::Nil, Reply::Bulk))
}

fn cmd_dbsize(ctx: &mut Ctx) -> CmdResult<Reply> {
    Ok(Reply::Int(ctx.ks.len(ctx.client.db) as i64))
}

/// Parses the optional ASYNC|SYNC argument of FLUSHDB/FLUSHALL; true for ASYNC.
fn flush_mode(ctx: &Ctx) -> CmdResult<bool> {
    match ctx.args.get(1) {
        None => Ok(false),
        Some(a) if is(a, "ASYNC") && ctx.args.len() == 2 => Ok(true),
        Some(a) if is(a, "SYNC") && ctx.args.len() == 2 => Ok(false),
        _ => Err(CmdError::syntax()),
    }
}

fn drop_tables<T: Send + 'static>(tables: Vec<T>, background: bool) {
    if background && !tables.is_empty() {
        std::thread::spawn(move || drop(tables));
    }
}

fn cmd_flushdb(ctx: &mut Ctx) -> CmdResult<Reply> {
    let background = flush_mode(ctx)?;
    let tables = ctx.ks.flush_db(ctx.client.db);
    drop_tables(tables, background);
    Ok(Reply::Ok)
}

fn cmd_flushall(ctx: &mut Ctx) -> CmdResult<Reply> {
    let background = flush_mode(ctx)?;
    let mut tables = Vec::new();
    for db in 0..ctx.server.keyspace.databases() {
        tables.extend(ctx.ks.flush_db(db));
    }
    drop_tables(tables, background);
    Ok(Reply::Ok)
}

/// Checks a database index parsed with [`int32`](super::args::int32) against the number of databases.
pub fn db_in_range(ctx: &Ctx, n: i32) -> CmdResult<usize> {
    match usize::try_from(n) {
        Ok(db) if db < ctx.server.keyspace.databases() => Ok(db),
        _ => Err(CmdError::new(DB_INDEX)),
    }
}

/// Parses a database index argument (MOVE, COPY ... DB) and checks its range.
pub fn db_index(ctx: &Ctx, arg: &[u8]) -> CmdResult<usize> {
    db_in_range(ctx, int32(arg, None)?)
}

fn cmd_swapdb(ctx: &mut Ctx) -> CmdResult<Reply> {
    // Both indices are parsed before either is range-checked, as in Redis.
    let a = int32(&ctx.args[1], Some("ERR invalid first DB index"))?;
    let b = int32(&ctx.args[2], Some("ERR invalid second DB index"))?;
    let (a, b) = (db_in_range(ctx, a)?, db_in_range(ctx, b)?);
    if a != b {
        ctx.ks.swap_dbs(a, b);
        // Clients blocked on a key the swap brought in are served (dispatch serves `ready`).
        if ctx.ks.track_ready {
            for (db, key) in ctx.server.blocking.keys_in(&[a, b]) {
                if ctx
                    .ks
                    .peek(db, &key)
                    .is_some_and(|e| e.value.wakes_blocked())
                {
                    ctx.ks.ready.push((db, key));
                }
            }
        }
    }
    Ok(Reply::Ok)
}

fn cmd_move(ctx: &mut Ctx) -> CmdResult<Reply> {
    let src = ctx.db();
    let dst = db_index(ctx, &ctx.args[2])?;
    if src == dst {
        return Err(CmdError::new(SAME_OBJECT));
    }
    let key = &ctx.args[1];
    if !ctx.ks.contains(src, key) || ctx.ks.contains(dst, key) {
        return Ok(Reply::Int(0));
    }
    let Some(entry) = ctx.ks.remove(src, key) else {
        return Ok(Reply::Int(0));
    };
    ctx.ks.set_entry(dst, key, entry);
    ctx.ks.notify(class::GENERIC, "move_from", src, key);
    ctx.ks.notify(class::GENERIC, "move_to", dst, key);
    Ok(Reply::Int(1))
}

fn cmd_copy(ctx: &mut Ctx) -> CmdResult<Reply> {
    let mut dst_db = ctx.db();
    let mut replace = false;
    let mut c = Cursor::new(ctx.args, 3);
    while !c.is_empty() {
        if c.eat("REPLACE") {
            replace = true;
        } else if c.eat("DB") {
            let arg = c.next()?;
            dst_db = db_index(ctx, arg)?;
        } else {
            return Err(CmdError::syntax());
        }
    }
    let src_db = ctx.db();
    let (src, dst) = (&ctx.args[1], &ctx.args[2]);
    if src_db == dst_db && src == dst {
        return Err(CmdError::new(SAME_OBJECT));
    }
    let now_s = ctx.ks.clock.now_s();
    let Some(entry) = ctx.ks.get(src_db, src) else {
        return Ok(Reply::Int(0));
    };
    // A new object: same value, TTL and encoding, fresh access clock (and never a shared
    // integer).
    let mut copy = Entry::new(entry.value.clone(), entry.expires_at(), now_s);
    copy.str_enc = match entry.str_enc {
        StrEncoding::Auto if entry.encoding() == "int" => StrEncoding::UnsharedInt,
        enc => enc,
    };
    if ctx.ks.contains(dst_db, dst) && !replace {
        return Ok(Reply::Int(0));
    }
    // REPLACE deletes the old key first, so the copy is reported as a new key (as in Redis).
    ctx.ks.remove(dst_db, dst);
    ctx.ks.set_entry(dst_db, dst, copy);
    ctx.ks.notify(class::GENERIC, "copy_to", dst_db, dst);
    Ok(Reply::Int(1))
}

/// The comparisons EXPIRE's NX/XX/GT/LT flags allow.
#[derive(Default)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

fn expire_generic(ctx: &mut Ctx, unit_ms: i64, absolute: bool) -> CmdResult<Reply> {
    let name = ctx.spec.name;
    // Redis checks the options before the number.
    let mut f = ExpireFlags::default();
    for a in &ctx.args[3..] {
        match String::from_utf8_lossy(a).to_ascii_uppercase().as_str() {
            "NX" => f.nx = true,
            "XX" => f.xx = true,
            "GT" => f.gt = true,
            "LT" => f.lt = true,
            _ => {
                return Err(CmdError(format!(
                    "ERR Unsupported option {}",
                    printable(a, 128)
                )))
            }
        }
    }
    if f.nx && (f.xx || f.gt || f.lt) {
        return Err(CmdError::new(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if f.gt && f.lt {
        return Err(CmdError::new(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    let n = int(&ctx.args[2])?;
    let now = ctx.now_ms() as i64;
    let at = n
        .checked_mul(unit_ms)
        .and_then(|ms| {
            if absolute {
                Some(ms)
            } else {
                ms.checked_add(now)
            }
        })
        .ok_or_else(|| CmdError::invalid_expire(name))?;
    let db = ctx.db();
    let key = &ctx.args[1];
    let Some(entry) = ctx.ks.meta(db, key) else {
        return Ok(Reply::Int(0));
    };
    let current = entry.expires_at();
    // No TTL counts as an infinite one for GT and LT.
    let ok = if f.nx {
        current == 0
    } else if f.xx && current == 0 {
        false
    } else if f.gt {
        current != 0 && at > current as i64
    } else if f.lt {
        current == 0 || at < current as i64
    } else {
        true
    };
    if !ok {
        return Ok(Reply::Int(0));
    }
    if at <= now {
        ctx.ks.remove(db, key);
        ctx.ks.notify(class::GENERIC, "del", db, key);
    } else {
        ctx.ks.set_expiry(db, key, at as u64);
        ctx.ks.notify(class::GENERIC, "expire", db, key);
    }
    Ok(Reply::Int(1))
}

fn cmd_expire(ctx: &mut Ctx) -> CmdResult<Reply> {
    expire_generic(ctx, 1000, false)
}

fn cmd_pexpire(ctx: &mut Ctx) -> CmdResult<Reply> {
    expire_generic(ctx, 1, false)
}

fn cmd_expireat(ctx: &mut Ctx) -> CmdResult<Reply> {
    expire_generic(ctx, 1000, true)
}

fn cmd_pexpireat(ctx: &mut Ctx) -> CmdResult<Reply> {
    expire_generic(ctx, 1, true)
}

/// Remaining TTL in ms: -2 missing, -1 persistent.
fn ttl_ms(ctx: &mut Ctx) -> i64 {
    let db = ctx.db();
    let now = ctx.now_ms();
    match ctx.ks.get_notouch(db, &ctx.args[1]) {
        None => -2,
        Some(e) if e.expires_at() == 0 => -1,
        Some(e) => e.expires_at().saturating_sub(now) as i64,
    }
}

/// Milliseconds to the nearest second (negative codes pass through); exact for any i64, where
/// `ms + 500` would overflow near `i64::MAX` (an expiry set with `PXAT 9223372036854775807`).
fn ms_to_rounded_s(ms: i64) -> i64 {
    if ms < 0 {
        ms
    } else {
        ((i128::from(ms) + 500) / 1000) as i64
    }
}

fn cmd_ttl(ctx: &mut Ctx) -> CmdResult<Reply> {
    let ms = ttl_ms(ctx);
    Ok(Reply::Int(ms_to_rounded_s(ms)))
}

fn cmd_pttl(ctx: &mut Ctx) -> CmdResult<Reply> {
    Ok(Reply::Int(ttl_ms(ctx)))
}

/// The absolute expiry in ms: -2 missing, -1 persistent.
fn expire_time_ms(ctx: &mut Ctx) -> i64 {
    let db = ctx.db();
    match ctx.ks.get_notouch(db, &ctx.args[1]) {
        None => -2,
        Some(e) if e.expires_at() == 0 => -1,
        Some(e) => e.expires_at() as i64,
    }
}

fn cmd_expiretime(ctx: &mut Ctx) -> CmdResult<Reply> {
    let ms = expire_time_ms(ctx);
    // Rounded to the nearest second, like TTL.
    Ok(Reply::Int(ms_to_rounded_s(ms)))
}

fn cmd_pexpiretime(ctx: &mut Ctx) -> CmdResult<Reply> {
    Ok(Reply::Int(expire_time_ms(ctx)))
}

fn cmd_persist(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let key = &ctx.args[1];
    match ctx.ks.meta(db, key) {
        Some(e) if e.expires_at() != 0 => {
            ctx.ks.set_expiry(db, key, 0);
            ctx.ks.notify(class::GENERIC, "persist", db, key);
            Ok(Reply::Int(1))
        }
        _ => Ok(Reply::Int(0)),
    }
}

const LFU_NOT_SELECTED: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
const LFU_SELECTED: &str = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

fn object_generic(ctx: &mut Ctx, what: &str) -> CmdResult<Reply> {
    let (lfu, decay, shared_ints) = {
        let c = ctx.server.config.read();
        let policy = &c.maxmemory_policy;
        // Redis shares the integers 0..10000 unless an LRU/LFU policy with a memory limit
        // needs per-key access clocks.
        let lru_or_lfu = policy.contains("lru") || policy.contains("lfu");
        (
            policy.contains("lfu"),
            c.lfu_decay_time as u32,
            c.maxmemory == 0 || !lru_or_lfu,
        )
    };
    let now_s = ctx.ks.clock.now_s();
    let db = ctx.db();
    let Some(e) = ctx.ks.get_notouch_nonotify(db, &ctx.args[2]) else {
        return Ok(Reply::Nil);
    };
    Ok(match what {
        "encoding" => Reply::bulk_static(e.encoding()),
        "refcount" => Reply::Int(refcount(e, shared_ints)),
        "idletime" if lfu => return Err(CmdError::new(LFU_SELECTED)),
        "idletime" => Reply::Int(e.access.idle_seconds(now_s) as i64),
        "freq" if !lfu => return Err(CmdError::new(LFU_NOT_SELECTED)),
        _ => Reply::Int(e.access.decayed_counter(now_s, decay) as i64),
    })
}

/// OBJECT REFCOUNT: Redis's shared integer objects (0..10000) report `INT_MAX`, anything else 1.
fn refcount(e: &Entry, shared_ints: bool) -> i64 {
    let small_int = match &e.value {
        Value::Str(s) => {
            e.encoding() == "int"
                && e.str_enc != StrEncoding::UnsharedInt
                && crate::protocol::parse_i64(s).is_some_and(|n| (0..10_000).contains(&n))
        }
        _ => false,
    };
    if shared_ints && small_int {
        i64::from(i32::MAX)
    } else {
        1
    }
}

fn cmd_object_encoding(ctx: &mut Ctx) -> CmdResult<Reply> {
    object_generic(ctx, "encoding")
}

fn cmd_object_freq(ctx: &mut Ctx) -> CmdResult<Reply> {
    object_generic(ctx, "freq")
}

fn cmd_object_idletime(ctx: &mut Ctx) -> CmdResult<Reply> {
    object_generic(ctx, "idletime")
}

fn cmd_object_refcount(ctx: &mut Ctx) -> CmdResult<Reply> {
    object_generic(ctx, "refcount")
}

/// A HELP reply: the first line names the command, the rest are its lines.
pub fn help_reply(cmd: &str, lines: &[&str]) -> Reply {
    let mut out = vec![Reply::Status(Bytes::from(format!(
        "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        cmd.to_ascii_uppercase()
    )))];
    out.extend(
        lines
            .iter()
            .map(|l| Reply::Status(Bytes::copy_from_slice(l.as_bytes()))),
    );
    out.push(Reply::status("HELP"));
    out.push(Reply::status("    Print this help."));
    Reply::Array(out)
}

fn cmd_object_help(_ctx: &mut Ctx) -> CmdResult<Reply> {
    Ok(help_reply(
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    ))
}

/// This family's commands: [`command!`](super::command) with the group fixed.
macro_rules! cmd {
    ($($spec:tt)*) => {
        super::command!("generic", $($spec)*)
    };
}

const OBJECT_SUBCOMMANDS: &[CommandSpec] = &[
    cmd!(
        "encoding",
        3,
        READONLY,
        KeySpec::range(2, 2, 1),
        "2.2.3",
        "O(1)",
        "Returns the internal encoding of a Redis object.",
        cmd_object_encoding
    ),
    cmd!(
        "freq",
        3,
        READONLY,
        KeySpec::range(2, 2, 1),
        "4.0.0",
        "O(1)",
        "Returns the logarithmic access frequency counter of a Redis object.",
        cmd_object_freq
    ),
    cmd!(
        "idletime",
        3,
        READONLY,
        KeySpec::range(2, 2, 1),
        "2.2.3",
        "O(1)",
        "Returns the time since the last access to a Redis object.",
        cmd_object_idletime
    ),
    cmd!(
        "refcount",
        3,
        READONLY,
        KeySpec::range(2, 2, 1),
        "2.2.3",
        "O(1)",
        "Returns the reference count of a value of a key.",
        cmd_object_refcount
    ),
    cmd!(
        "help",
        2,
        LOADING | STALE,
        KeySpec::NONE,
        "6.2.0",
        "O(1)",
        "Returns helpful text about the different subcommands.",
        cmd_object_help
    ),
];

pub const COMMANDS: &[CommandSpec] = &[
    cmd!("del", -2, WRITE | NO_VALUE, KeySpec::ALL, "1.0.0", "O(N) where N is the number of keys that will be removed.",
        "Deletes one or more keys.", cmd_del),
    cmd!("unlink", -2, WRITE | FAST | NO_VALUE, KeySpec::ALL, "4.0.0", "O(1) for each key removed regardless of its size.",
        "Asynchronously deletes one or more keys.", cmd_del),
    cmd!("exists", -2, READONLY | FAST | NO_VALUE, KeySpec::ALL, "1.0.0", "O(N) where N is the number of keys to check.",
        "Determines whether one or more keys exist.", cmd_exists),
    cmd!("touch", -2, READONLY | FAST | NO_VALUE, KeySpec::ALL, "3.2.1", "O(N) where N is the number of keys that will be touched.",
        "Returns the number of existing keys out of those specified after updating the time they were last accessed.",
        cmd_touch),
    cmd!("type", 2, READONLY | FAST | NO_VALUE, KeySpec::ONE, "1.0.0", "O(1)", "Determines the type of value stored at a key.",
        cmd_type),
    cmd!("rename", 3, WRITE, KeySpec::range(1, 2, 1), "1.0.0", "O(1)", "Renames a key and overwrites the destination.",
        cmd_rename),
    cmd!("renamenx", 3, WRITE | FAST, KeySpec::range(1, 2, 1), "1.0.0", "O(1)",
        "Renames a key only when the target key name doesn't exist.", cmd_renamenx),
    cmd!("keys", 2, READONLY | WHOLE_KEYSPACE, KeySpec::NONE, "1.0.0",
        "O(N) with N being the number of keys in the database.", "Returns all key names that match a pattern.", cmd_keys),
    cmd!("scan", -2, READONLY | WHOLE_KEYSPACE, KeySpec::NONE, "2.8.0",
        "O(1) for every call. O(N) for a complete iteration.", "Iterates over the key names in the database.", cmd_scan),
    cmd!("randomkey", 1, READONLY | WHOLE_KEYSPACE, KeySpec::NONE, "1.0.0", "O(1)",
        "Returns a random key name from the database.", cmd_randomkey),
    cmd!("dbsize", 1, READONLY | FAST | WHOLE_KEYSPACE, KeySpec::NONE, "1.0.0", "O(1)",
        "Returns the number of keys in the database.", cmd_dbsize),
    cmd!("flushdb", -1, WRITE | WHOLE_KEYSPACE, KeySpec::NONE, "1.0.0",
        "O(N) where N is the number of keys in the selected database", "Remove all keys from the current database.",
        cmd_flushdb),
    cmd!("flushall", -1, WRITE | WHOLE_KEYSPACE, KeySpec::NONE, "1.0.0",
        "O(N) where N is the total number of keys in all databases", "Removes all keys from all databases.",
        cmd_flushall),
    cmd!("swapdb", 3, WRITE | FAST | WHOLE_KEYSPACE, KeySpec::NONE, "4.0.0",
        "O(N) where N is the count of clients watching or blocking on keys from both databases.",
        "Swaps two Redis databases.", cmd_swapdb),
    cmd!("move", 3, WRITE | FAST, KeySpec::ONE, "1.0.0", "O(1)", "Moves a key to another database.", cmd_move),
    cmd!("copy", -3, WRITE | DENYOOM, KeySpec::range(1, 2, 1), "6.2.0",
        "O(N) worst case for collections, where N is the number of nested items.", "Copies the value of a key to a new key.",
        cmd_copy),
    cmd!("expire", -3, WRITE | FAST | NO_VALUE, KeySpec::ONE, "1.0.0", "O(1)",
        "Sets the expiration time of a key in seconds.", cmd_expire),
    cmd!("pexpire", -3, WRITE | FAST | NO_VALUE, KeySpec::ONE, "2.6.0", "O(1)",
        "Sets the expiration time of a key in milliseconds.", cmd_pexpire),
    cmd!("expireat", -3, WRITE | FAST | NO_VALUE, KeySpec::ONE, "1.2.0", "O(1)",
        "Sets the expiration time of a key to a Unix timestamp.", cmd_expireat),
    cmd!("pexpireat", -3, WRITE | FAST | NO_VALUE, KeySpec::ONE, "2.6.0", "O(1)",
        "Sets the expiration time of a key to a Unix milliseconds timestamp.", cmd_pexpireat),
    cmd!("ttl", 2, READONLY | FAST | NO_VALUE, KeySpec::ONE, "1.0.0", "O(1)", "Returns the expiration time in seconds of a key.",
        cmd_ttl),
    cmd!("pttl", 2, READONLY | FAST | NO_VALUE, KeySpec::ONE, "2.6.0", "O(1)",
        "Returns the expiration time in milliseconds of a key.", cmd_pttl),
    cmd!("expiretime", 2, READONLY | FAST | NO_VALUE, KeySpec::ONE, "7.0.0", "O(1)",
        "Returns the expiration time of a key as a Unix timestamp.", cmd_expiretime),
    cmd!("pexpiretime", 2, READONLY | FAST | NO_VALUE, KeySpec::ONE, "7.0.0", "O(1)",
        "Returns the expiration time of a key as a Unix milliseconds timestamp.", cmd_pexpiretime),
    cmd!("persist", 2, WRITE | FAST | NO_VALUE, KeySpec::ONE, "2.2.0", "O(1)", "Removes the expiration time of a key.",
        cmd_persist),
    cmd!("object", -2, 0, KeySpec::NONE, "2.2.3", "Depends on subcommand.", "A container for object introspection commands.",
        super::container, OBJECT_SUBCOMMANDS),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_parsing() {
        assert_eq!(parse_cursor(b"0").unwrap(), 0);
        assert_eq!(parse_cursor(b"123").unwrap(), 123);
        assert_eq!(parse_cursor(b"-1").unwrap(), u64::MAX);
        assert_eq!(parse_cursor(b"+7").unwrap(), 7);
        assert_eq!(parse_cursor(b"").unwrap(), 0);
        assert_eq!(parse_cursor(b"18446744073709551615").unwrap(), u64::MAX);
        for bad in [
            &b"x"[..],
            b" 1",
            b"1 ",
            b"-",
            b"+",
            b"18446744073709551616",
            b"1.5",
        ] {
            assert!(parse_cursor(bad).is_err(), "{bad:?}");
        }
    }
}
