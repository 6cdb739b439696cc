//! A CI script entry (one item of GitLab's `script`, one GitHub `run:`)
//! read line by line into the plan.
//!
//! Each logical line is tokenized with the variables in scope; each command
//! of it becomes a typed command, a run check, a variable assignment, or a
//! shell line. A line that cannot be read is kept whole as a shell command
//! and warned about, with its file, line and key.

use super::docker::{self, Read};
use super::plan::{Cmd, Plan, Planned, Spot};
use super::shell::{self, Env, Simple};
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
    match docker::read(simple, env) {
        Read::Cmd { cmd, comments } => {
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
}
