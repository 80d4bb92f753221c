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
