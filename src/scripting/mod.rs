//! Lua scripting state shared by the whole server: the script gate, the EVAL script cache, the
//! function libraries and the control block of the script that is running.
//!
//! Atomicity comes from the gate, a reader-writer lock: every dispatched command holds it for
//! reading while it locks shards and runs, and a script holds it for writing (then every shard)
//! for its whole run. Dispatch only ever *tries* the gate, so an I/O thread never blocks on a
//! running script: the command waits asynchronously, and once the script has run longer than
//! `busy-reply-threshold` it gets `-BUSY` instead, unless it is flagged `allow-busy` and needs no
//! shard (SCRIPT KILL, FUNCTION KILL, SHUTDOWN NOSAVE...). Scripts started by a plain EVAL or
//! FCALL run on a blocking-pool thread while their connection awaits the result, so SCRIPT KILL
//! can be read and run even from a connection on the same I/O thread.
//!
//! The Lua engine itself (sandbox, conversions, `redis.*` API) is in [`lua`]; the libraries
//! Redis bundles that Thermocline provides (bit, cjson) are in [`libs`].

pub mod libs;
pub mod lua;
pub mod structlib;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Mutex, RwLock, RwLockReadGuard};

use crate::cmd::{flags, CommandSpec};

pub const BUSY_SCRIPT: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
pub const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
pub const NOTBUSY: &str = "NOTBUSY No scripts in execution right now.";
pub const UNKILLABLE: &str = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";
pub const KILLED: &str = "ERR Script killed by user with SCRIPT KILL...";

/// What a command may do about the script gate.
pub enum Enter<'a> {
    /// Go ahead; the guard (if any) keeps scripts out until the command is done.
    Go(Option<RwLockReadGuard<'a, ()>>),
    /// A script is starting or running and the busy threshold has not passed: try again soon.
    Wait,
    /// A script has been running too long: reply with this error.
    Busy(&'static str),
}

/// What other clients may know of the script that is running.
#[derive(Default)]
pub struct Control {
    /// A detached script holds the gate (set once it has every lock).
    running: AtomicBool,
    /// SCRIPT KILL / FUNCTION KILL asked the running script to stop.
    pub kill: AtomicBool,
    /// The running script has run a write command (it can no longer be killed).
    pub wrote: AtomicBool,
    /// The running script is a function (FCALL), for the BUSY text and FUNCTION STATS.
    is_function: AtomicBool,
    /// When the running script started, and its name and command (FUNCTION STATS).
    info: Mutex<Option<RunningInfo>>,
}

#[derive(Clone)]
pub struct RunningInfo {
    pub started: Instant,
    pub name: String,
    pub command: Vec<bytes::Bytes>,
}

impl Control {
    pub fn running(&self) -> Option<RunningInfo> {
        if !self.running.load(Ordering::Acquire) {
            return None;
        }
        self.info.lock().clone()
    }

    pub fn is_function(&self) -> bool {
        self.is_function.load(Ordering::Relaxed)
    }

    /// Asks the running script to stop (FUNCTION KILL when `function`, else SCRIPT KILL); Err is
    /// the error to reply.
    pub fn request_kill(&self, function: bool) -> Result<(), &'static str> {
        if self.running().is_none() {
            return Err(NOTBUSY);
        }
        if self.wrote.load(Ordering::Acquire) {
            return Err(UNKILLABLE);
        }
        // SCRIPT KILL cannot stop a function, nor FUNCTION KILL an EVAL script.
        if function != self.is_function() {
            return Err(if function { BUSY_SCRIPT } else { BUSY_FUNCTION });
        }
        self.kill.store(true, Ordering::Release);
        Ok(())
    }
}

/// The server's scripting state.
pub struct Scripting {
    gate: RwLock<()>,
    /// One detached script at a time: the others wait here asynchronously instead of each
    /// holding a blocking-pool thread parked on the gate.
    pub detached: tokio::sync::Semaphore,
    pub control: Arc<Control>,
    /// The EVAL engine (its Lua state and the script cache).
    pub eval: Mutex<lua::EvalEngine>,
    /// The FUNCTION engine (its Lua state and the libraries).
    pub functions: Mutex<lua::FunctionEngine>,
    /// Cheap copies for INFO, updated after each change.
    pub cached_scripts: AtomicU64,
    pub scripts_memory: AtomicU64,
}

impl Default for Scripting {
    fn default() -> Self {
        Self::new()
    }
}

impl Scripting {
    pub fn new() -> Scripting {
        let control = Arc::new(Control::default());
        Scripting {
            gate: RwLock::new(()),
            detached: tokio::sync::Semaphore::new(1),
            eval: Mutex::new(lua::EvalEngine::new(control.clone())),
            functions: Mutex::new(lua::FunctionEngine::new(control.clone())),
            control,
            cached_scripts: AtomicU64::new(0),
            scripts_memory: AtomicU64::new(0),
        }
    }

    /// Decides whether a dispatched command may run now (see the module docs).
    pub fn enter(&self, spec: &CommandSpec, threshold_ms: impl FnOnce() -> u64) -> Enter<'_> {
        if let Some(g) = self.gate.try_read() {
            return Enter::Go(Some(g));
        }
        let Some(info) = self.control.running() else {
            return Enter::Wait;
        };
        if (info.started.elapsed().as_millis() as u64) < threshold_ms() {
            return Enter::Wait;
        }
        if spec.has(flags::ALLOW_BUSY) && !spec.keys.has_keys() && !spec.has(flags::WHOLE_KEYSPACE)
        {
            return Enter::Go(None);
        }
        Enter::Busy(if self.control.is_function() {
            BUSY_FUNCTION
        } else {
            BUSY_SCRIPT
        })
    }

    /// Whether the script an EVAL/EVALSHA/FCALL request would run declares `no-writes`. Such a
    /// command neither writes nor replicates, so CLIENT PAUSE WRITE lets it run, as Redis does
    /// (a script's declared flags replace its command's). Only asked while a pause is in force.
    pub fn declares_no_writes(&self, spec: &CommandSpec, args: &[bytes::Bytes]) -> bool {
        let Some(target) = args.get(1) else {
            return false;
        };
        match spec.name {
            "eval" | "eval_ro" => lua::parse_shebang(target).is_ok_and(|(f, _)| f.no_writes),
            "evalsha" | "evalsha_ro" => {
                let sha = String::from_utf8_lossy(target).to_ascii_lowercase();
                self.eval
                    .lock()
                    .get(&sha)
                    .is_some_and(|s| s.flags.no_writes)
            }
            "fcall" | "fcall_ro" => {
                let name = String::from_utf8_lossy(target);
                self.functions
                    .lock()
                    .function(&name)
                    .is_some_and(|f| f.flags.no_writes)
            }
            _ => false,
        }
    }

    /// Takes the gate for a detached script: waits until the commands running now are done;
    /// new ones wait for the script.
    pub fn exclusive(&self) -> parking_lot::RwLockWriteGuard<'_, ()> {
        self.gate.write()
    }

    /// Marks the detached script holding the gate as running (other clients may now see BUSY).
    pub fn begin(&self, name: String, command: Vec<bytes::Bytes>, function: bool) -> Running<'_> {
        let c = &self.control;
        c.kill.store(false, Ordering::Release);
        c.wrote.store(false, Ordering::Release);
        c.is_function.store(function, Ordering::Relaxed);
        *c.info.lock() = Some(RunningInfo {
            started: Instant::now(),
            name,
            command,
        });
        c.running.store(true, Ordering::Release);
        Running(c)
    }

    /// Refreshes the INFO copies from the engines.
    pub fn note_sizes(&self, eval: &lua::EvalEngine) {
        self.cached_scripts
            .store(eval.scripts_len() as u64, Ordering::Relaxed);
        self.scripts_memory
            .store(eval.scripts_bytes() as u64, Ordering::Relaxed);
    }
}

/// Clears the running state when the detached script is done.
pub struct Running<'a>(&'a Control);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.running.store(false, Ordering::Release);
        *self.0.info.lock() = None;
        self.0.kill.store(false, Ordering::Release);
    }
}

/// SHA1 of `data` as 40 lower-case hex digits.
pub fn sha1_hex(data: &[u8]) -> String {
    sha1_smol::Sha1::from(data).digest().to_string()
}
