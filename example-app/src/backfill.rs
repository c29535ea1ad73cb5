//! `backfill`: what the reference system's data migration did, as an
//! import. Every project without a "project created" event gets exactly
//! one, with its creator as actor and its creation time; running it again
//! adds nothing.
//!
//! The events are imported ([`Auditor::import`]): they say so (command
//! `audit:import`, and an `audit:events_imported` record of each run), and
//! their import key, `project_created:<id>`, keeps a second run (or one
//! running at the same time) from adding them twice, even after a prune.
//!
//! Projects made before their creator and time were recorded (schema
//! version 2 of the staff area's tables) have neither: their event is
//! credited to the system process `unknown`, at the time of the backfill
//! (they were created no later than that).

use audit_core::events::Reference;
use audit_core::store::{EVENTS_TABLE, Import, ImportError, ImportReport};
use audit_core::{Actor, Auditor};
use chrono::{DateTime, Utc};

use crate::domain::ProjectRef;
use crate::events::{ProjectCreated, StaffEvent, StaffEventType};

/// The import's source, recorded with each run.
pub const SOURCE: &str = "projects-backfill";

/// The actor of a project whose creator was not recorded.
pub fn unknown_creator() -> Actor {
    Actor::system("unknown")
}

/// The import key of project `id`'s "project created" event.
pub fn key(id: i64) -> String {
    format!("project_created:{id}")
}

/// Why a backfill failed.
#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    /// Reading the projects failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The import was refused or failed; running it again is safe.
    #[error(transparent)]
    Import(#[from] ImportError),
}

/// A project that has no "project created" event, as the projects table
/// knows it.
#[derive(Debug)]
struct Missing {
    id: i64,
    name: String,
    /// The creator's id, if recorded.
    created_by: Option<i64>,
    /// The creator's username, if they still exist.
    username: Option<String>,
    /// When it was made, in microseconds, if recorded.
    created_at: Option<i64>,
}

impl Missing {
    /// Who made it: the recorded user, or [`unknown_creator`].
    fn creator(&self) -> Actor {
        match (self.created_by, &self.username) {
            (Some(id), Some(username)) => Actor::user(id, username),
            (Some(id), None) => Actor::user(id, format!("user {id}")),
            (None, _) => unknown_creator(),
        }
    }

    /// When it was made: the recorded time, or `now` (it was made no later).
    fn created_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.created_at
            .and_then(DateTime::from_timestamp_micros)
            .filter(|at| *at <= now)
            .unwrap_or(now)
    }

    fn project(&self) -> ProjectRef {
        ProjectRef {
            id: self.id,
            name: self.name.clone(),
        }
    }
}

/// Imports a "project created" event for every project that has none,
/// acting for `actor` (who runs the backfill); returns what it did.
pub async fn projects(auditor: &Auditor, actor: &Actor) -> Result<ImportReport, BackfillError> {
    let missing = without_their_event(auditor).await?;
    let now = Utc::now();
    let mut import = Import::<StaffEvent>::new(SOURCE).reason("made before auditing began");
    for p in missing {
        let key = key(p.id); // `project_created:<id>`, the same on every run
        let event = ProjectCreated {
            project: p.project(),
        };
        import.event(key, p.created_at(now), p.creator(), event)?;
    }
    Ok(auditor.import(actor, &import).await?)
}

/// A row of [`without_their_event`]'s query: [`Missing`]'s fields in order.
type MissingRow = (i64, String, Option<i64>, Option<String>, Option<i64>);

/// The projects that have no "project created" event, in id order.
async fn without_their_event(auditor: &Auditor) -> Result<Vec<Missing>, sqlx::Error> {
    let sql = format!(
        "SELECT p.id, p.name, p.created_by, u.username, p.created_at FROM projects p \
         LEFT JOIN users u ON u.id = p.created_by \
         WHERE NOT EXISTS (SELECT 1 FROM {EVENTS_TABLE} e WHERE e.event_type = $1 \
         AND e.target_kind = $2 AND e.target_id = CAST(p.id AS TEXT)) ORDER BY p.id"
    );
    let kind = ProjectRef {
        id: 0,
        name: String::new(),
    }
    .entity_ref()
    .kind;
    let rows: Vec<MissingRow> = audit_core::on_backend!(auditor.pool(), pool => {
        // The events table's name and our own text; the values are bound.
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(StaffEventType::ProjectCreated.code())
            .bind(kind.as_ref())
            .fetch_all(pool)
            .await?
    });
    let missing = rows
        .into_iter()
        .map(|(id, name, created_by, username, created_at)| Missing {
            id,
            name,
            created_by,
            username,
            created_at,
        })
        .collect();
    Ok(missing)
}
