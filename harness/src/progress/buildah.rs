//! Buildah and Podman (`buildah bud`, `podman build`): `STEP 2/7: COPY …`,
//! with `[1/2] ` in front in a multi-stage build (stage 1 of 2), or
//! `STEP 4: COPY …` (no total) before Buildah 1.20. A reused step prints
//! `--> Using cache <id>`; every step that committed prints `--> <id>`;
//! process output of a `RUN` is printed bare; a `FROM` that pulls prints
//! `Copying blob …` lines; `COMMIT <name>` ends a stage.
//!
//! Stages are named from their `FROM … AS name`, else `stage-<k>` counted
//! from 0 as BuildKit does, so a step reads `[builder 3/7] RUN …`.
//!
//! Outcome rules:
//! - `--> Using cache` is `cached` (printed for every reused step with
//!   `--layers`, the default of `podman build`);
//! - a step that moved on without it is `executed`, silent or not: Buildah
//!   has no other way to reuse a step;
//! - a `FROM` with `Copying blob` lines is `pulled`, one without `cached`;
//! - `Error: building at STEP "…"` is `error` on the step being built.

use super::detect::Verdict;
use super::draft::{BuildDraft, StepCursor};
use super::model::Mark;

/// Per-build state of the Buildah reader.
#[derive(Debug, Clone, Default)]
pub(crate) struct Buildah {
    /// The step being read and whether bare lines are its output.
    cursor: StepCursor,
    /// After `COMMIT`: `--> <id>` is the image, not a step.
    committing: bool,
    stage_name: Option<String>,
    stage: u32,
    ended: bool,
}

/// A parsed `[k/m] STEP i/n: INSTRUCTION` header.
struct Header<'a> {
    stage: Option<u32>,
    index: u32,
    total: Option<u32>,
    instruction: &'a str,
}

fn header(text: &str) -> Option<Header<'_>> {
    let (stage, rest) = match text.strip_prefix('[') {
        Some(r) => {
            let (frac, rest) = r.split_once("] ")?;
            let (k, _) = frac.split_once('/')?;
            (Some(k.parse().ok()?), rest)
        }
        None => (None, text),
    };
    let rest = rest.strip_prefix("STEP ")?;
    let (number, instruction) = rest.split_once(": ")?;
    let (index, total) = match number.split_once('/') {
        Some((i, n)) => (i.parse().ok()?, Some(n.parse().ok()?)),
        None => (number.parse().ok()?, None),
    };
    Some(Header { stage, index, total, instruction: instruction.trim() })
}

/// `[2/2] COMMIT name`, `COMMIT name`.
fn is_commit(text: &str) -> bool {
    let rest = match text.strip_prefix('[') {
        Some(r) => r.split_once("] ").map_or(r, |(_, x)| x),
        None => text,
    };
    rest == "COMMIT" || rest.starts_with("COMMIT ")
}

/// True for a line only Buildah prints.
pub(crate) fn is_buildah_line(text: &str) -> bool {
    header(text).is_some() || text.starts_with("--> Using cache ") || (is_commit(text) && text.starts_with('['))
}

impl Buildah {
    pub(crate) fn in_output(&self) -> bool {
        self.cursor.running
    }

    pub(crate) fn finish(&mut self, draft: &mut BuildDraft) {
        self.cursor.settle(draft);
    }

    pub(crate) fn line(&mut self, draft: &mut BuildDraft, text: &str, line: u64) -> Verdict {
        if let Some(h) = header(text) {
            return self.step(draft, &h, line);
        }
        if !draft.has_content() {
            return Verdict::Unused;
        }
        draft.touch(line);
        if let Some(arrow) = text.strip_prefix("--> ") {
            self.arrow(draft, arrow.trim());
            return Verdict::Used;
        }
        if is_commit(text) {
            self.cursor.settle(draft);
            self.committing = true;
            return Verdict::Used;
        }
        if let Some(message) = error_line(text) {
            draft.fail(self.cursor.current, message);
            self.cursor.running = false;
            self.ended = true;
            return Verdict::Used;
        }
        if text.starts_with("Successfully tagged ") || is_image_digest(text) {
            self.cursor.settle(draft);
            self.ended = true;
            return Verdict::Used;
        }
        let Some(i) = self.cursor.current else { return Verdict::Unused };
        let v = &mut draft.vertices[i];
        v.touch(line);
        if self.cursor.running {
            v.push_output(text);
        } else if let Some(blob) = text.strip_prefix("Copying blob ") {
            let id = blob.split_whitespace().next().unwrap_or("");
            v.pull_layer(id.strip_prefix("sha256:").unwrap_or(id));
        } else if is_pull_status(text) {
            v.status_lines += 1;
        } else {
            return Verdict::Unused;
        }
        Verdict::Used
    }

    fn step(&mut self, draft: &mut BuildDraft, h: &Header<'_>, line: u64) -> Verdict {
        let first = h.index == 1 && h.stage.unwrap_or(1) == 1;
        if (first || self.ended) && draft.has_content() {
            return Verdict::NewBuild;
        }
        self.cursor.settle(draft);
        self.committing = false;
        let keyword = h.instruction.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        if keyword == "FROM" {
            self.stage = h.stage.unwrap_or(self.stage + 1);
            self.stage_name = from_alias(h.instruction).map(str::to_owned);
        }
        let label = match (&self.stage_name, h.stage) {
            (Some(name), _) => format!("{name} "),
            (None, Some(k)) => format!("stage-{} ", k.saturating_sub(1)),
            (None, None) => String::new(),
        };
        let total = h.total.map_or("?".to_owned(), |n| n.to_string());
        self.cursor.current = Some(draft.add_step(&format!("[{label}{}/{total}] {}", h.index, h.instruction), line));
        self.cursor.running = keyword == "RUN";
        Verdict::Used
    }

    fn arrow(&mut self, draft: &mut BuildDraft, arrow: &str) {
        if self.committing {
            return;
        }
        let Some(i) = self.cursor.current else { return };
        if arrow.starts_with("Using cache") {
            draft.vertices[i].push_mark(Mark::Cached);
            self.cursor.running = false;
        } else {
            self.cursor.settle(draft);
        }
    }
}

/// `FROM image AS name` to `name`.
fn from_alias(instruction: &str) -> Option<&str> {
    let words: Vec<&str> = instruction.split_whitespace().collect();
    match words.as_slice() {
        [.., as_, name] if as_.eq_ignore_ascii_case("as") => Some(name),
        _ => None,
    }
}

fn is_image_digest(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|c| c.is_ascii_hexdigit())
}

fn is_pull_status(text: &str) -> bool {
    ["Trying to pull ", "Getting image source signatures", "Copying config ", "Writing manifest", "Storing signatures"]
        .iter()
        .any(|p| text.starts_with(p))
        || text.starts_with("Resolved \"")
}

fn error_line(text: &str) -> Option<&str> {
    let t = text.trim();
    for prefix in ["Error: ", "error: ", "ERRO[", "error building at STEP"] {
        if t.starts_with(prefix) {
            return Some(t.strip_prefix("Error: ").or_else(|| t.strip_prefix("error: ")).unwrap_or(t));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::model::Format;

    #[test]
    fn reads_stages_cache_hits_output_and_commits() {
        let mut d = BuildDraft::new(Format::Buildah, 1);
        let mut r = Buildah::default();
        for (n, l) in [
            "[1/2] STEP 1/3: FROM base AS builder",
            "[1/2] STEP 2/3: RUN echo hi",
            "--> Using cache e6c10cc06bdf13a60fc9d1f361502172eb7e41c73770df5ed660dac4d6e51d38",
            "--> e6c10cc06bd",
            "[1/2] STEP 3/3: RUN make",
            "cc -o app",
            "--> bec274de9a0",
            "[2/2] STEP 1/2: FROM base",
            "[2/2] STEP 2/2: COPY --from=builder /app /app",
            "[2/2] COMMIT app",
            "--> c83da2bac36",
        ]
        .iter()
        .enumerate()
        {
            assert_eq!(r.line(&mut d, l, n as u64 + 1), Verdict::Used, "{l}");
        }
        r.finish(&mut d);
        let names: Vec<&str> = d.vertices.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names[1], "[builder 2/3] RUN echo hi");
        assert_eq!(names[3], "[stage-1 1/2] FROM base");
        assert_eq!(d.vertices[1].marks, [Mark::Cached]);
        assert_eq!(d.vertices[2].output_lines, 1);
        assert_eq!(d.vertices[4].marks, [Mark::Done { seconds: None }]);
        assert_eq!(r.line(&mut d, "[1/2] STEP 1/3: FROM base AS builder", 12), Verdict::NewBuild);
    }
}
