//! Whole expansions: both ways of writing a catalog, and properties of the generated code.

use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

use super::lock::LockMode;
use super::template::TemplateRoots;
use super::{Environment, expand_attribute_with, expand_with};

/// A template root holding `t/g/a.html` and `t/g/b.html`, removed on drop.
struct Templates(PathBuf);

impl Templates {
    fn new(name: &str) -> Self {
        let root = std::env::temp_dir().join(format!("audit-macros-{name}-{}", std::process::id()));
        std::fs::create_dir_all(root.join("t/g")).expect("temp dir is writable");
        std::fs::write(root.join("t/g/a.html"), "a {{ name }}").expect("temp dir is writable");
        std::fs::write(root.join("t/g/b.html"), "b").expect("temp dir is writable");
        Templates(root)
    }

    fn roots(&self) -> Environment {
        Environment {
            roots: TemplateRoots::new(vec![self.0.clone()]),
            lock_mode: LockMode::Check,
            creates_default_lock: true,
        }
    }
}

impl Drop for Templates {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn events() -> TokenStream {
    quote! {
        #[event(code = "a", label = "A", group = "G")]
        A { #[target] name: String, maybe: Option<u32>, #[serde(with = "m")] custom: Time },
        #[event(code = "b", label = "B", group = "G", version = 2)]
        B,
    }
}

#[test]
fn both_forms_generate_the_same_code_and_the_same_errors() {
    let templates = Templates::new("forms");
    for (args, body) in [
        (quote!(templates = "t", crate = ::audit), events()),
        // With errors: a duplicate code and an unknown key.
        (
            quote!(templates = "t"),
            quote! {
                #[event(code = "a", label = "A", group = "G")] A,
                #[event(code = "a", label = "B", group = "G", colour = "red")] B,
            },
        ),
    ] {
        let from_macro = expand_with(
            quote!(/// Docs.
                #[events(#args)] pub enum E { #body }),
            &templates.roots(),
        );
        let from_attribute = expand_attribute_with(
            args,
            quote!(/// Docs.
                pub enum E { #body }),
            &templates.roots(),
        );
        assert_eq!(from_macro.to_string(), from_attribute.to_string());
    }
}

#[test]
fn a_renamed_runtime_is_the_only_path_used() {
    let templates = Templates::new("renamed");
    let args = quote!(templates = "t", crate = ::audit);
    let body = events();
    let out = expand_attribute_with(args, quote!(pub enum E { #body }), &templates.roots());
    let text = out.to_string();
    assert!(!text.contains("compile_error"), "{text}");
    assert!(!text.contains("audit_core"), "{text}");
    assert!(text.contains(":: audit :: __private"));
    assert!(text.contains("\"::audit::__private::serde\""));
}

#[test]
fn every_trait_impl_is_automatically_derived() {
    let templates = Templates::new("derived");
    let body = events();
    let out = expand_attribute_with(
        quote!(templates = "t"),
        quote!(pub enum E { #body }),
        &templates.roots(),
    );
    let file: syn::File = syn::parse2(out).expect("the expansion is valid Rust");
    let mut trait_impls = 0;
    for item in &file.items {
        if let syn::Item::Impl(imp) = item
            && imp.trait_.is_some()
        {
            trait_impls += 1;
            assert!(
                imp.attrs
                    .iter()
                    .any(|a| a.path().is_ident("automatically_derived")),
                "not marked: {}",
                quote!(#imp)
            );
        }
    }
    assert!(trait_impls >= 10, "{trait_impls}");
}

#[test]
fn plain_fields_go_through_checked_helpers_and_custom_ones_are_left_to_serde() {
    let templates = Templates::new("helpers");
    let body = events();
    let out = expand_attribute_with(
        quote!(templates = "t"),
        quote!(pub enum E { #body }),
        &templates.roots(),
    );
    let file: syn::File = syn::parse2(out).expect("the expansion is valid Rust");
    let payload = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Struct(s) if s.ident == "A" => Some(s),
            _ => None,
        })
        .expect("the payload struct is generated");
    let serde_of = |name: &str| -> String {
        let field = payload
            .fields
            .iter()
            .find(|f| f.ident.as_ref().is_some_and(|i| i == name))
            .expect("field exists");
        field
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("serde"))
            .map(|a| quote!(#a).to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(serde_of("name").contains("serialize_with = \"A::__audit_serialize_name\""));
    assert!(!serde_of("name").contains("default"));
    assert!(
        serde_of("maybe").contains("default"),
        "an Option may be absent"
    );
    assert_eq!(serde_of("custom"), "# [serde (with = \"m\")]");
    let checks: Vec<String> = file
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Const(c) if quote!(#c).to_string().contains("PayloadField") => {
                Some(quote!(#c).to_string())
            }
            _ => None,
        })
        .collect();
    assert_eq!(checks.len(), 2, "one check per plain field: {checks:?}");
}

#[test]
fn a_broken_variant_still_generates_the_catalog() {
    let templates = Templates::new("broken");
    let out = expand_with(
        quote! {
            #[events(templates = "t")]
            pub enum E {
                #[event(code = "a", label = "A", group = "G")] A { name: String },
                #[event(code = "b", label = "B", group = "G")] B { x: },
            }
        },
        &templates.roots(),
    );
    let text = out.to_string();
    assert_eq!(text.matches("compile_error").count(), 1, "{text}");
    let file: syn::File = syn::parse2(out).expect("the expansion is valid Rust");
    let structs: Vec<String> = file
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(s) => Some(s.ident.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(structs, ["A", "B", "AView", "BView"]);
}

#[test]
fn personal_fields_are_listed_by_stored_name_documented_and_read_through_erased() {
    let templates = Templates::new("personal");
    let out = expand_attribute_with(
        quote!(templates = "t", classify_personal),
        quote!(
            pub enum E {
                #[event(code = "a", label = "A", group = "G")]
                A {
                    /// Who.
                    #[personal]
                    #[serde(rename = "who")]
                    name: String,
                    #[not_personal]
                    count: u32,
                    #[personal]
                    r#type: Option<String>,
                },
                #[event(code = "b", label = "B", group = "G")]
                B,
            }
        ),
        &templates.roots(),
    );
    let file: syn::File = syn::parse2(out).expect("the expansion is valid Rust");
    let text = quote!(#file).to_string();
    assert!(!text.contains("compile_error"), "{text}");
    let type_impl = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Impl(imp)
                if imp.trait_.is_none()
                    && matches!(&*imp.self_ty, syn::Type::Path(p) if p.path.is_ident("EType")) =>
            {
                Some(quote!(#imp).to_string())
            }
            _ => None,
        })
        .expect("the event-type enum's inherent impl");
    assert!(
        type_impl.contains(
            "pub const fn personal_fields (self) -> & 'static [& 'static :: core :: primitive :: str] \
             { match self { Self :: A => & [\"who\" , \"type\"] , Self :: B => & [] , } }"
        ),
        "{type_impl}"
    );
    assert!(
        text.contains("fn personal_fields (self)"),
        "the trait method is implemented"
    );
    let payload = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Struct(s) if s.ident == "A" => Some(s),
            _ => None,
        })
        .expect("the payload struct is generated");
    let docs = |name: &str| -> Vec<String> {
        let field = payload
            .fields
            .iter()
            .find(|f| f.ident.as_ref().is_some_and(|i| i == name))
            .expect("field exists");
        field
            .attrs
            .iter()
            .filter_map(|a| match &a.meta {
                syn::Meta::NameValue(nv) if nv.path.is_ident("doc") => match &nv.value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => Some(s.value()),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    };
    assert_eq!(
        docs("name"),
        [
            " Who.",
            "",
            " Personal: erased with the person it is about."
        ]
    );
    assert_eq!(docs("count"), ["The `count` of the event."]);
    assert_eq!(
        docs("r#type").last().map(String::as_str),
        Some(" Personal: erased with the person it is about.")
    );
    // Only personal fields read `null` as erased, and only theirs are checked.
    assert_eq!(text.matches(". erased_field ()").count(), 2, "{text}");
    assert_eq!(text.matches(":: Erasable > :: erased").count(), 2, "{text}");
}

#[test]
fn a_raw_identifier_field_gets_valid_helper_names() {
    let templates = Templates::new("raw");
    let out = expand_attribute_with(
        quote!(templates = "t"),
        quote! {
            pub enum E {
                #[event(code = "b", label = "B", group = "G")]
                B { r#type: String },
            }
        },
        &templates.roots(),
    );
    let text = out.to_string();
    assert!(!text.contains("compile_error"), "{text}");
    assert!(text.contains("fn __audit_serialize_type"), "{text}");
    assert!(text.contains("\"B::__audit_deserialize_type\""), "{text}");
    syn::parse2::<syn::File>(out).expect("the expansion is valid Rust");
}

#[test]
fn the_attribute_on_something_else_than_an_enum_says_where_it_goes() {
    let templates = Templates::new("not-enum");
    let text = expand_attribute_with(
        quote!(),
        quote!(
            pub struct S;
        ),
        &templates.roots(),
    )
    .to_string();
    assert!(text.contains("`#[events(...)]` goes on one enum"), "{text}");
    let text = expand_with(
        quote!(
            pub struct S;
        ),
        &templates.roots(),
    )
    .to_string();
    assert!(
        text.contains("`declare_events!` expects one enum"),
        "{text}"
    );
}

impl Templates {
    fn with_mode(&self, lock_mode: LockMode) -> Environment {
        Environment {
            roots: TemplateRoots::new(vec![self.0.clone()]),
            lock_mode,
            creates_default_lock: true,
        }
    }
}

/// The compile errors' messages in an expansion.
fn compile_errors(out: &TokenStream) -> Vec<String> {
    let file: syn::File = syn::parse2(out.clone()).expect("the expansion is valid Rust");
    file.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Macro(m)
                if m.mac
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "compile_error") =>
            {
                Some(
                    syn::parse2::<syn::LitStr>(m.mac.tokens.clone())
                        .ok()?
                        .value(),
                )
            }
            _ => None,
        })
        .collect()
}

#[test]
fn the_lock_is_written_only_through_the_explicit_step_and_tracked() {
    let templates = Templates::new("lock");
    let lock_path = templates.0.join("locks/e.lock");
    let catalog = |extra: TokenStream| {
        quote! {
            pub enum E {
                #[event(code = "a", label = "A", group = "G")]
                A { name: String },
                #extra
            }
        }
    };
    let args = quote!(templates = "t", lock = "locks/e.lock");

    // Missing: an error naming the step, and nothing written.
    let out = expand_attribute_with(
        args.clone(),
        catalog(quote!()),
        &templates.with_mode(LockMode::Check),
    );
    let errors = compile_errors(&out);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("lock file `locks/e.lock` not found; looked for `"),
        "{errors:?}"
    );
    assert!(errors[0].ends_with(
        "Create it from the catalog with `AUDIT_LOCK=update cargo build` and commit it"
    ));
    assert!(!lock_path.exists());

    // The explicit step makes it, and the expansion includes it.
    let out = expand_attribute_with(
        args.clone(),
        catalog(quote!()),
        &templates.with_mode(LockMode::Update),
    );
    assert!(compile_errors(&out).is_empty());
    let written = std::fs::read_to_string(&lock_path).expect("the lock was written");
    assert!(
        written.contains("catalog = \"E\"\n\n[events.a]\nv1 = [\n    \"name: String\",\n]\n"),
        "{written}"
    );
    let text = out.to_string();
    assert!(text.contains("include_bytes !"), "{text}");
    assert!(text.contains("option_env ! (\"AUDIT_LOCK\")"), "{text}");

    // A new event is an error until updated; the update adds it and keeps the rest.
    let b = quote!(
        #[event(code = "b", label = "B", group = "G")]
        B,
    );
    let out = expand_attribute_with(
        args.clone(),
        catalog(b.clone()),
        &templates.with_mode(LockMode::Check),
    );
    let errors = compile_errors(&out);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("event `b` is new: `locks/e.lock` does not record it yet"));
    assert_eq!(
        std::fs::read_to_string(&lock_path).unwrap(),
        written,
        "a check writes nothing"
    );
    let out = expand_attribute_with(
        args.clone(),
        catalog(b.clone()),
        &templates.with_mode(LockMode::Update),
    );
    assert!(compile_errors(&out).is_empty());
    let updated = std::fs::read_to_string(&lock_path).unwrap();
    assert!(
        updated.starts_with(&written) && updated.ends_with("\n[events.b]\nv1 = []\n"),
        "{updated}"
    );

    // An error elsewhere in the catalog: nothing is written.
    let bad = quote!(
        #[event(code = "Bad", label = "C", group = "G")]
        C,
    );
    let _ = expand_attribute_with(
        args.clone(),
        catalog(quote!(#b #bad)),
        &templates.with_mode(LockMode::Update),
    );
    assert_eq!(std::fs::read_to_string(&lock_path).unwrap(), updated);

    // Overwrite drops a code that is gone.
    let out = expand_attribute_with(
        args.clone(),
        catalog(quote!()),
        &templates.with_mode(LockMode::Overwrite),
    );
    assert!(compile_errors(&out).is_empty());
    assert_eq!(std::fs::read_to_string(&lock_path).unwrap(), written);

    // An unknown value of the variable is an error on the lock argument.
    let out = expand_attribute_with(
        args,
        catalog(quote!()),
        &templates.with_mode(LockMode::Invalid("yes".into())),
    );
    let errors = compile_errors(&out);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("`AUDIT_LOCK` is `yes`: set it to `update`"),
        "{errors:?}"
    );
}

#[test]
fn the_default_lock_is_checked_when_it_exists() {
    let templates = Templates::new("default-lock");
    let body = quote! {
        pub enum E {
            #[event(code = "a", label = "A", group = "G")]
            A { name: String },
        }
    };
    // No file: no check and nothing written.
    let out = expand_attribute_with(
        quote!(templates = "t"),
        body.clone(),
        &templates.with_mode(LockMode::Check),
    );
    assert!(compile_errors(&out).is_empty());
    assert!(!out.to_string().contains("include_bytes"));
    assert!(!templates.0.join("audit-events.lock").exists());
    // The explicit step makes it, except in a test or bench crate.
    let mut in_a_test = templates.with_mode(LockMode::Update);
    in_a_test.creates_default_lock = false;
    let out = expand_attribute_with(quote!(templates = "t"), body.clone(), &in_a_test);
    assert!(compile_errors(&out).is_empty());
    assert!(!templates.0.join("audit-events.lock").exists());
    let out = expand_attribute_with(
        quote!(templates = "t"),
        body.clone(),
        &templates.with_mode(LockMode::Update),
    );
    assert!(compile_errors(&out).is_empty());
    assert!(templates.0.join("audit-events.lock").exists());
    // A file of other shapes: checked.
    std::fs::write(
        templates.0.join("audit-events.lock"),
        "format = 1\ncatalog = \"E\"\n\n[events.a]\nv1 = [\"name: u32\"]\n",
    )
    .unwrap();
    let out = expand_attribute_with(
        quote!(templates = "t"),
        body.clone(),
        &templates.with_mode(LockMode::Check),
    );
    let errors = compile_errors(&out);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with(
        "the payload of event `a` changed, but its version did not: `audit-events.lock` records \
         version 1 as { name: u32 }, and the catalog now declares { name: String }"
    ));
    // A file that cannot be read: one error with the line.
    std::fs::write(
        templates.0.join("audit-events.lock"),
        "format = 1\ncatalog = \"E\"\nv1 = []\n",
    )
    .unwrap();
    let out = expand_attribute_with(
        quote!(templates = "t"),
        body,
        &templates.with_mode(LockMode::Check),
    );
    assert_eq!(
        compile_errors(&out),
        [
            "cannot read the lock file `audit-events.lock`: line 3: unknown key `v1`. Fix it, or \
          rewrite it from the catalog with `AUDIT_LOCK=overwrite cargo build` (which forgets the \
          fields of versions older than the current ones)"
        ]
    );
}

#[test]
fn decoding_walks_the_upgrades_spanned_on_each_function() {
    let templates = Templates::new("upgrades");
    let out = expand_attribute_with(
        quote!(templates = "t"),
        quote! {
            pub enum E {
                #[event(code = "a", label = "A", group = "G", version = 4,
                    upgrade(from = 1, with = v1::up), upgrade(from = 2, json = v2_up), upgrade(from = 3, with = v3_up))]
                A { name: String },
                #[event(code = "b", label = "B", group = "G", retired)]
                B,
            }
        },
        &templates.roots(),
    );
    assert!(compile_errors(&out).is_empty());
    let text = out.to_string();
    // From version 1: typed, then JSON (the typed result turned into JSON), then typed again.
    assert!(text.contains(
        "1u32 => { let __upgraded = :: audit_core :: __private :: read_payload (payload) ? ; \
         let __upgraded = v1 :: up (__upgraded) ; \
         let __upgraded = :: audit_core :: __private :: to_json (& __upgraded , 2u32) ? ; \
         let __upgraded = :: audit_core :: __private :: upgrade_json (v2_up , __upgraded , 2u32) ? ; \
         let __upgraded = :: audit_core :: __private :: from_json (__upgraded , 3u32) ? ; \
         let __upgraded = v3_up (__upgraded) ; { let current : A = __upgraded ; current } }"
    ), "{text}");
    assert!(
        text.contains("payload_version (version , 4u32 , 1u32)"),
        "{text}"
    );
    // A retired event is an `Event` (it decodes) but not an `ActiveEvent`.
    assert!(text.contains("ActiveEvent for A"), "{text}");
    assert!(!text.contains("ActiveEvent for B"), "{text}");
    assert!(text.contains(":: Event for B"), "{text}");
    assert!(
        text.contains("pub const ACTIVE : & 'static [Self] = & [Self :: A] ;"),
        "{text}"
    );
}
