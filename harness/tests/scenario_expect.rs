//! Judging observed steps and runs: every combination of parser outcome,
//! layer evidence and per-engine override, one table row each.

// rstest's table functions take one argument per column.
#![allow(clippy::too_many_arguments)]

// In a module named `scenario` so that `cargo test -p harness scenario` runs these.
mod scenario {
    use std::collections::HashMap;

    use harness::evidence::{observe_build, JobLayers, LayerCompare, LayerEvidence, ObservedStep};
    use harness::progress::{Build, Evidence, Format, Lines, Outcome, Step};
    use harness::scenario::{
        check_run, evaluate, evaluate_job, DaemonMode, ExpandedJob, Expectation, Expected, ImageStore, Job, Override,
        OverrideAction, RunCheck, RunOutput, Status, Template, Vars, COMMAND_VARS,
    };
    use rstest::rstest;

    const BUG: &str = "https://github.com/moby/buildkit/issues/2274";

    fn step(stage: &str, index: u32, instruction: &str, outcome: Outcome) -> Step {
        Step {
            vertex: index + 6,
            digest: None,
            stage: Some(stage.to_owned()),
            index: Some(index),
            total: Some(4),
            platform: None,
            instruction: instruction.to_owned(),
            outcome,
            why: String::new(),
            duration: None,
            evidence: Evidence::default(),
        }
    }

    /// The first seed's builder build, with cook's outcome as given.
    fn build(cook: Outcome) -> Build {
        Build {
            format: Format::Plain,
            builder: None,
            steps: vec![
                step("planner", 1, "COPY . .", Outcome::Cached),
                step("chef", 2, "WORKDIR /app", Outcome::Cached),
                step("builder", 1, "COPY --from=planner /app/recipe.json recipe.json", Outcome::Cached),
                step("builder", 2, "RUN cargo chef cook --release --recipe-path recipe.json", cook),
                step("builder", 3, "COPY . .", Outcome::ExecutedUnsure),
                step("builder", 4, "RUN cargo build --release --bin hello-world", Outcome::Executed),
            ],
            internal: Vec::new(),
            warnings: Vec::new(),
            error: None,
            truncated: false,
            lines: Lines::default(),
        }
    }

    /// The builder build's steps as observed in `job` with `layers`.
    fn observe_cook(cook: Outcome, layers: LayerEvidence<'_>, job: u32) -> Vec<ObservedStep> {
        observe_build("builder", &build(cook), layers, job)
    }

    fn cook_expectation(expected: Expected, overrides: Vec<Override>) -> Expectation {
        Expectation {
            build: "builder".into(),
            stage: Some("builder".into()),
            step: "RUN cargo chef   cook".into(),
            expected,
            jobs: None,
            overrides,
        }
    }

    fn known_bug() -> Vec<Override> {
        vec![Override {
            engines: vec!["26.1.5".into(), "28.5.2".into()],
            stores: ImageStore::ALL.to_vec(),
            jobs: Some(vec![3]),
            action: OverrideAction::Outcome { expected: Expected::Is(Outcome::Executed), known_bug: Some(BUG.into()) },
        }]
    }

    fn plain_override() -> Vec<Override> {
        vec![Override {
            engines: vec!["28.5.2".into()],
            stores: ImageStore::ALL.to_vec(),
            jobs: None,
            action: OverrideAction::Outcome { expected: Expected::Is(Outcome::Remote), known_bug: None },
        }]
    }

    fn unsupported() -> Vec<Override> {
        vec![Override {
            engines: vec!["20.10.24".into()],
            stores: ImageStore::ALL.to_vec(),
            jobs: None,
            action: OverrideAction::Unsupported("no registry cache".into()),
        }]
    }

    /// Layer ids for cook in jobs 2 and 3 that compare as asked.
    fn layers(compare: Option<LayerCompare>) -> (JobLayers, JobLayers) {
        let (mut previous, mut current) = (JobLayers::default(), JobLayers::default());
        if let Some(compare) = compare {
            let cook = &build(Outcome::Cached).steps[3];
            previous.insert("builder", cook, "sha256:aaa");
            let now = if compare == LayerCompare::Same { "sha256:aaa" } else { "sha256:bbb" };
            current.insert("builder", cook, now);
        }
        (previous, current)
    }

    #[rstest]
    #[case::cached_is_reused(Expected::Reused, vec![], "26.1.5", 2, Outcome::Cached, None, Status::Pass, Some(Outcome::Cached), "")]
    #[case::remote_is_reused(Expected::Reused, vec![], "26.1.5", 2, Outcome::Remote, None, Status::Pass, Some(Outcome::Remote), "")]
    #[case::executed_is_not_reused(Expected::Reused, vec![], "26.1.5", 2, Outcome::Executed, None, Status::Fail, Some(Outcome::Executed), "")]
    #[case::pulled_is_not_reused(Expected::Reused, vec![], "26.1.5", 2, Outcome::Pulled, None, Status::Fail, Some(Outcome::Pulled), "")]
    #[case::pulled_as_expected(Expected::Is(Outcome::Pulled), vec![], "26.1.5", 2, Outcome::Pulled, None, Status::Pass, Some(Outcome::Pulled), "")]
    #[case::cached_is_not_remote(Expected::Is(Outcome::Remote), vec![], "26.1.5", 2, Outcome::Cached, None, Status::Fail, Some(Outcome::Cached), "")]
    #[case::done_with_the_same_layer_is_reused(
        Expected::Reused, vec![], "28.5.2", 2, Outcome::ExecutedUnsure, Some(LayerCompare::Same),
        Status::Pass, Some(Outcome::Remote),
        "progress shows `executed?` but the layer is the same as job 1's: counted as reused (remote)"
    )]
    #[case::output_with_the_same_layer_is_reused(
        Expected::Reused, vec![], "28.5.2", 2, Outcome::Executed, Some(LayerCompare::Same),
        Status::Pass, Some(Outcome::Remote),
        "progress shows `executed` but the layer is the same as job 1's: counted as reused (remote)"
    )]
    #[case::unsure_with_a_new_layer_executed(
        Expected::Is(Outcome::Executed), vec![], "28.5.2", 2, Outcome::ExecutedUnsure, Some(LayerCompare::Different),
        Status::Pass, Some(Outcome::Executed),
        "progress shows `executed?` and the layer differs from job 1's: counted as executed"
    )]
    #[case::cached_with_a_new_layer_is_noted(
        Expected::Reused, vec![], "28.5.2", 2, Outcome::Cached, Some(LayerCompare::Different),
        Status::Pass, Some(Outcome::Cached),
        "progress shows `cached` but the layer differs from job 1's"
    )]
    #[case::agreeing_witnesses_need_no_note(
        Expected::Reused, vec![], "28.5.2", 2, Outcome::Remote, Some(LayerCompare::Same), Status::Pass, Some(Outcome::Remote), ""
    )]
    #[case::known_bug_shows(
        Expected::Reused, known_bug(), "26.1.5", 3, Outcome::Executed, None,
        Status::KnownBug { link: BUG.into() }, Some(Outcome::Executed), ""
    )]
    #[case::known_bug_gone(
        Expected::Reused, known_bug(), "28.5.2", 3, Outcome::Cached, None,
        Status::NoLongerReproduces { link: BUG.into() }, Some(Outcome::Cached), ""
    )]
    #[case::known_bug_neither(
        Expected::Reused,
        known_bug(),
        "26.1.5",
        3,
        Outcome::Error,
        None,
        Status::Fail,
        Some(Outcome::Error),
        "neither the known bug's `executed` (https://github.com/moby/buildkit/issues/2274) nor the correct `reused`"
    )]
    #[case::known_bug_on_another_job(
        Expected::Reused,
        known_bug(),
        "26.1.5",
        2,
        Outcome::Executed,
        None,
        Status::Fail,
        Some(Outcome::Executed),
        ""
    )]
    #[case::known_bug_on_another_engine(
        Expected::Reused,
        known_bug(),
        "20.10.24",
        3,
        Outcome::Executed,
        None,
        Status::Fail,
        Some(Outcome::Executed),
        ""
    )]
    #[case::plain_override_holds(
        Expected::Reused,
        plain_override(),
        "28.5.2",
        2,
        Outcome::Remote,
        None,
        Status::Pass,
        Some(Outcome::Remote),
        ""
    )]
    #[case::plain_override_replaces_the_base(
        Expected::Reused,
        plain_override(),
        "28.5.2",
        2,
        Outcome::Cached,
        None,
        Status::Fail,
        Some(Outcome::Cached),
        ""
    )]
    #[case::unsupported_engine(
        Expected::Reused, unsupported(), "20.10.24", 2, Outcome::Executed, None,
        Status::Unsupported { reason: "no registry cache".into() }, Some(Outcome::Executed), ""
    )]
    fn verdicts(
        #[case] expected: Expected,
        #[case] overrides: Vec<Override>,
        #[case] engine: &str,
        #[case] job: u32,
        #[case] parser: Outcome,
        #[case] layer: Option<LayerCompare>,
        #[case] status: Status,
        #[case] observed: Option<Outcome>,
        #[case] note: &str,
    ) {
        let expectation = cook_expectation(expected, overrides);
        let (previous, current) = layers(layer);
        let evidence = LayerEvidence { current: Some(&current), previous: Some(&previous) };
        let v = evaluate(
            &expectation,
            engine,
            ImageStore::Classic,
            job,
            Some(observe_cook(parser, evidence, job).as_slice()),
        );
        assert_eq!((&v.status, v.observed, v.progress, v.layer), (&status, observed, Some(parser), layer));
        let notes: Vec<&str> = v.notes.iter().map(String::as_str).collect();
        let expected_notes: Vec<&str> = if note.is_empty() { vec![] } else { vec![note] };
        assert_eq!(notes, expected_notes);
        assert_eq!(v.matched.as_deref(), Some("[builder 2/4] RUN cargo chef cook --release --recipe-path recipe.json"));
    }

    /// The inline-cache bug measured on the classic store only: on the
    /// containerd store the same engine is judged by the base expectation.
    #[rstest]
    #[case::classic_shows_the_bug(ImageStore::Classic, Outcome::Executed, Status::KnownBug { link: BUG.into() })]
    #[case::classic_without_the_bug(ImageStore::Classic, Outcome::Cached, Status::NoLongerReproduces { link: BUG.into() })]
    #[case::containerd_reuses(ImageStore::Containerd, Outcome::Cached, Status::Pass)]
    #[case::containerd_executes_and_fails(ImageStore::Containerd, Outcome::Executed, Status::Fail)]
    fn an_override_limited_to_a_store_applies_only_there(
        #[case] store: ImageStore,
        #[case] parser: Outcome,
        #[case] status: Status,
    ) {
        let mut overrides = known_bug();
        overrides[0].stores = vec![ImageStore::Classic];
        let e = cook_expectation(Expected::Reused, overrides);
        let v = evaluate(&e, "28.5.2", store, 3, Some(observe_cook(parser, LayerEvidence::default(), 3).as_slice()));
        assert_eq!(v.status, status);
        let expected = if store == ImageStore::Classic { Expected::Is(Outcome::Executed) } else { Expected::Reused };
        assert_eq!(v.expected, expected);
        assert_eq!(e.override_for("28.5.2", ImageStore::Containerd, 3).map(|o| &o.engines), None);
        assert!(e.override_for("28.5.2", ImageStore::Classic, 3).is_some());
    }

    #[test]
    fn a_step_not_in_the_log_is_absent() {
        let mut e = cook_expectation(Expected::Reused, vec![]);
        e.step = "RUN cargo chef cook --locked".into();
        let v = evaluate(
            &e,
            "26.1.5",
            ImageStore::Classic,
            2,
            Some(observe_cook(Outcome::Cached, LayerEvidence::default(), 2).as_slice()),
        );
        assert_eq!((v.status, v.observed, v.matched), (Status::Fail, Some(Outcome::Absent), None));
        assert_eq!(v.notes, ["no step of build `builder` matches `RUN cargo chef cook --locked`"]);

        e.expected = Expected::Is(Outcome::Absent);
        let v = evaluate(
            &e,
            "26.1.5",
            ImageStore::Classic,
            2,
            Some(observe_cook(Outcome::Cached, LayerEvidence::default(), 2).as_slice()),
        );
        assert_eq!(v.status, Status::Pass);
    }

    #[test]
    fn a_step_in_two_stages_needs_its_stage() {
        let mut e = cook_expectation(Expected::Reused, vec![]);
        e.step = "COPY . .".into();
        e.stage = None;
        let v = evaluate(
            &e,
            "26.1.5",
            ImageStore::Classic,
            2,
            Some(observe_cook(Outcome::Cached, LayerEvidence::default(), 2).as_slice()),
        );
        assert_eq!((v.status, v.observed), (Status::Fail, None));
        assert_eq!(
            v.notes,
            ["2 steps match `COPY . .` ([planner 1/4] COPY . .; [builder 3/4] COPY . .): name the stage with `stage`"]
        );
        e.stage = Some("planner".into());
        let v = evaluate(
            &e,
            "26.1.5",
            ImageStore::Classic,
            2,
            Some(observe_cook(Outcome::Cached, LayerEvidence::default(), 2).as_slice()),
        );
        assert_eq!((v.status, v.observed), (Status::Pass, Some(Outcome::Cached)));
    }

    #[test]
    fn a_build_without_a_log_fails_its_expectations() {
        let e = cook_expectation(Expected::Reused, vec![]);
        let v = evaluate(&e, "26.1.5", ImageStore::Classic, 2, None);
        assert_eq!((v.status, v.observed, v.progress), (Status::Fail, None, None));
        assert_eq!(v.notes, ["build `builder` left no progress log"]);
    }

    #[test]
    fn only_steps_that_make_layers_are_compared() {
        let b = build(Outcome::Cached);
        let (mut previous, mut current) = (JobLayers::default(), JobLayers::default());
        for s in &b.steps {
            previous.insert("builder", s, "sha256:aaa");
            current.insert("builder", s, "sha256:aaa");
        }
        let evidence = LayerEvidence { current: Some(&current), previous: Some(&previous) };
        let compared: Vec<Option<LayerCompare>> = b.steps.iter().map(|s| evidence.compare("builder", s)).collect();
        let same = Some(LayerCompare::Same);
        assert_eq!(compared, [same, None, same, same, same, same]);
        assert_eq!(evidence.compare("planner", &b.steps[0]), None, "layers are per build");
        assert_eq!(LayerEvidence { current: Some(&current), previous: None }.compare("builder", &b.steps[3]), None);
    }

    #[test]
    fn evaluate_job_takes_the_expectations_of_that_job_number() {
        let mut first = cook_expectation(Expected::Is(Outcome::Executed), vec![]);
        first.jobs = Some(vec![1]);
        let mut later = cook_expectation(Expected::Reused, known_bug());
        later.jobs = Some(vec![2, 3]);
        let job = Job {
            name: "pipeline".into(),
            daemon: DaemonMode::Fresh,
            first: 1,
            repeat: 3,
            edits: vec![],
            commands: vec![],
            runs: vec![],
            expectations: vec![first, later],
        };
        let steps = observe_cook(Outcome::Executed, LayerEvidence::default(), 1);
        let builds = HashMap::from([("builder", steps.as_slice())]);
        let statuses: Vec<Vec<Status>> = (1..=3)
            .map(|number| {
                let job = ExpandedJob { number, job: &job };
                evaluate_job(&job, "26.1.5", ImageStore::Classic, &builds).into_iter().map(|v| v.status).collect()
            })
            .collect();
        assert_eq!(statuses, [vec![Status::Pass], vec![Status::Fail], vec![Status::KnownBug { link: BUG.into() }]]);
    }

    #[test]
    fn a_verdict_serializes_for_the_report() {
        let e = cook_expectation(Expected::Reused, known_bug());
        let v = evaluate(
            &e,
            "26.1.5",
            ImageStore::Classic,
            3,
            Some(observe_cook(Outcome::Executed, LayerEvidence::default(), 3).as_slice()),
        );
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "job": 3,
                "build": "builder",
                "stage": "builder",
                "step": "RUN cargo chef   cook",
                "matched": "[builder 2/4] RUN cargo chef cook --release --recipe-path recipe.json",
                "expected": "executed",
                "observed": "executed",
                "progress": "executed",
                "layer": null,
                "status": { "kind": "known_bug", "link": BUG },
                "notes": [],
            })
        );
    }

    fn vars(job: u32) -> Vars {
        Vars {
            registry: "registry:5000".into(),
            job,
            image: "registry:5000/cache-mount-copy".into(),
            scenario: "cache-mount-copy".into(),
            engine: "26.1.5".into(),
            chef: "chef".into(),
            runtime: "runtime".into(),
        }
    }

    fn t(text: &str) -> Template {
        Template::parse(text, COMMAND_VARS).unwrap()
    }

    /// The naive image of the second seed: must not run the edited code.
    fn naive_check() -> RunCheck {
        RunCheck {
            image: t("{image}:naive"),
            command: vec![],
            stdout_contains: Some(t("Hello, world!")),
            stdout_not_contains: Some(t("Hello from job {job}!")),
            exit_code: 0,
            jobs: None,
        }
    }

    #[rstest]
    #[case::stale_binary_as_expected(0, "Hello, world!\n", Status::Pass, &[])]
    #[case::new_binary(0, "Hello from job 2!\n", Status::Fail, &["stdout was \"Hello from job 2!\""])]
    #[case::crashed(127, "", Status::Fail, &["exit code was 127", "stdout was \"\""])]
    fn run_checks(#[case] exit_code: i64, #[case] stdout: &str, #[case] status: Status, #[case] failures: &[&str]) {
        let output = RunOutput { exit_code, stdout: stdout.into() };
        let verdict = check_run(&naive_check(), &vars(2), &output);
        assert_eq!(verdict.image, "registry:5000/cache-mount-copy:naive");
        assert_eq!(
            verdict.expected,
            ["exit code 0", "stdout contains \"Hello, world!\"", "stdout does not contain \"Hello from job 2!\""]
        );
        assert_eq!((verdict.status, verdict.failures.as_slice()), (status, failures_vec(failures).as_slice()));
    }

    fn failures_vec(failures: &[&str]) -> Vec<String> {
        failures.iter().map(|f| f.to_string()).collect()
    }
}
