//! What a log page's query string asks for, and which event types each log
//! offers. Every parameter is read or refused: a filter is never ignored.

use std::net::IpAddr;

use audit_core::events::{Event, References};
use audit_core::query::{Cursor, ParseError};
use chrono::{DateTime, NaiveDate, Utc};

use super::error::PageError;
use crate::domain::{MembershipId, ProjectRef, Roles, UserRef};
use crate::events::{
    ProjectCreated, ProjectMemberAdded, ProjectMemberRemoved, ProjectMemberUpdatedRoles,
    StaffEventType, UserCreated, UserPasswordSet, UserRemoved, UserUpdatedRoles,
};
use crate::logs::LogType;

/// The parameters a log page takes, as its refusal of any other names them.
const PARAMETERS: &str =
    "type (or types, comma-separated), actor, from, to, request, address and cursor";

/// A log page's filters and page.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Filters {
    /// Only these types (the catalog's, or the log's own records); every
    /// type when empty.
    pub types: Vec<LogType>,
    /// Only events by the user with this username.
    pub actor: Option<String>,
    /// Only events of the request with this id.
    pub request: Option<String>,
    /// Only events of requests from this client address.
    pub address: Option<IpAddr>,
    /// Only events on or after this day (UTC).
    pub from: Option<NaiveDate>,
    /// Only events on or before this day (UTC).
    pub to: Option<NaiveDate>,
    /// The page; the newest when `None`.
    pub cursor: Option<Cursor>,
}

impl Filters {
    /// Reads `type` (repeatable; empty means every type), `types` (the
    /// reference's name: codes separated by commas), `actor` (a username),
    /// `request` (a request id), `address` (a client's IP address), `from`
    /// and `to` (days, `YYYY-MM-DD`, both included) and `cursor`.
    /// Campaign tags (`utm_*`) are ignored; any other parameter, and
    /// anything unreadable, is a 400.
    pub fn parse(query: Option<&str>) -> Result<Filters, PageError> {
        let mut filters = Filters::default();
        for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match &*key {
                "type" => filters.add_type(&value)?,
                "types" => {
                    for code in value.split(',') {
                        filters.add_type(code.trim())?;
                    }
                }
                "actor" => {
                    let name = value.trim();
                    filters.actor = (!name.is_empty()).then(|| name.to_owned());
                }
                "request" => {
                    let id = value.trim();
                    filters.request = (!id.is_empty()).then(|| id.to_owned());
                }
                "address" => filters.address = address(&value)?,
                "from" => filters.from = day(&value)?,
                "to" => filters.to = day(&value)?,
                "cursor" => {
                    let cursor = value.parse::<Cursor>().map_err(|e| match e {
                        // A link saved before pages were ordered by time.
                        ParseError::OutdatedCursor(_) => PageError::bad_request(
                            "This page link is from before the log was listed by the time of \
                             its events, and no longer says where its page starts: open the \
                             log again from its newest page.",
                        ),
                        _ => PageError::bad_request(
                            "This page link is damaged: its cursor is not valid.",
                        ),
                    })?;
                    filters.cursor = Some(cursor);
                }
                tag if tag.starts_with("utm_") => {}
                other => {
                    return Err(PageError::bad_request(format!(
                        "This page has no parameter \u{201c}{}\u{201d}; it takes {PARAMETERS}.",
                        other.chars().take(64).collect::<String>()
                    )));
                }
            }
        }
        if let (Some(from), Some(to)) = (filters.from, filters.to)
            && from > to
        {
            return Err(PageError::bad_request(
                "The date range ends before it starts: \u{201c}from\u{201d} is after \u{201c}to\u{201d}.",
            ));
        }
        Ok(filters)
    }

    fn add_type(&mut self, code: &str) -> Result<(), PageError> {
        if code.is_empty() {
            return Ok(());
        }
        let ty = code.parse::<LogType>().map_err(|_| {
            PageError::bad_request(format!(
                "There is no event type \u{201c}{}\u{201d}.",
                code.chars().take(64).collect::<String>()
            ))
        })?;
        if !self.types.contains(&ty) {
            self.types.push(ty);
        }
        Ok(())
    }

    /// The start of `from`, if set.
    pub fn since(&self) -> Option<DateTime<Utc>> {
        self.from
            .map(|day| day.and_time(chrono::NaiveTime::MIN).and_utc())
    }

    /// The end of `to` (the start of the next day), if set.
    pub fn until(&self) -> Option<DateTime<Utc>> {
        self.to
            .and_then(|day| day.succ_opt())
            .map(|day| day.and_time(chrono::NaiveTime::MIN).and_utc())
    }

    /// Whether any filter (not the page) is set.
    pub fn any(&self) -> bool {
        !self.types.is_empty()
            || self.actor.is_some()
            || self.request.is_some()
            || self.address.is_some()
            || self.from.is_some()
            || self.to.is_some()
    }

    /// `path` with these filters and `cursor` as its query.
    pub fn href(&self, path: &str, cursor: Option<Cursor>) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for ty in &self.types {
            query.append_pair("type", ty.code());
        }
        if let Some(actor) = &self.actor {
            query.append_pair("actor", actor);
        }
        if let Some(request) = &self.request {
            query.append_pair("request", request);
        }
        if let Some(address) = self.address {
            query.append_pair("address", &address.to_string());
        }
        if let Some(from) = self.from {
            query.append_pair("from", &from.to_string());
        }
        if let Some(to) = self.to {
            query.append_pair("to", &to.to_string());
        }
        if let Some(cursor) = cursor {
            query.append_pair("cursor", &cursor.to_string());
        }
        let query = query.finish();
        if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        }
    }
}

/// A day as an `<input type="date">` sends it; empty is none.
fn day(value: &str) -> Result<Option<NaiveDate>, PageError> {
    if value.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| {
            PageError::bad_request(format!(
                "\u{201c}{}\u{201d} is not a date; write it as YYYY-MM-DD.",
                value.chars().take(64).collect::<String>()
            ))
        })
}

/// A client's IP address as typed (v4 or v6, an IPv6 one with or without
/// brackets); empty is none.
fn address(value: &str) -> Result<Option<IpAddr>, PageError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let bare = value
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .unwrap_or(value);
    bare.parse().map(Some).map_err(|_| {
        PageError::bad_request(format!(
            "\u{201c}{}\u{201d} is not an IP address; write it as 203.0.113.9 or 2001:db8::1.",
            value.chars().take(64).collect::<String>()
        ))
    })
}

/// The references an event of type `ty` is stored with, from an example
/// of it: the catalog's `#[target]`, `#[parent]` and `#[subject]`
/// declarations, read through the generated code. The `match` names every
/// type, so a new one does not compile until it is added here.
fn example_references(ty: StaffEventType) -> References {
    let user = UserRef {
        id: 1,
        username: String::new(),
    };
    let project = ProjectRef {
        id: 1,
        name: String::new(),
    };
    let membership = MembershipId(1);
    match ty {
        StaffEventType::ProjectCreated => ProjectCreated { project }.references(),
        StaffEventType::ProjectMemberAdded => ProjectMemberAdded {
            membership,
            project,
            user,
        }
        .references(),
        StaffEventType::ProjectMemberRemoved => ProjectMemberRemoved {
            membership,
            project,
            user,
        }
        .references(),
        StaffEventType::ProjectMemberUpdatedRoles => ProjectMemberUpdatedRoles {
            membership,
            project,
            user,
            before: Roles::new(),
            after: Roles::new(),
        }
        .references(),
        StaffEventType::UserCreated => UserCreated {
            user,
            global_roles: Roles::new(),
        }
        .references(),
        StaffEventType::UserPasswordSet => UserPasswordSet { user }.references(),
        StaffEventType::UserRemoved => UserRemoved { user }.references(),
        StaffEventType::UserUpdatedRoles => UserUpdatedRoles {
            user,
            before: Roles::new(),
            after: Roles::new(),
        }
        .references(),
    }
}

/// Whether events of type `ty` can appear on a project's page: whether
/// their parent is a project (the project log is "parent is the project").
/// The log's own records refer to no project.
pub(super) fn on_project_page(ty: LogType) -> bool {
    match ty {
        LogType::Catalog(ty) => example_references(ty)
            .parent
            .is_some_and(|parent| parent.kind == "project"),
        LogType::Own(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn filters_read_every_parameter_and_refuse_garbage() {
        let f = Filters::parse(Some(
            "type=user_created&type=&type=user_created&types=project_created,+user_created\
             &actor=+alice+&request=+req-7f3a+&address=2001:DB8::1\
             &from=2026-01-02&to=2026-01-02&cursor=tb1fx2a&utm_source=x",
        ))
        .unwrap();
        assert_eq!(
            f.types,
            [
                LogType::Catalog(StaffEventType::UserCreated),
                LogType::Catalog(StaffEventType::ProjectCreated)
            ]
        );
        assert_eq!(f.actor.as_deref(), Some("alice"));
        assert_eq!(f.request.as_deref(), Some("req-7f3a"));
        assert_eq!(f.address, Some("2001:db8::1".parse().unwrap()));
        assert_eq!(f.since().unwrap().to_rfc3339(), "2026-01-02T00:00:00+00:00");
        assert_eq!(f.until().unwrap().to_rfc3339(), "2026-01-03T00:00:00+00:00");
        assert_eq!(f.cursor, Some("tb1fx2a".parse().unwrap()));
        assert_eq!(
            f.href("/users/2", f.cursor),
            "/users/2?type=user_created&type=project_created&actor=alice\
             &request=req-7f3a&address=2001%3Adb8%3A%3A1&from=2026-01-02&to=2026-01-02\
             &cursor=tb1fx2a"
        );
        // An IPv6 address may come in brackets; the page links it without.
        let bracketed = Filters::parse(Some("address=%5B2001:db8::1%5D")).unwrap();
        assert_eq!(bracketed.address, f.address);
        assert!(bracketed.any());
        assert_eq!(
            Filters::parse(Some("address=+203.0.113.9+"))
                .unwrap()
                .href("/", None),
            "/?address=203.0.113.9"
        );
        assert_eq!(Filters::parse(None).unwrap(), Filters::default());
        // The log's own records are types too, the library's.
        let own =
            Filters::parse(Some("type=audit%3Aevents_imported&types=audit:log_pruned")).unwrap();
        let codes: Vec<&str> = own.types.iter().map(|t| t.code()).collect();
        assert_eq!(codes, ["audit:events_imported", "audit:log_pruned"]);
        assert!(matches!(own.types[0], LogType::Own(_)));
        assert_eq!(
            own.href("/", None),
            "/?type=audit%3Aevents_imported&type=audit%3Alog_pruned"
        );
        assert_eq!(
            Filters::parse(Some("actor=&request=+&address=&from=&to=&type=")).unwrap(),
            Filters::default()
        );
        for bad in [
            "type=nope",
            "types=user_created,nope",
            "cursor=1%3B+DROP+TABLE+audit_events",
            "cursor=b1f",
            "type=user_created'--",
            "type=audit:unheard_of",
            "address=nope",
            "address=203.0.113.9.1",
            "address=203.0.113.9%2F24",
            "address=fe80::1%25eth0",
            "from=yesterday",
            "to=2026-02-30",
            "from=2026-01-03&to=2026-01-02",
            "user=alice",
            "event_type=user_created",
            "page=2",
        ] {
            let e = Filters::parse(Some(bad)).unwrap_err();
            assert_eq!(e.status(), StatusCode::BAD_REQUEST, "{bad}");
        }
    }

    #[test]
    fn a_project_page_offers_the_types_whose_parent_is_a_project() {
        let offered: Vec<&str> = LogType::offered()
            .filter(|ty| on_project_page(*ty))
            .map(|ty| ty.code())
            .collect();
        assert_eq!(
            offered,
            [
                "project_created",
                "project_member_added",
                "project_member_removed",
                "project_member_updated_roles"
            ]
        );
    }
}
