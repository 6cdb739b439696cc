//! Names the changed operation behind a changed-input miss, by comparing
//! the LLB definitions two jobs' builds recorded ([`super::llb`]).
//!
//! A Dockerfile step is found in a definition through its stage and index
//! (`[builder 3/4]`): the operations with a Dockerfile location inside that
//! stage, ranked by line, are its steps in order, which is how BuildKit
//! numbers them (a stage built `FROM` another stage has no `FROM` step).
//! From the step's operations the walk goes up their inputs, roots first,
//! to the first operation that differs from its counterpart in the earlier
//! definition: a base image digest, a build argument, the instruction, the
//! paths a local source reads. When none differs, the definitions agree up
//! to the step, so what changed is the content of files it reads: the LLB
//! carries no checksums, the cache keys do ([`super::explain`]).

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::llb::{BuildDefinition, LlbOp, OpKind};

/// A step as the diff needs it.
#[derive(Debug, Clone, Copy)]
pub struct StepAt<'a> {
    /// Stage name as printed (`builder`, `stage-1`); `None` for `[2/3]`.
    pub stage: Option<&'a str>,
    /// 1-based index within the stage.
    pub index: u32,
}

/// The first operation that changed between two definitions of a build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OpChange {
    /// The base image's digest (or its name) changed.
    BaseImage { image: String, before: Option<String>, after: Option<String> },
    /// A build argument the operation's environment reads changed.
    BuildArg { name: String, before: Option<String>, after: Option<String>, instruction: String },
    /// The instruction itself (command line, copy spec, mounts).
    Instruction { before: String, after: String, what: String },
    /// A local source reads other paths (`local.followpaths`, excludes).
    LocalSource { name: String, what: String },
    /// An operation the earlier definition has no counterpart for.
    Added { what: String },
}

/// What the diff found for one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum LlbFinding {
    Changed {
        change: OpChange,
    },
    /// The definitions agree up to the step: only file contents changed.
    Same,
    /// The step is not in the definition (with why).
    NotFound {
        why: String,
    },
}

impl LlbFinding {
    /// One clause for a why-line.
    pub fn describe(&self) -> String {
        match self {
            LlbFinding::Changed { change } => format!("LLB diff: {}", describe_change(change)),
            LlbFinding::Same => "LLB diff: no operation up to the step changed, so the change is in the content of \
                                 files it reads (the LLB carries no checksums)"
                .into(),
            LlbFinding::NotFound { why } => format!("no LLB diff: {why}"),
        }
    }
}

fn describe_change(change: &OpChange) -> String {
    let short = |d: &Option<String>| d.as_deref().map_or("none".to_owned(), |d| short(d).to_owned());
    match change {
        OpChange::BaseImage { image, before, after } => {
            format!("the base image `{image}` changed digest ({} → {})", short(before), short(after))
        }
        OpChange::BuildArg { name, before, after, instruction } => format!(
            "build argument {name} changed ({} → {}), read by `{instruction}`",
            before.as_deref().unwrap_or("unset"),
            after.as_deref().unwrap_or("unset")
        ),
        OpChange::Instruction { before, after, what } => {
            if before == after {
                format!("`{after}` changed ({what})")
            } else {
                format!("the instruction changed: `{before}` → `{after}` ({what})")
            }
        }
        OpChange::LocalSource { name, what } => format!("the local source `{name}` reads other paths ({what})"),
        OpChange::Added { what } => format!("a new operation: {what}"),
    }
}

fn short(digest: &str) -> &str {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    &hex[..hex.len().min(12)]
}

/// The first change, roots first, among the operations `step` depends on
/// in `after` compared with `before`.
pub fn changed_operation(before: &BuildDefinition, after: &BuildDefinition, step: StepAt<'_>) -> LlbFinding {
    let Some(own) = step_ops(after, step) else {
        return LlbFinding::NotFound {
            why: format!(
                "step {} {} is not in the build's definition",
                step.stage.unwrap_or("(unnamed stage)"),
                step.index
            ),
        };
    };
    let pairs = Counterparts::new(before, after);
    for id in ancestors_roots_first(after, &own) {
        let Some(op) = after.op(&id) else { continue };
        let change = match pairs.of(op) {
            None => Some(OpChange::Added { what: label(after, op) }),
            Some(old) => compare(before, after, old, op),
        };
        if let Some(change) = change {
            return LlbFinding::Changed { change };
        }
    }
    LlbFinding::Same
}

/// The operations of a Dockerfile step: those whose location is the
/// `index`-th distinct line with operations in its stage.
pub fn step_ops(def: &BuildDefinition, step: StepAt<'_>) -> Option<Vec<String>> {
    let (first, last) = stage_lines(def.dockerfile.as_deref()?, step.stage)?;
    let starts: BTreeSet<u32> =
        def.ops.iter().filter_map(|o| o.lines).map(|(s, _)| s).filter(|s| (first..=last).contains(s)).collect();
    let line = *starts.iter().nth(step.index.checked_sub(1)? as usize)?;
    Some(def.ops.iter().filter(|o| o.lines.map(|(s, _)| s) == Some(line)).map(|o| o.id.clone()).collect())
}

/// The lines of stage `name` (its `FROM` to the line before the next):
/// a named stage by its `AS` name, `stage-N` by position, `None` when the
/// file has one stage.
fn stage_lines(dockerfile: &str, name: Option<&str>) -> Option<(u32, u32)> {
    let froms: Vec<(u32, Option<String>)> = crate::dockerfile::instructions(dockerfile)
        .into_iter()
        .filter(|i| i.keyword == "FROM")
        .map(|i| {
            let words: Vec<String> = i.args.split_whitespace().map(str::to_ascii_lowercase).collect();
            let alias = words.iter().position(|w| w == "as").and_then(|p| words.get(p + 1)).cloned();
            (i.line as u32, alias)
        })
        .collect();
    let at = match name.map(str::to_ascii_lowercase) {
        None if froms.len() == 1 => 0,
        None => froms.len().checked_sub(1)?,
        Some(name) => froms.iter().position(|(_, alias)| alias.as_deref() == Some(name.as_str())).or_else(|| {
            name.strip_prefix("stage-").and_then(|n| n.parse().ok()).filter(|&n: &usize| n < froms.len())
        })?,
    };
    let end = froms.get(at + 1).map_or(u32::MAX, |(line, _)| line - 1);
    Some((froms[at].0, end))
}

/// `own` and everything it reads, sources first (a definition lists inputs
/// before the operations that read them).
fn ancestors_roots_first(def: &BuildDefinition, own: &[String]) -> Vec<String> {
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    let mut stack: Vec<String> = own.to_vec();
    while let Some(id) = stack.pop() {
        if wanted.insert(id.clone()) {
            stack.extend(def.op(&id).map(|o| o.inputs.clone()).unwrap_or_default());
        }
    }
    def.ops.iter().filter(|o| wanted.contains(&o.id)).map(|o| o.id.clone()).collect()
}

/// Which operation of the earlier definition stands for one of the later:
/// the same stage step and rank within it, a source by its name, else the
/// same position in the list.
struct Counterparts<'a> {
    before: &'a BuildDefinition,
    by_place: HashMap<Place, &'a LlbOp>,
    places: HashMap<String, Place>,
}

impl<'a> Counterparts<'a> {
    fn new(before: &'a BuildDefinition, after: &BuildDefinition) -> Self {
        let by_place = places(before).into_iter().filter_map(|(place, id)| Some((place, before.op(&id)?))).collect();
        let places = places(after).into_iter().map(|(place, id)| (id, place)).collect();
        Self { before, by_place, places }
    }

    fn of(&self, op: &LlbOp) -> Option<&'a LlbOp> {
        if let Some(place) = self.places.get(&op.id) {
            return self.by_place.get(place).copied();
        }
        let same_source = |old: &&LlbOp| match (&old.kind, &op.kind) {
            (OpKind::Image { name: a, .. }, OpKind::Image { name: b, .. }) => a == b,
            (OpKind::Local { name: a, .. }, OpKind::Local { name: b, .. }) => a == b,
            (OpKind::Source { identifier: a, .. }, OpKind::Source { identifier: b, .. }) => a == b,
            _ => false,
        };
        if let Some(found) = self.before.ops.iter().filter(|o| o.lines.is_none()).find(same_source) {
            return Some(found);
        }
        // The result and other unplaced operations: the same id and kind.
        self.before.ops.iter().find(|o| o.id == op.id && o.lines.is_none() && kind_tag(&o.kind) == kind_tag(&op.kind))
    }
}

/// Where a located operation sits in the file's structure: (stage, step
/// rank in it, kind, n-th of that kind on the line), stable across edits
/// that only move lines.
type Place = (u32, usize, &'static str, usize);

/// The place of every located operation.
fn places(def: &BuildDefinition) -> Vec<(Place, String)> {
    let starts: BTreeSet<u32> = def.ops.iter().filter_map(|o| o.lines).map(|(s, _)| s).collect();
    let froms: Vec<u32> = def
        .dockerfile
        .as_deref()
        .map(|t| {
            crate::dockerfile::instructions(t)
                .into_iter()
                .filter(|i| i.keyword == "FROM")
                .map(|i| i.line as u32)
                .collect()
        })
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut seen: HashMap<(u32, usize, &'static str), usize> = HashMap::new();
    for op in &def.ops {
        let Some((start, _)) = op.lines else { continue };
        let stage = froms.iter().rposition(|&f| f <= start).unwrap_or(0) as u32;
        let stage_start = froms.get(stage as usize).copied().unwrap_or(0);
        let rank = starts.iter().filter(|&&s| s >= stage_start && s < start).count();
        let key = (stage, rank, kind_tag(&op.kind));
        // Several operations of one kind on one line: by their order.
        let nth = seen.entry(key).or_default();
        *nth += 1;
        out.push(((key.0, key.1, key.2, *nth), op.id.clone()));
    }
    out
}

fn kind_tag(kind: &OpKind) -> &'static str {
    match kind {
        OpKind::Image { .. } => "image",
        OpKind::Local { .. } => "local",
        OpKind::Source { .. } => "source",
        OpKind::Exec { .. } => "exec",
        OpKind::File { .. } => "file",
        OpKind::Result => "result",
        OpKind::Other { .. } => "other",
    }
}

/// What differs between an operation and its counterpart, inputs aside.
fn compare(before: &BuildDefinition, after: &BuildDefinition, old: &LlbOp, new: &LlbOp) -> Option<OpChange> {
    match (&old.kind, &new.kind) {
        (OpKind::Image { name: a, digest: da }, OpKind::Image { name: b, digest: db }) => {
            let (da, db) = (before.image_digest(a, da.as_deref()), after.image_digest(b, db.as_deref()));
            (a != b || da != db).then(|| OpChange::BaseImage {
                image: if a == b { b.clone() } else { format!("{a}` → `{b}") },
                before: da,
                after: db,
            })
        }
        (OpKind::Local { name, attrs: a }, OpKind::Local { attrs: b, .. }) => {
            let (a, b) = (lasting(a), lasting(b));
            (a != b).then(|| OpChange::LocalSource { name: name.clone(), what: map_diff(&a, &b) })
        }
        (OpKind::Exec { env: ea, .. }, OpKind::Exec { env: eb, .. }) if old.kind != new.kind => {
            Some(exec_change(before, after, old, new, ea, eb))
        }
        (a, b) if a == b => None,
        (a, b) => Some(OpChange::Instruction {
            before: label(before, old),
            after: label(after, new),
            what: if kind_tag(a) == kind_tag(b) {
                format!("its {} differs", what_differs(a))
            } else {
                format!("a {} became a {}", a.word(), b.word())
            },
        }),
    }
}

fn exec_change(
    before: &BuildDefinition,
    after: &BuildDefinition,
    old: &LlbOp,
    new: &LlbOp,
    env_a: &[String],
    env_b: &[String],
) -> OpChange {
    let (OpKind::Exec { args: aa, cwd: ca, mounts: ma, .. }, OpKind::Exec { args: ab, cwd: cb, mounts: mb, .. }) =
        (&old.kind, &new.kind)
    else {
        unreachable!("exec_change is called on two execs")
    };
    let changed_vars = env_diff(env_a, env_b);
    // A variable the frontend's build arguments name is a build argument.
    let arg = changed_vars.iter().find(|v| before.build_arg(v).is_some() || after.build_arg(v).is_some());
    if let (Some(name), true) = (arg, aa == ab || changed_vars.len() == 1) {
        return OpChange::BuildArg {
            name: name.clone(),
            before: before.build_arg(name).map(str::to_owned).or_else(|| env_value(env_a, name)),
            after: after.build_arg(name).map(str::to_owned).or_else(|| env_value(env_b, name)),
            instruction: label(after, new),
        };
    }
    let what = if aa != ab {
        "its command line".to_owned()
    } else if !changed_vars.is_empty() {
        format!("its environment: {}", changed_vars.join(", "))
    } else if ca != cb {
        "its working directory".to_owned()
    } else if ma != mb {
        "its mounts".to_owned()
    } else {
        "its options".to_owned()
    };
    OpChange::Instruction { before: label(before, old), after: label(after, new), what }
}

/// A local source's attributes without those that name the client's
/// session, which change every build without changing what it reads.
fn lasting(attrs: &std::collections::BTreeMap<String, String>) -> std::collections::BTreeMap<String, String> {
    attrs
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "local.session" | "local.unique"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn env_diff(a: &[String], b: &[String]) -> Vec<String> {
    let split = |list: &[String]| -> HashMap<String, String> {
        list.iter()
            .map(|e| e.split_once('=').map_or((e.clone(), String::new()), |(k, v)| (k.into(), v.into())))
            .collect()
    };
    let (ma, mb) = (split(a), split(b));
    let mut names: Vec<String> = ma.keys().chain(mb.keys()).filter(|k| ma.get(*k) != mb.get(*k)).cloned().collect();
    names.sort();
    names.dedup();
    names
}

fn env_value(env: &[String], name: &str) -> Option<String> {
    env.iter().find_map(|e| e.strip_prefix(name)?.strip_prefix('=').map(str::to_owned))
}

fn map_diff(a: &std::collections::BTreeMap<String, String>, b: &std::collections::BTreeMap<String, String>) -> String {
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).filter(|k| a.get(*k) != b.get(*k)).collect();
    keys.into_iter()
        .map(|k| {
            format!("{k}: {} → {}", a.get(k).map_or("unset", String::as_str), b.get(k).map_or("unset", String::as_str))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn what_differs(kind: &OpKind) -> &'static str {
    match kind {
        OpKind::File { .. } => "file actions (source, destination or options)",
        OpKind::Source { .. } => "identifier or attributes",
        _ => "definition",
    }
}

/// An operation for a person: its Dockerfile line, else what it is.
fn label(def: &BuildDefinition, op: &LlbOp) -> String {
    if let Some(text) = op.lines.and_then(|l| def.text_of(l)) {
        return text;
    }
    match &op.kind {
        OpKind::Image { name, .. } => format!("FROM {name}"),
        OpKind::Local { name, .. } => format!("the local source `{name}`"),
        OpKind::Source { identifier, .. } => format!("the source `{identifier}`"),
        OpKind::Exec { args, .. } => format!("RUN {}", args.join(" ")),
        other => other.word().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::llb::decode_metadata;
    use std::path::Path;

    fn build(set: &str, n: u32) -> BuildDefinition {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/llb/{set}/build-{n}.metadata.json"));
        decode_metadata(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    fn at(stage: &str, index: u32) -> StepAt<'_> {
        StepAt { stage: Some(stage), index }
    }

    /// The probe's five builds (tests/fixtures/llb/README.md): V=1, V=2, an
    /// edited file, the base image retagged, the last RUN rewritten.
    #[test]
    fn each_recorded_change_is_named_on_both_stores() {
        for set in ["probe-28.5.2-containerd", "probe-28.5.2-classic"] {
            let b: Vec<BuildDefinition> = (1..=5).map(|n| build(set, n)).collect();
            let found = changed_operation(&b[0], &b[1], at("base", 2));
            let LlbFinding::Changed { change: OpChange::BuildArg { name, before, after, .. } } = &found else {
                panic!("{set}: {found:?}")
            };
            assert_eq!((name.as_str(), before.as_deref(), after.as_deref()), ("V", Some("1"), Some("2")));
            // Down the chain the first change is still the argument.
            assert!(matches!(
                changed_operation(&b[0], &b[1], at("final", 2)),
                LlbFinding::Changed { change: OpChange::BuildArg { .. } }
            ));
            // A file edit leaves the definition as it was.
            assert_eq!(changed_operation(&b[1], &b[2], at("final", 1)), LlbFinding::Same, "{set}");
            let found = changed_operation(&b[2], &b[3], at("final", 2));
            let LlbFinding::Changed { change: OpChange::BaseImage { image, before, after } } = &found else {
                panic!("{set}: {found:?}")
            };
            assert_eq!(image, "harness/rootfs:forky");
            assert!(before.is_some() && after.is_some() && before != after, "{set}: {found:?}");
            let found = changed_operation(&b[3], &b[4], at("final", 2));
            assert_eq!(
                found,
                LlbFinding::Changed {
                    change: OpChange::Instruction {
                        before: "RUN cat /a /v > /b".into(),
                        after: "RUN cat /v /a > /b".into(),
                        what: "its command line".into()
                    }
                },
                "{set}"
            );
            // The steps before the rewritten one are unchanged.
            assert_eq!(changed_operation(&b[3], &b[4], at("final", 1)), LlbFinding::Same, "{set}");
        }
    }

    /// A recorded definition with its context source edited: other paths
    /// are a change, a new session id is not.
    #[test]
    fn a_local_source_reading_other_paths_is_named_and_its_session_is_not() {
        let before = build("probe-28.5.2-containerd", 1);
        let edited = |key: &str, value: &str| {
            let mut after = before.clone();
            let local = after.ops.iter_mut().find(|o| matches!(o.kind, OpKind::Local { .. })).unwrap();
            let OpKind::Local { attrs, .. } = &mut local.kind else { unreachable!() };
            attrs.insert(key.into(), value.into());
            after
        };
        assert_eq!(changed_operation(&before, &edited("local.session", "s2"), at("final", 1)), LlbFinding::Same);
        let after = edited("local.followpaths", "[\"a\",\"b\"]");
        let found = changed_operation(&before, &after, at("final", 1));
        let LlbFinding::Changed { change: OpChange::LocalSource { name, what } } = &found else { panic!("{found:?}") };
        assert_eq!(name, "context");
        assert_eq!(what, "local.followpaths: [\"a\"] → [\"a\",\"b\"]");
        // The base stage does not read the context.
        assert_eq!(changed_operation(&before, &after, at("base", 2)), LlbFinding::Same);
    }

    #[test]
    fn steps_are_found_by_stage_and_index() {
        let def = build("probe-28.5.2-containerd", 1);
        assert_eq!(step_ops(&def, at("base", 1)), Some(vec!["step0".to_owned()]));
        assert_eq!(step_ops(&def, at("base", 2)), Some(vec!["step1".to_owned()]));
        // `FROM base AS final` makes no step of its own.
        assert_eq!(step_ops(&def, at("final", 1)), Some(vec!["step3".to_owned()]));
        assert_eq!(step_ops(&def, at("final", 3)), None);
        assert!(matches!(changed_operation(&def, &def, at("nope", 1)), LlbFinding::NotFound { .. }));
    }

    #[test]
    fn findings_read_as_one_clause() {
        let change = OpChange::BuildArg {
            name: "V".into(),
            before: Some("1".into()),
            after: Some("2".into()),
            instruction: "RUN echo $V > /v".into(),
        };
        assert_eq!(
            LlbFinding::Changed { change }.describe(),
            "LLB diff: build argument V changed (1 → 2), read by `RUN echo $V > /v`"
        );
        assert!(LlbFinding::Same.describe().contains("content of files"));
    }
}
