//! Immutable models are written inside commands; mutable ones anywhere.

include!("../model_defs.rs");

use audit_core::commands::Model;
use audit_core::{Audit, auditable};

#[auditable(emits(ThingAdded, ThingRemoved?))]
async fn add_thing(cx: &mut Audit<ThingEvent>, name: &str) -> Result<i64, AppError> {
    let id = Thing::insert(cx, &Thing { id: 0, name: name.into() }).await.map_err(db)?;
    let mut thing = Thing::find(cx.db(), id).await.map_err(db)?.expect("just inserted");
    thing.name.push('!');
    Thing::update(cx, &thing).await.map_err(db)?;
    cx.emit(ThingAdded { name: thing.name })?;
    Ok(id)
}

#[auditable(emits(ThingRemoved))]
async fn remove_thing(cx: &mut Audit<ThingEvent>, id: i64) -> Result<(), AppError> {
    Thing::delete(cx, id).await.map_err(db)?;
    cx.emit(ThingRemoved { name: id.to_string() })?;
    Ok(())
}

fn db(e: sqlx::Error) -> AppError {
    AppError::Audit(audit_core::AuditError::Database(e))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert!(Thing::IMMUTABLE && !Note::IMMUTABLE);
    assert_eq!((Thing::TABLE, Note::TABLE), ("things", "notes"));
    let auditor = audit_core::Auditor::connect("sqlite::memory:").await.unwrap();
    auditor.migrate().await.unwrap();
    audit_core::on_backend!(auditor.pool(), pool => {
        sqlx::raw_sql("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
                       CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL);")
            .execute(pool)
            .await
            .unwrap();
    });
    let mut audit = auditor.begin::<ThingEvent>(audit_core::Actor::system("t")).await.unwrap();
    let id = add_thing(&mut audit, "a").await.unwrap();
    // A mutable model needs no command.
    let note = Note::insert(&mut audit, &Note { id: 0, text: "hi".into() }).await.unwrap();
    assert_eq!(Note::delete(&mut audit, note).await.unwrap(), 1);
    remove_thing(&mut audit, id).await.unwrap();
    audit.commit().await.unwrap();
    assert_eq!(auditor.unclassified_tables(&[Thing::TABLE, Note::TABLE]).await.unwrap(), Vec::<String>::new());
}
