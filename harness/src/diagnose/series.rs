//! Cuts the input's builds into targets: the same Dockerfile target built
//! again job after job. A pipeline log may hold several builds (planner,
//! builder, final image) and a run may give one log per build, so builds
//! are matched by what they built, not by position: the final stage and
//! the step layout, then the instructions. A build whose instructions
//! changed joins the target with its layout unless builds of another
//! target with that layout came in between (two Dockerfiles built side by
//! side stay apart).

use crate::progress::{Build, Outcome, Step};

use super::input::LogInput;

/// One build of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BuildRef {
    pub log: usize,
    pub build: usize,
}

/// The builds of one target, in input order.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    pub name: String,
    pub builds: Vec<BuildRef>,
    layout: Vec<String>,
    instructions: Vec<String>,
}

/// Groups every build of `logs` into series, in order of first appearance.
pub(crate) fn group(logs: &[LogInput]) -> Vec<Series> {
    let mut series: Vec<Series> = Vec::new();
    for (l, log) in logs.iter().enumerate() {
        for (b, build) in log.builds.iter().enumerate() {
            let r = BuildRef { log: l, build: b };
            let name = final_stage(build);
            let layout = layout(build, &name);
            let mut instructions: Vec<String> =
                build.steps.iter().map(|s| format!("{} {}", position(s), normalized(&s.instruction))).collect();
            // BuildKit numbers vertices as they start, which varies between builds.
            instructions.sort();
            match series.iter_mut().find(|s| s.layout == layout && s.instructions == instructions) {
                Some(s) => s.builds.push(r),
                None => series.push(Series { name, builds: vec![r], layout, instructions }),
            }
        }
    }
    let mut series = merge_changed(series);
    disambiguate(&mut series, logs);
    series
}

/// Two targets with one final stage (two Dockerfiles whose last stage is
/// unnamed) get the file name of their first log added.
fn disambiguate(series: &mut [Series], logs: &[LogInput]) {
    let names: Vec<String> = series.iter().map(|s| s.name.clone()).collect();
    for s in series.iter_mut().filter(|s| names.iter().filter(|n| **n == s.name).count() > 1) {
        let label = &logs[s.builds[0].log].label;
        let file = label.rsplit('/').next().unwrap_or(label);
        s.name = format!("{} ({file})", s.name);
    }
}

/// Joins a series to an earlier one with the same layout when all its
/// builds come after the earlier one's: the Dockerfile (or a build
/// argument) changed mid-pipeline. Interleaved series stay apart.
fn merge_changed(series: Vec<Series>) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for s in series {
        let first = s.builds[0];
        let earlier = out.iter_mut().find(|o| {
            o.layout == s.layout && o.builds.last().is_some_and(|l| (l.log, l.build) < (first.log, first.build))
        });
        match earlier {
            Some(o) => o.builds.extend(s.builds),
            None => out.push(s),
        }
    }
    out
}

/// The final stage: the last-numbered stage no `COPY --from` of the build
/// reads from. `default` for a build whose steps name no stage.
pub(crate) fn final_stage(build: &Build) -> String {
    let sources: Vec<String> = build.steps.iter().filter_map(|s| copy_from(&s.instruction)).collect();
    let printed = build.steps.iter().filter(|s| s.outcome != Outcome::Absent);
    let candidate = printed
        .filter(|s| s.stage.as_ref().is_none_or(|st| !sources.contains(st)))
        .max_by_key(|s| s.vertex)
        .or_else(|| build.steps.last());
    candidate.and_then(|s| s.stage.clone()).unwrap_or_else(|| "default".to_owned())
}

fn layout(build: &Build, name: &str) -> Vec<String> {
    let mut positions: Vec<String> = build.steps.iter().map(position).collect();
    positions.sort();
    positions.insert(0, name.to_owned());
    positions
}

/// A step's identity across builds: stage and position (`builder 2/4`),
/// which survive a changed instruction; the name when there is no position.
pub(crate) fn position(step: &Step) -> String {
    match (step.index, step.total) {
        (Some(i), Some(n)) => format!("{} {i}/{n}", step.stage.as_deref().unwrap_or("")),
        _ => normalized(&step.name()),
    }
}

/// An instruction without the parts that change with nothing changed in
/// the Dockerfile: a `FROM`'s resolved digest.
pub(crate) fn normalized(instruction: &str) -> String {
    match instruction.find("@sha256:") {
        Some(at) if instruction.trim_start().to_ascii_uppercase().starts_with("FROM") => instruction[..at].to_owned(),
        _ => instruction.to_owned(),
    }
}

/// The `--from=` value of a COPY/ADD instruction.
pub(crate) fn copy_from(instruction: &str) -> Option<String> {
    let mut words = instruction.split_whitespace();
    let keyword = words.next()?.to_ascii_uppercase();
    if keyword != "COPY" && keyword != "ADD" {
        return None;
    }
    words.take_while(|w| w.starts_with("--")).find_map(|w| w.strip_prefix("--from=")).map(str::to_owned)
}

/// The sources of a COPY/ADD (every word after the flags but the last).
pub(crate) fn copy_sources(instruction: &str) -> Vec<String> {
    let words: Vec<&str> = instruction.split_whitespace().skip(1).skip_while(|w| w.starts_with("--")).collect();
    match words.split_last() {
        Some((_, sources)) => sources.iter().map(|s| (*s).to_owned()).collect(),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(name: &str, text: &str) -> LogInput {
        LogInput::from_bytes(name, text.as_bytes()).unwrap()
    }

    const PLANNER: &str = "#1 [chef 1/2] FROM rust@sha256:aa\n#1 DONE 0.0s\n#2 [chef 2/2] WORKDIR /app\n#2 CACHED\n\
        #3 [planner 1/2] COPY . .\n#3 DONE 0.0s\n#4 [planner 2/2] RUN prepare\n#4 DONE 0.1s\n";
    const BUILDER: &str = "#1 [chef 1/2] FROM rust@sha256:bb\n#1 DONE 0.0s\n#2 [chef 2/2] WORKDIR /app\n#2 CACHED\n\
        #3 [planner 1/2] COPY . .\n#3 CACHED\n#4 [planner 2/2] RUN prepare\n#4 CACHED\n\
        #5 [builder 1/2] COPY --from=planner /app/recipe.json .\n#5 CACHED\n#6 [builder 2/2] RUN cook\n#6 CACHED\n";

    #[test]
    fn builds_of_one_target_group_across_logs_and_digests() {
        let text = format!(
            "{PLANNER}{}",
            BUILDER.replacen("#1 [chef", "#0 building with \"default\" instance using docker driver\n#1 [chef", 1)
        );
        let logs = [log("job1.log", &text), log("job2.log", &text)];
        let series = group(&logs);
        let names: Vec<_> = series.iter().map(|s| (s.name.as_str(), s.builds.len())).collect();
        assert_eq!(names, [("planner", 2), ("builder", 2)]);
    }

    #[test]
    fn same_layout_built_side_by_side_stays_apart() {
        let a = BUILDER.replace("RUN cook", "RUN cook --a");
        let b = BUILDER.replace("RUN cook", "RUN cook --b");
        let logs = [log("1a", &a), log("1b", &b), log("2a", &a), log("2b", &b)];
        let sizes: Vec<_> = group(&logs).iter().map(|s| s.builds.len()).collect();
        assert_eq!(sizes, [2, 2]);
    }

    #[test]
    fn vertex_order_does_not_split_a_target() {
        let swapped = BUILDER.replace(
            "#2 [chef 2/2] WORKDIR /app\n#2 CACHED\n#3 [planner 1/2] COPY . .\n#3 CACHED\n",
            "#3 [planner 1/2] COPY . .\n#3 CACHED\n#2 [chef 2/2] WORKDIR /app\n#2 CACHED\n",
        );
        assert_ne!(swapped, BUILDER);
        let logs = [log("1", BUILDER), log("2", &swapped)];
        assert_eq!(group(&logs).len(), 1);
    }

    #[test]
    fn a_changed_instruction_stays_in_its_target() {
        let a = BUILDER.replace("RUN cook", "RUN cook --v1");
        let b = BUILDER.replace("RUN cook", "RUN cook --v2");
        let logs = [log("1", &a), log("2", &a), log("3", &b)];
        let sizes: Vec<_> = group(&logs).iter().map(|s| s.builds.len()).collect();
        assert_eq!(sizes, [3]);
    }

    #[test]
    fn copy_words() {
        assert_eq!(copy_from("COPY --from=builder --chown=1 /a /b").as_deref(), Some("builder"));
        assert_eq!(copy_from("RUN --from=x"), None);
        assert_eq!(copy_sources("COPY --from=b /a/x /a/y /dst"), ["/a/x", "/a/y"]);
        assert_eq!(normalized("FROM rust:1@sha256:abc"), "FROM rust:1");
    }
}
