//! Random picks shared by HRANDFIELD, SRANDMEMBER and ZRANDMEMBER: their count argument, with
//! Redis's range errors, and the positions a pick visits in a collection indexed by position.

use rand::Rng;

use super::args::int;
use crate::error::{CmdError, CmdResult};

/// Most picks a negative count may ask for. Redis streams them; we build the reply first, so a
/// count no client could use (and that would exhaust memory) is refused.
pub const MAX_REPEATED_PICKS: u64 = 1 << 24;

const OUT_OF_RANGE: &str = "ERR value is out of range";

/// The count argument: an integer other than `i64::MIN` (which has no negation).
pub fn count_arg(arg: &[u8]) -> CmdResult<i64> {
    let count = int(arg)?;
    if count == i64::MIN {
        return Err(CmdError::new(format!(
            "ERR value is out of range, value must between {} and {}",
            -i64::MAX,
            i64::MAX
        )));
    }
    Ok(count)
}

/// The checks after the options are parsed: a count whose reply doubles (`paired`: WITHVALUES,
/// WITHSCORES) must fit twice, and repeated picks are bounded by [`MAX_REPEATED_PICKS`].
pub fn check_count(count: i64, paired: bool) -> CmdResult<()> {
    if paired && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CmdError::new(OUT_OF_RANGE));
    }
    if count < 0 && count.unsigned_abs() > MAX_REPEATED_PICKS {
        return Err(CmdError::new(OUT_OF_RANGE));
    }
    Ok(())
}

/// Positions in `0..len` (`len > 0`): `count` distinct ones in random order (all of them when
/// `count >= len`), or for a negative count `-count` independent ones that may repeat. O(count).
pub fn positions(len: usize, count: i64) -> Vec<usize> {
    let mut rng = rand::thread_rng();
    if count < 0 {
        (0..count.unsigned_abs())
            .map(|_| rng.gen_range(0..len))
            .collect()
    } else {
        let n = (count as u64).min(len as u64) as usize;
        rand::seq::index::sample(&mut rng, len, n).into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_distinct_or_repeated_as_asked() {
        let mut p = positions(10, 4);
        p.sort_unstable();
        p.dedup();
        assert_eq!(p.len(), 4);
        assert_eq!(positions(10, 50).len(), 10);
        let repeated = positions(3, -100);
        assert_eq!(repeated.len(), 100);
        assert!(repeated.iter().all(|&i| i < 3));
    }

    #[test]
    fn count_checks() {
        assert!(count_arg(b"x").is_err());
        assert!(count_arg(b"-9223372036854775808").is_err());
        assert!(check_count(-(1 << 24), false).is_ok());
        assert!(check_count(-(1 << 24) - 1, false).is_err());
        assert!(check_count(i64::MAX / 2 + 1, true).is_err());
        assert!(check_count(i64::MAX / 2 + 1, false).is_ok());
    }
}
