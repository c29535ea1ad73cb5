//! The example staff area's command line. Every subcommand works the same on
//! SQLite and PostgreSQL; the database is `sqlite://example.db` in the working
//! directory unless `DATABASE_URL` or `--database-url` says otherwise, and
//! migrations run on start.

use audit_core::{Actor, Auditor, Backend, EventQuery, PresentContext, plain_text};
use clap::{Parser, Subcommand};
use example_app::commands::{self, CommandError, StaffAudit};
use example_app::domain::{ProjectRef, Role, Roles, UserRef};
use example_app::events::{StaffEvent, StaffEventType};
use example_app::present::StaffResolver;

/// A small staff area whose every change is audited.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// The database (`sqlite://file.db` or `postgres://...`).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://example.db",
        global = true
    )]
    database_url: String,
    /// Act as this user; without it, act as the system process `example-app-cli`.
    #[arg(long = "as", value_name = "USERNAME", global = true)]
    acting_as: Option<String>,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create a sample staff area through the commands (once), then show its log.
    Demo,
    /// Create a user.
    AddUser {
        username: String,
        #[arg(long = "role")]
        roles: Vec<Role>,
    },
    /// Create a project.
    AddProject { name: String },
    /// Add a user to a project.
    AddMember {
        #[arg(long)]
        project: String,
        #[arg(long)]
        user: String,
        #[arg(long = "role")]
        roles: Vec<Role>,
    },
    /// Set a member's roles in a project.
    UpdateMemberRoles {
        #[arg(long)]
        project: String,
        #[arg(long)]
        user: String,
        #[arg(long = "role")]
        roles: Vec<Role>,
    },
    /// Remove a user from a project.
    RemoveMember {
        #[arg(long)]
        project: String,
        #[arg(long)]
        user: String,
    },
    /// Set a user's global roles.
    UpdateUserRoles {
        #[arg(long)]
        user: String,
        #[arg(long = "role")]
        roles: Vec<Role>,
    },
    /// Clear all of a user's roles, global and in every project.
    ClearUserRoles {
        #[arg(long)]
        user: String,
    },
    /// Show the audit log, newest first.
    Log {
        /// Events on this project.
        #[arg(long)]
        project: Option<String>,
        /// Events about this user.
        #[arg(long)]
        user: Option<String>,
        /// Only these event types (codes); repeatable.
        #[arg(long = "type", value_name = "CODE")]
        types: Vec<StaffEventType>,
        /// How many events.
        #[arg(long, default_value_t = 25)]
        limit: u32,
        /// One JSON object per event per line.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("cannot open the database `{url}`: {source}")]
    Open {
        url: String,
        source: audit_core::AuditError,
    },
    #[error("unknown user `{0}`")]
    UnknownUser(String),
    #[error("unknown project `{0}`")]
    UnknownProject(String),
    #[error(transparent)]
    Audit(#[from] audit_core::AuditError),
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let url = cli.database_url;
    let auditor = Auditor::connect(&url)
        .await
        .map_err(|source| CliError::Open {
            url: url.clone(),
            source,
        })?;
    example_app::schema::migrate(&auditor)
        .await
        .map_err(|source| CliError::Open {
            url: url.clone(),
            source,
        })?;
    let actor = match &cli.acting_as {
        Some(name) => {
            let user = find_user(&auditor, name).await?;
            Actor::user(user.id, user.username)
        }
        None => Actor::system("example-app-cli"),
    };
    let command = cli.command.unwrap_or(Cmd::Demo);
    if let Cmd::Demo = command {
        if demo_exists(&auditor).await? {
            println!("The sample is already in {url}.\n");
        } else {
            create_demo(&auditor).await?;
            println!("Created a sample staff area in {url} through its commands.\n");
        }
        return print_log(&auditor, EventQuery::new(), false).await;
    }
    if let Cmd::Log {
        project,
        user,
        types,
        limit,
        json,
    } = command
    {
        let mut query = EventQuery::new()
            .limit(limit)
            .types(types.iter().map(|t| t.code()));
        if let Some(name) = project {
            query = query.parent(audit_core::Reference::entity_ref(
                &find_project(&auditor, &name).await?,
            ));
        }
        if let Some(name) = user {
            query = query.subject(audit_core::Reference::entity_ref(
                &find_user(&auditor, &name).await?,
            ));
        }
        return print_log(&auditor, query, json).await;
    }
    let mut audit: StaffAudit = auditor.begin(actor).await?;
    match command {
        Cmd::AddUser { username, roles } => {
            commands::add_user(&mut audit, &username, roles.into_iter().collect()).await?;
        }
        Cmd::AddProject { name } => {
            commands::add_project(&mut audit, &name).await?;
        }
        Cmd::AddMember {
            project,
            user,
            roles,
        } => {
            let (project, user) = (
                find_project(&auditor, &project).await?,
                find_user(&auditor, &user).await?,
            );
            commands::add_member(&mut audit, &project, &user, roles.into_iter().collect()).await?;
        }
        Cmd::UpdateMemberRoles {
            project,
            user,
            roles,
        } => {
            let (project, user) = (
                find_project(&auditor, &project).await?,
                find_user(&auditor, &user).await?,
            );
            commands::update_member_roles(&mut audit, &project, &user, roles.into_iter().collect())
                .await?;
        }
        Cmd::RemoveMember { project, user } => {
            let (project, user) = (
                find_project(&auditor, &project).await?,
                find_user(&auditor, &user).await?,
            );
            commands::remove_member(&mut audit, &project, &user).await?;
        }
        Cmd::UpdateUserRoles { user, roles } => {
            let user = find_user(&auditor, &user).await?;
            commands::update_user_roles(&mut audit, &user, roles.into_iter().collect()).await?;
        }
        Cmd::ClearUserRoles { user } => {
            let user = find_user(&auditor, &user).await?;
            commands::clear_user_roles(&mut audit, &user).await?;
        }
        Cmd::Demo | Cmd::Log { .. } => unreachable!("handled above"),
    }
    let events = audit.pending_events();
    audit.commit().await?;
    println!("done: {events} audit event(s) recorded");
    Ok(())
}

async fn lookup(
    auditor: &Auditor,
    sql: &str,
    key: &str,
) -> Result<Option<(i64, String)>, CliError> {
    Ok(match auditor.backend() {
        Backend::Sqlite => {
            sqlx::query_as(sql)
                .bind(key)
                .fetch_optional(auditor.sqlite_pool().expect("SQLite"))
                .await?
        }
        Backend::Postgres => {
            sqlx::query_as(sql)
                .bind(key)
                .fetch_optional(auditor.postgres_pool().expect("PostgreSQL"))
                .await?
        }
    })
}

async fn find_user(auditor: &Auditor, username: &str) -> Result<UserRef, CliError> {
    let row = lookup(
        auditor,
        "SELECT id, username FROM users WHERE username = $1",
        username,
    )
    .await?;
    row.map(|(id, username)| UserRef { id, username })
        .ok_or_else(|| CliError::UnknownUser(username.to_owned()))
}

async fn find_project(auditor: &Auditor, name: &str) -> Result<ProjectRef, CliError> {
    let row = lookup(
        auditor,
        "SELECT id, name FROM projects WHERE name = $1",
        name,
    )
    .await?;
    row.map(|(id, name)| ProjectRef { id, name })
        .ok_or_else(|| CliError::UnknownProject(name.to_owned()))
}

async fn demo_exists(auditor: &Auditor) -> Result<bool, CliError> {
    Ok(lookup(
        auditor,
        "SELECT id, name FROM projects WHERE name = $1",
        "Apollo",
    )
    .await?
    .is_some())
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
    Ok(())
}

async fn print_log(auditor: &Auditor, query: EventQuery, json: bool) -> Result<(), CliError> {
    let page = auditor.query::<StaffEvent>(&query).await?;
    let resolver = StaffResolver::new(auditor.clone());
    let cx = PresentContext::for_page(&page.events, &resolver).await?;
    if !json {
        println!("Audit log, newest first:");
    }
    for stored in &page.events {
        let text = plain_text(&stored.render(&cx));
        if json {
            let code = stored.event.code();
            let label = code.parse::<StaffEventType>().map(|t| t.label()).ok();
            let payload: serde_json::Value = match &stored.event {
                audit_core::Decoded::Known(e) => serde_json::from_str(
                    &audit_core::EventCatalog::payload_json(e).unwrap_or_default(),
                )
                .unwrap_or_default(),
                audit_core::Decoded::Unknown(u) => {
                    serde_json::from_str(&u.raw).unwrap_or(serde_json::Value::String(u.raw.clone()))
                }
            };
            let entity = |e: &Option<audit_core::EntityRef>| {
                e.as_ref()
                    .map(|e| serde_json::json!({"kind": e.kind, "id": e.id}))
            };
            let line = serde_json::json!({
                "id": stored.id,
                "type": code,
                "label": label,
                "actor": stored.actor,
                "occurred_at": stored.occurred_at.to_rfc3339(),
                "command": stored.command_name,
                "command_id": stored.command_id,
                "target": entity(&stored.references.target),
                "parent": entity(&stored.references.parent),
                "subject": entity(&stored.references.subject),
                "payload": payload,
                "text": text,
            });
            println!("{line}");
        } else {
            println!(
                "  #{:<4} {}  {:<28} {:<20} {}",
                stored.id,
                stored.occurred_at.format("%Y-%m-%d %H:%M:%S"),
                stored.actor.to_string(),
                stored.command_name,
                text
            );
        }
    }
    Ok(())
}
