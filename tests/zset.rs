//! Sorted-set commands against the real server over RESP2 and RESP3: every Z* command (but the
//! blocking ones), their error texts, the RESP3 shapes (doubles, nested member/score pairs),
//! empty-key deletion, WRONGTYPE, OBJECT ENCODING by Redis's listpack limits, the STORE forms'
//! key specs in COMMAND, a raw-byte pin of the wire format, and a proptest model test of random
//! command sequences over one connection.

mod blockhelp;
mod common;
mod kvhelp;
mod raw;

use std::collections::{BTreeMap, BTreeSet};

use blockhelp::*;
use common::TestServer;
use kvhelp::*;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use raw::Resp;
use redis::{Connection, Value};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
const NOT_FLOAT: &str = "ERR value is not a valid float";
const SYNTAX: &str = "ERR syntax error";
const RANGE_FLOAT: &str = "ERR min or max is not a float";
const RANGE_LEX: &str = "ERR min or max not valid string range item";

fn b(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

/// A score as the protocol sends it: a bulk string in RESP2, a double in RESP3.
fn sc(proto: &str, s: f64) -> Value {
    if proto == "RESP3" {
        Value::Double(s)
    } else {
        b(&format_score(s))
    }
}

fn format_score(s: f64) -> String {
    if s == f64::INFINITY {
        "inf".into()
    } else if s == f64::NEG_INFINITY {
        "-inf".into()
    } else if s == s.trunc() && s.abs() < 1e15 {
        format!("{}", s as i64)
    } else {
        format!("{s}")
    }
}

/// Member/score pairs as Redis nests them: flat in RESP2, `[[m, s], ...]` in RESP3.
fn pairs(proto: &str, items: &[(&str, f64)]) -> Value {
    if proto == "RESP3" {
        Value::Array(
            items
                .iter()
                .map(|(m, s)| Value::Array(vec![b(m), Value::Double(*s)]))
                .collect(),
        )
    } else {
        flat(proto, items)
    }
}

/// Member/score pairs as one flat list in both protocols.
fn flat(proto: &str, items: &[(&str, f64)]) -> Value {
    Value::Array(
        items
            .iter()
            .flat_map(|(m, s)| [b(m), sc(proto, *s)])
            .collect(),
    )
}

fn members(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|m| b(m)).collect())
}

fn seed(c: &mut Connection) {
    let _: () = q(c, &["FLUSHALL"]);
    let _: i64 = q(c, &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
}

#[test]
fn zadd_scores_and_ranks() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        let _: () = q(c, &["FLUSHALL"]);
        assert_eq!(q::<i64>(c, &["ZADD", "z", "1", "a", "2", "b", "1", "a"]), 2);
        assert_eq!(q::<i64>(c, &["ZCARD", "z"]), 2);
        assert_eq!(q::<i64>(c, &["ZCARD", "nokey"]), 0);
        assert_eq!(raw(c, &["ZSCORE", "z", "b"]), sc(proto, 2.0));
        assert_eq!(raw(c, &["ZSCORE", "z", "x"]), Value::Nil);
        assert_eq!(raw(c, &["ZSCORE", "nokey", "x"]), Value::Nil);
        assert_eq!(
            raw(c, &["ZMSCORE", "z", "a", "x", "b"]),
            Value::Array(vec![sc(proto, 1.0), Value::Nil, sc(proto, 2.0)])
        );
        assert_eq!(
            raw(c, &["ZMSCORE", "nokey", "a"]),
            Value::Array(vec![Value::Nil])
        );
        // Options.
        assert_eq!(q::<i64>(c, &["ZADD", "z", "XX", "5", "a", "9", "new"]), 0);
        assert_eq!(raw(c, &["ZSCORE", "z", "a"]), sc(proto, 5.0));
        assert_eq!(raw(c, &["ZSCORE", "z", "new"]), Value::Nil);
        assert_eq!(q::<i64>(c, &["ZADD", "z", "NX", "7", "a", "3", "c"]), 1);
        assert_eq!(raw(c, &["ZSCORE", "z", "a"]), sc(proto, 5.0));
        assert_eq!(
            q::<i64>(c, &["ZADD", "z", "GT", "CH", "4", "a", "9", "b"]),
            1
        );
        assert_eq!(
            q::<i64>(c, &["ZADD", "z", "LT", "CH", "1", "a", "10", "b"]),
            1
        );
        assert_eq!(raw(c, &["ZSCORE", "z", "a"]), sc(proto, 1.0));
        assert_eq!(raw(c, &["ZSCORE", "z", "b"]), sc(proto, 9.0));
        assert_eq!(raw(c, &["ZADD", "z", "INCR", "2.5", "a"]), sc(proto, 3.5));
        assert_eq!(raw(c, &["ZADD", "z", "INCR", "GT", "-1", "a"]), Value::Nil);
        assert_eq!(raw(c, &["ZADD", "z", "XX", "INCR", "1", "zz"]), Value::Nil);
        assert_eq!(raw(c, &["ZINCRBY", "z", "1.5", "a"]), sc(proto, 5.0));
        assert_eq!(
            raw(c, &["ZINCRBY", "z", "-inf", "m"]),
            sc(proto, f64::NEG_INFINITY)
        );
        assert_eq!(q::<i64>(c, &["ZADD", "z", "+inf", "top"]), 1);
        assert_eq!(raw(c, &["ZSCORE", "z", "top"]), sc(proto, f64::INFINITY));
        // Ranks: m(-inf) c(3) a(5) b(9) top(inf).
        assert_eq!(raw(c, &["ZRANK", "z", "a"]), Value::Int(2));
        assert_eq!(raw(c, &["ZREVRANK", "z", "a"]), Value::Int(2));
        assert_eq!(raw(c, &["ZREVRANK", "z", "top"]), Value::Int(0));
        assert_eq!(raw(c, &["ZRANK", "z", "nope"]), Value::Nil);
        assert_eq!(
            raw(c, &["ZRANK", "z", "b", "WITHSCORE"]),
            Value::Array(vec![Value::Int(3), sc(proto, 9.0)])
        );
        assert_eq!(
            raw(c, &["ZREVRANK", "z", "b", "withscore"]),
            Value::Array(vec![Value::Int(1), sc(proto, 9.0)])
        );
        assert_eq!(raw(c, &["ZRANK", "z", "nope", "WITHSCORE"]), Value::Nil);
        assert_eq!(err(c, &["ZRANK", "z", "a", "WITHSCORES"]), SYNTAX);
        assert_eq!(
            err(c, &["ZRANK", "z", "a", "WITHSCORE", "x"]),
            arity("zrank")
        );
        // Doubles keep Redis's format.
        assert_eq!(
            q::<i64>(c, &["ZADD", "f", "0.1", "x", "1e20", "y", "-0", "z"]),
            3
        );
        // (The RESP3 wire form of doubles is pinned byte for byte in `raw_bytes`.)
        if proto == "RESP2" {
            assert_eq!(q::<String>(c, &["ZSCORE", "f", "x"]), "0.1");
            assert_eq!(q::<String>(c, &["ZSCORE", "f", "y"]), "1e+20");
            assert_eq!(q::<String>(c, &["ZSCORE", "f", "z"]), "-0");
        }
    }
}

#[test]
fn zadd_errors() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    assert_eq!(err(c, &["ZADD", "z", "NX", "1"]), SYNTAX);
    assert_eq!(err(c, &["ZADD", "z", "1", "a", "2"]), SYNTAX);
    assert_eq!(err(c, &["ZADD", "z", "x", "a"]), NOT_FLOAT);
    assert_eq!(err(c, &["ZADD", "z", "nan", "a"]), NOT_FLOAT);
    assert_eq!(err(c, &["ZADD", "z", "1", "a", "x", "b"]), NOT_FLOAT);
    assert_eq!(q::<i64>(c, &["EXISTS", "z"]), 0);
    assert_eq!(
        err(c, &["ZADD", "z", "NX", "XX", "1", "a"]),
        "ERR XX and NX options at the same time are not compatible"
    );
    for opts in [["GT", "LT"], ["GT", "NX"], ["LT", "NX"]] {
        assert_eq!(
            err(c, &["ZADD", "z", opts[0], opts[1], "1", "a"]),
            "ERR GT, LT, and/or NX options at the same time are not compatible"
        );
    }
    assert_eq!(
        err(c, &["ZADD", "z", "INCR", "1", "a", "2", "b"]),
        "ERR INCR option supports a single increment-element pair"
    );
    let _: i64 = q(c, &["ZADD", "z", "inf", "a"]);
    assert_eq!(
        err(c, &["ZINCRBY", "z", "-inf", "a"]),
        "ERR resulting score is not a number (NaN)"
    );
    assert_eq!(
        err(c, &["ZADD", "z", "INCR", "-inf", "a"]),
        "ERR resulting score is not a number (NaN)"
    );
    assert_eq!(err(c, &["ZINCRBY", "z", "abc", "a"]), NOT_FLOAT);
    // Scores are read as strtod reads them, without its leniencies: hexadecimal is a number,
    // white space, overflow and underflow are not.
    assert_eq!(q::<i64>(c, &["ZADD", "h", "0x10", "a"]), 1);
    assert_eq!(q::<String>(c, &["ZSCORE", "h", "a"]), "16");
    for bad in ["1e400", "1e-400", " 1", "1 ", ""] {
        assert_eq!(err(c, &["ZADD", "h", bad, "a"]), NOT_FLOAT, "{bad:?}");
    }
    assert_eq!(
        err(c, &["ZUNION", "1", "h", "WEIGHTS", "1e400"]),
        "ERR weight value is not a float"
    );
    // Range bounds are more lenient, as zslParseRange is: an empty bound is 0, white space
    // before the number is skipped, an overflow saturates.
    assert_eq!(
        q::<Vec<String>>(c, &["ZRANGEBYSCORE", "h", "", "1e400"]),
        vec!["a"]
    );
    assert_eq!(
        q::<Vec<String>>(c, &["ZRANGEBYSCORE", "h", "(", " 16"]),
        vec!["a"]
    );
    assert_eq!(err(c, &["ZRANGEBYSCORE", "h", "0", "16 "]), RANGE_FLOAT);
    for (args, name) in [
        (&["ZADD", "z", "1"][..], "zadd"),
        (&["ZINCRBY", "z", "1"], "zincrby"),
        (&["ZREM", "z"], "zrem"),
        (&["ZCARD"], "zcard"),
        (&["ZSCORE", "z"], "zscore"),
        (&["ZMSCORE", "z"], "zmscore"),
        (&["ZRANK", "z"], "zrank"),
        (&["ZCOUNT", "z", "1"], "zcount"),
        (&["ZLEXCOUNT", "z", "-"], "zlexcount"),
        (&["ZRANGE", "z", "0"], "zrange"),
        (&["ZRANGESTORE", "d", "z", "0"], "zrangestore"),
        (&["ZPOPMIN"], "zpopmin"),
        (&["ZMPOP", "1", "z"], "zmpop"),
        (&["ZRANDMEMBER"], "zrandmember"),
        (&["ZUNION", "1"], "zunion"),
        (&["ZUNIONSTORE", "d", "1"], "zunionstore"),
        (&["ZINTERCARD", "1"], "zintercard"),
        (&["ZSCAN", "z"], "zscan"),
    ] {
        assert_eq!(err(c, args), arity(name), "{args:?}");
    }
}

#[test]
fn ranges_by_rank_score_and_lex() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        seed(c);
        let all = [("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 4.0)];
        assert_eq!(
            raw(c, &["ZRANGE", "z", "0", "-1"]),
            members(&["a", "b", "c", "d"])
        );
        assert_eq!(
            raw(c, &["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
            pairs(proto, &all)
        );
        assert_eq!(raw(c, &["ZRANGE", "z", "1", "2"]), members(&["b", "c"]));
        assert_eq!(raw(c, &["ZRANGE", "z", "-2", "100"]), members(&["c", "d"]));
        assert_eq!(raw(c, &["ZRANGE", "z", "3", "1"]), members(&[]));
        assert_eq!(raw(c, &["ZRANGE", "z", "0", "0", "REV"]), members(&["d"]));
        assert_eq!(raw(c, &["ZREVRANGE", "z", "0", "1"]), members(&["d", "c"]));
        assert_eq!(
            raw(c, &["ZREVRANGE", "z", "0", "1", "WITHSCORES"]),
            pairs(proto, &[("d", 4.0), ("c", 3.0)])
        );
        assert_eq!(raw(c, &["ZRANGE", "nokey", "0", "-1"]), members(&[]));
        // By score.
        assert_eq!(
            raw(c, &["ZRANGEBYSCORE", "z", "2", "3"]),
            members(&["b", "c"])
        );
        assert_eq!(
            raw(c, &["ZRANGEBYSCORE", "z", "(2", "+inf"]),
            members(&["c", "d"])
        );
        assert_eq!(
            raw(c, &["ZRANGEBYSCORE", "z", "-inf", "(2"]),
            members(&["a"])
        );
        assert_eq!(
            raw(
                c,
                &[
                    "ZRANGEBYSCORE",
                    "z",
                    "-inf",
                    "+inf",
                    "LIMIT",
                    "1",
                    "2",
                    "WITHSCORES"
                ]
            ),
            pairs(proto, &[("b", 2.0), ("c", 3.0)])
        );
        assert_eq!(
            raw(
                c,
                &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "2"]
            ),
            members(&[])
        );
        assert_eq!(
            raw(
                c,
                &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "2", "-1"]
            ),
            members(&["c", "d"])
        );
        assert_eq!(
            raw(c, &["ZREVRANGEBYSCORE", "z", "3", "1"]),
            members(&["c", "b", "a"])
        );
        assert_eq!(
            raw(
                c,
                &["ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", "1", "1"]
            ),
            members(&["c"])
        );
        assert_eq!(
            raw(
                c,
                &["ZRANGE", "z", "(4", "2", "BYSCORE", "REV", "WITHSCORES"]
            ),
            pairs(proto, &[("c", 3.0), ("b", 2.0)])
        );
        assert_eq!(q::<i64>(c, &["ZCOUNT", "z", "(1", "3"]), 2);
        assert_eq!(q::<i64>(c, &["ZCOUNT", "z", "5", "1"]), 0);
        assert_eq!(q::<i64>(c, &["ZCOUNT", "nokey", "-inf", "inf"]), 0);
        assert_eq!(err(c, &["ZCOUNT", "z", "x", "1"]), RANGE_FLOAT);
        assert_eq!(err(c, &["ZRANGEBYSCORE", "z", "1", "(x"]), RANGE_FLOAT);
        assert_eq!(err(c, &["ZRANGEBYSCORE", "z", "1", "nan"]), RANGE_FLOAT);
        // By lex (equal scores).
        let _: i64 = q(
            c,
            &[
                "ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e",
            ],
        );
        assert_eq!(
            raw(c, &["ZRANGEBYLEX", "l", "-", "+"]),
            members(&["a", "b", "c", "d", "e"])
        );
        assert_eq!(
            raw(c, &["ZRANGEBYLEX", "l", "[b", "(d"]),
            members(&["b", "c"])
        );
        assert_eq!(
            raw(c, &["ZRANGEBYLEX", "l", "(b", "[d", "LIMIT", "1", "5"]),
            members(&["d"])
        );
        assert_eq!(
            raw(c, &["ZREVRANGEBYLEX", "l", "+", "[c"]),
            members(&["e", "d", "c"])
        );
        assert_eq!(
            raw(
                c,
                &["ZRANGE", "l", "[d", "-", "BYLEX", "REV", "LIMIT", "0", "2"]
            ),
            members(&["d", "c"])
        );
        assert_eq!(raw(c, &["ZRANGEBYLEX", "l", "+", "-"]), members(&[]));
        assert_eq!(q::<i64>(c, &["ZLEXCOUNT", "l", "[b", "+"]), 4);
        assert_eq!(q::<i64>(c, &["ZLEXCOUNT", "l", "(e", "+"]), 0);
        assert_eq!(err(c, &["ZLEXCOUNT", "l", "b", "+"]), RANGE_LEX);
        assert_eq!(err(c, &["ZRANGEBYLEX", "l", "-", "+x"]), RANGE_LEX);
        // Option errors.
        assert_eq!(
            err(c, &["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"]),
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
        );
        assert_eq!(
            err(c, &["ZRANGE", "l", "-", "+", "BYLEX", "WITHSCORES"]),
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
        );
        assert_eq!(
            err(c, &["ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"]),
            SYNTAX
        );
        assert_eq!(err(c, &["ZRANGE", "z", "a", "1"]), NOT_INTEGER);
        assert_eq!(err(c, &["ZRANGEBYSCORE", "z", "0", "1", "REV"]), SYNTAX);
        assert_eq!(err(c, &["ZREVRANGE", "z", "0", "1", "REV"]), SYNTAX);
        assert_eq!(
            err(c, &["ZRANGEBYSCORE", "z", "0", "1", "LIMIT", "x", "1"]),
            NOT_INTEGER
        );
    }
}

#[test]
fn zrangestore_and_removals() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    seed(c);
    assert_eq!(q::<i64>(c, &["ZRANGESTORE", "d", "z", "1", "2"]), 2);
    assert_eq!(raw(c, &["ZRANGE", "d", "0", "-1"]), members(&["b", "c"]));
    assert_eq!(
        q::<i64>(
            c,
            &[
                "ZRANGESTORE",
                "d",
                "z",
                "(1",
                "3",
                "BYSCORE",
                "LIMIT",
                "1",
                "5"
            ]
        ),
        1
    );
    assert_eq!(
        raw(c, &["ZRANGE", "d", "0", "-1", "WITHSCORES"]),
        flat("RESP2", &[("c", 3.0)])
    );
    assert_eq!(
        err(c, &["ZRANGESTORE", "d", "z", "0", "1", "WITHSCORES"]),
        SYNTAX
    );
    // An empty result deletes the destination.
    assert_eq!(q::<i64>(c, &["ZRANGESTORE", "d", "z", "10", "20"]), 0);
    assert_eq!(q::<i64>(c, &["EXISTS", "d"]), 0);
    let _: () = q(c, &["SET", "d", "x"]);
    assert_eq!(q::<i64>(c, &["ZRANGESTORE", "d", "nokey", "0", "-1"]), 0);
    assert_eq!(q::<i64>(c, &["EXISTS", "d"]), 0);
    // ZREM / ZREMRANGEBY*.
    assert_eq!(q::<i64>(c, &["ZREM", "z", "a", "x", "a"]), 1);
    assert_eq!(q::<i64>(c, &["ZREM", "nokey", "a"]), 0);
    assert_eq!(q::<i64>(c, &["ZREMRANGEBYRANK", "z", "0", "0"]), 1);
    assert_eq!(raw(c, &["ZRANGE", "z", "0", "-1"]), members(&["c", "d"]));
    assert_eq!(q::<i64>(c, &["ZREMRANGEBYSCORE", "z", "(3", "+inf"]), 1);
    assert_eq!(q::<i64>(c, &["ZREMRANGEBYSCORE", "z", "10", "20"]), 0);
    assert_eq!(q::<i64>(c, &["ZREMRANGEBYRANK", "z", "-1", "-1"]), 1);
    assert_eq!(q::<i64>(c, &["EXISTS", "z"]), 0);
    let _: i64 = q(c, &["ZADD", "l", "0", "a", "0", "b", "0", "c"]);
    assert_eq!(q::<i64>(c, &["ZREMRANGEBYLEX", "l", "(a", "+"]), 2);
    assert_eq!(q::<i64>(c, &["ZREMRANGEBYLEX", "l", "-", "+"]), 1);
    assert_eq!(q::<i64>(c, &["EXISTS", "l"]), 0);
    assert_eq!(err(c, &["ZREMRANGEBYLEX", "l", "a", "+"]), RANGE_LEX);
    assert_eq!(err(c, &["ZREMRANGEBYSCORE", "l", "a", "1"]), RANGE_FLOAT);
    assert_eq!(err(c, &["ZREMRANGEBYRANK", "l", "a", "1"]), NOT_INTEGER);
    let _: i64 = q(c, &["ZADD", "z", "1", "a"]);
    assert_eq!(q::<i64>(c, &["ZREM", "z", "a"]), 1);
    assert_eq!(q::<String>(c, &["TYPE", "z"]), "none");

    // A write that changes nothing leaves a WATCHed key alone.
    let _: i64 = q(c, &["ZADD", "w", "1", "a"]);
    let _: () = q(c, &["WATCH", "w"]);
    assert_eq!(q::<i64>(c, &["ZADD", "w", "1", "a"]), 0);
    assert_eq!(q::<i64>(c, &["ZADD", "w", "NX", "5", "a"]), 0);
    assert_eq!(q::<i64>(c, &["ZREM", "w", "zz"]), 0);
    assert_eq!(q::<i64>(c, &["ZREMRANGEBYSCORE", "w", "5", "6"]), 0);
    let _: () = q(c, &["MULTI"]);
    let _: () = q(c, &["PING"]);
    assert_eq!(
        raw(c, &["EXEC"]),
        Value::Array(vec![Value::SimpleString("PONG".into())])
    );
}

#[test]
fn pops() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        seed(c);
        assert_eq!(raw(c, &["ZPOPMIN", "z"]), flat(proto, &[("a", 1.0)]));
        assert_eq!(raw(c, &["ZPOPMAX", "z"]), flat(proto, &[("d", 4.0)]));
        assert_eq!(raw(c, &["ZPOPMIN", "z", "0"]), members(&[]));
        assert_eq!(raw(c, &["ZPOPMIN", "z", "1"]), pairs(proto, &[("b", 2.0)]));
        assert_eq!(raw(c, &["ZPOPMAX", "z", "10"]), pairs(proto, &[("c", 3.0)]));
        assert_eq!(q::<i64>(c, &["EXISTS", "z"]), 0);
        assert_eq!(raw(c, &["ZPOPMIN", "z"]), members(&[]));
        assert_eq!(raw(c, &["ZPOPMIN", "z", "3"]), members(&[]));
        assert_eq!(
            err(c, &["ZPOPMIN", "z", "-1"]),
            "ERR value is out of range, must be positive"
        );
        assert_eq!(
            err(c, &["ZPOPMAX", "z", "x"]),
            "ERR value is out of range, must be positive"
        );
        assert_eq!(err(c, &["ZPOPMAX", "z", "1", "2"]), SYNTAX);
        // ZMPOP: the first non-empty key, always nested pairs.
        seed(c);
        let mpop = |key: &str, items: &[(&str, f64)]| {
            Value::Array(vec![
                b(key),
                Value::Array(
                    items
                        .iter()
                        .map(|(m, s)| Value::Array(vec![b(m), sc(proto, *s)]))
                        .collect(),
                ),
            ])
        };
        assert_eq!(
            raw(c, &["ZMPOP", "2", "nokey", "z", "MIN"]),
            mpop("z", &[("a", 1.0)])
        );
        assert_eq!(
            raw(c, &["ZMPOP", "1", "z", "max", "COUNT", "2"]),
            mpop("z", &[("d", 4.0), ("c", 3.0)])
        );
        assert_eq!(
            raw(c, &["ZMPOP", "1", "z", "MIN", "COUNT", "9"]),
            mpop("z", &[("b", 2.0)])
        );
        assert_eq!(raw(c, &["ZMPOP", "2", "z", "nokey", "MIN"]), Value::Nil);
        assert_eq!(
            err(c, &["ZMPOP", "0", "z", "MIN"]),
            "ERR numkeys should be greater than 0"
        );
        assert_eq!(
            err(c, &["ZMPOP", "x", "z", "MIN"]),
            "ERR numkeys should be greater than 0"
        );
        assert_eq!(err(c, &["ZMPOP", "1", "z", "MID"]), SYNTAX);
        assert_eq!(err(c, &["ZMPOP", "5", "z", "MIN"]), SYNTAX);
        assert_eq!(
            err(c, &["ZMPOP", "1", "z", "MIN", "COUNT", "0"]),
            "ERR count should be greater than 0"
        );
        assert_eq!(
            err(c, &["ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "1"]),
            SYNTAX
        );
        let _: () = q(c, &["SET", "s", "x"]);
        assert_eq!(err(c, &["ZMPOP", "2", "nokey", "s", "MIN"]), WRONGTYPE);
        assert_eq!(err(c, &["ZPOPMIN", "s"]), WRONGTYPE);
    }
}

#[test]
fn zrandmember() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        seed(c);
        let all: BTreeSet<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let one: String = q(c, &["ZRANDMEMBER", "z"]);
        assert!(all.contains(&one));
        assert_eq!(raw(c, &["ZRANDMEMBER", "nokey"]), Value::Nil);
        assert_eq!(raw(c, &["ZRANDMEMBER", "nokey", "5"]), members(&[]));
        assert_eq!(raw(c, &["ZRANDMEMBER", "z", "0"]), members(&[]));
        let three: Vec<String> = q(c, &["ZRANDMEMBER", "z", "3"]);
        assert_eq!(three.iter().collect::<BTreeSet<_>>().len(), 3);
        let many: Vec<String> = q(c, &["ZRANDMEMBER", "z", "10"]);
        assert_eq!(many.into_iter().collect::<BTreeSet<_>>(), all);
        let picks: Vec<String> = q(c, &["ZRANDMEMBER", "z", "-20"]);
        assert_eq!(picks.len(), 20);
        assert!(picks.iter().all(|p| all.contains(p)));
        // WITHSCORES: flat in RESP2, pairs in RESP3; every score matches its member.
        let Value::Array(items) = raw(c, &["ZRANDMEMBER", "z", "-5", "WITHSCORES"]) else {
            panic!("not an array");
        };
        let got: Vec<(Value, Value)> = if proto == "RESP3" {
            items
                .into_iter()
                .map(|p| match p {
                    Value::Array(mut v) if v.len() == 2 => {
                        let s = v.pop().unwrap();
                        (v.pop().unwrap(), s)
                    }
                    other => panic!("not a pair: {other:?}"),
                })
                .collect()
        } else {
            items
                .chunks(2)
                .map(|p| (p[0].clone(), p[1].clone()))
                .collect()
        };
        assert_eq!(got.len(), 5);
        for (m, s) in got {
            let Value::BulkString(m) = m else { panic!() };
            let m = String::from_utf8(m).unwrap();
            let expect = (m.as_bytes()[0] - b'a' + 1) as f64;
            assert_eq!(s, sc(proto, expect));
        }
        assert_eq!(err(c, &["ZRANDMEMBER", "z", "1", "x"]), SYNTAX);
        assert_eq!(err(c, &["ZRANDMEMBER", "z", "x"]), NOT_INTEGER);
        assert_eq!(
            err(c, &["ZRANDMEMBER", "z", "-9223372036854775808"]),
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
        );
        assert_eq!(
            err(
                c,
                &["ZRANDMEMBER", "z", "-9223372036854770000", "WITHSCORES"]
            ),
            "ERR value is out of range"
        );
    }
}

#[test]
fn union_inter_diff() {
    let server = TestServer::start(&[]);
    for (proto, mut c) in both(&server) {
        let c = &mut c;
        let _: () = q(c, &["FLUSHALL"]);
        let _: i64 = q(c, &["ZADD", "z1", "1", "a", "2", "b", "3", "c"]);
        let _: i64 = q(c, &["ZADD", "z2", "10", "b", "20", "c", "30", "d"]);
        let _: i64 = q(c, &["SADD", "s", "a", "d"]);
        assert_eq!(
            raw(c, &["ZUNION", "2", "z1", "z2", "WITHSCORES"]),
            pairs(proto, &[("a", 1.0), ("b", 12.0), ("c", 23.0), ("d", 30.0)])
        );
        assert_eq!(
            raw(
                c,
                &[
                    "ZUNION",
                    "2",
                    "z1",
                    "z2",
                    "WEIGHTS",
                    "2",
                    "0.5",
                    "AGGREGATE",
                    "MAX",
                    "WITHSCORES"
                ]
            ),
            pairs(proto, &[("a", 2.0), ("b", 5.0), ("c", 10.0), ("d", 15.0)])
        );
        assert_eq!(raw(c, &["ZINTER", "2", "z1", "z2"]), members(&["b", "c"]));
        assert_eq!(
            raw(
                c,
                &["ZINTER", "2", "z1", "z2", "AGGREGATE", "MIN", "WITHSCORES"]
            ),
            pairs(proto, &[("b", 2.0), ("c", 3.0)])
        );
        assert_eq!(
            raw(c, &["ZDIFF", "2", "z1", "z2", "WITHSCORES"]),
            pairs(proto, &[("a", 1.0)])
        );
        assert_eq!(raw(c, &["ZDIFF", "2", "nokey", "z2"]), members(&[]));
        // A plain set scores 1 per member.
        assert_eq!(
            raw(c, &["ZUNION", "2", "s", "z1", "WITHSCORES"]),
            pairs(proto, &[("d", 1.0), ("a", 2.0), ("b", 2.0), ("c", 3.0)])
        );
        assert_eq!(q::<i64>(c, &["ZINTERCARD", "2", "z1", "z2"]), 2);
        assert_eq!(
            q::<i64>(c, &["ZINTERCARD", "2", "z1", "z2", "LIMIT", "1"]),
            1
        );
        assert_eq!(q::<i64>(c, &["ZINTERCARD", "2", "z1", "nokey"]), 0);
        // STORE forms.
        assert_eq!(q::<i64>(c, &["ZUNIONSTORE", "d", "2", "z1", "z2"]), 4);
        assert_eq!(raw(c, &["ZSCORE", "d", "c"]), sc(proto, 23.0));
        assert_eq!(
            q::<i64>(
                c,
                &["ZINTERSTORE", "d", "2", "z1", "z2", "WEIGHTS", "1", "0"]
            ),
            2
        );
        assert_eq!(
            raw(c, &["ZRANGE", "d", "0", "-1", "WITHSCORES"]),
            pairs(proto, &[("b", 2.0), ("c", 3.0)])
        );
        assert_eq!(q::<i64>(c, &["ZDIFFSTORE", "d", "2", "z1", "s"]), 2);
        assert_eq!(raw(c, &["ZRANGE", "d", "0", "-1"]), members(&["b", "c"]));
        assert_eq!(q::<i64>(c, &["ZINTERSTORE", "d", "2", "z1", "nokey"]), 0);
        assert_eq!(q::<i64>(c, &["EXISTS", "d"]), 0);
        // inf + -inf sums to 0.
        let _: i64 = q(c, &["ZADD", "p", "inf", "x"]);
        let _: i64 = q(c, &["ZADD", "n", "-inf", "x"]);
        assert_eq!(
            raw(c, &["ZUNION", "2", "p", "n", "WITHSCORES"]),
            pairs(proto, &[("x", 0.0)])
        );
        // Errors.
        assert_eq!(
            err(c, &["ZUNIONSTORE", "d", "0", "z1"]),
            "ERR at least 1 input key is needed for 'zunionstore' command"
        );
        assert_eq!(
            err(c, &["ZINTER", "0", "z1"]),
            "ERR at least 1 input key is needed for 'zinter' command"
        );
        assert_eq!(err(c, &["ZUNION", "x", "z1"]), NOT_INTEGER);
        assert_eq!(err(c, &["ZUNION", "3", "z1", "z2"]), SYNTAX);
        assert_eq!(
            err(c, &["ZUNION", "2", "z1", "z2", "WEIGHTS", "1", "x"]),
            "ERR weight value is not a float"
        );
        assert_eq!(err(c, &["ZUNION", "2", "z1", "z2", "WEIGHTS", "1"]), SYNTAX);
        assert_eq!(
            err(c, &["ZUNION", "2", "z1", "z2", "AGGREGATE", "AVG"]),
            SYNTAX
        );
        assert_eq!(
            err(c, &["ZDIFF", "2", "z1", "z2", "WEIGHTS", "1", "1"]),
            SYNTAX
        );
        assert_eq!(
            err(c, &["ZUNIONSTORE", "d", "1", "z1", "WITHSCORES"]),
            SYNTAX
        );
        assert_eq!(
            err(c, &["ZINTERCARD", "1", "z1", "LIMIT", "-1"]),
            "ERR LIMIT can't be negative"
        );
        assert_eq!(err(c, &["ZINTERCARD", "1", "z1", "WITHSCORES"]), SYNTAX);
        let _: () = q(c, &["SET", "str", "x"]);
        assert_eq!(err(c, &["ZUNION", "2", "z1", "str"]), WRONGTYPE);
        assert_eq!(err(c, &["ZUNIONSTORE", "d", "1", "str"]), WRONGTYPE);
    }
}

#[test]
fn zscan() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: i64 = q(c, &["ZADD", "z", "1", "a", "2.5", "b", "3", "ab"]);
    assert_eq!(
        raw(c, &["ZSCAN", "z", "0"]),
        Value::Array(vec![
            b("0"),
            flat("RESP2", &[("a", 1.0), ("b", 2.5), ("ab", 3.0)])
        ])
    );
    assert_eq!(
        raw(c, &["ZSCAN", "z", "0", "MATCH", "a*", "COUNT", "10"]),
        Value::Array(vec![b("0"), flat("RESP2", &[("a", 1.0), ("ab", 3.0)])])
    );
    assert_eq!(
        raw(c, &["ZSCAN", "nokey", "0"]),
        Value::Array(vec![b("0"), Value::Array(vec![])])
    );
    assert_eq!(err(c, &["ZSCAN", "z", "0", "COUNT", "0"]), SYNTAX);
    assert_eq!(err(c, &["ZSCAN", "z", "x"]), "ERR invalid cursor");
    // A skiplist's scores come out as C's %.17g, a listpack's as stored (shortest).
    let long = "x".repeat(65);
    let _: i64 = q(c, &["ZADD", "sk", "0.1", &long]);
    assert_eq!(
        raw(c, &["ZSCAN", "sk", "0"]),
        Value::Array(vec![
            b("0"),
            Value::Array(vec![b(&long), b("0.10000000000000001")])
        ])
    );
    let _: i64 = q(c, &["ZADD", "lp", "0.1", "m"]);
    assert_eq!(
        raw(c, &["ZSCAN", "lp", "0"]),
        Value::Array(vec![b("0"), Value::Array(vec![b("m"), b("0.1")])])
    );
    // RESP3 keeps ZSCAN flat with bulk-string scores.
    let mut c3 = server.client_resp3();
    assert_eq!(
        raw(&mut c3, &["ZSCAN", "z", "0", "MATCH", "b"]),
        Value::Array(vec![b("0"), Value::Array(vec![b("b"), b("2.5")])])
    );
}

#[test]
fn wrongtype_both_ways() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: () = q(c, &["SET", "s", "x"]);
    for args in [
        &["ZADD", "s", "1", "a"][..],
        &["ZINCRBY", "s", "1", "a"],
        &["ZREM", "s", "a"],
        &["ZCARD", "s"],
        &["ZSCORE", "s", "a"],
        &["ZMSCORE", "s", "a"],
        &["ZRANK", "s", "a"],
        &["ZCOUNT", "s", "0", "1"],
        &["ZLEXCOUNT", "s", "-", "+"],
        &["ZRANGE", "s", "0", "1"],
        &["ZRANGEBYSCORE", "s", "0", "1"],
        &["ZRANGESTORE", "d", "s", "0", "1"],
        &["ZREMRANGEBYRANK", "s", "0", "1"],
        &["ZREMRANGEBYSCORE", "s", "0", "1"],
        &["ZREMRANGEBYLEX", "s", "-", "+"],
        &["ZRANDMEMBER", "s"],
        &["ZSCAN", "s", "0"],
    ] {
        assert_eq!(err(c, args), WRONGTYPE, "{args:?}");
    }
    let _: i64 = q(c, &["ZADD", "z", "1", "a"]);
    assert_eq!(err(c, &["SADD", "z", "a"]), WRONGTYPE);
    assert_eq!(err(c, &["GET", "z"]), WRONGTYPE);
    assert_eq!(q::<String>(c, &["TYPE", "z"]), "zset");
}

#[test]
fn encodings_follow_the_listpack_limits() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: i64 = q(c, &["ZADD", "z", "1", "a"]);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "z"]), "listpack");
    let long = "x".repeat(65);
    let _: i64 = q(c, &["ZADD", "z", "2", &long]);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "z"]), "skiplist");
    let mut args = vec!["ZADD".to_string(), "big".to_string()];
    for i in 0..129 {
        args.push(i.to_string());
        args.push(format!("m{i}"));
    }
    let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let _: i64 = q(c, &refs);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "big"]), "skiplist");
    // A STORE result is encoded by its size.
    let _: i64 = q(c, &["ZUNIONSTORE", "small", "1", "z", "WEIGHTS", "1"]);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "small"]), "skiplist");
    let _: i64 = q(c, &["ZRANGESTORE", "small", "big", "0", "9"]);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "small"]), "listpack");
    // The limits are configurable, under both names.
    let _: () = q(c, &["CONFIG", "SET", "zset-max-ziplist-entries", "0"]);
    assert_eq!(
        q::<Vec<String>>(c, &["CONFIG", "GET", "zset-max-listpack-entries"]),
        vec!["zset-max-listpack-entries", "0"]
    );
    let _: i64 = q(c, &["ZADD", "new", "1", "a"]);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "new"]), "skiplist");
    let _: () = q(c, &["CONFIG", "SET", "zset-max-listpack-entries", "128"]);
    let _: () = q(c, &["CONFIG", "SET", "zset-max-listpack-value", "2"]);
    let _: i64 = q(c, &["ZADD", "v", "1", "abc"]);
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "v"]), "skiplist");
    // Reads leave the reported size alone.
    let usage = |c: &mut Connection| q::<i64>(c, &["MEMORY", "USAGE", "big", "SAMPLES", "0"]);
    let before = usage(c);
    let _: Value = raw(c, &["ZRANGE", "big", "0", "-1", "WITHSCORES"]);
    let _: Value = raw(c, &["ZRANGEBYSCORE", "big", "-inf", "+inf"]);
    let _: Value = raw(c, &["ZRANDMEMBER", "big", "-50"]);
    let _: Value = raw(c, &["ZUNION", "1", "big"]);
    let _: Value = raw(c, &["ZSCAN", "big", "0"]);
    assert_eq!(usage(c), before);
    // COPY and DEBUG DIGEST-VALUE see the whole value.
    let _: i64 = q(c, &["COPY", "big", "big2"]);
    assert_eq!(
        q::<Vec<String>>(c, &["DEBUG", "DIGEST-VALUE", "big"]),
        q::<Vec<String>>(c, &["DEBUG", "DIGEST-VALUE", "big2"])
    );
    let _: i64 = q(c, &["ZINCRBY", "big2", "1", "m0"]);
    assert_ne!(
        q::<Vec<String>>(c, &["DEBUG", "DIGEST-VALUE", "big"]),
        q::<Vec<String>>(c, &["DEBUG", "DIGEST-VALUE", "big2"])
    );
}

#[test]
fn command_info_key_specs() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let keys: Vec<String> = q(
        c,
        &[
            "COMMAND",
            "GETKEYS",
            "ZUNIONSTORE",
            "d",
            "2",
            "a",
            "b",
            "WEIGHTS",
            "1",
            "2",
        ],
    );
    assert_eq!(keys, vec!["d", "a", "b"]);
    let keys: Vec<String> = q(c, &["COMMAND", "GETKEYS", "ZMPOP", "2", "a", "b", "MIN"]);
    assert_eq!(keys, vec!["a", "b"]);
    let keys: Vec<String> = q(
        c,
        &["COMMAND", "GETKEYS", "ZRANGESTORE", "d", "s", "0", "1"],
    );
    assert_eq!(keys, vec!["d", "s"]);
    let Value::Array(info) = raw(c, &["COMMAND", "INFO", "zunionstore"]) else {
        panic!("not an array");
    };
    let Value::Array(ref entry) = info[0] else {
        panic!("no entry");
    };
    assert_eq!(&entry[1..2], &[Value::Int(-4)]);
    assert_eq!(&entry[3..6], &[Value::Int(1), Value::Int(1), Value::Int(1)]);
}

/// Sends `input` and reads until the reply ends with `tail` (or the connection goes quiet).
fn exchange_until(addr: std::net::SocketAddr, input: &[u8], tail: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    s.write_all(input).expect("write");
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while !out.ends_with(tail) {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    out
}

/// The wire format, byte for byte: RESP3 doubles and nested pairs, RESP2 bulk scores.
#[test]
fn raw_bytes() {
    let server = TestServer::start(&[]);
    let addr = format!("127.0.0.1:{}", server.port()).parse().unwrap();
    let setup = b"*4\r\n$4\r\nZADD\r\n$1\r\nz\r\n$3\r\n1.5\r\n$1\r\na\r\n";
    assert_eq!(common::raw_exchange(addr, setup, 4), b":1\r\n");
    let range = b"*5\r\n$6\r\nZRANGE\r\n$1\r\nz\r\n$1\r\n0\r\n$2\r\n-1\r\n$10\r\nWITHSCORES\r\n";
    let resp2 = b"*2\r\n$1\r\na\r\n$3\r\n1.5\r\n";
    assert_eq!(common::raw_exchange(addr, range, resp2.len()), resp2);
    let mut input = b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n".to_vec();
    input.extend_from_slice(range);
    let expect = b"*1\r\n*2\r\n$1\r\na\r\n,1.5\r\n";
    let out = exchange_until(addr, &input, expect);
    assert!(out.ends_with(expect), "{}", String::from_utf8_lossy(&out));
    let big = b"*4\r\n$4\r\nZADD\r\n$1\r\nz\r\n$4\r\n1e20\r\n$1\r\nb\r\n*3\r\n$6\r\nZSCORE\r\n$1\r\nz\r\n$1\r\nb\r\n";
    let mut input = b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n".to_vec();
    input.extend_from_slice(big);
    let out = exchange_until(addr, &input, b":1\r\n,1e+20\r\n");
    assert!(
        out.ends_with(b":1\r\n,1e+20\r\n"),
        "{}",
        String::from_utf8_lossy(&out)
    );
}

#[derive(Clone, Debug)]
enum Op {
    Add(u8, i8),
    Incr(u8, i8),
    Rem(u8),
    PopMin(u8),
    PopMax(u8),
    RemByScore(i8, i8),
    Range(i8, i8),
    ByScore(i8, i8),
    Rank(u8),
    Count(i8, i8),
}

fn op() -> impl Strategy<Value = Op> {
    let m = 0u8..12;
    let s = -5i8..5;
    prop_oneof![
        4 => (m.clone(), s.clone()).prop_map(|(m, s)| Op::Add(m, s)),
        1 => (m.clone(), s.clone()).prop_map(|(m, s)| Op::Incr(m, s)),
        2 => m.clone().prop_map(Op::Rem),
        1 => (0u8..4).prop_map(Op::PopMin),
        1 => (0u8..4).prop_map(Op::PopMax),
        1 => (s.clone(), s.clone()).prop_map(|(a, b)| Op::RemByScore(a, b)),
        2 => (-6i8..6, -6i8..6).prop_map(|(a, b)| Op::Range(a, b)),
        2 => (s.clone(), s.clone()).prop_map(|(a, b)| Op::ByScore(a, b)),
        1 => m.prop_map(Op::Rank),
        1 => (s.clone(), s).prop_map(|(a, b)| Op::Count(a, b)),
    ]
}

/// The model: member -> score; its order is Redis's (score, then member bytes).
fn ordered(model: &BTreeMap<String, i64>) -> Vec<(String, i64)> {
    let mut v: Vec<(String, i64)> = model.iter().map(|(m, s)| (m.clone(), *s)).collect();
    v.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    v
}

fn strs(items: &[(String, i64)]) -> Vec<String> {
    items.iter().map(|(m, _)| m.clone()).collect()
}

fn with_scores(items: &[(String, i64)]) -> Vec<String> {
    items
        .iter()
        .flat_map(|(m, s)| [m.clone(), s.to_string()])
        .collect()
}

fn run_ops(c: &mut Connection, ops: &[Op]) -> Result<(), TestCaseError> {
    let _: () = q(c, &["DEL", "z"]);
    let mut model: BTreeMap<String, i64> = BTreeMap::new();
    for op in ops {
        let name = |m: &u8| format!("m{m}");
        match op {
            Op::Add(m, s) => {
                let added: i64 = q(c, &["ZADD", "z", &s.to_string(), &name(m)]);
                let new = model.insert(name(m), *s as i64).is_none();
                prop_assert_eq!(added, new as i64);
            }
            Op::Incr(m, s) => {
                let got: String = q(c, &["ZINCRBY", "z", &s.to_string(), &name(m)]);
                let v = model.entry(name(m)).or_insert(0);
                *v += *s as i64;
                prop_assert_eq!(got, v.to_string());
            }
            Op::Rem(m) => {
                let n: i64 = q(c, &["ZREM", "z", &name(m)]);
                prop_assert_eq!(n, model.remove(&name(m)).is_some() as i64);
            }
            Op::PopMin(n) | Op::PopMax(n) => {
                let max = matches!(op, Op::PopMax(_));
                let cmd = if max { "ZPOPMAX" } else { "ZPOPMIN" };
                let got: Vec<String> = q(c, &[cmd, "z", &n.to_string()]);
                let mut all = ordered(&model);
                if max {
                    all.reverse();
                }
                let taken: Vec<(String, i64)> = all.into_iter().take(*n as usize).collect();
                for (m, _) in &taken {
                    model.remove(m);
                }
                prop_assert_eq!(got, with_scores(&taken));
            }
            Op::RemByScore(a, b) => {
                let n: i64 = q(
                    c,
                    &["ZREMRANGEBYSCORE", "z", &a.to_string(), &format!("({b}")],
                );
                let before = model.len();
                model.retain(|_, s| !(*s >= *a as i64 && *s < *b as i64));
                prop_assert_eq!(n as usize, before - model.len());
            }
            Op::Range(a, b) => {
                let got: Vec<String> = q(
                    c,
                    &["ZRANGE", "z", &a.to_string(), &b.to_string(), "WITHSCORES"],
                );
                let all = ordered(&model);
                let len = all.len() as i64;
                let norm = |i: i8| if i < 0 { len + i as i64 } else { i as i64 };
                let (start, stop) = (norm(*a).max(0), norm(*b).min(len - 1));
                let expect: Vec<(String, i64)> = if start > stop || start >= len {
                    Vec::new()
                } else {
                    all[start as usize..=stop as usize].to_vec()
                };
                prop_assert_eq!(got, with_scores(&expect));
                let rev: Vec<String> = q(c, &["ZREVRANGE", "z", &a.to_string(), &b.to_string()]);
                let mut desc = ordered(&model);
                desc.reverse();
                let expect: Vec<(String, i64)> = if start > stop || start >= len {
                    Vec::new()
                } else {
                    desc[start as usize..=stop as usize].to_vec()
                };
                prop_assert_eq!(rev, strs(&expect));
            }
            Op::ByScore(a, b) => {
                let got: Vec<String> =
                    q(c, &["ZRANGEBYSCORE", "z", &format!("({a}"), &b.to_string()]);
                let expect: Vec<(String, i64)> = ordered(&model)
                    .into_iter()
                    .filter(|(_, s)| *s > *a as i64 && *s <= *b as i64)
                    .collect();
                prop_assert_eq!(got, strs(&expect));
                let rev: Vec<String> = q(
                    c,
                    &[
                        "ZREVRANGEBYSCORE",
                        "z",
                        &b.to_string(),
                        &format!("({a}"),
                        "LIMIT",
                        "1",
                        "2",
                    ],
                );
                let mut desc = expect.clone();
                desc.reverse();
                let desc: Vec<(String, i64)> = desc.into_iter().skip(1).take(2).collect();
                prop_assert_eq!(rev, strs(&desc));
            }
            Op::Rank(m) => {
                let got: Option<i64> = q(c, &["ZRANK", "z", &name(m)]);
                let expect = ordered(&model)
                    .iter()
                    .position(|(x, _)| *x == name(m))
                    .map(|p| p as i64);
                prop_assert_eq!(got, expect);
            }
            Op::Count(a, b) => {
                let got: i64 = q(c, &["ZCOUNT", "z", &a.to_string(), &b.to_string()]);
                let expect = model
                    .values()
                    .filter(|s| **s >= *a as i64 && **s <= *b as i64)
                    .count();
                prop_assert_eq!(got as usize, expect);
            }
        }
        let card: i64 = q(c, &["ZCARD", "z"]);
        prop_assert_eq!(card as usize, model.len());
        prop_assert_eq!(q::<i64>(c, &["EXISTS", "z"]), (!model.is_empty()) as i64);
    }
    Ok(())
}

#[test]
fn random_commands_match_a_model() {
    let server = TestServer::start(&[]);
    let c = std::cell::RefCell::new(server.client());
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let mut runner = TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&prop::collection::vec(op(), 1..60), |ops| {
            run_ops(&mut c.borrow_mut(), &ops)
        })
        .unwrap();
}

fn rb(s: &str) -> Resp {
    Resp::Bulk(s.as_bytes().to_vec())
}

/// BZPOPMIN/BZPOPMAX/BZMPOP: served at once when a key has members, else blocked until a
/// ZADD from another connection creates one, in FIFO order; timeouts and MULTI answer a null.
#[test]
fn blocking_pops() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: i64 = q(c, &["ZADD", "{z}b", "1", "one", "2", "two"]);
    let got: (String, String, String) = q(c, &["BZPOPMAX", "{z}a", "{z}b", "0"]);
    assert_eq!(got, ("{z}b".into(), "two".into(), "2".into()));

    let mut w1 = block(&server, c, &["BZPOPMIN", "{z}x", "{z}y", "0"]);
    let mut w2 = block(&server, c, &["BZPOPMIN", "{z}y", "0"]);
    let mut w3 = block(
        &server,
        c,
        &["BZMPOP", "0", "2", "{z}x", "{z}y", "MAX", "COUNT", "5"],
    );
    // One ZADD of two members serves the first two waiters in arrival order.
    assert_eq!(q::<i64>(c, &["ZADD", "{z}y", "5", "e", "3", "c"]), 2);
    assert_eq!(w1.read(), Resp::Array(vec![rb("{z}y"), rb("c"), rb("3")]));
    assert_eq!(w2.read(), Resp::Array(vec![rb("{z}y"), rb("e"), rb("5")]));
    assert_eq!(q::<i64>(c, &["EXISTS", "{z}y"]), 0);
    wait_blocked(c, 1);
    assert_eq!(q::<i64>(c, &["ZADD", "{z}x", "1", "p", "2", "q"]), 2);
    assert_eq!(
        w3.read(),
        Resp::Array(vec![
            rb("{z}x"),
            Resp::Array(vec![
                Resp::Array(vec![rb("q"), rb("2")]),
                Resp::Array(vec![rb("p"), rb("1")]),
            ]),
        ])
    );
    assert_eq!(q::<i64>(c, &["EXISTS", "{z}x"]), 0);

    // A list created under the key does not serve a sorted-set waiter.
    let mut w = block(&server, c, &["BZPOPMIN", "{z}k", "0"]);
    let _: i64 = q(c, &["RPUSH", "{z}k", "v"]);
    let _: i64 = q(c, &["DEL", "{z}k"]);
    let _: i64 = q(c, &["ZADD", "{z}k", "7", "m"]);
    assert_eq!(w.read(), Resp::Array(vec![rb("{z}k"), rb("m"), rb("7")]));

    // Timeouts and MULTI.
    assert_eq!(raw(c, &["BZPOPMIN", "{z}none", "0.01"]), Value::Nil);
    assert_eq!(
        raw(c, &["BZMPOP", "0.01", "1", "{z}none", "MIN"]),
        Value::Nil
    );
    let _: () = q(c, &["MULTI"]);
    let _: String = q(c, &["BZPOPMAX", "{z}none", "0"]);
    assert_eq!(q::<Vec<Value>>(c, &["EXEC"]), vec![Value::Nil]);
    assert_eq!(
        err(c, &["BZPOPMIN", "{z}k", "-1"]),
        "ERR timeout is negative"
    );
    assert_eq!(
        err(c, &["BZMPOP", "0", "0", "{z}k", "MIN"]),
        "ERR numkeys should be greater than 0"
    );
    let _: () = q(c, &["SET", "{z}s", "x"]);
    assert_eq!(
        err(c, &["BZPOPMIN", "{z}s", "0"]),
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
}

/// A skiplist-encoded sorted set is scanned COUNT slots at a time, and every member present
/// throughout is returned while others are removed, re-scored and added between the calls.
#[test]
fn zscan_walks_a_big_set_by_cursor() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    for chunk in (0..2000).collect::<Vec<i32>>().chunks(250) {
        let mut args = vec!["ZADD".to_string(), "big".to_string()];
        for i in chunk {
            args.push(i.to_string());
            args.push(format!("m{i}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let _: i64 = q(c, &args);
    }
    assert_eq!(q::<String>(c, &["OBJECT", "ENCODING", "big"]), "skiplist");
    let mut seen = BTreeSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let (next, items): (String, Vec<String>) = q(c, &["ZSCAN", "big", &cursor, "COUNT", "100"]);
        calls += 1;
        for pair in items.chunks(2) {
            seen.insert(pair[0].clone());
        }
        let _: i64 = q(c, &["ZREM", "big", &format!("m{}", 1999 - calls)]);
        let _: i64 = q(c, &["ZADD", "big", "-1", &format!("new{calls}")]);
        let _: i64 = q(c, &["ZADD", "big", "-5", &format!("m{}", calls * 3)]);
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
