//! What the team knows about each [`Pattern`]: its title, why it happens,
//! the fix and where to read more. Kept in one table so the text report and
//! the JSON say the same thing, and so a new pattern is one entry here.

use super::model::{Pattern, Severity};

/// The fixed text of one pattern.
pub(crate) struct Entry {
    pub title: &'static str,
    pub severity: Severity,
    pub explanation: &'static str,
    pub fix: &'static str,
    pub links: &'static [&'static str],
}

const BUILDKIT_2274: &str = "https://github.com/moby/buildkit/issues/2274";
const BUILDKIT_7146: &str = "https://github.com/moby/buildkit/issues/7146";
const BUILDKIT_7139: &str = "https://github.com/moby/buildkit/pull/7139";
const CACHE_BACKENDS: &str = "https://docs.docker.com/build/cache/backends/";
const INVALIDATION: &str = "https://docs.docker.com/build/cache/invalidation/";

/// The entry for a pattern.
pub(crate) fn entry(pattern: Pattern) -> Entry {
    match pattern {
        Pattern::InlineCacheAlternation => Entry {
            title: "inline cache alternates between hit and miss",
            severity: Severity::Problem,
            explanation: "A build that reuses steps from an inline cache (`BUILDKIT_INLINE_CACHE=1` or \
                `--cache-to type=inline`) exports truncated cache metadata into the image it pushes, so the next \
                build that imports that image misses from the first lost step on, runs it, and exports complete \
                metadata again: hit and miss alternate job by job. The defect is in BuildKit's \
                `cache/remotecache/v1` (#7146); the fix (PR #7139) is in no released BuildKit or Docker Engine yet.",
            fix: "Move off inline cache: export a registry cache with `docker buildx build --cache-to \
                type=registry,ref=IMAGE:cache,mode=max --cache-from type=registry,ref=IMAGE:cache` (the docker \
                driver needs the containerd image store for that, or use a `docker-container` builder). Until \
                then, expect every other job to rebuild.",
            links: &[BUILDKIT_2274, BUILDKIT_7146, BUILDKIT_7139],
        },
        Pattern::IntermediateStage => Entry {
            title: "an intermediate stage runs on every build under inline cache",
            severity: Severity::Problem,
            explanation: "Inline cache (and a registry cache in the default `mode=min`) records only the layers \
                of the final stage's image. Steps of the other stages (a planner, a toolchain stage) have no \
                record in the imported cache, so a fresh daemon runs them every time although nothing they \
                depend on changed.",
            fix: "Export every stage: `--cache-to type=registry,ref=IMAGE:cache,mode=max` with the matching \
                `--cache-from`; or build and push each intermediate stage as its own image (`--target STAGE`) and \
                list all of them in `--cache-from`.",
            links: &["https://docs.docker.com/build/cache/backends/#cache-mode", CACHE_BACKENDS],
        },
        Pattern::CacheExportUnsupported => Entry {
            title: "cache export is not supported on the docker driver",
            severity: Severity::Problem,
            explanation: "With the default `docker` driver and the classic image store, buildx can only write \
                an inline cache; `--cache-to type=registry|gha|local` fails (or, in older buildx, the whole \
                build fails), so the next build has nothing to import.",
            fix: "Turn on the containerd image store (`\"features\": {\"containerd-snapshotter\": true}` in \
                daemon.json; the default on fresh Docker 29 installs), or create a builder with \
                `docker buildx create --driver docker-container --use`, or fall back to inline cache.",
            links: &["https://docs.docker.com/go/build-cache-backends/", "https://github.com/docker/buildx/issues/701"],
        },
        Pattern::CacheImportFailed => Entry {
            title: "a cache import failed",
            severity: Severity::Problem,
            explanation: "BuildKit could not read a `--cache-from` source (authentication, TLS, network, a \
                manifest of the wrong kind). The failure is not fatal: the build goes on without that cache, \
                so every step the cache would have covered runs.",
            fix: "Read the error on the cited line: log in to the registry before the build, trust its CA, or \
                point `--cache-from` at the ref the previous job exported to.",
            links: &[CACHE_BACKENDS, "https://github.com/docker/buildx/issues/1090"],
        },
        Pattern::CacheFromMissing => Entry {
            title: "a --cache-from image or cache ref does not exist",
            severity: Severity::Problem,
            explanation: "The ref given to `--cache-from` was not found in the registry. On a pipeline's very \
                first run that is expected; later it means the previous job did not push it (a failed push, \
                another tag, or no `--cache-to`/inline cache on the image it pushed).",
            fix: "Push the image (or `--cache-to` the cache ref) in every job, and import exactly that ref; with \
                inline cache the pushed image must be built with `BUILDKIT_INLINE_CACHE=1`.",
            links: &[CACHE_BACKENDS, "https://docs.docker.com/build/cache/backends/inline/"],
        },
        Pattern::CacheMountCopy => Entry {
            title: "COPY from a path inside a cache mount",
            severity: Severity::Problem,
            explanation: "A cache mount exists only while its `RUN` runs; it is not part of the stage's image. \
                `COPY --from=STAGE` of a path under the mount's target reads the stage's image instead: the path \
                is missing, or holds a stale file that came in with the build context (a host `target/` that \
                is not ignored), and that COPY stays CACHED while the RUN rebuilds.",
            fix: "Copy the artefact out of the mount in the same RUN (`cargo build --release && cp \
                target/release/APP /usr/local/bin/`) and `COPY --from` that path; ignore build output \
                directories in `.dockerignore`.",
            links: &[
                "https://docs.docker.com/build/cache/optimize/#use-cache-mounts",
                "https://github.com/docker/buildx/issues/788",
            ],
        },
        Pattern::NoCache => Entry {
            title: "the build ran with --no-cache",
            severity: Severity::Problem,
            explanation: "`--no-cache` tells BuildKit to run every step, whatever the cache holds.",
            fix: "Drop `--no-cache` from the build command (use `--no-cache-filter STAGE` to rebuild one stage).",
            links: &["https://docs.docker.com/reference/cli/docker/buildx/build/#no-cache"],
        },
        Pattern::DependenciesChanged => Entry {
            title: "the dependencies really changed",
            severity: Severity::Expected,
            explanation: "A lockfile, manifest or recipe that the step depends on changed, so its cache key \
                changed and the step had to run: the cache works as designed.",
            fix: "Nothing to fix. To keep such misses rare, copy only the dependency files before the install \
                step (cargo-chef's recipe, a lockfile) and the sources after it.",
            links: &[INVALIDATION],
        },
        Pattern::BaseImageChanged => Entry {
            title: "a base image resolved to another digest",
            severity: Severity::Expected,
            explanation: "`FROM` resolved to a new digest (the tag moved, or `--pull`), so every step of that \
                stage has a new cache key.",
            fix: "Pin the base image by digest (`FROM IMAGE:TAG@sha256:...`) and update it on purpose.",
            links: &[INVALIDATION],
        },
        Pattern::InstructionChanged => Entry {
            title: "an instruction changed (a build argument or the Dockerfile)",
            severity: Severity::Expected,
            explanation: "The step's instruction as BuildKit printed it differs from the previous build: a \
                build argument or ENV value it expands changed, or the Dockerfile was edited. A new \
                instruction is a new cache key.",
            fix: "Keep build arguments that change every run (a commit, a date) out of early steps: declare the \
                `ARG` just before the step that needs it.",
            links: &[INVALIDATION, "https://docs.docker.com/build/building/variables/#scoping"],
        },
        Pattern::ContextChanged => Entry {
            title: "the build context changed",
            severity: Severity::Expected,
            explanation: "A COPY or ADD from the build context copies files that changed (a source edit), so it \
                and every later step of its stage run again.",
            fix: "Nothing to fix when the sources changed. Copy only what each step needs, and list build output \
                and VCS folders in `.dockerignore` so they do not change the context.",
            links: &[INVALIDATION, "https://docs.docker.com/build/concepts/context/#dockerignore-files"],
        },
        Pattern::RemoteHitAsDone => Entry {
            title: "remote-cache hits printed as DONE",
            severity: Severity::Notice,
            explanation: "With a registry (or other remote) cache, a step whose layer is downloaded from the \
                cache prints layer download and extract lines and `DONE`, not `CACHED`, and no process output. \
                It did not run: reading only the CACHED marker counts it as a miss.",
            fix: "Nothing to fix: the cache works. Judge such steps by their lack of process output, or compare \
                the step's layer digest with the previous build's.",
            links: &["https://docs.docker.com/build/cache/backends/registry/"],
        },
        Pattern::Unknown => Entry {
            title: "a miss no known pattern explains",
            severity: Severity::Problem,
            explanation: "The step ran although the logs show no change that explains it. The evidence lists \
                the first step that missed and what differed before it.",
            fix: "Compare the two builds' inputs the logs do not show: files the step copies, build arguments, \
                the daemon's cache (pruned, a fresh daemon without `--cache-from`).",
            links: &[INVALIDATION],
        },
    }
}
