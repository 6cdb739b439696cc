//! `diagnose` on recorded logs: one test per known pattern and the unknown
//! case, each asserting the pattern it must name and snapshotting the text
//! report and the JSON (paths relative to the fixtures folder).

use std::path::{Path, PathBuf};

use harness::diagnose::{self, Diagnosis, Dockerfile, LogInput, Pattern, Severity};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn load(names: &[&str]) -> Vec<LogInput> {
    names
        .iter()
        .map(|n| {
            let path = fixtures().join(n);
            let mut log = LogInput::load(&path).unwrap_or_else(|e| panic!("{n}: {e}"));
            log.label = (*n).to_owned();
            log
        })
        .collect()
}

fn run(names: &[&str]) -> Diagnosis {
    diagnose::diagnose(&load(names), None)
}

/// Snapshots the text report and the JSON of a diagnosis.
fn snapshot(name: &str, d: &Diagnosis) {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::assert_snapshot!(format!("diagnose_{name}_text"), diagnose::text(d));
        insta::assert_json_snapshot!(format!("diagnose_{name}_json"), d);
    });
}

fn patterns(d: &Diagnosis) -> Vec<Pattern> {
    d.findings.iter().map(|f| f.pattern).collect()
}

fn finding(d: &Diagnosis, p: Pattern) -> &diagnose::Finding {
    d.findings.iter().find(|f| f.pattern == p).unwrap_or_else(|| panic!("no {p} in {:?}", patterns(d)))
}

fn inline_26_1(jobs: std::ops::RangeInclusive<u32>) -> Vec<String> {
    jobs.flat_map(|j| {
        [format!("logs/docker26.1-inline-job{j}-planner.log"), format!("logs/docker26.1-inline-job{j}-builder.log")]
    })
    .collect()
}

#[test]
fn inline_cache_alternation_on_26_1() {
    let names = inline_26_1(1..=4);
    let d = run(&names.iter().map(String::as_str).collect::<Vec<_>>());
    snapshot("alternation_26_1", &d);
    let f = finding(&d, Pattern::InlineCacheAlternation);
    assert_eq!(f.severity, Severity::Problem);
    assert_eq!(f.target.as_deref(), Some("builder"));
    assert!(f.summary.contains("miss, hit, miss, hit"), "{}", f.summary);
    assert!(f.links.iter().any(|l| l.ends_with("buildkit/issues/2274")));
    assert!(f.links.iter().any(|l| l.ends_with("buildkit/pull/7139")));
    // job 1 found no cache image: expected on a first run.
    assert_eq!(finding(&d, Pattern::CacheFromMissing).severity, Severity::Expected);
    assert!(!d.has(Pattern::Unknown), "{:?}", patterns(&d));
}

/// The harness's own ci-inline-cache run in `runs/<run>`: four jobs of
/// chef, planner and builder logs; cook alternates on the builder.
fn assert_inline_run_alternates(run_dir: &str) {
    let names: Vec<String> = (1..=4)
        .flat_map(|j| ["05-chef", "06-planner", "07-builder"].map(|b| format!("runs/{run_dir}/job-{j}/{b}.log")))
        .collect();
    let d = run(&names.iter().map(String::as_str).collect::<Vec<_>>());
    let f = finding(&d, Pattern::InlineCacheAlternation);
    assert_eq!(f.target.as_deref(), Some("builder"));
    assert!(f.summary.contains("miss, hit, miss, hit"), "{}", f.summary);
    assert!(!d.has(Pattern::Unknown), "{:?}", patterns(&d));
}

#[test]
fn the_harness_run_of_ci_inline_cache_on_26_1_alternates() {
    assert_inline_run_alternates("ci-inline-cache-26.1.5");
}

#[test]
fn every_stage_in_cache_from_does_not_avoid_the_alternation() {
    let names: Vec<String> = (1..=4)
        .flat_map(|j| {
            ["05-chef", "06-planner", "07-builder"]
                .map(|b| format!("runs/ci-cache-from-all-stages-26.1.5/job-{j}/{b}.log"))
        })
        .collect();
    let d = run(&names.iter().map(String::as_str).collect::<Vec<_>>());
    let f = finding(&d, Pattern::InlineCacheAlternation);
    assert_eq!(f.target.as_deref(), Some("builder"));
    assert!(
        f.evidence.iter().any(|c| c.text.contains("RUN cargo chef cook") && c.file.contains("job-3")),
        "{:?}",
        f.evidence
    );
    assert!(!d.has(Pattern::RemoteHitAsDone), "a FROM that pulled its base image is no cache hit");
}

#[test]
fn two_builds_are_not_enough_to_name_the_alternation() {
    let names = inline_26_1(2..=3);
    let d = run(&names.iter().map(String::as_str).collect::<Vec<_>>());
    snapshot("alternation_two_builds", &d);
    assert!(!d.has(Pattern::InlineCacheAlternation));
    let unknown = finding(&d, Pattern::Unknown);
    assert!(unknown.summary.contains("cannot be told apart"), "{}", unknown.summary);
    assert!(d.notes.iter().any(|n| n.contains("needs a third build")), "{:?}", d.notes);
}

#[test]
fn remote_cache_hits_on_28_5() {
    let d = run(&[
        "logs/docker28.5-containerd-registry-max-job1-builder.rawjson",
        "logs/docker28.5-containerd-registry-max-job2-builder.log",
        "logs/docker28.5-containerd-registry-max-job3-builder.log",
        "logs/docker28.5-containerd-registry-max-job4-builder.log",
    ]);
    snapshot("remote_28_5", &d);
    let f = finding(&d, Pattern::RemoteHitAsDone);
    assert!(f.summary.contains("RUN cargo chef cook"), "{}", f.summary);
    assert!(!d.has(Pattern::InlineCacheAlternation));
    assert!(!d.has(Pattern::Unknown), "{:?}", patterns(&d));
}

#[test]
fn copy_from_a_cache_mount() {
    let names: Vec<String> = (1..=3)
        .flat_map(|j| {
            [
                format!("runs/cache-mount-copy-26.1.5/job-{j}/01-naive.log"),
                format!("runs/cache-mount-copy-26.1.5/job-{j}/02-fixed.log"),
            ]
        })
        .collect();
    let logs = load(&names.iter().map(String::as_str).collect::<Vec<_>>());
    let d = diagnose::diagnose(&logs, None);
    snapshot("cache_mount_26_1", &d);
    let copies: Vec<_> = d.findings.iter().filter(|f| f.pattern == Pattern::CacheMountCopy).collect();
    assert_eq!(copies.len(), 1, "only the naive Dockerfile copies from the mount");
    assert!(copies[0].step.as_deref().unwrap().contains("/app/target/release/hello-world"));
    assert!(copies[0].summary.contains("stale"), "{}", copies[0].summary);

    let df =
        Dockerfile::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/cache-mount-copy/naive.Dockerfile"))
            .unwrap();
    let with_df = diagnose::diagnose(&logs, Some(&df));
    let f = finding(&with_df, Pattern::CacheMountCopy);
    assert!(f.evidence.iter().any(|c| c.file.ends_with("naive.Dockerfile")), "{:?}", f.evidence);
}

#[test]
fn copy_of_a_path_missing_from_the_stage() {
    let d = run(&["logs/synthetic-copy-missing-path.log"]);
    let f = finding(&d, Pattern::CacheMountCopy);
    assert!(f.summary.contains("the COPY failed"), "{}", f.summary);
}

#[test]
fn no_cache() {
    let d = run(&["diagnose/no-cache-job1.log", "diagnose/no-cache-job2.log"]);
    snapshot("no_cache", &d);
    assert_eq!(patterns(&d).iter().filter(|p| **p == Pattern::NoCache).count(), 1, "{:?}", patterns(&d));
}

#[test]
fn base_image_digest_changed() {
    let d = run(&["diagnose/base-changed-job1.log", "diagnose/base-changed-job2.log"]);
    snapshot("base_changed", &d);
    assert_eq!(patterns(&d), [Pattern::BaseImageChanged], "one moved base, one finding");
    let f = finding(&d, Pattern::BaseImageChanged);
    assert!(f.evidence.iter().any(|c| c.text.contains("a1a1")) && f.evidence.iter().any(|c| c.text.contains("b2b2")));
}

#[test]
fn instruction_changed() {
    let d = run(&["diagnose/instruction-job1.log", "diagnose/instruction-job2.log"]);
    snapshot("instruction_changed", &d);
    let f = finding(&d, Pattern::InstructionChanged);
    assert!(f.step.as_deref().unwrap().contains("for 1.4.2"));
}

#[test]
fn intermediate_stage_under_inline_cache() {
    let d =
        run(&["diagnose/intermediate-job1.log", "diagnose/intermediate-job2.log", "diagnose/intermediate-job3.log"]);
    snapshot("intermediate", &d);
    let f = finding(&d, Pattern::IntermediateStage);
    assert_eq!(f.target.as_deref(), Some("builder"));
    assert!(f.step.as_deref().unwrap().contains("[tools 1/1]"));
}

#[test]
fn cache_export_refused_by_the_docker_driver() {
    for name in ["diagnose/export-unsupported-new.log", "diagnose/export-unsupported-old.log"] {
        let d = run(&[name]);
        let f = finding(&d, Pattern::CacheExportUnsupported);
        assert_eq!(f.evidence[0].line, 3, "{name}: {:?}", f.evidence);
    }
    snapshot("export_unsupported", &run(&["diagnose/export-unsupported-new.log"]));
}

#[test]
fn context_changes_are_expected() {
    let d = run(&["logs/recorded-docker20.10-plain-run1.log", "logs/recorded-docker20.10-plain-edit.log"]);
    let f = finding(&d, Pattern::ContextChanged);
    assert_eq!(f.severity, Severity::Expected);
    assert!(f.step.as_deref().unwrap().contains("COPY src ./src"));
    assert!(!d.has(Pattern::Unknown), "{:?}", patterns(&d));
}

#[test]
fn a_dependency_that_really_changed() {
    let d = run(&["diagnose/dependency-job1.log", "diagnose/dependency-job2.log", "diagnose/dependency-job3.log"]);
    snapshot("dependency_changed", &d);
    let f = finding(&d, Pattern::DependenciesChanged);
    assert!(f.summary.contains("Compiling itoa v1.0.11"), "{}", f.summary);
    assert!(f.evidence.iter().any(|c| c.file.ends_with("job3.log") && c.text.contains("itoa")), "{:?}", f.evidence);
    assert!(!d.has(Pattern::InlineCacheAlternation), "new dependencies are a real change, not the alternation");
}

#[test]
fn the_harness_run_of_dependency_change_names_the_changed_recipe() {
    let names: Vec<String> = (1..=3).map(|j| format!("runs/dependency-change-26.1.5/job-{j}/01-app.log")).collect();
    let d = run(&names.iter().map(String::as_str).collect::<Vec<_>>());
    let f = finding(&d, Pattern::DependenciesChanged);
    assert!(f.summary.contains("itoa"), "the new dependency is named: {}", f.summary);
    assert!(f.evidence.iter().any(|c| c.file.contains("job-3")), "the miss is job 3's");
    assert!(!d.has(Pattern::InlineCacheAlternation) && !d.has(Pattern::Unknown), "{:?}", patterns(&d));
}

#[test]
fn the_harness_run_of_ci_registry_cache_max_shows_remote_hits() {
    let names: Vec<String> =
        (1..=4).map(|j| format!("runs/ci-registry-cache-max-26.1.5/job-{j}/01-builder.log")).collect();
    let d = run(&names.iter().map(String::as_str).collect::<Vec<_>>());
    let f = finding(&d, Pattern::RemoteHitAsDone);
    assert!(f.summary.contains("RUN cargo chef cook"), "{}", f.summary);
    assert!(!d.has(Pattern::InlineCacheAlternation) && !d.has(Pattern::Unknown), "{:?}", patterns(&d));
}

#[test]
fn the_harness_run_of_ci_inline_cache_on_28_5_alternates() {
    assert_inline_run_alternates("ci-inline-cache-28.5.2");
}
