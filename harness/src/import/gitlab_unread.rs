//! What a GitLab job says that the scenario does not do, said as warnings,
//! and its `parallel: matrix` row chosen.
//!
//! The scenario runs the job's commands on a fresh daemon per job, every
//! time. Keys that decide *whether* GitLab runs the job (`rules`, `only`,
//! `except`, `when`), carry files between jobs (`cache`, `artifacts`,
//! `needs`), or run copies of it (`parallel`) change what a pipeline does,
//! so each one the importer drops is named with its line. Keys that only
//! schedule or label the job (`stage`, `tags`, `retry`, ...) change nothing
//! here and stay silent.

use super::error::{ImportErrorKind, Problem};
use super::plan::{Plan, Spot};
use super::shell::Env;
use super::yaml::{Node, Value};

/// Keys the importer reads, or that cannot change what the job builds.
const SILENT: &[&str] = &[
    "image",
    "services",
    "variables",
    "before_script",
    "script",
    "after_script",
    "extends",
    "stage",
    "tags",
    "retry",
    "timeout",
    "allow_failure",
    "interruptible",
    "resource_group",
    "environment",
    "coverage",
    "dependencies",
    "description",
    "parallel",
];

/// Why a dropped key matters.
fn reason(key: &str, value: &Node) -> Option<String> {
    Some(match key {
        "rules" | "only" | "except" => format!(
            "`{key}` decides when GitLab runs the job (branch, pipeline source, changed files): not applied, \
             the scenario runs the job's commands in every job"
        ),
        "when" => match value.as_str() {
            Some("on_success") | None => return None,
            Some(when) => format!("`when: {when}` is not applied: the scenario runs the job every time"),
        },
        "cache" => "GitLab's `cache` (files the runner keeps between pipelines) is not reproduced: \
                    only Docker's own caches carry over from one job to the next"
            .to_owned(),
        "artifacts" | "needs" => format!(
            "`{key}` (files passed between jobs) is not reproduced: only this job runs, with the repository's files"
        ),
        "inherit" => "`inherit` is not applied: the job gets the global defaults and variables".to_owned(),
        "secrets" | "id_tokens" => {
            format!("`{key}` is not copied (secrets never are): variables it defines are undefined in the scenario")
        }
        "hooks" => "`hooks` (scripts around the checkout) are not run".to_owned(),
        "trigger" => "`trigger` starts another pipeline, which is not imported".to_owned(),
        other => format!("`{other}` is not read by the importer: check what it changes"),
    })
}

/// Warns about every key of `job` the scenario drops; `spot(line, key)`
/// locates them.
pub(crate) fn warn_unread(job: &Node, name: &str, plan: &mut Plan, spot: &dyn Fn(usize, String) -> Spot) {
    for (key, value) in job.entries() {
        if SILENT.contains(&key.as_str()) {
            continue;
        }
        if let Some(message) = reason(key, value) {
            plan.warn(spot(value.key_line, format!("{name}.{key}")), message);
        }
    }
    if let Some(parallel) = job.get("parallel").filter(|p| p.get("matrix").is_none()) {
        if let Some(n) = parallel.as_str() {
            plan.warn(
                spot(parallel.key_line, format!("{name}.parallel")),
                format!("`parallel: {n}` runs {n} copies of the job in GitLab: the scenario runs one"),
            );
        }
    }
}

/// `parallel: matrix`: the first row matching `filters` (every row when
/// there are none), its variables set in `env`, and a warning naming the
/// row and how to pick another.
pub(crate) fn matrix_row(
    job: &Node,
    name: &str,
    env: &mut Env,
    plan: &mut Plan,
    filters: &[(String, String)],
    spot: &dyn Fn(usize, String) -> Spot,
) -> Result<(), ImportErrorKind> {
    let Some(matrix) = job.get("parallel").and_then(|p| p.get("matrix")) else {
        return Ok(());
    };
    let rows = rows(matrix);
    let fits =
        |row: &&Vec<(String, String)>| filters.iter().all(|(k, v)| row.iter().any(|(rk, rv)| rk == k && rv == v));
    let here = spot(matrix.key_line, format!("{name}.parallel.matrix"));
    let Some(row) = rows.iter().find(fits) else {
        let filter: Vec<String> = filters.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let all: Vec<String> = rows.iter().map(|r| describe(r)).collect();
        return Err(ImportErrorKind::Invalid {
            spot: here,
            problem: Problem::NoMatrixRow { filter: filter.join(", "), rows: all.join("; ") },
        });
    };
    for (k, v) in row {
        env.set(k.clone(), v.clone());
    }
    plan.warn(
        here,
        format!(
            "`parallel: matrix` has {} rows: the scenario runs one, {}; choose another with `--matrix KEY=VALUE`",
            rows.len(),
            describe(row)
        ),
    );
    Ok(())
}

fn describe(row: &[(String, String)]) -> String {
    row.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

/// Every row of a GitLab matrix: each item's lists multiplied out.
fn rows(matrix: &Node) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    for item in matrix.items() {
        let mut combos: Vec<Vec<(String, String)>> = vec![Vec::new()];
        for (key, value) in item.entries() {
            let values: Vec<String> = match &value.value {
                Value::Seq(items) => items.iter().filter_map(Node::as_str).map(str::to_owned).collect(),
                _ => value.as_str().map(str::to_owned).into_iter().collect(),
            };
            combos = combos
                .into_iter()
                .flat_map(|row| {
                    values.iter().map(move |v| {
                        let mut row = row.clone();
                        row.push((key.clone(), v.clone()));
                        row
                    })
                })
                .collect();
        }
        out.extend(combos.into_iter().filter(|r| !r.is_empty()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::yaml;
    use indoc::indoc;
    use std::path::PathBuf;

    fn spot(line: usize, key: String) -> Spot {
        Spot { file: PathBuf::from(".gitlab-ci.yml"), line, key }
    }

    const JOB: &str = indoc! {"
        build:
          stage: build
          rules:
            - if: $CI_COMMIT_BRANCH == 'main'
          cache:
            paths: [target/]
          when: manual
          parallel:
            matrix:
              - ARCH: [amd64, arm64]
                RUST: '1.80'
              - ARCH: riscv
          script: [docker build .]
    "};

    #[test]
    fn dropped_keys_are_named_with_their_lines() {
        let root = yaml::parse(JOB).unwrap();
        let job = root.get("build").unwrap();
        let mut plan = Plan::default();
        warn_unread(job, "build", &mut plan, &spot);
        let lines: Vec<String> = plan.warnings.iter().map(ToString::to_string).collect();
        insta::assert_snapshot!(lines.join("\n"), @r"
        .gitlab-ci.yml:3: at `build.rules`: `rules` decides when GitLab runs the job (branch, pipeline source, changed files): not applied, the scenario runs the job's commands in every job
        .gitlab-ci.yml:5: at `build.cache`: GitLab's `cache` (files the runner keeps between pipelines) is not reproduced: only Docker's own caches carry over from one job to the next
        .gitlab-ci.yml:7: at `build.when`: `when: manual` is not applied: the scenario runs the job every time
        ");
    }

    #[test]
    fn the_matrix_row_is_chosen_and_said() {
        let root = yaml::parse(JOB).unwrap();
        let job = root.get("build").unwrap();
        let mut plan = Plan::default();
        let mut env = Env::default();
        matrix_row(job, "build", &mut env, &mut plan, &[], &spot).unwrap();
        assert_eq!((env.get("ARCH"), env.get("RUST")), (Some("amd64"), Some("1.80")));
        assert_eq!(
            plan.warnings[0].to_string(),
            ".gitlab-ci.yml:9: at `build.parallel.matrix`: `parallel: matrix` has 3 rows: the scenario runs one, \
             ARCH=amd64, RUST=1.80; choose another with `--matrix KEY=VALUE`"
        );
        let mut env = Env::default();
        matrix_row(job, "build", &mut env, &mut plan, &[("ARCH".into(), "riscv".into())], &spot).unwrap();
        assert_eq!(env.get("ARCH"), Some("riscv"));
        let err = matrix_row(job, "build", &mut env, &mut plan, &[("ARCH".into(), "s390x".into())], &spot).unwrap_err();
        assert_eq!(
            err.to_string(),
            ".gitlab-ci.yml:9: at `build.parallel.matrix`: no matrix row has ARCH=s390x; the rows are \
             ARCH=amd64, RUST=1.80; ARCH=arm64, RUST=1.80; ARCH=riscv"
        );
    }
}
