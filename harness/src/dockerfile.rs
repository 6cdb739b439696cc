//! The images a Dockerfile needs before it can build: its `FROM` bases, the
//! images its `COPY --from` and `RUN --mount=from=` name, and the frontend of
//! a `# syntax=` directive.
//!
//! Runs need this before any job starts: every such image must be in the
//! run's registry (nothing is pulled from the internet), and an image no path
//! can provide must be named up front, not after three jobs. It reads the
//! file as BuildKit's parser does where that matters: parser directives,
//! line continuations with the file's escape character, heredoc bodies
//! skipped, global `ARG`s (with build-arg overrides and the automatic
//! platform ARGs) expanded in `FROM`, stage names (case-insensitive) and
//! `scratch` told apart from images. Pure: no Docker, no file system.

use std::collections::BTreeMap;

/// How the Dockerfile uses an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Use {
    From,
    CopyFrom,
    MountFrom,
    /// The `# syntax=` frontend image.
    Syntax,
}

/// One image the Dockerfile needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseImage {
    pub reference: ImageRef,
    /// The reference after ARG expansion, as written.
    pub written: String,
    /// 1-based line of the instruction.
    pub line: usize,
    /// `--platform` of a `FROM`, expanded.
    pub platform: Option<String>,
    pub used_as: Use,
}

/// A normalized image reference, as Docker's `reference.ParseNormalizedNamed`
/// gives it: registry domain, path, tag or digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageRef {
    /// `docker.io` for Docker Hub.
    pub domain: String,
    /// `library/debian`, `lukemathwalker/cargo-chef`.
    pub path: String,
    /// `latest` when neither tag nor digest is written.
    pub tag: Option<String>,
    pub digest: Option<String>,
}

/// A Dockerfile the harness cannot read for its images.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DockerfileError {
    #[error("line {line}: `{instruction}` names no image")]
    Empty { line: usize, instruction: String },
    #[error("line {line}: `{written}` is not an image reference: {why}")]
    BadReference { line: usize, written: String, why: String },
    #[error("line {line}: cannot expand `{text}`: {why}")]
    Expansion { line: usize, text: String, why: String },
}

pub const HUB: &str = "docker.io";

impl ImageRef {
    /// Parses `name[:tag][@digest]`; a name without a registry is Docker
    /// Hub's, one-part Hub names live under `library/`.
    pub fn parse(written: &str) -> Result<ImageRef, String> {
        if written.is_empty() {
            return Err("it is empty".into());
        }
        let (rest, digest) = match written.split_once('@') {
            Some((rest, digest)) => {
                let valid = digest.split_once(':').is_some_and(|(alg, hex)| {
                    !alg.is_empty() && hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
                });
                if !valid {
                    return Err(format!("bad digest `{digest}`"));
                }
                (rest, Some(digest.to_owned()))
            }
            None => (written, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(rest[last_slash + i + 1..].to_owned())),
            None => (rest, None),
        };
        if let Some(tag) = &tag {
            let valid = !tag.is_empty()
                && tag.len() <= 128
                && !tag.starts_with(['.', '-'])
                && tag.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
            if !valid {
                return Err(format!("bad tag `{tag}`"));
            }
        }
        let (domain, path) = match name.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
                (first.to_owned(), rest.to_owned())
            }
            _ => (HUB.to_owned(), name.to_owned()),
        };
        let domain = if domain == "index.docker.io" { HUB.to_owned() } else { domain };
        if path.chars().any(|c| c.is_ascii_uppercase()) {
            return Err("repository names must be lowercase".into());
        }
        let component_ok = |c: &str| {
            !c.is_empty()
                && c.starts_with(|ch: char| ch.is_ascii_alphanumeric())
                && c.ends_with(|ch: char| ch.is_ascii_alphanumeric())
                && c.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || "._-".contains(ch))
        };
        if !path.split('/').all(component_ok) {
            return Err(format!("bad repository name `{path}`"));
        }
        let path = if domain == HUB && !path.contains('/') { format!("library/{path}") } else { path };
        let tag = if tag.is_none() && digest.is_none() { Some("latest".to_owned()) } else { tag };
        Ok(ImageRef { domain, path, tag, digest })
    }

    pub fn is_docker_hub(&self) -> bool {
        self.domain == HUB
    }

    /// `path[:tag][@digest]`: the reference inside its registry.
    pub fn repo_reference(&self) -> String {
        let mut out = self.path.clone();
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(digest);
        }
        out
    }

    /// The short form Docker prints: `debian:bookworm-slim`,
    /// `lukemathwalker/cargo-chef:latest-rust-1`, `ghcr.io/o/r:1`.
    pub fn familiar(&self) -> String {
        let repo = self.repo_reference();
        if self.is_docker_hub() {
            repo.strip_prefix("library/").map(str::to_owned).unwrap_or(repo)
        } else {
            format!("{}/{repo}", self.domain)
        }
    }
}

impl std::fmt::Display for ImageRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.familiar())
    }
}

/// One instruction: its keyword (upper case), its text after the keyword
/// (continuations joined) and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    pub keyword: String,
    pub args: String,
    pub line: usize,
}

/// The parser directives at the top of the file (`syntax`, `escape`, ...),
/// keys lower-cased.
pub fn directives(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.trim_start_matches('\u{feff}').trim().strip_prefix('#') else {
            break;
        };
        let Some((key, value)) = rest.split_once('=') else {
            break;
        };
        let key = key.trim().to_ascii_lowercase();
        if key.is_empty() || key.contains(char::is_whitespace) || out.contains_key(&key) {
            break;
        }
        out.insert(key, value.trim().to_owned());
    }
    out
}

/// Splits the file into instructions: comments dropped, continuations joined
/// with the file's escape character, heredoc bodies skipped.
pub fn instructions(text: &str) -> Vec<Instruction> {
    let escape = match directives(text).get("escape").map(String::as_str) {
        Some("`") => '`',
        _ => '\\',
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let first = i;
        let trimmed = lines[i].trim();
        i += 1;
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut joined = String::new();
        let mut current = trimmed.to_owned();
        loop {
            match current.trim_end().strip_suffix(escape) {
                Some(head) if i <= lines.len() => {
                    joined.push_str(head);
                    // Comment and empty lines inside a continuation are dropped.
                    while i < lines.len() && (lines[i].trim().is_empty() || lines[i].trim_start().starts_with('#')) {
                        i += 1;
                    }
                    if i == lines.len() {
                        break;
                    }
                    current = lines[i].trim_start().to_owned();
                    i += 1;
                }
                _ => {
                    joined.push_str(&current);
                    break;
                }
            }
        }
        let (keyword, args) = match joined.split_once(char::is_whitespace) {
            Some((k, a)) => (k.to_ascii_uppercase(), a.trim().to_owned()),
            None => (joined.to_ascii_uppercase(), String::new()),
        };
        for end in heredoc_ends(&keyword, &args) {
            let (word, strip_tabs) = end;
            while i < lines.len() {
                let body = lines[i];
                i += 1;
                let body = if strip_tabs { body.trim_start_matches('\t') } else { body };
                if body == word {
                    break;
                }
            }
        }
        out.push(Instruction { keyword, args, line: first + 1 });
    }
    out
}

/// The end words of the heredocs an instruction opens (`<<EOF`, `<<-"EOF"`),
/// with whether leading tabs are stripped before comparing.
fn heredoc_ends(keyword: &str, args: &str) -> Vec<(String, bool)> {
    if !matches!(keyword, "RUN" | "COPY" | "ADD") {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut rest = args;
    while let Some(at) = rest.find("<<") {
        rest = &rest[at + 2..];
        let strip = rest.starts_with('-');
        let word_part = if strip { &rest[1..] } else { rest };
        let word: String = word_part
            .trim_start_matches(['"', '\''])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !word.is_empty() {
            out.push((word, strip));
        }
    }
    out
}

/// The platform BuildKit builds for here: the host's, as `os/arch`.
pub fn host_platform() -> (&'static str, &'static str) {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "arm" => "arm",
        "s390x" => "s390x",
        "powerpc64" => "ppc64le",
        other => other,
    };
    ("linux", arch)
}

/// The automatic platform ARGs BuildKit defines in the global scope.
fn platform_args() -> BTreeMap<String, String> {
    let (os, arch) = host_platform();
    let platform = format!("{os}/{arch}");
    [
        ("BUILDPLATFORM", platform.as_str()),
        ("BUILDOS", os),
        ("BUILDARCH", arch),
        ("BUILDVARIANT", ""),
        ("TARGETPLATFORM", platform.as_str()),
        ("TARGETOS", os),
        ("TARGETARCH", arch),
        ("TARGETVARIANT", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// Every image `text` needs, in file order, each reference once (first use
/// wins). `build_args` override the defaults of global `ARG`s.
pub fn base_images(text: &str, build_args: &BTreeMap<String, String>) -> Result<Vec<BaseImage>, DockerfileError> {
    let mut found: Vec<BaseImage> = Vec::new();
    let mut push = |image: BaseImage| {
        if !found.iter().any(|f| f.reference == image.reference) {
            found.push(image);
        }
    };
    if let Some(syntax) = directives(text).get("syntax") {
        let reference = ImageRef::parse(syntax).map_err(|why| DockerfileError::BadReference {
            line: 1,
            written: syntax.clone(),
            why,
        })?;
        push(BaseImage { reference, written: syntax.clone(), line: 1, platform: None, used_as: Use::Syntax });
    }
    let mut globals = platform_args();
    let mut stages: Vec<String> = Vec::new();
    for ins in instructions(text) {
        match ins.keyword.as_str() {
            "ARG" if stages.is_empty() => declare_args(&ins, build_args, &mut globals)?,
            "FROM" => {
                let from = parse_from(&ins, &globals)?;
                if let Some(image) = from.image {
                    if !image.eq_ignore_ascii_case("scratch") && !is_stage(&stages, &image) {
                        push(base(&ins, &image, from.platform, Use::From)?);
                    }
                }
                stages.push(from.name.unwrap_or_default().to_ascii_lowercase());
            }
            "COPY" | "ADD" => {
                if let Some(from) = flag_values(&ins.args, "from").into_iter().next() {
                    if !is_stage(&stages, &from) {
                        push(base(&ins, &from, None, Use::CopyFrom)?);
                    }
                }
            }
            "RUN" => {
                for mount in flag_values(&ins.args, "mount") {
                    let from = mount.split(',').find_map(|kv| kv.strip_prefix("from=").map(str::to_owned));
                    if let Some(from) = from {
                        if !is_stage(&stages, &from) && !from.eq_ignore_ascii_case("scratch") {
                            push(base(&ins, &from, None, Use::MountFrom)?);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(found)
}

fn base(
    ins: &Instruction,
    written: &str,
    platform: Option<String>,
    used_as: Use,
) -> Result<BaseImage, DockerfileError> {
    let reference = ImageRef::parse(written).map_err(|why| DockerfileError::BadReference {
        line: ins.line,
        written: written.to_owned(),
        why,
    })?;
    Ok(BaseImage { reference, written: written.to_owned(), line: ins.line, platform, used_as })
}

/// A stage name seen so far, or a stage index (`COPY --from=0`).
fn is_stage(stages: &[String], name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    stages.contains(&lower) || name.parse::<usize>().is_ok_and(|n| n < stages.len())
}

/// `ARG NAME[=default] ...` before the first FROM: the build arg wins over
/// the default; the default is expanded with the ARGs before it.
fn declare_args(
    ins: &Instruction,
    build_args: &BTreeMap<String, String>,
    globals: &mut BTreeMap<String, String>,
) -> Result<(), DockerfileError> {
    for word in words(&ins.args) {
        let (name, default) = match word.split_once('=') {
            Some((n, d)) => (n.to_owned(), Some(unquote(d))),
            None => (word.clone(), None),
        };
        let value = match (build_args.get(&name), default) {
            (Some(arg), _) => arg.clone(),
            (None, Some(default)) => expand(&default, globals, ins.line)?,
            (None, None) => continue,
        };
        globals.insert(name, value);
    }
    Ok(())
}

struct From {
    image: Option<String>,
    platform: Option<String>,
    name: Option<String>,
}

fn parse_from(ins: &Instruction, globals: &BTreeMap<String, String>) -> Result<From, DockerfileError> {
    let mut platform = None;
    let mut rest = Vec::new();
    for word in words(&ins.args) {
        match word.strip_prefix("--platform=") {
            Some(value) => platform = Some(expand(value, globals, ins.line)?),
            None if word.starts_with("--") => {}
            None => rest.push(word),
        }
    }
    let Some(image) = rest.first() else {
        return Err(DockerfileError::Empty { line: ins.line, instruction: format!("FROM {}", ins.args) });
    };
    let image = expand(image, globals, ins.line)?;
    if image.is_empty() {
        return Err(DockerfileError::Empty { line: ins.line, instruction: format!("FROM {}", ins.args) });
    }
    let name = match rest.get(1) {
        Some(as_word) if as_word.eq_ignore_ascii_case("as") => rest.get(2).cloned(),
        _ => None,
    };
    Ok(From { image: Some(image), platform, name })
}

/// The values of `--name=value` flags at the start of an instruction.
fn flag_values(args: &str, flag: &str) -> Vec<String> {
    let prefix = format!("--{flag}=");
    words(args)
        .into_iter()
        .take_while(|w| w.starts_with("--"))
        .filter_map(|w| w.strip_prefix(&prefix).map(unquote))
        .collect()
}

/// Whitespace-separated words, quotes kept inside a word.
fn words(args: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    for c in args.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                word.push(c);
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                word.push(c);
            }
            (None, c) if c.is_whitespace() => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
            }
            (_, c) => word.push(c),
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

fn unquote(value: &str) -> String {
    let v = value.trim();
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return v[1..v.len() - 1].to_owned();
        }
    }
    v.to_owned()
}

/// Shell-style expansion as BuildKit's lexer does it for `FROM`: `$X`,
/// `${X}`, `${X:-w}`, `${X-w}`, `${X:+w}`, `${X+w}`; an unset variable is
/// empty. Quotes are removed.
pub fn expand(text: &str, vars: &BTreeMap<String, String>, line: usize) -> Result<String, DockerfileError> {
    let fail = |why: &str| DockerfileError::Expansion { line, text: text.to_owned(), why: why.to_owned() };
    let chars: Vec<char> = unquote(text).chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c == '\\' && i < chars.len() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        if c != '$' || i == chars.len() {
            out.push(c);
            continue;
        }
        if chars[i] == '{' {
            let close = chars[i..].iter().position(|&c| c == '}').ok_or_else(|| fail("a `${` is not closed"))?;
            let inner: String = chars[i + 1..i + close].iter().collect();
            i += close + 1;
            out.push_str(&expand_braced(&inner, vars, line).map_err(|why| fail(&why))?);
        } else {
            let name: String = chars[i..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == '_').collect();
            if name.is_empty() {
                out.push('$');
                continue;
            }
            i += name.chars().count();
            out.push_str(vars.get(&name).map_or("", String::as_str));
        }
    }
    Ok(out)
}

fn expand_braced(inner: &str, vars: &BTreeMap<String, String>, line: usize) -> Result<String, String> {
    let name_len = inner.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(inner.len());
    let (name, op) = inner.split_at(name_len);
    if name.is_empty() {
        return Err(format!("`${{{inner}}}` has no variable name"));
    }
    let value = vars.get(name);
    let set_nonempty = value.is_some_and(|v| !v.is_empty());
    let word = |w: &str| expand(w, vars, line).map_err(|e| e.to_string());
    match op {
        "" => Ok(value.cloned().unwrap_or_default()),
        _ if op.starts_with(":-") => {
            if set_nonempty {
                Ok(value.cloned().unwrap_or_default())
            } else {
                word(&op[2..])
            }
        }
        _ if op.starts_with(":+") => {
            if set_nonempty {
                word(&op[2..])
            } else {
                Ok(String::new())
            }
        }
        _ if op.starts_with('-') => match value {
            Some(v) => Ok(v.clone()),
            None => word(&op[1..]),
        },
        _ if op.starts_with('+') => {
            if value.is_some() {
                word(&op[1..])
            } else {
                Ok(String::new())
            }
        }
        _ => Err(format!("the modifier in `${{{inner}}}` is not supported here")),
    }
}

/// `text` with every `FROM` whose image is a key of `to` pointing at the
/// mapped reference instead (flags and stage name kept), for engines that
/// cannot reach an image through the registry mirror. References are
/// compared normalized, after ARG expansion.
pub fn rewrite_from_lines(
    text: &str,
    to: &BTreeMap<ImageRef, String>,
    build_args: &BTreeMap<String, String>,
) -> Result<String, DockerfileError> {
    let mut globals = platform_args();
    let mut stages: Vec<String> = Vec::new();
    let mut replace_lines: BTreeMap<usize, String> = BTreeMap::new();
    for ins in instructions(text) {
        match ins.keyword.as_str() {
            "ARG" if stages.is_empty() => declare_args(&ins, build_args, &mut globals)?,
            "FROM" => {
                let from = parse_from(&ins, &globals)?;
                let image = from.image.clone().unwrap_or_default();
                if !is_stage(&stages, &image) {
                    if let Some(new) = ImageRef::parse(&image).ok().and_then(|r| to.get(&r)) {
                        let mut line = String::from("FROM ");
                        if let Some(platform) = &from.platform {
                            line.push_str(&format!("--platform={platform} "));
                        }
                        line.push_str(new);
                        if let Some(name) = &from.name {
                            line.push_str(&format!(" AS {name}"));
                        }
                        replace_lines.insert(ins.line, line);
                    }
                }
                stages.push(from.name.unwrap_or_default().to_ascii_lowercase());
            }
            _ => {}
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut skip_continuation = false;
    for (i, line) in text.lines().enumerate() {
        if skip_continuation {
            skip_continuation = line.trim_end().ends_with('\\');
            continue;
        }
        match replace_lines.get(&(i + 1)) {
            Some(new) => {
                out.push_str(new);
                skip_continuation = line.trim_end().ends_with('\\');
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use indoc::indoc;
    use rstest::rstest;

    use super::*;

    fn images(text: &str) -> Vec<String> {
        base_images(text, &BTreeMap::new()).unwrap().into_iter().map(|b| b.reference.familiar()).collect()
    }

    #[rstest]
    #[case::hub_library("debian:bookworm-slim", HUB, "library/debian", Some("bookworm-slim"), None)]
    #[case::hub_user(
        "lukemathwalker/cargo-chef:latest-rust-1",
        HUB,
        "lukemathwalker/cargo-chef",
        Some("latest-rust-1"),
        None
    )]
    #[case::default_tag("alpine", HUB, "library/alpine", Some("latest"), None)]
    #[case::explicit_hub("docker.io/library/rust:1", HUB, "library/rust", Some("1"), None)]
    #[case::index_hub("index.docker.io/library/rust:1", HUB, "library/rust", Some("1"), None)]
    #[case::other_registry("ghcr.io/o/r:v1", "ghcr.io", "o/r", Some("v1"), None)]
    #[case::port("localhost:5000/app", "localhost:5000", "app", Some("latest"), None)]
    #[case::digest(
        "debian@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        HUB,
        "library/debian",
        None,
        Some("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
    )]
    fn references_normalize_as_docker_does(
        #[case] written: &str,
        #[case] domain: &str,
        #[case] path: &str,
        #[case] tag: Option<&str>,
        #[case] digest: Option<&str>,
    ) {
        let r = ImageRef::parse(written).unwrap();
        assert_eq!(
            (r.domain.as_str(), r.path.as_str(), r.tag.as_deref(), r.digest.as_deref()),
            (domain, path, tag, digest)
        );
    }

    #[rstest]
    #[case::upper("Debian:12", "lowercase")]
    #[case::bad_tag("debian:-x", "bad tag")]
    #[case::bad_digest("debian@sha256:xyz", "bad digest")]
    #[case::empty_component("a//b", "bad repository name")]
    fn bad_references_say_why(#[case] written: &str, #[case] why: &str) {
        let err = ImageRef::parse(written).unwrap_err();
        assert!(err.contains(why), "{err}");
    }

    #[test]
    fn familiar_names_are_what_docker_prints() {
        assert_eq!(ImageRef::parse("docker.io/library/debian:12").unwrap().familiar(), "debian:12");
        assert_eq!(ImageRef::parse("ghcr.io/o/r").unwrap().familiar(), "ghcr.io/o/r:latest");
        assert_eq!(ImageRef::parse("a/b:1").unwrap().repo_reference(), "a/b:1");
    }

    #[test]
    fn the_first_seeds_dockerfile_needs_its_two_official_images() {
        let text = indoc! {"
            FROM lukemathwalker/cargo-chef:latest-rust-1 AS chef
            WORKDIR /app

            FROM chef AS planner
            COPY . .
            RUN cargo chef prepare --recipe-path recipe.json

            FROM chef AS builder
            COPY --from=planner /app/recipe.json recipe.json
            RUN cargo chef cook --release --recipe-path recipe.json
            COPY . .
            RUN cargo build --release --bin app

            FROM debian:bookworm-slim AS runtime
            COPY --from=builder /app/target/release/app /usr/local/bin
        "};
        let found = base_images(text, &BTreeMap::new()).unwrap();
        let summary: Vec<_> = found.iter().map(|b| (b.reference.familiar(), b.line, b.used_as)).collect();
        assert_eq!(
            summary,
            [
                ("lukemathwalker/cargo-chef:latest-rust-1".to_owned(), 1, Use::From),
                ("debian:bookworm-slim".to_owned(), 14, Use::From),
            ]
        );
    }

    #[test]
    fn global_args_expand_in_from_and_build_args_override_them() {
        let text = indoc! {r#"
            ARG RUST_VERSION=1.80
            ARG BASE="debian:${DEBIAN:-bookworm}-slim"
            ARG UNUSED
            FROM rust:${RUST_VERSION} AS build
            FROM --platform=$BUILDPLATFORM ${BASE}
            ARG LATE=ignored
            FROM $UNUSED${BASE}
        "#};
        let found = base_images(text, &BTreeMap::new()).unwrap();
        assert_eq!(
            found.iter().map(|b| b.reference.familiar()).collect::<Vec<_>>(),
            ["rust:1.80", "debian:bookworm-slim"]
        );
        let (os, arch) = host_platform();
        assert_eq!(found[1].platform.as_deref(), Some(format!("{os}/{arch}").as_str()));

        let args =
            BTreeMap::from([("RUST_VERSION".to_owned(), "1.91".to_owned()), ("DEBIAN".to_owned(), "x".to_owned())]);
        // DEBIAN is not a declared ARG, so it does not reach the default.
        let found = base_images(text, &args).unwrap();
        assert_eq!(
            found.iter().map(|b| b.reference.familiar()).collect::<Vec<_>>(),
            ["rust:1.91", "debian:bookworm-slim"]
        );
    }

    #[test]
    fn stages_scratch_copy_from_mounts_and_syntax() {
        let text = indoc! {"
            # syntax=docker/dockerfile:1.7
            # escape=\\
            FROM scratch AS Empty
            FROM alpine:3.20 AS Tools
            COPY --from=nginx:1.27 /etc/nginx/nginx.conf /x
            COPY --from=tools /bin/sh /sh
            COPY --from=0 / /
            COPY --from=empty / /
            RUN --mount=type=cache,target=/c --mount=type=bind,from=busybox:1,target=/b true
            RUN --mount=from=TOOLS,target=/t true
            FROM tools
        "};
        assert_eq!(images(text), ["docker/dockerfile:1.7", "alpine:3.20", "nginx:1.27", "busybox:1"]);
    }

    #[test]
    fn continuations_comments_and_heredocs_are_read_like_buildkit() {
        let text = indoc! {"
            FROM \\
              # a comment inside the continuation
              debian:bookworm \\
              AS base
            RUN <<EOF
            FROM not-an-image:inside-a-heredoc
            EOF
            COPY <<-CONF /etc/x.conf
            \tFROM neither:this
            \tCONF
            FROM base
        "};
        let found = base_images(text, &BTreeMap::new()).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].reference.familiar().as_str(), found[0].line), ("debian:bookworm", 1));
    }

    #[test]
    fn a_backtick_escape_directive_joins_with_backticks() {
        let text = "# escape=`\nFROM `\n  mcr.microsoft.com/windows/servercore:ltsc2022\n";
        assert_eq!(images(text), ["mcr.microsoft.com/windows/servercore:ltsc2022"]);
    }

    #[test]
    fn lowercase_instructions_and_as_are_accepted() {
        assert_eq!(images("from debian:12 as one\nfrom ONE\n"), ["debian:12"]);
    }

    #[rstest]
    #[case::from_nothing("FROM\n", "line 1: `FROM ` names no image")]
    #[case::empty_after_expansion("ARG X\nFROM ${X}\n", "line 2: `FROM ${X}` names no image")]
    #[case::bad_reference(
        "FROM Debian:12\n",
        "line 1: `Debian:12` is not an image reference: repository names must be lowercase"
    )]
    #[case::unclosed("FROM ${X\n", "line 1: cannot expand `${X`: a `${` is not closed")]
    #[case::unsupported_modifier(
        "FROM ${X%%y}\n",
        "line 1: cannot expand `${X%%y}`: the modifier in `${X%%y}` is not supported here"
    )]
    fn unreadable_dockerfiles_name_the_line(#[case] text: &str, #[case] message: &str) {
        assert_eq!(base_images(text, &BTreeMap::new()).unwrap_err().to_string(), message);
    }

    #[test]
    fn rewriting_points_from_lines_at_the_run_registry() {
        let text =
            "ARG V=12\nFROM --platform=linux/amd64 debian:${V} AS base\nFROM base\nFROM rust:1 \\\n  AS b\nRUN x\n";
        let to = BTreeMap::from([
            (ImageRef::parse("debian:12").unwrap(), "r:5000/library/debian:12".to_owned()),
            (ImageRef::parse("rust:1").unwrap(), "r:5000/library/rust:1".to_owned()),
        ]);
        assert_eq!(
            rewrite_from_lines(text, &to, &BTreeMap::new()).unwrap(),
            "ARG V=12\nFROM --platform=linux/amd64 r:5000/library/debian:12 AS base\nFROM base\nFROM r:5000/library/rust:1 AS b\nRUN x\n"
        );
    }
}
