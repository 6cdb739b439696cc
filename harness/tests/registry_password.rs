//! A registry password planted in a scenario's `docker login` appears in
//! no output: not in report.json, not in any log, not in the `-v` live
//! view, and not in the command lines of the processes inside the dind.
//! The login still works: the build pulls from, and pushes to, the run's
//! registry, which requires that password.

mod common;

use common::binary::{contains, BinaryRun};
use harness::engine::{leftovers, require_docker, sweep};

#[tokio::test(flavor = "multi_thread")]
async fn a_planted_password_is_in_no_output() {
    if !require_docker().await {
        return;
    }
    let password = format!("Planted-{}-pw", harness::engine::RunLabel::unique().value());
    let toml = format!(
        r#"description = "planted password"

[[job]]
[[job.command]]
login = "{{registry}}"
username = "planted"
password = "{password}"

[[job.command]]
build = "classic"
tags = ["{{image}}:app"]

[[job.command]]
push = "{{image}}:app"

# What runs in the dind while this does: every process's arguments.
[[job.command]]
shell = "for f in /proc/[0-9]*/cmdline; do tr '\\000' ' ' < $f; echo; done"
"#
    );
    let run = BinaryRun::new("planted-password", &toml, "FROM {runtime}\nRUN echo built\n");
    let output = run.command(&["--engine", "26.1.5", "-v"]).output().unwrap();
    let left = leftovers(&run.label).await.unwrap();
    sweep(&run.label).await.unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "the run passes (login worked)\n{stdout}\n{stderr}");
    assert!(left.is_empty(), "the run left {left:?}");
    assert!(stderr.contains("docker login --username planted --password-stdin"), "-v shows the login: {stderr}");
    assert!(!stdout.contains(&password) && !stderr.contains(&password), "the live output shows the password");

    let files = run.output_files();
    let names: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
    assert!(names.iter().any(|n| n.ends_with("report.json")), "{names:?}");
    let listing = files.iter().find(|(p, _)| p.display().to_string().ends_with("shell.log")).expect("the ps log");
    assert!(contains(&listing.1, "dockerd"), "the process listing is real: {}", String::from_utf8_lossy(&listing.1));
    for (path, bytes) in &files {
        assert!(!contains(bytes, &password), "`{}` holds the password", path.display());
    }
}
