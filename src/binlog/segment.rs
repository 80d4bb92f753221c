//! Binlog files: segments named by the offset of their first record, and reading them back.
//!
//! A segment is a 16-byte header (`TCBINLOG`, the format version, seven zero bytes) followed
//! by whole records (src/binlog/record.rs). Offsets count record bytes only, from the start of
//! the log: segment `00000000000000004096.binlog` holds the records from offset 4096 on, and
//! the next segment starts where this one's records end.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::record::{self, Frame};
use crate::keyspace::journal::OwnedEffect;

/// The segment header's magic bytes.
pub const MAGIC: &[u8; 8] = b"TCBINLOG";
/// The binlog format this code writes and reads.
pub const FORMAT_VERSION: u8 = 1;
/// Bytes before a segment's first record.
pub const HEADER_LEN: u64 = 16;

/// One segment file.
#[derive(Debug, Clone)]
pub struct Segment {
    /// The log offset of its first record.
    pub first: u64,
    pub path: PathBuf,
}

/// The file name of the segment whose first record is at `first`.
pub fn file_name(first: u64) -> String {
    format!("{first:020}.binlog")
}

/// The segments in `dir`, oldest first (none when the directory does not exist).
pub fn list(dir: &Path) -> Result<Vec<Segment>, String> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(format!(
                "cannot read binlog directory {}: {e}",
                dir.display()
            ))
        }
    };
    let mut segments = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read binlog directory: {e}"))?;
        let name = entry.file_name();
        let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".binlog")) else {
            continue;
        };
        let Ok(first) = stem.parse::<u64>() else {
            continue;
        };
        segments.push(Segment {
            first,
            path: entry.path(),
        });
    }
    segments.sort_by_key(|s| s.first);
    Ok(segments)
}

/// Creates the segment starting at `first` in `dir`, header written and synced.
pub fn create(dir: &Path, first: u64) -> std::io::Result<File> {
    let path = dir.join(file_name(first));
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)?;
    let mut header = [0u8; HEADER_LEN as usize];
    header[..8].copy_from_slice(MAGIC);
    header[8] = FORMAT_VERSION;
    f.write_all(&header)?;
    f.sync_all()?;
    sync_dir(dir)?;
    Ok(f)
}

/// Makes a file created or renamed in `dir` durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// What reading the binlog found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReadReport {
    /// Records applied.
    pub records: u64,
    /// Bytes of records applied.
    pub bytes: u64,
    /// The offset just past the last good record: where writing resumes.
    pub end: u64,
    /// The segment writing resumes in (None: no segment yet).
    pub last_segment: Option<u64>,
    /// Bytes dropped from a torn or corrupt tail.
    pub dropped: u64,
}

/// Reads every record in `dir` from offset `from` on, in order, handing each step's effects
/// and its start offset to `apply` (segments that end before `from` are not read; records
/// before it are checked but not applied). A torn or corrupt tail is cut off at the last good
/// record (the file is truncated there). Damage before the tail stops the read with an error
/// that says where, unless `repair`: then the log is cut at the damage, the rest moved to
/// `corrupt-<unix ms>/` beside the segments.
pub fn read_all(
    dir: &Path,
    from: u64,
    repair: bool,
    mut apply: impl FnMut(Vec<OwnedEffect>, u64) -> Result<(), String>,
) -> Result<ReadReport, String> {
    let all = list(dir)?;
    // The segments holding `from` and after: a segment ends where the next one starts.
    let skip = all
        .windows(2)
        .take_while(|pair| pair[1].first <= from)
        .count();
    let segments = &all[skip..];
    if let Some(first) = segments.first() {
        if first.first > from {
            return Err(format!(
                "the binlog in {} starts at offset {}, but the checkpoint in RocksDB needs it \
                 from offset {from}: segments are missing",
                dir.display(),
                first.first
            ));
        }
    }
    let mut report = ReadReport {
        end: from,
        ..ReadReport::default()
    };
    let mut expected: Option<u64> = None;
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        if let Some(expected) = expected {
            if seg.first != expected {
                let why = format!(
                    "binlog segment {} starts at offset {} but the one before ends at {expected}",
                    seg.path.display(),
                    seg.first
                );
                return damaged(dir, &segments[i..], None, &why, repair, report);
            }
        }
        let data = fs::read(&seg.path)
            .map_err(|e| format!("cannot read binlog segment {}: {e}", seg.path.display()))?;
        if data.len() < HEADER_LEN as usize || &data[..8] != MAGIC || data[8] != FORMAT_VERSION {
            if last
                && data.len() < HEADER_LEN as usize
                && MAGIC.starts_with(&data[..data.len().min(8)])
            {
                // A segment whose header was being written when the process died.
                report.dropped += data.len() as u64;
                fs::remove_file(&seg.path).map_err(|e| e.to_string())?;
                break;
            }
            let why = if data.len() >= 9 && &data[..8] == MAGIC {
                format!(
                    "binlog segment {} has format version {}; this server reads version {FORMAT_VERSION}",
                    seg.path.display(),
                    data[8]
                )
            } else {
                format!(
                    "{} is not a binlog segment (bad header)",
                    seg.path.display()
                )
            };
            return Err(why);
        }
        let mut pos = HEADER_LEN as usize;
        let mut offset = seg.first;
        loop {
            match record::next_frame(&data[pos..]) {
                Frame::Good(payload, len) => {
                    let effects = record::decode(payload)
                        .map_err(|e| format!("{e} at offset {offset} in {}", seg.path.display()))?;
                    let start = offset;
                    offset += len as u64;
                    pos += len;
                    if start >= from {
                        report.records += 1;
                        report.bytes += len as u64;
                        apply(effects, start)?;
                    }
                }
                Frame::Incomplete if pos == data.len() => break,
                frame => {
                    let why = match frame {
                        Frame::Corrupt(why) => why,
                        _ => "a record cut short".to_string(),
                    };
                    let tail = last && !good_record_after(&data[pos..]);
                    if tail {
                        let dropped = (data.len() - pos) as u64;
                        tracing::warn!(
                            "binlog tail damaged ({why}) at offset {offset} in {}: dropping the last {dropped} bytes",
                            seg.path.display()
                        );
                        truncate(&seg.path, pos as u64)?;
                        report.dropped += dropped;
                        break;
                    }
                    let why = format!(
                        "binlog damaged at offset {offset} in {} ({why}), with good records after it",
                        seg.path.display()
                    );
                    return damaged(
                        dir,
                        &segments[i..],
                        Some(pos as u64),
                        &why,
                        repair,
                        ReadReport {
                            end: offset,
                            last_segment: Some(seg.first),
                            ..report
                        },
                    );
                }
            }
        }
        report.end = offset;
        report.last_segment = Some(seg.first);
        expected = Some(offset);
    }
    Ok(report)
}

/// True when a whole, good record starts somewhere after the bad one at the front of `data`
/// (then the damage is not a torn tail).
fn good_record_after(data: &[u8]) -> bool {
    (1..data.len()).any(|at| {
        matches!(record::next_frame(&data[at..]), Frame::Good(payload, _) if record::decode(payload).is_ok())
    })
}

fn truncate(path: &Path, len: u64) -> Result<(), String> {
    let f = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| format!("cannot open {} to truncate it: {e}", path.display()))?;
    f.set_len(len)
        .and_then(|_| f.sync_all())
        .map_err(|e| format!("cannot truncate {}: {e}", path.display()))
}

/// Damage before the tail: an error, or with `repair` the log cut at `cut` bytes into the
/// first of `from` (None: before it) and everything from there moved aside.
fn damaged(
    dir: &Path,
    from: &[Segment],
    cut: Option<u64>,
    why: &str,
    repair: bool,
    report: ReadReport,
) -> Result<ReadReport, String> {
    if !repair {
        return Err(format!(
            "{why}. Start with --repair to keep the records before the damage (the rest is moved \
             aside, not deleted)"
        ));
    }
    let aside = dir.join(format!("corrupt-{}", crate::server::unix_ms()));
    fs::create_dir_all(&aside).map_err(|e| format!("cannot create {}: {e}", aside.display()))?;
    let mut dropped = 0;
    for (i, seg) in from.iter().enumerate() {
        let name = seg.path.file_name().unwrap_or_default();
        let len = fs::metadata(&seg.path).map(|m| m.len()).unwrap_or(0);
        match cut.filter(|_| i == 0) {
            Some(at) => {
                fs::copy(&seg.path, aside.join(name)).map_err(|e| e.to_string())?;
                truncate(&seg.path, at)?;
                dropped += len - at;
            }
            None => {
                fs::rename(&seg.path, aside.join(name)).map_err(|e| e.to_string())?;
                dropped += len;
            }
        }
    }
    tracing::warn!(
        "--repair: {why}; kept the log up to offset {}, moved {dropped} bytes to {}",
        report.end,
        aside.display()
    );
    Ok(ReadReport {
        dropped: report.dropped + dropped,
        ..report
    })
}
