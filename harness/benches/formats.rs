//! Generators for the non-plain formats and the crafted logs. Each writes a
//! log shaped like the real fixtures, with a `cargo chef cook` step that
//! runs and floods output, until it reaches about `bytes`.

use std::io::Write;
use std::path::Path;

use super::CountingWriter;

type Gen = fn(&Path, u64) -> std::io::Result<u64>;
type Crafted = fn(&Path) -> std::io::Result<u64>;

pub(crate) const ALL: [(&str, Gen); 4] = [("tty", tty), ("legacy", legacy), ("buildah", buildah), ("kaniko", kaniko)];

pub(crate) const CRAFTED: [(&str, Crafted); 5] = [
    ("plain-claims-4e9-steps", |p| {
        lines(p, &["#1 [s 1/4000000000] RUN x", "#1 DONE 0.1s", "#2 [s 4000000000/4000000000] RUN y", "#2 DONE 0.1s"])
    }),
    ("legacy-claims-4e9-steps", |p| {
        lines(
            p,
            &[
                "Step 1/4000000000 : RUN x",
                " ---> Using cache",
                " ---> 0123456789ab",
                "Successfully built 0123456789ab",
            ],
        )
    }),
    ("plain-1.5M-steps", |p| {
        many_steps(p, 1_500_000, |w, i| writeln!(w, "#{i} [s {i}/1500000] RUN step {i}\n#{i} CACHED"))
    }),
    ("legacy-1.5M-steps", |p| {
        many_steps(p, 1_500_000, |w, i| {
            writeln!(w, "Step {i}/1500000 : RUN step {i}\n ---> Using cache\n ---> 0123456789ab")
        })
    }),
    ("tty-1.5M-steps", |p| {
        many_steps(p, 1_500_000, |w, i| writeln!(w, " => CACHED [s {i}/1500000] RUN step {i}   0.0s"))
    }),
];

fn lines(path: &Path, lines: &[&str]) -> std::io::Result<u64> {
    let mut w = CountingWriter::new(path)?;
    for l in lines {
        writeln!(w, "{l}")?;
    }
    w.finish()
}

fn many_steps(path: &Path, n: u64, step: fn(&mut CountingWriter, u64) -> std::io::Result<()>) -> std::io::Result<u64> {
    let mut w = CountingWriter::new(path)?;
    for i in 1..=n {
        step(&mut w, i)?;
    }
    w.finish()
}

const COOK: &str = "cargo chef cook --release --recipe-path recipe.json";

/// Writes `line(i)` until the file reaches `bytes`.
fn flood(
    w: &mut CountingWriter,
    bytes: u64,
    line: impl Fn(&mut CountingWriter, u64) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut i = 0;
    while w.written < bytes {
        line(w, i)?;
        i += 1;
    }
    Ok(())
}

/// tty as a terminal recorder captures it: a frame every 64 output lines,
/// each redrawing the vertices and the last output lines.
fn tty(path: &Path, bytes: u64) -> std::io::Result<u64> {
    let mut w = CountingWriter::new(path)?;
    let frame = |w: &mut CountingWriter, t: f64, done: bool| -> std::io::Result<()> {
        let fin = if done { " FINISHED" } else { "" };
        writeln!(w, "\x1b[9A[+] Building {t:.1}s (4/5){fin}")?;
        writeln!(w, " => [internal] load build definition from Dockerfile      0.0s")?;
        writeln!(w, " => CACHED [chef 1/2] FROM registry:5000/chef:latest      0.0s")?;
        writeln!(w, " => CACHED [chef 2/2] WORKDIR /app                        0.0s")?;
        writeln!(w, " => [builder 1/2] RUN {COOK}   {t:.1}s")
    };
    flood(&mut w, bytes.saturating_sub(2_000), |w, i| {
        if i % 64 == 0 {
            frame(w, i as f64 * 0.01, false)?;
        }
        writeln!(w, " => => #    Compiling crate-{i} v0.{}.{}", i % 17, i % 5)
    })?;
    frame(&mut w, 99.0, true)?;
    w.finish()
}

fn legacy(path: &Path, bytes: u64) -> std::io::Result<u64> {
    let mut w = CountingWriter::new(path)?;
    writeln!(
        w,
        "Sending build context to Docker daemon  5.632kB\nStep 1/3 : FROM chef AS builder\n ---> 51045e794b7e"
    )?;
    writeln!(w, "Step 2/3 : WORKDIR /app\n ---> Using cache\n ---> 6086447ff900")?;
    writeln!(w, "Step 3/3 : RUN {COOK}\n ---> Running in af2198827fab")?;
    flood(&mut w, bytes, |w, i| writeln!(w, "   Compiling crate-{i} v0.{}.{}", i % 17, i % 5))?;
    writeln!(w, "Removing intermediate container af2198827fab\n ---> 7446866481c5\nSuccessfully built 7446866481c5")?;
    w.finish()
}

fn buildah(path: &Path, bytes: u64) -> std::io::Result<u64> {
    let mut w = CountingWriter::new(path)?;
    writeln!(w, "[1/2] STEP 1/3: FROM chef AS builder\n[1/2] STEP 2/3: WORKDIR /app")?;
    writeln!(w, "--> Using cache e6c10cc06bdf13a60fc9d1f361502172eb7e41c73770df5ed660dac4d6e51d38\n--> e6c10cc06bd")?;
    writeln!(w, "[1/2] STEP 3/3: RUN {COOK}")?;
    flood(&mut w, bytes, |w, i| writeln!(w, "   Compiling crate-{i} v0.{}.{}", i % 17, i % 5))?;
    writeln!(w, "--> bec274de9a0\n[2/2] STEP 1/1: FROM runtime\n[2/2] COMMIT app\n--> c83da2bac36")?;
    w.finish()
}

fn kaniko(path: &Path, bytes: u64) -> std::io::Result<u64> {
    let mut w = CountingWriter::new(path)?;
    writeln!(w, "INFO[0000] Retrieving image manifest chef:latest\nINFO[0001] Building stage 'chef:latest' [idx: '0', base-idx: '-1']")?;
    writeln!(w, "INFO[0001] No cached layer found for cmd RUN {COOK}\nINFO[0002] RUN {COOK}\nINFO[0002] Running: [/bin/sh -c {COOK}]")?;
    flood(&mut w, bytes, |w, i| writeln!(w, "   Compiling crate-{i} v0.{}.{}", i % 17, i % 5))?;
    writeln!(w, "INFO[0300] Taking snapshot of full filesystem...\nINFO[0310] Pushing image to registry:5000/app")?;
    w.finish()
}
