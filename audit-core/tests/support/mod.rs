//! What the store's integration tests share: a small catalog of three
//! events, the commands that emit them, and fresh migrated databases.
//!
//! Each test file uses part of it.
#![allow(dead_code)]

use audit_core::events::{Decoded, EntityRef, EventCatalog, Reference};
use audit_core::present::{PresentContext, Presentable, Shown};
use audit_core::query::{EventQuery, Page, Position, StoredEvent};
use audit_core::seals::{Head, SealKey};
use audit_core::{Actor, Audit, AuditError, Auditor, auditable, testing};
use serde::{Deserialize, Serialize};

/// Declares a reference type: an id of one kind of object.
macro_rules! reference {
    ($name:ident, $kind:literal) => {
        #[doc = concat!("A reference to a ", $kind, ".")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl Reference for $name {
            fn entity_ref(&self) -> EntityRef {
                EntityRef::new($kind, self.0.to_string())
            }
        }

        impl Presentable for $name {
            fn present(&self, _: &PresentContext) -> Shown {
                Shown::text(format!("{} {}", $kind, self.0))
            }
        }

        impl $name {
            /// The stored reference.
            pub fn entity(self) -> EntityRef {
                self.entity_ref()
            }
        }
    };
}

reference!(WidgetRef, "widget");
reference!(PartRef, "part");
reference!(UserRef, "user");

audit_core::declare_events! {
    /// The test catalog.
    #[events(templates = "tests/templates/store")]
    pub enum TestEvent {
        /// A widget was made.
        #[event(code = "widget_created", label = "Widget created", group = "Widgets")]
        WidgetCreated { #[target] #[parent] widget: WidgetRef, name: String },

        /// A part was added to a widget, for its owner. At version 2, so
        /// that version-1 rows are older than this program reads.
        #[event(code = "part_added", label = "Part added", group = "Widgets", version = 2)]
        PartAdded {
            #[target] part: PartRef,
            #[parent] widget: WidgetRef,
            #[subject] owner: UserRef,
        },

        /// A note about a widget.
        #[event(code = "note_written", label = "Note written", group = "Notes")]
        NoteWritten { #[parent] widget: WidgetRef, text: String },
    }
}

/// The error of the test commands.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The store refused.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The command's own SQL failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The command decided to fail.
    #[error("refused: {0}")]
    Refused(&'static str),
}

impl audit_core::commands::Retryable for CommandError {
    fn is_retryable(&self) -> bool {
        match self {
            CommandError::Audit(e) => e.is_retryable(),
            CommandError::Database(e) => e.is_retryable(),
            CommandError::Refused(_) => false,
        }
    }
}

/// The application table of the test commands.
pub const WIDGETS_TABLE: &str = "CREATE TABLE widgets (id BIGINT PRIMARY KEY)";

/// One new database per available backend, with the audit schema and the
/// `widgets` table.
pub async fn databases(test: &str) -> Vec<Auditor> {
    let all = testing::all(test).await;
    for auditor in &all {
        auditor
            .migrate()
            .await
            .unwrap_or_else(|e| panic!("migrate {}: {e}", testing::label(auditor)));
        testing::execute(auditor, WIDGETS_TABLE)
            .await
            .unwrap_or_else(|e| panic!("create widgets on {}: {e}", testing::label(auditor)));
    }
    all
}

/// `auditor`, allowed to prune events of any age: the minimum retention
/// stored in its schema set to zero (a recorded change), and its own.
pub async fn prunable_now(auditor: Auditor) -> Auditor {
    auditor
        .set_min_retention(&Actor::system("test"), std::time::Duration::ZERO, "test")
        .await
        .unwrap_or_else(|e| {
            panic!(
                "set the minimum retention on {}: {e}",
                testing::label(&auditor)
            )
        });
    auditor.with_min_retention(std::time::Duration::ZERO)
}

/// `auditor` migrated, with a `widgets` table protected as an immutable
/// model's (PostgreSQL) and widget 1 committed with its event: what the
/// attacks on a protected table start from.
pub async fn protected_widgets(auditor: &Auditor) {
    auditor.migrate().await.unwrap();
    testing::execute(auditor, WIDGETS_TABLE).await.unwrap();
    auditor.protect_immutable_table("widgets").await.unwrap();
    commit_widget(auditor, Actor::system("setup"), 1).await;
}

/// Runs `sql` in the transaction of `audit` (or of the running command).
/// The one place the tests reach the transaction's raw connection.
pub async fn run_in_transaction(
    audit: &mut Audit<TestEvent>,
    sql: &str,
) -> Result<u64, sqlx::Error> {
    // The tests' own SQL, run as written.
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    audit_core::on_backend!(audit.db(), conn => {
        sqlx::query(sql).execute(&mut *conn).await.map(|r| r.rows_affected())
    })
}

/// Makes widget `id` and records it.
#[auditable(emits(WidgetCreated))]
pub async fn create_widget(cx: &mut Audit<TestEvent>, id: i64) -> Result<WidgetRef, CommandError> {
    run_in_transaction(cx, &format!("INSERT INTO widgets (id) VALUES ({id})")).await?;
    let widget = WidgetRef(id);
    cx.emit(WidgetCreated {
        widget,
        name: format!("widget {id}"),
    })?;
    Ok(widget)
}

/// Adds a part to a widget, and writes a note saying so: two events of one
/// command.
#[auditable(emits(PartAdded, NoteWritten))]
pub async fn add_part(
    cx: &mut Audit<TestEvent>,
    widget: WidgetRef,
    part: i64,
    owner: UserRef,
) -> Result<PartRef, CommandError> {
    let part = PartRef(part);
    cx.emit(PartAdded {
        part,
        widget,
        owner,
    })?;
    cx.emit(NoteWritten {
        widget,
        text: format!("part {} added", part.0),
    })?;
    Ok(part)
}

/// Writes a note.
#[auditable(emits(NoteWritten))]
pub async fn write_note(
    cx: &mut Audit<TestEvent>,
    widget: WidgetRef,
    text: String,
) -> Result<(), CommandError> {
    cx.emit(NoteWritten { widget, text })?;
    Ok(())
}

/// Makes a widget with one part through two nested commands, and notes it.
#[auditable(emits(NoteWritten))]
pub async fn build_widget(
    cx: &mut Audit<TestEvent>,
    id: i64,
    owner: UserRef,
) -> Result<WidgetRef, CommandError> {
    let widget = create_widget(cx, id).await?;
    add_part(cx, widget, id * 10, owner).await?;
    cx.emit(NoteWritten {
        widget,
        text: "built".into(),
    })?;
    Ok(widget)
}

/// Commits one widget acting for `actor`.
pub async fn commit_widget(auditor: &Auditor, actor: Actor, id: i64) -> WidgetRef {
    let mut audit = auditor.begin::<TestEvent>(actor).await.expect("begin");
    let widget = create_widget(&mut audit, id).await.expect("create_widget");
    audit.commit().await.expect("commit");
    widget
}

/// The newest page of the whole log (up to 1,000 events).
pub async fn log(auditor: &Auditor) -> Vec<StoredEvent<TestEvent>> {
    page(auditor, &EventQuery::new().limit(1000)).await.events
}

/// One page of `query`.
pub async fn page(auditor: &Auditor, query: &EventQuery) -> Page<TestEvent> {
    auditor
        .query::<TestEvent>(query)
        .await
        .unwrap_or_else(|e| panic!("query on {}: {e}", testing::label(auditor)))
}

/// The ids of `events`, in order.
pub fn ids(events: &[StoredEvent<TestEvent>]) -> Vec<i64> {
    events.iter().map(|e| e.id).collect()
}

/// The codes of `events`, in order.
pub fn codes(events: &[StoredEvent<TestEvent>]) -> Vec<String> {
    events.iter().map(|e| e.event.code().to_owned()).collect()
}

/// The number of widgets committed.
pub async fn widgets(auditor: &Auditor) -> i64 {
    testing::scalar(auditor, "SELECT COUNT(*) FROM widgets").await
}

/// The number of events stored (id 0 is the log's anchor, not an event).
pub async fn events(auditor: &Auditor) -> i64 {
    testing::scalar(auditor, "SELECT COUNT(*) FROM audit_events WHERE id > 0").await
}

/// The typed event, or a panic naming what came instead.
pub fn known(event: &StoredEvent<TestEvent>) -> &TestEvent {
    match &event.event {
        Decoded::Known(known) => known,
        Decoded::Unknown(unknown) => panic!("event {} is unknown: {unknown:?}", event.id),
    }
}

/// The stored payload of `event` as JSON, known or not.
pub fn payload(event: &StoredEvent<TestEvent>) -> serde_json::Value {
    let raw = match &event.event {
        Decoded::Known(known) => known.payload_json().expect("a known payload serializes"),
        Decoded::Unknown(unknown) => unknown.raw.clone(),
    };
    serde_json::from_str(&raw)
        .unwrap_or_else(|e| panic!("the payload of event {} is not JSON: {e}: {raw}", event.id))
}

/// The columns of a hand-written event row, for `INSERT INTO audit_events`.
pub const ROW_COLUMNS: &str = "occurred_at, event_type, payload_version, actor_kind, actor_id, \
    actor_name, command_name, command_id, payload";

/// Inserts rows by hand, outside any command: `values` are the parenthesised
/// tuples of [`ROW_COLUMNS`].
pub async fn insert_rows(auditor: &Auditor, values: &str) {
    testing::execute(
        auditor,
        &format!("INSERT INTO audit_events ({ROW_COLUMNS}) VALUES {values}"),
    )
    .await
    .unwrap_or_else(|e| panic!("insert rows on {}: {e}", testing::label(auditor)));
}

/// How long a test waits for committed events to be sealed or read in
/// commit order before it fails (a guard against a hang, not a timing
/// assertion). On PostgreSQL a transaction of the same database that began
/// before they committed holds them back until it ends; the failure then
/// says which one (`HeldBack`).
pub const STABLE_WITHIN: std::time::Duration = std::time::Duration::from_secs(60);

/// Seals until the head covers every event in the log, and returns it;
/// fails after [`STABLE_WITHIN`] with what held the seals back.
pub async fn seal_all(auditor: &Auditor, key: Option<&SealKey>) -> Head {
    let events = events(auditor).await;
    let deadline = std::time::Instant::now() + STABLE_WITHIN;
    loop {
        let report = auditor
            .seal(key)
            .await
            .unwrap_or_else(|e| panic!("seal on {}: {e}", testing::label(auditor)));
        let covered = report.head.as_ref().map_or(0, |h| h.events);
        if let Some(head) = report.head.filter(|h| h.events == events) {
            return head;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{}: the seals cover {covered} of {events} events after {STABLE_WITHIN:?}; held back: {}",
            testing::label(auditor),
            report
                .held_back
                .map_or_else(|| "nothing named".to_owned(), |h| h.to_string())
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Seals until `events` more events are sealed (after a deletion the log's
/// count no longer says when [`seal_all`] is done); fails after
/// [`STABLE_WITHIN`] with what held the seals back.
pub async fn seal_more(auditor: &Auditor, key: Option<&SealKey>, events: u64) {
    let deadline = std::time::Instant::now() + STABLE_WITHIN;
    let mut sealed = 0;
    while sealed < events {
        let report = auditor
            .seal(key)
            .await
            .unwrap_or_else(|e| panic!("seal on {}: {e}", testing::label(auditor)));
        sealed += report.events;
        assert!(
            sealed >= events || std::time::Instant::now() < deadline,
            "{}: {sealed} of {events} more events sealed after {STABLE_WITHIN:?}; held back: {}",
            testing::label(auditor),
            report
                .held_back
                .map_or_else(|| "nothing named".to_owned(), |h| h.to_string())
        );
        if sealed < events {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// The next `n` events after `after`, read with `read_after` until there
/// are `n`; fails after [`STABLE_WITHIN`] with what held them back.
pub async fn read_stable(
    auditor: &Auditor,
    after: Position,
    n: usize,
) -> Vec<StoredEvent<TestEvent>> {
    let label = testing::label(auditor);
    let deadline = std::time::Instant::now() + STABLE_WITHIN;
    let mut events = Vec::new();
    let mut position = after;
    while events.len() < n {
        let tail = auditor
            .read_after::<TestEvent>(position, 1000)
            .await
            .unwrap_or_else(|e| panic!("read_after on {label}: {e}"));
        position = tail.next;
        if tail.events.is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "{label}: {} of {n} events after {after} came after {STABLE_WITHIN:?}; held back: {}",
                events.len(),
                tail.held_back
                    .map_or_else(|| "nothing named".to_owned(), |h| h.to_string())
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        events.extend(tail.events);
    }
    events
}

/// A `tracing` writer that keeps what is logged, for assertions.
#[derive(Clone, Default)]
pub struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    /// What was logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Runs `sql` as `role` in a transaction of its own on `conn`, then commits
/// it (or rolls it back, without `commit`); returns the database's answer,
/// the COMMIT's included (where the deferred trigger runs).
pub async fn as_role(
    conn: &mut sqlx::PgConnection,
    role: &str,
    sql: &str,
    commit: bool,
) -> Result<(), sqlx::Error> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    // `role` is a name the test made; the statements are the test's own.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("SET LOCAL ROLE {role}")))
        .execute(&mut *tx)
        .await?;
    let outcome = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut *tx)
        .await;
    match (outcome, commit) {
        (Ok(_), true) => tx.commit().await,
        (Ok(_), false) => tx.rollback().await,
        (Err(e), _) => Err(e),
    }
}
