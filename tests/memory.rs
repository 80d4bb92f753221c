//! MEMORY USAGE: its figures must add up to what the allocator really holds for the keys, so
//! that the later memory budget (eviction, demotion) can trust them.

mod common;

use common::TestServer;

fn used_memory(c: &mut redis::Connection) -> i64 {
    let info: String = redis::cmd("INFO").arg("memory").query(c).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("used_memory in INFO memory")
}

#[test]
fn memory_usage_replies() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let missing: Option<i64> = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg("nokey")
        .query(&mut c)
        .unwrap();
    assert_eq!(missing, None);
    let _: () = redis::cmd("SET")
        .arg("small")
        .arg("x")
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg("big")
        .arg(vec![b'x'; 10_000])
        .query(&mut c)
        .unwrap();
    let small: i64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg("small")
        .query(&mut c)
        .unwrap();
    let big: i64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg("big")
        .arg("SAMPLES")
        .arg(0)
        .query(&mut c)
        .unwrap();
    assert!((1..1000).contains(&small), "small string: {small} bytes");
    assert!((10_000..12_000).contains(&big), "10 KB string: {big} bytes");
    let err = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg("big")
        .arg("FOO")
        .query::<i64>(&mut c)
        .unwrap_err();
    assert_eq!(
        (err.code(), err.detail()),
        (Some("ERR"), Some("syntax error"))
    );
    let err = redis::cmd("MEMORY")
        .arg("USAGE")
        .query::<i64>(&mut c)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("wrong number of arguments for 'memory|usage' command"),
        "{err}"
    );
}

/// Builds a dataset with `build(pipe, i)` for `i` in `0..n` (sent in pipelined chunks), then
/// checks that the sum of MEMORY USAGE over `keys(i)` is within 10% of how much the allocator's
/// count grew. Returns the relative difference.
fn check_growth(
    c: &mut redis::Connection,
    label: &str,
    n: usize,
    build: impl Fn(&mut redis::Pipeline, usize),
    key: impl Fn(usize) -> String,
) -> f64 {
    let before = used_memory(c);
    for chunk in (0..n).collect::<Vec<_>>().chunks(200) {
        let mut pipe = redis::pipe();
        for &i in chunk {
            build(&mut pipe, i);
        }
        let _: () = pipe.query(c).unwrap();
    }
    let after = used_memory(c);
    let mut reported: i64 = 0;
    let keys: Vec<String> = (0..n)
        .map(&key)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for chunk in keys.chunks(1000) {
        let mut pipe = redis::pipe();
        for k in chunk {
            pipe.cmd("MEMORY").arg("USAGE").arg(k);
        }
        let sizes: Vec<i64> = pipe.query(c).unwrap();
        reported += sizes.iter().sum::<i64>();
    }
    let grown = after - before;
    let error = (reported - grown).abs() as f64 / grown as f64;
    eprintln!(
        "{label}: MEMORY USAGE total {reported} bytes, allocator growth {grown} bytes, {:.1}% apart",
        error * 100.0
    );
    assert!(
        error < 0.10,
        "{label}: MEMORY USAGE sums to {reported} bytes, the allocator grew by {grown} ({:.1}% apart)",
        error * 100.0
    );
    error
}

fn member(i: usize, m: usize) -> String {
    // Mixed sizes: every fourth element is long enough to need its own larger allocation.
    let len = if (i + m) % 4 == 0 { 80 } else { 12 };
    format!("{m:0>len$}")
}

/// Each value type, small values (many keys of ten elements) and big ones (a few keys of
/// 20,000 elements), on one server: MEMORY USAGE tracks the allocator within 10%.
#[test]
fn collections_report_their_memory() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    check_growth(
        c,
        "small hashes",
        10_000,
        |p, i| {
            let mut cmd = redis::cmd("HSET");
            cmd.arg(format!("h:{i:08}"));
            for m in 0..10 {
                cmd.arg(format!("field{m}")).arg(member(i, m));
            }
            p.add_command(cmd).ignore();
        },
        |i| format!("h:{i:08}"),
    );
    check_growth(
        c,
        "big hashes",
        60_000,
        |p, i| {
            p.cmd("HSET")
                .arg(format!("bigh:{}", i % 3))
                .arg(format!("field:{i}"))
                .arg(member(i, 0))
                .ignore();
        },
        |i| format!("bigh:{}", i % 3),
    );
    check_growth(
        c,
        "small sets",
        10_000,
        |p, i| {
            let mut cmd = redis::cmd("SADD");
            cmd.arg(format!("s:{i:08}"));
            for m in 0..10 {
                cmd.arg(member(i, m));
            }
            p.add_command(cmd).ignore();
        },
        |i| format!("s:{i:08}"),
    );
    check_growth(
        c,
        "big sets",
        60_000,
        |p, i| {
            p.cmd("SADD")
                .arg(format!("bigs:{}", i % 3))
                .arg(format!("{i}:{}", member(i, 0)))
                .ignore();
        },
        |i| format!("bigs:{}", i % 3),
    );
}

/// 100,000 keys (16-byte names, 100-byte values, every tenth with a TTL): the sum of MEMORY
/// USAGE is within 10% of the growth of the allocator's count.
#[test]
fn memory_usage_adds_up_to_the_allocator_count() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let before = used_memory(&mut c);
    let n = 100_000;
    let value = vec![b'v'; 100];
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let mut pipe = redis::pipe();
        for i in chunk {
            let key = format!("key:{i:012}");
            if i % 10 == 0 {
                pipe.cmd("SET")
                    .arg(&key)
                    .arg(&value)
                    .arg("EX")
                    .arg(3600)
                    .ignore();
            } else {
                pipe.cmd("SET").arg(&key).arg(&value).ignore();
            }
        }
        let _: () = pipe.query(&mut c).unwrap();
    }
    let after = used_memory(&mut c);
    let mut reported: i64 = 0;
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let mut pipe = redis::pipe();
        for i in chunk {
            pipe.cmd("MEMORY").arg("USAGE").arg(format!("key:{i:012}"));
        }
        let sizes: Vec<i64> = pipe.query(&mut c).unwrap();
        reported += sizes.iter().sum::<i64>();
    }
    let grown = after - before;
    let error = (reported - grown).abs() as f64 / grown as f64;
    eprintln!(
        "MEMORY USAGE total {reported} bytes, allocator growth {grown} bytes, {:.1}% apart",
        error * 100.0
    );
    assert!(
        error < 0.10,
        "MEMORY USAGE sums to {reported} bytes, the allocator grew by {grown} ({:.1}% apart)",
        error * 100.0
    );
}

/// 5,000 lists of 3 to 200 elements (12 or 80 bytes each): the sum of MEMORY USAGE is within
/// 10% of the growth of the allocator's count.
#[test]
fn memory_usage_of_lists_adds_up_to_the_allocator_count() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let before = used_memory(&mut c);
    let n = 5_000;
    for chunk in (0..n).collect::<Vec<_>>().chunks(250) {
        let mut pipe = redis::pipe();
        for i in chunk {
            let mut cmd = redis::cmd("RPUSH");
            cmd.arg(format!("list:{i:08}"));
            let len = if i % 4 == 0 { 80 } else { 12 };
            for e in 0..(3 + i % 198) {
                cmd.arg(format!("{e:0>len$}"));
            }
            pipe.add_command(cmd).ignore();
        }
        let _: () = pipe.query(&mut c).unwrap();
    }
    let after = used_memory(&mut c);
    let mut reported: i64 = 0;
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let mut pipe = redis::pipe();
        for i in chunk {
            pipe.cmd("MEMORY").arg("USAGE").arg(format!("list:{i:08}"));
        }
        let sizes: Vec<i64> = pipe.query(&mut c).unwrap();
        reported += sizes.iter().sum::<i64>();
    }
    let grown = after - before;
    let error = (reported - grown).abs() as f64 / grown as f64;
    eprintln!(
        "lists: MEMORY USAGE total {reported} bytes, allocator growth {grown} bytes, {:.1}% apart",
        error * 100.0
    );
    assert!(
        error < 0.10,
        "MEMORY USAGE sums to {reported} bytes, the allocator grew by {grown} ({:.1}% apart)",
        error * 100.0
    );
}

/// Sorted sets: 5,000 keys of 40 members (some past the 64-byte listpack limit) and one of
/// 50,000 members, half of them removed again: the sum of MEMORY USAGE is within 10% of the
/// growth of the allocator's count.
#[test]
fn memory_usage_of_sorted_sets_adds_up() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let before = used_memory(&mut c);
    let keys = 5_000;
    for chunk in (0..keys).collect::<Vec<_>>().chunks(500) {
        let mut pipe = redis::pipe();
        for i in chunk {
            let mut cmd = redis::cmd("ZADD");
            cmd.arg(format!("zset:{i:08}"));
            for j in 0..40 {
                let member = if j % 10 == 0 {
                    format!("{:0>80}", j)
                } else {
                    format!("member:{j}")
                };
                cmd.arg(j as f64 * 1.5).arg(member);
            }
            pipe.add_command(cmd).ignore();
        }
        let _: () = pipe.query(&mut c).unwrap();
    }
    for chunk in (0..50_000).collect::<Vec<_>>().chunks(1000) {
        let mut cmd = redis::cmd("ZADD");
        cmd.arg("big");
        for j in chunk {
            cmd.arg(*j).arg(format!("m:{j}"));
        }
        let _: i64 = cmd.query(&mut c).unwrap();
    }
    let _: i64 = redis::cmd("ZREMRANGEBYRANK")
        .arg("big")
        .arg(0)
        .arg(24_999)
        .query(&mut c)
        .unwrap();
    let after = used_memory(&mut c);
    let mut reported: i64 = 0;
    let mut pipe = redis::pipe();
    for i in 0..keys {
        pipe.cmd("MEMORY")
            .arg("USAGE")
            .arg(format!("zset:{i:08}"))
            .arg("SAMPLES")
            .arg(0);
    }
    pipe.cmd("MEMORY")
        .arg("USAGE")
        .arg("big")
        .arg("SAMPLES")
        .arg(0);
    let sizes: Vec<i64> = pipe.query(&mut c).unwrap();
    reported += sizes.iter().sum::<i64>();
    let grown = after - before;
    let error = (reported - grown).abs() as f64 / grown as f64;
    eprintln!(
        "sorted sets: MEMORY USAGE total {reported} bytes, allocator growth {grown} bytes, {:.1}% apart",
        error * 100.0
    );
    assert!(
        error < 0.10,
        "MEMORY USAGE sums to {reported} bytes, the allocator grew by {grown} ({:.1}% apart)",
        error * 100.0
    );
}
