//! Who acted and from where: every actor kind and the context of a request
//! are stored with each event, read back as written, found by request id
//! and by client address, and sealed like every other stored value.

use std::net::IpAddr;

use audit_core::query::{Condition, EventQuery};
use audit_core::seals::{Divergence, VerifyOptions};
use audit_core::{Actor, AuditError, Auditor, Context, MAX_CONTEXT_BYTES, testing};
use tracing::Instrument as _;

use crate::store_seals::bypassing_triggers;
use crate::support::{self, TestEvent, create_widget};

fn address(text: &str) -> IpAddr {
    text.parse().expect("a test address")
}

/// The context of request `n`: every library field and one of the
/// application's, with text a page or an export must keep exact.
fn request(n: i64) -> Context {
    Context::new()
        .with_request_id(format!("req-{n}"))
        .with_client_address(address(if n % 2 == 0 {
            "203.0.113.9"
        } else {
            "2001:db8::7"
        }))
        .with_user_agent("Mozilla/5.0 \"quoted\" \u{202e}")
        .with_route("POST /projects/{id}/members")
        .with_trace_id("4bf92f3577b34da6a3ce929d0e0e4736")
        .with_span_id("17")
        .with_host("web-1")
        .with_program("example", "1.2.3")
        .with_reason("asked by phone; ticket 'SUP-1'")
        .with_field("tenant", "acme")
}

/// Commits widget `id` acting for `actor` with `context`.
async fn commit(auditor: &Auditor, actor: Actor, context: Option<Context>, id: i64) {
    let mut audit = auditor.begin::<TestEvent>(actor).await.expect("begin");
    if let Some(context) = context {
        audit.set_context(context).expect("a storable context");
    }
    create_widget(&mut audit, id).await.expect("create_widget");
    audit.commit().await.expect("commit");
}

/// The actors of one of each kind.
fn actors() -> [Actor; 4] {
    [
        Actor::user(1, "alice"),
        Actor::user(1, "alice").acting_as(2, "bob"),
        Actor::service("ci-deploy", "CI deploy key"),
        Actor::system("nightly-sync"),
    ]
}

#[tokio::test]
async fn every_actor_kind_and_the_context_read_back_as_written() {
    for auditor in support::databases("context_round_trip").await {
        let label = testing::label(&auditor);
        for (i, actor) in actors().into_iter().enumerate() {
            let id = i as i64 + 1;
            commit(&auditor, actor, Some(request(id)), id).await;
        }
        commit(&auditor, Actor::user(3, "carol"), None, 9).await;

        let log = support::log(&auditor).await;
        let read: Vec<(Actor, Context)> = log
            .iter()
            .rev()
            .map(|e| (e.actor.clone(), e.context.clone()))
            .collect();
        let mut expected: Vec<(Actor, Context)> = actors()
            .into_iter()
            .zip(1..)
            .map(|(actor, n)| (actor, request(n)))
            .collect();
        expected.push((Actor::user(3, "carol"), Context::new()));
        assert_eq!(read, expected, "{label}");
        assert_eq!(log[1].actor.to_string(), "system process nightly-sync");
        assert_eq!(log[3].actor.to_string(), "alice (as bob)", "{label}");
    }
}

#[tokio::test]
async fn a_person_acting_as_another_is_found_under_the_person_who_acted() {
    for auditor in support::databases("context_acting_as").await {
        let label = testing::label(&auditor);
        commit(
            &auditor,
            Actor::user(1, "alice").acting_as(2, "bob"),
            None,
            1,
        )
        .await;
        commit(&auditor, Actor::user(2, "bob"), None, 2).await;
        let page =
            support::page(&auditor, &EventQuery::new().actor(&Actor::user(1, "alice"))).await;
        assert_eq!(page.events.len(), 1, "{label}");
        assert_eq!(
            page.events[0].actor,
            Actor::user(1, "alice").acting_as(2, "bob"),
            "{label}"
        );
    }
}

#[tokio::test]
async fn events_are_found_by_request_id_and_by_client_address() {
    for auditor in support::databases("context_queries").await {
        let label = testing::label(&auditor);
        // Request 2 runs two commands (three events), request 3 one, and
        // one change has no context at all.
        let mut audit = auditor
            .begin::<TestEvent>(Actor::user(1, "alice"))
            .await
            .unwrap();
        audit.set_context(request(2)).unwrap();
        create_widget(&mut audit, 1).await.unwrap();
        support::write_note(&mut audit, support::WidgetRef(1), "and a note".into())
            .await
            .unwrap();
        audit.commit().await.unwrap();
        commit(&auditor, Actor::user(1, "alice"), Some(request(3)), 3).await;
        commit(&auditor, Actor::user(1, "alice"), Some(request(4)), 4).await;
        commit(&auditor, Actor::user(1, "alice"), None, 5).await;

        let of = |query: EventQuery| {
            let auditor = auditor.clone();
            async move {
                let mut widgets: Vec<String> = support::page(&auditor, &query)
                    .await
                    .events
                    .iter()
                    .map(|e| format!("{}:{}", e.command_name, support::payload(e)["widget"]))
                    .collect();
                widgets.sort();
                widgets
            }
        };
        assert_eq!(
            of(EventQuery::new().request_id("req-2")).await,
            ["create_widget:1", "write_note:1"],
            "{label}"
        );
        assert_eq!(
            of(EventQuery::new().client_address(address("203.0.113.9")))
                .await
                .len(),
            3,
            "{label}: requests 2 and 4"
        );
        assert_eq!(
            of(EventQuery::new().client_address(address("2001:db8::7"))).await,
            ["create_widget:3"],
            "{label}"
        );
        assert_eq!(
            of(EventQuery::new().any_of([
                Condition::RequestId("req-3".into()),
                Condition::RequestId("req-4".into()),
            ]))
            .await,
            ["create_widget:3", "create_widget:4"],
            "{label}"
        );
        assert!(of(EventQuery::new().request_id("req-9")).await.is_empty());
    }
}

#[tokio::test]
async fn a_command_records_the_span_it_is_called_in_unless_the_context_names_one() {
    // Span ids exist only under a subscriber; this one is this thread's
    // (the test runs on one thread), not the process's.
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry());
    for auditor in support::databases("context_span").await {
        let label = testing::label(&auditor);
        let span = tracing::info_span!("request");
        let span_id = span.id().expect("a span under a subscriber").into_u64();
        async {
            commit(&auditor, Actor::system("job"), None, 1).await;
            commit(
                &auditor,
                Actor::system("job"),
                Some(Context::new().with_span_id("named")),
                2,
            )
            .await;
        }
        .instrument(span)
        .await;
        let log = support::log(&auditor).await;
        assert_eq!(log[1].context.span_id, Some(span_id.to_string()), "{label}");
        assert_eq!(log[0].context.span_id.as_deref(), Some("named"), "{label}");
    }
}

#[tokio::test]
async fn a_context_that_cannot_be_stored_is_refused_when_set() {
    for auditor in support::databases("context_refused").await {
        let label = testing::label(&auditor);
        let mut audit = auditor
            .begin::<TestEvent>(Actor::user(1, "alice"))
            .await
            .unwrap();
        for context in [
            Context::new().with_field("note", "x".repeat(MAX_CONTEXT_BYTES)),
            Context::new().with_request_id("a\0b"),
        ] {
            assert!(
                matches!(
                    audit.set_context(context),
                    Err(AuditError::InvalidContext { .. })
                ),
                "{label}"
            );
        }
        // The transaction keeps the context it had, and goes on.
        assert!(audit.context().is_empty(), "{label}");
        create_widget(&mut audit, 1).await.unwrap();
        audit.commit().await.unwrap();
    }
}

#[tokio::test]
async fn the_context_and_the_person_acted_for_are_sealed() {
    for auditor in support::databases("context_sealed").await {
        let label = testing::label(&auditor);
        commit(
            &auditor,
            Actor::user(1, "alice").acting_as(2, "bob"),
            Some(request(1)),
            1,
        )
        .await;
        commit(&auditor, Actor::user(3, "carol"), None, 2).await;
        support::seal_all(&auditor, None).await;
        let report = auditor.verify(&VerifyOptions::new()).await.unwrap();
        assert!(report.is_intact(), "{label}: {:?}", report.divergences);

        let ids = support::ids(&support::log(&auditor).await);
        let (with_context, without) = (ids[1], ids[0]);
        // Each value on its own: the address of one request, the person
        // an impersonation was for, and a context given to an event that
        // had none.
        for (id, column, forged, stored) in [
            (
                with_context,
                "client_address",
                "'198.51.100.1'",
                "'2001:db8::7'",
            ),
            (with_context, "actor_as_name", "'mallory'", "'bob'"),
            (without, "request_id", "'req-1'", "NULL"),
        ] {
            let set =
                |value: &str| format!("UPDATE audit_events SET {column} = {value} WHERE id = {id}");
            bypassing_triggers(&auditor, &set(forged)).await;
            let report = auditor.verify(&VerifyOptions::new()).await.unwrap();
            assert_eq!(
                report.divergences,
                [Divergence::EventEdited { id, column }],
                "{label}: {column}"
            );
            bypassing_triggers(&auditor, &set(stored)).await;
        }
        let report = auditor.verify(&VerifyOptions::new()).await.unwrap();
        assert!(report.is_intact(), "{label}: {:?}", report.divergences);
    }
}
