//! Commands inside a dind: output streamed as it comes, exit code back, and a
//! deadline that kills a hung build.
//!
//! Builds run with the engine's own CLI inside the dind, so the log is the
//! real CLI's output. Docker has no "kill exec" call, so each script records
//! its shell's pid first; on timeout a second exec kills that process tree
//! (the CLI dying makes the daemon cancel the build).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Serialize;
use testcontainers::bollard::container::LogOutput;
use testcontainers::bollard::exec::{CreateExecOptions, StartExecResults};
use testcontainers::bollard::Docker;
use tokio::io::AsyncWriteExt;

use super::EngineError;

/// How a streamed command ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExecOutcome {
    pub exit_code: i64,
    pub duration: Duration,
    /// Where stdout and stderr went, interleaved as they came.
    pub log: PathBuf,
}

impl ExecOutcome {
    pub fn success(&self) -> bool {
        self.exit_code == 0
    }
}

/// A command's output kept in memory (facts, checks, small helpers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Captured {
    pub exit_code: i64,
    pub stdout: String,
    pub stderr: String,
    pub duration: Duration,
}

impl Captured {
    pub fn success(&self) -> bool {
        self.exit_code == 0
    }
}

/// The container commands run in, and what to call it in messages.
pub(crate) struct Target<'a> {
    pub docker: &'a Docker,
    pub container: &'a str,
    pub image: &'a str,
    pub counter: &'a AtomicU64,
}

enum Sink<'a> {
    File { file: tokio::fs::File, path: &'a Path },
    Memory { stdout: Vec<u8>, stderr: Vec<u8> },
}

impl Sink<'_> {
    async fn write(&mut self, chunk: LogOutput) -> Result<(), EngineError> {
        match self {
            Sink::File { file, path } => {
                let bytes = chunk.into_bytes();
                // Flushed per chunk: the log is readable while the build runs.
                let written = async {
                    file.write_all(&bytes).await?;
                    file.flush().await
                };
                written.await.map_err(|source| EngineError::Log { path: path.to_path_buf(), source })
            }
            Sink::Memory { stdout, stderr } => {
                match chunk {
                    LogOutput::StdErr { message } => stderr.extend_from_slice(&message),
                    other => stdout.extend_from_slice(&other.into_bytes()),
                }
                Ok(())
            }
        }
    }

    fn path(&self) -> PathBuf {
        match self {
            Sink::File { path, .. } => path.to_path_buf(),
            Sink::Memory { .. } => PathBuf::from("<captured>"),
        }
    }
}

impl Target<'_> {
    /// Runs `script` with `sh -c`, streaming its output to `log` (created or
    /// truncated). A non-zero exit is an outcome, not an error; a timeout is
    /// an error after the process tree has been killed.
    pub async fn run_logged(
        &self,
        script: &str,
        env: &[(String, String)],
        log: &Path,
        timeout: Duration,
    ) -> Result<ExecOutcome, EngineError> {
        if let Some(dir) = log.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|source| EngineError::Log { path: log.to_path_buf(), source })?;
        }
        let file = tokio::fs::File::create(log)
            .await
            .map_err(|source| EngineError::Log { path: log.to_path_buf(), source })?;
        let mut sink = Sink::File { file, path: log };
        let (exit_code, duration) = self.run(script, env, timeout, &mut sink).await?;
        Ok(ExecOutcome { exit_code, duration, log: log.to_path_buf() })
    }

    /// Runs `script` with `sh -c`, keeping its output in memory.
    pub async fn capture(
        &self,
        script: &str,
        env: &[(String, String)],
        timeout: Duration,
    ) -> Result<Captured, EngineError> {
        let mut sink = Sink::Memory { stdout: Vec::new(), stderr: Vec::new() };
        let (exit_code, duration) = self.run(script, env, timeout, &mut sink).await?;
        let Sink::Memory { stdout, stderr } = sink else { unreachable!("capture uses a memory sink") };
        Ok(Captured {
            exit_code,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            duration,
        })
    }

    /// [`capture`](Self::capture) that turns a non-zero exit into an error.
    pub async fn check(&self, script: &str, timeout: Duration) -> Result<String, EngineError> {
        let out = self.capture(script, &[], timeout).await?;
        if out.success() {
            Ok(out.stdout)
        } else {
            Err(EngineError::CommandFailed {
                image: self.image.to_owned(),
                what: describe(script),
                exit_code: out.exit_code,
                output: format!("{}{}", out.stdout, out.stderr).trim().to_owned(),
            })
        }
    }

    async fn run(
        &self,
        script: &str,
        env: &[(String, String)],
        timeout: Duration,
        sink: &mut Sink<'_>,
    ) -> Result<(i64, Duration), EngineError> {
        let fail = |source: super::error::Source| EngineError::Exec {
            image: self.image.to_owned(),
            what: describe(script),
            source,
        };
        let pid_file = format!("/run/harness-exec-{}.pid", self.counter.fetch_add(1, Ordering::Relaxed));
        // `$1` is the script: no quoting of user text into the wrapper.
        let wrapper = format!("echo $$ > {pid_file} 2>/dev/null; exec sh -c \"$1\"");
        let env: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let created = self
            .docker
            .create_exec(
                self.container,
                CreateExecOptions {
                    cmd: Some(vec!["sh", "-c", &wrapper, "harness-exec", script]),
                    env: Some(env.iter().map(String::as_str).collect()),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| fail(Box::new(e)))?;
        let started = Instant::now();
        let StartExecResults::Attached { mut output, .. } =
            self.docker.start_exec(&created.id, None).await.map_err(|e| fail(Box::new(e)))?
        else {
            return Err(fail("the exec started detached".into()));
        };

        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, output.next()).await {
                Ok(Some(Ok(chunk))) => sink.write(chunk).await?,
                Ok(Some(Err(e))) if self.container_running().await => return Err(fail(Box::new(e))),
                Ok(Some(Err(_))) => {
                    return Err(EngineError::DaemonDied { image: self.image.to_owned(), what: describe(script) })
                }
                Ok(None) => break,
                Err(_) => {
                    self.kill_tree(&pid_file).await;
                    // Keep what the dying process still printed.
                    let grace = tokio::time::Instant::now() + Duration::from_secs(5);
                    while let Ok(Some(Ok(chunk))) = tokio::time::timeout_at(grace, output.next()).await {
                        sink.write(chunk).await?;
                    }
                    let note = format!(
                        "\n[harness] killed after {:.1}s: the command did not finish in time\n",
                        timeout.as_secs_f64()
                    );
                    sink.write(LogOutput::StdErr { message: note.into() }).await?;
                    return Err(EngineError::Timeout {
                        image: self.image.to_owned(),
                        what: describe(script),
                        after: timeout,
                        log: sink.path(),
                    });
                }
            }
        }
        let duration = started.elapsed();
        let exit_code = self.exit_code(&created.id).await.map_err(fail)?;
        // A command that "failed" because its dind died is the machinery's
        // failure, not the scenario's: say so instead of an exit code.
        if exit_code != 0 && self.died_with(exit_code).await {
            return Err(EngineError::DaemonDied { image: self.image.to_owned(), what: describe(script) });
        }
        Ok((exit_code, duration))
    }

    /// Whether the dind died under a command that ended with `exit_code`.
    /// A container killed under an exec ends the exec (with a signal's
    /// code, 128+n, or none) a moment before Docker marks the container
    /// stopped: for such codes, watch its state for up to two seconds.
    async fn died_with(&self, exit_code: i64) -> bool {
        let signalled = !(1..128).contains(&exit_code);
        let give_up = Instant::now() + if signalled { Duration::from_secs(2) } else { Duration::ZERO };
        loop {
            if !self.container_running().await {
                return true;
            }
            if Instant::now() >= give_up {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn container_running(&self) -> bool {
        let inspect = self.docker.inspect_container(self.container, None).await;
        inspect.ok().and_then(|i| i.state?.running).unwrap_or(false)
    }

    /// The exec's exit code; the stream can end a moment before Docker
    /// marks the exec finished.
    async fn exit_code(&self, exec_id: &str) -> Result<i64, super::error::Source> {
        let give_up = Instant::now() + Duration::from_secs(10);
        loop {
            let inspect = self.docker.inspect_exec(exec_id).await?;
            if inspect.running != Some(true) {
                return Ok(inspect.exit_code.unwrap_or(-1));
            }
            if Instant::now() > give_up {
                return Err("the exec's output ended but it still runs".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills the recorded shell and all its descendants, children first
    /// stopped so none can fork away. Pure POSIX sh over /proc: it works in
    /// Debian and Alpine (official) dind images alike.
    async fn kill_tree(&self, pid_file: &str) {
        let script = format!(
            r#"root=$(cat {pid_file}) || exit 0
kids() {{ for s in /proc/[0-9]*/stat; do read -r p c st pp rest < "$s" 2>/dev/null || continue; [ "$pp" = "$1" ] && echo "$p"; done; }}
tree() {{ echo "$1"; for k in $(kids "$1"); do tree "$k"; done; }}
pids=$(tree "$root")
kill -STOP $pids 2>/dev/null
kill -KILL $pids 2>/dev/null
true"#
        );
        let result = async {
            let created = self
                .docker
                .create_exec(
                    self.container,
                    CreateExecOptions {
                        cmd: Some(vec!["sh", "-c", script.as_str()]),
                        attach_stdout: Some(true),
                        attach_stderr: Some(true),
                        ..Default::default()
                    },
                )
                .await?;
            if let StartExecResults::Attached { mut output, .. } = self.docker.start_exec(&created.id, None).await? {
                while output.next().await.is_some() {}
            }
            Ok::<_, testcontainers::bollard::errors::Error>(())
        };
        if let Err(e) = tokio::time::timeout(Duration::from_secs(10), result).await {
            tracing::warn!("killing a timed-out command in {} took too long: {e}", self.image);
        }
    }
}

/// The first line of a script, shortened, for messages.
pub(crate) fn describe(script: &str) -> String {
    let line = script.trim().lines().next().unwrap_or_default().trim();
    let mut out: String = line.chars().take(80).collect();
    if out.len() < line.len() || script.trim().lines().count() > 1 {
        out.push_str(" ...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_keeps_the_first_line_short() {
        assert_eq!(describe("docker build ."), "docker build .");
        assert_eq!(describe("a\nb"), "a ...");
        let long = "x".repeat(100);
        assert_eq!(describe(&long).len(), 84);
    }
}
