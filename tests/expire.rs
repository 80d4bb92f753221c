//! Expiry against the real server: EXPIRE PEXPIRE EXPIREAT PEXPIREAT with NX XX GT LT, TTL PTTL
//! EXPIRETIME PEXPIRETIME PERSIST, lazy expiry on access, active expiry of keys nobody touches
//! (DBSIZE and INFO's expired_keys), DEBUG SET-ACTIVE-EXPIRE, millisecond precision. TTLs are a
//! few hundred milliseconds and waits poll against a deadline; nothing asserts on speed.

mod common;
mod kvhelp;

use std::time::{Duration, Instant};

use common::TestServer;
use kvhelp::*;
use redis::Connection;

const NOT_INTEGER: &str = "ERR value is not an integer or out of range";

fn ttl(c: &mut Connection, key: &str) -> i64 {
    q(c, &["TTL", key])
}

fn pttl(c: &mut Connection, key: &str) -> i64 {
    q(c, &["PTTL", key])
}

fn dbsize(c: &mut Connection) -> i64 {
    q(c, &["DBSIZE"])
}

/// Sleeps until the wall clock is past `at_ms` (Unix ms) plus a small margin.
fn sleep_past(at_ms: i64) {
    while now_ms() <= at_ms + 5 {
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn expire_commands_set_ttls() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        let _: () = q(c, &["FLUSHALL"]);
        assert_eq!(q::<i64>(c, &["EXPIRE", "missing", "100"]), 0, "{proto}");
        assert_eq!(q::<i64>(c, &["PEXPIRE", "missing", "100"]), 0);
        assert_eq!(q::<i64>(c, &["EXPIREAT", "missing", "100"]), 0);
        assert_eq!(q::<i64>(c, &["PEXPIREAT", "missing", "100"]), 0);

        let _: () = q(c, &["SET", "k", "v"]);
        assert_eq!(ttl(c, "k"), -1);
        assert_eq!(pttl(c, "k"), -1);
        assert_eq!(q::<i64>(c, &["EXPIRETIME", "k"]), -1);
        assert_eq!(q::<i64>(c, &["PEXPIRETIME", "k"]), -1);
        assert_eq!(ttl(c, "missing"), -2);
        assert_eq!(pttl(c, "missing"), -2);
        assert_eq!(q::<i64>(c, &["EXPIRETIME", "missing"]), -2);
        assert_eq!(q::<i64>(c, &["PEXPIRETIME", "missing"]), -2);

        assert_eq!(q::<i64>(c, &["EXPIRE", "k", "100"]), 1);
        assert!((99..=100).contains(&ttl(c, "k")));
        assert!((99_000..=100_000).contains(&pttl(c, "k")));
        assert_eq!(q::<i64>(c, &["PEXPIRE", "k", "200000"]), 1);
        assert!((199..=200).contains(&ttl(c, "k")));
        let at = now_ms() / 1000 + 300;
        assert_eq!(q::<i64>(c, &["EXPIREAT", "k", &at.to_string()]), 1);
        assert_eq!(q::<i64>(c, &["EXPIRETIME", "k"]), at);
        assert_eq!(q::<i64>(c, &["PEXPIRETIME", "k"]), at * 1000);
        let pat = now_ms() + 400_123;
        assert_eq!(q::<i64>(c, &["PEXPIREAT", "k", &pat.to_string()]), 1);
        assert_eq!(q::<i64>(c, &["PEXPIRETIME", "k"]), pat);
        // EXPIRETIME rounds to the nearest second, like TTL.
        assert_eq!(q::<i64>(c, &["EXPIRETIME", "k"]), (pat + 500) / 1000);
        let pat = (now_ms() / 1000 + 500) * 1000 + 499;
        let _: i64 = q(c, &["PEXPIREAT", "k", &pat.to_string()]);
        assert_eq!(q::<i64>(c, &["EXPIRETIME", "k"]), pat / 1000);
        let _: i64 = q(c, &["PEXPIREAT", "k", &(pat + 1).to_string()]);
        assert_eq!(q::<i64>(c, &["EXPIRETIME", "k"]), pat / 1000 + 1);

        // PERSIST removes a TTL once.
        assert_eq!(q::<i64>(c, &["PERSIST", "k"]), 1);
        assert_eq!(q::<i64>(c, &["PERSIST", "k"]), 0);
        assert_eq!(q::<i64>(c, &["PERSIST", "missing"]), 0);
        assert_eq!(ttl(c, "k"), -1);

        // A time in the past deletes the key at once (and it is not counted as expired).
        let before = expired_keys(c);
        assert_eq!(q::<i64>(c, &["EXPIRE", "k", "-1"]), 1);
        assert_eq!(q::<i64>(c, &["EXISTS", "k"]), 0);
        let _: () = q(c, &["SET", "k", "v"]);
        assert_eq!(q::<i64>(c, &["PEXPIREAT", "k", "1"]), 1);
        assert_eq!(q::<i64>(c, &["EXISTS", "k"]), 0);
        let _: () = q(c, &["SET", "k", "v"]);
        assert_eq!(q::<i64>(c, &["EXPIRE", "k", "0"]), 1);
        assert_eq!(q::<i64>(c, &["EXISTS", "k"]), 0);
        assert_eq!(expired_keys(c), before);
    }
}

#[test]
fn writes_clear_or_keep_the_ttl() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    let _: () = q(c, &["SET", "k", "v", "EX", "100"]);
    let _: () = q(c, &["SET", "k", "w"]);
    assert_eq!(ttl(c, "k"), -1, "SET clears the TTL");
    let _: () = q(c, &["SET", "k", "v", "EX", "100"]);
    let _: () = q(c, &["SET", "k", "w", "KEEPTTL"]);
    assert!(ttl(c, "k") > 0, "KEEPTTL keeps it");
    let _: Option<String> = q(c, &["GETSET", "k", "x"]);
    assert_eq!(ttl(c, "k"), -1, "GETSET clears it");
    let _: () = q(c, &["SET", "n", "1", "EX", "100"]);
    let _: i64 = q(c, &["INCR", "n"]);
    let _: i64 = q(c, &["APPEND", "n", "0"]);
    let _: i64 = q(c, &["SETRANGE", "n", "0", "3"]);
    let _: String = q(c, &["INCRBYFLOAT", "n", "1"]);
    assert!(ttl(c, "n") > 0, "in-place writes keep it");
}

/// An EXPIRE flag case: starting TTL, options, new TTL, reply, TTL afterwards (None: none,
/// Some(n): about n seconds).
type Case<'a> = (Option<&'a str>, &'a [&'a str], &'a str, i64, Option<i64>);

#[test]
fn nx_xx_gt_lt() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        let _: () = q(c, &["FLUSHALL"]);
        let setup = |c: &mut Connection, ttl: Option<&str>| {
            let _: () = q(c, &["SET", "k", "v"]);
            if let Some(t) = ttl {
                let _: i64 = q(c, &["EXPIRE", "k", t]);
            }
        };
        let cases: &[Case] = &[
            (Some("100"), &["NX"], "200", 0, Some(100)),
            (None, &["NX"], "200", 1, Some(200)),
            (Some("100"), &["XX"], "200", 1, Some(200)),
            (None, &["XX"], "200", 0, None),
            (Some("100"), &["GT"], "200", 1, Some(200)),
            (Some("100"), &["GT"], "50", 0, Some(100)),
            (None, &["GT"], "200", 0, None),
            (Some("100"), &["LT"], "50", 1, Some(50)),
            (Some("100"), &["LT"], "200", 0, Some(100)),
            (None, &["LT"], "200", 1, Some(200)),
            (Some("100"), &["XX", "LT"], "50", 1, Some(50)),
            (None, &["XX", "LT"], "50", 0, None),
            (Some("100"), &["XX", "GT"], "200", 1, Some(200)),
            (Some("100"), &["gt", "xx"], "50", 0, Some(100)),
            (Some("100"), &["NX", "NX"], "50", 0, Some(100)),
        ];
        for (start, opts, new, reply, after) in cases {
            setup(c, *start);
            let mut args = vec!["EXPIRE", "k", new];
            args.extend_from_slice(opts);
            assert_eq!(q::<i64>(c, &args), *reply, "{proto} {start:?} {args:?}");
            let t = ttl(c, "k");
            match after {
                None => assert_eq!(t, -1, "{args:?}"),
                Some(n) => assert!((n - 1..=*n).contains(&t), "{args:?}: ttl {t}"),
            }
        }
        // Missing keys: 0 whatever the option.
        for opt in ["NX", "XX", "GT", "LT"] {
            assert_eq!(q::<i64>(c, &["EXPIRE", "none", "100", opt]), 0);
        }
        // LT with a negative time on a key without TTL deletes it.
        setup(c, None);
        assert_eq!(q::<i64>(c, &["EXPIRE", "k", "-10", "LT"]), 1);
        assert_eq!(ttl(c, "k"), -2);
        // The same rules for the other three commands.
        setup(c, Some("100"));
        assert_eq!(q::<i64>(c, &["PEXPIRE", "k", "50000", "GT"]), 0);
        assert_eq!(q::<i64>(c, &["PEXPIRE", "k", "50000", "LT"]), 1);
        let far = (now_ms() / 1000 + 1000).to_string();
        assert_eq!(q::<i64>(c, &["EXPIREAT", "k", &far, "NX"]), 0);
        assert_eq!(q::<i64>(c, &["EXPIREAT", "k", &far, "GT"]), 1);
        let pfar = (now_ms() + 2_000_000).to_string();
        assert_eq!(q::<i64>(c, &["PEXPIREAT", "k", &pfar, "LT"]), 0);
        assert_eq!(q::<i64>(c, &["PEXPIREAT", "k", &pfar, "XX"]), 1);
        assert_eq!(q::<i64>(c, &["PEXPIRETIME", "k"]).to_string(), pfar);
    }
}

#[test]
fn expire_errors() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    let _: () = q(c, &["SET", "k", "v"]);
    let nx = "ERR NX and XX, GT or LT options at the same time are not compatible";
    let gtlt = "ERR GT and LT options at the same time are not compatible";
    for name in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"] {
        assert_eq!(err(c, &[name, "k", "100", "NX", "XX"]), nx);
        assert_eq!(err(c, &[name, "k", "100", "NX", "GT"]), nx);
        assert_eq!(err(c, &[name, "k", "100", "LT", "NX"]), nx);
        assert_eq!(err(c, &[name, "k", "100", "GT", "LT"]), gtlt);
        assert_eq!(err(c, &[name, "k", "100", "xx", "gt", "lt"]), gtlt);
        // The option's own spelling is echoed.
        assert_eq!(
            err(c, &[name, "k", "100", "Foo"]),
            "ERR Unsupported option Foo"
        );
        assert_eq!(
            err(c, &[name, "k", "100", "NX", "bar"]),
            "ERR Unsupported option bar"
        );
        // Options are checked before the number.
        assert_eq!(
            err(c, &[name, "k", "abc", "bar"]),
            "ERR Unsupported option bar"
        );
        assert_eq!(err(c, &[name, "k", "abc"]), NOT_INTEGER);
        assert_eq!(err(c, &[name, "k", ""]), NOT_INTEGER);
        assert_eq!(err(c, &[name, "k"]), arity(&name.to_lowercase()));
    }
    assert_eq!(ttl(c, "k"), -1, "failed commands changed nothing");
    for (name, n) in [
        ("EXPIRE", "9223372036854775807"),
        ("EXPIRE", "9223372036854775"),
        ("EXPIREAT", "9223372036854775807"),
        ("EXPIRE", "-9223372036854775808"),
        ("PEXPIRE", "9223372036854775807"),
    ] {
        assert_eq!(
            err(c, &[name, "k", n]),
            format!(
                "ERR invalid expire time in '{}' command",
                name.to_lowercase()
            ),
            "{name} {n}"
        );
    }
    assert_eq!(ttl(c, "k"), -1);
    // The extremes that do not overflow work, and so does reading them back.
    assert_eq!(q::<i64>(c, &["PEXPIREAT", "k", "9223372036854770000"]), 1);
    assert_eq!(q::<i64>(c, &["PEXPIRETIME", "k"]), 9223372036854770000);
    let _: () = q(c, &["SET", "max", "v", "PXAT", "9223372036854775807"]);
    assert_eq!(q::<i64>(c, &["PEXPIRETIME", "max"]), i64::MAX);
    assert_eq!(q::<i64>(c, &["EXPIRETIME", "max"]), 9223372036854776);
    let expected = (i64::MAX - now_ms()) / 1000;
    let t = q::<i64>(c, &["TTL", "max"]);
    assert!((expected - 1..=expected + 1).contains(&t), "TTL {t}");
    assert_eq!(q::<i64>(c, &["EXPIRE", "k", "9223370000000000"]), 1);
    assert!(ttl(c, "k") > 0);
    assert_eq!(q::<i64>(c, &["PEXPIREAT", "k", "-9223372036854775808"]), 1);
    assert_eq!(q::<i64>(c, &["EXISTS", "k"]), 0);
    for name in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME", "PERSIST"] {
        assert_eq!(err(c, &[name]), arity(&name.to_lowercase()));
        assert_eq!(err(c, &[name, "a", "b"]), arity(&name.to_lowercase()));
    }
}

#[test]
fn lazy_expiry_on_access() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    let _: () = q(c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    let set_at = now_ms();
    for k in ["a", "b", "c"] {
        let _: () = q(c, &["PSETEX", k, "100", "v"]);
    }
    let _: () = q(c, &["SET", "counter", "41", "PX", "100"]);
    let _: () = q(c, &["SET", "t", "v", "PX", "100"]);
    let before = expired_keys(c);
    sleep_past(set_at + 150);
    // Nobody looked: still counted, still in KEYS' source but not listed.
    assert_eq!(dbsize(c), 5);
    assert!(q::<Vec<String>>(c, &["KEYS", "*"]).is_empty());
    assert_eq!(expired_keys(c), before);
    // Reading removes them.
    assert_eq!(
        q::<Vec<Option<String>>>(c, &["MGET", "a", "b", "c"]),
        vec![None, None, None]
    );
    assert_eq!(dbsize(c), 2);
    assert_eq!(expired_keys(c), before + 3);
    // A write to an expired key starts from nothing.
    assert_eq!(q::<i64>(c, &["INCR", "counter"]), 1);
    assert_eq!(ttl(c, "counter"), -1);
    // EXPIRE does not bring an expired key back.
    assert_eq!(q::<i64>(c, &["EXPIRE", "t", "100"]), 0);
    assert_eq!(q::<i64>(c, &["EXISTS", "t"]), 0);
    assert_eq!(dbsize(c), 1);
    assert_eq!(expired_keys(c), before + 5);
}

#[test]
fn active_expiry_removes_untouched_keys() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    let mut pipe = redis::pipe();
    for i in 0..50 {
        pipe.cmd("SET")
            .arg(format!("v:{i}"))
            .arg("x")
            .arg("PX")
            .arg(100 + i * 2)
            .ignore();
    }
    for i in 0..10 {
        pipe.cmd("SET").arg(format!("keep:{i}")).arg("x").ignore();
    }
    let _: () = pipe.query(c).unwrap();
    let before = expired_keys(c);
    // DBSIZE and INFO do not touch keys: only the background cycle can bring these down.
    assert!(
        wait_until(Duration::from_secs(10), || dbsize(c) == 10),
        "keys were not actively expired: dbsize {}",
        dbsize(c)
    );
    assert_eq!(expired_keys(c), before + 50);
    let db0 = info_field(c, "keyspace", "db0");
    assert!(db0.starts_with("keys=10,expires=0,"), "{db0}");
}

#[test]
fn debug_set_active_expire_turns_the_cycle_off_and_on() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    let _: () = q(c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    let set_at = now_ms();
    for i in 0..20 {
        let _: () = q(c, &["SET", &format!("k{i}"), "v", "PX", "100"]);
    }
    let before = expired_keys(c);
    // Several cron periods past the expiry: nothing was removed.
    sleep_past(set_at + 400);
    assert_eq!(dbsize(c), 20);
    assert_eq!(expired_keys(c), before);
    let _: () = q(c, &["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
    assert!(wait_until(Duration::from_secs(10), || dbsize(c) == 0));
    assert_eq!(expired_keys(c), before + 20);
}

#[test]
fn millisecond_precision() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        let _: () = q(c, &["FLUSHALL"]);
        for (i, args) in [
            &["PSETEX", "k", "250", "v"][..],
            &["SET", "k", "v", "PX", "250"],
            &["PEXPIRE", "k", "250"],
        ]
        .iter()
        .enumerate()
        {
            if i == 2 {
                let _: () = q(c, &["SET", "k", "v"]);
            }
            let start = Instant::now();
            let _: redis::Value = q(c, args);
            let at: i64 = q(c, &["PEXPIRETIME", "k"]);
            let left = pttl(c, "k");
            assert!((1..=250).contains(&left), "{proto} {args:?}: pttl {left}");
            // Still there while well inside the TTL...
            let v: Option<String> = q(c, &["GET", "k"]);
            if start.elapsed() < Duration::from_millis(200) {
                assert_eq!(v.as_deref(), Some("v"), "{proto} {args:?}");
            }
            // ...and gone as soon as the expiry time has passed.
            sleep_past(at);
            assert_eq!(
                q::<Option<String>>(c, &["GET", "k"]),
                None,
                "{proto} {args:?}"
            );
            assert_eq!(pttl(c, "k"), -2);
        }
        // PEXPIREAT to the millisecond.
        let _: () = q(c, &["SET", "k", "v"]);
        let at = now_ms() + 200;
        let _: i64 = q(c, &["PEXPIREAT", "k", &at.to_string()]);
        assert_eq!(q::<i64>(c, &["PEXPIRETIME", "k"]), at);
        sleep_past(at);
        assert_eq!(q::<i64>(c, &["EXISTS", "k"]), 0);
    }
}

/// The server's clock never lags the wall clock a client read just before: `PXAT now+10000`
/// (and `PEXPIREAT`) read back as a PTTL of at most 10000, as Redis's `GETEX PXAT option` test
/// asserts. Runs for about a second so that several clock resynchronisations are covered.
#[test]
fn pxat_from_the_client_clock_never_reads_back_longer() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let started = Instant::now();
    let mut rounds = 0;
    while started.elapsed() < Duration::from_millis(1200) {
        let at = (now_ms() + 10_000).to_string();
        let _: () = q(&mut c, &["SET", "k", "v"]);
        let _: Option<String> = q(&mut c, &["GETEX", "k", "PXAT", &at]);
        let left = pttl(&mut c, "k");
        assert!((5000..=10_000).contains(&left), "GETEX PXAT: PTTL {left}");
        let at = (now_ms() + 10_000).to_string();
        let _: i64 = q(&mut c, &["PEXPIREAT", "k", &at]);
        let left = pttl(&mut c, "k");
        assert!((5000..=10_000).contains(&left), "PEXPIREAT: PTTL {left}");
        rounds += 1;
    }
    assert!(rounds > 10);
}

/// While clients are paused (CLIENT PAUSE WRITE) nothing expires: an expired key reads as
/// missing but stays, uncounted, until the pause ends, as in Redis (a paused primary must not
/// generate deletions during a failover).
#[test]
fn expiry_waits_for_a_client_pause() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let before = expired_keys(c);
    let _: () = q(c, &["SET", "a", "1", "PX", "50"]);
    let _: () = q(c, &["SET", "b", "1", "PX", "50"]);
    let _: () = q(c, &["CLIENT", "PAUSE", "100000", "WRITE"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(raw(c, &["GET", "a"]), redis::Value::Nil);
    assert_eq!(q::<i64>(c, &["EXISTS", "a", "b"]), 0);
    assert_eq!(q::<i64>(c, &["TTL", "b"]), -2);
    assert_eq!(
        q::<i64>(c, &["DBSIZE"]),
        2,
        "expired keys stay while paused"
    );
    assert_eq!(expired_keys(c), before);
    let _: () = q(c, &["CLIENT", "UNPAUSE"]);
    assert_eq!(raw(c, &["GET", "a"]), redis::Value::Nil);
    assert_eq!(raw(c, &["GET", "b"]), redis::Value::Nil);
    assert_eq!(expired_keys(c), before + 2);
}
