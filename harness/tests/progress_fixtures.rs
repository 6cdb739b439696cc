//! One snapshot per fixture log: every build, every step with its outcome,
//! time and reason, BuildKit's own vertices, errors and warnings. Reviewing
//! a snapshot diff is reviewing a change in what the parser concludes.

use std::fmt::Write as _;

use harness::progress::{parse_path, Build, Mark};

/// Scrubs what changes between recordings of the same build: digests.
/// Durations and timestamps in the fixtures are fixed, so they stay.
fn redact(f: impl FnOnce()) {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"sha256:[0-9a-f]{64}", "sha256:[digest]");
    settings.add_filter(r"sha256:[0-9a-f]{12}\b", "sha256:[short]");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(f);
}

fn render(builds: &[Build]) -> String {
    let mut out = String::new();
    for (i, b) in builds.iter().enumerate() {
        let _ = writeln!(
            out,
            "build {} of {}: {}, lines {}-{}, builder: {}",
            i + 1,
            builds.len(),
            b.format,
            b.lines.first,
            b.lines.last,
            b.builder.as_deref().unwrap_or("-")
        );
        if let Some(e) = &b.error {
            let _ = writeln!(out, "  error: {e}");
        }
        if b.truncated {
            let _ = writeln!(out, "  truncated");
        }
        for w in &b.warnings {
            let _ = writeln!(out, "  warning: {w}");
        }
        let _ = writeln!(out, "  steps:");
        for s in &b.steps {
            let time = s.duration.map_or("-".to_owned(), |d| format!("{d:.1}s"));
            let _ = writeln!(out, "    #{} {}", s.vertex, s.name());
            let _ = writeln!(out, "       {} {time}: {}", s.outcome, s.why);
            let e = &s.evidence;
            let results: Vec<String> = e.results.iter().map(Mark::to_string).collect();
            let _ = writeln!(
                out,
                "       evidence: results [{}], {} output lines, {} pulled, {} extracted, {} status lines{}",
                results.join(", "),
                e.output_lines,
                e.layers_pulled.len(),
                e.layers_extracted.len(),
                e.status_lines,
                s.digest.as_deref().map_or(String::new(), |d| format!(", digest {d}"))
            );
            if let Some(last) = e.output_tail.last() {
                let _ = writeln!(out, "       last output: {last}");
            }
        }
        let _ = writeln!(out, "  internal:");
        for v in &b.internal {
            let time = v.duration.map_or(String::new(), |d| format!(" {d:.1}s"));
            let err = v.error.as_deref().map_or(String::new(), |e| format!(": {e}"));
            let _ = writeln!(out, "    #{} {} -> {:?}{time}{err}", v.vertex, v.name, v.status);
        }
    }
    out
}

#[test]
fn progress_log() {
    insta::glob!("fixtures/logs/*.{log,rawjson}", |path| {
        let builds = parse_path(path).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
        redact(|| insta::assert_snapshot!(render(&builds)));
    });
}

/// The other formats and CI decorations (`fixtures/formats/`, sources in
/// its README): one snapshot per log.
#[test]
fn format_log() {
    insta::glob!("fixtures/formats/*.log", |path| {
        let builds = parse_path(path).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
        redact(|| insta::assert_snapshot!(render(&builds)));
    });
}

/// Each check of `fixtures/formats/expected.txt`: outcomes written from
/// evidence inside the logs (compiler output, `Using cache` lines).
#[test]
fn format_logs_match_the_labels_written_from_their_evidence() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats");
    let table = std::fs::read_to_string(dir.join("expected.txt")).unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for line in table.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split(" | ").map(str::trim).collect();
        let [fixture, build, needle, want, _evidence] = cols[..] else { panic!("bad line: {line}") };
        let builds = parse_path(&dir.join(fixture)).unwrap_or_else(|e| panic!("{fixture}: {e:#}"));
        let b = &builds[build.parse::<usize>().unwrap() - 1];
        let got = b.step(needle).map_or("(no such step)".to_owned(), |s| s.outcome.to_string());
        if got != want {
            failures.push(format!("{fixture} {needle}: want {want}, got {got}"));
        }
        checked += 1;
    }
    assert!(checked >= 40, "{checked} checks");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
