//! The ecosystem's own tools against the real server: redis-cli (commands, RESP3, mass insertion
//! with --pipe) and redis-benchmark. Both come from Debian's `redis-tools`, which
//! scripts/setup.sh installs; on a machine without them these tests say so and pass vacuously.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::TestServer;

fn tool(name: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("{name} is not installed (apt-get install redis-tools); skipping");
    }
    found
}

fn cli(server: &TestServer, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &server.port().to_string()])
        .args(args)
        .output()
        .expect("run redis-cli");
    assert!(
        out.status.success(),
        "redis-cli {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

#[test]
fn redis_cli_commands_and_replies() {
    if !tool("redis-cli") {
        return;
    }
    let server = TestServer::start(&[]);
    assert_eq!(cli(&server, &["ping"]), "PONG");
    assert_eq!(cli(&server, &["set", "greeting", "hello world"]), "OK");
    assert_eq!(cli(&server, &["get", "greeting"]), "hello world");
    assert_eq!(cli(&server, &["incrby", "n", "41"]), "41");
    assert_eq!(
        cli(&server, &["--no-raw", "mget", "greeting", "missing"]),
        "1) \"hello world\"\n2) (nil)"
    );
    assert_eq!(cli(&server, &["get", "missing"]), "");
    assert_eq!(
        cli(&server, &["nosuchcommand", "x"]),
        "ERR unknown command 'nosuchcommand', with args beginning with: 'x'"
    );
    // RESP3: a map reply printed by redis-cli -3.
    let hello = cli(&server, &["-3", "hello", "3"]);
    assert!(hello.contains("proto 3"), "{hello}");
    // INFO as redis-cli shows it: the server section with the fields tools read.
    let info = cli(&server, &["info", "server"]);
    assert!(info.contains("redis_version:7."), "{info}");
    assert!(
        info.contains(&format!("tcp_port:{}", server.port())),
        "{info}"
    );
}

#[test]
fn redis_cli_pipe_mass_insertion() {
    if !tool("redis-cli") {
        return;
    }
    let server = TestServer::start(&[]);
    let mut input = Vec::new();
    for i in 0..5000 {
        let (k, v) = (format!("key:{i}"), format!("value:{i}"));
        write!(
            input,
            "*3\r\n$3\r\nSET\r\n${}\r\n{k}\r\n${}\r\n{v}\r\n",
            k.len(),
            v.len()
        )
        .unwrap();
    }
    let mut child = Command::new("redis-cli")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &server.port().to_string(),
            "--pipe",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run redis-cli --pipe");
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("errors: 0, replies: 5000"), "{text}");
    assert_eq!(cli(&server, &["dbsize"]), "5000");
    assert_eq!(cli(&server, &["get", "key:4321"]), "value:4321");
}

#[test]
fn redis_benchmark_runs_clean() {
    if !tool("redis-benchmark") {
        return;
    }
    let server = TestServer::start(&[]);
    let out = Command::new("redis-benchmark")
        .args(["-h", "127.0.0.1", "-p", &server.port().to_string()])
        .args([
            "-t",
            "ping,set,get,incr,mset",
            "-n",
            "2000",
            "-c",
            "10",
            "-P",
            "4",
            "-r",
            "1000",
            "--csv",
        ])
        .output()
        .expect("run redis-benchmark");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("Could not fetch server CONFIG"),
        "{stderr}"
    );
    for test in [
        "PING_INLINE",
        "PING_MBULK",
        "SET",
        "GET",
        "INCR",
        "MSET (10 keys)",
    ] {
        assert!(
            stdout.contains(&format!("\"{test}\"")),
            "missing {test} in {stdout}"
        );
    }
    // The benchmark's writes really landed: it sets keys named key:__rand_int__.
    let mut c = server.client();
    let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert!(n > 0, "redis-benchmark wrote nothing");
    let errors: String = redis::cmd("INFO").arg("errorstats").query(&mut c).unwrap();
    assert!(
        !errors.contains("errorstat_"),
        "the benchmark caused errors: {errors}"
    );
}
