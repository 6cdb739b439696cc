//! Command lines: a job's commands and run checks rendered to the exact
//! `sh -c` line the runner executes inside the daemon's container, so a
//! repro pack can replay it with only the docker CLI. Placeholders are the
//! template language of [`super::template`].

use std::borrow::Cow;

use super::model::{BuildCommand, Command, CommandKind, Dockerfile, Frontend, RunCheck};
use super::template::Vars;

/// A command ready to execute: `sh -c <script>` in the build context.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RenderedCommand {
    /// The exact line to run with `sh -c`; self-contained (environment
    /// variables it needs are prefixed), so a repro pack can replay it.
    pub script: String,
    /// For builds: the id expectations use to name this build's log.
    pub build_id: Option<String>,
    /// A failure does not stop the job.
    pub may_fail: bool,
}

impl Command {
    pub fn render(&self, vars: &Vars) -> RenderedCommand {
        let (script, build_id) = match &self.kind {
            CommandKind::Login { registry, username, password } => (
                format!(
                    "echo {} | docker login --username {} --password-stdin {}",
                    quote(password),
                    quote(username),
                    quote(&registry.render(vars))
                ),
                None,
            ),
            CommandKind::Pull(image) => (format!("docker pull {}", quote(&image.render(vars))), None),
            CommandKind::Push(image) => (format!("docker push {}", quote(&image.render(vars))), None),
            CommandKind::Shell(line) => (line.render(vars), None),
            CommandKind::Build(build) => (build.script(vars), Some(build.id.clone())),
        };
        RenderedCommand { script, build_id, may_fail: self.may_fail }
    }
}

impl BuildCommand {
    fn script(&self, vars: &Vars) -> String {
        let mut args: Vec<String> = Vec::new();
        let mut flag = |name: &str, value: String| {
            args.push(name.to_owned());
            args.push(value);
        };
        if let Some(file) = &self.file {
            flag("--file", file.clone());
        }
        if let Some(target) = &self.target {
            flag("--target", target.clone());
        }
        for from in &self.cache_from {
            flag("--cache-from", from.render(vars));
        }
        for to in &self.cache_to {
            flag("--cache-to", to.render(vars));
        }
        for tag in &self.tags {
            flag("--tag", tag.render(vars));
        }
        for (name, value) in &self.build_args {
            flag("--build-arg", format!("{name}={}", value.render(vars)));
        }
        if self.inline_cache {
            flag("--build-arg", "BUILDKIT_INLINE_CACHE=1".to_owned());
        }
        args.extend(self.extra_args.iter().map(|a| a.render(vars)));
        args.push(".".to_owned());

        // The runner parses plain progress; 20.10's CLI needs DOCKER_BUILDKIT
        // to use BuildKit at all, and later CLIs accept it.
        let program = match self.frontend {
            Frontend::Classic => "DOCKER_BUILDKIT=1 docker build",
            Frontend::Buildx => "docker buildx build",
        };
        let quoted: Vec<Cow<'_, str>> = args.iter().map(|a| quote(a)).collect();
        format!("{program} --progress=plain {}", quoted.join(" "))
    }
}

impl RunCheck {
    /// `docker run --rm <image> [command]`. A non-zero exit is not a command
    /// failure: the check's `exit_code` judges it.
    pub fn render(&self, vars: &Vars) -> RenderedCommand {
        let mut script = format!("docker run --rm {}", quote(&self.image.render(vars)));
        for arg in &self.command {
            script.push(' ');
            script.push_str(&quote(&arg.render(vars)));
        }
        RenderedCommand { script, build_id: None, may_fail: true }
    }
}

impl Dockerfile {
    /// The Dockerfile with `{chef}` and `{runtime}` rendered.
    pub fn render(&self, vars: &Vars) -> String {
        self.template.render(vars)
    }
}

/// Quotes `arg` for `sh` when it holds anything but plainly safe characters.
pub fn quote(arg: &str) -> Cow<'_, str> {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c);
    if !arg.is_empty() && arg.chars().all(safe) {
        Cow::Borrowed(arg)
    } else {
        Cow::Owned(format!("'{}'", arg.replace('\'', r"'\''")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(quote("type=registry,ref=r:5000/x:cache,mode=max"), "type=registry,ref=r:5000/x:cache,mode=max");
        assert_eq!(quote("it's here"), r"'it'\''s here'");
        assert_eq!(quote(""), "''");
    }
}
