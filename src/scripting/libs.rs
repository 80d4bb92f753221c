//! Lua libraries Redis bundles: `bit` (LuaBitOp's API on 32-bit integers), `cjson`
//! (encode/decode through serde_json) and `cmsgpack` (lua-cmsgpack's encoding); `struct` is in
//! `structlib.rs`.

use std::sync::Arc;

use mlua::{Lua, MultiValue, Table, Value};
use parking_lot::Mutex;

use super::lua::fmt_number;

/// LuaBitOp's number -> int32 conversion: modulo 2^32, rounding to nearest.
fn tobit(v: &Value) -> mlua::Result<i32> {
    let n = match v {
        Value::Integer(i) => *i as f64,
        Value::Number(n) => *n,
        Value::String(s) => s
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .ok_or_else(|| mlua::Error::RuntimeError("bad argument (number expected)".into()))?,
        other => {
            return Err(mlua::Error::RuntimeError(format!(
                "bad argument (number expected, got {})",
                other.type_name()
            )))
        }
    };
    let r = n.round_ties_even().rem_euclid(4294967296.0);
    Ok(r as u32 as i32)
}

fn args_bits(args: &MultiValue) -> mlua::Result<Vec<i32>> {
    args.iter().map(tobit).collect()
}

fn first(args: &MultiValue) -> mlua::Result<i32> {
    tobit(args.front().unwrap_or(&Value::Nil))
}

fn shift_count(args: &MultiValue) -> mlua::Result<u32> {
    Ok((tobit(args.get(1).unwrap_or(&Value::Nil))? & 31) as u32)
}

/// The `bit` library.
pub fn bit(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let num = |x: i32| x as f64;
    t.raw_set(
        "tobit",
        lua.create_function(move |_, a: MultiValue| Ok(num(first(&a)?)))?,
    )?;
    t.raw_set(
        "bnot",
        lua.create_function(move |_, a: MultiValue| Ok(num(!first(&a)?)))?,
    )?;
    t.raw_set(
        "band",
        lua.create_function(move |_, a: MultiValue| {
            Ok(num(args_bits(&a)?.into_iter().fold(-1, |x, y| x & y)))
        })?,
    )?;
    t.raw_set(
        "bor",
        lua.create_function(move |_, a: MultiValue| {
            Ok(num(args_bits(&a)?.into_iter().fold(0, |x, y| x | y)))
        })?,
    )?;
    t.raw_set(
        "bxor",
        lua.create_function(move |_, a: MultiValue| {
            Ok(num(args_bits(&a)?.into_iter().fold(0, |x, y| x ^ y)))
        })?,
    )?;
    t.raw_set(
        "lshift",
        lua.create_function(move |_, a: MultiValue| {
            Ok(num(((first(&a)? as u32) << shift_count(&a)?) as i32))
        })?,
    )?;
    t.raw_set(
        "rshift",
        lua.create_function(move |_, a: MultiValue| {
            Ok(num(((first(&a)? as u32) >> shift_count(&a)?) as i32))
        })?,
    )?;
    t.raw_set(
        "arshift",
        lua.create_function(move |_, a: MultiValue| Ok(num(first(&a)? >> shift_count(&a)?)))?,
    )?;
    t.raw_set(
        "rol",
        lua.create_function(move |_, a: MultiValue| {
            Ok(num((first(&a)? as u32).rotate_left(shift_count(&a)?) as i32))
        })?,
    )?;
    t.raw_set(
        "ror",
        lua.create_function(move |_, a: MultiValue| {
            Ok(num(
                (first(&a)? as u32).rotate_right(shift_count(&a)?) as i32
            ))
        })?,
    )?;
    t.raw_set(
        "bswap",
        lua.create_function(move |_, a: MultiValue| Ok(num(first(&a)?.swap_bytes())))?,
    )?;
    t.raw_set(
        "tohex",
        lua.create_function(move |_, a: MultiValue| {
            let x = first(&a)? as u32;
            let n = match a.get(1) {
                None | Some(Value::Nil) => 8,
                Some(v) => tobit(v)?,
            };
            let (upper, width) = if n < 0 {
                (true, (-(n as i64)).min(8) as usize)
            } else {
                (false, (n as usize).min(8))
            };
            let masked = if width >= 8 {
                x as u64
            } else {
                (x as u64) & ((1u64 << (width * 4)) - 1)
            };
            Ok(if upper {
                format!("{masked:0width$X}")
            } else {
                format!("{masked:0width$x}")
            })
        })?,
    )?;
    Ok(t)
}

/// cjson's settings (changed by `cjson.encode_max_depth()` and friends, per interpreter).
#[derive(Clone, Copy)]
struct CjsonConfig {
    encode_max_depth: usize,
    decode_max_depth: usize,
    encode_invalid_numbers: bool,
}

/// The `cjson` library: encode, decode, `null` and the settings functions.
pub fn cjson(lua: &Lua) -> mlua::Result<Table> {
    let config = Arc::new(Mutex::new(CjsonConfig {
        encode_max_depth: 1000,
        decode_max_depth: 1000,
        encode_invalid_numbers: false,
    }));
    let t = lua.create_table()?;
    let cfg = config.clone();
    t.raw_set(
        "encode",
        lua.create_function(move |_, v: Value| {
            let mut out = String::new();
            let c = *cfg.lock();
            encode(&v, &mut out, 0, &c)?;
            Ok(out)
        })?,
    )?;
    let cfg = config.clone();
    t.raw_set(
        "decode",
        lua.create_function(move |lua, s: mlua::String| {
            let json: serde_json::Value = serde_json::from_slice(&s.as_bytes()).map_err(|e| {
                mlua::Error::RuntimeError(format!("Expected value but found invalid token: {e}"))
            })?;
            let max = cfg.lock().decode_max_depth;
            if json_depth(&json) > max {
                return Err(mlua::Error::RuntimeError(format!(
                    "Found too many nested data structures ({}) at character 1",
                    max + 1
                )));
            }
            decode(lua, json)
        })?,
    )?;
    t.raw_set("null", Value::NULL)?;
    let cfg = config.clone();
    t.raw_set(
        "encode_max_depth",
        lua.create_function(move |_, v: Option<f64>| {
            let mut c = cfg.lock();
            if let Some(v) = v {
                c.encode_max_depth = v.clamp(1.0, CJSON_MAX_DEPTH) as usize;
            }
            Ok(c.encode_max_depth as f64)
        })?,
    )?;
    let cfg = config.clone();
    t.raw_set(
        "decode_max_depth",
        lua.create_function(move |_, v: Option<f64>| {
            let mut c = cfg.lock();
            if let Some(v) = v {
                c.decode_max_depth = v.clamp(1.0, CJSON_MAX_DEPTH) as usize;
            }
            Ok(c.decode_max_depth as f64)
        })?,
    )?;
    let cfg = config.clone();
    t.raw_set(
        "encode_invalid_numbers",
        lua.create_function(move |_, v: Option<bool>| {
            let mut c = cfg.lock();
            if let Some(v) = v {
                c.encode_invalid_numbers = v;
            }
            Ok(c.encode_invalid_numbers)
        })?,
    )?;
    // Settings Thermocline accepts and ignores (its encoder keeps no buffer, never encodes
    // sparse arrays and always uses 14 significant digits).
    for name in [
        "encode_keep_buffer",
        "encode_sparse_array",
        "encode_number_precision",
        "decode_invalid_numbers",
    ] {
        t.raw_set(name, lua.create_function(|_, _: MultiValue| Ok(true))?)?;
    }
    Ok(t)
}

fn json_depth(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Array(items) => 1 + items.iter().map(json_depth).max().unwrap_or(0),
        serde_json::Value::Object(map) => 1 + map.values().map(json_depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn encode(v: &Value, out: &mut String, depth: usize, cfg: &CjsonConfig) -> mlua::Result<()> {
    match v {
        Value::Nil => out.push_str("null"),
        Value::LightUserData(p) if p.0.is_null() => out.push_str("null"),
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Integer(i) => out.push_str(&i.to_string()),
        Value::Number(n) => {
            if !n.is_finite() && !cfg.encode_invalid_numbers {
                return Err(mlua::Error::RuntimeError(
                    "Cannot serialise number: must not be NaN or Inf".into(),
                ));
            }
            out.push_str(&fmt_number(*n));
        }
        Value::String(s) => {
            let text = s.to_string_lossy();
            out.push_str(&serde_json::Value::String(text).to_string());
        }
        Value::Table(t) => {
            if depth + 1 > cfg.encode_max_depth {
                return Err(mlua::Error::RuntimeError(format!(
                    "Cannot serialise, excessive nesting ({})",
                    depth + 1
                )));
            }
            // An array when the keys are exactly 1..n (n > 0), as cjson decides.
            let mut max = 0usize;
            let mut count = 0usize;
            let mut array = true;
            for pair in t.pairs::<Value, Value>() {
                let (k, _) = pair?;
                count += 1;
                match k {
                    Value::Integer(i) if i >= 1 => max = max.max(i as usize),
                    Value::Number(n) if n >= 1.0 && n.fract() == 0.0 => max = max.max(n as usize),
                    _ => array = false,
                }
            }
            if array && count > 0 && max == count {
                out.push('[');
                for i in 1..=max {
                    if i > 1 {
                        out.push(',');
                    }
                    encode(&t.raw_get::<Value>(i)?, out, depth + 1, cfg)?;
                }
                out.push(']');
            } else {
                out.push('{');
                let mut firstk = true;
                for pair in t.pairs::<Value, Value>() {
                    let (k, v) = pair?;
                    let key = match &k {
                        Value::String(s) => s.to_string_lossy(),
                        Value::Integer(i) => i.to_string(),
                        Value::Number(n) => fmt_number(*n),
                        _ => {
                            return Err(mlua::Error::RuntimeError(
                                "Cannot serialise table: table key must be a number or string"
                                    .into(),
                            ))
                        }
                    };
                    if !firstk {
                        out.push(',');
                    }
                    firstk = false;
                    out.push_str(&serde_json::Value::String(key).to_string());
                    out.push(':');
                    encode(&v, out, depth + 1, cfg)?;
                }
                out.push('}');
            }
        }
        other => {
            return Err(mlua::Error::RuntimeError(format!(
                "Cannot serialise {}: type not supported",
                other.type_name()
            )))
        }
    }
    Ok(())
}

fn decode(lua: &Lua, v: serde_json::Value) -> mlua::Result<Value> {
    Ok(match v {
        serde_json::Value::Null => Value::NULL,
        serde_json::Value::Bool(b) => Value::Boolean(b),
        serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Value::String(lua.create_string(&s)?),
        serde_json::Value::Array(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.into_iter().enumerate() {
                t.raw_set(i + 1, decode(lua, item)?)?;
            }
            Value::Table(t)
        }
        serde_json::Value::Object(map) => {
            let t = lua.create_table_with_capacity(0, map.len())?;
            for (k, item) in map {
                t.raw_set(k, decode(lua, item)?)?;
            }
            Value::Table(t)
        }
    })
}

/// lua-cmsgpack's nesting limit: deeper tables are packed as nil.
const MSGPACK_MAX_NESTING: usize = 16;
/// Deeper input is refused rather than recursed into (a hostile payload must not overflow the
/// stack).
const MSGPACK_MAX_DECODE_DEPTH: usize = 128;
/// The most cjson.encode_max_depth / decode_max_depth may be set to, for the same reason.
const CJSON_MAX_DEPTH: f64 = 1000.0;

/// The `cmsgpack` library: pack, unpack, unpack_one, unpack_limit (lua-cmsgpack's encoding).
pub fn cmsgpack(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(
        "pack",
        lua.create_function(|lua, args: MultiValue| {
            if args.is_empty() {
                return Err(mlua::Error::RuntimeError(
                    "MessagePack pack needs input.".into(),
                ));
            }
            let mut out = Vec::new();
            for v in args.iter() {
                msgpack_encode(v, &mut out, 0)?;
            }
            lua.create_string(&out)
        })?,
    )?;
    t.raw_set(
        "unpack",
        lua.create_function(|lua, s: mlua::String| {
            let bytes = s.as_bytes();
            let mut pos = 0;
            let mut values = MultiValue::new();
            while pos < bytes.len() {
                values.push_back(msgpack_decode(lua, &bytes, &mut pos, 0)?);
            }
            Ok(values)
        })?,
    )?;
    t.raw_set(
        "unpack_one",
        lua.create_function(|lua, (s, offset): (mlua::String, Option<i64>)| {
            unpack_limited(lua, &s.as_bytes(), 1, offset.unwrap_or(0))
        })?,
    )?;
    t.raw_set(
        "unpack_limit",
        lua.create_function(
            |lua, (s, limit, offset): (mlua::String, i64, Option<i64>)| {
                unpack_limited(lua, &s.as_bytes(), limit, offset.unwrap_or(0))
            },
        )?,
    )?;
    Ok(t)
}

/// Decodes up to `limit` objects (all of them when `limit` <= 0) from `offset`; returns the
/// offset after them (-1 at the end) followed by the objects.
fn unpack_limited(lua: &Lua, bytes: &[u8], limit: i64, offset: i64) -> mlua::Result<MultiValue> {
    if offset < 0 || offset as usize > bytes.len() {
        return Err(mlua::Error::RuntimeError(format!(
            "Start offset {offset} greater than input length {}.",
            bytes.len()
        )));
    }
    let mut pos = offset as usize;
    let mut values = Vec::new();
    while pos < bytes.len() && (limit <= 0 || (values.len() as i64) < limit) {
        values.push(msgpack_decode(lua, bytes, &mut pos, 0)?);
    }
    let next = if pos >= bytes.len() { -1 } else { pos as i64 };
    let mut out = MultiValue::new();
    out.push_back(Value::Number(next as f64));
    for v in values {
        out.push_back(v);
    }
    Ok(out)
}

fn msgpack_int(n: i64, out: &mut Vec<u8>) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2147483648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn msgpack_len(len: usize, fix: u8, fix_max: usize, codes: [u8; 3], out: &mut Vec<u8>) {
    if len < fix_max {
        out.push(fix | len as u8);
    } else if codes[0] != 0 && len <= 0xff {
        out.extend_from_slice(&[codes[0], len as u8]);
    } else if len <= 0xffff {
        out.push(codes[1]);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(codes[2]);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

fn msgpack_encode(v: &Value, out: &mut Vec<u8>, level: usize) -> mlua::Result<()> {
    match v {
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => msgpack_int(*i, out),
        Value::Number(n) => {
            if n.is_finite() && n.fract() == 0.0 && *n >= -9.2e18 && *n <= 9.2e18 {
                msgpack_int(*n as i64, out);
            } else if (*n as f32) as f64 == *n || n.is_nan() {
                out.push(0xca);
                out.extend_from_slice(&(*n as f32).to_be_bytes());
            } else {
                out.push(0xcb);
                out.extend_from_slice(&n.to_be_bytes());
            }
        }
        Value::String(s) => {
            let b = s.as_bytes();
            msgpack_len(b.len(), 0xa0, 32, [0xd9, 0xda, 0xdb], out);
            out.extend_from_slice(&b);
        }
        Value::Table(t) if level < MSGPACK_MAX_NESTING => {
            let mut count = 0usize;
            let mut max = 0usize;
            let mut array = true;
            for pair in t.pairs::<Value, Value>() {
                let (k, _) = pair?;
                count += 1;
                match k {
                    Value::Integer(i) if i >= 1 => max = max.max(i as usize),
                    Value::Number(n) if n >= 1.0 && n.fract() == 0.0 => max = max.max(n as usize),
                    _ => array = false,
                }
            }
            if array && max == count {
                msgpack_len(count, 0x90, 16, [0, 0xdc, 0xdd], out);
                for i in 1..=count {
                    msgpack_encode(&t.raw_get::<Value>(i)?, out, level + 1)?;
                }
            } else {
                msgpack_len(count, 0x80, 16, [0, 0xde, 0xdf], out);
                for pair in t.pairs::<Value, Value>() {
                    let (k, v) = pair?;
                    msgpack_encode(&k, out, level + 1)?;
                    msgpack_encode(&v, out, level + 1)?;
                }
            }
        }
        _ => out.push(0xc0),
    }
    Ok(())
}

fn msgpack_decode(lua: &Lua, b: &[u8], pos: &mut usize, depth: usize) -> mlua::Result<Value> {
    if depth > MSGPACK_MAX_DECODE_DEPTH {
        return Err(mlua::Error::RuntimeError(
            "Bad data format in input.".into(),
        ));
    }
    let bad = || mlua::Error::RuntimeError("Missing bytes in input.".into());
    let take = |pos: &mut usize, n: usize| -> mlua::Result<&[u8]> {
        let s = b.get(*pos..*pos + n).ok_or_else(bad)?;
        *pos += n;
        Ok(s)
    };
    let be = |s: &[u8]| s.iter().fold(0u64, |acc, &x| (acc << 8) | x as u64);
    let code = take(pos, 1)?[0];
    let num = |n: f64| Ok(Value::Number(n));
    match code {
        0x00..=0x7f => num(code as f64),
        0xe0..=0xff => num(code as i8 as f64),
        0xc0 => Ok(Value::Nil),
        0xc2 => Ok(Value::Boolean(false)),
        0xc3 => Ok(Value::Boolean(true)),
        0xcc => num(take(pos, 1)?[0] as f64),
        0xcd => num(be(take(pos, 2)?) as f64),
        0xce => num(be(take(pos, 4)?) as f64),
        0xcf => num(be(take(pos, 8)?) as f64),
        0xd0 => num(take(pos, 1)?[0] as i8 as f64),
        0xd1 => num(be(take(pos, 2)?) as u16 as i16 as f64),
        0xd2 => num(be(take(pos, 4)?) as u32 as i32 as f64),
        0xd3 => num(be(take(pos, 8)?) as i64 as f64),
        0xca => num(f32::from_bits(be(take(pos, 4)?) as u32) as f64),
        0xcb => num(f64::from_bits(be(take(pos, 8)?))),
        0xa0..=0xbf | 0xd9 | 0xda | 0xdb | 0xc4 | 0xc5 | 0xc6 => {
            let len = match code {
                0xa0..=0xbf => (code & 0x1f) as usize,
                0xd9 | 0xc4 => take(pos, 1)?[0] as usize,
                0xda | 0xc5 => be(take(pos, 2)?) as usize,
                _ => be(take(pos, 4)?) as usize,
            };
            Ok(Value::String(lua.create_string(take(pos, len)?)?))
        }
        0x90..=0x9f | 0xdc | 0xdd => {
            let len = match code {
                0x90..=0x9f => (code & 0x0f) as usize,
                0xdc => be(take(pos, 2)?) as usize,
                _ => be(take(pos, 4)?) as usize,
            };
            let t = lua.create_table()?;
            for i in 1..=len {
                t.raw_set(i, msgpack_decode(lua, b, pos, depth + 1)?)?;
            }
            Ok(Value::Table(t))
        }
        0x80..=0x8f | 0xde | 0xdf => {
            let len = match code {
                0x80..=0x8f => (code & 0x0f) as usize,
                0xde => be(take(pos, 2)?) as usize,
                _ => be(take(pos, 4)?) as usize,
            };
            let t = lua.create_table()?;
            for _ in 0..len {
                let k = msgpack_decode(lua, b, pos, depth + 1)?;
                let v = msgpack_decode(lua, b, pos, depth + 1)?;
                if !k.is_nil() {
                    t.raw_set(k, v)?;
                }
            }
            Ok(Value::Table(t))
        }
        _ => Err(mlua::Error::RuntimeError(
            "Bad data format in input.".into(),
        )),
    }
}
