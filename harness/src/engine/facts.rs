//! Facts read back from a dind: its versions, and the layers and history of
//! an image, so the runner can tell a reused layer from a rebuilt one.
//!
//! Layer identity (a step's diff id equals the previous job's) is the ground
//! truth for cache reuse: plain progress can print `DONE` for a step whose
//! layer came from a remote cache. The parsers here are pure and tested on
//! recorded CLI output; the execs that feed them live on `Daemon`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The versions one daemon reports; they go into every result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineVersions {
    /// Engine (`docker version` server), e.g. `26.1.5+dfsg1`.
    pub engine: String,
    /// Engine API version, e.g. `1.45`.
    pub api: String,
    /// The CLI inside the dind, which runs every build.
    pub cli: String,
    /// The buildx plugin, when the CLI has one.
    pub buildx: Option<String>,
    /// Why `buildx` is missing.
    pub buildx_missing: Option<String>,
    /// The BuildKit inside the engine, as buildx reports it.
    pub buildkit: Option<String>,
    /// Why `buildkit` is missing.
    pub buildkit_missing: Option<String>,
    pub containerd: Option<String>,
    /// Storage driver (`overlay2`, or the snapshotter with the containerd store).
    pub storage_driver: String,
    /// Whether the engine uses the containerd image store.
    pub containerd_store: bool,
}

/// One step of an image's history, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The instruction, as the builder recorded it.
    pub created_by: String,
    /// The layer's diff id (uncompressed digest) when the step made one.
    pub layer: Option<String>,
    pub comment: Option<String>,
}

/// Section markers of the script that gathers versions in one exec.
pub(crate) const VERSIONS_SCRIPT: &str = "\
echo '@@version'; docker version --format '{{json .}}' 2>&1
echo '@@info'; docker info --format '{{json .}}' 2>&1
echo '@@buildx'; docker buildx version 2>&1
echo '@@inspect'; docker buildx inspect 2>&1
true";

/// Parses the output of [`VERSIONS_SCRIPT`].
pub(crate) fn parse_versions(output: &str) -> Result<EngineVersions, String> {
    let section = |name: &str| -> &str {
        let marker = format!("@@{name}\n");
        output.split_once(&marker).map(|(_, rest)| rest.split("\n@@").next().unwrap_or_default()).unwrap_or_default()
    };
    let version: Value = first_json(section("version"))
        .ok_or_else(|| format!("`docker version` gave no JSON: {}", section("version").trim()))?;
    let info: Value =
        first_json(section("info")).ok_or_else(|| format!("`docker info` gave no JSON: {}", section("info").trim()))?;
    let text = |v: &Value| v.as_str().map(str::to_owned);

    let engine = text(&version["Server"]["Version"]).ok_or("no server version")?;
    let api = text(&version["Server"]["ApiVersion"]).unwrap_or_default();
    let cli = text(&version["Client"]["Version"]).ok_or("no client version")?;
    let containerd = version["Server"]["Components"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["Name"].as_str() == Some("containerd"))
        .and_then(|c| text(&c["Version"]));
    let storage_driver = text(&info["Driver"]).unwrap_or_default();
    let containerd_store = info["DriverStatus"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .any(|pair| pair.iter().any(|v| v.as_str() == Some("io.containerd.snapshotter.v1")));

    let buildx_out = section("buildx").trim();
    let (buildx, buildx_missing) = match buildx_out.split_whitespace().collect::<Vec<_>>()[..] {
        [module, version, ..] if module.ends_with("/buildx") => (Some(version.to_owned()), None),
        _ if buildx_out.contains("not a docker command") => {
            (None, Some("the CLI has no buildx plugin (it builds with its built-in BuildKit client)".into()))
        }
        _ => (None, Some(format!("`docker buildx version` said: {buildx_out}"))),
    };
    let buildkit = section("inspect").lines().find_map(|line| {
        let line = line.trim();
        ["BuildKit version:", "BuildKit:", "Buildkit:"]
            .iter()
            .find_map(|p| line.strip_prefix(p))
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    });
    // Debian builds BuildKit without a version stamp: that is no version.
    let (buildkit, unstamped) = match buildkit {
        Some(v) if v.starts_with("v0.0.0") => (None, Some(v)),
        other => (other, None),
    };
    let buildkit_missing = match (&buildkit, &buildx) {
        (Some(_), _) => None,
        (None, _) if unstamped.is_some() => Some(format!(
            "the engine's BuildKit reports `{}`: it was built without a version stamp \
             (as Debian's packages are)",
            unstamped.unwrap_or_default()
        )),
        (None, None) => {
            Some("no buildx to ask, and the engine's API does not report its built-in BuildKit version".into())
        }
        (None, Some(_)) => Some("`docker buildx inspect` did not report a BuildKit version".into()),
    };
    Ok(EngineVersions {
        engine,
        api,
        cli,
        buildx,
        buildx_missing,
        buildkit,
        buildkit_missing,
        containerd,
        storage_driver,
        containerd_store,
    })
}

/// The first line of `text` that parses as JSON (CLIs print warnings first).
fn first_json(text: &str) -> Option<Value> {
    text.lines()
        .filter(|l| l.trim_start().starts_with('{') || l.trim_start().starts_with('['))
        .find_map(|l| serde_json::from_str(l).ok())
}

/// Parses `docker image inspect --format '{{json .RootFS.Layers}}'`.
pub(crate) fn parse_layers(output: &str) -> Result<Vec<String>, String> {
    match first_json(output) {
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| format!("not a digest: {v}")))
            .collect(),
        Some(Value::Null) => Ok(Vec::new()),
        _ => Err(format!("expected a JSON list of digests, got: {}", output.trim())),
    }
}

/// What a blob read from the daemon's store turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Blob {
    /// An image config: history and diff ids, the end of the walk.
    Config(Vec<HistoryEntry>),
    /// A manifest or index: read this digest next.
    Next(String),
}

/// Classifies a blob from the image store and, for a config, pairs history
/// entries with diff ids (entries marked `empty_layer` have none).
/// `arch` picks the manifest of an index (attestations are skipped).
pub(crate) fn read_blob(json: &str, arch: &str) -> Result<Blob, String> {
    let doc: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    if let Some(manifests) = doc["manifests"].as_array() {
        let pick = manifests
            .iter()
            .filter(|m| m["annotations"]["vnd.docker.reference.type"].as_str() != Some("attestation-manifest"))
            .find(|m| {
                m["platform"]["os"].as_str() == Some("linux") && m["platform"]["architecture"].as_str() == Some(arch)
            })
            .or_else(|| manifests.first())
            .ok_or("an index without manifests")?;
        return pick["digest"]
            .as_str()
            .map(|d| Blob::Next(d.to_owned()))
            .ok_or_else(|| "an index entry without digest".into());
    }
    if let Some(config) = doc["config"]["digest"].as_str() {
        if doc["layers"].is_array() {
            return Ok(Blob::Next(config.to_owned()));
        }
    }
    let diff_ids: Vec<&str> = doc["rootfs"]["diff_ids"]
        .as_array()
        .ok_or("neither an index, a manifest nor an image config")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let mut layers = diff_ids.iter();
    let mut entries = Vec::new();
    for h in doc["history"].as_array().into_iter().flatten() {
        let layer = if h["empty_layer"].as_bool() == Some(true) {
            None
        } else {
            Some(layers.next().ok_or("more non-empty history entries than layers")?.to_string())
        };
        entries.push(HistoryEntry {
            created_by: h["created_by"].as_str().unwrap_or_default().to_owned(),
            layer,
            comment: h["comment"].as_str().map(str::to_owned),
        });
    }
    if layers.next().is_some() {
        return Err("more layers than non-empty history entries".into());
    }
    Ok(Blob::Config(entries))
}

/// Script printing the blob `$1` (sha256:...) from a daemon's image store:
/// the graph-driver image db, or the containerd content store.
pub(crate) const READ_BLOB_SCRIPT: &str = r#"root=$(docker info --format '{{.DockerRootDir}}') || exit 3
hex=${1#sha256:}
for f in "$root"/image/*/imagedb/content/sha256/"$hex" "$root"/containerd/daemon/io.containerd.content.v1.content/blobs/sha256/"$hex"; do
  if [ -f "$f" ]; then cat "$f"; exit 0; fi
done
echo "blob $1 is in neither image store under $root" >&2
exit 4"#;

#[cfg(test)]
mod tests {
    use super::*;
    use indoc::indoc;

    const V20: &str = indoc! {r#"
        @@version
        {"Client":{"Platform":{"Name":""},"Version":"20.10.24+dfsg1","ApiVersion":"1.41"},"Server":{"Platform":{"Name":""},"Components":[{"Name":"Engine","Version":"20.10.24+dfsg1"},{"Name":"containerd","Version":"1.6.20~ds1"}],"Version":"20.10.24+dfsg1","ApiVersion":"1.41"}}
        @@info
        {"Driver":"overlay2","DriverStatus":[["Backing Filesystem","extfs"]],"ServerVersion":"20.10.24+dfsg1"}
        @@buildx
        docker: 'buildx' is not a docker command.
        See 'docker --help'
        @@inspect
        docker: 'buildx' is not a docker command.
    "#};

    const V28: &str = indoc! {r#"
        @@version
        {"Client":{"Version":"28.5.2+dfsg4","ApiVersion":"1.51"},"Server":{"Components":[{"Name":"containerd","Version":"1.7.28"}],"Version":"28.5.2+dfsg4","ApiVersion":"1.51"}}
        @@info
        WARNING: bridge-nf-call-iptables is disabled
        {"Driver":"overlayfs","DriverStatus":[["driver-type","io.containerd.snapshotter.v1"]]}
        @@buildx
        github.com/docker/buildx 0.29.1+ds1 0.29.1+ds1-4
        @@inspect
        Name:   default
        Driver: docker
        Nodes:
        Name:             default
        BuildKit version: v0.25.1
    "#};

    #[test]
    fn versions_of_an_engine_without_buildx_say_why() {
        let v = parse_versions(V20).unwrap();
        assert_eq!(v.engine, "20.10.24+dfsg1");
        assert_eq!(v.cli, "20.10.24+dfsg1");
        assert_eq!(v.api, "1.41");
        assert_eq!(v.containerd.as_deref(), Some("1.6.20~ds1"));
        assert_eq!(v.buildx, None);
        assert!(v.buildx_missing.unwrap().contains("no buildx plugin"));
        assert_eq!(v.buildkit, None);
        assert!(v.buildkit_missing.is_some());
        assert!(!v.containerd_store);
    }

    #[test]
    fn versions_with_buildx_and_the_containerd_store() {
        let v = parse_versions(V28).unwrap();
        assert_eq!(v.buildx.as_deref(), Some("0.29.1+ds1"));
        assert_eq!(v.buildkit.as_deref(), Some("v0.25.1"));
        assert_eq!(v.buildkit_missing, None);
        assert!(v.containerd_store);
        assert_eq!(v.storage_driver, "overlayfs");
    }

    #[test]
    fn older_buildx_spells_buildkit_differently() {
        let old = V28.replace("BuildKit version: v0.25.1", "Buildkit: v0.13.2");
        assert_eq!(parse_versions(&old).unwrap().buildkit.as_deref(), Some("v0.13.2"));
    }

    #[test]
    fn an_unstamped_buildkit_is_no_version() {
        let debian = V28.replace("v0.25.1", "v0.0.0+unknown");
        let v = parse_versions(&debian).unwrap();
        assert_eq!(v.buildkit, None);
        assert!(v.buildkit_missing.unwrap().contains("`v0.0.0+unknown`"));
    }

    #[test]
    fn broken_version_output_is_an_error() {
        let err = parse_versions("@@version\nCannot connect\n@@info\n").unwrap_err();
        assert!(err.contains("Cannot connect"), "{err}");
    }

    #[test]
    fn layers_parse() {
        assert_eq!(parse_layers("[\"sha256:a\",\"sha256:b\"]\n").unwrap(), ["sha256:a", "sha256:b"]);
        assert!(parse_layers("Error: No such image: x").is_err());
    }

    #[test]
    fn config_pairs_history_with_layers_skipping_empty_entries() {
        let config = r#"{"rootfs":{"type":"layers","diff_ids":["sha256:base","sha256:run"]},
            "history":[{"created_by":"import"},{"created_by":"CMD [\"bash\"]","empty_layer":true},
                       {"created_by":"RUN echo hi","comment":"buildkit.dockerfile.v0"}]}"#;
        let Blob::Config(h) = read_blob(config, "amd64").unwrap() else { panic!() };
        assert_eq!(h.len(), 3);
        assert_eq!(h[0].layer.as_deref(), Some("sha256:base"));
        assert_eq!(h[1].layer, None);
        assert_eq!(h[2].layer.as_deref(), Some("sha256:run"));
        assert_eq!(h[2].comment.as_deref(), Some("buildkit.dockerfile.v0"));
    }

    #[test]
    fn config_with_too_few_history_entries_is_an_error() {
        let config = r#"{"rootfs":{"diff_ids":["sha256:a","sha256:b"]},"history":[{"created_by":"x"}]}"#;
        assert!(read_blob(config, "amd64").unwrap_err().contains("more layers"));
    }

    #[test]
    fn index_and_manifest_lead_to_the_config() {
        let index = r#"{"manifests":[
            {"digest":"sha256:att","platform":{"os":"unknown","architecture":"unknown"},
             "annotations":{"vnd.docker.reference.type":"attestation-manifest"}},
            {"digest":"sha256:arm","platform":{"os":"linux","architecture":"arm64"}},
            {"digest":"sha256:amd","platform":{"os":"linux","architecture":"amd64"}}]}"#;
        assert_eq!(read_blob(index, "amd64").unwrap(), Blob::Next("sha256:amd".into()));
        let manifest = r#"{"config":{"digest":"sha256:cfg"},"layers":[]}"#;
        assert_eq!(read_blob(manifest, "amd64").unwrap(), Blob::Next("sha256:cfg".into()));
    }
}
