//! Decorations that CI systems and web pages add in front of each log
//! line, stripped before any format reader sees the line:
//!
//! - RFC 3339 timestamps (GitHub Actions, `docker logs -t`, Gitea and act
//!   runners), also in brackets (`[2024-01-02T03:04:05.123Z]`, Jenkins);
//! - GitLab's stream marker after its timestamp (`00O `, `01E+`), and its
//!   `section_start:…`/`section_end:…` markers (whole lines of noise);
//! - a line number glued to the line by a copy from a web page
//!   (`12#5 [2/4] RUN …`, `7 => CACHED …`, `3Step 2/5 : …`), and 9 or more
//!   digit epoch prefixes (`1700000000 #5 …`, `123456789 #5 …`);
//! - act's `[workflow/job]   | ` prefix and Buildkite's `_bk;t=…` stamp;
//! - `remote: ` (deploys through `git push`).
//!
//! A digit prefix is removed only when what follows starts like a log line
//! of some format, so output such as `10 files changed` stays intact.
//! GitHub's `##[group]`/`##[endgroup]` lines are noise too. Masked secrets
//! (`***`) are left as they are: they only ever replace text inside a line.

/// Strips every known decoration from the start of `line`; returns `None`
/// for a line that is only a CI marker.
pub(crate) fn strip(line: &str) -> Option<&str> {
    let mut s = line;
    // Decorations nest (a timestamp, then `remote: `); a few passes suffice.
    for _ in 0..4 {
        let before = s.len();
        s = strip_once(s);
        if s.len() == before {
            break;
        }
    }
    if is_marker(s) {
        return None;
    }
    Some(s)
}

fn strip_once(s: &str) -> &str {
    if let Some(rest) = s.strip_prefix("remote: ") {
        return rest;
    }
    if s == "remote:" {
        return "";
    }
    if let Some(rest) = s.strip_prefix("_bk;t=") {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let rest = &rest[digits..];
        return rest.strip_prefix('\x07').unwrap_or(rest);
    }
    let n = iso_timestamp_len(s);
    if n > 0 {
        return gitlab_stream(&s[n..]);
    }
    if let Some(rest) = s.strip_prefix('[') {
        if let Some(close) = rest.find(']') {
            let inner = &rest[..close];
            let after = &rest[close + 1..];
            if iso_timestamp_len(&format!("{inner} ")) > 0 {
                return after.strip_prefix(' ').unwrap_or(after);
            }
            if let Some(bar) = act_bar(inner, after) {
                return bar;
            }
        }
    }
    strip_digits(s)
}

/// act: `[CI/build]   | text`.
fn act_bar<'a>(inner: &str, after: &'a str) -> Option<&'a str> {
    if !inner.contains('/') || inner.len() > 200 {
        return None;
    }
    let t = after.trim_start_matches(' ');
    let rest = t.strip_prefix('|')?;
    Some(rest.strip_prefix(' ').unwrap_or(rest))
}

/// GitLab 17 timestamps are followed by a stream id and an append flag.
fn gitlab_stream(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 3 && b[0].is_ascii_digit() && b[1].is_ascii_digit() && matches!(b[2], b'O' | b'E') {
        let rest = &s[3..];
        let rest = rest.strip_prefix('+').unwrap_or(rest);
        if rest.is_empty() || rest.starts_with(' ') {
            return rest.strip_prefix(' ').unwrap_or(rest);
        }
    }
    s
}

/// A line number or epoch glued in front of a recognisable log line.
fn strip_digits(s: &str) -> &str {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return s;
    }
    // A line number glued to a timestamp (`12026-11-24T09:10:00Z`): the
    // year is the timestamp's last four digits.
    if (5..=11).contains(&digits) && iso_timestamp_len(&s[digits - 4..]) > 0 {
        return &s[digits - 4..];
    }
    let rest = &s[digits..];
    let spaced = rest.trim_start_matches([' ', '\t']);
    if spaced.len() < rest.len() && iso_timestamp_len(spaced) > 0 {
        return spaced;
    }
    if digits >= 9 && spaced.len() < rest.len() {
        // An epoch stamp: any text may follow.
        return spaced;
    }
    if digits > 7 {
        return s;
    }
    if starts_like_a_log_line(rest) {
        return rest;
    }
    if spaced.len() < rest.len() && starts_like_a_log_line(spaced) {
        return spaced;
    }
    s
}

/// The start of a line of any format this parser reads.
fn starts_like_a_log_line(s: &str) -> bool {
    let vertex = s.strip_prefix('#').is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()));
    vertex
        || s.starts_with("[+] Building")
        || s.starts_with(" => ")
        || s.starts_with("=> ")
        || s.starts_with("Step ")
        || s.starts_with(" ---> ")
        || s.starts_with("STEP ")
        || s.starts_with("--> ")
        || s.starts_with("INFO[")
        || s.starts_with("ERROR")
        || s.starts_with("------")
        || s.starts_with(" > [")
}

/// Length of a leading RFC 3339 timestamp plus its space, as GitHub Actions
/// and `docker logs -t` prefix each line; 0 when there is none.
pub(crate) fn iso_timestamp_len(s: &str) -> usize {
    let b = s.as_bytes();
    let looks_like_date = b.len() > 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':';
    if !looks_like_date {
        return 0;
    }
    match memchr::memchr(b' ', b) {
        Some(sp) if (19..=40).contains(&sp) && (b[sp - 1] == b'Z' || b[sp - 6] == b'+' || b[sp - 6] == b'-') => sp + 1,
        _ => 0,
    }
}

/// Whole lines that only structure a CI page.
fn is_marker(s: &str) -> bool {
    s.starts_with("section_start:")
        || s.starts_with("section_end:")
        || s.starts_with("##[group]")
        || s.starts_with("##[endgroup]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("2024-01-02T03:04:05.1234567Z #4 CACHED", "#4 CACHED")]
    #[case("2024-01-02T03:04:05+02:00 #4 CACHED", "#4 CACHED")]
    #[case("2024-05-07T08:46:19.123456Z 00O #5 DONE 0.1s", "#5 DONE 0.1s")]
    #[case("2024-05-07T08:46:19.123456Z 01E+ #5 DONE 0.1s", "#5 DONE 0.1s")]
    #[case("[2024-01-02T03:04:05.123Z] Step 2/5 : RUN x", "Step 2/5 : RUN x")]
    #[case("12#5 [2/4] RUN make", "#5 [2/4] RUN make")]
    #[case("7 => CACHED [2/3] RUN x  0.0s", " => CACHED [2/3] RUN x  0.0s")]
    #[case("3Step 2/5 : RUN x", "Step 2/5 : RUN x")]
    #[case("123456789 #5 [2/4] RUN make", "#5 [2/4] RUN make")]
    #[case("1700000000123 anything", "anything")]
    #[case("remote: #5 CACHED", "#5 CACHED")]
    #[case("remote: 2024-01-02T03:04:05Z #5 CACHED", "#5 CACHED")]
    #[case("[CI/build]   | #5 CACHED", "#5 CACHED")]
    #[case("_bk;t=1700000000000\x07#5 CACHED", "#5 CACHED")]
    #[case("10 files changed", "10 files changed")]
    #[case("12026-11-24T09:10:00.1234567Z #5 CACHED", "#5 CACHED")]
    #[case("3 2026-11-24T09:10:00Z #5 CACHED", "#5 CACHED")]
    #[case("2024-01-02 is a date", "2024-01-02 is a date")]
    #[case("[builder 2/4] RUN x", "[builder 2/4] RUN x")]
    #[case("#5 0.123 12 warnings", "#5 0.123 12 warnings")]
    fn strips_decorations(#[case] line: &str, #[case] want: &str) {
        assert_eq!(strip(line), Some(want));
    }

    #[test]
    fn ci_markers_are_noise() {
        assert_eq!(strip("section_start:1700000000:build_script[collapsed=true]"), None);
        assert_eq!(strip("2024-01-02T03:04:05Z ##[group]Run docker build ."), None);
    }
}
