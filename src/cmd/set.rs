//! Set commands: SADD SREM SISMEMBER SMISMEMBER SCARD SMEMBERS SPOP SRANDMEMBER SMOVE SINTER
//! SUNION SDIFF SINTERCARD SINTERSTORE SUNIONSTORE SDIFFSTORE SSCAN.
//!
//! A set is `Value::Set(Arc<SetValue>)` (src/types/set.rs). Reads borrow it under the shard
//! lock (the multi-key ones clone the `Arc`s, which is cheap); writes check the type with `peek`
//! first (so a refused or no-op write does not change the key's version, which WATCH observes),
//! then modify it through `Arc::make_mut`. A set left without members is removed, as in Redis,
//! and a STORE whose result is empty deletes its destination. Multi-key commands lock every
//! shard their keys live in (their `KeySpec` names all the keys). SSCAN answers a small set in
//! one call and walks a hash-table one COUNT positions at a time, like HSCAN. SINTERCARD's keys follow its numkeys argument
//! (`KeySpec::numkeys`), so dispatch locks the shards of exactly the keys it counts.

use std::sync::Arc;

use bytes::Bytes;
use rand::Rng;

use super::args::{int, is};
use super::keys::{parse_cursor, scan_reply};
use super::picks;
use super::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult};
use crate::keyspace::{class, Entry, Locked};
use crate::protocol::Reply;
use crate::types::{SetValue, Value};

/// Redis's SPOP_MOVE_STRATEGY_MUL (see `cmd_spop`).
const SPOP_MOVE_STRATEGY_MUL: usize = 5;

/// The set stored in `entry`, or WRONGTYPE.
pub fn as_set(entry: &Entry) -> CmdResult<&Arc<SetValue>> {
    match &entry.value {
        Value::Set(s) => Ok(s),
        _ => Err(CmdError::wrongtype()),
    }
}

/// The set at `key` for reading (an access, a hit or a miss), None when missing.
fn read<'a>(ks: &'a mut Locked, db: usize, key: &[u8]) -> CmdResult<Option<&'a Arc<SetValue>>> {
    match ks.get(db, key) {
        Some(e) => Ok(Some(as_set(e)?)),
        None => Ok(None),
    }
}

/// The set at `key` without recording an access (a write's checks), None when missing.
fn peek<'a>(ks: &'a mut Locked, db: usize, key: &[u8]) -> CmdResult<Option<&'a Arc<SetValue>>> {
    match ks.peek(db, key) {
        Some(e) => Ok(Some(as_set(e)?)),
        None => Ok(None),
    }
}

/// Applies `f` to the set at `key`, creating it with `create` when missing, and removes the
/// key if `f` leaves it empty. The caller has checked the type (WRONGTYPE) already. Reports
/// `event` (when given) and then `del` if the key went, as Redis does.
fn write<R>(
    ks: &mut Locked,
    db: usize,
    key: &[u8],
    event: Option<&'static str>,
    create: impl FnOnce() -> SetValue,
    f: impl FnOnce(&mut SetValue) -> R,
) -> R {
    if let Some(entry) = ks.get_mut(db, key) {
        if let Value::Set(s) = &mut entry.value {
            let set = Arc::make_mut(s);
            let r = f(set);
            let emptied = set.is_empty();
            if let Some(event) = event {
                ks.notify(class::SET, event, db, key);
            }
            if emptied {
                ks.remove(db, key);
                ks.notify(class::GENERIC, "del", db, key);
            }
            return r;
        }
    }
    let mut set = create();
    let r = f(&mut set);
    if !set.is_empty() {
        ks.set(db, key, Value::Set(Arc::new(set)), 0);
        if let Some(event) = event {
            ks.notify(class::SET, event, db, key);
        }
    }
    r
}

fn bulk(b: &Bytes) -> Reply {
    Reply::Bulk(super::strings::share_or_copy(b))
}

fn cmd_sadd(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let key = &ctx.args[1];
    let members = &ctx.args[2..];
    // A call that adds nothing is not a write (the key's version stays).
    if peek(ctx.ks, db, key)?.is_some_and(|s| members.iter().all(|m| s.contains(m))) {
        return Ok(Reply::Int(0));
    }
    let n = write(
        ctx.ks,
        db,
        key,
        Some("sadd"),
        || SetValue::with_hint(&members[0], members.len()),
        |s| {
            s.reserve_hint(members.len());
            members.iter().filter(|m| s.insert(m)).count()
        },
    );
    ctx.ks.note_elements(db, key, members);
    Ok(Reply::Int(n as i64))
}

fn cmd_srem(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let key = &ctx.args[1];
    let members = &ctx.args[2..];
    let Some(set) = peek(ctx.ks, db, key)? else {
        return Ok(Reply::Int(0));
    };
    // A call that removes nothing is not a write (the key's version stays).
    if !members.iter().any(|m| set.contains(m)) {
        return Ok(Reply::Int(0));
    }
    let n = write(ctx.ks, db, key, Some("srem"), SetValue::new, |s| {
        members.iter().filter(|m| s.remove(m)).count()
    });
    ctx.ks.note_elements(db, key, members);
    Ok(Reply::Int(n as i64))
}

fn cmd_sismember(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let set = read(ctx.ks, db, &ctx.args[1])?;
    Ok(Reply::Int(
        set.is_some_and(|s| s.contains(&ctx.args[2])) as i64
    ))
}

fn cmd_smismember(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let set = read(ctx.ks, db, &ctx.args[1])?;
    Ok(Reply::Array(
        ctx.args[2..]
            .iter()
            .map(|m| Reply::Int(set.is_some_and(|s| s.contains(m)) as i64))
            .collect(),
    ))
}

fn cmd_scard(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let set = read(ctx.ks, db, &ctx.args[1])?;
    Ok(Reply::Int(set.map_or(0, |s| s.len()) as i64))
}

fn cmd_smembers(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let set = read(ctx.ks, db, &ctx.args[1])?;
    Ok(Reply::Set(
        set.map(|s| s.iter().map(bulk).collect())
            .unwrap_or_default(),
    ))
}

/// SPOP key [count]: one random member removed (nil when missing), or up to `count` of them
/// (a set reply in RESP3, as Redis sends).
fn cmd_spop(ctx: &mut Ctx) -> CmdResult<Reply> {
    let argc = ctx.args.len();
    if argc > 3 {
        return Err(CmdError::syntax());
    }
    let count = if argc == 3 {
        let n = int(&ctx.args[2])?;
        if n < 0 {
            return Err(CmdError::new("ERR value is out of range, must be positive"));
        }
        Some(n as u64)
    } else {
        None
    };
    let db = ctx.db();
    let key = &ctx.args[1];
    let Some(set) = peek(ctx.ks, db, key)? else {
        return Ok(if count.is_some() {
            Reply::Set(Vec::new())
        } else {
            Reply::Nil
        });
    };
    let len = set.len();
    let want = count.map_or(1, |c| c.min(len as u64) as usize);
    if want == 0 {
        return Ok(Reply::Set(Vec::new()));
    }
    // Distinct random positions: O(want), not O(size of the set).
    let picked: Vec<Bytes> = picks::positions(len, want as i64)
        .into_iter()
        .filter_map(|i| set.nth(i).cloned())
        .collect();
    // Redis pops most of a set by building a new one from the members that stay (when fewer
    // than a fifth of `count` remain), which resets the reported encoding.
    let rebuild = count.is_some() && (len - want) * SPOP_MOVE_STRATEGY_MUL <= want;
    let popped = write(ctx.ks, db, key, Some("spop"), SetValue::new, |s| {
        for m in &picked {
            s.remove(m);
        }
        if rebuild && !s.is_empty() {
            s.rebuild_encoding();
        }
        picked
    });
    ctx.ks.note_elements(db, key, &popped);
    Ok(match count {
        None => popped.first().map_or(Reply::Nil, bulk),
        Some(_) => Reply::Set(popped.iter().map(bulk).collect()),
    })
}

/// SRANDMEMBER key [count]: one random member (nil when missing), or `count` distinct members
/// (all of them when `count` is at least the size), or with a negative count `-count`
/// independent picks that may repeat.
fn cmd_srandmember(ctx: &mut Ctx) -> CmdResult<Reply> {
    let argc = ctx.args.len();
    if argc > 3 {
        return Err(CmdError::syntax());
    }
    let db = ctx.db();
    if argc == 2 {
        let Some(s) = read(ctx.ks, db, &ctx.args[1])? else {
            return Ok(Reply::Nil);
        };
        let n = rand::thread_rng().gen_range(0..s.len().max(1));
        return Ok(s.nth(n).map_or(Reply::Nil, bulk));
    }
    let count = picks::count_arg(&ctx.args[2])?;
    picks::check_count(count, false)?;
    let Some(s) = read(ctx.ks, db, &ctx.args[1])? else {
        return Ok(Reply::Array(Vec::new()));
    };
    let out = picks::positions(s.len(), count)
        .into_iter()
        .filter_map(|i| s.nth(i).map(bulk))
        .collect();
    Ok(Reply::Array(out))
}

/// SMOVE source destination member.
fn cmd_smove(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let (src, dst, member) = (&ctx.args[1], &ctx.args[2], &ctx.args[3]);
    // Redis checks both types before anything else.
    let in_src = peek(ctx.ks, db, src)?.map(|s| s.contains(member));
    let in_dst = peek(ctx.ks, db, dst)?.is_some_and(|s| s.contains(member));
    let Some(in_src) = in_src else {
        return Ok(Reply::Int(0));
    };
    if src == dst || !in_src {
        return Ok(Reply::Int(in_src as i64));
    }
    write(ctx.ks, db, src, Some("srem"), SetValue::new, |s| {
        s.remove(member)
    });
    ctx.ks.note_elements(db, src, [member]);
    // A member the destination already has leaves it untouched (no new version, no event), so
    // a WATCH on it is not broken, as in Redis.
    if !in_dst {
        write(
            ctx.ks,
            db,
            dst,
            None,
            || SetValue::with_hint(member, 1),
            |s| s.insert(member),
        );
        ctx.ks.note_elements(db, dst, [member]);
        ctx.ks.notify(class::SET, "sadd", db, dst);
    }
    Ok(Reply::Int(1))
}

/// The sets at `keys` (None for a missing key), with every key's type checked.
fn sets_at(ctx: &mut Ctx, keys: &[Bytes]) -> CmdResult<Vec<Option<Arc<SetValue>>>> {
    let db = ctx.db();
    keys.iter()
        .map(|k| Ok(read(ctx.ks, db, k)?.cloned()))
        .collect()
}

#[derive(Clone, Copy)]
enum Op {
    Inter,
    Union,
    Diff,
}

/// The members of the intersection, union or difference of the sets at `keys`.
fn combine(ctx: &mut Ctx, keys: &[Bytes], op: Op) -> CmdResult<Vec<Bytes>> {
    let sets = sets_at(ctx, keys)?;
    Ok(match op {
        Op::Inter => {
            if sets.iter().any(|s| s.is_none()) {
                return Ok(Vec::new());
            }
            let mut sets: Vec<Arc<SetValue>> = sets.into_iter().flatten().collect();
            sets.sort_by_key(|s| s.len());
            let Some((smallest, rest)) = sets.split_first() else {
                return Ok(Vec::new());
            };
            smallest
                .iter()
                .filter(|m| rest.iter().all(|s| s.contains(m)))
                .cloned()
                .collect()
        }
        Op::Union => {
            let mut out = SetValue::new();
            for s in sets.iter().flatten() {
                for m in s.iter() {
                    out.insert_bytes(m.clone());
                }
            }
            out.iter().cloned().collect()
        }
        Op::Diff => {
            let Some(Some(first)) = sets.first() else {
                return Ok(Vec::new());
            };
            let others: Vec<&Arc<SetValue>> = sets[1..].iter().flatten().collect();
            first
                .iter()
                .filter(|m| !others.iter().any(|s| s.contains(m)))
                .cloned()
                .collect()
        }
    })
}

fn read_combined(ctx: &mut Ctx, op: Op) -> CmdResult<Reply> {
    let members = combine(ctx, &ctx.args[1..], op)?;
    Ok(Reply::Set(members.iter().map(bulk).collect()))
}

/// The STORE forms: the result replaces `destination` (whatever it held, TTL included), or
/// deletes it when empty; the reply is the result's size.
fn store_combined(ctx: &mut Ctx, op: Op, event: &'static str) -> CmdResult<Reply> {
    let members = combine(ctx, &ctx.args[2..], op)?;
    let db = ctx.db();
    let dst = &ctx.args[1];
    if members.is_empty() {
        if ctx.ks.remove(db, dst).is_some() {
            ctx.ks.notify(class::GENERIC, "del", db, dst);
        }
        return Ok(Reply::Int(0));
    }
    let mut set = SetValue::new();
    for m in members {
        set.insert_bytes(Bytes::copy_from_slice(&m));
    }
    let n = set.len();
    ctx.ks.set(db, dst, Value::Set(Arc::new(set)), 0);
    ctx.ks.notify(class::SET, event, db, dst);
    Ok(Reply::Int(n as i64))
}

fn cmd_sinter(ctx: &mut Ctx) -> CmdResult<Reply> {
    read_combined(ctx, Op::Inter)
}

fn cmd_sunion(ctx: &mut Ctx) -> CmdResult<Reply> {
    read_combined(ctx, Op::Union)
}

fn cmd_sdiff(ctx: &mut Ctx) -> CmdResult<Reply> {
    read_combined(ctx, Op::Diff)
}

fn cmd_sinterstore(ctx: &mut Ctx) -> CmdResult<Reply> {
    store_combined(ctx, Op::Inter, "sinterstore")
}

fn cmd_sunionstore(ctx: &mut Ctx) -> CmdResult<Reply> {
    store_combined(ctx, Op::Union, "sunionstore")
}

fn cmd_sdiffstore(ctx: &mut Ctx) -> CmdResult<Reply> {
    store_combined(ctx, Op::Diff, "sdiffstore")
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]: the size of the intersection, counting
/// stops at `limit` (0: no limit).
fn cmd_sintercard(ctx: &mut Ctx) -> CmdResult<Reply> {
    const NUMKEYS: &str = "ERR numkeys should be greater than 0";
    let numkeys = crate::protocol::parse_i64(&ctx.args[1])
        .filter(|&n| n > 0)
        .ok_or_else(|| CmdError::new(NUMKEYS))?;
    let argc = ctx.args.len();
    if numkeys as u64 > (argc - 2) as u64 {
        return Err(CmdError::new(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    let keys_end = 2 + numkeys as usize;
    let mut limit = 0u64;
    let mut i = keys_end;
    while i < argc {
        if is(&ctx.args[i], "LIMIT") && i + 1 < argc {
            i += 1;
            limit = crate::protocol::parse_i64(&ctx.args[i])
                .filter(|&n| n >= 0)
                .ok_or_else(|| CmdError::new("ERR LIMIT can't be negative"))?
                as u64;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    let sets = sets_at(ctx, &ctx.args[2..keys_end])?;
    if sets.iter().any(|s| s.is_none()) {
        return Ok(Reply::Int(0));
    }
    let mut sets: Vec<Arc<SetValue>> = sets.into_iter().flatten().collect();
    sets.sort_by_key(|s| s.len());
    let Some((smallest, rest)) = sets.split_first() else {
        return Ok(Reply::Int(0));
    };
    let mut n = 0u64;
    for m in smallest.iter() {
        if rest.iter().all(|s| s.contains(m)) {
            n += 1;
            if n == limit {
                break;
            }
        }
    }
    Ok(Reply::Int(n as i64))
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]. An intset or listpack set answers every
/// member at once with cursor 0, as Redis does; a hash-table set is walked COUNT positions at a
/// time ([`position_scan`](super::args::position_scan) says why that misses nothing).
fn cmd_sscan(ctx: &mut Ctx) -> CmdResult<Reply> {
    let cursor = parse_cursor(&ctx.args[2])?;
    let db = ctx.db();
    // As in Redis, a missing key answers an empty scan whatever the options say.
    let opts = super::args::collection_scan_options(ctx.args);
    let Some(s) = read(ctx.ks, db, &ctx.args[1])? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let opts = opts?;
    let (range, next) = opts.positions(s.len(), cursor, s.encoding() == "hashtable");
    let items = range
        .filter_map(|i| s.nth(i))
        .filter(|m| opts.matches(m))
        .map(bulk)
        .collect();
    Ok(scan_reply(next, items))
}

/// This family's commands: [`command!`](super::command) with the group fixed.
macro_rules! cmd {
    ($($spec:tt)*) => {
        super::command!("set", $($spec)*)
    };
}

pub const COMMANDS: &[CommandSpec] = &[
    cmd!("sadd", -3, WRITE | DENYOOM | FAST, KeySpec::ONE, "1.0.0",
        "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        "Adds one or more members to a set. Creates the key if it doesn't exist.", cmd_sadd),
    cmd!("srem", -3, WRITE | FAST, KeySpec::ONE, "1.0.0", "O(N) where N is the number of members to be removed.",
        "Removes one or more members from a set. Deletes the set if the last member was removed.", cmd_srem),
    cmd!("sismember", 3, READONLY | FAST | ELEMENT_READ, KeySpec::ONE, "1.0.0", "O(1)",
        "Determines whether a member belongs to a set.", cmd_sismember),
    cmd!("smismember", -3, READONLY | FAST | ELEMENT_READ, KeySpec::ONE, "6.2.0",
        "O(N) where N is the number of elements being checked for membership",
        "Determines whether multiple members belong to a set.", cmd_smismember),
    cmd!("scard", 2, READONLY | FAST, KeySpec::ONE, "1.0.0", "O(1)", "Returns the number of members in a set.",
        cmd_scard),
    cmd!("smembers", 2, READONLY, KeySpec::ONE, "1.0.0", "O(N) where N is the set cardinality.",
        "Returns all members of a set.", cmd_smembers),
    cmd!("spop", -2, WRITE | FAST, KeySpec::ONE, "1.0.0",
        "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
        "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.",
        cmd_spop),
    cmd!("srandmember", -2, READONLY, KeySpec::ONE, "1.0.0",
        "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
        "Get one or multiple random members from a set", cmd_srandmember),
    cmd!("smove", 4, WRITE | FAST, KeySpec::range(1, 2, 1), "1.0.0", "O(1)",
        "Moves a member from one set to another.", cmd_smove),
    cmd!("sinter", -2, READONLY, KeySpec::ALL, "1.0.0",
        "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        "Returns the intersect of multiple sets.", cmd_sinter),
    cmd!("sintercard", -3, READONLY, KeySpec::numkeys(1), "7.0.0",
        "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        "Returns the number of members of the intersect of multiple sets.", cmd_sintercard),
    cmd!("sinterstore", -3, WRITE | DENYOOM, KeySpec::ALL, "1.0.0",
        "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        "Stores the intersect of multiple sets in a key.", cmd_sinterstore),
    cmd!("sunion", -2, READONLY, KeySpec::ALL, "1.0.0",
        "O(N) where N is the total number of elements in all given sets.",
        "Returns the union of multiple sets.", cmd_sunion),
    cmd!("sunionstore", -3, WRITE | DENYOOM, KeySpec::ALL, "1.0.0",
        "O(N) where N is the total number of elements in all given sets.",
        "Stores the union of multiple sets in a key.", cmd_sunionstore),
    cmd!("sdiff", -2, READONLY, KeySpec::ALL, "1.0.0",
        "O(N) where N is the total number of elements in all given sets.",
        "Returns the difference of multiple sets.", cmd_sdiff),
    cmd!("sdiffstore", -3, WRITE | DENYOOM, KeySpec::ALL, "1.0.0",
        "O(N) where N is the total number of elements in all given sets.",
        "Stores the difference of multiple sets in a key.", cmd_sdiffstore),
    cmd!("sscan", -3, READONLY, KeySpec::ONE, "2.8.0",
        "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the size of the collection.",
        "Iterates over members of a set.", cmd_sscan),
];
