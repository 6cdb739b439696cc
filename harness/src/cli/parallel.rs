//! How many cells `harness matrix` runs side by side when not told: what
//! the machine's cores and memory allow, with the reason printed.
//!
//! A cell is one dind compiling Rust part of the time (cargo uses every
//! core it is given; a release build of the fixture peaks near 2 GiB) and
//! waiting the rest: daemon starts, pulls, pushes, layer exports. Measured
//! on 2 cores, two cells side by side finished a scenario's cells in 1210 s
//! against 1774 s one at a time (BENCHMARKS.md), so a cell is counted as
//! one core and three GiB.

/// Cores one cell keeps busy, averaged over its life.
const CORES_PER_CELL: usize = 1;
/// Memory one cell needs, in GiB.
const GIB_PER_CELL: u64 = 3;

/// The default parallelism for `cores` and `memory_gib`, and why.
pub(super) fn default_parallel(cores: usize, memory_gib: u64) -> (usize, String) {
    let by_cores = cores / CORES_PER_CELL;
    let by_memory = usize::try_from(memory_gib / GIB_PER_CELL).unwrap_or(usize::MAX);
    let parallel = by_cores.min(by_memory).max(1);
    let reason = format!("{cores} cores, {memory_gib} GiB; each cell ~{CORES_PER_CELL} core and ~{GIB_PER_CELL} GiB");
    (parallel, reason)
}

/// This machine's cores and memory.
pub(super) fn machine() -> (usize, u64) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores, memory_gib().unwrap_or(0))
}

/// `MemTotal` of `/proc/meminfo`, in GiB (rounded to the nearest).
fn memory_gib() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 =
        text.lines().find_map(|l| l.strip_prefix("MemTotal:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some((kib + (1 << 19)) >> 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cores_and_memory_both_bound_the_default() {
        assert_eq!(default_parallel(2, 23), (2, "2 cores, 23 GiB; each cell ~1 core and ~3 GiB".into()));
        assert_eq!(default_parallel(1, 64).0, 1);
        assert_eq!(default_parallel(16, 64).0, 16);
        assert_eq!(default_parallel(16, 8).0, 2);
        assert_eq!(default_parallel(2, 3).0, 1, "memory bounds it below the cores");
        assert_eq!(default_parallel(16, 0).0, 1, "unknown memory still runs one cell");
    }

    #[test]
    fn this_machine_has_cores_and_memory() {
        let (cores, memory) = machine();
        assert!(cores >= 1);
        assert!(memory >= 1, "no MemTotal read from /proc/meminfo");
    }
}
