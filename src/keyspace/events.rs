//! What commands do to keys, as Redis's keyspace notifications name it.
//!
//! A handler reports each effect with [`crate::keyspace::Locked::notify`] (class, event name,
//! database, key), the keyspace itself reports expirations. The events are collected in the
//! [`Locked`](crate::keyspace::Locked) view while the shard locks are held and acted on by
//! dispatch after the command: published as keyspace notifications (notify-keyspace-events).
//! Events of classes nobody asked for are not even collected: the view carries the enabled
//! class mask, and [`Locked::notify`](crate::keyspace::Locked::notify) is one branch when it is 0.

use bytes::Bytes;

/// Event classes, one bit each, with the letter `notify-keyspace-events` uses for them.
pub mod class {
    pub const GENERIC: u16 = 1 << 0; // g
    pub const STRING: u16 = 1 << 1; // $
    pub const LIST: u16 = 1 << 2; // l
    pub const SET: u16 = 1 << 3; // s
    pub const HASH: u16 = 1 << 4; // h
    pub const ZSET: u16 = 1 << 5; // z
    pub const EXPIRED: u16 = 1 << 6; // x
    pub const EVICTED: u16 = 1 << 7; // e
    pub const STREAM: u16 = 1 << 8; // t
    pub const KEY_MISS: u16 = 1 << 9; // m
    pub const MODULE: u16 = 1 << 10; // d
    pub const NEW: u16 = 1 << 11; // n
}

/// One effect of a command on one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyEvent {
    pub class: u16,
    /// Redis's event name: "set", "lpush", "del", "expired", ...
    pub event: &'static str,
    pub db: usize,
    pub key: Bytes,
}
