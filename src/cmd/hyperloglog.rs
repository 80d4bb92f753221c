//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE.
//!
//! As in Redis, a HyperLogLog is an ordinary string value (TYPE says `string`, GET returns its
//! bytes), recognised by its header. The layout is Thermocline's own (not Redis's):
//!
//! ```text
//! offset 0..4   magic "HYLL"
//! offset 4      encoding: 0 = dense, 1 = sparse
//! offset 5..8   reserved, zero
//! offset 8..    registers
//! ```
//!
//! There are 16384 registers (14 index bits; standard error 1.04/sqrt(16384) = 0.81%), each
//! holding a run length 0..=51. **Dense** packs them 6 bits each, least significant bit first
//! (register `i` starts at bit `6*i`), 12288 bytes. **Sparse** lists only the non-zero
//! registers as 3-byte entries, `u16` little-endian index then `u8` value, in strictly
//! ascending index order; it becomes dense once it would hold more than [`SPARSE_MAX`] entries.
//! Elements are hashed with XXH3-64 (a fixed, versioned algorithm, so persisted values stay
//! valid): the low 14 bits pick the register, the run of trailing zeros in the remaining 50 bits
//! (plus one) is the candidate value. PFCOUNT uses Ertl's improved estimator, as Redis does.
//! A value with a bad header is `WRONGTYPE Key is not a valid HyperLogLog string value.`; one
//! whose registers do not parse is `INVALIDOBJ Corrupted HLL object detected`.

use bytes::{Bytes, BytesMut};

use super::strings::{as_str, edit_str};
use super::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult, HLL_CORRUPT, HLL_WRONGTYPE};
use crate::keyspace::{class, Locked};
use crate::protocol::Reply;
use crate::types::Value;

const MAGIC: &[u8; 4] = b"HYLL";
const HEADER_LEN: usize = 8;
const ENC_DENSE: u8 = 0;
const ENC_SPARSE: u8 = 1;
/// Index bits.
const P: u32 = 14;
/// Number of registers.
const M: usize = 1 << P;
/// Hash bits left after the index.
const Q: u32 = 64 - P;
/// Largest register value.
const MAX_REG: u8 = Q as u8 + 1;
/// Packed size of the dense registers.
const DENSE_LEN: usize = M * 6 / 8;
/// Largest number of sparse entries (3 bytes each) before converting to dense.
pub const SPARSE_MAX: usize = 1000;

/// The register an element updates and the value it proposes.
pub fn register_of(element: &[u8]) -> (u16, u8) {
    let h = xxhash_rust::xxh3::xxh3_64(element);
    let index = (h & (M as u64 - 1)) as u16;
    let rest = (h >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// A parsed HyperLogLog value: the register bytes after the header.
#[derive(Clone, Copy, Debug)]
enum View<'a> {
    Dense(&'a [u8]),
    Sparse(&'a [u8]),
}

/// Checks the header and register bytes of `s`.
fn parse(s: &[u8]) -> CmdResult<View<'_>> {
    if s.len() < HEADER_LEN || &s[..4] != MAGIC || s[5..8] != [0, 0, 0] {
        return Err(CmdError::new(HLL_WRONGTYPE));
    }
    let regs = &s[HEADER_LEN..];
    match s[4] {
        ENC_DENSE => {
            // A dense HLL of the wrong length is not an HLL at all (Redis's isHLLObjectOrReply).
            if regs.len() != DENSE_LEN {
                return Err(CmdError::new(HLL_WRONGTYPE));
            }
            if (0..M).any(|i| dense_get(regs, i) > MAX_REG) {
                return Err(CmdError::new(HLL_CORRUPT));
            }
            Ok(View::Dense(regs))
        }
        ENC_SPARSE => {
            if regs.len() % 3 != 0 || regs.len() / 3 > SPARSE_MAX {
                return Err(CmdError::new(HLL_CORRUPT));
            }
            let mut prev: Option<u16> = None;
            for e in regs.chunks_exact(3) {
                let (i, v) = sparse_entry(e);
                if i as usize >= M || v == 0 || v > MAX_REG || prev.is_some_and(|p| p >= i) {
                    return Err(CmdError::new(HLL_CORRUPT));
                }
                prev = Some(i);
            }
            Ok(View::Sparse(regs))
        }
        _ => Err(CmdError::new(HLL_WRONGTYPE)),
    }
}

fn sparse_entry(e: &[u8]) -> (u16, u8) {
    (u16::from_le_bytes([e[0], e[1]]), e[2])
}

/// Register `i` of packed dense registers.
fn dense_get(regs: &[u8], i: usize) -> u8 {
    let bit = i * 6;
    let (byte, shift) = (bit / 8, bit % 8);
    let lo = regs[byte] as u16;
    let hi = regs.get(byte + 1).copied().unwrap_or(0) as u16;
    (((lo | hi << 8) >> shift) & 0x3f) as u8
}

/// Sets register `i` of packed dense registers to `v` (< 64).
fn dense_set(regs: &mut [u8], i: usize, v: u8) {
    let bit = i * 6;
    let (byte, shift) = (bit / 8, bit % 8);
    let hi = regs.get(byte + 1).copied().unwrap_or(0) as u16;
    let mut w = regs[byte] as u16 | hi << 8;
    w = (w & !(0x3f << shift)) | ((v as u16 & 0x3f) << shift);
    regs[byte] = w as u8;
    if let Some(b) = regs.get_mut(byte + 1) {
        *b = (w >> 8) as u8;
    }
}

impl View<'_> {
    /// The value of register `i`.
    fn get(&self, i: u16) -> u8 {
        match self {
            View::Dense(r) => dense_get(r, i as usize),
            View::Sparse(r) => {
                let n = r.len() / 3;
                let (mut lo, mut hi) = (0, n);
                while lo < hi {
                    let mid = (lo + hi) / 2;
                    let (idx, v) = sparse_entry(&r[mid * 3..mid * 3 + 3]);
                    match idx.cmp(&i) {
                        std::cmp::Ordering::Equal => return v,
                        std::cmp::Ordering::Less => lo = mid + 1,
                        std::cmp::Ordering::Greater => hi = mid,
                    }
                }
                0
            }
        }
    }

    /// Raises `out` to this value's registers (register-wise maximum).
    fn max_into(&self, out: &mut [u8; M]) {
        match self {
            View::Dense(r) => {
                for (i, o) in out.iter_mut().enumerate() {
                    *o = (*o).max(dense_get(r, i));
                }
            }
            View::Sparse(r) => {
                for e in r.chunks_exact(3) {
                    let (i, v) = sparse_entry(e);
                    let o = &mut out[i as usize];
                    *o = (*o).max(v);
                }
            }
        }
    }
}

/// Encodes registers in the smaller form: sparse while at most [`SPARSE_MAX`] are non-zero.
fn encode(regs: &[u8; M]) -> Vec<u8> {
    let nonzero = regs.iter().filter(|&&v| v != 0).count();
    let mut out = Vec::with_capacity(HEADER_LEN + DENSE_LEN.min(nonzero * 3));
    out.extend_from_slice(MAGIC);
    if nonzero <= SPARSE_MAX {
        out.extend_from_slice(&[ENC_SPARSE, 0, 0, 0]);
        for (i, &v) in regs.iter().enumerate().filter(|(_, &v)| v != 0) {
            out.extend_from_slice(&(i as u16).to_le_bytes());
            out.push(v);
        }
    } else {
        out.extend_from_slice(&[ENC_DENSE, 0, 0, 0]);
        out.resize(HEADER_LEN + DENSE_LEN, 0);
        for (i, &v) in regs.iter().enumerate() {
            dense_set(&mut out[HEADER_LEN..], i, v);
        }
    }
    out
}

/// All registers of a value.
fn registers(view: &View) -> Box<[u8; M]> {
    let mut regs = Box::new([0u8; M]);
    view.max_into(&mut regs);
    regs
}

/// Applies `updates` (register, value) to the HLL bytes in `buf` (already validated), keeping
/// each register's maximum; a sparse value that grows too large becomes dense.
fn apply(buf: &mut BytesMut, updates: &[(u16, u8)]) -> CmdResult<()> {
    match buf.get(4).copied() {
        Some(ENC_DENSE) => {
            let regs = &mut buf[HEADER_LEN..];
            for &(i, v) in updates {
                if dense_get(regs, i as usize) < v {
                    dense_set(regs, i as usize, v);
                }
            }
        }
        Some(ENC_SPARSE) => {
            let mut regs = registers(&parse(buf)?);
            for &(i, v) in updates {
                let r = &mut regs[i as usize];
                *r = (*r).max(v);
            }
            let encoded = encode(&regs);
            buf.clear();
            buf.extend_from_slice(&encoded);
        }
        _ => return Err(CmdError::new(HLL_CORRUPT)),
    }
    Ok(())
}

/// Ertl's tau function (the correction for registers at their maximum).
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let (mut y, mut z) = (1.0, 1.0 - x);
    loop {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if prev == z {
            return z / 3.0;
        }
    }
}

/// Ertl's sigma function (the correction for empty registers).
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let (mut y, mut z) = (1.0, x);
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            return z;
        }
    }
}

/// The cardinality estimate of a register histogram (`histo[v]` = registers holding `v`), by
/// Ertl's improved estimator ("New cardinality estimation algorithms for HyperLogLog
/// sketches", 2017).
fn estimate(histo: &[u32; MAX_REG as usize + 1]) -> u64 {
    let m = M as f64;
    let mut z = m * tau((m - histo[MAX_REG as usize] as f64) / m);
    for j in (1..=Q as usize).rev() {
        z += histo[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histo[0] as f64 / m);
    let alpha_inf = 0.5 / std::f64::consts::LN_2;
    (alpha_inf * m * m / z).round() as u64
}

/// The estimate for a full register array.
fn count_registers(regs: &[u8; M]) -> u64 {
    let mut histo = [0u32; MAX_REG as usize + 1];
    for &v in regs.iter() {
        histo[(v.min(MAX_REG)) as usize] += 1;
    }
    estimate(&histo)
}

/// The validated HLL at `key`, or None when missing; WRONGTYPE errors for other strings.
fn read<'e>(ks: &'e mut Locked, db: usize, key: &[u8]) -> CmdResult<Option<&'e Bytes>> {
    match ks.peek(db, key) {
        Some(e) => {
            let s = as_str(e)?;
            parse(s)?;
            Ok(Some(s))
        }
        None => Ok(None),
    }
}

/// PFADD semantics: true when the key was created or a register changed.
pub fn op_pfadd(ks: &mut Locked, db: usize, key: &[u8], elements: &[Bytes]) -> CmdResult<bool> {
    let updates: Vec<(u16, u8)> = elements.iter().map(|e| register_of(e)).collect();
    // A write's lookup: no hit or miss is counted, no keymiss event (Redis's lookupKeyWrite).
    let pending: Vec<(u16, u8)> = match ks.peek(db, key) {
        None => {
            let mut regs = Box::new([0u8; M]);
            for &(i, v) in &updates {
                let r = &mut regs[i as usize];
                *r = (*r).max(v);
            }
            ks.set(db, key, Value::Str(Bytes::from(encode(&regs))), 0);
            ks.notify(class::STRING, "pfadd", db, key);
            return Ok(true);
        }
        Some(e) => {
            let view = parse(as_str(e)?)?;
            updates
                .into_iter()
                .filter(|&(i, v)| view.get(i) < v)
                .collect()
        }
    };
    if pending.is_empty() {
        return Ok(false);
    }
    edit_str(ks, db, key, |buf| apply(buf, &pending))?;
    ks.notify(class::STRING, "pfadd", db, key);
    Ok(true)
}

/// PFCOUNT semantics: the estimated cardinality of the union of `keys` (missing ones empty).
pub fn op_pfcount(ks: &mut Locked, db: usize, keys: &[Bytes]) -> CmdResult<u64> {
    let mut regs = Box::new([0u8; M]);
    for key in keys {
        if let Some(e) = ks.get(db, key) {
            parse(as_str(e)?)?.max_into(&mut regs);
        }
    }
    Ok(count_registers(&regs))
}

/// PFMERGE semantics: stores the union of `dest` and `sources` in `dest` (keeping its TTL).
pub fn op_pfmerge(ks: &mut Locked, db: usize, dest: &[u8], sources: &[Bytes]) -> CmdResult<()> {
    let mut regs = Box::new([0u8; M]);
    let dest_exists = match read(ks, db, dest)? {
        Some(s) => {
            parse(s)?.max_into(&mut regs);
            true
        }
        None => false,
    };
    for key in sources {
        if let Some(s) = read(ks, db, key)? {
            parse(s)?.max_into(&mut regs);
        }
    }
    let value = Value::Str(Bytes::from(encode(&regs)));
    if dest_exists {
        ks.set_keep_ttl(db, dest, value);
    } else {
        ks.set(db, dest, value, 0);
    }
    ks.notify(class::STRING, "pfadd", db, dest);
    Ok(())
}

fn cmd_pfadd(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let changed = op_pfadd(ctx.ks, db, &ctx.args[1], &ctx.args[2..])?;
    Ok(Reply::Int(changed as i64))
}

fn cmd_pfcount(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    Ok(Reply::Int(op_pfcount(ctx.ks, db, &ctx.args[1..])? as i64))
}

fn cmd_pfmerge(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    op_pfmerge(ctx.ks, db, &ctx.args[1], &ctx.args[2..])?;
    Ok(Reply::Ok)
}

/// This family's commands: [`command!`](super::command) with the group fixed.
macro_rules! cmd {
    ($($spec:tt)*) => {
        super::command!("hyperloglog", $($spec)*)
    };
}

#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[
    cmd!("pfadd", -2, WRITE | DENYOOM | FAST, KeySpec::ONE, "2.8.9", "O(1) to add every element.",
        "Adds elements to a HyperLogLog key. Creates the key if it doesn't exist.", cmd_pfadd),
    cmd!("pfcount", -2, READONLY | MAY_REPLICATE, KeySpec::ALL, "2.8.9",
        "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.",
        "Returns the approximated cardinality of the set(s) observed by the HyperLogLog key(s).", cmd_pfcount),
    cmd!("pfmerge", -2, WRITE | DENYOOM, KeySpec::ALL, "2.8.9", "O(N) to merge N HyperLogLogs, but with high constant times.",
        "Merges one or more HyperLogLog values into a single key.", cmd_pfmerge),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn hll_of(n: u64) -> Box<[u8; M]> {
        let mut regs = Box::new([0u8; M]);
        for k in 0..n {
            let (i, v) = register_of(format!("e{k}").as_bytes());
            regs[i as usize] = regs[i as usize].max(v);
        }
        regs
    }

    #[test]
    fn dense_registers_round_trip() {
        let mut regs = vec![0u8; DENSE_LEN];
        for i in 0..M {
            dense_set(&mut regs, i, (i % 52) as u8);
        }
        for i in 0..M {
            assert_eq!(dense_get(&regs, i), (i % 52) as u8, "register {i}");
        }
        dense_set(&mut regs, M - 1, 63);
        assert_eq!(dense_get(&regs, M - 1), 63);
        assert_eq!(dense_get(&regs, M - 2), ((M - 2) % 52) as u8);
    }

    #[test]
    fn register_math() {
        for k in 0..1000u32 {
            let (i, v) = register_of(&k.to_le_bytes());
            assert!((i as usize) < M);
            assert!((1..=MAX_REG).contains(&v));
        }
        // Fixed algorithm: this value must never change (persisted HLLs depend on it).
        assert_eq!(
            xxhash_rust::xxh3::xxh3_64(b"hello"),
            0x9555e8555c62dcfd,
            "xxh3_64 changed"
        );
    }

    #[test]
    fn sparse_round_trip_and_conversion() {
        let small = hll_of(10);
        let enc = encode(&small);
        assert_eq!(enc[4], ENC_SPARSE);
        assert!(enc.len() <= HEADER_LEN + 30);
        let View::Sparse(_) = parse(&enc).expect("valid") else {
            panic!("not sparse")
        };
        assert_eq!(*registers(&parse(&enc).expect("valid")), *small);

        let big = hll_of(5000);
        let enc = encode(&big);
        assert_eq!(enc[4], ENC_DENSE);
        assert_eq!(enc.len(), HEADER_LEN + DENSE_LEN);
        assert_eq!(*registers(&parse(&enc).expect("valid")), *big);

        // Growing a sparse value past SPARSE_MAX entries through apply makes it dense.
        let mut buf = BytesMut::from(&encode(&small)[..]);
        let updates: Vec<(u16, u8)> = (0..2000)
            .map(|k| register_of(format!("x{k}").as_bytes()))
            .collect();
        apply(&mut buf, &updates).expect("apply");
        assert_eq!(buf[4], ENC_DENSE);
        let mut expect = small.clone();
        for (i, v) in updates {
            expect[i as usize] = expect[i as usize].max(v);
        }
        assert_eq!(*registers(&parse(&buf).expect("valid")), *expect);
    }

    #[test]
    fn rejects_bad_values() {
        let wrong = |s: &[u8]| parse(s).err().map(|e| e.0);
        assert_eq!(wrong(b"hello").as_deref(), Some(HLL_WRONGTYPE));
        assert_eq!(wrong(b"HYLL\x07\0\0\0").as_deref(), Some(HLL_WRONGTYPE));
        // A dense HLL of the wrong length is not an HLL (Redis says WRONGTYPE).
        assert_eq!(wrong(b"HYLL\0\0\0\0abc").as_deref(), Some(HLL_WRONGTYPE));
        assert_eq!(wrong(b"HYLL\x01\0\0\0ab").as_deref(), Some(HLL_CORRUPT));
        // Unsorted sparse entries.
        assert_eq!(
            wrong(b"HYLL\x01\0\0\0\x05\0\x01\x01\0\x01").as_deref(),
            Some(HLL_CORRUPT)
        );
        assert!(parse(b"HYLL\x01\0\0\0").is_ok());
    }

    #[test]
    fn estimates_are_close() {
        assert_eq!(count_registers(&[0u8; M]), 0);
        for n in [1u64, 10, 100, 1000, 10_000, 100_000] {
            let est = count_registers(&hll_of(n)) as f64;
            let err = (est - n as f64).abs() / n as f64;
            assert!(err < 0.03, "n={n} est={est}");
        }
    }
}
