//! The run's working copy of the build context.
//!
//! The fixture folder is copied once per run (without its `target/`, which
//! holds host build output), the planned Dockerfiles are written into it
//! before each job, and each job's edits then change it in place, the way commits pile up
//! in a repository between CI jobs.

use std::path::Path;

use crate::fsutil::copy_tree;
use crate::scenario::Scenario;

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
}
