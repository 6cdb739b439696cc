//! The logs `harness diagnose` reads: each parsed into builds by
//! [`crate::progress`], and kept as text too, because evidence is quoted by
//! file and line and some facts (a cache import's error, the echoed build
//! command, the context size) are status lines the progress model counts
//! but does not keep.

use std::path::Path;

use crate::progress::{self, Build, ParseError, ParseErrorKind};

use super::facts::says_why;

/// Evidence lines are shortened to this many characters.
const QUOTE_CHARS: usize = 200;

/// Why an input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read `{path}`")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Parse(#[from] ParseError),
}

/// One log: its builds and its lines.
#[derive(Debug, Clone)]
pub struct LogInput {
    /// The name used in evidence (the path as given).
    pub label: String,
    pub builds: Vec<Build>,
    lines: Vec<String>,
}

impl LogInput {
    /// Reads and parses a log file.
    pub fn load(path: &Path) -> Result<Self, InputError> {
        let label = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| InputError::Read { path: label.clone(), source })?;
        Self::from_bytes(label, &bytes)
    }

    /// Parses a log held in memory (stdin, tests).
    pub fn from_bytes(label: impl Into<String>, bytes: &[u8]) -> Result<Self, InputError> {
        let label = label.into();
        let lines: Vec<String> =
            String::from_utf8_lossy(bytes).split('\n').map(|l| l.trim_end_matches('\r').to_owned()).collect();
        let builds = match progress::parse_reader_named(bytes, &label) {
            Ok(builds) => builds,
            // A refused cache export stops buildx before any build starts:
            // such a log is still worth a diagnosis.
            Err(e) if matches!(e.kind, ParseErrorKind::NoBuild { .. }) && lines.iter().any(|l| says_why(l)) => {
                Vec::new()
            }
            Err(e) => return Err(e.into()),
        };
        Ok(Self { label, builds, lines })
    }

    /// Line `n` (1-based), if the log has it.
    pub(crate) fn line(&self, n: u64) -> Option<&str> {
        let i = usize::try_from(n.checked_sub(1)?).ok()?;
        self.lines.get(i).map(String::as_str)
    }

    /// Lines `first..=last` (1-based) with their numbers.
    pub(crate) fn range(&self, first: u64, last: u64) -> impl Iterator<Item = (u64, &str)> {
        let start = first.max(1);
        let end = last.min(self.lines.len() as u64);
        (start..=end).filter_map(move |n| self.line(n).map(|l| (n, l)))
    }

    /// Every line with its number.
    pub(crate) fn all(&self) -> impl Iterator<Item = (u64, &str)> {
        self.lines.iter().enumerate().map(|(i, l)| (i as u64 + 1, l.as_str()))
    }

    /// The text quoted for line `n`.
    pub(crate) fn quote(&self, n: u64) -> String {
        shorten(strip_ansi(self.line(n).unwrap_or("")).trim())
    }
}

/// Drops ANSI escape sequences (CI logs keep colours).
pub(crate) fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        }
    }
    out
}

/// Shortens a quote to [`QUOTE_CHARS`] characters.
pub(crate) fn shorten(s: &str) -> String {
    if s.chars().count() <= QUOTE_CHARS {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(QUOTE_CHARS - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_from_one_and_quotes_are_clean() {
        let log = LogInput::from_bytes("x.log", b"#1 [1/2] FROM a\r\n#1 \x1b[31mDONE\x1b[0m 0.0s\n").unwrap();
        assert_eq!(log.line(1), Some("#1 [1/2] FROM a"));
        assert_eq!(log.quote(2), "#1 DONE 0.0s");
        assert_eq!(log.line(0), None);
        assert_eq!(log.range(2, 99).count(), 2);
    }

    #[test]
    fn long_quotes_are_cut() {
        let s = "x".repeat(500);
        assert_eq!(shorten(&s).chars().count(), QUOTE_CHARS);
    }

    #[test]
    fn a_log_without_a_build_is_read_only_when_it_says_why() {
        let log = "$ docker buildx build --cache-to type=gha .\nERROR: failed to build: Cache export is not supported for the docker driver.\n";
        assert!(LogInput::from_bytes("x", log.as_bytes()).unwrap().builds.is_empty());
        let err = LogInput::from_bytes("y.log", b"hello\n").unwrap_err();
        assert!(err.to_string().contains("`y.log`"), "{err}");
    }

    #[test]
    fn an_unreadable_file_names_the_path() {
        let err = LogInput::load(Path::new("/nonexistent/job1.log")).unwrap_err();
        assert_eq!(err.to_string(), "cannot read `/nonexistent/job1.log`");
    }
}
