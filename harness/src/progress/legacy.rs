//! The legacy builder (`DOCKER_BUILDKIT=0`, Docker before 23, docker-compose
//! v1): `Step 3/7 : RUN …`, then ` ---> Using cache` for a reused step, or
//! ` ---> Running in <container>` and the process output for a step that
//! ran, and ` ---> <image id>` when the step committed. A `FROM` that pulls
//! prints `<layer>: Pull complete` lines. Steps are numbered over the whole
//! Dockerfile (no stage names), so they read as `[3/7] RUN …`.
//!
//! Outcome rules:
//! - ` ---> Using cache` is `cached` (the builder prints it for every
//!   reused step, `--cache-from` hits included);
//! - a step that committed without it is `executed`, silent or not: this
//!   builder has no other way to reuse a step;
//! - a `FROM` with `Pull complete` lines is `pulled`, one without `cached`
//!   (the image was already there);
//! - `The command '…' returned a non-zero code`, `COPY failed:` and the
//!   like are `error` on the step being built.

use super::detect::Verdict;
use super::draft::{BuildDraft, StepCursor};

/// Per-build state of the legacy reader.
#[derive(Debug, Clone, Default)]
pub(crate) struct Legacy {
    /// The step being read and whether bare lines are its output.
    cursor: StepCursor,
    cached: bool,
    ended: bool,
}

/// True for a line only the legacy builder prints.
pub(crate) fn is_legacy_line(text: &str) -> bool {
    step_header(text).is_some()
        || text.starts_with(" ---> ")
        || text.starts_with("Sending build context to Docker daemon")
        || text.starts_with("Successfully built ")
}

/// `Step 3/7 : RUN make` to (3, 7, `RUN make`).
fn step_header(text: &str) -> Option<(u32, u32, &str)> {
    let rest = text.strip_prefix("Step ")?;
    let (fraction, instruction) = rest.split_once(" : ")?;
    let (i, n) = fraction.split_once('/')?;
    Some((i.parse().ok()?, n.parse().ok()?, instruction.trim()))
}

impl Legacy {
    pub(crate) fn in_output(&self) -> bool {
        self.cursor.running
    }

    pub(crate) fn finish(&mut self, draft: &mut BuildDraft) {
        self.cursor.settle(draft);
    }

    pub(crate) fn line(&mut self, draft: &mut BuildDraft, text: &str, line: u64) -> Verdict {
        if text.starts_with("Sending build context to Docker daemon") {
            if draft.has_content() {
                return Verdict::NewBuild;
            }
            draft.touch(line);
            return Verdict::Used;
        }
        if let Some((index, total, instruction)) = step_header(text) {
            if (index == 1 || self.ended) && draft.has_content() {
                return Verdict::NewBuild;
            }
            self.cursor.settle(draft);
            self.cached = false;
            self.cursor.current = Some(draft.add_step(&format!("[{index}/{total}] {instruction}"), line));
            return Verdict::Used;
        }
        if !draft.has_content() {
            return Verdict::Unused;
        }
        draft.touch(line);
        if let Some(arrow) = text.strip_prefix(" ---> ") {
            self.arrow(draft, arrow.trim());
            return Verdict::Used;
        }
        // While a step runs, only the client's verdict ends it: the
        // process's own `ERROR:` lines are output.
        let verdict = if self.cursor.running { command_failed(text) } else { error_line(text) };
        if let Some(message) = verdict {
            draft.fail(self.cursor.current, message);
            self.cursor.running = false;
            self.ended = true;
            return Verdict::Used;
        }
        if text.starts_with("Successfully built ") || text.starts_with("Successfully tagged ") {
            self.cursor.settle(draft);
            self.ended = true;
            return Verdict::Used;
        }
        let Some(i) = self.cursor.current else { return Verdict::Unused };
        let v = &mut draft.vertices[i];
        v.touch(line);
        if text.starts_with("Removing intermediate container") {
            self.cursor.running = false;
            v.status_lines += 1;
        } else if self.cursor.running {
            v.push_output(text);
        } else if let Some(layer) = pulled_layer(text) {
            v.pull_layer(layer);
        } else if is_pull_status(text) {
            v.status_lines += 1;
        } else {
            return Verdict::Unused;
        }
        Verdict::Used
    }

    /// ` ---> Using cache`, ` ---> Running in …`, ` ---> <id>`.
    fn arrow(&mut self, draft: &mut BuildDraft, arrow: &str) {
        let Some(i) = self.cursor.current else { return };
        let v = &mut draft.vertices[i];
        if arrow == "Using cache" {
            v.push_mark(super::model::Mark::Cached);
            self.cached = true;
        } else if arrow.starts_with("Running in ") {
            self.cursor.running = true;
            v.status_lines += 1;
        } else if let Some(w) = arrow.strip_prefix("[Warning] ") {
            v.warn(w);
            draft.warn(w);
        } else if is_image_id(arrow) {
            self.cursor.running = false;
            self.cursor.settle(draft);
        } else {
            v.status_lines += 1;
        }
    }
}

fn is_image_id(s: &str) -> bool {
    s.len() >= 12 && s.bytes().all(|c| c.is_ascii_hexdigit())
}

/// `a1b2c3d4e5f6: Pull complete` (also `Download complete`, ...).
fn pulled_layer(text: &str) -> Option<&str> {
    let (id, what) = text.split_once(": ")?;
    (is_image_id(id) && what == "Pull complete").then_some(id)
}

fn is_pull_status(text: &str) -> bool {
    text.contains(": Pulling from ")
        || text.starts_with("Digest: sha256:")
        || text.starts_with("Status: ")
        || text.split_once(": ").is_some_and(|(id, _)| is_image_id(id))
}

/// `The command '/bin/sh -c …' returned a non-zero code: 3`.
fn command_failed(text: &str) -> Option<&str> {
    let t = text.trim();
    (t.starts_with("The command '") && t.contains("returned a non-zero code")).then_some(t)
}

/// The error lines the legacy client prints, with the message to keep.
fn error_line(text: &str) -> Option<&str> {
    let t = text.trim();
    if let Some(m) = command_failed(t) {
        return Some(m);
    }
    for prefix in ["COPY failed:", "ADD failed:", "failed to ", "Error response from daemon:", "ERROR: "] {
        if t.starts_with(prefix) {
            return Some(t.strip_prefix("ERROR: ").unwrap_or(t));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::model::{Format, Mark};

    #[test]
    fn reads_steps_cache_hits_runs_and_errors() {
        let mut d = BuildDraft::new(Format::Legacy, 1);
        let mut r = Legacy::default();
        let lines = [
            "Sending build context to Docker daemon  5.632kB",
            "Step 1/3 : FROM debian",
            "latest: Pulling from library/debian",
            "a1b2c3d4e5f6: Pull complete",
            " ---> 51045e794b7e",
            "Step 2/3 : RUN echo hi",
            " ---> Using cache",
            " ---> 0ef221b7dd1c",
            "Step 3/3 : RUN echo compiling && exit 3",
            " ---> Running in af2198827fab",
            "compiling",
            "The command '/bin/sh -c echo compiling && exit 3' returned a non-zero code: 3",
        ];
        for (n, l) in lines.iter().enumerate() {
            assert_eq!(r.line(&mut d, l, n as u64 + 1), Verdict::Used, "{l}");
        }
        r.finish(&mut d);
        assert_eq!(d.vertices[0].layers_pulled, ["a1b2c3d4e5f6"]);
        assert_eq!(d.vertices[1].marks, [Mark::Cached]);
        assert_eq!(d.vertices[2].output_lines, 1);
        assert!(matches!(d.vertices[2].marks.last(), Some(Mark::Error { .. })));
        assert!(d.error.as_deref().unwrap().contains("non-zero code: 3"));
        assert_eq!(r.line(&mut d, "Step 1/3 : FROM debian", 13), Verdict::NewBuild);
    }
}
