//! The server: shared state, the listener, background cron work and shutdown.
//!
//! [`Server`] is the one shared handle every connection holds: configuration, keyspace, client
//! registry, statistics. [`start`] binds the listeners and spawns the accept loops and the cron
//! task on the current tokio runtime and returns a [`ServerHandle`]; the binary and the in-process
//! tests use the same path.

pub mod blocking;
pub mod clients;
pub mod connection;
pub mod evict;
pub mod io_pool;
pub mod memory;
pub mod persist;
pub mod pubsub;
pub mod stats;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU16, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::{Mutex, RwLock};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::cmd::{flags, CommandSpec, CommandTable};
use crate::config::Config;
use crate::keyspace::{Clock, Keyspace};
use clients::ClientRegistry;
use stats::Stats;

/// The Redis version whose behaviour Thermocline implements (reported as `redis_version`).
pub const REDIS_VERSION: &str = "7.2.4";
/// Thermocline's own version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub struct Server {
    pub config: RwLock<Config>,
    pub keyspace: Keyspace,
    pub clients: ClientRegistry,
    pub stats: Stats,
    pub pause: Pause,
    /// Clients blocked on keys (BLPOP and friends).
    pub blocking: blocking::Blocking,
    /// Channel, pattern and shard-channel subscribers.
    pub pubsub: pubsub::PubSub,
    /// Lua scripts and functions, and the gate that makes a script atomic.
    pub scripting: crate::scripting::Scripting,
    pub started: Instant,
    pub started_unix_ms: u64,
    pub run_id: String,
    /// The port actually bound (differs from the configured one when that is 0).
    pub port: AtomicU64,
    /// Highest `used_memory` seen (INFO's used_memory_peak).
    pub memory_peak: AtomicU64,
    /// Used memory against `maxmemory` (src/server/memory.rs).
    pub memory: memory::Memory,
    /// The cold tier (set by [`start`] when `tiering` is on).
    pub tier: std::sync::OnceLock<Arc<crate::tier::Tier>>,
    /// The binlog (set once replay has finished, when `appendonly` is on).
    pub binlog: std::sync::OnceLock<Arc<crate::binlog::Binlog>>,
    /// Replaying the binlog: data commands get -LOADING.
    pub loading: AtomicBool,
    /// Bytes of binlog replayed and to replay (INFO's loading_* fields).
    pub loading_progress: (AtomicU64, AtomicU64),
    /// One checkpoint at a time (`persist::checkpoint`).
    pub checkpointing: Mutex<()>,
    /// A checkpoint is being taken (INFO's aof_rewrite_in_progress), one was asked for and has
    /// not started yet (BGREWRITEAOF; INFO's aof_rewrite_scheduled).
    pub checkpoint_in_progress: AtomicBool,
    pub checkpoint_requested: AtomicBool,
    /// How checkpoints went, for INFO's aof_rewrite fields.
    pub checkpoint_status: Mutex<persist::CheckpointStatus>,
    /// Keys rebuilt from RocksDB at start (INFO's rdb_last_load_keys_loaded).
    pub keys_rebuilt: AtomicU64,
    /// SHUTDOWN NOSAVE: no last checkpoint.
    pub nosave: AtomicBool,
    /// Why the server stopped on its own (a binlog it cannot replay): the binary exits with 1.
    fatal: Mutex<Option<String>>,
    /// Backups: the Unix seconds of the last one (LASTSAVE; the start time before any), one
    /// under way, and whether the last one succeeded.
    pub last_save: AtomicU64,
    pub bgsave_in_progress: AtomicBool,
    pub last_bgsave_ok: AtomicBool,
    /// Active expiry on/off (DEBUG SET-ACTIVE-EXPIRE).
    pub active_expire: AtomicBool,
    /// Background work stopped (DEBUG PAUSE-CRON 1).
    pub cron_paused: AtomicBool,
    /// The current listeners (CONFIG SET bind/port replaces them).
    listeners: Mutex<Vec<Listening>>,
    /// This server, for the accept loops it starts itself (set by [`start`]).
    this: std::sync::OnceLock<std::sync::Weak<Server>>,
    /// The threads that serve connections (set by [`start`]; without it, connections run on the
    /// caller's runtime).
    pub io: std::sync::OnceLock<io_pool::IoPool>,
    /// Cached `requirepass` non-emptiness, read on every command.
    requires_auth: AtomicBool,
    /// `lfu-log-factor << 32 | lfu-decay-time`, read on every command without the config lock.
    lfu_params: AtomicU64,
    /// `notify-keyspace-events`, read on every command without the config lock.
    notify_flags: AtomicU16,
    /// Unix µs minus monotonic µs since `started`; see [`Server::unix_ms_at`]. Kept in µs so
    /// that truncating both readings to ms cannot put the server's clock behind the wall clock
    /// (a client's `PXAT now+10000` must never read back as a PTTL above 10000).
    wall_offset_us: AtomicI64,
    shutdown: watch::Sender<bool>,
}

fn lfu_params(c: &Config) -> u64 {
    (c.lfu_log_factor.min(u32::MAX as u64) << 32) | c.lfu_decay_time.min(u32::MAX as u64)
}

impl Server {
    pub fn new(config: Config) -> Server {
        let databases = config.databases as usize;
        let requires_auth = !config.requirepass.is_empty();
        let port = config.port as u64;
        let lfu = lfu_params(&config);
        crate::types::limits::install(config.limits);
        let notify = config.notify_keyspace_events;
        let pubsub = pubsub::PubSub::default();
        pubsub.limits.set(config.client_output_buffer_limit[2]);
        let memory = memory::Memory::default();
        memory.set_limit(config.maxmemory);
        let keyspace = Keyspace::new(databases);
        keyspace.set_split_elements(config.tiering_split_elements as usize);
        Server {
            config: RwLock::new(config),
            keyspace,
            clients: ClientRegistry::default(),
            stats: Stats::new(CommandTable::get().len()),
            pause: Pause::default(),
            blocking: blocking::Blocking::default(),
            pubsub,
            scripting: crate::scripting::Scripting::new(),
            started: Instant::now(),
            started_unix_ms: unix_ms(),
            run_id: random_hex(40),
            port: AtomicU64::new(port),
            memory_peak: AtomicU64::new(0),
            memory,
            tier: std::sync::OnceLock::new(),
            binlog: std::sync::OnceLock::new(),
            loading: AtomicBool::new(false),
            loading_progress: (AtomicU64::new(0), AtomicU64::new(0)),
            checkpointing: Mutex::new(()),
            nosave: AtomicBool::new(false),
            checkpoint_in_progress: AtomicBool::new(false),
            checkpoint_requested: AtomicBool::new(false),
            checkpoint_status: Mutex::new(persist::CheckpointStatus::default()),
            keys_rebuilt: AtomicU64::new(0),
            fatal: Mutex::new(None),
            last_save: AtomicU64::new(unix_ms() / 1000),
            bgsave_in_progress: AtomicBool::new(false),
            last_bgsave_ok: AtomicBool::new(true),
            active_expire: AtomicBool::new(true),
            cron_paused: AtomicBool::new(false),
            listeners: Mutex::new(Vec::new()),
            this: std::sync::OnceLock::new(),
            io: std::sync::OnceLock::new(),
            requires_auth: AtomicBool::new(requires_auth),
            lfu_params: AtomicU64::new(lfu),
            notify_flags: AtomicU16::new(notify),
            wall_offset_us: AtomicI64::new(unix_us() as i64),
            shutdown: watch::channel(false).0,
        }
    }

    pub fn requires_auth(&self) -> bool {
        self.requires_auth.load(Ordering::Relaxed)
    }

    /// Call after changing `requirepass`.
    pub fn config_changed(&self) {
        let c = self.config.read();
        self.requires_auth
            .store(!c.requirepass.is_empty(), Ordering::Relaxed);
        self.lfu_params.store(lfu_params(&c), Ordering::Relaxed);
        crate::types::limits::install(c.limits);
        self.notify_flags
            .store(c.notify_keyspace_events, Ordering::Relaxed);
        self.pubsub.limits.set(c.client_output_buffer_limit[2]);
        self.memory.set_limit(c.maxmemory);
        self.keyspace
            .set_split_elements(c.tiering_split_elements as usize);
        if let Some(tier) = self.tier.get() {
            tier.configure(&c);
        }
        if let Some(log) = self.binlog.get() {
            if let Some(policy) = crate::binlog::Fsync::parse(&c.appendfsync) {
                log.set_policy(policy);
            }
            log.set_segment_bytes(c.binlog_segment_bytes);
        }
        crate::logging::set_level(c.loglevel);
    }

    /// `notify-keyspace-events` as class bits.
    pub fn notify_flags(&self) -> u16 {
        self.notify_flags.load(Ordering::Relaxed)
    }

    /// The event classes a command's keyspace view collects (0 when notifications are off).
    pub fn notify_mask(&self) -> u16 {
        crate::keyspace::events::collect_mask(self.notify_flags())
    }

    /// Readies a freshly locked view for commands: whether writes must record keys that may
    /// serve blocked clients, which notification classes to collect, whether expiry is paused.
    pub fn open_view(&self, ks: &mut crate::keyspace::Locked) {
        ks.track_ready = self.blocking.is_active();
        ks.keep_expired = self.pause.in_force();
        ks.notify_mask = self.notify_mask();
    }

    /// Ends the commands run on a view: serves the blocked clients its writes made ready (still
    /// under its locks, so in the same atomic step), releases the locks, then publishes the
    /// keyspace notifications collected. Returns the view's lookup counts.
    pub fn close_view<'a>(
        &'a self,
        mut ks: crate::keyspace::Locked<'a>,
    ) -> crate::keyspace::LookupStats {
        if !ks.ready.is_empty() {
            blocking::serve_ready(self, &mut ks);
        }
        if ks.has_transient() {
            self.memory.note_freed(ks.revert_transient());
        }
        let lookups = ks.stats;
        let events = std::mem::take(&mut ks.events);
        drop(ks);
        self.publish_events(events);
        lookups
    }

    /// Publishes the keyspace notifications a command (or the expiry cycle) collected.
    pub fn publish_events(&self, events: Vec<crate::keyspace::KeyEvent>) {
        if !events.is_empty() {
            self.pubsub.notify(self.notify_flags(), events);
        }
    }

    /// Unix milliseconds at the monotonic instant `at`, from the offset cron keeps in step with
    /// the wall clock: one cheap monotonic reading per command instead of a wall-clock call.
    pub fn unix_ms_at(&self, at: Instant) -> u64 {
        let since_start = at.saturating_duration_since(self.started).as_micros() as i64;
        ((self.wall_offset_us.load(Ordering::Relaxed) + since_start).max(0) / 1000) as u64
    }

    /// Re-reads the wall clock (cron, every tick), so that TTLs follow wall-clock changes.
    pub fn sync_wall_clock(&self) {
        let since_start = self.started.elapsed().as_micros() as i64;
        self.wall_offset_us
            .store(unix_us() as i64 - since_start, Ordering::Relaxed);
    }

    /// The clock a command's lookups use.
    pub fn clock(&self, at: Instant) -> Clock {
        let lfu = self.lfu_params.load(Ordering::Relaxed);
        Clock {
            now_ms: self.unix_ms_at(at),
            lfu_log_factor: (lfu >> 32) as u32,
            lfu_decay_time: lfu as u32,
        }
    }

    /// Listens on `port` at every address of `bind` (`-addr` marks an optional one), replacing
    /// the listeners in use only once all the new ones are bound: on error nothing changes.
    /// Returns the bound addresses. Must run inside the tokio runtime.
    pub fn listen(&self, bind: &[String], port: u16) -> std::io::Result<Vec<SocketAddr>> {
        let mut bound = Vec::new();
        for addr in bind {
            let optional = addr.starts_with('-');
            let host = addr.trim_start_matches('-');
            let target = if host.contains(':') {
                format!("[{host}]:{port}")
            } else {
                format!("{host}:{port}")
            };
            let listener = match std::net::TcpListener::bind(&target) {
                Ok(l) => l,
                Err(_) if optional => continue,
                Err(e) => {
                    return Err(std::io::Error::new(
                        e.kind(),
                        format!("could not listen on {target}: {e}"),
                    ))
                }
            };
            listener.set_nonblocking(true)?;
            let closer = listener.try_clone()?;
            bound.push((TcpListener::from_std(listener)?, closer));
        }
        if bound.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrNotAvailable,
                format!("could not listen on any of {bind:?} port {port}"),
            ));
        }
        let Some(this) = self.this.get().and_then(std::sync::Weak::upgrade) else {
            return Err(std::io::Error::other("the server is not running"));
        };
        let mut addrs = Vec::new();
        let mut tasks = Vec::new();
        for (listener, closer) in bound {
            let addr = listener.local_addr()?;
            addrs.push(addr);
            let task = tokio::spawn(connection::accept_loop(this.clone(), listener));
            tasks.push(Listening { task, closer });
        }
        if let Some(first) = addrs.first() {
            self.port.store(first.port() as u64, Ordering::Relaxed);
        }
        for addr in &addrs {
            tracing::info!("Ready to accept connections tcp on {addr}");
        }
        for old in std::mem::replace(&mut *self.listeners.lock(), tasks) {
            old.close();
        }
        Ok(addrs)
    }

    /// Asks the server to stop: listeners close, clients are disconnected.
    pub fn shutdown(&self) {
        // `send_replace` stores the flag even while nobody subscribes yet (a start that fails
        // before `ServerHandle::wait` runs); `send` would drop it.
        self.shutdown.send_replace(true);
        self.clients.kill_all();
        // A running script would hold its thread (and every shard) forever: stop it even if it
        // has written (as SHUTDOWN NOSAVE does in Redis), so that the process can exit.
        self.scripting
            .control
            .kill
            .store(true, std::sync::atomic::Ordering::Release);
    }

    /// This server, for work it hands to threads of its own (None once it is gone).
    pub fn this(&self) -> Option<Arc<Server>> {
        self.this.get().and_then(std::sync::Weak::upgrade)
    }

    /// Stops the server because it cannot go on (see [`Server::fatal`]).
    pub fn fail(&self, why: String) {
        tracing::error!("{why}");
        *self.fatal.lock() = Some(why);
        self.shutdown();
    }

    /// Why the server stopped on its own, if it did.
    pub fn fatal(&self) -> Option<String> {
        self.fatal.lock().clone()
    }

    /// True while the binlog is being replayed.
    pub fn is_loading(&self) -> bool {
        self.loading.load(Ordering::Acquire)
    }

    pub fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }
}

/// CLIENT PAUSE state.
#[derive(Default)]
pub struct Pause {
    active: AtomicBool,
    state: Mutex<Option<(Instant, bool)>>,
}

impl Pause {
    /// Pauses clients until `until`; `all` pauses every command, otherwise only writes.
    pub fn pause(&self, until: Instant, all: bool) {
        let mut s = self.state.lock();
        // A new pause never shortens or weakens one in force (as in Redis).
        let (until, all) = match *s {
            Some((u, a)) if u > Instant::now() => (u.max(until), a || all),
            _ => (until, all),
        };
        *s = Some((until, all));
        self.active.store(true, Ordering::Release);
    }

    /// True while a pause (of either kind) is in force; keys do not expire actively then, so
    /// that the dataset stays still (as in Redis).
    pub fn in_force(&self) -> bool {
        if !self.active.load(Ordering::Acquire) {
            return false;
        }
        matches!(*self.state.lock(), Some((until, _)) if until > Instant::now())
    }

    pub fn unpause(&self) {
        *self.state.lock() = None;
        self.active.store(false, Ordering::Release);
    }

    /// True when `spec` must wait for the pause to end. As in Redis, a pause of ALL holds every
    /// command, CLIENT PAUSE and UNPAUSE from other clients included; it ends at its deadline.
    pub fn blocks(&self, spec: &CommandSpec) -> bool {
        if !self.active.load(Ordering::Acquire) {
            return false;
        }
        let mut s = self.state.lock();
        match *s {
            Some((until, _)) if until <= Instant::now() => {
                *s = None;
                self.active.store(false, Ordering::Release);
                false
            }
            Some((_, all)) => all || spec.has(flags::WRITE) || spec.has(flags::MAY_REPLICATE),
            None => false,
        }
    }
}

/// One listening socket and the task accepting on it.
struct Listening {
    task: tokio::task::JoinHandle<()>,
    /// A second handle on the socket, to stop it listening at once: aborting the task only
    /// closes the socket when its runtime next polls it, and until then it would still accept.
    closer: std::net::TcpListener,
}

impl Listening {
    fn close(self) {
        let _ = socket2::SockRef::from(&self.closer).shutdown(std::net::Shutdown::Both);
        self.task.abort();
    }
}

/// A running server.
pub struct ServerHandle {
    pub server: Arc<Server>,
    pub addrs: Vec<SocketAddr>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl ServerHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// Waits until the server has been asked to shut down (SHUTDOWN, a signal, or
    /// [`Server::shutdown`]), then until the accept loops and clients have stopped.
    pub async fn wait(self) {
        let mut rx = self.server.shutdown_signal();
        while !*rx.borrow_and_update() {
            if rx.changed().await.is_err() {
                break;
            }
        }
        for t in self.tasks {
            t.abort();
        }
        for l in std::mem::take(&mut *self.server.listeners.lock()) {
            l.close();
        }
        // Give connection tasks a moment to write their last replies and exit.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.server.clients.is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if let Some(io) = self.server.io.get() {
            io.stop();
        }
        // The last checkpoint (it needs the binlog open, to sync it past the checkpoint); none
        // while still loading (the dataset is not whole yet), but RocksDB is stopped either way.
        let skip_checkpoint =
            self.server.is_loading() || self.server.nosave.load(Ordering::Relaxed);
        persist::shutdown(&self.server, skip_checkpoint);
        // Everything acknowledged so far reaches the disk, whatever appendfsync says.
        if let Some(log) = self.server.binlog.get() {
            log.close(Duration::from_secs(10));
        }
    }
}

/// Binds the configured addresses and starts serving on the current tokio runtime.
pub async fn start(config: Config) -> std::io::Result<ServerHandle> {
    std::fs::create_dir_all(&config.dir).map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!(
                "cannot create data directory '{}': {e}",
                config.dir.display()
            ),
        )
    })?;
    let binds = config.bind.clone();
    let port = config.port;
    let io_threads = config.io_threads();
    let server = Arc::new(Server::new(config));
    let _ = server.this.set(Arc::downgrade(&server));
    let (tiering, appendonly, restore) = {
        let c = server.config.read();
        (
            c.tiering,
            c.appendonly,
            c.restore_from.as_ref().map(|from| {
                (
                    from.clone(),
                    c.dir.join(&c.appenddirname),
                    c.dir.join(&c.tiering_dir),
                )
            }),
        )
    };
    if let Some((from, binlog_dir, tiering_dir)) = restore {
        let info = crate::binlog::backup::restore(&from, &binlog_dir, &tiering_dir)
            .map_err(std::io::Error::other)?;
        tracing::info!(
            "restored the backup in {} (binlog offsets {} to {}, taken at Unix ms {})",
            from.display(),
            info.from,
            info.offset,
            info.unix_ms
        );
    }
    // RocksDB holds cold values (tiering) and checkpoints (the binlog's, or a cache-mode
    // shutdown's).
    if tiering || appendonly {
        let tier = crate::tier::Tier::start(&server).map_err(std::io::Error::other)?;
        let _ = server.tier.set(tier);
    }
    let _ = server.io.set(io_pool::IoPool::start(io_threads)?);
    memory::start_monitor(Arc::downgrade(&server));
    // With something to load (the binlog, or a clean cache-mode shutdown's dataset), clients
    // get -LOADING meanwhile; otherwise the start has nothing to rebuild and is done here.
    let loads = match server.tier.get() {
        Some(tier) => {
            let binlog_dir = {
                let c = server.config.read();
                c.dir.join(&c.appenddirname)
            };
            appendonly
                || tier.shut_down_cleanly().map_err(std::io::Error::other)?
                || !crate::binlog::segment::list(&binlog_dir)
                    .map_err(std::io::Error::other)?
                    .is_empty()
        }
        None => false,
    };
    if !loads && server.tier.get().is_some() {
        persist::load(&server).map_err(std::io::Error::other)?;
    }
    if loads {
        server.loading.store(true, Ordering::Release);
    }
    let addrs = server.listen(&binds, port)?;
    if loads {
        let srv = server.clone();
        std::thread::Builder::new()
            .name("load".into())
            .spawn(move || {
                // On failure the server stays LOADING until it has shut down: clients never
                // see the dataset half loaded.
                match persist::load(&srv) {
                    Ok(()) => srv.loading.store(false, Ordering::Release),
                    Err(e) => srv.fail(e),
                }
            })?;
    }
    let tasks = vec![tokio::spawn(cron(server.clone()))];
    Ok(ServerHandle {
        server,
        addrs,
        tasks,
    })
}

/// Periodic background work, `hz` times a second: active expiry (and its `expired`
/// notifications), idle-client timeouts and Pub/Sub output buffer soft limits.
async fn cron(server: Arc<Server>) {
    let mut last_timeout_check = Instant::now();
    loop {
        let (hz, timeout) = {
            let c = server.config.read();
            (c.hz.max(1), c.timeout)
        };
        tokio::time::sleep(Duration::from_millis(1000 / hz)).await;
        if server.is_shutting_down() {
            return;
        }
        server.sync_wall_clock();
        if server.cron_paused.load(Ordering::Relaxed) {
            continue;
        }
        let srv = server.clone();
        // Expiry takes shard locks; keep it off the async workers' critical path.
        let expire = server.active_expire.load(Ordering::Relaxed)
            && !server.pause.in_force()
            && !server.is_loading();
        if expire {
            let _ = tokio::task::spawn_blocking(move || {
                let now = srv.unix_ms_at(Instant::now());
                let removed = srv.keyspace.expire_cycle(now, 200);
                let n = removed.len();
                // Counted before the events go out: a client that sees an `expired` event and
                // then asks INFO finds the key counted.
                srv.stats
                    .expired_keys
                    .fetch_add(n as u64, Ordering::Relaxed);
                if srv.notify_mask() & crate::keyspace::class::EXPIRED != 0 {
                    let events = removed
                        .into_iter()
                        .map(|(db, key)| crate::keyspace::KeyEvent {
                            class: crate::keyspace::class::EXPIRED,
                            event: "expired",
                            db,
                            key,
                        })
                        .collect();
                    srv.publish_events(events);
                }
            })
            .await;
        }
        if last_timeout_check.elapsed() >= Duration::from_secs(1) {
            last_timeout_check = Instant::now();
            let clients = server.clients.all();
            server.pubsub.enforce_soft_limits(&clients);
            let now = unix_ms();
            for c in clients.iter().filter(|_| timeout > 0) {
                let idle = now.saturating_sub(c.last_interaction_ms.load(Ordering::Relaxed));
                // Subscribers are exempt, as in Redis: they wait for messages by design.
                if idle > timeout * 1000 && !c.blocked.load(Ordering::Relaxed) && !c.subs.any() {
                    tracing::debug!("closing idle client id={}", c.id);
                    c.kill();
                }
            }
        }
    }
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Microseconds since the Unix epoch.
pub fn unix_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

pub fn random_hex(len: usize) -> String {
    (0..len)
        .map(|_| char::from_digit(rand::random::<u32>() % 16, 16).unwrap_or('0'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_changes_reach_the_command_clock() {
        let server = Server::new(Config::default());
        assert_eq!(server.clock(Instant::now()).lfu_log_factor, 10);
        server
            .config
            .write()
            .set("lfu-log-factor", "3", true)
            .unwrap();
        server
            .config
            .write()
            .set("lfu-decay-time", "7", true)
            .unwrap();
        server.config_changed();
        let clock = server.clock(Instant::now());
        assert_eq!((clock.lfu_log_factor, clock.lfu_decay_time), (3, 7));
    }

    #[test]
    fn command_clock_follows_the_wall_clock() {
        let server = Server::new(Config::default());
        server.sync_wall_clock();
        let ours = server.unix_ms_at(Instant::now());
        let wall = unix_ms();
        assert!(
            ours.abs_diff(wall) < 50,
            "command clock {ours} vs wall clock {wall}"
        );
    }
}
