//! Smoke test: the binary starts, answers PING over a real client, and stops on SHUTDOWN.

mod common;

use common::TestServer;

#[test]
fn ping_set_get_shutdown() {
    let mut server = TestServer::start(&[]);
    let mut c = server.client();
    let pong: String = redis::cmd("PING").query(&mut c).unwrap();
    assert_eq!(pong, "PONG");
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    let v: String = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    assert_eq!(v, "v");
    let _ = redis::cmd("SHUTDOWN").query::<()>(&mut c);
    assert_eq!(
        server.wait_exit(std::time::Duration::from_secs(10)),
        Some(0)
    );
}

/// Connections are spread over several I/O threads, each with its own event loop; all of them
/// see one keyspace.
#[test]
fn several_io_threads_share_one_keyspace() {
    let server = TestServer::start(&["--io-threads", "3"]);
    let mut clients: Vec<redis::Connection> = (0..6).map(|_| server.client()).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        let _: () = redis::cmd("SET")
            .arg(format!("k{i}"))
            .arg(i)
            .query(c)
            .unwrap();
    }
    // Every connection reads every other connection's write.
    for c in clients.iter_mut() {
        for i in 0..6 {
            let v: usize = redis::cmd("GET").arg(format!("k{i}")).query(c).unwrap();
            assert_eq!(v, i);
        }
    }
    let threads: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("io-threads")
        .query(&mut clients[0])
        .unwrap();
    assert_eq!(threads, vec!["io-threads".to_string(), "3".to_string()]);
}
