//! Sorted-set commands: ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZCOUNT ZLEXCOUNT
//! ZRANGE ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX ZRANGESTORE
//! ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX ZPOPMIN ZPOPMAX ZMPOP ZRANDMEMBER ZUNION ZINTER
//! ZDIFF ZUNIONSTORE ZINTERSTORE ZDIFFSTORE ZINTERCARD ZSCAN.
//!
//! A sorted set is `Value::ZSet(Arc<ZSetValue>)` (src/types/zset.rs, an order-statistics tree
//! plus a member index), so every range is found by rank in O(log n) and then walked. Reads
//! borrow it under the shard lock; writes `peek` first (a refused or no-op write leaves the key's
//! version alone, as WATCH observes), then change it through `Arc::make_mut`; a set left empty is
//! removed and a STORE with an empty result deletes its destination, with Redis's keyspace
//! events. The union/intersection family accepts plain sets as inputs (every member scoring 1).
//! Replies follow Redis 7.2's shapes: scores are RESP3 doubles, and member/score lists are flat
//! in RESP2 and nested pairs in RESP3 where Redis nests them (ZRANGE and friends, ZUNION/ZINTER/
//! ZDIFF, ZRANDMEMBER, ZPOP with a count, ZMPOP), flat in ZSCAN. [`op_pop`] and the pop reply
//! builders are public for the blocking forms (BZPOPMIN, BZPOPMAX, BZMPOP).

use std::sync::Arc;

use bytes::Bytes;
use rand::Rng;

use super::args::{int, is};
use super::keys::{parse_cursor, scan_reply};
use super::picks;
use super::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult, NOT_FLOAT};
use crate::keyspace::events::class;
use crate::keyspace::{Entry, Locked};
use crate::protocol::{Protocol, Reply};
use crate::server::{blocking, Server};
use crate::types::zset::{Inserted, Limits};
use crate::types::{SetValue, Value, ZSetValue};

const NOT_FLOAT_RANGE: &str = "ERR min or max is not a float";
const NOT_LEX_RANGE: &str = "ERR min or max not valid string range item";
const NAN_SCORE: &str = "ERR resulting score is not a number (NaN)";
const POSITIVE: &str = "ERR value is out of range, must be positive";

/// The sorted set stored in `entry`, or WRONGTYPE.
pub fn as_zset(entry: &Entry) -> CmdResult<&Arc<ZSetValue>> {
    match &entry.value {
        Value::ZSet(z) => Ok(z),
        _ => Err(CmdError::wrongtype()),
    }
}

/// The sorted set at `key` for reading (an access, a hit or a miss), None when missing.
fn read<'a>(ks: &'a mut Locked, db: usize, key: &[u8]) -> CmdResult<Option<&'a Arc<ZSetValue>>> {
    match ks.get(db, key) {
        Some(e) => Ok(Some(as_zset(e)?)),
        None => Ok(None),
    }
}

/// The sorted set at `key` without recording an access (a write's checks), None when missing.
fn peek<'a>(ks: &'a mut Locked, db: usize, key: &[u8]) -> CmdResult<Option<&'a Arc<ZSetValue>>> {
    match ks.peek(db, key) {
        Some(e) => Ok(Some(as_zset(e)?)),
        None => Ok(None),
    }
}

/// Applies `f` to the existing sorted set at `key` (type already checked) and removes the key,
/// with a "del" event, when `f` leaves it empty. None when the key is missing.
fn modify<R>(
    ks: &mut Locked,
    db: usize,
    key: &[u8],
    f: impl FnOnce(&mut ZSetValue) -> R,
) -> Option<R> {
    let entry = ks.get_mut(db, key)?;
    let Value::ZSet(z) = &mut entry.value else {
        return None;
    };
    let z = Arc::make_mut(z);
    let r = f(z);
    if z.is_empty() {
        ks.remove(db, key);
        ks.notify(class::GENERIC, "del", db, key);
    }
    Some(r)
}

/// Stores a STORE command's result at `dst` (replacing whatever was there, TTL included) with
/// `event`, or deletes `dst` (with "del" when it existed) when the result is empty. Returns
/// its size.
fn store(ks: &mut Locked, db: usize, dst: &[u8], z: ZSetValue, event: &'static str) -> usize {
    let n = z.len();
    if n == 0 {
        if ks.remove(db, dst).is_some() {
            ks.notify(class::GENERIC, "del", db, dst);
        }
    } else {
        ks.set(db, dst, Value::ZSet(Arc::new(z)), 0);
        ks.notify(class::ZSET, event, db, dst);
    }
    n
}

fn bulk(b: &Bytes) -> Reply {
    Reply::Bulk(out(b))
}

/// A member taken out of a stored set: a copy when small, so that the stored buffer is never
/// turned into a shared one (which would allocate and change what MEMORY USAGE counts).
fn out(m: &Bytes) -> Bytes {
    super::strings::share_or_copy(m)
}

/// Members with their scores: `[m, s, m, s]` in RESP2; in RESP3 `[[m, s], ...]` when `nest`
/// (a flat list otherwise). Without scores, just the members.
pub fn pairs_reply(
    items: Vec<(Bytes, f64)>,
    withscores: bool,
    nest: bool,
    proto: Protocol,
) -> Reply {
    if !withscores {
        return Reply::Array(items.into_iter().map(|(m, _)| Reply::Bulk(m)).collect());
    }
    if nest && proto == Protocol::Resp3 {
        return Reply::Array(
            items
                .into_iter()
                .map(|(m, s)| Reply::Array(vec![Reply::Bulk(m), Reply::Double(s)]))
                .collect(),
        );
    }
    let mut flat = Vec::with_capacity(items.len() * 2);
    for (m, s) in items {
        flat.push(Reply::Bulk(m));
        flat.push(Reply::Double(s));
    }
    Reply::Array(flat)
}

/// Reads a whole number the way C's `strtod` does after its leading white space: decimal or
/// exponent form, `inf`/`infinity`, `nan`, hexadecimal (`0x1.8p3`). Returns the value and
/// whether it was out of range (ERANGE: overflow to infinity, or underflow to zero); None when
/// some of the text is not part of the number.
pub(super) fn strtod_exact(text: &[u8]) -> Option<(f64, bool)> {
    let s = std::str::from_utf8(text).ok()?;
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if body.starts_with(['+', '-']) {
        return None;
    }
    let v = if body.len() > 2 && body[..2].eq_ignore_ascii_case("0x") {
        parse_hex_float(&body[2..])?
    } else if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        let v = if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
        return Some((v, false));
    } else {
        // Rust's parser takes the same decimal forms as strtod (and inf/nan, handled above).
        body.parse::<f64>().ok()?
    };
    let underflow = || {
        body.split(['e', 'E', 'p', 'P']).next().is_some_and(|m| {
            m.bytes()
                .any(|c| c.is_ascii_hexdigit() && c != b'0' && !c.eq_ignore_ascii_case(&b'x'))
        })
    };
    let erange = v.is_infinite() || (v == 0.0 && underflow());
    Some((if neg { -v } else { v }, erange))
}

/// The digits after `0x` of a C hexadecimal float: `1f`, `1.8`, `1p-3`.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = match s.find(['p', 'P']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars() {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        v += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    Some(v * 2f64.powi(exp))
}

/// A score or weight argument, read as Redis's `getDoubleFromObject` does: no white space, the
/// whole text a number, not NaN, not out of range.
fn score_arg(arg: &[u8], err: &'static str) -> CmdResult<f64> {
    match arg.first() {
        Some(c) if !c.is_ascii_whitespace() && *c != 0x0b => {}
        _ => return Err(CmdError::new(err)),
    }
    match strtod_exact(arg) {
        Some((v, false)) if !v.is_nan() => Ok(v),
        _ => Err(CmdError::new(err)),
    }
}

/// One end of a score range as Redis's `zslParseRange` reads it with `strtod`: leading white
/// space is skipped, an empty text is 0, out-of-range values saturate; NaN is refused.
fn range_float(arg: &[u8]) -> Option<f64> {
    let trimmed = arg
        .iter()
        .position(|c| !(c.is_ascii_whitespace() || *c == 0x0b))
        .map_or(&arg[arg.len()..], |i| &arg[i..]);
    if arg.is_empty() {
        return Some(0.0);
    }
    match strtod_exact(trimmed) {
        Some((v, _)) if !v.is_nan() => Some(v),
        _ => None,
    }
}

/// A score bound pair as ZRANGEBYSCORE takes it: `1.5`, `(1.5` (exclusive), `-inf`, `+inf`.
#[derive(Clone, Copy, Debug)]
struct ScoreRange {
    min: f64,
    minex: bool,
    max: f64,
    maxex: bool,
}

fn parse_score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    match arg.first() {
        Some(b'(') => range_float(&arg[1..]).map(|v| (v, true)),
        _ => range_float(arg).map(|v| (v, false)),
    }
}

impl ScoreRange {
    fn parse(min: &[u8], max: &[u8]) -> CmdResult<ScoreRange> {
        let err = || CmdError::new(NOT_FLOAT_RANGE);
        let (min, minex) = parse_score_bound(min).ok_or_else(err)?;
        let (max, maxex) = parse_score_bound(max).ok_or_else(err)?;
        Ok(ScoreRange {
            min,
            minex,
            max,
            maxex,
        })
    }

    /// The ranks `start..end` of the members inside the range.
    fn span(&self, z: &ZSetValue) -> (usize, usize) {
        let start = z.rank_of_score(self.min, !self.minex);
        let end = z.rank_of_score(self.max, self.maxex);
        (start, end.max(start))
    }
}

/// One end of a lex range: `-`, `+`, `[member` (inclusive) or `(member` (exclusive).
#[derive(Clone, Debug)]
enum LexBound {
    Min,
    Max,
    Incl(Bytes),
    Excl(Bytes),
}

impl LexBound {
    fn parse(arg: &Bytes) -> CmdResult<LexBound> {
        match arg.first() {
            Some(b'-') if arg.len() == 1 => Ok(LexBound::Min),
            Some(b'+') if arg.len() == 1 => Ok(LexBound::Max),
            Some(b'[') => Ok(LexBound::Incl(arg.slice(1..))),
            Some(b'(') => Ok(LexBound::Excl(arg.slice(1..))),
            _ => Err(CmdError::new(NOT_LEX_RANGE)),
        }
    }
}

#[derive(Clone, Debug)]
struct LexRange {
    min: LexBound,
    max: LexBound,
}

impl LexRange {
    fn parse(min: &Bytes, max: &Bytes) -> CmdResult<LexRange> {
        Ok(LexRange {
            min: LexBound::parse(min)?,
            max: LexBound::parse(max)?,
        })
    }

    /// The ranks `start..end` of the members inside the range (members of equal scores, as
    /// Redis assumes for lex ranges).
    fn span(&self, z: &ZSetValue) -> (usize, usize) {
        let start = match &self.min {
            LexBound::Min => 0,
            LexBound::Max => z.len(),
            LexBound::Incl(b) => z.rank_of_lex(b, true),
            LexBound::Excl(b) => z.rank_of_lex(b, false),
        };
        let end = match &self.max {
            LexBound::Min => 0,
            LexBound::Max => z.len(),
            LexBound::Incl(b) => z.rank_of_lex(b, false),
            LexBound::Excl(b) => z.rank_of_lex(b, true),
        };
        (start, end.max(start))
    }
}

/// Redis's rank range normalisation (negative indices count from the end): the ranks
/// `start..end`, empty when out of range.
fn rank_span(start: i64, stop: i64, len: usize) -> (usize, usize) {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut stop = if stop < 0 { len + stop } else { stop };
    if start < 0 {
        start = 0;
    }
    if start > stop || start >= len {
        return (0, 0);
    }
    if stop >= len {
        stop = len - 1;
    }
    (start as usize, stop as usize + 1)
}

/// The members at ranks `start..end`, ascending, or descending from `end - 1` with `rev`; with
/// `offset` and `limit` (negative: no limit) applied in that direction.
fn collect_span(
    z: &ZSetValue,
    (start, end): (usize, usize),
    rev: bool,
    offset: usize,
    limit: i64,
) -> Vec<(Bytes, f64)> {
    let avail = (end - start).saturating_sub(offset);
    let n = if limit < 0 {
        avail
    } else {
        avail.min(limit as usize)
    };
    if n == 0 {
        return Vec::new();
    }
    let first = if rev {
        end - 1 - offset
    } else {
        start + offset
    };
    z.iter_from(first, rev)
        .take(n)
        .map(|(m, s)| (out(m), s))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// ZADD / ZINCRBY / ZREM

#[derive(Clone, Copy, Default)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    incr: bool,
}

/// What one ZADD element does to the set as it is: nothing (NX, XX, GT, LT refused it), keeps
/// the score, adds the member, or changes its score.
#[derive(Clone, Copy, Debug, PartialEq)]
enum AddOutcome {
    Nop,
    Same(f64),
    Add(f64),
    Update(f64),
}

fn add_outcome(
    z: Option<&ZSetValue>,
    member: &[u8],
    score: f64,
    f: AddFlags,
) -> CmdResult<AddOutcome> {
    match z.and_then(|z| z.score(member)) {
        Some(cur) => {
            if f.nx {
                return Ok(AddOutcome::Nop);
            }
            let new = if f.incr { cur + score } else { score };
            if new.is_nan() {
                return Err(CmdError::new(NAN_SCORE));
            }
            if (f.lt && new >= cur) || (f.gt && new <= cur) {
                return Ok(AddOutcome::Nop);
            }
            Ok(if new == cur {
                AddOutcome::Same(new)
            } else {
                AddOutcome::Update(new)
            })
        }
        None if f.xx => Ok(AddOutcome::Nop),
        None => Ok(AddOutcome::Add(score)),
    }
}

/// The counts ZADD replies with, and the last element's resulting score (ZADD INCR).
#[derive(Clone, Copy, Debug, Default)]
pub struct AddResult {
    pub added: usize,
    pub updated: usize,
    /// The final score of the last element, when it was processed (not refused by a flag).
    pub score: Option<f64>,
}

/// ZADD's data operation: applies the (score, member) pairs in order with the flags, creating
/// the key when missing (unless XX). Emits "zadd" (or "zincr") when something changed.
fn op_zadd(
    ks: &mut Locked,
    db: usize,
    key: &[u8],
    pairs: &[(f64, &Bytes)],
    f: AddFlags,
    limits: Limits,
) -> CmdResult<AddResult> {
    let mut res = AddResult::default();
    let existing = peek(ks, db, key)?;
    if existing.is_none() && f.xx {
        return Ok(res);
    }
    // A call that changes nothing is not a write (the key's version stays): each element is
    // then a no-op against the set as it is, so evaluate them all there first.
    if let Some(z) = existing {
        let mut changes = false;
        for (score, member) in pairs {
            match add_outcome(Some(z), member, *score, f)? {
                AddOutcome::Nop => {}
                AddOutcome::Same(s) => res.score = Some(s),
                _ => changes = true,
            }
        }
        if !changes {
            return Ok(res);
        }
        res.score = None;
    }
    let apply = |z: &mut ZSetValue| -> CmdResult<AddResult> {
        let mut res = AddResult::default();
        for (score, member) in pairs {
            let outcome = add_outcome(Some(z), member, *score, f)?;
            res.score = match outcome {
                AddOutcome::Nop => None,
                AddOutcome::Same(s) => Some(s),
                AddOutcome::Add(s) | AddOutcome::Update(s) => {
                    match z.insert(member, s, limits) {
                        Inserted::Added => res.added += 1,
                        Inserted::Updated => res.updated += 1,
                        Inserted::Unchanged => {}
                    }
                    Some(s)
                }
            };
        }
        Ok(res)
    };
    let res = if existing.is_some() {
        match modify(ks, db, key, |z| {
            z.reserve_hint(pairs.len(), limits);
            apply(z)
        }) {
            Some(r) => r?,
            None => return Ok(res),
        }
    } else {
        let mut z = ZSetValue::with_hint(pairs.len(), pairs[0].1.len(), limits);
        let r = apply(&mut z)?;
        if !z.is_empty() {
            ks.set(db, key, Value::ZSet(Arc::new(z)), 0);
        }
        r
    };
    if res.added + res.updated > 0 {
        let event = if f.incr { "zincr" } else { "zadd" };
        ks.notify(class::ZSET, event, db, key);
    }
    Ok(res)
}

fn zadd_generic(ctx: &mut Ctx, mut f: AddFlags) -> CmdResult<Reply> {
    let args = ctx.args;
    let mut i = 2;
    let mut ch = false;
    while i < args.len() {
        let a = &args[i];
        if is(a, "NX") {
            f.nx = true;
        } else if is(a, "XX") {
            f.xx = true;
        } else if is(a, "CH") {
            ch = true;
        } else if is(a, "INCR") {
            f.incr = true;
        } else if is(a, "GT") {
            f.gt = true;
        } else if is(a, "LT") {
            f.lt = true;
        } else {
            break;
        }
        i += 1;
    }
    let rest = &args[i..];
    if rest.is_empty() || rest.len() % 2 != 0 {
        return Err(CmdError::syntax());
    }
    if f.nx && f.xx {
        return Err(CmdError::new(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if ((f.gt || f.lt) && f.nx) || (f.gt && f.lt) {
        return Err(CmdError::new(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if f.incr && rest.len() > 2 {
        return Err(CmdError::new(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let pairs = rest
        .chunks(2)
        .map(|p| Ok((score_arg(&p[0], NOT_FLOAT)?, &p[1])))
        .collect::<CmdResult<smallvec::SmallVec<[_; 4]>>>()?;
    let db = ctx.db();
    let limits = crate::types::limits::zset();
    let res = op_zadd(ctx.ks, db, &args[1], &pairs, f, limits)?;
    ctx.ks
        .note_elements(db, &args[1], pairs.iter().map(|p| p.1));
    Ok(if f.incr {
        res.score.map_or(Reply::Nil, Reply::Double)
    } else if ch {
        Reply::Int((res.added + res.updated) as i64)
    } else {
        Reply::Int(res.added as i64)
    })
}

fn cmd_zadd(ctx: &mut Ctx) -> CmdResult<Reply> {
    zadd_generic(ctx, AddFlags::default())
}

fn cmd_zincrby(ctx: &mut Ctx) -> CmdResult<Reply> {
    zadd_generic(
        ctx,
        AddFlags {
            incr: true,
            ..AddFlags::default()
        },
    )
}

fn cmd_zrem(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let key = &ctx.args[1];
    let members = &ctx.args[2..];
    let Some(z) = peek(ctx.ks, db, key)? else {
        return Ok(Reply::Int(0));
    };
    if !members.iter().any(|m| z.contains(m)) {
        return Ok(Reply::Int(0));
    }
    // Something is removed: "zrem" goes out before the "del" of an emptied key, as in Redis.
    ctx.ks.notify(class::ZSET, "zrem", db, key);
    let n = modify(ctx.ks, db, key, |z| {
        members.iter().filter(|m| z.remove(m).is_some()).count()
    })
    .unwrap_or(0);
    ctx.ks.note_elements(db, key, members);
    Ok(Reply::Int(n as i64))
}

// ---------------------------------------------------------------------------------------------
// Reads of single members

fn cmd_zcard(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let z = read(ctx.ks, db, &ctx.args[1])?;
    Ok(Reply::Int(z.map_or(0, |z| z.len()) as i64))
}

fn cmd_zscore(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let z = read(ctx.ks, db, &ctx.args[1])?;
    Ok(z.and_then(|z| z.score(&ctx.args[2]))
        .map_or(Reply::Nil, Reply::Double))
}

fn cmd_zmscore(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let z = read(ctx.ks, db, &ctx.args[1])?;
    Ok(Reply::Array(
        ctx.args[2..]
            .iter()
            .map(|m| z.and_then(|z| z.score(m)).map_or(Reply::Nil, Reply::Double))
            .collect(),
    ))
}

fn zrank_generic(ctx: &mut Ctx, rev: bool) -> CmdResult<Reply> {
    let argc = ctx.args.len();
    if argc > 4 {
        return Err(CmdError::arity(ctx.spec.name));
    }
    let withscore = argc == 4;
    if withscore && !is(&ctx.args[3], "WITHSCORE") {
        return Err(CmdError::syntax());
    }
    let db = ctx.db();
    let z = read(ctx.ks, db, &ctx.args[1])?;
    let found = z.and_then(|z| {
        z.rank(&ctx.args[2])
            .map(|(r, s)| (if rev { z.len() - 1 - r } else { r }, s))
    });
    Ok(match (found, withscore) {
        (Some((r, _)), false) => Reply::Int(r as i64),
        (Some((r, s)), true) => Reply::Array(vec![Reply::Int(r as i64), Reply::Double(s)]),
        (None, false) => Reply::Nil,
        (None, true) => Reply::NilArray,
    })
}

fn cmd_zrank(ctx: &mut Ctx) -> CmdResult<Reply> {
    zrank_generic(ctx, false)
}

fn cmd_zrevrank(ctx: &mut Ctx) -> CmdResult<Reply> {
    zrank_generic(ctx, true)
}

fn cmd_zcount(ctx: &mut Ctx) -> CmdResult<Reply> {
    let range = ScoreRange::parse(&ctx.args[2], &ctx.args[3])?;
    let db = ctx.db();
    let z = read(ctx.ks, db, &ctx.args[1])?;
    Ok(Reply::Int(z.map_or(0, |z| {
        let (s, e) = range.span(z);
        e - s
    }) as i64))
}

fn cmd_zlexcount(ctx: &mut Ctx) -> CmdResult<Reply> {
    let range = LexRange::parse(&ctx.args[2], &ctx.args[3])?;
    let db = ctx.db();
    let z = read(ctx.ks, db, &ctx.args[1])?;
    Ok(Reply::Int(z.map_or(0, |z| {
        let (s, e) = range.span(z);
        e - s
    }) as i64))
}

// ---------------------------------------------------------------------------------------------
// ZRANGE and friends

#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeKind {
    Auto,
    Rank,
    Score,
    Lex,
}

/// A parsed ZRANGE-family request.
struct RangeRequest {
    kind: RangeKind,
    rev: bool,
    withscores: bool,
    offset: i64,
    limit: i64,
    min: Bytes,
    max: Bytes,
}

/// Parses `<min> <max> [BYSCORE|BYLEX] [REV] [WITHSCORES] [LIMIT offset count]` starting at
/// `key_at + 1`, as Redis's `zrangeGenericCommand` does; `kind` and `rev` fixed by the command
/// name unless `Auto`/None.
fn parse_range(
    args: &[Bytes],
    key_at: usize,
    store: bool,
    mut kind: RangeKind,
    rev: Option<bool>,
) -> CmdResult<RangeRequest> {
    let mut req = RangeRequest {
        kind,
        rev: rev.unwrap_or(false),
        withscores: false,
        offset: 0,
        limit: -1,
        min: args[key_at + 1].clone(),
        max: args[key_at + 2].clone(),
    };
    let mut has_limit = false;
    let mut j = key_at + 3;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = &args[j];
        if !store && is(a, "WITHSCORES") {
            req.withscores = true;
        } else if is(a, "LIMIT") && left >= 2 {
            req.offset = int(&args[j + 1])?;
            req.limit = int(&args[j + 2])?;
            has_limit = true;
            j += 2;
        } else if rev.is_none() && is(a, "REV") {
            req.rev = true;
        } else if kind == RangeKind::Auto && is(a, "BYLEX") {
            kind = RangeKind::Lex;
        } else if kind == RangeKind::Auto && is(a, "BYSCORE") {
            kind = RangeKind::Score;
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    if kind == RangeKind::Auto {
        kind = RangeKind::Rank;
    }
    req.kind = kind;
    if has_limit && req.limit != -1 && kind == RangeKind::Rank {
        return Err(CmdError::new(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if req.withscores && kind == RangeKind::Lex {
        return Err(CmdError::new(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    if req.rev && kind != RangeKind::Rank {
        // The range is given as max, min.
        std::mem::swap(&mut req.min, &mut req.max);
    }
    Ok(req)
}

/// The members a parsed range selects (missing key: none). Errors are the range's parse errors,
/// reported before the key is looked at, as in Redis.
enum ParsedRange {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

fn parsed(req: &RangeRequest) -> CmdResult<ParsedRange> {
    Ok(match req.kind {
        RangeKind::Score => ParsedRange::Score(ScoreRange::parse(&req.min, &req.max)?),
        RangeKind::Lex => ParsedRange::Lex(LexRange::parse(&req.min, &req.max)?),
        _ => ParsedRange::Rank(int(&req.min)?, int(&req.max)?),
    })
}

fn select_range(z: &ZSetValue, req: &RangeRequest, range: &ParsedRange) -> Vec<(Bytes, f64)> {
    let span = match range {
        ParsedRange::Rank(start, stop) => {
            let (s, e) = rank_span(*start, *stop, z.len());
            // ZREVRANGE's indices count from the highest score.
            let span = if req.rev {
                (z.len() - e, z.len() - s)
            } else {
                (s, e)
            };
            return if span.0 >= span.1 {
                Vec::new()
            } else {
                collect_span(z, span, req.rev, 0, -1)
            };
        }
        ParsedRange::Score(r) => r.span(z),
        ParsedRange::Lex(r) => r.span(z),
    };
    if req.offset < 0 || (req.offset > 0 && req.offset as u64 >= z.len() as u64) {
        return Vec::new();
    }
    collect_span(z, span, req.rev, req.offset as usize, req.limit)
}

fn range_read(ctx: &mut Ctx, kind: RangeKind, rev: Option<bool>) -> CmdResult<Reply> {
    let req = parse_range(ctx.args, 1, false, kind, rev)?;
    let range = parsed(&req)?;
    let db = ctx.db();
    let proto = ctx.client.protocol;
    let Some(z) = read(ctx.ks, db, &ctx.args[1])? else {
        return Ok(Reply::Array(Vec::new()));
    };
    let items = select_range(z, &req, &range);
    Ok(pairs_reply(items, req.withscores, true, proto))
}

fn cmd_zrange(ctx: &mut Ctx) -> CmdResult<Reply> {
    range_read(ctx, RangeKind::Auto, None)
}

fn cmd_zrevrange(ctx: &mut Ctx) -> CmdResult<Reply> {
    range_read(ctx, RangeKind::Rank, Some(true))
}

fn cmd_zrangebyscore(ctx: &mut Ctx) -> CmdResult<Reply> {
    range_read(ctx, RangeKind::Score, Some(false))
}

fn cmd_zrevrangebyscore(ctx: &mut Ctx) -> CmdResult<Reply> {
    range_read(ctx, RangeKind::Score, Some(true))
}

fn cmd_zrangebylex(ctx: &mut Ctx) -> CmdResult<Reply> {
    range_read(ctx, RangeKind::Lex, Some(false))
}

fn cmd_zrevrangebylex(ctx: &mut Ctx) -> CmdResult<Reply> {
    range_read(ctx, RangeKind::Lex, Some(true))
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count].
fn cmd_zrangestore(ctx: &mut Ctx) -> CmdResult<Reply> {
    let req = parse_range(ctx.args, 2, true, RangeKind::Auto, None)?;
    let range = parsed(&req)?;
    let db = ctx.db();
    let limits = crate::types::limits::zset();
    let items = match read(ctx.ks, db, &ctx.args[2])? {
        Some(z) => select_range(z, &req, &range),
        None => Vec::new(),
    };
    // Redis sizes the destination by the range length for a rank range; score and lex ranges
    // start it as a skiplist (their length is not known in advance).
    let hint = match req.kind {
        RangeKind::Rank => items.len(),
        _ => usize::MAX,
    };
    let mut out = ZSetValue::with_hint(hint, 0, limits);
    for (m, s) in &items {
        out.insert(m, *s, limits);
    }
    let n = store(ctx.ks, db, &ctx.args[1], out, "zrangestore");
    Ok(Reply::Int(n as i64))
}

// ---------------------------------------------------------------------------------------------
// ZREMRANGEBY*

/// Removes the members at ranks `start..end` of the set at `key`, with `event`; returns how many.
fn op_remove_span(
    ks: &mut Locked,
    db: usize,
    key: &[u8],
    span: impl FnOnce(&ZSetValue) -> (usize, usize),
    event: &'static str,
) -> CmdResult<usize> {
    let Some(z) = peek(ks, db, key)? else {
        return Ok(0);
    };
    let (start, end) = span(z);
    if start >= end {
        return Ok(0);
    }
    ks.notify(class::ZSET, event, db, key);
    let n = modify(ks, db, key, |z| z.remove_range(start, end));
    Ok(n.unwrap_or(0))
}

fn cmd_zremrangebyrank(ctx: &mut Ctx) -> CmdResult<Reply> {
    let (start, stop) = (int(&ctx.args[2])?, int(&ctx.args[3])?);
    let db = ctx.db();
    let n = op_remove_span(
        ctx.ks,
        db,
        &ctx.args[1],
        |z| rank_span(start, stop, z.len()),
        "zremrangebyrank",
    )?;
    Ok(Reply::Int(n as i64))
}

fn cmd_zremrangebyscore(ctx: &mut Ctx) -> CmdResult<Reply> {
    let range = ScoreRange::parse(&ctx.args[2], &ctx.args[3])?;
    let db = ctx.db();
    let n = op_remove_span(
        ctx.ks,
        db,
        &ctx.args[1],
        |z| range.span(z),
        "zremrangebyscore",
    )?;
    Ok(Reply::Int(n as i64))
}

fn cmd_zremrangebylex(ctx: &mut Ctx) -> CmdResult<Reply> {
    let range = LexRange::parse(&ctx.args[2], &ctx.args[3])?;
    let db = ctx.db();
    let n = op_remove_span(
        ctx.ks,
        db,
        &ctx.args[1],
        |z| range.span(z),
        "zremrangebylex",
    )?;
    Ok(Reply::Int(n as i64))
}

// ---------------------------------------------------------------------------------------------
// Pops

/// Which end a pop takes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Min,
    Max,
}

impl Side {
    fn event(self) -> &'static str {
        match self {
            Side::Min => "zpopmin",
            Side::Max => "zpopmax",
        }
    }
}

/// Pops up to `count` (>= 1) members from the `side` end of the sorted set at `key`, lowest
/// (or highest) first, with the "zpopmin"/"zpopmax" event (and "del" when the set is emptied).
/// None when the key is missing; WRONGTYPE when it holds another type. The blocking forms call
/// this once a key has members.
pub fn op_pop(
    ks: &mut Locked,
    db: usize,
    key: &[u8],
    side: Side,
    count: usize,
) -> CmdResult<Option<Vec<(Bytes, f64)>>> {
    let Some(z) = peek(ks, db, key)? else {
        return Ok(None);
    };
    let n = count.min(z.len());
    if n == 0 {
        return Ok(Some(Vec::new()));
    }
    let start = match side {
        Side::Min => 0,
        Side::Max => z.len() - 1,
    };
    let popped: Vec<(Bytes, f64)> = z
        .iter_from(start, side == Side::Max)
        .take(n)
        .map(|(m, s)| (out(m), s))
        .collect();
    ks.notify(class::ZSET, side.event(), db, key);
    modify(ks, db, key, |z| match side {
        Side::Min => z.remove_range(0, n),
        Side::Max => z.remove_range(z.len() - n, z.len()),
    });
    ks.note_elements(db, key, popped.iter().map(|(m, _)| m));
    Ok(Some(popped))
}

/// ZPOPMIN/ZPOPMAX's reply: a flat `[m, s, ...]`, nested pairs in RESP3 when a count was given.
pub fn pop_reply(items: Vec<(Bytes, f64)>, counted: bool, proto: Protocol) -> Reply {
    pairs_reply(items, true, counted, proto)
}

/// ZMPOP/BZMPOP's reply: `[key, [[m, s], ...]]` in both protocols.
pub fn mpop_reply(key: &Bytes, items: Vec<(Bytes, f64)>) -> Reply {
    Reply::Array(vec![
        bulk(key),
        Reply::Array(
            items
                .into_iter()
                .map(|(m, s)| Reply::Array(vec![Reply::Bulk(m), Reply::Double(s)]))
                .collect(),
        ),
    ])
}

/// BZPOPMIN/BZPOPMAX's reply for one popped member: `[key, member, score]`.
pub fn bzpop_reply(key: &Bytes, member: Bytes, score: f64) -> Reply {
    Reply::Array(vec![bulk(key), Reply::Bulk(member), Reply::Double(score)])
}

fn zpop_generic(ctx: &mut Ctx, side: Side) -> CmdResult<Reply> {
    let argc = ctx.args.len();
    if argc > 3 {
        return Err(CmdError::syntax());
    }
    let count = if argc == 3 {
        let n = int(&ctx.args[2]).map_err(|_| CmdError::new(POSITIVE))?;
        if n < 0 {
            return Err(CmdError::new(POSITIVE));
        }
        Some(n as usize)
    } else {
        None
    };
    let db = ctx.db();
    let proto = ctx.client.protocol;
    if count == Some(0) {
        // Redis still checks the key's type first.
        peek(ctx.ks, db, &ctx.args[1])?;
        return Ok(Reply::Array(Vec::new()));
    }
    let items = op_pop(ctx.ks, db, &ctx.args[1], side, count.unwrap_or(1))?.unwrap_or_default();
    Ok(pop_reply(items, count.is_some(), proto))
}

fn cmd_zpopmin(ctx: &mut Ctx) -> CmdResult<Reply> {
    zpop_generic(ctx, Side::Min)
}

fn cmd_zpopmax(ctx: &mut Ctx) -> CmdResult<Reply> {
    zpop_generic(ctx, Side::Max)
}

/// Parses `numkeys key [key ...] MIN|MAX [COUNT count]` starting at `args[numkeys_at]` (ZMPOP:
/// 1, BZMPOP: 2): the keys' argument range, the side and the count (default 1).
fn parse_mpop(
    args: &[Bytes],
    numkeys_at: usize,
) -> CmdResult<(std::ops::Range<usize>, Side, usize)> {
    let numkeys = crate::protocol::parse_i64(&args[numkeys_at])
        .filter(|&n| n >= 1)
        .ok_or_else(|| CmdError::new("ERR numkeys should be greater than 0"))?;
    let where_at = (numkeys_at as u64 + 1).saturating_add(numkeys as u64);
    if where_at >= args.len() as u64 {
        return Err(CmdError::syntax());
    }
    let where_at = where_at as usize;
    let side = if is(&args[where_at], "MIN") {
        Side::Min
    } else if is(&args[where_at], "MAX") {
        Side::Max
    } else {
        return Err(CmdError::syntax());
    };
    let mut count: Option<usize> = None;
    let mut j = where_at + 1;
    while j < args.len() {
        if count.is_none() && is(&args[j], "COUNT") && j + 1 < args.len() {
            j += 1;
            let n = crate::protocol::parse_i64(&args[j])
                .filter(|&n| n >= 1)
                .ok_or_else(|| CmdError::new("ERR count should be greater than 0"))?;
            count = Some(n as usize);
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    Ok((numkeys_at + 1..where_at, side, count.unwrap_or(1)))
}

/// Pops from the first of `keys` that holds members: ZMPOP/BZMPOP's reply, None when all are
/// missing.
fn op_mpop(
    ks: &mut Locked,
    db: usize,
    keys: &[Bytes],
    side: Side,
    count: usize,
) -> CmdResult<Option<Reply>> {
    for key in keys {
        if let Some(items) = op_pop(ks, db, key, side, count)? {
            return Ok(Some(mpop_reply(key, items)));
        }
    }
    Ok(None)
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count].
fn cmd_zmpop(ctx: &mut Ctx) -> CmdResult<Reply> {
    let (keys, side, count) = parse_mpop(ctx.args, 1)?;
    let db = ctx.db();
    Ok(op_mpop(ctx.ks, db, &ctx.args[keys], side, count)?.unwrap_or(Reply::NilArray))
}

// ---------------------------------------------------------------------------------------------
// BZPOPMIN BZPOPMAX BZMPOP: the non-blocking attempt, handed to `blocking::block_or_reply`,
// which runs it again for the waiting client when one of its keys is created as a sorted set.

/// BZPOPMIN/BZPOPMAX's attempt: `[key, member, score]` from the first key with members.
fn try_bzpop(ks: &mut Locked, db: usize, args: &[Bytes], side: Side) -> CmdResult<Option<Reply>> {
    for key in &args[1..args.len() - 1] {
        if let Some(mut items) = op_pop(ks, db, key, side, 1)? {
            if let Some((member, score)) = items.pop() {
                return Ok(Some(bzpop_reply(key, member, score)));
            }
        }
    }
    Ok(None)
}

fn try_bzpopmin(
    _: &Server,
    ks: &mut Locked,
    db: usize,
    args: &[Bytes],
) -> CmdResult<Option<Reply>> {
    try_bzpop(ks, db, args, Side::Min)
}

fn try_bzpopmax(
    _: &Server,
    ks: &mut Locked,
    db: usize,
    args: &[Bytes],
) -> CmdResult<Option<Reply>> {
    try_bzpop(ks, db, args, Side::Max)
}

fn bzpop_generic(ctx: &mut Ctx, try_serve: blocking::TryServe) -> CmdResult<Reply> {
    let args = ctx.args;
    let deadline = blocking::parse_timeout(&args[args.len() - 1], std::time::Instant::now())?;
    blocking::block_or_reply(
        ctx,
        "zset",
        &args[1..args.len() - 1],
        deadline,
        try_serve,
        Reply::NilArray,
    )
}

/// BZPOPMIN key [key ...] timeout.
fn cmd_bzpopmin(ctx: &mut Ctx) -> CmdResult<Reply> {
    bzpop_generic(ctx, try_bzpopmin)
}

/// BZPOPMAX key [key ...] timeout.
fn cmd_bzpopmax(ctx: &mut Ctx) -> CmdResult<Reply> {
    bzpop_generic(ctx, try_bzpopmax)
}

fn try_bzmpop(_: &Server, ks: &mut Locked, db: usize, args: &[Bytes]) -> CmdResult<Option<Reply>> {
    let (keys, side, count) = parse_mpop(args, 2)?;
    op_mpop(ks, db, &args[keys], side, count)
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count].
fn cmd_bzmpop(ctx: &mut Ctx) -> CmdResult<Reply> {
    let args = ctx.args;
    let (keys, _, _) = parse_mpop(args, 2)?;
    let deadline = blocking::parse_timeout(&args[1], std::time::Instant::now())?;
    blocking::block_or_reply(
        ctx,
        "zset",
        &args[keys],
        deadline,
        try_bzmpop,
        Reply::NilArray,
    )
}

// ---------------------------------------------------------------------------------------------
// ZRANDMEMBER

fn cmd_zrandmember(ctx: &mut Ctx) -> CmdResult<Reply> {
    let argc = ctx.args.len();
    let db = ctx.db();
    let proto = ctx.client.protocol;
    if argc == 2 {
        let Some(z) = read(ctx.ks, db, &ctx.args[1])? else {
            return Ok(Reply::Nil);
        };
        let r = rand::thread_rng().gen_range(0..z.len().max(1));
        return Ok(z.at(r).map_or(Reply::Nil, |(m, _)| bulk(m)));
    }
    let count = picks::count_arg(&ctx.args[2])?;
    if argc > 4 || (argc == 4 && !is(&ctx.args[3], "WITHSCORES")) {
        return Err(CmdError::syntax());
    }
    let withscores = argc == 4;
    picks::check_count(count, withscores)?;
    let Some(z) = read(ctx.ks, db, &ctx.args[1])? else {
        return Ok(Reply::Array(Vec::new()));
    };
    let items: Vec<(Bytes, f64)> = if count >= 0 && count as u64 >= z.len() as u64 {
        // The whole set, in rank order.
        z.iter().map(|(m, s)| (out(m), s)).collect()
    } else {
        picks::positions(z.len(), count)
            .into_iter()
            .filter_map(|r| z.at(r).map(|(m, s)| (out(m), s)))
            .collect()
    };
    Ok(pairs_reply(items, withscores, true, proto))
}

// ---------------------------------------------------------------------------------------------
// ZUNION / ZINTER / ZDIFF and their STORE forms, ZINTERCARD

/// One input of the set operations: a sorted set, or a plain set whose members score 1.
enum Source {
    Missing,
    Z(Arc<ZSetValue>),
    S(Arc<SetValue>),
}

impl Source {
    fn len(&self) -> usize {
        match self {
            Source::Missing => 0,
            Source::Z(z) => z.len(),
            Source::S(s) => s.len(),
        }
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Source::Missing => None,
            Source::Z(z) => z.score(member),
            Source::S(s) => s.contains(member).then_some(1.0),
        }
    }

    fn for_each(&self, mut f: impl FnMut(&Bytes, f64)) {
        match self {
            Source::Missing => {}
            Source::Z(z) => z.iter().for_each(|(m, s)| f(m, s)),
            Source::S(s) => s.iter().for_each(|m| f(m, 1.0)),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

fn aggregate(target: &mut f64, val: f64, agg: Aggregate) {
    match agg {
        Aggregate::Sum => {
            *target += val;
            // inf + -inf: Redis's convention is 0.
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if val < *target {
                *target = val;
            }
        }
        Aggregate::Max => {
            if val > *target {
                *target = val;
            }
        }
    }
}

/// A parsed ZUNION/ZINTER/ZDIFF/ZINTERCARD request (and STORE forms).
struct SetOpRequest {
    keys_at: usize,
    numkeys: usize,
    weights: Vec<f64>,
    agg: Aggregate,
    withscores: bool,
    limit: usize,
}

fn parse_setop(
    args: &[Bytes],
    numkeys_at: usize,
    op: SetOp,
    store: bool,
    card: bool,
    name: &str,
) -> CmdResult<SetOpRequest> {
    let n = int(&args[numkeys_at])?;
    if n < 1 {
        return Err(CmdError::new(format!(
            "ERR at least 1 input key is needed for '{name}' command"
        )));
    }
    if n as u64 > (args.len() - numkeys_at - 1) as u64 {
        return Err(CmdError::syntax());
    }
    let numkeys = n as usize;
    let mut req = SetOpRequest {
        keys_at: numkeys_at + 1,
        numkeys,
        weights: vec![1.0; numkeys],
        agg: Aggregate::Sum,
        withscores: false,
        limit: 0,
    };
    let mut j = numkeys_at + 1 + numkeys;
    while j < args.len() {
        let remaining = args.len() - j;
        let a = &args[j];
        if op != SetOp::Diff && !card && remaining > numkeys && is(a, "WEIGHTS") {
            j += 1;
            for w in req.weights.iter_mut() {
                *w = score_arg(&args[j], "ERR weight value is not a float")?;
                j += 1;
            }
        } else if op != SetOp::Diff && !card && remaining >= 2 && is(a, "AGGREGATE") {
            let v = &args[j + 1];
            req.agg = if is(v, "SUM") {
                Aggregate::Sum
            } else if is(v, "MIN") {
                Aggregate::Min
            } else if is(v, "MAX") {
                Aggregate::Max
            } else {
                return Err(CmdError::syntax());
            };
            j += 2;
        } else if !store && !card && is(a, "WITHSCORES") {
            req.withscores = true;
            j += 1;
        } else if card && remaining >= 2 && is(a, "LIMIT") {
            let l = crate::protocol::parse_i64(&args[j + 1])
                .filter(|&l| l >= 0)
                .ok_or_else(|| CmdError::new("ERR LIMIT can't be negative"))?;
            req.limit = l as usize;
            j += 2;
        } else {
            return Err(CmdError::syntax());
        }
    }
    Ok(req)
}

/// The inputs, with every key's type checked (sorted sets and sets only).
fn sources(ks: &mut Locked, db: usize, keys: &[Bytes]) -> CmdResult<Vec<Source>> {
    keys.iter()
        .map(|k| match ks.get(db, k) {
            None => Ok(Source::Missing),
            Some(e) => match &e.value {
                Value::ZSet(z) => Ok(Source::Z(z.clone())),
                Value::Set(s) => Ok(Source::S(s.clone())),
                _ => Err(CmdError::wrongtype()),
            },
        })
        .collect()
}

/// Computes a union, intersection or difference into a new sorted set (or, for ZINTERCARD,
/// only counts the intersection up to `req.limit`, returning the count).
fn op_setop(
    srcs: Vec<Source>,
    req: &SetOpRequest,
    op: SetOp,
    card: bool,
    limits: Limits,
) -> (ZSetValue, usize) {
    let mut result = ZSetValue::with_hint(0, 0, limits);
    let mut inputs: Vec<(Source, f64)> =
        srcs.into_iter().zip(req.weights.iter().copied()).collect();
    if op != SetOp::Diff {
        inputs.sort_by_key(|(s, _)| s.len());
    }
    let mut count = 0usize;
    match op {
        SetOp::Inter => {
            let Some(((first, w0), rest)) = inputs.split_first() else {
                return (result, 0);
            };
            if first.len() == 0 {
                return (result, 0);
            }
            let mut done = false;
            first.for_each(|m, s| {
                if done {
                    return;
                }
                let mut score = w0 * s;
                if score.is_nan() {
                    score = 0.0;
                }
                for (src, w) in rest {
                    match src.score(m) {
                        Some(v) => aggregate(&mut score, v * w, req.agg),
                        None => return,
                    }
                }
                count += 1;
                if card {
                    if req.limit != 0 && count >= req.limit {
                        done = true;
                    }
                } else {
                    result.insert(m, score, limits);
                }
            });
        }
        SetOp::Union => {
            let mut acc: hashbrown::HashMap<Bytes, f64, foldhash::fast::RandomState> =
                hashbrown::HashMap::default();
            for (src, w) in &inputs {
                src.for_each(|m, s| {
                    let mut score = w * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get_mut(&m[..]) {
                        Some(cur) => aggregate(cur, score, req.agg),
                        None => {
                            acc.insert(out(m), score);
                        }
                    }
                });
            }
            for (m, s) in acc {
                result.insert(&m, s, limits);
            }
        }
        SetOp::Diff => {
            if let Some(((first, _), rest)) = inputs.split_first() {
                first.for_each(|m, s| {
                    if !rest.iter().any(|(src, _)| src.score(m).is_some()) {
                        result.insert(m, s, limits);
                    }
                });
            }
        }
    }
    let n = if card { count } else { result.len() };
    (result, n)
}

fn setop_read(ctx: &mut Ctx, op: SetOp) -> CmdResult<Reply> {
    let req = parse_setop(ctx.args, 1, op, false, false, ctx.spec.name)?;
    let db = ctx.db();
    let proto = ctx.client.protocol;
    let limits = crate::types::limits::zset();
    let srcs = sources(
        ctx.ks,
        db,
        &ctx.args[req.keys_at..req.keys_at + req.numkeys],
    )?;
    let (z, _) = op_setop(srcs, &req, op, false, limits);
    let items: Vec<(Bytes, f64)> = z.iter().map(|(m, s)| (out(m), s)).collect();
    Ok(pairs_reply(items, req.withscores, true, proto))
}

fn setop_store(ctx: &mut Ctx, op: SetOp, event: &'static str) -> CmdResult<Reply> {
    let req = parse_setop(ctx.args, 2, op, true, false, ctx.spec.name)?;
    let db = ctx.db();
    let limits = crate::types::limits::zset();
    let srcs = sources(
        ctx.ks,
        db,
        &ctx.args[req.keys_at..req.keys_at + req.numkeys],
    )?;
    let (mut z, _) = op_setop(srcs, &req, op, false, limits);
    z.encode_by_size(limits);
    let n = store(ctx.ks, db, &ctx.args[1], z, event);
    Ok(Reply::Int(n as i64))
}

fn cmd_zunion(ctx: &mut Ctx) -> CmdResult<Reply> {
    setop_read(ctx, SetOp::Union)
}

fn cmd_zinter(ctx: &mut Ctx) -> CmdResult<Reply> {
    setop_read(ctx, SetOp::Inter)
}

fn cmd_zdiff(ctx: &mut Ctx) -> CmdResult<Reply> {
    setop_read(ctx, SetOp::Diff)
}

fn cmd_zunionstore(ctx: &mut Ctx) -> CmdResult<Reply> {
    setop_store(ctx, SetOp::Union, "zunionstore")
}

fn cmd_zinterstore(ctx: &mut Ctx) -> CmdResult<Reply> {
    setop_store(ctx, SetOp::Inter, "zinterstore")
}

fn cmd_zdiffstore(ctx: &mut Ctx) -> CmdResult<Reply> {
    setop_store(ctx, SetOp::Diff, "zdiffstore")
}

fn cmd_zintercard(ctx: &mut Ctx) -> CmdResult<Reply> {
    let req = parse_setop(ctx.args, 1, SetOp::Inter, false, true, ctx.spec.name)?;
    let db = ctx.db();
    let limits = crate::types::limits::zset();
    let srcs = sources(
        ctx.ks,
        db,
        &ctx.args[req.keys_at..req.keys_at + req.numkeys],
    )?;
    let (_, n) = op_setop(srcs, &req, SetOp::Inter, true, limits);
    Ok(Reply::Int(n as i64))
}

// ---------------------------------------------------------------------------------------------
// ZSCAN

/// ZSCAN key cursor [MATCH pattern] [COUNT count]: members and scores in a flat list, scores as
/// bulk strings. A listpack set answers in one call with cursor 0, as Redis does; a skiplist one
/// is walked COUNT arena slots at a time: a member keeps its slot for as long as it is in the
/// set, so every member present for the whole scan is returned (members added meanwhile may
/// reuse freed slots behind the cursor and be missed, which SCAN allows).
fn cmd_zscan(ctx: &mut Ctx) -> CmdResult<Reply> {
    let cursor = parse_cursor(&ctx.args[2])?;
    let db = ctx.db();
    let opts = super::args::collection_scan_options(ctx.args);
    let Some(z) = read(ctx.ks, db, &ctx.args[1])? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let opts = opts?;
    // Redis formats a listpack's scores as they are stored (shortest round trip) and a
    // skiplist's with `%.17Lg`.
    let g17 = z.encoding() == "skiplist";
    let mut items = Vec::new();
    let mut push = |m: &Bytes, s: f64| {
        if opts.matches(m) {
            items.push(bulk(m));
            let text = if g17 {
                format_g17(s)
            } else {
                crate::protocol::format_double(s)
            };
            items.push(Reply::Bulk(Bytes::from(text)));
        }
    };
    // A skiplist is walked by arena slot; a listpack is answered at once, in rank order.
    let next = if g17 {
        let (range, next) = opts.positions(z.slots(), cursor, true);
        for (m, s) in range.filter_map(|i| z.slot(i)) {
            push(m, s);
        }
        next
    } else {
        for (m, s) in z.iter() {
            push(m, s);
        }
        0
    };
    Ok(scan_reply(next, items))
}

/// C's `%.17g`: 17 significant digits, fixed notation for exponents from -4 to 16, trailing
/// zeros dropped.
fn format_g17(d: f64) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.into();
    }
    let sci = format!("{:.16e}", d.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut out = String::new();
    if d.is_sign_negative() {
        out.push('-');
    }
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if (-4..17).contains(&exp) {
        let fixed = if exp >= 0 {
            let (int, frac) = digits.split_at(exp as usize + 1);
            format!("{int}.{frac}")
        } else {
            format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
        };
        out.push_str(&trim(&fixed));
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(&trim(&format!("{first}.{rest}")));
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    }
    out
}

/// This family's commands: [`command!`](super::command) with the group fixed.
macro_rules! cmd {
    ($($spec:tt)*) => {
        super::command!("sorted-set", $($spec)*)
    };
}

pub const COMMANDS: &[CommandSpec] = &[
    cmd!("zadd", -4, WRITE | DENYOOM | FAST, KeySpec::ONE, "1.2.0",
        "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
        "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.",
        cmd_zadd),
    cmd!("zincrby", 4, WRITE | DENYOOM | FAST, KeySpec::ONE, "1.2.0",
        "O(log(N)) where N is the number of elements in the sorted set.",
        "Increments the score of a member in a sorted set.", cmd_zincrby),
    cmd!("zrem", -3, WRITE | FAST, KeySpec::ONE, "1.2.0",
        "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
        "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.",
        cmd_zrem),
    cmd!("zcard", 2, READONLY | FAST, KeySpec::ONE, "1.2.0", "O(1)",
        "Returns the number of members in a sorted set.", cmd_zcard),
    cmd!("zscore", 3, READONLY | FAST | ELEMENT_READ, KeySpec::ONE, "1.2.0", "O(1)",
        "Returns the score of a member in a sorted set.", cmd_zscore),
    cmd!("zmscore", -3, READONLY | FAST | ELEMENT_READ, KeySpec::ONE, "6.2.0",
        "O(N) where N is the number of members being requested.",
        "Returns the score of one or more members in a sorted set.", cmd_zmscore),
    cmd!("zrank", -3, READONLY | FAST, KeySpec::ONE, "2.0.0", "O(log(N))",
        "Returns the index of a member in a sorted set ordered by ascending scores.", cmd_zrank),
    cmd!("zrevrank", -3, READONLY | FAST, KeySpec::ONE, "2.0.0", "O(log(N))",
        "Returns the index of a member in a sorted set ordered by descending scores.", cmd_zrevrank),
    cmd!("zcount", 4, READONLY | FAST, KeySpec::ONE, "2.0.0",
        "O(log(N)) with N being the number of elements in the sorted set.",
        "Returns the count of members in a sorted set that have scores within a range.", cmd_zcount),
    cmd!("zlexcount", 4, READONLY | FAST, KeySpec::ONE, "2.8.9",
        "O(log(N)) with N being the number of elements in the sorted set.",
        "Returns the number of members in a sorted set within a lexicographical range.", cmd_zlexcount),
    cmd!("zrange", -4, READONLY, KeySpec::ONE, "1.2.0",
        "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
        "Returns members in a sorted set within a range of indexes.", cmd_zrange),
    cmd!("zrangestore", -5, WRITE | DENYOOM, KeySpec::range(1, 2, 1), "6.2.0",
        "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.",
        "Stores a range of members from sorted set in a key.", cmd_zrangestore),
    cmd!("zrevrange", -4, READONLY, KeySpec::ONE, "1.2.0",
        "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
        "Returns members in a sorted set within a range of indexes in reverse order.", cmd_zrevrange),
    cmd!("zrangebyscore", -4, READONLY, KeySpec::ONE, "1.0.5",
        "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        "Returns members in a sorted set within a range of scores.", cmd_zrangebyscore),
    cmd!("zrevrangebyscore", -4, READONLY, KeySpec::ONE, "2.2.0",
        "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        "Returns members in a sorted set within a range of scores in reverse order.", cmd_zrevrangebyscore),
    cmd!("zrangebylex", -4, READONLY, KeySpec::ONE, "2.8.9",
        "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        "Returns members in a sorted set within a lexicographical range.", cmd_zrangebylex),
    cmd!("zrevrangebylex", -4, READONLY, KeySpec::ONE, "2.8.9",
        "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        "Returns members in a sorted set within a lexicographical range in reverse order.", cmd_zrevrangebylex),
    cmd!("zremrangebyrank", 4, WRITE, KeySpec::ONE, "2.0.0",
        "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.",
        cmd_zremrangebyrank),
    cmd!("zremrangebyscore", 4, WRITE, KeySpec::ONE, "1.2.0",
        "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.",
        cmd_zremrangebyscore),
    cmd!("zremrangebylex", 4, WRITE, KeySpec::ONE, "2.8.9",
        "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.",
        cmd_zremrangebylex),
    cmd!("zpopmin", -2, WRITE | FAST, KeySpec::ONE, "5.0.0",
        "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
        "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
        cmd_zpopmin),
    cmd!("zpopmax", -2, WRITE | FAST, KeySpec::ONE, "5.0.0",
        "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
        "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
        cmd_zpopmax),
    cmd!("bzpopmin", -3, WRITE | FAST | BLOCKING, KeySpec::range(1, -2, 1), "5.0.0",
        "O(log(N)) with N being the number of elements in the sorted set.",
        "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.",
        cmd_bzpopmin),
    cmd!("bzpopmax", -3, WRITE | FAST | BLOCKING, KeySpec::range(1, -2, 1), "5.0.0",
        "O(log(N)) with N being the number of elements in the sorted set.",
        "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.",
        cmd_bzpopmax),
    cmd!("bzmpop", -5, WRITE | BLOCKING, KeySpec::numkeys(2), "7.0.0",
        "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
        "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.",
        cmd_bzmpop),
    cmd!("zmpop", -4, WRITE, KeySpec::numkeys(1), "7.0.0",
        "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
        "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.",
        cmd_zmpop),
    cmd!("zrandmember", -2, READONLY, KeySpec::ONE, "6.2.0",
        "O(N) where N is the number of members returned",
        "Returns one or more random members from a sorted set.", cmd_zrandmember),
    cmd!("zunion", -3, READONLY, KeySpec::numkeys(1), "6.2.0",
        "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
        "Returns the union of multiple sorted sets.", cmd_zunion),
    cmd!("zinter", -3, READONLY, KeySpec::numkeys(1), "6.2.0",
        "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
        "Returns the intersect of multiple sorted sets.", cmd_zinter),
    cmd!("zdiff", -3, READONLY, KeySpec::numkeys(1), "6.2.0",
        "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
        "Returns the difference between multiple sorted sets.", cmd_zdiff),
    cmd!("zunionstore", -4, WRITE | DENYOOM, KeySpec::dest_and_numkeys(1, 2), "2.0.0",
        "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
        "Stores the union of multiple sorted sets in a key.", cmd_zunionstore),
    cmd!("zinterstore", -4, WRITE | DENYOOM, KeySpec::dest_and_numkeys(1, 2), "2.0.0",
        "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
        "Stores the intersect of multiple sorted sets in a key.", cmd_zinterstore),
    cmd!("zdiffstore", -4, WRITE | DENYOOM, KeySpec::dest_and_numkeys(1, 2), "6.2.0",
        "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
        "Stores the difference of multiple sorted sets in a key.", cmd_zdiffstore),
    cmd!("zintercard", -3, READONLY, KeySpec::numkeys(1), "7.0.0",
        "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
        "Returns the number of members of the intersect of multiple sorted sets.", cmd_zintercard),
    cmd!("zscan", -3, READONLY, KeySpec::ONE, "2.8.0",
        "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
        "Iterates over members and scores of a sorted set.", cmd_zscan),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g17_matches_c() {
        for (d, text) in [
            (0.1, "0.10000000000000001"),
            (1.5, "1.5"),
            (3.0, "3"),
            (-0.0, "-0"),
            (1e300, "1.0000000000000001e+300"),
            (123456789.123, "123456789.123"),
            (1e-5, "1.0000000000000001e-05"),
            (0.0001, "0.0001"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
        ] {
            assert_eq!(format_g17(d), text, "{d}");
        }
    }

    fn events(ks: &crate::keyspace::Locked) -> Vec<&'static str> {
        ks.events.iter().map(|e| e.event).collect()
    }

    #[test]
    fn keyspace_events_as_redis_emits_them() {
        use crate::keyspace::{Clock, Keyspace};
        let keyspace = Keyspace::new(1);
        let mut ks = keyspace.lock_all(Clock {
            now_ms: 1000,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
        });
        ks.notify_mask = !crate::keyspace::class::NEW;
        let limits = Limits::default();
        let (a, b) = (Bytes::from_static(b"a"), Bytes::from_static(b"b"));
        let pairs = [(1.0, &a), (2.0, &b)];
        op_zadd(&mut ks, 0, b"z", &pairs, AddFlags::default(), limits).unwrap();
        // Nothing changes: no event.
        op_zadd(&mut ks, 0, b"z", &pairs, AddFlags::default(), limits).unwrap();
        let incr = AddFlags {
            incr: true,
            ..AddFlags::default()
        };
        op_zadd(&mut ks, 0, b"z", &[(1.0, &a)], incr, limits).unwrap();
        assert_eq!(events(&ks), ["zadd", "zincr"]);
        ks.events.clear();
        let popped = op_pop(&mut ks, 0, b"z", Side::Max, 1).unwrap().unwrap();
        assert_eq!(popped, vec![(b.clone(), 2.0)]);
        let n = op_remove_span(&mut ks, 0, b"z", |z| (0, z.len()), "zremrangebyrank").unwrap();
        assert_eq!(n, 1);
        assert_eq!(events(&ks), ["zpopmax", "zremrangebyrank", "del"]);
        assert!(ks.peek(0, b"z").is_none());
        ks.events.clear();
        assert_eq!(op_pop(&mut ks, 0, b"z", Side::Min, 1).unwrap(), None);
        assert_eq!(
            store(&mut ks, 0, b"d", ZSetValue::default(), "zunionstore"),
            0
        );
        assert!(events(&ks).is_empty());
        let mut one = ZSetValue::default();
        one.insert(b"m", 1.0, limits);
        store(&mut ks, 0, b"d", one, "zunionstore");
        store(&mut ks, 0, b"d", ZSetValue::default(), "zinterstore");
        assert_eq!(events(&ks), ["zunionstore", "del"]);
    }

    #[test]
    fn strtod_rules() {
        assert_eq!(score_arg(b"0x10", NOT_FLOAT), Ok(16.0));
        assert_eq!(score_arg(b"0x1.8p1", NOT_FLOAT), Ok(3.0));
        assert_eq!(score_arg(b"-1e3", NOT_FLOAT), Ok(-1000.0));
        assert_eq!(score_arg(b"+inf", NOT_FLOAT), Ok(f64::INFINITY));
        assert_eq!(score_arg(b"-Infinity", NOT_FLOAT), Ok(f64::NEG_INFINITY));
        for bad in [
            &b"1e400"[..],
            b"1e-400",
            b" 1",
            b"",
            b"nan",
            b"1x",
            b"--1",
            b"0x",
        ] {
            assert!(score_arg(bad, NOT_FLOAT).is_err(), "{bad:?}");
        }
        assert_eq!(score_arg(b"0e-400", NOT_FLOAT), Ok(0.0));
        assert_eq!(range_float(b""), Some(0.0));
        assert_eq!(range_float(b" 1"), Some(1.0));
        assert_eq!(range_float(b"1e400"), Some(f64::INFINITY));
        assert_eq!(range_float(b"  "), None);
        assert_eq!(range_float(b"nan"), None);
    }
}
