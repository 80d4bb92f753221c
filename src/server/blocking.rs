//! Clients blocked on keys (BLPOP, BLMOVE, BLMPOP ..., later BZPOPMIN and friends): who waits
//! for which key, and serving them when a key becomes ready.
//!
//! A blocking command is written as a non-blocking attempt, a [`TryServe`] function: under the
//! shard locks of the command's keys it either produces the reply (it popped something, or hit
//! an error) or returns `None` (nothing to pop yet). The handler calls [`block_or_reply`], which
//! runs the attempt once and, when it gives `None`, registers a [`Waiter`] in the registry
//! *while the command still holds its shard locks*: no push can slip in between "the list is
//! empty" and "I am waiting", since the push needs one of those locks.
//!
//! Any write that creates a list or sorted set key (`Locked::set`/`set_entry` on a missing key
//! or one of another type) records it as ready in the [`Locked`] view, but only when some
//! client is blocked (a flag dispatch copies into the view after locking: one branch on the hot
//! path). Before dispatch (or EXEC) releases the command's locks, [`serve_ready`] takes each
//! ready key's waiters in arrival order, locks whatever other shards the waiter's command needs,
//! runs its attempt for it and sends the reply through the waiter's oneshot channel, until an
//! attempt finds nothing (the key is empty again). So the pushed elements go to the waiters in
//! the same atomic step as the push, as Redis's `handleClientsBlockedOnKeys` does; a served
//! BLMOVE that creates its destination makes that key ready in turn.
//!
//! The blocked connection (src/server/connection.rs) awaits the channel, its deadline, its
//! socket (a disconnect or CLIENT KILL) and CLIENT UNBLOCK (which sends through the same
//! channel). Whoever takes the waiter's sender decides the outcome: serving takes it only after
//! its attempt produced a reply (holding the waiter's mutex while it runs), and a timeout takes
//! it to cancel; so an element is either delivered or stays in the list.
//!
//! Lock order: shards, then a waiter's mutex, then the registry's mutex. Nothing that holds the
//! registry's mutex takes another lock.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use hashbrown::HashMap;
use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::Server;
use crate::cmd::{After, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::keyspace::{shard_of, Locked};
use crate::protocol::Reply;

/// The non-blocking form of a blocking command: with the command's shards locked, try to
/// serve `args` (the whole request) for a client of database `db`. `Ok(None)`: nothing to do
/// yet, keep waiting (the keys are missing, empty or of another type).
pub type TryServe = fn(&Server, &mut Locked, usize, &[Bytes]) -> CmdResult<Option<Reply>>;

/// What wakes a blocked connection.
#[derive(Debug)]
pub enum Wake {
    /// The command was served: send this.
    Reply(Reply),
    /// CLIENT UNBLOCK: answer as a timeout, or with the UNBLOCKED error.
    Unblock { error: bool },
}

/// `-UNBLOCKED` error of CLIENT UNBLOCK ... ERROR.
pub const UNBLOCKED: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";

/// One blocked client.
pub struct Waiter {
    pub client_id: u64,
    pub db: usize,
    /// The request to retry, owned (copied out of the read buffer).
    args: Vec<Bytes>,
    /// The distinct keys waited on.
    keys: Vec<Bytes>,
    /// Every shard the command's keys live in (what dispatch would lock for it).
    shards: Vec<usize>,
    try_serve: TryServe,
    /// The type (TYPE's name) of key that can serve it: a ready key of another type does not
    /// wake it (as in Redis, a key re-created as a string leaves BLPOP waiting).
    wants: &'static str,
    /// It has a timeout (INFO clients_in_timeout_table counts these).
    timed: bool,
    /// Taken by whoever decides the outcome (see the module comment).
    sender: Mutex<Option<oneshot::Sender<Wake>>>,
}

impl std::fmt::Debug for Waiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Waiter(client {} on {:?})", self.client_id, self.keys)
    }
}

/// What a connection waits on after its command blocked (`After::Block`).
#[derive(Debug)]
pub struct Blocked {
    pub waiter: Arc<Waiter>,
    pub rx: oneshot::Receiver<Wake>,
    /// None: wait forever (timeout 0).
    pub deadline: Option<Instant>,
}

impl Blocked {
    /// Gives up waiting (timeout, disconnect). The reply if the client was served or
    /// unblocked in the meantime (then the element was popped for it), else None; either way
    /// the waiter is deregistered.
    pub fn cancel(&mut self, server: &Server) -> Option<Wake> {
        let taken = self.waiter.sender.lock().take();
        server.blocking.deregister(&self.waiter);
        match taken {
            Some(_) => None,
            // Someone sent before we could cancel: the message is in the channel already.
            None => self.rx.try_recv().ok(),
        }
    }
}

#[derive(Default)]
struct Registry {
    by_key: HashMap<(usize, Bytes), VecDeque<Arc<Waiter>>>,
    by_client: HashMap<u64, Arc<Waiter>>,
}

/// The registry of blocked clients.
#[derive(Default)]
pub struct Blocking {
    inner: Mutex<Registry>,
    /// Number of registered waiters; non-zero makes writes record ready keys.
    waiting: AtomicUsize,
}

impl Blocking {
    /// True when some client is blocked (read after locking shards: a waiter registers under
    /// the lock of every key it waits on, so a writer that locks one of them later sees it).
    #[inline]
    pub fn is_active(&self) -> bool {
        self.waiting.load(Ordering::Relaxed) != 0
    }

    /// Number of blocked clients with a timeout (INFO clients_in_timeout_table).
    pub fn timed_clients(&self) -> usize {
        self.inner
            .lock()
            .by_client
            .values()
            .filter(|w| w.timed)
            .count()
    }

    /// Number of keys some client waits on (INFO total_blocking_keys).
    pub fn blocking_keys(&self) -> usize {
        self.inner.lock().by_key.len()
    }

    /// The keys of databases `dbs` some client waits on (SWAPDB's candidates to serve).
    pub fn keys_in(&self, dbs: &[usize]) -> Vec<(usize, Bytes)> {
        let r = self.inner.lock();
        r.by_key
            .keys()
            .filter(|(db, _)| dbs.contains(db))
            .cloned()
            .collect()
    }

    fn register(&self, waiter: Arc<Waiter>) {
        let mut r = self.inner.lock();
        for key in &waiter.keys {
            r.by_key
                .entry((waiter.db, key.clone()))
                .or_default()
                .push_back(waiter.clone());
        }
        r.by_client.insert(waiter.client_id, waiter);
        self.waiting.fetch_add(1, Ordering::Relaxed);
    }

    /// Removes `waiter` from every queue (idempotent).
    pub fn deregister(&self, waiter: &Arc<Waiter>) {
        let mut r = self.inner.lock();
        let mine = r
            .by_client
            .get(&waiter.client_id)
            .is_some_and(|w| Arc::ptr_eq(w, waiter));
        if !mine {
            return;
        }
        r.by_client.remove(&waiter.client_id);
        for key in &waiter.keys {
            let k = (waiter.db, key.clone());
            if let Some(q) = r.by_key.get_mut(&k) {
                q.retain(|w| !Arc::ptr_eq(w, waiter));
                if q.is_empty() {
                    r.by_key.remove(&k);
                }
            }
        }
        self.waiting.fetch_sub(1, Ordering::Relaxed);
    }

    /// The first client waiting on `key`.
    fn front(&self, db: usize, key: &Bytes) -> Option<Arc<Waiter>> {
        let r = self.inner.lock();
        r.by_key.get(&(db, key.clone()))?.front().cloned()
    }

    /// CLIENT UNBLOCK: wakes client `id` if it is blocked on keys; true when it was.
    pub fn unblock(&self, id: u64, error: bool) -> bool {
        let Some(waiter) = self.inner.lock().by_client.get(&id).cloned() else {
            return false;
        };
        // Sent while holding the waiter's mutex, so that a timeout racing with us finds the
        // message in the channel.
        let mut sender = waiter.sender.lock();
        let Some(tx) = sender.take() else {
            return false;
        };
        let _ = tx.send(Wake::Unblock { error });
        drop(sender);
        self.deregister(&waiter);
        true
    }
}

/// Parses a blocking command's timeout (seconds, a double; 0 waits forever) into a deadline,
/// with Redis's errors.
pub fn parse_timeout(arg: &[u8], now: Instant) -> CmdResult<Option<Instant>> {
    let secs = crate::cmd::args::parse_float(arg)
        .or_else(|| parse_hex(arg))
        .ok_or_else(|| CmdError::new("ERR timeout is not a float or out of range"))?;
    let ms = (secs * 1000.0).ceil();
    if ms > i64::MAX as f64 {
        return Err(CmdError::new("ERR timeout is out of range"));
    }
    if ms < 0.0 {
        return Err(CmdError::new("ERR timeout is negative"));
    }
    if ms == 0.0 {
        return Ok(None);
    }
    // A deadline no clock can reach waits forever.
    Ok(now.checked_add(std::time::Duration::from_millis(ms as u64)))
}

/// A hexadecimal integer (`0x1F`, `-0x1f`), which Redis's `strtold` also accepts as a timeout.
fn parse_hex(arg: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(arg).ok()?;
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    if digits.is_empty() || digits.len() > 32 {
        return None;
    }
    let v = u128::from_str_radix(digits, 16).ok()? as f64;
    Some(if neg { -v } else { v })
}

/// The body of every blocking command: tries `try_serve`; if it has nothing to give, either
/// answers `no_block_reply` at once (inside MULTI/EXEC or a script, where nothing may block) or registers
/// the client as waiting for one of `keys` to be created as a `wants` ("list", "zset") and
/// tells the connection to block (`After::Block`).
pub fn block_or_reply(
    ctx: &mut Ctx,
    wants: &'static str,
    keys: &[Bytes],
    deadline: Option<Instant>,
    try_serve: TryServe,
    no_block_reply: Reply,
) -> CmdResult<Reply> {
    let db = ctx.db();
    if let Some(reply) = try_serve(ctx.server, ctx.ks, db, ctx.args)? {
        return Ok(reply);
    }
    if ctx.client.deny_blocking {
        return Ok(no_block_reply);
    }
    let mut distinct: Vec<Bytes> = Vec::with_capacity(keys.len());
    for k in keys {
        if !distinct.contains(k) {
            distinct.push(Bytes::copy_from_slice(k));
        }
    }
    let args: Vec<Bytes> = ctx.args.iter().map(|a| Bytes::copy_from_slice(a)).collect();
    let mut shards: Vec<usize> = ctx
        .spec
        .keys
        .positions(&args)
        .map(|i| shard_of(&args[i]))
        .collect();
    shards.sort_unstable();
    shards.dedup();
    let (tx, rx) = oneshot::channel();
    let waiter = Arc::new(Waiter {
        client_id: ctx.client.id,
        db,
        args,
        keys: distinct,
        shards,
        try_serve,
        wants,
        timed: deadline.is_some(),
        sender: Mutex::new(Some(tx)),
    });
    ctx.server.blocking.register(waiter.clone());
    ctx.after = After::Block(Box::new(Blocked {
        waiter,
        rx,
        deadline,
    }));
    Ok(Reply::Nil)
}

/// Serves the clients blocked on the keys the command made ready (`ks.ready`), in the order
/// the keys became ready and, per key, in the order the clients blocked. Runs before the
/// command's locks are released.
pub fn serve_ready<'a>(server: &'a Server, ks: &mut Locked<'a>) {
    let mut i = 0;
    while i < ks.ready.len() {
        let (db, key) = ks.ready[i].clone();
        i += 1;
        while let Some(waiter) = server.blocking.front(db, &key) {
            server.keyspace.lock_also(ks, &waiter.shards);
            if ks.peek(db, &key).map(|e| e.value.type_name()) != Some(waiter.wants) {
                break;
            }
            let mut sender = waiter.sender.lock();
            if sender.is_none() {
                // Timed out or disconnected, and not yet gone from the queue.
                drop(sender);
                server.blocking.deregister(&waiter);
                continue;
            }
            let reply = match (waiter.try_serve)(server, ks, waiter.db, &waiter.args) {
                Ok(None) => break,
                Ok(Some(reply)) => reply,
                Err(e) => {
                    server.stats.record_error(&e.0);
                    e.into()
                }
            };
            if let Some(tx) = sender.take() {
                let _ = tx.send(Wake::Reply(reply));
            }
            drop(sender);
            server.blocking.deregister(&waiter);
        }
    }
    ks.ready.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse_as_redis_does() {
        let now = Instant::now();
        assert_eq!(parse_timeout(b"0", now).unwrap(), None);
        // Rounded up to the next millisecond; a tiny negative one rounds to 0 (forever).
        assert_eq!(
            parse_timeout(b"0.0001", now).unwrap(),
            Some(now + std::time::Duration::from_millis(1))
        );
        assert_eq!(parse_timeout(b"-0.0001", now).unwrap(), None);
        assert_eq!(
            parse_timeout(b"1.5", now).unwrap(),
            Some(now + std::time::Duration::from_millis(1500))
        );
        assert_eq!(
            parse_timeout(b"0x10", now).unwrap(),
            Some(now + std::time::Duration::from_secs(16))
        );
        let err = |arg: &[u8]| parse_timeout(arg, now).unwrap_err().0;
        assert_eq!(err(b"-1"), "ERR timeout is negative");
        assert_eq!(err(b"abc"), "ERR timeout is not a float or out of range");
        assert_eq!(err(b"nan"), "ERR timeout is not a float or out of range");
        assert_eq!(err(b"inf"), "ERR timeout is out of range");
        assert_eq!(err(b"0x7FFFFFFFFFFFFF"), "ERR timeout is out of range");
    }
}
