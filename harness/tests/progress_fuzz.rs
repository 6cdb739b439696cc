//! Property tests: arbitrary bytes, shuffled realistic lines, and every real
//! log cut at arbitrary points. Whatever comes in, the parser returns builds
//! or a clear error, never panics, and a cut log reads as truncated.

use std::path::{Path, PathBuf};

use harness::progress::{parse_reader, parse_reader_named, Outcome, Parser};
use proptest::prelude::*;

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/logs");
    let mut logs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log" || e == "rawjson"))
        .collect();
    logs.sort();
    logs.into_iter()
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect()
}

/// Checks what must hold of any successful parse.
fn check_invariants(builds: &[harness::progress::Build]) {
    for b in builds {
        for s in &b.steps {
            assert!(!s.why.is_empty(), "every outcome is explained");
            assert!(s.evidence.output_tail.len() <= 5);
            if s.outcome == Outcome::Absent && s.vertex == 0 {
                assert!(s.instruction.is_empty());
            }
            let _ = s.name();
        }
        let _ = serde_json::to_string(b).unwrap();
    }
}

/// Lines a log may hold, real and broken, to shuffle into new logs.
const PIECES: &[&str] = &[
    "#0 building with \"default\" instance using docker driver",
    "#1 [internal] load build definition from Dockerfile",
    "#1 DONE 0.0s",
    "#2 [builder 2/4] RUN cargo chef cook",
    "#2 0.202 Compiling x",
    "#2 CACHED",
    "#2 ERROR: boom",
    "#2 CANCELED",
    "#2 ...",
    "#2 sha256:8d9e80dd6c195f8f20c7bc8d9faa70d1de0bbce1a4f3fa29afc51e52475c0e7b 20.97MB / 465.64MB 0.2s",
    "#2 extracting sha256:8d9e80dd6c195f8f20c7bc8d9faa70d1de0bbce1a4f3fa29afc51e52475c0e7b 7.9s done",
    "#3 [builder  3/10] COPY . .",
    "#3 DONE",
    "#4294967295 [x 1/1] RUN y",
    "#1",
    "#",
    "------",
    " > [builder 2/4] RUN cargo chef cook:",
    "--------------------",
    "Dockerfile:3",
    "ERROR: failed to solve: x",
    " 2 warnings found (use docker --debug to expand):",
    " - Rule: text",
    "WARNING: w",
    "{\"vertexes\":[{\"digest\":\"sha256:a\",\"name\":\"[s 1/2] RUN a\",\"started\":\"2026-11-24T00:19:05.3Z\"}]}",
    "{\"vertexes\":[{\"digest\":\"sha256:a\",\"name\":\"[s 1/2] RUN a\",\"started\":\"2026-11-24T00:19:05.3Z\",\"completed\":\"2026-11-24T00:19:04Z\",\"cached\":true}]}",
    "{\"logs\":[{\"vertex\":\"sha256:a\",\"data\":\"aGkKdGhlcmU=\"}]}",
    "{\"logs\":[{\"vertex\":\"sha256:b\",\"data\":\"!!\"}]}",
    "{\"statuses\":[{\"id\":\"sha256:0123456789abcdef\",\"vertex\":\"sha256:a\",\"total\":5}]}",
    "{\"warnings\":[{\"vertex\":\"sha256:zz\",\"short\":\"d2Fybg==\"}]}",
    "{\"vertexes\":[{\"digest\":\"sha256:c\",\"name\":\"[internal] load build definition from Dockerfile\"}]}",
    "{",
    "  \"vertexes\": [",
    "}",
    "{\"vertexes\":7}",
    "\u{1b}[31m#5 ERROR\u{1b}[0m\r",
    "2026-11-24T00:10:01.0000000Z #6 [2/3] RUN x",
    "",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        match parse_reader(&bytes[..]) {
            Ok(builds) => check_invariants(&builds),
            Err(e) => prop_assert!(e.to_string().starts_with("failed to parse BuildKit progress log")),
        }
    }

    #[test]
    fn shuffled_realistic_lines_never_panic(picks in proptest::collection::vec(0..PIECES.len(), 0..80)) {
        let log: String = picks.iter().map(|&i| format!("{}\n", PIECES[i])).collect();
        match parse_reader(log.as_bytes()) {
            Ok(builds) => check_invariants(&builds),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn real_logs_with_a_byte_flipped_never_panic(which in 0usize..64, at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let logs = fixtures();
        let (_, log) = &logs[which % logs.len()];
        let mut log = log.clone();
        let i = at.index(log.len());
        log[i] = byte;
        if let Ok(builds) = parse_reader(&log[..]) {
            check_invariants(&builds);
        }
    }
}

/// Every real log cut at many points, including mid-line: it parses (or,
/// cut before its first build, fails cleanly), and a build cut while a
/// vertex runs says so.
#[test]
fn truncated_real_logs_parse_or_fail_cleanly() {
    for (name, log) in fixtures() {
        let step = (log.len() / 300).max(1);
        for cut in (0..log.len()).step_by(step) {
            match parse_reader_named(&log[..cut], &name) {
                Ok(builds) => check_invariants(&builds),
                Err(e) => {
                    let msg = e.to_string();
                    assert!(msg.contains(&name), "{name} cut at {cut}: {msg}");
                }
            }
        }
    }
}

#[test]
fn a_log_cut_inside_a_running_step_is_truncated() {
    let log = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/logs/docker26.1-inline-job1-builder.log"),
    )
    .unwrap();
    let cut = log.find("#11 5.074").unwrap();
    for end in [cut, cut + 5, cut + 20] {
        let builds = parse_reader(&log.as_bytes()[..end]).unwrap();
        assert!(builds[0].truncated, "cut at {end}");
    }
    assert!(!parse_reader(log.as_bytes()).unwrap()[0].truncated);
}

#[test]
fn feeding_lines_one_by_one_equals_parsing_the_reader() {
    for (name, log) in fixtures() {
        let mut p = Parser::new(name.clone());
        for line in log.split(|&b| b == b'\n') {
            p.push_line(line).unwrap();
        }
        // A final newline gives one more (empty) line: harmless.
        let streamed = p.finish().unwrap();
        let whole = parse_reader_named(&log[..], &name).unwrap();
        let strip = |bs: &[harness::progress::Build]| {
            bs.iter().map(|b| (b.steps.clone(), b.internal.clone(), b.error.clone(), b.truncated)).collect::<Vec<_>>()
        };
        assert_eq!(strip(&streamed), strip(&whole), "{name}");
    }
}
