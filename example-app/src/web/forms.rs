//! The forms that change the staff area: create a project, add members to
//! it, edit a member's roles, remove a member, set a user's global roles,
//! clear all of a user's roles. Each goes through the same code as the
//! command line ([`crate::changes`]: its rules, its messages, its retries),
//! acting for the signed-in member of staff, with where the request came
//! from as the transaction's context (the `Context` the library's `ContextLayer` reads from it).
//!
//! Every one is for staff only ([`Staff`]), and its POST must carry the
//! session's CSRF token and come from this site ([`csrf::same_origin`]), as
//! the sign-out form's does. A change that is refused (a name, a role, a
//! member already) shows the form again with what was typed and why, next
//! to the field, with 422; a change made is a 303 to the page that shows
//! it, its event at the top of the log. Changes that take something away
//! (removing a member, clearing roles) are made from a page that asks first.

use audit_core::{Actor, Context};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use super::AppState;
use super::csrf;
use super::error::{PageError, page};
use super::filters::Filters;
use super::pages::{self, find_account, find_project};
use super::session;
use super::sign_in::Staff;
use super::views::{
    ConfirmView, MemberRow, ProjectPanel, RoleChoice, RolesField, SignedIn, TextField, UserPanel,
};
use crate::auth::is_staff;
use crate::changes::{ChangeError, Changes, parse_roles};
use crate::commands::CommandError;
use crate::directory::{self, Account, Member};
use crate::domain::{ProjectRef, Role, Roles};

/// A form as sent: its fields in order (a checkbox group sends its name
/// once per box checked).
type Fields = Vec<(String, String)>;

/// The first value of the field `name`, or "".
fn field<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.as_str())
}

/// Every value of the field `name`, in order.
fn values(fields: &Fields, name: &str) -> Vec<String> {
    fields
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
        .collect()
}

/// Refuses a form without the session's CSRF token or from another site,
/// before anything else is read: nothing changes.
fn check_form(who: &SignedIn, headers: &HeaderMap, fields: &Fields) -> Result<(), PageError> {
    if session::tokens_match(&who.csrf, field(fields, "csrf")) && csrf::same_origin(headers) {
        return Ok(());
    }
    Err(PageError::forbidden(
        "This form has expired or did not come from this site, so nothing was changed: \
         reload the page and try again.",
    )
    .signed_in(who))
}

/// Changes made by the signed-in member of staff, from `context`.
fn changes(state: &AppState, account: &Account, context: Context) -> Changes {
    let actor = Actor::user(account.id, &account.username);
    Changes::new(state.auditor.clone(), actor, context)
}

/// 303 to `location`.
fn see_other(location: String) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response()
}

/// A page that shows a refused form again.
fn refused(html: Html<String>) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, html).into_response()
}

/// What a refused change says on its form: the shared message (the command
/// line's), as a sentence; a username of a list that breaks the name rules
/// by its place in the list (the name itself may not be printable).
fn message(error: &ChangeError) -> String {
    let text = match error {
        ChangeError::InList { position, error } if matches!(**error, ChangeError::Name(_)) => {
            format!("Username {position}: {error}")
        }
        // These start with the username, kept as it is spelled.
        ChangeError::Command(
            CommandError::AlreadyAMember { .. } | CommandError::NotAMember { .. },
        ) => error.to_string(),
        other => {
            let text = other.to_string();
            let mut chars = text.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_uppercase().chain(chars).collect()
            })
        }
    };
    if text.ends_with(['.', '!', '?']) {
        text
    } else {
        format!("{text}.")
    }
}

/// The role checkboxes under `legend`, checked where `checked` says.
fn roles_field(
    legend: String,
    checked: impl Fn(Role) -> bool,
    error: Option<String>,
    error_id: String,
) -> RolesField {
    RolesField {
        choices: Role::ALL
            .into_iter()
            .map(|role| RoleChoice {
                name: role.name(),
                label: role.label(),
                checked: checked(role),
            })
            .collect(),
        error,
        error_id,
        legend,
    }
}

/// Roles as a page shows them: their labels, or `none`.
fn labels(roles: &Roles, none: &str) -> String {
    if roles.is_empty() {
        return none.to_owned();
    }
    let labels: Vec<&str> = roles.iter().map(|r| r.label()).collect();
    labels.join(", ")
}

/// Which of a project page's forms was refused, with what was sent.
pub(super) enum ProjectForms {
    /// None: every form fresh.
    Fresh,
    /// "Add members".
    Add {
        /// The usernames as typed.
        usernames: String,
        /// The roles checked.
        roles: Vec<String>,
        /// Why, next to the usernames.
        usernames_error: Option<String>,
        /// Why, next to the roles.
        roles_error: Option<String>,
    },
    /// One member's roles.
    Edit {
        /// The member.
        user: i64,
        /// The roles checked.
        roles: Vec<String>,
        /// Why.
        error: String,
    },
}

/// A project's members and forms.
pub(super) async fn project_panel(
    state: &AppState,
    who: &SignedIn,
    project: &ProjectRef,
    forms: ProjectForms,
) -> Result<ProjectPanel, PageError> {
    let members = directory::members(&state.auditor, project.id).await?;
    let members = members
        .into_iter()
        .map(|Member { user, roles }| {
            let error_id = format!("member-{}-roles-error", user.id);
            let legend = format!("{}\u{2019}s roles in {}", user.username, project.name);
            let (open, edit) = match &forms {
                ProjectForms::Edit {
                    user: editing,
                    roles: sent,
                    error,
                } if *editing == user.id => (
                    true,
                    roles_field(
                        legend,
                        |r| sent.iter().any(|s| s == r.name()),
                        Some(error.clone()),
                        error_id,
                    ),
                ),
                _ => (
                    false,
                    roles_field(legend, |r| roles.contains(&r), None, error_id),
                ),
            };
            MemberRow {
                user_id: user.id,
                username: user.username,
                roles: labels(&roles, "no roles"),
                open,
                edit,
            }
        })
        .collect();
    let legend = || "Their roles in the project".to_owned();
    let (add_open, usernames, add_roles) = match forms {
        ProjectForms::Add {
            usernames,
            roles,
            usernames_error,
            roles_error,
        } => (
            true,
            TextField {
                value: usernames,
                error: usernames_error,
            },
            roles_field(
                legend(),
                |r| roles.iter().any(|s| s == r.name()),
                roles_error,
                "add-roles-error".to_owned(),
            ),
        ),
        _ => (
            false,
            TextField::default(),
            roles_field(legend(), |_| false, None, "add-roles-error".to_owned()),
        ),
    };
    Ok(ProjectPanel {
        id: project.id,
        csrf: who.csrf.clone(),
        members,
        add_open,
        usernames,
        add_roles,
    })
}

/// Which of a user page's forms was refused, with what was sent.
pub(super) enum UserForms {
    /// None.
    Fresh,
    /// "Set roles".
    Set {
        /// The roles checked.
        roles: Vec<String>,
        /// Why.
        error: String,
    },
}

/// A user's global roles and forms.
pub(super) fn user_panel(who: &SignedIn, user: &Account, forms: UserForms) -> UserPanel {
    let error_id = "user-roles-error".to_owned();
    let legend = format!("{}\u{2019}s global roles", user.username);
    let (open, set) = match forms {
        UserForms::Set { roles, error } => (
            true,
            roles_field(
                legend,
                |r| roles.iter().any(|s| s == r.name()),
                Some(error),
                error_id,
            ),
        ),
        UserForms::Fresh => (
            false,
            roles_field(legend, |r| user.roles.contains(&r), None, error_id),
        ),
    };
    UserPanel {
        id: user.id,
        csrf: who.csrf.clone(),
        roles: labels(&user.roles, "None."),
        open,
        set,
    }
}

/// The member `user_id` of the project `project_id` (both as they appear
/// in an address), or a 404 that says which is missing.
async fn find_member(
    state: &AppState,
    who: &SignedIn,
    project_id: &str,
    user_id: &str,
) -> Result<(ProjectRef, Member), PageError> {
    let project = find_project(state, who, project_id).await?;
    let user = find_account(state, who, user_id).await?;
    match directory::member(&state.auditor, project.id, user.id).await? {
        Some(member) => Ok((project, member)),
        None => Err(not_a_member(
            &user.username,
            &project,
            who,
            StatusCode::NOT_FOUND,
        )),
    }
}

/// The page saying that `username` is not a member of `project`.
fn not_a_member(
    username: &str,
    project: &ProjectRef,
    who: &SignedIn,
    status: StatusCode,
) -> PageError {
    let error = ChangeError::Command(CommandError::NotAMember {
        user: username.to_owned(),
        project: project.name.clone(),
    });
    PageError::new(status, message(&error)).signed_in(who)
}

/// POST /projects: creates a project; its page next.
pub async fn create_project(
    State(state): State<AppState>,
    Staff(account, who): Staff,
    context: Context,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Result<Response, PageError> {
    check_form(&who, &headers, &fields)?;
    let name = field(&fields, "name");
    match changes(&state, &account, context).add_project(name).await {
        Ok(done) => Ok(see_other(format!("/projects/{}", done.value.id))),
        Err(e) if e.is_refusal() => {
            let name = TextField {
                value: name.to_owned(),
                error: Some(message(&e)),
            };
            Ok(refused(pages::project_list_page(&state, who, name).await?))
        }
        Err(e) => Err(PageError::internal(&e).signed_in(&who)),
    }
}

/// The usernames of the "Add members" form: one a line, blank lines left
/// out.
fn usernames(typed: &str) -> Vec<&str> {
    typed
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect()
}

/// POST /projects/{id}/members: adds the users named, one a line, with the
/// roles checked, all or nothing; the project's page next.
pub async fn add_members(
    State(state): State<AppState>,
    Staff(account, who): Staff,
    context: Context,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Result<Response, PageError> {
    check_form(&who, &headers, &fields)?;
    let project = find_project(&state, &who, &id).await?;
    let typed = field(&fields, "usernames");
    let roles = values(&fields, "role");
    let outcome = match parse_roles(&roles) {
        Ok(parsed) => {
            changes(&state, &account, context)
                .add_members(&project, &usernames(typed), parsed)
                .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => Ok(see_other(format!("/projects/{}", project.id))),
        Err(e) if e.is_refusal() => {
            let (usernames_error, roles_error) = match e {
                ChangeError::Role(_) => (None, Some(message(&e))),
                _ => (Some(message(&e)), None),
            };
            let forms = ProjectForms::Add {
                usernames: typed.to_owned(),
                roles,
                usernames_error,
                roles_error,
            };
            let html = pages::project_page(&state, who, project, Filters::default(), forms).await?;
            Ok(refused(html))
        }
        Err(e) => Err(PageError::internal(&e).signed_in(&who)),
    }
}

/// POST /projects/{id}/members/{user}/roles: sets the member's roles to
/// those checked; the project's page next.
pub async fn member_roles(
    State(state): State<AppState>,
    Staff(account, who): Staff,
    context: Context,
    Path((project_id, user_id)): Path<(String, String)>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Result<Response, PageError> {
    check_form(&who, &headers, &fields)?;
    let (project, member) = find_member(&state, &who, &project_id, &user_id).await?;
    let roles = values(&fields, "role");
    let outcome = match parse_roles(&roles) {
        Ok(parsed) => {
            changes(&state, &account, context)
                .update_member_roles(&project, &member.user, parsed)
                .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => Ok(see_other(format!("/projects/{}", project.id))),
        // Removed meanwhile: there is no form to show again.
        Err(ChangeError::Command(CommandError::NotAMember { .. })) => Err(not_a_member(
            &member.user.username,
            &project,
            &who,
            StatusCode::CONFLICT,
        )),
        Err(e) if e.is_refusal() => {
            let forms = ProjectForms::Edit {
                user: member.user.id,
                roles,
                error: message(&e),
            };
            let html = pages::project_page(&state, who, project, Filters::default(), forms).await?;
            Ok(refused(html))
        }
        Err(e) => Err(PageError::internal(&e).signed_in(&who)),
    }
}

/// GET /projects/{id}/members/{user}/remove: asks whether to remove the
/// member.
pub async fn confirm_remove_member(
    State(state): State<AppState>,
    Staff(_, who): Staff,
    Path((project_id, user_id)): Path<(String, String)>,
) -> Result<Html<String>, PageError> {
    let (project, member) = find_member(&state, &who, &project_id, &user_id).await?;
    let (user, name) = (&member.user.username, &project.name);
    let first = if member.roles.is_empty() {
        format!("{user} will leave {name}. They hold no roles there.")
    } else {
        format!(
            "{user} will lose their roles in {name} ({}), then leave it.",
            labels(&member.roles, "")
        )
    };
    page(&ConfirmView {
        heading: format!("Remove {user} from {name}?"),
        lines: vec![
            first,
            "The audit log records the change, made by you.".to_owned(),
        ],
        action: format!("/projects/{}/members/{}/remove", project.id, member.user.id),
        csrf: who.csrf.clone(),
        button: format!("Remove {user} from {name}"),
        cancel: format!("/projects/{}", project.id),
        signed_in: Some(who),
    })
}

/// POST /projects/{id}/members/{user}/remove: removes the member; the
/// project's page next.
pub async fn remove_member(
    State(state): State<AppState>,
    Staff(account, who): Staff,
    context: Context,
    Path((project_id, user_id)): Path<(String, String)>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Result<Response, PageError> {
    check_form(&who, &headers, &fields)?;
    let project = find_project(&state, &who, &project_id).await?;
    let user = find_account(&state, &who, &user_id).await?;
    let outcome = changes(&state, &account, context)
        .remove_member(&project, &user.user_ref())
        .await;
    match outcome {
        Ok(_) => Ok(see_other(format!("/projects/{}", project.id))),
        // Not a member (any more): removed meanwhile, or sent twice.
        Err(e) if e.is_refusal() => {
            Err(PageError::new(StatusCode::CONFLICT, message(&e)).signed_in(&who))
        }
        Err(e) => Err(PageError::internal(&e).signed_in(&who)),
    }
}

/// POST /users/{id}/roles: sets the user's global roles to those checked;
/// the user's page next.
pub async fn user_roles(
    State(state): State<AppState>,
    Staff(account, who): Staff,
    context: Context,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Result<Response, PageError> {
    check_form(&who, &headers, &fields)?;
    let user = find_account(&state, &who, &id).await?;
    let roles = values(&fields, "role");
    let outcome = match parse_roles(&roles) {
        Ok(parsed) => {
            changes(&state, &account, context)
                .update_user_roles(&user.user_ref(), parsed)
                .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => Ok(see_other(format!("/users/{}", user.id))),
        Err(e) if e.is_refusal() => {
            let forms = UserForms::Set {
                roles,
                error: message(&e),
            };
            let html = pages::user_page(&state, who, user, Filters::default(), forms).await?;
            Ok(refused(html))
        }
        Err(e) => Err(PageError::internal(&e).signed_in(&who)),
    }
}

/// GET /users/{id}/clear-roles: asks whether to clear all of the user's
/// roles.
pub async fn confirm_clear_roles(
    State(state): State<AppState>,
    Staff(me, who): Staff,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    let user = find_account(&state, &who, &id).await?;
    let name = &user.username;
    let projects = directory::projects_of(&state.auditor, user.id).await?;
    let projects = if projects.is_empty() {
        "they belong to none".to_owned()
    } else {
        let names: Vec<&str> = projects.iter().map(|p| p.name.as_str()).collect();
        names.join(", ")
    };
    let mut lines = vec![
        format!(
            "This removes {name}\u{2019}s global roles ({}) and their roles in each of their \
             projects ({projects}). They stay a member of their projects.",
            labels(&user.roles, "none")
        ),
        "The audit log records each change, made by you.".to_owned(),
    ];
    if me.id == user.id && is_staff(&user.roles) {
        lines.push(
            "These are your own roles: once they are cleared, you can no longer use the staff area."
                .to_owned(),
        );
    }
    page(&ConfirmView {
        heading: format!("Clear all of {name}\u{2019}s roles?"),
        lines,
        action: format!("/users/{}/clear-roles", user.id),
        csrf: who.csrf.clone(),
        button: format!("Clear all of {name}\u{2019}s roles"),
        cancel: format!("/users/{}", user.id),
        signed_in: Some(who),
    })
}

/// POST /users/{id}/clear-roles: clears all of the user's roles, global
/// and in every project; the user's page next.
pub async fn clear_roles(
    State(state): State<AppState>,
    Staff(account, who): Staff,
    context: Context,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Result<Response, PageError> {
    check_form(&who, &headers, &fields)?;
    let user = find_account(&state, &who, &id).await?;
    match changes(&state, &account, context)
        .clear_user_roles(&user.user_ref())
        .await
    {
        Ok(_) => Ok(see_other(format!("/users/{}", user.id))),
        Err(e) if e.is_refusal() => {
            Err(PageError::new(StatusCode::CONFLICT, message(&e)).signed_in(&who))
        }
        Err(e) => Err(PageError::internal(&e).signed_in(&who)),
    }
}

/// GET of an address that only takes a form (after signing in, say): the
/// page the form is on.
pub async fn to_project(
    Staff(_, who): Staff,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id: i64 = id.parse().map_err(|_| pages::no_such("project", &who))?;
    Ok(see_other(format!("/projects/{id}")))
}

/// As [`to_project`], for a member's form.
pub async fn member_to_project(
    Staff(_, who): Staff,
    Path((id, _)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let id: i64 = id.parse().map_err(|_| pages::no_such("project", &who))?;
    Ok(see_other(format!("/projects/{id}")))
}

/// As [`to_project`], for a user's form.
pub async fn to_user(Staff(_, who): Staff, Path(id): Path<String>) -> Result<Response, PageError> {
    let id: i64 = id.parse().map_err(|_| pages::no_such("user", &who))?;
    Ok(see_other(format!("/users/{id}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::NameError;

    #[test]
    fn a_refusal_reads_as_a_sentence_with_the_shared_message() {
        let in_list = |position, error| ChangeError::InList {
            position,
            error: Box::new(error),
        };
        for (error, expected) in [
            (
                ChangeError::UnknownUser("carol".into()),
                "Unknown user `carol`.",
            ),
            (
                in_list(2, ChangeError::UnknownUser("carol".into())),
                "Unknown user `carol`.",
            ),
            (
                in_list(
                    3,
                    ChangeError::Name(NameError::Control {
                        kind: "username",
                        found: '\t',
                    }),
                ),
                "Username 3: a username must not contain control characters (found U+0009).",
            ),
            (
                ChangeError::Command(CommandError::AlreadyAMember {
                    user: "bob".into(),
                    project: "Apollo".into(),
                }),
                "bob is already a member of Apollo.",
            ),
            (
                ChangeError::Command(CommandError::ProjectExists("Apollo".into())),
                "Project `Apollo` already exists.",
            ),
        ] {
            assert_eq!(message(&error), expected);
        }
    }

    #[test]
    fn usernames_are_one_a_line_blank_lines_aside() {
        assert_eq!(usernames("bob\r\n\n  \ncarol \n"), ["bob", "carol "]);
        assert!(usernames(" \n").is_empty());
    }
}
