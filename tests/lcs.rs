//! LCS against the real server: the plain, LEN and IDX forms (with MINMATCHLEN and WITHMATCHLEN)
//! in RESP2 and RESP3, missing keys, and Redis 7.2's error texts. The expected ranges are the
//! ones Redis 7.2 returns for its documented `ohmytext` / `mynewtext` example.

mod common;
mod raw;

use common::TestServer;
use raw::Raw;

#[test]
fn lcs_forms_and_errors() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    c.cmd(&["MSET", "key1{t}", "ohmytext", "key2{t}", "mynewtext"]);
    assert_eq!(c.cmd(&["LCS", "key1{t}", "key2{t}"]).text(), "mytext");
    assert_eq!(c.cmd(&["LCS", "key1{t}", "key2{t}", "LEN"]).int(), 6);
    assert_eq!(
        c.cmd_wire(&["LCS", "key1{t}", "key2{t}", "IDX"]),
        "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n\
         *2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"
    );
    assert_eq!(
        c.cmd_wire(&[
            "LCS",
            "key1{t}",
            "key2{t}",
            "idx",
            "minmatchlen",
            "4",
            "withmatchlen"
        ]),
        "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n\
         $3\r\nlen\r\n:6\r\n"
    );
    // A missing key is an empty string; a negative MINMATCHLEN counts as 0.
    assert_eq!(c.cmd(&["LCS", "key1{t}", "nosuch{t}"]).text(), "");
    assert_eq!(
        c.cmd_wire(&["LCS", "nosuch{t}", "key2{t}", "IDX", "MINMATCHLEN", "-3"]),
        "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n"
    );
    assert_eq!(
        c.cmd(&["LCS", "key1{t}", "key2{t}", "LEN", "IDX"]).err(),
        "ERR If you want both the length and indexes, please just use IDX."
    );
    assert_eq!(
        c.cmd(&["LCS", "key1{t}", "key2{t}", "MINMATCHLEN"]).err(),
        "ERR syntax error"
    );
    assert_eq!(
        c.cmd(&["LCS", "key1{t}", "key2{t}", "MINMATCHLEN", "x"])
            .err(),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        c.cmd(&["LCS", "key1{t}"]).err(),
        "ERR wrong number of arguments for 'lcs' command"
    );
    // RESP3: IDX answers with a map.
    c.cmd(&["HELLO", "3"]);
    assert_eq!(
        c.cmd_wire(&["LCS", "key1{t}", "key2{t}", "IDX", "MINMATCHLEN", "4"]),
        "%2\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n\
         $3\r\nlen\r\n:6\r\n"
    );
}
