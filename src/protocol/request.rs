//! Incremental parser for client requests: RESP multibulk arrays and inline commands.
//!
//! A client may only send an array of bulk strings (or a plain text line), so this parser is the
//! narrow request grammar Redis's own server accepts, not a general RESP decoder. It keeps its
//! position between reads so that a large request arriving in many packets is scanned once, it
//! enforces `proto-max-bulk-len` and the multibulk length limit before buffering anything, and it
//! reports malformed input with Redis's exact `Protocol error: ...` texts. Arguments are
//! zero-copy slices of the read buffer.

use std::borrow::Cow;

use bytes::{Buf, Bytes, BytesMut};
use smallvec::SmallVec;

/// The arguments of one request; `args[0]` is the command name.
pub type Args = SmallVec<[Bytes; 4]>;

/// Longest inline request or `*`/`$` header line accepted without a newline (Redis's
/// PROTO_INLINE_MAX_SIZE).
pub const INLINE_MAX: usize = 64 * 1024;

/// Largest multibulk count accepted (Redis 7 rejects counts above INT_MAX).
pub const MULTIBULK_MAX: i64 = i32::MAX as i64;

/// Unauthenticated clients may send at most this many arguments and this many bytes per argument
/// (Redis 7 does the same, so that a client without the password cannot make us buffer much).
const UNAUTH_MULTIBULK_MAX: i64 = 10;
const UNAUTH_BULK_MAX: i64 = 16384;

/// Malformed input: the text is sent as `-ERR Protocol error: <text>` and the connection closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub Cow<'static, str>);

impl ProtocolError {
    pub fn new(text: impl Into<Cow<'static, str>>) -> ProtocolError {
        ProtocolError(text.into())
    }

    pub fn reply_text(&self) -> String {
        format!("ERR Protocol error: {}", self.0)
    }
}

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Protocol error: {}", self.0)
    }
}

/// Limits the parser enforces; they come from the configuration and may change at run time.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bulk_len: i64,
    pub authenticated: bool,
}

#[derive(Debug, Default)]
enum State {
    /// Waiting for the first byte of a request.
    #[default]
    Start,
    /// Inside a multibulk request: `remaining` arguments still to read, `bulk_len` is the length
    /// of the argument whose `$` header has been read.
    MultiBulk {
        remaining: usize,
        bulk_len: Option<usize>,
    },
}

#[derive(Debug, Default)]
pub struct RequestParser {
    state: State,
    /// The request being read, then the last one parsed (lent to the caller). Kept here rather
    /// than moved through the state and the return value: an `Args` is ~140 bytes, and the
    /// moves showed in the per-command profile.
    args: Args,
}

impl RequestParser {
    pub fn new() -> RequestParser {
        RequestParser::default()
    }

    /// Drops the arguments of the last request parsed (between requests only), so that they no
    /// longer pin the read buffer: call it once a batch is done, before reusing the buffer.
    pub fn release_args(&mut self) {
        if matches!(self.state, State::Start) {
            self.args.clear();
        }
    }

    /// True when the parser holds a partly read request.
    pub fn in_request(&self) -> bool {
        !matches!(self.state, State::Start)
    }

    /// The number of bytes the current partial argument still needs, so that the caller can grow
    /// its read buffer once for a big value.
    pub fn pending_bulk(&self) -> Option<usize> {
        match &self.state {
            State::MultiBulk {
                bulk_len: Some(len),
                ..
            } => Some(*len + 2),
            _ => None,
        }
    }

    /// Parses the next complete request from `buf`, consuming its bytes. `Ok(None)` means more
    /// input is needed; empty requests (`*0`, blank inline lines) are skipped.
    pub fn parse(
        &mut self,
        buf: &mut BytesMut,
        limits: Limits,
    ) -> Result<Option<&Args>, ProtocolError> {
        loop {
            if matches!(self.state, State::Start) {
                if buf.is_empty() {
                    return Ok(None);
                }
                if buf[0] != b'*' {
                    match parse_inline(buf)? {
                        None => return Ok(None),
                        Some(args) if args.is_empty() => continue,
                        Some(args) => {
                            self.args = args;
                            return Ok(Some(&self.args));
                        }
                    }
                }
                let Some(count) = read_line_int(buf, "too big mbulk count string")? else {
                    return Ok(None);
                };
                let count = count.ok_or(ProtocolError::new("invalid multibulk length"))?;
                if count > MULTIBULK_MAX {
                    return Err(ProtocolError::new("invalid multibulk length"));
                }
                if !limits.authenticated && count > UNAUTH_MULTIBULK_MAX {
                    return Err(ProtocolError::new("unauthenticated multibulk length"));
                }
                if count <= 0 {
                    continue;
                }
                // Do not trust the count for preallocation: it is only a claim.
                self.args.clear();
                self.args.reserve((count as usize).min(1024));
                self.state = State::MultiBulk {
                    remaining: count as usize,
                    bulk_len: None,
                };
            }

            let State::MultiBulk {
                remaining,
                bulk_len,
            } = &mut self.state
            else {
                unreachable!("state is MultiBulk here");
            };
            while *remaining > 0 {
                let len = match *bulk_len {
                    Some(len) => len,
                    None => {
                        if buf.is_empty() {
                            return Ok(None);
                        }
                        if buf[0] != b'$' {
                            return Err(ProtocolError::new(format!(
                                "expected '$', got '{}'",
                                buf[0] as char
                            )));
                        }
                        let Some(len) = read_line_int(buf, "too big bulk count string")? else {
                            return Ok(None);
                        };
                        let len = len.ok_or(ProtocolError::new("invalid bulk length"))?;
                        if len < 0 || len > limits.max_bulk_len {
                            return Err(ProtocolError::new("invalid bulk length"));
                        }
                        if !limits.authenticated && len > UNAUTH_BULK_MAX {
                            return Err(ProtocolError::new("unauthenticated bulk length"));
                        }
                        *bulk_len = Some(len as usize);
                        len as usize
                    }
                };
                if buf.len() < len + 2 {
                    return Ok(None);
                }
                // Redis does not check the trailing CRLF of a bulk either; it only skips it.
                let arg = buf.split_to(len).freeze();
                buf.advance(2);
                self.args.push(arg);
                *bulk_len = None;
                *remaining -= 1;
            }
            self.state = State::Start;
            return Ok(Some(&self.args));
        }
    }
}

/// Reads a `*<n>\r\n` or `$<n>\r\n` header. `Ok(None)`: incomplete; `Ok(Some(None))`: the line
/// is complete but not a valid integer.
fn read_line_int(
    buf: &mut BytesMut,
    too_big: &'static str,
) -> Result<Option<Option<i64>>, ProtocolError> {
    let Some(nl) = memchr_cr(buf) else {
        if buf.len() > INLINE_MAX {
            return Err(ProtocolError::new(too_big));
        }
        return Ok(None);
    };
    let value = parse_i64(&buf[1..nl]);
    // Skip "\r\n" (Redis requires the '\r'; a lone '\n' is part of the number and invalid).
    if buf.len() < nl + 2 {
        return Ok(None);
    }
    buf.advance(nl + 2);
    Ok(Some(value))
}

fn memchr_cr(buf: &[u8]) -> Option<usize> {
    buf.iter().take(INLINE_MAX + 1).position(|&b| b == b'\r')
}

/// Strict integer parsing as Redis's `string2ll`: optional '-', digits, no leading zeros, no
/// spaces, fits in i64.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        let d = (c - b'0') as i64;
        v = if neg {
            v.checked_mul(10)?.checked_sub(d)?
        } else {
            v.checked_mul(10)?.checked_add(d)?
        };
    }
    Some(v)
}

/// Parses one inline command line (`SET foo "bar baz"`), with Redis's quoting rules.
fn parse_inline(buf: &mut BytesMut) -> Result<Option<Args>, ProtocolError> {
    let Some(nl) = buf.iter().take(INLINE_MAX + 1).position(|&b| b == b'\n') else {
        if buf.len() > INLINE_MAX {
            return Err(ProtocolError::new("too big inline request"));
        }
        return Ok(None);
    };
    let line = buf.split_to(nl + 1);
    let mut text = &line[..nl];
    if text.last() == Some(&b'\r') {
        text = &text[..text.len() - 1];
    }
    let words = split_args(text).ok_or(ProtocolError::new("unbalanced quotes in request"))?;
    Ok(Some(words.into_iter().map(Bytes::from).collect()))
}

/// Splits a line into arguments the way redis-cli and Redis's inline protocol do (`sdssplitargs`):
/// whitespace separates words, `"..."` supports `\n \r \t \b \a \\ \" \xHH` escapes, `'...'`
/// supports `\'`, and a closing quote must be followed by a space or the end. `None` on
/// unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut words = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= line.len() {
            return Some(words);
        }
        let mut word = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                let c = *line.get(i)?;
                if c == b'\\'
                    && i + 3 < line.len()
                    && line[i + 1] == b'x'
                    && is_hex(line[i + 2])
                    && is_hex(line[i + 3])
                {
                    word.push(hex(line[i + 2]) * 16 + hex(line[i + 3]));
                    i += 3;
                } else if c == b'\\' && i + 1 < line.len() {
                    i += 1;
                    word.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    if i + 1 < line.len() && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    word.push(c);
                }
            } else if in_sq {
                let c = *line.get(i)?;
                if c == b'\\' && i + 1 < line.len() && line[i + 1] == b'\'' {
                    i += 1;
                    word.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < line.len() && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    word.push(c);
                }
            } else {
                match line.get(i) {
                    None => break,
                    Some(c) if c.is_ascii_whitespace() => break,
                    Some(b'"') => in_dq = true,
                    Some(b'\'') => in_sq = true,
                    Some(&c) => word.push(c),
                }
            }
            i += 1;
        }
        words.push(word);
    }
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN: Limits = Limits {
        max_bulk_len: 512 * 1024 * 1024,
        authenticated: true,
    };

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ProtocolError> {
        let mut p = RequestParser::new();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(args) = p.parse(&mut buf, OPEN)? {
            out.push(args.iter().map(|a| a.to_vec()).collect());
        }
        Ok(out)
    }

    #[test]
    fn multibulk_and_pipelining() {
        let reqs = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n").unwrap();
        assert_eq!(
            reqs,
            vec![vec![b"GET".to_vec(), b"k".to_vec()], vec![b"PING".to_vec()]]
        );
    }

    #[test]
    fn byte_at_a_time() {
        let input = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\n";
        let mut p = RequestParser::new();
        let mut buf = BytesMut::new();
        let mut got = None;
        for &b in input.iter() {
            buf.extend_from_slice(&[b]);
            if let Some(args) = p.parse(&mut buf, OPEN).unwrap() {
                got = Some(args.clone());
            }
        }
        let args = got.expect("request parsed");
        assert_eq!(&args[2][..], b"va\r\nl");
        assert!(buf.is_empty());
    }

    #[test]
    fn inline_commands() {
        let reqs = parse_all(b"PING\r\nset a \"b c\\n\" 'd\\'e'\n\r\n").unwrap();
        assert_eq!(reqs[0], vec![b"PING".to_vec()]);
        assert_eq!(
            reqs[1],
            vec![
                b"set".to_vec(),
                b"a".to_vec(),
                b"b c\n".to_vec(),
                b"d'e".to_vec()
            ]
        );
        assert_eq!(reqs.len(), 2);
        assert_eq!(
            parse_all(b"set \"a\n"),
            Err(ProtocolError::new("unbalanced quotes in request"))
        );
        assert_eq!(split_args(b"\"\\x41\\x4a\"").unwrap(), vec![b"AJ".to_vec()]);
        assert_eq!(split_args(b"\"a\"b"), None);
    }

    #[test]
    fn errors_use_redis_texts() {
        assert_eq!(
            parse_all(b"*2\r\n+OK\r\n"),
            Err(ProtocolError::new("expected '$', got '+'"))
        );
        assert_eq!(
            parse_all(b"*x\r\n"),
            Err(ProtocolError::new("invalid multibulk length"))
        );
        assert_eq!(
            parse_all(b"*1\r\n$-5\r\n"),
            Err(ProtocolError::new("invalid bulk length"))
        );
        assert_eq!(
            parse_all(b"*3000000000\r\n"),
            Err(ProtocolError::new("invalid multibulk length"))
        );
        let limits = Limits {
            max_bulk_len: 10,
            authenticated: true,
        };
        let mut buf = BytesMut::from(&b"*1\r\n$11\r\n"[..]);
        assert_eq!(
            RequestParser::new().parse(&mut buf, limits),
            Err(ProtocolError::new("invalid bulk length"))
        );
        let mut big = BytesMut::from(&b"*1"[..]);
        big.extend_from_slice(&vec![b'1'; INLINE_MAX + 10]);
        assert_eq!(
            RequestParser::new().parse(&mut big, OPEN),
            Err(ProtocolError::new("too big mbulk count string"))
        );
    }

    #[test]
    fn unauthenticated_limits() {
        let limits = Limits {
            max_bulk_len: 1 << 29,
            authenticated: false,
        };
        let mut buf = BytesMut::from(&b"*11\r\n"[..]);
        assert_eq!(
            RequestParser::new().parse(&mut buf, limits),
            Err(ProtocolError::new("unauthenticated multibulk length"))
        );
    }

    #[test]
    fn empty_requests_are_skipped() {
        assert_eq!(
            parse_all(b"*0\r\n*-1\r\n\r\n*1\r\n$4\r\nPING\r\n").unwrap(),
            vec![vec![b"PING".to_vec()]]
        );
    }

    #[test]
    fn strict_integers() {
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"012"), None);
        assert_eq!(parse_i64(b" 1"), None);
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(parse_i64(b"+1"), None);
    }
}
