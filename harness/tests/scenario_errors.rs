//! Every kind of error a scenario folder can have: message, location and key
//! path, one table row each.

// In a module named `scenario` so that `cargo test -p harness scenario` runs these.
mod scenario {
    use std::path::PathBuf;

    use harness::catalogue::Catalogue;
    use harness::scenario::{load_scenario, ImageStore, ScenarioError, ScenarioErrorKind};
    use indoc::indoc;
    use rstest::rstest;
    use tempfile::TempDir;

    const DOCKERFILE: &str = "FROM {chef} AS chef\nFROM {runtime}\n";

    fn catalogue() -> Catalogue {
        Catalogue::load_default().expect("the workspace's engine catalogue loads")
    }

    /// Writes `scenario.toml` (and a Dockerfile) into `<tmp>/<name>/` and loads
    /// it; returns the folder, which lives as long as the `TempDir`.
    fn load_in(name: &str, toml: &str, dockerfile: &str) -> (TempDir, PathBuf, Result<(), ScenarioError>) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("scenario.toml"), toml).unwrap();
        std::fs::write(dir.join("Dockerfile"), dockerfile).unwrap();
        let result = load_scenario(&dir, &catalogue()).map(drop);
        (tmp, dir, result)
    }

    fn error_in(name: &str, toml: &str, dockerfile: &str) -> (TempDir, PathBuf, ScenarioError) {
        let (tmp, dir, result) = load_in(name, toml, dockerfile);
        (tmp, dir, result.unwrap_err())
    }

    /// The kind's message without its `file:line:column: ` prefix, the line and
    /// column, the file name, and the key path.
    fn describe(kind: &ScenarioErrorKind) -> (String, usize, usize, String, String) {
        let location = kind.location().expect("a located error");
        let prefix = format!("{location}: ");
        let message = kind.to_string();
        let message = message.strip_prefix(&prefix).unwrap_or_else(|| panic!("{message:?} starts with {prefix:?}"));
        let file = location.file.file_name().unwrap().to_string_lossy().into_owned();
        let key_path = kind.key_path().unwrap_or("").to_owned();
        (message.to_owned(), location.line, location.column, file, key_path)
    }

    /// A valid scenario the table rows below break in one place each.
    const VALID: &str = indoc! {r#"
        description = "demo"

        [[job]]
        [[job.command]]
        build = "classic"
        target = "builder"

        [[job.expect]]
        step = "RUN cargo chef cook"
        outcome = "reused"
    "#};

    #[test]
    fn the_base_scenario_is_valid() {
        load_in("demo", VALID, DOCKERFILE).2.unwrap();
    }

    /// A `FROM` that downloads its base image can be expected as pulled.
    #[test]
    fn a_step_may_be_expected_pulled() {
        let toml = VALID.replace("RUN cargo chef cook", "FROM").replace("\"reused\"", "\"pulled\"");
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("scenario.toml"), toml).unwrap();
        std::fs::write(dir.join("Dockerfile"), DOCKERFILE).unwrap();
        let scenario = load_scenario(&dir, &catalogue()).unwrap();
        let expect = &scenario.blocks[0].expectations[0];
        assert_eq!(expect.expected, harness::scenario::Expected::Is(harness::progress::Outcome::Pulled));
    }

    #[rstest]
    #[case::invalid_toml(
        indoc! {r#"
            description = "demo
        "#},
        "invalid TOML: invalid basic string, expected `\"`",
        1, 20, ""
    )]
    #[case::unknown_key(
        indoc! {r#"
            description = "demo"
            seed = "gitlab"
        "#},
        "at `seed`: unknown field `seed`, expected one of `description`, `links`, `fixture`, `dockerfiles`, `daemon`, `engines`, `job`",
        2, 1, "seed"
    )]
    #[case::unknown_key_deep_down(
        &VALID.replace("target = \"builder\"", "target = \"builder\"\ntag = \"x\""),
        "at `job[0].command[0].tag`: unknown field `tag`, expected one of `login`, `pull`, `build`, `push`, `shell`, `may_fail`, `username`, `password`, `id`, `file`, `target`, `tags`, `cache_from`, `cache_to`, `inline_cache`, `build_args`, `extra_args`",
        7, 1, "job[0].command[0].tag"
    )]
    #[case::missing_key("[[job]]\n", "at `(top level)`: missing field `description`", 1, 1, "(top level)")]
    #[case::wrong_type(
        &VALID.replace("[[job]]", "[[job]]\nrepeat = \"two\""),
        "at `job[0].repeat`: invalid type: string \"two\", expected u32",
        4, 10, "job[0].repeat"
    )]
    #[case::unknown_outcome(
        &VALID.replace("\"reused\"", "\"cachd\""),
        "at `job[0].expect[0].outcome`: unknown variant `cachd`, expected one of `cached`, `remote`, `reused`, `pulled`, `executed`, `executed?`, `error`, `canceled`, `absent`",
        10, 11, "job[0].expect[0].outcome"
    )]
    #[case::unknown_daemon_mode(
        &VALID.replace("[[job]]", "[[job]]\ndaemon = \"cold\""),
        "at `job[0].daemon`: unknown variant `cold`, expected `fresh` or `warm`",
        4, 10, "job[0].daemon"
    )]
    #[case::unknown_frontend(
        &VALID.replace("\"classic\"", "\"kaniko\""),
        "at `job[0].command[0].build`: unknown variant `kaniko`, expected `classic` or `buildx`",
        5, 9, "job[0].command[0].build"
    )]
    #[case::unknown_key_under_a_quoted_key(
        &format!("{VALID}\n[engines.\"26.1.5\"]\nunsuported = \"x\"\n"),
        "at `engines.\"26.1.5\".unsuported`: unknown field `unsuported`, expected `unsupported`",
        13, 1, "engines.\"26.1.5\".unsuported"
    )]
    #[case::unknown_store(
        &format!("{VALID}\n[[job.expect.override]]\nengines = [\"26.1.5\"]\nstores = [\"overlay\"]\noutcome = \"executed\"\n"),
        "at `job[0].expect[0].override[0].stores[0]`: unknown variant `overlay`, expected `classic` or `containerd`",
        14, 11, "job[0].expect[0].override[0].stores[0]"
    )]
    #[case::unknown_daemon_key(
        &format!("{VALID}\n[daemon]\ncary = \"/cache\"\n"),
        "at `daemon.cary`: unknown field `cary`, expected `containerd_snapshotter` or `carry`",
        13, 1, "daemon.cary"
    )]
    fn schema_errors(
        #[case] toml: &str,
        #[case] message: &str,
        #[case] line: usize,
        #[case] column: usize,
        #[case] key_path: &str,
    ) {
        let (_tmp, _, err) = error_in("demo", toml, DOCKERFILE);
        assert!(err.to_string().starts_with("failed to parse scenario at `"), "{err}");
        assert!(err.to_string().ends_with("demo/scenario.toml`"), "{err}");
        let (seen, seen_line, seen_column, file, seen_key) = describe(&err.kind);
        assert_eq!(
            (seen.as_str(), seen_line, seen_column, file.as_str(), seen_key.as_str()),
            (message, line, column, "scenario.toml", key_path)
        );
    }

    #[rstest]
    #[case::no_jobs("description = \"demo\"\n", "a scenario needs at least one `[[job]]`", 1, 1, "job")]
    #[case::fixture_not_a_folder(
        &format!("fixture = \"no-such-folder\"\n{VALID}"),
        "the fixture `no-such-folder` is not a folder (No such file or directory (os error 2)): give a folder, absolute or relative to the scenario folder",
        1, 11, "fixture"
    )]
    #[case::unknown_engine(
        &format!("{VALID}\n[engines.\"19.03\"]\nunsupported = \"too old\"\n"),
        "unknown engine `19.03`: expected one of 20.10.24, 24.0.7, 25.0, 26.1.5, 27.5, 28.5.2, 29 (the engines of ci/engines.toml)",
        12, 1, "engines.\"19.03\""
    )]
    #[case::unknown_engine_in_override(
        &format!("{VALID}\n[[job.expect.override]]\nengines = [\"26.1\"]\noutcome = \"executed\"\n"),
        "unknown engine `26.1`: expected one of 20.10.24, 24.0.7, 25.0, 26.1.5, 27.5, 28.5.2, 29 (the engines of ci/engines.toml)",
        13, 12, "job[0].expect[0].override[0].engines[0]"
    )]
    #[case::unknown_placeholder(
        &VALID.replace("[[job.command]]", "[[job.command]]\npull = \"{registry}/{repo}:x\"\n\n[[job.command]]"),
        "unknown placeholder `{repo}` here: expected one of `{registry}`, `{job}`, `{image}`, `{scenario}`, `{engine}`",
        5, 20, "job[0].command[0].pull"
    )]
    #[case::dockerfile_placeholder_in_a_command(
        &VALID.replace("[[job.command]]", "[[job.command]]\npull = \"{chef}\"\n\n[[job.command]]"),
        "unknown placeholder `{chef}` here: expected one of `{registry}`, `{job}`, `{image}`, `{scenario}`, `{engine}`",
        5, 9, "job[0].command[0].pull"
    )]
    #[case::edit_with_two_actions(
        &VALID.replace("[[job.command]]", "[[job.edit]]\nfile = \"a\"\nappend = \"x\"\nwrite = \"y\"\n\n[[job.command]]"),
        "expected exactly one of `append`, `replace` or `write`, found `append` and `write`",
        4, 1, "job[0].edit[0]"
    )]
    #[case::command_without_verb(
        &VALID.replace("[[job.command]]", "[[job.command]]\nmay_fail = true\n\n[[job.command]]"),
        "expected exactly one of `login`, `pull`, `build`, `push` or `shell`, found none",
        4, 1, "job[0].command[0]"
    )]
    #[case::build_option_on_another_verb(
        &VALID.replace("[[job.command]]", "[[job.command]]\npull = \"{image}:x\"\ntarget = \"builder\"\n\n[[job.command]]"),
        "`target` applies only to `build` commands",
        6, 10, "job[0].command[0].target"
    )]
    #[case::login_option_on_another_verb(
        &VALID.replace("target = \"builder\"", "target = \"builder\"\nusername = \"ci\""),
        "`username` applies only to `login` commands",
        7, 12, "job[0].command[0].username"
    )]
    #[case::with_without_replace(
        &VALID.replace("[[job.command]]", "[[job.edit]]\nfile = \"a\"\nappend = \"x\"\nwith = \"y\"\n\n[[job.command]]"),
        "`with` applies only to `replace` edits",
        7, 8, "job[0].edit[0].with"
    )]
    #[case::replace_without_with(
        &VALID.replace("[[job.command]]", "[[job.edit]]\nfile = \"a\"\nreplace = \"x\"\n\n[[job.command]]"),
        "`replace` needs `with`: the text to put in its place",
        4, 1, "job[0].edit[0]"
    )]
    #[case::executable_without_write(
        &VALID.replace("[[job.command]]", "[[job.edit]]\nfile = \"a\"\nappend = \"x\"\nexecutable = true\n\n[[job.command]]"),
        "`executable` applies only to `write` edits",
        7, 14, "job[0].edit[0].executable"
    )]
    #[case::empty_append(
        &VALID.replace("[[job.command]]", "[[job.edit]]\nfile = \"a\"\nappend = \"\"\n\n[[job.command]]"),
        "`append` must not be empty",
        6, 10, "job[0].edit[0].append"
    )]
    #[case::repeat_zero(
        &VALID.replace("[[job]]", "[[job]]\nrepeat = 0"),
        "`repeat` must be at least 1",
        4, 10, "job[0].repeat"
    )]
    #[case::edit_outside_the_context(
        &VALID.replace("[[job.command]]", "[[job.edit]]\nfile = \"../Cargo.toml\"\nappend = \"x\"\n\n[[job.command]]"),
        "`../Cargo.toml` must be a relative path inside the build context, without `..`",
        5, 8, "job[0].edit[0].file"
    )]
    #[case::missing_dockerfile(
        &VALID.replace("description = \"demo\"", "description = \"demo\"\ndockerfiles = [\"Dockerfile\", \"other.Dockerfile\"]"),
        "cannot read Dockerfile `{dir}/other.Dockerfile`: No such file or directory (os error 2)",
        2, 30, "dockerfiles[1]"
    )]
    #[case::unknown_dockerfile(
        &VALID.replace("target = \"builder\"", "target = \"builder\"\nfile = \"other.Dockerfile\""),
        "`other.Dockerfile` is not one of the scenario's `dockerfiles` (Dockerfile)",
        7, 8, "job[0].command[0].file"
    )]
    #[case::cache_to_with_classic_build(
        &VALID.replace("target = \"builder\"", "target = \"builder\"\ncache_to = [\"type=inline\"]"),
        "`cache_to` needs `build = \"buildx\"`: classic `docker build` has no --cache-to",
        7, 12, "job[0].command[0].cache_to"
    )]
    #[case::duplicate_build_id(
        &VALID.replace("[[job.expect]]", "[[job.command]]\nbuild = \"buildx\"\nid = \"builder\"\n\n[[job.expect]]"),
        "another build of this job already has the id `builder`: set `id` on one of them",
        10, 6, "job[0].command[1]"
    )]
    #[case::unknown_build(
        &VALID.replace("step =", "build = \"planner\"\nstep ="),
        "this job has no build with the id `planner`: expected one of builder",
        9, 9, "job[0].expect[0].build"
    )]
    #[case::ambiguous_build(
        &VALID.replace("[[job.expect]]", "[[job.command]]\nbuild = \"classic\"\n\n[[job.expect]]"),
        "this job runs 2 builds (builder, build-2): say which one with `build = \"<id>\"`",
        11, 1, "job[0].expect[0]"
    )]
    #[case::expectation_without_build(
        &VALID.replace("build = \"classic\"\ntarget = \"builder\"", "pull = \"{image}:x\""),
        "this job runs no build, so it has no step to expect",
        7, 1, "job[0].expect[0]"
    )]
    #[case::empty_step(
        &VALID.replace("\"RUN cargo chef cook\"", "\"  \""),
        "`step` must not be empty",
        9, 8, "job[0].expect[0].step"
    )]
    #[case::job_out_of_range(
        &VALID.replace("[[job]]", "[[job]]\nrepeat = 2").replace("outcome = \"reused\"", "outcome = \"reused\"\njobs = [2, 3]"),
        "job 3 is not one of this block's jobs, 1 to 2",
        12, 12, "job[0].expect[0].jobs[1]"
    )]
    #[case::empty_jobs(
        &VALID.replace("outcome = \"reused\"", "outcome = \"reused\"\njobs = []"),
        "`jobs` must not be empty",
        11, 8, "job[0].expect[0].jobs"
    )]
    #[case::override_without_outcome(
        &format!("{VALID}\n[[job.expect.override]]\nengines = [\"26.1.5\"]\n"),
        "expected exactly one of `outcome` or `unsupported`, found none",
        12, 1, "job[0].expect[0].override[0]"
    )]
    #[case::known_bug_not_a_link(
        &format!("{VALID}\n[[job.expect.override]]\nengines = [\"26.1.5\"]\noutcome = \"executed\"\nknown_bug = \"moby/buildkit#2274\"\n"),
        "`known_bug` must be an upstream link (https://...), found `moby/buildkit#2274`",
        15, 13, "job[0].expect[0].override[0].known_bug"
    )]
    #[case::known_bug_on_unsupported(
        &format!("{VALID}\n[[job.expect.override]]\nengines = [\"26.1.5\"]\nunsupported = \"no\"\nknown_bug = \"https://x\"\n"),
        "`known_bug` applies only to overrides with an `outcome`",
        15, 13, "job[0].expect[0].override[0].known_bug"
    )]
    #[case::overlapping_overrides(
        &format!(
            "{VALID}\n[[job.expect.override]]\nengines = [\"26.1.5\"]\noutcome = \"executed\"\n\n\
             [[job.expect.override]]\nengines = [\"28.5.2\", \"26.1.5\"]\noutcome = \"cached\"\n"
        ),
        "this override and override 0 both cover engine `26.1.5` with the classic image store on the same job: \
         narrow `engines`, `stores` or `jobs`",
        16, 1, "job[0].expect[0].override[1]"
    )]
    #[case::overlapping_overrides_on_a_shared_store(
        &format!(
            "{VALID}\n[[job.expect.override]]\nengines = [\"26.1.5\"]\nstores = [\"containerd\"]\noutcome = \"executed\"\n\n\
             [[job.expect.override]]\nengines = [\"26.1.5\"]\noutcome = \"cached\"\n"
        ),
        "this override and override 0 both cover engine `26.1.5` with the containerd image store on the same job: \
         narrow `engines`, `stores` or `jobs`",
        17, 1, "job[0].expect[0].override[1]"
    )]
    #[case::empty_stores(
        &format!("{VALID}\n[[job.expect.override]]\nengines = [\"26.1.5\"]\nstores = []\noutcome = \"executed\"\n"),
        "`stores` must not be empty",
        14, 10, "job[0].expect[0].override[0].stores"
    )]
    #[case::carry_relative(
        &format!("{VALID}\n[daemon]\ncarry = \"cache\"\n"),
        "`carry` must be an absolute path to a folder of its own, found `cache`: it is relative; write it from `/`, e.g. `/cache`",
        13, 9, "daemon.carry"
    )]
    #[case::carry_root(
        &format!("{VALID}\n[daemon]\ncarry = \"//\"\n"),
        "`carry` must be an absolute path to a folder of its own, found `//`: a volume on `/` would hide the daemon's whole filesystem",
        13, 9, "daemon.carry"
    )]
    #[case::carry_inside_docker_data(
        &format!("{VALID}\n[daemon]\ncarry = \"/var/lib/docker/cache\"\n"),
        "`carry` must be an absolute path to a folder of its own, found `/var/lib/docker/cache`: the dind needs \
         `/var/lib/docker` for itself; pick a folder of its own such as `/cache`",
        13, 9, "daemon.carry"
    )]
    #[case::carry_above_docker_settings(
        &format!("{VALID}\n[daemon]\ncarry = \"/etc/\"\n"),
        "`carry` must be an absolute path to a folder of its own, found `/etc/`: the dind needs `/etc/docker` for \
         itself; pick a folder of its own such as `/cache`",
        13, 9, "daemon.carry"
    )]
    #[case::carry_with_a_space(
        &format!("{VALID}\n[daemon]\ncarry = \"/my cache\"\n"),
        "`carry` must be an absolute path to a folder of its own, found `/my cache`: it holds ' '; use letters, \
         digits, `.`, `_`, `-` and `/`",
        13, 9, "daemon.carry"
    )]
    #[case::carry_climbing(
        &format!("{VALID}\n[daemon]\ncarry = \"/cache/../usr\"\n"),
        "`carry` must be an absolute path to a folder of its own, found `/cache/../usr`: it holds `.` or `..`",
        13, 9, "daemon.carry"
    )]
    fn invalid_scenarios(
        #[case] toml: &str,
        #[case] message: &str,
        #[case] line: usize,
        #[case] column: usize,
        #[case] key_path: &str,
    ) {
        let (_tmp, dir, err) = error_in("demo", toml, DOCKERFILE);
        assert!(matches!(*err.kind, ScenarioErrorKind::Invalid { .. }), "{:?}", err.kind);
        let (seen, seen_line, seen_column, file, seen_key) = describe(&err.kind);
        let message = message.replace("{dir}", &dir.display().to_string());
        let problem = match &*err.kind {
            ScenarioErrorKind::Invalid { problem, .. } => problem.to_string(),
            _ => unreachable!(),
        };
        assert_eq!(seen, format!("at `{key_path}`: {problem}"));
        assert_eq!(
            (problem.as_str(), seen_line, seen_column, file.as_str(), seen_key.as_str()),
            (message.as_str(), line, column, "scenario.toml", key_path)
        );
    }

    /// What a store-limited override and a carry folder load as.
    #[test]
    fn overrides_on_other_stores_may_share_engine_and_job_and_carry_is_normalised() {
        let toml = format!(
            "{VALID}\n[[job.expect.override]]\nengines = [\"28.5.2\"]\nstores = [\"classic\"]\noutcome = \"executed\"\n\n\
             [[job.expect.override]]\nengines = [\"28.5.2\"]\nstores = [\"containerd\", \"containerd\"]\n\
             outcome = \"cached\"\n\n[daemon]\ncarry = \"/ci//cache/\"\n"
        );
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("scenario.toml"), toml).unwrap();
        std::fs::write(dir.join("Dockerfile"), DOCKERFILE).unwrap();
        let scenario = load_scenario(&dir, &catalogue()).unwrap();
        assert_eq!(scenario.daemon.carry.as_deref(), Some("/ci/cache"));
        let overrides = &scenario.blocks[0].expectations[0].overrides;
        assert_eq!(overrides[0].stores, [ImageStore::Classic]);
        assert_eq!(overrides[1].stores, [ImageStore::Containerd]);
        let expect = &scenario.blocks[0].expectations[0];
        let picked = |store| expect.override_for("28.5.2", store, 1).map(|o| o.stores.clone());
        assert_eq!(picked(ImageStore::Classic), Some(vec![ImageStore::Classic]));
        assert_eq!(picked(ImageStore::Containerd), Some(vec![ImageStore::Containerd]));
        assert_eq!(expect.override_for("26.1.5", ImageStore::Classic, 1).map(|o| o.stores.len()), None);
    }

    #[test]
    fn unknown_placeholder_in_a_dockerfile_points_into_the_dockerfile() {
        let dockerfile = "FROM {chef} AS chef\nRUN echo ${HOME} {{.Id}}\nFROM {registry}/runtime\n";
        let (_tmp, _, err) = error_in("demo", VALID, dockerfile);
        let (message, line, column, file, key_path) = describe(&err.kind);
        assert_eq!(
            (message.as_str(), line, column, file.as_str(), key_path.as_str()),
            ("unknown placeholder `{registry}` here: expected one of `{chef}`, `{runtime}`", 3, 6, "Dockerfile", "")
        );
    }

    #[test]
    fn a_folder_name_must_fit_in_an_image_name() {
        let (_tmp, _, err) = error_in("Seed Repro", VALID, DOCKERFILE);
        assert_eq!(
            err.kind.to_string(),
            "the folder name `Seed Repro` cannot be part of an image name: use lowercase letters, digits, `-`, `_` and `.`"
        );
    }

    #[test]
    fn a_folder_without_scenario_toml_cannot_be_read() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("empty");
        std::fs::create_dir(&dir).unwrap();
        let err = load_scenario(&dir, &catalogue()).unwrap_err();
        assert!(matches!(*err.kind, ScenarioErrorKind::Read { .. }), "{:?}", err.kind);
        assert_eq!(err.path, dir.join("scenario.toml"));
        assert_eq!(err.kind.to_string(), format!("cannot read `{}`", err.path.display()));
    }

    /// A fixture outside the workspace, relative to the scenario folder,
    /// resolves to an absolute folder.
    #[test]
    fn a_fixture_is_any_folder_relative_to_the_scenario() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("project/src")).unwrap();
        let (_keep, dir, result) = {
            let dir = tmp.path().join("scenarios/demo");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("scenario.toml"), format!("fixture = \"../../project\"\n{VALID}")).unwrap();
            std::fs::write(dir.join("Dockerfile"), DOCKERFILE).unwrap();
            let result = load_scenario(&dir, &catalogue());
            ((), dir, result)
        };
        let scenario = result.unwrap_or_else(|e| panic!("{e:?} in {}", dir.display()));
        assert_eq!(PathBuf::from(&scenario.fixture), tmp.path().join("project").canonicalize().unwrap());
    }
}
