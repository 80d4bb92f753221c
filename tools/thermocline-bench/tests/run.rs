//! `thermocline-bench run` against a real thermocline-server started here on a loopback port:
//! the report is produced and well formed, the requests asked for are made and checked, and a
//! server whose values are not the ones the bench wrote makes it fail. Nothing here looks at
//! speed.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A thermocline-server on a free loopback port, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server binary: `cargo test --workspace` builds it into the same directory as this
/// package's binary.
fn server_binary() -> PathBuf {
    let bench = PathBuf::from(env!("CARGO_BIN_EXE_thermocline-bench"));
    let server = bench.with_file_name("thermocline-server");
    assert!(
        server.exists(),
        "{} not found: build it first (cargo build, or run the whole workspace's tests)",
        server.display()
    );
    server
}

/// Starts the server on a port it picks itself (`--port 0`) and reads the address it says it
/// listens on: no window in which another test could take the port.
fn start_server() -> Server {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(server_binary())
        .args(["--bind", "127.0.0.1", "--port", "0", "--dir"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let marker = "Ready to accept connections tcp on ";
        let mut tx = Some(tx);
        // Reads to the end, so that the server never blocks on a full pipe.
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if let (Some(at), Some(tx)) = (line.find(marker), tx.as_ref()) {
                let _ = tx.send(line[at + marker.len()..].trim().to_string());
            }
            if line.contains(marker) {
                tx.take();
            }
        }
    });
    let addr: std::net::SocketAddr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the server did not start")
        .parse()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(
            Instant::now() < deadline,
            "the server does not accept connections"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Server {
        child,
        port: addr.port(),
        _dir: dir,
    }
}

fn bench(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_thermocline-bench"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_run_reports_every_request_it_made_and_checks_replies() {
    let server = start_server();
    let target = format!("127.0.0.1:{}", server.port);
    let (code, out, err) = bench(&[
        "run",
        "--target",
        &target,
        "--load",
        "--keys",
        "2000",
        "--requests",
        "3000",
        "--warmup",
        "0",
        "--connections",
        "4",
        "--pipeline",
        "8",
        "--mix",
        "get=5,set=1,mget=1,hget=1,zscore=1,incr=1",
        "--value-size",
        "10-500",
        "--verify",
        "1",
        "--distribution",
        "zipfian:0.9",
        "--json",
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    let reports: serde_json::Value = serde_json::from_str(&out).expect("JSON on stdout");
    let r = &reports[0];
    assert_eq!(r["target"], target.as_str());
    assert_eq!(r["total"]["requests"], 3000);
    let by_command: u64 = r["commands"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(by_command, 3000);
    for command in ["get", "set", "mget", "hget", "zscore", "incr"] {
        let c = &r["commands"][command];
        assert!(c["requests"].as_u64().unwrap() > 0, "{command}");
        let p50 = c["p50_us"].as_u64().unwrap();
        assert!(
            p50 >= 1 && p50 <= c["p99_us"].as_u64().unwrap(),
            "{command}"
        );
        assert!(c["p99_us"].as_u64().unwrap() <= c["max_us"].as_u64().unwrap());
    }
    // Every read was checked (--verify 1) and found right.
    assert!(r["verified"].as_u64().unwrap() > 1000, "{r}");
    assert_eq!(
        (
            r["wrong"].as_u64(),
            r["missing"].as_u64(),
            r["errors"].as_u64()
        ),
        (Some(0), Some(0), Some(0))
    );
    assert_eq!(r["workload"]["distribution"], "zipfian:0.9");
    assert_eq!(
        r["workload"]["mix"],
        "get=5,set=1,mget=1,hget=1,zscore=1,incr=1"
    );

    // The table form, with an open-loop run.
    let (code, out, err) = bench(&[
        "run",
        "--target",
        &target,
        "--rate",
        "2000",
        "--duration",
        "1",
        "--warmup",
        "0",
        "--connections",
        "2",
        "--keys",
        "2000",
        "--value-size",
        "10-500",
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("loop=open at 2000 req/s"), "{out}");
    let all = out
        .lines()
        .find(|l| l.contains(" all "))
        .unwrap_or_else(|| panic!("{out}"));
    let requests: u64 = all.split_whitespace().nth(2).unwrap().parse().unwrap();
    // An open loop sends on its schedule: 2,000 a second for a second.
    assert!((1900..=2000).contains(&requests), "{all}");
}

/// Values that are not the ones the bench would have written (another value size) are caught:
/// the run fails and says so.
#[test]
fn a_server_with_wrong_values_fails_the_run() {
    let server = start_server();
    let target = format!("127.0.0.1:{}", server.port);
    let (code, ..) = bench(&[
        "run",
        "--target",
        &target,
        "--load",
        "--keys",
        "500",
        "--requests",
        "10",
        "--warmup",
        "0",
        "--value-size",
        "100",
    ]);
    assert_eq!(code, Some(0));
    let (code, out, err) = bench(&[
        "run",
        "--target",
        &target,
        "--keys",
        "500",
        "--requests",
        "500",
        "--warmup",
        "0",
        "--value-size",
        "101",
        "--verify",
        "1",
    ]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("0 replies checked right, 500 wrong"), "{out}");
    assert!(err.contains("some replies were wrong"), "{err}");
}
