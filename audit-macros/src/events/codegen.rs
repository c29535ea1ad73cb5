//! Code generation: from a validated [`Catalog`] to Rust items.
//!
//! Every runtime item is named through `<runtime>::__private` (`::audit_core`
//! unless the catalog says `crate = path`), so the output does not depend on
//! the user's imports. Every trait impl is `#[automatically_derived]`, and
//! every public item is documented.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use super::model::{Catalog, Event, Field, FieldSerde, Marker, RESERVED_VIEW_FIELD};
use super::template::{ROOT_OVERRIDE_VAR, Template};

/// Generates the catalog. `templates[i]` is the template of `catalog.events[i]`,
/// `None` when it could not be found (the build fails with that error, and the
/// rest is generated so that no further errors cascade from it).
pub fn generate(catalog: &Catalog, templates: &[Option<Template>]) -> TokenStream {
    let payloads = catalog.events.iter().map(|e| payload_struct(catalog, e));
    let views = catalog
        .events
        .iter()
        .zip(templates)
        .map(|(e, t)| view_struct(catalog, e, t.as_ref()));
    let catalog_enum = catalog_enum(catalog, templates);
    let type_enum = type_enum(catalog);
    quote! {
        #(#payloads)*
        #catalog_enum
        #type_enum
        #(#views)*
        const _: ::core::option::Option<&::core::primitive::str> = ::core::option_env!(#ROOT_OVERRIDE_VAR);
    }
}

fn doc_or(docs: &[syn::Attribute], default: String) -> TokenStream {
    if docs.is_empty() {
        quote!(#[doc = #default])
    } else {
        quote!(#(#docs)*)
    }
}

fn payload_struct(catalog: &Catalog, event: &Event) -> TokenStream {
    let p = catalog.runtime.private();
    let vis = &catalog.vis;
    let ident = &event.ident;
    let docs = doc_or(
        &event.docs,
        format!("Payload of the `{}` event.", event.code.value),
    );
    let fields = event.fields.iter().map(|f| {
        let attrs = &f.forwarded_attrs;
        let has_doc = attrs.iter().any(|a| a.path().is_ident("doc"));
        // Spanned on the field's name: serde spans what it reports about a
        // field on the field's first token, which may be this attribute.
        let default_doc = (!has_doc).then(|| {
            let text = format!("The `{}` of the event.", f.ident);
            quote_spanned!(f.ident.span()=> #[doc = #text])
        });
        let personal_doc = f
            .is_personal()
            .then(|| quote!(#[doc = ""] #[doc = " Personal: erased with the person it is about."]));
        let through_helpers = field_serde_attr(event, f);
        let (fident, ty) = (&f.ident, &f.ty);
        quote!(#default_doc #(#attrs)* #personal_doc #through_helpers #vis #fident: #ty)
    });
    let helpers = field_serde_helpers(catalog, event);
    let type_ident = catalog.type_ident();
    let catalog_ident = &catalog.ident;
    let serde_crate = catalog.runtime.serde_crate();
    // Every payload is an `Event`; only the ones that are not retired are
    // `ActiveEvent`s, which a command may declare (and so emit).
    let active_impl = event.retired.is_none().then(|| {
        quote! {
            #[automatically_derived]
            impl #p::ActiveEvent for #ident {}
        }
    });
    let event_impl = {
        let references = references_expr(&p, event, quote!(self));
        quote! {
            #[automatically_derived]
            impl #p::Event for #ident {
                type Catalog = #catalog_ident;
                const TYPE: #type_ident = #type_ident::#ident;
                fn references(&self) -> #p::References {
                    #references
                }
            }
            #active_impl
        }
    };
    quote! {
        #docs
        #[derive(
            ::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq,
            #p::serde::Serialize, #p::serde::Deserialize,
        )]
        #[serde(crate = #serde_crate)]
        #vis struct #ident { #(#fields,)* }

        #helpers

        #[automatically_derived]
        impl ::core::convert::From<#ident> for #catalog_ident {
            fn from(payload: #ident) -> Self {
                #catalog_ident::#ident(payload)
            }
        }

        #event_impl
    }
}

/// The names of the functions a plain field is (de)serialized through.
fn field_helper_idents(field: &Field) -> (Ident, Ident) {
    let name = field.ident.unraw();
    (
        format_ident!("__audit_serialize_{}", name),
        format_ident!("__audit_deserialize_{}", name),
    )
}

/// `#[serde(serialize_with, deserialize_with)]` routing a plain field
/// through its generated functions (and `default` for an `Option`, which
/// serde's own code reads as `None` when the field is absent).
fn field_serde_attr(event: &Event, field: &Field) -> Option<TokenStream> {
    let FieldSerde::Plain { has_default } = field.serde else {
        return None;
    };
    let (ser, de) = field_helper_idents(field);
    let ser = format!("{}::{ser}", event.ident);
    let de = format!("{}::{de}", event.ident);
    let default = (!has_default && is_option(&field.ty)).then(|| quote!(default,));
    Some(quote!(#[serde(serialize_with = #ser, deserialize_with = #de, #default)]))
}

/// Whether `ty` is written `Option<..>` (with any path before it).
fn is_option(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "Option" && !s.arguments.is_empty()),
        syn::Type::Group(g) => is_option(&g.elem),
        syn::Type::Paren(p) => is_option(&p.elem),
        _ => false,
    }
}

/// For each plain field: a function serializing it and one deserializing it,
/// which compile whether or not the type implements serde, and one check,
/// spanned on the field's type, that it does. A type without serde support
/// is then one error on that type (with what to do), instead of serde's
/// errors inside its derived code.
fn field_serde_helpers(catalog: &Catalog, event: &Event) -> TokenStream {
    let p = catalog.runtime.private();
    let ident = &event.ident;
    let plain: Vec<&Field> = event
        .fields
        .iter()
        .filter(|f| matches!(f.serde, FieldSerde::Plain { .. }))
        .collect();
    if plain.is_empty() {
        return TokenStream::new();
    }
    let functions = plain.iter().map(|f| {
        let ty = &f.ty;
        let (ser, de) = field_helper_idents(f);
        // A personal field's erased value is stored as `null`, read back as
        // its type's `Erasable::erased()`; any other value as the type reads it.
        let deserialize = if f.is_personal() {
            quote! {
                #[allow(unused_imports)]
                use #p::{ErasableField as _, NotErasableField as _};
                let __stored: ::core::option::Option<#ty> =
                    (&#p::FieldProbe::<::core::option::Option<#ty>>::new())
                        .deserialize_field(deserializer)?;
                match __stored {
                    ::core::option::Option::Some(__value) => ::core::result::Result::Ok(__value),
                    ::core::option::Option::None => (&#p::FieldProbe::<#ty>::new()).erased_field(),
                }
            }
        } else {
            quote!((&#p::FieldProbe::<#ty>::new()).deserialize_field(deserializer))
        };
        quote! {
            #[doc(hidden)]
            #[allow(clippy::ptr_arg, clippy::trivially_copy_pass_by_ref)]
            fn #ser<__S: #p::serde::Serializer>(
                value: &#ty,
                serializer: __S,
            ) -> ::core::result::Result<__S::Ok, __S::Error> {
                #[allow(unused_imports)]
                use #p::{SerdeField as _, NotSerdeField as _};
                (&#p::FieldProbe::<#ty>::new()).serialize_field(value, serializer)
            }

            #[doc(hidden)]
            fn #de<'de, __D: #p::serde::Deserializer<'de>>(
                deserializer: __D,
            ) -> ::core::result::Result<#ty, __D::Error> {
                #[allow(unused_imports)]
                use #p::{SerdeField as _, NotSerdeField as _};
                #deserialize
            }
        }
    });
    let checks = plain.iter().map(|f| {
        let ty = &f.ty;
        // A personal field's type says what it reads back as once erased.
        let erasable = f.is_personal().then(|| {
            quote_spanned! {ty.span()=>
                const _: fn() -> #ty = <#ty as #p::Erasable>::erased;
            }
        });
        quote_spanned! {ty.span()=>
            const _: () = <#ty as #p::PayloadField>::CHECKED;
            #erasable
        }
    });
    quote! {
        impl #ident { #(#functions)* }
        #(#checks)*
    }
}

/// `References { target: .., parent: .., subject: .. }` for a payload reached by `this`.
fn references_expr(p: &TokenStream, event: &Event, this: TokenStream) -> TokenStream {
    let slots = Marker::ALL.map(|marker| {
        let slot = format_ident!("{}", marker.name());
        match event.field_with(marker) {
            Some(Field { ident, ty, .. }) => {
                let value = quote_spanned! {syn::spanned::Spanned::span(ty)=>
                    <#ty as #p::Reference>::entity_ref(&#this.#ident)
                };
                quote!(#slot: ::core::option::Option::Some(#value))
            }
            None => quote!(#slot: ::core::option::Option::None),
        }
    });
    quote!(#p::References { #(#slots),* })
}

fn catalog_enum(catalog: &Catalog, templates: &[Option<Template>]) -> TokenStream {
    let p = catalog.runtime.private();
    let vis = &catalog.vis;
    let ident = &catalog.ident;
    let name = ident.to_string();
    let type_ident = catalog.type_ident();
    let docs = doc_or(&catalog.docs, format!("Audit events of `{name}`."));
    let serde_crate = catalog.runtime.serde_crate();
    let variants = catalog.events.iter().map(|e| {
        let (v, code) = (&e.ident, &e.code.value);
        let doc = doc_or(&e.docs, format!("The `{code}` event."));
        quote!(#doc #[serde(rename = #code)] #v(#v))
    });
    let idents: Vec<&Ident> = catalog.events.iter().map(|e| &e.ident).collect();
    let render_arms = catalog
        .events
        .iter()
        .zip(templates)
        .map(|(e, t)| render_arm(&p, e, t.is_some()));
    let references = catalog
        .events
        .iter()
        .map(|e| references_expr(&p, e, quote!(payload)));
    let decode_arms = catalog.events.iter().map(|e| decode_arm(catalog, e));
    quote! {
        #docs
        #[derive(
            ::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq,
            #p::serde::Serialize, #p::serde::Deserialize,
        )]
        #[serde(crate = #serde_crate, tag = "type", content = "payload")]
        // Events of one kind share a word (`ProjectCreated`, `ProjectRenamed`).
        #[allow(clippy::enum_variant_names)]
        #vis enum #ident { #(#variants,)* }

        impl #ident {
            /// Which event this is.
            pub fn event_type(&self) -> #type_ident {
                match self { #(Self::#idents(_) => #type_ident::#idents,)* }
            }

            /// The references this event's `#[target]`, `#[parent]` and `#[subject]` fields make.
            pub fn references(&self) -> #p::References {
                match self { #(Self::#idents(payload) => #references,)* }
            }

            /// Renders the event through its presenter and template (HTML-escaped).
            pub fn render(
                &self,
                cx: &#p::PresentContext,
            ) -> ::core::result::Result<::std::string::String, #p::RenderError> {
                match self { #(#render_arms)* }
            }
        }

        #[automatically_derived]
        impl #p::EventCatalog for #ident {
            type Type = #type_ident;
            const NAME: &'static ::core::primitive::str = #name;

            fn event_type(&self) -> #type_ident {
                #ident::event_type(self)
            }

            fn payload_json(
                &self,
            ) -> ::core::result::Result<::std::string::String, #p::serde_json::Error> {
                match self { #(Self::#idents(payload) => #p::serde_json::to_string(payload),)* }
            }

            fn references(&self) -> #p::References {
                #ident::references(self)
            }

            fn render(
                &self,
                cx: &#p::PresentContext,
            ) -> ::core::result::Result<::std::string::String, #p::RenderError> {
                #ident::render(self, cx)
            }

            fn decode_payload(
                event_type: #type_ident,
                version: ::core::primitive::i64,
                payload: &::core::primitive::str,
            ) -> ::core::result::Result<Self, #p::UnknownReason> {
                match event_type { #(#decode_arms)* }
            }
        }
    }
}

/// Where a payload is while it is upgraded, in the generated decoding code.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The stored text (`payload`).
    Stored,
    /// A `serde_json::Value` (after a JSON upgrade).
    Json,
    /// A payload value of the version reached (after a typed upgrade).
    Typed,
}

/// The arm of `decode_payload` for `event`: checks the stored version, then
/// reads the current version directly, or an older one through its chain of
/// upgrades, each step spanned on the user's function so that a step that
/// does not fit is an error on it.
fn decode_arm(catalog: &Catalog, event: &Event) -> TokenStream {
    let p = catalog.runtime.private();
    let type_ident = catalog.type_ident();
    let ident = &event.ident;
    let current = event.version.value;
    let steps = event.upgrade_chain().unwrap_or_default();
    let oldest = steps.first().map_or(current, |s| s.from.value);
    let older = (0..steps.len()).map(|start| {
        let from = steps[start].from.value;
        let chain = upgrade_chain_code(&p, ident, current, &steps[start..]);
        quote!(#from => { #chain })
    });
    quote! {
        #type_ident::#ident => {
            let version = #p::payload_version(version, #current, #oldest)?;
            let payload: #ident = match version {
                #(#older)*
                _ => #p::read_payload::<#ident>(payload)?,
            };
            ::core::result::Result::Ok(Self::#ident(payload))
        }
    }
}

/// The statements that read a stored payload of `steps[0].from` and run it
/// through every step to the current version, ending in the current payload.
fn upgrade_chain_code(
    p: &TokenStream,
    ident: &Ident,
    current: u32,
    steps: &[&super::model::Upgrade],
) -> TokenStream {
    use super::model::UpgradeStep;
    let mut code = TokenStream::new();
    let mut stage = Stage::Stored;
    for step in steps {
        let from = step.from.value;
        let path = step.step.path();
        let span = path.span();
        match &step.step {
            UpgradeStep::Typed(_) => {
                let input = match stage {
                    Stage::Stored => quote_spanned!(span=> #p::read_payload(payload)?),
                    Stage::Json => quote_spanned!(span=> #p::from_json(__upgraded, #from)?),
                    Stage::Typed => quote!(__upgraded),
                };
                code.extend(quote_spanned! {span=>
                    let __upgraded = #input;
                    let __upgraded = #path(__upgraded);
                });
                stage = Stage::Typed;
            }
            UpgradeStep::Json(_) => {
                let input = match stage {
                    Stage::Stored => quote!(#p::read_json(payload)?),
                    Stage::Json => quote!(__upgraded),
                    Stage::Typed => quote_spanned!(span=> #p::to_json(&__upgraded, #from)?),
                };
                code.extend(quote_spanned! {span=>
                    let __upgraded = #input;
                    let __upgraded = #p::upgrade_json(#path, __upgraded, #from)?;
                });
                stage = Stage::Json;
            }
        }
    }
    let last_span = steps
        .last()
        .map_or_else(proc_macro2::Span::call_site, |s| s.step.path().span());
    let result = match stage {
        Stage::Json => quote!(#p::from_json::<#ident>(__upgraded, #current)?),
        // The last typed step must produce the current payload.
        Stage::Typed | Stage::Stored => quote_spanned!(last_span=> {
            let current: #ident = __upgraded;
            current
        }),
    };
    quote!(#code #result)
}

fn render_arm(p: &TokenStream, event: &Event, has_template: bool) -> TokenStream {
    let ident = &event.ident;
    let view = event.view_ident();
    let code = &event.code.value;
    if !has_template {
        // The missing template is already a compile error; this arm never runs.
        return quote!(Self::#ident(_) => ::core::unimplemented!("template of `{}` is missing", #code),);
    }
    let build_view = match &event.presenter {
        None => quote!(#view::new(payload, cx)),
        Some(path) => quote_spanned! {syn::spanned::Spanned::span(path)=>
            {
                let present: for<'a> fn(&'a #ident, &#p::PresentContext) -> #view<'a> = #path;
                present(payload, cx)
            }
        },
    };
    quote! {
        Self::#ident(payload) => {
            let view = #build_view;
            #p::render(&view, #code)
        }
    }
}

fn type_enum(catalog: &Catalog) -> TokenStream {
    let p = catalog.runtime.private();
    let vis = &catalog.vis;
    let ident = catalog.type_ident();
    let catalog_ident = &catalog.ident;
    let catalog_name = catalog_ident.to_string();
    let doc =
        format!("The type of each event of [`{catalog_name}`], stored and serialized as its code.");
    let events = &catalog.events;
    let idents: Vec<&Ident> = events.iter().map(|e| &e.ident).collect();
    let codes: Vec<&str> = events.iter().map(|e| e.code.value.as_str()).collect();
    let labels = events.iter().map(|e| e.label.value.as_str());
    let groups = events.iter().map(|e| e.group.value.as_str());
    let versions = events.iter().map(|e| e.version.value);
    let personal = events.iter().map(|e| {
        let names = e.personal_fields();
        quote!(&[#(#names),*])
    });
    let active: Vec<&Ident> = events
        .iter()
        .filter(|e| e.retired.is_none())
        .map(|e| &e.ident)
        .collect();
    let retired: Vec<&Ident> = events
        .iter()
        .filter(|e| e.retired.is_some())
        .map(|e| &e.ident)
        .collect();
    let is_retired_body = if retired.is_empty() {
        quote!(false)
    } else {
        quote!(::core::matches!(self, #(Self::#retired)|*))
    };
    let variant_docs = events.iter().map(|e| {
        format!(
            "`{}`: {} (group {:?}, payload [`{}`]).",
            e.code.value, e.label.value, e.group.value, e.ident
        )
    });
    quote! {
        #[doc = #doc]
        #[derive(
            ::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug, ::core::cmp::PartialEq,
            ::core::cmp::Eq, ::core::hash::Hash, ::core::cmp::PartialOrd, ::core::cmp::Ord,
        )]
        #[allow(clippy::enum_variant_names)]
        #vis enum #ident { #(#[doc = #variant_docs] #idents,)* }

        impl #ident {
            /// Every event type, in declaration order, retired ones included
            /// (stored rows may hold them).
            pub const ALL: &'static [Self] = &[#(Self::#idents),*];

            /// The event types that are not retired, in declaration order:
            /// the ones commands emit, and the ones to offer in type filters.
            pub const ACTIVE: &'static [Self] = &[#(Self::#active),*];

            /// Whether the event is retired: kept to read stored rows, no longer emitted.
            pub const fn is_retired(self) -> ::core::primitive::bool {
                #is_retired_body
            }

            /// The stable, unique code stored with each event.
            pub const fn code(self) -> &'static ::core::primitive::str {
                match self { #(Self::#idents => #codes,)* }
            }

            /// A short human label.
            pub const fn label(self) -> &'static ::core::primitive::str {
                match self { #(Self::#idents => #labels,)* }
            }

            /// The group the event is listed under.
            pub const fn group(self) -> &'static ::core::primitive::str {
                match self { #(Self::#idents => #groups,)* }
            }

            /// The current payload version, stored with every event.
            pub const fn version(self) -> ::core::primitive::u32 {
                match self { #(Self::#idents => #versions,)* }
            }

            /// The stored names of the event's `#[personal]` payload fields, in
            /// declaration order: erased with the person the event is about.
            pub const fn personal_fields(self) -> &'static [&'static ::core::primitive::str] {
                match self { #(Self::#idents => #personal,)* }
            }
        }

        #[automatically_derived]
        impl #p::EventType for #ident {
            const ALL: &'static [Self] = #ident::ALL;
            fn code(self) -> &'static ::core::primitive::str { #ident::code(self) }
            fn label(self) -> &'static ::core::primitive::str { #ident::label(self) }
            fn group(self) -> &'static ::core::primitive::str { #ident::group(self) }
            fn version(self) -> ::core::primitive::u32 { #ident::version(self) }
            fn is_retired(self) -> ::core::primitive::bool { #ident::is_retired(self) }
            fn personal_fields(self) -> &'static [&'static ::core::primitive::str] {
                #ident::personal_fields(self)
            }
        }

        #[automatically_derived]
        impl ::core::str::FromStr for #ident {
            type Err = #p::UnknownEventCode;
            fn from_str(code: &::core::primitive::str) -> ::core::result::Result<Self, Self::Err> {
                match code {
                    #(#codes => ::core::result::Result::Ok(Self::#idents),)*
                    _ => ::core::result::Result::Err(#p::UnknownEventCode {
                        code: ::std::string::ToString::to_string(code),
                        catalog: #catalog_name,
                    }),
                }
            }
        }

        #[automatically_derived]
        impl ::core::fmt::Display for #ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.code())
            }
        }

        #[automatically_derived]
        impl #p::serde::Serialize for #ident {
            fn serialize<S: #p::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.code())
            }
        }

        #[automatically_derived]
        impl<'de> #p::serde::Deserialize<'de> for #ident {
            fn deserialize<D: #p::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                #p::deserialize_event_type(deserializer)
            }
        }

        #[automatically_derived]
        impl<DB: #p::sqlx::Database> #p::sqlx::Type<DB> for #ident
        where
            ::core::primitive::str: #p::sqlx::Type<DB>,
        {
            fn type_info() -> <DB as #p::sqlx::Database>::TypeInfo {
                <::core::primitive::str as #p::sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &<DB as #p::sqlx::Database>::TypeInfo) -> ::core::primitive::bool {
                <::core::primitive::str as #p::sqlx::Type<DB>>::compatible(ty)
            }
        }

        #[automatically_derived]
        impl<'q, DB: #p::sqlx::Database> #p::sqlx::Encode<'q, DB> for #ident
        where
            ::std::string::String: #p::sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as #p::sqlx::Database>::ArgumentBuffer,
            ) -> ::core::result::Result<#p::sqlx::encode::IsNull, #p::sqlx::error::BoxDynError> {
                #p::encode_event_type::<DB>(self.code(), buf)
            }
        }

        #[automatically_derived]
        impl<'r, DB: #p::sqlx::Database> #p::sqlx::Decode<'r, DB> for #ident
        where
            &'r ::core::primitive::str: #p::sqlx::Decode<'r, DB>,
        {
            fn decode(
                value: <DB as #p::sqlx::Database>::ValueRef<'r>,
            ) -> ::core::result::Result<Self, #p::sqlx::error::BoxDynError> {
                #p::decode_event_type::<DB, Self>(value)
            }
        }
    }
}

fn view_struct(catalog: &Catalog, event: &Event, template: Option<&Template>) -> TokenStream {
    let p = catalog.runtime.private();
    let vis = &catalog.vis;
    let ident = &event.ident;
    let view = event.view_ident();
    let span = event.ident.span();
    let doc = format!(
        "What the template of [`{ident}`] sees: `{RESERVED_VIEW_FIELD}`, the raw payload, and \
         each payload field as presented."
    );
    // A field named like the reserved one was reported; leaving it out of the
    // view keeps that the only error.
    let shown_fields: Vec<&Field> = event
        .fields
        .iter()
        .filter(|f| f.ident != RESERVED_VIEW_FIELD)
        .collect();
    let field_idents: Vec<&Ident> = shown_fields.iter().map(|f| &f.ident).collect();
    let field_docs = shown_fields
        .iter()
        .map(|f| format!("The `{}` field, as presented.", f.ident));
    let reserved = format_ident!("{}", RESERVED_VIEW_FIELD);
    let (derive, track) = match template {
        Some(t) => {
            let source = &t.source;
            let path = t.path.display().to_string();
            (
                // Spanned on the event, so that template errors point at it.
                {
                    let p = respanned(&p, span);
                    quote_spanned! {span=>
                        #[derive(#p::askama::Template)]
                        #[template(
                            source = #source,
                            ext = "html",
                            askama = #p::askama,
                        )]
                    }
                },
                // Makes cargo rebuild the crate when the template changes.
                quote!(
                    const _: &::core::primitive::str = ::core::include_str!(#path);
                ),
            )
        }
        None => (TokenStream::new(), TokenStream::new()),
    };
    let default_presenter = event.presenter.is_none().then(|| {
        let values = shown_fields.iter().map(|f| {
            let (fident, ty) = (&f.ident, &f.ty);
            quote_spanned! {syn::spanned::Spanned::span(ty)=>
                #fident: <#ty as #p::Presentable>::present(&payload.#fident, cx)
            }
        });
        let new_doc = format!(
            "The default presenter: every field through [`Presentable`]({}::present::Presentable).",
            quote::ToTokens::to_token_stream(catalog.runtime.root())
                .to_string()
                .replace(' ', "")
        );
        quote! {
            impl<'a> #view<'a> {
                #[doc = #new_doc]
                pub fn new(payload: &'a #ident, cx: &#p::PresentContext) -> Self {
                    #view { #reserved: payload, #(#values,)* }
                }
            }
        }
    });
    quote! {
        #[doc = #doc]
        #derive
        #vis struct #view<'a> {
            /// The raw payload.
            pub #reserved: &'a #ident,
            #(#[doc = #field_docs] pub #field_idents: #p::Shown,)*
        }
        #track
        #default_presenter
    }
}

/// `tokens` with every token (groups included) spanned at `span`.
fn respanned(tokens: &TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .clone()
        .into_iter()
        .map(|mut tree| {
            if let proc_macro2::TokenTree::Group(group) = &tree {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respanned(&group.stream(), span));
                inner.set_span(span);
                tree = proc_macro2::TokenTree::Group(inner);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}
