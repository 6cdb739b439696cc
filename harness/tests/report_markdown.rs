//! The Markdown summary on recorded cells, and its size bound.

mod matrix_support;

use harness::report::{render_markdown, render_markdown_within, MARKDOWN_LIMIT};
use matrix_support::{big_matrix, redact, sample_matrix};

#[test]
fn markdown_snapshot_of_the_sample_matrix() {
    let md = render_markdown(&sample_matrix());
    redact(|| insta::assert_snapshot!(md));
}

#[test]
fn table_shows_every_state_and_details_only_cells_worth_a_look() {
    let md = render_markdown(&sample_matrix());
    assert!(md.contains("| scenario | 20.10.24 | 26.1.5 | 28.5.2 |"), "{md}");
    for state in
        ["✓ as expected", "! known bug present", "**↑ known bug gone**", "**✗ failed**", "– unsupported", "**⚠ error**"]
    {
        assert!(md.contains(&format!("| {state}")) || md.contains(&format!("{state} |")), "{state} missing:\n{md}");
    }
    assert_eq!(md.matches("\n#### ").count(), 3, "{md}");
    assert!(md.contains("expected reused, observed executed"), "{md}");
}

#[test]
fn a_500_cell_matrix_stays_under_one_mebibyte() {
    let cells = big_matrix(500);
    let md = render_markdown(&cells);
    assert!(md.len() < 1024 * 1024, "{} bytes", md.len());
    assert!(md.len() <= MARKDOWN_LIMIT);
    // All 25 scenario rows are in the table.
    assert_eq!(md.lines().filter(|l| l.starts_with("| `scenario-")).count(), 25);
    assert!(md.contains("500 cell(s) (25 scenario(s) × 20 engine(s))"), "{}", &md[..2000]);
}

#[test]
fn details_that_do_not_fit_are_left_out_with_a_note() {
    let cells = big_matrix(500);
    let md = render_markdown_within(&cells, 64 * 1024);
    assert!(md.len() <= 64 * 1024, "{} bytes", md.len());
    assert!(
        md.contains("more cell(s) with details left out to stay under the size limit"),
        "{}",
        &md[md.len() - 500..]
    );
    // A limit smaller than the table cuts rows, and says so.
    let md = render_markdown_within(&cells, 4 * 1024);
    assert!(md.len() <= 4 * 1024, "{} bytes", md.len());
    assert!(md.contains("more scenario row(s) left out"), "{md}");
}
