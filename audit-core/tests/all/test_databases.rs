//! `testing`'s databases go when their test is done with them: dropped
//! (PostgreSQL) or removed (SQLite) with the last clone of the auditor made
//! for them, not before; a failed test keeps its own.

use std::path::PathBuf;
use std::time::Duration;

use audit_core::{Auditor, testing};

/// The server's connection string (`AUDIT_TEST_POSTGRES_URL`).
fn server() -> String {
    std::env::var(testing::POSTGRES_URL_VAR)
        .expect("set whenever `testing::postgres` made a database")
}

/// The database's name in a PostgreSQL URL from `testing::database_url`.
fn name_in(url: &str) -> String {
    let path = url.split('?').next().unwrap_or(url);
    path.rsplit('/').next().unwrap_or(path).to_owned()
}

/// Whether the server holds the database `name`, asked on a connection of
/// its own (none of the test database's).
async fn exists(name: &str) -> bool {
    let admin = Auditor::connect(&server())
        .await
        .expect("the PostgreSQL server");
    let found = testing::scalar(
        &admin,
        &format!("SELECT count(*) FROM pg_database WHERE datname = '{name}'"),
    )
    .await;
    found == 1
}

/// The file of a SQLite URL from `testing::database_url`, and its `-wal`
/// and `-shm` files.
fn sqlite_files(url: &str) -> [PathBuf; 3] {
    let file = url.strip_prefix("sqlite://").expect("a SQLite URL");
    [
        PathBuf::from(file),
        PathBuf::from(format!("{file}-wal")),
        PathBuf::from(format!("{file}-shm")),
    ]
}

#[tokio::test]
async fn a_postgres_test_database_is_dropped_with_the_last_clone_of_its_auditor() {
    let Some(auditor) = testing::postgres("dropped_with_last_clone").await else {
        return;
    };
    testing::execute(
        &auditor,
        "CREATE TABLE kept (x BIGINT); INSERT INTO kept VALUES (1)",
    )
    .await
    .unwrap();
    let name = name_in(&testing::database_url(&auditor).await);
    assert!(name.starts_with("audit_t"), "{name}");
    assert!(exists(&name).await, "{name} exists while its auditor does");

    // A clone, changed by a builder, holds the database too.
    let clone = auditor.clone().with_min_retention(Duration::ZERO);
    drop(auditor);
    assert!(exists(&name).await, "{name} is kept while a clone lives");
    assert_eq!(
        testing::scalar(&clone, "SELECT COUNT(*) FROM kept").await,
        1,
        "{name} is still usable through the clone"
    );

    drop(clone);
    assert!(
        !exists(&name).await,
        "{name} is dropped once the last clone of its auditor is"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_test_database_is_dropped_from_a_task_of_a_multi_threaded_runtime() {
    let Some(auditor) = testing::postgres("dropped_from_a_task").await else {
        return;
    };
    let name = name_in(&testing::database_url(&auditor).await);
    // The last clone goes on a worker thread, inside the runtime.
    tokio::spawn(async move {
        testing::execute(&auditor, "SELECT 1").await.unwrap();
        drop(auditor);
    })
    .await
    .unwrap();
    assert!(!exists(&name).await, "{name} is dropped");
}

#[tokio::test]
async fn a_sqlite_test_file_is_removed_with_the_last_clone_of_its_auditor() {
    let auditor = testing::sqlite("removed_with_last_clone").await;
    testing::execute(
        &auditor,
        "CREATE TABLE kept (x BIGINT); INSERT INTO kept VALUES (1)",
    )
    .await
    .unwrap();
    let files = sqlite_files(&testing::database_url(&auditor).await);
    assert!(files[0].exists(), "{}", files[0].display());

    let clone = auditor.clone();
    drop(auditor);
    assert!(
        files[0].exists(),
        "{} is kept while a clone lives",
        files[0].display()
    );
    assert_eq!(
        testing::scalar(&clone, "SELECT COUNT(*) FROM kept").await,
        1
    );

    drop(clone);
    for file in &files {
        assert!(!file.exists(), "{} is removed", file.display());
    }
}

/// The databases of a test that fails: made on a thread of their own, on
/// which a panic then ends the test while its auditors are alive.
fn databases_of_a_failed_test() -> (String, Option<String>) {
    let (made, urls) = std::sync::mpsc::channel();
    let test = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let sqlite = testing::sqlite("kept_when_failed").await;
            let postgres = testing::postgres("kept_when_failed").await;
            let sqlite_url = testing::database_url(&sqlite).await;
            let postgres_url = match &postgres {
                Some(auditor) => Some(testing::database_url(auditor).await),
                None => None,
            };
            made.send((sqlite_url, postgres_url)).unwrap();
            panic!("the test fails (on purpose, to keep its databases)");
        })
    });
    assert!(test.join().is_err(), "the test failed");
    urls.recv().expect("the test made its databases")
}

#[tokio::test]
async fn a_failed_test_keeps_its_databases_for_inspection() {
    let (sqlite_url, postgres_url) = databases_of_a_failed_test();
    let files = sqlite_files(&sqlite_url);
    let kept = files[0].exists();
    // This test's own clean-up.
    for file in &files {
        let _ = std::fs::remove_file(file);
    }
    assert!(kept, "the failed test's SQLite file is kept");
    let Some(postgres_url) = postgres_url else {
        return;
    };
    let name = name_in(&postgres_url);
    let kept = exists(&name).await;
    let admin = Auditor::connect(&server()).await.unwrap();
    testing::execute(
        &admin,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await
    .unwrap();
    assert!(kept, "the failed test's PostgreSQL database {name} is kept");
}

/// A check of this file's helpers.
#[test]
fn the_name_is_the_last_segment_of_the_url() {
    assert_eq!(name_in("postgres://u@h:5432/audit_t1_x"), "audit_t1_x");
    assert_eq!(
        name_in("postgres://u@h/audit_t1_x?sslmode=disable"),
        "audit_t1_x"
    );
}
