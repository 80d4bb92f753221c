//! Tiering: values move to RocksDB over maxmemory and come back unchanged, whatever the
//! commands do meanwhile; commands that need only what a key's entry knows never read the
//! disk; pure-memory mode evicts as Redis does.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::TestServer;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn info_field(c: &mut redis::Connection, section: &str, field: &str) -> i64 {
    let info: String = redis::cmd("INFO").arg(section).query(c).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as i64)
        .unwrap_or_else(|| panic!("{field} in INFO {section}:\n{info}"))
}

/// Sets maxmemory to what the server uses now plus `headroom` bytes.
fn limit_memory(c: &mut redis::Connection, headroom: i64) -> i64 {
    let used = info_field(c, "memory", "used_memory");
    let limit = used + headroom;
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg(limit)
        .query(c)
        .unwrap();
    limit
}

fn status(c: &mut redis::Connection, key: &str) -> String {
    let v: HashMap<String, redis::Value> = redis::cmd("TIERING")
        .arg("STATUS")
        .arg(key)
        .query(c)
        .unwrap();
    match v.get("state") {
        Some(redis::Value::BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("state: {other:?}"),
    }
}

fn demote(c: &mut redis::Connection, key: &str) -> i64 {
    redis::cmd("TIERING")
        .arg("DEMOTE")
        .arg(key)
        .query(c)
        .unwrap()
}

/// The value a key of each type holds in the dataset tests (`i` picks the key).
fn payload(i: usize, len: usize) -> String {
    let mut s = format!("{i}:");
    while s.len() < len {
        s.push_str(&format!("{:x}", (i * 2654435761) % 1_000_003 + s.len()));
    }
    s.truncate(len);
    s
}

/// Writes `n` keys spread over every type, returns nothing: [`check_dataset`] recomputes them.
fn write_dataset(c: &mut redis::Connection, n: usize) {
    let flush = |c: &mut redis::Connection, pipe: &redis::Pipeline| {
        if let Err(e) = pipe.query::<()>(c) {
            let info: String = redis::cmd("INFO").arg("everything").query(c).unwrap();
            panic!(
                "{}\n{info}",
                e.to_string().chars().take(200).collect::<String>()
            );
        }
    };
    let mut pipe = redis::pipe();
    for i in 0..n {
        match i % 5 {
            0 => {
                pipe.cmd("SET").arg(format!("s:{i}")).arg(payload(i, 4000));
            }
            1 => {
                for f in 0..10 {
                    pipe.cmd("HSET")
                        .arg(format!("h:{i}"))
                        .arg(format!("f{f}"))
                        .arg(payload(i + f, 400));
                }
            }
            2 => {
                for e in 0..10 {
                    pipe.cmd("RPUSH")
                        .arg(format!("l:{i}"))
                        .arg(payload(i * 7 + e, 400));
                }
            }
            3 => {
                for e in 0..10 {
                    pipe.cmd("SADD")
                        .arg(format!("t:{i}"))
                        .arg(payload(i * 11 + e, 400));
                }
            }
            _ => {
                for e in 0..10 {
                    pipe.cmd("ZADD")
                        .arg(format!("z:{i}"))
                        .arg(e as f64 * 1.5)
                        .arg(payload(i * 13 + e, 400));
                }
            }
        }
        if i % 200 == 199 {
            flush(c, &pipe);
            pipe = redis::pipe();
        }
    }
    if n % 200 != 0 {
        flush(c, &pipe);
    }
}

fn check_dataset(c: &mut redis::Connection, n: usize) {
    for i in 0..n {
        match i % 5 {
            0 => {
                let v: String = redis::cmd("GET").arg(format!("s:{i}")).query(c).unwrap();
                assert_eq!(v, payload(i, 4000), "string s:{i}");
            }
            1 => {
                let v: HashMap<String, String> = redis::cmd("HGETALL")
                    .arg(format!("h:{i}"))
                    .query(c)
                    .unwrap();
                assert_eq!(v.len(), 10, "hash h:{i}");
                for f in 0..10 {
                    assert_eq!(v[&format!("f{f}")], payload(i + f, 400), "hash h:{i} f{f}");
                }
            }
            2 => {
                let v: Vec<String> = redis::cmd("LRANGE")
                    .arg(format!("l:{i}"))
                    .arg(0)
                    .arg(-1)
                    .query(c)
                    .unwrap();
                let want: Vec<String> = (0..10).map(|e| payload(i * 7 + e, 400)).collect();
                assert_eq!(v, want, "list l:{i}");
            }
            3 => {
                let mut v: Vec<String> = redis::cmd("SMEMBERS")
                    .arg(format!("t:{i}"))
                    .query(c)
                    .unwrap();
                let mut want: Vec<String> = (0..10).map(|e| payload(i * 11 + e, 400)).collect();
                v.sort();
                want.sort();
                assert_eq!(v, want, "set t:{i}");
            }
            _ => {
                let v: Vec<(String, f64)> = redis::cmd("ZRANGE")
                    .arg(format!("z:{i}"))
                    .arg(0)
                    .arg(-1)
                    .arg("WITHSCORES")
                    .query(c)
                    .unwrap();
                let want: Vec<(String, f64)> = (0..10)
                    .map(|e| (payload(i * 13 + e, 400), e as f64 * 1.5))
                    .collect();
                assert_eq!(v, want, "zset z:{i}");
            }
        }
    }
}

#[test]
fn a_dataset_ten_times_maxmemory_reads_back_unchanged() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    // About 4 KB per key: 25,000 keys are about 100 MB against about 12 MB of maxmemory (the
    // keys themselves, which stay in RAM, take about 4 MB of it).
    let limit = limit_memory(&mut c, 10 << 20);
    write_dataset(&mut c, 25_000);
    let cold = info_field(&mut c, "tiering", "cold_keys");
    assert!(cold > 20_000, "most values went cold: {cold}");
    let used = info_field(&mut c, "memory", "used_memory");
    // Demotion keeps up with writes to within a few batches of the limit.
    assert!(
        used < limit + (8 << 20),
        "used {used} against a limit of {limit}"
    );
    let digest_before: String = redis::cmd("DEBUG").arg("DIGEST").query(&mut c).unwrap();
    check_dataset(&mut c, 25_000);
    let loads = info_field(&mut c, "tiering", "loads");
    assert!(loads > 20_000, "reading cold values loaded them: {loads}");
    let digest_after: String = redis::cmd("DEBUG").arg("DIGEST").query(&mut c).unwrap();
    assert_eq!(digest_before, digest_after, "reading changed nothing");
    let dbsize: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(dbsize, 25_000, "no key was dropped");
}

#[test]
fn metadata_commands_leave_cold_values_on_disk() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let big = "v".repeat(500);
    for k in ["a", "b", "c", "d"] {
        let _: () = redis::cmd("SET").arg(k).arg(&big).query(&mut c).unwrap();
        assert_eq!(demote(&mut c, k), 1);
        assert_eq!(status(&mut c, k), "cold");
    }
    let loads =
        info_field(&mut c, "tiering", "loads") + info_field(&mut c, "tiering", "sync_loads");
    let n: i64 = redis::cmd("EXISTS")
        .arg("a")
        .arg("b")
        .query(&mut c)
        .unwrap();
    assert_eq!(n, 2);
    let t: String = redis::cmd("TYPE").arg("a").query(&mut c).unwrap();
    assert_eq!(t, "string");
    let _: i64 = redis::cmd("EXPIRE")
        .arg("a")
        .arg(100)
        .query(&mut c)
        .unwrap();
    let ttl: i64 = redis::cmd("TTL").arg("a").query(&mut c).unwrap();
    assert!((99..=100).contains(&ttl));
    let _: i64 = redis::cmd("PERSIST").arg("a").query(&mut c).unwrap();
    let _: i64 = redis::cmd("TOUCH").arg("a").query(&mut c).unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut c).unwrap();
    assert_eq!(keys.len(), 4);
    let (_, scanned): (String, Vec<String>) = redis::cmd("SCAN")
        .arg(0)
        .arg("TYPE")
        .arg("string")
        .arg("COUNT")
        .arg(100)
        .query(&mut c)
        .unwrap();
    assert_eq!(scanned.len(), 4);
    let _: String = redis::cmd("RANDOMKEY").query(&mut c).unwrap();
    let _: () = redis::cmd("SET").arg("b").arg("new").query(&mut c).unwrap();
    let n: i64 = redis::cmd("DEL").arg("c").query(&mut c).unwrap();
    assert_eq!(n, 1);
    let after =
        info_field(&mut c, "tiering", "loads") + info_field(&mut c, "tiering", "sync_loads");
    assert_eq!(after, loads, "none of these read a cold value");
    assert_eq!(status(&mut c, "a"), "cold");
    assert_eq!(status(&mut c, "d"), "cold");
    let b: String = redis::cmd("GET").arg("b").query(&mut c).unwrap();
    assert_eq!(b, "new");
    let a: String = redis::cmd("GET").arg("a").query(&mut c).unwrap();
    assert_eq!(a, big);
    // Deleting and expiring cold keys deletes their records.
    let _: i64 = redis::cmd("PEXPIRE")
        .arg("d")
        .arg(20)
        .query(&mut c)
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let deadline = Instant::now() + Duration::from_secs(5);
    while info_field(&mut c, "tiering", "cold_deletes") < 2 {
        assert!(
            Instant::now() < deadline,
            "records of deleted keys are deleted"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let n: i64 = redis::cmd("EXISTS").arg("d").query(&mut c).unwrap();
    assert_eq!(n, 0);
}

/// SWAPDB with values of both databases on disk, under the same key names: each database
/// keeps reading its own values, writes and demotions after the swap land in the right place,
/// and flushing one database afterwards deletes its records only.
#[test]
fn swapdb_swaps_cold_values_with_their_databases() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let value = |db: usize, i: usize| format!("{db}:{i}:{}", "x".repeat(200));
    let select = |c: &mut redis::Connection, db: usize| {
        let _: () = redis::cmd("SELECT").arg(db).query(c).unwrap();
    };
    for db in [0, 1] {
        select(&mut c, db);
        for i in 0..20 {
            let key = format!("k{i}");
            let _: () = redis::cmd("SET")
                .arg(&key)
                .arg(value(db, i))
                .query(&mut c)
                .unwrap();
            assert_eq!(demote(&mut c, &key), 1);
        }
    }
    let digest = |c: &mut redis::Connection| -> String {
        redis::cmd("DEBUG").arg("DIGEST").query(c).unwrap()
    };
    let before = digest(&mut c);

    let _: () = redis::cmd("SWAPDB").arg(0).arg(1).query(&mut c).unwrap();
    select(&mut c, 0);
    assert_eq!(status(&mut c, "k0"), "cold");
    let got: String = redis::cmd("GET").arg("k0").query(&mut c).unwrap();
    assert_eq!(got, value(1, 0), "db 0 reads what db 1 held");
    // A write and a demotion after the swap, then a flush of the other database.
    let _: () = redis::cmd("SET")
        .arg("k1")
        .arg(value(7, 1))
        .query(&mut c)
        .unwrap();
    assert_eq!(demote(&mut c, "k1"), 1);
    select(&mut c, 1);
    let got: String = redis::cmd("GET").arg("k2").query(&mut c).unwrap();
    assert_eq!(got, value(0, 2), "db 1 reads what db 0 held");
    let _: () = redis::cmd("FLUSHDB").query(&mut c).unwrap();
    let _: () = redis::cmd("SET")
        .arg("k3")
        .arg(value(8, 3))
        .query(&mut c)
        .unwrap();
    assert_eq!(demote(&mut c, "k3"), 1);
    select(&mut c, 0);
    for i in 0..20 {
        let key = format!("k{i}");
        let want = if i == 1 { value(7, 1) } else { value(1, i) };
        let got: String = redis::cmd("GET").arg(&key).query(&mut c).unwrap();
        assert_eq!(
            got, want,
            "{key} in db 0 after the other database was flushed"
        );
        assert_eq!(demote(&mut c, &key), 1);
    }

    // Swapping back and forth changes nothing.
    let mid = digest(&mut c);
    assert_ne!(mid, before);
    for _ in 0..2 {
        let _: () = redis::cmd("SWAPDB").arg(1).arg(0).query(&mut c).unwrap();
    }
    assert_eq!(digest(&mut c), mid);
    select(&mut c, 1);
    let got: String = redis::cmd("GET").arg("k3").query(&mut c).unwrap();
    assert_eq!(got, value(8, 3));
    let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(n, 1);
}

fn error_text(r: redis::RedisResult<redis::Value>) -> String {
    match r {
        Err(e) => e.to_string(),
        Ok(redis::Value::ServerError(e)) => format!("{e:?}"),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

/// RocksDB I/O errors (injected with DEBUG TIERING-FAULT): a failed load answers that command
/// with the cause and leaves the key cold and readable afterwards, on every load path (a
/// single read, a multi-get, a script's synchronous read); a failed demotion leaves the value
/// hot, is counted and logged, and a later demotion succeeds.
#[test]
fn rocksdb_errors_fail_the_command_and_keep_the_data() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let value = |k: &str| format!("{k}:{}", "v".repeat(300));
    for k in ["a", "b", "c", "d"] {
        let _: () = redis::cmd("SET")
            .arg(k)
            .arg(value(k))
            .query(&mut c)
            .unwrap();
        assert_eq!(demote(&mut c, k), 1);
    }
    let fault = |c: &mut redis::Connection, kind: &str, n: u32| {
        let _: () = redis::cmd("DEBUG")
            .arg("TIERING-FAULT")
            .arg(kind)
            .arg(n)
            .query(c)
            .unwrap();
    };
    let errors_before = info_field(&mut c, "tiering", "load_errors");

    // One read: the command fails with the cause, the key stays cold and reads later.
    fault(&mut c, "READS", 1);
    let e = error_text(redis::cmd("GET").arg("a").query(&mut c));
    assert!(e.contains("injected"), "{e}");
    assert_eq!(status(&mut c, "a"), "cold");
    let got: String = redis::cmd("GET").arg("a").query(&mut c).unwrap();
    assert_eq!(got, value("a"));

    // A multi-get.
    fault(&mut c, "READS", 1);
    let e = error_text(redis::cmd("MGET").arg("b").arg("c").query(&mut c));
    assert!(e.contains("injected"), "{e}");
    assert_eq!(status(&mut c, "b"), "cold");
    let got: Vec<String> = redis::cmd("MGET").arg("b").arg("c").query(&mut c).unwrap();
    assert_eq!(got, vec![value("b"), value("c")]);

    // A script's read of a key it did not declare (read synchronously under the lock).
    fault(&mut c, "READS", 1);
    let script = "return redis.call('GET', 'd')";
    let e = error_text(redis::cmd("EVAL").arg(script).arg(0).query(&mut c));
    assert!(e.contains("injected"), "{e}");
    assert_eq!(status(&mut c, "d"), "cold");
    let got: String = redis::cmd("EVAL").arg(script).arg(0).query(&mut c).unwrap();
    assert_eq!(got, value("d"));
    assert!(info_field(&mut c, "tiering", "load_errors") >= errors_before + 3);

    // A demotion whose write fails: the value stays hot, the error is counted and logged.
    let _: () = redis::cmd("SET")
        .arg("w")
        .arg(value("w"))
        .query(&mut c)
        .unwrap();
    let demotion_errors = info_field(&mut c, "tiering", "demotion_errors");
    fault(&mut c, "WRITES", 1);
    let e = error_text(redis::cmd("TIERING").arg("DEMOTE").arg("w").query(&mut c));
    assert!(e.contains("stays in RAM"), "{e}");
    assert_eq!(status(&mut c, "w"), "hot");
    assert_eq!(
        info_field(&mut c, "tiering", "demotion_errors"),
        demotion_errors + 1
    );
    assert!(server.log().contains("injected by DEBUG TIERING-FAULT"));
    assert_eq!(demote(&mut c, "w"), 1);
    let got: String = redis::cmd("GET").arg("w").query(&mut c).unwrap();
    assert_eq!(got, value("w"));
}

/// A corrupt block in an SST file (bytes overwritten on disk under the running server): every
/// read either returns the value that was written or fails with RocksDB's cause; the keys
/// whose block is damaged stay cold, and can still be deleted.
#[test]
fn a_corrupt_sst_block_fails_loads_with_the_cause_and_never_returns_wrong_data() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let mut rng = StdRng::seed_from_u64(99);
    let n = 64;
    let values: Vec<Vec<u8>> = (0..n)
        .map(|_| {
            let mut v = vec![0u8; 4096];
            rng.fill(&mut v[..]);
            v
        })
        .collect();
    for (i, v) in values.iter().enumerate() {
        let key = format!("blk:{i}");
        let _: () = redis::cmd("SET").arg(&key).arg(v).query(&mut c).unwrap();
        assert_eq!(demote(&mut c, &key), 1);
    }
    let _: () = redis::cmd("TIERING")
        .arg("FLUSH-MEMTABLES")
        .query(&mut c)
        .unwrap();

    // The data family's table is the largest SST file: damage its middle half.
    let sst = std::fs::read_dir(server.dir.path().join("tiering"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sst"))
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .expect("an SST file after the flush");
    let len = std::fs::metadata(&sst).unwrap().len();
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::OpenOptions::new().write(true).open(&sst).unwrap();
        let mut at = len / 4;
        while at < len * 3 / 4 {
            f.seek(SeekFrom::Start(at)).unwrap();
            f.write_all(&[0xA5; 16]).unwrap();
            at += 1024;
        }
        f.sync_all().unwrap();
    }

    let mut failed = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let key = format!("blk:{i}");
        match redis::cmd("GET").arg(&key).query::<Vec<u8>>(&mut c) {
            Ok(got) => assert!(got == *v, "{key}: a read returned other bytes than written"),
            Err(e) => {
                let text = e.to_string();
                assert!(text.contains("Corruption"), "{key}: {text}");
                assert_eq!(status(&mut c, &key), "cold");
                failed.push(key);
            }
        }
    }
    assert!(!failed.is_empty(), "no read met the damaged blocks");
    let deleted: i64 = redis::cmd("DEL").arg(&failed).query(&mut c).unwrap();
    assert_eq!(deleted, failed.len() as i64);
    let dbsize: usize = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(dbsize, n - failed.len());
}

#[test]
fn transactions_scripts_and_multi_key_commands_load_what_they_name() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let mut keys = Vec::new();
    for i in 0..50 {
        let k = format!("k{i}");
        let _: () = redis::cmd("SET")
            .arg(&k)
            .arg(payload(i, 300))
            .query(&mut c)
            .unwrap();
        assert_eq!(demote(&mut c, &k), 1);
        keys.push(k);
    }
    let got: Vec<String> = redis::cmd("MGET").arg(&keys).query(&mut c).unwrap();
    let want: Vec<String> = (0..50).map(|i| payload(i, 300)).collect();
    assert_eq!(got, want);
    for k in &keys[..3] {
        assert_eq!(demote(&mut c, k), 1);
    }
    let (a, len): (String, i64) = redis::pipe()
        .atomic()
        .cmd("GET")
        .arg("k0")
        .cmd("APPEND")
        .arg("k1")
        .arg("!")
        .query(&mut c)
        .unwrap();
    assert_eq!(a, payload(0, 300));
    assert_eq!(len, 301);
    let v: String = redis::cmd("EVAL")
        .arg("return redis.call('GET', KEYS[1]) .. redis.call('GET', KEYS[2])")
        .arg(2)
        .arg("k2")
        .arg("k1")
        .query(&mut c)
        .unwrap();
    assert_eq!(v, format!("{}{}!", payload(2, 300), payload(1, 300)));
    // A key the script does not declare is read too (synchronously).
    assert_eq!(demote(&mut c, "k5"), 1);
    let v: String = redis::cmd("EVAL")
        .arg("return redis.call('GET', 'k5')")
        .arg(0)
        .query(&mut c)
        .unwrap();
    assert_eq!(v, payload(5, 300));
}

#[test]
fn second_hit_promotion_keeps_a_one_off_read_cold() {
    let server = TestServer::start(&["--tiering-promote-on", "second-hit"]);
    let mut c = server.client();
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("x".repeat(400))
        .query(&mut c)
        .unwrap();
    assert_eq!(demote(&mut c, "k"), 1);
    let v: String = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    assert_eq!(v.len(), 400);
    assert_eq!(status(&mut c, "k"), "cold", "a first read does not promote");
    let _: String = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    assert_eq!(status(&mut c, "k"), "hot", "a second read soon after does");
    // A write to a value loaded for one command keeps it hot (it is no longer on disk).
    let _: () = redis::cmd("SET")
        .arg("w")
        .arg("y".repeat(400))
        .query(&mut c)
        .unwrap();
    assert_eq!(demote(&mut c, "w"), 1);
    let _: i64 = redis::cmd("APPEND")
        .arg("w")
        .arg("z")
        .query(&mut c)
        .unwrap();
    assert_eq!(status(&mut c, "w"), "hot");
    let v: String = redis::cmd("GET").arg("w").query(&mut c).unwrap();
    assert_eq!(v, format!("{}z", "y".repeat(400)));
    // A script's declared keys are loaded before it starts and stay hot for it: it never
    // reads the disk itself (no synchronous load).
    let _: () = redis::cmd("SET")
        .arg("s")
        .arg("s".repeat(400))
        .query(&mut c)
        .unwrap();
    assert_eq!(demote(&mut c, "s"), 1);
    let sync_loads = info_field(&mut c, "tiering", "sync_loads");
    let n: i64 = redis::cmd("EVAL")
        .arg("return #redis.call('GET', KEYS[1])")
        .arg(1)
        .arg("s")
        .query(&mut c)
        .unwrap();
    assert_eq!(n, 400);
    assert_eq!(info_field(&mut c, "tiering", "sync_loads"), sync_loads);
}

/// Writes race demotions of the same keys: whatever interleaving, every read sees the last
/// value written, and a deleted key stays deleted.
#[test]
fn writes_deletes_and_expiry_racing_demotion_lose_nothing() {
    let server = TestServer::start(&[]);
    let url = server.url();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let demoter = {
        let stop = stop.clone();
        let url = url.clone();
        std::thread::spawn(move || {
            let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for k in 0..8 {
                    let _: redis::RedisResult<i64> = redis::cmd("TIERING")
                        .arg("DEMOTE")
                        .arg(format!("r{k}"))
                        .query(&mut c);
                    n += 1;
                }
            }
            n
        })
    };
    let mut c = server.client();
    let mut rng = StdRng::seed_from_u64(7);
    let mut model: HashMap<String, String> = HashMap::new();
    for round in 0..3000 {
        let k = format!("r{}", rng.gen_range(0..8));
        match rng.gen_range(0..6) {
            0 | 1 => {
                let v = payload(round, rng.gen_range(64..600));
                let _: () = redis::cmd("SET").arg(&k).arg(&v).query(&mut c).unwrap();
                model.insert(k, v);
            }
            2 => {
                let _: i64 = redis::cmd("APPEND").arg(&k).arg("+").query(&mut c).unwrap();
                model.entry(k).or_default().push('+');
            }
            3 => {
                let _: i64 = redis::cmd("DEL").arg(&k).query(&mut c).unwrap();
                model.remove(&k);
            }
            _ => {
                let v: Option<String> = redis::cmd("GET").arg(&k).query(&mut c).unwrap();
                assert_eq!(v.as_ref(), model.get(&k), "round {round}, key {k}");
            }
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let demotions = demoter.join().unwrap();
    assert!(demotions > 100);
    for (k, v) in &model {
        let got: Option<String> = redis::cmd("GET").arg(k).query(&mut c).unwrap();
        assert_eq!(got.as_ref(), Some(v), "key {k}");
    }
    let dbsize: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(dbsize as usize, model.len());
}

/// Random reads and writes from several connections at once while memory pressure demotes
/// constantly, each connection checking its own keys against a model; then everything again.
fn concurrent_model(extra: &[&str], tiering: bool) {
    let server = TestServer::start(extra);
    let mut c = server.client();
    if tiering {
        limit_memory(&mut c, 8 << 20);
    }
    let url = server.url();
    let workers: Vec<_> = (0..4u64)
        .map(|w| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                let mut rng = StdRng::seed_from_u64(1000 + w);
                let mut strings: HashMap<String, String> = HashMap::new();
                let mut lists: HashMap<String, Vec<String>> = HashMap::new();
                for step in 0..2500 {
                    let n = rng.gen_range(0..300);
                    let (sk, lk) = (format!("w{w}:s{n}"), format!("w{w}:l{n}"));
                    match rng.gen_range(0..8) {
                        0..=2 => {
                            let v = payload(step * 4 + w as usize, rng.gen_range(4000..20000));
                            if let Err(e) = redis::cmd("SET").arg(&sk).arg(&v).query::<()>(&mut c) {
                                let info: String =
                                    redis::cmd("INFO").arg("everything").query(&mut c).unwrap();
                                panic!("{e}\n{info}");
                            }
                            strings.insert(sk, v);
                        }
                        3 => {
                            let v = payload(step, 120);
                            let _: i64 =
                                redis::cmd("RPUSH").arg(&lk).arg(&v).query(&mut c).unwrap();
                            lists.entry(lk).or_default().push(v);
                        }
                        4 => {
                            let _: i64 = redis::cmd("DEL").arg(&sk).query(&mut c).unwrap();
                            strings.remove(&sk);
                        }
                        5 => {
                            let got: Vec<String> = redis::cmd("LRANGE")
                                .arg(&lk)
                                .arg(0)
                                .arg(-1)
                                .query(&mut c)
                                .unwrap();
                            assert_eq!(&got, lists.get(&lk).unwrap_or(&Vec::new()), "{lk}");
                        }
                        _ => {
                            let got: Option<String> =
                                redis::cmd("GET").arg(&sk).query(&mut c).unwrap();
                            assert_eq!(got.as_ref(), strings.get(&sk), "{sk} at step {step}");
                        }
                    }
                }
                (strings, lists)
            })
        })
        .collect();
    let models: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    for (strings, lists) in models {
        for (k, v) in strings {
            let got: Option<String> = redis::cmd("GET").arg(&k).query(&mut c).unwrap();
            assert_eq!(got, Some(v), "{k}");
        }
        for (k, v) in lists {
            let got: Vec<String> = redis::cmd("LRANGE")
                .arg(&k)
                .arg(0)
                .arg(-1)
                .query(&mut c)
                .unwrap();
            assert_eq!(got, v, "{k}");
        }
    }
    if tiering {
        assert!(
            info_field(&mut c, "tiering", "demotions") > 0,
            "demotion ran"
        );
    }
}

#[test]
fn concurrent_clients_match_a_model_while_demotion_runs() {
    concurrent_model(&[], true);
}

#[test]
fn pure_memory_mode_matches_the_same_model() {
    concurrent_model(&["--tiering", "no"], false);
}

/// Sustained writes of ten times maxmemory: the process's RSS stays within 1.15 x (maxmemory +
/// the RocksDB profile's budget), and jemalloc's active pages within 1.15 x maxmemory, sampled
/// every 20 ms while the writes run. Values are 16 KiB and incompressible: the allocation size
/// where jemalloc's cache-oblivious placement used to add a page per value that `used_memory`
/// does not see.
#[test]
fn rss_stays_under_the_memory_ceiling_during_sustained_writes() {
    const MAXMEMORY: u64 = 48 << 20;
    const SIZE: usize = 16 << 10;
    let server = TestServer::start(&[
        "--maxmemory",
        &MAXMEMORY.to_string(),
        "--rocksdb-options-file",
        "low-memory",
    ]);
    let mut c = server.client();
    let budget = info_field(&mut c, "tiering", "rocksdb_memory_budget") as u64;
    let ceiling = (MAXMEMORY + budget) * 115 / 100;

    let done = std::sync::atomic::AtomicBool::new(false);
    let n = (10 * MAXMEMORY) as usize / SIZE;
    let peak = std::thread::scope(|s| {
        let sampler = s.spawn(|| {
            let mut c = server.client();
            let (mut rss, mut active) = (0, 0);
            loop {
                let last = done.load(std::sync::atomic::Ordering::Relaxed);
                rss = server.rss().max(rss);
                active = active.max(info_field(&mut c, "memory", "allocator_active") as u64);
                if last {
                    return (rss, active);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let mut rng = StdRng::seed_from_u64(16);
        for start in (0..n).step_by(64) {
            let mut pipe = redis::pipe();
            for i in start..(start + 64).min(n) {
                let mut value = vec![0u8; SIZE];
                rng.fill(&mut value[..]);
                pipe.cmd("SET").arg(format!("big:{i}")).arg(value).ignore();
            }
            pipe.query::<()>(&mut c).unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        sampler.join().unwrap()
    });
    let dbsize: usize = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(dbsize, n);
    assert!(info_field(&mut c, "tiering", "cold_keys") > 0);
    let (rss, active) = peak;
    assert!(
        rss <= ceiling,
        "peak RSS {} MiB over the ceiling of 1.15 x ({} MiB + {} MiB) = {} MiB",
        rss >> 20,
        MAXMEMORY >> 20,
        budget >> 20,
        ceiling >> 20
    );
    // The allocator's own pages (RocksDB aside) stay near maxmemory too: this is where a
    // per-allocation overhead that used_memory misses would show.
    assert!(
        active <= MAXMEMORY * 115 / 100,
        "jemalloc held {} MiB of active pages against maxmemory {} MiB",
        active >> 20,
        MAXMEMORY >> 20
    );
}

#[test]
fn writes_get_oom_when_even_the_keys_do_not_fit() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let _: () = redis::cmd("SET")
        .arg("kept")
        .arg("v".repeat(300))
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg(1)
        .query(&mut c)
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let err = loop {
        match redis::cmd("SET")
            .arg(format!("new{}", rand::random::<u32>()))
            .arg("x")
            .query::<()>(&mut c)
        {
            Err(e) => break e,
            Ok(()) => assert!(Instant::now() < deadline, "writes are refused eventually"),
        }
    };
    assert_eq!(err.code(), Some("OOM"), "{err}");
    assert!(err
        .to_string()
        .contains("command not allowed when used memory > 'maxmemory'"));
    // Reads still work, and nothing written was dropped.
    let v: String = redis::cmd("GET").arg("kept").query(&mut c).unwrap();
    assert_eq!(v, "v".repeat(300));
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg(0)
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg("after")
        .arg("1")
        .query(&mut c)
        .unwrap();
}

#[test]
fn pure_memory_mode_evicts_by_policy() {
    for policy in [
        "allkeys-lru",
        "allkeys-lfu",
        "allkeys-random",
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        let server = TestServer::start(&["--tiering", "no", "--maxmemory-policy", policy]);
        let mut c = server.client();
        let _: () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("notify-keyspace-events")
            .arg("Ee")
            .query(&mut c)
            .unwrap();
        let limit = limit_memory(&mut c, 8 << 20);
        let volatile = policy.starts_with("volatile");
        // Nine keys in ten have a TTL; a volatile policy may only evict those.
        let mut pipe = redis::pipe();
        for i in 0..8000 {
            pipe.cmd("SET").arg(format!("k{i}")).arg(payload(i, 2000));
            if i % 10 != 0 {
                pipe.cmd("EXPIRE").arg(format!("k{i}")).arg(10_000 + i);
            }
            if i % 100 == 99 {
                if let Err(e) = pipe.query::<()>(&mut c) {
                    let info: String = redis::cmd("INFO").arg("everything").query(&mut c).unwrap();
                    let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
                    panic!(
                        "{policy}: batch ending {i}: {} keys; {}\n{info}",
                        n,
                        e.to_string().chars().take(200).collect::<String>()
                    );
                }
                pipe = redis::pipe();
            }
        }
        let evicted = info_field(&mut c, "stats", "evicted_keys");
        assert!(evicted > 1000, "{policy}: evicted {evicted}");
        let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
        assert!(n < 6000, "{policy}: {n} keys left");
        let used = info_field(&mut c, "memory", "used_memory");
        assert!(
            used < limit + (4 << 20),
            "{policy}: used {used}, limit {limit}"
        );
        if volatile {
            for i in (0..8000).step_by(10) {
                let n: i64 = redis::cmd("EXISTS")
                    .arg(format!("k{i}"))
                    .query(&mut c)
                    .unwrap();
                assert_eq!(n, 1, "{policy} kept k{i}, which has no TTL");
            }
        }
    }
    // noeviction refuses writes instead.
    let server = TestServer::start(&["--tiering", "no", "--maxmemory-policy", "noeviction"]);
    let mut c = server.client();
    limit_memory(&mut c, 4 << 20);
    let mut refused = None;
    for i in 0..10_000 {
        if let Err(e) = redis::cmd("SET")
            .arg(format!("k{i}"))
            .arg(payload(i, 2000))
            .query::<()>(&mut c)
        {
            refused = Some(e);
            break;
        }
    }
    let e = refused.expect("noeviction refuses writes over maxmemory");
    assert_eq!(e.code(), Some("OOM"));
    let n: i64 = redis::cmd("DEL").arg("k1").query(&mut c).unwrap();
    assert_eq!(n, 1, "deleting is still allowed");
}

#[test]
fn a_data_directory_of_another_format_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let tiering = dir.path().join("tiering");
    {
        let store = thermocline::tier::store::Store::open(&tiering, "default").unwrap();
        store
            .put_meta(
                thermocline::tier::store::FORMAT_VERSION_KEY,
                &7u32.to_be_bytes(),
            )
            .unwrap();
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_thermocline-server"))
        .args(["--port", "0", "--bind", "127.0.0.1", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success(), "the server must not start");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("format version 7") && text.contains("writes version 3"),
        "the refusal says which versions: {text}"
    );
}

/// A pipeline of reads of cold values is served with its cold keys fetched together: the
/// first command's load also reads the keys of the commands after it (`prefetched_keys`).
/// What the pipeline itself writes in between wins over what was fetched ahead: a key set,
/// deleted or changed by an earlier command of the same pipeline reads as that command left it.
#[test]
fn a_pipeline_fetches_its_cold_keys_together_and_its_own_writes_win() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let value = |i: usize| payload(i, 300);
    for i in 0..40 {
        let _: () = redis::cmd("SET")
            .arg(format!("k{i}"))
            .arg(value(i))
            .query(&mut c)
            .unwrap();
    }
    let _: i64 = redis::cmd("HSET")
        .arg("h")
        .arg("f")
        .arg(value(99))
        .query(&mut c)
        .unwrap();
    for i in 0..40 {
        assert_eq!(demote(&mut c, &format!("k{i}")), 1);
    }
    assert_eq!(demote(&mut c, "h"), 1);
    let loads_before = info_field(&mut c, "tiering", "loads");

    let mut pipe = redis::pipe();
    pipe.cmd("GET").arg("k0");
    // Written by the pipeline before it reads them: fetched ahead, but not what it must see.
    pipe.cmd("SET").arg("k1").arg("new").ignore();
    pipe.cmd("DEL").arg("k2").ignore();
    pipe.cmd("APPEND").arg("k3").arg("+").ignore();
    pipe.cmd("HSET").arg("h").arg("g").arg("2").ignore();
    for i in 1..40 {
        pipe.cmd("GET").arg(format!("k{i}"));
    }
    pipe.cmd("HGETALL").arg("h");
    type Replies = (Option<String>, Vec<Option<String>>, HashMap<String, String>);
    let (first, rest, hash): Replies = {
        let mut all: Vec<redis::Value> = pipe.query(&mut c).unwrap();
        let hash: HashMap<String, String> = redis::from_redis_value(all.pop().unwrap()).unwrap();
        let first: Option<String> = redis::from_redis_value(all.remove(0)).unwrap();
        let rest: Vec<Option<String>> = all
            .into_iter()
            .map(|v| redis::from_redis_value(v).unwrap())
            .collect();
        (first, rest, hash)
    };
    assert_eq!(first, Some(value(0)));
    assert_eq!(rest[0].as_deref(), Some("new"));
    assert_eq!(rest[1], None);
    assert_eq!(rest[2], Some(format!("{}+", value(3))));
    for i in 4..40 {
        assert_eq!(rest[i - 1], Some(value(i)), "k{i}");
    }
    assert_eq!(hash.len(), 2);
    assert_eq!(hash["f"], value(99));
    assert_eq!(hash["g"], "2");
    assert!(
        info_field(&mut c, "tiering", "prefetched_keys") >= 30,
        "the pipeline's cold keys were fetched ahead"
    );
    // Every cold value was read once, not once per round trip.
    let loads = info_field(&mut c, "tiering", "loads") - loads_before;
    assert!(loads <= 42, "{loads} loads for 41 cold values");
}
