//! thermocline-bench: a load generator for Redis-protocol servers (Thermocline, Redis, anything
//! that speaks RESP2).
//!
//! `thermocline-bench run --target 127.0.0.1:6379 ...` loads a dataset (`--load`), then runs a
//! command mix against one or more targets, interleaving them round by round, and reports
//! latency percentiles from HDR histograms as a table (or `--json`). A sample of read replies
//! is checked against the value the key must hold (`--verify`), so that a fast but wrong
//! server cannot win; the exit code is 1 when any checked reply was wrong or missing.
//!
//! `thermocline-bench compare [--quick]` starts Redis and Thermocline (pure-memory, and hybrid
//! at several RAM:dataset ratios) itself, measures them all with the same workloads and writes
//! a Markdown and JSON report with SVG charts (src/compare.rs).

mod client;
mod compare;
mod dist;
mod plot;
mod report;
mod workload;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use client::{Limit, Plan};
use dist::KeyDist;
use report::{Report, Stats};
use workload::{Keys, Mix, ValueSize};

#[derive(Parser)]
#[command(
    name = "thermocline-bench",
    version,
    about = "A load generator for Redis-protocol servers"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Load a dataset and run a workload against one or more servers.
    Run(RunArgs),
    /// Start Redis, Thermocline in pure-memory mode and in hybrid mode at several RAM ratios,
    /// run the same workloads against each, and write a report with charts.
    Compare(compare::CompareArgs),
}

#[derive(Args, Debug, Clone)]
struct RunArgs {
    /// A server to measure, host:port; repeat for several (run in turn, round by round).
    #[arg(long = "target", short = 't', default_value = "127.0.0.1:6379")]
    targets: Vec<String>,
    /// Connections per target.
    #[arg(long, short = 'c', default_value_t = 50)]
    connections: usize,
    /// Requests each connection sends before reading their replies (closed loop).
    #[arg(long, short = 'P', default_value_t = 1)]
    pipeline: usize,
    /// Seconds to measure per round (after the warm-up).
    #[arg(long, short = 'd', default_value_t = 10.0, conflicts_with = "requests")]
    duration: f64,
    /// Measured requests per round instead of a duration.
    #[arg(long, short = 'n')]
    requests: Option<u64>,
    /// Seconds of warm-up before measuring, each round.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Keys in the dataset.
    #[arg(long, short = 'k', default_value_t = 100_000)]
    keys: u64,
    /// Key distribution: uniform, zipfian[:S] (S: exponent, default 0.99), hotset:R:K (R% of
    /// requests to K% of keys), sequential.
    #[arg(long, default_value = "uniform")]
    distribution: String,
    /// Value size in bytes: 100, 1k, or a range 100-1000 (each key keeps its own size).
    #[arg(long, short = 's', default_value = "100")]
    value_size: String,
    /// Command mix with weights, e.g. get=8,set=2. Commands: get, set, mget (10 keys), hget,
    /// hset, zadd, zscore, lpush, lpop, incr.
    #[arg(long, default_value = "get=1")]
    mix: String,
    /// Fill the dataset before measuring (every key the mix's reads use).
    #[arg(long)]
    load: bool,
    /// Open loop: this many requests per second in all, on a fixed schedule (latency counts
    /// from when each request was due). Without it, closed loop.
    #[arg(long)]
    rate: Option<f64>,
    /// Check one read reply in this many (0: none).
    #[arg(long, default_value_t = 10)]
    verify: u64,
    /// Rounds per target, interleaved across targets to cancel machine drift.
    #[arg(long, default_value_t = 1)]
    rounds: u32,
    /// Prefix of every key name.
    #[arg(long, default_value = "tb:")]
    key_prefix: String,
    /// Seed of the random choices (the same seed draws the same requests).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the reports as JSON (no progress bar, no table).
    #[arg(long)]
    json: bool,
}

impl RunArgs {
    fn plan(&self) -> Result<Plan, String> {
        if self.connections == 0 || self.pipeline == 0 {
            return Err("--connections and --pipeline must be at least 1".into());
        }
        if self.keys == 0 {
            return Err("--keys must be at least 1".into());
        }
        let valid = self.duration > 0.0 && self.duration.is_finite() && self.warmup >= 0.0;
        if !valid {
            return Err("--duration must be above 0 and --warmup at least 0".into());
        }
        if self.rate.is_some_and(|r| !(r > 0.0 && r.is_finite())) {
            return Err("--rate must be above 0".into());
        }
        Ok(Plan {
            keys: Keys {
                prefix: self.key_prefix.clone(),
                count: self.keys,
                size: ValueSize::parse(&self.value_size)?,
            },
            dist: KeyDist::parse(&self.distribution)?,
            mix: Mix::parse(&self.mix)?,
            connections: self.connections,
            pipeline: self.pipeline,
            limit: match self.requests {
                Some(n) => Limit::Requests(n),
                None => Limit::Time(Duration::from_secs_f64(self.duration)),
            },
            warmup: Duration::from_secs_f64(self.warmup),
            rate: self.rate,
            verify_every: self.verify,
            loaded: self.load,
            seed: self.seed,
        })
    }

    /// The options that shape the workload, for the report.
    fn workload(&self, plan: &Plan) -> BTreeMap<String, String> {
        let mut w = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            w.insert(k.to_string(), v);
        };
        put("connections", self.connections.to_string());
        put("pipeline", self.pipeline.to_string());
        put("keys", self.keys.to_string());
        put("distribution", plan.dist.to_string());
        put("value_size", plan.keys.size.to_string());
        put("mix", plan.mix.to_string());
        put("rounds", self.rounds.to_string());
        put("warmup_s", self.warmup.to_string());
        match plan.limit {
            Limit::Time(d) => put("duration_s", d.as_secs_f64().to_string()),
            Limit::Requests(n) => put("requests", n.to_string()),
        }
        put(
            "loop",
            match self.rate {
                Some(r) => format!("open at {r} req/s"),
                None => "closed".into(),
            },
        );
        w
    }
}

/// A progress bar on stderr (hidden when stderr is not a terminal, or with `quiet`), fed by a
/// counter until the returned guard is finished.
fn progress_bar(
    len: u64,
    what: &str,
    quiet: bool,
    counter: &Arc<AtomicU64>,
) -> (ProgressBar, tokio::task::JoinHandle<()>) {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(len)
    };
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(what.to_string());
    let ticker = {
        let (bar, counter) = (bar.clone(), counter.clone());
        tokio::spawn(async move {
            let mut last = 0u64;
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let now = counter.load(Ordering::Relaxed);
                bar.set_position(now.min(bar.length().unwrap_or(u64::MAX)));
                bar.set_message(format!("{} req/s", (now - last) * 4));
                last = now;
            }
        })
    };
    (bar, ticker)
}

async fn run(args: RunArgs) -> Result<bool, String> {
    let plan = args.plan()?;
    if args.load {
        let kinds = plan.mix.loaded_kinds();
        for target in &args.targets {
            let counter = Arc::new(AtomicU64::new(0));
            let total = plan.keys.count * kinds.len() as u64;
            let (bar, ticker) = progress_bar(total, &format!("load {target}"), args.json, &counter);
            let loaded = client::load(target, &plan.keys, &kinds, 8, counter).await;
            ticker.abort();
            bar.finish_and_clear();
            loaded?;
        }
    }
    let mut stats: Vec<(Stats, Duration)> = args
        .targets
        .iter()
        .map(|_| (Stats::default(), Duration::ZERO))
        .collect();
    for round in 0..args.rounds.max(1) {
        for (i, target) in args.targets.iter().enumerate() {
            let counter = Arc::new(AtomicU64::new(0));
            let (len, label) = match plan.limit {
                Limit::Requests(n) => (n, format!("round {} {target}", round + 1)),
                // The bar counts requests; with a duration it only shows the pace.
                Limit::Time(_) => (u64::MAX, format!("round {} {target}", round + 1)),
            };
            let (bar, ticker) = progress_bar(len, &label, args.json, &counter);
            let result = client::run(target, &plan, counter).await;
            ticker.abort();
            bar.finish_and_clear();
            let (s, elapsed) = result?;
            stats[i].0.merge(&s);
            stats[i].1 += elapsed;
        }
    }
    let workload = args.workload(&plan);
    let reports: Vec<Report> = args
        .targets
        .iter()
        .zip(&stats)
        .map(|(t, (s, d))| Report::new(t, workload.clone(), s, *d))
        .collect();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&reports).expect("reports serialize")
        );
    } else {
        let w: Vec<String> = workload.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("{}\n", w.join(" "));
        print!("{}", report::table(&reports));
    }
    Ok(reports.iter().all(Report::is_clean))
}

fn main() {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let outcome = runtime.block_on(async {
        match cli.command {
            Cmd::Run(args) => run(args).await,
            Cmd::Compare(args) => compare::compare(args).await.map(|md| {
                println!("report: {}", md.display());
                true
            }),
        }
    });
    match outcome {
        Ok(true) => {}
        Ok(false) => {
            eprintln!("thermocline-bench: some replies were wrong, missing or errors (see above)");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("thermocline-bench: {e}");
            std::process::exit(2);
        }
    }
}
