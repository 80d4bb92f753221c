//! Redis 7 functions against the real server: FUNCTION LOAD (REPLACE) / LIST / DELETE / FLUSH /
//! DUMP / RESTORE / STATS / KILL, FCALL and FCALL_RO, redis.register_function's two forms and
//! flags, the load-time API, error texts, and a busy function killed with FUNCTION KILL.

mod common;
mod kvhelp;

use std::time::Duration;

use common::TestServer;
use kvhelp::*;
use redis::Value;

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

const LIB: &str = "#!lua name=mylib\n\
redis.register_function('setit', function(keys, args) return redis.call('set', keys[1], args[1]) end)\n\
redis.register_function{function_name='getit', callback=function(keys, args) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads a key'}\n";

#[test]
fn load_call_list_delete() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    assert_eq!(q::<String>(c, &["FUNCTION", "LOAD", LIB]), "mylib");
    assert_eq!(
        err(c, &["FUNCTION", "LOAD", LIB]),
        "ERR Library 'mylib' already exists"
    );
    assert_eq!(
        q::<String>(c, &["FUNCTION", "LOAD", "REPLACE", LIB]),
        "mylib"
    );
    assert_eq!(raw(c, &["FCALL", "setit", "1", "k", "v"]), Value::Okay);
    assert_eq!(raw(c, &["FCALL", "getit", "1", "k"]), bulk("v"));
    assert_eq!(raw(c, &["FCALL_RO", "getit", "1", "k"]), bulk("v"));
    assert_eq!(
        err(c, &["FCALL_RO", "setit", "1", "k", "v"]),
        "ERR Can not execute a script with write flag using *_ro command."
    );
    assert_eq!(err(c, &["FCALL", "nosuch", "0"]), "ERR Function not found");
    assert_eq!(
        err(c, &["FCALL", "getit", "2", "k"]),
        "ERR Number of keys can't be greater than number of args"
    );
    // FUNCTION LIST: library, engine, functions with description and flags.
    let list = raw(c, &["FUNCTION", "LIST"]);
    let text = format!("{list:?}");
    for needle in ["mylib", "LUA", "setit", "getit", "reads a key", "no-writes"] {
        assert!(text.contains(needle), "{needle} missing from {text}");
    }
    assert!(
        !text.contains("register_function"),
        "no code without WITHCODE"
    );
    let with_code = format!("{:?}", raw(c, &["FUNCTION", "LIST", "WITHCODE"]));
    assert!(with_code.contains("register_function"));
    assert_eq!(
        raw(c, &["FUNCTION", "LIST", "LIBRARYNAME", "other*"]),
        Value::Array(vec![])
    );
    assert_eq!(
        err(c, &["FUNCTION", "LIST", "BAD"]),
        "ERR Unknown argument BAD"
    );
    assert_eq!(info_field(c, "memory", "number_of_functions"), "2");
    assert_eq!(info_field(c, "memory", "number_of_libraries"), "1");
    // Delete and flush.
    assert_eq!(
        err(c, &["FUNCTION", "DELETE", "nolib"]),
        "ERR Library not found"
    );
    let _: () = q(c, &["FUNCTION", "DELETE", "mylib"]);
    assert_eq!(
        err(c, &["FCALL", "getit", "1", "k"]),
        "ERR Function not found"
    );
    let _: () = q(c, &["FUNCTION", "LOAD", LIB]);
    let _: () = q(c, &["FUNCTION", "FLUSH", "SYNC"]);
    assert_eq!(raw(c, &["FUNCTION", "LIST"]), Value::Array(vec![]));
    assert_eq!(
        err(c, &["FUNCTION", "FLUSH", "LAZY"]),
        "ERR FUNCTION FLUSH only supports SYNC|ASYNC option"
    );
}

#[test]
fn load_errors() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let cases = [
        ("return 1", "ERR Missing library metadata"),
        ("#!lua\nreturn 1", "ERR Library name was not given"),
        ("#!lua name=a-b\n", "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"),
        ("#!lua name=a foo=bar\n", "ERR Invalid metadata value given: foo=bar"),
        ("#!lua name=a name=b\n", "ERR Invalid metadata value, name argument was given multiple times"),
        ("#!python name=a\n", "ERR Engine 'python' not found"),
        ("#!lua name=a\nlocal x = 1", "ERR No functions registered"),
        ("#!lua name=a\nredis.call('ping')", "ERR Error registering functions: user_function:2: Script attempted to access nonexistent global variable 'call'"),
    ];
    for (code, want) in cases {
        assert_eq!(err(c, &["FUNCTION", "LOAD", code]), want, "{code}");
    }
    let e = err(c, &["FUNCTION", "LOAD", "#!lua name=a\nreturn x ="]);
    assert!(
        e.starts_with("ERR Error compiling function: user_function:2:"),
        "{e}"
    );
    let e = err(
        c,
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=a\nredis.register_function('f', function() return 1 end, 'x')",
        ],
    );
    assert!(
        e.contains("wrong number of arguments to redis.register_function"),
        "{e}"
    );
    let e = err(
        c,
        &["FUNCTION", "LOAD", "#!lua name=a\nredis.register_function{function_name='f', callback=function() return 1 end, flags={'bad'}}"],
    );
    assert!(e.contains("unknown flag given"), "{e}");
    // A function name already taken by another library.
    let _: () = q(
        c,
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=one\nredis.register_function('f', function() return 1 end)",
        ],
    );
    assert_eq!(
        err(
            c,
            &[
                "FUNCTION",
                "LOAD",
                "#!lua name=two\nredis.register_function('f', function() return 2 end)"
            ]
        ),
        "ERR Function f already exists"
    );
    // register_function is only available while loading: functions do not see it.
    let _: () = q(
        c,
        &["FUNCTION", "LOAD", "#!lua name=three\nredis.register_function('g', function() redis.register_function('h', function() end) end)"],
    );
    let e = err(c, &["FCALL", "g", "0"]);
    assert!(
        e.starts_with("ERR user_function:2: attempt to call field 'register_function' (a nil value) script: g, on @user_function:2."),
        "{e}"
    );
    // ...and library code sees only the load API.
    assert_eq!(
        err(c, &["FUNCTION", "LOAD", "#!lua name=five\nmath.random()"]),
        "ERR Error registering functions: user_function:2: Script attempted to access nonexistent global variable 'math'"
    );
    let e = err(
        c,
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=five\nlocal a = 1\nwhile 1 do a = a + 1 end",
        ],
    );
    assert!(e.contains("FUNCTION LOAD timeout"), "{e}");
    // Functions get keys and args as arguments, not as globals.
    let _: () = q(
        c,
        &["FUNCTION", "LOAD", "#!lua name=four\nredis.register_function('k', function(keys, args) return {keys[1], args[1]} end)\nredis.register_function('g2', function() return KEYS end)"],
    );
    assert_eq!(
        raw(c, &["FCALL", "k", "1", "a", "b"]),
        Value::Array(vec![bulk("a"), bulk("b")])
    );
    let e = err(c, &["FCALL", "g2", "0"]);
    assert!(
        e.contains("Script attempted to access nonexistent global variable 'KEYS'"),
        "{e}"
    );
}

#[test]
fn dump_and_restore() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let _: () = q(c, &["FUNCTION", "LOAD", LIB]);
    let other = "#!lua name=other\nredis.register_function('o', function() return 7 end)";
    let _: () = q(c, &["FUNCTION", "LOAD", other]);
    let dump: Vec<u8> = q(c, &["FUNCTION", "DUMP"]);
    let before = raw(c, &["FUNCTION", "LIST", "WITHCODE"]);
    let _: () = q(c, &["FUNCTION", "FLUSH"]);
    let restore = |c: &mut redis::Connection, policy: Option<&str>| {
        let mut cmd = redis::cmd("FUNCTION");
        cmd.arg("RESTORE").arg(&dump);
        if let Some(p) = policy {
            cmd.arg(p);
        }
        cmd.query::<Value>(c)
    };
    assert_eq!(restore(c, None).expect("restore"), Value::Okay);
    assert_eq!(raw(c, &["FUNCTION", "LIST", "WITHCODE"]), before);
    assert_eq!(raw(c, &["FCALL", "o", "0"]), Value::Int(7));
    let e = restore(c, None).expect_err("append over existing");
    assert_eq!(error_text(&e), "ERR Library mylib already exists");
    assert_eq!(restore(c, Some("REPLACE")).expect("replace"), Value::Okay);
    assert_eq!(restore(c, Some("FLUSH")).expect("flush"), Value::Okay);
    assert_eq!(raw(c, &["FUNCTION", "LIST", "WITHCODE"]), before);
    let e = restore(c, Some("BAD")).expect_err("bad policy");
    assert_eq!(
        error_text(&e),
        "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
    );
    assert_eq!(
        err(c, &["FUNCTION", "RESTORE", "garbage"]),
        "ERR payload version or checksum are wrong"
    );
}

#[test]
fn stats_and_kill() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let _: () = q(&mut c, &["CONFIG", "SET", "busy-reply-threshold", "100"]);
    let _: () = q(
        &mut c,
        &["FUNCTION", "LOAD", "#!lua name=spin\nredis.register_function{function_name='spin', callback=function() while true do end end, flags={'no-writes'}}"],
    );
    assert_eq!(
        err(&mut c, &["FUNCTION", "KILL"]),
        "NOTBUSY No scripts in execution right now."
    );
    let stats = format!("{:?}", raw(&mut c, &["FUNCTION", "STATS"]));
    assert!(
        stats.contains("libraries_count") && stats.to_lowercase().contains("int(1)"),
        "{stats}"
    );
    let mut runner = server.client();
    let script = std::thread::spawn(move || err(&mut runner, &["FCALL", "spin", "0"]));
    assert!(wait_until(Duration::from_secs(10), || {
        match cmd(&["PING"]).query::<String>(&mut c) {
            Err(e) => error_text(&e)
                == "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.",
            Ok(_) => false,
        }
    }));
    let stats = format!("{:?}", raw(&mut c, &["FUNCTION", "STATS"]));
    assert!(
        stats.contains("running_script") && stats.contains("spin"),
        "{stats}"
    );
    assert_eq!(
        err(&mut c, &["SCRIPT", "KILL"]),
        "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
    );
    let _: () = q(&mut c, &["FUNCTION", "KILL"]);
    let killed = script.join().expect("function thread");
    assert!(
        killed.starts_with(
            "ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2."
        ),
        "{killed}"
    );
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
}
