//! The build being read: vertices as they accumulate evidence, before any
//! classification. Both parsers write here and [`super::classify`] turns a
//! finished draft into a [`super::Build`]. Everything kept per vertex is
//! bounded (a few output lines, a capped list of layers), so a 100 MB log
//! costs as much memory as a small one with the same steps.

use std::collections::{HashMap, HashSet, VecDeque};

use super::model::{Format, Lines, Mark};

/// Results kept per vertex (the last ones).
const MAX_MARKS: usize = 16;
/// Output lines kept per vertex (the last ones).
pub(crate) const TAIL_LINES: usize = 5;
/// Distinct layer digests kept per vertex.
const MAX_LAYERS: usize = 64;
/// Warnings kept per vertex or build.
const MAX_WARNINGS: usize = 32;
/// Stages remembered per build (a Dockerfile rarely has more than a few).
const MAX_STAGES: usize = 256;
/// Characters kept of one message or output line.
pub(crate) const MAX_TEXT: usize = 2000;

/// Cuts `s` to at most [`MAX_TEXT`] bytes on a character boundary.
pub(crate) fn bounded(s: &str) -> &str {
    if s.len() <= MAX_TEXT {
        return s;
    }
    let mut end = MAX_TEXT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// One vertex as read so far.
#[derive(Debug, Default, Clone)]
pub(crate) struct VertexDraft {
    pub(crate) number: u32,
    pub(crate) digest: Option<String>,
    pub(crate) name: String,
    pub(crate) marks: Vec<Mark>,
    /// Activity since the last result: the vertex was running when the
    /// input stopped, if it is still set at the end.
    pub(crate) open: bool,
    /// Rawjson only: listed in the build graph but never started.
    pub(crate) listed_only: bool,
    pub(crate) output_lines: u64,
    pub(crate) tail: VecDeque<String>,
    pub(crate) layers_pulled: Vec<String>,
    pub(crate) layers_extracted: Vec<String>,
    pub(crate) status_lines: u64,
    pub(crate) warnings: Vec<String>,
    pub(crate) lines: Lines,
}

impl VertexDraft {
    pub(crate) fn new(number: u32, name: &str, line: u64) -> Self {
        Self { number, name: bounded(name).to_owned(), lines: Lines { first: line, last: line }, ..Self::default() }
    }

    pub(crate) fn touch(&mut self, line: u64) {
        self.lines.last = self.lines.last.max(line);
    }

    pub(crate) fn push_mark(&mut self, mark: Mark) {
        if self.marks.len() == MAX_MARKS {
            self.marks.remove(0);
        }
        self.marks.push(mark);
        self.open = false;
    }

    /// Records one line of process output, keeping only the tail.
    pub(crate) fn push_output(&mut self, text: &str) {
        self.output_lines += 1;
        let text = bounded(text);
        if self.tail.len() == TAIL_LINES {
            // Reuse the oldest line's allocation: this runs once per output
            // line of the whole log.
            let mut old = self.tail.pop_front().unwrap_or_default();
            old.clear();
            old.push_str(text);
            self.tail.push_back(old);
        } else {
            self.tail.push_back(text.to_owned());
        }
    }

    pub(crate) fn pull_layer(&mut self, digest: &str) {
        push_unique(&mut self.layers_pulled, digest, MAX_LAYERS);
    }

    pub(crate) fn extract_layer(&mut self, digest: &str) {
        push_unique(&mut self.layers_extracted, digest, MAX_LAYERS);
    }

    pub(crate) fn warn(&mut self, text: &str) {
        push_unique(&mut self.warnings, text, MAX_WARNINGS);
    }
}

/// `builder/7` for `[builder 3/7] RUN …`.
fn stage_key(name: &str) -> Option<String> {
    let step = super::name::parse_step_name(name)?;
    Some(format!("{}/{}", step.stage.unwrap_or(""), step.total.unwrap_or(0)))
}

fn push_unique(list: &mut Vec<String>, item: &str, max: usize) {
    let item = bounded(item);
    if list.len() < max && !list.iter().any(|x| x == item) {
        list.push(item.to_owned());
    }
}

/// The step a line-by-line reader (legacy, Buildah, Kaniko) is in.
#[derive(Debug, Clone, Default)]
pub(crate) struct StepCursor {
    pub(crate) current: Option<usize>,
    /// The step is running with no result yet: bare lines are its output.
    pub(crate) running: bool,
}

impl StepCursor {
    /// Closes the current step: a step with no result succeeded.
    pub(crate) fn settle(&mut self, draft: &mut BuildDraft) {
        if let Some(i) = self.current.take() {
            draft.settle(i);
        }
        self.running = false;
    }
}

/// Where [`BuildDraft::text_line`] is within BuildKit's closing text.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum TextMode {
    #[default]
    Normal,
    /// Between `------` lines: the failed vertex's name and last output.
    Summary,
    /// Between `--------------------` lines: the Dockerfile excerpt.
    Excerpt,
    /// After `N warnings found`: ` - Rule: text` items.
    LintList,
}

/// One build as read so far.
#[derive(Debug, Clone)]
pub(crate) struct BuildDraft {
    pub(crate) format: Format,
    pub(crate) builder: Option<String>,
    pub(crate) vertices: Vec<VertexDraft>,
    by_number: HashMap<u32, usize>,
    last_lookup: Option<(u32, usize)>,
    /// Highest vertex number added, kept as vertices come.
    max_number: u32,
    /// `stage/total` of every step named so far (`builder/7`): tells two
    /// builds running side by side apart.
    stages: HashSet<String>,
    pub(crate) warnings: Vec<String>,
    pub(crate) error: Option<String>,
    /// The input stopped in the middle of something (a rawjson object).
    pub(crate) cut: bool,
    pub(crate) lines: Lines,
    text_mode: TextMode,
    /// The last summary block named a Dockerfile step or failed vertex:
    /// a bare line right after it is the 20.10 client's error message.
    summary_blames_build: bool,
    expect_bare_error: bool,
    /// The step a summary block names, when its output lines there are
    /// the only output the log shows of it (tty, an error block alone).
    summary_vertex: Option<usize>,
}

impl BuildDraft {
    pub(crate) fn new(format: Format, line: u64) -> Self {
        Self {
            format,
            builder: None,
            vertices: Vec::new(),
            by_number: HashMap::new(),
            last_lookup: None,
            max_number: 0,
            stages: HashSet::new(),
            warnings: Vec::new(),
            error: None,
            cut: false,
            lines: Lines { first: line, last: line },
            text_mode: TextMode::Normal,
            summary_blames_build: false,
            expect_bare_error: false,
            summary_vertex: None,
        }
    }

    /// True once the draft holds anything worth reporting as a build.
    pub(crate) fn has_content(&self) -> bool {
        !self.vertices.is_empty()
    }

    pub(crate) fn touch(&mut self, line: u64) {
        self.lines.last = self.lines.last.max(line);
    }

    /// True once a Dockerfile step was read.
    pub(crate) fn has_steps(&self) -> bool {
        self.vertices.iter().any(|v| super::name::parse_step_name(&v.name).is_some())
    }

    /// Index of vertex `#number`, if seen in this build.
    pub(crate) fn find(&mut self, number: u32) -> Option<usize> {
        if let Some((n, i)) = self.last_lookup {
            if n == number {
                return Some(i);
            }
        }
        let i = *self.by_number.get(&number)?;
        self.last_lookup = Some((number, i));
        Some(i)
    }

    /// Index of the vertex the log spoke of last.
    pub(crate) fn last_vertex(&self) -> Option<usize> {
        self.last_lookup.map(|(_, i)| i)
    }

    /// Adds vertex `#number` and returns its index.
    pub(crate) fn add(&mut self, vertex: VertexDraft) -> usize {
        let i = self.vertices.len();
        self.by_number.insert(vertex.number, i);
        self.last_lookup = Some((vertex.number, i));
        self.max_number = self.max_number.max(vertex.number);
        self.note_stage(&vertex.name);
        self.vertices.push(vertex);
        i
    }

    /// Adds a step vertex of a builder that numbers nothing itself
    /// (legacy, Buildah, Kaniko, tty): numbered in order of appearance.
    pub(crate) fn add_step(&mut self, name: &str, line: u64) -> usize {
        let number = u32::try_from(self.vertices.len()).unwrap_or(u32::MAX - 1) + 1;
        let i = self.add(VertexDraft::new(number, name, line));
        self.vertices[i].open = true;
        self.touch(line);
        i
    }

    /// Gives vertex `i` a `DONE` if it has no result: a builder that prints
    /// none for a step that succeeded moved on to the next one.
    pub(crate) fn settle(&mut self, i: usize) {
        let v = &mut self.vertices[i];
        if v.marks.is_empty() {
            v.push_mark(Mark::Done { seconds: None });
        }
        v.open = false;
    }

    /// The build failed at vertex `i` (when known) with `message`.
    pub(crate) fn fail(&mut self, i: Option<usize>, message: &str) {
        let message = bounded(message.trim());
        if let Some(i) = i {
            let v = &mut self.vertices[i];
            if !matches!(v.marks.last(), Some(Mark::Error { .. })) {
                v.push_mark(Mark::Error { message: message.to_owned() });
            }
        }
        if self.error.is_none() {
            self.error = Some(message.to_owned());
        }
    }

    /// Fills the message of `ERROR` results printed without one (tty's
    /// ` => ERROR [..]`, an error summary alone) from the build's error.
    pub(crate) fn settle_errors(&mut self) {
        let Some(error) = self.error.clone() else { return };
        for v in &mut self.vertices {
            if let Some(Mark::Error { message }) = v.marks.last_mut() {
                if message.is_empty() {
                    message.clone_from(&error);
                }
            }
        }
    }

    /// Highest vertex number seen so far.
    pub(crate) fn max_number(&self) -> u32 {
        self.max_number
    }

    /// Remembers the stage of a step named `name`.
    pub(crate) fn note_stage(&mut self, name: &str) {
        if let Some(key) = stage_key(name) {
            if self.stages.len() < MAX_STAGES {
                self.stages.insert(key);
            }
        }
    }

    /// True when a step of the stage of `name` (same total) was seen.
    pub(crate) fn has_stage_of(&self, name: &str) -> bool {
        stage_key(name).is_some_and(|key| self.stages.contains(&key))
    }

    /// True once the build reached its end: it failed, or its export
    /// (`exporting to image`, `exporting cache`) has a result. A build
    /// that has not may still be running when another one starts.
    pub(crate) fn reached_end(&self) -> bool {
        self.error.is_some()
            || self.vertices.iter().any(|v| {
                matches!(v.marks.last(), Some(Mark::Error { .. }))
                    || (v.name.starts_with("exporting ") && !v.marks.is_empty())
            })
    }

    pub(crate) fn warn(&mut self, text: &str) {
        push_unique(&mut self.warnings, text.trim(), MAX_WARNINGS);
    }

    /// True inside an error summary or Dockerfile excerpt, whose lines may
    /// look like vertex lines (`#7 0.727 output`) but repeat what was said.
    pub(crate) fn in_closing_block(&self) -> bool {
        matches!(self.text_mode, TextMode::Summary | TextMode::Excerpt)
    }

    /// Handles a line that belongs to no vertex: BuildKit's closing text
    /// (error summary, Dockerfile excerpt, `ERROR:`, warnings). Returns
    /// false when the line meant nothing here (CI noise, shell commands).
    pub(crate) fn text_line(&mut self, text: &str) -> bool {
        let trimmed = text.trim();
        match self.text_mode {
            TextMode::Summary => {
                if trimmed == "------" {
                    self.text_mode = TextMode::Normal;
                    self.expect_bare_error = self.summary_blames_build;
                } else if let Some(name) = text.strip_prefix(" > ") {
                    let name = name.strip_suffix(':').unwrap_or(name);
                    self.summary_vertex = self.summarized_step(name);
                    self.summary_blames_build |= self.blames_build(name);
                } else if let Some(i) = self.summary_vertex {
                    self.vertices[i].push_output(summary_output(text));
                }
                return true;
            }
            TextMode::Excerpt => {
                if trimmed == "--------------------" {
                    self.text_mode = TextMode::Normal;
                }
                return true;
            }
            TextMode::LintList => {
                if let Some(item) = trimmed.strip_prefix("- ") {
                    self.warn(item);
                    return true;
                }
                self.text_mode = TextMode::Normal;
            }
            TextMode::Normal => {}
        }
        if trimmed.is_empty() {
            return true;
        }
        let bare_error_expected = std::mem::take(&mut self.expect_bare_error);
        if trimmed == "------" {
            self.text_mode = TextMode::Summary;
            self.summary_blames_build = false;
            return true;
        }
        if trimmed == "--------------------" {
            self.text_mode = TextMode::Excerpt;
            return true;
        }
        if let Some(message) = strip_prefix_ci(trimmed, "ERROR:") {
            self.error = Some(bounded(message.trim()).to_owned());
            return true;
        }
        for prefix in ["WARNING:", "WARN:"] {
            if let Some(message) = trimmed.strip_prefix(prefix) {
                self.warn(message);
                return true;
            }
        }
        if is_lint_header(trimmed) {
            self.text_mode = TextMode::LintList;
            return true;
        }
        if is_dockerfile_location(trimmed) {
            return true;
        }
        if bare_error_expected || (self.error.is_none() && looks_like_client_error(trimmed)) {
            // The 20.10 client prints the error alone, after the summary.
            if self.error.is_none() {
                self.error = Some(bounded(trimmed).to_owned());
            }
            return true;
        }
        false
    }

    /// The vertex of the step a summary names, added (failed) when the log
    /// never printed it; `None` when its output is already known.
    fn summarized_step(&mut self, name: &str) -> Option<usize> {
        super::name::parse_step_name(name)?;
        // tty cuts names to the terminal's width: a prefix names the same step.
        let known = self.vertices.iter().position(|v| {
            !v.name.is_empty() && (v.name == name || (v.name.len() >= 16 && name.starts_with(v.name.as_str())))
        });
        let i = match known {
            Some(i) => i,
            None => {
                let line = self.lines.last;
                let i = self.add_step(name, line);
                let v = &mut self.vertices[i];
                v.push_mark(Mark::Error { message: String::new() });
                i
            }
        };
        (self.vertices[i].output_lines == 0).then_some(i)
    }

    /// An error summary with no build before it (` > [cacher 9/9] RUN …:`):
    /// opens the block as if its `------` had been read.
    pub(crate) fn orphan_summary(&mut self, text: &str, after_dashes: bool) {
        self.text_mode = TextMode::Summary;
        self.summary_blames_build = false;
        self.text_line(text);
        if !after_dashes {
            // No block around it: the next line is the client's error.
            self.text_mode = TextMode::Normal;
            self.expect_bare_error = true;
        }
    }

    /// True when a summary block's ` > name:` is a step or a failed vertex.
    fn blames_build(&self, name: &str) -> bool {
        if super::name::parse_step_name(name).is_some() {
            return true;
        }
        self.vertices
            .iter()
            .any(|v| v.name == name && matches!(v.marks.last(), Some(Mark::Error { .. })) && !is_cache_import(&v.name))
    }
}

/// `#7 0.727 text`, `#0 0.640 text`, `0.640 text`: the text.
fn summary_output(line: &str) -> &str {
    let rest = super::plain::split_vertex_line(line).map_or(line, |(_, r)| r);
    match super::plain::read(rest) {
        super::plain::Said::Output(t) => t,
        _ => rest,
    }
}

/// A failed cache import is reported but does not fail the build.
fn is_cache_import(name: &str) -> bool {
    name.starts_with("importing cache manifest")
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// `1 warning found (use docker --debug to expand):` and its plural.
fn is_lint_header(s: &str) -> bool {
    let rest = s.trim_start_matches(|c: char| c.is_ascii_digit());
    rest.len() < s.len() && (rest.starts_with(" warning found") || rest.starts_with(" warnings found"))
}

/// `Dockerfile:12`, `path/to/Dockerfile.dev:3`: the excerpt's title.
fn is_dockerfile_location(s: &str) -> bool {
    match s.rsplit_once(':') {
        Some((path, line)) => {
            !line.is_empty()
                && line.bytes().all(|c| c.is_ascii_digit())
                && path.contains("Dockerfile")
                && !path.contains(' ')
        }
        None => false,
    }
}

/// Error lines the 20.10 client prints without any prefix.
fn looks_like_client_error(s: &str) -> bool {
    s.starts_with("failed to solve")
        || s.starts_with("executor failed running")
        || s.starts_with("failed to compute cache key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_tail_keeps_the_last_lines_only() {
        let mut v = VertexDraft::new(1, "x", 1);
        for i in 0..100 {
            v.push_output(&format!("line {i}"));
        }
        assert_eq!(v.output_lines, 100);
        assert_eq!(v.tail, ["line 95", "line 96", "line 97", "line 98", "line 99"]);
    }

    #[test]
    fn layers_and_marks_are_capped() {
        let mut v = VertexDraft::new(1, "x", 1);
        for i in 0..1000 {
            v.pull_layer(&format!("sha256:{i}"));
            v.pull_layer(&format!("sha256:{i}"));
            v.push_mark(Mark::Done { seconds: Some(i as f64) });
        }
        assert_eq!(v.layers_pulled.len(), MAX_LAYERS);
        assert_eq!(v.marks.len(), MAX_MARKS);
        assert_eq!(v.marks.last(), Some(&Mark::Done { seconds: Some(999.0) }));
    }

    #[test]
    fn bounded_respects_char_boundaries() {
        let long = "é".repeat(MAX_TEXT);
        assert!(bounded(&long).len() <= MAX_TEXT);
        assert_eq!(bounded("short"), "short");
    }

    #[test]
    fn closing_text_sets_error_and_warnings() {
        let mut d = BuildDraft::new(Format::Plain, 1);
        for line in [
            "------",
            " > [fails 2/2] RUN exit 3:",
            "0.489 about to fail",
            "------",
            "Dockerfile:5",
            "--------------------",
            "   5 | >>> RUN exit 3",
            "--------------------",
            "ERROR: failed to solve: exit code: 3",
            " 1 warning found (use docker --debug to expand):",
            " - FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 1)",
        ] {
            assert!(d.text_line(line), "{line}");
        }
        assert_eq!(d.error.as_deref(), Some("failed to solve: exit code: 3"));
        assert_eq!(d.warnings, ["FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 1)"]);
        assert!(!d.text_line("$ docker push registry/app"));
    }

    #[test]
    fn a_bare_line_after_a_step_summary_is_the_20_10_error() {
        let mut d = BuildDraft::new(Format::Plain, 1);
        for line in [
            "------",
            " > [fails 2/2] RUN exit 3:",
            "------",
            "executor failed running [/bin/sh -c exit 3]: exit code: 3",
        ] {
            d.text_line(line);
        }
        assert_eq!(d.error.as_deref(), Some("executor failed running [/bin/sh -c exit 3]: exit code: 3"));
    }

    #[test]
    fn a_failed_cache_import_summary_is_not_a_build_error() {
        let mut d = BuildDraft::new(Format::Plain, 1);
        let mut v = VertexDraft::new(4, "importing cache manifest from r:5000/hw:builder", 1);
        v.push_mark(Mark::Error { message: "not found".into() });
        d.add(v);
        for line in ["------", " > importing cache manifest from r:5000/hw:builder:", "------"] {
            d.text_line(line);
        }
        assert!(!d.text_line("$ docker push r:5000/hw:builder"));
        assert_eq!(d.error, None);
    }
}
