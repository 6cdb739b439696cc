//! GitLab CI files (`.gitlab-ci.yml`) to a plan.
//!
//! The file is resolved as GitLab does before a job runs: local `include`s
//! merged under the main file, `!reference` tags replaced by what they
//! point at, `extends` applied (multi-level, several parents, hashes merged
//! deeply, lists replaced). The chosen job's `variables` (global, then the
//! job's), `services` (the dind version picks the engine),
//! `before_script`, `script` and `after_script` then become the plan.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::error::{ImportErrorKind, Problem};
use super::gitlab_unread;
use super::plan::{EngineHint, Plan, Spot, Warning};
use super::script::read_entry;
use super::shell::Env;
use super::yaml::{self, Node, Value};

/// Top-level keys that are not jobs.
const GLOBAL_KEYS: &[&str] = &[
    "image",
    "services",
    "stages",
    "types",
    "before_script",
    "after_script",
    "variables",
    "cache",
    "include",
    "default",
    "workflow",
];

/// How deep includes, `extends` and `!reference` may nest (GitLab's limits
/// are of this order; a loop would otherwise never end).
const MAX_DEPTH: usize = 10;

/// A resolved GitLab file.
pub(crate) struct GitLab {
    file: PathBuf,
    config: Node,
    /// The file each top-level key came from (includes keep theirs).
    origins: HashMap<String, PathBuf>,
    /// Said about every job: includes that were not read, `workflow` rules.
    skipped: Vec<Warning>,
}

impl GitLab {
    /// Resolves includes and `!reference`s of the parsed `root`.
    pub fn load(file: &Path, root: Node, repo: &Path) -> Result<Self, ImportErrorKind> {
        let mut origins = HashMap::new();
        let mut skipped = Vec::new();
        let config = with_includes(file, root, repo, &mut origins, &mut skipped, 0)?;
        let config = resolve_references(file, &config, &config, 0)?;
        if let Some(workflow) = config.get("workflow").filter(|w| w.get("rules").is_some()) {
            let line = workflow.get("rules").map_or(workflow.key_line, |r| r.key_line);
            skipped.push(Warning {
                spot: Spot { file: file.to_owned(), line, key: "workflow.rules".into() },
                message: "`workflow: rules` decide whether GitLab runs the pipeline at all: not applied, every job of the scenario runs".into(),
            });
        }
        Ok(Self { file: file.to_owned(), config, origins, skipped })
    }

    /// Whether `root` looks like a GitLab file: some top-level mapping with
    /// `script`, `extends` or `stage`, or a GitLab-only key.
    pub fn looks_like(root: &Node) -> bool {
        root.entries().iter().any(|(k, v)| {
            ["stages", "include", "default", "workflow"].contains(&k.as_str())
                || v.get("script").is_some()
                || v.get("extends").is_some()
                || v.get("stage").is_some()
        })
    }

    /// Job names in file order (hidden `.jobs` left out).
    pub fn jobs(&self) -> Vec<&str> {
        self.config
            .entries()
            .iter()
            .filter(|(k, v)| {
                !k.starts_with('.') && !GLOBAL_KEYS.contains(&k.as_str()) && matches!(v.value, Value::Map(_))
            })
            .map(|(k, _)| k.as_str())
            .collect()
    }

    fn spot(&self, job: &str, line: usize, key: String) -> Spot {
        let file = self.origins.get(job).cloned().unwrap_or_else(|| self.file.clone());
        Spot { file, line, key }
    }

    /// The plan of job `name`, which must be one of [`Self::jobs`];
    /// `filters` (`--matrix KEY=VALUE`) choose its `parallel: matrix` row.
    pub fn plan(&self, name: &str, filters: &[(String, String)]) -> Result<Plan, ImportErrorKind> {
        let node = self.config.get(name).expect("a known job");
        let job = self.extended(name, node, 0)?;
        let mut plan = Plan { name: name.to_owned(), warnings: self.skipped.clone(), ..Plan::default() };
        let mut env = predefined(name);
        let spot = |line: usize, key: String| self.spot(name, line, key);
        gitlab_unread::warn_unread(&job, name, &mut plan, &spot);
        let default = self.config.get("default");
        if let Some(vars) = self.config.get("variables") {
            self.variables(vars, "variables", &mut env, &mut plan);
        }
        if let Some(vars) = job.get("variables") {
            self.variables(vars, &format!("{name}.variables"), &mut env, &mut plan);
        }
        gitlab_unread::matrix_row(&job, name, &mut env, &mut plan, filters, &spot)?;
        plan.engine = self.engine(&job, default, &env);
        let inherited = |key: &str| {
            job.get(key).map(|n| (n, format!("{name}.{key}"))).or_else(|| {
                let from_default = default.and_then(|d| d.get(key)).map(|n| (n, format!("default.{key}")));
                from_default.or_else(|| self.config.get(key).map(|n| (n, key.to_owned())))
            })
        };
        let before = inherited("before_script");
        let script = job.get("script").map(|n| (n, format!("{name}.script")));
        let after = inherited("after_script");
        for (part, (node, key)) in [("before", before), ("script", script), ("after", after)]
            .into_iter()
            .filter_map(|(p, s)| s.map(|s| (p, s)))
        {
            let first = plan.commands.len();
            if part == "after" {
                // A new shell, in the project folder again.
                env.reset_dir();
            }
            for (entry, entry_key) in script_entries(node, &key) {
                let spot = self.spot(name, entry.line, entry_key);
                let Some(text) = entry.as_str() else {
                    return Err(invalid(spot, "a script line (text)", entry));
                };
                read_entry(text, &spot, &mut env, &mut plan);
            }
            if part == "after" {
                // GitLab ignores after_script failures.
                for planned in &mut plan.commands[first..] {
                    planned.may_fail = true;
                }
                if plan.commands.len() > first {
                    plan.commands[first].comments.push("from after_script, whose failures GitLab ignores".into());
                }
            }
        }
        Ok(plan)
    }

    pub fn job_spot(&self, name: &str) -> Spot {
        let line = self.config.get(name).map_or(1, |n| n.key_line);
        self.spot(name, line, name.to_owned())
    }

    /// Where a job's commands are: its `script` key, else the job.
    pub fn script_spot(&self, name: &str) -> Spot {
        match self.config.get(name).and_then(|j| j.get("script")) {
            Some(script) => self.spot(name, script.key_line, format!("{name}.script")),
            None => self.job_spot(name),
        }
    }

    pub fn file_spot(&self) -> Spot {
        Spot { file: self.file.clone(), line: 1, key: "(top level)".into() }
    }

    /// The job with its `extends` chain merged in.
    fn extended(&self, name: &str, node: &Node, depth: usize) -> Result<Node, ImportErrorKind> {
        if depth > MAX_DEPTH {
            return Err(ImportErrorKind::Invalid {
                spot: self.spot(
                    name,
                    node.get("extends").map_or(node.key_line, |e| e.key_line),
                    format!("{name}.extends"),
                ),
                problem: Problem::ExtendsLoop { name: name.to_owned() },
            });
        }
        let Some(extends) = node.get("extends") else { return Ok(node.clone()) };
        let parents: Vec<&Node> = match &extends.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![extends],
        };
        let mut merged: Option<Node> = None;
        for parent in parents {
            let spot = self.spot(name, parent.line, format!("{name}.extends"));
            let parent_name = parent.as_str().ok_or_else(|| invalid(spot.clone(), "a job name", parent))?;
            let parent_node = self.config.get(parent_name).ok_or_else(|| ImportErrorKind::Invalid {
                spot: spot.clone(),
                problem: Problem::UnknownParent { name: parent_name.to_owned() },
            })?;
            let resolved = self.extended(parent_name, parent_node, depth + 1)?;
            merged = Some(match merged {
                Some(base) => deep_merge(&base, &resolved),
                None => resolved,
            });
        }
        let own = without(node, "extends");
        Ok(match merged {
            Some(base) => deep_merge(&without(&base, "extends"), &own),
            None => own,
        })
    }

    fn variables(&self, vars: &Node, key: &str, env: &mut Env, plan: &mut Plan) {
        for (name, value) in vars.entries() {
            // `VAR: {value: x, description: ...}` is the documented long form.
            let value_node = value.get("value").unwrap_or(value);
            let text = value_node.as_str().unwrap_or_default();
            let expanded = if value.get("expand").and_then(Node::as_bool) == Some(false) {
                text.to_owned()
            } else {
                env.expand_text(text)
            };
            if name == "DOCKER_BUILDKIT" && expanded == "0" {
                plan.note("`DOCKER_BUILDKIT=0` (the legacy builder) is not reproduced: builds run with BuildKit");
            }
            if ["DOCKER_HOST", "DOCKER_TLS_CERTDIR", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY", "DOCKER_DRIVER"]
                .contains(&name.as_str())
            {
                let _ = key;
                continue;
            }
            env.set(name.clone(), expanded);
        }
    }

    /// The engine from a `docker:<version>-dind` service, else the job image.
    fn engine(&self, job: &Node, default: Option<&Node>, env: &Env) -> EngineHint {
        let services = job
            .get("services")
            .or_else(|| default.and_then(|d| d.get("services")))
            .or_else(|| self.config.get("services"));
        for service in services.map(Node::items).unwrap_or_default() {
            let name = service.get("name").unwrap_or(service).as_str().unwrap_or_default();
            let name = env.expand_text(name);
            if let Some(version) = dind_version(&name) {
                return EngineHint { version: Some(version), source: format!("service `{name}`") };
            }
        }
        let image =
            job.get("image").or_else(|| default.and_then(|d| d.get("image"))).or_else(|| self.config.get("image"));
        if let Some(image) = image {
            let name = env.expand_text(image.get("name").unwrap_or(image).as_str().unwrap_or_default());
            if let Some(version) = docker_image_version(&name) {
                return EngineHint { version: Some(version), source: format!("job image `{name}` (no dind service)") };
            }
        }
        EngineHint { version: None, source: "no docker:dind service".into() }
    }
}

/// `docker:24.0.7-dind` → `24.0.7`, `docker:dind` → `latest`.
pub(crate) fn dind_version(image: &str) -> Option<String> {
    let tag = docker_tag(image)?;
    if !tag.contains("dind") {
        return None;
    }
    let version = tag.split("-dind").next().unwrap_or_default();
    Some(if version.is_empty() || version == "dind" { "latest".into() } else { version.into() })
}

fn docker_image_version(image: &str) -> Option<String> {
    let tag = docker_tag(image)?;
    let version = tag.split('-').next().unwrap_or_default();
    Some(if version.is_empty() { "latest".into() } else { version.into() })
}

fn docker_tag(image: &str) -> Option<&str> {
    let image = image.strip_prefix("docker.io/").unwrap_or(image);
    let image = image.strip_prefix("library/").unwrap_or(image);
    if image == "docker" {
        return Some("latest");
    }
    image.strip_prefix("docker:")
}

/// GitLab's predefined variables in the run's terms.
fn predefined(job: &str) -> Env {
    let mut env = Env::default();
    let values = [
        ("CI", "true"),
        ("GITLAB_CI", "true"),
        ("CI_REGISTRY", "{registry}"),
        ("CI_REGISTRY_IMAGE", "{image}"),
        ("CI_REGISTRY_USER", "harness"),
        ("CI_REGISTRY_PASSWORD", "harness"),
        ("CI_JOB_TOKEN", "harness"),
        // Names GitLab used before 9.0, still in many files.
        ("CI_BUILD_TOKEN", "harness"),
        ("CI_BUILD_REF", "commit-{job}"),
        ("CI_BUILD_REF_NAME", "main"),
        ("CI_BUILD_ID", "{job}"),
        ("CI_DEPLOY_USER", "harness"),
        ("CI_DEPLOY_PASSWORD", "harness"),
        ("CI_DEPENDENCY_PROXY_SERVER", "docker.io"),
        ("CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX", "docker.io"),
        ("CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX", "docker.io"),
        ("CI_DEPENDENCY_PROXY_USER", "harness"),
        ("CI_DEPENDENCY_PROXY_PASSWORD", "harness"),
        ("CI_COMMIT_SHA", "commit-{job}"),
        ("CI_COMMIT_SHORT_SHA", "commit-{job}"),
        ("CI_COMMIT_REF_NAME", "main"),
        ("CI_COMMIT_REF_SLUG", "main"),
        ("CI_COMMIT_BRANCH", "main"),
        ("CI_DEFAULT_BRANCH", "main"),
        ("CI_PIPELINE_ID", "{job}"),
        ("CI_PIPELINE_IID", "{job}"),
        ("CI_JOB_ID", "{job}"),
        ("CI_CONCURRENT_ID", "{job}"),
        ("CI_PROJECT_DIR", "."),
        ("CI_BUILDS_DIR", "."),
        ("CI_PROJECT_NAME", "{scenario}"),
        ("CI_PROJECT_PATH", "{scenario}"),
        ("CI_PROJECT_PATH_SLUG", "{scenario}"),
        ("CI_PROJECT_NAMESPACE", "harness"),
    ];
    for (name, value) in values {
        env.set(name, value);
    }
    env.set("CI_JOB_NAME", job);
    env.set("CI_JOB_NAME_SLUG", job.to_ascii_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "-"));
    env
}

/// Script items in order, nested lists (from `!reference`) flattened.
fn script_entries<'a>(node: &'a Node, key: &str) -> Vec<(&'a Node, String)> {
    match &node.value {
        Value::Seq(items) => {
            items.iter().enumerate().flat_map(|(i, item)| script_entries(item, &format!("{key}[{i}]"))).collect()
        }
        Value::Null => Vec::new(),
        _ => vec![(node, key.to_owned())],
    }
}

fn invalid(spot: Spot, expected: &'static str, found: &Node) -> ImportErrorKind {
    ImportErrorKind::Invalid { spot, problem: Problem::Type { expected, found: found.kind() } }
}

fn without(node: &Node, key: &str) -> Node {
    let mut out = node.clone();
    if let Value::Map(entries) = &mut out.value {
        entries.retain(|(k, _)| k != key);
    }
    out
}

/// GitLab's merge: mappings merged key by key, anything else replaced.
pub(crate) fn deep_merge(base: &Node, over: &Node) -> Node {
    let (Value::Map(base_entries), Value::Map(over_entries)) = (&base.value, &over.value) else {
        return over.clone();
    };
    let mut entries: Vec<(String, Node)> = base_entries
        .iter()
        .map(|(k, v)| match over_entries.iter().find(|(ok, _)| ok == k) {
            Some((_, ov)) => (k.clone(), deep_merge(v, ov)),
            None => (k.clone(), v.clone()),
        })
        .collect();
    for (k, v) in over_entries {
        if !base_entries.iter().any(|(bk, _)| bk == k) {
            entries.push((k.clone(), v.clone()));
        }
    }
    Node { value: Value::Map(entries), ..over.clone() }
}

/// The file with its local includes merged beneath it.
fn with_includes(
    file: &Path,
    root: Node,
    repo: &Path,
    origins: &mut HashMap<String, PathBuf>,
    skipped: &mut Vec<Warning>,
    depth: usize,
) -> Result<Node, ImportErrorKind> {
    let Some(include) = root.get("include").cloned() else {
        record_origins(&root, file, origins);
        return Ok(root);
    };
    let items: Vec<Node> = match include.value {
        Value::Seq(items) => items,
        _ => vec![include],
    };
    let mut merged: Option<Node> = None;
    for (i, item) in items.iter().enumerate() {
        let spot = Spot { file: file.to_owned(), line: item.line, key: format!("include[{i}]") };
        let local = match (&item.value, item.get("local")) {
            (Value::Scalar { text, .. }, _) if !text.contains("://") => text.clone(),
            (_, Some(local)) => local.as_str().unwrap_or_default().to_owned(),
            _ => {
                skipped.push(Warning { spot, message: not_local(item) });
                continue;
            }
        };
        if depth >= MAX_DEPTH {
            return Err(ImportErrorKind::Invalid { spot, problem: Problem::ExtendsLoop { name: local } });
        }
        let path = repo.join(local.trim_start_matches('/'));
        let included = match yaml::read(&path) {
            Ok(Ok(node)) => node,
            Ok(Err(e)) => {
                return Err(ImportErrorKind::Syntax { file: path, line: e.line, col: e.col, message: e.message })
            }
            Err(e) => {
                return Err(ImportErrorKind::Invalid {
                    spot,
                    problem: Problem::Include { path: local, error: e.to_string() },
                })
            }
        };
        let included = with_includes(&path, included, repo, origins, skipped, depth + 1)?;
        merged = Some(match merged {
            Some(base) => deep_merge(&base, &included),
            None => included,
        });
    }
    let own = without(&root, "include");
    record_origins(&own, file, origins);
    Ok(match merged {
        Some(base) => deep_merge(&base, &own),
        None => own,
    })
}

/// Why an include was not read, and what that leaves out.
fn not_local(item: &Node) -> String {
    let kind =
        ["remote", "template", "project", "component"].into_iter().find(|k| item.get(k).is_some()).unwrap_or("remote");
    let what = item.get(kind).or(Some(item)).and_then(Node::as_str).unwrap_or_default();
    format!(
        "`include: {kind}` (`{what}`) is not read (only local includes are, offline): jobs, templates and \
         variables it defines are missing; copy what the job needs into the repository and include it with `local`"
    )
}

fn record_origins(node: &Node, file: &Path, origins: &mut HashMap<String, PathBuf>) {
    for (key, _) in node.entries() {
        origins.insert(key.clone(), file.to_owned());
    }
}

/// Replaces every `!reference [job, key, ...]` with what it names.
fn resolve_references(file: &Path, node: &Node, root: &Node, depth: usize) -> Result<Node, ImportErrorKind> {
    if node.tag.as_deref() == Some("!reference") {
        let path: Vec<&str> = node.items().iter().filter_map(Node::as_str).collect();
        let unknown = || ImportErrorKind::Invalid {
            spot: Spot { file: file.to_owned(), line: node.line, key: "!reference".into() },
            problem: Problem::UnknownReference { path: path.join(".") },
        };
        if depth >= MAX_DEPTH || path.is_empty() {
            return Err(unknown());
        }
        let target = path.iter().try_fold(root, |n, key| n.get(key)).ok_or_else(unknown)?;
        let resolved = resolve_references(file, target, root, depth + 1)?;
        return Ok(Node { line: node.line, col: node.col, key_line: node.key_line, ..resolved });
    }
    let value = match &node.value {
        Value::Seq(items) => {
            Value::Seq(items.iter().map(|n| resolve_references(file, n, root, depth)).collect::<Result<_, _>>()?)
        }
        Value::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| Ok((k.clone(), resolve_references(file, v, root, depth)?)))
                .collect::<Result<_, ImportErrorKind>>()?,
        ),
        other => other.clone(),
    };
    Ok(Node { value, ..node.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use indoc::indoc;

    fn load(text: &str) -> GitLab {
        GitLab::load(Path::new(".gitlab-ci.yml"), yaml::parse(text).unwrap(), Path::new("/nonexistent")).unwrap()
    }

    #[test]
    fn dind_versions() {
        assert_eq!(dind_version("docker:24.0.7-dind").as_deref(), Some("24.0.7"));
        assert_eq!(dind_version("docker:dind").as_deref(), Some("latest"));
        assert_eq!(dind_version("docker.io/library/docker:27-dind-rootless").as_deref(), Some("27"));
        assert_eq!(dind_version("postgres:16"), None);
    }

    #[test]
    fn extends_multi_level_and_arrays() {
        let gl = load(indoc! {"
            .a:
              variables: {A: a, B: a}
              script: [echo a]
            .b:
              extends: .a
              variables: {B: b}
            .c:
              before_script: [echo c]
            job:
              extends: [.b, .c]
              variables: {C: c}
        "});
        let job = gl.extended("job", gl.config.get("job").unwrap(), 0).unwrap();
        let vars: Vec<(String, String)> = job
            .get("variables")
            .unwrap()
            .entries()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(vars, [("A".into(), "a".into()), ("B".into(), "b".into()), ("C".into(), "c".into())]);
        assert!(job.get("script").is_some() && job.get("before_script").is_some());
        assert_eq!(gl.jobs(), ["job"]);
    }

    #[test]
    fn references_resolve_and_flatten() {
        let gl = load(indoc! {"
            .setup:
              script:
                - echo one
                - echo two
            job:
              script:
                - !reference [.setup, script]
                - echo three
        "});
        let job = gl.config.get("job").unwrap().get("script").unwrap();
        let entries = script_entries(job, "job.script");
        let keys: Vec<&str> = entries.iter().map(|(_, k)| k.as_str()).collect();
        assert_eq!(keys, ["job.script[0][0]", "job.script[0][1]", "job.script[1]"]);
    }

    #[test]
    fn unknown_parent_and_reference_are_located() {
        let gl = load("job:\n  extends: .nope\n  script: [echo]\n");
        let err = gl.plan("job", &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            ".gitlab-ci.yml:2: at `job.extends`: `extends` names `.nope`, which is neither in this file nor in its local includes"
        );
        let err = GitLab::load(
            Path::new("ci.yml"),
            yaml::parse("job:\n  script:\n    - !reference [.x, script]\n").unwrap(),
            Path::new("/"),
        )
        .err()
        .unwrap();
        assert!(err.to_string().starts_with("ci.yml:3: at `!reference`"), "{err}");
    }
}
