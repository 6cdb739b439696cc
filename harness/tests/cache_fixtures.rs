//! Cache configs recorded from real runs of the seed pipeline
//! (`tests/fixtures/cache/`, written by `cache_record.rs`): they decode, the
//! builder's steps map to records, and they show the measurement:
//! on 26.1.5 and 28.5.2 a job whose cook was a hit exports cook's key
//! without its layer, on 20.10.24 the layer-carrying records stay whole.

mod cache_support;

use cache_support::{recorded_build, recorded_cache, recorded_jobs, RecordedBuild};
use harness::cache::{cover, explain_misses, CacheConfig, FoundBy, JobCache, JobExport, MissCause, StepLayer, StepRun};
use rstest::rstest;

const COOK: &str = "RUN cargo chef cook";

fn steps(build: &RecordedBuild) -> Vec<StepLayer> {
    build.steps.iter().map(|s| s.step.clone()).collect()
}

/// Each job's decoded builder export and its coverage.
fn jobs(set: &str, target: &str) -> Vec<(u32, CacheConfig, JobCache, RecordedBuild)> {
    let jobs = recorded_jobs(set);
    assert!(jobs.len() >= 3, "{set}: record at least three jobs (found {jobs:?})");
    jobs.into_iter()
        .map(|job| {
            let config = recorded_cache(set, job, target);
            let build = recorded_build(set, job);
            let cache = cover(&format!("{set}/job-{job}/{target}"), &config, &steps(&build));
            (job, config, cache, build)
        })
        .collect()
}

fn cook(cache: &JobCache) -> &harness::cache::StepCache {
    cache.steps.iter().find(|s| s.step.contains(COOK)).expect("a cook step")
}

fn outcome(build: &RecordedBuild, step: &str) -> String {
    build.steps.iter().find(|s| s.step.name.contains(step)).map(|s| s.outcome.clone()).unwrap_or_default()
}

#[rstest]
// The registry cache (mode=max, containerd store) is not recorded yet:
// `registry_max_28_5_containerd_records_per_job` in cache_record.rs.
#[case::inline_20_10("inline-20.10.24-classic", "builder")]
#[case::inline_26_1("inline-26.1.5-classic", "builder")]
#[case::inline_28_5("inline-28.5.2-classic", "builder")]
fn every_recorded_export_decodes_and_covers_the_builder_steps(#[case] set: &str, #[case] target: &str) {
    for (job, config, cache, build) in jobs(set, target) {
        assert!(!config.records.is_empty(), "{set} job {job}: no records");
        for record in &config.records {
            for chain in &record.results {
                assert!(chain.iter().all(|&l| l < config.layers.len()), "{set} job {job}: {record:?}");
            }
        }
        // Every step whose layer the export holds is found by that layer.
        for (step, recorded) in cache.steps.iter().zip(&build.steps) {
            let Some(layer) = &recorded.step.layer else { continue };
            let exported = config.records.iter().any(|r| r.top_layer().and_then(|l| config.layer_id(l)) == Some(layer));
            if exported {
                assert_eq!(step.found_by, Some(FoundBy::Layer), "{set} job {job}: {}", step.step);
                assert!(step.has_layer, "{set} job {job}: {}", step.step);
            }
        }
        assert!(cook(&cache).key.is_some(), "{set} job {job}: cook's key is exported: {cache:#?}");
    }
}

/// The measurement, on the recorded inline caches: after a job
/// whose cook was a hit, 26.1.5 and 28.5.2 export fewer records with layers
/// and keep cook's key without its layer; 20.10.24 keeps them whole.
#[rstest]
#[case::docker_20_10("inline-20.10.24-classic", false)]
#[case::docker_26_1("inline-26.1.5-classic", true)]
#[case::docker_28_5("inline-28.5.2-classic", true)]
fn a_hit_drops_cooks_layer_from_the_export_on_engines_with_the_bug(#[case] set: &str, #[case] buggy: bool) {
    let jobs = jobs(set, "builder");
    let figures: Vec<String> = jobs
        .iter()
        .map(|(job, _, cache, build)| {
            format!(
                "job {job}: cook {}, {} records, {} with layers, cook's key {}",
                outcome(build, COOK),
                cache.records,
                cache.records_with_layers,
                if cook(cache).has_layer { "with its layer" } else { "without its layer" }
            )
        })
        .collect();
    let (_, _, job2, build2) = &jobs[1];
    let (_, _, job3, _) = &jobs[2];
    assert_eq!(outcome(build2, COOK), "cached", "{figures:#?}");
    if buggy {
        assert!(!cook(job2).has_layer, "{figures:#?}");
        assert!(job2.records_with_layers < job3.records_with_layers, "{figures:#?}");
        assert!(cook(job3).has_layer, "{figures:#?}");
    } else {
        for (_, _, cache, _) in &jobs {
            assert!(cook(cache).has_layer, "{figures:#?}");
            assert_eq!(cache.records_with_layers, jobs[0].2.records_with_layers, "{figures:#?}");
        }
    }
}

/// Job 3's cook miss on 26.1.5 and 28.5.2 is a result lost in job 2's
/// export, with the counts; 20.10.24 has no cook miss to explain.
#[rstest]
#[case::docker_20_10("inline-20.10.24-classic", false)]
#[case::docker_26_1("inline-26.1.5-classic", true)]
#[case::docker_28_5("inline-28.5.2-classic", true)]
fn the_cook_miss_is_explained_as_a_lost_result(#[case] set: &str, #[case] buggy: bool) {
    let jobs = jobs(set, "builder");
    let exports: Vec<JobExport<'_>> = jobs
        .iter()
        .map(|(job, config, cache, _)| JobExport {
            job: *job,
            export: Ok((config, cache)),
            changed_paths: vec!["src/main.rs".into()],
        })
        .collect();
    let runs: Vec<StepRun> = jobs
        .iter()
        .flat_map(|(job, _, _, build)| {
            build.steps.iter().map(move |s| StepRun {
                job: *job,
                step: s.step.name.clone(),
                executed: s.outcome == "executed",
            })
        })
        .collect();
    let explained = explain_misses(&exports, &runs);
    let cook_misses: Vec<_> = explained.iter().filter(|e| e.step.contains(COOK)).collect();
    if !buggy {
        assert!(cook_misses.is_empty(), "{cook_misses:#?}");
        return;
    }
    let job3 =
        cook_misses.iter().find(|e| e.job == 3).unwrap_or_else(|| panic!("no cook miss in job 3: {explained:#?}"));
    match &job3.cause {
        MissCause::LostResult { lost_in_job, records, records_with_layers, key_present, .. } => {
            assert_eq!(*lost_in_job, 2);
            assert!(*key_present, "{job3:#?}");
            assert_eq!((*records, *records_with_layers), (jobs[1].2.records, jobs[1].2.records_with_layers));
        }
        other => panic!("job 3's cook miss is {other:?}"),
    }
    eprintln!("{set}: {}", job3.line);
    assert!(job3.line.contains("there without its layer"), "{}", job3.line);
    assert!(job3.line.contains("moby/buildkit/issues/2274"), "{}", job3.line);
    // The final `RUN cargo build` misses every job: by the edited source.
    for miss in explained.iter().filter(|e| e.step.contains("RUN cargo build")) {
        let MissCause::ChangedInput { first_change, changed_paths, .. } = &miss.cause else { panic!("{miss:#?}") };
        assert!(first_change.starts_with("the files `[builder 3/4] COPY . .` copies (checksum "), "{miss:#?}");
        assert_eq!(changed_paths, &["src/main.rs"], "{miss:#?}");
    }
}
