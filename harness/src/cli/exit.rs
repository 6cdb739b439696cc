//! The one place where outcomes become exit codes.

/// Documented exit codes of `harness`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything held.
    Pass = 0,
    /// The run finished and an expectation did not hold.
    ExpectationFailed = 1,
    /// Bad input or usage: a scenario, a log, a flag.
    BadInput = 2,
    /// Docker, an engine, a registry or the machine failed.
    Infrastructure = 3,
    /// SIGINT or SIGTERM stopped the run (128 + SIGINT, as shells report it).
    Interrupted = 130,
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit as u8)
    }
}

/// An error with the exit code it maps to.
#[derive(Debug)]
pub struct CliError {
    pub exit: Exit,
    pub error: anyhow::Error,
}

impl CliError {
    pub fn bad_input(error: impl Into<anyhow::Error>) -> Self {
        Self { exit: Exit::BadInput, error: error.into() }
    }

    pub fn infrastructure(error: impl Into<anyhow::Error>) -> Self {
        Self { exit: Exit::Infrastructure, error: error.into() }
    }
}

pub type CliResult = Result<Exit, CliError>;
