//! Whole expansions: both ways of writing a catalog, and properties of the generated code.

use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

use super::template::TemplateRoots;
use super::{expand_attribute_with, expand_with};

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

    fn roots(&self) -> TemplateRoots {
        TemplateRoots::new(vec![self.0.clone()])
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
