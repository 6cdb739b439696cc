//! The runner's cache hook: after each job, read back from the run's
//! registry the cache every ref the job pushed ([`super::cache_refs`]), map
//! it to the job's steps ([`crate::cache::cover`]), keep it in the job's
//! report, add each step's record as a witness, and explain every miss where
//! a hit was possible ([`crate::cache::explain_step`], or from the steps
//! alone when no export carries the keys).
//!
//! A read that fails is recorded in the report; it never fails the run.
//! The hook keeps what later jobs need: the last export of every ref (the
//! cache a later `--cache-from` imports), the steps each build ran, and the
//! context paths each job edited.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::cache_refs::{build_imports, exported_refs, BuildImports, ExportedRef};
use super::error::chain;
use super::plan::{PlannedFile, PlannedJob};
use super::result::{BuildReport, CacheReport, JobReport};
use crate::cache::{
    changed_operation, cover, describe, explain_by_steps, explain_step, BuildDefinition, CacheConfig, CacheSource,
    Explanation, FetchOptions, JobCache, JobExport, MissCause, RegistryAuth, RegistryClient, StepAt, StepLayer,
    StepsView,
};
use crate::engine::Registry;
use crate::evidence::{witness_cache, CacheWitness, ObservedStep};
use crate::progress::Outcome;
use crate::scenario::{CommandKind, DaemonMode};

/// One ref's export as read after a job.
struct Stored {
    job: u32,
    build: Option<String>,
    read: Result<(CacheConfig, JobCache), String>,
}

/// What the hook carries from job to job of one cell.
#[derive(Default)]
pub(crate) struct CacheHook {
    client: Option<Result<RegistryClient, String>>,
    /// The last export of each ref, by the jobs so far.
    exports: HashMap<String, Stored>,
    /// (build, step) pairs some job ran, and each build's last job.
    seen: HashSet<(String, String)>,
    last_job_of: HashMap<String, u32>,
    /// Context paths edited by each job.
    edits: BTreeMap<u32, Vec<String>>,
    /// Each build's last LLB definition, with its job (or why none).
    definitions: HashMap<String, (u32, Result<BuildDefinition, String>)>,
}

/// A job's LLB definitions by build id, or why each has none.
pub(crate) type Definitions = HashMap<String, Result<BuildDefinition, String>>;

/// Where the hook reads the job's Dockerfiles from.
pub(crate) struct HookContext<'a> {
    pub(crate) registry: &'a Registry,
    pub(crate) job_dir: &'a Path,
    pub(crate) dockerfiles: &'a [PlannedFile],
    /// The build context (Dockerfiles the scenario does not write).
    pub(crate) context: &'a Path,
    /// The LLB definition each build of the job wrote.
    pub(crate) definitions: &'a Definitions,
}

/// Where a build's Dockerfile is read from.
struct Files<'a> {
    dockerfiles: &'a [PlannedFile],
    context: &'a Path,
}

impl CacheHook {
    /// Reads the job's exports into `report`, witnesses its steps and
    /// explains its misses.
    pub(crate) async fn after_job(&mut self, ctx: &HookContext<'_>, job: &PlannedJob<'_>, report: &mut JobReport) {
        let mut now: HashMap<String, Stored> = HashMap::new();
        for exported in exported_refs(job) {
            if report.commands.get(exported.command).is_none_or(|c| c.exit_code != 0) {
                continue;
            }
            let (cache, stored) = self.read(ctx, &exported, report).await;
            report.caches.push(cache);
            now.insert(exported.reference, stored);
        }
        self.conclude(ctx.dockerfiles, ctx.context, ctx.definitions, job, report, now);
    }

    /// With the job's exports read (`now`, by ref): witnesses, misses, and
    /// what later jobs need.
    fn conclude(
        &mut self,
        dockerfiles: &[PlannedFile],
        context: &Path,
        definitions: &Definitions,
        job: &PlannedJob<'_>,
        report: &mut JobReport,
        now: HashMap<String, Stored>,
    ) {
        feed_witnesses(report);
        self.edits.insert(report.number, report.edits.iter().map(|e| e.file.clone()).collect());
        let files = Files { dockerfiles, context };
        report.misses = self.explain(&files, job, report, &now);
        for miss in &mut report.misses {
            self.add_llb(miss, report.number, builds_of(&report.commands), definitions);
        }
        for build in builds(report) {
            self.last_job_of.insert(build.id.clone(), report.number);
            self.seen.extend(build.steps.iter().map(|s| (build.id.clone(), s.step.name())));
        }
        self.exports.extend(now);
        for (id, definition) in definitions {
            self.definitions.insert(id.clone(), (report.number, definition.clone()));
        }
    }

    /// Names the changed operation of a changed-input miss from the LLB
    /// definitions of the build's last run and this one, or says why not.
    fn add_llb<'r>(
        &self,
        miss: &mut Explanation,
        job: u32,
        mut builds: impl Iterator<Item = &'r BuildReport>,
        definitions: &Definitions,
    ) {
        let MissCause::ChangedInput { llb, .. } = &mut miss.cause else { return };
        let step =
            builds.find(|b| b.id == miss.build).and_then(|b| b.steps.iter().find(|s| s.step.name() == miss.step));
        let finding = match (self.definitions.get(&miss.build), definitions.get(&miss.build), step) {
            (_, None, _) => return,
            (_, _, None) => return,
            (None, _, _) => "no LLB diff: no earlier job recorded this build's definition".to_owned(),
            (Some((earlier, Err(why))), _, _) => format!("no LLB diff: job {earlier}: {why}"),
            (_, Some(Err(why)), _) => format!("no LLB diff: job {job}: {why}"),
            (Some((_, Ok(before))), Some(Ok(after)), Some(step)) => match step.step.index {
                Some(index) => {
                    let at = StepAt { stage: step.step.stage.as_deref(), index };
                    changed_operation(before, after, at).describe()
                }
                None => "no LLB diff: the step has no index in its stage".to_owned(),
            },
        };
        miss.line = format!("{}; {finding}", miss.line);
        *llb = Some(finding);
    }

    async fn read(
        &mut self,
        ctx: &HookContext<'_>,
        exported: &ExportedRef,
        report: &JobReport,
    ) -> (CacheReport, Stored) {
        let expected = if exported.registry_cache { CacheSource::Registry } else { CacheSource::Inline };
        let mut cache = CacheReport {
            reference: exported.reference.clone(),
            build: exported.build.clone(),
            source: expected,
            digest: None,
            documents: None,
            export: None,
            error: None,
        };
        let fetched = match self.client(ctx.registry) {
            Ok(client) => client.fetch(&exported.reference).await.map_err(|e| chain(&e)),
            Err(e) => Err(e),
        };
        let read = match fetched {
            Ok(fetched) => {
                let steps = exported.build.as_deref().map(|b| step_layers(report, b)).unwrap_or_default();
                let covered = cover(&exported.reference, &fetched.config, &steps);
                cache.source = fetched.config.source;
                cache.digest = Some(fetched.digest.clone());
                cache.documents = save_documents(ctx.job_dir, &exported.reference, &fetched.documents);
                cache.export = Some(covered.clone());
                Ok((fetched.config, covered))
            }
            Err(e) => {
                cache.error = Some(e.clone());
                Err(e)
            }
        };
        (cache, Stored { job: report.number, build: exported.build.clone(), read })
    }

    fn client(&mut self, registry: &Registry) -> Result<&RegistryClient, String> {
        let client = self.client.get_or_insert_with(|| {
            let auth = registry.credentials().map(|(u, p)| RegistryAuth::new(u, p));
            let options = FetchOptions::run_registry(registry.ca_pem(), &registry.host_address(), auth);
            RegistryClient::new(options).map_err(|e| format!("no client for the run's registry: {}", chain(&e)))
        });
        client.as_ref().map_err(Clone::clone)
    }

    /// Every step of the job's builds that executed although an earlier
    /// job ran it, with its cause.
    fn explain(
        &self,
        files: &Files<'_>,
        job: &PlannedJob<'_>,
        report: &JobReport,
        now: &HashMap<String, Stored>,
    ) -> Vec<Explanation> {
        let imports = build_imports(job);
        let mut out = Vec::new();
        for build in builds(report) {
            let bases = stage_bases(&dockerfile_text(files, job, &build.id).unwrap_or_default());
            let missed = build
                .steps
                .iter()
                .filter(|s| s.observed == Outcome::Executed && self.seen.contains(&(build.id.clone(), s.step.name())));
            for step in missed {
                let name = step.step.name();
                let from = imports.iter().find(|i| i.build == build.id);
                let cause = self.cause(job, report, build, from, now, &bases, &name);
                let line = describe(&name, &cause);
                out.push(Explanation { job: report.number, build: build.id.clone(), step: name, cause, line });
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn cause(
        &self,
        job: &PlannedJob<'_>,
        report: &JobReport,
        build: &BuildReport,
        imports: Option<&BuildImports>,
        now: &HashMap<String, Stored>,
        bases: &BTreeMap<String, String>,
        step: &str,
    ) -> MissCause {
        let by_steps = || {
            let since = self.last_job_of.get(&build.id).copied().unwrap_or(0);
            let changed = self.changed_paths(since, report.number);
            explain_by_steps(&StepsView { steps: &build.steps, stage_bases: bases, changed_paths: &changed }, step)
        };
        let refs = imports.map(|i| i.imports.as_slice()).unwrap_or_default();
        if refs.is_empty() {
            return if job.daemon == DaemonMode::Fresh {
                MissCause::NeverImported {
                    why: "the build imports no cache (no `--cache-from`) and the job's daemon is fresh".into(),
                }
            } else {
                by_steps()
            };
        }
        let Some((reference, imported)) = refs.iter().find_map(|r| self.exports.get(r).map(|s| (r, s))) else {
            return MissCause::NeverImported {
                why: format!(
                    "no earlier job pushed {}",
                    refs.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")
                ),
            };
        };
        // This job's own key: the same ref re-pushed, else any ref of the build.
        let current = now
            .get(reference)
            .filter(|s| s.build.as_deref() == Some(build.id.as_str()))
            .or_else(|| now.values().find(|s| s.build.as_deref() == Some(build.id.as_str()) && s.read.is_ok()));
        let Some(current) = current else { return by_steps() };
        let previous = JobExport {
            job: imported.job,
            export: imported.read.as_ref().map(|(c, j)| (c, j)).map_err(Clone::clone),
            changed_paths: Vec::new(),
        };
        let this = JobExport {
            job: report.number,
            export: current.read.as_ref().map(|(c, j)| (c, j)).map_err(Clone::clone),
            changed_paths: self.changed_paths(imported.job, report.number),
        };
        match explain_step(&previous, &this, step) {
            MissCause::Unknown { why } => match by_steps() {
                MissCause::Unknown { .. } => MissCause::Unknown { why },
                found => found,
            },
            cause => cause,
        }
    }

    /// Paths edited by the jobs after `since`, up to and with `until`.
    fn changed_paths(&self, since: u32, until: u32) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for files in self.edits.range(since + 1..=until).map(|(_, f)| f) {
            for file in files {
                if !out.contains(file) {
                    out.push(file.clone());
                }
            }
        }
        out
    }
}

fn builds(report: &JobReport) -> impl Iterator<Item = &BuildReport> {
    builds_of(&report.commands)
}

fn builds_of(commands: &[super::result::CommandReport]) -> impl Iterator<Item = &BuildReport> {
    commands.iter().filter_map(|c| c.build.as_ref()).filter(|b| b.parse_error.is_none())
}

/// The steps of build `id` as [`cover`] needs them.
fn step_layers(report: &JobReport, id: &str) -> Vec<StepLayer> {
    builds(report)
        .filter(|b| b.id == id)
        .last()
        .map(|b| {
            b.steps
                .iter()
                .map(|s| StepLayer {
                    name: s.step.name(),
                    stage: s.step.stage.clone(),
                    index: s.step.index,
                    layer: s.layer.clone(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Adds each step's record in its build's export as a witness: where the
/// export has its key, or where the step made a layer the export should
/// carry.
fn feed_witnesses(report: &mut JobReport) {
    let caches = report.caches.clone();
    for command in &mut report.commands {
        let Some(build) = command.build.as_mut() else { continue };
        let export = caches.iter().find(|c| c.build.as_deref() == Some(build.id.as_str()) && c.export.is_some());
        let Some((reference, export)) = export.and_then(|c| Some((&c.reference, c.export.as_ref()?))) else {
            continue;
        };
        for step in &mut build.steps {
            witness(step, reference, export);
        }
    }
}

fn witness(step: &mut ObservedStep, reference: &str, export: &JobCache) {
    let Some(found) = export.step(&step.step.name()) else { return };
    if found.key.is_none() && step.layer.is_none() {
        return;
    }
    let witness = CacheWitness { reference: reference.to_owned(), key: found.key.clone(), has_layer: found.has_layer };
    witness_cache(step, witness);
}

/// Writes what the registry served next to the job's logs, in the shape
/// the cache fixtures use; `None` when it cannot be written.
fn save_documents(job_dir: &Path, reference: &str, documents: &crate::cache::CacheDocuments) -> Option<PathBuf> {
    let slug: String = reference.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' }).collect();
    let path = job_dir.join("cache").join(format!("{slug}.json"));
    let text = serde_json::to_string_pretty(documents).ok()?;
    std::fs::create_dir_all(path.parent()?).ok()?;
    match std::fs::write(&path, text + "\n") {
        Ok(()) => Some(path),
        Err(e) => {
            tracing::warn!("cannot save the cache documents of `{reference}` to {}: {e}", path.display());
            None
        }
    }
}

/// The text of the Dockerfile build `id` used.
fn dockerfile_text(files: &Files<'_>, job: &PlannedJob<'_>, id: &str) -> Option<String> {
    let file = job.job.job.commands.iter().find_map(|c| match &c.kind {
        CommandKind::Build(b) if b.id == id => Some(b.file.clone().unwrap_or_else(|| "Dockerfile".into())),
        _ => None,
    })?;
    match files.dockerfiles.iter().find(|d| d.name == file) {
        Some(planned) => Some(planned.content.clone()),
        None => std::fs::read_to_string(files.context.join(&file)).ok(),
    }
}

/// Stage name to the earlier stage it is built `FROM` (names lower case).
pub(crate) fn stage_bases(dockerfile: &str) -> BTreeMap<String, String> {
    let mut stages: Vec<String> = Vec::new();
    let mut bases = BTreeMap::new();
    for instruction in crate::dockerfile::instructions(dockerfile).into_iter().filter(|i| i.keyword == "FROM") {
        let words: Vec<String> =
            instruction.args.split_whitespace().filter(|w| !w.starts_with("--")).map(str::to_ascii_lowercase).collect();
        let (Some(base), Some(name)) =
            (words.first(), words.iter().position(|w| w == "as").and_then(|p| words.get(p + 1)))
        else {
            continue;
        };
        if stages.contains(base) {
            bases.insert(name.clone(), base.clone());
        }
        stages.push(name.clone());
    }
    bases
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{decode_documents, CacheDocuments};
    use crate::catalogue::{workspace_root, Catalogue, ResolvedMode};
    use crate::evidence::{observe, Witnesses};
    use crate::runner::plan::{Plan, RunValues};
    use crate::runner::result::CommandReport;
    use crate::scenario::{load_scenario, EditReport};

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
    }

    /// Job `job`'s builder export recorded on 26.1.5, covered with the
    /// steps that job saw.
    fn recorded_export(job: u32) -> Stored {
        recorded_export_in("inline-26.1.5-classic", job)
    }

    fn recorded_export_in(set: &str, job: u32) -> Stored {
        let dir = fixtures().join(format!("cache/{set}/job-{job}"));
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
        let documents: CacheDocuments = serde_json::from_str(&read("builder.json")).unwrap();
        let (config, _) = decode_documents(&documents).unwrap();
        let recorded: serde_json::Value = serde_json::from_str(&read("builder.steps.json")).unwrap();
        let steps: Vec<StepLayer> = recorded["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| serde_json::from_value(s["step"].clone()).unwrap())
            .collect();
        let covered = cover("builder", &config, &steps);
        Stored { job, build: Some("builder".into()), read: Ok((config, covered)) }
    }

    /// Job `job`'s report: the recorded 26.1.5 builder log, observed.
    fn job_report(job: u32) -> JobReport {
        job_report_from(fixtures().join(format!("logs/docker26.1-inline-job{job}-builder.log")), job)
    }

    fn job_report_from(log: PathBuf, job: u32) -> JobReport {
        let build = crate::progress::parse_path(&log).unwrap().pop().unwrap();
        let steps = build.steps.into_iter().map(|s| observe(s, Witnesses::default(), job)).collect();
        JobReport {
            number: job,
            name: "pipeline".into(),
            daemon: DaemonMode::Fresh,
            versions: None,
            daemon_ready_secs: None,
            edits: vec![EditReport { file: "src/main.rs".into(), summary: "wrote 70 bytes".into() }],
            commands: vec![CommandReport {
                script: "docker build".into(),
                exit_code: 0,
                may_fail: false,
                duration_secs: 0.0,
                log,
                build: Some(BuildReport {
                    id: "builder".into(),
                    steps,
                    parse_error: None,
                    layers_note: None,
                    definition: None,
                }),
            }],
            verdicts: Vec::new(),
            runs: Vec::new(),
            error: None,
            duration_secs: 0.0,
            caches: Vec::new(),
            misses: Vec::new(),
        }
    }

    /// The hook after each job of the seed on 26.1.5, from recorded exports
    /// and logs: job 3's cook miss is the result job 2's export lost, the
    /// final build's miss the edited source, and job 3's cook carries its
    /// key with a layer again.
    #[test]
    fn recorded_jobs_explain_cook_as_lost_and_the_build_as_the_edit() {
        let catalogue = Catalogue::load_default().unwrap();
        let scenario = load_scenario(&workspace_root().join("scenarios/ci-inline-cache"), &catalogue).unwrap();
        let images = catalogue.resolve("26.1.5", ResolvedMode::Local).unwrap();
        let plan = Plan::build(&scenario, catalogue.engine("26.1.5").unwrap(), RunValues::offline(&images), Some(3));
        let reference = format!("{}/ci-inline-cache/26.1.5:builder", plan.values.registry);
        let mut hook = CacheHook::default();
        let mut reports = Vec::new();
        for (job, planned) in (1..=3).zip(&plan.jobs) {
            let mut report = job_report(job);
            report.caches.push(CacheReport {
                reference: reference.clone(),
                build: Some("builder".into()),
                source: CacheSource::Inline,
                digest: None,
                documents: None,
                export: recorded_export(job).read.ok().map(|(_, covered)| covered),
                error: None,
            });
            let now = HashMap::from([(reference.clone(), recorded_export(job))]);
            hook.conclude(&plan.dockerfiles, Path::new("/nonexistent"), &Definitions::new(), planned, &mut report, now);
            reports.push(report);
        }
        let cook = |r: &JobReport| r.misses.iter().find(|m| m.step.contains("cargo chef cook")).cloned();
        assert_eq!(cook(&reports[1]), None, "job 2 hit the cache");
        let miss = cook(&reports[2]).expect("job 3 ran cook");
        assert_eq!(
            miss.cause,
            MissCause::LostResult {
                lost_in_job: 2,
                records: 14,
                records_with_layers: 3,
                key_present: true,
                links: crate::cache::explain::LOST_RESULT_LINKS.map(String::from).to_vec(),
            },
            "{miss:#?}"
        );
        assert!(miss
            .line
            .starts_with("lost result: job 2 exported 14 records, 3 with layers; the key of `RUN cargo chef"));
        let build = reports[2].misses.iter().find(|m| m.step.contains("RUN cargo build")).expect("the build ran");
        let MissCause::ChangedInput { changed_paths, .. } = &build.cause else { panic!("{build:#?}") };
        assert_eq!(changed_paths, &["src/main.rs"]);
        let step = |r: &JobReport| {
            let steps = &r.commands[0].build.as_ref().unwrap().steps;
            steps.iter().find(|s| s.step.name().contains("cargo chef cook")).unwrap().cache.clone().unwrap()
        };
        assert!(!step(&reports[1]).has_layer && step(&reports[2]).has_layer);
        assert_eq!(step(&reports[1]).key, step(&reports[2]).key);
    }

    /// The seed's jobs on `engine` from the recorded set `set`, with each
    /// job's builder definition (or the reason it has none): the reports.
    fn run_recorded(
        set: &str,
        engine: &str,
        definition: impl Fn(u32) -> Result<BuildDefinition, String>,
    ) -> Vec<JobReport> {
        let catalogue = Catalogue::load_default().unwrap();
        let scenario = load_scenario(&workspace_root().join("scenarios/ci-inline-cache"), &catalogue).unwrap();
        let images = catalogue.resolve(engine, ResolvedMode::Local).unwrap();
        let plan = Plan::build(&scenario, catalogue.engine(engine).unwrap(), RunValues::offline(&images), Some(3));
        let reference = format!("{}/ci-inline-cache/{engine}:builder", plan.values.registry);
        let mut hook = CacheHook::default();
        let mut reports = Vec::new();
        for (job, planned) in (1..=3).zip(&plan.jobs) {
            let mut report = job_report_from(fixtures().join(format!("cache/{set}/job-{job}/pipeline.log")), job);
            let now = HashMap::from([(reference.clone(), recorded_export_in(set, job))]);
            let definitions = Definitions::from([("builder".to_owned(), definition(job))]);
            hook.conclude(&plan.dockerfiles, Path::new("/nonexistent"), &definitions, planned, &mut report, now);
            reports.push(report);
        }
        reports
    }

    fn build_miss(report: &JobReport) -> (Explanation, Option<String>) {
        let miss = report.misses.iter().find(|m| m.step.contains("RUN cargo build")).expect("the build ran").clone();
        let MissCause::ChangedInput { llb, .. } = &miss.cause else { panic!("{miss:#?}") };
        let llb = llb.clone();
        (miss, llb)
    }

    /// 28.5.2 with the containerd store, recorded with buildx's metadata:
    /// the final build's miss is the edited source, and the LLB diff agrees
    /// that no operation changed (only a file's content did).
    #[test]
    fn the_llb_diff_is_added_to_a_changed_input() {
        let set = "inline-28.5.2-containerd";
        let reports = run_recorded(set, "28.5.2", |job| {
            let path = fixtures().join(format!("cache/{set}/job-{job}/builder.metadata.json"));
            crate::cache::decode_metadata(&std::fs::read_to_string(path).unwrap()).map_err(|e| e.to_string())
        });
        assert!(reports[1].misses.iter().all(|m| !m.step.contains("cargo chef cook")), "no cook miss on this store");
        for report in &reports[1..] {
            let (miss, llb) = build_miss(report);
            let llb = llb.expect("an LLB clause");
            assert!(llb.starts_with("LLB diff: no operation up to the step changed"), "{llb}");
            assert!(miss.line.ends_with(&llb), "{}", miss.line);
            assert!(miss.line.contains("changed paths: src/main.rs"), "{}", miss.line);
        }
    }

    /// Where the engine wrote no definition, the reason is in the why-line.
    #[test]
    fn no_definition_is_said_with_its_reason() {
        let text =
            std::fs::read_to_string(fixtures().join("llb/probe-26.1.5-containerd/build-1.metadata.json")).unwrap();
        let reason = crate::cache::decode_metadata(&text).unwrap_err().to_string();
        let reports = run_recorded("inline-28.5.2-containerd", "28.5.2", |_| Err(reason.clone()));
        let (miss, llb) = build_miss(&reports[1]);
        assert_eq!(llb.as_deref(), Some(format!("no LLB diff: job 1: {reason}").as_str()));
        assert!(miss.line.contains("buildx 0.13.1 writes none"), "{}", miss.line);
    }

    #[test]
    fn stage_bases_name_stages_built_on_stages() {
        let text = "FROM --platform=$BUILDPLATFORM r/chef:1 AS chef\nWORKDIR /app\nFROM chef AS Planner\n\
                    FROM debian AS runtime\nFROM planner as builder\n";
        let bases = stage_bases(text);
        assert_eq!(bases, BTreeMap::from([("planner".into(), "chef".into()), ("builder".into(), "planner".into())]));
    }
}
