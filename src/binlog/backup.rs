//! Backups (BGSAVE, SAVE) and restores (`--restore`).
//!
//! A backup is a consistent point-in-time copy of the binlog: every segment up to the offset
//! where the log ended when the backup was asked for. Records are whole steps, so a log cut at
//! a record boundary is a state the server was in. Segments that are complete are hard-linked
//! (they never change again); the segment being written is copied up to that offset. A backup
//! lives in `<dir>/backups/<unix ms>/` and holds a `backup.info` with its offset and time.
//! Restoring copies the segments into an empty binlog directory; the server then replays them
//! as after any restart. (Once checkpoints into RocksDB exist, a backup will add a RocksDB
//! checkpoint and keep only the binlog tail after it.)

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{segment, Binlog};

/// What one backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    pub dir: PathBuf,
    /// The binlog offset the backup is complete up to.
    pub offset: u64,
    /// When it was taken, Unix milliseconds.
    pub unix_ms: u64,
}

/// Takes a backup of `log` into a new directory under `backups`: everything appended before
/// this call. Waits (at most `timeout`) for the writer to have written that much first.
pub fn take(log: &Binlog, backups: &Path, timeout: Duration) -> Result<BackupInfo, String> {
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
    let unix_ms = crate::server::unix_ms();
    let dir = backups.join(unix_ms.to_string());
    let partial = backups.join(format!("{unix_ms}.partial"));
    fs::create_dir_all(&partial)
        .map_err(|e| format!("cannot create {}: {e}", partial.display()))?;
    let segments = segment::list(log.dir())?;
    for (i, seg) in segments.iter().enumerate() {
        if seg.first >= offset && i > 0 {
            break;
        }
        let name = seg.path.file_name().unwrap_or_default();
        let next_first = segments.get(i + 1).map(|s| s.first);
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
        format!("offset:{offset}\nunix_ms:{unix_ms}\n"),
    )
    .map_err(|e| format!("cannot write backup.info: {e}"))?;
    // A backup directory appears whole or not at all.
    fs::rename(&partial, &dir).map_err(|e| format!("cannot finish the backup: {e}"))?;
    let _ = segment::sync_dir(backups);
    Ok(BackupInfo {
        dir,
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
        offset: field("offset")?,
        unix_ms: field("unix_ms")?,
    })
}

/// Copies the backup in `from` into the binlog directory `to`, which must hold no segment.
pub fn restore(from: &Path, to: &Path) -> Result<BackupInfo, String> {
    let info = info(from)?;
    if !segment::list(to)?.is_empty() {
        return Err(format!(
            "cannot restore into {}: it already holds a binlog (move it away first)",
            to.display()
        ));
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
