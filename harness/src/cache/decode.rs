//! Decodes BuildKit cache configs from their wire shapes into [`CacheConfig`].
//!
//! Two stages, as everywhere in the harness: raw serde structs mirroring
//! moby/buildkit `cache/remotecache/v1/spec.go` (Go's `omitempty` means a
//! missing `parent` is 0 and a missing `layer` is 0), then checked indexes.
//! The inline shape (a JSON list of records, base64 in the image config) has
//! no layer list of its own: its `layers[].layer` is the top of the chain of
//! image layers `0..=layer` and `chains[].layers` lists image layers
//! explicitly (`cache/remotecache/inline/inline.go`).

use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::model::{CacheConfig, CacheInput, CacheLayer, CacheRecord, CacheSource};

/// The image config key holding the inline cache.
pub const INLINE_CACHE_KEY: &str = "moby.buildkit.cache.v0";
/// Media type of a registry export's cache config.
pub const CACHE_CONFIG_MEDIA_TYPE: &str = "application/vnd.buildkit.cacheconfig.v0";

/// A cache config that could not be decoded.
#[derive(Debug, thiserror::Error)]
#[error("failed to decode the cache config of {what}")]
pub struct DecodeError {
    /// What was being read (`image config of registry/app:builder`).
    pub what: String,
    #[source]
    pub kind: DecodeErrorKind,
}

/// Why a cache config could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeErrorKind {
    #[error("invalid JSON at `{path}`: {message}")]
    Json { path: String, message: String },
    #[error(
        "the image config has no `{INLINE_CACHE_KEY}`: the image was built without inline cache \
         (add `--build-arg BUILDKIT_INLINE_CACHE=1` or `--cache-to type=inline`), or its build \
         matched no cache with layers"
    )]
    NoInlineCache,
    #[error("`{INLINE_CACHE_KEY}` is not base64 ({0}); was the config rewritten by another tool?")]
    Base64(base64::DecodeError),
    #[error("`{INLINE_CACHE_KEY}` holds neither a list of records nor an object of layers and records")]
    UnknownShape,
    #[error("record {record} links to record {link}, but there are {count} records")]
    BadLink { record: usize, link: i64, count: usize },
    #[error("record {record} refers to layer {layer}, but there are {count} layers")]
    BadLayer { record: usize, layer: i64, count: usize },
    #[error("layer {layer} has parent {parent}, but there are {count} layers")]
    BadParent { layer: usize, parent: i64, count: usize },
    #[error("layer {0} is its own ancestor (a loop of parents)")]
    LayerLoop(usize),
    #[error("record {0} depends on itself (a loop of inputs)")]
    RecordLoop(usize),
}

#[derive(Debug, Deserialize)]
struct RawConfig {
    #[serde(default)]
    layers: Vec<RawLayer>,
    #[serde(default)]
    records: Vec<RawRecord>,
}

#[derive(Debug, Deserialize)]
struct RawLayer {
    #[serde(default)]
    blob: String,
    #[serde(default)]
    parent: i64,
    #[serde(default)]
    annotations: Option<RawAnnotations>,
}

#[derive(Debug, Deserialize)]
struct RawAnnotations {
    #[serde(rename = "diffID", default)]
    diff_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawRecord {
    #[serde(default)]
    digest: String,
    #[serde(default)]
    inputs: Vec<Vec<RawInput>>,
    #[serde(default)]
    layers: Vec<RawResult>,
    #[serde(default)]
    chains: Vec<RawChain>,
}

#[derive(Debug, Deserialize)]
struct RawInput {
    #[serde(default)]
    selector: String,
    #[serde(default)]
    link: i64,
}

#[derive(Debug, Deserialize)]
struct RawResult {
    #[serde(default)]
    layer: i64,
}

#[derive(Debug, Deserialize)]
struct RawChain {
    #[serde(default)]
    layers: Vec<i64>,
}

#[derive(Debug, Deserialize)]
struct RawImageConfig {
    #[serde(default)]
    rootfs: RawRootfs,
    #[serde(rename = "moby.buildkit.cache.v0", default)]
    cache: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct RawRootfs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

/// The layers of an image config, bottom first (its `rootfs.diff_ids`).
pub fn image_diff_ids(config_json: &[u8]) -> Result<Vec<String>, DecodeErrorKind> {
    Ok(parse_json::<RawImageConfig>(config_json)?.rootfs.diff_ids)
}

/// Decodes the inline cache of an image config. `blobs` are the image
/// manifest's layer digests when known (same order as the diff ids).
pub fn decode_image_config(config_json: &[u8], blobs: Option<&[String]>) -> Result<CacheConfig, DecodeErrorKind> {
    let image: RawImageConfig = parse_json(config_json)?;
    let encoded = image.cache.filter(|c| !c.is_empty()).ok_or(DecodeErrorKind::NoInlineCache)?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(DecodeErrorKind::Base64)?;
    let diff_ids = image.rootfs.diff_ids;
    let layers: Vec<CacheLayer> = diff_ids
        .iter()
        .enumerate()
        .map(|(i, diff_id)| CacheLayer {
            blob: blobs.and_then(|b| b.get(i).cloned()),
            diff_id: Some(diff_id.clone()),
            parent: i.checked_sub(1),
        })
        .collect();
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => {
            let records: Vec<RawRecord> = parse_json(&bytes)?;
            inline_config(layers, records)
        }
        // An object in the image config: the registry shape, its layers
        // blobs of this image.
        Some(b'{') => {
            let raw: RawConfig = parse_json(&bytes)?;
            let mut config = registry_config(raw, &[])?;
            fill_diff_ids_from_image(&mut config, &layers);
            config.source = CacheSource::Inline;
            Ok(config)
        }
        _ => Err(DecodeErrorKind::UnknownShape),
    }
}

/// Decodes a registry export's cache config blob. `descriptors` are the
/// (blob digest, diff id) pairs its index or manifest lists for the layers
/// (annotation `containerd.io/uncompressed`), used when the config itself
/// carries no `diffID` annotation.
pub fn decode_cache_config(
    config_json: &[u8],
    descriptors: &[(String, Option<String>)],
) -> Result<CacheConfig, DecodeErrorKind> {
    let raw: RawConfig = parse_json(config_json)?;
    registry_config(raw, descriptors)
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeErrorKind> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de)
        .map_err(|e| DecodeErrorKind::Json { path: e.path().to_string(), message: e.inner().to_string() })
}

fn inline_config(layers: Vec<CacheLayer>, raw: Vec<RawRecord>) -> Result<CacheConfig, DecodeErrorKind> {
    let count = layers.len();
    let mut records = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        let mut results: Vec<Vec<usize>> = Vec::new();
        for res in &r.layers {
            let top =
                index(res.layer, count).ok_or(DecodeErrorKind::BadLayer { record: i, layer: res.layer, count })?;
            results.push((0..=top).collect());
        }
        for chain in &r.chains {
            let mut indexes = Vec::new();
            for &l in &chain.layers {
                indexes.push(index(l, count).ok_or(DecodeErrorKind::BadLayer { record: i, layer: l, count })?);
            }
            results.push(indexes);
        }
        records.push(CacheRecord { digest: r.digest.clone(), inputs: inputs(i, &r.inputs, raw.len())?, results });
    }
    let config = CacheConfig { source: CacheSource::Inline, layers, records };
    check_record_loops(&config)?;
    Ok(config)
}

fn registry_config(raw: RawConfig, descriptors: &[(String, Option<String>)]) -> Result<CacheConfig, DecodeErrorKind> {
    let count = raw.layers.len();
    let mut layers = Vec::with_capacity(count);
    for (i, l) in raw.layers.iter().enumerate() {
        let parent = match l.parent {
            -1 => None,
            p => Some(index(p, count).ok_or(DecodeErrorKind::BadParent { layer: i, parent: p, count })?),
        };
        let diff_id = l
            .annotations
            .as_ref()
            .and_then(|a| a.diff_id.clone())
            .or_else(|| descriptors.iter().find(|(blob, _)| *blob == l.blob).and_then(|(_, d)| d.clone()));
        layers.push(CacheLayer { blob: Some(l.blob.clone()).filter(|b| !b.is_empty()), diff_id, parent });
    }
    let mut records = Vec::with_capacity(raw.records.len());
    for (i, r) in raw.records.iter().enumerate() {
        let mut results: Vec<Vec<usize>> = Vec::new();
        for res in &r.layers {
            let top =
                index(res.layer, count).ok_or(DecodeErrorKind::BadLayer { record: i, layer: res.layer, count })?;
            results.push(chain_of(&layers, top)?);
        }
        for chain in &r.chains {
            let mut indexes = Vec::new();
            for &l in &chain.layers {
                indexes.push(index(l, count).ok_or(DecodeErrorKind::BadLayer { record: i, layer: l, count })?);
            }
            results.push(indexes);
        }
        records.push(CacheRecord {
            digest: r.digest.clone(),
            inputs: inputs(i, &r.inputs, raw.records.len())?,
            results,
        });
    }
    let config = CacheConfig { source: CacheSource::Registry, layers, records };
    check_record_loops(&config)?;
    Ok(config)
}

/// Diff ids for an object-shaped inline cache, whose blobs are the image's.
fn fill_diff_ids_from_image(config: &mut CacheConfig, image_layers: &[CacheLayer]) {
    for layer in &mut config.layers {
        if layer.diff_id.is_none() {
            layer.diff_id =
                image_layers.iter().find(|l| l.blob.is_some() && l.blob == layer.blob).and_then(|l| l.diff_id.clone());
        }
    }
}

fn index(value: i64, count: usize) -> Option<usize> {
    usize::try_from(value).ok().filter(|&v| v < count)
}

fn inputs(record: usize, raw: &[Vec<RawInput>], count: usize) -> Result<Vec<Vec<CacheInput>>, DecodeErrorKind> {
    raw.iter()
        .map(|alternatives| {
            alternatives
                .iter()
                .map(|input| {
                    let link =
                        index(input.link, count).ok_or(DecodeErrorKind::BadLink { record, link: input.link, count })?;
                    Ok(CacheInput { selector: input.selector.clone(), link })
                })
                .collect()
        })
        .collect()
}

/// The chain ending at layer `top`, bottom first; a loop of parents is an error.
fn chain_of(layers: &[CacheLayer], top: usize) -> Result<Vec<usize>, DecodeErrorKind> {
    let mut chain = vec![top];
    let mut at = top;
    while let Some(parent) = layers[at].parent {
        if chain.contains(&parent) || chain.len() > layers.len() {
            return Err(DecodeErrorKind::LayerLoop(top));
        }
        chain.push(parent);
        at = parent;
    }
    chain.reverse();
    Ok(chain)
}

/// BuildKit's own parser rejects "invalid looping record"; so do we, so
/// every walk over inputs terminates.
fn check_record_loops(config: &CacheConfig) -> Result<(), DecodeErrorKind> {
    // 0 unvisited, 1 on the current path, 2 done.
    let mut state = vec![0u8; config.records.len()];
    for start in 0..config.records.len() {
        if state[start] != 0 {
            continue;
        }
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        while let Some((node, next)) = stack.pop() {
            let links: Vec<usize> = config.records[node].inputs.iter().flatten().map(|i| i.link).collect();
            if let Some(&child) = links.get(next) {
                stack.push((node, next + 1));
                match state[child] {
                    0 => {
                        state[child] = 1;
                        stack.push((child, 0));
                    }
                    1 => return Err(DecodeErrorKind::RecordLoop(child)),
                    _ => {}
                }
            } else {
                state[node] = 2;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image_config(cache: &str) -> Vec<u8> {
        let encoded = base64::engine::general_purpose::STANDARD.encode(cache);
        serde_json::to_vec(&serde_json::json!({
            "rootfs": {"type": "layers", "diff_ids": ["sha256:l0", "sha256:l1", "sha256:l2"]},
            "moby.buildkit.cache.v0": encoded,
        }))
        .unwrap()
    }

    #[test]
    fn inline_list_results_are_chains_of_image_layers() {
        let cache = r#"[
            {"digest":"sha256:base","layers":[{"layer":0}]},
            {"digest":"sha256:run","inputs":[[{"link":0}]],"layers":[{"layer":2,"createdAt":"2026-01-01T00:00:00Z"}]},
            {"digest":"sha256:odd","inputs":[[{"selector":"/app","link":1}]],"chains":[{"layers":[0,2]}]},
            {"digest":"sha256:nolayer","inputs":[[{"link":1}]]}
        ]"#;
        let config = decode_image_config(&image_config(cache), None).unwrap();
        assert_eq!(config.source, CacheSource::Inline);
        assert_eq!(config.layers.len(), 3);
        assert_eq!(config.records[0].results, [vec![0]]);
        assert_eq!(config.records[1].results, [vec![0, 1, 2]]);
        assert_eq!(config.records[2].results, [vec![0, 2]]);
        assert_eq!(config.records[2].inputs, [vec![CacheInput { selector: "/app".into(), link: 1 }]]);
        assert!(!config.records[3].has_result());
        assert_eq!(config.records_with_layers(), 3);
        assert_eq!(config.layer_id(config.records[1].top_layer().unwrap()), Some("sha256:l2"));
    }

    #[test]
    fn registry_object_follows_parents_and_reads_diff_ids() {
        let json = br#"{
            "layers":[{"blob":"sha256:b1","parent":-1},{"blob":"sha256:b2","annotations":{"diffID":"sha256:d2"}}],
            "records":[{"digest":"sha256:k0","layers":[{"layer":0}]},{"digest":"sha256:k1","inputs":[[{"link":0}]],"layers":[{"layer":1}]}]
        }"#;
        let config = decode_cache_config(json, &[("sha256:b1".into(), Some("sha256:d1".into()))]).unwrap();
        assert_eq!(config.source, CacheSource::Registry);
        // `parent` omitted is Go's omitempty for 0.
        assert_eq!(config.layers[1].parent, Some(0));
        assert_eq!(config.layers[0].diff_id.as_deref(), Some("sha256:d1"));
        assert_eq!(config.layers[1].diff_id.as_deref(), Some("sha256:d2"));
        assert_eq!(config.records[1].results, [vec![0, 1]]);
    }

    #[test]
    fn every_broken_shape_has_its_own_error() {
        let cases: [(&[u8], &str); 6] = [
            (br#"{"records":[{"digest":"a","inputs":[[{"link":3}]]}]}"#, "record 0 links to record 3, but there are 1 records"),
            (br#"{"records":[{"digest":"a","layers":[{"layer":1}]}]}"#, "record 0 refers to layer 1, but there are 0 layers"),
            (br#"{"layers":[{"blob":"x","parent":5}]}"#, "layer 0 has parent 5, but there are 1 layers"),
            (br#"{"layers":[{"blob":"x","parent":1},{"blob":"y","parent":0}],"records":[{"digest":"a","layers":[{"layer":0}]}]}"#, "layer 0 is its own ancestor"),
            (br#"{"records":[{"digest":"a","inputs":[[{"link":1}]]},{"digest":"b","inputs":[[{"link":0}]]}]}"#, "depends on itself"),
            (br#"{"records":[{"digest":7}]}"#, "invalid JSON at `records[0].digest`"),
        ];
        for (json, wanted) in cases {
            let err = decode_cache_config(json, &[]).unwrap_err().to_string();
            assert!(err.contains(wanted), "{err} does not contain {wanted}");
        }
    }

    #[test]
    fn image_without_inline_cache_says_how_to_get_one() {
        let err = decode_image_config(br#"{"rootfs":{"diff_ids":[]}}"#, None).unwrap_err().to_string();
        assert!(err.contains("BUILDKIT_INLINE_CACHE=1"), "{err}");
        let bad = br#"{"moby.buildkit.cache.v0":"%%%"}"#;
        assert!(matches!(decode_image_config(bad, None), Err(DecodeErrorKind::Base64(_))));
    }
}
