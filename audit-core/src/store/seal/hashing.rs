//! Hashing events off the async threads and on every core: the seal and
//! verification read a chunk of events while the chunk before is hashed.

use tokio::task::JoinHandle;

use super::encoding::{Hash, hash_event};
use super::raw::RawEvent;

/// An event with its hash and tags under one encoding.
pub(super) struct Hashed {
    pub event: RawEvent,
    pub hash: Hash,
    pub tags: Vec<u8>,
}

/// Starts hashing `events` under `encoding` on the blocking pool, split
/// among the machine's cores; [`finish`] waits for the result.
pub(super) fn start(events: Vec<RawEvent>, encoding: i64) -> JoinHandle<Vec<Hashed>> {
    tokio::task::spawn_blocking(move || hash_all(events, encoding))
}

/// The hashes [`start`] made, in the order of its events. A panic while
/// hashing (a bug) is the caller's, as if it had hashed them itself.
pub(super) async fn finish(hashing: JoinHandle<Vec<Hashed>>) -> Vec<Hashed> {
    match hashing.await {
        Ok(hashed) => hashed,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(error) => panic!("invariant: the blocking pool runs every task it is given: {error}"),
    }
}

/// Every event of `events` with its hash, in order, on as many threads as
/// the machine has cores (one for a small chunk).
fn hash_all(events: Vec<RawEvent>, encoding: i64) -> Vec<Hashed> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(events.len() / 256)
        .max(1);
    let hash = |events: Vec<RawEvent>| -> Vec<Hashed> {
        events
            .into_iter()
            .map(|event| {
                let (hash, tags) = hash_event(&event.values, encoding);
                Hashed { event, hash, tags }
            })
            .collect()
    };
    if threads == 1 {
        return hash(events);
    }
    let per_thread = events.len().div_ceil(threads);
    let mut parts: Vec<Vec<RawEvent>> = Vec::with_capacity(threads);
    let mut events = events.into_iter();
    for _ in 0..threads {
        parts.push(events.by_ref().take(per_thread).collect());
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| scope.spawn(move || hash(part)))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| match handle.join() {
                Ok(hashed) => hashed,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}
