//! Replies and their encoding into RESP2 or RESP3 with the `redis-protocol` crate.
//!
//! A handler builds a [`Reply`] without knowing which protocol the client speaks; [`encode`]
//! picks the wire shape: a RESP3 map becomes a flat array in RESP2, a double a bulk string, a null
//! the RESP2 null bulk or null array, a boolean an integer, a push message an array.

use bytes::{Bytes, BytesMut};
use redis_protocol::resp2::types::BytesFrame as Frame2;
use redis_protocol::resp3::types::{
    BytesFrame as Frame3, FrameMap, FrameSet, VerbatimStringFormat,
};

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
pub fn encode(out: &mut BytesMut, reply: Reply, proto: Protocol) {
    let result = match proto {
        // RESP2 has two nulls and redis-protocol models only the bulk one (`$-1`).
        Protocol::Resp2 if reply == Reply::NilArray => {
            out.extend_from_slice(b"*-1\r\n");
            Ok(5)
        }
        Protocol::Resp2 => {
            redis_protocol::resp2::encode::extend_encode(out, &to_resp2(reply), false)
        }
        Protocol::Resp3 => {
            redis_protocol::resp3::encode::complete::extend_encode(out, &to_resp3(reply), false)
        }
    };
    // Encoding into a growable buffer cannot fail for frames we build ourselves.
    debug_assert!(result.is_ok(), "encoding a reply failed: {result:?}");
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

/// Formats a double the way Redis 7 replies with it: shortest round-trip digits, `inf`, `-inf`,
/// `nan`.
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        "nan".into()
    } else if d.is_infinite() {
        if d > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else if d == d.trunc() && d.abs() < 1e17 {
        format!("{}", d as i64)
    } else {
        let mut buf = ryu::Buffer::new();
        let s = buf.format(d);
        let s = s.strip_suffix(".0").unwrap_or(s);
        // Redis writes exponents with a sign: 1e+20.
        match s.find('e') {
            Some(i) if s.as_bytes().get(i + 1) != Some(&b'-') => {
                format!("{}e+{}", &s[..i], &s[i + 1..])
            }
            _ => s.to_string(),
        }
    }
}

fn to_resp2(reply: Reply) -> Frame2 {
    match reply {
        Reply::Ok => Frame2::SimpleString(Bytes::from_static(b"OK")),
        Reply::Status(s) => Frame2::SimpleString(s),
        Reply::Error(e) => Frame2::Error(error_text(e)),
        Reply::Int(i) => Frame2::Integer(i),
        Reply::Bulk(b) => Frame2::BulkString(b),
        Reply::Nil => Frame2::Null,
        // Only reachable nested: a top-level NilArray is written by `encode` as `*-1`.
        Reply::NilArray => Frame2::Null,
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => {
            Frame2::Array(items.into_iter().map(to_resp2).collect())
        }
        Reply::Map(pairs) => {
            let mut items = Vec::with_capacity(pairs.len() * 2);
            for (k, v) in pairs {
                items.push(to_resp2(k));
                items.push(to_resp2(v));
            }
            Frame2::Array(items)
        }
        Reply::Double(d) => Frame2::BulkString(Bytes::from(format_double(d))),
        Reply::Bool(b) => Frame2::Integer(b as i64),
        Reply::Verbatim(text) => Frame2::BulkString(Bytes::from(text)),
    }
}

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
        Reply::Nil | Reply::NilArray => Frame3::Null,
        Reply::Array(items) => Frame3::Array {
            data: items.into_iter().map(to_resp3).collect(),
            attributes: None,
        },
        Reply::Push(items) => Frame3::Push {
            data: items.into_iter().map(to_resp3).collect(),
            attributes: None,
        },
        Reply::Set(items) => {
            let mut data = FrameSet::default();
            for item in items {
                data.insert(to_resp3(item));
            }
            Frame3::Set {
                data,
                attributes: None,
            }
        }
        Reply::Map(pairs) => {
            let mut data = FrameMap::default();
            for (k, v) in pairs {
                data.insert(to_resp3(k), to_resp3(v));
            }
            Frame3::Map {
                data,
                attributes: None,
            }
        }
        Reply::Double(data) => Frame3::Double {
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
        assert_eq!(format_double(f64::INFINITY), "inf");
        assert_eq!(format_double(-1.5e300), "-1.5e+300");
        assert_eq!(format_double(1.5e-300), "1.5e-300");
    }
}
