//! A CI script entry (one item of GitLab's `script`, one GitHub `run:`)
//! read line by line into the plan.
//!
//! Each logical line is tokenized with the variables in scope; each command
//! of it becomes a typed command, a run check, a variable assignment, or a
//! shell line. A line that cannot be read is kept whole as a shell command
//! and warned about, with its file, line and key.

use super::docker::{self, Read};
use super::plan::{Build, Cmd, Plan, Planned, Spot};
use super::shell::{self, Cwd, Env, Simple, Word};
use crate::scenario::quote;

/// Reads `entry` into `plan`. `env` gains the variables the script exports.
pub(crate) fn read_entry(entry: &str, spot: &Spot, env: &mut Env, plan: &mut Plan) {
    for line in shell::logical_lines(entry) {
        let tokens = match shell::tokenize(&line, env) {
            Ok(tokens) => tokens,
            Err(e) => {
                plan.warn(spot.clone(), format!("kept as a shell command, because {e}: `{line}`"));
                plan.commands.push(Planned::new(Cmd::Shell(env.expand_text(&line))));
                continue;
            }
        };
        let commands = shell::sequence(tokens);
        if let Some(keyword) = commands.iter().find_map(compound_keyword) {
            // `if ...; then docker push ...; fi` only means something whole.
            plan.warn(
                spot.clone(),
                format!("kept as one shell command, because `{keyword}` makes it a compound statement: `{line}`"),
            );
            plan.commands.push(Planned::new(Cmd::Shell(env.expand_text(&line))));
            continue;
        }
        for simple in commands {
            read_simple(&simple, spot, env, plan);
        }
    }
}

/// Shell words that open or close a compound statement.
const COMPOUND: &[&str] = &[
    "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac", "function", "{", "}",
    "[[", "!",
];

fn compound_keyword(simple: &Simple) -> Option<String> {
    let first = simple.stages.first()?.first()?;
    COMPOUND.contains(&first.text.as_str()).then(|| first.text.clone())
}

fn read_simple(simple: &Simple, spot: &Spot, env: &mut Env, plan: &mut Plan) {
    if let Some(words) = simple.words().filter(|w| w.first().is_some_and(|w| w.text == "cd")) {
        change_dir(words.get(1), spot, env, plan);
        return;
    }
    match docker::read(simple, env) {
        Read::Cmd { mut cmd, mut comments } => {
            if let Cmd::Build(build) = &mut cmd {
                in_cwd(build, env.cwd(), &mut comments);
            }
            plan.commands.push(Planned { cmd, may_fail: simple.may_fail, comments });
        }
        Read::Run(run) => plan.runs.push(run),
        Read::Assign(pairs) => {
            for (name, value) in pairs {
                env.set(name, value);
            }
        }
        Read::Skip(why) => plan.note(why),
        Read::Shell(reason) => {
            let text = shell_text(simple);
            let mut planned = Planned::new(Cmd::Shell(text.clone()));
            planned.may_fail = simple.may_fail;
            if let Some(reason) = reason {
                plan.warn(spot.clone(), format!("kept as a shell command ({reason}): `{text}`"));
                let docker = simple.stages.first().and_then(|s| s.first()).is_some_and(|w| w.text == "docker");
                if !docker && !planned.may_fail {
                    // `apk add`, `curl`: the job's tools, not its builds; the
                    // daemon's container may lack them.
                    planned.may_fail = true;
                    planned.comments.push("not a docker command: a failure is recorded and the job goes on".into());
                }
            }
            plan.commands.push(planned);
        }
    }
}

/// `cd`: followed for the builds' paths, and said, because every command
/// of a scenario starts in the build context.
fn change_dir(target: Option<&Word>, spot: &Spot, env: &mut Env, plan: &mut Plan) {
    env.change_dir(target.map(|w| w.text.as_str()), target.is_some_and(|w| w.from_project_dir));
    let message = match env.cwd() {
        Cwd::Known(dir) if dir.is_empty() => {
            "`cd` back to the repository root: the following builds read their paths from there".to_owned()
        }
        Cwd::Known(dir) => format!(
            "`cd {dir}`: the following builds read their context and `--file` relative to `{dir}`; \
             other commands of the scenario still start in the build context"
        ),
        Cwd::Unknown(to) => format!(
            "`cd {to}` leaves the repository as far as the importer can tell: the following builds \
             read their paths from where the script was before; check them"
        ),
    };
    plan.warn(spot.clone(), message);
}

/// A build's context and Dockerfile as paths from the repository root.
fn in_cwd(build: &mut Build, cwd: &Cwd, comments: &mut Vec<String>) {
    let Cwd::Known(dir) = cwd else { return };
    if dir.is_empty() {
        return;
    }
    let join = |path: &str| docker::normalize_context(&format!("{dir}/{path}"));
    if !build.context.starts_with('/') {
        build.context = join(&build.context);
    }
    if let Some(file) = build.file.as_mut().filter(|f| !f.starts_with('/')) {
        *file = join(file);
    }
    comments.push(format!("run from `{dir}` in the CI job (after `cd`)"));
}

/// The command re-quoted for `sh -c`, variables expanded.
fn shell_text(simple: &Simple) -> String {
    let stages: Vec<String> = simple
        .stages
        .iter()
        .map(|words| words.iter().map(|w| quote(&w.text).into_owned()).collect::<Vec<_>>().join(" "))
        .collect();
    let mut text = stages.join(" | ");
    for redirect in &simple.redirects {
        text.push(' ');
        text.push_str(redirect);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn spot() -> Spot {
        Spot { file: PathBuf::from(".gitlab-ci.yml"), line: 7, key: "build.script[0]".into() }
    }

    #[test]
    fn exports_feed_later_lines_and_unreadable_lines_warn() {
        let mut env = Env::default();
        env.set("CI_REGISTRY_IMAGE", "{image}");
        let mut plan = Plan::default();
        let script = "export TAG=$CI_REGISTRY_IMAGE:main\ndocker pull $TAG || true\ndocker build -t x:$(date +%s) .\napk add curl";
        read_entry(script, &spot(), &mut env, &mut plan);
        assert_eq!(plan.commands.len(), 3);
        assert_eq!(plan.commands[0].cmd, Cmd::Pull("{image}:main".into()));
        assert!(plan.commands[0].may_fail);
        assert!(matches!(&plan.commands[1].cmd, Cmd::Shell(s) if s.contains("$(date")));
        assert_eq!(plan.warnings.len(), 2);
        read_entry("if [ \"$X\" = main ]; then docker push a; fi", &spot(), &mut env, &mut plan);
        assert!(matches!(&plan.commands[3].cmd, Cmd::Shell(s) if s.starts_with("if [")), "{:?}", plan.commands);
        assert!(plan.warnings[2].message.contains("compound statement"));
        assert!(
            plan.warnings[0].to_string().starts_with(
                ".gitlab-ci.yml:7: at `build.script[0]`: kept as a shell command, because it uses command substitution"
            ),
            "{}",
            plan.warnings[0]
        );
        assert!(plan.warnings[1].message.contains("`apk` is not a docker command"));
    }

    #[test]
    fn cd_moves_the_builds_and_is_said() {
        let mut env = Env::default();
        env.set("CI_PROJECT_DIR", ".");
        let mut plan = Plan::default();
        let script = "cd services/api\ndocker build -f docker/Dockerfile -t a .\ncd $CI_PROJECT_DIR\ndocker build -t b web\ncd /tmp\ndocker build -t c .";
        read_entry(script, &spot(), &mut env, &mut plan);
        let builds: Vec<(String, Option<String>)> =
            plan.builds().map(|b| (b.context.clone(), b.file.clone())).collect();
        assert_eq!(
            builds,
            [
                ("services/api".to_owned(), Some("services/api/docker/Dockerfile".to_owned())),
                ("web".to_owned(), None),
                (".".to_owned(), None),
            ]
        );
        assert_eq!(plan.commands[0].comments, ["run from `services/api` in the CI job (after `cd`)"]);
        let messages: Vec<&str> = plan.warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages[0].starts_with("`cd services/api`: the following builds read their context"));
        assert!(messages[1].starts_with("`cd` back to the repository root"));
        assert!(messages[2].starts_with("`cd /tmp` leaves the repository"));
    }
}
