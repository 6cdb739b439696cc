//! GitHub Actions workflows to plans, one per matrix row.
//!
//! A job's steps are read in order: `run:` steps through the shell reader,
//! and the docker actions (`docker/login-action`,
//! `docker/setup-buildx-action`, `docker/metadata-action`,
//! `docker/build-push-action` v2–v6) as the commands they amount to.
//! `${{ … }}` is resolved from env, matrix values and the outputs the
//! importer computed; secrets become placeholders. What cannot run here (a
//! `docker-container` builder, which needs the moby/buildkit image; GitHub's
//! cache service) is replaced by the nearest thing that does, with a note.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::{ImportErrorKind, Problem};
use super::expr::Scope;
use super::plan::{Build, Cmd, EngineHint, Plan, Planned, Spot};
use super::script::read_entry;
use super::shell::Env;
use super::yaml::{Node, Value};

pub(crate) struct GitHub {
    file: PathBuf,
    root: Node,
}

/// One matrix row: key → value (nested keys joined with `.`).
pub(crate) type Row = BTreeMap<String, String>;

impl GitHub {
    pub fn new(file: &Path, root: Node) -> Self {
        Self { file: file.to_owned(), root }
    }

    pub fn looks_like(root: &Node) -> bool {
        root.get("jobs").is_some_and(|jobs| {
            jobs.entries().iter().any(|(_, j)| j.get("steps").is_some() || j.get("runs-on").is_some())
        })
    }

    pub fn jobs(&self) -> Vec<&str> {
        self.root.get("jobs").map(Node::entries).unwrap_or_default().iter().map(|(k, _)| k.as_str()).collect()
    }

    fn spot(&self, line: usize, key: impl Into<String>) -> Spot {
        Spot { file: self.file.clone(), line, key: key.into() }
    }

    pub fn job_spot(&self, name: &str) -> Spot {
        let line = self.root.get("jobs").and_then(|j| j.get(name)).map_or(1, |n| n.key_line);
        self.spot(line, format!("jobs.{name}"))
    }

    /// Where a job's commands are: its `steps` key, else the job.
    pub fn steps_spot(&self, name: &str) -> Spot {
        match self.root.get("jobs").and_then(|j| j.get(name)).and_then(|j| j.get("steps")) {
            Some(steps) => self.spot(steps.key_line, format!("jobs.{name}.steps")),
            None => self.job_spot(name),
        }
    }

    pub fn file_spot(&self) -> Spot {
        let line = self.root.get("jobs").map_or(1, |n| n.key_line);
        self.spot(line, "jobs")
    }

    /// The plans of job `name`: one per matrix row that `filters` keep.
    pub fn plans(&self, name: &str, filters: &[(String, String)]) -> Result<Vec<Plan>, ImportErrorKind> {
        let job = self.root.get("jobs").and_then(|j| j.get(name)).expect("a known job");
        let rows = self.rows(name, job)?;
        let kept: Vec<&Row> = rows.iter().filter(|row| filters.iter().all(|(k, v)| row.get(k) == Some(v))).collect();
        if kept.is_empty() {
            let filter: Vec<String> = filters.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let rows: Vec<String> = rows.iter().map(row_label).collect();
            return Err(ImportErrorKind::Invalid {
                spot: self.spot(
                    job.get("strategy").and_then(|s| s.get("matrix")).map_or(job.key_line, |m| m.key_line),
                    format!("jobs.{name}.strategy.matrix"),
                ),
                problem: Problem::NoMatrixRow { filter: filter.join(", "), rows: rows.join("; ") },
            });
        }
        kept.into_iter().map(|row| self.plan(name, job, row)).collect()
    }

    /// Matrix rows as GitHub expands them: the product of the lists, minus
    /// `exclude`, plus `include` (extending matching rows or added).
    fn rows(&self, name: &str, job: &Node) -> Result<Vec<Row>, ImportErrorKind> {
        let Some(matrix) = job.get("strategy").and_then(|s| s.get("matrix")) else {
            return Ok(vec![Row::new()]);
        };
        let key = format!("jobs.{name}.strategy.matrix");
        if matrix.as_str().is_some() {
            return Err(ImportErrorKind::Invalid {
                spot: self.spot(matrix.key_line, key),
                problem: Problem::Type {
                    expected: "a mapping of lists (a computed matrix is not static)",
                    found: "a scalar",
                },
            });
        }
        let mut rows = vec![Row::new()];
        for (k, values) in matrix.entries() {
            if k == "include" || k == "exclude" {
                continue;
            }
            let mut next = Vec::new();
            for row in &rows {
                for value in values.items() {
                    let mut row = row.clone();
                    flatten_into(&mut row, k, value);
                    next.push(row);
                }
            }
            rows = next;
        }
        let excludes: Vec<Row> =
            matrix.get("exclude").map(Node::items).unwrap_or_default().iter().map(to_row).collect();
        rows.retain(|row| !excludes.iter().any(|ex| ex.iter().all(|(k, v)| row.get(k) == Some(v))));
        let base_keys: Vec<String> = rows.first().map(|r| r.keys().cloned().collect()).unwrap_or_default();
        for include in matrix.get("include").map(Node::items).unwrap_or_default() {
            let include = to_row(include);
            let mut extended = false;
            for row in rows.iter_mut().filter(|r| !r.is_empty()) {
                let fits = include.iter().filter(|(k, _)| base_keys.contains(k)).all(|(k, v)| row.get(k) == Some(v));
                if fits {
                    for (k, v) in &include {
                        row.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                    extended = true;
                }
            }
            if !extended {
                rows.retain(|r| !r.is_empty());
                rows.push(include);
            }
        }
        Ok(rows)
    }

    fn plan(&self, name: &str, job: &Node, row: &Row) -> Result<Plan, ImportErrorKind> {
        let label = if row.is_empty() { name.to_owned() } else { format!("{name} ({})", row_label(row)) };
        let mut plan = Plan { name: label, ..Plan::default() };
        plan.engine = runner_engine(job);
        let mut scope = Scope { matrix: row.clone(), ..Scope::default() };
        for (level, node) in [("env", self.root.get("env")), (&format!("jobs.{name}.env"), job.get("env"))] {
            if let Some(env) = node {
                self.add_env(&mut scope, env, level, &mut plan);
            }
        }
        let steps_key = format!("jobs.{name}.steps");
        let Some(steps) = job.get("steps") else {
            return Ok(plan);
        };
        for (i, step) in steps.items().iter().enumerate() {
            let key = format!("{steps_key}[{i}]");
            let mut step_scope = scope.clone();
            if let Some(env) = step.get("env") {
                self.add_env(&mut step_scope, env, &format!("{key}.env"), &mut plan);
            }
            let first = plan.commands.len();
            let condition = step
                .get("if")
                .and_then(Node::as_str)
                .map(|c| c.trim().trim_start_matches("${{").trim_end_matches("}}").trim());
            if let Some(condition) = condition {
                if step_scope.resolve(&format!("${{{{ {condition} }}}}")).text == "false" {
                    plan.note(format!(
                        "step `{key}` is skipped: its condition `{condition}` is false on a push to main"
                    ));
                    continue;
                }
            }
            if let Some(run) = step.get("run") {
                let spot = self.spot(run.line, format!("{key}.run"));
                let text = self.resolve(&step_scope, run.as_str().unwrap_or_default(), &spot, &mut plan);
                let mut env = Env::default();
                for (k, v) in &step_scope.env {
                    env.set(k.clone(), v.clone());
                }
                read_entry(&text, &spot, &mut env, &mut plan);
            } else if let Some(uses) = step.get("uses").and_then(Node::as_str) {
                self.action(uses, step, &key, &mut step_scope, &mut plan);
                scope.outputs = step_scope.outputs.clone();
            }
            if let Some(condition) = step.get("if").and_then(Node::as_str) {
                if let Some(planned) = plan.commands.get_mut(first) {
                    planned.comments.push(format!("the workflow runs this step only if `{condition}`"));
                }
            }
        }
        Ok(plan)
    }

    fn add_env(&self, scope: &mut Scope, env: &Node, key: &str, plan: &mut Plan) {
        for (name, value) in env.entries() {
            let spot = self.spot(value.line, format!("{key}.{name}"));
            let text = self.resolve(scope, value.as_str().unwrap_or_default(), &spot, plan);
            scope.env.insert(name.clone(), text);
        }
    }

    /// Resolves expressions, warning about the ones that are not static.
    fn resolve(&self, scope: &Scope, text: &str, spot: &Spot, plan: &mut Plan) -> String {
        let resolved = scope.resolve(text);
        for secret in &resolved.secrets {
            plan.note(format!(
                "secrets are never copied: `secrets.{secret}` became the placeholder `{}`",
                scope.resolve(&format!("${{{{ secrets.{secret} }}}}")).text
            ));
        }
        for expr in &resolved.unresolved {
            plan.warn(spot.clone(), format!("`${{{{ {expr} }}}}` is not static: replaced with a placeholder"));
        }
        resolved.text
    }

    /// A `uses:` step.
    fn action(&self, uses: &str, step: &Node, key: &str, scope: &mut Scope, plan: &mut Plan) {
        let (action, version) = uses.split_once('@').unwrap_or((uses, ""));
        let action = action.to_ascii_lowercase();
        // Inputs are resolved on demand; their warnings and notes gathered
        // here and added to the plan once the step is read.
        let scratch = std::cell::RefCell::new(Plan::default());
        let with = |input: &str| -> Option<String> {
            let node = step.get("with")?.get(input)?;
            let spot = self.spot(node.line, format!("{key}.with.{input}"));
            let text = self.resolve(scope, node.as_str()?, &spot, &mut scratch.borrow_mut());
            Some(text).filter(|t| !t.is_empty())
        };
        match action.as_str() {
            "actions/checkout" => {}
            "docker/login-action" => {
                let username = step.get("with").and_then(|w| w.get("username")).and_then(Node::as_str);
                let username = username.filter(|u| !u.contains("${{")).map(str::to_owned);
                let mut planned = Planned::new(Cmd::Login { username });
                let registry = with("registry").unwrap_or_else(|| "Docker Hub".into());
                planned.comments.push(format!("docker/login-action to {registry}: the run's registry stands for it"));
                if step.get("with").and_then(|w| w.get("password")).is_some() {
                    planned
                        .comments
                        .push("its password is not copied: secrets become placeholders, never values".into());
                }
                plan.commands.push(planned);
            }
            "docker/setup-buildx-action" => {
                let driver = with("driver").unwrap_or_else(|| "docker-container".into());
                if driver != "docker" {
                    plan.note(format!(
                        "docker/setup-buildx-action's `{driver}` builder needs the moby/buildkit image, which cannot be pulled here: builds use the daemon's own builder (docker driver) with the containerd image store, which exports the same cache types"
                    ));
                    plan.containerd.get_or_insert_with(|| {
                        format!("stands for the `{driver}` builder of docker/setup-buildx-action")
                    });
                }
            }
            "docker/setup-qemu-action" => {
                plan.note("docker/setup-qemu-action is not reproduced: builds are for the engine's own platform")
            }
            "docker/metadata-action" => {
                if let Some(id) = step.get("id").and_then(Node::as_str) {
                    let tags = metadata_tags(&with("images").unwrap_or_default(), &with("tags").unwrap_or_default());
                    scope.outputs.insert(format!("{id}.tags"), tags.join("\n"));
                    scope.outputs.insert(format!("{id}.labels"), String::new());
                    scope.outputs.insert(format!("{id}.version"), "main".into());
                    plan.note("docker/metadata-action's tags are those of a push to `main`");
                }
            }
            "docker/build-push-action" => {
                let major: u32 =
                    version.trim_start_matches('v').split('.').next().and_then(|v| v.parse().ok()).unwrap_or(6);
                if !(2..=6).contains(&major) {
                    let line = step.get("uses").map_or(step.line, |n| n.line);
                    plan.warn(
                        self.spot(line, format!("{key}.uses")),
                        format!("docker/build-push-action@{version} is read with the v2–v6 inputs"),
                    );
                }
                let build = build_push(&with, plan);
                plan.commands.push(Planned::new(Cmd::Build(build)));
            }
            other => {
                let line = step.get("uses").map_or(step.line, |n| n.line);
                plan.warn(self.spot(line, format!("{key}.uses")), format!("the action `{other}` is not reproduced"));
            }
        }
        let scratch = scratch.into_inner();
        plan.warnings.extend(scratch.warnings);
        for note in scratch.notes {
            plan.note(note);
        }
    }
}

/// docker/build-push-action's inputs as a build.
fn build_push(with: &dyn Fn(&str) -> Option<String>, plan: &mut Plan) -> Build {
    let list = |input: &str| -> Vec<String> {
        with(input)
            .map(|v| v.split(['\n', ',']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let lines = |input: &str| -> Vec<String> {
        with(input)
            .map(|v| v.lines().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let flag = |input: &str| with(input).is_some_and(|v| v == "true");
    let mut b = Build { buildx: true, ..Build::default() };
    b.context = with("context").map_or_else(|| ".".into(), |c| super::docker::normalize_context(&c));
    b.file = with("file");
    b.target = with("target");
    b.tags = list("tags");
    b.cache_from = lines("cache-from");
    b.cache_to = lines("cache-to");
    for arg in lines("build-args") {
        match arg.split_once('=') {
            Some(("BUILDKIT_INLINE_CACHE", v)) if v == "1" || v == "true" => b.inline_cache = true,
            Some((k, v)) => {
                b.build_args.insert(k.to_owned(), v.to_owned());
            }
            None => plan.note(format!("build-arg `{arg}` has no value: left out")),
        }
    }
    let platforms = list("platforms");
    if let Some(first) = platforms.first() {
        if platforms.len() > 1 {
            plan.note(format!(
                "multi-platform build ({}) reduced to `{first}`: no emulation here",
                platforms.join(", ")
            ));
        }
        b.extra_args.extend(["--platform".to_owned(), first.clone()]);
    }
    if flag("push") {
        b.extra_args.push("--push".into());
    }
    if flag("load") {
        b.extra_args.push("--load".into());
    }
    if flag("no-cache") {
        b.extra_args.push("--no-cache".into());
    }
    if flag("pull") {
        b.extra_args.push("--pull".into());
    }
    for (input, option) in
        [("provenance", "--provenance"), ("sbom", "--sbom"), ("network", "--network"), ("shm-size", "--shm-size")]
    {
        if let Some(value) = with(input) {
            b.extra_args.push(format!("{option}={value}"));
        }
    }
    for output in lines("outputs") {
        b.extra_args.extend(["--output".to_owned(), output]);
    }
    if with("secrets").is_some() || with("secret-files").is_some() || with("ssh").is_some() {
        plan.note("build secrets and SSH agents are not passed: a step that mounts one fails or behaves differently");
    }
    b
}

/// docker/metadata-action's tags for a push to `main`.
fn metadata_tags(images: &str, rules: &str) -> Vec<String> {
    let images: Vec<&str> = images
        .split(['\n', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty() && !s.starts_with("enable="))
        .map(|s| s.strip_prefix("name=").unwrap_or(s))
        .collect();
    let mut tags: Vec<String> = Vec::new();
    for rule in rules.lines().map(str::trim).filter(|r| !r.is_empty()) {
        let get = |key: &str| rule.split(',').find_map(|f| f.trim().strip_prefix(key)).map(str::to_owned);
        let tag = match get("type=").as_deref() {
            Some("ref") if get("event=").as_deref() == Some("branch") => Some("main".to_owned()),
            Some("sha") => Some(format!("{}commit-{{job}}", get("prefix=").unwrap_or_else(|| "sha-".into()))),
            Some("raw") => get("value="),
            Some("edge") => Some("edge".to_owned()),
            _ => None,
        };
        tags.extend(tag.filter(|t| !t.is_empty()));
    }
    if tags.is_empty() {
        tags.push("main".into());
    }
    images.iter().flat_map(|image| tags.iter().map(move |t| format!("{image}:{t}"))).collect()
}

/// GitHub-hosted runners' Docker, as far as `runs-on` tells.
fn runner_engine(job: &Node) -> EngineHint {
    let runs_on = job.get("runs-on").and_then(Node::as_str).unwrap_or("a self-hosted runner");
    if runs_on.starts_with("ubuntu") {
        EngineHint {
            version: Some("28".into()),
            source: format!("`runs-on: {runs_on}` (GitHub-hosted runners ship Docker 28)"),
        }
    } else {
        EngineHint { version: None, source: format!("`runs-on: {runs_on}`") }
    }
}

fn to_row(node: &Node) -> Row {
    let mut row = Row::new();
    for (k, v) in node.entries() {
        flatten_into(&mut row, k, v);
    }
    row
}

fn flatten_into(row: &mut Row, key: &str, value: &Node) {
    match &value.value {
        Value::Map(entries) => {
            for (k, v) in entries {
                flatten_into(row, &format!("{key}.{k}"), v);
            }
        }
        Value::Scalar { text, .. } => {
            row.insert(key.to_owned(), text.clone());
        }
        Value::Null => {
            row.insert(key.to_owned(), String::new());
        }
        Value::Seq(items) => {
            let texts: Vec<&str> = items.iter().filter_map(Node::as_str).collect();
            row.insert(key.to_owned(), texts.join(","));
        }
    }
}

pub(crate) fn row_label(row: &Row) -> String {
    let pairs: Vec<String> = row.iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::yaml;
    use indoc::indoc;

    fn github(text: &str) -> GitHub {
        GitHub::new(Path::new("ci.yml"), yaml::parse(text).unwrap())
    }

    #[test]
    fn matrix_product_exclude_include() {
        let gh = github(indoc! {"
            jobs:
              build:
                runs-on: ubuntu-latest
                strategy:
                  matrix:
                    target: [chef, builder]
                    os: [a, b]
                    exclude:
                      - {target: chef, os: b}
                    include:
                      - {target: builder, extra: x}
                      - {target: other, os: c}
                steps: []
        "});
        let job = gh.root.get("jobs").unwrap().get("build").unwrap();
        let rows: Vec<String> = gh.rows("build", job).unwrap().iter().map(row_label).collect();
        assert_eq!(
            rows,
            [
                "os=a, target=chef",
                "extra=x, os=a, target=builder",
                "extra=x, os=b, target=builder",
                "os=c, target=other"
            ]
        );
        let err = gh.plans("build", &[("target".into(), "nope".into())]).unwrap_err();
        assert!(
            err.to_string().starts_with("ci.yml:5: at `jobs.build.strategy.matrix`: no matrix row has target=nope"),
            "{err}"
        );
    }

    #[test]
    fn metadata_tags_for_main() {
        assert_eq!(
            metadata_tags("ghcr.io/o/app", "type=ref,event=branch\ntype=sha\ntype=semver,pattern={{version}}"),
            ["ghcr.io/o/app:main", "ghcr.io/o/app:sha-commit-{job}"]
        );
        assert_eq!(metadata_tags("a\nb", ""), ["a:main", "b:main"]);
    }
}
