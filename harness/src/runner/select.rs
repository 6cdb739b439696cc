//! Which cells of a matrix one invocation runs: a CI runner's shard
//! (`--shard I/N`) and the cells a previous report says failed
//! (`--rerun-failed`). Pure functions of cell keys, so every runner of a
//! sharded job computes the same split without talking to the others.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use super::matrix::CellKey;
use super::result::{RunReport, RunStatus};

/// Shard `index` of `count` (1-based, as CI systems number their runners).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: usize,
    count: usize,
}

impl Shard {
    pub fn new(index: usize, count: usize) -> Result<Self, String> {
        if count == 0 {
            return Err("the shard count must be at least 1 (`--shard 1/2`)".into());
        }
        if index == 0 || index > count {
            return Err(format!("shard {index}/{count} does not exist: the index runs from 1 to {count}"));
        }
        Ok(Self { index, count })
    }

    /// The keys of this shard: after sorting, every `count`-th key from
    /// position `index - 1`. Dealing round-robin spreads each scenario's
    /// cells (slow and quick ones alike) over the shards, and the result
    /// depends only on the set of keys, not on the order they were given.
    pub fn select(&self, keys: &[CellKey]) -> BTreeSet<CellKey> {
        let sorted: BTreeSet<&CellKey> = keys.iter().collect();
        sorted.into_iter().skip(self.index - 1).step_by(self.count).cloned().collect()
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("bad shard `{s}`: expected I/N with 1 <= I <= N, e.g. `--shard 2/3`");
        let (index, count) = s.split_once('/').ok_or_else(bad)?;
        let index = index.trim().parse().map_err(|_| bad())?;
        let count = count.trim().parse().map_err(|_| bad())?;
        Self::new(index, count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The cells of `reports` to run again: those that failed an expectation
/// or ended in an error. Passed and unsupported cells are left alone.
pub fn failed_cells(reports: &[RunReport]) -> BTreeSet<CellKey> {
    reports
        .iter()
        .filter(|r| matches!(r.status, RunStatus::Failed { .. } | RunStatus::Error { .. }))
        .map(CellKey::of)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::ImageStore;

    fn key(scenario: &str, engine: &str, store: ImageStore) -> CellKey {
        CellKey { scenario: scenario.into(), engine: engine.into(), store }
    }

    fn keys() -> Vec<CellKey> {
        let mut out = Vec::new();
        for scenario in ["b-scenario", "a-scenario", "c-scenario"] {
            for engine in ["28.5.2", "9.0", "20.10.24"] {
                for store in [ImageStore::Containerd, ImageStore::Classic] {
                    out.push(key(scenario, engine, store));
                }
            }
        }
        out
    }

    #[test]
    fn shards_are_disjoint_cover_everything_and_balance() {
        let all = keys();
        let shards: Vec<BTreeSet<CellKey>> = (1..=4).map(|i| Shard::new(i, 4).unwrap().select(&all)).collect();
        let total: usize = shards.iter().map(BTreeSet::len).sum();
        assert_eq!(total, all.len());
        let union: BTreeSet<CellKey> = shards.iter().flatten().cloned().collect();
        assert_eq!(union, all.iter().cloned().collect());
        for shard in &shards {
            assert!((4..=5).contains(&shard.len()), "{} cells in a shard of 18/4", shard.len());
        }
    }

    #[test]
    fn a_shard_does_not_depend_on_the_order_of_the_keys() {
        let mut all = keys();
        let first = Shard::new(2, 3).unwrap().select(&all);
        all.reverse();
        assert_eq!(Shard::new(2, 3).unwrap().select(&all), first);
        // Sorted by version, not text: 9.0 comes before 20.10.24.
        let one = Shard::new(1, 18).unwrap().select(&all);
        assert_eq!(one.into_iter().collect::<Vec<_>>(), [key("a-scenario", "9.0", ImageStore::Classic)]);
    }

    #[test]
    fn shard_specs_are_checked() {
        assert_eq!("2/3".parse::<Shard>().unwrap().to_string(), "2/3");
        assert_eq!("1/1".parse::<Shard>().unwrap(), Shard::new(1, 1).unwrap());
        for (spec, message) in [
            ("3/2", "shard 3/2 does not exist: the index runs from 1 to 2"),
            ("0/2", "shard 0/2 does not exist: the index runs from 1 to 2"),
            ("1/0", "the shard count must be at least 1 (`--shard 1/2`)"),
            ("2", "bad shard `2`: expected I/N with 1 <= I <= N, e.g. `--shard 2/3`"),
            ("a/b", "bad shard `a/b`: expected I/N with 1 <= I <= N, e.g. `--shard 2/3`"),
        ] {
            assert_eq!(spec.parse::<Shard>().unwrap_err(), message, "{spec}");
        }
    }
}
