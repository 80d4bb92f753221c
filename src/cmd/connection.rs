//! Connection commands: PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET and CLIENT.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::args::{int, is, Cursor};
use super::keys::help_reply;
use super::{flags::*, CommandSpec, CommandTable, Ctx};
use crate::error::{printable, CmdError, CmdResult, AUTH_NOT_CONFIGURED, NOPROTO, WRONGPASS};
use crate::protocol::{Protocol, Reply};
use crate::server::clients::{ClientInfo, ReplyMode};
use crate::server::{unix_ms, Server, REDIS_VERSION};

fn cmd_ping(ctx: &mut Ctx) -> CmdResult<Reply> {
    // A subscribed RESP2 client gets ["pong", <message or "">], as in Redis.
    if ctx.client.protocol == Protocol::Resp2 && ctx.client.subscriptions.active() {
        return match ctx.args.len() {
            1 | 2 => Ok(Reply::Array(vec![
                Reply::bulk_static("pong"),
                Reply::Bulk(ctx.args.get(1).cloned().unwrap_or_default()),
            ])),
            _ => Err(CmdError::arity("ping")),
        };
    }
    match ctx.args.len() {
        1 => Ok(Reply::status("PONG")),
        2 => Ok(Reply::Bulk(ctx.args[1].clone())),
        _ => Err(CmdError::arity("ping")),
    }
}

fn cmd_echo(ctx: &mut Ctx) -> CmdResult<Reply> {
    Ok(Reply::Bulk(ctx.args[1].clone()))
}

/// Checks a username/password pair against `requirepass` (only the `default` user exists).
fn check_password(server: &Server, user: &[u8], pass: &[u8]) -> bool {
    let required = server.config.read().requirepass.clone();
    user == b"default" && (required.is_empty() || required.as_bytes() == pass)
}

fn cmd_auth(ctx: &mut Ctx) -> CmdResult<Reply> {
    let (user, pass) = match ctx.args.len() {
        2 => (&b"default"[..], &ctx.args[1]),
        3 => (&ctx.args[1][..], &ctx.args[2]),
        _ => return Err(CmdError::syntax()),
    };
    if ctx.args.len() == 2 && !ctx.server.requires_auth() {
        return Err(CmdError::new(AUTH_NOT_CONFIGURED));
    }
    if check_password(ctx.server, user, pass) {
        ctx.client.authenticated = true;
        Ok(Reply::Ok)
    } else {
        Err(CmdError::new(WRONGPASS))
    }
}

fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

const BAD_NAME: &str = "ERR Client names cannot contain spaces, newlines or special characters.";

fn cmd_hello(ctx: &mut Ctx) -> CmdResult<Reply> {
    let mut proto = None;
    let mut c = Cursor::new(ctx.args, 1);
    if ctx.args.len() >= 2 {
        let v = int(c.next()?)
            .map_err(|_| CmdError::new("ERR Protocol version is not an integer or out of range"))?;
        if !(2..=3).contains(&v) {
            return Err(CmdError::new(NOPROTO));
        }
        proto = Some(if v == 3 {
            Protocol::Resp3
        } else {
            Protocol::Resp2
        });
    }
    let mut auth = None;
    let mut setname = None;
    while !c.is_empty() {
        // An option without all its values is itself the syntax error (`HELLO 3 AUTH user`).
        let more = c.remaining() - 1;
        if more >= 2 && c.eat("AUTH") {
            auth = Some((c.next()?.clone(), c.next()?.clone()));
        } else if more >= 1 && c.eat("SETNAME") {
            setname = Some(c.next()?.clone());
        } else {
            let opt = String::from_utf8_lossy(c.next()?).into_owned();
            return Err(CmdError(format!(
                "ERR Syntax error in HELLO option '{opt}'"
            )));
        }
    }
    if let Some((user, pass)) = &auth {
        if !check_password(ctx.server, user, pass) {
            return Err(CmdError::new(WRONGPASS));
        }
        ctx.client.authenticated = true;
    }
    if !ctx.client.authenticated {
        return Err(CmdError::new(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
        ));
    }
    if let Some(name) = setname {
        if !valid_client_name(&name) {
            return Err(CmdError::new(BAD_NAME));
        }
        *ctx.client.info.name.lock() = if name.is_empty() { None } else { Some(name) };
    }
    if let Some(p) = proto {
        ctx.client.protocol = p;
        ctx.client
            .info
            .protocol
            .store(p.version() as u32, Ordering::Relaxed);
    }
    Ok(Reply::Map(vec![
        (Reply::bulk_static("server"), Reply::bulk_static("redis")),
        (
            Reply::bulk_static("version"),
            Reply::bulk_static(REDIS_VERSION),
        ),
        (
            Reply::bulk_static("proto"),
            Reply::Int(ctx.client.protocol.version()),
        ),
        (Reply::bulk_static("id"), Reply::Int(ctx.client.id as i64)),
        (Reply::bulk_static("mode"), Reply::bulk_static("standalone")),
        (Reply::bulk_static("role"), Reply::bulk_static("master")),
        (Reply::bulk_static("modules"), Reply::Array(vec![])),
    ]))
}

fn cmd_select(ctx: &mut Ctx) -> CmdResult<Reply> {
    let n = super::args::int32(&ctx.args[1], None)?;
    let db = super::keys::db_in_range(ctx, n)?;
    ctx.client.db = db;
    ctx.client.info.db.store(db, Ordering::Relaxed);
    Ok(Reply::Ok)
}

fn cmd_quit(ctx: &mut Ctx) -> CmdResult<Reply> {
    ctx.client.close_after_reply = true;
    Ok(Reply::Ok)
}

fn cmd_reset(ctx: &mut Ctx) -> CmdResult<Reply> {
    let client = &mut *ctx.client;
    client.db = 0;
    client.info.db.store(0, Ordering::Relaxed);
    client.protocol = Protocol::Resp2;
    client.info.protocol.store(2, Ordering::Relaxed);
    client.reply_mode = ReplyMode::On;
    *client.info.name.lock() = None;
    client.info.no_evict.store(false, Ordering::Relaxed);
    client.authenticated = !ctx.server.requires_auth();
    super::transactions::reset(client);
    ctx.server
        .pubsub
        .unsubscribe_all(&mut client.subscriptions, &client.info);
    Ok(Reply::status("RESET"))
}

/// One CLIENT LIST / CLIENT INFO line, with Redis's fields.
pub fn client_line(info: &ClientInfo, now_ms: u64) -> String {
    let name = info
        .name()
        .map(|n| String::from_utf8_lossy(&n).into_owned())
        .unwrap_or_default();
    let lib = |m: &parking_lot::Mutex<Option<Bytes>>| {
        m.lock()
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default()
    };
    let cmd = match info.last_cmd.load(Ordering::Relaxed) {
        u32::MAX => "NULL".to_string(),
        i => CommandTable::get().full_name(i as usize),
    };
    let (sub, psub, ssub) = (
        info.subs.channels.load(Ordering::Relaxed),
        info.subs.patterns.load(Ordering::Relaxed),
        info.subs.shard.load(Ordering::Relaxed),
    );
    let multi = info.multi.load(Ordering::Relaxed);
    // Redis's letters in its order: P (subscriber), x (in MULTI), b (blocked: on keys, or by a
    // client pause), e (no-evict).
    let mut flags = String::new();
    if sub + psub + ssub > 0 {
        flags.push('P');
    }
    if multi >= 0 {
        flags.push('x');
    }
    if info.blocked.load(Ordering::Relaxed) {
        flags.push('b');
    }
    if info.no_evict.load(Ordering::Relaxed) {
        flags.push('e');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    format!(
        "id={} addr={} laddr={} fd=0 name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem={} tot-mem=0 events=r cmd={} user=default redir=-1 resp={} lib-name={} lib-ver={}",
        info.id,
        info.addr,
        info.laddr,
        name,
        now_ms.saturating_sub(info.created_ms) / 1000,
        now_ms.saturating_sub(info.last_interaction_ms.load(Ordering::Relaxed)) / 1000,
        flags,
        info.db.load(Ordering::Relaxed),
        sub,
        psub,
        ssub,
        multi,
        info.query_buf.load(Ordering::Relaxed),
        info.query_buf_free.load(Ordering::Relaxed),
        info.outbox.pending(),
        cmd,
        info.protocol.load(Ordering::Relaxed),
        lib(&info.lib_name),
        lib(&info.lib_ver),
    )
}

fn cmd_client_id(ctx: &mut Ctx) -> CmdResult<Reply> {
    Ok(Reply::Int(ctx.client.id as i64))
}

fn cmd_client_setname(ctx: &mut Ctx) -> CmdResult<Reply> {
    let name = &ctx.args[2];
    if !valid_client_name(name) {
        return Err(CmdError::new(BAD_NAME));
    }
    *ctx.client.info.name.lock() = if name.is_empty() {
        None
    } else {
        Some(name.clone())
    };
    Ok(Reply::Ok)
}

fn cmd_client_getname(ctx: &mut Ctx) -> CmdResult<Reply> {
    Ok(ctx.client.info.name().map_or(Reply::Nil, Reply::Bulk))
}

fn cmd_client_list(ctx: &mut Ctx) -> CmdResult<Reply> {
    let mut ids: Option<Vec<u64>> = None;
    // TYPE normal or pubsub: whether the listed clients are subscribers.
    let mut pubsub: Option<bool> = None;
    let mut c = Cursor::new(ctx.args, 2);
    while !c.is_empty() {
        if c.eat("TYPE") {
            let t = c.next_upper()?;
            match t.as_str() {
                "NORMAL" => pubsub = Some(false),
                "PUBSUB" => pubsub = Some(true),
                "MASTER" | "REPLICA" | "SLAVE" => ids = Some(Vec::new()),
                _ => {
                    return Err(CmdError(format!(
                        "ERR Unknown client type '{}'",
                        t.to_lowercase()
                    )))
                }
            }
        } else if c.eat("ID") {
            let mut list = Vec::new();
            while !c.is_empty() {
                let n = int(c.next()?).map_err(|_| CmdError::new("ERR Invalid client ID"))?;
                if n <= 0 {
                    return Err(CmdError::new("ERR Invalid client ID"));
                }
                list.push(n as u64);
            }
            if list.is_empty() {
                return Err(CmdError::syntax());
            }
            ids = Some(list);
        } else {
            return Err(CmdError::syntax());
        }
    }
    let now = unix_ms();
    let mut text = String::new();
    for info in ctx.server.clients.all() {
        // A killed client is gone for good, even while its task winds down.
        if info.is_killed()
            || ids.as_ref().is_some_and(|ids| !ids.contains(&info.id))
            || pubsub.is_some_and(|p| p != info.subs.any())
        {
            continue;
        }
        text.push_str(&client_line(&info, now));
        text.push('\n');
    }
    Ok(Reply::Verbatim(text))
}

fn cmd_client_info(ctx: &mut Ctx) -> CmdResult<Reply> {
    Ok(Reply::Verbatim(format!(
        "{}\n",
        client_line(&ctx.client.info, unix_ms())
    )))
}

fn cmd_client_kill(ctx: &mut Ctx) -> CmdResult<Reply> {
    let all = ctx.server.clients.all();
    // Old form: CLIENT KILL addr:port, replies +OK or an error.
    if ctx.args.len() == 3 {
        let addr = String::from_utf8_lossy(&ctx.args[2]).into_owned();
        let Some(target) = all
            .iter()
            .find(|c| !c.is_killed() && c.addr.to_string() == addr)
        else {
            return Err(CmdError::new("ERR No such client"));
        };
        if target.id == ctx.client.id {
            ctx.client.close_after_reply = true;
        } else {
            target.kill();
        }
        return Ok(Reply::Ok);
    }
    let (mut id, mut addr, mut laddr, mut skipme, mut maxage, mut ctype) =
        (None, None, None, true, None, None);
    let mut c = Cursor::new(ctx.args, 2);
    while !c.is_empty() {
        let opt = c.next_upper()?;
        let val = c.next()?;
        let text = String::from_utf8_lossy(val).into_owned();
        match opt.as_str() {
            "ID" => {
                id =
                    Some(
                        int(val).ok().filter(|n| *n > 0).ok_or_else(|| {
                            CmdError::new("ERR client-id should be greater than 0")
                        })? as u64,
                    )
            }
            "ADDR" => addr = Some(text),
            "LADDR" => laddr = Some(text),
            "USER" => {
                if text != "default" {
                    return Err(CmdError(format!("ERR No such user '{text}'")));
                }
            }
            "TYPE" => {
                let t = text.to_ascii_lowercase();
                if !["normal", "master", "replica", "slave", "pubsub"].contains(&t.as_str()) {
                    return Err(CmdError(format!("ERR Unknown client type '{t}'")));
                }
                ctype = Some(t);
            }
            "SKIPME" => {
                skipme = match text.to_ascii_lowercase().as_str() {
                    "yes" => true,
                    "no" => false,
                    _ => return Err(CmdError::syntax()),
                }
            }
            "MAXAGE" => maxage = Some(int(val)?),
            _ => return Err(CmdError::syntax()),
        }
    }
    let now = unix_ms();
    let mut killed = 0;
    for target in all {
        let matches = !target.is_killed()
            && id.is_none_or(|i| target.id == i)
            && addr.as_ref().is_none_or(|a| target.addr.to_string() == *a)
            && laddr
                .as_ref()
                .is_none_or(|a| target.laddr.to_string() == *a)
            && ctype.as_ref().is_none_or(|t| match t.as_str() {
                "normal" => !target.subs.any(),
                "pubsub" => target.subs.any(),
                _ => false,
            })
            && maxage
                .is_none_or(|age| (now.saturating_sub(target.created_ms) / 1000) as i64 >= age);
        if !matches {
            continue;
        }
        if target.id == ctx.client.id {
            if skipme {
                continue;
            }
            ctx.client.close_after_reply = true;
        } else {
            target.kill();
        }
        killed += 1;
    }
    Ok(Reply::Int(killed))
}

fn cmd_client_setinfo(ctx: &mut Ctx) -> CmdResult<Reply> {
    let value = &ctx.args[3];
    // The attribute is named in errors as the client spelled it, and checked first.
    let attr = printable(&ctx.args[2], 128);
    let slot = if is(&ctx.args[2], "LIB-NAME") {
        &ctx.client.info.lib_name
    } else if is(&ctx.args[2], "LIB-VER") {
        &ctx.client.info.lib_ver
    } else {
        return Err(CmdError(format!("ERR Unrecognized option '{attr}'")));
    };
    if !valid_client_name(value) {
        return Err(CmdError(format!(
            "ERR {attr} cannot contain spaces, newlines or special characters."
        )));
    }
    *slot.lock() = if value.is_empty() {
        None
    } else {
        Some(value.clone())
    };
    Ok(Reply::Ok)
}

fn cmd_client_pause(ctx: &mut Ctx) -> CmdResult<Reply> {
    let ms = int(&ctx.args[2])
        .map_err(|_| CmdError::new("ERR timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(CmdError::new(crate::error::TIMEOUT_NEGATIVE));
    }
    if ctx.args.len() > 4 {
        return Err(CmdError(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
            printable(&ctx.args[1], 128)
        )));
    }
    let all = match ctx.args.get(3) {
        None => true,
        Some(m) if is(m, "ALL") => true,
        Some(m) if is(m, "WRITE") => false,
        Some(_) => return Err(CmdError::new("ERR CLIENT PAUSE mode must be WRITE or ALL")),
    };
    ctx.server
        .pause
        .pause(Instant::now() + Duration::from_millis(ms as u64), all);
    Ok(Reply::Ok)
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: wakes a client blocked on keys, as if it timed out or
/// with the UNBLOCKED error. 1 when it was blocked.
fn cmd_client_unblock(ctx: &mut Ctx) -> CmdResult<Reply> {
    if ctx.args.len() > 4 {
        return Err(CmdError(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
            printable(&ctx.args[1], 128)
        )));
    }
    let id = super::args::int(&ctx.args[2])?;
    let error = match ctx.args.get(3) {
        None => false,
        Some(a) if is(a, "TIMEOUT") => false,
        Some(a) if is(a, "ERROR") => true,
        Some(_) => {
            return Err(CmdError::new(
                "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ))
        }
    };
    let done = u64::try_from(id).is_ok_and(|id| ctx.server.blocking.unblock(id, error));
    Ok(Reply::Int(done as i64))
}

fn cmd_client_unpause(ctx: &mut Ctx) -> CmdResult<Reply> {
    ctx.server.pause.unpause();
    Ok(Reply::Ok)
}

fn on_off(arg: &[u8]) -> CmdResult<bool> {
    if is(arg, "ON") {
        Ok(true)
    } else if is(arg, "OFF") {
        Ok(false)
    } else {
        Err(CmdError::syntax())
    }
}

fn cmd_client_no_evict(ctx: &mut Ctx) -> CmdResult<Reply> {
    let on = on_off(&ctx.args[2])?;
    ctx.client.info.no_evict.store(on, Ordering::Relaxed);
    Ok(Reply::Ok)
}

fn cmd_client_reply(ctx: &mut Ctx) -> CmdResult<Reply> {
    let arg = &ctx.args[2];
    ctx.client.reply_mode = if is(arg, "ON") {
        ReplyMode::On
    } else if is(arg, "OFF") {
        ReplyMode::Off
    } else if is(arg, "SKIP") {
        ReplyMode::SkipNext
    } else {
        return Err(CmdError::syntax());
    };
    Ok(Reply::Ok)
}

fn cmd_client_help(_ctx: &mut Ctx) -> CmdResult<Reply> {
    Ok(help_reply(
        "CLIENT",
        &[
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are: ID, ADDR, LADDR, TYPE, USER, SKIPME, MAXAGE.",
            "LIST [options ...]",
            "    Return information about client connections. Options: TYPE, ID.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are: LIB-NAME, LIB-VER.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
        ],
    ))
}

/// This family's commands: [`keyless_command!`](super::keyless_command) with the group fixed.
macro_rules! cmd {
    ($($spec:tt)*) => {
        super::keyless_command!("connection", $($spec)*)
    };
}

const CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    cmd!(
        "id",
        2,
        NOSCRIPT | LOADING | STALE,
        "5.0.0",
        "Returns the unique client ID of the connection.",
        cmd_client_id
    ),
    cmd!(
        "setname",
        3,
        NOSCRIPT | LOADING | STALE,
        "2.6.9",
        "Sets the connection name.",
        cmd_client_setname
    ),
    cmd!(
        "getname",
        2,
        NOSCRIPT | LOADING | STALE,
        "2.6.9",
        "Returns the name of the connection.",
        cmd_client_getname
    ),
    cmd!(
        "list",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "2.4.0",
        "Lists open connections.",
        cmd_client_list
    ),
    cmd!(
        "info",
        2,
        NOSCRIPT | LOADING | STALE,
        "6.2.0",
        "Returns information about the connection.",
        cmd_client_info
    ),
    cmd!(
        "kill",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "2.4.0",
        "Terminates open connections.",
        cmd_client_kill
    ),
    cmd!(
        "unblock",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "5.0.0",
        "Unblocks a client blocked by a blocking command from a different connection.",
        cmd_client_unblock
    ),
    cmd!(
        "setinfo",
        4,
        NOSCRIPT | LOADING | STALE,
        "7.2.0",
        "Sets information specific to the client or connection.",
        cmd_client_setinfo
    ),
    cmd!(
        "pause",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "3.0.0",
        "Suspends commands processing.",
        cmd_client_pause
    ),
    cmd!(
        "unpause",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "6.2.0",
        "Resumes processing commands from paused clients.",
        cmd_client_unpause
    ),
    cmd!(
        "no-evict",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "7.0.0",
        "Sets the client eviction mode of the connection.",
        cmd_client_no_evict
    ),
    cmd!(
        "reply",
        3,
        NOSCRIPT | LOADING | STALE,
        "3.2.0",
        "Instructs the server whether to reply to commands.",
        cmd_client_reply
    ),
    cmd!(
        "help",
        2,
        LOADING | STALE,
        "5.0.0",
        "Returns helpful text about the different subcommands.",
        cmd_client_help
    ),
];

pub const COMMANDS: &[CommandSpec] = &[
    cmd!(
        "ping",
        -1,
        FAST,
        "1.0.0",
        "Returns the server's liveliness response.",
        cmd_ping
    ),
    cmd!(
        "echo",
        2,
        FAST,
        "1.0.0",
        "Returns the given string.",
        cmd_echo
    ),
    cmd!(
        "hello",
        -1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        "6.0.0",
        "Handshakes with the Redis server.",
        cmd_hello
    ),
    cmd!(
        "auth",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        "1.0.0",
        "Authenticates the connection.",
        cmd_auth
    ),
    cmd!(
        "select",
        2,
        LOADING | STALE | FAST,
        "1.0.0",
        "Changes the selected database.",
        cmd_select
    ),
    cmd!(
        "quit",
        -1,
        ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        "1.0.0",
        "Closes the connection.",
        cmd_quit
    ),
    cmd!(
        "reset",
        1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        "6.2.0",
        "Resets the connection.",
        cmd_reset
    ),
    cmd!(
        "client",
        -2,
        0,
        "2.4.0",
        "A container for client connection commands.",
        super::container,
        CLIENT_SUBCOMMANDS
    ),
];
