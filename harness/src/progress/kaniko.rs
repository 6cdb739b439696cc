//! Kaniko (`/kaniko/executor`): log lines `INFO[0003] message` (the level
//! prefix is missing in some captures), the Dockerfile instruction itself
//! as a message when a step starts (`INFO[0058] RUN make`), `Running:
//! [/bin/sh -c make]` and bare process output when it runs, and
//! `Using caching version of cmd: RUN make` (before the instruction) or
//! `Found cached layer, extracting to filesystem` when its layer comes from
//! the cache repository. Each stage opens with `Building stage 'image'
//! [idx: '0', …]`; Kaniko prints no step numbers, so steps read
//! `[stage-0 2/?] RUN make`, the stage's `FROM` being step 1.
//!
//! Outcome rules:
//! - a cache hit is `remote`: Kaniko's layer cache is a registry
//!   (`--cache-repo`), so a hit always downloads the layer;
//! - a step that moved on without one is `executed`;
//! - a `FROM` whose image was `Retrieving image … from registry` is
//!   `pulled`, one without `cached`;
//! - `error building image: …` is `error` on the step being built.

use std::collections::HashSet;

use super::detect::Verdict;
use super::draft::{BuildDraft, StepCursor};
use super::model::Mark;

/// Per-build state of the Kaniko reader.
#[derive(Debug, Clone, Default)]
pub(crate) struct Kaniko {
    /// The step being read and whether bare lines are its output.
    cursor: StepCursor,
    /// Lines carry `INFO[…]` prefixes: unprefixed ones are process output.
    prefixed: bool,
    stage: Option<u32>,
    index: u32,
    pulled: HashSet<String>,
    /// Instructions announced as cache hits, not yet started.
    hits: HashSet<String>,
    ended: bool,
}

const KEYWORDS: [&str; 17] = [
    "RUN",
    "COPY",
    "ADD",
    "WORKDIR",
    "ENV",
    "ARG",
    "LABEL",
    "EXPOSE",
    "USER",
    "VOLUME",
    "CMD",
    "ENTRYPOINT",
    "SHELL",
    "HEALTHCHECK",
    "STOPSIGNAL",
    "ONBUILD",
    "MAINTAINER",
];

/// Messages only Kaniko prints, with or without the level prefix.
const MESSAGES: [&str; 12] = [
    "Using caching version of cmd:",
    "Checking for cached layer ",
    "No cached layer found for cmd ",
    "Found cached layer, extracting to filesystem",
    "Retrieving image manifest ",
    "Resolved base name ",
    "Building stage '",
    "Unpacking rootfs as cmd ",
    "Taking snapshot of ",
    "Built cross stage deps",
    "Skipping unpacking as no commands require it",
    "Pushing layer ",
];

/// `INFO[0003] msg` to (true, `msg`); any other line to (false, line).
fn unprefix(text: &str) -> (bool, &str) {
    for level in ["INFO[", "WARN[", "ERRO[", "DEBU[", "FATA[", "TRAC["] {
        if let Some(rest) = text.strip_prefix(level) {
            if let Some((stamp, msg)) = rest.split_once(']') {
                if stamp.bytes().all(|c| c.is_ascii_digit()) {
                    return (true, msg.trim());
                }
            }
        }
    }
    (false, text)
}

/// True for a line only Kaniko prints: one of its messages, or an
/// instruction after a level prefix. Other tools log with the same
/// `WARN[0000]` prefixes (buildx does), so a prefix alone is not enough.
pub(crate) fn is_kaniko_line(text: &str) -> bool {
    let (prefixed, msg) = unprefix(text);
    MESSAGES.iter().any(|m| msg.starts_with(m)) || (prefixed && instruction_keyword(msg).is_some())
}

fn instruction_keyword(msg: &str) -> Option<&str> {
    let word = msg.split_whitespace().next()?;
    KEYWORDS.contains(&word).then_some(word)
}

impl Kaniko {
    pub(crate) fn in_output(&self) -> bool {
        self.cursor.running
    }

    pub(crate) fn finish(&mut self, draft: &mut BuildDraft) {
        self.cursor.settle(draft);
    }

    pub(crate) fn line(&mut self, draft: &mut BuildDraft, text: &str, line: u64) -> Verdict {
        let (prefixed, msg) = unprefix(text);
        self.prefixed |= prefixed;
        if !prefixed && (self.prefixed || !is_kaniko_line(text)) {
            return self.bare(draft, text, line);
        }
        if msg.starts_with("Retrieving image manifest ") && self.ended && draft.has_content() {
            return Verdict::NewBuild;
        }
        draft.touch(line);
        if let Some(rest) = msg.strip_prefix("Retrieving image ") {
            if let Some((image, _)) = rest.split_once(" from registry ") {
                self.pulled.insert(image.to_owned());
            }
        } else if let Some(rest) = msg.strip_prefix("Building stage '") {
            let image = rest.split('\'').next().unwrap_or("");
            self.start_stage(draft, image, line);
        } else if let Some(cmd) = msg.strip_prefix("Using caching version of cmd:") {
            self.hits.insert(cmd.trim().to_owned());
        } else if msg.starts_with("Found cached layer") {
            if let Some(i) = self.cursor.current.filter(|&i| !draft.vertices[i].marks.contains(&Mark::Cached)) {
                draft.vertices[i].push_mark(Mark::Cached);
            }
        } else if msg.starts_with("Running: [") || msg.starts_with("cmd: ") {
            self.cursor.running = true;
        } else if msg.starts_with("Taking snapshot of") {
            self.cursor.running = false;
        } else if let Some(err) = msg.strip_prefix("error building image: ") {
            draft.fail(self.cursor.current, err);
            self.cursor.running = false;
            self.ended = true;
        } else if msg.starts_with("Pushing image to ") || msg.starts_with("Skipping push") {
            self.cursor.settle(draft);
            self.ended = true;
        } else if instruction_keyword(msg).is_some() && !msg.starts_with("cmd: ") {
            self.instruction(draft, msg, line);
        } else if let Some(i) = self.cursor.current {
            draft.vertices[i].status_lines += 1;
        }
        Verdict::Used
    }

    /// An unprefixed line: process output while a step runs; without any
    /// prefixes in the log, an instruction when not running.
    fn bare(&mut self, draft: &mut BuildDraft, text: &str, line: u64) -> Verdict {
        if !self.prefixed && !self.cursor.running && instruction_keyword(text).is_some() && draft.has_content() {
            self.instruction(draft, text.trim(), line);
            return Verdict::Used;
        }
        match self.cursor.current {
            Some(i) if self.cursor.running => {
                draft.vertices[i].push_output(text);
                draft.vertices[i].touch(line);
                draft.touch(line);
                Verdict::Used
            }
            _ => Verdict::Unused,
        }
    }

    fn start_stage(&mut self, draft: &mut BuildDraft, image: &str, line: u64) {
        self.cursor.settle(draft);
        let stage = self.stage.map_or(0, |s| s + 1);
        self.stage = Some(stage);
        self.index = 1;
        let i = draft.add_step(&format!("[stage-{stage} 1/?] FROM {image}"), line);
        if self.pulled.contains(image) {
            draft.vertices[i].pull_layer(image);
        }
        self.cursor.current = Some(i);
    }

    fn instruction(&mut self, draft: &mut BuildDraft, msg: &str, line: u64) {
        self.cursor.settle(draft);
        let stage = *self.stage.get_or_insert(0);
        self.index += 1;
        let i = draft.add_step(&format!("[stage-{stage} {}/?] {msg}", self.index), line);
        if self.hits.remove(msg) {
            draft.vertices[i].push_mark(Mark::Cached);
        }
        self.cursor.current = Some(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::model::Format;

    #[test]
    fn reads_stages_hits_runs_and_errors() {
        let mut d = BuildDraft::new(Format::Kaniko, 1);
        let mut r = Kaniko::default();
        for (n, l) in [
            "INFO[0000] Retrieving image node:20 from registry index.docker.io",
            "INFO[0002] Building stage 'node:20' [idx: '0', base-idx: '-1']",
            "INFO[0002] Using caching version of cmd: RUN npm ci",
            "INFO[0003] RUN npm ci",
            "INFO[0003] Found cached layer, extracting to filesystem",
            "INFO[0004] RUN npm run build",
            "INFO[0004] Running: [/bin/sh -c npm run build]",
            "> build",
            "INFO[0009] Taking snapshot of full filesystem...",
            "INFO[0010] COPY dist /srv",
            "INFO[0011] error building image: error building stage: failed to get files: no such file",
        ]
        .iter()
        .enumerate()
        {
            assert_eq!(r.line(&mut d, l, n as u64 + 1), Verdict::Used, "{l}");
        }
        r.finish(&mut d);
        let names: Vec<&str> = d.vertices.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "[stage-0 1/?] FROM node:20",
                "[stage-0 2/?] RUN npm ci",
                "[stage-0 3/?] RUN npm run build",
                "[stage-0 4/?] COPY dist /srv"
            ]
        );
        assert_eq!(d.vertices[0].layers_pulled.len(), 1);
        assert_eq!(d.vertices[1].marks, [Mark::Cached]);
        assert_eq!(d.vertices[2].output_lines, 1);
        assert!(matches!(d.vertices[3].marks.last(), Some(Mark::Error { .. })));
    }
}
