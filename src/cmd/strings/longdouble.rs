//! INCRBYFLOAT's arithmetic, bit for bit as Redis does it: Redis parses both operands with
//! `strtold`, adds them as x86 80-bit `long double`s (64-bit significand, 15-bit exponent) and
//! prints the sum with `%.17Lf`, trailing zeros removed. Doing the same in `f64` gives different
//! text (`0.1 + 0.2` is `0.3` in Redis, `0.30000000000000004` in `f64`), so this module
//! implements exactly that format: correctly rounded decimal and hexadecimal parsing,
//! correctly rounded addition, and exact `%.17Lf` output, with a small unsigned big integer
//! for the parts that need more than 128 bits.

use std::cmp::Ordering;

/// Smallest exponent of a normal number (value = 1.f × 2^e).
const MIN_EXP: i64 = -16382;
/// Largest exponent of a finite number.
const MAX_EXP: i64 = 16383;
/// Exponent of the least significant significand bit of the smallest subnormal.
const MIN_QUANTUM: i64 = MIN_EXP - 63;

/// A finite 80-bit long double: `(-1)^neg × mant × 2^exp`. `mant == 0` is zero; a normal number
/// has bit 63 of `mant` set; a subnormal has `exp == MIN_QUANTUM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LongDouble {
    neg: bool,
    mant: u64,
    exp: i64,
}

/// What parsing or adding produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ld {
    Finite(LongDouble),
    /// Positive or negative infinity (the input said `inf`, or a result overflowed).
    Inf,
}

impl LongDouble {
    pub const ZERO: LongDouble = LongDouble {
        neg: false,
        mant: 0,
        exp: 0,
    };

    pub fn is_zero(&self) -> bool {
        self.mant == 0
    }

    /// Rounds `(-1)^neg × (q + δ) × 2^e` to the nearest long double (ties to even), where
    /// `0 < δ < 1` when `sticky` and `δ = 0` otherwise. `q` must be at least 2^65 when `sticky`
    /// is set, so that the rounding position lies inside `q`.
    fn round(neg: bool, mut q: u128, sticky: bool, mut e: i64) -> Ld {
        if q == 0 {
            return Ld::Finite(LongDouble { neg, ..Self::ZERO });
        }
        // Exact inputs may be short; widen them so that the rounding position lies inside `q`.
        if !sticky && q < 1 << 65 {
            let shift = q.leading_zeros() as i64 - 62;
            q <<= shift;
            e -= shift;
        }
        let top = e + 127 - q.leading_zeros() as i64;
        let quantum = (top - 63).max(MIN_QUANTUM);
        let drop = quantum - e;
        let (mut mant, mut exp) = if drop >= 128 {
            // Less than half the smallest subnormal.
            (0u128, quantum)
        } else if drop <= 0 {
            (q << -drop, quantum)
        } else {
            let kept = q >> drop;
            let rest = q & ((1u128 << drop) - 1);
            let half = 1u128 << (drop - 1);
            let up = rest > half || (rest == half && (sticky || kept & 1 == 1));
            (kept + up as u128, quantum)
        };
        if mant >> 64 != 0 {
            mant >>= 1;
            exp += 1;
        }
        if mant != 0 && exp + 63 - (mant.leading_zeros() as i64 - 64) > MAX_EXP {
            return Ld::Inf;
        }
        Ld::Finite(LongDouble {
            neg,
            mant: mant as u64,
            exp,
        })
    }

    /// The correctly rounded sum.
    pub fn plus(self, other: LongDouble) -> Ld {
        if self.is_zero() {
            return Ld::Finite(if other.is_zero() {
                LongDouble {
                    neg: self.neg && other.neg,
                    ..Self::ZERO
                }
            } else {
                other
            });
        }
        if other.is_zero() {
            return Ld::Finite(self);
        }
        // `a` has the larger unit exponent.
        let (a, b) = if self.exp >= other.exp {
            (self, other)
        } else {
            (other, self)
        };
        let d = a.exp - b.exp;
        let (ma, mb) = (a.mant as u128, b.mant as u128);
        if d <= 63 {
            // Exact in 128 bits.
            let big = ma << d;
            return if a.neg == b.neg {
                Self::round(a.neg, big + mb, false, b.exp)
            } else {
                match big.cmp(&mb) {
                    Ordering::Equal => Ld::Finite(Self::ZERO),
                    Ordering::Greater => Self::round(a.neg, big - mb, false, b.exp),
                    Ordering::Less => Self::round(b.neg, mb - big, false, b.exp),
                }
            };
        }
        // `b` is below `a`'s last bit (a is normal here since its exponent is far above the
        // minimum): keep `b`'s top bits and remember whether anything was dropped.
        let shift = d - 63;
        let (small, sticky) = if shift >= 128 {
            (0u128, mb != 0)
        } else {
            (mb >> shift, mb & ((1u128 << shift) - 1) != 0)
        };
        let big = ma << 63;
        if a.neg == b.neg {
            Self::round(a.neg, big + small, sticky, a.exp - 63)
        } else {
            // big - (small + δ) = (big - small - 1) + (1 - δ)
            let q = big - small - sticky as u128;
            Self::round(a.neg, q, sticky, a.exp - 63)
        }
    }

    /// `%.17Lf` followed by Redis's trimming: trailing zeros after the point and then the point
    /// itself are removed, and `-0` becomes `0`.
    pub fn to_redis_string(self) -> String {
        // n = round(|value| × 10^17), ties to even, as glibc's printf does.
        let scale = Big::from_u128(100_000_000_000_000_000);
        let digits = if self.exp >= 0 {
            let mut n = Big::from_u128(self.mant as u128);
            n.shl(self.exp as usize);
            n.mul(&scale).to_decimal()
        } else {
            let num = self.mant as u128 * 100_000_000_000_000_000u128;
            let k = -self.exp;
            let n = if k >= 127 {
                // num < 2^121, so the quotient is below one half.
                0
            } else {
                let kept = num >> k;
                let rest = num & ((1u128 << k) - 1);
                let half = 1u128 << (k - 1);
                kept + (rest > half || (rest == half && kept & 1 == 1)) as u128
            };
            n.to_string()
        };
        let digits = format!("{digits:0>18}");
        let (int, frac) = digits.split_at(digits.len() - 17);
        let frac = frac.trim_end_matches('0');
        let mut out = String::with_capacity(digits.len() + 2);
        if self.neg {
            out.push('-');
        }
        out.push_str(int);
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        if out == "-0" {
            out.remove(0);
        }
        out
    }

    /// Parses what Redis's `string2ld` accepts: all of the input must be a number for
    /// `strtold` (decimal or `0x` hexadecimal, optional sign and exponent, or `inf`/`infinity`),
    /// no leading space, at most 5119 bytes, no NaN, and no overflow to infinity or underflow to
    /// zero (an explicit zero such as `0.0e5` is fine). `None` means Redis would answer "value is not a valid float".
    pub fn parse(input: &[u8]) -> Option<Ld> {
        if input.is_empty() || input.len() >= 5 * 1024 {
            return None;
        }
        let (neg, body) = match input[0] {
            b'-' => (true, &input[1..]),
            b'+' => (false, &input[1..]),
            _ => (false, input),
        };
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(Ld::Inf);
        }
        let parsed = if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
            parse_hex(neg, &body[2..])?
        } else {
            parse_decimal(neg, body)?
        };
        // ERANGE: overflow to infinity is rejected (underflow to zero already was).
        match parsed {
            Ld::Inf => None,
            finite => Some(finite),
        }
    }
}

/// Parses an optional exponent `[+-]digits`; huge values saturate (they are out of range
/// anyway). `None` when there are no digits or trailing garbage.
fn parse_exponent(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        v = (v * 10 + (c - b'0') as i64).min(1 << 40);
    }
    Some(if neg { -v } else { v })
}

/// Decimal: `digits[.digits][(e|E)[+-]digits]` with at least one mantissa digit.
fn parse_decimal(neg: bool, s: &[u8]) -> Option<Ld> {
    let mant_end = s
        .iter()
        .position(|&c| c == b'e' || c == b'E')
        .unwrap_or(s.len());
    let (mant, exp_part) = s.split_at(mant_end);
    let mut exp10 = if exp_part.is_empty() {
        0
    } else {
        parse_exponent(&exp_part[1..])?
    };
    let mut digits = Vec::with_capacity(mant.len());
    let mut seen_point = false;
    for &c in mant {
        match c {
            b'0'..=b'9' => {
                digits.push(c - b'0');
                if seen_point {
                    exp10 -= 1;
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => return None,
        }
    }
    if digits.is_empty() {
        return None;
    }
    let first = digits.iter().position(|&d| d != 0);
    let Some(first) = first else {
        return Some(Ld::Finite(LongDouble {
            neg,
            ..LongDouble::ZERO
        }));
    };
    let digits = &digits[first..];
    // The value is below 10^magnitude and at least 10^(magnitude-1).
    let magnitude = digits.len() as i64 + exp10;
    if magnitude > 4934 {
        return Some(Ld::Inf);
    }
    if magnitude < -4952 {
        // Underflow to zero.
        return None;
    }
    let mut d = Big::default();
    for chunk in digits.chunks(9) {
        let mut v = 0u32;
        for &c in chunk {
            v = v * 10 + c as u32;
        }
        d.mul_small(10u32.pow(chunk.len() as u32));
        d.add_small(v);
    }
    let (num, den) = if exp10 >= 0 {
        (d.mul(&Big::pow10(exp10 as usize)), Big::from_u128(1))
    } else {
        (d, Big::pow10((-exp10) as usize))
    };
    round_ratio(neg, num, den)
}

/// Hexadecimal after `0x`: `hexdigits[.hexdigits][(p|P)[+-]digits]`.
fn parse_hex(neg: bool, s: &[u8]) -> Option<Ld> {
    let mant_end = s
        .iter()
        .position(|&c| c == b'p' || c == b'P')
        .unwrap_or(s.len());
    let (mant, exp_part) = s.split_at(mant_end);
    let mut exp2 = if exp_part.is_empty() {
        0
    } else {
        parse_exponent(&exp_part[1..])?
    };
    let mut num = Big::default();
    let mut seen_point = false;
    let mut any = false;
    for &c in mant {
        let v = match c {
            b'.' if !seen_point => {
                seen_point = true;
                continue;
            }
            _ => (c as char).to_digit(16)?,
        };
        any = true;
        num.mul_small(16);
        num.add_small(v);
        if seen_point {
            exp2 -= 4;
        }
    }
    if !any {
        return None;
    }
    if num.is_zero() {
        return Some(Ld::Finite(LongDouble {
            neg,
            ..LongDouble::ZERO
        }));
    }
    let one = Big::from_u128(1);
    let (mut n, mut den) = (num, one);
    if exp2 >= 0 {
        n.shl(exp2.min(20_000) as usize);
    } else {
        den.shl((-exp2).min(40_000) as usize);
    }
    round_ratio(neg, n, den)
}

/// Rounds the exact ratio `num / den` (`num` non-zero) to a long double; `None` when it
/// underflows to zero, which `strtold` reports as a range error.
fn round_ratio(neg: bool, mut num: Big, mut den: Big) -> Option<Ld> {
    // Scale so that the quotient has 66 or 67 bits: enough for 64 bits plus rounding.
    let s = 66 + den.bits() as i64 - num.bits() as i64;
    if s >= 0 {
        num.shl(s as usize);
    } else {
        den.shl((-s) as usize);
    }
    let (q, rest_nonzero) = num.div_small_quotient(&den, 68);
    match LongDouble::round(neg, q, rest_nonzero, -s) {
        Ld::Finite(v) if v.is_zero() => None,
        rounded => Some(rounded),
    }
}

/// A minimal unsigned big integer (little-endian 32-bit limbs, no trailing zero limbs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Big(Vec<u32>);

impl Big {
    fn from_u128(mut v: u128) -> Big {
        let mut limbs = Vec::new();
        while v != 0 {
            limbs.push(v as u32);
            v >>= 32;
        }
        Big(limbs)
    }

    fn pow10(n: usize) -> Big {
        let mut b = Big::from_u128(1);
        let mut left = n;
        while left > 0 {
            let step = left.min(9);
            b.mul_small(10u32.pow(step as u32));
            left -= step;
        }
        b
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn bits(&self) -> usize {
        match self.0.last() {
            None => 0,
            Some(top) => self.0.len() * 32 - top.leading_zeros() as usize,
        }
    }

    fn mul_small(&mut self, m: u32) {
        let mut carry = 0u64;
        for limb in self.0.iter_mut() {
            let v = *limb as u64 * m as u64 + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
        self.trim();
    }

    fn add_small(&mut self, a: u32) {
        let mut carry = a as u64;
        for limb in self.0.iter_mut() {
            if carry == 0 {
                break;
            }
            let v = *limb as u64 + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
    }

    fn mul(&self, other: &Big) -> Big {
        let mut out = vec![0u32; self.0.len() + other.0.len()];
        for (i, &a) in self.0.iter().enumerate() {
            let mut carry = 0u64;
            for (j, &b) in other.0.iter().enumerate() {
                let v = out[i + j] as u64 + a as u64 * b as u64 + carry;
                out[i + j] = v as u32;
                carry = v >> 32;
            }
            let mut k = i + other.0.len();
            while carry != 0 {
                let v = out[k] as u64 + carry;
                out[k] = v as u32;
                carry = v >> 32;
                k += 1;
            }
        }
        let mut b = Big(out);
        b.trim();
        b
    }

    fn shl(&mut self, bits: usize) {
        if self.is_zero() || bits == 0 {
            return;
        }
        let (limbs, rem) = (bits / 32, bits % 32);
        let mut out = vec![0u32; limbs];
        if rem == 0 {
            out.extend_from_slice(&self.0);
        } else {
            let mut carry = 0u32;
            for &limb in &self.0 {
                out.push((limb << rem) | carry);
                carry = limb >> (32 - rem);
            }
            if carry != 0 {
                out.push(carry);
            }
        }
        self.0 = out;
    }

    fn cmp(&self, other: &Big) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }

    /// `self -= other`; requires `self >= other`.
    fn sub(&mut self, other: &Big) {
        let mut borrow = 0i64;
        for (i, limb) in self.0.iter_mut().enumerate() {
            let b = other.0.get(i).copied().unwrap_or(0) as i64;
            let mut v = *limb as i64 - b - borrow;
            borrow = 0;
            if v < 0 {
                v += 1 << 32;
                borrow = 1;
            }
            *limb = v as u32;
        }
        self.trim();
    }

    /// `(self / den, self % den != 0)` for a quotient known to be below 2^`bits`.
    fn div_small_quotient(&self, den: &Big, bits: u32) -> (u128, bool) {
        let mut rest = self.clone();
        let mut q = 0u128;
        for i in (0..bits).rev() {
            let mut d = den.clone();
            d.shl(i as usize);
            if rest.cmp(&d) != Ordering::Less {
                rest.sub(&d);
                q |= 1u128 << i;
            }
        }
        (q, !rest.is_zero())
    }

    fn to_decimal(&self) -> String {
        if self.is_zero() {
            return "0".into();
        }
        let mut chunks = Vec::new();
        let mut n = self.0.clone();
        while !n.is_empty() {
            let mut rem = 0u64;
            for limb in n.iter_mut().rev() {
                let v = (rem << 32) | *limb as u64;
                *limb = (v / 1_000_000_000) as u32;
                rem = v % 1_000_000_000;
            }
            while n.last() == Some(&0) {
                n.pop();
            }
            chunks.push(rem as u32);
        }
        let mut out = String::with_capacity(chunks.len() * 9);
        for (i, c) in chunks.iter().rev().enumerate() {
            if i == 0 {
                out.push_str(&c.to_string());
            } else {
                out.push_str(&format!("{c:09}"));
            }
        }
        out
    }
}

/// INCRBYFLOAT's computation: `current + incr` as Redis prints it, or `None` when the result
/// (or an operand) is infinite.
pub fn incr_by_float(current: Ld, incr: Ld) -> Option<String> {
    match (current, incr) {
        (Ld::Finite(a), Ld::Finite(b)) => match a.plus(b) {
            Ld::Finite(sum) => Some(sum.to_redis_string()),
            Ld::Inf => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ld(s: &str) -> Ld {
        LongDouble::parse(s.as_bytes()).unwrap_or_else(|| panic!("{s} does not parse"))
    }

    fn sum(a: &str, b: &str) -> Option<String> {
        incr_by_float(ld(a), ld(b))
    }

    fn show(s: &str) -> String {
        match ld(s) {
            Ld::Finite(v) => v.to_redis_string(),
            Ld::Inf => "inf".into(),
        }
    }

    #[test]
    fn sums_match_redis() {
        // Expected texts from Redis 7 on x86-64.
        assert_eq!(sum("0.1", "0.2").as_deref(), Some("0.3"));
        assert_eq!(
            sum("1000", "0.1").as_deref(),
            Some("1000.09999999999999998")
        );
        assert_eq!(sum("10.50", "0.1").as_deref(), Some("10.6"));
        assert_eq!(sum("5.0e3", "2.0e2").as_deref(), Some("5200"));
        assert_eq!(
            sum("1e10", "0.0001").as_deref(),
            Some("10000000000.00009999983012676")
        );
        assert_eq!(sum("0.1", "0.7").as_deref(), Some("0.8"));
        assert_eq!(sum("17179869184", "1.5").as_deref(), Some("17179869185.5"));
        assert_eq!(
            sum("123456789.123456789", "0").as_deref(),
            Some("123456789.12345678899873747")
        );
        assert_eq!(sum("1", "0x10").as_deref(), Some("17"));
        assert_eq!(sum("3", "-3").as_deref(), Some("0"));
        assert_eq!(sum("-0", "0").as_deref(), Some("0"));
        assert_eq!(sum("1", "inf"), None);
        assert_eq!(
            sum("1.7976931348623157e308", "1e300").map(|s| s.len()),
            Some(309)
        );
        assert_eq!(sum("1e4932", "1e4932"), None);
    }

    #[test]
    fn parsing() {
        for bad in [
            "", " 1", "1 ", "abc", "1e", "1e+", ".", "-", "0x", "0xg", "nan", "1.2.3", "1e-5000",
            "1e5000", "1\u{0}2", "--1", "0x1p",
        ] {
            assert_eq!(LongDouble::parse(bad.as_bytes()), None, "{bad:?}");
        }
        assert_eq!(show(".5"), "0.5");
        assert_eq!(show("5."), "5");
        assert_eq!(show("+1"), "1");
        assert_eq!(show("0x1p3"), "8");
        assert_eq!(show("0x.8"), "0.5");
        assert_eq!(show("-0"), "0");
        assert_eq!(show("0e99999"), "0");
        assert_eq!(show("1e-18"), "0");
        assert_eq!(show("-1e-18"), "0");
        assert_eq!(show("5e-18"), "0");
        assert_eq!(show("6e-18"), "0.00000000000000001");
        assert_eq!(ld("INF"), Ld::Inf);
        assert_eq!(ld("-infinity"), Ld::Inf);
        // Subnormals are in range.
        assert!(LongDouble::parse(b"1e-4940").is_some());
    }

    #[test]
    fn exact_ties_round_to_even() {
        // 2^-18 has 18 decimals ending in 5: the 17th decimal (2) stays even.
        assert_eq!(show("0.000003814697265625"), "0.00000381469726562");
        // 3 × 2^-18: 17th decimal 7 rounds up to 8.
        assert_eq!(show("0.000011444091796875"), "0.00001144409179688");
    }
}
