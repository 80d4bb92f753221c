//! Value types held by keys. Issue 2 has strings only; later issues add the collection types and
//! their compact binary encodings (docs/FORMAT.md).

use bytes::Bytes;

/// A key's value. Strings are reference-counted `Bytes`: a reader clones the handle, a writer
/// that finds the buffer shared copies it first (copy-on-write).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Str(Bytes),
}

/// The type names TYPE and SCAN ... TYPE use.
pub const TYPE_NAMES: &[&str] = &["string", "list", "set", "zset", "hash", "stream"];

impl Value {
    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
        }
    }

    /// The name OBJECT ENCODING reports, following Redis's rules for strings: `int` for a
    /// canonical 64-bit integer, `embstr` up to 44 bytes, `raw` above.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => {
                if s.len() <= 20 && crate::protocol::parse_i64(s).is_some() {
                    "int"
                } else if s.len() <= 44 {
                    "embstr"
                } else {
                    "raw"
                }
            }
        }
    }

    /// Approximate heap bytes held by the value (for MEMORY USAGE and the memory budget).
    pub fn mem_size(&self) -> usize {
        match self {
            Value::Str(s) => s.len(),
        }
    }
}
