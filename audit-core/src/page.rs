//! The page layer, on top of the store and presentation: what joins stored
//! rows with the values their templates show.

use std::collections::{BTreeMap, BTreeSet};

use crate::actor::Actor;
use crate::catalog::EventCatalog;
use crate::decode::Decoded;
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
            if let Actor::User { id, .. } = &event.actor {
                wanted
                    .entry(ACTOR_KIND.to_owned())
                    .or_default()
                    .insert(id.clone());
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
    /// The event as HTML: through its template when known; otherwise (an
    /// unknown event, or a template that failed) a generic line with the
    /// actor, the code and the time, and a logged warning. Never fails.
    pub fn render(&self, cx: &PresentContext) -> String {
        let failure = match &self.event {
            Decoded::Known(event) => match event.render(cx) {
                Ok(html) => return html,
                Err(e) => e.to_string(),
            },
            Decoded::Unknown(unknown) => unknown.reason.to_string(),
        };
        let code = self.event.code();
        tracing::warn!(
            event_id = self.id,
            code,
            "showing an audit event generically: {failure}"
        );
        let line = format!(
            "{} recorded an event of type `{code}` at {}",
            self.actor,
            self.occurred_at.format("%Y-%m-%d %H:%M:%S UTC")
        );
        Shown::text(line).to_string()
    }
}
