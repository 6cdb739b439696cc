//! Runs the built `harness` binary on a small scenario written for the
//! test, under a run id of its own (`HARNESS_RUN_ID`), so the test can
//! find, count and sweep exactly the resources that run created.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use harness::engine::{RunLabel, RUN_ID_ENV};

/// A scenario folder, an output folder and the run id, in a temporary dir.
pub struct BinaryRun {
    pub tmp: tempfile::TempDir,
    pub scenario: PathBuf,
    pub out: PathBuf,
    pub label: RunLabel,
}

impl BinaryRun {
    /// Writes `scenario.toml` and `Dockerfile` into `<tmp>/<name>/`.
    pub fn new(name: &str, toml: &str, dockerfile: &str) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let scenario = tmp.path().join(name);
        std::fs::create_dir(&scenario).unwrap();
        std::fs::write(scenario.join("scenario.toml"), toml).unwrap();
        std::fs::write(scenario.join("Dockerfile"), dockerfile).unwrap();
        let out = tmp.path().join("out");
        Self { tmp, scenario, out, label: RunLabel::unique() }
    }

    /// `harness run <scenario> --images local --out <out> ARGS` from the
    /// checkout, with the run id set.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_harness"));
        cmd.current_dir(repo_root())
            .env(RUN_ID_ENV, self.label.value())
            .arg("run")
            .arg(&self.scenario)
            .args(["--images", "local", "--out"])
            .arg(&self.out)
            .args(args);
        cmd
    }

    /// Every file under the output folder, with its bytes.
    pub fn output_files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    let bytes = std::fs::read(&path).unwrap();
                    out.push((path, bytes));
                }
            }
        }
        let mut files = Vec::new();
        walk(&self.out, &mut files);
        files
    }
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Starts the run with stdout and stderr read line by line into a channel.
pub fn spawn(run: &BinaryRun, args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = run.command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let (tx, rx) = mpsc::channel();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    (child, rx)
}

/// Waits for a line holding `needle`; returns every line seen so far.
pub fn wait_for(rx: &mpsc::Receiver<String>, needle: &str, seen: &mut Vec<String>, within: Duration) {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_secs(1)) {
            let hit = line.contains(needle);
            seen.push(line);
            if hit {
                return;
            }
        }
    }
    panic!("no line with `{needle}` within {within:?}:\n{}", seen.join("\n"));
}

/// The host port the run's registry publishes (its seeding tags start
/// with `127.0.0.1:<port>/`).
pub fn registry_port(label: &RunLabel) -> String {
    let out = std::process::Command::new("docker")
        .args(["ps", "--filter", &format!("label={}", label.filter()), "--filter", "label=harness.role=registry"])
        .args(["--format", "{{.Ports}}"])
        .output()
        .unwrap();
    let ports = String::from_utf8_lossy(&out.stdout).to_string();
    let port = ports.split("127.0.0.1:").nth(1).and_then(|rest| rest.split("->").next());
    port.unwrap_or_else(|| panic!("no published registry port in `{ports}`")).to_owned()
}

pub fn tags_of(port: &str) -> Vec<String> {
    let out =
        std::process::Command::new("docker").args(["images", "--format", "{{.Repository}}:{{.Tag}}"]).output().unwrap();
    let prefix = format!("127.0.0.1:{port}/");
    String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.starts_with(&prefix)).map(str::to_owned).collect()
}
