//! The JUnit reporter on recorded cells: snapshot, what CI readers rely on,
//! and validation against the Jenkins xUnit JUnit XSD with `xmllint`.

mod matrix_support;

use std::process::Command;

use harness::report::render_junit;
use matrix_support::{fixtures, recorded, redact, sample_matrix, BUG};

#[test]
fn junit_snapshot_of_the_sample_matrix() {
    let xml = render_junit(&sample_matrix());
    redact(|| insta::assert_snapshot!(xml));
}

#[test]
fn failed_cell_lists_each_failed_expectation_with_its_log_excerpt() {
    let xml = render_junit(&[recorded("ci-cache-from-all-stages-26.1.5.json")]);
    assert_eq!(xml.matches("<testsuite ").count(), 1, "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 1, "{xml}");
    assert!(xml.contains(r#"classname="ci-cache-from-all-stages""#), "{xml}");
    let failure = &xml[xml.find("<failure").expect(&xml)..];
    assert!(failure.contains("1 failed expectation(s): job 3, builder: [builder 2/4] RUN cargo chef cook --release --recipe-path recipe.json: expected reused, observed executed"), "{failure}");
    // The excerpt: the step's reason and the last lines of its output.
    assert!(failure.contains("Compiling"), "{failure}");
    assert!(failure.contains("log: /"), "{failure}");
}

#[test]
fn known_bug_passes_with_its_link_and_a_bug_gone_stands_out() {
    let xml = render_junit(&sample_matrix());
    // Six cells: one failure, one error, one skipped; the rest pass.
    assert_eq!(xml.matches("<testcase ").count(), 6, "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
    assert_eq!(xml.matches("<error ").count(), 1, "{xml}");
    assert_eq!(xml.matches("<skipped ").count(), 1, "{xml}");
    let known = case(&xml, "ci-cache-from-all-stages on 28.5.2\"");
    assert!(!known.contains("<failure"), "{known}");
    assert!(known.contains(&format!("known bug {BUG} reproduced")), "{known}");
    let gone = case(&xml, "ci-cache-from-all-stages on 20.10.24 [KNOWN BUG GONE:");
    assert!(!gone.contains("<failure"), "{gone}");
    assert!(gone.contains(&format!("KNOWN BUG GONE: {BUG} no longer reproduces")), "{gone}");
}

/// The `<testcase>` element whose name starts with `name`.
fn case<'a>(xml: &'a str, name: &str) -> &'a str {
    let start = xml.find(&format!("name=\"{name}")).unwrap_or_else(|| panic!("no testcase {name}:\n{xml}"));
    let end = xml[start..].find("</testcase>").map_or(xml.len(), |e| start + e);
    &xml[start..end]
}

#[test]
fn junit_validates_against_the_jenkins_xunit_schema() {
    let xsd = fixtures().join("junit/junit-10.xsd");
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("sample.xml", render_junit(&sample_matrix())),
        ("big.xml", render_junit(&matrix_support::big_matrix(60))),
        ("empty.xml", render_junit(&[])),
    ];
    for (name, xml) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, &xml).unwrap();
        let output =
            Command::new("xmllint").args(["--noout", "--schema"]).arg(&xsd).arg(&path).output().unwrap_or_else(|e| {
                panic!(
                    "cannot run xmllint ({e}): install it with `apt-get install libxml2-utils` (or run ci/test-tools)"
                )
            });
        assert!(
            output.status.success(),
            "{name} does not validate:\n{}\n{xml}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn the_schema_check_can_fail() {
    // A testcase without a name breaks the schema: xmllint must say so.
    let xsd = fixtures().join("junit/junit-10.xsd");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.xml");
    std::fs::write(
        &path,
        r#"<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase/></testsuite></testsuites>"#,
    )
    .unwrap();
    let Ok(output) = Command::new("xmllint").args(["--noout", "--schema"]).arg(&xsd).arg(&path).output() else {
        panic!("cannot run xmllint: install it with `apt-get install libxml2-utils` (or run ci/test-tools)");
    };
    assert!(!output.status.success());
}
