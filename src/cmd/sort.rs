//! SORT and SORT_RO: the elements of a list, set or sorted set, sorted numerically or
//! lexicographically, optionally by weights and with values fetched from other keys
//! (`BY weight_*`, `GET data_*`, `GET hash_*->field`), and optionally stored as a list.
//!
//! BY and GET patterns name keys that only the data decides, so the table marks SORT
//! `WHOLE_KEYSPACE`: dispatch locks every shard and the handler may read any key (as Redis, SORT
//! reads them all from one consistent keyspace). Its key spec is the sorted key plus STORE's
//! destination, found by [`store_key`] (what COMMAND GETKEYS reports).

use std::cmp::Ordering;

use bytes::Bytes;

use super::args::{int, is};
use super::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult};
use crate::keyspace::{class, Locked};
use crate::protocol::Reply;
use crate::types::{list::End, ListValue, Value};

const NOT_DOUBLE: &str = "ERR One or more scores can't be converted into double";

/// The parsed options of one SORT call.
#[derive(Default)]
struct SortOptions {
    desc: bool,
    alpha: bool,
    limit: Option<(i64, i64)>,
    by: Option<Bytes>,
    /// BY without a `*`: keep the native order.
    dont_sort: bool,
    get: Vec<Bytes>,
    store: Option<Bytes>,
}

fn parse_options(args: &[Bytes], readonly: bool) -> CmdResult<SortOptions> {
    let mut o = SortOptions::default();
    let mut j = 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = &args[j];
        if is(a, "ASC") {
            o.desc = false;
        } else if is(a, "DESC") {
            o.desc = true;
        } else if is(a, "ALPHA") {
            o.alpha = true;
        } else if is(a, "LIMIT") && left >= 2 {
            o.limit = Some((int(&args[j + 1])?, int(&args[j + 2])?));
            j += 2;
        } else if !readonly && is(a, "STORE") && left >= 1 {
            o.store = Some(args[j + 1].clone());
            j += 1;
        } else if is(a, "BY") && left >= 1 {
            let pattern = args[j + 1].clone();
            o.dont_sort = !pattern.contains(&b'*');
            o.by = Some(pattern);
            j += 1;
        } else if is(a, "GET") && left >= 1 {
            o.get.push(args[j + 1].clone());
            j += 1;
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    Ok(o)
}

/// Redis's `lookupKeyByPattern`: `#` is the element itself; otherwise the first `*` of the
/// pattern is replaced by the element and the key read as a string, or as a hash field when the
/// rest of the pattern is `->field`. None when there is no `*`, no such key, or a wrong type.
fn lookup_by_pattern(ks: &mut Locked, db: usize, pattern: &[u8], elem: &Bytes) -> Option<Bytes> {
    if pattern == b"#" {
        return Some(elem.clone());
    }
    let star = pattern.iter().position(|&c| c == b'*')?;
    let after = &pattern[star + 1..];
    let (suffix, field) = match after.windows(2).position(|w| w == b"->") {
        Some(i) if i + 2 < after.len() => (&after[..i], Some(&after[i + 2..])),
        _ => (after, None),
    };
    let mut key = Vec::with_capacity(star + elem.len() + suffix.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(suffix);
    let entry = ks.get(db, &key)?;
    match (&entry.value, field) {
        (Value::Str(s), None) => Some(s.clone()),
        (Value::Hash(h), Some(f)) => h.get(f).cloned(),
        _ => None,
    }
}

/// A weight read as Redis does with `strtod`: leading white space skipped, the whole text a
/// number (an empty one is 0), not NaN, not out of range.
fn weight(text: &[u8]) -> Option<f64> {
    let start = text
        .iter()
        .position(|c| !(c.is_ascii_whitespace() || *c == 0x0b))
        .unwrap_or(text.len());
    let text = &text[start..];
    if text.is_empty() {
        return Some(0.0);
    }
    match super::zset::strtod_exact(text) {
        Some((v, false)) if !v.is_nan() => Some(v),
        _ => None,
    }
}

/// The elements of the value at `key` in its native order (None when missing), or WRONGTYPE.
fn elements(ks: &mut Locked, db: usize, key: &[u8]) -> CmdResult<Option<(Vec<Bytes>, bool)>> {
    let Some(entry) = ks.get(db, key) else {
        return Ok(None);
    };
    Ok(Some(match &entry.value {
        Value::List(l) => (l.iter().cloned().collect(), false),
        Value::Set(s) => (s.iter().cloned().collect(), true),
        Value::ZSet(z) => (z.iter().map(|(m, _)| m.clone()).collect(), false),
        _ => return Err(CmdError::wrongtype()),
    }))
}

/// SORT's LIMIT clamping (Redis's): the inclusive range of positions to output.
fn output_range(limit: Option<(i64, i64)>, len: usize) -> std::ops::Range<usize> {
    let len = len as i64;
    let (start, count) = limit.unwrap_or((0, -1));
    let start = start.clamp(0, len);
    let count = count.clamp(-1, len);
    let end = if count < 0 {
        len
    } else {
        (start + count).min(len)
    };
    start as usize..(end.max(start)) as usize
}

fn sort_generic(ctx: &mut Ctx, readonly: bool) -> CmdResult<Reply> {
    let mut o = parse_options(ctx.args, readonly)?;
    let db = ctx.db();
    let (mut elems, is_set) = elements(ctx.ks, db, &ctx.args[1])?.unwrap_or_default();
    // A set has no order of its own: a stored result, or one a script sees (and may write
    // with), must not depend on it, so Redis sorts it lexicographically instead.
    if o.dont_sort && is_set && (o.store.is_some() || ctx.client.in_script) {
        o.dont_sort = false;
        o.alpha = true;
        o.by = None;
    }
    if o.dont_sort {
        if o.desc {
            elems.reverse();
        }
    } else {
        sort_elements(ctx.ks, db, &mut elems, &o)?;
    }
    let range = output_range(o.limit, elems.len());
    let picked = &elems[range];

    let Some(dest) = o.store.clone() else {
        let mut out = Vec::with_capacity(picked.len() * o.get.len().max(1));
        for e in picked {
            if o.get.is_empty() {
                out.push(Reply::Bulk(e.clone()));
            }
            for pattern in &o.get {
                out.push(match lookup_by_pattern(ctx.ks, db, pattern, e) {
                    Some(v) => Reply::Bulk(v),
                    None => Reply::Nil,
                });
            }
        }
        return Ok(Reply::Array(out));
    };
    let mut list = ListValue::new();
    let fill = crate::types::limits::list_fill();
    for e in picked {
        if o.get.is_empty() {
            list.push_one(fill, End::Right, e.clone());
        }
        for pattern in &o.get {
            let v = lookup_by_pattern(ctx.ks, db, pattern, e).unwrap_or_default();
            list.push_one(fill, End::Right, v);
        }
    }
    let n = list.len();
    if n > 0 {
        ctx.ks
            .set(db, &dest, Value::List(std::sync::Arc::new(list)), 0);
        ctx.ks.notify(class::LIST, "sortstore", db, &dest);
    } else if ctx.ks.remove(db, &dest).is_some() {
        ctx.ks.notify(class::GENERIC, "del", db, &dest);
    }
    Ok(Reply::Int(n as i64))
}

/// Sorts `elems` by the options: numerically (by the element or its BY weight; ties broken by
/// the element's bytes, so the result is deterministic) or, with ALPHA, by bytes. With ALPHA and
/// BY, a missing weight sorts first.
fn sort_elements(
    ks: &mut Locked,
    db: usize,
    elems: &mut Vec<Bytes>,
    o: &SortOptions,
) -> CmdResult<()> {
    let by = |ks: &mut Locked, e: &Bytes| match &o.by {
        Some(p) => lookup_by_pattern(ks, db, p, e),
        None => Some(e.clone()),
    };
    let order = |c: Ordering| if o.desc { c.reverse() } else { c };
    if o.alpha {
        let mut keyed: Vec<(Option<Bytes>, Bytes)> = elems
            .drain(..)
            .map(|e| (if o.by.is_some() { by(ks, &e) } else { None }, e))
            .collect();
        keyed.sort_by(|a, b| {
            order(match &o.by {
                Some(_) => a.0.cmp(&b.0),
                None => a.1.cmp(&b.1),
            })
        });
        elems.extend(keyed.into_iter().map(|(_, e)| e));
        return Ok(());
    }
    let mut scored = Vec::with_capacity(elems.len());
    let mut bad = false;
    for e in elems.drain(..) {
        let score = match by(ks, &e) {
            // A missing weight key counts as 0.
            None => 0.0,
            Some(w) => weight(&w).unwrap_or_else(|| {
                bad = true;
                0.0
            }),
        };
        scored.push((score, e));
    }
    if bad {
        return Err(CmdError::new(NOT_DOUBLE));
    }
    scored.sort_by(|a, b| {
        order(
            a.0.partial_cmp(&b.0)
                .unwrap_or(Ordering::Equal)
                .then_with(|| a.1.cmp(&b.1)),
        )
    });
    elems.extend(scored.into_iter().map(|(_, e)| e));
    Ok(())
}

fn cmd_sort(ctx: &mut Ctx) -> CmdResult<Reply> {
    sort_generic(ctx, false)
}

fn cmd_sort_ro(ctx: &mut Ctx) -> CmdResult<Reply> {
    sort_generic(ctx, true)
}

macro_rules! cmd {
    ($($spec:tt)*) => {
        super::command!("generic", $($spec)*)
    };
}

/// SORT's STORE destination as Redis's `sortGetKeys` finds it: options are skipped with their
/// arguments (LIMIT 2, GET and BY 1), and the last STORE wins.
fn store_key(args: &[Bytes]) -> Option<usize> {
    let mut found = None;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if is(a, "LIMIT") {
            i += 2;
        } else if is(a, "GET") || is(a, "BY") {
            i += 1;
        } else if is(a, "STORE") && i + 1 < args.len() {
            found = Some(i + 1);
            i += 1;
        }
        i += 1;
    }
    found
}

/// SORT_RO has no STORE; its BY and GET patterns still read keys only the data names, which
/// makes its keys movable in COMMAND INFO, as in Redis.
fn no_store(_: &[Bytes]) -> Option<usize> {
    None
}

#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[
    cmd!("sort", -2, WRITE | DENYOOM | WHOLE_KEYSPACE, KeySpec::ONE.with_extra(store_key), "1.0.0",
        "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).",
        "Sorts the elements in a list, a set, or a sorted set, optionally storing the result.", cmd_sort),
    cmd!("sort_ro", -2, READONLY | WHOLE_KEYSPACE, KeySpec::ONE.with_extra(no_store), "7.0.0",
        "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).",
        "Returns the sorted elements of a list, a set, or a sorted set.", cmd_sort_ro),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_key_is_found_as_redis_finds_it() {
        let args = |s: &str| -> Vec<Bytes> {
            s.split(' ')
                .map(|w| Bytes::copy_from_slice(w.as_bytes()))
                .collect()
        };
        assert_eq!(store_key(&args("sort abc store def")), Some(3));
        assert_eq!(
            store_key(&args("sort abc store invalid store stillbad store def")),
            Some(7)
        );
        assert_eq!(store_key(&args("sort abc get store")), None);
        assert_eq!(store_key(&args("sort abc limit store 1 by x")), None);
        assert_eq!(store_key(&args("sort abc store")), None);
    }

    #[test]
    fn limit_is_clamped_as_in_redis() {
        assert_eq!(output_range(None, 5), 0..5);
        assert_eq!(output_range(Some((1, 2)), 5), 1..3);
        assert_eq!(output_range(Some((-3, 2)), 5), 0..2);
        assert_eq!(output_range(Some((4, 10)), 5), 4..5);
        assert_eq!(output_range(Some((9, 1)), 5), 5..5);
        assert_eq!(output_range(Some((0, -5)), 5), 0..5);
        assert_eq!(output_range(Some((0, 0)), 5), 0..0);
        assert_eq!(output_range(Some((0, 3)), 0), 0..0);
    }

    #[test]
    fn weights_read_like_strtod() {
        assert_eq!(weight(b" 1.5"), Some(1.5));
        assert_eq!(weight(b""), Some(0.0));
        assert_eq!(weight(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(weight(b"1x"), None);
        assert_eq!(weight(b"nan"), None);
        assert_eq!(weight(b"1e999"), None);
    }
}
