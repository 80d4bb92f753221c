//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! While a client is in MULTI, dispatch queues its commands (after checking that they exist and
//! have the right arity; a refused one marks the transaction aborted). EXEC locks, in one go
//! and in ascending shard order, every shard any queued command or watched key lives in (all of
//! them if a queued command is whole-keyspace), checks the watched keys' versions under those
//! locks, and runs the queued handlers one after the other on that same locked view: no other
//! client can observe or interleave with half of a transaction.

use smallvec::SmallVec;

use super::{flags, flags::*, After, CommandSpec, CommandTable, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult};
use crate::keyspace::shard_of;
use crate::protocol::Reply;
use crate::server::clients::{Client, Transaction, Watched};
use crate::server::Server;

pub const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";
pub const NOT_IN_MULTI: &str = "ERR Command not allowed inside a transaction";

/// True for the commands that act on the transaction itself rather than being queued.
pub fn runs_inside_multi(spec: &CommandSpec) -> bool {
    matches!(
        spec.name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

fn cmd_multi(ctx: &mut Ctx) -> CmdResult<Reply> {
    if ctx.client.tx.is_some() {
        return Err(CmdError::new("ERR MULTI calls can not be nested"));
    }
    ctx.client.tx = Some(Transaction::default());
    Ok(Reply::Ok)
}

fn cmd_discard(ctx: &mut Ctx) -> CmdResult<Reply> {
    if ctx.client.tx.take().is_none() {
        return Err(CmdError::new("ERR DISCARD without MULTI"));
    }
    ctx.client.watched.clear();
    Ok(Reply::Ok)
}

fn cmd_watch(ctx: &mut Ctx) -> CmdResult<Reply> {
    if ctx.client.tx.is_some() {
        return Err(CmdError::new("ERR WATCH inside MULTI is not allowed"));
    }
    let db = ctx.db();
    for key in &ctx.args[1..] {
        let state = ctx.ks.watch(db, key);
        ctx.client.watched.push(Watched {
            db,
            key: key.clone(),
            state,
        });
    }
    Ok(Reply::Ok)
}

fn cmd_unwatch(ctx: &mut Ctx) -> CmdResult<Reply> {
    ctx.client.watched.clear();
    Ok(Reply::Ok)
}

/// EXEC's table entry exists for COMMAND, arity and statistics; dispatch runs [`exec`] instead
/// of this handler, because EXEC locks for other commands.
fn cmd_exec(_ctx: &mut Ctx) -> CmdResult<Reply> {
    Err(CmdError::new("ERR EXEC without MULTI"))
}

/// Runs EXEC for `client`: the queued commands atomically, or EXECABORT, or a nil array when a
/// watched key changed. Returns the reply and what the connection should do after it.
pub fn exec(server: &Server, client: &mut Client, exec_idx: usize) -> (Reply, After) {
    let refused = |server: &Server, client: &mut Client, text: &'static str| {
        client.stats.record(
            exec_idx,
            std::time::Duration::ZERO,
            Default::default(),
            true,
        );
        server.stats.record_error(text);
        (Reply::error(text), After::Nothing)
    };
    let Some(tx) = client.tx.take() else {
        return refused(server, client, "ERR EXEC without MULTI");
    };
    let watched = std::mem::take(&mut client.watched);
    if tx.aborted {
        return refused(server, client, EXECABORT);
    }
    let table = CommandTable::get();
    let started = std::time::Instant::now();
    let clock = server.clock(started);
    let whole = tx
        .queued
        .iter()
        .any(|(idx, _)| table.spec(*idx).has(flags::WHOLE_KEYSPACE));
    let mut ks = if whole {
        server.stats.flush(&mut client.stats);
        server.keyspace.lock_all(clock)
    } else {
        let mut shards: SmallVec<[usize; 4]> = watched.iter().map(|w| shard_of(&w.key)).collect();
        for (idx, args) in &tx.queued {
            shards.extend(
                table
                    .spec(*idx)
                    .keys
                    .positions(args)
                    .map(|i| shard_of(&args[i])),
            );
        }
        server.keyspace.lock(clock, shards)
    };
    server.open_view(&mut ks);
    // Under the locks, so that no write can slip in between the check and the commands.
    let changed = watched
        .iter()
        .any(|w| ks.watch_changed(w.db, &w.key, &w.state));
    // With tiering, every cold value the queued commands read is loaded before the first one
    // runs: the transaction itself never waits on the disk.
    if let (Some(tier), false) = (server.tier.get(), changed) {
        let keys = tx
            .queued
            .iter()
            .filter(|(idx, _)| super::needs_values(table.spec(*idx)))
            .flat_map(|(idx, args)| table.spec(*idx).keys.positions(args).map(|i| &args[i]));
        match crate::tier::prepare(
            tier,
            &mut client.preloaded,
            &mut ks,
            client.db,
            keys,
            &[],
            false,
        ) {
            crate::tier::Prepared::Ready => {}
            crate::tier::Prepared::Load(request) => {
                server.close_view(ks);
                client.tx = Some(tx);
                client.watched = watched;
                return (Reply::Nil, After::Load(request));
            }
            crate::tier::Prepared::Failed(e) => {
                server.close_view(ks);
                return (
                    Reply::Error(format!("EXECABORT Transaction discarded because of: {e}")),
                    After::Nothing,
                );
            }
        }
    }
    let mut after = After::Nothing;
    let reply = if changed {
        Reply::NilArray
    } else {
        let mut replies = Vec::with_capacity(tx.queued.len());
        // Blocking commands answer at once inside a transaction.
        client.deny_blocking = true;
        for (idx, args) in &tx.queued {
            let (result, one_after) = super::run_on_view(server, client, &mut ks, *idx, args);
            if let After::Sleep(d) = one_after {
                after = match after {
                    After::Sleep(total) => After::Sleep(total + d),
                    _ => After::Sleep(d),
                };
            }
            // A command that answers more than once (SUBSCRIBE a b) sends all its answers in
            // its one slot of the array, which then counts commands, not replies: Redis's own
            // (known, redis#12207) behaviour.
            replies.push(match result {
                Ok(r) => r,
                Err(e) => e.into(),
            });
        }
        client.deny_blocking = false;
        Reply::Array(replies)
    };
    server.close_view(ks);
    client
        .stats
        .record(exec_idx, started.elapsed(), Default::default(), false);
    (reply, after)
}

/// Whether EXEC must wait for a client pause: when any queued command would.
pub fn exec_blocked_by_pause(server: &Server, client: &Client) -> bool {
    let table = CommandTable::get();
    client.tx.as_ref().is_some_and(|tx| {
        !tx.aborted
            && tx.queued.iter().any(|(idx, args)| {
                let spec = table.spec(*idx);
                server.pause.blocks(spec)
                    && !(spec.has(flags::RUNS_SCRIPT)
                        && server.scripting.declares_no_writes(spec, args))
            })
    })
}

/// Drops the transaction state (RESET).
pub fn reset(client: &mut Client) {
    client.tx = None;
    client.watched.clear();
}

macro_rules! cmd {
    ($($spec:tt)*) => {
        super::command!("transactions", $($spec)*)
    };
}

pub const COMMANDS: &[CommandSpec] = &[
    cmd!(
        "multi",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        KeySpec::NONE,
        "1.2.0",
        "O(1)",
        "Starts a transaction.",
        cmd_multi
    ),
    cmd!(
        "exec",
        1,
        NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG,
        KeySpec::NONE,
        "1.2.0",
        "Depends on commands in the transaction",
        "Executes all commands in a transaction.",
        cmd_exec
    ),
    cmd!(
        "discard",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        KeySpec::NONE,
        "2.0.0",
        "O(N), when N is the number of queued commands",
        "Discards a transaction.",
        cmd_discard
    ),
    cmd!(
        "watch",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        KeySpec::ALL,
        "2.2.0",
        "O(1) for every key.",
        "Monitors changes to keys to determine the execution of a transaction.",
        cmd_watch
    ),
    cmd!(
        "unwatch",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        KeySpec::NONE,
        "2.2.0",
        "O(1)",
        "Forgets about watched keys of a transaction.",
        cmd_unwatch
    ),
];
