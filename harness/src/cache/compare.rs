//! Compares two exports of one cache (an earlier and a later job's) without
//! knowing the steps: which keys lost their result, which disappeared,
//! which are new. `harness cache compare` prints it; the step-aware
//! explanation is in [`super::explain`].

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::explain::Matcher;
use super::model::CacheConfig;

/// One key that changed between the two exports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyChange {
    pub key: String,
    /// The instruction of the layer it produced, when the image history
    /// or the layer annotations tell.
    pub name: Option<String>,
}

/// What changed from export `a` to export `b`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    /// Keys with a result in `a` that `b` still has, but without one.
    pub lost_results: Vec<KeyChange>,
    /// Keys with a result in `a` that `b` does not have at all.
    pub missing: Vec<KeyChange>,
    /// Keys of `b` that `a` does not have.
    pub new_keys: usize,
    /// Keys in both, with a result in both.
    pub kept: usize,
}

/// Compares `a` (earlier) with `b` (later). `names` maps layer ids (diff
/// ids, or blobs) to instructions, for both exports.
pub fn compare(a: &CacheConfig, b: &CacheConfig, names: &HashMap<String, String>) -> Comparison {
    let mut forward = Matcher::new(a, b);
    let mut comparison = Comparison { lost_results: Vec::new(), missing: Vec::new(), new_keys: 0, kept: 0 };
    for (i, record) in a.records.iter().enumerate() {
        if !record.has_result() {
            continue;
        }
        let name = record.top_layer().and_then(|l| a.layer_id(l)).and_then(|id| names.get(id).cloned());
        let change = KeyChange { key: record.digest.clone(), name };
        match forward.find(i) {
            Some(j) if b.records[j].has_result() => comparison.kept += 1,
            Some(_) => comparison.lost_results.push(change),
            None => comparison.missing.push(change),
        }
    }
    let mut backward = Matcher::new(b, a);
    comparison.new_keys = (0..b.records.len()).filter(|&j| backward.find(j).is_none()).count();
    comparison
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::model::{CacheInput, CacheLayer, CacheRecord, CacheSource};

    fn config(records: Vec<(&str, Option<usize>, bool)>) -> CacheConfig {
        CacheConfig {
            source: CacheSource::Inline,
            layers: vec![CacheLayer { blob: None, diff_id: Some("L0".into()), parent: None }],
            records: records
                .into_iter()
                .map(|(digest, parent, result)| CacheRecord {
                    digest: digest.into(),
                    inputs: parent
                        .map(|p| vec![vec![CacheInput { selector: String::new(), link: p }]])
                        .unwrap_or_default(),
                    results: if result { vec![vec![0]] } else { vec![] },
                })
                .collect(),
        }
    }

    #[test]
    fn lost_missing_new_and_kept_keys() {
        let a = config(vec![("base", None, true), ("cook", Some(0), true), ("old", Some(0), true)]);
        let b = config(vec![("base", None, true), ("cook", Some(0), false), ("new", Some(0), true)]);
        let names = HashMap::from([("L0".to_owned(), "RUN cargo chef cook".to_owned())]);
        let c = compare(&a, &b, &names);
        assert_eq!(c.kept, 1);
        assert_eq!(c.lost_results, [KeyChange { key: "cook".into(), name: Some("RUN cargo chef cook".into()) }]);
        assert_eq!(c.missing.len(), 1);
        assert_eq!(c.missing[0].key, "old");
        assert_eq!(c.new_keys, 1);
    }
}
