//! The I/O threads that serve client connections.
//!
//! Each thread runs its own single-threaded tokio runtime with its own epoll instance; the
//! acceptor hands every new connection to the next thread in turn, and the connection stays
//! there for its whole life. A connection therefore never migrates between threads and an idle
//! thread sleeps in its own epoll wait: no work-stealing handoffs and no cross-thread wake-ups on
//! the request path, which is what keeps pipeline-depth-1 latency on par with a single-threaded
//! event loop while several threads share the load of many clients. Shared state (the keyspace
//! shards) is still reached through locks, so the thread a connection lands on does not matter
//! for correctness.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;
use tokio::runtime::{Builder, Handle};
use tokio::sync::watch;

pub struct IoPool {
    handles: Vec<Handle>,
    next: AtomicUsize,
    stop: watch::Sender<bool>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

/// Stack size of the I/O threads and their blocking pools (virtual memory: only what is used
/// is backed).
const SCRIPT_STACK: usize = 16 * 1024 * 1024;

impl IoPool {
    /// Starts `threads` I/O threads (at least one).
    pub fn start(threads: usize) -> std::io::Result<IoPool> {
        let (stop, _) = watch::channel(false);
        let mut handles = Vec::new();
        let mut joins = Vec::new();
        for i in 0..threads.max(1) {
            // Lua scripts run on these threads (inside EXEC) and on this runtime's blocking pool
            // (EVAL, FCALL); cjson/cmsgpack/reply conversions recurse up to ~1000 levels.
            let runtime = Builder::new_current_thread()
                .enable_all()
                .thread_stack_size(SCRIPT_STACK)
                .build()?;
            handles.push(runtime.handle().clone());
            let mut stopped = stop.subscribe();
            let join = std::thread::Builder::new()
                .name(format!("thermocline-io-{i}"))
                .stack_size(SCRIPT_STACK)
                .spawn(move || {
                    // Driving the runtime runs every connection task spawned onto it; when the pool
                    // stops, dropping the runtime cancels whatever is left.
                    runtime.block_on(async move {
                        while !*stopped.borrow_and_update() {
                            if stopped.changed().await.is_err() {
                                break;
                            }
                        }
                    });
                })?;
            joins.push(join);
        }
        Ok(IoPool {
            handles,
            next: AtomicUsize::new(0),
            stop,
            threads: Mutex::new(joins),
        })
    }

    pub fn threads(&self) -> usize {
        self.handles.len()
    }

    /// Runs `task` on the next I/O thread, round robin.
    pub fn spawn<F: Future<Output = ()> + Send + 'static>(&self, task: F) {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.handles.len();
        self.handles[i].spawn(task);
    }

    /// Stops every I/O thread and waits for them to exit (except the calling thread, should it
    /// be one of them).
    pub fn stop(&self) {
        let _ = self.stop.send(true);
        let joins = std::mem::take(&mut *self.threads.lock());
        let me = std::thread::current().id();
        for join in joins {
            if join.thread().id() != me {
                let _ = join.join();
            }
        }
    }
}

impl Drop for IoPool {
    fn drop(&mut self) {
        // Only signal: the last handle on the server may be dropped on an I/O thread, which
        // must not wait for itself.
        let _ = self.stop.send(true);
    }
}
