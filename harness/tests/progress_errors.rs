//! Inputs that are not BuildKit progress: each gives a clear error naming
//! the input and, where it applies, the line, and saying what was expected.

use std::error::Error as _;
use std::path::{Path, PathBuf};

use harness::progress::{parse_path, parse_reader_named, ParseErrorKind};
use rstest::rstest;

fn bad(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/logs/bad").join(name)
}

/// The error and its sources, as `harness` prints them (`{:#}`).
fn message(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

const EXPECTED: &str =
    "expected the output of `docker build --progress=plain` (`#N ...` lines) or `--progress=rawjson` (JSON objects)";

#[rstest]
#[case("empty.log", None, format!("it is empty: {EXPECTED}"))]
#[case("blank-lines.log", None, format!("it is empty: {EXPECTED}"))]
#[case("binary.png", Some(3), format!("it holds binary data (a NUL byte), not text: {EXPECTED}"))]
#[case("no-build.log", None, format!("no build found in 5 lines: {EXPECTED}"))]
#[case(
    "daemon-down.log",
    None,
    format!("no build found in 1 line: {EXPECTED}; the log says: ERROR: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?")
)]
fn bad_inputs_say_what_was_expected(#[case] name: &str, #[case] line: Option<u64>, #[case] detail: String) {
    let path = bad(name);
    let err = parse_path(&path).unwrap_err();
    assert_eq!(err.input, path.display().to_string());
    assert_eq!(err.line, line, "{name}");
    let at = line.map_or(String::new(), |l| format!(" at line {l}"));
    assert_eq!(message(&err), format!("failed to parse BuildKit progress log `{}`{at}: {detail}", path.display()));
}

#[test]
fn a_corrupt_rawjson_object_in_the_middle_names_its_line() {
    let err = parse_path(&bad("corrupt-middle.rawjson")).unwrap_err();
    assert_eq!(err.line, Some(6));
    assert!(matches!(err.kind, ParseErrorKind::Json(_)));
    let msg = message(&err);
    assert!(msg.contains("at line 6: invalid rawjson object: expected one BuildKit SolveStatus object"), "{msg}");
    assert!(err.source().unwrap().source().is_some(), "serde's error is the source");
}

#[test]
fn a_pretty_object_that_never_closes_before_more_text_is_an_error() {
    let log = "{\"vertexes\":[{\"digest\":\"sha256:a\",\"name\":\"[1/1] FROM x\",\"started\":\"2026-01-01T00:00:00Z\"}]}\n{\n  \"logs\": [\nnot json\n";
    let err = parse_reader_named(log.as_bytes(), "cut.rawjson").unwrap_err();
    assert_eq!(err.line, Some(2));
    assert!(message(&err).contains("never closes"), "{}", message(&err));
}

#[test]
fn a_missing_file_names_the_path() {
    let path = bad("no-such-file.log");
    let err = parse_path(&path).unwrap_err();
    assert!(matches!(err.kind, ParseErrorKind::Io(_)));
    assert!(message(&err)
        .starts_with(&format!("failed to parse BuildKit progress log `{}`: cannot read it: ", path.display())));
}

#[test]
fn binary_data_after_a_build_is_skipped() {
    let mut log = b"#1 [1/1] FROM x\n#1 DONE 0.0s\n".to_vec();
    log.extend_from_slice(b"#2 [2/2] RUN a\n#2 0.1 \x00\x01\x02\n#2 DONE 0.2s\n");
    let builds = parse_reader_named(&log[..], "x").unwrap();
    assert_eq!(builds[0].steps.len(), 2);
}
