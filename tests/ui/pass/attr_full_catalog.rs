//! Every feature of the attribute form, `#[audit_core::events]`, checked at run time: the
//! same catalog as `full_catalog.rs`, which writes it with `declare_events!`.
#![deny(missing_docs)]

use audit_core::events::{Decoded, EntityRef, Event, EventCatalog, EventType, Reference, References, UnknownReason};
use audit_core::present::{PresentContext, Presentable, Shown};

/// An account, by number.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AccountRef(pub u64);

impl Reference for AccountRef {
    fn entity_ref(&self) -> EntityRef {
        EntityRef::new("account", self.0.to_string())
    }
}

impl Presentable for AccountRef {
    fn present(&self, _: &PresentContext) -> Shown {
        Shown::text(format!("account #{}", self.0))
    }
}

/// Events of a small bank.
#[audit_core::events(templates = "templates/catalog")]
pub enum BankEvent {
    /// An account was opened.
    #[event(code = "account_opened", label = "Account opened", group = "Accounts")]
    AccountOpened {
        /// The account.
        #[target]
        #[parent]
        account: AccountRef,
        /// Its owner.
        #[subject]
        owner: AccountRef,
        #[serde(rename = "initial")]
        opening_balance: i64,
    },

    #[event(
        code = "account_renamed",
        label = "Account renamed",
        group = "Accounts",
        version = 3,
        template = "custom/renamed.html",
        presenter = present_renamed
    )]
    AccountRenamed {
        #[target]
        account: AccountRef,
        from: String,
        to: Option<String>,
    },

    #[event(code = "maintenance", label = "Maintenance", group = "System")]
    Maintenance,
}

fn present_renamed<'a>(payload: &'a AccountRenamed, cx: &PresentContext) -> AccountRenamedView<'a> {
    AccountRenamedView {
        payload,
        account: payload.account.present(cx),
        from: Shown::text(payload.from.to_uppercase()),
        to: payload.to.present(cx),
    }
}

fn main() {
    let cx = PresentContext::new();

    // The event-type enum.
    assert_eq!(BankEventType::ALL.len(), 3);
    assert_eq!(<BankEventType as EventType>::ALL, BankEventType::ALL);
    let t = BankEventType::AccountRenamed;
    assert_eq!(
        (t.code(), t.label(), t.group(), t.version()),
        ("account_renamed", "Account renamed", "Accounts", 3)
    );
    assert_eq!(BankEventType::Maintenance.version(), 1);
    assert_eq!(
        "maintenance".parse::<BankEventType>(),
        Ok(BankEventType::Maintenance)
    );
    let err = "nope".parse::<BankEventType>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown event code `nope` in catalog `BankEvent`"
    );
    assert_eq!(t.to_string(), "account_renamed");
    assert_eq!(serde_json::to_string(&t).unwrap(), "\"account_renamed\"");
    assert_eq!(
        serde_json::from_str::<BankEventType>("\"maintenance\"").unwrap(),
        BankEventType::Maintenance
    );
    assert!(serde_json::from_str::<BankEventType>("\"Maintenance\"").is_err());
    let copy = t;
    assert_eq!(copy, t);

    // Payloads, the catalog enum and references.
    let opened = AccountOpened {
        account: AccountRef(7),
        owner: AccountRef(1),
        opening_balance: 10,
    };
    assert_eq!(<AccountOpened as Event>::TYPE, BankEventType::AccountOpened);
    let event: BankEvent = opened.clone().into();
    assert_eq!(event.event_type(), BankEventType::AccountOpened);
    assert_eq!(BankEvent::NAME, "BankEvent");
    assert_eq!(
        event.references(),
        References {
            target: Some(EntityRef::new("account", "7")),
            parent: Some(EntityRef::new("account", "7")),
            subject: Some(EntityRef::new("account", "1")),
        }
    );
    assert_eq!(
        BankEvent::from(Maintenance {}).references(),
        References::default()
    );

    // Storage encoding: serde attributes on fields are honoured.
    let json = event.payload_json().unwrap();
    assert_eq!(json, r#"{"account":7,"owner":1,"initial":10}"#);
    assert_eq!(
        BankEvent::decode("account_opened", 1, &json),
        Decoded::Known(event.clone())
    );
    assert_eq!(
        BankEvent::from(Maintenance {}).payload_json().unwrap(),
        "{}"
    );
    assert_eq!(
        serde_json::to_value(&event).unwrap(),
        serde_json::json!({"type": "account_opened", "payload": {"account": 7, "owner": 1, "initial": 10}})
    );

    // Versions: the current one decodes, others are unknown with a reason.
    let renamed = BankEvent::from(AccountRenamed {
        account: AccountRef(7),
        from: "old".into(),
        to: None,
    });
    let json = renamed.payload_json().unwrap();
    assert_eq!(
        BankEvent::decode("account_renamed", 3, &json),
        Decoded::Known(renamed.clone())
    );
    // An `Option` field absent from a stored payload reads as `None`; another field is required.
    assert_eq!(
        BankEvent::decode("account_renamed", 3, r#"{"account":7,"from":"old"}"#),
        Decoded::Known(renamed.clone())
    );
    assert!(matches!(
        BankEvent::decode("account_renamed", 3, r#"{"account":7,"to":"new"}"#),
        Decoded::Unknown(u) if u.reason == UnknownReason::MalformedPayload("missing field `from` at line 1 column 24".into())
    ));
    match BankEvent::decode("account_renamed", 2, &json) {
        Decoded::Unknown(u) => assert_eq!(
            u.reason,
            UnknownReason::OlderVersion {
                stored: 2,
                current: 3
            }
        ),
        other => panic!("{other:?}"),
    }

    // Rendering: default presenter, custom presenter and template override, escaped.
    assert_eq!(
        event.render(&cx).unwrap(),
        "opened account #7 for account #1 with 10"
    );
    assert_eq!(
        renamed.render(&cx).unwrap(),
        "renamed account #7 from OLD to none"
    );
    let hostile = BankEvent::from(AccountRenamed {
        account: AccountRef(1),
        from: "a".into(),
        to: Some("<i>x</i>".into()),
    });
    assert_eq!(
        hostile.render(&cx).unwrap(),
        "renamed account #1 from A to &#60;i&#62;x&#60;/i&#62;"
    );
    assert_eq!(
        BankEvent::from(Maintenance {}).render(&cx).unwrap(),
        "ran maintenance"
    );
    let view = AccountOpenedView::new(&opened, &cx);
    assert_eq!(view.payload, &opened);
    assert_eq!(view.owner.as_str(), "account #1");
}
