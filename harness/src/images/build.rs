//! Carries out an image plan on the host daemon.
//!
//! Each image is built under its hashed tag, which Docker only applies once
//! the build or import succeeded, so a failed or interrupted run leaves no
//! half-made image behind; the catalogue's plain name is then re-pointed at
//! it. An image whose hashed tag exists is not rebuilt.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::host_docker::HostDocker;
use super::plan::{ImageSpec, Recipe};
use crate::fsutil::copy_tree;

/// Where the default debootstrap scripts live.
const DEBOOTSTRAP_SHARE: &str = "/usr/share/debootstrap";

/// What happened to one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Built {
    /// The hashed tag was already there.
    UpToDate,
    /// Built now, in this time.
    Built(Duration),
}

/// A failure building one image.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("failed to build `{image}`: {what} (log: {log})")]
    Step { image: String, what: String, log: PathBuf },
    #[error("failed to prepare `{image}`")]
    Io {
        image: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "building the rootfs of `{image}` needs `debootstrap` run as root \
         (as root on Debian: `apt-get install debootstrap`, or run `ci/docker-up`)"
    )]
    NoDebootstrap { image: String },
}

/// Builds images of a plan, logging each build under `log_dir`.
pub struct Builder<'a> {
    pub docker: &'a HostDocker,
    pub log_dir: PathBuf,
    pub extra_ca: Vec<u8>,
}

impl Builder<'_> {
    /// Builds `spec` unless its hashed tag exists, then tags its plain name.
    pub fn ensure(&self, spec: &ImageSpec) -> Result<Built, BuildError> {
        let outcome = if self.docker.has_image(&spec.hashed) {
            Built::UpToDate
        } else {
            let started = Instant::now();
            match &spec.recipe {
                Recipe::Rootfs { suite } => self.rootfs(spec, suite)?,
                Recipe::Dockerfile { context, build_args, takes_extra_ca } => {
                    self.dockerfile(spec, context, build_args, *takes_extra_ca)?
                }
            }
            Built::Built(started.elapsed())
        };
        let log = self.log_path(spec);
        self.run(spec, &log, self.docker.command().args(["tag", &spec.hashed, &spec.name]), "docker tag")?;
        Ok(outcome)
    }

    /// The log file of one image's build.
    pub fn log_path(&self, spec: &ImageSpec) -> PathBuf {
        self.log_dir.join(format!("{}.log", spec.name.replace(['/', ':'], "_")))
    }

    fn rootfs(&self, spec: &ImageSpec, suite: &str) -> Result<(), BuildError> {
        let io = |source| BuildError::Io { image: spec.name.clone(), source };
        if !is_root() || which("debootstrap").is_none() {
            return Err(BuildError::NoDebootstrap { image: spec.name.clone() });
        }
        let log = self.log_path(spec);
        let work = tempfile::Builder::new().prefix("harness-rootfs-").tempdir_in("/var/tmp").map_err(io)?;
        let target = work.path().join("rootfs");
        let mut debootstrap = Command::new("debootstrap");
        // Older debootstrap releases lack scripts for newer suites (bookworm's
        // has none for forky); those suites follow sid's script.
        if !Path::new(DEBOOTSTRAP_SHARE).join("scripts").join(suite).exists() {
            let share = work.path().join("debootstrap");
            copy_tree(Path::new(DEBOOTSTRAP_SHARE), &share, &[]).map_err(io)?;
            std::os::unix::fs::symlink("sid", share.join("scripts").join(suite)).map_err(io)?;
            debootstrap.env("DEBOOTSTRAP_DIR", &share);
        }
        debootstrap.args(["--variant=minbase", suite]).arg(&target);
        self.run(spec, &log, &mut debootstrap, "debootstrap")?;
        // Downloaded packages and lists are half the size and no use in an image.
        for dir in ["var/cache/apt/archives", "var/lib/apt/lists"] {
            clear_files(&target.join(dir)).map_err(io)?;
        }
        write_apt_clean_hook(&target).map_err(io)?;
        let script = format!(
            "tar -C {} -c . | {} import - {}",
            shell_quote(&target.to_string_lossy()),
            self.docker_shell(),
            shell_quote(&spec.hashed)
        );
        self.run(spec, &log, Command::new("sh").args(["-c", &script]), "docker import")
    }

    fn dockerfile(
        &self,
        spec: &ImageSpec,
        context: &Path,
        build_args: &std::collections::BTreeMap<String, String>,
        takes_extra_ca: bool,
    ) -> Result<(), BuildError> {
        let io = |source| BuildError::Io { image: spec.name.clone(), source };
        let work = tempfile::Builder::new().prefix("harness-image-").tempdir().map_err(io)?;
        copy_tree(context, work.path(), &[]).map_err(io)?;
        let ca: &[u8] = if takes_extra_ca { &self.extra_ca } else { b"" };
        std::fs::write(work.path().join("extra-ca.crt"), ca).map_err(io)?;
        let mut build = self.docker.command();
        build.args(["build", "--tag", &spec.hashed]);
        for (key, value) in build_args {
            build.arg("--build-arg").arg(format!("{key}={value}"));
        }
        build.arg(work.path());
        self.run(spec, &self.log_path(spec), &mut build, "docker build")
    }

    /// Runs one command with its output appended to `log`.
    fn run(&self, spec: &ImageSpec, log: &Path, command: &mut Command, what: &str) -> Result<(), BuildError> {
        let io = |source| BuildError::Io { image: spec.name.clone(), source };
        std::fs::create_dir_all(&self.log_dir).map_err(io)?;
        let file = File::options().create(true).append(true).open(log).map_err(io)?;
        let status =
            command.stdin(Stdio::null()).stdout(file.try_clone().map_err(io)?).stderr(file).status().map_err(io)?;
        if status.success() {
            Ok(())
        } else {
            Err(BuildError::Step {
                image: spec.name.clone(),
                what: format!("{what} exited with {status}; last lines:\n{}", tail(log, 15)),
                log: log.to_owned(),
            })
        }
    }

    /// The client as a shell word sequence, for the import pipeline.
    fn docker_shell(&self) -> String {
        let cmd = self.docker.command();
        let env: Vec<String> = cmd
            .get_envs()
            .filter_map(|(k, v)| Some(format!("{}={}", k.to_string_lossy(), v?.to_string_lossy())))
            .collect();
        let program = shell_quote(&cmd.get_program().to_string_lossy());
        if env.is_empty() {
            program
        } else {
            format!("env {} {program}", env.join(" "))
        }
    }
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .chain(["/usr/sbin", "/sbin"])
        .map(|dir| Path::new(dir).join(program))
        .find(|path| path.is_file())
}

/// The official debian images' `docker-clean` apt configuration: every
/// `apt-get install` in an image built on ours then drops the downloaded
/// `.deb` files and keeps no package cache, as it does on the official base.
/// Without it the chef stand-in carried 256 MB of them, which every fresh
/// dind pulled and extracted.
const APT_CLEAN_HOOK: &str = r#"DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
"#;

fn write_apt_clean_hook(rootfs: &Path) -> std::io::Result<()> {
    let dir = rootfs.join("etc/apt/apt.conf.d");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("docker-clean"), APT_CLEAN_HOOK)
}

fn clear_files(dir: &Path) -> std::io::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    for entry in entries {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

fn tail(log: &Path, lines: usize) -> String {
    let Ok(file) = File::open(log) else { return String::new() };
    let all: Vec<String> = BufReader::new(file).lines().map_while(Result::ok).collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// apt reads the hook as the official images' (a syntax slip would
    /// break every `apt-get` in the stand-ins); needs `apt-config`, which
    /// every Debian machine has.
    #[test]
    fn apt_reads_the_clean_hook() {
        let dir = tempfile::tempdir().unwrap();
        write_apt_clean_hook(dir.path()).unwrap();
        let hook = dir.path().join("etc/apt/apt.conf.d/docker-clean");
        // Only the hook: not this machine's own /etc/apt configuration.
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        let base = dir.path().join("base.conf");
        std::fs::write(&base, format!("Dir::Etc::Parts \"{}\";\nDir::Etc::main \"/dev/null\";\n", empty.display()))
            .unwrap();
        let output = Command::new("apt-config")
            .env("APT_CONFIG", &base)
            .arg("-c")
            .arg(&hook)
            .arg("dump")
            .output()
            .expect("apt-config runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let dump = String::from_utf8(output.stdout).unwrap();
        for line in [
            r#"Dir::Cache::pkgcache "";"#,
            r#"Dir::Cache::srcpkgcache "";"#,
            r#"DPkg::Post-Invoke:: "rm -f /var/cache/apt/archives/*.deb"#,
            r#"APT::Update::Post-Invoke:: "rm -f /var/cache/apt/archives/*.deb"#,
        ] {
            assert!(dump.lines().any(|l| l.starts_with(line)), "`{line}` missing from apt-config dump:\n{dump}");
        }
    }

    #[test]
    fn shell_quote_survives_quotes() {
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("x.log");
        std::fs::write(&log, "1\n2\n3\n").unwrap();
        assert_eq!(tail(&log, 2), "2\n3");
    }
}
