//! The set type's value: a set of byte-string members, shared copy-on-write.
//!
//! A key holds `Value::Set(Arc<SetValue>)`. Readers clone or borrow the `Arc`; writers go
//! through `Arc::make_mut`, which copies the set only when someone else holds it. OBJECT
//! ENCODING follows Redis 7.2's rules with its default limits: `intset` while every member is an
//! integer and there are at most `set-max-intset-entries` (512) of them, `listpack` while there
//! are at most `set-max-listpack-entries` (128) members of at most `set-max-listpack-value` (64)
//! bytes, `hashtable` otherwise. As in Redis the conversions are one-way (intset, then listpack,
//! then hashtable). Only the report follows Redis: the storage is always a hash table.

use bytes::Bytes;

use super::{alloc_size, limits};

/// Ordered as Redis orders a set's members while it is small: an intset keeps its integers
/// ascending, a listpack in insertion order (SMEMBERS, SSCAN show it). A hash table's order is
/// arbitrary, so there removal swaps the last member into the hole (O(1)). Random picks index
/// it in O(1).
type Members = indexmap::IndexSet<Bytes, foldhash::fast::RandomState>;

/// The encoding OBJECT ENCODING reports (Redis's, not the storage's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
enum Encoding {
    #[default]
    Intset,
    Listpack,
    Hashtable,
}

/// The members of one set.
#[derive(Clone, Debug, Default)]
pub struct SetValue {
    members: Members,
    enc: Encoding,
}

impl PartialEq for SetValue {
    fn eq(&self, other: &SetValue) -> bool {
        self.members == other.members
    }
}

impl Eq for SetValue {}

fn is_integer(member: &[u8]) -> bool {
    member.len() <= 20 && crate::protocol::parse_i64(member).is_some()
}

impl SetValue {
    /// An empty set, reported as an `intset` until a member says otherwise.
    pub fn new() -> SetValue {
        SetValue::default()
    }

    /// An empty set about to receive `first` and `hint - 1` more members, encoded as Redis's
    /// `setTypeCreate` picks it (SADD passes the number of members it was given).
    pub fn with_hint(first: &[u8], hint: usize) -> SetValue {
        let enc = if is_integer(first) && hint <= limits::set_max_intset_entries() {
            Encoding::Intset
        } else if hint <= limits::set_max_listpack_entries() {
            Encoding::Listpack
        } else {
            Encoding::Hashtable
        };
        SetValue {
            members: Members::default(),
            enc,
        }
    }

    /// Redis's `setTypeMaybeConvert`: a set about to receive `hint` members converts to a
    /// hash table up front when that many could not fit its current encoding.
    pub fn reserve_hint(&mut self, hint: usize) {
        if (self.enc == Encoding::Intset && hint > limits::set_max_intset_entries())
            || (self.enc == Encoding::Listpack && hint > limits::set_max_listpack_entries())
        {
            self.enc = Encoding::Hashtable;
        }
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        self.members.contains(member)
    }

    /// Adds `member` (copied out of the request buffer); true when it is new.
    pub fn insert(&mut self, member: &[u8]) -> bool {
        if self.members.contains(member) {
            return false;
        }
        self.insert_new(Bytes::copy_from_slice(member));
        true
    }

    /// Adds an owned member; true when it is new.
    pub fn insert_bytes(&mut self, member: Bytes) -> bool {
        if self.members.contains(&member[..]) {
            return false;
        }
        self.insert_new(member);
        true
    }

    fn insert_new(&mut self, member: Bytes) {
        let before = self.members.len();
        match self.enc {
            Encoding::Intset => {
                if is_integer(&member) {
                    if before + 1 > limits::set_max_intset_entries() {
                        self.enc = Encoding::Hashtable;
                    }
                } else if before < limits::set_max_listpack_entries()
                    && member.len() <= limits::set_max_listpack_value()
                {
                    self.enc = Encoding::Listpack;
                } else {
                    self.enc = Encoding::Hashtable;
                }
            }
            Encoding::Listpack => {
                if before >= limits::set_max_listpack_entries()
                    || member.len() > limits::set_max_listpack_value()
                {
                    self.enc = Encoding::Hashtable;
                }
            }
            Encoding::Hashtable => {}
        }
        if self.enc == Encoding::Intset {
            // Every member is a canonical integer here.
            let n = crate::protocol::parse_i64(&member);
            let at = self
                .members
                .binary_search_by(|m| crate::protocol::parse_i64(m).cmp(&n))
                .unwrap_or_else(|at| at);
            self.members.shift_insert(at, member);
        } else {
            self.members.insert(member);
        }
    }

    /// Re-encodes the set as a freshly built one, the way Redis's SPOP does when it pops most of
    /// a set (it builds a new set from the members that stay): a listpack stays a listpack, any
    /// other set starts as an intset when a remaining member is an integer, then converts as
    /// members are added. So a hash-table set popped down to a few members is small again.
    pub fn rebuild_encoding(&mut self) {
        let start = match (self.enc, self.members.iter().next()) {
            (Encoding::Listpack, _) => Encoding::Listpack,
            (_, Some(m)) if is_integer(m) => Encoding::Intset,
            _ => Encoding::Listpack,
        };
        let members = std::mem::take(&mut self.members);
        self.enc = start;
        self.members.reserve(members.len());
        for m in members {
            self.insert_new(m);
        }
    }

    /// Sets the reported encoding after a decode (src/types/codec.rs) to what it was when the
    /// set was encoded, unless its members already demand a later one (conversions only go
    /// forward: intset, listpack, hashtable).
    pub fn restore_encoding(&mut self, hashtable: bool, listpack: bool) {
        let stored = if hashtable {
            Encoding::Hashtable
        } else if listpack {
            Encoding::Listpack
        } else {
            Encoding::Intset
        };
        self.enc = self.enc.max(stored);
    }

    /// Removes `member`; true when it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        if self.enc == Encoding::Hashtable {
            self.members.swap_remove(member)
        } else {
            // Intsets and listpacks keep their order; they are small, so the shift is short.
            self.members.shift_remove(member)
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Bytes> {
        self.members.iter()
    }

    /// The member at position `n` of the iteration order (`n < len`), for random picks.
    pub fn nth(&self, n: usize) -> Option<&Bytes> {
        self.members.get_index(n)
    }

    /// What OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self.enc {
            Encoding::Intset => "intset",
            Encoding::Listpack => "listpack",
            Encoding::Hashtable => "hashtable",
        }
    }

    /// Total bytes of the members (an approximate size).
    pub fn data_len(&self) -> usize {
        self.members.iter().map(|m| m.len()).sum()
    }

    /// Heap bytes the allocator holds for this set: the `Arc` block, the entry vector (a cached
    /// hash and a `Bytes` per slot, capacity in step with the index table's), the index table (a
    /// `usize` and a control byte per bucket, plus a 16-byte group) and every non-empty member
    /// buffer.
    pub fn heap_bytes(&self) -> usize {
        let arc = alloc_size(2 * std::mem::size_of::<usize>() + std::mem::size_of::<SetValue>());
        let cap = self.members.capacity();
        let table = if cap == 0 {
            0
        } else {
            let buckets = if cap < 8 { cap + 1 } else { cap / 7 * 8 };
            let entry = std::mem::size_of::<usize>() + std::mem::size_of::<Bytes>();
            alloc_size(cap * entry) + alloc_size(buckets * (std::mem::size_of::<usize>() + 1) + 16)
        };
        let bufs: usize = self
            .members
            .iter()
            .filter(|m| !m.is_empty())
            .map(|m| alloc_size(m.len()))
            .sum();
        arc + table + bufs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_follow_redis() {
        let mut s = SetValue::new();
        assert!(s.insert(b"1"));
        assert!(!s.insert(b"1"));
        assert_eq!(s.encoding(), "intset");
        assert!(s.insert(b"a"));
        assert_eq!(s.encoding(), "listpack");
        assert!(s.insert(&[b'x'; 65]));
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.remove(&[b'x'; 65]));
        assert_eq!(s.encoding(), "hashtable");

        let mut ints = SetValue::new();
        for i in 0..limits::set_max_intset_entries() {
            ints.insert(i.to_string().as_bytes());
        }
        assert_eq!(ints.encoding(), "intset");
        ints.insert(b"100000");
        assert_eq!(ints.encoding(), "hashtable");

        // A non-canonical integer is not an integer member.
        let mut s = SetValue::new();
        s.insert(b"01");
        assert_eq!(s.encoding(), "listpack");
        assert_eq!(SetValue::with_hint(b"a", 129).encoding(), "hashtable");
        assert_eq!(SetValue::with_hint(b"1", 129).encoding(), "intset");

        // Rebuilt after a large SPOP: small again.
        let mut s = SetValue::new();
        for i in 0..200 {
            s.insert(format!("m{i}").as_bytes());
        }
        assert_eq!(s.encoding(), "hashtable");
        for i in 0..190 {
            s.remove(format!("m{i}").as_bytes());
        }
        s.rebuild_encoding();
        assert_eq!(s.encoding(), "listpack");
        assert_eq!(s.len(), 10);
    }

    #[test]
    fn copy_on_write_and_heap_bytes() {
        let mut a = std::sync::Arc::new(SetValue::new());
        let empty = a.heap_bytes();
        std::sync::Arc::make_mut(&mut a).insert(&[b'm'; 100]);
        assert!(a.heap_bytes() >= empty + 112);
        let reader = a.clone();
        std::sync::Arc::make_mut(&mut a).insert(b"x");
        assert_eq!(reader.len(), 1);
        assert_eq!(a.len(), 2);
    }
}
