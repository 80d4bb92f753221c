//! Generic key commands against the real server: DEL UNLINK EXISTS TOUCH TYPE, RENAME RENAMENX,
//! KEYS, SCAN (MATCH COUNT TYPE, its guarantee under concurrent writes, lazy expiry), RANDOMKEY,
//! DBSIZE, FLUSHDB/FLUSHALL, COPY, MOVE, SWAPDB, SELECT over the 16 databases and OBJECT, with
//! Redis's exact replies and error texts.

mod common;
mod kvhelp;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::TestServer;
use kvhelp::*;
use redis::{Connection, Value};

const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
const SYNTAX: &str = "ERR syntax error";
const INT_RANGE: &str = "ERR value is out of range, value must between -2147483648 and 2147483647";
const DB_RANGE: &str = "ERR DB index is out of range";
const SAME: &str = "ERR source and destination objects are the same";

fn get(c: &mut Connection, key: &str) -> Option<String> {
    q(c, &["GET", key])
}

fn dbsize(c: &mut Connection) -> i64 {
    q(c, &["DBSIZE"])
}

fn select(c: &mut Connection, db: usize) {
    let _: () = q(c, &["SELECT", &db.to_string()]);
}

/// A full SCAN iteration with extra arguments; every key returned, in order, duplicates kept.
fn scan_all(c: &mut Connection, extra: &[&str]) -> Vec<String> {
    let mut cursor = "0".to_string();
    let mut keys = Vec::new();
    loop {
        let mut args = vec!["SCAN", cursor.as_str()];
        args.extend_from_slice(extra);
        let (next, batch): (String, Vec<String>) = q(c, &args);
        keys.extend(batch);
        if next == "0" {
            return keys;
        }
        cursor = next;
    }
}

#[test]
fn del_unlink_exists_touch_type() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        let _: () = q(c, &["FLUSHALL"]);
        let _: () = q(c, &["MSET", "a", "1", "b", "2", "c", "3"]);
        assert_eq!(q::<i64>(c, &["EXISTS", "a", "a", "x", "b"]), 3, "{proto}");
        assert_eq!(q::<i64>(c, &["TOUCH", "a", "x", "c"]), 2);
        assert_eq!(raw(c, &["TYPE", "a"]), Value::SimpleString("string".into()));
        assert_eq!(raw(c, &["TYPE", "x"]), Value::SimpleString("none".into()));
        assert_eq!(q::<i64>(c, &["DEL", "a", "a", "x"]), 1);
        assert_eq!(q::<i64>(c, &["UNLINK", "b", "c", "b"]), 2);
        assert_eq!(q::<i64>(c, &["EXISTS", "a", "b", "c"]), 0);
        assert_eq!(dbsize(c), 0);
        // An expired key is not there for any of them.
        let _: () = q(c, &["SET", "e", "v", "PX", "1"]);
        assert!(wait_until(Duration::from_secs(5), || q::<i64>(
            c,
            &["EXISTS", "e"]
        ) == 0));
        let _: () = q(c, &["SET", "e", "v", "PX", "1"]);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(q::<i64>(c, &["DEL", "e"]), 0);
    }
}

#[test]
fn rename_and_renamenx() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    assert_eq!(err(c, &["RENAME", "nokey", "x"]), "ERR no such key");
    assert_eq!(err(c, &["RENAMENX", "nokey", "x"]), "ERR no such key");
    assert_eq!(err(c, &["RENAME", "nokey", "nokey"]), "ERR no such key");

    let _: () = q(c, &["SET", "a", "hello"]);
    let _: () = q(c, &["RENAME", "a", "b"]);
    assert_eq!(q::<i64>(c, &["EXISTS", "a"]), 0);
    assert_eq!(get(c, "b").as_deref(), Some("hello"));
    // Onto an existing key: replaced, and the target's TTL does not survive.
    let _: () = q(c, &["SET", "t", "old", "EX", "100"]);
    let _: () = q(c, &["RENAME", "b", "t"]);
    assert_eq!(get(c, "t").as_deref(), Some("hello"));
    assert_eq!(q::<i64>(c, &["TTL", "t"]), -1);
    // The source's TTL moves with it.
    let _: () = q(c, &["SET", "v", "x", "PX", "100000"]);
    let _: () = q(c, &["RENAME", "v", "w"]);
    assert!(q::<i64>(c, &["PTTL", "w"]) > 90_000);
    // Same name: OK for RENAME, 0 for RENAMENX, the key untouched.
    let _: () = q(c, &["RENAME", "w", "w"]);
    assert_eq!(q::<i64>(c, &["RENAMENX", "w", "w"]), 0);
    assert!(q::<i64>(c, &["PTTL", "w"]) > 90_000);

    assert_eq!(q::<i64>(c, &["RENAMENX", "w", "t"]), 0);
    assert_eq!(get(c, "t").as_deref(), Some("hello"));
    assert_eq!(q::<i64>(c, &["RENAMENX", "w", "z"]), 1);
    assert_eq!(get(c, "z").as_deref(), Some("x"));
    // The encoding travels too.
    let _: () = q(c, &["SET", "n", "1"]);
    let _: i64 = q(c, &["APPEND", "n", "2"]);
    let _: () = q(c, &["RENAME", "n", "m"]);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "m"]), "raw");
}

#[test]
fn keys_patterns() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    for k in [
        "key_x", "key_y", "key_z", "foo_a", "foo_b", "foo_c", "a*b", "[x",
    ] {
        let _: () = q(c, &["SET", k, "v"]);
    }
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(sorted(q(c, &["KEYS", "foo*"])), ["foo_a", "foo_b", "foo_c"]);
    assert_eq!(sorted(q(c, &["KEYS", "key_[xy]"])), ["key_x", "key_y"]);
    assert_eq!(sorted(q(c, &["KEYS", "key_[^x]"])), ["key_y", "key_z"]);
    assert_eq!(
        sorted(q(c, &["KEYS", "???_?"])),
        ["foo_a", "foo_b", "foo_c", "key_x", "key_y", "key_z"]
    );
    assert_eq!(sorted(q(c, &["KEYS", "a\\*b"])), ["a*b"]);
    assert_eq!(sorted(q(c, &["KEYS", "\\[x"])), ["[x"]);
    assert_eq!(
        q::<Vec<String>>(c, &["KEYS", "nomatch*"]),
        Vec::<String>::new()
    );
    assert_eq!(q::<Vec<String>>(c, &["KEYS", "*"]).len(), 8);
    // Expired keys are not listed.
    let _: () = q(c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    let _: () = q(c, &["SET", "foo_gone", "v", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(sorted(q(c, &["KEYS", "foo*"])), ["foo_a", "foo_b", "foo_c"]);
    // Pathological patterns finish.
    let _: () = q(c, &["SET", &"a".repeat(40), "1"]);
    assert!(q::<Vec<String>>(c, &["KEYS", "a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"]).is_empty());
    assert_eq!(err(c, &["KEYS"]), arity("keys"));
}

#[test]
fn scan_iterates_everything() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        let _: () = q(c, &["FLUSHALL"]);
        let mut pipe = redis::pipe();
        for i in 0..1000 {
            pipe.cmd("SET").arg(format!("key:{i}")).arg(i).ignore();
        }
        let _: () = pipe.query(c).unwrap();

        let all = scan_all(c, &[]);
        let unique: HashSet<&String> = all.iter().collect();
        assert_eq!(unique.len(), 1000, "{proto}");
        assert_eq!(all.len(), 1000, "{proto}: no duplicates without writes");
        assert_eq!(scan_all(c, &["COUNT", "5"]).len(), 1000);
        assert_eq!(scan_all(c, &["COUNT", "100000"]).len(), 1000);
        let matched = scan_all(c, &["MATCH", "key:1??"]);
        assert_eq!(matched.len(), 100);
        assert!(matched
            .iter()
            .all(|k| k.starts_with("key:1") && k.len() == 7));
        assert_eq!(scan_all(c, &["TYPE", "string"]).len(), 1000);
        assert_eq!(
            scan_all(c, &["type", "STRING", "MATCH", "key:*", "COUNT", "10"]).len(),
            1000
        );
        assert!(scan_all(c, &["TYPE", "list"]).is_empty());
        assert!(scan_all(c, &["TYPE", "nosuchtype"]).is_empty());

        // The reply is [cursor as bulk string, [keys]].
        match raw(c, &["SCAN", "0", "COUNT", "1"]) {
            Value::Array(items) => {
                assert_eq!(items.len(), 2);
                assert!(matches!(items[0], Value::BulkString(_)));
                assert!(matches!(items[1], Value::Array(_)));
            }
            other => panic!("{proto}: SCAN replied {other:?}"),
        }
    }
}

#[test]
fn scan_small_database_in_one_call() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    let _: () = q(c, &["MSET", "a", "1", "b", "2", "c", "3"]);
    let (cursor, mut keys): (String, Vec<String>) = q(c, &["SCAN", "0"]);
    keys.sort();
    assert_eq!(cursor, "0");
    assert_eq!(keys, ["a", "b", "c"]);
    let (cursor, keys): (String, Vec<String>) = q(c, &["SCAN", "0", "TYPE", "hash"]);
    assert_eq!((cursor.as_str(), keys.len()), ("0", 0));
}

#[test]
fn scan_arguments() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    let _: () = q(c, &["SET", "k", "v"]);
    for bad in ["abc", " 1", "1 ", "-", "1.5", "18446744073709551616"] {
        assert_eq!(err(c, &["SCAN", bad]), "ERR invalid cursor", "{bad:?}");
    }
    // strtoul rules: a negative cursor wraps around (past the end: an empty last page), an
    // empty one is 0.
    let (cursor, keys): (String, Vec<String>) = q(c, &["SCAN", "-1"]);
    assert_eq!((cursor.as_str(), keys.len()), ("0", 0));
    let (cursor, keys): (String, Vec<String>) = q(c, &["SCAN", ""]);
    assert_eq!((cursor.as_str(), keys), ("0", vec!["k".to_string()]));
    for bad in [
        &["SCAN", "0", "COUNT", "0"][..],
        &["SCAN", "0", "COUNT", "-1"],
        &["SCAN", "0", "MATCH"],
        &["SCAN", "0", "COUNT"],
        &["SCAN", "0", "TYPE"],
        &["SCAN", "0", "FOO", "bar"],
    ] {
        assert_eq!(err(c, bad), SYNTAX, "{bad:?}");
    }
    assert_eq!(err(c, &["SCAN", "0", "COUNT", "x"]), NOT_INTEGER);
    assert_eq!(err(c, &["SCAN"]), arity("scan"));
}

#[test]
fn scan_guarantee_under_concurrent_writes() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    let stable: HashSet<String> = (0..2000).map(|i| format!("stable:{i}")).collect();
    let mut pipe = redis::pipe();
    for k in &stable {
        pipe.cmd("SET").arg(k).arg("v").ignore();
    }
    let _: () = pipe.query(c).unwrap();

    // A second connection adds and deletes other keys for as long as the scan runs.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let mut w = server.client();
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let mut pipe = redis::pipe();
                for j in 0..20 {
                    pipe.cmd("SET")
                        .arg(format!("churn:{}", n + j))
                        .arg("x")
                        .ignore();
                }
                if n >= 100 {
                    for j in 0..20 {
                        pipe.cmd("DEL")
                            .arg(format!("churn:{}", n + j - 100))
                            .ignore();
                    }
                }
                let _: () = pipe.query(&mut w).unwrap();
                n += 20;
            }
            n
        })
    };
    // Wait until the writer is going, then scan in small steps.
    assert!(wait_until(Duration::from_secs(10), || dbsize(c) > 2000));
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let (next, batch): (String, Vec<String>) = q(c, &["SCAN", &cursor, "COUNT", "20"]);
        seen.extend(batch);
        calls += 1;
        if next == "0" {
            break;
        }
        cursor = next;
    }
    stop.store(true, Ordering::Relaxed);
    let written = writer.join().expect("writer thread");
    assert!(written > 0);
    assert!(calls > 10, "the scan took several steps ({calls})");
    let missing: Vec<&String> = stable.iter().filter(|k| !seen.contains(*k)).collect();
    assert!(
        missing.is_empty(),
        "SCAN missed {} stable keys, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    // Whatever else it returned was a churn key.
    assert!(seen
        .iter()
        .all(|k| k.starts_with("stable:") || k.starts_with("churn:")));
}

#[test]
fn scan_removes_expired_keys_it_meets() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    let _: () = q(c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    let mut pipe = redis::pipe();
    for i in 0..100 {
        pipe.cmd("SET").arg(format!("live:{i}")).arg("v").ignore();
    }
    let _: () = pipe.query(c).unwrap();
    for k in ["gone:1", "gone:2", "other:1"] {
        let _: () = q(c, &["SET", k, "v", "PX", "1"]);
    }
    assert!(wait_until(Duration::from_secs(5), || {
        q::<i64>(c, &["PTTL", "other:1"]) == -2
    }));
    // PTTL removed other:1; the two gone:* keys are expired but still counted.
    assert_eq!(dbsize(c), 102);
    let before = expired_keys(c);
    // Keys the pattern rejects are left alone.
    let matched = scan_all(c, &["MATCH", "live:*", "COUNT", "10"]);
    assert_eq!(matched.len(), 100);
    assert_eq!(dbsize(c), 102);
    // A scan that matches them removes them and does not return them.
    let all = scan_all(c, &["COUNT", "10"]);
    assert_eq!(all.len(), 100);
    assert!(all.iter().all(|k| k.starts_with("live:")));
    assert_eq!(dbsize(c), 100);
    assert_eq!(expired_keys(c), before + 2);
}

#[test]
fn randomkey() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    assert_eq!(raw(c, &["RANDOMKEY"]), Value::Nil);
    let _: () = q(c, &["MSET", "foo", "x", "bar", "y"]);
    let mut seen = HashSet::new();
    for _ in 0..200 {
        seen.insert(q::<String>(c, &["RANDOMKEY"]));
        if seen.len() == 2 {
            break;
        }
    }
    assert_eq!(seen, HashSet::from(["foo".to_string(), "bar".to_string()]));
    let _: () = q(c, &["SET", "x", "1"]);
    let _: i64 = q(c, &["DEL", "x", "foo", "bar"]);
    assert_eq!(raw(c, &["RANDOMKEY"]), Value::Nil);

    // Among many expired keys (not yet removed), the one live key is still found.
    let _: () = q(c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    let mut pipe = redis::pipe();
    for i in 0..2000 {
        pipe.cmd("SET")
            .arg(format!("exp:{i}"))
            .arg("v")
            .arg("PX")
            .arg(1)
            .ignore();
    }
    let _: () = pipe.query(c).unwrap();
    let _: () = q(c, &["SET", "alive", "v"]);
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(
        q::<Option<String>>(c, &["RANDOMKEY"]).as_deref(),
        Some("alive")
    );
    assert_eq!(err(c, &["RANDOMKEY", "x"]), arity("randomkey"));
}

#[test]
fn dbsize_flushdb_flushall() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    let _: () = q(c, &["MSET", "a", "1", "b", "2"]);
    select(c, 1);
    let _: () = q(c, &["SET", "c", "3"]);
    assert_eq!(dbsize(c), 1);
    let _: () = q(c, &["FLUSHDB"]);
    assert_eq!(dbsize(c), 0);
    select(c, 0);
    assert_eq!(dbsize(c), 2);
    for mode in ["ASYNC", "SYNC", "async"] {
        let _: () = q(c, &["MSET", "a", "1", "b", "2"]);
        let _: () = q(c, &["FLUSHDB", mode]);
        assert_eq!(dbsize(c), 0, "{mode}");
    }
    for mode in [None, Some("ASYNC"), Some("SYNC")] {
        for db in [0, 5, 15] {
            select(c, db);
            let _: () = q(c, &["SET", "k", "v"]);
        }
        let mut args = vec!["FLUSHALL"];
        args.extend(mode);
        let _: () = q(c, &args);
        for db in [0, 5, 15] {
            select(c, db);
            assert_eq!(dbsize(c), 0, "{mode:?} db {db}");
        }
    }
    select(c, 0);
    for bad in [
        &["FLUSHDB", "LAZY"][..],
        &["FLUSHDB", "ASYNC", "SYNC"],
        &["FLUSHALL", "x"],
    ] {
        assert_eq!(err(c, bad), SYNTAX, "{bad:?}");
    }
    assert_eq!(err(c, &["DBSIZE", "x"]), arity("dbsize"));
}

#[test]
fn copy() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    let _: () = q(c, &["SET", "src", "foobar"]);
    assert_eq!(q::<i64>(c, &["COPY", "src", "dst"]), 1);
    assert_eq!(get(c, "dst").as_deref(), Some("foobar"));
    // Independent copies.
    let _: i64 = q(c, &["APPEND", "src", "!"]);
    assert_eq!(get(c, "dst").as_deref(), Some("foobar"));
    // No REPLACE: refused; REPLACE: done.
    let _: () = q(c, &["SET", "other", "x"]);
    assert_eq!(q::<i64>(c, &["COPY", "src", "other"]), 0);
    assert_eq!(get(c, "other").as_deref(), Some("x"));
    assert_eq!(q::<i64>(c, &["COPY", "src", "other", "REPLACE"]), 1);
    assert_eq!(get(c, "other").as_deref(), Some("foobar!"));
    // Missing source.
    assert_eq!(q::<i64>(c, &["COPY", "nosrc", "dst2"]), 0);
    assert_eq!(q::<i64>(c, &["EXISTS", "dst2"]), 0);
    // TTL and encoding come along; no TTL stays no TTL.
    let _: () = q(c, &["SET", "t", "v", "EX", "100"]);
    assert_eq!(q::<i64>(c, &["COPY", "t", "t2"]), 1);
    assert!(q::<i64>(c, &["TTL", "t2"]) > 90);
    assert_eq!(q::<i64>(c, &["COPY", "dst", "t2", "REPLACE"]), 1);
    assert_eq!(q::<i64>(c, &["TTL", "t2"]), -1);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "src"]), "raw");
    assert_eq!(q::<i64>(c, &["COPY", "src", "s2"]), 1);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "s2"]), "raw");
    // To another database, and onto itself there.
    assert_eq!(q::<i64>(c, &["COPY", "src", "src", "DB", "3"]), 1);
    assert_eq!(q::<i64>(c, &["COPY", "src", "src", "db", "3"]), 0);
    assert_eq!(
        q::<i64>(c, &["COPY", "src", "src", "DB", "3", "REPLACE"]),
        1
    );
    select(c, 3);
    assert_eq!(get(c, "src").as_deref(), Some("foobar!"));
    select(c, 0);

    assert_eq!(err(c, &["COPY", "src", "src"]), SAME);
    assert_eq!(err(c, &["COPY", "src", "src", "DB", "0"]), SAME);
    assert_eq!(err(c, &["COPY", "src", "x", "DB", "16"]), DB_RANGE);
    assert_eq!(err(c, &["COPY", "src", "x", "DB", "-1"]), DB_RANGE);
    assert_eq!(
        err(c, &["COPY", "src", "x", "DB", "notanumber"]),
        NOT_INTEGER
    );
    assert_eq!(err(c, &["COPY", "src", "x", "DB", "4294967296"]), INT_RANGE);
    assert_eq!(err(c, &["COPY", "src", "x", "DB"]), SYNTAX);
    assert_eq!(err(c, &["COPY", "src", "x", "FOO"]), SYNTAX);
    assert_eq!(err(c, &["COPY", "src"]), arity("copy"));
}

#[test]
fn move_between_databases() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    let _: () = q(c, &["SET", "k", "foobar", "EX", "100"]);
    assert_eq!(q::<i64>(c, &["MOVE", "k", "10"]), 1);
    assert_eq!(q::<i64>(c, &["EXISTS", "k"]), 0);
    select(c, 10);
    assert_eq!(get(c, "k").as_deref(), Some("foobar"));
    assert!(q::<i64>(c, &["TTL", "k"]) > 90);
    select(c, 0);
    // Target already has it: nothing moves.
    let _: () = q(c, &["SET", "k", "other"]);
    assert_eq!(q::<i64>(c, &["MOVE", "k", "10"]), 0);
    assert_eq!(get(c, "k").as_deref(), Some("other"));
    assert_eq!(q::<i64>(c, &["MOVE", "missing", "10"]), 0);
    // No TTL stays no TTL.
    assert_eq!(q::<i64>(c, &["MOVE", "k", "11"]), 1);
    select(c, 11);
    assert_eq!(q::<i64>(c, &["TTL", "k"]), -1);
    select(c, 0);

    let _: () = q(c, &["SET", "k", "v"]);
    assert_eq!(err(c, &["MOVE", "k", "0"]), SAME);
    assert_eq!(err(c, &["MOVE", "k", "notanumber"]), NOT_INTEGER);
    assert_eq!(err(c, &["MOVE", "k", "16"]), DB_RANGE);
    assert_eq!(err(c, &["MOVE", "k", "-1"]), DB_RANGE);
    assert_eq!(err(c, &["MOVE", "k", "4294967296"]), INT_RANGE);
    assert_eq!(err(c, &["MOVE", "k"]), arity("move"));
}

#[test]
fn swapdb() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    let _: () = q(c, &["SET", "k", "zero"]);
    select(c, 1);
    let _: () = q(c, &["MSET", "k", "one", "k2", "x"]);
    let _: () = q(c, &["SWAPDB", "0", "1"]);
    // This connection stays on db 1, which now holds db 0's data.
    assert_eq!(get(c, "k").as_deref(), Some("zero"));
    assert_eq!(dbsize(c), 1);
    select(c, 0);
    assert_eq!(get(c, "k").as_deref(), Some("one"));
    assert_eq!(dbsize(c), 2);
    let _: () = q(c, &["SWAPDB", "3", "3"]);

    assert_eq!(err(c, &["SWAPDB", "a", "1"]), "ERR invalid first DB index");
    assert_eq!(err(c, &["SWAPDB", "0", "a"]), "ERR invalid second DB index");
    // Both are parsed before either is range-checked.
    assert_eq!(
        err(c, &["SWAPDB", "16", "a"]),
        "ERR invalid second DB index"
    );
    assert_eq!(
        err(c, &["SWAPDB", "4294967296", "0"]),
        "ERR invalid first DB index"
    );
    assert_eq!(err(c, &["SWAPDB", "0", "16"]), DB_RANGE);
    assert_eq!(err(c, &["SWAPDB", "-1", "0"]), DB_RANGE);
    assert_eq!(err(c, &["SWAPDB", "0"]), arity("swapdb"));
}

#[test]
fn select_sixteen_databases() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        let _: () = q(c, &["FLUSHALL"]);
        for db in 0..16 {
            select(c, db);
            for i in 0..=db {
                let _: () = q(c, &["SET", &format!("k{i}"), &format!("db{db}")]);
            }
        }
        for db in 0..16 {
            select(c, db);
            assert_eq!(dbsize(c), db as i64 + 1, "{proto} db {db}");
            assert_eq!(get(c, "k0"), Some(format!("db{db}")));
        }
        assert_eq!(err(c, &["SELECT", "16"]), DB_RANGE);
        assert_eq!(err(c, &["SELECT", "-1"]), DB_RANGE);
        assert_eq!(err(c, &["SELECT", "x"]), NOT_INTEGER);
        // The failed SELECTs left the connection on db 15.
        assert_eq!(dbsize(c), 16);
        select(c, 0);
    }
}

#[test]
fn object_subcommands() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        let _: () = q(c, &["FLUSHALL"]);
        let _: () = q(c, &["CONFIG", "SET", "maxmemory-policy", "noeviction"]);
        let _: () = q(c, &["SET", "i", "12345"]);
        let _: () = q(c, &["SET", "e", "hello"]);
        let _: () = q(c, &["SET", "r", &"x".repeat(100)]);
        for (key, enc) in [("i", "int"), ("e", "embstr"), ("r", "raw")] {
            assert_eq!(
                raw(c, &["OBJECT", "ENCODING", key]),
                Value::BulkString(enc.as_bytes().to_vec()),
                "{proto} {key}"
            );
        }
        for sub in ["ENCODING", "REFCOUNT", "IDLETIME"] {
            assert_eq!(
                raw(c, &["OBJECT", sub, "missing"]),
                Value::Nil,
                "{proto} {sub}"
            );
        }
        // Small integers are Redis's shared objects.
        for (value, refcount) in [
            ("0", 2147483647),
            ("9999", 2147483647),
            ("10000", 1),
            ("-1", 1),
            ("abc", 1),
        ] {
            let _: () = q(c, &["SET", "n", value]);
            assert_eq!(
                q::<i64>(c, &["OBJECT", "REFCOUNT", "n"]),
                refcount,
                "{value}"
            );
        }
        let _: () = q(c, &["SET", "n", "9998"]);
        let _: i64 = q(c, &["INCR", "n"]);
        assert_eq!(q::<i64>(c, &["OBJECT", "REFCOUNT", "n"]), 2147483647);
        let _: i64 = q(c, &["INCR", "n"]);
        assert_eq!(q::<i64>(c, &["OBJECT", "REFCOUNT", "n"]), 1);
        // COPY duplicates the object: the copy of a shared integer is its own, until rewritten.
        let _: () = q(c, &["SET", "n", "5"]);
        let _: i64 = q(c, &["COPY", "n", "n2"]);
        let _: () = q(c, &["RENAME", "n2", "n3"]);
        assert_eq!(q::<i64>(c, &["OBJECT", "REFCOUNT", "n"]), 2147483647);
        assert_eq!(q::<i64>(c, &["OBJECT", "REFCOUNT", "n3"]), 1);
        assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "n3"]), "int");
        let _: i64 = q(c, &["INCR", "n3"]);
        assert_eq!(q::<i64>(c, &["OBJECT", "REFCOUNT", "n3"]), 2147483647);

        assert_eq!(q::<i64>(c, &["OBJECT", "IDLETIME", "e"]), 0);
        let lfu_off = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
        assert_eq!(err(c, &["OBJECT", "FREQ", "e"]), lfu_off);
        let _: () = q(c, &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
        let _: () = q(c, &["SET", "f", "v"]);
        assert!(q::<i64>(c, &["OBJECT", "FREQ", "f"]) >= 5);
        let lfu_on = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
        assert_eq!(err(c, &["OBJECT", "IDLETIME", "f"]), lfu_on);
        let _: () = q(c, &["CONFIG", "SET", "maxmemory-policy", "noeviction"]);

        let help: Vec<String> = q(c, &["OBJECT", "HELP"]);
        assert_eq!(
            help.first().map(String::as_str),
            Some("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        );
        assert!(help.iter().any(|l| l == "REFCOUNT <key>"));
        assert_eq!(
            help.last().map(String::as_str),
            Some("    Print this help.")
        );
        assert_eq!(
            err(c, &["OBJECT", "FOO", "k"]),
            "ERR unknown subcommand 'FOO'. Try OBJECT HELP."
        );
        assert_eq!(err(c, &["OBJECT", "ENCODING"]), arity("object|encoding"));
        assert_eq!(
            err(c, &["OBJECT", "ENCODING", "a", "b"]),
            arity("object|encoding")
        );
        assert_eq!(err(c, &["OBJECT"]), arity("object"));
    }
}

#[test]
fn reads_that_do_not_touch_the_access_clock_still_count_hits() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    let stat = |c: &mut Connection, f: &str| -> u64 { info_field(c, "stats", f).parse().unwrap() };
    let _: () = q(c, &["SET", "k", "v"]);
    let (h0, m0) = (stat(c, "keyspace_hits"), stat(c, "keyspace_misses"));
    let _: i64 = q(c, &["TTL", "k"]);
    let _: i64 = q(c, &["PTTL", "nope"]);
    let _: String = q(c, &["TYPE", "k"]);
    let _: i64 = q(c, &["EXISTS", "k", "nope"]);
    let _: Option<String> = q(c, &["OBJECT", "ENCODING", "k"]);
    let _: i64 = q(c, &["EXPIRETIME", "nope"]);
    let _: i64 = q(c, &["COPY", "k", "k2"]);
    // Writes and whole-keyspace reads do not count.
    let _: i64 = q(c, &["DEL", "k2"]);
    let _: i64 = q(c, &["DBSIZE"]);
    let _: Vec<String> = q(c, &["KEYS", "*"]);
    assert_eq!(stat(c, "keyspace_hits") - h0, 5);
    assert_eq!(stat(c, "keyspace_misses") - m0, 3);
}

#[test]
fn wrong_arity() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    for args in [
        &["DEL"][..],
        &["UNLINK"],
        &["EXISTS"],
        &["TOUCH"],
        &["TYPE"],
        &["TYPE", "a", "b"],
        &["RENAME", "a"],
        &["RENAMENX", "a", "b", "c"],
        &["KEYS", "a", "b"],
        &["SCAN"],
        &["RANDOMKEY", "x"],
        &["DBSIZE", "x"],
        &["SWAPDB", "0", "1", "2"],
        &["MOVE", "k"],
        &["COPY", "k"],
        &["SELECT"],
    ] {
        assert_eq!(err(c, args), arity(&args[0].to_lowercase()), "{args:?}");
    }
}
