//! Helpers for tests of blocking commands: count blocked clients, and start a raw client that
//! sends a blocking command and returns once the server reports it blocked.
#![allow(dead_code)]

use std::time::Duration;

use redis::Connection;

use super::common::TestServer;
use super::kvhelp::{info_field, wait_until};
use super::raw::Raw;

pub fn blocked_clients(c: &mut Connection) -> i64 {
    info_field(c, "clients", "blocked_clients").parse().unwrap()
}

/// Waits until `n` clients are blocked.
#[track_caller]
pub fn wait_blocked(c: &mut Connection, n: i64) {
    assert!(
        wait_until(Duration::from_secs(10), || blocked_clients(c) == n),
        "expected {n} blocked clients, INFO says {}",
        blocked_clients(c)
    );
}

/// A raw client that sends `args` and blocks; returned once the server counts it blocked.
pub fn block(server: &TestServer, c: &mut Connection, args: &[&str]) -> Raw {
    let before = blocked_clients(c);
    let mut r = Raw::connect(server.addr);
    r.send_cmd(args);
    wait_blocked(c, before + 1);
    r
}
