//! `thermocline-bench compare`: Redis, Thermocline in pure-memory mode and Thermocline in
//! hybrid mode at several RAM:dataset ratios, started here on loopback ports with their own
//! data directories, loaded with the same dataset, measured with the same workloads
//! (interleaved: each workload runs against every server before the next workload), and
//! stopped. Writes a Markdown and a JSON report and SVG charts.
//!
//! The dataset's size is what pure-memory Thermocline reports as `used_memory` once loaded;
//! a hybrid server at ratio `r` gets `maxmemory` = `r` x that. A ratio whose keys alone do not
//! fit (Thermocline keeps every key in RAM) is reported as such, not hidden.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis_protocol::resp2::types::BytesFrame;
use serde::{Deserialize, Serialize};

use crate::client::{self, Limit, Plan};
use crate::dist::KeyDist;
use crate::plot::{self, Series};
use crate::report::Report;
use crate::workload::{KeyKind, Keys, Mix, ValueSize};

/// The options of `compare`.
#[derive(clap::Args, Debug, Clone)]
pub struct CompareArgs {
    /// A small run (one value size, a small dataset, two hybrid ratios, short rounds): under
    /// two minutes, to check the set-up.
    #[arg(long)]
    pub quick: bool,
    /// Where the report goes: <out>/<date>-<host>.md, .json and .svg charts.
    #[arg(long, default_value = "docs/benchmarks")]
    pub out: PathBuf,
    /// The thermocline-server binary (default: the one beside this binary).
    #[arg(long)]
    pub thermocline: Option<PathBuf>,
    /// The redis-server binary.
    #[arg(long, default_value = "redis-server")]
    pub redis: PathBuf,
    /// Leave Redis out (when it is not installed).
    #[arg(long)]
    pub no_redis: bool,
    /// Where the servers' data directories go (default: the system's temporary directory).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Seconds each workload is measured against each server (after a warm-up).
    #[arg(long)]
    pub duration: Option<f64>,
    /// One dataset of this many keys instead of the run's own (with --value-size).
    #[arg(long, requires = "value_size")]
    pub keys: Option<u64>,
    /// The value size of that dataset, bytes.
    #[arg(long, requires = "keys")]
    pub value_size: Option<usize>,
    /// The RocksDB tuning profile of the hybrid servers (`rocksdb-options-file`: default,
    /// low-memory, large-values, or a file).
    #[arg(long, default_value = "default")]
    pub profile: String,
    /// Measure nothing: write the report and charts again from the JSON of an earlier run.
    #[arg(long)]
    pub from_json: Option<PathBuf>,
}

/// What is measured, by run size.
struct Settings {
    /// (value size, keys)
    datasets: Vec<(usize, u64)>,
    ratios: Vec<f64>,
    workloads: Vec<Workload>,
    duration: Duration,
    warmup: Duration,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Workload {
    name: String,
    mix: String,
    distribution: String,
    pipeline: usize,
}

fn workload(name: &str, mix: &str, distribution: &str, pipeline: usize) -> Workload {
    Workload {
        name: name.to_string(),
        mix: mix.to_string(),
        distribution: distribution.to_string(),
        pipeline,
    }
}

impl Settings {
    fn new(args: &CompareArgs) -> Settings {
        let mut s = if args.quick {
            Settings {
                // Values big enough that the keys fit in 10% of the dataset: Thermocline keeps
                // every key in RAM, about 100 bytes each when its value is cold.
                datasets: vec![(4096, 40_000)],
                ratios: vec![1.0, 0.1],
                workloads: vec![
                    workload("GET uniform P1", "get=1", "uniform", 1),
                    workload("GET zipfian P16", "get=1", "zipfian:0.99", 16),
                    workload("80/20 zipfian P1", "get=8,set=2", "zipfian:0.99", 1),
                ],
                duration: Duration::from_secs(1),
                warmup: Duration::from_millis(300),
            }
        } else {
            let mut workloads = Vec::new();
            for p in [1, 16] {
                workloads.push(workload(
                    &format!("GET uniform P{p}"),
                    "get=1",
                    "uniform",
                    p,
                ));
                workloads.push(workload(
                    &format!("GET zipfian P{p}"),
                    "get=1",
                    "zipfian:0.99",
                    p,
                ));
                workloads.push(workload(
                    &format!("80/20 zipfian P{p}"),
                    "get=8,set=2",
                    "zipfian:0.99",
                    p,
                ));
                workloads.push(workload(
                    &format!("SET uniform P{p}"),
                    "set=1",
                    "uniform",
                    p,
                ));
            }
            Settings {
                datasets: vec![(1024, 250_000), (10 * 1024, 25_000)],
                ratios: vec![1.0, 0.5, 0.2, 0.1, 0.05],
                workloads,
                duration: Duration::from_secs(4),
                warmup: Duration::from_secs(1),
            }
        };
        if let Some(d) = args.duration {
            s.duration = Duration::from_secs_f64(d.max(0.1));
            s.warmup = s.warmup.min(s.duration);
        }
        if let (Some(keys), Some(size)) = (args.keys, args.value_size) {
            s.datasets = vec![(size.max(1), keys.max(1))];
        }
        s
    }
}

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "ratio", rename_all = "kebab-case")]
enum Kind {
    Redis,
    PureMemory,
    /// Hybrid with maxmemory at this fraction of the dataset.
    Hybrid(f64),
}

impl Kind {
    fn label(&self) -> String {
        match self {
            Kind::Redis => "redis".into(),
            Kind::PureMemory => "pure-memory".into(),
            Kind::Hybrid(r) => format!("hybrid {}%", r * 100.0),
        }
    }
}

/// A server this run started; stopped (killed) when dropped.
struct Running {
    kind: Kind,
    child: Child,
    addr: String,
    dir: PathBuf,
    maxmemory: u64,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

async fn start(
    kind: Kind,
    binary: &Path,
    base: &Path,
    maxmemory: u64,
    profile: &str,
) -> Result<Running, String> {
    let port = free_port()?;
    let dir = base.join(kind.label().replace([' ', '%'], ""));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut cmd = Command::new(binary);
    cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--dir"])
        .arg(&dir);
    match kind {
        Kind::Redis => {
            cmd.args(["--save", "", "--appendonly", "no"]);
        }
        Kind::PureMemory => {
            cmd.args(["--tiering", "no", "--loglevel", "warning"]);
        }
        Kind::Hybrid(_) => {
            cmd.args(["--tiering", "yes", "--loglevel", "warning", "--maxmemory"])
                .arg(maxmemory.to_string())
                .args(["--rocksdb-options-file", profile]);
        }
    }
    let log = std::fs::File::create(dir.join("server.log"))
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let child = cmd
        .stdout(Stdio::from(log.try_clone().map_err(|e| e.to_string())?))
        .stderr(Stdio::from(log))
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let running = Running {
        kind,
        child,
        addr: format!("127.0.0.1:{port}"),
        dir,
        maxmemory,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match client::command(&running.addr, &["PING"]).await {
            Ok(BytesFrame::SimpleString(_)) => return Ok(running),
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
            other => {
                return Err(format!(
                    "{} did not start on {} ({other:?}); its log is {}",
                    kind.label(),
                    running.addr,
                    running.dir.join("server.log").display()
                ))
            }
        }
    }
}

/// INFO `section` as field -> value.
async fn info(addr: &str, section: &str) -> BTreeMap<String, String> {
    match client::command(addr, &["INFO", section]).await {
        Ok(BytesFrame::BulkString(b)) => String::from_utf8_lossy(&b)
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.to_string(), v.trim().to_string()))
            .collect(),
        _ => BTreeMap::new(),
    }
}

fn rss(child: &Child) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn dir_bytes(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// One server's figures for one dataset.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ServerResult {
    server: String,
    #[serde(flatten)]
    kind: Kind,
    maxmemory: u64,
    /// Why the server could not be measured (its keys did not fit, it did not start...).
    error: Option<String>,
    /// (bytes of values loaded so far, RSS) after each quarter of the load.
    rss_during_load: Vec<(u64, u64)>,
    rss_after: u64,
    disk_bytes: u64,
    used_memory: u64,
    /// INFO tiering (Thermocline in hybrid mode).
    tiering: BTreeMap<String, String>,
    /// Workload name -> report.
    results: BTreeMap<String, Report>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct DatasetResult {
    value_size: usize,
    keys: u64,
    /// Bytes of values loaded.
    value_bytes: u64,
    /// used_memory of pure-memory Thermocline with the dataset loaded.
    dataset_bytes: u64,
    servers: Vec<ServerResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Comparison {
    date: String,
    host: String,
    cores: usize,
    command: String,
    duration_s: f64,
    warmup_s: f64,
    workloads: Vec<Workload>,
    datasets: Vec<DatasetResult>,
}

fn keys_of(value_size: usize, count: u64) -> Keys {
    Keys {
        prefix: "tb:".into(),
        count,
        size: ValueSize {
            min: value_size,
            max: value_size,
        },
    }
}

/// Loads `keys` into `server` in four steps, noting the RSS after each.
async fn load(server: &Running, keys: &Keys) -> Result<Vec<(u64, u64)>, String> {
    let mut curve = Vec::new();
    for q in 0..4u64 {
        let range = keys.count * q / 4..keys.count * (q + 1) / 4;
        client::load_range(
            &server.addr,
            keys,
            &[KeyKind::String],
            range.clone(),
            8,
            Arc::new(AtomicU64::new(0)),
        )
        .await?;
        curve.push((range.end * keys.size.max as u64, rss(&server.child)));
    }
    Ok(curve)
}

fn today() -> String {
    let out = Command::new("date").arg("+%Y-%m-%d").output();
    out.ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "undated".into())
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".into())
}

/// The thermocline-server to compare: the one given, else the one beside this binary.
fn thermocline_binary(args: &CompareArgs) -> Result<PathBuf, String> {
    if let Some(p) = &args.thermocline {
        return Ok(p.clone());
    }
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let beside = me.with_file_name("thermocline-server");
    if beside.exists() {
        Ok(beside)
    } else {
        Err(format!(
            "no thermocline-server beside {}: build it (cargo build --release) or pass \
             --thermocline PATH",
            me.display()
        ))
    }
}

pub async fn compare(args: CompareArgs) -> Result<PathBuf, String> {
    if let Some(path) = &args.from_json {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let comparison: Comparison = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a comparison's JSON: {e}", path.display()))?;
        // The JSON is the input: only the report and the charts are written again.
        return write_reports(&args.out, &comparison, false);
    }
    let settings = Settings::new(&args);
    let thermocline = thermocline_binary(&args)?;
    let base = match &args.data_dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir(),
    }
    .join(format!("thermocline-compare-{}", std::process::id()));
    std::fs::create_dir_all(&base).map_err(|e| format!("{}: {e}", base.display()))?;
    let result = run_all(&args, &settings, &thermocline, &base).await;
    let _ = std::fs::remove_dir_all(&base);
    let comparison = result?;
    write_reports(&args.out, &comparison, true)
}

async fn run_all(
    args: &CompareArgs,
    settings: &Settings,
    thermocline: &Path,
    base: &Path,
) -> Result<Comparison, String> {
    let mut datasets = Vec::new();
    for &(value_size, count) in &settings.datasets {
        let keys = keys_of(value_size, count);
        eprintln!("dataset: {count} keys of {value_size} bytes");
        let mut servers: Vec<Result<Running, (Kind, u64, String)>> = Vec::new();
        let mut curves: Vec<Vec<(u64, u64)>> = Vec::new();
        // Pure memory first: its used_memory sizes the hybrid servers.
        let mut kinds = vec![Kind::PureMemory];
        if !args.no_redis {
            kinds.push(Kind::Redis);
        }
        let mut dataset_bytes = 0;
        for kind in kinds
            .into_iter()
            .chain(settings.ratios.iter().map(|&r| Kind::Hybrid(r)))
        {
            let maxmemory = match kind {
                Kind::Hybrid(r) => ((dataset_bytes as f64 * r) as u64).max(1 << 20),
                _ => 0,
            };
            let binary = if kind == Kind::Redis {
                args.redis.as_path()
            } else {
                thermocline
            };
            let dir = base.join(format!("{value_size}"));
            let server = match start(kind, binary, &dir, maxmemory, &args.profile).await {
                Ok(s) => s,
                Err(e) => {
                    servers.push(Err((kind, maxmemory, e)));
                    curves.push(Vec::new());
                    continue;
                }
            };
            eprintln!("  loading {} on {}", kind.label(), server.addr);
            match load(&server, &keys).await {
                Ok(curve) => {
                    if kind == Kind::PureMemory {
                        dataset_bytes = info(&server.addr, "memory")
                            .await
                            .get("used_memory")
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                    }
                    curves.push(curve);
                    servers.push(Ok(server));
                }
                Err(e) => {
                    let why = if e.contains("OOM") {
                        format!("the keys alone do not fit in maxmemory {maxmemory}: {e}")
                    } else {
                        e
                    };
                    curves.push(Vec::new());
                    servers.push(Err((kind, maxmemory, why)));
                }
            }
        }
        // Let demotion and RocksDB settle after the load.
        tokio::time::sleep(Duration::from_secs(2)).await;

        let mut results: Vec<BTreeMap<String, Report>> = vec![BTreeMap::new(); servers.len()];
        for w in &settings.workloads {
            for (i, s) in servers.iter().enumerate() {
                let Ok(server) = s else { continue };
                eprintln!("  {} on {}", w.name, server.kind.label());
                let plan = Plan {
                    keys: keys.clone(),
                    dist: KeyDist::parse(&w.distribution)?,
                    mix: Mix::parse(&w.mix)?,
                    connections: 50,
                    pipeline: w.pipeline,
                    limit: Limit::Time(settings.duration),
                    warmup: settings.warmup,
                    rate: None,
                    verify_every: 10,
                    loaded: true,
                    seed: 1,
                };
                let (stats, elapsed) =
                    client::run(&server.addr, &plan, Arc::new(AtomicU64::new(0))).await?;
                let mut wl = BTreeMap::new();
                wl.insert("workload".to_string(), w.name.clone());
                let report = Report::new(&server.kind.label(), wl, &stats, elapsed);
                if !report.is_clean() {
                    // Kept in the report (wrong values, OOM errors ...), not hidden.
                    eprintln!(
                        "  {} on {}: {} wrong, {} missing, {} errors: {:?}",
                        w.name,
                        server.kind.label(),
                        report.wrong,
                        report.missing,
                        report.errors,
                        report.problems.first()
                    );
                }
                results[i].insert(w.name.clone(), report);
            }
        }
        let mut out = Vec::new();
        for ((s, curve), results) in servers.into_iter().zip(curves).zip(results) {
            out.push(match s {
                Ok(server) => {
                    let memory = info(&server.addr, "memory").await;
                    let tiering = if matches!(server.kind, Kind::Hybrid(_)) {
                        info(&server.addr, "tiering").await
                    } else {
                        BTreeMap::new()
                    };
                    ServerResult {
                        server: server.kind.label(),
                        kind: server.kind,
                        maxmemory: server.maxmemory,
                        error: None,
                        rss_during_load: curve,
                        rss_after: rss(&server.child),
                        disk_bytes: dir_bytes(&server.dir),
                        used_memory: memory
                            .get("used_memory")
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0),
                        tiering,
                        results,
                    }
                }
                Err((kind, maxmemory, error)) => ServerResult {
                    server: kind.label(),
                    kind,
                    maxmemory,
                    error: Some(error),
                    rss_during_load: curve,
                    rss_after: 0,
                    disk_bytes: 0,
                    used_memory: 0,
                    tiering: BTreeMap::new(),
                    results,
                },
            });
        }
        datasets.push(DatasetResult {
            value_size,
            keys: count,
            value_bytes: count * value_size as u64,
            dataset_bytes,
            servers: out,
        });
    }
    Ok(Comparison {
        date: today(),
        host: host(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        duration_s: settings.duration.as_secs_f64(),
        warmup_s: settings.warmup.as_secs_f64(),
        workloads: settings.workloads.clone(),
        datasets,
    })
}

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / (1 << 20) as f64)
}

/// Throughput of `server` on workload `w`, if measured.
fn rate(s: &ServerResult, w: &str) -> Option<f64> {
    s.results.get(w).map(|r| r.total.per_sec)
}

fn markdown(c: &Comparison, charts: &[(String, String)]) -> String {
    let mut md = format!(
        "# Thermocline against Redis: {} on {}\n\nMachine: `{}`, {} cores. Command: `{}`. Each \
         workload: 50 connections, {} s measured after {} s of warm-up, against every server \
         in turn; one read in ten checked against the value written.\n",
        c.date, c.host, c.host, c.cores, c.command, c.duration_s, c.warmup_s
    );
    for d in &c.datasets {
        md += &format!(
            "\n## {} keys of {} bytes ({} of values; pure-memory used_memory {})\n\n",
            d.keys,
            d.value_size,
            mib(d.value_bytes),
            mib(d.dataset_bytes)
        );
        md += "| server | maxmemory | RSS after the runs | data on disk | cold keys | note |\n|---|---|---|---|---|---|\n";
        for s in &d.servers {
            md += &format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                s.server,
                if s.maxmemory == 0 {
                    "-".into()
                } else {
                    mib(s.maxmemory)
                },
                mib(s.rss_after),
                mib(s.disk_bytes),
                s.tiering.get("cold_keys").map_or("-", String::as_str),
                s.error.as_deref().unwrap_or("")
            );
        }
        md += "\nThroughput (requests/s) and p99 latency (us):\n\n| workload |";
        for s in &d.servers {
            md += &format!(" {} |", s.server);
        }
        md += "\n|---|";
        md += &"---|".repeat(d.servers.len());
        md += "\n";
        for w in &c.workloads {
            md += &format!("| {} |", w.name);
            for s in &d.servers {
                md += &match s.results.get(&w.name) {
                    Some(r) if r.is_clean() => {
                        format!(" {:.0} / {} |", r.total.per_sec, r.total.p99_us)
                    }
                    Some(r) => format!(
                        " {:.0} / {} (errors: {}, wrong: {}, missing: {}) |",
                        r.total.per_sec, r.total.p99_us, r.errors, r.wrong, r.missing
                    ),
                    None => " - |".into(),
                };
            }
            md += "\n";
        }
        for s in &d.servers {
            for (w, r) in s.results.iter().filter(|(_, r)| !r.is_clean()) {
                md += &format!(
                    "\n{} on {}: {} error replies, {} wrong and {} missing values; first: `{}`\n",
                    w,
                    s.server,
                    r.errors,
                    r.wrong,
                    r.missing,
                    r.problems.first().map_or("", String::as_str)
                );
            }
        }
        md += &goals(c, d);
        for (title, file) in charts
            .iter()
            .filter(|(t, _)| t.contains(&format!(" {} bytes", d.value_size)))
        {
            md += &format!("\n![{title}]({file})\n");
        }
    }
    md
}

/// The measured goals, as ratios from this run.
fn goals(c: &Comparison, d: &DatasetResult) -> String {
    let find = |k: Kind| d.servers.iter().find(|s| s.kind == k && s.error.is_none());
    let pure = find(Kind::PureMemory);
    let redis = find(Kind::Redis);
    let mut out = String::from("\nGoals (ratios from this run):\n\n");
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
        _ => "-".into(),
    };
    for w in c
        .workloads
        .iter()
        .filter(|w| w.name.starts_with("GET uniform") || w.name.starts_with("SET"))
    {
        if let (Some(p), Some(r)) = (pure, redis) {
            let p99 = |s: &ServerResult| s.results.get(&w.name).map_or(0, |r| r.total.p99_us);
            out += &format!(
                "- pure-memory / redis, {}: {} (p99 {} vs {} us)\n",
                w.name,
                ratio(rate(p, &w.name), rate(r, &w.name)),
                p99(p),
                p99(r)
            );
        }
    }
    if let (Some(p), Some(h)) = (pure, find(Kind::Hybrid(1.0))) {
        let worst = c
            .workloads
            .iter()
            .filter_map(|w| Some(rate(h, &w.name)? / rate(p, &w.name)?))
            .fold(f64::MAX, f64::min);
        if worst < f64::MAX {
            out += &format!("- hybrid at 100% / pure-memory, worst workload: {worst:.2}\n");
        }
    }
    if let (Some(p), Some(h)) = (pure, find(Kind::Hybrid(0.1))) {
        for w in c
            .workloads
            .iter()
            .filter(|w| w.name.starts_with("GET zipfian"))
        {
            out += &format!(
                "- hybrid at 10% / pure-memory, {}: {}\n",
                w.name,
                ratio(rate(h, &w.name), rate(p, &w.name))
            );
        }
        if let Some(r) = redis {
            out += &format!(
                "- RSS of hybrid at 10% / RSS of redis: {}\n",
                ratio(Some(h.rss_after as f64), Some(r.rss_after as f64))
            );
        }
    }
    out
}

/// Lines of `metric` against the RAM ratio for the workloads `pick` chooses, one per server
/// and workload: a hybrid server's across its ratios, Redis's and pure memory's flat (they
/// always hold the whole dataset) across the same range.
fn per_server(
    d: &DatasetResult,
    c: &Comparison,
    pick: impl Fn(&Workload) -> bool,
    metric: impl Fn(&Report) -> f64,
) -> Vec<Series> {
    let percent = |s: &ServerResult| match s.kind {
        Kind::Hybrid(r) => r * 100.0,
        _ => 100.0,
    };
    let measured = || d.servers.iter().filter(|s| s.error.is_none());
    let lowest = measured().map(percent).fold(100.0, f64::min);
    let mut series = Vec::new();
    for w in c.workloads.iter().filter(|w| pick(w)) {
        let mut hybrid: Vec<(f64, f64)> = measured()
            .filter(|s| matches!(s.kind, Kind::Hybrid(_)))
            .filter_map(|s| Some((percent(s), metric(s.results.get(&w.name)?))))
            .collect();
        hybrid.sort_by(|a, b| a.0.total_cmp(&b.0));
        series.push(Series {
            name: format!("hybrid, {}", w.name),
            points: hybrid,
        });
        for s in measured().filter(|s| !matches!(s.kind, Kind::Hybrid(_))) {
            if let Some(r) = s.results.get(&w.name) {
                series.push(Series {
                    name: format!("{}, {}", s.server, w.name),
                    points: vec![(lowest, metric(r)), (100.0, metric(r))],
                });
            }
        }
    }
    series
}

/// Draws the charts of `c` beside the report; returns (title, file name) of each.
fn charts(dir: &Path, stem: &str, c: &Comparison) -> Result<Vec<(String, String)>, String> {
    let mut drawn = Vec::new();
    for d in &c.datasets {
        let pure = d.servers.iter().find(|s| s.kind == Kind::PureMemory);
        // Every workload on the hybrid servers, relative to pure memory.
        let mut relative = Vec::new();
        for w in &c.workloads {
            let Some(base) = pure.and_then(|p| rate(p, &w.name)) else {
                continue;
            };
            let mut points: Vec<(f64, f64)> = d
                .servers
                .iter()
                .filter(|s| s.error.is_none())
                .filter_map(|s| match s.kind {
                    Kind::Hybrid(r) => Some((r * 100.0, rate(s, &w.name)? / base)),
                    _ => None,
                })
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            relative.push(Series {
                name: w.name.clone(),
                points,
            });
        }
        // The headline workload, zipfian reads, per server.
        let zipfian_reads = |w: &Workload| w.name.starts_with("GET zipfian");
        let throughput = per_server(d, c, zipfian_reads, |r| r.total.per_sec);
        let p99 = per_server(d, c, zipfian_reads, |r| r.total.p99_us as f64 / 1000.0);
        let rss: Vec<Series> = d
            .servers
            .iter()
            .filter(|s| !s.rss_during_load.is_empty())
            .map(|s| Series {
                name: s.server.clone(),
                points: s
                    .rss_during_load
                    .iter()
                    .map(|&(b, r)| (b as f64 / (1 << 20) as f64, r as f64 / (1 << 20) as f64))
                    .collect(),
            })
            .collect();
        let size = d.value_size;
        let ratio_axis = "maxmemory, % of the dataset (Redis and pure memory: all of it)";
        for (kind, title, x, y, series) in [
            (
                "throughput",
                format!("Zipfian GETs, {size} bytes values: throughput"),
                ratio_axis,
                "requests/s",
                throughput,
            ),
            (
                "p99",
                format!("Zipfian GETs, {size} bytes values: p99 latency"),
                ratio_axis,
                "p99 latency, ms",
                p99,
            ),
            (
                "relative",
                format!("Every workload, {size} bytes values: hybrid / pure memory"),
                "maxmemory, % of the dataset",
                "throughput relative to pure memory",
                relative,
            ),
            (
                "rss",
                format!("RSS while loading, {size} bytes values"),
                "values loaded, MiB",
                "RSS, MiB",
                rss,
            ),
        ] {
            let file = format!("{stem}-{size}-{kind}.svg");
            plot::line_chart(&dir.join(&file), &title, x, y, &series)?;
            drawn.push((title, file));
        }
    }
    Ok(drawn)
}

fn write_reports(out: &Path, c: &Comparison, with_json: bool) -> Result<PathBuf, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let stem = format!("{}-{}", c.date, c.host);
    let drawn = charts(out, &stem, c)?;
    if with_json {
        let json = out.join(format!("{stem}.json"));
        std::fs::write(
            &json,
            serde_json::to_string_pretty(c).map_err(|e| e.to_string())?,
        )
        .map_err(|e| format!("{}: {e}", json.display()))?;
    }
    let md = out.join(format!("{stem}.md"));
    std::fs::write(&md, markdown(c, &drawn)).map_err(|e| format!("{}: {e}", md.display()))?;
    Ok(md)
}
