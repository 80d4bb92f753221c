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

/// The options of HSCAN/SSCAN/ZSCAN (`key cursor [MATCH pattern] [COUNT count]`): the MATCH
/// pattern if any. COUNT is validated, then ignored: these scans return every match at once.
pub fn collection_scan_options(args: &[Bytes]) -> CmdResult<Option<Bytes>> {
    let mut pattern = None;
    let mut c = Cursor::new(args, 3);
    while !c.is_empty() {
        let opt = c.next_upper()?;
        match opt.as_str() {
            "MATCH" => pattern = Some(c.next()?.clone()),
            "COUNT" => {
                if c.next_int()? < 1 {
                    return Err(CmdError::syntax());
                }
            }
            _ => return Err(CmdError::syntax()),
        }
    }
    Ok(pattern)
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
}
