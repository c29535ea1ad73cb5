//! The audit log as JSON Lines, read forward in commit order: the command
//! line's `export` (what is in the log now) and `follow` (and then what
//! comes, as it commits).
//!
//! Both read with [`Auditor::read_after`], which returns every committed
//! event in commit order (G12), so a reader that goes on from the last
//! position it got never misses or repeats an event, and replaying what it
//! read gives the state the tables hold. Each line is one
//! event ([`line()`]): its position, every stored column (with the person
//! the actor acted for, and the event's context, when it has them), and
//! its text as the `log` command shows it.
//!
//! On PostgreSQL a transaction that wrote events and stays open holds the
//! log's commit order, so every other writer's commit waits until it ends:
//! both then write a warning line naming it (its process id, database and
//! state, from [`HeldBack`]) to their `warnings` output, standard error on
//! the command line: `export` when it ends a short read, `follow` once per
//! transaction that has held writers up for `warn_after`.
//!
//! A follower keeps its position in a [`PositionFile`], stored after each
//! batch has been written and flushed, so a restarted follower goes on
//! where the last one stopped. A follower stopped cleanly (a signal, a
//! closed output) prints every event once across runs; one that is killed
//! between writing a batch and storing its position prints that batch again
//! when restarted: every line carries its position, so a reader can skip
//! the lines it already has.

use std::future::Future;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::time::{Duration, Instant};

use audit_core::events::Decoded;
use audit_core::query::{HeldBack, Position, StoredEvent};
use audit_core::{Actor, AuditError, Auditor};
use chrono::SecondsFormat;

use crate::events::StaffEvent;
use crate::logs::{self, Entry, LogError};

/// Events read, presented and written at a time.
pub const BATCH: u32 = 500;

/// The export line of one event: a JSON object with its `position` (as
/// [`Position`] prints it), every stored column (`id`, `occurred_at` in RFC
/// 3339 to the microsecond, `event_type`, `payload_version`, `actor` with
/// `kind`, `id` and `name`, `target`, `parent` and `subject` each with
/// `kind` and `id` or `null`, `command_name`, `command_id`, `payload` as
/// JSON), `imported` (whether it was imported rather than emitted by a
/// command: its `command_name` is `audit:import`) and `text`, the event
/// rendered as the `log` command shows it.
///
/// Two keys appear only when there is something to say:
///
/// - `actor.as`, `{"id": .., "name": ..}`: the person the actor acted for
///   (impersonation; `actor` is the person who really acted, so
///   `{"kind": "user", "id": "1", "name": "alice", "as": {"id": "2",
///   "name": "bob"}}` is alice acting as bob);
/// - `context`: where and why the change was made ([`audit_core::Context`]),
///   an object of the fields that are set, each a string: `request_id`,
///   `client_address`, `user_agent`, `route`, `trace_id`, `span_id`, `host`,
///   `program`, `os_user`, `reason`, and `fields`, the application's own
///   pairs as an object. An event stored without one (a change made with
///   no context set, an imported event, any event from before schema
///   version 8) has no `context` key.
///
/// An event this program cannot read keeps its stored code, version and
/// payload, and its text is the generic line.
pub fn line(entry: &Entry) -> serde_json::Value {
    let stored = &entry.stored;
    let mut line = serde_json::json!({
        "position": stored.position.to_string(),
        "id": stored.id,
        "occurred_at": stored.occurred_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "event_type": stored.event.code(),
        "payload_version": payload_version(stored),
        "actor": actor_json(&stored.actor),
        "target": logs::entity_json(&stored.references.target),
        "parent": logs::entity_json(&stored.references.parent),
        "subject": logs::entity_json(&stored.references.subject),
        "command_name": stored.command_name,
        "command_id": stored.command_id,
        "imported": stored.is_imported(),
        "payload": logs::payload_json(stored),
        "text": entry.text(),
    });
    if !stored.context.is_empty() {
        line["context"] =
            serde_json::to_value(&stored.context).expect("invariant: a context of strings is JSON");
    }
    line
}

/// `{"kind", "id", "name"}`, and `"as": {"id", "name"}` for the person
/// acted for, if any.
fn actor_json(actor: &Actor) -> serde_json::Value {
    let mut json =
        serde_json::json!({"kind": actor.kind(), "id": actor.id(), "name": actor.name()});
    if let (Some(id), Some(name)) = (actor.as_id(), actor.as_name()) {
        json["as"] = serde_json::json!({"id": id, "name": name});
    }
    json
}

/// The stored payload version: a known event is stored at its type's
/// current version (other versions decode as unknown).
fn payload_version(stored: &StoredEvent<StaffEvent>) -> i64 {
    match &stored.event {
        Decoded::Known(event) => i64::from(event.event_type().version()),
        Decoded::Unknown(unknown) => unknown.version,
    }
}

/// Why an export or a follow failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading or presenting the events failed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// Writing the lines failed (other than a reader that went away).
    #[error("cannot write the events: {0}")]
    Write(io::Error),
    /// The position file cannot be read or written.
    #[error("position file {}: {source}", path.display())]
    PositionFile {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
    /// The position file holds something that is not a position.
    #[error("position file {}: {source}", path.display())]
    InvalidPositionFile {
        /// The file.
        path: PathBuf,
        /// Why it is not a position.
        source: audit_core::query::ParseError,
    },
    /// The stop signals cannot be watched.
    #[error("cannot watch for SIGINT and SIGTERM: {0}")]
    Signals(io::Error),
}

impl From<AuditError> for ExportError {
    fn from(e: AuditError) -> Self {
        ExportError::Log(LogError::Audit(e))
    }
}

/// Why an export or a follow ended without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Every stable event after the start was written (`export`).
    Exhausted,
    /// The event at the `until` position was written, or the log has
    /// passed it (`export --until`).
    Until,
    /// As many events as the limit allowed were written (`export --limit`).
    Limit,
    /// The output was closed (a broken pipe): the reader went away.
    Closed,
    /// A stop signal came (`follow`).
    Stopped,
}

/// What an export or a follow did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Why it ended.
    pub ended: Ended,
    /// Events written (and flushed).
    pub written: u64,
    /// The position after the last event written: where to go on from.
    pub next: Position,
}

/// Which events [`export`] writes: those after `after`, up to and
/// including the one at `until`, at most `limit` of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Range {
    /// Start after this position.
    pub after: Position,
    /// Stop at this position (inclusive).
    pub until: Option<Position>,
    /// At most this many events.
    pub limit: Option<u64>,
}

/// One batch of events after a position, presented.
struct Batch {
    entries: Vec<Entry>,
    next: Position,
    /// What holds writers up, when the batch was short.
    held_back: Option<HeldBack>,
}

/// Reads and presents at most `limit` events after `after`: one query for
/// the events, then one lookup per kind of reference among them.
async fn read_batch(auditor: &Auditor, after: Position, limit: u32) -> Result<Batch, LogError> {
    let tail = auditor.read_after::<StaffEvent>(after, limit).await?;
    let next = tail.next;
    Ok(Batch {
        entries: logs::present(auditor, tail.events).await?,
        next,
        held_back: tail.held_back,
    })
}

/// Writes `held`'s sentence to `warnings` as one line, `warning: ...`. A
/// warning that cannot be written is dropped: it must not stop the events.
fn warn(warnings: &mut impl Write, held: &HeldBack) {
    let _ = writeln!(warnings, "warning: {held}").and_then(|()| warnings.flush());
}

/// When [`follow`] warns that a transaction holds writers up: once per
/// transaction, when it has held them up for `after` (a transaction that
/// commits holds the others for that moment, which is no news under
/// concurrent writes).
#[derive(Debug, Clone)]
pub struct HeldBackWarning {
    after: Duration,
    /// The transaction holding back now, and since when.
    holding: Option<(u64, Instant)>,
    /// The last transaction warned about.
    warned: Option<u64>,
}

impl HeldBackWarning {
    /// Warns about a transaction once it has held writers up for `after`.
    pub fn new(after: Duration) -> Self {
        HeldBackWarning {
            after,
            holding: None,
            warned: None,
        }
    }

    /// Takes in one read's answer at `now`: `held`, the transaction that
    /// holds writers up (its id), if any, and whether the read was `short`
    /// (a full batch says nothing of what holds writers up). True when it is time
    /// to warn about `held`.
    pub fn observe(&mut self, held: Option<u64>, short: bool, now: Instant) -> bool {
        match held {
            Some(transaction) => {
                let since = match self.holding {
                    Some((holding, since)) if holding == transaction => since,
                    _ => {
                        self.holding = Some((transaction, now));
                        now
                    }
                };
                let due = self.warned != Some(transaction)
                    && now.saturating_duration_since(since) >= self.after;
                if due {
                    self.warned = Some(transaction);
                }
                due
            }
            None => {
                if short {
                    self.holding = None;
                }
                false
            }
        }
    }
}

/// Writes `entries` as lines and flushes them; `false` when the reader
/// has gone away (a broken pipe), and then nothing more should be written.
fn write_lines(out: &mut impl Write, entries: &[Entry]) -> Result<bool, ExportError> {
    let written = entries
        .iter()
        .try_for_each(|entry| writeln!(out, "{}", line(entry)))
        .and_then(|()| out.flush());
    match written {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(ExportError::Write(e)),
    }
}

/// Writes the events of `range` to `out` as lines ([`line()`]), in position
/// order, a batch at a time (each flushed), until the stable part of the
/// log is exhausted, `until` or `limit` is reached, or the output is
/// closed. When it stops because committed events wait behind a running
/// transaction, it says so on `warnings`.
pub async fn export(
    auditor: &Auditor,
    range: Range,
    out: &mut impl Write,
    warnings: &mut impl Write,
) -> Result<Outcome, ExportError> {
    let mut outcome = Outcome {
        ended: Ended::Exhausted,
        written: 0,
        next: range.after,
    };
    loop {
        let left = range
            .limit
            .map_or(u64::MAX, |limit| limit - outcome.written);
        if left == 0 {
            outcome.ended = Ended::Limit;
            return Ok(outcome);
        }
        if range.until.is_some_and(|until| outcome.next >= until) {
            outcome.ended = Ended::Until;
            return Ok(outcome);
        }
        let asked = u32::try_from(left).map_or(BATCH, |left| left.min(BATCH));
        let mut batch = read_batch(auditor, outcome.next, asked).await?;
        let complete = batch.entries.len() == asked as usize;
        if let Some(until) = range.until {
            batch.entries.retain(|e| e.stored.position <= until);
        }
        if !write_lines(out, &batch.entries)? {
            outcome.ended = Ended::Closed;
            return Ok(outcome);
        }
        outcome.written += batch.entries.len() as u64;
        outcome.next = batch
            .entries
            .last()
            .map_or(outcome.next, |e| e.stored.position);
        if batch.next > outcome.next {
            // Events past `until` were read and left out.
            outcome.ended = Ended::Until;
            return Ok(outcome);
        }
        if !complete {
            // Fewer than asked: nothing more was stable when it was read.
            if range.until.is_some_and(|until| outcome.next >= until) {
                outcome.ended = Ended::Until;
            } else if let Some(held) = &batch.held_back {
                warn(warnings, held);
            }
            return Ok(outcome);
        }
    }
}

/// Where a follower keeps its position: one line of text, the position as
/// [`Position`] prints it. It is replaced whole (a new file in the same
/// directory, written and synced, then renamed over the old one), so a
/// crash leaves the old position or the new one, never a torn file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionFile {
    path: PathBuf,
}

impl PositionFile {
    /// The position file at `path` (which need not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        PositionFile { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io_error(&self, source: io::Error) -> ExportError {
        ExportError::PositionFile {
            path: self.path.clone(),
            source,
        }
    }

    /// The stored position; `None` when there is no file yet. A file that
    /// holds anything but a position is an error, not a start from the
    /// beginning.
    pub fn load(&self) -> Result<Option<Position>, ExportError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io_error(e)),
        };
        text.trim_end_matches(['\r', '\n'])
            .parse()
            .map(Some)
            .map_err(|source| ExportError::InvalidPositionFile {
                path: self.path.clone(),
                source,
            })
    }

    /// Replaces the stored position with `position`, atomically and durably.
    pub fn store(&self, position: Position) -> Result<(), ExportError> {
        let name = self.path.file_name().ok_or_else(|| {
            self.io_error(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the path names no file",
            ))
        })?;
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".{}.tmp", std::process::id()));
        let temp = dir.join(temp_name);
        let written = std::fs::File::create(&temp).and_then(|mut file| {
            writeln!(file, "{position}")?;
            file.sync_all()
        });
        if let Err(e) = written.and_then(|()| std::fs::rename(&temp, &self.path)) {
            // Best effort: a leftover temporary file is harmless.
            let _ = std::fs::remove_file(&temp);
            return Err(self.io_error(e));
        }
        // The rename is durable once the directory is synced (Unix).
        #[cfg(unix)]
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| self.io_error(e))?;
        Ok(())
    }
}

/// How [`follow`] runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowOptions {
    /// Where to start when there is no position file (or it does not exist
    /// yet).
    pub after: Position,
    /// Where the position is kept, if anywhere: read on start, stored after
    /// each batch is written.
    pub position_file: Option<PositionFile>,
    /// How long to wait before reading again when there was nothing new.
    pub poll: Duration,
    /// How long a transaction must hold the follower back before it warns
    /// (see [`HeldBackWarning`]).
    pub warn_after: Duration,
}

/// Writes the log's events to `out` like [`export`], then keeps reading
/// every `poll` and writes new events as they become stable, until `stop`
/// completes or the output is closed (which it notices when it next
/// writes). It starts after the position in the
/// position file if there is one, else after `options.after` (and then
/// makes the file); after each batch is written and flushed, it stores the
/// next position there. A transaction that holds committed events back for
/// `options.warn_after` is named on `warnings`, once.
pub async fn follow(
    auditor: &Auditor,
    options: &FollowOptions,
    out: &mut impl Write,
    warnings: &mut impl Write,
    stop: impl Future<Output = ()>,
) -> Result<Outcome, ExportError> {
    let file = options.position_file.as_ref();
    let start = match file {
        Some(file) => match file.load()? {
            Some(position) => position,
            None => {
                // Made now, so that a file that cannot be written fails
                // before anything is printed.
                file.store(options.after)?;
                options.after
            }
        },
        None => options.after,
    };
    let mut outcome = Outcome {
        ended: Ended::Stopped,
        written: 0,
        next: start,
    };
    let mut stop = pin!(stop);
    let mut warning = HeldBackWarning::new(options.warn_after);
    loop {
        let batch = tokio::select! {
            biased;
            () = &mut stop => return Ok(outcome),
            batch = read_batch(auditor, outcome.next, BATCH) => batch?,
        };
        let full = batch.entries.len() == BATCH as usize;
        let holding = batch.held_back.as_ref().map(|held| held.transaction);
        if warning.observe(holding, !full, Instant::now())
            && let Some(held) = &batch.held_back
        {
            warn(warnings, held);
        }
        if !batch.entries.is_empty() {
            // Written, flushed, then stored: nothing between them can be
            // interrupted by `stop`.
            if !write_lines(out, &batch.entries)? {
                outcome.ended = Ended::Closed;
                return Ok(outcome);
            }
            outcome.written += batch.entries.len() as u64;
            outcome.next = batch.next;
            if let Some(file) = file {
                file.store(outcome.next)?;
            }
        }
        if !full {
            tokio::select! {
                biased;
                () = &mut stop => return Ok(outcome),
                () = tokio::time::sleep(options.poll) => {}
            }
        }
    }
}

/// Completes at the first SIGINT (Ctrl-C) or SIGTERM. The handlers are
/// installed when this is called, not when it is first polled, so a signal
/// that comes in between is not lost.
#[cfg(unix)]
pub fn stop_signal() -> Result<impl Future<Output = ()>, ExportError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).map_err(ExportError::Signals)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(ExportError::Signals)?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}

/// Completes at the first Ctrl-C (never, if it cannot be watched).
#[cfg(not(unix))]
pub fn stop_signal() -> Result<impl Future<Output = ()>, ExportError> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "example-app-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_position_file_stores_and_loads_whole() {
        let dir = temp_dir("position-file");
        let file = PositionFile::new(dir.join("pos"));
        assert_eq!(file.load().unwrap(), None, "no file yet");
        let first: Position = "a.1f".parse().unwrap();
        file.store(first).unwrap();
        assert_eq!(file.load().unwrap(), Some(first));
        let second: Position = "b.20".parse().unwrap();
        file.store(second).unwrap();
        assert_eq!(file.load().unwrap(), Some(second));
        assert_eq!(std::fs::read_to_string(file.path()).unwrap(), "b.20\n");
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["pos"]);
    }

    #[test]
    fn a_held_back_follower_warns_once_per_transaction_once_it_has_waited() {
        let start = Instant::now();
        let at = |secs: u64| start + Duration::from_secs(secs);
        let mut warning = HeldBackWarning::new(Duration::from_secs(10));
        // Transaction 7 holds back: not yet, then once, then never again.
        assert!(!warning.observe(Some(7), true, at(0)));
        assert!(!warning.observe(Some(7), true, at(9)));
        assert!(warning.observe(Some(7), true, at(10)));
        assert!(!warning.observe(Some(7), true, at(11)));
        // A full batch says nothing; transaction 7 still counts from 0.
        assert!(!warning.observe(None, false, at(12)));
        assert!(!warning.observe(Some(7), true, at(13)));
        // Another transaction: its own wait, its own warning.
        assert!(!warning.observe(Some(8), true, at(14)));
        assert!(warning.observe(Some(8), true, at(24)));
        // Nothing held back for a moment, then 9: its wait starts again.
        assert!(!warning.observe(Some(9), true, at(25)));
        assert!(!warning.observe(None, true, at(26)));
        assert!(!warning.observe(Some(9), true, at(30)));
        assert!(warning.observe(Some(9), true, at(40)));
        // With no wait asked for, at once.
        let mut at_once = HeldBackWarning::new(Duration::ZERO);
        assert!(at_once.observe(Some(1), true, at(0)));
        assert!(!at_once.observe(Some(1), true, at(1)));
    }

    #[test]
    fn a_position_file_that_holds_no_position_is_an_error() {
        let dir = temp_dir("position-file-bad");
        let file = PositionFile::new(dir.join("pos"));
        for bad in ["", "garbage\n", "1.2.3\n"] {
            std::fs::write(file.path(), bad).unwrap();
            assert!(
                matches!(file.load(), Err(ExportError::InvalidPositionFile { .. })),
                "{bad:?}"
            );
        }
        // A file in a directory that does not exist cannot be stored.
        let missing = PositionFile::new(dir.join("no-such-dir").join("pos"));
        assert!(matches!(
            missing.store(Position::START),
            Err(ExportError::PositionFile { .. })
        ));
    }
}
