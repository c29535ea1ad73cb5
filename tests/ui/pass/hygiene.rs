//! The generated code does not depend on the caller's names: every prelude
//! item it could use is shadowed here.
#![allow(dead_code, non_camel_case_types)]

struct Result;
struct Ok;
struct Err;
struct Option;
struct Some;
struct None;
struct String;
struct Vec;
struct Box;
struct u32;
struct i64;
struct bool;
struct From;
struct Into;
struct Clone;
struct Debug;
struct PartialEq;
mod serde {}
mod sqlx {}
mod askama {}
mod core {}
mod std {}

audit_core::declare_events! {
    #[events(templates = "templates/catalog")]
    enum Shadowed {
        #[event(code = "maintenance", label = "Maintenance", group = "System")]
        Maintenance,
        #[event(code = "note", label = "Note", group = "System", template = "system/maintenance.html")]
        Note { text: ::std::string::String },
    }
}

fn main() {
    let event = Shadowed::from(Note { text: "x".into() });
    assert_eq!(event.event_type().code(), "note");
}
