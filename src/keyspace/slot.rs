//! Hash slots: CRC16 (XMODEM) of the key or of its `{hash tag}`, modulo 16384, as the Redis
//! Cluster specification defines them.

use crc::{Crc, Table, CRC_16_XMODEM};

/// Number of hash slots in the keyspace, as in Redis Cluster.
pub const SLOTS: usize = 16384;

/// Slice-by-16 tables for longer keys; a key's slot is computed on every command.
const CRC16: Crc<u16, Table<16>> = Crc::<u16, Table<16>>::new(&CRC_16_XMODEM);
/// One table, byte at a time: less set-up, faster for short keys.
const CRC16_SHORT: Crc<u16, Table<1>> = Crc::<u16, Table<1>>::new(&CRC_16_XMODEM);

/// CRC16-XMODEM of `bytes` (CRC16 of "123456789" is 0x31C3).
#[inline]
pub fn crc16(bytes: &[u8]) -> u16 {
    if bytes.len() < 16 {
        CRC16_SHORT.checksum(bytes)
    } else {
        CRC16.checksum(bytes)
    }
}

/// The part of `key` that is hashed: the text between the first `{` and the next `}` when that
/// is non-empty, otherwise the whole key.
pub fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(open) = key.iter().position(|&b| b == b'{') {
        if let Some(len) = key[open + 1..].iter().position(|&b| b == b'}') {
            if len > 0 {
                return &key[open + 1..open + 1 + len];
            }
        }
    }
    key
}

/// The hash slot of `key`.
pub fn key_slot(key: &[u8]) -> u16 {
    crc16(hash_tag(key)) & (SLOTS as u16 - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_check_value() {
        assert_eq!(crc16(b"123456789"), 0x31C3);
        // The short-key and long-key tables agree at every length.
        let data: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37)).collect();
        for len in 0..data.len() {
            assert_eq!(
                CRC16_SHORT.checksum(&data[..len]),
                CRC16.checksum(&data[..len])
            );
        }
    }

    #[test]
    fn slots_match_redis_cluster() {
        // Values from `CLUSTER KEYSLOT` on Redis 7.
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b"hello"), 866);
        assert_eq!(key_slot(b""), 0);
    }

    #[test]
    fn hash_tags() {
        assert_eq!(
            key_slot(b"{user1000}.following"),
            key_slot(b"{user1000}.followers")
        );
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        // Empty tag: the whole key is hashed.
        assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
        // Only the first tag counts.
        assert_eq!(hash_tag(b"foo{{bar}}zap"), b"{bar");
        assert_eq!(hash_tag(b"foo{bar}{zap}"), b"bar");
        // No closing brace.
        assert_eq!(hash_tag(b"foo{bar"), b"foo{bar");
    }
}
