//! Applying a scenario's edits to the build context.
//!
//! The one part of the scenario module that writes files. An edit that leaves
//! the file as it was is an error: a job meant to build changed source would
//! silently build the same context, and every cache outcome after it would
//! mean something else than the scenario says.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::model::{Edit, EditAction};
use super::template::Vars;

/// What an edit did, for the job's log and report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditReport {
    /// Path inside the build context.
    pub file: String,
    /// `appended 12 bytes`, `replaced 1 occurrence`, `wrote 80 bytes`.
    pub summary: String,
}

#[derive(Debug, thiserror::Error)]
#[error("failed to edit `{}`", path.display())]
pub struct EditError {
    pub path: PathBuf,
    #[source]
    pub kind: EditErrorKind,
}

#[derive(Debug, thiserror::Error)]
pub enum EditErrorKind {
    #[error("cannot read or write the file")]
    Io(#[from] io::Error),
    #[error("the text to replace, `{0}`, is not in the file")]
    NotFound(String),
    #[error("the edit leaves the file unchanged, so the job would build the same context as the one before")]
    Unchanged,
    #[error(
        "`{}` leads to `{}`, outside the build context: an edit changes files inside it only \
         (remove or fix the symlink in the fixture)",
        link.display(), target.display()
    )]
    Outside { link: PathBuf, target: PathBuf },
}

impl Edit {
    /// Applies the edit to the build context in `context_dir`.
    pub fn apply(&self, context_dir: &Path, vars: &Vars) -> Result<EditReport, EditError> {
        let path = context_dir.join(&self.file);
        self.apply_at(context_dir, &path, vars)
            .map(|summary| EditReport { file: self.file.clone(), summary })
            .map_err(|kind| EditError { path, kind })
    }

    fn apply_at(&self, context_dir: &Path, path: &Path, vars: &Vars) -> Result<String, EditErrorKind> {
        // The file's path is plain (validated), but the copy may hold
        // symlinks: what they lead to must stay inside the context.
        check_inside(context_dir, path)?;
        let before = match std::fs::read_to_string(path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        let (after, summary) = match &self.action {
            EditAction::Append(text) => {
                let text = text.render(vars);
                let summary = format!("appended {} bytes", text.len());
                (before.clone().unwrap_or_default() + &text, summary)
            }
            EditAction::Replace { find, with } => {
                let (find, with) = (find.render(vars), with.render(vars));
                let before = before.as_deref().ok_or_else(|| EditErrorKind::NotFound(find.clone()))?;
                let count = before.matches(&find).count();
                if count == 0 {
                    return Err(EditErrorKind::NotFound(find));
                }
                let plural = if count == 1 { "" } else { "s" };
                (before.replace(&find, &with), format!("replaced {count} occurrence{plural}"))
            }
            EditAction::Write { content, .. } => {
                let content = content.render(vars);
                let summary = format!("wrote {} bytes", content.len());
                (content, summary)
            }
        };
        if before.as_deref() == Some(after.as_str()) {
            return Err(EditErrorKind::Unchanged);
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, after)?;
        if let EditAction::Write { executable: true, .. } = self.action {
            make_executable(path)?;
            return Ok(summary + " (executable)");
        }
        Ok(summary)
    }
}

/// Refuses `path` when it, or the nearest folder above it that exists,
/// resolves (through symlinks) outside `context_dir`; a dangling symlink is
/// refused too, since writing through it would create its target.
fn check_inside(context_dir: &Path, path: &Path) -> Result<(), EditErrorKind> {
    let root = context_dir.canonicalize()?;
    let mut probe = path.to_path_buf();
    loop {
        if std::fs::symlink_metadata(&probe).is_ok() {
            let target = match probe.canonicalize() {
                Ok(real) if real.starts_with(&root) => return Ok(()),
                Ok(real) => real,
                Err(_) => std::fs::read_link(&probe).unwrap_or_else(|_| PathBuf::from("(unreadable)")),
            };
            return Err(EditErrorKind::Outside { link: probe, target });
        }
        if !probe.pop() {
            return Ok(());
        }
    }
}

#[cfg(unix)]
fn make_executable(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::template::{Template, COMMAND_VARS};

    fn vars(job: u32) -> Vars {
        Vars {
            registry: "r:5000".into(),
            job,
            image: "r:5000/s".into(),
            scenario: "s".into(),
            engine: "28.5.2".into(),
            chef: "chef".into(),
            runtime: "runtime".into(),
        }
    }

    fn t(text: &str) -> Template {
        Template::parse(text, COMMAND_VARS).unwrap()
    }

    #[test]
    fn append_replace_write() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("main.rs"), "Hello, world!\n").unwrap();

        let append = Edit { file: "main.rs".into(), action: EditAction::Append(t("// job {job}\n")) };
        assert_eq!(append.apply(dir.path(), &vars(1)).unwrap().summary, "appended 9 bytes");

        let replace =
            Edit { file: "main.rs".into(), action: EditAction::Replace { find: t("world"), with: t("job {job}") } };
        replace.apply(dir.path(), &vars(2)).unwrap();
        let text = std::fs::read_to_string(dir.path().join("main.rs")).unwrap();
        assert_eq!(text, "Hello, job 2!\n// job 1\n");

        let write = Edit {
            file: "target/release/app".into(),
            action: EditAction::Write { content: t("#!/bin/sh\necho old\n"), executable: true },
        };
        let report = write.apply(dir.path(), &vars(3)).unwrap();
        assert_eq!(report.summary, "wrote 19 bytes (executable)");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("target/release/app")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o755);
        }
    }

    #[test]
    fn an_edit_that_changes_nothing_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let write = Edit { file: "a.txt".into(), action: EditAction::Write { content: t("same"), executable: false } };
        write.apply(dir.path(), &vars(1)).unwrap();
        let err = write.apply(dir.path(), &vars(2)).unwrap_err();
        assert!(matches!(err.kind, EditErrorKind::Unchanged), "{err:?}");
        assert!(err.to_string().starts_with("failed to edit `"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn edits_do_not_follow_symlinks_out_of_the_context() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("victim.txt"), "keep\n").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path().join("victim.txt"), dir.path().join("file.txt")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("linked")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("missing"), dir.path().join("dangling")).unwrap();
        let edits = [
            Edit { file: "file.txt".into(), action: EditAction::Append(t("x")) },
            Edit { file: "linked/new.txt".into(), action: EditAction::Write { content: t("x"), executable: false } },
            Edit { file: "dangling".into(), action: EditAction::Write { content: t("x"), executable: false } },
        ];
        for edit in edits {
            let err = edit.apply(dir.path(), &vars(1)).unwrap_err();
            assert!(matches!(err.kind, EditErrorKind::Outside { .. }), "{}: {err:?}", edit.file);
            assert!(err.kind.to_string().contains("outside the build context"), "{}", err.kind);
        }
        assert_eq!(std::fs::read_to_string(outside.path().join("victim.txt")).unwrap(), "keep\n");
        assert!(!outside.path().join("new.txt").exists() && !outside.path().join("missing").exists());
        // A link that stays inside is followed as Docker would.
        std::fs::write(dir.path().join("real.txt"), "a").unwrap();
        std::os::unix::fs::symlink("real.txt", dir.path().join("inside.txt")).unwrap();
        let edit = Edit { file: "inside.txt".into(), action: EditAction::Append(t("b")) };
        edit.apply(dir.path(), &vars(1)).unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("real.txt")).unwrap(), "ab");
    }

    #[test]
    fn replace_needs_the_text() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "abc").unwrap();
        let replace = Edit { file: "a.txt".into(), action: EditAction::Replace { find: t("xyz"), with: t("q") } };
        let err = replace.apply(dir.path(), &vars(1)).unwrap_err();
        assert_eq!(err.kind.to_string(), "the text to replace, `xyz`, is not in the file");
    }
}
