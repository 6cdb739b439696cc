//! The plan as `repro.sh`: a POSIX shell script that needs only the docker
//! CLI and openssl. A fixed library ([`LIBRARY`], `repro_lib.sh`: registry,
//! TLS, dind, cleanup, outcome reading) followed by the jobs, written out
//! from the plans one line per command, so a reader sees the pipeline as
//! plain text.

use std::borrow::Cow;
use std::fmt::Write;

use super::edits::{executables, JobFiles};
use super::plan::{BaseImage, JobPlan, PackPlan, PackValues};
use super::secrets::{self, Finding, Kind, REPLACED};
use crate::scenario::quote;

/// Everything but the variables and the jobs.
const LIBRARY: &str = include_str!("repro_lib.sh");

/// One engine's plan with the files its jobs change.
pub(crate) struct EnginePack<'a> {
    pub plan: &'a PackPlan,
    pub files: &'a JobFiles,
}

/// The base images the Dockerfiles pull, with the variable that picks each.
pub(crate) fn seeds<'a>(plans: &[EnginePack<'_>], values: &'a PackValues) -> Vec<(&'static str, &'a BaseImage)> {
    let uses = |image: &BaseImage| {
        let name = format!("{}/{}", values.registry, image.repo_tag);
        plans.iter().any(|p| p.plan.dockerfiles.iter().any(|(_, text)| text.contains(&name)))
    };
    [("REPRO_CHEF_IMAGE", &values.chef), ("REPRO_RUNTIME_IMAGE", &values.runtime)]
        .into_iter()
        .filter(|(_, image)| uses(image))
        .collect()
}

/// The environment variable naming engine `version`'s dind image.
pub(crate) fn dind_var(version: &str) -> String {
    format!("REPRO_DIND_{}", version.replace(|c: char| !c.is_ascii_alphanumeric(), "_"))
}

/// Writes `repro.sh`; credential-looking values in commands are replaced
/// and recorded in `findings`.
pub(crate) fn render(
    scenario: &str,
    plans: &[EnginePack<'_>],
    values: &PackValues,
    registry_image: &str,
    findings: &mut Vec<Finding>,
) -> String {
    let mut s = String::new();
    header(&mut s, scenario, plans, values, registry_image);
    s.push_str(LIBRARY);
    s.push_str("\n# ---- the pipeline\n\nmkdir -p \"$REPRO_OUT\" || die \"cannot create $REPRO_OUT\"\n");
    s.push_str("printf 'engine\\tjob\\tbuild\\tstage\\tstep\\tobserved\\tverdict\\n' >\"$REPRO_OUT/results.tsv\"\n");
    s.push_str("printf 'engine\\tjob\\tseconds\\tdaemon_ready_seconds\\n' >\"$REPRO_OUT/timings.tsv\"\n");
    s.push_str("start_registry\n");
    for (var, image) in seeds(plans, values) {
        let _ = writeln!(s, "seed \"${var}\" {}", quote(&image.repo_tag));
    }
    for pack in plans {
        engine(&mut s, pack, findings);
    }
    s.push_str(SUMMARY);
    s
}

fn header(s: &mut String, scenario: &str, plans: &[EnginePack<'_>], values: &PackValues, registry_image: &str) {
    let engines: Vec<&str> = plans.iter().map(|p| p.plan.engine.as_str()).collect();
    let (host, _) = values.registry.rsplit_once(':').unwrap_or((&values.registry, ""));
    let _ = writeln!(s, "#!/bin/sh");
    // Trap handlers and library functions a given pack does not call look
    // unreachable to shellcheck.
    let _ = writeln!(s, "# shellcheck disable=SC2317");
    let _ = writeln!(s, "# Reproduction pack for the `{scenario}` scenario, written by `harness pack`.");
    let _ = writeln!(s, "# Needs only the docker CLI (and openssl). Run: sh repro.sh   (details: README.md)");
    let _ = writeln!(s, "#\n# Environment (defaults in brackets):");
    let _ = writeln!(s, "#   REPRO_REGISTRY_IMAGE   the registry image [{registry_image}]");
    for (var, image) in seeds(plans, values) {
        let _ = writeln!(s, "#   {var:<22} seeded into the registry as {} [{}]", image.repo_tag, image.official);
    }
    for p in plans {
        let var = dind_var(&p.plan.engine);
        let _ = writeln!(s, "#   {var:<22} the dind image for engine {} [{}]", p.plan.engine, p.plan.dind_image);
    }
    let _ = writeln!(s, "#   REPRO_ENGINES          engines to run, space-separated [{}]", engines.join(" "));
    let _ = writeln!(s, "#   REPRO_PULL             missing | always | never (offline: host images only) [missing]");
    let _ = writeln!(s, "#   REPRO_RIGHTS           auto | privileged | capabilities [auto]");
    let _ = writeln!(s, "#   REPRO_JOBS             run only the first N jobs [all]");
    let _ = writeln!(s, "#   REPRO_DOCKERD_FLAGS    extra dockerd flags, e.g. --dns=10.0.0.2 []");
    let _ = writeln!(s, "#   REPRO_OUT              logs and results.tsv [<pack>/out]");
    let _ = writeln!(s, "#   REPRO_ID               names and labels what the script starts [<time>-<pid>]");
    let _ = writeln!(s, "#\n# Exit: 0 every expectation held; 1 the known bug reproduced or an expectation");
    let _ = writeln!(s, "# failed; 2 setup error. Everything started is removed on exit, also on Ctrl-C.");
    let _ = writeln!(s, "set -u\n");
    let _ = writeln!(s, "pack_dir=$(CDPATH='' cd -- \"$(dirname -- \"$0\")\" && pwd) || exit 2");
    let _ = writeln!(s, "REGISTRY_HOST={}", quote(host));
    let _ = writeln!(s, "REGISTRY={}", quote(&values.registry));
    let default = |s: &mut String, var: &str, value: &str| {
        let _ = writeln!(s, ": \"${{{var}:={}}}\"", default_text(value));
    };
    default(s, "REPRO_REGISTRY_IMAGE", registry_image);
    for (var, image) in seeds(plans, values) {
        default(s, var, &image.official);
    }
    for p in plans {
        default(s, &dind_var(&p.plan.engine), &p.plan.dind_image);
    }
    default(s, "REPRO_ENGINES", &engines.join(" "));
    for var in ["REPRO_PULL=missing", "REPRO_RIGHTS=auto", "REPRO_JOBS=", "REPRO_DOCKERD_FLAGS="] {
        let (var, value) = var.split_once('=').unwrap_or((var, ""));
        default(s, var, value);
    }
    let _ = writeln!(s, ": \"${{REPRO_OUT:=$pack_dir/out}}\"");
    let _ = writeln!(s, ": \"${{REPRO_ID:=$(date +%s)-$$}}\"\n");
}

/// A default inside `${VAR:=...}`: quoted when it holds spaces.
fn default_text(value: &str) -> Cow<'_, str> {
    if value.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:@+".contains(c)) {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(format!("'{}'", value.replace('\'', "")))
    }
}

fn engine(s: &mut String, pack: &EnginePack<'_>, findings: &mut Vec<Finding>) {
    let plan = pack.plan;
    let func = format!("engine_{}", plan.engine.replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
    let _ = writeln!(s, "\n{func}() {{");
    if let Some(reason) = &plan.unsupported {
        let _ =
            writeln!(s, "  say \"\"\n  say {}", quote(&format!("=== engine {}: not supported: {reason}", plan.engine)));
        let _ = writeln!(s, "}}\nif wanted {}; then {func}; fi", quote(&plan.engine));
        return;
    }
    let _ = writeln!(
        s,
        "  engine_begin {} \"${}\" {} {}",
        quote(&plan.engine),
        dind_var(&plan.engine),
        plan.containerd_store,
        quote(plan.carry.as_deref().unwrap_or(""))
    );
    for job in &plan.jobs {
        let changed = pack.files.get(&job.number);
        job_lines(s, plan, job, changed, findings);
    }
    let _ = writeln!(s, "  engine_end\n}}\nif wanted {}; then {func}; fi", quote(&plan.engine));
}

fn job_lines(
    s: &mut String,
    plan: &PackPlan,
    job: &JobPlan,
    changed: Option<&super::files::Tree>,
    findings: &mut Vec<Finding>,
) {
    let daemon = if job.fresh { "fresh" } else { "warm" };
    let _ = writeln!(s, "\n  job_begin {} {} {daemon} || {{ engine_end; return 0; }}", job.number, quote(&job.name));
    for path in changed.into_iter().flat_map(executables) {
        let _ = writeln!(s, "  chmod 755 \"$work\"/{}", quote(path));
    }
    s.push_str("  job_context\n");
    for (k, command) in job.commands.iter().enumerate() {
        let place = format!("engine {}, job {}, command {}", plan.engine, job.number, k + 1);
        let script = clean(&command.script, &place, findings);
        let _ = writeln!(s, "  run_cmd {} {} {}", quote(&command.log), u8::from(command.may_fail), quote(&script));
    }
    for check in &job.checks {
        let bug = check.known_bug.as_ref();
        let _ = writeln!(
            s,
            "  check_step {} {} {} {} {} {} {} {}",
            quote(check.log.as_deref().unwrap_or("no-such-build.log")),
            quote(check.stage.as_deref().unwrap_or("")),
            quote(&check.step),
            quote(check.expected.name()),
            quote(bug.map_or("", |b| b.outcome.name())),
            quote(bug.map_or("", |b| b.link.as_str())),
            quote(check.unsupported.as_deref().unwrap_or("")),
            quote(&check.build),
        );
    }
    for (k, run) in job.runs.iter().enumerate() {
        let place = format!("engine {}, job {}, run check {}", plan.engine, job.number, k + 1);
        let _ = writeln!(
            s,
            "  check_run {} {} {} {}",
            quote(&clean(&run.script, &place, findings)),
            quote(run.contains.as_deref().unwrap_or("")),
            quote(run.not_contains.as_deref().unwrap_or("")),
            run.exit_code
        );
    }
    s.push_str("  job_end\n");
}

/// The command with credential-looking values replaced.
fn clean(script: &str, place: &str, findings: &mut Vec<Finding>) -> String {
    let (clean, found) = secrets::redact(script, Kind::Command);
    for what in found {
        findings.push(Finding { place: place.to_owned(), what: what.to_owned(), action: REPLACED });
    }
    clean
}

const SUMMARY: &str = r#"
say ""
say "results: $REPRO_OUT/results.tsv; times: $REPRO_OUT/timings.tsv; logs: $REPRO_OUT/<engine>/job-<n>/"
if [ "$failures" -gt 0 ]; then
  say "result: $failures expectation(s) FAILED"
  exit 1
elif [ "$bugs" -gt 0 ]; then
  say "result: the known bug reproduced ($bugs step(s)); every other expectation held"
  exit 1
fi
say "result: every expectation held"
exit 0
"#;
