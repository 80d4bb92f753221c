//! Helpers shared by the string, key and expiry integration tests: run a command and get its
//! reply or its full error text, read INFO fields, and poll with a deadline.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use redis::{Connection, FromRedisValue, Value};

/// Builds a command from its words.
pub fn cmd(args: &[&str]) -> redis::Cmd {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c
}

/// Runs a command that must succeed and converts its reply.
#[track_caller]
pub fn q<T: FromRedisValue>(c: &mut Connection, args: &[&str]) -> T {
    match cmd(args).query(c) {
        Ok(v) => v,
        Err(e) => panic!("{args:?} failed: {e}"),
    }
}

/// Runs a command that must succeed and returns its raw reply.
#[track_caller]
pub fn raw(c: &mut Connection, args: &[&str]) -> Value {
    q(c, args)
}

/// The full text of a server error (`ERR syntax error`), as Redis sends it after the `-`.
pub fn error_text(e: &redis::RedisError) -> String {
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => format!("{code} {detail}"),
        (Some(code), None) => code.to_string(),
        _ => panic!("not a server error: {e:?}"),
    }
}

/// Runs a command that must fail and returns the full error text.
#[track_caller]
pub fn err(c: &mut Connection, args: &[&str]) -> String {
    match cmd(args).query::<Value>(c) {
        Ok(v) => panic!("{args:?} succeeded with {v:?}, expected an error"),
        Err(e) => error_text(&e),
    }
}

/// `ERR wrong number of arguments for '<name>' command`.
pub fn arity(name: &str) -> String {
    format!("ERR wrong number of arguments for '{name}' command")
}

/// A field of INFO (`info_field(c, "stats", "expired_keys")`).
#[track_caller]
pub fn info_field(c: &mut Connection, section: &str, field: &str) -> String {
    let text: String = q(c, &["INFO", section]);
    let prefix = format!("{field}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("INFO {section} has no {field}: {text}"))
        .trim()
        .to_string()
}

/// INFO stats expired_keys.
pub fn expired_keys(c: &mut Connection) -> u64 {
    info_field(c, "stats", "expired_keys")
        .parse()
        .expect("expired_keys is a number")
}

/// Polls `f` every 10 ms until it is true; false if `limit` passes first.
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Milliseconds since the Unix epoch on this machine (the server runs on the same clock).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Both protocol flavours of a connection to the same server, for tests that run in each.
pub fn both(server: &super::common::TestServer) -> [(&'static str, Connection); 2] {
    [("RESP2", server.client()), ("RESP3", server.client_resp3())]
}
