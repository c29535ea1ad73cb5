//! Rows written by an older program are read by a newer one, on both
//! backends: each older payload version goes through the upgrades the newer
//! catalog declares, in queries, type filters and rendered pages; a retired
//! event still decodes; and each row the newer program cannot read says
//! why (a newer version, a version without an upgrade, a payload that does
//! not match its version or whose upgrade fails, an unknown code).

use audit_core::events::{Decoded, EntityRef, EventType, Reference, UnknownEvent, UnknownReason};
use audit_core::present::{PresentContext, Presentable, Shown};
use audit_core::query::{EventQuery, StoredEvent};
use audit_core::{Actor, Audit, AuditError, auditable, testing};
use serde::{Deserialize, Serialize};

use crate::support;

/// An item, by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ItemRef(pub i64);

impl Reference for ItemRef {
    fn entity_ref(&self) -> EntityRef {
        EntityRef::new("item", self.0.to_string())
    }
}

impl Presentable for ItemRef {
    fn present(&self, _: &PresentContext) -> Shown {
        Shown::text(format!("item {}", self.0))
    }
}

/// The program as it was: every event at version 1.
mod old_program {
    use super::*;

    audit_core::declare_events! {
        #[events(templates = "tests/templates/versions/old")]
        pub enum OldEvent {
            #[event(code = "item_named", label = "Item named", group = "Items")]
            ItemNamed { #[target] item: ItemRef, name: String },
            #[event(code = "item_priced", label = "Item priced", group = "Items")]
            ItemPriced { #[target] item: ItemRef, cents: i64 },
            #[event(code = "item_lost", label = "Item lost", group = "Items")]
            ItemLost { #[target] item: ItemRef },
        }
    }

    /// Names, prices and loses an item.
    #[auditable(emits(ItemNamed, ItemPriced, ItemLost))]
    pub async fn history(cx: &mut Audit<OldEvent>, item: ItemRef) -> Result<(), AuditError> {
        cx.emit(ItemNamed {
            item,
            name: "Lamp".into(),
        })?;
        cx.emit(ItemPriced { item, cents: 1250 })?;
        cx.emit(ItemLost { item })?;
        Ok(())
    }
}

/// The program now: `item_named` is at version 3, `item_priced` at 2 (its
/// version 1 is no longer read), `item_lost` is retired.
mod new_program {
    use super::*;

    /// Version 1 of `item_named`, as the old program stored it.
    pub mod v1 {
        /// The payload of version 1.
        #[derive(serde::Deserialize)]
        pub struct ItemNamed {
            pub item: super::ItemRef,
            pub name: String,
        }
    }

    /// Version 2 of `item_named`: the name's language was added.
    pub mod v2 {
        /// The payload of version 2.
        #[derive(serde::Serialize, serde::Deserialize)]
        pub struct ItemNamed {
            pub item: super::ItemRef,
            pub name: String,
            pub language: String,
        }
    }

    /// Version 1 names were all English.
    pub fn named_v1_to_v2(old: v1::ItemNamed) -> v2::ItemNamed {
        v2::ItemNamed {
            item: old.item,
            name: old.name,
            language: "en".into(),
        }
    }

    /// Version 3 calls the name a title: a rename, done on the JSON.
    pub fn named_v2_to_v3(mut json: serde_json::Value) -> Result<serde_json::Value, String> {
        let fields = json.as_object_mut().ok_or("the payload is not an object")?;
        let name = fields.remove("name").ok_or("it has no `name`")?;
        if !name.is_string() {
            return Err(format!("its `name` is not a string: {name}"));
        }
        fields.insert("title".into(), name);
        Ok(json)
    }

    audit_core::declare_events! {
        #[events(templates = "tests/templates/versions/new", lock = "tests/locks/versions.lock")]
        pub enum NewEvent {
            #[event(code = "item_named", label = "Item named", group = "Items", version = 3,
                upgrade(from = 1, with = named_v1_to_v2), upgrade(from = 2, json = named_v2_to_v3))]
            ItemNamed { #[target] item: ItemRef, title: String, language: String },
            #[event(code = "item_priced", label = "Item priced", group = "Items", version = 2)]
            ItemPriced { #[target] item: ItemRef, amount: i64, currency: String },
            #[event(code = "item_lost", label = "Item lost", group = "Items", retired)]
            ItemLost { #[target] item: ItemRef },
            #[event(code = "item_archived", label = "Item archived", group = "Items")]
            ItemArchived { #[target] item: ItemRef },
        }
    }
}

use new_program::{ItemNamed, NewEvent, NewEventType};

fn unknown(event: &StoredEvent<NewEvent>) -> &UnknownEvent {
    match &event.event {
        Decoded::Unknown(unknown) => unknown,
        Decoded::Known(known) => panic!("event {} decoded as {known:?}", event.id),
    }
}

fn known(event: &StoredEvent<NewEvent>) -> &NewEvent {
    match &event.event {
        Decoded::Known(known) => known,
        Decoded::Unknown(unknown) => panic!("event {} is unknown: {unknown:?}", event.id),
    }
}

fn named(title: &str, language: &str) -> NewEvent {
    NewEvent::from(ItemNamed {
        item: ItemRef(1),
        title: title.into(),
        language: language.into(),
    })
}

#[tokio::test]
async fn a_newer_program_reads_what_an_older_one_wrote() {
    for auditor in testing::all("versions").await {
        let label = testing::label(&auditor);
        auditor.migrate().await.unwrap();

        // The old program at work.
        let mut audit = auditor
            .begin::<old_program::OldEvent>(Actor::user(7, "olga"))
            .await
            .unwrap();
        old_program::history(&mut audit, ItemRef(1)).await.unwrap();
        audit.commit().await.unwrap();

        // Rows of programs in between, and of ones this program cannot read.
        support::insert_rows(
            &auditor,
            "(10, 'item_named', 2, 'user', '8', 'mia', 'rename', 'c2', '{\"item\": 1, \"name\": \"Lampe\", \"language\": \"de\"}'), \
             (11, 'item_named', 4, 'user', '9', 'noa', 'rename', 'c3', '{\"item\": 1, \"label\": \"L\"}'), \
             (12, 'item_named', 1, 'user', '9', 'noa', 'rename', 'c4', '{\"item\": 1}'), \
             (13, 'item_named', 2, 'user', '9', 'noa', 'rename', 'c5', '{\"item\": 1, \"name\": 5, \"language\": \"en\"}'), \
             (14, 'item_sold', 1, 'user', '9', 'noa', 'sell', 'c6', '{\"item\": 1}'), \
             (15, 'item_archived', 1, 'user', '9', 'noa', 'archive', 'c7', '{\"item\": 1}')",
        )
        .await;

        let page = auditor
            .query::<NewEvent>(&EventQuery::new().limit(100))
            .await
            .unwrap();
        let events = &page.events;
        assert_eq!(events.len(), 9, "{label}");
        // Newest first by time: the old program's (now; one command, so one
        // time, then by id), then the hand-written rows (times of 1970).
        let [
            archived,
            sold,
            failing_upgrade,
            malformed,
            newer,
            v2_row,
            lost,
            priced,
            v1_row,
        ] = [3, 4, 5, 6, 7, 8, 0, 1, 2].map(|i| &events[i]);

        // Version 1, written by the old program: through both upgrades.
        assert_eq!(known(v1_row), &named("Lamp", "en"), "{label}");
        assert_eq!(v1_row.actor, Actor::user(7, "olga"));
        // Version 2: through the JSON upgrade only.
        assert_eq!(known(v2_row), &named("Lampe", "de"), "{label}");
        // A retired event still decodes.
        assert_eq!(
            known(lost),
            &NewEvent::from(new_program::ItemLost { item: ItemRef(1) }),
            "{label}"
        );
        assert!(matches!(known(archived), NewEvent::ItemArchived(_)));

        // Each row this program cannot read, with its reason.
        assert_eq!(
            unknown(priced).reason,
            UnknownReason::OlderVersion {
                stored: 1,
                current: 2
            },
            "{label}"
        );
        assert_eq!(
            unknown(newer).reason,
            UnknownReason::NewerVersion {
                stored: 4,
                supported: 3
            },
            "{label}"
        );
        assert!(
            matches!(&unknown(malformed).reason,
                UnknownReason::MalformedPayload(e) if e.starts_with("missing field `name`")),
            "{label}: {:?}",
            unknown(malformed).reason
        );
        assert_eq!(
            unknown(failing_upgrade).reason,
            UnknownReason::MalformedPayload(
                "the upgrade from version 2 to 3 failed: its `name` is not a string: 5".into()
            ),
            "{label}"
        );
        assert_eq!(unknown(sold).reason, UnknownReason::UnknownCode, "{label}");
        // What was stored is kept, whatever the reason.
        let u = unknown(failing_upgrade);
        assert_eq!((u.code.as_str(), u.version), ("item_named", 2));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&u.raw).unwrap(),
            serde_json::json!({"item": 1, "name": 5, "language": "en"}),
            "{label}"
        );

        // A type filter finds every row of the code, upgraded or not.
        let filtered = auditor
            .query::<NewEvent>(&EventQuery::new().types(["item_named"]))
            .await
            .unwrap();
        let ids: Vec<i64> = filtered.events.iter().map(|e| e.id).collect();
        assert_eq!(
            ids,
            [
                v1_row.id,
                failing_upgrade.id,
                malformed.id,
                newer.id,
                v2_row.id
            ],
            "{label}: newest first by time"
        );

        // The page renders, upgraded rows through the current template.
        let cx = PresentContext::new();
        let rendered: Vec<String> = events.iter().map(|e| e.render(&cx)).collect();
        let at =
            |event: &StoredEvent<NewEvent>| events.iter().position(|e| e.id == event.id).unwrap();
        assert_eq!(rendered[at(v1_row)], "named item 1 Lamp (en)", "{label}");
        assert_eq!(rendered[at(v2_row)], "named item 1 Lampe (de)", "{label}");
        assert_eq!(rendered[at(lost)], "lost item 1", "{label}");
        assert_eq!(
            rendered[at(newer)],
            "noa recorded an event of type \u{201c}item_named\u{201d} that this program cannot show",
            "{label}"
        );
    }
}

#[test]
fn a_retired_event_is_not_offered_in_filters() {
    assert_eq!(NewEventType::ALL.len(), 4);
    assert_eq!(
        NewEventType::ACTIVE,
        [
            NewEventType::ItemNamed,
            NewEventType::ItemPriced,
            NewEventType::ItemArchived
        ]
    );
    assert!(NewEventType::ItemLost.is_retired());
    assert!(EventType::is_retired(NewEventType::ItemLost));
    assert!(!NewEventType::ItemNamed.is_retired());
    assert_eq!(NewEventType::ItemNamed.version(), 3);
}
