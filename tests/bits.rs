//! Bitmap commands against the real server: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and
//! BITFIELD_RO, with their replies and Redis's exact error texts.

mod common;

use common::TestServer;
use redis::{Connection, Value};

/// Runs a command and returns its reply.
fn q(c: &mut Connection, args: &[&[u8]]) -> Value {
    let mut cmd = redis::cmd(std::str::from_utf8(args[0]).unwrap());
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c).unwrap()
}

/// Runs a command given as words and returns its reply.
fn r(c: &mut Connection, line: &str) -> Value {
    let words: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
    q(c, &words)
}

fn int(c: &mut Connection, line: &str) -> i64 {
    match r(c, line) {
        Value::Int(n) => n,
        other => panic!("{line}: expected an integer, got {other:?}"),
    }
}

/// Runs a command that must fail and returns the error text (`ERR ...`).
fn err(c: &mut Connection, line: &str) -> String {
    let mut cmd = redis::cmd(line.split(' ').next().unwrap());
    for w in line.split(' ').skip(1) {
        cmd.arg(w);
    }
    let e = cmd
        .query::<Value>(c)
        .expect_err(&format!("{line} should fail"));
    format!("{} {}", e.code().unwrap_or("?"), e.detail().unwrap_or(""))
}

fn get(c: &mut Connection, key: &str) -> Vec<u8> {
    match r(c, &format!("GET {key}")) {
        Value::BulkString(b) => b,
        Value::Nil => panic!("{key} is missing"),
        other => panic!("GET {key}: {other:?}"),
    }
}

fn ints(v: Value) -> Vec<Option<i64>> {
    match v {
        Value::Array(items) => items
            .into_iter()
            .map(|i| match i {
                Value::Int(n) => Some(n),
                Value::Nil => None,
                other => panic!("unexpected {other:?}"),
            })
            .collect(),
        other => panic!("expected an array, got {other:?}"),
    }
}

const OFFSET_ERR: &str = "ERR bit offset is not an integer or out of range";
const BIT_ERR: &str = "ERR bit is not an integer or out of range";
const TYPE_ERR: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
const SYNTAX: &str = "ERR syntax error";
const NOT_INT: &str = "ERR value is not an integer or out of range";

#[test]
fn setbit_and_getbit() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    assert_eq!(int(&mut c, "SETBIT k 7 1"), 0);
    assert_eq!(int(&mut c, "SETBIT k 7 1"), 1);
    assert_eq!(get(&mut c, "k"), b"\x01");
    assert_eq!(int(&mut c, "SETBIT k 16 1"), 0);
    assert_eq!(get(&mut c, "k"), b"\x01\x00\x80");
    assert_eq!(int(&mut c, "SETBIT k 7 0"), 1);
    assert_eq!(get(&mut c, "k"), b"\x00\x00\x80");
    assert_eq!(int(&mut c, "GETBIT k 16"), 1);
    assert_eq!(int(&mut c, "GETBIT k 15"), 0);
    assert_eq!(int(&mut c, "GETBIT k 100000"), 0);
    assert_eq!(int(&mut c, "GETBIT missing 0"), 0);

    // SETBIT keeps the TTL of an existing key.
    r(&mut c, "SET t a EX 100");
    int(&mut c, "SETBIT t 100 1");
    assert!(int(&mut c, "TTL t") > 0);

    // Errors: offset, value, limit, type.
    for bad in ["-1", "x", "1.5", "4294967296", "#1"] {
        assert_eq!(err(&mut c, &format!("SETBIT k {bad} 1")), OFFSET_ERR);
        assert_eq!(err(&mut c, &format!("GETBIT k {bad}")), OFFSET_ERR);
    }
    for bad in ["2", "-1", "x", ""] {
        assert_eq!(err(&mut c, &format!("SETBIT k 1 {bad}")), BIT_ERR);
    }
    assert_eq!(
        err(&mut c, "SETBIT k"),
        "ERR wrong number of arguments for 'setbit' command"
    );
    // The limit follows proto-max-bulk-len: offsets up to len*8-1.
    r(&mut c, "CONFIG SET proto-max-bulk-len 1048576");
    assert_eq!(err(&mut c, "SETBIT big 8388608 1"), OFFSET_ERR);
    assert_eq!(int(&mut c, "SETBIT big 8388607 1"), 0);
    assert_eq!(int(&mut c, "STRLEN big"), 1048576);
}

#[test]
fn bitcount() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    assert_eq!(int(&mut c, "BITCOUNT missing"), 0);
    // Redis 7.2 answers 0 for a missing key before looking at the range.
    assert_eq!(int(&mut c, "BITCOUNT missing 0"), 0);
    r(&mut c, "SET s foobar");
    assert_eq!(int(&mut c, "BITCOUNT s"), 26);
    assert_eq!(int(&mut c, "BITCOUNT s 0 0"), 4);
    assert_eq!(int(&mut c, "BITCOUNT s 1 1"), 6);
    assert_eq!(int(&mut c, "BITCOUNT s 1 -2"), 18);
    assert_eq!(int(&mut c, "BITCOUNT s -2 1"), 0);
    assert_eq!(int(&mut c, "BITCOUNT s 0 1000"), 26);
    assert_eq!(int(&mut c, "BITCOUNT s -6 -7"), 0);
    assert_eq!(int(&mut c, "BITCOUNT s 5 30 BIT"), 17);
    assert_eq!(int(&mut c, "BITCOUNT s 5 30 byte"), 4);
    assert_eq!(int(&mut c, "BITCOUNT s 0 -1 bit"), 26);
    assert_eq!(int(&mut c, "BITCOUNT s 10 -34 bit"), 4);
    assert_eq!(err(&mut c, "BITCOUNT s 0"), SYNTAX);
    assert_eq!(err(&mut c, "BITCOUNT s 0 1 hello"), SYNTAX);
    assert_eq!(err(&mut c, "BITCOUNT s 0 1 bit x"), SYNTAX);
    assert_eq!(err(&mut c, "BITCOUNT s a 1"), NOT_INT);
    assert_eq!(
        err(&mut c, "BITCOUNT"),
        "ERR wrong number of arguments for 'bitcount' command"
    );
}

#[test]
fn bitpos() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    assert_eq!(int(&mut c, "BITPOS missing 0"), 0);
    assert_eq!(int(&mut c, "BITPOS missing 1"), -1);
    q(&mut c, &[b"SET", b"s", b"\xff\xf0\x00"]);
    assert_eq!(int(&mut c, "BITPOS s 0"), 12);
    assert_eq!(int(&mut c, "BITPOS s 1 2"), -1);
    assert_eq!(int(&mut c, "BITPOS s 0 1 -1 bit"), 12);
    q(&mut c, &[b"SET", b"s", b"\xff\xff\xff"]);
    // No explicit end: the string is seen as padded with zeros.
    assert_eq!(int(&mut c, "BITPOS s 0"), 24);
    assert_eq!(int(&mut c, "BITPOS s 0 0"), 24);
    assert_eq!(int(&mut c, "BITPOS s 0 0 -1"), -1);
    assert_eq!(int(&mut c, "BITPOS s 0 0 -1 BIT"), -1);
    q(&mut c, &[b"SET", b"s", b"\x00\xff\x00"]);
    assert_eq!(int(&mut c, "BITPOS s 1 0 -1"), 8);
    assert_eq!(int(&mut c, "BITPOS s 0 8 -1 bit"), 16);
    assert_eq!(int(&mut c, "BITPOS s 1 8 8 bit"), 8);
    assert_eq!(int(&mut c, "BITPOS s 0 1 1"), -1);
    // An existing empty string holds no bit at all.
    q(&mut c, &[b"SET", b"empty", b""]);
    assert_eq!(int(&mut c, "BITPOS empty 0"), -1);
    assert_eq!(int(&mut c, "BITPOS empty 1"), -1);
    assert_eq!(
        err(&mut c, "BITPOS s 2"),
        "ERR The bit argument must be 1 or 0."
    );
    assert_eq!(err(&mut c, "BITPOS s x"), NOT_INT);
    assert_eq!(err(&mut c, "BITPOS s 1 0 1 foo"), SYNTAX);
    assert_eq!(err(&mut c, "BITPOS s 1 0 1 bit x"), SYNTAX);
    assert_eq!(err(&mut c, "BITPOS s 1 a"), NOT_INT);
}

#[test]
fn bitop() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    q(&mut c, &[b"SET", b"a", b"\x01\x02\xff\xff"]);
    q(&mut c, &[b"SET", b"b", b"\x01\x02\xff"]);
    assert_eq!(int(&mut c, "BITOP AND r a b"), 4);
    assert_eq!(get(&mut c, "r"), b"\x01\x02\xff\x00");
    assert_eq!(int(&mut c, "BITOP or r a b"), 4);
    assert_eq!(get(&mut c, "r"), b"\x01\x02\xff\xff");
    assert_eq!(int(&mut c, "BITOP XOR r a b missing"), 4);
    assert_eq!(get(&mut c, "r"), b"\x00\x00\x00\xff");
    assert_eq!(int(&mut c, "BITOP NOT r b"), 3);
    assert_eq!(get(&mut c, "r"), b"\xfe\xfd\x00");
    // Destination and source may be the same key.
    assert_eq!(int(&mut c, "BITOP NOT b b"), 3);
    assert_eq!(get(&mut c, "b"), b"\xfe\xfd\x00");
    // A long input exercises the word-at-a-time path.
    let long: Vec<u8> = (0..100u8).collect();
    q(&mut c, &[b"SET", b"l", &long]);
    assert_eq!(int(&mut c, "BITOP NOT r l"), 100);
    let inverted: Vec<u8> = long.iter().map(|b| !b).collect();
    assert_eq!(get(&mut c, "r"), inverted);
    // The destination loses its TTL; an empty result deletes it.
    r(&mut c, "SET d x EX 100");
    int(&mut c, "BITOP OR d a");
    assert_eq!(int(&mut c, "TTL d"), -1);
    assert_eq!(int(&mut c, "BITOP AND d missing other"), 0);
    assert_eq!(int(&mut c, "EXISTS d"), 0);

    assert_eq!(err(&mut c, "BITOP NAND r a b"), SYNTAX);
    assert_eq!(
        err(&mut c, "BITOP NOT r a b"),
        "ERR BITOP NOT must be called with a single source key."
    );
    assert_eq!(
        err(&mut c, "BITOP AND r"),
        "ERR wrong number of arguments for 'bitop' command"
    );
}

#[test]
fn bitfield() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    assert_eq!(ints(r(&mut c, "BITFIELD bits")), vec![]);
    assert_eq!(
        ints(r(
            &mut c,
            "BITFIELD bits SET i8 0 255 SET i8 0 100 GET i8 0"
        )),
        vec![Some(0), Some(-1), Some(100)]
    );
    assert_eq!(
        ints(r(
            &mut c,
            "BITFIELD bits SET u8 0 255 INCRBY u8 0 100 GET u8 0"
        )),
        vec![Some(100), Some(99), Some(99)]
    );
    r(&mut c, "DEL bits");
    r(
        &mut c,
        "BITFIELD bits SET u8 #0 65 SET u8 #1 66 SET u8 #2 67",
    );
    assert_eq!(get(&mut c, "bits"), b"ABC");
    assert_eq!(
        ints(r(&mut c, "BITFIELD bits GET u8 #1 GET i4 0 GET u16 20")),
        vec![Some(66), Some(4), Some(0x3000)]
    );

    // Overflow policies.
    r(&mut c, "BITFIELD o SET u8 0 100");
    assert_eq!(
        ints(r(&mut c, "BITFIELD o OVERFLOW WRAP INCRBY u8 0 257")),
        vec![Some(101)]
    );
    assert_eq!(
        ints(r(&mut c, "BITFIELD o OVERFLOW SAT INCRBY u8 0 257")),
        vec![Some(255)]
    );
    assert_eq!(
        ints(r(&mut c, "BITFIELD o OVERFLOW sat INCRBY i8 0 -300")),
        vec![Some(-128)]
    );
    assert_eq!(
        ints(r(
            &mut c,
            "BITFIELD o OVERFLOW FAIL INCRBY u8 0 -1 GET u8 0"
        )),
        vec![Some(127), Some(127)]
    );
    assert_eq!(
        ints(r(
            &mut c,
            "BITFIELD o OVERFLOW FAIL INCRBY u8 0 200 GET u8 0"
        )),
        vec![None, Some(127)]
    );
    assert_eq!(
        ints(r(
            &mut c,
            "BITFIELD o SET i64 8 -9223372036854775808 GET i64 8"
        )),
        vec![Some(0), Some(i64::MIN)]
    );
    // A write op grows the string even when it then fails on overflow.
    assert_eq!(
        ints(r(&mut c, "BITFIELD f OVERFLOW FAIL SET u8 0 1000")),
        vec![None]
    );
    assert_eq!(int(&mut c, "STRLEN f"), 1);
    // Reads never create the key.
    assert_eq!(ints(r(&mut c, "BITFIELD g GET u8 0")), vec![Some(0)]);
    assert_eq!(int(&mut c, "EXISTS g"), 0);

    for bad in ["u64", "i65", "i0", "x8", "I8", "u"] {
        assert_eq!(err(&mut c, &format!("BITFIELD k GET {bad} 0")), TYPE_ERR);
    }
    assert_eq!(err(&mut c, "BITFIELD k GET u8 -1"), OFFSET_ERR);
    assert_eq!(err(&mut c, "BITFIELD k GET u8 #-1"), OFFSET_ERR);
    assert_eq!(err(&mut c, "BITFIELD k GET u8 4294967296"), OFFSET_ERR);
    assert_eq!(err(&mut c, "BITFIELD k SET u8 0 x"), NOT_INT);
    assert_eq!(err(&mut c, "BITFIELD k GET u8"), SYNTAX);
    assert_eq!(err(&mut c, "BITFIELD k FOO u8 0"), SYNTAX);
    assert_eq!(
        err(&mut c, "BITFIELD k OVERFLOW BAD GET u8 0"),
        "ERR Invalid OVERFLOW type specified"
    );
}

#[test]
fn bitfield_ro() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    assert_eq!(ints(r(&mut c, "BITFIELD_RO bits")), vec![]);
    r(&mut c, "SET bits A");
    assert_eq!(
        ints(r(&mut c, "BITFIELD_RO bits GET u8 0 GET i4 #1")),
        vec![Some(65), Some(1)]
    );
    let ro_err = "ERR BITFIELD_RO only supports the GET subcommand";
    assert_eq!(
        err(&mut c, "BITFIELD_RO bits SET u8 0 100 GET u8 0"),
        ro_err
    );
    assert_eq!(err(&mut c, "BITFIELD_RO bits INCRBY u8 0 1"), ro_err);
    // Argument errors come first.
    assert_eq!(err(&mut c, "BITFIELD_RO bits SET u64 0 1"), TYPE_ERR);
    assert_eq!(get(&mut c, "bits"), b"A");
}
