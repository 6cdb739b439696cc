//! Ctrl-C and SIGTERM: stop starting work, stop what runs, keep the report.
//!
//! One process-wide flag, set by [`listen`] when the first SIGINT or SIGTERM
//! arrives. The runner checks it before each piece of work ([`check`]) and
//! races what is running against it ([`race`]): the future it drops (an
//! exec, a push) leaves the dind or registry behind, which the runner's
//! normal teardown then stops (a stopped dind ends its commands). The cell
//! ends with status `interrupted`, its report keeps the jobs done, and the
//! CLI sweeps whatever else carries the run's label and exits 130.
//!
//! Process-wide rather than passed down: a signal is process-wide, and the
//! check points sit deep in the runner (seeding, each job, each command)
//! where threading a token through every signature would add noise to
//! every caller, tests included. A library user that never calls
//! [`listen`] never sees the flag set (unless it calls [`trigger`]).

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::LazyLock;

use tokio::sync::watch;

use super::error::RunError;

static FLAG: AtomicBool = AtomicBool::new(false);
static WAKE: LazyLock<watch::Sender<bool>> = LazyLock::new(|| watch::channel(false).0);

/// Whether the run was interrupted.
pub fn is_set() -> bool {
    FLAG.load(Ordering::SeqCst)
}

/// Marks the run interrupted (what a signal does; tests call it directly).
pub fn trigger() {
    FLAG.store(true, Ordering::SeqCst);
    WAKE.send_replace(true);
}

/// `Err(RunError::Interrupted)` once the run was interrupted: called before
/// starting a piece of work.
pub(crate) fn check(what: &str) -> Result<(), RunError> {
    if is_set() {
        Err(RunError::Interrupted { during: what.to_owned() })
    } else {
        Ok(())
    }
}

/// Resolves when the run is interrupted.
pub async fn interrupted() {
    let mut rx = WAKE.subscribe();
    // Errors only if the sender is gone, and it is a static.
    let _ = rx.wait_for(|set| *set).await;
}

/// Runs `work` unless, or until, the run is interrupted; then drops it and
/// returns `Err(RunError::Interrupted)` naming `what` was under way.
pub(crate) async fn race<T>(what: &str, work: impl Future<Output = T>) -> Result<T, RunError> {
    check(what)?;
    tokio::select! {
        biased;
        () = interrupted() => Err(RunError::Interrupted { during: what.to_owned() }),
        out = work => Ok(out),
    }
}

/// Listens for SIGINT and SIGTERM (call inside the runtime). The first sets
/// the flag and says what happens; a second ends the process at once with
/// 130, naming the command that removes what is left.
pub fn listen(cleanup_hint: String) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        let mut seen = 0;
        loop {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            seen += 1;
            if seen == 1 {
                eprintln!(
                    "\ninterrupted: stopping the running command, writing the report of what ran, removing \
                     the run's containers (press Ctrl-C again to quit at once)"
                );
                trigger();
            } else {
                eprintln!("\ninterrupted twice: quitting now; `{cleanup_hint}` removes what is left");
                std::process::exit(130);
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The flag is process-wide: this one test owns it in the lib's tests.
    #[tokio::test]
    async fn race_returns_the_work_until_the_flag_is_set_then_stops_it() {
        assert!(!is_set());
        assert_eq!(race("quick", async { 7 }).await.unwrap(), 7);
        let slow = race("the build", tokio::time::sleep(std::time::Duration::from_secs(3600)));
        let waker = async {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            trigger();
        };
        let (raced, ()) = tokio::join!(slow, waker);
        let err = raced.unwrap_err();
        assert!(matches!(&err, RunError::Interrupted { during } if during == "the build"), "{err:?}");
        assert_eq!(err.to_string(), "interrupted during the build");
        assert!(check("job 2").is_err());
        assert!(race("more", async {}).await.is_err(), "no new work starts");
    }
}
