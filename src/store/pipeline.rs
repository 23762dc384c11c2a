//! A bounded, ordered pipeline: one thread reads items, worker threads transform them, and the
//! calling thread takes the results in the order they were read.
//!
//! Worker `k` of `W` takes items `k`, `k + W`, `k + 2W`, ... through a queue of
//! [`QUEUE_ITEMS`] and hands each result back through a queue of the same size; the caller takes
//! results round-robin. So at most `W * (2 * QUEUE_ITEMS + 1) + 2` items (or their results) exist
//! at once, however slow one worker is: reading memory-heavy input stays bounded.

use std::sync::mpsc::{Receiver, sync_channel};

/// Items queued for each worker, on the way in and on the way out.
pub(crate) const QUEUE_ITEMS: usize = 1;

/// Worker threads: one per core, at most 8.
pub(crate) fn workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
}

/// Runs `source` on a reader thread and `work` on [`workers`] threads, and calls `consume` with
/// the results in source order; returns what `consume` returns.
///
/// When `consume` returns (having read all results or not), its iterator is dropped, and the
/// workers and the reader stop at their next hand-off. If a worker or the reader panics, the
/// iterator ends early and the panic is passed on once `consume` returns.
pub(crate) fn ordered<I, O, T>(
    source: impl Iterator<Item = I> + Send,
    work: impl Fn(I) -> O + Sync,
    consume: impl FnOnce(InOrder<O>) -> T,
) -> T
where
    I: Send,
    O: Send,
{
    let n = workers();
    std::thread::scope(|scope| {
        let mut inputs = Vec::with_capacity(n);
        let mut outputs = Vec::with_capacity(n);
        for _ in 0..n {
            let (in_tx, in_rx) = sync_channel::<I>(QUEUE_ITEMS);
            let (out_tx, out_rx) = sync_channel::<O>(QUEUE_ITEMS);
            let work = &work;
            scope.spawn(move || {
                for item in in_rx {
                    if out_tx.send(work(item)).is_err() {
                        break;
                    }
                }
            });
            inputs.push(in_tx);
            outputs.push(out_rx);
        }
        scope.spawn(move || {
            for (i, item) in source.enumerate() {
                if inputs[i % n].send(item).is_err() {
                    break;
                }
            }
        });
        consume(InOrder { outputs, next: 0 })
    })
}

/// The results of [`ordered`], in source order. Ends after the last one, or early if a thread
/// panicked.
pub(crate) struct InOrder<O> {
    outputs: Vec<Receiver<O>>,
    next: usize,
}

impl<O> Iterator for InOrder<O> {
    type Item = O;

    fn next(&mut self) -> Option<O> {
        let out = self.outputs[self.next % self.outputs.len()].recv().ok();
        self.next += 1;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_source_order_and_an_early_stop_ends_every_thread() {
        let out: Vec<u64> = ordered(0..1000u64, |i| i * i, |r| r.collect());
        assert_eq!(out, (0..1000u64).map(|i| i * i).collect::<Vec<_>>());
        // A consumer that stops after 3 results of an endless source: the scope still ends.
        let first: Vec<u64> = ordered(0u64.., |i| i + 1, |r| r.take(3).collect());
        assert_eq!(first, vec![1, 2, 3]);
    }
}
