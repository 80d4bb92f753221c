//! What the server does with its data at start, while it runs, and at shutdown: rebuilding
//! the keyspace from RocksDB's checkpoint and replaying the binlog after it, taking
//! checkpoints, preloading values, and the last checkpoint of a clean shutdown.
//!
//! Start (on the `load` thread, while clients get `-LOADING`):
//! - With `appendonly yes`: the keyspace is rebuilt from the last checkpoint (one cold stub per
//!   key, no value read), then the binlog is replayed from the checkpoint's offsets.
//! - With `appendonly no` (cache mode) and tiering: the keyspace is rebuilt only if the last
//!   run recorded a clean shutdown; after a crash the tiering directory is reset and the server
//!   starts empty, saying so in the log, unless the run that crashed had the binlog: then it
//!   is replayed once, checkpointed, and set aside.
//!
//! Checkpoints (`appendonly yes`): every `checkpoint-interval` seconds (and when the binlog has
//! grown by `auto-aof-rewrite-percentage` of RocksDB's data, and on BGREWRITEAOF) the
//! demotion threads write every changed entry into RocksDB; once RocksDB is flushed and the
//! binlog synced past the checkpoint's offsets, the checkpoint is recorded and the segments
//! before it (outside the retention windows) are deleted. See `tier/checkpoint.rs` for why a
//! crash at any point is harmless.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Server;
use crate::tier::Checkpoint;

/// How checkpoints went, for INFO persistence's `aof_*rewrite*` fields (a checkpoint is what
/// Thermocline does where Redis rewrites its AOF).
#[derive(Debug, Clone)]
pub struct CheckpointStatus {
    /// When the one under way started.
    pub started: Option<Instant>,
    /// How long the last one took, seconds; -1 before the first.
    pub last_seconds: i64,
    pub last_ok: bool,
    /// Failures since the last success.
    pub failures_in_a_row: u64,
}

impl Default for CheckpointStatus {
    fn default() -> CheckpointStatus {
        CheckpointStatus {
            started: None,
            last_seconds: -1,
            last_ok: true,
            failures_in_a_row: 0,
        }
    }
}

/// How long a checkpoint waits for the binlog to be synced past it.
const SYNC_TIMEOUT: Duration = Duration::from_secs(30);

/// Rebuilds the keyspace at start (see the module comment), then opens the binlog and starts
/// the checkpoint and preload threads. Clients get `-LOADING` until it returns.
pub(super) fn load(server: &Arc<Server>) -> Result<(), String> {
    let (appendonly, binlog_dir, preload) = {
        let c = server.config.read();
        (
            c.appendonly,
            c.dir.join(&c.appenddirname),
            c.tiering_preload,
        )
    };
    let started = Instant::now();
    let mut recorded_checkpoint = None;
    // Cache mode after a crash of a run that had the binlog: the binlog still completes what
    // RocksDB holds, so it is replayed once rather than the dataset dropped.
    let mut recover_from_binlog = false;
    if let Some(tier) = server.tier.get() {
        let clean = tier.shut_down_cleanly()?;
        let recorded = tier.recorded_checkpoint()?;
        // Usable: behind a checkpoint taken with it, or whole (from offset 0) without one.
        let segments = crate::binlog::segment::list(&binlog_dir)?;
        let binlog_usable = match &recorded {
            Some(c) => c.binlog && !segments.is_empty(),
            None => segments.first().is_some_and(|s| s.first == 0),
        };
        recover_from_binlog = !appendonly && !clean && binlog_usable;
        let usable = appendonly || clean || recover_from_binlog;
        if recover_from_binlog {
            tracing::warn!(
                "appendonly is off, but the last run had the binlog and did not shut down \
                 cleanly: replaying it once, then saving the dataset in RocksDB and setting \
                 the binlog aside"
            );
        } else if !usable && recorded.is_some() {
            tracing::warn!(
                "the last run did not shut down cleanly and appendonly is off (cache mode): \
                 the tiering directory is reset and the server starts empty"
            );
        }
        if usable {
            let rebuilt = tier.rebuild(&server.keyspace, |keys| {
                server.loading_progress.0.store(keys, Ordering::Relaxed);
                tracing::info!("rebuilding the keyspace from RocksDB: {keys} keys so far");
            })?;
            server.keys_rebuilt.store(rebuilt.keys, Ordering::Relaxed);
            if let Some(c) = &rebuilt.checkpoint {
                tracing::info!(
                    "keyspace rebuilt from the checkpoint of Unix ms {}: {} keys in {:.3} seconds",
                    c.unix_ms,
                    rebuilt.keys,
                    started.elapsed().as_secs_f64()
                );
            }
            recorded_checkpoint = rebuilt.checkpoint;
        } else {
            tier.reset()?;
        }
        // A crash from now on must not pass for a clean shutdown.
        tier.forget_clean_shutdown()?;
    }
    if appendonly || recover_from_binlog {
        replay_binlog(
            server,
            &binlog_dir,
            recorded_checkpoint.as_ref(),
            appendonly,
        )?;
    }
    if recover_from_binlog {
        // The dataset is in RAM; RocksDB takes all of it (a checkpoint without the binlog),
        // and the binlog, which this run will not extend, goes aside.
        checkpoint(server, false)?;
        set_aside_old_binlog(&binlog_dir)?;
    }
    if server.tier.get().is_some() {
        spawn_checkpointer(server)?;
        let demoting = server.tier.get().is_some_and(|t| t.demoting);
        if preload || !demoting {
            spawn_preloader(server)?;
        }
    }
    Ok(())
}

/// Replays the binlog from `checkpoint`'s offsets (all of it without one); then, with `open`,
/// opens it for writing and makes it the keyspace's journal.
fn replay_binlog(
    server: &Arc<Server>,
    dir: &std::path::Path,
    checkpoint: Option<&Checkpoint>,
    open: bool,
) -> Result<(), String> {
    let (repair, delay, policy, segment_bytes) = {
        let c = server.config.read();
        (
            c.binlog_repair,
            c.key_load_delay,
            crate::binlog::Fsync::parse(&c.appendfsync).unwrap_or(crate::binlog::Fsync::EverySec),
            c.binlog_segment_bytes,
        )
    };
    let (from, marks) = match checkpoint {
        Some(c) if c.binlog => (c.from_offset(), c.marks.iter().map(|m| m.offset).collect()),
        Some(_) => {
            // The dataset comes from a cache-mode shutdown: a binlog beside it is older.
            set_aside_old_binlog(dir)?;
            (0, Vec::new())
        }
        None => (0, Vec::new()),
    };
    // Without a checkpoint the binlog must start at offset 0: segments are deleted only
    // behind a checkpoint, so a later start means RocksDB's directory was lost or reset.
    if checkpoint.is_none() {
        if let Some(first) = crate::binlog::segment::list(dir)?.first() {
            if first.first > 0 {
                return Err(format!(
                    "the binlog in {} starts at offset {} (older segments were deleted behind \
                     a checkpoint), but the tiering directory holds no checkpoint: it was lost \
                     or reset. Restore a backup (--restore) or move the binlog away",
                    dir.display(),
                    first.first
                ));
            }
        }
    }
    let total: u64 = crate::binlog::segment::list(dir)?
        .iter()
        .filter_map(|s| std::fs::metadata(&s.path).ok())
        .map(|m| m.len())
        .sum();
    server.loading_progress.1.store(total, Ordering::Relaxed);
    let started = Instant::now();
    let mut last_log = Instant::now();
    let mut applied = 0u64;
    let report = crate::binlog::replay(dir, from, repair, |step, start| {
        server
            .keyspace
            .apply_step(server.clock(Instant::now()), step, &marks, start)?;
        applied += 1;
        server.loading_progress.0.fetch_add(1, Ordering::Relaxed);
        if delay > 0 {
            std::thread::sleep(Duration::from_micros(delay));
        }
        if last_log.elapsed() >= Duration::from_secs(5) {
            last_log = Instant::now();
            tracing::info!("replaying the binlog: {applied} records so far");
        }
        Ok(())
    })?;
    if open {
        let log = crate::binlog::Binlog::open(dir, &report, policy, segment_bytes)?;
        server.keyspace.set_journal(log.clone());
        let _ = server.binlog.set(log);
    }
    tracing::info!(
        "DB loaded from the binlog: {} records, {} bytes from offset {from} in {:.3} seconds{}",
        report.records,
        report.bytes,
        started.elapsed().as_secs_f64(),
        if report.dropped > 0 {
            format!(" ({} bytes of a damaged tail dropped)", report.dropped)
        } else {
            String::new()
        }
    );
    Ok(())
}

/// Moves the segments in `dir` into `dir/superseded-<unix ms>/`.
fn set_aside_old_binlog(dir: &std::path::Path) -> Result<(), String> {
    let segments = crate::binlog::segment::list(dir)?;
    if segments.is_empty() {
        return Ok(());
    }
    let aside = dir.join(format!("superseded-{}", super::unix_ms()));
    std::fs::create_dir_all(&aside)
        .map_err(|e| format!("cannot create {}: {e}", aside.display()))?;
    for s in &segments {
        std::fs::rename(&s.path, aside.join(s.path.file_name().unwrap_or_default()))
            .map_err(|e| format!("cannot move {} aside: {e}", s.path.display()))?;
    }
    tracing::warn!(
        "the binlog no longer describes the data in RocksDB (saved without it, appendonly no): \
         it was moved to {}",
        aside.display()
    );
    Ok(())
}

/// Takes a checkpoint now (see the module comment); `clean` records a clean shutdown with it.
/// One at a time (`Server::checkpointing`).
pub fn checkpoint(server: &Server, clean: bool) -> Result<Checkpoint, String> {
    let Some(tier) = server.tier.get() else {
        return Err("checkpoints need RocksDB (tiering yes or appendonly yes)".into());
    };
    let _one = server.checkpointing.lock();
    server.checkpoint_in_progress.store(true, Ordering::Relaxed);
    let started = Instant::now();
    server.checkpoint_status.lock().started = Some(started);
    let result = checkpoint_locked(server, tier, clean);
    {
        let mut status = server.checkpoint_status.lock();
        status.started = None;
        status.last_seconds = started.elapsed().as_secs() as i64;
        status.last_ok = result.is_ok();
        status.failures_in_a_row = if result.is_ok() {
            0
        } else {
            status.failures_in_a_row + 1
        };
    }
    server
        .checkpoint_in_progress
        .store(false, Ordering::Relaxed);
    result
}

fn checkpoint_locked(
    server: &Server,
    tier: &crate::tier::Tier,
    clean: bool,
) -> Result<Checkpoint, String> {
    let started = Instant::now();
    let written_before = tier.stats.checkpointed.load(Ordering::Relaxed);
    let marks = tier.write_changes()?;
    let log = server.binlog.get();
    let checkpoint = Checkpoint {
        unix_ms: super::unix_ms(),
        binlog: log.is_some(),
        marks,
    };
    if let Some(log) = log {
        log.sync_to(checkpoint.to_offset(), SYNC_TIMEOUT)?;
    }
    tier.record_checkpoint(&checkpoint, clean)?;
    let mut pruned = 0;
    if let Some(log) = log {
        let (bytes, secs) = {
            let c = server.config.read();
            (c.binlog_retention_bytes, c.binlog_retention_seconds)
        };
        pruned = log.prune(checkpoint.from_offset(), bytes, secs)?;
    }
    tracing::info!(
        "checkpoint at binlog offset {}: {} entries written in {:.3} seconds, {pruned} binlog \
         segments deleted",
        checkpoint.from_offset(),
        tier.stats.checkpointed.load(Ordering::Relaxed) - written_before,
        started.elapsed().as_secs_f64()
    );
    Ok(checkpoint)
}

/// Starts the thread that takes the checkpoints BGREWRITEAOF asks for and, with the binlog,
/// one every `checkpoint-interval` seconds, or sooner when the binlog written since the last
/// one reaches `auto-aof-rewrite-percentage` of the data RocksDB holds (and at least
/// `auto-aof-rewrite-min-size`), while there is anything new.
fn spawn_checkpointer(server: &Arc<Server>) -> Result<(), String> {
    let weak = Arc::downgrade(server);
    std::thread::Builder::new()
        .name("checkpoint".into())
        .spawn(move || {
            let mut last = Instant::now();
            loop {
                std::thread::sleep(Duration::from_millis(10));
                let Some(server) = weak.upgrade() else { return };
                if server.is_shutting_down() {
                    return;
                }
                if server.checkpoint_requested.load(Ordering::Relaxed) {
                    // In progress before no longer scheduled: INFO never shows neither while
                    // the asked-for checkpoint is still to come.
                    server.checkpoint_in_progress.store(true, Ordering::Relaxed);
                    server.checkpoint_requested.store(false, Ordering::Relaxed);
                    last = Instant::now();
                    if let Err(e) = checkpoint(&server, false) {
                        tracing::error!("checkpoint failed: {e}");
                    }
                    continue;
                }
                let Some(log) = server.binlog.get() else {
                    continue;
                };
                let (interval, percentage, min_size) = {
                    let c = server.config.read();
                    (
                        c.checkpoint_interval,
                        c.auto_aof_rewrite_percentage,
                        c.auto_aof_rewrite_min_size,
                    )
                };
                let done_to = server
                    .tier
                    .get()
                    .and_then(|t| t.last_checkpoint())
                    .filter(|c| c.binlog)
                    .map_or(0, |c| c.to_offset());
                let grown = log.end().saturating_sub(done_to);
                let by_size = percentage > 0 && grown >= min_size && {
                    let on_disk = server.tier.get().map_or(0, |t| t.store.live_data_bytes());
                    grown as u128 * 100 >= on_disk as u128 * percentage as u128
                };
                let due =
                    (interval > 0 && last.elapsed() >= Duration::from_secs(interval)) || by_size;
                if due && grown > 0 && log.error().is_none() {
                    last = Instant::now();
                    if let Err(e) = checkpoint(&server, false) {
                        tracing::error!("checkpoint failed (the binlog keeps everything): {e}");
                    }
                }
            }
        })
        .map_err(|e| format!("cannot start the checkpoint thread: {e}"))?;
    Ok(())
}

/// Starts the thread that loads cold values back after a restart: up to 90% of `maxmemory`
/// with tiering (`tiering-preload yes`), every one without (pure-memory mode, where values
/// must all be in RAM). Keys are visited shard by shard; a value a client touched first is
/// already hot and is skipped.
fn spawn_preloader(server: &Arc<Server>) -> Result<(), String> {
    let weak = Arc::downgrade(server);
    std::thread::Builder::new()
        .name("preload".into())
        .spawn(move || {
            let Some(server) = weak.upgrade() else { return };
            let Some(tier) = server.tier.get().cloned() else {
                return;
            };
            let started = Instant::now();
            let loaded = crate::tier::preload(&server, &tier);
            tracing::info!(
                "preload done: {loaded} values loaded back into RAM in {:.3} seconds",
                started.elapsed().as_secs_f64()
            );
        })
        .map_err(|e| format!("cannot start the preload thread: {e}"))?;
    Ok(())
}

/// The last step of a shutdown: unless `nosave` (SHUTDOWN NOSAVE, or a shutdown while still
/// loading), a checkpoint that records a clean shutdown (a restart then replays nothing, or in
/// cache mode keeps the dataset); then the demotion threads and RocksDB's background work
/// stop. The binlog must still be open.
pub fn shutdown(server: &Server, nosave: bool) {
    let Some(tier) = server.tier.get() else {
        return;
    };
    if nosave {
        tracing::warn!("no last checkpoint (SHUTDOWN NOSAVE, or still loading)");
    } else {
        match checkpoint(server, true) {
            Ok(_) => tracing::info!("last checkpoint done: the dataset is saved in RocksDB"),
            Err(e) => tracing::error!("the last checkpoint failed: {e}"),
        }
    }
    tier.stop();
}
