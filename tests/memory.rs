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

/// Builds a dataset with `build(pipe, i)` for `i` in `0..n` (sent in pipelined chunks, in
/// order), then checks that the sum of MEMORY USAGE (all elements counted: `SAMPLES 0`) over the
/// distinct `key(i)` is within 10% of how much the allocator's count grew.
fn check_growth(
    c: &mut redis::Connection,
    label: &str,
    n: usize,
    build: impl Fn(&mut redis::Pipeline, usize),
    key: impl Fn(usize) -> String,
) {
    let before = used_memory(c);
    for chunk in (0..n).collect::<Vec<_>>().chunks(200) {
        let mut pipe = redis::pipe();
        for &i in chunk {
            build(&mut pipe, i);
        }
        let _: () = pipe.query(c).unwrap();
    }
    let after = used_memory(c);
    let keys: std::collections::BTreeSet<String> = (0..n).map(&key).collect();
    let keys: Vec<String> = keys.into_iter().collect();
    let mut reported: i64 = 0;
    for chunk in keys.chunks(1000) {
        let mut pipe = redis::pipe();
        for k in chunk {
            pipe.cmd("MEMORY").arg("USAGE").arg(k).arg("SAMPLES").arg(0);
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
}

/// An element of mixed size: every fourth is long enough to need a larger allocation (and to
/// push a small collection past its listpack limits).
fn element(i: usize, m: usize) -> String {
    let len = if (i + m) % 4 == 0 { 80 } else { 12 };
    format!("{m:0>len$}")
}

/// 100,000 strings (16-byte names, 100-byte values, every tenth with a TTL).
#[test]
fn strings_report_their_memory() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let value = vec![b'v'; 100];
    check_growth(
        &mut c,
        "strings",
        100_000,
        |p, i| {
            let cmd = p.cmd("SET").arg(format!("key:{i:012}")).arg(&value);
            if i % 10 == 0 {
                cmd.arg("EX").arg(3600);
            }
            cmd.ignore();
        },
        |i| format!("key:{i:012}"),
    );
}

/// Every collection type, small values (many keys of a few elements) and big ones (a few keys of
/// 20,000 elements, some shrunk again), on one server.
#[test]
fn collections_report_their_memory() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let small = |cmd: &'static str, prefix: &'static str, pairs: bool| {
        move |p: &mut redis::Pipeline, i: usize| {
            let mut cmd = redis::cmd(cmd);
            cmd.arg(format!("{prefix}:{i:08}"));
            for m in 0..10 {
                if pairs {
                    cmd.arg(format!("f{m}"));
                }
                cmd.arg(element(i, m));
            }
            p.add_command(cmd).ignore();
        }
    };
    let key = |prefix: &'static str| move |i: usize| format!("{prefix}:{i:08}");
    check_growth(
        c,
        "small hashes",
        10_000,
        small("HSET", "h", true),
        key("h"),
    );
    check_growth(c, "small sets", 10_000, small("SADD", "s", false), key("s"));
    check_growth(
        c,
        "small lists",
        10_000,
        small("RPUSH", "l", false),
        key("l"),
    );
    check_growth(
        c,
        "small sorted sets",
        10_000,
        |p, i| {
            let mut cmd = redis::cmd("ZADD");
            cmd.arg(format!("z:{i:08}"));
            for m in 0..10 {
                cmd.arg(m as f64 * 1.5).arg(element(i, m));
            }
            p.add_command(cmd).ignore();
        },
        key("z"),
    );

    let big = |i: usize| i % 3;
    check_growth(
        c,
        "big hashes",
        60_000,
        |p, i| {
            p.cmd("HSET")
                .arg(format!("bh:{}", big(i)))
                .arg(format!("field:{i}"))
                .arg(element(i, 0))
                .ignore();
        },
        |i| format!("bh:{}", big(i)),
    );
    check_growth(
        c,
        "big sets",
        60_000,
        |p, i| {
            p.cmd("SADD")
                .arg(format!("bs:{}", big(i)))
                .arg(format!("{i}:{}", element(i, 0)))
                .ignore();
        },
        |i| format!("bs:{}", big(i)),
    );
    check_growth(
        c,
        "big lists",
        60_000,
        |p, i| {
            p.cmd("RPUSH")
                .arg(format!("bl:{}", big(i)))
                .arg(element(i, 0))
                .ignore();
        },
        |i| format!("bl:{}", big(i)),
    );
    // 60,000 members, then the lower half of each set removed: the arena keeps its freed slots.
    check_growth(
        c,
        "big sorted sets",
        60_003,
        |p, i| {
            if i < 60_000 {
                p.cmd("ZADD")
                    .arg(format!("bz:{}", big(i)))
                    .arg(i)
                    .arg(format!("m:{i}"))
                    .ignore();
            } else {
                p.cmd("ZREMRANGEBYRANK")
                    .arg(format!("bz:{}", big(i)))
                    .arg(0)
                    .arg(9_999)
                    .ignore();
            }
        },
        |i| format!("bz:{}", big(i)),
    );
}
