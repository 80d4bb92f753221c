//! Backups (BGSAVE, SAVE) and restores (`--restore`).
//!
//! A backup is a consistent point-in-time copy of the dataset: a copy of RocksDB (a RocksDB
//! checkpoint: its files hard-linked, after a flush) holding the last checkpoint, then the
//! binlog from that checkpoint's offset up to the offset where the log ended once the copy was
//! made. Records are whole steps, so a log cut at a record boundary is a state the server was
//! in; everything RocksDB holds was decided before that offset, so replaying the tail over it
//! gives that state (the checkpoint rules of `tier/checkpoint.rs`). Segments that are complete
//! are hard-linked (they never change again); the segment being written is copied up to the
//! offset. A backup lives in `<dir>/backups/<unix ms>/` (RocksDB in `tiering/`) and holds a
//! `backup.info` with its offsets and time. Restoring copies both into an empty data
//! directory; the server then starts as after any restart.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{segment, Binlog};

/// What one backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    pub dir: PathBuf,
    /// The binlog offset the backup's log starts at (its RocksDB copy's checkpoint).
    pub from: u64,
    /// The binlog offset the backup is complete up to.
    pub offset: u64,
    /// When it was taken, Unix milliseconds.
    pub unix_ms: u64,
}

/// Where a backup's copy of RocksDB goes, inside the backup.
pub const TIERING_DIR: &str = "tiering";

/// Takes a backup of `log` into a new directory under `backups`: everything appended before
/// this call. `copy_store` first copies RocksDB into the directory it is given and returns the
/// binlog offset of the checkpoint that copy holds (no checkpoint may be recorded meanwhile).
/// Waits (at most `timeout`) for the writer to have written up to the end first.
pub fn take(
    log: &Binlog,
    backups: &Path,
    timeout: Duration,
    copy_store: impl FnOnce(&Path) -> Result<u64, String>,
) -> Result<BackupInfo, String> {
    let unix_ms = crate::server::unix_ms();
    let dir = backups.join(unix_ms.to_string());
    let partial = backups.join(format!("{unix_ms}.partial"));
    fs::create_dir_all(&partial)
        .map_err(|e| format!("cannot create {}: {e}", partial.display()))?;
    let from = copy_store(&partial.join(TIERING_DIR))?;
    // After the copy: every state the copy holds was decided before this offset.
    let offset = log.end();
    let deadline = Instant::now() + timeout;
    while log.written() < offset {
        if Instant::now() >= deadline {
            return Err(format!(
                "the binlog was not written up to offset {offset} within {timeout:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let segments = segment::list(log.dir())?;
    for (i, seg) in segments.iter().enumerate() {
        if seg.first >= offset && i > 0 {
            break;
        }
        let next_first = segments.get(i + 1).map(|s| s.first);
        if next_first.is_some_and(|next| next <= from) {
            // Wholly before the checkpoint: the RocksDB copy holds it.
            continue;
        }
        let name = seg.path.file_name().unwrap_or_default();
        let whole = next_first.is_some_and(|next| next <= offset);
        if whole {
            // A segment the log has moved on from never changes again: a hard link is a copy.
            fs::hard_link(&seg.path, partial.join(name))
                .or_else(|_| fs::copy(&seg.path, partial.join(name)).map(|_| ()))
                .map_err(|e| format!("cannot copy {}: {e}", seg.path.display()))?;
        } else {
            let len = segment::HEADER_LEN + offset.saturating_sub(seg.first);
            copy_prefix(&seg.path, &partial.join(name), len)?;
        }
    }
    fs::write(
        partial.join("backup.info"),
        format!("from:{from}\noffset:{offset}\nunix_ms:{unix_ms}\n"),
    )
    .map_err(|e| format!("cannot write backup.info: {e}"))?;
    // A backup directory appears whole or not at all.
    fs::rename(&partial, &dir).map_err(|e| format!("cannot finish the backup: {e}"))?;
    let _ = segment::sync_dir(backups);
    Ok(BackupInfo {
        dir,
        from,
        offset,
        unix_ms,
    })
}

/// Copies the first `len` bytes of `from` to a new file `to`, synced.
fn copy_prefix(from: &Path, to: &Path, len: u64) -> Result<(), String> {
    let mut src =
        fs::File::open(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    let mut dst =
        fs::File::create(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let copied = std::io::copy(&mut (&mut src).take(len), &mut dst)
        .map_err(|e| format!("cannot copy {}: {e}", from.display()))?;
    if copied != len {
        return Err(format!(
            "{} holds {copied} bytes, fewer than the {len} the backup needs",
            from.display()
        ));
    }
    dst.flush()
        .and_then(|_| dst.sync_all())
        .map_err(|e| format!("cannot sync {}: {e}", to.display()))
}

/// Deletes the backups in `backups` older than `days` days (0 keeps every one), and any
/// unfinished one. Returns how many were deleted.
pub fn prune(backups: &Path, days: u64) -> usize {
    let Ok(entries) = fs::read_dir(backups) else {
        return 0;
    };
    let now = crate::server::unix_ms();
    let mut deleted = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let stale = match name.strip_suffix(".partial") {
            // Left by a backup that did not finish (the server stopped during it).
            Some(_) => true,
            None => match name.parse::<u64>() {
                Ok(ms) => days > 0 && now.saturating_sub(ms) > days * 86_400_000,
                Err(_) => false,
            },
        };
        if stale && fs::remove_dir_all(entry.path()).is_ok() {
            deleted += 1;
        }
    }
    deleted
}

/// Reads a backup's `backup.info`.
pub fn info(dir: &Path) -> Result<BackupInfo, String> {
    let text = fs::read_to_string(dir.join("backup.info")).map_err(|e| {
        format!(
            "{} is not a backup (no readable backup.info: {e})",
            dir.display()
        )
    })?;
    let field = |name: &str| -> Result<u64, String> {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| format!("{}/backup.info has no {name}", dir.display()))
    };
    Ok(BackupInfo {
        dir: dir.to_path_buf(),
        from: field("from").unwrap_or(0),
        offset: field("offset")?,
        unix_ms: field("unix_ms")?,
    })
}

/// Copies the backup in `from` into the binlog directory `to` and the tiering directory
/// `tiering`, which must hold no segment and nothing, respectively.
pub fn restore(from: &Path, to: &Path, tiering: &Path) -> Result<BackupInfo, String> {
    let info = info(from)?;
    if !segment::list(to)?.is_empty() {
        return Err(format!(
            "cannot restore into {}: it already holds a binlog (move it away first)",
            to.display()
        ));
    }
    if fs::read_dir(tiering).is_ok_and(|mut d| d.next().is_some()) {
        return Err(format!(
            "cannot restore into {}: it already holds a RocksDB directory (move it away first)",
            tiering.display()
        ));
    }
    let store = from.join(TIERING_DIR);
    if store.is_dir() {
        fs::create_dir_all(tiering)
            .map_err(|e| format!("cannot create {}: {e}", tiering.display()))?;
        let entries =
            fs::read_dir(&store).map_err(|e| format!("cannot read {}: {e}", store.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot read {}: {e}", store.display()))?;
            let target = tiering.join(entry.file_name());
            fs::copy(entry.path(), &target)
                .and_then(|_| fs::File::open(&target)?.sync_all())
                .map_err(|e| {
                    format!(
                        "cannot copy {} into {}: {e}",
                        entry.path().display(),
                        tiering.display()
                    )
                })?;
        }
        let _ = segment::sync_dir(tiering);
    }
    fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    for seg in segment::list(from)? {
        let target = to.join(seg.path.file_name().unwrap_or_default());
        fs::copy(&seg.path, &target)
            .and_then(|_| fs::File::open(&target)?.sync_all())
            .map_err(|e| {
                format!(
                    "cannot copy {} into {}: {e}",
                    seg.path.display(),
                    to.display()
                )
            })?;
    }
    let _ = segment::sync_dir(to);
    Ok(info)
}
