//! The user's repository as the scenario sees it: build context,
//! Dockerfiles to copy unchanged, and the file to edit between jobs.

use std::path::{Component, Path, PathBuf};

use super::error::{ImportErrorKind, Problem};
use super::plan::{Plan, Spot};

/// The scenario's view of the repository.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    /// The build context folder (absolute): the scenario's fixture.
    pub dir: PathBuf,
    /// Dockerfiles used, as (path in the repository, name in the context).
    pub dockerfiles: Vec<(PathBuf, String)>,
}

impl Context {
    /// Reads the builds of `plans` against the repository at `repo`.
    pub fn new(repo: &Path, plans: &mut [Plan], spot: &Spot) -> Result<Self, ImportErrorKind> {
        let first = plans.iter().flat_map(Plan::builds).next().map(|b| b.context.clone()).unwrap_or_else(|| ".".into());
        if Path::new(&first).components().any(|c| matches!(c, Component::ParentDir | Component::RootDir)) {
            return Err(ImportErrorKind::Invalid {
                spot: spot.clone(),
                problem: Problem::ContextOutside { context: first, repo: repo.to_owned() },
            });
        }
        let dir = if first == "." { repo.to_owned() } else { repo.join(&first) };
        let mut dockerfiles: Vec<(PathBuf, String)> = Vec::new();
        for plan in plans.iter_mut() {
            let mut warnings = Vec::new();
            for planned in &mut plan.commands {
                let super::plan::Cmd::Build(build) = &mut planned.cmd else { continue };
                if build.context != first {
                    warnings.push(format!(
                        "a build with context `{}` runs in `{first}`, the first build's context: a scenario has one build context",
                        build.context
                    ));
                }
                let in_repo = match &build.file {
                    Some(file) => PathBuf::from(super::docker::normalize_context(file)),
                    None => PathBuf::from(super::docker::normalize_context(&format!("{}/Dockerfile", build.context))),
                };
                if !repo.join(&in_repo).is_file() {
                    return Err(ImportErrorKind::Invalid {
                        spot: spot.clone(),
                        problem: Problem::MissingDockerfile {
                            path: in_repo.display().to_string(),
                            repo: repo.to_owned(),
                        },
                    });
                }
                let name = match in_repo.strip_prefix(&first) {
                    Ok(inside) if first != "." => inside.display().to_string(),
                    _ if first == "." => in_repo.display().to_string(),
                    _ => {
                        let base = in_repo.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                        warnings.push(format!(
                            "the Dockerfile `{}` is outside the build context: copied into it as `{base}`",
                            in_repo.display()
                        ));
                        base
                    }
                };
                build.file = (name != "Dockerfile").then(|| name.clone());
                if !dockerfiles.iter().any(|(_, n)| *n == name) {
                    dockerfiles.push((in_repo, name));
                }
            }
            for warning in warnings {
                plan.warn(spot.clone(), warning);
            }
        }
        Ok(Self { dir, dockerfiles })
    }

    /// The file to edit between jobs and the comment that edits it. Without
    /// `wanted`, a source file among `copied` (the context paths the
    /// Dockerfiles copy; `None`: the whole context), so the edit reaches
    /// the build.
    pub fn edit(&self, wanted: Option<&str>, copied: Option<&[String]>) -> Result<(String, String), ImportErrorKind> {
        let file = match wanted {
            Some(path) => {
                let path = super::docker::normalize_context(path);
                if !self.dir.join(&path).is_file() {
                    return Err(ImportErrorKind::Usage(Problem::MissingEditFile { path, context: self.dir.clone() }));
                }
                path
            }
            None => self.source_file(copied).unwrap_or_else(|| "harness-edit.txt".into()),
        };
        let marker = match Path::new(&file).extension().and_then(|e| e.to_str()).unwrap_or_default() {
            "rs" | "go" | "js" | "mjs" | "cjs" | "ts" | "tsx" | "jsx" | "java" | "kt" | "scala" | "c" | "h" | "cc"
            | "cpp" | "hpp" | "cs" | "swift" | "dart" | "php" | "zig" => "//",
            "sql" | "hs" | "lua" => "--",
            _ => "#",
        };
        Ok((file, format!("\n{marker} harness: source edit before job {{job}}\n")))
    }

    /// A source file of the context: a usual entry point, else the
    /// shallowest source file, skipping build output and ignored folders.
    fn source_file(&self, copied: Option<&[String]>) -> Option<String> {
        const ENTRY_POINTS: &[&str] = &[
            "src/main.rs",
            "src/lib.rs",
            "main.go",
            "src/index.ts",
            "src/index.js",
            "index.js",
            "app.py",
            "main.py",
            "src/main.py",
            "manage.py",
            "app/main.py",
        ];
        let ignored = self.ignored();
        let sent = |path: &str| {
            !is_ignored(path, &ignored)
                && copied.is_none_or(|roots| roots.iter().any(|r| path == r || path.starts_with(&format!("{r}/"))))
        };
        if let Some(entry) = ENTRY_POINTS.iter().find(|p| self.dir.join(p).is_file() && sent(p)) {
            return Some((*entry).to_owned());
        }
        let mut queue = vec![PathBuf::new()];
        if let Some(roots) = copied {
            if let Some(file) = roots.iter().find(|r| self.dir.join(r).is_file() && is_source(r) && sent(r)) {
                return Some(file.clone());
            }
            queue = roots.iter().filter(|r| self.dir.join(r).is_dir()).map(PathBuf::from).collect();
        }
        while !queue.is_empty() {
            let mut next = Vec::new();
            let mut files = Vec::new();
            for rel in queue {
                let Ok(entries) = std::fs::read_dir(self.dir.join(&rel)) else { continue };
                let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
                entries.sort_by_key(|e| e.file_name());
                for entry in entries {
                    let path = rel.join(entry.file_name());
                    let text = path.display().to_string();
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if name.starts_with('.') || SKIP_DIRS.contains(&name.as_str()) || is_ignored(&text, &ignored) {
                        continue;
                    }
                    match entry.file_type() {
                        Ok(t) if t.is_dir() => next.push(path),
                        Ok(t) if t.is_file() && is_source(&name) => files.push(text),
                        _ => {}
                    }
                }
            }
            if let Some(first) = files.into_iter().next() {
                return Some(first);
            }
            queue = next;
        }
        None
    }

    /// `.dockerignore` patterns without negations, as written.
    fn ignored(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.dir.join(".dockerignore")).unwrap_or_default();
        text.lines()
            .map(|l| l.trim().trim_start_matches("./").trim_start_matches('/').trim_end_matches('/').to_owned())
            .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('!'))
            .collect()
    }
}

const SKIP_DIRS: &[&str] = &["target", "node_modules", "vendor", "dist", "build", "venv", "__pycache__", "out"];

fn is_source(name: &str) -> bool {
    const EXTENSIONS: &[&str] = &[
        "rs", "go", "py", "js", "mjs", "ts", "tsx", "jsx", "java", "kt", "scala", "c", "cc", "cpp", "cs", "rb", "php",
        "swift", "ex", "exs", "dart", "zig",
    ];
    Path::new(name).extension().and_then(|e| e.to_str()).is_some_and(|e| EXTENSIONS.contains(&e))
}

/// Whether `path` matches a `.dockerignore` pattern: exactly, by one of its
/// parent folders, or by a `*` glob on one path segment.
fn is_ignored(path: &str, patterns: &[String]) -> bool {
    patterns.iter().any(|pattern| {
        let pattern = pattern.trim_start_matches("**/");
        path == pattern
            || path.starts_with(&format!("{pattern}/"))
            || (pattern.contains('*') && glob(pattern, path.rsplit('/').next().unwrap_or(path)))
            || (pattern.contains('*') && glob(pattern, path))
    })
}

/// `*` matches any run of characters but `/`.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            let Some(rest) = text.strip_prefix(head) else { return false };
            (0..=rest.len())
                .filter(|i| rest.is_char_boundary(*i))
                .any(|i| !rest[..i].contains('/') && glob(tail, &rest[i..]))
        }
    }
}

/// `target` relative to `from` (both absolute), or `target` itself when
/// they share nothing but the root.
pub(crate) fn relative_path(from: &Path, target: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = target.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    if common <= 1 {
        return target.to_owned();
    }
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for part in &to[common..] {
        out.push(part);
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(relative_path(Path::new("/w/out/s"), Path::new("/w/repo")), PathBuf::from("../../repo"));
        assert_eq!(relative_path(Path::new("/w/repo/ci"), Path::new("/w/repo")), PathBuf::from(".."));
        assert_eq!(relative_path(Path::new("/a/b"), Path::new("/c/d")), PathBuf::from("/c/d"));
    }

    #[test]
    fn the_edit_is_a_source_file_the_dockerfile_copies() {
        let repo = tempfile::tempdir().unwrap();
        for file in ["main.py", "app/server.py", "app/util/x.py", "tools/gen.py"] {
            let path = repo.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "pass\n").unwrap();
        }
        let context = Context { dir: repo.path().to_owned(), dockerfiles: Vec::new() };
        assert_eq!(context.edit(None, None).unwrap().0, "main.py", "an entry point of the whole context");
        let copied = ["requirements.txt".to_owned(), "app".to_owned()];
        assert_eq!(context.edit(None, Some(&copied)).unwrap().0, "app/server.py", "main.py is not sent");
        let (file, append) = context.edit(None, Some(&["tools/gen.py".to_owned()])).unwrap();
        assert_eq!((file.as_str(), append.as_str()), ("tools/gen.py", "\n# harness: source edit before job {job}\n"));
        assert_eq!(context.edit(None, Some(&[])).unwrap().0, "harness-edit.txt");
    }

    #[test]
    fn dockerignore_patterns() {
        let patterns = vec!["target".to_owned(), "*.md".to_owned(), "docs".to_owned()];
        assert!(is_ignored("target/x.rs", &patterns));
        assert!(is_ignored("README.md", &patterns));
        assert!(is_ignored("docs/a.py", &patterns));
        assert!(!is_ignored("src/main.rs", &patterns));
    }
}
