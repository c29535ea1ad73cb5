//! Immutable models: only commands write them; on PostgreSQL the database
//! refuses raw writes that record no audit event.

use crate::common;

use audit_core::query::EventQuery;
use audit_core::store::Backend;
use audit_core::{Actor, Auditor};
use example_app::commands;
use example_app::domain::{ProjectRef, Role, Roles, UserRef};
use example_app::events::StaffEvent;
use example_app::models::CLASSIFIED_TABLES;

async fn member(auditor: &Auditor) -> (ProjectRef, UserRef) {
    let mut audit = auditor
        .begin::<StaffEvent>(Actor::system("setup"))
        .await
        .unwrap();
    let project = commands::add_project(&mut audit, "Apollo").await.unwrap();
    let bob = commands::add_user(&mut audit, "bob", Roles::new())
        .await
        .unwrap();
    let dev: Roles = [Role::ProjectDeveloper].into_iter().collect();
    commands::add_member(&mut audit, &project, &bob, dev)
        .await
        .unwrap();
    audit.commit().await.unwrap();
    (project, bob)
}

#[tokio::test]
async fn on_postgres_raw_writes_of_immutable_tables_are_refused() {
    let Some(auditor) = common::postgres("raw_writes").await else {
        return;
    };
    example_app::schema::migrate(&auditor).await.unwrap();
    let (project, bob) = member(&auditor).await;
    for sql in [
        "UPDATE memberships SET roles = '[\"OutputChecker\"]'",
        "DELETE FROM memberships",
        "TRUNCATE memberships",
        "UPDATE users SET roles = '[\"StaffAreaAdministrator\"]' WHERE username = 'bob'",
        "INSERT INTO users (username) VALUES ('mallory')",
    ] {
        let err = common::execute(&auditor, sql).await.expect_err(sql);
        assert!(err.to_string().contains("is immutable"), "{sql}: {err}");
    }
    assert_eq!(
        common::scalar(&auditor, "SELECT COUNT(*) FROM memberships").await,
        1
    );
    assert_eq!(
        common::scalar(&auditor, "SELECT COUNT(*) FROM users").await,
        1
    );

    // The same change through its command succeeds, with its event.
    let checker: Roles = [Role::OutputChecker].into_iter().collect();
    let mut audit = auditor
        .begin::<StaffEvent>(Actor::user(1, "alice"))
        .await
        .unwrap();
    commands::update_member_roles(&mut audit, &project, &bob, checker)
        .await
        .unwrap();
    audit.commit().await.unwrap();
    let roles: String = audit_core::on_backend!(auditor.pool(), pool => {
        sqlx::query_scalar("SELECT roles FROM memberships")
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert_eq!(roles, "[\"OutputChecker\"]");
    let page = auditor
        .query::<StaffEvent>(&EventQuery::new().limit(1))
        .await
        .unwrap();
    assert_eq!(page.events[0].event.code(), "project_member_updated_roles");
}

#[tokio::test]
async fn on_postgres_a_hand_written_audit_row_lets_a_raw_write_through_as_documented() {
    let Some(auditor) = common::postgres("hand_written").await else {
        return;
    };
    example_app::schema::migrate(&auditor).await.unwrap();
    member(&auditor).await;
    // The database checks that the transaction recorded an event; it cannot
    // judge whether the event describes the change. This is the documented limit.
    common::execute(
        &auditor,
        "BEGIN;
         INSERT INTO users (username) VALUES ('mallory');
         INSERT INTO audit_events (occurred_at, event_type, payload_version, actor_kind, actor_id,
             actor_name, command_name, command_id, payload)
             VALUES (1, 'psql_session', 1, 'system', 'dba', 'dba', 'psql', 'manual', '{}');
         COMMIT;",
    )
    .await
    .unwrap();
    assert_eq!(
        common::scalar(
            &auditor,
            "SELECT COUNT(*) FROM users WHERE username = 'mallory'"
        )
        .await,
        1
    );
    // The hand-written row is in the log for anyone to see (at its time,
    // in 1970), and cannot be removed.
    let page = auditor
        .query::<StaffEvent>(
            &EventQuery::new()
                .until(chrono::DateTime::from_timestamp_micros(2).unwrap())
                .limit(1),
        )
        .await
        .unwrap();
    assert_eq!(page.events[0].command_name, "psql");
    assert!(
        common::execute(
            &auditor,
            "DELETE FROM audit_events WHERE command_name = 'psql'"
        )
        .await
        .is_err()
    );
}

#[tokio::test]
async fn deleting_a_project_never_cascades_silently_into_memberships() {
    for auditor in common::auditors("cascade").await {
        member(&auditor).await;
        // The schema's foreign keys refuse the delete outright, on both backends.
        let err = common::execute(&auditor, "DELETE FROM projects")
            .await
            .unwrap_err();
        assert!(
            err.to_string().to_lowercase().contains("foreign key"),
            "{err}"
        );
        assert_eq!(
            common::scalar(&auditor, "SELECT COUNT(*) FROM memberships").await,
            1
        );

        if auditor.backend() == Backend::Postgres {
            // Even a cascading foreign key cannot remove memberships unaudited.
            common::execute(
                &auditor,
                "ALTER TABLE memberships DROP CONSTRAINT memberships_project_id_fkey;
                 ALTER TABLE memberships ADD CONSTRAINT memberships_project_id_fkey
                     FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE;",
            )
            .await
            .unwrap();
            let err = common::execute(&auditor, "DELETE FROM projects")
                .await
                .unwrap_err();
            assert!(
                err.to_string().contains("table memberships is immutable"),
                "{err}"
            );
            assert_eq!(
                common::scalar(&auditor, "SELECT COUNT(*) FROM memberships").await,
                1
            );
        }
    }
}

#[tokio::test]
async fn on_sqlite_only_the_compile_time_guard_applies() {
    // Documented: SQLite has no transaction identity a trigger could check,
    // so raw SQL that bypasses the commands is not refused there.
    let auditor = common::sqlite("sqlite_raw").await;
    example_app::schema::migrate(&auditor).await.unwrap();
    member(&auditor).await;
    assert_eq!(
        common::execute(&auditor, "UPDATE memberships SET roles = '[]'")
            .await
            .unwrap(),
        1
    );
}

/// Every model's table, and the staff schema's own (not a model).
fn classified() -> Vec<&'static str> {
    let mut tables = CLASSIFIED_TABLES.to_vec();
    tables.push(example_app::schema::VERSIONS_TABLE);
    tables.extend(example_app::schema::WEB_TABLES);
    tables
}

#[tokio::test]
async fn every_table_is_classified_and_a_new_one_is_caught() {
    for auditor in common::auditors("classified").await {
        assert_eq!(
            auditor.unclassified_tables(&classified()).await.unwrap(),
            Vec::<String>::new()
        );
        common::execute(&auditor, "CREATE TABLE invoices (id BIGINT PRIMARY KEY)")
            .await
            .unwrap();
        assert_eq!(
            auditor.unclassified_tables(&classified()).await.unwrap(),
            ["invoices"]
        );
    }
}
