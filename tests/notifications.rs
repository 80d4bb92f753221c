//! Keyspace notifications against the real server: the `notify-keyspace-events` letters
//! (parsing, CONFIG GET's normalized form, Redis's error), the `__keyspace@<db>__:<key>` and
//! `__keyevent@<db>__:<event>` channels, each family's event names and order as Redis emits them
//! (strings, bits, HyperLogLog, hashes, sets, generic key commands, transactions), `new` key
//! events, and `expired` events from lazy and active expiry.
//!
//! A subscriber listens on `__keyevent@*` plus a sentinel channel; each check runs commands,
//! publishes to the sentinel from the same connection, and reads every event up to it, so no
//! test depends on timing.

mod common;
mod kvhelp;
mod raw;

use common::TestServer;
use kvhelp::*;
use raw::Raw;
use redis::Connection;

/// A subscriber to every keyevent channel and to the sentinel channel `end`.
struct Listener {
    raw: Raw,
}

impl Listener {
    fn new(server: &TestServer, pattern: &str) -> Listener {
        let mut raw = Raw::connect(server.addr);
        raw.cmd(&["PSUBSCRIBE", pattern]);
        raw.cmd(&["SUBSCRIBE", "end"]);
        Listener { raw }
    }

    /// Every (channel, payload) received before the sentinel that `c` publishes now.
    fn drain(&mut self, c: &mut Connection) -> Vec<(String, String)> {
        let _: i64 = q(c, &["PUBLISH", "end", "."]);
        let mut out = Vec::new();
        loop {
            let m = self.raw.read().items();
            match m[0].text().as_str() {
                "message" => return out,
                "pmessage" => out.push((m[2].text(), m[3].text())),
                other => panic!("unexpected {other}: {m:?}"),
            }
        }
    }

    /// The (event, key) pairs of the keyevent messages `cmds` cause in database `db`.
    fn events(&mut self, c: &mut Connection, cmds: &[&[&str]]) -> Vec<(String, String)> {
        for args in cmds {
            let _: redis::Value = q(c, args);
        }
        self.drain(c)
            .into_iter()
            .map(|(chan, key)| {
                let event = chan
                    .split_once("__:")
                    .map(|(_, e)| e.to_string())
                    .unwrap_or(chan);
                (event, key)
            })
            .collect()
    }
}

/// Commands to run, and the (event, key) pairs they must cause in order.
type Case<'a> = (&'a [&'a [&'a str]], &'a [(&'a str, &'a str)]);

fn ev(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(e, k)| (e.to_string(), k.to_string()))
        .collect()
}

fn setup(flags: &str) -> (TestServer, Connection, Listener) {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let _: () = q(&mut c, &["CONFIG", "SET", "notify-keyspace-events", flags]);
    let l = Listener::new(&server, "__keyevent@*");
    (server, c, l)
}

#[test]
fn string_events() {
    let (_s, mut c, mut l) = setup("KEA");
    let cases: &[Case] = &[
        (&[&["SET", "k", "v"]], &[("set", "k")]),
        (
            &[&["SET", "k", "v", "EX", "100"]],
            &[("set", "k"), ("expire", "k")],
        ),
        (&[&["SET", "k", "v", "KEEPTTL"]], &[("set", "k")]),
        (&[&["SET", "k", "v", "NX"]], &[]),
        (
            &[&["SETNX", "k", "v"], &["SETNX", "n", "v"]],
            &[("set", "n")],
        ),
        (
            &[&["SETEX", "k", "10", "v"]],
            &[("set", "k"), ("expire", "k")],
        ),
        (
            &[&["PSETEX", "k", "10000", "v"]],
            &[("set", "k"), ("expire", "k")],
        ),
        (
            &[&["MSET", "a", "1", "b", "2"]],
            &[("set", "a"), ("set", "b")],
        ),
        (&[&["MSETNX", "a", "1", "zz", "2"]], &[]),
        (
            &[&["APPEND", "a", "x"], &["APPEND", "new", "y"]],
            &[("append", "a"), ("append", "new")],
        ),
        (
            &[&["INCR", "i"], &["DECRBY", "i", "5"]],
            &[("incrby", "i"), ("incrby", "i")],
        ),
        (&[&["INCRBYFLOAT", "f", "1.5"]], &[("incrbyfloat", "f")]),
        (
            &[&["SETRANGE", "r", "2", "ab"], &["SETRANGE", "r", "0", ""]],
            &[("setrange", "r")],
        ),
        (&[&["GETSET", "r", "x"]], &[("set", "r")]),
        (&[&["GETDEL", "r"], &["GETDEL", "r"]], &[("del", "r")]),
        (&[&["GETEX", "a", "EX", "100"]], &[("expire", "a")]),
        (
            &[&["GETEX", "a", "PERSIST"], &["GETEX", "a", "PERSIST"]],
            &[("persist", "a")],
        ),
        (&[&["GETEX", "a", "PXAT", "1"]], &[("del", "a")]),
        (
            &[
                &["GET", "b"],
                &["STRLEN", "b"],
                &["GETRANGE", "b", "0", "1"],
            ],
            &[],
        ),
    ];
    for (cmds, want) in cases {
        assert_eq!(l.events(&mut c, cmds), ev(want), "{cmds:?}");
    }
}

#[test]
fn bit_and_hyperloglog_events() {
    let (_s, mut c, mut l) = setup("KEA");
    let cases: &[Case] = &[
        (&[&["SETBIT", "b", "7", "1"]], &[("setbit", "b")]),
        // Setting a bit to what it already is, within the string, changes nothing.
        (&[&["SETBIT", "b", "7", "1"]], &[]),
        (&[&["SETBIT", "b", "7", "0"]], &[("setbit", "b")]),
        (&[&["SETBIT", "b", "100", "0"]], &[("setbit", "b")]),
        (&[&["BITOP", "OR", "dest", "b"]], &[("set", "dest")]),
        (&[&["BITOP", "AND", "dest", "nokey"]], &[("del", "dest")]),
        (&[&["BITOP", "AND", "dest", "nokey"]], &[]),
        (
            &[&["BITFIELD", "bf", "SET", "u8", "0", "200"]],
            &[("setbit", "bf")],
        ),
        (&[&["BITFIELD", "bf", "GET", "u8", "0"]], &[]),
        (
            &[&[
                "BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "100",
            ]],
            &[],
        ),
        (&[&["PFADD", "h", "a", "b"]], &[("pfadd", "h")]),
        (&[&["PFADD", "h", "a"]], &[]),
        (&[&["PFMERGE", "h2", "h"]], &[("pfadd", "h2")]),
        (&[&["PFCOUNT", "h"], &["BITCOUNT", "b"]], &[]),
    ];
    for (cmds, want) in cases {
        assert_eq!(l.events(&mut c, cmds), ev(want), "{cmds:?}");
    }
}

#[test]
fn hash_and_set_events() {
    let (_s, mut c, mut l) = setup("KEA");
    let cases: &[Case] = &[
        (&[&["HSET", "h", "f", "v", "g", "w"]], &[("hset", "h")]),
        (&[&["HMSET", "h", "f", "v"]], &[("hset", "h")]),
        (
            &[&["HSETNX", "h", "f", "v"], &["HSETNX", "h", "n", "v"]],
            &[("hset", "h")],
        ),
        (&[&["HINCRBY", "h", "i", "2"]], &[("hincrby", "h")]),
        (
            &[&["HINCRBYFLOAT", "h", "x", "2.5"]],
            &[("hincrbyfloat", "h")],
        ),
        (&[&["HDEL", "h", "nope"]], &[]),
        (&[&["HDEL", "h", "f", "g"]], &[("hdel", "h")]),
        (
            &[&["HDEL", "h", "n", "i", "x"]],
            &[("hdel", "h"), ("del", "h")],
        ),
        (
            &[&["SADD", "s", "a", "b", "c"], &["SADD", "s", "a"]],
            &[("sadd", "s")],
        ),
        (
            &[&["SREM", "s", "a"], &["SREM", "s", "zz"]],
            &[("srem", "s")],
        ),
        (
            &[&["SMOVE", "s", "t", "b"]],
            &[("srem", "s"), ("sadd", "t")],
        ),
        (
            &[&["SMOVE", "s", "t", "c"]],
            &[("srem", "s"), ("del", "s"), ("sadd", "t")],
        ),
        (
            &[&["SADD", "u", "b"], &["SMOVE", "t", "u", "b"]],
            &[("sadd", "u"), ("srem", "t")],
        ),
        (&[&["SPOP", "t"]], &[("spop", "t"), ("del", "t")]),
        (
            &[&["SADD", "p", "1", "2", "3"], &["SPOP", "p", "2"]],
            &[("sadd", "p"), ("spop", "p")],
        ),
        (&[&["SPOP", "p", "5"]], &[("spop", "p"), ("del", "p")]),
        (
            &[&["SADD", "x", "1", "2"], &["SADD", "y", "2"]],
            &[("sadd", "x"), ("sadd", "y")],
        ),
        (&[&["SINTERSTORE", "d", "x", "y"]], &[("sinterstore", "d")]),
        (&[&["SUNIONSTORE", "d", "x", "y"]], &[("sunionstore", "d")]),
        (&[&["SDIFFSTORE", "d", "x", "x"]], &[("del", "d")]),
        (&[&["SDIFFSTORE", "d", "x", "x"]], &[]),
        (
            &[&["SINTER", "x", "y"], &["SMEMBERS", "x"], &["SCARD", "x"]],
            &[],
        ),
    ];
    for (cmds, want) in cases {
        assert_eq!(l.events(&mut c, cmds), ev(want), "{cmds:?}");
    }
}

#[test]
fn generic_events() {
    let (_s, mut c, mut l) = setup("KEA");
    let _: () = q(&mut c, &["MSET", "a", "1", "b", "2", "c", "3"]);
    l.drain(&mut c);
    let cases: &[Case] = &[
        (
            &[&["DEL", "a", "nokey", "b"]],
            &[("del", "a"), ("del", "b")],
        ),
        (
            &[&["SET", "a", "1"], &["UNLINK", "a"]],
            &[("set", "a"), ("del", "a")],
        ),
        (
            &[&["RENAME", "c", "d"]],
            &[("rename_from", "c"), ("rename_to", "d")],
        ),
        (
            &[&["RENAMENX", "d", "d2"]],
            &[("rename_from", "d"), ("rename_to", "d2")],
        ),
        (&[&["COPY", "d2", "e"]], &[("copy_to", "e")]),
        (&[&["EXPIRE", "e", "100"]], &[("expire", "e")]),
        (&[&["EXPIRE", "e", "100", "NX"]], &[]),
        (&[&["PEXPIREAT", "e", "99999999999999"]], &[("expire", "e")]),
        (&[&["PERSIST", "e"], &["PERSIST", "e"]], &[("persist", "e")]),
        (&[&["EXPIRE", "e", "-1"]], &[("del", "e")]),
        (
            &[
                &["EXISTS", "d2"],
                &["TYPE", "d2"],
                &["TTL", "d2"],
                &["TOUCH", "d2"],
            ],
            &[],
        ),
        // FLUSHDB / FLUSHALL do not notify, as in Redis.
        (&[&["FLUSHALL"]], &[]),
    ];
    for (cmds, want) in cases {
        assert_eq!(l.events(&mut c, cmds), ev(want), "{cmds:?}");
    }
    // MOVE reports in both databases; COPY ... DB in the target one.
    let _: () = q(&mut c, &["SET", "m", "1"]);
    let _: i64 = q(&mut c, &["MOVE", "m", "1"]);
    let _: () = q(&mut c, &["SET", "m", "2"]);
    let _: i64 = q(&mut c, &["COPY", "m", "m", "DB", "2"]);
    assert_eq!(
        l.drain(&mut c),
        vec![
            ("__keyevent@0__:set".to_string(), "m".to_string()),
            ("__keyevent@0__:move_from".to_string(), "m".to_string()),
            ("__keyevent@1__:move_to".to_string(), "m".to_string()),
            ("__keyevent@0__:set".to_string(), "m".to_string()),
            ("__keyevent@2__:copy_to".to_string(), "m".to_string()),
        ]
    );
}

#[test]
fn transactions_publish_each_commands_events() {
    let (_s, mut c, mut l) = setup("E$g");
    let mut raw = redis::pipe();
    raw.atomic()
        .cmd("SET")
        .arg("t")
        .arg("1")
        .cmd("INCR")
        .arg("t")
        .cmd("DEL")
        .arg("t");
    let _: redis::Value = raw.query(&mut c).expect("exec");
    assert_eq!(
        l.drain(&mut c),
        vec![
            ("__keyevent@0__:set".to_string(), "t".to_string()),
            ("__keyevent@0__:incrby".to_string(), "t".to_string()),
            ("__keyevent@0__:del".to_string(), "t".to_string()),
        ]
    );
}

#[test]
fn keyspace_and_keyevent_channels_follow_k_and_e() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let mut l = Listener::new(&server, "__key*");
    let _: () = q(&mut c, &["SELECT", "3"]);
    let set = |c: &mut Connection, flags: &str| {
        let _: () = q(c, &["CONFIG", "SET", "notify-keyspace-events", flags]);
        let _: () = q(c, &["SET", "k", "v"]);
    };
    set(&mut c, "K$");
    assert_eq!(
        l.drain(&mut c),
        vec![("__keyspace@3__:k".to_string(), "set".to_string())]
    );
    set(&mut c, "E$");
    assert_eq!(
        l.drain(&mut c),
        vec![("__keyevent@3__:set".to_string(), "k".to_string())]
    );
    set(&mut c, "KE$");
    assert_eq!(
        l.drain(&mut c),
        vec![
            ("__keyspace@3__:k".to_string(), "set".to_string()),
            ("__keyevent@3__:set".to_string(), "k".to_string()),
        ]
    );
    // A class without K or E, or K and E without the class: nothing.
    set(&mut c, "$");
    assert_eq!(l.drain(&mut c), vec![]);
    set(&mut c, "KEg");
    assert_eq!(l.drain(&mut c), vec![]);
    set(&mut c, "");
    assert_eq!(l.drain(&mut c), vec![]);
}

#[test]
fn new_key_events() {
    let (_s, mut c, mut l) = setup("En");
    let cases: &[Case] = &[
        (
            &[
                &["SET", "foo", "bar"],
                &["SET", "foo", "baz"],
                &["SET", "bar", "bar"],
            ],
            &[("new", "foo"), ("new", "bar")],
        ),
        (
            &[&["HSET", "h", "a", "1"], &["HSET", "h", "b", "2"]],
            &[("new", "h")],
        ),
        (
            &[&["SADD", "s", "a"], &["INCR", "i"], &["INCR", "i"]],
            &[("new", "s"), ("new", "i")],
        ),
        // RENAME and COPY REPLACE replace the destination with a new key, as in Redis.
        (&[&["RENAME", "foo", "bar"]], &[("new", "bar")]),
        (&[&["COPY", "bar", "s", "REPLACE"]], &[("new", "s")]),
    ];
    for (cmds, want) in cases {
        assert_eq!(l.events(&mut c, cmds), ev(want), "{cmds:?}");
    }
}

#[test]
fn expired_events_from_lazy_and_active_expiry() {
    let (_s, mut c, mut l) = setup("Ex");
    // Lazy: with active expiry off, a key stored already expired is removed by the next lookup.
    let _: () = q(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    let cases: &[Case] = &[
        (
            &[
                &["SET", "a", "1", "PXAT", "1"],
                &["GET", "a"],
                &["GET", "a"],
            ],
            &[("expired", "a")],
        ),
        (
            &[&["SET", "b", "1", "PXAT", "1"], &["EXISTS", "b"]],
            &[("expired", "b")],
        ),
        (
            &[&["SET", "c", "1", "PXAT", "1"], &["INCR", "c"]],
            &[("expired", "c")],
        ),
        (&[&["HSET", "h", "f", "v"], &["PEXPIREAT", "h", "1"]], &[]),
        (
            &[
                &["SADD", "s", "m"],
                &["SET", "s", "x", "PXAT", "1"],
                &["SADD", "s", "n"],
            ],
            &[("expired", "s")],
        ),
        (
            &[&["SET", "d", "1", "PXAT", "1"], &["SET", "d", "2"]],
            &[("expired", "d")],
        ),
        (
            &[&["SET", "e", "1", "PXAT", "1"], &["DEL", "e"]],
            &[("expired", "e")],
        ),
    ];
    for (cmds, want) in cases {
        assert_eq!(l.events(&mut c, cmds), ev(want), "{cmds:?}");
    }
    // Active: the cron removes the key and reports it without any command touching it.
    let _: () = q(&mut c, &["SET", "active", "1", "PX", "50"]);
    let _: () = q(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
    let m = l.raw.read().items();
    assert_eq!(
        (m[2].text(), m[3].text()),
        ("__keyevent@0__:expired".to_string(), "active".to_string())
    );
    let expired: i64 = info_field(&mut c, "stats", "expired_keys")
        .parse()
        .unwrap_or(0);
    assert!(expired >= 7, "expired_keys {expired}");
}

#[test]
fn config_letters_are_parsed_and_normalized() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    for (set, get) in [
        ("KEA", "AKE"),
        ("AKE", "AKE"),
        ("g$lshzxetd", "A"),
        ("Kg$lshzxetdE", "AKE"),
        ("zhsl$g", "g$lshz"),
        ("Ex", "xE"),
        ("Kn", "nK"),
        // Redis prints only A when every A class is on, n included.
        ("AKEn", "AKE"),
        ("m", "m"),
        ("AKEm", "AKEm"),
        ("EEE", "E"),
        ("", ""),
    ] {
        let _: () = q(&mut c, &["CONFIG", "SET", "notify-keyspace-events", set]);
        assert_eq!(
            q::<Vec<String>>(&mut c, &["CONFIG", "GET", "notify-keyspace-events"]),
            vec!["notify-keyspace-events".to_string(), get.to_string()],
            "{set}"
        );
    }
    for bad in ["KEQ", "a", "x y", "K,E"] {
        assert_eq!(
            err(&mut c, &["CONFIG", "SET", "notify-keyspace-events", bad]),
            "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.",
            "{bad}"
        );
    }
    // From the command line too.
    let server = TestServer::start(&["--notify-keyspace-events", "Elg"]);
    let mut c = server.client();
    assert_eq!(
        q::<Vec<String>>(&mut c, &["CONFIG", "GET", "notify-keyspace-events"])[1],
        "glE"
    );
    // And the n event on only `n` with `E`.
    let mut l = Listener::new(&server, "__keyevent@*");
    let _: () = q(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "En"]);
    let _: () = q(&mut c, &["SET", "fresh", "1"]);
    assert_eq!(
        l.drain(&mut c),
        vec![("__keyevent@0__:new".to_string(), "fresh".to_string())]
    );
}

/// `m`: a read that misses reports `keymiss`, as Redis's read lookups do; writes (PFADD) and
/// OBJECT (Redis's LOOKUP_NONOTIFY) do not.
#[test]
fn keymiss_events_from_read_lookups() {
    let (_s, mut c, mut l) = setup("Em");
    let cases: &[Case] = &[
        (&[&["GET", "nokey"]], &[("keymiss", "nokey")]),
        (&[&["EXISTS", "nokey2"]], &[("keymiss", "nokey2")]),
        (&[&["HGET", "nohash", "f"]], &[("keymiss", "nohash")]),
        (&[&["OBJECT", "ENCODING", "nokey"]], &[]),
        (
            &[&["PFADD", "newhll", "a"], &["SET", "x", "1"], &["GET", "x"]],
            &[],
        ),
    ];
    for (cmds, want) in cases {
        assert_eq!(l.events(&mut c, cmds), ev(want), "{cmds:?}");
    }
}
