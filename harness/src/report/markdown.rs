//! Markdown for `$GITHUB_STEP_SUMMARY` and GitLab job pages: the matrix of
//! cell states, a legend, then the details of every cell worth a look
//! (failed, error, known bug gone).
//!
//! GitHub refuses a step summary over 1 MiB, so the output stays under
//! [`MARKDOWN_LIMIT`] whatever the matrix size: the table comes first, then
//! details while they fit, then a note saying how many were left out.

use std::fmt::Write as _;

use super::cell::{findings, CellState, FindingKind};
use super::matrix::{Column, Matrix};
use crate::runner::{RunReport, RunStatus};

/// Bytes the Markdown may take: GitHub's 1 MiB step-summary limit, less room
/// for the truncation note.
pub const MARKDOWN_LIMIT: usize = 1024 * 1024 - 4096;

/// Longest quoted log line; longer ones are cut.
const LINE_WIDTH: usize = 200;

/// Renders the Markdown summary, at most [`MARKDOWN_LIMIT`] bytes.
pub fn render_markdown(reports: &[RunReport]) -> String {
    render_markdown_within(reports, MARKDOWN_LIMIT)
}

/// Writes the Markdown summary to `out`.
pub fn write_markdown(reports: &[RunReport], mut out: impl std::io::Write) -> std::io::Result<()> {
    out.write_all(render_markdown(reports).as_bytes())
}

/// Renders within `limit` bytes (for tests and other hosts' limits).
pub fn render_markdown_within(reports: &[RunReport], limit: usize) -> String {
    let matrix = Matrix::new(reports);
    let mut out = String::from("## Build-cache matrix\n\n");
    out.push_str(&counts(&matrix));
    out.push_str(&legend());
    let rows = table(&matrix);
    let mut omitted_rows = 0;
    for (i, line) in rows.iter().enumerate() {
        // The header and separator always fit; rows are cut only for
        // matrices far past any real size.
        if i > 1 && out.len() + line.len() + NOTE_ROOM > limit {
            omitted_rows = rows.len() - i;
            break;
        }
        out.push_str(line);
    }
    if omitted_rows > 0 {
        let _ = writeln!(out, "\n_{omitted_rows} more scenario row(s) left out to stay under the size limit._");
        return out;
    }

    let details: Vec<String> = matrix.cells().filter_map(details).collect();
    if details.is_empty() {
        return out;
    }
    out.push_str("\n### Details\n");
    for (i, block) in details.iter().enumerate() {
        if out.len() + block.len() + NOTE_ROOM > limit {
            let _ = writeln!(
                out,
                "\n_{} more cell(s) with details left out to stay under the size limit; \
                 the JUnit, HTML and JSON reports have them all._",
                details.len() - i
            );
            break;
        }
        out.push_str(block);
    }
    out
}

/// Room kept for a truncation note.
const NOTE_ROOM: usize = 256;

fn counts(matrix: &Matrix<'_>) -> String {
    let mut parts = Vec::new();
    for state in CellState::ALL {
        let n = matrix.cells().filter(|c| CellState::of(c) == state).count();
        if n > 0 {
            parts.push(format!("{n} {}", state.label()));
        }
    }
    let total = matrix.cells().count();
    format!(
        "{total} cell(s) ({} scenario(s) × {} engine(s){}): {}.\n\n",
        matrix.scenarios.len(),
        matrix.engine_count(),
        matrix.stores_note(),
        parts.join(", ")
    )
}

fn legend() -> String {
    let items: Vec<String> =
        CellState::ALL.iter().map(|s| format!("{} **{}**: {}", s.symbol(), s.label(), s.meaning())).collect();
    format!("<sub>{}</sub>\n\n", items.join(" · "))
}

fn table(matrix: &Matrix<'_>) -> Vec<String> {
    let mut lines = Vec::with_capacity(matrix.scenarios.len() + 2);
    let header: Vec<String> = matrix.columns.iter().map(|c| escape(&c.label())).collect();
    lines.push(format!("| scenario | {} |\n", header.join(" | ")));
    lines.push(format!("|---|{}\n", "---|".repeat(matrix.columns.len())));
    for scenario in &matrix.scenarios {
        let cells: Vec<String> = matrix
            .columns
            .iter()
            .map(|column| match matrix.cell(scenario, column) {
                None => "·".to_owned(),
                Some(cell) => {
                    let state = CellState::of(cell);
                    let text = format!("{} {}", state.symbol(), state.label());
                    if matches!(state, CellState::Failed | CellState::Error | CellState::BugGone) {
                        format!("**{text}**")
                    } else {
                        text
                    }
                }
            })
            .collect();
        lines.push(format!("| `{}` | {} |\n", escape(scenario), cells.join(" | ")));
    }
    lines
}

/// The details block of a cell that needs a look, `None` for the others.
fn details(cell: &RunReport) -> Option<String> {
    let state = CellState::of(cell);
    if !matches!(state, CellState::Failed | CellState::Error | CellState::BugGone) {
        return None;
    }
    let mut out = format!(
        "\n#### {} `{}` on {}: {}\n\n",
        state.symbol(),
        escape(&cell.scenario),
        escape(&Column::of(cell).label()),
        state.label()
    );
    if let RunStatus::Error { message, .. } | RunStatus::Interrupted { message } = &cell.status {
        let _ = writeln!(out, "{}\n", escape(&one_line(message)));
    }
    for finding in findings(cell) {
        let head = escape(&one_line(&finding.headline()));
        match &finding.kind {
            FindingKind::Failed => {
                let _ = writeln!(out, "- ✗ {head}");
            }
            FindingKind::KnownBug(link) => {
                let _ = writeln!(out, "- ! {head} (known bug {link})");
            }
            FindingKind::BugGone(link) => {
                let _ = writeln!(out, "- ↑ **{link} no longer reproduces**: {head}");
            }
        }
        if finding.kind == FindingKind::Failed && !finding.excerpt.is_empty() {
            out.push_str("  ```text\n");
            for line in &finding.excerpt {
                let _ = writeln!(out, "  {}", cut(&line.replace("```", "'''"), LINE_WIDTH));
            }
            out.push_str("  ```\n");
        }
    }
    Some(out)
}

/// Escapes what Markdown tables and inline text would interpret.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

fn one_line(text: &str) -> String {
    cut(&text.split_whitespace().collect::<Vec<_>>().join(" "), 4 * LINE_WIDTH)
}

fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(width - 1).collect();
        cut.push('…');
        cut
    }
}
