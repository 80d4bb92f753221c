//! Value types held by keys, and (in `codec`) the one binary encoding they all have
//! (docs/FORMAT.md).

use std::sync::Arc;

use bytes::Bytes;

pub mod codec;
pub mod hash;
pub mod limits;
pub mod list;
pub mod set;
pub mod zset;

pub use hash::HashValue;
pub use list::ListValue;
pub use set::SetValue;
pub use zset::ZSetValue;

/// A key's value. Strings are reference-counted `Bytes`: a reader clones the handle, a writer
/// that finds the buffer shared copies it first (copy-on-write). Collections sit behind an
/// `Arc` for the same reason: writers use `Arc::make_mut`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Str(Bytes),
    Hash(Arc<HashValue>),
    Set(Arc<SetValue>),
    List(Arc<ListValue>),
    ZSet(Arc<ZSetValue>),
    /// A value that lives in RocksDB (src/tier): only its type, its size on disk and the key
    /// version it was written from stay in RAM. Commands never see one: the keyspace loads it
    /// before handing the entry to a command (and a handler that is handed one anyway, because
    /// loading failed, treats it as a type it does not handle; dispatch then replies with the
    /// load error).
    Cold(ColdStub),
}

/// What RAM keeps of a value moved to RocksDB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColdStub {
    /// The key version the record on disk was written from (the record says it too; a load
    /// installs a record only when the two agree).
    pub disk_version: u64,
    /// Bytes the record takes on disk (after compression).
    pub disk_bytes: u32,
    /// The value's type, as a `codec::tag`.
    pub tag: u8,
    /// The record is split: a header, and one RocksDB entry per element (a big hash, set or
    /// sorted set; see `codec::split`), so that one element can be read alone.
    pub split: bool,
}

impl ColdStub {
    pub fn type_name(&self) -> &'static str {
        match self.tag {
            codec::tag::STRING => "string",
            codec::tag::LIST => "list",
            codec::tag::SET => "set",
            codec::tag::ZSET => "zset",
            _ => "hash",
        }
    }
}

/// The type names TYPE and SCAN ... TYPE use.
pub const TYPE_NAMES: &[&str] = &["string", "list", "set", "zset", "hash", "stream"];

impl Value {
    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::List(_) => "list",
            Value::ZSet(_) => "zset",
            Value::Cold(c) => c.type_name(),
        }
    }

    /// The name OBJECT ENCODING reports, following Redis's rules for strings: `int` for a
    /// canonical 64-bit integer, `embstr` up to 44 bytes, `raw` above; for collections see
    /// [`HashValue::encoding`], [`SetValue::encoding`], [`ListValue::encoding`] and
    /// [`ZSetValue::encoding`].
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => {
                if s.len() <= 20 && crate::protocol::parse_i64(s).is_some() {
                    "int"
                } else if s.len() <= 44 {
                    "embstr"
                } else {
                    "raw"
                }
            }
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::List(l) => l.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Cold(_) => "cold",
        }
    }

    /// True for the types blocking commands wait for (lists and sorted sets): creating such
    /// a key may serve blocked clients.
    pub fn wakes_blocked(&self) -> bool {
        match self {
            Value::List(_) | Value::ZSet(_) => true,
            Value::Cold(c) => matches!(c.tag, codec::tag::LIST | codec::tag::ZSET),
            _ => false,
        }
    }

    /// True for a value that lives in RocksDB.
    pub fn is_cold(&self) -> bool {
        matches!(self, Value::Cold(_))
    }

    /// The `codec::tag` of the value's type.
    pub fn tag(&self) -> u8 {
        match self {
            Value::Str(_) => codec::tag::STRING,
            Value::Hash(_) => codec::tag::HASH,
            Value::Set(_) => codec::tag::SET,
            Value::List(_) => codec::tag::LIST,
            Value::ZSet(_) => codec::tag::ZSET,
            Value::Cold(c) => c.tag,
        }
    }

    /// Approximate heap bytes held by the value (for MEMORY USAGE and the memory budget).
    pub fn mem_size(&self) -> usize {
        match self {
            Value::Str(s) => s.len(),
            Value::Hash(h) => h.data_len(),
            Value::Set(s) => s.data_len(),
            Value::List(l) => l.data_len(),
            Value::ZSet(z) => z.data_len(),
            Value::Cold(_) => 0,
        }
    }

    /// Heap bytes the allocator reserves for the value's own buffers (not counting the entry
    /// that holds it).
    pub fn heap_bytes(&self) -> usize {
        match self {
            Value::Str(s) if s.is_empty() => 0,
            Value::Str(s) => alloc_size(s.len()),
            Value::Hash(h) => h.heap_bytes(),
            Value::Set(s) => s.heap_bytes(),
            Value::List(l) => l.heap_bytes(),
            Value::ZSet(z) => z.heap_bytes(),
            Value::Cold(_) => 0,
        }
    }
}

/// Bytes jemalloc reserves for an allocation of `len` bytes: its size classes are 8, then
/// multiples of 16 up to 128, then four classes per doubling (160, 192, 224, 256, 320, ...).
pub fn alloc_size(len: usize) -> usize {
    if len <= 8 {
        return 8;
    }
    if len <= 128 {
        return len.div_ceil(16) * 16;
    }
    let k = usize::BITS - 1 - (len - 1).leading_zeros(); // 2^k < len <= 2^(k+1)
    let step = 1usize << (k - 2);
    len.div_ceil(step) * step
}

#[cfg(test)]
mod tests {
    use super::alloc_size;

    #[test]
    fn jemalloc_size_classes() {
        let classes = [
            (1, 8),
            (8, 8),
            (9, 16),
            (100, 112),
            (128, 128),
            (129, 160),
            (256, 256),
            (257, 320),
        ];
        for (len, class) in classes {
            assert_eq!(alloc_size(len), class, "len {len}");
        }
        assert_eq!(alloc_size(12_289), 14_336);
    }
}
