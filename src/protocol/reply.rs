//! Replies and their encoding into RESP2 or RESP3 with the `redis-protocol` crate.
//!
//! A handler builds a [`Reply`] without knowing which protocol the client speaks; [`encode`]
//! picks the wire shape: a RESP3 map becomes a flat array in RESP2, a double a bulk string, a null
//! the RESP2 null bulk or null array, a boolean an integer, a push message an array.
//!
//! Scalar replies are encoded by `redis-protocol`. Aggregates (arrays, maps, sets, pushes,
//! attributes) get their one-line header written here and their elements encoded one by one, so
//! that a large reply is not first rebuilt as a second tree of frames; RESP3 doubles are written
//! here too, in Redis's number format, which the crate does not produce.

use bytes::{Bytes, BytesMut};
use redis_protocol::resp2::types::BytesFrame as Frame2;
use redis_protocol::resp3::types::{BytesFrame as Frame3, VerbatimStringFormat};

/// The protocol a connection speaks (`HELLO 2|3`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Protocol {
    #[default]
    Resp2,
    Resp3,
}

impl Protocol {
    pub fn version(self) -> i64 {
        match self {
            Protocol::Resp2 => 2,
            Protocol::Resp3 => 3,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// `+OK`
    Ok,
    /// A simple string (`+PONG`, `+string`).
    Status(Bytes),
    /// A full error text, starting with its code (`ERR ...`, `WRONGTYPE ...`).
    Error(String),
    Int(i64),
    Bulk(Bytes),
    /// A missing value: `$-1` in RESP2, `_` in RESP3.
    Nil,
    /// A missing array (e.g. EXEC aborted): `*-1` in RESP2, `_` in RESP3.
    NilArray,
    Array(Vec<Reply>),
    /// Key/value pairs: a map in RESP3, a flat array in RESP2.
    Map(Vec<(Reply, Reply)>),
    /// A set in RESP3, an array in RESP2.
    Set(Vec<Reply>),
    /// A double in RESP3, a bulk string in RESP2.
    Double(f64),
    /// A boolean in RESP3, `:1`/`:0` in RESP2.
    Bool(bool),
    /// Verbatim text (`INFO`, `CLIENT LIST`): `=` in RESP3, a bulk string in RESP2.
    Verbatim(String),
    /// An out-of-band push message in RESP3, an array in RESP2.
    Push(Vec<Reply>),
    /// A big number (`(` in RESP3), a bulk string in RESP2.
    BigNumber(Bytes),
    /// A reply preceded by RESP3 attributes (`|`); RESP2 clients get the reply alone.
    Attributed(Vec<(Reply, Reply)>, Box<Reply>),
    /// Several replies sent one after another: a command that answers more than once, as
    /// SUBSCRIBE does with one confirmation per channel.
    Many(Vec<Reply>),
}

impl Reply {
    pub fn status(text: &'static str) -> Reply {
        Reply::Status(Bytes::from_static(text.as_bytes()))
    }

    pub fn bulk_str(text: &str) -> Reply {
        Reply::Bulk(Bytes::copy_from_slice(text.as_bytes()))
    }

    pub fn bulk_static(text: &'static str) -> Reply {
        Reply::Bulk(Bytes::from_static(text.as_bytes()))
    }

    /// A bulk string holding the decimal form of `n`.
    pub fn bulk_int(n: i64) -> Reply {
        Reply::Bulk(Bytes::copy_from_slice(
            itoa::Buffer::new().format(n).as_bytes(),
        ))
    }

    pub fn error(text: impl Into<String>) -> Reply {
        Reply::Error(text.into())
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// True for out-of-band push messages (or a sequence of them), which Redis sends even
    /// when the client turned its replies off (CLIENT REPLY OFF).
    pub fn is_push(&self) -> bool {
        match self {
            Reply::Push(_) => true,
            Reply::Many(items) => !items.is_empty() && items.iter().all(Reply::is_push),
            _ => false,
        }
    }

    /// An array of bulk strings.
    pub fn bulks<I: IntoIterator<Item = Bytes>>(items: I) -> Reply {
        Reply::Array(items.into_iter().map(Reply::Bulk).collect())
    }
}

impl From<crate::error::CmdError> for Reply {
    fn from(e: crate::error::CmdError) -> Reply {
        Reply::Error(e.0)
    }
}

/// Appends the encoding of `reply` for `proto` to `out`.
///
/// Aggregates are written here, header then elements, so that a big reply is never copied
/// into a second tree; scalars go through `redis-protocol`, except doubles, which are written
/// with [`format_double`] in both protocols (the crate formats RESP3 doubles with Rust's
/// `Display`, which spells out `1e300` in full).
pub fn encode(out: &mut BytesMut, reply: Reply, proto: Protocol) {
    match (reply, proto) {
        // The commonest scalars, the same in both protocols, are written here: the crate sizes
        // every frame with a floating-point log10 first, which showed up as a fifth of LRANGE's
        // time.
        (Reply::Bulk(b), _) => {
            out.reserve(b.len() + 16);
            header(out, b'$', b.len());
            out.extend_from_slice(&b);
            out.extend_from_slice(b"\r\n");
        }
        (Reply::Int(n), _) => {
            out.extend_from_slice(b":");
            out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        (Reply::Array(items), _) => encode_aggregate(out, b'*', items, proto),
        (Reply::Many(items), _) => {
            for item in items {
                encode(out, item, proto);
            }
        }
        (Reply::Set(items), Protocol::Resp3) => encode_aggregate(out, b'~', items, proto),
        (Reply::Push(items), Protocol::Resp3) => encode_aggregate(out, b'>', items, proto),
        (Reply::Set(items) | Reply::Push(items), Protocol::Resp2) => {
            encode_aggregate(out, b'*', items, proto)
        }
        (Reply::Map(pairs), Protocol::Resp3) => {
            header(out, b'%', pairs.len());
            for (k, v) in pairs {
                encode(out, k, proto);
                encode(out, v, proto);
            }
        }
        (Reply::Map(pairs), Protocol::Resp2) => {
            header(out, b'*', pairs.len() * 2);
            for (k, v) in pairs {
                encode(out, k, proto);
                encode(out, v, proto);
            }
        }
        (Reply::Attributed(attrs, reply), Protocol::Resp3) => {
            header(out, b'|', attrs.len());
            for (k, v) in attrs {
                encode(out, k, proto);
                encode(out, v, proto);
            }
            encode(out, *reply, proto);
        }
        // RESP2 has no attributes: only the reply itself is sent.
        (Reply::Attributed(_, reply), Protocol::Resp2) => encode(out, *reply, proto),
        (Reply::Double(d), Protocol::Resp3) => {
            out.extend_from_slice(b",");
            out.extend_from_slice(format_double(d).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        // RESP2 has two nulls and redis-protocol models only the bulk one (`$-1`).
        (Reply::NilArray, Protocol::Resp2) => out.extend_from_slice(b"*-1\r\n"),
        (reply, Protocol::Resp2) => {
            let result = redis_protocol::resp2::encode::extend_encode(out, &to_resp2(reply), false);
            // Encoding into a growable buffer cannot fail for frames we build ourselves.
            debug_assert!(result.is_ok(), "encoding a reply failed: {result:?}");
        }
        (reply, Protocol::Resp3) => {
            let result = redis_protocol::resp3::encode::complete::extend_encode(
                out,
                &to_resp3(reply),
                false,
            );
            debug_assert!(result.is_ok(), "encoding a reply failed: {result:?}");
        }
    }
}

fn header(out: &mut BytesMut, kind: u8, len: usize) {
    out.extend_from_slice(&[kind]);
    out.extend_from_slice(itoa::Buffer::new().format(len).as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn encode_aggregate(out: &mut BytesMut, kind: u8, items: Vec<Reply>, proto: Protocol) {
    header(out, kind, items.len());
    for item in items {
        encode(out, item, proto);
    }
}

fn error_text(text: String) -> bytes_utils::Str {
    // An error must stay on one line.
    let text = if text.contains(['\r', '\n']) {
        text.replace(['\r', '\n'], " ")
    } else {
        text
    };
    bytes_utils::Str::from(text)
}

/// Formats a double the way Redis 7.2 replies with it (`d2string`): `nan`, `inf`, `-inf`, `-0`;
/// integers up to 2^62 in integer form; everything else as the shortest digits that read back
/// to the same double, laid out as Redis's `fpconv_dtoa` does (`0.001`, `1.5e-7`, `1e+20`).
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.into();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // Redis's double2ll: within +-LLONG_MAX/2 an integral double prints as an integer.
    const LIMIT: f64 = (i64::MAX / 2) as f64;
    if (-LIMIT..=LIMIT).contains(&d) && d == d.trunc() {
        return itoa::Buffer::new().format(d as i64).to_string();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "-1.5e-7".
    let sci = format!("{:e}", d.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::with_capacity(digits.len() + 8);
    if d < 0.0 {
        out.push('-');
    }
    fpconv_layout(&digits, exp - (digits.len() as i32 - 1), &mut out);
    out
}

/// `fpconv_dtoa`'s `emit_digits`: `digits` times ten to the `k`.
fn fpconv_layout(digits: &str, k: i32, out: &mut String) {
    let n = digits.len() as i32;
    let exp = (k + n - 1).abs();
    if k >= 0 && exp < n + 7 {
        out.push_str(digits);
        out.extend(std::iter::repeat_n('0', k as usize));
    } else if k < 0 && (k > -7 || exp < 4) {
        let offset = n + k;
        if offset <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-offset) as usize));
            out.push_str(digits);
        } else {
            out.push_str(&digits[..offset as usize]);
            out.push('.');
            out.push_str(&digits[offset as usize..]);
        }
    } else {
        out.push_str(&digits[..1]);
        if n > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if k + n - 1 < 0 { '-' } else { '+' });
        out.push_str(itoa::Buffer::new().format(exp));
    }
}

/// The frame of a scalar reply; [`encode`] writes aggregates itself.
fn to_resp2(reply: Reply) -> Frame2 {
    match reply {
        Reply::Ok => Frame2::SimpleString(Bytes::from_static(b"OK")),
        Reply::Status(s) => Frame2::SimpleString(s),
        Reply::Error(e) => Frame2::Error(error_text(e)),
        Reply::Int(i) => Frame2::Integer(i),
        Reply::Bulk(b) | Reply::BigNumber(b) => Frame2::BulkString(b),
        Reply::Double(d) => Frame2::BulkString(Bytes::from(format_double(d))),
        Reply::Bool(b) => Frame2::Integer(b as i64),
        Reply::Verbatim(text) => Frame2::BulkString(Bytes::from(text)),
        Reply::Nil
        | Reply::NilArray
        | Reply::Array(_)
        | Reply::Map(_)
        | Reply::Set(_)
        | Reply::Push(_)
        | Reply::Many(_)
        | Reply::Attributed(..) => Frame2::Null,
    }
}

/// The frame of a scalar reply; [`encode`] writes aggregates and doubles itself.
fn to_resp3(reply: Reply) -> Frame3 {
    match reply {
        Reply::Ok => Frame3::SimpleString {
            data: Bytes::from_static(b"OK"),
            attributes: None,
        },
        Reply::Status(data) => Frame3::SimpleString {
            data,
            attributes: None,
        },
        Reply::Error(e) => Frame3::SimpleError {
            data: error_text(e),
            attributes: None,
        },
        Reply::Int(data) => Frame3::Number {
            data,
            attributes: None,
        },
        Reply::Bulk(data) => Frame3::BlobString {
            data,
            attributes: None,
        },
        Reply::BigNumber(data) => Frame3::BigNumber {
            data,
            attributes: None,
        },
        Reply::Bool(data) => Frame3::Boolean {
            data,
            attributes: None,
        },
        Reply::Verbatim(text) => Frame3::VerbatimString {
            data: Bytes::from(text),
            format: VerbatimStringFormat::Text,
            attributes: None,
        },
        Reply::Double(d) => Frame3::Double {
            data: d,
            attributes: None,
        },
        Reply::Nil
        | Reply::NilArray
        | Reply::Array(_)
        | Reply::Map(_)
        | Reply::Set(_)
        | Reply::Push(_)
        | Reply::Many(_)
        | Reply::Attributed(..) => Frame3::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(reply: Reply, proto: Protocol) -> String {
        let mut out = BytesMut::new();
        encode(&mut out, reply, proto);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn resp2_shapes() {
        assert_eq!(wire(Reply::Ok, Protocol::Resp2), "+OK\r\n");
        assert_eq!(wire(Reply::Nil, Protocol::Resp2), "$-1\r\n");
        assert_eq!(wire(Reply::Int(-3), Protocol::Resp2), ":-3\r\n");
        assert_eq!(
            wire(Reply::error("ERR x\r\ny"), Protocol::Resp2),
            "-ERR x  y\r\n"
        );
        assert_eq!(
            wire(
                Reply::Map(vec![(Reply::bulk_static("a"), Reply::Int(1))]),
                Protocol::Resp2
            ),
            "*2\r\n$1\r\na\r\n:1\r\n"
        );
        assert_eq!(wire(Reply::Double(1.5), Protocol::Resp2), "$3\r\n1.5\r\n");
        assert_eq!(wire(Reply::Bool(true), Protocol::Resp2), ":1\r\n");
        assert_eq!(wire(Reply::NilArray, Protocol::Resp2), "*-1\r\n");
    }

    #[test]
    fn resp3_shapes() {
        assert_eq!(wire(Reply::Nil, Protocol::Resp3), "_\r\n");
        assert_eq!(
            wire(
                Reply::Map(vec![(Reply::bulk_static("a"), Reply::Int(1))]),
                Protocol::Resp3
            ),
            "%1\r\n$1\r\na\r\n:1\r\n"
        );
        assert_eq!(wire(Reply::Bool(false), Protocol::Resp3), "#f\r\n");
        assert_eq!(
            wire(Reply::Verbatim("hi".into()), Protocol::Resp3),
            "=6\r\ntxt:hi\r\n"
        );
    }

    #[test]
    fn doubles() {
        assert_eq!(format_double(3.0), "3");
        assert_eq!(format_double(0.1), "0.1");
        assert_eq!(format_double(1.25), "1.25");
        assert_eq!(format_double(-0.0), "-0");
        assert_eq!(format_double(f64::INFINITY), "inf");
        assert_eq!(format_double(f64::NEG_INFINITY), "-inf");
        assert_eq!(format_double(f64::NAN), "nan");
        assert_eq!(format_double(-1.5e300), "-1.5e+300");
        assert_eq!(format_double(1.5e-300), "1.5e-300");
        // Integers print whole up to 2^62, as Redis's double2ll allows.
        assert_eq!(format_double(1e17), "100000000000000000");
        assert_eq!(format_double(-4e18), "-4000000000000000000");
        // Beyond it, fpconv's layout: up to seven trailing zeros written out, then exponents.
        assert_eq!(format_double(9223372036854775808.0), "9223372036854776000");
        assert_eq!(format_double(1e20), "1e+20");
        assert_eq!(format_double(1.5e20), "1.5e+20");
        // Small numbers: plain down to six leading zeros, exponents below.
        assert_eq!(format_double(0.000001), "0.000001");
        assert_eq!(format_double(1e-7), "1e-7");
        assert_eq!(format_double(1.5e-7), "1.5e-7");
        assert_eq!(format_double(0.001234567), "0.001234567");
        assert_eq!(format_double(123456789.123), "123456789.123");
        assert_eq!(format_double(5e-324), "5e-324");
        assert_eq!(format_double(f64::MAX), "1.7976931348623157e+308");
    }

    #[test]
    fn resp3_doubles_nested_and_big_numbers() {
        assert_eq!(wire(Reply::Double(1e300), Protocol::Resp3), ",1e+300\r\n");
        assert_eq!(
            wire(
                Reply::Array(vec![Reply::bulk_static("m"), Reply::Double(1.5)]),
                Protocol::Resp3
            ),
            "*2\r\n$1\r\nm\r\n,1.5\r\n"
        );
        assert_eq!(
            wire(
                Reply::BigNumber(Bytes::from_static(b"123")),
                Protocol::Resp3
            ),
            "(123\r\n"
        );
        assert_eq!(
            wire(
                Reply::BigNumber(Bytes::from_static(b"123")),
                Protocol::Resp2
            ),
            "$3\r\n123\r\n"
        );
        let attributed = Reply::Attributed(
            vec![(Reply::bulk_static("a"), Reply::Int(1))],
            Box::new(Reply::bulk_static("x")),
        );
        assert_eq!(
            wire(attributed.clone(), Protocol::Resp3),
            "|1\r\n$1\r\na\r\n:1\r\n$1\r\nx\r\n"
        );
        assert_eq!(wire(attributed, Protocol::Resp2), "$1\r\nx\r\n");
        assert_eq!(
            wire(
                Reply::Array(vec![Reply::NilArray, Reply::Nil]),
                Protocol::Resp2
            ),
            "*2\r\n*-1\r\n$-1\r\n"
        );
        assert_eq!(
            wire(Reply::Set(vec![Reply::Int(1)]), Protocol::Resp3),
            "~1\r\n:1\r\n"
        );
        assert_eq!(
            wire(Reply::Push(vec![Reply::Int(1)]), Protocol::Resp3),
            ">1\r\n:1\r\n"
        );
    }
}
