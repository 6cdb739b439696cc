//! `--progress=rawjson`: buildx writes BuildKit's `SolveStatus` as JSON,
//! one object per line (buildx 0.2x) or pretty-printed over many lines
//! (buildx 0.13). Each object carries vertex updates (`started`,
//! `completed`, `cached`, `error`), statuses (layer transfer, extraction),
//! process output (`logs`, base64) and warnings (base64). This module finds
//! the objects among the lines, decodes them (a raw serde struct first) and
//! feeds the same [`BuildDraft`] the plain parser fills, numbering vertices
//! in the order they start as the plain printer does.

use std::collections::HashMap;

use base64::Engine as _;
use serde::Deserialize;

use super::draft::{BuildDraft, VertexDraft};
use super::model::Mark;
use super::name::parse_step_name;

/// Largest JSON object accepted, to bound memory on a runaway input.
pub(crate) const MAX_OBJECT: usize = 16 * 1024 * 1024;

/// The `SolveStatus` shape. Every field is optional: an object with none of
/// these keys is not progress (CI tools print JSON too).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawSolveStatus {
    vertexes: Option<Vec<RawVertex>>,
    statuses: Option<Vec<RawStatus>>,
    logs: Option<Vec<RawLog>>,
    warnings: Option<Vec<RawWarning>>,
}

impl RawSolveStatus {
    pub(crate) fn is_progress(&self) -> bool {
        self.vertexes.is_some() || self.statuses.is_some() || self.logs.is_some() || self.warnings.is_some()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawVertex {
    digest: Option<String>,
    name: Option<String>,
    started: Option<String>,
    completed: Option<String>,
    cached: Option<bool>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawStatus {
    id: Option<String>,
    vertex: Option<String>,
    total: Option<i64>,
    completed: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawLog {
    vertex: Option<String>,
    data: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawWarning {
    vertex: Option<String>,
    short: Option<String>,
}

/// What feeding one line to [`RawJson::feed`] gave.
#[derive(Debug, PartialEq)]
pub(crate) enum Feed {
    /// The object continues on the next lines.
    Incomplete,
    /// A whole object and the line it started on.
    Object(String, u64),
    /// A line that cannot continue a pretty-printed object arrived; the
    /// object started on this line was never closed.
    Abandoned(u64),
    /// The object grew past [`MAX_OBJECT`].
    TooLarge(u64),
}

/// Per-vertex state only rawjson needs.
#[derive(Debug, Default)]
struct Extra {
    started: Option<String>,
    completed: Option<String>,
    /// Output bytes after the last newline.
    partial: Vec<u8>,
}

/// Finds JSON objects among lines and applies them to the build.
#[derive(Debug, Default)]
pub(crate) struct RawJson {
    acc: String,
    active: bool,
    depth: i64,
    in_string: bool,
    escaped: bool,
    start_line: u64,
    by_digest: HashMap<String, usize>,
    extra: Vec<Extra>,
    next_number: u32,
}

impl RawJson {
    /// True while a multi-line object is being collected.
    pub(crate) fn accumulating(&self) -> bool {
        self.active
    }

    /// True when `text` may continue the object being collected: pretty
    /// printing indents every inner line and closes at column 0.
    pub(crate) fn continues(text: &str) -> bool {
        matches!(text.as_bytes().first(), Some(b' ' | b'\t' | b'}' | b']'))
    }

    /// Feeds a line that starts an object (`{`) or continues one.
    pub(crate) fn feed(&mut self, text: &str, line: u64) -> Feed {
        if self.active && !Self::continues(text) {
            return Feed::Abandoned(self.abandon());
        }
        if !self.active {
            self.active = true;
            self.depth = 0;
            self.in_string = false;
            self.escaped = false;
            self.start_line = line;
            self.acc.clear();
        }
        if self.acc.len() + text.len() > MAX_OBJECT {
            return Feed::TooLarge(self.abandon());
        }
        let end = self.scan(text);
        let kept = end.map_or(text, |e| &text[..e]);
        if !self.acc.is_empty() {
            self.acc.push('\n');
        }
        self.acc.push_str(kept);
        if end.is_some() {
            self.active = false;
            Feed::Object(std::mem::take(&mut self.acc), self.start_line)
        } else {
            Feed::Incomplete
        }
    }

    /// Drops a half-collected object; returns the line it started on.
    pub(crate) fn abandon(&mut self) -> u64 {
        self.active = false;
        self.acc = String::new();
        self.start_line
    }

    /// Tracks braces outside strings; returns the byte just past the
    /// closing brace when the object ends on this line.
    fn scan(&mut self, text: &str) -> Option<usize> {
        for (i, &b) in text.as_bytes().iter().enumerate() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth <= 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// Forgets the per-build state: the next object belongs to a new build.
    pub(crate) fn reset_build(&mut self) {
        self.by_digest.clear();
        self.extra.clear();
        self.next_number = 0;
    }

    /// True when `status` opens a new build: the Dockerfile is being loaded
    /// again after this build already ran steps.
    pub(crate) fn starts_new_build(&self, draft: &BuildDraft, status: &RawSolveStatus) -> bool {
        let ran_steps = draft.vertices.iter().any(|v| !v.listed_only && parse_step_name(&v.name).is_some());
        if !ran_steps {
            return false;
        }
        status.vertexes.iter().flatten().any(|v| {
            let name = v.name.as_deref().unwrap_or("");
            if !name.starts_with("[internal] load build definition") {
                return false;
            }
            match v.digest.as_deref().and_then(|d| self.by_digest.get(d)) {
                None => true,
                Some(&i) => {
                    let known = &draft.vertices[i];
                    !known.open && !known.marks.is_empty() && v.completed.is_none()
                }
            }
        })
    }

    /// Applies one decoded object to the build.
    pub(crate) fn apply(&mut self, draft: &mut BuildDraft, status: RawSolveStatus, line: u64) {
        draft.touch(line);
        for v in status.vertexes.into_iter().flatten() {
            self.apply_vertex(draft, v, line);
        }
        for s in status.statuses.into_iter().flatten() {
            let Some(i) = self.vertex_for(draft, s.vertex.as_deref(), line) else { continue };
            self.activate(draft, i);
            let id = s.id.as_deref().unwrap_or("");
            let v = &mut draft.vertices[i];
            if let Some(d) = layer_digest(id) {
                if s.total.unwrap_or(0) > 0 {
                    v.pull_layer(d);
                }
            } else if let Some(d) = id.strip_prefix("extracting ").and_then(layer_digest) {
                v.extract_layer(d);
            } else if s.completed.is_some() {
                v.status_lines += 1;
            }
        }
        for l in status.logs.into_iter().flatten() {
            let Some(i) = self.vertex_for(draft, l.vertex.as_deref(), line) else { continue };
            self.activate(draft, i);
            let Some(data) = l.data.as_deref().and_then(decode_base64) else { continue };
            let extra = extra_at(&mut self.extra, i);
            let v = &mut draft.vertices[i];
            let mut rest = &data[..];
            while let Some(nl) = memchr::memchr(b'\n', rest) {
                let (head, tail) = rest.split_at(nl);
                if extra.partial.is_empty() {
                    push_output_bytes(v, head);
                } else {
                    extra.partial.extend_from_slice(head);
                    push_output_bytes(v, &extra.partial);
                    extra.partial.clear();
                }
                rest = &tail[1..];
            }
            if extra.partial.len() < super::draft::MAX_TEXT {
                extra.partial.extend_from_slice(rest);
            }
        }
        for w in status.warnings.into_iter().flatten() {
            let Some(text) = w.short.as_deref().and_then(decode_base64) else { continue };
            let text = String::from_utf8_lossy(&text);
            if let Some(i) = self.vertex_for(draft, w.vertex.as_deref(), line) {
                draft.vertices[i].warn(&text);
            }
            draft.warn(&text);
        }
    }

    /// Writes out output lines that never got their newline.
    pub(crate) fn flush(&mut self, draft: &mut BuildDraft) {
        for (i, extra) in self.extra.iter_mut().enumerate() {
            if !extra.partial.is_empty() {
                push_output_bytes(&mut draft.vertices[i], &extra.partial);
                extra.partial.clear();
            }
        }
    }

    fn apply_vertex(&mut self, draft: &mut BuildDraft, raw: RawVertex, line: u64) {
        let name = raw.name.as_deref().unwrap_or("");
        let Some(i) = self.vertex_for(draft, raw.digest.as_deref(), line) else { return };
        if draft.vertices[i].name.is_empty() && !name.is_empty() {
            draft.vertices[i].name = super::draft::bounded(name).to_owned();
        }
        if raw.started.is_none() {
            return;
        }
        self.activate(draft, i);
        let extra = extra_at(&mut self.extra, i);
        let v = &mut draft.vertices[i];
        match raw.completed {
            None => v.open = true,
            Some(completed) => {
                // buildx repeats an update now and then: count a result once.
                if extra.started == raw.started && extra.completed.as_ref() == Some(&completed) {
                    return;
                }
                let seconds = match (raw.started.as_deref().and_then(parse_time), parse_time(&completed)) {
                    (Some(a), Some(b)) if b >= a => Some((b - a) as f64 / 1e9),
                    _ => None,
                };
                let error = raw.error.unwrap_or_default();
                let mark = if is_canceled(&error) {
                    Mark::Canceled
                } else if !error.is_empty() {
                    Mark::Error { message: super::draft::bounded(&error).to_owned() }
                } else if raw.cached == Some(true) {
                    Mark::Cached
                } else {
                    Mark::Done { seconds }
                };
                v.push_mark(mark);
                extra.started = raw.started;
                extra.completed = Some(completed);
            }
        }
    }

    /// The vertex with this digest, added (unstarted) when new.
    fn vertex_for(&mut self, draft: &mut BuildDraft, digest: Option<&str>, line: u64) -> Option<usize> {
        let digest = digest.filter(|d| !d.is_empty())?;
        if let Some(&i) = self.by_digest.get(digest) {
            draft.vertices[i].touch(line);
            return Some(i);
        }
        let mut v = VertexDraft::new(0, "", line);
        v.digest = Some(super::draft::bounded(digest).to_owned());
        v.listed_only = true;
        // Rawjson vertices have no number until they start; index them by
        // a placeholder outside the plain range so `find` never hits them.
        v.number = u32::MAX - draft.vertices.len() as u32;
        let i = draft.add(v);
        self.by_digest.insert(digest.to_owned(), i);
        extra_at(&mut self.extra, i);
        Some(i)
    }

    /// Numbers a vertex the first time it shows activity.
    fn activate(&mut self, draft: &mut BuildDraft, i: usize) {
        let v = &mut draft.vertices[i];
        if v.listed_only {
            v.listed_only = false;
            self.next_number += 1;
            v.number = self.next_number;
        }
    }
}

/// Decodes one complete object; `Ok(None)` when it is JSON but not progress.
pub(crate) fn decode(text: &str) -> Result<Option<RawSolveStatus>, serde_json::Error> {
    let status: RawSolveStatus = serde_json::from_str(text)?;
    Ok(status.is_progress().then_some(status))
}

fn push_output_bytes(v: &mut VertexDraft, bytes: &[u8]) {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    v.push_output(&String::from_utf8_lossy(bytes));
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

/// `sha256:<hex>` at the start of a status id.
fn layer_digest(id: &str) -> Option<&str> {
    let hex = id.strip_prefix("sha256:")?;
    let len = hex.bytes().take_while(u8::is_ascii_hexdigit).count();
    (len >= 12).then(|| &id[..7 + len])
}

/// BuildKit reports a canceled vertex as an error ending in
/// `context canceled`; the plain printer shows it as `CANCELED`.
fn is_canceled(error: &str) -> bool {
    error == "canceled" || error.ends_with("context canceled")
}

/// Nanoseconds since the epoch of an RFC 3339 timestamp
/// (`2026-11-24T00:19:05.349812377Z`, or with a `+hh:mm` offset).
pub(crate) fn parse_time(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: i128 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 9 {
                nanos = nanos * 10 + i128::from(b[i] - b'0');
            }
            i += 1;
        }
        let digits = (i - start).min(9);
        if digits == 0 {
            return None;
        }
        nanos *= 10i128.pow(9 - digits as u32);
    }
    let offset_secs: i64 = match &s[i..] {
        "Z" | "z" => 0,
        tz if tz.len() == 6 && matches!(tz.as_bytes()[0], b'+' | b'-') && tz.as_bytes()[3] == b':' => {
            let h = num(i + 1..i + 3)?;
            let m = num(i + 4..i + 6)?;
            let sign = if tz.starts_with('-') { -1 } else { 1 };
            sign * (h * 3600 + m * 60)
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    Some(i128::from(secs) * 1_000_000_000 + nanos)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The rawjson state of vertex `i`, grown on demand: the draft's vertices
/// also come from other readers of the same log (a plain line in a mixed
/// log adds one), so the two lists need not grow in step.
fn extra_at(extra: &mut Vec<Extra>, i: usize) -> &mut Extra {
    if extra.len() <= i {
        extra.resize_with(i + 1, Extra::default);
    }
    &mut extra[i]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc3339_timestamps() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("1970-01-01T00:00:01.5Z"), Some(1_500_000_000));
        let a = parse_time("2026-11-24T00:19:05.349812377Z").unwrap();
        let b = parse_time("2026-11-24T00:19:05.349885083Z").unwrap();
        assert_eq!(b - a, 72_706);
        assert_eq!(parse_time("2026-11-24T02:19:05+02:00"), parse_time("2026-11-24T00:19:05Z"));
        assert_eq!(parse_time("2000-03-01T00:00:00Z"), Some(951_868_800 * 1_000_000_000));
        for bad in [
            "",
            "2026-11-24",
            "2026-13-24T00:00:00Z",
            "2026-11-24T00:00:00",
            "2026-11-24T00:00:00.Z",
            "2026-11-24T0x:00:00Z",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn collects_compact_and_pretty_objects() {
        let mut r = RawJson::default();
        assert_eq!(
            r.feed(r#"{"logs":[{"data":"e30="}]} trailing"#, 1),
            Feed::Object(r#"{"logs":[{"data":"e30="}]}"#.into(), 1)
        );
        assert_eq!(r.feed("{", 2), Feed::Incomplete);
        assert_eq!(r.feed(r#"  "vertexes": [ { "name": "a } ] {" } ]"#, 3), Feed::Incomplete);
        assert_eq!(r.feed("}", 4), Feed::Object("{\n  \"vertexes\": [ { \"name\": \"a } ] {\" } ]\n}".into(), 2));
        assert_eq!(r.feed("{", 5), Feed::Incomplete);
        assert_eq!(r.feed("#1 [internal] load", 6), Feed::Abandoned(5));
        assert!(!r.accumulating());
    }

    #[test]
    fn objects_without_progress_keys_are_not_progress() {
        assert!(decode(r#"{"level":"info"}"#).unwrap().is_none());
        assert!(decode(r#"{"vertexes":[]}"#).unwrap().is_some());
        assert!(decode(r#"{"vertexes":[{"digest":null,"name":null}]}"#).unwrap().is_some());
        assert!(decode(r#"{"vertexes":7}"#).is_err());
    }

    #[test]
    fn canceled_errors_are_cancellations() {
        assert!(is_canceled(
            "process \"x\" did not complete successfully: exit code: 137: context canceled: context canceled"
        ));
        assert!(is_canceled("canceled"));
        assert!(!is_canceled("exit code: 3"));
    }
}
