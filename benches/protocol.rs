//! Microbenchmarks of the wire protocol: `RequestParser` on a pipelined batch of SET/GET
//! requests, and `protocol::encode` on typical replies in RESP2 and RESP3.
//!
//! Run with `cargo bench --bench protocol`; not part of CI.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use thermocline::protocol::{encode, Limits, Protocol, Reply, RequestParser};

const LIMITS: Limits = Limits {
    max_bulk_len: 512 * 1024 * 1024,
    authenticated: true,
};

/// `count` requests alternating `SET key:<i> <value>` and `GET key:<i>`, as a pipelining client
/// sends them.
fn pipeline(count: usize, value_len: usize) -> Vec<u8> {
    let value = vec![b'v'; value_len];
    let mut out = Vec::new();
    for i in 0..count {
        let key = format!("key:{i:08}");
        if i % 2 == 0 {
            out.extend_from_slice(b"*3\r\n$3\r\nSET\r\n");
            out.extend_from_slice(format!("${}\r\n{key}\r\n", key.len()).as_bytes());
            out.extend_from_slice(format!("${}\r\n", value.len()).as_bytes());
            out.extend_from_slice(&value);
            out.extend_from_slice(b"\r\n");
        } else {
            out.extend_from_slice(b"*2\r\n$3\r\nGET\r\n");
            out.extend_from_slice(format!("${}\r\n{key}\r\n", key.len()).as_bytes());
        }
    }
    out
}

fn parse_all(input: &[u8]) -> usize {
    let mut parser = RequestParser::new();
    let mut buf = BytesMut::from(input);
    let mut n = 0;
    while let Ok(Some(args)) = parser.parse(&mut buf, LIMITS) {
        n += args.len();
    }
    n
}

fn bench_parser(c: &mut Criterion) {
    let mut group = c.benchmark_group("request_parser");
    for (count, value_len) in [(1000, 16), (1000, 1024)] {
        let input = pipeline(count, value_len);
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function(
            format!("pipeline_{count}_set_get_value_{value_len}b"),
            |b| b.iter(|| parse_all(black_box(&input))),
        );
    }
    // The same batch arriving in 1460-byte segments, as over a real network.
    let input = pipeline(1000, 16);
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.bench_function("pipeline_1000_set_get_in_1460b_segments", |b| {
        b.iter(|| {
            let mut parser = RequestParser::new();
            let mut buf = BytesMut::new();
            let mut n = 0;
            for segment in input.chunks(1460) {
                buf.extend_from_slice(segment);
                while let Ok(Some(args)) = parser.parse(&mut buf, LIMITS) {
                    n += args.len();
                }
            }
            black_box(n)
        })
    });
    group.finish();
}

fn replies() -> Vec<(&'static str, Reply)> {
    vec![
        ("ok", Reply::Ok),
        ("int", Reply::Int(1_234_567)),
        ("bulk_64b", Reply::Bulk(Bytes::from(vec![b'v'; 64]))),
        ("nil", Reply::Nil),
        (
            "array_100_bulks",
            Reply::Array(
                (0..100)
                    .map(|i| Reply::Bulk(Bytes::from(format!("value:{i:08}"))))
                    .collect(),
            ),
        ),
        (
            "map_20_pairs",
            Reply::Map(
                (0..20)
                    .map(|i| (Reply::Bulk(Bytes::from(format!("field{i}"))), Reply::Int(i)))
                    .collect(),
            ),
        ),
    ]
}

fn bench_encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("reply_encode");
    for proto in [Protocol::Resp2, Protocol::Resp3] {
        for (name, reply) in replies() {
            group.bench_function(format!("{name}_resp{}", proto.version()), |b| {
                let mut out = BytesMut::with_capacity(4096);
                // `encode` takes the reply by value; cloning it is kept out of the measurement.
                b.iter_batched(
                    || reply.clone(),
                    |reply| {
                        out.clear();
                        encode(&mut out, reply, proto);
                        black_box(out.len())
                    },
                    BatchSize::SmallInput,
                )
            });
        }
    }
    // A pipeline's worth of GET replies into one output buffer.
    group.bench_function("pipeline_1000_bulk_64b_resp2", |b| {
        let value = Bytes::from(vec![b'v'; 64]);
        let mut out = BytesMut::with_capacity(128 * 1024);
        b.iter(|| {
            out.clear();
            for _ in 0..1000 {
                encode(&mut out, Reply::Bulk(value.clone()), Protocol::Resp2);
            }
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench_parser, bench_encode);
criterion_main!(benches);
