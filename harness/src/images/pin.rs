//! Runs in local mode use the stand-ins this checkout's `ci/images` builds,
//! by their hashed tags (`harness/dind:26.1.5-1a2b3c4d5e6f`), not the moving
//! catalogue names (`harness/dind:26.1.5`). Two checkouts on one machine
//! (a branch that changes an entrypoint, a release tree) then never run
//! each other's images, and `make images` in one does not change what a run
//! already started in the other uses.

use std::collections::BTreeMap;
use std::path::Path;

use super::{plan, ExtraCa, HostDocker, Recipe};
use crate::catalogue::{Catalogue, CatalogueError};

/// The checkout's catalogue with its dind and registry stand-ins pinned
/// (what `harness run --images local` uses; tests start from it too).
pub fn pinned_catalogue() -> Result<Catalogue, CatalogueError> {
    let mut catalogue = Catalogue::load_default()?;
    let pins = Pins::for_checkout(&catalogue, &crate::catalogue::workspace_root());
    catalogue.pin_local(&pins.pinned);
    Ok(catalogue)
}

/// Catalogue names mapped to the hashed tags to run instead, and the names
/// whose hashed tag is missing (built from other inputs, or not at all).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pins {
    pub pinned: BTreeMap<String, String>,
    pub stale: Vec<String>,
}

impl Pins {
    /// The pins for `root`'s `ci/images` with the default extra CA (what
    /// `make images` builds), checked against the host daemon's images.
    /// Empty when the plan cannot be made or no host daemon answers: the
    /// run then names the images as the catalogue does, and its own checks
    /// say what is missing.
    pub fn for_checkout(catalogue: &Catalogue, root: &Path) -> Self {
        let Ok(docker) = HostDocker::detect() else { return Self::default() };
        let Ok(extra_ca) = ExtraCa::from_option(None).read() else { return Self::default() };
        let Ok(specs) = plan(catalogue, root, &extra_ca) else { return Self::default() };
        let stand_ins = specs.into_iter().filter(|s| !matches!(s.recipe, Recipe::Rootfs { .. }));
        Self::from_specs(stand_ins.map(|s| (s.name, s.hashed)), |tag| docker.has_image(tag))
    }

    /// Pins each `(name, hashed)` whose hashed tag `present` says exists.
    fn from_specs(specs: impl Iterator<Item = (String, String)>, present: impl Fn(&str) -> bool) -> Self {
        let mut pins = Self::default();
        for (name, hashed) in specs {
            if present(&hashed) {
                pins.pinned.insert(name, hashed);
            } else {
                pins.stale.push(name);
            }
        }
        pins
    }

    /// One warning line per stand-in that is not this checkout's build.
    pub fn warnings(&self) -> Vec<String> {
        (self.stale.iter())
            .map(|name| {
                format!(
                    "warning: `{name}` was not built from this checkout's ci/images (run `make images`): \
                     the run uses the image tagged `{name}` as it is"
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn present_hashed_tags_are_pinned_and_the_rest_named() {
        let specs = [
            ("harness/dind:26.1.5", "harness/dind:26.1.5-aaaaaaaaaaaa"),
            ("harness/chef:rust-1", "harness/chef:rust-1-bbbbbbbbbbbb"),
        ];
        let pins = Pins::from_specs(specs.iter().map(|(n, h)| (n.to_string(), h.to_string())), |tag| {
            tag.starts_with("harness/dind")
        });
        assert_eq!(pins.pinned, BTreeMap::from([(specs[0].0.to_owned(), specs[0].1.to_owned())]));
        assert_eq!(pins.stale, ["harness/chef:rust-1"]);
        assert_eq!(
            pins.warnings(),
            ["warning: `harness/chef:rust-1` was not built from this checkout's ci/images (run `make images`): \
              the run uses the image tagged `harness/chef:rust-1` as it is"]
        );
    }
}
