//! `harness import` on CI files: every construct, every error, snapshots of
//! the generated scenarios. Each import also loads its scenario back with
//! the scenario loader (the importer does, and so does this test), and the
//! fixture it names must be the repository the CI file belongs to.

// In a module named `import` so that `cargo test -p harness import` runs these.
mod import {
    use std::path::{Path, PathBuf};

    use assert_cmd::cargo::cargo_bin_cmd;
    use harness::catalogue::Catalogue;
    use harness::import::{import, ImportError, ImportErrorKind, ImportOptions, Imported};
    use harness::scenario::{load_scenario, CommandKind};
    use tempfile::TempDir;

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import")
    }

    fn catalogue() -> Catalogue {
        Catalogue::load_default().expect("the workspace's engine catalogue loads")
    }

    fn options(ci_file: &str, out: &Path) -> ImportOptions {
        ImportOptions { file: fixtures().join(ci_file), job: None, matrix: Vec::new(), edit: None, out: out.to_owned() }
    }

    struct Done {
        _tmp: TempDir,
        out: PathBuf,
        imported: Imported,
        text: String,
    }

    fn run(ci_file: &str, adjust: impl FnOnce(&mut ImportOptions)) -> Result<Done, (TempDir, ImportError)> {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("imported");
        let mut opts = options(ci_file, &out);
        adjust(&mut opts);
        match import(&opts, &catalogue()) {
            Ok(imported) => {
                let text = std::fs::read_to_string(out.join("scenario.toml")).unwrap();
                Ok(Done { _tmp: tmp, out, imported, text })
            }
            Err(e) => Err((tmp, e)),
        }
    }

    fn ok(ci_file: &str, adjust: impl FnOnce(&mut ImportOptions)) -> Done {
        run(ci_file, adjust).unwrap_or_else(|(_, e)| panic!("{e}: {}", e.kind))
    }

    fn err(ci_file: &str, adjust: impl FnOnce(&mut ImportOptions)) -> String {
        match run(ci_file, adjust) {
            Ok(done) => panic!("expected an error, got\n{}", done.text),
            Err((_, e)) => format!("{}: {}", e, e.kind).replace(&fixtures().display().to_string(), "[fixtures]"),
        }
    }

    /// The scenario text with machine-dependent paths replaced, checked:
    /// it loads, and its fixture is the repository `repo`.
    fn checked(done: &Done, repo: &str) -> String {
        let scenario = load_scenario(&done.out, &catalogue()).expect("the written scenario loads");
        let fixture = done.out.join(&scenario.fixture);
        assert_eq!(
            fixture.canonicalize().unwrap(),
            fixtures().join(repo).canonicalize().unwrap(),
            "the fixture is the user's repository"
        );
        let mut text = done.text.replace(&fixtures().display().to_string(), "[fixtures]");
        text = text.replace(&done.out.display().to_string(), "[out]");
        text.lines()
            .map(|l| if l.starts_with("fixture = ") { "fixture = \"[relative path to the repository]\"" } else { l })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn snapshot(name: &str, text: &str) {
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        settings.set_snapshot_path("snapshots/import");
        settings.bind(|| insta::assert_snapshot!(name, text));
    }

    fn dockerfile_copied(done: &Done, repo_file: &str, name: &str) {
        let original = std::fs::read(fixtures().join(repo_file)).unwrap();
        assert_eq!(std::fs::read(done.out.join(name)).unwrap(), original, "{name} is copied unchanged");
    }

    #[test]
    fn the_first_seed_pipeline() {
        let done = ok("seed-gitlab/.gitlab-ci.yml", |_| {});
        dockerfile_copied(&done, "seed-gitlab/Dockerfile", "Dockerfile");
        assert!(done.imported.warnings.is_empty(), "{:?}", done.imported.warnings);
        assert_eq!(done.imported.engine, "29", "docker:dind is the newest engine");
        let scenario = load_scenario(&done.out, &catalogue()).unwrap();
        let kinds: Vec<String> = scenario.blocks[0]
            .commands
            .iter()
            .map(|c| match &c.kind {
                CommandKind::Login { .. } => "login".to_owned(),
                CommandKind::Pull(p) => format!("pull {p}{}", if c.may_fail { " (may fail)" } else { "" }),
                CommandKind::Build(b) => format!("build {}", b.id),
                CommandKind::Push(p) => format!("push {p}"),
                CommandKind::Shell(s) => format!("shell {s}"),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "shell echo 1",
                "shell echo '{image}'",
                "shell echo '{registry}'",
                "login",
                "pull {image}:chef (may fail)",
                "pull {image}:planner (may fail)",
                "pull {image}:builder (may fail)",
                "build chef",
                "build planner",
                "build builder",
                "push {image}:chef",
                "push {image}:planner",
                "push {image}:builder",
            ]
        );
        snapshot("seed_gitlab", &checked(&done, "seed-gitlab"));
    }

    #[test]
    fn gitlab_constructs() {
        let done = ok("gitlab-constructs/.gitlab-ci.yml", |o| o.job = Some("build-web".into()));
        dockerfile_copied(&done, "gitlab-constructs/docker/web.Dockerfile", "docker/web.Dockerfile");
        assert_eq!(done.imported.engine, "25.0", "25.0.3 is not in the catalogue: nearest");
        let warnings: Vec<String> = done.imported.warnings.iter().map(|w| w.to_string()).collect();
        let warnings = warnings.join("\n").replace(&fixtures().display().to_string(), "[fixtures]");
        snapshot("gitlab_constructs_warnings", &warnings);
        snapshot("gitlab_constructs", &checked(&done, "gitlab-constructs"));
    }

    #[test]
    fn gitlab_what_is_skipped_is_said() {
        let done = ok("gitlab-skipped/.gitlab-ci.yml", |_| {});
        assert_eq!(done.imported.engine, "27.5", "27.3.1 is not in the catalogue: nearest");
        let warnings: Vec<String> = done.imported.warnings.iter().map(|w| w.to_string()).collect();
        let warnings = warnings.join("\n").replace(&fixtures().display().to_string(), "[fixtures]");
        for said in [
            "include: remote",
            "include: template",
            "include: project",
            "include: component",
            "workflow: rules",
            "`rules`",
            "`only`",
            "`except`",
            "`cache`",
            "parallel: matrix",
            "`cd app`",
        ] {
            assert!(warnings.contains(said), "`{said}` is not said:\n{warnings}");
            assert!(done.text.contains(said), "`{said}` is not in the scenario's comments:\n{}", done.text);
        }
        snapshot("gitlab_skipped_warnings", &warnings);
        snapshot("gitlab_skipped", &checked(&done, "gitlab-skipped/app"));

        let other = ok("gitlab-skipped/.gitlab-ci.yml", |o| o.matrix = vec!["PYTHON=3.12".into()]);
        assert!(other.text.contains("{image}:py3.12"), "{}", other.text);
        let none = err("gitlab-skipped/.gitlab-ci.yml", |o| o.matrix = vec!["PYTHON=2.7".into()]);
        assert!(
            none.contains(
                "no matrix row has PYTHON=2.7; the rows are PYTHON=3.11, VARIANT=slim; PYTHON=3.12, VARIANT=slim"
            ),
            "{none}"
        );
    }

    #[test]
    fn github_build_push_with_a_registry_cache() {
        let done = ok("github-build-push/.github/workflows/docker.yml", |_| {});
        dockerfile_copied(&done, "github-build-push/Dockerfile", "Dockerfile");
        assert_eq!(done.imported.engine, "28.5.2");
        assert!(done.text.contains("containerd_snapshotter = true"));
        assert!(!done.text.contains("GITHUB_TOKEN\""), "no secret value");
        snapshot("github_build_push", &checked(&done, "github-build-push"));
    }

    #[test]
    fn github_matrix_rows_gha_cache_and_secrets() {
        let done = ok("github-matrix/.github/workflows/ci.yml", |_| {});
        assert_eq!(
            done.imported.jobs,
            ["build (python=3.11, variant=slim)", "build (latest=true, python=3.12, variant=slim)"]
        );
        assert!(done.text.contains("type=registry,ref={image}:buildcache-py3.11"), "gha replaced");
        snapshot("github_matrix", &checked(&done, "github-matrix/app"));

        let one = ok("github-matrix/.github/workflows/ci.yml", |o| o.matrix = vec!["python=3.12".into()]);
        assert_eq!(one.imported.jobs, ["build (latest=true, python=3.12, variant=slim)"]);
    }

    #[test]
    fn edit_path_is_used() {
        let done = ok("seed-gitlab/.gitlab-ci.yml", |o| o.edit = Some("Cargo.toml".into()));
        assert!(
            done.text.contains("file = \"Cargo.toml\"\nappend = \"\\n# harness: source edit before job {job}\\n\""),
            "{}",
            done.text
        );
    }

    #[test]
    fn real_world_shaped_files() {
        let done = ok("realworld-gitlab-layer-cache/.gitlab-ci.yml", |_| {});
        assert_eq!(done.imported.engine, "20.10.24", "19.03 is older than anything in the catalogue");
        snapshot("realworld_gitlab_layer_cache", &checked(&done, "realworld-gitlab-layer-cache"));

        let done = ok("realworld-gitlab-branch-push/.gitlab-ci.yml", |_| {});
        assert!(done.imported.warnings.iter().any(|w| w.message.contains("compound statement")));
        snapshot("realworld_gitlab_branch_push", &checked(&done, "realworld-gitlab-branch-push"));

        let done = ok("realworld-github-ghcr/.github/workflows/docker.yaml", |_| {});
        snapshot("realworld_github_ghcr", &checked(&done, "realworld-github-ghcr"));
    }

    #[test]
    fn unknown_job_lists_the_jobs() {
        assert_eq!(
            err("gitlab-constructs/.gitlab-ci.yml", |o| o.job = Some("deploy".into())),
            "failed to import `[fixtures]/gitlab-constructs/.gitlab-ci.yml`: [fixtures]/gitlab-constructs/.gitlab-ci.yml:1: at `(top level)`: no job named `deploy`: the jobs are `build-web`, `lint`"
        );
        let github = err("github-matrix/.github/workflows/ci.yml", |o| o.job = Some("nope".into()));
        assert!(github.ends_with("ci.yml:9: at `jobs`: no job named `nope`: the jobs are `test`, `build`"), "{github}");
    }

    #[test]
    fn a_job_that_builds_no_image() {
        assert_eq!(
            err("gitlab-constructs/.gitlab-ci.yml", |o| o.job = Some("lint".into())),
            "failed to import `[fixtures]/gitlab-constructs/.gitlab-ci.yml`: [fixtures]/gitlab-constructs/.gitlab-ci.yml:53: at `lint.script`: job `lint` builds no image (no `docker build`, `docker buildx build` or docker/build-push-action step): name a job that builds one with `--job` (`build-web`)"
        );
        let github = err("github-matrix/.github/workflows/ci.yml", |o| o.job = Some("test".into()));
        assert!(github.contains("ci.yml:12: at `jobs.test.steps`: job `test` builds no image"), "{github}");
    }

    #[test]
    fn bad_input_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let path = tmp.path().join(name);
            std::fs::write(&path, text).unwrap();
            path.display().to_string()
        };
        let cases = [
            (write("syntax.yml", "job:\n  script: [docker build .\n"), "invalid YAML"),
            (write("other.yml", "name: x\nversion: 3\n"), "1: at `(top level)`: neither a GitLab CI file"),
            (
                write("loop.yml", "a:\n  extends: b\n  script: [docker build .]\nb:\n  extends: a\n"),
                "`extends` goes round in a loop",
            ),
            (
                write("nodockerfile.yml", "job:\n  script: [docker build -f missing.Dockerfile .]\n"),
                "the build's Dockerfile `missing.Dockerfile` is not in the repository",
            ),
            (
                write("include.yml", "include: 'ci/nope.yml'\njob:\n  script: [docker build .]\n"),
                "1: at `include[0]`: the included file `ci/nope.yml` cannot be read",
            ),
        ];
        for (file, expected) in cases {
            let out = tmp.path().join("out");
            let e = import(
                &ImportOptions { file: file.clone().into(), job: None, matrix: vec![], edit: None, out },
                &catalogue(),
            )
            .unwrap_err();
            let message = format!("{}", e.kind);
            assert!(message.contains(expected), "{file}: {message}");
            assert!(message.starts_with(&file) || matches!(*e.kind, ImportErrorKind::Invalid { .. }), "{message}");
        }
        assert!(err("github-matrix/.github/workflows/ci.yml", |o| o.matrix = vec!["python".into()])
            .contains("`--matrix python` must be KEY=VALUE"));
        assert!(err("seed-gitlab/.gitlab-ci.yml", |o| o.edit = Some("src/nope.rs".into()))
            .contains("`--edit src/nope.rs`: no such file"));
    }

    #[test]
    fn several_building_jobs_need_a_choice() {
        let tmp = tempfile::tempdir().unwrap();
        let ci = tmp.path().join(".gitlab-ci.yml");
        std::fs::write(&ci, "a:\n  script: [docker build .]\nb:\n  script: [docker build .]\n").unwrap();
        std::fs::write(tmp.path().join("Dockerfile"), "FROM debian:bookworm-slim\n").unwrap();
        let e = import(
            &ImportOptions { file: ci, job: None, matrix: vec![], edit: None, out: tmp.path().join("o") },
            &catalogue(),
        )
        .unwrap_err();
        assert!(
            e.kind.to_string().ends_with("several jobs build images (`a`, `b`): choose one with `--job NAME`"),
            "{}",
            e.kind
        );
    }

    #[test]
    fn cli_writes_and_warns() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("web");
        let assert = cargo_bin_cmd!("harness")
            .args(["import", "--job", "build-web", "-o"])
            .arg(&out)
            .arg(fixtures().join("gitlab-constructs/.gitlab-ci.yml"))
            .assert()
            .success();
        let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
        assert!(stderr.contains("warning: ") && stderr.contains("command substitution"), "{stderr}");
        let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
        assert!(stdout.contains("run it: harness run") && stdout.contains("--engine 25.0"), "{stdout}");
        assert!(out.join("scenario.toml").is_file());

        cargo_bin_cmd!("harness")
            .args(["import", "--job", "nope"])
            .arg(fixtures().join("gitlab-constructs/.gitlab-ci.yml"))
            .current_dir(tmp.path())
            .assert()
            .code(2);
    }
}
