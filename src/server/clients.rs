//! The registry of connected clients: what CLIENT LIST / INFO / KILL and INFO clients see.
//!
//! Each connection owns its [`Client`] state; the parts other connections may read or act on live
//! in a shared [`ClientInfo`]. Killing a client shuts its socket down, which ends its read loop
//! without the loop having to watch another future.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;

use super::pubsub::{Outbox, SubCounts, Subscriptions};
use super::stats::LocalStats;
use crate::protocol::Protocol;

/// Per-connection state that only the connection's own task touches.
pub struct Client {
    pub id: u64,
    pub db: usize,
    pub protocol: Protocol,
    pub authenticated: bool,
    pub reply_mode: ReplyMode,
    /// Close the connection once the current replies are written (QUIT, CLIENT KILL of self).
    pub close_after_reply: bool,
    pub info: Arc<ClientInfo>,
    /// Command counters not yet added to the server's totals.
    pub stats: LocalStats,
    /// Commands queued since MULTI (None outside a transaction).
    pub tx: Option<Transaction>,
    /// Keys under WATCH, with the version each had when watched.
    pub watched: Vec<Watched>,
    /// When the previous command of the current batch ended: the next one starts its clock
    /// there instead of reading the clock again (one clock read per command instead of two).
    /// The connection clears it at the start of each batch and after anything it waits for, so
    /// it is never older than the commands run back to back since.
    pub clock_hint: Option<std::time::Instant>,
    /// Channels, patterns and shard channels subscribed to.
    pub subscriptions: Subscriptions,
    /// Running EXEC's queued commands or a script's, which must each answer at once (Redis's
    /// CLIENT_DENY_BLOCKING: blocking commands answer as if timed out, SSUBSCRIBE is refused).
    pub deny_blocking: bool,
    /// This is the client a Lua script runs its commands as (Redis's CLIENT_SCRIPT: SORT of a
    /// set orders its output).
    pub in_script: bool,
    /// Cold values loaded for the command about to run again (src/tier): dispatch installs
    /// them under the command's locks, then clears this.
    pub preloaded: crate::tier::Preloaded,
    /// With `appendfsync always`: the binlog offset this client's replies wait for (0: none).
    pub durable_at: u64,
    /// How many times in a row this client's write waited for tiering to make room (see
    /// `tier::Tier::enforce`).
    pub stalls: u32,
}

impl Client {
    /// A new connection's state: database 0, RESP2, replies on.
    pub fn new(info: Arc<ClientInfo>, authenticated: bool) -> Client {
        Client {
            id: info.id,
            db: 0,
            protocol: Protocol::Resp2,
            authenticated,
            reply_mode: ReplyMode::On,
            close_after_reply: false,
            info,
            stats: LocalStats::default(),
            tx: None,
            watched: Vec::new(),
            clock_hint: None,
            subscriptions: Subscriptions::default(),
            deny_blocking: false,
            in_script: false,
            preloaded: Vec::new(),
            durable_at: 0,
            stalls: 0,
        }
    }
}

/// A transaction being queued (MULTI ... EXEC).
#[derive(Debug, Default)]
pub struct Transaction {
    /// Table index and arguments of each queued command.
    pub queued: Vec<(usize, crate::protocol::Args)>,
    /// A command was refused while queueing: EXEC will answer EXECABORT.
    pub aborted: bool,
}

/// A key under WATCH: EXEC runs only if its version is still the same. Every write gives a key
/// a new version, so any write, delete, expiry or flush of it in between is seen; a key that
/// was missing is registered with its shard, so that creating it (even if it is deleted again
/// before EXEC) is seen too.
#[derive(Debug)]
pub struct Watched {
    pub db: usize,
    pub key: Bytes,
    pub state: crate::keyspace::WatchState,
}

/// CLIENT REPLY ON|OFF|SKIP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Drop the reply of the next command only.
    SkipNext,
    /// Dropping the reply of the current command (was SkipNext when it started).
    Skipping,
}

/// What other connections may see of a client.
pub struct ClientInfo {
    pub id: u64,
    pub addr: SocketAddr,
    pub laddr: SocketAddr,
    pub created_ms: u64,
    pub name: Mutex<Option<Bytes>>,
    pub lib_name: Mutex<Option<Bytes>>,
    pub lib_ver: Mutex<Option<Bytes>>,
    pub db: AtomicUsize,
    pub protocol: AtomicU32,
    pub last_interaction_ms: AtomicU64,
    /// Index in the command table of the last command run, for CLIENT LIST's `cmd=`.
    pub last_cmd: AtomicU32,
    pub query_buf: AtomicUsize,
    /// Spare capacity of the query buffer (`qbuf-free`).
    pub query_buf_free: AtomicUsize,
    pub no_evict: AtomicBool,
    /// Waiting for a CLIENT PAUSE to end; the idle timeout spares such clients (as in Redis).
    pub blocked: AtomicBool,
    pub killed: AtomicBool,
    /// Commands queued since MULTI, -1 outside a transaction (CLIENT LIST's `multi=`).
    pub multi: std::sync::atomic::AtomicI64,
    /// Messages pushed to this client (Pub/Sub) from other connections.
    pub outbox: Outbox,
    /// Subscription counts (CLIENT LIST).
    pub subs: SubCounts,
    /// A second handle on the socket, so that a kill can shut it down from another task.
    socket: Mutex<Option<std::net::TcpStream>>,
}

impl ClientInfo {
    pub fn new(
        id: u64,
        addr: SocketAddr,
        laddr: SocketAddr,
        now_ms: u64,
        socket: Option<std::net::TcpStream>,
    ) -> Self {
        ClientInfo {
            id,
            addr,
            laddr,
            created_ms: now_ms,
            name: Mutex::new(None),
            lib_name: Mutex::new(None),
            lib_ver: Mutex::new(None),
            db: AtomicUsize::new(0),
            protocol: AtomicU32::new(2),
            last_interaction_ms: AtomicU64::new(now_ms),
            last_cmd: AtomicU32::new(u32::MAX),
            query_buf: AtomicUsize::new(0),
            query_buf_free: AtomicUsize::new(0),
            no_evict: AtomicBool::new(false),
            blocked: AtomicBool::new(false),
            killed: AtomicBool::new(false),
            multi: std::sync::atomic::AtomicI64::new(-1),
            outbox: Outbox::default(),
            subs: SubCounts::default(),
            socket: Mutex::new(socket),
        }
    }

    /// Ends the connection: its next (or current) read returns end-of-stream.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        if let Some(sock) = self.socket.lock().as_ref() {
            let _ = sock.shutdown(std::net::Shutdown::Both);
        }
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    pub fn name(&self) -> Option<Bytes> {
        self.name.lock().clone()
    }
}

#[derive(Default)]
pub struct ClientRegistry {
    clients: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
    next_id: AtomicU64,
    pub connected: AtomicUsize,
}

impl ClientRegistry {
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn add(&self, info: Arc<ClientInfo>) {
        self.clients.lock().insert(info.id, info);
        self.connected.fetch_add(1, Ordering::Relaxed);
    }

    pub fn remove(&self, id: u64) {
        if self.clients.lock().remove(&id).is_some() {
            self.connected.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// A snapshot of every client, in id order.
    pub fn all(&self) -> Vec<Arc<ClientInfo>> {
        self.clients.lock().values().cloned().collect()
    }

    pub fn get(&self, id: u64) -> Option<Arc<ClientInfo>> {
        self.clients.lock().get(&id).cloned()
    }

    pub fn len(&self) -> usize {
        self.connected.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn kill_all(&self) {
        for c in self.all() {
            c.kill();
        }
    }
}
