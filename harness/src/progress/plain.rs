//! `--progress=plain`: every line is `#N text`, where vertex `#N`'s first
//! line is its name and later lines are results (`DONE 1.2s`, `CACHED`,
//! `ERROR: ...`, `CANCELED`), process output (`0.123 text`), layer
//! transfer and extraction (`sha256:... 1MB / 2MB`, `extracting sha256:`),
//! warnings (`WARN:`) or other statuses. The 20.10 client adds a
//! `#N sha256:<digest>` line after each header; newer ones start with
//! `#0 building with ...`. Headers repeat whenever output from several
//! vertices interleaves, so a vertex may report several results.

use super::draft::{BuildDraft, VertexDraft};
use super::model::Mark;

/// What one `#N` line says about its vertex.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Said<'a> {
    Mark(Mark),
    /// 20.10: `#N sha256:<digest>` right after the header.
    Digest(&'a str),
    Warn(&'a str),
    /// `#N ...`: output paused while another vertex prints.
    Paused,
    /// `#N 0.123 text`: one line of process output.
    Output(&'a str),
    /// `#N sha256:<layer> 12MB / 30MB 0.4s`.
    Pulled(&'a str),
    /// `#N extracting sha256:<layer> 0.8s done`.
    Extracted(&'a str),
    /// A header (the vertex's name) or a status line.
    Text(&'a str),
}

/// Splits `#N rest` into `N` and `rest`.
pub(crate) fn split_vertex_line(text: &str) -> Option<(u32, &str)> {
    let rest = text.strip_prefix('#')?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 9 {
        return None;
    }
    let number = rest[..digits].parse().ok()?;
    match &rest[digits..] {
        "" => Some((number, "")),
        tail => tail.strip_prefix(' ').map(|t| (number, t)),
    }
}

/// Reads what a vertex line says.
pub(crate) fn read(rest: &str) -> Said<'_> {
    let Some(&first) = rest.as_bytes().first() else {
        return Said::Text(rest);
    };
    if first.is_ascii_digit() {
        if let Some(text) = strip_log_timestamp(rest) {
            return Said::Output(text);
        }
    }
    match first {
        b'D' => {
            if rest == "DONE" {
                return Said::Mark(Mark::Done { seconds: None });
            }
            if let Some(d) = rest.strip_prefix("DONE ") {
                if let Some(seconds) = parse_seconds(d) {
                    return Said::Mark(Mark::Done { seconds: Some(seconds) });
                }
            }
        }
        b'C' if rest == "CACHED" => return Said::Mark(Mark::Cached),
        b'C' if rest == "CANCELED" || rest == "CANCELLED" => return Said::Mark(Mark::Canceled),
        b'E' => {
            if let Some(m) = rest.strip_prefix("ERROR:").or_else(|| rest.strip_prefix("ERROR ")) {
                return Said::Mark(Mark::Error { message: super::draft::bounded(m.trim()).to_owned() });
            }
            if rest == "ERROR" {
                return Said::Mark(Mark::Error { message: String::new() });
            }
        }
        b'W' => {
            if let Some(m) = rest.strip_prefix("WARN:").or_else(|| rest.strip_prefix("WARNING:")) {
                return Said::Warn(m.trim());
            }
        }
        b'.' if rest == "..." => return Said::Paused,
        b's' => {
            if let Some(hex) = rest.strip_prefix("sha256:") {
                let len = hex.bytes().take_while(u8::is_ascii_hexdigit).count();
                if len == 64 {
                    let digest = &rest[..7 + 64];
                    return if hex.len() == 64 { Said::Digest(digest) } else { Said::Pulled(digest) };
                }
            }
        }
        b'p' => {
            // BuildKit 0.8 pulls a remote cache hit's layers before `CACHED`.
            if let Some(tail) = rest.strip_prefix("pulling ") {
                if let Some(hex) = tail.strip_prefix("sha256:") {
                    let len = hex.bytes().take_while(u8::is_ascii_hexdigit).count();
                    if len >= 12 {
                        return Said::Pulled(&tail[..7 + len]);
                    }
                }
            }
        }
        b'e' => {
            if let Some(tail) = rest.strip_prefix("extracting ") {
                if let Some(hex) = tail.strip_prefix("sha256:") {
                    let len = hex.bytes().take_while(u8::is_ascii_hexdigit).count();
                    if len >= 12 {
                        return Said::Extracted(&tail[..7 + len]);
                    }
                }
            }
        }
        _ => {}
    }
    Said::Text(rest)
}

/// `0.202 text`, `10.33 text`, `123.4 text`: BuildKit stamps each output
/// line with the seconds since the vertex started.
fn strip_log_timestamp(rest: &str) -> Option<&str> {
    let b = rest.as_bytes();
    let int = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if int == 0 || b.get(int) != Some(&b'.') {
        return None;
    }
    let frac = b[int + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if frac == 0 {
        return None;
    }
    let end = int + 1 + frac;
    match b.get(end) {
        None => Some(""),
        Some(b' ') => Some(&rest[end + 1..]),
        _ => None,
    }
}

/// `0.0s`, `27.2s`.
fn parse_seconds(s: &str) -> Option<f64> {
    let n = s.trim().strip_suffix('s')?;
    let v: f64 = n.parse().ok()?;
    v.is_finite().then_some(v)
}

/// True when `#1 rest` opens a new build: vertex #1 already finished and
/// later vertices followed, so BuildKit is numbering from 1 again.
pub(crate) fn starts_new_build(draft: &mut BuildDraft, number: u32, rest: &str) -> bool {
    if number != 1 || draft.max_number() < 2 {
        return false;
    }
    let Some(i) = draft.find(1) else { return false };
    let first = &draft.vertices[i];
    let header = matches!(read(rest), Said::Text(t) if t == first.name || t.starts_with('['));
    header && !first.open && !first.marks.is_empty()
}

/// Applies one `#N rest` line to the build.
pub(crate) fn apply(draft: &mut BuildDraft, number: u32, rest: &str, line: u64) {
    draft.touch(line);
    let said = read(rest);
    let i = match draft.find(number) {
        Some(i) => i,
        None => {
            // First line of a vertex: its header. When the log starts in
            // the middle of a vertex, the first line may be anything else.
            let name = match said {
                Said::Text(t) => t,
                _ => "",
            };
            let i = draft.add(VertexDraft::new(number, name, line));
            draft.vertices[i].open = true;
            if name.is_empty() {
                apply_said(draft, i, said);
            }
            return;
        }
    };
    draft.vertices[i].touch(line);
    apply_said(draft, i, said);
}

fn apply_said(draft: &mut BuildDraft, i: usize, said: Said<'_>) {
    let v = &mut draft.vertices[i];
    match said {
        Said::Mark(mark) => v.push_mark(mark),
        Said::Digest(d) => {
            v.digest = Some(d.to_owned());
            v.open = true;
        }
        Said::Warn(w) => {
            v.warn(w);
            draft.warn(w);
        }
        Said::Paused => v.open = true,
        Said::Output(text) => {
            v.push_output(text);
            v.open = true;
        }
        Said::Pulled(d) => {
            v.pull_layer(d);
            v.open = true;
        }
        Said::Extracted(d) => {
            v.extract_layer(d);
            v.open = true;
        }
        Said::Text(t) => {
            v.open = true;
            if v.name.is_empty() {
                v.name = super::draft::bounded(t).to_owned();
                draft.note_stage(t);
            } else if t != v.name {
                v.status_lines += 1;
            }
        }
    }
}

/// A `#0` line that is not a build header: docker compose prints the
/// output of the step that is running as `#0 0.640 text`. It goes to the
/// vertex the log spoke of last; other `#0` lines are only noted.
pub(crate) fn apply_to_running(draft: &mut BuildDraft, rest: &str, line: u64) {
    let Said::Output(text) = read(rest) else { return };
    if let Some(i) = draft.last_vertex() {
        let v = &mut draft.vertices[i];
        v.push_output(text);
        v.touch(line);
    }
}

/// `building with "default" instance using docker driver` from `#0`.
pub(crate) fn builder_of(rest: &str) -> Option<&str> {
    rest.strip_prefix("building with ").map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("#11 DONE 27.2s", Some((11, "DONE 27.2s")))]
    #[case("#0 building with \"default\"", Some((0, "building with \"default\"")))]
    #[case("#7", Some((7, "")))]
    #[case("#7x", None)]
    #[case("# 7 x", None)]
    #[case("#12345678901 x", None)]
    #[case("no", None)]
    fn splits_vertex_lines(#[case] line: &str, #[case] want: Option<(u32, &str)>) {
        assert_eq!(split_vertex_line(line), want);
    }

    const DIGEST: &str = "sha256:9addb4c7f3afa99b03f24f9e05cb87d274a63ae9ba30c94f02c75e85d133e9de";

    #[test]
    fn reads_every_kind_of_vertex_line() {
        assert_eq!(read("DONE 27.2s"), Said::Mark(Mark::Done { seconds: Some(27.2) }));
        assert_eq!(read("DONE"), Said::Mark(Mark::Done { seconds: None }));
        assert_eq!(read("CACHED"), Said::Mark(Mark::Cached));
        assert_eq!(read("CANCELED"), Said::Mark(Mark::Canceled));
        assert_eq!(read("ERROR: exit code: 3"), Said::Mark(Mark::Error { message: "exit code: 3".into() }));
        assert_eq!(read("WARN: FromAsCasing: x"), Said::Warn("FromAsCasing: x"));
        assert_eq!(read("..."), Said::Paused);
        assert_eq!(read("0.202 warning: x"), Said::Output("warning: x"));
        assert_eq!(read("10.33    Compiling tokio"), Said::Output("   Compiling tokio"));
        assert_eq!(read("123.4 "), Said::Output(""));
        assert_eq!(read("0.202"), Said::Output(""));
        assert_eq!(read(DIGEST), Said::Digest(DIGEST));
        assert_eq!(read(&format!("{DIGEST} 29B / 29B 0.0s done")), Said::Pulled(DIGEST));
        assert_eq!(read(&format!("extracting {DIGEST} 0.8s done")), Said::Extracted(DIGEST));
        assert_eq!(read("transferring context: 34B done"), Said::Text("transferring context: 34B done"));
        assert_eq!(read("DONE soon"), Said::Text("DONE soon"));
        assert_eq!(read("1.x"), Said::Text("1.x"));
        assert_eq!(read("sha256:abc"), Said::Text("sha256:abc"));
        assert_eq!(read(&format!("pulling {DIGEST}")), Said::Pulled(DIGEST));
        assert_eq!(read(&format!("pulling {DIGEST} 2.3s done")), Said::Pulled(DIGEST));
    }
}
