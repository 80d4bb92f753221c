//! One key's entry: its value, expiry, version and access clock.

use crate::types::Value;

/// Everything the keyspace knows about one key.
///
/// `version` changes on every write to the key (it is drawn from the owning shard's counter), so
/// a background task that copied the value can later tell whether it is still current.
#[derive(Clone, Debug)]
pub struct Entry {
    pub value: Value,
    /// Absolute expiry in Unix milliseconds; 0 when the key is persistent. Private to the
    /// keyspace, which keeps its expiry index in step with it: change it with
    /// `Locked::set_expiry`, read it with [`Entry::expires_at`].
    pub(super) expires_at: u64,
    pub version: u64,
    pub access: Access,
    /// How OBJECT ENCODING reports a string value (see [`StrEncoding`]).
    pub str_enc: StrEncoding,
    /// Whether RocksDB holds a record under this key (see [`Disk`]). Private to the keyspace,
    /// which keeps it true on every write.
    pub(super) disk: Disk,
    /// RocksDB's index holds this entry as it is now (version, TTL, record): a checkpoint has
    /// nothing to write for it. Cleared by every write (every new version).
    pub(super) indexed: bool,
    /// The record RocksDB holds under this key (when `disk` is not `None`) is split: its
    /// elements are entries of their own, deleted with it (`tier::store::Delete::elements`).
    pub(super) split: bool,
}

/// What RocksDB holds under a key whose entry is in RAM.
///
/// The invariant the tier rests on: an entry whose value is [`Value::Cold`] is always
/// `Disk::Clean`, and its record stays in RocksDB until the entry stops being cold; a record
/// whose entry is removed or replaced is queued for deletion (the shard's garbage) in the same
/// locked step, and the garbage of a shard reaches RocksDB before any later write of that
/// shard's values (one demotion thread owns each shard's writes, checkpoints included). A
/// record's index entry is written and deleted in the same batch as the record, so the same
/// holds of it; a cold value whose TTL changed keeps its record (`Clean`) while its index
/// entry is older until the next checkpoint (`Entry::indexed`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Disk {
    /// No record.
    #[default]
    None,
    /// A record of an older value: rewritten by the next demotion, deleted with the key.
    Stale,
    /// The record holds this very value, written from this entry's current version: the value
    /// can be demoted again without a write.
    Clean,
}

impl Entry {
    /// Absolute expiry in Unix milliseconds; 0 when the key is persistent.
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// A fresh entry: version 0 (the keyspace assigns one when storing it), accessed `now_s`.
    pub fn new(value: Value, expires_at: u64, now_s: u32) -> Entry {
        Entry {
            value,
            expires_at,
            version: 0,
            access: Access::new(now_s),
            str_enc: StrEncoding::Auto,
            disk: Disk::None,
            indexed: false,
            split: false,
        }
    }

    /// What RocksDB holds under this key.
    pub fn disk(&self) -> Disk {
        self.disk
    }

    /// Gives the entry a new version: a write. A record that held the value is now older.
    pub(super) fn written(&mut self, version: u64) {
        self.version = version;
        self.indexed = false;
        if self.disk == Disk::Clean && !self.value.is_cold() {
            self.disk = Disk::Stale;
        }
    }

    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expires_at != 0 && self.expires_at <= now_ms
    }

    /// The name OBJECT ENCODING reports for this entry's value.
    pub fn encoding(&self) -> &'static str {
        match (&self.value, self.str_enc) {
            (Value::Str(_), StrEncoding::Raw) => "raw",
            (Value::Str(s), StrEncoding::NoInt) => {
                if s.len() <= 44 {
                    "embstr"
                } else {
                    "raw"
                }
            }
            // Hashes, sets (and strings chosen from their content) report the value's own encoding.
            (value, _) => value.encoding(),
        }
    }
}

/// Redis's string encoding is a property of how the value was written, not only of its bytes:
/// SET picks `int`/`embstr`/`raw` from the content, but a string edited in place (APPEND,
/// SETRANGE) is `raw` whatever it holds, and one built from a float (INCRBYFLOAT) is never
/// `int`. RENAME, MOVE and COPY keep the encoding; any other write resets it to `Auto`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StrEncoding {
    /// Chosen from the content, as SET does.
    #[default]
    Auto,
    /// Edited in place: always `raw`.
    Raw,
    /// Built from a float: `embstr` or `raw` by length, never `int`.
    NoInt,
    /// Chosen from the content, but a COPY of an integer: Redis duplicates the object, so even
    /// a small integer is not one of its shared ones (OBJECT REFCOUNT 1).
    UnsharedInt,
}

/// Access tracking for OBJECT IDLETIME / OBJECT FREQ and, later, eviction and demotion sampling:
/// Redis's LRU clock (seconds) and its logarithmic LFU counter with decay.
#[derive(Clone, Copy, Debug, Default)]
pub struct Access {
    /// Seconds (server clock) of the last access.
    pub last_access: u32,
    /// Logarithmic access counter (Redis's LFU counter, 0..=255).
    pub lfu_counter: u8,
    /// Minutes (server clock, wrapping at 16 bits) when the counter was last decremented.
    pub lfu_decrement_min: u16,
}

/// Initial LFU counter of a new key, as in Redis, so that new keys are not evicted at once.
pub const LFU_INIT: u8 = 5;

impl Access {
    pub fn new(now_s: u32) -> Access {
        Access {
            last_access: now_s,
            lfu_counter: LFU_INIT,
            lfu_decrement_min: (now_s / 60) as u16,
        }
    }

    /// Records an access at `now_s`: refreshes the LRU clock, decays the LFU counter by the idle
    /// minutes divided by `decay_time`, then increments it with probability 1/((c-5)*log_factor+1).
    pub fn touch(&mut self, now_s: u32, log_factor: u32, decay_time: u32) {
        self.lfu_counter = self.decayed_counter(now_s, decay_time);
        self.lfu_decrement_min = (now_s / 60) as u16;
        let c = self.lfu_counter;
        if c < 255 {
            let base = (c as f64 - LFU_INIT as f64).max(0.0);
            let p = 1.0 / (base * log_factor as f64 + 1.0);
            if rand::random::<f64>() < p {
                self.lfu_counter = c + 1;
            }
        }
        self.last_access = now_s;
    }

    /// The LFU counter after decay, without recording an access (OBJECT FREQ).
    pub fn decayed_counter(&self, now_s: u32, decay_time: u32) -> u8 {
        if decay_time == 0 {
            return self.lfu_counter;
        }
        let now_min = (now_s / 60) as u16;
        let elapsed = now_min.wrapping_sub(self.lfu_decrement_min) as u32;
        let periods = elapsed / decay_time;
        self.lfu_counter.saturating_sub(periods.min(255) as u8)
    }

    pub fn idle_seconds(&self, now_s: u32) -> u32 {
        now_s.saturating_sub(self.last_access)
    }
}
