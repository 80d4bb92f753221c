//! docs/COMMANDS.md, rendered from the command table so that the document cannot drift from
//! what the server actually accepts.
//!
//! [`commands_markdown`] writes one table per command group, in the order the groups first appear
//! in the table, with every subcommand right after its container (`config get`). The integration
//! test `tests/docs.rs` fails when the committed file differs from this output;
//! `UPDATE_DOCS=1 cargo test --test docs` rewrites it.

use std::fmt::Write as _;

use super::{flags, CommandSpec, CommandTable, KeySpec};

/// The command to regenerate the generated documents.
pub const REGENERATE: &str = "UPDATE_DOCS=1 cargo test --test docs";

/// Renders docs/COMMANDS.md from the command table.
pub fn commands_markdown() -> String {
    let table = CommandTable::get();
    let mut groups: Vec<(&'static str, Vec<(String, &'static CommandSpec)>)> = Vec::new();
    let mut total = 0;
    for (_, spec) in table.top_level() {
        let pos = match groups.iter().position(|(g, _)| *g == spec.group) {
            Some(pos) => pos,
            None => {
                groups.push((spec.group, Vec::new()));
                groups.len() - 1
            }
        };
        let rows = &mut groups[pos].1;
        rows.push((spec.name.to_string(), spec));
        for sub in spec.subcommands {
            rows.push((format!("{} {}", spec.name, sub.name), sub));
        }
        total += 1 + spec.subcommands.len();
    }

    let mut out = String::new();
    out.push_str("# Supported commands\n\n");
    let _ = writeln!(
        out,
        "<!-- Generated from the command table (src/cmd/docs.rs); do not edit by hand. \
         Regenerate with: {REGENERATE} -->\n"
    );
    let _ = writeln!(
        out,
        "Thermocline implements {} commands in {} groups ({} entries counting subcommands). \
         Behaviour and error texts follow Redis {}.\n",
        table.top_level().count(),
        groups.len(),
        total,
        crate::server::REDIS_VERSION,
    );
    out.push_str(
        "Columns: **arity** is the argument count including the command name (negative: at \
         least that many); **keys** are the argument positions holding key names \
         (`first..last`, negative counting from the end, `all` for commands that work on the \
         whole keyspace); **flags** are the flags COMMAND INFO reports.\n",
    );
    out.push_str("\nGroups:");
    for (i, (group, _)) in groups.iter().enumerate() {
        let sep = if i == 0 { " " } else { ", " };
        let _ = write!(out, "{sep}[{group}](#{group})");
    }
    out.push('\n');

    for (group, rows) in &groups {
        let _ = write!(out, "\n## {group}\n\n");
        out.push_str("| Command | Arity | Flags | Keys | Since | Summary |\n");
        out.push_str("|---|---|---|---|---|---|\n");
        for (name, spec) in rows {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} | {} |",
                name,
                spec.arity,
                flag_names(spec.flags),
                key_positions(spec),
                spec.since,
                escape(spec.summary),
            );
        }
    }
    out
}

fn flag_names(bits: u64) -> String {
    let names: Vec<&str> = flags::NAMES
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(_, name)| *name)
        .collect();
    if names.is_empty() {
        "-".to_string()
    } else {
        names.join(", ")
    }
}

fn key_positions(spec: &CommandSpec) -> String {
    if spec.has(flags::WHOLE_KEYSPACE) {
        return "all".to_string();
    }
    if spec.keys.keynum > 0 {
        let counted = format!("count at {}, then that many", spec.keys.keynum);
        return if spec.keys.first > 0 {
            format!("{}, then {counted}", spec.keys.first)
        } else {
            counted
        };
    }
    let KeySpec {
        first, last, step, ..
    } = spec.keys;
    if first == 0 {
        return "-".to_string();
    }
    let mut text = if first == last {
        first.to_string()
    } else {
        format!("{first}..{last}")
    };
    if step > 1 {
        let _ = write!(text, " step {step}");
    }
    text
}

/// Keeps a summary inside its table cell.
fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_command_and_subcommand() {
        let md = commands_markdown();
        let table = CommandTable::get();
        for (_, spec) in table.top_level() {
            let row = format!("| `{}` |", spec.name);
            assert!(md.contains(&row), "{} missing", spec.name);
            for sub in spec.subcommands {
                let row = format!("| `{} {}` |", spec.name, sub.name);
                assert!(md.contains(&row), "{} {} missing", spec.name, sub.name);
            }
        }
        assert_eq!(
            md.lines().filter(|l| l.starts_with("| `")).count(),
            table.len()
        );
    }

    #[test]
    fn key_position_text() {
        let spec = CommandTable::get()
            .top_level()
            .find(|(_, s)| s.name == "mset")
            .map(|(_, s)| s)
            .expect("mset exists");
        assert_eq!(key_positions(spec), "1..-1 step 2");
    }
}
