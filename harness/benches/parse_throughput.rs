//! Parses large generated logs of every format and prints throughput and
//! peak memory. Goals: at least 200 MB/s, under 20 MB peak RSS, for a plain
//! log of at least 100 MB (`HARNESS_BENCH_MB`, default 120); the other
//! formats get a quarter of that each. Then crafted logs that once took
//! time out of proportion to their size (a 4-line log claiming 4 billion
//! steps; 1.5 million steps), each with its time and peak memory. Figures
//! are in BENCHMARKS.md at the repository root.
//!
//! The log is a CI job's worth of builds, each shaped like the real
//! fixtures: internal vertices, cached steps, a registry-cache step with
//! many layer-progress lines, and a cook step with a flood of compiler
//! output. It is written to a temp file as it is generated, so the process
//! never holds it; peak RSS then measures the parser. Run with
//! `cargo bench -p harness --bench parse_throughput`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use harness::progress::{parse_path, Outcome};

const MB: f64 = 1_000_000.0;

fn main() {
    let target_mb: u64 = std::env::var("HARNESS_BENCH_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(120);
    let dir = tempfile::tempdir().expect("temp dir");

    let plain = dir.path().join("big.log");
    let builds = 12;
    let bytes = write_plain(&plain, target_mb * 1_000_000, builds).expect("write plain log");
    report("plain", &plain, bytes, builds);

    let raw = dir.path().join("big.rawjson");
    let quarter = (target_mb / 4).max(1) * 1_000_000;
    let bytes = write_rawjson(&raw, quarter).expect("write rawjson log");
    report("rawjson", &raw, bytes, 1);

    for (label, write) in formats::ALL {
        let path = dir.path().join(format!("big-{label}.log"));
        let bytes = write(&path, quarter).expect("write log");
        report(label, &path, bytes, 1);
    }
    for (label, write) in formats::CRAFTED {
        let path = dir.path().join(format!("crafted-{label}.log"));
        let bytes = write(&path).expect("write log");
        crafted(label, &path, bytes);
    }
}

mod formats;

/// Times a crafted log: no outcome is asserted beyond parsing.
fn crafted(label: &str, path: &Path, bytes: u64) {
    reset_peak();
    let start = Instant::now();
    let builds = parse_path(path).expect("the crafted log parses");
    let secs = start.elapsed().as_secs_f64();
    let steps: usize = builds.iter().map(|b| b.steps.len()).sum();
    println!(
        "crafted {label}: {:.1} MB, {steps} steps in {secs:.3} s; peak RSS {:.1} MB",
        bytes as f64 / MB,
        vm_hwm_kib() as f64 * 1024.0 / MB,
    );
}

/// Resets the peak RSS counter so each case reports its own peak.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn report(label: &str, path: &Path, bytes: u64, expect_builds: usize) {
    reset_peak();
    let rss_before = vm_hwm_kib();
    let start = Instant::now();
    let builds = parse_path(path).expect("the generated log parses");
    let secs = start.elapsed().as_secs_f64();
    let rss_after = vm_hwm_kib();
    assert_eq!(builds.len(), expect_builds, "{label}: every generated build is found");
    let cook = builds[0].step("cargo chef cook").unwrap_or_else(|| panic!("{label}: cook step"));
    assert_eq!(cook.outcome, Outcome::Executed, "{label}");
    let steps: usize = builds.iter().map(|b| b.steps.len()).sum();
    println!(
        "{label}: parsed {:.1} MB ({} build(s), {steps} steps) in {secs:.3} s: {:.0} MB/s; peak RSS {:.1} MB (before parsing {:.1} MB)",
        bytes as f64 / MB,
        builds.len(),
        bytes as f64 / MB / secs,
        rss_after as f64 * 1024.0 / MB,
        rss_before as f64 * 1024.0 / MB,
    );
}

/// Peak resident set size of this process so far, in KiB.
fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn hex(seed: u64) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..4)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            format!("{x:016x}")
        })
        .collect()
}

/// Writes `builds` plain builds totalling about `bytes`; returns the size.
fn write_plain(path: &Path, bytes: u64, builds: usize) -> std::io::Result<u64> {
    let mut w = CountingWriter::new(path)?;
    let per_build = bytes / builds as u64;
    for b in 0..builds {
        let start = w.written;
        writeln!(w, "$ docker build --target builder .")?;
        writeln!(w, "#0 building with \"default\" instance using docker driver\n")?;
        writeln!(w, "#1 [internal] load build definition from Dockerfile\n#1 transferring dockerfile: 394B done\n#1 DONE 0.0s\n")?;
        writeln!(w, "#2 [internal] load metadata for registry:5000/chef:latest\n#2 DONE 0.0s\n")?;
        writeln!(w, "#3 importing cache manifest from registry:5000/hw:cache\n#3 DONE 0.0s\n")?;
        writeln!(w, "#4 [chef 1/2] FROM registry:5000/chef:latest@sha256:{}\n#4 DONE 0.0s\n", hex(4))?;
        // A registry-cache hit: layer progress only.
        writeln!(w, "#5 [chef 2/2] WORKDIR /app\n#5 CACHED\n\n#5 [chef 2/2] WORKDIR /app")?;
        for layer in 0..8u64 {
            let digest = hex(100 + layer);
            for step in 1..=200u64 {
                writeln!(w, "#5 sha256:{digest} {:.2}MB / 465.64MB {:.1}s", step as f64 * 2.3, step as f64 * 0.1)?;
            }
            writeln!(w, "#5 extracting sha256:{digest} 2.4s done")?;
        }
        writeln!(w, "#5 DONE 11.2s\n")?;
        writeln!(w, "#6 [planner 1/2] COPY . .\n#6 DONE 1.6s\n")?;
        writeln!(w, "#7 [planner 2/2] RUN cargo chef prepare --recipe-path recipe.json\n#7 DONE 0.2s\n")?;
        writeln!(w, "#8 [builder 1/4] COPY --from=planner /app/recipe.json recipe.json\n#8 CACHED\n")?;
        writeln!(w, "#9 [builder 2/4] RUN cargo chef cook --release --recipe-path recipe.json")?;
        let mut i = 0u64;
        while w.written - start < per_build.saturating_sub(2_000) {
            let t = i as f64 * 0.0007;
            writeln!(
                w,
                "#9 {t:.3}    Compiling crate-{i} v0.{}.{} (registry+https://github.com/rust-lang/crates.io-index)",
                i % 17,
                i % 5
            )?;
            i += 1;
        }
        writeln!(w, "#9 DONE 1234.5s\n")?;
        writeln!(w, "#10 [builder 3/4] COPY . .\n#10 DONE 0.1s\n")?;
        writeln!(w, "#11 [builder 4/4] RUN cargo build --release --bin app\n#11 0.786     Finished `release` profile\n#11 DONE 0.8s\n")?;
        writeln!(w, "#12 exporting to image\n#12 exporting layers 0.1s done\n#12 naming to registry:5000/hw:builder{b} done\n#12 DONE 0.1s")?;
    }
    w.finish()
}

/// Writes one rawjson build of about `bytes`, one object per line as
/// buildx 0.2x does, the cook step's output in base64 `logs`.
fn write_rawjson(path: &Path, bytes: u64) -> std::io::Result<u64> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut w = CountingWriter::new(path)?;
    let ts = "2026-11-24T00:19:05.349812377Z";
    let done = "2026-11-24T00:19:09.349812377Z";
    let vertex = |w: &mut CountingWriter, d: &str, name: &str, completed: bool, cached: bool| -> std::io::Result<()> {
        let mut v = format!(r#"{{"digest":"sha256:{d}","name":"{name}","started":"{ts}""#);
        if completed {
            v.push_str(&format!(r#","completed":"{done}""#));
        }
        if cached {
            v.push_str(r#","cached":true"#);
        }
        writeln!(w, r#"{{"vertexes":[{v}}}]}}"#)
    };
    vertex(&mut w, &hex(1), "[internal] load build definition from Dockerfile", true, false)?;
    vertex(&mut w, &hex(2), "[chef 1/2] FROM registry:5000/chef:latest", true, false)?;
    vertex(&mut w, &hex(3), "[chef 2/2] WORKDIR /app", true, true)?;
    let cook = hex(4);
    vertex(&mut w, &cook, "[builder 2/4] RUN cargo chef cook --release --recipe-path recipe.json", false, false)?;
    let mut i = 0u64;
    while w.written < bytes {
        let mut chunk = String::new();
        for _ in 0..8 {
            chunk.push_str(&format!("   Compiling crate-{i} v0.{}.{}\n", i % 17, i % 5));
            i += 1;
        }
        writeln!(
            w,
            r#"{{"logs":[{{"vertex":"sha256:{cook}","stream":2,"data":"{}","timestamp":"{ts}"}}]}}"#,
            b64.encode(chunk)
        )?;
    }
    vertex(&mut w, &cook, "[builder 2/4] RUN cargo chef cook --release --recipe-path recipe.json", true, false)?;
    w.finish()
}

pub(crate) struct CountingWriter {
    inner: BufWriter<File>,
    pub(crate) written: u64,
}

impl CountingWriter {
    pub(crate) fn new(path: &Path) -> std::io::Result<Self> {
        Ok(Self { inner: BufWriter::with_capacity(1 << 20, File::create(path)?), written: 0 })
    }

    pub(crate) fn finish(mut self) -> std::io::Result<u64> {
        self.inner.flush()?;
        Ok(self.written)
    }
}

impl Write for CountingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
