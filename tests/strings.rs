//! String commands against the real server over RESP2 and RESP3: GET/SET and every SET option,
//! SETNX SETEX PSETEX, MGET MSET MSETNX, GETSET GETDEL GETEX, APPEND STRLEN, the counters,
//! GETRANGE SUBSTR SETRANGE, with Redis's exact replies and error texts.

mod common;
mod kvhelp;

use common::TestServer;
use kvhelp::*;
use redis::{Connection, Value};

const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
const NOT_FLOAT: &str = "ERR value is not a valid float";
const SYNTAX: &str = "ERR syntax error";

fn get(c: &mut Connection, key: &str) -> Option<String> {
    q(c, &["GET", key])
}

fn ttl(c: &mut Connection, key: &str) -> i64 {
    q(c, &["TTL", key])
}

fn pttl(c: &mut Connection, key: &str) -> i64 {
    q(c, &["PTTL", key])
}

fn encoding(c: &mut Connection, key: &str) -> String {
    q(c, &["OBJECT", "ENCODING", key])
}

#[test]
fn get_and_set_in_both_protocols() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        let _: () = q(c, &["FLUSHALL"]);
        assert_eq!(raw(c, &["SET", "k", "v"]), Value::Okay, "{proto}");
        assert_eq!(get(c, "k").as_deref(), Some("v"), "{proto}");
        assert_eq!(raw(c, &["GET", "missing"]), Value::Nil, "{proto}");
        // Empty and binary values round-trip.
        let _: () = q(c, &["SET", "empty", ""]);
        assert_eq!(get(c, "empty").as_deref(), Some(""), "{proto}");
        let bin: Vec<u8> = (0..=255u8).collect();
        let _: () = redis::cmd("SET").arg("bin").arg(&bin).query(c).unwrap();
        let back: Vec<u8> = redis::cmd("GET").arg("bin").query(c).unwrap();
        assert_eq!(back, bin, "{proto}");
        // SET replaces the value whatever it was, and a big value survives.
        let big = "x".repeat(1 << 20);
        let _: () = q(c, &["SET", "k", &big]);
        assert_eq!(q::<i64>(c, &["STRLEN", "k"]), 1 << 20, "{proto}");
        assert_eq!(get(c, "k").map(|v| v.len()), Some(1 << 20), "{proto}");
    }
}

#[test]
fn set_nx_xx_get() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        let _: () = q(c, &["FLUSHALL"]);
        assert_eq!(raw(c, &["SET", "k", "1", "NX"]), Value::Okay, "{proto}");
        assert_eq!(raw(c, &["SET", "k", "2", "NX"]), Value::Nil, "{proto}");
        assert_eq!(get(c, "k").as_deref(), Some("1"));
        assert_eq!(raw(c, &["SET", "other", "2", "XX"]), Value::Nil, "{proto}");
        assert_eq!(q::<i64>(c, &["EXISTS", "other"]), 0);
        assert_eq!(raw(c, &["SET", "k", "3", "xx"]), Value::Okay, "{proto}");
        assert_eq!(get(c, "k").as_deref(), Some("3"));
        // GET returns the old value (nil when there was none) and still sets.
        assert_eq!(
            raw(c, &["SET", "k", "4", "GET"]),
            Value::BulkString(b"3".to_vec())
        );
        assert_eq!(raw(c, &["SET", "new", "1", "GET"]), Value::Nil);
        assert_eq!(get(c, "new").as_deref(), Some("1"));
        // GET with NX/XX: the old value comes back whether or not the write happened.
        assert_eq!(
            raw(c, &["SET", "k", "5", "NX", "GET"]),
            Value::BulkString(b"4".to_vec())
        );
        assert_eq!(get(c, "k").as_deref(), Some("4"));
        assert_eq!(raw(c, &["SET", "nokey", "5", "XX", "GET"]), Value::Nil);
        assert_eq!(q::<i64>(c, &["EXISTS", "nokey"]), 0);
        assert_eq!(raw(c, &["SET", "nokey2", "5", "NX", "GET"]), Value::Nil);
        assert_eq!(get(c, "nokey2").as_deref(), Some("5"));
        assert_eq!(
            raw(c, &["SET", "k", "6", "XX", "GET"]),
            Value::BulkString(b"4".to_vec())
        );
        assert_eq!(get(c, "k").as_deref(), Some("6"));
        // Repeating a flag is fine; NX with XX is not.
        assert_eq!(
            raw(c, &["SET", "k", "7", "GET", "GET"]),
            Value::BulkString(b"6".to_vec())
        );
        assert_eq!(raw(c, &["SET", "k", "8", "XX", "XX"]), Value::Okay);
        assert_eq!(err(c, &["SET", "k", "v", "NX", "XX"]), SYNTAX);
        assert_eq!(err(c, &["SET", "k", "v", "XX", "NX"]), SYNTAX);
    }
}

#[test]
fn set_expiry_options() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    let _: () = q(c, &["SET", "k", "v", "EX", "100"]);
    assert!((99..=100).contains(&ttl(c, "k")));
    let _: () = q(c, &["SET", "k", "v", "PX", "100000"]);
    assert!((99..=100).contains(&ttl(c, "k")));
    let at = now_ms() / 1000 + 100;
    let _: () = q(c, &["SET", "k", "v", "EXAT", &at.to_string()]);
    assert_eq!(q::<i64>(c, &["EXPIRETIME", "k"]), at);
    let pat = now_ms() + 100_000;
    let _: () = q(c, &["SET", "k", "v", "PXAT", &pat.to_string()]);
    assert_eq!(q::<i64>(c, &["PEXPIRETIME", "k"]), pat);
    // A plain SET removes the TTL, KEEPTTL keeps it.
    let _: () = q(c, &["SET", "k", "v2", "KEEPTTL"]);
    assert_eq!(q::<i64>(c, &["PEXPIRETIME", "k"]), pat);
    assert_eq!(get(c, "k").as_deref(), Some("v2"));
    let _: () = q(c, &["SET", "k", "v3"]);
    assert_eq!(ttl(c, "k"), -1);
    // KEEPTTL on a new key: no TTL.
    let _: () = q(c, &["SET", "fresh", "v", "KEEPTTL"]);
    assert_eq!(ttl(c, "fresh"), -1);
    // The same expiry option twice: the last one wins.
    let _: () = q(c, &["SET", "k", "v", "EX", "10", "EX", "200"]);
    assert!((199..=200).contains(&ttl(c, "k")));
    // Options are case-insensitive and combine.
    let _: () = q(c, &["SET", "k", "v", "xx", "px", "50000", "get"]);
    assert!((49..=50).contains(&ttl(c, "k")));

    // A PXAT in the past stores a key that is already expired.
    let before = expired_keys(c);
    let _: () = q(c, &["SET", "k", "v", "PXAT", "1"]);
    assert_eq!(get(c, "k"), None);
    assert_eq!(q::<i64>(c, &["EXISTS", "k"]), 0);
    assert!(expired_keys(c) > before);
}

#[test]
fn set_errors() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    for bad in [
        &["SET", "k", "v", "foo"][..],
        &["SET", "k", "v", "EX"],
        &["SET", "k", "v", "EX", "10", "PX", "10"],
        &["SET", "k", "v", "PX", "10", "EXAT", "10"],
        &["SET", "k", "v", "EX", "10", "KEEPTTL"],
        &["SET", "k", "v", "KEEPTTL", "EX", "10"],
        &["SET", "k", "v", "PERSIST"],
        // Option syntax is checked before the expiry value.
        &["SET", "k", "v", "EX", "abc", "NX", "XX"],
    ] {
        assert_eq!(err(c, bad), SYNTAX, "{bad:?}");
    }
    assert_eq!(err(c, &["SET", "k", "v", "EX", "abc"]), NOT_INTEGER);
    assert_eq!(err(c, &["SET", "k", "v", "PX", "1.5"]), NOT_INTEGER);
    for (opt, n) in [
        ("EX", "0"),
        ("EX", "-1"),
        ("PX", "0"),
        ("EXAT", "0"),
        ("PXAT", "-5"),
        ("EX", "9223372036854775807"),
        ("EX", "9223372036854775"),
        ("PX", "9223372036854775807"),
        ("EXAT", "9223372036854775807"),
    ] {
        assert_eq!(
            err(c, &["SET", "k", "v", opt, n]),
            "ERR invalid expire time in 'set' command",
            "{opt} {n}"
        );
    }
    // Nothing was written by the failed commands.
    assert_eq!(q::<i64>(c, &["EXISTS", "k"]), 0);
    // PXAT at the largest value is fine.
    let _: () = q(c, &["SET", "k", "v", "PXAT", "9223372036854775807"]);
    assert_eq!(q::<i64>(c, &["PEXPIRETIME", "k"]), i64::MAX);
}

#[test]
fn setnx_setex_psetex() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    assert_eq!(q::<i64>(c, &["SETNX", "k", "1"]), 1);
    assert_eq!(q::<i64>(c, &["SETNX", "k", "2"]), 0);
    assert_eq!(get(c, "k").as_deref(), Some("1"));

    let _: () = q(c, &["SETEX", "k", "100", "v"]);
    assert!((99..=100).contains(&ttl(c, "k")));
    assert_eq!(get(c, "k").as_deref(), Some("v"));
    let _: () = q(c, &["PSETEX", "k", "100000", "w"]);
    assert!((99_000..=100_000).contains(&pttl(c, "k")));
    assert_eq!(get(c, "k").as_deref(), Some("w"));
    // SETNX sees a key with a TTL as present.
    assert_eq!(q::<i64>(c, &["SETNX", "k", "x"]), 0);

    for (name, n) in [
        ("SETEX", "0"),
        ("SETEX", "-10"),
        ("PSETEX", "0"),
        ("SETEX", "9223372036854775807"),
    ] {
        assert_eq!(
            err(c, &[name, "k", n, "v"]),
            format!(
                "ERR invalid expire time in '{}' command",
                name.to_lowercase()
            )
        );
    }
    assert_eq!(err(c, &["SETEX", "k", "ten", "v"]), NOT_INTEGER);
    assert_eq!(get(c, "k").as_deref(), Some("w"));
}

#[test]
fn mget_mset_msetnx() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        let _: () = q(c, &["FLUSHALL"]);
        assert_eq!(
            raw(c, &["MSET", "a", "1", "b", "2"]),
            Value::Okay,
            "{proto}"
        );
        assert_eq!(
            raw(c, &["MGET", "a", "missing", "b"]),
            Value::Array(vec![
                Value::BulkString(b"1".to_vec()),
                Value::Nil,
                Value::BulkString(b"2".to_vec()),
            ]),
            "{proto}"
        );
        // The same key twice: the last value wins.
        let _: () = q(c, &["MSET", "x", "xxx", "x", "yyy"]);
        assert_eq!(get(c, "x").as_deref(), Some("yyy"));
        // MSETNX writes nothing if any key exists.
        assert_eq!(q::<i64>(c, &["MSETNX", "x", "zzz", "new", "1"]), 0);
        assert_eq!(get(c, "x").as_deref(), Some("yyy"));
        assert_eq!(q::<i64>(c, &["EXISTS", "new"]), 0);
        assert_eq!(q::<i64>(c, &["MSETNX", "n1", "a", "n2", "b"]), 1);
        assert_eq!(get(c, "n2").as_deref(), Some("b"));
        assert_eq!(q::<i64>(c, &["MSETNX", "d", "1", "d", "2"]), 1);
        assert_eq!(get(c, "d").as_deref(), Some("2"));
        // MSET removes TTLs.
        let _: () = q(c, &["SET", "t", "v", "EX", "100"]);
        let _: () = q(c, &["MSET", "t", "w"]);
        assert_eq!(ttl(c, "t"), -1);
        // Odd argument counts.
        assert_eq!(err(c, &["MSET", "a", "1", "b"]), arity("mset"));
        assert_eq!(err(c, &["MSETNX", "a", "1", "b"]), arity("msetnx"));
        assert_eq!(err(c, &["MSET", "a"]), arity("mset"));
    }
}

#[test]
fn getset_getdel() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    assert_eq!(q::<Option<String>>(c, &["GETSET", "k", "1"]), None);
    assert_eq!(
        q::<Option<String>>(c, &["GETSET", "k", "2"]).as_deref(),
        Some("1")
    );
    assert_eq!(get(c, "k").as_deref(), Some("2"));
    // GETSET drops the TTL.
    let _: () = q(c, &["EXPIRE", "k", "100"]);
    let _: Option<String> = q(c, &["GETSET", "k", "3"]);
    assert_eq!(ttl(c, "k"), -1);

    assert_eq!(
        q::<Option<String>>(c, &["GETDEL", "k"]).as_deref(),
        Some("3")
    );
    assert_eq!(q::<i64>(c, &["EXISTS", "k"]), 0);
    assert_eq!(q::<Option<String>>(c, &["GETDEL", "k"]), None);
}

#[test]
fn getex_options() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        let _: () = q(c, &["FLUSHALL"]);
        let _: () = q(c, &["SET", "k", "v"]);
        assert_eq!(
            raw(c, &["GETEX", "k"]),
            Value::BulkString(b"v".to_vec()),
            "{proto}"
        );
        assert_eq!(ttl(c, "k"), -1);
        assert_eq!(get(c, "k").as_deref(), Some("v"));
        let _: String = q(c, &["GETEX", "k", "EX", "100"]);
        assert!((99..=100).contains(&ttl(c, "k")));
        let _: String = q(c, &["GETEX", "k", "PX", "200000"]);
        assert!((199..=200).contains(&ttl(c, "k")));
        let at = now_ms() / 1000 + 300;
        let _: String = q(c, &["GETEX", "k", "EXAT", &at.to_string()]);
        assert_eq!(q::<i64>(c, &["EXPIRETIME", "k"]), at);
        let pat = now_ms() + 400_000;
        let _: String = q(c, &["GETEX", "k", "PXAT", &pat.to_string()]);
        assert_eq!(q::<i64>(c, &["PEXPIRETIME", "k"]), pat);
        // GETEX without options leaves the TTL alone; PERSIST removes it.
        let _: String = q(c, &["GETEX", "k"]);
        assert_eq!(q::<i64>(c, &["PEXPIRETIME", "k"]), pat);
        let _: String = q(c, &["GETEX", "k", "PERSIST"]);
        assert_eq!(ttl(c, "k"), -1);
        // Repeats of the same option are allowed, the last value wins.
        let _: String = q(c, &["GETEX", "k", "EX", "10", "EX", "500"]);
        assert!((499..=500).contains(&ttl(c, "k")));
        let _: String = q(c, &["GETEX", "k", "PERSIST", "PERSIST"]);
        assert_eq!(ttl(c, "k"), -1);
        // Missing key: nil, even with an expiry Redis would reject, since the key is looked up
        // first.
        assert_eq!(
            raw(c, &["GETEX", "missing", "EX", "100"]),
            Value::Nil,
            "{proto}"
        );
        assert_eq!(
            raw(c, &["GETEX", "missing", "EX", "0"]),
            Value::Nil,
            "{proto}"
        );
        assert_eq!(q::<i64>(c, &["EXISTS", "missing"]), 0);
        // An EXAT in the past deletes the key; that is a deletion, not an expiry.
        let before = expired_keys(c);
        assert_eq!(
            raw(c, &["GETEX", "k", "PXAT", "1"]),
            Value::BulkString(b"v".to_vec())
        );
        assert_eq!(q::<i64>(c, &["EXISTS", "k"]), 0);
        assert_eq!(expired_keys(c), before);
    }
}

#[test]
fn getex_errors() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    let _: () = q(c, &["SET", "k", "v"]);
    for bad in [
        &["GETEX", "k", "PERSIST", "EX", "10"][..],
        &["GETEX", "k", "EX", "10", "PERSIST"],
        &["GETEX", "k", "EX", "10", "PX", "10"],
        &["GETEX", "k", "EX"],
        &["GETEX", "k", "KEEPTTL"],
        &["GETEX", "k", "GET"],
        &["GETEX", "k", "NX"],
        &["GETEX", "k", "foo"],
        &["GETEX", "missing", "foo"],
    ] {
        assert_eq!(err(c, bad), SYNTAX, "{bad:?}");
    }
    assert_eq!(err(c, &["GETEX", "k", "EX", "abc"]), NOT_INTEGER);
    for (opt, n) in [
        ("EX", "0"),
        ("EX", "-1"),
        ("PXAT", "0"),
        ("EX", "9223372036854775807"),
        ("PX", "9223372036854775807"),
    ] {
        assert_eq!(
            err(c, &["GETEX", "k", opt, n]),
            "ERR invalid expire time in 'getex' command",
            "{opt} {n}"
        );
    }
    assert_eq!(ttl(c, "k"), -1);
    assert_eq!(err(c, &["GETEX"]), arity("getex"));
}

#[test]
fn append_and_strlen() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        let _: () = q(c, &["FLUSHALL"]);
        assert_eq!(q::<i64>(c, &["APPEND", "k", "hello"]), 5, "{proto}");
        assert_eq!(q::<i64>(c, &["APPEND", "k", " world"]), 11);
        assert_eq!(get(c, "k").as_deref(), Some("hello world"));
        assert_eq!(q::<i64>(c, &["STRLEN", "k"]), 11);
        assert_eq!(q::<i64>(c, &["STRLEN", "missing"]), 0);
        let _: () = q(c, &["SET", "n", "-555"]);
        assert_eq!(q::<i64>(c, &["STRLEN", "n"]), 4);
        // APPEND keeps the TTL.
        let _: () = q(c, &["SET", "t", "a", "EX", "100"]);
        let _: i64 = q(c, &["APPEND", "t", "b"]);
        assert!(ttl(c, "t") > 0);
        // A reader's copy is not changed by a later APPEND.
        let before = get(c, "k");
        let _: i64 = q(c, &["APPEND", "k", "!"]);
        assert_eq!(before.as_deref(), Some("hello world"));
        assert_eq!(get(c, "k").as_deref(), Some("hello world!"));
    }
}

#[test]
fn append_and_setrange_make_strings_raw() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    let _: () = q(c, &["SET", "k", "1"]);
    assert_eq!(encoding(c, "k"), "int");
    let _: i64 = q(c, &["APPEND", "k", "2"]);
    assert_eq!(get(c, "k").as_deref(), Some("12"));
    assert_eq!(encoding(c, "k"), "raw");
    // Even an empty APPEND rewrites the value in place.
    let _: () = q(c, &["SET", "k", "1"]);
    let _: i64 = q(c, &["APPEND", "k", ""]);
    assert_eq!(encoding(c, "k"), "raw");
    // SETRANGE with nothing to write leaves the encoding; with something, the string is raw.
    let _: () = q(c, &["SET", "k", "1234"]);
    assert_eq!(q::<i64>(c, &["SETRANGE", "k", "0", ""]), 4);
    assert_eq!(encoding(c, "k"), "int");
    assert_eq!(q::<i64>(c, &["SETRANGE", "k", "0", "2"]), 4);
    assert_eq!(get(c, "k").as_deref(), Some("2234"));
    assert_eq!(encoding(c, "k"), "raw");
    // SETRANGE creating a key builds a raw string; APPEND creating one encodes by content.
    assert_eq!(q::<i64>(c, &["SETRANGE", "new", "0", "1"]), 1);
    assert_eq!(encoding(c, "new"), "raw");
    assert_eq!(q::<i64>(c, &["APPEND", "new2", "12"]), 2);
    assert_eq!(encoding(c, "new2"), "int");
    // A counter write makes it an integer again; SET picks by content.
    for op in [
        &["INCR", "k"][..],
        &["DECR", "k"],
        &["INCRBY", "k", "1"],
        &["DECRBY", "k", "1"],
    ] {
        let _: i64 = q(c, &["APPEND", "k", "0"]);
        assert_eq!(encoding(c, "k"), "raw");
        let _: i64 = q(c, op);
        assert_eq!(encoding(c, "k"), "int", "{op:?}");
    }
    let _: () = q(c, &["SET", "k", &"a".repeat(44)]);
    assert_eq!(encoding(c, "k"), "embstr");
    let _: () = q(c, &["SET", "k", &"a".repeat(45)]);
    assert_eq!(encoding(c, "k"), "raw");
    let _: () = q(c, &["SET", "k", "01"]);
    assert_eq!(encoding(c, "k"), "embstr");
}

#[test]
fn counters() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        let _: () = q(c, &["FLUSHALL"]);
        assert_eq!(q::<i64>(c, &["INCR", "n"]), 1, "{proto}");
        assert_eq!(q::<i64>(c, &["INCR", "n"]), 2);
        assert_eq!(q::<i64>(c, &["DECR", "n"]), 1);
        assert_eq!(q::<i64>(c, &["DECR", "m"]), -1);
        assert_eq!(q::<i64>(c, &["INCRBY", "n", "17179869184"]), 17179869185);
        assert_eq!(q::<i64>(c, &["DECRBY", "n", "17179869185"]), 0);
        assert_eq!(q::<i64>(c, &["DECRBY", "fresh", "5"]), -5);
        assert_eq!(q::<i64>(c, &["INCRBY", "n", "-3"]), -3);
        assert_eq!(get(c, "n").as_deref(), Some("-3"));
        // Counters keep the TTL.
        let _: () = q(c, &["SET", "t", "10", "EX", "100"]);
        assert_eq!(q::<i64>(c, &["INCR", "t"]), 11);
        assert!(ttl(c, "t") > 0);

        let _: () = q(c, &["SET", "big", "9223372036854775807"]);
        assert_eq!(
            err(c, &["INCR", "big"]),
            "ERR increment or decrement would overflow"
        );
        assert_eq!(
            err(c, &["INCRBY", "big", "1"]),
            "ERR increment or decrement would overflow"
        );
        assert_eq!(q::<i64>(c, &["INCRBY", "big", "-1"]), i64::MAX - 1);
        let _: () = q(c, &["SET", "small", "-9223372036854775808"]);
        assert_eq!(
            err(c, &["DECR", "small"]),
            "ERR increment or decrement would overflow"
        );
        assert_eq!(
            err(c, &["DECRBY", "n", "-9223372036854775808"]),
            "ERR decrement would overflow"
        );
        assert_eq!(get(c, "big").as_deref(), Some("9223372036854775806"));

        for bad in [
            " 1",
            "1 ",
            "01",
            "+1",
            "-0",
            "1.5",
            "abc",
            "",
            "9223372036854775808",
        ] {
            let _: () = redis::cmd("SET").arg("s").arg(bad).query(c).unwrap();
            assert_eq!(err(c, &["INCR", "s"]), NOT_INTEGER, "value {bad:?}");
            assert_eq!(get(c, "s").as_deref(), Some(bad));
            assert_eq!(
                err(c, &["INCRBY", "n", bad]),
                NOT_INTEGER,
                "increment {bad:?}"
            );
        }
        assert_eq!(err(c, &["DECRBY", "n", "x"]), NOT_INTEGER);
    }
}

#[test]
fn incrbyfloat_prints_like_redis() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        let _: () = q(c, &["FLUSHALL"]);
        // Redis adds in 80-bit long double and prints %.17Lf without trailing zeros.
        for (start, by, expected) in [
            ("0.1", "0.2", "0.3"),
            ("10.50", "0.1", "10.6"),
            ("5.0e3", "2.0e2", "5200"),
            ("1000", "0.1", "1000.09999999999999998"),
            ("0.1", "0.7", "0.8"),
            ("17179869184", "1.5", "17179869185.5"),
            ("3", "-3", "0"),
            ("1", "0x10", "17"),
            ("1", ".5", "1.5"),
            ("1", "5.", "6"),
            ("1", "+1", "2"),
            ("1e10", "0.0001", "10000000000.00009999983012676"),
        ] {
            let _: () = q(c, &["SET", "f", start]);
            assert_eq!(
                raw(c, &["INCRBYFLOAT", "f", by]),
                Value::BulkString(expected.as_bytes().to_vec()),
                "{proto}: {start} + {by}"
            );
            assert_eq!(get(c, "f").as_deref(), Some(expected));
        }
        assert_eq!(q::<String>(c, &["INCRBYFLOAT", "newf", "1.5"]), "1.5");
        // No negative zero.
        let _: () = q(c, &["DEL", "z"]);
        let _: String = q(c, &["INCRBYFLOAT", "z", "0.024390243902439025"]);
        assert_eq!(
            q::<String>(c, &["INCRBYFLOAT", "z", "-0.024390243902439025"]),
            "0"
        );
        // A float result is never int-encoded, and the TTL stays.
        let _: () = q(c, &["SET", "f", "1", "EX", "100"]);
        assert_eq!(q::<String>(c, &["INCRBYFLOAT", "f", "1"]), "2");
        assert_eq!(encoding(c, "f"), "embstr");
        assert!(ttl(c, "f") > 0);

        for bad in ["abc", " 1", "1 ", "1e", "nan", "0x", ""] {
            assert_eq!(
                err(c, &["INCRBYFLOAT", "f", bad]),
                NOT_FLOAT,
                "increment {bad:?}"
            );
        }
        let _: () = q(c, &["SET", "s", "hello"]);
        assert_eq!(err(c, &["INCRBYFLOAT", "s", "1"]), NOT_FLOAT);
        // A NUL inside the stored value is not the end of the number.
        let _: () = q(c, &["SET", "s", "1"]);
        let _: i64 = q(c, &["SETRANGE", "s", "2", "2"]);
        assert_eq!(err(c, &["INCRBYFLOAT", "s", "1"]), NOT_FLOAT);
        for by in ["+inf", "-inf", "inf"] {
            assert_eq!(
                err(c, &["INCRBYFLOAT", "f", by]),
                "ERR increment would produce NaN or Infinity"
            );
        }
        let _: () = q(c, &["SET", "huge", "1e4932"]);
        assert_eq!(
            err(c, &["INCRBYFLOAT", "huge", "1e4932"]),
            "ERR increment would produce NaN or Infinity"
        );
        assert_eq!(get(c, "f").as_deref(), Some("2"));
    }
}

#[test]
fn getrange_substr() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    let _: () = q(c, &["SET", "s", "Hello World"]);
    for (start, end, expected) in [
        ("0", "3", "Hell"),
        ("0", "-1", "Hello World"),
        ("-4", "-1", "orld"),
        ("5", "3", ""),
        ("5", "5000", " World"),
        ("-5000", "10000", "Hello World"),
        ("-1", "-5", ""),
        ("0", "-100", "H"),
        ("100", "200", ""),
        ("0", "4294967297", "Hello World"),
    ] {
        assert_eq!(
            q::<String>(c, &["GETRANGE", "s", start, end]),
            expected,
            "{start} {end}"
        );
        assert_eq!(q::<String>(c, &["SUBSTR", "s", start, end]), expected);
    }
    let _: () = q(c, &["SET", "n", "1234"]);
    assert_eq!(q::<String>(c, &["GETRANGE", "n", "0", "2"]), "123");
    assert_eq!(q::<String>(c, &["GETRANGE", "missing", "0", "-1"]), "");
    assert_eq!(err(c, &["GETRANGE", "s", "a", "1"]), NOT_INTEGER);
    assert_eq!(err(c, &["GETRANGE", "s", "0"]), arity("getrange"));
}

#[test]
fn setrange() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    assert_eq!(q::<i64>(c, &["SETRANGE", "k", "0", "foo"]), 3);
    assert_eq!(get(c, "k").as_deref(), Some("foo"));
    assert_eq!(q::<i64>(c, &["SETRANGE", "k", "1", "b"]), 3);
    assert_eq!(get(c, "k").as_deref(), Some("fbo"));
    assert_eq!(q::<i64>(c, &["SETRANGE", "k", "4", "bar"]), 7);
    assert_eq!(get(c, "k").as_deref(), Some("fbo\0bar"));
    assert_eq!(q::<i64>(c, &["SETRANGE", "k", "0", ""]), 7);
    // Padding with zero bytes on a new key; an empty write creates nothing.
    assert_eq!(q::<i64>(c, &["SETRANGE", "p", "2", "x"]), 3);
    assert_eq!(get(c, "p").as_deref(), Some("\0\0x"));
    assert_eq!(q::<i64>(c, &["SETRANGE", "none", "0", ""]), 0);
    assert_eq!(q::<i64>(c, &["SETRANGE", "none", "1000000000", ""]), 0);
    assert_eq!(q::<i64>(c, &["EXISTS", "none"]), 0);
    // The TTL stays.
    let _: () = q(c, &["SET", "t", "abc", "EX", "100"]);
    let _: i64 = q(c, &["SETRANGE", "t", "1", "X"]);
    assert!(ttl(c, "t") > 0);

    assert_eq!(
        err(c, &["SETRANGE", "k", "-1", "x"]),
        "ERR offset is out of range"
    );
    assert_eq!(err(c, &["SETRANGE", "k", "x", "x"]), NOT_INTEGER);
    let too_long = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
    assert_eq!(err(c, &["SETRANGE", "k", "536870911", "xy"]), too_long);
    assert_eq!(
        err(c, &["SETRANGE", "k", "9223372036854775807", "x"]),
        too_long
    );
    assert_eq!(err(c, &["SETRANGE", "new", "536870912", "x"]), too_long);
    assert_eq!(q::<i64>(c, &["EXISTS", "new"]), 0);
    assert_eq!(get(c, "k").as_deref(), Some("fbo\0bar"));
}

#[test]
fn wrong_arity() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    for args in [
        &["GET"][..],
        &["GET", "a", "b"],
        &["SET"],
        &["SET", "k"],
        &["SETNX", "k"],
        &["SETEX", "k", "10"],
        &["PSETEX", "k", "10"],
        &["MGET"],
        &["MSET"],
        &["MSETNX", "k"],
        &["GETSET", "k"],
        &["GETDEL"],
        &["GETDEL", "a", "b"],
        &["GETEX"],
        &["APPEND", "k"],
        &["STRLEN"],
        &["INCR"],
        &["INCR", "a", "b"],
        &["DECR"],
        &["INCRBY", "k"],
        &["DECRBY", "k"],
        &["INCRBYFLOAT", "k"],
        &["GETRANGE", "k", "0"],
        &["SUBSTR", "k"],
        &["SETRANGE", "k", "0"],
    ] {
        assert_eq!(err(c, args), arity(&args[0].to_lowercase()), "{args:?}");
    }
    // The connection is still in sync after all those errors.
    let _: () = q(c, &["SET", "k", "v"]);
    assert_eq!(get(c, "k").as_deref(), Some("v"));
}

#[test]
fn keyspace_hits_and_misses() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    let hits = |c: &mut Connection| -> (u64, u64) {
        (
            info_field(c, "stats", "keyspace_hits").parse().unwrap(),
            info_field(c, "stats", "keyspace_misses").parse().unwrap(),
        )
    };
    let _: () = q(c, &["SET", "k", "v"]);
    let start = hits(c);
    let _: Option<String> = q(c, &["GET", "k"]);
    let _: Option<String> = q(c, &["GET", "nope"]);
    let _: Vec<Option<String>> = q(c, &["MGET", "k", "nope", "k"]);
    // Writes do not count.
    let _: i64 = q(c, &["INCR", "counter"]);
    let _: i64 = q(c, &["APPEND", "k", "x"]);
    let end = hits(c);
    assert_eq!((end.0 - start.0, end.1 - start.1), (3, 2));
}
