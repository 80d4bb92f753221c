//! The binary encoding of a value, one format for every type (docs/FORMAT.md is its
//! specification; keep the two in step).
//!
//! A record is a format version byte, a type byte, then the type's body. Lengths and counts are
//! unsigned LEB128 varints, so a small element costs one byte of framing. Collections also keep
//! the encoding OBJECT ENCODING reports (Redis's conversions are one-way, so a hash that once
//! outgrew its listpack must still say `hashtable` after a round trip through the disk).
//!
//! This is what the tiering layer writes to RocksDB for a cold value, what DUMP returns inside
//! its envelope and what the inspector decodes. [`decode`] trusts nothing: any byte string gives
//! a value or a [`DecodeError`], never a panic and never an allocation larger than the input
//! can justify (a count is checked against the bytes left before anything is reserved).

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

use super::{HashValue, ListValue, SetValue, Value, ZSetValue};

/// The format version this code writes (and the only one it reads so far).
pub const FORMAT_VERSION: u8 = 1;

/// Type tags. Numbers are part of the format: never reuse or renumber one.
pub mod tag {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;

    /// Whether `t` is one of the tags above.
    pub fn is_known(t: u8) -> bool {
        t <= HASH
    }
}

/// Reported-encoding codes stored after a collection's type tag.
pub mod enc {
    pub const INTSET: u8 = 0;
    pub const LISTPACK: u8 = 1;
    pub const HASHTABLE: u8 = 2;
    pub const QUICKLIST: u8 = 3;
    pub const SKIPLIST: u8 = 4;
}

/// Why a byte string is not a valid record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    Empty,
    UnknownVersion(u8),
    UnknownType(u8),
    UnknownEncoding(u8),
    /// The record ends inside a length, a count or an element.
    Truncated,
    /// A varint longer than 64 bits.
    BadVarint,
    /// Bytes left after the last element.
    TrailingBytes(usize),
    /// A set member or hash field that appears twice.
    Duplicate,
    /// A sorted-set score that is not a number.
    NanScore,
    /// A split collection whose elements are not as many as its header says.
    CountMismatch {
        header: u64,
        found: u64,
    },
    /// A split collection's element of the wrong size for its type (a score is 8 bytes, a
    /// set member holds nothing).
    BadElement,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Empty => write!(f, "empty record"),
            DecodeError::UnknownVersion(v) => write!(f, "unknown format version {v}"),
            DecodeError::UnknownType(t) => write!(f, "unknown type tag {t}"),
            DecodeError::UnknownEncoding(e) => write!(f, "unknown encoding code {e}"),
            DecodeError::Truncated => write!(f, "record truncated"),
            DecodeError::BadVarint => write!(f, "malformed varint"),
            DecodeError::TrailingBytes(n) => write!(f, "{n} bytes after the value"),
            DecodeError::Duplicate => write!(f, "duplicate member"),
            DecodeError::NanScore => write!(f, "NaN score"),
            DecodeError::CountMismatch { header, found } => write!(
                f,
                "split collection has {found} elements where its header says {header}"
            ),
            DecodeError::BadElement => write!(f, "split collection element is malformed"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Appends the record of `value` to `out`.
pub fn encode(value: &Value, out: &mut Vec<u8>) {
    out.push(FORMAT_VERSION);
    match value {
        Value::Str(s) => {
            out.push(tag::STRING);
            out.extend_from_slice(s);
        }
        Value::List(list) => {
            out.push(tag::LIST);
            out.push(match list.encoding() {
                "quicklist" => enc::QUICKLIST,
                _ => enc::LISTPACK,
            });
            put_varint(out, list.len() as u64);
            for e in list.iter() {
                put_bytes(out, e);
            }
        }
        Value::Set(set) => {
            out.push(tag::SET);
            out.push(match set.encoding() {
                "intset" => enc::INTSET,
                "listpack" => enc::LISTPACK,
                _ => enc::HASHTABLE,
            });
            put_varint(out, set.len() as u64);
            for m in set.iter() {
                put_bytes(out, m);
            }
        }
        Value::ZSet(z) => {
            out.push(tag::ZSET);
            out.push(match z.encoding() {
                "skiplist" => enc::SKIPLIST,
                _ => enc::LISTPACK,
            });
            put_varint(out, z.len() as u64);
            for (m, score) in z.iter() {
                put_bytes(out, m);
                out.extend_from_slice(&score.to_le_bytes());
            }
        }
        Value::Hash(hash) => {
            out.push(tag::HASH);
            out.push(match hash.encoding() {
                "listpack" => enc::LISTPACK,
                _ => enc::HASHTABLE,
            });
            put_varint(out, hash.len() as u64);
            for (f, v) in hash.iter() {
                put_bytes(out, f);
                put_bytes(out, v);
            }
        }
        Value::Cold(_) => {
            // Only loaded values are ever encoded (DUMP, DEBUG DIGEST and demotion all see
            // values through the keyspace, which loads them first).
            debug_assert!(false, "encoding a cold stub");
            out.push(tag::STRING);
        }
    }
}

/// The record of `value` as a new buffer.
pub fn encode_to_vec(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.mem_size() + 16);
    encode(value, &mut out);
    out
}

/// The value a record holds. Elements are copied out of `record`, so the value does not pin it.
pub fn decode(record: &[u8]) -> Result<Value, DecodeError> {
    let mut r = Reader(record);
    let version = r.byte().map_err(|_| DecodeError::Empty)?;
    if version != FORMAT_VERSION {
        return Err(DecodeError::UnknownVersion(version));
    }
    let value = match r.byte()? {
        tag::STRING => return Ok(Value::Str(Bytes::copy_from_slice(r.0))),
        tag::LIST => {
            let code = r.byte()?;
            if code != enc::LISTPACK && code != enc::QUICKLIST {
                return Err(DecodeError::UnknownEncoding(code));
            }
            let n = r.count(1)?;
            let mut items = std::collections::VecDeque::with_capacity(n);
            for _ in 0..n {
                items.push_back(Bytes::copy_from_slice(r.bytes()?));
            }
            Value::List(Arc::new(ListValue::restore(items, code == enc::QUICKLIST)))
        }
        tag::SET => {
            let code = r.byte()?;
            if code > enc::HASHTABLE {
                return Err(DecodeError::UnknownEncoding(code));
            }
            // Each member takes at least its one length byte.
            let n = r.count(1)?;
            let mut set = SetValue::new();
            for _ in 0..n {
                if !set.insert(r.bytes()?) {
                    return Err(DecodeError::Duplicate);
                }
            }
            set.restore_encoding(code == enc::HASHTABLE, code == enc::LISTPACK);
            Value::Set(Arc::new(set))
        }
        tag::ZSET => {
            let code = r.byte()?;
            if code != enc::LISTPACK && code != enc::SKIPLIST {
                return Err(DecodeError::UnknownEncoding(code));
            }
            // A member takes at least its length byte and the 8-byte score.
            let n = r.count(9)?;
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                let member = Bytes::copy_from_slice(r.bytes()?);
                let score = r.f64()?;
                if score.is_nan() {
                    return Err(DecodeError::NanScore);
                }
                pairs.push((member, score));
            }
            let z = ZSetValue::restore(pairs.into_iter(), code == enc::SKIPLIST)
                .ok_or(DecodeError::Duplicate)?;
            Value::ZSet(Arc::new(z))
        }
        tag::HASH => {
            let code = r.byte()?;
            if code != enc::LISTPACK && code != enc::HASHTABLE {
                return Err(DecodeError::UnknownEncoding(code));
            }
            let n = r.count(2)?;
            let mut hash = HashValue::new();
            for _ in 0..n {
                let field = r.bytes()?;
                if !hash.insert(field, r.bytes()?) {
                    return Err(DecodeError::Duplicate);
                }
            }
            hash.restore_encoding(code == enc::HASHTABLE);
            Value::Hash(Arc::new(hash))
        }
        t => return Err(DecodeError::UnknownType(t)),
    };
    match r.0.len() {
        0 => Ok(value),
        n => Err(DecodeError::TrailingBytes(n)),
    }
}

/// Appends `n` as an unsigned LEB128 varint (the varint of every Thermocline format).
pub fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// Reads an unsigned LEB128 varint of at most 64 bits from the front of `bytes`: the number
/// and the bytes after it.
pub fn take_varint(bytes: &[u8]) -> Result<(u64, &[u8]), DecodeError> {
    let mut r = Reader(bytes);
    let n = r.varint()?;
    Ok((n, r.0))
}

/// A cursor over a record that fails instead of reading past its end.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, DecodeError> {
        let (&b, rest) = self.0.split_first().ok_or(DecodeError::Truncated)?;
        self.0 = rest;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            let bits = (b & 0x7f) as u64;
            if shift == 63 && bits > 1 {
                return Err(DecodeError::BadVarint);
            }
            n |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(DecodeError::BadVarint)
    }

    /// An element count, refused when even `min_bytes` per element would not fit in the rest.
    fn count(&mut self, min_bytes: usize) -> Result<usize, DecodeError> {
        let n = self.varint()?;
        if n > (self.0.len() / min_bytes) as u64 {
            return Err(DecodeError::Truncated);
        }
        Ok(n as usize)
    }

    fn f64(&mut self) -> Result<f64, DecodeError> {
        let (b, rest) = self
            .0
            .split_first_chunk::<8>()
            .ok_or(DecodeError::Truncated)?;
        self.0 = rest;
        Ok(f64::from_le_bytes(*b))
    }

    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.varint()?;
        if len > self.0.len() as u64 {
            return Err(DecodeError::Truncated);
        }
        let (b, rest) = self.0.split_at(len as usize);
        self.0 = rest;
        Ok(b)
    }
}

/// Big collections stored split (the tiering layer's per-element records, docs/FORMAT.md
/// "Split collections"): a header holding what the value is apart from its elements, and one
/// entry per element whose bytes are the element's payload: a hash field's value, nothing for
/// a set member, a sorted-set member's score (8 bytes, little-endian IEEE 754). The element's
/// name is the end of its RocksDB key, so one element is read or rewritten alone.
pub mod split {
    use std::sync::Arc;

    use bytes::Bytes;

    use super::{enc, put_varint, tag, DecodeError, Reader, FORMAT_VERSION};
    use crate::types::{HashValue, SetValue, Value, ZSetValue};

    /// What a split collection's header says.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Header {
        /// The type tag: hash, set or sorted set.
        pub tag: u8,
        /// The reported-encoding code ([`enc`]).
        pub enc: u8,
        /// How many elements the collection has.
        pub count: u64,
    }

    /// The number of elements of `value` when it is a collection that can be stored split.
    pub fn len(value: &Value) -> Option<usize> {
        match value {
            Value::Hash(h) => Some(h.len()),
            Value::Set(s) => Some(s.len()),
            Value::ZSet(z) => Some(z.len()),
            _ => None,
        }
    }

    /// The header of `value` (the format version byte, type tag, encoding code and element
    /// count); None for a value that cannot be split.
    pub fn header(value: &Value) -> Option<Vec<u8>> {
        let (tag, enc, count) = match value {
            Value::Hash(h) => (
                tag::HASH,
                match h.encoding() {
                    "listpack" => enc::LISTPACK,
                    _ => enc::HASHTABLE,
                },
                h.len(),
            ),
            Value::Set(s) => (
                tag::SET,
                match s.encoding() {
                    "intset" => enc::INTSET,
                    "listpack" => enc::LISTPACK,
                    _ => enc::HASHTABLE,
                },
                s.len(),
            ),
            Value::ZSet(z) => (
                tag::ZSET,
                match z.encoding() {
                    "skiplist" => enc::SKIPLIST,
                    _ => enc::LISTPACK,
                },
                z.len(),
            ),
            _ => return None,
        };
        let mut out = vec![FORMAT_VERSION, tag, enc];
        put_varint(&mut out, count as u64);
        Some(out)
    }

    /// Reads a header written by [`header`].
    pub fn read_header(bytes: &[u8]) -> Result<Header, DecodeError> {
        let mut r = Reader(bytes);
        let version = r.byte().map_err(|_| DecodeError::Empty)?;
        if version != FORMAT_VERSION {
            return Err(DecodeError::UnknownVersion(version));
        }
        let t = r.byte()?;
        let e = r.byte()?;
        let valid = match t {
            tag::HASH => e == enc::LISTPACK || e == enc::HASHTABLE,
            tag::SET => e <= enc::HASHTABLE,
            tag::ZSET => e == enc::LISTPACK || e == enc::SKIPLIST,
            other => return Err(DecodeError::UnknownType(other)),
        };
        if !valid {
            return Err(DecodeError::UnknownEncoding(e));
        }
        let count = r.varint()?;
        match r.0.len() {
            0 => Ok(Header {
                tag: t,
                enc: e,
                count,
            }),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }

    /// The payload of element `name` of `value`; None when it is not an element of it.
    pub fn element(value: &Value, name: &[u8]) -> Option<Vec<u8>> {
        match value {
            Value::Hash(h) => h.get(name).map(|v| v.to_vec()),
            Value::Set(s) => s.contains(name).then(Vec::new),
            Value::ZSet(z) => z.score(name).map(|s| s.to_le_bytes().to_vec()),
            _ => None,
        }
    }

    /// Calls `f` with each element's name and payload.
    pub fn for_each_element(value: &Value, mut f: impl FnMut(&[u8], &[u8])) {
        match value {
            Value::Hash(h) => h.iter().for_each(|(k, v)| f(k, v)),
            Value::Set(s) => s.iter().for_each(|m| f(m, &[])),
            Value::ZSet(z) => z.iter().for_each(|(m, s)| f(m, &s.to_le_bytes())),
            _ => {}
        }
    }

    /// The collection a header and its elements (name, payload) make. With `whole`, the
    /// elements must be exactly as many as the header says; without it they are some of the
    /// collection's (a read of single elements) and the value holds just those.
    pub fn build(
        header: &Header,
        elements: impl Iterator<Item = (Bytes, Bytes)>,
        whole: bool,
    ) -> Result<Value, DecodeError> {
        let mut found = 0u64;
        let value = match header.tag {
            tag::HASH => {
                let mut hash = HashValue::new();
                for (name, payload) in elements {
                    found += 1;
                    if !hash.insert(&name, &payload) {
                        return Err(DecodeError::Duplicate);
                    }
                }
                hash.restore_encoding(header.enc == enc::HASHTABLE);
                Value::Hash(Arc::new(hash))
            }
            tag::SET => {
                let mut set = SetValue::new();
                for (name, payload) in elements {
                    found += 1;
                    if !payload.is_empty() {
                        return Err(DecodeError::BadElement);
                    }
                    if !set.insert_bytes(name) {
                        return Err(DecodeError::Duplicate);
                    }
                }
                set.restore_encoding(header.enc == enc::HASHTABLE, header.enc == enc::LISTPACK);
                Value::Set(Arc::new(set))
            }
            tag::ZSET => {
                let mut pairs = Vec::new();
                for (name, payload) in elements {
                    found += 1;
                    let score = <[u8; 8]>::try_from(&payload[..])
                        .map(f64::from_le_bytes)
                        .map_err(|_| DecodeError::BadElement)?;
                    if score.is_nan() {
                        return Err(DecodeError::NanScore);
                    }
                    pairs.push((name, score));
                }
                let z = ZSetValue::restore(pairs.into_iter(), header.enc == enc::SKIPLIST)
                    .ok_or(DecodeError::Duplicate)?;
                Value::ZSet(Arc::new(z))
            }
            other => return Err(DecodeError::UnknownType(other)),
        };
        if whole && found != header.count {
            return Err(DecodeError::CountMismatch {
                header: header.count,
                found,
            });
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn member() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            // Integers, so that sets can stay intsets.
            any::<i64>().prop_map(|n| n.to_string().into_bytes()),
            proptest::collection::vec(any::<u8>(), 0..80),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..300).prop_map(|s| Value::Str(s.into())),
            (proptest::collection::vec(member(), 1..200), any::<bool>()).prop_map(
                |(es, quicklist)| {
                    let items = es.into_iter().map(Bytes::from).collect();
                    Value::List(Arc::new(ListValue::restore(items, quicklist)))
                }
            ),
            (
                proptest::collection::btree_map(
                    member(),
                    prop_oneof![
                        any::<f64>().prop_filter("not NaN", |f| !f.is_nan()),
                        Just(f64::INFINITY),
                        Just(-0.0)
                    ],
                    1..200,
                ),
                any::<bool>(),
            )
                .prop_map(|(ms, skiplist)| {
                    let pairs = ms
                        .into_iter()
                        .map(|(m, s)| (Bytes::from(m), s))
                        .collect::<Vec<_>>();
                    Value::ZSet(Arc::new(
                        ZSetValue::restore(pairs.into_iter(), skiplist).expect("distinct"),
                    ))
                }),
            proptest::collection::vec(member(), 1..200).prop_map(|ms| {
                let mut set = SetValue::with_hint(&ms[0], ms.len());
                for m in &ms {
                    set.insert(m);
                }
                Value::Set(Arc::new(set))
            }),
            proptest::collection::vec((member(), member()), 1..200).prop_map(|fs| {
                let mut hash = HashValue::new();
                for (f, v) in &fs {
                    hash.insert(f, v);
                }
                Value::Hash(Arc::new(hash))
            }),
        ]
    }

    proptest! {
        #[test]
        fn round_trip(v in value()) {
            let record = encode_to_vec(&v);
            let back = decode(&record).expect("a record we wrote decodes");
            prop_assert_eq!(back.encoding(), v.encoding());
            prop_assert_eq!(back, v);
        }

        #[test]
        fn split_round_trip(v in value(), pick in any::<prop::sample::Index>()) {
            let Some(header) = split::header(&v) else {
                prop_assert!(split::len(&v).is_none());
                return Ok(());
            };
            let header = split::read_header(&header).expect("a header we wrote reads");
            let mut elements = Vec::new();
            split::for_each_element(&v, |name, payload| {
                elements.push((Bytes::copy_from_slice(name), Bytes::copy_from_slice(payload)));
            });
            prop_assert_eq!(elements.len() as u64, header.count);
            let back = split::build(&header, elements.clone().into_iter(), true).expect("builds");
            prop_assert_eq!(back.encoding(), v.encoding());
            prop_assert_eq!(&back, &v);
            // One element alone: a partial value holding just it, as `element` gives it.
            let (name, payload) = elements[pick.index(elements.len())].clone();
            prop_assert_eq!(split::element(&v, &name), Some(payload.to_vec()));
            let one = split::build(&header, std::iter::once((name.clone(), payload)), false)
                .expect("builds");
            prop_assert_eq!(split::element(&one, &name), split::element(&v, &name));
            // Without `whole`, a missing element is no error; with it, it is.
            if elements.len() > 1 {
                prop_assert_eq!(
                    split::build(&header, elements[1..].iter().cloned(), true),
                    Err(DecodeError::CountMismatch { header: header.count, found: header.count - 1 })
                );
            }
        }

        #[test]
        fn any_prefix_of_a_collection_is_refused(v in value(), cut in any::<prop::sample::Index>()) {
            let record = encode_to_vec(&v);
            let cut = cut.index(record.len());
            // A string's body runs to the end of the record, so its prefixes are valid strings.
            if !matches!(v, Value::Str(_)) {
                prop_assert!(decode(&record[..cut]).is_err());
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode(&bytes);
        }
    }

    #[test]
    fn layout_is_stable() {
        // Pins the documented layout (docs/FORMAT.md): version, tag, body.
        assert_eq!(
            encode_to_vec(&Value::Str(Bytes::from_static(b"hi"))),
            [1, 0, b'h', b'i']
        );
        let mut set = SetValue::new();
        set.insert(b"7");
        assert_eq!(
            encode_to_vec(&Value::Set(Arc::new(set))),
            [1, 2, 0, 1, 1, b'7']
        );
        let mut hash = HashValue::new();
        hash.insert(b"f", &[b'v'; 200]);
        let rec = encode_to_vec(&Value::Hash(Arc::new(hash)));
        // 200 = 0xC8: varint C8 01.
        assert_eq!(&rec[..8], &[1, 4, 2, 1, 1, b'f', 0xC8, 0x01]);
    }

    #[test]
    fn corrupt_records_are_refused() {
        assert_eq!(decode(&[]), Err(DecodeError::Empty));
        assert_eq!(decode(&[9, 0]), Err(DecodeError::UnknownVersion(9)));
        assert_eq!(decode(&[1, 99]), Err(DecodeError::UnknownType(99)));
        assert_eq!(decode(&[1, 2, 7, 0]), Err(DecodeError::UnknownEncoding(7)));
        // A count that the remaining bytes cannot hold is refused before any allocation.
        assert_eq!(
            decode(&[1, 2, 0, 0xff, 0xff, 0xff, 0xff, 0x0f]),
            Err(DecodeError::Truncated)
        );
        assert_eq!(
            decode(&[1, 2, 0, 2, 1, b'1', 1, b'1']),
            Err(DecodeError::Duplicate)
        );
        assert_eq!(
            decode(&[1, 2, 0, 1, 1, b'1', 0]),
            Err(DecodeError::TrailingBytes(1))
        );
        let mut nan = vec![1, 3, 1, 1, 1, b'm'];
        nan.extend_from_slice(&f64::NAN.to_le_bytes());
        assert_eq!(decode(&nan), Err(DecodeError::NanScore));
        let eleven = [0xffu8; 11];
        let mut rec = vec![1, 2, 0];
        rec.extend_from_slice(&eleven);
        assert_eq!(decode(&rec), Err(DecodeError::BadVarint));
    }

    #[test]
    fn corrupt_split_collections_are_refused() {
        assert_eq!(
            split::read_header(&[1, 0, 0, 0]),
            Err(DecodeError::UnknownType(0))
        );
        assert_eq!(
            split::read_header(&[1, 1, 1, 0]),
            Err(DecodeError::UnknownType(1))
        );
        assert_eq!(
            split::read_header(&[1, 4, 0, 0]),
            Err(DecodeError::UnknownEncoding(0))
        );
        assert_eq!(
            split::read_header(&[1, 4, 2, 0, 0]),
            Err(DecodeError::TrailingBytes(1))
        );
        assert_eq!(split::read_header(&[1, 4, 2]), Err(DecodeError::Truncated));
        let set = split::read_header(&[1, 2, 2, 1]).unwrap();
        let with = |payload: &'static [u8]| {
            split::build(
                &set,
                std::iter::once((Bytes::from_static(b"m"), Bytes::from_static(payload))),
                true,
            )
        };
        assert_eq!(with(b"x"), Err(DecodeError::BadElement));
        assert!(with(b"").is_ok());
        let zset = split::read_header(&[1, 3, 4, 1]).unwrap();
        let score = |payload: Vec<u8>| {
            split::build(
                &zset,
                std::iter::once((Bytes::from_static(b"m"), Bytes::from(payload))),
                true,
            )
        };
        assert_eq!(score(vec![0; 7]), Err(DecodeError::BadElement));
        assert_eq!(
            score(f64::NAN.to_le_bytes().to_vec()),
            Err(DecodeError::NanScore)
        );
        let hash = split::read_header(&[1, 4, 2, 2]).unwrap();
        let twice = [b"f", b"f"].map(|f| (Bytes::from_static(f), Bytes::from_static(b"v")));
        assert_eq!(
            split::build(&hash, twice.into_iter(), true),
            Err(DecodeError::Duplicate)
        );
    }
}
