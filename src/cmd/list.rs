//! List commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LINSERT LREM LTRIM
//! LPOS LMOVE RPOPLPUSH LMPOP, and the blocking BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP.
//!
//! A list is `Value::List(Arc<ListValue>)` (src/types/list.rs). Reads borrow it under the shard
//! lock; writes check the type with `peek` first (a refused or no-op write keeps the key's
//! version), then change it through `Arc::make_mut`. A list left without elements is removed
//! with a "del" event, as in Redis. Each blocking command is its non-blocking attempt (a
//! `try_*` function, [`TryServe`](crate::server::blocking::TryServe)) handed to
//! [`block_or_reply`]: it either answers at once or registers the client as waiting; the
//! registry re-runs the same attempt when a push creates one of its keys.

use std::sync::Arc;

use bytes::Bytes;

use super::args::{int, is};
use super::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult};
use crate::keyspace::journal::ListOp;
use crate::keyspace::{class, Entry, Locked};
use crate::protocol::{parse_i64, Reply};
use crate::server::blocking::{block_or_reply, parse_timeout};
use crate::server::Server;
use crate::types::list::End;
use crate::types::{ListValue, Value};

const NO_SUCH_KEY: &str = "ERR no such key";
const INDEX_OUT_OF_RANGE: &str = "ERR index out of range";
const MUST_BE_POSITIVE: &str = "ERR value is out of range, must be positive";

/// The list stored in `entry`, or WRONGTYPE.
pub fn as_list(entry: &Entry) -> CmdResult<&Arc<ListValue>> {
    match &entry.value {
        Value::List(l) => Ok(l),
        _ => Err(CmdError::wrongtype()),
    }
}

/// The list at `key` for reading (an access, a hit or a miss), None when missing.
fn read<'a>(ks: &'a mut Locked, db: usize, key: &[u8]) -> CmdResult<Option<&'a Arc<ListValue>>> {
    match ks.get(db, key) {
        Some(e) => Ok(Some(as_list(e)?)),
        None => Ok(None),
    }
}

/// The list at `key` without recording an access (a write's checks), None when missing.
fn peek<'a>(ks: &'a mut Locked, db: usize, key: &[u8]) -> CmdResult<Option<&'a Arc<ListValue>>> {
    match ks.peek(db, key) {
        Some(e) => Ok(Some(as_list(e)?)),
        None => Ok(None),
    }
}

/// The list at `key` for writing (a new version); the caller has checked the type.
fn list_mut<'a>(ks: &'a mut Locked, db: usize, key: &[u8]) -> Option<&'a mut ListValue> {
    match &mut ks.get_mut(db, key)?.value {
        Value::List(l) => Some(Arc::make_mut(l)),
        _ => None,
    }
}

/// The list at `key` for writing, in one lookup: WRONGTYPE (the key's version unchanged) for
/// another type, None when missing.
fn checked_list_mut<'a>(
    ks: &'a mut Locked,
    db: usize,
    key: &[u8],
) -> CmdResult<Option<&'a mut ListValue>> {
    let entry = ks.get_mut_checked(db, key, |e| as_list(e).map(|_| ()))?;
    Ok(entry.and_then(|e| match &mut e.value {
        Value::List(l) => Some(Arc::make_mut(l)),
        _ => None,
    }))
}

/// Removes `key` with a "del" event when its list has no elements left.
fn remove_if_empty(ks: &mut Locked, db: usize, key: &[u8]) -> bool {
    let empty = matches!(ks.peek(db, key).map(|e| &e.value), Some(Value::List(l)) if l.is_empty());
    if empty {
        ks.remove(db, key);
        ks.notify(class::GENERIC, "del", db, key);
    }
    empty
}

fn bulk(b: &Bytes) -> Reply {
    Reply::Bulk(super::strings::share_or_copy(b))
}

fn end_event(end: End, push: bool) -> &'static str {
    match (end, push) {
        (End::Left, true) => "lpush",
        (End::Right, true) => "rpush",
        (End::Left, false) => "lpop",
        (End::Right, false) => "rpop",
    }
}

/// LEFT or RIGHT (syntax error otherwise).
fn parse_end(arg: &[u8]) -> CmdResult<End> {
    if is(arg, "LEFT") {
        Ok(End::Left)
    } else if is(arg, "RIGHT") {
        Ok(End::Right)
    } else {
        Err(CmdError::syntax())
    }
}

/// Pushes `elements` at `end` of the list at `key` (created unless `only_existing`); the new
/// length, or 0 when nothing was pushed. WRONGTYPE when the key holds another type.
pub fn op_push(
    ks: &mut Locked,
    db: usize,
    key: &[u8],
    end: End,
    elements: &[Bytes],
    only_existing: bool,
) -> CmdResult<usize> {
    let fill = crate::types::limits::list_fill();
    let elems = elements.iter().map(|e| &e[..]);
    let len = match checked_list_mut(ks, db, key)? {
        Some(l) => {
            l.push(fill, end, elems);
            l.len()
        }
        None if only_existing => return Ok(0),
        None => {
            let mut l = ListValue::new();
            l.push(fill, end, elems);
            let n = l.len();
            ks.set(db, key, Value::List(Arc::new(l)), 0);
            n
        }
    };
    ks.note_list(db, key, || push_op(end, elements.to_vec()));
    ks.notify(class::LIST, end_event(end, true), db, key);
    Ok(len)
}

/// Pops up to `count` elements from `end` of the list at `key` (None when missing), with the
/// pop event, and the key's removal when emptied. The caller has checked the type.
pub fn op_pop(
    ks: &mut Locked,
    db: usize,
    key: &[u8],
    end: End,
    count: usize,
) -> Option<Vec<Bytes>> {
    let fill = crate::types::limits::list_fill();
    let l = list_mut(ks, db, key)?;
    let popped = l.pop(fill, end, count);
    let emptied = l.is_empty();
    ks.note_list(db, key, || pop_op(end, popped.len()));
    popped_from(ks, db, key, end, emptied);
    Some(popped)
}

/// Pops one element from `end` of the list at `key` (None when missing), as [`op_pop`].
pub fn op_pop_one(ks: &mut Locked, db: usize, key: &[u8], end: End) -> Option<Bytes> {
    let fill = crate::types::limits::list_fill();
    let l = list_mut(ks, db, key)?;
    let popped = l.pop_one(fill, end);
    let emptied = l.is_empty();
    ks.note_list(db, key, || pop_op(end, popped.is_some() as usize));
    popped_from(ks, db, key, end, emptied);
    popped
}

/// The binlog's record of a push (see `Locked::note_list`).
fn push_op(end: End, elements: Vec<Bytes>) -> ListOp {
    ListOp::Push {
        left: end == End::Left,
        elements,
    }
}

fn pop_op(end: End, count: usize) -> ListOp {
    ListOp::Pop {
        left: end == End::Left,
        count: count as u64,
    }
}

/// The pop event, and the removal of an emptied list with its "del" event.
fn popped_from(ks: &mut Locked, db: usize, key: &[u8], end: End, emptied: bool) {
    ks.notify(class::LIST, end_event(end, false), db, key);
    if emptied {
        ks.remove(db, key);
        ks.notify(class::GENERIC, "del", db, key);
    }
}

/// Moves one element from `from` of `src` to `to` of `dst` (LMOVE); None when `src` is
/// missing. Checks both types (WRONGTYPE).
pub fn op_move(
    ks: &mut Locked,
    db: usize,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
) -> CmdResult<Option<Bytes>> {
    if peek(ks, db, src)?.is_none() {
        return Ok(None);
    }
    peek(ks, db, dst)?;
    let fill = crate::types::limits::list_fill();
    let Some(element) = list_mut(ks, db, src).and_then(|l| l.pop_one(fill, from)) else {
        return Ok(None);
    };
    ks.note_list(db, src, || pop_op(from, 1));
    match list_mut(ks, db, dst) {
        Some(l) => l.push_one(fill, to, element.clone()),
        None => {
            let mut l = ListValue::new();
            l.push_one(fill, to, element.clone());
            ks.set(db, dst, Value::List(Arc::new(l)), 0);
        }
    }
    ks.note_list(db, dst, || push_op(to, vec![element.clone()]));
    ks.notify(class::LIST, end_event(to, true), db, dst);
    ks.notify(class::LIST, end_event(from, false), db, src);
    remove_if_empty(ks, db, src);
    Ok(Some(element))
}

fn push(ctx: &mut Ctx, end: End, only_existing: bool) -> CmdResult<Reply> {
    let db = ctx.db();
    let n = op_push(ctx.ks, db, &ctx.args[1], end, &ctx.args[2..], only_existing)?;
    Ok(Reply::Int(n as i64))
}

fn cmd_lpush(ctx: &mut Ctx) -> CmdResult<Reply> {
    push(ctx, End::Left, false)
}

fn cmd_rpush(ctx: &mut Ctx) -> CmdResult<Reply> {
    push(ctx, End::Right, false)
}

fn cmd_lpushx(ctx: &mut Ctx) -> CmdResult<Reply> {
    push(ctx, End::Left, true)
}

fn cmd_rpushx(ctx: &mut Ctx) -> CmdResult<Reply> {
    push(ctx, End::Right, true)
}

/// LPOP/RPOP key [count]: one element (nil when missing), or with a count an array of up to
/// `count` (a null array when missing).
fn pop(ctx: &mut Ctx, end: End) -> CmdResult<Reply> {
    if ctx.args.len() > 3 {
        return Err(CmdError::arity(ctx.spec.name));
    }
    let count = match ctx.args.get(2) {
        Some(arg) => {
            let n = int(arg)?;
            if n < 0 {
                return Err(CmdError::new(MUST_BE_POSITIVE));
            }
            Some(n as u64)
        }
        None => None,
    };
    let db = ctx.db();
    let key = &ctx.args[1];
    if count.is_none() {
        // The common case in one lookup.
        let fill = crate::types::limits::list_fill();
        let Some(l) = checked_list_mut(ctx.ks, db, key)? else {
            return Ok(Reply::Nil);
        };
        let popped = l.pop_one(fill, end);
        let emptied = l.is_empty();
        popped_from(ctx.ks, db, key, end, emptied);
        // A popped element is no longer stored: it goes to the reply as it is.
        return Ok(popped.map_or(Reply::Nil, Reply::Bulk));
    }
    if peek(ctx.ks, db, key)?.is_none() {
        return Ok(Reply::NilArray);
    }
    if count == Some(0) {
        return Ok(Reply::Array(Vec::new()));
    }
    Ok(match count {
        None => Reply::Nil,
        Some(c) => {
            let want = usize::try_from(c).unwrap_or(usize::MAX);
            let popped = op_pop(ctx.ks, db, key, end, want).unwrap_or_default();
            Reply::Array(popped.into_iter().map(Reply::Bulk).collect())
        }
    })
}

fn cmd_lpop(ctx: &mut Ctx) -> CmdResult<Reply> {
    pop(ctx, End::Left)
}

fn cmd_rpop(ctx: &mut Ctx) -> CmdResult<Reply> {
    pop(ctx, End::Right)
}

fn cmd_llen(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let list = read(ctx.ks, db, &ctx.args[1])?;
    Ok(Reply::Int(list.map_or(0, |l| l.len()) as i64))
}

/// Redis's index arithmetic for LRANGE/LTRIM: the inclusive range `start..=end` clamped to a
/// list of `len`, None when empty.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let end = if end < 0 { len + end } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

fn cmd_lrange(ctx: &mut Ctx) -> CmdResult<Reply> {
    let start = int(&ctx.args[2])?;
    let end = int(&ctx.args[3])?;
    let db = ctx.db();
    let Some(list) = read(ctx.ks, db, &ctx.args[1])? else {
        return Ok(Reply::Array(Vec::new()));
    };
    Ok(Reply::Array(match clamp_range(start, end, list.len()) {
        Some((s, e)) => list.range(s, e).map(bulk).collect(),
        None => Vec::new(),
    }))
}

/// A list index (negative counts from the tail) as a position, None when out of range.
fn position(index: i64, len: usize) -> Option<usize> {
    let i = if index < 0 { len as i64 + index } else { index };
    (i >= 0 && (i as u64) < len as u64).then_some(i as usize)
}

fn cmd_lindex(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let Some(list) = read(ctx.ks, db, &ctx.args[1])? else {
        return Ok(Reply::Nil);
    };
    let index = int(&ctx.args[2])?;
    Ok(position(index, list.len())
        .and_then(|i| list.get(i))
        .map_or(Reply::Nil, bulk))
}

fn cmd_lset(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let key = &ctx.args[1];
    let Some(list) = peek(ctx.ks, db, key)? else {
        return Err(CmdError::new(NO_SUCH_KEY));
    };
    let index = int(&ctx.args[2])?;
    let Some(i) = position(index, list.len()) else {
        return Err(CmdError::new(INDEX_OUT_OF_RANGE));
    };
    let fill = crate::types::limits::list_fill();
    if let Some(l) = list_mut(ctx.ks, db, key) {
        l.set(fill, i, &ctx.args[3]);
    }
    ctx.ks.note_list(db, key, || ListOp::Set {
        index: i as u64,
        element: ctx.args[3].clone(),
    });
    ctx.ks.notify(class::LIST, "lset", db, key);
    Ok(Reply::Ok)
}

/// LINSERT key BEFORE|AFTER pivot element: the new length, -1 without the pivot, 0 when the
/// key is missing.
fn cmd_linsert(ctx: &mut Ctx) -> CmdResult<Reply> {
    let after = if is(&ctx.args[2], "AFTER") {
        true
    } else if is(&ctx.args[2], "BEFORE") {
        false
    } else {
        return Err(CmdError::syntax());
    };
    let db = ctx.db();
    let key = &ctx.args[1];
    let (pivot, element) = (&ctx.args[3], &ctx.args[4]);
    let Some(list) = peek(ctx.ks, db, key)? else {
        return Ok(Reply::Int(0));
    };
    if !list.iter().any(|e| e == pivot) {
        return Ok(Reply::Int(-1));
    }
    let fill = crate::types::limits::list_fill();
    let mut len = 0;
    if let Some(l) = list_mut(ctx.ks, db, key) {
        l.insert(fill, pivot, after, element);
        len = l.len();
    }
    ctx.ks.notify(class::LIST, "linsert", db, key);
    Ok(Reply::Int(len as i64))
}

/// LREM key count element.
fn cmd_lrem(ctx: &mut Ctx) -> CmdResult<Reply> {
    let count = int(&ctx.args[2])?;
    let db = ctx.db();
    let key = &ctx.args[1];
    let element = &ctx.args[3];
    let Some(list) = peek(ctx.ks, db, key)? else {
        return Ok(Reply::Int(0));
    };
    if !list.iter().any(|e| e == element) {
        return Ok(Reply::Int(0));
    }
    let fill = crate::types::limits::list_fill();
    let removed = list_mut(ctx.ks, db, key).map_or(0, |l| l.remove(fill, element, count));
    ctx.ks.notify(class::LIST, "lrem", db, key);
    remove_if_empty(ctx.ks, db, key);
    Ok(Reply::Int(removed as i64))
}

/// LTRIM key start stop.
fn cmd_ltrim(ctx: &mut Ctx) -> CmdResult<Reply> {
    let start = int(&ctx.args[2])?;
    let end = int(&ctx.args[3])?;
    let db = ctx.db();
    let key = &ctx.args[1];
    let Some(list) = peek(ctx.ks, db, key)? else {
        return Ok(Reply::Ok);
    };
    let len = list.len();
    let (left, right) = match clamp_range(start, end, len) {
        Some((s, e)) => (s, len - e - 1),
        None => (len, 0),
    };
    let fill = crate::types::limits::list_fill();
    if let Some(l) = list_mut(ctx.ks, db, key) {
        l.trim(fill, left, right);
    }
    ctx.ks.note_list(db, key, || ListOp::Trim {
        left: left as u64,
        right: right as u64,
    });
    ctx.ks.notify(class::LIST, "ltrim", db, key);
    remove_if_empty(ctx.ks, db, key);
    Ok(Reply::Ok)
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len].
fn cmd_lpos(ctx: &mut Ctx) -> CmdResult<Reply> {
    const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
    let args = ctx.args;
    let (mut rank, mut count, mut maxlen) = (1i64, None::<u64>, 0u64);
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        if is(&args[j], "RANK") && more {
            j += 1;
            rank = int(&args[j])?;
            if rank == i64::MIN {
                return Err(CmdError::new(format!(
                    "ERR value is out of range, value must between {} and {}",
                    -i64::MAX,
                    i64::MAX
                )));
            }
            if rank == 0 {
                return Err(CmdError::new(RANK_ZERO));
            }
        } else if is(&args[j], "COUNT") && more {
            j += 1;
            count = Some(
                parse_i64(&args[j])
                    .filter(|&n| n >= 0)
                    .ok_or_else(|| CmdError::new("ERR COUNT can't be negative"))?
                    as u64,
            );
        } else if is(&args[j], "MAXLEN") && more {
            j += 1;
            maxlen = parse_i64(&args[j])
                .filter(|&n| n >= 0)
                .ok_or_else(|| CmdError::new("ERR MAXLEN can't be negative"))?
                as u64;
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    let db = ctx.db();
    let Some(list) = read(ctx.ks, db, &args[1])? else {
        return Ok(if count.is_some() {
            Reply::Array(Vec::new())
        } else {
            Reply::Nil
        });
    };
    let element = &args[2];
    let len = list.len();
    let from_tail = rank < 0;
    let rank = rank.unsigned_abs();
    let scan = if maxlen == 0 {
        len
    } else {
        maxlen.min(len as u64) as usize
    };
    let mut matches = 0u64;
    let mut found = Vec::new();
    let mut visit = |i: usize, e: &Bytes| -> bool {
        if e != element {
            return true;
        }
        matches += 1;
        if matches < rank {
            return true;
        }
        found.push(i as i64);
        match count {
            None => false,
            Some(0) => true,
            Some(c) => matches - rank + 1 < c,
        }
    };
    if from_tail {
        for (k, e) in list.iter().rev().take(scan).enumerate() {
            if !visit(len - 1 - k, e) {
                break;
            }
        }
    } else {
        for (i, e) in list.iter().take(scan).enumerate() {
            if !visit(i, e) {
                break;
            }
        }
    }
    Ok(match count {
        Some(_) => Reply::Array(found.into_iter().map(Reply::Int).collect()),
        None => found.first().map_or(Reply::Nil, |&i| Reply::Int(i)),
    })
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT.
fn cmd_lmove(ctx: &mut Ctx) -> CmdResult<Reply> {
    let from = parse_end(&ctx.args[3])?;
    let to = parse_end(&ctx.args[4])?;
    let db = ctx.db();
    let moved = op_move(ctx.ks, db, &ctx.args[1], &ctx.args[2], from, to)?;
    Ok(moved.as_ref().map_or(Reply::Nil, bulk))
}

fn cmd_rpoplpush(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let moved = op_move(
        ctx.ks,
        db,
        &ctx.args[1],
        &ctx.args[2],
        End::Right,
        End::Left,
    )?;
    Ok(moved.as_ref().map_or(Reply::Nil, bulk))
}

/// The arguments of LMPOP/BLMPOP after the numkeys at `numkeys_at`: the key range, the end
/// and the count, with Redis's errors in its order.
fn parse_mpop(
    args: &[Bytes],
    numkeys_at: usize,
) -> CmdResult<(std::ops::Range<usize>, End, usize)> {
    let numkeys = parse_i64(&args[numkeys_at])
        .filter(|&n| n > 0)
        .ok_or_else(|| CmdError::new("ERR numkeys should be greater than 0"))?;
    let where_at = (numkeys as u64).saturating_add(numkeys_at as u64 + 1);
    if where_at >= args.len() as u64 {
        return Err(CmdError::syntax());
    }
    let where_at = where_at as usize;
    let end = parse_end(&args[where_at])?;
    let mut count = None;
    let mut j = where_at + 1;
    while j < args.len() {
        if count.is_none() && is(&args[j], "COUNT") && j + 1 < args.len() {
            j += 1;
            let n = parse_i64(&args[j])
                .filter(|&n| n > 0)
                .ok_or_else(|| CmdError::new("ERR count should be greater than 0"))?;
            count = Some(usize::try_from(n).unwrap_or(usize::MAX));
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    Ok((numkeys_at + 1..where_at, end, count.unwrap_or(1)))
}

/// Pops from the first non-empty list among `keys`: `[key, [elements]]`; None when all are
/// missing. WRONGTYPE stops at the first key of another type, as in Redis.
fn op_mpop(
    ks: &mut Locked,
    db: usize,
    keys: &[Bytes],
    end: End,
    count: usize,
) -> CmdResult<Option<Reply>> {
    for key in keys {
        if peek(ks, db, key)?.is_none() {
            continue;
        }
        let popped = op_pop(ks, db, key, end, count).unwrap_or_default();
        return Ok(Some(Reply::Array(vec![
            bulk(key),
            Reply::Array(popped.into_iter().map(Reply::Bulk).collect()),
        ])));
    }
    Ok(None)
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count].
fn cmd_lmpop(ctx: &mut Ctx) -> CmdResult<Reply> {
    let (keys, end, count) = parse_mpop(ctx.args, 1)?;
    let db = ctx.db();
    Ok(op_mpop(ctx.ks, db, &ctx.args[keys], end, count)?.unwrap_or(Reply::NilArray))
}

/// BLPOP/BRPOP's attempt: `[key, element]` from the first non-empty list.
fn try_bpop(ks: &mut Locked, db: usize, args: &[Bytes], end: End) -> CmdResult<Option<Reply>> {
    for key in &args[1..args.len() - 1] {
        if peek(ks, db, key)?.is_none() {
            continue;
        }
        if let Some(e) = op_pop_one(ks, db, key, end) {
            return Ok(Some(Reply::Array(vec![bulk(key), Reply::Bulk(e)])));
        }
    }
    Ok(None)
}

fn try_blpop(
    _server: &Server,
    ks: &mut Locked,
    db: usize,
    args: &[Bytes],
) -> CmdResult<Option<Reply>> {
    try_bpop(ks, db, args, End::Left)
}

fn try_brpop(
    _server: &Server,
    ks: &mut Locked,
    db: usize,
    args: &[Bytes],
) -> CmdResult<Option<Reply>> {
    try_bpop(ks, db, args, End::Right)
}

fn cmd_blpop(ctx: &mut Ctx) -> CmdResult<Reply> {
    let args = ctx.args;
    let deadline = parse_timeout(&args[args.len() - 1], std::time::Instant::now())?;
    block_or_reply(
        ctx,
        "list",
        &args[1..args.len() - 1],
        deadline,
        try_blpop,
        Reply::NilArray,
    )
}

fn cmd_brpop(ctx: &mut Ctx) -> CmdResult<Reply> {
    let args = ctx.args;
    let deadline = parse_timeout(&args[args.len() - 1], std::time::Instant::now())?;
    block_or_reply(
        ctx,
        "list",
        &args[1..args.len() - 1],
        deadline,
        try_brpop,
        Reply::NilArray,
    )
}

/// BLMOVE/BRPOPLPUSH's attempt: the moved element, None while the source is missing.
fn try_blmove(
    _server: &Server,
    ks: &mut Locked,
    db: usize,
    args: &[Bytes],
) -> CmdResult<Option<Reply>> {
    let (from, to) = if args.len() == 6 {
        (parse_end(&args[3])?, parse_end(&args[4])?)
    } else {
        (End::Right, End::Left)
    };
    Ok(op_move(ks, db, &args[1], &args[2], from, to)?
        .as_ref()
        .map(bulk))
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout.
fn cmd_blmove(ctx: &mut Ctx) -> CmdResult<Reply> {
    parse_end(&ctx.args[3])?;
    parse_end(&ctx.args[4])?;
    let args = ctx.args;
    let deadline = parse_timeout(&args[5], std::time::Instant::now())?;
    block_or_reply(ctx, "list", &args[1..2], deadline, try_blmove, Reply::Nil)
}

/// BRPOPLPUSH source destination timeout.
fn cmd_brpoplpush(ctx: &mut Ctx) -> CmdResult<Reply> {
    let args = ctx.args;
    let deadline = parse_timeout(&args[3], std::time::Instant::now())?;
    block_or_reply(ctx, "list", &args[1..2], deadline, try_blmove, Reply::Nil)
}

fn try_blmpop(
    _server: &Server,
    ks: &mut Locked,
    db: usize,
    args: &[Bytes],
) -> CmdResult<Option<Reply>> {
    let (keys, end, count) = parse_mpop(args, 2)?;
    op_mpop(ks, db, &args[keys], end, count)
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count].
fn cmd_blmpop(ctx: &mut Ctx) -> CmdResult<Reply> {
    let args = ctx.args;
    let (keys, _, _) = parse_mpop(args, 2)?;
    let deadline = parse_timeout(&args[1], std::time::Instant::now())?;
    block_or_reply(
        ctx,
        "list",
        &args[keys],
        deadline,
        try_blmpop,
        Reply::NilArray,
    )
}

/// This family's commands: [`command!`](super::command) with the group fixed.
macro_rules! cmd {
    ($($spec:tt)*) => {
        super::command!("list", $($spec)*)
    };
}

pub const COMMANDS: &[CommandSpec] = &[
    cmd!("lpush", -3, WRITE | DENYOOM | FAST, KeySpec::ONE, "1.0.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        "Prepends one or more elements to a list. Creates the key if it doesn't exist.", cmd_lpush),
    cmd!("rpush", -3, WRITE | DENYOOM | FAST, KeySpec::ONE, "1.0.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        "Appends one or more elements to a list. Creates the key if it doesn't exist.", cmd_rpush),
    cmd!("lpushx", -3, WRITE | DENYOOM | FAST, KeySpec::ONE, "2.2.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        "Prepends one or more elements to a list only when the list exists.", cmd_lpushx),
    cmd!("rpushx", -3, WRITE | DENYOOM | FAST, KeySpec::ONE, "2.2.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        "Appends an element to a list only when the list exists.", cmd_rpushx),
    cmd!("lpop", -2, WRITE | FAST, KeySpec::ONE, "1.0.0", "O(N) where N is the number of elements returned",
        "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.",
        cmd_lpop),
    cmd!("rpop", -2, WRITE | FAST, KeySpec::ONE, "1.0.0", "O(N) where N is the number of elements returned",
        "Returns and removes the last elements of a list. Deletes the list if the last element was popped.",
        cmd_rpop),
    cmd!("llen", 2, READONLY | FAST, KeySpec::ONE, "1.0.0", "O(1)", "Returns the length of a list.", cmd_llen),
    cmd!("lrange", 4, READONLY, KeySpec::ONE, "1.0.0",
        "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
        "Returns a range of elements from a list.", cmd_lrange),
    cmd!("lindex", 3, READONLY, KeySpec::ONE, "1.0.0",
        "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
        "Returns an element from a list by its index.", cmd_lindex),
    cmd!("lset", 4, WRITE | DENYOOM, KeySpec::ONE, "1.0.0",
        "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).",
        "Sets the value of an element in a list by its index.", cmd_lset),
    cmd!("linsert", 5, WRITE | DENYOOM, KeySpec::ONE, "2.2.0",
        "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
        "Inserts an element before or after another element in a list.", cmd_linsert),
    cmd!("lrem", 4, WRITE, KeySpec::ONE, "1.0.0",
        "O(N+M) where N is the length of the list and M is the number of elements removed.",
        "Removes elements from a list. Deletes the list if the last element was removed.", cmd_lrem),
    cmd!("ltrim", 4, WRITE, KeySpec::ONE, "1.0.0",
        "O(N) where N is the number of elements to be removed by the operation.",
        "Removes elements from both ends a list. Deletes the list if all elements were trimmed.", cmd_ltrim),
    cmd!("lpos", -3, READONLY, KeySpec::ONE, "6.0.6",
        "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
        "Returns the index of matching elements in a list.", cmd_lpos),
    cmd!("lmove", 5, WRITE | DENYOOM, KeySpec::range(1, 2, 1), "6.2.0", "O(1)",
        "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.",
        cmd_lmove),
    cmd!("rpoplpush", 3, WRITE | DENYOOM, KeySpec::range(1, 2, 1), "1.2.0", "O(1)",
        "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.",
        cmd_rpoplpush),
    cmd!("lmpop", -4, WRITE, KeySpec::numkeys(1), "7.0.0",
        "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
        "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.",
        cmd_lmpop),
    cmd!("blpop", -3, WRITE | BLOCKING, KeySpec::range(1, -2, 1), "2.0.0",
        "O(N) where N is the number of provided keys.",
        "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
        cmd_blpop),
    cmd!("brpop", -3, WRITE | BLOCKING, KeySpec::range(1, -2, 1), "2.0.0",
        "O(N) where N is the number of provided keys.",
        "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
        cmd_brpop),
    cmd!("blmove", 6, WRITE | DENYOOM | BLOCKING, KeySpec::range(1, 2, 1), "6.2.0", "O(1)",
        "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.",
        cmd_blmove),
    cmd!("brpoplpush", 4, WRITE | DENYOOM | BLOCKING, KeySpec::range(1, 2, 1), "2.2.0", "O(1)",
        "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.",
        cmd_brpoplpush),
    cmd!("blmpop", -5, WRITE | BLOCKING, KeySpec::numkeys(2), "7.0.0",
        "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
        "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
        cmd_blmpop),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::keyspace::{Clock, KeyEvent};

    fn events(ks: &Locked) -> Vec<(&'static str, String)> {
        ks.events
            .iter()
            .map(|KeyEvent { event, key, .. }| (*event, String::from_utf8_lossy(key).into_owned()))
            .collect()
    }

    /// The events each write reports, in Redis's order (t_list.c's notifyKeyspaceEvent calls).
    #[test]
    fn notifications_follow_redis() {
        let server = Server::new(Config::default());
        let clock = Clock {
            now_ms: 1000,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
        };
        let mut ks = server.keyspace.lock_all(clock);
        ks.notify_mask = !crate::keyspace::class::NEW;
        let el = |s: &str| Bytes::copy_from_slice(s.as_bytes());
        op_push(&mut ks, 0, b"src", End::Right, &[el("a"), el("b")], false).unwrap();
        assert_eq!(
            op_push(&mut ks, 0, b"none", End::Left, &[el("a")], true).unwrap(),
            0
        );
        op_move(&mut ks, 0, b"src", b"dst", End::Left, End::Right).unwrap();
        op_pop(&mut ks, 0, b"src", End::Right, 5);
        assert_eq!(
            events(&ks),
            vec![
                ("rpush", "src".to_string()),
                ("rpush", "dst".to_string()),
                ("lpop", "src".to_string()),
                ("rpop", "src".to_string()),
                ("del", "src".to_string()),
            ]
        );
        // Moving the last element away deletes the source after the push event.
        ks.events.clear();
        op_move(&mut ks, 0, b"dst", b"other", End::Right, End::Left).unwrap();
        assert_eq!(
            events(&ks),
            vec![
                ("lpush", "other".to_string()),
                ("rpop", "dst".to_string()),
                ("del", "dst".to_string()),
            ]
        );
        assert!(ks.peek(0, b"dst").is_none());
    }
}
