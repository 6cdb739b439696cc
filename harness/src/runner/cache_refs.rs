//! Which cache refs a planned job exports and which each build imports.
//!
//! Exports: every image a `push` command pushes (an image pushed after a
//! build with inline cache carries its records), every registry cache a
//! build writes (`--cache-to type=registry,ref=…`), the tags of a build run
//! with `--push`, and the same read from shell lines (`docker push X`,
//! `--cache-to`). Imports: each build's `--cache-from`. Pure: the runner
//! reads these refs back from the run's registry after the job.

use crate::scenario::{BuildCommand, CommandKind, Vars};

use super::plan::PlannedJob;

/// A ref the job leaves in the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExportedRef {
    pub(crate) reference: String,
    /// Index of the command that writes it (it must have succeeded).
    pub(crate) command: usize,
    /// The build whose records it carries, when known.
    pub(crate) build: Option<String>,
    /// Whether the job writes it as a registry cache (else an image).
    pub(crate) registry_cache: bool,
}

/// A build and the refs it imports its cache from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BuildImports {
    pub(crate) build: String,
    pub(crate) imports: Vec<String>,
}

/// The refs `job` exports, in command order, each once (the last writer).
pub(crate) fn exported_refs(job: &PlannedJob<'_>) -> Vec<ExportedRef> {
    let vars = &job.vars;
    let mut out: Vec<ExportedRef> = Vec::new();
    for (k, command) in job.job.job.commands.iter().enumerate() {
        match &command.kind {
            CommandKind::Push(image) => {
                let reference = image.render(vars);
                let build = last_build_tagging(job, k, &reference);
                push(&mut out, ExportedRef { reference, command: k, build, registry_cache: false });
            }
            CommandKind::Build(build) => {
                for reference in cache_refs(build.cache_to.iter().map(|t| t.render(vars))) {
                    let id = Some(build.id.clone());
                    push(&mut out, ExportedRef { reference, command: k, build: id, registry_cache: true });
                }
                if pushes(build, vars) {
                    for tag in &build.tags {
                        let id = Some(build.id.clone());
                        push(
                            &mut out,
                            ExportedRef { reference: tag.render(vars), command: k, build: id, registry_cache: false },
                        );
                    }
                }
            }
            CommandKind::Shell(line) => {
                for (reference, registry_cache) in shell_exports(&line.render(vars)) {
                    push(&mut out, ExportedRef { reference, command: k, build: None, registry_cache });
                }
            }
            CommandKind::Login { .. } | CommandKind::Pull(_) => {}
        }
    }
    out
}

/// Each build's `--cache-from` refs.
pub(crate) fn build_imports(job: &PlannedJob<'_>) -> Vec<BuildImports> {
    job.job
        .job
        .commands
        .iter()
        .filter_map(|command| match &command.kind {
            CommandKind::Build(build) => Some(BuildImports {
                build: build.id.clone(),
                imports: cache_refs(build.cache_from.iter().map(|t| t.render(&job.vars))),
            }),
            _ => None,
        })
        .collect()
}

fn push(out: &mut Vec<ExportedRef>, exported: ExportedRef) {
    out.retain(|e| e.reference != exported.reference);
    out.push(exported);
}

/// The last build before command `before` that tagged `reference`.
fn last_build_tagging(job: &PlannedJob<'_>, before: usize, reference: &str) -> Option<String> {
    job.job.job.commands[..before].iter().rev().find_map(|command| match &command.kind {
        CommandKind::Build(build) if build.tags.iter().any(|t| t.render(&job.vars) == reference) => {
            Some(build.id.clone())
        }
        _ => None,
    })
}

fn pushes(build: &BuildCommand, vars: &Vars) -> bool {
    build
        .extra_args
        .iter()
        .map(|a| a.render(vars))
        .any(|a| a == "--push" || (a.starts_with("--output") || a.starts_with("type=image")) && a.contains("push=true"))
}

/// The refs of cache specs: `type=registry,ref=X,…` gives X, a plain
/// value is a ref itself (an image, or buildx's shorthand for a registry
/// cache); other types (`inline`, `local`, `gha`) leave nothing to read.
fn cache_refs(specs: impl Iterator<Item = String>) -> Vec<String> {
    specs
        .filter_map(|spec| {
            if !spec.contains('=') {
                return Some(spec);
            }
            let fields: Vec<(&str, &str)> = spec.split(',').filter_map(|f| f.split_once('=')).collect();
            let kind = fields.iter().find(|(k, _)| *k == "type").map_or("registry", |(_, v)| v);
            let reference = fields.iter().find(|(k, _)| *k == "ref").map(|(_, v)| (*v).to_owned());
            (kind == "registry").then_some(reference).flatten()
        })
        .collect()
}

/// `docker push X` and `--cache-to` in a shell line; words with shell
/// expansions are left out (their value is not known here).
fn shell_exports(line: &str) -> Vec<(String, bool)> {
    let words: Vec<&str> = line.split_whitespace().map(|w| w.trim_matches(['"', '\'', ';'])).collect();
    let mut out = Vec::new();
    for (i, pair) in words.windows(2).enumerate() {
        if pair == ["docker", "push"] {
            if let Some(image) = words[i + 2..].iter().find(|w| !w.starts_with('-')) {
                out.push(((*image).to_owned(), false));
            }
        }
    }
    for (i, word) in words.iter().enumerate() {
        let spec = match word.strip_prefix("--cache-to") {
            Some("") => words.get(i + 1).map(|s| (*s).to_owned()),
            Some(rest) => rest.strip_prefix('=').map(str::to_owned),
            None => None,
        };
        out.extend(cache_refs(spec.into_iter()).into_iter().map(|r| (r, true)));
    }
    out.retain(|(r, _)| !r.contains('$'));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_specs_give_registry_refs_only() {
        let specs = [
            "r:5000/app:builder",
            "type=registry,ref=r:5000/app:cache,mode=max",
            "type=inline",
            "type=local,dest=/tmp/c",
            "ref=r:5000/app:other",
        ];
        assert_eq!(
            cache_refs(specs.iter().map(|s| (*s).to_owned())),
            ["r:5000/app:builder", "r:5000/app:cache", "r:5000/app:other"]
        );
    }

    #[test]
    fn shell_lines_name_pushes_and_cache_exports() {
        let line = "docker buildx build --cache-to type=registry,ref=r/app:cache . && docker push \"r/app:1\"; \
                    docker push $IMAGE:2; docker buildx build --cache-to=type=registry,ref=r/app:c2 .";
        assert_eq!(
            shell_exports(line),
            [("r/app:1".to_owned(), false), ("r/app:cache".to_owned(), true), ("r/app:c2".to_owned(), true)]
        );
    }
}
