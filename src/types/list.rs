//! The list type's value: a sequence of byte-string elements, shared copy-on-write.
//!
//! A key holds `Value::List(Arc<ListValue>)`; writers go through `Arc::make_mut` as for sets.
//! The storage is a `VecDeque<Bytes>`: pushes and pops at both ends are O(1) amortized, and
//! LINDEX/LRANGE/LSET reach any position in O(1) (a ring buffer is indexed directly), so no
//! operation walks the list to find where to start. We chose it over packed chunks (Redis's
//! quicklist of listpacks) because it is the simplest structure that has every complexity Redis
//! documents, and a pop hands the stored `Bytes` to the reply without re-encoding it. The price
//! is memory: about 32 bytes of slot plus a small allocation per element, where a listpack
//! stores a short element in a few bytes; packing can replace it later behind this same API.
//!
//! OBJECT ENCODING follows Redis 7.2's rules: a list is a `listpack` while it would fit in one
//! listpack node under `list-max-listpack-size` (a byte limit for negative values: -1 4 KiB ...
//! -5 64 KiB, default -2 = 8 KiB; an element count for positive ones), a `quicklist` once it
//! outgrows it, and goes back to `listpack` only when it shrinks under half of the limit, as
//! Redis does to avoid converting back and forth. The listpack size is estimated with
//! listpack's own entry sizes (integers packed, strings with their length header and backlen).

use std::collections::VecDeque;

use bytes::Bytes;

use super::alloc_size;

/// Listpack node byte limits for `list-max-listpack-size` -1 .. -5.
const OPTIMIZATION_LEVEL: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// With a positive (count) fill, a node is still limited to this many bytes.
const SIZE_SAFETY_LIMIT: usize = 8192;
/// Listpack header (total bytes, element count) plus its end byte.
const LISTPACK_HEADER: usize = 7;

/// Which end of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Left,
    Right,
}

/// The elements of one list.
#[derive(Clone, Debug, Default)]
pub struct ListValue {
    items: VecDeque<Bytes>,
    /// The size the elements would take as one listpack (Redis's `lpBytes`).
    lp_bytes: usize,
    /// OBJECT ENCODING says `quicklist` (else `listpack`).
    quicklist: bool,
}

impl PartialEq for ListValue {
    fn eq(&self, other: &ListValue) -> bool {
        self.items == other.items
    }
}

impl Eq for ListValue {}

/// Bytes one element takes in a listpack: its encoding header and data, plus the back length.
fn listpack_entry_size(e: &[u8]) -> usize {
    let int = match e.first() {
        Some(b'-' | b'0'..=b'9') if e.len() <= 20 => crate::protocol::parse_i64(e),
        _ => None,
    };
    let enc = if let Some(n) = int {
        match n {
            0..=127 => 1,
            -4096..=4095 => 2,
            -32768..=32767 => 3,
            -8_388_608..=8_388_607 => 4,
            -2_147_483_648..=2_147_483_647 => 5,
            _ => 9,
        }
    } else if e.len() < 64 {
        1 + e.len()
    } else if e.len() < 4096 {
        2 + e.len()
    } else {
        5 + e.len()
    };
    let back = match enc {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        2_097_152..=268_435_455 => 4,
        _ => 5,
    };
    enc + back
}

/// Redis's `quicklistNodeLimit`: (byte limit, count limit) of one node for `fill`.
fn node_limit(fill: i64) -> (usize, usize) {
    if fill >= 0 {
        (usize::MAX, fill.max(1) as usize)
    } else {
        let level = ((-fill - 1) as usize).min(OPTIMIZATION_LEVEL.len() - 1);
        (OPTIMIZATION_LEVEL[level], usize::MAX)
    }
}

/// Redis's `quicklistNodeExceedsLimit`.
fn exceeds_limit(fill: i64, bytes: usize, count: usize) -> bool {
    let (size, n) = node_limit(fill);
    if size != usize::MAX {
        bytes > size
    } else {
        bytes > SIZE_SAFETY_LIMIT || count > n
    }
}

impl ListValue {
    /// A list rebuilt by a decode (src/types/codec.rs): `items` head to tail, reporting the
    /// encoding it had when it was encoded (the quicklist conversion has hysteresis, so the
    /// elements alone do not say which).
    pub fn restore(items: VecDeque<Bytes>, quicklist: bool) -> ListValue {
        let lp_bytes = items.iter().map(|e| listpack_entry_size(e)).sum();
        ListValue {
            items,
            lp_bytes,
            quicklist,
        }
    }

    pub fn new() -> ListValue {
        ListValue {
            items: VecDeque::new(),
            lp_bytes: LISTPACK_HEADER,
            quicklist: false,
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The element at `index` (0 is the head).
    pub fn get(&self, index: usize) -> Option<&Bytes> {
        self.items.get(index)
    }

    /// Elements `start..=end` (already clamped to the list), head to tail.
    pub fn range(&self, start: usize, end: usize) -> impl DoubleEndedIterator<Item = &Bytes> {
        self.items.range(start..=end)
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Bytes> + ExactSizeIterator {
        self.items.iter()
    }

    /// Redis's conversion before adding elements of `add_bytes` total length, `add` of them.
    fn grow_check(&mut self, fill: i64, add_bytes: usize, add: usize) {
        if !self.quicklist && exceeds_limit(fill, self.lp_bytes + add_bytes, self.len() + add) {
            self.quicklist = true;
        }
    }

    /// Redis's conversion after removing elements: back to a listpack under half the limit.
    fn shrink_check(&mut self, fill: i64) {
        if self.quicklist {
            let (size, n) = node_limit(fill);
            if self.lp_bytes <= size / 2 && self.len() <= n / 2 {
                self.quicklist = false;
            }
        }
        // Give memory back once a list lost most of its elements.
        let cap = self.items.capacity();
        if cap > 64 && self.items.len() < cap / 4 {
            self.items.shrink_to(self.items.len() * 2);
        }
    }

    /// Pushes `elements` one by one at `end` (copied out of the request), as LPUSH/RPUSH do:
    /// LPUSH of a b c leaves c at the head.
    pub fn push<'a>(
        &mut self,
        fill: i64,
        end: End,
        elements: impl ExactSizeIterator<Item = &'a [u8]> + Clone,
    ) {
        let add_bytes = elements.clone().map(|e| e.len()).sum();
        self.grow_check(fill, add_bytes, elements.len());
        self.items.reserve(elements.len());
        for e in elements {
            self.push_bytes(end, Bytes::copy_from_slice(e));
        }
    }

    /// Pushes one owned element (LMOVE's moved element), with the growth conversion.
    pub fn push_one(&mut self, fill: i64, end: End, element: Bytes) {
        self.grow_check(fill, element.len(), 1);
        self.push_bytes(end, element);
    }

    fn push_bytes(&mut self, end: End, element: Bytes) {
        self.lp_bytes += listpack_entry_size(&element);
        match end {
            End::Left => self.items.push_front(element),
            End::Right => self.items.push_back(element),
        }
    }

    /// Pops up to `count` elements from `end`, in pop order.
    pub fn pop(&mut self, fill: i64, end: End, count: usize) -> Vec<Bytes> {
        let n = count.min(self.len());
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let e = match end {
                End::Left => self.items.pop_front(),
                End::Right => self.items.pop_back(),
            };
            if let Some(e) = e {
                self.lp_bytes -= listpack_entry_size(&e);
                out.push(e);
            }
        }
        self.shrink_check(fill);
        out
    }

    /// Pops one element from `end`.
    pub fn pop_one(&mut self, fill: i64, end: End) -> Option<Bytes> {
        let e = match end {
            End::Left => self.items.pop_front(),
            End::Right => self.items.pop_back(),
        }?;
        self.lp_bytes -= listpack_entry_size(&e);
        self.shrink_check(fill);
        Some(e)
    }

    /// Replaces the element at `index`; false when out of range.
    pub fn set(&mut self, fill: i64, index: usize, element: &[u8]) -> bool {
        if index >= self.len() {
            return false;
        }
        self.grow_check(fill, element.len(), 1);
        let new = Bytes::copy_from_slice(element);
        self.lp_bytes += listpack_entry_size(&new);
        let old = std::mem::replace(&mut self.items[index], new);
        self.lp_bytes -= listpack_entry_size(&old);
        self.shrink_check(fill);
        true
    }

    /// Inserts `element` before (or after) the first occurrence of `pivot`; false when the pivot
    /// is not there.
    pub fn insert(&mut self, fill: i64, pivot: &[u8], after: bool, element: &[u8]) -> bool {
        self.grow_check(fill, element.len(), 1);
        let Some(at) = self.items.iter().position(|e| e[..] == *pivot) else {
            return false;
        };
        let e = Bytes::copy_from_slice(element);
        self.lp_bytes += listpack_entry_size(&e);
        self.items.insert(at + after as usize, e);
        true
    }

    /// Removes elements equal to `element`: the first `count` from the head (count > 0), the
    /// last `-count` from the tail (count < 0), or all (0). Returns how many went.
    pub fn remove(&mut self, fill: i64, element: &[u8], count: i64) -> usize {
        let limit = if count == 0 {
            usize::MAX
        } else {
            count.unsigned_abs().min(usize::MAX as u64) as usize
        };
        let mut removed = 0usize;
        let mut lp_bytes = self.lp_bytes;
        let mut drop = |e: &Bytes| {
            if removed < limit && e[..] == *element {
                removed += 1;
                lp_bytes -= listpack_entry_size(e);
                false
            } else {
                true
            }
        };
        if count >= 0 {
            self.items.retain(|e| drop(e));
        } else {
            // Decide from the tail, then keep the survivors in order.
            let keep: Vec<bool> = self.items.iter().rev().map(&mut drop).collect();
            let mut it = keep.into_iter().rev();
            self.items.retain(|_| it.next().unwrap_or(true));
        }
        self.lp_bytes = lp_bytes;
        if removed > 0 {
            self.shrink_check(fill);
        }
        removed
    }

    /// Removes `left` elements from the head and `right` from the tail (LTRIM).
    pub fn trim(&mut self, fill: i64, left: usize, right: usize) {
        let left = left.min(self.len());
        for e in self.items.drain(..left) {
            self.lp_bytes -= listpack_entry_size(&e);
        }
        let right = right.min(self.len());
        let keep = self.len() - right;
        for e in self.items.drain(keep..) {
            self.lp_bytes -= listpack_entry_size(&e);
        }
        self.shrink_check(fill);
    }

    /// What OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        if self.quicklist {
            "quicklist"
        } else {
            "listpack"
        }
    }

    /// Total bytes of the elements (an approximate size).
    pub fn data_len(&self) -> usize {
        self.items.iter().map(|e| e.len()).sum()
    }

    /// Heap bytes the allocator holds for this list: the `Arc` block, the ring buffer (one
    /// `Bytes` per slot of capacity) and every non-empty element buffer.
    pub fn heap_bytes(&self) -> usize {
        let arc = alloc_size(2 * std::mem::size_of::<usize>() + std::mem::size_of::<ListValue>());
        let cap = self.items.capacity();
        let ring = if cap == 0 {
            0
        } else {
            alloc_size(cap * std::mem::size_of::<Bytes>())
        };
        let bufs: usize = self
            .items
            .iter()
            .filter(|e| !e.is_empty())
            .map(|e| alloc_size(e.len()))
            .sum();
        arc + ring + bufs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(n: usize, len: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| vec![b'a' + (i % 26) as u8; len]).collect()
    }

    #[test]
    fn push_pop_both_ends() {
        let mut l = ListValue::new();
        l.push(-2, End::Left, [&b"a"[..], b"b", b"c"].into_iter());
        l.push(-2, End::Right, [&b"x"[..]].into_iter());
        let all: Vec<&[u8]> = l.iter().map(|e| &e[..]).collect();
        assert_eq!(all, vec![&b"c"[..], b"b", b"a", b"x"]);
        assert_eq!(
            l.pop(-2, End::Right, 2),
            vec![Bytes::from("x"), Bytes::from("a")]
        );
        assert_eq!(l.pop_one(-2, End::Left), Some(Bytes::from("c")));
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn encoding_follows_the_limits() {
        let mut l = ListValue::new();
        let small = words(10, 10);
        l.push(-2, End::Right, small.iter().map(|w| &w[..]));
        assert_eq!(l.encoding(), "listpack");
        let big = words(1, 9000);
        l.push(-2, End::Right, big.iter().map(|w| &w[..]));
        assert_eq!(l.encoding(), "quicklist");
        l.pop(-2, End::Right, 1);
        assert_eq!(l.encoding(), "listpack");
        // Count limits: 4 elements per node.
        let mut l = ListValue::new();
        l.push(4, End::Right, small[..4].iter().map(|w| &w[..]));
        assert_eq!(l.encoding(), "listpack");
        l.push(4, End::Right, small[..1].iter().map(|w| &w[..]));
        assert_eq!(l.encoding(), "quicklist");
        l.pop(4, End::Left, 2);
        assert_eq!(l.encoding(), "quicklist");
        l.pop(4, End::Left, 1);
        assert_eq!(l.encoding(), "listpack");
        assert_eq!(
            l.lp_bytes,
            LISTPACK_HEADER + 2 * listpack_entry_size(&small[0])
        );
    }

    #[test]
    fn remove_from_either_end_and_trim() {
        let mut l = ListValue::new();
        l.push(
            -2,
            End::Right,
            [&b"a"[..], b"b", b"a", b"c", b"a"].into_iter(),
        );
        assert_eq!(l.remove(-2, b"a", -2), 2);
        let all: Vec<&[u8]> = l.iter().map(|e| &e[..]).collect();
        assert_eq!(all, vec![&b"a"[..], b"b", b"c"]);
        l.trim(-2, 1, 1);
        let all: Vec<&[u8]> = l.iter().map(|e| &e[..]).collect();
        assert_eq!(all, vec![&b"b"[..]]);
        assert_eq!(l.lp_bytes, LISTPACK_HEADER + listpack_entry_size(b"b"));
    }

    #[test]
    fn listpack_sizes() {
        assert_eq!(listpack_entry_size(b"12"), 2);
        assert_eq!(listpack_entry_size(b"1000"), 3);
        assert_eq!(listpack_entry_size(b"hello"), 7);
        assert_eq!(listpack_entry_size(&[b'x'; 100]), 103);
    }
}
