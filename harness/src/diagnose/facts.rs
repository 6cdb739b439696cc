//! Facts about one build that sit in status lines and BuildKit's own
//! vertices rather than in Dockerfile steps: cache imports and their
//! errors, which cache was exported, a cache export the driver refused,
//! the echoed build command (`--no-cache`, `--build-arg`), and the context
//! size. Each fact keeps its line for the evidence. Matching is by
//! substring, so CI decorations (timestamps, prefixes) do not hide them.

use crate::progress::{Build, Format, VertexStatus};

use super::input::LogInput;
use super::series::BuildRef;

const IMPORTING: &str = "importing cache manifest from ";

/// Messages buildx prints when the docker driver cannot export a cache
/// (old buildx, then buildx 0.13+).
const EXPORT_UNSUPPORTED: [&str; 2] = [
    "cache export feature is currently not supported for docker driver",
    "cache export is not supported for the docker driver",
];

/// One `--cache-from` source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Import {
    /// The ref or path it imported from.
    pub source: String,
    /// The error, when it failed.
    pub error: Option<String>,
    /// The line that shows it (the error line when it failed).
    pub line: Option<u64>,
}

impl Import {
    /// True when the source did not exist (as opposed to another failure).
    pub fn missing(&self) -> bool {
        self.error.as_deref().is_some_and(|e| {
            let e = e.to_ascii_lowercase();
            e.contains("not found") || e.contains("no such file") || e.contains("manifest unknown")
        })
    }
}

/// What the status lines say about one build.
#[derive(Debug, Clone, Default)]
pub(crate) struct Facts {
    pub imports: Vec<Import>,
    /// A line showing inline cache metadata being written.
    pub inline_export: Option<u64>,
    /// A line showing a cache exported to a registry, local or gha backend.
    pub remote_export: Option<u64>,
    /// `mode=max` seen in the build command.
    pub mode_max: bool,
    /// The driver refused to export the cache.
    pub export_unsupported: Option<u64>,
    /// The echoed build command, when the log has one.
    pub command: Option<u64>,
    /// `--no-cache` in the echoed command.
    pub no_cache: bool,
    /// `transferring context: 1.2kB` of `[internal] load build context`.
    pub context: Option<(u64, String)>,
}

impl Facts {
    /// True when the build read or wrote an inline cache.
    pub fn inline(&self) -> bool {
        self.inline_export.is_some()
    }

    /// True when every cache import this build tried worked (and it tried).
    pub fn imported(&self) -> bool {
        !self.imports.is_empty() && self.imports.iter().all(|i| i.error.is_none())
    }
}

/// Reads the facts of build `r`. `prelude` is the first line after the
/// previous build of the same log: an echoed command sits before its build.
pub(crate) fn read(logs: &[LogInput], r: BuildRef) -> Facts {
    let log = &logs[r.log];
    let build = &log.builds[r.build];
    let prelude = match r.build {
        0 => 1,
        n => log.builds[n - 1].lines.last + 1,
    };
    let mut facts = Facts::default();
    for v in build.internal.iter().filter(|v| v.name.starts_with(IMPORTING)) {
        let source = v.name[IMPORTING.len()..].trim().to_owned();
        let error = (v.status == VertexStatus::Error).then(|| v.error.clone().unwrap_or_default());
        facts.imports.push(Import { source, error, line: None });
    }
    if build.format == Format::Rawjson {
        rawjson_lines(&mut facts, log, build);
        return facts;
    }
    let mut in_context = false;
    for (n, line) in log.range(prelude, build.lines.last) {
        let lower = line.to_ascii_lowercase();
        if n < build.lines.first {
            command_line(&mut facts, n, &lower);
            continue;
        }
        status_line(&mut facts, n, line, &lower, &mut in_context);
    }
    if facts.export_unsupported.is_none() {
        // buildx prints the refusal after the build's last vertex.
        let next = log.builds.get(r.build + 1).map_or(u64::MAX, |b| b.lines.first);
        for (n, line) in log.range(build.lines.last + 1, next.saturating_sub(1)) {
            if facts.export_unsupported.is_none() && unsupported(&line.to_ascii_lowercase()) {
                facts.export_unsupported = Some(n);
            }
        }
    }
    facts
}

/// Rawjson holds the same facts inside JSON objects: only the lines of
/// cache imports and inline cache are located, by their quoted names.
fn rawjson_lines(facts: &mut Facts, log: &LogInput, build: &Build) {
    for (n, line) in log.range(build.lines.first, build.lines.last) {
        for import in facts.imports.iter_mut().filter(|i| i.line.is_none()) {
            let named = line.contains(&format!("\"name\":\"{IMPORTING}{}\"", import.source));
            if named && (import.error.is_none() || line.contains("\"error\"")) {
                import.line = Some(n);
            }
        }
        if line.contains("preparing layers for inline cache") {
            facts.inline_export.get_or_insert(n);
        }
        if line.contains("exporting cache to") {
            facts.remote_export.get_or_insert(n);
        }
    }
}

fn command_line(facts: &mut Facts, n: u64, lower: &str) {
    let is_build = lower.contains("docker build") || lower.contains("buildx build") || lower.contains("buildctl build");
    if is_build {
        facts.command = Some(n);
        facts.no_cache |= lower.split_whitespace().any(|w| w == "--no-cache" || w == "--no-cache=true");
        facts.mode_max |= lower.contains("mode=max");
        if lower.contains("buildkit_inline_cache=1") || lower.contains("type=inline") {
            facts.inline_export.get_or_insert(n);
        }
    }
    if unsupported(lower) {
        facts.export_unsupported.get_or_insert(n);
    }
}

fn status_line(facts: &mut Facts, n: u64, line: &str, lower: &str, in_context: &mut bool) {
    if lower.contains("preparing layers for inline cache") {
        facts.inline_export.get_or_insert(n);
    }
    // BuildKit 0.8 (Docker 20.10) writes inline metadata in a vertex of its own.
    if lower.contains("preparing build cache for export") && !lower.contains("to registry") {
        facts.inline_export.get_or_insert(n);
    }
    if lower.contains("exporting cache to") {
        facts.remote_export.get_or_insert(n);
    }
    if unsupported(lower) {
        facts.export_unsupported.get_or_insert(n);
    }
    if let Some(at) = line.find(IMPORTING) {
        let source = line[at + IMPORTING.len()..].trim().trim_end_matches(':').to_owned();
        note_import(facts, n, &source, lower.contains("error"));
    } else if lower.contains("error") && !facts.imports.is_empty() {
        // The error line of a failed import repeats its message.
        let failed = facts.imports.iter_mut().find(|i| {
            i.error.as_deref().is_some_and(|e| !e.is_empty() && line.contains(e)) && i.line.is_none_or(|l| l < n)
        });
        if let Some(i) = failed {
            i.line = Some(n);
        }
    }
    if let Some(rest) = lower.find("local cache import at ").map(|at| &line[at..]) {
        // buildx: `WARNING: local cache import at DIR not found due to err: ...`
        let source = rest.split_whitespace().nth(4).unwrap_or("").to_owned();
        facts.imports.push(Import { source, error: Some(line.trim().to_owned()), line: Some(n) });
    }
    if lower.contains("[internal] load build context") {
        *in_context = true;
    } else if *in_context && lower.contains("transferring context:") {
        let size = line.split("transferring context:").nth(1).unwrap_or("").trim().trim_end_matches("done").trim();
        facts.context = Some((n, size.to_owned()));
        *in_context = false;
    }
}

/// Records the line of an import named in the model, or a new one (tty
/// `ERROR importing cache manifest from X`, where the model may have none).
fn note_import(facts: &mut Facts, n: u64, source: &str, error: bool) {
    match facts.imports.iter_mut().find(|i| i.source == source) {
        Some(i) if i.line.is_none() || (error && i.error.is_some()) => {
            if i.line.is_none() {
                i.line = Some(n);
            }
        }
        Some(_) => {}
        None => facts.imports.push(Import {
            source: source.to_owned(),
            error: error.then(|| "the import failed".to_owned()),
            line: Some(n),
        }),
    }
}

/// True when a line outside any build explains a build that never ran.
pub(crate) fn says_why(line: &str) -> bool {
    unsupported(&line.to_ascii_lowercase())
}

fn unsupported(lower: &str) -> bool {
    EXPORT_UNSUPPORTED.iter().any(|m| lower.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use indoc::indoc;

    fn facts(text: &str) -> Facts {
        let logs = [LogInput::from_bytes("x.log", text.as_bytes()).unwrap()];
        read(&logs, BuildRef { log: 0, build: 0 })
    }

    #[test]
    fn a_missing_cache_from_image_is_found_with_its_error_line() {
        let f = facts(indoc! {"
            $ docker build --cache-from reg/hw:builder --build-arg BUILDKIT_INLINE_CACHE=1 .
            #0 building with \"default\" instance using docker driver

            #1 [internal] load build context
            #1 transferring context: 177B done
            #1 DONE 0.0s

            #5 importing cache manifest from reg/hw:builder
            #5 ERROR: failed to configure registry cache importer: reg/hw:builder: not found

            #6 [chef 2/2] WORKDIR /app
            #6 CACHED
            ------
             > importing cache manifest from reg/hw:builder:
            ------
        "});
        assert_eq!(f.imports.len(), 1, "{f:?}");
        let import = &f.imports[0];
        assert_eq!(import.source, "reg/hw:builder");
        assert!(import.missing());
        assert_eq!(import.line, Some(9));
        assert_eq!(f.command, Some(1));
        assert!(f.inline());
        assert_eq!(f.context, Some((5, "177B".to_owned())));
    }

    #[test]
    fn refused_cache_export_and_registry_export() {
        let f = facts(indoc! {"
            #1 [1/1] FROM alpine
            #1 DONE 0.0s
            ERROR: failed to build: Cache export is not supported for the docker driver.
        "});
        assert_eq!(f.export_unsupported, Some(3));
        let f = facts("#1 [1/1] FROM alpine\n#1 DONE 0.0s\n#2 exporting cache to registry\n#2 DONE 0.1s\n");
        assert_eq!(f.remote_export, Some(3));
        assert!(!f.inline());
    }
}
