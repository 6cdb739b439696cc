//! GitHub Actions `${{ … }}` expressions, resolved where they are static.
//!
//! A workflow's values name `env`, `matrix`, `github`, `secrets`, `vars`
//! and earlier steps' outputs. The importer knows the static ones (env and
//! matrix values, step outputs it computed, `github.*` mapped to the run's
//! values) and resolves `a || b`, string literals and `format()`. Secrets
//! become placeholders, never values; anything else is reported as
//! unresolved so the caller can warn.

use std::collections::BTreeMap;

/// What expressions can see.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    /// `env.*`, workflow, job and step levels merged.
    pub env: BTreeMap<String, String>,
    /// `matrix.*` of the row being imported (nested keys joined with `.`).
    pub matrix: BTreeMap<String, String>,
    /// `steps.<id>.outputs.<name>`, keyed `<id>.<name>`.
    pub outputs: BTreeMap<String, String>,
}

/// The result of resolving the expressions in a text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Resolved {
    pub text: String,
    /// Secret names met (the text holds a placeholder for each).
    pub secrets: Vec<String>,
    /// Expressions that could not be resolved.
    pub unresolved: Vec<String>,
}

impl Scope {
    /// Replaces every `${{ expr }}` in `text`.
    pub fn resolve(&self, text: &str) -> Resolved {
        let mut out = Resolved::default();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.text.push_str(&rest[..start]);
            let after = &rest[start + 3..];
            let Some(end) = after.find("}}") else {
                out.text.push_str(&rest[start..]);
                return out;
            };
            let expr = after[..end].trim();
            match self.eval(expr, &mut out.secrets) {
                Some(value) => out.text.push_str(&value),
                None => {
                    out.unresolved.push(expr.to_owned());
                    out.text.push_str(&placeholder("unresolved", expr));
                }
            }
            rest = &after[end + 2..];
        }
        out.text.push_str(rest);
        out
    }

    /// Evaluates one expression; `None` when it is not static.
    fn eval(&self, expr: &str, secrets: &mut Vec<String>) -> Option<String> {
        let alternatives = split_top(expr, "||");
        if alternatives.len() > 1 {
            for alt in &alternatives {
                match self.eval(alt, secrets) {
                    Some(v) if !v.is_empty() && v != "false" => return Some(v),
                    Some(_) => continue,
                    None => return None,
                }
            }
            return Some(String::new());
        }
        for (op, equal) in [("==", true), ("!=", false)] {
            if let [left, right] = split_top(expr, op).as_slice() {
                let same = self.eval(left, secrets)?.eq_ignore_ascii_case(&self.eval(right, secrets)?);
                return Some((same == equal).to_string());
            }
        }
        let expr = expr.trim();
        if let Some(inner) = expr.strip_prefix('!').filter(|e| !e.starts_with('=')) {
            let value = self.eval(inner, secrets)?;
            return Some((value.is_empty() || value == "false").to_string());
        }
        if let Some(literal) = expr.strip_prefix('\'').and_then(|e| e.strip_suffix('\'')) {
            return Some(literal.replace("''", "'"));
        }
        if expr.parse::<f64>().is_ok() || expr == "true" || expr == "false" {
            return Some(expr.to_owned());
        }
        if let Some(args) = expr.strip_prefix("format(").and_then(|e| e.strip_suffix(')')) {
            let args = split_top(args, ",");
            let mut text = self.eval(args.first()?, secrets)?;
            for (i, arg) in args.iter().enumerate().skip(1) {
                text = text.replace(&format!("{{{}}}", i - 1), &self.eval(arg, secrets)?);
            }
            return Some(text);
        }
        self.lookup(expr, secrets)
    }

    fn lookup(&self, path: &str, secrets: &mut Vec<String>) -> Option<String> {
        let (context, key) = path.split_once('.').unwrap_or((path, ""));
        match context {
            "env" => Some(self.env.get(key).cloned().unwrap_or_default()),
            "matrix" => self.matrix.get(key).cloned(),
            "secrets" => {
                secrets.push(key.to_owned());
                // `GITHUB_TOKEN` included: the run's registry has its own login.
                Some(placeholder("secret", key))
            }
            "steps" => {
                let (id, rest) = key.split_once(".outputs.")?;
                self.outputs.get(&format!("{id}.{rest}")).cloned()
            }
            "github" => github(key).map(str::to_owned),
            "runner" => match key {
                "os" => Some("Linux".into()),
                "arch" => Some("X64".into()),
                "temp" => Some("/tmp".into()),
                _ => None,
            },
            _ => None,
        }
    }
}

/// `github.*` values as a push to the default branch would have them, in
/// the run's terms.
fn github(key: &str) -> Option<&'static str> {
    Some(match key {
        "sha" => "commit-{job}",
        "ref" => "refs/heads/main",
        "ref_name" | "head_ref" | "base_ref" => "main",
        "ref_type" => "branch",
        "event_name" => "push",
        "repository" => "harness/{scenario}",
        "repository_owner" | "actor" | "triggering_actor" => "harness",
        "run_number" | "run_id" | "run_attempt" => "{job}",
        "workspace" => ".",
        "server_url" => "https://github.com",
        "job" => "{scenario}",
        _ => return None,
    })
}

/// A readable stand-in for a value the scenario must not or cannot hold.
fn placeholder(kind: &str, expr: &str) -> String {
    let name: String = expr
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    format!("{kind}-{name}")
}

/// Splits at `sep` outside quotes and parentheses.
fn split_top<'a>(expr: &'a str, sep: &str) -> Vec<&'a str> {
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut start) = (0i32, false, 0);
    let bytes = expr.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth -= 1,
            _ if !quoted && depth == 0 && expr[i..].starts_with(sep) => {
                parts.push(expr[start..i].trim());
                i += sep.len();
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(expr[start..].trim());
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        let mut s = Scope::default();
        s.env.insert("REGISTRY".into(), "ghcr.io".into());
        s.matrix.insert("target".into(), "builder".into());
        s.outputs.insert("meta.tags".into(), "ghcr.io/o/a:main".into());
        s
    }

    #[test]
    fn static_values_resolve() {
        let r = scope().resolve("${{ env.REGISTRY }}/${{ github.repository }}:${{ matrix.target }}-${{ github.sha }}");
        assert_eq!(r.text, "ghcr.io/harness/{scenario}:builder-commit-{job}");
        assert!(r.unresolved.is_empty() && r.secrets.is_empty());
        assert_eq!(scope().resolve("${{ steps.meta.outputs.tags }}").text, "ghcr.io/o/a:main");
        assert_eq!(scope().resolve("${{ env.NOPE || 'dflt' }}").text, "dflt");
        assert_eq!(scope().resolve("${{ format('{0}:{1}', env.REGISTRY, 'x') }}").text, "ghcr.io:x");
        assert_eq!(scope().resolve("${{ github.event_name == 'push' }}").text, "true");
        assert_eq!(scope().resolve("${{ github.event_name != 'push' }}").text, "false");
    }

    #[test]
    fn secrets_become_placeholders() {
        let r = scope().resolve("${{ secrets.DOCKERHUB_TOKEN }}");
        assert_eq!(r.text, "secret-dockerhub-token");
        assert_eq!(r.secrets, ["DOCKERHUB_TOKEN"]);
    }

    #[test]
    fn the_rest_is_unresolved() {
        let r = scope().resolve("x-${{ vars.TAG }}");
        assert_eq!(r.text, "x-unresolved-vars-tag");
        assert_eq!(r.unresolved, ["vars.TAG"]);
    }
}
