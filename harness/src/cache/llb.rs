//! A build's definition, read from the metadata file buildx writes
//! (`--metadata-file`, with `BUILDX_METADATA_PROVENANCE=max`).
//!
//! The provenance buildx puts there carries the LLB definition of the build
//! (`buildConfig.llbDefinition`: each operation with its inputs), where each
//! operation comes from in the Dockerfile (`source.locations`), the
//! Dockerfile itself (`source.infos`), the frontend's arguments and the
//! materials (base images with their digests). It carries no cache keys and
//! no checksums of the context, so it can name a changed instruction, build
//! argument or base image, never a changed file. Both SLSA shapes are read:
//! v0.2 (buildx's default: `buildConfig`, `materials`, `invocation`) and v1
//! (`buildDefinition`, `runDetails`). Pure: [`super::llb_diff`] compares two.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The key of the provenance in buildx's metadata file.
pub const PROVENANCE_KEY: &str = "buildx.build.provenance";
/// BuildKit's own metadata inside the provenance.
const BUILDKIT_METADATA: &str = "https://mobyproject.org/buildkit@v1#metadata";

/// Why a metadata file gives no definition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlbError {
    #[error("the metadata file is not JSON: {0}")]
    NotJson(String),
    #[error(
        "the metadata file holds no `{PROVENANCE_KEY}`: this buildx writes no build definition there \
         (measured: buildx 0.13.1 writes none on either image store, 0.29.1 writes it with \
         BUILDX_METADATA_PROVENANCE=max)"
    )]
    NoProvenance,
    #[error(
        "the provenance holds no LLB definition (`buildConfig`): it was written in min mode; \
         set BUILDX_METADATA_PROVENANCE=max"
    )]
    NoBuildConfig,
    #[error("the provenance's LLB definition is malformed: {0}")]
    Malformed(String),
}

/// A build as its provenance describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildDefinition {
    /// The Dockerfile the frontend read, when the provenance embeds it.
    pub dockerfile: Option<String>,
    /// The frontend's arguments (`build-arg:NAME`, `target`, ...).
    pub args: BTreeMap<String, String>,
    /// Base images and other inputs, with their digests.
    pub materials: Vec<Material>,
    /// The operations, in the definition's order (inputs first).
    pub ops: Vec<LlbOp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Material {
    pub uri: String,
    pub digest: Option<String>,
}

/// One LLB operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlbOp {
    /// `step3`: only meaningful within one definition.
    pub id: String,
    pub kind: OpKind,
    /// The ids of the operations it reads.
    pub inputs: Vec<String>,
    /// The Dockerfile lines it comes from (first, last), 1-based.
    pub lines: Option<(u32, u32)>,
}

/// What an operation does, with what identifies it across builds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OpKind {
    /// `docker-image://NAME[@DIGEST]`: a base image.
    Image { name: String, digest: Option<String> },
    /// `local://NAME`: the build context or the Dockerfile, with the paths
    /// it reads (`local.followpaths`, ...).
    Local { name: String, attrs: BTreeMap<String, String> },
    /// Any other source (git, http, oci-layout).
    Source { identifier: String, attrs: BTreeMap<String, String> },
    /// `RUN`: its command line, environment and mounts.
    Exec { args: Vec<String>, env: Vec<String>, cwd: String, mounts: Value },
    /// `COPY`, `ADD`, `WORKDIR`: file actions.
    File { actions: Value },
    /// The definition's last operation, which only names the result.
    Result,
    /// Merge, diff, build: compared as they are.
    Other { op: String, body: Value },
}

impl OpKind {
    /// A short word for a person.
    pub fn word(&self) -> &'static str {
        match self {
            OpKind::Image { .. } => "base image",
            OpKind::Local { .. } => "local source",
            OpKind::Source { .. } => "source",
            OpKind::Exec { .. } => "RUN",
            OpKind::File { .. } => "file operation",
            OpKind::Result => "result",
            OpKind::Other { .. } => "operation",
        }
    }
}

impl BuildDefinition {
    pub fn op(&self, id: &str) -> Option<&LlbOp> {
        self.ops.iter().find(|o| o.id == id)
    }

    /// Build argument `name`'s value (`build-arg:NAME`).
    pub fn build_arg(&self, name: &str) -> Option<&str> {
        self.args.get(&format!("build-arg:{name}")).map(String::as_str)
    }

    /// The digest of base image `name` (`harness/rootfs:forky`): from the
    /// operation when it pins one (the containerd store), else from the
    /// materials (the classic store resolves it there only).
    pub fn image_digest(&self, name: &str, pinned: Option<&str>) -> Option<String> {
        if let Some(digest) = pinned {
            return Some(digest.to_owned());
        }
        let wanted = familiar(name);
        self.materials.iter().find(|m| material_name(&m.uri).as_deref() == Some(wanted.as_str()))?.digest.clone()
    }

    /// The Dockerfile text of lines `first..=last`, joined.
    pub fn text_of(&self, lines: (u32, u32)) -> Option<String> {
        let text = self.dockerfile.as_deref()?;
        let picked: Vec<&str> =
            text.lines().skip(lines.0.saturating_sub(1) as usize).take((lines.1 + 1 - lines.0) as usize).collect();
        (!picked.is_empty()).then(|| picked.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" "))
    }
}

/// Reads the definition from the text of a metadata file.
pub fn decode_metadata(text: &str) -> Result<BuildDefinition, LlbError> {
    let file: Value = serde_json::from_str(text).map_err(|e| LlbError::NotJson(e.to_string()))?;
    let provenance = file.get(PROVENANCE_KEY).ok_or(LlbError::NoProvenance)?;
    decode_provenance(provenance)
}

/// Reads the definition from a provenance predicate (SLSA v0.2 or v1).
pub fn decode_provenance(p: &Value) -> Result<BuildDefinition, LlbError> {
    let v1 = p.get("buildDefinition");
    let config = match v1 {
        Some(d) => d.pointer("/internalParameters/buildConfig"),
        None => p.get("buildConfig"),
    }
    .ok_or(LlbError::NoBuildConfig)?;
    let metadata = match v1 {
        Some(_) => p.pointer("/runDetails/metadata"),
        None => p.get("metadata"),
    }
    .and_then(|m| m.get(BUILDKIT_METADATA));
    let args = match v1 {
        Some(d) => d.pointer("/externalParameters/request/args"),
        None => p.pointer("/invocation/parameters/args"),
    };
    let materials = match v1 {
        Some(d) => d.get("resolvedDependencies"),
        None => p.get("materials"),
    };
    let locations = metadata.and_then(|m| m.pointer("/source/locations"));
    let ops = config
        .get("llbDefinition")
        .and_then(Value::as_array)
        .ok_or_else(|| LlbError::Malformed("`llbDefinition` is not a list".into()))?
        .iter()
        .map(|op| decode_op(op, locations))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(BuildDefinition {
        dockerfile: metadata.and_then(dockerfile_of),
        args: string_map(args),
        materials: materials
            .and_then(Value::as_array)
            .map(|list| list.iter().map(material).collect())
            .unwrap_or_default(),
        ops,
    })
}

fn decode_op(op: &Value, locations: Option<&Value>) -> Result<LlbOp, LlbError> {
    let id =
        op.get("id").and_then(Value::as_str).ok_or_else(|| LlbError::Malformed(format!("an op has no id: {op}")))?;
    let inputs = op
        .get("inputs")
        .and_then(Value::as_array)
        .map(|list| {
            // `step3:0`: the operation and its output index.
            list.iter()
                .filter_map(Value::as_str)
                .map(|i| i.split_once(':').map_or(i, |(id, _)| id).to_owned())
                .collect()
        })
        .unwrap_or_default();
    let body = op.pointer("/op/Op").cloned().unwrap_or(Value::Null);
    Ok(LlbOp { id: id.to_owned(), kind: kind_of(&body), inputs, lines: locations.and_then(|l| lines_of(l.get(id)?)) })
}

fn kind_of(body: &Value) -> OpKind {
    let Some((name, inner)) = body.as_object().and_then(|o| o.iter().next()) else { return OpKind::Result };
    match name.as_str() {
        "source" => source_kind(inner),
        "exec" => OpKind::Exec {
            args: strings(inner.pointer("/meta/args")),
            env: strings(inner.pointer("/meta/env")),
            cwd: inner.pointer("/meta/cwd").and_then(Value::as_str).unwrap_or_default().to_owned(),
            mounts: inner.get("mounts").cloned().unwrap_or(Value::Null),
        },
        "file" => OpKind::File { actions: inner.get("actions").cloned().unwrap_or(Value::Null) },
        other => OpKind::Other { op: other.to_owned(), body: inner.clone() },
    }
}

fn source_kind(source: &Value) -> OpKind {
    let identifier = source.get("identifier").and_then(Value::as_str).unwrap_or_default();
    let attrs = string_map(source.get("attrs"));
    if let Some(image) = identifier.strip_prefix("docker-image://") {
        let (name, digest) = match image.split_once('@') {
            Some((name, digest)) => (name, Some(digest.to_owned())),
            None => (image, None),
        };
        return OpKind::Image { name: familiar(name), digest };
    }
    match identifier.strip_prefix("local://") {
        Some(name) => OpKind::Local { name: name.to_owned(), attrs },
        None => OpKind::Source { identifier: identifier.to_owned(), attrs },
    }
}

/// The first range of a location entry, as (first, last) line.
fn lines_of(entry: &Value) -> Option<(u32, u32)> {
    let range = entry.pointer("/locations/0/ranges/0")?;
    let line = |key: &str| range.pointer(&format!("/{key}/line")).and_then(Value::as_u64).map(|l| l as u32);
    let first = line("start")?;
    Some((first, line("end").unwrap_or(first).max(first)))
}

/// The Dockerfile among the source infos (base64 `data`).
fn dockerfile_of(metadata: &Value) -> Option<String> {
    let infos = metadata.pointer("/source/infos")?.as_array()?;
    let info = infos.iter().find(|i| i.get("language").and_then(Value::as_str) == Some("Dockerfile"))?;
    let data = base64::engine::general_purpose::STANDARD.decode(info.get("data")?.as_str()?).ok()?;
    String::from_utf8(data).ok()
}

fn material(m: &Value) -> Material {
    let digest = m.get("digest").and_then(Value::as_object).and_then(|d| {
        let (algorithm, value) = d.iter().next()?;
        Some(format!("{algorithm}:{}", value.as_str()?))
    });
    Material { uri: m.get("uri").and_then(Value::as_str).unwrap_or_default().to_owned(), digest }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|o| o.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default()
}

/// `docker.io/library/debian:12` as a person writes it: `debian:12`.
fn familiar(name: &str) -> String {
    let name = name.strip_prefix("docker.io/").unwrap_or(name);
    name.strip_prefix("library/").unwrap_or(name).to_owned()
}

/// `pkg:docker/harness/rootfs@forky?platform=…` as `harness/rootfs:forky`.
fn material_name(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("pkg:docker/")?;
    let rest = rest.split_once('?').map_or(rest, |(r, _)| r).replace("%3A", ":").replace("%3a", ":");
    let (name, version) = rest.rsplit_once('@').unwrap_or((rest.as_str(), "latest"));
    // A version that is a digest names no tag.
    if version.starts_with("sha256:") {
        return Some(familiar(name));
    }
    Some(familiar(&format!("{name}:{version}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn fixture(set: &str, n: u32) -> String {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/llb/{set}/build-{n}.metadata.json"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn a_recorded_definition_names_its_operations_and_lines() {
        let def = decode_metadata(&fixture("probe-28.5.2-containerd", 1)).unwrap();
        let kinds: Vec<(&str, Option<(u32, u32)>)> = def.ops.iter().map(|o| (o.kind.word(), o.lines)).collect();
        assert_eq!(
            kinds,
            [
                ("base image", Some((1, 1))),
                ("RUN", Some((3, 3))),
                ("local source", None),
                ("file operation", Some((5, 5))),
                ("RUN", Some((6, 6))),
                ("result", None),
            ]
        );
        assert_eq!(def.build_arg("V"), Some("1"));
        assert_eq!(def.text_of((6, 6)).as_deref(), Some("RUN cat /a /v > /b"));
        assert_eq!(def.op("step3").unwrap().inputs, ["step1", "step2"]);
        let OpKind::Image { name, digest } = &def.ops[0].kind else { panic!("{:?}", def.ops[0]) };
        assert_eq!(name, "harness/rootfs:forky");
        assert!(digest.as_deref().is_some_and(|d| d.starts_with("sha256:96a425e9")), "{digest:?}");
    }

    #[test]
    fn the_classic_store_pins_the_base_only_in_the_materials() {
        let def = decode_metadata(&fixture("probe-28.5.2-classic", 1)).unwrap();
        let OpKind::Image { name, digest } = &def.ops[0].kind else { panic!("{:?}", def.ops[0]) };
        assert_eq!(digest, &None);
        let found = def.image_digest(name, None).unwrap();
        assert!(found.starts_with("sha256:5747fd21"), "{found}");
    }

    #[test]
    fn buildx_0_13_writes_no_provenance() {
        assert_eq!(decode_metadata(&fixture("probe-26.1.5-containerd", 1)), Err(LlbError::NoProvenance));
        assert!(matches!(decode_metadata("{"), Err(LlbError::NotJson(_))));
        let min = r#"{"buildx.build.provenance": {"materials": [], "invocation": {}}}"#;
        assert_eq!(decode_metadata(min), Err(LlbError::NoBuildConfig));
    }

    #[test]
    fn slsa_v1_is_read_like_v0_2() {
        let v1 = serde_json::json!({
            "buildDefinition": {
                "externalParameters": {"request": {"args": {"build-arg:V": "3"}}},
                "internalParameters": {"buildConfig": {"llbDefinition": [
                    {"id": "step0", "op": {"Op": {"source": {"identifier": "docker-image://docker.io/library/debian:12"}}}},
                    {"id": "step1", "op": {"Op": {}}, "inputs": ["step0:0"]}
                ]}},
                "resolvedDependencies": [{"uri": "pkg:docker/debian@12?platform=linux%2Famd64", "digest": {"sha256": "ab"}}]
            },
            "runDetails": {"metadata": {}}
        });
        let def = decode_provenance(&v1).unwrap();
        assert_eq!(def.build_arg("V"), Some("3"));
        assert_eq!(def.ops[0].kind, OpKind::Image { name: "debian:12".into(), digest: None });
        assert_eq!(def.image_digest("debian:12", None).as_deref(), Some("sha256:ab"));
        assert_eq!(def.ops[1].inputs, ["step0"]);
    }
}
