//! The sorted-set type's value: members with a double score, ordered by (score, member bytes).
//!
//! A key holds `Value::ZSet(Arc<ZSetValue>)`, shared copy-on-write like sets (`Arc::make_mut`).
//! The order lives in an [`OrderTree`]: a treap (a binary search tree whose nodes also carry a
//! random priority that keeps it balanced in expectation) with the size of every subtree in its
//! root node, allocated in one arena `Vec` and linked by `u32` indices, with a free list for the
//! slots of removed nodes. Subtree sizes make it an order-statistics tree: insertion, removal,
//! the rank of a key, the node at a rank, and the rank of the first key past a score or lex
//! bound all cost O(log n) expected. A range of m elements is walked with an explicit stack, or
//! cut out in one split (ZREMRANGEBY*, pops), in O(log n + m). Next to the tree, a hash table of
//! node indices (hashed by member) answers ZSCORE and finds a member's node in O(1), so ZADD and
//! ZREM cost O(log n) in all. A member's bytes are stored once, in its node. Chosen over a
//! skiplist (Redis's) because an arena with indices needs no `unsafe` and no per-node
//! allocation, and over a B-tree because split/merge treaps keep every operation a few short
//! functions. Each tree seeds its priorities at random, so no order of insertions a client
//! picks can unbalance it (the recursion depth is the height, O(log n) with high probability).
//!
//! OBJECT ENCODING follows Redis 7.2: `listpack` while there are at most
//! `zset-max-listpack-entries` (128) members of at most `zset-max-listpack-value` (64) bytes,
//! `skiplist` after (one-way, except that a freshly built STORE result is encoded by its size).
//! Only the report follows Redis: the storage is always the tree.

use std::cmp::Ordering;
use std::hash::BuildHasher;

use bytes::Bytes;
use hashbrown::HashTable;

use super::alloc_size;

/// Redis's `zset-max-listpack-entries` default.
pub const LISTPACK_MAX_ENTRIES: usize = 128;
/// Redis's `zset-max-listpack-value` default (bytes of a member).
pub const LISTPACK_MAX_VALUE: usize = 64;

const NIL: u32 = u32::MAX;

/// Orders two (score, member) keys as Redis does: by score, then by member bytes. Scores are
/// never NaN.
pub fn cmp_key(a_score: f64, a_member: &[u8], b_score: f64, b_member: &[u8]) -> Ordering {
    match a_score.partial_cmp(&b_score) {
        Some(Ordering::Equal) | None => a_member.cmp(b_member),
        Some(o) => o,
    }
}

#[derive(Clone, Debug)]
struct Node {
    score: f64,
    member: Bytes,
    left: u32,
    right: u32,
    /// Nodes in the subtree rooted here (0 for a free slot).
    size: u32,
    prio: u32,
}

/// An order-statistics treap of (score, member) keys in an arena (see the module comment).
#[derive(Clone, Debug)]
pub struct OrderTree {
    nodes: Vec<Node>,
    free: Vec<u32>,
    root: u32,
    rng: u32,
}

impl Default for OrderTree {
    fn default() -> OrderTree {
        OrderTree {
            nodes: Vec::new(),
            free: Vec::new(),
            root: NIL,
            // A per-set random seed: priorities a client cannot predict, so that no order of
            // insertions can unbalance the tree (its recursion depth is its height).
            rng: rand::random::<u32>() | 1,
        }
    }
}

impl OrderTree {
    pub fn len(&self) -> usize {
        self.size(self.root)
    }

    pub fn is_empty(&self) -> bool {
        self.root == NIL
    }

    fn size(&self, t: u32) -> usize {
        if t == NIL {
            0
        } else {
            self.nodes[t as usize].size as usize
        }
    }

    fn pull(&mut self, t: u32) {
        let n = &self.nodes[t as usize];
        let size = 1 + self.size(n.left) + self.size(n.right);
        self.nodes[t as usize].size = size as u32;
    }

    fn next_prio(&mut self) -> u32 {
        // xorshift32: balance only needs priorities independent of the keys.
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x
    }

    /// Allocates a detached node for (score, member); returns its index.
    pub fn alloc(&mut self, score: f64, member: Bytes) -> u32 {
        let prio = self.next_prio();
        let node = Node {
            score,
            member,
            left: NIL,
            right: NIL,
            size: 1,
            prio,
        };
        match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        }
    }

    /// Returns a detached node's slot to the free list (its member buffer is dropped).
    pub fn release(&mut self, i: u32) {
        let n = &mut self.nodes[i as usize];
        n.member = Bytes::new();
        n.size = 0;
        n.left = NIL;
        n.right = NIL;
        self.free.push(i);
    }

    /// Arena slots in use or free: the bound of [`slot`](Self::slot) positions.
    pub fn arena_len(&self) -> usize {
        self.nodes.len()
    }

    /// The member and score in arena slot `i`, None when the slot is free. A node keeps its
    /// slot for as long as its member is in the set (a new score relinks the same node), which
    /// is what lets ZSCAN walk slots with a cursor.
    pub fn slot(&self, i: usize) -> Option<(&Bytes, f64)> {
        self.nodes
            .get(i)
            .filter(|n| n.size > 0)
            .map(|n| (&n.member, n.score))
    }

    /// Gives the arena back once the tree is empty, so that a drained set holds no memory.
    /// Call after the last [`release`](Self::release) of an operation.
    pub fn free_arena_if_empty(&mut self) {
        if self.root == NIL {
            self.nodes = Vec::new();
            self.free = Vec::new();
        }
    }

    pub fn score(&self, i: u32) -> f64 {
        self.nodes[i as usize].score
    }

    pub fn member(&self, i: u32) -> &Bytes {
        &self.nodes[i as usize].member
    }

    /// Splits `t` into its first `k` nodes and the rest.
    fn split_at(&mut self, t: u32, k: usize) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        let ls = self.size(self.nodes[t as usize].left);
        if k > ls {
            let (l, r) = self.split_at(self.nodes[t as usize].right, k - ls - 1);
            self.nodes[t as usize].right = l;
            self.pull(t);
            (t, r)
        } else {
            let (l, r) = self.split_at(self.nodes[t as usize].left, k);
            self.nodes[t as usize].left = r;
            self.pull(t);
            (l, t)
        }
    }

    /// Joins two trees, every key of `a` before every key of `b`.
    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.nodes[a as usize].prio >= self.nodes[b as usize].prio {
            let r = self.merge(self.nodes[a as usize].right, b);
            self.nodes[a as usize].right = r;
            self.pull(a);
            a
        } else {
            let l = self.merge(a, self.nodes[b as usize].left);
            self.nodes[b as usize].left = l;
            self.pull(b);
            b
        }
    }

    /// Links the detached node `i` into the tree (its key must not be there already).
    pub fn link(&mut self, i: u32) {
        let n = &mut self.nodes[i as usize];
        n.left = NIL;
        n.right = NIL;
        n.size = 1;
        let (score, member) = (n.score, std::mem::take(&mut n.member));
        let r = self.rank_of(score, &member);
        self.nodes[i as usize].member = member;
        let (l, rest) = self.split_at(self.root, r);
        let l = self.merge(l, i);
        self.root = self.merge(l, rest);
    }

    /// Unlinks node `i` from the tree, leaving it detached (still allocated).
    pub fn unlink(&mut self, i: u32) {
        let n = &self.nodes[i as usize];
        let r = self.rank_of(n.score, &n.member);
        let (l, rest) = self.split_at(self.root, r);
        let (_mid, rest) = self.split_at(rest, 1);
        self.root = self.merge(l, rest);
    }

    /// Unlinks the nodes at ranks `start..end` (`start < end <= len`) and returns them, still
    /// allocated, in no particular order: O(log n) for the split plus O(end - start) to list.
    pub fn unlink_range(&mut self, start: usize, end: usize) -> Vec<u32> {
        let (l, rest) = self.split_at(self.root, start);
        let (mid, r) = self.split_at(rest, end - start);
        self.root = self.merge(l, r);
        let mut out = Vec::with_capacity(end - start);
        let mut todo = vec![mid];
        while let Some(t) = todo.pop() {
            if t == NIL {
                continue;
            }
            out.push(t);
            let n = &self.nodes[t as usize];
            todo.push(n.left);
            todo.push(n.right);
        }
        out
    }

    /// Unlinks node `i` and frees its slot.
    pub fn delete(&mut self, i: u32) {
        self.unlink(i);
        self.release(i);
        self.free_arena_if_empty();
    }

    /// Changes the score of node `i`, moving it to its new place.
    pub fn rescore(&mut self, i: u32, score: f64) {
        self.unlink(i);
        self.nodes[i as usize].score = score;
        self.link(i);
    }

    /// How many keys satisfy `before`, which must hold for a prefix of the order.
    pub fn count_prefix(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut t = self.root;
        let mut n = 0;
        while t != NIL {
            let node = &self.nodes[t as usize];
            if before(node.score, &node.member) {
                n += self.size(node.left) + 1;
                t = node.right;
            } else {
                t = node.left;
            }
        }
        n
    }

    /// The 0-based rank of the key (score, member), which must be in the tree.
    pub fn rank_of(&self, score: f64, member: &[u8]) -> usize {
        self.count_prefix(|s, m| cmp_key(s, m, score, member) == Ordering::Less)
    }

    /// The node at 0-based rank `r` (< len).
    pub fn select(&self, mut r: usize) -> Option<u32> {
        let mut t = self.root;
        while t != NIL {
            let node = &self.nodes[t as usize];
            let ls = self.size(node.left);
            match r.cmp(&ls) {
                Ordering::Less => t = node.left,
                Ordering::Equal => return Some(t),
                Ordering::Greater => {
                    r -= ls + 1;
                    t = node.right;
                }
            }
        }
        None
    }

    /// Nodes from rank `start` on, ascending (or descending with `rev`: `start`, `start - 1`, ...).
    pub fn iter_from(&self, start: usize, rev: bool) -> Iter<'_> {
        let mut stack = Stack::new();
        let mut t = self.root;
        let mut r = start;
        while t != NIL {
            let node = &self.nodes[t as usize];
            let ls = self.size(node.left);
            match r.cmp(&ls) {
                Ordering::Less => {
                    if !rev {
                        stack.push(t);
                    }
                    t = node.left;
                }
                Ordering::Equal => {
                    stack.push(t);
                    break;
                }
                Ordering::Greater => {
                    if rev {
                        stack.push(t);
                    }
                    r -= ls + 1;
                    t = node.right;
                }
            }
        }
        if t == NIL {
            // `start` is past the end: nothing to yield.
            stack.clear();
        }
        Iter {
            tree: self,
            stack,
            rev,
        }
    }

    /// Heap bytes of the arena and the free list.
    fn heap_bytes(&self) -> usize {
        let arena = self.nodes.capacity() * std::mem::size_of::<Node>();
        let free = self.free.capacity() * 4;
        (if arena > 0 { alloc_size(arena) } else { 0 })
            + (if free > 0 { alloc_size(free) } else { 0 })
    }

    #[cfg(test)]
    fn check(&self, t: u32) -> usize {
        if t == NIL {
            return 0;
        }
        let n = &self.nodes[t as usize];
        for c in [n.left, n.right] {
            if c != NIL {
                assert!(self.nodes[c as usize].prio <= n.prio, "heap order");
            }
        }
        let size = 1 + self.check(n.left) + self.check(n.right);
        assert_eq!(size, n.size as usize, "subtree size");
        size
    }
}

/// The path an [`Iter`] still has to visit: inline up to a depth no balanced tree of 4 billion
/// nodes exceeds in practice (it spills to the heap beyond).
type Stack = smallvec::SmallVec<[u32; 64]>;

/// An in-order walk over an [`OrderTree`] (see [`OrderTree::iter_from`]).
pub struct Iter<'a> {
    tree: &'a OrderTree,
    stack: Stack,
    rev: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Bytes, f64);

    fn next(&mut self) -> Option<(&'a Bytes, f64)> {
        let t = self.stack.pop()?;
        let nodes = &self.tree.nodes;
        let node = &nodes[t as usize];
        let mut c = if self.rev { node.left } else { node.right };
        while c != NIL {
            self.stack.push(c);
            let n = &nodes[c as usize];
            c = if self.rev { n.right } else { n.left };
        }
        Some((&node.member, node.score))
    }
}

/// The encoding OBJECT ENCODING reports (Redis's, not the storage's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Encoding {
    #[default]
    Listpack,
    Skiplist,
}

/// Redis's listpack limits for sorted sets (`zset-max-listpack-entries` / `-value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub entries: usize,
    pub value: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            entries: LISTPACK_MAX_ENTRIES,
            value: LISTPACK_MAX_VALUE,
        }
    }
}

/// What [`ZSetValue::insert`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inserted {
    Added,
    Updated,
    Unchanged,
}

type Hasher = foldhash::fast::RandomState;

/// The members of one sorted set.
#[derive(Clone, Debug, Default)]
pub struct ZSetValue {
    tree: OrderTree,
    /// Node indices, hashed by their member.
    index: HashTable<u32>,
    hasher: Hasher,
    enc: Encoding,
}

impl PartialEq for ZSetValue {
    fn eq(&self, other: &ZSetValue) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|(a, b)| a.0 == b.0 && a.1.to_bits() == b.1.to_bits())
    }
}

impl Eq for ZSetValue {}

impl ZSetValue {
    /// An empty sorted set encoded as Redis's `zsetTypeCreate` picks it for `size_hint` members
    /// of up to `value_hint` bytes.
    pub fn with_hint(size_hint: usize, value_hint: usize, limits: Limits) -> ZSetValue {
        let enc = if limits.entries == 0 || size_hint > limits.entries || value_hint > limits.value
        {
            Encoding::Skiplist
        } else {
            Encoding::Listpack
        };
        ZSetValue {
            enc,
            ..ZSetValue::default()
        }
    }

    pub fn len(&self) -> usize {
        self.tree.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    fn find(&self, member: &[u8]) -> Option<u32> {
        let hash = self.hasher.hash_one(member);
        let nodes = &self.tree;
        self.index
            .find(hash, |&i| nodes.member(i)[..] == *member)
            .copied()
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.find(member).map(|i| self.tree.score(i))
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        self.find(member).is_some()
    }

    /// Sets the score of `member`, adding it when new (copied out of the request buffer).
    pub fn insert(&mut self, member: &[u8], score: f64, limits: Limits) -> Inserted {
        if let Some(i) = self.find(member) {
            if self.tree.score(i) == score {
                return Inserted::Unchanged;
            }
            self.tree.rescore(i, score);
            return Inserted::Updated;
        }
        self.insert_new(Bytes::copy_from_slice(member), score, limits);
        Inserted::Added
    }

    /// Adds a member known not to be there.
    fn insert_new(&mut self, member: Bytes, score: f64, limits: Limits) {
        if self.enc == Encoding::Listpack
            && (self.len() + 1 > limits.entries || member.len() > limits.value)
        {
            self.enc = Encoding::Skiplist;
        }
        let hash = self.hasher.hash_one(&member[..]);
        let i = self.tree.alloc(score, member);
        self.tree.link(i);
        let (tree, hasher) = (&self.tree, &self.hasher);
        self.index
            .insert_unique(hash, i, |&j| hasher.hash_one(&tree.member(j)[..]));
    }

    /// Removes `member`; its score when it was there.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let hash = self.hasher.hash_one(member);
        let tree = &self.tree;
        let entry = self
            .index
            .find_entry(hash, |&i| tree.member(i)[..] == *member)
            .ok()?;
        let (i, _) = entry.remove();
        let score = self.tree.score(i);
        self.tree.delete(i);
        if self.tree.is_empty() {
            self.index = HashTable::new();
        }
        Some(score)
    }

    /// Removes the members at ranks `start..end` in O(log n + k) for k removed; returns k.
    pub fn remove_range(&mut self, start: usize, end: usize) -> usize {
        let end = end.min(self.len());
        if start >= end {
            return 0;
        }
        let gone = self.tree.unlink_range(start, end);
        for &i in &gone {
            let hash = self.hasher.hash_one(&self.tree.member(i)[..]);
            if let Ok(entry) = self.index.find_entry(hash, |&j| j == i) {
                entry.remove();
            }
        }
        for &i in &gone {
            self.tree.release(i);
        }
        self.tree.free_arena_if_empty();
        if self.tree.is_empty() {
            self.index = HashTable::new();
        }
        gone.len()
    }

    /// The 0-based ascending rank of `member` and its score.
    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        let i = self.find(member)?;
        let score = self.tree.score(i);
        Some((self.tree.rank_of(score, self.tree.member(i)), score))
    }

    /// The number of members before the score bound: with `inclusive`, those scoring below
    /// `score`; otherwise those scoring at most `score`. That is the rank of the first member
    /// inside a range whose lower bound is (`score`, `inclusive`).
    pub fn rank_of_score(&self, score: f64, inclusive: bool) -> usize {
        self.tree
            .count_prefix(|s, _| if inclusive { s < score } else { s <= score })
    }

    /// The number of members before a lex bound, assuming equal scores: with `inclusive`,
    /// those below `member`; otherwise those at most `member`.
    pub fn rank_of_lex(&self, member: &[u8], inclusive: bool) -> usize {
        self.tree
            .count_prefix(|_, m| if inclusive { m < member } else { m <= member })
    }

    /// The member at rank `r` and its score.
    pub fn at(&self, r: usize) -> Option<(&Bytes, f64)> {
        self.tree
            .select(r)
            .map(|i| (self.tree.member(i), self.tree.score(i)))
    }

    /// Members from rank `start` (ascending, or descending with `rev`).
    pub fn iter_from(&self, start: usize, rev: bool) -> Iter<'_> {
        self.tree.iter_from(start, rev)
    }

    /// Every member with its score, in order.
    pub fn iter(&self) -> Iter<'_> {
        self.tree.iter_from(0, false)
    }

    /// Redis's `zsetTypeMaybeConvert`: a listpack about to receive `hint` members converts up
    /// front when that many could not fit.
    pub fn reserve_hint(&mut self, hint: usize, limits: Limits) {
        if self.enc == Encoding::Listpack && hint > limits.entries {
            self.enc = Encoding::Skiplist;
        }
    }

    /// Re-encodes a freshly built set by its contents, as Redis's
    /// `zsetConvertToListpackIfNeeded` does for STORE results.
    pub fn encode_by_size(&mut self, limits: Limits) {
        let max = self.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
        self.enc = if self.len() <= limits.entries && max <= limits.value {
            Encoding::Listpack
        } else {
            Encoding::Skiplist
        };
    }

    /// A sorted set rebuilt by a decode (src/types/codec.rs) from (member, score) pairs,
    /// reporting the encoding it had when encoded. False when a member repeats.
    pub fn restore(
        pairs: impl ExactSizeIterator<Item = (Bytes, f64)>,
        skiplist: bool,
    ) -> Option<ZSetValue> {
        let mut z = ZSetValue::default();
        let never = Limits {
            entries: usize::MAX,
            value: usize::MAX,
        };
        for (member, score) in pairs {
            if z.contains(&member) {
                return None;
            }
            z.insert_new(member, score, never);
        }
        z.enc = if skiplist {
            Encoding::Skiplist
        } else {
            Encoding::Listpack
        };
        Some(z)
    }

    /// Arena slots of the order tree (see [`OrderTree::slot`]), for ZSCAN's cursor.
    pub fn slots(&self) -> usize {
        self.tree.arena_len()
    }

    /// The member and score in arena slot `i`, None when free.
    pub fn slot(&self, i: usize) -> Option<(&Bytes, f64)> {
        self.tree.slot(i)
    }

    /// What OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self.enc {
            Encoding::Listpack => "listpack",
            Encoding::Skiplist => "skiplist",
        }
    }

    /// Total bytes of the members plus 8 per score (an approximate size).
    pub fn data_len(&self) -> usize {
        self.iter().map(|(m, _)| m.len() + 8).sum()
    }

    /// Heap bytes the allocator holds for this set: the `Arc` block, the node arena and its free
    /// list, the index table (a `u32` and a control byte per bucket, plus a 16-byte group) and
    /// every non-empty member buffer.
    pub fn heap_bytes(&self) -> usize {
        let arc = alloc_size(2 * std::mem::size_of::<usize>() + std::mem::size_of::<ZSetValue>());
        let cap = self.index.capacity();
        let table = if cap == 0 {
            0
        } else {
            let buckets = if cap < 8 { cap + 1 } else { cap / 7 * 8 };
            alloc_size(buckets * (4 + 1) + 16)
        };
        let bufs: usize = self
            .iter()
            .filter(|(m, _)| !m.is_empty())
            .map(|(m, _)| alloc_size(m.len()))
            .sum();
        arc + self.tree.heap_bytes() + table + bufs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    /// A model key with Redis's order (scores here are small integers, so never NaN).
    #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
    struct Key(i64, Vec<u8>);

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u8, i64),
        Remove(u8),
        RemoveRange(usize, usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u8..40, -5i64..5).prop_map(|(m, s)| Op::Insert(m, s)),
            1 => (0u8..40).prop_map(Op::Remove),
            1 => (0usize..45, 0usize..45).prop_map(|(a, b)| Op::RemoveRange(a, b)),
        ]
    }

    fn name(m: u8) -> Vec<u8> {
        format!("m{m}").into_bytes()
    }

    proptest! {
        #[test]
        fn rank_select_range_match_a_btreeset(ops in prop::collection::vec(op(), 0..200)) {
            let mut z = ZSetValue::default();
            let mut model: BTreeSet<Key> = BTreeSet::new();
            let limits = Limits::default();
            for op in ops {
                match op {
                    Op::Insert(m, s) => {
                        let old = model.iter().find(|k| k.1 == name(m)).cloned();
                        let expect = match &old {
                            None => Inserted::Added,
                            Some(k) if k.0 == s => Inserted::Unchanged,
                            Some(_) => Inserted::Updated,
                        };
                        if let Some(k) = old {
                            model.remove(&k);
                        }
                        model.insert(Key(s, name(m)));
                        prop_assert_eq!(z.insert(&name(m), s as f64, limits), expect);
                    }
                    Op::Remove(m) => {
                        let old = model.iter().find(|k| k.1 == name(m)).cloned();
                        if let Some(k) = &old {
                            model.remove(k);
                        }
                        prop_assert_eq!(z.remove(&name(m)), old.map(|k| k.0 as f64));
                    }
                    Op::RemoveRange(a, b) => {
                        let all: Vec<Key> = model.iter().cloned().collect();
                        let end = b.min(all.len());
                        let gone: Vec<Key> = all.get(a..end).map(|s| s.to_vec()).unwrap_or_default();
                        for k in &gone {
                            model.remove(k);
                        }
                        prop_assert_eq!(z.remove_range(a, b), gone.len());
                        for k in &gone {
                            prop_assert!(!z.contains(&k.1));
                        }
                    }
                }
                z.tree.check(z.tree.root);
                prop_assert_eq!(z.len(), model.len());
            }
            let all: Vec<Key> = model.iter().cloned().collect();
            for (r, k) in all.iter().enumerate() {
                prop_assert_eq!(z.rank(&k.1), Some((r, k.0 as f64)));
                let (m, s) = z.at(r).unwrap();
                prop_assert_eq!((&m[..], s), (&k.1[..], k.0 as f64));
                prop_assert_eq!(z.score(&k.1), Some(k.0 as f64));
            }
            prop_assert!(z.at(all.len()).is_none());
            for start in 0..=all.len() + 1 {
                let fwd: Vec<Key> = z.iter_from(start, false).map(|(m, s)| Key(s as i64, m.to_vec())).collect();
                prop_assert_eq!(&fwd[..], all.get(start..).unwrap_or(&[]));
                let rev: Vec<Key> = z.iter_from(start, true).map(|(m, s)| Key(s as i64, m.to_vec())).collect();
                let mut expect: Vec<Key> = all.iter().take(start + 1).cloned().collect();
                if start >= all.len() {
                    expect.clear();
                }
                expect.reverse();
                prop_assert_eq!(rev, expect);
            }
            for s in -6i64..6 {
                let below = all.iter().filter(|k| k.0 < s).count();
                let at_most = all.iter().filter(|k| k.0 <= s).count();
                prop_assert_eq!(z.rank_of_score(s as f64, true), below);
                prop_assert_eq!(z.rank_of_score(s as f64, false), at_most);
            }
        }
    }

    #[test]
    fn lex_ranks_with_equal_scores() {
        let mut z = ZSetValue::default();
        for m in ["a", "b", "c", "d"] {
            z.insert(m.as_bytes(), 0.0, Limits::default());
        }
        assert_eq!(z.rank_of_lex(b"b", true), 1);
        assert_eq!(z.rank_of_lex(b"b", false), 2);
        assert_eq!(z.rank_of_lex(b"bb", true), 2);
        assert_eq!(z.rank_of_lex(b"z", true), 4);
    }

    #[test]
    fn encodings_follow_redis() {
        let limits = Limits::default();
        let mut z = ZSetValue::with_hint(1, 1, limits);
        z.insert(b"a", 1.0, limits);
        assert_eq!(z.encoding(), "listpack");
        z.insert(&[b'x'; 65], 1.0, limits);
        assert_eq!(z.encoding(), "skiplist");
        z.remove(&[b'x'; 65]);
        assert_eq!(z.encoding(), "skiplist");
        z.encode_by_size(limits);
        assert_eq!(z.encoding(), "listpack");
        assert_eq!(ZSetValue::with_hint(129, 1, limits).encoding(), "skiplist");
        let zero = Limits {
            entries: 0,
            value: 64,
        };
        assert_eq!(ZSetValue::with_hint(1, 1, zero).encoding(), "skiplist");
    }

    #[test]
    fn drained_set_frees_its_arena() {
        let limits = Limits::default();
        let mut z = ZSetValue::default();
        for i in 0..100 {
            z.insert(format!("m{i}").as_bytes(), i as f64, limits);
        }
        assert!(z.heap_bytes() > 100 * 56);
        for i in 0..50 {
            z.remove(format!("m{i}").as_bytes());
        }
        assert_eq!(z.remove_range(10, 1000), 40);
        assert_eq!(z.at(9).map(|(m, _)| m.clone()), Some(Bytes::from("m59")));
        assert_eq!(z.remove_range(0, 10), 10);
        assert!(z.is_empty());
        assert_eq!(z.tree.heap_bytes(), 0);
    }
}
