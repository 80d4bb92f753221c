//! The cold-load path end to end, in process: a server started with `server::start` (tiering
//! on, RocksDB profile `default`, in a temporary directory) holding 20,000 values of 1 KiB, all
//! demoted to RocksDB and flushed to SST files. Each iteration sends `GET` of a cold key over
//! loopback TCP and reads the value (dispatch finds the key cold, the reader pool reads it, the
//! command runs again with it); the key is made cold again afterwards, outside the timing (a
//! clean demotion: no write). `hot_get` is the same GET of a value in RAM, for the difference;
//! `cargo bench --bench rocksdb_direct` gives RocksDB's own point-get time, the ceiling.
//!
//! Run with `cargo bench --bench cold_load`; not part of CI.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use thermocline::config::Config;

/// The allocator the server binary uses, so that allocation costs match.
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const KEYS: usize = 20_000;
const VALUE: usize = 1024;

/// A blocking RESP client for one command at a time.
struct Conn {
    out: TcpStream,
    input: BufReader<TcpStream>,
}

impl Conn {
    fn new(addr: std::net::SocketAddr) -> Conn {
        let out = TcpStream::connect(addr).expect("connect");
        out.set_nodelay(true).expect("nodelay");
        let input = BufReader::new(out.try_clone().expect("clone"));
        Conn { out, input }
    }

    fn send(&mut self, args: &[&[u8]]) {
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            req.extend_from_slice(a);
            req.extend_from_slice(b"\r\n");
        }
        self.out.write_all(&req).expect("send");
    }

    /// Reads one reply: a line, and for a bulk string its bytes. Returns the line.
    fn reply(&mut self) -> String {
        let mut line = String::new();
        self.input.read_line(&mut line).expect("reply");
        if let Some(n) = line
            .strip_prefix('$')
            .and_then(|n| n.trim().parse::<usize>().ok())
        {
            let mut body = vec![0; n + 2];
            self.input.read_exact(&mut body).expect("bulk reply");
        }
        assert!(!line.starts_with('-'), "error reply: {line}");
        line
    }

    fn call(&mut self, args: &[&[u8]]) -> String {
        self.send(args);
        self.reply()
    }
}

fn key(i: usize) -> Vec<u8> {
    format!("key:{i:08}").into_bytes()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::default();
    for (name, value) in [
        ("port", "0"),
        ("bind", "127.0.0.1"),
        ("dir", dir.path().to_str().expect("utf-8 path")),
        ("tiering", "yes"),
    ] {
        config.set(name, value, false).expect("option");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let handle = runtime
        .block_on(thermocline::server::start(config))
        .expect("server starts");
    let mut conn = Conn::new(handle.addr());
    let deadline = Instant::now() + Duration::from_secs(30);
    while conn.call(&[b"PING"]).starts_with("-LOADING") && Instant::now() < deadline {}

    let value = vec![b'v'; VALUE];
    for i in 0..KEYS {
        conn.send(&[b"SET", &key(i), &value]);
    }
    for _ in 0..KEYS {
        conn.reply();
    }
    for i in 0..KEYS {
        conn.send(&[b"TIERING", b"DEMOTE", &key(i)]);
    }
    for _ in 0..KEYS {
        conn.reply();
    }
    conn.call(&[b"TIERING", b"FLUSH-MEMTABLES"]);
    conn.call(&[b"SET", b"hot", &value]);

    let mut group = c.benchmark_group("cold_load_1k");
    let mut next = 0usize;
    group.bench_function("cold_get", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let k = key(next % KEYS);
                next += 7919;
                let started = Instant::now();
                let line = conn.call(&[b"GET", &k]);
                total += started.elapsed();
                assert!(line.starts_with('$'), "{line}");
                conn.call(&[b"TIERING", b"DEMOTE", &k]);
            }
            total
        })
    });
    group.bench_function("hot_get", |b| b.iter(|| conn.call(&[b"GET", b"hot"])));
    group.finish();
    drop(conn);
    handle.server.shutdown();
    runtime.shutdown_timeout(Duration::from_secs(5));
}

criterion_group!(benches, bench);
criterion_main!(benches);
