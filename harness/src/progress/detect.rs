//! Which format a line belongs to, and the readers of the line-oriented
//! formats other than plain and rawjson (tty, legacy, Buildah, Kaniko).
//!
//! Detection works line by line, as plain and rawjson always did, so one
//! log may hold builds of several formats (a CI job that builds with
//! BuildKit, then with Kaniko). A line gets a format only from a signature
//! no other format prints (`[+] Building`, ` => `, `Step 3/7 : `,
//! `STEP 2/7: `, `INFO[0003] `); other lines (process output, error
//! summaries) stay with the build being read. `--format` skips detection.

use super::draft::BuildDraft;
use super::model::Format;
use super::{buildah, kaniko, legacy, plain, tty};

/// The format a line's signature names, if any.
pub(crate) fn signature(text: &str) -> Option<Format> {
    match text.as_bytes().first()? {
        b'#' if plain::split_vertex_line(text).is_some() => Some(Format::Plain),
        b'{' => Some(Format::Rawjson),
        _ if tty::is_tty_line(text) => Some(Format::Tty),
        _ if legacy::is_legacy_line(text) => Some(Format::Legacy),
        _ if buildah::is_buildah_line(text) => Some(Format::Buildah),
        _ if kaniko::is_kaniko_line(text) => Some(Format::Kaniko),
        _ => None,
    }
}

/// What a reader did with a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The line belongs to the build.
    Used,
    /// The line means nothing to this format (CI noise).
    Unused,
    /// The line starts another build: finish this one and feed it again.
    NewBuild,
}

/// The per-build state of a line-oriented reader.
#[derive(Debug, Clone)]
pub(crate) enum Reader {
    Tty(tty::Tty),
    Legacy(legacy::Legacy),
    Buildah(buildah::Buildah),
    Kaniko(kaniko::Kaniko),
}

impl Reader {
    /// A fresh reader for `format`; `None` for plain and rawjson, which the
    /// parser reads itself.
    pub(crate) fn new(format: Format) -> Option<Self> {
        match format {
            Format::Tty => Some(Reader::Tty(tty::Tty::default())),
            Format::Legacy => Some(Reader::Legacy(legacy::Legacy::default())),
            Format::Buildah => Some(Reader::Buildah(buildah::Buildah::default())),
            Format::Kaniko => Some(Reader::Kaniko(kaniko::Kaniko::default())),
            Format::Plain | Format::Rawjson => None,
        }
    }

    pub(crate) fn line(&mut self, draft: &mut BuildDraft, text: &str, line: u64) -> Verdict {
        match self {
            Reader::Tty(r) => r.line(draft, text, line),
            Reader::Legacy(r) => r.line(draft, text, line),
            Reader::Buildah(r) => r.line(draft, text, line),
            Reader::Kaniko(r) => r.line(draft, text, line),
        }
    }

    /// Settles what the last lines left open (a step with no result yet
    /// whose successor started).
    pub(crate) fn finish(&mut self, draft: &mut BuildDraft) {
        match self {
            Reader::Tty(_) => {}
            Reader::Legacy(r) => r.finish(draft),
            Reader::Buildah(r) => r.finish(draft),
            Reader::Kaniko(r) => r.finish(draft),
        }
    }

    /// True while a step's process output is being read: any line then is
    /// output, whatever it looks like.
    pub(crate) fn in_output(&self) -> bool {
        match self {
            Reader::Tty(_) => false,
            Reader::Legacy(r) => r.in_output(),
            Reader::Buildah(r) => r.in_output(),
            Reader::Kaniko(r) => r.in_output(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("#5 [2/4] RUN x", Some(Format::Plain))]
    #[case("{\"vertexes\":[]}", Some(Format::Rawjson))]
    #[case("[+] Building 10.0s (17/17) FINISHED", Some(Format::Tty))]
    #[case(" => CACHED [chef 2/3] RUN cargo install cargo-chef   0.0s", Some(Format::Tty))]
    #[case("Step 3/7 : RUN make", Some(Format::Legacy))]
    #[case(" ---> Using cache", Some(Format::Legacy))]
    #[case("STEP 2/7: COPY . .", Some(Format::Buildah))]
    #[case("[1/2] STEP 2/7: COPY . .", Some(Format::Buildah))]
    #[case("--> Using cache 9e671982f175dea422a5dfc7222e1b5ff282f98acf4515c86e801d3a1734e396", Some(Format::Buildah))]
    #[case("INFO[0003] Using caching version of cmd: RUN make", Some(Format::Kaniko))]
    #[case("   Compiling tokio v1.35.1", None)]
    #[case("------", None)]
    fn signatures(#[case] line: &str, #[case] want: Option<Format>) {
        assert_eq!(signature(line), want);
    }
}
