//! A cold value as stored in RocksDB: a small header (record format, compression method, the
//! version of the key it was written from, dictionary id) followed by the value's docs/FORMAT.md
//! encoding, zstd-compressed when that pays. docs/FORMAT.md ("Cold records (tiering)") is the
//! specification of the layout; keep the two in step.
//!
//! Small values compress poorly on their own, so the tier trains a zstd dictionary from samples
//! of them ([`Trainer`]) and compresses them against it ([`Dictionary`]); a record names the
//! dictionary it needs by id and readers look it up in [`Dictionaries`]. [`decode`] trusts
//! nothing: any byte string gives a value or a [`RecordError`], never a panic, and never an
//! allocation larger than a zstd frame of that size could honestly expand to.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use zstd::zstd_safe::{self, CCtx, CDict, CParameter, DCtx, DDict, ResetDirective};

use crate::keyspace::cold::IndexEntry;
use crate::types::codec;
use crate::types::Value;

/// The first byte of every cold record. The high nibble marks a cold record, the low one is the
/// layout revision; it never equals a value-format version byte (docs/FORMAT.md), so a bare
/// value encoding handed to [`decode`] is refused instead of being misread.
pub const RECORD_FORMAT: u8 = 0xC1;

/// Compression methods (the record's second byte). Numbers are part of the format: never reuse
/// or renumber one.
pub mod method {
    /// The payload is the value's docs/FORMAT.md encoding as it is.
    pub const PLAIN: u8 = 0;
    /// The payload is one zstd frame of that encoding, compressed without a dictionary.
    pub const ZSTD: u8 = 1;
    /// The payload is one zstd frame compressed with the dictionary whose id follows the version.
    pub const ZSTD_DICT: u8 = 2;
    /// The payload is a split collection's header (`codec::split`); its elements are entries
    /// of their own, in RocksDB's `elements` column family.
    pub const SPLIT: u8 = 3;
}

/// The zstd level dictionaries are prepared with, hence the level of every dictionary-compressed
/// record (zstd fixes a prepared dictionary's level when it is built). Dictionary records are
/// small values, where higher levels gain next to nothing.
pub const DICT_LEVEL: i32 = 3;

/// The largest decompressed encoding a record may claim; a larger claim is corruption.
pub const MAX_PLAIN_BYTES: u64 = 512 << 20;

/// zstd's largest possible expansion: every block costs at least 4 bytes (a 3-byte header and
/// one byte of RLE content) and decompresses to at most 128 KiB. A frame claiming more than
/// this many bytes per byte of frame cannot be honest, and is refused before anything is
/// allocated for it.
const MAX_EXPANSION: u64 = (128 << 10) / 4;

/// How values are compressed (the `tiering-compression-level` and `tiering-compress-min-bytes`
/// options).
#[derive(Debug, Clone, Copy)]
pub struct Compression {
    /// zstd level; 0 stores every value uncompressed.
    pub level: i32,
    /// Values whose encoding is at least this long are compressed on their own; smaller ones
    /// use the trained dictionary when there is one, else are stored as they are.
    pub min_bytes: usize,
}

/// What went wrong decoding a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError(pub String);

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RecordError {}

fn err<T>(msg: impl Into<String>) -> Result<T, RecordError> {
    Err(RecordError(msg.into()))
}

/// A trained zstd dictionary and its id (stored in each record that uses it).
///
/// The raw bytes are kept (they are what is persisted beside the data) together with the
/// dictionary prepared once for compression (at [`DICT_LEVEL`]) and once for decompression.
/// Immutable after construction, so it is shared between threads behind an `Arc`.
pub struct Dictionary {
    pub id: u32,
    bytes: Vec<u8>,
    /// None when zstd refused the bytes (see [`Dictionary::from_bytes`]).
    prepared: Option<(CDict<'static>, DDict<'static>)>,
}

impl Dictionary {
    /// The dictionary's raw bytes (what is stored beside the data).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Rebuilds a dictionary from stored bytes.
    ///
    /// Never panics: bytes zstd cannot load (a damaged dictionary header) give a dictionary that
    /// [`encode`] ignores (it stores values without it) and whose records fail to [`decode`]
    /// with a message saying so. [`Dictionary::try_from_bytes`] refuses such bytes instead.
    pub fn from_bytes(id: u32, bytes: &[u8]) -> Dictionary {
        Dictionary {
            id,
            bytes: bytes.to_vec(),
            prepared: prepare(bytes),
        }
    }

    /// Like [`Dictionary::from_bytes`], but refuses bytes zstd cannot load.
    pub fn try_from_bytes(id: u32, bytes: &[u8]) -> Result<Dictionary, RecordError> {
        let dict = Dictionary::from_bytes(id, bytes);
        if dict.prepared.is_none() {
            return err(format!("zstd cannot load dictionary {id}"));
        }
        Ok(dict)
    }
}

fn prepare(bytes: &[u8]) -> Option<(CDict<'static>, DDict<'static>)> {
    Some((
        CDict::try_create(bytes, DICT_LEVEL)?,
        DDict::try_create(bytes)?,
    ))
}

impl std::fmt::Debug for Dictionary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dictionary")
            .field("id", &self.id)
            .field("len", &self.bytes.len())
            .field("loaded", &self.prepared.is_some())
            .finish()
    }
}

/// The dictionaries a reader may meet, by id.
#[derive(Default)]
pub struct Dictionaries {
    by_id: HashMap<u32, Arc<Dictionary>>,
}

impl Dictionaries {
    /// Adds `dict`, replacing one with the same id.
    pub fn insert(&mut self, dict: std::sync::Arc<Dictionary>) {
        self.by_id.insert(dict.id, dict);
    }

    pub fn get(&self, id: u32) -> Option<&std::sync::Arc<Dictionary>> {
        self.by_id.get(&id)
    }
}

/// Samples are wanted until there are at least this many of them...
const TRAIN_MIN_SAMPLES: usize = 1_000;
/// ...holding at least this many bytes in all, or until the sample buffer is full.
const TRAIN_MIN_BYTES: usize = 128 << 10;
/// The sample buffer: offers beyond it are ignored, so a trainer never holds more than this
/// (plus 8 bytes of size per sample).
const SAMPLE_BUDGET: usize = 1 << 20;
/// At most this many samples (bounds the size list when samples are tiny).
const MAX_SAMPLES: usize = 50_000;
/// A sample longer than this is not a small value; it is ignored.
const MAX_SAMPLE_LEN: usize = 16 << 10;
/// Dictionary size bounds; the target is an eighth of the sample bytes, within them.
const DICT_MIN_SIZE: usize = 16 << 10;
const DICT_MAX_SIZE: usize = 64 << 10;

/// Gathers samples of small encoded values and trains a dictionary once it has enough.
///
/// Samples are kept in one buffer of at most 1 MiB; training wants at least 1,000 samples
/// holding 128 KiB, or a full buffer. Training takes tens to hundreds of milliseconds: call
/// [`Trainer::train`] off the request path.
pub struct Trainer {
    /// The samples, end to end.
    data: Vec<u8>,
    /// Each sample's length, in order.
    sizes: Vec<usize>,
}

impl Trainer {
    pub fn new() -> Trainer {
        Trainer {
            data: Vec::new(),
            sizes: Vec::new(),
        }
    }

    /// Offers one small value's encoding as a sample (kept only while more are wanted).
    pub fn offer(&mut self, encoded: &[u8]) {
        if encoded.is_empty()
            || encoded.len() > MAX_SAMPLE_LEN
            || self.sizes.len() >= MAX_SAMPLES
            || self.data.len() + encoded.len() > SAMPLE_BUDGET
        {
            return;
        }
        self.data.extend_from_slice(encoded);
        self.sizes.push(encoded.len());
    }

    /// Whether enough samples were offered for [`Trainer::train`] to try.
    pub fn is_ready(&self) -> bool {
        let full = self.sizes.len() >= MAX_SAMPLES || self.data.len() + 64 > SAMPLE_BUDGET;
        full || (self.sizes.len() >= TRAIN_MIN_SAMPLES && self.data.len() >= TRAIN_MIN_BYTES)
    }

    /// Trains a dictionary with id `id` once enough samples were offered; None before that or
    /// when training fails (then sampling starts over). Sampling also starts over after a
    /// successful training.
    pub fn train(&mut self, id: u32) -> Option<Dictionary> {
        if !self.is_ready() {
            return None;
        }
        let size = (self.data.len() / 8).clamp(DICT_MIN_SIZE, DICT_MAX_SIZE);
        let trained = zstd::dict::from_continuous(&self.data, &self.sizes, size);
        *self = Trainer::new();
        Dictionary::try_from_bytes(id, &trained.ok()?).ok()
    }
}

impl Default for Trainer {
    fn default() -> Self {
        Trainer::new()
    }
}

thread_local! {
    /// One compression and one decompression context per thread, reused: a fresh context
    /// allocates its work space again on first use, which would dominate small values.
    static CCTX: RefCell<CCtx<'static>> = RefCell::new(CCtx::create());
    static DCTX: RefCell<DCtx<'static>> = RefCell::new(DCtx::create());
}

/// Makes the record of a value whose docs/FORMAT.md encoding is `plain` (from
/// `types::codec::encode_to_vec`), written from key version `version`: compressed on its own
/// when `plain.len() >= compression.min_bytes` and `compression.level > 0`, with `dict` when it
/// is smaller and a dictionary is given, else stored as it is (also when compressing would not
/// make it smaller).
pub fn encode(
    plain: &[u8],
    version: u64,
    compression: Compression,
    dict: Option<&Dictionary>,
) -> Vec<u8> {
    let mut header = Vec::with_capacity(16);
    header.push(RECORD_FORMAT);
    header.push(method::PLAIN);
    put_varint(&mut header, version);
    let plain_record_len = header.len() + plain.len();

    let compressed = if compression.level <= 0 {
        None
    } else if plain.len() >= compression.min_bytes {
        header[1] = method::ZSTD;
        compress(
            plain,
            compression.level,
            None,
            plain_record_len - header.len(),
        )
    } else if let Some((dict, cdict)) = dict.and_then(|d| d.prepared.as_ref().map(|(c, _)| (d, c)))
    {
        header[1] = method::ZSTD_DICT;
        header.extend_from_slice(&dict.id.to_le_bytes());
        plain_record_len
            .checked_sub(header.len())
            .and_then(|room| compress(plain, DICT_LEVEL, Some(cdict), room))
    } else {
        None
    };

    let mut record = header;
    match compressed {
        Some(frame) => record.extend_from_slice(&frame),
        None => {
            record[1] = method::PLAIN;
            record.truncate(2);
            put_varint(&mut record, version);
            record.extend_from_slice(plain);
        }
    }
    record
}

/// One zstd frame of `plain` (content size recorded, no checksum, no dictionary id: the record
/// header names the dictionary), or None when it does not fit in `room` bytes, that is when it
/// would not make the record smaller, or zstd fails.
fn compress(
    plain: &[u8],
    level: i32,
    dict: Option<&CDict<'static>>,
    room: usize,
) -> Option<Vec<u8>> {
    // A frame needs room for more than its header to be worth it; also spares zstd a
    // zero-capacity buffer.
    if room < 8 {
        return None;
    }
    let mut frame = Vec::with_capacity(room - 1);
    CCTX.with(|cctx| {
        let mut cctx = cctx.borrow_mut();
        let ok = (|| {
            cctx.reset(ResetDirective::SessionAndParameters).ok()?;
            cctx.set_parameter(CParameter::ContentSizeFlag(true)).ok()?;
            cctx.set_parameter(CParameter::ChecksumFlag(false)).ok()?;
            cctx.set_parameter(CParameter::DictIdFlag(false)).ok()?;
            match dict {
                // The prepared dictionary carries its level.
                Some(cdict) => {
                    cctx.ref_cdict(cdict).ok()?;
                }
                None => {
                    cctx.set_parameter(CParameter::CompressionLevel(level))
                        .ok()?;
                }
            }
            cctx.compress2(&mut frame, plain).ok()
        })();
        // Drops the reference to the dictionary (the context outlives it) and any failed
        // session, so the next use starts clean whatever happened here.
        let _ = cctx.reset(ResetDirective::SessionAndParameters);
        ok
    })?;
    Some(frame)
}

/// The record of a split collection whose header (`codec::split::header`) is `header`,
/// written from key version `version`. Headers are a few bytes: never compressed.
pub fn encode_split(header: &[u8], version: u64) -> Vec<u8> {
    let mut record = Vec::with_capacity(12 + header.len());
    record.push(RECORD_FORMAT);
    record.push(method::SPLIT);
    put_varint(&mut record, version);
    record.extend_from_slice(header);
    record
}

/// What a record holds: a whole value, or the header of a split collection whose elements
/// are read apart.
#[derive(Debug, Clone, PartialEq)]
pub enum Read {
    Whole(Value),
    Split(codec::split::Header),
}

/// Reads a record: the key version it was written from, and what it holds.
pub fn read(record: &[u8], dicts: &Dictionaries) -> Result<(u64, Read), RecordError> {
    let (method, version, rest) = header(record)?;
    if method == method::SPLIT {
        let header = codec::split::read_header(rest)
            .map_err(|e| RecordError(format!("split record header is corrupt: {e}")))?;
        return Ok((version, Read::Split(header)));
    }
    decode_whole(method, rest, dicts).map(|v| (version, Read::Whole(v)))
}

/// Decodes a record of a whole value: the key version it was written from, and the value. A
/// split collection's header is refused (its elements are needed: see [`read`]).
pub fn decode(record: &[u8], dicts: &Dictionaries) -> Result<(u64, Value), RecordError> {
    match read(record, dicts)? {
        (version, Read::Whole(value)) => Ok((version, value)),
        (_, Read::Split(_)) => err("cold record is a split collection's header"),
    }
}

fn decode_whole(method: u8, rest: &[u8], dicts: &Dictionaries) -> Result<Value, RecordError> {
    Ok(match method {
        method::PLAIN => decode_value(rest)?,
        method::ZSTD => decode_value(&decompress(rest, None)?)?,
        _ => {
            let (id, frame) = rest
                .split_first_chunk::<4>()
                .ok_or_else(|| RecordError("cold record truncated in its dictionary id".into()))?;
            let id = u32::from_le_bytes(*id);
            let Some(dict) = dicts.get(id) else {
                return err(format!(
                    "cold record uses dictionary {id}, which is not loaded"
                ));
            };
            let Some((_, ddict)) = &dict.prepared else {
                return err(format!(
                    "cold record uses dictionary {id}, which zstd could not load"
                ));
            };
            decode_value(&decompress(frame, Some(ddict))?)?
        }
    })
}

/// Whether `record` is a split collection's header (its elements are apart).
pub fn is_split(record: &[u8]) -> bool {
    matches!(record, [RECORD_FORMAT, method::SPLIT, ..])
}

/// The key version a record was written from, read from its header alone (nothing is
/// decompressed or decoded past it).
pub fn version_of(record: &[u8]) -> Result<u64, RecordError> {
    header(record).map(|(_, version, _)| version)
}

/// A record's known compression method, its key version, and the bytes after them.
fn header(record: &[u8]) -> Result<(u8, u64, &[u8]), RecordError> {
    let (&format, rest) = record
        .split_first()
        .ok_or_else(|| RecordError("cold record is empty".into()))?;
    if format != RECORD_FORMAT {
        return err(format!(
            "cold record format {format:#04x} is unknown (this version reads {RECORD_FORMAT:#04x})"
        ));
    }
    let (&method, rest) = rest
        .split_first()
        .ok_or_else(|| RecordError("cold record truncated before its compression method".into()))?;
    if method > method::SPLIT {
        return err(format!(
            "cold record compression method {method} is unknown"
        ));
    }
    let (version, rest) = take_varint(rest)?;
    Ok((method, version, rest))
}

fn decode_value(plain: &[u8]) -> Result<Value, RecordError> {
    codec::decode(plain).map_err(|e| RecordError(format!("cold record value is corrupt: {e}")))
}

/// The encoding a zstd frame holds, bounded by the size the frame declares, which must be
/// present, within [`MAX_PLAIN_BYTES`], within what a frame of this length can expand to, and
/// exact.
fn decompress(frame: &[u8], dict: Option<&DDict<'static>>) -> Result<Vec<u8>, RecordError> {
    let claimed = match zstd_safe::get_frame_content_size(frame) {
        Ok(Some(n)) => n,
        Ok(None) => return err("cold record zstd frame does not declare its size"),
        Err(_) => return err("cold record zstd frame header is corrupt"),
    };
    if claimed > MAX_PLAIN_BYTES || claimed > (frame.len() as u64).saturating_mul(MAX_EXPANSION) {
        return err(format!(
            "cold record zstd frame claims {claimed} bytes, more than it can hold"
        ));
    }
    let mut plain = Vec::with_capacity(claimed as usize);
    let result = DCTX.with(|dctx| {
        let mut dctx = dctx.borrow_mut();
        let _ = dctx.reset(ResetDirective::SessionAndParameters);
        match dict {
            Some(ddict) => dctx.decompress_using_ddict(&mut plain, frame, ddict),
            None => dctx.decompress(&mut plain, frame),
        }
    });
    match result {
        Ok(n) if n as u64 == claimed => Ok(plain),
        Ok(n) => err(format!(
            "cold record zstd frame gave {n} bytes where it declared {claimed}"
        )),
        Err(code) => err(format!(
            "cold record zstd frame does not decompress: {}",
            zstd_safe::get_error_name(code)
        )),
    }
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// An unsigned LEB128 varint of at most 64 bits, and the bytes after it.
fn take_varint(mut bytes: &[u8]) -> Result<(u64, &[u8]), RecordError> {
    let mut n = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = bytes
            .split_first()
            .ok_or_else(|| RecordError("cold record truncated in its key version".into()))?;
        bytes = rest;
        let bits = (b & 0x7f) as u64;
        if shift == 63 && bits > 1 {
            break;
        }
        n |= bits << shift;
        if b & 0x80 == 0 {
            return Ok((n, bytes));
        }
    }
    err("cold record key version is longer than 64 bits")
}

/// The first byte of every index entry (the `index` column family): marks the layout, as
/// [`RECORD_FORMAT`] does for records.
pub const INDEX_FORMAT: u8 = 0xD1;

/// The bit of an index entry's type byte that marks a split record.
pub const INDEX_SPLIT: u8 = 0x80;

/// An index entry's bytes (docs/FORMAT.md, "Index entries"): the format byte, then the key's
/// version, its record's version, its expiry and its record's size as varints, then the type
/// tag, with [`INDEX_SPLIT`] set for a split record.
pub fn encode_index(e: &IndexEntry) -> Vec<u8> {
    let mut out = Vec::with_capacity(24);
    out.push(INDEX_FORMAT);
    codec::put_varint(&mut out, e.version);
    codec::put_varint(&mut out, e.stub.disk_version);
    codec::put_varint(&mut out, e.expires_at);
    codec::put_varint(&mut out, e.stub.disk_bytes as u64);
    out.push(e.stub.tag | if e.stub.split { INDEX_SPLIT } else { 0 });
    out
}

/// Reads an index entry; any other bytes give an error, never a panic.
pub fn decode_index(bytes: &[u8]) -> Result<IndexEntry, RecordError> {
    let bad = |why: &str| RecordError(format!("index entry {why}"));
    let rest = match bytes.split_first() {
        Some((&INDEX_FORMAT, rest)) => rest,
        Some((other, _)) => return Err(bad(&format!("has format byte {other:#04x}"))),
        None => return Err(bad("is empty")),
    };
    let mut fields = [0u64; 4];
    let mut rest = rest;
    for f in &mut fields {
        let (n, after) = codec::take_varint(rest).map_err(|e| bad(&e.to_string()))?;
        *f = n;
        rest = after;
    }
    let [version, disk_version, expires_at, disk_bytes] = fields;
    let &[byte] = rest else {
        return Err(bad("has the wrong length"));
    };
    let (tag, split) = (byte & !INDEX_SPLIT, byte & INDEX_SPLIT != 0);
    if !codec::tag::is_known(tag) {
        return Err(bad(&format!("has unknown type tag {tag}")));
    }
    if split && !matches!(tag, codec::tag::HASH | codec::tag::SET | codec::tag::ZSET) {
        return Err(bad(&format!("marks a value of type tag {tag} as split")));
    }
    Ok(IndexEntry {
        version,
        expires_at,
        stub: crate::types::ColdStub {
            disk_version,
            disk_bytes: u32::try_from(disk_bytes).map_err(|_| bad("has a size over 4 GiB"))?,
            tag,
            split,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use proptest::prelude::*;

    use crate::types::{HashValue, ListValue, SetValue, ZSetValue};

    const PLAIN_ONLY: Compression = Compression {
        level: 0,
        min_bytes: 0,
    };
    const ALWAYS: Compression = Compression {
        level: 3,
        min_bytes: 0,
    };
    /// Compresses nothing on its own: only the dictionary path.
    const DICT_ONLY: Compression = Compression {
        level: 3,
        min_bytes: usize::MAX,
    };

    /// A small JSON-like document: shared structure, varying fields.
    fn doc(i: usize) -> Vec<u8> {
        format!(
            r#"{{"id":{i},"user":"user{}","email":"user{}@example.com","plan":"{}","active":{},"visits":{}}}"#,
            i * 7919 % 10007,
            i * 7919 % 10007,
            ["free", "pro", "team"][i % 3],
            i % 2 == 0,
            i * 31 % 997
        )
        .into_bytes()
    }

    fn trained_dict(id: u32) -> Dictionary {
        let mut trainer = Trainer::new();
        for i in 0..2_000 {
            trainer.offer(&codec::encode_to_vec(&Value::Str(doc(i).into())));
        }
        assert!(trainer.is_ready());
        trainer
            .train(id)
            .expect("training on 2,000 similar documents works")
    }

    /// One value of every type, each repetitive enough for zstd to shrink it.
    fn values() -> Vec<Value> {
        let mut out = vec![Value::Str(Bytes::from("abc".repeat(100)))];
        let items = (0..50)
            .map(|i| Bytes::from(format!("element-{}", i % 5)))
            .collect();
        out.push(Value::List(Arc::new(ListValue::restore(items, false))));
        let items = (0..50).map(|i| Bytes::from(format!("item {i}"))).collect();
        out.push(Value::List(Arc::new(ListValue::restore(items, true))));
        let mut ints = SetValue::new();
        for i in 0..100 {
            ints.insert(format!("{}", i * 1000).as_bytes());
        }
        out.push(Value::Set(Arc::new(ints)));
        let mut names = SetValue::new();
        for i in 0..100 {
            names.insert(format!("member:{i}").as_bytes());
        }
        out.push(Value::Set(Arc::new(names)));
        let pairs = (0..60).map(|i| (Bytes::from(format!("player:{i}")), i as f64 * 1.5));
        let pairs: Vec<_> = pairs.collect();
        out.push(Value::ZSet(Arc::new(
            ZSetValue::restore(pairs.clone().into_iter(), false).expect("distinct"),
        )));
        out.push(Value::ZSet(Arc::new(
            ZSetValue::restore(pairs.into_iter(), true).expect("distinct"),
        )));
        let mut hash = HashValue::new();
        for i in 0..40 {
            hash.insert(format!("field:{i}").as_bytes(), b"value value value");
        }
        out.push(Value::Hash(Arc::new(hash)));
        out
    }

    fn dicts_with(dict: Dictionary) -> Dictionaries {
        let mut dicts = Dictionaries::default();
        dicts.insert(Arc::new(dict));
        dicts
    }

    #[test]
    fn every_type_round_trips_with_every_method() {
        let dict = trained_dict(5);
        let dicts = dicts_with(Dictionary::from_bytes(5, dict.bytes()));
        for v in values() {
            let plain = codec::encode_to_vec(&v);
            for (compression, d, expect) in [
                (PLAIN_ONLY, None, method::PLAIN),
                (PLAIN_ONLY, Some(&dict), method::PLAIN),
                (ALWAYS, None, method::ZSTD),
                (ALWAYS, Some(&dict), method::ZSTD),
                (DICT_ONLY, Some(&dict), method::ZSTD_DICT),
                (DICT_ONLY, None, method::PLAIN),
            ] {
                for version in [0, 1, 300, u64::MAX] {
                    let record = encode(&plain, version, compression, d);
                    assert_eq!(record[0], RECORD_FORMAT);
                    assert_eq!(record[1], expect, "{v:?} with {compression:?}");
                    let (got_version, back) = decode(&record, &dicts).expect("decodes");
                    assert_eq!(got_version, version);
                    assert_eq!(version_of(&record), Ok(version));
                    assert_eq!(back.encoding(), v.encoding());
                    assert_eq!(back, v);
                    if expect != method::PLAIN {
                        assert!(record.len() < plain.len());
                    }
                }
            }
        }
    }

    #[test]
    fn layout_is_stable() {
        // Pins docs/FORMAT.md "Cold records (tiering)".
        let plain = codec::encode_to_vec(&Value::Str(Bytes::from_static(b"hi")));
        assert_eq!(
            encode(&plain, 300, PLAIN_ONLY, None),
            [0xC1, 0, 0xAC, 0x02, 1, 0, b'h', b'i']
        );
        let big = codec::encode_to_vec(&Value::Str(Bytes::from(vec![b'x'; 1000])));
        let record = encode(&big, 1, ALWAYS, None);
        assert_eq!(&record[..3], &[0xC1, 1, 1]);
        // A zstd frame (magic 28 B5 2F FD) that records its content size.
        assert_eq!(&record[3..7], &[0x28, 0xB5, 0x2F, 0xFD]);
        assert_eq!(
            zstd_safe::get_frame_content_size(&record[3..]).ok(),
            Some(Some(big.len() as u64))
        );
        let dict = trained_dict(7);
        let small = codec::encode_to_vec(&Value::Str(doc(5_000).into()));
        let record = encode(&small, 2, DICT_ONLY, Some(&dict));
        assert_eq!(&record[..7], &[0xC1, 2, 2, 7, 0, 0, 0]);
        assert_eq!(&record[7..11], &[0x28, 0xB5, 0x2F, 0xFD]);
    }

    #[test]
    fn the_dictionary_helps_small_values() {
        let dict = trained_dict(1);
        assert!(
            (DICT_MIN_SIZE / 2..=DICT_MAX_SIZE).contains(&dict.bytes().len()),
            "dictionary of {} bytes",
            dict.bytes().len()
        );
        let dicts = dicts_with(Dictionary::from_bytes(1, dict.bytes()));
        let fresh = Value::Str(doc(123_456).into());
        let plain = codec::encode_to_vec(&fresh);
        let alone = encode(&plain, 1, ALWAYS, None);
        let with_dict = encode(&plain, 1, DICT_ONLY, Some(&dict));
        assert_eq!(with_dict[1], method::ZSTD_DICT);
        assert!(
            with_dict.len() * 2 < plain.len(),
            "{} bytes with the dictionary, {} plain",
            with_dict.len(),
            plain.len()
        );
        assert!(with_dict.len() < alone.len());
        assert_eq!(decode(&with_dict, &dicts).unwrap().1, fresh);
    }

    #[test]
    fn incompressible_values_are_stored_plain() {
        // xorshift noise: zstd cannot shrink it.
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let noise: Vec<u8> = (0..2000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let dict = trained_dict(3);
        for len in [0, 1, 5, 20, 100, 2000] {
            let plain = codec::encode_to_vec(&Value::Str(noise[..len].to_vec().into()));
            for (compression, d) in [(ALWAYS, None), (DICT_ONLY, Some(&dict))] {
                let record = encode(&plain, 9, compression, d);
                assert_eq!(record[1], method::PLAIN, "{len} bytes");
                assert_eq!(&record[3..], &plain[..]);
            }
        }
    }

    #[test]
    fn corrupt_records_are_refused() {
        let dict = trained_dict(7);
        let dicts = dicts_with(Dictionary::from_bytes(7, dict.bytes()));
        let msg = |r: &[u8]| decode(r, &dicts).unwrap_err().0;

        assert_eq!(msg(&[]), "cold record is empty");
        assert_eq!(
            msg(&[1, 0, 104, 105]),
            "cold record format 0x01 is unknown (this version reads 0xc1)"
        );
        assert_eq!(
            msg(&[0xC1, 9, 0]),
            "cold record compression method 9 is unknown"
        );
        assert_eq!(
            msg(&[0xC1, 0, 0x80]),
            "cold record truncated in its key version"
        );
        let mut long = vec![0xC1, 0];
        long.extend_from_slice(&[0xff; 10]);
        long.push(0);
        assert_eq!(msg(&long), "cold record key version is longer than 64 bits");
        assert_eq!(
            msg(&[0xC1, 2, 1, 7, 0]),
            "cold record truncated in its dictionary id"
        );
        assert_eq!(
            msg(&[0xC1, 0, 1, 1, 9]),
            "cold record value is corrupt: unknown type tag 9"
        );

        let small = codec::encode_to_vec(&Value::Str(doc(99_999).into()));
        let record = encode(&small, 1, DICT_ONLY, Some(&dict));
        assert_eq!(
            decode(&record, &Dictionaries::default()).unwrap_err().0,
            "cold record uses dictionary 7, which is not loaded"
        );
        let mut other = record.clone();
        other[3] = 8;
        assert_eq!(
            msg(&other),
            "cold record uses dictionary 8, which is not loaded"
        );

        // A frame whose declared size is far beyond what its bytes could expand to.
        let big = codec::encode_to_vec(&Value::Str(vec![b'a'; 100_000].into()));
        let record = encode(&big, 1, ALWAYS, None);
        // An honest, very compressible frame is within the expansion bound.
        assert_eq!(record[1], method::ZSTD);
        assert!(record.len() < 100);
        assert!(decode(&record, &dicts).is_ok());
        let mut liar = encode(
            &codec::encode_to_vec(&Value::Str("x".into())),
            1,
            PLAIN_ONLY,
            None,
        );
        liar[1] = method::ZSTD;
        liar.truncate(3);
        // Frame header: magic, descriptor (8-byte content size, single segment), size 2^40.
        liar.extend_from_slice(&[0x28, 0xB5, 0x2F, 0xFD, 0xE0]);
        liar.extend_from_slice(&(1u64 << 40).to_le_bytes());
        assert_eq!(
            msg(&liar),
            "cold record zstd frame claims 1099511627776 bytes, more than it can hold"
        );
    }

    #[test]
    fn every_truncation_and_flipped_byte_is_refused_or_harmless() {
        let dict = trained_dict(7);
        let dicts = dicts_with(Dictionary::from_bytes(7, dict.bytes()));
        let hash = values().pop().expect("a hash");
        let small = codec::encode_to_vec(&Value::Str(doc(4242).into()));
        let big = codec::encode_to_vec(&hash);
        let records = [
            encode(&big, 77, PLAIN_ONLY, None),
            encode(&big, 77, ALWAYS, None),
            encode(&small, 77, DICT_ONLY, Some(&dict)),
        ];
        for record in &records {
            assert!(decode(record, &dicts).is_ok());
            for cut in 0..record.len() {
                // A plain string's body runs to the end, so its cuts may decode: only plain
                // collections and compressed frames must refuse every cut.
                assert!(decode(&record[..cut], &dicts).is_err(), "cut at {cut}");
            }
            for i in 0..record.len() {
                for bit in 0..8 {
                    let mut bad = record.clone();
                    bad[i] ^= 1 << bit;
                    // Refused, or (a flip zstd or the codec cannot notice) some value.
                    let _ = decode(&bad, &dicts);
                    let _ = version_of(&bad);
                }
            }
        }
    }

    #[test]
    fn a_damaged_dictionary_is_not_used() {
        // A dictionary header (magic EC30A437) with nothing valid after it.
        let mut bytes = vec![0x37, 0xA4, 0x30, 0xEC];
        bytes.extend_from_slice(&[0xff; 64]);
        assert!(Dictionary::try_from_bytes(4, &bytes).is_err());
        let broken = Dictionary::from_bytes(4, &bytes);
        assert_eq!(broken.bytes(), &bytes[..]);
        let small = codec::encode_to_vec(&Value::Str(doc(1).into()));
        let record = encode(&small, 1, DICT_ONLY, Some(&broken));
        assert_eq!(record[1], method::PLAIN);

        let good = trained_dict(4);
        let record = encode(&small, 1, DICT_ONLY, Some(&good));
        let dicts = dicts_with(broken);
        assert_eq!(
            decode(&record, &dicts).unwrap_err().0,
            "cold record uses dictionary 4, which zstd could not load"
        );
    }

    #[test]
    fn trainer_bounds_its_samples_and_starts_over() {
        let mut trainer = Trainer::new();
        assert!(trainer.train(1).is_none());
        trainer.offer(&[]);
        trainer.offer(&vec![0; MAX_SAMPLE_LEN + 1]);
        assert!(trainer.sizes.is_empty());
        for _ in 0..10_000 {
            trainer.offer(&[7; 1000]);
        }
        assert!(trainer.data.len() <= SAMPLE_BUDGET);
        assert!(trainer.is_ready());
        // Identical samples: zstd has nothing to learn (or learns a useless dictionary);
        // either way the samples are gone afterwards.
        let _ = trainer.train(1);
        assert!(trainer.sizes.is_empty() && trainer.data.is_empty());
        assert!(!trainer.is_ready());
    }

    #[test]
    fn dictionaries_are_shareable() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Dictionary>();
        send_sync::<Dictionaries>();
        let dict = Arc::new(trained_dict(2));
        let small = codec::encode_to_vec(&Value::Str(doc(77).into()));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let dict = Arc::clone(&dict);
                let small = small.clone();
                std::thread::spawn(move || encode(&small, 1, DICT_ONLY, Some(&dict)))
            })
            .collect();
        let mut dicts = Dictionaries::default();
        dicts.insert(Arc::clone(&dict));
        for t in threads {
            let record = t.join().expect("no panic");
            assert_eq!(
                decode(&record, &dicts).unwrap().1,
                Value::Str(doc(77).into())
            );
        }
    }

    /// Prints compression ratios (run with `--ignored --nocapture`); asserts nothing about them.
    #[test]
    #[ignore]
    fn report_compression_ratios() {
        // Pseudo-text from a small vocabulary: the redundancy of logs or prose.
        let words = [
            "the", "cold", "value", "was", "demoted", "to", "disk", "after", "an", "hour",
            "without", "reads", "key", "user", "session", "expired", "request", "served",
        ];
        let mut x = 12345u64;
        let mut next = move || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as usize
        };
        let mut text = |len: usize| {
            let mut s = String::new();
            while s.len() < len {
                s.push_str(words[next() % words.len()]);
                s.push(' ');
            }
            s.truncate(len);
            Value::Str(s.into_bytes().into())
        };
        let dict = trained_dict(1);
        let ratio = |vals: &[Value], c: Compression, d: Option<&Dictionary>| {
            let (mut plain, mut stored) = (0, 0);
            for v in vals {
                let p = codec::encode_to_vec(v);
                plain += p.len();
                stored += encode(&p, 1_000_000, c, d).len();
            }
            plain as f64 / stored as f64
        };
        let kib: Vec<Value> = (0..1000).map(|_| text(1024)).collect();
        let hundred_docs: Vec<Value> = (10_000..11_000)
            .map(|i| {
                let mut d = doc(i);
                d.truncate(100);
                Value::Str(d.into())
            })
            .collect();
        let hundred_text: Vec<Value> = (0..1000).map(|_| text(100)).collect();
        println!("dictionary: {} bytes", dict.bytes().len());
        for level in [1, 3, 9] {
            let alone = Compression {
                level,
                min_bytes: 0,
            };
            println!(
                "level {level}: 1 KiB text {:.2}x; 100 B documents {:.2}x alone; \
                 100 B text {:.2}x alone",
                ratio(&kib, alone, None),
                ratio(&hundred_docs, alone, None),
                ratio(&hundred_text, alone, None),
            );
        }
        println!(
            "dictionary (level 3): 100 B documents {:.2}x; 100 B text {:.2}x",
            ratio(&hundred_docs, DICT_ONLY, Some(&dict)),
            ratio(&hundred_text, DICT_ONLY, Some(&dict)),
        );
        let text_dict = {
            let mut trainer = Trainer::new();
            for _ in 0..2_000 {
                trainer.offer(&codec::encode_to_vec(&text(100)));
            }
            trainer.train(2).expect("trains")
        };
        println!(
            "text-trained dictionary ({} bytes): 100 B text {:.2}x",
            text_dict.bytes().len(),
            ratio(&hundred_text, DICT_ONLY, Some(&text_dict)),
        );
    }

    #[test]
    fn split_records_hold_a_header() {
        let mut hash = HashValue::new();
        hash.insert(b"f", b"v");
        let value = Value::Hash(Arc::new(hash));
        let header = codec::split::header(&value).unwrap();
        let record = encode_split(&header, 77);
        let dicts = Dictionaries::default();
        assert_eq!(version_of(&record), Ok(77));
        assert_eq!(
            read(&record, &dicts),
            Ok((77, Read::Split(codec::split::read_header(&header).unwrap())))
        );
        // A reader that wants a whole value is told what it got.
        assert_eq!(
            decode(&record, &dicts).unwrap_err().0,
            "cold record is a split collection's header"
        );
        let mut bad = record.clone();
        bad.push(0);
        assert!(read(&bad, &dicts)
            .unwrap_err()
            .0
            .starts_with("split record header is corrupt"));
    }

    #[test]
    fn index_entries_carry_the_split_bit() {
        let entry = |tag, split| IndexEntry {
            version: 9,
            expires_at: 1_700_000_000_000,
            stub: crate::types::ColdStub {
                disk_version: 8,
                disk_bytes: 1234,
                tag,
                split,
            },
        };
        for e in [
            entry(codec::tag::HASH, true),
            entry(codec::tag::ZSET, false),
        ] {
            assert_eq!(decode_index(&encode_index(&e)), Ok(e));
        }
        let mut string_split = encode_index(&entry(codec::tag::STRING, false));
        *string_split.last_mut().unwrap() |= INDEX_SPLIT;
        assert_eq!(
            decode_index(&string_split).unwrap_err().0,
            "index entry marks a value of type tag 0 as split"
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&bytes, &Dictionaries::default());
            let _ = version_of(&bytes);
        }

        #[test]
        fn arbitrary_payloads_behind_a_valid_header_never_panic(
            method in 0u8..4,
            payload in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let mut record = vec![RECORD_FORMAT, method, 5];
            if method == method::ZSTD_DICT {
                record.extend_from_slice(&0u32.to_le_bytes());
            }
            // Often a real frame header, so zstd's decoder is reached.
            if payload.first().is_some_and(|b| b & 1 == 0) {
                record.extend_from_slice(&[0x28, 0xB5, 0x2F, 0xFD]);
            }
            record.extend_from_slice(&payload);
            let dicts = dicts_with(Dictionary::from_bytes(0, b"some raw content dictionary"));
            let _ = decode(&record, &dicts);
            let _ = read(&record, &dicts);
        }

        #[test]
        fn strings_round_trip(s in proptest::collection::vec(any::<u8>(), 0..3000), version: u64, level in 0i32..6, min_bytes in 0usize..4000) {
            let v = Value::Str(s.into());
            let plain = codec::encode_to_vec(&v);
            let record = encode(&plain, version, Compression { level, min_bytes }, None);
            prop_assert!(record.len() <= plain.len() + 12);
            prop_assert_eq!(decode(&record, &Dictionaries::default()), Ok((version, v)));
        }
    }
}
