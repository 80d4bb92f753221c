//! Server commands against the real binary: INFO (the sections and fields clients read),
//! CONFIG GET/SET/RESETSTAT/REWRITE, COMMAND and its subcommands, TIME, DEBUG SLEEP/DIGEST/
//! DIGEST-VALUE, SHUTDOWN and SIGTERM. Both the `redis` crate and raw RESP are used; error texts
//! are asserted in full.

mod common;
mod raw;

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::TestServer;
use raw::{info_field, Raw, Resp};

fn ok() -> Resp {
    Resp::Simple("OK".into())
}

fn info(c: &mut Raw, section: &str) -> String {
    c.cmd(&["INFO", section]).text()
}

/// The `k=v,k=v` fields of one INFO line value (`calls=1,usec=2,...`).
fn subfields(value: &str) -> HashMap<String, String> {
    value
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn config_get(c: &mut Raw, name: &str) -> String {
    let pair = c.cmd(&["CONFIG", "GET", name]).strings();
    assert_eq!(pair.len(), 2, "{name}: {pair:?}");
    pair[1].clone()
}

#[test]
fn info_sections_and_fields() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    let all = c.cmd(&["INFO"]).text();
    let headers: Vec<&str> = all.lines().filter(|l| l.starts_with("# ")).collect();
    assert_eq!(
        headers,
        [
            "# Server",
            "# Clients",
            "# Memory",
            "# Persistence",
            "# Stats",
            "# Replication",
            "# CPU",
            "# Modules",
            "# Errorstats",
            "# Cluster",
            "# Keyspace",
            "# Tiering"
        ]
    );
    assert!(all.contains("\r\n"), "lines end with CRLF");

    let s = info(&mut c, "server");
    assert!(s.starts_with("# Server\r\n"), "{s}");
    assert!(!s.contains("# Clients"));
    let version = info_field(&s, "redis_version").expect("redis_version");
    assert!(version.starts_with("7."), "{version}");
    assert_eq!(
        info_field(&s, "thermocline_version").as_deref(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(info_field(&s, "redis_mode").as_deref(), Some("standalone"));
    assert_eq!(info_field(&s, "arch_bits").as_deref(), Some("64"));
    assert!(!info_field(&s, "os").expect("os").is_empty());
    let pid = info_field(&s, "process_id").expect("process_id");
    assert!(pid.parse::<u32>().is_ok(), "{pid}");
    let run_id = info_field(&s, "run_id").expect("run_id");
    assert_eq!(run_id.len(), 40);
    assert!(run_id.chars().all(|ch| ch.is_ascii_hexdigit()), "{run_id}");
    assert_eq!(info_field(&s, "tcp_port"), Some(server.port().to_string()));
    for field in ["uptime_in_seconds", "hz", "executable", "config_file"] {
        assert!(info_field(&s, field).is_some(), "{field} missing");
    }

    let clients = info(&mut c, "clients");
    assert_eq!(
        info_field(&clients, "connected_clients").as_deref(),
        Some("1")
    );
    assert_eq!(info_field(&clients, "maxclients").as_deref(), Some("10000"));
    assert_eq!(
        info_field(&clients, "blocked_clients").as_deref(),
        Some("0")
    );
    let memory = info(&mut c, "memory");
    let used: u64 = info_field(&memory, "used_memory").unwrap().parse().unwrap();
    assert!(used > 0);
    assert_eq!(
        info_field(&memory, "maxmemory_policy").as_deref(),
        Some("noeviction")
    );
    let cluster = info(&mut c, "cluster");
    assert_eq!(cluster, "# Cluster\r\ncluster_enabled:0\r\n");
    let replication = info(&mut c, "replication");
    assert_eq!(info_field(&replication, "role").as_deref(), Some("master"));

    // Several sections at once, in Redis's order; unknown ones give nothing.
    let two = c.cmd(&["INFO", "cluster", "server"]).text();
    let server_at = two.find("# Server").expect("server");
    assert!(server_at < two.find("# Cluster").expect("cluster"));
    assert_eq!(c.cmd(&["INFO", "nosuchsection"]).text(), "");
    let everything = c.cmd(&["INFO", "everything"]).text();
    assert!(everything.contains("# Commandstats\r\n"));
    assert!(!all.contains("# Commandstats"), "not in the default set");
}

#[test]
fn info_keyspace_lines() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    assert_eq!(info(&mut c, "keyspace"), "# Keyspace\r\n");
    assert_eq!(c.cmd(&["SET", "a", "1"]), ok());
    assert_eq!(c.cmd(&["SET", "b", "2", "EX", "1000"]), ok());
    assert_eq!(c.cmd(&["SELECT", "3"]), ok());
    assert_eq!(c.cmd(&["SET", "c", "3"]), ok());
    let ks = info(&mut c, "keyspace");
    let lines: Vec<&str> = ks.lines().collect();
    assert_eq!(lines[0], "# Keyspace");
    assert_eq!(lines.len(), 3, "{ks}");
    let db0 = lines[1].strip_prefix("db0:").expect("db0 line");
    let f = subfields(db0);
    assert_eq!(f["keys"], "2");
    assert_eq!(f["expires"], "1");
    let avg: u64 = f["avg_ttl"].parse().expect("avg_ttl");
    assert!(avg <= 1_000_000, "{avg}");
    assert_eq!(lines[2], "db3:keys=1,expires=0,avg_ttl=0");
}

#[test]
fn info_commandstats_and_errorstats() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    assert_eq!(c.cmd(&["SET", "k", "w"]), ok());
    assert_eq!(
        c.cmd(&["SET", "k"]).err(),
        "ERR wrong number of arguments for 'set' command"
    );
    assert_eq!(
        c.cmd(&["INCR", "k"]).err(),
        "ERR value is not an integer or out of range"
    );
    c.cmd(&["CLIENT", "ID"]).int();
    assert_eq!(
        c.cmd(&["HELLO", "9"]).err(),
        "NOPROTO unsupported protocol version"
    );
    assert!(c.cmd(&["NOSUCH"]).err().starts_with("ERR unknown command"));

    let stats = info(&mut c, "commandstats");
    assert!(stats.starts_with("# Commandstats\r\n"), "{stats}");
    let set = subfields(&info_field(&stats, "cmdstat_set").expect("cmdstat_set"));
    assert_eq!(set["calls"], "2");
    assert_eq!(set["rejected_calls"], "1");
    assert_eq!(set["failed_calls"], "0");
    assert!(set.contains_key("usec") && set.contains_key("usec_per_call"));
    let incr = subfields(&info_field(&stats, "cmdstat_incr").expect("cmdstat_incr"));
    assert_eq!(
        (incr["calls"].as_str(), incr["failed_calls"].as_str()),
        ("1", "1")
    );
    let client_id = info_field(&stats, "cmdstat_client|id").expect("subcommands by full name");
    assert_eq!(subfields(&client_id)["calls"], "1");
    assert!(info_field(&stats, "cmdstat_get").is_none(), "never called");

    let errors = info(&mut c, "errorstats");
    assert_eq!(
        info_field(&errors, "errorstat_ERR").as_deref(),
        Some("count=3")
    );
    assert_eq!(
        info_field(&errors, "errorstat_NOPROTO").as_deref(),
        Some("count=1")
    );
    let st = info(&mut c, "stats");
    assert_eq!(info_field(&st, "total_error_replies").as_deref(), Some("4"));
    let processed: u64 = info_field(&st, "total_commands_processed")
        .unwrap()
        .parse()
        .unwrap();
    assert!(processed >= 6, "{processed}");

    // CONFIG RESETSTAT clears all of it.
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), ok());
    assert_eq!(info(&mut c, "errorstats"), "# Errorstats\r\n");
    let stats = info(&mut c, "commandstats");
    assert!(info_field(&stats, "cmdstat_set").is_none(), "{stats}");
    let st = info(&mut c, "stats");
    assert_eq!(info_field(&st, "total_error_replies").as_deref(), Some("0"));
}

#[test]
fn config_get_patterns() {
    let server = TestServer::start(&["--maxclients", "123"]);
    let mut con = server.client();
    let pairs: HashMap<String, String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("max*")
        .query(&mut con)
        .unwrap();
    assert_eq!(pairs["maxclients"], "123");
    assert_eq!(pairs["maxmemory"], "0");
    assert_eq!(pairs["maxmemory-policy"], "noeviction");
    assert!(!pairs.contains_key("timeout"));
    let mut c = Raw::connect(server.addr);
    // Several patterns; a name matched twice is listed once; names match without case.
    let list = c
        .cmd(&["CONFIG", "GET", "maxclients", "MAX*", "timeout"])
        .strings();
    assert_eq!(list.len(), 10, "{list:?}");
    let names: Vec<&String> = list.iter().step_by(2).collect();
    assert_eq!(names.iter().filter(|n| **n == "maxclients").count(), 1);
    assert!(names.iter().any(|n| *n == "timeout"));
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "MAXCLIENTS"]).strings(),
        ["maxclients", "123"]
    );
    // Aliases answer under their own name.
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "lua-time-limit"]).strings(),
        ["lua-time-limit", "5000"]
    );
    assert_eq!(c.cmd(&["CONFIG", "GET", "nosuch*"]), Resp::Array(vec![]));
    assert_eq!(
        c.cmd(&["CONFIG", "GET"]).err(),
        "ERR wrong number of arguments for 'config|get' command"
    );
    assert_eq!(config_get(&mut c, "proto-max-bulk-len"), "536870912");
}

#[test]
fn config_set_pairs_atomicity_and_errors() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "maxclients",
            "100",
            "timeout",
            "5",
            "hz",
            "20"
        ]),
        ok()
    );
    assert_eq!(config_get(&mut c, "maxclients"), "100");
    assert_eq!(config_get(&mut c, "timeout"), "5");
    assert_eq!(config_get(&mut c, "hz"), "20");
    // One bad value and nothing changes.
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxclients", "200", "timeout", "abc"])
            .err(),
        "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be \
         parsed into an integer"
    );
    assert_eq!(config_get(&mut c, "maxclients"), "100");
    assert_eq!(config_get(&mut c, "timeout"), "5");
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxclients", "200", "nosuch", "1"])
            .err(),
        "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"
    );
    assert_eq!(config_get(&mut c, "maxclients"), "100");
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "databases", "5"]).err(),
        "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable \
         config"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxclients", "1", "MAXCLIENTS", "2"])
            .err(),
        "ERR CONFIG SET failed (possibly related to argument 'MAXCLIENTS') - duplicate parameter"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxmemory-policy", "sometimes"])
            .err(),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) \
         must be one of the following: volatile-lru, volatile-lfu, volatile-random, \
         volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxclients"]).err(),
        "ERR wrong number of arguments for 'config|set' command"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxclients", "1", "timeout"])
            .err(),
        "ERR wrong number of arguments for 'config|set' command"
    );
    // Memory values take units and read back in bytes; names and values ignore case.
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "MAXMEMORY",
            "10mb",
            "maxmemory-policy",
            "ALLKEYS-LRU"
        ]),
        ok()
    );
    assert_eq!(config_get(&mut c, "maxmemory"), "10485760");
    assert_eq!(config_get(&mut c, "maxmemory-policy"), "allkeys-lru");
    assert_eq!(
        c.cmd(&["CONFIG", "REWRITE"]).err(),
        "ERR The server is running without a config file"
    );
    let help = c.cmd(&["CONFIG", "HELP"]).strings();
    assert!(help[0].starts_with("CONFIG <subcommand>"), "{help:?}");
}

#[test]
fn config_rewrite_updates_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("thermocline.conf");
    std::fs::write(
        &path,
        "# my settings\nmaxclients 50\n\n# idle clients\ntimeout 0\nloglevel notice\n",
    )
    .unwrap();
    let server = TestServer::start_with_config(dir, &path, &[]);
    let mut c = Raw::connect(server.addr);
    assert_eq!(config_get(&mut c, "maxclients"), "50");
    let s = info(&mut c, "server");
    let config_file = info_field(&s, "config_file").expect("config_file");
    assert_eq!(
        std::fs::canonicalize(&config_file).unwrap(),
        std::fs::canonicalize(&path).unwrap()
    );
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "maxclients",
            "77",
            "timeout",
            "30",
            "hz",
            "25"
        ]),
        ok()
    );
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), ok());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with(
            "# my settings\nmaxclients 77\n\n# idle clients\ntimeout 30\nloglevel notice\n"
        ),
        "comments and order kept, values updated:\n{text}"
    );
    assert!(
        text.contains("\nhz 25\n"),
        "changed options are added:\n{text}"
    );
    assert!(
        !text.contains("lfu-log-factor"),
        "defaults are not:\n{text}"
    );

    // The rewritten file starts a server with the same settings.
    let dir2 = tempfile::tempdir().expect("temp dir");
    let copy = dir2.path().join("copy.conf");
    std::fs::copy(&path, &copy).unwrap();
    let again = TestServer::start_with_config(dir2, &copy, &[]);
    let mut d = Raw::connect(again.addr);
    assert_eq!(config_get(&mut d, "maxclients"), "77");
    assert_eq!(config_get(&mut d, "timeout"), "30");
    assert_eq!(config_get(&mut d, "hz"), "25");
}

#[test]
fn command_info_shape() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    let all = c.cmd(&["COMMAND"]).items();
    let count = c.cmd(&["COMMAND", "COUNT"]).int();
    assert_eq!(all.len() as i64, count);
    assert!(count > 20);
    for entry in &all {
        assert_eq!(entry.items().len(), 10, "{entry:?}");
    }

    let info = c.cmd(&["COMMAND", "INFO", "get"]).items();
    assert_eq!(info.len(), 1);
    let get = info[0].items();
    assert_eq!(get[0].text(), "get");
    assert_eq!(get[1], Resp::Int(2));
    let flags = get[2].strings();
    assert!(flags.contains(&"readonly".to_string()) && flags.contains(&"fast".to_string()));
    assert_eq!(&get[3..6], [Resp::Int(1), Resp::Int(1), Resp::Int(1)]);
    let cats = get[6].strings();
    for cat in ["@read", "@string", "@fast"] {
        assert!(cats.contains(&cat.to_string()), "{cats:?}");
    }
    assert_eq!(get[7], Resp::Array(vec![]), "tips");
    let specs = get[8].items();
    assert_eq!(specs.len(), 1);
    let spec = specs[0].items();
    assert_eq!(spec[0].text(), "flags");
    assert_eq!(spec[2].text(), "begin_search");
    assert_eq!(spec[4].text(), "find_keys");
    assert_eq!(get[9], Resp::Array(vec![]), "no subcommands");

    let set = c.cmd(&["COMMAND", "INFO", "SET"]).items()[0].items();
    assert_eq!(set[1], Resp::Int(-3));
    assert!(set[2].strings().contains(&"write".to_string()));

    // Containers list their subcommands, each in the same shape.
    let config = c.cmd(&["COMMAND", "INFO", "config"]).items()[0].items();
    let subs = config[9].items();
    let names: Vec<String> = subs.iter().map(|s| s.items()[0].text()).collect();
    assert!(names.contains(&"config|get".to_string()), "{names:?}");
    assert!(subs.iter().all(|s| s.items().len() == 10));
    let sub = c.cmd(&["COMMAND", "INFO", "config|set"]).items()[0].items();
    assert_eq!(sub[0].text(), "config|set");
    assert_eq!(sub[1], Resp::Int(-4));

    assert_eq!(
        c.cmd(&["COMMAND", "INFO", "get", "nosuch", "get|key"])
            .items()[1..],
        [Resp::Nil, Resp::Nil]
    );
}

#[test]
fn command_docs_list_and_getkeys() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    let docs = c.cmd(&["COMMAND", "DOCS", "get", "nosuch"]).items();
    assert_eq!(docs.len(), 2, "unknown names are left out");
    assert_eq!(docs[0].text(), "get");
    let fields: Vec<String> = docs[1].items().iter().step_by(2).map(Resp::text).collect();
    for f in ["summary", "since", "group", "complexity"] {
        assert!(fields.contains(&f.to_string()), "{fields:?}");
    }
    let client_docs = c.cmd(&["COMMAND", "DOCS", "client"]).items();
    let client_fields: Vec<String> = client_docs[1]
        .items()
        .iter()
        .map(|r| match r {
            Resp::Bulk(_) | Resp::Simple(_) => r.text(),
            _ => String::new(),
        })
        .collect();
    assert!(client_fields.contains(&"subcommands".to_string()));

    let list = c.cmd(&["COMMAND", "LIST"]).strings();
    assert!(list.contains(&"get".to_string()));
    assert!(
        list.contains(&"client|list".to_string()),
        "subcommands are listed"
    );
    let clients = c
        .cmd(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "client*"])
        .strings();
    assert!(
        clients.contains(&"client".to_string()) && clients.contains(&"client|kill".to_string())
    );
    assert!(
        clients.iter().all(|n| n.starts_with("client")),
        "{clients:?}"
    );
    let exact = c
        .cmd(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "get"])
        .strings();
    assert_eq!(exact, ["get"]);
    let conn = c
        .cmd(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "connection"])
        .strings();
    assert!(conn.contains(&"ping".to_string()) && !conn.contains(&"get".to_string()));
    assert_eq!(
        c.cmd(&["COMMAND", "LIST", "FILTERBY", "MODULE", "none"]),
        Resp::Array(vec![])
    );
    assert_eq!(c.cmd(&["COMMAND", "LIST", "bad"]).err(), "ERR syntax error");
    assert_eq!(
        c.cmd(&["COMMAND", "LIST", "FILTERBY", "bad", "x"]).err(),
        "ERR syntax error"
    );

    assert_eq!(c.cmd(&["COMMAND", "GETKEYS", "GET", "k"]).strings(), ["k"]);
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"])
            .strings(),
        ["a", "b"]
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "PING"]).err(),
        "ERR The command has no key arguments"
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "NOSUCH", "k"]).err(),
        "ERR Invalid command specified"
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "GET"]).err(),
        "ERR Invalid number of arguments specified for command"
    );
    assert_eq!(
        c.cmd(&["COMMAND", "NOPE"]).err(),
        "ERR unknown subcommand 'NOPE'. Try COMMAND HELP."
    );
}

#[test]
fn time_is_now() {
    let server = TestServer::start(&[]);
    let mut con = server.client();
    let (secs, usecs): (String, String) = redis::cmd("TIME").query(&mut con).unwrap();
    let secs: u64 = secs.parse().expect("seconds");
    let usecs: u64 = usecs.parse().expect("microseconds");
    assert!(usecs < 1_000_000);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(secs.abs_diff(now) <= 60, "{secs} vs {now}");
    let mut c = Raw::connect(server.addr);
    assert_eq!(
        c.cmd(&["TIME", "x"]).err(),
        "ERR wrong number of arguments for 'time' command"
    );
}

#[test]
fn debug_sleep_digest_and_digest_value() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    let started = Instant::now();
    assert_eq!(c.cmd(&["DEBUG", "SLEEP", "0.1"]), ok());
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_eq!(c.cmd(&["DEBUG", "SLEEP", "0"]), ok());
    assert_eq!(
        c.cmd(&["DEBUG", "SLEEP", "abc"]),
        ok(),
        "not a number: no sleep"
    );

    let zeros = "0".repeat(40);
    assert_eq!(c.cmd(&["DEBUG", "DIGEST"]), Resp::Simple(zeros.clone()));
    assert_eq!(c.cmd(&["SET", "a", "1"]), ok());
    assert_eq!(c.cmd(&["SET", "b", "2", "EX", "100"]), ok());
    let d1 = c.cmd(&["DEBUG", "DIGEST"]).text();
    assert_eq!(d1.len(), 40);
    assert_ne!(d1, zeros);
    assert_eq!(c.cmd(&["DEBUG", "DIGEST"]).text(), d1, "stable");
    // A write changes it; undoing the write brings it back.
    assert_eq!(c.cmd(&["SET", "a", "changed"]), ok());
    let d2 = c.cmd(&["DEBUG", "DIGEST"]).text();
    assert_ne!(d2, d1);
    assert_eq!(c.cmd(&["SET", "a", "1"]), ok());
    assert_eq!(c.cmd(&["DEBUG", "DIGEST"]).text(), d1);

    // The same data written elsewhere, later, gives the same digest (TTLs count, not their time).
    let other = TestServer::start(&[]);
    let mut o = Raw::connect(other.addr);
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(o.cmd(&["SET", "b", "2", "EX", "500"]), ok());
    assert_eq!(o.cmd(&["SET", "a", "1"]), ok());
    assert_eq!(o.cmd(&["DEBUG", "DIGEST"]).text(), d1);
    assert_eq!(o.cmd(&["PERSIST", "b"]), Resp::Int(1));
    assert_ne!(o.cmd(&["DEBUG", "DIGEST"]).text(), d1);

    let values = c
        .cmd(&["DEBUG", "DIGEST-VALUE", "a", "missing", "a"])
        .items();
    assert_eq!(values.len(), 3);
    let va = values[0].text();
    assert_eq!(va.len(), 40);
    assert_ne!(va, zeros);
    assert_eq!(values[1], Resp::Simple(zeros));
    assert_eq!(values[2].text(), va);
    // DIGEST-VALUE depends on the value, not the key.
    assert_eq!(c.cmd(&["SET", "c", "1"]), ok());
    assert_eq!(c.cmd(&["DEBUG", "DIGEST-VALUE", "c"]).items()[0].text(), va);
    assert_eq!(c.cmd(&["DEBUG", "DIGEST-VALUE"]), Resp::Array(vec![]));
    assert_eq!(
        c.cmd(&["DEBUG", "NOPE"]).err(),
        "ERR unknown subcommand or wrong number of arguments for 'NOPE'. Try DEBUG HELP."
    );
}

#[test]
fn shutdown_exits_zero() {
    let mut server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    assert_eq!(
        c.cmd(&["SHUTDOWN", "SAVE", "NOSAVE"]).err(),
        "ERR syntax error"
    );
    assert_eq!(c.cmd(&["SHUTDOWN", "BOGUS"]).err(), "ERR syntax error");
    assert_eq!(
        c.cmd(&["SHUTDOWN", "ABORT"]).err(),
        "ERR No shutdown in progress."
    );
    assert!(server.is_running());
    let mut bystander = Raw::connect(server.addr);
    assert_eq!(bystander.cmd(&["PING"]), Resp::Simple("PONG".into()));
    // A successful SHUTDOWN sends no reply: the connection just closes.
    c.send_cmd(&["SHUTDOWN", "NOSAVE"]);
    assert_eq!(c.read_to_close(), "");
    assert_eq!(server.wait_exit(Duration::from_secs(10)), Some(0));
    assert!(bystander.is_closed());
}

#[test]
fn sigterm_exits_cleanly() {
    let mut server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    assert_eq!(server.terminate(), Some(0));
    assert!(c.is_closed());
    assert!(
        server.log().contains("Received signal, shutting down"),
        "{}",
        server.log()
    );
}

#[test]
fn config_set_port_moves_the_listener() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    let old_port = server.port().to_string();
    // Setting the value in force changes nothing.
    assert_eq!(c.cmd(&["CONFIG", "SET", "bind", "127.0.0.1"]), ok());

    // A port in use: refused, and nothing changes (the other pair is rolled back too).
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let busy_port = busy.local_addr().unwrap().port().to_string();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxclients", "99", "port", &busy_port]).err(),
        "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port"
    );
    assert_eq!(config_get(&mut c, "maxclients"), "10000");
    assert_eq!(config_get(&mut c, "port"), "0");
    let mut still = Raw::connect(server.addr);
    assert_eq!(still.cmd(&["PING"]), Resp::Simple("PONG".into()));
    drop(busy);

    // A free port: new connections go there; connected clients stay.
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let new_port = free.local_addr().unwrap().port();
    drop(free);
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "port", &new_port.to_string()]),
        ok()
    );
    assert_eq!(config_get(&mut c, "port"), new_port.to_string());
    let s = info(&mut c, "server");
    assert_eq!(info_field(&s, "tcp_port"), Some(new_port.to_string()));
    let mut moved = Raw::connect(std::net::SocketAddr::from(([127, 0, 0, 1], new_port)));
    assert_eq!(moved.cmd(&["PING"]), Resp::Simple("PONG".into()));
    assert_eq!(still.cmd(&["PING"]), Resp::Simple("PONG".into()));
    assert!(
        std::net::TcpStream::connect(format!("127.0.0.1:{old_port}")).is_err(),
        "the old port is closed"
    );
}

/// Redis's test suite sets `list-max-listpack-size` at the top level of unit/keyspace (before its
/// list COPY tests), so an unknown option aborts the whole unit; it is accepted and validated.
#[test]
fn config_list_max_listpack_size_is_accepted() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    assert_eq!(config_get(&mut c, "list-max-listpack-size"), "-2");
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "list-max-listpack-size", "-1"]),
        ok()
    );
    assert_eq!(config_get(&mut c, "list-max-listpack-size"), "-1");
    // The Redis 6 name is an alias.
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "list-max-ziplist-size", "128"]),
        ok()
    );
    assert_eq!(config_get(&mut c, "list-max-ziplist-size"), "128");
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "list-max-listpack-size", "x"])
            .err(),
        "ERR CONFIG SET failed (possibly related to argument 'list-max-listpack-size') - \
         argument couldn't be parsed into an integer"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "list-max-listpack-size", "2147483648"])
            .err(),
        "ERR CONFIG SET failed (possibly related to argument 'list-max-listpack-size') - \
         argument must be between -2147483648 and 2147483647 inclusive"
    );
}

/// Redis's `CONFIG SET rollback on set error` and `CONFIG SET set immutable` tests use
/// `maxmemory-clients` (a memory or percent value) and `daemonize` (immutable).
#[test]
fn config_maxmemory_clients_and_daemonize() {
    let server = TestServer::start(&[]);
    let mut c = Raw::connect(server.addr);
    assert_eq!(config_get(&mut c, "maxmemory-clients"), "0");
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "10000002"]), ok());
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "maxmemory",
            "10000001",
            "maxmemory-clients",
            "200%",
            "client-query-buffer-limit",
            "invalid"
        ])
        .err(),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage \
         argument must be less or equal to 100"
    );
    assert_eq!(config_get(&mut c, "maxmemory"), "10000002");
    assert_eq!(config_get(&mut c, "maxmemory-clients"), "0");
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory-clients", "10%"]), ok());
    assert_eq!(config_get(&mut c, "maxmemory-clients"), "10%");
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory-clients", "1mb"]), ok());
    assert_eq!(config_get(&mut c, "maxmemory-clients"), "1048576");
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxmemory-clients", "lots"]).err(),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - argument \
         must be a memory or percent value"
    );
    assert_eq!(config_get(&mut c, "daemonize"), "no");
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "daemonize", "yes"]).err(),
        "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable \
         config"
    );
}
