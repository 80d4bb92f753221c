//! Model-based property tests for hashes, sets and strings over a real connection: random
//! command sequences run against the server and against a plain `BTreeMap` model, and every
//! reply and the final contents must agree. (Lists, sorted sets and Pub/Sub have their own in
//! tests/list.rs, tests/zset.rs and tests/pubsub.rs.)

mod common;
mod kvhelp;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use common::TestServer;
use kvhelp::*;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use redis::{Connection, Value};

/// Three keys, so that commands keep meeting each other's keys (STORE onto a source, SMOVE to itself).
fn key() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("a"), Just("b"), Just("shared")]
}

fn small() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..6u8).prop_map(|i| format!("m{i}")),
        (0..4i32).prop_map(|i| i.to_string()),
    ]
}

#[derive(Clone, Debug)]
enum HashOp {
    Set(&'static str, Vec<(String, String)>),
    SetNx(&'static str, String, String),
    Del(&'static str, Vec<String>),
    IncrBy(&'static str, String, i64),
    Get(&'static str, String),
    Len(&'static str),
    Exists(&'static str, String),
    GetAll(&'static str),
}

fn hash_op() -> impl Strategy<Value = HashOp> {
    prop_oneof![
        (key(), prop::collection::vec((small(), small()), 1..4))
            .prop_map(|(k, p)| HashOp::Set(k, p)),
        (key(), small(), small()).prop_map(|(k, f, v)| HashOp::SetNx(k, f, v)),
        (key(), prop::collection::vec(small(), 1..4)).prop_map(|(k, f)| HashOp::Del(k, f)),
        (key(), small(), -5i64..5).prop_map(|(k, f, by)| HashOp::IncrBy(k, f, by)),
        (key(), small()).prop_map(|(k, f)| HashOp::Get(k, f)),
        key().prop_map(HashOp::Len),
        (key(), small()).prop_map(|(k, f)| HashOp::Exists(k, f)),
        key().prop_map(HashOp::GetAll),
    ]
}

type Hashes = BTreeMap<&'static str, BTreeMap<String, String>>;

/// Runs `op` on the model; the expected reply, normalised for comparison.
fn hash_model(m: &mut Hashes, op: &HashOp) -> String {
    match op {
        HashOp::Set(k, pairs) => {
            let h = m.entry(k).or_default();
            let added = pairs
                .iter()
                .filter(|(f, v)| h.insert(f.clone(), v.clone()).is_none())
                .count();
            added.to_string()
        }
        HashOp::SetNx(k, f, v) => {
            let h = m.entry(k).or_default();
            if h.contains_key(f) {
                "0".into()
            } else {
                h.insert(f.clone(), v.clone());
                "1".into()
            }
        }
        HashOp::Del(k, fields) => {
            let Some(h) = m.get_mut(k) else {
                return "0".into();
            };
            let n = fields.iter().filter(|f| h.remove(*f).is_some()).count();
            if h.is_empty() {
                m.remove(k);
            }
            n.to_string()
        }
        HashOp::IncrBy(k, f, by) => {
            let h = m.entry(k).or_default();
            let cur = h.get(f).map(|v| v.parse::<i64>());
            match cur {
                Some(Err(_)) => {
                    if h.is_empty() {
                        m.remove(k);
                    }
                    "ERR hash value is not an integer".into()
                }
                other => {
                    let n = other.map_or(0, |r| r.unwrap_or(0)) + by;
                    h.insert(f.clone(), n.to_string());
                    n.to_string()
                }
            }
        }
        HashOp::Get(k, f) => m
            .get(k)
            .and_then(|h| h.get(f))
            .cloned()
            .unwrap_or_else(|| "nil".into()),
        HashOp::Len(k) => m.get(k).map_or(0, |h| h.len()).to_string(),
        HashOp::Exists(k, f) => (m.get(k).is_some_and(|h| h.contains_key(f)) as i64).to_string(),
        HashOp::GetAll(k) => format!("{:?}", m.get(k).cloned().unwrap_or_default()),
    }
}

fn hash_server(c: &mut Connection, op: &HashOp) -> String {
    let args: Vec<String> = match op {
        HashOp::Set(k, pairs) => {
            let mut a = vec!["HSET".to_string(), k.to_string()];
            for (f, v) in pairs {
                a.push(f.clone());
                a.push(v.clone());
            }
            a
        }
        HashOp::SetNx(k, f, v) => vec!["HSETNX".into(), k.to_string(), f.clone(), v.clone()],
        HashOp::Del(k, fs) => {
            let mut a = vec!["HDEL".to_string(), k.to_string()];
            a.extend(fs.iter().cloned());
            a
        }
        HashOp::IncrBy(k, f, by) => {
            vec!["HINCRBY".into(), k.to_string(), f.clone(), by.to_string()]
        }
        HashOp::Get(k, f) => vec!["HGET".into(), k.to_string(), f.clone()],
        HashOp::Len(k) => vec!["HLEN".into(), k.to_string()],
        HashOp::Exists(k, f) => vec!["HEXISTS".into(), k.to_string(), f.clone()],
        HashOp::GetAll(k) => {
            let all: BTreeMap<String, String> = q(c, &["HGETALL", k]);
            return format!("{all:?}");
        }
    };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    normalise(cmd(&args).query::<Value>(c))
}

fn normalise(r: redis::RedisResult<Value>) -> String {
    match r {
        Ok(Value::Nil) => "nil".into(),
        Ok(Value::Int(n)) => n.to_string(),
        Ok(Value::BulkString(b)) => String::from_utf8_lossy(&b).into_owned(),
        Ok(Value::Okay) => "OK".into(),
        Ok(other) => format!("{other:?}"),
        Err(e) => error_text(&e),
    }
}

#[test]
fn hashes_follow_a_model() {
    let server = TestServer::start(&[]);
    let c = RefCell::new(server.client());
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    });
    runner
        .run(&prop::collection::vec(hash_op(), 1..40), |ops| {
            let c = &mut *c.borrow_mut();
            let _: () = q(c, &["FLUSHALL"]);
            let mut model = Hashes::new();
            for op in &ops {
                let want = hash_model(&mut model, op);
                let got = hash_server(c, op);
                prop_assert_eq!(&got, &want, "{:?}", op);
            }
            // Emptied hashes are gone; the others hold exactly the model's fields.
            for k in ["a", "b", "shared"] {
                let exists: i64 = q(c, &["EXISTS", k]);
                prop_assert_eq!(exists == 1, model.contains_key(k), "{}", k);
            }
            Ok(())
        })
        .unwrap();
}

#[derive(Clone, Debug)]
enum SetOp {
    Add(&'static str, Vec<String>),
    Rem(&'static str, Vec<String>),
    IsMember(&'static str, String),
    Card(&'static str),
    Pop(&'static str),
    Move(&'static str, &'static str, String),
    InterStore(&'static str, &'static str, &'static str),
    UnionStore(&'static str, &'static str, &'static str),
    DiffStore(&'static str, &'static str, &'static str),
    Members(&'static str),
}

fn set_op() -> impl Strategy<Value = SetOp> {
    prop_oneof![
        (key(), prop::collection::vec(small(), 1..4)).prop_map(|(k, m)| SetOp::Add(k, m)),
        (key(), prop::collection::vec(small(), 1..4)).prop_map(|(k, m)| SetOp::Rem(k, m)),
        (key(), small()).prop_map(|(k, m)| SetOp::IsMember(k, m)),
        key().prop_map(SetOp::Card),
        key().prop_map(SetOp::Pop),
        (key(), key(), small()).prop_map(|(a, b, m)| SetOp::Move(a, b, m)),
        (key(), key(), key()).prop_map(|(d, a, b)| SetOp::InterStore(d, a, b)),
        (key(), key(), key()).prop_map(|(d, a, b)| SetOp::UnionStore(d, a, b)),
        (key(), key(), key()).prop_map(|(d, a, b)| SetOp::DiffStore(d, a, b)),
        key().prop_map(SetOp::Members),
    ]
}

type Sets = BTreeMap<&'static str, BTreeSet<String>>;

fn store(m: &mut Sets, dst: &'static str, result: BTreeSet<String>) -> String {
    let n = result.len();
    if result.is_empty() {
        m.remove(dst);
    } else {
        m.insert(dst, result);
    }
    n.to_string()
}

fn set_model(m: &mut Sets, op: &SetOp, popped: Option<&str>) -> String {
    let get = |m: &Sets, k: &str| m.get(k).cloned().unwrap_or_default();
    match op {
        SetOp::Add(k, ms) => {
            let s = m.entry(k).or_default();
            ms.iter()
                .filter(|x| s.insert((*x).clone()))
                .count()
                .to_string()
        }
        SetOp::Rem(k, ms) => {
            let Some(s) = m.get_mut(k) else {
                return "0".into();
            };
            let n = ms.iter().filter(|x| s.remove(*x)).count();
            if s.is_empty() {
                m.remove(k);
            }
            n.to_string()
        }
        SetOp::IsMember(k, x) => (get(m, k).contains(x) as i64).to_string(),
        SetOp::Card(k) => get(m, k).len().to_string(),
        SetOp::Pop(k) => match popped {
            // The server chose the member: it must have been there; remove it from the model.
            Some(x) => {
                let s = m.get_mut(k).expect("popped from a set the model has");
                assert!(s.remove(x), "SPOP returned {x}, not a member");
                if s.is_empty() {
                    m.remove(k);
                }
                x.to_string()
            }
            None => {
                assert!(!m.contains_key(k), "SPOP of a non-empty set returned nil");
                "nil".into()
            }
        },
        SetOp::Move(a, b, x) => {
            if !get(m, a).contains(x) {
                return "0".into();
            }
            if a != b {
                let s = m.get_mut(a).expect("checked");
                s.remove(x);
                if s.is_empty() {
                    m.remove(a);
                }
                m.entry(b).or_default().insert(x.clone());
            }
            "1".into()
        }
        SetOp::InterStore(d, a, b) => {
            let r = get(m, a).intersection(&get(m, b)).cloned().collect();
            store(m, d, r)
        }
        SetOp::UnionStore(d, a, b) => {
            let r = get(m, a).union(&get(m, b)).cloned().collect();
            store(m, d, r)
        }
        SetOp::DiffStore(d, a, b) => {
            let r = get(m, a).difference(&get(m, b)).cloned().collect();
            store(m, d, r)
        }
        SetOp::Members(k) => format!("{:?}", get(m, k)),
    }
}

fn set_server(c: &mut Connection, op: &SetOp) -> String {
    let args: Vec<String> = match op {
        SetOp::Add(k, ms) | SetOp::Rem(k, ms) => {
            let name = if matches!(op, SetOp::Add(..)) {
                "SADD"
            } else {
                "SREM"
            };
            let mut a = vec![name.to_string(), k.to_string()];
            a.extend(ms.iter().cloned());
            a
        }
        SetOp::IsMember(k, x) => vec!["SISMEMBER".into(), k.to_string(), x.clone()],
        SetOp::Card(k) => vec!["SCARD".into(), k.to_string()],
        SetOp::Pop(k) => vec!["SPOP".into(), k.to_string()],
        SetOp::Move(a, b, x) => vec!["SMOVE".into(), a.to_string(), b.to_string(), x.clone()],
        SetOp::InterStore(d, a, b) => vec![
            "SINTERSTORE".into(),
            d.to_string(),
            a.to_string(),
            b.to_string(),
        ],
        SetOp::UnionStore(d, a, b) => vec![
            "SUNIONSTORE".into(),
            d.to_string(),
            a.to_string(),
            b.to_string(),
        ],
        SetOp::DiffStore(d, a, b) => vec![
            "SDIFFSTORE".into(),
            d.to_string(),
            a.to_string(),
            b.to_string(),
        ],
        SetOp::Members(k) => {
            let all: BTreeSet<String> = q(c, &["SMEMBERS", k]);
            return format!("{all:?}");
        }
    };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    normalise(cmd(&args).query::<Value>(c))
}

#[test]
fn sets_follow_a_model() {
    let server = TestServer::start(&[]);
    let c = RefCell::new(server.client());
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    });
    runner
        .run(&prop::collection::vec(set_op(), 1..40), |ops| {
            let c = &mut *c.borrow_mut();
            let _: () = q(c, &["FLUSHALL"]);
            let mut model = Sets::new();
            for op in &ops {
                let got = set_server(c, op);
                let popped = matches!(op, SetOp::Pop(_))
                    .then_some(got.as_str())
                    .filter(|g| *g != "nil");
                let want = set_model(&mut model, op, popped);
                prop_assert_eq!(&got, &want, "{:?}", op);
            }
            for k in ["a", "b", "shared"] {
                let members: BTreeSet<String> = q(c, &["SMEMBERS", k]);
                prop_assert_eq!(
                    &members,
                    &model.get(k).cloned().unwrap_or_default(),
                    "{}",
                    k
                );
            }
            Ok(())
        })
        .unwrap();
}
