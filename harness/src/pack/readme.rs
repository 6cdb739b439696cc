//! The pack's `README.md`: what it shows, what each job expects and (from
//! a recorded run) observed per step, the versions it was recorded on, the
//! upstream links, the one command to run it, and what was left out.

use std::fmt::Write;

use super::plan::{PackPlan, PackValues, StepCheck};
use super::script::{dind_var, seeds, EnginePack};
use super::secrets::Finding;
use crate::runner::{JobReport, RunReport};

/// What the README is written from.
pub(crate) struct ReadmeInput<'a> {
    pub scenario: &'a str,
    pub description: &'a str,
    pub links: &'a [String],
    pub plans: &'a [EnginePack<'a>],
    pub values: &'a PackValues,
    pub registry_image: &'a str,
    pub recorded: Option<&'a RunReport>,
    pub findings: &'a [Finding],
    /// Paths `.dockerignore` kept out of the context.
    pub ignored: usize,
}

pub(crate) fn render(input: &ReadmeInput<'_>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Reproduction pack: `{}`\n\n{}\n", input.scenario, input.description);
    run_section(&mut s, input);
    for pack in input.plans {
        engine_section(&mut s, pack.plan, input.recorded.filter(|r| r.engine == pack.plan.engine));
    }
    recorded_section(&mut s, input.recorded);
    if !input.links.is_empty() {
        s.push_str("## Upstream\n\n");
        for link in input.links {
            let _ = writeln!(s, "- <{link}>");
        }
        s.push('\n');
    }
    reading_section(&mut s);
    left_out_section(&mut s, input);
    files_section(&mut s, input.recorded.is_some());
    s
}

fn run_section(s: &mut String, input: &ReadmeInput<'_>) {
    s.push_str("## Run it\n\n```sh\nsh repro.sh\n```\n\n");
    s.push_str(
        "It needs the docker CLI, a daemon that may start `--privileged` containers (or the capability set \
         it falls back to), and openssl. It starts a registry (TLS, with a CA it generates) and a fresh \
         docker-in-docker daemon per job, runs each job's commands exactly as below, prints each asserted \
         step's outcome and whether the known bug showed, and removes everything it started, also on Ctrl-C. \
         Exit code: 0 every expectation held, 1 the known bug reproduced or an expectation failed, \
         2 setup error.\n\n",
    );
    s.push_str(
        "Images (official by default; any image through these variables):\n\n| variable | default |\n|---|---|\n",
    );
    let _ = writeln!(s, "| `REPRO_REGISTRY_IMAGE` | `{}` |", input.registry_image);
    for (var, image) in seeds(input.plans, input.values) {
        let _ = writeln!(s, "| `{var}` (seeded as `{}`) | `{}` |", image.repo_tag, image.official);
    }
    for pack in input.plans {
        let _ = writeln!(s, "| `{}` | `{}` |", dind_var(&pack.plan.engine), pack.plan.dind_image);
    }
    s.push_str(
        "\nOffline, with images already on the host (`REPRO_PULL=never` refuses to pull), for example the \
         harness's stand-ins:\n\n```sh\nREPRO_PULL=never REPRO_REGISTRY_IMAGE=harness/registry:2.8.3 \\\n  \
         REPRO_CHEF_IMAGE=harness/chef:rust-1 REPRO_RUNTIME_IMAGE=harness/runtime:bookworm \\\n",
    );
    if let Some(pack) = input.plans.first() {
        let _ = writeln!(s, "  {}=harness/dind:{} sh repro.sh", dind_var(&pack.plan.engine), pack.plan.engine);
    }
    s.push_str(
        "```\n\nThe base images are pushed into the pack's registry under their official names, so the \
         Dockerfiles are the same whichever image stands behind them. Other variables: `REPRO_ENGINES`, \
         `REPRO_JOBS` (first N jobs), `REPRO_RIGHTS`, `REPRO_DOCKERD_FLAGS`, `REPRO_OUT` (see the top of \
         `repro.sh`).\n\n",
    );
}

fn engine_section(s: &mut String, plan: &PackPlan, recorded: Option<&RunReport>) {
    let _ = writeln!(s, "## Engine {} (`{}`)\n", plan.engine, plan.dind_image);
    if let Some(reason) = &plan.unsupported {
        let _ = writeln!(s, "Not supported: {reason}\n");
        return;
    }
    if plan.containerd_store {
        s.push_str("Every daemon uses the containerd image store.\n\n");
    }
    s.push_str("| job | build | step | expected | known bug shows | recorded |\n|---|---|---|---|---|---|\n");
    for job in &plan.jobs {
        let report = recorded.and_then(|r| r.jobs.iter().find(|j| j.number == job.number));
        for check in &job.checks {
            let _ = writeln!(
                s,
                "| {} | {} | `{}` | {} | {} | {} |",
                job.number,
                check.build,
                check_name(check),
                check
                    .unsupported
                    .as_ref()
                    .map_or(check.expected.name().to_owned(), |why| format!("not checked: {why}")),
                check.known_bug.as_ref().map_or("".to_owned(), |b| format!("{} ([link]({}))", b.outcome, b.link)),
                report.map_or("not recorded".to_owned(), |r| observed(r, check)),
            );
        }
    }
    s.push_str("\nThe pipeline, job by job (each line runs with `sh -c` in the build context inside the job's daemon):\n\n```sh\n");
    for job in &plan.jobs {
        let daemon = if job.fresh { "fresh daemon" } else { "same daemon as the job before" };
        let _ = writeln!(s, "# job {} ({}, {daemon})", job.number, job.name);
        for edit in &job.edits {
            let _ = writeln!(s, "#   edit {}", edit.file);
        }
        for command in &job.commands {
            let script = super::secrets::redact(&command.script, super::secrets::Kind::Command).0;
            let _ = writeln!(s, "{script}{}", if command.may_fail { "   # may fail" } else { "" });
        }
        for run in &job.runs {
            let _ = writeln!(s, "{}   # checks its output", run.script);
        }
    }
    s.push_str("```\n\n");
}

fn check_name(check: &StepCheck) -> String {
    match &check.stage {
        Some(stage) => format!("[{stage}] {}", check.step),
        None => check.step.clone(),
    }
}

/// The recorded outcome and verdict of `check` in `job`.
fn observed(job: &JobReport, check: &StepCheck) -> String {
    job.verdicts.iter().find(|v| v.build == check.build && v.step == check.step && v.stage == check.stage).map_or(
        "not recorded".to_owned(),
        |v| {
            let outcome = v.observed.map_or("unknown".to_owned(), |o| o.to_string());
            let status = serde_json::to_value(&v.status).ok().and_then(|j| j["kind"].as_str().map(str::to_owned));
            format!("{outcome} ({})", status.unwrap_or_default())
        },
    )
}

fn recorded_section(s: &mut String, recorded: Option<&RunReport>) {
    let Some(report) = recorded else {
        s.push_str("## Recorded run\n\nNone: this pack was made without `--from-run`.\n\n");
        return;
    };
    let _ = writeln!(
        s,
        "## Recorded run\n\n`recorded/report.json` and the logs beside it: engine {}, images `{}` ({}), {} job(s), {:.0} s.\n",
        report.engine,
        serde_json::to_value(report.images.mode).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
        report.images.dind,
        report.jobs.len(),
        report.duration_secs
    );
    s.push_str("| job | engine | CLI | buildx | BuildKit | storage |\n|---|---|---|---|---|---|\n");
    for job in &report.jobs {
        let Some(v) = &job.versions else { continue };
        let none = |o: &Option<String>, why: &Option<String>| {
            o.clone().unwrap_or_else(|| format!("none ({})", why.as_deref().unwrap_or("not reported")))
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            job.number,
            v.engine,
            v.cli,
            none(&v.buildx, &v.buildx_missing),
            none(&v.buildkit, &v.buildkit_missing),
            v.storage_driver
        );
    }
    s.push('\n');
}

fn reading_section(s: &mut String) {
    s.push_str(
        "## How `repro.sh` reads a step\n\nFrom the build's plain progress log only: the vertex titled \
         `[<stage> n/m] <instruction>` whose instruction contains the step's text (spaces not counting) \
         ends with `CACHED` (cached), `DONE` (executed), `ERROR` (error) or `CANCELED`; no such vertex is \
         `absent`. `reused` is read as `CACHED`. A layer reused from a registry cache (buildx `--cache-to`/`--cache-from` \
         with the containerd store) prints `DONE` and reads as executed here; the harness tells it apart by \
         comparing layer digests with the previous job's. Per-step results also go to `out/results.tsv`.\n\n",
    );
}

fn left_out_section(s: &mut String, input: &ReadmeInput<'_>) {
    s.push_str("## Left out\n\n");
    if input.findings.is_empty() {
        s.push_str("No credentials were found: no file or value was left out or replaced.\n");
    } else {
        s.push_str(
            "Secrets never enter a pack. These were found and kept out (a replaced value reads `REDACTED`; \
             the pack's registry accepts anonymous pushes, so a `docker login` with a replaced password still \
             succeeds):\n\n| where | what | done |\n|---|---|---|\n",
        );
        for f in input.findings {
            let _ = writeln!(s, "| `{}` | {} | {} |", f.place, f.what, f.action);
        }
    }
    if input.ignored > 0 {
        let _ = writeln!(s, "\n{} path(s) excluded by `.dockerignore` are not in `context/`.", input.ignored);
    }
    s.push('\n');
}

fn files_section(s: &mut String, recorded: bool) {
    s.push_str(
        "## Files\n\n- `repro.sh`: the pipeline with the docker CLI alone.\n- `context/`: the build context \
         before the first job, Dockerfiles rendered.\n- `jobs/<engine>/job-<n>/`: the files each job's edits \
         change, copied over the context before its commands.\n",
    );
    if recorded {
        s.push_str("- `recorded/`: the harness run this pack came from (`report.json`, one log per command).\n");
    }
}
