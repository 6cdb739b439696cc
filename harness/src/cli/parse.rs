//! `harness parse LOG...`: reads build logs (BuildKit plain, rawjson and
//! tty progress, the legacy builder, Buildah/Podman, Kaniko; a file, or `-`
//! for stdin; `--format` forces one) and prints, per build, each Dockerfile step's outcome and time;
//! `--explain` adds the evidence behind each outcome, `--json` prints the
//! model for machines, and several logs in a row give a step-by-job grid.
//! Exit codes: 0 when every log parsed, 2 for a log that is not progress.

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Serialize;

use super::exit::{CliError, CliResult, Exit};
use crate::progress::{self, Build, Format, VertexStatus};
use crate::report::table::table;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Build logs: `docker build` with `--progress=plain`, `rawjson` or
    /// `tty`, the legacy builder, Buildah/Podman or Kaniko, CI decorations
    /// and all (`-` reads stdin). Several logs also print a step-by-job grid.
    #[arg(value_name = "LOG", required = true)]
    pub logs: Vec<PathBuf>,
    /// Print JSON (one entry per log, each with its builds) instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Add a column saying why each step got its outcome.
    #[arg(long)]
    pub explain: bool,
    /// Also list BuildKit's own vertices (`[internal]`, cache import, export).
    #[arg(long)]
    pub internal: bool,
    /// The log format: `auto` detects it line by line (a log may hold
    /// builds of several formats); the others read every line as that one.
    #[arg(long, value_name = "FORMAT", default_value = "auto", value_parser = parse_format)]
    pub format: FormatChoice,
}

/// `--format`: detect, or one format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatChoice(pub Option<Format>);

fn parse_format(s: &str) -> Result<FormatChoice, String> {
    if s == "auto" {
        return Ok(FormatChoice(None));
    }
    s.parse::<Format>().map(|f| FormatChoice(Some(f))).map_err(|e| e.to_string())
}

/// One log and what was read from it.
#[derive(Debug, Serialize)]
struct Parsed {
    log: String,
    builds: Vec<Build>,
}

pub fn run(args: Args) -> CliResult {
    let stdin_count = args.logs.iter().filter(|p| is_stdin(p)).count();
    if stdin_count > 1 {
        return Err(CliError::bad_input(anyhow::anyhow!("`-` (stdin) can be given only once")));
    }
    let mut parsed = Vec::with_capacity(args.logs.len());
    for path in &args.logs {
        let builds = if is_stdin(path) {
            progress::parse_reader_as(io::stdin().lock(), "<stdin>", args.format.0)
        } else {
            progress::parse_path_as(path, args.format.0)
        }
        .map_err(CliError::bad_input)?;
        parsed.push(Parsed { log: label_of(path), builds });
    }
    let text = if args.json {
        let mut s = serde_json::to_string_pretty(&parsed)
            .context("cannot encode the builds as JSON")
            .map_err(CliError::infrastructure)?;
        s.push('\n');
        s
    } else {
        render(&parsed, &args)
    };
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // A closed pipe (`harness parse x | head`) is not a failure.
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(CliError::infrastructure(anyhow::Error::new(e).context("cannot write to stdout")))
        }
        _ => Ok(Exit::Pass),
    }
}

fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

fn label_of(path: &Path) -> String {
    if is_stdin(path) {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    }
}

/// Tables for one log; for several logs, the grid (after the tables when
/// `--explain` or `--internal` asks for detail).
fn render(parsed: &[Parsed], args: &Args) -> String {
    let mut out = String::new();
    let grid = parsed.len() > 1;
    if !grid || args.explain || args.internal {
        for p in parsed {
            let n = p.builds.len();
            for (i, build) in p.builds.iter().enumerate() {
                let which = if n > 1 { format!(" build {} of {n}", i + 1) } else { String::new() };
                render_build(&mut out, &format!("{}{which}", p.log), build, args);
            }
        }
    }
    if grid {
        render_grid(&mut out, parsed);
    }
    out
}

fn render_build(out: &mut String, title: &str, build: &Build, args: &Args) {
    let status = match (&build.error, build.truncated) {
        (Some(_), _) => "failed",
        (None, true) => "cut off",
        (None, false) => "ok",
    };
    let _ = writeln!(out, "{title}: {status} ({} progress, {} steps)", build.format, build.steps.len());
    let mut rows = vec![header(args.explain, &["STEP", "OUTCOME", "TIME", "WHY"])];
    for s in &build.steps {
        let mut row = vec![shorten_digests(&s.name()), s.outcome.to_string(), seconds(s.duration)];
        if args.explain {
            row.push(s.why.clone());
        }
        rows.push(row);
    }
    table(out, "", &rows);
    if args.internal && !build.internal.is_empty() {
        let mut rows = vec![vec!["BUILDKIT VERTEX".to_owned(), "STATUS".to_owned(), "TIME".to_owned()]];
        for v in &build.internal {
            rows.push(vec![shorten_digests(&v.name), status_name(v.status).to_owned(), seconds(v.duration)]);
        }
        table(out, "", &rows);
    }
    for v in build.internal.iter().filter(|v| v.status == VertexStatus::Error) {
        let _ = writeln!(out, "note: {} failed: {}", v.name, v.error.as_deref().unwrap_or(""));
    }
    for w in &build.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    if let Some(e) = &build.error {
        let _ = writeln!(out, "error: {e}");
    }
    if build.truncated {
        let _ = writeln!(out, "note: the log ends while a vertex was still running (truncated)");
    }
    out.push('\n');
}

fn header(explain: bool, names: &[&str]) -> Vec<String> {
    let n = if explain { names.len() } else { names.len() - 1 };
    names[..n].iter().map(|s| (*s).to_owned()).collect()
}

fn status_name(s: VertexStatus) -> &'static str {
    match s {
        VertexStatus::Done => "done",
        VertexStatus::Cached => "cached",
        VertexStatus::Error => "error",
        VertexStatus::Canceled => "canceled",
        VertexStatus::Unfinished => "unfinished",
    }
}

fn seconds(d: Option<f64>) -> String {
    d.map_or_else(|| "-".to_owned(), |s| format!("{s:.1}s"))
}

/// `sha256:<64 hex>` to `sha256:<12 hex>`, for narrower tables.
fn shorten_digests(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("sha256:") {
        let (head, tail) = rest.split_at(i + 7);
        out.push_str(head);
        let hex = tail.bytes().take_while(u8::is_ascii_hexdigit).count();
        if hex == 64 {
            out.push_str(&tail[..12]);
            rest = &tail[64..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// Rows are steps (in the order first seen), columns are builds.
fn render_grid(out: &mut String, parsed: &[Parsed]) {
    let labels = short_labels(&parsed.iter().map(|p| p.log.as_str()).collect::<Vec<_>>());
    let mut columns: Vec<(String, &Build)> = Vec::new();
    for (p, label) in parsed.iter().zip(&labels) {
        let n = p.builds.len();
        for (i, b) in p.builds.iter().enumerate() {
            let name = if n > 1 { format!("{label}#{}", i + 1) } else { label.clone() };
            columns.push((name, b));
        }
    }
    let mut keys: Vec<String> = Vec::new();
    for (_, b) in &columns {
        for s in &b.steps {
            let k = s.key();
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    let mut rows =
        vec![std::iter::once("STEP".to_owned()).chain(columns.iter().map(|(n, _)| n.clone())).collect::<Vec<_>>()];
    for k in &keys {
        let mut row = vec![shorten_digests(k)];
        for (_, b) in &columns {
            let cell = b.steps.iter().find(|s| &s.key() == k).map_or("-".to_owned(), |s| s.outcome.to_string());
            row.push(cell);
        }
        rows.push(row);
    }
    table(out, "", &rows);
    if labels.iter().zip(parsed).any(|(l, p)| *l != p.log) {
        for (l, p) in labels.iter().zip(parsed) {
            let _ = writeln!(out, "{l} = {}", p.log);
        }
    }
}

/// Column labels: file names with their shared prefix and suffix cut at a
/// separator (`docker26.1-inline-job3-builder.log` among its siblings
/// becomes `job3`).
fn short_labels(logs: &[&str]) -> Vec<String> {
    let names: Vec<&str> =
        logs.iter().map(|l| Path::new(l).file_name().and_then(|n| n.to_str()).unwrap_or(l)).collect();
    if names.len() < 2 {
        return names.iter().map(|s| (*s).to_owned()).collect();
    }
    let is_sep = |c: char| matches!(c, '-' | '_' | '.' | ' ');
    let first = names[0];
    let common = |a: &mut dyn Iterator<Item = (char, char)>| -> usize {
        a.take_while(|(x, y)| x == y).map(|(x, _)| x.len_utf8()).sum()
    };
    let mut prefix = first.len();
    let mut suffix = first.len();
    for n in &names[1..] {
        prefix = prefix.min(common(&mut first.chars().zip(n.chars())));
        suffix = suffix.min(common(&mut first.chars().rev().zip(n.chars().rev())));
    }
    // Back off to separators so labels keep whole words.
    let prefix = first[..prefix].rfind(is_sep).map_or(0, |i| i + 1);
    let suffix = first[first.len() - suffix..].find(is_sep).map_or(0, |i| suffix - i);
    let labels: Vec<String> = names
        .iter()
        .map(|n| {
            let end = n.len().saturating_sub(suffix);
            n.get(prefix..end).filter(|s| !s.is_empty()).unwrap_or(n).to_owned()
        })
        .collect();
    let mut unique = labels.clone();
    unique.sort();
    unique.dedup();
    if unique.len() == labels.len() {
        labels
    } else {
        logs.iter().map(|s| (*s).to_owned()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_keep_what_differs() {
        let logs = [
            "logs/docker26.1-inline-job1-builder.log",
            "logs/docker26.1-inline-job2-builder.log",
            "logs/docker26.1-inline-job10-builder.log",
        ];
        assert_eq!(short_labels(&logs), ["job1", "job2", "job10"]);
        assert_eq!(short_labels(&["a.log", "b.log"]), ["a", "b"]);
        assert_eq!(short_labels(&["x/a.log", "y/a.log"]), ["x/a.log", "y/a.log"]);
        assert_eq!(short_labels(&["one.log"]), ["one.log"]);
        assert_eq!(short_labels(&["é1.log", "è1.log"]), ["é1", "è1"]);
    }

    #[test]
    fn digests_are_shortened() {
        let d = "a".repeat(64);
        assert_eq!(shorten_digests(&format!("FROM x@sha256:{d} y")), "FROM x@sha256:aaaaaaaaaaaa y");
        assert_eq!(shorten_digests("sha256:short"), "sha256:short");
    }
}
