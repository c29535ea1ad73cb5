//! Following the log by position (G12): a reader that calls
//! `Auditor::read_after` in a loop, storing where it got to, reads every
//! committed event exactly once, in commit order, while many writers
//! commit at once, and across restarts from a printed position. On
//! PostgreSQL ids are not commit order, and a reader following "ids
//! greater than the last one seen" misses events; the tests show that too.
//!
//! `AUDIT_FOLLOW_SEED` replays a run's random choices (batch sizes,
//! transaction sizes, restart points); each test prints the seed it used.

mod support;

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use audit_core::events::Decoded;
use audit_core::query::{ParseError, Position, StoredEvent, Tail};
use audit_core::{Actor, Auditor, on_backend, testing};
use support::{NoteWritten, TestEvent, WidgetRef};

/// Writer tasks committing at once.
const WRITERS: usize = 8;
/// Events each writer commits (at least), in transactions of 1 to 6 events.
const EVENTS_PER_WRITER: usize = 650;
/// How long a follower may take to catch up once the writers are done
/// before the test gives up on it (a guard against a hang, not a timing
/// assertion: the assertions that follow say what it missed).
const CATCH_UP: Duration = Duration::from_secs(60);
/// Batch sizes a follower asks for, chosen at random for each read: small
/// ones end batches in the middle of a transaction's events.
const LIMITS: &[u32] = &[1, 2, 3, 7, 50, 250, 1000];
/// Batch sizes of a follower that restarts: at most 50 events a batch, and
/// a restart after every 1 to 3 batches, so 1,600 events make at least 10
/// restarts.
const RESTART_LIMITS: &[u32] = &[1, 2, 3, 7, 50];

/// A small deterministic generator (SplitMix64), so that a failing run can
/// be replayed with its seed.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn fork(&mut self) -> Rng {
        Rng(self.next())
    }
}

/// The seed of this run: `AUDIT_FOLLOW_SEED`, or the clock; printed.
fn seed(test: &str) -> u64 {
    let seed = std::env::var("AUDIT_FOLLOW_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("the clock is after 1970")
                .as_nanos() as u64
        });
    eprintln!("{test}: AUDIT_FOLLOW_SEED={seed}");
    seed
}

/// The next `n` events after `after`, read with `read_after` until there
/// are `n`. On PostgreSQL an event is held back while a transaction of its
/// database that began before it commits is still open, so a read may
/// return fewer for a while; a failure names the transaction.
async fn read_stable(auditor: &Auditor, after: Position, n: usize) -> Vec<StoredEvent<TestEvent>> {
    let label = testing::label(auditor);
    let deadline = Instant::now() + CATCH_UP;
    let mut events = Vec::new();
    let mut position = after;
    while events.len() < n {
        let tail = auditor
            .read_after::<TestEvent>(position, 1000)
            .await
            .expect("read_after");
        check_tail(label, position, &tail);
        position = tail.next;
        if tail.events.is_empty() {
            assert!(
                Instant::now() < deadline,
                "{label}: {} of {n} events after {after} came: {:?}; held back: {}",
                events.len(),
                support::ids(&events),
                tail.held_back
                    .map_or_else(|| "nothing named".to_owned(), |h| h.to_string())
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        events.extend(tail.events);
    }
    events
}

/// What identifies an event the writers committed: its payload's unique text.
fn key(event: &StoredEvent<TestEvent>) -> String {
    match &event.event {
        Decoded::Known(TestEvent::NoteWritten(note)) => note.text.clone(),
        Decoded::Known(TestEvent::WidgetCreated(widget)) => widget.name.clone(),
        other => panic!(
            "event {} is not one the writers commit: {other:?}",
            event.id
        ),
    }
}

/// A writer: commits transactions of 1 to 6 events (notes, and now and
/// then a widget) until it has committed `events`; every ninth transaction
/// rolls back instead. Returns the keys of the events it committed.
async fn write(auditor: Auditor, writer: usize, events: usize, mut rng: Rng) -> Vec<String> {
    let mut committed = Vec::new();
    let mut i = 0;
    while committed.len() < events {
        i += 1;
        let actor = Actor::user(writer, format!("writer{writer}"));
        let mut audit = auditor.begin::<TestEvent>(actor).await.expect("begin");
        let mut keys = Vec::new();
        if rng.below(3) == 0 {
            let id = (writer * 1_000_000 + i) as i64;
            support::create_widget(&mut audit, id)
                .await
                .expect("create_widget");
            keys.push(format!("widget {id}"));
        }
        for n in 0..=rng.below(5) {
            let text = format!("w{writer}-t{i}-n{n}");
            support::write_note(&mut audit, WidgetRef(writer as i64), text.clone())
                .await
                .expect("write_note");
            keys.push(text);
        }
        if i % 9 == 0 {
            audit.rollback().await.expect("rollback");
        } else {
            audit.commit().await.expect("commit");
            committed.extend(keys);
        }
    }
    committed
}

/// What a follower read, in the order it read it.
#[derive(Debug, Default)]
struct Followed {
    /// Each event's position, id and key.
    events: Vec<(Position, i64, String)>,
    /// Calls of `read_after`.
    reads: usize,
    /// Events read while the writers were still at work.
    read_while_writing: usize,
    /// Times it stopped and started again from its printed position.
    restarts: usize,
    /// Whether it gave up waiting (see [`CATCH_UP`]).
    gave_up: bool,
}

/// When a follower may stop: once the writers are done (`expected` is then
/// the number of events in the log) and it has read that many.
#[derive(Clone)]
struct Finish {
    writing: Arc<AtomicBool>,
    expected: Arc<AtomicI64>,
}

impl Finish {
    fn new() -> Self {
        Finish {
            writing: Arc::new(AtomicBool::new(true)),
            expected: Arc::new(AtomicI64::new(-1)),
        }
    }

    /// Called once every writer has returned.
    fn writers_done(&self, events_in_log: i64) {
        self.expected.store(events_in_log, Ordering::SeqCst);
        self.writing.store(false, Ordering::SeqCst);
    }

    /// The number of events in the log once the writers are done.
    fn expected(&self) -> Option<i64> {
        let n = self.expected.load(Ordering::SeqCst);
        (n >= 0).then_some(n)
    }
}

/// Checks one `read_after` answer against the position it was asked from.
fn check_tail(label: &str, after: Position, tail: &Tail<TestEvent>) {
    let mut last = after;
    for e in &tail.events {
        assert!(
            e.position > last,
            "{label}: event {} at {} does not follow {last}",
            e.id,
            e.position
        );
        last = e.position;
    }
    assert_eq!(
        tail.next, last,
        "{label}: `next` is the last event's position"
    );
}

/// A follower: reads forward from the start with `read_after`, batch
/// sizes at random, polling every millisecond when it has caught up, until
/// `finish` says it has read everything. With `restarts`, it stops now and
/// then at a random point, keeps only `tail.next` as text (what a process
/// would store), opens a new `Auditor` on `url` and goes on from the
/// parsed position.
async fn follow(url: String, finish: Finish, mut rng: Rng, restarts: bool) -> Followed {
    let mut auditor = Auditor::connect(&url).await.expect("the follower connects");
    let label = testing::label(&auditor);
    let mut followed = Followed::default();
    let mut position = Position::START;
    let limits = if restarts { RESTART_LIMITS } else { LIMITS };
    let mut restart_in = 1 + rng.below(3);
    let mut deadline = None;
    loop {
        let writing = finish.writing.load(Ordering::SeqCst);
        let limit = limits[rng.below(limits.len() as u64) as usize];
        let tail = auditor
            .read_after::<TestEvent>(position, limit)
            .await
            .unwrap_or_else(|e| panic!("{label}: read_after({position}, {limit}): {e}"));
        followed.reads += 1;
        check_tail(label, position, &tail);
        assert!(
            tail.events.len() <= limit as usize,
            "{label}: over the limit"
        );
        if writing {
            followed.read_while_writing += tail.events.len();
        }
        followed
            .events
            .extend(tail.events.iter().map(|e| (e.position, e.id, key(e))));
        position = tail.next;
        if restarts && !tail.events.is_empty() {
            restart_in -= 1;
            if restart_in == 0 {
                // All a restarted follower keeps is the printed position.
                let stored = tail.next.to_string();
                drop(tail);
                drop(auditor);
                auditor = Auditor::connect(&url)
                    .await
                    .expect("the follower reconnects");
                position = stored
                    .parse()
                    .unwrap_or_else(|e| panic!("{label}: stored position {stored}: {e}"));
                followed.restarts += 1;
                restart_in = 1 + rng.below(3);
                continue;
            }
        }
        if !tail.events.is_empty() {
            continue;
        }
        if let Some(expected) = finish.expected() {
            if followed.events.len() as i64 >= expected {
                // One more read: nothing may come after the last event.
                let rest = auditor
                    .read_after::<TestEvent>(position, 1000)
                    .await
                    .expect("read_after");
                followed
                    .events
                    .extend(rest.events.iter().map(|e| (e.position, e.id, key(e))));
                break;
            }
            let deadline = *deadline.get_or_insert_with(|| Instant::now() + CATCH_UP);
            if Instant::now() > deadline {
                followed.gave_up = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    followed
}

/// The reader that PostgreSQL ids mislead: "events with an id greater than
/// the last one I saw", polled like the follower. Once the writers are
/// done it reads on until it finds nothing more, and returns the ids it
/// read.
async fn follow_naively(url: String, finish: Finish) -> Vec<i64> {
    let auditor = Auditor::connect(&url)
        .await
        .expect("the naive reader connects");
    let mut seen = Vec::new();
    let mut last = 0i64;
    loop {
        let done = !finish.writing.load(Ordering::SeqCst);
        let ids: Vec<i64> = on_backend!(auditor.pool(), pool => {
            sqlx::query_scalar("SELECT id FROM audit_events WHERE id > $1 ORDER BY id LIMIT 500")
                .bind(last)
                .fetch_all(pool)
                .await
                .expect("the naive read")
        });
        if let Some(&max) = ids.last() {
            last = max;
        }
        let empty = ids.is_empty();
        seen.extend(ids);
        if empty {
            if done {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    seen
}

/// Every event id of the log (the anchor, id 0, is not an event).
async fn ids_in_log(auditor: &Auditor) -> BTreeSet<i64> {
    let ids: Vec<i64> = on_backend!(auditor.pool(), pool => {
        sqlx::query_scalar("SELECT id FROM audit_events WHERE id > 0")
            .fetch_all(pool)
            .await
            .expect("the log's ids")
    });
    ids.into_iter().collect()
}

/// Runs `writers` writers of `per_writer` events each, a follower (with
/// restarts or not) and, with `naive`, a naive reader, all at once on
/// `auditor`'s database; asserts that the follower read every committed
/// event exactly once, in position order; returns what the follower and
/// the naive reader read, and the log's ids.
async fn run(
    auditor: &Auditor,
    writers: usize,
    per_writer: usize,
    restarts: bool,
    naive: bool,
    rng: &mut Rng,
) -> (Followed, Option<Vec<i64>>, BTreeSet<i64>) {
    let label = testing::label(auditor);
    let url = testing::database_url(auditor).await;
    let finish = Finish::new();
    let started = Instant::now();
    let follower = tokio::spawn(follow(url.clone(), finish.clone(), rng.fork(), restarts));
    let naive = naive.then(|| tokio::spawn(follow_naively(url, finish.clone())));
    let tasks: Vec<_> = (0..writers)
        .map(|w| tokio::spawn(write(auditor.clone(), w, per_writer, rng.fork())))
        .collect();
    let mut committed: Vec<String> = Vec::new();
    for writer in tasks {
        committed.extend(writer.await.expect("a writer"));
    }
    let wrote_in = started.elapsed();
    let in_log = ids_in_log(auditor).await;
    finish.writers_done(in_log.len() as i64);
    let followed = follower.await.expect("the follower");
    let naive = match naive {
        Some(task) => Some(task.await.expect("the naive reader")),
        None => None,
    };

    // Every committed event, exactly once, and nothing else.
    let mut ids = HashSet::new();
    let duplicates: Vec<i64> = followed
        .events
        .iter()
        .filter(|(_, id, _)| !ids.insert(*id))
        .map(|(_, id, _)| *id)
        .collect();
    assert!(
        duplicates.is_empty(),
        "{label}: the follower read {} event(s) twice: {:?}",
        duplicates.len(),
        &duplicates[..duplicates.len().min(20)]
    );
    let read: BTreeSet<i64> = ids.into_iter().collect();
    let missed: Vec<&i64> = in_log.difference(&read).collect();
    assert!(
        missed.is_empty() && !followed.gave_up,
        "{label}: the follower missed {} event(s) (gave up waiting: {}): {:?}",
        missed.len(),
        followed.gave_up,
        &missed[..missed.len().min(20)]
    );
    assert_eq!(
        read, in_log,
        "{label}: the follower read events not in the log"
    );
    let mut keys: Vec<&str> = followed.events.iter().map(|(_, _, k)| k.as_str()).collect();
    keys.sort_unstable();
    committed.sort_unstable();
    assert_eq!(
        keys, committed,
        "{label}: the follower's events are the writers' committed ones"
    );
    assert!(
        committed.len() >= writers * per_writer,
        "{label}: the writers committed {} events",
        committed.len()
    );
    // In position order across batches and restarts.
    for pair in followed.events.windows(2) {
        assert!(
            pair[0].0 < pair[1].0,
            "{label}: {} then {}",
            pair[0].0,
            pair[1].0
        );
    }
    eprintln!(
        "{label}: {} events committed by the writers in {:.1} s; the follower read each once \
         in {} reads ({} while they wrote{}), in {:.1} s in all",
        committed.len(),
        wrote_in.as_secs_f64(),
        followed.reads,
        followed.read_while_writing,
        if restarts {
            format!(", {} restarts from a printed position", followed.restarts)
        } else {
            String::new()
        },
        started.elapsed().as_secs_f64(),
    );
    (followed, naive, in_log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_reads_every_event_once_while_eight_writers_commit() {
    let mut rng = Rng(seed("follow"));
    for auditor in support::databases("follow").await {
        let label = testing::label(&auditor);
        let (followed, naive, in_log) =
            run(&auditor, WRITERS, EVENTS_PER_WRITER, false, true, &mut rng).await;
        assert!(
            in_log.len() >= 5_000,
            "{label}: only {} events",
            in_log.len()
        );
        // Ids out of commit order: an event read after one with a higher id.
        let mut highest = 0;
        let mut out_of_order = 0;
        for (_, id, _) in &followed.events {
            if *id < highest {
                out_of_order += 1;
            }
            highest = highest.max(*id);
        }
        // What the naive reader missed depends on timing: shown, not asserted.
        let naive: BTreeSet<i64> = naive.expect("a naive reader ran").into_iter().collect();
        let naive_missed: Vec<&i64> = in_log.difference(&naive).collect();
        eprintln!(
            "{label}: {out_of_order} events committed after an event with a higher id; \
             a reader following `id > last` missed {} of {} events{}",
            naive_missed.len(),
            in_log.len(),
            if naive_missed.is_empty() {
                String::new()
            } else {
                format!(
                    " (ids {:?}{})",
                    &naive_missed[..naive_missed.len().min(10)],
                    if naive_missed.len() > 10 { ", ..." } else { "" }
                )
            }
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_restarted_from_its_printed_position_loses_and_repeats_nothing() {
    let mut rng = Rng(seed("follow_restarts"));
    for auditor in support::databases("follow_restarts").await {
        let label = testing::label(&auditor);
        let (followed, _, _) = run(&auditor, 4, 400, true, false, &mut rng).await;
        // The restarts happened, mid-log (`run` asserted the rest).
        assert!(
            followed.restarts >= 10,
            "{label}: only {} restarts",
            followed.restarts
        );
    }
}

/// On PostgreSQL a transaction that has written events holds the log's
/// commit order until it ends: a writer that commits meanwhile waits behind
/// it (and `Tail::held_back` names the holder), and its events are read
/// after the holder's. (SQLite runs one writer at a time: its own lock.)
#[tokio::test]
async fn a_writer_committing_while_another_holds_the_commit_order_waits_and_comes_after() {
    let Some(auditor) = testing::postgres("follow_late_commit").await else {
        return;
    };
    auditor.migrate().await.expect("migrate");
    testing::execute(&auditor, support::WIDGETS_TABLE)
        .await
        .expect("widgets");

    // Transaction A writes an event, and stays open.
    let mut late = auditor
        .begin::<TestEvent>(Actor::system("late"))
        .await
        .expect("begin");
    support::run_in_transaction(
        &mut late,
        &format!(
            "INSERT INTO audit_events ({}) VALUES \
             (0, 'note_written', 1, 'system', 'late', 'late', 'write_note', 'late', \
              '{{\"widget\": 1, \"text\": \"late\"}}')",
            support::ROW_COLUMNS
        ),
    )
    .await
    .expect("A's event");
    let a_pid: u32 = on_backend!(late.db(), conn => {
        sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid()")
            .fetch_one(&mut *conn)
            .await
            .expect("A's process")
    })
    .try_into()
    .expect("a process id");
    // B begins after A and commits: it waits for A.
    let b = {
        let auditor = auditor.clone();
        tokio::spawn(async move {
            support::commit_widget(&auditor, Actor::system("early"), 1).await;
        })
    };
    let deadline = Instant::now() + CATCH_UP;
    loop {
        let tail = auditor
            .read_after::<TestEvent>(Position::START, 100)
            .await
            .expect("read_after");
        assert!(
            tail.events.is_empty(),
            "nothing is committed while A runs: {:?}",
            support::ids(&tail.events)
        );
        if let Some(held) = &tail.held_back
            && held.writers_waiting > 0
        {
            assert_eq!((held.pid, held.writers_waiting), (Some(a_pid), 1), "{held}");
            assert!(held.to_string().contains("idle in transaction"), "{held}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "B never waited behind A: {:?}",
            tail.held_back
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        !b.is_finished(),
        "B committed while A held the commit order"
    );

    late.commit().await.expect("A commits");
    b.await.expect("B commits once A has");
    let both = read_stable(&auditor, Position::START, 2).await;
    assert_eq!(
        support::codes(&both),
        ["note_written", "widget_created"],
        "A's event, then B's"
    );
    assert!(both[0].position < both[1].position);
    assert!(
        matches!(&both[0].event, Decoded::Known(TestEvent::NoteWritten(NoteWritten { text, .. })) if text == "late")
    );
    let after = auditor
        .read_after::<TestEvent>(both[1].position, 100)
        .await
        .expect("read_after");
    assert!(after.events.is_empty() && after.held_back.is_none());
}

#[tokio::test]
async fn positions_print_and_parse_back_and_garbage_is_refused() {
    for auditor in support::databases("follow_positions").await {
        let label = testing::label(&auditor);
        for id in 1..=3 {
            support::commit_widget(&auditor, Actor::system("positions"), id).await;
        }
        let events = read_stable(&auditor, Position::START, 3).await;
        assert_eq!(events.len(), 3, "{label}");
        let mut positions: Vec<Position> = vec![Position::START];
        positions.extend(events.iter().map(|e| e.position));
        for p in &positions {
            let printed = p.to_string();
            let parsed: Position = printed
                .parse()
                .unwrap_or_else(|e| panic!("{label}: `{printed}` does not parse back: {e}"));
            assert_eq!(parsed, *p, "{label}: `{printed}`");
            // Reading on from the parsed position is reading on from the position.
            let from_parsed = auditor.read_after::<TestEvent>(parsed, 10).await.unwrap();
            let from_value = auditor.read_after::<TestEvent>(*p, 10).await.unwrap();
            assert_eq!(
                support::ids(&from_parsed.events),
                support::ids(&from_value.events),
                "{label}"
            );
        }
        // Printed positions keep their order when parsed.
        let parsed: Vec<Position> = positions
            .iter()
            .map(|p| p.to_string().parse().unwrap())
            .collect();
        assert!(
            parsed.windows(2).all(|w| w[0] < w[1]),
            "{label}: {parsed:?}"
        );
    }
    let longest = "a".repeat(17);
    for garbage in [
        "",
        " ",
        "0",
        "0.",
        ".0",
        "0.0.0",
        "1,2",
        " 1.2",
        "1.2 ",
        "+1.2",
        "-1.2",
        "1.-2",
        "0x1.2",
        "z.1",
        "1.é",
        "ffffffffffffffff.1",
        longest.as_str(),
        "cursor:1",
    ] {
        match garbage.parse::<Position>() {
            Err(ParseError::Position(shown)) => {
                assert_eq!(shown, garbage, "the error shows what was given")
            }
            other => panic!("`{garbage}` gave {other:?}"),
        }
    }
    // What is shown of a long one is bounded.
    let long = "1.".to_owned() + &"9".repeat(1000);
    match long.parse::<Position>() {
        Err(ParseError::Position(shown)) => assert_eq!(shown.chars().count(), 64),
        other => panic!("a 1,002-character position gave {other:?}"),
    }
    assert_eq!(Position::START.to_string(), "0.0");
    assert_eq!("0.0".parse::<Position>().unwrap(), Position::START);
    assert_eq!(Position::default(), Position::START);
    // A position only this store makes: the largest numbers are positions too.
    let max = "7fffffffffffffff.7fffffffffffffff"
        .parse::<Position>()
        .unwrap();
    assert_eq!(max.to_string(), "7fffffffffffffff.7fffffffffffffff");
    assert!(Position::START < max);
}
