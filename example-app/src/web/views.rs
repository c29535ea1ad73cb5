//! The pages' templates (askama, checked at compile time, HTML-escaped) and
//! the values they show.

use askama::Template;
use audit_core::present::Shown;

/// Who is signed in, as every page's header shows them: their name, and
/// the token the sign-out form must send back.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The username.
    pub username: String,
    /// The session's CSRF token.
    pub csrf: String,
}

/// A page of a log.
#[derive(Template)]
#[template(path = "web/log.html")]
pub struct LogView {
    /// Who is signed in.
    pub signed_in: Option<SignedIn>,
    /// The page's title.
    pub heading: String,
    /// What the log holds.
    pub description: String,
    /// The type filter's options.
    pub groups: Vec<TypeGroup>,
    /// The actor filter's username, as typed.
    pub actor: String,
    /// The request id filter, as typed (trimmed), or empty.
    pub request: String,
    /// The client address filter, as the address prints, or empty.
    pub address: String,
    /// The first day of the date filter (`YYYY-MM-DD`), or empty.
    pub from: String,
    /// The last day of the date filter (`YYYY-MM-DD`), or empty.
    pub to: String,
    /// The page without filters, when a filter is set.
    pub clear: Option<String>,
    /// The events, newest first.
    pub rows: Vec<Row>,
    /// The link to the newest page with the same filters, when this is not it.
    pub newest: Option<String>,
    /// The link to the newer page.
    pub newer: Option<String>,
    /// The link to the older page.
    pub older: Option<String>,
    /// The log's own address (where the filter form goes, also when the
    /// page answers a form sent elsewhere).
    pub path: String,
    /// On a project's log: its members and the forms that change them.
    pub project: Option<ProjectPanel>,
    /// On a user's log: their global roles and the forms that change them.
    pub user: Option<UserPanel>,
}

/// A text field of a form: what was typed, and why it was refused.
#[derive(Debug, Clone, Default)]
pub struct TextField {
    /// The value, as typed.
    pub value: String,
    /// Why the form was refused, when it was because of this field.
    pub error: Option<String>,
}

/// One role's checkbox.
#[derive(Debug, Clone)]
pub struct RoleChoice {
    /// The stable name, sent as `role`.
    pub name: &'static str,
    /// The label.
    pub label: &'static str,
    /// Whether it is checked.
    pub checked: bool,
}

/// A form's role checkboxes, one per role, and why what was sent was
/// refused.
#[derive(Debug, Clone)]
pub struct RolesField {
    /// The checkboxes, in the order of [`Role::ALL`](crate::domain::Role::ALL).
    pub choices: Vec<RoleChoice>,
    /// Why the form was refused, when it was because of the roles.
    pub error: Option<String>,
    /// The id of the error message (unique on the page).
    pub error_id: String,
    /// What the checkboxes are, as their group's legend.
    pub legend: String,
}

/// A project's members and the forms that change them.
#[derive(Debug, Clone)]
pub struct ProjectPanel {
    /// The project's id.
    pub id: i64,
    /// The session's CSRF token, for the forms.
    pub csrf: String,
    /// The members, by username.
    pub members: Vec<MemberRow>,
    /// Whether the "Add members" form is shown open (it was refused).
    pub add_open: bool,
    /// The usernames to add, one per line.
    pub usernames: TextField,
    /// The roles to give them.
    pub add_roles: RolesField,
}

/// One member of a project, and the form that edits their roles.
#[derive(Debug, Clone)]
pub struct MemberRow {
    /// The user's id.
    pub user_id: i64,
    /// The username.
    pub username: String,
    /// Their roles in the project, as labels.
    pub roles: String,
    /// Whether the roles form is shown open (it was refused).
    pub open: bool,
    /// The roles form's checkboxes.
    pub edit: RolesField,
}

/// A user's global roles and the forms that change them.
#[derive(Debug, Clone)]
pub struct UserPanel {
    /// The user's id.
    pub id: i64,
    /// The session's CSRF token, for the forms.
    pub csrf: String,
    /// Their global roles, as labels.
    pub roles: String,
    /// Whether the "Set roles" form is shown open (it was refused).
    pub open: bool,
    /// Its checkboxes.
    pub set: RolesField,
}

/// One group of the type filter.
pub struct TypeGroup {
    /// The catalog's group.
    pub label: &'static str,
    /// Its types.
    pub options: Vec<TypeOption>,
}

/// One type in the filter.
pub struct TypeOption {
    /// The stable code, sent as `type`.
    pub code: &'static str,
    /// The label.
    pub label: &'static str,
    /// What it means, for the log's own records (the library's text).
    pub description: Option<&'static str>,
    /// Whether the page is filtered by it.
    pub selected: bool,
}

/// One event in a log table.
pub struct Row {
    /// The event's id.
    pub id: i64,
    /// Its page.
    pub href: String,
    /// When, formatted.
    pub when: String,
    /// Who acted.
    pub actor: Shown,
    /// The type's label.
    pub title: String,
    /// The rendered event; already escaped.
    pub html: String,
    /// Whether it was imported rather than emitted by a command.
    pub imported: bool,
}

/// One event, whole.
#[derive(Template)]
#[template(path = "web/event.html")]
pub struct EventView {
    /// Who is signed in.
    pub signed_in: Option<SignedIn>,
    /// The page's title.
    pub heading: String,
    /// The event's id.
    pub id: i64,
    /// The event as its log shows it (one row).
    pub this: Vec<Row>,
    /// Whether this program can read it, or why not.
    pub decoded: String,
    /// Every stored column but the context's: its name and value.
    pub columns: Vec<(&'static str, String)>,
    /// The fields of its context that are set (the columns `request_id`,
    /// `client_address` and `context`), labelled; none for an event stored
    /// without one.
    pub context: Vec<ContextField>,
    /// The payload, pretty-printed JSON where it is JSON.
    pub payload: String,
    /// The events of the same command, oldest first, this one included.
    pub command: Vec<Row>,
    /// Whether the command has events beyond those listed.
    pub command_more: bool,
}

/// One field of an event's context, as its page lists it.
pub struct ContextField {
    /// What it is ("Request id", or the application's key).
    pub label: String,
    /// Its value, as stored (from outside: shown escaped and isolated).
    pub value: String,
    /// The log filtered by it, for the request id and the client address.
    pub href: Option<String>,
    /// What the link shows (when there is one).
    pub link_title: &'static str,
    /// Whether the label is the application's key rather than ours (then
    /// isolated like a value).
    pub label_from_outside: bool,
}

/// A list of links (projects, users).
#[derive(Template)]
#[template(path = "web/list.html")]
pub struct ListView {
    /// Who is signed in.
    pub signed_in: Option<SignedIn>,
    /// The page's title.
    pub heading: &'static str,
    /// The items.
    pub items: Vec<ListItem>,
    /// On the projects' list: the form that creates one.
    pub create: Option<CreateProject>,
}

/// The form that creates a project.
#[derive(Debug, Clone)]
pub struct CreateProject {
    /// The session's CSRF token.
    pub csrf: String,
    /// The new project's name.
    pub name: TextField,
}

/// A page that asks to confirm a change that takes something away.
#[derive(Template)]
#[template(path = "web/confirm.html")]
pub struct ConfirmView {
    /// Who is signed in.
    pub signed_in: Option<SignedIn>,
    /// The question.
    pub heading: String,
    /// What the change does, a paragraph each.
    pub lines: Vec<String>,
    /// Where the form goes.
    pub action: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// The button that makes the change, saying what it does.
    pub button: String,
    /// Where "Cancel" leads.
    pub cancel: String,
}

/// One item of a list page.
pub struct ListItem {
    /// Where it links.
    pub href: String,
    /// Its name.
    pub label: String,
    /// A note after it; nothing when empty.
    pub note: String,
}

/// The sign-in form.
#[derive(Template)]
#[template(path = "web/sign_in.html")]
pub struct SignInView {
    /// Always `None`: nobody is signed in here.
    pub signed_in: Option<SignedIn>,
    /// The token the form sends back (also in the sign-in cookie).
    pub csrf: String,
    /// Why the last attempt failed.
    pub error: Option<&'static str>,
    /// The username typed last.
    pub username: String,
    /// Where to go after signing in.
    pub next: String,
}

/// An error page.
#[derive(Template)]
#[template(path = "web/error.html")]
pub struct ErrorView {
    /// Who is signed in, if known.
    pub signed_in: Option<SignedIn>,
    /// The status, as a title.
    pub title: String,
    /// What went wrong.
    pub message: String,
}
