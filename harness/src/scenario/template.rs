//! The template language of scenario text: `{name}` placeholders for
//! run-time values (`{registry}`, `{job}`, ...).
//!
//! Text is parsed once, at load, into a [`Template`], so an unknown name is
//! a load error and rendering cannot fail. A placeholder is `{` + letters,
//! digits or `_` + `}`. Text that only looks alike stays as written:
//! `${name}` (shell) and `{{name}}` (Go templates, as in
//! `docker inspect -f '{{json .Config}}'`).

use std::borrow::Cow;
use std::fmt;

/// A run-time value a placeholder stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    Registry,
    Job,
    Image,
    Scenario,
    Engine,
    Chef,
    Runtime,
}

/// Placeholders allowed in commands, edits and run checks.
pub const COMMAND_VARS: &[Var] = &[Var::Registry, Var::Job, Var::Image, Var::Scenario, Var::Engine];
/// Placeholders allowed in Dockerfiles.
pub const DOCKERFILE_VARS: &[Var] = &[Var::Chef, Var::Runtime];

impl Var {
    const ALL: &[Var] = &[Var::Registry, Var::Job, Var::Image, Var::Scenario, Var::Engine, Var::Chef, Var::Runtime];

    pub fn name(self) -> &'static str {
        match self {
            Var::Registry => "registry",
            Var::Job => "job",
            Var::Image => "image",
            Var::Scenario => "scenario",
            Var::Engine => "engine",
            Var::Chef => "chef",
            Var::Runtime => "runtime",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == name)
    }
}

/// The values placeholders render to, for one job on one engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vars {
    /// The run's registry as the daemon sees it (`host:port`).
    pub registry: String,
    /// 1-based job number.
    pub job: u32,
    /// The scenario's image repository for this engine, `{registry}/{scenario}/{engine}`.
    pub image: String,
    pub scenario: String,
    /// Engine version (`26.1.5`).
    pub engine: String,
    /// The cargo-chef image, pulled through the run's registry.
    pub chef: String,
    /// The runtime base image.
    pub runtime: String,
}

impl Vars {
    fn get(&self, var: Var) -> Cow<'_, str> {
        match var {
            Var::Registry => Cow::Borrowed(&self.registry),
            Var::Job => Cow::Owned(self.job.to_string()),
            Var::Image => Cow::Borrowed(&self.image),
            Var::Scenario => Cow::Borrowed(&self.scenario),
            Var::Engine => Cow::Borrowed(&self.engine),
            Var::Chef => Cow::Borrowed(&self.chef),
            Var::Runtime => Cow::Borrowed(&self.runtime),
        }
    }
}

/// Text with placeholders, checked against an allowed set when parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(Var),
}

/// A placeholder that is unknown or not allowed where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceholderError {
    /// Byte offset of the `{` in the text.
    pub offset: usize,
    pub name: String,
    pub allowed: &'static [Var],
}

impl PlaceholderError {
    /// The allowed names, as `{a}`, `{b}`.
    pub fn allowed_list(&self) -> String {
        let names: Vec<String> = self.allowed.iter().map(|v| format!("`{{{}}}`", v.name())).collect();
        names.join(", ")
    }
}

impl Template {
    /// Parses `text`, accepting only the placeholders in `allowed`.
    pub fn parse(text: &str, allowed: &'static [Var]) -> Result<Self, PlaceholderError> {
        let mut parts = Vec::new();
        let mut literal_start = 0;
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let Some(len) = placeholder_len(bytes, i) else {
                i += 1;
                continue;
            };
            let name = &text[i + 1..i + len - 1];
            let var = Var::from_name(name).filter(|v| allowed.contains(v)).ok_or_else(|| PlaceholderError {
                offset: i,
                name: name.to_owned(),
                allowed,
            })?;
            if literal_start < i {
                parts.push(Part::Text(text[literal_start..i].to_owned()));
            }
            parts.push(Part::Var(var));
            i += len;
            literal_start = i;
        }
        if literal_start < text.len() {
            parts.push(Part::Text(text[literal_start..].to_owned()));
        }
        Ok(Self { source: text.to_owned(), parts })
    }

    /// A template without placeholders.
    pub fn literal(text: &str) -> Self {
        Self { source: text.to_owned(), parts: vec![Part::Text(text.to_owned())] }
    }

    /// Whether the text holds the placeholder `var`.
    pub fn uses(&self, var: Var) -> bool {
        self.parts.contains(&Part::Var(var))
    }

    pub fn render(&self, vars: &Vars) -> String {
        let mut out = String::with_capacity(self.source.len());
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Var(var) => out.push_str(&vars.get(*var)),
            }
        }
        out
    }

    /// The text as written.
    pub fn source(&self) -> &str {
        &self.source
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Length of the placeholder starting at `i`, if one does.
fn placeholder_len(bytes: &[u8], i: usize) -> Option<usize> {
    if bytes[i] != b'{' || (i > 0 && matches!(bytes[i - 1], b'$' | b'{')) {
        return None;
    }
    let name_len = bytes[i + 1..].iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count();
    let close = i + 1 + name_len;
    (name_len > 0 && bytes.get(close) == Some(&b'}') && bytes.get(close + 1) != Some(&b'}')).then_some(name_len + 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        Vars {
            registry: "registry:5000".into(),
            job: 3,
            image: "registry:5000/demo".into(),
            scenario: "demo".into(),
            engine: "26.1.5".into(),
            chef: "registry:5000/chef:latest".into(),
            runtime: "registry:5000/runtime:bookworm".into(),
        }
    }

    #[test]
    fn renders_known_placeholders() {
        let t = Template::parse("{image}:job-{job} on {engine}", COMMAND_VARS).unwrap();
        assert_eq!(t.render(&vars()), "registry:5000/demo:job-3 on 26.1.5");
        assert!(t.uses(Var::Job) && !t.uses(Var::Registry));
        let dockerfile = Template::parse("FROM {runtime}\nRUN echo {{chef}}\n", DOCKERFILE_VARS).unwrap();
        assert!(dockerfile.uses(Var::Runtime) && !dockerfile.uses(Var::Chef), "{{chef}} is literal text");
    }

    #[test]
    fn leaves_shell_and_go_template_braces_alone() {
        let text = "echo ${job} {{json .Config}} {{job}} {a,b} fn() { x; } {} {x-y}";
        let t = Template::parse(text, COMMAND_VARS).unwrap();
        assert_eq!(t.render(&vars()), text);
    }

    #[test]
    fn unknown_and_disallowed_placeholders_are_errors() {
        let err = Template::parse("FROM {chef}\nRUN {jobb}", DOCKERFILE_VARS).unwrap_err();
        assert_eq!((err.offset, err.name.as_str()), (16, "jobb"));
        assert_eq!(err.allowed_list(), "`{chef}`, `{runtime}`");
        let err = Template::parse("docker pull {chef}", COMMAND_VARS).unwrap_err();
        assert_eq!(err.name, "chef");
    }
}
