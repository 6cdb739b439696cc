//! The text report: a person's summary of a [`Diagnosis`], most important
//! finding first, each with its evidence, why, fix and links.

use std::fmt::Write as _;

use super::model::{Diagnosis, Finding, Severity};

/// Width the prose is wrapped to.
const WIDTH: usize = 100;

/// Renders the diagnosis as text.
pub fn text(d: &Diagnosis) -> String {
    let mut out = String::new();
    let builds: usize = d.targets.iter().map(|t| t.builds.len()).sum();
    let targets: Vec<String> = d.targets.iter().map(|t| format!("{} ({} builds)", t.name, t.builds.len())).collect();
    let _ = writeln!(out, "{builds} builds in {} logs; targets: {}", d.logs.len(), targets.join(", "));
    if let Some(df) = &d.dockerfile {
        let _ = writeln!(out, "Dockerfile: {df}");
    }
    let problems = d.findings.iter().filter(|f| f.severity == Severity::Problem).count();
    let _ = writeln!(
        out,
        "{} findings: {problems} problem(s), {} notice(s), {} expected\n",
        d.findings.len(),
        d.findings.iter().filter(|f| f.severity == Severity::Notice).count(),
        d.findings.iter().filter(|f| f.severity == Severity::Expected).count(),
    );
    for f in &d.findings {
        finding(&mut out, f);
    }
    if d.findings.is_empty() {
        out.push_str("No step missed in a way the logs can explain or question.\n\n");
    }
    if !d.notes.is_empty() {
        out.push_str("Notes:\n");
        for n in &d.notes {
            wrap(&mut out, "  - ", "    ", n);
        }
    }
    out
}

fn finding(out: &mut String, f: &Finding) {
    let _ = writeln!(out, "{}: {} [{}]", f.severity.as_str().to_ascii_uppercase(), f.title, f.pattern);
    match (&f.target, &f.step) {
        (Some(t), Some(s)) => {
            let _ = writeln!(out, "  target {t}, step {s}");
        }
        (Some(t), None) => {
            let _ = writeln!(out, "  target {t}");
        }
        _ => {}
    }
    wrap(out, "  ", "  ", &f.summary);
    if !f.evidence.is_empty() {
        out.push_str("  evidence:\n");
        for c in &f.evidence {
            let _ = write!(out, "    {}:{}  {}", c.file, c.line, c.text);
            if let Some(n) = &c.note {
                let _ = write!(out, "  <- {n}");
            }
            out.push('\n');
        }
    }
    wrap(out, "  why: ", "       ", &f.explanation);
    wrap(out, "  fix: ", "       ", &f.fix);
    if !f.links.is_empty() {
        let _ = writeln!(out, "  see: {}", f.links.join("\n       "));
    }
    out.push('\n');
}

/// Appends `text` wrapped at [`WIDTH`], the first line after `first`, the
/// others after `rest`.
fn wrap(out: &mut String, first: &str, rest: &str, text: &str) {
    let mut line = first.to_owned();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > WIDTH {
            out.push_str(&line);
            out.push('\n');
            line = rest.to_owned();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(&line);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_words_and_indents() {
        let mut out = String::new();
        wrap(&mut out, "  why: ", "       ", &"word ".repeat(40));
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.chars().count() <= WIDTH));
        assert!(lines[1].starts_with("       word"));
    }
}
