//! YAML files as a tree of nodes that remember their line.
//!
//! CI files lean on YAML features a plain deserializer hides: anchors and
//! aliases, merge keys (`<<: *defaults`), and GitLab's `!reference` tag. The
//! importer also has to say on which line a job or a key is. So it reads the
//! event stream of `saphyr-parser` (a maintained YAML 1.2 parser) and builds
//! its own [`Node`] tree: aliases are expanded, merge keys applied (explicit
//! keys win, earlier merge sources win over later ones), tags kept.

use std::collections::HashMap;
use std::path::Path;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// One YAML value with its position (1-based line, 1-based column) and tag.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub value: Value,
    pub line: usize,
    pub col: usize,
    /// The line of the key this value sits under (its own line otherwise):
    /// where errors about "the key" point.
    pub key_line: usize,
    /// The tag as written, handle and suffix joined (`!reference`).
    pub tag: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    /// A scalar as text; `plain` when written without quotes (so `true`
    /// and `1` can be told from `"true"` when it matters).
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    /// Keys in file order, merge keys applied.
    Map(Vec<(String, Node)>),
}

/// A YAML syntax error, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl Node {
    pub fn new(value: Value, line: usize, col: usize) -> Self {
        Self { value, line, col, key_line: line, tag: None }
    }

    /// The value under `key`, when this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(String, Node)] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    /// The scalar's text (`true`, `1` and strings alike).
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// A boolean as YAML 1.2 and GitHub Actions spell it.
    pub fn as_bool(&self) -> Option<bool> {
        match self.as_str()?.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" => Some(true),
            "false" | "no" | "off" => Some(false),
            _ => None,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "nothing",
            Value::Scalar { .. } => "a scalar",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// Parses the first document of `text`. An empty file is a null node.
pub(crate) fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut builder = Builder { events: Parser::new_from_str(text), anchors: HashMap::new() };
    loop {
        let (event, span) = builder.next()?;
        match event {
            Event::StreamStart | Event::DocumentStart(_) | Event::Nothing => {}
            Event::StreamEnd => return Ok(Node::new(Value::Null, 1, 1)),
            other => return builder.node(other, span),
        }
    }
}

/// Reads and parses `path`.
pub(crate) fn read(path: &Path) -> Result<Result<Node, SyntaxError>, std::io::Error> {
    let text = std::fs::read_to_string(path)?;
    Ok(parse(&text))
}

struct Builder<'a> {
    events: Parser<'a, saphyr_parser::StrInput<'a>>,
    anchors: HashMap<usize, Node>,
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), SyntaxError> {
        match self.events.next_event() {
            Some(Ok(pair)) => Ok(pair),
            Some(Err(e)) => {
                Err(SyntaxError { line: e.marker().line(), col: e.marker().col() + 1, message: e.info().to_owned() })
            }
            None => Err(SyntaxError { line: 0, col: 0, message: "unexpected end of the YAML stream".into() }),
        }
    }

    fn node(&mut self, event: Event<'a>, span: Span) -> Result<Node, SyntaxError> {
        let (line, col) = (span.start.line(), span.start.col() + 1);
        let (node, anchor) = match event {
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().ok_or_else(|| SyntaxError {
                    line,
                    col,
                    message: "alias to an unknown anchor".into(),
                })?;
                // The alias stands where it is written: errors point there.
                return Ok(Node { line, col, key_line: line, ..node });
            }
            Event::Scalar(text, style, anchor, tag) => {
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                let plain = style == ScalarStyle::Plain;
                let null = plain && tag.is_none() && matches!(text.as_ref(), "" | "~" | "null" | "Null" | "NULL");
                let value = if null { Value::Null } else { Value::Scalar { text: text.into_owned(), plain } };
                (Node { value, line, col, key_line: line, tag }, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                let mut items = Vec::new();
                loop {
                    let (event, span) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(event, span)?);
                }
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                (Node { value: Value::Seq(items), line, col, key_line: line, tag }, anchor)
            }
            Event::MappingStart(anchor, tag) => {
                let value = self.mapping()?;
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                (Node { value, line, col, key_line: line, tag }, anchor)
            }
            other => {
                return Err(SyntaxError { line, col, message: format!("unexpected YAML event {other:?}") });
            }
        };
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }

    fn mapping(&mut self) -> Result<Value, SyntaxError> {
        let mut explicit: Vec<(String, Node)> = Vec::new();
        let mut merged: Vec<(String, Node)> = Vec::new();
        loop {
            let (event, span) = self.next()?;
            if matches!(event, Event::MappingEnd) {
                break;
            }
            let key = self.node(event, span)?;
            let (event, span) = self.next()?;
            let mut value = self.node(event, span)?;
            value.key_line = key.line;
            let key_text = match &key.value {
                Value::Scalar { text, .. } => text.clone(),
                Value::Null => String::new(),
                _ => {
                    return Err(SyntaxError {
                        line: key.line,
                        col: key.col,
                        message: "a mapping key must be a scalar".into(),
                    })
                }
            };
            if key_text == "<<" && matches!(key.value, Value::Scalar { plain: true, .. }) {
                merge_into(&mut merged, value)?;
            } else if let Some(slot) = explicit.iter_mut().find(|(k, _)| *k == key_text) {
                // Duplicate keys: the last one wins, as most CI parsers do.
                slot.1 = value;
            } else {
                explicit.push((key_text, value));
            }
        }
        for (key, value) in merged {
            if !explicit.iter().any(|(k, _)| *k == key) {
                explicit.push((key, value));
            }
        }
        Ok(Value::Map(explicit))
    }
}

/// Adds the entries of a merge source (a mapping or a list of mappings) to
/// `merged`, keeping the first occurrence of each key.
fn merge_into(merged: &mut Vec<(String, Node)>, source: Node) -> Result<(), SyntaxError> {
    let sources = match source.value {
        Value::Map(_) => vec![source],
        Value::Seq(items) => items,
        _ => {
            return Err(SyntaxError {
                line: source.line,
                col: source.col,
                message: "`<<` must merge a mapping or a list of mappings".into(),
            })
        }
    };
    for source in sources {
        let Value::Map(entries) = source.value else {
            return Err(SyntaxError {
                line: source.line,
                col: source.col,
                message: "`<<` must merge a mapping or a list of mappings".into(),
            });
        };
        for (key, value) in entries {
            if !merged.iter().any(|(k, _)| *k == key) {
                merged.push((key, value));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use indoc::indoc;

    fn text(node: &Node) -> &str {
        node.as_str().unwrap()
    }

    #[test]
    fn lines_and_columns_are_one_based() {
        let root = parse("a: 1\nb:\n  c: x\n").unwrap();
        let c = root.get("b").unwrap().get("c").unwrap();
        assert_eq!((c.line, c.col), (3, 6));
        assert_eq!((root.get("b").unwrap().line, root.get("b").unwrap().key_line), (3, 2));
        assert_eq!(root.get("a").unwrap().line, 1);
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let root = parse(indoc! {"
            .base: &base
              image: docker:24
              variables: {A: '1'}
            .more: &more
              image: ignored
              tags: [x]
            job:
              <<: [*base, *more]
              variables: {B: '2'}
              script: &s
                - echo hi
            other:
              script: *s
        "})
        .unwrap();
        let job = root.get("job").unwrap();
        assert_eq!(text(job.get("image").unwrap()), "docker:24");
        assert_eq!(job.get("variables").unwrap().entries().len(), 1, "explicit keys win whole");
        assert_eq!(job.get("tags").unwrap().items().len(), 1);
        let keys: Vec<&str> = job.entries().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["variables", "script", "image", "tags"]);
        let other = root.get("other").unwrap().get("script").unwrap();
        assert_eq!(text(&other.items()[0]), "echo hi");
        assert_eq!(other.line, 13, "an alias is located where it is written");
    }

    #[test]
    fn tags_nulls_and_quoting() {
        let root = parse("a: !reference [.x, script]\nb:\nc: 'true'\nd: true\n").unwrap();
        assert_eq!(root.get("a").unwrap().tag.as_deref(), Some("!reference"));
        assert_eq!(root.get("b").unwrap().value, Value::Null);
        assert_eq!(root.get("c").unwrap().value, Value::Scalar { text: "true".into(), plain: false });
        assert_eq!(root.get("d").unwrap().as_bool(), Some(true));
    }

    #[test]
    fn folded_plain_scalars_join_lines() {
        let root = parse("s:\n  - docker build\n      --target chef\n      .\n").unwrap();
        assert_eq!(text(&root.get("s").unwrap().items()[0]), "docker build --target chef .");
    }

    #[test]
    fn syntax_errors_are_located() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.line >= 1, "{err:?}");
        let err = parse("a: *missing\n").unwrap_err();
        assert_eq!(err.line, 1, "{err:?}");
    }
}
