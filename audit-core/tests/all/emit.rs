//! Emitting through a command on an in-memory SQLite database: a payload that
//! fails to serialize is a typed error and nothing is written.

use audit_core::present::{PresentContext, Presentable, Shown};
use audit_core::query::EventQuery;
use audit_core::{Actor, Audit, AuditError, Auditor, auditable};

/// A field whose serialization always fails.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Failing;

impl serde::Serialize for Failing {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("this value refuses to be stored"))
    }
}

impl Presentable for Failing {
    fn present(&self, _: &PresentContext) -> Shown {
        Shown::text("failing")
    }
}

audit_core::declare_events! {
    #[events(templates = "tests/templates")]
    pub enum Catalog {
        #[event(code = "broken", label = "Broken", group = "Things")]
        Broken { value: Failing },
    }
}

#[auditable(emits(Broken))]
async fn emit_broken(cx: &mut Audit<Catalog>) -> Result<(), AuditError> {
    cx.emit(Broken { value: Failing })?;
    Ok(())
}

#[tokio::test]
async fn a_payload_that_fails_to_serialize_is_a_typed_error() {
    let auditor = Auditor::connect("sqlite::memory:").await.unwrap();
    auditor.migrate().await.unwrap();
    let mut audit = auditor
        .begin::<Catalog>(Actor::system("test"))
        .await
        .unwrap();
    match emit_broken(&mut audit).await {
        Err(AuditError::Serialize { event, source }) => {
            assert_eq!(event, "broken");
            assert_eq!(source.to_string(), "this value refuses to be stored");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(audit.pending_events(), 0);
    assert!(matches!(
        audit.commit().await,
        Err(AuditError::Poisoned { .. })
    ));
    let page = auditor.query::<Catalog>(&EventQuery::new()).await.unwrap();
    assert!(page.events.is_empty());
}
