//! Reading command arguments: integers and floats with Redis's strict rules and error texts, and
//! a cursor for option lists (`SET k v EX 10 NX GET`).

use bytes::Bytes;

use crate::error::{CmdError, CmdResult, NOT_FLOAT};
use crate::protocol::parse_i64;

/// Parses a 64-bit integer argument (`-ERR value is not an integer or out of range`).
pub fn int(arg: &[u8]) -> CmdResult<i64> {
    parse_i64(arg).ok_or_else(CmdError::not_integer)
}

/// Parses an integer argument, with a custom error text.
pub fn int_or(arg: &[u8], err: &str) -> CmdResult<i64> {
    parse_i64(arg).ok_or_else(|| CmdError::new(err))
}

/// Parses an argument Redis reads with `getIntFromObjectOrReply`: a 64-bit integer that must
/// fit in 32 bits. With `msg`, that text is the error for both failures; without, Redis's two
/// generic texts.
pub fn int32(arg: &[u8], msg: Option<&str>) -> CmdResult<i32> {
    let n = int(arg).map_err(|e| msg.map_or(e, CmdError::new))?;
    i32::try_from(n).map_err(|_| CmdError::new(msg.unwrap_or(crate::error::INT32_RANGE)))
}

/// Parses a non-negative integer that fits in `usize`.
pub fn uint(arg: &[u8]) -> CmdResult<usize> {
    match parse_i64(arg) {
        Some(n) if n >= 0 => Ok(n as usize),
        _ => Err(CmdError::not_integer()),
    }
}

/// Parses a float the way Redis's `string2ld`/`strtold` accepts it: decimal or exponent form,
/// `inf`/`-inf`; no spaces, no NaN.
pub fn float(arg: &[u8]) -> CmdResult<f64> {
    parse_float(arg).ok_or_else(|| CmdError::new(NOT_FLOAT))
}

pub fn parse_float(arg: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(arg).ok()?;
    if s.is_empty()
        || s.len() > 5120
        || s.starts_with(char::is_whitespace)
        || s.ends_with(char::is_whitespace)
    {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => {
            if lower.contains("inf") || lower.contains("nan") || lower.starts_with("0x") {
                return None;
            }
            s.parse::<f64>().ok()?
        }
    };
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

/// True when `arg` equals `word`, ignoring ASCII case.
pub fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// The options of HSCAN/SSCAN/ZSCAN (`key cursor [MATCH pattern] [COUNT count]`).
pub struct ScanOptions {
    pub pattern: Option<Bytes>,
    /// Positions to visit per call (Redis's default is 10).
    pub count: usize,
}

impl ScanOptions {
    /// Whether `item` passes the MATCH pattern (everything does without one).
    pub fn matches(&self, item: &[u8]) -> bool {
        self.pattern
            .as_ref()
            .is_none_or(|p| crate::glob::matches(p, item, false))
    }

    /// The positions of a collection of `len` elements this call visits, and the cursor to
    /// return: COUNT of them by [`position_scan`] when the collection is walked by cursor
    /// (`by_cursor`: a hash-table encoding), else all of them at once with cursor 0, as Redis
    /// answers a small (listpack, intset) collection.
    pub fn positions(
        &self,
        len: usize,
        cursor: u64,
        by_cursor: bool,
    ) -> (std::ops::Range<usize>, u64) {
        if by_cursor {
            position_scan(len, cursor, self.count)
        } else {
            (0..len, 0)
        }
    }
}

/// Parses HSCAN/SSCAN/ZSCAN's options.
pub fn collection_scan_options(args: &[Bytes]) -> CmdResult<ScanOptions> {
    let mut opts = ScanOptions {
        pattern: None,
        count: 10,
    };
    let mut c = Cursor::new(args, 3);
    while !c.is_empty() {
        let opt = c.next_upper()?;
        match opt.as_str() {
            "MATCH" => opts.pattern = Some(c.next()?.clone()),
            "COUNT" => {
                let n = c.next_int()?;
                if n < 1 {
                    return Err(CmdError::syntax());
                }
                opts.count = usize::try_from(n).unwrap_or(usize::MAX);
            }
            _ => return Err(CmdError::syntax()),
        }
    }
    Ok(opts)
}

/// One step of a cursor scan over a collection stored in positions `0..len` (an insertion-
/// ordered hash table): the positions to visit now and the cursor to return (0: done).
///
/// The scan walks positions from the end down. Cursor 0 starts at `len`; a cursor `c` means
/// "positions `0..c` are not visited yet". The guarantee SCAN makes (every element present for
/// the whole scan is returned) holds because the collections that use this only ever append
/// new elements (at the end: already behind the scan, so they may be missed, which SCAN
/// allows) and remove by moving elements to lower positions only (swap-remove moves the last
/// element into the hole, an order-keeping removal shifts later elements down one): an element
/// not yet visited never moves to a position at or above the cursor. A visited one may move
/// below it and be returned twice, which SCAN also allows.
pub fn position_scan(len: usize, cursor: u64, count: usize) -> (std::ops::Range<usize>, u64) {
    let end = if cursor == 0 {
        len
    } else {
        (cursor.min(len as u64)) as usize
    };
    let start = end.saturating_sub(count);
    (start..end, start as u64)
}

/// A cursor over the arguments after the fixed ones, for option parsing.
pub struct Cursor<'a> {
    args: &'a [Bytes],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(args: &'a [Bytes], start: usize) -> Cursor<'a> {
        Cursor { args, pos: start }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.args.len()
    }

    pub fn remaining(&self) -> usize {
        self.args.len().saturating_sub(self.pos)
    }

    /// The next argument, or a syntax error.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> CmdResult<&'a Bytes> {
        let arg = self.args.get(self.pos).ok_or_else(CmdError::syntax)?;
        self.pos += 1;
        Ok(arg)
    }

    /// The next argument as an integer (a missing one is a syntax error).
    pub fn next_int(&mut self) -> CmdResult<i64> {
        int(self.next()?)
    }

    /// The next argument upper-cased, to match option names against.
    pub fn next_upper(&mut self) -> CmdResult<String> {
        Ok(String::from_utf8_lossy(self.next()?).to_ascii_uppercase())
    }

    /// Consumes the next argument if it equals `word` (ignoring case).
    pub fn eat(&mut self, word: &str) -> bool {
        match self.args.get(self.pos) {
            Some(a) if is(a, word) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats() {
        assert_eq!(parse_float(b"1.5"), Some(1.5));
        assert_eq!(parse_float(b"1e3"), Some(1000.0));
        assert_eq!(parse_float(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_float(b"nan"), None);
        assert_eq!(parse_float(b" 1"), None);
        assert_eq!(parse_float(b""), None);
        assert_eq!(parse_float(b"abc"), None);
    }

    #[test]
    fn cursor() {
        let args: Vec<Bytes> = ["SET", "k", "v", "ex", "10"]
            .iter()
            .map(|s| Bytes::from(*s))
            .collect();
        let mut c = Cursor::new(&args, 3);
        assert!(c.eat("EX"));
        assert_eq!(c.next_int().unwrap(), 10);
        assert!(c.is_empty());
        assert_eq!(c.next().unwrap_err(), CmdError::syntax());
    }

    proptest::proptest! {
        /// The invariant `position_scan` documents: with appends, swap-removes and order-keeping
        /// removes between the calls, every element present for the whole scan is returned.
        #[test]
        fn position_scan_misses_nothing_present_throughout(
            initial in 0usize..200,
            count in 1usize..20,
            ops in proptest::collection::vec((0u8..3, proptest::prelude::any::<u16>()), 0..100),
        ) {
            let mut items: Vec<u32> = (0..initial as u32).collect();
            let mut next_id = initial as u32;
            let mut removed = std::collections::HashSet::new();
            let mut seen = std::collections::HashSet::new();
            let mut ops = ops.into_iter();
            let mut cursor = 0;
            loop {
                let (range, next) = position_scan(items.len(), cursor, count);
                seen.extend(range.map(|i| items[i]));
                if next == 0 {
                    break;
                }
                cursor = next;
                if let Some((op, at)) = ops.next() {
                    let at = at as usize;
                    match op {
                        0 => {
                            items.push(next_id);
                            next_id += 1;
                        }
                        1 if !items.is_empty() => {
                            removed.insert(items.swap_remove(at % items.len()));
                        }
                        2 if !items.is_empty() => {
                            removed.insert(items.remove(at % items.len()));
                        }
                        _ => {}
                    }
                }
            }
            for id in 0..initial as u32 {
                proptest::prop_assert!(removed.contains(&id) || seen.contains(&id), "{} missed", id);
            }
        }
    }
}
