//! The event-type enum is stored as text through sqlx, on SQLite and PostgreSQL.

use sqlx::{Postgres, Sqlite, Type};

audit_core::declare_events! {
    #[events(templates = "templates/catalog")]
    pub enum Stored {
        #[event(code = "maintenance", label = "Maintenance", group = "System")]
        Maintenance,
    }
}

fn text_on<DB: sqlx::Database>()
where
    StoredType: Type<DB> + for<'q> sqlx::Encode<'q, DB> + for<'r> sqlx::Decode<'r, DB>,
    str: Type<DB>,
{
    assert!(<StoredType as Type<DB>>::compatible(&<str as Type<DB>>::type_info()));
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    text_on::<Sqlite>();
    text_on::<Postgres>();

    let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
    let (back, as_text): (StoredType, String) = sqlx::query_as("SELECT ?1, ?1")
        .bind(StoredType::Maintenance)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(back, StoredType::Maintenance);
    assert_eq!(as_text, "maintenance");
    let bad: Result<(StoredType,), _> = sqlx::query_as("SELECT 'gone'").fetch_one(&pool).await;
    let message = bad.unwrap_err().to_string();
    assert!(message.contains("unknown event code `gone`"), "{message}");
}
