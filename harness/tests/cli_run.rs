//! `harness run` and `harness images` on the built binary: bad input exits
//! with 2 and says what to fix, before any container starts.

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;

#[test]
fn unknown_scenario_names_the_known_ones() {
    cargo_bin_cmd!("harness")
        .args(["run", "no-such-scenario", "--images", "local"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no scenario `no-such-scenario`"))
        .stderr(predicate::str::contains("ci-inline-cache"));
}

#[test]
fn malformed_scenario_names_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("broken");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("Dockerfile"), "FROM {chef}\n").unwrap();
    std::fs::write(dir.join("scenario.toml"), "description = \"x\"\n\n[[job]]\ndaemon = \"tepid\"\n").unwrap();
    cargo_bin_cmd!("harness")
        .args(["run", "--images", "local"])
        .arg(&dir)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("failed to parse scenario at"))
        .stderr(predicate::str::contains("scenario.toml:4:"));
}

#[test]
fn engine_without_stand_in_is_refused_in_local_mode() {
    cargo_bin_cmd!("harness")
        .args(["run", "ci-inline-cache", "--engine", "24.0.7", "--images", "local"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`24.0.7` has no offline stand-in"));
}

#[test]
fn unknown_engine_lists_the_catalogue() {
    cargo_bin_cmd!("harness")
        .args(["run", "ci-inline-cache", "--engine", "19.03", "--images", "local"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`19.03` is not in the catalogue"));
}

#[test]
fn bad_image_mode_is_a_usage_error() {
    cargo_bin_cmd!("harness")
        .args(["run", "ci-inline-cache", "--images", "remote"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("expected `auto`, `official` or `local`"));
}

#[test]
fn images_only_rejects_unknown_names() {
    cargo_bin_cmd!("harness")
        .args(["images", "list", "--only", "harness/nope:1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`harness/nope:1` is not a stand-in image"));
}

#[test]
fn check_plan_prints_the_command_lines_without_docker() {
    cargo_bin_cmd!("harness")
        .args(["check", "ci-inline-cache", "--plan", "--engine", "26.1.5"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("job 4 (pipeline, fresh daemon)"))
        .stdout(predicate::str::contains(
            "$ DOCKER_BUILDKIT=1 docker build --progress=plain --target builder --cache-from \
             registry.harness.test:5000/ci-inline-cache/26.1.5:builder",
        ))
        .stderr(predicate::str::contains("ci-inline-cache: ok (4 jobs)"));
}

/// `--store` plans a scenario on other image stores than its own: an
/// override limited to one store shows on that store's plan only.
#[test]
fn check_plan_prints_one_plan_per_image_store() {
    cargo_bin_cmd!("harness")
        .args(["check", "ci-inline-cache", "--plan", "--engine", "28.5.2", "--store", "both"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("plan: ci-inline-cache on engine 28.5.2, classic image store"))
        .stdout(predicate::str::contains("plan: ci-inline-cache on engine 28.5.2, containerd image store"));
    cargo_bin_cmd!("harness")
        .args(["check", "ci-inline-cache", "--plan", "--store", "overlay"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown image store `overlay`"));
}

/// `make test` checks every shipped scenario and plans it on every stand-in
/// engine, without Docker: a scenario that no longer loads or plans fails
/// here before any long run.
#[test]
fn check_plans_every_shipped_scenario_on_every_stand_in_engine() {
    let root = harness::catalogue::workspace_root();
    let mut shipped: Vec<String> = std::fs::read_dir(root.join("scenarios"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().join("scenario.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    shipped.sort();
    assert!(shipped.len() >= 6, "shipped scenarios: {shipped:?}");
    let output = cargo_bin_cmd!("harness")
        .args(["check", "--plan", "--engine", "20.10.24", "--engine", "26.1.5", "--engine", "28.5.2"])
        .assert()
        .code(0)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    for name in &shipped {
        assert!(stderr.contains(&format!("{name}: ok (")), "{name} not checked:\n{stderr}");
        for engine in ["20.10.24", "26.1.5", "28.5.2"] {
            assert!(stdout.contains(&format!("plan: {name} on engine {engine}")), "{name} not planned on {engine}");
        }
    }
}

/// `harness run --context`: what it was given is checked before anything
/// starts, and each error names the path and the fix.
#[test]
fn context_errors_name_the_path_and_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no-such-repo");
    cargo_bin_cmd!("harness")
        .args(["run", "--images", "local", "--context"])
        .arg(&missing)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no-such-repo` does not exist"))
        .stderr(predicate::str::contains("--context DIR"));

    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(repo.join("src")).unwrap();
    std::fs::write(repo.join("src/main.rs"), "fn main() {}\n").unwrap();
    cargo_bin_cmd!("harness")
        .args(["run", "--images", "local", "--context"])
        .arg(&repo)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no Dockerfile at"))
        .stderr(predicate::str::contains("--dockerfile FILE"));

    std::fs::write(tmp.path().join("Dockerfile"), "FROM debian:bookworm-slim\n").unwrap();
    cargo_bin_cmd!("harness")
        .args(["run", "--images", "local", "--context"])
        .arg(&repo)
        .arg("--dockerfile")
        .arg(tmp.path().join("Dockerfile"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is outside the build context"));

    cargo_bin_cmd!("harness")
        .args(["run", "ci-inline-cache", "--dockerfile", "Dockerfile"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--context"));
}

#[test]
fn context_with_a_missing_pipeline_is_refused() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("Dockerfile"), "FROM debian:bookworm-slim\n").unwrap();
    cargo_bin_cmd!("harness")
        .args(["run", "--images", "local", "--pipeline", "no-such-scenario", "--context"])
        .arg(repo.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no scenario at `no-such-scenario`"));
}
