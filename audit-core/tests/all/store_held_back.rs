//! What holds the log up on PostgreSQL (G11's seals, G12's followers): no
//! running transaction holds readers or seals back, whether of another
//! database of the server or of this one (each used to, silently or
//! named); a transaction that wrote events and stays open holds the
//! commit order, so other writers' commits wait behind it, and it is named.

use audit_core::query::Position;
use audit_core::seals::VerifyOptions;
use audit_core::{Actor, Auditor, testing};
use sqlx::{Connection, PgConnection};

use crate::support::{self, TestEvent};

/// A migrated PostgreSQL test database with the `widgets` table; `None`
/// when PostgreSQL is not configured.
async fn postgres(test: &str) -> Option<Auditor> {
    let auditor = testing::postgres(test).await?;
    auditor.migrate().await.expect("migrate");
    testing::execute(&auditor, support::WIDGETS_TABLE)
        .await
        .expect("widgets");
    Some(auditor)
}

/// A session of `auditor`'s database (or of any, by URL) of its own.
async fn session(url: &str) -> PgConnection {
    PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"))
}

/// The transaction id and the server process id of the transaction open on
/// `conn`, after giving it an id.
async fn take_an_id(conn: &mut PgConnection) -> (u64, u32) {
    let (xid, pid): (i64, i32) =
        sqlx::query_as("SELECT pg_current_xact_id()::text::int8, pg_backend_pid()")
            .fetch_one(&mut *conn)
            .await
            .expect("an id");
    // A statement more, so the session is surely idle in its transaction
    // now (its state changes before it answers).
    sqlx::query("SELECT 1")
        .execute(&mut *conn)
        .await
        .expect("idle");
    (xid as u64, pid as u32)
}

/// The name of `auditor`'s database.
async fn database_name(auditor: &Auditor) -> String {
    let url = testing::database_url(auditor).await;
    let mut conn = session(&url).await;
    sqlx::query_scalar("SELECT current_database()::text")
        .fetch_one(&mut conn)
        .await
        .expect("the database's name")
}

/// `url` with every session of it acting as `role`.
fn as_role(url: &str, role: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20role%3D{role}")
}

#[tokio::test]
async fn an_idle_transaction_in_another_database_holds_nothing_back() {
    let Some(auditor) = postgres("held_other").await else {
        return;
    };
    let database = database_name(&auditor).await;
    // Another database of the same server, with a session idle in a
    // transaction that has an id, older than every event to come.
    let other = testing::postgres("held_other_idle")
        .await
        .expect("the same server");
    let other_url = testing::database_url(&other).await;
    let other_name = database_name(&other).await;
    let mut idle = session(&other_url).await;
    let mut idle_tx = idle.begin().await.expect("begin");
    let (idle_xid, _) = take_an_id(&mut idle_tx).await;

    let mut position = Position::START;
    let mut at_first_try = 0;
    for round in 1..=20_i64 {
        support::commit_widget(&auditor, Actor::system("t"), round).await;
        // The idle transaction is the oldest of the server: the old horizon
        // (the snapshot's xmin) stopped below it, before every event here.
        let xmin = testing::scalar(
            &auditor,
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::int8",
        )
        .await;
        assert!(
            xmin as u64 <= idle_xid,
            "round {round}: the other database's transaction {idle_xid} is open (xmin {xmin})"
        );

        // Sealed, verified and read, each round. A transaction of this
        // database (autovacuum's, say) may hold a seal back for a moment,
        // and is named; the other database's never is.
        let deadline = std::time::Instant::now() + support::STABLE_WITHIN;
        let mut tries = 0;
        let head = loop {
            tries += 1;
            let report = auditor.seal(None).await.expect("seal");
            if let Some(held) = &report.held_back {
                assert!(
                    held.transaction != idle_xid && held.database.as_deref() != Some(&other_name),
                    "round {round}: held back by the other database: {held}"
                );
            }
            match report.head {
                Some(head) if head.events == round => break head,
                head => assert!(
                    std::time::Instant::now() < deadline && report.held_back.is_some(),
                    "round {round}: the seals cover {:?} of {round} events, and nothing \
                     of this database holds them back: {:?}",
                    head.map(|h| h.events),
                    report.held_back
                ),
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        if tries == 1 {
            at_first_try += 1;
        }
        let verified = auditor
            .verify(&VerifyOptions::new().against(head))
            .await
            .expect("verify");
        assert!(
            verified.is_intact(),
            "round {round}: {:?}",
            verified.divergences
        );
        assert_eq!(verified.events, round as u64, "round {round}");
        let read = support::read_stable(&auditor, position, 1).await;
        assert_eq!(support::ids(&read).len(), 1, "round {round}");
        position = read[0].position;
        let tail = auditor
            .read_after::<TestEvent>(position, 100)
            .await
            .expect("read_after");
        assert!(
            tail.events.is_empty() && tail.held_back.is_none(),
            "round {round}: {:?}",
            tail.held_back
        );
    }
    eprintln!(
        "20 of 20 rounds sealed, verified and read in {database} while {other_name} held \
         transaction {idle_xid} open ({at_first_try} sealed at the first try)"
    );
    idle_tx.rollback().await.expect("rollback");
}

#[tokio::test]
async fn an_idle_transaction_of_the_same_database_holds_nothing_back() {
    let Some(auditor) = postgres("held_same").await else {
        return;
    };
    let url = testing::database_url(&auditor).await;
    support::commit_widget(&auditor, Actor::system("t"), 1).await;

    // A session of this database opens a transaction, takes an id, and
    // stays idle; then two events commit.
    let mut blocker = session(&url).await;
    let mut blocker_tx = blocker.begin().await.expect("begin");
    take_an_id(&mut blocker_tx).await;
    support::commit_widget(&auditor, Actor::system("t"), 2).await;
    support::commit_widget(&auditor, Actor::system("t"), 3).await;

    // All three are read at once, and sealed.
    let tail = auditor
        .read_after::<TestEvent>(Position::START, 100)
        .await
        .expect("read_after");
    assert_eq!(support::ids(&tail.events).len(), 3, "{:?}", tail.held_back);
    assert_eq!(tail.held_back, None);
    let report = auditor.seal(None).await.expect("seal");
    assert_eq!(
        (report.head.map(|h| h.events), report.held_back),
        (Some(3), None)
    );
    blocker_tx.rollback().await.expect("rollback");
}

#[tokio::test]
async fn a_transaction_that_wrote_events_and_idles_holds_writers_up_and_is_named() {
    let Some(auditor) = postgres("held_writers").await else {
        return;
    };
    let database = database_name(&auditor).await;
    let url = testing::database_url(&auditor).await;
    support::commit_widget(&auditor, Actor::system("t"), 1).await;
    let first = support::read_stable(&auditor, Position::START, 1).await;
    let first = first[0].position;

    // A session of this database writes an event and stays idle.
    let mut blocker = session(&url).await;
    sqlx::query("SET application_name = 'held-back-test'")
        .execute(&mut blocker)
        .await
        .expect("application_name");
    let mut blocker_tx = blocker.begin().await.expect("begin");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO audit_events ({}) VALUES \
         (0, 'note_written', 1, 'system', 'idle', 'idle', 'write_note', 'idle', \
          '{{\"widget\": 1, \"text\": \"idle\"}}')",
        support::ROW_COLUMNS
    )))
    .execute(&mut *blocker_tx)
    .await
    .expect("the blocker's event");
    let (xid, pid) = take_an_id(&mut blocker_tx).await;

    // Idle, it is named though nobody waits yet.
    let tail = auditor
        .read_after::<TestEvent>(first, 100)
        .await
        .expect("read_after");
    assert!(tail.events.is_empty(), "{:?}", support::ids(&tail.events));
    let held = tail.held_back.expect("the holder is named");
    assert_eq!((held.transaction, held.pid), (xid, Some(pid)));
    assert_eq!(held.writers_waiting, 0);
    assert!(
        held.to_string().ends_with(
            "holds the log's commit order: the next commit of events waits until it ends"
        ),
        "{held}"
    );

    // A writer commits: it waits behind the blocker, which is named.
    let writer = {
        let auditor = auditor.clone();
        tokio::spawn(async move { support::commit_widget(&auditor, Actor::system("t"), 2).await })
    };
    let deadline = std::time::Instant::now() + support::STABLE_WITHIN;
    let held = loop {
        let tail = auditor
            .read_after::<TestEvent>(first, 100)
            .await
            .expect("read_after");
        assert!(tail.events.is_empty(), "{:?}", support::ids(&tail.events));
        if let Some(held) = tail.held_back.filter(|h| h.writers_waiting > 0) {
            break held;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the writer never waited"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert_eq!(
        (held.transaction, held.pid, held.database.as_deref()),
        (xid, Some(pid), Some(database.as_str()))
    );
    assert_eq!(held.state.as_deref(), Some("idle in transaction"));
    assert!(held.in_transaction_for.is_some());
    assert_eq!(held.application_name.as_deref(), Some("held-back-test"));
    assert_eq!(
        (held.prepared_as.as_deref(), held.writers_waiting),
        (None, 1)
    );
    let sentence = held.to_string();
    let opening = format!(
        "1 writer waits to commit behind transaction {xid} (pid {pid}, database {database}, \
         idle in transaction for "
    );
    assert!(sentence.starts_with(&opening), "{sentence}");
    assert!(
        sentence.ends_with(", application held-back-test), which holds the log's commit order"),
        "{sentence}"
    );
    let report = auditor.seal(None).await.expect("seal");
    assert_eq!(report.head.as_ref().map(|h| h.events), Some(1));
    assert_eq!(report.held_back.map(|h| h.pid), Some(Some(pid)));

    // An application role (what `grant_application_role` grants, no more)
    // sees which session holds the writers up, not that session's state.
    let role = format!("audit_reader_{}", uuid::Uuid::new_v4().simple());
    testing::execute(&auditor, &format!("CREATE ROLE {role} NOLOGIN"))
        .await
        .expect("create role");
    auditor.grant_application_role(&role).await.expect("grant");
    let reader = Auditor::connect(&as_role(&url, &role))
        .await
        .expect("connect as the role");
    let current_user = testing::scalar(
        &reader,
        &format!("SELECT (current_user = '{role}')::int::int8"),
    )
    .await;
    assert_eq!(current_user, 1, "the reader acts as {role}");
    let tail = reader
        .read_after::<TestEvent>(first, 100)
        .await
        .expect("read_after as the role");
    assert!(tail.events.is_empty());
    let held = tail.held_back.expect("held up, as the role");
    assert_eq!(
        (held.transaction, held.pid, held.database.as_deref()),
        (xid, Some(pid), Some(database.as_str()))
    );
    assert_eq!(
        (held.state.as_deref(), held.in_transaction_for),
        (None, None)
    );
    assert_eq!(held.writers_waiting, 1);
    assert!(
        held.to_string().contains("its state hidden from this role"),
        "{held}"
    );
    drop(reader);

    // Once the blocker ends, the writer commits after it, and nothing is
    // held up.
    blocker_tx.commit().await.expect("the blocker commits");
    writer.await.expect("the writer commits");
    let rest = support::read_stable(&auditor, first, 2).await;
    assert_eq!(support::codes(&rest), ["note_written", "widget_created"]);
    let tail = auditor
        .read_after::<TestEvent>(rest[1].position, 100)
        .await
        .expect("read_after");
    assert!(tail.events.is_empty() && tail.held_back.is_none());
    let head = support::seal_all(&auditor, None).await;
    assert_eq!(head.events, 3);
    let report = auditor.seal(None).await.expect("seal");
    assert_eq!((report.seals, report.held_back), (0, None));

    testing::execute(&auditor, &format!("DROP OWNED BY {role}; DROP ROLE {role}"))
        .await
        .expect("drop the role");
}

#[tokio::test]
async fn sqlite_never_holds_back() {
    let auditor = testing::sqlite("held_sqlite").await;
    auditor.migrate().await.expect("migrate");
    testing::execute(&auditor, support::WIDGETS_TABLE)
        .await
        .expect("widgets");
    support::commit_widget(&auditor, Actor::system("t"), 1).await;
    let tail = auditor
        .read_after::<TestEvent>(Position::START, 1)
        .await
        .expect("read_after");
    assert_eq!(tail.events.len(), 1);
    assert_eq!(tail.held_back, None);
    let tail = auditor
        .read_after::<TestEvent>(tail.next, 10)
        .await
        .expect("read_after");
    assert!(tail.events.is_empty() && tail.held_back.is_none());
    let report = auditor.seal(None).await.expect("seal");
    assert_eq!((report.events, report.held_back), (1, None));
}
