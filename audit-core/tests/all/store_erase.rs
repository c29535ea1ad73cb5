//! Erasure: a person's values leave every event about them, the log still
//! verifies (before and after the next seal), nothing else may change, the
//! commitments left behind match no guess, the SQLite file keeps none of
//! the erased bytes, and on PostgreSQL only the owner may erase.

use std::net::IpAddr;

use audit_core::erasure::{ERASED_EVENT_CODE, ERASED_NAME, Subject};
use audit_core::events::{EntityRef, Erasable, Reference};
use audit_core::present::{PresentContext, Presentable, Shown};
use audit_core::query::StoredEvent;
use audit_core::seals::{Divergence, VerifyOptions};
use audit_core::{Actor, Audit, AuditError, Auditor, Context, auditable, testing};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store_seals::bypassing_triggers;
use crate::support;

/// A name no other text of a test holds, to look for in bytes.
const NAME: &str = "Bobbington-Qx";

/// A user of the tests' own catalog, with their name at the time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The user's id.
    pub id: i64,
    /// Their name then.
    pub name: String,
}

impl Reference for Member {
    fn entity_ref(&self) -> EntityRef {
        EntityRef::new("user", self.id.to_string())
    }
}

impl Presentable for Member {
    fn present(&self, _: &PresentContext) -> Shown {
        Shown::text(&self.name)
    }
}

impl Erasable for Member {
    fn erased() -> Self {
        Member {
            id: 0,
            name: ERASED_NAME.into(),
        }
    }
}

audit_core::declare_events! {
    /// A catalog with personal fields, every field classified.
    #[events(templates = "tests/templates/store", classify_personal)]
    pub enum TeamEvent {
        /// A member joined a team.
        #[event(code = "member_joined", label = "Member joined", group = "Teams")]
        MemberJoined {
            #[target] #[subject] #[personal] member: Member,
            #[not_personal] team: String,
            #[personal] note: Option<String>,
        },
    }
}

#[auditable(emits(MemberJoined))]
async fn join(
    cx: &mut Audit<TeamEvent>,
    member: Member,
    team: &str,
    note: Option<String>,
) -> Result<(), AuditError> {
    cx.emit(MemberJoined {
        member,
        team: team.into(),
        note,
    })
}

fn bob() -> Member {
    Member {
        id: 2,
        name: NAME.into(),
    }
}

fn address() -> IpAddr {
    "192.0.2.77".parse().expect("an address")
}

/// Commits one `member_joined` acting for `actor`, with a context that
/// has an address and a user agent (named after the one who acts).
async fn commit(auditor: &Auditor, actor: Actor, member: Member, note: Option<&str>) {
    let agent = format!("{}-agent", actor.name());
    let mut audit = auditor.begin::<TeamEvent>(actor).await.expect("begin");
    audit
        .set_context(
            Context::new()
                .with_request_id("req-1")
                .with_client_address(address())
                .with_user_agent(agent)
                .with_host("web-1"),
        )
        .expect("a context");
    join(&mut audit, member, "blue", note.map(str::to_owned))
        .await
        .expect("join");
    audit.commit().await.expect("commit");
}

/// The log, oldest first.
async fn log(auditor: &Auditor) -> Vec<StoredEvent<TeamEvent>> {
    let query = audit_core::query::EventQuery::new().limit(1000);
    let mut events = auditor
        .query::<TeamEvent>(&query)
        .await
        .expect("query")
        .events;
    events.reverse();
    events
}

/// Every event about bob (he acts, someone acts as him, he joins), one
/// about carol only, sealed, and one more about bob left unsealed.
async fn history(auditor: &Auditor) {
    auditor.migrate().await.expect("migrate");
    commit(auditor, Actor::user(2, NAME), bob(), Some("first day")).await;
    commit(
        auditor,
        Actor::user(1, "alice"),
        bob(),
        Some(&format!("{NAME} asked")),
    )
    .await;
    commit(
        auditor,
        Actor::user(1, "alice").acting_as(2, NAME),
        Member {
            id: 3,
            name: "carol".into(),
        },
        None,
    )
    .await;
    commit(
        auditor,
        Actor::user(3, "carol"),
        Member {
            id: 3,
            name: "carol".into(),
        },
        Some("carol's note"),
    )
    .await;
    support::seal_all(auditor, None).await;
    commit(auditor, Actor::user(1, "alice"), bob(), None).await;
}

#[tokio::test]
async fn an_erased_person_is_gone_from_every_event_and_the_log_still_verifies() {
    for auditor in support::databases("erase_person").await {
        let label = testing::label(&auditor);
        history(&auditor).await;
        let report = auditor
            .erase::<TeamEvent>(&Subject::user(2), &Actor::user(1, "alice"), "request 7")
            .await
            .expect("erase");
        // Event 1: name, address, user agent, member, note; event 2: the
        // member and the note; event 3: the name acted for; event 5: the
        // member (no note).
        assert_eq!((report.values, report.events), (9, 4), "{label}");
        assert_eq!(report.unsalted, 0, "{label}");
        assert_eq!(report.subject.len(), 32, "{label}: a random id");

        let events = log(&auditor).await;
        let shown = format!("{events:?}");
        assert!(!shown.contains(NAME), "{label}: {shown}");
        assert_eq!(
            shown.matches("alice-agent").count(),
            3,
            "{label}: alice's own context stays: {shown}"
        );
        let first = &events[0];
        assert_eq!(first.actor.name(), ERASED_NAME, "{label}");
        assert_eq!(first.context.client_address, None, "{label}");
        assert_eq!(first.context.user_agent, None, "{label}");
        assert_eq!(first.context.host.as_deref(), Some("web-1"), "{label}");
        let joined = |event: &StoredEvent<TeamEvent>| match &event.event {
            audit_core::events::Decoded::Known(TeamEvent::MemberJoined(joined)) => joined.clone(),
            other => panic!("{label}: {other:?}"),
        };
        assert_eq!(joined(first).member, Member::erased(), "{label}");
        assert_eq!(joined(first).note, None, "{label}");
        assert_eq!(joined(first).team, "blue", "{label}: not personal, kept");
        assert_eq!(events[2].actor.as_name(), Some(ERASED_NAME), "{label}");
        assert_eq!(events[2].actor.name(), "alice", "{label}");
        assert_eq!(
            joined(&events[3]).note.as_deref(),
            Some("carol's note"),
            "{label}"
        );
        let record = events.last().expect("the record");
        assert_eq!(
            record.event_type().map(|t| t.code()),
            Some(ERASED_EVENT_CODE),
            "{label}"
        );
        assert!(
            !record.payload.contains(NAME),
            "{label}: {}",
            record.payload
        );

        // Intact, before the next seal and after it, and the erasure said.
        for round in ["before sealing again", "after sealing again"] {
            let verified = auditor.verify(&VerifyOptions::new()).await.expect("verify");
            assert!(
                verified.is_intact(),
                "{label} {round}: {:?}",
                verified.divergences
            );
            assert_eq!(verified.erasures.len(), 1, "{label} {round}");
            assert_eq!(
                verified.erasures[0].record, report.record_id,
                "{label} {round}"
            );
            assert_eq!(verified.erasures[0].values, 9, "{label} {round}");
            support::seal_all(&auditor, None).await;
        }

        // Erasing again finds nothing left.
        let again = auditor
            .erase::<TeamEvent>(&Subject::user(2), &Actor::user(1, "alice"), "again")
            .await
            .expect("erase again");
        assert_eq!((again.values, again.events), (0, 0), "{label}");
        assert_ne!(again.subject, report.subject, "{label}: not linkable");

        // Any other value edited still shows, and so does a value put back.
        let carol = events[3].id;
        bypassing_triggers(
            &auditor,
            &format!("UPDATE audit_events SET actor_name = 'mallory' WHERE id = {carol}"),
        )
        .await;
        let first_id = events[0].id;
        bypassing_triggers(
            &auditor,
            &format!("UPDATE audit_events SET actor_name = '{NAME}' WHERE id = {first_id}"),
        )
        .await;
        let divergences = auditor
            .verify(&VerifyOptions::new())
            .await
            .expect("verify")
            .divergences;
        for id in [carol, first_id] {
            assert!(
                divergences.contains(&Divergence::EventEdited {
                    id,
                    column: "actor_name"
                }),
                "{label}: {divergences:?}"
            );
        }
    }
}

/// The text values `sql` returns.
async fn texts(auditor: &Auditor, sql: &str) -> Vec<String> {
    let query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql.to_owned()));
    match auditor.pool() {
        audit_core::store::Pool::Sqlite(pool) => query.fetch_all(pool).await,
        audit_core::store::Pool::Postgres(pool) => {
            sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_all(pool)
                .await
        }
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// `SHA-256(parts...)`.
fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in parts {
        h.update(part);
    }
    h.finalize().into()
}

/// What a guess at an erased value hashes to without its salt, in the
/// encoding's documented form (`store/seal/encoding.rs`): as a column
/// value at each index, and as a payload member, in both versions.
fn guesses(candidate: &str) -> Vec<[u8; 32]> {
    let mut hashes = Vec::new();
    let text = candidate.as_bytes();
    for prefix in [&b"audit-seal-v1/value"[..], &b"audit-seal-v2/value"[..]] {
        for i in 0u32..30 {
            hashes.push(sha256(&[
                prefix,
                &i.to_be_bytes(),
                &[2],
                &(text.len() as u64).to_be_bytes(),
                text,
            ]));
        }
    }
    let members = [
        format!("\"{candidate}\""),
        format!("{{\"id\":2,\"name\":\"{candidate}\"}}"),
    ];
    for member in members {
        hashes.push(sha256(&[
            b"audit-seal-v2/member",
            &[2],
            &(member.len() as u64).to_be_bytes(),
            member.as_bytes(),
        ]));
    }
    hashes
}

#[tokio::test]
async fn no_guess_matches_a_commitment_left_behind() {
    for auditor in support::databases("erase_guesses").await {
        let label = testing::label(&auditor);
        history(&auditor).await;
        auditor
            .erase::<TeamEvent>(&Subject::user(2), &Actor::user(1, "alice"), "request 8")
            .await
            .expect("erase");
        support::seal_all(&auditor, None).await;
        // Every hash the database holds: the commitments, the seal entries'
        // event hashes and the leading bytes of each value's hash.
        let mut stored: Vec<String> = Vec::new();
        for sql in [
            "SELECT personal FROM audit_events WHERE personal IS NOT NULL",
            "SELECT event_hash FROM audit_seal_entries",
            "SELECT column_tags FROM audit_seal_entries",
            "SELECT CAST(payload AS TEXT) FROM audit_events \
             WHERE event_type = 'audit:subject_erased'",
        ] {
            stored.extend(texts(&auditor, sql).await);
        }
        let stored = stored.join(" ");
        assert!(stored.contains("\"erased\""), "{label}: {stored}");
        let candidates = [NAME, "alice", "carol", "bob", "192.0.2.77", "Bobbington"];
        let agent = format!("{NAME}-agent");
        for candidate in candidates.iter().copied().chain([agent.as_str()]) {
            for guess in guesses(candidate) {
                let full = hex::encode(guess);
                assert!(
                    !stored.contains(&full),
                    "{label}: {candidate} found by guessing"
                );
                // Nor the leading bytes a seal keeps of each value's hash.
                let tag = &full[..8];
                assert!(
                    !stored.contains(tag),
                    "{label}: {candidate}'s tag {tag} found by guessing"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_sqlite_file_keeps_no_byte_of_an_erased_name() {
    let auditor = testing::sqlite("erase_bytes").await;
    history(&auditor).await;
    let url = testing::database_url(&auditor).await;
    let path = url.trim_start_matches("sqlite://").to_owned();
    // Read by another process (`grep`): SQLite's locks are the process's
    // POSIX locks, which closing any descriptor of the file would drop for
    // every connection this process has open.
    let holds_name = |path: &str| {
        std::path::Path::new(path).exists()
            && std::process::Command::new("grep")
                .args(["-qaF", NAME, path])
                .status()
                .expect("run grep")
                .success()
    };
    let wal = format!("{path}-wal");
    assert!(
        holds_name(&path) || holds_name(&wal),
        "the name is in the files before"
    );
    auditor
        .erase::<TeamEvent>(&Subject::user(2), &Actor::user(1, "alice"), "request 9")
        .await
        .expect("erase");
    assert!(!holds_name(&path), "{path} holds the erased name");
    assert!(!holds_name(&wal), "{wal} holds the erased name");
    assert!(
        auditor
            .verify(&VerifyOptions::new())
            .await
            .expect("verify")
            .is_intact()
    );
}

#[tokio::test]
async fn only_the_owner_may_erase_on_postgresql() {
    let Some(auditor) = testing::postgres("erase_owner").await else {
        return;
    };
    history(&auditor).await;
    let role = format!("audit_attack_{}", uuid::Uuid::new_v4().simple());
    testing::execute(&auditor, &format!("CREATE ROLE {role} NOLOGIN"))
        .await
        .expect("create role");
    auditor.grant_application_role(&role).await.expect("grant");
    let url = testing::database_url(&auditor).await;
    let separator = if url.contains('?') { '&' } else { '?' };
    let app = Auditor::connect(&format!("{url}{separator}options=-c%20role%3D{role}"))
        .await
        .expect("connect as the application's role");
    // The role writes events as before (the new column is granted)...
    commit(&app, Actor::user(1, "alice"), bob(), None).await;
    // ...and cannot erase, through the library or around it.
    let refused = app
        .erase::<TeamEvent>(
            &Subject::user(2),
            &Actor::user(1, "alice"),
            "not mine to do",
        )
        .await
        .expect_err("the application role erased");
    assert!(
        refused.to_string().contains("permission denied"),
        "{refused}"
    );
    for sql in [
        "INSERT INTO audit_erasure_permit (tx_id) VALUES (pg_current_xact_id())".to_owned(),
        format!("UPDATE audit_events SET actor_name = '' WHERE actor_name = '{NAME}'"),
    ] {
        let err = testing::execute(&app, &sql)
            .await
            .expect_err("the role wrote it");
        assert!(
            err.to_string().contains("permission denied"),
            "{sql}: {err}"
        );
    }
    drop(app);
    let names = testing::scalar(
        &auditor,
        &format!("SELECT count(*) FROM audit_events WHERE actor_name = '{NAME}'"),
    )
    .await;
    assert_eq!(names, 1, "nothing was erased");
    // The owner may; the live rows keep no trace of the name.
    auditor
        .erase::<TeamEvent>(&Subject::user(2), &Actor::user(1, "alice"), "request 10")
        .await
        .expect("the owner erases");
    let left = testing::scalar(
        &auditor,
        &format!(
            "SELECT count(*) FROM audit_events \
             WHERE row_to_json(audit_events)::text LIKE '%{NAME}%'"
        ),
    )
    .await;
    assert_eq!(left, 0);
    // Even the owner's own UPDATE is refused outside an erasure.
    let err = testing::execute(
        &auditor,
        "UPDATE audit_events SET actor_name = 'x' WHERE id = 1",
    )
    .await
    .expect_err("an update outside an erasure");
    assert!(err.to_string().contains("append-only"), "{err}");
    testing::execute(&auditor, &format!("DROP OWNED BY {role}; DROP ROLE {role}"))
        .await
        .expect("drop the role");
}
