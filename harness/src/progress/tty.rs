//! `--progress=tty` (what `docker build` prints on a terminal, and what
//! people paste most after plain): frames that start with
//! `[+] Building 10.0s (17/17) FINISHED`, one line per vertex
//! (` => CACHED [chef 2/3] RUN …   0.0s`), statuses under it
//! (` => => transferring context: 2B`, ` => => # <process output>`), and,
//! on failure, the `------` summary and `ERROR:` after the last frame.
//!
//! A terminal recorder (`script`) captures every redraw: the frames follow
//! one another and **the last frame wins** for each vertex's result, while
//! the process output any frame showed counts as evidence. Vertices are
//! identified by their name (tty prints no numbers); they get numbers in
//! the order they first appear. A header after a `FINISHED` frame starts a
//! new build.
//!
//! Outcome rules (on top of [`super::classify`]'s):
//! - `CACHED` is `cached`, `ERROR` is `error`, `CANCELED` is `canceled`;
//! - a step printed without a marker in a finished frame is done: it is
//!   `executed` when a frame showed its output, or when the build imported
//!   no remote cache (tty never prints output of finished steps, so silence
//!   means nothing here); `remote` with layer lines; else `executed?`;
//! - a `FROM` with `=> => sha256:… / extracting` lines under it is `pulled`;
//! - a vertex still running in the last frame of a log that never reached
//!   `FINISHED` leaves the build `truncated`.

use std::collections::HashMap;

use super::detect::Verdict;
use super::draft::{BuildDraft, VertexDraft};
use super::model::Mark;

/// Per-build state of the tty reader.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tty {
    by_name: HashMap<String, usize>,
    /// The vertex the last ` => ` line named: statuses belong to it.
    last: Option<usize>,
    /// A `[+] Building` header was seen in this build.
    framed: bool,
    /// The last header said `FINISHED`.
    finished: bool,
    next_number: u32,
}

/// True for a line only tty output prints.
pub(crate) fn is_tty_line(text: &str) -> bool {
    text.starts_with("[+] Building") || text.trim_start().starts_with("=> ")
}

impl Tty {
    pub(crate) fn line(&mut self, draft: &mut BuildDraft, text: &str, line: u64) -> Verdict {
        if let Some(rest) = text.strip_prefix("[+] Building") {
            if self.finished && draft.has_content() {
                return Verdict::NewBuild;
            }
            self.framed = true;
            self.finished = rest.contains("FINISHED");
            draft.touch(line);
            return Verdict::Used;
        }
        let Some(body) = text.trim_start().strip_prefix("=> ") else {
            return self.other(draft, text, line);
        };
        draft.touch(line);
        match body.strip_prefix("=> ") {
            Some(status) => self.status(draft, status, line),
            None => self.vertex(draft, body, line),
        }
        Verdict::Used
    }

    /// Closing text (error summary, `ERROR:`, warnings) or noise.
    fn other(&mut self, draft: &mut BuildDraft, text: &str, line: u64) -> Verdict {
        if !draft.has_content() {
            return Verdict::Unused;
        }
        if draft.text_line(text) {
            draft.touch(line);
            if draft.error.is_some() {
                // The build ended: a new header starts another one.
                self.finished = true;
            }
            return Verdict::Used;
        }
        Verdict::Unused
    }

    fn vertex(&mut self, draft: &mut BuildDraft, body: &str, line: u64) {
        let (mark, rest) = if let Some(r) = body.strip_prefix("CACHED ") {
            (Some(Mark::Cached), r)
        } else if let Some(r) = body.strip_prefix("ERROR ") {
            (Some(Mark::Error { message: String::new() }), r)
        } else if let Some(r) = body.strip_prefix("CANCELED ") {
            (Some(Mark::Canceled), r)
        } else {
            (None, body)
        };
        let (name, seconds) = split_time(rest);
        let i = match self.by_name.get(name) {
            Some(&i) => i,
            None => {
                self.next_number += 1;
                let i = draft.add(VertexDraft::new(self.next_number, name, line));
                self.by_name.insert(name.to_owned(), i);
                i
            }
        };
        self.last = Some(i);
        let v = &mut draft.vertices[i];
        v.touch(line);
        // The last frame wins: each frame restates the vertex's state.
        v.marks.clear();
        v.push_mark(mark.unwrap_or(Mark::Done { seconds }));
        v.open = self.framed && !self.finished;
    }

    fn status(&mut self, draft: &mut BuildDraft, status: &str, line: u64) {
        let Some(i) = self.last else { return };
        let v = &mut draft.vertices[i];
        v.touch(line);
        if let Some(out) = status.strip_prefix("# ").or_else(|| (status == "#").then_some("")) {
            // Redrawn frames repeat the same output lines.
            if !v.tail.iter().any(|t| t == out) {
                v.push_output(out);
            }
            return;
        }
        let (text, _) = split_time(status);
        let text = text.strip_prefix("pulling ").unwrap_or(text);
        if let Some(d) = layer(text) {
            v.pull_layer(d);
        } else if let Some(d) = text.strip_prefix("extracting ").and_then(layer) {
            v.extract_layer(d);
        } else {
            v.status_lines += 1;
        }
    }
}

/// `sha256:<hex>` at the start (tty shortens digests to fit the terminal).
fn layer(text: &str) -> Option<&str> {
    let hex = text.strip_prefix("sha256:")?;
    let len = hex.bytes().take_while(u8::is_ascii_hexdigit).count();
    (len >= 12).then(|| &text[..7 + len])
}

/// Splits `name      1.2s` into the name and its seconds. tty pads the
/// time column with at least two spaces, so `RUN sleep 5s` keeps its `5s`.
fn split_time(s: &str) -> (&str, Option<f64>) {
    let t = s.trim_end();
    if let Some((head, last)) = t.rsplit_once(' ').filter(|(h, _)| h.ends_with(' ')) {
        if let Some(n) = last.strip_suffix('s') {
            if !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
                if let Ok(v) = n.parse::<f64>() {
                    return (head.trim_end(), Some(v));
                }
            }
        }
    }
    (t, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::model::Format;

    fn read(lines: &[&str]) -> BuildDraft {
        let mut d = BuildDraft::new(Format::Tty, 1);
        let mut t = Tty::default();
        for (n, l) in lines.iter().enumerate() {
            assert_ne!(t.line(&mut d, l, n as u64 + 1), Verdict::NewBuild);
        }
        d
    }

    #[test]
    fn the_last_frame_wins_and_output_of_earlier_frames_counts() {
        let d = read(&[
            "[+] Building 0.3s (3/4)",
            " => CACHED [1/3] FROM x      0.0s",
            " => [2/3] RUN make           0.2s",
            " => => # cc -o app main.c",
            "[+] Building 1.3s (4/4) FINISHED",
            " => CACHED [1/3] FROM x      0.0s",
            " => [2/3] RUN make           1.2s",
            " => => # cc -o app main.c",
            " => => # done",
        ]);
        let make = &d.vertices[1];
        assert_eq!(make.marks, [Mark::Done { seconds: Some(1.2) }]);
        assert_eq!(make.output_lines, 2);
        assert!(!make.open);
    }

    #[test]
    fn splits_times() {
        assert_eq!(split_time("[2/3] RUN make     12.5s"), ("[2/3] RUN make", Some(12.5)));
        assert_eq!(split_time("[2/3] RUN make"), ("[2/3] RUN make", None));
        assert_eq!(split_time("[2/3] RUN sleep 5s"), ("[2/3] RUN sleep 5s", None));
        assert_eq!(split_time("[2/3] RUN sleep 5s  5.1s"), ("[2/3] RUN sleep 5s", Some(5.1)));
    }
}
