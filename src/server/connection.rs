//! One client connection: read, parse every complete request, dispatch each, write all replies
//! at once.
//!
//! The loop awaits the socket and the client's inbox of pushed messages (Pub/Sub deliveries, see
//! `pubsub.rs`), which it writes as they come; during a batch, messages waiting there follow the
//! reply of the command after which they were found. Killing a client (CLIENT KILL, idle
//! timeout, shutdown, an output buffer over its limit) shuts its socket down from outside, which
//! the pending read sees as end-of-stream. A command that blocked on keys (`After::Block`) makes
//! the task await the reply channel, the timeout and the socket together instead (see
//! `wait_blocked` and src/server/blocking.rs). Malformed input
//! gets Redis's `-ERR Protocol error: ...` and the connection is closed; a command error is just a
//! reply.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use tokio::sync::oneshot;

use super::blocking::{Blocked, Wake, UNBLOCKED};
use super::clients::{Client, ClientInfo, ReplyMode};
use super::pubsub::Inbox;
use super::{unix_ms, Server};
use crate::cmd::{dispatch, After};
use crate::error::MAX_CLIENTS;

/// How many times one command may find cold values it needs (see `After::Load`).
const MAX_LOAD_ROUNDS: u32 = 16;
use crate::protocol::{encode, Limits, Reply, RequestParser};

/// Read buffer growth step.
const READ_CHUNK: usize = 16 * 1024;
/// A drained query buffer bigger than this shrinks back to [`READ_CHUNK`] once a batch uses
/// less than half of it (Redis's PROTO_RESIZE_THRESHOLD).
const RESIZE_THRESHOLD: usize = 32 * 1024;
/// An idle client with an empty query buffer releases it after this long.
const IDLE_RELEASE: Duration = Duration::from_secs(2);
/// Replies are written out once this much is pending, even mid-batch, to bound memory.
const WRITE_FLUSH: usize = 1024 * 1024;

pub async fn accept_loop(server: Arc<Server>, listener: TcpListener) {
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(x) => x,
            // The socket was shut down (CONFIG SET port/bind replaced it, or shutdown).
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => return,
            Err(e) => {
                // Out of file descriptors and similar: back off instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if server.is_shutting_down() {
            return;
        }
        server
            .stats
            .total_connections
            .fetch_add(1, Ordering::Relaxed);
        // Ids follow the order connections were accepted in, as in Redis.
        let id = server.clients.next_id();
        match server.io.get() {
            // Hand the socket to an I/O thread, which registers it with its own reactor.
            Some(io) => match stream.into_std() {
                Ok(std_stream) => {
                    let server = server.clone();
                    io.spawn(async move {
                        match TcpStream::from_std(std_stream) {
                            Ok(stream) => serve(server, stream, addr, id).await,
                            Err(e) => tracing::warn!("cannot register client socket: {e}"),
                        }
                    });
                }
                Err(e) => tracing::warn!("cannot hand over client socket: {e}"),
            },
            None => {
                tokio::spawn(serve(server.clone(), stream, addr, id));
            }
        }
    }
}

async fn serve(server: Arc<Server>, stream: TcpStream, addr: std::net::SocketAddr, id: u64) {
    let (maxclients, keepalive) = {
        let c = server.config.read();
        (c.maxclients, c.tcp_keepalive)
    };
    let mut stream = stream;
    if server.clients.len() as u64 >= maxclients {
        server
            .stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        let _ = stream
            .write_all(format!("-{MAX_CLIENTS}\r\n").as_bytes())
            .await;
        return;
    }
    let _ = stream.set_nodelay(true);
    if keepalive > 0 {
        let ka = socket2::TcpKeepalive::new().with_time(Duration::from_secs(keepalive));
        let _ = socket2::SockRef::from(&stream).set_tcp_keepalive(&ka);
    }
    let laddr = stream.local_addr().unwrap_or(addr);
    // A second handle on the socket lets other tasks shut it down (CLIENT KILL).
    let killer = socket2::SockRef::from(&stream)
        .try_clone()
        .ok()
        .map(std::net::TcpStream::from);
    let info = Arc::new(ClientInfo::new(id, addr, laddr, unix_ms(), killer));
    server.clients.add(info.clone());
    // Leaves the registry (dropping its handle on the socket, which closes it) however this
    // task ends, a panic in a handler included: a client is never left hanging on a socket
    // nobody serves.
    let _registered = Registered {
        server: &server,
        id,
    };
    let mut client = Client::new(info, !server.requires_auth());
    if let Err(e) = run(&server, &mut client, &mut stream).await {
        tracing::debug!("client id={id} addr={addr} closed: {e}");
    }
    server
        .pubsub
        .unsubscribe_all(&mut client.subscriptions, &client.info);
    server.stats.flush(&mut client.stats);
}

/// Removes a client from the registry when dropped.
struct Registered<'a> {
    server: &'a Server,
    id: u64,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        // A task that ended in a panic did not drop its subscriptions: do it here.
        if let Some(info) = self.server.clients.get(self.id) {
            if info.subs.any() {
                self.server.pubsub.forget(self.id);
            }
        }
        self.server.clients.remove(self.id);
    }
}

async fn run(
    server: &Arc<Server>,
    client: &mut Client,
    stream: &mut TcpStream,
) -> std::io::Result<()> {
    let mut parser = RequestParser::new();
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut out = BytesMut::with_capacity(READ_CHUNK);
    // A client that stays idle with nothing buffered gives its query buffer back, so that many
    // idle connections hold no read memory (Redis does the same). One timer per connection,
    // re-armed at most once per IDLE_RELEASE, keeps timer work off the per-request path.
    let idle = tokio::time::sleep(IDLE_RELEASE);
    tokio::pin!(idle);
    // Pushed messages, once the client has subscribed to something.
    let mut inbox: Option<Inbox> = None;
    loop {
        // Between requests, or while subscribed, wait for pushed messages too.
        if buf.is_empty() || client.subscriptions.active() {
            take_inbox(client, &mut inbox);
            let holds_buf = buf.is_empty() && buf.capacity() > 0;
            tokio::select! {
                biased;
                ready = stream.readable() => ready?,
                Some(msg) = next_pushed(&mut inbox) => {
                    out.extend_from_slice(&msg);
                    client.info.outbox.delivered(msg.len());
                    take_pushed(client, &mut inbox, &mut out);
                    write_out(server, stream, &mut out).await?;
                    continue;
                }
                _ = &mut idle, if holds_buf => {
                    let last = client.info.last_interaction_ms.load(Ordering::Relaxed);
                    let idle_ms = unix_ms().saturating_sub(last);
                    if idle_ms >= IDLE_RELEASE.as_millis() as u64 {
                        buf = BytesMut::new();
                        note_query_buf(client, &buf);
                        idle.as_mut().reset(tokio::time::Instant::now() + IDLE_RELEASE);
                    } else {
                        let left = IDLE_RELEASE.saturating_sub(Duration::from_millis(idle_ms));
                        idle.as_mut().reset(tokio::time::Instant::now() + left);
                    }
                    continue;
                }
            }
        }
        // Grow the buffer for a large argument in one step instead of many small ones.
        let want = parser.pending_bulk().unwrap_or(0).max(READ_CHUNK);
        if buf.capacity() - buf.len() < READ_CHUNK / 4 || want > buf.capacity() - buf.len() {
            buf.reserve(want);
        }
        let n = stream.read_buf(&mut buf).await?;
        if n == 0 || client.info.is_killed() {
            return Ok(());
        }
        server
            .stats
            .net_input_bytes
            .fetch_add(n as u64, Ordering::Relaxed);
        client
            .info
            .last_interaction_ms
            .store(unix_ms(), Ordering::Relaxed);

        let (max_bulk, qbuf_limit) = {
            let c = server.config.read();
            (
                c.proto_max_bulk_len as i64,
                c.client_query_buffer_limit as usize,
            )
        };
        // While a batch runs, `qbuf` counts the whole unprocessed input, the running command
        // included (as Redis reports it to CLIENT LIST / CLIENT INFO).
        note_query_buf(client, &buf);
        let batch_len = buf.len();
        // A new batch reads the clock afresh (see `Client::clock_hint`).
        client.clock_hint = None;
        loop {
            let limits = Limits {
                max_bulk_len: max_bulk,
                authenticated: client.authenticated,
            };
            let args = match parser.parse(&mut buf, limits) {
                Ok(Some(args)) => args,
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!("protocol error from client id={}: {e}", client.id);
                    encode(&mut out, Reply::Error(e.reply_text()), client.protocol);
                    write_out(server, stream, &mut out).await?;
                    return Ok(());
                }
            };
            let mut blocked = None;
            let mut loads = 0u32;
            let logged = binlog_end(server);
            let (reply, after) = loop {
                let (reply, after) = dispatch(server, client, args);
                let queued = client.tx.as_ref().map_or(-1, |tx| tx.queued.len() as i64);
                client.info.multi.store(queued, Ordering::Relaxed);
                if matches!(after, After::RetryWhenScriptDone) {
                    // A script holds the keyspace: wait for it (or for the busy threshold).
                    if client.info.is_killed() || server.is_shutting_down() {
                        return Ok(());
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    client.clock_hint = None;
                    continue;
                }
                if matches!(after, After::RetryWhenMemory) {
                    // Over maxmemory while tiering makes room: this write waits (a write
                    // stall), everyone else keeps being served.
                    if client.info.is_killed() || server.is_shutting_down() {
                        return Ok(());
                    }
                    if let Some(tier) = server.tier.get() {
                        tier.stats.write_stalls.fetch_add(1, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    client.clock_hint = None;
                    continue;
                }
                if let After::Load(mut load) = after {
                    // The command needs cold values: fetch them (merged with any load of the
                    // same keys already under way) and run it again with them in hand. A value
                    // rewritten and demoted again between each read and each retry could keep
                    // it going for ever: after a few rounds the command gives up.
                    loads += 1;
                    if loads > MAX_LOAD_ROUNDS {
                        client.preloaded.clear();
                        break (
                            Reply::error(
                                "ERR cold values kept changing while being loaded, try again",
                            ),
                            After::Nothing,
                        );
                    }
                    // The keys of the command itself; any after them are fetched ahead.
                    let own = load.keys.len();
                    if loads == 1 {
                        // The pipeline's next requests, read from a copy of the input (the
                        // parser has just finished a request, so `buf` starts at the next):
                        // their cold keys join this load.
                        let mut ahead = buf.clone();
                        let mut peek = RequestParser::new();
                        let mut upcoming = Vec::new();
                        while upcoming.len() < crate::tier::PREFETCH_REQUESTS {
                            match peek.parse(&mut ahead, limits) {
                                Ok(Some(next)) => upcoming.push(next.clone()),
                                _ => break,
                            }
                        }
                        let keys = crate::cmd::upcoming_keys(upcoming.iter().map(|a| &a[..]));
                        crate::tier::prefetch(server, &mut load, keys);
                    }
                    let db = load.db;
                    match crate::tier::await_loads(server, *load).await {
                        Ok(mut values) => {
                            let ahead = values.split_off(own.min(values.len()));
                            crate::tier::install_prefetched(server, db, ahead);
                            client.preloaded = values;
                        }
                        Err(e) => break (Reply::Error(e), After::Nothing),
                    }
                    client.clock_hint = None;
                    continue;
                }
                if let After::Demote(db, key) = after {
                    let reply = match server.tier.get() {
                        Some(tier) => match tier.demote_now(db, key).await {
                            Ok(cold) => Reply::Int(cold as i64),
                            Err(e) => Reply::Error(e),
                        },
                        None => Reply::error("ERR tiering is off (tiering no)"),
                    };
                    client.clock_hint = None;
                    break (reply, After::Nothing);
                }
                if let After::RunScript(idx) = after {
                    let reply =
                        crate::cmd::scripting::run_detached(server.clone(), client, args, idx)
                            .await;
                    client.clock_hint = None;
                    break (reply, After::Nothing);
                }
                if !matches!(after, After::RetryWhenUnpaused) {
                    break (reply, after);
                }
                if blocked.is_none() {
                    // Counted in INFO's blocked_clients until the command runs or we leave.
                    blocked = Some(BlockedGuard::new(server, client.info.clone()));
                    // Let the replies so far go out while we wait.
                    write_out(server, stream, &mut out).await?;
                }
                // A paused client is not reading its socket, so watch for a kill here.
                if client.info.is_killed() || server.is_shutting_down() {
                    return Ok(());
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                client.clock_hint = None;
            };
            drop(blocked);
            let (reply, after) = match after {
                After::Block(b) => {
                    let woken = wait_blocked(server, client, stream, &mut out, &mut buf, *b).await;
                    client.clock_hint = None;
                    match woken {
                        Some(reply) => (reply, After::Nothing),
                        // Gone while blocked (disconnect or CLIENT KILL).
                        None => return Ok(()),
                    }
                }
                after => (reply, after),
            };
            note_durable(server, client, logged);
            if let After::Sleep(d) = after {
                tokio::time::sleep(d).await;
                client.clock_hint = None;
            }
            // Push messages (subscription confirmations) are sent whatever the reply mode.
            let pushing = reply.is_push();
            match client.reply_mode {
                // A successful SHUTDOWN closes the connection without a reply, as in Redis.
                ReplyMode::On if matches!(after, After::Shutdown) => {}
                ReplyMode::On => encode(&mut out, reply, client.protocol),
                ReplyMode::Off if pushing => encode(&mut out, reply, client.protocol),
                ReplyMode::Off => {}
                ReplyMode::SkipNext => {
                    // Set by this very command (CLIENT REPLY SKIP): skip the next one.
                    client.reply_mode = ReplyMode::Skipping;
                }
                ReplyMode::Skipping => {
                    if pushing {
                        encode(&mut out, reply, client.protocol);
                    }
                    client.reply_mode = ReplyMode::On;
                }
            }
            // Messages pushed meanwhile follow the reply (one this command published to its
            // own client comes right after it, as in Redis).
            take_pushed(client, &mut inbox, &mut out);
            if matches!(after, After::Shutdown) {
                await_durable(server, client).await;
                write_out(server, stream, &mut out).await?;
                server.shutdown();
                return Ok(());
            }
            if client.close_after_reply || client.info.is_killed() {
                await_durable(server, client).await;
                write_out(server, stream, &mut out).await?;
                return Ok(());
            }
            if out.len() >= WRITE_FLUSH {
                await_durable(server, client).await;
                write_out(server, stream, &mut out).await?;
                client.clock_hint = None;
            }
        }
        // The last request's arguments must not pin the buffer we are about to reuse.
        parser.release_args();
        if let Some(want) = parser.pending_bulk() {
            // Room for the whole of a big argument as soon as its header is in (as Redis does).
            buf.reserve(want.saturating_sub(buf.len()));
        } else if buf.is_empty() {
            // Reuse the drained allocation from its start; drop it for a small one when it grew
            // for a big request and this batch needed less than half of it.
            buf.reserve(READ_CHUNK);
            if buf.capacity() > RESIZE_THRESHOLD && batch_len < buf.capacity() / 2 {
                buf = BytesMut::with_capacity(READ_CHUNK);
            }
        }
        note_query_buf(client, &buf);
        if buf.len() > qbuf_limit {
            tracing::warn!(
                "closing client id={} addr={} that reached max query buffer length ({} bytes)",
                client.id,
                client.info.addr,
                buf.len()
            );
            return Ok(());
        }
        if !client.stats.is_empty() {
            server.stats.flush(&mut client.stats);
        }
        if !out.is_empty() {
            // Let the other connections of this I/O thread that are ready process their input
            // first, so that replies leave in one burst per event-loop turn (as Redis writes in
            // beforeSleep): a client woken by our first write then finds its other replies
            // already there instead of being woken once per write.
            YieldOnce(false).await;
            await_durable(server, client).await;
            write_out(server, stream, &mut out).await?;
        }
    }
}

/// What ended a wait in [`wait_blocked`].
enum BlockEnd {
    Woken(Result<Wake, oneshot::error::RecvError>),
    TimedOut,
    Readable(std::io::Result<()>),
}

/// Waits for a command that blocked on keys (BLPOP ...) to be served, time out or be
/// unblocked, after sending the replies so far. As Redis does, further commands the client
/// sends meanwhile are buffered, not run; a disconnect (or CLIENT KILL, which shuts the socket
/// down) gives up waiting. Returns the reply to send, None when the client is gone. However it
/// ends, the client leaves the registry, and an element popped for it is in the reply.
async fn wait_blocked(
    server: &Server,
    client: &mut Client,
    stream: &mut TcpStream,
    out: &mut BytesMut,
    buf: &mut BytesMut,
    mut blocked: Blocked,
) -> Option<Reply> {
    let _counted = BlockedGuard::new(server, client.info.clone());
    if write_out(server, stream, out).await.is_err() {
        blocked.cancel(server);
        return None;
    }
    let deadline = blocked.deadline.map(tokio::time::Instant::from_std);
    let qbuf_limit = server.config.read().client_query_buffer_limit as usize;
    loop {
        let end = tokio::select! {
            biased;
            woken = &mut blocked.rx => BlockEnd::Woken(woken),
            _ = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            } => BlockEnd::TimedOut,
            ready = stream.readable() => BlockEnd::Readable(ready),
        };
        match end {
            BlockEnd::Woken(woken) => {
                server.blocking.deregister(&blocked.waiter);
                return Some(wake_reply(woken.ok()));
            }
            BlockEnd::TimedOut => {
                let woken = blocked.cancel(server);
                return Some(wake_reply(woken));
            }
            BlockEnd::Readable(Err(_)) => {
                blocked.cancel(server);
                return None;
            }
            BlockEnd::Readable(Ok(())) => {
                if buf.capacity() - buf.len() < READ_CHUNK / 4 {
                    buf.reserve(READ_CHUNK);
                }
                match stream.try_read_buf(buf) {
                    Ok(0) => {
                        blocked.cancel(server);
                        return None;
                    }
                    Ok(n) => {
                        server
                            .stats
                            .net_input_bytes
                            .fetch_add(n as u64, Ordering::Relaxed);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => {
                        blocked.cancel(server);
                        return None;
                    }
                }
                note_query_buf(client, buf);
                // Input keeps being buffered while blocked, within the same limit as ever.
                if client.info.is_killed() || buf.len() > qbuf_limit {
                    blocked.cancel(server);
                    return None;
                }
            }
        }
    }
}

/// The reply of a blocked command from what woke it (None: it timed out).
fn wake_reply(woken: Option<Wake>) -> Reply {
    match woken {
        Some(Wake::Reply(reply)) => reply,
        Some(Wake::Unblock { error: true }) => Reply::error(UNBLOCKED),
        // The timeout reply of every list and sorted set blocking command.
        Some(Wake::Unblock { error: false }) | None => Reply::NilArray,
    }
}

/// Takes the client's inbox once its first subscription has created it.
fn take_inbox(client: &Client, inbox: &mut Option<Inbox>) {
    if inbox.is_none() && client.subscriptions.opened() {
        *inbox = client.info.outbox.take_inbox();
    }
}

/// The next pushed message; never resolves for a client without an inbox.
async fn next_pushed(inbox: &mut Option<Inbox>) -> Option<Bytes> {
    match inbox {
        Some(inbox) => inbox.recv().await,
        None => std::future::pending().await,
    }
}

/// Moves the messages already waiting in the client's inbox to `out` (up to about
/// [`WRITE_FLUSH`] bytes, so that a flood of publishes cannot starve the client's own
/// requests). From there they count against no limit: `out` is bounded by the loop, and a
/// socket that stops draining leaves later messages in the inbox, where they do count.
fn take_pushed(client: &Client, inbox: &mut Option<Inbox>, out: &mut BytesMut) {
    take_inbox(client, inbox);
    let Some(inbox) = inbox else {
        return;
    };
    let mut taken = 0;
    while taken < WRITE_FLUSH {
        let Ok(msg) = inbox.try_recv() else { break };
        out.extend_from_slice(&msg);
        taken += msg.len();
    }
    if taken > 0 {
        client.info.outbox.delivered(taken);
    }
}

fn note_query_buf(client: &Client, buf: &BytesMut) {
    client.info.query_buf.store(buf.len(), Ordering::Relaxed);
    client
        .info
        .query_buf_free
        .store(buf.capacity() - buf.len(), Ordering::Relaxed);
}

/// Marks a client blocked, and counts it in `blocked_clients`, while it waits for a CLIENT
/// PAUSE to end or for keys (BLPOP ...).
struct BlockedGuard<'a>(&'a Server, Arc<ClientInfo>);

impl<'a> BlockedGuard<'a> {
    fn new(server: &'a Server, info: Arc<ClientInfo>) -> BlockedGuard<'a> {
        server.stats.blocked_clients.fetch_add(1, Ordering::Relaxed);
        info.blocked.store(true, Ordering::Relaxed);
        BlockedGuard(server, info)
    }
}

impl Drop for BlockedGuard<'_> {
    fn drop(&mut self) {
        self.1.blocked.store(false, Ordering::Relaxed);
        self.0.stats.blocked_clients.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Where the binlog ends now (0 without one).
fn binlog_end(server: &Server) -> u64 {
    server.binlog.get().map_or(0, |log| log.end())
}

/// With `appendfsync always`, makes the replies so far wait for the binlog records appended
/// since `before` (the command's, and perhaps a few of other clients' that went in meanwhile).
fn note_durable(server: &Server, client: &mut Client, before: u64) {
    if let Some(log) = server.binlog.get() {
        if log.policy() == crate::binlog::Fsync::Always {
            let end = log.end();
            if end > before {
                client.durable_at = client.durable_at.max(end);
            }
        }
    }
}

/// Waits until the binlog records this client's pending replies depend on are synced.
async fn await_durable(server: &Server, client: &mut Client) {
    if client.durable_at == 0 {
        return;
    }
    if let Some(log) = server.binlog.get() {
        log.wait_synced(client.durable_at).await;
    }
    client.durable_at = 0;
}

async fn write_out(
    server: &Server,
    stream: &mut TcpStream,
    out: &mut BytesMut,
) -> std::io::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    stream.write_all(out).await?;
    server
        .stats
        .net_output_bytes
        .fetch_add(out.len() as u64, Ordering::Relaxed);
    out.clear();
    Ok(())
}

/// Gives way once to the other tasks already queued on this I/O thread. Unlike
/// `tokio::task::yield_now`, which defers the task until the runtime has polled its I/O driver
/// (one more epoll call per turn), this requeues the task at once behind the ready ones.
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}
