//! HyperLogLog commands against the real server: PFADD/PFCOUNT/PFMERGE return values, unions,
//! WRONGTYPE on plain strings, HLLs as strings (TYPE, GET, STRLEN), and accuracy.

mod common;
mod kvhelp;

use common::TestServer;
use kvhelp::*;

const HLL_WRONGTYPE: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";

#[test]
fn pfadd_and_pfcount_return_values() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    assert_eq!(q::<i64>(c, &["PFADD", "h", "a", "b", "c"]), 1);
    assert_eq!(q::<i64>(c, &["PFADD", "h", "a", "b"]), 0);
    assert_eq!(q::<i64>(c, &["PFADD", "h"]), 0);
    assert_eq!(q::<i64>(c, &["PFCOUNT", "h"]), 3);
    assert_eq!(q::<i64>(c, &["PFADD", "h", "d"]), 1);
    assert_eq!(q::<i64>(c, &["PFCOUNT", "h"]), 4);
    // PFADD with no elements creates an empty HLL.
    assert_eq!(q::<i64>(c, &["PFADD", "empty"]), 1);
    assert_eq!(q::<i64>(c, &["EXISTS", "empty"]), 1);
    assert_eq!(q::<i64>(c, &["PFCOUNT", "empty"]), 0);
    assert_eq!(q::<i64>(c, &["PFCOUNT", "missing"]), 0);
    assert_eq!(q::<i64>(c, &["EXISTS", "missing"]), 0);
    // An HLL is a string.
    assert_eq!(q::<String>(c, &["TYPE", "h"]), "string");
    let bytes: Vec<u8> = q(c, &["GET", "h"]);
    assert_eq!(&bytes[..4], b"HYLL");
    assert_eq!(err(c, &["PFADD"]), arity("pfadd"));
    assert_eq!(err(c, &["PFCOUNT"]), arity("pfcount"));
    assert_eq!(err(c, &["PFMERGE"]), arity("pfmerge"));
}

#[test]
fn union_counts_and_pfmerge() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    let _: i64 = q(c, &["PFADD", "a", "1", "2", "3", "4"]);
    let _: i64 = q(c, &["PFADD", "b", "3", "4", "5", "6", "7"]);
    assert_eq!(q::<i64>(c, &["PFCOUNT", "a", "b"]), 7);
    assert_eq!(q::<i64>(c, &["PFCOUNT", "a", "b", "missing"]), 7);
    // PFCOUNT of several keys modifies none.
    assert_eq!(q::<i64>(c, &["PFCOUNT", "a"]), 4);
    assert_eq!(q::<i64>(c, &["PFCOUNT", "b"]), 5);
    assert_eq!(q::<i64>(c, &["EXISTS", "missing"]), 0);

    assert_eq!(q::<String>(c, &["PFMERGE", "u", "a", "b"]), "OK");
    assert_eq!(q::<i64>(c, &["PFCOUNT", "u"]), 7);
    // Merging into an existing HLL keeps its registers and its TTL.
    let _: i64 = q(c, &["PFADD", "d", "x", "y"]);
    let _: i64 = q(c, &["EXPIRE", "d", "100"]);
    assert_eq!(q::<String>(c, &["PFMERGE", "d", "a"]), "OK");
    assert_eq!(q::<i64>(c, &["PFCOUNT", "d"]), 6);
    assert!(q::<i64>(c, &["TTL", "d"]) > 0);
    // PFMERGE with only a missing destination creates an empty HLL.
    assert_eq!(q::<String>(c, &["PFMERGE", "new"]), "OK");
    assert_eq!(q::<i64>(c, &["PFCOUNT", "new"]), 0);
    assert_eq!(q::<String>(c, &["TYPE", "new"]), "string");
    // Missing sources are empty.
    assert_eq!(q::<String>(c, &["PFMERGE", "m", "nothing", "a"]), "OK");
    assert_eq!(q::<i64>(c, &["PFCOUNT", "m"]), 4);
}

#[test]
fn plain_strings_are_not_hyperloglogs() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    let _: () = q(c, &["SET", "s", "hello"]);
    let _: i64 = q(c, &["PFADD", "h", "a"]);
    assert_eq!(err(c, &["PFADD", "s", "a"]), HLL_WRONGTYPE);
    assert_eq!(err(c, &["PFCOUNT", "s"]), HLL_WRONGTYPE);
    assert_eq!(err(c, &["PFCOUNT", "h", "s"]), HLL_WRONGTYPE);
    assert_eq!(err(c, &["PFMERGE", "s", "h"]), HLL_WRONGTYPE);
    assert_eq!(err(c, &["PFMERGE", "h", "s"]), HLL_WRONGTYPE);
    assert_eq!(q::<String>(c, &["GET", "s"]), "hello");
    // A value with the magic but broken registers is corrupt.
    let _: () = q(c, &["SET", "bad", "HYLL\u{1}\0\0\0ab"]);
    assert!(err(c, &["PFCOUNT", "bad"]).starts_with("INVALIDOBJ"));
    // String commands work on HLLs; appending garbage breaks them.
    let _: i64 = q(c, &["APPEND", "h", "zz"]);
    assert!(err(c, &["PFCOUNT", "h"]).starts_with("INVALIDOBJ"));
}

#[test]
fn accuracy_and_small_size() {
    let server = TestServer::start(&[]);
    let c = &mut server.client();
    for k in 0..10 {
        let _: i64 = q(c, &["PFADD", "small", &format!("item:{k}")]);
    }
    let small: i64 = q(c, &["PFCOUNT", "small"]);
    assert!((small - 10).abs() <= 1, "small estimate {small}");
    let len: i64 = q(c, &["STRLEN", "small"]);
    assert!(len < 256, "10-element HLL takes {len} bytes");

    const N: usize = 100_000;
    const BATCH: usize = 1000;
    for start in (0..N).step_by(BATCH * 10) {
        let mut pipe = redis::pipe();
        for b in (start..(start + BATCH * 10).min(N)).step_by(BATCH) {
            let mut cmd = redis::cmd("PFADD");
            cmd.arg("big");
            for k in b..b + BATCH {
                cmd.arg(format!("element-{k}"));
            }
            pipe.add_command(cmd).ignore();
        }
        let _: () = pipe.query(c).expect("pipeline");
    }
    let est: i64 = q(c, &["PFCOUNT", "big"]);
    let error = (est as f64 - N as f64).abs() / N as f64;
    assert!(error < 0.02, "estimate {est} for {N} elements");
    let len: i64 = q(c, &["STRLEN", "big"]);
    assert_eq!(len, 8 + 12288, "dense size");
    // The union with the small one counts both.
    let both: i64 = q(c, &["PFCOUNT", "big", "small"]);
    assert!(((both - 100_010) as f64).abs() / 100_010.0 < 0.02);
    // Not a different type in disguise.
    assert_eq!(
        err(c, &["INCR", "big"]),
        "ERR value is not an integer or out of range"
    );
}
