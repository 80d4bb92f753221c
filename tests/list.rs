//! List commands against the real server over RESP2 and RESP3: LPUSH RPUSH LPUSHX RPUSHX LPOP
//! RPOP LLEN LRANGE LINDEX LSET LINSERT LREM LTRIM LPOS LMOVE RPOPLPUSH LMPOP, their error texts,
//! empty-list deletion, WRONGTYPE, OBJECT ENCODING; the blocking BLPOP BRPOP BLMOVE BRPOPLPUSH
//! BLMPOP across connections (FIFO service, one push serving several waiters, BLMOVE chains,
//! timeouts, MULTI, disconnects, CLIENT UNBLOCK, INFO and CLIENT LIST); and a model-based
//! property test of random command sequences.

mod blockhelp;
mod common;
mod kvhelp;
mod raw;

use std::collections::VecDeque;
use std::time::Duration;

use blockhelp::*;
use common::TestServer;
use kvhelp::*;
use proptest::prelude::*;
use raw::{Raw, Resp};
use redis::{Connection, Value};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
const SYNTAX: &str = "ERR syntax error";

fn range(c: &mut Connection, key: &str) -> Vec<String> {
    q(c, &["LRANGE", key, "0", "-1"])
}

fn strs(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn push_pop_len_range_index() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        let _: () = q(c, &["FLUSHALL"]);
        assert_eq!(q::<i64>(c, &["RPUSH", "l", "a", "b"]), 2, "{proto}");
        assert_eq!(q::<i64>(c, &["LPUSH", "l", "x", "y"]), 4);
        assert_eq!(range(c, "l"), strs(&["y", "x", "a", "b"]));
        assert_eq!(q::<i64>(c, &["LPUSHX", "l", "z"]), 5);
        assert_eq!(q::<i64>(c, &["RPUSHX", "l", "w", "v"]), 7);
        assert_eq!(q::<i64>(c, &["LPUSHX", "nokey", "z"]), 0);
        assert_eq!(q::<i64>(c, &["RPUSHX", "nokey", "z"]), 0);
        assert_eq!(q::<i64>(c, &["EXISTS", "nokey"]), 0);
        assert_eq!(q::<i64>(c, &["LLEN", "l"]), 7);
        assert_eq!(q::<i64>(c, &["LLEN", "nokey"]), 0);
        assert_eq!(
            q::<Vec<String>>(c, &["LRANGE", "l", "1", "2"]),
            strs(&["y", "x"])
        );
        assert_eq!(
            q::<Vec<String>>(c, &["LRANGE", "l", "-2", "100"]),
            strs(&["w", "v"])
        );
        assert_eq!(
            q::<Vec<String>>(c, &["LRANGE", "l", "5", "2"]),
            Vec::<String>::new()
        );
        assert_eq!(
            q::<Vec<String>>(c, &["LRANGE", "l", "-100", "0"]),
            strs(&["z"])
        );
        assert_eq!(
            q::<Vec<String>>(c, &["LRANGE", "nokey", "0", "-1"]),
            Vec::<String>::new()
        );
        assert_eq!(q::<String>(c, &["LINDEX", "l", "0"]), "z");
        assert_eq!(q::<String>(c, &["LINDEX", "l", "-1"]), "v");
        assert_eq!(raw(c, &["LINDEX", "l", "7"]), Value::Nil);
        assert_eq!(raw(c, &["LINDEX", "nokey", "0"]), Value::Nil);
        assert_eq!(err(c, &["LINDEX", "l", "x"]), NOT_INTEGER);
        assert_eq!(err(c, &["LRANGE", "l", "a", "1"]), NOT_INTEGER);

        assert_eq!(q::<String>(c, &["LPOP", "l"]), "z");
        assert_eq!(q::<String>(c, &["RPOP", "l"]), "v");
        assert_eq!(q::<Vec<String>>(c, &["LPOP", "l", "2"]), strs(&["y", "x"]));
        assert_eq!(q::<Vec<String>>(c, &["RPOP", "l", "2"]), strs(&["w", "b"]));
        assert_eq!(raw(c, &["LPOP", "l", "0"]), Value::Array(vec![]));
        assert_eq!(q::<Vec<String>>(c, &["RPOP", "l", "10"]), strs(&["a"]));
        // The last pop removed the key.
        assert_eq!(q::<i64>(c, &["EXISTS", "l"]), 0);
        assert_eq!(raw(c, &["LPOP", "l"]), Value::Nil);
        assert_eq!(raw(c, &["LPOP", "l", "3"]), Value::Nil);
        assert_eq!(
            err(c, &["LPOP", "l", "-1"]),
            "ERR value is out of range, must be positive"
        );
        assert_eq!(err(c, &["LPOP", "l", "x"]), NOT_INTEGER);
        assert_eq!(err(c, &["LPOP", "l", "1", "2"]), arity("lpop"));
        assert_eq!(err(c, &["LPUSH", "l"]), arity("lpush"));
        // Binary elements survive.
        let bin = vec![0u8, 255, b'\r', b'\n'];
        let _: i64 = redis::cmd("RPUSH").arg("bin").arg(&bin).query(c).unwrap();
        let back: Vec<u8> = redis::cmd("LPOP").arg("bin").query(c).unwrap();
        assert_eq!(back, bin);
    }
}

/// Nil shapes byte for byte: LPOP without count is a null bulk, with a count a null array
/// (RESP3 `_` for both); LPOS with COUNT on a missing key is an empty array.
#[test]
fn wire_shapes() {
    let server = TestServer::start(&[]);
    let mut r2 = Raw::connect(server.addr);
    assert_eq!(r2.cmd_wire(&["LPOP", "nokey"]), "$-1\r\n");
    assert_eq!(r2.cmd_wire(&["LPOP", "nokey", "2"]), "*-1\r\n");
    assert_eq!(r2.cmd_wire(&["LMPOP", "1", "nokey", "LEFT"]), "*-1\r\n");
    assert_eq!(r2.cmd_wire(&["BLPOP", "nokey", "0.01"]), "*-1\r\n");
    assert_eq!(
        r2.cmd_wire(&["BLMOVE", "nokey", "d", "LEFT", "LEFT", "0.01"]),
        "*-1\r\n"
    );
    assert_eq!(r2.cmd_wire(&["LPOS", "nokey", "a"]), "$-1\r\n");
    assert_eq!(r2.cmd_wire(&["LPOS", "nokey", "a", "COUNT", "0"]), "*0\r\n");
    assert_eq!(r2.cmd_wire(&["RPUSH", "k", "a"]), ":1\r\n");
    assert_eq!(r2.cmd_wire(&["LPOP", "k", "0"]), "*0\r\n");
    assert_eq!(
        r2.cmd_wire(&["LMPOP", "1", "k", "RIGHT"]),
        "*2\r\n$1\r\nk\r\n*1\r\n$1\r\na\r\n"
    );
    let mut r3 = Raw::connect(server.addr);
    r3.cmd(&["HELLO", "3"]);
    assert_eq!(r3.cmd_wire(&["LPOP", "nokey"]), "_\r\n");
    assert_eq!(r3.cmd_wire(&["LPOP", "nokey", "2"]), "_\r\n");
    assert_eq!(r3.cmd_wire(&["BLPOP", "nokey", "0.01"]), "_\r\n");
    assert_eq!(r3.cmd_wire(&["LINDEX", "nokey", "0"]), "_\r\n");
}

#[test]
fn lset_linsert_lrem_ltrim() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: i64 = q(c, &["RPUSH", "l", "a", "b", "c", "b", "a"]);
    let _: () = q(c, &["LSET", "l", "0", "A"]);
    let _: () = q(c, &["LSET", "l", "-1", "Z"]);
    assert_eq!(range(c, "l"), strs(&["A", "b", "c", "b", "Z"]));
    assert_eq!(err(c, &["LSET", "l", "5", "x"]), "ERR index out of range");
    assert_eq!(err(c, &["LSET", "nokey", "0", "x"]), "ERR no such key");
    assert_eq!(err(c, &["LSET", "l", "x", "x"]), NOT_INTEGER);

    assert_eq!(q::<i64>(c, &["LINSERT", "l", "BEFORE", "b", "1"]), 6);
    assert_eq!(q::<i64>(c, &["LINSERT", "l", "after", "b", "2"]), 7);
    assert_eq!(range(c, "l"), strs(&["A", "1", "b", "2", "c", "b", "Z"]));
    assert_eq!(q::<i64>(c, &["LINSERT", "l", "BEFORE", "nope", "x"]), -1);
    assert_eq!(q::<i64>(c, &["LINSERT", "nokey", "BEFORE", "a", "x"]), 0);
    assert_eq!(err(c, &["LINSERT", "l", "MIDDLE", "b", "x"]), SYNTAX);

    let _: i64 = q(c, &["DEL", "l"]);
    let _: i64 = q(c, &["RPUSH", "l", "x", "a", "x", "b", "x", "c", "x"]);
    assert_eq!(q::<i64>(c, &["LREM", "l", "2", "x"]), 2);
    assert_eq!(range(c, "l"), strs(&["a", "b", "x", "c", "x"]));
    assert_eq!(q::<i64>(c, &["LREM", "l", "-1", "x"]), 1);
    assert_eq!(range(c, "l"), strs(&["a", "b", "x", "c"]));
    assert_eq!(q::<i64>(c, &["LREM", "l", "0", "nope"]), 0);
    assert_eq!(q::<i64>(c, &["LREM", "nokey", "0", "x"]), 0);
    assert_eq!(err(c, &["LREM", "l", "x", "x"]), NOT_INTEGER);

    let _: () = q(c, &["LTRIM", "l", "1", "-2"]);
    assert_eq!(range(c, "l"), strs(&["b", "x"]));
    let _: () = q(c, &["LTRIM", "nokey", "0", "1"]);
    assert_eq!(err(c, &["LTRIM", "l", "a", "1"]), NOT_INTEGER);
    // Emptied lists are removed, whichever command empties them.
    let _: () = q(c, &["LTRIM", "l", "5", "10"]);
    assert_eq!(q::<i64>(c, &["EXISTS", "l"]), 0);
    let _: i64 = q(c, &["RPUSH", "l", "x", "x"]);
    assert_eq!(q::<i64>(c, &["LREM", "l", "0", "x"]), 2);
    assert_eq!(q::<i64>(c, &["EXISTS", "l"]), 0);
}

#[test]
fn lpos() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: i64 = q(c, &["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"]);
    assert_eq!(q::<i64>(c, &["LPOS", "l", "c"]), 2);
    assert_eq!(q::<i64>(c, &["LPOS", "l", "c", "RANK", "2"]), 6);
    assert_eq!(q::<i64>(c, &["LPOS", "l", "c", "RANK", "-1"]), 7);
    assert_eq!(
        q::<Vec<i64>>(c, &["LPOS", "l", "c", "COUNT", "0"]),
        vec![2, 6, 7]
    );
    assert_eq!(
        q::<Vec<i64>>(c, &["LPOS", "l", "c", "COUNT", "2"]),
        vec![2, 6]
    );
    assert_eq!(
        q::<Vec<i64>>(c, &["LPOS", "l", "c", "RANK", "-1", "COUNT", "2"]),
        vec![7, 6]
    );
    assert_eq!(
        q::<Vec<i64>>(c, &["LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7"]),
        vec![2, 6]
    );
    assert_eq!(raw(c, &["LPOS", "l", "c", "RANK", "4"]), Value::Nil);
    assert_eq!(raw(c, &["LPOS", "l", "zz"]), Value::Nil);
    assert_eq!(
        err(c, &["LPOS", "l", "c", "RANK", "0"]),
        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
    );
    assert_eq!(
        err(c, &["LPOS", "l", "c", "COUNT", "-1"]),
        "ERR COUNT can't be negative"
    );
    assert_eq!(
        err(c, &["LPOS", "l", "c", "MAXLEN", "-1"]),
        "ERR MAXLEN can't be negative"
    );
    assert_eq!(err(c, &["LPOS", "l", "c", "BOGUS"]), SYNTAX);
    assert_eq!(err(c, &["LPOS", "l", "c", "RANK"]), SYNTAX);
}

#[test]
fn lmove_rpoplpush_lmpop() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: i64 = q(c, &["RPUSH", "{t}src", "a", "b", "c"]);
    assert_eq!(
        q::<String>(c, &["LMOVE", "{t}src", "{t}dst", "LEFT", "RIGHT"]),
        "a"
    );
    assert_eq!(q::<String>(c, &["RPOPLPUSH", "{t}src", "{t}dst"]), "c");
    assert_eq!(range(c, "{t}dst"), strs(&["c", "a"]));
    // Same key: a rotation.
    assert_eq!(
        q::<String>(c, &["LMOVE", "{t}dst", "{t}dst", "LEFT", "RIGHT"]),
        "c"
    );
    assert_eq!(range(c, "{t}dst"), strs(&["a", "c"]));
    assert_eq!(
        q::<String>(c, &["LMOVE", "{t}src", "{t}dst", "RIGHT", "LEFT"]),
        "b"
    );
    assert_eq!(q::<i64>(c, &["EXISTS", "{t}src"]), 0);
    assert_eq!(
        raw(c, &["LMOVE", "{t}src", "{t}dst", "LEFT", "LEFT"]),
        Value::Nil
    );
    assert_eq!(err(c, &["LMOVE", "{t}src", "{t}dst", "UP", "LEFT"]), SYNTAX);
    // Keys in different shards.
    assert_eq!(
        q::<String>(c, &["LMOVE", "{t}dst", "other", "LEFT", "LEFT"]),
        "b"
    );
    assert_eq!(range(c, "other"), strs(&["b"]));

    let _: i64 = q(c, &["RPUSH", "{m}b", "1", "2", "3"]);
    let popped: (String, Vec<String>) =
        q(c, &["LMPOP", "2", "{m}a", "{m}b", "RIGHT", "COUNT", "2"]);
    assert_eq!(popped, ("{m}b".to_string(), strs(&["3", "2"])));
    let popped: (String, Vec<String>) = q(c, &["LMPOP", "2", "{m}a", "{m}b", "LEFT", "COUNT", "9"]);
    assert_eq!(popped, ("{m}b".to_string(), strs(&["1"])));
    assert_eq!(q::<i64>(c, &["EXISTS", "{m}b"]), 0);
    assert_eq!(raw(c, &["LMPOP", "1", "{m}b", "LEFT"]), Value::Nil);
    assert_eq!(
        err(c, &["LMPOP", "0", "k", "LEFT"]),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(
        err(c, &["LMPOP", "x", "k", "LEFT"]),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(err(c, &["LMPOP", "2", "k", "LEFT"]), SYNTAX);
    assert_eq!(err(c, &["LMPOP", "1", "k", "UP"]), SYNTAX);
    assert_eq!(
        err(c, &["LMPOP", "1", "k", "LEFT", "COUNT", "0"]),
        "ERR count should be greater than 0"
    );
    assert_eq!(
        err(c, &["LMPOP", "1", "k", "LEFT", "COUNT", "1", "COUNT", "1"]),
        SYNTAX
    );
}

#[test]
fn wrongtype() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: () = q(c, &["SET", "{t}s", "x"]);
    let _: i64 = q(c, &["RPUSH", "{t}l", "a"]);
    for args in [
        &["LPUSH", "{t}s", "a"][..],
        &["RPUSH", "{t}s", "a"],
        &["LPUSHX", "{t}s", "a"],
        &["RPUSHX", "{t}s", "a"],
        &["LPOP", "{t}s"],
        &["RPOP", "{t}s", "2"],
        &["LLEN", "{t}s"],
        &["LRANGE", "{t}s", "0", "1"],
        &["LINDEX", "{t}s", "0"],
        &["LSET", "{t}s", "0", "a"],
        &["LINSERT", "{t}s", "BEFORE", "a", "b"],
        &["LREM", "{t}s", "0", "a"],
        &["LTRIM", "{t}s", "0", "1"],
        &["LPOS", "{t}s", "a"],
        &["LMOVE", "{t}s", "{t}l", "LEFT", "LEFT"],
        &["LMOVE", "{t}l", "{t}s", "LEFT", "LEFT"],
        &["RPOPLPUSH", "{t}l", "{t}s"],
        &["LMPOP", "2", "{t}x", "{t}s", "LEFT"],
        &["BLPOP", "{t}x", "{t}s", "0"],
        &["BRPOP", "{t}s", "0"],
        &["BLMOVE", "{t}s", "{t}l", "LEFT", "LEFT", "0"],
        &["BRPOPLPUSH", "{t}l", "{t}s", "0"],
        &["BLMPOP", "0", "1", "{t}s", "LEFT"],
    ] {
        assert_eq!(err(c, args), WRONGTYPE, "{args:?}");
    }
    // The refused moves left the source alone; other types see a list as the wrong type.
    assert_eq!(range(c, "{t}l"), strs(&["a"]));
    assert_eq!(err(c, &["SADD", "{t}l", "a"]), WRONGTYPE);
    assert_eq!(err(c, &["GET", "{t}l"]), WRONGTYPE);
    assert_eq!(q::<String>(c, &["TYPE", "{t}l"]), "list");
}

#[test]
fn encoding_copy_rename_digest() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: i64 = q(c, &["RPUSH", "{t}l", "a", "b"]);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "{t}l"]), "listpack");
    let big = "x".repeat(9000);
    let _: i64 = q(c, &["RPUSH", "{t}l", &big]);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "{t}l"]), "quicklist");
    let _: String = q(c, &["RPOP", "{t}l"]);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "{t}l"]), "listpack");
    // A count limit.
    let _: () = q(c, &["CONFIG", "SET", "list-max-listpack-size", "3"]);
    let _: i64 = q(c, &["RPUSH", "{t}c", "1", "2", "3"]);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "{t}c"]), "listpack");
    let _: i64 = q(c, &["RPUSH", "{t}c", "4"]);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "{t}c"]), "quicklist");
    let _: () = q(c, &["CONFIG", "SET", "list-max-listpack-size", "-2"]);

    assert_eq!(q::<i64>(c, &["COPY", "{t}l", "{t}copy"]), 1);
    let _: i64 = q(c, &["RPUSH", "{t}copy", "c"]);
    assert_eq!(range(c, "{t}l"), strs(&["a", "b"]));
    assert_eq!(range(c, "{t}copy"), strs(&["a", "b", "c"]));
    let _: () = q(c, &["RENAME", "{t}copy", "{t}renamed"]);
    assert_eq!(range(c, "{t}renamed"), strs(&["a", "b", "c"]));
    // The digest follows the order of the elements.
    let d1: Vec<String> = q(c, &["DEBUG", "DIGEST-VALUE", "{t}l"]);
    let _: i64 = q(c, &["DEL", "{t}l"]);
    let _: i64 = q(c, &["RPUSH", "{t}l", "b", "a"]);
    let d2: Vec<String> = q(c, &["DEBUG", "DIGEST-VALUE", "{t}l"]);
    assert_ne!(d1, d2);
    let usage: i64 = q(c, &["MEMORY", "USAGE", "{t}l"]);
    assert!(usage > 0);
}

// ---- blocking ----

fn pair(key: &str, v: &str) -> Resp {
    Resp::Array(vec![Resp::Bulk(key.into()), Resp::Bulk(v.into())])
}

#[test]
fn blpop_served_at_once_and_after_a_push() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: i64 = q(c, &["RPUSH", "{t}b", "x"]);
    let got: (String, String) = q(c, &["BLPOP", "{t}a", "{t}b", "0"]);
    assert_eq!(got, ("{t}b".to_string(), "x".to_string()));
    assert_eq!(q::<i64>(c, &["EXISTS", "{t}b"]), 0);

    let mut r = block(&server, c, &["BRPOP", "{t}a", "{t}b", "0"]);
    assert_eq!(info_field(c, "clients", "total_blocking_keys"), "2");
    assert_eq!(
        info_field(c, "clients", "total_blocking_keys_on_nokey"),
        "0"
    );
    assert_eq!(info_field(c, "clients", "clients_in_timeout_table"), "0");
    let mut timed = block(&server, c, &["BLPOP", "{t}c", "1000"]);
    assert_eq!(info_field(c, "clients", "clients_in_timeout_table"), "1");
    let list: String = q(c, &["CLIENT", "LIST"]);
    assert!(
        list.lines()
            .any(|l| l.contains("flags=b ") && l.contains("cmd=brpop")),
        "{list}"
    );
    let _: i64 = q(c, &["RPUSH", "{t}b", "1", "2"]);
    assert_eq!(r.read(), pair("{t}b", "2"));
    assert_eq!(range(c, "{t}b"), strs(&["1"]));
    let _: i64 = q(c, &["RPUSH", "{t}c", "3"]);
    assert_eq!(timed.read(), pair("{t}c", "3"));
    assert_eq!(blocked_clients(c), 0);
    assert_eq!(info_field(c, "clients", "total_blocking_keys"), "0");
    // The connection goes on normally afterwards.
    assert_eq!(r.cmd(&["PING"]), Resp::Simple("PONG".into()));
}

#[test]
fn waiters_are_served_in_fifo_order_one_element_each() {
    fifo_order(&[]);
}

/// The same with connections spread over three I/O threads: pushes wake waiters on others.
#[test]
fn waiters_on_other_io_threads_are_served_too() {
    fifo_order(&["--io-threads", "3"]);
}

fn fifo_order(extra: &[&str]) {
    let server = TestServer::start(extra);
    let mut c = server.client();
    let c = &mut c;
    let mut w1 = block(&server, c, &["BLPOP", "k", "0"]);
    let mut w2 = block(&server, c, &["BLPOP", "k", "0"]);
    let mut w3 = block(&server, c, &["BLPOP", "k", "0"]);
    // One push of two elements serves the first two waiters, in the same step: nothing is left.
    assert_eq!(q::<i64>(c, &["RPUSH", "k", "a", "b"]), 2);
    assert_eq!(w1.read(), pair("k", "a"));
    assert_eq!(w2.read(), pair("k", "b"));
    assert_eq!(q::<i64>(c, &["EXISTS", "k"]), 0);
    wait_blocked(c, 1);
    assert_eq!(q::<i64>(c, &["LPUSH", "k", "c"]), 1);
    assert_eq!(w3.read(), pair("k", "c"));
    assert_eq!(q::<i64>(c, &["EXISTS", "k"]), 0);
}

#[test]
fn blmove_chain_serves_the_next_waiter() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    // Keys in different shards: the served BLMOVE pushes to `mid`, which serves the BLPOP.
    let mut mover = block(&server, c, &["BLMOVE", "src", "mid", "RIGHT", "LEFT", "0"]);
    let mut popper = block(&server, c, &["BLPOP", "mid", "0"]);
    let mut legacy = block(&server, c, &["BRPOPLPUSH", "src2", "src", "0"]);
    let _: i64 = q(c, &["RPUSH", "src2", "v"]);
    // src2 -> src (BRPOPLPUSH) -> mid (BLMOVE) -> popped (BLPOP).
    assert_eq!(legacy.read(), Resp::Bulk(b"v".to_vec()));
    assert_eq!(mover.read(), Resp::Bulk(b"v".to_vec()));
    assert_eq!(popper.read(), pair("mid", "v"));
    for k in ["src", "src2", "mid"] {
        assert_eq!(q::<i64>(c, &["EXISTS", k]), 0, "{k}");
    }
    // BLMPOP with a count.
    let mut mpop = block(
        &server,
        c,
        &["BLMPOP", "0", "2", "x", "y", "RIGHT", "COUNT", "5"],
    );
    let _: i64 = q(c, &["RPUSH", "y", "1", "2", "3"]);
    assert_eq!(
        mpop.read(),
        Resp::Array(vec![
            Resp::Bulk(b"y".to_vec()),
            Resp::Array(vec![
                Resp::Bulk(b"3".to_vec()),
                Resp::Bulk(b"2".to_vec()),
                Resp::Bulk(b"1".to_vec())
            ])
        ])
    );
}

#[test]
fn keys_created_by_other_commands_wake_waiters() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let mut w = block(&server, c, &["BLPOP", "{t}k", "0"]);
    let _: i64 = q(c, &["RPUSH", "{t}tmp", "x"]);
    let _: () = q(c, &["RENAME", "{t}tmp", "{t}k"]);
    assert_eq!(w.read(), pair("{t}k", "x"));
    let mut w = block(&server, c, &["BLPOP", "{t}k", "0"]);
    let _: () = q(c, &["MULTI"]);
    let _: String = q(c, &["RPUSH", "{t}k", "y"]);
    let _: Vec<i64> = q(c, &["EXEC"]);
    assert_eq!(w.read(), pair("{t}k", "y"));
    // A key re-created as another type leaves the waiter waiting.
    let mut w = block(&server, c, &["BLPOP", "{t}k", "0"]);
    let _: () = q(c, &["SET", "{t}k", "str"]);
    let _: i64 = q(c, &["DEL", "{t}k"]);
    let _: i64 = q(c, &["LPUSH", "{t}k", "z"]);
    assert_eq!(w.read(), pair("{t}k", "z"));
}

#[test]
fn timeouts_and_errors() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    assert_eq!(raw(c, &["BLPOP", "k", "0.05"]), Value::Nil);
    assert_eq!(raw(c, &["BRPOPLPUSH", "k", "d", "0.05"]), Value::Nil);
    assert_eq!(raw(c, &["BLMPOP", "0.05", "1", "k", "LEFT"]), Value::Nil);
    assert_eq!(blocked_clients(c), 0);
    assert_eq!(info_field(c, "clients", "total_blocking_keys"), "0");
    for args in [
        &["BLPOP", "k", "x"][..],
        &["BRPOP", "k", "1x"],
        &["BLMOVE", "k", "d", "LEFT", "LEFT", "nan"],
        &["BRPOPLPUSH", "k", "d", ""],
        &["BLMPOP", "abc", "1", "k", "LEFT"],
    ] {
        assert_eq!(
            err(c, args),
            "ERR timeout is not a float or out of range",
            "{args:?}"
        );
    }
    assert_eq!(err(c, &["BLPOP", "k", "-1"]), "ERR timeout is negative");
    assert_eq!(
        err(c, &["BLPOP", "k", "inf"]),
        "ERR timeout is out of range"
    );
    assert_eq!(err(c, &["BLMOVE", "k", "d", "UP", "LEFT", "0"]), SYNTAX);
    assert_eq!(
        err(c, &["BLMPOP", "0", "0", "k", "LEFT"]),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(err(c, &["BLPOP", "k"]), arity("blpop"));
}

#[test]
fn multi_runs_blocking_commands_without_blocking() {
    let server = TestServer::start(&[]);
    let mut r = Raw::connect(server.addr);
    r.cmd(&["MULTI"]);
    r.cmd(&["BLPOP", "k", "0"]);
    r.cmd(&["BLMOVE", "k", "d", "LEFT", "LEFT", "0"]);
    r.cmd(&["BLMPOP", "0", "1", "k", "LEFT"]);
    r.cmd(&["RPUSH", "k", "a"]);
    r.cmd(&["BRPOP", "k", "0"]);
    assert_eq!(
        r.cmd_wire(&["EXEC"]),
        "*5\r\n*-1\r\n$-1\r\n*-1\r\n:1\r\n*2\r\n$1\r\nk\r\n$1\r\na\r\n"
    );
}

#[test]
fn a_disconnected_waiter_does_not_lose_the_next_push() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let gone = block(&server, c, &["BLPOP", "k", "0"]);
    let mut stays = block(&server, c, &["BLPOP", "k", "0"]);
    drop(gone);
    wait_blocked(c, 1);
    let _: i64 = q(c, &["RPUSH", "k", "a", "b"]);
    assert_eq!(stays.read(), pair("k", "a"));
    assert_eq!(range(c, "k"), strs(&["b"]));
    // A killed waiter too.
    let _: i64 = q(c, &["DEL", "k"]);
    let mut killed = block(&server, c, &["BLPOP", "k", "0"]);
    let id = killed.cmd_id_of_blocked(c);
    assert_eq!(q::<i64>(c, &["CLIENT", "KILL", "ID", &id]), 1);
    assert!(killed.is_closed());
    wait_blocked(c, 0);
    let _: i64 = q(c, &["RPUSH", "k", "c"]);
    assert_eq!(range(c, "k"), strs(&["c"]));
}

#[test]
fn client_unblock() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let mut w = block(&server, c, &["BLPOP", "k", "0"]);
    let id = w.cmd_id_of_blocked(c);
    assert_eq!(q::<i64>(c, &["CLIENT", "UNBLOCK", &id]), 1);
    assert_eq!(w.read(), Resp::Nil);
    let mut w = block(&server, c, &["BLMOVE", "k", "d", "LEFT", "LEFT", "0"]);
    let id = w.cmd_id_of_blocked(c);
    assert_eq!(q::<i64>(c, &["CLIENT", "UNBLOCK", &id, "ERROR"]), 1);
    assert_eq!(
        w.read(),
        Resp::Error("UNBLOCKED client unblocked via CLIENT UNBLOCK".into())
    );
    assert_eq!(q::<i64>(c, &["CLIENT", "UNBLOCK", &id]), 0);
    assert_eq!(q::<i64>(c, &["CLIENT", "UNBLOCK", "999999"]), 0);
    assert_eq!(
        err(c, &["CLIENT", "UNBLOCK", &id, "MAYBE"]),
        "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
    );
    assert_eq!(err(c, &["CLIENT", "UNBLOCK", "x"]), NOT_INTEGER);
    assert_eq!(
        err(c, &["CLIENT", "unblock", "1", "TIMEOUT", "x"]),
        "ERR unknown subcommand or wrong number of arguments for 'unblock'. Try CLIENT HELP."
    );
    assert_eq!(blocked_clients(c), 0);
}

trait BlockedId {
    fn cmd_id_of_blocked(&mut self, c: &mut Connection) -> String;
}

impl BlockedId for Raw {
    /// The id of the (only) blocked client, from CLIENT LIST.
    fn cmd_id_of_blocked(&mut self, c: &mut Connection) -> String {
        let list: String = q(c, &["CLIENT", "LIST"]);
        list.lines()
            .find(|l| l.contains("flags=b"))
            .and_then(|l| l.strip_prefix("id="))
            .and_then(|l| l.split(' ').next())
            .map(|s| s.to_string())
            .expect("a blocked client in CLIENT LIST")
    }
}

#[test]
fn paused_blocking_command_runs_after_unpause() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: () = q(c, &["CLIENT", "PAUSE", "100000", "WRITE"]);
    let mut w = block(&server, c, &["BLPOP", "k", "0"]);
    let _: () = q(c, &["CLIENT", "UNPAUSE"]);
    // Once unpaused, it blocks on the key (counted once) until a push.
    wait_blocked(c, 1);
    assert!(wait_until(Duration::from_secs(10), || info_field(
        c,
        "clients",
        "total_blocking_keys"
    ) == "1"));
    let _: i64 = q(c, &["RPUSH", "k", "v"]);
    assert_eq!(w.read(), pair("k", "v"));
}

#[test]
fn list_commands_in_command_table() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let info: Vec<Value> = q(&mut c, &["COMMAND", "INFO", "blpop", "lmpop", "blmove"]);
    let text = format!("{info:?}");
    assert!(text.contains("blocking"), "{text}");
    assert!(text.contains("@list"), "{text}");
    let keys: Vec<String> = q(
        &mut c,
        &["COMMAND", "GETKEYS", "BLMPOP", "0", "2", "a", "b", "LEFT"],
    );
    assert_eq!(keys, strs(&["a", "b"]));
}

// ---- model test ----

#[derive(Clone, Debug)]
enum Op {
    Push(bool, Vec<u8>),
    Pop(bool, Option<u8>),
    Set(i8, u8),
    Insert(bool, u8, u8),
    Rem(i8, u8),
    Trim(i8, i8),
    Move(bool, bool, bool),
    Range(i8, i8),
    Index(i8),
    Pos(u8, i8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (any::<bool>(), prop::collection::vec(0u8..6, 1..4)).prop_map(|(l, v)| Op::Push(l, v)),
        (any::<bool>(), prop::option::of(0u8..4)).prop_map(|(l, n)| Op::Pop(l, n)),
        (-6i8..6, 0u8..6).prop_map(|(i, v)| Op::Set(i, v)),
        (any::<bool>(), 0u8..6, 0u8..6).prop_map(|(a, p, v)| Op::Insert(a, p, v)),
        (-3i8..3, 0u8..6).prop_map(|(n, v)| Op::Rem(n, v)),
        (-6i8..6, -6i8..6).prop_map(|(a, b)| Op::Trim(a, b)),
        (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(a, b, back)| Op::Move(a, b, back)),
        (-6i8..6, -6i8..6).prop_map(|(a, b)| Op::Range(a, b)),
        (-6i8..6).prop_map(Op::Index),
        (0u8..6, -2i8..3).prop_map(|(v, r)| Op::Pos(v, if r == 0 { 1 } else { r })),
    ]
}

/// Redis's inclusive range on a list of `len`.
fn model_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let s = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let e = if end < 0 { len + end } else { end };
    if s > e || s >= len {
        None
    } else {
        Some((s as usize, e.min(len - 1) as usize))
    }
}

fn idx(i: i64, len: usize) -> Option<usize> {
    let j = if i < 0 { len as i64 + i } else { i };
    (j >= 0 && (j as usize) < len).then_some(j as usize)
}

/// Runs `ops` on keys {m}a and {m}b (LMOVE moves between them) and on a VecDeque model,
/// comparing every reply and, at the end, both lists and their existence.
fn check_model(c: &mut Connection, ops: &[Op]) {
    let _: () = q(c, &["FLUSHALL"]);
    let mut a: VecDeque<String> = VecDeque::new();
    let mut b: VecDeque<String> = VecDeque::new();
    let side = |left: bool| if left { "LEFT" } else { "RIGHT" };
    for o in ops {
        match o {
            Op::Push(left, vals) => {
                let mut cmd = redis::cmd(if *left { "LPUSH" } else { "RPUSH" });
                cmd.arg("{m}a");
                for v in vals {
                    cmd.arg(v.to_string());
                    if *left {
                        a.push_front(v.to_string());
                    } else {
                        a.push_back(v.to_string());
                    }
                }
                let n: usize = cmd.query(c).unwrap();
                assert_eq!(n, a.len(), "{o:?}");
            }
            Op::Pop(left, count) => {
                let name = if *left { "LPOP" } else { "RPOP" };
                let pop = |a: &mut VecDeque<String>| {
                    if *left {
                        a.pop_front()
                    } else {
                        a.pop_back()
                    }
                };
                match count {
                    None => {
                        let got: Option<String> = q(c, &[name, "{m}a"]);
                        assert_eq!(got, pop(&mut a), "{o:?}");
                    }
                    Some(n) => {
                        let existed = !a.is_empty();
                        let got: Option<Vec<String>> = q(c, &[name, "{m}a", &n.to_string()]);
                        let want: Vec<String> = (0..*n).filter_map(|_| pop(&mut a)).collect();
                        assert_eq!(got, existed.then_some(want), "{o:?}");
                    }
                }
            }
            Op::Set(i, v) => {
                let r = cmd(&["LSET", "{m}a", &i.to_string(), &v.to_string()]).query::<()>(c);
                match (a.is_empty(), idx(*i as i64, a.len())) {
                    (true, _) => assert_eq!(error_text(&r.unwrap_err()), "ERR no such key"),
                    (false, None) => {
                        assert_eq!(error_text(&r.unwrap_err()), "ERR index out of range")
                    }
                    (false, Some(j)) => {
                        r.unwrap();
                        a[j] = v.to_string();
                    }
                }
            }
            Op::Insert(after, p, v) => {
                let got: i64 = q(
                    c,
                    &[
                        "LINSERT",
                        "{m}a",
                        if *after { "AFTER" } else { "BEFORE" },
                        &p.to_string(),
                        &v.to_string(),
                    ],
                );
                let want = if a.is_empty() {
                    0
                } else if let Some(j) = a.iter().position(|e| *e == p.to_string()) {
                    a.insert(j + *after as usize, v.to_string());
                    a.len() as i64
                } else {
                    -1
                };
                assert_eq!(got, want, "{o:?}");
            }
            Op::Rem(n, v) => {
                let got: i64 = q(c, &["LREM", "{m}a", &n.to_string(), &v.to_string()]);
                let v = v.to_string();
                let limit = if *n == 0 {
                    usize::MAX
                } else {
                    n.unsigned_abs() as usize
                };
                let mut removed = 0;
                if *n >= 0 {
                    let mut out = VecDeque::new();
                    for e in a.drain(..) {
                        if e == v && removed < limit {
                            removed += 1;
                        } else {
                            out.push_back(e);
                        }
                    }
                    a = out;
                } else {
                    let mut out = VecDeque::new();
                    for e in a.drain(..).rev() {
                        if e == v && removed < limit {
                            removed += 1;
                        } else {
                            out.push_front(e);
                        }
                    }
                    a = out;
                }
                assert_eq!(got, removed as i64, "{o:?}");
            }
            Op::Trim(s, e) => {
                let _: () = q(c, &["LTRIM", "{m}a", &s.to_string(), &e.to_string()]);
                a = match model_range(*s as i64, *e as i64, a.len()) {
                    Some((s, e)) => a.range(s..=e).cloned().collect(),
                    None => VecDeque::new(),
                };
            }
            Op::Move(from_left, to_left, back) => {
                let (src, dst) = if *back {
                    ("{m}b", "{m}a")
                } else {
                    ("{m}a", "{m}b")
                };
                let got: Option<String> =
                    q(c, &["LMOVE", src, dst, side(*from_left), side(*to_left)]);
                let (from, to) = if *back {
                    (&mut b, &mut a)
                } else {
                    (&mut a, &mut b)
                };
                let want = if *from_left {
                    from.pop_front()
                } else {
                    from.pop_back()
                };
                if let Some(v) = &want {
                    if *to_left {
                        to.push_front(v.clone());
                    } else {
                        to.push_back(v.clone());
                    }
                }
                assert_eq!(got, want, "{o:?}");
            }
            Op::Range(s, e) => {
                let got: Vec<String> = q(c, &["LRANGE", "{m}a", &s.to_string(), &e.to_string()]);
                let want: Vec<String> = match model_range(*s as i64, *e as i64, a.len()) {
                    Some((s, e)) => a.range(s..=e).cloned().collect(),
                    None => Vec::new(),
                };
                assert_eq!(got, want, "{o:?}");
            }
            Op::Index(i) => {
                let got: Option<String> = q(c, &["LINDEX", "{m}a", &i.to_string()]);
                assert_eq!(got, idx(*i as i64, a.len()).map(|j| a[j].clone()), "{o:?}");
            }
            Op::Pos(v, rank) => {
                let got: Vec<i64> = q(
                    c,
                    &[
                        "LPOS",
                        "{m}a",
                        &v.to_string(),
                        "RANK",
                        &rank.to_string(),
                        "COUNT",
                        "0",
                    ],
                );
                let v = v.to_string();
                let mut all: Vec<i64> = a
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| **e == v)
                    .map(|(i, _)| i as i64)
                    .collect();
                if *rank < 0 {
                    all.reverse();
                }
                let want: Vec<i64> = all
                    .into_iter()
                    .skip(rank.unsigned_abs() as usize - 1)
                    .collect();
                assert_eq!(got, want, "{o:?}");
            }
        }
        assert_eq!(
            q::<i64>(c, &["EXISTS", "{m}a"]),
            !a.is_empty() as i64,
            "after {o:?}"
        );
        assert_eq!(
            q::<i64>(c, &["EXISTS", "{m}b"]),
            !b.is_empty() as i64,
            "after {o:?}"
        );
    }
    assert_eq!(range(c, "{m}a"), a.iter().cloned().collect::<Vec<_>>());
    assert_eq!(range(c, "{m}b"), b.iter().cloned().collect::<Vec<_>>());
}

#[test]
fn model() {
    let server = TestServer::start(&[]);
    let c = std::cell::RefCell::new(server.client());
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    });
    runner
        .run(&prop::collection::vec(op(), 1..40), |ops| {
            check_model(&mut c.borrow_mut(), &ops);
            Ok(())
        })
        .unwrap();
}

/// Conservation under races: waiters on several connections (two I/O threads) loop on BLPOP,
/// BRPOP and BLMPOP with 10 ms timeouts while another connection pushes 3,000 distinct
/// elements in small batches. Every element ends up exactly once: in some waiter's reply or
/// still in a list. A reply that raced with its waiter's timeout must not be lost.
#[test]
fn no_element_is_lost_when_timeouts_race_pushes() {
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let server = TestServer::start(&["--io-threads", "2"]);
    let done = Arc::new(AtomicBool::new(false));
    let mut waiters = Vec::new();
    for w in 0..6 {
        let mut c = server.client();
        let done = done.clone();
        waiters.push(std::thread::spawn(move || {
            let mut got: Vec<String> = Vec::new();
            loop {
                let reply: Value = match w % 3 {
                    0 => cmd(&["BLPOP", "{r}a", "{r}b", "0.01"])
                        .query(&mut c)
                        .unwrap(),
                    1 => cmd(&["BRPOP", "{r}b", "{r}a", "0.01"])
                        .query(&mut c)
                        .unwrap(),
                    _ => cmd(&["BLMPOP", "0.01", "2", "{r}a", "{r}b", "LEFT", "COUNT", "3"])
                        .query(&mut c)
                        .unwrap(),
                };
                match reply {
                    Value::Nil => {
                        if done.load(Ordering::SeqCst) {
                            return got;
                        }
                    }
                    Value::Array(items) => match &items[1] {
                        Value::BulkString(b) => got.push(String::from_utf8_lossy(b).into()),
                        Value::Array(elems) => {
                            for e in elems {
                                if let Value::BulkString(b) = e {
                                    got.push(String::from_utf8_lossy(b).into());
                                }
                            }
                        }
                        other => panic!("unexpected element {other:?}"),
                    },
                    other => panic!("unexpected reply {other:?}"),
                }
            }
        }));
    }
    let mut c = server.client();
    let n = 3000;
    let mut i = 0;
    while i < n {
        let batch = 1 + i % 4;
        let key = if i % 3 == 0 { "{r}b" } else { "{r}a" };
        let mut push = redis::cmd(if i % 2 == 0 { "RPUSH" } else { "LPUSH" });
        push.arg(key);
        for j in i..(i + batch).min(n) {
            push.arg(format!("e{j}"));
        }
        let _: i64 = push.query(&mut c).unwrap();
        i += batch;
        if i % 100 < 4 {
            // Pauses longer than the waiters' timeout, so that timeouts and pushes interleave.
            std::thread::sleep(Duration::from_millis(12));
        }
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut seen = HashSet::new();
    for w in waiters {
        for e in w.join().unwrap() {
            assert!(seen.insert(e.clone()), "{e} delivered twice");
        }
    }
    let delivered = seen.len();
    for key in ["{r}a", "{r}b"] {
        for e in range(&mut c, key) {
            assert!(
                seen.insert(e.clone()),
                "{e} both delivered and left in {key}"
            );
        }
    }
    eprintln!("{} of {n} elements went to waiters", delivered);
    assert_eq!(seen.len(), n, "elements lost");
    assert_eq!(blocked_clients(&mut c), 0);
    assert_eq!(info_field(&mut c, "clients", "total_blocking_keys"), "0");
}

/// Inside a script a blocking command answers at once; a list a script creates serves a client
/// blocked on it, and the script's keyspace events are published.
#[test]
fn scripts_and_blocking_commands() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    assert_eq!(
        raw(c, &["EVAL", "return redis.call('BLPOP', 'nolist', 0)", "0"]),
        Value::Nil
    );
    let mut w = block(&server, c, &["BLPOP", "fromscript", "0"]);
    let _: i64 = q(
        c,
        &[
            "EVAL",
            "return redis.call('RPUSH', KEYS[1], 'x')",
            "1",
            "fromscript",
        ],
    );
    assert_eq!(w.read(), pair("fromscript", "x"));
    assert_eq!(q::<i64>(c, &["EXISTS", "fromscript"]), 0);
}
