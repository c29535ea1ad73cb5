//! The page layer, on top of the store and presentation: what joins stored
//! rows with the values their templates show.

use std::collections::{BTreeMap, BTreeSet};

use crate::actor::Actor;
use crate::catalog::EventCatalog;
use crate::decode::Decoded;
use crate::own_records::{self, LogEventType};
use crate::present::{ACTOR_KIND, PresentContext, Resolver, Shown};
use crate::reference::EntityRef;
use crate::store::StoredEvent;

impl PresentContext {
    /// Looks up every reference of `events` (targets, parents, subjects and
    /// acting users) with one `resolver` call per kind.
    pub async fn for_page<E, R>(events: &[StoredEvent<E>], resolver: &R) -> Result<Self, R::Error>
    where
        R: Resolver,
    {
        let mut wanted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for event in events {
            let refs = &event.references;
            for entity in [&refs.target, &refs.parent, &refs.subject]
                .into_iter()
                .flatten()
            {
                wanted
                    .entry(entity.kind.to_string())
                    .or_default()
                    .insert(entity.id.clone());
            }
            if let Some(id) = event.actor.user_id() {
                wanted
                    .entry(ACTOR_KIND.to_owned())
                    .or_default()
                    .insert(id.to_owned());
            }
        }
        let mut cx = PresentContext::new();
        for (kind, ids) in wanted {
            let ids: Vec<String> = ids.into_iter().collect();
            for (id, resolved) in resolver.resolve(&kind, &ids).await? {
                cx.insert(&EntityRef::new(kind.clone(), id), resolved);
            }
        }
        Ok(cx)
    }
}

impl<E: EventCatalog> StoredEvent<E> {
    /// The event's type: the catalog's for a code it declares (also when
    /// this row could not be decoded, a newer payload version say), the
    /// library's for the log's own records (`audit:` codes, which no
    /// catalog declares); `None` for a code that neither knows.
    pub fn event_type(&self) -> Option<LogEventType<E::Type>> {
        match &self.event {
            Decoded::Known(event) => Some(LogEventType::Catalog(event.event_type())),
            Decoded::Unknown(unknown) => unknown.code.parse().ok(),
        }
    }

    /// The label of the event's type, as a page's type column shows it:
    /// the catalog's (`User added`), or the library's for its own records
    /// (`Log pruned`, `Events imported`); `None` for a code that neither
    /// knows (show the stored code instead).
    pub fn type_label(&self) -> Option<&'static str> {
        self.event_type().map(LogEventType::label)
    }

    /// The event as HTML: through its template when known; the log's own
    /// records (`audit:` codes: prunes, repairs, imports) as the library's
    /// sentences; otherwise (an unknown event, or a template that failed) a
    /// generic line with the actor and the code (the time is the page's to
    /// show), and a logged warning. Never fails. A page of events is better rendered with
    /// [`render_page`], which warns once per code.
    pub fn render(&self, cx: &PresentContext) -> String {
        self.try_render(cx).unwrap_or_else(|(line, failure)| {
            warn_generic(self.event.code(), self.id, 1, &failure);
            line
        })
    }

    /// The template's HTML, or the generic line and why it was needed.
    fn try_render(&self, cx: &PresentContext) -> Result<String, (String, String)> {
        let failure = match &self.event {
            Decoded::Known(event) => match event.render(cx) {
                Ok(html) => return Ok(html),
                Err(e) => e.to_string(),
            },
            Decoded::Unknown(unknown) => {
                if let Some(text) = own_records::sentence(&self.actor, &unknown.code, &unknown.raw)
                {
                    return Ok(Shown::text(text).to_string());
                }
                unknown.reason.to_string()
            }
        };
        Err((generic_line(&self.actor, self.event.code()), failure))
    }
}

/// The line shown for an event that cannot be shown through its template:
/// who, and the stored code in quotation marks, escaped.
fn generic_line(actor: &Actor, code: &str) -> String {
    Shown::text(format!(
        "{actor} recorded an event of type \u{201c}{code}\u{201d} that this program cannot show"
    ))
    .to_string()
}

fn warn_generic(code: &str, first_id: i64, count: usize, failure: &str) {
    tracing::warn!(
        event_id = first_id,
        code,
        count,
        "showing audit events generically: {failure}"
    );
}

/// Renders a page of events in order, each as [`StoredEvent::render`] does,
/// but logs at most one warning per code shown generically, with how many
/// events of that code the page showed so and the first one's id.
pub fn render_page<E: EventCatalog>(events: &[StoredEvent<E>], cx: &PresentContext) -> Vec<String> {
    // Code -> (first id, count, first reason), in order of first appearance.
    let mut generic: Vec<(&str, i64, usize, String)> = Vec::new();
    let html = events
        .iter()
        .map(|event| {
            event.try_render(cx).unwrap_or_else(|(line, failure)| {
                let code = event.event.code();
                match generic.iter_mut().find(|(c, ..)| *c == code) {
                    Some((_, _, count, _)) => *count += 1,
                    None => generic.push((code, event.id, 1, failure)),
                }
                line
            })
        })
        .collect();
    for (code, first_id, count, failure) in &generic {
        warn_generic(code, *first_id, *count, failure);
    }
    html
}
