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

use std::collections::HashSet;

use bytes::Bytes;

use super::{key_slot, shard_in, shard_of_slot, Key, Locked, SLOTS_PER_SHARD};
use crate::types::Value;

/// One effect of a step, as the binlog records it.
#[derive(Debug, Clone, Copy)]
pub enum Effect<'e> {
    /// The key holds this value (and TTL; 0: none) at this version.
    Put {
        db: usize,
        key: &'e [u8],
        version: u64,
        expires_at: u64,
        value: &'e Value,
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
        });
    }
}

impl<'a> Locked<'a> {
    /// Notes that this view wrote `key` (`value`: its value, not only its TTL).
    #[inline]
    pub(super) fn note_write(&mut self, db: usize, key: &[u8], what: Wrote) {
        note(&mut self.touched, self.journal.is_some(), db, key, what);
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
        // One effect per key: the first note's place, value changes winning over TTL ones.
        if touched.len() > 1 {
            let mut seen: HashSet<(usize, Key)> = HashSet::with_capacity(touched.len());
            let mut merged: Vec<Touched> = Vec::with_capacity(touched.len());
            for t in touched {
                if seen.insert((t.db, t.key.clone())) {
                    merged.push(t);
                } else if t.value || t.removed {
                    if let Some(m) = merged.iter_mut().find(|m| m.db == t.db && m.key == t.key) {
                        m.value |= t.value;
                        m.removed |= t.removed;
                    }
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
            effects.push(match entry {
                Some(e) if t.value && !e.value.is_cold() => Effect::Put {
                    db: t.db,
                    key: &t.key,
                    version: e.version,
                    expires_at: e.expires_at,
                    value: &e.value,
                },
                Some(e) => Effect::Expire {
                    db: t.db,
                    key: &t.key,
                    version: e.version,
                    expires_at: e.expires_at,
                },
                None => Effect::Del {
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

impl super::Keyspace {
    /// Applies one step read back from the binlog, with the versions it carries. Replay runs
    /// before any client can write and without a journal; expired keys are kept (a later
    /// effect of the step or of the log may still change them, as it did when it ran).
    /// Fails (applying nothing) when the step names a database this server does not have.
    pub fn apply_step(&self, clock: super::Clock, step: Vec<OwnedEffect>) -> Result<(), String> {
        let databases = self.databases();
        for e in &step {
            let highest = match *e {
                OwnedEffect::Put { db, .. }
                | OwnedEffect::Expire { db, .. }
                | OwnedEffect::Del { db, .. }
                | OwnedEffect::FlushDb { db } => db,
                OwnedEffect::SwapDb { a, b } => a.max(b),
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
                .filter_map(|e| match e {
                    OwnedEffect::Put { key, .. }
                    | OwnedEffect::Expire { key, .. }
                    | OwnedEffect::Del { key, .. } => Some(super::shard_of(key)),
                    _ => None,
                })
                .collect();
            self.lock(clock, shards)
        };
        ks.keep_expired = true;
        for effect in step {
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
                OwnedEffect::FlushDb { db } => drop(ks.flush_db(db)),
                OwnedEffect::SwapDb { a, b } => ks.swap_dbs(a, b),
            }
        }
        Ok(())
    }
}

impl<'a> Locked<'a> {
    /// Gives `key` the version a replayed effect carries; later writes draw above it.
    fn replay_version(&mut self, db: usize, key: &[u8], version: u64) {
        let slot = key_slot(key);
        let shard = shard_in(&mut self.guards, self.all, shard_of_slot(slot));
        shard.next_version = shard.next_version.max(version);
        if let Some(e) = shard.dbs[db]
            .as_deref_mut()
            .and_then(|d| d.slots[slot as usize % SLOTS_PER_SHARD].get_mut(key))
        {
            e.version = version;
        }
    }

    /// Sets `key`'s expiry whether or not its old one has passed (replay). False when the key
    /// does not exist.
    fn replay_expiry(&mut self, db: usize, key: &[u8], expires_at: u64) -> bool {
        let slot = key_slot(key);
        let shard = shard_in(&mut self.guards, self.all, shard_of_slot(slot));
        let Some(dbs) = shard.dbs[db].as_deref_mut() else {
            return false;
        };
        let Some((k, entry)) = dbs.slots[slot as usize % SLOTS_PER_SHARD].get_key_value_mut(key)
        else {
            return false;
        };
        let old = std::mem::replace(&mut entry.expires_at, expires_at);
        if old != expires_at {
            let k = k.clone();
            if old != 0 {
                dbs.expires.remove(&(old, k.clone()));
            }
            if expires_at != 0 {
                dbs.expires.insert((expires_at, k));
            }
        }
        true
    }
}
