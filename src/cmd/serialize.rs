//! DUMP and RESTORE: a value moved between servers in its docs/FORMAT.md encoding.
//!
//! The payload is the value's record (src/types/codec.rs) followed, as Redis lays out its own
//! payload, by a two-byte little-endian envelope version and a CRC-64 (Redis's variant, Jones
//! polynomial) of everything before it, little-endian. Clients treat the payload as opaque,
//! so DUMP and RESTORE between Thermocline servers work as in Redis; a Redis RDB payload is
//! refused with Redis's "version or checksum" error (its envelope version, an RDB version, is
//! not ours), and so is ours by Redis.

use bytes::Bytes;
use crc::{Crc, CRC_64_REDIS};

use super::args::{int, Cursor};
use super::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult};
use crate::keyspace::{class, Entry};
use crate::protocol::Reply;
use crate::types::codec;

/// The envelope version after the record: not a Redis RDB version (those are below 0x100).
pub const DUMP_VERSION: u16 = 0x5401;
const CRC64: Crc<u64> = Crc::<u64>::new(&CRC_64_REDIS);

pub const BAD_PAYLOAD: &str = "ERR DUMP payload version or checksum are wrong";
pub const BAD_FORMAT: &str = "ERR Bad data format";
pub const BUSYKEY: &str = "BUSYKEY Target key name already exists.";

/// The DUMP payload of `value`.
pub fn dump_payload(value: &crate::types::Value) -> Vec<u8> {
    let mut out = codec::encode_to_vec(value);
    out.extend_from_slice(&DUMP_VERSION.to_le_bytes());
    let crc = CRC64.checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The record inside a payload whose envelope version and checksum are right.
pub fn payload_record(payload: &[u8]) -> Option<&[u8]> {
    let body_len = payload.len().checked_sub(8)?;
    let (body, crc) = payload.split_at(body_len);
    let record_len = body_len.checked_sub(2)?;
    let version = u16::from_le_bytes([body[record_len], body[record_len + 1]]);
    let crc = u64::from_le_bytes(crc.try_into().ok()?);
    (version == DUMP_VERSION && CRC64.checksum(body) == crc).then_some(&body[..record_len])
}

fn cmd_dump(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    Ok(match ctx.ks.get(db, &ctx.args[1]) {
        Some(entry) => Reply::Bulk(Bytes::from(dump_payload(&entry.value))),
        None => Reply::Nil,
    })
}

fn cmd_restore(ctx: &mut Ctx) -> CmdResult<Reply> {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq) = (None, None);
    let mut c = Cursor::new(ctx.args, 4);
    while !c.is_empty() {
        if c.eat("REPLACE") {
            replace = true;
        } else if c.eat("ABSTTL") {
            absttl = true;
        } else if c.remaining() >= 2 && freq.is_none() && c.eat("IDLETIME") {
            let n = c.next_int()?;
            if n < 0 {
                return Err(CmdError::new("ERR Invalid IDLETIME value, must be >= 0"));
            }
            idle = Some(n);
        } else if c.remaining() >= 2 && idle.is_none() && c.eat("FREQ") {
            let n = c.next_int()?;
            if !(0..=255).contains(&n) {
                return Err(CmdError::new(
                    "ERR Invalid FREQ value, must be >= 0 and <= 255",
                ));
            }
            freq = Some(n as u8);
        } else {
            return Err(CmdError::syntax());
        }
    }
    let db = ctx.db();
    let key = &ctx.args[1];
    if !replace && ctx.ks.contains(db, key) {
        return Err(CmdError::new(BUSYKEY));
    }
    let ttl = int(&ctx.args[2])?;
    if ttl < 0 {
        return Err(CmdError::new("ERR Invalid TTL value, must be >= 0"));
    }
    let record = payload_record(&ctx.args[3]).ok_or_else(|| CmdError::new(BAD_PAYLOAD))?;
    let value = codec::decode(record).map_err(|_| CmdError::new(BAD_FORMAT))?;

    let now_ms = ctx.now_ms();
    let expires_at = match ttl {
        0 => 0,
        t if absttl => t as u64,
        t => now_ms.saturating_add(t as u64),
    };
    if expires_at != 0 && expires_at <= now_ms {
        // Already expired: the key ends up absent (an existing one is deleted by REPLACE).
        if replace && ctx.ks.remove(db, key).is_some() {
            ctx.ks.notify(class::GENERIC, "del", db, key);
        }
        return Ok(Reply::Ok);
    }
    let now_s = ctx.ks.clock.now_s();
    let mut entry = Entry::new(value, expires_at, now_s);
    if let Some(idle) = idle {
        entry.access.last_access = now_s.saturating_sub(idle.min(u32::MAX as i64) as u32);
    }
    if let Some(freq) = freq {
        entry.access.lfu_counter = freq;
    }
    ctx.ks.set_entry(db, key, entry);
    ctx.ks.notify(class::GENERIC, "restore", db, key);
    Ok(Reply::Ok)
}

macro_rules! cmd {
    ($($spec:tt)*) => {
        super::command!("generic", $($spec)*)
    };
}

#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[
    cmd!("dump", 2, READONLY, KeySpec::ONE, "2.6.0",
        "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
        "Returns a serialized representation of the value stored at a key.", cmd_dump),
    cmd!("restore", -4, WRITE | DENYOOM | NO_VALUE, KeySpec::ONE, "2.6.0",
        "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).",
        "Creates a key from the serialized representation of a value.", cmd_restore),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Value;

    #[test]
    fn payload_round_trip_and_tamper_detection() {
        let v = Value::Str(Bytes::from_static(b"hello"));
        let p = dump_payload(&v);
        assert_eq!(payload_record(&p), Some(&codec::encode_to_vec(&v)[..]));
        for i in 0..p.len() {
            let mut bad = p.clone();
            bad[i] ^= 0x20;
            assert_eq!(payload_record(&bad), None, "flipped byte {i}");
        }
        assert_eq!(payload_record(&p[..5]), None);
        assert_eq!(payload_record(b""), None);
    }
}
