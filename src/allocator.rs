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

/// Index of `mi_option_purge_delay` in the `mi_option_e` enum of the mimalloc v3 that
/// libmimalloc-sys 0.1.49 bundles (the crate exports no constant for it; Cargo.toml pins that
/// version).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc v3's default purge delay, in milliseconds.
const PURGE_DELAY_DEFAULT_MS: std::ffi::c_long = 1000;

/// The purge delay set here, in milliseconds.
pub const PURGE_DELAY_MS: std::ffi::c_long = 250;

/// Sets mimalloc's purge delay to [`PURGE_DELAY_MS`], only if that option has mimalloc v3's
/// default (so a differently numbered mimalloc, or a delay the user set with the
/// `MIMALLOC_PURGE_DELAY` variable, is left alone). Call once, first thing in `main`.
pub fn tune_mimalloc() {
    // SAFETY: mi_option_get and mi_option_set read and write one process-wide integer option;
    // they touch no memory of ours and may be called at any time.
    unsafe {
        if libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) == PURGE_DELAY_DEFAULT_MS {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS);
        }
    }
}

/// The purge delay for an import, in milliseconds: see [`tune_mimalloc_for_import`].
pub const PURGE_DELAY_IMPORT_MS: std::ffi::c_long = 5000;

/// Sets mimalloc's purge delay to [`PURGE_DELAY_IMPORT_MS`] if it is the one
/// [`tune_mimalloc`] set (a delay the user chose is left alone). Call when an import starts.
///
/// Why: an import allocates each batch's rows, history and output on one thread and frees
/// them on another, batch after batch; with a 250 ms delay the freed pages went back to the
/// system and were taken again, zeroed by the kernel, for the next batches (a 4M-row sheet:
/// about 420,000 page faults, 5.2 s of system CPU of 21 s in all; with 5 s, about 42,000
/// faults, 3.3 s of 19 s, for a peak 40 to 90 MB higher). Never purging (`-1`) saved a
/// little more CPU (18.2 s) for a peak 100 MB higher. The UN votes import (4 s) gains nothing
/// and holds about 60 MB more.
pub fn tune_mimalloc_for_import() {
    // SAFETY: as in tune_mimalloc.
    unsafe {
        if libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) == PURGE_DELAY_MS {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_IMPORT_MS);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_is_set_once_and_a_chosen_one_is_kept() {
        // SAFETY: as in tune_mimalloc.
        let get = || unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(get(), PURGE_DELAY_DEFAULT_MS);
        }
        tune_mimalloc();
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
    }
}
