//! Findings about moving the cache in and out of a build: a `--cache-from`
//! that is missing or failed to import, and a cache export the docker
//! driver refused. These come from status lines, not from steps.

use super::cite;
use super::facts::says_why;
use super::input::LogInput;
use super::misses::Run;
use super::model::{Citation, Finding, Pattern, Severity};

/// Import and export findings of one target's runs.
pub(crate) fn findings(target: &str, runs: &[Run], out: &mut Vec<Finding>) {
    imports(target, runs, out);
    export(target, runs, out);
}

fn imports(target: &str, runs: &[Run], out: &mut Vec<Finding>) {
    for missing in [true, false] {
        let failed: Vec<(usize, &Run, &super::facts::Import)> = runs
            .iter()
            .enumerate()
            .flat_map(|(k, run)| run.facts.imports.iter().map(move |i| (k, run, i)))
            .filter(|(_, _, i)| i.error.is_some() && i.missing() == missing)
            .collect();
        if failed.is_empty() {
            continue;
        }
        let evidence = failed
            .iter()
            .filter_map(|(_, run, i)| {
                let error = i.error.clone().unwrap_or_default();
                let l = i.line?;
                let shown = run.log.quote(l).contains(&error);
                Some(cite::line(run, l, if shown { format!("cache import of {} failed", i.source) } else { error }))
            })
            .collect();
        let only_first = failed.iter().all(|(k, _, _)| *k == 0);
        let sources: Vec<&str> = dedup(failed.iter().map(|(_, _, i)| i.source.as_str()));
        let runs_named: Vec<String> = dedup(failed.iter().map(|(_, run, _)| cite::run_name(run))).into_iter().collect();
        let (pattern, what) = if missing {
            (Pattern::CacheFromMissing, "was not found")
        } else {
            (Pattern::CacheImportFailed, "failed to import")
        };
        let mut summary = format!(
            "`--cache-from` {} {what} in {} of {} builds of `{target}` ({}).",
            sources.join(", "),
            runs_named.len(),
            runs.len(),
            runs_named.join(", ")
        );
        let mut finding = cite::finding(pattern, Some(target), None, String::new(), evidence);
        if only_first && missing {
            summary.push_str(" Only the first build is affected: expected when no earlier job pushed it.");
            finding = cite::with_severity(finding, Severity::Expected);
        } else {
            summary.push_str(" The builds after it got no cache from that source.");
        }
        finding.summary = summary;
        out.push(finding);
    }
}

/// Findings of a log that holds no build, only a reason none ran.
pub(crate) fn log_findings(log: &LogInput, out: &mut Vec<Finding>) {
    let refused: Vec<Citation> = log
        .all()
        .filter(|(_, l)| says_why(l))
        .map(|(n, _)| Citation { file: log.label.clone(), line: n, text: log.quote(n), note: None })
        .collect();
    if !refused.is_empty() {
        let summary = format!("buildx refused to export the cache, so `{}` holds no build at all.", log.label);
        out.push(cite::finding(Pattern::CacheExportUnsupported, None, None, summary, refused));
    }
}

fn export(target: &str, runs: &[Run], out: &mut Vec<Finding>) {
    let refused: Vec<_> =
        runs.iter().filter_map(|run| run.facts.export_unsupported.map(|l| cite::line(run, l, ""))).collect();
    if refused.is_empty() {
        return;
    }
    let summary = format!(
        "buildx refused to export the cache in {} of {} builds of `{target}`: the next build has nothing to import.",
        refused.len(),
        runs.len()
    );
    out.push(cite::finding(Pattern::CacheExportUnsupported, Some(target), None, summary, refused));
}

fn dedup<'a, T: PartialEq + 'a>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}
