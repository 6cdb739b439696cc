//! `COPY --from=STAGE PATH` where PATH lies under a cache mount of a `RUN`
//! in STAGE. The mount is gone once the RUN ends, so the COPY reads the
//! stage's image: a missing path, or a stale file. Mounts and copies are
//! read from `--dockerfile` when given, else from the instructions BuildKit
//! prints (plain progress prints `RUN --mount=...` in full).

use crate::progress::{Outcome, Step};

use super::cite;
use super::dockerfile::Dockerfile;
use super::input::shorten;
use super::misses::Run;
use super::model::{Citation, Finding, Pattern};
use super::series::{copy_from, copy_sources};

/// A cache mount: the stage, its target directory, and where it was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mount {
    stage: String,
    target: String,
    /// The RUN's instruction text (to find it in the log).
    run: String,
    dockerfile_line: Option<u64>,
}

/// The cache-mount targets of a `RUN` instruction (`--mount=type=cache,
/// target=/x`), made absolute against `workdir`.
pub(crate) fn cache_targets(instruction: &str, workdir: Option<&str>) -> Vec<String> {
    let mut words = instruction.split_whitespace();
    if !words.next().is_some_and(|w| w.eq_ignore_ascii_case("RUN")) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for spec in words.take_while(|w| w.starts_with("--")).filter_map(|w| w.strip_prefix("--mount=")) {
        let fields: Vec<(&str, &str)> = spec.split(',').filter_map(|f| f.split_once('=')).collect();
        let is_cache = fields.iter().any(|(k, v)| *k == "type" && *v == "cache");
        let target = fields.iter().find(|(k, _)| matches!(*k, "target" | "dst" | "destination")).map(|(_, v)| *v);
        if let (true, Some(t)) = (is_cache, target) {
            out.push(absolute(t, workdir));
        }
    }
    out
}

fn absolute(path: &str, workdir: Option<&str>) -> String {
    let path = path.trim_matches('"');
    match (path.starts_with('/'), workdir) {
        (true, _) | (false, None) => path.trim_end_matches('/').to_owned(),
        (false, Some(w)) => {
            format!("{}/{}", w.trim_end_matches('/'), path.trim_start_matches("./").trim_end_matches('/'))
        }
    }
}

/// True when `src` is `target` or lies under it (a relative target only
/// known by name matches a path containing it).
fn under(src: &str, target: &str) -> bool {
    let src = src.trim_matches('"').trim_end_matches('/');
    if target.starts_with('/') {
        return src == target || src.starts_with(&format!("{target}/"));
    }
    src == target || src.starts_with(&format!("{target}/")) || src.contains(&format!("/{target}/"))
}

fn mounts_from_log(steps: &[Step]) -> Vec<Mount> {
    let mut out = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let Some(stage) = step.stage.clone() else { continue };
        let workdir = steps[..i]
            .iter()
            .rev()
            .find(|s| s.stage.as_deref() == Some(&stage) && s.keyword() == "WORKDIR")
            .and_then(|s| s.instruction.split_whitespace().nth(1));
        for target in cache_targets(&step.instruction, workdir) {
            out.push(Mount { stage: stage.clone(), target, run: step.instruction.clone(), dockerfile_line: None });
        }
    }
    out
}

fn mounts_from_dockerfile(df: &Dockerfile) -> Vec<Mount> {
    let mut out = Vec::new();
    for stage in &df.stages {
        let mut workdir: Option<String> = None;
        for ins in &stage.instructions {
            if ins.keyword == "WORKDIR" {
                workdir = Some(absolute(ins.args.trim(), workdir.as_deref()));
            }
            let text = format!("{} {}", ins.keyword, ins.args);
            for target in cache_targets(&text, workdir.as_deref()) {
                let run = text.clone();
                out.push(Mount { stage: stage.name.clone(), target, run, dockerfile_line: Some(ins.line) });
            }
        }
    }
    out
}

/// One finding per COPY from a cache mount in the target's latest build.
pub(crate) fn findings(target: &str, runs: &[Run], dockerfile: Option<&Dockerfile>, out: &mut Vec<Finding>) {
    let Some(last) = runs.last() else { return };
    let mut mounts = dockerfile.map(mounts_from_dockerfile).unwrap_or_default();
    if mounts.is_empty() {
        mounts = mounts_from_log(&last.build.steps);
    }
    for copy in last.build.steps.iter().filter(|s| copy_from(&s.instruction).is_some()) {
        let from = copy_from(&copy.instruction).unwrap_or_default();
        let stage = dockerfile.and_then(|d| d.stage(&from)).map_or(from.clone(), |s| s.name.clone());
        let hit = copy_sources(&copy.instruction)
            .into_iter()
            .find_map(|src| mounts.iter().find(|m| m.stage == stage && under(&src, &m.target)).map(|m| (src, m)));
        if let Some((src, mount)) = hit {
            out.push(finding(target, runs, copy, &src, mount, dockerfile));
        }
    }
}

fn finding(target: &str, runs: &[Run], copy: &Step, src: &str, mount: &Mount, df: Option<&Dockerfile>) -> Finding {
    let mut evidence: Vec<Citation> = Vec::new();
    let mut stale = 0;
    let mut missing = 0;
    for run in runs {
        let copy_now = run.build.steps.iter().find(|s| s.instruction == copy.instruction);
        let run_now =
            run.build.steps.iter().find(|s| s.instruction == mount.run && s.stage.as_deref() == Some(&mount.stage));
        if let Some(r) = run_now {
            evidence.extend(cite::step(run, r, format!("{}: cache mount on {}", r.outcome, mount.target)));
        }
        if let Some(c) = copy_now {
            let not_found = c.evidence.error().is_some_and(|e| e.contains("not found"));
            missing += usize::from(not_found);
            let ran = run_now.is_some_and(|r| r.outcome == Outcome::Executed);
            stale += usize::from(ran && c.outcome.is_reused());
            evidence.extend(cite::step(run, c, format!("{}: copies {src}", c.outcome)));
        }
    }
    if let (Some(df), Some(line)) = (df, mount.dockerfile_line) {
        let text = shorten(&mount.run);
        evidence.push(Citation { file: df.label.clone(), line, text, note: Some(format!("mounts {}", mount.target)) });
        let copy_line = df
            .stages
            .iter()
            .flat_map(|s| &s.instructions)
            .find(|i| i.keyword == "COPY" && i.args.split_whitespace().any(|w| w.trim_matches('"') == src));
        if let Some(c) = copy_line {
            let text = shorten(&format!("COPY {}", c.args));
            evidence.push(Citation {
                file: df.label.clone(),
                line: c.line,
                text,
                note: Some("reads the mount's path".into()),
            });
        }
    }
    let mut summary = format!(
        "`{}` copies `{src}`, which lies under the cache mount `{}` of a RUN in stage `{}`.",
        copy.name(),
        mount.target,
        mount.stage
    );
    if stale > 0 {
        summary.push_str(&format!(
            " In {stale} build(s) the RUN ran and the COPY stayed reused: the image ships a stale file."
        ));
    }
    if missing > 0 {
        summary.push_str(&format!(" In {missing} build(s) the COPY failed: the path is not in the stage's image."));
    }
    cite::finding(Pattern::CacheMountCopy, Some(target), Some(copy), summary, evidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_targets_read_type_and_target() {
        let run = "RUN --mount=type=cache,target=/usr/local/cargo/registry     --mount=type=cache,target=/app/target \
                   --mount=type=bind,target=/src cargo build";
        assert_eq!(cache_targets(run, None), ["/usr/local/cargo/registry", "/app/target"]);
        assert_eq!(cache_targets("RUN --mount=type=cache,dst=target x", Some("/app")), ["/app/target"]);
        assert!(cache_targets("COPY --mount=type=cache,target=/x a b", None).is_empty());
    }

    #[test]
    fn paths_under_a_target() {
        assert!(under("/app/target/release/app", "/app/target"));
        assert!(!under("/app/targets/x", "/app/target"));
        assert!(!under("/tmp/app", "/app/target"));
        assert!(under("target/release/app", "target"));
    }
}
