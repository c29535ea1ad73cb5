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
    #[events(templates = "templates/catalog", classify_personal)]
    enum Shadowed {
        #[event(code = "maintenance", label = "Maintenance", group = "System")]
        Maintenance,
        #[event(code = "note", label = "Note", group = "System", template = "system/maintenance.html")]
        Note {
            #[not_personal] text: ::std::string::String,
            #[personal] author: ::std::string::String,
            #[personal] editor: ::std::option::Option<::std::string::String>,
        },
    }
}

fn main() {
    let event = Shadowed::from(Note { text: "x".into(), author: "a".into(), editor: ::std::option::Option::None });
    assert_eq!(event.event_type().code(), "note");
    let erased = r#"{"text":"x","author":null,"editor":null}"#;
    let decoded = <Shadowed as ::audit_core::events::EventCatalog>::decode("note", 1, erased);
    let ::audit_core::events::Decoded::Known(Shadowed::Note(note)) = decoded else { ::std::panic!("{decoded:?}") };
    assert_eq!(note.author, ::audit_core::events::ERASED_TEXT);
}
