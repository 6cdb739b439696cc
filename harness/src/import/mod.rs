//! `harness import`: a GitLab CI file or a GitHub Actions workflow to a
//! scenario folder.
//!
//! The person with the cache miss has a repository, a Dockerfile and a CI
//! file. The importer reads the CI job (resolving YAML anchors, includes,
//! `extends`, `!reference`, `${{ … }}`, matrix rows), turns its docker
//! commands into the scenario's typed commands, maps CI variables to the
//! run's values (`{image}`, `{registry}`, `{job}`), and writes a scenario
//! whose fixture is the user's repository and whose Dockerfiles are copied
//! unchanged. What it had to replace or could not read is said in comments,
//! in the description and as warnings. The written file is loaded back with
//! the scenario loader before the import reports success.
//!
//! - [`yaml`]: YAML to nodes with lines, anchors, merge keys and tags.
//! - [`gitlab`], [`github`]: the two CI formats to a [`plan::Plan`].
//! - [`shell`], [`script`], [`docker`]: script lines to typed commands.
//! - [`expr`]: GitHub expressions; [`images`]: image names and cache backends.
//! - [`engine`], [`context`], [`dockerfile`], [`write`]: the scenario.
//! - [`seed_pipeline`]: the default pipeline of `harness run --context`,
//!   written by the same writer.

mod context;
mod docker;
mod dockerfile;
mod engine;
mod error;
mod expr;
mod github;
mod gitlab;
mod gitlab_unread;
mod images;
mod plan;
mod script;
mod seed_pipeline;
mod shell;
mod write;
mod yaml;

use std::path::{Path, PathBuf};

pub use error::{ImportError, ImportErrorKind, Problem};

/// The stand-in engine nearest to `version` when `version` has none.
pub fn nearest_stand_in(version: &str, catalogue: &Catalogue) -> Option<String> {
    engine::nearest_stand_in(version, catalogue)
}
pub use plan::{Spot, Warning};

use crate::catalogue::Catalogue;
use crate::scenario::{load_scenario, SCENARIO_FILE};
use plan::Plan;

/// What `harness import` was asked.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The CI file.
    pub file: PathBuf,
    /// The job to import; the only job that builds an image when `None`.
    pub job: Option<String>,
    /// `KEY=VALUE` filters on GitHub matrix rows.
    pub matrix: Vec<String>,
    /// The file to edit between jobs, in the build context.
    pub edit: Option<String>,
    /// The scenario folder to write.
    pub out: PathBuf,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The scenario folder.
    pub out: PathBuf,
    /// The job (and matrix rows) imported.
    pub jobs: Vec<String>,
    /// The engine the CI job's Docker maps to.
    pub engine: String,
    /// Why that engine (`service docker:dind means the newest Docker: 29`).
    pub engine_reason: String,
    /// The file edited between jobs, relative to the build context.
    pub edit: String,
    pub warnings: Vec<Warning>,
    /// Replacements the scenario describes.
    pub notes: Vec<String>,
}

/// Imports `options.file` into `options.out`, then loads the result with
/// the scenario loader.
pub fn import(options: &ImportOptions, catalogue: &Catalogue) -> Result<Imported, ImportError> {
    run(options, catalogue).map_err(|kind| ImportError { file: options.file.clone(), kind: Box::new(kind) })
}

fn run(options: &ImportOptions, catalogue: &Catalogue) -> Result<Imported, ImportErrorKind> {
    let file = &options.file;
    let absolute = std::path::absolute(file).map_err(|source| ImportErrorKind::Read { path: file.clone(), source })?;
    let repo = repository_root(&absolute);
    let root = match yaml::read(file) {
        Ok(Ok(root)) => root,
        Ok(Err(e)) => {
            return Err(ImportErrorKind::Syntax { file: file.clone(), line: e.line, col: e.col, message: e.message })
        }
        Err(source) => return Err(ImportErrorKind::Read { path: file.clone(), source }),
    };
    let (mut plans, spot) = plans(file, root, &repo, options)?;
    for plan in &mut plans {
        images::map(plan);
    }
    let context = context::Context::new(&repo, &mut plans, &spot)?;
    let engine = engine::choose(&plans[0].engine, catalogue);
    let written = Written { source: Some(file.display().to_string()), repo: &repo, engine, out: &options.out };
    written.write(&plans, &context, options.edit.as_deref(), catalogue)
}

/// The options of [`default_pipeline`].
#[derive(Debug, Clone)]
pub struct PipelineOptions {
    /// The build context (any folder).
    pub context: PathBuf,
    /// The Dockerfile, relative to the context.
    pub dockerfile: PathBuf,
    /// The file to edit between jobs, relative to the context.
    pub edit: Option<String>,
    /// The engine the scenario's header recommends (the catalogue's
    /// default when `None`).
    pub engine: Option<String>,
    /// The scenario folder to write.
    pub out: PathBuf,
}

/// Writes the default pipeline of `harness run --context` (the first seed's
/// job, see [`seed_pipeline`]) for any build context, through the same
/// writer as an imported CI job, and loads it back.
pub fn default_pipeline(options: &PipelineOptions, catalogue: &Catalogue) -> Result<Imported, ImportError> {
    let label = options.context.join(&options.dockerfile);
    let fail = |kind| ImportError { file: label.clone(), kind: Box::new(kind) };
    let text = std::fs::read_to_string(&label)
        .map_err(|source| fail(ImportErrorKind::Read { path: label.clone(), source }))?;
    let name = options.dockerfile.to_string_lossy().replace('\\', "/");
    let plans = vec![seed_pipeline::plan(&name, &text)];
    let hint = plan::EngineHint { version: options.engine.clone(), source: plans[0].engine.source.clone() };
    let mut engine = engine::choose(&hint, catalogue);
    if options.engine.is_some() {
        engine.reason = "chosen with `--engine`".into();
    }
    let context =
        context::Context { dir: options.context.clone(), dockerfiles: vec![(options.dockerfile.clone(), name)] };
    let written = Written { source: None, repo: &options.context, engine, out: &options.out };
    written.write(&plans, &context, options.edit.as_deref(), catalogue).map_err(fail)
}

/// Where and how a scenario folder is written.
struct Written<'a> {
    /// The CI file the scenario came from; `None` for the default pipeline.
    source: Option<String>,
    /// The folder the Dockerfiles' paths are relative to.
    repo: &'a Path,
    engine: engine::EngineChoice,
    out: &'a Path,
}

impl Written<'_> {
    /// Copies the Dockerfiles, writes `scenario.toml` and loads it back.
    fn write(
        self,
        plans: &[Plan],
        context: &context::Context,
        edit: Option<&str>,
        catalogue: &Catalogue,
    ) -> Result<Imported, ImportErrorKind> {
        let write_error = |path: &Path| {
            let path = path.to_owned();
            move |source| ImportErrorKind::Write { path, source }
        };
        std::fs::create_dir_all(self.out).map_err(write_error(self.out))?;
        let out_abs = std::path::absolute(self.out).map_err(write_error(self.out))?;
        let mut dockerfiles = Vec::new();
        for (in_repo, name) in &context.dockerfiles {
            let source = self.repo.join(in_repo);
            let text = std::fs::read_to_string(&source)
                .map_err(|source_err| ImportErrorKind::Read { path: source.clone(), source: source_err })?;
            let dest = out_abs.join(name);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(write_error(parent))?;
            }
            // Copied byte for byte: the Dockerfile runs verbatim.
            std::fs::copy(&source, &dest).map_err(write_error(&dest))?;
            dockerfiles.push((name.clone(), text));
        }
        let texts: Vec<&str> = dockerfiles.iter().map(|(_, text): &(String, String)| text.as_str()).collect();
        let copied: Option<Vec<String>> =
            texts.iter().map(|t| dockerfile::copied_paths(t)).collect::<Option<Vec<_>>>().map(|v| v.concat());
        let edit = context.edit(edit, copied.as_deref())?;
        let edit_file = edit.0.clone();
        let header = write::Header {
            source: self.source,
            engine: &self.engine,
            fixture: context::relative_path(&out_abs, &context.dir).display().to_string(),
            dockerfiles,
            edit,
            catalogue,
            out: self.out.display().to_string(),
        };
        let text = write::render(&header, plans);
        let scenario_path = out_abs.join(SCENARIO_FILE);
        std::fs::write(&scenario_path, text).map_err(write_error(&scenario_path))?;
        load_scenario(&out_abs, catalogue).map_err(ImportErrorKind::Load)?;
        Ok(Imported {
            out: self.out.to_owned(),
            jobs: plans.iter().map(|p| p.name.clone()).collect(),
            engine: self.engine.version,
            engine_reason: self.engine.reason,
            edit: edit_file,
            warnings: plans.iter().flat_map(|p| p.warnings.clone()).collect(),
            notes: plans.iter().flat_map(|p| p.notes.clone()).collect(),
        })
    }
}

/// The repository a CI file belongs to: above `.github/workflows/`, else
/// the file's folder (`.gitlab-ci.yml` sits at the root).
fn repository_root(file: &Path) -> PathBuf {
    let dir = file.parent().unwrap_or(Path::new("/"));
    for ancestor in dir.ancestors() {
        if ancestor.file_name().is_some_and(|n| n == ".github") {
            return ancestor.parent().unwrap_or(dir).to_owned();
        }
    }
    dir.to_owned()
}

/// The plans of the chosen job, and the spot errors about it point at.
fn plans(
    file: &Path,
    root: yaml::Node,
    repo: &Path,
    options: &ImportOptions,
) -> Result<(Vec<Plan>, Spot), ImportErrorKind> {
    let filters = matrix_filters(&options.matrix)?;
    if github::GitHub::looks_like(&root) {
        let gh = github::GitHub::new(file, root);
        let all = |job: &str| gh.plans(job, &filters);
        let (job, plans) = pick(&gh.jobs(), options.job.as_deref(), &all, gh.file_spot())?;
        let spot = gh.steps_spot(&job);
        no_build_check(&plans, &job, &spot, &gh.jobs(), &|j| gh.plans(j, &[]))?;
        return Ok((plans, spot));
    }
    if !gitlab::GitLab::looks_like(&root) {
        return Err(ImportErrorKind::Invalid {
            spot: Spot { file: file.to_owned(), line: 1, key: "(top level)".into() },
            problem: Problem::UnknownFormat,
        });
    }
    let gl = gitlab::GitLab::load(file, root, repo)?;
    let all = |job: &str| gl.plan(job, &filters).map(|p| vec![p]);
    let (job, plans) = pick(&gl.jobs(), options.job.as_deref(), &all, gl.file_spot())?;
    let spot = gl.script_spot(&job);
    no_build_check(&plans, &job, &spot, &gl.jobs(), &all)?;
    Ok((plans, spot))
}

type PlanJob<'a> = dyn Fn(&str) -> Result<Vec<Plan>, ImportErrorKind> + 'a;

/// The named job, or the only one that builds an image.
fn pick(
    jobs: &[&str],
    wanted: Option<&str>,
    plan: &PlanJob<'_>,
    file_spot: Spot,
) -> Result<(String, Vec<Plan>), ImportErrorKind> {
    let known = || jobs.iter().map(|j| format!("`{j}`")).collect::<Vec<_>>().join(", ");
    if let Some(name) = wanted {
        if !jobs.contains(&name) {
            return Err(ImportErrorKind::Invalid {
                spot: file_spot,
                problem: Problem::UnknownJob { name: name.to_owned(), known: known() },
            });
        }
        return Ok((name.to_owned(), plan(name)?));
    }
    let mut building: Vec<(String, Vec<Plan>)> = Vec::new();
    let mut first_error = None;
    for job in jobs {
        match plan(job) {
            Ok(plans) if plans.iter().any(|p| p.builds().next().is_some()) => building.push((job.to_string(), plans)),
            Ok(_) => {}
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match (building.len(), first_error) {
        (1, _) => Ok(building.remove(0)),
        // A job that cannot be read may be the one that builds: say why.
        (0, Some(e)) => Err(e),
        (0, None) => {
            Err(ImportErrorKind::Invalid { spot: file_spot, problem: Problem::NoJobBuilds { known: known() } })
        }
        _ => {
            let names: Vec<String> = building.iter().map(|(j, _)| format!("`{j}`")).collect();
            Err(ImportErrorKind::Invalid { spot: file_spot, problem: Problem::SeveralJobs { known: names.join(", ") } })
        }
    }
}

fn no_build_check(
    plans: &[Plan],
    job: &str,
    spot: &Spot,
    jobs: &[&str],
    plan: &PlanJob<'_>,
) -> Result<(), ImportErrorKind> {
    if plans.iter().any(|p| p.builds().next().is_some()) {
        return Ok(());
    }
    let building: Vec<String> = jobs
        .iter()
        .filter(|j| **j != job && plan(j).is_ok_and(|ps| ps.iter().any(|p| p.builds().next().is_some())))
        .map(|j| format!("`{j}`"))
        .collect();
    let others = if building.is_empty() { String::new() } else { format!(" ({})", building.join(", ")) };
    Err(ImportErrorKind::Invalid { spot: spot.clone(), problem: Problem::NoBuild { job: job.to_owned(), others } })
}

fn matrix_filters(given: &[String]) -> Result<Vec<(String, String)>, ImportErrorKind> {
    given
        .iter()
        .map(|g| match g.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.trim().to_owned(), v.trim().to_owned())),
            _ => Err(ImportErrorKind::Usage(Problem::BadMatrixFilter { given: g.clone() })),
        })
        .collect()
}
