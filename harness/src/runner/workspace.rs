//! The run's working copy of the build context.
//!
//! The fixture folder is copied once per run (without its `target/`, which
//! holds host build output), the scenario's Dockerfiles are rendered into
//! it, and each job's edits then change it in place, the way commits pile up
//! in a repository between CI jobs.

use std::path::{Path, PathBuf};

use crate::scenario::{Scenario, Vars};

/// Folders of the fixture never copied into the context.
const SKIPPED: &[&str] = &["target", ".git"];

/// A temporary copy of the fixture, removed on drop.
pub struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    /// Copies `root/<fixture>` into a new temporary folder.
    pub fn create(root: &Path, scenario: &Scenario) -> std::io::Result<Self> {
        let dir = tempfile::Builder::new().prefix("harness-context-").tempdir()?;
        copy_tree(&root.join(&scenario.fixture), dir.path(), true)?;
        Ok(Self { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes the scenario's Dockerfiles, placeholders rendered.
    pub fn render_dockerfiles(&self, scenario: &Scenario, vars: &Vars) -> std::io::Result<Vec<PathBuf>> {
        scenario
            .dockerfiles
            .iter()
            .map(|dockerfile| {
                let path = self.path().join(&dockerfile.name);
                std::fs::write(&path, dockerfile.render(vars))?;
                Ok(path)
            })
            .collect()
    }
}

fn copy_tree(from: &Path, to: &Path, top: bool) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let kind = entry.file_type()?;
        if top && kind.is_dir() && SKIPPED.iter().any(|s| name == *s) {
            continue;
        }
        let dest = to.join(&name);
        if kind.is_dir() {
            copy_tree(&entry.path(), &dest, false)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, dest)?;
        } else {
            std::fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_skips_top_level_target_only() {
        let src = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(src.path().join("target/release")).unwrap();
        std::fs::create_dir_all(src.path().join("src/target")).unwrap();
        std::fs::write(src.path().join("src/main.rs"), "fn main() {}").unwrap();
        let dest = tempfile::tempdir().unwrap();
        copy_tree(src.path(), dest.path(), true).unwrap();
        assert!(!dest.path().join("target").exists());
        assert!(dest.path().join("src/target").is_dir());
        assert!(dest.path().join("src/main.rs").is_file());
    }
}
