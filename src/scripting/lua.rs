//! The Lua 5.1 engine: a sandboxed interpreter, the `redis.*` API, and Redis's conversions
//! between Lua values and replies in both directions.
//!
//! The sandbox follows Redis 7: only the allowed builtins and libraries exist; the global table
//! is an empty, read-only proxy over a hidden table of builtins, so reading a missing global
//! raises "Script attempted to access nonexistent global variable" and creating or changing one
//! raises "Attempt to modify a readonly table" (the library tables `redis`, `string`, `cjson`,
//! `bit`... are proxied the same way). There is no io, os (except `os.clock`), loadfile, dofile,
//! require/package or debug.
//!
//! `redis.call` and `redis.pcall` are created for each run inside a Lua scope, borrowing the
//! locked keyspace view the script holds: commands run through the command table and the same
//! handlers as from a client ([`crate::cmd::run_on_view`]). Errors are built by a message handler
//! that records where they happened, as Redis's `__redis__err__handler` does, and become
//! `ERR ... script: <name>, on @user_script:<line>.` replies. A count hook checks the kill flag.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use mlua::{Function, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value, VmState};

use super::{sha1_hex, Control, KILLED};
use crate::cmd::{flags, CommandTable, Ctx, Resolve};
use crate::error::{CmdError, CmdResult};
use crate::protocol::{format_double, Protocol, Reply};
use crate::server::clients::Client;

/// How often (in VM instructions) the hook looks at the kill flag.
const HOOK_EVERY: u32 = 1000;
/// How long library code may run in FUNCTION LOAD (as Redis's 500 ms).
const LOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);
/// Replies nested deeper than this are cut (Lua's C stack is limited).
const MAX_DEPTH: usize = 200;

/// Script flags from an EVAL shebang or `redis.register_function`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScriptFlags {
    pub no_writes: bool,
    pub allow_oom: bool,
    pub allow_stale: bool,
    pub no_cluster: bool,
    pub allow_cross_slot_keys: bool,
    /// An EVAL script without a shebang (Redis's "compatibility mode").
    pub compat: bool,
}

impl ScriptFlags {
    /// Sets the flag named `name`; false for an unknown name.
    pub fn set(&mut self, name: &str) -> bool {
        match name {
            "no-writes" => self.no_writes = true,
            "allow-oom" => self.allow_oom = true,
            "allow-stale" => self.allow_stale = true,
            "no-cluster" => self.no_cluster = true,
            "allow-cross-slot-keys" => self.allow_cross_slot_keys = true,
            _ => return false,
        }
        true
    }

    /// The flag names, in Redis's order (FUNCTION LIST).
    pub fn names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        for (on, name) in [
            (self.no_writes, "no-writes"),
            (self.allow_oom, "allow-oom"),
            (self.allow_stale, "allow-stale"),
            (self.no_cluster, "no-cluster"),
            (self.allow_cross_slot_keys, "allow-cross-slot-keys"),
        ] {
            if on {
                v.push(name);
            }
        }
        v
    }
}

/// An error a script raised through the Redis API (redis.call, the kill hook): the full reply
/// text, code included.
#[derive(Debug)]
pub struct ScriptError(pub String);

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScriptError {}

/// The innermost error of a chain of callback errors.
fn root(e: &mlua::Error) -> &mlua::Error {
    match e {
        mlua::Error::CallbackError { cause, .. } => root(cause),
        mlua::Error::WithContext { cause, .. } => root(cause),
        other => other,
    }
}

/// The text of an error raised in Rust code, as Lua would see it.
fn error_message(e: &mlua::Error) -> String {
    match root(e) {
        mlua::Error::ExternalError(x) => match x.downcast_ref::<ScriptError>() {
            Some(s) => s.0.clone(),
            None => format!("ERR {x}"),
        },
        mlua::Error::RuntimeError(m) => format!("ERR {m}"),
        other => format!("ERR {other}"),
    }
}

fn script_err(text: impl Into<String>) -> mlua::Error {
    mlua::Error::external(ScriptError(text.into()))
}

/// Lua's `%.14g`: how Lua 5.1 turns a number into a string.
pub fn fmt_number(n: f64) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    if n.is_infinite() {
        return if n < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    if n == 0.0 {
        return if n.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let sci = format!("{n:.13e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..14).contains(&exp) {
        let m = trim_fraction(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{:02}", exp.abs());
    }
    let decimals = (13 - exp).max(0) as usize;
    trim_fraction(&format!("{n:.decimals$}")).to_string()
}

fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// The Lua code that builds the sandbox. It receives the table of builtins to keep and
/// returns the function that makes read-only proxies and the error function for them.
const SANDBOX: &str = r#"
local B, check_kill, error_table = ...
local raw_pcall, raw_xpcall, raw_type = pcall, xpcall, type
-- A killed script must not survive by catching the kill error: both pcalls re-raise it.
local function after_xpcall(...)
  check_kill()
  return ...
end
-- pcall of redis.call gives the error as Redis's {err=...} table.
local function after_pcall(ok, ...)
  check_kill()
  if not ok and raw_type((...)) == 'userdata' then
    return ok, error_table((...))
  end
  return ok, ...
end
B.pcall = function(...) return after_pcall(raw_pcall(...)) end
B.xpcall = function(...) return after_xpcall(raw_xpcall(...)) end
local raw_setmetatable, raw_rawset, raw_error, raw_tostring = setmetatable, rawset, error, tostring
local protected = raw_setmetatable({}, {__mode = 'k'})
local function readonly()
  raw_error('Attempt to modify a readonly table', 2)
end
local guard = raw_setmetatable({}, {__newindex = readonly, __metatable = false})
protected[guard] = true
local function protect(real)
  local p = raw_setmetatable({}, {__index = real, __newindex = readonly, __metatable = guard})
  protected[p] = true
  return p
end
B.setmetatable = function(t, mt)
  if protected[t] then raw_error('Attempt to modify a readonly table', 2) end
  return raw_setmetatable(t, mt)
end
B.rawset = function(t, k, v)
  if protected[t] then raw_error('Attempt to modify a readonly table', 2) end
  return raw_rawset(t, k, v)
end
-- Precompiled (binary) chunks are refused, as in Redis: load them and get nil.
local raw_loadstring, raw_type, raw_concat = loadstring, type, table.concat
local function is_binary(s) return raw_type(s) == 'string' and s:byte(1) == 27 end
B.loadstring = function(s, name)
  if is_binary(s) then return nil, 'binary chunks are not allowed' end
  return raw_loadstring(s, name)
end
B.load = function(src, name)
  if raw_type(src) == 'function' then
    local parts = {}
    while true do
      local piece = src()
      if piece == nil or piece == '' then break end
      parts[#parts + 1] = piece
    end
    src = raw_concat(parts)
  end
  if is_binary(src) then return nil, 'binary chunks are not allowed' end
  return raw_loadstring(src, name)
end
local raw_setfenv = setfenv
B.setfenv = function(f, env)
  if f == 0 then raw_error('Attempt to modify a readonly table', 2) end
  return raw_setfenv(f, env)
end
for _, name in ipairs({'string', 'table', 'math', 'coroutine', 'bit', 'cjson', 'cmsgpack', 'struct', 'os', 'redis'}) do
  if B[name] ~= nil then B[name] = protect(B[name]) end
end
local G = getfenv(0)
local keys = {}
for k in pairs(G) do keys[#keys + 1] = k end
for _, k in ipairs(keys) do raw_rawset(G, k, nil) end
B._G = G
raw_setmetatable(B, {__index = function(_, k)
  raw_error("Script attempted to access nonexistent global variable '" .. raw_tostring(k) .. "'", 2)
end})
raw_setmetatable(G, {__index = B, __newindex = readonly, __metatable = guard})
protected[G] = true
local function env_over(base)
  local mt = {__index = base, __newindex = readonly, __metatable = guard}
  local e = raw_setmetatable({}, mt)
  protected[e] = true
  return e, mt
end
-- A read-only table over `real` whose missing fields raise the nonexistent-global error
-- (the globals and `redis` table library code sees while loading).
local function strict(real)
  local p = raw_setmetatable({}, {
    __index = function(_, k)
      local v = rawget(real, k)
      if v == nil then
        raw_error("Script attempted to access nonexistent global variable '" .. raw_tostring(k) .. "'", 2)
      end
      return v
    end,
    __newindex = readonly,
    __metatable = guard,
  })
  protected[p] = true
  return p
end
return protect, env_over, strict
"#;

/// The builtins Redis keeps (everything else of the base library is removed).
const BUILTINS: &[&str] = &[
    "xpcall",
    "tostring",
    "getfenv",
    "setmetatable",
    "next",
    "assert",
    "tonumber",
    "rawequal",
    "collectgarbage",
    "getmetatable",
    "rawset",
    "pcall",
    "coroutine",
    "type",
    "select",
    "unpack",
    "gcinfo",
    "pairs",
    "rawget",
    "loadstring",
    "ipairs",
    "_VERSION",
    "setfenv",
    "load",
    "error",
    "newproxy",
    "string",
    "table",
    "math",
];

/// One sandboxed interpreter.
pub struct Vm {
    pub lua: Lua,
    /// The hidden table of builtins behind the globals (KEYS and ARGV go here).
    base: Table,
    /// The real `redis` table (call and pcall are set in it for each run).
    redis: Table,
    xpcall: Function,
    /// Calls `f(keys, args)` under xpcall (functions take their keys and args as arguments).
    xpcall_with_args: Function,
    handler: Function,
    /// Makes an empty read-only environment over a table: (env, its metatable).
    env_over: Function,
    /// Makes a read-only proxy whose missing fields raise the nonexistent-global error.
    strict: Function,
    control: Arc<Control>,
    /// redis.setresp(3) was called in this run.
    resp3: Arc<AtomicBool>,
}

impl Vm {
    fn new(control: Arc<Control>) -> mlua::Result<Vm> {
        let lua = Lua::new_with(
            StdLib::TABLE | StdLib::STRING | StdLib::MATH,
            LuaOptions::default(),
        )?;
        let globals = lua.globals();
        let base = lua.create_table()?;
        for name in BUILTINS {
            let v: Value = globals.raw_get(*name)?;
            if !v.is_nil() {
                base.raw_set(*name, v)?;
            }
        }
        let xpcall: Function = globals.raw_get("xpcall")?;
        base.raw_set("bit", super::libs::bit(&lua)?)?;
        base.raw_set("cjson", super::libs::cjson(&lua)?)?;
        base.raw_set("cmsgpack", super::libs::cmsgpack(&lua)?)?;
        base.raw_set("struct", super::structlib::library(&lua)?)?;
        let os = lua.create_table()?;
        let started = std::time::Instant::now();
        os.raw_set(
            "clock",
            lua.create_function(move |_, ()| Ok(started.elapsed().as_secs_f64()))?,
        )?;
        base.raw_set("os", os)?;
        let resp3 = Arc::new(AtomicBool::new(false));
        let redis = redis_api(&lua, resp3.clone())?;
        base.raw_set("redis", redis.clone())?;
        let kill_flag = control.clone();
        let check_kill = lua.create_function(move |_, ()| {
            if kill_flag.kill.load(Ordering::Acquire) {
                return Err(script_err(KILLED));
            }
            Ok(())
        })?;
        let (_protect, env_over, strict): (Function, Function, Function) = lua
            .load(SANDBOX)
            .set_name("=sandbox")
            .call((base.clone(), check_kill, lua.create_function(error_table)?))?;
        let xpcall_with_args: Function = lua
            .load("local xpcall = ... return function(f, h, k, a) return xpcall(function() return f(k, a) end, h) end")
            .set_name("=fcall")
            .call(xpcall.clone())?;
        let handler = lua.create_function(error_handler)?;
        Ok(Vm {
            lua,
            base,
            redis,
            xpcall,
            xpcall_with_args,
            handler,
            env_over,
            strict,
            control,
            resp3,
        })
    }

    /// Compiles `code` (named `@name` in error positions) in the default environment.
    fn compile(&self, code: &[u8], name: &str, env: Option<Table>) -> Result<Function, String> {
        let mut chunk = self.lua.load(code).set_name(format!("@{name}"));
        if let Some(env) = env {
            chunk = chunk.set_environment(env);
        }
        chunk.into_function().map_err(|e| match e {
            mlua::Error::SyntaxError { message, .. } => message,
            other => other.to_string(),
        })
    }

    /// Runs `func` for the command in `ctx`: in EVAL mode with KEYS and ARGV as globals, in
    /// function mode with them as its two arguments.
    fn run(&self, ctx: &mut Ctx, func: &Function, call: RunCall) -> CmdResult<Reply> {
        let RunCall {
            keys,
            argv,
            eval_mode,
            name,
            readonly,
        } = call;
        let lua = &self.lua;
        let internal = |e: mlua::Error| CmdError(format!("ERR {e}"));
        let mut nested = Client::new(ctx.client.info.clone(), true);
        nested.in_script = true;
        nested.deny_blocking = true;
        nested.db = ctx.client.db;
        nested.protocol = Protocol::Resp2;
        self.resp3.store(false, Ordering::Relaxed);
        let state = RefCell::new(CallState {
            server: ctx.server,
            client: nested,
            ks: &mut *ctx.ks,
            readonly,
            control: &self.control,
            resp3: &self.resp3,
        });
        let keys_t = lua
            .create_sequence_from(keys.iter().map(|k| BytesArg(k.clone())))
            .map_err(internal)?;
        let argv_t = lua
            .create_sequence_from(argv.iter().map(|k| BytesArg(k.clone())))
            .map_err(internal)?;
        if eval_mode {
            self.base
                .raw_set("KEYS", keys_t.clone())
                .map_err(internal)?;
            self.base
                .raw_set("ARGV", argv_t.clone())
                .map_err(internal)?;
        }
        let control = self.control.clone();
        lua.set_hook(
            HookTriggers::new().every_nth_instruction(HOOK_EVERY),
            move |_, _| {
                if control.kill.load(Ordering::Acquire) {
                    return Err(script_err(KILLED));
                }
                Ok(VmState::Continue)
            },
        );
        let outcome = lua.scope(|scope| {
            let call = scope
                .create_function(|lua, args: MultiValue| redis_call(lua, &state, args, true))?;
            let pcall = scope
                .create_function(|lua, args: MultiValue| redis_call(lua, &state, args, false))?;
            self.redis.raw_set("call", call)?;
            self.redis.raw_set("pcall", pcall)?;
            let (ok, value): (bool, Value) = if eval_mode {
                self.xpcall.call((func.clone(), self.handler.clone()))?
            } else {
                self.xpcall_with_args
                    .call((func.clone(), self.handler.clone(), keys_t, argv_t))?
            };
            let resp3 = self.resp3.load(Ordering::Relaxed);
            Ok(if ok {
                // An error reply the script returned counts as the command's error.
                match lua_to_reply(&value, resp3, 0) {
                    Reply::Error(text) => Err(CmdError(text)),
                    reply => Ok(reply),
                }
            } else {
                Err(CmdError(error_reply_text(&value, name)))
            })
        });
        lua.remove_hook();
        let _ = self.redis.raw_set("call", Value::Nil);
        let _ = self.redis.raw_set("pcall", Value::Nil);
        if eval_mode {
            let _ = self.base.raw_set("KEYS", Value::Nil);
            let _ = self.base.raw_set("ARGV", Value::Nil);
        }
        let mut state = state.into_inner();
        ctx.server.stats.flush(&mut state.client.stats);
        let _ = lua.gc_step_kbytes(64);
        match outcome {
            Ok(r) => r,
            Err(e) => Err(CmdError(format!(
                "ERR Error running script {name}, {}",
                error_message(&e)
            ))),
        }
    }
}

/// What one run of a script gets besides its function.
struct RunCall<'a> {
    keys: &'a [Bytes],
    argv: &'a [Bytes],
    /// EVAL (KEYS and ARGV globals) rather than FCALL (keys and args as arguments).
    eval_mode: bool,
    /// The script's name in errors (`f_<sha>` or the function's name).
    name: &'a str,
    /// Write commands are refused (EVAL_RO, FCALL_RO, `no-writes`).
    readonly: bool,
}

/// An argument for Lua as a string.
struct BytesArg(Bytes);

impl mlua::IntoLua for BytesArg {
    fn into_lua(self, lua: &Lua) -> mlua::Result<Value> {
        lua.create_string(&self.0).map(Value::String)
    }
}

/// An error raised from Rust (redis.call, the API) as Redis's `{err=...}` table; other values
/// unchanged.
fn error_table(lua: &Lua, v: Value) -> mlua::Result<Value> {
    match v {
        Value::Error(e) => {
            let t = lua.create_table()?;
            t.raw_set("err", error_message(&e))?;
            Ok(Value::Table(t))
        }
        other => Ok(other),
    }
}

/// The message handler of every script run: turns the error into Redis's error table
/// (`err`, plus `source` and `line` of where it happened).
fn error_handler(lua: &Lua, err: Value) -> mlua::Result<Table> {
    let table = match err {
        Value::Table(t) => t,
        other => {
            let text = match &other {
                Value::Error(e) => error_message(e),
                Value::String(s) => format!("ERR {}", s.to_string_lossy()),
                v => format!(
                    "ERR {}",
                    lua.coerce_string(v.clone())
                        .ok()
                        .flatten()
                        .map(|s| s.to_string_lossy())
                        .unwrap_or_else(|| v.type_name().to_string())
                ),
            };
            let t = lua.create_table()?;
            t.raw_set("err", text)?;
            t
        }
    };
    // Where it happened: the innermost frame of the script itself, skipping C functions (the
    // erroring redis.call, error()...) and the sandbox's own Lua helpers (named `=...`).
    for level in 1..32 {
        let Some(d) = lua.inspect_stack(level) else {
            break;
        };
        let src = d.source();
        if src.what == "C" {
            continue;
        }
        let Some(source) = src.source.map(|s| s.into_owned()) else {
            continue;
        };
        if source.starts_with('=') {
            continue;
        }
        t_set(&table, "source", source)?;
        t_set(&table, "line", d.curr_line())?;
        break;
    }
    Ok(table)
}

fn t_set(t: &Table, k: &str, v: impl mlua::IntoLua) -> mlua::Result<()> {
    t.raw_set(k, v)
}

/// The reply text of a failed run: Redis's `<err> script: <name>, on <source>:<line>.`
fn error_reply_text(v: &Value, name: &str) -> String {
    let text = match v {
        Value::Table(t) => {
            let field = |k: &str| -> Option<String> {
                match t.raw_get::<Value>(k).ok()? {
                    Value::String(s) => Some(s.to_string_lossy()),
                    Value::Integer(i) => Some(i.to_string()),
                    Value::Number(n) => Some(fmt_number(n)),
                    _ => None,
                }
            };
            let err = field("err").unwrap_or_default();
            match (field("source"), field("line")) {
                (Some(source), Some(line)) => format!("{err} script: {name}, on {source}:{line}."),
                _ => err,
            }
        }
        Value::String(s) => format!(
            "ERR Error running script {name}, {:.100}",
            s.to_string_lossy()
        ),
        _ => format!("ERR Error running script {name}, execution failure"),
    };
    text.replace(['\r', '\n'], " ")
}

/// What `redis.call` needs while a script runs.
struct CallState<'a, 'k> {
    server: &'a crate::server::Server,
    client: Client,
    ks: &'a mut crate::keyspace::Locked<'k>,
    readonly: bool,
    control: &'a Control,
    resp3: &'a AtomicBool,
}

impl CallState<'_, '_> {
    /// Runs one command for the script; Err is the error reply text.
    fn call(&mut self, args: Vec<Bytes>) -> Result<Reply, String> {
        if args.is_empty() {
            return Err("ERR Please specify at least one argument for this redis lib call".into());
        }
        let table = CommandTable::get();
        let idx = match table.resolve(&args) {
            Ok(idx) => idx,
            Err(Resolve::Unknown(_)) => {
                return Err("ERR Unknown Redis command called from script".into())
            }
            Err(Resolve::Rejected(idx, e)) => {
                self.server.stats.record_rejected(idx, &e.0);
                return Err(if e.0.starts_with("ERR wrong number of arguments") {
                    "ERR Wrong number of args calling Redis command from script".into()
                } else {
                    "ERR Unknown Redis command called from script".into()
                });
            }
        };
        let spec = table.spec(idx);
        if spec.has(flags::NOSCRIPT) {
            return Err("ERR This Redis command is not allowed from script".into());
        }
        // A command that may replicate (PUBLISH, PFCOUNT) counts as a write here, as in Redis.
        if self.readonly && (spec.has(flags::WRITE) || spec.has(flags::MAY_REPLICATE)) {
            let text = "ERR Write commands are not allowed from read-only scripts.";
            self.server.stats.record_rejected(idx, text);
            return Err(text.into());
        }
        if spec.has(flags::WRITE) {
            self.control.wrote.store(true, Ordering::Release);
        }
        self.client.protocol = if self.resp3.load(Ordering::Relaxed) {
            Protocol::Resp3
        } else {
            Protocol::Resp2
        };
        match crate::cmd::run_on_view(self.server, &mut self.client, self.ks, idx, &args).0 {
            Ok(Reply::Error(e)) => Err(e),
            Ok(r) => Ok(r),
            Err(e) => Err(e.0),
        }
    }
}

/// `redis.call` (`raise`) and `redis.pcall`.
fn redis_call(
    lua: &Lua,
    state: &RefCell<CallState>,
    args: MultiValue,
    raise: bool,
) -> mlua::Result<Value> {
    let mut argv = Vec::with_capacity(args.len());
    let mut bad = false;
    for a in args.iter() {
        match a {
            Value::String(s) => argv.push(Bytes::copy_from_slice(&s.as_bytes())),
            Value::Integer(i) => argv.push(Bytes::from(i.to_string())),
            Value::Number(n) => argv.push(Bytes::from(fmt_number(*n))),
            _ => {
                bad = true;
                break;
            }
        }
    }
    let result = if bad {
        Err("ERR Lua redis lib command arguments must be strings or integers".to_string())
    } else {
        let mut st = state
            .try_borrow_mut()
            .map_err(|_| script_err("ERR redis.call is not reentrant"))?;
        st.call(argv)
    };
    let resp3 = state
        .try_borrow()
        .map(|s| s.resp3.load(Ordering::Relaxed))
        .unwrap_or(false);
    match result {
        Ok(reply) => reply_to_lua(lua, reply, resp3, 0),
        Err(text) if raise => Err(script_err(text)),
        Err(text) => {
            let t = lua.create_table()?;
            t.raw_set("err", text)?;
            Ok(Value::Table(t))
        }
    }
}

/// A command's reply as the script sees it (Redis's RESP -> Lua rules).
pub fn reply_to_lua(lua: &Lua, reply: Reply, resp3: bool, depth: usize) -> mlua::Result<Value> {
    let single = |k: &str, v: Value| -> mlua::Result<Value> {
        let t = lua.create_table()?;
        t.raw_set(k, v)?;
        Ok(Value::Table(t))
    };
    let string = |b: &[u8]| -> mlua::Result<Value> { lua.create_string(b).map(Value::String) };
    Ok(match reply {
        Reply::Ok => single("ok", string(b"OK")?)?,
        Reply::Status(s) => single("ok", string(&s)?)?,
        Reply::Error(e) => single("err", string(e.as_bytes())?)?,
        Reply::Int(i) => Value::Number(i as f64),
        Reply::Bulk(b) => string(&b)?,
        Reply::Nil | Reply::NilArray => {
            if resp3 {
                Value::Nil
            } else {
                Value::Boolean(false)
            }
        }
        // Many (several replies of one command, SUBSCRIBE's) cannot come from a script-allowed
        // command; read as an array if it ever does.
        Reply::Array(items) | Reply::Push(items) | Reply::Many(items) => {
            array_to_lua(lua, items, resp3, depth)?
        }
        Reply::Set(items) => {
            if resp3 {
                let set = lua.create_table()?;
                for item in items {
                    set.raw_set(reply_to_lua(lua, item, resp3, depth + 1)?, true)?;
                }
                single("set", Value::Table(set))?
            } else {
                array_to_lua(lua, items, resp3, depth)?
            }
        }
        Reply::Map(pairs) => {
            if resp3 {
                let map = lua.create_table()?;
                for (k, v) in pairs {
                    map.raw_set(
                        reply_to_lua(lua, k, resp3, depth + 1)?,
                        reply_to_lua(lua, v, resp3, depth + 1)?,
                    )?;
                }
                single("map", Value::Table(map))?
            } else {
                let flat = pairs.into_iter().flat_map(|(k, v)| [k, v]).collect();
                array_to_lua(lua, flat, resp3, depth)?
            }
        }
        Reply::Double(d) => {
            if resp3 {
                single("double", Value::Number(d))?
            } else {
                string(format_double(d).as_bytes())?
            }
        }
        Reply::Bool(b) => {
            if resp3 {
                Value::Boolean(b)
            } else {
                Value::Number(b as i64 as f64)
            }
        }
        Reply::Verbatim(s) => {
            if resp3 {
                let t = lua.create_table()?;
                t.raw_set("format", "txt")?;
                t.raw_set("string", string(s.as_bytes())?)?;
                single("verbatim_string", Value::Table(t))?
            } else {
                string(s.as_bytes())?
            }
        }
        Reply::BigNumber(b) => {
            if resp3 {
                single("big_number", string(&b)?)?
            } else {
                string(&b)?
            }
        }
        Reply::Attributed(_, inner) => reply_to_lua(lua, *inner, resp3, depth)?,
    })
}

fn array_to_lua(lua: &Lua, items: Vec<Reply>, resp3: bool, depth: usize) -> mlua::Result<Value> {
    let t = lua.create_table_with_capacity(items.len(), 0)?;
    if depth < MAX_DEPTH {
        for (i, item) in items.into_iter().enumerate() {
            t.raw_set(i + 1, reply_to_lua(lua, item, resp3, depth + 1)?)?;
        }
    }
    Ok(Value::Table(t))
}

/// A script's return value as a reply (Redis's Lua -> RESP rules).
pub fn lua_to_reply(v: &Value, resp3: bool, depth: usize) -> Reply {
    match v {
        Value::String(s) => Reply::Bulk(Bytes::copy_from_slice(&s.as_bytes())),
        Value::Boolean(b) => {
            if resp3 {
                Reply::Bool(*b)
            } else if *b {
                Reply::Int(1)
            } else {
                Reply::Nil
            }
        }
        Value::Integer(i) => Reply::Int(*i),
        Value::Number(n) => Reply::Int(*n as i64),
        Value::Table(_) if depth >= MAX_DEPTH => Reply::Error("ERR reached lua stack limit".into()),
        Value::Table(t) => table_to_reply(t, resp3, depth),
        _ => Reply::Nil,
    }
}

fn table_to_reply(t: &Table, resp3: bool, depth: usize) -> Reply {
    let field = |k: &str| t.raw_get::<Value>(k).unwrap_or(Value::Nil);
    if let Value::String(s) = field("err") {
        let text = s.to_string_lossy().replace(['\r', '\n'], " ");
        return Reply::Error(if text.is_empty() { "ERR".into() } else { text });
    }
    if let Value::String(s) = field("ok") {
        let text = s.to_string_lossy().replace(['\r', '\n'], " ");
        return Reply::Status(Bytes::from(text));
    }
    if let Value::Number(n) = field("double") {
        return Reply::Double(n);
    }
    if let Value::Integer(n) = field("double") {
        return Reply::Double(n as f64);
    }
    if let Value::String(s) = field("big_number") {
        return Reply::BigNumber(Bytes::from(s.to_string_lossy().replace(['\r', '\n'], " ")));
    }
    if let Value::Table(m) = field("map") {
        let mut pairs = Vec::new();
        for (k, v) in m.pairs::<Value, Value>().flatten() {
            pairs.push((
                lua_to_reply(&k, resp3, depth + 1),
                lua_to_reply(&v, resp3, depth + 1),
            ));
        }
        return Reply::Map(pairs);
    }
    if let Value::Table(s) = field("set") {
        let items = s
            .pairs::<Value, Value>()
            .flatten()
            .map(|(k, _)| lua_to_reply(&k, resp3, depth + 1))
            .collect();
        return Reply::Set(items);
    }
    if let Value::Table(v) = field("verbatim_string") {
        if let Ok(Value::String(s)) = v.raw_get::<Value>("string") {
            return Reply::Verbatim(s.to_string_lossy());
        }
    }
    let mut items = Vec::new();
    for i in 1.. {
        match t.raw_get::<Value>(i) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(lua_to_reply(&v, resp3, depth + 1)),
        }
    }
    Reply::Array(items)
}

/// The parts of `redis.*` that need no running command: replies, logging, sha1hex, settings.
fn redis_api(lua: &Lua, resp3: Arc<AtomicBool>) -> mlua::Result<Table> {
    let redis = lua.create_table()?;
    redis.raw_set(
        "sha1hex",
        lua.create_function(|_, args: MultiValue| {
            if args.len() != 1 {
                return Err(script_err("ERR wrong number of arguments"));
            }
            let bytes = match &args[0] {
                Value::String(s) => s.as_bytes().to_vec(),
                Value::Integer(i) => i.to_string().into_bytes(),
                Value::Number(n) => fmt_number(*n).into_bytes(),
                _ => Vec::new(),
            };
            Ok(sha1_hex(&bytes))
        })?,
    )?;
    redis.raw_set(
        "error_reply",
        lua.create_function(|lua, msg: Value| {
            let Value::String(s) = msg else {
                return Err(script_err("ERR wrong number or type of arguments"));
            };
            let text = s.to_string_lossy();
            let text = text.strip_prefix('-').unwrap_or(&text).to_string();
            let t = lua.create_table()?;
            t.raw_set("err", text)?;
            Ok(t)
        })?,
    )?;
    redis.raw_set(
        "status_reply",
        lua.create_function(|lua, msg: Value| {
            let Value::String(s) = msg else {
                return Err(script_err("ERR wrong number or type of arguments"));
            };
            let t = lua.create_table()?;
            t.raw_set("ok", s)?;
            Ok(t)
        })?,
    )?;
    redis.raw_set(
        "log",
        lua.create_function(|lua, args: MultiValue| {
            if args.len() < 2 {
                return Err(script_err(
                    "ERR redis.log() requires two arguments or more.",
                ));
            }
            let level = match &args[0] {
                Value::Integer(i) => *i,
                Value::Number(n) => *n as i64,
                _ => {
                    return Err(script_err(
                        "ERR First argument must be a number (log level).",
                    ))
                }
            };
            if !(0..=3).contains(&level) {
                return Err(script_err("ERR Invalid debug level."));
            }
            let mut msg = String::new();
            for (i, a) in args.iter().skip(1).enumerate() {
                if i > 0 {
                    msg.push(' ');
                }
                if let Ok(Some(s)) = lua.coerce_string(a.clone()) {
                    msg.push_str(&s.to_string_lossy());
                }
            }
            match level {
                0 => tracing::debug!("{msg}"),
                1 | 2 => tracing::info!("{msg}"),
                _ => tracing::warn!("{msg}"),
            }
            Ok(())
        })?,
    )?;
    for (name, value) in [
        ("LOG_DEBUG", 0),
        ("LOG_VERBOSE", 1),
        ("LOG_NOTICE", 2),
        ("LOG_WARNING", 3),
        ("REPL_NONE", 0),
        ("REPL_AOF", 1),
        ("REPL_SLAVE", 2),
        ("REPL_REPLICA", 2),
        ("REPL_ALL", 3),
    ] {
        redis.raw_set(name, value)?;
    }
    redis.raw_set(
        "setresp",
        lua.create_function(move |_, args: MultiValue| {
            if args.len() != 1 {
                return Err(script_err("ERR redis.setresp() requires one argument."));
            }
            let v = match &args[0] {
                Value::Integer(i) => *i,
                Value::Number(n) => *n as i64,
                _ => 0,
            };
            match v {
                2 | 3 => resp3.store(v == 3, Ordering::Relaxed),
                _ => return Err(script_err("ERR RESP version must be 2 or 3.")),
            }
            Ok(())
        })?,
    )?;
    redis.raw_set(
        "set_repl",
        lua.create_function(|_, args: MultiValue| {
            if args.len() != 1 {
                return Err(script_err("ERR redis.set_repl() requires one argument."));
            }
            match &args[0] {
                Value::Integer(i) if (0..=3).contains(i) => Ok(()),
                Value::Number(n) if (0.0..=3.0).contains(n) => Ok(()),
                _ => Err(script_err(
                    "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
                )),
            }
        })?,
    )?;
    redis.raw_set("replicate_commands", lua.create_function(|_, ()| Ok(true))?)?;
    redis.raw_set("breakpoint", lua.create_function(|_, ()| Ok(false))?)?;
    redis.raw_set("debug", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
    redis.raw_set(
        "acl_check_cmd",
        lua.create_function(|_, args: MultiValue| {
            let name = match args.front() {
                Some(Value::String(s)) => s.as_bytes().to_vec(),
                _ => {
                    return Err(script_err(
                        "ERR Please specify at least one argument for this redis lib call",
                    ))
                }
            };
            let argv: Vec<Bytes> = args
                .iter()
                .map(|a| match a {
                    Value::String(s) => Bytes::copy_from_slice(&s.as_bytes()),
                    _ => Bytes::new(),
                })
                .collect();
            let _ = name;
            match CommandTable::get().resolve(&argv) {
                Ok(_) => Ok(true),
                Err(_) => Err(script_err(
                    "ERR Invalid command passed to redis.acl_check_cmd()",
                )),
            }
        })?,
    )?;
    redis.raw_set("REDIS_VERSION", crate::server::REDIS_VERSION)?;
    redis.raw_set("REDIS_VERSION_NUM", 0x0007_0204)?;
    Ok(redis)
}

/// A compiled EVAL script.
pub struct Script {
    pub body: Bytes,
    pub func: Function,
    pub flags: ScriptFlags,
}

/// The EVAL engine: its interpreter and the script cache (by SHA1).
pub struct EvalEngine {
    vm: Vm,
    scripts: HashMap<String, Script>,
    body_bytes: usize,
}

/// Redis's shebang parsing for EVAL scripts: the flags, and how long the shebang line is.
pub fn parse_shebang(body: &[u8]) -> Result<(ScriptFlags, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((
            ScriptFlags {
                compat: true,
                ..Default::default()
            },
            0,
        ));
    }
    let Some(end) = body.iter().position(|&b| b == b'\n') else {
        return Err("Invalid script shebang".into());
    };
    let words = crate::protocol::split_args(&body[..end])
        .ok_or_else(|| "Invalid engine in script shebang".to_string())?;
    let words: Vec<String> = words
        .iter()
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    let mut parts = words.iter().map(String::as_str);
    let engine = parts.next().unwrap_or("");
    if engine.is_empty() {
        return Err("Invalid engine in script shebang".into());
    }
    if engine != "#!lua" {
        return Err(format!("Unexpected engine in script shebang: {engine}"));
    }
    let mut flags = ScriptFlags::default();
    for part in parts {
        let Some(list) = part.strip_prefix("flags=") else {
            return Err(format!("Unknown lua shebang option: {part}"));
        };
        for f in list.split(',').filter(|f| !f.is_empty()) {
            if !flags.set(f) {
                return Err(format!("Unexpected flag in script shebang: {f}"));
            }
        }
    }
    Ok((flags, end))
}

impl EvalEngine {
    pub fn new(control: Arc<Control>) -> EvalEngine {
        EvalEngine {
            vm: Vm::new(control).unwrap_or_else(|e| panic!("cannot start the Lua engine: {e}")),
            scripts: HashMap::new(),
            body_bytes: 0,
        }
    }

    pub fn scripts_len(&self) -> usize {
        self.scripts.len()
    }

    pub fn scripts_bytes(&self) -> usize {
        self.body_bytes + self.scripts.len() * 200
    }

    pub fn lua_memory(&self) -> usize {
        self.vm.lua.used_memory()
    }

    pub fn exists(&self, sha: &str) -> bool {
        self.scripts.contains_key(sha)
    }

    pub fn get(&self, sha: &str) -> Option<&Script> {
        self.scripts.get(sha)
    }

    /// Compiles and caches `body` (once); returns its SHA1.
    pub fn load(&mut self, body: &Bytes) -> CmdResult<String> {
        let sha = sha1_hex(body);
        if self.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (flags, shebang) = parse_shebang(body).map_err(|e| CmdError(format!("ERR {e}")))?;
        let func = self
            .vm
            .compile(&body[shebang..], "user_script", None)
            .map_err(|e| CmdError(format!("ERR Error compiling script (new function): {e}")))?;
        self.body_bytes += body.len();
        self.scripts.insert(
            sha.clone(),
            Script {
                body: body.clone(),
                func,
                flags,
            },
        );
        Ok(sha)
    }

    pub fn flush(&mut self) {
        self.scripts.clear();
        self.body_bytes = 0;
        let _ = self.vm.lua.gc_collect();
    }

    /// Runs the cached script `sha` for the command in `ctx`.
    pub fn run(
        &self,
        ctx: &mut Ctx,
        sha: &str,
        keys: &[Bytes],
        argv: &[Bytes],
        readonly: bool,
    ) -> CmdResult<Reply> {
        let Some(script) = self.scripts.get(sha) else {
            return Err(CmdError::new(
                "NOSCRIPT No matching script. Please use EVAL.",
            ));
        };
        let readonly = readonly || script.flags.no_writes;
        let name = format!("f_{sha}");
        let call = RunCall {
            keys,
            argv,
            eval_mode: true,
            name: &name,
            readonly,
        };
        self.vm.run(ctx, &script.func, call)
    }
}

/// A function registered by a library.
pub struct FunctionDef {
    pub name: String,
    pub description: Option<String>,
    pub flags: ScriptFlags,
    pub callback: Function,
}

/// A loaded library.
pub struct Library {
    pub name: String,
    pub code: Bytes,
    pub functions: BTreeMap<String, FunctionDef>,
}

/// The FUNCTION engine: its interpreter and the loaded libraries.
pub struct FunctionEngine {
    vm: Vm,
    pub libraries: BTreeMap<String, Library>,
    /// Lower-cased function name -> (library name, function name): FCALL's lookup is
    /// case-insensitive, as in Redis.
    pub index: HashMap<String, (String, String)>,
    /// The `redis` table library code sees while loading (register_function, log...).
    load_redis: Table,
    /// The functions registered by the library being loaded (None outside FUNCTION LOAD).
    registering: Arc<parking_lot::Mutex<Option<BTreeMap<String, FunctionDef>>>>,
}

/// The metadata of a library's shebang line: `#!lua name=<name>`.
pub fn parse_library_metadata(code: &[u8]) -> Result<String, String> {
    if !code.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some(end) = code.iter().position(|&b| b == b'\n') else {
        return Err("Invalid library metadata".into());
    };
    // Split as Redis's sdssplitargs does (quotes allowed: `name="foo"`).
    let words = crate::protocol::split_args(&code[..end])
        .filter(|w| !w.is_empty())
        .ok_or_else(|| "Invalid library metadata".to_string())?;
    let words: Vec<String> = words
        .iter()
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    let mut parts = words.iter().map(String::as_str);
    let engine = parts.next().unwrap_or("#!");
    let engine = engine.trim_start_matches("#!");
    let mut name = None;
    for part in parts {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case("name=") {
            if name.is_some() {
                return Err(
                    "Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(part[5..].to_string());
            continue;
        }
        return Err(format!("Invalid metadata value given: {part}"));
    }
    let Some(name) = name else {
        return Err("Library name was not given".into());
    };
    if !valid_name(&name) {
        return Err("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long".into());
    }
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(format!("Engine '{engine}' not found"));
    }
    Ok(name)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

impl FunctionEngine {
    pub fn new(control: Arc<Control>) -> FunctionEngine {
        let vm = Vm::new(control).unwrap_or_else(|e| panic!("cannot start the Lua engine: {e}"));
        let load_redis = vm.lua.create_table().unwrap_or_else(|e| panic!("{e}"));
        for k in [
            "log",
            "LOG_DEBUG",
            "LOG_VERBOSE",
            "LOG_NOTICE",
            "LOG_WARNING",
            "REDIS_VERSION",
            "REDIS_VERSION_NUM",
        ] {
            if let Ok(v) = vm.redis.raw_get::<Value>(k) {
                let _ = load_redis.raw_set(k, v);
            }
        }
        let registering: Arc<parking_lot::Mutex<Option<BTreeMap<String, FunctionDef>>>> =
            Arc::default();
        let reg = registering.clone();
        let register = vm
            .lua
            .create_function(move |_, args: MultiValue| {
                let mut guard = reg.lock();
                let Some(r) = guard.as_mut() else {
                    return Err(script_err(
                        "ERR redis.register_function can only be called on FUNCTION LOAD command",
                    ));
                };
                let def = register_args(args)?;
                if r.contains_key(&def.name) {
                    return Err(script_err("ERR Function already exists in the library"));
                }
                r.insert(def.name.clone(), def);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{e}"));
        let _ = load_redis.raw_set("register_function", register);
        FunctionEngine {
            vm,
            libraries: BTreeMap::new(),
            index: HashMap::new(),
            load_redis,
            registering,
        }
    }

    pub fn lua_memory(&self) -> usize {
        self.vm.lua.used_memory()
    }

    pub fn functions_len(&self) -> usize {
        self.index.len()
    }

    /// Compiles and runs a library's code, collecting the functions it registers (nothing is
    /// installed yet).
    pub fn compile_library(&self, code: &Bytes) -> CmdResult<Library> {
        let name = parse_library_metadata(code).map_err(|e| CmdError(format!("ERR {e}")))?;
        let body_start = code.iter().position(|&b| b == b'\n').unwrap_or(code.len());
        let lua = &self.vm.lua;
        let internal = |e: mlua::Error| CmdError(format!("ERR {e}"));
        // Library code sees a `redis` with register_function; its functions later see the full
        // runtime globals through the same environment.
        let load_globals = lua.create_table().map_err(internal)?;
        let redis_proxy: Table = self
            .vm
            .strict
            .call(self.load_redis.clone())
            .map_err(internal)?;
        load_globals
            .raw_set("redis", redis_proxy)
            .map_err(internal)?;
        let load_base: Table = self.vm.strict.call(load_globals).map_err(internal)?;
        let (env, env_meta): (Table, Table) = self.vm.env_over.call(load_base).map_err(internal)?;
        let func = self
            .vm
            .compile(&code[body_start..], "user_function", Some(env))
            .map_err(|e| CmdError(format!("ERR Error compiling function: {e}")))?;
        let started = std::time::Instant::now();
        lua.set_hook(
            HookTriggers::new().every_nth_instruction(HOOK_EVERY),
            move |_, _| {
                if started.elapsed() > LOAD_TIMEOUT {
                    return Err(script_err("ERR FUNCTION LOAD timeout"));
                }
                Ok(VmState::Continue)
            },
        );
        *self.registering.lock() = Some(BTreeMap::new());
        let outcome: mlua::Result<(bool, Value)> =
            self.vm.xpcall.call((func, self.vm.handler.clone()));
        lua.remove_hook();
        let registered = self.registering.lock().take().unwrap_or_default();
        let _ = env_meta.raw_set("__index", self.vm.base.clone());
        match outcome {
            Ok((true, _)) => {}
            Ok((false, v)) => {
                let msg = match &v {
                    Value::Table(t) => t
                        .raw_get::<Option<String>>("err")
                        .ok()
                        .flatten()
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                let msg = msg.strip_prefix("ERR ").unwrap_or(&msg).to_string();
                return Err(CmdError(format!("ERR Error registering functions: {msg}")));
            }
            Err(e) => {
                return Err(CmdError(format!(
                    "ERR Error registering functions: {}",
                    error_message(&e)
                )))
            }
        }
        let functions = registered;
        if functions.is_empty() {
            return Err(CmdError::new("ERR No functions registered"));
        }
        Ok(Library {
            name,
            code: code.clone(),
            functions,
        })
    }

    /// Installs `lib`, replacing a library of the same name only if `replace`.
    pub fn install(&mut self, lib: Library, replace: bool) -> CmdResult<()> {
        if self.libraries.contains_key(&lib.name) && !replace {
            return Err(CmdError(format!(
                "ERR Library '{}' already exists",
                lib.name
            )));
        }
        for f in lib.functions.keys() {
            if let Some((owner, _)) = self.index.get(&f.to_lowercase()) {
                if *owner != lib.name {
                    return Err(CmdError(format!("ERR Function {f} already exists")));
                }
            }
        }
        self.remove(&lib.name.clone());
        for f in lib.functions.keys() {
            self.index
                .insert(f.to_lowercase(), (lib.name.clone(), f.clone()));
        }
        self.libraries.insert(lib.name.clone(), lib);
        Ok(())
    }

    /// Removes a library; false if there is none of that name.
    pub fn remove(&mut self, name: &str) -> bool {
        match self.libraries.remove(name) {
            Some(lib) => {
                for f in lib.functions.keys() {
                    self.index.remove(&f.to_lowercase());
                }
                true
            }
            None => false,
        }
    }

    pub fn flush(&mut self) {
        self.libraries.clear();
        self.index.clear();
        let _ = self.vm.lua.gc_collect();
    }

    pub fn function(&self, name: &str) -> Option<&FunctionDef> {
        let (lib, name) = self.index.get(&name.to_lowercase())?;
        self.libraries.get(lib)?.functions.get(name)
    }

    /// Runs function `name` for the command in `ctx`.
    pub fn run(
        &self,
        ctx: &mut Ctx,
        name: &str,
        keys: &[Bytes],
        argv: &[Bytes],
        readonly: bool,
    ) -> CmdResult<Reply> {
        let Some(f) = self.function(name) else {
            return Err(CmdError::new("ERR Function not found"));
        };
        let readonly = readonly || f.flags.no_writes;
        let call = RunCall {
            keys,
            argv,
            eval_mode: false,
            name: &f.name,
            readonly,
        };
        self.vm.run(ctx, &f.callback, call)
    }
}

/// The arguments of `redis.register_function`: `(name, callback)` or one table of named
/// arguments (function_name, callback, flags, description).
fn register_args(args: MultiValue) -> mlua::Result<FunctionDef> {
    let err = |m: &str| script_err(format!("ERR {m}"));
    let (name, callback, flags, description) = match args.len() {
        1 => {
            let Some(Value::Table(t)) = args.front() else {
                return Err(err("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."));
            };
            let (mut name, mut cb, mut flags, mut desc) = (None, None, None, None);
            for pair in t.pairs::<Value, Value>() {
                let (k, v) = pair?;
                let Value::String(k) = k else {
                    return Err(err(
                        "named argument key given to redis.register_function is not a string",
                    ));
                };
                match k.to_string_lossy().as_str() {
                    "function_name" => match v {
                        Value::String(s) => name = Some(s.to_string_lossy()),
                        _ => return Err(err("function_name argument given to redis.register_function must be a string")),
                    },
                    "description" => match v {
                        Value::String(s) => desc = Some(s.to_string_lossy()),
                        _ => return Err(err("description argument given to redis.register_function must be a string")),
                    },
                    "callback" => match v {
                        Value::Function(f) => cb = Some(f),
                        _ => return Err(err("callback argument given to redis.register_function must be a function")),
                    },
                    "flags" => match v {
                        Value::Table(f) => flags = Some(f),
                        _ => return Err(err("flags argument to redis.register_function must be a table representing function flags")),
                    },
                    _ => return Err(err("unknown argument given to redis.register_function")),
                }
            }
            let Some(name) = name else {
                return Err(err(
                    "redis.register_function must get a function name argument",
                ));
            };
            let Some(cb) = cb else {
                return Err(err("redis.register_function must get a callback argument"));
            };
            (name, cb, flags, desc)
        }
        2 => {
            let Value::String(name) = &args[0] else {
                return Err(err(
                    "first argument to redis.register_function must be a string",
                ));
            };
            let Value::Function(cb) = &args[1] else {
                return Err(err(
                    "second argument to redis.register_function must be a function",
                ));
            };
            (name.to_string_lossy(), cb.clone(), None, None)
        }
        _ => return Err(err("wrong number of arguments to redis.register_function")),
    };
    if !valid_name(&name) {
        // Redis's text for function names too.
        return Err(err("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"));
    }
    let mut parsed = ScriptFlags::default();
    if let Some(flags) = flags {
        for v in flags.sequence_values::<Value>() {
            let ok = match v? {
                Value::String(s) => parsed.set(&s.to_string_lossy()),
                _ => false,
            };
            if !ok {
                return Err(err("unknown flag given"));
            }
        }
    }
    Ok(FunctionDef {
        name,
        description,
        flags: parsed,
        callback,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_as_lua_does() {
        assert_eq!(fmt_number(1.0), "1");
        assert_eq!(fmt_number(-3.5), "-3.5");
        assert_eq!(fmt_number(0.1), "0.1");
        assert_eq!(fmt_number(1e15), "1e+15");
        assert_eq!(fmt_number(123456789012345.0), "1.2345678901234e+14");
        assert_eq!(fmt_number(0.0001), "0.0001");
        assert_eq!(fmt_number(0.00001), "1e-05");
        assert_eq!(fmt_number(std::f64::consts::PI), "3.1415926535898");
    }

    #[test]
    fn shebang_flags() {
        assert!(parse_shebang(b"return 1").unwrap().0.compat);
        let (f, n) = parse_shebang(b"#!lua flags=no-writes,allow-oom\nreturn 1").unwrap();
        assert!(f.no_writes && f.allow_oom && !f.compat);
        assert_eq!(n, 31);
        assert_eq!(
            parse_shebang(b"#!lua foo=bar\n").unwrap_err(),
            "Unknown lua shebang option: foo=bar"
        );
        assert_eq!(
            parse_shebang(b"#!lua flags=bad\n").unwrap_err(),
            "Unexpected flag in script shebang: bad"
        );
        assert_eq!(
            parse_shebang(b"#!python\n").unwrap_err(),
            "Unexpected engine in script shebang: #!python"
        );
    }
}
