//! The binlog: every write's effects, appended in order, made durable by one writer thread
//! with group commit (`appendonly yes`).
//!
//! Client threads never touch the file. A step's record (src/binlog/record.rs) is encoded on
//! the thread that ran it, then copied into a shared buffer under a short mutex, which also
//! assigns its offset. The writer thread takes the whole buffer at once, writes it, and syncs
//! as `appendfsync` says: `always` after every write (each fsync covers every record that
//! arrived while the last one ran: group commit), `everysec` once a second, `no` never. With
//! `always`, a connection sends the replies to its writes only once [`Binlog::synced`] has
//! passed them ([`Binlog::wait_synced`]).
//!
//! A failed write or fsync leaves the bytes in memory, truncates the file back to its last
//! good length and retries every second; meanwhile dispatch refuses writes with `-MISCONF`
//! ([`Binlog::error`]), and the server recovers by itself when the disk does.
//!
//! At start, [`replay`] reads the log back into the keyspace (src/binlog/segment.rs cuts a torn
//! tail), then [`Binlog::open`] resumes writing where it ends.

pub mod backup;
pub mod record;
pub mod segment;

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::keyspace::{Effect, Journal};

/// `appendfsync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    Always,
    EverySec,
    No,
}

impl Fsync {
    pub fn parse(s: &str) -> Option<Fsync> {
        match s.to_ascii_lowercase().as_str() {
            "always" => Some(Fsync::Always),
            "everysec" => Some(Fsync::EverySec),
            "no" => Some(Fsync::No),
            _ => None,
        }
    }

    fn code(self) -> u8 {
        match self {
            Fsync::Always => 0,
            Fsync::EverySec => 1,
            Fsync::No => 2,
        }
    }

    fn from_code(c: u8) -> Fsync {
        match c {
            0 => Fsync::Always,
            1 => Fsync::EverySec,
            _ => Fsync::No,
        }
    }
}

/// Records appended but not yet taken by the writer.
#[derive(Default)]
struct Pending {
    buf: Vec<u8>,
    /// The offset just past the last record appended.
    end: u64,
    stop: bool,
}

/// Counters INFO reports.
#[derive(Debug, Default)]
pub struct BinlogStats {
    pub writes: AtomicU64,
    pub fsyncs: AtomicU64,
    pub write_errors: AtomicU64,
    /// Records appended since start.
    pub records: AtomicU64,
}

pub struct Binlog {
    dir: PathBuf,
    policy: AtomicU8,
    segment_bytes: AtomicU64,
    pending: Mutex<Pending>,
    wake: Condvar,
    /// The offset just past the last record appended (a lock-free copy of `pending.end`).
    appended: AtomicU64,
    /// The offset everything before which is written to the file / synced to the disk.
    written: AtomicU64,
    synced: tokio::sync::watch::Sender<u64>,
    /// The offset of the first record still on disk.
    first: AtomicU64,
    /// The last write or fsync error, while it lasts (writes are refused meanwhile).
    error: Mutex<Option<String>>,
    broken: AtomicBool,
    /// Write failures still to inject (DEBUG BINLOG-FAULT).
    faults: AtomicU32,
    /// Bytes the writer's buffers hold (capacity), as of its last turn.
    buffered: AtomicU64,
    /// An fsync is wanted up to this offset whatever the policy ([`Binlog::sync_to`]).
    sync_wanted: AtomicU64,
    pub stats: BinlogStats,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// With `everysec` and `no`, how long the writer lets records gather before it writes them,
/// unless this many bytes are waiting already.
const WRITE_TICK: Duration = Duration::from_millis(2);
const WAKE_BYTES: usize = 1 << 20;
/// Buffer capacity the writer keeps between writes.
const KEEP_BUFFER: usize = 256 << 10;

thread_local! {
    /// Each thread encodes its records here, off the shared mutex.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Journal for Binlog {
    fn append(&self, effects: &[Effect<'_>]) {
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            scratch.clear();
            record::encode(effects, &mut scratch);
            if scratch.len() - record::FRAME_HEADER > record::MAX_PAYLOAD {
                // Its 32-bit length would wrap: a frame replay could not read. The step has
                // already happened in RAM; say loudly that the log does not hold it.
                tracing::error!(
                    "a step of {} bytes is larger than a binlog record can be (4 GiB): it is \
                     not in the binlog and will be missing after a restart",
                    scratch.len()
                );
                self.stats.write_errors.fetch_add(1, Ordering::Relaxed);
                scratch.clear();
                return;
            }
            let mut p = self.pending.lock();
            let was_empty = p.buf.is_empty();
            p.buf.extend_from_slice(&scratch);
            p.end += scratch.len() as u64;
            self.appended.fetch_max(p.end, Ordering::Relaxed);
            let big = p.buf.len() >= WAKE_BYTES;
            drop(p);
            // The writer sleeps only on an empty buffer: wake it for the first record. (With
            // `everysec` and `no` it then lets records gather for a moment before it writes,
            // so that a busy server pays one wake-up per batch, not per write.)
            if was_empty || big {
                self.wake.notify_one();
            }
            if scratch.capacity() > KEEP_BUFFER {
                *scratch = Vec::new();
            }
        });
        self.stats.records.fetch_add(1, Ordering::Relaxed);
    }

    fn end(&self) -> u64 {
        // Raised under the `pending` lock by every append, which a step makes under its own
        // locks: read under a shard's lock, it already counts every step of that shard.
        Binlog::end(self)
    }
}

/// Where [`replay`] left the log: what [`Binlog::open`] needs to resume it.
pub use segment::ReadReport;

/// Reads the binlog in `dir` from offset `from` into `apply` (see [`segment::read_all`]).
pub fn replay(
    dir: &Path,
    from: u64,
    repair: bool,
    apply: impl FnMut(Vec<crate::keyspace::journal::OwnedEffect>, u64) -> Result<(), String>,
) -> Result<ReadReport, String> {
    segment::read_all(dir, from, repair, apply)
}

impl Binlog {
    /// Resumes the log in `dir` where `report` (from [`replay`]) says it ends, and starts the
    /// writer thread.
    pub fn open(
        dir: &Path,
        report: &ReadReport,
        policy: Fsync,
        segment_bytes: u64,
    ) -> Result<Arc<Binlog>, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create binlog directory {}: {e}", dir.display()))?;
        let file = match report.last_segment {
            Some(first) => std::fs::OpenOptions::new()
                .append(true)
                .open(dir.join(segment::file_name(first))),
            None => segment::create(dir, report.end),
        }
        .map_err(|e| format!("cannot open the binlog in {}: {e}", dir.display()))?;
        let first = segment::list(dir)?.first().map_or(report.end, |s| s.first);
        let log = Arc::new(Binlog {
            dir: dir.to_path_buf(),
            policy: AtomicU8::new(policy.code()),
            segment_bytes: AtomicU64::new(segment_bytes),
            pending: Mutex::new(Pending {
                buf: Vec::new(),
                end: report.end,
                stop: false,
            }),
            wake: Condvar::new(),
            appended: AtomicU64::new(report.end),
            written: AtomicU64::new(report.end),
            synced: tokio::sync::watch::channel(report.end).0,
            first: AtomicU64::new(first),
            error: Mutex::new(None),
            broken: AtomicBool::new(false),
            faults: AtomicU32::new(0),
            buffered: AtomicU64::new(0),
            sync_wanted: AtomicU64::new(0),
            stats: BinlogStats::default(),
            writer: Mutex::new(None),
        });
        let seg_len = file
            .metadata()
            .map_err(|e| format!("cannot read the binlog segment's size: {e}"))?
            .len();
        let writer = Writer {
            log: log.clone(),
            file,
            seg_len,
            good_len: seg_len,
            unwritten: Vec::new(),
            unwritten_end: report.end,
            last_fsync: Instant::now(),
            dirty: false,
        };
        let handle = std::thread::Builder::new()
            .name("binlog-writer".into())
            .spawn(move || writer.run())
            .map_err(|e| format!("cannot start the binlog writer thread: {e}"))?;
        *log.writer.lock() = Some(handle);
        Ok(log)
    }

    pub fn policy(&self) -> Fsync {
        Fsync::from_code(self.policy.load(Ordering::Relaxed))
    }

    pub fn set_policy(&self, policy: Fsync) {
        self.policy.store(policy.code(), Ordering::Relaxed);
        self.wake.notify_one();
    }

    pub fn set_segment_bytes(&self, bytes: u64) {
        self.segment_bytes.store(bytes, Ordering::Relaxed);
    }

    /// The offset just past the last record appended.
    pub fn end(&self) -> u64 {
        self.appended.load(Ordering::Relaxed)
    }

    /// The offset everything before which is on disk and synced.
    pub fn synced(&self) -> u64 {
        *self.synced.borrow()
    }

    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// The offset of the oldest record kept.
    pub fn first(&self) -> u64 {
        self.first.load(Ordering::Relaxed)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Waits until everything before `offset` is synced (`appendfsync always`).
    pub async fn wait_synced(&self, offset: u64) {
        let mut rx = self.synced.subscribe();
        let _ = rx.wait_for(|s| *s >= offset).await;
    }

    /// The write or fsync error writes are refused for, while it lasts.
    pub fn error(&self) -> Option<String> {
        if !self.broken.load(Ordering::Relaxed) {
            return None;
        }
        self.error.lock().clone()
    }

    /// Bytes held by the binlog's buffers (left out of `maxmemory`, as Redis leaves out its AOF
    /// buffer): records waiting to be written and the buffers they are written from.
    pub fn buffered(&self) -> u64 {
        let pending = self.pending.lock().buf.capacity() as u64;
        pending + self.buffered.load(Ordering::Relaxed)
    }

    /// Has everything before `offset` written and synced whatever `appendfsync` says, and
    /// waits for it (at most `timeout`): a checkpoint is recorded only once the binlog holds
    /// every step it includes.
    pub fn sync_to(&self, offset: u64, timeout: Duration) -> Result<(), String> {
        if self.synced() >= offset {
            return Ok(());
        }
        self.sync_wanted.fetch_max(offset, Ordering::Relaxed);
        self.wake.notify_one();
        let deadline = Instant::now() + timeout;
        while self.synced() < offset {
            if Instant::now() >= deadline {
                return Err(format!(
                    "the binlog was not synced up to offset {offset} within {timeout:?}{}",
                    self.error().map(|e| format!(": {e}")).unwrap_or_default()
                ));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }

    /// Deletes the oldest segments that end at or before `before` (everything in them is in a
    /// checkpoint) and lie outside both retention windows: more than `keep_bytes` of log
    /// follows them, and they were last written more than `keep_secs` ago. The segment being
    /// written is never deleted. Returns the number of segments deleted.
    pub fn prune(&self, before: u64, keep_bytes: u64, keep_secs: u64) -> Result<usize, String> {
        let segments = segment::list(&self.dir)?;
        let end = self.end();
        let mut deleted = 0;
        for pair in segments.windows(2) {
            let (seg, next) = (&pair[0], &pair[1]);
            let old_enough = keep_secs == 0
                || std::fs::metadata(&seg.path)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age.as_secs() >= keep_secs);
            if next.first > before || end - next.first < keep_bytes || !old_enough {
                break;
            }
            std::fs::remove_file(&seg.path)
                .map_err(|e| format!("cannot delete {}: {e}", seg.path.display()))?;
            self.first.store(next.first, Ordering::Relaxed);
            deleted += 1;
        }
        if deleted > 0 {
            let _ = segment::sync_dir(&self.dir);
        }
        Ok(deleted)
    }

    /// Makes the next `count` writes of the writer thread fail (DEBUG BINLOG-FAULT).
    pub fn inject_faults(&self, count: u32) {
        self.faults.store(count, Ordering::Relaxed);
    }

    /// Writes and syncs everything appended, then stops the writer (clean shutdown). Gives up
    /// after `timeout` (a disk that keeps failing).
    pub fn close(&self, timeout: Duration) {
        self.pending.lock().stop = true;
        self.wake.notify_one();
        let handle = self.writer.lock().take();
        let Some(handle) = handle else { return };
        let deadline = Instant::now() + timeout;
        while !handle.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if handle.is_finished() {
            let _ = handle.join();
        } else {
            tracing::error!("the binlog writer did not finish within {timeout:?}");
        }
    }
}

/// The writer thread's state.
struct Writer {
    log: Arc<Binlog>,
    file: File,
    /// Bytes in the current segment (header included), and how many of them are known good.
    seg_len: u64,
    good_len: u64,
    /// Records taken from the shared buffer and not yet written, ending at `unwritten_end`.
    unwritten: Vec<u8>,
    unwritten_end: u64,
    last_fsync: Instant,
    /// Written since the last fsync.
    dirty: bool,
}

impl Writer {
    fn run(mut self) {
        loop {
            let stop = self.take();
            let ok = self.write() && self.sync(stop);
            if !ok {
                // Try again in a second (or at once when asked to stop, which gives up soon).
                let mut p = self.log.pending.lock();
                let pause = if p.stop {
                    Duration::from_millis(50)
                } else {
                    Duration::from_secs(1)
                };
                self.log.wake.wait_for(&mut p, pause);
                continue;
            }
            if stop && self.unwritten.is_empty() {
                return;
            }
        }
    }

    /// Waits for records (or the everysec tick, or stop) and takes them. Returns stop.
    fn take(&mut self) -> bool {
        let log = self.log.clone();
        let mut p = log.pending.lock();
        loop {
            // Bytes a failed write left behind are retried as soon as we are woken again.
            if p.stop
                || !p.buf.is_empty()
                || !self.unwritten.is_empty()
                || (self.dirty && log.sync_wanted.load(Ordering::Relaxed) > log.synced())
            {
                break;
            }
            let wait = match log.policy() {
                Fsync::EverySec if self.dirty => {
                    let due = self.last_fsync + Duration::from_secs(1);
                    match due.checked_duration_since(Instant::now()) {
                        Some(left) => left,
                        None => break,
                    }
                }
                _ => Duration::from_secs(1),
            };
            log.wake.wait_for(&mut p, wait);
            if log.policy() == Fsync::EverySec
                && self.dirty
                && self.last_fsync.elapsed() >= Duration::from_secs(1)
            {
                break;
            }
        }
        if log.policy() != Fsync::Always && !p.stop && p.buf.len() < WAKE_BYTES {
            // Let the records of the next moment join this write.
            drop(p);
            std::thread::sleep(WRITE_TICK);
            p = log.pending.lock();
        }
        if self.unwritten.is_empty() {
            std::mem::swap(&mut self.unwritten, &mut p.buf);
        } else {
            self.unwritten.extend_from_slice(&p.buf);
            p.buf.clear();
        }
        self.unwritten_end = p.end;
        p.stop
    }

    /// Writes what was taken, rolling to a new segment first when this one is full.
    fn write(&mut self) -> bool {
        if self.unwritten.is_empty() {
            return true;
        }
        let start = self.unwritten_end - self.unwritten.len() as u64;
        if self.seg_len >= self.log.segment_bytes.load(Ordering::Relaxed)
            && self.seg_len > segment::HEADER_LEN
        {
            let rolled = self
                .file
                .sync_all()
                .and_then(|_| segment::create(&self.log.dir, start));
            match rolled {
                Ok(f) => {
                    self.file = f;
                    self.seg_len = segment::HEADER_LEN;
                    self.good_len = segment::HEADER_LEN;
                }
                Err(e) => return self.failed(&format!("cannot start a new segment: {e}")),
            }
        }
        let injected = self
            .log
            .faults
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok();
        let result = if injected {
            // A partial write, as a full disk gives: the file must be cut back before retrying.
            let half = &self.unwritten[..self.unwritten.len() / 2];
            let _ = self.file.write_all(half);
            Err(std::io::Error::other(
                "No space left on device (injected by DEBUG BINLOG-FAULT)",
            ))
        } else {
            self.file.write_all(&self.unwritten)
        };
        if let Err(e) = result {
            // Cut off whatever part of the records made it, and write again from there.
            let cut = self
                .file
                .set_len(self.good_len)
                .and_then(|_| self.file.seek(SeekFrom::Start(self.good_len)));
            if let Err(cut) = cut {
                tracing::error!("cannot cut the binlog back after a failed write: {cut}");
            }
            return self.failed(&e.to_string());
        }
        self.seg_len += self.unwritten.len() as u64;
        self.good_len = self.seg_len;
        self.unwritten.clear();
        // A burst of big records leaves a big buffer behind: give it back.
        if self.unwritten.capacity() > KEEP_BUFFER {
            self.unwritten = Vec::with_capacity(KEEP_BUFFER);
        }
        self.log
            .buffered
            .store(self.unwritten.capacity() as u64, Ordering::Relaxed);
        self.dirty = true;
        self.log.stats.writes.fetch_add(1, Ordering::Relaxed);
        self.log
            .written
            .store(self.unwritten_end, Ordering::Relaxed);
        true
    }

    /// Syncs as the policy says (always at stop).
    fn sync(&mut self, stop: bool) -> bool {
        let policy = self.log.policy();
        let due = match policy {
            Fsync::Always => true,
            Fsync::EverySec => self.last_fsync.elapsed() >= Duration::from_secs(1),
            Fsync::No => false,
        } || self.log.sync_wanted.load(Ordering::Relaxed) > self.log.synced();
        let syncing = self.dirty && (due || stop);
        if syncing {
            if let Err(e) = self.file.sync_data() {
                return self.failed(&format!("fsync: {e}"));
            }
        }
        // Writes are accepted again before any reply waiting for this sync goes out: a client
        // whose write was just acknowledged must not see the next one refused.
        if self.log.broken.swap(false, Ordering::Relaxed) {
            tracing::warn!("binlog writes succeed again: writes are accepted");
            *self.log.error.lock() = None;
        }
        if syncing {
            self.log.stats.fsyncs.fetch_add(1, Ordering::Relaxed);
            self.last_fsync = Instant::now();
            self.dirty = false;
            let written = self.log.written.load(Ordering::Relaxed);
            self.log.synced.send_replace(written);
        }
        true
    }

    fn failed(&mut self, e: &str) -> bool {
        self.log.stats.write_errors.fetch_add(1, Ordering::Relaxed);
        if !self.log.broken.swap(true, Ordering::Relaxed) {
            tracing::error!("writing the binlog failed: {e}; refusing writes until it succeeds");
        }
        *self.log.error.lock() = Some(e.to_string());
        false
    }
}
