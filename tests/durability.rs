//! Durability: with `appendonly yes` every acknowledged write survives a restart or a crash
//! (SIGKILL), a damaged binlog tail is cut off, damage before it stops the start unless
//! `--repair`, clients get -LOADING while the log is replayed and -MISCONF while it cannot be
//! written.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::TestServer;
use rand::{Rng, SeedableRng};

/// A server on `data` with the binlog on, plus `extra` options.
fn start(data: &Path, extra: &[&str]) -> TestServer {
    let mut args = vec!["--dir", data.to_str().unwrap(), "--appendonly", "yes"];
    args.extend_from_slice(extra);
    TestServer::start(&args)
}

/// [`start`], a client, and the wait for the binlog's replay.
fn open(data: &Path, extra: &[&str]) -> (TestServer, redis::Connection) {
    let server = start(data, extra);
    let mut c = server.client();
    wait_loaded(&mut c);
    (server, c)
}

/// Waits until the server has replayed its binlog (PING answers instead of -LOADING).
fn wait_loaded(c: &mut redis::Connection) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match redis::cmd("PING").query::<String>(c) {
            Ok(_) => return,
            Err(e) if is_loading(&e) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(e) => panic!("{e}"),
        }
    }
}

/// Redis's -LOADING error (the `redis` crate names it BusyLoading).
fn is_loading(e: &redis::RedisError) -> bool {
    e.to_string()
        .contains("Redis is loading the dataset in memory")
}

/// INFO persistence's `aof_current_size`: bytes of binlog kept.
fn binlog_size(c: &mut redis::Connection) -> u64 {
    let info: String = q(c, &["INFO", "persistence"]);
    info.lines()
        .find_map(|l| l.strip_prefix("aof_current_size:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("aof_current_size in:\n{info}"))
}

/// Starts the binary on `data` with `extra` options, expecting it to refuse to start (exit code
/// 1); returns what it printed.
fn refused_start(data: &Path, extra: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_thermocline-server"))
        .args(["--port", "0", "--bind", "127.0.0.1", "--dir"])
        .arg(data)
        .args(extra)
        .output()
        .unwrap();
    let log =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{log}");
    log
}

/// Stops the server with SHUTDOWN NOSAVE: the binlog is synced, but no last checkpoint is
/// taken, so the next start replays the binlog (tests that damage it use this).
fn stop_nosave(server: &mut TestServer, c: &mut redis::Connection) {
    let _ = redis::cmd("SHUTDOWN").arg("NOSAVE").query::<()>(c);
    assert_eq!(server.wait_exit(Duration::from_secs(10)), Some(0));
}

fn digest(c: &mut redis::Connection) -> String {
    redis::cmd("DEBUG").arg("DIGEST").query(c).unwrap()
}

fn segments(data: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(data.join("appendonlydir"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "binlog"))
        .collect();
    v.sort();
    v
}

fn q<T: redis::FromRedisValue>(c: &mut redis::Connection, args: &[&str]) -> T {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c)
        .unwrap_or_else(|e| panic!("{}: {e}", args.join(" ")))
}

/// Every type, TTLs, several databases, a transaction, a script, SWAPDB, FLUSHDB, deletes and
/// expiry: after a clean restart the dataset is the same (DEBUG DIGEST) and TTLs still count
/// down from the same deadlines.
#[test]
fn a_restart_replays_the_dataset_exactly() {
    let data = tempfile::tempdir().unwrap();
    let (mut server, mut c) = open(data.path(), &["--binlog-segment-bytes", "4096"]);
    for i in 0..300 {
        let k = format!("k{i}");
        let _: () = q(&mut c, &["SET", &k, &format!("v{i}")]);
        let _: i64 = q(
            &mut c,
            &["HSET", &format!("h{}", i % 7), &k, &i.to_string()],
        );
        let _: i64 = q(&mut c, &["RPUSH", &format!("l{}", i % 5), &k]);
        let _: i64 = q(&mut c, &["SADD", &format!("s{}", i % 3), &k]);
        let _: i64 = q(&mut c, &["ZADD", "z", &i.to_string(), &k]);
    }
    let _: i64 = q(&mut c, &["INCRBY", "counter", "41"]);
    let _: f64 = q(&mut c, &["INCRBYFLOAT", "float", "1.5"]);
    let _: Vec<String> = q(&mut c, &["SPOP", "s0", "3"]);
    let _: i64 = q(&mut c, &["DEL", "k1", "k2"]);
    let _: i64 = q(&mut c, &["EXPIRE", "k3", "1000"]);
    let _: () = q(&mut c, &["SET", "gone", "x", "PX", "1"]);
    let _: () = q(&mut c, &["SET", "ttl", "x", "EX", "5000"]);
    let _: () = q(&mut c, &["SELECT", "3"]);
    let _: () = q(&mut c, &["SET", "in3", "three"]);
    let _: () = q(&mut c, &["SELECT", "4"]);
    let _: () = q(&mut c, &["SET", "in4", "four"]);
    let _: () = q(&mut c, &["SWAPDB", "3", "4"]);
    let _: () = q(&mut c, &["SELECT", "5"]);
    let _: () = q(&mut c, &["SET", "flushed", "x"]);
    let _: () = q(&mut c, &["FLUSHDB"]);
    let _: () = q(&mut c, &["SELECT", "0"]);
    let (_, _): (String, i64) = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("tx")
        .arg("1")
        .cmd("INCR")
        .arg("tx")
        .query(&mut c)
        .unwrap();
    let _: i64 = q(
        &mut c,
        &[
            "EVAL",
            "redis.call('SET', KEYS[1], 'a'); return redis.call('APPEND', KEYS[1], 'b')",
            "1",
            "script",
        ],
    );
    std::thread::sleep(Duration::from_millis(20));
    let before = digest(&mut c);
    let pttl_before: i64 = q(&mut c, &["PTTL", "ttl"]);
    assert_eq!(server.terminate(), Some(0));
    assert!(segments(data.path()).len() > 1, "4 KiB segments roll over");

    let (_server, mut c) = open(data.path(), &[]);
    assert_eq!(digest(&mut c), before);
    let pttl: i64 = q(&mut c, &["PTTL", "ttl"]);
    assert!(
        pttl <= pttl_before && pttl > pttl_before - 10_000,
        "{pttl} vs {pttl_before}"
    );
    let _: () = q(&mut c, &["SELECT", "3"]);
    assert_eq!(q::<String>(&mut c, &["GET", "in4"]), "four");
    let n: i64 = q(&mut c, &["EXISTS", "in3"]);
    assert_eq!(n, 0);
    let _: () = q(&mut c, &["SELECT", "0"]);
    assert_eq!(q::<String>(&mut c, &["GET", "script"]), "ab");
    assert_eq!(q::<i64>(&mut c, &["GET", "tx"]), 2);
    let info: String = q(&mut c, &["INFO", "persistence"]);
    assert!(info.contains("aof_enabled:1"), "{info}");
}

/// Writers on several connections record each acknowledged write while checkpoints run back to
/// back; the server is SIGKILLed at random moments (in or between checkpoints). After every
/// restart each acknowledged write is there (`appendfsync always`: nothing acknowledged is
/// lost), and each writer's list holds each acknowledged push once (no step replayed twice).
#[test]
fn no_acknowledged_write_is_lost_across_crashes_with_appendfsync_always() {
    let data = tempfile::tempdir().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    // Per writer: the highest number acknowledged (every lower one was acknowledged before).
    let acked: Arc<Vec<AtomicU64>> = Arc::new((0..4).map(|_| AtomicU64::new(0)).collect());
    let opts = [
        "--appendfsync",
        "always",
        "--binlog-segment-bytes",
        "16384",
        "--binlog-retention-bytes",
        "0",
        "--binlog-retention-seconds",
        "0",
    ];
    for round in 0..4 {
        let mut server = start(data.path(), &opts);
        let mut c = server.client();
        wait_loaded(&mut c);
        check_acked(&mut c, &acked);
        let stop = Arc::new(AtomicBool::new(false));
        let checkpoints = {
            let (url, stop) = (server.url(), stop.clone());
            std::thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                while !stop.load(Ordering::SeqCst) {
                    // "already in progress" is fine: one runs back to back with the next.
                    if redis::cmd("BGREWRITEAOF").query::<String>(&mut c).is_err()
                        && redis::cmd("PING").query::<String>(&mut c).is_err()
                    {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        };
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let url = server.url();
                let (acked, stop) = (acked.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                    let mut n = acked[w].load(Ordering::SeqCst);
                    while !stop.load(Ordering::SeqCst) {
                        n += 1;
                        let r: redis::RedisResult<()> = redis::cmd("SET")
                            .arg(format!("w{w}:{n}"))
                            .arg(n)
                            .query(&mut c);
                        if r.is_err() {
                            return;
                        }
                        let r: redis::RedisResult<i64> = redis::cmd("RPUSH")
                            .arg(format!("list{w}"))
                            .arg(n)
                            .query(&mut c);
                        if r.is_err() {
                            return;
                        }
                        let r: redis::RedisResult<i64> =
                            redis::cmd("INCR").arg(format!("count{w}")).query(&mut c);
                        match r {
                            Ok(v) => {
                                assert_eq!(v as u64, n, "writer {w}'s counter");
                                acked[w].store(n, Ordering::SeqCst);
                            }
                            Err(_) => return,
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(rng.gen_range(300..900)));
        server.kill();
        stop.store(true, Ordering::SeqCst);
        for w in writers {
            w.join().unwrap();
        }
        checkpoints.join().unwrap();
        let total: u64 = acked.iter().map(|a| a.load(Ordering::SeqCst)).sum();
        assert!(total > 0, "round {round}: no write was acknowledged");
    }
    let (_server, mut c) = open(data.path(), &[]);
    check_acked(&mut c, &acked);
}

/// Every write acknowledged so far is present. A write sent but not acknowledged before the
/// crash may or may not be: the counter is the acknowledged number or one more.
fn check_acked(c: &mut redis::Connection, acked: &[AtomicU64]) {
    for (w, a) in acked.iter().enumerate() {
        let n = a.load(Ordering::SeqCst);
        if n == 0 {
            continue;
        }
        let keys: Vec<String> = (1..=n).map(|i| format!("w{w}:{i}")).collect();
        for chunk in keys.chunks(1000) {
            let values: Vec<Option<u64>> = redis::cmd("MGET").arg(chunk).query(c).unwrap();
            for (k, v) in chunk.iter().zip(values) {
                assert!(v.is_some(), "acknowledged write {k} lost");
            }
        }
        let count: u64 = q(c, &["GET", &format!("count{w}")]);
        assert!(
            count == n || count == n + 1,
            "writer {w}: counter {count}, acked {n}"
        );
        // The list got one push per write, before the counter's INCR: n pushes, or n + 1 when
        // the last write's push (or also its SET, unacknowledged) made it.
        let list = format!("list{w}");
        let pushed: Vec<u64> = q(c, &["LRANGE", &list, "0", "-1"]);
        assert!(
            pushed.len() as u64 == n || pushed.len() as u64 == n + 1,
            "writer {w}: {} pushes, acked {n}",
            pushed.len()
        );
        let expected: Vec<u64> = (1..=pushed.len() as u64).collect();
        assert_eq!(pushed, expected, "writer {w}: each push once, in order");
        // Realign the counter and the list with the acknowledged writes for the next round.
        let _: () = q(c, &["SET", &format!("count{w}"), &n.to_string()]);
        if pushed.len() as u64 > n {
            let _: Option<String> = q(c, &["RPOP", &list]);
        }
    }
}

/// With `appendfsync everysec` a crash loses at most about the last second of writes; the loss
/// is measured and reported.
#[test]
fn everysec_loses_at_most_about_a_second_of_writes() {
    let data = tempfile::tempdir().unwrap();
    let (mut server, mut c) = open(data.path(), &["--appendfsync", "everysec"]);
    let started = Instant::now();
    let mut acked = 0u64;
    while started.elapsed() < Duration::from_millis(2500) {
        let mut pipe = redis::pipe();
        for i in acked + 1..=acked + 100 {
            pipe.cmd("SET").arg(format!("e:{i}")).arg(i).ignore();
        }
        pipe.query::<()>(&mut c).unwrap();
        acked += 100;
    }
    let rate = acked as f64 / started.elapsed().as_secs_f64();
    server.kill();
    let (_server, mut c) = open(data.path(), &[]);
    let kept: u64 = q(&mut c, &["DBSIZE"]);
    let lost = acked - kept;
    eprintln!("everysec: {acked} writes acknowledged at {rate:.0}/s, {lost} lost in the crash");
    // Writes are kept in order: what survives is a prefix.
    if kept > 0 {
        let last: Option<u64> = q(&mut c, &["GET", &format!("e:{kept}")]);
        assert_eq!(last, Some(kept));
    }
    assert!(
        (lost as f64) <= rate * 2.0,
        "lost {lost} writes, more than two seconds' worth at {rate:.0}/s"
    );
}

/// Appends `bytes` to the last segment (a torn or damaged tail).
fn damage_tail(data: &Path, bytes: &[u8]) {
    use std::io::Write;
    let last = segments(data).pop().unwrap();
    let mut f = std::fs::OpenOptions::new().append(true).open(last).unwrap();
    f.write_all(bytes).unwrap();
}

#[test]
fn a_torn_tail_is_cut_off_and_a_torn_transaction_is_dropped_whole() {
    let data = tempfile::tempdir().unwrap();
    let (mut server, mut c) = open(data.path(), &[]);
    let _: () = q(&mut c, &["SET", "before", "1"]);
    let (_, _): (String, String) = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("tx1")
        .arg("x")
        .cmd("SET")
        .arg("tx2")
        .arg("y")
        .query(&mut c)
        .unwrap();
    stop_nosave(&mut server, &mut c);
    // Cut the transaction's record short: it goes, whole; the record before it stays.
    let last = segments(data.path()).pop().unwrap();
    let len = std::fs::metadata(&last).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&last).unwrap();
    f.set_len(len - 3).unwrap();
    drop(f);
    // And a partial frame after it, as a crash in the middle of a write leaves.
    damage_tail(data.path(), &[40, 0, 0, 0, 1, 2]);

    let (mut server, mut c) = open(data.path(), &[]);
    assert_eq!(q::<String>(&mut c, &["GET", "before"]), "1");
    let n: i64 = q(&mut c, &["EXISTS", "tx1", "tx2"]);
    assert_eq!(n, 0, "a torn transaction is dropped whole");
    assert!(
        server.log().contains("dropping the last"),
        "{}",
        server.log()
    );
    // Writing resumes after the cut, and the next start reads it all.
    let _: () = q(&mut c, &["SET", "after", "2"]);
    assert_eq!(server.terminate(), Some(0));
    let (_server, mut c) = open(data.path(), &[]);
    assert_eq!(q::<String>(&mut c, &["GET", "after"]), "2");
    assert_eq!(q::<String>(&mut c, &["GET", "before"]), "1");
}

#[test]
fn damage_before_the_tail_stops_the_start_unless_repair() {
    let data = tempfile::tempdir().unwrap();
    let (mut server, mut c) = open(data.path(), &[]);
    for i in 0..20 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), &"x".repeat(100)]);
    }
    stop_nosave(&mut server, &mut c);
    // Flip a byte in the middle of the log: a CRC mismatch with good records after it.
    let seg = segments(data.path()).pop().unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&seg, &bytes).unwrap();

    let log = refused_start(data.path(), &["--appendonly", "yes"]);
    assert!(
        log.contains("binlog damaged at offset") && log.contains("--repair"),
        "{log}"
    );

    // --repair keeps what precedes the damage and moves the rest aside.
    let mut server = TestServer::start(&[
        "--dir",
        data.path().to_str().unwrap(),
        "--appendonly",
        "yes",
        "--repair",
    ]);
    let mut c = server.client();
    wait_loaded(&mut c);
    let kept: i64 = q(&mut c, &["DBSIZE"]);
    assert!(kept > 0 && kept < 20, "kept {kept} of 20");
    for i in 0..kept {
        assert_eq!(
            q::<String>(&mut c, &["GET", &format!("k{i}")]),
            "x".repeat(100)
        );
    }
    let aside = std::fs::read_dir(data.path().join("appendonlydir"))
        .unwrap()
        .any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("corrupt-")
        });
    assert!(aside, "the damaged part is kept aside");
    let _: () = q(&mut c, &["SET", "new", "1"]);
    assert_eq!(server.terminate(), Some(0));
    let (_server, mut c) = open(data.path(), &[]);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), kept + 1);
}

#[test]
fn clients_get_loading_while_the_binlog_is_replayed() {
    let data = tempfile::tempdir().unwrap();
    let (mut server, mut c) = open(data.path(), &[]);
    let mut pipe = redis::pipe();
    for i in 0..3000 {
        pipe.cmd("SET").arg(format!("k{i}")).arg(i).ignore();
    }
    pipe.query::<()>(&mut c).unwrap();
    assert_eq!(server.terminate(), Some(0));

    // 3,000 records at 500 µs each: over a second of loading.
    let server = start(data.path(), &["--key-load-delay", "500"]);
    let mut c = server.client();
    let e = redis::cmd("GET")
        .arg("k1")
        .query::<String>(&mut c)
        .unwrap_err();
    assert!(is_loading(&e), "{e}");
    let info: String = q(&mut c, &["INFO", "persistence"]);
    assert!(info.contains("loading:1"), "{info}");
    wait_loaded(&mut c);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 3000);
    let info: String = q(&mut c, &["INFO", "persistence"]);
    assert!(info.contains("loading:0"), "{info}");
}

/// A binlog write that fails (a full disk, injected): writes are refused with -MISCONF while
/// it lasts, the write waiting for its acknowledgement gets it once a retry succeeds, and
/// nothing is lost.
#[test]
fn a_failing_binlog_write_refuses_writes_until_it_recovers() {
    let data = tempfile::tempdir().unwrap();
    let (mut server, mut c) = open(data.path(), &["--appendfsync", "always"]);
    let _: () = q(&mut c, &["DEBUG", "BINLOG-FAULT", "2"]);
    let url = server.url();
    let waiting = std::thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        let started = Instant::now();
        let r: String = redis::cmd("SET")
            .arg("held")
            .arg("1")
            .query(&mut c)
            .unwrap();
        (r, started.elapsed())
    });
    // The failed write is seen, and writes are refused meanwhile.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let info: String = q(&mut c, &["INFO", "persistence"]);
        if info.contains("aof_last_write_status:err") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the injected failure never showed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let e = redis::cmd("SET")
        .arg("refused")
        .arg("1")
        .query::<()>(&mut c)
        .unwrap_err();
    assert!(e.to_string().contains("MISCONF"), "{e}");
    assert!(
        !waiting.is_finished(),
        "a write was acknowledged before the binlog holding it was written"
    );
    let v: Option<String> = q(&mut c, &["GET", "held"]);
    assert_eq!(v.as_deref(), Some("1"), "reads still work");
    let (reply, _) = waiting.join().unwrap();
    assert_eq!(reply, "OK");
    let _: () = q(&mut c, &["SET", "after", "1"]);
    assert!(server.log().contains("writing the binlog failed"));
    assert_eq!(server.terminate(), Some(0));
    let (_server, mut c) = open(data.path(), &[]);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "held", "after", "refused"]), 2);
}

/// A binlog that writes to a database the server no longer has (fewer `databases`) is refused
/// with a message that says which, instead of loading part of it.
#[test]
fn a_binlog_for_more_databases_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let (mut server, mut c) = open(data.path(), &[]);
    let _: () = q(&mut c, &["SELECT", "7"]);
    let _: () = q(&mut c, &["SET", "k", "v"]);
    let start_with_4 = || refused_start(data.path(), &["--appendonly", "yes", "--databases", "4"]);
    // From the binlog alone (no checkpoint yet)...
    stop_nosave(&mut server, &mut c);
    let log = start_with_4();
    assert!(
        log.contains("writes to database 7, but this server has 4"),
        "{log}"
    );
    // ...and from a checkpoint.
    let (mut server, _c) = open(data.path(), &[]);
    assert_eq!(server.terminate(), Some(0));
    let log = start_with_4();
    assert!(
        log.contains("written with 16 databases; this server has 4 (set `databases` to 16)"),
        "{log}"
    );
}

/// Writes to a few elements of a collection log those elements, not the whole collection (the
/// log of 3,000 HSETs into one hash stays small), and replay rebuilds every collection exactly,
/// including transactions that mix whole-value and element writes to one key.
#[test]
fn collection_writes_are_logged_by_element_and_replay_exactly() {
    let data = tempfile::tempdir().unwrap();
    let (mut server, mut c) = open(data.path(), &[]);
    let mut pipe = redis::pipe();
    for i in 0..3000 {
        pipe.cmd("HSET")
            .arg("h")
            .arg(format!("f{i}"))
            .arg(i)
            .ignore();
        pipe.cmd("SADD").arg("s").arg(format!("m{i}")).ignore();
        pipe.cmd("ZADD")
            .arg("z")
            .arg(i)
            .arg(format!("m{i}"))
            .ignore();
    }
    pipe.query::<()>(&mut c).unwrap();
    let size = binlog_size(&mut c);
    // Whole collections per write would be about 3 x 3000^2 / 2 x 10 bytes = 135 MB.
    assert!(size < 1_000_000, "the binlog holds {size} bytes");

    let _: i64 = q(&mut c, &["HDEL", "h", "f1", "f2", "nope"]);
    let _: i64 = q(&mut c, &["HINCRBY", "h", "f3", "10"]);
    let _: String = q(&mut c, &["HINCRBYFLOAT", "h", "f4", "0.5"]);
    let _: i64 = q(&mut c, &["HSETNX", "h", "new", "x"]);
    let _: i64 = q(&mut c, &["SREM", "s", "m1", "m2"]);
    let _: i64 = q(
        &mut c,
        &[
            "ZADD", "z", "XX", "GT", "CH", "5000", "m1", "1", "m2", "7", "absent",
        ],
    );
    let _: f64 = q(&mut c, &["ZINCRBY", "z", "2.5", "m3"]);
    let _: i64 = q(&mut c, &["ZREM", "z", "m4"]);
    let _: Vec<String> = q(&mut c, &["ZPOPMIN", "z", "5"]);
    let _: Vec<String> = q(&mut c, &["ZPOPMAX", "z"]);
    let _: Vec<String> = q(&mut c, &["SPOP", "s", "3"]);
    let _: i64 = q(&mut c, &["SMOVE", "s", "s-other", "m10"]);
    // Emptied collections go away.
    let _: i64 = q(&mut c, &["HSET", "small", "a", "1"]);
    let _: i64 = q(&mut c, &["HDEL", "small", "a"]);
    // A transaction that replaces a hash whole, then writes one field: both must survive.
    let _: () = redis::pipe()
        .atomic()
        .cmd("DEL")
        .arg("h2")
        .ignore()
        .cmd("HSET")
        .arg("h2")
        .arg("only")
        .arg("1")
        .ignore()
        .cmd("ZUNIONSTORE")
        .arg("z2")
        .arg(1)
        .arg("z")
        .ignore()
        .cmd("ZADD")
        .arg("z2")
        .arg("XX")
        .arg(1)
        .arg("not-there")
        .ignore()
        .query(&mut c)
        .unwrap();
    let _: i64 = q(&mut c, &["HSET", "h2", "second", "2"]);
    let before = digest(&mut c);
    assert_eq!(server.terminate(), Some(0));

    let (_server, mut c) = open(data.path(), &[]);
    assert_eq!(digest(&mut c), before);
    assert_eq!(q::<i64>(&mut c, &["ZCARD", "z2"]), 2993);
    assert_eq!(q::<i64>(&mut c, &["SISMEMBER", "s-other", "m10"]), 1);
    assert_eq!(q::<i64>(&mut c, &["HLEN", "h2"]), 2);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "small"]), 0);
}

/// List pushes, pops, moves, LSET and LTRIM log the operation, not the list (3,000 RPUSHes
/// onto one list stay small), and replay rebuilds every list exactly, a pop served to a
/// blocked client included.
#[test]
fn list_operations_are_logged_as_operations_and_replay_exactly() {
    let data = tempfile::tempdir().unwrap();
    let (mut server, mut c) = open(data.path(), &[]);
    let mut pipe = redis::pipe();
    for i in 0..3000 {
        pipe.cmd("RPUSH").arg("l").arg(format!("e{i}")).ignore();
    }
    pipe.query::<()>(&mut c).unwrap();
    let size = binlog_size(&mut c);
    assert!(size < 300_000, "the binlog holds {size} bytes");

    let _: i64 = q(&mut c, &["LPUSH", "l", "a", "b", "c"]);
    let _: String = q(&mut c, &["LPOP", "l"]);
    let _: Vec<String> = q(&mut c, &["RPOP", "l", "3"]);
    let _: String = q(&mut c, &["LMOVE", "l", "l", "LEFT", "RIGHT"]);
    let _: String = q(&mut c, &["LMOVE", "l", "other", "RIGHT", "LEFT"]);
    let _: () = q(&mut c, &["LSET", "l", "5", "changed"]);
    let _: () = q(&mut c, &["LTRIM", "l", "2", "-3"]);
    let _: i64 = q(&mut c, &["LINSERT", "l", "BEFORE", "e100", "inserted"]);
    let _: i64 = q(&mut c, &["RPUSH", "gone", "x"]);
    let _: String = q(&mut c, &["RPOP", "gone"]);
    // A blocked client served by another client's push.
    let url = server.url();
    let waiter = std::thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        let r: (String, String) = redis::cmd("BLPOP").arg("q").arg(5).query(&mut c).unwrap();
        r
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while q::<String>(&mut c, &["INFO", "clients"])
        .lines()
        .all(|l| l.trim() != "blocked_clients:1")
    {
        assert!(Instant::now() < deadline, "the client never blocked");
        std::thread::sleep(Duration::from_millis(5));
    }
    let _: i64 = q(&mut c, &["RPUSH", "q", "first", "second"]);
    assert_eq!(waiter.join().unwrap().1, "first");
    let before = digest(&mut c);
    let list_before: Vec<String> = q(&mut c, &["LRANGE", "l", "0", "-1"]);
    assert_eq!(server.terminate(), Some(0));

    let (_server, mut c) = open(data.path(), &[]);
    assert_eq!(digest(&mut c), before);
    let list: Vec<String> = q(&mut c, &["LRANGE", "l", "0", "-1"]);
    assert_eq!(list, list_before);
    let queue: Vec<String> = q(&mut c, &["LRANGE", "q", "0", "-1"]);
    assert_eq!(queue, vec!["second".to_string()]);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "gone"]), 0);
}

/// APPEND, SETRANGE and SETBIT log the bytes they wrote, not the string (3,000 APPENDs to one
/// string and a SETBIT far into a bitmap stay small), and replay rebuilds the strings exactly.
#[test]
fn string_edits_are_logged_as_byte_ranges_and_replay_exactly() {
    let data = tempfile::tempdir().unwrap();
    let (mut server, mut c) = open(data.path(), &[]);
    let mut pipe = redis::pipe();
    for i in 0..3000 {
        pipe.cmd("APPEND")
            .arg("log")
            .arg(format!("line {i}\n"))
            .ignore();
    }
    pipe.query::<()>(&mut c).unwrap();
    let _: i64 = q(&mut c, &["SETBIT", "bits", "8000000", "1"]);
    let _: i64 = q(&mut c, &["SETBIT", "bits", "7", "1"]);
    let _: i64 = q(&mut c, &["SETRANGE", "log", "5", "XY"]);
    let _: i64 = q(&mut c, &["SETRANGE", "fresh", "10", "abc"]);
    let _: () = q(&mut c, &["SET", "ttl", "abc", "EX", "1000"]);
    let _: i64 = q(&mut c, &["APPEND", "ttl", "def"]);
    let size = binlog_size(&mut c);
    assert!(size < 300_000, "the binlog holds {size} bytes");
    let before = digest(&mut c);
    assert_eq!(server.terminate(), Some(0));

    let (_server, mut c) = open(data.path(), &[]);
    assert_eq!(digest(&mut c), before);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "bits", "8000000"]), 1);
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "bits"]), 1_000_001);
    assert!(q::<i64>(&mut c, &["TTL", "ttl"]) > 900);
    assert_eq!(q::<String>(&mut c, &["GET", "ttl"]), "abcdef");
}

/// With tiering and a dataset about ten times maxmemory, a restart brings back every key with
/// its value and TTL: replay demotes as it goes, and element writes to values that went cold
/// during replay load them first.
#[test]
fn a_restart_with_ten_times_maxmemory_brings_every_key_back() {
    let data = tempfile::tempdir().unwrap();
    let (mut server, mut c) = open(data.path(), &["--tiering", "yes"]);
    // 8 MiB for values above what the empty server uses (the dataset is about 80 MiB).
    let info: String = q(&mut c, &["INFO", "memory"]);
    let used: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let limit = (used + (8 << 20)).to_string();
    let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory", &limit]);
    let opts = ["--maxmemory", limit.as_str(), "--tiering", "yes"];
    let blob = "x".repeat(10_000);
    let mut pipe = redis::pipe();
    for i in 0..6_000 {
        pipe.cmd("SET")
            .arg(format!("s{i}"))
            .arg(format!("{i}{blob}"))
            .ignore();
        if i % 10 == 0 {
            pipe.cmd("EXPIRE")
                .arg(format!("s{i}"))
                .arg(100_000 + i)
                .ignore();
        }
        if i % 100 == 0 {
            pipe.query::<()>(&mut c).unwrap();
            pipe = redis::pipe();
        }
    }
    for h in 0..20 {
        for f in 0..50 {
            pipe.cmd("HSET")
                .arg(format!("h{h}"))
                .arg(format!("f{f}"))
                .arg(format!("{f}{blob}"))
                .ignore();
        }
        pipe.query::<()>(&mut c).unwrap();
        pipe = redis::pipe();
    }
    // Element writes after the hashes went cold: each loads a 500 KB hash over the limit.
    for h in 0..20 {
        let _: i64 = q(&mut c, &["HSET", &format!("h{h}"), "late", "1"]);
    }
    let cold = |c: &mut redis::Connection| -> i64 {
        let info: String = q(c, &["INFO", "tiering"]);
        info.lines()
            .find_map(|l| l.strip_prefix("cold_keys:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    assert!(cold(&mut c) > 1000, "the dataset went cold");
    let before = digest(&mut c);
    let ttl_before: i64 = q(&mut c, &["TTL", "s500"]);
    assert_eq!(server.terminate(), Some(0));

    let (_server, mut c) = open(data.path(), &opts);
    // Rebuilt from RocksDB's index: every key is there as a stub, no value was read.
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 6_020);
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_last_load_keys_loaded"),
        6_020
    );
    assert_eq!(cold(&mut c), 6_020, "every key comes back cold");
    assert_eq!(tiering_field(&mut c, "loads"), 0, "no value read at start");
    let ttl: i64 = q(&mut c, &["TTL", "s500"]);
    assert!(ttl <= ttl_before && ttl > ttl_before - 60);
    assert_eq!(digest(&mut c), before);
}

/// A numeric field of INFO `section`.
fn info_field(c: &mut redis::Connection, section: &str, name: &str) -> u64 {
    let info: String = q(c, &["INFO", section]);
    info.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} in:\n{info}"))
}

fn tiering_field(c: &mut redis::Connection, name: &str) -> u64 {
    info_field(c, "tiering", name)
}

/// Checkpoints only when asked (BGREWRITEAOF), and no binlog kept behind them.
const CHECKPOINTS_WHEN_ASKED: [&str; 6] = [
    "--binlog-retention-bytes",
    "0",
    "--binlog-retention-seconds",
    "0",
    "--checkpoint-interval",
    "0",
];

/// Takes a checkpoint (BGREWRITEAOF) and waits until it is recorded. One the server started
/// by itself may be under way: then BGREWRITEAOF is refused, and is asked again.
fn checkpoint(c: &mut redis::Connection) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let before = loop {
        let before = info_field(c, "persistence", "checkpoints");
        match redis::cmd("BGREWRITEAOF").query::<String>(c) {
            Ok(reply) => {
                assert_eq!(reply, "Background append only file rewriting started");
                break before;
            }
            Err(e) if e.to_string().contains("already in progress") => {
                assert!(Instant::now() < deadline, "a checkpoint never finished");
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("BGREWRITEAOF: {e}"),
        }
    };
    while info_field(c, "persistence", "aof_rewrite_scheduled") == 1
        || info_field(c, "persistence", "aof_rewrite_in_progress") == 1
        || info_field(c, "persistence", "checkpoints") == before
    {
        assert!(Instant::now() < deadline, "the checkpoint never finished");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Writes of every kind after a checkpoint, on top of values it wrote (hot and cold): element
/// edits, list operations, byte ranges, TTL changes of cold values, deletes, FLUSHDB, SWAPDB.
/// The server is SIGKILLed; the restart rebuilds from the checkpoint, replays the binlog after
/// it, and has exactly the dataset acknowledged (DEBUG DIGEST), twice over (a second
/// checkpoint after the SWAPDB records the swapped database numbers). Binlog segments older
/// than the checkpoint are deleted.
#[test]
fn a_crash_after_a_checkpoint_keeps_every_change_since() {
    let data = tempfile::tempdir().unwrap();
    let opts = [
        // The hashes, sets and sorted set are stored split (one entry per element).
        &[
            "--appendfsync",
            "always",
            "--binlog-segment-bytes",
            "4096",
            "--tiering-split-elements",
            "8",
        ][..],
        &CHECKPOINTS_WHEN_ASKED,
    ]
    .concat();
    let (mut server, mut c) = open(data.path(), &opts);
    let big = "b".repeat(300);
    for db in ["0", "2", "3"] {
        let _: () = q(&mut c, &["SELECT", db]);
        for i in 0..200 {
            let k = format!("k{i}");
            let _: () = q(&mut c, &["SET", &k, &format!("{db}{i}{big}")]);
            let _: i64 = q(&mut c, &["HSET", &format!("h{}", i % 5), &k, &big]);
            let _: i64 = q(&mut c, &["RPUSH", &format!("l{}", i % 4), &k]);
            let _: i64 = q(&mut c, &["SADD", &format!("s{}", i % 3), &k]);
            let _: i64 = q(&mut c, &["ZADD", "z", &i.to_string(), &k]);
        }
        let _: i64 = q(&mut c, &["EXPIRE", "k7", "100000"]);
        // Some values cold: the checkpoint writes only their index entries.
        for k in ["k1", "k2", "k7", "h1", "l1", "s1"] {
            let _: i64 = q(&mut c, &["TIERING", "DEMOTE", k]);
        }
    }
    let _: () = q(&mut c, &["SELECT", "0"]);
    let size_before = binlog_size(&mut c);
    checkpoint(&mut c);
    let info: String = q(&mut c, &["INFO", "persistence"]);
    for field in [
        "aof_rewrites:1\r\n",
        "aof_last_bgrewrite_status:ok",
        "aof_rewrites_consecutive_failures:0",
        "aof_current_rewrite_time_sec:-1",
        "aof_last_rewrite_time_sec:0",
    ] {
        assert!(info.contains(field), "{field} in:\n{info}");
    }
    assert!(
        binlog_size(&mut c) < size_before / 4,
        "segments before the checkpoint are deleted: {} of {size_before} bytes kept",
        binlog_size(&mut c)
    );

    let after_checkpoint = |c: &mut redis::Connection, round: u32| {
        let r = round.to_string();
        let _: i64 = q(c, &["HSET", "h1", "late", &r]);
        let _: i64 = q(c, &["HDEL", "h2", "k2"]);
        let _: i64 = q(c, &["RPUSH", "l1", "tail"]);
        let _: Option<String> = q(c, &["LPOP", "l2"]);
        let _: i64 = q(c, &["SREM", "s1", "k1"]);
        let _: String = q(c, &["ZINCRBY", "z", "5", "k3"]);
        let _: i64 = q(c, &["SETRANGE", "k2", "3", "edited"]);
        let _: i64 = q(c, &["EXPIRE", "k1", "50000"]);
        let _: i64 = q(c, &["PERSIST", "k7"]);
        // A TTL where there was none: DEBUG DIGEST sees whether a key has one.
        let _: i64 = q(c, &["EXPIRE", &format!("k1{round}"), "40000"]);
        let _: i64 = q(c, &["DEL", "k4", "k5"]);
        let _: () = q(c, &["SET", "k4", &format!("again{r}")]);
        let _: i64 = q(c, &["INCR", "counter"]);
        // Newer states in RocksDB than the checkpoint's: replay must skip the list operations
        // these already hold, or it would push and pop twice.
        for k in ["l1", "l2", "h1"] {
            let _: i64 = q(c, &["TIERING", "DEMOTE", k]);
        }
        // On disk, not only in a memtable the crash loses.
        let _: () = q(c, &["TIERING", "FLUSH-MEMTABLES"]);
    };
    after_checkpoint(&mut c, 1);
    let _: () = q(&mut c, &["SELECT", "2"]);
    let _: () = q(&mut c, &["FLUSHDB"]);
    let _: () = q(&mut c, &["SET", "k1", "after the flush"]);
    let _: () = q(&mut c, &["SELECT", "0"]);
    let _: () = q(&mut c, &["SWAPDB", "0", "3"]);
    after_checkpoint(&mut c, 2);
    let before = digest(&mut c);
    server.kill();

    let (mut server, mut c) = open(data.path(), &opts);
    assert_eq!(digest(&mut c), before, "after the first crash");
    let ttl: i64 = q(&mut c, &["TTL", "k1"]);
    assert!(ttl > 49_000 && ttl <= 50_000, "TTL {ttl}");

    // Changes, then a second checkpoint that must hold them (the binlog before it is
    // deleted), which also records the swapped numbers; more changes; another crash.
    after_checkpoint(&mut c, 5);
    checkpoint(&mut c);
    after_checkpoint(&mut c, 3);
    let _: () = q(&mut c, &["SWAPDB", "3", "0"]);
    let _: () = q(&mut c, &["FLUSHDB"]);
    after_checkpoint(&mut c, 4);
    let before = digest(&mut c);
    server.kill();
    let (_server, mut c) = open(data.path(), &opts);
    assert_eq!(digest(&mut c), before, "after the second crash");
}

/// RocksDB never gets ahead of the binlog: while the binlog cannot be written (injected
/// failures), a transaction's keys are not written to RocksDB either, so a crash then loses the
/// transaction whole instead of bringing back the half of it a demotion had flushed.
#[test]
fn rocksdb_never_holds_a_step_the_binlog_lost() {
    let data = tempfile::tempdir().unwrap();
    let (mut server, mut c) = open(data.path(), &["--appendfsync", "always"]);
    let _: () = q(&mut c, &["SET", "before", "1"]);
    let _: () = q(&mut c, &["DEBUG", "BINLOG-FAULT", "1000000"]);
    // The transaction is applied in RAM, then its record cannot be written: no reply comes
    // (appendfsync always), so it is sent from another connection.
    let url = server.url();
    std::thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        let _ = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg("a")
            .arg("x".repeat(100))
            .cmd("SET")
            .arg("b")
            .arg("y".repeat(100))
            .query::<()>(&mut c);
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while info_field(&mut c, "persistence", "binlog_write_errors") == 0 {
        assert!(Instant::now() < deadline, "the binlog write never failed");
        std::thread::sleep(Duration::from_millis(10));
    }
    let e = redis::cmd("TIERING")
        .arg("DEMOTE")
        .arg("a")
        .query::<i64>(&mut c)
        .unwrap_err();
    assert!(e.to_string().contains("stays in RAM"), "{e}");
    let _: () = q(&mut c, &["TIERING", "FLUSH-MEMTABLES"]);
    server.kill();
    let (_server, mut c) = open(data.path(), &[]);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "before", "a", "b"]), 1);
}

/// A binlog whose early segments were deleted behind a checkpoint is useless without that
/// checkpoint: a start whose tiering directory was lost says so instead of loading a partial
/// dataset.
#[test]
fn a_lost_tiering_directory_is_reported_not_half_loaded() {
    let data = tempfile::tempdir().unwrap();
    let opts = [
        &["--binlog-segment-bytes", "4096"][..],
        &CHECKPOINTS_WHEN_ASKED,
    ]
    .concat();
    let (mut server, mut c) = open(data.path(), &opts);
    for i in 0..300 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), &"v".repeat(100)]);
    }
    checkpoint(&mut c);
    stop_nosave(&mut server, &mut c);
    std::fs::remove_dir_all(data.path().join("tiering")).unwrap();
    let log = refused_start(data.path(), &["--appendonly", "yes"]);
    assert!(
        log.contains("the tiering directory holds no checkpoint"),
        "{log}"
    );
}

/// A checkpoint scans only the slot tables written since the last one: in-place writes of
/// every kind (and TTL changes) on a quiet dataset, with nothing else to mark their tables,
/// must be in the next checkpoint, since the binlog before it is deleted.
#[test]
fn in_place_writes_are_in_the_next_checkpoint() {
    let data = tempfile::tempdir().unwrap();
    let opts = [
        &["--appendfsync", "always", "--binlog-segment-bytes", "4096"][..],
        &CHECKPOINTS_WHEN_ASKED,
    ]
    .concat();
    let (mut server, mut c) = open(data.path(), &opts);
    let _: () = q(&mut c, &["SET", "counter", "1"]);
    let _: () = q(&mut c, &["SET", "text", "abc"]);
    let _: i64 = q(&mut c, &["RPUSH", "list", "a", "b"]);
    let _: i64 = q(&mut c, &["RPUSH", "list2", "a", "b"]);
    let _: i64 = q(&mut c, &["HSET", "hash", "f", "1"]);
    let _: i64 = q(&mut c, &["SADD", "set", "a"]);
    let _: i64 = q(&mut c, &["ZADD", "zset", "1", "a"]);
    let _: () = q(&mut c, &["SET", "ttl", "x"]);
    checkpoint(&mut c);
    let _: i64 = q(&mut c, &["INCR", "counter"]);
    let _: i64 = q(&mut c, &["APPEND", "text", "def"]);
    let _: i64 = q(&mut c, &["SETRANGE", "text", "0", "X"]);
    let _: i64 = q(&mut c, &["RPUSH", "list", "c"]);
    // Each key written once: nothing else marks its slot table.
    let _: () = q(&mut c, &["LSET", "list2", "0", "A"]);
    let _: i64 = q(&mut c, &["HSET", "hash", "f", "2", "g", "3"]);
    let _: i64 = q(&mut c, &["SADD", "set", "b"]);
    let _: String = q(&mut c, &["ZINCRBY", "zset", "2", "a"]);
    let _: i64 = q(&mut c, &["EXPIRE", "ttl", "50000"]);
    let before = digest(&mut c);
    checkpoint(&mut c);
    server.kill();
    let (_server, mut c) = open(data.path(), &opts);
    assert_eq!(digest(&mut c), before);
    assert_eq!(q::<String>(&mut c, &["GET", "text"]), "Xbcdef");
    assert!(q::<i64>(&mut c, &["TTL", "ttl"]) > 49_000);
}

/// A crash in the middle of a checkpoint, with part of it written and flushed to RocksDB and
/// no new checkpoint recorded: the restart rebuilds from the last checkpoint recorded, meets
/// newer states for some keys, and replays the binlog over them without applying any step
/// twice (lists would grow) or losing one (DEBUG DIGEST is the same).
#[test]
fn a_crash_in_the_middle_of_a_checkpoint_is_harmless() {
    let data = tempfile::tempdir().unwrap();
    // The hashes (about 270 fields each) are stored split.
    let opts = [
        &["--appendfsync", "always", "--tiering-split-elements", "100"][..],
        &CHECKPOINTS_WHEN_ASKED,
    ]
    .concat();
    let (mut server, mut c) = open(data.path(), &opts);
    let fill = |c: &mut redis::Connection, round: usize| {
        for chunk in 0..8 {
            let mut pipe = redis::pipe();
            for i in 0..1000 {
                let n = chunk * 1000 + i;
                pipe.cmd("SET")
                    .arg(format!("k{n}"))
                    .arg(format!("{round}:{n}:{}", "x".repeat(200)))
                    .ignore();
                pipe.cmd("RPUSH")
                    .arg(format!("l{}", n % 50))
                    .arg(n)
                    .ignore();
                pipe.cmd("HSET")
                    .arg(format!("h{}", n % 30))
                    .arg(format!("f{n}"))
                    .arg(round)
                    .ignore();
            }
            pipe.query::<()>(c).unwrap();
        }
    };
    fill(&mut c, 1);
    checkpoint(&mut c);
    fill(&mut c, 2);
    let _: () = q(&mut c, &["SWAPDB", "0", "1"]);
    let _: () = q(&mut c, &["SELECT", "1"]);
    fill(&mut c, 3);
    let before = digest(&mut c);
    let _: () = q(&mut c, &["DEBUG", "CHECKPOINT-CRASH", "3"]);
    let _: String = q(&mut c, &["BGREWRITEAOF"]);
    let status = server.wait_status(Duration::from_secs(30));
    assert!(
        status.is_some_and(|s| s.code().is_none()),
        "the server aborts mid-checkpoint: {status:?}"
    );
    let log = server.log();
    assert!(
        log.contains("aborting in the middle of a checkpoint"),
        "{log}"
    );
    assert_eq!(
        log.matches("checkpoint at binlog offset").count(),
        1,
        "only the first checkpoint was recorded: {log}"
    );
    let (_server, mut c) = open(data.path(), &opts);
    assert_eq!(digest(&mut c), before);
}

/// After a checkpoint, segments go only once they are outside the retention window: with
/// `binlog-retention-bytes` 20,000, about that much log stays behind the checkpoint (the
/// backlog a replica will resume from); with the age window (an hour, the default) none goes.
#[test]
fn checkpoints_keep_the_binlog_retention_window() {
    let data = tempfile::tempdir().unwrap();
    let opts = [
        "--binlog-segment-bytes",
        "4096",
        "--binlog-retention-bytes",
        "20000",
        "--binlog-retention-seconds",
        "0",
        "--checkpoint-interval",
        "0",
    ];
    let (_server, mut c) = open(data.path(), &opts);
    for i in 0..1000 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), &"v".repeat(100)]);
    }
    let written = binlog_size(&mut c);
    checkpoint(&mut c);
    let kept = binlog_size(&mut c);
    // At least the window is kept, and the oldest segment kept is needed for it: without it
    // less than the window would be left. (A segment can pass 4 KiB: the writer starts a new
    // one only before a write, and one write may carry many records.)
    let firsts: Vec<u64> = segments(data.path())
        .iter()
        .map(|p| {
            let stem = p.file_stem().unwrap().to_str().unwrap();
            stem.parse().unwrap()
        })
        .collect();
    let end = info_field(&mut c, "persistence", "binlog_offset");
    assert!(kept >= 20_000, "kept {kept} of {written} bytes");
    assert!(
        firsts.len() >= 2 && end - firsts[1] < 20_000,
        "kept {kept} of {written} bytes in segments starting at {firsts:?}, end {end}"
    );

    let data = tempfile::tempdir().unwrap();
    let (_server, mut c) = open(
        data.path(),
        &[
            "--binlog-segment-bytes",
            "4096",
            "--binlog-retention-bytes",
            "0",
        ],
    );
    for i in 0..1000 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), &"v".repeat(100)]);
    }
    let written = binlog_size(&mut c);
    checkpoint(&mut c);
    assert_eq!(
        binlog_size(&mut c),
        written,
        "younger than an hour: all kept"
    );
}

/// A checkpoint whose RocksDB write fails is reported as Redis reports a failed AOF rewrite
/// (`aof_last_bgrewrite_status:err`), records nothing and deletes no segment; the next one
/// succeeds, and a crash after it loses nothing.
#[test]
fn a_failed_checkpoint_is_reported_and_the_next_one_succeeds() {
    let data = tempfile::tempdir().unwrap();
    let opts = [&["--appendfsync", "always"][..], &CHECKPOINTS_WHEN_ASKED].concat();
    let (mut server, mut c) = open(data.path(), &opts);
    for i in 0..500 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), &"v".repeat(100)]);
    }
    let _: () = q(&mut c, &["DEBUG", "TIERING-FAULT", "WRITES", "1"]);
    let _: String = q(&mut c, &["BGREWRITEAOF"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while info_field(&mut c, "persistence", "aof_rewrite_scheduled") == 1
        || info_field(&mut c, "persistence", "aof_rewrite_in_progress") == 1
    {
        assert!(Instant::now() < deadline, "the checkpoint never ended");
        std::thread::sleep(Duration::from_millis(10));
    }
    let info: String = q(&mut c, &["INFO", "persistence"]);
    assert!(info.contains("aof_last_bgrewrite_status:err"), "{info}");
    assert!(
        info.contains("aof_rewrites_consecutive_failures:1"),
        "{info}"
    );
    assert!(info.contains("checkpoints:0\r\n"), "{info}");
    assert!(info.contains("binlog_first_offset:0\r\n"), "{info}");
    checkpoint(&mut c);
    let info: String = q(&mut c, &["INFO", "persistence"]);
    assert!(info.contains("aof_last_bgrewrite_status:ok"), "{info}");
    assert!(
        info.contains("aof_rewrites_consecutive_failures:0"),
        "{info}"
    );
    let _: () = q(&mut c, &["SET", "after", "1"]);
    let before = digest(&mut c);
    server.kill();
    let (_server, mut c) = open(data.path(), &opts);
    assert_eq!(digest(&mut c), before);
}

/// SWAPDB running while checkpoints are taken: a checkpoint's shards are taken one after the
/// other, so some shards' states are from before a swap and others from after it. Replay must
/// swap only the shards taken before it (each shard's mark), or databases come back crossed.
#[test]
fn swapdb_racing_checkpoints_comes_back_uncrossed() {
    let data = tempfile::tempdir().unwrap();
    let opts = ["--appendfsync", "always", "--checkpoint-interval", "0"];
    let (mut server, mut c) = open(data.path(), &opts);
    for db in ["0", "1"] {
        let _: () = q(&mut c, &["SELECT", db]);
        for i in 0..2000 {
            let _: () = q(&mut c, &["SET", &format!("k{i}"), &format!("{db}:{i}")]);
        }
    }
    let stop_swaps = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (url, stop) = (server.url(), stop_swaps.clone());
        std::thread::spawn(move || {
            let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let _: () = q(&mut c, &["SWAPDB", "0", "1"]);
                let _: () = q(
                    &mut c,
                    &["SET", &format!("k{}", n % 2000), &format!("s{n}")],
                );
            }
        })
    };
    // Enough to write that the checkpoint takes a while: many swaps land in the middle of it,
    // between one shard's turn and another's.
    let _: () = q(&mut c, &["SELECT", "2"]);
    let blob = "x".repeat(1000);
    for chunk in 0..20 {
        let mut pipe = redis::pipe();
        for i in 0..1000 {
            pipe.cmd("SET")
                .arg(format!("big{chunk}:{i}"))
                .arg(&blob)
                .ignore();
        }
        pipe.query::<()>(&mut c).unwrap();
    }
    checkpoint(&mut c);
    stop_swaps.store(true, Ordering::SeqCst);
    swapper.join().unwrap();
    let before = digest(&mut c);
    server.kill();
    let (_server, mut c) = open(data.path(), &opts);
    assert_eq!(digest(&mut c), before);
}

/// `tiering-preload yes`: after a restart (every value cold, rebuilt from the index) values are
/// loaded back in the background, with no client touching them.
#[test]
fn tiering_preload_loads_values_back_after_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let (mut server, mut c) = open(data.path(), &["--tiering-preload", "yes"]);
    for i in 0..300 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), &"v".repeat(200)]);
    }
    let before = digest(&mut c);
    assert_eq!(server.terminate(), Some(0));
    let (_server, mut c) = open(data.path(), &["--tiering-preload", "yes"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while tiering_field(&mut c, "cold_keys") > 0 {
        assert!(Instant::now() < deadline, "values still cold");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(tiering_field(&mut c, "hot_keys"), 300);
    assert_eq!(
        tiering_field(&mut c, "loads"),
        0,
        "no client load was needed"
    );
    assert_eq!(digest(&mut c), before);
}

/// Cache mode (`appendonly no`): a clean shutdown saves the dataset in RocksDB and the next
/// start has all of it, rebuilt from the index; after a crash the tiering directory is reset
/// and the server starts empty, saying so.
#[test]
fn cache_mode_keeps_the_dataset_across_a_clean_shutdown_only() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let opts = ["--dir", dir, "--appendonly", "no"];
    let mut server = TestServer::start(&opts);
    let mut c = server.client();
    for i in 0..500 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), &"v".repeat(100 + i)]);
    }
    let _: i64 = q(&mut c, &["EXPIRE", "k3", "1000"]);
    let _: i64 = q(&mut c, &["TIERING", "DEMOTE", "k9"]);
    let before = digest(&mut c);
    assert_eq!(server.terminate(), Some(0));

    let mut server = TestServer::start(&opts);
    let mut c = server.client();
    wait_loaded(&mut c);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 500);
    assert_eq!(digest(&mut c), before);
    assert!(q::<i64>(&mut c, &["TTL", "k3"]) > 990);
    let _: () = q(&mut c, &["SET", "new", "1"]);
    server.kill();

    let server = TestServer::start(&opts);
    let mut c = server.client();
    wait_loaded(&mut c);
    assert_eq!(
        q::<i64>(&mut c, &["DBSIZE"]),
        0,
        "a crash in cache mode starts empty"
    );
    assert!(
        server.log().contains("did not shut down cleanly"),
        "{}",
        server.log()
    );
}

/// A run with the binlog crashes, and the next start has `appendonly no`: the binlog is
/// replayed once (nothing acknowledged is lost), the dataset saved in RocksDB, and the binlog
/// set aside; a later start with the binlog does not replay it over the newer data.
#[test]
fn turning_appendonly_off_after_a_crash_loses_nothing() {
    let data = tempfile::tempdir().unwrap();
    let (mut server, mut c) = open(data.path(), &["--appendfsync", "always"]);
    for i in 0..200 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), &"v".repeat(100)]);
    }
    checkpoint(&mut c);
    let _: () = q(&mut c, &["SET", "after the checkpoint", "1"]);
    let _: i64 = q(&mut c, &["DEL", "k0"]);
    let before = digest(&mut c);
    server.kill();

    let dir = data.path().to_str().unwrap();
    let mut server = TestServer::start(&["--dir", dir, "--appendonly", "no"]);
    let mut c = server.client();
    wait_loaded(&mut c);
    assert_eq!(digest(&mut c), before);
    assert!(
        server.log().contains("replaying it once"),
        "{}",
        server.log()
    );
    // Cache mode from here on: a write, a clean shutdown.
    let _: () = q(&mut c, &["SET", "cache mode", "2"]);
    let after = digest(&mut c);
    assert_eq!(server.terminate(), Some(0), "{}", server.log());
    let (_server, mut c) = open(data.path(), &[]);
    assert_eq!(
        digest(&mut c),
        after,
        "the old binlog is not replayed over it"
    );
}

/// Pure-memory mode with the binlog (`tiering no`, `appendonly yes`): checkpoints go to RocksDB
/// all the same, and after a restart every value is loaded back into RAM.
#[test]
fn pure_memory_mode_restarts_from_a_checkpoint_with_every_value_hot() {
    let data = tempfile::tempdir().unwrap();
    let opts = ["--tiering", "no", "--appendfsync", "always"];
    let (mut server, mut c) = open(data.path(), &opts);
    for i in 0..300 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), &"v".repeat(200)]);
    }
    checkpoint(&mut c);
    let _: () = q(&mut c, &["SET", "after", "1"]);
    let before = digest(&mut c);
    server.kill();
    let (_server, mut c) = open(data.path(), &opts);
    assert_eq!(digest(&mut c), before);
    // The preload brings every value back.
    let deadline = Instant::now() + Duration::from_secs(30);
    while tiering_field(&mut c, "cold_keys") > 0 {
        assert!(Instant::now() < deadline, "values still cold");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(tiering_field(&mut c, "hot_keys"), 301);
    assert_eq!(tiering_field(&mut c, "tiering_enabled"), 0);
}

/// BGSAVE and SAVE take point-in-time backups in dir/backups; `--restore` starts a new server
/// from one, with exactly the data of that moment; old backups are pruned; restoring over an
/// existing binlog is refused.
#[test]
fn backups_restore_the_dataset_of_their_moment() {
    let data = tempfile::tempdir().unwrap();
    let backups = data.path().join("backups");
    std::fs::create_dir_all(backups.join("1000")).unwrap(); // a backup from 1970: pruned
    let opts = [
        &["--binlog-segment-bytes", "4096"][..],
        &CHECKPOINTS_WHEN_ASKED,
    ]
    .concat();
    let (mut server, mut c) = open(data.path(), &opts);
    let started: i64 = q(&mut c, &["LASTSAVE"]);
    for i in 0..400 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), &"v".repeat(50)]);
    }
    // A checkpoint deletes the older segments: the backup needs RocksDB's copy for them.
    checkpoint(&mut c);
    assert!(info_field(&mut c, "persistence", "binlog_first_offset") > 0);
    let _: i64 = q(&mut c, &["HSET", "h", "a", "1"]);
    let _: () = q(&mut c, &["SET", "k0", "after the checkpoint"]);
    let first = digest(&mut c);
    assert_eq!(
        q::<String>(&mut c, &["BGSAVE"]),
        "Background saving started"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while q::<String>(&mut c, &["INFO", "persistence"]).contains("rdb_bgsave_in_progress:1") {
        assert!(Instant::now() < deadline, "BGSAVE never finished");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(q::<i64>(&mut c, &["LASTSAVE"]) >= started);
    let info: String = q(&mut c, &["INFO", "persistence"]);
    assert!(info.contains("rdb_last_bgsave_status:ok"), "{info}");
    // Writes after the backup are not in it; a second backup (SAVE) has them.
    for i in 0..100 {
        let _: () = q(&mut c, &["SET", &format!("later{i}"), "x"]);
    }
    checkpoint(&mut c);
    let _: i64 = q(&mut c, &["DEL", "k1"]);
    let second = digest(&mut c);
    assert_ne!(first, second);
    std::thread::sleep(Duration::from_millis(5)); // distinct backup names (Unix ms)
    let _: () = q(&mut c, &["SAVE"]);
    assert_eq!(server.terminate(), Some(0));

    let mut taken: Vec<std::path::PathBuf> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    taken.sort();
    assert_eq!(taken.len(), 2, "the 1970 backup was pruned: {taken:?}");
    for (backup, want) in taken.iter().zip([&first, &second]) {
        assert!(
            backup.join("tiering").is_dir(),
            "a RocksDB copy in {backup:?}"
        );
        let info = std::fs::read_to_string(backup.join("backup.info")).unwrap();
        assert!(
            !info.contains("from:0\n"),
            "a tail, not the whole log: {info}"
        );
        let fresh = tempfile::tempdir().unwrap();
        let server = TestServer::start(&[
            "--dir",
            fresh.path().to_str().unwrap(),
            "--restore",
            backup.to_str().unwrap(),
        ]);
        let mut c = server.client();
        wait_loaded(&mut c);
        assert_eq!(&digest(&mut c), want, "restored from {}", backup.display());
    }

    // Restoring over an existing binlog is refused.
    let log = refused_start(data.path(), &["--restore", taken[0].to_str().unwrap()]);
    assert!(log.contains("already holds a binlog"), "{log}");
}

#[test]
fn backups_need_the_binlog() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let e = redis::cmd("BGSAVE").query::<String>(&mut c).unwrap_err();
    assert!(e.to_string().contains("appendonly yes"), "{e}");
}

/// `appendfsync` changes at run time: after CONFIG SET appendfsync always, a write's reply
/// comes only once the binlog holding it is synced (the synced offset has caught up with the
/// end of the log when the reply arrives).
#[test]
fn appendfsync_always_set_at_run_time_syncs_before_replying() {
    let data = tempfile::tempdir().unwrap();
    let (_server, mut c) = open(data.path(), &["--appendfsync", "no"]);
    let field = |c: &mut redis::Connection, name: &str| -> u64 {
        let info: String = q(c, &["INFO", "persistence"]);
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in:\n{info}"))
    };
    let _: () = q(&mut c, &["SET", "before", "1"]);
    assert_eq!(
        field(&mut c, "binlog_fsyncs"),
        0,
        "appendfsync no never syncs"
    );
    let _: () = q(&mut c, &["CONFIG", "SET", "appendfsync", "always"]);
    assert_eq!(
        q::<Vec<String>>(&mut c, &["CONFIG", "GET", "appendfsync"])[1],
        "always"
    );
    for i in 0..20 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), "v"]);
        let (end, synced) = (
            field(&mut c, "binlog_offset"),
            field(&mut c, "binlog_synced_offset"),
        );
        assert_eq!(
            synced, end,
            "write {i} was acknowledged before it was synced"
        );
    }
    assert!(field(&mut c, "binlog_fsyncs") >= 20);
}

/// A field of `TIERING STATUS key` (None when the key is missing or the field is absent).
fn status_field(c: &mut redis::Connection, key: &str, field: &str) -> Option<redis::Value> {
    let reply: redis::Value = q(c, &["TIERING", "STATUS", key]);
    let redis::Value::Array(items) = reply else {
        return None;
    };
    items
        .chunks(2)
        .find(|kv| matches!(&kv[0], redis::Value::BulkString(k) if k == field.as_bytes()))
        .map(|kv| kv[1].clone())
}

fn is_cold(c: &mut redis::Connection, key: &str) -> bool {
    status_field(c, key, "state") == Some(redis::Value::BulkString(b"cold".to_vec()))
}

/// Big collections are stored one RocksDB entry per element (`tiering-split-elements`): a
/// checkpoint after changing a few elements of 2,000-element collections writes just those
/// elements; single-element reads of them cold (HGET, HMGET, HEXISTS, HSTRLEN, SISMEMBER,
/// SMISMEMBER, ZSCORE, ZMSCORE) read only their elements and leave them cold; and a crash,
/// a delete, a re-creation and a shrink below the threshold all come back exactly, with no
/// element left over from an earlier incarnation (a split value whose elements are not as many
/// as its header says fails to load).
#[test]
fn big_collections_are_checkpointed_and_read_by_element() {
    let data = tempfile::tempdir().unwrap();
    let opts = [
        &["--appendfsync", "always", "--tiering-split-elements", "100"][..],
        &CHECKPOINTS_WHEN_ASKED,
    ]
    .concat();
    let (mut server, mut c) = open(data.path(), &opts);
    for chunk in (0..2000).collect::<Vec<u32>>().chunks(500) {
        let mut hset = redis::cmd("HSET");
        let mut sadd = redis::cmd("SADD");
        let mut zadd = redis::cmd("ZADD");
        hset.arg("h");
        sadd.arg("s");
        zadd.arg("z");
        for i in chunk {
            hset.arg(format!("f{i}")).arg(format!("value {i}"));
            sadd.arg(format!("m{i}"));
            zadd.arg(i).arg(format!("m{i}"));
        }
        let _: i64 = hset.query(&mut c).unwrap();
        let _: i64 = sadd.query(&mut c).unwrap();
        let _: i64 = zadd.query(&mut c).unwrap();
    }
    let _: i64 = q(&mut c, &["HSET", "small", "a", "1"]);
    checkpoint(&mut c);
    let elements =
        |c: &mut redis::Connection| info_field(c, "persistence", "checkpoint_elements_written");
    assert_eq!(
        elements(&mut c),
        6000,
        "the first checkpoint writes every element"
    );

    // A few elements change: the next checkpoint writes exactly those.
    let _: i64 = q(&mut c, &["HSET", "h", "f5", "changed", "new", "field"]);
    let _: i64 = q(&mut c, &["HDEL", "h", "f6"]);
    let _: i64 = q(&mut c, &["SREM", "s", "m7"]);
    let _: i64 = q(&mut c, &["ZADD", "z", "99.5", "m9"]);
    let _: i64 = q(&mut c, &["HSET", "small", "b", "2"]);
    checkpoint(&mut c);
    assert_eq!(
        elements(&mut c),
        6000 + 5,
        "only the changed elements are written"
    );
    let on_disk =
        |c: &mut redis::Connection, key: &str| -> i64 { q(c, &["TIERING", "DISK-ELEMENTS", key]) };
    assert_eq!(on_disk(&mut c, "h"), 2000);
    assert_eq!(on_disk(&mut c, "small"), 0);

    // Demoted without a write (the checkpoint's records are current), then read by element.
    let clean_before = tiering_field(&mut c, "clean_demotions");
    for k in ["h", "s", "z"] {
        let _: i64 = q(&mut c, &["TIERING", "DEMOTE", k]);
        assert_eq!(status_field(&mut c, k, "split"), Some(redis::Value::Int(1)));
    }
    assert_eq!(tiering_field(&mut c, "clean_demotions"), clean_before + 3);
    let loads = tiering_field(&mut c, "loads");
    let reads: Vec<(Vec<&str>, redis::Value)> = {
        use redis::Value::{Array, BulkString as B, Int, Nil};
        let b = |s: &str| B(s.as_bytes().to_vec());
        vec![
            (vec!["HGET", "h", "f5"], b("changed")),
            (vec!["HGET", "h", "f6"], Nil),
            (
                vec!["HMGET", "h", "f1", "nope", "new", "f1"],
                Array(vec![b("value 1"), Nil, b("field"), b("value 1")]),
            ),
            (vec!["HEXISTS", "h", "f1999"], Int(1)),
            (vec!["HEXISTS", "h", "f2000"], Int(0)),
            (vec!["HSTRLEN", "h", "f10"], Int(8)),
            (vec!["SISMEMBER", "s", "m7"], Int(0)),
            (vec!["SISMEMBER", "s", "m8"], Int(1)),
            (
                vec!["SMISMEMBER", "s", "m1", "m7", "x"],
                Array(vec![Int(1), Int(0), Int(0)]),
            ),
            (vec!["ZSCORE", "z", "m9"], b("99.5")),
            (vec!["ZSCORE", "z", "nope"], Nil),
            (vec!["ZMSCORE", "z", "m3", "x"], Array(vec![b("3"), Nil])),
            // The type is checked as for a loaded value.
            (vec!["SISMEMBER", "h", "f1"], b("WRONGTYPE")),
        ]
    };
    for (cmd, want) in &reads {
        let got: redis::RedisResult<redis::Value> = {
            let mut r = redis::cmd(cmd[0]);
            for a in &cmd[1..] {
                r.arg(*a);
            }
            r.query(&mut c)
        };
        match (got, want) {
            (Err(e), redis::Value::BulkString(w)) if w == b"WRONGTYPE" => {
                assert_eq!(e.code(), Some("WRONGTYPE"), "{cmd:?}")
            }
            (got, want) => assert_eq!(&got.unwrap(), want, "{cmd:?}"),
        }
    }
    for k in ["h", "s", "z"] {
        assert!(
            is_cold(&mut c, k),
            "{k} stays cold after reads of single elements"
        );
    }
    assert_eq!(
        tiering_field(&mut c, "loads"),
        loads,
        "no whole value was loaded"
    );
    assert_eq!(tiering_field(&mut c, "element_loads"), reads.len() as u64);
    // A read of the whole value loads it, elements and all.
    assert_eq!(q::<i64>(&mut c, &["HLEN", "h"]), 2000);
    assert_eq!(tiering_field(&mut c, "loads"), loads + 1);

    let before = digest(&mut c);
    server.kill();
    let (mut server, mut c) = open(data.path(), &opts);
    assert_eq!(digest(&mut c), before, "after a crash");
    assert!(is_cold(&mut c, "s"));

    // Gone, then back small under the same name; shrunk below the threshold; grown back.
    let _: i64 = q(&mut c, &["DEL", "s"]);
    let _: i64 = q(&mut c, &["SADD", "s", "a", "b", "c"]);
    let fields: Vec<String> = (95..2000).map(|i| format!("f{i}")).collect();
    let mut hdel = redis::cmd("HDEL");
    hdel.arg("h").arg(&fields);
    let _: i64 = hdel.query(&mut c).unwrap();
    let _: i64 = q(&mut c, &["DEL", "z"]);
    let _: i64 = q(&mut c, &["ZADD", "z", "1", "only"]);
    checkpoint(&mut c);
    for k in ["h", "s", "z"] {
        let _: i64 = q(&mut c, &["TIERING", "DEMOTE", k]);
        assert_eq!(
            status_field(&mut c, k, "split"),
            Some(redis::Value::Int(0)),
            "{k}"
        );
        // Written whole: their elements are deleted with their split records.
        assert_eq!(on_disk(&mut c, k), 0, "{k}");
    }
    let before = digest(&mut c);
    server.kill();
    let (_server, mut c) = open(data.path(), &opts);
    assert_eq!(
        digest(&mut c),
        before,
        "after a crash following deletes and shrinks"
    );
    assert_eq!(q::<i64>(&mut c, &["SCARD", "s"]), 3);
    assert_eq!(q::<i64>(&mut c, &["HLEN", "h"]), 95);
    assert_eq!(q::<i64>(&mut c, &["ZCARD", "z"]), 1);
}

/// What one collection of the model in
/// [`split_collections_match_a_model_through_checkpoints_demotions_and_crashes`] holds.
#[derive(Debug, Clone, PartialEq)]
enum Collection {
    Hash(std::collections::BTreeMap<String, String>),
    Set(std::collections::BTreeSet<String>),
    ZSet(std::collections::BTreeMap<String, i64>),
}

/// The collection `key` holds on the server, read whole.
fn read_collection(c: &mut redis::Connection, key: &str) -> Option<Collection> {
    let kind: String = q(c, &["TYPE", key]);
    Some(match kind.as_str() {
        "none" => return None,
        "hash" => Collection::Hash(q(c, &["HGETALL", key])),
        "set" => Collection::Set(q(c, &["SMEMBERS", key])),
        "zset" => {
            let pairs: Vec<(String, i64)> = q(c, &["ZRANGE", key, "0", "-1", "WITHSCORES"]);
            Collection::ZSet(pairs.into_iter().collect())
        }
        other => panic!("{key} is a {other}"),
    })
}

/// Random element writes to hashes, sets and sorted sets that grow past
/// `tiering-split-elements` and shrink below it, deletes and re-creations, with another client
/// taking checkpoints and demoting keys all the while (so that writes land between a
/// checkpoint's taking of a value and its recording of the write), single-element reads of cold
/// values, and SIGKILLs: after every restart each collection is exactly what the model of the
/// acknowledged writes says (`appendfsync always`), whole and element by element.
#[test]
fn split_collections_match_a_model_through_checkpoints_demotions_and_crashes() {
    use std::collections::HashMap;
    let data = tempfile::tempdir().unwrap();
    let opts = [
        &["--appendfsync", "always", "--tiering-split-elements", "40"][..],
        &CHECKPOINTS_WHEN_ASKED,
    ]
    .concat();
    let keys: Vec<String> = ["h0", "h1", "h2", "s0", "s1", "z0", "z1"]
        .iter()
        .map(|k| k.to_string())
        .collect();
    let mut model: HashMap<String, Collection> = HashMap::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    // Collections stored split at the end of a round, over all rounds.
    let mut total_split = 0;
    for round in 0..4 {
        let (mut server, mut c) = open(data.path(), &opts);
        for k in &keys {
            assert_eq!(
                read_collection(&mut c, k),
                model.get(k).cloned(),
                "{k} after restart {round}"
            );
        }
        // The other client: checkpoints and demotions, as fast as they go.
        let stop = Arc::new(AtomicBool::new(false));
        let background = {
            let stop = stop.clone();
            let url = server.url();
            let keys = keys.clone();
            std::thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                let mut i = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let _ = redis::cmd("BGREWRITEAOF").query::<String>(&mut c);
                    let _ = redis::cmd("TIERING")
                        .arg("DEMOTE")
                        .arg(&keys[i % keys.len()])
                        .query::<i64>(&mut c);
                    std::thread::sleep(Duration::from_millis(2));
                }
            })
        };
        for _ in 0..1500 {
            let key = keys[rng.gen_range(0..keys.len())].clone();
            let name = format!("e{}", rng.gen_range(0..120));
            // Mostly adds, so that collections cross the threshold both ways.
            let add = rng.gen_bool(0.6);
            match (key.as_bytes()[0], add) {
                _ if rng.gen_bool(0.01) => {
                    let _: i64 = q(&mut c, &["DEL", &key]);
                    model.remove(&key);
                }
                (b'h', true) => {
                    let value = format!("v{}", rng.gen_range(0..1000));
                    let _: i64 = q(&mut c, &["HSET", &key, &name, &value]);
                    match model
                        .entry(key.clone())
                        .or_insert_with(|| Collection::Hash(Default::default()))
                    {
                        Collection::Hash(h) => h.insert(name, value),
                        _ => unreachable!(),
                    };
                }
                (b'h', false) => {
                    let _: i64 = q(&mut c, &["HDEL", &key, &name]);
                    if let Some(Collection::Hash(h)) = model.get_mut(&key) {
                        h.remove(&name);
                    }
                }
                (b's', true) => {
                    let _: i64 = q(&mut c, &["SADD", &key, &name]);
                    match model
                        .entry(key.clone())
                        .or_insert_with(|| Collection::Set(Default::default()))
                    {
                        Collection::Set(s) => s.insert(name),
                        _ => unreachable!(),
                    };
                }
                (b's', false) => {
                    let _: i64 = q(&mut c, &["SREM", &key, &name]);
                    if let Some(Collection::Set(s)) = model.get_mut(&key) {
                        s.remove(&name);
                    }
                }
                (_, true) => {
                    let score = rng.gen_range(-50..50i64);
                    let _: i64 = q(&mut c, &["ZADD", &key, &score.to_string(), &name]);
                    match model
                        .entry(key.clone())
                        .or_insert_with(|| Collection::ZSet(Default::default()))
                    {
                        Collection::ZSet(z) => z.insert(name, score),
                        _ => unreachable!(),
                    };
                }
                (_, false) => {
                    let _: i64 = q(&mut c, &["ZREM", &key, &name]);
                    if let Some(Collection::ZSet(z)) = model.get_mut(&key) {
                        z.remove(&name);
                    }
                }
            }
            let empty = match model.get(&key) {
                Some(Collection::Hash(h)) => h.is_empty(),
                Some(Collection::Set(s)) => s.is_empty(),
                Some(Collection::ZSet(z)) => z.is_empty(),
                None => false,
            };
            if empty {
                model.remove(&key);
            }
            // A single-element read, of a value that is often cold.
            let probe = format!("e{}", rng.gen_range(0..120));
            match model.get(&key) {
                Some(Collection::Hash(h)) => assert_eq!(
                    q::<Option<String>>(&mut c, &["HGET", &key, &probe]),
                    h.get(&probe).cloned(),
                    "HGET {key} {probe}"
                ),
                Some(Collection::Set(s)) => assert_eq!(
                    q::<i64>(&mut c, &["SISMEMBER", &key, &probe]),
                    s.contains(&probe) as i64,
                    "SISMEMBER {key} {probe}"
                ),
                Some(Collection::ZSet(z)) => assert_eq!(
                    q::<Option<i64>>(&mut c, &["ZSCORE", &key, &probe]),
                    z.get(&probe).copied(),
                    "ZSCORE {key} {probe}"
                ),
                None => {}
            }
        }
        stop.store(true, Ordering::Relaxed);
        background.join().unwrap();
        // After a checkpoint (which also applies the deletes queued), RocksDB holds exactly
        // each collection's elements when it is stored split, and none otherwise: nothing
        // leaked from an earlier incarnation.
        checkpoint(&mut c);
        let element_loads = tiering_field(&mut c, "element_loads");
        let mut split_keys = 0;
        for k in &keys {
            let _: i64 = q(&mut c, &["TIERING", "DEMOTE", k]);
            let split = status_field(&mut c, k, "split") == Some(redis::Value::Int(1));
            let expected = match model.get(k) {
                Some(Collection::Hash(h)) if split => h.len(),
                Some(Collection::Set(s)) if split => s.len(),
                Some(Collection::ZSet(z)) if split => z.len(),
                _ => 0,
            };
            let stored: i64 = q(&mut c, &["TIERING", "DISK-ELEMENTS", k]);
            assert_eq!(stored, expected as i64, "elements stored under {k}");
            if !split {
                continue;
            }
            // One element of the cold split collection, read alone.
            split_keys += 1;
            match model.get(k) {
                Some(Collection::Hash(h)) => {
                    let (field, value) = h.iter().next().unwrap();
                    assert_eq!(q::<String>(&mut c, &["HGET", k, field]), *value, "{k}");
                }
                Some(Collection::Set(s)) => {
                    let member = s.iter().next().unwrap();
                    assert_eq!(q::<i64>(&mut c, &["SISMEMBER", k, member]), 1, "{k}");
                }
                Some(Collection::ZSet(z)) => {
                    let (member, score) = z.iter().next().unwrap();
                    assert_eq!(q::<i64>(&mut c, &["ZSCORE", k, member]), *score, "{k}");
                }
                None => unreachable!("a split key is in the model"),
            }
            assert!(is_cold(&mut c, k), "{k} stays cold after a read by element");
        }
        assert_eq!(
            tiering_field(&mut c, "element_loads") - element_loads,
            split_keys,
            "each read of one element of a cold split collection read only that"
        );
        total_split += split_keys;
        assert_eq!(
            info_field(&mut c, "persistence", "aof_rewrites_consecutive_failures"),
            0
        );
        assert!(
            info_field(&mut c, "persistence", "checkpoint_elements_written") > 0,
            "collections were written split"
        );
        server.kill();
    }
    assert!(total_split > 0, "some collections were stored split");
    let (_server, mut c) = open(data.path(), &opts);
    for k in &keys {
        assert_eq!(
            read_collection(&mut c, k),
            model.get(k).cloned(),
            "{k} at the end"
        );
    }
}

/// A checkpoint that fails while writing a split collection's changed elements leaves RocksDB
/// where it was: the changes it carried must not be forgotten by the next checkpoint, which
/// writes the collection whole. A crash after that one brings back every change.
#[test]
fn a_failed_checkpoint_of_a_split_collection_loses_none_of_its_changes() {
    let data = tempfile::tempdir().unwrap();
    let opts = [
        &["--appendfsync", "always", "--tiering-split-elements", "10"][..],
        &CHECKPOINTS_WHEN_ASKED,
    ]
    .concat();
    let (mut server, mut c) = open(data.path(), &opts);
    for i in 0..50 {
        let _: i64 = q(&mut c, &["HSET", "h", &format!("f{i}"), "first"]);
    }
    checkpoint(&mut c);
    let _: i64 = q(
        &mut c,
        &["HSET", "h", "f1", "carried by the failed checkpoint"],
    );
    let _: () = q(&mut c, &["DEBUG", "TIERING-FAULT", "WRITES", "1"]);
    let _: String = q(&mut c, &["BGREWRITEAOF"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while info_field(&mut c, "persistence", "aof_rewrites_consecutive_failures") == 0 {
        assert!(Instant::now() < deadline, "the checkpoint never failed");
        std::thread::sleep(Duration::from_millis(10));
    }
    let _: i64 = q(&mut c, &["HSET", "h", "f2", "after the failure"]);
    checkpoint(&mut c);
    let before = digest(&mut c);
    server.kill();
    let (_server, mut c) = open(data.path(), &opts);
    assert_eq!(digest(&mut c), before);
    assert_eq!(
        q::<String>(&mut c, &["HGET", "h", "f1"]),
        "carried by the failed checkpoint"
    );
}
