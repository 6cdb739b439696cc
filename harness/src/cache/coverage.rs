//! Maps a cache config's records to the Dockerfile steps of one build.
//!
//! A step that made a layer is found through its diff id: the record whose
//! result chain ends at that layer, while its parent's does not, produced
//! it (records of steps that add no layer, like `WORKDIR`, end at their
//! parent's layer). Steps without a layer in the export, including one whose
//! result was dropped, are then found through the chain of inputs: in a
//! Dockerfile stage, input 0 of a step's record is the step before it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::model::{CacheConfig, CacheSource};

/// What the mapping needs to know of a step (the runner has it from the
/// progress log and the image history).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepLayer {
    /// As BuildKit names it: `[builder 2/4] RUN cargo chef cook ...`.
    pub name: String,
    pub stage: Option<String>,
    /// 1-based index within the stage.
    pub index: Option<u32>,
    /// Diff id of the layer the step made in the pushed image, if any.
    pub layer: Option<String>,
}

/// One step as the export covers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepCache {
    pub step: String,
    /// The record's digest (BuildKit's cache key, before its inputs).
    pub key: Option<String>,
    /// Index of the record in the export.
    pub record: Option<usize>,
    /// Whether that record carries a result, i.e. can give a cache hit.
    pub has_layer: bool,
    /// How the record was found: `layer` (diff id) or `chain` (inputs).
    pub found_by: Option<FoundBy>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FoundBy {
    Layer,
    Chain,
}

/// What one exported cache says about one job's build: counts and the steps
/// it covers. Serialised into report.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobCache {
    /// The image or cache ref it was read from.
    pub reference: String,
    pub source: CacheSource,
    pub records: usize,
    pub records_with_layers: usize,
    pub layers: usize,
    pub steps: Vec<StepCache>,
}

impl JobCache {
    pub fn step(&self, name: &str) -> Option<&StepCache> {
        self.steps.iter().find(|s| s.step == name)
    }

    /// Steps whose key is in the export.
    pub fn covered(&self) -> impl Iterator<Item = &StepCache> {
        self.steps.iter().filter(|s| s.record.is_some())
    }
}

/// Maps `config`'s records to `steps` (one build's steps, in any order).
pub fn cover(reference: &str, config: &CacheConfig, steps: &[StepLayer]) -> JobCache {
    let mut records: Vec<Option<(usize, FoundBy)>> =
        steps.iter().map(|s| producer(config, s).map(|r| (r, FoundBy::Layer))).collect();
    for stage in stages(steps) {
        fill_along_chain(config, &stage, &mut records);
    }
    let steps = steps
        .iter()
        .zip(records)
        .map(|(step, found)| StepCache {
            step: step.name.clone(),
            key: found.map(|(r, _)| config.records[r].digest.clone()),
            record: found.map(|(r, _)| r),
            has_layer: found.is_some_and(|(r, _)| config.records[r].has_result()),
            found_by: found.map(|(_, by)| by),
        })
        .collect();
    JobCache {
        reference: reference.to_owned(),
        source: config.source,
        records: config.records.len(),
        records_with_layers: config.records_with_layers(),
        layers: config.layers.len(),
        steps,
    }
}

/// The record that produced `step`'s layer: its result ends at that layer
/// and its input-0 parents' results do not.
fn producer(config: &CacheConfig, step: &StepLayer) -> Option<usize> {
    let layer = step.layer.as_deref()?;
    let top = |r: usize| config.records[r].top_layer().and_then(|l| config.layer_id(l));
    let ends_here: Vec<usize> = (0..config.records.len()).filter(|&r| top(r) == Some(layer)).collect();
    let produced: Vec<usize> = ends_here
        .iter()
        .copied()
        .filter(|&r| {
            config.records[r].inputs.first().is_none_or(|parents| parents.iter().all(|p| top(p.link) != Some(layer)))
        })
        .collect();
    // Several keys for one vertex (BuildKit's fast and content keys) give
    // several producers: the one deepest in the graph is the step's own.
    produced.into_iter().max_by_key(|&r| depth(config, r)).or_else(|| ends_here.first().copied())
}

fn depth(config: &CacheConfig, record: usize) -> usize {
    let mut depth = 0;
    let mut at = record;
    while let Some(parent) = config.records[at].inputs.first().and_then(|p| p.first()) {
        depth += 1;
        at = parent.link;
        if depth > config.records.len() {
            break;
        }
    }
    depth
}

/// Step indexes (into `steps`) per stage, ordered by their index in it.
fn stages(steps: &[StepLayer]) -> Vec<Vec<usize>> {
    let mut by_stage: BTreeMap<Option<&str>, Vec<usize>> = BTreeMap::new();
    for (i, step) in steps.iter().enumerate() {
        if step.index.is_some() {
            by_stage.entry(step.stage.as_deref()).or_default().push(i);
        }
    }
    by_stage
        .into_values()
        .map(|mut list| {
            list.sort_by_key(|&i| steps[i].index);
            list
        })
        .collect()
}

/// Walks a stage backwards (input 0 of a found record is the step before)
/// and forwards (the only record whose input 0 is a found record).
fn fill_along_chain(config: &CacheConfig, stage: &[usize], records: &mut [Option<(usize, FoundBy)>]) {
    for pair in stage.windows(2).rev() {
        let (before, after) = (pair[0], pair[1]);
        if records[before].is_none() {
            if let Some((r, _)) = records[after] {
                let parent = config.records[r].inputs.first().and_then(|p| p.first()).map(|p| p.link);
                records[before] = parent.map(|p| (p, FoundBy::Chain));
            }
        }
    }
    for pair in stage.windows(2) {
        let (before, after) = (pair[0], pair[1]);
        if records[after].is_none() {
            if let Some((r, _)) = records[before] {
                let children: Vec<usize> = (0..config.records.len())
                    .filter(|&c| config.records[c].inputs.first().is_some_and(|p| p.iter().any(|i| i.link == r)))
                    .collect();
                if let [only] = children[..] {
                    records[after] = Some((only, FoundBy::Chain));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::model::{CacheInput, CacheLayer, CacheRecord};

    fn layer(id: &str, parent: Option<usize>) -> CacheLayer {
        CacheLayer { blob: None, diff_id: Some(id.into()), parent }
    }

    fn record(digest: &str, parent: Option<usize>, results: Vec<Vec<usize>>) -> CacheRecord {
        let inputs = parent.map(|p| vec![vec![CacheInput { selector: String::new(), link: p }]]).unwrap_or_default();
        CacheRecord { digest: digest.into(), inputs, results }
    }

    fn step(name: &str, index: u32, layer: Option<&str>) -> StepLayer {
        StepLayer { name: name.into(), stage: Some("b".into()), index: Some(index), layer: layer.map(Into::into) }
    }

    #[test]
    fn layers_find_producers_and_the_chain_finds_a_dropped_result() {
        // base -> workdir (no layer of its own) -> copy -> run (result dropped) -> copy2
        let config = CacheConfig {
            source: CacheSource::Inline,
            layers: vec![layer("L0", None), layer("L1", Some(0)), layer("L2", Some(1)), layer("L3", Some(2))],
            records: vec![
                record("from", None, vec![vec![0]]),
                record("workdir", Some(0), vec![vec![0]]),
                record("copy", Some(1), vec![vec![0, 1]]),
                record("run", Some(2), vec![]),
                record("copy2", Some(3), vec![vec![0, 1, 2, 3]]),
            ],
        };
        let steps = [
            step("[b 1/4] WORKDIR /app", 1, None),
            step("[b 2/4] COPY a a", 2, Some("L1")),
            step("[b 3/4] RUN make", 3, Some("L2")),
            step("[b 4/4] COPY . .", 4, Some("L3")),
        ];
        let cache = cover("r/app:b", &config, &steps);
        let keys: Vec<(Option<&str>, bool, Option<FoundBy>)> =
            cache.steps.iter().map(|s| (s.key.as_deref(), s.has_layer, s.found_by)).collect();
        assert_eq!(
            keys,
            [
                (Some("workdir"), true, Some(FoundBy::Chain)),
                (Some("copy"), true, Some(FoundBy::Layer)),
                (Some("run"), false, Some(FoundBy::Chain)),
                (Some("copy2"), true, Some(FoundBy::Layer)),
            ]
        );
        assert_eq!((cache.records, cache.records_with_layers, cache.layers), (5, 4, 4));
    }
}
