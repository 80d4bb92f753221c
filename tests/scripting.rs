//! Lua scripting against the real server: EVAL / EVALSHA / EVAL_RO, SCRIPT LOAD / EXISTS /
//! FLUSH / KILL, Lua <-> RESP conversions both ways (RESP2 and redis.setresp(3)), error texts,
//! redis.pcall, the sandbox and global protection, bit, cjson and cmsgpack, shebang flags,
//! atomicity, the busy threshold with SCRIPT KILL and UNKILLABLE, scripts inside MULTI, and a
//! property test comparing scripted INCRBY/DEL/EXISTS sequences with a model.

mod common;
mod kvhelp;

use std::time::Duration;

use common::TestServer;
use kvhelp::*;
use proptest::prelude::*;
use redis::Value;

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

#[test]
fn basic_replies_and_conversions() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    assert_eq!(raw(c, &["EVAL", "return 'hello'", "0"]), bulk("hello"));
    // Numbers are truncated to integers, true is 1, false is nil.
    assert_eq!(raw(c, &["EVAL", "return 100.5", "0"]), Value::Int(100));
    assert_eq!(raw(c, &["EVAL", "return -3.9", "0"]), Value::Int(-3));
    assert_eq!(raw(c, &["EVAL", "return true", "0"]), Value::Int(1));
    assert_eq!(raw(c, &["EVAL", "return false", "0"]), Value::Nil);
    assert_eq!(raw(c, &["EVAL", "return nil", "0"]), Value::Nil);
    assert_eq!(
        raw(c, &["EVAL", "return {ok='fine'}", "0"]),
        Value::SimpleString("fine".into())
    );
    assert_eq!(
        err(c, &["EVAL", "return {err='ERR this is an error'}", "0"]),
        "ERR this is an error"
    );
    assert_eq!(
        err(
            c,
            &[
                "EVAL",
                "return redis.error_reply('MY_CODE custom msg')",
                "0"
            ]
        ),
        "MY_CODE custom msg"
    );
    assert_eq!(
        raw(c, &["EVAL", "return {1,2,3,'ciao',{1,2}}", "0"]),
        Value::Array(vec![
            Value::Int(1),
            Value::Int(2),
            Value::Int(3),
            bulk("ciao"),
            Value::Array(vec![Value::Int(1), Value::Int(2)])
        ])
    );
    // Arrays stop at the first nil.
    assert_eq!(
        raw(c, &["EVAL", "return {1,2,nil,4}", "0"]),
        Value::Array(vec![Value::Int(1), Value::Int(2)])
    );
    assert_eq!(
        raw(
            c,
            &[
                "EVAL",
                "return {KEYS[1],KEYS[2],ARGV[1],ARGV[2]}",
                "2",
                "a",
                "b",
                "c",
                "d"
            ]
        ),
        Value::Array(vec![bulk("a"), bulk("b"), bulk("c"), bulk("d")])
    );
    // Redis -> Lua: integers, bulk, nil bulk as false, status as {ok=}, errors via pcall.
    let _: () = q(c, &["SET", "mykey", "myval"]);
    assert_eq!(
        raw(
            c,
            &["EVAL", "return redis.call('get',KEYS[1])", "1", "mykey"]
        ),
        bulk("myval")
    );
    assert_eq!(
        raw(
            c,
            &["EVAL", "return redis.call('get','nokey') == false", "0"]
        ),
        Value::Int(1)
    );
    assert_eq!(
        raw(c, &["EVAL", "return type(redis.call('set','x','1'))", "0"]),
        bulk("table")
    );
    assert_eq!(
        raw(c, &["EVAL", "return redis.call('set','x','1')['ok']", "0"]),
        bulk("OK")
    );
    assert_eq!(
        raw(c, &["EVAL", "return redis.call('incr','x')", "0"]),
        Value::Int(2)
    );
    assert_eq!(
        raw(
            c,
            &["EVAL", "return redis.pcall('incr','mykey')['err']", "0"]
        ),
        bulk("ERR value is not an integer or out of range")
    );
    // pcall around redis.call gets the error table too.
    assert_eq!(
        raw(
            c,
            &[
                "EVAL",
                "local ok, e = pcall(redis.call, 'incr', 'mykey') return {tostring(ok), e.err}",
                "0"
            ]
        ),
        Value::Array(vec![
            bulk("false"),
            bulk("ERR value is not an integer or out of range")
        ])
    );
    // A command error from redis.pcall can be returned as an error reply.
    assert_eq!(
        err(c, &["EVAL", "return redis.pcall('incr','mykey')", "0"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        raw(
            c,
            &["EVAL", "return redis.sha1hex('Pizza & Mandolino')", "0"]
        ),
        bulk("74822d82031af7493c20eefa13bd07ec4fada82f")
    );
    assert_eq!(
        raw(c, &["EVAL", "return redis.REDIS_VERSION", "0"]),
        bulk("7.2.4")
    );
}

#[test]
fn resp3_conversions() {
    let server = TestServer::start(&[]);
    let mut c = server.client_resp3();
    let c = &mut c;
    let _: () = q(c, &["HSET", "h", "f", "v"]);
    // RESP2 inside the script (the default): a map arrives as a flat array.
    assert_eq!(
        raw(c, &["EVAL", "return redis.call('hgetall','h')", "0"]),
        Value::Array(vec![bulk("f"), bulk("v")])
    );
    // RESP3 inside the script: {map=...} both ways.
    assert_eq!(
        raw(
            c,
            &[
                "EVAL",
                "redis.setresp(3); return redis.call('hgetall','h')",
                "0"
            ]
        ),
        Value::Map(vec![(bulk("f"), bulk("v"))])
    );
    assert_eq!(
        raw(c, &["EVAL", "redis.setresp(3); return {double=3.5}", "0"]),
        Value::Double(3.5)
    );
    assert_eq!(
        raw(c, &["EVAL", "redis.setresp(3); return true", "0"]),
        Value::Boolean(true)
    );
    assert_eq!(
        raw(c, &["EVAL", "redis.setresp(3); return {set={a=true}}", "0"]),
        Value::Set(vec![bulk("a")])
    );
    assert_eq!(
        raw(
            c,
            &[
                "EVAL",
                "redis.setresp(3); return redis.call('get','nokey') == nil",
                "0"
            ]
        ),
        Value::Boolean(true)
    );
    let sha: String = q(c, &["SCRIPT", "LOAD", "redis.setresp(4)"]);
    assert_eq!(
        err(c, &["EVAL", "redis.setresp(4)", "0"]),
        format!("ERR RESP version must be 2 or 3. script: f_{sha}, on @user_script:1.")
    );
}

#[test]
fn error_texts() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let sha = |c: &mut redis::Connection, body: &str| -> String { q(c, &["SCRIPT", "LOAD", body]) };
    let s = sha(c, "return a");
    assert_eq!(
        err(c, &["EVAL", "return a", "0"]),
        format!("ERR user_script:1: Script attempted to access nonexistent global variable 'a' script: f_{s}, on @user_script:1.")
    );
    let s = sha(c, "a=10");
    assert_eq!(
        err(c, &["EVAL", "a=10", "0"]),
        format!("ERR user_script:1: Attempt to modify a readonly table script: f_{s}, on @user_script:1.")
    );
    let body = "redis.call('nosuchcommand')";
    let s = sha(c, body);
    assert_eq!(
        err(c, &["EVAL", body, "0"]),
        format!("ERR Unknown Redis command called from script script: f_{s}, on @user_script:1.")
    );
    let body = "\nredis.call('get','a','b','c')";
    let s = sha(c, body);
    assert_eq!(
        err(c, &["EVAL", body, "0"]),
        format!("ERR Wrong number of args calling Redis command from script script: f_{s}, on @user_script:2.")
    );
    let _: () = q(c, &["SET", "foo", "bar"]);
    let body = "return redis.call('hset',KEYS[1],'a','b')";
    let s = sha(c, body);
    assert_eq!(
        err(c, &["EVAL", body, "1", "foo"]),
        format!("WRONGTYPE Operation against a key holding the wrong kind of value script: f_{s}, on @user_script:1.")
    );
    let body = "return redis.call()";
    let s = sha(c, body);
    assert_eq!(
        err(c, &["EVAL", body, "0"]),
        format!("ERR Please specify at least one argument for this redis lib call script: f_{s}, on @user_script:1.")
    );
    let body = "return redis.call('get', {})";
    let s = sha(c, body);
    assert_eq!(
        err(c, &["EVAL", body, "0"]),
        format!("ERR Lua redis lib command arguments must be strings or integers script: f_{s}, on @user_script:1.")
    );
    let body = "return redis.call('multi')";
    let s = sha(c, body);
    assert_eq!(
        err(c, &["EVAL", body, "0"]),
        format!(
            "ERR This Redis command is not allowed from script script: f_{s}, on @user_script:1."
        )
    );
    assert_eq!(
        err(c, &["EVAL", "return x = ", "0"]),
        "ERR Error compiling script (new function): user_script:1: '<eof>' expected near '='"
    );
    assert_eq!(
        err(
            c,
            &["EVALSHA", "ffd632c7d33e571e9f24556ebed26c3479a87130", "0"]
        ),
        "NOSCRIPT No matching script. Please use EVAL."
    );
    assert_eq!(
        err(c, &["EVAL", "return 1", "-12"]),
        "ERR Number of keys can't be negative"
    );
    assert_eq!(
        err(c, &["EVAL", "return 1", "2", "a"]),
        "ERR Number of keys can't be greater than number of args"
    );
    assert_eq!(err(c, &["EVAL", "return 1"]), arity("eval"));
}

#[test]
fn sandbox_and_libraries() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    for body in [
        "setmetatable(_G, {})",
        "local g = getmetatable(_G); g.__index = {}",
        "redis = function() return 1 end",
        "_G = {}",
        "redis.call = function() return 1 end",
        "cjson.encode = function() return 1 end",
        "bit.lshift = function() return 1 end",
        "rawset(_G, 'x', 1)",
    ] {
        let e = err(c, &["EVAL", body, "0"]);
        assert!(
            e.contains("Attempt to modify a readonly table"),
            "{body}: {e}"
        );
    }
    for name in [
        "loadfile", "dofile", "io", "require", "package", "debug", "print",
    ] {
        let e = err(c, &["EVAL", &format!("return {name}"), "0"]);
        assert!(
            e.contains(&format!("nonexistent global variable '{name}'")),
            "{name}: {e}"
        );
    }
    assert_eq!(
        raw(c, &["EVAL", "return os.execute == nil", "0"]),
        Value::Int(1)
    );
    assert_eq!(
        raw(c, &["EVAL", "return type(os.clock())", "0"]),
        bulk("number")
    );
    // bit and cjson.
    assert_eq!(
        raw(c, &["EVAL", "return {bit.band(0xff,0x0f), bit.bor(1,2), bit.bxor(3,1), bit.lshift(1,4), bit.tohex(255)}", "0"]),
        Value::Array(vec![Value::Int(15), Value::Int(3), Value::Int(2), Value::Int(16), bulk("000000ff")])
    );
    assert_eq!(
        raw(c, &["EVAL", "return cjson.encode({1,2,'x'})", "0"]),
        bulk("[1,2,\"x\"]")
    );
    assert_eq!(
        raw(c, &["EVAL", "return cjson.encode({a=1})", "0"]),
        bulk("{\"a\":1}")
    );
    assert_eq!(
        raw(
            c,
            &[
                "EVAL",
                "local t = cjson.decode('[1,{\"a\":\"b\"}]'); return {t[1], t[2].a}",
                "0"
            ]
        ),
        Value::Array(vec![Value::Int(1), bulk("b")])
    );
    // cmsgpack, with lua-cmsgpack's encodings.
    assert_eq!(
        raw(c, &["EVAL", "local e = cmsgpack.pack(0.1, -1099511627776, 5, 'ab') local h = '' for i = 1, #e do h = h .. string.format('%02x', string.byte(e, i)) end return h", "0"]),
        bulk("cb3fb999999999999ad3ffffff000000000005a26162")
    );
    assert_eq!(
        raw(c, &["EVAL", "local t = cmsgpack.unpack(cmsgpack.pack({1, 2, {a = 'x'}})) return {t[1], t[2], t[3].a}", "0"]),
        Value::Array(vec![Value::Int(1), Value::Int(2), bulk("x")])
    );
    // Hostile nesting gets errors, never a crash.
    let e = err(
        c,
        &["EVAL", "local a = {} a[1] = a return cjson.encode(a)", "0"],
    );
    assert!(
        e.starts_with("ERR Cannot serialise, excessive nesting (1001)"),
        "{e}"
    );
    let e = err(
        c,
        &[
            "EVAL",
            "return cmsgpack.unpack(string.rep(string.char(0x91), 100000) .. string.char(1))",
            "0",
        ],
    );
    assert!(e.starts_with("ERR Bad data format in input."), "{e}");
    let e = err(
        c,
        &["EVAL", "return cjson.decode(string.rep('[', 100000))", "0"],
    );
    assert!(e.contains("recursion limit exceeded"), "{e}");
    assert_eq!(q::<String>(c, &["PING"]), "PONG");
    // Local variables and functions are fine; loadstring runs in the protected globals.
    assert_eq!(
        raw(
            c,
            &[
                "EVAL",
                "local function f(x) return x * 2 end return f(21)",
                "0"
            ]
        ),
        Value::Int(42)
    );
    let e = err(c, &["EVAL", "return loadstring('y = 1')()", "0"]);
    assert!(e.contains("Attempt to modify a readonly table"), "{e}");
}

#[test]
fn script_cache_and_readonly() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let sha: String = q(c, &["SCRIPT", "LOAD", "return redis.call('get',KEYS[1])"]);
    assert_eq!(sha, "fd758d1589d044dd850a6f05d52f2eefd27f033f");
    let _: () = q(c, &["SET", "mykey", "myval"]);
    assert_eq!(raw(c, &["EVALSHA", &sha, "1", "mykey"]), bulk("myval"));
    assert_eq!(
        raw(c, &["EVALSHA", &sha.to_uppercase(), "1", "mykey"]),
        bulk("myval")
    );
    assert_eq!(raw(c, &["EVALSHA_RO", &sha, "1", "mykey"]), bulk("myval"));
    assert_eq!(
        q::<Vec<i64>>(
            c,
            &[
                "SCRIPT",
                "EXISTS",
                &sha,
                "ffffffffffffffffffffffffffffffffffffffff"
            ]
        ),
        vec![1, 0]
    );
    assert_eq!(info_field(c, "memory", "number_of_cached_scripts"), "1");
    let _: () = q(c, &["SCRIPT", "FLUSH"]);
    assert_eq!(q::<Vec<i64>>(c, &["SCRIPT", "EXISTS", &sha]), vec![0]);
    assert_eq!(
        err(c, &["SCRIPT", "FLUSH", "LAZY"]),
        "ERR SCRIPT FLUSH only support SYNC|ASYNC option"
    );
    let _: () = q(c, &["SCRIPT", "FLUSH", "ASYNC"]);
    // Read-only scripts.
    let body = "redis.call('del', KEYS[1])";
    let s: String = q(c, &["SCRIPT", "LOAD", body]);
    assert_eq!(
        err(c, &["EVAL_RO", body, "1", "mykey"]),
        format!("ERR Write commands are not allowed from read-only scripts. script: f_{s}, on @user_script:1.")
    );
    assert_eq!(q::<String>(c, &["GET", "mykey"]), "myval");
    // Shebang flags.
    let body = "#!lua flags=no-writes\nreturn redis.call('set','x','1')";
    let e = err(c, &["EVAL", body, "0"]);
    assert!(
        e.starts_with("ERR Write commands are not allowed from read-only scripts."),
        "{e}"
    );
    assert_eq!(
        err(c, &["EVAL_RO", "#!lua\nreturn 1", "0"]),
        "ERR Can not execute a script with write flag using *_ro command."
    );
    assert_eq!(
        raw(c, &["EVAL_RO", "#!lua flags=no-writes\nreturn 1", "0"]),
        Value::Int(1)
    );
    assert_eq!(
        err(c, &["EVAL", "#!lua badopt=1\nreturn 1", "0"]),
        "ERR Unknown lua shebang option: badopt=1"
    );
    assert_eq!(
        err(c, &["EVAL", "#!lua flags=bad\nreturn 1", "0"]),
        "ERR Unexpected flag in script shebang: bad"
    );
    assert_eq!(
        err(c, &["EVAL", "#!python\nreturn 1", "0"]),
        "ERR Unexpected engine in script shebang: #!python"
    );
    // SELECT inside a script does not change the caller's database.
    let _: () = q(c, &["SELECT", "0"]);
    assert_eq!(
        raw(
            c,
            &[
                "EVAL",
                "redis.call('select','1'); return redis.call('set','indb1','x')['ok']",
                "0"
            ]
        ),
        bulk("OK")
    );
    assert_eq!(raw(c, &["EXISTS", "indb1"]), Value::Int(0));
    let _: () = q(c, &["SELECT", "1"]);
    assert_eq!(raw(c, &["EXISTS", "indb1"]), Value::Int(1));
}

#[test]
fn scripts_inside_multi() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let (a, b): (Value, Value) = redis::pipe()
        .atomic()
        .cmd("EVAL")
        .arg("return redis.call('incr', KEYS[1])")
        .arg(1)
        .arg("n")
        .cmd("EVAL")
        .arg("return redis.call('incr', KEYS[1])")
        .arg(1)
        .arg("n")
        .query(c)
        .expect("exec");
    assert_eq!((a, b), (Value::Int(1), Value::Int(2)));
}

#[test]
fn other_clients_never_see_half_a_script() {
    let server = TestServer::start(&[]);
    let mut writer = server.client();
    let mut reader = server.client();
    let _: () = q(&mut writer, &["MSET", "a", "0", "b", "0"]);
    let body = "for i = 1, 200 do redis.call('incr', 'a'); redis.call('incr', 'b') end return 1";
    let handle = std::thread::spawn(move || {
        for _ in 0..20 {
            let _: i64 = q(&mut writer, &["EVAL", body, "0"]);
        }
    });
    for _ in 0..200 {
        let (a, b): (String, String) = q(&mut reader, &["MGET", "a", "b"]);
        let (a, b): (i64, i64) = (a.parse().unwrap_or(-1), b.parse().unwrap_or(-2));
        assert_eq!(a, b, "a reader saw half a script");
        assert_eq!(a % 200, 0);
    }
    handle.join().expect("writer");
    assert_eq!(q::<i64>(&mut reader, &["GET", "a"]), 4000);
}

#[test]
fn busy_script_can_be_killed() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let _: () = q(&mut c, &["CONFIG", "SET", "busy-reply-threshold", "100"]);
    assert_eq!(
        err(&mut c, &["SCRIPT", "KILL"]),
        "NOTBUSY No scripts in execution right now."
    );
    let mut runner = server.client();
    let script = std::thread::spawn(move || err(&mut runner, &["EVAL", "while true do end", "0"]));
    // Other clients wait, then get BUSY once the threshold has passed.
    assert!(wait_until(Duration::from_secs(10), || {
        match cmd(&["PING"]).query::<String>(&mut c) {
            Err(e) => error_text(&e)
                == "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
            Ok(_) => false,
        }
    }));
    assert_eq!(
        err(&mut c, &["FUNCTION", "KILL"]),
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
    );
    let _: () = q(&mut c, &["SCRIPT", "KILL"]);
    let killed = script.join().expect("script thread");
    assert!(
        killed.starts_with("ERR Script killed by user with SCRIPT KILL... script: f_"),
        "{killed}"
    );
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
}

/// SIGTERM stops the server even while a script that has written loops forever (nothing else
/// could ever end it).
#[test]
fn sigterm_stops_a_server_running_an_endless_script() {
    let mut server = TestServer::start(&[]);
    let mut c = server.client();
    let _: () = q(&mut c, &["CONFIG", "SET", "busy-reply-threshold", "50"]);
    let mut runner = server.client();
    let _script = std::thread::spawn(move || {
        let _ = cmd(&["EVAL", "redis.call('SET', 'k', 'v') while true do end", "0"])
            .query::<Value>(&mut runner);
    });
    assert!(wait_until(Duration::from_secs(10), || {
        matches!(cmd(&["PING"]).query::<String>(&mut c), Err(e) if error_text(&e).starts_with("BUSY"))
    }));
    assert_eq!(
        err(&mut c, &["SCRIPT", "KILL"]),
        "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
    );
    assert_eq!(
        server.terminate(),
        Some(0),
        "the server exits cleanly on SIGTERM"
    );
}

#[test]
fn pcall_cannot_shield_a_killed_script() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let _: () = q(&mut c, &["CONFIG", "SET", "lua-time-limit", "50"]);
    let mut runner = server.client();
    let body = "local f = function() while 1 do redis.call('ping') end end while 1 do pcall(f) end";
    let script = std::thread::spawn(move || err(&mut runner, &["EVAL", body, "0"]));
    assert!(wait_until(Duration::from_secs(10), || {
        cmd(&["PING"]).query::<String>(&mut c).is_err()
    }));
    let _: () = q(&mut c, &["SCRIPT", "KILL"]);
    assert!(script.join().expect("script").contains("killed by user"));
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
}

#[test]
fn a_script_that_wrote_is_unkillable() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let _: () = q(&mut c, &["CONFIG", "SET", "busy-reply-threshold", "100"]);
    let mut runner = server.client();
    let _script = std::thread::spawn(move || {
        let _ = cmd(&["EVAL", "redis.call('set','x','y') while true do end", "0"])
            .query::<Value>(&mut runner);
    });
    assert!(wait_until(Duration::from_secs(10), || {
        cmd(&["PING"]).query::<String>(&mut c).is_err()
    }));
    assert_eq!(
        err(&mut c, &["SCRIPT", "KILL"]),
        "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
    );
    let e = err(&mut c, &["GET", "x"]);
    assert!(e.starts_with("BUSY "), "{e}");
    // SHUTDOWN NOSAVE is allowed while busy.
    let _ = cmd(&["SHUTDOWN", "NOSAVE"]).query::<Value>(&mut c);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// Random INCRBY / DEL / EXISTS sequences run through one script agree with a model.
    #[test]
    fn scripted_sequences_match_a_model(ops in prop::collection::vec((0u8..3, 0u8..3, -50i64..50), 1..30)) {
        thread_local! {
            static SERVER: TestServer = TestServer::start(&[]);
        }
        SERVER.with(|server| {
            let mut c = server.client();
            let _: () = q(&mut c, &["FLUSHALL"]);
            let mut model: std::collections::HashMap<String, i64> = Default::default();
            let mut body = String::from("local out = {}\n");
            for (op, key, n) in &ops {
                let k = format!("k{key}");
                match op {
                    0 => {
                        *model.entry(k.clone()).or_insert(0) += n;
                        body.push_str(&format!("out[#out+1] = redis.call('incrby', '{k}', {n})\n"));
                    }
                    1 => {
                        model.remove(&k);
                        body.push_str(&format!("redis.call('del', '{k}')\n"));
                    }
                    _ => {
                        body.push_str(&format!("out[#out+1] = redis.call('exists', '{k}')\n"));
                    }
                }
            }
            body.push_str("return out\n");
            let _: Value = q(&mut c, &["EVAL", &body, "0"]);
            for key in 0..3 {
                let k = format!("k{key}");
                let got: Option<i64> = q(&mut c, &["GET", &k]);
                prop_assert_eq!(got, model.get(&k).copied());
            }
            Ok(())
        })?;
    }
}

#[test]
fn concurrent_scripts_run_one_at_a_time() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    // Read-modify-write in Lua: lost updates would show if two scripts ever interleaved.
    let body = "local v = tonumber(redis.call('get', KEYS[1]) or '0') redis.call('set', KEYS[1], v + 1) return v + 1";
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let mut c = server.client();
            std::thread::spawn(move || {
                for _ in 0..50 {
                    let _: i64 = q(&mut c, &["EVAL", body, "1", "counter"]);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("script client");
    }
    assert_eq!(q::<i64>(&mut c, &["GET", "counter"]), 400);
    let stats: String = q(&mut c, &["INFO", "commandstats"]);
    assert!(stats.contains("cmdstat_eval:calls=400,"), "{stats}");
    assert!(stats.contains("cmdstat_set:calls=400,"), "{stats}");
}

/// While a script is past the busy threshold, a command sent inside MULTI is refused (not
/// queued) and EXEC then aborts; an EXEC refused for BUSY discards the transaction and says why.
/// COMMAND GETKEYS of an EVAL without keys is an empty list; PUBLISH (may replicate) is refused
/// in a read-only script.
#[test]
fn transactions_meet_a_busy_script() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let _: () = q(&mut c, &["CONFIG", "SET", "busy-reply-threshold", "50"]);
    assert_eq!(
        q::<Vec<String>>(&mut c, &["COMMAND", "GETKEYS", "EVAL", "return 1", "0"]),
        Vec::<String>::new()
    );
    let script = "return redis.call('PUBLISH', 'ch', 'm')";
    let sha: String = q(&mut c, &["SCRIPT", "LOAD", script]);
    assert_eq!(
        err(&mut c, &["EVAL_RO", script, "0"]),
        format!(
            "ERR Write commands are not allowed from read-only scripts. script: f_{sha}, on @user_script:1."
        )
    );
    let mut t = server.client();
    let _: () = q(&mut t, &["MULTI"]);
    let _: String = q(&mut t, &["SET", "queued", "1"]);
    let mut runner = server.client();
    let script = std::thread::spawn(move || err(&mut runner, &["EVAL", "while true do end", "0"]));
    assert!(wait_until(Duration::from_secs(10), || {
        matches!(cmd(&["PING"]).query::<String>(&mut c), Err(e) if error_text(&e).starts_with("BUSY"))
    }));
    let busy =
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
    assert_eq!(
        err(&mut t, &["EXEC"]),
        format!("EXECABORT Transaction discarded because of: {busy}")
    );
    // The transaction is gone: EXEC again is outside MULTI.
    let mut u = server.client();
    let _: () = q(&mut u, &["MULTI"]);
    assert_eq!(err(&mut u, &["SET", "x", "1"]), busy);
    let _: () = q(&mut c, &["SCRIPT", "KILL"]);
    let _ = script.join();
    assert_eq!(
        err(&mut u, &["EXEC"]),
        "EXECABORT Transaction discarded because of previous errors."
    );
    assert_eq!(err(&mut t, &["EXEC"]), "ERR EXEC without MULTI");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "queued", "x"]), 0);
}

/// CLIENT PAUSE WRITE holds scripts that may write, but not those that declare `no-writes`
/// (EVAL shebang or function flag), alone or inside MULTI, as Redis judges a script by its
/// declared flags.
#[test]
fn pause_write_lets_no_writes_scripts_run() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let _: String = q(
        &mut c,
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=lib\nredis.register_function{function_name='ro', callback=function() return 2 end, flags={'no-writes'}}",
        ],
    );
    let _: () = q(&mut c, &["CLIENT", "PAUSE", "100000", "WRITE"]);
    let mut other = server.client();
    assert_eq!(
        q::<i64>(
            &mut other,
            &["EVAL", "#!lua flags=no-writes\nreturn 1", "0"]
        ),
        1
    );
    assert_eq!(q::<i64>(&mut other, &["FCALL", "ro", "0"]), 2);
    let _: () = q(&mut other, &["MULTI"]);
    let _: String = q(
        &mut other,
        &["EVAL", "#!lua flags=no-writes\nreturn 3", "0"],
    );
    assert_eq!(q::<Vec<i64>>(&mut other, &["EXEC"]), vec![3]);
    // A script that may write waits for the pause to end.
    let mut writer = server.client();
    let held = std::thread::spawn(move || q::<i64>(&mut writer, &["EVAL", "return 4", "0"]));
    assert!(wait_until(Duration::from_secs(10), || {
        info_field(&mut c, "clients", "blocked_clients") == "1"
    }));
    let _: () = q(&mut c, &["CLIENT", "UNPAUSE"]);
    assert_eq!(held.join().expect("writer"), 4);
}

/// The `struct` library, with results checked against Redis 7's on the same scripts: exact
/// bytes, alignment, signedness, strings, the next position, and Redis's error texts.
#[test]
fn struct_library() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let c = &mut c;
    let bytes: Vec<u8> = redis::cmd("EVAL")
        .arg("return struct.pack('>I2 <i4 b', 258, -2, -1)")
        .arg(0)
        .query(c)
        .unwrap();
    assert_eq!(bytes, [1, 2, 0xfe, 0xff, 0xff, 0xff, 0xff]);
    assert_eq!(
        q::<i64>(c, &["EVAL", "return struct.size('!4 b i d')", "0"]),
        16
    );
    assert_eq!(
        raw(
            c,
            &[
                "EVAL",
                "return {struct.unpack('b i4 s d', struct.pack('b i4 s d', -5, 100000, 'hello', 1.5))}",
                "0"
            ]
        ),
        Value::Array(vec![
            Value::Int(-5),
            Value::Int(100000),
            bulk("hello"),
            Value::Int(1),
            Value::Int(20),
        ])
    );
    assert_eq!(
        raw(
            c,
            &[
                "EVAL",
                "return {struct.unpack('i1 c0', struct.pack('i1 c0', 3, 'abc'))}",
                "0"
            ]
        ),
        Value::Array(vec![bulk("abc"), Value::Int(5)])
    );
    let sha: String = q(c, &["SCRIPT", "LOAD", "return struct.pack('z', 1)"]);
    assert_eq!(
        err(c, &["EVALSHA", &sha, "0"]),
        format!(
            "ERR user_script:1: bad argument #1 to 'pack' (invalid format option 'z') script: f_{sha}, on @user_script:1."
        )
    );
    let sha: String = q(c, &["SCRIPT", "LOAD", "return {struct.unpack('i4', 'ab')}"]);
    assert_eq!(
        err(c, &["EVALSHA", &sha, "0"]),
        format!(
            "ERR user_script:1: bad argument #2 to 'unpack' (data string too short) script: f_{sha}, on @user_script:1."
        )
    );
}
