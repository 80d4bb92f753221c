//! A raw TCP client for wire-level tests: sends requests as RESP multibulk (or any bytes) and
//! reads back exactly one reply at a time, keeping its exact bytes, so that tests can pin
//! Redis's error texts and RESP2/RESP3 shapes byte for byte.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// One decoded reply.
#[derive(Clone, Debug, PartialEq)]
pub enum Resp {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    /// `$-1`, `*-1` or RESP3 `_`.
    Nil,
    Array(Vec<Resp>),
    Map(Vec<(Resp, Resp)>),
    Set(Vec<Resp>),
    Push(Vec<Resp>),
    Double(String),
    Bool(bool),
    BigNumber(String),
    Verbatim(String, String),
    /// A reply preceded by attributes.
    Attributed(Vec<(Resp, Resp)>, Box<Resp>),
}

impl Resp {
    /// The text of a simple string, bulk string or verbatim string.
    pub fn text(&self) -> String {
        match self {
            Resp::Simple(s) | Resp::Verbatim(_, s) => s.clone(),
            Resp::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("not a string reply: {other:?}"),
        }
    }

    /// The full error text (`ERR ...`).
    pub fn err(&self) -> String {
        match self {
            Resp::Error(e) => e.clone(),
            other => panic!("not an error reply: {other:?}"),
        }
    }

    pub fn int(&self) -> i64 {
        match self {
            Resp::Int(i) => *i,
            other => panic!("not an integer reply: {other:?}"),
        }
    }

    pub fn items(&self) -> Vec<Resp> {
        match self {
            Resp::Array(v) | Resp::Set(v) | Resp::Push(v) => v.clone(),
            Resp::Map(pairs) => pairs
                .iter()
                .flat_map(|(k, v)| [k.clone(), v.clone()])
                .collect(),
            other => panic!("not an aggregate reply: {other:?}"),
        }
    }

    /// The elements as strings.
    pub fn strings(&self) -> Vec<String> {
        self.items().iter().map(Resp::text).collect()
    }
}

pub struct Raw {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// `*N\r\n$len\r\narg\r\n...` for `args`.
pub fn multibulk(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

impl Raw {
    pub fn connect(addr: SocketAddr) -> Raw {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        Raw {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Writes bytes as they are.
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Sends one command without reading its reply.
    pub fn send_cmd(&mut self, args: &[&str]) {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.send(&multibulk(&args));
    }

    /// Sends one command and reads its reply.
    pub fn cmd(&mut self, args: &[&str]) -> Resp {
        self.send_cmd(args);
        self.read()
    }

    /// Sends one command and returns the exact bytes of its reply.
    pub fn cmd_wire(&mut self, args: &[&str]) -> String {
        self.send_cmd(args);
        self.read_wire()
    }

    /// Reads one reply.
    pub fn read(&mut self) -> Resp {
        self.read_both().0
    }

    /// Reads one reply and returns its exact bytes.
    pub fn read_wire(&mut self) -> String {
        String::from_utf8_lossy(&self.read_both().1).into_owned()
    }

    fn read_both(&mut self) -> (Resp, Vec<u8>) {
        loop {
            if let Some((value, used)) = parse(&self.buf) {
                let wire: Vec<u8> = self.buf.drain(..used).collect();
                return (value, wire);
            }
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) => panic!(
                    "connection closed with a partial reply: {:?}",
                    String::from_utf8_lossy(&self.buf)
                ),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) => panic!(
                    "reading a reply: {e}; have {:?}",
                    String::from_utf8_lossy(&self.buf)
                ),
            }
        }
    }

    /// True when the server closed the connection: nothing more is buffered and the next read
    /// ends the stream (or the connection was reset).
    pub fn is_closed(&mut self) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        let mut chunk = [0u8; 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => true,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                false
            }
            Err(e) => matches!(
                e.kind(),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
            ),
        }
    }

    /// Reads everything until the server closes the connection.
    pub fn read_to_close(&mut self) -> String {
        let mut out = std::mem::take(&mut self.buf);
        let _ = self.stream.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

fn line(buf: &[u8]) -> Option<(&str, usize)> {
    let end = buf.windows(2).position(|w| w == b"\r\n")?;
    Some((std::str::from_utf8(&buf[1..end]).ok()?, end + 2))
}

/// Parses one complete reply at the start of `buf`: the value and the bytes it used.
pub fn parse(buf: &[u8]) -> Option<(Resp, usize)> {
    let kind = *buf.first()?;
    let (text, mut used) = line(buf)?;
    let count = || text.parse::<i64>().ok();
    let value = match kind {
        b'+' => Resp::Simple(text.to_string()),
        b'-' => Resp::Error(text.to_string()),
        b':' => Resp::Int(text.parse().ok()?),
        b',' => Resp::Double(text.to_string()),
        b'#' => Resp::Bool(text == "t"),
        b'(' => Resp::BigNumber(text.to_string()),
        b'_' => Resp::Nil,
        b'$' | b'=' => {
            let n = count()?;
            if n < 0 {
                Resp::Nil
            } else {
                let n = n as usize;
                if buf.len() < used + n + 2 {
                    return None;
                }
                let data = buf[used..used + n].to_vec();
                used += n + 2;
                if kind == b'=' {
                    let s = String::from_utf8_lossy(&data).into_owned();
                    let (format, text) = s.split_at(3.min(s.len()));
                    Resp::Verbatim(format.to_string(), text.trim_start_matches(':').to_string())
                } else {
                    Resp::Bulk(data)
                }
            }
        }
        b'*' | b'~' | b'>' => {
            let n = count()?;
            if n < 0 {
                Resp::Nil
            } else {
                let mut items = Vec::new();
                for _ in 0..n {
                    let (item, len) = parse(&buf[used..])?;
                    items.push(item);
                    used += len;
                }
                match kind {
                    b'*' => Resp::Array(items),
                    b'~' => Resp::Set(items),
                    _ => Resp::Push(items),
                }
            }
        }
        b'%' | b'|' => {
            let n = count()?;
            let mut pairs = Vec::new();
            for _ in 0..n {
                let (k, kl) = parse(&buf[used..])?;
                used += kl;
                let (v, vl) = parse(&buf[used..])?;
                used += vl;
                pairs.push((k, v));
            }
            if kind == b'|' {
                let (inner, len) = parse(&buf[used..])?;
                used += len;
                Resp::Attributed(pairs, Box::new(inner))
            } else {
                Resp::Map(pairs)
            }
        }
        other => panic!("unexpected reply type byte {:?}", other as char),
    };
    Some((value, used))
}

/// The value of `field` in INFO text (`field:value` lines).
pub fn info_field(info: &str, field: &str) -> Option<String> {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim_end().to_string())
}
