//! Set commands against the real server over RESP2 and RESP3: SADD SREM SISMEMBER SMISMEMBER
//! SCARD SMEMBERS SPOP SRANDMEMBER SMOVE SINTER SUNION SDIFF SINTERCARD and the STORE forms,
//! SSCAN, their error texts, empty-set deletion, WRONGTYPE both ways, TYPE / OBJECT ENCODING /
//! COPY / MEMORY USAGE / DIGEST on sets, the RESP3 reply shapes and SINTERCARD's numkeys key spec
//! in COMMAND.

mod common;
mod kvhelp;

use std::collections::BTreeSet;

use common::TestServer;
use kvhelp::*;
use redis::{Connection, Value};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
const SYNTAX: &str = "ERR syntax error";

fn set_of(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn members(c: &mut Connection, key: &str) -> BTreeSet<String> {
    q(c, &["SMEMBERS", key])
}

/// The reply must be a set in RESP3 and an array in RESP2; its members.
#[track_caller]
fn set_reply(proto: &str, v: Value) -> BTreeSet<String> {
    let items = match (proto, v) {
        ("RESP3", Value::Set(items)) => items,
        ("RESP2", Value::Array(items)) => items,
        (_, other) => panic!("{proto}: unexpected shape {other:?}"),
    };
    items
        .iter()
        .map(|i| match i {
            Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("not a bulk string: {other:?}"),
        })
        .collect()
}

#[test]
fn single_key_commands() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        let _: () = q(c, &["FLUSHALL"]);
        assert_eq!(q::<i64>(c, &["SADD", "s", "a", "b", "a"]), 2, "{proto}");
        assert_eq!(q::<i64>(c, &["SADD", "s", "b", "c"]), 1);
        assert_eq!(q::<i64>(c, &["SCARD", "s"]), 3);
        assert_eq!(q::<i64>(c, &["SCARD", "nokey"]), 0);
        assert_eq!(q::<i64>(c, &["SISMEMBER", "s", "a"]), 1);
        assert_eq!(q::<i64>(c, &["SISMEMBER", "s", "z"]), 0);
        assert_eq!(q::<i64>(c, &["SISMEMBER", "nokey", "a"]), 0);
        assert_eq!(
            q::<Vec<i64>>(c, &["SMISMEMBER", "s", "a", "z", "c"]),
            vec![1, 0, 1]
        );
        assert_eq!(
            q::<Vec<i64>>(c, &["SMISMEMBER", "nokey", "a", "b"]),
            vec![0, 0]
        );
        assert_eq!(
            set_reply(proto, raw(c, &["SMEMBERS", "s"])),
            set_of(&["a", "b", "c"])
        );
        assert_eq!(
            set_reply(proto, raw(c, &["SMEMBERS", "nokey"])),
            set_of(&[])
        );
        assert_eq!(q::<i64>(c, &["SREM", "s", "a", "z", "a"]), 1);
        assert_eq!(q::<i64>(c, &["SREM", "s", "z"]), 0);
        assert_eq!(q::<i64>(c, &["SREM", "nokey", "a"]), 0);
        assert_eq!(members(c, "s"), set_of(&["b", "c"]));
        // Binary members survive the round trip.
        let bin = vec![0u8, 255, b'\r', b'\n'];
        let added: i64 = redis::cmd("SADD").arg("bin").arg(&bin).query(c).unwrap();
        assert_eq!(added, 1);
        let back: Vec<Vec<u8>> = redis::cmd("SMEMBERS").arg("bin").query(c).unwrap();
        assert_eq!(back, vec![bin]);
    }
}

#[test]
fn arity_errors() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    for (args, name) in [
        (&["SADD", "s"][..], "sadd"),
        (&["SREM", "s"], "srem"),
        (&["SISMEMBER", "s"], "sismember"),
        (&["SMISMEMBER", "s"], "smismember"),
        (&["SCARD"], "scard"),
        (&["SMEMBERS"], "smembers"),
        (&["SPOP"], "spop"),
        (&["SRANDMEMBER"], "srandmember"),
        (&["SMOVE", "a", "b"], "smove"),
        (&["SINTER"], "sinter"),
        (&["SUNION"], "sunion"),
        (&["SDIFF"], "sdiff"),
        (&["SINTERSTORE", "d"], "sinterstore"),
        (&["SUNIONSTORE", "d"], "sunionstore"),
        (&["SDIFFSTORE", "d"], "sdiffstore"),
        (&["SSCAN", "s"], "sscan"),
    ] {
        assert_eq!(err(c, args), arity(name), "{args:?}");
    }
    assert_eq!(q::<i64>(c, &["EXISTS", "s", "d"]), 0);
}

#[test]
fn emptied_sets_are_deleted() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: i64 = q(c, &["SADD", "s", "a", "b"]);
    assert_eq!(q::<i64>(c, &["SREM", "s", "a", "b"]), 2);
    assert_eq!(q::<i64>(c, &["EXISTS", "s"]), 0);
    assert_eq!(q::<String>(c, &["TYPE", "s"]), "none");

    let _: i64 = q(c, &["SADD", "s", "a", "b"]);
    let popped: BTreeSet<String> = q(c, &["SPOP", "s", "5"]);
    assert_eq!(popped, set_of(&["a", "b"]));
    assert_eq!(q::<i64>(c, &["EXISTS", "s"]), 0);

    let _: i64 = q(c, &["SADD", "s", "a"]);
    assert_eq!(q::<String>(c, &["SPOP", "s"]), "a");
    assert_eq!(q::<i64>(c, &["EXISTS", "s"]), 0);

    let _: i64 = q(c, &["SADD", "s", "a"]);
    assert_eq!(q::<i64>(c, &["SMOVE", "s", "t", "a"]), 1);
    assert_eq!(q::<i64>(c, &["EXISTS", "s"]), 0);
    assert_eq!(members(c, "t"), set_of(&["a"]));

    // A removal of nothing does not touch a WATCHed key.
    let _: () = q(c, &["WATCH", "t"]);
    assert_eq!(q::<i64>(c, &["SREM", "t", "zz"]), 0);
    assert_eq!(q::<i64>(c, &["SADD", "t", "a"]), 0);
    assert_eq!(q::<i64>(c, &["SMOVE", "t", "u", "zz"]), 0);
    let _: () = q(c, &["MULTI"]);
    let _: () = q(c, &["PING"]);
    assert_eq!(
        raw(c, &["EXEC"]),
        Value::Array(vec![Value::SimpleString("PONG".into())])
    );
}

#[test]
fn spop_and_srandmember() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        let _: () = q(c, &["FLUSHALL"]);
        let all = set_of(&["a", "b", "c", "d"]);
        let _: i64 = q(c, &["SADD", "s", "a", "b", "c", "d"]);
        // SRANDMEMBER
        let one: String = q(c, &["SRANDMEMBER", "s"]);
        assert!(all.contains(&one));
        assert_eq!(raw(c, &["SRANDMEMBER", "nokey"]), Value::Nil);
        assert_eq!(raw(c, &["SRANDMEMBER", "nokey", "3"]), Value::Array(vec![]));
        assert_eq!(
            raw(c, &["SRANDMEMBER", "nokey", "-3"]),
            Value::Array(vec![])
        );
        assert_eq!(raw(c, &["SRANDMEMBER", "s", "0"]), Value::Array(vec![]));
        let two: Vec<String> = q(c, &["SRANDMEMBER", "s", "2"]);
        assert_eq!(two.len(), 2);
        assert_ne!(two[0], two[1]);
        let many: Vec<String> = q(c, &["SRANDMEMBER", "s", "10"]);
        assert_eq!(many.len(), 4);
        assert_eq!(many.into_iter().collect::<BTreeSet<_>>(), all);
        let picks: Vec<String> = q(c, &["SRANDMEMBER", "s", "-20"]);
        assert_eq!(picks.len(), 20);
        assert!(picks.iter().all(|p| all.contains(p)));
        assert_eq!(
            err(c, &["SRANDMEMBER", "s", "-1000000000000000"]),
            "ERR value is out of range"
        );
        assert_eq!(
            err(c, &["SRANDMEMBER", "s", "-9223372036854775808"]),
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
        );
        assert_eq!(err(c, &["SRANDMEMBER", "s", "x"]), NOT_INTEGER);
        assert_eq!(err(c, &["SRANDMEMBER", "s", "1", "2"]), SYNTAX);
        assert_eq!(q::<i64>(c, &["SCARD", "s"]), 4);

        // SPOP
        assert_eq!(raw(c, &["SPOP", "nokey"]), Value::Nil);
        assert_eq!(
            set_reply(proto, raw(c, &["SPOP", "nokey", "2"])),
            set_of(&[])
        );
        assert_eq!(set_reply(proto, raw(c, &["SPOP", "s", "0"])), set_of(&[]));
        assert_eq!(
            err(c, &["SPOP", "s", "-1"]),
            "ERR value is out of range, must be positive"
        );
        assert_eq!(err(c, &["SPOP", "s", "x"]), NOT_INTEGER);
        assert_eq!(err(c, &["SPOP", "s", "1", "2"]), SYNTAX);
        let one: String = q(c, &["SPOP", "s"]);
        assert!(all.contains(&one));
        let two = set_reply(proto, raw(c, &["SPOP", "s", "2"]));
        assert_eq!(two.len(), 2);
        assert!(!two.contains(&one));
        assert_eq!(q::<i64>(c, &["SCARD", "s"]), 1);
        let rest = members(c, "s");
        let mut seen: BTreeSet<String> = two.union(&rest).cloned().collect();
        seen.insert(one);
        assert_eq!(seen, all);
    }
}

#[test]
fn smove() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: i64 = q(c, &["SADD", "src", "a", "b"]);
    let _: i64 = q(c, &["SADD", "dst", "b", "x"]);
    let _: () = q(c, &["SET", "str", "v"]);
    assert_eq!(q::<i64>(c, &["SMOVE", "src", "dst", "a"]), 1);
    assert_eq!(members(c, "src"), set_of(&["b"]));
    assert_eq!(members(c, "dst"), set_of(&["a", "b", "x"]));
    // Already in the destination: removed from the source only.
    assert_eq!(q::<i64>(c, &["SMOVE", "src", "dst", "b"]), 1);
    assert_eq!(q::<i64>(c, &["EXISTS", "src"]), 0);
    assert_eq!(q::<i64>(c, &["SMOVE", "src", "dst", "a"]), 0);
    assert_eq!(q::<i64>(c, &["SMOVE", "dst", "dst", "a"]), 1);
    assert_eq!(q::<i64>(c, &["SMOVE", "dst", "dst", "zz"]), 0);
    assert_eq!(q::<i64>(c, &["SMOVE", "dst", "new", "zz"]), 0);
    assert_eq!(q::<i64>(c, &["EXISTS", "new"]), 0);
    // Both types are checked, even when the source is missing or lacks the member.
    assert_eq!(err(c, &["SMOVE", "str", "dst", "a"]), WRONGTYPE);
    assert_eq!(err(c, &["SMOVE", "dst", "str", "a"]), WRONGTYPE);
    assert_eq!(err(c, &["SMOVE", "dst", "str", "zz"]), WRONGTYPE);
    assert_eq!(err(c, &["SMOVE", "nokey", "str", "zz"]), WRONGTYPE);
    assert_eq!(members(c, "dst"), set_of(&["a", "b", "x"]));
    // Keys in different shards (no hash tags).
    for i in 0..50 {
        let _: i64 = q(c, &["SADD", &format!("from{i}"), "m"]);
        assert_eq!(
            q::<i64>(c, &["SMOVE", &format!("from{i}"), &format!("to{i}"), "m"]),
            1
        );
        assert_eq!(q::<i64>(c, &["SISMEMBER", &format!("to{i}"), "m"]), 1);
    }
}

#[test]
fn inter_union_diff() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        let _: () = q(c, &["FLUSHALL"]);
        let _: i64 = q(c, &["SADD", "a", "1", "2", "3", "4"]);
        let _: i64 = q(c, &["SADD", "b", "2", "3", "x"]);
        let _: i64 = q(c, &["SADD", "c", "3", "x", "y"]);
        let _: () = q(c, &["SET", "str", "v"]);
        let r = |c: &mut Connection, args: &[&str]| set_reply(proto, raw(c, args));
        assert_eq!(r(c, &["SINTER", "a", "b"]), set_of(&["2", "3"]));
        assert_eq!(r(c, &["SINTER", "a", "b", "c"]), set_of(&["3"]));
        assert_eq!(r(c, &["SINTER", "a"]), set_of(&["1", "2", "3", "4"]));
        assert_eq!(r(c, &["SINTER", "a", "nokey"]), set_of(&[]));
        assert_eq!(
            r(c, &["SUNION", "a", "b", "nokey", "c"]),
            set_of(&["1", "2", "3", "4", "x", "y"])
        );
        assert_eq!(r(c, &["SUNION", "nokey"]), set_of(&[]));
        assert_eq!(r(c, &["SDIFF", "a", "b"]), set_of(&["1", "4"]));
        assert_eq!(
            r(c, &["SDIFF", "a", "b", "c", "nokey"]),
            set_of(&["1", "4"])
        );
        assert_eq!(r(c, &["SDIFF", "nokey", "a"]), set_of(&[]));
        assert_eq!(r(c, &["SDIFF", "a", "a"]), set_of(&[]));
        // Every key's type is checked, even after a missing key.
        for cmd in ["SINTER", "SUNION", "SDIFF"] {
            assert_eq!(err(c, &[cmd, "a", "str"]), WRONGTYPE, "{cmd}");
            assert_eq!(err(c, &[cmd, "nokey", "str"]), WRONGTYPE, "{cmd}");
            assert_eq!(err(c, &[cmd, "str"]), WRONGTYPE, "{cmd}");
        }

        // The STORE forms.
        assert_eq!(q::<i64>(c, &["SINTERSTORE", "d", "a", "b"]), 2);
        assert_eq!(members(c, "d"), set_of(&["2", "3"]));
        assert_eq!(q::<i64>(c, &["SUNIONSTORE", "d", "b", "c"]), 4);
        assert_eq!(members(c, "d"), set_of(&["2", "3", "x", "y"]));
        assert_eq!(q::<i64>(c, &["SDIFFSTORE", "d", "a", "b"]), 2);
        assert_eq!(members(c, "d"), set_of(&["1", "4"]));
        // The destination may be a source.
        assert_eq!(q::<i64>(c, &["SUNIONSTORE", "d", "d", "c"]), 5);
        assert_eq!(members(c, "d"), set_of(&["1", "4", "3", "x", "y"]));
        // Any previous value (and its TTL) is replaced.
        let _: () = q(c, &["SET", "d2", "string", "EX", "100"]);
        assert_eq!(q::<i64>(c, &["SINTERSTORE", "d2", "a", "c"]), 1);
        assert_eq!(q::<String>(c, &["TYPE", "d2"]), "set");
        assert_eq!(q::<i64>(c, &["TTL", "d2"]), -1);
        // An empty result deletes the destination.
        for cmd in ["SINTERSTORE", "SDIFFSTORE"] {
            let _: i64 = q(c, &["SADD", "d", "z"]);
            assert_eq!(q::<i64>(c, &[cmd, "d", "a", "nokey2"]).min(0), 0);
        }
        assert_eq!(q::<i64>(c, &["SINTERSTORE", "d", "a", "nokey"]), 0);
        assert_eq!(q::<i64>(c, &["EXISTS", "d"]), 0);
        let _: i64 = q(c, &["SADD", "d", "z"]);
        assert_eq!(q::<i64>(c, &["SDIFFSTORE", "d", "a", "a"]), 0);
        assert_eq!(q::<i64>(c, &["EXISTS", "d"]), 0);
        let _: i64 = q(c, &["SADD", "d", "z"]);
        assert_eq!(q::<i64>(c, &["SUNIONSTORE", "d", "nokey"]), 0);
        assert_eq!(q::<i64>(c, &["EXISTS", "d"]), 0);
        // A wrong-typed source leaves the destination alone.
        let _: i64 = q(c, &["SADD", "d", "z"]);
        for cmd in ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"] {
            assert_eq!(err(c, &[cmd, "d", "a", "str"]), WRONGTYPE, "{cmd}");
        }
        assert_eq!(members(c, "d"), set_of(&["z"]));
        // A string destination is overwritten, not a type error.
        assert_eq!(q::<i64>(c, &["SUNIONSTORE", "str2", "a"]), 4);
    }
}

#[test]
fn multi_key_commands_across_shards() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let keys: Vec<String> = (0..40).map(|i| format!("key:{i}")).collect();
    for (i, k) in keys.iter().enumerate() {
        let _: i64 = q(c, &["SADD", k, "common", &format!("only{i}")]);
    }
    let mut args = vec!["SINTER"];
    args.extend(keys.iter().map(String::as_str));
    assert_eq!(q::<BTreeSet<String>>(c, &args), set_of(&["common"]));
    args[0] = "SUNION";
    assert_eq!(q::<BTreeSet<String>>(c, &args).len(), 41);
    let mut store = vec!["SUNIONSTORE", "dest"];
    store.extend(keys.iter().map(String::as_str));
    assert_eq!(q::<i64>(c, &store), 41);
    store[0] = "SDIFFSTORE";
    assert_eq!(q::<i64>(c, &store), 1);
    assert_eq!(members(c, "dest"), set_of(&["only0"]));
}

#[test]
fn wrongtype_both_ways() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: () = q(c, &["SET", "str", "v"]);
    let _: i64 = q(c, &["HSET", "h", "f", "v"]);
    let _: i64 = q(c, &["SADD", "s", "a"]);
    for key in ["str", "h"] {
        for args in [
            &["SADD", key, "a"][..],
            &["SREM", key, "a"],
            &["SISMEMBER", key, "a"],
            &["SMISMEMBER", key, "a"],
            &["SCARD", key],
            &["SMEMBERS", key],
            &["SPOP", key],
            &["SPOP", key, "2"],
            &["SRANDMEMBER", key],
            &["SRANDMEMBER", key, "2"],
            &["SSCAN", key, "0"],
        ] {
            assert_eq!(err(c, args), WRONGTYPE, "{args:?}");
        }
    }
    for args in [
        &["GET", "s"][..],
        &["APPEND", "s", "x"],
        &["INCR", "s"],
        &["SETRANGE", "s", "0", "x"],
        &["GETBIT", "s", "1"],
        &["PFADD", "s", "x"],
        &["HSET", "s", "f", "v"],
        &["HGET", "s", "f"],
        &["HGETALL", "s"],
        &["HLEN", "s"],
    ] {
        assert_eq!(err(c, args), WRONGTYPE, "{args:?}");
    }
    assert_eq!(members(c, "s"), set_of(&["a"]));
    assert_eq!(q::<String>(c, &["GET", "str"]), "v");
}

#[test]
fn type_encoding_copy_memory_digest() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let enc = |c: &mut Connection, k: &str| q::<String>(c, &["OBJECT", "ENCODING", k]);
    let _: i64 = q(c, &["SADD", "s", "1", "2"]);
    assert_eq!(q::<String>(c, &["TYPE", "s"]), "set");
    let scan: (String, Vec<String>) = q(c, &["SCAN", "0", "TYPE", "set"]);
    assert_eq!(scan.1, vec!["s".to_string()]);
    assert_eq!(enc(c, "s"), "intset");
    let mem1: i64 = q(c, &["MEMORY", "USAGE", "s"]);
    let _: i64 = q(c, &["SADD", "s", "a"]);
    assert_eq!(enc(c, "s"), "listpack");
    let _: i64 = q(c, &["SADD", "s", &"x".repeat(64)]);
    assert_eq!(enc(c, "s"), "listpack");
    let _: i64 = q(c, &["SADD", "s", &"x".repeat(65)]);
    assert_eq!(enc(c, "s"), "hashtable");
    // Conversions are one-way.
    let _: i64 = q(c, &["SREM", "s", &"x".repeat(65), "a", &"x".repeat(64)]);
    assert_eq!(enc(c, "s"), "hashtable");
    // Integers: up to 512 stay an intset.
    for i in 0..512 {
        let _: i64 = q(c, &["SADD", "ints", &i.to_string()]);
    }
    assert_eq!(enc(c, "ints"), "intset");
    let _: i64 = q(c, &["SADD", "ints", "-7"]);
    assert_eq!(enc(c, "ints"), "hashtable");
    // Non-canonical integers are strings; more than 128 of them is a hashtable.
    let _: i64 = q(c, &["SADD", "strs", "007"]);
    assert_eq!(enc(c, "strs"), "listpack");
    for i in 0..127 {
        let _: i64 = q(c, &["SADD", "strs", &format!("m{i}")]);
    }
    assert_eq!(enc(c, "strs"), "listpack");
    let _: i64 = q(c, &["SADD", "strs", "one-more"]);
    assert_eq!(enc(c, "strs"), "hashtable");
    // An intset that gets a string member becomes a listpack when it fits.
    let _: i64 = q(c, &["SADD", "mixed", "1", "2", "3"]);
    let _: i64 = q(c, &["SADD", "mixed", "word"]);
    assert_eq!(enc(c, "mixed"), "listpack");
    // STORE results are encoded by their members.
    let _: i64 = q(c, &["SINTERSTORE", "st", "ints", "ints"]);
    assert_eq!(enc(c, "st"), "hashtable");
    let _: i64 = q(c, &["SDIFFSTORE", "st", "mixed"]);
    assert_eq!(enc(c, "st"), "listpack");
    let _: i64 = q(c, &["SUNIONSTORE", "st", "nokey", "s"]);
    assert_eq!(enc(c, "st"), "intset");

    // SPOP of most of a set rebuilds it (Redis's strategy), so its encoding is small again;
    // popping a few keeps the hashtable.
    let mut big = vec!["SADD", "big"];
    let names: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
    big.extend(names.iter().map(String::as_str));
    let _: i64 = q(c, &big);
    assert_eq!(enc(c, "big"), "hashtable");
    let _: Vec<String> = q(c, &["SPOP", "big", "10"]);
    assert_eq!(enc(c, "big"), "hashtable");
    let _: Vec<String> = q(c, &["SPOP", "big", "180"]);
    assert_eq!(q::<i64>(c, &["SCARD", "big"]), 10);
    assert_eq!(enc(c, "big"), "listpack");

    // MEMORY USAGE grows with the set.
    let _: () = q(c, &["DEL", "s"]);
    let _: i64 = q(c, &["SADD", "s", "1", "2"]);
    let mem2: i64 = q(c, &["MEMORY", "USAGE", "s"]);
    assert_eq!(mem1, mem2);
    for i in 0..1000 {
        let _: i64 = q(c, &["SADD", "s", &format!("{i:0>100}")]);
    }
    let mem3: i64 = q(c, &["MEMORY", "USAGE", "s"]);
    assert!(mem3 > mem2 + 1000 * 100, "{mem2} -> {mem3}");

    // COPY is independent of its source, both ways.
    let _: () = q(c, &["DEL", "s"]);
    let _: i64 = q(c, &["SADD", "s", "a", "b"]);
    assert_eq!(q::<i64>(c, &["COPY", "s", "s2"]), 1);
    assert_eq!(q::<String>(c, &["TYPE", "s2"]), "set");
    assert_eq!(enc(c, "s2"), "listpack");
    let _: i64 = q(c, &["SADD", "s2", "z"]);
    let _: i64 = q(c, &["SREM", "s2", "a"]);
    assert_eq!(members(c, "s"), set_of(&["a", "b"]));
    assert_eq!(members(c, "s2"), set_of(&["b", "z"]));
    assert_eq!(q::<i64>(c, &["COPY", "s", "s3"]), 1);
    let _: String = q(c, &["SPOP", "s"]);
    assert_eq!(members(c, "s3"), set_of(&["a", "b"]));

    // DIGEST-VALUE does not depend on the order members were added in.
    let _: i64 = q(c, &["SADD", "o1", "a", "b", "c"]);
    let _: i64 = q(c, &["SADD", "o2", "c", "a", "b"]);
    let _: i64 = q(c, &["SADD", "o3", "c", "a", "x"]);
    let _: i64 = q(c, &["HSET", "o4", "a", "b"]);
    let d: Vec<String> = q(c, &["DEBUG", "DIGEST-VALUE", "o1", "o2", "o3", "o4"]);
    assert_eq!(d[0], d[1]);
    assert_ne!(d[0], d[2]);
    assert_ne!(d[0], d[3]);
    assert_ne!(d[0], "0".repeat(40));
    // A renamed set keeps its members.
    let _: () = q(c, &["RENAME", "o1", "o5"]);
    assert_eq!(members(c, "o5"), set_of(&["a", "b", "c"]));
}

#[test]
fn sscan() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: i64 = q(c, &["SADD", "s", "apple", "apricot", "banana"]);
    let (cursor, items): (String, BTreeSet<String>) = q(c, &["SSCAN", "s", "0"]);
    assert_eq!(cursor, "0");
    assert_eq!(items, set_of(&["apple", "apricot", "banana"]));
    let (cursor, items): (String, BTreeSet<String>) =
        q(c, &["SSCAN", "s", "0", "MATCH", "ap*", "COUNT", "1"]);
    assert_eq!(cursor, "0");
    assert_eq!(items, set_of(&["apple", "apricot"]));
    let (_, items): (String, Vec<String>) = q(c, &["SSCAN", "nokey", "0"]);
    assert!(items.is_empty());
    assert_eq!(err(c, &["SSCAN", "s", "x"]), "ERR invalid cursor");
    assert_eq!(err(c, &["SSCAN", "s", "0", "COUNT", "0"]), SYNTAX);
    assert_eq!(err(c, &["SSCAN", "s", "0", "COUNT", "x"]), NOT_INTEGER);
    assert_eq!(err(c, &["SSCAN", "s", "0", "MATCH"]), SYNTAX);
    assert_eq!(err(c, &["SSCAN", "s", "0", "BOGUS"]), SYNTAX);
    let (_, items): (String, Vec<String>) = q(c, &["SSCAN", "nokey", "0", "BOGUS"]);
    assert!(items.is_empty());
}

#[test]
fn set_commands_in_command_table() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let info = raw(c, &["COMMAND", "INFO", "sadd", "sinterstore", "smove"]);
    let Value::Array(items) = info else {
        panic!("{info:?}")
    };
    assert_eq!(items.len(), 3);
    let text = format!("{items:?}");
    assert!(text.contains("@set"), "{text}");
    // Key positions: SINTERSTORE names every argument, SMOVE the two sets.
    let keys: Vec<String> = q(c, &["COMMAND", "GETKEYS", "SINTERSTORE", "d", "a", "b"]);
    assert_eq!(keys, vec!["d", "a", "b"]);
    let keys: Vec<String> = q(c, &["COMMAND", "GETKEYS", "SMOVE", "x", "y", "m"]);
    assert_eq!(keys, vec!["x", "y"]);
}

#[test]
fn sintercard() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: i64 = q(c, &["SADD", "a", "1", "2", "3", "4"]);
    let _: i64 = q(c, &["SADD", "b", "2", "3", "4", "x"]);
    let _: i64 = q(c, &["SADD", "c", "3", "4", "y"]);
    let _: () = q(c, &["SET", "str", "v"]);
    assert_eq!(q::<i64>(c, &["SINTERCARD", "1", "a"]), 4);
    assert_eq!(q::<i64>(c, &["SINTERCARD", "2", "a", "b"]), 3);
    assert_eq!(q::<i64>(c, &["SINTERCARD", "3", "a", "b", "c"]), 2);
    assert_eq!(q::<i64>(c, &["SINTERCARD", "2", "a", "b", "LIMIT", "2"]), 2);
    assert_eq!(q::<i64>(c, &["SINTERCARD", "2", "a", "b", "limit", "0"]), 3);
    assert_eq!(
        q::<i64>(c, &["SINTERCARD", "2", "a", "b", "LIMIT", "10"]),
        3
    );
    assert_eq!(
        q::<i64>(
            c,
            &["SINTERCARD", "2", "a", "b", "LIMIT", "1", "LIMIT", "5"]
        ),
        3
    );
    assert_eq!(q::<i64>(c, &["SINTERCARD", "2", "a", "nokey"]), 0);
    // "LIMIT" right after the keys is an option, not a key; the numkeys count decides.
    assert_eq!(q::<i64>(c, &["SINTERCARD", "1", "a", "LIMIT", "1"]), 1);
    for bad in ["0", "-1", "x"] {
        assert_eq!(
            err(c, &["SINTERCARD", bad, "a"]),
            "ERR numkeys should be greater than 0"
        );
    }
    assert_eq!(
        err(c, &["SINTERCARD", "3", "a", "b"]),
        "ERR Number of keys can't be greater than number of args"
    );
    assert_eq!(err(c, &["SINTERCARD", "1", "a", "LIMIT"]), SYNTAX);
    assert_eq!(err(c, &["SINTERCARD", "1", "a", "BOGUS", "1"]), SYNTAX);
    assert_eq!(
        err(c, &["SINTERCARD", "1", "a", "LIMIT", "-1"]),
        "ERR LIMIT can't be negative"
    );
    assert_eq!(
        err(c, &["SINTERCARD", "1", "a", "LIMIT", "x"]),
        "ERR LIMIT can't be negative"
    );
    assert_eq!(err(c, &["SINTERCARD", "2", "a", "str"]), WRONGTYPE);
    assert_eq!(err(c, &["SINTERCARD", "2", "nokey", "str"]), WRONGTYPE);
    assert_eq!(err(c, &["SINTERCARD", "1"]), arity("sintercard"));

    // Keys in many shards.
    let keys: Vec<String> = (0..30).map(|i| format!("k{i}")).collect();
    for k in &keys {
        let _: i64 = q(c, &["SADD", k, "shared", k]);
    }
    let n = keys.len().to_string();
    let mut args = vec!["SINTERCARD", n.as_str()];
    args.extend(keys.iter().map(String::as_str));
    assert_eq!(q::<i64>(c, &args), 1);

    // COMMAND reports the numkeys key spec the way Redis does.
    let keys: Vec<String> = q(
        c,
        &[
            "COMMAND",
            "GETKEYS",
            "SINTERCARD",
            "2",
            "a",
            "b",
            "LIMIT",
            "1",
        ],
    );
    assert_eq!(keys, vec!["a", "b"]);
    assert_eq!(
        err(c, &["COMMAND", "GETKEYS", "SINTERCARD", "5", "a", "b"]),
        "ERR Invalid arguments specified for command"
    );
    let info = raw(c, &["COMMAND", "INFO", "sintercard"]);
    let Value::Array(items) = info else {
        panic!("{info:?}")
    };
    let Value::Array(entry) = &items[0] else {
        panic!("{items:?}")
    };
    assert_eq!(entry[1], Value::Int(-3));
    let flags = format!("{:?}", entry[2]);
    assert!(
        flags.contains("readonly") && flags.contains("movablekeys"),
        "{flags}"
    );
    assert_eq!(&entry[3..6], &[Value::Int(0), Value::Int(0), Value::Int(0)]);
    let specs = format!("{:?}", entry[8]);
    assert!(
        specs.contains("keynum") && specs.contains("keynumidx"),
        "{specs}"
    );
}

#[test]
fn encoding_thresholds_follow_config() {
    let server = TestServer::start(&["--set-max-intset-entries", "3"]);
    let mut c = server.client();
    let c = &mut c;
    let _: i64 = q(c, &["SADD", "s", "1", "2", "3"]);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "s"]), "intset");
    // An intset that outgrows its limit becomes a hash table (Redis's maybeConvertIntset).
    let _: i64 = q(c, &["SADD", "s", "4"]);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "s"]), "hashtable");
    let _: () = q(c, &["CONFIG", "SET", "set-max-listpack-value", "3"]);
    let _: i64 = q(c, &["SADD", "t", "abcd"]);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "t"]), "hashtable");
    let _: () = q(c, &["CONFIG", "SET", "set-max-listpack-entries", "1"]);
    let _: i64 = q(c, &["SADD", "u", "a", "b"]);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "u"]), "hashtable");
}

/// Intsets list their members ascending, listpack sets in insertion order (as Redis stores
/// them); a big set is scanned COUNT at a time and every member present throughout the scan is
/// returned, even while other members are popped and added between the calls.
#[test]
fn order_and_cursor_scans() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: i64 = q(c, &["SADD", "ints", "30", "-5", "7", "100"]);
    let _: i64 = q(c, &["SREM", "ints", "7"]);
    assert_eq!(
        q::<Vec<String>>(c, &["SMEMBERS", "ints"]),
        ["-5", "30", "100"]
    );
    let _: i64 = q(c, &["SADD", "lp", "zeta", "alpha", "mid"]);
    assert_eq!(
        q::<Vec<String>>(c, &["SMEMBERS", "lp"]),
        ["zeta", "alpha", "mid"]
    );

    for chunk in (0..2000).collect::<Vec<i32>>().chunks(500) {
        let mut args = vec!["SADD".to_string(), "big".to_string()];
        args.extend(chunk.iter().map(|i| format!("m{i}")));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let _: i64 = q(c, &args);
    }
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "big"]), "hashtable");
    let mut seen = BTreeSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let (next, items): (String, Vec<String>) = q(c, &["SSCAN", "big", &cursor, "COUNT", "100"]);
        calls += 1;
        seen.extend(items);
        let _: i64 = q(c, &["SREM", "big", &format!("m{}", 1999 - calls)]);
        let _: i64 = q(c, &["SADD", "big", &format!("new{calls}")]);
        if next == "0" {
            break;
        }
        cursor = next;
    }
    assert!(calls > 10, "took {calls} calls");
    for i in 0..(1999 - calls) {
        assert!(
            seen.contains(&format!("m{i}")),
            "m{i} was present throughout but not returned"
        );
    }
}

/// SMOVE of a member the destination already has only removes it from the source: the
/// destination is not written, so a WATCH on it holds (Redis's "SMOVE only notify dstset when
/// the addition is successful").
#[test]
fn smove_into_a_set_that_has_the_member_leaves_it_untouched() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let mut other = server.client();
    let _: i64 = q(&mut c, &["SADD", "src{t}", "a", "b"]);
    let _: i64 = q(&mut c, &["SADD", "dst{t}", "a"]);
    let _: () = q(&mut c, &["WATCH", "dst{t}"]);
    let _: () = q(&mut c, &["MULTI"]);
    let _: String = q(&mut c, &["SADD", "dst{t}", "c"]);
    assert_eq!(q::<i64>(&mut other, &["SMOVE", "src{t}", "dst{t}", "a"]), 1);
    assert_eq!(q::<Vec<i64>>(&mut c, &["EXEC"]), vec![1]);
    assert_eq!(q::<i64>(&mut c, &["SCARD", "dst{t}"]), 2);
    assert_eq!(q::<Vec<String>>(&mut c, &["SMEMBERS", "src{t}"]), ["b"]);
}
