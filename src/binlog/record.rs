//! One binlog record: the effects of one atomic step (a command, a transaction, a script, an
//! expiry), framed with its length and a CRC. docs/FORMAT.md ("Binlog") is the specification.
//!
//! ```text
//! frame   := length:u32le  crc32c:u32le  payload          (length = payload bytes)
//! payload := kind:u8 (0x01 step)  count:varint  effect{count}
//! effect  := 0x01 put     db:varint key:bytes version:varint expires-at:varint value:bytes
//!          | 0x02 expire  db:varint key:bytes version:varint expires-at:varint
//!          | 0x03 del     db:varint key:bytes version:varint
//!          | 0x04 flushdb db:varint
//!          | 0x05 swapdb  a:varint b:varint
//! bytes   := len:varint data
//! ```
//!
//! A `put` carries the key's whole value (its docs/FORMAT.md value record), so replaying a
//! record never depends on anything but the state the earlier records built.

use bytes::Bytes;

use crate::keyspace::journal::{Elements, ListOp, OwnedEffect, OwnedElements};
use crate::keyspace::Effect;
use crate::types::codec::{self, put_varint, take_varint};

/// Bytes before a record's payload: its length and CRC.
pub const FRAME_HEADER: usize = 8;

/// The largest payload: what the 32-bit length can say (a value is at most
/// `proto-max-bulk-len`, 512 MiB by default, but a transaction may hold several). A bigger step
/// is not logged, loudly (`Binlog::append`).
pub const MAX_PAYLOAD: usize = u32::MAX as usize;

const KIND_STEP: u8 = 0x01;

mod tag {
    pub const PUT: u8 = 0x01;
    pub const EXPIRE: u8 = 0x02;
    pub const DEL: u8 = 0x03;
    pub const FLUSHDB: u8 = 0x04;
    pub const SWAPDB: u8 = 0x05;
    pub const ELEMENTS: u8 = 0x06;
    pub const LIST: u8 = 0x07;
    pub const RANGES: u8 = 0x08;
}

/// List operations of a `list` effect.
mod op {
    pub const PUSH_LEFT: u8 = 1;
    pub const PUSH_RIGHT: u8 = 2;
    pub const POP_LEFT: u8 = 3;
    pub const POP_RIGHT: u8 = 4;
    pub const SET: u8 = 5;
    pub const TRIM: u8 = 6;
}

/// Collection kinds of an `elements` effect.
mod kind {
    pub const HASH: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
}

/// CRC-32C (Castagnoli), the checksum of every frame: computed with the CPU's CRC32
/// instruction where there is one, since every record is checksummed on the thread that ran
/// its command.
pub fn crc(bytes: &[u8]) -> u32 {
    crc32c::crc32c(bytes)
}

/// Appends the frame of one step's `effects` to `out`.
pub fn encode(effects: &[Effect<'_>], out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; FRAME_HEADER]);
    out.push(KIND_STEP);
    put_varint(out, effects.len() as u64);
    for e in effects {
        match e {
            Effect::Elements {
                db,
                key,
                version,
                expires_at,
                elements,
            } => {
                out.push(tag::ELEMENTS);
                put_key(out, *db, key);
                put_varint(out, *version);
                put_varint(out, *expires_at);
                put_elements(out, elements);
            }
            Effect::ListOps {
                db,
                key,
                version,
                expires_at,
                ops,
            } => {
                out.push(tag::LIST);
                put_key(out, *db, key);
                put_varint(out, *version);
                put_varint(out, *expires_at);
                put_varint(out, ops.len() as u64);
                for o in ops.iter() {
                    put_list_op(out, o);
                }
            }
            Effect::Ranges {
                db,
                key,
                version,
                expires_at,
                ranges,
            } => {
                out.push(tag::RANGES);
                put_key(out, *db, key);
                put_varint(out, *version);
                put_varint(out, *expires_at);
                put_varint(out, ranges.len() as u64);
                for (at, data) in ranges {
                    put_varint(out, *at);
                    put_bytes(out, data);
                }
            }
            &Effect::Put {
                db,
                key,
                version,
                expires_at,
                value,
            } => {
                out.push(tag::PUT);
                put_key(out, db, key);
                put_varint(out, version);
                put_varint(out, expires_at);
                let at = out.len();
                // The value's length is known only once it is written: write it, then insert
                // its length before it (one move of the value's bytes).
                codec::encode(value, out);
                let len = out.len() - at;
                let mut prefix = [0u8; 10];
                let n = varint_into(&mut prefix, len as u64);
                out.splice(at..at, prefix[..n].iter().copied());
            }
            &Effect::Expire {
                db,
                key,
                version,
                expires_at,
            } => {
                out.push(tag::EXPIRE);
                put_key(out, db, key);
                put_varint(out, version);
                put_varint(out, expires_at);
            }
            &Effect::Del { db, key, version } => {
                out.push(tag::DEL);
                put_key(out, db, key);
                put_varint(out, version);
            }
            &Effect::FlushDb { db } => {
                out.push(tag::FLUSHDB);
                put_varint(out, db as u64);
            }
            &Effect::SwapDb { a, b } => {
                out.push(tag::SWAPDB);
                put_varint(out, a as u64);
                put_varint(out, b as u64);
            }
        }
    }
    let payload = &out[start + FRAME_HEADER..];
    let len = (payload.len() as u32).to_le_bytes();
    let sum = crc(payload).to_le_bytes();
    out[start..start + 4].copy_from_slice(&len);
    out[start + 4..start + 8].copy_from_slice(&sum);
}

/// Writes `n` as a varint into `buf`; returns its length.
fn varint_into(buf: &mut [u8; 10], mut n: u64) -> usize {
    let mut i = 0;
    while n >= 0x80 {
        buf[i] = n as u8 | 0x80;
        n >>= 7;
        i += 1;
    }
    buf[i] = n as u8;
    i + 1
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// `kind:u8 count:varint element*`; an element is its name then its state: for a hash
/// `0` (gone) or `1 value:bytes`, for a set `0` or `1`, for a sorted set `0` or `1 score:f64le`.
fn put_elements(out: &mut Vec<u8>, elements: &Elements<'_>) {
    match elements {
        Elements::Hash(fields) => {
            out.push(kind::HASH);
            put_varint(out, fields.len() as u64);
            for (f, v) in fields {
                put_bytes(out, f);
                match v {
                    Some(v) => {
                        out.push(1);
                        put_bytes(out, v);
                    }
                    None => out.push(0),
                }
            }
        }
        Elements::Set(members) => {
            out.push(kind::SET);
            put_varint(out, members.len() as u64);
            for (m, present) in members {
                put_bytes(out, m);
                out.push(*present as u8);
            }
        }
        Elements::ZSet(members) => {
            out.push(kind::ZSET);
            put_varint(out, members.len() as u64);
            for (m, score) in members {
                put_bytes(out, m);
                match score {
                    Some(score) => {
                        out.push(1);
                        out.extend_from_slice(&score.to_le_bytes());
                    }
                    None => out.push(0),
                }
            }
        }
    }
}

/// `op:u8` then: a push, `count:varint bytes{count}`; a pop, `count:varint`; a set,
/// `index:varint bytes`; a trim, `left:varint right:varint`.
fn put_list_op(out: &mut Vec<u8>, o: &ListOp) {
    match o {
        ListOp::Push { left, elements } => {
            out.push(if *left { op::PUSH_LEFT } else { op::PUSH_RIGHT });
            put_varint(out, elements.len() as u64);
            for e in elements {
                put_bytes(out, e);
            }
        }
        ListOp::Pop { left, count } => {
            out.push(if *left { op::POP_LEFT } else { op::POP_RIGHT });
            put_varint(out, *count);
        }
        ListOp::Set { index, element } => {
            out.push(op::SET);
            put_varint(out, *index);
            put_bytes(out, element);
        }
        ListOp::Trim { left, right } => {
            out.push(op::TRIM);
            put_varint(out, *left);
            put_varint(out, *right);
        }
    }
}

fn put_key(out: &mut Vec<u8>, db: usize, key: &[u8]) {
    put_varint(out, db as u64);
    put_varint(out, key.len() as u64);
    out.extend_from_slice(key);
}

/// What [`next_frame`] found at the front of a buffer.
#[derive(Debug, PartialEq)]
pub enum Frame<'a> {
    /// A whole frame whose CRC matches: its payload, and the frame's length.
    Good(&'a [u8], usize),
    /// The buffer ends inside the frame (a torn write at the end of the log).
    Incomplete,
    /// The frame is whole but wrong (bad CRC or an impossible length).
    Corrupt(String),
}

/// Reads the frame at the front of `buf`.
pub fn next_frame(buf: &[u8]) -> Frame<'_> {
    if buf.len() < FRAME_HEADER {
        return Frame::Incomplete;
    }
    let len = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    let stored = u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]);
    if len == 0 || len > MAX_PAYLOAD {
        return Frame::Corrupt(format!("impossible record length {len}"));
    }
    if buf.len() < FRAME_HEADER + len {
        return Frame::Incomplete;
    }
    let payload = &buf[FRAME_HEADER..FRAME_HEADER + len];
    let actual = crc(payload);
    if actual != stored {
        return Frame::Corrupt(format!(
            "CRC mismatch (stored {stored:08x}, computed {actual:08x})"
        ));
    }
    Frame::Good(payload, FRAME_HEADER + len)
}

/// Decodes a payload whose CRC matched. An error means a writer bug or a format this code
/// does not know, never a torn write.
pub fn decode(payload: &[u8]) -> Result<Vec<OwnedEffect>, String> {
    let bad = |what: &str| format!("malformed binlog record: {what}");
    let (&kind, rest) = payload.split_first().ok_or_else(|| bad("empty"))?;
    if kind != KIND_STEP {
        return Err(bad(&format!("unknown record kind {kind}")));
    }
    let mut r = Cursor(rest);
    let count = r.varint()?;
    if count > r.0.len() as u64 {
        return Err(bad("effect count larger than the record"));
    }
    let mut effects = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let effect = match r.byte()? {
            tag::PUT => {
                let (db, key) = r.key()?;
                let version = r.varint()?;
                let expires_at = r.varint()?;
                let value = codec::decode(r.bytes()?).map_err(|e| bad(&e.to_string()))?;
                OwnedEffect::Put {
                    db,
                    key,
                    version,
                    expires_at,
                    value,
                }
            }
            tag::ELEMENTS => {
                let (db, key) = r.key()?;
                let version = r.varint()?;
                let expires_at = r.varint()?;
                OwnedEffect::Elements {
                    db,
                    key,
                    version,
                    expires_at,
                    elements: r.elements()?,
                }
            }
            tag::LIST => {
                let (db, key) = r.key()?;
                let version = r.varint()?;
                let expires_at = r.varint()?;
                let n = r.varint()?;
                if n > r.0.len() as u64 {
                    return Err(bad("list operation count larger than the record"));
                }
                let mut ops = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    ops.push(r.list_op()?);
                }
                OwnedEffect::ListOps {
                    db,
                    key,
                    version,
                    expires_at,
                    ops,
                }
            }
            tag::RANGES => {
                let (db, key) = r.key()?;
                let version = r.varint()?;
                let expires_at = r.varint()?;
                let n = r.varint()?;
                if n > r.0.len() as u64 {
                    return Err(bad("range count larger than the record"));
                }
                let mut ranges = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    let at = r.varint()?;
                    if at > MAX_PAYLOAD as u64 {
                        return Err(bad(&format!("range offset {at}")));
                    }
                    ranges.push((at, r.owned()?));
                }
                OwnedEffect::Ranges {
                    db,
                    key,
                    version,
                    expires_at,
                    ranges,
                }
            }
            tag::EXPIRE => {
                let (db, key) = r.key()?;
                OwnedEffect::Expire {
                    db,
                    key,
                    version: r.varint()?,
                    expires_at: r.varint()?,
                }
            }
            tag::DEL => {
                let (db, key) = r.key()?;
                OwnedEffect::Del {
                    db,
                    key,
                    version: r.varint()?,
                }
            }
            tag::FLUSHDB => OwnedEffect::FlushDb { db: r.db()? },
            tag::SWAPDB => OwnedEffect::SwapDb {
                a: r.db()?,
                b: r.db()?,
            },
            t => return Err(bad(&format!("unknown effect tag {t}"))),
        };
        effects.push(effect);
    }
    if !r.0.is_empty() {
        return Err(bad(&format!("{} bytes after the last effect", r.0.len())));
    }
    Ok(effects)
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn byte(&mut self) -> Result<u8, String> {
        let (&b, rest) = self
            .0
            .split_first()
            .ok_or("malformed binlog record: truncated")?;
        self.0 = rest;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, String> {
        let (n, rest) = take_varint(self.0).map_err(|e| format!("malformed binlog record: {e}"))?;
        self.0 = rest;
        Ok(n)
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = self.varint()?;
        if n > self.0.len() as u64 {
            return Err("malformed binlog record: truncated".into());
        }
        let (b, rest) = self.0.split_at(n as usize);
        self.0 = rest;
        Ok(b)
    }

    fn owned(&mut self) -> Result<Bytes, String> {
        Ok(Bytes::copy_from_slice(self.bytes()?))
    }

    fn present(&mut self) -> Result<bool, String> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(format!("malformed binlog record: element state {b}")),
        }
    }

    fn list_op(&mut self) -> Result<ListOp, String> {
        Ok(match self.byte()? {
            o @ (op::PUSH_LEFT | op::PUSH_RIGHT) => {
                let n = self.varint()?;
                if n > self.0.len() as u64 {
                    return Err("malformed binlog record: push count larger than the record".into());
                }
                let mut elements = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    elements.push(self.owned()?);
                }
                ListOp::Push {
                    left: o == op::PUSH_LEFT,
                    elements,
                }
            }
            o @ (op::POP_LEFT | op::POP_RIGHT) => ListOp::Pop {
                left: o == op::POP_LEFT,
                count: self.varint()?,
            },
            op::SET => ListOp::Set {
                index: self.varint()?,
                element: self.owned()?,
            },
            op::TRIM => ListOp::Trim {
                left: self.varint()?,
                right: self.varint()?,
            },
            o => return Err(format!("malformed binlog record: list operation {o}")),
        })
    }

    fn elements(&mut self) -> Result<OwnedElements, String> {
        let kind = self.byte()?;
        let n = self.varint()?;
        if n > self.0.len() as u64 {
            return Err("malformed binlog record: element count larger than the record".into());
        }
        let n = n as usize;
        Ok(match kind {
            kind::HASH => {
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    let f = self.owned()?;
                    let value = if self.present()? {
                        Some(self.owned()?)
                    } else {
                        None
                    };
                    v.push((f, value));
                }
                OwnedElements::Hash(v)
            }
            kind::SET => {
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    let m = self.owned()?;
                    v.push((m, self.present()?));
                }
                OwnedElements::Set(v)
            }
            kind::ZSET => {
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    let m = self.owned()?;
                    let score = if self.present()? {
                        if self.0.len() < 8 {
                            return Err("malformed binlog record: truncated".into());
                        }
                        let (b, rest) = self.0.split_at(8);
                        self.0 = rest;
                        let score = f64::from_le_bytes(b.try_into().expect("8 bytes"));
                        if score.is_nan() {
                            return Err("malformed binlog record: NaN score".into());
                        }
                        Some(score)
                    } else {
                        None
                    };
                    v.push((m, score));
                }
                OwnedElements::ZSet(v)
            }
            k => return Err(format!("malformed binlog record: collection kind {k}")),
        })
    }

    fn db(&mut self) -> Result<usize, String> {
        let db = self.varint()?;
        if db > u16::MAX as u64 {
            return Err(format!("malformed binlog record: database {db}"));
        }
        Ok(db as usize)
    }

    fn key(&mut self) -> Result<(usize, Bytes), String> {
        let db = self.db()?;
        Ok((db, Bytes::copy_from_slice(self.bytes()?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Value;

    fn sample_value() -> Value {
        Value::Str(Bytes::from_static(b"hello"))
    }

    fn roundtrip(effects: &[Effect<'_>]) -> Vec<OwnedEffect> {
        let mut out = Vec::new();
        encode(effects, &mut out);
        match next_frame(&out) {
            Frame::Good(payload, len) => {
                assert_eq!(len, out.len());
                decode(payload).unwrap()
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_effect_round_trips() {
        let v = sample_value();
        let big = Value::Str(Bytes::from(vec![7u8; 300]));
        let got = roundtrip(&[
            Effect::Put {
                db: 3,
                key: b"k",
                version: 300,
                expires_at: 1_700_000_000_000,
                value: &v,
            },
            Effect::Put {
                db: 0,
                key: b"big",
                version: 1,
                expires_at: 0,
                value: &big,
            },
            Effect::Expire {
                db: 1,
                key: b"e",
                version: 9,
                expires_at: 0,
            },
            Effect::Del {
                db: 15,
                key: b"",
                version: u64::MAX,
            },
            Effect::FlushDb { db: 2 },
            Effect::SwapDb { a: 0, b: 65535 },
        ]);
        assert_eq!(
            got,
            vec![
                OwnedEffect::Put {
                    db: 3,
                    key: Bytes::from_static(b"k"),
                    version: 300,
                    expires_at: 1_700_000_000_000,
                    value: v.clone(),
                },
                OwnedEffect::Put {
                    db: 0,
                    key: Bytes::from_static(b"big"),
                    version: 1,
                    expires_at: 0,
                    value: big.clone(),
                },
                OwnedEffect::Expire {
                    db: 1,
                    key: Bytes::from_static(b"e"),
                    version: 9,
                    expires_at: 0,
                },
                OwnedEffect::Del {
                    db: 15,
                    key: Bytes::new(),
                    version: u64::MAX,
                },
                OwnedEffect::FlushDb { db: 2 },
                OwnedEffect::SwapDb { a: 0, b: 65535 },
            ]
        );
    }

    #[test]
    fn element_effects_round_trip() {
        use crate::keyspace::journal::{Elements, OwnedElements};
        let b = |s: &'static str| Bytes::from_static(s.as_bytes());
        let got = roundtrip(&[
            Effect::Elements {
                db: 1,
                key: b"h",
                version: 7,
                expires_at: 9,
                elements: Elements::Hash(vec![(b"f", Some(b"v")), (b"gone", None)]),
            },
            Effect::Elements {
                db: 0,
                key: b"s",
                version: 8,
                expires_at: 0,
                elements: Elements::Set(vec![(b"in", true), (b"out", false)]),
            },
            Effect::Elements {
                db: 0,
                key: b"z",
                version: 9,
                expires_at: 0,
                elements: Elements::ZSet(vec![(b"a", Some(-1.5)), (b"b", None)]),
            },
        ]);
        assert_eq!(
            got,
            vec![
                OwnedEffect::Elements {
                    db: 1,
                    key: b("h"),
                    version: 7,
                    expires_at: 9,
                    elements: OwnedElements::Hash(vec![(b("f"), Some(b("v"))), (b("gone"), None)]),
                },
                OwnedEffect::Elements {
                    db: 0,
                    key: b("s"),
                    version: 8,
                    expires_at: 0,
                    elements: OwnedElements::Set(vec![(b("in"), true), (b("out"), false)]),
                },
                OwnedEffect::Elements {
                    db: 0,
                    key: b("z"),
                    version: 9,
                    expires_at: 0,
                    elements: OwnedElements::ZSet(vec![(b("a"), Some(-1.5)), (b("b"), None)]),
                },
            ]
        );
    }

    #[test]
    fn list_effects_round_trip() {
        use crate::keyspace::journal::ListOp;
        let ops = vec![
            ListOp::Push {
                left: true,
                elements: vec![Bytes::from_static(b"a"), Bytes::new()],
            },
            ListOp::Pop {
                left: false,
                count: 3,
            },
            ListOp::Set {
                index: 9,
                element: Bytes::from_static(b"x"),
            },
            ListOp::Trim { left: 1, right: 2 },
        ];
        let got = roundtrip(&[Effect::ListOps {
            db: 2,
            key: b"l",
            version: 5,
            expires_at: 0,
            ops: &ops,
        }]);
        assert_eq!(
            got,
            vec![OwnedEffect::ListOps {
                db: 2,
                key: Bytes::from_static(b"l"),
                version: 5,
                expires_at: 0,
                ops,
            }]
        );
    }

    /// The layout is part of the on-disk format: pin one frame byte by byte.
    #[test]
    fn layout_is_stable() {
        let v = sample_value();
        let mut out = Vec::new();
        encode(
            &[Effect::Put {
                db: 0,
                key: b"k",
                version: 2,
                expires_at: 0,
                value: &v,
            }],
            &mut out,
        );
        let payload = [
            0x01, 0x01, // step, one effect
            0x01, 0x00, 0x01, b'k', 0x02, 0x00, // put db 0, key "k", version 2, no expiry
            0x07, 0x01, 0x00, b'h', b'e', b'l', b'l', b'o', // value record: v1, string
        ];
        assert_eq!(&out[FRAME_HEADER..], &payload);
        assert_eq!(&out[..4], &(payload.len() as u32).to_le_bytes());
        assert_eq!(&out[4..8], &crc(&payload).to_le_bytes());
    }

    /// The checksum is CRC-32C: its standard check value, and the `crc` crate's reading of it.
    #[test]
    fn the_checksum_is_crc32c() {
        assert_eq!(crc(b"123456789"), 0xE306_9283);
        let reference = ::crc::Crc::<u32>::new(&::crc::CRC_32_ISCSI);
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        assert_eq!(crc(&data), reference.checksum(&data));
    }

    #[test]
    fn torn_and_corrupt_frames_are_told_apart() {
        let v = sample_value();
        let mut out = Vec::new();
        encode(
            &[Effect::Put {
                db: 0,
                key: b"key",
                version: 1,
                expires_at: 0,
                value: &v,
            }],
            &mut out,
        );
        for cut in 0..out.len() {
            assert_eq!(next_frame(&out[..cut]), Frame::Incomplete, "cut at {cut}");
        }
        for i in FRAME_HEADER..out.len() {
            let mut bad = out.clone();
            bad[i] ^= 0x40;
            assert!(
                matches!(next_frame(&bad), Frame::Corrupt(_)),
                "flipped byte {i}"
            );
        }
        assert!(matches!(next_frame(&[0; 8]), Frame::Corrupt(_)));
    }

    #[test]
    fn malformed_payloads_are_refused_not_panicked_on() {
        for payload in [
            &b""[..],
            &[0x02, 0x00],
            &[0x01, 0x05],
            &[0x01, 0x01, 0x09],
            &[0x01, 0x01, 0x01, 0x00, 0x05, b'k'],
            &[0x01, 0x00, 0xff],
        ] {
            assert!(decode(payload).is_err(), "{payload:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..64)) {
            let _ = next_frame(&bytes);
            let _ = decode(&bytes);
        }
    }
}
