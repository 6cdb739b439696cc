//! The pack's content as data: every file by its path inside the pack, so
//! the same tree is written as a folder or as a reproducible archive.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

/// One entry of the pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entry {
    File { data: Vec<u8>, executable: bool },
    Symlink(String),
}

/// Files by `/`-separated path, sorted.
pub(crate) type Tree = BTreeMap<String, Entry>;

pub(crate) fn file(data: impl Into<Vec<u8>>) -> Entry {
    Entry::File { data: data.into(), executable: false }
}

/// Writes `tree` under `dir` (created): files 0644 or 0755.
pub(crate) fn write_dir(tree: &Tree, dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir)?;
    for (rel, entry) in tree {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        match entry {
            Entry::File { data, executable } => {
                std::fs::write(&path, data)?;
                let mode = if *executable { 0o755 } else { 0o644 };
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
            }
            Entry::Symlink(target) => std::os::unix::fs::symlink(target, &path)?,
        }
    }
    Ok(())
}

/// Reads every file under `dir` into a tree (paths relative to `dir`).
pub(crate) fn read_dir(dir: &Path) -> io::Result<Tree> {
    let mut tree = Tree::new();
    read_into(dir, "", &mut tree)?;
    Ok(tree)
}

fn read_into(dir: &Path, prefix: &str, tree: &mut Tree) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for item in std::fs::read_dir(dir)? {
        let item = item?;
        let name = item.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        let kind = item.file_type()?;
        if kind.is_dir() {
            read_into(&item.path(), &rel, tree)?;
        } else if kind.is_symlink() {
            tree.insert(rel, Entry::Symlink(std::fs::read_link(item.path())?.to_string_lossy().into_owned()));
        } else {
            let executable = item.metadata()?.permissions().mode() & 0o111 != 0;
            tree.insert(rel, Entry::File { data: std::fs::read(item.path())?, executable });
        }
    }
    Ok(())
}
