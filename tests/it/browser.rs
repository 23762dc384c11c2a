//! The HTML report in a real browser: headless Chromium (Debian package `chromium`) loads the
//! report of the seed log (and, with `real-data`, of the UN votes), and the test checks that the
//! page logged nothing to the console, that its screenshot is not blank, and that the DOM as
//! the browser built it holds the expected charts. Built only with `--features browser`.
//! Screenshots are kept under the target folder (`browser-shots/`) for a person to look at.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::report::{SEED_ARGS, report};
use crate::support::seed_log;

/// Runs headless Chromium on a page with a fresh profile, as root in a container can.
fn chromium(page: &Path, args: &[&str]) -> Output {
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", page.display());
    Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            // A container's /dev/shm is often 64 MB, too small for a large screenshot.
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .output()
        .expect("run chromium (apt-get install chromium)")
}

/// The page's console messages, as Chromium logs them on standard error.
fn console_lines(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect()
}

fn shots() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-shots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Share of pixels that are not white, and how many distinct colours the screenshot has.
fn ink(png_path: &Path) -> (f64, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let mut colours = std::collections::BTreeSet::new();
    let mut inked = 0usize;
    let total = pixels.len() / channels;
    for px in pixels.chunks(channels) {
        let rgb = (px[0], px[1 % channels], px[2 % channels]);
        if rgb != (255, 255, 255) {
            inked += 1;
        }
        colours.insert(rgb);
    }
    (inked as f64 / total as f64, colours.len())
}

/// Loads a report: no console message, a screenshot with ink and colours, and these ids in the
/// DOM Chromium built.
fn check(page: &Path, name: &str, ids: &[&str]) {
    let dom = chromium(page, &["--dump-dom"]);
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    assert_eq!(
        console_lines(&dom),
        Vec::<String>::new(),
        "{name}: console messages"
    );
    let dom_text = String::from_utf8(dom.stdout).unwrap();
    for id in ids {
        assert!(
            dom_text.contains(&format!("id=\"{id}\"")),
            "{name}: no #{id} in the DOM"
        );
    }
    let shot = shots().join(format!("{name}.png"));
    let _ = std::fs::remove_file(&shot);
    let o = chromium(
        page,
        &[
            "--window-size=1280,2000",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        console_lines(&o),
        Vec::<String>::new(),
        "{name}: console messages"
    );
    let (share, colours) = ink(&shot);
    eprintln!(
        "{name}: {} ({:.1}% ink, {colours} colours)",
        shot.display(),
        share * 100.0
    );
    assert!(
        share > 0.02,
        "{name}: the screenshot is nearly blank ({share})"
    );
    assert!(colours > 16, "{name}: {colours} colours");
}

#[test]
fn the_check_sees_console_errors_and_blank_pages() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.html");
    std::fs::write(
        &bad,
        "<!DOCTYPE html><html><head><link rel=\"icon\" href=\"data:,\"></head><body>\
<script>console.error('boom');</script></body></html>",
    )
    .unwrap();
    let o = chromium(&bad, &["--dump-dom"]);
    let lines = console_lines(&o);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("boom"));
    let shot = dir.path().join("blank.png");
    let o = chromium(
        &bad,
        &[
            "--window-size=800,600",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    assert!(o.status.success());
    assert_eq!(ink(&shot).0, 0.0);
}

#[test]
fn seed_report_in_chromium() {
    let (_dir, page, _) = report(&seed_log(), SEED_ARGS);
    check(
        &page,
        "seed",
        &["grid-svg", "timeline-svg", "positions", "timeline", "diff"],
    );
}

#[cfg(feature = "real-data")]
#[test]
fn un_votes_report_in_chromium() {
    let log = crate::real_analysis::un_log();
    let args = [
        "--actor",
        "USA",
        "--actor",
        "RUS",
        "--actor",
        "CHN",
        "--actor",
        "FRA",
        "--actor",
        "IND",
        "--pair",
        "USA,RUS",
        "--pair",
        "USA,CHN",
        "--from",
        "1991-01-01",
        "--to",
        "1991-12-31",
    ];
    let (_dir, page, html) = report(log, &args);
    check(
        &page,
        "un-votes",
        &[
            "grid-svg",
            "timeline-svg",
            "agreement-svg",
            "pairs-svg",
            "diff",
        ],
    );
    // Five actors in the heatmap: 25 cells.
    let heatmap = html.split("id=\"agreement-svg\"").nth(1).unwrap();
    let heatmap = &heatmap[..heatmap.find("</svg>").unwrap()];
    assert_eq!(heatmap.matches("<rect ").count(), 25);
}
