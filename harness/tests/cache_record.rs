//! The seed pipeline (`ci-inline-cache`, and its registry-cache variant) on
//! fresh daemons, job by job with a source edit between, reading after each
//! job the cache every pushed ref carries with the harness's own registry
//! client: the Docker integration test of `cache::fetch` and `cache::decode`.
//!
//! It checks what the registry returns against the daemon's own view (the
//! image's diff ids), that the builder's steps are covered, and prints the
//! counts per job. With `HARNESS_RECORD_CACHE=1` it also writes what it read
//! to `tests/fixtures/cache/<set>/job-<n>/`, which the offline tests in
//! `cache_fixtures.rs` decode. Only 26.1.5 (three jobs, the fewest that show
//! moby/buildkit#2274) runs by default; the others are `--ignored`:
//! `HARNESS_RECORD_CACHE=1 cargo test -p harness --test cache_record -- --ignored --nocapture`
//! (`HARNESS_CACHE_JOBS=N` runs N jobs instead).

mod cache_support;
mod engine_support;

use std::path::Path;
use std::time::{Duration, Instant};

use cache_support::{write_json, RecordedBuild, RecordedStep};
use harness::cache::{cover, FetchOptions, RegistryAuth, RegistryClient, StepLayer};
use harness::engine::{Daemon, DaemonOptions, Registry, RunLabel};
use harness::progress;
use harness::runner::map_layers;

const TIMEOUT: Duration = Duration::from_secs(1200);
const COOK: &str = "RUN cargo chef cook";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// The seed: classic builds with `--cache-from` and inline cache.
    Inline,
    /// One buildx build with a registry cache, mode=max.
    RegistryMax,
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "slow (about 5 min on 2 cores): `make test-slow`"]
async fn inline_26_1_records_per_job() {
    record("26.1.5", Mode::Inline, false, 3).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "about 5 min; records fixtures with HARNESS_RECORD_CACHE=1"]
async fn inline_20_10_records_per_job() {
    record("20.10.24", Mode::Inline, false, 4).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "about 5 min; records fixtures with HARNESS_RECORD_CACHE=1"]
async fn inline_26_1_records_four_jobs() {
    record("26.1.5", Mode::Inline, false, 4).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "about 5 min; records fixtures with HARNESS_RECORD_CACHE=1"]
async fn inline_28_5_records_per_job() {
    record("28.5.2", Mode::Inline, false, 4).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "about 4 min; records fixtures with HARNESS_RECORD_CACHE=1"]
async fn registry_max_28_5_containerd_records_per_job() {
    record("28.5.2", Mode::RegistryMax, true, 4).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "about 4 min; records fixtures with HARNESS_RECORD_CACHE=1"]
async fn registry_max_26_1_containerd_records_per_job() {
    record("26.1.5", Mode::RegistryMax, true, 4).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "about 5 min; records fixtures with HARNESS_RECORD_CACHE=1"]
async fn inline_28_5_containerd_records_per_job() {
    record("28.5.2", Mode::Inline, true, 4).await;
}

fn set_name(version: &str, mode: Mode, containerd: bool) -> String {
    let store = if containerd { "containerd" } else { "classic" };
    match mode {
        Mode::Inline => format!("inline-{version}-{store}"),
        Mode::RegistryMax => format!("registry-max-{version}-{store}"),
    }
}

async fn record(version: &str, mode: Mode, containerd: bool, jobs: u32) {
    let wall = Instant::now();
    // Fewer jobs for a quicker check; three is the least that shows #2274.
    let jobs = std::env::var("HARNESS_CACHE_JOBS").ok().and_then(|n| n.parse().ok()).unwrap_or(jobs).max(1);
    let Some(images) = engine_support::stand_in(version).await else { return };
    harness::engine::require_images(&[&images.chef]).await;
    let set = set_name(version, mode, containerd);
    let recording = std::env::var_os("HARNESS_RECORD_CACHE").is_some_and(|v| v == "1");
    let label = RunLabel::unique();
    let (registry, _, _) = engine_support::registry_with_runtime(&images, &label, true).await;
    let chef = registry.seed(&images.chef, "harness/chef:rust-1").await.expect("the chef image is seeded");
    let image = format!("{}/cache-record/{version}", registry.name());
    let auth = registry.credentials().map(|(u, p)| RegistryAuth::new(u, p));
    let client = RegistryClient::new(FetchOptions::run_registry(registry.ca_pem(), &registry.host_address(), auth))
        .expect("a client for the run's registry");
    let logs = engine_support::log_dir(&format!("cache-record-{set}"));

    let mut cook = Vec::new();
    for job in 1..=jobs {
        let context = context(&chef, job);
        let daemon = Daemon::start(
            &images.dind,
            &registry,
            DaemonOptions::default().with_label(label.clone()).with_containerd_store(containerd),
        )
        .await
        .unwrap_or_else(|e| panic!("[{set}] dind {job} starts: {e:?}"));
        daemon.copy_dir(context.path(), "/ctx").await.unwrap();
        let log = logs.join(format!("job-{job}.log"));
        let outcome = daemon.exec(&script(mode), &[("IMAGE".into(), image.clone())], &log, TIMEOUT).await.unwrap();
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(outcome.success(), "[{set}] job {job} failed ({outcome:?}), log {}:\n{text}", log.display());

        let build = progress::parse_path(&log).unwrap().pop().expect("the log holds the builder's build");
        let builder_ref = format!("{image}:builder");
        let history = daemon.image_history(&builder_ref).await.unwrap();
        let diff_ids = daemon.image_layers(&builder_ref).await.unwrap();
        let mapped = map_layers(&build.steps, Some("builder"), &history);
        let steps: Vec<RecordedStep> = build
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.vertex > 0)
            .map(|(i, s)| RecordedStep {
                step: StepLayer {
                    name: s.name(),
                    stage: s.stage.clone(),
                    index: s.index,
                    layer: mapped.iter().find(|(m, _)| *m == i).map(|(_, l)| l.clone()),
                },
                outcome: serde_json::to_value(s.outcome).unwrap().as_str().unwrap_or_default().to_owned(),
            })
            .collect();
        let versions = daemon.versions().clone();
        let metadata = metadata_files(&daemon, mode).await;
        daemon.stop().await.unwrap();
        if recording {
            let recorded = RecordedBuild {
                engine: versions.engine.clone(),
                buildkit: versions.buildkit.clone(),
                containerd_store: versions.containerd_store,
                job,
                steps: steps.clone(),
            };
            write_json(&cache_support::job_dir(&set, job).join("builder.steps.json"), &recorded);
            for (target, text) in &metadata {
                let value: serde_json::Value = serde_json::from_str(text)
                    .unwrap_or_else(|e| panic!("[{set}] job {job}: {target}'s metadata file is not JSON: {e}"));
                write_json(&cache_support::job_dir(&set, job).join(format!("{target}.metadata.json")), &value);
            }
        }
        let with_provenance: Vec<&str> =
            metadata.iter().filter(|(_, t)| t.contains("buildx.build.provenance")).map(|(t, _)| *t).collect();
        eprintln!(
            "[{set}] job {job}: metadata files {:?}, with provenance {with_provenance:?}",
            metadata.iter().map(|(t, _)| *t).collect::<Vec<_>>()
        );

        let refs: Vec<(&str, String)> = match mode {
            Mode::Inline => ["chef", "planner", "builder"].iter().map(|t| (*t, format!("{image}:{t}"))).collect(),
            // The builder image carries no inline cache here: only the export.
            Mode::RegistryMax => vec![("cache", format!("{image}:cache"))],
        };
        for (target, reference) in &refs {
            let fetched = client.fetch(reference).await.unwrap_or_else(|e| panic!("[{set}] job {job}: {e:#}"));
            if *target == "builder" && mode == Mode::Inline {
                assert_eq!(fetched.image_layers, diff_ids, "[{set}] the registry's config agrees with the daemon");
            }
            if recording {
                write_json(&cache_support::job_dir(&set, job).join(format!("{target}.json")), &fetched.documents);
            }
            let exported = if *target == "cache" || mode == Mode::Inline && *target == "builder" {
                let layers: Vec<StepLayer> = steps.iter().map(|s| s.step.clone()).collect();
                let covered = cover(reference, &fetched.config, &layers);
                let cook_step = covered.steps.iter().find(|s| s.step.contains(COOK)).expect("a cook step");
                eprintln!(
                    "[{set}] job {job} {target}: {} records, {} with layers, {} layers; cook key {:?} with layer: {}",
                    covered.records, covered.records_with_layers, covered.layers, cook_step.key, cook_step.has_layer
                );
                assert!(cook_step.key.is_some(), "[{set}] job {job}: cook's key is in the export: {covered:#?}");
                Some((covered.records, covered.records_with_layers, cook_step.has_layer))
            } else {
                None
            };
            if let Some(counts) = exported {
                let outcome = steps.iter().find(|s| s.step.name.contains(COOK)).map(|s| s.outcome.clone());
                cook.push((job, outcome, counts));
            }
        }
    }
    stop(registry, &label).await;
    eprintln!("[{set}] cook per job (outcome, (records, with layers, cook has layer)): {cook:?}");
    eprintln!("[{set}] wall time {:.0}s", wall.elapsed().as_secs_f64());
    assert_eq!(cook.first().and_then(|c| c.1.as_deref()), Some("executed"), "[{set}] job 1 runs cook");
}

async fn stop(registry: Registry, label: &RunLabel) {
    registry.stop().await.unwrap();
    let left = harness::engine::leftovers(label).await.unwrap();
    assert!(left.is_empty(), "{left:?}");
}

/// The build metadata files the job's builds wrote (`--metadata-file`,
/// only where the CLI builds with buildx), by target.
async fn metadata_files(daemon: &Daemon, mode: Mode) -> Vec<(&'static str, String)> {
    let targets: &[&'static str] = match mode {
        Mode::Inline => &["chef", "planner", "builder"],
        Mode::RegistryMax => &["builder"],
    };
    let mut out = Vec::new();
    for target in targets {
        let read = daemon.capture(&format!("cat /tmp/meta-{target}.json"), Duration::from_secs(60)).await.unwrap();
        if read.success() && !read.stdout.trim().is_empty() {
            out.push((*target, read.stdout));
        }
    }
    out
}

/// The seed's commands (`scenarios/ci-inline-cache/scenario.toml`), or the
/// registry-cache variant's (`scenarios/ci-registry-cache-max`).
fn script(mode: Mode) -> String {
    match mode {
        Mode::Inline => "set -e; cd /ctx
for t in chef planner builder; do docker pull \"$IMAGE:$t\" || true; done
for t in chef planner builder; do
  meta=; docker buildx version >/dev/null 2>&1 && meta=\"--metadata-file /tmp/meta-$t.json\"
  DOCKER_BUILDKIT=1 BUILDX_METADATA_PROVENANCE=max docker build --progress=plain --target $t \
    --cache-from \"$IMAGE:$t\" --tag \"$IMAGE:$t\" --build-arg BUILDKIT_INLINE_CACHE=1 $meta .
done
for t in chef planner builder; do docker push \"$IMAGE:$t\"; done"
            .into(),
        Mode::RegistryMax => "set -e; cd /ctx
BUILDX_METADATA_PROVENANCE=max docker buildx build --progress=plain --target builder --tag \"$IMAGE:builder\" \
  --metadata-file /tmp/meta-builder.json \
  --cache-from type=registry,ref=\"$IMAGE:cache\" --cache-to type=registry,ref=\"$IMAGE:cache\",mode=max .
docker push \"$IMAGE:builder\""
            .into(),
    }
}

/// The hello-world app with the seed's Dockerfile and job `job`'s edit.
fn context(chef: &str, job: u32) -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().unwrap();
    for file in ["Cargo.toml", "Cargo.lock", ".dockerignore"] {
        std::fs::copy(root.join("hello-world").join(file), dir.path().join(file)).unwrap();
    }
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/main.rs"),
        format!("#[tokio::main]\nasync fn main() {{\n    println!(\"Hello from job {job}!\");\n}}\n"),
    )
    .unwrap();
    let dockerfile = std::fs::read_to_string(root.join("scenarios/ci-inline-cache/Dockerfile")).unwrap();
    std::fs::write(dir.path().join("Dockerfile"), dockerfile.replace("{chef}", chef)).unwrap();
    dir
}
