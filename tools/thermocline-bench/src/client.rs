//! The connections: the load phase, and the measured run in closed loop (each connection sends
//! a pipeline of requests, waits for their replies, sends the next) or open loop (requests
//! leave on a fixed schedule whatever the replies do, and each latency counts from the moment
//! its request was due, so that a stalled server cannot hide its stall: no coordinated
//! omission).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use rand::SeedableRng;
use redis_protocol::resp2::decode::decode_bytes_mut;
use redis_protocol::resp2::encode::extend_encode_borrowed;
use redis_protocol::resp2::types::{BorrowedFrame, BytesFrame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::dist::KeyDist;
use crate::report::Stats;
use crate::workload::{self, Command, KeyKind, Keys, Mix, Scratch, Sent};

/// When a run stops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    /// After this long (warm-up excluded).
    Time(Duration),
    /// After this many measured requests in all.
    Requests(u64),
}

/// Everything a run needs to know.
#[derive(Debug, Clone)]
pub struct Plan {
    pub keys: Keys,
    pub dist: KeyDist,
    pub mix: Mix,
    pub connections: usize,
    pub pipeline: usize,
    pub limit: Limit,
    pub warmup: Duration,
    /// Open loop at this many requests per second in all; None: closed loop.
    pub rate: Option<f64>,
    /// Check one read reply in this many (0: none).
    pub verify_every: u64,
    /// The load phase ran: every read should find a value.
    pub loaded: bool,
    pub seed: u64,
}

/// Requests completed so far (measured ones), for the progress bar.
pub type Progress = Arc<AtomicU64>;

type Error = String;

async fn connect(addr: &str) -> Result<TcpStream, Error> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("{addr}: {e}"))?;
    Ok(stream)
}

/// Reads from `stream` until `buf` holds a whole reply, and returns it.
async fn read_reply(
    stream: &mut (impl AsyncReadExt + Unpin),
    buf: &mut BytesMut,
) -> Result<BytesFrame, Error> {
    loop {
        match decode_bytes_mut(buf) {
            Ok(Some((frame, _, _))) => return Ok(frame),
            Ok(None) => {}
            Err(e) => return Err(format!("the server sent a malformed reply: {e:?}")),
        }
        buf.reserve(64 << 10);
        let n = stream
            .read_buf(buf)
            .await
            .map_err(|e| format!("reading a reply: {e}"))?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
    }
}

/// Sends one command and returns its reply (INFO, PING, SHUTDOWN ... for the comparison).
pub async fn command(addr: &str, args: &[&str]) -> Result<BytesFrame, Error> {
    let mut stream = connect(addr).await?;
    let frames: Vec<BorrowedFrame> = args
        .iter()
        .map(|a| BorrowedFrame::BulkString(a.as_bytes()))
        .collect();
    let mut out = BytesMut::new();
    extend_encode_borrowed(&mut out, &BorrowedFrame::Array(&frames), false)
        .map_err(|e| format!("encoding {args:?}: {e:?}"))?;
    stream
        .write_all(&out)
        .await
        .map_err(|e| format!("sending {}: {e}", args[0]))?;
    read_reply(&mut stream, &mut BytesMut::new()).await
}

/// Fills the dataset: every key of each kind in `kinds` gets its value, through
/// `connections` connections with pipelines of 64 requests.
pub async fn load(
    addr: &str,
    keys: &Keys,
    kinds: &[KeyKind],
    connections: usize,
    progress: Progress,
) -> Result<(), Error> {
    load_range(addr, keys, kinds, 0..keys.count, connections, progress).await
}

/// [`load`] of the keys whose indices are in `range`.
pub async fn load_range(
    addr: &str,
    keys: &Keys,
    kinds: &[KeyKind],
    range: std::ops::Range<u64>,
    connections: usize,
    progress: Progress,
) -> Result<(), Error> {
    let connections = connections.max(1) as u64;
    let span = range.end.saturating_sub(range.start);
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (addr, keys, kinds, progress, range) = (
            addr.to_string(),
            keys.clone(),
            kinds.to_vec(),
            progress.clone(),
            range.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut stream = connect(&addr).await?;
            let mut out = BytesMut::new();
            let mut inbuf = BytesMut::new();
            let mut scratch = Scratch::default();
            let from = range.start + span * c / connections;
            let to = range.start + span * (c + 1) / connections;
            for kind in kinds {
                let command = match kind {
                    KeyKind::String => Command::Set,
                    KeyKind::Hash => Command::Hset,
                    KeyKind::ZSet => Command::Zadd,
                    KeyKind::List => Command::Lpush,
                    KeyKind::Counter => Command::Incr,
                };
                let mut i = from;
                while i < to {
                    let end = (i + 64).min(to);
                    out.clear();
                    for index in i..end {
                        workload::encode(&keys, command, index, &mut out, &mut scratch);
                    }
                    stream
                        .write_all(&out)
                        .await
                        .map_err(|e| format!("loading: {e}"))?;
                    for _ in i..end {
                        if let BytesFrame::Error(e) = read_reply(&mut stream, &mut inbuf).await? {
                            return Err(format!("loading: the server answered -{e}"));
                        }
                    }
                    progress.fetch_add(end - i, Ordering::Relaxed);
                    i = end;
                }
            }
            Ok::<(), Error>(())
        }));
    }
    for t in tasks {
        t.await
            .map_err(|e| format!("a loading task failed: {e}"))??;
    }
    Ok(())
}

/// One connection's share of the work.
struct Share {
    /// Where this connection's random numbers start.
    seed: u64,
    /// Measured requests to make (closed loop with a request limit).
    requests: Option<u64>,
    /// The moment measuring starts (after the warm-up) and the moment sending stops.
    measure_from: Instant,
    stop_at: Option<Instant>,
}

/// Runs `plan` against `addr`; returns what was measured and for how long.
pub async fn run(addr: &str, plan: &Plan, progress: Progress) -> Result<(Stats, Duration), Error> {
    let mut streams = Vec::with_capacity(plan.connections);
    for _ in 0..plan.connections.max(1) {
        streams.push(connect(addr).await?);
    }
    let start = Instant::now();
    let measure_from = start + plan.warmup;
    let stop_at = match plan.limit {
        Limit::Time(d) => Some(measure_from + d),
        Limit::Requests(_) => None,
    };
    let n = streams.len() as u64;
    let mut tasks = Vec::new();
    for (c, stream) in streams.into_iter().enumerate() {
        let c = c as u64;
        let share = Share {
            seed: plan.seed.wrapping_mul(1_000_003).wrapping_add(c),
            requests: match plan.limit {
                Limit::Requests(total) => Some(total * (c + 1) / n - total * c / n),
                Limit::Time(_) => None,
            },
            measure_from,
            stop_at,
        };
        let plan = plan.clone();
        let progress = progress.clone();
        let start_key = plan.keys.count * c / n;
        tasks.push(tokio::spawn(async move {
            match plan.rate {
                None => closed_loop(stream, &plan, share, start_key, progress).await,
                Some(rate) => {
                    open_loop(stream, &plan, share, start_key, rate / n as f64, progress).await
                }
            }
        }));
    }
    let mut stats = Stats::default();
    for t in tasks {
        stats.merge(
            &t.await
                .map_err(|e| format!("a connection task failed: {e}"))??,
        );
    }
    let measured = Instant::now().saturating_duration_since(measure_from);
    let elapsed = match plan.limit {
        Limit::Time(d) => d.min(measured),
        Limit::Requests(_) => measured,
    };
    Ok((stats, elapsed))
}

/// What a connection draws for each request: the command, its key, whether to check it.
struct Drawer {
    rng: rand::rngs::StdRng,
    sampler: crate::dist::KeySampler,
    reads: u64,
}

impl Drawer {
    fn new(plan: &Plan, seed: u64, start_key: u64) -> Drawer {
        Drawer {
            rng: rand::rngs::StdRng::seed_from_u64(seed),
            sampler: plan.dist.sampler(plan.keys.count, start_key),
            reads: 0,
        }
    }

    fn next(&mut self, plan: &Plan, out: &mut BytesMut, scratch: &mut Scratch) -> Sent {
        let command = plan.mix.pick(&mut self.rng);
        let index = self.sampler.next(&mut self.rng);
        let read = matches!(
            command,
            Command::Get | Command::Mget | Command::Hget | Command::Zscore
        );
        let verify = read && plan.verify_every > 0 && {
            self.reads += 1;
            self.reads % plan.verify_every == 0
        };
        workload::encode(&plan.keys, command, index, out, scratch);
        Sent {
            command,
            index,
            verify,
        }
    }
}

async fn closed_loop(
    mut stream: TcpStream,
    plan: &Plan,
    share: Share,
    start_key: u64,
    progress: Progress,
) -> Result<Stats, Error> {
    let mut drawer = Drawer::new(plan, share.seed, start_key);
    let mut stats = Stats::default();
    let (mut out, mut inbuf) = (BytesMut::new(), BytesMut::new());
    let mut scratch = Scratch::default();
    let mut sent = Vec::with_capacity(plan.pipeline);
    let mut measured = 0u64;
    loop {
        let now = Instant::now();
        if share.stop_at.is_some_and(|s| now >= s) || share.requests.is_some_and(|r| measured >= r)
        {
            break;
        }
        let counting = now >= share.measure_from;
        let batch = match share.requests {
            Some(r) if counting => plan.pipeline.min((r - measured) as usize),
            _ => plan.pipeline,
        }
        .max(1);
        out.clear();
        sent.clear();
        for _ in 0..batch {
            sent.push(drawer.next(plan, &mut out, &mut scratch));
        }
        let began = Instant::now();
        stream
            .write_all(&out)
            .await
            .map_err(|e| format!("sending: {e}"))?;
        for s in &sent {
            let reply = read_reply(&mut stream, &mut inbuf).await?;
            let latency = began.elapsed();
            if counting {
                let verdict = workload::check(&plan.keys, s, &reply, plan.loaded, &mut scratch);
                stats.record(s.command, latency, verdict);
            }
        }
        if counting {
            measured += batch as u64;
            progress.fetch_add(batch as u64, Ordering::Relaxed);
        }
    }
    Ok(stats)
}

async fn open_loop(
    stream: TcpStream,
    plan: &Plan,
    share: Share,
    start_key: u64,
    rate: f64,
    progress: Progress,
) -> Result<Stats, Error> {
    let interval = Duration::from_secs_f64(1.0 / rate.max(1e-3));
    let (mut rx, mut tx) = stream.into_split();
    let (due_tx, mut due_rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, Sent)>();
    let writer = {
        let plan = plan.clone();
        let stop_at = share.stop_at;
        let limit = share.requests;
        let warmup = share.measure_from;
        tokio::spawn(async move {
            let mut drawer = Drawer::new(&plan, share.seed, start_key);
            let mut scratch = Scratch::default();
            let mut out = BytesMut::new();
            let t0 = Instant::now();
            let mut k = 0u64;
            let mut measured = 0u64;
            loop {
                let due = t0 + interval.mul_f64(k as f64);
                if stop_at.is_some_and(|s| due >= s) || limit.is_some_and(|l| measured >= l) {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
                // Everything due by now leaves in one write.
                out.clear();
                let now = Instant::now();
                let mut batch = VecDeque::new();
                loop {
                    let due = t0 + interval.mul_f64(k as f64);
                    if due > now
                        || stop_at.is_some_and(|s| due >= s)
                        || limit.is_some_and(|l| measured >= l)
                    {
                        break;
                    }
                    batch.push_back((due, drawer.next(&plan, &mut out, &mut scratch)));
                    if due >= warmup {
                        measured += 1;
                    }
                    k += 1;
                }
                tx.write_all(&out)
                    .await
                    .map_err(|e| format!("sending: {e}"))?;
                for item in batch {
                    if due_tx.send(item).is_err() {
                        return Ok(());
                    }
                }
            }
            Ok::<(), Error>(())
        })
    };
    let mut stats = Stats::default();
    let mut inbuf = BytesMut::new();
    let mut scratch = Scratch::default();
    while let Some((due, sent)) = due_rx.recv().await {
        let reply = read_reply(&mut rx, &mut inbuf).await?;
        if due >= share.measure_from {
            let verdict = workload::check(&plan.keys, &sent, &reply, plan.loaded, &mut scratch);
            // From when the request was due, not when it left: a late send is the server's.
            stats.record(sent.command, due.elapsed(), verdict);
            progress.fetch_add(1, Ordering::Relaxed);
        }
    }
    writer
        .await
        .map_err(|e| format!("the sending task failed: {e}"))??;
    Ok(stats)
}
