//! The nightly CI definitions pass their linters: check-jsonschema with its
//! bundled GitHub Actions workflow and GitLab CI schemas (no network).

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
