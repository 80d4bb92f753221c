//! RocksDB alone, through the cold tier's `Store`: the baseline the tiered server is compared
//! against ("what RocksDB serves for the same keys"). Loads `TC_BENCH_KEYS` records (default
//! 200,000; 16-byte keys, `TC_BENCH_VALUE` bytes of values that do not compress, default
//! 1024) into a store opened with the
//! profile `TC_BENCH_PROFILE` (default `default`) in a temporary directory, flushes the
//! memtables, then measures uniform-random point gets through `Store::get` and multi-gets of 16
//! keys through `Store::multi_get`.
//!
//! Run with `cargo bench --bench rocksdb_direct`; not part of CI. Compare profiles with
//! `TC_BENCH_PROFILE=low-memory cargo bench --bench rocksdb_direct`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use thermocline::tier::store::{data_key, Put, Store};

/// The allocator the server binary uses, so that allocation costs match.
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const LOAD_BATCH: u64 = 1_000;
const MULTI_GET: usize = 16;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not valid")),
        Err(_) => default,
    }
}

/// A fixed LCG, so that runs compare.
fn next(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *seed >> 33
}

/// The RocksDB key of record `i`: a 16-byte key in one of 16,384 slots of database 0.
fn key(i: u64) -> Vec<u8> {
    data_key(0, (i % 16_384) as u16, format!("key:{i:012}").as_bytes())
}

/// `len` pseudo-random bytes, so that lz4 cannot shrink the data set below the cache.
fn value(seed: &mut u64, len: usize) -> Vec<u8> {
    (0..len).map(|_| next(seed) as u8).collect()
}

fn bench(c: &mut Criterion) {
    let keys: u64 = env_or("TC_BENCH_KEYS", 200_000);
    let profile: String = env_or("TC_BENCH_PROFILE", "default".to_string());
    let value_len: usize = env_or("TC_BENCH_VALUE", 1024);
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Store::open(dir.path(), &profile).expect("open the store");

    let mut seed = 7u64;
    let mut start = 0;
    while start < keys {
        let end = (start + LOAD_BATCH).min(keys);
        let puts: Vec<_> = (start..end)
            .map(|i| Put {
                key: key(i),
                record: Some(value(&mut seed, value_len)),
                // A typical index entry's size.
                index: vec![0; 16],
                elements: Default::default(),
            })
            .collect();
        store.write(&puts, &[]).expect("load");
        start = end;
    }
    store.flush().expect("flush");
    let stats = store.stats();
    eprintln!(
        "rocksdb_direct: {keys} keys, profile {profile}, live data {} MiB, memory budget {} MiB",
        stats.live_data_bytes >> 20,
        stats.memory_budget >> 20
    );

    let mut group = c.benchmark_group("rocksdb_direct");
    let mut seed = 42u64;
    group.throughput(Throughput::Elements(1));
    group.bench_function(format!("get/{profile}"), |b| {
        b.iter(|| {
            let k = key(next(&mut seed) % keys);
            black_box(store.get(&k).expect("get").expect("present"))
        })
    });
    group.throughput(Throughput::Elements(MULTI_GET as u64));
    group.bench_function(format!("multi_get_16/{profile}"), |b| {
        b.iter(|| {
            let ks: Vec<Vec<u8>> = (0..MULTI_GET)
                .map(|_| key(next(&mut seed) % keys))
                .collect();
            black_box(store.multi_get(&ks))
        })
    });
    group.finish();

    let stats = store.stats();
    eprintln!(
        "rocksdb_direct: block cache {} of {} MiB used, {} hits, {} misses",
        stats.block_cache_usage >> 20,
        stats.block_cache_capacity >> 20,
        stats.block_cache_hits,
        stats.block_cache_misses
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
