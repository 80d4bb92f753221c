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
        }
    }

    /// True for the types blocking commands wait for (lists and sorted sets): creating such
    /// a key may serve blocked clients.
    pub fn wakes_blocked(&self) -> bool {
        matches!(self, Value::List(_) | Value::ZSet(_))
    }

    /// Approximate heap bytes held by the value (for MEMORY USAGE and the memory budget).
    pub fn mem_size(&self) -> usize {
        match self {
            Value::Str(s) => s.len(),
            Value::Hash(h) => h.data_len(),
            Value::Set(s) => s.data_len(),
            Value::List(l) => l.data_len(),
            Value::ZSet(z) => z.data_len(),
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
