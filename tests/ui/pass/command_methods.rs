//! Commands as associated functions and as methods (`&self`, `&mut self`, in an
//! inherent impl and a trait impl), the session after `self` or after other
//! parameters, and two commands named `add` in two impls: the macro leaves nothing
//! next to them that could collide.

#![deny(warnings)]

include!("../cmd_catalog.rs");
include!("../command_log.rs");

use audit_core::{Audit, auditable};

struct Things {
    prefix: String,
    added: u32,
}

impl Things {
    /// Adds a thing (an associated function).
    #[auditable(emits(ThingAdded))]
    async fn add(cx: &mut Audit<ThingEvent>, name: &str) -> Result<(), AppError> {
        cx.emit(ThingAdded { name: name.to_owned() })?;
        Ok(())
    }

    /// Adds a thing with this service's prefix (`&self`, the session second).
    #[auditable(emits(ThingAdded))]
    async fn add_prefixed(&self, name: &str, cx: &mut Audit<ThingEvent>) -> Result<String, AppError> {
        let name = format!("{}{name}", self.prefix);
        cx.emit(ThingAdded { name: name.clone() })?;
        Ok(name)
    }

    /// Counts, calls another command through `Self`, and emits (`&mut self`).
    #[auditable(emits(ThingAdded, ThingRemoved?))]
    async fn add_counted(&mut self, cx: &mut Audit<ThingEvent>) -> Result<u32, AppError> {
        self.added += 1;
        Self::add(cx, "nested").await?;
        cx.emit(ThingAdded { name: self.added.to_string() })?;
        Ok(self.added)
    }
}

struct Others;

impl Others {
    /// Another command named `add`.
    #[auditable(emits(ThingRemoved))]
    async fn add(cx: &mut Audit<ThingEvent>) -> Result<(), AppError> {
        cx.emit(ThingRemoved { name: "other".into() })?;
        Ok(())
    }
}

trait Remover {
    async fn remove(&self, cx: &mut Audit<ThingEvent>) -> Result<(), AppError>;
}

impl Remover for Others {
    #[auditable(emits(ThingRemoved))]
    async fn remove(&self, cx: &mut Audit<ThingEvent>) -> Result<(), AppError> {
        cx.emit(ThingRemoved { name: "by trait".into() })?;
        Ok(())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let auditor = store().await;
    let mut audit = auditor.begin::<ThingEvent>(audit_core::Actor::system("test")).await.unwrap();
    let mut things = Things { prefix: "p-".into(), added: 0 };
    Things::add(&mut audit, "a").await.unwrap();
    assert_eq!(things.add_prefixed("b", &mut audit).await.unwrap(), "p-b");
    assert_eq!(things.add_counted(&mut audit).await.unwrap(), 1);
    Others::add(&mut audit).await.unwrap();
    Others.remove(&mut audit).await.unwrap();
    audit.commit().await.unwrap();
    let events = recorded(&auditor).await;
    assert_eq!(
        names(&events),
        [
            ("add", "thing_added"),
            ("add_prefixed", "thing_added"),
            ("add", "thing_added"),
            ("add_counted", "thing_added"),
            ("add", "thing_removed"),
            ("remove", "thing_removed"),
        ]
    );
    // The nested `Self::add` shares the command id of `add_counted`.
    assert_eq!(events[2].2, events[3].2);
    assert_ne!(events[1].2, events[2].2);
}
