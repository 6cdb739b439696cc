//! Reading a log line by line and cleaning each line before the parsers see
//! it. Logs come from terminals and CI systems: CRLF endings, ANSI colour,
//! `\r` progress redraws, and now and then a line of
//! binary junk or one enormous line. This module bounds memory (a line is
//! cut at [`MAX_LINE`] bytes) and hands out `&str`s without copying when the
//! line is already clean, which is what keeps parsing fast.

use std::borrow::Cow;
use std::io::{self, BufRead};

/// Longest line kept; the rest of a longer line is skipped. Real progress
/// lines are short; pretty-printed rawjson keeps each line short too.
pub(crate) const MAX_LINE: usize = 64 * 1024;

/// Reads `\n`-terminated lines from a [`BufRead`], without growing past
/// [`MAX_LINE`] per line.
pub(crate) struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// 1-based number of the line last returned.
    pub(crate) number: u64,
    /// Total bytes consumed.
    pub(crate) bytes: u64,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self { inner, buf: Vec::with_capacity(256), number: 0, bytes: 0 }
    }

    /// The next line without its `\n`, or `None` at the end of the input.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<&[u8]>> {
        self.buf.clear();
        let mut saw_any = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                break;
            }
            saw_any = true;
            let (chunk, used, done) = match memchr::memchr(b'\n', available) {
                Some(i) => (&available[..i], i + 1, true),
                None => (available, available.len(), false),
            };
            let room = MAX_LINE.saturating_sub(self.buf.len());
            self.buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            self.inner.consume(used);
            self.bytes += used as u64;
            if done {
                break;
            }
        }
        if !saw_any {
            return Ok(None);
        }
        self.number += 1;
        Ok(Some(&self.buf))
    }
}

/// What [`clean`] found odd about a line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineFlags {
    /// The line held a NUL byte: binary data, not a log.
    pub(crate) binary: bool,
    /// The line was not valid UTF-8 (replaced lossily).
    pub(crate) not_utf8: bool,
}

/// Turns raw bytes into the text a terminal would show: drops the `\r` of
/// CRLF, ANSI escape sequences and anything a `\r` redraw overwrote. CI
/// decorations are [`super::decor`]'s job.
pub(crate) fn clean(raw: &[u8]) -> (Cow<'_, str>, LineFlags) {
    let mut flags = LineFlags::default();
    let mut bytes = raw;
    while let [rest @ .., b'\r'] = bytes {
        bytes = rest;
    }
    if memchr::memchr(0, bytes).is_some() {
        flags.binary = true;
    }
    let mut text: Cow<'_, [u8]> = Cow::Borrowed(bytes);
    if memchr::memchr(0x1b, bytes).is_some() {
        text = Cow::Owned(strip_ansi(bytes));
    }
    if let Some(i) = memchr::memrchr(b'\r', &text) {
        // A redraw: the terminal shows what came after the last `\r`.
        text = match text {
            Cow::Borrowed(b) => Cow::Borrowed(&b[i + 1..]),
            Cow::Owned(mut v) => {
                v.drain(..=i);
                Cow::Owned(v)
            }
        };
    }
    let text: Cow<'_, str> = match text {
        Cow::Borrowed(b) => match std::str::from_utf8(b) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => {
                flags.not_utf8 = true;
                Cow::Owned(String::from_utf8_lossy(b).into_owned())
            }
        },
        Cow::Owned(v) => match String::from_utf8(v) {
            Ok(s) => Cow::Owned(s),
            Err(e) => {
                flags.not_utf8 = true;
                Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned())
            }
        },
    };
    (text, flags)
}

/// Removes CSI (`ESC [ ... letter`), OSC (`ESC ] ... BEL|ESC \`) and
/// two-byte escape sequences.
fn strip_ansi(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != 0x1b {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        i += 1;
        match bytes.get(i) {
            Some(b'[') => {
                i += 1;
                while i < bytes.len() && !(0x40..=0x7e).contains(&bytes[i]) {
                    i += 1;
                }
                i += 1;
            }
            Some(b']') => {
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == 0x07 {
                        i += 1;
                        break;
                    }
                    if bytes[i] == 0x1b && bytes.get(i + 1) == Some(&b'\\') {
                        i += 2;
                        break;
                    }
                    i += 1;
                }
            }
            Some(_) => i += 1,
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<Vec<u8>> {
        let mut r = LineReader::new(input);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push(l.to_vec());
        }
        out
    }

    #[test]
    fn splits_lines_with_or_without_a_final_newline() {
        assert_eq!(lines(b"a\nb"), [b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(lines(b"a\n\n"), [b"a".to_vec(), b"".to_vec()]);
        assert!(lines(b"").is_empty());
    }

    #[test]
    fn cuts_enormous_lines_and_keeps_going() {
        let mut input = vec![b'x'; MAX_LINE * 3];
        input.extend_from_slice(b"\nnext\n");
        let got = lines(&input);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].len(), MAX_LINE);
        assert_eq!(got[1], b"next");
    }

    #[test]
    fn cleans_crlf_colour_and_redraws() {
        assert_eq!(clean(b"#1 DONE 0.0s\r").0, "#1 DONE 0.0s");
        assert_eq!(clean(b"\x1b[33m1 warning found\x1b[0m").0, "1 warning found");
        assert_eq!(clean(b"\x1b]0;title\x07#2 CACHED").0, "#2 CACHED");
        assert_eq!(clean(b"section_start:1:x\r\x1b[0K#3 CACHED").0, "#3 CACHED");
    }

    #[test]
    fn flags_binary_and_invalid_utf8() {
        assert!(clean(b"a\0b").1.binary);
        let (text, flags) = clean(b"caf\xe9");
        assert!(flags.not_utf8);
        assert_eq!(text, "caf\u{fffd}");
        assert_eq!(clean(b"\x1b[").0, "");
        assert_eq!(clean(b"\x1b").0, "");
    }
}
