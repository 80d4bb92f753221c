//! Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and BITFIELD_RO.
//!
//! A bitmap is an ordinary string value read as a bit array, most significant bit of each byte
//! first (bit 0 is the top bit of byte 0). Reads past the end see zeros; writes past the end grow
//! the string with zero bytes. Writes edit the buffer in place through the strings family's
//! copy-on-write helper. The bit math (population count, bit search, bitwise operations, integer
//! fields and their overflow rules) lives in plain functions below the handlers, so that it can be
//! tested without a server. Argument checks and their order follow Redis 7.2 exactly, error texts
//! included.

use bytes::{Bytes, BytesMut};

use super::args::{int, int_or, is};
use super::strings::{as_str, edit_str, op_get};
use super::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::error::{
    CmdError, CmdResult, BITFIELD_OVERFLOW, BITFIELD_RO_WRITE, BITFIELD_TYPE, BITOP_NOT_ARGS,
    BIT_ARG, BIT_OFFSET, BIT_VALUE,
};
use crate::keyspace::class;
use crate::protocol::{parse_i64, Reply};
use crate::types::Value;

/// proto-max-bulk-len: a bit offset must address a byte below it.
fn max_bytes(ctx: &Ctx) -> u64 {
    ctx.server.config.read().proto_max_bulk_len
}

/// Parses a bit offset the way Redis's `getBitOffsetFromArgument` does. With `field_bits`
/// (BITFIELD), `#N` means N times the field width. The offset must address a byte below
/// `max_bytes`.
pub fn parse_bit_offset(arg: &[u8], field_bits: Option<u32>, max_bytes: u64) -> CmdResult<u64> {
    let err = || CmdError::new(BIT_OFFSET);
    let (digits, scale) = match (arg.first(), field_bits) {
        (Some(b'#'), Some(bits)) => (&arg[1..], bits as i64),
        _ => (arg, 1),
    };
    let n = parse_i64(digits)
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(err)?;
    if n < 0 || (n as u64 >> 3) >= max_bytes {
        return Err(err());
    }
    Ok(n as u64)
}

fn cmd_setbit(ctx: &mut Ctx) -> CmdResult<Reply> {
    let offset = parse_bit_offset(&ctx.args[2], None, max_bytes(ctx))?;
    let on = int_or(&ctx.args[3], BIT_VALUE)?;
    if on & !1 != 0 {
        return Err(CmdError::new(BIT_VALUE));
    }
    let db = ctx.db();
    let key = &ctx.args[1];
    let old_len = match ctx.ks.peek(db, key) {
        Some(e) => Some(as_str(e)?.len()),
        None => None,
    };
    let exists = old_len.is_some();
    let need = (offset >> 3) as usize + 1;
    let write = |buf: &mut BytesMut| {
        if buf.len() < need {
            buf.resize(need, 0);
        }
        Ok(set_bit(buf, offset, on == 1))
    };
    let old = if exists {
        edit_str(ctx.ks, db, key, write)?.unwrap_or(false)
    } else {
        let mut buf = BytesMut::new();
        let old = write(&mut buf)?;
        ctx.ks.set(db, key, Value::Str(buf.freeze()), 0);
        old
    };
    ctx.ks.note_range(db, key, need - 1, 1);
    // Redis reports a new key, a longer string or a flipped bit, not a bit set to itself.
    if old_len.is_none_or(|len| len < need) || old != (on == 1) {
        ctx.ks.notify(class::STRING, "setbit", db, key);
    }
    Ok(Reply::Int(old as i64))
}

fn cmd_getbit(ctx: &mut Ctx) -> CmdResult<Reply> {
    let offset = parse_bit_offset(&ctx.args[2], None, max_bytes(ctx))?;
    let db = ctx.db();
    let s = op_get(ctx.ks, db, &ctx.args[1])?.unwrap_or_default();
    Ok(Reply::Int(get_bit(&s, offset) as i64))
}

/// Whether a range's `start`/`end` count bytes (the default) or bits.
fn range_unit(arg: &[u8]) -> CmdResult<bool> {
    if is(arg, "bit") {
        Ok(true)
    } else if is(arg, "byte") {
        Ok(false)
    } else {
        Err(CmdError::syntax())
    }
}

/// Clamps `start..=end` (negative counts from the end) to a string of `len` units, the way
/// BITCOUNT and BITPOS do. None when the range is empty.
pub fn clamp_units(mut start: i64, mut end: i64, len: i64) -> Option<(u64, u64)> {
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0).min(len - 1);
    if start > end {
        None
    } else {
        Some((start as u64, end as u64))
    }
}

/// Turns a clamped range in `bit_units` or bytes into an inclusive bit range.
fn to_bits(start: u64, end: u64, bit_units: bool) -> (u64, u64) {
    if bit_units {
        (start, end)
    } else {
        (start * 8, end * 8 + 7)
    }
}

fn cmd_bitcount(ctx: &mut Ctx) -> CmdResult<Reply> {
    // Redis 7.2 looks the key up before parsing the range: a missing key counts 0 whatever
    // the other arguments are.
    let db = ctx.db();
    let Some(s) = op_get(ctx.ks, db, &ctx.args[1])? else {
        return Ok(Reply::Int(0));
    };
    let range = match ctx.args.len() {
        2 => clamp_units(0, -1, s.len() as i64).map(|(a, b)| to_bits(a, b, false)),
        4 | 5 => {
            let (start, end) = (int(&ctx.args[2])?, int(&ctx.args[3])?);
            if start < 0 && end < 0 && start > end {
                return Ok(Reply::Int(0));
            }
            let bit_units = match ctx.args.get(4) {
                Some(unit) => range_unit(unit)?,
                None => false,
            };
            let len = s.len() as i64 * if bit_units { 8 } else { 1 };
            clamp_units(start, end, len).map(|(a, b)| to_bits(a, b, bit_units))
        }
        _ => return Err(CmdError::syntax()),
    };
    Ok(Reply::Int(
        range.map_or(0, |(a, b)| count_bits(&s, a, b)) as i64
    ))
}

fn cmd_bitpos(ctx: &mut Ctx) -> CmdResult<Reply> {
    let bit = int(&ctx.args[2])?;
    if bit != 0 && bit != 1 {
        return Err(CmdError::new(BIT_ARG));
    }
    let bit = bit == 1;
    let db = ctx.db();
    // A missing key is an infinite run of zeros (Redis 7.2 answers before parsing the range).
    let Some(s) = op_get(ctx.ks, db, &ctx.args[1])? else {
        return Ok(Reply::Int(if bit { -1 } else { 0 }));
    };
    let argc = ctx.args.len();
    let mut end_given = false;
    let range = match argc {
        3 => clamp_units(0, -1, s.len() as i64).map(|(a, b)| to_bits(a, b, false)),
        4..=6 => {
            let start = int(&ctx.args[3])?;
            let bit_units = match ctx.args.get(5) {
                Some(unit) => range_unit(unit)?,
                None => false,
            };
            let end = match ctx.args.get(4) {
                Some(arg) => {
                    end_given = true;
                    int(arg)?
                }
                None => -1,
            };
            let len = s.len() as i64 * if bit_units { 8 } else { 1 };
            clamp_units(start, end, len).map(|(a, b)| to_bits(a, b, bit_units))
        }
        _ => return Err(CmdError::syntax()),
    };
    let Some((start, end)) = range else {
        return Ok(Reply::Int(-1));
    };
    Ok(Reply::Int(match find_bit(&s, bit, start, end) {
        Some(pos) => pos as i64,
        // Looking for a clear bit with no explicit end: the string is seen as padded with
        // zeros, so the answer is the first bit after it.
        None if !bit && !end_given => (end + 1) as i64,
        None => -1,
    }))
}

/// A BITOP operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

fn cmd_bitop(ctx: &mut Ctx) -> CmdResult<Reply> {
    let name = &ctx.args[1];
    let op = if is(name, "and") {
        BitOp::And
    } else if is(name, "or") {
        BitOp::Or
    } else if is(name, "xor") {
        BitOp::Xor
    } else if is(name, "not") {
        BitOp::Not
    } else {
        return Err(CmdError::syntax());
    };
    if op == BitOp::Not && ctx.args.len() != 4 {
        return Err(CmdError::new(BITOP_NOT_ARGS));
    }
    let db = ctx.db();
    let mut sources = Vec::with_capacity(ctx.args.len() - 3);
    for key in &ctx.args[3..] {
        sources.push(op_get(ctx.ks, db, key)?.unwrap_or_default());
    }
    let refs: Vec<&[u8]> = sources.iter().map(|s| &s[..]).collect();
    let result = bitop(op, &refs);
    let len = result.len();
    let dest = &ctx.args[2];
    if len > 0 {
        ctx.ks.set(db, dest, Value::Str(Bytes::from(result)), 0);
        ctx.ks.notify(class::STRING, "set", db, dest);
    } else if ctx.ks.remove(db, dest).is_some() {
        ctx.ks.notify(class::GENERIC, "del", db, dest);
    }
    Ok(Reply::Int(len as i64))
}

/// What BITFIELD does when a SET or INCRBY result does not fit the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// Keep the low bits (two's complement wrap-around).
    Wrap,
    /// Clamp to the field's minimum or maximum.
    Sat,
    /// Leave the field alone and answer nil.
    Fail,
}

/// An integer field type: `i1`..`i64` or `u1`..`u63`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldType {
    pub signed: bool,
    pub bits: u32,
}

impl FieldType {
    /// Parses `i16` / `u8`; `u64` is refused because its values do not fit a RESP integer.
    pub fn parse(arg: &[u8]) -> CmdResult<FieldType> {
        let err = || CmdError::new(BITFIELD_TYPE);
        let signed = match arg.first() {
            Some(b'i') => true,
            Some(b'u') => false,
            _ => return Err(err()),
        };
        let bits = parse_i64(&arg[1..]).ok_or_else(err)?;
        let max = if signed { 64 } else { 63 };
        if !(1..=max).contains(&bits) {
            return Err(err());
        }
        Ok(FieldType {
            signed,
            bits: bits as u32,
        })
    }

    /// The largest value the field holds.
    fn max(self) -> i64 {
        match (self.signed, self.bits) {
            (true, 64) => i64::MAX,
            (true, bits) => (1i64 << (bits - 1)) - 1,
            // Unsigned fields are at most 63 bits wide.
            (false, bits) => ((1u64 << bits) - 1) as i64,
        }
    }

    /// The smallest value the field holds.
    fn min(self) -> i64 {
        if self.signed {
            -self.max() - 1
        } else {
            0
        }
    }

    /// Reads the field at bit `offset` of `s` (zeros past the end).
    pub fn get(self, s: &[u8], offset: u64) -> i64 {
        let raw = get_bits(s, offset, self.bits);
        if self.signed && self.bits < 64 && raw & (1 << (self.bits - 1)) != 0 {
            (raw | (u64::MAX << self.bits)) as i64
        } else {
            raw as i64
        }
    }

    /// Redis's overflow test for `value + incr` (`checkSignedBitfieldOverflow` and
    /// `checkUnsignedBitfieldOverflow`), kept with its exact 64-bit wrapping arithmetic so that
    /// every corner case matches, such as a SET far below an i63's minimum counting as an
    /// overflow upwards. Unsigned fields take `value` as its two's complement bit pattern.
    /// Returns 1 (too big), -1 (too small) or 0, and the wrapped-around result.
    fn check(self, value: i64, incr: i64) -> (i32, i64) {
        let max = self.max();
        let dir = if self.signed {
            let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
            let minincr = self.min().wrapping_sub(value);
            if value > max
                || (self.bits != 64 && incr > maxincr)
                || (value >= 0 && incr > 0 && incr > maxincr)
            {
                1
            } else if value < self.min()
                || (self.bits != 64 && incr < minincr)
                || (value < 0 && incr < 0 && incr < minincr)
            {
                -1
            } else {
                0
            }
        } else {
            let uvalue = value as u64;
            let maxincr = (max as u64).wrapping_sub(uvalue) as i64;
            let minincr = uvalue.wrapping_neg() as i64;
            if uvalue > max as u64 || (incr > 0 && incr > maxincr) {
                1
            } else if incr < 0 && incr < minincr {
                -1
            } else {
                0
            }
        };
        let sum = (value as u64).wrapping_add(incr as u64);
        let high = u64::MAX.checked_shl(self.bits).unwrap_or(0);
        let wrapped = if self.signed && sum & (1 << (self.bits - 1)) != 0 {
            sum | high
        } else {
            sum & !high
        };
        (dir, wrapped as i64)
    }

    /// The value stored by `value + incr` under `overflow`; None when it does not fit and the
    /// policy is FAIL.
    pub fn add(self, value: i64, incr: i64, overflow: Overflow) -> Option<i64> {
        let (dir, wrapped) = self.check(value, incr);
        match (dir, overflow) {
            (0, _) => Some(value.wrapping_add(incr)),
            (_, Overflow::Wrap) => Some(wrapped),
            (1, Overflow::Sat) => Some(self.max()),
            (_, Overflow::Sat) => Some(self.min()),
            (_, Overflow::Fail) => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

#[derive(Clone, Copy, Debug)]
struct Field {
    op: FieldOp,
    ty: FieldType,
    offset: u64,
    overflow: Overflow,
}

/// Parses BITFIELD's subcommands, with Redis's checks in Redis's order.
fn parse_fields(args: &[Bytes], max_bytes: u64) -> CmdResult<Vec<Field>> {
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < args.len() {
        let remaining = args.len() - j - 1;
        let sub = &args[j];
        let set_like = |word: &str| is(sub, word) && remaining >= 3;
        let get = is(sub, "get") && remaining >= 2;
        if !get && !set_like("set") && !set_like("incrby") {
            if is(sub, "overflow") && remaining >= 1 {
                let kind = &args[j + 1];
                overflow = if is(kind, "wrap") {
                    Overflow::Wrap
                } else if is(kind, "sat") {
                    Overflow::Sat
                } else if is(kind, "fail") {
                    Overflow::Fail
                } else {
                    return Err(CmdError::new(BITFIELD_OVERFLOW));
                };
                j += 2;
                continue;
            }
            return Err(CmdError::syntax());
        }
        let ty = FieldType::parse(&args[j + 1])?;
        let offset = parse_bit_offset(&args[j + 2], Some(ty.bits), max_bytes)?;
        let op = if get {
            j += 3;
            FieldOp::Get
        } else {
            let value = int(&args[j + 3])?;
            j += 4;
            if set_like("set") {
                FieldOp::Set(value)
            } else {
                FieldOp::IncrBy(value)
            }
        };
        fields.push(Field {
            op,
            ty,
            offset,
            overflow,
        });
    }
    Ok(fields)
}

/// Runs one field operation on a buffer already long enough for every write.
fn run_field(buf: &mut [u8], f: &Field) -> Reply {
    let old = f.ty.get(buf, f.offset);
    let (result, answer_new) = match f.op {
        FieldOp::Get => return Reply::Int(old),
        FieldOp::Set(v) => (f.ty.add(v, 0, f.overflow), false),
        FieldOp::IncrBy(by) => (f.ty.add(old, by, f.overflow), true),
    };
    match result {
        Some(new) => {
            set_bits(buf, f.offset, f.ty.bits, new as u64);
            Reply::Int(if answer_new { new } else { old })
        }
        None => Reply::Nil,
    }
}

fn bitfield(ctx: &mut Ctx, read_only: bool) -> CmdResult<Reply> {
    let fields = parse_fields(ctx.args, max_bytes(ctx))?;
    let db = ctx.db();
    let key = &ctx.args[1];
    let highest = fields
        .iter()
        .filter(|f| f.op != FieldOp::Get)
        .map(|f| f.offset + f.ty.bits as u64 - 1)
        .max();
    let Some(highest) = highest else {
        // Only GETs: a read, and a missing key reads as zeros.
        let s = op_get(ctx.ks, db, key)?.unwrap_or_default();
        return Ok(Reply::Array(
            fields
                .iter()
                .map(|f| Reply::Int(f.ty.get(&s, f.offset)))
                .collect(),
        ));
    };
    if read_only {
        return Err(CmdError::new(BITFIELD_RO_WRITE));
    }
    let exists = match ctx.ks.peek(db, key) {
        Some(e) => {
            as_str(e)?;
            true
        }
        None => false,
    };
    // As in Redis, the string grows to the farthest written bit before any operation runs
    // (even those that then fail on overflow).
    let need = (highest >> 3) as usize + 1;
    let run = |buf: &mut BytesMut| {
        if buf.len() < need {
            buf.resize(need, 0);
        }
        Ok(fields.iter().map(|f| run_field(buf, f)).collect())
    };
    let replies = if exists {
        edit_str(ctx.ks, db, key, run)?.unwrap_or_default()
    } else {
        let mut buf = BytesMut::new();
        let replies = run(&mut buf)?;
        ctx.ks.set(db, key, Value::Str(buf.freeze()), 0);
        replies
    };
    // A SET or INCRBY that did not fail on overflow changed the string.
    let changed = fields
        .iter()
        .zip(&replies)
        .any(|(f, r): (&Field, &Reply)| f.op != FieldOp::Get && *r != Reply::Nil);
    if changed {
        ctx.ks.notify(class::STRING, "setbit", db, key);
    }
    Ok(Reply::Array(replies))
}

fn cmd_bitfield(ctx: &mut Ctx) -> CmdResult<Reply> {
    bitfield(ctx, false)
}

fn cmd_bitfield_ro(ctx: &mut Ctx) -> CmdResult<Reply> {
    bitfield(ctx, true)
}

// ---------------------------------------------------------------------------------------------
// Bit math.

/// Eight bytes as a native-endian word (for counting and bitwise operations, where byte order
/// does not matter).
fn word(chunk: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(chunk);
    u64::from_ne_bytes(w)
}

/// Eight bytes as a big-endian word: its leading zeros count bits in bitmap order.
fn word_be(chunk: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(chunk);
    u64::from_be_bytes(w)
}

/// The bit at `offset` (0 past the end).
pub fn get_bit(s: &[u8], offset: u64) -> bool {
    let byte = s.get((offset >> 3) as usize).copied().unwrap_or(0);
    byte & (0x80 >> (offset & 7)) != 0
}

/// Sets the bit at `offset` (which must be inside `buf`) to `on`; returns its previous value.
pub fn set_bit(buf: &mut [u8], offset: u64, on: bool) -> bool {
    let Some(byte) = buf.get_mut((offset >> 3) as usize) else {
        return false;
    };
    let mask = 0x80 >> (offset & 7);
    let old = *byte & mask != 0;
    if on {
        *byte |= mask;
    } else {
        *byte &= !mask;
    }
    old
}

/// Number of set bits in `s`, a word at a time.
pub fn popcount(s: &[u8]) -> u64 {
    let chunks = s.chunks_exact(8);
    let tail: u64 = chunks
        .remainder()
        .iter()
        .map(|b| b.count_ones() as u64)
        .sum();
    chunks.map(|c| word(c).count_ones() as u64).sum::<u64>() + tail
}

/// Number of set bits in the inclusive bit range `start..=end` (inside `s`).
pub fn count_bits(s: &[u8], start: u64, end: u64) -> u64 {
    let (first, last) = ((start >> 3) as usize, (end >> 3) as usize);
    let Some(bytes) = s.get(first..=last) else {
        return 0;
    };
    // Bits of the first byte before `start` and of the last byte after `end`.
    let before = !(0xffu8 >> (start & 7));
    let after = !(0xffu8 << (7 - (end & 7)));
    popcount(bytes)
        - (bytes[0] & before).count_ones() as u64
        - (bytes[bytes.len() - 1] & after).count_ones() as u64
}

/// The first bit equal to `bit` in the inclusive bit range `start..=end` (inside `s`).
pub fn find_bit(s: &[u8], bit: bool, start: u64, end: u64) -> Option<u64> {
    let (first, last) = ((start >> 3) as usize, (end >> 3) as usize);
    if start > end || last >= s.len() {
        return None;
    }
    // Searching for 0 is searching for 1 in the complement.
    let flip8: u8 = if bit { 0 } else { 0xff };
    let flip64: u64 = if bit { 0 } else { u64::MAX };
    let in_byte = |i: usize, mask: u8| -> Option<u64> {
        let v = (s[i] ^ flip8) & mask;
        (v != 0).then(|| i as u64 * 8 + v.leading_zeros() as u64)
    };
    let first_mask = 0xffu8 >> (start & 7);
    let last_mask = 0xffu8 << (7 - (end & 7));
    if first == last {
        return in_byte(first, first_mask & last_mask);
    }
    if let Some(pos) = in_byte(first, first_mask) {
        return Some(pos);
    }
    // Whole bytes first..last (exclusive of both ends), a word at a time.
    let middle = &s[first + 1..last];
    let mut chunks = middle.chunks_exact(8);
    let mut base = first + 1;
    for c in &mut chunks {
        let w = word_be(c) ^ flip64;
        if w != 0 {
            return Some(base as u64 * 8 + w.leading_zeros() as u64);
        }
        base += 8;
    }
    for i in base..last {
        if let Some(pos) = in_byte(i, 0xff) {
            return Some(pos);
        }
    }
    in_byte(last, last_mask)
}

/// Combines `src` into `dst` byte by byte over their common length, a word at a time.
fn combine(dst: &mut [u8], src: &[u8], f: impl Fn(u64, u64) -> u64) {
    let n = dst.len().min(src.len());
    let (dst, src) = (&mut dst[..n], &src[..n]);
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (dc, sc) in (&mut d).zip(&mut s) {
        dc.copy_from_slice(&f(word(dc), word(sc)).to_ne_bytes());
    }
    for (db, sb) in d.into_remainder().iter_mut().zip(s.remainder()) {
        *db = f(*db as u64, *sb as u64) as u8;
    }
}

/// BITOP: combines `sources` (shorter ones zero-padded) into a string as long as the longest.
pub fn bitop(op: BitOp, sources: &[&[u8]]) -> Vec<u8> {
    let maxlen = sources.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![0u8; maxlen];
    let Some((first, rest)) = sources.split_first() else {
        return out;
    };
    out[..first.len()].copy_from_slice(first);
    match op {
        BitOp::Not => {
            let mut words = out.chunks_exact_mut(8);
            for w in &mut words {
                w.copy_from_slice(&(!word(w)).to_ne_bytes());
            }
            words.into_remainder().iter_mut().for_each(|b| *b = !*b);
        }
        BitOp::And => {
            for s in rest {
                combine(&mut out, s, |a, b| a & b);
                out[s.len()..].fill(0);
            }
        }
        BitOp::Or => rest.iter().for_each(|s| combine(&mut out, s, |a, b| a | b)),
        BitOp::Xor => rest.iter().for_each(|s| combine(&mut out, s, |a, b| a ^ b)),
    }
    out
}

/// The `bits`-wide unsigned integer at bit `offset` of `s`, most significant bit first; bits
/// past the end read as 0.
pub fn get_bits(s: &[u8], offset: u64, bits: u32) -> u64 {
    (0..bits as u64).fold(0u64, |v, i| (v << 1) | get_bit(s, offset + i) as u64)
}

/// Writes the low `bits` bits of `value` at bit `offset` of `buf`, most significant first.
pub fn set_bits(buf: &mut [u8], offset: u64, bits: u32, value: u64) {
    for i in 0..bits {
        let on = (value >> (bits - 1 - i)) & 1 == 1;
        set_bit(buf, offset + i as u64, on);
    }
}

/// This family's commands: [`command!`](super::command) with the group fixed.
macro_rules! cmd {
    ($($spec:tt)*) => {
        super::command!("bitmap", $($spec)*)
    };
}

pub const COMMANDS: &[CommandSpec] = &[
    cmd!("setbit", 4, WRITE | DENYOOM, KeySpec::ONE, "2.2.0", "O(1)",
        "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.", cmd_setbit),
    cmd!("getbit", 3, READONLY | FAST, KeySpec::ONE, "2.2.0", "O(1)", "Returns a bit value by offset.", cmd_getbit),
    cmd!("bitcount", -2, READONLY, KeySpec::ONE, "2.6.0", "O(N)",
        "Counts the number of set bits (population counting) in a string.", cmd_bitcount),
    cmd!("bitpos", -3, READONLY, KeySpec::ONE, "2.8.7", "O(N)",
        "Finds the first set (1) or clear (0) bit in a string.", cmd_bitpos),
    cmd!("bitop", -4, WRITE | DENYOOM, KeySpec::range(2, -1, 1), "2.6.0", "O(N)",
        "Performs bitwise operations on multiple strings, and stores the result.", cmd_bitop),
    cmd!("bitfield", -2, WRITE | DENYOOM, KeySpec::ONE, "3.2.0", "O(1) for each subcommand specified",
        "Performs arbitrary bitfield integer operations on strings.", cmd_bitfield),
    cmd!("bitfield_ro", -2, READONLY | FAST, KeySpec::ONE, "6.0.0", "O(1) for each subcommand specified",
        "Performs arbitrary read-only bitfield integer operations on strings.", cmd_bitfield_ro),
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive_bit(s: &[u8], i: u64) -> bool {
        (s[(i / 8) as usize] >> (7 - i % 8)) & 1 == 1
    }

    #[test]
    fn bits_are_msb_first() {
        let s = [0b1000_0001u8, 0x00, 0xff];
        assert!(get_bit(&s, 0));
        assert!(!get_bit(&s, 1));
        assert!(get_bit(&s, 7));
        assert!(get_bit(&s, 16));
        assert!(!get_bit(&s, 1000));
        let mut buf = [0u8; 2];
        assert!(!set_bit(&mut buf, 9, true));
        assert_eq!(buf, [0, 0b0100_0000]);
        assert!(set_bit(&mut buf, 9, false));
        assert_eq!(buf, [0, 0]);
    }

    #[test]
    fn counts() {
        assert_eq!(popcount(b"foobar"), 26);
        assert_eq!(popcount(b""), 0);
        assert_eq!(popcount(&[0xff; 37]), 37 * 8);
        // "foobar" bits 10..=14 and 3..=29, as in Redis's own examples.
        let s = b"foobar";
        assert_eq!(count_bits(s, 0, 47), 26);
        assert_eq!(count_bits(s, 8, 15), b'o'.count_ones() as u64);
        assert_eq!(count_bits(&[0xff], 3, 3), 1);
        assert_eq!(count_bits(&[0xff, 0xff], 3, 12), 10);
    }

    #[test]
    fn search() {
        assert_eq!(find_bit(&[0xff, 0xf0, 0x00], false, 0, 23), Some(12));
        assert_eq!(find_bit(&[0x00, 0x0f, 0x00], true, 0, 23), Some(12));
        assert_eq!(find_bit(&[0xff; 3], false, 0, 23), None);
        assert_eq!(find_bit(&[0x00, 0xff, 0x00], true, 16, 23), None);
        let mut long = vec![0u8; 40];
        long[33] = 0x10;
        assert_eq!(find_bit(&long, true, 1, 319), Some(33 * 8 + 3));
    }

    #[test]
    fn bitops() {
        let a: &[u8] = b"\x01\x02\xff\xff";
        let b: &[u8] = b"\x01\x02\xff";
        assert_eq!(bitop(BitOp::And, &[a, b]), b"\x01\x02\xff\x00");
        assert_eq!(bitop(BitOp::Or, &[a, b]), b"\x01\x02\xff\xff");
        assert_eq!(bitop(BitOp::Xor, &[a, b]), b"\x00\x00\x00\xff");
        assert_eq!(
            bitop(BitOp::Not, &[b"\xaa\x00\xff\x55"]),
            b"\x55\xff\x00\xaa"
        );
        assert_eq!(bitop(BitOp::And, &[b"", b""]), b"");
        assert_eq!(bitop(BitOp::And, &[b"", a]), b"\x00\x00\x00\x00");
    }

    #[test]
    fn field_types() {
        let t = |s: &str| FieldType::parse(s.as_bytes());
        assert_eq!(
            t("i64").unwrap(),
            FieldType {
                signed: true,
                bits: 64
            }
        );
        assert_eq!(
            t("u63").unwrap(),
            FieldType {
                signed: false,
                bits: 63
            }
        );
        for bad in ["u64", "i65", "i0", "u", "x8", "I8", "", "i08", "i-1"] {
            assert_eq!(t(bad).unwrap_err().0, BITFIELD_TYPE, "{bad}");
        }
    }

    #[test]
    fn offsets() {
        let max = 512 * 1024 * 1024;
        assert_eq!(parse_bit_offset(b"10", None, max).unwrap(), 10);
        assert_eq!(parse_bit_offset(b"#3", Some(8), max).unwrap(), 24);
        assert!(parse_bit_offset(b"#3", None, max).is_err());
        assert!(parse_bit_offset(b"-1", None, max).is_err());
        assert_eq!(
            parse_bit_offset(b"4294967295", None, max).unwrap(),
            4294967295
        );
        assert!(parse_bit_offset(b"4294967296", None, max).is_err());
        assert!(parse_bit_offset(b"#9223372036854775807", Some(2), max).is_err());
    }

    #[test]
    fn fields_get_and_set() {
        let mut buf = [0u8; 3];
        set_bits(&mut buf, 4, 8, 0xab);
        assert_eq!(buf, [0x0a, 0xb0, 0x00]);
        assert_eq!(get_bits(&buf, 4, 8), 0xab);
        let i8t = FieldType {
            signed: true,
            bits: 8,
        };
        assert_eq!(i8t.get(&buf, 4), -85);
        let i64t = FieldType {
            signed: true,
            bits: 64,
        };
        let mut wide = [0u8; 9];
        set_bits(&mut wide, 3, 64, i64::MIN as u64);
        assert_eq!(i64t.get(&wide, 3), i64::MIN);
        // Past the end reads as zero.
        assert_eq!(get_bits(&buf, 20, 16), 0);
    }

    #[test]
    fn overflow_policies() {
        let u8t = FieldType {
            signed: false,
            bits: 8,
        };
        let i8t = FieldType {
            signed: true,
            bits: 8,
        };
        assert_eq!(u8t.add(100, 257, Overflow::Wrap), Some(101));
        assert_eq!(u8t.add(100, 257, Overflow::Sat), Some(255));
        assert_eq!(u8t.add(100, -255, Overflow::Sat), Some(0));
        assert_eq!(u8t.add(256, 0, Overflow::Fail), None);
        assert_eq!(u8t.add(-1, 0, Overflow::Sat), Some(255));
        assert_eq!(u8t.add(-1, 0, Overflow::Wrap), Some(255));
        assert_eq!(i8t.add(100, 257, Overflow::Wrap), Some(101));
        assert_eq!(i8t.add(100, 257, Overflow::Sat), Some(127));
        assert_eq!(i8t.add(100, -255, Overflow::Sat), Some(-128));
        assert_eq!(i8t.add(128, 0, Overflow::Wrap), Some(-128));
        assert_eq!(i8t.add(-129, 0, Overflow::Sat), Some(-128));
        let i64t = FieldType {
            signed: true,
            bits: 64,
        };
        assert_eq!(i64t.add(i64::MAX, 1, Overflow::Wrap), Some(i64::MIN));
        assert_eq!(i64t.add(i64::MAX, 1, Overflow::Fail), None);
        assert_eq!(i64t.add(i64::MIN, -1, Overflow::Sat), Some(i64::MIN));
        assert_eq!(i64t.add(i64::MIN, i64::MAX, Overflow::Fail), Some(-1));
        // Redis's quirk: a SET far below an i63's range counts as overflowing upwards.
        let i63t = FieldType {
            signed: true,
            bits: 63,
        };
        assert_eq!(i63t.add(i64::MIN, 0, Overflow::Sat), Some((1 << 62) - 1));
        assert_eq!(
            i63t.add(-(1 << 62) - 1, 0, Overflow::Sat),
            Some((1 << 62) - 1)
        );
        // Redis's regression #3564: SET i8 0 10, SET i8 64 10, INCRBY i8 10 99900 -> 60.
        let mut buf = [0u8; 9];
        let f = |op, offset| Field {
            op,
            ty: i8t,
            offset,
            overflow: Overflow::Wrap,
        };
        assert_eq!(run_field(&mut buf, &f(FieldOp::Set(10), 0)), Reply::Int(0));
        assert_eq!(run_field(&mut buf, &f(FieldOp::Set(10), 64)), Reply::Int(0));
        assert_eq!(
            run_field(&mut buf, &f(FieldOp::IncrBy(99900), 10)),
            Reply::Int(60)
        );
        // Unsigned SET of a negative value overflows upwards, as in Redis.
        let sat = Field {
            op: FieldOp::Set(-1),
            ty: u8t,
            offset: 0,
            overflow: Overflow::Sat,
        };
        run_field(&mut buf, &sat);
        assert_eq!(buf[0], 255);
    }

    #[test]
    fn clamping() {
        assert_eq!(clamp_units(0, -1, 6), Some((0, 5)));
        assert_eq!(clamp_units(-2, 1, 6), None);
        assert_eq!(clamp_units(0, 1000, 6), Some((0, 5)));
        assert_eq!(clamp_units(0, -1, 0), None);
        assert_eq!(clamp_units(10, -34, 48), Some((10, 14)));
    }

    proptest! {
        #[test]
        fn count_and_search_match_naive(
            s in proptest::collection::vec(any::<u8>(), 1..80),
            a in 0u64..640, b in 0u64..640, bit: bool,
        ) {
            let n = s.len() as u64 * 8;
            let (a, b) = (a % n, b % n);
            let (start, end) = (a.min(b), a.max(b));
            let naive_count = (start..=end).filter(|&i| naive_bit(&s, i)).count() as u64;
            prop_assert_eq!(count_bits(&s, start, end), naive_count);
            let naive_pos = (start..=end).find(|&i| naive_bit(&s, i) == bit);
            prop_assert_eq!(find_bit(&s, bit, start, end), naive_pos);
        }

        #[test]
        fn bitop_matches_naive(
            srcs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..5),
        ) {
            let refs: Vec<&[u8]> = srcs.iter().map(|s| &s[..]).collect();
            let maxlen = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
            let at = |s: &Vec<u8>, i: usize| s.get(i).copied().unwrap_or(0);
            for op in [BitOp::And, BitOp::Or, BitOp::Xor] {
                let naive: Vec<u8> = (0..maxlen)
                    .map(|i| srcs[1..].iter().fold(at(&srcs[0], i), |acc, s| match op {
                        BitOp::And => acc & at(s, i),
                        BitOp::Or => acc | at(s, i),
                        _ => acc ^ at(s, i),
                    }))
                    .collect();
                prop_assert_eq!(bitop(op, &refs), naive);
            }
            let not: Vec<u8> = srcs[0].iter().map(|b| !b).collect();
            prop_assert_eq!(bitop(BitOp::Not, &refs[..1]), not);
        }

        #[test]
        fn incrby_overflow_matches_exact_math(
            signed: bool, bits in 1u32..=64, raw: u64, by: i64, policy in 0u8..3,
        ) {
            // For a value read from the field, Redis's test agrees with exact arithmetic.
            let bits = if signed { bits } else { bits.min(63) };
            let ty = FieldType { signed, bits };
            let mut buf = [0u8; 8];
            set_bits(&mut buf, 0, bits, raw);
            let old = ty.get(&buf, 0);
            let exact = old as i128 + by as i128;
            let (min, max) = (ty.min() as i128, ty.max() as i128);
            let span = 1i128 << bits;
            let overflow = [Overflow::Wrap, Overflow::Sat, Overflow::Fail][policy as usize];
            let expected = if (min..=max).contains(&exact) {
                Some(exact as i64)
            } else {
                match overflow {
                    Overflow::Wrap => Some(((exact - min).rem_euclid(span) + min) as i64),
                    Overflow::Sat => Some(exact.clamp(min, max) as i64),
                    Overflow::Fail => None,
                }
            };
            prop_assert_eq!(ty.add(old, by, overflow), expected);
        }

        #[test]
        fn fields_round_trip(
            signed: bool, bits in 1u32..=64, offset in 0u64..100, v: i64,
        ) {
            let bits = if signed { bits } else { bits.min(63) };
            let ty = FieldType { signed, bits };
            let mut buf = vec![0u8; 30];
            let fitted = ty.add(v, 0, Overflow::Wrap).unwrap_or(0);
            set_bits(&mut buf, offset, bits, fitted as u64);
            prop_assert_eq!(ty.get(&buf, offset), fitted);
            // Wrap keeps the low bits: the same pattern as writing the raw value.
            let mut raw = vec![0u8; 30];
            set_bits(&mut raw, offset, bits, v as u64);
            prop_assert_eq!(raw, buf);
        }
    }
}
