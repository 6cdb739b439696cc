//! Image names and cache backends moved onto the run's registry.
//!
//! A pipeline pushes to its own registry (`ghcr.io/org/app`,
//! `registry.gitlab.com/...`, Docker Hub). In a scenario every image the
//! job owns (tagged, pushed, or used as a cache) must live in the run's
//! registry: the first repository becomes `{image}`, others
//! `{image}/<name>`, tags kept. Base images the job only pulls are left
//! alone (the run's registry mirrors them). Cache backends that cannot run
//! here (`gha`, `local` directories lost with each fresh daemon, `s3`,
//! `azblob`) become a registry cache, with a note.

use super::plan::{Build, Cmd, Plan};

/// Rewrites the plan's image names and cache backends in place.
pub(crate) fn map(plan: &mut Plan) {
    let owned = owned_repositories(plan);
    let map_ref = |reference: &str| -> String { rename(reference, &owned) };
    let mut notes = Vec::new();
    for planned in &mut plan.commands {
        match &mut planned.cmd {
            Cmd::Pull(image) | Cmd::Push(image) => *image = map_ref(image),
            Cmd::Build(build) => map_build(build, &map_ref, &mut notes),
            Cmd::Shell(text) => {
                if text.starts_with("docker tag ") || text.starts_with("docker image tag ") {
                    let words: Vec<String> = text.split(' ').map(&map_ref).collect();
                    *text = words.join(" ");
                }
            }
            Cmd::Login { .. } => {}
        }
    }
    for run in &mut plan.runs {
        run.image = map_ref(&run.image);
    }
    for note in notes {
        plan.note(note);
    }
    let exports = plan.builds().any(|b| b.cache_to.iter().any(|c| !c.contains("type=inline")));
    if exports && plan.containerd.is_none() {
        plan.containerd = Some("lets the docker driver export a cache other than inline (`--cache-to`)".into());
    }
}

fn map_build(build: &mut Build, map_ref: &dyn Fn(&str) -> String, notes: &mut Vec<String>) {
    for tag in &mut build.tags {
        *tag = map_ref(tag);
    }
    for (i, from) in build.cache_from.iter_mut().enumerate() {
        *from = map_cache(from, false, map_ref, notes, i);
    }
    for (i, to) in build.cache_to.iter_mut().enumerate() {
        *to = map_cache(to, true, map_ref, notes, i);
    }
    build.cache_from.dedup();
    build.cache_to.dedup();
}

/// One `--cache-from`/`--cache-to` value in the run's terms.
fn map_cache(
    value: &str,
    export: bool,
    map_ref: &dyn Fn(&str) -> String,
    notes: &mut Vec<String>,
    _i: usize,
) -> String {
    if !value.contains('=') {
        return map_ref(value);
    }
    let fields: Vec<(String, String)> = value
        .split(',')
        .map(|f| match f.split_once('=') {
            Some((k, v)) => (k.trim().to_owned(), v.trim().to_owned()),
            None => (f.trim().to_owned(), String::new()),
        })
        .collect();
    let get = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let kind = get("type").unwrap_or("registry");
    match kind {
        "registry" => {
            let rebuilt: Vec<String> = fields
                .iter()
                .map(|(k, v)| {
                    if k == "ref" {
                        format!("ref={}", map_ref(v))
                    } else if v.is_empty() {
                        k.clone()
                    } else {
                        format!("{k}={v}")
                    }
                })
                .collect();
            rebuilt.join(",")
        }
        "inline" => value.to_owned(),
        "gha" | "local" | "s3" | "azblob" => {
            let scope = get("scope").or(get("name")).filter(|s| !s.is_empty() && *s != "buildkit");
            let tag = match scope {
                Some(scope) => format!("buildcache-{}", sanitize_tag(scope)),
                None => "buildcache".to_owned(),
            };
            notes.push(format!(
                "the `{kind}` cache backend cannot run here ({}): replaced with a registry cache in the run's registry, `{{image}}:{tag}`",
                match kind {
                    "gha" => "it needs GitHub's cache service",
                    "local" => "a local folder does not outlive a fresh daemon",
                    _ => "it needs a cloud bucket",
                }
            ));
            let mut out = format!("type=registry,ref={{image}}:{tag}");
            if export {
                // gha and local default to mode=min, as the registry does.
                if let Some(mode) = get("mode") {
                    out.push_str(&format!(",mode={mode}"));
                }
                if let Some(ignore) = get("ignore-error") {
                    out.push_str(&format!(",ignore-error={ignore}"));
                }
            }
            out
        }
        other => {
            notes.push(format!("unknown cache backend `{other}` kept as written"));
            value.to_owned()
        }
    }
}

fn sanitize_tag(text: &str) -> String {
    let tag: String =
        text.chars().map(|c| if c.is_ascii_alphanumeric() || "_.-".contains(c) { c } else { '-' }).collect();
    tag.chars().take(100).collect()
}

/// Repositories the job owns, in order of first appearance.
fn owned_repositories(plan: &Plan) -> Vec<String> {
    let mut refs: Vec<&str> = Vec::new();
    for planned in &plan.commands {
        match &planned.cmd {
            Cmd::Push(image) => refs.push(image),
            Cmd::Build(b) => {
                refs.extend(b.tags.iter().map(String::as_str));
                for cache in b.cache_from.iter().chain(&b.cache_to) {
                    if !cache.contains('=') {
                        refs.push(cache);
                    } else if cache.contains("type=registry") || !cache.contains("type=") {
                        if let Some(r) = cache.split(',').find_map(|f| f.strip_prefix("ref=")) {
                            refs.push(r);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let mut owned: Vec<String> = Vec::new();
    for r in refs {
        let (repo, _) = split_ref(r);
        if !repo.starts_with("{image}") && !repo.starts_with("{registry}") && !owned.iter().any(|o| o == repo) {
            owned.push(repo.to_owned());
        }
    }
    owned
}

/// `repo:tag` / `repo@digest` → (repo, ":tag" or "@digest" or "").
pub(crate) fn split_ref(reference: &str) -> (&str, &str) {
    if let Some(at) = reference.find('@') {
        return (&reference[..at], &reference[at..]);
    }
    let slash = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[slash..].rfind(':') {
        Some(colon) => (&reference[..slash + colon], &reference[slash + colon..]),
        None => (reference, ""),
    }
}

fn rename(reference: &str, owned: &[String]) -> String {
    let (repo, rest) = split_ref(reference);
    let Some(index) = owned.iter().position(|o| o == repo) else {
        return reference.to_owned();
    };
    if index == 0 {
        return format!("{{image}}{rest}");
    }
    let base = repo.rsplit('/').next().unwrap_or(repo);
    let base = sanitize_tag(&base.to_ascii_lowercase());
    let clash = owned[..index].iter().any(|o| o.rsplit('/').next() == Some(base.as_str()));
    if clash {
        format!("{{image}}/{base}-{index}{rest}")
    } else {
        format!("{{image}}/{base}{rest}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::plan::Planned;

    #[test]
    fn owned_images_move_to_the_run_registry() {
        let mut plan = Plan::default();
        plan.commands.push(Planned::new(Cmd::Pull("node:20".into())));
        plan.commands.push(Planned::new(Cmd::Build(Build {
            tags: vec!["ghcr.io/org/app:latest".into(), "org/worker:1".into()],
            cache_from: vec!["type=gha,scope=main".into(), "ghcr.io/org/app:cache".into()],
            cache_to: vec!["type=gha,mode=max,scope=main".into()],
            ..Build::default()
        })));
        plan.commands.push(Planned::new(Cmd::Push("ghcr.io/org/app@sha256:abc".into())));
        plan.commands.push(Planned::new(Cmd::Shell("docker tag org/worker:1 org/worker:2".into())));
        map(&mut plan);
        assert_eq!(plan.commands[0].cmd, Cmd::Pull("node:20".into()), "base images stay");
        let Cmd::Build(b) = &plan.commands[1].cmd else { panic!() };
        assert_eq!(b.tags, ["{image}:latest", "{image}/worker:1"]);
        assert_eq!(b.cache_from, ["type=registry,ref={image}:buildcache-main", "{image}:cache"]);
        assert_eq!(b.cache_to, ["type=registry,ref={image}:buildcache-main,mode=max"]);
        assert_eq!(plan.commands[2].cmd, Cmd::Push("{image}@sha256:abc".into()));
        assert_eq!(plan.commands[3].cmd, Cmd::Shell("docker tag {image}/worker:1 {image}/worker:2".into()));
        assert!(plan.notes[0].contains("`gha`"), "{:?}", plan.notes);
    }

    #[test]
    fn references_split() {
        assert_eq!(split_ref("registry:5000/a/b:tag"), ("registry:5000/a/b", ":tag"));
        assert_eq!(split_ref("registry:5000/a"), ("registry:5000/a", ""));
        assert_eq!(split_ref("a@sha256:1"), ("a", "@sha256:1"));
    }
}
