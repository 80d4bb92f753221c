//! Pub/Sub commands: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBLISH SSUBSCRIBE SUNSUBSCRIBE
//! SPUBLISH and PUBSUB (CHANNELS NUMSUB NUMPAT SHARDCHANNELS SHARDNUMSUB HELP).
//!
//! The registry and delivery live in `server/pubsub.rs`; these handlers update the client's
//! subscriptions and build Redis's confirmations: one push message per channel
//! (`subscribe <channel> <count>`), sent as a RESP2 array or a RESP3 push and even when the
//! client turned replies off. Without cluster mode shard channels behave as Redis standalone
//! does: a separate namespace, no patterns, their own subscription count. While a RESP2 client
//! is subscribed, dispatch allows it only the commands [`allowed_when_subscribed`] names; RESP3
//! clients may run anything, and receive messages as push frames between replies.

use bytes::Bytes;

use super::keys::help_reply;
use super::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult};
use crate::protocol::Reply;
use crate::server::pubsub::Kind;

/// The commands a RESP2 client may send while subscribed (Redis's list).
pub fn allowed_when_subscribed(spec: &CommandSpec) -> bool {
    matches!(
        spec.name,
        "ping"
            | "subscribe"
            | "ssubscribe"
            | "unsubscribe"
            | "sunsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "quit"
            | "reset"
    )
}

/// The error a subscribed RESP2 client gets for any other command.
pub fn only_subscribe_commands(name: &str) -> String {
    format!(
        "ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    )
}

/// One confirmation: `[kind, name or nil, count]`.
fn confirmation(kind: &'static str, name: Option<Bytes>, count: usize) -> Reply {
    Reply::Push(vec![
        Reply::bulk_static(kind),
        name.map_or(Reply::Nil, Reply::Bulk),
        Reply::Int(count as i64),
    ])
}

/// One reply per confirmation, sent one after another.
fn confirmations(mut replies: Vec<Reply>) -> Reply {
    if replies.len() == 1 {
        replies.pop().unwrap_or(Reply::Nil)
    } else {
        Reply::Many(replies)
    }
}

fn subscribe(ctx: &mut Ctx, kind: Kind) -> CmdResult<Reply> {
    let (name, _) = kind.confirmations();
    let client = &mut *ctx.client;
    let replies = ctx.args[1..]
        .iter()
        .map(|channel| {
            ctx.server
                .pubsub
                .subscribe(kind, &mut client.subscriptions, &client.info, channel);
            confirmation(
                name,
                Some(channel.clone()),
                client.subscriptions.count(kind),
            )
        })
        .collect();
    Ok(confirmations(replies))
}

fn unsubscribe(ctx: &mut Ctx, kind: Kind) -> CmdResult<Reply> {
    let (_, name) = kind.confirmations();
    let client = &mut *ctx.client;
    // Without arguments: every channel of this kind, or one confirmation with a nil channel
    // when there is none.
    let channels = if ctx.args.len() > 1 {
        ctx.args[1..].to_vec()
    } else {
        client.subscriptions.names(kind)
    };
    if channels.is_empty() {
        return Ok(confirmation(name, None, client.subscriptions.count(kind)));
    }
    let replies = channels
        .into_iter()
        .map(|channel| {
            ctx.server
                .pubsub
                .unsubscribe(kind, &mut client.subscriptions, &client.info, &channel);
            confirmation(name, Some(channel), client.subscriptions.count(kind))
        })
        .collect();
    Ok(confirmations(replies))
}

fn cmd_subscribe(ctx: &mut Ctx) -> CmdResult<Reply> {
    subscribe(ctx, Kind::Channel)
}

fn cmd_psubscribe(ctx: &mut Ctx) -> CmdResult<Reply> {
    subscribe(ctx, Kind::Pattern)
}

fn cmd_ssubscribe(ctx: &mut Ctx) -> CmdResult<Reply> {
    // Inside EXEC, as in Redis (SUBSCRIBE and PSUBSCRIBE are let through there for backward
    // compatibility; SSUBSCRIBE is not).
    if ctx.client.deny_blocking {
        return Err(CmdError::new(
            "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client",
        ));
    }
    subscribe(ctx, Kind::Shard)
}

fn cmd_unsubscribe(ctx: &mut Ctx) -> CmdResult<Reply> {
    unsubscribe(ctx, Kind::Channel)
}

fn cmd_punsubscribe(ctx: &mut Ctx) -> CmdResult<Reply> {
    unsubscribe(ctx, Kind::Pattern)
}

fn cmd_sunsubscribe(ctx: &mut Ctx) -> CmdResult<Reply> {
    unsubscribe(ctx, Kind::Shard)
}

fn cmd_publish(ctx: &mut Ctx) -> CmdResult<Reply> {
    let n = ctx.server.pubsub.publish(&ctx.args[1], &ctx.args[2], false);
    Ok(Reply::Int(n as i64))
}

fn cmd_spublish(ctx: &mut Ctx) -> CmdResult<Reply> {
    let n = ctx.server.pubsub.publish(&ctx.args[1], &ctx.args[2], true);
    Ok(Reply::Int(n as i64))
}

/// `PUBSUB <sub>` with more arguments than it takes.
fn pubsub_syntax(ctx: &Ctx) -> CmdError {
    CmdError(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
        String::from_utf8_lossy(&ctx.args[1])
    ))
}

fn channel_list(ctx: &mut Ctx, shard: bool) -> CmdResult<Reply> {
    if ctx.args.len() > 3 {
        return Err(pubsub_syntax(ctx));
    }
    let pattern = ctx.args.get(2).map(|p| &p[..]);
    Ok(Reply::bulks(ctx.server.pubsub.channels(shard, pattern)))
}

fn numsub(ctx: &mut Ctx, shard: bool) -> CmdResult<Reply> {
    let mut out = Vec::with_capacity((ctx.args.len() - 2) * 2);
    for channel in &ctx.args[2..] {
        out.push(Reply::Bulk(channel.clone()));
        out.push(Reply::Int(ctx.server.pubsub.numsub(shard, channel) as i64));
    }
    // A flat array in both protocols, as Redis sends it.
    Ok(Reply::Array(out))
}

fn cmd_pubsub_channels(ctx: &mut Ctx) -> CmdResult<Reply> {
    channel_list(ctx, false)
}

fn cmd_pubsub_shardchannels(ctx: &mut Ctx) -> CmdResult<Reply> {
    channel_list(ctx, true)
}

fn cmd_pubsub_numsub(ctx: &mut Ctx) -> CmdResult<Reply> {
    numsub(ctx, false)
}

fn cmd_pubsub_shardnumsub(ctx: &mut Ctx) -> CmdResult<Reply> {
    numsub(ctx, true)
}

fn cmd_pubsub_numpat(ctx: &mut Ctx) -> CmdResult<Reply> {
    Ok(Reply::Int(ctx.server.pubsub.pattern_count() as i64))
}

fn cmd_pubsub_help(_ctx: &mut Ctx) -> CmdResult<Reply> {
    Ok(help_reply(
        "pubsub",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    ))
}

macro_rules! cmd {
    ($($spec:tt)*) => {
        super::command!("pubsub", $($spec)*)
    };
}

const PUBSUB_SUBCOMMANDS: &[CommandSpec] = &[
    cmd!("channels", -2, PUBSUB | LOADING | STALE, KeySpec::NONE, "2.8.0",
        "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
        "Returns the active channels.", cmd_pubsub_channels),
    cmd!("numsub", -2, PUBSUB | LOADING | STALE, KeySpec::NONE, "2.8.0",
        "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
        "Returns a count of subscribers to channels.", cmd_pubsub_numsub),
    cmd!("numpat", 2, PUBSUB | LOADING | STALE, KeySpec::NONE, "2.8.0", "O(1)",
        "Returns a count of unique pattern subscriptions.", cmd_pubsub_numpat),
    cmd!("shardchannels", -2, PUBSUB | LOADING | STALE, KeySpec::NONE, "7.0.0",
        "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
        "Returns the active shard channels.", cmd_pubsub_shardchannels),
    cmd!("shardnumsub", -2, PUBSUB | LOADING | STALE, KeySpec::NONE, "7.0.0",
        "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
        "Returns the count of subscribers of shard channels.", cmd_pubsub_shardnumsub),
    cmd!("help", 2, LOADING | STALE, KeySpec::NONE, "6.2.0", "O(1)",
        "Returns helpful text about the different subcommands.", cmd_pubsub_help),
];

pub const COMMANDS: &[CommandSpec] = &[
    cmd!("subscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE, KeySpec::NONE, "2.0.0",
        "O(N) where N is the number of channels to subscribe to.",
        "Listens for messages published to channels.", cmd_subscribe),
    cmd!("unsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE, KeySpec::NONE, "2.0.0",
        "O(N) where N is the number of channels to unsubscribe.",
        "Stops listening to messages posted to channels.", cmd_unsubscribe),
    cmd!("psubscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE, KeySpec::NONE, "2.0.0",
        "O(N) where N is the number of patterns to subscribe to.",
        "Listens for messages published to channels that match one or more patterns.",
        cmd_psubscribe),
    cmd!("punsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE, KeySpec::NONE, "2.0.0",
        "O(N) where N is the number of patterns to unsubscribe.",
        "Stops listening to messages published to channels that match one or more patterns.",
        cmd_punsubscribe),
    cmd!("publish", 3, PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE, KeySpec::NONE, "2.0.0",
        "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
        "Posts a message to a channel.", cmd_publish),
    cmd!("pubsub", -2, 0, KeySpec::NONE, "2.8.0", "Depends on subcommand.",
        "A container for Pub/Sub commands.", super::container, PUBSUB_SUBCOMMANDS),
    // Shard channels are declared where Redis declares them (NOT_KEY key specs), which also
    // makes dispatch lock their slots' shards: harmless, and the place a cluster's MOVED check
    // will read them from.
    cmd!("ssubscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE, KeySpec::ALL, "7.0.0",
        "O(N) where N is the number of shard channels to subscribe to.",
        "Listens for messages published to shard channels.", cmd_ssubscribe),
    cmd!("sunsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE, KeySpec::ALL, "7.0.0",
        "O(N) where N is the number of shard channels to unsubscribe.",
        "Stops listening to messages posted to shard channels.", cmd_sunsubscribe),
    cmd!("spublish", 3, PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE, KeySpec::ONE, "7.0.0",
        "O(N) where N is the number of clients subscribed to the receiving shard channel.",
        "Post a message to a shard channel", cmd_spublish),
];
