//! The rules of the scenario format, applied to the raw file.
//!
//! Each rule that fails becomes a [`Problem`] placed at the value it is about
//! (its span in `scenario.toml`, or the offset in a Dockerfile) with the key
//! path that leads there. What passes becomes the model, so nothing
//! downstream checks again.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use super::error::{toml_key, Location, Problem, ScenarioErrorKind};
use super::model::{
    BuildCommand, Command, CommandKind, DaemonConfig, DaemonMode, Dockerfile, Edit, EditAction, Expectation, Expected,
    Frontend, ImageStore, Job, Override, OverrideAction, RunCheck, Scenario,
};
use super::raw::{
    RawCommand, RawDaemon, RawDaemonMode, RawEdit, RawExpect, RawExpected, RawFrontend, RawJob, RawOverride, RawRun,
    RawScenario, RawStore,
};
use super::template::{PlaceholderError, Template, COMMAND_VARS, DOCKERFILE_VARS};
use crate::catalogue::Catalogue;
use crate::progress::Outcome;

const DEFAULT_FIXTURE: &str = "hello-world";
/// Jobs a scenario may hold, `repeat` included: each is a fresh daemon and
/// a full pipeline, so more is a mistake (and `u32` arithmetic stays safe).
pub const MAX_JOBS: u32 = 100;
const DEFAULT_DOCKERFILE: &str = "Dockerfile";
/// Folders of a dind container that `[daemon] carry` may neither be, nor
/// be inside, nor contain: dockerd's data and settings, the harness's
/// context, CA and password file, the kernel's file systems, and the
/// image's programs.
const CARRY_RESERVED: &[&str] = &[
    "/var/lib/docker",
    "/etc/docker",
    "/harness",
    "/run",
    "/etc/harness",
    "/etc/ssl",
    "/proc",
    "/sys",
    "/dev",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
];

/// Validation context: where errors point.
pub(super) struct Cx<'a> {
    pub file: &'a Path,
    pub text: &'a str,
    pub catalogue: &'a Catalogue,
}

type Checked<T> = Result<T, ScenarioErrorKind>;

/// A template rule's failure, before it is placed.
fn placeholder_problem(e: &PlaceholderError) -> Problem {
    Problem::UnknownPlaceholder { name: e.name.clone(), allowed: e.allowed_list() }
}

impl Cx<'_> {
    fn invalid(&self, span: &Range<usize>, key_path: impl Into<String>, problem: Problem) -> ScenarioErrorKind {
        ScenarioErrorKind::Invalid {
            location: Location::at(self.file, self.text, span.start),
            key_path: key_path.into(),
            problem,
        }
    }

    /// A template of command placeholders, located at the offending
    /// placeholder when the file spells it as written.
    fn template(&self, value: &Spanned<String>, key_path: impl Into<String>) -> Checked<Template> {
        Template::parse(value.get_ref(), COMMAND_VARS).map_err(|e| {
            let span = value.span();
            let needle = format!("{{{}}}", e.name);
            let start = self.text[span.clone()].find(&needle).map_or(span.start, |i| span.start + i);
            self.invalid(&(start..start), key_path, placeholder_problem(&e))
        })
    }

    fn templates(&self, values: &[Spanned<String>], key_path: &str) -> Checked<Vec<Template>> {
        values.iter().enumerate().map(|(i, v)| self.template(v, format!("{key_path}[{i}]"))).collect()
    }

    fn engine(&self, name: &Spanned<String>, key_path: impl Into<String>) -> Checked<String> {
        let known = &self.catalogue.engines;
        if known.iter().any(|e| &e.version == name.get_ref()) {
            return Ok(name.get_ref().clone());
        }
        let known: Vec<&str> = known.iter().map(|e| e.version.as_str()).collect();
        Err(self.invalid(
            &name.span(),
            key_path,
            Problem::UnknownEngine { name: name.get_ref().clone(), known: known.join(", ") },
        ))
    }

    fn relative_path(&self, value: &Spanned<String>, key_path: &str, inside: &'static str) -> Checked<String> {
        let path = Path::new(value.get_ref());
        let plain =
            path.components().all(|c| matches!(c, std::path::Component::Normal(_) | std::path::Component::CurDir));
        if value.get_ref().is_empty() || !plain {
            return Err(self.invalid(
                &value.span(),
                key_path,
                Problem::BadPath { path: value.get_ref().clone(), inside },
            ));
        }
        Ok(value.get_ref().clone())
    }

    /// An explicit fixture: any folder, absolute or relative to the
    /// scenario folder, stored absolute (so joining it to the workspace root
    /// leaves it as it is).
    fn fixture(&self, value: &Spanned<String>, dir: &Path) -> Checked<String> {
        let written = Path::new(value.get_ref());
        let bad = |why: String| {
            self.invalid(&value.span(), "fixture", Problem::BadFixture { path: value.get_ref().clone(), why })
        };
        if value.get_ref().is_empty() {
            return Err(bad("it is empty".into()));
        }
        let path = dir.join(written).canonicalize().map_err(|e| bad(e.to_string()))?;
        if !path.is_dir() {
            return Err(bad(format!("`{}` is a file", path.display())));
        }
        Ok(path.to_string_lossy().into_owned())
    }

    pub fn scenario(&self, raw: RawScenario, name: String, dir: &Path) -> Checked<Scenario> {
        let fixture = match &raw.fixture {
            Some(f) => self.fixture(f, dir)?,
            None => DEFAULT_FIXTURE.to_owned(),
        };
        let dockerfiles = self.dockerfiles(raw.dockerfiles.as_deref(), dir)?;

        let mut unsupported = BTreeMap::new();
        for (version, engine) in &raw.engines {
            let key = format!("engines.{}", toml_key(version));
            let version = self.engine(&Spanned::new(engine.span(), version.clone()), key)?;
            if let Some(reason) = &engine.get_ref().unsupported {
                unsupported.insert(version, reason.clone());
            }
        }

        if raw.jobs.is_empty() {
            return Err(self.invalid(&(0..0), "job", Problem::NoJobs));
        }
        let dockerfile_names: Vec<&str> = dockerfiles.iter().map(|d| d.name.as_str()).collect();
        let mut blocks = Vec::with_capacity(raw.jobs.len());
        let mut next = 1;
        for (i, job) in raw.jobs.iter().enumerate() {
            let block = self.job(job, i, next, &dockerfile_names)?;
            next += block.repeat;
            blocks.push(block);
        }

        Ok(Scenario {
            name,
            dir: dir.to_owned(),
            description: raw.description,
            links: raw.links,
            fixture,
            dockerfiles,
            daemon: self.daemon(raw.daemon.as_ref())?,
            unsupported,
            blocks,
        })
    }

    fn daemon(&self, raw: Option<&RawDaemon>) -> Checked<DaemonConfig> {
        let Some(raw) = raw else { return Ok(DaemonConfig::default()) };
        let carry = raw.carry.as_ref().map(|path| self.carry(path)).transpose()?;
        Ok(DaemonConfig { containerd_snapshotter: raw.containerd_snapshotter, carry })
    }

    /// `[daemon] carry`: an absolute, plain path that shadows nothing the
    /// dind needs (a volume mounted there hides what the image has).
    fn carry(&self, value: &Spanned<String>) -> Checked<String> {
        let path = value.get_ref();
        let bad =
            |why: String| self.invalid(&value.span(), "daemon.carry", Problem::BadCarry { path: path.clone(), why });
        if !path.starts_with('/') {
            return Err(bad("it is relative; write it from `/`, e.g. `/cache`".into()));
        }
        // Plain characters only: the path goes into `--mount` specs and
        // shell lines (a pack's repro.sh) as written.
        if let Some(c) = path.chars().find(|c| !(c.is_ascii_alphanumeric() || "/._-".contains(*c))) {
            return Err(bad(format!("it holds {c:?}; use letters, digits, `.`, `_`, `-` and `/`")));
        }
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        if parts.iter().any(|p| *p == "." || *p == "..") {
            return Err(bad("it holds `.` or `..`".into()));
        }
        let clean = format!("/{}", parts.join("/"));
        if clean == "/" {
            return Err(bad("a volume on `/` would hide the daemon's whole filesystem".into()));
        }
        let within = |inner: &str, outer: &str| inner == outer || inner.starts_with(&format!("{outer}/"));
        if let Some(used) = CARRY_RESERVED.iter().find(|used| within(&clean, used) || within(used, &clean)) {
            return Err(bad(format!("the dind needs `{used}` for itself; pick a folder of its own such as `/cache`")));
        }
        Ok(clean)
    }

    fn dockerfiles(&self, raw: Option<&[Spanned<String>]>, dir: &Path) -> Checked<Vec<Dockerfile>> {
        let default = [Spanned::new(0..0, DEFAULT_DOCKERFILE.to_owned())];
        let names = raw.unwrap_or(&default);
        let mut out = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let key = format!("dockerfiles[{i}]");
            let span = name.span();
            let name = self.relative_path(name, &key, "the scenario folder")?;
            let path = dir.join(&name);
            let text = read_dockerfile(&path, dir).map_err(|e| {
                self.invalid(
                    &span,
                    key.clone(),
                    Problem::Unreadable { path: path.display().to_string(), error: e.to_string() },
                )
            })?;
            let template = Template::parse(&text, DOCKERFILE_VARS).map_err(|e| ScenarioErrorKind::Dockerfile {
                location: Location::at(&path, &text, e.offset),
                problem: placeholder_problem(&e),
            })?;
            out.push(Dockerfile { name, template });
        }
        Ok(out)
    }

    fn job(&self, raw: &Spanned<RawJob>, i: usize, first: u32, dockerfiles: &[&str]) -> Checked<Job> {
        let key = format!("job[{i}]");
        let job = raw.get_ref();
        let repeat = match &job.repeat {
            Some(r) if *r.get_ref() == 0 => {
                return Err(self.invalid(&r.span(), format!("{key}.repeat"), Problem::RepeatZero))
            }
            Some(r) if first.saturating_add(*r.get_ref()) > MAX_JOBS + 1 => {
                let problem = Problem::TooManyJobs { repeat: *r.get_ref(), first, max: MAX_JOBS };
                return Err(self.invalid(&r.span(), format!("{key}.repeat"), problem));
            }
            Some(r) => *r.get_ref(),
            None if first > MAX_JOBS => {
                let problem = Problem::TooManyJobs { repeat: 1, first, max: MAX_JOBS };
                return Err(self.invalid(&raw.span(), key, problem));
            }
            None => 1,
        };
        let daemon = match job.daemon {
            Some(RawDaemonMode::Warm) => DaemonMode::Warm,
            Some(RawDaemonMode::Fresh) | None => DaemonMode::Fresh,
        };
        let numbers = first..=first + repeat - 1;

        let edits = (job.edits.iter().enumerate())
            .map(|(j, e)| self.edit(e, &format!("{key}.edit[{j}]")))
            .collect::<Checked<Vec<_>>>()?;

        let mut commands = Vec::with_capacity(job.commands.len());
        let mut build_ids: Vec<String> = Vec::new();
        for (j, c) in job.commands.iter().enumerate() {
            let ckey = format!("{key}.command[{j}]");
            let command = self.command(c, &ckey, build_ids.len() + 1, dockerfiles)?;
            if let CommandKind::Build(b) = &command.kind {
                if build_ids.contains(&b.id) {
                    let span = c.get_ref().id.as_ref().map_or(c.span(), |s| s.span());
                    return Err(self.invalid(&span, ckey, Problem::DuplicateBuildId { id: b.id.clone() }));
                }
                build_ids.push(b.id.clone());
            }
            commands.push(command);
        }

        let runs = (job.runs.iter().enumerate())
            .map(|(j, r)| self.run(r, &format!("{key}.run[{j}]"), &numbers))
            .collect::<Checked<Vec<_>>>()?;
        let expectations = (job.expects.iter().enumerate())
            .map(|(j, e)| self.expect(e, &format!("{key}.expect[{j}]"), &numbers, &build_ids))
            .collect::<Checked<Vec<_>>>()?;

        Ok(Job {
            name: job.name.clone().unwrap_or_else(|| "job".to_owned()),
            daemon,
            first,
            repeat,
            edits,
            commands,
            runs,
            expectations,
        })
    }

    /// Checks that exactly one of the `keys` marked present is.
    fn exactly_one(
        &self,
        span: &Range<usize>,
        key: &str,
        expected: &'static str,
        keys: &[(&str, bool)],
    ) -> Checked<()> {
        let given: Vec<String> = keys.iter().filter(|(_, on)| *on).map(|(k, _)| format!("`{k}`")).collect();
        if given.len() == 1 {
            return Ok(());
        }
        let found = if given.is_empty() { "none".to_owned() } else { given.join(" and ") };
        Err(self.invalid(span, key, Problem::Action { expected, found }))
    }

    fn edit(&self, raw: &Spanned<RawEdit>, key: &str) -> Checked<Edit> {
        let edit = raw.get_ref();
        let file = self.relative_path(&edit.file, &format!("{key}.file"), "the build context")?;
        let actions =
            [("append", edit.append.is_some()), ("replace", edit.replace.is_some()), ("write", edit.write.is_some())];
        self.exactly_one(&raw.span(), key, "`append`, `replace` or `write`", &actions)?;
        if let (Some(with), None) = (&edit.with, &edit.replace) {
            return Err(self.invalid(
                &with.span(),
                format!("{key}.with"),
                Problem::Misplaced { key: "with", applies_to: "`replace` edits" },
            ));
        }
        if let (Some(executable), None) = (&edit.executable, &edit.write) {
            return Err(self.invalid(
                &executable.span(),
                format!("{key}.executable"),
                Problem::Misplaced { key: "executable", applies_to: "`write` edits" },
            ));
        }
        let action = if let Some(text) = &edit.append {
            if text.get_ref().is_empty() {
                return Err(self.invalid(&text.span(), format!("{key}.append"), Problem::Empty { key: "append" }));
            }
            EditAction::Append(self.template(text, format!("{key}.append"))?)
        } else if let Some(find) = &edit.replace {
            if find.get_ref().is_empty() {
                return Err(self.invalid(&find.span(), format!("{key}.replace"), Problem::Empty { key: "replace" }));
            }
            let with = edit.with.as_ref().ok_or_else(|| self.invalid(&raw.span(), key, Problem::MissingWith))?;
            EditAction::Replace {
                find: self.template(find, format!("{key}.replace"))?,
                with: self.template(with, format!("{key}.with"))?,
            }
        } else {
            let content = edit.write.as_ref().expect("one action is given");
            EditAction::Write {
                content: self.template(content, format!("{key}.write"))?,
                executable: edit.executable.as_ref().is_some_and(|e| *e.get_ref()),
            }
        };
        Ok(Edit { file, action })
    }

    fn command(
        &self,
        raw: &Spanned<RawCommand>,
        key: &str,
        build_number: usize,
        dockerfiles: &[&str],
    ) -> Checked<Command> {
        let c = raw.get_ref();
        let verbs = [
            ("login", c.login.is_some()),
            ("pull", c.pull.is_some()),
            ("build", c.build.is_some()),
            ("push", c.push.is_some()),
            ("shell", c.shell.is_some()),
        ];
        self.exactly_one(&raw.span(), key, "`login`, `pull`, `build`, `push` or `shell`", &verbs)?;
        self.misplaced_options(c, key)?;
        let kind = if let Some(registry) = &c.login {
            CommandKind::Login {
                registry: self.template(registry, format!("{key}.login"))?,
                username: c.username.as_ref().map_or("harness".to_owned(), |u| u.get_ref().clone()),
                password: c.password.as_ref().map_or("harness".to_owned(), |p| p.get_ref().clone()),
            }
        } else if let Some(image) = &c.pull {
            CommandKind::Pull(self.template(image, format!("{key}.pull"))?)
        } else if let Some(image) = &c.push {
            CommandKind::Push(self.template(image, format!("{key}.push"))?)
        } else if let Some(line) = &c.shell {
            CommandKind::Shell(self.template(line, format!("{key}.shell"))?)
        } else {
            CommandKind::Build(self.build(c, key, build_number, dockerfiles)?)
        };
        Ok(Command { kind, may_fail: c.may_fail })
    }

    /// Rejects options that belong to another verb than the one given.
    fn misplaced_options(&self, c: &RawCommand, key: &str) -> Checked<()> {
        type Options<'a> = &'a [(&'static str, Option<Range<usize>>)];
        let login_options = [
            ("username", c.username.as_ref().map(Spanned::span)),
            ("password", c.password.as_ref().map(Spanned::span)),
        ];
        let build_options = [
            ("id", c.id.as_ref().map(Spanned::span)),
            ("file", c.file.as_ref().map(Spanned::span)),
            ("target", c.target.as_ref().map(Spanned::span)),
            ("tags", c.tags.as_ref().map(Spanned::span)),
            ("cache_from", c.cache_from.as_ref().map(Spanned::span)),
            ("cache_to", c.cache_to.as_ref().map(Spanned::span)),
            ("inline_cache", c.inline_cache.as_ref().map(Spanned::span)),
            ("build_args", c.build_args.as_ref().map(Spanned::span)),
            ("extra_args", c.extra_args.as_ref().map(Spanned::span)),
        ];
        let groups: [(Options<'_>, bool, &'static str); 2] = [
            (&login_options, c.login.is_some(), "`login` commands"),
            (&build_options, c.build.is_some(), "`build` commands"),
        ];
        for (options, allowed, applies_to) in groups {
            if let Some((option, Some(span))) = options.iter().find(|(_, span)| span.is_some() && !allowed) {
                return Err(self.invalid(
                    span,
                    format!("{key}.{option}"),
                    Problem::Misplaced { key: option, applies_to },
                ));
            }
        }
        Ok(())
    }

    fn build(&self, c: &RawCommand, key: &str, number: usize, dockerfiles: &[&str]) -> Checked<BuildCommand> {
        let frontend = match c.build.as_ref().map(|b| *b.get_ref()) {
            Some(RawFrontend::Buildx) => Frontend::Buildx,
            _ => Frontend::Classic,
        };
        let list = |v: &Option<Spanned<Vec<Spanned<String>>>>, name: &str| -> Checked<Vec<Template>> {
            v.as_ref().map_or(Ok(Vec::new()), |v| self.templates(v.get_ref(), &format!("{key}.{name}")))
        };
        if let (Some(to), Frontend::Classic) = (&c.cache_to, frontend) {
            return Err(self.invalid(&to.span(), format!("{key}.cache_to"), Problem::CacheToNeedsBuildx));
        }
        if let Some(file) = &c.file {
            if !dockerfiles.contains(&file.get_ref().as_str()) {
                return Err(self.invalid(
                    &file.span(),
                    format!("{key}.file"),
                    Problem::UnknownDockerfile { file: file.get_ref().clone(), known: dockerfiles.join(", ") },
                ));
            }
        }
        let build_args = match &c.build_args {
            Some(args) => args
                .get_ref()
                .iter()
                .map(|(name, value)| {
                    let template = self.template(value, format!("{key}.build_args.{}", toml_key(name)))?;
                    Ok((name.clone(), template))
                })
                .collect::<Checked<Vec<_>>>()?,
            None => Vec::new(),
        };
        let target = c.target.as_ref().map(|t| t.get_ref().clone());
        let id = match (&c.id, &target) {
            (Some(id), _) => id.get_ref().clone(),
            (None, Some(target)) => target.clone(),
            (None, None) => format!("build-{number}"),
        };
        Ok(BuildCommand {
            id,
            frontend,
            file: c.file.as_ref().map(|f| f.get_ref().clone()),
            target,
            tags: list(&c.tags, "tags")?,
            cache_from: list(&c.cache_from, "cache_from")?,
            cache_to: list(&c.cache_to, "cache_to")?,
            inline_cache: c.inline_cache.as_ref().is_some_and(|i| *i.get_ref()),
            build_args,
            extra_args: list(&c.extra_args, "extra_args")?,
        })
    }

    fn run(&self, raw: &Spanned<RawRun>, key: &str, numbers: &std::ops::RangeInclusive<u32>) -> Checked<RunCheck> {
        let run = raw.get_ref();
        let optional = |v: &Option<Spanned<String>>, name: &str| {
            v.as_ref().map(|v| self.template(v, format!("{key}.{name}"))).transpose()
        };
        Ok(RunCheck {
            image: self.template(&run.image, format!("{key}.image"))?,
            command: self.templates(&run.command, &format!("{key}.command"))?,
            stdout_contains: optional(&run.stdout_contains, "stdout_contains")?,
            stdout_not_contains: optional(&run.stdout_not_contains, "stdout_not_contains")?,
            exit_code: run.exit_code,
            jobs: self.jobs(run.jobs.as_ref(), &format!("{key}.jobs"), numbers)?,
        })
    }

    /// A `jobs = [...]` filter: non-empty, inside the block's numbers.
    fn jobs(
        &self,
        raw: Option<&Spanned<Vec<Spanned<u32>>>>,
        key: &str,
        numbers: &std::ops::RangeInclusive<u32>,
    ) -> Checked<Option<Vec<u32>>> {
        let Some(raw) = raw else { return Ok(None) };
        if raw.get_ref().is_empty() {
            return Err(self.invalid(&raw.span(), key, Problem::Empty { key: "jobs" }));
        }
        let mut out = Vec::with_capacity(raw.get_ref().len());
        for (i, n) in raw.get_ref().iter().enumerate() {
            if !numbers.contains(n.get_ref()) {
                return Err(self.invalid(
                    &n.span(),
                    format!("{key}[{i}]"),
                    Problem::JobOutOfRange { number: *n.get_ref(), first: *numbers.start(), last: *numbers.end() },
                ));
            }
            out.push(*n.get_ref());
        }
        Ok(Some(out))
    }

    fn expect(
        &self,
        raw: &Spanned<RawExpect>,
        key: &str,
        numbers: &std::ops::RangeInclusive<u32>,
        builds: &[String],
    ) -> Checked<Expectation> {
        let e = raw.get_ref();
        let known = || builds.join(", ");
        let build = match (&e.build, builds) {
            (Some(id), _) if builds.contains(id.get_ref()) => id.get_ref().clone(),
            (Some(id), _) => {
                return Err(self.invalid(
                    &id.span(),
                    format!("{key}.build"),
                    Problem::UnknownBuild { id: id.get_ref().clone(), known: known() },
                ))
            }
            (None, []) => return Err(self.invalid(&raw.span(), key, Problem::NoBuild)),
            (None, [only]) => only.clone(),
            (None, _) => {
                return Err(self.invalid(
                    &raw.span(),
                    key,
                    Problem::AmbiguousBuild { count: builds.len(), known: known() },
                ))
            }
        };
        if e.step.get_ref().trim().is_empty() {
            return Err(self.invalid(&e.step.span(), format!("{key}.step"), Problem::Empty { key: "step" }));
        }
        let jobs = self.jobs(e.jobs.as_ref(), &format!("{key}.jobs"), numbers)?;
        let overrides = (e.overrides.iter().enumerate())
            .map(|(i, o)| self.override_(o, &format!("{key}.override[{i}]"), numbers))
            .collect::<Checked<Vec<_>>>()?;
        for (i, o) in overrides.iter().enumerate() {
            let overlap = overrides[..i].iter().enumerate().find_map(|(j, earlier)| {
                let (engine, store) = overlap(o, earlier, numbers)?;
                Some(Problem::OverlappingOverrides { engine: engine.to_owned(), store, other: j })
            });
            if let Some(problem) = overlap {
                return Err(self.invalid(&e.overrides[i].span(), format!("{key}.override[{i}]"), problem));
            }
        }
        Ok(Expectation {
            build,
            stage: e.stage.clone(),
            step: e.step.get_ref().clone(),
            expected: expected(e.outcome),
            jobs,
            overrides,
        })
    }

    fn override_(
        &self,
        raw: &Spanned<RawOverride>,
        key: &str,
        numbers: &std::ops::RangeInclusive<u32>,
    ) -> Checked<Override> {
        let o = raw.get_ref();
        let engines = (o.engines.iter().enumerate())
            .map(|(i, e)| self.engine(e, format!("{key}.engines[{i}]")))
            .collect::<Checked<Vec<_>>>()?;
        if engines.is_empty() {
            return Err(self.invalid(&raw.span(), format!("{key}.engines"), Problem::Empty { key: "engines" }));
        }
        let stores = self.stores(o.stores.as_ref(), &format!("{key}.stores"))?;
        let jobs = self.jobs(o.jobs.as_ref(), &format!("{key}.jobs"), numbers)?;
        let actions = [("outcome", o.outcome.is_some()), ("unsupported", o.unsupported.is_some())];
        self.exactly_one(&raw.span(), key, "`outcome` or `unsupported`", &actions)?;
        let action = match (&o.outcome, &o.unsupported, &o.known_bug) {
            (Some(_), _, Some(link)) if !link.get_ref().starts_with("https://") => {
                return Err(self.invalid(
                    &link.span(),
                    format!("{key}.known_bug"),
                    Problem::NotALink { found: link.get_ref().clone() },
                ))
            }
            (Some(outcome), _, link) => OverrideAction::Outcome {
                expected: expected(*outcome),
                known_bug: link.as_ref().map(|l| l.get_ref().clone()),
            },
            (None, _, Some(link)) => {
                return Err(self.invalid(
                    &link.span(),
                    format!("{key}.known_bug"),
                    Problem::Misplaced { key: "known_bug", applies_to: "overrides with an `outcome`" },
                ))
            }
            (None, Some(reason), None) => OverrideAction::Unsupported(reason.get_ref().clone()),
            (None, None, None) => unreachable!("exactly one of outcome and unsupported is given"),
        };
        Ok(Override { engines, stores, jobs, action })
    }

    /// An override's `stores`: both when absent, else the ones named
    /// (not none), each once.
    fn stores(&self, raw: Option<&Spanned<Vec<Spanned<RawStore>>>>, key: &str) -> Checked<Vec<ImageStore>> {
        let Some(raw) = raw else { return Ok(ImageStore::ALL.to_vec()) };
        if raw.get_ref().is_empty() {
            return Err(self.invalid(&raw.span(), key, Problem::Empty { key: "stores" }));
        }
        let named: Vec<ImageStore> = raw
            .get_ref()
            .iter()
            .map(|s| match s.get_ref() {
                RawStore::Classic => ImageStore::Classic,
                RawStore::Containerd => ImageStore::Containerd,
            })
            .collect();
        Ok(ImageStore::ALL.into_iter().filter(|s| named.contains(s)).collect())
    }
}

/// An engine and an image store that overrides `a` and `b` both cover on
/// a shared job of the block (`numbers`), if any: two such overrides would
/// make the first one silently win.
fn overlap<'o>(
    a: &'o Override,
    b: &Override,
    numbers: &std::ops::RangeInclusive<u32>,
) -> Option<(&'o str, ImageStore)> {
    let engine = a.engines.iter().find(|e| b.engines.contains(e))?;
    let store = a.stores.iter().copied().find(|s| b.stores.contains(s))?;
    let shared_job = numbers.clone().any(|n| {
        let covers = |jobs: &Option<Vec<u32>>| jobs.as_ref().is_none_or(|j| j.contains(&n));
        covers(&a.jobs) && covers(&b.jobs)
    });
    shared_job.then_some((engine.as_str(), store))
}

/// A Dockerfile of the scenario: a regular file of sane size that does not
/// resolve (through a symlink) outside the scenario folder.
fn read_dockerfile(path: &Path, dir: &Path) -> std::io::Result<String> {
    let resolved = path.canonicalize()?;
    let folder = dir.canonicalize()?;
    if !resolved.starts_with(&folder) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "it is a symlink to `{}`, outside the scenario folder: copy the Dockerfile into the folder",
                resolved.display()
            ),
        ));
    }
    crate::textfile::read_text(&resolved, crate::textfile::INPUT_LIMIT)
}

fn expected(raw: RawExpected) -> Expected {
    match raw {
        RawExpected::Reused => Expected::Reused,
        RawExpected::Cached => Expected::Is(Outcome::Cached),
        RawExpected::Remote => Expected::Is(Outcome::Remote),
        RawExpected::Pulled => Expected::Is(Outcome::Pulled),
        RawExpected::Executed => Expected::Is(Outcome::Executed),
        RawExpected::ExecutedUnsure => Expected::Is(Outcome::ExecutedUnsure),
        RawExpected::Error => Expected::Is(Outcome::Error),
        RawExpected::Canceled => Expected::Is(Outcome::Canceled),
        RawExpected::Absent => Expected::Is(Outcome::Absent),
    }
}
