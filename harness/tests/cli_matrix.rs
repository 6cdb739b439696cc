//! `harness matrix` and `harness report merge` on the built binary, without
//! Docker: bad flags exit with 2 and say what to fix; a rerun of a report
//! with nothing failed runs nothing.

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;
use rstest::rstest;

#[rstest]
#[case(&["--shard", "3/2"], "shard 3/2 does not exist: the index runs from 1 to 2")]
#[case(&["--shard", "0/2"], "shard 0/2 does not exist: the index runs from 1 to 2")]
#[case(&["--shard", "1/0"], "the shard count must be at least 1")]
#[case(&["--shard", "half"], "bad shard `half`: expected I/N")]
#[case(&["--parallel", "0"], "invalid value '0' for '--parallel <K>'")]
#[case(&["--store", "overlay"], "unknown image store `overlay`: expected `classic`, `containerd`, `both` or `scenario`")]
#[case(&["--progress", "fancy"], "invalid value 'fancy' for '--progress <MODE>'")]
#[case(&["--rerun-failed", "r.json", "--engines", "26.1.5"], "cannot be used with")]
#[case(&["--scenarios", "no-such-scenario", "--images", "local"], "no scenario `no-such-scenario`")]
#[case(&["--engines", "99.0", "--images", "local"], "engine `99.0` is not in the catalogue")]
fn bad_flags_are_usage_errors(#[case] args: &[&str], #[case] message: &str) {
    cargo_bin_cmd!("harness").arg("matrix").args(args).assert().code(2).stderr(predicate::str::contains(message));
}

#[test]
fn a_missing_rerun_report_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    cargo_bin_cmd!("harness")
        .args(["matrix", "--rerun-failed"])
        .arg(tmp.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("failed to read `{}", tmp.path().join("report.json").display())));
}

#[test]
fn a_rerun_of_a_report_without_failures_runs_nothing() {
    let report =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports/cache-mount-copy-26.1.5.json");
    cargo_bin_cmd!("harness")
        .args(["matrix", "--images", "local", "--rerun-failed"])
        .arg(&report)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("no failed cells in the report: nothing to run again"));
}

#[test]
fn merge_needs_an_input_and_reads_only_reports() {
    let tmp = tempfile::tempdir().unwrap();
    cargo_bin_cmd!("harness")
        .args(["report", "merge", "--out"])
        .arg(tmp.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("<DIR>"));
    std::fs::write(tmp.path().join("report.json"), "[]").unwrap();
    cargo_bin_cmd!("harness")
        .args(["report", "merge", "--out"])
        .arg(tmp.path().join("out"))
        .arg(tmp.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is neither a matrix report"));
}

/// The `harness matrix` line of a CI file, its engine variable set to
/// `engine`, as arguments.
fn ci_matrix_args(file: &str, engine: &str) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    // The command, not the comments that name it: the built binary's path.
    let command = "target/release/harness matrix";
    let start = text.find(command).unwrap_or_else(|| panic!("{file} runs no `{command}`"));
    let rest = &text[start + command.len()..];
    let end = rest.find("--out out/").unwrap_or_else(|| panic!("{file}: `harness matrix` without `--out out/`"));
    rest[..end]
        .replace("${{ matrix.engine }}", engine)
        .replace("\"$ENGINE\"", engine)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

#[rstest]
#[case(".github/workflows/nightly.yml")]
#[case("ci/gitlab/nightly.gitlab-ci.yml")]
fn the_ci_files_call_the_matrix_with_flags_it_has(#[case] file: &str) {
    let args = ci_matrix_args(file, "28.5.2");
    assert!(args.contains(&"--engines".to_owned()), "{file}: {args:?}");
    let tmp = tempfile::tempdir().unwrap();
    cargo_bin_cmd!("harness")
        .arg("matrix")
        .args(&args)
        .args(["--list", "--out"])
        .arg(tmp.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("ci-inline-cache/28.5.2/classic"))
        .stdout(predicate::str::contains("ci-inline-cache/28.5.2/containerd"));
}

#[test]
fn list_names_each_cell_and_why_it_cannot_run() {
    cargo_bin_cmd!("harness")
        .args(["matrix", "--images", "local", "--engines", "28.5.2,20.10.24", "--scenarios", "ci-registry-cache-max"])
        .args(["--list", "--store", "both"])
        .assert()
        .success()
        .stdout(predicate::eq(
            "ci-registry-cache-max/20.10.24/classic  unsupported: Debian's 20.10 has no buildx plugin and no containerd image store, so it cannot export a registry cache\n\
             ci-registry-cache-max/20.10.24/containerd  unsupported: Debian's 20.10 has no buildx plugin and no containerd image store, so it cannot export a registry cache\n\
             ci-registry-cache-max/28.5.2/classic  unsupported: the classic image store: the docker driver exports a `type=registry` cache only with the containerd image store\n\
             ci-registry-cache-max/28.5.2/containerd\n",
        ));
}

#[test]
fn shards_list_disjoint_cells_that_add_up_to_the_whole() {
    let list = |extra: &[&str]| {
        let out =
            cargo_bin_cmd!("harness").args(["matrix", "--images", "local", "--list"]).args(extra).output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        text.lines().map(|l| l.split_whitespace().next().unwrap().to_owned()).collect::<Vec<_>>()
    };
    let whole = list(&[]);
    // 8 scenarios × 3 stand-in engines × 2 stores.
    assert_eq!(whole.len(), 48, "{whole:?}");
    let mut shards: Vec<String> = (1..=3).flat_map(|i| list(&["--shard", &format!("{i}/3")])).collect();
    assert_eq!(shards.len(), whole.len());
    shards.sort();
    let mut sorted = whole.clone();
    sorted.sort();
    assert_eq!(shards, sorted);
    // The order of the flags does not change a shard.
    assert_eq!(
        list(&["--shard", "2/3", "--engines", "28.5.2,26.1.5,20.10.24"]),
        list(&["--engines", "20.10.24,26.1.5,28.5.2", "--shard", "2/3"])
    );
}

/// A scenario none of whose cells can run gets no registry (nor its ~40 s
/// seed): the matrix only reports why, with all four reports.
#[test]
fn a_matrix_of_unsupported_cells_starts_no_registry() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("m");
    cargo_bin_cmd!("harness")
        .args(["matrix", "--images", "local", "--engines", "20.10.24", "--scenarios", "ci-registry-cache-max"])
        .args(["--store", "both", "--progress", "plain", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains("ready in").not())
        .stderr(predicate::str::contains("seeded").not())
        .stderr(predicate::str::contains("[2/2] ci-registry-cache-max/20.10.24/containerd unsupported"));
    for report in ["report.json", "junit.xml", "summary.md", "report.html"] {
        assert!(out.join(report).is_file(), "{report} not written");
    }
    let json = std::fs::read_to_string(out.join("report.json")).unwrap();
    assert_eq!(json.matches("\"unsupported\"").count(), 2, "{json}");
}
