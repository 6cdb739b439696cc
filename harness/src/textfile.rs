//! Reading the small text files a user names (scenario files, Dockerfiles)
//! safely: regular files only, with a size limit.
//!
//! A FIFO given as a scenario blocks `read_to_string` forever and
//! `/dev/zero` fills memory; both are refused here from their metadata,
//! before anything is opened. The errors are `io::Error`s, so callers keep
//! their own error types (which name the file) and gain a message that
//! says what the path is and what to give instead.

use std::io::{self, Read};
use std::path::Path;

/// The limit for hand-written input: a scenario file or a Dockerfile.
/// The largest shipped one is under 4 KiB; 1 MiB leaves room for generated
/// files while keeping a mistaken path (a log, an image) out of memory.
pub const INPUT_LIMIT: u64 = 1024 * 1024;

/// Reads `path` as UTF-8 text when it is a regular file (after symlinks) of
/// at most `limit` bytes.
pub fn read_text(path: &Path, limit: u64) -> io::Result<String> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {}, not a regular file: give a text file", kind_of(&meta.file_type())),
        ));
    }
    if meta.len() > limit {
        return Err(too_large(meta.len(), limit));
    }
    let file = std::fs::File::open(path)?;
    // The path may have been swapped between the two looks: check what was
    // opened, and never read more than the limit whatever it is.
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "it changed into something other than a file"));
    }
    let mut text = String::new();
    file.take(limit + 1).read_to_string(&mut text)?;
    if text.len() as u64 > limit {
        return Err(too_large(text.len() as u64, limit));
    }
    Ok(text)
}

fn too_large(len: u64, limit: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("it is {len} bytes, more than the {limit} bytes a hand-written input may have"),
    )
}

/// What a non-regular file is, in words.
fn kind_of(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "a folder"
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, "a = 1\n").unwrap();
        assert_eq!(read_text(&path, INPUT_LIMIT).unwrap(), "a = 1\n");
    }

    #[test]
    fn devices_folders_and_fifos_are_refused_without_reading() {
        let err = read_text(Path::new("/dev/zero"), INPUT_LIMIT).unwrap_err();
        assert!(err.to_string().contains("a character device, not a regular file"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        assert!(read_text(dir.path(), INPUT_LIMIT).unwrap_err().to_string().contains("a folder"));
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        // Would block forever if it were opened.
        let err = read_text(&fifo, INPUT_LIMIT).unwrap_err();
        assert!(err.to_string().contains("a FIFO (named pipe)"), "{err}");
    }

    #[test]
    fn a_file_over_the_limit_is_refused_with_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        std::fs::write(&path, vec![b'a'; 2048]).unwrap();
        let err = read_text(&path, 1024).unwrap_err();
        assert_eq!(err.to_string(), "it is 2048 bytes, more than the 1024 bytes a hand-written input may have");
    }
}
