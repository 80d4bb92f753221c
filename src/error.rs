//! Error kinds and every error text a client can see.
//!
//! Redis's error strings are part of the wire contract (clients and tests match on them), so they
//! live here, once, as constants. A [`CmdError`] becomes a RESP error reply and the connection stays
//! open; a [`ProtocolError`](crate::protocol::ProtocolError) closes the connection; storage-fatal
//! errors (later issues) stop writes.

use std::fmt;

pub const SYNTAX: &str = "ERR syntax error";
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
pub const INT32_RANGE: &str =
    "ERR value is out of range, value must between -2147483648 and 2147483647";
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const HLL_WRONGTYPE: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
pub const HLL_CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";
pub const NO_SUCH_KEY: &str = "ERR no such key";
pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
pub const NAN_OR_INF: &str = "ERR increment would produce NaN or Infinity";
pub const DB_INDEX: &str = "ERR DB index is out of range";
pub const INVALID_EXPIRE: &str = "ERR invalid expire time in '{}' command";
pub const NOAUTH: &str = "NOAUTH Authentication required.";
pub const LOADING: &str = "LOADING Redis is loading the dataset in memory";
pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
pub const AUTH_NOT_CONFIGURED: &str = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
pub const STRING_TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
pub const BIT_OFFSET: &str = "ERR bit offset is not an integer or out of range";
pub const BIT_VALUE: &str = "ERR bit is not an integer or out of range";
pub const OFFSET_RANGE: &str = "ERR offset is out of range";
pub const BIT_ARG: &str = "ERR The bit argument must be 1 or 0.";
pub const BITOP_NOT_ARGS: &str = "ERR BITOP NOT must be called with a single source key.";
pub const BITFIELD_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
pub const BITFIELD_OVERFLOW: &str = "ERR Invalid OVERFLOW type specified";
pub const BITFIELD_RO_WRITE: &str = "ERR BITFIELD_RO only supports the GET subcommand";
pub const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
pub const MAX_CLIENTS: &str = "ERR max number of clients reached";
pub const SAME_OBJECT: &str = "ERR source and destination objects are the same";
pub const NOPROTO: &str = "NOPROTO unsupported protocol version";

/// A command failed; the text is sent as a RESP error and the connection keeps going.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CmdError(pub String);

impl CmdError {
    pub fn new(text: impl Into<String>) -> CmdError {
        CmdError(text.into())
    }

    pub fn syntax() -> CmdError {
        CmdError::new(SYNTAX)
    }

    pub fn not_integer() -> CmdError {
        CmdError::new(NOT_INTEGER)
    }

    pub fn wrongtype() -> CmdError {
        CmdError::new(WRONGTYPE)
    }

    /// `-ERR wrong number of arguments for 'get' command`
    pub fn arity(name: &str) -> CmdError {
        CmdError(format!(
            "ERR wrong number of arguments for '{}' command",
            name.to_ascii_lowercase()
        ))
    }

    /// `-ERR unknown command 'FOO', with args beginning with: 'a' 'b' `
    pub fn unknown_command(name: &[u8], args: &[bytes::Bytes]) -> CmdError {
        let mut text = format!(
            "ERR unknown command '{}', with args beginning with: ",
            printable(name, 128)
        );
        for arg in args.iter().take(16) {
            text.push_str(&format!("'{}' ", printable(arg, 128)));
        }
        CmdError(text)
    }

    /// `-ERR unknown subcommand 'FOO'. Try CONFIG HELP.`
    pub fn unknown_subcommand(sub: &[u8], cmd: &str) -> CmdError {
        CmdError(format!(
            "ERR unknown subcommand '{}'. Try {} HELP.",
            printable(sub, 128),
            cmd.to_ascii_uppercase()
        ))
    }

    /// `-ERR invalid expire time in 'set' command`
    pub fn invalid_expire(cmd: &str) -> CmdError {
        CmdError(INVALID_EXPIRE.replace("{}", &cmd.to_ascii_lowercase()))
    }
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CmdError {}

/// Renders client bytes for an error message the way Redis does: truncated, and with anything that
/// would break the one-line error frame replaced.
pub fn printable(bytes: &[u8], max: usize) -> String {
    let cut = &bytes[..bytes.len().min(max)];
    String::from_utf8_lossy(cut).replace(['\r', '\n'], " ")
}

pub type CmdResult<T> = Result<T, CmdError>;
