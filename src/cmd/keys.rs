//! Generic key commands: deletion, existence, renaming, expiry, iteration, databases, OBJECT.

use bytes::Bytes;

use super::args::{int, is, Cursor};
use super::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult, DB_INDEX, NO_SUCH_KEY, SAME_OBJECT};
use crate::glob;
use crate::keyspace::Locked;
use crate::protocol::Reply;
use crate::types::TYPE_NAMES;

fn cmd_del(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let removed = ctx.args[1..]
        .iter()
        .filter(|k| ctx.ks.remove(db, k).is_some())
        .count();
    Ok(Reply::Int(removed as i64))
}

fn cmd_exists(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    // Repeated keys count each time, as in Redis.
    let n = ctx.args[1..]
        .iter()
        .filter(|k| ctx.ks.contains(db, k))
        .count();
    Ok(Reply::Int(n as i64))
}

fn cmd_touch(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let n = ctx.args[1..]
        .iter()
        .filter(|k| ctx.ks.get(db, k).is_some())
        .count();
    Ok(Reply::Int(n as i64))
}

fn cmd_type(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let name = ctx
        .ks
        .peek(db, &ctx.args[1])
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
    ks.set(db, dst, entry.value, entry.expires_at);
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

/// Parses SCAN's cursor; Redis's text for a bad one.
pub fn parse_cursor(arg: &[u8]) -> CmdResult<u64> {
    std::str::from_utf8(arg)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| CmdError::new("ERR invalid cursor"))
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
    let next = ctx
        .ks
        .scan(db, cursor.min(u64::from(u16::MAX)), count, |k, e| {
            if pattern
                .as_ref()
                .is_some_and(|p| !glob::matches(p, k, false))
            {
                return;
            }
            if type_filter.is_some_and(|t| t != e.value.type_name()) {
                return;
            }
            keys.push(Reply::Bulk(Bytes::copy_from_slice(k)));
        });
    Ok(Reply::Array(vec![
        Reply::Bulk(Bytes::from(next.to_string())),
        Reply::Array(keys),
    ]))
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

#[allow(clippy::vec_box)]
fn drop_tables(tables: Vec<Box<crate::keyspace::DbShard>>, background: bool) {
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

/// Parses a database index argument, checking its range.
pub fn db_index(ctx: &Ctx, arg: &[u8], bad: &str) -> CmdResult<usize> {
    let n = int(arg).map_err(|_| CmdError::new(bad))?;
    if n < 0 || n as usize >= ctx.server.keyspace.databases() {
        return Err(CmdError::new(DB_INDEX));
    }
    Ok(n as usize)
}

fn cmd_swapdb(ctx: &mut Ctx) -> CmdResult<Reply> {
    let a = db_index(ctx, &ctx.args[1], "ERR invalid first DB index")?;
    let b = db_index(ctx, &ctx.args[2], "ERR invalid second DB index")?;
    if a != b {
        ctx.ks.swap_dbs(a, b);
    }
    Ok(Reply::Ok)
}

fn cmd_move(ctx: &mut Ctx) -> CmdResult<Reply> {
    let src = ctx.db();
    let dst = db_index(ctx, &ctx.args[2], crate::error::NOT_INTEGER)?;
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
    ctx.ks.set(dst, key, entry.value, entry.expires_at);
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
            dst_db = db_index(ctx, arg, crate::error::NOT_INTEGER)?;
        } else {
            return Err(CmdError::syntax());
        }
    }
    let src_db = ctx.db();
    let (src, dst) = (&ctx.args[1], &ctx.args[2]);
    if src_db == dst_db && src == dst {
        return Err(CmdError::new(SAME_OBJECT));
    }
    let Some(entry) = ctx.ks.peek(src_db, src) else {
        return Ok(Reply::Int(0));
    };
    let (value, expires_at) = (entry.value.clone(), entry.expires_at);
    if ctx.ks.contains(dst_db, dst) && !replace {
        return Ok(Reply::Int(0));
    }
    ctx.ks.set(dst_db, dst, value, expires_at);
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
    let n = int(&ctx.args[2])?;
    let mut f = ExpireFlags::default();
    for a in &ctx.args[3..] {
        match String::from_utf8_lossy(a).to_ascii_uppercase().as_str() {
            "NX" => f.nx = true,
            "XX" => f.xx = true,
            "GT" => f.gt = true,
            "LT" => f.lt = true,
            other => return Err(CmdError(format!("ERR Unsupported option {other}"))),
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
    let Some(entry) = ctx.ks.peek(db, key) else {
        return Ok(Reply::Int(0));
    };
    let current = entry.expires_at;
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
    } else {
        ctx.ks.set_expiry(db, key, at as u64);
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
    match ctx.ks.peek(db, &ctx.args[1]) {
        None => -2,
        Some(e) if e.expires_at == 0 => -1,
        Some(e) => e.expires_at.saturating_sub(now) as i64,
    }
}

fn cmd_ttl(ctx: &mut Ctx) -> CmdResult<Reply> {
    let ms = ttl_ms(ctx);
    Ok(Reply::Int(if ms < 0 { ms } else { (ms + 500) / 1000 }))
}

fn cmd_pttl(ctx: &mut Ctx) -> CmdResult<Reply> {
    Ok(Reply::Int(ttl_ms(ctx)))
}

fn expire_time(ctx: &mut Ctx, unit: u64) -> CmdResult<Reply> {
    let db = ctx.db();
    Ok(Reply::Int(match ctx.ks.peek(db, &ctx.args[1]) {
        None => -2,
        Some(e) if e.expires_at == 0 => -1,
        Some(e) => (e.expires_at / unit) as i64,
    }))
}

fn cmd_expiretime(ctx: &mut Ctx) -> CmdResult<Reply> {
    expire_time(ctx, 1000)
}

fn cmd_pexpiretime(ctx: &mut Ctx) -> CmdResult<Reply> {
    expire_time(ctx, 1)
}

fn cmd_persist(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let key = &ctx.args[1];
    match ctx.ks.peek(db, key) {
        Some(e) if e.expires_at != 0 => {
            ctx.ks.set_expiry(db, key, 0);
            Ok(Reply::Int(1))
        }
        _ => Ok(Reply::Int(0)),
    }
}

const LFU_NOT_SELECTED: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
const LFU_SELECTED: &str = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

fn object_generic(ctx: &mut Ctx, what: &str) -> CmdResult<Reply> {
    let (lfu, decay) = {
        let c = ctx.server.config.read();
        (c.maxmemory_policy.contains("lfu"), c.lfu_decay_time as u32)
    };
    let now_s = ctx.ks.clock.now_s();
    let db = ctx.db();
    let Some(e) = ctx.ks.peek(db, &ctx.args[2]) else {
        return Ok(Reply::Nil);
    };
    Ok(match what {
        "encoding" => Reply::bulk_static(e.value.encoding()),
        "refcount" => Reply::Int(1),
        "idletime" if lfu => return Err(CmdError::new(LFU_SELECTED)),
        "idletime" => Reply::Int(e.access.idle_seconds(now_s) as i64),
        "freq" if !lfu => return Err(CmdError::new(LFU_NOT_SELECTED)),
        _ => Reply::Int(e.access.decayed_counter(now_s, decay) as i64),
    })
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

fn cmd_container(_ctx: &mut Ctx) -> CmdResult<Reply> {
    // Containers are resolved to their subcommands by dispatch; never called.
    Err(CmdError::syntax())
}

macro_rules! cmd {
    ($name:literal, $arity:expr, $flags:expr, $keys:expr, $since:literal, $complexity:literal, $summary:literal, $handler:expr) => {
        cmd!(
            $name,
            $arity,
            $flags,
            $keys,
            $since,
            $complexity,
            $summary,
            $handler,
            &[]
        )
    };
    ($name:literal, $arity:expr, $flags:expr, $keys:expr, $since:literal, $complexity:literal, $summary:literal, $handler:expr, $subs:expr) => {
        CommandSpec {
            name: $name,
            arity: $arity,
            flags: $flags,
            keys: $keys,
            group: "generic",
            summary: $summary,
            since: $since,
            complexity: $complexity,
            handler: $handler,
            subcommands: $subs,
        }
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
    cmd!("del", -2, WRITE, KeySpec::ALL, "1.0.0", "O(N) where N is the number of keys that will be removed.",
        "Deletes one or more keys.", cmd_del),
    cmd!("unlink", -2, WRITE | FAST, KeySpec::ALL, "4.0.0", "O(1) for each key removed regardless of its size.",
        "Asynchronously deletes one or more keys.", cmd_del),
    cmd!("exists", -2, READONLY | FAST, KeySpec::ALL, "1.0.0", "O(N) where N is the number of keys to check.",
        "Determines whether one or more keys exist.", cmd_exists),
    cmd!("touch", -2, READONLY | FAST, KeySpec::ALL, "3.2.1", "O(N) where N is the number of keys that will be touched.",
        "Returns the number of existing keys out of those specified after updating the time they were last accessed.",
        cmd_touch),
    cmd!("type", 2, READONLY | FAST, KeySpec::ONE, "1.0.0", "O(1)", "Determines the type of value stored at a key.",
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
    cmd!("expire", -3, WRITE | FAST, KeySpec::ONE, "1.0.0", "O(1)",
        "Sets the expiration time of a key in seconds.", cmd_expire),
    cmd!("pexpire", -3, WRITE | FAST, KeySpec::ONE, "2.6.0", "O(1)",
        "Sets the expiration time of a key in milliseconds.", cmd_pexpire),
    cmd!("expireat", -3, WRITE | FAST, KeySpec::ONE, "1.2.0", "O(1)",
        "Sets the expiration time of a key to a Unix timestamp.", cmd_expireat),
    cmd!("pexpireat", -3, WRITE | FAST, KeySpec::ONE, "2.6.0", "O(1)",
        "Sets the expiration time of a key to a Unix milliseconds timestamp.", cmd_pexpireat),
    cmd!("ttl", 2, READONLY | FAST, KeySpec::ONE, "1.0.0", "O(1)", "Returns the expiration time in seconds of a key.",
        cmd_ttl),
    cmd!("pttl", 2, READONLY | FAST, KeySpec::ONE, "2.6.0", "O(1)",
        "Returns the expiration time in milliseconds of a key.", cmd_pttl),
    cmd!("expiretime", 2, READONLY | FAST, KeySpec::ONE, "7.0.0", "O(1)",
        "Returns the expiration time of a key as a Unix timestamp.", cmd_expiretime),
    cmd!("pexpiretime", 2, READONLY | FAST, KeySpec::ONE, "7.0.0", "O(1)",
        "Returns the expiration time of a key as a Unix milliseconds timestamp.", cmd_pexpiretime),
    cmd!("persist", 2, WRITE | FAST, KeySpec::ONE, "2.2.0", "O(1)", "Removes the expiration time of a key.",
        cmd_persist),
    cmd!("object", -2, 0, KeySpec::NONE, "2.2.3", "Depends on subcommand.", "A container for object introspection commands.",
        cmd_container, OBJECT_SUBCOMMANDS),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_parsing() {
        assert_eq!(parse_cursor(b"0").unwrap(), 0);
        assert_eq!(parse_cursor(b"123").unwrap(), 123);
        assert!(parse_cursor(b"-1").is_err());
        assert!(parse_cursor(b"x").is_err());
    }
}
