//! Connection commands against the real binary: PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET and
//! the CLIENT family (ID, names, LIST, INFO, KILL, SETINFO, PAUSE, UNPAUSE, NO-EVICT, REPLY,
//! HELP), plus the idle `timeout`. Error texts are Redis's, asserted in full.

mod common;
mod raw;

use std::time::{Duration, Instant};

use common::TestServer;
use raw::{Raw, Resp};

fn ok() -> Resp {
    Resp::Simple("OK".into())
}

/// The `field=value` of one CLIENT LIST / CLIENT INFO line.
fn client_field(line: &str, field: &str) -> String {
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(&format!("{field}=")))
        .unwrap_or_else(|| panic!("no {field} in {line}"))
        .trim_end()
        .to_string()
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn blocked_clients(c: &mut Raw) -> String {
    let info = c.cmd(&["INFO", "clients"]).text();
    raw::info_field(&info, "blocked_clients").expect("blocked_clients")
}

#[test]
fn ping_and_echo() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    assert_eq!(c.cmd_wire(&["PING"]), "+PONG\r\n");
    assert_eq!(c.cmd_wire(&["PING", "hello"]), "$5\r\nhello\r\n");
    assert_eq!(
        c.cmd(&["PING", "a", "b"]).err(),
        "ERR wrong number of arguments for 'ping' command"
    );
    assert_eq!(c.cmd_wire(&["ECHO", ""]), "$0\r\n\r\n");
    assert_eq!(c.cmd(&["echo", "x y"]).text(), "x y");
    assert_eq!(
        c.cmd(&["ECHO"]).err(),
        "ERR wrong number of arguments for 'echo' command"
    );
}

#[test]
fn hello_negotiates_protocol_names_and_errors() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    let reply = c.cmd(&["HELLO"]);
    let fields = reply.items();
    assert_eq!(fields.len(), 14, "{reply:?}");
    assert_eq!(fields[0].text(), "server");
    assert_eq!(fields[5], Resp::Int(2), "no argument keeps RESP2");
    assert_eq!(
        c.cmd(&["HELLO", "4"]).err(),
        "NOPROTO unsupported protocol version"
    );
    assert_eq!(
        c.cmd(&["HELLO", "1"]).err(),
        "NOPROTO unsupported protocol version"
    );
    assert_eq!(
        c.cmd(&["HELLO", "three"]).err(),
        "ERR Protocol version is not an integer or out of range"
    );
    assert_eq!(
        c.cmd(&["HELLO", "3", "FOO"]).err(),
        "ERR Syntax error in HELLO option 'FOO'"
    );
    // An option missing its values is itself the bad option.
    assert_eq!(
        c.cmd(&["HELLO", "3", "AUTH", "default"]).err(),
        "ERR Syntax error in HELLO option 'AUTH'"
    );
    assert_eq!(
        c.cmd(&["HELLO", "3", "SETNAME"]).err(),
        "ERR Syntax error in HELLO option 'SETNAME'"
    );
    assert_eq!(
        c.cmd(&["HELLO", "3", "SETNAME", "bad name"]).err(),
        "ERR Client names cannot contain spaces, newlines or special characters."
    );
    // Failed HELLOs changed nothing.
    assert_eq!(c.cmd_wire(&["GET", "missing"]), "$-1\r\n");
    let reply = c.cmd(&["HELLO", "3", "SETNAME", "conn-1"]);
    let Resp::Map(pairs) = reply else {
        panic!("HELLO 3 answers a map: {reply:?}")
    };
    assert_eq!(pairs[2], (Resp::Bulk(b"proto".to_vec()), Resp::Int(3)));
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]).text(), "conn-1");
    assert_eq!(c.cmd_wire(&["GET", "missing"]), "_\r\n");
    let info = c.cmd(&["CLIENT", "INFO"]).text();
    assert_eq!(client_field(&info, "resp"), "3");
    assert_eq!(client_field(&info, "name"), "conn-1");
}

#[test]
fn auth_with_requirepass() {
    let server = TestServer::start(&["--requirepass", "s3cret"]);
    let mut c = Raw::connect(server.addr);
    assert_eq!(
        c.cmd(&["GET", "k"]).err(),
        "NOAUTH Authentication required."
    );
    assert_eq!(
        c.cmd(&["CLIENT", "ID"]).err(),
        "NOAUTH Authentication required."
    );
    // Unknown commands and arity are reported before authentication, as in Redis.
    assert_eq!(
        c.cmd(&["GET"]).err(),
        "ERR wrong number of arguments for 'get' command"
    );
    assert_eq!(
        c.cmd(&["AUTH", "wrong"]).err(),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
    assert_eq!(
        c.cmd(&["AUTH", "someone", "s3cret"]).err(),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
    assert_eq!(c.cmd(&["AUTH", "a", "b", "c"]).err(), "ERR syntax error");
    assert_eq!(
        c.cmd(&["HELLO", "3"]).err(),
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the \
         HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and \
         select the RESP protocol version at the same time"
    );
    assert_eq!(c.cmd(&["PING"]).err(), "NOAUTH Authentication required.");
    assert_eq!(c.cmd(&["AUTH", "s3cret"]), ok());
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());

    // AUTH with the default user's name, and HELLO ... AUTH.
    let mut d = Raw::connect(server.addr);
    assert_eq!(d.cmd(&["AUTH", "default", "s3cret"]), ok());
    assert_eq!(d.cmd(&["GET", "k"]).text(), "v");
    let mut e = Raw::connect(server.addr);
    assert_eq!(
        e.cmd(&["HELLO", "3", "AUTH", "default", "nope"]).err(),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
    assert_eq!(
        e.cmd(&["GET", "k"]).err(),
        "NOAUTH Authentication required."
    );
    let hello = e.cmd(&["HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "e"]);
    assert!(matches!(hello, Resp::Map(_)), "{hello:?}");
    assert_eq!(e.cmd_wire(&["GET", "k"]), "$1\r\nv\r\n");

    // Unauthenticated clients may not send long requests.
    let mut f = Raw::connect(server.addr);
    f.send(b"*100\r\n");
    assert_eq!(
        f.read_to_close(),
        "-ERR Protocol error: unauthenticated multibulk length\r\n"
    );
    let mut f = Raw::connect(server.addr);
    f.send(b"*1\r\n$100000000\r\n");
    assert_eq!(
        f.read_to_close(),
        "-ERR Protocol error: unauthenticated bulk length\r\n"
    );

    // RESET logs the connection out again.
    assert_eq!(c.cmd_wire(&["RESET"]), "+RESET\r\n");
    assert_eq!(
        c.cmd(&["GET", "k"]).err(),
        "NOAUTH Authentication required."
    );
}

#[test]
fn auth_without_requirepass() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    assert_eq!(
        c.cmd(&["AUTH", "foo"]).err(),
        "ERR AUTH <password> called without any password configured for the default user. \
         Are you sure your configuration is correct?"
    );
    // The default user has no password: any password is accepted for it.
    assert_eq!(c.cmd(&["AUTH", "default", "anything"]), ok());
    assert_eq!(
        c.cmd(&["AUTH", "other", "anything"]).err(),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
    // Setting a password at run time applies to new connections.
    assert_eq!(c.cmd(&["CONFIG", "SET", "requirepass", "pw"]), ok());
    let mut d = Raw::connect(server.addr);
    assert_eq!(d.cmd(&["PING"]).err(), "NOAUTH Authentication required.");
    assert_eq!(d.cmd(&["AUTH", "pw"]), ok());
    assert_eq!(d.cmd(&["PING"]), Resp::Simple("PONG".into()));
}

#[test]
fn select_range() {
    let server = TestServer::start(&["--databases", "4"]);
    let mut c = Raw::connect(server.addr);
    assert_eq!(c.cmd(&["SELECT", "3"]), ok());
    assert_eq!(c.cmd(&["SET", "k", "in3"]), ok());
    assert_eq!(
        c.cmd(&["SELECT", "4"]).err(),
        "ERR DB index is out of range"
    );
    assert_eq!(
        c.cmd(&["SELECT", "-1"]).err(),
        "ERR DB index is out of range"
    );
    assert_eq!(
        c.cmd(&["SELECT", "x"]).err(),
        "ERR value is not an integer or out of range"
    );
    // Redis reads the index as a 32-bit integer.
    assert_eq!(
        c.cmd(&["SELECT", "4294967296"]).err(),
        "ERR value is out of range, value must between -2147483648 and 2147483647"
    );
    // A failed SELECT keeps the current database.
    assert_eq!(c.cmd(&["GET", "k"]).text(), "in3");
    assert_eq!(c.cmd(&["SELECT", "0"]), ok());
    assert_eq!(c.cmd(&["GET", "k"]), Resp::Nil);
}

#[test]
fn quit_answers_then_closes_without_running_what_follows() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    c.send(b"QUIT\r\nSET after quit\r\n");
    assert_eq!(c.read_to_close(), "+OK\r\n");
    let mut d = Raw::connect(server.addr);
    assert_eq!(d.cmd(&["EXISTS", "after"]), Resp::Int(0));
}

#[test]
fn reset_restores_connection_defaults() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    let id = c.cmd(&["CLIENT", "ID"]).int();
    assert_eq!(c.cmd(&["SELECT", "5"]), ok());
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "before"]), ok());
    assert_eq!(c.cmd(&["CLIENT", "SETINFO", "LIB-NAME", "mylib"]), ok());
    assert_eq!(c.cmd(&["CLIENT", "NO-EVICT", "ON"]), ok());
    assert!(matches!(c.cmd(&["HELLO", "3"]), Resp::Map(_)));
    assert_eq!(c.cmd_wire(&["RESET"]), "+RESET\r\n");
    assert_eq!(c.cmd_wire(&["CLIENT", "GETNAME"]), "$-1\r\n", "RESP2 again");
    let info = c.cmd(&["CLIENT", "INFO"]).text();
    assert_eq!(client_field(&info, "db"), "0");
    assert_eq!(client_field(&info, "resp"), "2");
    assert_eq!(client_field(&info, "flags"), "N");
    assert_eq!(client_field(&info, "name"), "");
    // The connection and its library name stay.
    assert_eq!(client_field(&info, "id"), id.to_string());
    assert_eq!(client_field(&info, "lib-name"), "mylib");
}

#[test]
fn client_id_names_list_and_info() {
    let server = TestServer::start(&[]);
    let mut a = Raw::connect(server.addr);
    let mut b = Raw::connect(server.addr);
    let id_a = a.cmd(&["CLIENT", "ID"]).int();
    let id_b = b.cmd(&["CLIENT", "ID"]).int();
    assert!(id_b > id_a, "ids grow: {id_a} {id_b}");
    assert_eq!(a.cmd_wire(&["CLIENT", "GETNAME"]), "$-1\r\n");
    assert_eq!(
        a.cmd(&["CLIENT", "SETNAME", "has space"]).err(),
        "ERR Client names cannot contain spaces, newlines or special characters."
    );
    assert_eq!(
        a.cmd(&["CLIENT", "SETNAME", "nl\n"]).err(),
        "ERR Client names cannot contain spaces, newlines or special characters."
    );
    assert_eq!(a.cmd(&["CLIENT", "SETNAME", "alpha"]), ok());
    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]).text(), "alpha");
    assert_eq!(
        a.cmd(&["CLIENT", "SETNAME"]).err(),
        "ERR wrong number of arguments for 'client|setname' command"
    );

    let list = b.cmd(&["CLIENT", "LIST"]).text();
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(list.ends_with('\n'));
    let line_a = lines
        .iter()
        .find(|l| client_field(l, "id") == id_a.to_string())
        .expect("a listed");
    assert_eq!(client_field(line_a, "name"), "alpha");
    // A command rejected for its arity still counts as the last one looked up.
    assert_eq!(client_field(line_a, "cmd"), "client|setname");
    assert_eq!(client_field(line_a, "db"), "0");
    let line_b = lines
        .iter()
        .find(|l| client_field(l, "id") == id_b.to_string())
        .expect("b listed");
    assert_eq!(client_field(line_b, "cmd"), "client|list");
    // The running command is still in the query buffer: 26 bytes for CLIENT LIST.
    assert_eq!(client_field(line_b, "qbuf"), "26");
    assert_eq!(
        client_field(line_b, "addr"),
        b.stream().local_addr().unwrap().to_string()
    );
    assert_eq!(client_field(line_b, "laddr"), server.addr.to_string());
    for field in [
        "fd",
        "age",
        "idle",
        "flags",
        "sub",
        "multi",
        "qbuf-free",
        "user",
        "resp",
    ] {
        client_field(line_b, field);
    }

    let only_a = b.cmd(&["CLIENT", "LIST", "ID", &id_a.to_string()]).text();
    assert_eq!(only_a.lines().count(), 1);
    assert!(only_a.starts_with(&format!("id={id_a} ")), "{only_a}");
    assert_eq!(b.cmd(&["CLIENT", "LIST", "ID", "999999"]).text(), "");
    assert_eq!(
        b.cmd(&["CLIENT", "LIST", "ID", "x"]).err(),
        "ERR Invalid client ID"
    );
    assert_eq!(
        b.cmd(&["CLIENT", "LIST", "TYPE", "normal"])
            .text()
            .lines()
            .count(),
        2
    );
    assert_eq!(b.cmd(&["CLIENT", "LIST", "TYPE", "pubsub"]).text(), "");
    assert_eq!(
        b.cmd(&["CLIENT", "LIST", "TYPE", "bogus"]).err(),
        "ERR Unknown client type 'bogus'"
    );
    assert_eq!(b.cmd(&["CLIENT", "LIST", "FOO"]).err(), "ERR syntax error");

    let info = a.cmd(&["CLIENT", "INFO"]).text();
    assert_eq!(info.lines().count(), 1);
    assert!(info.ends_with('\n'));
    assert_eq!(client_field(&info, "id"), id_a.to_string());
    assert_eq!(client_field(&info, "cmd"), "client|info");
    assert_eq!(client_field(&info, "qbuf"), "26");

    // An empty name clears it.
    assert_eq!(a.cmd(&["CLIENT", "SETNAME", ""]), ok());
    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), Resp::Nil);
}

#[test]
fn client_setinfo() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    assert_eq!(c.cmd(&["CLIENT", "SETINFO", "lib-name", "redis-rs"]), ok());
    assert_eq!(c.cmd(&["CLIENT", "SETINFO", "LIB-VER", "1.2.3"]), ok());
    let info = c.cmd(&["CLIENT", "INFO"]).text();
    assert!(info.contains(" lib-name=redis-rs lib-ver=1.2.3"), "{info}");
    // The attribute is checked before the value, and named as the client spelled it.
    assert_eq!(
        c.cmd(&["CLIENT", "SETINFO", "badger", "has space"]).err(),
        "ERR Unrecognized option 'badger'"
    );
    assert_eq!(
        c.cmd(&["CLIENT", "SETINFO", "LIB-NAME", "redis py"]).err(),
        "ERR LIB-NAME cannot contain spaces, newlines or special characters."
    );
    assert_eq!(
        c.cmd(&["CLIENT", "SETINFO", "lib-ver", "1\n"]).err(),
        "ERR lib-ver cannot contain spaces, newlines or special characters."
    );
    assert_eq!(
        c.cmd(&["CLIENT", "SETINFO", "lib-name"]).err(),
        "ERR wrong number of arguments for 'client|setinfo' command"
    );
    let info = c.cmd(&["CLIENT", "INFO"]).text();
    assert!(info.contains(" lib-name=redis-rs lib-ver=1.2.3"), "{info}");
    assert_eq!(c.cmd(&["CLIENT", "SETINFO", "lib-name", ""]), ok());
    let info = c.cmd(&["CLIENT", "INFO"]).text();
    assert!(info.contains(" lib-name= lib-ver=1.2.3"), "{info}");
}

#[test]
fn client_kill_old_and_new_forms() {
    let server = TestServer::start(&[]);
    let mut me = Raw::connect(server.addr);
    let my_id = me.cmd(&["CLIENT", "ID"]).int();

    // Old form: CLIENT KILL addr:port.
    let mut victim = Raw::connect(server.addr);
    assert_eq!(victim.cmd(&["PING"]), Resp::Simple("PONG".into()));
    let addr = victim.stream().local_addr().unwrap().to_string();
    assert_eq!(me.cmd(&["CLIENT", "KILL", &addr]), ok());
    assert!(victim.is_closed());
    assert_eq!(
        me.cmd(&["CLIENT", "KILL", &addr]).err(),
        "ERR No such client"
    );

    // New form by ID and by ADDR.
    let mut v1 = Raw::connect(server.addr);
    let id1 = v1.cmd(&["CLIENT", "ID"]).int();
    assert_eq!(
        me.cmd(&["CLIENT", "KILL", "ID", &id1.to_string()]),
        Resp::Int(1)
    );
    assert!(v1.is_closed());
    assert_eq!(
        me.cmd(&["CLIENT", "KILL", "ID", &id1.to_string()]),
        Resp::Int(0)
    );
    let mut v2 = Raw::connect(server.addr);
    assert_eq!(v2.cmd(&["PING"]), Resp::Simple("PONG".into()));
    let addr2 = v2.stream().local_addr().unwrap().to_string();
    assert_eq!(me.cmd(&["CLIENT", "KILL", "ADDR", &addr2]), Resp::Int(1));
    assert!(v2.is_closed());

    // Errors.
    assert_eq!(
        me.cmd(&["CLIENT", "KILL"]).err(),
        "ERR wrong number of arguments for 'client|kill' command"
    );
    for bad in ["0", "-1", "x"] {
        assert_eq!(
            me.cmd(&["CLIENT", "KILL", "ID", bad]).err(),
            "ERR client-id should be greater than 0"
        );
    }
    assert_eq!(
        me.cmd(&["CLIENT", "KILL", "ID", "10", "extra"]).err(),
        "ERR syntax error"
    );
    assert_eq!(
        me.cmd(&["CLIENT", "KILL", "TYPE", "bogus"]).err(),
        "ERR Unknown client type 'bogus'"
    );
    assert_eq!(
        me.cmd(&["CLIENT", "KILL", "USER", "nobody"]).err(),
        "ERR No such user 'nobody'"
    );
    assert_eq!(
        me.cmd(&["CLIENT", "KILL", "SKIPME", "maybe"]).err(),
        "ERR syntax error"
    );

    // SKIPME: by default the caller survives a kill that matches it.
    let mut others: Vec<Raw> = (0..3).map(|_| Raw::connect(server.addr)).collect();
    for o in &mut others {
        assert_eq!(o.cmd(&["PING"]), Resp::Simple("PONG".into()));
    }
    let laddr = server.addr.to_string();
    assert_eq!(me.cmd(&["CLIENT", "KILL", "LADDR", &laddr]), Resp::Int(3));
    for o in &mut others {
        assert!(o.is_closed());
    }
    assert_eq!(me.cmd(&["CLIENT", "ID"]), Resp::Int(my_id));
    // SKIPME NO kills the caller too, after its reply.
    let mut other = Raw::connect(server.addr);
    assert_eq!(other.cmd(&["PING"]), Resp::Simple("PONG".into()));
    assert_eq!(
        me.cmd(&["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no"]),
        Resp::Int(2)
    );
    assert!(me.is_closed());
    assert!(other.is_closed());
}

#[test]
fn client_pause_write_holds_writes_until_unpause() {
    let server = TestServer::start(&[]);
    let mut admin = Raw::connect(server.addr);
    let mut writer = Raw::connect(server.addr);
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "60000", "WRITE"]), ok());
    // Reads are served during a write pause.
    assert_eq!(writer.cmd(&["GET", "k"]), Resp::Nil);
    assert_eq!(writer.cmd(&["PING"]), Resp::Simple("PONG".into()));
    writer.send_cmd(&["SET", "k", "v"]);
    wait_until("the write to block", || blocked_clients(&mut admin) == "1");
    assert_eq!(admin.cmd(&["GET", "k"]), Resp::Nil, "the write has not run");
    // Commands rejected before running answer at once.
    assert_eq!(
        admin.cmd(&["SET", "k"]).err(),
        "ERR wrong number of arguments for 'set' command"
    );
    assert_eq!(admin.cmd(&["CLIENT", "UNPAUSE"]), ok());
    assert_eq!(writer.read(), ok());
    assert_eq!(admin.cmd(&["GET", "k"]).text(), "v");
    assert_eq!(blocked_clients(&mut admin), "0");
}

#[test]
fn client_pause_all_holds_everything_until_the_deadline() {
    let server = TestServer::start(&[]);
    let mut admin = Raw::connect(server.addr);
    let mut reader = Raw::connect(server.addr);
    assert_eq!(admin.cmd(&["SET", "k", "v"]), ok());
    let paused_at = Instant::now();
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "300"]), ok());
    reader.send_cmd(&["GET", "k"]);
    // A later, weaker pause neither shortens nor weakens the pause in force; the second CLIENT
    // PAUSE itself waits for it, as every command does under ALL.
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "10", "WRITE"]), ok());
    assert!(paused_at.elapsed() >= Duration::from_millis(300));
    assert_eq!(reader.read().text(), "v");
    assert!(paused_at.elapsed() >= Duration::from_millis(300));
}

#[test]
fn client_pause_arguments() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    assert_eq!(
        c.cmd(&["CLIENT", "PAUSE", "x"]).err(),
        "ERR timeout is not an integer or out of range"
    );
    assert_eq!(
        c.cmd(&["CLIENT", "PAUSE", "-1"]).err(),
        "ERR timeout is negative"
    );
    assert_eq!(
        c.cmd(&["CLIENT", "PAUSE", "10", "READ"]).err(),
        "ERR CLIENT PAUSE mode must be WRITE or ALL"
    );
    assert_eq!(
        c.cmd(&["CLIENT", "PAUSE", "10", "ALL", "x"]).err(),
        "ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP."
    );
    assert_eq!(c.cmd(&["CLIENT", "UNPAUSE"]), ok());
}

#[test]
fn client_no_evict_reply_and_help() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    assert_eq!(c.cmd(&["CLIENT", "NO-EVICT", "on"]), ok());
    let info = c.cmd(&["CLIENT", "INFO"]).text();
    assert_eq!(client_field(&info, "flags"), "e");
    assert_eq!(c.cmd(&["CLIENT", "NO-EVICT", "OFF"]), ok());
    assert_eq!(
        c.cmd(&["CLIENT", "NO-EVICT", "maybe"]).err(),
        "ERR syntax error"
    );

    // OFF: nothing until ON, whose own reply is sent.
    c.send_cmd(&["CLIENT", "REPLY", "OFF"]);
    c.send_cmd(&["SET", "r", "1"]);
    c.send_cmd(&["GET", "r"]);
    c.send_cmd(&["NOSUCHCOMMAND"]);
    assert_eq!(c.cmd(&["CLIENT", "REPLY", "ON"]), ok());
    assert_eq!(c.cmd(&["GET", "r"]).text(), "1");
    // SKIP: its own reply and the next command's are dropped.
    c.send_cmd(&["CLIENT", "REPLY", "SKIP"]);
    c.send_cmd(&["ECHO", "dropped"]);
    assert_eq!(c.cmd(&["ECHO", "kept"]).text(), "kept");
    // ON right after SKIP cancels it.
    c.send_cmd(&["CLIENT", "REPLY", "SKIP"]);
    assert_eq!(c.cmd(&["CLIENT", "REPLY", "ON"]), ok());
    assert_eq!(c.cmd(&["PING"]), Resp::Simple("PONG".into()));
    assert_eq!(
        c.cmd(&["CLIENT", "REPLY", "LOUD"]).err(),
        "ERR syntax error"
    );

    let help = c.cmd(&["CLIENT", "HELP"]).strings();
    assert_eq!(
        help[0],
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    assert!(help.iter().any(|l| l.starts_with("PAUSE <timeout>")));
    assert_eq!(
        help.last().map(String::as_str),
        Some("    Print this help.")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "NOPE"]).err(),
        "ERR unknown subcommand 'NOPE'. Try CLIENT HELP."
    );
}

#[test]
fn idle_timeout_closes_clients() {
    let server = TestServer::start(&["--timeout", "1"]);
    let mut idle = Raw::connect(server.addr);
    assert_eq!(idle.cmd(&["PING"]), Resp::Simple("PONG".into()));
    let started = Instant::now();
    assert!(idle.is_closed(), "an idle client is closed");
    assert!(started.elapsed() >= Duration::from_secs(1));
    let mut c = Raw::connect(server.addr);
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "timeout"]).strings(),
        ["timeout", "1"]
    );
    // Turning the timeout off keeps idle clients.
    assert_eq!(c.cmd(&["CONFIG", "SET", "timeout", "0"]), ok());
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(c.cmd(&["PING"]), Resp::Simple("PONG".into()));
}
