//! Just enough of a Dockerfile to know which step's cache matters.
//!
//! The importer writes expectations for the dependency step (`cargo chef
//! cook`, `npm ci`, `pip install -r`, `go mod download`, ...): the step a
//! cache exists for, which should run in the first job and be reused from
//! the second on. It needs the stages (names, and which stages each one
//! needs through `FROM` and `--from`) to tell which build runs the step.

/// One `FROM` stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stage {
    /// `AS name`, lowercased as BuildKit prints it.
    pub name: Option<String>,
    /// Stages (names or indexes as text) this stage needs.
    pub needs: Vec<String>,
    /// `RUN` instructions, continuation lines joined.
    pub runs: Vec<String>,
}

/// A dependency step found in a stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DependencyStep {
    pub stage: usize,
    /// Text of the step to match (`cargo chef cook --release ...`).
    pub step: String,
    /// What kind of dependencies (`cargo-chef`, `npm`, ...), for comments.
    pub tool: &'static str,
}

/// Commands that install a project's dependencies from its lock files.
const DEPENDENCY_COMMANDS: &[(&str, &[&str])] = &[
    ("cargo-chef", &["cargo chef cook"]),
    ("cargo", &["cargo fetch"]),
    ("npm", &["npm ci", "npm install", "npm i "]),
    ("yarn", &["yarn install", "yarn --frozen-lockfile"]),
    ("pnpm", &["pnpm install", "pnpm i "]),
    (
        "pip",
        &[
            "pip install -r",
            "pip3 install -r",
            "pip install --no-cache-dir -r",
            "pip3 install --no-cache-dir -r",
            "pip install --requirement",
        ],
    ),
    ("poetry", &["poetry install"]),
    ("uv", &["uv sync", "uv pip install -r"]),
    ("pipenv", &["pipenv install"]),
    ("go", &["go mod download"]),
    ("bundler", &["bundle install"]),
    ("composer", &["composer install"]),
    ("maven", &["dependency:go-offline", "dependency:resolve"]),
    ("gradle", &["gradle dependencies", "gradlew dependencies"]),
    ("dotnet", &["dotnet restore"]),
    ("mix", &["mix deps.get"]),
];

pub(crate) fn stages(text: &str) -> Vec<Stage> {
    let mut stages: Vec<Stage> = Vec::new();
    for line in instructions(text) {
        let mut words = line.split_whitespace();
        let Some(keyword) = words.next() else { continue };
        let rest: Vec<&str> = words.collect();
        match keyword.to_ascii_uppercase().as_str() {
            "FROM" => {
                let args: Vec<&str> = rest.iter().copied().filter(|w| !w.starts_with("--")).collect();
                let name = match args.as_slice() {
                    [_, as_, name, ..] if as_.eq_ignore_ascii_case("as") => Some(name.to_ascii_lowercase()),
                    _ => None,
                };
                let base = args.first().map(|b| b.to_ascii_lowercase()).unwrap_or_default();
                stages.push(Stage { name, needs: vec![base], runs: Vec::new() });
            }
            "COPY" | "ADD" | "RUN" => {
                let Some(stage) = stages.last_mut() else { continue };
                for word in &rest {
                    if let Some(from) = word.strip_prefix("--from=") {
                        stage.needs.push(from.to_ascii_lowercase());
                    } else if word.starts_with("--mount=") {
                        if let Some(from) = word.split(',').find_map(|f| f.strip_prefix("from=")) {
                            stage.needs.push(from.to_ascii_lowercase());
                        }
                    }
                }
                if keyword.eq_ignore_ascii_case("RUN") {
                    stage.runs.push(line.clone());
                }
            }
            _ => {}
        }
    }
    stages
}

/// Logical instructions: continuation lines joined, comments dropped.
pub(crate) fn instructions(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        if let Some(body) = trimmed.strip_suffix('\\') {
            current.push_str(body);
            current.push(' ');
        } else {
            current.push_str(trimmed);
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

/// The paths `COPY`/`ADD` take from the build context (not `--from` a
/// stage or image, not URLs), as written without `./` and trailing `/`;
/// `None` when one of them takes the whole context (`.`, a top-level glob).
pub(crate) fn copied_paths(text: &str) -> Option<Vec<String>> {
    let mut paths = Vec::new();
    for line in instructions(text) {
        let Some((keyword, rest)) = line.split_once(char::is_whitespace) else { continue };
        if !["COPY", "ADD"].contains(&keyword.to_ascii_uppercase().as_str()) {
            continue;
        }
        let rest = rest.trim();
        let words: Vec<String> = rest.split_whitespace().map(str::to_owned).collect();
        if words.iter().any(|w| w.starts_with("--from=")) {
            continue;
        }
        let args: Vec<String> = words.into_iter().filter(|w| !w.starts_with("--")).collect();
        let args = match args.join(" ") {
            json if json.starts_with('[') => serde_json::from_str::<Vec<String>>(&json).unwrap_or_default(),
            _ => args,
        };
        let Some((_, sources)) = args.split_last() else { continue };
        for source in sources {
            if source.contains("://") || source.starts_with("git@") {
                continue;
            }
            let path = source.trim_start_matches("./").trim_end_matches('/');
            // `src/*.rs` copies from `src`; `*.py` or `.` from everywhere.
            let dir = match path.find(['*', '?', '[']) {
                Some(at) => path[..at].rsplit_once('/').map_or("", |(d, _)| d),
                None => path,
            };
            if dir.is_empty() || dir == "." {
                return None;
            }
            paths.push(dir.to_owned());
        }
    }
    Some(paths)
}

/// The first dependency step of each stage.
pub(crate) fn dependency_steps(stages: &[Stage]) -> Vec<DependencyStep> {
    let mut found = Vec::new();
    for (index, stage) in stages.iter().enumerate() {
        'runs: for run in &stage.runs {
            for (tool, patterns) in DEPENDENCY_COMMANDS {
                for pattern in *patterns {
                    if let Some(at) = run.find(pattern) {
                        found.push(DependencyStep { stage: index, step: command_at(run, at), tool });
                        break 'runs;
                    }
                }
            }
        }
    }
    found
}

/// The shell command starting at `at`, up to `&&`, `;` or `|`.
fn command_at(run: &str, at: usize) -> String {
    let rest = &run[at..];
    let end = ["&&", ";", "||", "|"].iter().filter_map(|sep| rest.find(sep)).min().unwrap_or(rest.len());
    rest[..end].split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The stages a build of `target` (the last stage when `None`) runs.
pub(crate) fn stages_built(stages: &[Stage], target: Option<&str>) -> Vec<usize> {
    let index_of = |name: &str| -> Option<usize> {
        stages
            .iter()
            .position(|s| s.name.as_deref() == Some(name))
            .or_else(|| name.parse().ok().filter(|i| *i < stages.len()))
    };
    let start = match target {
        Some(t) => index_of(&t.to_ascii_lowercase()),
        None => stages.len().checked_sub(1),
    };
    let mut built = Vec::new();
    let mut todo: Vec<usize> = start.into_iter().collect();
    while let Some(i) = todo.pop() {
        if built.contains(&i) {
            continue;
        }
        built.push(i);
        todo.extend(stages[i].needs.iter().filter_map(|n| index_of(n)).filter(|j| *j < i));
    }
    built
}

#[cfg(test)]
mod tests {
    use super::*;
    use indoc::indoc;

    const CHEF: &str = indoc! {"
        FROM lukemathwalker/cargo-chef:latest-rust-1 AS chef
        WORKDIR /app

        FROM chef AS planner
        COPY . .
        RUN cargo chef prepare --recipe-path recipe.json

        FROM chef AS builder
        COPY --from=planner /app/recipe.json recipe.json
        # Build dependencies - this is the caching Docker layer!
        RUN cargo chef cook --release --recipe-path recipe.json
        COPY . .
        RUN cargo build --release --bin hello-world
    "};

    #[test]
    fn the_seed_dockerfile() {
        let stages = stages(CHEF);
        assert_eq!(stages.len(), 3);
        assert_eq!(stages[2].needs, ["chef", "planner"]);
        let deps = dependency_steps(&stages);
        assert_eq!(
            deps,
            [DependencyStep {
                stage: 2,
                step: "cargo chef cook --release --recipe-path recipe.json".into(),
                tool: "cargo-chef"
            }]
        );
        let mut built = stages_built(&stages, Some("builder"));
        built.sort();
        assert_eq!(built, [0, 1, 2]);
        assert_eq!(stages_built(&stages, Some("planner")), [1, 0]);
    }

    #[test]
    fn copied_paths_from_the_context() {
        assert_eq!(copied_paths(CHEF), None, "`COPY . .` takes everything");
        let text = indoc! {r#"
            FROM python:3.12 AS base
            COPY requirements.txt ./
            COPY --chown=app ./app/ /srv/app/
            ADD ["static/css", "/srv/static/"]
            COPY src/*.py /srv/
            ADD https://example.com/x.tgz /tmp/
            COPY --from=base /usr/lib /usr/lib
        "#};
        assert_eq!(copied_paths(text).unwrap(), ["requirements.txt", "app", "static/css", "src"]);
        assert_eq!(copied_paths("FROM a\nCOPY *.go ./\n"), None);
    }

    #[test]
    fn continuations_and_mounts() {
        let stages = stages(indoc! {"
            FROM node:20 AS deps
            RUN --mount=type=cache,target=/root/.npm \\
                apt-get update && \\
                npm ci --omit=dev
            FROM node:20-slim
            COPY --from=deps /app/node_modules ./node_modules
        "});
        let deps = dependency_steps(&stages);
        assert_eq!(deps[0].step, "npm ci --omit=dev");
        assert_eq!(stages_built(&stages, None).len(), 2);
    }
}
