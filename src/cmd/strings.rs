//! String commands: GET, SET and friends, counters, ranges.
//!
//! Values are `Bytes`; a write that changes part of a value (APPEND, SETRANGE) edits the buffer in
//! place when no reader shares it, and copies it first otherwise.

use bytes::{Bytes, BytesMut};

pub mod longdouble;

use super::args::{int, is};
use super::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult, NAN_OR_INF, NOT_FLOAT, OVERFLOW, STRING_TOO_LONG};
use crate::keyspace::{class, Entry, Locked, StrEncoding};
use crate::protocol::Reply;
use crate::types::Value;
use longdouble::{Ld, LongDouble};

/// The string stored in `entry`, or WRONGTYPE.
pub fn as_str(entry: &Entry) -> CmdResult<&Bytes> {
    match &entry.value {
        Value::Str(s) => Ok(s),
        _ => Err(CmdError::wrongtype()),
    }
}

/// GET semantics: the string at `key`, None when missing, WRONGTYPE for other types.
pub fn op_get(ks: &mut Locked, db: usize, key: &[u8]) -> CmdResult<Option<Bytes>> {
    match ks.get(db, key) {
        Some(e) => Ok(Some(share_or_copy(as_str(e)?))),
        None => Ok(None),
    }
}

/// Values up to this size are copied out of the keyspace rather than shared: copying them
/// is cheaper than the atomic reference-count update on a cache line another core may own, and
/// it never turns the stored buffer into a shared one.
const COPY_OUT_MAX: usize = 16 * 1024;

/// A handle on `value` for a reply: a copy when small, a shared reference when large.
pub fn share_or_copy(value: &Bytes) -> Bytes {
    if value.len() <= COPY_OUT_MAX {
        Bytes::copy_from_slice(value)
    } else {
        value.clone()
    }
}

fn bulk_or_nil(v: Option<Bytes>) -> Reply {
    v.map_or(Reply::Nil, Reply::Bulk)
}

fn cmd_get(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    Ok(bulk_or_nil(op_get(ctx.ks, db, &ctx.args[1])?))
}

/// The unit of an `EX`/`PX`/`EXAT`/`PXAT` option.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Unit {
    Ex,
    Px,
    ExAt,
    PxAt,
}

/// The options of SET (`NX XX GET KEEPTTL EX PX EXAT PXAT`) or GETEX (`PERSIST EX PX EXAT PXAT`).
#[derive(Default)]
struct StrOpts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    /// The last expiry option and its (not yet validated) argument.
    expire: Option<(Unit, &'a [u8])>,
}

/// Parses SET's (`set` true) or GETEX's options from `args[start..]` with Redis's rules: NX and
/// XX exclude each other, KEEPTTL/PERSIST exclude the expiry options, two different expiry
/// options are an error but the same one twice is not (the last wins); anything else, or an
/// expiry option without a value, is a syntax error. The expiry value is checked later.
fn parse_str_opts(args: &[Bytes], start: usize, set: bool) -> CmdResult<StrOpts<'_>> {
    let mut o = StrOpts::default();
    let mut i = start;
    while i < args.len() {
        let opt = &args[i][..];
        let unit = [
            ("EX", Unit::Ex),
            ("PX", Unit::Px),
            ("EXAT", Unit::ExAt),
            ("PXAT", Unit::PxAt),
        ]
        .into_iter()
        .find(|(name, _)| is(opt, name))
        .map(|(_, u)| u);
        if set && is(opt, "NX") && !o.xx {
            o.nx = true;
        } else if set && is(opt, "XX") && !o.nx {
            o.xx = true;
        } else if set && is(opt, "GET") {
            o.get = true;
        } else if set && is(opt, "KEEPTTL") && o.expire.is_none() {
            o.keepttl = true;
        } else if !set && is(opt, "PERSIST") && o.expire.is_none() {
            o.persist = true;
        } else if let Some(unit) = unit.filter(|u| {
            !o.keepttl
                && !o.persist
                && o.expire.is_none_or(|(cur, _)| cur == *u)
                && i + 1 < args.len()
        }) {
            o.expire = Some((unit, &args[i + 1][..]));
            i += 1;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    Ok(o)
}

/// Turns `EX 10` / `PX 100` / `EXAT t` / `PXAT t` into an absolute expiry in Unix ms, with
/// Redis's checks: an integer, positive, and no overflow (`invalid expire time in 'set'
/// command`). The result may lie in the past (EXAT/PXAT).
fn expiry_at(unit: Unit, arg: &[u8], now_ms: u64, cmd: &str) -> CmdResult<u64> {
    let n = int(arg)?;
    let seconds = matches!(unit, Unit::Ex | Unit::ExAt);
    if n <= 0 || (seconds && n > i64::MAX / 1000) {
        return Err(CmdError::invalid_expire(cmd));
    }
    let ms = if seconds { n * 1000 } else { n };
    let at = match unit {
        Unit::Ex | Unit::Px => ms
            .checked_add(now_ms as i64)
            .ok_or_else(|| CmdError::invalid_expire(cmd))?,
        Unit::ExAt | Unit::PxAt => ms,
    };
    Ok(at as u64)
}

fn cmd_set(ctx: &mut Ctx) -> CmdResult<Reply> {
    let o = parse_str_opts(ctx.args, 3, true)?;
    let at = match o.expire {
        Some((unit, arg)) => Some(expiry_at(unit, arg, ctx.now_ms(), "set")?),
        None => None,
    };
    let db = ctx.db();
    let key = &ctx.args[1];
    let old = if o.get {
        match ctx.ks.get(db, key) {
            Some(e) => Some(as_str(e)?.clone()),
            None => None,
        }
    } else {
        None
    };
    let exists = if o.get {
        old.is_some()
    } else {
        (o.nx || o.xx) && ctx.ks.contains(db, key)
    };
    if (o.nx && exists) || (o.xx && !exists) {
        return Ok(if o.get { bulk_or_nil(old) } else { Reply::Nil });
    }
    let value = Value::Str(Bytes::copy_from_slice(&ctx.args[2]));
    if o.keepttl {
        if !ctx.ks.set_keep_ttl(db, key, value.clone()) {
            ctx.ks.set(db, key, value, 0);
        }
    } else {
        // An EXAT/PXAT in the past stores a key that is already expired, as in Redis: the next
        // access (or active expiry) removes it.
        ctx.ks.set(db, key, value, at.unwrap_or(0));
    }
    ctx.ks.notify(class::STRING, "set", db, key);
    if at.is_some() {
        ctx.ks.notify(class::GENERIC, "expire", db, key);
    }
    Ok(if o.get { bulk_or_nil(old) } else { Reply::Ok })
}

fn cmd_setnx(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    if ctx.ks.contains(db, &ctx.args[1]) {
        return Ok(Reply::Int(0));
    }
    ctx.ks.set(
        db,
        &ctx.args[1],
        Value::Str(Bytes::copy_from_slice(&ctx.args[2])),
        0,
    );
    ctx.ks.notify(class::STRING, "set", db, &ctx.args[1]);
    Ok(Reply::Int(1))
}

fn setex(ctx: &mut Ctx, unit: Unit, name: &str) -> CmdResult<Reply> {
    let at = expiry_at(unit, &ctx.args[2], ctx.now_ms(), name)?;
    let db = ctx.db();
    ctx.ks.set(
        db,
        &ctx.args[1],
        Value::Str(Bytes::copy_from_slice(&ctx.args[3])),
        at,
    );
    ctx.ks.notify(class::STRING, "set", db, &ctx.args[1]);
    ctx.ks.notify(class::GENERIC, "expire", db, &ctx.args[1]);
    Ok(Reply::Ok)
}

fn cmd_setex(ctx: &mut Ctx) -> CmdResult<Reply> {
    setex(ctx, Unit::Ex, "setex")
}

fn cmd_psetex(ctx: &mut Ctx) -> CmdResult<Reply> {
    setex(ctx, Unit::Px, "psetex")
}

fn cmd_mget(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let mut out = Vec::with_capacity(ctx.args.len() - 1);
    for key in &ctx.args[1..] {
        // MGET answers nil for keys of other types instead of failing.
        out.push(match ctx.ks.get(db, key) {
            Some(Entry {
                value: Value::Str(s),
                ..
            }) => Reply::Bulk(s.clone()),
            _ => Reply::Nil,
        });
    }
    Ok(Reply::Array(out))
}

fn check_pairs(ctx: &Ctx) -> CmdResult<()> {
    if ctx.args.len() % 2 == 0 {
        return Err(CmdError::arity(ctx.spec.name));
    }
    Ok(())
}

fn cmd_mset(ctx: &mut Ctx) -> CmdResult<Reply> {
    check_pairs(ctx)?;
    let db = ctx.db();
    for pair in ctx.args[1..].chunks(2) {
        ctx.ks.set(
            db,
            &pair[0],
            Value::Str(Bytes::copy_from_slice(&pair[1])),
            0,
        );
        ctx.ks.notify(class::STRING, "set", db, &pair[0]);
    }
    Ok(Reply::Ok)
}

fn cmd_msetnx(ctx: &mut Ctx) -> CmdResult<Reply> {
    check_pairs(ctx)?;
    let db = ctx.db();
    if ctx.args[1..].chunks(2).any(|p| ctx.ks.contains(db, &p[0])) {
        return Ok(Reply::Int(0));
    }
    for pair in ctx.args[1..].chunks(2) {
        ctx.ks.set(
            db,
            &pair[0],
            Value::Str(Bytes::copy_from_slice(&pair[1])),
            0,
        );
        ctx.ks.notify(class::STRING, "set", db, &pair[0]);
    }
    Ok(Reply::Int(1))
}

fn cmd_getset(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let old = op_get(ctx.ks, db, &ctx.args[1])?;
    ctx.ks.set(
        db,
        &ctx.args[1],
        Value::Str(Bytes::copy_from_slice(&ctx.args[2])),
        0,
    );
    ctx.ks.notify(class::STRING, "set", db, &ctx.args[1]);
    Ok(bulk_or_nil(old))
}

fn cmd_getdel(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let old = op_get(ctx.ks, db, &ctx.args[1])?;
    if old.is_some() {
        ctx.ks.remove(db, &ctx.args[1]);
        ctx.ks.notify(class::GENERIC, "del", db, &ctx.args[1]);
    }
    Ok(bulk_or_nil(old))
}

fn cmd_getex(ctx: &mut Ctx) -> CmdResult<Reply> {
    let o = parse_str_opts(ctx.args, 2, false)?;
    let db = ctx.db();
    let key = &ctx.args[1];
    // Redis looks the key up (nil when missing, WRONGTYPE) before validating the expiry.
    let Some(value) = op_get(ctx.ks, db, key)? else {
        return Ok(Reply::Nil);
    };
    let now = ctx.now_ms();
    match o.expire {
        Some((unit, arg)) => {
            let at = expiry_at(unit, arg, now, "getex")?;
            if at <= now {
                // An EXAT/PXAT in the past deletes the key (a deletion, not an expiry: INFO's
                // expired_keys does not count it).
                ctx.ks.remove(db, key);
                ctx.ks.notify(class::GENERIC, "del", db, key);
            } else {
                ctx.ks.set_expiry(db, key, at);
                ctx.ks.notify(class::GENERIC, "expire", db, key);
            }
        }
        // PERSIST (set_expiry is a no-op write on a key without TTL, so check first).
        None if o.persist && ctx.ks.peek(db, key).is_some_and(|e| e.expires_at() != 0) => {
            ctx.ks.set_expiry(db, key, 0);
            ctx.ks.notify(class::GENERIC, "persist", db, key);
        }
        None => {}
    }
    Ok(Reply::Bulk(value))
}

fn max_len(ctx: &Ctx) -> usize {
    ctx.server.config.read().proto_max_bulk_len as usize
}

/// Gives mutable access to the string at `key`, unsharing its buffer if a reader holds it. The
/// string's encoding becomes `raw`, as in Redis. WRONGTYPE (and nothing changed) for other types.
pub(crate) fn edit_str<R>(
    ks: &mut Locked,
    db: usize,
    key: &[u8],
    f: impl FnOnce(&mut BytesMut) -> CmdResult<R>,
) -> CmdResult<Option<R>> {
    match ks.peek(db, key) {
        None => return Ok(None),
        Some(e) => {
            as_str(e)?;
        }
    }
    let Some(entry) = ks.get_mut(db, key) else {
        return Ok(None);
    };
    let Value::Str(s) = &mut entry.value else {
        return Err(CmdError::wrongtype());
    };
    entry.str_enc = StrEncoding::Raw;
    let owned = std::mem::take(s);
    let mut buf = owned
        .try_into_mut()
        .unwrap_or_else(|shared| BytesMut::from(&shared[..]));
    let result = f(&mut buf);
    *s = buf.freeze();
    result.map(Some)
}

fn cmd_append(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let (key, tail) = (&ctx.args[1], &ctx.args[2]);
    let limit = max_len(ctx);
    if let Some(entry) = ctx.ks.peek(db, key) {
        let len = as_str(entry)?.len();
        if len + tail.len() > limit {
            return Err(CmdError::new(STRING_TOO_LONG));
        }
    }
    let appended = edit_str(ctx.ks, db, key, |buf| {
        buf.extend_from_slice(tail);
        Ok(buf.len())
    })?;
    let len = match appended {
        Some(len) => len,
        None => {
            ctx.ks
                .set(db, key, Value::Str(Bytes::copy_from_slice(tail)), 0);
            tail.len()
        }
    };
    ctx.ks.note_range(db, key, len - tail.len(), tail.len());
    ctx.ks.notify(class::STRING, "append", db, key);
    Ok(Reply::Int(len as i64))
}

fn cmd_strlen(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    Ok(Reply::Int(
        op_get(ctx.ks, db, &ctx.args[1])?.map_or(0, |s| s.len()) as i64,
    ))
}

/// INCRBY semantics: adds `by` to the integer at `key` (missing counts as 0), keeping the TTL.
pub fn op_incr_by(ks: &mut Locked, db: usize, key: &[u8], by: i64) -> CmdResult<i64> {
    let current = match ks.peek(db, key) {
        Some(e) => Some(int(as_str(e)?)?),
        None => None,
    };
    let new = current
        .unwrap_or(0)
        .checked_add(by)
        .ok_or_else(|| CmdError::new(OVERFLOW))?;
    let value = Value::Str(Bytes::copy_from_slice(
        itoa::Buffer::new().format(new).as_bytes(),
    ));
    if current.is_some() {
        ks.set_keep_ttl(db, key, value);
    } else {
        ks.set(db, key, value, 0);
    }
    ks.notify(class::STRING, "incrby", db, key);
    Ok(new)
}

fn incr_reply(ctx: &mut Ctx, by: i64) -> CmdResult<Reply> {
    let db = ctx.db();
    Ok(Reply::Int(op_incr_by(ctx.ks, db, &ctx.args[1], by)?))
}

fn cmd_incr(ctx: &mut Ctx) -> CmdResult<Reply> {
    incr_reply(ctx, 1)
}

fn cmd_decr(ctx: &mut Ctx) -> CmdResult<Reply> {
    incr_reply(ctx, -1)
}

fn cmd_incrby(ctx: &mut Ctx) -> CmdResult<Reply> {
    let by = int(&ctx.args[2])?;
    incr_reply(ctx, by)
}

fn cmd_decrby(ctx: &mut Ctx) -> CmdResult<Reply> {
    let by = int(&ctx.args[2])?;
    if by == i64::MIN {
        return Err(CmdError::new("ERR decrement would overflow"));
    }
    incr_reply(ctx, -by)
}

fn cmd_incrbyfloat(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let key = &ctx.args[1];
    let not_float = || CmdError::new(NOT_FLOAT);
    // Redis checks the type, then the stored value, then the increment.
    let current = match ctx.ks.peek(db, key) {
        Some(e) => Some(LongDouble::parse(as_str(e)?).ok_or_else(not_float)?),
        None => None,
    };
    let by = LongDouble::parse(&ctx.args[2]).ok_or_else(not_float)?;
    let zero = Ld::Finite(LongDouble::ZERO);
    let text = longdouble::incr_by_float(current.unwrap_or(zero), by)
        .ok_or_else(|| CmdError::new(NAN_OR_INF))?;
    let text = Bytes::from(text);
    let value = Value::Str(text.clone());
    if current.is_some() {
        if let Some(entry) = ctx.ks.get_mut(db, key) {
            entry.value = value;
            entry.str_enc = StrEncoding::NoInt;
        }
    } else {
        let mut entry = Entry::new(value, 0, ctx.ks.clock.now_s());
        entry.str_enc = StrEncoding::NoInt;
        ctx.ks.set_entry(db, key, entry);
    }
    ctx.ks.notify(class::STRING, "incrbyfloat", db, key);
    Ok(Reply::Bulk(text))
}

/// Clamps Redis-style inclusive `start..=end` indices (negative from the end) to `len`.
pub fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut s = if start < 0 { len + start } else { start };
    let mut e = if end < 0 { len + end } else { end };
    if s < 0 {
        s = 0;
    }
    if e < 0 {
        e = 0;
    }
    if e >= len {
        e = len - 1;
    }
    if s > e || len == 0 {
        return None;
    }
    Some((s as usize, e as usize))
}

fn cmd_getrange(ctx: &mut Ctx) -> CmdResult<Reply> {
    let (start, end) = (int(&ctx.args[2])?, int(&ctx.args[3])?);
    let db = ctx.db();
    let Some(s) = op_get(ctx.ks, db, &ctx.args[1])? else {
        return Ok(Reply::bulk_static(""));
    };
    // Redis: a negative start past a negative end is empty.
    if start < 0 && end < 0 && start > end {
        return Ok(Reply::bulk_static(""));
    }
    Ok(match clamp_range(start, end, s.len()) {
        Some((a, b)) => Reply::Bulk(s.slice(a..=b)),
        None => Reply::bulk_static(""),
    })
}

fn cmd_setrange(ctx: &mut Ctx) -> CmdResult<Reply> {
    let offset = int(&ctx.args[2])?;
    if offset < 0 {
        return Err(CmdError::new(crate::error::OFFSET_RANGE));
    }
    let offset = offset as usize;
    let db = ctx.db();
    let (key, patch) = (&ctx.args[1], &ctx.args[3]);
    let current_len = match ctx.ks.peek(db, key) {
        Some(e) => Some(as_str(e)?.len()),
        None => None,
    };
    if patch.is_empty() {
        return Ok(Reply::Int(current_len.unwrap_or(0) as i64));
    }
    if offset + patch.len() > max_len(ctx) {
        return Err(CmdError::new(STRING_TOO_LONG));
    }
    let write = |buf: &mut BytesMut| {
        if buf.len() < offset + patch.len() {
            buf.resize(offset + patch.len(), 0);
        }
        buf[offset..offset + patch.len()].copy_from_slice(patch);
        Ok(buf.len())
    };
    if current_len.is_some() {
        let len = edit_str(ctx.ks, db, key, write)?.unwrap_or(0);
        ctx.ks.note_range(db, key, offset, patch.len());
        ctx.ks.notify(class::STRING, "setrange", db, key);
        return Ok(Reply::Int(len as i64));
    }
    let mut buf = BytesMut::new();
    let len = write(&mut buf)?;
    // Redis builds the new string raw.
    let mut entry = Entry::new(Value::Str(buf.freeze()), 0, ctx.ks.clock.now_s());
    entry.str_enc = StrEncoding::Raw;
    ctx.ks.set_entry(db, key, entry);
    ctx.ks.note_range(db, key, offset, patch.len());
    ctx.ks.notify(class::STRING, "setrange", db, key);
    Ok(Reply::Int(len as i64))
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]: Redis's dynamic-programming longest
/// common subsequence, with its reply shapes and its walk back through the table (so IDX reports
/// the same ranges, last match first).
fn cmd_lcs(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let mut strings = [Bytes::new(), Bytes::new()];
    for (slot, key) in strings.iter_mut().zip(&ctx.args[1..3]) {
        if let Some(e) = ctx.ks.get(db, key) {
            let s = as_str(e)
                .map_err(|_| CmdError::new("ERR The specified keys must contain string values"))?;
            *slot = share_or_copy(s);
        }
    }
    let (mut getlen, mut getidx, mut withmatchlen, mut minmatchlen) = (false, false, false, 0u64);
    let mut j = 3;
    while j < ctx.args.len() {
        let opt = &ctx.args[j];
        if is(opt, "IDX") {
            getidx = true;
        } else if is(opt, "LEN") {
            getlen = true;
        } else if is(opt, "WITHMATCHLEN") {
            withmatchlen = true;
        } else if is(opt, "MINMATCHLEN") && j + 1 < ctx.args.len() {
            minmatchlen = int(&ctx.args[j + 1])?.max(0) as u64;
            j += 1;
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    if getidx && getlen {
        return Err(CmdError::new(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    let (a, b) = (&strings[0][..], &strings[1][..]);
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return Err(CmdError::new("ERR String too long for LCS"));
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen + 1) as u64 * (blen + 1) as u64;
    // Redis fails the allocation instead; a table this size (16 GiB) is not worth attempting.
    if cells > 1 << 32 {
        return Err(CmdError::new(
            "ERR Insufficient memory, failed allocating transient memory for LCS",
        ));
    }
    let w = blen + 1;
    let mut dp = vec![0u32; cells as usize];
    for i in 1..=alen {
        for j in 1..=blen {
            dp[i * w + j] = if a[i - 1] == b[j - 1] {
                dp[(i - 1) * w + j - 1] + 1
            } else {
                dp[(i - 1) * w + j].max(dp[i * w + j - 1])
            };
        }
    }
    let total = dp[alen * w + blen] as usize;
    let mut result = vec![0u8; total];
    let mut matches = Vec::new();
    let (mut i, mut j, mut idx) = (alen, blen, total);
    // `alen` as the range start means "no range open", as in Redis.
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (alen, 0, 0, 0);
    let compute = getidx || !getlen;
    while compute && i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            if a_start == alen {
                (a_start, a_end, b_start, b_end) = (i - 1, i - 1, j - 1, j - 1);
            } else if a_start == i && b_start == j {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if dp[(i - 1) * w + j] > dp[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if a_start != alen {
                emit = true;
            }
        }
        if emit {
            let match_len = (a_end - a_start + 1) as u64;
            if getidx && (minmatchlen == 0 || match_len >= minmatchlen) {
                let mut m = vec![
                    Reply::Array(vec![Reply::Int(a_start as i64), Reply::Int(a_end as i64)]),
                    Reply::Array(vec![Reply::Int(b_start as i64), Reply::Int(b_end as i64)]),
                ];
                if withmatchlen {
                    m.push(Reply::Int(match_len as i64));
                }
                matches.push(Reply::Array(m));
            }
            a_start = alen;
        }
    }
    Ok(if getidx {
        Reply::Map(vec![
            (Reply::bulk_static("matches"), Reply::Array(matches)),
            (Reply::bulk_static("len"), Reply::Int(total as i64)),
        ])
    } else if getlen {
        Reply::Int(total as i64)
    } else {
        Reply::Bulk(Bytes::from(result))
    })
}

/// This family's commands: [`command!`](super::command) with the group fixed.
macro_rules! cmd {
    ($($spec:tt)*) => {
        super::command!("string", $($spec)*)
    };
}

pub const COMMANDS: &[CommandSpec] = &[
    cmd!("get", 2, READONLY | FAST, KeySpec::ONE, "1.0.0", "O(1)", "Returns the string value of a key.", cmd_get),
    cmd!("set", -3, WRITE | DENYOOM | NO_VALUE, KeySpec::ONE, "1.0.0", "O(1)",
        "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", cmd_set),
    cmd!("setnx", 3, WRITE | DENYOOM | FAST | NO_VALUE, KeySpec::ONE, "1.0.0", "O(1)",
        "Set the string value of a key only when the key doesn't exist.", cmd_setnx),
    cmd!("setex", 4, WRITE | DENYOOM | NO_VALUE, KeySpec::ONE, "2.0.0", "O(1)",
        "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", cmd_setex),
    cmd!("psetex", 4, WRITE | DENYOOM | NO_VALUE, KeySpec::ONE, "2.6.0", "O(1)",
        "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.",
        cmd_psetex),
    cmd!("mget", -2, READONLY | FAST, KeySpec::ALL, "1.0.0", "O(N) where N is the number of keys to retrieve.",
        "Atomically returns the string values of one or more keys.", cmd_mget),
    cmd!("mset", -3, WRITE | DENYOOM | NO_VALUE, KeySpec::range(1, -1, 2), "1.0.1", "O(N) where N is the number of keys to set.",
        "Atomically creates or modifies the string values of one or more keys.", cmd_mset),
    cmd!("msetnx", -3, WRITE | DENYOOM | NO_VALUE, KeySpec::range(1, -1, 2), "1.0.1",
        "O(N) where N is the number of keys to set.",
        "Atomically modifies the string values of one or more keys only when all keys don't exist.", cmd_msetnx),
    cmd!("getset", 3, WRITE | DENYOOM | FAST, KeySpec::ONE, "1.0.0", "O(1)",
        "Returns the previous string value of a key after setting it to a new value.", cmd_getset),
    cmd!("getdel", 2, WRITE | FAST, KeySpec::ONE, "6.2.0", "O(1)",
        "Returns the string value of a key after deleting the key.", cmd_getdel),
    cmd!("getex", -2, WRITE | FAST, KeySpec::ONE, "6.2.0", "O(1)",
        "Returns the string value of a key after setting its expiration time.", cmd_getex),
    cmd!("append", 3, WRITE | DENYOOM | FAST, KeySpec::ONE, "2.0.0", "O(1)",
        "Appends a string to the value of a key. Creates the key if it doesn't exist.", cmd_append),
    cmd!("strlen", 2, READONLY | FAST, KeySpec::ONE, "2.2.0", "O(1)", "Returns the length of a string value.",
        cmd_strlen),
    cmd!("incr", 2, WRITE | DENYOOM | FAST, KeySpec::ONE, "1.0.0", "O(1)",
        "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", cmd_incr),
    cmd!("decr", 2, WRITE | DENYOOM | FAST, KeySpec::ONE, "1.0.0", "O(1)",
        "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", cmd_decr),
    cmd!("incrby", 3, WRITE | DENYOOM | FAST, KeySpec::ONE, "1.0.0", "O(1)",
        "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        cmd_incrby),
    cmd!("decrby", 3, WRITE | DENYOOM | FAST, KeySpec::ONE, "1.0.0", "O(1)",
        "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.",
        cmd_decrby),
    cmd!("incrbyfloat", 3, WRITE | DENYOOM | FAST, KeySpec::ONE, "2.6.0", "O(1)",
        "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        cmd_incrbyfloat),
    cmd!("getrange", 4, READONLY, KeySpec::ONE, "2.4.0",
        "O(N) where N is the length of the returned string.", "Returns a substring of the string stored at a key.",
        cmd_getrange),
    cmd!("substr", 4, READONLY, KeySpec::ONE, "1.0.0", "O(N) where N is the length of the returned string.",
        "Returns a substring from a string value.", cmd_getrange),
    cmd!("setrange", 4, WRITE | DENYOOM, KeySpec::ONE, "2.2.0", "O(1), not counting the time taken to copy the new string in place.",
        "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.",
        cmd_setrange),
    cmd!("lcs", -3, READONLY, KeySpec::range(1, 2, 1), "7.0.0",
        "O(N*M) where N and M are the lengths of s1 and s2, respectively",
        "Finds the longest common substring.", cmd_lcs),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(clamp_range(0, -1, 5), Some((0, 4)));
        assert_eq!(clamp_range(-3, -1, 5), Some((2, 4)));
        assert_eq!(clamp_range(3, 1, 5), None);
        assert_eq!(clamp_range(0, 100, 5), Some((0, 4)));
        assert_eq!(clamp_range(0, 0, 0), None);
    }
}
