//! The `struct` library Redis bundles with its Lua: `struct.pack(fmt, ...)`,
//! `struct.unpack(fmt, data [, pos])` and `struct.size(fmt)`, with the same format language and
//! error texts as Redis's copy of Roberto Ierusalimschy's struct.c.
//!
//! Format: `>` big endian, `<` little endian (the default is the machine's), `![n]` maximum
//! alignment (a power of 2; default 8), `x` one zero byte, `b`/`B` signed/unsigned char, `h`/`H`
//! short (2 bytes), `l`/`L` long and `T` size_t (8), `i[n]`/`I[n]` an n-byte integer (default
//! 4, at most 32), `f` float, `d` double, `c[n]` n characters (`c0`: the whole string when
//! packing, a length read just before when unpacking), `s` a zero-terminated string, space
//! ignored. Numbers are Lua numbers (doubles), as in Redis.

use mlua::{Lua, MultiValue, Table, Value};

/// The most bytes an `i`/`I` integer may have.
const MAX_INT_SIZE: usize = 32;
/// `!` without a number: the strictest alignment of the machine's basic types.
const MAX_ALIGN: usize = 8;

fn err<T>(msg: impl Into<String>) -> mlua::Result<T> {
    Err(mlua::Error::RuntimeError(msg.into()))
}

/// A cursor over a format string with the current endianness and alignment.
struct Format<'a> {
    fmt: &'a [u8],
    at: usize,
    little: bool,
    align: usize,
}

impl<'a> Format<'a> {
    fn new(fmt: &'a [u8]) -> Format<'a> {
        Format {
            fmt,
            at: 0,
            little: cfg!(target_endian = "little"),
            align: 1,
        }
    }

    fn next_opt(&mut self) -> Option<u8> {
        let c = *self.fmt.get(self.at)?;
        self.at += 1;
        Some(c)
    }

    /// The number right after an option, or `default` when there is none.
    fn number(&mut self, default: usize) -> mlua::Result<usize> {
        if !self.fmt.get(self.at).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut n: usize = 0;
        while let Some(d) = self.fmt.get(self.at).filter(|c| c.is_ascii_digit()) {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add((d - b'0') as usize))
                .filter(|&n| n <= i32::MAX as usize)
                .map_or_else(|| err("integral size overflow"), Ok)?;
            self.at += 1;
        }
        Ok(n)
    }

    /// The size in bytes of option `opt` (0 for control options).
    fn size(&mut self, opt: u8) -> mlua::Result<usize> {
        Ok(match opt {
            b'b' | b'B' | b'x' => 1,
            b'h' | b'H' => 2,
            b'l' | b'L' | b'T' | b'd' => 8,
            b'f' => 4,
            b'c' => self.number(1)?,
            b'i' | b'I' => {
                let n = self.number(4)?;
                if n > MAX_INT_SIZE {
                    return err(format!(
                        "integral size {n} is larger than limit of {MAX_INT_SIZE}"
                    ));
                }
                n
            }
            _ => 0,
        })
    }

    /// Padding needed before an item of `size` bytes of option `opt` at offset `len`.
    fn padding(&self, len: usize, opt: u8, size: usize) -> usize {
        if size == 0 || opt == b'c' {
            return 0;
        }
        let size = size.min(self.align);
        (size - (len & (size - 1))) & (size - 1)
    }

    /// Applies a control option (endianness, alignment, space); anything else is an error
    /// naming `func`.
    fn control(&mut self, opt: u8, func: &str) -> mlua::Result<()> {
        match opt {
            b' ' => {}
            b'>' => self.little = false,
            b'<' => self.little = true,
            b'!' => {
                let a = self.number(MAX_ALIGN)?;
                if !a.is_power_of_two() {
                    return err(format!("alignment {a} is not a power of 2"));
                }
                self.align = a;
            }
            other => {
                return err(format!(
                    "bad argument #1 to '{func}' (invalid format option '{}')",
                    other as char
                ))
            }
        }
        Ok(())
    }
}

fn number_arg(args: &[Value], i: usize, func: &str) -> mlua::Result<f64> {
    match args.get(i) {
        Some(Value::Number(n)) => Ok(*n),
        Some(Value::Integer(n)) => Ok(*n as f64),
        Some(Value::String(s)) => {
            if let Some(n) = std::str::from_utf8(&s.as_bytes())
                .ok()
                .and_then(|t| t.trim().parse::<f64>().ok())
            {
                return Ok(n);
            }
            err(format!(
                "bad argument #{} to '{func}' (number expected, got string)",
                i + 1
            ))
        }
        other => err(format!(
            "bad argument #{} to '{func}' (number expected, got {})",
            i + 1,
            other.map_or("no value", |v| v.type_name())
        )),
    }
}

fn string_arg(args: &[Value], i: usize, func: &str) -> mlua::Result<Vec<u8>> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
        Some(Value::Number(n)) => Ok(super::lua::fmt_number(*n).into_bytes()),
        Some(Value::Integer(n)) => Ok(n.to_string().into_bytes()),
        other => err(format!(
            "bad argument #{} to '{func}' (string expected, got {})",
            i + 1,
            other.map_or("no value", |v| v.type_name())
        )),
    }
}

fn put_int(out: &mut Vec<u8>, n: f64, size: usize, little: bool) {
    // As C's casts: a negative number through the signed type, truncating toward zero.
    let mut v = if n < 0.0 { n as i64 as u64 } else { n as u64 };
    let mut bytes = vec![0u8; size];
    for i in 0..size {
        let at = if little { i } else { size - 1 - i };
        bytes[at] = v as u8;
        v = v.checked_shr(8).unwrap_or(0);
    }
    out.extend_from_slice(&bytes);
}

fn get_int(data: &[u8], little: bool, signed: bool) -> f64 {
    let size = data.len();
    let mut v: u64 = 0;
    for i in 0..size {
        let b = if little { data[size - 1 - i] } else { data[i] };
        v = (v << 8) | b as u64;
    }
    if !signed {
        return v as f64;
    }
    if size * 8 < 64 && size > 0 {
        let mask = u64::MAX << (size * 8 - 1);
        if v & mask != 0 {
            v |= mask;
        }
    }
    v as i64 as f64
}

/// Prefixes an error with where the script called the library, as `luaL_error` does
/// (`user_script:3: bad argument ...`).
fn located<T>(lua: &Lua, r: mlua::Result<T>) -> mlua::Result<T> {
    r.map_err(|e| match e {
        mlua::Error::RuntimeError(msg) => {
            let place = lua
                .inspect_stack(1)
                .filter(|d| d.curr_line() > 0)
                .and_then(|d| {
                    let line = d.curr_line();
                    d.source().short_src.map(|src| format!("{src}:{line}: "))
                });
            mlua::Error::RuntimeError(format!("{}{msg}", place.unwrap_or_default()))
        }
        other => other,
    })
}

fn pack(lua: &Lua, args: MultiValue) -> mlua::Result<mlua::String> {
    let args: Vec<Value> = args.into_iter().collect();
    let fmt = string_arg(&args, 0, "pack")?;
    let mut f = Format::new(&fmt);
    let mut out = Vec::new();
    let mut arg = 1;
    while let Some(opt) = f.next_opt() {
        let mut size = f.size(opt)?;
        let pad = f.padding(out.len(), opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = number_arg(&args, arg, "pack")?;
                arg += 1;
                put_int(&mut out, n, size, f.little);
            }
            b'x' => out.push(0),
            b'f' => {
                let v = number_arg(&args, arg, "pack")? as f32;
                arg += 1;
                out.extend_from_slice(&if f.little {
                    v.to_le_bytes()
                } else {
                    v.to_be_bytes()
                });
            }
            b'd' => {
                let v = number_arg(&args, arg, "pack")?;
                arg += 1;
                out.extend_from_slice(&if f.little {
                    v.to_le_bytes()
                } else {
                    v.to_be_bytes()
                });
            }
            b'c' | b's' => {
                let s = string_arg(&args, arg, "pack")?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    return err(format!(
                        "bad argument #{} to 'pack' (string too short)",
                        arg + 1
                    ));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            other => f.control(other, "pack")?,
        }
    }
    lua.create_string(&out)
}

fn unpack(lua: &Lua, args: MultiValue) -> mlua::Result<MultiValue> {
    let args: Vec<Value> = args.into_iter().collect();
    let fmt = string_arg(&args, 0, "unpack")?;
    let data = string_arg(&args, 1, "unpack")?;
    let start = match args.get(2) {
        None | Some(Value::Nil) => 1.0,
        Some(_) => number_arg(&args, 2, "unpack")?,
    };
    if start < 1.0 {
        return err("bad argument #3 to 'unpack' (offset must be 1 or greater)");
    }
    let mut pos = start as usize - 1;
    let mut f = Format::new(&fmt);
    let mut out: Vec<Value> = Vec::new();
    let too_short = || err("bad argument #2 to 'unpack' (data string too short)");
    while let Some(opt) = f.next_opt() {
        let mut size = f.size(opt)?;
        pos += f.padding(pos, opt, size);
        if size > data.len() || pos > data.len() - size {
            return too_short();
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let signed = opt.is_ascii_lowercase();
                out.push(Value::Number(get_int(
                    &data[pos..pos + size],
                    f.little,
                    signed,
                )));
            }
            b'x' => {}
            b'f' => {
                let b: [u8; 4] = data[pos..pos + 4].try_into().expect("4 bytes");
                let v = if f.little {
                    f32::from_le_bytes(b)
                } else {
                    f32::from_be_bytes(b)
                };
                out.push(Value::Number(v as f64));
            }
            b'd' => {
                let b: [u8; 8] = data[pos..pos + 8].try_into().expect("8 bytes");
                let v = if f.little {
                    f64::from_le_bytes(b)
                } else {
                    f64::from_be_bytes(b)
                };
                out.push(Value::Number(v));
            }
            b'c' => {
                if size == 0 {
                    let Some(Value::Number(n)) = out.pop() else {
                        return err("format 'c0' needs a previous size");
                    };
                    size = if n > 0.0 { n as usize } else { 0 };
                    if size > data.len() || pos > data.len() - size {
                        return too_short();
                    }
                }
                out.push(Value::String(lua.create_string(&data[pos..pos + size])?));
            }
            b's' => {
                let Some(end) = data[pos..].iter().position(|&b| b == 0) else {
                    return err("unfinished string in data");
                };
                out.push(Value::String(lua.create_string(&data[pos..pos + end])?));
                size = end + 1;
            }
            other => f.control(other, "unpack")?,
        }
        pos += size;
    }
    out.push(Value::Number((pos + 1) as f64));
    Ok(MultiValue::from_iter(out))
}

fn size(_: &Lua, fmt: mlua::String) -> mlua::Result<f64> {
    let fmt = fmt.as_bytes().to_vec();
    let mut f = Format::new(&fmt);
    let mut pos = 0;
    while let Some(opt) = f.next_opt() {
        let size = f.size(opt)?;
        pos += f.padding(pos, opt, size);
        if opt == b's' {
            return err("bad argument #1 to 'size' (option 's' has no fixed size)");
        }
        if opt == b'c' && size == 0 {
            return err("bad argument #1 to 'size' (option 'c0' has no fixed size)");
        }
        if !opt.is_ascii_alphanumeric() {
            f.control(opt, "size")?;
        }
        pos += size;
    }
    Ok(pos as f64)
}

/// The `struct` table.
pub fn library(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(
        "pack",
        lua.create_function(|lua, args| located(lua, pack(lua, args)))?,
    )?;
    t.raw_set(
        "unpack",
        lua.create_function(|lua, args| located(lua, unpack(lua, args)))?,
    )?;
    t.raw_set(
        "size",
        lua.create_function(|lua, fmt| located(lua, size(lua, fmt)))?,
    )?;
    Ok(t)
}
