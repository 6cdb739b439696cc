//! The dependency lines of a step's process output (`Compiling tokio
//! v1.35.1`, `Collecting requests==2.31`, `added 12 packages`), so two runs
//! of an install step can be compared: new lines mean the dependencies
//! really changed; the same lines mean the step ran again for nothing.
//! Reads the log text of the step's vertex; rawjson output is base64 and
//! is not compared.

use crate::progress::{Format, Step};

use super::input::{strip_ansi, LogInput};

/// Line starts that name a dependency being fetched, built or installed.
const MARKERS: [&str; 12] = [
    "compiling ",
    "downloaded ",
    "installing ",
    "collecting ",
    "successfully installed ",
    "added ",
    "go: downloading ",
    "fetching ",
    "get:",
    "setting up ",
    "unpacking ",
    "resolving dependencies",
];

/// One dependency line: where it is and its text without timings or paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DepLine {
    pub line: u64,
    pub text: String,
}

/// The dependency lines of `step`, or `None` when its output cannot be
/// read from the text (rawjson, or no output at all).
pub(crate) fn dependency_lines(log: &LogInput, format: Format, step: &Step) -> Option<Vec<DepLine>> {
    if format != Format::Plain || step.evidence.output_lines == 0 {
        return None;
    }
    let tag = format!("#{} ", step.vertex);
    let mut out = Vec::new();
    for (n, raw) in log.range(step.evidence.lines.first, step.evidence.lines.last) {
        let line = strip_ansi(raw);
        let Some(at) = line.find(&tag) else { continue };
        let text = skip_timestamp(&line[at + tag.len()..]);
        if let Some(dep) = dependency(text) {
            out.push(DepLine { line: n, text: dep });
        }
    }
    Some(out)
}

/// Drops plain progress's `0.123 ` seconds column.
fn skip_timestamp(text: &str) -> &str {
    match text.split_once(' ') {
        Some((first, rest)) if first.parse::<f64>().is_ok() => rest,
        _ => text,
    }
}

/// The normalised dependency named by `text`, if it names one.
fn dependency(text: &str) -> Option<String> {
    let trimmed = text.trim();
    let lower = trimmed.to_ascii_lowercase();
    if !MARKERS.iter().any(|m| lower.starts_with(m)) {
        return None;
    }
    // Paths and timings change from run to run: `(/app)`, `in 21.49s`.
    let cut = trimmed.find(" (").unwrap_or(trimmed.len());
    let words: Vec<&str> = trimmed[..cut].split_whitespace().take(4).collect();
    Some(words.join(" "))
}

/// Lines of `now` whose text is not in `before`, and texts of `before`
/// missing from `now`.
pub(crate) fn diff<'a>(before: &[DepLine], now: &'a [DepLine]) -> (Vec<&'a DepLine>, Vec<String>) {
    let added = now.iter().filter(|d| !before.iter().any(|b| b.text == d.text)).collect();
    let removed = before.iter().filter(|b| !now.iter().any(|d| d.text == b.text)).map(|b| b.text.clone()).collect();
    (added, removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_lines_lose_paths_and_timings() {
        assert_eq!(
            dependency("   Compiling hello-world v0.0.1 (/app)").as_deref(),
            Some("Compiling hello-world v0.0.1")
        );
        assert_eq!(dependency("  Downloaded tokio v1.54.1").as_deref(), Some("Downloaded tokio v1.54.1"));
        assert_eq!(dependency("    Finished `release` profile"), None);
        assert_eq!(skip_timestamp("21.54    Compiling x"), "   Compiling x");
    }

    #[test]
    fn the_same_dependencies_built_twice_differ_in_nothing() {
        let log = "#1 [b 1/1] RUN cook\n#1 0.1  Compiling tokio v1.0.0\n#1 0.2  Compiling itoa v1.0.11\n#1 DONE 1.0s\n";
        let input = LogInput::from_bytes("x", log.as_bytes()).unwrap();
        let step = &input.builds[0].steps[0];
        let deps = dependency_lines(&input, input.builds[0].format, step).unwrap();
        assert_eq!(deps.len(), 2);
        assert_eq!(deps[1].line, 3);
        let (added, removed) = diff(&deps[..1], &deps);
        assert_eq!(added.iter().map(|d| d.text.as_str()).collect::<Vec<_>>(), ["Compiling itoa v1.0.11"]);
        assert!(removed.is_empty());
    }
}
