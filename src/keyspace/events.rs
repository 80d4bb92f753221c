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
    /// Not a class: publish `__keyspace@<db>__:<key>` messages (K).
    pub const KEYSPACE: u16 = 1 << 12;
    /// Not a class: publish `__keyevent@<db>__:<event>` messages (E).
    pub const KEYEVENT: u16 = 1 << 13;
    /// `A`: every class but key misses and new keys.
    pub const ALL: u16 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
    /// Every class bit (what a handler may report).
    pub const CLASSES: u16 = ALL | KEY_MISS | NEW;
}

/// The letters of `notify-keyspace-events`, in the order Redis prints them.
const LETTERS: &[(char, u16)] = &[
    ('g', class::GENERIC),
    ('$', class::STRING),
    ('l', class::LIST),
    ('s', class::SET),
    ('h', class::HASH),
    ('z', class::ZSET),
    ('x', class::EXPIRED),
    ('e', class::EVICTED),
    ('t', class::STREAM),
    ('d', class::MODULE),
    ('n', class::NEW),
];

/// Parses Redis's `notify-keyspace-events` letters; None for a letter that names nothing.
pub fn parse_flags(text: &str) -> Option<u16> {
    let mut flags = 0;
    for c in text.chars() {
        flags |= match c {
            'A' => class::ALL,
            'K' => class::KEYSPACE,
            'E' => class::KEYEVENT,
            'm' => class::KEY_MISS,
            c => LETTERS.iter().find(|(l, _)| *l == c)?.1,
        };
    }
    Some(flags)
}

/// The normalized letters for `flags`, as CONFIG GET shows them: `A` when every class of `A`
/// is on (Redis then prints no other class letter, `n` included), else each class letter; then
/// K, E and m.
pub fn flags_to_string(flags: u16) -> String {
    let mut out = String::new();
    if flags & class::ALL == class::ALL {
        out.push('A');
    } else {
        out.extend(
            LETTERS
                .iter()
                .filter(|(_, bit)| flags & bit != 0)
                .map(|(l, _)| *l),
        );
    }
    for (letter, bit) in [
        ('K', class::KEYSPACE),
        ('E', class::KEYEVENT),
        ('m', class::KEY_MISS),
    ] {
        if flags & bit != 0 {
            out.push(letter);
        }
    }
    out
}

/// The classes a command's [`Locked`](crate::keyspace::Locked) view should collect: none unless
/// K or E asks for messages to be published.
pub fn collect_mask(flags: u16) -> u16 {
    if flags & (class::KEYSPACE | class::KEYEVENT) == 0 {
        0
    } else {
        flags & class::CLASSES
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_round_trip_as_redis_prints_them() {
        assert_eq!(
            parse_flags("KEA").map(flags_to_string).as_deref(),
            Some("AKE")
        );
        assert_eq!(
            parse_flags("zE$").map(flags_to_string).as_deref(),
            Some("$zE")
        );
        assert_eq!(
            parse_flags("mK").map(flags_to_string).as_deref(),
            Some("Km")
        );
        assert_eq!(parse_flags("").map(flags_to_string).as_deref(), Some(""));
        assert_eq!(parse_flags("A?"), None);
    }

    #[test]
    fn nothing_is_collected_without_k_or_e() {
        assert_eq!(collect_mask(parse_flags("A").unwrap_or(0)), 0);
        assert_eq!(collect_mask(parse_flags("Kg").unwrap_or(0)), class::GENERIC);
        let all = collect_mask(parse_flags("EAnm").unwrap_or(0));
        assert_eq!(all, class::CLASSES);
    }
}
