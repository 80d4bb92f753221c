//! What a run sends: the command mix, the keys' names, the values (a function of the key, so
//! that any reply can be checked), and the check of each reply.

use bytes::BytesMut;
use rand::Rng;
use redis_protocol::resp2::encode::extend_encode_borrowed;
use redis_protocol::resp2::types::{BorrowedFrame, BytesFrame};

/// The commands a mix can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Command {
    Get,
    Set,
    /// MGET of `MGET_KEYS` keys.
    Mget,
    Hget,
    Hset,
    Zadd,
    Zscore,
    Lpush,
    Lpop,
    Incr,
}

/// Keys one MGET names.
pub const MGET_KEYS: usize = 10;

impl Command {
    pub const ALL: [Command; 10] = [
        Command::Get,
        Command::Set,
        Command::Mget,
        Command::Hget,
        Command::Hset,
        Command::Zadd,
        Command::Zscore,
        Command::Lpush,
        Command::Lpop,
        Command::Incr,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Command::Get => "get",
            Command::Set => "set",
            Command::Mget => "mget",
            Command::Hget => "hget",
            Command::Hset => "hset",
            Command::Zadd => "zadd",
            Command::Zscore => "zscore",
            Command::Lpush => "lpush",
            Command::Lpop => "lpop",
            Command::Incr => "incr",
        }
    }

    /// The kind of key the command works on, which names the key and what the load phase
    /// creates.
    pub fn keyspace(self) -> KeyKind {
        match self {
            Command::Get | Command::Set | Command::Mget => KeyKind::String,
            Command::Hget | Command::Hset => KeyKind::Hash,
            Command::Zadd | Command::Zscore => KeyKind::ZSet,
            Command::Lpush | Command::Lpop => KeyKind::List,
            Command::Incr => KeyKind::Counter,
        }
    }
}

/// The kinds of keys a run uses; each has its own names (`<prefix><kind>:<index>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyKind {
    String,
    Hash,
    ZSet,
    List,
    Counter,
}

impl KeyKind {
    fn tag(self) -> &'static str {
        match self {
            KeyKind::String => "s",
            KeyKind::Hash => "h",
            KeyKind::ZSet => "z",
            KeyKind::List => "l",
            KeyKind::Counter => "c",
        }
    }
}

/// The commands of a run with their weights, parsed from `--mix get=8,set=2`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mix {
    entries: Vec<(Command, u32)>,
    total: u32,
}

impl Mix {
    pub fn parse(text: &str) -> Result<Mix, String> {
        let mut entries: Vec<(Command, u32)> = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = part.split_once('=').unwrap_or((part, "1"));
            let command = Command::ALL
                .into_iter()
                .find(|c| c.name().eq_ignore_ascii_case(name.trim()))
                .ok_or_else(|| {
                    let names: Vec<&str> = Command::ALL.iter().map(|c| c.name()).collect();
                    format!(
                        "unknown command `{name}` in the mix (known: {})",
                        names.join(", ")
                    )
                })?;
            let weight: u32 = weight
                .trim()
                .parse()
                .map_err(|_| format!("weight `{weight}` of {name} is not a whole number"))?;
            if entries.iter().any(|(c, _)| *c == command) {
                return Err(format!("{name} appears twice in the mix"));
            }
            if weight > 0 {
                entries.push((command, weight));
            }
        }
        let total = entries.iter().map(|(_, w)| *w).sum();
        if total == 0 {
            return Err(format!(
                "the mix `{text}` has no command with a weight above 0"
            ));
        }
        Ok(Mix { entries, total })
    }

    /// A command drawn by weight.
    pub fn pick(&self, rng: &mut impl Rng) -> Command {
        let mut n = rng.gen_range(0..self.total);
        for &(c, w) in &self.entries {
            if n < w {
                return c;
            }
            n -= w;
        }
        self.entries[0].0
    }

    pub fn commands(&self) -> impl Iterator<Item = Command> + '_ {
        self.entries.iter().map(|(c, _)| *c)
    }

    /// The kinds of keys the load phase must create for the mix's reads to find values.
    pub fn loaded_kinds(&self) -> Vec<KeyKind> {
        let mut kinds: Vec<KeyKind> = self
            .commands()
            .filter(|c| {
                matches!(
                    c,
                    Command::Get | Command::Mget | Command::Hget | Command::Zscore
                )
            })
            .map(Command::keyspace)
            .collect();
        kinds.sort();
        kinds.dedup();
        kinds
    }
}

impl std::fmt::Display for Mix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .entries
            .iter()
            .map(|(c, w)| format!("{}={w}", c.name()))
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// The size of each key's value: fixed, or spread evenly over a range (each key always gets
/// the same size, so that its value is known).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueSize {
    pub min: usize,
    pub max: usize,
}

impl ValueSize {
    /// Parses `100` or `100-1000` (bytes; `k` after a number means KiB).
    pub fn parse(text: &str) -> Result<ValueSize, String> {
        let one = |t: &str| -> Result<usize, String> {
            let t = t.trim();
            let (digits, scale) = match t.strip_suffix(['k', 'K']) {
                Some(d) => (d, 1024),
                None => (t, 1),
            };
            digits
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_mul(scale))
                .filter(|&n| n <= 512 << 20)
                .ok_or_else(|| format!("value size `{t}` is not a size in bytes (up to 512 MiB)"))
        };
        let (min, max) = match text.split_once('-') {
            Some((a, b)) => (one(a)?, one(b)?),
            None => {
                let n = one(text)?;
                (n, n)
            }
        };
        if min > max {
            return Err(format!("value size range `{text}` runs backwards"));
        }
        Ok(ValueSize { min, max })
    }

    /// The size of key `index`'s value.
    pub fn of(&self, index: u64) -> usize {
        if self.min == self.max {
            return self.min;
        }
        self.min + (mix64(index) % (self.max - self.min + 1) as u64) as usize
    }
}

impl std::fmt::Display for ValueSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.min == self.max {
            write!(f, "{}", self.min)
        } else {
            write!(f, "{}-{}", self.min, self.max)
        }
    }
}

/// A 64-bit mixer (splitmix64's finalizer): spreads key indices into sizes and bytes.
fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// How keys are named and values made.
#[derive(Debug, Clone)]
pub struct Keys {
    pub prefix: String,
    pub count: u64,
    pub size: ValueSize,
}

impl Keys {
    /// The name of key `index` of `kind`.
    pub fn name(&self, kind: KeyKind, index: u64, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(self.prefix.as_bytes());
        out.extend_from_slice(kind.tag().as_bytes());
        out.push(b':');
        out.extend_from_slice(index.to_string().as_bytes());
    }

    /// The value of key `index`: `ValueSize::of(index)` bytes, always the same for one key
    /// (its index in decimal, then letters drawn from it), so that a reply can be checked.
    pub fn value(&self, index: u64, out: &mut Vec<u8>) {
        let len = self.size.of(index);
        out.clear();
        out.extend_from_slice(index.to_string().as_bytes());
        out.push(b':');
        let mut state = mix64(index);
        while out.len() < len {
            state = mix64(state);
            for b in state.to_le_bytes() {
                if out.len() == len {
                    break;
                }
                out.push(b'a' + b % 26);
            }
        }
        out.truncate(len);
    }
}

/// One request sent, as the reply check needs it.
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    pub command: Command,
    /// The first key's index.
    pub index: u64,
    /// Whether to check the reply's content (a sample of reads).
    pub verify: bool,
}

/// Appends `command` on key `index` (and, for MGET, the keys after it) to `buf` as a RESP
/// array.
pub fn encode(
    keys: &Keys,
    command: Command,
    index: u64,
    buf: &mut BytesMut,
    scratch: &mut Scratch,
) {
    let kind = command.keyspace();
    keys.name(kind, index, &mut scratch.key);
    let key = &scratch.key[..];
    match command {
        Command::Get => array(buf, &[b"GET", key]),
        Command::Set => {
            keys.value(index, &mut scratch.value);
            array(buf, &[b"SET", key, &scratch.value]);
        }
        Command::Mget => {
            let mut names: Vec<Vec<u8>> = Vec::with_capacity(MGET_KEYS);
            for i in 0..MGET_KEYS as u64 {
                let mut k = Vec::new();
                keys.name(kind, (index + i) % keys.count.max(1), &mut k);
                names.push(k);
            }
            let mut args: Vec<&[u8]> = vec![b"MGET"];
            args.extend(names.iter().map(|k| &k[..]));
            array(buf, &args);
        }
        Command::Hget => array(buf, &[b"HGET", key, b"f"]),
        Command::Hset => {
            keys.value(index, &mut scratch.value);
            array(buf, &[b"HSET", key, b"f", &scratch.value]);
        }
        Command::Zadd => {
            let score = index.to_string();
            array(buf, &[b"ZADD", key, score.as_bytes(), b"m"]);
        }
        Command::Zscore => array(buf, &[b"ZSCORE", key, b"m"]),
        Command::Lpush => {
            keys.value(index, &mut scratch.value);
            array(buf, &[b"LPUSH", key, &scratch.value]);
        }
        Command::Lpop => array(buf, &[b"LPOP", key]),
        Command::Incr => array(buf, &[b"INCR", key]),
    }
}

/// Buffers [`encode`] and [`check`] reuse.
#[derive(Debug, Default)]
pub struct Scratch {
    key: Vec<u8>,
    value: Vec<u8>,
    expected: Vec<u8>,
}

/// Appends the RESP array of bulk strings `args` (a request) to `buf`.
fn array(buf: &mut BytesMut, args: &[&[u8]]) {
    let frames: Vec<BorrowedFrame> = args.iter().map(|a| BorrowedFrame::BulkString(a)).collect();
    extend_encode_borrowed(buf, &BorrowedFrame::Array(&frames), false)
        .expect("a request of bulk strings always encodes");
}

/// What a reply says about the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Not checked (or nothing to check).
    Unchecked,
    /// Checked and right.
    Right,
    /// A read found no value where the load phase put one.
    Missing,
    /// Checked and wrong: what was wrong.
    Wrong(String),
    /// The server answered an error.
    Error(String),
}

/// Checks the reply to `sent`. With `loaded`, the load phase put a value under every key, so
/// a read that finds none is `Missing`.
pub fn check(
    keys: &Keys,
    sent: &Sent,
    reply: &BytesFrame,
    loaded: bool,
    scratch: &mut Scratch,
) -> Verdict {
    if let BytesFrame::Error(e) = reply {
        return Verdict::Error(e.to_string());
    }
    if !sent.verify {
        return Verdict::Unchecked;
    }
    let mut expect_value = |index: u64, got: &BytesFrame| -> Verdict {
        match got {
            BytesFrame::BulkString(b) => {
                keys.value(index, &mut scratch.expected);
                if b[..] == scratch.expected[..] {
                    Verdict::Right
                } else {
                    Verdict::Wrong(format!(
                        "key {index}: {} bytes, expected {}",
                        b.len(),
                        scratch.expected.len()
                    ))
                }
            }
            BytesFrame::Null if loaded => Verdict::Missing,
            BytesFrame::Null => Verdict::Unchecked,
            other => Verdict::Wrong(format!("key {index}: unexpected reply {other:?}")),
        }
    };
    match sent.command {
        Command::Get | Command::Hget => expect_value(sent.index, reply),
        Command::Mget => match reply {
            BytesFrame::Array(items) if items.len() == MGET_KEYS => {
                for (i, item) in items.iter().enumerate() {
                    let index = (sent.index + i as u64) % keys.count.max(1);
                    match expect_value(index, item) {
                        Verdict::Right | Verdict::Unchecked => {}
                        other => return other,
                    }
                }
                Verdict::Right
            }
            other => Verdict::Wrong(format!("MGET answered {other:?}")),
        },
        Command::Zscore => match reply {
            BytesFrame::BulkString(b) if b[..] == *sent.index.to_string().as_bytes() => {
                Verdict::Right
            }
            BytesFrame::Null if !loaded => Verdict::Unchecked,
            BytesFrame::Null => Verdict::Missing,
            other => Verdict::Wrong(format!("ZSCORE of key {}: {other:?}", sent.index)),
        },
        _ => Verdict::Unchecked,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use rand::SeedableRng;

    fn keys(size: &str) -> Keys {
        Keys {
            prefix: "tb:".into(),
            count: 100,
            size: ValueSize::parse(size).unwrap(),
        }
    }

    #[test]
    fn mixes_parse_and_pick_by_weight() {
        let mix = Mix::parse("get=8, SET=2,hget=0").unwrap();
        assert_eq!(mix.to_string(), "get=8,set=2");
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let gets = (0..10_000)
            .filter(|_| mix.pick(&mut rng) == Command::Get)
            .count();
        assert!((7_700..8_300).contains(&gets), "{gets}");
        assert_eq!(mix.loaded_kinds(), vec![KeyKind::String]);
        assert_eq!(Mix::parse("get").unwrap().to_string(), "get=1");
        for bad in ["", "get=0", "frob=1", "get=x", "get=1,get=2"] {
            assert!(Mix::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn value_sizes_parse_and_stay_in_range() {
        assert_eq!(
            ValueSize::parse("1k").unwrap(),
            ValueSize {
                min: 1024,
                max: 1024
            }
        );
        let r = ValueSize::parse("10-20").unwrap();
        let sizes: Vec<usize> = (0..1000).map(|i| r.of(i)).collect();
        assert!(sizes.iter().all(|s| (10..=20).contains(s)));
        assert!(sizes.contains(&10) && sizes.contains(&20));
        for bad in ["", "x", "20-10", "1-", "600000k"] {
            assert!(ValueSize::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_are_a_function_of_the_key() {
        let k = keys("5-300");
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for i in [0u64, 1, 99, 12345] {
            k.value(i, &mut a);
            k.value(i, &mut b);
            assert_eq!(a, b);
            assert_eq!(a.len(), k.size.of(i));
        }
        k.value(1, &mut a);
        k.value(2, &mut b);
        assert_ne!(a, b);
    }

    #[test]
    fn requests_are_resp_arrays() {
        let k = keys("4");
        let mut buf = BytesMut::new();
        let mut s = Scratch::default();
        encode(&k, Command::Set, 7, &mut buf, &mut s);
        encode(&k, Command::Zscore, 7, &mut buf, &mut s);
        assert!(buf.starts_with(b"*3\r\n$3\r\nSET\r\n$6\r\ntb:s:7\r\n$4\r\n7:"));
        assert!(buf.ends_with(b"*3\r\n$6\r\nZSCORE\r\n$6\r\ntb:z:7\r\n$1\r\nm\r\n"));
        // Parsed back by the protocol crate: two frames, SET's value the key's value.
        let mut rest = buf.clone();
        let (frame, _, _) = redis_protocol::resp2::decode::decode_bytes_mut(&mut rest)
            .unwrap()
            .unwrap();
        let mut value = Vec::new();
        k.value(7, &mut value);
        match frame {
            BytesFrame::Array(args) => {
                assert_eq!(args[0], BytesFrame::BulkString(Bytes::from_static(b"SET")));
                assert_eq!(args[2], BytesFrame::BulkString(Bytes::from(value)));
            }
            other => panic!("{other:?}"),
        }
        assert!(redis_protocol::resp2::decode::decode_bytes_mut(&mut rest)
            .unwrap()
            .is_some());
        assert!(rest.is_empty());
    }

    #[test]
    fn replies_are_checked() {
        let k = keys("10");
        let mut s = Scratch::default();
        let mut right = Vec::new();
        k.value(3, &mut right);
        let get = Sent {
            command: Command::Get,
            index: 3,
            verify: true,
        };
        let bulk = |b: &[u8]| BytesFrame::BulkString(Bytes::copy_from_slice(b));
        assert_eq!(check(&k, &get, &bulk(&right), true, &mut s), Verdict::Right);
        assert!(matches!(
            check(&k, &get, &bulk(b"wrong"), true, &mut s),
            Verdict::Wrong(_)
        ));
        assert_eq!(
            check(&k, &get, &BytesFrame::Null, true, &mut s),
            Verdict::Missing
        );
        assert_eq!(
            check(&k, &get, &BytesFrame::Null, false, &mut s),
            Verdict::Unchecked
        );
        let unsampled = Sent {
            verify: false,
            ..get
        };
        assert_eq!(
            check(&k, &unsampled, &bulk(b"wrong"), true, &mut s),
            Verdict::Unchecked
        );
        assert!(matches!(
            check(&k, &unsampled, &BytesFrame::Error("ERR x".into()), true, &mut s),
            Verdict::Error(e) if e == "ERR x"
        ));
        let mget = Sent {
            command: Command::Mget,
            index: 98,
            verify: true,
        };
        let values: Vec<BytesFrame> = (0..MGET_KEYS as u64)
            .map(|i| {
                let mut v = Vec::new();
                k.value((98 + i) % 100, &mut v);
                bulk(&v)
            })
            .collect();
        assert_eq!(
            check(&k, &mget, &BytesFrame::Array(values.clone()), true, &mut s),
            Verdict::Right
        );
        let mut off = values;
        off.swap(0, 1);
        assert!(matches!(
            check(&k, &mget, &BytesFrame::Array(off), true, &mut s),
            Verdict::Wrong(_)
        ));
    }
}
