//! `classify_personal` with every field classified: `personal_fields()` lists the stored names
//! of the `#[personal]` fields, and an erased value (stored as `null`) reads back as the type's
//! `Erasable::erased()`, while everything else reads and writes as before.

use audit_core::events::{
    Decoded, ERASED_TEXT, EntityRef, Erasable, EventCatalog, EventType, Reference, UnknownReason,
};
use audit_core::present::{PresentContext, Presentable, Shown};

/// An e-mail address: the application says what it reads back as once erased.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Email(pub String);

impl Erasable for Email {
    fn erased() -> Self {
        Email("(address erased)".into())
    }
}

impl Presentable for Email {
    fn present(&self, _: &PresentContext) -> Shown {
        Shown::text(&self.0)
    }
}

/// A person, as events refer to them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PersonRef {
    pub id: u64,
    pub name: String,
}

impl Reference for PersonRef {
    fn entity_ref(&self) -> EntityRef {
        EntityRef::new("person", self.id.to_string())
    }
}

impl Erasable for PersonRef {
    fn erased() -> Self {
        PersonRef { id: 0, name: "someone erased".into() }
    }
}

impl Presentable for PersonRef {
    fn present(&self, _: &PresentContext) -> Shown {
        Shown::text(&self.name)
    }
}

audit_core::declare_events! {
    #[events(templates = "templates/personal", classify_personal)]
    pub enum PeopleEvent {
        #[event(code = "person_registered", label = "Person registered", group = "People")]
        PersonRegistered {
            #[not_personal] visits: u32,
            #[personal] #[serde(rename = "full_name")] name: String,
            #[personal] nickname: Option<String>,
            #[personal] contact: Email,
            #[personal] #[serde(default)] tags: Vec<String>,
        },
        #[event(code = "person_left", label = "Person left", group = "People")]
        PersonLeft { #[not_personal] visits: u32 },
    }
}

/// The attribute form, with the markers next to a reference marker.
#[audit_core::events(templates = "templates/personal", classify_personal)]
pub enum InviteEvent {
    #[event(code = "person_invited", label = "Person invited", group = "People")]
    PersonInvited {
        #[subject]
        #[personal]
        person: PersonRef,
        #[not_personal]
        #[serde(rename = "type")]
        r#type: String,
    },
}

/// Usable in constants.
const REGISTERED_PERSONAL: &[&str] = PeopleEventType::PersonRegistered.personal_fields();

fn main() {
    let cx = PresentContext::new();

    // The stored names, in declaration order; through the trait too.
    assert_eq!(REGISTERED_PERSONAL, ["full_name", "nickname", "contact", "tags"]);
    let t = PeopleEventType::PersonRegistered;
    assert_eq!(<PeopleEventType as EventType>::personal_fields(t), REGISTERED_PERSONAL);
    assert!(PeopleEventType::PersonLeft.personal_fields().is_empty());
    assert_eq!(InviteEventType::PersonInvited.personal_fields(), ["person"]);

    // Written and read back as before.
    let registered = PersonRegistered {
        visits: 3,
        name: "Ada Lovelace".into(),
        nickname: Some("ada".into()),
        contact: Email("ada@example.com".into()),
        tags: vec!["vip".into()],
    };
    let event = PeopleEvent::from(registered.clone());
    let stored = event.payload_json().unwrap();
    assert_eq!(
        stored,
        r#"{"visits":3,"full_name":"Ada Lovelace","nickname":"ada","contact":"ada@example.com","tags":["vip"]}"#
    );
    assert_eq!(PeopleEvent::decode("person_registered", 1, &stored), Decoded::Known(event));

    // Erased: each personal value stored as `null` reads back as its erased value.
    let erased = r#"{"visits":3,"full_name":null,"nickname":null,"contact":null,"tags":null}"#;
    let expected = PersonRegistered {
        visits: 3,
        name: ERASED_TEXT.into(),
        nickname: None,
        contact: Email::erased(),
        tags: Vec::new(),
    };
    assert_eq!(expected.name, "[erased]");
    let decoded = PeopleEvent::decode("person_registered", 1, erased);
    assert_eq!(decoded, Decoded::Known(PeopleEvent::from(expected)));
    let html = decoded.known().unwrap().render(&cx).unwrap();
    assert_eq!(html, "registered [erased] (none, (address erased), none)");

    // Absent fields read as before: an `Option` or a `default` may be absent, others not.
    let partial = r#"{"visits":1,"full_name":"Bo","contact":"bo@example.com"}"#;
    match PeopleEvent::decode("person_registered", 1, partial) {
        Decoded::Known(PeopleEvent::PersonRegistered(p)) => {
            assert_eq!((p.nickname, p.tags), (None, Vec::<String>::new()));
        }
        other => panic!("{other:?}"),
    }
    for not_read in [
        r#"{"visits":1,"nickname":null,"contact":null}"#,
        // `null` in a field that is not personal is not an erased value.
        r#"{"visits":null,"full_name":null,"contact":null}"#,
    ] {
        match PeopleEvent::decode("person_registered", 1, not_read) {
            Decoded::Unknown(unknown) => {
                assert!(matches!(unknown.reason, UnknownReason::MalformedPayload(_)), "{unknown:?}");
            }
            Decoded::Known(event) => panic!("read {event:?}"),
        }
    }

    // A personal reference: its subject column as before, its erased value the application's.
    let invited = InviteEvent::from(PersonInvited {
        person: PersonRef { id: 7, name: "Ada".into() },
        r#type: "guest".into(),
    });
    assert_eq!(invited.references().subject, Some(EntityRef::new("person", "7")));
    assert_eq!(invited.payload_json().unwrap(), r#"{"person":{"id":7,"name":"Ada"},"type":"guest"}"#);
    match InviteEvent::decode("person_invited", 1, r#"{"person":null,"type":"guest"}"#) {
        Decoded::Known(InviteEvent::PersonInvited(p)) => {
            assert_eq!(p.person, PersonRef::erased());
            assert_eq!(InviteEvent::from(p).render(&cx).unwrap(), "invited someone erased");
        }
        other => panic!("{other:?}"),
    }
}
