//! A cold value as stored in RocksDB: a small header (record format, compression, the version
//! of the key it was written from, dictionary id) followed by the value's docs/FORMAT.md
//! encoding, zstd-compressed when that pays.
//!
//! STUB: the signatures below are the contract the rest of the tier codes against; the bodies
//! are being written.

use crate::types::Value;

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

/// A trained zstd dictionary and its id (stored in each record that uses it).
pub struct Dictionary {
    pub id: u32,
    _private: (),
}

impl Dictionary {
    /// The dictionary's raw bytes (what is stored beside the data).
    pub fn bytes(&self) -> &[u8] {
        unimplemented!()
    }

    /// Rebuilds a dictionary from stored bytes.
    pub fn from_bytes(_id: u32, _bytes: &[u8]) -> Dictionary {
        unimplemented!()
    }
}

/// The dictionaries a reader may meet, by id.
#[derive(Default)]
pub struct Dictionaries {
    _private: (),
}

impl Dictionaries {
    pub fn insert(&mut self, _dict: std::sync::Arc<Dictionary>) {
        unimplemented!()
    }

    pub fn get(&self, _id: u32) -> Option<&std::sync::Arc<Dictionary>> {
        unimplemented!()
    }
}

/// Gathers samples of small encoded values and trains a dictionary once it has enough.
pub struct Trainer {
    _private: (),
}

impl Trainer {
    pub fn new() -> Trainer {
        unimplemented!()
    }

    /// Offers one small value's encoding as a sample (kept only while more are wanted).
    pub fn offer(&mut self, _encoded: &[u8]) {
        unimplemented!()
    }

    /// Trains a dictionary with id `id` once enough samples were offered; None before that or
    /// when training fails (then sampling starts over).
    pub fn train(&mut self, _id: u32) -> Option<Dictionary> {
        unimplemented!()
    }
}

impl Default for Trainer {
    fn default() -> Self {
        Trainer::new()
    }
}

/// Makes the record of a value whose docs/FORMAT.md encoding is `plain` (from
/// `types::codec::encode_to_vec`), written from key version `version`: compressed on its own
/// when `plain.len() >= compression.min_bytes` and `compression.level > 0`, with `dict` when it
/// is smaller and a dictionary is given, else stored as it is (also when compressing would not
/// make it smaller).
pub fn encode(
    _plain: &[u8],
    _version: u64,
    _compression: Compression,
    _dict: Option<&Dictionary>,
) -> Vec<u8> {
    unimplemented!()
}

/// Decodes a record: the key version it was written from, and the value.
pub fn decode(_record: &[u8], _dicts: &Dictionaries) -> Result<(u64, Value), RecordError> {
    unimplemented!()
}
