//! Small file-system helpers shared by the image builder and the runner.

use std::path::Path;

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
