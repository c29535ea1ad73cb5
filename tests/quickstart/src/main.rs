//! Records one audited change and prints the log. SQLite by default (the
//! file `quickstart.db`); PostgreSQL with
//! `DATABASE_URL=postgres://user@host/db cargo run`.

use audit_core::present::{PresentContext, plain_text};
use audit_core::query::{EventQuery, render_page};
use audit_core::{Actor, Auditor};
use audit_quickstart::{AppError, Names, StaffEvent, add_project, migrate};

#[tokio::main]
async fn main() -> Result<(), AppError> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://quickstart.db".into());
    let auditor = Auditor::connect(&url).await?;
    migrate(&auditor).await?;

    // One transaction acting for alice: the project and its event, or neither.
    let mut audit = auditor.begin::<StaffEvent>(Actor::user(1, "alice")).await?;
    add_project(&mut audit, "Apollo").await?;
    audit.commit().await?;

    // The log, newest first (25 events a page), each event through its template.
    let page = auditor.query::<StaffEvent>(&EventQuery::new()).await?;
    let names = Names {
        auditor: auditor.clone(),
    };
    let cx = PresentContext::for_page(&page.events, &names).await?;
    for (event, html) in page.events.iter().zip(render_page(&page.events, &cx)) {
        let text = plain_text(&html);
        println!("{}  {}  {text}", event.occurred_at, event.actor);
    }
    Ok(())
}
