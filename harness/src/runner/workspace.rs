//! The run's working copy of the build context.
//!
//! The fixture folder is copied once per run (without its `target/`, which
//! holds host build output), the scenario's Dockerfiles are rendered into
//! it, and each job's edits then change it in place, the way commits pile up
//! in a repository between CI jobs.

use std::path::{Path, PathBuf};

use crate::fsutil::copy_tree;
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
        copy_tree(&root.join(&scenario.fixture), dir.path(), SKIPPED)?;
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
