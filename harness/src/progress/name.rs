//! Reading a vertex name: `[linux/amd64 builder  2/10] RUN cargo build`
//! is a Dockerfile step (platform, stage, index, total, instruction);
//! `[internal] load build context`, `[auth] ...`, `exporting to image` and
//! the like are BuildKit's own work. Both parsers share this, so a step is a
//! step whichever format it came from.

/// The parts of a Dockerfile step's vertex name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StepName<'a> {
    pub(crate) platform: Option<&'a str>,
    pub(crate) stage: Option<&'a str>,
    pub(crate) index: u32,
    /// `None` for `[stage i/?]`: Kaniko and old Buildah print no total.
    pub(crate) total: Option<u32>,
    pub(crate) instruction: &'a str,
}

/// Parses a Dockerfile step name; `None` for any other vertex.
pub(crate) fn parse_step_name<'a>(name: &'a str) -> Option<StepName<'a>> {
    let inner_and_rest = name.strip_prefix('[')?;
    let close = inner_and_rest.find(']')?;
    let inner = &inner_and_rest[..close];
    let instruction = inner_and_rest[close + 1..].trim();
    let mut words: Vec<&str> = inner.split_whitespace().collect();
    let (index, total) = parse_fraction(words.pop()?)?;
    if index == 0 || total.is_some_and(|t| t == 0 || index > t) {
        return None;
    }
    // docker compose puts the service before the stage (`[web builder 2/4]`):
    // the two words together name the stage.
    let joined = |a: &str, b: &str| -> &'a str { span(inner, a, b) };
    let (platform, stage) = match words.as_slice() {
        [] => (None, None),
        [one] if one.contains('/') => (Some(*one), None),
        [one] => (None, Some(*one)),
        [platform, stage] if platform.contains('/') => (Some(*platform), Some(*stage)),
        [service, stage] => (None, Some(joined(service, stage))),
        [platform, service, stage] if platform.contains('/') => (Some(*platform), Some(joined(service, stage))),
        _ => return None,
    };
    Some(StepName { platform, stage, index, total, instruction })
}

/// The slice of `inner` from the start of `a` to the end of `b` (both are
/// slices of it).
fn span<'a>(inner: &'a str, a: &str, b: &str) -> &'a str {
    let start = a.as_ptr() as usize - inner.as_ptr() as usize;
    let end = b.as_ptr() as usize - inner.as_ptr() as usize + b.len();
    &inner[start..end]
}

fn parse_fraction(word: &str) -> Option<(u32, Option<u32>)> {
    let (a, b) = word.split_once('/')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if !digits(a) || !(b == "?" || digits(b)) {
        return None;
    }
    let total = if b == "?" { None } else { Some(b.parse().ok()?) };
    Some((a.parse().ok()?, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("[builder 2/4] RUN cargo chef cook", None, Some("builder"), 2, 4, "RUN cargo chef cook")]
    #[case("[builder  2/10] COPY . .", None, Some("builder"), 2, 10, "COPY . .")]
    #[case("[2/3] RUN make", None, None, 2, 3, "RUN make")]
    #[case("[stage-1 1/1] COPY --from=b /x /y", None, Some("stage-1"), 1, 1, "COPY --from=b /x /y")]
    #[case("[linux/amd64 builder 1/2] FROM x", Some("linux/amd64"), Some("builder"), 1, 2, "FROM x")]
    #[case("[linux/arm/v7 3/3] RUN x", Some("linux/arm/v7"), None, 3, 3, "RUN x")]
    #[case("[web builder 2/4] RUN x", None, Some("web builder"), 2, 4, "RUN x")]
    fn reads_step_names(
        #[case] name: &str,
        #[case] platform: Option<&str>,
        #[case] stage: Option<&str>,
        #[case] index: u32,
        #[case] total: u32,
        #[case] instruction: &str,
    ) {
        let got = parse_step_name(name).unwrap();
        assert_eq!(got, StepName { platform, stage, index, total: Some(total), instruction });
    }

    #[test]
    fn a_step_without_a_total_reads() {
        let got = parse_step_name("[stage-0 3/?] RUN make").unwrap();
        assert_eq!((got.stage, got.index, got.total, got.instruction), (Some("stage-0"), 3, None, "RUN make"));
    }

    #[rstest]
    #[case("[internal] load build context")]
    #[case("[linux/amd64 internal] load metadata for docker.io/library/rust:1")]
    #[case("[auth] library/rust:pull token for registry-1.docker.io")]
    #[case("exporting to image")]
    #[case("importing cache manifest from registry:5000/hw:builder")]
    #[case("[builder 0/4] RUN x")]
    #[case("[builder 5/4] RUN x")]
    #[case("[a b c 1/2] RUN x")]
    #[case("[web internal] load build definition from Dockerfile")]
    #[case("[builder 1/x] RUN x")]
    #[case("[builder 1/2 RUN x")]
    #[case("")]
    fn other_vertices_are_not_steps(#[case] name: &str) {
        assert_eq!(parse_step_name(name), None);
    }
}
