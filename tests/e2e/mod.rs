//! Shared helpers for the end-to-end tests.

mod check;
mod cli;
mod dataset;
mod flow;
mod load;
mod mqtt;
mod new;
mod restart;
mod run;
mod score;
mod sparkplug;
mod verify;
mod view;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every scenario file shipped in `scenarios/`, sorted.
pub fn scenarios() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    v.sort();
    v
}

/// Runs `fabtwin` with `args` in the repository root.
pub fn fabtwin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fabtwin"))
        .args(args)
        .current_dir(root())
        .env_remove("FABTWIN_LOG")
        .output()
        .expect("the fabtwin binary runs")
}

/// stdout and stderr as text, for failure messages.
pub fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A fresh temporary directory, removed on drop.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory can be made")
}

/// Writes `text` to `dir/name` and returns the path as a string.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write scenario");
    p.display().to_string()
}
