//! The nightly CI definitions pass their linters: check-jsonschema with its
//! bundled GitHub Actions workflow and GitLab CI schemas (no network); the
//! repository's own shell scripts pass shellcheck.

use std::path::{Path, PathBuf};
use std::process::Command;

const INSTALL: &str = "install it with `pip install check-jsonschema` (or run ci/test-tools)";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn check(schema: &str, file: &Path) -> Result<(), String> {
    let output = Command::new("check-jsonschema")
        .args(["--builtin-schema", schema])
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run check-jsonschema ({e}): {INSTALL}"));
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)))
    }
}

#[test]
fn github_nightly_workflow_passes_the_workflow_schema() {
    let file = repo().join(".github/workflows/nightly.yml");
    check("vendor.github-workflows", &file).unwrap_or_else(|e| panic!("{}:\n{e}", file.display()));
}

#[test]
fn gitlab_nightly_pipeline_passes_the_gitlab_ci_schema() {
    let file = repo().join("ci/gitlab/nightly.gitlab-ci.yml");
    check("vendor.gitlab-ci", &file).unwrap_or_else(|e| panic!("{}:\n{e}", file.display()));
}

#[test]
fn the_linters_reject_a_broken_definition() {
    let dir = tempfile::tempdir().unwrap();
    let github = dir.path().join("bad.yml");
    std::fs::write(&github, "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    stepz: []\n").unwrap();
    assert!(check("vendor.github-workflows", &github).is_err());
    let gitlab = dir.path().join("bad.gitlab-ci.yml");
    std::fs::write(&gitlab, "job:\n  script: echo\n  parallel:\n    matrix: 3\n").unwrap();
    assert!(check("vendor.gitlab-ci", &gitlab).is_err());
}

/// A shebang naming a shell (`#!/bin/sh`, `#!/usr/bin/env bash`), not
/// another interpreter (the Python bench helpers).
fn is_shell_script(text: &str) -> bool {
    let shebang = text.lines().next().unwrap_or_default();
    shebang.starts_with("#!/") && shebang.split_whitespace().any(|word| word.ends_with("sh"))
}

/// Every shell script of the repository (CI entry, set-up, benches, the
/// dind stand-in's entrypoint), by its shebang, passes shellcheck at style
/// level: these run on fresh machines where a slip shows only there.
#[test]
fn the_repositorys_shell_scripts_pass_shellcheck() {
    let root = repo();
    let mut scripts: Vec<PathBuf> = [".ci", "ci", "ci/images/dind"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(root.join(dir)).unwrap())
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file() && std::fs::read_to_string(path).is_ok_and(|text| is_shell_script(&text)))
        .collect();
    scripts.sort();
    assert!(scripts.len() >= 6, "found {scripts:?}");
    let output =
        Command::new("shellcheck").args(["--severity=style", "--format=gcc"]).args(&scripts).output().unwrap_or_else(
            |e| panic!("cannot run shellcheck ({e}): `apt-get install shellcheck` (or run ci/test-tools)"),
        );
    assert!(output.status.success(), "shellcheck:\n{}", String::from_utf8_lossy(&output.stdout));
}
