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

#[test]
fn diagnose_image_compares_each_export_with_the_one_before() {
    let jobs: Vec<String> = (1..=3).map(|n| fixture(&format!("inline-26.1.5-classic/job-{n}/builder.json"))).collect();
    let out = harness().args(["diagnose", "--image"]).args(&jobs).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    // Job 2 hit the cache and its export lost cook's layer; job 3 ran cook
    // again and its export has it back.
    assert_eq!(text.matches("(inline cache): ").count(), 3, "{text}");
    let pairs: Vec<&str> = text.split("\n\n").collect();
    assert_eq!(pairs.len(), 3, "a summary block and two comparisons: {text}");
    assert!(pairs[1].contains("lost result: the key of `RUN cargo chef cook"), "{text}");
    assert!(!pairs[2].contains("lost result: the key of `RUN cargo chef cook"), "{text}");
    insta::assert_snapshot!(redact(&text));

    let json = harness().args(["diagnose", "--json", "--image"]).args(&jobs).assert().success();
    let value: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    assert_eq!(value["comparisons"].as_array().unwrap().len(), 2);
    assert!(!value["comparisons"][0]["comparison"]["lost_results"].as_array().unwrap().is_empty());
    assert_eq!(value["exports"][1]["config"]["records"].as_array().unwrap().len(), 14);
}

#[test]
fn diagnose_image_takes_no_logs() {
    let out = harness().args(["diagnose", "some.log", "--image", "r/app:1"]).assert().code(2);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(err.contains("cannot be used with"), "{err}");
}
