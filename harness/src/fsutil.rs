//! Small file-system helpers shared by the image builder and the runner:
//! a plain tree copy, and the copy of a build context as Docker would send
//! it (`.dockerignore` applied, no symlink leading out of the context).

use std::path::{Path, PathBuf};

use crate::dockerignore::{ContextRules, IgnoreError};

/// Copies the folder `from` into `to` (created), keeping symlinks as links.
/// Top-level folders named in `skip` are left out (a fixture's `target/`).
pub(crate) fn copy_tree(from: &Path, to: &Path, skip: &[&str]) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let kind = entry.file_type()?;
        if kind.is_dir() && skip.iter().any(|s| name == *s) {
            continue;
        }
        let dest = to.join(&name);
        if kind.is_dir() {
            copy_tree(&entry.path(), &dest, &[])?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, dest)?;
        } else {
            std::fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
}

/// A build context that cannot be copied.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("the build context `{}` is not a folder", path.display())]
    NotAFolder { path: PathBuf },
    #[error(transparent)]
    Ignore(#[from] IgnoreError),
    #[error(
        "symlink `{}` points outside the build context (to `{}`): Docker would send a link \
         that no build can follow; replace it with the file, or ignore it in .dockerignore",
        link.display(),
        target.display()
    )]
    SymlinkOutside { link: PathBuf, target: PathBuf },
    #[error("failed to copy `{}` into the build context copy", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What a context copy took and left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContextCopy {
    pub files: u64,
    pub bytes: u64,
    /// Files, links and folders left out by the ignore rules.
    pub excluded: u64,
}

/// Copies the build context `from` into `to` (created) the way Docker's
/// client sends it: paths `rules` exclude stay out, folders are entered only
/// when something below them can come back, symlinks are copied as links.
/// The source is only read. A symlink that resolves outside `from`
/// (absolute, or through `..`) is refused, naming the link.
pub fn copy_context(from: &Path, to: &Path, rules: &ContextRules) -> Result<ContextCopy, ContextError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ContextError::Io { path, source }
    };
    if !from.is_dir() {
        return Err(ContextError::NotAFolder { path: from.to_owned() });
    }
    let root = from.canonicalize().map_err(io(from))?;
    std::fs::create_dir_all(to).map_err(io(to))?;
    let mut stats = ContextCopy::default();
    copy_level(&Walk { root: &root, from, rules }, "", to, &mut stats)?;
    Ok(stats)
}

struct Walk<'a> {
    root: &'a Path,
    from: &'a Path,
    rules: &'a ContextRules,
}

/// Copies the folder `rel` (relative to the context) into `dest`; returns
/// whether anything was copied.
fn copy_level(walk: &Walk<'_>, rel: &str, dest: &Path, stats: &mut ContextCopy) -> Result<bool, ContextError> {
    let io = |path: PathBuf| move |source| ContextError::Io { path, source };
    let dir = walk.from.join(rel);
    let mut entries =
        std::fs::read_dir(&dir).map_err(io(dir.clone()))?.collect::<Result<Vec<_>, _>>().map_err(io(dir.clone()))?;
    entries.sort_by_key(|e| e.file_name());
    let mut copied = false;
    for entry in entries {
        let name = entry.file_name();
        let path = entry.path();
        let rel = if rel.is_empty() {
            name.to_string_lossy().into_owned()
        } else {
            format!("{rel}/{}", name.to_string_lossy())
        };
        let excluded = walk.rules.excludes(&rel);
        let kind = entry.file_type().map_err(io(path.clone()))?;
        let target = dest.join(&name);
        if kind.is_dir() {
            if excluded && !walk.rules.must_enter(&rel) {
                stats.excluded += 1;
                continue;
            }
            std::fs::create_dir_all(&target).map_err(io(target.clone()))?;
            let inner = copy_level(walk, &rel, &target, stats)?;
            if excluded && !inner {
                // Docker sends an excluded folder only for what comes back in it.
                std::fs::remove_dir(&target).map_err(io(target.clone()))?;
                stats.excluded += 1;
            } else {
                copied = true;
            }
        } else if excluded {
            stats.excluded += 1;
        } else if kind.is_symlink() {
            let link = std::fs::read_link(&path).map_err(io(path.clone()))?;
            check_link(walk.root, &path, &link)?;
            std::os::unix::fs::symlink(&link, &target).map_err(io(target.clone()))?;
            copied = true;
        } else if kind.is_file() {
            stats.bytes += std::fs::copy(&path, &target).map_err(io(path.clone()))?;
            stats.files += 1;
            copied = true;
        }
        // Sockets, fifos and devices are not build input.
    }
    Ok(copied)
}

/// Refuses a symlink `path` (pointing to `link`) that resolves outside
/// `root` (canonical). A dangling link is judged by its text.
fn check_link(root: &Path, path: &Path, link: &Path) -> Result<(), ContextError> {
    let outside = || ContextError::SymlinkOutside { link: path.to_owned(), target: link.to_owned() };
    if link.is_absolute() {
        return Err(outside());
    }
    let resolved = match path.canonicalize() {
        Ok(resolved) => resolved,
        Err(_) => {
            let parent = path.parent().unwrap_or(Path::new("")).canonicalize().unwrap_or_default();
            PathBuf::from(crate::dockerignore::clean(&parent.join(link).to_string_lossy()))
        }
    };
    if resolved.starts_with(root) {
        Ok(())
    } else {
        Err(outside())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_skips_named_top_level_folders_only() {
        let src = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(src.path().join("target/release")).unwrap();
        std::fs::create_dir_all(src.path().join("src/target")).unwrap();
        std::fs::write(src.path().join("src/main.rs"), "fn main() {}").unwrap();
        std::os::unix::fs::symlink("src/main.rs", src.path().join("link")).unwrap();
        let dest = tempfile::tempdir().unwrap();
        copy_tree(src.path(), dest.path(), &["target"]).unwrap();
        assert!(!dest.path().join("target").exists());
        assert!(dest.path().join("src/target").is_dir());
        assert!(dest.path().join("src/main.rs").is_file());
        assert_eq!(std::fs::read_link(dest.path().join("link")).unwrap(), Path::new("src/main.rs"));
    }
}

#[cfg(test)]
mod context_tests {
    use std::os::unix::fs::symlink;

    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Every path under `root`, folders with a trailing `/`, sorted.
    fn listing(root: &Path) -> Vec<String> {
        fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                if path.is_dir() && !path.is_symlink() {
                    out.push(format!("{rel}/"));
                    walk(root, &path, out);
                } else {
                    out.push(rel);
                }
            }
        }
        let mut out = Vec::new();
        walk(root, root, &mut out);
        out.sort();
        out
    }

    #[test]
    fn the_copy_follows_dockerignore_and_leaves_the_source_alone() {
        let src = tempfile::tempdir().unwrap();
        write(src.path(), ".dockerignore", "target\n**/*.log\ndocs\n!docs/keep.md\nDockerfile\n");
        write(src.path(), "Dockerfile", "FROM scratch\n");
        write(src.path(), "src/main.rs", "fn main() {}\n");
        write(src.path(), "src/debug.log", "x");
        write(src.path(), "target/release/app", "binary");
        write(src.path(), "docs/keep.md", "kept");
        write(src.path(), "docs/drop.md", "dropped");
        write(src.path(), "empty-excluded/build.log", "x");
        symlink("src/main.rs", src.path().join("main-link")).unwrap();
        let before = listing(src.path());

        let dest = tempfile::tempdir().unwrap();
        let rules = ContextRules::for_dockerfiles(src.path(), &[]).unwrap();
        let stats = copy_context(src.path(), &dest.path().join("ctx"), &rules).unwrap();
        assert_eq!(
            listing(&dest.path().join("ctx")),
            [
                ".dockerignore",
                "Dockerfile",
                "docs/",
                "docs/keep.md",
                "empty-excluded/",
                "main-link",
                "src/",
                "src/main.rs"
            ]
        );
        assert_eq!(stats.files, 4);
        assert_eq!(listing(src.path()), before, "the source is untouched");
    }

    #[test]
    fn a_symlink_out_of_the_context_is_refused_with_its_name() {
        let src = tempfile::tempdir().unwrap();
        write(src.path(), "a/file", "x");
        symlink("../../outside", src.path().join("a/escape")).unwrap();
        let rules = ContextRules::default();
        let err = copy_context(src.path(), &tempfile::tempdir().unwrap().path().join("c"), &rules).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("a/escape") && message.contains("../../outside"), "{message}");

        let absolute = tempfile::tempdir().unwrap();
        symlink("/etc/hostname", absolute.path().join("host")).unwrap();
        let err = copy_context(absolute.path(), &tempfile::tempdir().unwrap().path().join("c"), &rules).unwrap_err();
        assert!(matches!(err, ContextError::SymlinkOutside { .. }), "{err}");
    }

    #[test]
    fn an_ignored_escaping_symlink_is_not_an_error() {
        let src = tempfile::tempdir().unwrap();
        write(src.path(), ".dockerignore", "escape\n");
        symlink("/etc/hostname", src.path().join("escape")).unwrap();
        symlink("../ok", src.path().join("dangling-inside")).unwrap_or(());
        let rules = ContextRules::for_dockerfiles(src.path(), &[]).unwrap();
        let dest = tempfile::tempdir().unwrap();
        let err = copy_context(src.path(), &dest.path().join("c"), &rules);
        // `../ok` from the root leaves the context too.
        assert!(matches!(err, Err(ContextError::SymlinkOutside { ref link, .. }) if link.ends_with("dangling-inside")));
        std::fs::remove_file(src.path().join("dangling-inside")).unwrap();
        copy_context(src.path(), &dest.path().join("d"), &rules).unwrap();
        assert!(!dest.path().join("d/escape").exists());
    }
}
