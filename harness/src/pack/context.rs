//! The build context that goes into a pack: the fixture as the harness
//! copies it (no top-level `target/` or `.git`), minus what `.dockerignore`
//! excludes, minus credential files and private keys, with credential-looking
//! values replaced; refused when it is larger than the limit.
//!
//! Only the initial `.dockerignore` is read: a file it excludes that a later
//! job's edit un-ignores is not in the pack (edited files always are).

use std::path::{Path, PathBuf};

use super::files::{Entry, Tree};
use super::secrets::{self, Finding, Kind, LEFT_OUT, REPLACED};
use super::PackError;
use crate::dockerignore::ContextRules;

/// Folders of the fixture the harness never copies (see the runner's workspace).
const SKIPPED: &[&str] = &["target", ".git"];

/// The context's files and what was left out of them.
#[derive(Debug)]
pub(crate) struct Context {
    pub files: Tree,
    pub findings: Vec<Finding>,
    /// Paths `.dockerignore` excluded (not secrets: just not in the context).
    pub ignored: usize,
}

/// Reads `dir` as a pack's build context, at most `max_bytes` in total.
pub(crate) fn collect(dir: &Path, max_bytes: u64) -> Result<Context, PackError> {
    let io = |e: std::io::Error| PackError::Io { path: dir.to_owned(), source: e };
    // The same rules the harness's own context copy applies.
    let ignore = ContextRules::for_dockerfiles(dir, &[])?;
    let mut all = super::files::read_dir(dir).map_err(io)?;
    all.retain(|rel, _| !SKIPPED.iter().any(|s| rel == s || rel.starts_with(&format!("{s}/"))));
    let before = all.len();
    // `.dockerignore` itself is sent to the builder, so it stays.
    all.retain(|rel, _| rel == ".dockerignore" || !ignore.excludes(rel));
    let ignored = before - all.len();
    check_size(dir, &all, max_bytes)?;
    let mut context = Context { files: Tree::new(), findings: Vec::new(), ignored };
    for (rel, entry) in all {
        if let Some(entry) = scrub(&format!("context/{rel}"), entry, &mut context.findings) {
            context.files.insert(rel, entry);
        }
    }
    Ok(context)
}

/// The entry with secrets removed, or `None` when the whole file must go.
/// `place` names it in findings.
pub(crate) fn scrub(place: &str, entry: Entry, findings: &mut Vec<Finding>) -> Option<Entry> {
    let rel = place.split_once('/').map_or(place, |(_, r)| r);
    if let Some(why) = secrets::credential_file(rel) {
        findings.push(Finding { place: place.to_owned(), what: why.to_owned(), action: LEFT_OUT });
        return None;
    }
    let Entry::File { data, executable } = entry else { return Some(entry) };
    // Binary files are not scanned: a build context's binaries are build
    // output or assets, and token shapes in them are noise.
    let Ok(text) = std::str::from_utf8(&data) else { return Some(Entry::File { data, executable }) };
    if secrets::holds_private_key(text) {
        findings.push(Finding { place: place.to_owned(), what: "private key".into(), action: LEFT_OUT });
        return None;
    }
    let (clean, found) = secrets::redact(text, Kind::File);
    for what in found {
        findings.push(Finding { place: place.to_owned(), what: what.to_owned(), action: REPLACED });
    }
    Some(Entry::File { data: clean.into_bytes(), executable })
}

/// Refuses a context over `max_bytes`, naming its largest paths.
fn check_size(dir: &Path, files: &Tree, max_bytes: u64) -> Result<(), PackError> {
    let size = |e: &Entry| match e {
        Entry::File { data, .. } => data.len() as u64,
        Entry::Symlink(_) => 0,
    };
    let total: u64 = files.values().map(size).sum();
    if total <= max_bytes {
        return Ok(());
    }
    // Largest top-level entries (folders summed), then largest files.
    let mut top: std::collections::BTreeMap<&str, u64> = Default::default();
    for (rel, e) in files {
        *top.entry(rel.split('/').next().unwrap_or(rel.as_str())).or_default() += size(e);
    }
    let mut top: Vec<(&str, u64)> = top.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut biggest: Vec<(&String, u64)> = files.iter().map(|(r, e)| (r, size(e))).collect();
    biggest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mb = |b: u64| format!("{:.1} MB", b as f64 / 1_000_000.0);
    let mut largest: Vec<String> = top.iter().take(5).map(|(p, s)| format!("{p} ({})", mb(*s))).collect();
    largest.extend(biggest.iter().take(5).filter(|(p, _)| p.contains('/')).map(|(p, s)| format!("{p} ({})", mb(*s))));
    Err(PackError::ContextTooLarge {
        dir: PathBuf::from(dir),
        size: mb(total),
        limit: mb(max_bytes),
        largest: largest.join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignores_skips_and_refuses_large_contexts() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::create_dir_all(root.join("target/release")).unwrap();
        std::fs::create_dir_all(root.join("assets")).unwrap();
        std::fs::write(root.join(".dockerignore"), "*.log\n").unwrap();
        std::fs::write(root.join("src/main.rs"), "fn main() {}\n").unwrap();
        std::fs::write(root.join("build.log"), "noise").unwrap();
        std::fs::write(root.join("target/release/app"), "binary").unwrap();
        std::fs::write(root.join("assets/big.bin"), vec![0u8; 2000]).unwrap();
        let context = collect(root, 10_000).unwrap();
        let paths: Vec<&str> = context.files.keys().map(String::as_str).collect();
        assert_eq!(paths, [".dockerignore", "assets/big.bin", "src/main.rs"]);
        assert_eq!(context.ignored, 1);

        let err = collect(root, 1000).unwrap_err().to_string();
        assert!(err.contains("assets (0.0 MB)") || err.contains("assets ("), "{err}");
        assert!(err.contains("assets/big.bin"), "{err}");
        assert!(err.contains("--max-context-mb"), "{err}");
    }
}
