//! Value encoding and the cold records built from it: `codec::encode_to_vec` and
//! `codec::decode` of a 100-byte string, a 100-field hash and a 1,000-member sorted set; then
//! `tier::record::encode` and `decode` of a 1 KiB JSON-like string plain, zstd alone (level 3)
//! and zstd with a dictionary trained on 2,000 similar values (how small cold values are
//! stored), so that the cost of compression per demotion and per load is known.
//!
//! Run with `cargo bench --bench codec`; not part of CI.

use std::hint::black_box;
use std::sync::Arc;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use thermocline::tier::record::{self, Compression, Dictionaries, Trainer};
use thermocline::types::{codec, HashValue, Value, ZSetValue};

/// A JSON-like document of about `len` bytes, different for each `i`.
fn doc(i: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut n = i;
    while out.len() < len {
        n = n
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        out.extend_from_slice(
            format!(
                "{{\"id\":{i},\"user\":\"user{}\",\"score\":{},\"tags\":[\"a{}\",\"b\"]}}",
                n % 10_000,
                n % 1000,
                n % 37
            )
            .as_bytes(),
        );
    }
    out.truncate(len);
    out
}

fn values() -> Vec<(&'static str, Value)> {
    let mut hash = HashValue::new();
    for i in 0..100 {
        hash.insert(format!("field:{i}").as_bytes(), &doc(i, 40));
    }
    let pairs: Vec<(Bytes, f64)> = (0..1000)
        .map(|i| (Bytes::from(format!("member:{i}")), i as f64 * 1.5))
        .collect();
    let zset = ZSetValue::restore(pairs.into_iter(), true).expect("distinct members");
    vec![
        ("string_100b", Value::Str(Bytes::from(doc(1, 100)))),
        ("hash_100_fields", Value::Hash(Arc::new(hash))),
        ("zset_1000_members", Value::ZSet(Arc::new(zset))),
    ]
}

fn bench_codec(c: &mut Criterion) {
    let mut group = c.benchmark_group("codec");
    for (name, value) in values() {
        let encoded = codec::encode_to_vec(&value);
        group.throughput(Throughput::Bytes(encoded.len() as u64));
        group.bench_function(format!("encode/{name}"), |b| {
            b.iter(|| codec::encode_to_vec(black_box(&value)))
        });
        group.bench_function(format!("decode/{name}"), |b| {
            b.iter(|| codec::decode(black_box(&encoded)).expect("decodes"))
        });
    }
    group.finish();
}

fn bench_records(c: &mut Criterion) {
    let mut trainer = Trainer::new();
    for i in 0..2_000 {
        trainer.offer(&codec::encode_to_vec(&Value::Str(doc(i, 1024).into())));
    }
    let dict = trainer.train(1).expect("enough samples to train");
    let mut dicts = Dictionaries::default();
    let dict = Arc::new(dict);
    dicts.insert(dict.clone());
    let plain = codec::encode_to_vec(&Value::Str(doc(99_999, 1024).into()));
    let ways: [(&str, Compression, bool); 3] = [
        (
            "plain",
            Compression {
                level: 0,
                min_bytes: 0,
            },
            false,
        ),
        (
            "zstd3",
            Compression {
                level: 3,
                min_bytes: 0,
            },
            false,
        ),
        (
            "zstd_dictionary",
            Compression {
                level: 3,
                min_bytes: usize::MAX,
            },
            true,
        ),
    ];
    let mut group = c.benchmark_group("cold_record_1k_doc");
    group.throughput(Throughput::Bytes(plain.len() as u64));
    for (name, compression, with_dict) in ways {
        let d = with_dict.then_some(&*dict);
        let rec = record::encode(&plain, 7, compression, d);
        eprintln!("{name}: {} bytes -> {} bytes", plain.len(), rec.len());
        group.bench_function(format!("encode/{name}"), |b| {
            b.iter(|| record::encode(black_box(&plain), 7, compression, d))
        });
        group.bench_function(format!("decode/{name}"), |b| {
            b.iter(|| record::decode(black_box(&rec), &dicts).expect("decodes"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_codec, bench_records);
criterion_main!(benches);
