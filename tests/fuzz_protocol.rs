//! Property tests and a regression corpus for the request parser and the dispatcher.
//!
//! - Arbitrary bytes fed to `RequestParser` in random chunks never panic and give exactly the
//!   result of feeding them whole.
//! - Valid requests, encoded as RESP multibulk or as quoted inline commands, round-trip.
//! - Random batches of commands built from the command table, with random and garbage arguments,
//!   never crash a live in-process server nor panic any of its tasks: after each batch a fresh
//!   connection still gets `PONG`.
//! - Every file in `tests/corpus/` is replayed against the parser and against live servers.
//!
//! Runs are small by default so that the suite stays fast. Heavier runs:
//! `PROPTEST_CASES=5000 cargo test --release --test fuzz_protocol`. A failing case is shrunk by
//! proptest; save the shrunk bytes as a new `tests/corpus/*.resp` file.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use thermocline::cmd::{flags, CommandTable};
use thermocline::config::{Config, OPTIONS};
use thermocline::protocol::{Limits, ProtocolError, RequestParser};

const OPEN: Limits = Limits {
    max_bulk_len: 512 * 1024 * 1024,
    authenticated: true,
};

const UNAUTH: Limits = Limits {
    max_bulk_len: 512 * 1024 * 1024,
    authenticated: false,
};

/// `PROPTEST_CASES` when set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn proptest_config(default_cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: cases(default_cases),
        // Failures are saved by hand into tests/corpus/ instead.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

/// Everything the parser produced from an input.
#[derive(Debug, PartialEq)]
struct Outcome {
    requests: Vec<Vec<Vec<u8>>>,
    error: Option<ProtocolError>,
    /// Unconsumed bytes and whether a request was half read (only compared without an error:
    /// after an error the chunked run has not even seen the rest of the input).
    rest: Option<(Vec<u8>, bool)>,
}

/// Feeds `input` to a fresh parser, cut at `cuts`, parsing after every chunk as the server does.
fn parse_in_chunks(input: &[u8], cuts: &[usize], limits: Limits) -> Outcome {
    let mut parser = RequestParser::new();
    let mut buf = BytesMut::new();
    let mut requests = Vec::new();
    let mut start = 0;
    let ends = cuts
        .iter()
        .copied()
        .filter(|&c| c <= input.len())
        .chain([input.len()]);
    for end in ends {
        if end < start {
            continue;
        }
        buf.extend_from_slice(&input[start..end]);
        start = end;
        loop {
            match parser.parse(&mut buf, limits) {
                Ok(Some(args)) => requests.push(args.iter().map(|a| a.to_vec()).collect()),
                Ok(None) => break,
                Err(e) => {
                    return Outcome {
                        requests,
                        error: Some(e),
                        rest: None,
                    }
                }
            }
        }
    }
    Outcome {
        requests,
        error: None,
        rest: Some((buf.to_vec(), parser.in_request())),
    }
}

fn parse_whole(input: &[u8], limits: Limits) -> Outcome {
    parse_in_chunks(input, &[], limits)
}

/// Sorted cut points inside an input of `len` bytes.
fn cut_points(len: usize, picks: &[Index]) -> Vec<usize> {
    let mut cuts: Vec<usize> = picks.iter().map(|i| i.index(len + 1)).collect();
    cuts.sort_unstable();
    cuts
}

/// Every byte in its own chunk.
fn byte_cuts(len: usize) -> Vec<usize> {
    (1..len).collect()
}

/// Encodes requests as RESP multibulk arrays.
fn encode_multibulk(requests: &[Vec<Vec<u8>>]) -> Vec<u8> {
    let mut out = Vec::new();
    for args in requests {
        out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

/// Encodes one request as an inline command: every argument double-quoted, bytes other than
/// letters and digits written as `\xHH`.
fn encode_inline(args: &[Vec<u8>], crlf: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.push(b'"');
        for &b in a {
            if b.is_ascii_alphanumeric() {
                out.push(b);
            } else {
                out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
            }
        }
        out.push(b'"');
    }
    out.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
    out
}

fn request_strategy() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..6)
}

fn requests_strategy() -> impl Strategy<Value = Vec<Vec<Vec<u8>>>> {
    prop::collection::vec(request_strategy(), 1..8)
}

/// Pieces that make RESP-looking noise more likely to reach deep parser states than uniform
/// random bytes would.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "*", "$", "\r\n", "\r", "\n", "\"", "'", "\\", "\\x", "\\x4", " ", "\t", "-1", "0",
            "-", "+", ":", "PING", "SET", "ECHO", "2147483648", "9223372036854775808", "\0",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        2 => (0i64..20).prop_map(|n| n.to_string().into_bytes()),
        1 => any::<i64>().prop_map(|n| n.to_string().into_bytes()),
        2 => "[A-Za-z]{1,6}".prop_map(String::into_bytes),
        2 => prop::collection::vec(any::<u8>(), 0..8),
    ]
}

/// Inputs for the parser: random bytes, RESP-looking noise, and valid requests with one byte
/// changed or the tail cut off.
fn messy_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        prop::collection::vec(fragment(), 0..64).prop_map(|f| f.concat()),
        (requests_strategy(), any::<Index>(), any::<u8>()).prop_map(|(reqs, at, byte)| {
            let mut bytes = encode_multibulk(&reqs);
            let i = at.index(bytes.len());
            bytes[i] = byte;
            bytes
        }),
        (requests_strategy(), any::<Index>()).prop_map(|(reqs, at)| {
            let mut bytes = encode_multibulk(&reqs);
            bytes.truncate(at.index(bytes.len()));
            bytes
        }),
    ]
}

proptest! {
    #![proptest_config(proptest_config(256))]

    #[test]
    fn chunking_never_changes_the_parse(
        input in messy_input(),
        picks in prop::collection::vec(any::<Index>(), 0..16),
        authenticated in any::<bool>(),
    ) {
        let limits = if authenticated { OPEN } else { UNAUTH };
        let whole = parse_whole(&input, limits);
        let chunked = parse_in_chunks(&input, &cut_points(input.len(), &picks), limits);
        prop_assert_eq!(&chunked, &whole);
        if input.len() <= 256 {
            prop_assert_eq!(&parse_in_chunks(&input, &byte_cuts(input.len()), limits), &whole);
        }
    }

    #[test]
    fn multibulk_requests_round_trip(
        requests in requests_strategy(),
        picks in prop::collection::vec(any::<Index>(), 0..16),
    ) {
        let bytes = encode_multibulk(&requests);
        let outcome = parse_in_chunks(&bytes, &cut_points(bytes.len(), &picks), OPEN);
        prop_assert_eq!(outcome, Outcome {
            requests,
            error: None,
            rest: Some((Vec::new(), false)),
        });
    }

    #[test]
    fn inline_requests_round_trip(
        requests in requests_strategy(),
        crlf in any::<bool>(),
        picks in prop::collection::vec(any::<Index>(), 0..16),
    ) {
        let bytes: Vec<u8> = requests.iter().flat_map(|r| encode_inline(r, crlf)).collect();
        let outcome = parse_in_chunks(&bytes, &cut_points(bytes.len(), &picks), OPEN);
        prop_assert_eq!(outcome, Outcome {
            requests,
            error: None,
            rest: Some((Vec::new(), false)),
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Live servers
// ---------------------------------------------------------------------------------------------

/// Panics anywhere in this test process, counted by a hook installed once; connection tasks of
/// the in-process server run here, so a handler that panics is caught even though tokio keeps
/// the server alive.
static PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            default(info);
        }));
    });
}

/// A server running on its own tokio runtime inside the test process.
struct InProcess {
    runtime: Option<tokio::runtime::Runtime>,
    handle: Option<thermocline::server::ServerHandle>,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl InProcess {
    fn start(options: &[(&str, &str)]) -> InProcess {
        count_panics();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::default();
        config.set("port", "0", false).unwrap();
        config.set("bind", "127.0.0.1", false).unwrap();
        config
            .set("dir", dir.path().to_str().expect("utf-8 temp path"), false)
            .unwrap();
        for (name, value) in options {
            config.set(name, value, false).unwrap();
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let handle = runtime
            .block_on(thermocline::server::start(config))
            .expect("server starts");
        let addr = handle.addr();
        InProcess {
            runtime: Some(runtime),
            handle: Some(handle),
            addr,
            _dir: dir,
        }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.server.shutdown();
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(2));
        }
    }
}

const REPLY_TIMEOUT: Duration = Duration::from_secs(20);

/// A fresh connection (authenticating first when `password` is given) sends PING and must get
/// PONG.
fn ping(addr: SocketAddr, password: Option<&str>) -> Result<(), String> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(REPLY_TIMEOUT)).unwrap();
    let mut request = Vec::new();
    let mut expected = Vec::new();
    if let Some(pw) = password {
        request = encode_multibulk(&[vec![b"AUTH".to_vec(), pw.as_bytes().to_vec()]]);
        expected.extend_from_slice(b"+OK\r\n");
    }
    request.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
    expected.extend_from_slice(b"+PONG\r\n");
    s.write_all(&request).map_err(|e| format!("write: {e}"))?;
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    while got.len() < expected.len() {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    if got == expected {
        Ok(())
    } else {
        Err(format!("PING answered {:?}", String::from_utf8_lossy(&got)))
    }
}

/// Writes `input` from another thread while reading replies here (so that large replies cannot
/// dead-lock the exchange), until `marker` shows up in the replies or the server closes the
/// connection. With `half_close` the write side is shut after the input, so the server sees EOF.
fn exchange(
    addr: SocketAddr,
    input: &[u8],
    marker: Option<&[u8]>,
    half_close: bool,
) -> Result<(), String> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut writer = s.try_clone().map_err(|e| format!("clone: {e}"))?;
    std::thread::scope(|scope| {
        scope.spawn(move || {
            // The server may close the connection part way (protocol error, QUIT): fine.
            let _ = writer.write_all(input);
            if half_close {
                let _ = writer.shutdown(Shutdown::Write);
            }
        });
        let deadline = Instant::now() + REPLY_TIMEOUT;
        let mut tail: Vec<u8> = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            if Instant::now() > deadline {
                let _ = s.shutdown(Shutdown::Both);
                return Err(format!(
                    "no end of replies within {REPLY_TIMEOUT:?}; last bytes: {:?}",
                    String::from_utf8_lossy(&tail)
                ));
            }
            match s.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => {
                    tail.extend_from_slice(&buf[..n]);
                    if let Some(m) = marker {
                        if tail.windows(m.len()).any(|w| w == m) {
                            let _ = s.shutdown(Shutdown::Both);
                            return Ok(());
                        }
                    }
                    let keep = marker.map_or(64, |m| m.len().max(64));
                    if tail.len() > keep {
                        tail.drain(..tail.len() - keep);
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                // A reset after a protocol error or CLIENT KILL also ends the exchange.
                Err(_) => return Ok(()),
            }
        }
    })
}

/// Commands the random batches leave out, because they stop or stall the server on purpose
/// rather than because they might misbehave.
fn allowed(args: &[Vec<u8>]) -> bool {
    let word = |i: usize| {
        args.get(i)
            .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
            .unwrap_or_default()
    };
    let name = word(0);
    if let Some(idx) = CommandTable::get().lookup(name.as_bytes()) {
        if CommandTable::get().spec(idx).has(flags::BLOCKING) {
            return false;
        }
    }
    match name.as_str() {
        "shutdown" => false,
        // Pauses every client for as long as it says.
        "client" => word(1) != "pause",
        // Could lock the test out (requirepass, maxclients, timeout) or let a later random
        // offset allocate without bound (proto-max-bulk-len, client-query-buffer-limit).
        "config" => {
            word(1) != "set"
                || !(2..args.len()).any(|i| {
                    matches!(
                        word(i).as_str(),
                        "requirepass"
                            | "maxclients"
                            | "timeout"
                            | "proto-max-bulk-len"
                            | "client-query-buffer-limit"
                    )
                })
        }
        // Redis's DEBUG subcommands that sleep, crash or fill memory by design.
        "debug" => !matches!(
            word(1).as_str(),
            "sleep"
                | "segfault"
                | "panic"
                | "assert"
                | "oom"
                | "restart"
                | "crash-and-recover"
                | "populate"
                | "reload"
                | "loadaof"
                | "pause-cron"
        ),
        _ => true,
    }
}

/// `[name]` for every command and `[container, sub]` for every subcommand, with its arity.
fn command_names() -> Vec<(Vec<String>, i32)> {
    let table = CommandTable::get();
    let mut names = Vec::new();
    for (_, spec) in table.top_level() {
        names.push((vec![spec.name.to_string()], spec.arity));
        for sub in spec.subcommands {
            names.push((vec![spec.name.to_string(), sub.name.to_string()], sub.arity));
        }
    }
    names
}

const KEYS: &[&str] = &["k", "k2", "{t}a", "{t}b", "counter", "", "k\r\nx", "ключ"];

const WORDS: &[&str] = &[
    "EX",
    "PX",
    "EXAT",
    "PXAT",
    "NX",
    "XX",
    "GT",
    "LT",
    "KEEPTTL",
    "GET",
    "PERSIST",
    "MATCH",
    "COUNT",
    "TYPE",
    "string",
    "REPLACE",
    "DB",
    "ABSTTL",
    "IDLETIME",
    "FREQ",
    "ASYNC",
    "SYNC",
    "NOSAVE",
    "SAVE",
    "FORCE",
    "ABORT",
    "ON",
    "OFF",
    "SKIP",
    "AUTH",
    "SETNAME",
    "default",
    "ID",
    "ADDR",
    "LADDR",
    "USER",
    "SKIPME",
    "MAXAGE",
    "yes",
    "no",
    "lib-name",
    "lib-ver",
    "DIGEST",
    "DIGEST-VALUE",
    "OBJECT",
    "SET-ACTIVE-EXPIRE",
    "LOG",
    "HELP",
    "LEN",
    "IDX",
    "BIT",
    "BYTE",
    "AND",
    "OR",
    "XOR",
    "NOT",
    "WITHSCORES",
    "LIMIT",
    "*",
    "?",
    "[a-",
    "[^",
    "\\",
    "*[*[*[*a",
    "everything",
    "all",
    "default",
    "server",
    "clients",
    "memory",
    "stats",
    "keyspace",
    "commandstats",
    "FILTERBY",
    "MODULE",
    "ACLCAT",
    "PATTERN",
];

const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "3",
    "15",
    "16",
    "100",
    "65536",
    "-0",
    "01",
    "+1",
    " 1",
    "1 ",
    "0x10",
    "1e3",
    "3.14",
    "-3.14",
    ".5",
    "5.",
    "inf",
    "-inf",
    "+inf",
    "nan",
    "1e308",
    "-1e308",
    "4294967296",
    "536870912",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "18446744073709551615",
    "99999999999999999999999",
];

fn arg_strategy() -> impl Strategy<Value = Vec<u8>> {
    let options: Vec<&'static str> = OPTIONS.iter().map(|o| o.name).collect();
    let names: Vec<String> = command_names()
        .into_iter()
        .map(|(n, _)| n[0].clone())
        .collect();
    prop_oneof![
        4 => prop::sample::select(KEYS).prop_map(|s| s.as_bytes().to_vec()),
        4 => prop::sample::select(WORDS).prop_map(|s| s.as_bytes().to_vec()),
        3 => prop::sample::select(NUMBERS).prop_map(|s| s.as_bytes().to_vec()),
        2 => (-5i64..100).prop_map(|n| n.to_string().into_bytes()),
        1 => any::<i64>().prop_map(|n| n.to_string().into_bytes()),
        1 => any::<f64>().prop_map(|f| f.to_string().into_bytes()),
        1 => prop::sample::select(options).prop_map(|s| s.as_bytes().to_vec()),
        1 => prop::sample::select(names).prop_map(String::into_bytes),
        2 => prop::collection::vec(any::<u8>(), 0..24),
        1 => (0usize..1024).prop_map(|n| vec![b'x'; n]),
    ]
}

/// One request of a batch and how it is sent.
#[derive(Debug, Clone)]
struct FuzzCommand {
    args: Vec<Vec<u8>>,
    inline: bool,
}

fn command_strategy() -> impl Strategy<Value = FuzzCommand> {
    let name = prop_oneof![
        19 => prop::sample::select(command_names()).prop_map(|(n, arity)| {
            (n.into_iter().map(String::into_bytes).collect::<Vec<_>>(), arity)
        }),
        1 => prop::collection::vec(any::<u8>(), 0..12).prop_map(|n| (vec![n], -1)),
    ];
    (
        name,
        prop::collection::vec(arg_strategy(), 8),
        any::<u8>(),
        any::<bool>(),
        0u8..8,
    )
        .prop_map(|((mut args, arity), extra, pick, upper, mode)| {
            // Mostly the argument count the command accepts, so that requests get past the arity
            // check into the handlers; sometimes any count.
            let fixed = args.len() as i32;
            let count = if pick % 4 != 0 {
                if arity > 0 {
                    arity - fixed
                } else {
                    -arity - fixed + (pick / 4 % 4) as i32
                }
            } else {
                (pick / 4 % 8) as i32
            };
            if upper {
                for a in args.iter_mut() {
                    a.make_ascii_uppercase();
                }
            }
            args.extend(extra.into_iter().take(count.max(0) as usize));
            if !allowed(&args) {
                args = vec![b"PING".to_vec()];
            }
            FuzzCommand {
                args,
                inline: mode == 0,
            }
        })
}

#[derive(Debug, Clone)]
struct Batch {
    commands: Vec<FuzzCommand>,
    /// Sent after the commands and the marker; may end the connection with a protocol error.
    trailing_garbage: Option<Vec<u8>>,
}

fn batch_strategy() -> impl Strategy<Value = Batch> {
    (
        prop::collection::vec(command_strategy(), 1..24),
        prop::option::weighted(0.25, messy_input()),
    )
        .prop_map(|(commands, trailing_garbage)| Batch {
            commands,
            trailing_garbage,
        })
}

fn encode_batch(batch: &Batch, marker: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for c in &batch.commands {
        if c.inline {
            out.extend_from_slice(&encode_inline(&c.args, true));
        } else {
            out.extend_from_slice(&encode_multibulk(std::slice::from_ref(&c.args)));
        }
    }
    // RESET leaves any mode a command may have put the connection in (CLIENT REPLY OFF, RESP3,
    // later MULTI or subscriptions), so that the marker always gets its reply.
    let tail = vec![
        vec![b"RESET".to_vec()],
        vec![b"PING".to_vec(), marker.as_bytes().to_vec()],
    ];
    out.extend_from_slice(&encode_multibulk(&tail));
    if let Some(garbage) = &batch.trailing_garbage {
        out.extend_from_slice(garbage);
    }
    out
}

fn check_alive(
    addr: SocketAddr,
    password: Option<&str>,
    panics_before: usize,
) -> Result<(), String> {
    ping(addr, password)?;
    let panics = PANICS.load(Ordering::SeqCst) - panics_before;
    if panics > 0 {
        return Err(format!(
            "{panics} panic(s) in the server (see the test's stderr)"
        ));
    }
    Ok(())
}

#[test]
fn random_command_batches_never_crash_the_server() {
    let server = InProcess::start(&[]);
    let panics_before = PANICS.load(Ordering::SeqCst);
    let batch_no = AtomicUsize::new(0);
    let mut runner = TestRunner::new(proptest_config(128));
    let result = runner.run(&batch_strategy(), |batch| {
        let n = batch_no.fetch_add(1, Ordering::Relaxed);
        let marker = format!("fuzz-batch-marker-{n}");
        let input = encode_batch(&batch, &marker);
        exchange(server.addr, &input, Some(marker.as_bytes()), false)
            .map_err(TestCaseError::fail)?;
        check_alive(server.addr, None, panics_before).map_err(TestCaseError::fail)?;
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Regression corpus
// ---------------------------------------------------------------------------------------------

/// The corpus files plus large inputs generated here rather than committed.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "resp"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&p).expect("read corpus file");
            (name, bytes)
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= 20,
        "the corpus in {} is missing",
        dir.display()
    );

    let big = 64 * 1024 + 10;
    let mut generated = vec![
        ("<inline line over 64 KiB>".to_string(), vec![b'a'; big]),
        ("<multibulk header over 64 KiB>".to_string(), {
            let mut v = b"*1".to_vec();
            v.extend(std::iter::repeat_n(b'1', big));
            v
        }),
        ("<bulk header over 64 KiB>".to_string(), {
            let mut v = b"*1\r\n$1".to_vec();
            v.extend(std::iter::repeat_n(b'1', big));
            v
        }),
        ("<inline of 100k empty quotes>".to_string(), {
            let mut v = b"ECHO".to_vec();
            v.extend(std::iter::repeat_n(&b" \"\""[..], 20_000).flatten());
            v.extend_from_slice(b"\r\n");
            v
        }),
        ("<1M arguments announced, 10k sent>".to_string(), {
            let mut v = b"*1000000\r\n".to_vec();
            v.extend(std::iter::repeat_n(&b"$1\r\na\r\n"[..], 10_000).flatten());
            v
        }),
    ];
    let mut many = Vec::new();
    for _ in 0..5_000 {
        many.extend_from_slice(b"*0\r\n\r\n");
    }
    many.extend_from_slice(b"PING\r\n");
    generated.push(("<many empty requests>".to_string(), many));
    files.extend(generated);
    files
}

#[test]
fn corpus_replays_against_parser_and_servers() {
    let corpus = corpus();
    for (name, bytes) in &corpus {
        for limits in [OPEN, UNAUTH] {
            let whole = parse_whole(bytes, limits);
            // The parser rescans an unterminated header line on every read, so keep the chunk
            // count of the 64 KiB inputs modest.
            let step = (bytes.len() / 64).max(7);
            let cuts: Vec<usize> = (1..bytes.len()).step_by(step).collect();
            assert_eq!(
                parse_in_chunks(bytes, &cuts, limits),
                whole,
                "{name}: chunked parse differs (authenticated: {})",
                limits.authenticated
            );
            if bytes.len() <= 4096 {
                assert_eq!(
                    parse_in_chunks(bytes, &byte_cuts(bytes.len()), limits),
                    whole,
                    "{name}: byte-at-a-time parse differs"
                );
            }
        }
    }

    let in_process = InProcess::start(&[]);
    let panics_before = PANICS.load(Ordering::SeqCst);
    let binary = common::TestServer::start(&[]);
    let protected = common::TestServer::start(&["--requirepass", "secret"]);
    let servers = [
        ("in-process", in_process.addr, None),
        ("binary", binary.addr, None),
        ("binary with requirepass", protected.addr, Some("secret")),
    ];
    for (name, bytes) in &corpus {
        for (which, addr, password) in servers {
            if let Err(e) = exchange(addr, bytes, None, true) {
                panic!("{name} against the {which} server: {e}");
            }
            if let Err(e) = check_alive(addr, password, panics_before) {
                panic!(
                    "{name} against the {which} server: {e}\nbinary log:\n{}",
                    binary.log()
                );
            }
        }
    }
}
