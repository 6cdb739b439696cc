//! What differs between two builds of a target before a given step, as
//! evidence for a miss no pattern explains: the build context's size,
//! base image digests, instructions, cache imports and the echoed command.

use super::cite;
use super::misses::{at, Run};
use super::model::Citation;
use super::series::position;

/// Differences between `prev` and `now` among the facts and the steps
/// before step `upto` of `now`.
pub(crate) fn before(prev: &Run, now: &Run, upto: usize) -> Vec<Citation> {
    let mut out = Vec::new();
    match (&prev.facts.context, &now.facts.context) {
        (Some((lp, a)), Some((ln, b))) if a != b => {
            out.push(cite::line(prev, *lp, format!("build context was {a}")));
            out.push(cite::line(now, *ln, format!("build context is {b}")));
        }
        _ => {}
    }
    for (i, s) in now.build.steps.iter().enumerate().take(upto + 1) {
        let Some((_, p)) = at(prev.build, &position(s)) else { continue };
        if !p.instruction.is_empty() && !s.instruction.is_empty() && p.instruction != s.instruction {
            out.extend(cite::step(prev, p, "was"));
            out.extend(cite::step(now, s, if i == upto { "is now (this step)" } else { "is now" }));
        }
    }
    let status = |r: &Run| r.facts.imports.iter().map(|i| (i.source.clone(), i.error.is_none())).collect::<Vec<_>>();
    if status(prev) != status(now) {
        for i in &now.facts.imports {
            let note = if i.error.is_none() { "cache imported" } else { "cache import failed" };
            out.extend(i.line.map(|l| cite::line(now, l, note)));
        }
    }
    if let (Some(a), Some(b)) = (prev.facts.command, now.facts.command) {
        if prev.log.quote(a) != now.log.quote(b) {
            out.push(cite::line(prev, a, "build command was"));
            out.push(cite::line(now, b, "build command is"));
        }
    }
    out
}
