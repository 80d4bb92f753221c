//! Generated files stay in step with the code: `thermocline.conf` must equal
//! `Config::sample()` and `docs/COMMANDS.md` must equal `cmd::docs::commands_markdown()`.
//!
//! When one differs the test fails and says how to regenerate it. `UPDATE_DOCS=1 cargo test
//! --test docs` rewrites both files instead of comparing.

use std::path::{Path, PathBuf};

use thermocline::cmd::docs::{commands_markdown, REGENERATE};
use thermocline::config::Config;

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn updating() -> bool {
    std::env::var("UPDATE_DOCS").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Compares the committed `rel` with `expected`, or rewrites it when UPDATE_DOCS is set.
fn check_generated(rel: &str, expected: &str, how: &str) {
    let path = repo_file(rel);
    if updating() {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent directory");
        }
        std::fs::write(&path, expected).expect("write generated file");
        eprintln!("rewrote {}", path.display());
        return;
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    if actual == expected {
        return;
    }
    let first_diff = actual
        .lines()
        .zip(expected.lines())
        .position(|(a, e)| a != e)
        .unwrap_or_else(|| actual.lines().count().min(expected.lines().count()));
    let line = |text: &str| {
        text.lines()
            .nth(first_diff)
            .unwrap_or("<end of file>")
            .to_string()
    };
    panic!(
        "{rel} is out of date (first difference at line {}):\n  committed: {}\n  generated: {}\n\
         Regenerate it with:\n  {how}\nor regenerate every generated file with:\n  {REGENERATE}",
        first_diff + 1,
        line(&actual),
        line(expected),
    );
}

#[test]
fn sample_config_is_current() {
    check_generated(
        "thermocline.conf",
        &Config::sample(),
        "cargo run --bin thermocline-server -- --sample-config > thermocline.conf",
    );
}

#[test]
fn sample_config_parses_to_the_defaults() {
    let mut parsed = Config::default();
    parsed
        .apply_text(&Config::sample())
        .expect("the sample configuration parses");
    let defaults = Config::default();
    for (name, value) in defaults.matching(b"*") {
        assert_eq!(parsed.get(name), Some(value), "option {name}");
    }
}

#[test]
fn commands_doc_is_current() {
    check_generated("docs/COMMANDS.md", &commands_markdown(), REGENERATE);
}
