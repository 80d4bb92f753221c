//! Hash commands: HSET HSETNX HGET HMGET HMSET HDEL HEXISTS HLEN HSTRLEN HKEYS HVALS HGETALL
//! HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN.
//!
//! A hash is `Value::Hash(Arc<HashValue>)` (src/types/hash.rs). Reads borrow it under the shard
//! lock; writes check the type with `peek` first (so a refused or no-op write does not change the
//! key's version, which WATCH observes), then modify it through `Arc::make_mut`, which copies
//! the map only when another handle shares it. A hash left without fields is removed, as in
//! Redis. HSCAN answers a listpack hash in one call (as Redis does) and walks a hash-table one
//! by position, COUNT at a time.

use std::sync::Arc;

use bytes::Bytes;
use rand::Rng;

use super::args::{int, is};
use super::keys::{parse_cursor, scan_reply};
use super::picks;
use super::strings::longdouble::{self, Ld, LongDouble};
use super::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult, NAN_OR_INF, NOT_FLOAT, OVERFLOW};
use crate::keyspace::{class, Entry, Locked};
use crate::protocol::{Protocol, Reply};
use crate::types::{HashValue, Value};

const NOT_INTEGER_HASH: &str = "ERR hash value is not an integer";
const NOT_FLOAT_HASH: &str = "ERR hash value is not a float";
const INCR_NAN_OR_INF: &str = "ERR value is NaN or Infinity";

/// The hash stored in `entry`, or WRONGTYPE.
pub fn as_hash(entry: &Entry) -> CmdResult<&Arc<HashValue>> {
    match &entry.value {
        Value::Hash(h) => Ok(h),
        _ => Err(CmdError::wrongtype()),
    }
}

/// The hash at `key` for reading (an access, a hit or a miss), None when missing.
fn read<'a>(ks: &'a mut Locked, db: usize, key: &[u8]) -> CmdResult<Option<&'a HashValue>> {
    match ks.get(db, key) {
        Some(e) => Ok(Some(as_hash(e)?)),
        None => Ok(None),
    }
}

/// The hash at `key` without recording an access (a write's checks), None when missing.
fn peek<'a>(ks: &'a mut Locked, db: usize, key: &[u8]) -> CmdResult<Option<&'a HashValue>> {
    match ks.peek(db, key) {
        Some(e) => Ok(Some(as_hash(e)?)),
        None => Ok(None),
    }
}

/// Applies `f` to the hash at `key`, creating it when missing, and removes the key if `f`
/// leaves it empty. The caller has checked the type (WRONGTYPE) already. Reports `event`, then
/// `del` if the key went, as Redis does.
fn write<R>(
    ks: &mut Locked,
    db: usize,
    key: &[u8],
    event: &'static str,
    f: impl FnOnce(&mut HashValue) -> R,
) -> R {
    if let Some(entry) = ks.get_mut(db, key) {
        if let Value::Hash(h) = &mut entry.value {
            let hash = Arc::make_mut(h);
            let r = f(hash);
            let emptied = hash.is_empty();
            ks.notify(class::HASH, event, db, key);
            if emptied {
                ks.remove(db, key);
                ks.notify(class::GENERIC, "del", db, key);
            }
            return r;
        }
    }
    let mut hash = HashValue::new();
    let r = f(&mut hash);
    if !hash.is_empty() {
        ks.set(db, key, Value::Hash(Arc::new(hash)), 0);
        ks.notify(class::HASH, event, db, key);
    }
    r
}

fn bulk(b: &Bytes) -> Reply {
    Reply::Bulk(super::strings::share_or_copy(b))
}

fn field_value_pairs(ctx: &Ctx) -> CmdResult<()> {
    if ctx.args.len() % 2 == 1 {
        return Err(CmdError::arity(ctx.spec.name));
    }
    Ok(())
}

/// HSET/HMSET: sets every field-value pair; the number of new fields.
fn hset(ctx: &mut Ctx) -> CmdResult<usize> {
    field_value_pairs(ctx)?;
    let db = ctx.db();
    let key = &ctx.args[1];
    peek(ctx.ks, db, key)?;
    let pairs = &ctx.args[2..];
    let n = write(ctx.ks, db, key, "hset", |h| {
        pairs.chunks(2).filter(|p| h.insert(&p[0], &p[1])).count()
    });
    ctx.ks.note_elements(db, key, pairs.iter().step_by(2));
    Ok(n)
}

fn cmd_hset(ctx: &mut Ctx) -> CmdResult<Reply> {
    Ok(Reply::Int(hset(ctx)? as i64))
}

fn cmd_hmset(ctx: &mut Ctx) -> CmdResult<Reply> {
    hset(ctx)?;
    Ok(Reply::Ok)
}

fn cmd_hsetnx(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let (key, field, value) = (&ctx.args[1], &ctx.args[2], &ctx.args[3]);
    if peek(ctx.ks, db, key)?.is_some_and(|h| h.contains(field)) {
        return Ok(Reply::Int(0));
    }
    write(ctx.ks, db, key, "hset", |h| h.insert(field, value));
    ctx.ks.note_elements(db, key, [field]);
    Ok(Reply::Int(1))
}

fn cmd_hget(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let hash = read(ctx.ks, db, &ctx.args[1])?;
    Ok(hash
        .and_then(|h| h.get(&ctx.args[2]))
        .map_or(Reply::Nil, bulk))
}

fn cmd_hmget(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let hash = read(ctx.ks, db, &ctx.args[1])?;
    Ok(Reply::Array(
        ctx.args[2..]
            .iter()
            .map(|f| hash.and_then(|h| h.get(f)).map_or(Reply::Nil, bulk))
            .collect(),
    ))
}

fn cmd_hdel(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let key = &ctx.args[1];
    let fields = &ctx.args[2..];
    let Some(hash) = peek(ctx.ks, db, key)? else {
        return Ok(Reply::Int(0));
    };
    // A call that deletes nothing is not a write (the key's version stays).
    if !fields.iter().any(|f| hash.contains(f)) {
        return Ok(Reply::Int(0));
    }
    let n = write(ctx.ks, db, key, "hdel", |h| {
        fields.iter().filter(|f| h.remove(f)).count()
    });
    ctx.ks.note_elements(db, key, fields);
    Ok(Reply::Int(n as i64))
}

fn cmd_hexists(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let hash = read(ctx.ks, db, &ctx.args[1])?;
    Ok(Reply::Int(
        hash.is_some_and(|h| h.contains(&ctx.args[2])) as i64
    ))
}

fn cmd_hlen(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let hash = read(ctx.ks, db, &ctx.args[1])?;
    Ok(Reply::Int(hash.map_or(0, |h| h.len()) as i64))
}

fn cmd_hstrlen(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let hash = read(ctx.ks, db, &ctx.args[1])?;
    Ok(Reply::Int(
        hash.and_then(|h| h.get(&ctx.args[2]))
            .map_or(0, |v| v.len()) as i64,
    ))
}

fn cmd_hkeys(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let hash = read(ctx.ks, db, &ctx.args[1])?;
    Ok(Reply::Array(
        hash.map(|h| h.iter().map(|(f, _)| bulk(f)).collect())
            .unwrap_or_default(),
    ))
}

fn cmd_hvals(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let hash = read(ctx.ks, db, &ctx.args[1])?;
    Ok(Reply::Array(
        hash.map(|h| h.iter().map(|(_, v)| bulk(v)).collect())
            .unwrap_or_default(),
    ))
}

/// HGETALL: a map in RESP3, a flat field/value array in RESP2.
fn cmd_hgetall(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let hash = read(ctx.ks, db, &ctx.args[1])?;
    Ok(Reply::Map(
        hash.map(|h| h.iter().map(|(f, v)| (bulk(f), bulk(v))).collect())
            .unwrap_or_default(),
    ))
}

fn cmd_hincrby(ctx: &mut Ctx) -> CmdResult<Reply> {
    // Redis checks the increment, then the type, then the stored value.
    let by = int(&ctx.args[3])?;
    let db = ctx.db();
    let (key, field) = (&ctx.args[1], &ctx.args[2]);
    let current = match peek(ctx.ks, db, key)?.and_then(|h| h.get(field)) {
        Some(v) => crate::protocol::parse_i64(v).ok_or_else(|| CmdError::new(NOT_INTEGER_HASH))?,
        None => 0,
    };
    let new = current
        .checked_add(by)
        .ok_or_else(|| CmdError::new(OVERFLOW))?;
    let text = itoa::Buffer::new().format(new).as_bytes().to_vec();
    write(ctx.ks, db, key, "hincrby", |h| h.insert(field, &text));
    ctx.ks.note_elements(db, key, [field]);
    Ok(Reply::Int(new))
}

fn cmd_hincrbyfloat(ctx: &mut Ctx) -> CmdResult<Reply> {
    // Redis checks the increment (a float, and finite), then the type, then the stored value.
    let by = LongDouble::parse(&ctx.args[3]).ok_or_else(|| CmdError::new(NOT_FLOAT))?;
    if by == Ld::Inf {
        return Err(CmdError::new(INCR_NAN_OR_INF));
    }
    let db = ctx.db();
    let (key, field) = (&ctx.args[1], &ctx.args[2]);
    let current = match peek(ctx.ks, db, key)?.and_then(|h| h.get(field)) {
        Some(v) => LongDouble::parse(v).ok_or_else(|| CmdError::new(NOT_FLOAT_HASH))?,
        None => Ld::Finite(LongDouble::ZERO),
    };
    let text = longdouble::incr_by_float(current, by).ok_or_else(|| CmdError::new(NAN_OR_INF))?;
    write(ctx.ks, db, key, "hincrbyfloat", |h| {
        h.insert(field, text.as_bytes())
    });
    ctx.ks.note_elements(db, key, [field]);
    Ok(Reply::Bulk(Bytes::from(text)))
}

/// One HRANDFIELD pick in the reply shape: the field alone, a field then its value (RESP2), or
/// a `[field, value]` pair (RESP3).
fn push_pick(out: &mut Vec<Reply>, f: &Bytes, v: &Bytes, withvalues: bool, resp3: bool) {
    if !withvalues {
        out.push(bulk(f));
    } else if resp3 {
        out.push(Reply::Array(vec![bulk(f), bulk(v)]));
    } else {
        out.push(bulk(f));
        out.push(bulk(v));
    }
}

/// HRANDFIELD key [count [WITHVALUES]]: one random field (nil when missing), or `count`
/// distinct fields (all of them when `count` is at least the size), or with a negative count
/// `-count` independent picks that may repeat.
fn cmd_hrandfield(ctx: &mut Ctx) -> CmdResult<Reply> {
    let argc = ctx.args.len();
    let db = ctx.db();
    let resp3 = ctx.client.protocol == Protocol::Resp3;
    if argc == 2 {
        let Some(h) = read(ctx.ks, db, &ctx.args[1])? else {
            return Ok(Reply::Nil);
        };
        let n = rand::thread_rng().gen_range(0..h.len().max(1));
        return Ok(h.nth(n).map_or(Reply::Nil, |(f, _)| bulk(f)));
    }
    let count = picks::count_arg(&ctx.args[2])?;
    if argc > 4 || (argc == 4 && !is(&ctx.args[3], "WITHVALUES")) {
        return Err(CmdError::syntax());
    }
    let withvalues = argc == 4;
    picks::check_count(count, withvalues)?;
    let Some(h) = read(ctx.ks, db, &ctx.args[1])? else {
        return Ok(Reply::Array(Vec::new()));
    };
    let mut out = Vec::new();
    for (f, v) in picks::positions(h.len(), count)
        .into_iter()
        .filter_map(|i| h.nth(i))
    {
        push_pick(&mut out, f, v, withvalues, resp3);
    }
    Ok(Reply::Array(out))
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]. A listpack hash answers every
/// field at once with cursor 0, as Redis does; a hash-table one is walked COUNT positions at a
/// time ([`position_scan`](super::args::position_scan) says why that misses nothing).
fn cmd_hscan(ctx: &mut Ctx) -> CmdResult<Reply> {
    let cursor = parse_cursor(&ctx.args[2])?;
    let db = ctx.db();
    // As in Redis, a missing key answers an empty scan whatever the options say.
    let opts = super::args::collection_scan_options(ctx.args);
    let Some(h) = read(ctx.ks, db, &ctx.args[1])? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let opts = opts?;
    let (range, next) = opts.positions(h.len(), cursor, h.encoding() == "hashtable");
    let mut items = Vec::new();
    for (f, v) in range.filter_map(|i| h.nth(i)) {
        if opts.matches(f) {
            items.push(bulk(f));
            items.push(bulk(v));
        }
    }
    Ok(scan_reply(next, items))
}

/// This family's commands: [`command!`](super::command) with the group fixed.
macro_rules! cmd {
    ($($spec:tt)*) => {
        super::command!("hash", $($spec)*)
    };
}

pub const COMMANDS: &[CommandSpec] = &[
    cmd!("hset", -4, WRITE | DENYOOM | FAST, KeySpec::ONE, "2.0.0",
        "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.",
        "Creates or modifies the value of a field in a hash.", cmd_hset),
    cmd!("hsetnx", 4, WRITE | DENYOOM | FAST, KeySpec::ONE, "2.0.0", "O(1)",
        "Sets the value of a field in a hash only when the field doesn't exist.", cmd_hsetnx),
    cmd!("hget", 3, READONLY | FAST | ELEMENT_READ, KeySpec::ONE, "2.0.0", "O(1)", "Returns the value of a field in a hash.",
        cmd_hget),
    cmd!("hmget", -3, READONLY | FAST | ELEMENT_READ, KeySpec::ONE, "2.0.0",
        "O(N) where N is the number of fields being requested.", "Returns the values of all fields in a hash.",
        cmd_hmget),
    cmd!("hmset", -4, WRITE | DENYOOM | FAST, KeySpec::ONE, "2.0.0", "O(N) where N is the number of fields being set.",
        "Sets the values of multiple fields.", cmd_hmset),
    cmd!("hdel", -3, WRITE | FAST, KeySpec::ONE, "2.0.0", "O(N) where N is the number of fields to be removed.",
        "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.", cmd_hdel),
    cmd!("hexists", 3, READONLY | FAST | ELEMENT_READ, KeySpec::ONE, "2.0.0", "O(1)",
        "Determines whether a field exists in a hash.", cmd_hexists),
    cmd!("hlen", 2, READONLY | FAST, KeySpec::ONE, "2.0.0", "O(1)", "Returns the number of fields in a hash.",
        cmd_hlen),
    cmd!("hstrlen", 3, READONLY | FAST | ELEMENT_READ, KeySpec::ONE, "3.2.0", "O(1)", "Returns the length of the value of a field.",
        cmd_hstrlen),
    cmd!("hkeys", 2, READONLY, KeySpec::ONE, "2.0.0", "O(N) where N is the size of the hash.",
        "Returns all fields in a hash.", cmd_hkeys),
    cmd!("hvals", 2, READONLY, KeySpec::ONE, "2.0.0", "O(N) where N is the size of the hash.",
        "Returns all values in a hash.", cmd_hvals),
    cmd!("hgetall", 2, READONLY, KeySpec::ONE, "2.0.0", "O(N) where N is the size of the hash.",
        "Returns all fields and values in a hash.", cmd_hgetall),
    cmd!("hincrby", 4, WRITE | DENYOOM | FAST, KeySpec::ONE, "2.0.0", "O(1)",
        "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.",
        cmd_hincrby),
    cmd!("hincrbyfloat", 4, WRITE | DENYOOM | FAST, KeySpec::ONE, "2.6.0", "O(1)",
        "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.",
        cmd_hincrbyfloat),
    cmd!("hrandfield", -2, READONLY, KeySpec::ONE, "6.2.0", "O(N) where N is the number of fields returned",
        "Returns one or more random fields from a hash.", cmd_hrandfield),
    cmd!("hscan", -3, READONLY, KeySpec::ONE, "2.8.0",
        "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the size of the collection.",
        "Iterates over fields and values of a hash.", cmd_hscan),
];
