//! `thermocline-server [config-file] [--option value ...]`: starts the server and serves until
//! SHUTDOWN, SIGINT or SIGTERM.

use thermocline::config::Config;
use thermocline::server::{self, REDIS_VERSION, VERSION};

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read when it starts (the symbol carries tikv-jemalloc-sys's prefix; the
/// `_RJEM_MALLOC_CONF` environment variable still overrides them). A background thread returns
/// freed pages to the system off the serving threads, so that after demotion frees values RSS
/// follows `used_memory` down. (Cache-oblivious placement, which costs a page per allocation of
/// 16 KiB or more, is disabled at build time: see Cargo.toml.)
#[used]
#[export_name = "_rjem_malloc_conf"]
static MALLOC_CONF: &[u8; 23] = b"background_thread:true\0";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("-v") | Some("--version") => {
            println!("thermocline-server v={VERSION} (implements Redis {REDIS_VERSION})");
            return;
        }
        Some("-h") | Some("--help") => {
            println!(
                "Usage: thermocline-server [/path/to/thermocline.conf] [--option value ...]\n\
                 \n\
                 Options use redis.conf names, e.g. --port 6380 --dir ./data --requirepass secret.\n\
                 --repair: start from a binlog damaged before its tail, keeping what precedes the\n\
                 damage (the rest is moved aside).\n\
                 --restore <backup-dir>: start from a backup taken by BGSAVE or SAVE (the binlog\n\
                 directory must be empty).\n\
                 Print a sample configuration with every option: thermocline-server --sample-config"
            );
            return;
        }
        Some("--sample-config") => {
            print!("{}", Config::sample());
            return;
        }
        _ => {}
    }
    // `--repair` and `--restore <backup-dir>` are start-up flags, not configuration options.
    let repair = args.iter().any(|a| a == "--repair");
    let mut restore = None;
    let mut rest = Vec::with_capacity(args.len());
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--repair" => {}
            "--restore" => match it.next() {
                Some(dir) => restore = Some(std::path::PathBuf::from(dir)),
                None => {
                    eprintln!("--restore needs the backup directory to start from");
                    std::process::exit(1);
                }
            },
            _ => rest.push(a),
        }
    }
    let config = match Config::from_args(&rest) {
        Ok(mut c) => {
            c.binlog_repair = repair;
            if restore.is_some() {
                // A backup is a binlog: restoring it means running with one.
                c.appendonly = true;
            }
            c.restore_from = restore;
            c
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    thermocline::logging::init(&config);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(async move {
        let handle = match server::start(config).await {
            Ok(h) => h,
            Err(e) => {
                tracing::error!("{e}");
                return 1;
            }
        };
        tracing::info!("Thermocline {VERSION} started, pid {}", std::process::id());
        let srv = handle.server.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("Received signal, shutting down");
            srv.shutdown();
        });
        let server = handle.server.clone();
        handle.wait().await;
        // Already logged when it happened (`Server::fail`).
        if server.fatal().is_some() {
            return 1;
        }
        tracing::info!("Thermocline is now ready to exit, bye bye...");
        0
    });
    std::process::exit(code);
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
