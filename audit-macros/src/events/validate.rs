//! Validation: the rules a parsed catalog must follow (G1 in ARCHITECTURE.md).

use std::collections::BTreeMap;

use super::model::{Catalog, Classification, Event, FieldSerde, Marker, RESERVED_VIEW_FIELD};
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
        check_classification(catalog, event, diag);
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
    } else {
        check_upgrades(event, diag);
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

/// `#[personal]` and `#[not_personal]`: at most one per field; one on every
/// field when the catalog asks for `classify_personal`; and a personal field
/// read back through the macro's own code, which reads an erased value.
fn check_classification(catalog: &Catalog, event: &Event, diag: &mut Diagnostics) {
    for field in &event.fields {
        let mut marks = field.classification.iter();
        let Some(first) = marks.next() else {
            if catalog.classify_personal.is_some() {
                diag.error(
                    field.ident.span(),
                    format!(
                        "field `{}` of `{}` is not classified: mark it `#[personal]` (erased with \
                         the person it is about) or `#[not_personal]` (this catalog asks for \
                         `classify_personal`)",
                        field.ident, event.ident
                    ),
                );
            }
            continue;
        };
        for mark in marks {
            let message = if mark.value == first.value {
                format!(
                    "field `{}` is marked `#[{}]` twice",
                    field.ident,
                    mark.value.name()
                )
            } else {
                format!(
                    "field `{}` cannot be both `#[{}]` and `#[{}]`: keep the one that is true",
                    field.ident,
                    first.value.name(),
                    mark.value.name()
                )
            };
            diag.error(mark.span, message);
        }
        if first.value == Classification::Personal && field.serde == FieldSerde::Custom {
            diag.error(
                first.span,
                format!(
                    "`#[personal]` field `{}` has its own `#[serde(...)]` (de)serialization: an \
                     erased personal value is stored as `null` and read back as its type's \
                     `Erasable::erased()` by the catalog's own code, which such a field bypasses. \
                     Keep only `rename`, `alias`, `default` or `skip_serializing_if` in its \
                     `#[serde(...)]`",
                    field.ident
                ),
            );
        }
    }
}

/// Upgrades read older versions, one each, in a chain that ends at the
/// current version: from the oldest declared, every version up to the
/// current one has exactly one step.
fn check_upgrades(event: &Event, diag: &mut Diagnostics) {
    let current = event.version.value;
    let mut steps: BTreeMap<u32, &super::model::Upgrade> = BTreeMap::new();
    for upgrade in &event.upgrades {
        let from = upgrade.from.value;
        if from == 0 {
            diag.error(
                upgrade.from.span,
                "payload versions start at 1: there is no version 0 to upgrade from",
            );
        } else if from >= current && current == 1 {
            diag.error(
                upgrade.from.span,
                format!(
                    "event `{}` is at version 1 (the default), so it has no older version to \
                     upgrade from: set its new version, `version = {}`",
                    event.ident,
                    from.saturating_add(1)
                ),
            );
        } else if from >= current {
            diag.error(
                upgrade.from.span,
                format!(
                    "`from = {from}` is not older than the current version {current} of `{}`: an \
                     upgrade reads an older version and produces the next one, so `from` is at \
                     most {}",
                    event.ident,
                    current - 1
                ),
            );
        } else if steps.insert(from, upgrade).is_some() {
            diag.error(
                upgrade.from.span,
                format!(
                    "event `{}` has two upgrades from version {from}: keep one",
                    event.ident
                ),
            );
        }
    }
    // Every version from the oldest step up to the current one needs its step.
    let Some((&oldest, _)) = steps.first_key_value() else {
        return;
    };
    let mut version = oldest;
    while version < current {
        if steps.contains_key(&version) {
            version += 1;
            continue;
        }
        let before = steps[&(version - 1)];
        let gap_end = (version..current)
            .find(|v| steps.contains_key(v))
            .unwrap_or(current);
        let missing: Vec<String> = (version..gap_end)
            .map(|v| format!("`upgrade(from = {v}, with = ..)`"))
            .collect();
        let (skipped, what) = if gap_end - version == 1 {
            (
                format!("version {version}"),
                format!("nothing upgrades version {version} to {}", version + 1),
            )
        } else {
            let range = format!("versions {version} to {}", gap_end - 1);
            (range.clone(), format!("nothing upgrades {range}"))
        };
        diag.error(
            before.span,
            format!(
                "the upgrades of `{}` skip {skipped}: {what}, so rows stored at version \
                 {version} or older cannot be read. Upgrades go one version at a time: add {}",
                event.ident,
                missing.join(" and ")
            ),
        );
        version = gap_end;
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
    fn upgrades_form_a_chain_to_the_current_version() {
        let errors = errors_of(parse_quote! {
            enum E {
                #[event(code = "a", label = "A", group = "G", version = 3,
                    upgrade(from = 1, with = v1_to_v2), upgrade(from = 2, json = v2_to_v3))]
                A,
                // Dropping the oldest versions is allowed: version 1 rows read as unknown.
                #[event(code = "b", label = "B", group = "G", version = 3, upgrade(from = 2, with = up))]
                B,
                #[event(code = "c", label = "C", group = "G", version = 2)]
                C,
            }
        });
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn a_gap_in_the_upgrades_is_one_error_per_gap() {
        let errors = errors_of(parse_quote! {
            enum E {
                #[event(code = "a", label = "A", group = "G", version = 3, upgrade(from = 1, with = up))]
                A,
                #[event(code = "b", label = "B", group = "G", version = 7,
                    upgrade(from = 1, with = up), upgrade(from = 4, with = up), upgrade(from = 5, with = up))]
                B,
            }
        });
        assert_eq!(
            errors,
            [
                "the upgrades of `A` skip version 2: nothing upgrades version 2 to 3, so rows \
                 stored at version 2 or older cannot be read. Upgrades go one version at a time: \
                 add `upgrade(from = 2, with = ..)`",
                "the upgrades of `B` skip versions 2 to 3: nothing upgrades versions 2 to 3, so \
                 rows stored at version 2 or older cannot be read. Upgrades go one version at a \
                 time: add `upgrade(from = 2, with = ..)` and `upgrade(from = 3, with = ..)`",
                "the upgrades of `B` skip version 6: nothing upgrades version 6 to 7, so rows \
                 stored at version 6 or older cannot be read. Upgrades go one version at a time: \
                 add `upgrade(from = 6, with = ..)`",
            ]
        );
    }

    #[test]
    fn an_upgrade_reads_an_older_version_once() {
        let errors = errors_of(parse_quote! {
            enum E {
                #[event(code = "a", label = "A", group = "G", upgrade(from = 1, with = up))]
                A,
                #[event(code = "b", label = "B", group = "G", version = 2,
                    upgrade(from = 0, with = up), upgrade(from = 2, with = up),
                    upgrade(from = 1, with = up), upgrade(from = 1, json = up))]
                B,
            }
        });
        assert_eq!(
            errors,
            [
                "event `A` is at version 1 (the default), so it has no older version to upgrade \
                 from: set its new version, `version = 2`",
                "payload versions start at 1: there is no version 0 to upgrade from",
                "`from = 2` is not older than the current version 2 of `B`: an upgrade reads \
                 an older version and produces the next one, so `from` is at most 1",
                "event `B` has two upgrades from version 1: keep one",
            ]
        );
    }

    #[test]
    fn under_classify_personal_each_unclassified_field_is_one_error() {
        let errors = errors_of(parse_quote! {
            #[events(classify_personal)]
            enum E {
                #[event(code = "a", label = "A", group = "G")]
                A { #[subject] #[personal] user: U, #[not_personal] count: u32, note: String },
                #[event(code = "b", label = "B", group = "G")]
                B { #[target] thing: T, r#type: u32 },
                #[event(code = "c", label = "C", group = "G")]
                C,
            }
        });
        assert_eq!(
            errors,
            [
                "field `note` of `A` is not classified: mark it `#[personal]` (erased with the \
                 person it is about) or `#[not_personal]` (this catalog asks for \
                 `classify_personal`)",
                "field `thing` of `B` is not classified: mark it `#[personal]` (erased with the \
                 person it is about) or `#[not_personal]` (this catalog asks for \
                 `classify_personal`)",
                "field `r#type` of `B` is not classified: mark it `#[personal]` (erased with the \
                 person it is about) or `#[not_personal]` (this catalog asks for \
                 `classify_personal`)",
            ]
        );
    }

    #[test]
    fn without_classify_personal_fields_may_go_unclassified() {
        let errors = errors_of(parse_quote! {
            enum E {
                #[event(code = "a", label = "A", group = "G")]
                A { #[personal] user: U, count: u32 },
            }
        });
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn a_field_has_one_classification() {
        let errors = errors_of(parse_quote! {
            #[events(classify_personal)]
            enum E {
                #[event(code = "a", label = "A", group = "G")]
                A {
                    #[personal] #[not_personal] a: String,
                    #[not_personal] #[target] #[personal] b: T,
                    #[personal] #[personal] c: String,
                },
            }
        });
        assert_eq!(
            errors,
            [
                "field `a` cannot be both `#[personal]` and `#[not_personal]`: keep the one \
                 that is true",
                "field `b` cannot be both `#[not_personal]` and `#[personal]`: keep the one \
                 that is true",
                "field `c` is marked `#[personal]` twice",
            ]
        );
    }

    #[test]
    fn a_personal_field_is_read_back_by_the_catalog_s_own_code() {
        let errors = errors_of(parse_quote! {
            enum E {
                #[event(code = "a", label = "A", group = "G")]
                A {
                    #[personal] #[serde(rename = "n", default)] fine: String,
                    #[personal] #[serde(with = "m")] custom: Time,
                    #[not_personal] #[serde(flatten)] extra: Extra,
                },
            }
        });
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with(
                "`#[personal]` field `custom` has its own `#[serde(...)]` (de)serialization"
            ),
            "{errors:?}"
        );
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
