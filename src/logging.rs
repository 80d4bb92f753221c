//! Logging through `tracing`, with the level taken from `loglevel` and changeable at run time by
//! CONFIG SET.

use std::sync::OnceLock;

use tracing_subscriber::{reload, EnvFilter, Registry};

use crate::config::{Config, LogLevel};

static RELOAD: OnceLock<reload::Handle<EnvFilter, Registry>> = OnceLock::new();

/// Installs the global subscriber (once per process; later calls only change the level).
pub fn init(config: &Config) {
    if RELOAD.get().is_some() {
        set_level(config.loglevel);
        return;
    }
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let (filter, handle) = reload::Layer::new(EnvFilter::new(config.loglevel.filter()));
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    let result = if config.logfile.is_empty() {
        tracing_subscriber::registry()
            .with(filter)
            .with(fmt)
            .try_init()
    } else {
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&config.logfile)
        {
            Ok(file) => tracing_subscriber::registry()
                .with(filter)
                .with(
                    fmt.with_ansi(false)
                        .with_writer(std::sync::Mutex::new(file)),
                )
                .try_init(),
            Err(e) => {
                eprintln!("Can't open the log file '{}': {e}", config.logfile);
                std::process::exit(1);
            }
        }
    };
    if result.is_ok() {
        let _ = RELOAD.set(handle);
    }
}

pub fn set_level(level: LogLevel) {
    if let Some(h) = RELOAD.get() {
        let _ = h.modify(|f| *f = EnvFilter::new(level.filter()));
    }
}
