//! MULTI / EXEC / DISCARD / WATCH / UNWATCH through a real client: queueing, EXECABORT, errors
//! inside a transaction, WATCH invalidated by other clients' writes, expiry and FLUSHDB, and
//! atomicity (no other client sees half of an EXEC).

mod common;
mod raw;

use common::TestServer;
use raw::{Raw, Resp};
use redis::{cmd, Value};

fn err(c: &mut redis::Connection, args: &[&str]) -> String {
    let mut command = cmd(args[0]);
    for a in &args[1..] {
        command.arg(*a);
    }
    let e = command.query::<Value>(c).unwrap_err();
    format!("{} {}", e.code().unwrap_or("?"), e.detail().unwrap_or(""))
}

fn ok(c: &mut redis::Connection, args: &[&str]) -> Value {
    let mut command = cmd(args[0]);
    for a in &args[1..] {
        command.arg(*a);
    }
    command.query(c).unwrap()
}

fn status(s: &str) -> Value {
    Value::SimpleString(s.to_string())
}

#[test]
fn queued_commands_run_in_order_at_exec() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    assert_eq!(ok(&mut c, &["MULTI"]), Value::Okay);
    assert_eq!(ok(&mut c, &["SET", "a", "1"]), status("QUEUED"));
    assert_eq!(ok(&mut c, &["INCR", "a"]), status("QUEUED"));
    assert_eq!(ok(&mut c, &["SELECT", "1"]), status("QUEUED"));
    assert_eq!(ok(&mut c, &["SET", "a", "in-db-1"]), status("QUEUED"));
    // Not run yet.
    let mut other = server.client();
    assert_eq!(ok(&mut other, &["GET", "a"]), Value::Nil);
    let replies = ok(&mut c, &["EXEC"]);
    assert_eq!(
        replies,
        Value::Array(vec![Value::Okay, Value::Int(2), Value::Okay, Value::Okay])
    );
    assert_eq!(
        ok(&mut other, &["GET", "a"]),
        Value::BulkString(b"2".to_vec())
    );
    // SELECT inside the transaction stays in force afterwards, as in Redis.
    assert_eq!(
        ok(&mut c, &["GET", "a"]),
        Value::BulkString(b"in-db-1".to_vec())
    );
}

#[test]
fn refused_commands_abort_and_runtime_errors_do_not() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    ok(&mut c, &["MULTI"]);
    ok(&mut c, &["SET", "k", "v"]);
    assert_eq!(
        err(&mut c, &["NOSUCHCOMMAND"]),
        "ERR unknown command 'NOSUCHCOMMAND', with args beginning with: "
    );
    assert_eq!(
        err(&mut c, &["GET"]),
        "ERR wrong number of arguments for 'get' command"
    );
    assert_eq!(
        err(&mut c, &["EXEC"]),
        "EXECABORT Transaction discarded because of previous errors."
    );
    assert_eq!(ok(&mut c, &["EXISTS", "k"]), Value::Int(0));

    // An error while running (INCR of a non-number) is just that command's reply.
    let mut r = Raw::connect(server.addr);
    r.cmd(&["SET", "s", "text"]);
    r.cmd(&["MULTI"]);
    r.cmd(&["INCR", "s"]);
    r.cmd(&["SET", "after", "yes"]);
    assert_eq!(
        r.cmd(&["EXEC"]),
        Resp::Array(vec![
            Resp::Error("ERR value is not an integer or out of range".into()),
            Resp::Simple("OK".into()),
        ])
    );
    assert_eq!(
        ok(&mut c, &["GET", "after"]),
        Value::BulkString(b"yes".to_vec())
    );

    // SHUTDOWN may not be queued.
    ok(&mut c, &["MULTI"]);
    assert_eq!(
        err(&mut c, &["SHUTDOWN"]),
        "ERR Command not allowed inside a transaction"
    );
    assert_eq!(
        err(&mut c, &["EXEC"]),
        "EXECABORT Transaction discarded because of previous errors."
    );
}

#[test]
fn control_command_errors() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    assert_eq!(err(&mut c, &["EXEC"]), "ERR EXEC without MULTI");
    let stats: String = cmd("INFO").arg("commandstats").query(&mut c).unwrap();
    let exec_line = stats
        .lines()
        .find(|l| l.starts_with("cmdstat_exec:"))
        .expect("exec in commandstats");
    assert!(
        exec_line.starts_with("cmdstat_exec:calls=1,"),
        "{exec_line}"
    );
    assert!(
        exec_line.trim_end().ends_with("failed_calls=1"),
        "{exec_line}"
    );
    assert_eq!(err(&mut c, &["DISCARD"]), "ERR DISCARD without MULTI");
    ok(&mut c, &["MULTI"]);
    assert_eq!(err(&mut c, &["MULTI"]), "ERR MULTI calls can not be nested");
    assert_eq!(
        err(&mut c, &["WATCH", "x"]),
        "ERR WATCH inside MULTI is not allowed"
    );
    ok(&mut c, &["SET", "x", "1"]);
    // Neither error aborted the transaction.
    assert_eq!(ok(&mut c, &["EXEC"]), Value::Array(vec![Value::Okay]));
    ok(&mut c, &["MULTI"]);
    ok(&mut c, &["SET", "x", "2"]);
    assert_eq!(ok(&mut c, &["DISCARD"]), Value::Okay);
    assert_eq!(ok(&mut c, &["GET", "x"]), Value::BulkString(b"1".to_vec()));
    // RESET leaves a transaction too.
    ok(&mut c, &["MULTI"]);
    ok(&mut c, &["SET", "x", "3"]);
    assert_eq!(ok(&mut c, &["RESET"]), status("RESET"));
    assert_eq!(err(&mut c, &["EXEC"]), "ERR EXEC without MULTI");
    assert_eq!(ok(&mut c, &["GET", "x"]), Value::BulkString(b"1".to_vec()));
}

/// Runs `MULTI; SET <key> done; EXEC` on `c` and says whether it ran.
fn exec_ran(c: &mut redis::Connection, key: &str) -> bool {
    ok(c, &["MULTI"]);
    ok(c, &["SET", key, "done"]);
    match ok(c, &["EXEC"]) {
        Value::Nil => false,
        Value::Array(r) => {
            assert_eq!(r, vec![Value::Okay]);
            true
        }
        other => panic!("unexpected EXEC reply {other:?}"),
    }
}

#[test]
fn watch_sees_other_clients_writes_expiry_and_flush() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let mut other = server.client();

    // Untouched: runs.
    ok(&mut c, &["SET", "w", "1"]);
    ok(&mut c, &["WATCH", "w"]);
    assert!(exec_ran(&mut c, "r1"));

    // Written by another client (even with the same value): does not run.
    ok(&mut c, &["WATCH", "w"]);
    ok(&mut other, &["SET", "w", "1"]);
    assert!(!exec_ran(&mut c, "r2"));
    assert_eq!(ok(&mut c, &["EXISTS", "r2"]), Value::Int(0));

    // A missing key created by another client.
    ok(&mut c, &["WATCH", "missing"]);
    ok(&mut other, &["SET", "missing", "now"]);
    assert!(!exec_ran(&mut c, "r3"));

    // Deleted, expired, flushed.
    ok(&mut c, &["WATCH", "w"]);
    ok(&mut other, &["DEL", "w"]);
    assert!(!exec_ran(&mut c, "r4"));
    ok(&mut c, &["SET", "ttl", "1", "PX", "50"]);
    ok(&mut c, &["WATCH", "ttl"]);
    std::thread::sleep(std::time::Duration::from_millis(120));
    assert!(!exec_ran(&mut c, "r5"));
    ok(&mut c, &["SET", "f", "1"]);
    ok(&mut c, &["WATCH", "f"]);
    ok(&mut other, &["FLUSHDB"]);
    assert!(!exec_ran(&mut c, "r6"));

    // A failed EXEC, UNWATCH and DISCARD all forget the watched keys.
    ok(&mut c, &["SET", "w", "1"]);
    ok(&mut c, &["WATCH", "w"]);
    ok(&mut other, &["SET", "w", "2"]);
    ok(&mut c, &["UNWATCH"]);
    assert!(exec_ran(&mut c, "r7"));
    ok(&mut c, &["WATCH", "w"]);
    ok(&mut c, &["MULTI"]);
    ok(&mut c, &["DISCARD"]);
    ok(&mut other, &["SET", "w", "3"]);
    assert!(exec_ran(&mut c, "r8"));
}

/// A key missing at WATCH and missing again at EXEC: Redis aborts when it was created in
/// between (a write touched it), not when nothing or only other keys were written.
#[test]
fn watch_sees_a_missing_key_created_and_deleted() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let mut other = server.client();

    ok(&mut c, &["WATCH", "ghost"]);
    ok(&mut other, &["SET", "ghost", "1"]);
    ok(&mut other, &["DEL", "ghost"]);
    assert!(!exec_ran(&mut c, "r1"));

    // Created with a TTL that ran out before EXEC.
    ok(&mut c, &["WATCH", "ghost"]);
    ok(&mut other, &["SET", "ghost", "1", "PX", "20"]);
    std::thread::sleep(std::time::Duration::from_millis(60));
    assert_eq!(ok(&mut c, &["EXISTS", "ghost"]), Value::Int(0));
    assert!(!exec_ran(&mut c, "r2"));

    // Other keys (the same hash slot included) created and deleted: the transaction runs.
    ok(&mut c, &["WATCH", "{g}ghost", "ghost"]);
    ok(&mut other, &["SET", "{g}other", "1"]);
    ok(&mut other, &["DEL", "{g}other"]);
    ok(&mut other, &["DEL", "ghost"]);
    assert!(exec_ran(&mut c, "r3"));

    // Two clients watching the same missing key: each sees the creation, and one client's
    // UNWATCH does not release the other's watch.
    let mut third = server.client();
    ok(&mut c, &["WATCH", "shared"]);
    ok(&mut third, &["WATCH", "shared"]);
    ok(&mut third, &["UNWATCH"]);
    ok(&mut other, &["SET", "shared", "1"]);
    ok(&mut other, &["DEL", "shared"]);
    assert!(!exec_ran(&mut c, "r4"));
    assert!(exec_ran(&mut third, "r5"));

    // A stale key (expired, not yet removed) deleted after WATCH does not fail EXEC (Redis's
    // "Delete WATCHed stale keys should not fail EXEC").
    ok(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    ok(&mut c, &["SET", "stale", "1", "PX", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(20));
    ok(&mut c, &["WATCH", "stale"]);
    ok(&mut other, &["DEL", "stale"]);
    assert!(exec_ran(&mut c, "r6"));
}

/// A transaction writes two keys in different shards; a reader that fetches both in one MGET
/// must never see one written and the other not.
#[test]
fn no_client_sees_half_a_transaction() {
    let server = TestServer::start(&[]);
    let (a, b) = ("{a}x", "{b}y");
    let mut writer = server.client();
    ok(&mut writer, &["MSET", a, "0", b, "0"]);
    let url = server.url();
    let reader = std::thread::spawn(move || {
        let mut r = redis::Client::open(url).unwrap().get_connection().unwrap();
        let mut seen = 0;
        for _ in 0..2000 {
            let (x, y): (i64, i64) = cmd("MGET").arg(a).arg(b).query(&mut r).unwrap();
            assert_eq!(x, y, "saw half of a transaction");
            seen = seen.max(x);
        }
        seen
    });
    for i in 1..=2000 {
        ok(&mut writer, &["MULTI"]);
        ok(&mut writer, &["SET", a, &i.to_string()]);
        ok(&mut writer, &["SET", b, &i.to_string()]);
        ok(&mut writer, &["EXEC"]);
    }
    let seen = reader.join().unwrap();
    assert!(seen >= 0);
}

#[test]
fn transactions_in_resp3() {
    let server = TestServer::start(&[]);
    let mut c = server.client_resp3();
    ok(&mut c, &["MULTI"]);
    ok(&mut c, &["SET", "k", "v"]);
    ok(&mut c, &["GET", "k"]);
    assert_eq!(
        ok(&mut c, &["EXEC"]),
        Value::Array(vec![Value::Okay, Value::BulkString(b"v".to_vec())])
    );
    ok(&mut c, &["WATCH", "k"]);
    let mut other = server.client();
    ok(&mut other, &["SET", "k", "changed"]);
    ok(&mut c, &["MULTI"]);
    ok(&mut c, &["GET", "k"]);
    assert_eq!(ok(&mut c, &["EXEC"]), Value::Nil);
}

/// CLIENT LIST shows a client in MULTI with flag `x` and its queued command count.
#[test]
fn client_list_shows_multi_state() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let mut other = server.client();
    let field = |other: &mut redis::Connection, name: &str| -> Vec<String> {
        let list: String = redis::cmd("CLIENT").arg("LIST").query(other).unwrap();
        list.lines()
            .filter(|l| !l.contains("cmd=client|list"))
            .filter_map(|l| {
                l.split(' ')
                    .find_map(|kv| kv.strip_prefix(&format!("{name}=")).map(String::from))
            })
            .collect()
    };
    assert_eq!(field(&mut other, "multi"), ["-1"]);
    ok(&mut c, &["MULTI"]);
    assert_eq!(field(&mut other, "multi"), ["0"]);
    assert_eq!(field(&mut other, "flags"), ["x"]);
    ok(&mut c, &["SET", "a", "1"]);
    ok(&mut c, &["GET", "a"]);
    assert_eq!(field(&mut other, "multi"), ["2"]);
    ok(&mut c, &["EXEC"]);
    assert_eq!(field(&mut other, "multi"), ["-1"]);
    assert_eq!(field(&mut other, "flags"), ["N"]);
}
