//! The binary finds its checkout from the current directory upward (or
//! `--root`, or HARNESS_ROOT), never from the path it was built in: a copy
//! of the binary run from another folder works on that folder's checkout.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, PoisonError};

use assert_cmd::assert::{Assert, OutputAssertExt};
use predicates::prelude::*;

/// Copying the binary holds it open for writing, and a child that another
/// test thread forks meanwhile inherits that descriptor until it execs:
/// running the copy then fails with "Text file busy" (seen in CI). Copies
/// and runs take turns.
static TURN: Mutex<()> = Mutex::new(());

/// A copy of the built binary outside the workspace, as `cargo install`
/// leaves it.
fn installed(tmp: &Path) -> PathBuf {
    let bin = tmp.join("bin/harness");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    let _turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
    std::fs::copy(env!("CARGO_BIN_EXE_harness"), &bin).unwrap();
    bin
}

/// Runs `cmd` (its own turn: see [`TURN`]) for assertions.
fn run(cmd: &mut Command) -> Assert {
    let _turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
    cmd.assert()
}

/// A minimal checkout: the catalogue and one empty scenarios folder.
fn checkout(tmp: &Path) -> PathBuf {
    let dir = tmp.join("checkout");
    std::fs::create_dir_all(dir.join("ci")).unwrap();
    std::fs::create_dir_all(dir.join("scenarios/only-here")).unwrap();
    std::fs::create_dir_all(dir.join("deep/er")).unwrap();
    let catalogue = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ci/engines.toml");
    std::fs::copy(catalogue, dir.join("ci/engines.toml")).unwrap();
    dir
}

fn harness(bin: &Path, cwd: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.current_dir(cwd).env_remove("HARNESS_ROOT").env_remove("HARNESS_CATALOGUE");
    cmd
}

#[test]
fn finds_the_checkout_from_a_subfolder() {
    let tmp = tempfile::tempdir().unwrap();
    let (bin, root) = (installed(tmp.path()), checkout(tmp.path()));
    let scenarios = root.canonicalize().unwrap().join("scenarios");
    run(harness(&bin, &root.join("deep/er")).args(["run", "no-such-scenario", "--images", "local"]))
        .code(2)
        .stderr(predicate::str::contains(format!("expected a folder of {}", scenarios.display())))
        .stderr(predicate::str::contains("only-here"));
}

#[test]
fn outside_any_checkout_says_how_to_name_one() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = installed(tmp.path());
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    run(harness(&bin, &empty).args(["run", "ci-inline-cache", "--images", "local"]))
        .code(2)
        .stderr(predicate::str::contains("failed to read engine catalogue"))
        .stderr(predicate::str::contains("--root DIR"));
}

#[test]
fn root_flag_names_the_checkout_from_anywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let (bin, root) = (installed(tmp.path()), checkout(tmp.path()));
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    run(harness(&bin, &empty).arg("--root").arg(&root).args(["run", "no-such-scenario", "--images", "local"]))
        .code(2)
        .stderr(predicate::str::contains("only-here"));
}
