//! The wire protocol: requests in, replies out. Knows nothing of keys, commands or the server.
//!
//! [`request`] parses what clients send (RESP multibulk and inline commands) with Redis's limits
//! and error texts; [`reply`] holds the protocol-neutral [`Reply`] and encodes it as RESP2 or
//! RESP3 with the `redis-protocol` crate.

pub mod reply;
pub mod request;

pub use reply::{encode, format_double, Protocol, Reply};
pub use request::{parse_i64, split_args, Args, Limits, ProtocolError, RequestParser};
