//! A realistic sample staff area, created through the commands, to look at
//! in the browser and on the command line.

use audit_core::{Actor, AuditError, Auditor, Context};

use crate::auth::{PasswordError, PasswordHash};
use crate::commands::{self, CommandError};
use crate::directory;
use crate::domain::{Role, Roles};
use crate::events::StaffEvent;

/// Why the demo could not be created.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A command failed.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// Starting or committing a transaction failed.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// Reading the database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A demo password could not be hashed.
    #[error(transparent)]
    Password(#[from] PasswordError),
}

/// Whether the sample is already there.
pub async fn exists(auditor: &Auditor) -> Result<bool, DemoError> {
    Ok(directory::project_named(auditor, "Apollo").await?.is_some())
}

/// The sample's sign-ins: (username, password, what they show).
pub const SIGN_INS: [(&str, &str, &str); 2] = [
    ("alice", "alice-demo-password", "a staff area administrator"),
    (
        "bob",
        "bob-demo-password",
        "not staff: the pages answer 403",
    ),
];

/// How to look at the sample, for a database at `url`.
pub fn instructions(url: &str) -> String {
    let database = if url == "sqlite://example.db" {
        String::new()
    } else {
        format!(" --database-url '{url}'")
    };
    let mut text = format!(
        "\nSee it in a browser:\n  cargo run -p example-app -- serve{database}\n  \
         then open http://127.0.0.1:8000/ and sign in as\n"
    );
    for (user, password, what) in SIGN_INS {
        text.push_str(&format!("    {user:<6} password {password:<20} ({what})\n"));
    }
    text.push_str(&format!(
        "Or here: cargo run -p example-app -- log{database} --project Apollo [--json]"
    ));
    text
}

fn roles(list: &[Role]) -> Roles {
    list.iter().copied().collect()
}

/// Creates the sample through the commands: three users (alice is staff),
/// two projects, memberships with roles, a role change, a removal, a
/// change of global roles, and passwords for alice and bob. Its events
/// have no context ([`create_with_context`] gives them one).
pub async fn create(auditor: &Auditor) -> Result<(), DemoError> {
    create_with_context(auditor, &Context::new()).await
}

/// [`create`], every event recorded with `context` (the command line's).
pub async fn create_with_context(auditor: &Auditor, context: &Context) -> Result<(), DemoError> {
    let mut setup = auditor
        .begin::<StaffEvent>(Actor::system("demo-setup"))
        .await?;
    setup.set_context(context.clone())?;
    let alice =
        commands::add_user(&mut setup, "alice", roles(&[Role::StaffAreaAdministrator])).await?;
    let bob = commands::add_user(&mut setup, "bob", Roles::new()).await?;
    let carol = commands::add_user(&mut setup, "carol", roles(&[Role::OutputChecker])).await?;
    setup.commit().await?;

    let mut audit = auditor
        .begin::<StaffEvent>(Actor::user(alice.id, &alice.username))
        .await?;
    audit.set_context(context.clone())?;
    let apollo = commands::add_project(&mut audit, "Apollo").await?;
    let gemini = commands::add_project(&mut audit, "Gemini").await?;
    commands::add_member(&mut audit, &apollo, &bob, roles(&[Role::ProjectDeveloper])).await?;
    commands::add_member(
        &mut audit,
        &apollo,
        &carol,
        roles(&[Role::ProjectCollaborator]),
    )
    .await?;
    commands::add_member(
        &mut audit,
        &gemini,
        &bob,
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

    let mut hashed = Vec::new();
    for (username, password, _) in SIGN_INS {
        hashed.push((username, PasswordHash::new(password)?));
    }
    let mut audit = auditor
        .begin::<StaffEvent>(Actor::system("demo-setup"))
        .await?;
    audit.set_context(context.clone())?;
    for (username, hash) in hashed {
        let user = [&alice, &bob]
            .into_iter()
            .find(|u| u.username == username)
            .expect("invariant: every demo sign-in is a demo user");
        commands::set_password(&mut audit, user, hash).await?;
    }
    audit.commit().await?;
    Ok(())
}
