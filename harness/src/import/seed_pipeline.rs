//! The default pipeline of `harness run --context`: the first seed's GitLab
//! job, generalised to any Dockerfile.
//!
//! The seed (docs/seeds/gitlab-inline-cache.md) logs in, pulls each stage's
//! image, builds each stage with `--target`, `--cache-from` its own image
//! and `BUILDKIT_INLINE_CACHE=1`, and pushes all of them, on a fresh daemon
//! per job. Here "each stage" is every named stage the final stage needs,
//! then the final stage itself (without `--target` when it has no name).
//! The result is a [`Plan`], so the importer's writer turns it into a
//! scenario exactly as it does an imported CI job: same edit, same
//! expectations marked to be confirmed.

use super::dockerfile::{stages, stages_built};
use super::plan::{Build, Cmd, EngineHint, Plan, Planned};

/// The job name the generated scenario uses.
pub(crate) const JOB: &str = "pipeline";

/// The seed's job for the Dockerfile `text`, known in the context as `name`.
pub(crate) fn plan(name: &str, text: &str) -> Plan {
    let targets = targets(text);
    let file = (name != "Dockerfile").then(|| name.to_owned());
    let mut commands = vec![Planned::new(Cmd::Login { username: None })];
    for (_, tag) in &targets {
        let mut pull = Planned::new(Cmd::Pull(format!("{{image}}:{tag}")));
        // The first job has nothing to pull: the seed's `|| true`.
        pull.may_fail = true;
        commands.push(pull);
    }
    for (target, tag) in &targets {
        let image = format!("{{image}}:{tag}");
        commands.push(Planned::new(Cmd::Build(Build {
            buildx: false,
            file: file.clone(),
            context: ".".into(),
            target: target.clone(),
            tags: vec![image.clone()],
            cache_from: vec![image],
            inline_cache: true,
            ..Build::default()
        })));
    }
    for (_, tag) in &targets {
        commands.push(Planned::new(Cmd::Push(format!("{{image}}:{tag}"))));
    }
    Plan {
        name: JOB.into(),
        commands,
        engine: EngineHint { version: None, source: "`harness run --context`".into() },
        ..Plan::default()
    }
}

/// Each build as (`--target`, image tag): the named stages the final stage
/// needs, in file order, then the final stage (`latest` when unnamed).
fn targets(text: &str) -> Vec<(Option<String>, String)> {
    let stages = stages(text);
    let Some(last) = stages.len().checked_sub(1) else {
        return vec![(None, "latest".into())];
    };
    let mut built = stages_built(&stages, None);
    built.sort_unstable();
    let mut out: Vec<(Option<String>, String)> = built
        .iter()
        .filter(|i| **i != last)
        .filter_map(|i| stages[*i].name.clone())
        .map(|name| (Some(name.clone()), name))
        .collect();
    match &stages[last].name {
        Some(name) => out.push((Some(name.clone()), name.clone())),
        None => out.push((None, "latest".into())),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use indoc::indoc;

    const SEED: &str = indoc! {"
        FROM lukemathwalker/cargo-chef:latest-rust-1 AS chef
        WORKDIR /app
        FROM chef AS planner
        COPY . .
        RUN cargo chef prepare --recipe-path recipe.json
        FROM chef AS builder
        COPY --from=planner /app/recipe.json recipe.json
        RUN cargo chef cook --release --recipe-path recipe.json
        COPY . .
        RUN cargo build --release --bin hello-world
    "};

    fn names(text: &str) -> Vec<(Option<&'static str>, &'static str)> {
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        targets(text).into_iter().map(|(t, tag)| (t.map(leak), leak(tag))).collect()
    }

    #[test]
    fn the_seed_builds_chef_planner_builder() {
        assert_eq!(names(SEED), [(Some("chef"), "chef"), (Some("planner"), "planner"), (Some("builder"), "builder")]);
    }

    #[test]
    fn an_unnamed_final_stage_is_built_without_target_and_unused_stages_are_skipped() {
        let text = indoc! {"
            FROM golang:1.22 AS deps
            RUN go mod download
            FROM deps AS test
            RUN go test ./...
            FROM deps AS build
            RUN go build -o /app
            FROM debian:bookworm-slim
            COPY --from=build /app /app
        "};
        assert_eq!(names(text), [(Some("deps"), "deps"), (Some("build"), "build"), (None, "latest")]);
        assert_eq!(names("FROM alpine\nRUN true\n"), [(None, "latest")]);
        assert_eq!(names(""), [(None, "latest")]);
    }

    #[test]
    fn the_plan_pulls_builds_and_pushes_each_target_in_the_seeds_order() {
        let plan = plan("docker/app.Dockerfile", SEED);
        let kinds: Vec<String> = plan
            .commands
            .iter()
            .map(|p| match &p.cmd {
                Cmd::Login { .. } => "login".to_owned(),
                Cmd::Pull(i) => format!("pull {i}{}", if p.may_fail { " || true" } else { "" }),
                Cmd::Push(i) => format!("push {i}"),
                Cmd::Build(b) => format!(
                    "build {:?} --target {} --cache-from {} inline={}",
                    b.file,
                    b.target.as_deref().unwrap_or("-"),
                    b.cache_from.join(","),
                    b.inline_cache
                ),
                Cmd::Shell(s) => s.clone(),
            })
            .collect();
        insta::assert_snapshot!(kinds.join("\n"), @r#"
        login
        pull {image}:chef || true
        pull {image}:planner || true
        pull {image}:builder || true
        build Some("docker/app.Dockerfile") --target chef --cache-from {image}:chef inline=true
        build Some("docker/app.Dockerfile") --target planner --cache-from {image}:planner inline=true
        build Some("docker/app.Dockerfile") --target builder --cache-from {image}:builder inline=true
        push {image}:chef
        push {image}:planner
        push {image}:builder
        "#);
    }
}
