//! SORT and SORT_RO against the real server: numeric and ALPHA order, DESC, LIMIT, BY weights
//! (string keys and hash fields), BY with no `*` (native order), GET patterns including `#`,
//! STORE (a list; an empty result deletes the destination), and the errors.

mod common;
mod kvhelp;

use common::TestServer;
use kvhelp::*;
use redis::Value;

#[test]
fn sort_orders_and_options() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: i64 = q(c, &["RPUSH", "l", "3", "10", "1", "2.5"]);
    assert_eq!(q::<Vec<String>>(c, &["SORT", "l"]), ["1", "2.5", "3", "10"]);
    assert_eq!(
        q::<Vec<String>>(c, &["SORT", "l", "DESC"]),
        ["10", "3", "2.5", "1"]
    );
    assert_eq!(
        q::<Vec<String>>(c, &["SORT", "l", "ALPHA"]),
        ["1", "10", "2.5", "3"]
    );
    assert_eq!(
        q::<Vec<String>>(c, &["SORT", "l", "LIMIT", "1", "2"]),
        ["2.5", "3"]
    );
    assert_eq!(
        q::<Vec<String>>(c, &["SORT_RO", "l", "LIMIT", "-5", "1", "DESC"]),
        ["10"]
    );

    // Weights from string keys and hash fields; missing weights count as 0.
    for (id, w) in [("3", "30"), ("10", "5"), ("1", "20")] {
        let _: () = q(c, &["SET", &format!("w_{id}"), w]);
        let _: i64 = q(c, &["HSET", &format!("h_{id}"), "name", &format!("n{id}")]);
    }
    assert_eq!(
        q::<Vec<String>>(c, &["SORT", "l", "BY", "w_*"]),
        ["2.5", "10", "1", "3"]
    );
    assert_eq!(
        raw(
            c,
            &["SORT", "l", "BY", "w_*", "GET", "#", "GET", "h_*->name"]
        ),
        Value::Array(vec![
            Value::BulkString(b"2.5".to_vec()),
            Value::Nil,
            Value::BulkString(b"10".to_vec()),
            Value::BulkString(b"n10".to_vec()),
            Value::BulkString(b"1".to_vec()),
            Value::BulkString(b"n1".to_vec()),
            Value::BulkString(b"3".to_vec()),
            Value::BulkString(b"n3".to_vec()),
        ])
    );
    // BY a constant: no sorting, the list's own order.
    assert_eq!(
        q::<Vec<String>>(c, &["SORT", "l", "BY", "nosort"]),
        ["3", "10", "1", "2.5"]
    );
    assert_eq!(
        q::<Vec<String>>(c, &["SORT", "l", "BY", "nosort", "DESC", "LIMIT", "0", "2"]),
        ["2.5", "1"]
    );

    // Sets and sorted sets.
    let _: i64 = q(c, &["SADD", "s", "b", "a", "c"]);
    assert_eq!(
        q::<Vec<String>>(c, &["SORT", "s", "ALPHA"]),
        ["a", "b", "c"]
    );
    let _: i64 = q(c, &["ZADD", "z", "1", "x", "2", "y", "3", "w"]);
    assert_eq!(
        q::<Vec<String>>(c, &["SORT", "z", "BY", "nosort"]),
        ["x", "y", "w"]
    );
    assert_eq!(
        q::<Vec<String>>(c, &["SORT", "z", "ALPHA", "DESC"]),
        ["y", "x", "w"]
    );
    assert_eq!(
        q::<Vec<String>>(c, &["SORT", "missing"]),
        Vec::<String>::new()
    );
}

#[test]
fn sort_store_and_errors() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: i64 = q(c, &["RPUSH", "l", "2", "1", "3"]);
    assert_eq!(q::<i64>(c, &["SORT", "l", "STORE", "dst"]), 3);
    assert_eq!(
        q::<Vec<String>>(c, &["LRANGE", "dst", "0", "-1"]),
        ["1", "2", "3"]
    );
    assert_eq!(q::<String>(c, &["TYPE", "dst"]), "list");
    // GET of a missing key stores an empty string.
    assert_eq!(
        q::<i64>(c, &["SORT", "l", "GET", "nokey_*", "STORE", "dst"]),
        3
    );
    assert_eq!(
        q::<Vec<String>>(c, &["LRANGE", "dst", "0", "-1"]),
        ["", "", ""]
    );
    // An empty result deletes the destination.
    assert_eq!(q::<i64>(c, &["SORT", "missing", "STORE", "dst"]), 0);
    assert_eq!(q::<i64>(c, &["EXISTS", "dst"]), 0);
    // A set stored through BY nosort is sorted ALPHA, so the stored order is deterministic.
    let _: i64 = q(c, &["SADD", "s", "b", "c", "a"]);
    assert_eq!(
        q::<i64>(c, &["SORT", "s", "BY", "nosort", "STORE", "dst"]),
        3
    );
    assert_eq!(
        q::<Vec<String>>(c, &["LRANGE", "dst", "0", "-1"]),
        ["a", "b", "c"]
    );

    let _: i64 = q(c, &["RPUSH", "words", "a", "1"]);
    assert_eq!(
        err(c, &["SORT", "words"]),
        "ERR One or more scores can't be converted into double"
    );
    let _: () = q(c, &["SET", "str", "x"]);
    assert_eq!(
        err(c, &["SORT", "str"]),
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    assert_eq!(err(c, &["SORT", "l", "LIMIT", "1"]), "ERR syntax error");
    assert_eq!(err(c, &["SORT_RO", "l", "STORE", "x"]), "ERR syntax error");
    assert_eq!(
        err(c, &["SORT", "l", "LIMIT", "a", "1"]),
        "ERR value is not an integer or out of range"
    );
}

/// COMMAND GETKEYS finds STORE's destination as Redis does (the last STORE wins).
#[test]
fn getkeys_finds_the_store_destination() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    assert_eq!(
        q::<Vec<String>>(c, &["COMMAND", "GETKEYS", "SORT", "abc", "STORE", "def"]),
        ["abc", "def"]
    );
    assert_eq!(
        q::<Vec<String>>(
            c,
            &["COMMAND", "GETKEYS", "SORT", "abc", "STORE", "x", "STORE", "y", "STORE", "def"]
        ),
        ["abc", "def"]
    );
    assert_eq!(
        q::<Vec<String>>(c, &["COMMAND", "GETKEYS", "SORT_RO", "abc"]),
        ["abc"]
    );
}

/// Inside a script, SORT BY a constant still sorts a set (ALPHA), so that the script's result
/// does not depend on the set's internal order, as in Redis.
#[test]
fn sort_of_a_set_in_a_script_is_ordered() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: i64 = q(c, &["SADD", "s", "c", "aa", "b", "a"]);
    assert_eq!(
        q::<Vec<String>>(
            c,
            &[
                "EVAL",
                "return redis.call('SORT', KEYS[1], 'BY', 'nosort')",
                "1",
                "s"
            ]
        ),
        ["a", "aa", "b", "c"]
    );
}
