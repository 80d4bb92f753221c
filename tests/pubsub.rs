//! Pub/Sub against the real server: SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE and their UNSUBSCRIBE
//! forms with Redis's confirmation shapes (RESP2 arrays, RESP3 pushes, the nil channel when
//! unsubscribing from nothing), delivery to many subscribers on separate connections, patterns,
//! shard channels, RESP2's subscribed-mode restrictions and PING reply, RESP3 pushes interleaved
//! with ordinary replies, CLIENT REPLY OFF, RESET and disconnects dropping subscriptions, PUBSUB
//! introspection, INFO and CLIENT LIST fields, and a slow subscriber disconnected at its output
//! buffer limit. A property test compares NUMSUB/NUMPAT/CHANNELS with a model after random
//! subscribe and unsubscribe sequences.

mod common;
mod kvhelp;
mod raw;

use std::collections::{BTreeMap, BTreeSet};

use common::TestServer;
use kvhelp::*;
use proptest::prelude::*;
use raw::{Raw, Resp};

fn bulk(s: &str) -> Resp {
    Resp::Bulk(s.as_bytes().to_vec())
}

/// A confirmation or message as RESP2 sends it (an array) or RESP3 (a push).
fn msg(resp3: bool, items: Vec<Resp>) -> Resp {
    if resp3 {
        Resp::Push(items)
    } else {
        Resp::Array(items)
    }
}

fn conf(resp3: bool, kind: &str, name: Option<&str>, count: i64) -> Resp {
    msg(
        resp3,
        vec![bulk(kind), name.map_or(Resp::Nil, bulk), Resp::Int(count)],
    )
}

fn message(resp3: bool, channel: &str, payload: &str) -> Resp {
    msg(resp3, vec![bulk("message"), bulk(channel), bulk(payload)])
}

fn pmessage(resp3: bool, pattern: &str, channel: &str, payload: &str) -> Resp {
    msg(
        resp3,
        vec![
            bulk("pmessage"),
            bulk(pattern),
            bulk(channel),
            bulk(payload),
        ],
    )
}

/// A raw connection speaking RESP2 or (after HELLO 3) RESP3.
fn connect(server: &TestServer, resp3: bool) -> Raw {
    let mut c = Raw::connect(server.addr);
    if resp3 {
        c.cmd(&["HELLO", "3"]);
    }
    c
}

/// Reads `n` replies.
fn read_n(c: &mut Raw, n: usize) -> Vec<Resp> {
    (0..n).map(|_| c.read()).collect()
}

#[test]
fn subscribe_confirmations_and_delivery_on_both_protocols() {
    let server = TestServer::start(&[]);
    let mut publisher = server.client();
    for resp3 in [false, true] {
        let mut sub = connect(&server, resp3);
        sub.send_cmd(&["SUBSCRIBE", "a", "b", "a"]);
        assert_eq!(
            read_n(&mut sub, 3),
            vec![
                conf(resp3, "subscribe", Some("a"), 1),
                conf(resp3, "subscribe", Some("b"), 2),
                conf(resp3, "subscribe", Some("a"), 2),
            ]
        );
        assert_eq!(q::<i64>(&mut publisher, &["PUBLISH", "a", "hello"]), 1);
        assert_eq!(q::<i64>(&mut publisher, &["PUBLISH", "nobody", "x"]), 0);
        assert_eq!(sub.read(), message(resp3, "a", "hello"));
        sub.send_cmd(&["UNSUBSCRIBE", "a", "zzz"]);
        assert_eq!(
            read_n(&mut sub, 2),
            vec![
                conf(resp3, "unsubscribe", Some("a"), 1),
                conf(resp3, "unsubscribe", Some("zzz"), 1),
            ]
        );
        // Without arguments: every remaining channel, then (subscribed to nothing) one
        // confirmation with a nil channel and a zero count.
        assert_eq!(
            sub.cmd(&["UNSUBSCRIBE"]),
            conf(resp3, "unsubscribe", Some("b"), 0)
        );
        assert_eq!(
            sub.cmd(&["UNSUBSCRIBE"]),
            conf(resp3, "unsubscribe", None, 0)
        );
        assert_eq!(
            sub.cmd(&["PUNSUBSCRIBE"]),
            conf(resp3, "punsubscribe", None, 0)
        );
        assert_eq!(
            sub.cmd(&["SUNSUBSCRIBE"]),
            conf(resp3, "sunsubscribe", None, 0)
        );
        assert_eq!(q::<i64>(&mut publisher, &["PUBLISH", "b", "gone"]), 0);
        assert_eq!(sub.cmd(&["PING"]), Resp::Simple("PONG".into()));
    }
}

#[test]
fn exact_wire_bytes_of_confirmations() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    assert_eq!(
        c.cmd_wire(&["SUBSCRIBE", "ch"]),
        "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
    );
    assert_eq!(
        c.cmd_wire(&["UNSUBSCRIBE"]),
        "*3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:0\r\n"
    );
    assert_eq!(
        c.cmd_wire(&["UNSUBSCRIBE"]),
        "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"
    );
    c.cmd(&["HELLO", "3"]);
    assert_eq!(
        c.cmd_wire(&["PSUBSCRIBE", "p*"]),
        ">3\r\n$10\r\npsubscribe\r\n$2\r\np*\r\n:1\r\n"
    );
    assert_eq!(
        c.cmd_wire(&["PUNSUBSCRIBE", "p*"]),
        ">3\r\n$12\r\npunsubscribe\r\n$2\r\np*\r\n:0\r\n"
    );
    assert_eq!(
        c.cmd_wire(&["SUNSUBSCRIBE"]),
        ">3\r\n$12\r\nsunsubscribe\r\n_\r\n:0\r\n"
    );
}

#[test]
fn many_subscribers_on_separate_connections() {
    let server = TestServer::start(&["--io-threads", "4"]);
    let mut subs: Vec<Raw> = (0..20)
        .map(|i| {
            let mut c = connect(&server, i % 2 == 1);
            c.cmd(&["SUBSCRIBE", "news"]);
            c
        })
        .collect();
    let mut publisher = server.client();
    for n in 0..50 {
        let payload = format!("m{n}");
        assert_eq!(q::<i64>(&mut publisher, &["PUBLISH", "news", &payload]), 20);
    }
    for (i, c) in subs.iter_mut().enumerate() {
        for n in 0..50 {
            assert_eq!(c.read(), message(i % 2 == 1, "news", &format!("m{n}")));
        }
    }
    assert_eq!(
        q::<Vec<redis::Value>>(&mut publisher, &["PUBSUB", "NUMSUB", "news"])[1],
        redis::Value::Int(20)
    );
    // Closing a subscriber drops its subscriptions.
    drop(subs.pop());
    eventually(|| q::<i64>(&mut publisher, &["PUBLISH", "news", "after"]) == 19);
}

/// Polls `f` until it holds (the server notices a closed connection asynchronously).
fn eventually(mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !f() {
        assert!(std::time::Instant::now() < deadline, "condition never held");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn patterns_and_channels_together() {
    let server = TestServer::start(&[]);
    let mut publisher = server.client();
    let mut c = Raw::connect(server.addr);
    c.cmd(&["SUBSCRIBE", "foo.bar"]);
    c.send_cmd(&["PSUBSCRIBE", "foo.*", "f?o.b[a-z]r", "other.*"]);
    assert_eq!(
        read_n(&mut c, 3),
        vec![
            conf(false, "psubscribe", Some("foo.*"), 2),
            conf(false, "psubscribe", Some("f?o.b[a-z]r"), 3),
            conf(false, "psubscribe", Some("other.*"), 4),
        ]
    );
    assert_eq!(q::<i64>(&mut publisher, &["PUBLISH", "foo.bar", "hi"]), 3);
    let mut got = read_n(&mut c, 3);
    // The channel's subscribers come first, then the patterns (in no fixed order).
    assert_eq!(got.remove(0), message(false, "foo.bar", "hi"));
    got.sort_by_key(|r| format!("{r:?}"));
    let mut want = vec![
        pmessage(false, "foo.*", "foo.bar", "hi"),
        pmessage(false, "f?o.b[a-z]r", "foo.bar", "hi"),
    ];
    want.sort_by_key(|r| format!("{r:?}"));
    assert_eq!(got, want);
    assert_eq!(q::<i64>(&mut publisher, &["PUBLISH", "foo.x", "y"]), 1);
    assert_eq!(c.read(), pmessage(false, "foo.*", "foo.x", "y"));
    assert_eq!(q::<i64>(&mut publisher, &["PUBSUB", "NUMPAT"]), 3);
    c.send_cmd(&["PUNSUBSCRIBE"]);
    let mut left: Vec<i64> = read_n(&mut c, 3)
        .iter()
        .map(|r| r.items()[2].int())
        .collect();
    left.sort();
    assert_eq!(left, vec![1, 2, 3]);
    assert_eq!(q::<i64>(&mut publisher, &["PUBSUB", "NUMPAT"]), 0);
}

#[test]
fn shard_channels_are_their_own_namespace() {
    let server = TestServer::start(&[]);
    let mut publisher = server.client();
    let mut c = Raw::connect(server.addr);
    c.send_cmd(&["SSUBSCRIBE", "s1", "s2"]);
    assert_eq!(
        read_n(&mut c, 2),
        vec![
            conf(false, "ssubscribe", Some("s1"), 1),
            conf(false, "ssubscribe", Some("s2"), 2),
        ]
    );
    // A channel subscription counts apart from shard ones.
    assert_eq!(
        c.cmd(&["SUBSCRIBE", "s1"]),
        conf(false, "subscribe", Some("s1"), 1)
    );
    assert_eq!(q::<i64>(&mut publisher, &["SPUBLISH", "s1", "x"]), 1);
    assert_eq!(
        c.read(),
        Resp::Array(vec![bulk("smessage"), bulk("s1"), bulk("x")])
    );
    assert_eq!(q::<i64>(&mut publisher, &["PUBLISH", "s1", "y"]), 1);
    assert_eq!(c.read(), message(false, "s1", "y"));
    // Patterns never see shard messages.
    let mut p = Raw::connect(server.addr);
    p.cmd(&["PSUBSCRIBE", "*"]);
    assert_eq!(q::<i64>(&mut publisher, &["SPUBLISH", "s2", "z"]), 1);
    assert_eq!(
        c.read(),
        Resp::Array(vec![bulk("smessage"), bulk("s2"), bulk("z")])
    );
    let chans: BTreeSet<String> = q(&mut publisher, &["PUBSUB", "SHARDCHANNELS"]);
    assert_eq!(chans, ["s1", "s2"].iter().map(|s| s.to_string()).collect());
    let chans: Vec<String> = q(&mut publisher, &["PUBSUB", "SHARDCHANNELS", "*2"]);
    assert_eq!(chans, vec!["s2"]);
    let numsub: Vec<redis::Value> = q(&mut publisher, &["PUBSUB", "SHARDNUMSUB", "s1", "nope"]);
    assert_eq!(
        numsub,
        vec![
            redis::Value::BulkString(b"s1".to_vec()),
            redis::Value::Int(1),
            redis::Value::BulkString(b"nope".to_vec()),
            redis::Value::Int(0),
        ]
    );
    assert_eq!(
        c.cmd(&["SUNSUBSCRIBE", "s1"]),
        conf(false, "sunsubscribe", Some("s1"), 1)
    );
}

#[test]
fn resp2_subscribed_mode_allows_only_a_few_commands() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    c.cmd(&["SUBSCRIBE", "x"]);
    assert_eq!(
        c.cmd(&["GET", "k"]).err(),
        "ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    );
    assert_eq!(
        c.cmd(&["CLIENT", "LIST"]).err(),
        "ERR Can't execute 'client|list': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    );
    assert_eq!(c.cmd(&["PING"]), Resp::Array(vec![bulk("pong"), bulk("")]));
    assert_eq!(
        c.cmd(&["PING", "hey"]),
        Resp::Array(vec![bulk("pong"), bulk("hey")])
    );
    assert_eq!(c.cmd_wire(&["PING"]), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    // Unknown commands and arity errors come first, as in Redis.
    assert_eq!(
        c.cmd(&["NOSUCH"]).err(),
        "ERR unknown command 'NOSUCH', with args beginning with: "
    );
    assert_eq!(
        c.cmd(&["PSUBSCRIBE", "p*"]),
        conf(false, "psubscribe", Some("p*"), 2)
    );
    // RESET leaves subscribed mode and drops every subscription.
    assert_eq!(c.cmd(&["RESET"]), Resp::Simple("RESET".into()));
    assert_eq!(c.cmd(&["GET", "k"]), Resp::Nil);
    let mut other = server.client();
    assert_eq!(q::<i64>(&mut other, &["PUBLISH", "x", "m"]), 0);
    assert_eq!(q::<i64>(&mut other, &["PUBSUB", "NUMPAT"]), 0);
    // QUIT is allowed too.
    c.cmd(&["SUBSCRIBE", "x"]);
    assert_eq!(c.cmd(&["QUIT"]), Resp::Simple("OK".into()));
}

#[test]
fn resp3_subscriber_runs_any_command_with_pushes_in_between() {
    let server = TestServer::start(&[]);
    let mut c = connect(&server, true);
    c.cmd(&["SUBSCRIBE", "ch"]);
    assert_eq!(c.cmd(&["SET", "k", "v"]), Resp::Simple("OK".into()));
    assert_eq!(c.cmd(&["PING"]), Resp::Simple("PONG".into()));
    let mut publisher = server.client();
    assert_eq!(q::<i64>(&mut publisher, &["PUBLISH", "ch", "one"]), 1);
    // The push arrives on its own, and the next reply after it.
    assert_eq!(c.read(), message(true, "ch", "one"));
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v"));
    // Publishing to itself: the reply first, then the message, before the next command's
    // reply even in one pipeline (as Redis does).
    let pipeline: Vec<u8> = [
        raw::multibulk(&[b"PUBLISH", b"ch", b"self"]),
        raw::multibulk(&[b"UNSUBSCRIBE", b"ch"]),
        raw::multibulk(&[b"PUBLISH", b"ch", b"late"]),
        raw::multibulk(&[b"SUBSCRIBE", b"ch"]),
    ]
    .concat();
    c.send(&pipeline);
    assert_eq!(c.read(), Resp::Int(1));
    assert_eq!(c.read(), message(true, "ch", "self"));
    assert_eq!(c.read(), conf(true, "unsubscribe", Some("ch"), 0));
    assert_eq!(c.read(), Resp::Int(0));
    assert_eq!(c.read(), conf(true, "subscribe", Some("ch"), 1));
    // Inside MULTI the messages follow EXEC's reply.
    c.cmd(&["MULTI"]);
    c.cmd(&["PUBLISH", "ch", "a"]);
    c.cmd(&["UNSUBSCRIBE", "nope"]);
    assert_eq!(
        c.cmd(&["EXEC"]),
        Resp::Array(vec![
            Resp::Int(1),
            conf(true, "unsubscribe", Some("nope"), 1)
        ])
    );
    assert_eq!(c.read(), message(true, "ch", "a"));
    // SSUBSCRIBE is refused inside EXEC, as in Redis.
    c.cmd(&["MULTI"]);
    c.cmd(&["SSUBSCRIBE", "sh"]);
    assert_eq!(
        c.cmd(&["EXEC"]).items()[0].err(),
        "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client"
    );
}

#[test]
fn several_confirmations_inside_exec_count_as_one_reply_like_redis() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    c.cmd(&["MULTI"]);
    c.cmd(&["SUBSCRIBE", "a", "b"]);
    c.cmd(&["PING"]);
    // The array counts the two commands; SUBSCRIBE's two confirmations fill the first slot
    // and the second is left over (redis#12207), byte for byte as Redis 7.2 sends it.
    c.send_cmd(&["EXEC"]);
    // Read as replies: the array (with both confirmations as its two elements), then PING's.
    let wire = c.read_wire() + &c.read_wire();
    assert_eq!(
        wire,
        "*2\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n*2\r\n$4\r\npong\r\n$0\r\n\r\n"
    );
}

#[test]
fn confirmations_and_messages_ignore_client_reply_off() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    c.send_cmd(&["CLIENT", "REPLY", "OFF"]);
    assert_eq!(
        c.cmd(&["SUBSCRIBE", "ch"]),
        conf(false, "subscribe", Some("ch"), 1)
    );
    let mut publisher = server.client();
    assert_eq!(q::<i64>(&mut publisher, &["PUBLISH", "ch", "m"]), 1);
    assert_eq!(c.read(), message(false, "ch", "m"));
    assert_eq!(
        c.cmd(&["UNSUBSCRIBE"]),
        conf(false, "unsubscribe", Some("ch"), 0)
    );
}

#[test]
fn pubsub_introspection() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let mut s1 = Raw::connect(server.addr);
    let mut s2 = Raw::connect(server.addr);
    s1.send_cmd(&["SUBSCRIBE", "news.tech", "news.art", "weather"]);
    read_n(&mut s1, 3);
    s2.send_cmd(&["SUBSCRIBE", "news.tech"]);
    s2.read();
    s2.send_cmd(&["PSUBSCRIBE", "news.*", "x*"]);
    read_n(&mut s2, 2);
    s1.send_cmd(&["PSUBSCRIBE", "news.*"]);
    s1.read();
    let all: BTreeSet<String> = q(&mut c, &["PUBSUB", "CHANNELS"]);
    assert_eq!(
        all,
        ["news.tech", "news.art", "weather"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    let news: BTreeSet<String> = q(&mut c, &["PUBSUB", "CHANNELS", "news.*"]);
    assert_eq!(news.len(), 2);
    let numsub: Vec<redis::Value> = q(
        &mut c,
        &["PUBSUB", "NUMSUB", "news.tech", "weather", "none"],
    );
    assert_eq!(
        numsub,
        vec![
            redis::Value::BulkString(b"news.tech".to_vec()),
            redis::Value::Int(2),
            redis::Value::BulkString(b"weather".to_vec()),
            redis::Value::Int(1),
            redis::Value::BulkString(b"none".to_vec()),
            redis::Value::Int(0),
        ]
    );
    assert_eq!(q::<Vec<String>>(&mut c, &["PUBSUB", "NUMSUB"]).len(), 0);
    // Unique patterns.
    assert_eq!(q::<i64>(&mut c, &["PUBSUB", "NUMPAT"]), 2);
    assert_eq!(
        err(&mut c, &["PUBSUB", "NUMPAT", "x"]),
        "ERR wrong number of arguments for 'pubsub|numpat' command"
    );
    assert_eq!(
        err(&mut c, &["PUBSUB", "CHANNELS", "a", "b"]),
        "ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP."
    );
    assert_eq!(
        err(&mut c, &["PUBSUB", "NOPE"]),
        "ERR unknown subcommand 'NOPE'. Try PUBSUB HELP."
    );
    let help: Vec<String> = q(&mut c, &["PUBSUB", "HELP"]);
    assert_eq!(
        help[0],
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    assert_eq!(
        help.last().map(String::as_str),
        Some("    Print this help.")
    );
    assert_eq!(info_field(&mut c, "stats", "pubsub_channels"), "3");
    assert_eq!(info_field(&mut c, "stats", "pubsub_patterns"), "2");
    assert_eq!(info_field(&mut c, "stats", "pubsubshard_channels"), "0");
    // CLIENT LIST: sub=, psub=, ssub= and the P flag.
    s2.send_cmd(&["SSUBSCRIBE", "sh"]);
    s2.read();
    let list: String = q(&mut c, &["CLIENT", "LIST"]);
    let line = list
        .lines()
        .find(|l| l.contains(" sub=1 "))
        .expect("s2 in CLIENT LIST");
    assert!(line.contains(" flags=P "), "{line}");
    assert!(line.contains(" psub=2 ssub=1 "), "{line}");
    let mine: String = q(&mut c, &["CLIENT", "INFO"]);
    assert!(mine.contains(" flags=N ") && mine.contains(" sub=0 psub=0 ssub=0 "));
    assert_eq!(info_field(&mut c, "stats", "pubsubshard_channels"), "1");
    // COMMAND INFO reports the shard channel key specs as Redis does.
    let info: Vec<redis::Value> = q(&mut c, &["COMMAND", "INFO", "spublish"]);
    let redis::Value::Array(fields) = &info[0] else {
        panic!("{info:?}")
    };
    assert_eq!(fields[1], redis::Value::Int(3));
    assert_eq!(
        (&fields[3], &fields[4]),
        (&redis::Value::Int(1), &redis::Value::Int(1))
    );
}

#[test]
fn slow_subscriber_is_disconnected_at_the_output_limit() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let _: () = q(
        &mut c,
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 1mb 0 0",
        ],
    );
    assert_eq!(
        q::<Vec<String>>(&mut c, &["CONFIG", "GET", "client-output-buffer-limit"])[1],
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 0 0"
    );
    // A subscriber that never reads.
    let mut slow = Raw::connect(server.addr);
    slow.send_cmd(&["CLIENT", "SETNAME", "slow"]);
    slow.read();
    slow.cmd(&["SUBSCRIBE", "flood"]);
    let payload = "x".repeat(64 * 1024);
    let mut receivers = 1;
    // Socket buffers absorb some megabytes first; then the queue grows to the limit.
    for _ in 0..100_000 {
        receivers = q::<i64>(&mut c, &["PUBLISH", "flood", &payload]);
        if receivers == 0 {
            break;
        }
    }
    assert_eq!(receivers, 0, "the slow subscriber was never disconnected");
    eventually(|| !q::<String>(&mut c, &["CLIENT", "LIST"]).contains("name=slow"));
    // The log reaches the harness through a pipe, a moment after the disconnection.
    eventually(|| {
        server
            .log()
            .contains("scheduled to be closed ASAP for overcoming of output buffer limits")
    });
    // Errors in the option are Redis's.
    for (value, why) in [
        (
            "pubsub 1mb 1mb",
            "Wrong number of arguments in buffer limit configuration.",
        ),
        (
            "master 1mb 1mb 1",
            "Invalid client class specified in buffer limit configuration.",
        ),
        (
            "pubsub 1mb 1mb 60s",
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
        ),
    ] {
        assert_eq!(
            err(&mut c, &["CONFIG", "SET", "client-output-buffer-limit", value]),
            format!("ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - {why}")
        );
    }
}

#[test]
fn client_list_and_kill_by_type_pubsub() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let mut sub = Raw::connect(server.addr);
    sub.cmd(&["CLIENT", "SETNAME", "subscriber"]);
    sub.cmd(&["PSUBSCRIBE", "*"]);
    let subs: String = q(&mut c, &["CLIENT", "LIST", "TYPE", "pubsub"]);
    assert_eq!(subs.lines().count(), 1);
    assert!(subs.contains("name=subscriber"), "{subs}");
    let normal: String = q(&mut c, &["CLIENT", "LIST", "TYPE", "normal"]);
    assert!(!normal.contains("name=subscriber"), "{normal}");
    assert_eq!(
        q::<i64>(
            &mut c,
            &["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]
        ),
        0
    );
    assert_eq!(q::<i64>(&mut c, &["CLIENT", "KILL", "TYPE", "pubsub"]), 1);
    assert!(sub.is_closed());
    eventually(|| q::<i64>(&mut c, &["PUBSUB", "NUMPAT"]) == 0);
}

#[test]
fn subscribers_are_spared_by_the_idle_timeout() {
    let server = TestServer::start(&["--timeout", "1"]);
    let mut sub = Raw::connect(server.addr);
    sub.cmd(&["SUBSCRIBE", "ch"]);
    let mut idle = Raw::connect(server.addr);
    idle.cmd(&["PING"]);
    // The plain client is closed after its idle second; the subscriber stays.
    assert!(idle.is_closed());
    let mut c = server.client();
    assert_eq!(q::<i64>(&mut c, &["PUBLISH", "ch", "still"]), 1);
    assert_eq!(sub.read(), message(false, "ch", "still"));
}

#[derive(Debug, Clone)]
enum Op {
    Sub(usize, Vec<u8>),
    Unsub(usize, Vec<u8>),
    UnsubAll(usize),
    PSub(usize, u8),
    PUnsub(usize, u8),
}

fn op() -> impl Strategy<Value = Op> {
    let client = 0..3usize;
    let chans = proptest::collection::vec(0u8..5, 0..4);
    prop_oneof![
        (
            client.clone(),
            chans.clone().prop_filter("non-empty", |v| !v.is_empty())
        )
            .prop_map(|(c, v)| Op::Sub(c, v)),
        (client.clone(), chans).prop_map(|(c, v)| Op::Unsub(c, v)),
        client.clone().prop_map(Op::UnsubAll),
        (client.clone(), 0u8..3).prop_map(|(c, p)| Op::PSub(c, p)),
        (client, 0u8..3).prop_map(|(c, p)| Op::PUnsub(c, p)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random subscribe/unsubscribe sequences over three connections: every confirmation's
    /// count, and NUMSUB / NUMPAT / CHANNELS / PUBLISH's receiver count, match a model.
    #[test]
    fn registry_matches_a_model(ops in proptest::collection::vec(op(), 1..30)) {
        let server = TestServer::start(&[]);
        let mut clients: Vec<Raw> = (0..3).map(|_| Raw::connect(server.addr)).collect();
        let mut admin = server.client();
        let mut chans: Vec<BTreeSet<String>> = vec![BTreeSet::new(); 3];
        let mut pats: Vec<BTreeSet<String>> = vec![BTreeSet::new(); 3];
        let name = |n: &u8| format!("ch{n}");
        let pat = |n: u8| format!("ch{n}*");
        for op in ops {
            match op {
                Op::Sub(i, list) => {
                    let names: Vec<String> = list.iter().map(name).collect();
                    let mut args = vec!["SUBSCRIBE"];
                    args.extend(names.iter().map(String::as_str));
                    clients[i].send_cmd(&args);
                    for n in &names {
                        chans[i].insert(n.clone());
                        let want = (chans[i].len() + pats[i].len()) as i64;
                        prop_assert_eq!(clients[i].read(), conf(false, "subscribe", Some(n), want));
                    }
                }
                Op::Unsub(i, list) => {
                    let names: Vec<String> = list.iter().map(name).collect();
                    let mut args = vec!["UNSUBSCRIBE"];
                    args.extend(names.iter().map(String::as_str));
                    clients[i].send_cmd(&args);
                    if names.is_empty() {
                        let n = chans[i].len().max(1);
                        let got = read_n(&mut clients[i], n);
                        chans[i].clear();
                        prop_assert_eq!(got.last().map(|r| r.items()[2].int()), Some(pats[i].len() as i64));
                    } else {
                        for n in &names {
                            chans[i].remove(n);
                            let want = (chans[i].len() + pats[i].len()) as i64;
                            prop_assert_eq!(clients[i].read(), conf(false, "unsubscribe", Some(n), want));
                        }
                    }
                }
                Op::UnsubAll(i) => {
                    clients[i].send_cmd(&["PUNSUBSCRIBE"]);
                    let n = pats[i].len().max(1);
                    read_n(&mut clients[i], n);
                    pats[i].clear();
                }
                Op::PSub(i, p) => {
                    pats[i].insert(pat(p));
                    let want = (chans[i].len() + pats[i].len()) as i64;
                    prop_assert_eq!(clients[i].cmd(&["PSUBSCRIBE", &pat(p)]), conf(false, "psubscribe", Some(&pat(p)), want));
                }
                Op::PUnsub(i, p) => {
                    pats[i].remove(&pat(p));
                    let want = (chans[i].len() + pats[i].len()) as i64;
                    prop_assert_eq!(clients[i].cmd(&["PUNSUBSCRIBE", &pat(p)]), conf(false, "punsubscribe", Some(&pat(p)), want));
                }
            }
            let mut subscribers: BTreeMap<String, i64> = BTreeMap::new();
            for set in &chans {
                for c in set {
                    *subscribers.entry(c.clone()).or_default() += 1;
                }
            }
            let got: BTreeSet<String> = q(&mut admin, &["PUBSUB", "CHANNELS"]);
            prop_assert_eq!(got, subscribers.keys().cloned().collect::<BTreeSet<_>>());
            let unique: BTreeSet<&String> = pats.iter().flatten().collect();
            prop_assert_eq!(q::<i64>(&mut admin, &["PUBSUB", "NUMPAT"]), unique.len() as i64);
            for n in 0..5u8 {
                let ch = name(&n);
                let numsub: Vec<redis::Value> = q(&mut admin, &["PUBSUB", "NUMSUB", &ch]);
                prop_assert_eq!(&numsub[1], &redis::Value::Int(*subscribers.get(&ch).unwrap_or(&0)));
            }
        }
        // Publishing reaches exactly the modelled subscribers; drain what they received.
        for n in 0..5u8 {
            let ch = name(&n);
            let direct: Vec<usize> = (0..3).filter(|&i| chans[i].contains(&ch)).collect();
            let by_pattern: Vec<usize> = (0..3)
                .filter(|&i| pats[i].iter().any(|p| ch.starts_with(p.trim_end_matches('*'))))
                .collect();
            let receivers = q::<i64>(&mut admin, &["PUBLISH", &ch, "m"]);
            prop_assert_eq!(receivers, (direct.len() + by_pattern.len()) as i64);
            for i in direct {
                prop_assert_eq!(clients[i].read(), message(false, &ch, "m"));
            }
            for i in by_pattern {
                let got = clients[i].read();
                prop_assert_eq!(got.items()[0].text(), "pmessage");
            }
        }
    }
}
