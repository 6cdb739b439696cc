//! `harness diagnose LOG... [--dockerfile FILE] [--json]`: reads the logs
//! of consecutive builds of one pipeline, in the order given, and names
//! why steps missed the cache, with evidence lines, fixes and links.
//! Exit codes: 0 when it ran (whatever it found), 2 for a log or Dockerfile
//! that cannot be read.

use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::exit::{CliError, CliResult, Exit};
use crate::diagnose::{self, Dockerfile, LogInput};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Logs of consecutive builds of one pipeline, oldest first (`-` reads
    /// stdin). A log may hold several builds (planner, builder, ...).
    #[arg(value_name = "LOG", required = true)]
    pub logs: Vec<PathBuf>,
    /// The Dockerfile the builds used: finds COPY from a cache mount even
    /// where the log cuts instructions short.
    #[arg(long, value_name = "FILE")]
    pub dockerfile: Option<PathBuf>,
    /// Print the diagnosis as JSON instead of a report.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> CliResult {
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
