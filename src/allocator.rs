//! The allocator the `stancelog` binary and the benchmarks run on: mimalloc, with a shorter purge
//! delay.
//!
//! Why mimalloc: reading a log decodes lines on worker threads and folds them on the calling
//! thread, so most blocks are freed by another thread than the one that allocated them, which
//! glibc's allocator handles slowly (a replay of the UN votes log took a quarter longer).
//!
//! Why the purge delay: mimalloc v3 keeps freed pages for 1000 ms before returning them to the
//! system. A read frees its decoded chunks as it goes, so with that delay a query on the UN votes
//! log held up to 175 MB where it needs 75-100 MB. 250 ms keeps every query on that log under
//! about 125 MB; shorter delays saved a little more memory but slowed a replay by up to a tenth
//! (the pages freed are soon needed again), measured with `benches/replay_real.rs`.
//! An import sets a longer one, 5 s ([`tune_mimalloc_for_import`]): it frees and takes again
//! pages batch after batch for as long as it runs.
//!
//! Why no transparent huge pages (but for imports): mimalloc asks for them on its arenas
//! (`madvise(MADV_HUGEPAGE)`), and the kernel then zeroes a whole 2 MiB page at the first touch
//! of each region, however little of it a query uses (and, where no free huge page is at hand,
//! compacts memory first). A one-actor query of the UN votes log spent about a third of its CPU
//! time in that zeroing (`perf`, at load 8) and held 43 MB at its peak; without huge pages 23 to
//! 26 MB. Interleaved, CPU medians (max), huge pages / none: at load 8 to 12, one-actor positions
//! 74 (134) / 52 (81) ms (15 runs each), `--issue nu` 398 / 295 ms (7), every pair 1.19 / 1.16 s
//! (5), `index --rebuild` 4.8 / 4.0 s (2), peaks 165 / 120 MB; at load 7, one-actor positions
//! 28.0 (48.2) / 28.6 (35.5) ms (25 runs each): the same median, shorter worst runs. An import of
//! the UN votes was no faster without them (3.4 and 3.8 / 3.8 and 3.7 s), so it keeps them.

/// Index of `mi_option_purge_delay` in the `mi_option_e` enum of the mimalloc v3 that
/// libmimalloc-sys 0.1.49 bundles (the crate exports no constant for it; Cargo.toml pins that
/// version).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc v3's default purge delay, in milliseconds.
const PURGE_DELAY_DEFAULT_MS: std::ffi::c_long = 1000;

/// The purge delay set here, in milliseconds.
pub const PURGE_DELAY_MS: std::ffi::c_long = 250;

/// Whether [`tune_mimalloc`] set the purge delay (a user's `MIMALLOC_PURGE_DELAY=250` is then
/// told apart from ours).
static TUNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether [`tune_mimalloc`] turned transparent huge pages off (so an import turns them back on
/// only then, not where the user or mimalloc's `MIMALLOC_ALLOW_THP=0` turned them off).
static THP_TURNED_OFF: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Sets mimalloc's purge delay to [`PURGE_DELAY_MS`], only if that option has mimalloc v3's
/// default (so a differently numbered mimalloc, or a delay the user set with the
/// `MIMALLOC_PURGE_DELAY` variable, is left alone), and turns transparent huge pages off for
/// the process (`prctl(PR_SET_THP_DISABLE)`, which child processes inherit; where the kernel
/// refuses, they stay as they were).
/// Call once, first thing in `main`.
pub fn tune_mimalloc() {
    if rustix::thread::transparent_huge_pages_are_disabled().is_ok_and(|off| !off)
        && rustix::thread::disable_transparent_huge_pages(true).is_ok()
    {
        THP_TURNED_OFF.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    // SAFETY: mi_option_get and mi_option_set read and write one process-wide integer option;
    // they touch no memory of ours and may be called at any time.
    unsafe {
        if libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) == PURGE_DELAY_DEFAULT_MS {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS);
            TUNED.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// The purge delay for an import, in milliseconds: see [`tune_mimalloc_for_import`].
pub const PURGE_DELAY_IMPORT_MS: std::ffi::c_long = 5000;

/// Sets mimalloc's purge delay to [`PURGE_DELAY_IMPORT_MS`] if [`tune_mimalloc`] set it and it
/// is still the one it set (a delay the user chose is left alone, even one of 250 ms), and
/// turns transparent huge pages back on if [`tune_mimalloc`] turned them off. Call when an
/// import starts.
///
/// Why: an import allocates each batch's rows, history and output on one thread and frees
/// them on another, batch after batch; with a 250 ms delay the freed pages went back to the
/// system and were taken again, zeroed by the kernel, for the next batches (a 4M-row sheet:
/// about 420,000 page faults, 5.2 s of system CPU of 21 s in all; with 5 s, about 42,000
/// faults, 3.3 s of 19 s, for a peak 40 to 90 MB higher). Never purging (`-1`) saved a
/// little more CPU (18.2 s) for a peak 100 MB higher. The UN votes import (4 s) gains nothing
/// and holds about 60 MB more.
pub fn tune_mimalloc_for_import() {
    if THP_TURNED_OFF.load(std::sync::atomic::Ordering::Relaxed) {
        let _ = rustix::thread::disable_transparent_huge_pages(false);
    }
    // SAFETY: as in tune_mimalloc.
    unsafe {
        if TUNED.load(std::sync::atomic::Ordering::Relaxed)
            && libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) == PURGE_DELAY_MS
        {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_IMPORT_MS);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One test for both settings: they are the process's, which tests on other threads of
    /// this process would race for.
    #[test]
    fn the_purge_delay_is_set_once_a_chosen_one_kept_and_huge_pages_are_off_but_for_imports() {
        // SAFETY: as in tune_mimalloc.
        let get = || unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(get(), PURGE_DELAY_DEFAULT_MS);
        }
        let thp_off = rustix::thread::transparent_huge_pages_are_disabled;
        let off_before = thp_off().ok();
        tune_mimalloc();
        if off_before.is_some() {
            assert_eq!(thp_off().ok(), Some(true));
        }
        let after = get();
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(after, PURGE_DELAY_MS);
        }
        tune_mimalloc();
        assert_eq!(get(), after);
        tune_mimalloc_for_import();
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(get(), PURGE_DELAY_IMPORT_MS);
        } else {
            assert_eq!(get(), after);
        }
        // Back as they were: on, or off where they were off before (`MIMALLOC_ALLOW_THP=0`).
        assert_eq!(thp_off().ok(), off_before);
    }
}
