//! Keeping secrets out of a pack: credential files are left out by name,
//! private keys by content, and values that look like credentials (tokens,
//! passwords in assignments, URLs with a password, `docker login`
//! passwords) are replaced by [`REDACTED`] wherever text enters a pack.
//!
//! These are heuristics on purpose conservative for commands (short strings
//! where a long random word is almost always a credential) and narrower for
//! files (source code is full of long identifiers and hashes). Every removal
//! is recorded as a [`Finding`] for the pack's README.

use std::sync::LazyLock;

use regex::{Captures, Regex};

/// What a removed value is replaced with.
pub(crate) const REDACTED: &str = "REDACTED";

/// One thing left out of the pack, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Finding {
    /// Where it was (`context/.npmrc`, `job 2, command 1`).
    pub place: String,
    /// What it looked like (`npm credentials file`, `GitHub token`).
    pub what: String,
    /// `left out` (a whole file) or `replaced by REDACTED`.
    pub action: &'static str,
}

pub(crate) const LEFT_OUT: &str = "file left out";
pub(crate) const REPLACED: &str = "value replaced by `REDACTED`";

/// Why a context file is a credential file by its path, if it is.
pub(crate) fn credential_file(rel: &str) -> Option<&'static str> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let lower = name.to_ascii_lowercase();
    let in_dir = |dir: &str| rel.split('/').rev().nth(1) == Some(dir);
    let why = match lower.as_str() {
        "config.json" if in_dir(".docker") => "Docker CLI auth file (`.docker/config.json`)",
        ".dockercfg" => "Docker CLI auth file (`.dockercfg`)",
        ".npmrc" | ".yarnrc" | ".yarnrc.yml" => "package registry credentials file",
        ".pypirc" => "PyPI credentials file",
        ".netrc" | "_netrc" => "netrc credentials file",
        ".git-credentials" => "git credentials file",
        "credentials" if in_dir(".aws") => "AWS credentials file",
        "credentials.toml" | "credentials" if in_dir(".cargo") => "Cargo registry token file",
        "id_rsa" | "id_dsa" | "id_ecdsa" | "id_ed25519" | "id_ecdsa_sk" | "id_ed25519_sk" => "SSH private key",
        "authorized_keys" | "known_hosts" if in_dir(".ssh") => "SSH configuration",
        ".htpasswd" | "htpasswd" => "registry password file (htpasswd)",
        _ if is_env_file(&lower) => "environment file (`.env`)",
        _ if lower.ends_with(".p12") || lower.ends_with(".pfx") || lower.ends_with(".keystore") => "key store",
        _ => return None,
    };
    Some(why)
}

/// `.env` and `.env.production`, but not the committed templates.
fn is_env_file(name: &str) -> bool {
    let templates = [".example", ".sample", ".template", ".dist"];
    (name == ".env" || name.starts_with(".env.")) && !templates.iter().any(|t| name.ends_with(t))
}

/// Whether the text holds a private key block (any file holding one is left out).
pub(crate) fn holds_private_key(text: &str) -> bool {
    static KEY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"-----BEGIN ((RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY( BLOCK)?-----").unwrap()
    });
    KEY.is_match(text)
}

/// A token format with a recognisable shape.
struct Shape {
    what: &'static str,
    re: Regex,
}

static SHAPES: LazyLock<Vec<Shape>> = LazyLock::new(|| {
    let shape = |what, re: &str| Shape { what, re: Regex::new(re).unwrap() };
    vec![
        shape("GitHub token", r"\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"),
        shape("GitLab token", r"\bglpat-[A-Za-z0-9_\-]{20,}"),
        shape("Docker Hub token", r"\bdckr_pat_[A-Za-z0-9_\-]{20,}"),
        shape("npm token", r"\bnpm_[A-Za-z0-9]{30,}"),
        shape("AWS access key id", r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"),
        shape("Slack token", r"\bxox[abprs]-[A-Za-z0-9\-]{10,}"),
        shape("Google API key", r"\bAIza[0-9A-Za-z_\-]{35}"),
        shape("API secret key", r"\b(sk|rk)[-_](live|test|proj)?[-_]?[A-Za-z0-9]{20,}"),
        shape("JSON web token", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    ]
});

/// `NAME=value` / `NAME: value` where the name says secret.
static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)\b([A-Z0-9_.\-]*(?:TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?|_AUTH|AUTH_?TOKEN)[A-Z0-9_]*)(["']?\s*[=:]\s*)("[^"\n]*"|'[^'\n]*'|[^\s"',;]+)"#,
    )
    .unwrap()
});

/// `scheme://user:password@host`.
static URL_PASSWORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b([a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@]+:)([^/\s@]+)(@)").unwrap());

/// A long mixed-case, mixed-digit word (commands only).
static RANDOM_WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(sha\d+[:\-]|h1:)?\b[A-Za-z0-9+/_\-]{32,}={0,2}").unwrap());

/// `echo pw | docker login`, `--password pw`, `-p pw` of a docker login.
static LOGIN_STDIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\b(echo|printf)(\s+(?:-n\s+)?)('[^']*'|"[^"]*"|[^\s|]+)(\s*\|\s*docker\s+login\b)"#).unwrap()
});
static LOGIN_FLAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(\s(?:--password|-p)(?:=|\s+))('[^']*'|"[^"]*"|\S+)"#).unwrap());

/// Where a text comes from: commands get every rule, files the narrower set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Command lines, build args, environment: short, so every long random
    /// word is treated as a credential, and `docker login` passwords go.
    Command,
    /// Files (context, logs): recognisable shapes and secret-named assignments only.
    File,
}

/// Replaces credential-looking values in `text`; returns the new text and
/// what was replaced (empty when nothing was).
pub(crate) fn redact(text: &str, kind: Kind) -> (String, Vec<&'static str>) {
    let mut found = Vec::new();
    let mut out = text.to_owned();
    if kind == Kind::Command && out.contains("docker login") {
        out = replace(&out, &LOGIN_STDIN, &mut found, "registry password (`docker login`)", |c| {
            format!("{}{}{REDACTED}{}", &c[1], &c[2], &c[4])
        });
        out = replace(&out, &LOGIN_FLAG, &mut found, "registry password (`docker login`)", |c| {
            format!("{}{REDACTED}", &c[1])
        });
    }
    for shape in SHAPES.iter() {
        out = replace(&out, &shape.re, &mut found, shape.what, |_| REDACTED.to_owned());
    }
    out = replace(&out, &URL_PASSWORD, &mut found, "password in a URL", |c| format!("{}{REDACTED}{}", &c[1], &c[3]));
    out = replace_assignments(&out, &mut found);
    if kind == Kind::Command {
        out = replace_random_words(&out, &mut found);
    }
    found.dedup();
    (out, found)
}

fn replace(
    text: &str,
    re: &Regex,
    found: &mut Vec<&'static str>,
    what: &'static str,
    with: impl Fn(&Captures<'_>) -> String,
) -> String {
    if !re.is_match(text) {
        return text.to_owned();
    }
    let replaced = re.replace_all(text, |c: &Captures<'_>| with(c)).into_owned();
    if replaced != text {
        found.push(what);
    }
    replaced
}

fn replace_assignments(text: &str, found: &mut Vec<&'static str>) -> String {
    let replaced = ASSIGNMENT.replace_all(text, |c: &Captures<'_>| {
        let (name, sep, value) = (&c[1], &c[2], &c[3]);
        if is_secret_value(name, value) {
            let quote = value.chars().next().filter(|q| *q == '"' || *q == '\'');
            match quote {
                Some(q) => format!("{name}{sep}{q}{REDACTED}{q}"),
                None => format!("{name}{sep}{REDACTED}"),
            }
        } else {
            c[0].to_owned()
        }
    });
    if replaced != text {
        found.push("value of a secret-named variable");
    }
    replaced.into_owned()
}

/// Whether `value` assigned to `name` is a literal worth hiding: not a
/// reference (`$VAR`), not a path or file name for the secret, not empty.
fn is_secret_value(name: &str, value: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let unquoted = value.trim_matches(|c| c == '"' || c == '\'');
    let references = ["_FILE", "_PATH", "_DIR", "_ENV", "_NAME", "_ID", "_URL", "_TYPE"];
    if references.iter().any(|r| upper.ends_with(r)) || unquoted.len() < 4 || unquoted == REDACTED {
        return false;
    }
    let placeholder = unquoted.starts_with('$') || unquoted.starts_with('{') || unquoted.starts_with('<');
    let code = unquoted.contains('(') || unquoted.contains("::") || unquoted.starts_with('&');
    let words = ["true", "false", "none", "null", "required", "optional", "string", "option"];
    !placeholder && !code && !words.iter().any(|w| unquoted.eq_ignore_ascii_case(w))
}

/// Long words with upper case, lower case and digits, which hashes
/// (`sha256:`, pure hex) are not.
fn replace_random_words(text: &str, found: &mut Vec<&'static str>) -> String {
    let replaced = RANDOM_WORD.replace_all(text, |c: &Captures<'_>| {
        let word = &c[0];
        let random = c.get(1).is_none()
            && word.chars().any(|ch| ch.is_ascii_uppercase())
            && word.chars().any(|ch| ch.is_ascii_lowercase())
            && word.chars().any(|ch| ch.is_ascii_digit())
            && !word.contains('/');
        if random {
            REDACTED.to_owned()
        } else {
            word.to_owned()
        }
    });
    if replaced != text {
        found.push("long random value (looks like a token)");
    }
    replaced.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_files_by_path() {
        for path in [
            ".docker/config.json",
            "sub/.npmrc",
            ".netrc",
            ".git-credentials",
            "keys/id_ed25519",
            ".ssh/id_rsa",
            ".env",
            "app/.env.production",
            ".aws/credentials",
        ] {
            assert!(credential_file(path).is_some(), "{path}");
        }
        for path in ["config.json", "src/main.rs", ".env.example", "docker/config.json", "id_rsa.pub"] {
            assert_eq!(credential_file(path), None, "{path}");
        }
    }

    #[test]
    fn login_passwords_and_tokens_in_commands() {
        let (out, found) =
            redact("echo harness | docker login --username harness --password-stdin r:5000", Kind::Command);
        assert_eq!(out, "echo REDACTED | docker login --username harness --password-stdin r:5000");
        assert_eq!(found, ["registry password (`docker login`)"]);
        let (out, _) = redact("docker login -u me -p s3cr3t-pw registry.example", Kind::Command);
        assert_eq!(out, "docker login -u me -p REDACTED registry.example");
        let token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
        let (out, found) = redact(&format!("docker build --build-arg GH={token} ."), Kind::Command);
        assert_eq!(out, "docker build --build-arg GH=REDACTED .");
        assert_eq!(found, ["GitHub token"]);
        let (out, _) = redact("NPM_TOKEN=abc123xyz docker build --build-arg DB_PASSWORD='hunter22' .", Kind::Command);
        assert_eq!(out, "NPM_TOKEN=REDACTED docker build --build-arg DB_PASSWORD='REDACTED' .");
        let (out, _) = redact("docker run -e X=Zq8vK2mN7pL4rT9wY3bH6jD1fG5sA0cE app", Kind::Command);
        assert_eq!(out, "docker run -e X=REDACTED app");
    }

    #[test]
    fn digests_and_ordinary_commands_stay() {
        for line in [
            "docker pull registry:5000/x@sha256:87ef42c820e07a9a495281d6a636b6a79c94c6d10120867d9c331ba68cb910d5",
            "DOCKER_BUILDKIT=1 docker build --progress=plain --target builder --cache-from r:5000/s/26.1.5:builder .",
            "docker buildx build --cache-to type=registry,ref=r:5000/s:cache,mode=max .",
            "docker run --rm r:5000/ci-inline-cache/26.1.5:builder /app/target/release/hello-world",
            "cargo build --release && mv target/release/hello-world /tmp/hello-world",
        ] {
            let (out, found) = redact(line, Kind::Command);
            assert_eq!(out, line);
            assert!(found.is_empty(), "{line}: {found:?}");
        }
    }

    #[test]
    fn files_keep_code_but_lose_shaped_tokens_and_assignments() {
        let code = "fn login(password: &str) -> Result<Token, Error> {\n    let token = fetch_token(password)?;\n}\n";
        assert_eq!(redact(code, Kind::File).0, code);
        let env = "ENV NPM_TOKEN=npm_abcdefghijklmnopqrstuvwxyz0123456789\nARG API_KEY=\"k-123456\"\n";
        let (out, _) = redact(env, Kind::File);
        assert!(!out.contains("npm_abc") && !out.contains("k-123456"), "{out}");
        let (out, found) = redact("url = https://bot:pa55w0rd@git.example.com/x.git\n", Kind::File);
        assert_eq!(out, "url = https://bot:REDACTED@git.example.com/x.git\n");
        assert_eq!(found, ["password in a URL"]);
        assert!(holds_private_key("x\n-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n"));
    }
}
