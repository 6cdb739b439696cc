//! Steps a stage should have but the log never printed (`[builder 3/4]`
//! when 2 and 4 were printed), and rawjson steps listed but never started:
//! both become [`Outcome::Absent`] rows placed after their stage's previous
//! step. Separate from classification because its cost must stay bounded by
//! the input: a 4-line log may claim `[s 1/4000000000]`, and a log may hold
//! millions of steps, so the work here is O(steps log steps) plus at most a
//! budget of synthesized rows proportional to the log's length.

use std::collections::{BTreeMap, HashMap};

use super::model::{Evidence, Outcome, Step};

/// Synthesized rows allowed per line of the build's log, plus a floor.
const BUDGET_PER_LINE: u64 = 2;
const BUDGET_FLOOR: u64 = 256;

type StageKey = (Option<String>, Option<String>);

/// Orders `steps` (sorted by vertex) with absent rows placed; `lines` is the
/// build's length in lines, which bounds how many rows are synthesized.
pub(crate) fn place(steps: Vec<Step>, reason: &str, lines: u64, warnings: &mut Vec<String>) -> Vec<Step> {
    let (unstarted, present): (Vec<Step>, Vec<Step>) = steps.into_iter().partition(|s| s.outcome == Outcome::Absent);
    let mut stages: HashMap<StageKey, Stage> = HashMap::new();
    for (pos, s) in present.iter().enumerate() {
        stages.entry(key(s)).or_default().see(s, Some(pos));
    }
    for s in &unstarted {
        stages.entry(key(s)).or_default().see(s, None);
    }
    let mut missing = unstarted;
    let mut budget = (lines.saturating_mul(BUDGET_PER_LINE)).max(BUDGET_FLOOR);
    let mut order: Vec<&StageKey> = stages.keys().collect();
    order.sort();
    for k in order {
        let stage = &stages[k];
        let Some(total) = stage.total else { continue };
        let gaps = u64::from(total) - stage.indices.len() as u64;
        if gaps > budget {
            warnings.push(format!(
                "stage `{}` claims {total} steps but the log shows {}: its {gaps} unprinted steps are not listed \
                 (more than a log of {lines} lines can describe)",
                k.1.as_deref().unwrap_or("-"),
                stage.indices.len()
            ));
            continue;
        }
        budget -= gaps;
        for index in (1..=total).filter(|i| !stage.indices.contains_key(i)) {
            missing.push(absent(k, index, total, reason));
        }
    }
    arrange(present, missing, &stages)
}

/// Indices seen in one stage, each with its position among present steps.
#[derive(Default)]
struct Stage {
    total: Option<u32>,
    indices: BTreeMap<u32, Option<usize>>,
}

impl Stage {
    fn see(&mut self, s: &Step, pos: Option<usize>) {
        if let Some(t) = s.total {
            self.total = Some(self.total.map_or(t, |x| x.max(t)));
        }
        if let Some(i) = s.index {
            let slot = self.indices.entry(i).or_insert(pos);
            // The last present step with this index is the anchor.
            if pos.is_some() {
                *slot = pos;
            }
        }
    }

    /// The present step to place index `i` after (`Ok`) or before (`Err`).
    fn anchor(&self, i: u32) -> Option<Result<usize, usize>> {
        let before = self.indices.range(..i).rev().find_map(|(_, p)| *p);
        if let Some(p) = before {
            return Some(Ok(p));
        }
        self.indices.range(i + 1..).find_map(|(_, p)| *p).map(Err)
    }
}

fn key(s: &Step) -> StageKey {
    (s.platform.clone(), s.stage.clone())
}

fn absent(k: &StageKey, index: u32, total: u32, reason: &str) -> Step {
    Step {
        vertex: 0,
        digest: None,
        stage: k.1.clone(),
        index: Some(index),
        total: Some(total),
        platform: k.0.clone(),
        instruction: String::new(),
        outcome: Outcome::Absent,
        why: format!("never printed: {reason}"),
        duration: None,
        evidence: Evidence::default(),
    }
}

/// Interleaves absent rows with present steps: after the stage's previous
/// present step, else before its next one, else at the end.
fn arrange(present: Vec<Step>, mut missing: Vec<Step>, stages: &HashMap<StageKey, Stage>) -> Vec<Step> {
    missing.sort_by_key(|s| s.index);
    let mut after: HashMap<usize, Vec<Step>> = HashMap::new();
    let mut before: HashMap<usize, Vec<Step>> = HashMap::new();
    let mut end = Vec::new();
    for s in missing {
        match stages.get(&key(&s)).and_then(|st| st.anchor(s.index.unwrap_or(0))) {
            Some(Ok(p)) => after.entry(p).or_default().push(s),
            Some(Err(p)) => before.entry(p).or_default().push(s),
            None => end.push(s),
        }
    }
    let mut out = Vec::with_capacity(present.len() + end.len());
    for (pos, s) in present.into_iter().enumerate() {
        out.extend(before.remove(&pos).unwrap_or_default());
        out.push(s);
        out.extend(after.remove(&pos).unwrap_or_default());
    }
    out.extend(end);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(stage: &str, index: u32, total: u32, vertex: u32) -> Step {
        let mut s = absent(&(None, Some(stage.to_owned())), index, total, "x");
        s.vertex = vertex;
        s.outcome = Outcome::Cached;
        s
    }

    fn names(steps: &[Step]) -> Vec<String> {
        steps.iter().map(|s| format!("{}{}", s.name(), if s.outcome == Outcome::Absent { "?" } else { "" })).collect()
    }

    #[test]
    fn gaps_sit_after_the_previous_step_of_their_stage() {
        let steps = vec![step("a", 2, 4, 1), step("b", 1, 1, 2), step("a", 4, 4, 3)];
        let mut w = Vec::new();
        let got = place(steps, "r", 10, &mut w);
        assert_eq!(names(&got), ["[a 1/4]?", "[a 2/4]", "[a 3/4]?", "[b 1/1]", "[a 4/4]"]);
        assert!(w.is_empty());
    }

    #[test]
    fn a_huge_claimed_total_is_not_filled_in() {
        let mut w = Vec::new();
        let got = place(vec![step("s", 1, 4_000_000_000, 1)], "r", 4, &mut w);
        assert_eq!(got.len(), 1);
        assert!(w[0].contains("claims 4000000000 steps"), "{w:?}");
    }
}
