//! BuildKit progress logs to Dockerfile steps and their outcomes.
//!
//! Reads `docker build --progress=plain` and `--progress=rawjson` output
//! (auto-detected line by line), cuts it into builds, and tells for every
//! Dockerfile step whether it was `cached`, fetched from a `remote` cache,
//! `executed`, failed, canceled or `absent`, with one line of evidence. It
//! is pure and synchronous and knows nothing of Docker, so the runner, the
//! reporters and `harness parse` share it, and its tests need no daemon.
//!
//! ```
//! let log = "#1 [builder 2/4] RUN cargo chef cook\n#1 CACHED\n";
//! let builds = harness::progress::parse_str(log).unwrap();
//! let cook = builds[0].step("cargo chef cook").unwrap();
//! assert!(cook.outcome.is_reused());
//! ```

mod absent;
mod buildah;
mod classify;
mod decor;
mod detect;
mod draft;
mod error;
mod kaniko;
mod legacy;
mod line;
mod model;
mod name;
mod parser;
mod plain;
mod rawjson;
mod tty;

pub use error::{ParseError, ParseErrorKind};
pub use model::{
    Build, Evidence, Format, Lines, Mark, Outcome, Step, UnknownFormat, UnknownOutcome, Vertex, VertexStatus,
};
pub use parser::{parse_path, parse_path_as, parse_reader, parse_reader_as, parse_reader_named, parse_str, Parser};
