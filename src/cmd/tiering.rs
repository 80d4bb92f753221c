//! TIERING: inspect and move single keys between RAM and RocksDB (for operators and tests).
//!
//! `TIERING STATUS key` reports where the key's value is; `TIERING DEMOTE key` moves it to
//! RocksDB now (through the demotion thread that owns its shard, so that writes stay in
//! order); `TIERING LOAD key` brings it back into RAM; `TIERING FLUSH-MEMTABLES` writes what
//! RocksDB holds in memory out to SST files; `TIERING DISK-ELEMENTS key` counts the element
//! entries RocksDB holds under a key (a split collection's), whether or not the key exists: a
//! debugging command that reads RocksDB under the key's lock, as DEBUG DIGEST does.

use bytes::Bytes;

use super::keys::help_reply;
use super::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult};
use crate::keyspace::Disk;
use crate::protocol::Reply;
use crate::types::Value;

fn tiering_on(ctx: &Ctx) -> CmdResult<()> {
    if !ctx.server.tier.get().is_some_and(|t| t.demoting) {
        return Err(CmdError::new("ERR tiering is off (tiering no)"));
    }
    Ok(())
}

fn cmd_status(ctx: &mut Ctx) -> CmdResult<Reply> {
    let db = ctx.db();
    let key = &ctx.args[2];
    let ram = ctx.ks.memory_usage(db, key);
    let Some(e) = ctx.ks.meta(db, key) else {
        return Ok(Reply::Nil);
    };
    let mut fields = vec![
        (
            "state",
            Reply::bulk_static(if e.value.is_cold() { "cold" } else { "hot" }),
        ),
        ("type", Reply::bulk_static(e.value.type_name())),
        (
            "disk",
            Reply::bulk_static(match e.disk() {
                Disk::None => "none",
                Disk::Stale => "stale",
                Disk::Clean => "clean",
            }),
        ),
        ("version", Reply::Int(e.version as i64)),
        ("ram_bytes", Reply::Int(ram.unwrap_or(0) as i64)),
    ];
    if let Value::Cold(stub) = &e.value {
        fields.push(("disk_version", Reply::Int(stub.disk_version as i64)));
        fields.push(("disk_bytes", Reply::Int(stub.disk_bytes as i64)));
        fields.push(("split", Reply::Int(stub.split as i64)));
    }
    Ok(Reply::Map(
        fields
            .into_iter()
            .map(|(k, v)| (Reply::bulk_static(k), v))
            .collect(),
    ))
}

fn cmd_demote(ctx: &mut Ctx) -> CmdResult<Reply> {
    tiering_on(ctx)?;
    let db = ctx.db();
    let key = &ctx.args[2];
    match ctx.ks.meta(db, key) {
        None => Ok(Reply::Int(0)),
        Some(e) if e.value.is_cold() => Ok(Reply::Int(1)),
        Some(_) => {
            ctx.after = super::After::Demote(db, Bytes::copy_from_slice(key));
            Ok(Reply::Nil)
        }
    }
}

fn cmd_load(ctx: &mut Ctx) -> CmdResult<Reply> {
    tiering_on(ctx)?;
    let db = ctx.db();
    // Dispatch loaded the value before this runs; `peek` would read it if it had not.
    Ok(Reply::Int(ctx.ks.peek(db, &ctx.args[2]).is_some() as i64))
}

fn cmd_disk_elements(ctx: &mut Ctx) -> CmdResult<Reply> {
    let Some(tier) = ctx.server.tier.get() else {
        return Err(CmdError::new("ERR tiering is off (tiering no)"));
    };
    let key = &ctx.args[2];
    let disk_db = ctx.ks.disk_db(ctx.db());
    let data_key = crate::tier::store::data_key(disk_db, crate::keyspace::key_slot(key), key);
    let n = tier
        .store
        .count_elements(&data_key)
        .map_err(|e| CmdError(format!("ERR {e}")))?;
    Ok(Reply::Int(n as i64))
}

fn cmd_flush_memtables(ctx: &mut Ctx) -> CmdResult<Reply> {
    tiering_on(ctx)?;
    let tier = ctx.server.tier.get().expect("checked by tiering_on");
    tier.store
        .flush()
        .map_err(|e| CmdError(format!("ERR {e}")))?;
    Ok(Reply::Ok)
}

fn cmd_help(_ctx: &mut Ctx) -> CmdResult<Reply> {
    Ok(help_reply(
        "TIERING",
        &[
            "STATUS <key>",
            "    Where the key's value is: state (hot|cold), type, disk (none|stale|clean),",
            "    version, ram_bytes, and for a cold value disk_version, disk_bytes and split",
            "    (1: stored one RocksDB entry per element).",
            "DEMOTE <key>",
            "    Move the key's value to RocksDB now. Returns 1 when it is cold, 0 when the key",
            "    does not exist.",
            "LOAD <key>",
            "    Bring the key's value back into RAM. Returns 1, or 0 when the key does not exist.",
            "FLUSH-MEMTABLES",
            "    Write RocksDB's memtables (recently demoted values) out to SST files.",
            "DISK-ELEMENTS <key>",
            "    How many element entries RocksDB holds under the key (a collection stored",
            "    one entry per element), whether or not the key exists.",
        ],
    ))
}

macro_rules! cmd {
    ($($spec:tt)*) => {
        super::command!("server", $($spec)*)
    };
}

const SUBCOMMANDS: &[CommandSpec] = &[
    cmd!(
        "status",
        3,
        READONLY | NO_VALUE,
        KeySpec::range(2, 2, 1),
        "0.1.0",
        "O(1)",
        "Reports whether a key's value is in RAM or in RocksDB.",
        cmd_status
    ),
    cmd!(
        "demote",
        3,
        ADMIN | NO_VALUE,
        KeySpec::range(2, 2, 1),
        "0.1.0",
        "O(N) where N is the size of the value.",
        "Moves a key's value to RocksDB now.",
        cmd_demote
    ),
    cmd!(
        "load",
        3,
        READONLY,
        KeySpec::range(2, 2, 1),
        "0.1.0",
        "O(N) where N is the size of the value.",
        "Brings a key's value back into RAM.",
        cmd_load
    ),
    cmd!(
        "disk-elements",
        3,
        READONLY | NO_VALUE,
        KeySpec::range(2, 2, 1),
        "0.1.0",
        "O(N) where N is the number of elements stored under the key.",
        "Counts the element entries RocksDB holds under a key.",
        cmd_disk_elements
    ),
    cmd!(
        "flush-memtables",
        2,
        ADMIN,
        KeySpec::NONE,
        "0.1.0",
        "O(N) where N is the size of RocksDB's memtables.",
        "Writes RocksDB's memtables out to SST files.",
        cmd_flush_memtables
    ),
    cmd!(
        "help",
        2,
        0,
        KeySpec::NONE,
        "0.1.0",
        "O(1)",
        "Returns helpful text about the different subcommands.",
        cmd_help
    ),
];

#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[
    cmd!("tiering", -2, 0, KeySpec::NONE, "0.1.0", "Depends on subcommand.",
        "A container for commands that move values between RAM and RocksDB (Thermocline).",
        super::container, SUBCOMMANDS),
];
