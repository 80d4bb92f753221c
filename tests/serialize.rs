//! DUMP and RESTORE against the real server: every type round-trips with its reported encoding,
//! TTL and access options apply, and a payload that is damaged, foreign or truncated is refused
//! with Redis's errors.

mod common;
mod kvhelp;

use common::TestServer;
use kvhelp::*;
use redis::{Connection, Value};

fn dump(c: &mut Connection, key: &str) -> Option<Vec<u8>> {
    redis::cmd("DUMP").arg(key).query(c).expect("DUMP")
}

fn restore(c: &mut Connection, key: &str, ttl: i64, payload: &[u8], opts: &[&str]) -> String {
    match redis::cmd("RESTORE")
        .arg(key)
        .arg(ttl)
        .arg(payload)
        .arg(opts)
        .query::<String>(c)
    {
        Ok(s) => s,
        Err(e) => error_text(&e),
    }
}

#[test]
fn every_type_round_trips_with_its_encoding() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let big = "x".repeat(100);
    let _: () = q(c, &["SET", "str", "hello"]);
    let _: () = q(c, &["SET", "int", "12345"]);
    let _: i64 = q(c, &["HSET", "small-hash", "f", "v", "g", "w"]);
    let _: i64 = q(c, &["HSET", "big-hash", "g", "1", "f", &big]);
    let _: i64 = q(c, &["HDEL", "big-hash", "f"]);
    let _: i64 = q(c, &["HSET", "big-hash", "f", "short"]);
    let _: i64 = q(c, &["SADD", "intset", "1", "2", "3"]);
    let _: i64 = q(c, &["SADD", "lp-set", "a", "b"]);
    let _: i64 = q(c, &["PFADD", "hll", "a", "b", "c"]);
    let _: i64 = q(c, &["RPUSH", "small-list", "a", "1", "b"]);
    let _: () = q(c, &["CONFIG", "SET", "list-max-listpack-size", "4"]);
    let _: i64 = q(c, &["RPUSH", "big-list", "1", "2", "3", "4", "5", "6"]);
    // Popped back under the limit: Redis keeps a quicklist until it is half the limit.
    let _: Vec<String> = q(c, &["RPOP", "big-list", "3"]);
    assert_eq!(
        q::<String>(c, &["OBJECT", "ENCODING", "big-list"]),
        "quicklist"
    );
    let _: i64 = q(
        c,
        &["ZADD", "small-zset", "1.5", "a", "-inf", "b", "2", "c"],
    );
    let _: i64 = q(c, &["ZADD", "big-zset", "1", &big, "2", "x"]);
    let _: i64 = q(c, &["ZREM", "big-zset", &big]);
    for key in [
        "small-zset",
        "big-zset",
        "small-list",
        "big-list",
        "str",
        "int",
        "small-hash",
        "big-hash",
        "intset",
        "lp-set",
        "hll",
    ] {
        let payload = dump(c, key).expect("the key exists");
        let copy = format!("{key}-copy");
        assert_eq!(restore(c, &copy, 0, &payload, &[]), "OK", "{key}");
        assert_eq!(
            q::<String>(c, &["TYPE", &copy]),
            q::<String>(c, &["TYPE", key])
        );
        assert_eq!(
            q::<String>(c, &["OBJECT", "ENCODING", &copy]),
            q::<String>(c, &["OBJECT", "ENCODING", key]),
            "{key}"
        );
        assert_eq!(
            q::<Vec<String>>(c, &["DEBUG", "DIGEST-VALUE", &copy]),
            q::<Vec<String>>(c, &["DEBUG", "DIGEST-VALUE", key]),
            "{key}"
        );
        assert_eq!(q::<i64>(c, &["TTL", &copy]), -1);
    }
    // The reported encoding survived although the hash is small again.
    assert_eq!(
        q::<String>(c, &["OBJECT", "ENCODING", "big-hash-copy"]),
        "hashtable"
    );
    assert_eq!(q::<i64>(c, &["PFCOUNT", "hll-copy"]), 3);
    assert_eq!(
        q::<Vec<String>>(c, &["ZRANGE", "small-zset-copy", "0", "-1", "WITHSCORES"]),
        ["b", "-inf", "a", "1.5", "c", "2"]
    );
    assert_eq!(
        q::<String>(c, &["OBJECT", "ENCODING", "big-zset-copy"]),
        "skiplist"
    );
    assert_eq!(raw(c, &["DUMP", "missing"]), Value::Nil);
}

#[test]
fn ttl_replace_and_access_options() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: () = q(c, &["SET", "k", "v"]);
    let payload = dump(c, "k").expect("exists");

    assert_eq!(
        restore(c, "k", 0, &payload, &[]),
        "BUSYKEY Target key name already exists."
    );
    assert_eq!(restore(c, "k", 0, &payload, &["REPLACE"]), "OK");

    // A relative TTL in milliseconds.
    assert_eq!(restore(c, "t", 100_000, &payload, &[]), "OK");
    let pttl: i64 = q(c, &["PTTL", "t"]);
    assert!(pttl > 90_000 && pttl <= 100_000, "{pttl}");
    // An absolute one.
    let at = now_ms() + 50_000;
    assert_eq!(restore(c, "a", at, &payload, &["ABSTTL"]), "OK");
    assert_eq!(q::<i64>(c, &["PEXPIRETIME", "a"]), at);
    // An absolute time in the past: nothing is created, and REPLACE deletes the old key.
    assert_eq!(restore(c, "gone", 1, &payload, &["ABSTTL"]), "OK");
    assert_eq!(q::<i64>(c, &["EXISTS", "gone"]), 0);
    assert_eq!(restore(c, "a", 1, &payload, &["ABSTTL", "REPLACE"]), "OK");
    assert_eq!(q::<i64>(c, &["EXISTS", "a"]), 0);

    assert_eq!(restore(c, "idle", 0, &payload, &["IDLETIME", "1000"]), "OK");
    assert!(q::<i64>(c, &["OBJECT", "IDLETIME", "idle"]) >= 1000);
    let _: () = q(c, &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
    assert_eq!(restore(c, "freq", 0, &payload, &["FREQ", "100"]), "OK");
    assert_eq!(q::<i64>(c, &["OBJECT", "FREQ", "freq"]), 100);

    for (ttl, opts, want) in [
        (-1, &[][..], "ERR Invalid TTL value, must be >= 0"),
        (
            0,
            &["IDLETIME", "-1"][..],
            "ERR Invalid IDLETIME value, must be >= 0",
        ),
        (
            0,
            &["FREQ", "256"][..],
            "ERR Invalid FREQ value, must be >= 0 and <= 255",
        ),
        (0, &["FREQ", "1", "IDLETIME", "1"][..], "ERR syntax error"),
        (0, &["IDLETIME"][..], "ERR syntax error"),
        (0, &["BOGUS"][..], "ERR syntax error"),
        (
            0,
            &["IDLETIME", "x"][..],
            "ERR value is not an integer or out of range",
        ),
    ] {
        assert_eq!(restore(c, "new", ttl, &payload, opts), want, "{opts:?}");
    }
}

#[test]
fn damaged_payloads_are_refused() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: i64 = q(c, &["SADD", "s", "a", "b", "c"]);
    let payload = dump(c, "s").expect("exists");
    let wrong = "ERR DUMP payload version or checksum are wrong";
    for i in 0..payload.len() {
        let mut bad = payload.clone();
        bad[i] ^= 1;
        assert_eq!(restore(c, "x", 0, &bad, &[]), wrong, "byte {i}");
    }
    assert_eq!(restore(c, "x", 0, &payload[..4], &[]), wrong);
    assert_eq!(restore(c, "x", 0, b"", &[]), wrong);
    // A payload from Redis 7 (RDB version 11) for the string "hello".
    let redis_payload = b"\x00\x05hello\x0b\x00\xf3\x8e\x9a\xd1\x0d\x7d\x5d\x44";
    assert_eq!(restore(c, "x", 0, redis_payload, &[]), wrong);
    // Right envelope, wrong record (an unknown type tag): the checksum passes, the decode fails.
    let mut body = vec![1u8, 99, 0x01, 0x54];
    let crc = crc::Crc::<u64>::new(&crc::CRC_64_REDIS).checksum(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(restore(c, "x", 0, &body, &[]), "ERR Bad data format");
    assert_eq!(q::<i64>(c, &["EXISTS", "x"]), 0);
}
