//! `harness cache show` and `compare` on recorded registry documents
//! (a REF naming a file is read offline), and bad input.

use assert_cmd::Command;

fn harness() -> Command {
    Command::cargo_bin("harness").unwrap()
}

fn fixture(path: &str) -> String {
    format!("{}/tests/fixtures/cache/{path}", env!("CARGO_MANIFEST_DIR"))
}

fn redact(text: &str) -> String {
    text.replace(env!("CARGO_MANIFEST_DIR"), "[harness]")
}

#[test]
fn show_summarises_a_recorded_inline_cache() {
    let out =
        harness().args(["cache", "show", &fixture("inline-26.1.5-classic/job-2/builder.json")]).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("(inline cache):"), "{text}");
    insta::assert_snapshot!(redact(&text));
}

#[test]
fn compare_names_the_result_job_2_lost() {
    let out = harness()
        .args([
            "cache",
            "compare",
            &fixture("inline-26.1.5-classic/job-1/builder.json"),
            &fixture("inline-26.1.5-classic/job-2/builder.json"),
        ])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("lost result: the key of `RUN cargo chef cook"), "{text}");
    insta::assert_snapshot!(redact(&text));
}

#[test]
fn a_bad_reference_is_bad_input() {
    let out = harness().args(["cache", "show", "Not/A:Ref:"]).assert().code(2);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(err.contains("is not an image reference"), "{err}");
}

#[test]
fn an_unreachable_registry_is_an_infrastructure_failure() {
    // A closed port on loopback: the connection is refused at once.
    let out = harness().args(["cache", "show", "127.0.0.1:9/none/app:x", "--insecure"]).assert().code(3);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(err.contains("failed to read the cache of `127.0.0.1:9/none/app:x`"), "{err}");
}
