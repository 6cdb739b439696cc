//! Each build's LLB definition, for naming the operation behind a changed
//! input: the runner adds `--metadata-file` (and
//! `BUILDX_METADATA_PROVENANCE=max`) to the build line it runs, where the
//! CLI builds with buildx, reads the file back from the dind after the
//! build, keeps it next to the log and decodes it ([`crate::cache::llb`]).
//!
//! The flag is the harness's own observation, like the `cd` into the
//! context: the plan, the pack and the report show the scenario's line
//! without it. A build that gives no definition says why (no buildx, a
//! buildx that writes no provenance, a shell line the runner cannot add
//! the flag to), and the why reaches the report.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cache::{decode_metadata, BuildDefinition};
use crate::engine::EngineVersions;

/// Where builds write their metadata inside the dind.
const METADATA_DIR: &str = "/harness/metadata";

/// What the report keeps of a build's definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefinitionReport {
    /// The metadata file, copied next to the build's log.
    pub file: Option<PathBuf>,
    /// How many LLB operations the definition holds.
    pub operations: Option<usize>,
    /// Why there is no usable definition.
    pub error: Option<String>,
}

/// The build line with the metadata flag, and where the file will be; or
/// why the build cannot write one.
pub(crate) struct Planned {
    pub(crate) script: String,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) path: Result<String, String>,
}

/// Adds `--metadata-file` to `script` (a rendered build line) when the
/// dind's CLI builds with buildx.
pub(crate) fn plan(script: &str, versions: &EngineVersions, name: &str) -> Planned {
    let unchanged = |why: String| Planned { script: script.to_owned(), env: Vec::new(), path: Err(why) };
    if versions.buildx.is_none() {
        let why = versions.buildx_missing.as_deref().unwrap_or("the CLI has no buildx plugin");
        return unchanged(format!("no build metadata: {why}, and only buildx writes a metadata file"));
    }
    let path = format!("{METADATA_DIR}/{name}.json");
    let flag = format!("--metadata-file {path}");
    let Some(with_flag) = insert_flag(script, &flag) else {
        return unchanged(
            "no build metadata: the build line is not a `docker build` the runner can add a flag to".into(),
        );
    };
    Planned {
        // A file left by an earlier build must not pass for this one's.
        script: format!("mkdir -p {METADATA_DIR} && rm -f {path} && {with_flag}"),
        env: vec![("BUILDX_METADATA_PROVENANCE".into(), "max".into())],
        path: Ok(path),
    }
}

/// `docker build X` / `docker buildx build X` with `flag` after the verb.
fn insert_flag(script: &str, flag: &str) -> Option<String> {
    let verb = ["docker buildx build ", "docker build "].into_iter().find(|v| script.contains(v))?;
    let at = script.find(verb)? + verb.len();
    Some(format!("{}{flag} {}", &script[..at], &script[at..]))
}

/// Decodes the metadata file's text (read from the dind) and keeps a copy
/// at `copy`.
pub(crate) fn conclude(
    read: Result<String, String>,
    copy: &Path,
) -> (DefinitionReport, Result<BuildDefinition, String>) {
    let mut report = DefinitionReport { file: None, operations: None, error: None };
    let text = match read {
        Ok(text) => text,
        Err(why) => {
            report.error = Some(why.clone());
            return (report, Err(why));
        }
    };
    match std::fs::write(copy, &text) {
        Ok(()) => report.file = Some(copy.to_owned()),
        Err(e) => tracing::warn!("cannot keep the build metadata at {}: {e}", copy.display()),
    }
    let decoded = decode_metadata(&text).map_err(|e| e.to_string());
    match &decoded {
        Ok(def) => report.operations = Some(def.ops.len()),
        Err(why) => report.error = Some(why.clone()),
    }
    (report, decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(buildx: Option<&str>) -> EngineVersions {
        EngineVersions {
            engine: "28.5.2".into(),
            api: "1.51".into(),
            cli: "28.5.2".into(),
            buildx: buildx.map(Into::into),
            buildx_missing: buildx.is_none().then(|| "`docker buildx` is not a docker command".into()),
            buildkit: None,
            buildkit_missing: None,
            containerd: None,
            storage_driver: "overlay2".into(),
            containerd_store: false,
        }
    }

    #[test]
    fn the_flag_goes_after_the_build_verb() {
        let planned =
            plan("DOCKER_BUILDKIT=1 docker build --progress=plain --target b .", &versions(Some("0.29.1")), "c3");
        assert_eq!(
            planned.script,
            "mkdir -p /harness/metadata && rm -f /harness/metadata/c3.json && DOCKER_BUILDKIT=1 docker build \
             --metadata-file /harness/metadata/c3.json --progress=plain --target b ."
        );
        assert_eq!(planned.path.as_deref(), Ok("/harness/metadata/c3.json"));
        assert_eq!(planned.env, [("BUILDX_METADATA_PROVENANCE".to_owned(), "max".to_owned())]);
        let buildx = plan("docker buildx build --progress=plain .", &versions(Some("0.29.1")), "c1");
        assert!(buildx
            .script
            .ends_with("docker buildx build --metadata-file /harness/metadata/c1.json --progress=plain ."));
    }

    #[test]
    fn without_buildx_the_line_is_left_alone_and_says_why() {
        let planned = plan("DOCKER_BUILDKIT=1 docker build .", &versions(None), "c1");
        assert_eq!(planned.script, "DOCKER_BUILDKIT=1 docker build .");
        assert!(planned.path.unwrap_err().contains("is not a docker command"));
        let shell = plan("make image", &versions(Some("0.29.1")), "c1");
        assert!(shell.path.is_err() && shell.script == "make image");
    }

    #[test]
    fn a_file_without_provenance_is_reported_with_its_reason() {
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/llb/probe-26.1.5-containerd/build-1.metadata.json"),
        )
        .unwrap();
        let (report, decoded) = conclude(Ok(text), &dir.path().join("m.json"));
        assert!(decoded.is_err());
        assert!(report.error.as_deref().is_some_and(|e| e.contains("buildx.build.provenance")), "{report:?}");
        assert!(report.file.is_some_and(|f| f.exists()));
    }
}
