//! One static HTML file: the engines × scenarios matrix at a glance, and for
//! any cell clicked, its job × step grid with the reason for every outcome,
//! durations and versions.
//!
//! Everything is inline (CSS, a few lines of script): the file opens from
//! disk or a CI artifact with no server and no network. Every state is shown
//! as a symbol and words as well as a colour. Without script, every cell's
//! details are shown one after the other.

use std::fmt::Write as _;

use super::cell::{findings, CellState, FindingKind};
use super::matrix::{Column, Matrix};
use crate::evidence::LayerCompare;
use crate::runner::{JobReport, RunReport, StepReport};
use crate::scenario::{Status, Verdict};

const STYLE: &str = include_str!("html.css");
const SCRIPT: &str = include_str!("html.js");

/// Renders the whole HTML page.
pub fn render_html(reports: &[RunReport]) -> String {
    let matrix = Matrix::new(reports);
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>Build-cache matrix</title>\n<style>\n");
    out.push_str(STYLE);
    out.push_str("</style>\n<noscript><style>.detail[hidden]{display:block}</style></noscript>\n</head>\n<body>\n");
    out.push_str("<h1>Build-cache matrix</h1>\n");
    summary(&mut out, &matrix);
    legend(&mut out);
    table(&mut out, &matrix);
    out.push_str("<p class=\"hint\">Click a cell to see its job × step grid.</p>\n");
    for (i, cell) in matrix.cells().enumerate() {
        detail(&mut out, i, cell);
    }
    out.push_str("<script>\n");
    out.push_str(SCRIPT);
    out.push_str("</script>\n</body>\n</html>\n");
    out
}

/// Writes the HTML page to `out`.
pub fn write_html(reports: &[RunReport], mut out: impl std::io::Write) -> std::io::Result<()> {
    out.write_all(render_html(reports).as_bytes())
}

fn summary(out: &mut String, matrix: &Matrix<'_>) {
    let mut parts = Vec::new();
    for state in CellState::ALL {
        let n = matrix.cells().filter(|c| CellState::of(c) == state).count();
        if n > 0 {
            parts.push(format!("{n} {}", state.label()));
        }
    }
    let _ = writeln!(
        out,
        "<p class=\"summary\">{} cells: {} scenarios × {} engines{}. {}.</p>",
        matrix.cells().count(),
        matrix.scenarios.len(),
        matrix.engine_count(),
        matrix.stores_note(),
        esc(&parts.join(", "))
    );
}

fn legend(out: &mut String) {
    out.push_str("<ul class=\"legend\">\n");
    for state in CellState::ALL {
        let _ = writeln!(out, "<li>{} {}</li>", badge(state), esc(state.meaning()));
    }
    out.push_str("</ul>\n");
}

fn badge(state: CellState) -> String {
    format!("<span class=\"state s-{}\">{} {}</span>", state.slug(), state.symbol(), state.label())
}

fn table(out: &mut String, matrix: &Matrix<'_>) {
    out.push_str("<table class=\"matrix\">\n<thead><tr><th scope=\"col\">scenario \\ engine</th>");
    for column in &matrix.columns {
        let _ = write!(out, "<th scope=\"col\">{}</th>", esc(&column.label()));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    let index = |report: &RunReport| matrix.cells().position(|c| std::ptr::eq(c, report));
    for scenario in &matrix.scenarios {
        let _ = write!(out, "<tr><th scope=\"row\">{}</th>", esc(scenario));
        for column in &matrix.columns {
            match matrix.cell(scenario, column) {
                None => out.push_str("<td class=\"none\">not run</td>"),
                Some(cell) => {
                    let state = CellState::of(cell);
                    let id = index(cell).unwrap_or_default();
                    let _ = write!(
                        out,
                        "<td><button type=\"button\" class=\"cell s-{slug}\" data-cell=\"cell-{id}\" \
                         data-state=\"{slug}\" aria-controls=\"cell-{id}\" title=\"{title}\">{sym} {label}\
                         <small>{secs}</small></button></td>",
                        slug = state.slug(),
                        title = esc(&format!("{} on {}: {}", cell.scenario, Column::of(cell).label(), state.meaning())),
                        sym = state.symbol(),
                        label = state.label(),
                        secs = esc(&minutes(cell.duration_secs)),
                    );
                }
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

fn detail(out: &mut String, id: usize, cell: &RunReport) {
    let state = CellState::of(cell);
    let _ = writeln!(out, "<section class=\"detail\" id=\"cell-{id}\" data-state=\"{}\" hidden>", state.slug());
    let _ = writeln!(out, "<h2>{} {} on {}</h2>", badge(state), esc(&cell.scenario), esc(&Column::of(cell).label()));
    let _ = writeln!(out, "<p class=\"desc\">{}</p>", esc(&cell.description));
    out.push_str("<dl>");
    // The one wording of a run status (`RunStatus`'s Display).
    let status = cell.status.to_string();
    for (key, value) in [
        ("status", status),
        ("duration", minutes(cell.duration_secs)),
        ("images", format!("{}, {} ({})", mode_name(cell), cell.images.dind, cell.images_reason)),
        ("output", cell.out_dir.display().to_string()),
    ] {
        let _ = write!(out, "<dt>{key}</dt><dd>{}</dd>", esc(&value));
    }
    for link in &cell.links {
        let _ = write!(out, "<dt>link</dt><dd><a href=\"{0}\">{0}</a></dd>", esc(link));
    }
    out.push_str("</dl>\n");
    finding_list(out, cell);
    if !cell.jobs.is_empty() {
        versions(out, &cell.jobs);
        grid(out, &cell.jobs);
    }
    out.push_str("</section>\n");
}

fn finding_list(out: &mut String, cell: &RunReport) {
    let found = findings(cell);
    if found.is_empty() {
        return;
    }
    out.push_str("<ul class=\"findings\">\n");
    for f in &found {
        let (class, lead) = match &f.kind {
            FindingKind::Failed => ("failed", "✗ failed".to_owned()),
            FindingKind::KnownBug(link) => ("known-bug", format!("! known bug {link}")),
            FindingKind::BugGone(link) => ("bug-gone", format!("↑ {link} no longer reproduces")),
        };
        let _ = write!(out, "<li class=\"s-{class}\"><b>{}</b>: {}", esc(&lead), esc(&f.headline()));
        if !f.excerpt.is_empty() {
            let _ = write!(out, "<pre>{}</pre>", esc(&f.excerpt.join("\n")));
        }
        if let Some(log) = &f.log {
            let _ = write!(out, "<div class=\"log\">log: {}</div>", esc(log));
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ul>\n");
}

fn versions(out: &mut String, jobs: &[JobReport]) {
    out.push_str("<table class=\"versions\"><caption>Jobs and versions</caption>\n<thead><tr>");
    for h in ["job", "daemon", "ready", "duration", "engine", "API", "buildx", "BuildKit", "containerd", "storage"] {
        let _ = write!(out, "<th scope=\"col\">{h}</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for job in jobs {
        let v = job.versions.as_ref();
        let field = |get: fn(&crate::engine::EngineVersions) -> Option<&str>| v.and_then(get).unwrap_or("–").to_owned();
        let store = v.map(|v| if v.containerd_store { " (containerd store)" } else { "" }).unwrap_or("");
        let cells = [
            format!("{} {}", job.number, job.name),
            format!("{:?}", job.daemon).to_lowercase(),
            job.daemon_ready_secs.map_or("–".into(), |s| format!("{s:.1} s")),
            format!("{:.1} s", job.duration_secs),
            field(|v| Some(v.engine.as_str())),
            field(|v| Some(v.api.as_str())),
            field(|v| v.buildx.as_deref()),
            field(|v| v.buildkit.as_deref()),
            field(|v| v.containerd.as_deref()),
            format!("{}{store}", field(|v| Some(v.storage_driver.as_str()))),
        ];
        out.push_str("<tr>");
        for c in cells {
            let _ = write!(out, "<td>{}</td>", esc(&c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

/// The job × step grid: one row per step of every build (first-seen order),
/// one column per job; each cell the observed outcome, its reason, its
/// duration and the expectation's verdict.
fn grid(out: &mut String, jobs: &[JobReport]) {
    out.push_str("<table class=\"grid\"><caption>Job × step: observed outcome, why, and the expectation</caption>\n");
    out.push_str("<thead><tr><th scope=\"col\">step</th>");
    for job in jobs {
        let _ = write!(out, "<th scope=\"col\">job {}</th>", job.number);
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (build, step) in row_keys(jobs) {
        let _ = write!(out, "<tr><th scope=\"row\"><span class=\"build\">{}</span> {}</th>", esc(&build), esc(&step));
        for job in jobs {
            step_cell(out, job, &build, &step);
        }
        out.push_str("</tr>\n");
    }
    for image in run_images(jobs) {
        let _ = write!(out, "<tr><th scope=\"row\"><span class=\"build\">run</span> {}</th>", esc(&image));
        for job in jobs {
            match job.runs.iter().find(|r| r.image == image) {
                None => out.push_str("<td></td>"),
                Some(run) => {
                    let outcome = if run.failures.is_empty() { "ok" } else { "wrong output" };
                    let why = if run.failures.is_empty() { run.expected.join("; ") } else { run.failures.join("; ") };
                    let _ = write!(
                        out,
                        "<td class=\"{}\"><b>{outcome}</b>{}<small>{}</small></td>",
                        verdict_class(&run.status),
                        verdict_mark(&run.status),
                        esc(&why)
                    );
                }
            }
        }
        out.push_str("</tr>\n");
    }
    if jobs.iter().any(|j| j.error.is_some()) {
        out.push_str("<tr><th scope=\"row\">stopped early</th>");
        for job in jobs {
            let _ = write!(out, "<td class=\"v-fail\">{}</td>", esc(job.error.as_deref().unwrap_or("")));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

fn step_cell(out: &mut String, job: &JobReport, build: &str, step: &str) {
    let seen = find_step(job, build, step);
    let verdict = job.verdicts.iter().find(|v| v.build == build && v.matched.as_deref().unwrap_or(&v.step) == step);
    if seen.is_none() && verdict.is_none() {
        out.push_str("<td class=\"none\"></td>");
        return;
    }
    let outcome = verdict.and_then(|v| v.observed).or(seen.map(|s| s.observed));
    let outcome = outcome.map_or("absent".to_owned(), |o| o.to_string());
    let same = seen.is_some_and(|s| s.layer_vs_previous == Some(LayerCompare::Same));
    let class = verdict.map_or("", |v| verdict_class(&v.status));
    let _ = write!(out, "<td class=\"{class}\"><b>{}</b>", esc(&outcome));
    if same {
        out.push_str("<span class=\"same\" title=\"same layer as the previous job\">=</span>");
    }
    if let Some(v) = verdict {
        let _ = write!(
            out,
            "{} <span class=\"exp\">expected {}</span>",
            verdict_mark(&v.status),
            esc(&v.expected.to_string())
        );
    }
    let mut why: Vec<String> = seen.map(|s| s.step.why.clone()).into_iter().collect();
    why.extend(seen.and_then(|s| s.note.clone()));
    if let Some(v) = verdict {
        why.extend(verdict_reason(v));
        why.extend(v.notes.iter().cloned());
    }
    let _ = write!(out, "<small>{}</small>", esc(&why.join("; ")));
    if let Some(d) = seen.and_then(|s| s.step.duration) {
        let _ = write!(out, "<i>{d:.1} s</i>");
    }
    out.push_str("</td>");
}

fn verdict_reason(v: &Verdict) -> Option<String> {
    match &v.status {
        Status::Pass => None,
        Status::Fail => Some(format!("expected {}", v.expected)),
        Status::KnownBug { link } => Some(format!("known bug {link}")),
        Status::NoLongerReproduces { link } => Some(format!("{link} no longer reproduces")),
        Status::Unsupported { reason } => Some(format!("not checked: {reason}")),
    }
}

fn verdict_class(status: &Status) -> &'static str {
    match status {
        Status::Pass => "v-pass",
        Status::Fail => "v-fail",
        Status::KnownBug { .. } => "v-known-bug",
        Status::NoLongerReproduces { .. } => "v-bug-gone",
        Status::Unsupported { .. } => "v-unsupported",
    }
}

fn verdict_mark(status: &Status) -> &'static str {
    match status {
        Status::Pass => " <span class=\"mark\" title=\"as expected\">✓</span>",
        Status::Fail => " <span class=\"mark\" title=\"not as expected\">✗</span>",
        Status::KnownBug { .. } => " <span class=\"mark\" title=\"known upstream bug reproduced\">!</span>",
        Status::NoLongerReproduces { .. } => " <span class=\"mark\" title=\"known bug no longer reproduces\">↑</span>",
        Status::Unsupported { .. } => " <span class=\"mark\" title=\"not checked here\">–</span>",
    }
}

fn find_step<'a>(job: &'a JobReport, build: &str, step: &str) -> Option<&'a StepReport> {
    job.commands
        .iter()
        .filter_map(|c| c.build.as_ref())
        .filter(|b| b.id == build)
        .flat_map(|b| &b.steps)
        .find(|s| s.step.name() == step)
}

/// (build id, step name) of every step seen or expected, in first-seen order.
fn row_keys(jobs: &[JobReport]) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut push = |key: (String, String)| {
        if !rows.contains(&key) {
            rows.push(key);
        }
    };
    for job in jobs {
        for build in job.commands.iter().filter_map(|c| c.build.as_ref()) {
            for step in &build.steps {
                push((build.id.clone(), step.step.name()));
            }
        }
        for v in &job.verdicts {
            push((v.build.clone(), v.matched.clone().unwrap_or_else(|| v.step.clone())));
        }
    }
    rows
}

fn run_images(jobs: &[JobReport]) -> Vec<String> {
    let mut images: Vec<String> = Vec::new();
    for run in jobs.iter().flat_map(|j| &j.runs) {
        if !images.contains(&run.image) {
            images.push(run.image.clone());
        }
    }
    images
}

fn mode_name(cell: &RunReport) -> &'static str {
    match cell.images.mode {
        crate::catalogue::ResolvedMode::Official => "official images",
        crate::catalogue::ResolvedMode::Local => "offline stand-ins",
    }
}

fn minutes(secs: f64) -> String {
    if secs >= 90.0 {
        format!("{:.1} min", secs / 60.0)
    } else {
        format!("{secs:.0} s")
    }
}

/// Escapes text for HTML content and double-quoted attributes.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(esc(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }
}
