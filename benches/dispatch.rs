//! The in-process command path without the network: parse, dispatch (lookup, shard lock,
//! handler, statistics) and encode, for GET hits, GET misses and SET overwrites on a keyspace of
//! 100,000 keys with 100-byte values, keys chosen at random. This isolates the server's own cost
//! per command from the kernel's; docs/benchmarks.md explains what dominates it.
//!
//! Run with `cargo bench --bench dispatch`; not part of CI.

use std::sync::Arc;

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use thermocline::cmd::dispatch;
use thermocline::config::Config;
use thermocline::protocol::{encode, Limits, Protocol, RequestParser};
use thermocline::server::clients::{Client, ClientInfo};
use thermocline::server::Server;

/// The allocator the server binary uses, so that allocation costs match.
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const KEYS: u64 = 100_000;
const BATCH: u64 = 1_000;
const LIMITS: Limits = Limits {
    max_bulk_len: 512 * 1024 * 1024,
    authenticated: true,
};

fn client() -> Client {
    let addr = "127.0.0.1:1".parse().expect("address");
    Client::new(Arc::new(ClientInfo::new(1, addr, addr, 0, None)), true)
}

fn get(key: u64) -> Vec<u8> {
    let k = format!("key:{key:012}");
    format!("*2\r\n$3\r\nGET\r\n${}\r\n{k}\r\n", k.len()).into_bytes()
}

fn set(key: u64) -> Vec<u8> {
    let k = format!("key:{key:012}");
    let v = "x".repeat(100);
    format!("*3\r\n$3\r\nSET\r\n${}\r\n{k}\r\n$100\r\n{v}\r\n", k.len()).into_bytes()
}

/// Parses and runs every request in `input`, encoding the replies; returns the reply bytes.
fn run(server: &Server, client: &mut Client, input: &[u8]) -> usize {
    let mut parser = RequestParser::new();
    let mut buf = BytesMut::from(input);
    let mut out = BytesMut::with_capacity(64 * 1024);
    while let Ok(Some(args)) = parser.parse(&mut buf, LIMITS) {
        let (reply, _) = dispatch(server, client, args);
        encode(&mut out, reply, Protocol::Resp2);
    }
    server.stats.flush(&mut client.stats);
    out.len()
}

/// A batch of requests on pseudo-random keys (a fixed LCG, so runs compare).
fn batch(seed: &mut u64, offset: u64, make: fn(u64) -> Vec<u8>) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..BATCH {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        out.extend_from_slice(&make((*seed >> 33) % KEYS + offset));
    }
    out
}

fn bench(c: &mut Criterion) {
    let server = Server::new(Config::default());
    let mut client = client();
    let load: Vec<u8> = (0..KEYS).flat_map(set).collect();
    run(&server, &mut client, &load);

    let mut group = c.benchmark_group("dispatch");
    group.throughput(Throughput::Elements(BATCH));
    let mut seed = 42u64;
    group.bench_function("get_hit", |b| {
        b.iter_batched(
            || batch(&mut seed, 0, get),
            |input| run(&server, &mut client, &input),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("get_miss", |b| {
        b.iter_batched(
            || batch(&mut seed, KEYS, get),
            |input| run(&server, &mut client, &input),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("set_overwrite", |b| {
        b.iter_batched(
            || batch(&mut seed, 0, set),
            |input| run(&server, &mut client, &input),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
