//! The scenarios in `scenarios/`: every folder loads, and the ones that
//! reproduce the seeds render the seeds' commands and judge the recorded
//! logs as ENVIRONMENT.md measured them.

// In a module named `scenario` so that `cargo test -p harness scenario` runs these.
mod scenario {
    use std::collections::HashMap;
    use std::path::PathBuf;

    use harness::catalogue::{workspace_root, Catalogue};
    use harness::evidence::{observe_build, LayerEvidence, ObservedStep};
    use harness::progress::{parse_path, Build};
    use harness::scenario::{evaluate_job, load_all, load_scenario, DaemonMode, ImageStore, Scenario, Status, Vars};
    use indoc::indoc;

    fn catalogue() -> Catalogue {
        Catalogue::load_default().expect("the workspace's engine catalogue loads")
    }

    fn scenarios_dir() -> PathBuf {
        workspace_root().join("scenarios")
    }

    fn shipped(name: &str) -> Scenario {
        load_scenario(&scenarios_dir().join(name), &catalogue()).unwrap_or_else(|e| panic!("{:#}", anyhow(&e)))
    }

    /// The error with its sources, as the CLI prints it.
    fn anyhow(e: &dyn std::error::Error) -> String {
        let mut text = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            text.push_str(&format!(": {s}"));
            source = s.source();
        }
        text
    }

    fn vars(scenario: &str, job: u32) -> Vars {
        Vars {
            registry: "registry:5000".into(),
            job,
            image: format!("registry:5000/{scenario}"),
            scenario: scenario.into(),
            engine: "26.1.5".into(),
            chef: "registry:5000/chef:latest".into(),
            runtime: "registry:5000/runtime:bookworm".into(),
        }
    }

    #[test]
    fn every_scenario_folder_loads() {
        let root = scenarios_dir();
        let folders: Vec<String> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        let scenarios = load_all(&root, &catalogue()).unwrap_or_else(|e| panic!("{}", anyhow(&e)));
        let mut names: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).collect();
        names.sort();
        let mut expected: Vec<&str> = folders.iter().map(String::as_str).collect();
        expected.sort();
        assert_eq!(names, expected, "every folder of scenarios/ is a scenario");
        assert_eq!(
            names,
            [
                "cache-mount-copy",
                "ci-cache-from-all-stages",
                "ci-inline-cache",
                "ci-local-cache",
                "ci-registry-cache-max",
                "ci-registry-cache-min",
                "dependency-change",
                "local-source-edit",
            ]
        );
        for s in &scenarios {
            assert!(workspace_root().join(&s.fixture).join("Cargo.toml").is_file(), "{}: fixture", s.name);
            assert!(!s.description.is_empty());
            // The edit before each job must change the context; the runner checks
            // that at run time, and the seeds' scenarios rely on `{job}` for it.
            assert!(s.jobs().all(|j| !j.job.edits.is_empty()) || s.name == "dependency-change");
        }
    }

    #[test]
    fn ci_inline_cache_renders_the_seed_pipeline() {
        let scenario = shipped("ci-inline-cache");
        let numbers: Vec<(u32, DaemonMode)> = scenario.jobs().map(|j| (j.number, j.daemon())).collect();
        assert_eq!(
            numbers,
            [(1, DaemonMode::Fresh), (2, DaemonMode::Fresh), (3, DaemonMode::Fresh), (4, DaemonMode::Fresh)]
        );

        let job = scenario.jobs().nth(1).unwrap();
        let vars = vars("ci-inline-cache", 2);
        let lines: Vec<String> = job
            .job
            .commands
            .iter()
            .map(|c| {
                let r = c.render(&vars);
                let mark = match (&r.build_id, r.may_fail) {
                    (Some(id), _) => format!("[{id}] "),
                    (None, true) => "[may fail] ".into(),
                    (None, false) => String::new(),
                };
                format!("{mark}{}", r.script)
            })
            .collect();
        assert_eq!(
            lines.join("\n") + "\n",
            indoc! {"
                echo harness | docker login --username harness --password-stdin registry:5000
                [may fail] docker pull registry:5000/ci-inline-cache:chef
                [may fail] docker pull registry:5000/ci-inline-cache:planner
                [may fail] docker pull registry:5000/ci-inline-cache:builder
                [chef] DOCKER_BUILDKIT=1 docker build --progress=plain --target chef --cache-from registry:5000/ci-inline-cache:chef --tag registry:5000/ci-inline-cache:chef --build-arg BUILDKIT_INLINE_CACHE=1 .
                [planner] DOCKER_BUILDKIT=1 docker build --progress=plain --target planner --cache-from registry:5000/ci-inline-cache:planner --tag registry:5000/ci-inline-cache:planner --build-arg BUILDKIT_INLINE_CACHE=1 .
                [builder] DOCKER_BUILDKIT=1 docker build --progress=plain --target builder --cache-from registry:5000/ci-inline-cache:builder --tag registry:5000/ci-inline-cache:builder --build-arg BUILDKIT_INLINE_CACHE=1 .
                docker push registry:5000/ci-inline-cache:chef
                docker push registry:5000/ci-inline-cache:planner
                docker push registry:5000/ci-inline-cache:builder
            "}
        );
        let run = job.runs().next().unwrap().render(&vars);
        assert_eq!(run.script, "docker run --rm registry:5000/ci-inline-cache:builder /app/target/release/hello-world");

        let dockerfile = scenario.dockerfiles[0].render(&vars);
        assert!(dockerfile.contains("FROM registry:5000/chef:latest AS chef\n"), "{dockerfile}");
        assert!(dockerfile.contains("RUN cargo chef cook --release --recipe-path recipe.json\n"));
    }

    #[test]
    fn edits_change_the_context_on_every_job() {
        let scenario = shipped("ci-inline-cache");
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::copy(workspace_root().join("hello-world/src/main.rs"), dir.path().join("src/main.rs")).unwrap();
        for job in scenario.jobs() {
            for edit in &job.job.edits {
                let report = edit.apply(dir.path(), &vars("ci-inline-cache", job.number)).unwrap();
                assert_eq!(report.file, "src/main.rs");
            }
            let main = std::fs::read_to_string(dir.path().join("src/main.rs")).unwrap();
            assert!(main.contains(&format!("println!(\"Hello from job {}!\");", job.number)), "{main}");
        }
    }

    #[test]
    fn registry_cache_max_is_unsupported_without_buildx() {
        let scenario = shipped("ci-registry-cache-max");
        let catalogue = catalogue();
        assert!(scenario.daemon.containerd_snapshotter);
        let old = scenario.unsupported_reason(catalogue.engine("20.10.24").unwrap()).unwrap();
        assert!(old.contains("no buildx plugin"), "{old}");
        assert_eq!(scenario.unsupported_reason(catalogue.engine("28.5.2").unwrap()), None);

        let build = scenario.jobs().next().unwrap().job.commands[0].render(&vars("ci-registry-cache-max", 1));
        assert_eq!(
            build.script,
            "docker buildx build --progress=plain --target builder \
             --cache-from type=registry,ref=registry:5000/ci-registry-cache-max:cache \
             --cache-to type=registry,ref=registry:5000/ci-registry-cache-max:cache,mode=max \
             --tag registry:5000/ci-registry-cache-max:builder ."
        );
    }

    #[test]
    fn registry_cache_min_builds_the_runtime_stage_with_mode_min() {
        let scenario = shipped("ci-registry-cache-min");
        assert!(scenario.daemon.containerd_snapshotter);
        assert_eq!(scenario.daemon.carry, None);
        let build = scenario.jobs().next().unwrap().job.commands[0].render(&vars("ci-registry-cache-min", 1));
        assert_eq!(
            build.script,
            "docker buildx build --progress=plain --target runtime \
             --cache-from type=registry,ref=registry:5000/ci-registry-cache-min:cache \
             --cache-to type=registry,ref=registry:5000/ci-registry-cache-min:cache,mode=min \
             --tag registry:5000/ci-registry-cache-min:runtime ."
        );
        let dockerfile = scenario.dockerfiles[0].render(&vars("ci-registry-cache-min", 1));
        assert!(dockerfile.contains("FROM registry:5000/runtime:bookworm AS runtime\n"), "{dockerfile}");
    }

    #[test]
    fn local_cache_carries_its_folder_and_replaces_the_cache_each_job() {
        let scenario = shipped("ci-local-cache");
        assert!(scenario.daemon.containerd_snapshotter);
        assert_eq!(scenario.daemon.carry.as_deref(), Some("/cache"));
        assert!(scenario.jobs().all(|j| j.daemon() == DaemonMode::Fresh));
        let scripts: Vec<String> = scenario
            .jobs()
            .nth(1)
            .unwrap()
            .job
            .commands
            .iter()
            .map(|c| c.render(&vars("ci-local-cache", 2)).script)
            .collect();
        assert_eq!(
            scripts,
            [
                "docker buildx build --progress=plain --target builder --cache-from type=local,src=/cache/buildx \
                 --cache-to type=local,dest=/cache/buildx-new,mode=max --tag registry:5000/ci-local-cache:builder .",
                "rm -rf /cache/buildx && mv /cache/buildx-new /cache/buildx",
            ]
        );
    }

    #[test]
    fn cache_mount_copy_builds_both_dockerfiles_on_one_daemon() {
        let scenario = shipped("cache-mount-copy");
        let daemons: Vec<DaemonMode> = scenario.jobs().map(|j| j.daemon()).collect();
        assert_eq!(daemons, [DaemonMode::Fresh, DaemonMode::Warm, DaemonMode::Warm]);
        let vars = vars("cache-mount-copy", 2);
        let job = scenario.jobs().nth(1).unwrap();
        let scripts: Vec<String> = job.job.commands.iter().map(|c| c.render(&vars).script).collect();
        assert_eq!(
            scripts,
            [
                "DOCKER_BUILDKIT=1 docker build --progress=plain --file naive.Dockerfile --tag registry:5000/cache-mount-copy:naive .",
                "DOCKER_BUILDKIT=1 docker build --progress=plain --file fixed.Dockerfile --tag registry:5000/cache-mount-copy:fixed .",
            ]
        );
        let names: Vec<&str> = scenario.dockerfiles.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["naive.Dockerfile", "fixed.Dockerfile"]);
        let naive = scenario.dockerfiles[0].render(&vars);
        assert!(naive.contains("FROM registry:5000/runtime:bookworm\n"), "{naive}");
    }

    fn log(name: &str) -> Build {
        let path = workspace_root().join("harness/tests/fixtures/logs").join(name);
        parse_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).pop().unwrap()
    }

    /// The verdicts on the recorded logs of one engine (on the scenario's
    /// own image store), job by job.
    fn judge(scenario: &Scenario, engine: &str, logs: &[(u32, &str, &str)]) -> Vec<(u32, String, Status)> {
        let mut out = Vec::new();
        for job in scenario.jobs() {
            let observed: Vec<(&str, Vec<ObservedStep>)> = logs
                .iter()
                .filter(|(n, _, _)| *n == job.number)
                .map(|(_, id, file)| (*id, observe_build(id, &log(file), LayerEvidence::default(), job.number)))
                .collect();
            if observed.is_empty() {
                continue;
            }
            let builds: HashMap<&str, &[ObservedStep]> = observed.iter().map(|(id, s)| (*id, s.as_slice())).collect();
            for v in evaluate_job(&job, engine, ImageStore::declared(scenario), &builds) {
                if builds.contains_key(v.build.as_str()) {
                    out.push((v.job, v.step.clone(), v.status));
                }
            }
        }
        out
    }

    fn cook(job: u32, status: Status) -> (u32, String, Status) {
        (job, "RUN cargo chef cook".into(), status)
    }

    fn build_step(job: u32) -> (u32, String, Status) {
        (job, "RUN cargo build --release --bin hello-world".into(), Status::Pass)
    }

    #[test]
    fn ci_inline_cache_judges_the_recorded_20_10_logs_as_passing() {
        let logs: Vec<(u32, &str, String)> =
            (1..=4).map(|n| (n, "builder", format!("docker20.10-inline-job{n}-builder.log"))).collect();
        let logs: Vec<(u32, &str, &str)> = logs.iter().map(|(n, id, f)| (*n, *id, f.as_str())).collect();
        let verdicts = judge(&shipped("ci-inline-cache"), "20.10.24", &logs);
        let expected: Vec<_> = (1..=4).flat_map(|n| [cook(n, Status::Pass), build_step(n)]).collect();
        assert_eq!(verdicts, expected);
    }

    #[test]
    fn ci_inline_cache_judges_the_recorded_26_1_logs_as_the_known_bug() {
        let files: Vec<(u32, &str, String)> = (1..=4)
            .flat_map(|n| {
                [
                    (n, "planner", format!("docker26.1-inline-job{n}-planner.log")),
                    (n, "builder", format!("docker26.1-inline-job{n}-builder.log")),
                ]
            })
            .collect();
        let logs: Vec<(u32, &str, &str)> = files.iter().map(|(n, id, f)| (*n, *id, f.as_str())).collect();
        let verdicts = judge(&shipped("ci-inline-cache"), "26.1.5", &logs);
        let bug = Status::KnownBug { link: "https://github.com/moby/buildkit/issues/2274".into() };
        let expected = vec![
            cook(1, Status::Pass),
            build_step(1),
            cook(2, Status::Pass),
            build_step(2),
            cook(3, bug),
            build_step(3),
            cook(4, Status::Pass),
            build_step(4),
        ];
        assert_eq!(verdicts, expected);

        // Had the engine behaved, the override would say so.
        let healthy =
            judge(&shipped("ci-inline-cache"), "26.1.5", &[(3, "builder", "docker20.10-inline-job3-builder.log")]);
        assert!(healthy.contains(&cook(
            3,
            Status::NoLongerReproduces { link: "https://github.com/moby/buildkit/issues/2274".into() }
        )));
    }

    #[test]
    fn ci_registry_cache_max_judges_the_recorded_28_5_logs_as_passing() {
        let logs = [
            (2, "builder", "docker28.5-containerd-registry-max-job2-builder.log"),
            (3, "builder", "docker28.5-containerd-registry-max-job3-builder.log"),
            (4, "builder", "docker28.5-containerd-registry-max-job4-builder.log"),
        ];
        let verdicts = judge(&shipped("ci-registry-cache-max"), "28.5.2", &logs);
        for (job, step, status) in &verdicts {
            assert_eq!(*status, Status::Pass, "job {job}: {step}");
        }
        assert_eq!(verdicts.iter().filter(|(_, s, _)| s == "RUN cargo chef cook").count(), 3);
    }
}
