//! `backfill`: every project without a "project created" event gets
//! exactly one, imported with its creator and creation time; a second run
//! adds none; on both backends, from the library and the command line.

use crate::common;

use audit_core::events::Reference;
use audit_core::query::{EventQuery, StoredEvent};
use audit_core::store::IMPORTED_EVENT_CODE;
use audit_core::{Actor, Auditor};
use chrono::{DateTime, Utc};
use example_app::backfill;
use example_app::commands;
use example_app::domain::{ProjectRef, Roles, UserRef};
use example_app::events::{ProjectCreated, StaffEvent};
use example_app::schema::{self, StartError};

/// 1 May 2019, noon, in microseconds.
const CREATED: i64 = 1_556_712_000_000_000;

/// Inserts a project by hand, as code outside the commands did before
/// auditing (projects are a mutable table).
async fn insert_project(auditor: &Auditor, name: &str, by: Option<i64>, at: Option<i64>) -> i64 {
    let sql = format!(
        "INSERT INTO projects (name, created_by, created_at) VALUES ('{name}', {}, {})",
        by.map_or("NULL".into(), |v| v.to_string()),
        at.map_or("NULL".into(), |v| v.to_string()),
    );
    common::execute(auditor, &sql).await.unwrap();
    common::scalar(
        auditor,
        &format!("SELECT id FROM projects WHERE name = '{name}'"),
    )
    .await
}

/// The "project created" events of project `id`.
async fn created_events(auditor: &Auditor, id: i64) -> Vec<StoredEvent<StaffEvent>> {
    let project = ProjectRef {
        id,
        name: String::new(),
    };
    auditor
        .query::<StaffEvent>(
            &EventQuery::new()
                .target(project.entity_ref())
                .types(["project_created"]),
        )
        .await
        .unwrap()
        .events
}

async fn events(auditor: &Auditor) -> i64 {
    common::scalar(auditor, "SELECT COUNT(*) FROM audit_events WHERE id > 0").await
}

/// Alice (a user, through the command) and Apollo (a project with its event).
async fn staff(auditor: &Auditor) -> UserRef {
    let mut audit = auditor
        .begin::<StaffEvent>(Actor::system("setup"))
        .await
        .unwrap();
    let alice = commands::add_user(&mut audit, "alice", Roles::new())
        .await
        .unwrap();
    commands::add_project(&mut audit, "Apollo").await.unwrap();
    audit.commit().await.unwrap();
    alice
}

#[tokio::test]
async fn a_project_inserted_without_its_event_gets_exactly_one() {
    for auditor in common::auditors("backfill").await {
        let label = common::label(&auditor);
        let alice = staff(&auditor).await;
        let legacy = insert_project(&auditor, "Legacy", Some(alice.id), Some(CREATED)).await;
        let orphan = insert_project(&auditor, "Orphan", None, None).await;
        let apollo =
            common::scalar(&auditor, "SELECT id FROM projects WHERE name = 'Apollo'").await;

        let started = Utc::now();
        let report = backfill::projects(&auditor, &Actor::system("ops"))
            .await
            .unwrap();
        assert_eq!((report.imported, report.skipped), (2, 0), "{label}");

        for id in [apollo, legacy, orphan] {
            assert_eq!(created_events(&auditor, id).await.len(), 1, "{label}: {id}");
        }
        assert!(!created_events(&auditor, apollo).await[0].is_imported());
        let event = &created_events(&auditor, legacy).await[0];
        assert!(event.is_imported(), "{label}");
        assert_eq!(event.actor, Actor::user(alice.id, "alice"), "{label}");
        assert_eq!(
            event.occurred_at,
            DateTime::from_timestamp_micros(CREATED).unwrap()
        );
        assert_eq!(
            event.event.known(),
            Some(&StaffEvent::from(ProjectCreated {
                project: ProjectRef {
                    id: legacy,
                    name: "Legacy".into()
                }
            }))
        );
        // Creator and time unknown: the system process `unknown`, at the
        // backfill (the latest the project can have been made).
        let event = &created_events(&auditor, orphan).await[0];
        assert_eq!(event.actor, backfill::unknown_creator(), "{label}");
        assert!(event.occurred_at >= started && event.occurred_at <= Utc::now());

        // The run is recorded, acting for whoever ran it.
        let log = auditor
            .query::<StaffEvent>(&EventQuery::new().types([IMPORTED_EVENT_CODE]))
            .await
            .unwrap()
            .events;
        assert_eq!(log.len(), 1, "{label}");
        assert_eq!(log[0].actor, Actor::system("ops"));
        assert_eq!(log[0].command_id, report.run_id);

        // A second backfill adds none.
        let before = events(&auditor).await;
        let again = backfill::projects(&auditor, &Actor::system("ops"))
            .await
            .unwrap();
        assert_eq!((again.imported, again.skipped), (0, 0), "{label}");
        assert_eq!(events(&auditor).await, before, "{label}");
        // A project made through the command since has its event already.
        let mut audit = auditor
            .begin::<StaffEvent>(Actor::user(alice.id, "alice"))
            .await
            .unwrap();
        commands::add_project(&mut audit, "Gemini").await.unwrap();
        audit.commit().await.unwrap();
        let third = backfill::projects(&auditor, &Actor::system("ops"))
            .await
            .unwrap();
        assert_eq!(third.imported, 0, "{label}");
    }
}

#[tokio::test]
async fn the_backfill_command_run_twice_adds_nothing_the_second_time() {
    for auditor in common::auditors("backfill_cli").await {
        let label = common::label(&auditor);
        let url = common::url_of(&auditor).await;
        let alice = staff(&auditor).await;
        let legacy = insert_project(&auditor, "Legacy", Some(alice.id), Some(CREATED)).await;

        let first = common::cli(&url, &["backfill"]).await;
        assert!(first.status.success(), "{label}: {first:?}");
        assert_eq!(
            String::from_utf8_lossy(&first.stdout),
            "backfill: 1 \"project created\" event(s) imported, 0 imported before\n"
        );
        let before = events(&auditor).await;
        let second = common::cli(&url, &["backfill"]).await;
        assert!(second.status.success(), "{label}: {second:?}");
        assert_eq!(
            String::from_utf8_lossy(&second.stdout),
            "backfill: 0 \"project created\" event(s) imported, 0 imported before\n"
        );
        assert_eq!(events(&auditor).await, before, "{label}");
        assert_eq!(created_events(&auditor, legacy).await.len(), 1);

        // The log says it was imported, in text and in JSON.
        let log = common::cli(&url, &["log", "--project", "Legacy"]).await;
        let text = String::from_utf8_lossy(&log.stdout);
        assert!(
            text.contains("2019-05-01 12:00:00  alice") && text.contains("(imported)"),
            "{label}: {text}"
        );
        let json = common::cli(&url, &["log", "--project", "Legacy", "--json"]).await;
        let line: serde_json::Value = serde_json::from_str(
            String::from_utf8_lossy(&json.stdout)
                .lines()
                .next()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(line["imported"], true, "{label}: {line}");
        assert_eq!(line["command"], "audit:import", "{label}: {line}");
        assert_eq!(line["text"], "created project Legacy", "{label}: {line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_backfills_at_once_give_each_project_one_event() {
    for auditor in common::auditors("backfill_concurrent").await {
        let label = common::label(&auditor);
        let alice = staff(&auditor).await;
        let mut ids = Vec::new();
        for n in 0..50 {
            ids.push(
                insert_project(&auditor, &format!("P{n}"), Some(alice.id), Some(CREATED)).await,
            );
        }
        let runs: Vec<_> = (0..2)
            .map(|n| {
                let auditor = auditor.clone();
                tokio::spawn(async move {
                    backfill::projects(&auditor, &Actor::system(format!("ops-{n}"))).await
                })
            })
            .collect();
        let mut imported = 0;
        for run in runs {
            imported += run.await.unwrap().unwrap().imported;
        }
        assert_eq!(imported, 50, "{label}");
        for id in ids {
            assert_eq!(created_events(&auditor, id).await.len(), 1, "{label}: {id}");
        }
    }
}

#[tokio::test]
async fn a_database_made_before_creators_were_recorded_is_migrated_then_backfilled() {
    for auditor in audit_core::testing::all("backfill_upgrade").await {
        let label = common::label(&auditor);
        // The staff area's tables as the release before versions made them.
        auditor.migrate().await.unwrap();
        common::execute(
            &auditor,
            "CREATE TABLE users (id BIGINT PRIMARY KEY, username TEXT NOT NULL UNIQUE, \
             roles TEXT NOT NULL DEFAULT '[]', password_hash TEXT); \
             CREATE TABLE projects (id BIGINT PRIMARY KEY, name TEXT NOT NULL UNIQUE); \
             CREATE TABLE memberships (id BIGINT PRIMARY KEY, project_id BIGINT NOT NULL, \
             user_id BIGINT NOT NULL, roles TEXT NOT NULL DEFAULT '[]', UNIQUE (project_id, user_id)); \
             INSERT INTO projects (id, name) VALUES (7, 'Vostok')",
        )
        .await
        .unwrap();
        match schema::open(&auditor).await {
            Err(StartError::StaffOutdated { found: 0 }) => {}
            other => panic!("{label}: {other:?}"),
        }
        schema::migrate(&auditor).await.unwrap();
        schema::migrate(&auditor).await.unwrap();
        schema::open(&auditor).await.unwrap();
        assert_eq!(
            common::scalar(&auditor, "SELECT COUNT(*) FROM staff_schema").await,
            schema::STAFF_SCHEMA_VERSION,
            "{label}: each version once"
        );
        assert_eq!(
            common::scalar(
                &auditor,
                "SELECT COUNT(*) FROM projects WHERE created_by IS NULL AND created_at IS NULL"
            )
            .await,
            1,
            "{label}"
        );
        let report = backfill::projects(&auditor, &Actor::system("ops"))
            .await
            .unwrap();
        assert_eq!(report.imported, 1, "{label}");
        let event = &created_events(&auditor, 7).await[0];
        assert_eq!(event.actor, backfill::unknown_creator(), "{label}");
        assert_eq!(
            audit_core::present::plain_text(
                &event.render(&audit_core::present::PresentContext::new())
            ),
            "created project a project",
            "{label}: shown without lookups"
        );
    }
}

#[tokio::test]
async fn a_backfilled_event_is_listed_at_its_own_time_not_on_top() {
    use example_app::logs::{self, LogRequest, Scope};
    for auditor in common::auditors("backfill_order").await {
        let label = common::label(&auditor);
        staff(&auditor).await;
        // A project of 2019, backfilled now: its event's id is the newest
        // of a project's, its time the oldest.
        let legacy = insert_project(&auditor, "Legacy", None, Some(CREATED)).await;
        backfill::projects(&auditor, &Actor::system("ops"))
            .await
            .unwrap();
        let event = created_events(&auditor, legacy).await[0].id;
        // The global log, as the web page and `log` read it (25 a page).
        let page = logs::fetch(&auditor, &LogRequest::new(Scope::All))
            .await
            .unwrap();
        let ids: Vec<i64> = page.entries.iter().map(|e| e.stored.id).collect();
        assert_eq!(
            ids.last(),
            Some(&event),
            "{label}: listed last, at 2019: {ids:?}"
        );
        assert!(ids.iter().any(|id| *id < event), "{label}: {ids:?}");
        let times: Vec<_> = page
            .entries
            .iter()
            .map(|e| (e.occurred_at(), e.stored.id))
            .collect();
        assert!(
            times.windows(2).all(|w| w[0] > w[1]),
            "{label}: newest first by time: {times:?}"
        );
        // Its day's filter finds it.
        let mut request = LogRequest::new(Scope::All);
        request.since = DateTime::from_timestamp_micros(CREATED - 1);
        request.until = DateTime::from_timestamp_micros(CREATED + 1);
        let day = logs::fetch(&auditor, &request).await.unwrap();
        let ids: Vec<i64> = day.entries.iter().map(|e| e.stored.id).collect();
        assert_eq!(ids, [event], "{label}");
    }
}
