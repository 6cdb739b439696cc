//! Reading CI shell lines the way `sh` would, without running them.
//!
//! A script line is split into words and operators (`&&`, `||`, `;`, `|`,
//! redirections) with `sh`'s quoting rules, and `$NAME` / `${NAME}` /
//! `${NAME:-default}` are expanded from the variables the CI file defines
//! plus the predefined ones the importer maps to the run's values. What
//! cannot be read statically (command substitution, an unknown variable)
//! is reported, so the caller can keep the line as a shell command and warn.

use std::collections::BTreeMap;

/// Variables in scope for a line: name → value as the scenario will spell
/// it (values may hold placeholders such as `{image}`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Env {
    vars: BTreeMap<String, String>,
    /// Where the script's `cd`s lead.
    cwd: Cwd,
}

/// The current folder of a script, as far as the importer can follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cwd {
    /// Relative to the repository root; empty at the root.
    Known(String),
    /// After a `cd` to this path, which is not inside the repository as far
    /// as the importer can tell (absolute, `..` past the root, `cd -`).
    Unknown(String),
}

impl Default for Cwd {
    fn default() -> Self {
        Cwd::Known(String::new())
    }
}

impl Env {
    pub fn cwd(&self) -> &Cwd {
        &self.cwd
    }

    /// Back at the repository root: a new shell (GitLab's `after_script`).
    pub fn reset_dir(&mut self) {
        self.cwd = Cwd::default();
    }

    /// Follows `cd target` (`None`: a bare `cd`, to the home folder);
    /// `from_root`: `target` is relative to the repository root.
    pub fn change_dir(&mut self, target: Option<&str>, from_root: bool) {
        if from_root {
            self.reset_dir();
        }
        let Some(target) = target else {
            self.cwd = Cwd::Unknown("~".into());
            return;
        };
        let base = match &self.cwd {
            _ if target.starts_with('/') || target.starts_with('~') || target == "-" => {
                self.cwd = Cwd::Unknown(target.to_owned());
                return;
            }
            Cwd::Known(base) => base.clone(),
            Cwd::Unknown(_) => return,
        };
        let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
        for part in target.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() {
                        self.cwd = Cwd::Unknown(target.to_owned());
                        return;
                    }
                }
                other => parts.push(other),
            }
        }
        self.cwd = Cwd::Known(parts.join("/"));
    }

    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.vars.insert(name.into(), value.into());
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// Expands `$NAME` forms in free text (a variable's value, a service
    /// name); unknown names stay as written.
    pub fn expand_text(&self, text: &str) -> String {
        let mut out = String::new();
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == '$' {
                if let Some((name, default, len)) = variable_at(&chars, i) {
                    match (self.get(&name), default) {
                        (Some(v), _) if !v.is_empty() => out.push_str(v),
                        (_, Some(d)) => out.push_str(&d),
                        (Some(v), None) => out.push_str(v),
                        (None, None) => out.extend(&chars[i..i + len]),
                    }
                    i += len;
                    continue;
                }
            }
            out.push(chars[i]);
            i += 1;
        }
        out
    }
}

/// A token of a shell line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// A word after quote removal and expansion.
    Word(Word),
    /// `&&`, `||`, `;`, `|`, `&`, or a redirection (`>`, `2>&1`, ...).
    Op(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Word {
    pub text: String,
    /// Variables the word names that are not defined: their text is kept
    /// as `${NAME}`.
    pub unresolved: Vec<String>,
    /// The word starts with the CI checkout's path (`$CI_PROJECT_DIR`),
    /// which expands to `.`: a `cd` to it goes back to the repository root.
    pub from_project_dir: bool,
}

/// Variables holding the CI job's checkout folder (the repository root).
const PROJECT_DIRS: &[&str] = &["CI_PROJECT_DIR", "CI_BUILDS_DIR", "GITHUB_WORKSPACE"];

/// Why a line cannot be read statically.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ShellError {
    #[error("unclosed {0} quote")]
    Unclosed(&'static str),
    #[error("it uses command substitution (`$(...)` or backquotes), whose value is only known when it runs")]
    Substitution,
    #[error("it uses shell syntax the importer does not read ({0})")]
    Syntax(&'static str),
}

/// Joins backslash-newline continuations and splits a script entry into
/// its logical lines, dropping blank lines and comments.
pub(crate) fn logical_lines(script: &str) -> Vec<String> {
    let joined = script.replace("\\\r\n", " ").replace("\\\n", " ");
    joined.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_owned).collect()
}

/// Splits one logical line into tokens, expanding variables from `env`.
pub(crate) fn tokenize(line: &str, env: &Env) -> Result<Vec<Token>, ShellError> {
    let chars: Vec<char> = line.chars().collect();
    let mut tokens = Vec::new();
    let mut word: Option<Word> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' => {
                flush(&mut tokens, &mut word);
                i += 1;
            }
            '#' if word.is_none() => break,
            '`' => return Err(ShellError::Substitution),
            '\'' => {
                let end = find(&chars, i + 1, '\'').ok_or(ShellError::Unclosed("single"))?;
                word.get_or_insert_with(Word::default).text.extend(&chars[i + 1..end]);
                i = end + 1;
            }
            '"' => i = double_quoted(&chars, i + 1, env, word.get_or_insert_with(Word::default))?,
            '\\' => {
                if let Some(next) = chars.get(i + 1) {
                    word.get_or_insert_with(Word::default).text.push(*next);
                }
                i += 2;
            }
            '$' => i = dollar(&chars, i, env, word.get_or_insert_with(Word::default))?,
            '&' | '|' | ';' | '>' | '<' => {
                let len = operator_len(&chars, i, word.as_ref());
                let fd_prefix = word.as_ref().filter(|w| matches!(c, '>' | '<') && is_fd(w));
                let op: String = if fd_prefix.is_some() {
                    let w = word.take().unwrap_or_default();
                    format!("{}{}", w.text, chars[i..i + len].iter().collect::<String>())
                } else {
                    flush(&mut tokens, &mut word);
                    chars[i..i + len].iter().collect()
                };
                tokens.push(Token::Op(op));
                i += len;
            }
            '(' | ')' => return Err(ShellError::Syntax("subshells and groups")),
            _ => {
                word.get_or_insert_with(Word::default).text.push(c);
                i += 1;
            }
        }
    }
    flush(&mut tokens, &mut word);
    Ok(tokens)
}

fn flush(tokens: &mut Vec<Token>, word: &mut Option<Word>) {
    if let Some(w) = word.take() {
        tokens.push(Token::Word(w));
    }
}

fn is_fd(word: &Word) -> bool {
    !word.text.is_empty() && word.text.chars().all(|c| c.is_ascii_digit()) && word.unresolved.is_empty()
}

fn find(chars: &[char], from: usize, c: char) -> Option<usize> {
    (from..chars.len()).find(|&j| chars[j] == c)
}

/// Length of the operator at `i`: `&&`, `||`, `>>`, `>&1`, `2>&1`...
fn operator_len(chars: &[char], i: usize, _word: Option<&Word>) -> usize {
    let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
    match two.as_str() {
        "&&" | "||" | ">>" => 2,
        ">&" | "<&" => {
            let digits = chars[i + 2..].iter().take_while(|c| c.is_ascii_digit() || **c == '-').count();
            2 + digits
        }
        _ => 1,
    }
}

/// Reads a double-quoted string starting after its `"`; returns the index
/// after the closing quote.
fn double_quoted(chars: &[char], mut i: usize, env: &Env, word: &mut Word) -> Result<usize, ShellError> {
    while i < chars.len() {
        match chars[i] {
            '"' => return Ok(i + 1),
            '`' => return Err(ShellError::Substitution),
            '\\' if matches!(chars.get(i + 1), Some('"' | '\\' | '$' | '`')) => {
                word.text.push(chars[i + 1]);
                i += 2;
            }
            '$' => i = dollar(chars, i, env, word)?,
            c => {
                word.text.push(c);
                i += 1;
            }
        }
    }
    Err(ShellError::Unclosed("double"))
}

/// Expands the `$` at `i`; returns the index after it.
fn dollar(chars: &[char], i: usize, env: &Env, word: &mut Word) -> Result<usize, ShellError> {
    if chars.get(i + 1) == Some(&'(') {
        return Err(ShellError::Substitution);
    }
    let Some((name, default, len)) = variable_at(chars, i) else {
        word.text.push('$');
        return Ok(i + 1);
    };
    if word.text.is_empty() && PROJECT_DIRS.contains(&name.as_str()) {
        word.from_project_dir = true;
    }
    match (env.get(&name), default) {
        (Some(v), _) if !v.is_empty() => word.text.push_str(v),
        (_, Some(d)) => word.text.push_str(&env.expand_text(&d)),
        (Some(v), None) => word.text.push_str(v),
        (None, None) => {
            word.text.push_str(&format!("${{{name}}}"));
            word.unresolved.push(name);
        }
    }
    Ok(i + len)
}

/// The variable reference at `i` (`$NAME`, `${NAME}`, `${NAME:-x}`,
/// `${NAME-x}`): its name, default and length in characters.
fn variable_at(chars: &[char], i: usize) -> Option<(String, Option<String>, usize)> {
    let is_name = |c: &char| c.is_ascii_alphanumeric() || *c == '_';
    if chars.get(i + 1) == Some(&'{') {
        let close = find(chars, i + 2, '}')?;
        let inner: String = chars[i + 2..close].iter().collect();
        let name_len = inner.chars().take_while(is_name).count();
        let name: String = inner.chars().take(name_len).collect();
        if name.is_empty() {
            return None;
        }
        let rest = &inner[name_len..];
        let default = rest.strip_prefix(":-").or_else(|| rest.strip_prefix('-')).map(str::to_owned);
        if default.is_none() && !rest.is_empty() {
            return None;
        }
        return Some((name, default, close - i + 1));
    }
    let first = chars.get(i + 1)?;
    if !(first.is_ascii_alphabetic() || *first == '_') {
        return None;
    }
    let name: String = chars[i + 1..].iter().take_while(|c| is_name(c)).collect();
    let len = name.chars().count() + 1;
    Some((name, None, len))
}

/// One command of a line: its pipeline stages (one unless piped), its
/// redirections, and whether a `||` fallback follows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Simple {
    /// Words of each pipeline stage (`a | b` has two).
    pub stages: Vec<Vec<Word>>,
    /// Redirections as written, with their targets (`> out.log`, `2>&1`).
    pub redirects: Vec<String>,
    /// `|| true` (or `|| :`, `|| echo ...`) followed: a failure is tolerated.
    pub may_fail: bool,
}

impl Simple {
    /// The words when the command is not piped.
    pub fn words(&self) -> Option<&[Word]> {
        match self.stages.as_slice() {
            [only] => Some(only),
            _ => None,
        }
    }

    fn is_empty(&self) -> bool {
        self.stages.iter().all(Vec::is_empty)
    }
}

/// Splits tokens into commands run one after the other (`&&`, `;`), with
/// `|| <anything>` marking the left one as allowed to fail (the fallback
/// itself is dropped). Pipes and redirections stay inside their command.
pub(crate) fn sequence(tokens: Vec<Token>) -> Vec<Simple> {
    let mut out: Vec<Simple> = Vec::new();
    let mut current = Simple { stages: vec![Vec::new()], ..Simple::default() };
    let mut skipping_fallback = false;
    let mut redirect_target = false;
    for token in tokens {
        match token {
            Token::Op(op) if op == "&&" || op == ";" || op == "&" => {
                if !skipping_fallback && !current.is_empty() {
                    out.push(current);
                }
                current = Simple { stages: vec![Vec::new()], ..Simple::default() };
                skipping_fallback = false;
            }
            Token::Op(op) if op == "||" => {
                if !skipping_fallback && !current.is_empty() {
                    current.may_fail = true;
                    out.push(current);
                }
                current = Simple { stages: vec![Vec::new()], ..Simple::default() };
                skipping_fallback = true;
            }
            _ if skipping_fallback => {}
            Token::Op(op) if op == "|" => current.stages.push(Vec::new()),
            Token::Op(op) => {
                redirect_target = !op.contains('&') || op.ends_with('&');
                current.redirects.push(op);
            }
            Token::Word(w) if redirect_target => {
                redirect_target = false;
                if let Some(last) = current.redirects.last_mut() {
                    last.push(' ');
                    last.push_str(&w.text);
                }
            }
            Token::Word(w) => current.stages.last_mut().expect("a stage").push(w),
        }
    }
    if !skipping_fallback && !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        let mut env = Env::default();
        env.set("CI_REGISTRY_IMAGE", "{image}");
        env.set("TAG", "v1");
        env.set("EMPTY", "");
        env
    }

    fn words(line: &str) -> Vec<String> {
        tokenize(line, &env())
            .unwrap()
            .into_iter()
            .map(|t| match t {
                Token::Word(w) => w.text,
                Token::Op(o) => format!("<{o}>"),
            })
            .collect()
    }

    #[test]
    fn quotes_and_expansion() {
        assert_eq!(
            words(r#"docker build -t "$CI_REGISTRY_IMAGE:${TAG}" --label 'a b' x\ y"#),
            ["docker", "build", "-t", "{image}:v1", "--label", "a b", "x y"]
        );
        assert_eq!(words("echo ${EMPTY:-dflt} ${NOPE:-$TAG}"), ["echo", "dflt", "v1"]);
    }

    #[test]
    fn unknown_variables_are_kept_and_reported() {
        let tokens = tokenize("docker push $NOPE:1", &env()).unwrap();
        let Token::Word(w) = &tokens[2] else { panic!() };
        assert_eq!((w.text.as_str(), w.unresolved.as_slice()), ("${NOPE}:1", &["NOPE".to_owned()][..]));
    }

    #[test]
    fn operators_and_fallbacks() {
        assert_eq!(
            words("a && b || true; c 2>&1 | d > f"),
            ["a", "<&&>", "b", "<||>", "true", "<;>", "c", "<2>&1>", "<|>", "d", "<>>", "f"]
        );
        let seq = sequence(tokenize("docker pull x || true && docker build .", &env()).unwrap());
        assert_eq!(seq.len(), 2);
        assert!(seq[0].may_fail && !seq[1].may_fail);
        assert_eq!(seq[1].words().unwrap()[1].text, "build");
        let seq =
            sequence(tokenize("echo $TAG | docker login -u x --password-stdin r > /dev/null 2>&1", &env()).unwrap());
        assert_eq!(seq[0].stages.len(), 2);
        assert_eq!(seq[0].redirects, ["> /dev/null", "2>&1"]);
    }

    #[test]
    fn what_cannot_be_read() {
        assert_eq!(tokenize("docker build -t x:$(git rev-parse HEAD) .", &env()), Err(ShellError::Substitution));
        assert_eq!(tokenize("echo `date`", &env()), Err(ShellError::Substitution));
        assert_eq!(tokenize("echo 'open", &env()), Err(ShellError::Unclosed("single")));
    }

    #[test]
    fn logical_lines_join_continuations() {
        let lines = logical_lines("docker build \\\n  --target chef \\\n  .\n# note\n\necho done\n");
        assert_eq!(lines, ["docker build    --target chef    .", "echo done"]);
    }

    #[test]
    fn expand_text_keeps_unknown() {
        assert_eq!(env().expand_text("docker:$TAG-dind $X"), "docker:v1-dind $X");
    }
}
