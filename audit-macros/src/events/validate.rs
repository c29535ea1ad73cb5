//! Validation: the rules a parsed catalog must follow (G1 in ARCHITECTURE.md).

use std::collections::BTreeMap;

use super::model::{Catalog, Event, Marker, RESERVED_VIEW_FIELD};
use crate::diagnostics::Diagnostics;
use crate::naming::slug;

/// Longest accepted event code; codes are stored in an indexed column.
pub const MAX_CODE_LEN: usize = 64;

/// Checks the whole catalog, reporting every violation.
pub fn validate(catalog: &Catalog, diag: &mut Diagnostics) {
    let mut codes: BTreeMap<&str, &Event> = BTreeMap::new();
    let mut variants: BTreeMap<String, &Event> = BTreeMap::new();
    for event in &catalog.events {
        if let Err(reason) = check_code(&event.code.value) {
            diag.error(
                event.code.span,
                format!(
                    "invalid event code `{}`: {reason}. Codes are lowercase snake case: a letter, \
                     then letters `a-z`, digits and single underscores, at most {MAX_CODE_LEN} \
                     characters (for example `project_member_added`)",
                    event.code.value
                ),
            );
        } else if let Some(first) = codes.insert(&event.code.value, event) {
            codes.insert(&first.code.value, first);
            diag.error(
                event.code.span,
                format!(
                    "duplicate event code `{}`: it is already the code of `{}`; codes identify \
                     stored events and must be unique",
                    event.code.value, first.ident
                ),
            );
        }
        if let Some(first) = variants.insert(event.ident.to_string(), event) {
            variants.insert(first.ident.to_string(), first);
            diag.error(
                event.ident.span(),
                format!(
                    "event `{}` is declared twice in catalog `{}`",
                    event.ident, catalog.ident
                ),
            );
        }
        check_event(event, diag);
    }
    check_generated_names(catalog, diag);
}

/// The macro generates `<Catalog>Type` and `<Event>View`; an event named like
/// one of them (or like the catalog) would collide with it.
fn check_generated_names(catalog: &Catalog, diag: &mut Diagnostics) {
    let generated: BTreeMap<String, String> = generated_items(catalog)
        .into_iter()
        .map(|(name, what)| (name.to_string(), what))
        .collect();
    for event in &catalog.events {
        if let Some(what) = generated.get(&event.ident.to_string()) {
            diag.error(
                event.ident.span(),
                format!(
                    "event `{}` would collide with {what}, which the macro generates; rename the event",
                    event.ident
                ),
            );
        }
    }
}

/// Every item the expansion generates besides the events' payload structs.
fn generated_items(catalog: &Catalog) -> Vec<(syn::Ident, String)> {
    let mut items = catalog.generated_names();
    items.extend(catalog.events.iter().map(|event| {
        (
            event.view_ident(),
            format!("the template view of event `{}`", event.ident),
        )
    }));
    items
}

/// Whether two generated items would share a name (validation reports why).
pub fn has_duplicate_names(catalog: &Catalog) -> bool {
    let mut seen = std::collections::BTreeSet::new();
    let events = catalog.events.iter().map(|e| e.ident.to_string());
    let generated = generated_items(catalog)
        .into_iter()
        .map(|(name, _)| name.to_string());
    events.chain(generated).any(|name| !seen.insert(name))
}

/// The rule for event codes; `Err` holds why `code` breaks it.
pub fn check_code(code: &str) -> Result<(), &'static str> {
    let bytes = code.as_bytes();
    match bytes.first() {
        None => return Err("it is empty"),
        Some(b) if !b.is_ascii_lowercase() => return Err("it must start with a lowercase letter"),
        Some(_) => {}
    }
    if code.len() > MAX_CODE_LEN {
        return Err("it is too long");
    }
    if let Some(c) = code
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        return Err(if c.is_ascii_uppercase() {
            "it contains an uppercase letter"
        } else {
            "it contains a character other than `a-z`, `0-9` and `_`"
        });
    }
    if code.contains("__") || code.ends_with('_') {
        return Err("underscores must separate words");
    }
    Ok(())
}

fn check_event(event: &Event, diag: &mut Diagnostics) {
    if event.label.value.trim().is_empty() {
        diag.error(event.label.span, "an event label cannot be empty");
    }
    if slug(&event.group.value).is_empty() {
        diag.error(
            event.group.span,
            "an event group needs at least one letter or digit: it names the group in filters \
             and the directory of the group's templates",
        );
    }
    if event.version.value == 0 {
        diag.error(event.version.span, "payload versions start at 1");
    }
    for field in &event.fields {
        if field.ident == RESERVED_VIEW_FIELD {
            diag.error(
                field.ident.span(),
                format!(
                    "`{RESERVED_VIEW_FIELD}` is reserved: templates reach the raw payload under \
                     that name. Rename this field (`#[serde(rename = \"{RESERVED_VIEW_FIELD}\")]` \
                     keeps the stored name)"
                ),
            );
        }
    }
    for marker in Marker::ALL {
        let mut marked = event.fields.iter().flat_map(|field| {
            field
                .markers
                .iter()
                .filter(move |m| m.value == marker)
                .map(move |m| (field, m))
        });
        let Some((first, _)) = marked.next() else {
            continue;
        };
        for (field, m) in marked {
            let name = marker.name();
            let message = if field.ident == first.ident {
                format!("field `{}` is marked `#[{name}]` twice", field.ident)
            } else {
                format!(
                    "event `{}` has two `#[{name}]` fields, `{}` and `{}`: an event has at most \
                     one {name}",
                    event.ident, first.ident, field.ident
                )
            };
            diag.error(m.span, message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::parse::parse_catalog;
    use syn::{ItemEnum, parse_quote};

    fn errors_of(item: ItemEnum) -> Vec<String> {
        let mut diag = Diagnostics::default();
        let catalog = parse_catalog(item, &mut diag);
        assert!(diag.is_empty(), "parse errors: {:?}", diag.messages());
        validate(&catalog, &mut diag);
        diag.messages()
    }

    #[test]
    fn code_rule() {
        assert!(check_code("project_member_added").is_ok());
        assert!(check_code("v2_event").is_ok());
        assert_eq!(check_code(""), Err("it is empty"));
        assert_eq!(
            check_code("2fa"),
            Err("it must start with a lowercase letter")
        );
        assert_eq!(
            check_code("Project"),
            Err("it must start with a lowercase letter")
        );
        assert_eq!(
            check_code("projectCreated"),
            Err("it contains an uppercase letter")
        );
        assert!(check_code("project-created").is_err());
        assert!(check_code("project created").is_err());
        assert!(check_code("projet_créé").is_err());
        assert_eq!(check_code("a__b"), Err("underscores must separate words"));
        assert_eq!(check_code("a_"), Err("underscores must separate words"));
        assert!(check_code(&"a".repeat(MAX_CODE_LEN)).is_ok());
        assert_eq!(
            check_code(&"a".repeat(MAX_CODE_LEN + 1)),
            Err("it is too long")
        );
    }

    #[test]
    fn a_valid_catalog_has_no_errors() {
        let errors = errors_of(parse_quote! {
            enum E {
                #[event(code = "a", label = "A", group = "G")]
                A { #[target] #[parent] p: P, #[subject] u: U },
                #[event(code = "b", label = "B", group = "G", version = 3)]
                B,
            }
        });
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn duplicates_are_reported_once_each() {
        let errors = errors_of(parse_quote! {
            enum E {
                #[event(code = "same", label = "A", group = "G")] A,
                #[event(code = "same", label = "B", group = "G")] B,
                #[event(code = "c", label = "A2", group = "G")] A,
            }
        });
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("duplicate event code `same`: it is already the code of `A`"));
        assert!(errors[1].contains("event `A` is declared twice"));
    }

    #[test]
    fn names_that_collide_with_generated_items_are_reported() {
        let errors = errors_of(parse_quote! {
            enum E {
                #[event(code = "a", label = "A", group = "G")] A,
                #[event(code = "b", label = "B", group = "G")] AView,
                #[event(code = "c", label = "C", group = "G")] EType,
            }
        });
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("`AView` would collide with the template view of event `A`"));
        assert!(errors[1].contains("`EType` would collide with the event-type enum of `E`"));
    }

    #[test]
    fn every_broken_rule_is_reported() {
        let errors = errors_of(parse_quote! {
            enum E {
                #[event(code = "Bad Code", label = " ", group = "!!", version = 0)]
                A {
                    #[target] a: P,
                    #[target] #[subject] b: P,
                    #[subject] #[parent] #[parent] payload: U,
                },
            }
        });
        let all = errors.join("\n");
        for expected in [
            "invalid event code `Bad Code`",
            "label cannot be empty",
            "group needs at least one letter",
            "payload versions start at 1",
            "`payload` is reserved",
            "two `#[target]` fields, `a` and `b`",
            "two `#[subject]` fields, `b` and `payload`",
            "field `payload` is marked `#[parent]` twice",
        ] {
            assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
        }
        assert_eq!(errors.len(), 8, "{all}");
    }
}
