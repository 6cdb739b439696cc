//! Why a log could not be read: a context struct (which input, which line)
//! around a [`ParseErrorKind`], so a message reads "failed to parse
//! BuildKit progress log `job3.log` at line 12: ..." and says what was
//! expected. A log that parses but shows a failed build is not an error
//! here; that is [`super::Build::error`].

use std::fmt;

/// A log that could not be read as BuildKit progress.
#[derive(Debug, thiserror::Error)]
#[error("failed to parse BuildKit progress log `{input}`{}", AtLine(*.line))]
pub struct ParseError {
    /// The file name, or `<stdin>` / `<input>`.
    pub input: String,
    /// 1-based line the problem was found on, when there is one.
    pub line: Option<u64>,
    #[source]
    pub kind: ParseErrorKind,
}

struct AtLine(Option<u64>);

impl fmt::Display for AtLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(n) => write!(f, " at line {n}"),
            None => Ok(()),
        }
    }
}

const EXPECTED: &str =
    "expected the output of `docker build --progress=plain` (`#N ...` lines) or `--progress=rawjson` (JSON objects)";

/// What was wrong with the log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    #[error("cannot read it")]
    Io(#[source] std::io::Error),
    #[error("it is empty: {EXPECTED}")]
    Empty,
    #[error("it holds binary data ({what}), not text: {EXPECTED}")]
    Binary { what: &'static str },
    #[error("no build found in {}: {EXPECTED}{hint}", count_lines(*.lines))]
    NoBuild { lines: u64, hint: String },
    #[error("invalid rawjson object: expected one BuildKit SolveStatus object (vertexes, statuses, logs, warnings) per line or pretty-printed block")]
    Json(#[source] serde_json::Error),
    #[error("a rawjson object starting here never closes before other text: expected a complete JSON object")]
    Unclosed,
    #[error(
        "a rawjson object is larger than {limit} bytes: expected BuildKit SolveStatus objects, which are far smaller"
    )]
    TooLarge { limit: usize },
}

fn count_lines(n: u64) -> String {
    if n == 1 {
        "1 line".to_owned()
    } else {
        format!("{n} lines")
    }
}

impl ParseError {
    pub(crate) fn new(input: &str, line: Option<u64>, kind: ParseErrorKind) -> Self {
        Self { input: input.to_owned(), line, kind }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(e: &dyn std::error::Error) -> String {
        let mut s = e.to_string();
        let mut src = e.source();
        while let Some(inner) = src {
            s.push_str(": ");
            s.push_str(&inner.to_string());
            src = inner.source();
        }
        s
    }

    #[test]
    fn messages_name_the_input_and_line_and_say_what_was_expected() {
        let e = ParseError::new("job.log", Some(3), ParseErrorKind::Binary { what: "a NUL byte" });
        assert_eq!(
            chain(&e),
            "failed to parse BuildKit progress log `job.log` at line 3: it holds binary data (a NUL byte), not text: \
             expected the output of `docker build --progress=plain` (`#N ...` lines) or `--progress=rawjson` (JSON objects)"
        );
        let e = ParseError::new("<stdin>", None, ParseErrorKind::Empty);
        assert!(chain(&e).starts_with("failed to parse BuildKit progress log `<stdin>`: it is empty: expected"));
    }
}
