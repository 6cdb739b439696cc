//! `.dockerignore` as the Docker CLI reads it: one pattern a line, `#`
//! comments, `!` exceptions, the last matching pattern wins, and a pattern
//! that matches a folder excludes everything under it. Patterns use Go's
//! `filepath.Match` syntax plus `**` for any number of folders (moby's
//! `patternmatcher`, which this mirrors for the common cases).

use regex::Regex;

/// A parsed `.dockerignore`.
#[derive(Debug, Default)]
pub(crate) struct DockerIgnore {
    patterns: Vec<Pattern>,
}

#[derive(Debug)]
struct Pattern {
    exception: bool,
    re: Regex,
}

impl DockerIgnore {
    pub(crate) fn parse(text: &str) -> Self {
        let patterns = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|line| {
                let (exception, pattern) = match line.strip_prefix('!') {
                    Some(rest) => (true, rest.trim()),
                    None => (false, line),
                };
                let cleaned = clean(pattern);
                (!cleaned.is_empty()).then(|| Pattern { exception, re: glob_regex(&cleaned) })
            })
            .collect();
        Self { patterns }
    }

    /// Whether the context path `rel` (`/`-separated, no leading `./`) is excluded.
    pub(crate) fn excludes(&self, rel: &str) -> bool {
        let mut excluded = false;
        for pattern in &self.patterns {
            if pattern.exception == excluded && matches_or_parent(&pattern.re, rel) {
                excluded = !pattern.exception;
            }
        }
        excluded
    }
}

fn matches_or_parent(re: &Regex, rel: &str) -> bool {
    if re.is_match(rel) {
        return true;
    }
    rel.match_indices('/').any(|(i, _)| re.is_match(&rel[..i]))
}

/// `filepath.Clean` for patterns: no leading `/` or `./`, no `.` segments,
/// no trailing `/`.
fn clean(pattern: &str) -> String {
    let parts: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty() && *s != ".").collect();
    parts.join("/")
}

/// The pattern as an anchored regex: `*` and `?` stay within a segment,
/// `**` crosses folders, `[...]` classes and `\` escapes as in Go.
fn glob_regex(pattern: &str) -> Regex {
    let chars: Vec<char> = pattern.chars().collect();
    let mut re = String::from("^");
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' if chars.get(i + 1) == Some(&'*') => {
                i += 1;
                if chars.get(i + 1) == Some(&'/') {
                    i += 1;
                    re.push_str("(?:.*/)?");
                } else {
                    re.push_str(".*");
                }
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '[' => match chars[i..].iter().position(|&ch| ch == ']') {
                Some(len) if len > 1 => {
                    let class: String = chars[i + 1..i + len].iter().collect();
                    let class = class
                        .strip_prefix('^')
                        .or_else(|| class.strip_prefix('!'))
                        .map_or_else(|| regex_class(&class), |rest| format!("^{}", regex_class(rest)));
                    re.push_str(&format!("[{class}]"));
                    i += len;
                }
                _ => re.push_str(r"\["),
            },
            '\\' if i + 1 < chars.len() => {
                i += 1;
                re.push_str(&regex::escape(&chars[i].to_string()));
            }
            _ => re.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    re.push('$');
    Regex::new(&re).unwrap_or_else(|_| Regex::new(&format!("^{}$", regex::escape(pattern))).expect("escaped"))
}

/// A Go class body for the regex crate: only `[`, `&`, `~` and `-` at the
/// edges need care.
fn regex_class(body: &str) -> String {
    body.replace('[', r"\[").replace("&&", r"\&\&").replace("~~", r"\~\~")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_folders_and_exceptions() {
        let ignore =
            DockerIgnore::parse("# comment\ntarget\n/node_modules/\n*.log\n!keep.log\n**/secret*\ndocs/*.md\n");
        for path in
            ["target", "target/release/app", "node_modules/x/y.js", "a.log", "src/secret.txt", "secret", "docs/a.md"]
        {
            assert!(ignore.excludes(path), "{path}");
        }
        for path in ["keep.log", "src/a.log", "src/main.rs", "docs/sub/a.md", "targets"] {
            assert!(!ignore.excludes(path), "{path}");
        }
    }

    #[test]
    fn last_match_wins_and_classes_work() {
        let ignore = DockerIgnore::parse("*\n!src\n!Cargo.[lt]o*\nsrc/gen?.rs\n");
        assert!(ignore.excludes("README.md"));
        assert!(!ignore.excludes("src/main.rs"));
        assert!(!ignore.excludes("Cargo.lock") && !ignore.excludes("Cargo.toml"));
        assert!(ignore.excludes("src/gen1.rs"));
        assert!(!DockerIgnore::parse("").excludes("anything"));
    }
}
