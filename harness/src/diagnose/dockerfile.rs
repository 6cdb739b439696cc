//! Just enough of a Dockerfile for diagnosis: its stages and, per stage,
//! the cache mounts of its `RUN`s and the sources of `COPY --from`, each
//! with its line. `--dockerfile` feeds it; without it the same facts are
//! read from the instructions BuildKit prints (see [`super::mounts`]),
//! which tty output cuts short.

use std::path::Path;

/// One instruction, continuation lines joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// 1-based line where it starts.
    pub line: u64,
    /// Upper-cased keyword (`RUN`, `COPY`).
    pub keyword: String,
    /// The rest, continuation lines joined with a space.
    pub args: String,
}

/// A `FROM ... [AS name]` and the instructions under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// The `AS` name, or BuildKit's `stage-N` for an unnamed stage.
    pub name: String,
    /// 0-based position (what `COPY --from=N` refers to).
    pub index: usize,
    /// The image or stage it starts from.
    pub base: String,
    pub instructions: Vec<Instruction>,
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// The path as given.
    pub label: String,
    pub stages: Vec<Stage>,
}

/// Why a Dockerfile could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DockerfileError {
    #[error("cannot read Dockerfile `{path}`")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` has no FROM instruction: expected a Dockerfile")]
    NoStage { path: String },
}

impl Dockerfile {
    /// Reads a Dockerfile.
    pub fn load(path: &Path) -> Result<Self, DockerfileError> {
        let label = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|source| DockerfileError::Read { path: label.clone(), source })?;
        Self::parse(label, &text)
    }

    /// Parses Dockerfile text.
    pub fn parse(label: impl Into<String>, text: &str) -> Result<Self, DockerfileError> {
        let label = label.into();
        let mut stages: Vec<Stage> = Vec::new();
        for ins in instructions(text) {
            if ins.keyword == "FROM" {
                stages.push(stage_of(&ins, stages.len()));
            } else if let Some(stage) = stages.last_mut() {
                stage.instructions.push(ins);
            }
        }
        if stages.is_empty() {
            return Err(DockerfileError::NoStage { path: label });
        }
        Ok(Self { label, stages })
    }

    /// The stage a `--from=` value names (a name or an index).
    pub fn stage(&self, from: &str) -> Option<&Stage> {
        self.stages
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(from))
            .or_else(|| from.parse::<usize>().ok().and_then(|i| self.stages.get(i)))
    }
}

fn stage_of(ins: &Instruction, index: usize) -> Stage {
    let words: Vec<&str> = ins.args.split_whitespace().filter(|w| !w.starts_with("--")).collect();
    let base = words.first().copied().unwrap_or("").to_owned();
    let name = match words.get(1..3) {
        Some([as_, name]) if as_.eq_ignore_ascii_case("as") => (*name).to_owned(),
        _ => format!("stage-{index}"),
    };
    Stage { name, index, base, instructions: Vec::new() }
}

/// Instructions with continuation lines joined; comments and blank lines
/// inside a continued instruction are skipped, as Docker does.
fn instructions(text: &str) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut current: Option<(u64, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('#') || (line.is_empty() && current.is_some()) {
            continue;
        }
        let (body, continues) = match line.strip_suffix('\\') {
            Some(body) => (body.trim_end(), true),
            None => (line, false),
        };
        let (start, mut acc) = current.take().unwrap_or((i as u64 + 1, String::new()));
        if !acc.is_empty() && !body.is_empty() {
            acc.push(' ');
        }
        acc.push_str(body);
        if continues {
            current = Some((start, acc));
        } else if !acc.trim().is_empty() {
            out.push(split(start, &acc));
        }
    }
    if let Some((start, acc)) = current.filter(|(_, a)| !a.trim().is_empty()) {
        out.push(split(start, &acc));
    }
    out
}

fn split(line: u64, text: &str) -> Instruction {
    let text = text.trim();
    let (keyword, args) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    Instruction { line, keyword: keyword.to_ascii_uppercase(), args: args.trim().to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use indoc::indoc;

    const NAIVE: &str = indoc! {r#"
        # syntax=docker/dockerfile:1
        FROM rust:1 AS chef
        WORKDIR /app

        FROM chef AS builder
        COPY . .
        RUN --mount=type=cache,target=/usr/local/cargo/registry \
            # a comment inside
            --mount=type=cache,target=/app/target \
            cargo build --release

        FROM debian:bookworm-slim
        COPY --from=builder /app/target/release/app /usr/local/bin/app
    "#};

    #[test]
    fn stages_instructions_and_lines() {
        let df = Dockerfile::parse("Dockerfile", NAIVE).unwrap();
        let names: Vec<_> = df.stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["chef", "builder", "stage-2"]);
        let run = &df.stages[1].instructions[1];
        assert_eq!(run.line, 7);
        assert_eq!(run.keyword, "RUN");
        assert_eq!(
            run.args,
            "--mount=type=cache,target=/usr/local/cargo/registry --mount=type=cache,target=/app/target cargo build --release"
        );
        assert_eq!(df.stages[2].instructions[0].line, 13);
        assert_eq!(df.stage("builder").unwrap().index, 1);
        assert_eq!(df.stage("1").unwrap().name, "builder");
        assert_eq!(df.stages[1].base, "chef");
    }

    #[test]
    fn a_file_without_from_is_rejected() {
        let err = Dockerfile::parse("x", "RUN true\n").unwrap_err();
        assert_eq!(err.to_string(), "`x` has no FROM instruction: expected a Dockerfile");
    }
}
