//! A dind's disk: the optional cap on its data root, and telling a command
//! that failed for want of space from one that simply failed.
//!
//! By default a dind keeps its images, layers and build cache on an
//! anonymous volume, on the host's disk. [`DISK_ENV`] (`harness run
//! --dind-disk SIZE` sets it) puts the data root on a tmpfs of that size
//! instead, as on a CI runner with a small disk: a build that fills it
//! fails with "no space left on device", which the runner reports as the
//! machine's failure ([`super::EngineError::DiskFull`]), not the scenario's.
//! The tmpfs is held in memory and goes with the container.

use std::path::Path;

use super::EngineError;

/// Environment variable capping every dind's data root (`512M`, `2G`).
pub const DISK_ENV: &str = "HARNESS_DIND_DISK";
/// The smallest cap: dockerd and containerd need a few MiB of their own
/// before any image, and less than this cannot hold a base image.
pub const MIN_DISK_BYTES: u64 = 64 << 20;
/// The largest cap: the tmpfs is memory.
pub const MAX_DISK_BYTES: u64 = 1 << 40;

/// Where a dind keeps its data.
pub(crate) const DATA_ROOT: &str = "/var/lib/docker";

/// What the kernel says, whatever wraps it (`write /x: no space left on
/// device`, coreutils' `No space left on device`).
const NO_SPACE: &str = "no space left on device";

/// `SIZE`: a whole number of bytes, or with a binary unit `K`, `M`, `G`,
/// `T` (`KiB`, `MB`, ... read alike), between [`MIN_DISK_BYTES`] and
/// [`MAX_DISK_BYTES`].
pub fn parse_disk_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let number: u64 = number.parse().map_err(|_| format!("expected a size such as `512M` or `2G`, found `{text}`"))?;
    let shift = match unit.trim().to_ascii_uppercase().trim_end_matches('B').trim_end_matches('I') {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        other => return Err(format!("unknown unit `{other}` in `{text}`: use K, M, G or T (powers of 1024)")),
    };
    let bytes = number.checked_mul(1 << shift).filter(|b| *b <= MAX_DISK_BYTES);
    match bytes {
        Some(b) if b >= MIN_DISK_BYTES => Ok(b),
        Some(_) => Err(format!("`{text}` is too small: a daemon needs at least 64M")),
        None => Err(format!("`{text}` is too large: at most 1T (the cap is a tmpfs, held in memory)")),
    }
}

/// The cap [`DISK_ENV`] sets, if any.
pub fn disk_limit_from_env() -> Result<Option<u64>, EngineError> {
    match std::env::var(DISK_ENV) {
        Ok(text) if text.trim().is_empty() => Ok(None),
        Ok(text) => {
            parse_disk_size(&text).map(Some).map_err(|why| EngineError::BadSetting { name: DISK_ENV, value: text, why })
        }
        Err(_) => Ok(None),
    }
}

/// Whether a command's output says a write failed for want of space.
pub(crate) fn mentions_no_space(output: &str) -> bool {
    output.to_ascii_lowercase().contains(NO_SPACE)
}

/// How much of a command's log [`log_says_no_space`] reads: the end, where
/// the failure is.
const LOG_TAIL_BYTES: u64 = 64 * 1024;

/// Whether the end of the command log at `log` says a write failed for
/// want of space (an unreadable log says nothing).
pub fn log_says_no_space(log: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(log) else { return false };
    let len = file.metadata().map_or(0, |m| m.len());
    if file.seek(SeekFrom::Start(len.saturating_sub(LOG_TAIL_BYTES))).is_err() {
        return false;
    }
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).is_ok() && mentions_no_space(&String::from_utf8_lossy(&tail))
}

/// A data root's size and free space in KiB, from `df -Pk` output.
pub(crate) fn parse_df(output: &str) -> Option<(u64, u64)> {
    let line = output.lines().nth(1)?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    Some((fields.get(1)?.parse().ok()?, fields.get(3)?.parse().ok()?))
}

/// "a 256 MiB tmpfs (the `--dind-disk` cap) with 3 MiB of 256 MiB free" and the like.
pub(crate) fn describe_room(cap: Option<u64>, df: Option<(u64, u64)>) -> String {
    let mib = |kib: u64| format!("{} MiB", kib / 1024);
    let what = match cap {
        Some(bytes) => format!("a {} MiB tmpfs (the `--dind-disk` / `{DISK_ENV}` cap)", bytes >> 20),
        None => "a volume on the host's disk".to_owned(),
    };
    match df {
        Some((size, free)) => format!("{what} with {} of {} free after the failure", mib(free), mib(size)),
        None => what,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(parse_disk_size("512M"), Ok(512 << 20));
        assert_eq!(parse_disk_size("2G"), Ok(2 << 30));
        assert_eq!(parse_disk_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_disk_size(" 300mb "), Ok(300 << 20));
        assert_eq!(parse_disk_size("67108864"), Ok(64 << 20));
    }

    #[test]
    fn sizes_out_of_bounds_or_unreadable_are_refused() {
        assert!(parse_disk_size("1M").unwrap_err().contains("too small"));
        assert!(parse_disk_size("2T").unwrap_err().contains("too large"));
        assert!(parse_disk_size("99999999999999999999G").is_err());
        assert!(parse_disk_size("18446744073709551615G").unwrap_err().contains("too large"));
        assert!(parse_disk_size("5X").unwrap_err().contains("unknown unit `X`"));
        assert!(parse_disk_size("").unwrap_err().contains("expected a size"));
        assert!(parse_disk_size("-1G").unwrap_err().contains("expected a size"));
    }

    #[test]
    fn no_space_is_found_in_every_spelling() {
        assert!(mentions_no_space("head: error writing 'standard output': No space left on device"));
        assert!(mentions_no_space(
            "ERROR: failed to solve: failed to copy: write /var/lib/docker/x: no space left on device"
        ));
        assert!(!mentions_no_space("exit code: 1"));
    }

    #[test]
    fn a_log_is_read_from_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("build.log");
        let filler = "#5 0.3 still writing\n".repeat(10_000);
        std::fs::write(&log, format!("{filler}#5 ERROR: write /big: no space left on device\n")).unwrap();
        assert!(log_says_no_space(&log));
        std::fs::write(&log, format!("no space left on device, long ago\n{filler}")).unwrap();
        assert!(!log_says_no_space(&log), "only the end of the log tells why the command failed");
        assert!(!log_says_no_space(&dir.path().join("missing.log")));
    }

    #[test]
    fn df_output_gives_size_and_free() {
        let out = "Filesystem     1024-blocks   Used Available Capacity Mounted on\n\
                   tmpfs               524288 127264    397024      25% /var/lib/docker\n";
        assert_eq!(parse_df(out), Some((524288, 397024)));
        assert_eq!(parse_df("garbage"), None);
    }

    #[test]
    fn the_room_says_what_the_data_root_is() {
        assert_eq!(
            describe_room(Some(256 << 20), Some((262144, 3072))),
            "a 256 MiB tmpfs (the `--dind-disk` / `HARNESS_DIND_DISK` cap) with 3 MiB of 256 MiB free after the failure"
        );
        assert_eq!(describe_room(None, None), "a volume on the host's disk");
    }
}
