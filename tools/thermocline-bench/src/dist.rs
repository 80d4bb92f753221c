//! Which key each request names: uniform, zipfian, a hot set, or sequential.

use rand::Rng;
use rand_distr::{Distribution, Zipf};

/// A key distribution over `0..keys`, parsed from the `--distribution` option.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyDist {
    /// Every key equally likely.
    Uniform,
    /// Zipf's law with exponent `s` (0.99 is YCSB's): key 0 is the most requested, key `k` is
    /// requested `(k + 1)^-s` times as often.
    Zipfian(f64),
    /// `requests` percent of the requests go to the first `keys` percent of the keys, the rest
    /// uniformly to the others.
    HotSet { requests: f64, keys: f64 },
    /// Each connection walks the keys in order from its own starting point, wrapping around.
    Sequential,
}

impl KeyDist {
    /// Parses `uniform`, `zipfian` (exponent 0.99), `zipfian:S`, `hotset:R:K` (R% of requests
    /// to K% of keys) or `sequential`.
    pub fn parse(text: &str) -> Result<KeyDist, String> {
        let mut parts = text.split(':');
        let name = parts.next().unwrap_or("");
        let mut number = |what: &str| -> Result<Option<f64>, String> {
            match parts.next() {
                None => Ok(None),
                Some(v) => v
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .map(Some)
                    .ok_or_else(|| format!("{what} `{v}` in `{text}` is not a number")),
            }
        };
        let dist = match name {
            "uniform" => KeyDist::Uniform,
            "sequential" => KeyDist::Sequential,
            "zipfian" => {
                let s = number("the exponent")?.unwrap_or(0.99);
                if s <= 0.0 {
                    return Err(format!("the zipfian exponent must be above 0, got {s}"));
                }
                KeyDist::Zipfian(s)
            }
            "hotset" => {
                let requests = number("the request share")?.unwrap_or(90.0);
                let keys = number("the key share")?.unwrap_or(10.0);
                let valid = (0.0..=100.0).contains(&requests) && 0.0 < keys && keys < 100.0;
                if !valid {
                    return Err(format!(
                        "hotset:R:K needs 0 <= R <= 100 and 0 < K < 100, got {requests} and {keys}"
                    ));
                }
                KeyDist::HotSet { requests, keys }
            }
            _ => {
                return Err(format!(
                    "unknown distribution `{text}` (uniform, zipfian[:S], hotset:R:K, sequential)"
                ))
            }
        };
        if parts.next().is_some() {
            return Err(format!("too many parts in `{text}`"));
        }
        Ok(dist)
    }

    /// A sampler of this distribution over `keys` keys, for one connection (`start` is where a
    /// sequential walk begins).
    pub fn sampler(&self, keys: u64, start: u64) -> KeySampler {
        let keys = keys.max(1);
        KeySampler {
            keys,
            kind: match *self {
                KeyDist::Uniform => Kind::Uniform,
                KeyDist::Zipfian(s) => {
                    Kind::Zipfian(Zipf::new(keys, s).expect("exponent checked when parsed"))
                }
                KeyDist::HotSet { requests, keys: k } => Kind::HotSet {
                    share: requests / 100.0,
                    hot: ((keys as f64 * k / 100.0).round() as u64).clamp(1, keys),
                },
                KeyDist::Sequential => Kind::Sequential(start % keys),
            },
        }
    }
}

impl std::fmt::Display for KeyDist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyDist::Uniform => write!(f, "uniform"),
            KeyDist::Zipfian(s) => write!(f, "zipfian:{s}"),
            KeyDist::HotSet { requests, keys } => write!(f, "hotset:{requests}:{keys}"),
            KeyDist::Sequential => write!(f, "sequential"),
        }
    }
}

#[derive(Debug, Clone)]
enum Kind {
    Uniform,
    Zipfian(Zipf<f64>),
    HotSet { share: f64, hot: u64 },
    Sequential(u64),
}

/// Draws key indices in `0..keys`.
#[derive(Debug, Clone)]
pub struct KeySampler {
    keys: u64,
    kind: Kind,
}

impl KeySampler {
    pub fn next(&mut self, rng: &mut impl Rng) -> u64 {
        match &mut self.kind {
            Kind::Uniform => rng.gen_range(0..self.keys),
            // Zipf gives 1..=keys as a float.
            Kind::Zipfian(z) => (z.sample(rng) as u64).clamp(1, self.keys) - 1,
            Kind::HotSet { share, hot } => {
                if *hot == self.keys || rng.gen_bool(*share) {
                    rng.gen_range(0..*hot)
                } else {
                    rng.gen_range(*hot..self.keys)
                }
            }
            Kind::Sequential(next) => {
                let k = *next;
                *next = (k + 1) % self.keys;
                k
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn counts(dist: &str, keys: u64, draws: usize) -> Vec<u64> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut s = KeyDist::parse(dist).unwrap().sampler(keys, 0);
        let mut c = vec![0u64; keys as usize];
        for _ in 0..draws {
            c[s.next(&mut rng) as usize] += 1;
        }
        c
    }

    #[test]
    fn parses_and_prints_back() {
        for text in ["uniform", "zipfian:0.99", "hotset:90:10", "sequential"] {
            assert_eq!(KeyDist::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(KeyDist::parse("zipfian").unwrap(), KeyDist::Zipfian(0.99));
        for bad in [
            "zipf",
            "zipfian:x",
            "zipfian:0",
            "hotset:120:10",
            "hotset:90:0",
            "uniform:1",
        ] {
            assert!(KeyDist::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn uniform_covers_every_key_evenly() {
        let c = counts("uniform", 10, 100_000);
        assert!(c.iter().all(|&n| (9_000..11_000).contains(&n)), "{c:?}");
    }

    #[test]
    fn zipfian_prefers_the_first_keys_as_the_law_says() {
        let c = counts("zipfian:0.99", 1000, 200_000);
        // Key 0 against key 9: (10/1)^0.99, about 9.8 times as often.
        let ratio = c[0] as f64 / c[9] as f64;
        assert!((7.5..12.5).contains(&ratio), "ratio {ratio}");
        assert!(c[0] > c[1] && c[1] > c[3]);
        assert!(c[999] > 0 || c[998] > 0 || c[997] > 0);
    }

    #[test]
    fn hotset_sends_its_share_to_its_keys() {
        let c = counts("hotset:80:20", 100, 100_000);
        let hot: u64 = c[..20].iter().sum();
        let share = hot as f64 / 100_000.0;
        assert!((0.78..0.82).contains(&share), "share {share}");
        assert!(c[20..].iter().all(|&n| n > 0));
    }

    #[test]
    fn sequential_walks_from_its_start_and_wraps() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut s = KeyDist::Sequential.sampler(5, 3);
        let got: Vec<u64> = (0..7).map(|_| s.next(&mut rng)).collect();
        assert_eq!(got, [3, 4, 0, 1, 2, 3, 4]);
    }
}
