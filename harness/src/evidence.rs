//! A step's observed outcome, decided once from all its witnesses.
//!
//! A step has several witnesses. The progress parser ([`crate::progress`])
//! reads what BuildKit printed and decides a first outcome with its reason.
//! For steps that make a layer (`RUN`, `COPY`, `ADD`), the layer's diff id
//! can be compared with the previous job's. BuildKit's cache records (read
//! by [`crate::cache`] from what the job pushed) are a third. [`observe`]
//! weighs them in that order and returns one [`ObservedStep`] with every
//! reason kept; verdicts, the grid, the live view and `report.json` read that
//! value and never weigh again.
//!
//! The cache records never revise the outcome: a key in an export says what
//! a later build *could* reuse, not whether this one ran the step. They are
//! kept as the step's [`CacheWitness`] with a reason, and the runner adds
//! them with [`witness_cache`] once the job's pushes are read (after the
//! outcome was decided and reported).
//!
//! The layer wins where it disagrees with progress, because plain progress
//! prints `DONE`, not `CACHED`, for a layer taken from a registry cache.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::progress::{Build, Outcome, Step};

/// How a step's layer compares with the previous job's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LayerCompare {
    Same,
    Different,
}

/// The layer diff ids of one job's builds, per build id and step.
///
/// The runner fills it from the images it built; steps it cannot map to a
/// layer are simply left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobLayers {
    by_step: HashMap<(String, String), String>,
}

impl JobLayers {
    pub fn insert(&mut self, build: &str, step: &Step, diff_id: impl Into<String>) {
        self.by_step.insert((build.to_owned(), step.key()), diff_id.into());
    }

    pub fn get(&self, build: &str, step: &Step) -> Option<&str> {
        self.by_step.get(&(build.to_owned(), step.key())).map(String::as_str)
    }
}

/// This job's layers and the previous job's, as far as known.
#[derive(Debug, Clone, Copy, Default)]
pub struct LayerEvidence<'a> {
    pub current: Option<&'a JobLayers>,
    pub previous: Option<&'a JobLayers>,
}

impl LayerEvidence<'_> {
    /// Compares the step's layer with the previous job's, for steps that make
    /// a layer and when both ids are known.
    pub fn compare(&self, build: &str, step: &Step) -> Option<LayerCompare> {
        if !matches!(step.keyword().as_str(), "RUN" | "COPY" | "ADD") {
            return None;
        }
        let now = self.current?.get(build, step)?;
        let before = self.previous?.get(build, step)?;
        Some(if now == before { LayerCompare::Same } else { LayerCompare::Different })
    }
}

/// What is known of one step beyond its progress log.
#[derive(Debug, Clone, Default)]
pub struct Witnesses {
    /// Diff id of the layer the step made, when it could be mapped.
    pub layer: Option<String>,
    /// That layer compared with the previous job's.
    pub layer_vs_previous: Option<LayerCompare>,
    /// The step's record in the cache its build exported, when read.
    pub cache: Option<CacheWitness>,
}

/// The step's record in the cache its build exported (inline cache of a
/// pushed image, or a registry cache ref).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheWitness {
    /// The image or cache ref read.
    pub reference: String,
    /// The step's cache key there; null when the export has no record of it.
    pub key: Option<String>,
    /// Whether that record carries a layer (a later build can hit it).
    pub has_layer: bool,
}

/// Adds the cache witness to an observed step: kept with its reason, the
/// outcome left as decided (see the module doc).
pub fn witness_cache(step: &mut ObservedStep, witness: CacheWitness) {
    let reason = match (&witness.key, witness.has_layer) {
        (None, _) => format!("cache: `{}` has no record of the step", witness.reference),
        (Some(key), true) => format!("cache: `{}` has its key {} with its layer", witness.reference, short(key)),
        (Some(key), false) => {
            format!(
                "cache: `{}` has its key {} without a layer: a later build cannot hit it",
                witness.reference,
                short(key)
            )
        }
    };
    step.reasons.push(reason);
    step.cache = Some(witness);
}

fn short(digest: &str) -> &str {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    &hex[..hex.len().min(12)]
}

/// A Dockerfile step with its outcome decided from every witness.
///
/// Serialised as a step of `report.json`; the field names are the report's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservedStep {
    /// The step as the progress parser read it (its `outcome` and `why`
    /// are progress's testimony alone).
    pub step: Step,
    /// Diff id of the layer the step made, when it could be mapped.
    pub layer: Option<String>,
    /// Compared with the previous job's layer for the same step.
    pub layer_vs_previous: Option<LayerCompare>,
    /// The outcome decided from every witness (the layer wins).
    pub observed: Outcome,
    /// Why `observed` differs from what progress printed, if it does.
    pub note: Option<String>,
    /// Every witness's reason, in the order weighed (progress first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// The step's record in the cache its build exported, when read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheWitness>,
}

impl ObservedStep {
    /// What progress alone showed.
    pub fn progress(&self) -> Outcome {
        self.step.outcome
    }
}

/// Decides `step`'s outcome in job `job` from progress and `witnesses`.
pub fn observe(step: Step, witnesses: Witnesses, job: u32) -> ObservedStep {
    let mut reasons = Vec::new();
    if !step.why.is_empty() {
        reasons.push(format!("progress: {}", step.why));
    }
    let (observed, note) = weigh_layer(step.outcome, witnesses.layer_vs_previous, job);
    if let Some(note) = &note {
        reasons.push(format!("layer: {note}"));
    }
    let mut observed = ObservedStep {
        step,
        layer: witnesses.layer,
        layer_vs_previous: witnesses.layer_vs_previous,
        observed,
        note,
        reasons,
        cache: None,
    };
    if let Some(cache) = witnesses.cache {
        witness_cache(&mut observed, cache);
    }
    observed
}

/// Every step of a parsed build, observed with the layers of this job and
/// the previous one. `id` is the build's id in the scenario.
pub fn observe_build(id: &str, build: &Build, layers: LayerEvidence<'_>, job: u32) -> Vec<ObservedStep> {
    build
        .steps
        .iter()
        .map(|step| {
            let witnesses = Witnesses {
                layer: layers.current.and_then(|l| l.get(id, step)).map(str::to_owned),
                layer_vs_previous: layers.compare(id, step),
                cache: None,
            };
            observe(step.clone(), witnesses, job)
        })
        .collect()
}

/// The parser's outcome weighed against the layer: the layer wins, and
/// every disagreement gets a note. `job` names the job being judged.
fn weigh_layer(progress: Outcome, layer: Option<LayerCompare>, job: u32) -> (Outcome, Option<String>) {
    let previous = job.saturating_sub(1);
    match (progress, layer) {
        (Outcome::Executed | Outcome::ExecutedUnsure, Some(LayerCompare::Same)) => (
            Outcome::Remote,
            Some(format!(
                "progress shows `{progress}` but the layer is the same as job {previous}'s: counted as reused (remote)"
            )),
        ),
        (Outcome::ExecutedUnsure, Some(LayerCompare::Different)) => (
            Outcome::Executed,
            Some(format!(
                "progress shows `executed?` and the layer differs from job {previous}'s: counted as executed"
            )),
        ),
        (Outcome::Cached | Outcome::Remote, Some(LayerCompare::Different)) => {
            (progress, Some(format!("progress shows `{progress}` but the layer differs from job {previous}'s")))
        }
        _ => (progress, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::parse_reader;

    fn cook_build() -> Build {
        let log = "\
#1 [builder 1/2] RUN cargo chef cook --release
#1 DONE 0.3s
#2 [builder 2/2] WORKDIR /app
#2 CACHED
";
        parse_reader(log.as_bytes()).unwrap().remove(0)
    }

    #[test]
    fn the_same_layer_revises_a_silent_run_and_keeps_both_reasons() {
        let build = cook_build();
        let (mut before, mut now) = (JobLayers::default(), JobLayers::default());
        for step in &build.steps {
            before.insert("builder", step, "sha256:a");
            now.insert("builder", step, "sha256:a");
        }
        let steps = observe_build("builder", &build, LayerEvidence { current: Some(&now), previous: Some(&before) }, 3);
        let cook = &steps[0];
        assert_eq!((cook.progress(), cook.observed), (Outcome::ExecutedUnsure, Outcome::Remote));
        assert_eq!(cook.layer.as_deref(), Some("sha256:a"));
        assert_eq!(cook.reasons.len(), 2, "{:?}", cook.reasons);
        assert!(cook.reasons[0].starts_with("progress: DONE 0.3s"), "{:?}", cook.reasons);
        assert!(cook.note.as_deref().unwrap().contains("same as job 2's"));
        // WORKDIR makes no layer: never compared, never revised.
        assert_eq!((steps[1].layer_vs_previous, steps[1].observed, &steps[1].note), (None, Outcome::Cached, &None));
    }

    #[test]
    fn the_cache_witness_adds_a_reason_and_never_revises() {
        let build = cook_build();
        let witness = CacheWitness {
            reference: "r/app:builder".into(),
            key: Some("sha256:0123456789abcdef".into()),
            has_layer: false,
        };
        let step = observe(build.steps[0].clone(), Witnesses { cache: Some(witness.clone()), ..Default::default() }, 2);
        assert_eq!(step.observed, Outcome::ExecutedUnsure);
        assert_eq!(step.cache, Some(witness));
        assert_eq!(
            step.reasons.last().unwrap(),
            "cache: `r/app:builder` has its key 0123456789ab without a layer: a later build cannot hit it"
        );
    }

    #[test]
    fn without_layers_progress_stands() {
        let steps = observe_build("builder", &cook_build(), LayerEvidence::default(), 1);
        assert_eq!(steps[0].observed, Outcome::ExecutedUnsure);
        assert_eq!(steps[0].note, None);
        assert_eq!(steps[0].reasons.len(), 1);
    }

    #[test]
    fn weighing_table() {
        use LayerCompare::{Different, Same};
        use Outcome::*;
        let cases = [
            (Executed, Some(Same), Remote, true),
            (ExecutedUnsure, Some(Same), Remote, true),
            (ExecutedUnsure, Some(Different), Executed, true),
            (Cached, Some(Different), Cached, true),
            (Remote, Some(Different), Remote, true),
            (Cached, Some(Same), Cached, false),
            (Executed, Some(Different), Executed, false),
            (Executed, None, Executed, false),
        ];
        for (progress, layer, observed, noted) in cases {
            let (outcome, note) = weigh_layer(progress, layer, 2);
            assert_eq!((outcome, note.is_some()), (observed, noted), "{progress} with {layer:?}");
        }
    }
}
