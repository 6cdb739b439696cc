//! Follows a running build's log so the live view can print each step as
//! it completes, before the build as a whole is done.
//!
//! The engine streams a build's output into its log file; this reads what
//! was added since the last look, feeds whole lines to the progress parser,
//! and hands back the steps that printed a result since then. The outcome
//! shown live is the parser's alone; layer evidence comes after the build.

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use crate::progress::{Parser, Step};

/// Reads a growing log file line by line.
pub struct LogFollower {
    path: PathBuf,
    offset: u64,
    partial: Vec<u8>,
    parser: Parser,
    /// Vertex numbers already handed out.
    reported: HashSet<u32>,
}

impl LogFollower {
    pub fn new(path: PathBuf) -> Self {
        let parser = Parser::new(path.display().to_string());
        Self { path, offset: 0, partial: Vec::new(), parser, reported: HashSet::new() }
    }

    /// Steps that completed since the last call, in log order. A log that
    /// cannot be read or parsed yet yields nothing: the full parse after
    /// the build reports any problem.
    pub fn poll(&mut self) -> Vec<Step> {
        if self.read_new_lines().is_err() {
            return Vec::new();
        }
        let Some(build) = self.parser.current() else { return Vec::new() };
        build
            .steps
            .into_iter()
            .filter(|step| step.vertex > 0 && !step.evidence.results.is_empty())
            .filter(|step| self.reported.insert(step.vertex))
            .collect()
    }

    fn read_new_lines(&mut self) -> std::io::Result<()> {
        let mut file = std::fs::File::open(&self.path)?;
        file.seek(SeekFrom::Start(self.offset))?;
        let mut added = Vec::new();
        self.offset += file.read_to_end(&mut added)? as u64;
        self.partial.extend_from_slice(&added);
        let Some(last_newline) = self.partial.iter().rposition(|&b| b == b'\n') else { return Ok(()) };
        let rest = self.partial.split_off(last_newline + 1);
        let whole = std::mem::replace(&mut self.partial, rest);
        for line in whole.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            // A bad line now is reported by the full parse after the build.
            let _ = self.parser.push_line(line);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn steps_come_out_once_as_they_complete() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("build.log");
        let mut log = std::fs::File::create(&path).unwrap();
        let mut follower = LogFollower::new(path.clone());
        assert!(follower.poll().is_empty(), "an empty log has no steps");

        write!(log, "#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\n").unwrap();
        write!(log, "#5 [builder 1/2] COPY . .\n#5 DONE 0.1s\n#6 [builder 2/2] RUN cargo build\n#6 0.4 Comp").unwrap();
        let first: Vec<String> = follower.poll().iter().map(Step::name).collect();
        assert_eq!(first, ["[builder 1/2] COPY . ."]);

        write!(log, "iling hello\n#6 DONE 2.0s\n").unwrap();
        let second: Vec<String> = follower.poll().iter().map(|s| format!("{} {}", s.name(), s.outcome)).collect();
        assert_eq!(second, ["[builder 2/2] RUN cargo build executed"]);
        assert!(follower.poll().is_empty(), "nothing new, nothing reported");
    }
}
