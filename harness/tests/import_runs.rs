//! CI files imported with `harness import` and run with `harness run`, as
//! their owners would: the generated scenario must reproduce what the
//! hand-written one shows.
//!
//! - The first seed's `.gitlab-ci.yml` (its Dockerfile is ci-inline-cache's
//!   with the official cargo-chef image) on 26.1.5: `cargo chef cook`
//!   executed, reused, executed, reused, as `ci-inline-cache` shows.
//! - The seed as a GitHub workflow with docker/build-push-action and a
//!   registry cache (`mode=max`) on 28.5.2 with the containerd store: cook
//!   reused from the second job on.
//!
//! Both take several minutes (four jobs, cold `cargo chef cook` builds), so
//! they run with `make test-slow`.

mod common;
mod engine_support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin_cmd;
use common::report_json::{outcomes, read, reused};

const TIMEOUT: Duration = Duration::from_secs(2400);

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import").join(path)
}

/// `harness import FILE -o DIR`, its stdout.
fn import(file: &Path, out: &Path) -> String {
    let output = cargo_bin_cmd!("harness").arg("import").arg(file).arg("-o").arg(out).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "import failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

/// `harness run DIR --engine ENGINE --images local --out OUT`: exit code
/// and the report.
fn run(scenario: &Path, engine: &str, out: &Path) -> (Option<i32>, serde_json::Value) {
    let output = cargo_bin_cmd!("harness")
        .arg("run")
        .arg(scenario)
        .args(["--engine", engine, "--images", "local", "--out"])
        .arg(out)
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    eprintln!("{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.code(), read(out))
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "slow (four jobs, two cold cargo chef cooks): make test-slow"]
async fn the_imported_first_seed_alternates_on_26_1_5() {
    const ENGINE: &str = "26.1.5";
    let Some(images) = engine_support::stand_in(ENGINE).await else {
        return;
    };
    harness::engine::require_images(&[&images.chef]).await;
    let wall = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("seed");
    let stdout = import(&fixture("seed-gitlab/.gitlab-ci.yml"), &scenario);
    // `docker:dind` names no version: the newest, which has no stand-in.
    assert!(stdout.contains("engine 29: service `docker:dind` means the newest Docker: 29"), "{stdout}");
    assert!(stdout.contains("offline, 29 has no stand-in: harness run"), "{stdout}");
    assert!(stdout.contains("--engine 28.5.2 --images local"), "{stdout}");

    let out = tmp.path().join("run");
    let (code, report) = run(&scenario, ENGINE, &out);
    let cook = outcomes(&report, 4, "builder", "RUN cargo chef cook");
    eprintln!("cook on {ENGINE}: {cook:?}; wall time {:.1}s", wall.elapsed().as_secs_f64());
    let shape: Vec<bool> = cook.iter().map(|o| reused(o)).collect();
    assert_eq!(shape, [false, true, false, true], "executed, reused, executed, reused: {cook:?}");
    assert_eq!(cook[0], "executed");
    assert_eq!(cook[2], "executed");
    for job in report["jobs"].as_array().unwrap() {
        for verdict in job["verdicts"].as_array().unwrap() {
            assert_ne!(verdict["status"]["kind"], "fail", "job {}: {verdict:#}", job["number"]);
        }
    }
    // The seed ends with a bare `docker run $CI_REGISTRY_IMAGE:builder`,
    // which needs the image's `CMD ["bash"]` (inherited by the official
    // image; the chef stand-in has it since ci/images/chef says so).
    if chef_has_cmd(&images.chef) {
        assert_eq!(code, Some(0), "the imported scenario holds: {:#}", report["status"]);
    } else {
        eprintln!(
            "{} predates CMD [\"bash\"]: its bare `docker run` fails; rebuild it with `harness images build`",
            images.chef
        );
        let failures: Vec<String> = report["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|j| j["runs"].as_array().unwrap().iter().flat_map(|r| r["failures"].as_array().unwrap().clone()))
            .map(|f| f.as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(report["status"]["failures"], 4, "only the four run checks fail: {failures:?}");
        assert!(failures.iter().all(|f| f.contains("exit code was 125")), "{failures:?}");
    }
}

/// Whether the local chef stand-in has a default command.
fn chef_has_cmd(image: &str) -> bool {
    let output = std::process::Command::new("docker")
        .args(["image", "inspect", image, "--format", "{{json .Config.Cmd}}"])
        .output()
        .expect("the docker CLI runs");
    let text = String::from_utf8_lossy(&output.stdout);
    output.status.success() && text.trim() != "null"
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "slow (four jobs on the containerd store): make test-slow"]
async fn the_imported_build_push_action_reuses_cook_on_28_5_2_with_containerd() {
    const ENGINE: &str = "28.5.2";
    let Some(images) = engine_support::stand_in(ENGINE).await else {
        return;
    };
    harness::engine::require_images(&[&images.chef]).await;
    let wall = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("gh");
    let stdout = import(&fixture("github-build-push/.github/workflows/docker.yml"), &scenario);
    assert!(stdout.contains("engine 28.5.2"), "{stdout}");
    let text = std::fs::read_to_string(scenario.join("scenario.toml")).unwrap();
    assert!(text.contains("containerd_snapshotter = true") && text.contains("mode=max"), "{text}");

    let out = tmp.path().join("run");
    let (code, report) = run(&scenario, ENGINE, &out);
    assert_eq!(report["jobs"][0]["versions"]["containerd_store"], true, "the containerd image store is on");
    let id = report["jobs"][0]["commands"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|c| c["build"]["id"].as_str())
        .expect("a build")
        .to_owned();
    let cook = outcomes(&report, 4, &id, "RUN cargo chef cook");
    eprintln!("cook on {ENGINE} (containerd store): {cook:?}; wall time {:.1}s", wall.elapsed().as_secs_f64());
    assert_eq!(code, Some(0), "the imported scenario's expectations hold: {:#}", report["status"]);
    assert_eq!(cook[0], "executed");
    assert!(cook[1..].iter().all(|o| reused(o)), "cook reused from job 2 on: {cook:?}");
}
