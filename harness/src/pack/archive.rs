//! A reproducible `tar.gz` of a pack: entries sorted by path, every folder
//! listed, fixed time, owner and modes (0644 files, 0755 executables and
//! folders), GNU headers, and a gzip header without time or file name, so
//! the same pack gives the same bytes.

use std::collections::BTreeSet;
use std::io::Write;

use flate2::{Compression, GzBuilder};

use super::files::{Entry, Tree};

/// 2000-01-01T00:00:00Z: a fixed, ordinary modification time.
const MTIME: u64 = 946_684_800;

/// The archive of `tree`, every path under the folder `root`.
pub(crate) fn tar_gz(tree: &Tree, root: &str) -> std::io::Result<Vec<u8>> {
    let gz = GzBuilder::new().mtime(0).operating_system(255).write(Vec::new(), Compression::best());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    let mut dirs: BTreeSet<String> = BTreeSet::from([root.to_owned()]);
    for rel in tree.keys() {
        let mut path = root.to_owned();
        for part in rel.split('/').collect::<Vec<_>>().iter().rev().skip(1).rev() {
            path = format!("{path}/{part}");
            dirs.insert(path.clone());
        }
    }
    // Folders and files in one sorted order, each folder before its content.
    let mut entries: Vec<(String, Option<&Entry>)> = dirs.into_iter().map(|d| (format!("{d}/"), None)).collect();
    entries.extend(tree.iter().map(|(rel, e)| (format!("{root}/{rel}"), Some(e))));
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, entry) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(MTIME);
        header.set_uid(0);
        header.set_gid(0);
        match entry {
            None => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                tar.append_data(&mut header, path.trim_end_matches('/'), std::io::empty())?;
            }
            Some(Entry::File { data, executable }) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(if *executable { 0o755 } else { 0o644 });
                header.set_size(data.len() as u64);
                tar.append_data(&mut header, &path, data.as_slice())?;
            }
            Some(Entry::Symlink(target)) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                header.set_size(0);
                tar.append_link(&mut header, &path, target)?;
            }
        }
    }
    let mut gz = tar.into_inner()?;
    gz.flush()?;
    gz.finish()
}

#[cfg(test)]
mod tests {
    use super::super::files::file;
    use super::*;

    fn tree() -> Tree {
        let mut tree = Tree::new();
        tree.insert("repro.sh".into(), Entry::File { data: b"#!/bin/sh\n".to_vec(), executable: true });
        tree.insert("context/src/main.rs".into(), file("fn main() {}\n"));
        tree.insert("README.md".into(), file("# pack\n"));
        tree
    }

    #[test]
    fn same_tree_same_bytes_with_fixed_metadata() {
        let a = tar_gz(&tree(), "demo").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let b = tar_gz(&tree(), "demo").unwrap();
        assert_eq!(a, b);
        assert_eq!(&a[4..8], &[0, 0, 0, 0], "gzip header has no time");

        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(a.as_slice()));
        let mut seen = Vec::new();
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            let h = entry.header();
            assert_eq!((h.mtime().unwrap(), h.uid().unwrap(), h.gid().unwrap()), (MTIME, 0, 0));
            seen.push((entry.path().unwrap().to_string_lossy().into_owned(), h.mode().unwrap()));
        }
        let expected = [
            ("demo", 0o755),
            ("demo/README.md", 0o644),
            ("demo/context", 0o755),
            ("demo/context/src", 0o755),
            ("demo/context/src/main.rs", 0o644),
            ("demo/repro.sh", 0o755),
        ];
        let expected: Vec<(String, u32)> = expected.iter().map(|(p, m)| (p.to_string(), *m)).collect();
        assert_eq!(seen, expected);
    }
}
