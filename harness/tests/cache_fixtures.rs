//! Cache configs recorded from real runs of the seed pipeline
//! (`tests/fixtures/cache/`, written by `cache_record.rs`): they decode, the
//! builder's steps map to records, and they show the measurement:
//! on 26.1.5 and 28.5.2 a job whose cook was a hit exports cook's key
//! without its layer, on 20.10.24 the layer-carrying records stay whole.

mod cache_support;

use cache_support::{recorded_build, recorded_cache, recorded_definition, recorded_jobs, RecordedBuild};
use harness::cache::{
    changed_operation, cover, explain_misses, CacheConfig, CacheSource, FoundBy, JobCache, JobExport, LlbFinding,
    MissCause, OpKind, StepAt, StepLayer, StepRun,
};
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
#[case::inline_20_10("inline-20.10.24-classic", "builder")]
#[case::inline_26_1("inline-26.1.5-classic", "builder")]
#[case::inline_28_5("inline-28.5.2-classic", "builder")]
#[case::inline_28_5_containerd("inline-28.5.2-containerd", "builder")]
#[case::registry_max_28_5_containerd("registry-max-28.5.2-containerd", "cache")]
#[case::registry_max_26_1_containerd("registry-max-26.1.5-containerd", "cache")]
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

/// Per job: (records, records with layers, cook's key has its layer, cook's
/// progress outcome).
fn figures(set: &str, target: &str) -> Vec<(usize, usize, bool, String)> {
    jobs(set, target)
        .iter()
        .map(|(_, _, cache, build)| {
            (cache.records, cache.records_with_layers, cook(cache).has_layer, outcome(build, COOK))
        })
        .collect()
}

fn figure(records: usize, with_layers: usize, has_layer: bool, outcome: &str) -> (usize, usize, bool, String) {
    (records, with_layers, has_layer, outcome.to_owned())
}

/// The containerd image store on 28.5.2 (and 26.1.5 for the registry cache), measured: the inline cache keeps
/// cook's layer after a hit (no alternation, unlike the classic store on
/// the same engine), the record count grows by three a job as on 20.10.24;
/// the registry cache in mode=max exports every step with its layer.
#[rstest]
#[case::inline("inline-28.5.2-containerd", "builder", CacheSource::Inline,
    vec![figure(11, 6, true, "executed"), figure(14, 6, true, "cached"), figure(17, 6, true, "cached"), figure(20, 6, true, "cached")])]
// Reused from the registry cache: progress prints DONE, the runner `remote`.
#[case::registry_max("registry-max-28.5.2-containerd", "cache", CacheSource::Registry,
    vec![figure(11, 7, true, "executed"), figure(14, 7, true, "remote"), figure(17, 7, true, "remote"), figure(20, 7, true, "remote")])]
// 26.1.5 (BuildKit 0.13) exports the same records as 28.5.2 (0.25).
#[case::registry_max_26_1("registry-max-26.1.5-containerd", "cache", CacheSource::Registry,
    vec![figure(11, 7, true, "executed"), figure(14, 7, true, "remote"), figure(17, 7, true, "remote"), figure(20, 7, true, "remote")])]
fn the_containerd_store_keeps_cooks_layer_in_every_export(
    #[case] set: &str,
    #[case] target: &str,
    #[case] source: CacheSource,
    #[case] expected: Vec<(usize, usize, bool, String)>,
) {
    assert_eq!(figures(set, target), expected, "{set}");
    let keys: Vec<Option<String>> = jobs(set, target).iter().map(|(_, _, cache, _)| cook(cache).key.clone()).collect();
    assert!(keys.windows(2).all(|w| w[0] == w[1] && w[0].is_some()), "{set}: cook's key is stable: {keys:?}");
    assert!(jobs(set, target).iter().all(|(_, config, _, build)| config.source == source && build.containerd_store));
}

/// Every recorded set: the final build step misses in every job after the
/// first, explained by the edited source through the `COPY . .` that reads
/// it; cook misses only where the classic store's export lost its layer.
#[rstest]
#[case::inline_20_10("inline-20.10.24-classic", "builder")]
#[case::inline_26_1("inline-26.1.5-classic", "builder")]
#[case::inline_28_5("inline-28.5.2-classic", "builder")]
#[case::inline_28_5_containerd("inline-28.5.2-containerd", "builder")]
#[case::registry_max_28_5_containerd("registry-max-28.5.2-containerd", "cache")]
#[case::registry_max_26_1_containerd("registry-max-26.1.5-containerd", "cache")]
fn the_build_miss_is_the_edited_source_on_every_recorded_set(#[case] set: &str, #[case] target: &str) {
    let jobs = jobs(set, target);
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
    let builds: Vec<_> = explained.iter().filter(|e| e.step.contains("RUN cargo build")).collect();
    assert_eq!(builds.len(), jobs.len() - 1, "{set}: {explained:#?}");
    for miss in builds {
        let MissCause::ChangedInput { first_change, changed_paths, .. } = &miss.cause else {
            panic!("{set}: {miss:#?}")
        };
        assert!(first_change.starts_with("the files `[builder 3/4] COPY . .` copies"), "{set}: {miss:#?}");
        assert_eq!(changed_paths, &["src/main.rs"], "{set}");
    }
    let cook_missed = explained.iter().any(|e| e.step.contains(COOK));
    assert_eq!(
        cook_missed,
        set.starts_with("inline-26.1.5") || set.starts_with("inline-28.5.2-classic"),
        "{explained:#?}"
    );
}

/// The LLB definitions buildx 0.29.1 wrote with each recorded build (both
/// sets on 28.5.2, containerd store): the builder's steps are found in
/// them, and from one job to the next no operation up to the final build
/// step changed: the only change is the content of `src/main.rs`, which
/// the LLB does not carry (the cache keys do).
#[rstest]
#[case::inline_28_5_containerd("inline-28.5.2-containerd")]
#[case::registry_max_28_5_containerd("registry-max-28.5.2-containerd")]
fn recorded_definitions_agree_up_to_every_builder_step(#[case] set: &str) {
    let definitions: Vec<_> =
        recorded_jobs(set).into_iter().map(|job| recorded_definition(set, job, "builder")).collect();
    assert!(definitions.len() >= 3, "{set}");
    let cook_at = StepAt { stage: Some("builder"), index: 2 };
    for def in &definitions {
        let ops = harness::cache::llb_diff::step_ops(def, cook_at).expect("cook is in the definition");
        let cook = def.op(&ops[0]).unwrap();
        assert!(
            matches!(&cook.kind, OpKind::Exec { args, .. } if args.join(" ").contains("cargo chef cook")),
            "{cook:?}"
        );
        assert!(def.dockerfile.as_deref().is_some_and(|d| d.contains("AS builder")), "{set}");
    }
    for pair in definitions.windows(2) {
        for index in 1..=4 {
            let at = StepAt { stage: Some("builder"), index };
            assert_eq!(changed_operation(&pair[0], &pair[1], at), LlbFinding::Same, "{set}: builder {index}");
        }
    }
}
