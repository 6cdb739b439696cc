//! What `harness run` (and any command that runs scenarios) does around an
//! interrupt: listen for SIGINT/SIGTERM while the runner works, and after
//! an interrupted run, sweep what still carries the run's label and exit
//! 130. The runner itself ([`crate::runner::interrupt`]) stops the work and
//! keeps the report.

use super::exit::Exit;
use crate::engine::{sweep, RunLabel};
use crate::runner::interrupt;

/// Starts listening (inside the runtime); a failure to listen is said, not
/// fatal: the run works, only Ctrl-C falls back to the default.
pub(crate) fn listen(label: &RunLabel) {
    if let Err(e) = interrupt::listen(format!("harness clean --run {label}")) {
        eprintln!("warning: cannot listen for Ctrl-C ({e}); an interrupted run may leave containers behind");
    }
}

/// After the runner returned: `Some(130)` when it was interrupted, once
/// nothing of the run is left on the host daemon.
pub(crate) fn finish(runtime: &tokio::runtime::Runtime, label: &RunLabel) -> Option<Exit> {
    if !interrupt::is_set() {
        return None;
    }
    match runtime.block_on(sweep(label)) {
        Ok(removed) if removed.is_empty() => eprintln!("interrupted: the report holds what ran; nothing left behind"),
        Ok(removed) => eprintln!(
            "interrupted: the report holds what ran; removed {} container(s), {} network(s), {} volume(s) left behind",
            removed.containers.len(),
            removed.networks.len(),
            removed.volumes.len()
        ),
        Err(e) => {
            eprintln!("interrupted: could not remove the run's leftovers ({e}); run `harness clean --run {label}`")
        }
    }
    Some(Exit::Interrupted)
}
