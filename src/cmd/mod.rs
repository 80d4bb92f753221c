//! The command table and dispatch.
//!
//! Each family file (`strings.rs`, `keys.rs`, ...) ends with one `COMMANDS` list of
//! [`CommandSpec`]s: name, arity, flags, key positions, documentation and handler. That list is
//! the single source of truth: dispatch reads arity, key positions and flags from it, and so do
//! COMMAND, COMMAND DOCS and docs/COMMANDS.md.
//!
//! [`dispatch`] applies every cross-cutting check in one fixed order: lookup (unknown command or
//! subcommand), arity, authentication, client pause; then it locks the shards the command's keys
//! live in, runs the handler, serves the clients blocked on keys the command created (before
//! releasing the locks, see src/server/blocking.rs) and records statistics. Handlers parse their arguments, call `op_*`
//! functions that work on a locked keyspace view, and build a [`Reply`].

pub mod args;
pub mod bits;
pub mod connection;
pub mod docs;
pub mod hash;
pub mod hyperloglog;
pub mod keys;
pub mod list;
pub mod picks;
pub mod pubsub;
pub mod scripting;
pub mod serialize;
pub mod server;
pub mod set;
pub mod sort;
pub mod strings;
pub mod tiering;
pub mod transactions;
pub mod zset;

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use smallvec::SmallVec;

use crate::error::{CmdError, CmdResult, LOADING, NOAUTH};
use crate::keyspace::{key_slot, shard_of_slot, Locked};
use crate::protocol::Reply;
use crate::server::clients::Client;
use crate::server::evict::{Verdict, OOM};
use crate::server::Server;
use crate::tier::Prepared;

/// Command flags, named as COMMAND INFO reports them.
pub mod flags {
    pub const WRITE: u64 = 1 << 0;
    pub const READONLY: u64 = 1 << 1;
    pub const DENYOOM: u64 = 1 << 2;
    pub const ADMIN: u64 = 1 << 3;
    pub const PUBSUB: u64 = 1 << 4;
    pub const NOSCRIPT: u64 = 1 << 5;
    pub const BLOCKING: u64 = 1 << 6;
    pub const LOADING: u64 = 1 << 7;
    pub const STALE: u64 = 1 << 8;
    pub const SKIP_MONITOR: u64 = 1 << 9;
    pub const SKIP_SLOWLOG: u64 = 1 << 10;
    pub const FAST: u64 = 1 << 11;
    pub const NO_AUTH: u64 = 1 << 12;
    pub const MAY_REPLICATE: u64 = 1 << 13;
    pub const NO_MULTI: u64 = 1 << 14;
    pub const ALLOW_BUSY: u64 = 1 << 15;
    /// The command's keys may be zero (EVAL with numkeys 0): COMMAND GETKEYS answers an empty
    /// list instead of an error.
    pub const NO_MANDATORY_KEYS: u64 = 1 << 16;
    /// Not a Redis flag: the command reads or writes the whole keyspace (KEYS, SCAN, FLUSHDB...),
    /// so dispatch locks every shard.
    pub const WHOLE_KEYSPACE: u64 = 1 << 40;
    /// Not a Redis flag: the command runs a Lua script (EVAL, FCALL...). Outside MULTI,
    /// dispatch hands it to the connection, which runs it off the I/O thread with every shard
    /// locked (see src/scripting/mod.rs).
    pub const RUNS_SCRIPT: u64 = 1 << 41;
    /// Not a Redis flag: the command needs only what a key's entry knows (existence, type,
    /// TTL) or replaces values whole, never reads them: with tiering, its cold keys are not
    /// loaded first (DEL, EXISTS, TTL, EXPIRE, SET ...).
    pub const NO_VALUE: u64 = 1 << 42;
    /// Not a Redis flag: a read-only command that reads only the elements its arguments after
    /// the key name (HGET, SMISMEMBER, ZMSCORE ...): with tiering, a cold split collection is
    /// read in part for it (`tier::prepare`) instead of being loaded whole.
    pub const ELEMENT_READ: u64 = 1 << 43;

    pub const NAMES: &[(u64, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
    ];
}

/// Where a command's keys are: argument indices `first..=last` every `step`; `last` < 0 counts
/// from the end (-1 is the last argument). `first == 0` means no keys. A `numkeys` form
/// ([`KeySpec::numkeys`], SINTERCARD's) instead reads the key count from the argument at
/// `keynum` and takes that many keys right after it; its legacy range is reported as 0 0 0 and
/// the command as `movablekeys`, as Redis does.
#[derive(Clone, Copy, Debug)]
pub struct KeySpec {
    pub first: i32,
    pub last: i32,
    pub step: i32,
    /// The index of the argument that counts the keys (0: a plain range).
    pub keynum: i32,
    /// One more key the command's own rule finds in its arguments (SORT's STORE destination,
    /// Redis's `getkeys_proc`), if any.
    pub extra: Option<FindKey>,
}

/// A command's own rule for one key position (see [`KeySpec::extra`]).
pub type FindKey = fn(&[Bytes]) -> Option<usize>;

impl KeySpec {
    pub const NONE: KeySpec = KeySpec::range(0, 0, 0);
    pub const ONE: KeySpec = KeySpec::range(1, 1, 1);
    pub const ALL: KeySpec = KeySpec::range(1, -1, 1);

    pub const fn range(first: i32, last: i32, step: i32) -> KeySpec {
        KeySpec {
            first,
            last,
            step,
            keynum: 0,
            extra: None,
        }
    }

    /// This spec plus the key `find` locates in the arguments.
    pub const fn with_extra(self, find: FindKey) -> KeySpec {
        KeySpec {
            extra: Some(find),
            ..self
        }
    }

    /// Keys whose count is the argument at `keynum`, following it one after another.
    pub const fn numkeys(keynum: i32) -> KeySpec {
        KeySpec {
            first: 0,
            last: 0,
            step: 0,
            keynum,
            extra: None,
        }
    }

    /// Whether the command has keys at all (in some form).
    pub fn has_keys(&self) -> bool {
        self.first > 0 || self.keynum > 0
    }

    /// Whether the key positions depend on the arguments (COMMAND's `movablekeys`).
    pub fn movable(&self) -> bool {
        self.keynum > 0 || self.extra.is_some()
    }

    /// A destination key at `first` followed by a numkeys form at `keynum` (ZUNIONSTORE's
    /// `destination numkeys key [key ...]`).
    pub const fn dest_and_numkeys(first: i32, keynum: i32) -> KeySpec {
        KeySpec {
            first,
            last: first,
            step: 1,
            keynum,
            extra: None,
        }
    }

    /// The argument indices of the keys in `args` (args[0] is the command name). A numkeys
    /// form whose count is not a positive integer, or exceeds the arguments, has no keys at all
    /// (the handler then reports the error, Redis's "invalid key spec").
    pub fn positions(&self, args: &[Bytes]) -> impl Iterator<Item = usize> {
        let argc = args.len();
        let (fixed, counted) = if self.keynum > 0 {
            let k = self.keynum as usize;
            let n = args
                .get(k)
                .and_then(|a| crate::protocol::parse_i64(a))
                .filter(|&n| n > 0 && (n as u64) < (argc - k) as u64);
            match n {
                Some(n) => (
                    KeySpec::range(self.first, self.last, self.step),
                    KeySpec::range(k as i32 + 1, k as i32 + n as i32, 1),
                ),
                None => (KeySpec::NONE, KeySpec::NONE),
            }
        } else {
            (*self, KeySpec::NONE)
        };
        let extra = self.extra.and_then(|find| find(args));
        fixed
            .range_positions(argc)
            .chain(counted.range_positions(argc))
            .chain(extra)
    }

    fn range_positions(&self, argc: usize) -> impl Iterator<Item = usize> {
        let (first, step) = (self.first.max(0) as usize, self.step.max(1) as usize);
        let last = if self.last < 0 {
            argc as i64 + self.last as i64
        } else {
            self.last as i64
        };
        let last = if self.first == 0 {
            -1
        } else {
            last.min(argc as i64 - 1)
        };
        (first..=last.max(0) as usize)
            .step_by(step)
            .filter(move |&i| last >= 0 && i >= 1 && i < argc)
    }
}

pub type Handler = fn(&mut Ctx) -> CmdResult<Reply>;

/// Declares one [`CommandSpec`] for a family's `COMMANDS` list:
/// `command!(group, name, arity, flags, keys, since, complexity, summary, handler[, subcommands])`.
/// Each family file wraps it in a local `cmd!` that fixes the group.
macro_rules! command {
    (@subs) => { &[] };
    (@subs $subs:expr) => { $subs };
    ($group:literal, $name:literal, $arity:expr, $flags:expr, $keys:expr, $since:literal, $complexity:literal,
     $summary:literal, $handler:expr $(, $subs:expr)? $(,)?) => {
        $crate::cmd::CommandSpec {
            name: $name,
            arity: $arity,
            flags: $flags,
            keys: $keys,
            group: $group,
            summary: $summary,
            since: $since,
            complexity: $complexity,
            handler: $handler,
            subcommands: $crate::cmd::command!(@subs $($subs)?),
        }
    };
}
pub(crate) use command;

/// [`command!`] for keyless O(1) commands (connection and server families):
/// `keyless_command!(group, name, arity, flags, since, summary, handler[, subcommands])`.
macro_rules! keyless_command {
    ($group:literal, $name:literal, $arity:expr, $flags:expr, $since:literal, $summary:literal, $handler:expr
     $(, $subs:expr)? $(,)?) => {
        $crate::cmd::command!($group, $name, $arity, $flags, $crate::cmd::KeySpec::NONE, $since, "O(1)", $summary,
            $handler $(, $subs)?)
    };
}
pub(crate) use keyless_command;

/// The handler of a container command (CONFIG, CLIENT, OBJECT ...). Dispatch resolves a
/// container to its subcommand before running anything, so this is never reached for one that
/// requires a subcommand.
pub(crate) fn container(_ctx: &mut Ctx) -> CmdResult<Reply> {
    Err(CmdError::syntax())
}

/// One command (or subcommand): everything dispatch and COMMAND need to know about it.
pub struct CommandSpec {
    /// Lower-case name; subcommands are `container|sub` in COMMAND output but only `sub` here.
    pub name: &'static str,
    /// Argument count including the name; negative means "at least -arity".
    pub arity: i32,
    pub flags: u64,
    pub keys: KeySpec,
    /// Redis's command group (string, generic, server, connection, ...).
    pub group: &'static str,
    pub summary: &'static str,
    pub since: &'static str,
    pub complexity: &'static str,
    pub handler: Handler,
    pub subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    pub fn has(&self, flag: u64) -> bool {
        self.flags & flag != 0
    }

    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        (a >= 0 && argc == a as usize) || (a < 0 && argc >= (-a) as usize)
    }

    /// ACL categories as COMMAND INFO reports them, derived from flags and group.
    pub fn acl_categories(&self) -> Vec<&'static str> {
        let mut cats = Vec::new();
        if self.has(flags::WRITE) {
            cats.push("@write");
        }
        if self.has(flags::READONLY) {
            cats.push("@read");
        }
        if self.has(flags::ADMIN) {
            cats.push("@admin");
            cats.push("@dangerous");
        }
        match self.group {
            "string" => cats.push("@string"),
            "bitmap" => cats.push("@bitmap"),
            "hyperloglog" => cats.push("@hyperloglog"),
            "hash" => cats.push("@hash"),
            "set" => cats.push("@set"),
            "list" => cats.push("@list"),
            "sorted-set" => cats.push("@sortedset"),
            "generic" => cats.push("@keyspace"),
            "connection" => cats.push("@connection"),
            "scripting" => cats.push("@scripting"),
            "pubsub" => cats.push("@pubsub"),
            _ => {}
        }
        cats.push(if self.has(flags::FAST) {
            "@fast"
        } else {
            "@slow"
        });
        if self.has(flags::BLOCKING) {
            cats.push("@blocking");
        }
        cats
    }
}

/// What the connection does after a command, besides sending its reply.
#[derive(Debug, Default)]
pub enum After {
    #[default]
    Nothing,
    /// Wait before sending this reply (DEBUG SLEEP).
    Sleep(Duration),
    /// The command was not run because clients are paused: wait, then run it again.
    RetryWhenUnpaused,
    /// Stop the server after sending the reply (SHUTDOWN).
    Shutdown,
    /// The command blocked on keys (BLPOP ...): send no reply now; wait for the one that
    /// serving it, its timeout or CLIENT UNBLOCK produces (src/server/blocking.rs).
    Block(Box<crate::server::blocking::Blocked>),
    /// A script is running: wait a moment, then run the command again.
    RetryWhenScriptDone,
    /// Memory is over `maxmemory` while tiering demotes values: wait a moment, then run the
    /// command again (a write stall).
    RetryWhenMemory,
    /// The command needs cold values (src/tier): load them, then run it again.
    Load(Box<crate::tier::LoadRequest>),
    /// TIERING DEMOTE: have the key (db, name) demoted now, and reply whether it went cold.
    Demote(usize, Bytes),
    /// Run the script command at this table index off the I/O thread and send its reply
    /// ([`scripting::run_detached`]).
    RunScript(usize),
}

/// Everything a handler sees.
pub struct Ctx<'a, 'k> {
    pub server: &'a Server,
    pub client: &'a mut Client,
    /// The request, name included.
    pub args: &'a [Bytes],
    /// The locked shards holding the command's keys (every shard for whole-keyspace commands).
    pub ks: &'a mut Locked<'k>,
    pub spec: &'static CommandSpec,
    pub after: After,
}

impl Ctx<'_, '_> {
    pub fn db(&self) -> usize {
        self.client.db
    }

    pub fn now_ms(&self) -> u64 {
        self.ks.clock.now_ms
    }

    /// The argument at `i` (dispatch checked arity, so fixed positions exist).
    pub fn arg(&self, i: usize) -> &Bytes {
        &self.args[i]
    }
}

/// The table of every command, built once from the family lists.
pub struct CommandTable {
    specs: Vec<&'static CommandSpec>,
    by_name: HashMap<&'static str, usize, foldhash::fast::RandomState>,
    /// (container index, subcommand name) -> index.
    subs: HashMap<(usize, &'static str), usize, foldhash::fast::RandomState>,
    /// The container of each subcommand (None for top-level commands).
    parent: Vec<Option<usize>>,
    /// The table index of EXEC, which dispatch runs itself.
    exec: usize,
}

/// The family lists, in the order COMMAND and docs/COMMANDS.md present them.
const FAMILIES: &[&[CommandSpec]] = &[
    strings::COMMANDS,
    bits::COMMANDS,
    hyperloglog::COMMANDS,
    hash::COMMANDS,
    set::COMMANDS,
    list::COMMANDS,
    zset::COMMANDS,
    keys::COMMANDS,
    serialize::COMMANDS,
    sort::COMMANDS,
    connection::COMMANDS,
    server::COMMANDS,
    scripting::COMMANDS,
    transactions::COMMANDS,
    pubsub::COMMANDS,
    tiering::COMMANDS,
];

impl CommandTable {
    fn build() -> CommandTable {
        let mut t = CommandTable {
            specs: Vec::new(),
            by_name: HashMap::default(),
            subs: HashMap::default(),
            parent: Vec::new(),
            exec: usize::MAX,
        };
        for family in FAMILIES {
            for spec in family.iter() {
                let idx = t.specs.len();
                t.specs.push(spec);
                t.parent.push(None);
                let dup = t.by_name.insert(spec.name, idx);
                assert!(dup.is_none(), "command {} registered twice", spec.name);
                for sub in spec.subcommands {
                    let sidx = t.specs.len();
                    t.specs.push(sub);
                    t.parent.push(Some(idx));
                    t.subs.insert((idx, sub.name), sidx);
                }
            }
        }
        t.exec = t.by_name.get("exec").copied().unwrap_or(usize::MAX);
        t
    }

    pub fn get() -> &'static CommandTable {
        static TABLE: OnceLock<CommandTable> = OnceLock::new();
        TABLE.get_or_init(CommandTable::build)
    }

    pub fn len(&self) -> usize {
        self.specs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    pub fn spec(&self, idx: usize) -> &'static CommandSpec {
        self.specs[idx]
    }

    /// Top-level commands in table order.
    pub fn top_level(&self) -> impl Iterator<Item = (usize, &'static CommandSpec)> + '_ {
        self.specs
            .iter()
            .enumerate()
            .filter(|(i, _)| self.parent[*i].is_none())
            .map(|(i, s)| (i, *s))
    }

    /// `config|get` for subcommands, `get` for commands.
    pub fn full_name(&self, idx: usize) -> String {
        match self.parent[idx] {
            Some(p) => format!("{}|{}", self.specs[p].name, self.specs[idx].name),
            None => self.specs[idx].name.to_string(),
        }
    }

    pub fn lookup(&self, name: &[u8]) -> Option<usize> {
        let mut buf = [0u8; 32];
        let lower = lowercase(name, &mut buf)?;
        self.by_name.get(lower).copied()
    }

    pub fn lookup_sub(&self, parent: usize, name: &[u8]) -> Option<usize> {
        let mut buf = [0u8; 32];
        let lower = lowercase(name, &mut buf)?;
        self.subs.get(&(parent, lower)).copied()
    }

    /// Resolves a request to its command or subcommand, with Redis's errors for unknown names
    /// and wrong arity.
    pub fn resolve(&self, args: &[Bytes]) -> Result<usize, Resolve> {
        let idx = self
            .lookup(&args[0])
            .ok_or_else(|| Resolve::Unknown(CmdError::unknown_command(&args[0], &args[1..])))?;
        let spec = self.specs[idx];
        if spec.subcommands.is_empty() {
            if !spec.arity_ok(args.len()) {
                return Err(Resolve::Rejected(idx, CmdError::arity(spec.name)));
            }
            return Ok(idx);
        }
        let Some(sub) = args.get(1) else {
            // A container that accepts no subcommand (COMMAND) runs its own handler.
            if spec.arity == -1 {
                return Ok(idx);
            }
            return Err(Resolve::Rejected(idx, CmdError::arity(spec.name)));
        };
        let sidx = self
            .lookup_sub(idx, sub)
            .ok_or_else(|| Resolve::Rejected(idx, CmdError::unknown_subcommand(sub, spec.name)))?;
        if !self.specs[sidx].arity_ok(args.len()) {
            return Err(Resolve::Rejected(
                sidx,
                CmdError(format!(
                    "ERR wrong number of arguments for '{}' command",
                    self.full_name(sidx)
                )),
            ));
        }
        Ok(sidx)
    }
}

/// Why a request could not be resolved to a runnable command.
pub enum Resolve {
    Unknown(CmdError),
    /// The command exists but the request was rejected (counts as a rejected call).
    Rejected(usize, CmdError),
}

fn lowercase<'b>(name: &[u8], buf: &'b mut [u8; 32]) -> Option<&'b str> {
    if name.len() > buf.len() {
        return None;
    }
    let out = &mut buf[..name.len()];
    for (o, c) in out.iter_mut().zip(name) {
        *o = c.to_ascii_lowercase();
    }
    std::str::from_utf8(out).ok()
}

/// A refused command inside MULTI makes the transaction fail at EXEC (EXECABORT).
fn abort_transaction(client: &mut Client) {
    if let Some(tx) = client.tx.as_mut() {
        tx.aborted = true;
    }
}

/// Whether a command reads its keys' values (with tiering: loads them first).
pub fn needs_values(spec: &CommandSpec) -> bool {
    !spec.has(flags::NO_VALUE | flags::WHOLE_KEYSPACE)
}

/// The keys whose values the `upcoming` requests of a pipeline will read in the current
/// database, so that a load for the running command can fetch them in the same read (see
/// `tier::prefetch`). Stops at the first request that may change the database or the keyspace
/// wholesale (SELECT, a script, FLUSHALL ...) or that is not a plain command; skips those that
/// read no value, and those that read single elements (they read only those, when their turn
/// comes).
pub fn upcoming_keys<'a>(upcoming: impl Iterator<Item = &'a [Bytes]>) -> Vec<Bytes> {
    let table = CommandTable::get();
    let mut keys = Vec::new();
    for args in upcoming {
        let Some(spec) = args
            .first()
            .and_then(|n| table.lookup(n))
            .map(|i| table.spec(i))
        else {
            break;
        };
        if !spec.subcommands.is_empty()
            || spec.has(flags::WHOLE_KEYSPACE | flags::RUNS_SCRIPT)
            || spec.name == "select"
        {
            break;
        }
        let arity_ok = if spec.arity >= 0 {
            args.len() == spec.arity as usize
        } else {
            args.len() >= spec.arity.unsigned_abs() as usize
        };
        if !arity_ok || !needs_values(spec) || spec.has(flags::ELEMENT_READ) {
            continue;
        }
        keys.extend(
            spec.keys
                .positions(args)
                .filter_map(|i| args.get(i).cloned()),
        );
    }
    keys
}

/// Refuses the command at `idx` with `text`, counted as rejected. A refused EXEC discards its
/// transaction and says why (Redis's execCommandAbort); any other command refused inside MULTI
/// marks the transaction aborted.
fn refuse(server: &Server, client: &mut Client, idx: usize, text: &str) -> (Reply, After) {
    server.stats.record_rejected(idx, text);
    if idx == CommandTable::get().exec && client.tx.is_some() {
        transactions::reset(client);
        return (
            Reply::Error(format!(
                "EXECABORT Transaction discarded because of: {text}"
            )),
            After::Nothing,
        );
    }
    abort_transaction(client);
    (Reply::Error(text.to_string()), After::Nothing)
}

/// Runs one request for `client` and returns its reply and what to do after it.
pub fn dispatch(server: &Server, client: &mut Client, args: &[Bytes]) -> (Reply, After) {
    let table = CommandTable::get();
    let resolved = table.resolve(args);
    // CLIENT LIST's `cmd=` names the last command looked up, rejected ones included; an unknown
    // command or subcommand shows as NULL (as in Redis).
    let last_cmd = match &resolved {
        Ok(idx) => *idx as u32,
        // A container is rejected either for its arity (`CLIENT` alone: it is the command) or
        // for an unknown subcommand (no command).
        Err(Resolve::Rejected(idx, _))
            if table.spec(*idx).subcommands.is_empty()
                || table.parent[*idx].is_some()
                || args.len() < 2 =>
        {
            *idx as u32
        }
        Err(_) => u32::MAX,
    };
    client
        .info
        .last_cmd
        .store(last_cmd, std::sync::atomic::Ordering::Relaxed);
    let idx = match resolved {
        Ok(idx) => idx,
        Err(Resolve::Unknown(e)) => {
            abort_transaction(client);
            server.stats.record_error(&e.0);
            return (e.into(), After::Nothing);
        }
        Err(Resolve::Rejected(idx, e)) => {
            abort_transaction(client);
            server.stats.record_rejected(idx, &e.0);
            return (e.into(), After::Nothing);
        }
    };
    let spec = table.spec(idx);

    if !client.authenticated && !spec.has(flags::NO_AUTH) && server.requires_auth() {
        abort_transaction(client);
        server.stats.record_rejected(idx, NOAUTH);
        return (Reply::error(NOAUTH), After::Nothing);
    }
    if client.protocol == crate::protocol::Protocol::Resp2
        && client.subscriptions.active()
        && !(table.parent[idx].is_none() && pubsub::allowed_when_subscribed(spec))
    {
        abort_transaction(client);
        let e = pubsub::only_subscribe_commands(&table.full_name(idx));
        server.stats.record_rejected(idx, &e);
        return (Reply::Error(e), After::Nothing);
    }
    // While the binlog is replayed only commands flagged `loading` run (INFO, CONFIG ...).
    if server.is_loading() && !spec.has(flags::LOADING) {
        return refuse(server, client, idx, LOADING);
    }
    // Writes that could not be made durable are refused while the binlog cannot be written
    // (a full or failing disk), as Redis refuses them after a failed AOF write. PING too, as
    // in Redis, so that health checks notice.
    if let Some(e) = server.binlog.get().and_then(|log| log.error()) {
        let writes = spec.has(flags::WRITE)
            || spec.name == "ping"
            || (idx == table.exec
                && client.tx.as_ref().is_some_and(|tx| {
                    tx.queued
                        .iter()
                        .any(|(i, _)| table.spec(*i).has(flags::WRITE))
                }));
        if writes {
            let text = format!("MISCONF Errors writing to the AOF file: {e}");
            return refuse(server, client, idx, &text);
        }
    }
    // A running script comes before MULTI's queueing, as in Redis: past the busy threshold a
    // command sent inside MULTI is refused (the transaction then aborts), not queued. The
    // threshold is read (under the config lock) only while a script holds the gate.
    let threshold = || server.config.read().busy_reply_threshold;
    let _gate = match server.scripting.enter(spec, threshold) {
        crate::scripting::Enter::Go(guard) => guard,
        crate::scripting::Enter::Wait => return (Reply::Nil, After::RetryWhenScriptDone),
        crate::scripting::Enter::Busy(text) => return refuse(server, client, idx, text),
    };
    // Above maxmemory: make room (pure-memory mode evicts; tiering demotes in the background
    // and makes commands wait for it), and refuse commands that may grow memory when no room
    // can be made (Redis's processCommand; EXEC counts as such when it queued one).
    // A command rerun with the cold values it loaded goes ahead: those values are most of
    // what is over the limit, and demotion can only take them back once they are installed
    // (refusing here would refuse writes while nothing in the keyspace can be demoted).
    if server.memory.over_limit() && client.preloaded.is_empty() {
        let denyoom = spec.has(flags::DENYOOM)
            || (idx == table.exec
                && client.tx.as_ref().is_some_and(|tx| {
                    tx.queued
                        .iter()
                        .any(|(i, _)| table.spec(*i).has(flags::DENYOOM))
                }));
        match crate::server::evict::enforce(server, denyoom, client.stalls) {
            Verdict::Fits => client.stalls = 0,
            Verdict::Stall if denyoom => {
                client.stalls += 1;
                return (Reply::Nil, After::RetryWhenMemory);
            }
            Verdict::Oom if denyoom => {
                client.stalls = 0;
                return refuse(server, client, idx, OOM);
            }
            Verdict::Stall | Verdict::Oom => {}
        }
    }
    let queue = client.tx.is_some()
        && !(table.parent[idx].is_none() && transactions::runs_inside_multi(spec));
    if let Some(tx) = client.tx.as_mut().filter(|_| queue) {
        if spec.has(flags::NO_MULTI) {
            tx.aborted = true;
            server
                .stats
                .record_rejected(idx, transactions::NOT_IN_MULTI);
            return (Reply::error(transactions::NOT_IN_MULTI), After::Nothing);
        }
        tx.queued.push((idx, args.iter().cloned().collect()));
        return (Reply::status("QUEUED"), After::Nothing);
    }
    if idx == table.exec {
        if transactions::exec_blocked_by_pause(server, client) {
            return (Reply::Nil, After::RetryWhenUnpaused);
        }
        // EXEC reads its own clock; the next command must not start before it ended.
        client.clock_hint = None;
        return transactions::exec(server, client, idx);
    }
    if server.pause.blocks(spec)
        && !(spec.has(flags::RUNS_SCRIPT) && server.scripting.declares_no_writes(spec, args))
    {
        return (Reply::Nil, After::RetryWhenUnpaused);
    }
    if spec.has(flags::RUNS_SCRIPT) {
        return (Reply::Nil, After::RunScript(idx));
    }

    let started = client
        .clock_hint
        .take()
        .unwrap_or_else(std::time::Instant::now);
    let clock = server.clock(started);
    let mut ks = if spec.has(flags::WHOLE_KEYSPACE) {
        // INFO and friends must see this connection's earlier commands counted.
        server.stats.flush(&mut client.stats);
        server.keyspace.lock_all(clock)
    } else {
        let mut first = None;
        let shards: SmallVec<[usize; 4]> = spec
            .keys
            .positions(args)
            .map(|i| {
                let slot = key_slot(&args[i]);
                first.get_or_insert((i, slot));
                shard_of_slot(slot)
            })
            .collect();
        let mut ks = server.keyspace.lock(clock, shards);
        // `args` outlives `ks`: the view may reuse the first key's slot.
        if let Some((i, slot)) = first {
            ks.hint_slot(&args[i], slot);
        }
        ks
    };
    server.open_view(&mut ks);
    // With tiering, the command's cold values are loaded before it runs (unless it needs only
    // what the entry knows: DEL, EXISTS, TTL, SET ...).
    if let Some(tier) = server.tier.get() {
        if needs_values(spec) {
            let keys = spec.keys.positions(args).map(|i| &args[i]);
            let elements = if spec.has(flags::ELEMENT_READ) {
                args.get(2..).unwrap_or(&[])
            } else {
                &[]
            };
            let db = client.db;
            match crate::tier::prepare(
                tier,
                &mut client.preloaded,
                &mut ks,
                db,
                keys,
                elements,
                false,
            ) {
                Prepared::Ready => {}
                Prepared::Load(request) => {
                    server.close_view(ks);
                    return (Reply::Nil, After::Load(request));
                }
                Prepared::Failed(e) => {
                    server.close_view(ks);
                    server.stats.record_error(&e);
                    return (Reply::Error(e), After::Nothing);
                }
            }
        }
    }
    let mut ctx = Ctx {
        server,
        client,
        args,
        ks: &mut ks,
        spec,
        after: After::Nothing,
    };
    ctx.ks.begin_command();
    let mut result = (spec.handler)(&mut ctx);
    let after = std::mem::take(&mut ctx.after);
    if let Some(e) = ks.load_error.take() {
        result = Err(CmdError::new(e));
    }
    let lookups = server.close_view(ks);
    let ended = std::time::Instant::now();
    client.clock_hint = Some(ended);
    client
        .stats
        .record(idx, ended - started, lookups, result.is_err());
    if let Err(e) = &result {
        server.stats.record_error(&e.0);
    }
    match result {
        Ok(reply) => (reply, after),
        Err(e) => (e.into(), after),
    }
}

/// Runs the command at table index `idx` on a view the caller already holds (EXEC, scripts),
/// recording its statistics and error as dispatch would. Returns the handler's result and
/// what the connection should do after it.
pub fn run_on_view(
    server: &Server,
    client: &mut Client,
    ks: &mut Locked,
    idx: usize,
    args: &[Bytes],
) -> (CmdResult<Reply>, After) {
    let spec = CommandTable::get().spec(idx);
    let before = ks.stats;
    let started = std::time::Instant::now();
    let mut ctx = Ctx {
        server,
        client,
        args,
        ks,
        spec,
        after: After::Nothing,
    };
    ctx.ks.begin_command();
    let mut result = (spec.handler)(&mut ctx);
    let after = std::mem::take(&mut ctx.after);
    if let Some(e) = ks.load_error.take() {
        result = Err(CmdError::new(e));
    }
    let lookups = crate::keyspace::LookupStats {
        hits: ks.stats.hits - before.hits,
        misses: ks.stats.misses - before.misses,
        expired: ks.stats.expired - before.expired,
    };
    client
        .stats
        .record(idx, started.elapsed(), lookups, result.is_err());
    if let Err(e) = &result {
        server.stats.record_error(&e.0);
    }
    (result, after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_positions() {
        let args = |words: &[&str]| -> Vec<Bytes> {
            words
                .iter()
                .map(|w| Bytes::copy_from_slice(w.as_bytes()))
                .collect()
        };
        let five = args(&["c", "a", "b", "c", "d"]);
        let one: Vec<usize> = KeySpec::ONE.positions(&five[..3]).collect();
        assert_eq!(one, vec![1]);
        let mset: Vec<usize> = KeySpec::range(1, -1, 2).positions(&five).collect();
        assert_eq!(mset, vec![1, 3]);
        let all: Vec<usize> = KeySpec::ALL.positions(&five[..4]).collect();
        assert_eq!(all, vec![1, 2, 3]);
        assert_eq!(KeySpec::NONE.positions(&five[..4]).count(), 0);
        let bitop: Vec<usize> = KeySpec::range(2, -1, 1).positions(&five).collect();
        assert_eq!(bitop, vec![2, 3, 4]);
        // numkeys forms: SINTERCARD 2 a b LIMIT 1.
        let sintercard = KeySpec::numkeys(1);
        let ok = args(&["sintercard", "2", "a", "b", "LIMIT", "1"]);
        assert_eq!(sintercard.positions(&ok).collect::<Vec<_>>(), vec![2, 3]);
        for bad in [
            &["sintercard", "0", "a"][..],
            &["sintercard", "-1", "a"],
            &["sintercard", "x", "a"],
            &["sintercard", "3", "a", "b"],
            &["sintercard", "99999999999", "a"],
        ] {
            assert_eq!(sintercard.positions(&args(bad)).count(), 0, "{bad:?}");
        }
        assert!(sintercard.movable() && sintercard.has_keys());
        assert!(!KeySpec::NONE.has_keys() && !KeySpec::ALL.movable());
    }

    #[test]
    fn table_is_consistent() {
        let t = CommandTable::get();
        for (i, spec) in t.top_level() {
            assert_eq!(
                spec.name,
                spec.name.to_ascii_lowercase(),
                "names are lower case"
            );
            assert!(spec.arity != 0, "{} has arity 0", spec.name);
            assert!(!spec.summary.is_empty(), "{} has no summary", spec.name);
            assert_eq!(t.lookup(spec.name.to_ascii_uppercase().as_bytes()), Some(i));
            let rw = spec.has(flags::WRITE) as u8 + spec.has(flags::READONLY) as u8;
            assert!(rw <= 1, "{} is both write and readonly", spec.name);
            // A command that runs on a collection read in part (the stub is put back after
            // it, whatever it did) must never write, and must name one key, its first
            // argument, followed by the elements it reads.
            if spec.has(flags::ELEMENT_READ) {
                assert!(spec.has(flags::READONLY), "{} reads elements", spec.name);
                let k = &spec.keys;
                assert!(
                    (k.first, k.last, k.step, k.keynum) == (1, 1, 1, 0) && k.extra.is_none(),
                    "{} reads elements of its one key",
                    spec.name
                );
            }
        }
    }
}
