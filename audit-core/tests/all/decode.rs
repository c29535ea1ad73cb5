//! Decoding stored rows never panics: what the catalog cannot read comes back
//! as `Decoded::Unknown`, with a reason a person can read.

use audit_core::events::{Decoded, EventCatalog, UnknownEvent, UnknownReason};

audit_core::declare_events! {
    #[events(templates = "tests/templates")]
    pub enum Catalog {
        #[event(code = "thing_added", label = "Thing added", group = "Things", version = 2)]
        ThingAdded { name: String, count: u32 },
    }
}

fn unknown(code: &str, version: i64, payload: &str) -> UnknownEvent {
    match Catalog::decode(code, version, payload) {
        Decoded::Unknown(unknown) => unknown,
        Decoded::Known(event) => panic!("decoded {event:?} from {code}/{version}/{payload}"),
    }
}

#[test]
fn a_current_row_decodes() {
    let decoded = Catalog::decode("thing_added", 2, r#"{"name":"a","count":3}"#);
    assert_eq!(
        decoded,
        Decoded::Known(Catalog::ThingAdded(ThingAdded {
            name: "a".into(),
            count: 3
        }))
    );
    assert_eq!(decoded.code(), "thing_added");
}

#[test]
fn an_unknown_code_keeps_everything_stored() {
    let u = unknown("thing_archived", 1, r#"{"x":1}"#);
    assert_eq!(u.code, "thing_archived");
    assert_eq!(u.version, 1);
    assert_eq!(u.raw, r#"{"x":1}"#);
    assert_eq!(u.reason, UnknownReason::UnknownCode);
    assert_eq!(
        u.reason.to_string(),
        "its code is not declared in this program's event catalog"
    );
}

#[test]
fn a_newer_version_is_unknown() {
    let u = unknown("thing_added", 3, r#"{"name":"a","count":3}"#);
    assert_eq!(
        u.reason,
        UnknownReason::NewerVersion {
            stored: 3,
            supported: 2
        }
    );
    assert_eq!(
        u.reason.to_string(),
        "its payload version 3 is newer than version 2, the newest this program reads"
    );
}

#[test]
fn an_older_version_without_upcaster_is_unknown() {
    let u = unknown("thing_added", 1, r#"{"name":"a"}"#);
    assert_eq!(
        u.reason,
        UnknownReason::OlderVersion {
            stored: 1,
            current: 2
        }
    );
    assert!(
        u.reason
            .to_string()
            .contains("older than the current version 2")
    );
}

#[test]
fn invalid_versions_are_unknown() {
    for version in [0, -1, i64::MIN] {
        assert_eq!(
            unknown("thing_added", version, "{}").reason,
            UnknownReason::InvalidVersion(version)
        );
    }
    assert_eq!(
        UnknownReason::InvalidVersion(0).to_string(),
        "its payload version 0 is invalid: versions start at 1"
    );
}

#[test]
fn malformed_json_is_unknown_with_the_parser_message() {
    for (payload, expected) in [
        ("not json", "expected ident"),
        ("", "EOF while parsing"),
        (r#"{"name":"a"}"#, "missing field `count`"),
        (
            r#"{"name":1,"count":1}"#,
            "invalid type: integer `1`, expected a string",
        ),
        (r#"{"name":"a","count":-1}"#, "invalid value: integer `-1`"),
        ("[]", "invalid length 0"),
        ("\u{0}", "expected value"),
    ] {
        let u = unknown("thing_added", 2, payload);
        assert_eq!(u.raw, payload);
        match &u.reason {
            UnknownReason::MalformedPayload(message) => {
                assert!(message.contains(expected), "{payload:?}: {message}")
            }
            other => panic!("{payload:?}: {other:?}"),
        }
        assert!(
            u.reason
                .to_string()
                .starts_with("its payload does not match the declared fields: ")
        );
    }
}

/// Version 1 of `thing_moved` stored a `place`; version 2 a `to`.
fn moved_v1_to_v2(mut json: serde_json::Value) -> Result<serde_json::Value, String> {
    let fields = json.as_object_mut().ok_or("not an object")?;
    let place = fields.remove("place").ok_or("no `place`")?;
    // A faulty upgrade: version 2 calls it `to`.
    fields.insert("where".into(), place);
    Ok(json)
}

audit_core::declare_events! {
    #[events(templates = "tests/templates")]
    pub enum Upgraded {
        #[event(code = "thing_moved", label = "Thing moved", group = "Things", version = 2,
            template = "things/thing_added.html", upgrade(from = 1, json = moved_v1_to_v2))]
        ThingMoved { name: String, count: u32, to: String },
    }
}

#[test]
fn an_upgrade_that_produces_another_shape_makes_the_row_unknown() {
    match Upgraded::decode("thing_moved", 1, r#"{"name":"a","count":1,"place":"x"}"#) {
        Decoded::Unknown(u) => assert_eq!(
            u.reason,
            UnknownReason::MalformedPayload(
                "the upgrade to version 2 produced a payload that does not match it: missing field `to`"
                    .into()
            )
        ),
        Decoded::Known(event) => panic!("{event:?}"),
    }
    // The failing upgrade does not touch the current version.
    assert!(matches!(
        Upgraded::decode("thing_moved", 2, r#"{"name":"a","count":1,"to":"x"}"#),
        Decoded::Known(_)
    ));
}
