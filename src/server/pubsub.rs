//! The Pub/Sub registry: which clients listen to which channels, patterns and shard channels,
//! and delivery of published messages (keyspace notifications included) to them.
//!
//! Every connection has an [`Outbox`]: the sending half of an unbounded channel of encoded
//! messages (created on its first subscription), shared through its [`ClientInfo`]. PUBLISH,
//! from any I/O thread, looks the channel up under a read lock, encodes the message once per
//! protocol and queues it in each subscriber's outbox; the subscriber's connection loop wakes on
//! it and writes everything queued in one go. Each outbox counts the bytes queued and not yet
//! taken by the connection, and a subscriber beyond `client-output-buffer-limit pubsub` (the
//! hard limit, or the soft limit for longer than its period) is disconnected instead of letting
//! a slow reader grow memory without bound.
//!
//! The per-client side (which channels a connection is subscribed to) lives in the connection's
//! own [`Subscriptions`]; the registry maps each name to its subscribers in subscription order,
//! so that messages reach them in the order Redis delivers them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::{Bytes, BytesMut};
use hashbrown::HashSet;
use parking_lot::{Mutex, RwLock};
use tokio::sync::mpsc;

use super::clients::ClientInfo;
use crate::glob;
use crate::keyspace::{class, KeyEvent};
use crate::protocol::{encode, Protocol, Reply};

/// A connection's queue of pushed messages, opened on its first subscription (so that the
/// many connections that never subscribe hold no channel).
#[derive(Default)]
pub struct Outbox {
    tx: OnceLock<mpsc::UnboundedSender<Bytes>>,
    /// The receiving half, until the connection's loop takes it.
    rx: Mutex<Option<Inbox>>,
    /// Bytes queued and not yet taken by the connection (CLIENT LIST's `omem`).
    pending: AtomicUsize,
    /// Unix seconds when `pending` first went over the soft limit; 0 while under it.
    soft_since: AtomicU64,
}

/// The receiving half, read by the connection loop.
pub type Inbox = mpsc::UnboundedReceiver<Bytes>;

impl Outbox {
    /// Creates the queue if it does not exist yet (a client's first subscription).
    fn open(&self) {
        self.tx.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            *self.rx.lock() = Some(rx);
            tx
        });
    }

    /// The receiving half, once it exists and only once (the connection loop takes it).
    pub fn take_inbox(&self) -> Option<Inbox> {
        self.rx.lock().take()
    }

    /// Bytes queued for the client and not yet taken by its connection.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    /// The connection moved `n` bytes from the inbox to its output buffer.
    pub fn delivered(&self, n: usize) {
        let left = self
            .pending
            .fetch_sub(n, Ordering::Relaxed)
            .saturating_sub(n);
        if left == 0 {
            self.soft_since.store(0, Ordering::Relaxed);
        }
    }

    /// Queues `msg`; false when the client went over its output limits (the caller then
    /// disconnects it) or is gone.
    fn push(&self, msg: Bytes, limits: &OutputLimits) -> bool {
        // Never the case for a subscriber: subscribing opens the queue.
        let Some(tx) = self.tx.get() else {
            return true;
        };
        let used = self.pending.fetch_add(msg.len(), Ordering::Relaxed) + msg.len();
        let (hard, soft, soft_secs) = limits.get();
        if hard > 0 && used as u64 >= hard {
            return false;
        }
        if soft > 0 && used as u64 >= soft {
            let now = super::unix_ms() / 1000;
            match self
                .soft_since
                .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => {}
                Err(since) if now.saturating_sub(since) > soft_secs => return false,
                Err(_) => {}
            }
        } else {
            self.soft_since.store(0, Ordering::Relaxed);
        }
        tx.send(msg).is_ok()
    }
}

impl Outbox {
    /// True when the client has stayed over the soft limit for longer than its period (cron
    /// checks this, so that a subscriber that stopped receiving is still disconnected).
    pub fn over_soft_limit(&self, limits: &OutputLimits, now_s: u64) -> bool {
        let (_, soft, soft_secs) = limits.get();
        let since = self.soft_since.load(Ordering::Relaxed);
        soft > 0
            && since != 0
            && self.pending() as u64 >= soft
            && now_s.saturating_sub(since) > soft_secs
    }
}

/// `client-output-buffer-limit pubsub <hard> <soft> <seconds>`, readable without the config
/// lock on every delivery.
#[derive(Default)]
pub struct OutputLimits {
    hard: AtomicU64,
    soft: AtomicU64,
    soft_secs: AtomicU64,
}

impl OutputLimits {
    pub fn set(&self, (hard, soft, secs): (u64, u64, u64)) {
        self.hard.store(hard, Ordering::Relaxed);
        self.soft.store(soft, Ordering::Relaxed);
        self.soft_secs.store(secs, Ordering::Relaxed);
    }

    fn get(&self) -> (u64, u64, u64) {
        (
            self.hard.load(Ordering::Relaxed),
            self.soft.load(Ordering::Relaxed),
            self.soft_secs.load(Ordering::Relaxed),
        )
    }
}

/// The three kinds of subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    /// The confirmation names: (`subscribe`, `unsubscribe`) and their P and S forms.
    pub fn confirmations(self) -> (&'static str, &'static str) {
        match self {
            Kind::Channel => ("subscribe", "unsubscribe"),
            Kind::Pattern => ("psubscribe", "punsubscribe"),
            Kind::Shard => ("ssubscribe", "sunsubscribe"),
        }
    }
}

/// What one connection is subscribed to (owned by the connection, mirrored in the registry).
#[derive(Default)]
pub struct Subscriptions {
    channels: HashSet<Bytes>,
    patterns: HashSet<Bytes>,
    shard: HashSet<Bytes>,
    /// The client has subscribed at least once, so its outbox exists.
    opened: bool,
}

impl Subscriptions {
    fn set(&self, kind: Kind) -> &HashSet<Bytes> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard,
        }
    }

    fn set_mut(&mut self, kind: Kind) -> &mut HashSet<Bytes> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    /// The count a (un)subscribe confirmation reports: channels plus patterns, or shard
    /// channels for the S forms (as Redis counts them).
    pub fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Shard => self.shard.len(),
            _ => self.channels.len() + self.patterns.len(),
        }
    }

    /// True while subscribed to anything (RESP2's subscribed mode).
    pub fn active(&self) -> bool {
        !(self.channels.is_empty() && self.patterns.is_empty() && self.shard.is_empty())
    }

    /// True once the client has subscribed to anything (its outbox then exists, and may hold
    /// messages even after it unsubscribed).
    pub fn opened(&self) -> bool {
        self.opened
    }

    /// Every name subscribed to with `kind`.
    pub fn names(&self, kind: Kind) -> Vec<Bytes> {
        self.set(kind).iter().cloned().collect()
    }
}

/// Subscription counts other connections see (CLIENT LIST `sub=`, `psub=`, `ssub=`).
#[derive(Default)]
pub struct SubCounts {
    pub channels: AtomicUsize,
    pub patterns: AtomicUsize,
    pub shard: AtomicUsize,
}

impl SubCounts {
    fn store(&self, subs: &Subscriptions) {
        self.channels.store(subs.channels.len(), Ordering::Relaxed);
        self.patterns.store(subs.patterns.len(), Ordering::Relaxed);
        self.shard.store(subs.shard.len(), Ordering::Relaxed);
    }

    pub fn any(&self) -> bool {
        self.channels.load(Ordering::Relaxed)
            + self.patterns.load(Ordering::Relaxed)
            + self.shard.load(Ordering::Relaxed)
            > 0
    }
}

/// Names (channels or patterns) and their subscribers, in subscription order.
#[derive(Default)]
struct Table(RwLock<HashMap<Bytes, Vec<Arc<ClientInfo>>>>);

impl Table {
    fn add(&self, name: &Bytes, client: &Arc<ClientInfo>) {
        self.0
            .write()
            .entry(name.clone())
            .or_default()
            .push(client.clone());
    }

    fn remove(&self, name: &[u8], id: u64) {
        let mut map = self.0.write();
        if let Some(list) = map.get_mut(name) {
            list.retain(|c| c.id != id);
            if list.is_empty() {
                map.remove(name);
            }
        }
    }

    /// Removes client `id` from every name (a connection that ended without cleaning up).
    fn forget(&self, id: u64) {
        let mut map = self.0.write();
        map.retain(|_, list| {
            list.retain(|c| c.id != id);
            !list.is_empty()
        });
    }

    fn len(&self) -> usize {
        self.0.read().len()
    }

    fn subscribers(&self, name: &[u8]) -> usize {
        self.0.read().get(name).map_or(0, Vec::len)
    }

    fn names_matching(&self, pattern: Option<&[u8]>) -> Vec<Bytes> {
        self.0
            .read()
            .keys()
            .filter(|n| pattern.is_none_or(|p| glob::matches(p, n, false)))
            .cloned()
            .collect()
    }
}

/// Closes a subscriber over its output buffer limits, with Redis's log line.
fn disconnect(client: &ClientInfo) {
    tracing::warn!(
        "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
        client.id,
        client.addr
    );
    client.kill();
}

/// The server-wide registry.
#[derive(Default)]
pub struct PubSub {
    channels: Table,
    patterns: Table,
    shard: Table,
    /// `client-output-buffer-limit pubsub`.
    pub limits: OutputLimits,
}

/// A message encoded at most once per protocol.
struct Encoded {
    items: Vec<Reply>,
    resp2: Option<Bytes>,
    resp3: Option<Bytes>,
}

impl Encoded {
    fn new(items: Vec<Reply>) -> Encoded {
        Encoded {
            items,
            resp2: None,
            resp3: None,
        }
    }

    fn get(&mut self, proto: Protocol) -> Bytes {
        let slot = match proto {
            Protocol::Resp2 => &mut self.resp2,
            Protocol::Resp3 => &mut self.resp3,
        };
        slot.get_or_insert_with(|| {
            let mut out = BytesMut::new();
            encode(&mut out, Reply::Push(self.items.clone()), proto);
            out.freeze()
        })
        .clone()
    }
}

impl PubSub {
    fn table(&self, kind: Kind) -> &Table {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard,
        }
    }

    /// Subscribes the client to `name`; true if it was not subscribed already.
    pub fn subscribe(
        &self,
        kind: Kind,
        subs: &mut Subscriptions,
        client: &Arc<ClientInfo>,
        name: &Bytes,
    ) -> bool {
        if !subs.set_mut(kind).insert(name.clone()) {
            return false;
        }
        client.outbox.open();
        subs.opened = true;
        self.table(kind).add(name, client);
        client.subs.store(subs);
        true
    }

    /// Unsubscribes the client from `name`; true if it was subscribed.
    pub fn unsubscribe(
        &self,
        kind: Kind,
        subs: &mut Subscriptions,
        client: &ClientInfo,
        name: &[u8],
    ) -> bool {
        if !subs.set_mut(kind).remove(name) {
            return false;
        }
        self.table(kind).remove(name, client.id);
        client.subs.store(subs);
        true
    }

    /// Drops every subscription of a client (RESET, connection close).
    pub fn unsubscribe_all(&self, subs: &mut Subscriptions, client: &ClientInfo) {
        for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
            for name in std::mem::take(subs.set_mut(kind)) {
                self.table(kind).remove(&name, client.id);
            }
        }
        client.subs.store(subs);
    }

    /// Removes client `id` from the whole registry, for a connection that ended without
    /// [`PubSub::unsubscribe_all`] (a panic in a handler).
    pub fn forget(&self, id: u64) {
        for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
            self.table(kind).forget(id);
        }
    }

    /// Delivers `message` to the subscribers of `channel` (and, unless `shard`, of the matching
    /// patterns); returns how many received it.
    pub fn publish(&self, channel: &Bytes, message: &Bytes, shard: bool) -> usize {
        let mut receivers = 0;
        let (table, kind) = if shard {
            (&self.shard, "smessage")
        } else {
            (&self.channels, "message")
        };
        if let Some(list) = table.0.read().get(channel) {
            let mut msg = Encoded::new(vec![
                Reply::bulk_static(kind),
                Reply::Bulk(channel.clone()),
                Reply::Bulk(message.clone()),
            ]);
            for client in list {
                self.deliver(client, &mut msg);
                receivers += 1;
            }
        }
        if shard {
            return receivers;
        }
        for (pattern, list) in self.patterns.0.read().iter() {
            if !glob::matches(pattern, channel, false) {
                continue;
            }
            let mut msg = Encoded::new(vec![
                Reply::bulk_static("pmessage"),
                Reply::Bulk(pattern.clone()),
                Reply::Bulk(channel.clone()),
                Reply::Bulk(message.clone()),
            ]);
            for client in list {
                self.deliver(client, &mut msg);
                receivers += 1;
            }
        }
        receivers
    }

    /// Disconnects the clients whose undelivered messages stayed over the soft limit for too
    /// long (cron, once a second).
    pub fn enforce_soft_limits(&self, clients: &[Arc<ClientInfo>]) {
        let now_s = super::unix_ms() / 1000;
        for c in clients {
            if c.outbox.pending() > 0 && c.outbox.over_soft_limit(&self.limits, now_s) {
                disconnect(c);
            }
        }
    }

    fn deliver(&self, client: &ClientInfo, msg: &mut Encoded) {
        if client.is_killed() {
            return;
        }
        let proto = match client.protocol.load(Ordering::Relaxed) {
            3 => Protocol::Resp3,
            _ => Protocol::Resp2,
        };
        if !client.outbox.push(msg.get(proto), &self.limits) {
            disconnect(client);
        }
    }

    /// Publishes keyspace notifications for `events` as `notify-keyspace-events` (`flags`, see
    /// [`crate::keyspace::events`]) asks: `__keyspace@<db>__:<key>` with the event and/or
    /// `__keyevent@<db>__:<event>` with the key.
    pub fn notify(&self, flags: u16, events: Vec<KeyEvent>) {
        if events.is_empty() || (self.channels.len() == 0 && self.patterns.len() == 0) {
            return;
        }
        for ev in events {
            if flags & ev.class == 0 {
                continue;
            }
            let event = Bytes::from_static(ev.event.as_bytes());
            if flags & class::KEYSPACE != 0 {
                let mut chan = format!("__keyspace@{}__:", ev.db).into_bytes();
                chan.extend_from_slice(&ev.key);
                self.publish(&Bytes::from(chan), &event, false);
            }
            if flags & class::KEYEVENT != 0 {
                let chan = format!("__keyevent@{}__:{}", ev.db, ev.event);
                self.publish(&Bytes::from(chan), &ev.key, false);
            }
        }
    }

    /// PUBSUB CHANNELS / SHARDCHANNELS.
    pub fn channels(&self, shard: bool, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let table = if shard { &self.shard } else { &self.channels };
        table.names_matching(pattern)
    }

    /// PUBSUB NUMSUB / SHARDNUMSUB for one channel.
    pub fn numsub(&self, shard: bool, channel: &[u8]) -> usize {
        let table = if shard { &self.shard } else { &self.channels };
        table.subscribers(channel)
    }

    /// Channels with at least one subscriber (INFO's `pubsub_channels`).
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// Distinct patterns subscribed to (PUBSUB NUMPAT, INFO's `pubsub_patterns`).
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// Shard channels with at least one subscriber (INFO's `pubsubshard_channels`).
    pub fn shard_channel_count(&self) -> usize {
        self.shard.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_counts_pending_bytes_and_enforces_the_hard_limit() {
        let limits = OutputLimits::default();
        limits.set((100, 0, 0));
        let outbox = Outbox::default();
        assert!(outbox.take_inbox().is_none());
        outbox.open();
        let mut inbox = outbox.take_inbox().expect("inbox");
        assert!(outbox.take_inbox().is_none());
        assert!(outbox.push(Bytes::from(vec![b'x'; 60]), &limits));
        assert_eq!(outbox.pending(), 60);
        // The second message takes it to 120 bytes, over the hard limit.
        assert!(!outbox.push(Bytes::from(vec![b'y'; 60]), &limits));
        assert_eq!(inbox.try_recv().map(|m| m.len()), Ok(60));
        outbox.delivered(120);
        assert_eq!(outbox.pending(), 0);
    }

    #[test]
    fn soft_limit_waits_for_its_period() {
        let limits = OutputLimits::default();
        limits.set((0, 10, 5));
        let outbox = Outbox::default();
        outbox.open();
        assert!(outbox.push(Bytes::from_static(b"0123456789ab"), &limits));
        let now = outbox.soft_since.load(Ordering::Relaxed);
        assert!(now > 0);
        assert!(!outbox.over_soft_limit(&limits, now));
        assert!(!outbox.over_soft_limit(&limits, now + 5));
        assert!(outbox.over_soft_limit(&limits, now + 7));
        outbox.delivered(12);
        assert!(!outbox.over_soft_limit(&limits, now + 7));
    }
}
