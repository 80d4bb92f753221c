//! Latency histograms, merged across connections and rounds, and the reports made of them: a
//! table for people, JSON for machines.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::workload::{Command, Verdict};

/// Latencies are recorded in microseconds, from 1 us to 60 s, to 3 significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// What one connection (or a merge of several) measured.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub latency: BTreeMap<Command, Histogram<u64>>,
    /// Replies checked and found right, wrong, missing; error replies.
    pub verified: u64,
    pub wrong: u64,
    pub missing: u64,
    pub errors: u64,
    /// The first few problems, for the report.
    pub samples: Vec<String>,
}

/// How many problem descriptions a report keeps.
const MAX_SAMPLES: usize = 5;

impl Stats {
    /// Records one request's latency and what its reply said.
    pub fn record(&mut self, command: Command, latency: Duration, verdict: Verdict) {
        let us = (latency.as_micros() as u64).clamp(1, 60_000_000);
        self.latency
            .entry(command)
            .or_insert_with(histogram)
            .saturating_record(us);
        let problem = match verdict {
            Verdict::Unchecked => None,
            Verdict::Right => {
                self.verified += 1;
                None
            }
            Verdict::Missing => {
                self.missing += 1;
                Some(format!(
                    "{}: no value where the load put one",
                    command.name()
                ))
            }
            Verdict::Wrong(why) => {
                self.wrong += 1;
                Some(format!("{}: {why}", command.name()))
            }
            Verdict::Error(e) => {
                self.errors += 1;
                Some(format!("{}: -{e}", command.name()))
            }
        };
        if let Some(p) = problem {
            if self.samples.len() < MAX_SAMPLES {
                self.samples.push(p);
            }
        }
    }

    /// Adds `other`'s counts and latencies to these.
    pub fn merge(&mut self, other: &Stats) {
        for (c, h) in &other.latency {
            self.latency
                .entry(*c)
                .or_insert_with(histogram)
                .add(h)
                .expect("histograms of the same bounds");
        }
        self.verified += other.verified;
        self.wrong += other.wrong;
        self.missing += other.missing;
        self.errors += other.errors;
        for s in &other.samples {
            if self.samples.len() < MAX_SAMPLES {
                self.samples.push(s.clone());
            }
        }
    }

    #[cfg(test)]
    pub fn requests(&self) -> u64 {
        self.latency.values().map(|h| h.len()).sum()
    }
}

/// Latency figures of one command (or of all), microseconds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Latency {
    pub requests: u64,
    pub per_sec: f64,
    pub mean_us: f64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
}

impl Latency {
    fn of(h: &Histogram<u64>, elapsed: Duration) -> Latency {
        Latency {
            requests: h.len(),
            per_sec: h.len() as f64 / elapsed.as_secs_f64().max(1e-9),
            mean_us: h.mean(),
            p50_us: h.value_at_quantile(0.50),
            p90_us: h.value_at_quantile(0.90),
            p99_us: h.value_at_quantile(0.99),
            p999_us: h.value_at_quantile(0.999),
            max_us: h.max(),
        }
    }
}

/// The report of one target's run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub target: String,
    /// The options that shape the workload, as given.
    pub workload: BTreeMap<String, String>,
    /// Measured time (warm-up excluded), seconds.
    pub seconds: f64,
    pub total: Latency,
    pub commands: BTreeMap<String, Latency>,
    pub verified: u64,
    pub wrong: u64,
    pub missing: u64,
    pub errors: u64,
    pub problems: Vec<String>,
}

impl Report {
    pub fn new(
        target: &str,
        workload: BTreeMap<String, String>,
        stats: &Stats,
        elapsed: Duration,
    ) -> Report {
        let mut all = histogram();
        for h in stats.latency.values() {
            all.add(h).expect("histograms of the same bounds");
        }
        Report {
            target: target.to_string(),
            workload,
            seconds: elapsed.as_secs_f64(),
            total: Latency::of(&all, elapsed),
            commands: stats
                .latency
                .iter()
                .map(|(c, h)| (c.name().to_string(), Latency::of(h, elapsed)))
                .collect(),
            verified: stats.verified,
            wrong: stats.wrong,
            missing: stats.missing,
            errors: stats.errors,
            problems: stats.samples.clone(),
        }
    }

    /// Whether every checked reply was right and none was an error.
    pub fn is_clean(&self) -> bool {
        self.wrong == 0 && self.missing == 0 && self.errors == 0
    }
}

/// The reports as a table: one row per target and command, then one per target in all.
pub fn table(reports: &[Report]) -> String {
    let mut rows = vec![[
        "target", "command", "requests", "req/s", "p50 us", "p90 us", "p99 us", "p99.9 us",
        "max us",
    ]
    .map(String::from)];
    let fmt = |target: &str, name: &str, l: &Latency| {
        [
            target.to_string(),
            name.to_string(),
            l.requests.to_string(),
            format!("{:.0}", l.per_sec),
            l.p50_us.to_string(),
            l.p90_us.to_string(),
            l.p99_us.to_string(),
            l.p999_us.to_string(),
            l.max_us.to_string(),
        ]
    };
    for r in reports {
        if r.commands.len() > 1 {
            for (name, l) in &r.commands {
                rows.push(fmt(&r.target, name, l));
            }
        }
        rows.push(fmt(&r.target, "all", &r.total));
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (n, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if i < 2 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
        if n == 0 {
            out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)));
            out.push('\n');
        }
    }
    for r in reports {
        out.push_str(&format!(
            "{}: {} replies checked right, {} wrong, {} missing, {} errors\n",
            r.target, r.verified, r.wrong, r.missing, r.errors
        ));
        for p in &r.problems {
            out.push_str(&format!("  {p}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_stats_hold_every_recording() {
        let mut a = Stats::default();
        let mut b = Stats::default();
        for us in 1..=100 {
            a.record(Command::Get, Duration::from_micros(us), Verdict::Right);
        }
        for us in 101..=200 {
            b.record(Command::Get, Duration::from_micros(us), Verdict::Unchecked);
        }
        b.record(
            Command::Set,
            Duration::from_micros(5),
            Verdict::Error("ERR x".into()),
        );
        b.record(
            Command::Get,
            Duration::from_micros(7),
            Verdict::Wrong("key 1".into()),
        );
        a.merge(&b);
        assert_eq!(a.requests(), 202);
        assert_eq!((a.verified, a.wrong, a.errors, a.missing), (100, 1, 1, 0));
        assert_eq!(
            a.samples,
            vec!["set: -ERR x".to_string(), "get: key 1".to_string()]
        );
        let r = Report::new("t", BTreeMap::new(), &a, Duration::from_secs(2));
        assert_eq!(r.total.requests, 202);
        assert_eq!(r.total.per_sec, 101.0);
        assert_eq!(r.commands["get"].requests, 201);
        assert_eq!(r.commands["get"].max_us, 200);
        assert!(
            (99..=101).contains(&r.commands["get"].p50_us),
            "{}",
            r.commands["get"].p50_us
        );
        assert!(!r.is_clean());
    }

    #[test]
    fn table_and_json_carry_the_figures() {
        let mut s = Stats::default();
        s.record(Command::Get, Duration::from_micros(250), Verdict::Right);
        s.record(Command::Set, Duration::from_micros(40), Verdict::Unchecked);
        let r = Report::new(
            "127.0.0.1:6379",
            BTreeMap::from([("mix".to_string(), "get=1,set=1".to_string())]),
            &s,
            Duration::from_secs(1),
        );
        let t = table(std::slice::from_ref(&r));
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("target"));
        assert!(
            lines.iter().any(|l| l.contains("get") && l.contains("250")),
            "{t}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains(" all ") && l.ends_with("250")),
            "{t}"
        );
        assert!(t.contains("1 replies checked right, 0 wrong"));
        let json: serde_json::Value = serde_json::to_value(&r).unwrap();
        assert_eq!(json["total"]["requests"], 2);
        assert_eq!(json["commands"]["set"]["p50_us"], 40);
        assert_eq!(json["workload"]["mix"], "get=1,set=1");
        assert!(r.is_clean());
    }
}
