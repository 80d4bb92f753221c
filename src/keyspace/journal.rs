//! What the keyspace tells the binlog: the effects of each atomic step.
//!
//! A locked view ([`Locked`]) notes every key it writes (and the FLUSHDB and SWAPDB it does).
//! When the view is dropped, still holding its locks, it turns the notes into effects, reading
//! each key's state as the step left it: a `Put` of the whole value, an `Expire` when only the
//! TTL changed (or the value is cold, so unchanged), a `Del` when the key is gone. One view is
//! one step, so a transaction or a script is one record, replayed all or nothing; and because
//! the record is made under the locks, two steps that touch the same key reach the binlog in
//! the order they ran. Active expiry and eviction, which run without a view, record their
//! deletions under the shard lock the same way.
//!
//! Recording the state rather than the command makes replay deterministic with no per-command
//! logic: INCR is logged as its result, SPOP as the set without the member, a relative TTL as
//! the absolute expiry it became.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use bytes::Bytes;

use super::{key_slot, shard_in, shard_of_slot, Key, Locked, SLOTS_PER_SHARD};
use crate::types::Value;

/// One effect of a step, as the binlog records it.
#[derive(Debug, Clone)]
pub enum Effect<'e> {
    /// The key holds this value (and TTL; 0: none) at this version.
    Put {
        db: usize,
        key: &'e [u8],
        version: u64,
        expires_at: u64,
        value: &'e Value,
    },
    /// Named elements of the key's collection are now as given (the rest is unchanged); an
    /// absent or other-typed key becomes a new collection of this type first.
    Elements {
        db: usize,
        key: &'e [u8],
        version: u64,
        expires_at: u64,
        elements: Elements<'e>,
    },
    /// The key's list went through these operations, in order (an absent or other-typed key
    /// becomes an empty list first).
    ListOps {
        db: usize,
        key: &'e [u8],
        version: u64,
        expires_at: u64,
        ops: &'e [ListOp],
    },
    /// The key's string holds these bytes at these offsets (an absent or other-typed key
    /// becomes an empty string first; a string shorter than a range is zero-filled up to it).
    Ranges {
        db: usize,
        key: &'e [u8],
        version: u64,
        expires_at: u64,
        ranges: Vec<(u64, &'e [u8])>,
    },
    /// The key's TTL (0: none) and version changed; its value did not.
    Expire {
        db: usize,
        key: &'e [u8],
        version: u64,
        expires_at: u64,
    },
    /// The key is gone.
    Del {
        db: usize,
        key: &'e [u8],
        version: u64,
    },
    FlushDb {
        db: usize,
    },
    SwapDb {
        a: usize,
        b: usize,
    },
}

/// The states of some elements of a collection, after a step (see [`Effect::Elements`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Elements<'e> {
    /// Hash fields and their values (None: the field is gone).
    Hash(Vec<(&'e [u8], Option<&'e [u8]>)>),
    /// Set members and whether each is in the set.
    Set(Vec<(&'e [u8], bool)>),
    /// Sorted-set members and their scores (None: not a member).
    ZSet(Vec<(&'e [u8], Option<f64>)>),
}

/// One operation on a list, as the binlog records it.
#[derive(Debug, Clone, PartialEq)]
pub enum ListOp {
    /// Elements pushed at the head (`left`) or tail, one after the other (LPUSH's order).
    Push { left: bool, elements: Vec<Bytes> },
    /// `count` elements popped from the head (`left`) or tail.
    Pop { left: bool, count: u64 },
    /// The element at `index` (from the head) replaced.
    Set { index: u64, element: Bytes },
    /// `left` elements dropped from the head and `right` from the tail.
    Trim { left: u64, right: u64 },
}

/// [`Elements`] read back from the binlog.
#[derive(Debug, Clone, PartialEq)]
pub enum OwnedElements {
    Hash(Vec<(Bytes, Option<Bytes>)>),
    Set(Vec<(Bytes, bool)>),
    ZSet(Vec<(Bytes, Option<f64>)>),
}

/// An effect read back from the binlog, owning its key and value (see [`Effect`]).
#[derive(Debug, Clone, PartialEq)]
pub enum OwnedEffect {
    Put {
        db: usize,
        key: Bytes,
        version: u64,
        expires_at: u64,
        value: Value,
    },
    Elements {
        db: usize,
        key: Bytes,
        version: u64,
        expires_at: u64,
        elements: OwnedElements,
    },
    ListOps {
        db: usize,
        key: Bytes,
        version: u64,
        expires_at: u64,
        ops: Vec<ListOp>,
    },
    Ranges {
        db: usize,
        key: Bytes,
        version: u64,
        expires_at: u64,
        ranges: Vec<(u64, Bytes)>,
    },
    Expire {
        db: usize,
        key: Bytes,
        version: u64,
        expires_at: u64,
    },
    Del {
        db: usize,
        key: Bytes,
        version: u64,
    },
    FlushDb {
        db: usize,
    },
    SwapDb {
        a: usize,
        b: usize,
    },
}

/// Where the keyspace sends each step's effects (the binlog, src/binlog).
pub trait Journal: Send + Sync {
    /// Records one step. Called with the locks of every key in it held.
    fn append(&self, effects: &[Effect<'_>]);

    /// The position just past the last step appended. Read under a shard's lock, it divides
    /// that shard's steps into those before (in the state) and those after (a checkpoint
    /// records it as where replay resumes for the shard).
    fn end(&self) -> u64;
}

/// Whole-database operations of a view, in the order they ran.
#[derive(Debug, Clone, Copy)]
pub(super) enum Structural {
    FlushDb(usize),
    SwapDb(usize, usize),
}

/// What a view did to a key it wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wrote {
    /// Changed its TTL only.
    Ttl,
    /// May have changed its value.
    Value,
    /// Removed it (it may have been created again since).
    Removed,
}

/// What a view noted about one key it wrote.
#[derive(Debug)]
pub(super) struct Touched {
    db: usize,
    /// Inline up to 24 bytes: noting a write allocates nothing for most keys.
    key: Key,
    /// The value may have changed (false: only the TTL).
    value: bool,
    /// It was removed at some point: it may be gone, and then needs a deletion version.
    removed: bool,
    /// What the value writes changed, when the commands said (see [`Locked::note_elements`]
    /// and [`Locked::note_list`]); None: they may have changed anything.
    detail: Option<Detail>,
}

/// The part of a value a write changed.
#[derive(Debug)]
pub(super) enum Detail {
    /// These elements of a hash, set or sorted set.
    Named(Vec<Bytes>),
    /// These operations on a list, in order.
    List(Vec<ListOp>),
    /// These (offset, length) byte ranges of a string, in order.
    Ranges(Vec<(u64, u64)>),
}

/// [`Locked::note_write`] on the view's fields, for callers that hold a shard borrowed.
#[inline]
pub(super) fn note(touched: &mut Vec<Touched>, on: bool, db: usize, key: &[u8], what: Wrote) {
    if on {
        touched.push(Touched {
            db,
            key: Key::from_slice(key),
            value: what != Wrote::Ttl,
            removed: what == Wrote::Removed,
            detail: None,
        });
    }
}

/// Where a lookup that finds a key expired, and removes it, records that: the view's count of
/// expired keys and, with the binlog on, a note of the removal. Built from a view's fields, so
/// that the lookup can hold its shard borrowed meanwhile.
pub(super) struct Expired<'v> {
    count: &'v mut u64,
    touched: &'v mut Vec<Touched>,
    journal: bool,
    db: usize,
}

impl<'v> Expired<'v> {
    pub(super) fn new(
        count: &'v mut u64,
        touched: &'v mut Vec<Touched>,
        journal: Option<&dyn Journal>,
        db: usize,
    ) -> Expired<'v> {
        Expired {
            count,
            touched,
            journal: journal.is_some(),
            db,
        }
    }

    /// Records that `key` was found expired and removed.
    pub(super) fn record(self, key: &[u8]) {
        *self.count += 1;
        note(self.touched, self.journal, self.db, key, Wrote::Removed);
    }
}

impl<'a> Locked<'a> {
    /// Notes that this view wrote `key` (`value`: its value, not only its TTL).
    #[inline]
    pub(super) fn note_write(&mut self, db: usize, key: &[u8], what: Wrote) {
        note(&mut self.touched, self.journal.is_some(), db, key, what);
    }

    /// Narrows this view's last write of `key` to the named elements of its collection (a
    /// hash's fields, a set's or sorted set's members): the binlog then records their states
    /// instead of the whole value. Call it right after the write, naming every element the
    /// write may have changed.
    pub fn note_elements<'k>(
        &mut self,
        db: usize,
        key: &[u8],
        elements: impl IntoIterator<Item = &'k Bytes>,
    ) {
        if self.journal.is_none() {
            return;
        }
        if let Some(t) = self.last_whole_write(db, key) {
            t.detail = Some(Detail::Named(elements.into_iter().cloned().collect()));
        }
    }

    /// Narrows this view's last write of the list at `key` to `op` (see
    /// [`Locked::note_elements`]).
    /// `op` is called only when the binlog is on.
    pub fn note_list(&mut self, db: usize, key: &[u8], op: impl FnOnce() -> ListOp) {
        if self.journal.is_none() {
            return;
        }
        if let Some(t) = self.last_whole_write(db, key) {
            t.detail = Some(Detail::List(vec![op()]));
        }
    }

    /// Narrows this view's last write of the string at `key` to the `len` bytes at `offset`
    /// (APPEND, SETRANGE, SETBIT: strings only grow that way). See [`Locked::note_elements`].
    pub fn note_range(&mut self, db: usize, key: &[u8], offset: usize, len: usize) {
        if self.journal.is_none() {
            return;
        }
        if let Some(t) = self.last_whole_write(db, key) {
            t.detail = Some(Detail::Ranges(vec![(offset as u64, len as u64)]));
        }
    }

    /// The running command's last note of a write of `key`'s whole value, if that is the last
    /// note it made of `key`. Only a write of the running command may be narrowed: an earlier
    /// command of the same transaction may have rewritten the whole value.
    fn last_whole_write(&mut self, db: usize, key: &[u8]) -> Option<&mut Touched> {
        let from = self.command_start.min(self.touched.len());
        self.touched[from..]
            .iter_mut()
            .rev()
            .find(|t| t.db == db && t.key[..] == *key)
            .filter(|t| t.value && !t.removed && t.detail.is_none())
    }

    /// Marks the start of a command on this view (for [`Locked::note_elements`]).
    pub fn begin_command(&mut self) {
        self.command_start = self.touched.len();
    }

    /// Notes a FLUSHDB of `db`.
    pub(super) fn note_flush(&mut self, db: usize) {
        if self.journal.is_some() {
            self.structural.push(Structural::FlushDb(db));
        }
    }

    /// Notes a SWAPDB: keys noted so far now live in the other database.
    pub(super) fn note_swap(&mut self, a: usize, b: usize) {
        if self.journal.is_some() {
            for t in &mut self.touched {
                if t.db == a {
                    t.db = b;
                } else if t.db == b {
                    t.db = a;
                }
            }
            self.structural.push(Structural::SwapDb(a, b));
        }
    }

    /// Sends the view's effects to the journal (from `Drop`, with the locks still held).
    pub(super) fn emit_effects(&mut self) {
        let Some(journal) = self.journal else {
            return;
        };
        if self.touched.is_empty() && self.structural.is_empty() {
            return;
        }
        let mut touched = std::mem::take(&mut self.touched);
        // One effect per key: the first note's place. A write of the whole value wins over
        // element writes, and element writes over TTL changes.
        if touched.len() > 1 {
            // (db, key) -> its place in `merged`.
            let mut seen: HashMap<(usize, Key), usize> = HashMap::with_capacity(touched.len());
            let mut merged: Vec<Touched> = Vec::with_capacity(touched.len());
            for t in touched {
                match seen.entry((t.db, t.key.clone())) {
                    Entry::Vacant(v) => {
                        v.insert(merged.len());
                        merged.push(t);
                    }
                    Entry::Occupied(o) if t.value || t.removed => {
                        let m = &mut merged[*o.get()];
                        let whole = |x: &Touched| x.value && x.detail.is_none();
                        let any_whole = whole(m) || whole(&t);
                        m.detail = match (m.detail.take(), t.detail) {
                            _ if any_whole => None,
                            (Some(Detail::Named(mut a)), Some(Detail::Named(b))) => {
                                a.extend(b);
                                Some(Detail::Named(a))
                            }
                            (Some(Detail::List(mut a)), Some(Detail::List(b))) => {
                                a.extend(b);
                                Some(Detail::List(a))
                            }
                            (Some(Detail::Ranges(mut a)), Some(Detail::Ranges(b))) => {
                                a.extend(b);
                                Some(Detail::Ranges(a))
                            }
                            // Element writes and list operations on one key: the whole value.
                            (Some(_), Some(_)) => None,
                            (a, b) => a.or(b),
                        };
                        m.value |= t.value;
                        m.removed |= t.removed;
                    }
                    Entry::Occupied(_) => {}
                }
            }
            touched = merged;
        }
        // Keys that are gone get a version of their own (a deletion is a write too). Only a
        // key the view removed can be gone (FLUSHDB aside, which its own effect covers), so
        // only those are looked up here.
        let all = self.all;
        let mut del_versions: smallvec::SmallVec<[(u16, u64); 4]> =
            smallvec::SmallVec::with_capacity(touched.len());
        for t in &touched {
            let slot = key_slot(&t.key);
            let shard = shard_in(&mut self.guards, all, shard_of_slot(slot));
            let gone = t.removed
                && !shard.dbs[t.db].as_deref().is_some_and(|d| {
                    d.slots[slot as usize % SLOTS_PER_SHARD].contains_key(&t.key[..])
                });
            let version = if gone {
                shard.bump()
            } else {
                shard.next_version
            };
            del_versions.push((slot, version));
            // RocksDB's split collections count their changed elements from these effects.
            if t.value || t.removed {
                if let Some(d) = shard.dbs[t.db].as_deref_mut() {
                    let named = match &t.detail {
                        Some(Detail::Named(named)) if !t.removed => Some(&named[..]),
                        _ => None,
                    };
                    super::cold::note_element_changes(d, &t.key, named);
                }
            }
        }
        let mut effects: smallvec::SmallVec<[Effect<'_>; 4]> =
            smallvec::SmallVec::with_capacity(self.structural.len() + touched.len());
        for s in &self.structural {
            effects.push(match *s {
                Structural::FlushDb(db) => Effect::FlushDb { db },
                Structural::SwapDb(a, b) => Effect::SwapDb { a, b },
            });
        }
        for (t, (slot, del_version)) in touched.iter().zip(del_versions) {
            let shard = self.shard_at(shard_of_slot(slot));
            let entry = shard.dbs[t.db]
                .as_deref()
                .and_then(|d| d.slots[slot as usize % SLOTS_PER_SHARD].get(&t.key[..]));
            let detail = t.detail.as_ref().filter(|_| !t.removed);
            effects.push(match (entry, detail) {
                (Some(e), Some(Detail::List(ops)))
                    if t.value && matches!(e.value, Value::List(_)) =>
                {
                    Effect::ListOps {
                        db: t.db,
                        key: &t.key,
                        version: e.version,
                        expires_at: e.expires_at,
                        ops,
                    }
                }
                (Some(e), Some(Detail::Ranges(ranges))) if t.value => match &e.value {
                    Value::Str(bytes) => Effect::Ranges {
                        db: t.db,
                        key: &t.key,
                        version: e.version,
                        expires_at: e.expires_at,
                        ranges: ranges
                            .iter()
                            .map(|&(at, len)| {
                                let from = (at as usize).min(bytes.len());
                                let to = (at as usize + len as usize).min(bytes.len());
                                (at, &bytes[from..to])
                            })
                            .collect(),
                    },
                    value => Effect::Put {
                        db: t.db,
                        key: &t.key,
                        version: e.version,
                        expires_at: e.expires_at,
                        value,
                    },
                },
                (Some(e), Some(Detail::Named(named))) if t.value && !e.value.is_cold() => {
                    match element_states(&e.value, named) {
                        Some(elements) => Effect::Elements {
                            db: t.db,
                            key: &t.key,
                            version: e.version,
                            expires_at: e.expires_at,
                            elements,
                        },
                        None => Effect::Put {
                            db: t.db,
                            key: &t.key,
                            version: e.version,
                            expires_at: e.expires_at,
                            value: &e.value,
                        },
                    }
                }
                (Some(e), _) if t.value && !e.value.is_cold() => Effect::Put {
                    db: t.db,
                    key: &t.key,
                    version: e.version,
                    expires_at: e.expires_at,
                    value: &e.value,
                },
                (Some(e), _) => Effect::Expire {
                    db: t.db,
                    key: &t.key,
                    version: e.version,
                    expires_at: e.expires_at,
                },
                (None, _) => Effect::Del {
                    db: t.db,
                    key: &t.key,
                    version: del_version,
                },
            });
        }
        journal.append(&effects);
        drop(effects);
        self.structural.clear();
    }
}

/// The states of `named` elements in `value`, when it is a collection they can name.
fn element_states<'e>(value: &'e Value, named: &'e [Bytes]) -> Option<Elements<'e>> {
    Some(match value {
        Value::Hash(h) => Elements::Hash(
            named
                .iter()
                .map(|f| (&f[..], h.get(f).map(|v| &v[..])))
                .collect(),
        ),
        Value::Set(set) => Elements::Set(named.iter().map(|m| (&m[..], set.contains(m))).collect()),
        Value::ZSet(z) => Elements::ZSet(named.iter().map(|m| (&m[..], z.score(m))).collect()),
        _ => return None,
    })
}

impl OwnedEffect {
    /// The database, key and version of an effect on one key; None for FLUSHDB and SWAPDB.
    pub fn keyed(&self) -> Option<(&usize, &Bytes, &u64)> {
        match self {
            OwnedEffect::Put {
                db, key, version, ..
            }
            | OwnedEffect::Elements {
                db, key, version, ..
            }
            | OwnedEffect::ListOps {
                db, key, version, ..
            }
            | OwnedEffect::Ranges {
                db, key, version, ..
            }
            | OwnedEffect::Expire {
                db, key, version, ..
            }
            | OwnedEffect::Del { db, key, version } => Some((db, key, version)),
            OwnedEffect::FlushDb { .. } | OwnedEffect::SwapDb { .. } => None,
        }
    }
}

impl super::Keyspace {
    /// Applies one step read back from the binlog, with the versions it carries. Replay runs
    /// before any client can write and without a journal; expired keys are kept (a later
    /// effect of the step or of the log may still change them, as it did when it ran).
    /// Fails (applying nothing) when the step names a database this server does not have.
    ///
    /// After a restart from a checkpoint, `marks` holds each shard's checkpoint offset and
    /// `start` is the step's offset: the step's effects on a shard whose mark is above `start`
    /// are already in its state and are skipped, and so is an effect on a key whose entry
    /// already has the effect's version or a newer one (RocksDB held a newer state of it).
    /// Empty `marks`: a replay from the start of the log.
    pub fn apply_step(
        &self,
        clock: super::Clock,
        step: Vec<OwnedEffect>,
        marks: &[u64],
        start: u64,
    ) -> Result<(), String> {
        let databases = self.databases();
        let applies = |shard: usize| marks.get(shard).is_none_or(|&m| start >= m);
        for e in &step {
            let highest = match e {
                OwnedEffect::FlushDb { db } => *db,
                OwnedEffect::SwapDb { a, b } => *a.max(b),
                keyed => keyed.keyed().map_or(0, |(db, _, _)| *db),
            };
            if highest >= databases {
                return Err(format!(
                    "the binlog writes to database {highest}, but this server has {databases} \
                     (raise `databases`)"
                ));
            }
        }
        let whole = step
            .iter()
            .any(|e| matches!(e, OwnedEffect::FlushDb { .. } | OwnedEffect::SwapDb { .. }));
        let mut ks = if whole {
            self.lock_all(clock)
        } else {
            let shards = step
                .iter()
                .filter_map(|e| e.keyed().map(|(_, key, _)| super::shard_of(key)))
                .collect();
            self.lock(clock, shards)
        };
        ks.keep_expired = true;
        for effect in step {
            if let Some((&db, key, &version)) = effect.keyed() {
                if !applies(super::shard_of(key)) || ks.held_version(db, key) >= Some(version) {
                    continue;
                }
            }
            match effect {
                OwnedEffect::Put {
                    db,
                    key,
                    version,
                    expires_at,
                    value,
                } => {
                    ks.set(db, &key, value, expires_at);
                    ks.replay_version(db, &key, version);
                }
                OwnedEffect::Elements {
                    db,
                    key,
                    version,
                    expires_at,
                    elements,
                } => ks.replay_elements(db, &key, version, expires_at, elements),
                OwnedEffect::ListOps {
                    db,
                    key,
                    version,
                    expires_at,
                    ops,
                } => ks.replay_list(db, &key, version, expires_at, ops),
                OwnedEffect::Ranges {
                    db,
                    key,
                    version,
                    expires_at,
                    ranges,
                } => ks.replay_ranges(db, &key, version, expires_at, ranges),
                OwnedEffect::Expire {
                    db,
                    key,
                    version,
                    expires_at,
                } => {
                    if ks.replay_expiry(db, &key, expires_at) {
                        ks.replay_version(db, &key, version);
                    }
                }
                OwnedEffect::Del { db, key, version } => {
                    let slot = key_slot(&key);
                    let all = ks.all;
                    let shard = shard_in(&mut ks.guards, all, shard_of_slot(slot));
                    shard.next_version = shard.next_version.max(version);
                    if let Some(d) = shard.dbs[db].as_deref_mut() {
                        d.remove(slot, &key);
                    }
                }
                OwnedEffect::FlushDb { db } => drop(ks.flush_db_where(db, applies)),
                OwnedEffect::SwapDb { a, b } => ks.swap_dbs_where(a, b, applies),
            }
            // A value that went cold during replay and cannot be read back: stop rather than
            // apply a change to the wrong base.
            if let Some(e) = ks.load_error.take() {
                return Err(format!("replaying the binlog: {e}"));
            }
        }
        Ok(())
    }
}

impl<'a> Locked<'a> {
    /// The version of `key`'s entry, expired or not (replay).
    fn held_version(&mut self, db: usize, key: &[u8]) -> Option<u64> {
        let slot = key_slot(key);
        self.shard_at(shard_of_slot(slot))
            .db(db)
            .and_then(|d| d.table(slot).get(key))
            .map(|e| e.version)
    }

    /// Gives `key` the version a replayed effect carries; later writes draw above it.
    fn replay_version(&mut self, db: usize, key: &[u8], version: u64) {
        let slot = key_slot(key);
        let shard = shard_in(&mut self.guards, self.all, shard_of_slot(slot));
        shard.next_version = shard.next_version.max(version);
        if let Some(e) = shard.dbs[db].as_deref_mut().and_then(|d| {
            d.mark_unindexed(slot);
            d.slots[slot as usize % SLOTS_PER_SHARD].get_mut(key)
        }) {
            e.version = version;
            e.indexed = false;
        }
    }

    /// Changes `key`'s value in place (replay): a cold value is loaded first; a missing key,
    /// or one holding another type than `empty`, starts as `empty`; `apply` makes the change
    /// and says whether the value is now empty, which removes the key. The key gets `version`
    /// and `expires_at`.
    fn replay_in_place(
        &mut self,
        db: usize,
        key: &[u8],
        (version, expires_at): (u64, u64),
        empty: Value,
        apply: impl FnOnce(&mut Value) -> bool,
    ) {
        let slot = key_slot(key);
        self.ensure_hot(db, slot, key);
        if self.load_error.is_some() {
            return;
        }
        let kind = std::mem::discriminant(&empty);
        let existing = self
            .shard_at(shard_of_slot(slot))
            .db(db)
            .and_then(|d| d.table(slot).get(key))
            .is_some_and(|e| std::mem::discriminant(&e.value) == kind);
        if !existing {
            self.set(db, key, empty, expires_at);
        }
        self.replay_expiry(db, key, expires_at);
        let shard = shard_in(&mut self.guards, self.all, shard_of_slot(slot));
        shard.next_version = shard.next_version.max(version);
        let Some(d) = shard.dbs[db].as_deref_mut() else {
            return;
        };
        d.mark_unindexed(slot);
        let Some(e) = d.slots[slot as usize % SLOTS_PER_SHARD].get_mut(key) else {
            return;
        };
        let empty = apply(&mut e.value);
        // An in-place change: a record RocksDB holds of the old value is now older.
        e.written(version);
        if empty {
            d.remove(slot, key);
        }
    }

    /// Applies an `elements` effect: the named elements take their states in `key`'s
    /// collection (a new one when the key is missing or of another type); an emptied collection
    /// removes the key.
    fn replay_elements(
        &mut self,
        db: usize,
        key: &[u8],
        version: u64,
        expires_at: u64,
        elements: OwnedElements,
    ) {
        let empty = match &elements {
            OwnedElements::Hash(_) => Value::Hash(Default::default()),
            OwnedElements::Set(_) => Value::Set(Default::default()),
            OwnedElements::ZSet(_) => Value::ZSet(Default::default()),
        };
        self.replay_in_place(db, key, (version, expires_at), empty, |value| {
            match (value, elements) {
                (Value::Hash(h), OwnedElements::Hash(fields)) => {
                    let h = std::sync::Arc::make_mut(h);
                    for (f, v) in fields {
                        match v {
                            Some(v) => h.insert(&f, &v),
                            None => h.remove(&f),
                        };
                    }
                    h.is_empty()
                }
                (Value::Set(set), OwnedElements::Set(members)) => {
                    let set = std::sync::Arc::make_mut(set);
                    for (m, present) in members {
                        if present {
                            set.insert_bytes(m);
                        } else {
                            set.remove(&m);
                        }
                    }
                    set.is_empty()
                }
                (Value::ZSet(z), OwnedElements::ZSet(members)) => {
                    let z = std::sync::Arc::make_mut(z);
                    let limits = crate::types::limits::zset();
                    for (m, score) in members {
                        match score {
                            Some(score) => {
                                z.insert(&m, score, limits);
                            }
                            None => {
                                z.remove(&m);
                            }
                        }
                    }
                    z.is_empty()
                }
                _ => false,
            }
        });
    }

    /// Applies a `list` effect: the operations, in order, on `key`'s list (a new one when the
    /// key is missing or of another type); an emptied list removes the key.
    fn replay_list(
        &mut self,
        db: usize,
        key: &[u8],
        version: u64,
        expires_at: u64,
        ops: Vec<ListOp>,
    ) {
        let empty = Value::List(Default::default());
        self.replay_in_place(db, key, (version, expires_at), empty, |value| {
            let Value::List(l) = value else {
                return false;
            };
            let l = std::sync::Arc::make_mut(l);
            let fill = crate::types::limits::list_fill();
            let end = |left: bool| {
                if left {
                    crate::types::list::End::Left
                } else {
                    crate::types::list::End::Right
                }
            };
            for o in ops {
                match o {
                    ListOp::Push { left, elements } => {
                        l.push(fill, end(left), elements.iter().map(|e| &e[..]));
                    }
                    ListOp::Pop { left, count } => {
                        l.pop(fill, end(left), count as usize);
                    }
                    ListOp::Set { index, element } => {
                        l.set(fill, index as usize, &element);
                    }
                    ListOp::Trim { left, right } => l.trim(fill, left as usize, right as usize),
                }
            }
            l.is_empty()
        });
    }

    /// Applies a `ranges` effect to `key`'s string (a new, empty one when the key is missing
    /// or of another type).
    fn replay_ranges(
        &mut self,
        db: usize,
        key: &[u8],
        version: u64,
        expires_at: u64,
        ranges: Vec<(u64, Bytes)>,
    ) {
        let empty = Value::Str(Bytes::new());
        self.replay_in_place(db, key, (version, expires_at), empty, |value| {
            if let Value::Str(s) = value {
                let mut buf = bytes::BytesMut::from(&s[..]);
                for (at, data) in ranges {
                    let (at, end) = (at as usize, at as usize + data.len());
                    if buf.len() < end {
                        buf.resize(end, 0);
                    }
                    buf[at..end].copy_from_slice(&data);
                }
                *s = buf.freeze();
            }
            false
        });
    }

    /// Sets `key`'s expiry whether or not its old one has passed (replay). False when the key
    /// does not exist.
    fn replay_expiry(&mut self, db: usize, key: &[u8], expires_at: u64) -> bool {
        let slot = key_slot(key);
        let shard = shard_in(&mut self.guards, self.all, shard_of_slot(slot));
        shard.dbs[db]
            .as_deref_mut()
            .and_then(|d| d.set_expires_at(slot, key, expires_at))
            .is_some()
    }
}
