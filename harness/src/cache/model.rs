//! BuildKit's cache config, in the one shape every export is read into.
//!
//! BuildKit writes its cache records in two wire shapes (moby/buildkit
//! `cache/remotecache/v1/spec.go`): a registry, local or GHA export writes an
//! object `{"layers": [...], "records": [...]}` whose layers are blobs with a
//! parent index; the inline exporter (`cache/remotecache/inline`) writes only
//! the list of records into the image config, and their layer indexes point
//! into the image's own layers. [`CacheConfig`] unifies both: layers are
//! always listed with their parent, and every result is the full chain of
//! layer indexes, bottom first, so callers never care which shape it was.

use serde::{Deserialize, Serialize};

/// Where a cache config was read from, which decides how its layer indexes
/// are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheSource {
    /// `moby.buildkit.cache.v0` in an image config (`BUILDKIT_INLINE_CACHE=1`,
    /// `--cache-to type=inline`): records only, indexes into the image layers.
    Inline,
    /// A config blob of type `application/vnd.buildkit.cacheconfig.v0`
    /// (`--cache-to type=registry`, `local`, `gha`): layers and records.
    Registry,
}

/// One layer blob the cache refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheLayer {
    /// Compressed blob digest, when known (registry exports always; inline
    /// only when the image manifest was read too).
    pub blob: Option<String>,
    /// Uncompressed digest, what `docker image inspect` calls a layer and
    /// what the runner maps steps to.
    pub diff_id: Option<String>,
    /// The layer below it in its chain.
    pub parent: Option<usize>,
}

/// A link from a record to the record it depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheInput {
    /// BuildKit's selector (a path, or a content checksum), empty when none.
    pub selector: String,
    /// Index into [`CacheConfig::records`].
    pub link: usize,
}

/// One cache key: BuildKit's record. Its identity is its digest *and* the
/// chain of inputs: two records with one digest and different inputs are
/// different keys (an exec op's digest does not cover its inputs' content).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheRecord {
    pub digest: String,
    /// Per input index, the alternative records any of which matches.
    pub inputs: Vec<Vec<CacheInput>>,
    /// Each result as its chain of layer indexes, bottom first. Empty: the
    /// key survives without a result, so it cannot give a cache hit.
    pub results: Vec<Vec<usize>>,
}

impl CacheRecord {
    /// The top layer of the newest result, the one BuildKit would use.
    pub fn top_layer(&self) -> Option<usize> {
        self.results.iter().filter_map(|chain| chain.last().copied()).next_back()
    }

    pub fn has_result(&self) -> bool {
        self.results.iter().any(|chain| !chain.is_empty())
    }
}

/// A decoded cache config: layers and records, indexes checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheConfig {
    pub source: CacheSource,
    pub layers: Vec<CacheLayer>,
    pub records: Vec<CacheRecord>,
}

impl CacheConfig {
    /// Records that carry at least one result (a layer chain).
    pub fn records_with_layers(&self) -> usize {
        self.records.iter().filter(|r| r.has_result()).count()
    }

    /// The diff id of layer `index`, falling back to its blob digest.
    pub fn layer_id(&self, index: usize) -> Option<&str> {
        let layer = self.layers.get(index)?;
        layer.diff_id.as_deref().or(layer.blob.as_deref())
    }

    /// Indexes of the records with no inputs (sources, content checksums).
    pub fn roots(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.records.len()).filter(|&i| self.records[i].inputs.is_empty())
    }

    /// Records that link to record `index` (its dependants).
    pub fn dependants(&self, index: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.records.len())
            .filter(move |&i| self.records[i].inputs.iter().flatten().any(|input| input.link == index))
    }
}
