//! Hash commands against the real server over RESP2 and RESP3: HSET HSETNX HGET HMGET HMSET
//! HDEL HEXISTS HLEN HSTRLEN HKEYS HVALS HGETALL HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN, their
//! error texts, WRONGTYPE both ways, TYPE / OBJECT ENCODING / COPY / MEMORY USAGE / DIGEST on
//! hashes, and the RESP3 reply shapes.

mod common;
mod kvhelp;

use std::collections::{BTreeMap, BTreeSet};

use common::TestServer;
use kvhelp::*;
use redis::{Connection, Value};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
const SYNTAX: &str = "ERR syntax error";

fn s(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("not a bulk string: {other:?}"),
    }
}

fn hgetall(c: &mut Connection, key: &str) -> BTreeMap<String, String> {
    q(c, &["HGETALL", key])
}

#[test]
fn set_get_and_friends() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        let _: () = q(c, &["FLUSHALL"]);
        assert_eq!(
            q::<i64>(c, &["HSET", "h", "a", "1", "b", "2"]),
            2,
            "{proto}"
        );
        assert_eq!(
            q::<i64>(c, &["HSET", "h", "a", "10", "c", "3"]),
            1,
            "{proto}"
        );
        assert_eq!(
            q::<Option<String>>(c, &["HGET", "h", "a"]).as_deref(),
            Some("10")
        );
        assert_eq!(raw(c, &["HGET", "h", "zz"]), Value::Nil, "{proto}");
        assert_eq!(raw(c, &["HGET", "nokey", "a"]), Value::Nil, "{proto}");
        assert_eq!(
            q::<Vec<Option<String>>>(c, &["HMGET", "h", "a", "zz", "c"]),
            vec![Some("10".into()), None, Some("3".into())]
        );
        assert_eq!(
            q::<Vec<Option<String>>>(c, &["HMGET", "nokey", "a", "b"]),
            vec![None, None]
        );
        assert_eq!(
            raw(c, &["HMSET", "h", "d", "4", "e", ""]),
            Value::Okay,
            "{proto}"
        );
        assert_eq!(q::<i64>(c, &["HLEN", "h"]), 5);
        assert_eq!(q::<i64>(c, &["HLEN", "nokey"]), 0);
        assert_eq!(q::<i64>(c, &["HEXISTS", "h", "d"]), 1);
        assert_eq!(q::<i64>(c, &["HEXISTS", "h", "zz"]), 0);
        assert_eq!(q::<i64>(c, &["HEXISTS", "nokey", "d"]), 0);
        assert_eq!(q::<i64>(c, &["HSTRLEN", "h", "a"]), 2);
        assert_eq!(q::<i64>(c, &["HSTRLEN", "h", "e"]), 0);
        assert_eq!(q::<i64>(c, &["HSTRLEN", "h", "zz"]), 0);
        assert_eq!(q::<i64>(c, &["HSTRLEN", "nokey", "a"]), 0);
        assert_eq!(q::<i64>(c, &["HSETNX", "h", "a", "x"]), 0);
        assert_eq!(q::<i64>(c, &["HSETNX", "h", "f", "6"]), 1);
        assert_eq!(q::<i64>(c, &["HSETNX", "new", "f", "6"]), 1);
        assert_eq!(q::<String>(c, &["HGET", "h", "a"]), "10");
        let keys: BTreeSet<String> = q(c, &["HKEYS", "h"]);
        let want: BTreeSet<String> = ["a", "b", "c", "d", "e", "f"].map(String::from).into();
        assert_eq!(keys, want, "{proto}");
        let mut vals: Vec<String> = q(c, &["HVALS", "h"]);
        vals.sort();
        assert_eq!(vals, ["", "10", "2", "3", "4", "6"]);
        let all = hgetall(c, "h");
        assert_eq!(all.len(), 6);
        assert_eq!(all["a"], "10");
        assert_eq!(all["e"], "");
        assert!(hgetall(c, "nokey").is_empty());
        assert!(q::<Vec<String>>(c, &["HKEYS", "nokey"]).is_empty());
        assert!(q::<Vec<String>>(c, &["HVALS", "nokey"]).is_empty());
        // Binary fields and values round-trip.
        let bin: Vec<u8> = (0..=255u8).collect();
        let _: i64 = redis::cmd("HSET")
            .arg("bin")
            .arg(&bin)
            .arg(&bin)
            .query(c)
            .unwrap();
        let back: Vec<u8> = redis::cmd("HGET").arg("bin").arg(&bin).query(c).unwrap();
        assert_eq!(back, bin);
    }
}

#[test]
fn arity_and_pair_errors() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    assert_eq!(err(c, &["HSET", "h", "a"]), arity("hset"));
    assert_eq!(err(c, &["HSET", "h", "a", "1", "b"]), arity("hset"));
    assert_eq!(err(c, &["HMSET", "h", "a", "1", "b"]), arity("hmset"));
    assert_eq!(err(c, &["HGET", "h"]), arity("hget"));
    assert_eq!(err(c, &["HDEL", "h"]), arity("hdel"));
    assert_eq!(err(c, &["HMGET", "h"]), arity("hmget"));
    assert_eq!(err(c, &["HSETNX", "h", "a"]), arity("hsetnx"));
    assert_eq!(err(c, &["HINCRBY", "h", "a"]), arity("hincrby"));
    assert_eq!(err(c, &["HRANDFIELD"]), arity("hrandfield"));
    assert_eq!(err(c, &["HSCAN", "h"]), arity("hscan"));
    // Nothing was created by the failed calls.
    assert_eq!(q::<i64>(c, &["EXISTS", "h"]), 0);
}

#[test]
fn hdel_removes_empty_hash() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: i64 = q(c, &["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(q::<i64>(c, &["HDEL", "h", "a", "zz", "a"]), 1);
    assert_eq!(q::<i64>(c, &["HDEL", "h", "zz"]), 0);
    assert_eq!(q::<i64>(c, &["HDEL", "nokey", "a"]), 0);
    assert_eq!(q::<i64>(c, &["HLEN", "h"]), 2);
    assert_eq!(q::<i64>(c, &["HDEL", "h", "b", "c"]), 2);
    assert_eq!(q::<i64>(c, &["EXISTS", "h"]), 0);
    assert_eq!(q::<String>(c, &["TYPE", "h"]), "none");
    // A deletion of nothing does not touch a WATCHed key.
    let _: i64 = q(c, &["HSET", "w", "a", "1"]);
    let _: () = q(c, &["WATCH", "w"]);
    assert_eq!(q::<i64>(c, &["HDEL", "w", "zz"]), 0);
    assert_eq!(q::<i64>(c, &["HSETNX", "w", "a", "2"]), 0);
    let _: () = q(c, &["MULTI"]);
    let _: () = q(c, &["PING"]);
    assert_eq!(
        raw(c, &["EXEC"]),
        Value::Array(vec![Value::SimpleString("PONG".into())])
    );
}

#[test]
fn hincrby_and_hincrbyfloat() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    assert_eq!(q::<i64>(c, &["HINCRBY", "h", "n", "5"]), 5);
    assert_eq!(q::<i64>(c, &["HINCRBY", "h", "n", "-7"]), -2);
    assert_eq!(q::<String>(c, &["HGET", "h", "n"]), "-2");
    let _: i64 = q(
        c,
        &[
            "HSET",
            "h",
            "s",
            "abc",
            "big",
            "9223372036854775807",
            "sp",
            " 1",
        ],
    );
    assert_eq!(
        err(c, &["HINCRBY", "h", "s", "1"]),
        "ERR hash value is not an integer"
    );
    assert_eq!(
        err(c, &["HINCRBY", "h", "sp", "1"]),
        "ERR hash value is not an integer"
    );
    assert_eq!(
        err(c, &["HINCRBY", "h", "big", "1"]),
        "ERR increment or decrement would overflow"
    );
    assert_eq!(err(c, &["HINCRBY", "h", "n", "x"]), NOT_INTEGER);
    assert_eq!(q::<i64>(c, &["HINCRBY", "h", "big", "-1"]), i64::MAX - 1);

    assert_eq!(q::<String>(c, &["HINCRBYFLOAT", "h", "f", "0.1"]), "0.1");
    assert_eq!(q::<String>(c, &["HINCRBYFLOAT", "h", "f", "0.2"]), "0.3");
    assert_eq!(q::<String>(c, &["HINCRBYFLOAT", "h", "n", "1.5"]), "-0.5");
    assert_eq!(q::<String>(c, &["HINCRBYFLOAT", "h", "k", "5.0e3"]), "5000");
    assert_eq!(
        q::<String>(c, &["HINCRBYFLOAT", "h", "k", "1000.1"]),
        "6000.10000000000000009"
    );
    assert_eq!(
        err(c, &["HINCRBYFLOAT", "h", "s", "1"]),
        "ERR hash value is not a float"
    );
    assert_eq!(
        err(c, &["HINCRBYFLOAT", "h", "f", "x"]),
        "ERR value is not a valid float"
    );
    assert_eq!(
        err(c, &["HINCRBYFLOAT", "h", "f", "inf"]),
        "ERR value is NaN or Infinity"
    );
    let _: i64 = q(c, &["HSET", "h", "huge", "1e4932"]);
    assert_eq!(
        err(c, &["HINCRBYFLOAT", "h", "huge", "1e4932"]),
        "ERR increment would produce NaN or Infinity"
    );
    // Type is checked before the stored value but after the increment.
    let _: () = q(c, &["SET", "str", "1"]);
    assert_eq!(err(c, &["HINCRBY", "str", "f", "1"]), WRONGTYPE);
    assert_eq!(err(c, &["HINCRBY", "str", "f", "x"]), NOT_INTEGER);
    assert_eq!(err(c, &["HINCRBYFLOAT", "str", "f", "1"]), WRONGTYPE);
}

#[test]
fn wrongtype_both_ways() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: () = q(c, &["SET", "str", "v"]);
    let _: i64 = q(c, &["HSET", "h", "a", "1"]);
    for args in [
        &["HSET", "str", "a", "1"][..],
        &["HMSET", "str", "a", "1"],
        &["HSETNX", "str", "a", "1"],
        &["HGET", "str", "a"],
        &["HMGET", "str", "a"],
        &["HDEL", "str", "a"],
        &["HEXISTS", "str", "a"],
        &["HLEN", "str"],
        &["HSTRLEN", "str", "a"],
        &["HKEYS", "str"],
        &["HVALS", "str"],
        &["HGETALL", "str"],
        &["HRANDFIELD", "str"],
        &["HRANDFIELD", "str", "2"],
        &["HSCAN", "str", "0"],
    ] {
        assert_eq!(err(c, args), WRONGTYPE, "{args:?}");
    }
    for args in [
        &["GET", "h"][..],
        &["APPEND", "h", "x"],
        &["STRLEN", "h"],
        &["INCR", "h"],
        &["INCRBYFLOAT", "h", "1"],
        &["GETRANGE", "h", "0", "1"],
        &["SETRANGE", "h", "0", "x"],
        &["GETSET", "h", "x"],
        &["GETDEL", "h"],
        &["GETEX", "h"],
        &["SETBIT", "h", "1", "1"],
        &["GETBIT", "h", "1"],
        &["BITCOUNT", "h"],
        &["BITPOS", "h", "1"],
        &["BITFIELD", "h", "GET", "u8", "0"],
        &["BITOP", "AND", "dest", "h"],
        &["PFADD", "h", "x"],
        &["PFCOUNT", "h"],
        &["LCS", "h", "str"],
    ] {
        let e = err(c, args);
        assert!(
            e.starts_with("WRONGTYPE") || e.starts_with("ERR The specified keys"),
            "{args:?}: {e}"
        );
    }
    // MGET answers nil for a hash, and nothing above changed it.
    assert_eq!(
        raw(c, &["MGET", "str", "h"]),
        Value::Array(vec![Value::BulkString(b"v".to_vec()), Value::Nil])
    );
    assert_eq!(q::<String>(c, &["HGET", "h", "a"]), "1");
    // SET replaces a hash whatever its type.
    let _: () = q(c, &["SET", "h", "now a string"]);
    assert_eq!(q::<String>(c, &["TYPE", "h"]), "string");
}

#[test]
fn type_encoding_copy_memory_digest() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: i64 = q(c, &["HSET", "h", "a", "1"]);
    assert_eq!(q::<String>(c, &["TYPE", "h"]), "hash");
    let scan: (String, Vec<String>) = q(c, &["SCAN", "0", "TYPE", "hash"]);
    assert_eq!(scan.1, vec!["h".to_string()]);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "h"]), "listpack");
    let mem1: i64 = q(c, &["MEMORY", "USAGE", "h"]);
    let _: i64 = q(c, &["HSET", "h", "b", &"x".repeat(64)]);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "h"]), "listpack");
    let _: i64 = q(c, &["HSET", "h", "c", &"x".repeat(65)]);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "h"]), "hashtable");
    // Like Redis's conversion, going back under the limits keeps the hashtable.
    let _: i64 = q(c, &["HDEL", "h", "c"]);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "h"]), "hashtable");
    // Too many fields.
    for i in 0..128 {
        let _: i64 = q(c, &["HSET", "many", &format!("f{i}"), "v"]);
    }
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "many"]), "listpack");
    let _: i64 = q(c, &["HSET", "many", "one-more", "v"]);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "many"]), "hashtable");
    // MEMORY USAGE grows with the hash.
    let mem2: i64 = q(c, &["MEMORY", "USAGE", "h"]);
    assert!(mem2 > mem1, "{mem1} -> {mem2}");
    for i in 0..1000 {
        let _: i64 = q(c, &["HSET", "h", &format!("field:{i}"), &"v".repeat(100)]);
    }
    let mem3: i64 = q(c, &["MEMORY", "USAGE", "h"]);
    assert!(mem3 > mem2 + 1000 * 100, "{mem2} -> {mem3}");

    // COPY is independent of its source.
    let _: () = q(c, &["DEL", "h"]);
    let _: i64 = q(c, &["HSET", "h", "a", "1", "b", "2"]);
    assert_eq!(q::<i64>(c, &["COPY", "h", "h2"]), 1);
    assert_eq!(q::<String>(c, &["TYPE", "h2"]), "hash");
    let _: i64 = q(c, &["HSET", "h2", "a", "changed", "z", "26"]);
    let _: i64 = q(c, &["HDEL", "h2", "b"]);
    let orig = hgetall(c, "h");
    assert_eq!(orig.len(), 2);
    assert_eq!(orig["a"], "1");
    assert_eq!(orig["b"], "2");
    assert_eq!(hgetall(c, "h2").len(), 2);
    // Modifying the source leaves the copy alone too.
    assert_eq!(q::<i64>(c, &["COPY", "h", "h3"]), 1);
    let _: i64 = q(c, &["HINCRBY", "h", "a", "5"]);
    assert_eq!(q::<String>(c, &["HGET", "h3", "a"]), "1");

    // DIGEST-VALUE does not depend on the order the fields were written in.
    let _: i64 = q(c, &["HSET", "o1", "a", "1", "b", "2", "c", "3"]);
    let _: i64 = q(c, &["HSET", "o2", "c", "3", "a", "1", "b", "2"]);
    let _: i64 = q(c, &["HSET", "o3", "c", "3", "a", "1", "b", "x"]);
    let d: Vec<String> = q(c, &["DEBUG", "DIGEST-VALUE", "o1", "o2", "o3"]);
    assert_eq!(d[0], d[1]);
    assert_ne!(d[0], d[2]);
    assert_ne!(d[0], "0".repeat(40));
    // And a renamed hash keeps its fields.
    let _: () = q(c, &["RENAME", "o1", "o4"]);
    assert_eq!(hgetall(c, "o4").len(), 3);
}

#[test]
fn hgetall_shapes() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        let _: () = q(c, &["FLUSHALL"]);
        let _: i64 = q(c, &["HSET", "h", "a", "1"]);
        let v = raw(c, &["HGETALL", "h"]);
        if proto == "RESP3" {
            assert_eq!(
                v,
                Value::Map(vec![(
                    Value::BulkString(b"a".to_vec()),
                    Value::BulkString(b"1".to_vec())
                )])
            );
            assert_eq!(raw(c, &["HGETALL", "nokey"]), Value::Map(vec![]));
        } else {
            assert_eq!(
                v,
                Value::Array(vec![
                    Value::BulkString(b"a".to_vec()),
                    Value::BulkString(b"1".to_vec())
                ])
            );
            assert_eq!(raw(c, &["HGETALL", "nokey"]), Value::Array(vec![]));
        }
    }
}

#[test]
fn hrandfield() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        let _: () = q(c, &["FLUSHALL"]);
        let _: i64 = q(c, &["HSET", "h", "a", "1", "b", "2", "c", "3"]);
        let all: BTreeSet<String> = ["a", "b", "c"].map(String::from).into();
        let one: String = q(c, &["HRANDFIELD", "h"]);
        assert!(all.contains(&one));
        assert_eq!(raw(c, &["HRANDFIELD", "nokey"]), Value::Nil);
        assert_eq!(raw(c, &["HRANDFIELD", "nokey", "3"]), Value::Array(vec![]));
        assert_eq!(raw(c, &["HRANDFIELD", "h", "0"]), Value::Array(vec![]));
        // Positive counts give distinct fields, at most all of them.
        let two: Vec<String> = q(c, &["HRANDFIELD", "h", "2"]);
        assert_eq!(two.len(), 2);
        assert_ne!(two[0], two[1]);
        let many: BTreeSet<String> = q(c, &["HRANDFIELD", "h", "10"]);
        assert_eq!(many, all);
        // Negative counts give exactly that many picks, repeats allowed.
        let picks: Vec<String> = q(c, &["HRANDFIELD", "h", "-20"]);
        assert_eq!(picks.len(), 20);
        assert!(picks.iter().all(|p| all.contains(p)));
        // A count no client could use is refused rather than built in memory.
        assert_eq!(
            err(c, &["HRANDFIELD", "h", "-1000000000000000"]),
            "ERR value is out of range"
        );
        // WITHVALUES: a flat list in RESP2, [field, value] pairs in RESP3.
        let v = raw(c, &["HRANDFIELD", "h", "-5", "WITHVALUES"]);
        let Value::Array(items) = v else {
            panic!("{v:?}")
        };
        if proto == "RESP3" {
            assert_eq!(items.len(), 5);
            for item in &items {
                let Value::Array(pair) = item else {
                    panic!("{item:?}")
                };
                assert_eq!(pair.len(), 2);
                let (f, val) = (s(&pair[0]), s(&pair[1]));
                assert_eq!(q::<String>(c, &["HGET", "h", &f]), val);
            }
        } else {
            assert_eq!(items.len(), 10);
            for pair in items.chunks(2) {
                assert_eq!(q::<String>(c, &["HGET", "h", &s(&pair[0])]), s(&pair[1]));
            }
        }
        let v = raw(c, &["HRANDFIELD", "h", "3", "withvalues"]);
        let Value::Array(items) = v else {
            panic!("{v:?}")
        };
        assert_eq!(items.len(), if proto == "RESP3" { 3 } else { 6 });
        assert_eq!(err(c, &["HRANDFIELD", "h", "1", "WITHSCORES"]), SYNTAX);
        assert_eq!(err(c, &["HRANDFIELD", "h", "1", "WITHVALUES", "x"]), SYNTAX);
        assert_eq!(err(c, &["HRANDFIELD", "h", "x"]), NOT_INTEGER);
        assert_eq!(
            err(c, &["HRANDFIELD", "h", "-9223372036854775808"]),
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
        );
        assert_eq!(
            err(c, &["HRANDFIELD", "h", "9223372036854775807", "WITHVALUES"]),
            "ERR value is out of range"
        );
    }
}

#[test]
fn hscan() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: i64 = q(
        c,
        &["HSET", "h", "apple", "1", "apricot", "2", "banana", "3"],
    );
    let (cursor, items): (String, Vec<String>) = q(c, &["HSCAN", "h", "0"]);
    assert_eq!(cursor, "0");
    assert_eq!(items.len(), 6);
    let got: BTreeMap<String, String> = items
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect();
    assert_eq!(got["banana"], "3");
    let (cursor, items): (String, Vec<String>) =
        q(c, &["HSCAN", "h", "0", "MATCH", "ap*", "COUNT", "1"]);
    assert_eq!(cursor, "0");
    let fields: BTreeSet<String> = items.chunks(2).map(|p| p[0].clone()).collect();
    assert_eq!(fields, ["apple", "apricot"].map(String::from).into());
    let (_, items): (String, Vec<String>) = q(c, &["HSCAN", "nokey", "0"]);
    assert!(items.is_empty());
    assert_eq!(err(c, &["HSCAN", "h", "x"]), "ERR invalid cursor");
    assert_eq!(err(c, &["HSCAN", "h", "0", "COUNT", "0"]), SYNTAX);
    assert_eq!(err(c, &["HSCAN", "h", "0", "COUNT", "x"]), NOT_INTEGER);
    assert_eq!(err(c, &["HSCAN", "h", "0", "MATCH"]), SYNTAX);
    assert_eq!(err(c, &["HSCAN", "h", "0", "BOGUS"]), SYNTAX);
    // A missing key answers an empty scan before looking at the options, as Redis does.
    let (_, items): (String, Vec<String>) = q(c, &["HSCAN", "nokey", "0", "BOGUS"]);
    assert!(items.is_empty());
}

#[test]
fn hash_commands_in_command_table() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let info = raw(c, &["COMMAND", "INFO", "hset", "hgetall"]);
    let Value::Array(items) = info else {
        panic!("{info:?}")
    };
    assert_eq!(items.len(), 2);
    assert!(
        items.iter().all(|i| matches!(i, Value::Array(_))),
        "{items:?}"
    );
    let text = format!("{items:?}");
    assert!(text.contains("@hash"), "{text}");
}

#[test]
fn encoding_thresholds_follow_config() {
    let server = TestServer::start(&["--hash-max-listpack-value", "8"]);
    let mut c = server.client();
    let c = &mut c;
    assert_eq!(
        q::<Vec<String>>(c, &["CONFIG", "GET", "hash-max-ziplist-value"]),
        vec!["hash-max-ziplist-value", "8"]
    );
    let _: i64 = q(c, &["HSET", "h", "f", "123456789"]);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "h"]), "hashtable");
    let _: () = q(c, &["CONFIG", "SET", "hash-max-listpack-entries", "2"]);
    let _: i64 = q(c, &["HSET", "g", "a", "1", "b", "2"]);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "g"]), "listpack");
    let _: i64 = q(c, &["HSET", "g", "c", "3"]);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "g"]), "hashtable");
}

/// Small hashes list fields in insertion order (Redis's listpack), deletions included; a big
/// one is scanned COUNT at a time and every field present throughout the scan is returned,
/// even while other fields are deleted and added between the calls.
#[test]
fn order_and_cursor_scans() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: i64 = q(c, &["HSET", "h", "z", "1", "a", "2", "m", "3", "b", "4"]);
    let _: i64 = q(c, &["HDEL", "h", "a"]);
    assert_eq!(q::<Vec<String>>(c, &["HKEYS", "h"]), ["z", "m", "b"]);
    let scan: (String, Vec<String>) = q(c, &["HSCAN", "h", "0", "COUNT", "1"]);
    assert_eq!(
        scan,
        (
            "0".into(),
            vec![
                "z".into(),
                "1".into(),
                "m".into(),
                "3".into(),
                "b".into(),
                "4".into()
            ]
        )
    );

    for i in 0..1000 {
        let _: i64 = q(c, &["HSET", "big", &format!("f{i}"), "v"]);
    }
    let mut seen = BTreeSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let (next, items): (String, Vec<String>) = q(c, &["HSCAN", "big", &cursor, "COUNT", "50"]);
        calls += 1;
        for pair in items.chunks(2) {
            seen.insert(pair[0].clone());
        }
        // Churn between calls: delete fields the test does not require, add new ones.
        let _: i64 = q(c, &["HDEL", "big", &format!("f{}", 999 - calls)]);
        let _: i64 = q(c, &["HSET", "big", &format!("new{calls}"), "v"]);
        if next == "0" {
            break;
        }
        cursor = next;
    }
    assert!(
        calls > 10,
        "a 1000-field hash takes many COUNT 50 calls, took {calls}"
    );
    for i in 0..(999 - calls) {
        assert!(
            seen.contains(&format!("f{i}")),
            "f{i} was present throughout but not returned"
        );
    }
}
