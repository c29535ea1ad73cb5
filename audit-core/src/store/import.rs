//! Importing events that happened before auditing began, or in another
//! system: [`Import`] and [`Auditor::import`].
//!
//! An imported event is an event of the catalog, with the time and the
//! actor of the change it records, that no command emitted. How its rows
//! say so, and what keeps an import from running twice:
//!
//! - Every imported row has the command name [`IMPORT_COMMAND`]
//!   (`audit:import`), which no `#[auditable]` command can have (a Rust
//!   path never holds a lone `:`), and, as its command id, the id of the
//!   import run. Both are sealed columns: the seals cover that a row was
//!   imported, and by which run ([`StoredEvent::is_imported`]).
//! - Each transaction of a run that imports something records an
//!   [`IMPORTED_EVENT_CODE`](crate::store::IMPORTED_EVENT_CODE)
//!   (`audit:events_imported`) event, acting for
//!   whoever ran the import, with the same command id: the source, the
//!   reason, how many events it imported and skipped, and their keys. Like
//!   every `audit:` record it is never pruned.
//! - Every imported event has an import key, chosen by the application
//!   (`project_created:42`), kept in `audit_import_keys` (schema version 4,
//!   append-only). An event whose key is there already is skipped, so a
//!   second run adds nothing, and two importers running at once import each
//!   key once: the key is inserted first, and on PostgreSQL a concurrent
//!   insert of the same key waits for the first transaction to end. A key
//!   outlives its event: a prune deletes events, not keys, so importing
//!   again never brings back what retention removed. On PostgreSQL a key
//!   is written only with its event and the run's record, by the owner's
//!   `audit_import_batch` (the application role may execute it, not insert
//!   keys), so no role can take a key without importing its event.
//!
//! An import runs only the library's own SQL in its transactions, never the
//! application's: it cannot write an immutable model (G7 is untouched),
//! and it records only events of the catalog, checked as `emit` checks them.
//!
//! [`StoredEvent::is_imported`]: crate::query::StoredEvent::is_imported

use std::collections::HashSet;
use std::marker::PhantomData;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::auditor::Auditor;
use super::backends::{ImportBatch, with_storage};
use super::command::checked_payload;
use super::error::{AuditError, classify};
use super::personal;
use super::retry::Retryable;
use super::table::{EventRow, IMPORT_COMMAND};
use crate::actor::Actor;
use crate::catalog::{Event, EventCatalog, EventType};

/// The longest import key accepted, in bytes.
pub const MAX_IMPORT_KEY_BYTES: usize = 256;

/// Events per transaction: a long import holds SQLite's write lock a
/// batch at a time, and each batch records what it imported.
const BATCH: usize = 1_000;

/// Attempts per batch when the database refuses it for a concurrent
/// transaction (a busy SQLite database, a PostgreSQL deadlock).
const ATTEMPTS: u32 = 5;

/// Events to import, each with its key, time and actor: build it with
/// [`Import::event`], then run it with [`Auditor::import`].
///
/// ```no_run
/// # audit_core::declare_events! {
/// #     #[events(templates = "tests/templates")]
/// #     pub enum DocEvent {
/// #         #[event(code = "project_created", label = "Project created", group = "Projects")]
/// #         ProjectCreated { name: String },
/// #     }
/// # }
/// use audit_core::store::Import;
/// use audit_core::{Actor, Auditor};
/// # async fn demo(auditor: Auditor) -> Result<(), Box<dyn std::error::Error>> {
/// let created = "2019-03-01T09:30:00Z".parse()?;
/// let mut import = Import::<DocEvent>::new("projects-backfill")
///     .reason("projects created before auditing began");
/// import.event(
///     "project_created:42",          // the same key on every run
///     created,                       // when it happened
///     Actor::user(7, "ada"),         // who did it
///     ProjectCreated { name: "Apollo".into() },
/// )?;
/// let report = auditor.import(&Actor::system("backfill"), &import).await?;
/// println!("{} imported, {} already there", report.imported, report.skipped);
/// # Ok(()) }
/// ```
pub struct Import<E: EventCatalog> {
    source: String,
    reason: String,
    events: Vec<Pending>,
    keys: HashSet<String>,
    _catalog: PhantomData<fn() -> E>,
}

/// One event of an import, checked and ready to write.
struct Pending {
    key: String,
    actor: Actor,
    row: EventRow,
}

impl<E: EventCatalog> std::fmt::Debug for Import<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Import")
            .field("source", &self.source)
            .field("reason", &self.reason)
            .field("events", &self.events.len())
            .finish()
    }
}

impl<E: EventCatalog> Import<E> {
    /// An empty import from `source` (where the events come from, or what
    /// derives them: `projects-backfill`, `legacy-crm`), recorded with
    /// each batch.
    pub fn new(source: impl Into<String>) -> Self {
        Import {
            source: source.into(),
            reason: String::new(),
            events: Vec::new(),
            keys: HashSet::new(),
            _catalog: PhantomData,
        }
    }

    /// Why the events are imported, recorded with each batch.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = reason.into();
        self
    }

    /// Adds `event`, which `actor` caused at `occurred_at`, under `key`:
    /// an id of the change it records, the same on every run (the import
    /// skips a key it has seen before). Its payload is checked as
    /// [`Command::emit`](crate::commands::Command::emit) checks it.
    ///
    /// Refused: an empty key, one longer than [`MAX_IMPORT_KEY_BYTES`] or
    /// holding a NUL character ([`ImportError::InvalidKey`]); a key given
    /// twice ([`ImportError::DuplicateKey`]); a time after now
    /// ([`ImportError::FutureEvent`]); a payload `emit` would refuse
    /// ([`ImportError::Payload`]).
    pub fn event<Ev>(
        &mut self,
        key: impl Into<String>,
        occurred_at: DateTime<Utc>,
        actor: Actor,
        event: Ev,
    ) -> Result<(), ImportError>
    where
        Ev: Event<Catalog = E>,
    {
        let key = key.into();
        let invalid = |reason| ImportError::InvalidKey {
            key: key.chars().take(80).collect(),
            reason,
        };
        if key.is_empty() {
            return Err(invalid("it is empty"));
        }
        if key.len() > MAX_IMPORT_KEY_BYTES {
            return Err(invalid("it is longer than 256 bytes"));
        }
        if key.contains('\0') {
            return Err(invalid("it contains a NUL character"));
        }
        if self.keys.contains(&key) {
            return Err(ImportError::DuplicateKey { key });
        }
        if occurred_at > Utc::now() {
            return Err(ImportError::FutureEvent { key, occurred_at });
        }
        let code = Ev::TYPE.code();
        let payload = match checked_payload(&event, code) {
            Ok(payload) => payload,
            Err(source) => return Err(ImportError::Payload { key, source }),
        };
        let row = EventRow {
            occurred_at: occurred_at.timestamp_micros(),
            code,
            version: Ev::TYPE.version(),
            references: event.references(),
            command_name: IMPORT_COMMAND,
            // The run's id, given when it runs.
            command_id: String::new(),
            payload,
            context: None,
            personal: personal::salted(&actor, None, Ev::TYPE.personal_fields())
                .map_err(ImportError::Store)?,
        };
        self.keys.insert(key.clone());
        self.events.push(Pending { key, actor, row });
        Ok(())
    }

    /// How many events it holds.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether it holds no event.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// What an import run did ([`Auditor::import`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportReport {
    /// The run's id: the command id of its events and of its records.
    pub run_id: String,
    /// Events written by this run.
    pub imported: u64,
    /// Events skipped because their key was imported before (by an earlier
    /// run, or by one running at the same time).
    pub skipped: u64,
}

/// Why an event could not be added to an [`Import`], or an import failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// An import key that cannot be stored.
    #[error("the import key `{key}` is refused: {reason}")]
    InvalidKey {
        /// The key (its first 80 characters).
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The same import key twice in one import: each key names one event.
    #[error("the import key `{key}` is given twice in this import: each key names one event")]
    DuplicateKey {
        /// The key.
        key: String,
    },
    /// An event dated after now: an import records what already happened.
    #[error(
        "the event with import key `{key}` is dated {occurred_at}, in the future: an import \
         records what already happened"
    )]
    FutureEvent {
        /// The event's key.
        key: String,
        /// Its time.
        occurred_at: DateTime<Utc>,
    },
    /// A payload that [`Command::emit`](crate::commands::Command::emit) would refuse
    /// (too large, a NUL character, not serializable).
    #[error("the event with import key `{key}` cannot be recorded: {source}")]
    Payload {
        /// The event's key.
        key: String,
        /// Why, as `emit` says it.
        #[source]
        source: AuditError,
    },
    /// The database failed (after retries when the failure was retryable).
    /// Batches before the failed one are committed; running the same
    /// import again skips them and goes on.
    #[error(transparent)]
    Store(#[from] AuditError),
}

impl Auditor {
    /// Records the events of `import` as imported, acting for `actor` (who
    /// runs the import; each event keeps its own actor and time), and
    /// returns how many it wrote and how many it skipped.
    ///
    /// Events whose key an earlier run (or a concurrent one) imported are
    /// skipped, so running the same import twice adds nothing the second
    /// time. The events are written in the order they were added, a
    /// transaction per 1,000; each transaction that writes any records an
    /// `audit:events_imported` event with their keys (a run that imports
    /// nothing records nothing). A batch the database refuses for a
    /// concurrent transaction, or whose connection was lost, is tried
    /// again, up to 5 times: keys make that safe even when a lost COMMIT
    /// had in fact committed (its events then count as skipped).
    ///
    /// Imported events are read like the others (by their own time and
    /// actor, in pages, filters and `read_after`), sit at the end of the
    /// log in id and commit order (they are written now), and say they
    /// were imported: command name [`IMPORT_COMMAND`], command id the run's
    /// ([`StoredEvent::is_imported`](crate::query::StoredEvent::is_imported)).
    ///
    /// Needs schema version 4 ([`Auditor::migrate`]).
    pub async fn import<E: EventCatalog>(
        &self,
        actor: &Actor,
        import: &Import<E>,
    ) -> Result<ImportReport, ImportError> {
        let mut report = ImportReport {
            run_id: uuid::Uuid::new_v4().to_string(),
            imported: 0,
            skipped: 0,
        };
        for (index, chunk) in import.events.chunks(BATCH).enumerate() {
            let batch = Batch {
                import_source: &import.source,
                reason: &import.reason,
                number: index + 1,
                run_id: &report.run_id,
                events: chunk,
            };
            let mut attempt = 1;
            let imported = loop {
                match self.import_batch(actor, &batch).await {
                    Ok(imported) => break imported,
                    Err(e) if e.is_retryable() && attempt < ATTEMPTS => {
                        tokio::time::sleep(Duration::from_millis(10) * attempt).await;
                        attempt += 1;
                    }
                    Err(e) => return Err(ImportError::Store(e)),
                }
            };
            report.imported += imported as u64;
            report.skipped += (chunk.len() - imported) as u64;
        }
        Ok(report)
    }

    /// Writes one batch in its own transaction; returns how many of its
    /// events were new.
    async fn import_batch(&self, actor: &Actor, batch: &Batch<'_>) -> Result<usize, AuditError> {
        let mut tx = self.begin_tx().await.map_err(classify)?;
        let rows: Vec<EventRow> = batch
            .events
            .iter()
            .map(|p| EventRow {
                command_id: batch.run_id.to_owned(),
                ..p.row.clone()
            })
            .collect();
        let mut summary = serde_json::Map::new();
        summary.insert("source".into(), batch.import_source.into());
        summary.insert("reason".into(), batch.reason.into());
        summary.insert("batch".into(), batch.number.into());
        let written = ImportBatch {
            run_id: batch.run_id,
            keys: batch.events.iter().map(|p| p.key.as_str()).collect(),
            rows: batch
                .events
                .iter()
                .zip(&rows)
                .map(|(p, row)| (&p.actor, row))
                .collect(),
            actor,
            summary,
        };
        let claimed = with_storage!(tx.db(), conn, S => S::import_batch(conn, &written).await)?;
        if claimed.is_empty() {
            tx.rollback().await?;
            return Ok(0);
        }
        tx.commit().await?;
        Ok(claimed.len())
    }
}

/// One transaction's share of an import.
struct Batch<'a> {
    import_source: &'a str,
    reason: &'a str,
    number: usize,
    run_id: &'a str,
    events: &'a [Pending],
}

#[cfg(test)]
mod tests {
    use super::*;

    audit_core::declare_events! {
        #[events(templates = "tests/templates")]
        enum UnitEvent {
            #[event(code = "project_created", label = "Project created", group = "Projects")]
            ProjectCreated { name: String },
        }
    }

    fn add(import: &mut Import<UnitEvent>, key: &str, name: &str) -> Result<(), ImportError> {
        let at = Utc::now() - chrono::Duration::days(1);
        import.event(
            key,
            at,
            Actor::system("t"),
            ProjectCreated { name: name.into() },
        )
    }

    #[test]
    fn keys_are_checked_when_added() {
        let mut import = Import::<UnitEvent>::new("test");
        add(&mut import, "a", "x").unwrap();
        assert!(matches!(
            add(&mut import, "a", "y"),
            Err(ImportError::DuplicateKey { key }) if key == "a"
        ));
        for (key, reason) in [
            (String::new(), "it is empty"),
            ("k".repeat(257), "it is longer than 256 bytes"),
            ("a\0b".to_owned(), "it contains a NUL character"),
        ] {
            match add(&mut import, &key, "x") {
                Err(ImportError::InvalidKey { reason: found, .. }) => assert_eq!(found, reason),
                other => panic!("{key:?}: {other:?}"),
            }
        }
        add(&mut import, &"k".repeat(256), "x").unwrap();
        assert_eq!(import.len(), 2);
    }

    #[test]
    fn payloads_are_checked_as_emit_checks_them() {
        let mut import = Import::<UnitEvent>::new("test");
        let err = add(&mut import, "nul", "a\0b").unwrap_err();
        assert!(
            matches!(&err, ImportError::Payload { key, source: AuditError::NulCharacter { .. } } if key == "nul"),
            "{err:?}"
        );
        let big = "x".repeat(crate::store::command::MAX_PAYLOAD_BYTES);
        assert!(matches!(
            add(&mut import, "big", &big),
            Err(ImportError::Payload {
                source: AuditError::PayloadTooLarge { .. },
                ..
            })
        ));
        assert!(import.is_empty(), "a refused event is not kept");
    }

    #[test]
    fn events_in_the_future_are_refused() {
        let mut import = Import::<UnitEvent>::new("test");
        let later = Utc::now() + chrono::Duration::hours(1);
        let err = import
            .event(
                "k",
                later,
                Actor::system("t"),
                ProjectCreated { name: "x".into() },
            )
            .unwrap_err();
        assert!(matches!(err, ImportError::FutureEvent { .. }), "{err:?}");
    }
}
