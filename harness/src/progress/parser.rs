//! The streaming driver: takes a log one line at a time, tells plain
//! progress from rawjson line by line (so a CI log may hold both), cuts the
//! log into builds (`#0 building with`, vertex numbering restarting at #1,
//! the Dockerfile loaded again), and hands each finished build to
//! [`super::classify`]. Only the current build's vertices stay in memory
//! besides the finished builds, so memory follows the number of steps.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::classify::finish;
use super::decor;
use super::detect::{self, Reader, Verdict};
use super::draft::BuildDraft;
use super::error::{ParseError, ParseErrorKind};
use super::line::{clean, LineReader};
use super::model::{Build, Format};
use super::plain;
use super::rawjson::{self, Feed, RawJson};

/// Lines read before the first build in which binary data is fatal; later
/// a stray binary line in process output is skipped.
const BINARY_PROBE_LINES: u64 = 64;

/// Parses a log incrementally: feed lines with [`Parser::push_line`], then
/// call [`Parser::finish`]. Use it to parse output while a build runs;
/// [`parse_reader`] does the whole loop for a reader.
#[derive(Debug)]
pub struct Parser {
    input: String,
    builds: Vec<Build>,
    draft: Option<BuildDraft>,
    raw: RawJson,
    line: u64,
    non_blank: u64,
    not_utf8: u64,
    first_error: Option<String>,
    /// A rawjson object that failed to decode: fatal if more text follows,
    /// a cut log if the input ends here.
    pending: Option<(u64, ParseErrorKind)>,
    /// `--format`: read every line as this format.
    forced: Option<Format>,
    /// The reader of the current build when it is tty, legacy, Buildah or
    /// Kaniko.
    reader: Option<Reader>,
    /// A `------` with no build before it: an error summary may follow.
    orphan_dashes: bool,
    /// A second plain build running at the same time into the same log
    /// (two `docker build`s in parallel): its vertex numbers collide with
    /// the current build's, its headers tell them apart.
    side: Option<BuildDraft>,
    /// Vertex numbers whose latest header belongs to `side`.
    on_side: HashSet<u32>,
}

impl Parser {
    /// A parser for the input called `input` in error messages.
    pub fn new(input: impl Into<String>) -> Self {
        Self {
            input: input.into(),
            builds: Vec::new(),
            draft: None,
            raw: RawJson::default(),
            line: 0,
            non_blank: 0,
            not_utf8: 0,
            first_error: None,
            pending: None,
            forced: None,
            reader: None,
            orphan_dashes: false,
            side: None,
            on_side: HashSet::new(),
        }
    }

    /// A parser that reads every line as `format` instead of detecting it
    /// (`harness parse --format`); `None` detects.
    pub fn with_format(input: impl Into<String>, format: Option<Format>) -> Self {
        Self { forced: format, ..Self::new(input) }
    }

    /// Builds finished so far (a build finishes when the next one starts).
    pub fn finished(&self) -> &[Build] {
        &self.builds
    }

    /// The build being read, as it would stand if the log ended here: steps
    /// that printed a result already carry their outcome. For live views of
    /// a running build (plain progress).
    pub fn current(&self) -> Option<Build> {
        self.draft.as_ref().filter(|d| d.has_content()).map(|d| finish(d.clone()))
    }

    fn error(&self, line: Option<u64>, kind: ParseErrorKind) -> ParseError {
        ParseError::new(&self.input, line, kind)
    }

    /// Feeds one line, without its `\n`.
    pub fn push_line(&mut self, raw_line: &[u8]) -> Result<(), ParseError> {
        self.line += 1;
        let line = self.line;
        let (cleaned, flags) = clean(raw_line);
        if flags.binary {
            if self.builds.is_empty() && self.draft.is_none() && line <= BINARY_PROBE_LINES {
                return Err(self.error(Some(line), ParseErrorKind::Binary { what: "a NUL byte" }));
            }
            return Ok(());
        }
        self.not_utf8 += u64::from(flags.not_utf8);
        let Some(text) = decor::strip(&cleaned) else { return Ok(()) };
        if text.trim().is_empty() {
            if self.raw.accumulating() {
                self.abandon_object()?;
            }
            return Ok(());
        }
        self.non_blank += 1;
        if let Some((at, kind)) = self.pending.take() {
            return Err(self.error(Some(at), kind));
        }
        if self.raw.accumulating() {
            if RawJson::continues(text) {
                return self.feed_json(text, line);
            }
            self.abandon_object()?;
        }
        let format = self.route(text);
        if format == Format::Rawjson && text.starts_with('{') {
            return self.feed_json(text, line);
        }
        if !format.is_buildkit() || format == Format::Tty {
            self.other_line(format, text, line);
            return Ok(());
        }
        let in_block = self.draft.as_ref().is_some_and(BuildDraft::in_closing_block);
        match plain::split_vertex_line(text) {
            Some((number, rest)) if !in_block => self.plain_line(number, rest, line),
            _ => self.text_line(text, line),
        }
        Ok(())
    }

    /// The format to read `text` as: the forced one, the current build's
    /// while it is inside process output or an error summary, else the one
    /// the line's signature names, else the current build's.
    fn route(&self, text: &str) -> Format {
        if let Some(f) = self.forced {
            return f;
        }
        let current = self.draft.as_ref().map(|d| d.format);
        if let Some(c) = current.filter(|c| !c.is_buildkit() || *c == Format::Tty) {
            let in_output = self.reader.as_ref().is_some_and(Reader::in_output);
            let in_block = self.draft.as_ref().is_some_and(BuildDraft::in_closing_block);
            if in_output || in_block {
                return c;
            }
        }
        match detect::signature(text) {
            Some(f) => f,
            None => match current {
                Some(Format::Rawjson) | None => Format::Plain,
                Some(c) => c,
            },
        }
    }

    /// A line of tty, legacy, Buildah or Kaniko output.
    fn other_line(&mut self, format: Format, text: &str, line: u64) {
        if self.draft.as_ref().is_some_and(|d| d.format != format) {
            self.flush_draft();
        }
        for _ in 0..2 {
            let draft = self.draft.get_or_insert_with(|| BuildDraft::new(format, line));
            let reader = self.reader.get_or_insert_with(|| Reader::new(format).expect("a line-oriented format"));
            match reader.line(draft, text, line) {
                Verdict::Used => return,
                Verdict::NewBuild => self.flush_draft(),
                Verdict::Unused => {
                    if !draft.has_content() {
                        self.draft = None;
                        self.reader = None;
                    }
                    self.note_unread(text);
                    return;
                }
            }
        }
        // A fresh build refused the line that started it: only noise.
        self.note_unread(text);
    }

    /// Ends the input and returns every build found.
    pub fn finish(mut self) -> Result<Vec<Build>, ParseError> {
        let mut cut = self.pending.take().is_some();
        if self.raw.accumulating() {
            self.raw.abandon();
            cut = true;
        }
        if let Some(draft) = self.draft.as_mut() {
            draft.cut |= cut;
        }
        self.flush_draft();
        if !self.builds.is_empty() {
            return Ok(self.builds);
        }
        if self.non_blank == 0 {
            return Err(self.error(None, ParseErrorKind::Empty));
        }
        if self.not_utf8 * 2 > self.non_blank {
            return Err(self.error(None, ParseErrorKind::Binary { what: "mostly invalid UTF-8" }));
        }
        let mut hint = String::new();
        if let Some(e) = &self.first_error {
            hint.push_str(&format!("; the log says: {e}"));
        }
        Err(self.error(None, ParseErrorKind::NoBuild { lines: self.line, hint }))
    }

    /// Drops a multi-line object that never closed; fatal in a rawjson build.
    fn abandon_object(&mut self) -> Result<(), ParseError> {
        let start = self.raw.abandon();
        if self.draft.as_ref().is_some_and(|d| d.format == Format::Rawjson) {
            return Err(self.error(Some(start), ParseErrorKind::Unclosed));
        }
        Ok(())
    }

    fn feed_json(&mut self, text: &str, line: u64) -> Result<(), ParseError> {
        let (object, start) = match self.raw.feed(text, line) {
            Feed::Incomplete => return Ok(()),
            Feed::Object(object, start) => (object, start),
            Feed::Abandoned(start) => return Err(self.error(Some(start), ParseErrorKind::Unclosed)),
            Feed::TooLarge(start) => {
                return Err(self.error(Some(start), ParseErrorKind::TooLarge { limit: rawjson::MAX_OBJECT }))
            }
        };
        let status = match rawjson::decode(&object) {
            Ok(Some(status)) => status,
            // JSON that is not progress: CI noise.
            Ok(None) => return Ok(()),
            Err(e) => {
                let ours = self.draft.as_ref().is_some_and(|d| d.format == Format::Rawjson)
                    || ["\"vertexes\"", "\"statuses\"", "\"logs\"", "\"warnings\""].iter().any(|k| object.contains(k));
                if ours {
                    self.pending = Some((start, ParseErrorKind::Json(e)));
                }
                return Ok(());
            }
        };
        let new_build = match &self.draft {
            Some(d) if d.format != Format::Rawjson => d.has_content(),
            Some(d) => self.raw.starts_new_build(d, &status),
            None => false,
        };
        if new_build {
            self.flush_draft();
        }
        let draft = self.draft.get_or_insert_with(|| BuildDraft::new(Format::Rawjson, start));
        if draft.format != Format::Rawjson {
            // A plain draft with no vertices yet (say, only `#0`): take it over.
            draft.format = Format::Rawjson;
        }
        self.raw.apply(draft, status, line);
        Ok(())
    }

    fn plain_line(&mut self, number: u32, rest: &str, line: u64) {
        let mut alongside = false;
        let new_build = match self.draft.as_mut() {
            Some(d) if d.format != Format::Plain => d.has_content(),
            // A build that printed only `[internal]` vertices and no error may
            // be running alongside this one: keep it (see `on_side_build`).
            Some(d) if number == 0 => {
                plain::builder_of(rest).is_some() && (d.builder.is_some() || d.error.is_some() || d.has_steps())
            }
            Some(d) => {
                let restarts = plain::starts_new_build(d, number, rest);
                // Numbering restarts before this build reached its end: a
                // second build running alongside, unless one already is.
                alongside = restarts && self.side.is_none() && !d.reached_end();
                restarts && !alongside
            }
            None => false,
        };
        if new_build {
            self.flush_draft();
        }
        let draft = self.draft.get_or_insert_with(|| BuildDraft::new(Format::Plain, line));
        draft.format = Format::Plain;
        if number == 0 {
            draft.touch(line);
            if let Some(builder) = plain::builder_of(rest) {
                draft.builder = Some(builder.to_owned());
            } else {
                // docker compose prints a running step's output as `#0 0.640 …`.
                plain::apply_to_running(draft, rest, line);
            }
            return;
        }
        if alongside {
            self.on_side.insert(number);
        }
        if alongside || self.on_side_build(number, rest) {
            let side = self.side.get_or_insert_with(|| BuildDraft::new(Format::Plain, line));
            plain::apply(side, number, rest, line);
        } else if let Some(draft) = self.draft.as_mut() {
            plain::apply(draft, number, rest, line);
        }
    }

    /// True when `#number rest` belongs to the build running alongside: a
    /// header naming another vertex than the current build's `#number`
    /// (BuildKit never renames a vertex), the first line of a vertex that
    /// follows the side build's numbering, or a later line of such a vertex.
    fn on_side_build(&mut self, number: u32, rest: &str) -> bool {
        let Some(draft) = self.draft.as_mut() else { return false };
        let text = match plain::read(rest) {
            plain::Said::Text(t) => Some(t),
            _ => None,
        };
        let main = draft.find(number).map(|i| draft.vertices[i].name.as_str());
        // `None`: the side build has no `#number`; else whether its vertex
        // has the name this line gives.
        let side = self.side.as_mut().and_then(|s| s.find(number).map(|i| text == Some(s.vertices[i].name.as_str())));
        let to_side = match (text, main) {
            (Some(header), Some(name)) if header.starts_with('[') => {
                name != header && (side == Some(true) || name.starts_with('['))
            }
            // A header of a number only the side build has: the side's
            // vertex when it names it, else a new vertex of this build.
            (Some(header), None) if header.starts_with('[') && side.is_some() => side == Some(true),
            // A vertex new to both builds: whichever build it follows.
            (_, None) if side.is_none() && !self.on_side.contains(&number) => {
                self.side.as_ref().is_some_and(|s| next_in(s, draft, number, text.unwrap_or("")))
            }
            _ => return self.on_side.contains(&number),
        };
        if to_side {
            self.on_side.insert(number);
        } else {
            self.on_side.remove(&number);
        }
        to_side
    }

    fn text_line(&mut self, text: &str, line: u64) {
        if self.draft.is_none() {
            self.orphan_line(text, line);
            return;
        }
        let used = match self.draft.as_mut() {
            Some(d) => {
                let used = d.text_line(text);
                if used {
                    d.touch(line);
                }
                used
            }
            None => false,
        };
        if !used {
            self.note_unread(text);
        }
    }

    /// A line before any build: an error summary alone starts one.
    fn orphan_line(&mut self, text: &str, line: u64) {
        let dashes = std::mem::take(&mut self.orphan_dashes);
        if text.trim() == "------" {
            self.orphan_dashes = true;
            return;
        }
        let summary = text.strip_prefix(" > ").map(|n| n.strip_suffix(':').unwrap_or(n));
        if summary.is_some_and(|name| super::name::parse_step_name(name).is_some()) {
            let draft = self.draft.insert(BuildDraft::new(Format::Plain, line));
            draft.orphan_summary(text, dashes);
            draft.touch(line);
            return;
        }
        self.note_unread(text);
    }

    /// Remembers what an unread line may tell when no build is found.
    fn note_unread(&mut self, text: &str) {
        let t = text.trim_start();
        if self.first_error.is_none() && (t.starts_with("ERROR") || t.starts_with("error:")) {
            self.first_error = Some(super::draft::bounded(t).to_owned());
        }
    }

    fn flush_draft(&mut self) {
        self.on_side.clear();
        if let Some(side) = self.side.take().filter(BuildDraft::has_content) {
            // The build alongside ends with this one; it goes after it.
            let main = self.draft.take();
            self.draft = Some(side);
            self.flush_one();
            self.draft = main;
            let side = self.builds.pop();
            self.flush_one();
            self.builds.extend(side);
            return;
        }
        self.flush_one();
    }

    fn flush_one(&mut self) {
        let reader = self.reader.take();
        if let Some(mut draft) = self.draft.take() {
            if draft.format == Format::Rawjson {
                self.raw.flush(&mut draft);
            }
            if let Some(mut r) = reader {
                r.finish(&mut draft);
            }
            draft.settle_errors();
            self.raw.reset_build();
            if draft.has_content() {
                self.builds.push(finish(draft));
            }
        }
    }
}

/// True when a vertex new to both builds running side by side belongs to
/// `side`. BuildKit numbers a build's vertices as it first meets them but
/// may print a later one first: a number below a build's highest fills a
/// gap of that build (the current one first); else the new number follows
/// the build whose highest is nearest below it. On a tie, the build that
/// has a step of the header's stage, else the current one.
fn next_in(side: &BuildDraft, main: &BuildDraft, number: u32, header: &str) -> bool {
    let fills_gap = |d: &BuildDraft| d.max_number() > number;
    match (fills_gap(main), fills_gap(side)) {
        (true, _) => false,
        (false, true) => true,
        (false, false) => match side.max_number().cmp(&main.max_number()) {
            std::cmp::Ordering::Equal => side.has_stage_of(header) && !main.has_stage_of(header),
            order => order.is_gt(),
        },
    }
}

/// Parses a whole log from a reader. One log may hold several builds, one
/// after another (a CI job running `docker build` three times); each comes
/// back as its own [`Build`]. Errors name the input `<input>`.
pub fn parse_reader(reader: impl BufRead) -> Result<Vec<Build>, ParseError> {
    parse_reader_named(reader, "<input>")
}

/// [`parse_reader`], with the name to use in error messages.
pub fn parse_reader_named(reader: impl BufRead, input: &str) -> Result<Vec<Build>, ParseError> {
    parse_reader_as(reader, input, None)
}

/// [`parse_reader_named`], reading every line as `format` (`None` detects
/// the format line by line).
pub fn parse_reader_as(reader: impl BufRead, input: &str, format: Option<Format>) -> Result<Vec<Build>, ParseError> {
    let mut parser = Parser::with_format(input, format);
    let mut lines = LineReader::new(reader);
    loop {
        match lines.next_line() {
            Ok(Some(line)) => parser.push_line(line)?,
            Ok(None) => break,
            Err(e) => return Err(ParseError::new(input, Some(lines.number + 1), ParseErrorKind::Io(e))),
        }
    }
    parser.finish()
}

/// Parses the log at `path`.
pub fn parse_path(path: &Path) -> Result<Vec<Build>, ParseError> {
    parse_path_as(path, None)
}

/// [`parse_path`], reading every line as `format` (`None` detects).
pub fn parse_path_as(path: &Path, format: Option<Format>) -> Result<Vec<Build>, ParseError> {
    let input = path.display().to_string();
    let file = File::open(path).map_err(|e| ParseError::new(&input, None, ParseErrorKind::Io(e)))?;
    parse_reader_as(BufReader::with_capacity(256 * 1024, file), &input, format)
}

/// Parses a log held in memory (tests, small captures).
pub fn parse_str(log: &str) -> Result<Vec<Build>, ParseError> {
    parse_reader(log.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Outcome;
    use indoc::indoc;

    #[test]
    fn lines_repeated_in_an_error_summary_are_not_counted_twice() {
        let log = indoc! {r#"
            #5 [2/2] RUN echo hi && exit 1
            #5 0.345 hi
            #5 ERROR: executor failed running [/bin/sh -c echo hi && exit 1]: exit code: 1
            ------
             > [2/2] RUN echo hi && exit 1:
            #5 0.345 hi
            ------
            executor failed running [/bin/sh -c echo hi && exit 1]: exit code: 1
        "#};
        let build = &parse_str(log).unwrap()[0];
        let step = &build.steps[1];
        assert_eq!(step.outcome, Outcome::Error);
        assert_eq!(step.evidence.output_lines, 1);
        assert!(!build.truncated);
        assert_eq!(
            build.error.as_deref(),
            Some("executor failed running [/bin/sh -c echo hi && exit 1]: exit code: 1")
        );
        assert_eq!(build.steps[0].outcome, Outcome::Absent);
    }

    #[test]
    fn json_and_braces_in_a_plain_log_are_noise() {
        let log = indoc! {r#"
            {"status":"Pushing","id":"5f70"}
            { echo unbalanced
            #1 [1/1] FROM x
            #1 CACHED
            {"level":"info","vertexes":"not a list"
        "#};
        let builds = parse_str(log).unwrap();
        assert_eq!(builds.len(), 1);
        assert_eq!(builds[0].format, Format::Plain);
        assert_eq!(builds[0].steps[0].outcome, Outcome::Cached);
    }

    #[test]
    fn a_plain_build_then_a_rawjson_build_are_two_builds() {
        let log = indoc! {r#"
            #1 [1/1] FROM x
            #1 CACHED
            {"vertexes":[{"digest":"sha256:a","name":"[1/1] FROM y","started":"2026-01-01T00:00:00Z","completed":"2026-01-01T00:00:01Z"}]}
        "#};
        let builds = parse_str(log).unwrap();
        assert_eq!(builds.iter().map(|b| b.format).collect::<Vec<_>>(), [Format::Plain, Format::Rawjson]);
        assert_eq!(builds[1].steps[0].duration, Some(1.0));
        assert_eq!(builds[1].steps[0].vertex, 1);
    }

    #[test]
    fn finished_builds_are_available_while_streaming() {
        let mut p = Parser::new("live");
        for line in ["#0 building with x", "#1 [1/1] FROM a", "#1 CACHED", "#0 building with x", "#1 [1/1] FROM b"] {
            p.push_line(line.as_bytes()).unwrap();
        }
        assert_eq!(p.finished().len(), 1);
        let builds = p.finish().unwrap();
        assert_eq!(builds.len(), 2);
        assert!(builds[1].truncated);
    }

    /// Two builds whose vertex numbers restart while the first has not
    /// exported yet: they ran side by side. The second gets ahead (#4, #5
    /// new to both) and its vertices still follow its own numbering.
    #[test]
    fn a_build_restarting_before_the_first_ends_runs_alongside() {
        let log = indoc! {r#"
            #1 [internal] load build definition from Dockerfile
            #1 DONE 0.0s
            #2 [internal] load .dockerignore
            #2 DONE 0.0s
            #1 [internal] load build definition from Dockerfile
            #1 DONE 0.0s
            #2 [internal] load metadata for b
            #2 DONE 0.0s
            #3 [a 1/2] FROM a
            #3 CACHED
            #3 [b 1/2] FROM b
            #3 CACHED
            #4 [b 2/2] RUN make b
            #4 0.2 built b
            #4 DONE 0.3s
            #4 [a 2/2] RUN make a
            #4 CACHED
            #5 exporting to image
            #5 DONE 0.1s
        "#};
        let builds = parse_str(log).unwrap();
        let names = |b: &Build| b.steps.iter().map(|s| (s.name(), s.outcome)).collect::<Vec<_>>();
        assert_eq!(builds.len(), 2);
        assert_eq!(
            names(&builds[0]),
            [("[a 1/2] FROM a".into(), Outcome::Cached), ("[a 2/2] RUN make a".into(), Outcome::Cached)]
        );
        assert_eq!(
            names(&builds[1]),
            [("[b 1/2] FROM b".into(), Outcome::Cached), ("[b 2/2] RUN make b".into(), Outcome::Executed)]
        );
    }

    /// A build that ended (exported) and then vertex #1 again: one build
    /// after the other, in order.
    #[test]
    fn a_build_restarting_after_the_export_is_the_next_build() {
        let log = indoc! {r#"
            #1 [internal] load build definition from Dockerfile
            #1 DONE 0.0s
            #2 [1/1] FROM a
            #2 CACHED
            #3 exporting to image
            #3 DONE 0.0s
            #1 [internal] load build definition from Dockerfile
            #1 DONE 0.0s
            #2 [1/1] FROM b
            #2 CACHED
        "#};
        let builds = parse_str(log).unwrap();
        let first_steps: Vec<_> = builds.iter().map(|b| b.steps[0].name()).collect();
        assert_eq!(first_steps, ["[1/1] FROM a", "[1/1] FROM b"]);
    }
}
