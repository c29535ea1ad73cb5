//! The example staff area's command line: fills a database with a sample
//! through the audited commands, then prints the audit log.
//!
//! Usage: `example-app [--database-url URL]`. The database is
//! `sqlite://example.db` in the working directory unless `DATABASE_URL` or
//! `--database-url` says otherwise (`postgres://...` works too).

use audit_core::{Actor, Auditor, Backend, Decoded, EventQuery, PresentContext, plain_text};
use example_app::commands::{self, CommandError};
use example_app::domain::{Role, Roles};
use example_app::events::StaffEvent;
use example_app::present::StaffResolver;

const DEFAULT_DATABASE: &str = "sqlite://example.db";

#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("cannot open the database `{url}`: {source}")]
    Open {
        url: String,
        source: audit_core::AuditError,
    },
    #[error(transparent)]
    Audit(#[from] audit_core::AuditError),
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn database_url() -> Result<String, CliError> {
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next(), args.next()) {
        (None, _, _) => {
            Ok(std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE.into()))
        }
        (Some("--database-url"), Some(url), None) => Ok(url),
        _ => Err(CliError::Usage(
            "usage: example-app [--database-url URL]".into(),
        )),
    }
}

async fn run() -> Result<(), CliError> {
    let url = database_url()?;
    let auditor = Auditor::connect(&url)
        .await
        .map_err(|source| CliError::Open {
            url: url.clone(),
            source,
        })?;
    example_app::schema::migrate(&auditor).await?;
    if demo_exists(&auditor).await? {
        println!("The sample is already in {url}; showing its audit log.\n");
    } else {
        create_demo(&auditor).await?;
        println!("Created a sample staff area in {url} through its commands.\n");
    }
    print_log(&auditor).await
}

async fn demo_exists(auditor: &Auditor) -> Result<bool, CliError> {
    let sql = "SELECT COUNT(*) FROM projects WHERE name = 'Apollo'";
    let count: i64 = match auditor.backend() {
        Backend::Sqlite => {
            sqlx::query_scalar(sql)
                .fetch_one(auditor.sqlite_pool().expect("SQLite"))
                .await?
        }
        Backend::Postgres => {
            sqlx::query_scalar(sql)
                .fetch_one(auditor.postgres_pool().expect("PostgreSQL"))
                .await?
        }
    };
    Ok(count > 0)
}

fn roles(list: &[Role]) -> Roles {
    list.iter().copied().collect()
}

async fn create_demo(auditor: &Auditor) -> Result<(), CliError> {
    let mut setup = auditor
        .begin::<StaffEvent>(Actor::system("demo-setup"))
        .await?;
    let alice =
        commands::add_user(&mut setup, "alice", roles(&[Role::StaffAreaAdministrator])).await?;
    let bob = commands::add_user(&mut setup, "bob", Roles::new()).await?;
    let carol = commands::add_user(&mut setup, "carol", roles(&[Role::OutputChecker])).await?;
    setup.commit().await?;

    let mut audit = auditor
        .begin::<StaffEvent>(Actor::user(alice.id, &alice.username))
        .await?;
    let apollo = commands::add_project(&mut audit, "Apollo").await?;
    commands::add_member(&mut audit, &apollo, &bob, roles(&[Role::ProjectDeveloper])).await?;
    commands::add_member(
        &mut audit,
        &apollo,
        &carol,
        roles(&[Role::ProjectCollaborator]),
    )
    .await?;
    commands::update_member_roles(
        &mut audit,
        &apollo,
        &bob,
        roles(&[Role::ProjectDeveloper, Role::ProjectCollaborator]),
    )
    .await?;
    commands::remove_member(&mut audit, &apollo, &carol).await?;
    commands::update_user_roles(&mut audit, &bob, roles(&[Role::OutputChecker])).await?;
    audit.commit().await?;
    Ok(())
}

async fn print_log(auditor: &Auditor) -> Result<(), CliError> {
    let page = auditor
        .query::<StaffEvent>(&EventQuery::new().limit(25))
        .await?;
    let resolver = StaffResolver::new(auditor.clone());
    let cx = PresentContext::for_page(&page.events, &resolver).await?;
    println!("Audit log, newest first:");
    for stored in &page.events {
        let text = match &stored.event {
            Decoded::Known(event) => match event.render(&cx) {
                Ok(html) => plain_text(&html),
                Err(e) => format!("(cannot render: {e})"),
            },
            Decoded::Unknown(unknown) => format!("[{}]", unknown.code),
        };
        println!(
            "  #{:<4} {}  {:<24} {:<20} {}",
            stored.id,
            stored.occurred_at.format("%Y-%m-%d %H:%M:%S"),
            stored.actor.to_string(),
            stored.command_name,
            text
        );
    }
    Ok(())
}
