//! `.dockerignore` as Docker reads and applies it.
//!
//! The harness copies a build context before it uploads it to a dind; what
//! that copy leaves out must be exactly what Docker's client leaves out, or a
//! build would see a file Docker never sends (or miss one it does). So this
//! follows Docker's own code rather than gitignore's rules, which differ:
//! patterns are anchored at the context root (`*.md` is not `a/b.md`), a
//! pattern that matches a folder excludes everything under it, `!` re-includes
//! and the last matching pattern wins, `**` spans any number of folders.
//!
//! Reading follows `moby/patternmatcher/ignorefile.ReadAll` (comment lines
//! start with `#` in the first column, leading `/` dropped, paths cleaned like
//! Go's `filepath.Clean`); matching follows `PatternMatcher.MatchesOrParent
//! Matches`, each pattern compiled the way `Pattern.compile` does. BuildKit
//! prefers `<Dockerfile>.dockerignore` beside the Dockerfile over the
//! context's `.dockerignore` ([`ignore_file_for`]).

use std::path::{Path, PathBuf};

use regex::Regex;

/// A `.dockerignore` that Docker would refuse as well.
#[derive(Debug, thiserror::Error)]
pub enum IgnoreError {
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` line {line}: illegal exclusion pattern `!` (a `!` needs a pattern after it)", path.display())]
    BareExclusion { path: PathBuf, line: usize },
    #[error("`{}` line {line}: bad pattern `{pattern}`: {why}", path.display())]
    BadPattern { path: PathBuf, line: usize, pattern: String, why: String },
}

/// The patterns of one ignore file, compiled, in file order.
#[derive(Debug, Clone, Default)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
}

/// Docker's matcher changed between engines; the harness follows both, and
/// its copy keeps a path unless both leave it out (the engine's own client
/// filters the copy again, with its own rules, when it builds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Engines up to 20.10 (moby `pkg/fileutils`, old `fsutil` walk): every
    /// pattern is a regex that escapes only `.` and `$` (so `+`, `(`, `|`
    /// act as regex operators), a parent is matched only at the pattern's
    /// depth, and an excluded folder is entered only when an exception's
    /// text starts with it. Checked against engine 20.10.24 by
    /// `tests/dockerignore_docker.rs`.
    Legacy,
    /// Later engines (`moby/patternmatcher`): regex characters are literal,
    /// every parent is tried, and an excluded folder is entered whenever an
    /// exception has a wildcard.
    Current,
}

#[derive(Debug, Clone)]
struct Pattern {
    exclusion: bool,
    /// The cleaned pattern, without its `!`.
    text: String,
    kind: Kind,
    /// The [`Dialect::Legacy`] regex; `None` when it does not compile
    /// (that Docker refuses the file; the other dialect still applies).
    legacy: Option<Regex>,
    /// Number of `/`-separated parts (legacy parent matching).
    depth: usize,
}

#[derive(Debug, Clone)]
enum Kind {
    Exact,
    /// `foo/**`: the text before `**` is a prefix.
    Prefix(String),
    /// `**/foo`: the text after `**` is a suffix.
    Suffix(String),
    Regex(Regex),
}

/// The ignore file BuildKit uses for `dockerfile` (a path inside or outside
/// the context): `<dockerfile>.dockerignore` when it exists, else the
/// context's `.dockerignore`, else none.
pub fn ignore_file_for(context: &Path, dockerfile: Option<&Path>) -> Option<PathBuf> {
    if let Some(dockerfile) = dockerfile {
        let mut name = dockerfile.as_os_str().to_owned();
        name.push(".dockerignore");
        let specific = context.join(PathBuf::from(name));
        if specific.is_file() {
            return Some(specific);
        }
    }
    let shared = context.join(".dockerignore");
    shared.is_file().then_some(shared)
}

impl DockerIgnore {
    /// Reads and compiles `path`.
    pub fn read(path: &Path) -> Result<Self, IgnoreError> {
        let text = std::fs::read(path).map_err(|source| IgnoreError::Read { path: path.to_owned(), source })?;
        Self::parse(&String::from_utf8_lossy(&text), path)
    }

    /// Compiles the text of an ignore file; `path` only names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, IgnoreError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut patterns = Vec::new();
        // Go's bufio.Scanner splits on \n and drops one trailing \r.
        for (i, line) in text.split('\n').enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if let Some(pattern) = read_line(line) {
                let number = i + 1;
                patterns.push(Pattern::compile(&pattern).map_err(|why| match why {
                    None => IgnoreError::BareExclusion { path: path.to_owned(), line: number },
                    Some(why) => IgnoreError::BadPattern { path: path.to_owned(), line: number, pattern, why },
                })?);
            }
        }
        Ok(Self { patterns })
    }

    /// Whether any pattern starts with `!`: then an excluded folder must
    /// still be walked, since something below it may come back.
    pub fn has_exclusions(&self) -> bool {
        self.patterns.iter().any(|p| p.exclusion)
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether Docker leaves `path` (relative to the context, `/`-separated)
    /// out of the context, itself or through one of its parent folders, in
    /// either [`Dialect`].
    pub fn excludes(&self, path: &str) -> bool {
        self.excludes_in(path, Dialect::Current) && self.excludes_in(path, Dialect::Legacy)
    }

    /// [`excludes`](Self::excludes) as one dialect decides it.
    pub fn excludes_in(&self, path: &str, dialect: Dialect) -> bool {
        let path = clean(path);
        if path == "." {
            return false;
        }
        let parents: Vec<&str> = match path.rfind('/') {
            Some(i) => {
                let parent = &path[..i];
                parent.match_indices('/').map(|(j, _)| &parent[..j]).chain([parent]).collect()
            }
            None => Vec::new(),
        };
        let mut matched = false;
        for pattern in &self.patterns {
            // An inclusion cannot change a match, nor an exclusion a non-match.
            if pattern.exclusion != matched {
                continue;
            }
            let hit = match dialect {
                Dialect::Current => pattern.matches(&path) || parents.iter().any(|p| pattern.matches(p)),
                Dialect::Legacy => {
                    pattern.matches_legacy(&path)
                        || (pattern.depth <= parents.len() && pattern.matches_legacy(parents[pattern.depth - 1]))
                }
            };
            if hit {
                matched = !pattern.exclusion;
            }
        }
        matched
    }

    /// Whether Docker's walker enters the excluded folder `dir` to look for
    /// re-included files.
    pub fn enters(&self, dir: &str, dialect: Dialect) -> bool {
        let exceptions: Vec<&Pattern> = self.patterns.iter().filter(|p| p.exclusion).collect();
        if exceptions.is_empty() {
            return false;
        }
        if dialect == Dialect::Current && exceptions.iter().any(|p| p.has_inner_wildcard()) {
            return true;
        }
        let prefix = format!("{}/", clean(dir));
        exceptions.iter().any(|p| format!("{}/", p.text).starts_with(&prefix))
    }
}

/// `pkg/fileutils` (engines up to 20.10): the regex every pattern became.
fn legacy_regex(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut re = String::from("^");
    let mut at = 0;
    while at < chars.len() {
        let ch = chars[at];
        at += 1;
        match ch {
            '*' if chars.get(at) == Some(&'*') => {
                at += 1;
                if chars.get(at) == Some(&'/') {
                    at += 1;
                }
                re.push_str(if at == chars.len() { ".*" } else { "(.*/)?" });
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '.' | '$' => {
                re.push('\\');
                re.push(ch);
            }
            '\\' => match chars.get(at) {
                Some(&next) => {
                    at += 1;
                    re.push('\\');
                    re.push(next);
                }
                None => re.push('\\'),
            },
            _ => re.push(ch),
        }
    }
    re.push('$');
    re
}

/// What a copy of the context must keep when several builds read it: a path
/// is left out only when every build's ignore file leaves it out, and the
/// Dockerfiles and ignore files themselves always stay (Docker reads them
/// even when they exclude themselves).
#[derive(Debug, Clone, Default)]
pub struct ContextRules {
    /// One per build; empty when some build has no ignore file.
    ignores: Vec<DockerIgnore>,
    /// Context-relative, `/`-separated paths copied whatever the rules say.
    keep: Vec<String>,
    /// The dialects whose union is kept (both unless narrowed by [`only`](Self::only)).
    dialects: Vec<Dialect>,
}

impl ContextRules {
    /// The rules for builds of `dockerfiles` (paths relative to `context`;
    /// an empty list means the default `Dockerfile`).
    pub fn for_dockerfiles(context: &Path, dockerfiles: &[&Path]) -> Result<Self, IgnoreError> {
        let default = [Path::new("Dockerfile")];
        let dockerfiles = if dockerfiles.is_empty() { &default[..] } else { dockerfiles };
        let mut ignores = Vec::new();
        let mut keep: Vec<String> = Vec::new();
        let mut every_build_ignores = true;
        for dockerfile in dockerfiles {
            keep.push(clean(&dockerfile.to_string_lossy()));
            match ignore_file_for(context, Some(dockerfile)) {
                Some(file) => {
                    if let Ok(relative) = file.strip_prefix(context) {
                        keep.push(clean(&relative.to_string_lossy()));
                    }
                    ignores.push(DockerIgnore::read(&file)?);
                }
                None => every_build_ignores = false,
            }
        }
        if !every_build_ignores {
            ignores.clear();
        }
        keep.sort();
        keep.dedup();
        Ok(Self { ignores, keep, dialects: vec![Dialect::Current, Dialect::Legacy] })
    }

    /// The same rules as one engine generation applies them (a copy that
    /// must equal what that generation sends, as in a conformance test).
    pub fn only(mut self, dialect: Dialect) -> Self {
        self.dialects = vec![dialect];
        self
    }

    /// Whether the copy leaves `path` out.
    pub fn excludes(&self, path: &str) -> bool {
        let path = clean(path);
        !self.ignores.is_empty()
            && !self.keep.contains(&path)
            && self.dialects.iter().all(|d| self.ignores.iter().all(|i| i.excludes_in(&path, *d)))
    }

    /// Whether the walk must enter the excluded folder `dir`: something
    /// below it may be re-included (`!`) or must be kept.
    pub fn must_enter(&self, dir: &str) -> bool {
        let prefix = format!("{}/", clean(dir));
        self.keep.iter().any(|k| k.starts_with(&prefix))
            || self.dialects.iter().any(|d| self.ignores.iter().any(|i| i.enters(dir, *d)))
    }
}

/// One line of an ignore file as `ReadAll` turns it into a pattern.
fn read_line(line: &str) -> Option<String> {
    if line.starts_with('#') {
        return None;
    }
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    let (invert, rest) = match line.strip_prefix('!') {
        Some(rest) => (true, rest.trim()),
        None => (false, line),
    };
    let mut pattern = String::new();
    if !rest.is_empty() {
        let cleaned = clean(rest);
        pattern = match cleaned.strip_prefix('/') {
            Some(stripped) if cleaned.len() > 1 => stripped.to_owned(),
            _ => cleaned,
        };
    }
    Some(if invert { format!("!{pattern}") } else { pattern })
}

impl Pattern {
    /// `Err(None)` for a bare `!`, `Err(Some(why))` for a bad pattern.
    fn compile(raw: &str) -> Result<Pattern, Option<String>> {
        let cleaned = clean(raw.trim());
        let (exclusion, text) = match cleaned.strip_prefix('!') {
            Some("") => return Err(None),
            Some(rest) => (true, rest.to_owned()),
            None => (false, cleaned),
        };
        check_glob_syntax(&text).map_err(Some)?;
        let kind = compile_kind(&text).map_err(|e| Some(e.to_string()))?;
        let legacy = Regex::new(&legacy_regex(&text)).ok();
        let depth = text.split('/').count();
        Ok(Pattern { exclusion, text, kind, legacy, depth })
    }

    fn matches_legacy(&self, path: &str) -> bool {
        self.legacy.as_ref().is_some_and(|re| re.is_match(path))
    }

    /// Whether the pattern has a wildcard before a trailing `**`
    /// (`patternWithoutTrailingGlob`): then the current walker enters
    /// excluded folders to look for files it re-includes.
    fn has_inner_wildcard(&self) -> bool {
        let text = self.text.strip_suffix("/**").or_else(|| self.text.strip_suffix("**")).unwrap_or(&self.text);
        text.contains(['*', '?', '[', '\\'])
    }

    fn matches(&self, path: &str) -> bool {
        match &self.kind {
            Kind::Exact => path == self.text,
            Kind::Prefix(prefix) => path.starts_with(prefix.as_str()),
            Kind::Suffix(suffix) => {
                path.ends_with(suffix.as_str()) || suffix.strip_prefix('/').is_some_and(|rest| path == rest)
            }
            Kind::Regex(re) => re.is_match(path),
        }
    }
}

/// `Pattern.compile`: a pattern becomes an exact string, a prefix, a suffix
/// or an anchored regex; `*` and `?` never cross `/`, `**` does.
fn compile_kind(pattern: &str) -> Result<Kind, regex::Error> {
    #[derive(PartialEq)]
    enum Detected {
        Exact,
        Prefix,
        Suffix,
        Regex,
    }
    let mut re = String::from("^");
    let mut detected = Detected::Exact;
    let chars: Vec<char> = pattern.chars().collect();
    let mut at = 0;
    let mut index = 0;
    while at < chars.len() {
        let ch = chars[at];
        at += 1;
        if ch == '*' {
            if chars.get(at) == Some(&'*') {
                at += 1;
                if chars.get(at) == Some(&'/') {
                    at += 1;
                }
                if at == chars.len() {
                    if detected == Detected::Exact {
                        detected = Detected::Prefix;
                    } else {
                        re.push_str(".*");
                        detected = Detected::Regex;
                    }
                } else {
                    re.push_str("(.*/)?");
                    detected = Detected::Regex;
                }
                if index == 0 {
                    detected = Detected::Suffix;
                }
            } else {
                re.push_str("[^/]*");
                detected = Detected::Regex;
            }
        } else if ch == '?' {
            re.push_str("[^/]");
            detected = Detected::Regex;
        } else if ".+()|{}$".contains(ch) {
            re.push('\\');
            re.push(ch);
        } else if ch == '\\' {
            match chars.get(at) {
                Some(&next) => {
                    at += 1;
                    re.push('\\');
                    re.push(next);
                    detected = Detected::Regex;
                }
                None => re.push_str("\\\\"),
            }
        } else if ch == '[' || ch == ']' {
            re.push(ch);
            detected = Detected::Regex;
        } else {
            re.push(ch);
        }
        index += 1;
    }
    Ok(match detected {
        Detected::Exact => Kind::Exact,
        Detected::Prefix => Kind::Prefix(pattern[..pattern.len() - 2].to_owned()),
        Detected::Suffix => Kind::Suffix(pattern[2..].to_owned()),
        Detected::Regex => {
            re.push('$');
            Kind::Regex(Regex::new(&re)?)
        }
    })
}

/// The syntax errors Go's `filepath.Match` reports (`New` calls it once per
/// pattern to reject them): an unclosed `[`, an empty class, a trailing `\`
/// inside a class, a range with a missing end.
fn check_glob_syntax(pattern: &str) -> Result<(), String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 >= chars.len() => return Err("a `\\` ends the pattern".into()),
            '\\' => i += 2,
            '[' => {
                i += 1;
                if chars.get(i) == Some(&'^') {
                    i += 1;
                }
                let start = i;
                loop {
                    match chars.get(i) {
                        None => return Err("a `[` is not closed".into()),
                        Some(']') if i > start => break,
                        Some(']') => return Err("an empty `[]` class".into()),
                        Some('\\') if i + 1 >= chars.len() => return Err("a `\\` ends the pattern".into()),
                        Some('\\') => i += 2,
                        Some('-') if i == start || chars.get(i + 1) == Some(&']') => {
                            return Err("a range in `[...]` has no start or end".into())
                        }
                        Some(_) => i += 1,
                    }
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Go's `path.Clean` on a `/`-separated path: no empty, `.` or inner `..`
/// elements, no trailing `/`; `""` becomes `.`.
pub fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn ignore(text: &str) -> DockerIgnore {
        DockerIgnore::parse(text, Path::new(".dockerignore")).unwrap()
    }

    #[rstest]
    #[case::plain("a/./b/", "a/b")]
    #[case::parent("a/../b", "b")]
    #[case::leading_parent("../a", "../a")]
    #[case::rooted_parent("/../a", "/a")]
    #[case::empty("", ".")]
    #[case::double_slash("a//b", "a/b")]
    fn clean_is_go_path_clean(#[case] input: &str, #[case] cleaned: &str) {
        assert_eq!(clean(input), cleaned);
    }

    #[rstest]
    // Anchored at the root, unlike gitignore.
    #[case::anchored("*.md", "README.md", true)]
    #[case::anchored_not_deeper("*.md", "docs/a.md", false)]
    #[case::folder_excludes_children("target", "target/release/app", true)]
    #[case::name_is_not_searched("target", "sub/target", false)]
    #[case::leading_slash("/target", "target/x", true)]
    #[case::trailing_slash("target/", "target/x", true)]
    #[case::dot_slash("./target", "target", true)]
    #[case::star_stays_in_one_folder("src/*.rs", "src/a/b.rs", false)]
    #[case::star_matches_in_folder("src/*.rs", "src/main.rs", true)]
    #[case::double_star_any_depth("**/*.rs", "a/b/c.rs", true)]
    #[case::double_star_zero_depth("**/*.rs", "c.rs", true)]
    #[case::double_star_suffix("**/target", "a/target/x", true)]
    #[case::double_star_suffix_root("**/target", "target", true)]
    #[case::trailing_double_star("docs/**", "docs/a/b", true)]
    #[case::trailing_double_star_keeps_the_slash("docs/**", "docsx", false)]
    #[case::middle_double_star("a/**/z", "a/b/c/z", true)]
    #[case::middle_double_star_none("a/**/z", "a/z", true)]
    #[case::question_mark("?.txt", "a.txt", true)]
    #[case::question_mark_not_slash("a?b", "a/b", false)]
    #[case::class("[ab].txt", "b.txt", true)]
    #[case::class_negated("[^ab].txt", "b.txt", false)]
    #[case::regex_chars_literal("a+b(1).txt", "a+b(1).txt", true)]
    #[case::dot_is_literal("a.txt", "abtxt", false)]
    #[case::escaped_star("a\\*", "a*", true)]
    #[case::escaped_star_literal("a\\*", "ab", false)]
    #[case::everything("*", "any/thing", true)]
    fn single_pattern(#[case] pattern: &str, #[case] path: &str, #[case] excluded: bool) {
        assert_eq!(ignore(pattern).excludes_in(path, Dialect::Current), excluded, "`{pattern}` on `{path}`");
    }

    #[test]
    fn the_dialects_differ_where_docker_changed() {
        // 20.10 compiled `+`, `(`, `)` as regex operators.
        let rules = ignore("weird+name(1).txt\n");
        assert!(rules.excludes_in("weird+name(1).txt", Dialect::Current));
        assert!(!rules.excludes_in("weird+name(1).txt", Dialect::Legacy));
        assert!(!rules.excludes("weird+name(1).txt"), "the copy keeps what either keeps");
        // 20.10 entered an excluded folder only for an exception spelled under it.
        let rules = ignore("docs/**\n!docs/**/*.txt\n");
        assert!(rules.enters("docs/guide", Dialect::Current));
        assert!(!rules.enters("docs/guide", Dialect::Legacy));
        assert!(rules.enters("docs", Dialect::Legacy));
    }

    #[test]
    fn the_last_matching_pattern_wins_and_exceptions_reach_into_excluded_folders() {
        let rules = ignore("*\n!src\n!Cargo.*\nsrc/gen\n!src/gen/keep.rs\n");
        assert!(rules.excludes("README.md"));
        assert!(!rules.excludes("src/main.rs"));
        assert!(!rules.excludes("Cargo.toml"));
        assert!(rules.excludes("src/gen/a.rs"));
        assert!(!rules.excludes("src/gen/keep.rs"));
        assert!(rules.has_exclusions());
    }

    #[test]
    fn an_exception_cannot_undo_an_exclusion_written_after_it() {
        let rules = ignore("!keep.txt\n*.txt\n");
        assert!(rules.excludes("keep.txt"));
    }

    #[test]
    fn comments_blank_lines_bom_and_crlf_are_read_as_docker_does() {
        let rules = ignore("\u{feff}# comment\r\n\r\n  target  \r\n #not a comment\r\n");
        assert_eq!(rules.patterns.len(), 2);
        assert!(rules.excludes("target/x"));
        assert!(rules.excludes("#not a comment"));
        assert!(!rules.has_exclusions());
    }

    #[test]
    fn exclusions_with_spaces_and_slashes_are_cleaned() {
        let rules = ignore("docs\n! /docs/keep.md\n");
        assert!(!rules.excludes("docs/keep.md"));
        assert!(rules.excludes("docs/other.md"));
    }

    #[test]
    fn the_context_root_is_never_excluded() {
        assert!(!ignore("*\n").excludes("."));
        assert!(!ignore("**\n").excludes(""));
    }

    #[rstest]
    #[case::bare_exclusion("a\n!\n", "line 2: illegal exclusion pattern `!`")]
    #[case::unclosed_class("[abc\n", "line 1: bad pattern `[abc`: a `[` is not closed")]
    #[case::empty_class("x[]\n", "line 1: bad pattern `x[]`: an empty `[]` class")]
    #[case::trailing_backslash("x\\\n", "line 1: bad pattern `x\\`: a `\\` ends the pattern")]
    fn bad_ignore_files_name_the_line(#[case] text: &str, #[case] message: &str) {
        let err = DockerIgnore::parse(text, Path::new("ctx/.dockerignore")).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "`ctx/.dockerignore` {message}{}",
                if message.contains("`!`") { " (a `!` needs a pattern after it)" } else { "" }
            )
        );
    }

    #[test]
    fn several_builds_keep_what_any_of_them_sees_and_their_own_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".dockerignore"), "target\ndocs\nDockerfile\n.dockerignore\n").unwrap();
        std::fs::write(dir.path().join("docs.Dockerfile.dockerignore"), "target\n").unwrap();
        let one = ContextRules::for_dockerfiles(dir.path(), &[]).unwrap();
        assert!(one.excludes("target/x") && one.excludes("docs/a.md"));
        assert!(!one.excludes("Dockerfile") && !one.excludes(".dockerignore"), "Docker reads them anyway");
        let two = ContextRules::for_dockerfiles(dir.path(), &[Path::new("Dockerfile"), Path::new("docs.Dockerfile")])
            .unwrap();
        assert!(two.excludes("target/x"));
        assert!(!two.excludes("docs/a.md"), "docs.Dockerfile's build sees docs/");
        assert!(!two.must_enter("target"));
        std::fs::remove_file(dir.path().join("docs.Dockerfile.dockerignore")).unwrap();
        std::fs::remove_file(dir.path().join(".dockerignore")).unwrap();
        let none = ContextRules::for_dockerfiles(dir.path(), &[]).unwrap();
        assert!(!none.excludes("target/x"));
    }

    #[test]
    fn kept_files_inside_an_excluded_folder_make_the_walk_enter_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".dockerignore"), "ci\n").unwrap();
        let rules = ContextRules::for_dockerfiles(dir.path(), &[Path::new("ci/app.Dockerfile")]).unwrap();
        assert!(rules.must_enter("ci"));
        assert!(!rules.excludes("ci/app.Dockerfile"));
        assert!(rules.excludes("ci/other"));
    }

    #[test]
    fn the_dockerfile_specific_ignore_file_wins() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(ignore_file_for(dir.path(), None), None);
        std::fs::write(dir.path().join(".dockerignore"), "a").unwrap();
        assert_eq!(
            ignore_file_for(dir.path(), Some(Path::new("build.Dockerfile"))),
            Some(dir.path().join(".dockerignore"))
        );
        std::fs::create_dir(dir.path().join("ci")).unwrap();
        std::fs::write(dir.path().join("ci/build.Dockerfile.dockerignore"), "b").unwrap();
        assert_eq!(
            ignore_file_for(dir.path(), Some(Path::new("ci/build.Dockerfile"))),
            Some(dir.path().join("ci/build.Dockerfile.dockerignore"))
        );
    }
}
