//! How much memory the dataset uses, against `maxmemory`.
//!
//! The figure is jemalloc's count of allocated bytes, as Redis's `used_memory` is its
//! allocator's. Reading it means advancing jemalloc's statistics epoch, which merges every
//! arena's counters: too slow for every command, so a monitor thread takes a reading every
//! millisecond while `maxmemory` is set (every 100 ms otherwise) and commands compare against
//! the last one. Between readings, code that frees memory on purpose (eviction, demotion) says
//! how much with [`Memory::note_freed`], so that a loop freeing memory sees its progress before
//! the next reading. RocksDB's C++ allocations do not go through jemalloc and are not counted:
//! they have their own budget (the tuning profile), reported in INFO's `# Tiering`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Weak;
use std::time::Duration;

#[derive(Debug, Default)]
pub struct Memory {
    /// Allocated bytes at the last reading.
    reading: AtomicU64,
    /// Bytes freed on purpose since that reading (an estimate).
    freed: AtomicU64,
    /// `maxmemory`, mirrored here so that the per-command check takes no lock.
    limit: AtomicU64,
    /// Allocated bytes that do not count against `maxmemory`: the binlog's buffers, as Redis
    /// leaves its AOF buffer out (they drain to disk by themselves; evicting or demoting data
    /// cannot shrink them).
    not_counted: AtomicU64,
}

impl Memory {
    /// Used bytes: the last reading less what was freed since.
    pub fn used(&self) -> u64 {
        self.reading
            .load(Ordering::Relaxed)
            .saturating_sub(self.freed.load(Ordering::Relaxed))
            .saturating_sub(self.not_counted.load(Ordering::Relaxed))
    }

    /// Sets the allocated bytes left out of [`Memory::used`].
    pub fn set_not_counted(&self, bytes: u64) {
        self.not_counted.store(bytes, Ordering::Relaxed);
    }

    /// The allocated bytes left out of [`Memory::used`] (INFO's `mem_aof_buffer`).
    pub fn not_counted(&self) -> u64 {
        self.not_counted.load(Ordering::Relaxed)
    }

    /// Takes a fresh reading from jemalloc and returns it.
    pub fn refresh(&self) -> u64 {
        let _ = tikv_jemalloc_ctl::epoch::advance();
        let now = tikv_jemalloc_ctl::stats::allocated::read().unwrap_or(0) as u64;
        self.reading.store(now, Ordering::Relaxed);
        self.freed.store(0, Ordering::Relaxed);
        now
    }

    /// Records that about `bytes` were just freed on purpose.
    pub fn note_freed(&self, bytes: u64) {
        self.freed.fetch_add(bytes, Ordering::Relaxed);
    }

    /// `maxmemory` (0: no limit).
    pub fn limit(&self) -> u64 {
        self.limit.load(Ordering::Relaxed)
    }

    pub fn set_limit(&self, bytes: u64) {
        self.limit.store(bytes, Ordering::Relaxed);
    }

    /// True when a limit is set and the used bytes exceed it.
    #[inline]
    pub fn over_limit(&self) -> bool {
        let limit = self.limit();
        limit != 0 && self.used() > limit
    }

    /// Bytes above the limit (0 when under it or unlimited).
    pub fn excess(&self) -> u64 {
        match self.limit() {
            0 => 0,
            limit => self.used().saturating_sub(limit),
        }
    }
}

/// Starts the monitor thread; it stops once the server is gone.
pub fn start_monitor(server: Weak<super::Server>) {
    let spawned = std::thread::Builder::new()
        .name("memory-monitor".into())
        .spawn(move || loop {
            let Some(server) = server.upgrade() else {
                return;
            };
            if server.is_shutting_down() {
                return;
            }
            server.memory.refresh();
            if let Some(log) = server.binlog.get() {
                server.memory.set_not_counted(log.buffered());
            }
            let pause = if server.memory.limit() != 0 {
                Duration::from_millis(1)
            } else {
                Duration::from_millis(100)
            };
            drop(server);
            std::thread::sleep(pause);
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the memory monitor thread: {e}");
    }
}
