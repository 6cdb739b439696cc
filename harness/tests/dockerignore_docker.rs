//! The context copy leaves out exactly what Docker leaves out.
//!
//! For each `.dockerignore` below, the host engine builds `FROM scratch` +
//! `COPY . /` with BuildKit and exports the result to a folder
//! (`--output type=local`: no image, no container); the harness's copy of the
//! same context must hold the same paths, folders included, with the rules
//! of the host engine's generation ([`Dialect`]). The run's copy keeps the
//! union of both generations; the builder inside each dind filters it again.

use std::path::{Path, PathBuf};
use std::process::Command;

use harness::dockerignore::{ContextRules, Dialect};
use harness::fsutil::copy_context;
use rstest::rstest;

/// Files of every test context (folders follow from them, plus one empty).
const FILES: &[&str] = &[
    "Cargo.toml",
    "README.md",
    "CHANGELOG.md",
    "abc",
    "a.txt",
    "b.txt",
    "c.txt",
    "keep.txt",
    "src/main.rs",
    "src/lib.md",
    "src/gen/a.rs",
    "src/gen/keep.rs",
    "target/release/app",
    "target/debug/x.log",
    "logs/today.log",
    "web/node_modules/pkg/index.js",
    "web/app.js",
    "docs/guide/intro.md",
    "docs/guide/notes.txt",
    "docs/index.txt",
    "abs/path/file",
    "dot/x",
    "dir/file",
    "x/deep/file",
    "x/mid/file",
    "mid/file",
    "spaced",
    "weird+name(1).txt",
];

/// The host CLI with BuildKit built in (20.10), else the one on PATH.
fn docker_cli() -> PathBuf {
    let builtin = Path::new("/usr/bin/docker");
    if builtin.is_file() {
        builtin.to_owned()
    } else {
        PathBuf::from("docker")
    }
}

/// Every path under `root`, folders with a trailing `/`, sorted, without
/// `.dockerignore` (the harness keeps it; Docker reads it either way).
fn listing(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                out.push(format!("{rel}/"));
                walk(root, &path, out);
            } else if rel != ".dockerignore" {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

#[rstest]
#[case::folder_and_exception("target\n*.md\n!CHANGELOG.md\n")]
#[case::allow_list("*\n!src\nsrc/gen\n!src/gen/keep.rs\n")]
#[case::double_star("**/*.log\n**/node_modules\ndocs/**\n!docs/**/*.txt\n")]
#[case::globs_and_cleaning("a?c\n[ab].txt\n/abs/path\n./dot/x\n# comment\n  spaced  \nweird+name(1).txt\n")]
#[case::order_matters("!keep.txt\n*.txt\n")]
#[case::folder_forms("dir/\n**/deep\n*/mid\nsrc/*.md\n")]
#[case::exception_into_excluded_folder("docs\n!docs/guide/notes.txt\n")]
#[tokio::test(flavor = "multi_thread")]
async fn the_copy_matches_what_buildkit_sends(#[case] ignore: &str) {
    if !harness::engine::require_docker().await {
        return;
    }
    let context = tempfile::tempdir().unwrap();
    for file in FILES {
        let path = context.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, file).unwrap();
    }
    std::fs::create_dir_all(context.path().join("empty/dir")).unwrap();
    std::fs::write(context.path().join(".dockerignore"), ignore).unwrap();
    // Outside the context, so the build sees only the context's own files.
    let outside = tempfile::tempdir().unwrap();
    let dockerfile = outside.path().join("Dockerfile");
    std::fs::write(&dockerfile, "FROM scratch\nCOPY . /\n").unwrap();
    let exported = outside.path().join("out");

    let output = Command::new(docker_cli())
        .env("DOCKER_BUILDKIT", "1")
        .args(["build", "--quiet", "--file"])
        .arg(&dockerfile)
        .arg("--output")
        .arg(format!("type=local,dest={}", exported.display()))
        .arg(context.path())
        .output()
        .expect("the docker CLI runs");
    assert!(output.status.success(), "docker build failed: {}", String::from_utf8_lossy(&output.stderr));

    let version = Command::new(docker_cli()).args(["version", "--format", "{{.Server.Version}}"]).output().unwrap();
    let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    let dialect =
        if version.starts_with("20.") || version.starts_with("19.") { Dialect::Legacy } else { Dialect::Current };
    let rules = ContextRules::for_dockerfiles(context.path(), &[]).unwrap().only(dialect);
    let copy = outside.path().join("copy");
    copy_context(context.path(), &copy, &rules).unwrap();
    assert_eq!(listing(&copy), listing(&exported), "engine {version}, {dialect:?} rules, .dockerignore:\n{ignore}");
}
