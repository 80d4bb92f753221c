//! Wire-protocol tests against the real binary: inline commands, pipelining, Redis's exact
//! protocol errors (each closes only the offending connection), the proto-max-bulk-len,
//! client-query-buffer-limit and maxclients limits, and RESP3 reply shapes pinned as bytes.

mod common;
mod raw;

use std::io::Write;
use std::time::{Duration, Instant};

use common::TestServer;
use raw::{multibulk, Raw, Resp};

/// Sends `input` on a fresh connection and expects exactly `reply`, then the connection closed,
/// while `other` (a connection opened before) is still served.
fn assert_protocol_error(server: &TestServer, other: &mut Raw, input: &[u8], reply: &str) {
    let mut c = Raw::connect(server.addr);
    c.send(input);
    assert_eq!(
        c.read_to_close(),
        reply,
        "input {:?}",
        String::from_utf8_lossy(input)
    );
    assert_eq!(other.cmd(&["PING"]), Resp::Simple("PONG".into()));
}

#[test]
fn inline_commands_and_quoting() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    c.send(b"PING\r\n");
    assert_eq!(c.read_wire(), "+PONG\r\n");
    // A bare "\n" ends a line too, and blank lines are skipped.
    c.send(b"\r\n\nping hello\n");
    assert_eq!(c.read_wire(), "$5\r\nhello\r\n");
    c.send(b"SET k \"hello world\\n\\x41\"\r\nGET k\r\n");
    assert_eq!(c.read_wire(), "+OK\r\n");
    assert_eq!(c.read_wire(), "$13\r\nhello world\nA\r\n");
    c.send(b"ECHO 'it\\'s'\r\n");
    assert_eq!(c.read_wire(), "$4\r\nit's\r\n");
    // Inline and multibulk requests mix on one connection.
    c.send(b"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nECHO   spaced    \r\n");
    assert_eq!(c.read_wire(), "$2\r\nhi\r\n");
    assert_eq!(c.read_wire(), "$6\r\nspaced\r\n");
    // An empty multibulk is skipped like an empty line.
    c.send(b"*0\r\n*1\r\n$4\r\nPING\r\n");
    assert_eq!(c.read_wire(), "+PONG\r\n");
}

#[test]
fn ten_thousand_pipelined_commands_in_one_write() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    let mut batch = Vec::new();
    for i in 0..10_000 {
        if i % 2 == 0 {
            batch.extend_from_slice(&multibulk(&[b"INCR", b"counter"]));
        } else {
            let v = format!("v{i}");
            batch.extend_from_slice(&multibulk(&[b"ECHO", v.as_bytes()]));
        }
    }
    // Write from another thread so that replies can flow while the requests go out.
    let mut writer = c.stream().try_clone().expect("clone");
    let sender = std::thread::spawn(move || writer.write_all(&batch).expect("write"));
    for i in 0..10_000 {
        let reply = c.read();
        if i % 2 == 0 {
            assert_eq!(reply, Resp::Int(i / 2 + 1), "reply {i}");
        } else {
            assert_eq!(reply, Resp::Bulk(format!("v{i}").into_bytes()), "reply {i}");
        }
    }
    sender.join().expect("writer");
    assert_eq!(c.cmd(&["GET", "counter"]).text(), "5000");
}

#[test]
fn protocol_errors_close_only_the_offending_connection() {
    let server = TestServer::start(&[]);
    let mut other = Raw::connect(server.addr);
    assert_eq!(other.cmd(&["PING"]), Resp::Simple("PONG".into()));
    let cases: &[(&[u8], &str)] = &[
        (
            b"*3000000000\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*x\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n$-5\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$abc\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$2147483648\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*2\r\n$3\r\nGET\r\n+foo\r\n",
            "-ERR Protocol error: expected '$', got '+'\r\n",
        ),
        (
            b"SET k \"unbalanced\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        (
            b"SET k \"closed\"quote\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
    ];
    for (input, reply) in cases {
        assert_protocol_error(&server, &mut other, input, reply);
    }
    // Requests before the bad one in the same packet are answered first.
    assert_protocol_error(
        &server,
        &mut other,
        b"PING\r\n*1\r\n$x\r\n",
        "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n",
    );
    // Lines without a newline may not grow past 64 KiB.
    let mut inline = vec![b'a'; 70 * 1024];
    assert_protocol_error(
        &server,
        &mut other,
        &inline,
        "-ERR Protocol error: too big inline request\r\n",
    );
    inline.insert(0, b'*');
    inline[1..].fill(b'1');
    assert_protocol_error(
        &server,
        &mut other,
        &inline,
        "-ERR Protocol error: too big mbulk count string\r\n",
    );
    let mut bulk_header = b"*1\r\n$".to_vec();
    bulk_header.extend(std::iter::repeat_n(b'1', 70 * 1024));
    assert_protocol_error(
        &server,
        &mut other,
        &bulk_header,
        "-ERR Protocol error: too big bulk count string\r\n",
    );
}

#[test]
fn unknown_command_text() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    assert_eq!(
        c.cmd(&["FOO", "bar", "baz qux"]).err(),
        "ERR unknown command 'FOO', with args beginning with: 'bar' 'baz qux' "
    );
    assert_eq!(
        c.cmd_wire(&["nosuch"]),
        "-ERR unknown command 'nosuch', with args beginning with: \r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "FOO"]).err(),
        "ERR unknown subcommand 'FOO'. Try CONFIG HELP."
    );
    assert_eq!(
        c.cmd(&["GET"]).err(),
        "ERR wrong number of arguments for 'get' command"
    );
    // The connection stays usable after command errors.
    assert_eq!(c.cmd(&["PING"]), Resp::Simple("PONG".into()));
}

#[test]
fn proto_max_bulk_len_is_enforced() {
    let server = TestServer::start(&["--proto-max-bulk-len", "1mb"]);
    let mut other = Raw::connect(server.addr);
    let limit = 1024 * 1024;
    // Exactly the limit is fine.
    let mut c = Raw::connect(server.addr);
    let value = vec![b'x'; limit];
    c.send(&multibulk(&[b"SET", b"big", &value]));
    assert_eq!(c.read_wire(), "+OK\r\n");
    assert_eq!(c.cmd(&["STRLEN", "big"]), Resp::Int(limit as i64));
    // One byte more is refused as soon as the header arrives.
    assert_protocol_error(
        &server,
        &mut other,
        format!("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n${}\r\n", limit + 1).as_bytes(),
        "-ERR Protocol error: invalid bulk length\r\n",
    );
    assert_eq!(
        other
            .cmd(&["CONFIG", "GET", "proto-max-bulk-len"])
            .strings(),
        vec!["proto-max-bulk-len", "1048576"]
    );
    // Raising the limit at run time applies to the next request.
    assert_eq!(
        other.cmd(&["CONFIG", "SET", "proto-max-bulk-len", "2mb"]),
        Resp::Simple("OK".into())
    );
    let value = vec![b'y'; limit + 1];
    other.send(&multibulk(&[b"SET", b"big", &value]));
    assert_eq!(other.read_wire(), "+OK\r\n");
}

#[test]
fn client_query_buffer_limit_closes_the_client() {
    let server = TestServer::start(&["--client-query-buffer-limit", "1mb"]);
    let mut other = Raw::connect(server.addr);
    // A complete request under the limit is served.
    let mut c = Raw::connect(server.addr);
    c.send(&multibulk(&[b"SET", b"k", &vec![b'v'; 900 * 1024]]));
    assert_eq!(c.read_wire(), "+OK\r\n");
    // An unfinished request that buffers more than the limit gets the connection closed.
    let mut c = Raw::connect(server.addr);
    let mut input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n".to_vec();
    input.extend(std::iter::repeat_n(b'v', 1536 * 1024));
    // The server may close while we are still writing; that is the expected outcome.
    let _ = c.stream().try_clone().map(|mut s| s.write_all(&input));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !c.is_closed() {
        assert!(Instant::now() < deadline, "client was not closed");
    }
    assert_eq!(other.cmd(&["PING"]), Resp::Simple("PONG".into()));
    assert_eq!(other.cmd(&["STRLEN", "k"]), Resp::Int(900 * 1024));
}

#[test]
fn maxclients_refuses_extra_connections() {
    let server = TestServer::start(&["--maxclients", "2"]);
    let mut a = Raw::connect(server.addr);
    let mut b = Raw::connect(server.addr);
    assert_eq!(a.cmd(&["PING"]), Resp::Simple("PONG".into()));
    assert_eq!(b.cmd(&["PING"]), Resp::Simple("PONG".into()));
    let mut c = Raw::connect(server.addr);
    assert_eq!(c.read_to_close(), "-ERR max number of clients reached\r\n");
    let info = a.cmd(&["INFO", "stats"]).text();
    assert_eq!(
        raw::info_field(&info, "rejected_connections").as_deref(),
        Some("1")
    );
    // Once a client leaves, a new one gets in.
    drop(b);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut d = Raw::connect(server.addr);
        d.send_cmd(&["PING"]);
        let reply = d.read();
        if reply == Resp::Simple("PONG".into()) {
            break;
        }
        assert_eq!(reply.err(), "ERR max number of clients reached");
        assert!(
            Instant::now() < deadline,
            "the freed slot never became usable"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn resp3_shapes_as_bytes() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    // RESP2 first.
    assert_eq!(c.cmd_wire(&["GET", "missing"]), "$-1\r\n");
    assert_eq!(
        c.cmd_wire(&["DEBUG", "PROTOCOL", "double"]),
        "$5\r\n3.141\r\n"
    );
    assert_eq!(c.cmd_wire(&["DEBUG", "PROTOCOL", "true"]), ":1\r\n");
    assert_eq!(
        c.cmd_wire(&["DEBUG", "PROTOCOL", "map"]),
        "*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n"
    );
    let id = c.cmd(&["CLIENT", "ID"]).int();
    let hello = c.cmd_wire(&["HELLO", "3"]);
    assert_eq!(
        hello,
        format!(
            "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.2.4\r\n$5\r\nproto\r\n:3\r\n\
             $2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n\
             $7\r\nmodules\r\n*0\r\n"
        )
    );
    assert_eq!(c.cmd_wire(&["GET", "missing"]), "_\r\n");
    assert_eq!(
        c.cmd_wire(&["CONFIG", "GET", "maxclients"]),
        "%1\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"
    );
    assert_eq!(c.cmd_wire(&["DEBUG", "PROTOCOL", "double"]), ",3.141\r\n");
    assert_eq!(c.cmd_wire(&["DEBUG", "PROTOCOL", "null"]), "_\r\n");
    assert_eq!(c.cmd_wire(&["DEBUG", "PROTOCOL", "true"]), "#t\r\n");
    assert_eq!(c.cmd_wire(&["DEBUG", "PROTOCOL", "false"]), "#f\r\n");
    assert_eq!(
        c.cmd_wire(&["DEBUG", "PROTOCOL", "bignum"]),
        "(1234567999999999999999999999999999999\r\n"
    );
    assert_eq!(
        c.cmd_wire(&["DEBUG", "PROTOCOL", "set"]),
        "~3\r\n:0\r\n:1\r\n:2\r\n"
    );
    assert_eq!(
        c.cmd_wire(&["DEBUG", "PROTOCOL", "map"]),
        "%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n"
    );
    assert_eq!(
        c.cmd_wire(&["DEBUG", "PROTOCOL", "verbatim"]),
        "=29\r\ntxt:This is a verbatim\nstring\r\n"
    );
    assert_eq!(
        c.cmd_wire(&["DEBUG", "PROTOCOL", "attrib"]),
        "|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n\
         $39\r\nSome real reply following the attribute\r\n"
    );
    // Verbatim text: INFO and CLIENT INFO.
    let info = c.cmd_wire(&["INFO", "server"]);
    let (len, body) = info[1..].split_once("\r\n").expect("header");
    assert!(info.starts_with('='), "{info}");
    assert!(body.starts_with("txt:# Server\r\n"), "{body}");
    assert_eq!(len.parse::<usize>().unwrap(), body.len() - 2);
    assert!(c.cmd_wire(&["CLIENT", "INFO"]).starts_with('='));
    // Back to RESP2.
    let hello2 = c.cmd(&["HELLO", "2"]);
    assert!(matches!(hello2, Resp::Array(_)), "{hello2:?}");
    assert_eq!(c.cmd_wire(&["GET", "missing"]), "$-1\r\n");
    assert!(c.cmd_wire(&["CLIENT", "INFO"]).starts_with('$'));
}
