//! The CI job's Docker version to an engine of `ci/engines.toml`.
//!
//! A `docker:24.0.7-dind` service names its engine exactly; `docker:dind`
//! means the newest; a version the catalogue lacks gets the nearest one it
//! has, and the scenario says so in a comment.

use super::plan::EngineHint;
use crate::catalogue::Catalogue;

/// The engine picked, and the sentence that explains the pick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EngineChoice {
    pub version: String,
    pub reason: String,
}

pub(crate) fn choose(hint: &EngineHint, catalogue: &Catalogue) -> EngineChoice {
    let versions: Vec<&str> = catalogue.engines.iter().map(|e| e.version.as_str()).collect();
    let Some(wanted) = hint.version.as_deref() else {
        return EngineChoice {
            version: catalogue.default_engine.clone(),
            reason: format!("{}: the catalogue's default engine", hint.source),
        };
    };
    let newest = || versions.iter().copied().max_by_key(|v| numeric(v)).unwrap_or(&catalogue.default_engine).to_owned();
    if numeric_parts(wanted).is_none() {
        let version = newest();
        return EngineChoice {
            version: version.clone(),
            reason: format!("{} means the newest Docker: {version}", hint.source),
        };
    }
    if versions.contains(&wanted) {
        return EngineChoice { version: wanted.to_owned(), reason: format!("{} names engine {wanted}", hint.source) };
    }
    // `24` or `25.0.3`: an entry of the same line (`24.0.7`, `25.0`) first.
    let same_line = versions
        .iter()
        .copied()
        .filter(|v| v.starts_with(&format!("{wanted}.")) || wanted.starts_with(&format!("{v}.")))
        .max_by_key(|v| numeric(v));
    let target = numeric(wanted);
    let version = same_line
        .unwrap_or_else(|| {
            versions.iter().copied().min_by_key(|v| numeric(v).abs_diff(target)).unwrap_or(&catalogue.default_engine)
        })
        .to_owned();
    EngineChoice {
        version: version.clone(),
        reason: format!(
            "{} asks for Docker {wanted}, which ci/engines.toml does not list: nearest is {version}",
            hint.source
        ),
    }
}

/// The stand-in engine nearest to `version` when `version` has none
/// (`29` → `28.5.2`): what an offline run can use instead.
pub(crate) fn nearest_stand_in(version: &str, catalogue: &Catalogue) -> Option<String> {
    let local: Vec<&str> = catalogue.local_engines().map(|e| e.version.as_str()).collect();
    if local.contains(&version) {
        return None;
    }
    let target = numeric(version);
    local.into_iter().min_by_key(|v| (numeric(v).abs_diff(target), u64::MAX - numeric(v))).map(str::to_owned)
}

fn numeric_parts(version: &str) -> Option<Vec<u64>> {
    version.split('.').map(|p| p.parse().ok()).collect()
}

fn numeric(version: &str) -> u64 {
    let parts = numeric_parts(version).unwrap_or_default();
    let get = |i: usize| parts.get(i).copied().unwrap_or(0).min(999);
    get(0) * 1_000_000 + get(1) * 1_000 + get(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::workspace_root;

    fn pick(version: Option<&str>) -> String {
        let catalogue = Catalogue::load(&workspace_root().join(crate::catalogue::CATALOGUE_PATH)).unwrap();
        let hint = EngineHint { version: version.map(str::to_owned), source: "service".into() };
        choose(&hint, &catalogue).version
    }

    #[test]
    fn exact_newest_nearest_and_default() {
        assert_eq!(pick(Some("24.0.7")), "24.0.7");
        assert_eq!(pick(Some("latest")), "29");
        assert_eq!(pick(Some("24")), "24.0.7");
        assert_eq!(pick(Some("25.0.3")), "25.0");
        assert_eq!(pick(Some("26.1.4")), "26.1.5");
        assert_eq!(pick(Some("19.03.12")), "20.10.24");
        assert_eq!(pick(Some("28")), "28.5.2");
        assert_eq!(pick(None), "26.1.5");
    }

    #[test]
    fn nearest_stand_ins() {
        let catalogue = Catalogue::load(&workspace_root().join(crate::catalogue::CATALOGUE_PATH)).unwrap();
        assert_eq!(nearest_stand_in("29", &catalogue).as_deref(), Some("28.5.2"));
        assert_eq!(nearest_stand_in("24.0.7", &catalogue).as_deref(), Some("26.1.5"));
        assert_eq!(nearest_stand_in("26.1.5", &catalogue), None);
    }
}
