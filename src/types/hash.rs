//! The hash type's value: a map from field to value, shared copy-on-write.
//!
//! A key holds `Value::Hash(Arc<HashValue>)`. Readers clone the `Arc` (a background task that
//! demotes a cold value can keep its handle while the key is written); writers go through
//! `Arc::make_mut`, which copies the map only when someone else holds it. OBJECT ENCODING
//! reports `listpack` while the hash stays within `hash-max-listpack-entries` (default 128)
//! and `hash-max-listpack-value` (default 64 bytes; see `types::limits`), `hashtable` once it has outgrown them; like
//! Redis's conversion, that is one-way. Only the report follows Redis: the storage is always a
//! hash table.

use bytes::Bytes;

use super::{alloc_size, limits};

/// Insertion-ordered: a listpack hash lists its fields in the order they were added (HGETALL,
/// HKEYS, HSCAN), as Redis's listpack does, and random picks index it in O(1).
type Map = indexmap::IndexMap<Bytes, Bytes, foldhash::fast::RandomState>;

/// The fields of one hash.
#[derive(Clone, Debug, Default)]
pub struct HashValue {
    map: Map,
    /// True once the hash outgrew the listpack limits (never reset, as in Redis).
    hashtable: bool,
}

impl PartialEq for HashValue {
    fn eq(&self, other: &HashValue) -> bool {
        self.map == other.map
    }
}

impl Eq for HashValue {}

impl HashValue {
    pub fn new() -> HashValue {
        HashValue::default()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn get(&self, field: &[u8]) -> Option<&Bytes> {
        self.map.get(field)
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.map.contains_key(field)
    }

    /// Sets `field` to `value`; true when the field is new. Both are copied out of the request
    /// buffer so that the hash does not pin it.
    pub fn insert(&mut self, field: &[u8], value: &[u8]) -> bool {
        let max_value = limits::hash_max_listpack_value();
        if field.len() > max_value || value.len() > max_value {
            self.hashtable = true;
        }
        let value = Bytes::copy_from_slice(value);
        let new = match self.map.get_mut(field) {
            Some(v) => {
                *v = value;
                false
            }
            None => {
                self.map.insert(Bytes::copy_from_slice(field), value);
                true
            }
        };
        if self.map.len() > limits::hash_max_listpack_entries() {
            self.hashtable = true;
        }
        new
    }

    /// Sets the reported encoding after a decode (src/types/codec.rs): a hash that had
    /// outgrown its listpack stays a `hashtable`.
    pub fn restore_encoding(&mut self, hashtable: bool) {
        self.hashtable |= hashtable;
    }

    /// Removes `field`; true when it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        if self.hashtable {
            // Order no longer shows (a hash table's is arbitrary): O(1) removal.
            self.map.swap_remove(field).is_some()
        } else {
            // A listpack keeps the order of the remaining fields; it has at most
            // `hash-max-listpack-entries` of them, so the shift is short.
            self.map.shift_remove(field).is_some()
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Bytes, &Bytes)> {
        self.map.iter()
    }

    /// The entry at position `n` of the map's iteration order (`n < len`), for random picks.
    pub fn nth(&self, n: usize) -> Option<(&Bytes, &Bytes)> {
        self.map.get_index(n)
    }

    /// What OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        if self.hashtable {
            "hashtable"
        } else {
            "listpack"
        }
    }

    /// Total bytes of fields and values (an approximate size).
    pub fn data_len(&self) -> usize {
        self.map.iter().map(|(f, v)| f.len() + v.len()).sum()
    }

    /// Heap bytes the allocator holds for this hash: the `Arc` block that holds it, the map's
    /// entry vector (a cached hash and a `(Bytes, Bytes)` pair per slot; indexmap keeps its
    /// capacity in step with the index table's), its index table (a `usize` and a control byte
    /// per bucket, plus a 16-byte group) and every non-empty field and value buffer.
    pub fn heap_bytes(&self) -> usize {
        let arc = alloc_size(2 * std::mem::size_of::<usize>() + std::mem::size_of::<HashValue>());
        let cap = self.map.capacity();
        let table = if cap == 0 {
            0
        } else {
            let buckets = if cap < 8 { cap + 1 } else { cap / 7 * 8 };
            let entry = std::mem::size_of::<usize>() + std::mem::size_of::<(Bytes, Bytes)>();
            alloc_size(cap * entry) + alloc_size(buckets * (std::mem::size_of::<usize>() + 1) + 16)
        };
        let bufs: usize = self
            .map
            .iter()
            .map(|(f, v)| buf_bytes(f) + buf_bytes(v))
            .sum();
        arc + table + bufs
    }
}

fn buf_bytes(b: &Bytes) -> usize {
    if b.is_empty() {
        0
    } else {
        alloc_size(b.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_remove_and_encoding() {
        let mut h = HashValue::new();
        assert!(h.insert(b"a", b"1"));
        assert!(!h.insert(b"a", b"2"));
        assert_eq!(h.get(b"a").map(|v| &v[..]), Some(&b"2"[..]));
        assert_eq!(h.encoding(), "listpack");
        assert!(h.insert(b"b", &[b'x'; 65]));
        assert_eq!(h.encoding(), "hashtable");
        // The conversion is one-way.
        assert!(h.remove(b"b"));
        assert!(!h.remove(b"b"));
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn too_many_entries_is_a_hashtable() {
        let mut h = HashValue::new();
        for i in 0..limits::hash_max_listpack_entries() {
            h.insert(i.to_string().as_bytes(), b"v");
        }
        assert_eq!(h.encoding(), "listpack");
        h.insert(b"one more", b"v");
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn heap_bytes_grow() {
        let mut h = HashValue::new();
        let empty = h.heap_bytes();
        h.insert(b"field", &[b'v'; 100]);
        assert!(h.heap_bytes() >= empty + 112 + 8);
    }

    #[test]
    fn copy_on_write() {
        let mut a = std::sync::Arc::new(HashValue::new());
        std::sync::Arc::make_mut(&mut a).insert(b"f", b"1");
        let reader = a.clone();
        std::sync::Arc::make_mut(&mut a).insert(b"f", b"2");
        assert_eq!(reader.get(b"f").map(|v| &v[..]), Some(&b"1"[..]));
        assert_eq!(a.get(b"f").map(|v| &v[..]), Some(&b"2"[..]));
    }
}
