//! The outcomes each fixture must give, written out by hand: the real CI
//! logs (20.10, 26.1, 28.5 with a registry cache), the recorded buildx
//! builds, and one synthetic log per case the parser handles. Snapshots
//! catch any change; these say which results are the point.

use std::path::{Path, PathBuf};

use harness::progress::{parse_path, Build, Format, Mark, Outcome, Step};
use rstest::rstest;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/logs").join(name)
}

fn parse(name: &str) -> Vec<Build> {
    parse_path(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e:#}"))
}

fn one(name: &str) -> Build {
    let mut builds = parse(name);
    assert_eq!(builds.len(), 1, "{name}: one build");
    builds.remove(0)
}

/// Outcomes in step order, as `harness parse` prints them.
fn outcomes(build: &Build) -> Vec<String> {
    build.steps.iter().map(|s| s.outcome.to_string()).collect()
}

fn step<'a>(build: &'a Build, needle: &str) -> &'a Step {
    build.step(needle).unwrap_or_else(|| panic!("no step matching {needle:?}"))
}

const COOK: &str = "cargo chef cook";

#[rstest]
#[case("docker20.10-inline-job1-builder.log", "executed")]
#[case("docker20.10-inline-job2-builder.log", "cached")]
#[case("docker20.10-inline-job3-builder.log", "cached")]
#[case("docker20.10-inline-job4-builder.log", "cached")]
#[case("docker26.1-inline-job1-builder.log", "executed")]
#[case("docker26.1-inline-job2-builder.log", "cached")]
#[case("docker26.1-inline-job3-builder.log", "executed")]
#[case("docker26.1-inline-job4-builder.log", "cached")]
#[case("docker28.5-containerd-registry-max-job1-builder.rawjson", "executed")]
#[case("docker28.5-containerd-registry-max-job2-builder.rawjson", "cached")]
#[case("docker28.5-containerd-registry-max-job2-builder.log", "remote")]
#[case("docker28.5-containerd-registry-max-job3-builder.log", "remote")]
#[case("docker28.5-containerd-registry-max-job4-builder.log", "remote")]
fn the_cook_step_of_each_real_ci_log(#[case] log: &str, #[case] want: &str) {
    let build = one(log);
    assert_eq!(step(&build, COOK).outcome.to_string(), want, "{log}");
    assert!(build.error.is_none() && !build.truncated, "{log}");
}

#[test]
fn docker_26_1_inline_cache_alternates_between_executed_and_cached() {
    let cook: Vec<Outcome> =
        (1..=4).map(|job| step(&one(&format!("docker26.1-inline-job{job}-builder.log")), COOK).outcome).collect();
    assert_eq!(cook, [Outcome::Executed, Outcome::Cached, Outcome::Executed, Outcome::Cached]);
}

#[test]
fn docker_28_5_registry_max_job3_cook_is_remote_not_cached() {
    let build = one("docker28.5-containerd-registry-max-job3-builder.log");
    let cook = step(&build, COOK);
    assert_eq!(cook.outcome, Outcome::Remote);
    assert!(cook.outcome.is_reused());
    assert_eq!(cook.evidence.output_lines, 0);
    assert_eq!(cook.evidence.layers_extracted.len(), 2);
    assert_eq!(cook.evidence.results.last(), Some(&Mark::Done { seconds: Some(1.0) }));
    assert_eq!(cook.duration, Some(1.0));
    assert_eq!(cook.vertex, 11);
    assert_eq!(cook.name(), "[builder 2/4] RUN cargo chef cook --release --recipe-path recipe.json");
}

#[rstest]
#[case::d20_job1(
    "docker20.10-inline-job1-builder.log",
    "cached cached cached cached executed? executed executed? executed"
)]
#[case::d20_job2("docker20.10-inline-job2-builder.log", "cached cached cached cached cached cached executed? executed")]
#[case::d26_job1(
    "docker26.1-inline-job1-builder.log",
    "cached cached cached cached executed? executed executed? executed"
)]
#[case::d26_job2("docker26.1-inline-job2-builder.log", "cached cached cached cached cached cached executed? executed")]
#[case::d26_job3(
    "docker26.1-inline-job3-builder.log",
    "cached cached cached cached executed? executed executed? executed"
)]
#[case::d26_job4("docker26.1-inline-job4-builder.log", "cached cached cached cached cached cached executed? executed")]
#[case::d26_plan1("docker26.1-inline-job1-planner.log", "cached cached executed? executed?")]
#[case::d26_plan2("docker26.1-inline-job2-planner.log", "cached cached executed? executed?")]
#[case::d28_job2(
    "docker28.5-containerd-registry-max-job2-builder.log",
    "cached remote executed? executed? cached remote executed? executed"
)]
#[case::d28_job4(
    "docker28.5-containerd-registry-max-job4-builder.log",
    "cached remote executed? executed? cached remote executed? executed"
)]
#[case::d28_raw1(
    "docker28.5-containerd-registry-max-job1-builder.rawjson",
    "pulled executed? executed? executed? executed? executed executed? executed"
)]
#[case::d28_raw2(
    "docker28.5-containerd-registry-max-job2-builder.rawjson",
    "cached cached cached cached cached cached cached remote"
)]
#[case::rec20_run1(
    "recorded-docker20.10-plain-run1.log",
    "cached executed executed executed executed executed executed executed"
)]
#[case::rec20_edit(
    "recorded-docker20.10-plain-edit.log",
    "cached cached cached cached cached executed executed executed"
)]
#[case::rec26_raw1(
    "recorded-docker26.1-buildx0.13-run1.rawjson",
    "cached executed executed executed executed executed executed executed"
)]
#[case::rec26_raw2(
    "recorded-docker26.1-buildx0.13-run2.rawjson",
    "cached cached cached cached cached cached cached cached"
)]
#[case::rec28_raw1(
    "recorded-docker28.5-buildx0.29-run1.rawjson",
    "cached executed executed executed executed executed executed executed"
)]
#[case::rec28_raw2(
    "recorded-docker28.5-buildx0.29-run2.rawjson",
    "cached cached cached cached cached cached cached cached"
)]
#[case::rec28_raw3(
    "recorded-docker28.5-buildx0.29-run3-edit.rawjson",
    "cached cached cached cached cached executed executed executed"
)]
#[case::rec28_edit(
    "recorded-docker28.5-plain-edit.log",
    "cached cached cached cached cached executed executed executed"
)]
#[case::rec28_target("recorded-docker28.5-plain-target-deps.log", "cached cached cached cached")]
fn every_step_of_single_build_logs(#[case] log: &str, #[case] want: &str) {
    assert_eq!(outcomes(&one(log)).join(" "), want, "{log}");
}

#[rstest]
#[case(
    "recorded-docker20.10-plain-fail.log",
    "executor failed running [/bin/sh -c echo \"about to fail\" && sleep 1 && exit 3]: exit code: 3"
)]
#[case("recorded-docker26.1-plain-fail.log", "failed to solve: process \"/bin/sh -c echo \\\"about to fail\\\" && sleep 1 && exit 3\" did not complete successfully: exit code: 3")]
#[case("recorded-docker28.5-plain-fail.log", "failed to build: failed to solve: process \"/bin/sh -c echo \\\"about to fail\\\" && sleep 1 && exit 3\" did not complete successfully: exit code: 3")]
#[case("recorded-docker28.5-buildx0.29-fail.rawjson", "failed to build: failed to solve: process \"/bin/sh -c echo \\\"about to fail\\\" && sleep 1 && exit 3\" did not complete successfully: exit code: 3")]
fn failed_builds_give_error_canceled_and_absent_steps(#[case] log: &str, #[case] error: &str) {
    let build = one(log);
    assert_eq!(build.error.as_deref(), Some(error));
    assert!(build.failed());
    assert_eq!(step(&build, "exit 3").outcome, Outcome::Error);
    assert!(step(&build, "exit 3").why.starts_with("ERROR: "), "{}", step(&build, "exit 3").why);
    assert_eq!(step(&build, "slow end").outcome, Outcome::Canceled);
    // `[slow 1/2] FROM` is merged with `[fails 1/2] FROM`: never printed.
    let slow_from = build.steps.iter().find(|s| s.stage.as_deref() == Some("slow") && s.index == Some(1)).unwrap();
    assert_eq!(slow_from.outcome, Outcome::Absent);
    assert_eq!(slow_from.vertex, 0);
    let unstarted = build.steps.iter().filter(|s| s.stage.as_deref() == Some("stage-2")).count();
    let want = if build.format == Format::Rawjson { 2 } else { 0 };
    assert_eq!(unstarted, want, "rawjson lists never-started steps, plain never prints them");
}

#[test]
fn a_failed_cache_import_is_kept_apart_and_does_not_fail_the_build() {
    let build = one("docker20.10-inline-job1-builder.log");
    assert_eq!(build.error, None);
    let import = build.internal.iter().find(|v| v.name.starts_with("importing cache manifest")).unwrap();
    assert_eq!(import.error.as_deref(), Some("registry:5000/hw20:builder: not found"));
    assert!(build.steps.iter().all(|s| !s.name().contains("importing")));
}

#[test]
fn the_20_10_client_gives_vertex_digests() {
    let build = one("docker20.10-inline-job1-builder.log");
    assert_eq!(
        step(&build, COOK).digest.as_deref(),
        Some("sha256:cf012fa172a4c216c7b0191e13e1d5c6c7bf2d6c4a03315678d27686a20e2409")
    );
    assert!(build.builder.is_none());
}

#[test]
fn rawjson_gives_digests_durations_and_output() {
    let build = one("docker28.5-containerd-registry-max-job1-builder.rawjson");
    let cook = step(&build, COOK);
    assert_eq!(cook.digest.as_deref().map(|d| &d[..19]), Some("sha256:0d2ca657a966"));
    assert_eq!(cook.evidence.output_lines, 43);
    assert_eq!(
        cook.evidence.output_tail.last().map(String::as_str),
        Some("    Finished `release` profile [optimized] target(s) in 28.04s")
    );
    assert!((cook.duration.unwrap() - 28.4).abs() < 0.1, "{:?}", cook.duration);
    assert_eq!(build.warnings.len(), 1);
}

#[test]
fn the_seed_ci_log_misses_the_cache_and_the_local_log_hits_it() {
    let ci = parse("seed-gitlab-ci-two-builds.log");
    let local = parse("seed-local-two-builds.log");
    assert_eq!(ci.len(), 2);
    assert_eq!(local.len(), 2);
    assert_eq!(step(&ci[1], COOK).outcome, Outcome::Executed);
    assert_eq!(step(&ci[1], "recipe.json recipe.json").outcome, Outcome::ExecutedUnsure);
    assert_eq!(step(&local[1], COOK).outcome, Outcome::Cached);
    assert_eq!(ci[0].builder.as_deref(), Some("\"default\" instance using docker driver"));
}

#[test]
fn interleaved_output_repeated_headers_and_several_results() {
    let build = one("synthetic-interleaved.log");
    assert_eq!(outcomes(&build).join(" "), "cached executed executed remote executed?");
    let left = step(&build, "echo left");
    assert_eq!(left.evidence.output_lines, 3);
    assert_eq!(left.evidence.output_tail, ["left 1", "left 2", "left 3"]);
    assert_eq!(step(&build, "echo right").evidence.output_lines, 2);
    let workdir = step(&build, "WORKDIR /srv");
    assert_eq!(workdir.evidence.results, [Mark::Cached, Mark::Done { seconds: Some(0.3) }]);
    assert!(workdir.why.starts_with("CACHED, then fetched 1 layer"), "{}", workdir.why);
    assert!(step(&build, "echo left").digest.is_some());
    assert!(!build.truncated);
}

#[rstest]
#[case("synthetic-crlf-ansi.log", "docker26.1-inline-job3-builder.log")]
#[case("synthetic-github-actions.log", "docker26.1-inline-job2-builder.log")]
fn decorated_logs_read_like_the_originals(#[case] decorated: &str, #[case] original: &str) {
    let (a, b) = (one(decorated), one(original));
    let summary =
        |b: &Build| b.steps.iter().map(|s| (s.name(), s.outcome, s.duration, s.why.clone())).collect::<Vec<_>>();
    assert_eq!(summary(&a), summary(&b));
    assert_eq!(a.internal, b.internal);
    assert_eq!(a.builder, b.builder);
}

#[test]
fn padded_indices_and_unnamed_stages() {
    let builds = parse("synthetic-step-names.log");
    assert_eq!(builds.len(), 2);
    let multi = &builds[0];
    let second = step(multi, "WORKDIR /app");
    assert_eq!((second.stage.as_deref(), second.index, second.total), (Some("builder"), Some(2), Some(10)));
    assert_eq!(second.name(), "[builder 2/10] WORKDIR /app");
    assert_eq!(step(multi, "useradd").stage.as_deref(), Some("stage-1"));
    assert_eq!(
        outcomes(multi).join(" "),
        "cached cached cached cached cached cached cached executed executed executed cached cached executed"
    );
    let single = &builds[1];
    assert!(single.steps.iter().all(|s| s.stage.is_none() && s.total == Some(3)));
    assert_eq!(step(single, "run.sh /run.sh").name(), "[2/3] COPY run.sh /run.sh");
    assert_eq!(outcomes(single).join(" "), "cached cached executed");
}

#[test]
fn platform_prefixes_auth_and_builder_vertices() {
    let build = one("synthetic-platforms.log");
    let amd = |n: u32| {
        build.steps.iter().find(|s| s.platform.as_deref() == Some("linux/amd64") && s.index == Some(n)).unwrap()
    };
    let arm = |n: u32| {
        build.steps.iter().find(|s| s.platform.as_deref() == Some("linux/arm64") && s.index == Some(n)).unwrap()
    };
    assert_eq!((amd(1).outcome, arm(1).outcome), (Outcome::Pulled, Outcome::Cached));
    assert_eq!((amd(2).outcome, arm(2).outcome), (Outcome::Executed, Outcome::Cached));
    assert_eq!(amd(2).name(), "[linux/amd64 2/3] RUN apk add --no-cache curl");
    assert_eq!(build.steps.len(), 6);
    let names: Vec<&str> = build.internal.iter().map(|v| v.name.as_str()).collect();
    assert!(names.contains(&"[auth] library/alpine:pull token for registry-1.docker.io"));
    assert!(names.contains(&"[linux/arm64 internal] load metadata for docker.io/library/alpine:3.19"));
    assert!(names.contains(&"[internal] booting buildkit"));
    assert_eq!(build.builder.as_deref(), Some("\"multi\" instance using docker-container driver"));
}

#[test]
fn a_log_cut_mid_step_is_truncated_with_the_rest_absent() {
    let build = one("synthetic-truncated.log");
    assert!(build.truncated);
    assert_eq!(build.error, None);
    let cook = step(&build, COOK);
    assert_eq!(cook.outcome, Outcome::Executed);
    assert!(cook.why.contains("log ends before it finished"), "{}", cook.why);
    assert_eq!(cook.evidence.output_tail.last().map(String::as_str), Some("   Compil"));
    let absent: Vec<String> = build.steps.iter().filter(|s| s.outcome == Outcome::Absent).map(Step::name).collect();
    assert_eq!(absent, ["[builder 3/4]", "[builder 4/4]"]);
    assert!(build
        .steps
        .iter()
        .filter(|s| s.outcome == Outcome::Absent)
        .all(|s| s.why == "never printed: the log ends before it"));
}

#[test]
fn a_copy_of_a_missing_path_fails_the_build() {
    let build = one("synthetic-copy-missing-path.log");
    let copy = step(&build, "COPY --from=builder /app/target/release/rest api");
    assert_eq!(copy.outcome, Outcome::Error);
    assert!(build.error.as_deref().unwrap().contains("failed to compute cache key"));
    assert_eq!(step(&build, "--mount=type=cache").outcome, Outcome::Executed);
    assert_eq!(step(&build, "--mount=type=cache").keyword(), "RUN");
}

#[test]
fn a_ci_job_log_holds_one_build_per_docker_build_call() {
    let builds = parse("synthetic-gitlab-three-builds.log");
    assert_eq!(builds.iter().map(|b| b.steps.len()).collect::<Vec<_>>(), [2, 4, 8]);
    assert_eq!(step(&builds[2], COOK).outcome, Outcome::Executed);
    assert!(builds.iter().all(|b| b.error.is_none() && !b.truncated));
    // Without `#0`, the 20.10 client's builds split where numbering restarts.
    let builds = parse("synthetic-docker20.10-two-builds.log");
    assert_eq!(builds.len(), 2);
    let cook: Vec<Outcome> = builds.iter().map(|b| step(b, COOK).outcome).collect();
    assert_eq!(cook, [Outcome::Executed, Outcome::Cached]);
}

#[test]
fn rawjson_streams_split_into_builds_and_cut_logs_are_truncated() {
    let builds = parse("synthetic-rawjson-two-builds.rawjson");
    assert_eq!(builds.len(), 2);
    assert_eq!(step(&builds[0], "cat src/main.txt").outcome, Outcome::Executed);
    assert!(builds[1].steps.iter().all(|s| s.outcome == Outcome::Cached));
    for cut in ["synthetic-rawjson-cut.rawjson", "synthetic-rawjson-pretty-cut.rawjson"] {
        let build = one(cut);
        assert!(build.truncated, "{cut}");
        assert_eq!(step(&build, "cooking").outcome, Outcome::Executed, "{cut}");
        assert!(build.steps.iter().any(|s| s.outcome == Outcome::Absent), "{cut}");
    }
}

#[test]
fn warnings_are_collected_once() {
    let build = one("recorded-docker28.5-plain-edit.log");
    assert_eq!(build.warnings, ["FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 1)"]);
    let raw = one("recorded-docker28.5-buildx0.29-run1.rawjson");
    assert_eq!(raw.warnings, ["FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 1)"]);
}

#[test]
fn builds_round_trip_through_json() {
    let builds = parse("docker28.5-containerd-registry-max-job3-builder.log");
    let json = serde_json::to_string(&builds).unwrap();
    assert!(json.contains(r#""outcome":"remote""#));
    assert!(json.contains(r#""outcome":"executed?""#));
    let back: Vec<Build> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, builds);
}
