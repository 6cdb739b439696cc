//! `harness diagnose LOG... [--dockerfile FILE] [--json]`: reads the logs
//! of consecutive builds of one pipeline, in the order given, and names
//! why steps missed the cache, with evidence lines, fixes and links.
//! `harness diagnose --image REF...` reads instead the cache records the
//! given images (inline cache) or registry cache refs carry, oldest first,
//! and names the results each export lost or changed against the one
//! before (credentials from the Docker config, never printed).
//! Exit codes: 0 when it ran (whatever it found), 2 for a log, Dockerfile or
//! reference that cannot be read, 3 for a registry that cannot be reached.

use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::exit::{CliError, CliResult, Exit};
use crate::diagnose::{self, Dockerfile, LogInput};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Logs of consecutive builds of one pipeline, oldest first (`-` reads
    /// stdin). A log may hold several builds (planner, builder, ...).
    #[arg(value_name = "LOG", required_unless_present = "images")]
    pub logs: Vec<PathBuf>,
    /// Read the cache of these images or registry cache refs instead of
    /// logs, oldest first (`host/repo:tag`, `repo@sha256:…`, or a file of
    /// documents the harness saved under a run's `job-N/cache/`).
    #[arg(long = "image", value_name = "REF", num_args = 1.., conflicts_with_all = ["logs", "dockerfile"])]
    pub images: Vec<String>,
    /// With `--image`: trust this PEM CA (a harness run's CA) besides the
    /// system's.
    #[arg(long, value_name = "FILE", requires = "images")]
    pub ca: Option<PathBuf>,
    /// With `--image`: do not check the registry's certificate, allow HTTP.
    #[arg(long, requires = "images")]
    pub insecure: bool,
    /// The Dockerfile the builds used: finds COPY from a cache mount even
    /// where the log cuts instructions short.
    #[arg(long, value_name = "FILE")]
    pub dockerfile: Option<PathBuf>,
    /// Print the diagnosis as JSON instead of a report.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> CliResult {
    if !args.images.is_empty() {
        return super::cache::diagnose_images(&args.images, args.ca, args.insecure, args.json);
    }
    if args.logs.iter().filter(|p| is_stdin(p)).count() > 1 {
        return Err(CliError::bad_input(anyhow::anyhow!("`-` (stdin) can be given only once")));
    }
    let mut logs = Vec::with_capacity(args.logs.len());
    for path in &args.logs {
        logs.push(load(path).map_err(CliError::bad_input)?);
    }
    let dockerfile = args.dockerfile.as_deref().map(Dockerfile::load).transpose().map_err(CliError::bad_input)?;
    let diagnosis = diagnose::diagnose(&logs, dockerfile.as_ref());
    let text = if args.json {
        let mut s = serde_json::to_string_pretty(&diagnosis)
            .context("cannot encode the diagnosis as JSON")
            .map_err(CliError::infrastructure)?;
        s.push('\n');
        s
    } else {
        diagnose::text(&diagnosis)
    };
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(CliError::infrastructure(anyhow::Error::new(e).context("cannot write to stdout")))
        }
        _ => Ok(Exit::Pass),
    }
}

fn load(path: &Path) -> anyhow::Result<LogInput> {
    if !is_stdin(path) {
        return Ok(LogInput::load(path)?);
    }
    let mut bytes = Vec::new();
    io::stdin().lock().read_to_end(&mut bytes).context("cannot read `<stdin>`")?;
    Ok(LogInput::from_bytes("<stdin>", &bytes)?)
}

fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}
