//! The HTML report on recorded cells, opened in headless Chromium (Debian's
//! `chromium`): the DOM after the page's script ran must show every cell with
//! its state and one cell's grid; the screenshot must be a real picture.
//!
//! `HARNESS_UPDATE_SCREENSHOT=1` also copies the screenshot to
//! `docs/report-html.png`, the one the reference page shows.

mod matrix_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness::report::{render_html, CellState};
use matrix_support::sample_matrix;

const WINDOW: (u32, u32) = (1280, 1900);

#[test]
fn html_is_one_self_contained_file() {
    let html = render_html(&sample_matrix());
    for remote in ["<link", "src=\"http", "href=\"//", "@import", "url(http"] {
        assert!(!html.contains(remote), "external asset `{remote}` in the page");
    }
    // Links to upstream bugs are the only URLs, and they are plain anchors.
    assert!(html.contains("<a href=\"https://github.com/moby/buildkit/issues/2274\">"));
    assert_eq!(html.matches("<button type=\"button\" class=\"cell").count(), 6);
    assert_eq!(html.matches("<section class=\"detail\"").count(), 6);
}

#[test]
fn chromium_shows_every_cell_state_and_a_cell_grid() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, render_html(&sample_matrix())).unwrap();

    let dom = chromium(dir.path(), &["--dump-dom".to_owned(), url(&page, "")]);
    let dom = String::from_utf8(dom).unwrap();
    assert_eq!(dom.matches("<button type=\"button\" class=\"cell").count(), 6, "{dom}");
    for state in CellState::ALL {
        let shown = format!("data-state=\"{}\"", state.slug());
        let label = format!("{} {}", state.symbol(), state.label());
        assert!(dom.contains(&shown) && dom.contains(&label), "state {label} not shown");
    }
    // The script opened the failed cell: its button is pressed, its grid shown.
    let pressed: Vec<&str> = dom
        .match_indices("aria-pressed=\"true\">")
        .map(|(i, _)| &dom[dom[..i].rfind("<button").unwrap_or(0)..i])
        .collect();
    assert_eq!(pressed.len(), 1, "{dom}");
    assert!(pressed[0].contains("data-state=\"failed\""), "{}", pressed[0]);
    assert_eq!(dom.matches("<section class=\"detail\"").count(), 6);
    assert_eq!(dom.matches("<section class=\"detail\" id=\"cell-4\" data-state=\"failed\">").count(), 1, "{dom}");
    assert_eq!(dom.matches("\" hidden=\"\">").count(), 5, "five cells stay hidden:\n{dom}");

    // A link to a cell (#cell-3, the known bug gone) opens that one instead.
    let dom = String::from_utf8(chromium(dir.path(), &["--dump-dom".into(), url(&page, "#cell-3")])).unwrap();
    assert_eq!(dom.matches("<section class=\"detail\" id=\"cell-3\" data-state=\"bug-gone\">").count(), 1, "{dom}");

    let shot = dir.path().join("shot.png");
    chromium(
        dir.path(),
        &[
            format!("--screenshot={}", shot.display()),
            format!("--window-size={},{}", WINDOW.0, WINDOW.1),
            url(&page, ""),
        ],
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", shot.display()));
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), WINDOW);
    // A blank page of this size compresses to a few KiB; a drawn one does not.
    assert!(png.len() > 40 * 1024, "screenshot is only {} bytes: nothing drawn?", png.len());
    if std::env::var_os("HARNESS_UPDATE_SCREENSHOT").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/report-html.png");
        std::fs::copy(&shot, &docs).unwrap();
    }
}

fn url(page: &Path, fragment: &str) -> String {
    format!("file://{}{fragment}", page.display())
}

/// Runs headless Chromium with a fresh profile and no network chatter;
/// returns its standard output.
fn chromium(dir: &Path, args: &[String]) -> Vec<u8> {
    let binary = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok())
        .unwrap_or_else(|| {
            panic!("Chromium is missing: install it with `apt-get install chromium` (or run ci/test-tools)")
        });
    let profile = tempfile::tempdir_in(dir).unwrap();
    let out = dir.join(format!("chromium-{}.out", args.len()));
    let err = dir.join(format!("chromium-{}.err", args.len()));
    let mut child = Command::new(binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish in 120 s: {}", read(&err));
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "chromium failed ({status}): {}", read(&err));
    std::fs::read(&out).unwrap()
}

fn read(path: &PathBuf) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
