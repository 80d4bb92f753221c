//! The Lua libraries Redis bundles that Thermocline provides: `bit` (LuaBitOp's API on 32-bit
//! integers) and `cjson` (encode/decode through serde_json). `cmsgpack` and `struct` are not
//! provided: scripts that use them get the nonexistent-global error.

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
                c.encode_max_depth = v.max(1.0) as usize;
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
                c.decode_max_depth = v.max(1.0) as usize;
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
