//! A pack never carries credentials: a context and a scenario with secrets
//! planted in every place a pack reads (auth files, SSH keys, `.env`,
//! source, Dockerfile, `docker login`, build args, environment, commands,
//! a recorded run) give an archive holding none of them, and a README that
//! lists what was left out. Also: `.dockerignore` is honoured, a context
//! over the limit is refused, and packing twice gives the same bytes.

use std::io::Read;
use std::path::Path;

use harness::catalogue::Catalogue;
use harness::pack::{self, PackRequest};
use harness::scenario::load_scenario;

/// Every planted value; none may appear in the pack.
const PLANTED: &[&str] = &[
    "ZG9ja2VyOlBMQU5URURkb2NrZXJhdXRo", // .docker/config.json auth
    "npm_PLANTEDnpmrcTOKEN0123456789abcdefgh",
    "PLANTEDnetrcPassword",
    "PLANTEDgitCredential",
    "PLANTEDsshRsaKeyBody",
    "PLANTEDed25519KeyBody",
    "PLANTEDdeployKeyBody",
    "PLANTEDenvDbPassword",
    "ghp_PLANTEDsourceToken0123456789abcdefghij",
    "PLANTEDdockerfileApiKey",
    "PLANTEDregistryPassword",
    "ghp_PLANTEDbuildArgToken0123456789abcdefgh",
    "npm_PLANTEDshellEnvToken0123456789abcdefgh",
    "PLANTEDawsSecretAccessKey0123456789ABCDEF",
    "glpat-PLANTEDeditToken01234567",
    "PLANTEDlogToken9Zq8vK2mN7pL4rT9wY3bH6jD",
];

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn key(body: &str) -> String {
    format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----\n")
}

/// A scenario folder and a context with every secret planted.
fn planted(root: &Path) {
    let ctx = root.join("context");
    write(&ctx, "src/main.rs", "fn main() {\n    // the project's own code\n    println!(\"hi\");\n}\n");
    write(&ctx, "src/config.rs", "pub const GITHUB: &str = \"ghp_PLANTEDsourceToken0123456789abcdefghij\";\n");
    write(&ctx, ".dockerignore", "*.log\nignored/\n");
    write(&ctx, "build.log", "ignored by .dockerignore\n");
    write(&ctx, "ignored/notes.txt", "ignored folder\n");
    write(&ctx, ".docker/config.json", r#"{"auths":{"r.example":{"auth":"ZG9ja2VyOlBMQU5URURkb2NrZXJhdXRo"}}}"#);
    write(&ctx, ".npmrc", "//registry.npmjs.org/:_authToken=npm_PLANTEDnpmrcTOKEN0123456789abcdefgh\n");
    write(&ctx, ".netrc", "machine git.example.com login bot password PLANTEDnetrcPassword\n");
    write(&ctx, ".git-credentials", "https://bot:PLANTEDgitCredential@git.example.com\n");
    write(&ctx, ".ssh/id_rsa", &key("PLANTEDsshRsaKeyBody"));
    write(&ctx, "id_ed25519", &key("PLANTEDed25519KeyBody"));
    write(&ctx, "deploy/deploy_key.pem", &key("PLANTEDdeployKeyBody"));
    write(&ctx, ".env", "DB_PASSWORD=PLANTEDenvDbPassword\n");
    write(&ctx, ".env.example", "DB_PASSWORD=\n");

    let scn = root.join("scenarios/planted");
    write(&scn, "Dockerfile", "FROM {runtime}\nENV API_KEY=\"PLANTEDdockerfileApiKey\"\nCOPY . /app\nRUN ls /app\n");
    write(
        &scn,
        "scenario.toml",
        r#"
description = "Secrets planted everywhere a pack reads."

[[job]]
repeat = 2

[[job.edit]]
file = "src/main.rs"
append = "// job {job}: token glpat-PLANTEDeditToken01234567\n"

[[job.command]]
login = "{registry}"
username = "ci"
password = "PLANTEDregistryPassword"

[[job.command]]
build = "classic"
tags = ["{image}:app"]
build_args = { GITHUB_TOKEN = "ghp_PLANTEDbuildArgToken0123456789abcdefgh" }

[[job.command]]
shell = "NPM_TOKEN=npm_PLANTEDshellEnvToken0123456789abcdefgh docker run --rm -e AWS_SECRET_ACCESS_KEY=PLANTEDawsSecretAccessKey0123456789ABCDEF {image}:app true"

[[job.expect]]
step = "RUN ls /app"
outcome = "executed"
"#,
    );
}

/// A recorded run of the planted scenario, its report and a log with secrets.
fn recorded_run(root: &Path) -> std::path::PathBuf {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports/cache-mount-copy-26.1.5.json");
    let mut report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    report["scenario"] = "planted".into();
    let run = root.join("run");
    report["jobs"][0]["commands"][0]["script"] =
        "echo PLANTEDregistryPassword | docker login --username ci --password-stdin registry.harness.test:5000".into();
    report["jobs"][0]["commands"][0]["log"] = run.join("job-1/01-login.log").to_string_lossy().into_owned().into();
    write(&run, "report.json", &serde_json::to_string_pretty(&report).unwrap());
    write(&run, "job-1/01-login.log", "Login Succeeded\n");
    write(&run, "job-1/02-build.log", "#5 0.1 token=PLANTEDlogToken9Zq8vK2mN7pL4rT9wY3bH6jD\n#5 DONE 0.2s\n");
    run
}

fn archive_text(bytes: &[u8]) -> (Vec<String>, String) {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut paths = Vec::new();
    let mut all = String::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        paths.push(entry.path().unwrap().to_string_lossy().into_owned());
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        all.push_str(&String::from_utf8_lossy(&data));
    }
    (paths, all)
}

fn pack_bytes(root: &Path, from_run: Option<std::path::PathBuf>, max: u64) -> Result<Vec<u8>, pack::PackError> {
    let catalogue = Catalogue::load_default().unwrap();
    let scenario = load_scenario(&root.join("scenarios/planted"), &catalogue).unwrap();
    let request = PackRequest {
        scenario: &scenario,
        context_dir: root.join("context"),
        engines: vec![catalogue.engine("26.1.5").unwrap().clone()],
        catalogue: &catalogue,
        from_run,
        max_context_bytes: max,
    };
    Ok(pack::build(&request)?.tar_gz("planted").unwrap())
}

#[test]
fn no_planted_secret_reaches_the_archive() {
    let dir = tempfile::tempdir().unwrap();
    planted(dir.path());
    let run = recorded_run(dir.path());
    let bytes = pack_bytes(dir.path(), Some(run.clone()), 50_000_000).unwrap();
    let (paths, text) = archive_text(&bytes);

    for secret in PLANTED {
        assert!(!text.contains(secret), "`{secret}` is in the pack");
        assert!(!paths.iter().any(|p| p.contains(secret)));
    }
    for gone in [
        ".docker/config.json",
        ".npmrc",
        ".netrc",
        ".git-credentials",
        ".ssh/id_rsa",
        "id_ed25519",
        "deploy_key.pem",
        "context/.env",
        "context/build.log",
        "ignored/",
    ] {
        assert!(
            !paths.iter().any(|p| p.contains(gone) && !p.ends_with(".example")),
            "{gone} is in the pack: {paths:?}"
        );
    }
    for kept in [
        "planted/context/src/main.rs",
        "planted/context/.env.example",
        "planted/context/Dockerfile",
        "planted/repro.sh",
        "planted/README.md",
        "planted/recorded/report.json",
        "planted/recorded/job-1/02-build.log",
        "planted/jobs/26.1.5/job-1/src/main.rs",
    ] {
        assert!(paths.iter().any(|p| p == kept), "{kept} missing: {paths:?}");
    }
    // The README says what was left out and why.
    let readme_start = text.find("# Reproduction pack: `planted`").expect("README");
    let readme = &text[readme_start..];
    for reason in [
        "Docker CLI auth file",
        "package registry credentials file",
        "netrc credentials file",
        "git credentials file",
        "SSH private key",
        "private key",
        "environment file",
        "registry password (`docker login`)",
        "GitHub token",
        "npm token",
        "GitLab token",
    ] {
        assert!(readme.contains(reason), "README does not mention `{reason}`");
    }
    // The pipeline still runs: the login keeps its shape with a replaced password.
    assert!(text.contains("echo REDACTED | docker login --username ci --password-stdin registry.harness.test:5000"));

    // Same inputs, same bytes.
    assert_eq!(bytes, pack_bytes(dir.path(), Some(run), 50_000_000).unwrap());
}

#[test]
fn a_context_over_the_limit_is_refused_with_its_largest_paths() {
    let dir = tempfile::tempdir().unwrap();
    planted(dir.path());
    write(&dir.path().join("context"), "assets/video.bin", &"x".repeat(30_000));
    let err = pack_bytes(dir.path(), None, 20_000).unwrap_err().to_string();
    assert!(err.contains("over the pack limit"), "{err}");
    assert!(err.contains("assets/video.bin") && err.contains("--max-context-mb"), "{err}");
}
