//! The example staff area's command line. Every subcommand works the same on
//! SQLite and PostgreSQL, but `grant-application-role` (SQLite has no roles,
//! and says so); the database is `sqlite://example.db` in the working
//! directory unless `DATABASE_URL` or `--database-url` says otherwise, and
//! migrations run on start. Every change subcommand runs through
//! `Auditor::transact`: a change the database refuses because of a
//! concurrent one (a deadlock, a serialization failure, a busy SQLite
//! database) is made again, and the user sees only the outcome. Each change
//! records its context with its events: this program, its version, the host
//! and OS user, the subcommand as the route, and `--reason` if given.

use std::io::{BufRead, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use audit_core::commands::Retryable;
use audit_core::query::{Cursor, Position};
use audit_core::store::SCHEMA_VERSION;
use audit_core::{Actor, Auditor, Context};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use example_app::auth::{PasswordError, PasswordHash, is_staff};
use example_app::changes::{ChangeError, Changes, Recorded, find_account, find_project, find_user};
use example_app::commands::CommandError;
use example_app::domain::{ProjectRef, Role, Roles, UserRef};
use example_app::export::{self, ExportError, FollowOptions, PositionFile, Range};
use example_app::logs::{self, LogError, LogRequest, LogType, Scope};
use example_app::web::{self, AppState, WebConfig};
use example_app::{backfill, demo, grants, log_text, sealing};

/// The actor the command line records without `--as`: a system process,
/// which the log shows as "system process example-app-cli".
const SYSTEM_ACTOR: &str = "example-app-cli";

/// Writes a line to standard output like `println!`, but gives a failed
/// write back as [`CliError::Stdout`] instead of panicking: `main` ends
/// quietly when the reader went away (`example-app log | head -1`).
macro_rules! say {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout().lock(), $($arg)*).map_err(CliError::Stdout)?
    };
}

/// Writes `held`'s sentence to standard error, as `warning: ...`: committed
/// events wait behind a transaction still running. Dropped if standard
/// error cannot be written (a warning must not fail the command).
fn warn(held: &audit_core::query::HeldBack) {
    let _ = writeln!(std::io::stderr().lock(), "warning: {held}");
}

/// A small staff area whose every change is audited.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// The database (`sqlite://file.db` or `postgres://...`); without it,
    /// DATABASE_URL, else `sqlite://example.db`.
    // Read from the environment by `database_url()` rather than by clap's
    // `env`: clap counts a value from the environment as given on the command
    // line, and a usage line in an error would then show `--database-url` as
    // if it were required.
    #[arg(long, value_name = "URL", global = true)]
    database_url: Option<String>,
    /// Act as this member of staff (a staff area administrator); without
    /// it, act as the system process `example-app-cli` (for set-up).
    #[arg(long = "as", value_name = "USERNAME", global = true)]
    acting_as: Option<String>,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    #[command(flatten)]
    Schema(SchemaCmd),
    #[command(flatten)]
    App(AppCmd),
}

/// Commands that look after the database; they run whatever state its
/// schema is in.
#[derive(Subcommand)]
enum SchemaCmd {
    /// Check the log against its seals; exits with 0 only when everything checks.
    Verify(VerifyArgs),
    /// Create or upgrade the audit schema and the staff area's tables.
    Migrate,
    /// Restore a damaged audit schema (missing or altered triggers, a
    /// re-created events table); the repair is recorded in the audit log.
    RepairSchema(RepairSchemaArgs),
    /// Give an existing PostgreSQL role exactly what the application needs
    /// (the audit log's grants and the staff area's tables; no TRUNCATE, no
    /// DDL), so the application connects as it; run as the schema's owner,
    /// after `migrate`. Idempotent. SQLite has no roles: an error there.
    GrantApplicationRole(GrantApplicationRoleArgs),
}

/// Commands of the staff area; they run on a database whose schema is
/// current (a new database gets its schema first).
#[derive(Subcommand)]
enum AppCmd {
    /// Create a sample staff area through the commands (once), then show its log.
    Demo,
    /// Serve the staff area's web pages.
    Serve(ServeArgs),
    /// Set a user's password, read from the first line of standard input.
    SetPassword(SetPasswordArgs),
    /// Create a user.
    AddUser(AddUserArgs),
    /// Create a project.
    AddProject(AddProjectArgs),
    /// Add users to a project, all or nothing: `--user` once per user.
    AddMember(AddMemberArgs),
    /// Set a member's roles in a project.
    UpdateMemberRoles(UpdateMemberRolesArgs),
    /// Remove a user from a project.
    RemoveMember(RemoveMemberArgs),
    /// Set a user's global roles.
    UpdateUserRoles(UpdateUserRolesArgs),
    /// Clear all of a user's roles, global and in every project.
    ClearUserRoles(ClearUserRolesArgs),
    /// Remove a user's account, memberships and sign-in records (one
    /// recorded command), then erase every personal value about them from
    /// the audit log; the log still verifies.
    EraseUser(EraseUserArgs),
    /// Give every project without a "project created" event one, with its
    /// creator and creation time, as imported events; a second run adds
    /// nothing.
    Backfill,
    /// Seal the stable events not yet sealed (a hash chain, signed with the
    /// key of `--key-file` or AUDIT_SEAL_KEY if given), and keep the head;
    /// name on stderr a transaction still running that holds events back.
    Seal(SealArgs),
    /// Make a new signing key: the secret goes to FILE, the public key to stdout.
    SealKey(SealKeyArgs),
    /// Show the audit log, newest first: the same queries as the web pages.
    Log(LogArgs),
    /// Write the log as JSON Lines, oldest first (in commit order): one
    /// event a line, with its position, every stored column and its text.
    Export(ExportArgs),
    /// Like `export`, then write new events as they commit, until SIGINT
    /// or SIGTERM; with `--position-file`, go on where the last run stopped.
    Follow(FollowArgs),
}

#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("cannot open the database `{url}`: {source}")]
    Open {
        url: String,
        source: audit_core::AuditError,
    },
    #[error("cannot use the database `{url}`: {source}")]
    Start {
        url: String,
        source: example_app::schema::StartError,
    },
    #[error("DATABASE_URL is not valid UTF-8")]
    DatabaseUrlNotUnicode,
    #[error(
        "`{0}` is not a staff area administrator: only staff act through --as \
         (without --as, the command line acts as the system process `{SYSTEM_ACTOR}`)"
    )]
    NotStaff(String),
    #[error(transparent)]
    Change(#[from] ChangeError),
    #[error(transparent)]
    Audit(#[from] audit_core::AuditError),
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Demo(#[from] demo::DemoError),
    #[error(transparent)]
    Backfill(#[from] backfill::BackfillError),
    #[error(transparent)]
    Grant(#[from] grants::GrantError),
    #[error("cannot write to standard output: {0}")]
    Stdout(std::io::Error),
    #[error("cannot read the password from standard input: {0}")]
    Stdin(std::io::Error),
    #[error(transparent)]
    Sealing(#[from] example_app::sealing::SealingError),
    #[error("the sealed log is not intact: {0} divergence(s)")]
    NotIntact(usize),
    #[error("cannot write the key file `{}`: {source}", path.display())]
    KeyFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot serve on {addr}: {source}")]
    Serve {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Parses `--role` by the role's stable name, and lists every role (with
/// its label) in the help.
#[derive(Clone, Copy)]
struct RoleParser;

impl clap::builder::TypedValueParser for RoleParser {
    type Value = Role;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Role, clap::Error> {
        // The same parsing and error (`unknown role ...`) as `Role: FromStr`.
        let parse: fn(&str) -> Result<Role, example_app::domain::UnknownRole> = str::parse;
        parse.parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(Role::ALL.into_iter().map(|role| {
            clap::builder::PossibleValue::new(role.name()).help(role.label())
        })))
    }
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    // The matches as well as the parsed arguments: they name the subcommand
    // as typed, the route of the context each change records.
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let route = matches.subcommand_name().unwrap_or(DEFAULT_SUBCOMMAND);
    match run(cli, route).await {
        Ok(()) => {}
        // The reader of our output went away (`example-app log | head -1`):
        // it has what it wanted, so end quietly with 0, as `export` and
        // `follow` do (rather than 141, a SIGPIPE death, which would fail a
        // script under `set -o pipefail` for a normal use).
        Err(CliError::Stdout(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

/// What runs without a subcommand.
const DEFAULT_SUBCOMMAND: &str = "demo";

/// Where the database is when `--database-url` does not say.
const DEFAULT_DATABASE_URL: &str = "sqlite://example.db";

/// `--database-url`, else `DATABASE_URL`, else [`DEFAULT_DATABASE_URL`].
fn database_url(given: Option<String>) -> Result<String, CliError> {
    if let Some(url) = given {
        return Ok(url);
    }
    match std::env::var("DATABASE_URL") {
        Ok(url) => Ok(url),
        Err(std::env::VarError::NotPresent) => Ok(DEFAULT_DATABASE_URL.to_owned()),
        Err(std::env::VarError::NotUnicode(_)) => Err(CliError::DatabaseUrlNotUnicode),
    }
}

/// Opens the database and runs the subcommand, named `route` as typed: a
/// schema command whatever state the schema is in, a staff area command
/// once the schema is current and who acts is known (`demo` without a
/// subcommand), with the context its changes record.
async fn run(cli: Cli, route: &str) -> Result<(), CliError> {
    let url = database_url(cli.database_url)?;
    let auditor = Auditor::connect(&url)
        .await
        .map_err(|source| CliError::Open {
            url: url.clone(),
            source,
        })?;
    match cli.command.unwrap_or(Cmd::App(AppCmd::Demo)) {
        Cmd::Schema(command) => command.run(&auditor, &url, cli.acting_as.as_deref()).await,
        Cmd::App(command) => {
            example_app::schema::open(&auditor)
                .await
                .map_err(|source| CliError::Start {
                    url: url.clone(),
                    source,
                })?;
            let actor = acting(&auditor, cli.acting_as.as_deref()).await?;
            let mut context = Context::process(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
                .with_route(route);
            if let Some(reason) = command.reason() {
                context = context.with_reason(reason);
            }
            let session = Session {
                auditor,
                url,
                actor,
                context,
            };
            command.run(session).await
        }
    }
}

impl SchemaCmd {
    /// Runs the command on the database at `url`; `acting_as` is `--as`.
    async fn run(
        self,
        auditor: &Auditor,
        url: &str,
        acting_as: Option<&str>,
    ) -> Result<(), CliError> {
        match self {
            SchemaCmd::Verify(args) => args.run(auditor).await,
            SchemaCmd::Migrate => migrate(auditor, url).await,
            SchemaCmd::RepairSchema(args) => args.run(auditor, acting_as).await,
            SchemaCmd::GrantApplicationRole(args) => args.run(auditor).await,
        }
    }
}

/// What a staff area command runs with.
struct Session {
    /// The database, its schema current.
    auditor: Auditor,
    /// Where the database is, as given.
    url: String,
    /// Who acts (`--as`, else the system process [`SYSTEM_ACTOR`]).
    actor: Actor,
    /// Where and why (this program on this host, the subcommand, its
    /// `--reason`): set on every audited transaction the command opens, so
    /// stored with each event it records.
    context: Context,
}

/// `--reason`, taken by every subcommand that records a change.
#[derive(Args)]
struct Why {
    /// Why the change is made: recorded with its events (in their context,
    /// shown on each event's page and in `export`).
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
}

impl Session {
    /// Changes made by the session's actor, through the same code as the
    /// web pages' (each in a transaction of its own, retried).
    fn changes(&self) -> Changes {
        Changes::new(
            self.auditor.clone(),
            self.actor.clone(),
            self.context.clone(),
        )
    }
}

impl AppCmd {
    /// The `--reason` given to a change subcommand.
    fn reason(&self) -> Option<&str> {
        let why = match self {
            AppCmd::EraseUser(args) => return Some(&args.reason),
            AppCmd::SetPassword(args) => &args.why,
            AppCmd::AddUser(args) => &args.why,
            AppCmd::AddProject(args) => &args.why,
            AppCmd::AddMember(args) => &args.why,
            AppCmd::UpdateMemberRoles(args) => &args.why,
            AppCmd::RemoveMember(args) => &args.why,
            AppCmd::UpdateUserRoles(args) => &args.why,
            AppCmd::ClearUserRoles(args) => &args.why,
            AppCmd::Demo
            | AppCmd::Serve(_)
            | AppCmd::Backfill
            | AppCmd::Seal(_)
            | AppCmd::SealKey(_)
            | AppCmd::Log(_)
            | AppCmd::Export(_)
            | AppCmd::Follow(_) => return None,
        };
        why.reason.as_deref()
    }

    /// Runs the command in `session`.
    async fn run(self, session: Session) -> Result<(), CliError> {
        match self {
            AppCmd::Demo => demo(&session).await,
            AppCmd::Serve(args) => args.run(session).await,
            AppCmd::SetPassword(args) => args.run(&session).await,
            AppCmd::AddUser(args) => args.run(&session).await,
            AppCmd::AddProject(args) => args.run(&session).await,
            AppCmd::AddMember(args) => args.run(&session).await,
            AppCmd::UpdateMemberRoles(args) => args.run(&session).await,
            AppCmd::RemoveMember(args) => args.run(&session).await,
            AppCmd::UpdateUserRoles(args) => args.run(&session).await,
            AppCmd::ClearUserRoles(args) => args.run(&session).await,
            AppCmd::EraseUser(args) => args.run(&session).await,
            AppCmd::Backfill => backfill(&session).await,
            AppCmd::Seal(args) => args.run(&session).await,
            AppCmd::SealKey(args) => args.run(),
            AppCmd::Log(args) => args.run(&session).await,
            AppCmd::Export(args) => args.run(&session).await,
            AppCmd::Follow(args) => args.run(&session).await,
        }
    }
}

/// `verify`'s arguments.
#[derive(Args)]
struct VerifyArgs {
    /// A head written by `seal --head-out`, kept elsewhere.
    #[arg(long)]
    against: Option<PathBuf>,
    /// Require every seal to be signed by this public key (64 hex digits).
    #[arg(long)]
    public_key: Option<String>,
}

impl VerifyArgs {
    /// `verify`: checks the log against its seals; an error (exit code 1)
    /// unless everything checks.
    async fn run(self, auditor: &Auditor) -> Result<(), CliError> {
        let report =
            sealing::verify(auditor, self.against.as_deref(), self.public_key.as_deref()).await?;
        say!(
            "Checked {} seal(s) and {} sealed event(s); {} pruned.",
            report.seals,
            report.events,
            report.pruned
        );
        for erasure in &report.erasures {
            say!(
                "{} value(s) erased by event {}.",
                erasure.values,
                erasure.record
            );
        }
        if report.is_intact() {
            say!("The sealed log is intact.");
            return Ok(());
        }
        for divergence in &report.divergences {
            say!("  - {divergence}");
        }
        Err(CliError::NotIntact(report.divergences.len()))
    }
}

/// `migrate`: creates or upgrades the schema of the database at `url`.
async fn migrate(auditor: &Auditor, url: &str) -> Result<(), CliError> {
    example_app::schema::migrate(auditor)
        .await
        .map_err(|source| CliError::Open {
            url: url.to_owned(),
            source,
        })?;
    say!("The database {url} is at audit schema version {SCHEMA_VERSION}.");
    Ok(())
}

/// `repair-schema`'s arguments.
#[derive(Args)]
struct RepairSchemaArgs {
    /// Why, recorded with the repair.
    #[arg(long)]
    reason: String,
}

impl RepairSchemaArgs {
    /// `repair-schema`: restores a damaged audit schema, acting as
    /// `acting_as` (`--as`), and says what was wrong.
    async fn run(self, auditor: &Auditor, acting_as: Option<&str>) -> Result<(), CliError> {
        let actor = acting(auditor, acting_as).await?;
        let problems = auditor.repair_schema(&actor, &self.reason).await?;
        if problems.is_empty() {
            say!("The audit schema is sound: nothing to repair.");
        } else {
            say!("Repaired the audit schema (recorded in the audit log):");
            for problem in problems {
                say!("  - {problem}");
            }
        }
        Ok(())
    }
}

/// `grant-application-role`'s arguments.
#[derive(Args)]
struct GrantApplicationRoleArgs {
    /// An existing role (a plain lowercase identifier), not the schema's
    /// owner and not a superuser.
    role: String,
}

impl GrantApplicationRoleArgs {
    /// `grant-application-role`: sets the role up and says what it may do.
    async fn run(self, auditor: &Auditor) -> Result<(), CliError> {
        let role = grants::grant_application_role(auditor, &self.role).await?;
        say!(
            "Role {role} may now use the audit log and the staff area's tables, nothing \
             more: connect the application as {role}. Keep migrate, repair-schema, seal \
             and verify for the schema's owner."
        );
        Ok(())
    }
}

/// `demo`: creates the sample once, then shows its log and how to sign in.
async fn demo(session: &Session) -> Result<(), CliError> {
    let Session { auditor, url, .. } = session;
    if demo::exists(auditor).await? {
        say!("The sample is already in {url}.\n");
    } else {
        demo::create_with_context(auditor, &session.context).await?;
        say!("Created a sample staff area in {url} through its commands.\n");
    }
    print_log(auditor, LogRequest::new(Scope::All), false).await?;
    say!("{}", demo::instructions(url));
    Ok(())
}

/// `serve`'s arguments.
#[derive(Args)]
struct ServeArgs {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8000")]
    addr: SocketAddr,
    /// Mark the session cookie Secure and send Strict-Transport-Security (when served behind HTTPS).
    #[arg(long)]
    secure_cookies: bool,
    /// A proxy in front of the server (an address or a network, `10.0.0.0/8`), trusted to report its
    /// client in X-Forwarded-For; repeat it for each. The client is then the rightmost entry that is not
    /// a trusted proxy, for the sign-in limits and every change's context. Without it: the connection's peer.
    #[arg(long = "trusted-proxy", value_name = "NETWORK")]
    trusted_proxies: Vec<audit_core::axum::IpNetwork>,
    /// Seal in the background every this many seconds (0: never).
    #[arg(long, default_value_t = 0)]
    seal_every_secs: u64,
    /// The signing key for background seals (else AUDIT_SEAL_KEY, else unsigned).
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// Keep the latest head here after each background seal.
    #[arg(long)]
    head_out: Option<PathBuf>,
}

impl ServeArgs {
    /// `serve`: the staff area's web pages, until interrupted, and seals in
    /// the background if asked.
    async fn run(self, session: Session) -> Result<(), CliError> {
        let Session { auditor, .. } = session;
        if self.seal_every_secs > 0 {
            let key = sealing::signing_key(self.key_file.as_deref())?;
            let every = Duration::from_secs(self.seal_every_secs);
            tokio::spawn(sealing::seal_periodically(
                auditor.clone(),
                key,
                every,
                self.head_out,
            ));
        }
        let config = WebConfig {
            secure_cookies: self.secure_cookies,
            trusted_proxies: self.trusted_proxies.clone(),
        };
        let state = AppState::new(auditor, config);
        let addr = self.addr;
        say!("The staff area is at http://{addr}/ (Ctrl-C stops it).");
        web::serve(state, addr)
            .await
            .map_err(|source| CliError::Serve { addr, source })
    }
}

/// `set-password`'s arguments.
#[derive(Args)]
struct SetPasswordArgs {
    #[arg(long)]
    user: String,
    #[command(flatten)]
    why: Why,
}

impl SetPasswordArgs {
    /// `set-password`: the password read from standard input, hashed.
    async fn run(self, session: &Session) -> Result<(), CliError> {
        let user = find_user(&session.auditor, &self.user).await?;
        // Hashing is slow on purpose: do it before the transaction starts.
        let password = PasswordHash::new(&read_password()?)?;
        done(session.changes().set_password(&user, password).await?)
    }
}

/// `add-user`'s arguments.
#[derive(Args)]
struct AddUserArgs {
    /// Trimmed; not empty, no control or bidirectional formatting
    /// characters, at most 128 bytes.
    username: String,
    /// A role to give; repeat for several (kept in the order given).
    #[arg(long = "role", value_parser = RoleParser)]
    roles: Vec<Role>,
    #[command(flatten)]
    why: Why,
}

impl AddUserArgs {
    /// `add-user`.
    async fn run(self, session: &Session) -> Result<(), CliError> {
        // Checked by `add_user` rather than by clap, whose error would
        // repeat the raw value, newlines and all.
        let roles: Roles = self.roles.into_iter().collect();
        done(session.changes().add_user(&self.username, roles).await?)
    }
}

/// `add-project`'s arguments.
#[derive(Args)]
struct AddProjectArgs {
    /// Trimmed; not empty, no control or bidirectional formatting
    /// characters, at most 128 bytes.
    name: String,
    #[command(flatten)]
    why: Why,
}

impl AddProjectArgs {
    /// `add-project`.
    async fn run(self, session: &Session) -> Result<(), CliError> {
        done(session.changes().add_project(&self.name).await?)
    }
}

/// `add-member`'s arguments.
#[derive(Args)]
struct AddMemberArgs {
    #[arg(long)]
    project: String,
    #[arg(long = "user", required = true)]
    users: Vec<String>,
    /// A role to give; repeat for several (kept in the order given).
    #[arg(long = "role", value_parser = RoleParser)]
    roles: Vec<Role>,
    #[command(flatten)]
    why: Why,
}

impl AddMemberArgs {
    /// `add-member`: every user or none.
    async fn run(self, session: &Session) -> Result<(), CliError> {
        let project = find_project(&session.auditor, &self.project).await?;
        let roles: Roles = self.roles.into_iter().collect();
        let changes = session.changes();
        done(changes.add_members(&project, &self.users, roles).await?)
    }
}

/// `update-member-roles`' arguments.
#[derive(Args)]
struct UpdateMemberRolesArgs {
    #[arg(long)]
    project: String,
    #[arg(long)]
    user: String,
    /// A role to give; repeat for several (kept in the order given).
    #[arg(long = "role", value_parser = RoleParser)]
    roles: Vec<Role>,
    #[command(flatten)]
    why: Why,
}

impl UpdateMemberRolesArgs {
    /// `update-member-roles`.
    async fn run(self, session: &Session) -> Result<(), CliError> {
        let (project, user) = find_membership(&session.auditor, &self.project, &self.user).await?;
        let roles: Roles = self.roles.into_iter().collect();
        let changes = session.changes();
        done(changes.update_member_roles(&project, &user, roles).await?)
    }
}

/// `remove-member`'s arguments.
#[derive(Args)]
struct RemoveMemberArgs {
    #[arg(long)]
    project: String,
    #[arg(long)]
    user: String,
    #[command(flatten)]
    why: Why,
}

impl RemoveMemberArgs {
    /// `remove-member`.
    async fn run(self, session: &Session) -> Result<(), CliError> {
        let (project, user) = find_membership(&session.auditor, &self.project, &self.user).await?;
        done(session.changes().remove_member(&project, &user).await?)
    }
}

/// `update-user-roles`' arguments.
#[derive(Args)]
struct UpdateUserRolesArgs {
    #[arg(long)]
    user: String,
    /// A role to give; repeat for several (kept in the order given).
    #[arg(long = "role", value_parser = RoleParser)]
    roles: Vec<Role>,
    #[command(flatten)]
    why: Why,
}

impl UpdateUserRolesArgs {
    /// `update-user-roles`.
    async fn run(self, session: &Session) -> Result<(), CliError> {
        let user = find_user(&session.auditor, &self.user).await?;
        let roles: Roles = self.roles.into_iter().collect();
        done(session.changes().update_user_roles(&user, roles).await?)
    }
}

/// `clear-user-roles`' arguments.
#[derive(Args)]
struct ClearUserRolesArgs {
    #[arg(long)]
    user: String,
    #[command(flatten)]
    why: Why,
}

impl ClearUserRolesArgs {
    /// `clear-user-roles`: global and in every project, as one command.
    async fn run(self, session: &Session) -> Result<(), CliError> {
        let user = find_user(&session.auditor, &self.user).await?;
        done(session.changes().clear_user_roles(&user).await?)
    }
}

/// `erase-user`'s arguments.
#[derive(Args)]
struct EraseUserArgs {
    /// The user whose account goes, and whose personal values leave the log.
    #[arg(value_name = "USERNAME", required_unless_present = "id")]
    username: Option<String>,
    /// Only erase from the log the user with this id, whose account is
    /// gone already (an earlier `erase-user` that stopped half way).
    #[arg(long, value_name = "ID", conflicts_with = "username")]
    id: Option<i64>,
    /// Why (the request it answers): recorded with the removal and the erasure.
    #[arg(long, value_name = "TEXT")]
    reason: String,
}

impl EraseUserArgs {
    /// `erase-user`: the removal, then the erasure, and what each did.
    async fn run(self, session: &Session) -> Result<(), CliError> {
        let changes = session.changes();
        let report = match (self.username, self.id) {
            (Some(username), _) => {
                let user = find_user(&session.auditor, &username).await?;
                let (removed, report) = changes.erase_user(&user, &self.reason).await?;
                say!(
                    "removed the account of user {}: {} audit event(s) recorded",
                    user.id,
                    removed.events
                );
                report
            }
            (None, Some(id)) => changes.erase_user_id(id, &self.reason).await?,
            (None, None) => unreachable!("clap requires USERNAME or --id"),
        };
        say!(
            "erased {} personal value(s) from {} event(s); recorded as event {} (subject {})",
            report.values,
            report.events,
            report.record_id,
            report.subject
        );
        if report.unsalted > 0 {
            say!(
                "{} of them were stored before schema version 9, without a salt: a guess at one \
                 can be checked against what is left",
                report.unsalted
            );
        }
        Ok(())
    }
}

/// `backfill`: imports the missing "project created" events and says how
/// many.
async fn backfill(session: &Session) -> Result<(), CliError> {
    let report = backfill::projects(&session.auditor, &session.actor).await?;
    say!(
        "backfill: {} \"project created\" event(s) imported, {} imported before",
        report.imported,
        report.skipped
    );
    Ok(())
}

/// `seal`'s arguments.
#[derive(Args)]
struct SealArgs {
    /// The signing key's secret (64 hex digits), kept outside the database.
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// Write the latest head here, to keep outside the database.
    #[arg(long)]
    head_out: Option<PathBuf>,
}

impl SealArgs {
    /// `seal`: seals what is stable and keeps the head.
    async fn run(self, session: &Session) -> Result<(), CliError> {
        let key = sealing::signing_key(self.key_file.as_deref())?;
        let report = session.auditor.seal(key.as_ref()).await?;
        if let Some(held) = &report.held_back {
            warn(held);
        }
        let Some(head) = &report.head else {
            say!("Nothing to seal yet: no event is stable.");
            return Ok(());
        };
        say!(
            "Sealed {} event(s) in {} seal(s); the log's head is seal {} ({} events, {}).",
            report.events,
            report.seals,
            head.seq,
            head.events,
            if head.signature.is_some() {
                "signed"
            } else {
                "unsigned"
            }
        );
        if let Some(path) = self.head_out {
            sealing::write_head(&path, head)?;
            say!(
                "Head written to {}: keep it outside the database.",
                path.display()
            );
        }
        Ok(())
    }
}

/// `seal-key`'s arguments.
#[derive(Args)]
struct SealKeyArgs {
    /// Where to write the secret (refused if it exists).
    #[arg(long)]
    out: PathBuf,
}

impl SealKeyArgs {
    /// `seal-key`: a new signing key, its secret in a new file.
    fn run(self) -> Result<(), CliError> {
        let key = audit_core::seals::SealKey::generate().map_err(sealing::SealingError::from)?;
        let key_file_error = |source| CliError::KeyFile {
            path: self.out.clone(),
            source,
        };
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&self.out)
            .map_err(key_file_error)?;
        file.write_all(format!("{}\n", key.secret_hex()).as_bytes())
            .map_err(key_file_error)?;
        say!("{}", key.public_hex());
        Ok(())
    }
}

/// `log`'s arguments.
#[derive(Args)]
struct LogArgs {
    /// Events on this project.
    #[arg(long, conflicts_with = "user")]
    project: Option<String>,
    /// Events by this user, about them, or whose target is one of
    /// their projects (the creation of their projects).
    #[arg(long)]
    user: Option<String>,
    /// With --user: also every event on the user's projects (others
    /// joining or leaving them).
    #[arg(long, requires = "user")]
    with_project_activity: bool,
    /// Only these event types (codes: the catalog's, or the log's own
    /// records', such as `audit:events_imported`); repeatable.
    #[arg(long = "type", value_name = "CODE")]
    types: Vec<LogType>,
    /// Only the events of the web request with this id (the request id in
    /// their context, as an event's page shows it).
    #[arg(long, value_name = "ID")]
    request_id: Option<String>,
    /// Only the events of requests from this client address (IPv4 or IPv6).
    #[arg(long, value_name = "IP")]
    address: Option<IpAddr>,
    /// How many events, 1 to 1000.
    #[arg(
        long,
        default_value_t = logs::PAGE_SIZE,
        value_parser = clap::value_parser!(u32).range(1..=1000),
    )]
    limit: u32,
    /// Start at this cursor, as printed after a page.
    #[arg(long)]
    cursor: Option<Cursor>,
    /// One JSON object per event per line.
    #[arg(long)]
    json: bool,
}

impl LogArgs {
    /// `log`: one page of the log, newest first.
    async fn run(self, session: &Session) -> Result<(), CliError> {
        let auditor = &session.auditor;
        let scope = match (self.project, self.user) {
            (Some(name), _) => Scope::Project(find_project(auditor, &name).await?),
            (None, Some(name)) => {
                let user = find_user(auditor, &name).await?;
                if self.with_project_activity {
                    Scope::user_projects(auditor, user).await?
                } else {
                    Scope::user(auditor, user).await?
                }
            }
            (None, None) => Scope::All,
        };
        let mut request = LogRequest::new(scope);
        request.types = self.types;
        request.request_id = self.request_id;
        request.client_address = self.address;
        request.cursor = self.cursor;
        request.limit = self.limit;
        print_log(auditor, request, self.json).await
    }
}

/// `export`'s arguments.
#[derive(Args)]
struct ExportArgs {
    /// Start after this position (a line's `position`).
    #[arg(long)]
    after: Option<Position>,
    /// Stop at this position, the event at it included.
    #[arg(long)]
    until: Option<Position>,
    /// At most this many events.
    #[arg(long)]
    limit: Option<u64>,
}

impl ExportArgs {
    /// `export`: the events of the range on standard output, a JSON line
    /// each; a closed output ends it quietly.
    async fn run(self, session: &Session) -> Result<(), CliError> {
        let range = Range {
            after: self.after.unwrap_or(Position::START),
            until: self.until,
            limit: self.limit,
        };
        let mut out = std::io::BufWriter::new(std::io::stdout());
        export::export(&session.auditor, range, &mut out, &mut std::io::stderr()).await?;
        Ok(())
    }
}

/// `follow`'s arguments.
#[derive(Args)]
struct FollowArgs {
    /// Keep the position here: read on start, replaced after each batch.
    #[arg(long, value_name = "FILE")]
    position_file: Option<PathBuf>,
    /// Start after this position when there is no position file.
    #[arg(long)]
    after: Option<Position>,
    /// Milliseconds to wait before reading again when nothing was new.
    #[arg(long, default_value_t = 500)]
    poll_ms: u64,
    /// Warn on standard error, once, when a transaction still running has
    /// held committed events back for this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    warn_after_secs: u64,
}

impl FollowArgs {
    /// `follow`: the log on standard output, a JSON line per event, as it
    /// grows, until SIGINT, SIGTERM or a closed output.
    async fn run(self, session: &Session) -> Result<(), CliError> {
        let options = FollowOptions {
            after: self.after.unwrap_or(Position::START),
            position_file: self.position_file.map(PositionFile::new),
            poll: Duration::from_millis(self.poll_ms),
            warn_after: Duration::from_secs(self.warn_after_secs),
        };
        let stop = export::stop_signal()?;
        let mut out = std::io::BufWriter::new(std::io::stdout());
        export::follow(
            &session.auditor,
            &options,
            &mut out,
            &mut std::io::stderr(),
            stop,
        )
        .await?;
        Ok(())
    }
}

/// Who acts: the member of staff named by `--as` (the same rule as the web
/// pages: anyone else is refused), or the command line as the system
/// process [`SYSTEM_ACTOR`], which the log names as such.
async fn acting(auditor: &Auditor, acting_as: Option<&str>) -> Result<Actor, CliError> {
    let Some(name) = acting_as else {
        return Ok(Actor::system(SYSTEM_ACTOR));
    };
    let account = find_account(auditor, name).await?;
    if !is_staff(&account.roles) {
        return Err(CliError::NotStaff(account.username));
    }
    Ok(Actor::user(account.id, account.username))
}

impl Retryable for CliError {
    fn is_retryable(&self) -> bool {
        match self {
            CliError::Audit(e) => e.is_retryable(),
            CliError::Change(e) => e.is_retryable(),
            CliError::Command(e) => e.is_retryable(),
            CliError::Database(e) => e.is_retryable(),
            _ => false,
        }
    }
}

/// Says how many events a change recorded.
fn done<T>(recorded: Recorded<T>) -> Result<(), CliError> {
    say!("done: {} audit event(s) recorded", recorded.events);
    Ok(())
}

/// The first line of standard input, without its line ending.
fn read_password() -> Result<String, CliError> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(CliError::Stdin)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// The project and the user of a membership, both by name.
async fn find_membership(
    auditor: &Auditor,
    project: &str,
    user: &str,
) -> Result<(ProjectRef, UserRef), CliError> {
    Ok((
        find_project(auditor, project).await?,
        find_user(auditor, user).await?,
    ))
}

/// Prints a page of the log: as text, newest first, with the cursor of the
/// next page, or as one JSON object a line.
async fn print_log(auditor: &Auditor, request: LogRequest, json: bool) -> Result<(), CliError> {
    let page = logs::fetch(auditor, &request).await?;
    if json {
        for entry in &page.entries {
            say!("{}", entry.to_json());
        }
        return Ok(());
    }
    say!("Audit log, newest first:");
    for line in log_text::lines(&page.entries) {
        say!("{line}");
    }
    if page.entries.is_empty() {
        say!("  (no events)");
    }
    if let Some(next) = page.next {
        say!("Older events: add --cursor {next}");
    }
    Ok(())
}
