//! Code generation for `#[derive(Model)]`: the `Model` impl, guarded writes
//! and a read by id, the same SQL on both backends.
//!
//! Runtime items are named through `<runtime>::__private` (`crate = path`),
//! and trait impls are `#[automatically_derived]`. A model that could not be
//! read in full (see [`Model::is_stub`]) gets the same items with bodies
//! that never run: the build already fails with the model's error.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt;

use super::parse::Model;

/// Generates the impls.
pub fn generate(model: &Model) -> TokenStream {
    let p = model.runtime.private();
    let root = model.runtime.root();
    let ident = &model.ident;
    let (impl_generics, ty_generics, where_clause) = model.generics.split_for_impl();
    let table = &model.table;
    let immutable = model.immutable;
    let model_impl = quote! {
        #[automatically_derived]
        impl #impl_generics #p::Model for #ident #ty_generics #where_clause {
            const TABLE: &'static ::core::primitive::str = #table;
            const IMMUTABLE: ::core::primitive::bool = #immutable;
        }
    };
    let audit_access = (!immutable).then(|| {
        let mut generics = model.generics.clone();
        generics.params.push(syn::parse_quote!(__E: #p::EventCatalog));
        let (impl_generics, _, _) = generics.split_for_impl();
        quote! {
            #[automatically_derived]
            impl #impl_generics #p::WriteAccess<#ident #ty_generics> for #p::Audit<__E> #where_clause {
                fn write_db(&mut self) -> #p::Db<'_> {
                    self.db()
                }
            }
        }
    });
    let who = if immutable {
        "only a command (`#[auditable]`)"
    } else {
        "a command or any audited transaction"
    };
    let id = match &model.id {
        Some(id) if !model.is_stub() => id,
        _ => {
            let methods = stub_methods(model, who);
            return quote! {
                #model_impl
                #audit_access
                impl #impl_generics #ident #ty_generics #where_clause { #methods }
            };
        }
    };
    // Quoted, so that column names such as `user` or `order` work on both backends.
    let names: Vec<String> = model
        .columns
        .iter()
        .map(|(c, _)| c.unraw().to_string())
        .collect();
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    let table_q = format!("\"{table}\"");
    let id_q = format!("\"{}\"", id.unraw());
    let fields: Vec<_> = model.columns.iter().map(|(c, _)| c).collect();
    let placeholders = |from: usize| -> Vec<String> {
        (0..names.len()).map(|i| format!("${}", i + from)).collect()
    };
    let insert_sql = format!(
        "INSERT INTO {table_q} ({}) VALUES ({}) RETURNING {id_q}",
        quoted.join(", "),
        placeholders(1).join(", ")
    );
    let sets: Vec<String> = quoted
        .iter()
        .zip(placeholders(1))
        .map(|(n, p)| format!("{n} = {p}"))
        .collect();
    let update_sql = format!(
        "UPDATE {table_q} SET {} WHERE {id_q} = ${}",
        sets.join(", "),
        names.len() + 1
    );
    let delete_sql = format!("DELETE FROM {table_q} WHERE {id_q} = $1");
    let select_sql = format!(
        "SELECT {id_q}{} FROM {table_q} WHERE {id_q} = $1",
        quoted.iter().map(|n| format!(", {n}")).collect::<String>()
    );
    // SQLite has no row locks: its write transactions (`BEGIN IMMEDIATE`)
    // already run one at a time, so the plain read is the locking one.
    let select_for_update_sql = format!("{select_sql} FOR UPDATE");
    let id_name = id.unraw().to_string();
    let both = |body: TokenStream| {
        quote! {
            #root::on_backend!(db, conn => #body)
        }
    };
    let insert = both(quote! {
        #p::sqlx::query_scalar(#insert_sql)
            #(.bind(&row.#fields))*
            .fetch_one(conn)
            .await
    });
    let update = both(quote! {
        #p::sqlx::query(#update_sql)
            #(.bind(&row.#fields))*
            .bind(row.#id)
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
    });
    let delete = both(quote! {
        #p::sqlx::query(#delete_sql).bind(id).execute(conn).await.map(|done| done.rows_affected())
    });
    let find = both(quote! {{
        let row = #p::sqlx::query(sql).bind(id).fetch_optional(conn).await?;
        row.map(|row| {
            ::core::result::Result::Ok(#ident {
                #id: #p::sqlx::Row::try_get(&row, #id_name)?,
                #(#fields: #p::sqlx::Row::try_get(&row, #names)?,)*
            })
        })
        .transpose()
    }});
    let insert_doc =
        format!("Inserts `row` (its `{id}` is ignored) and returns the new `{id}`; {who} may.");
    let update_doc =
        format!("Updates the row with `row.{id}`; {who} may. Returns the rows changed.");
    let delete_doc =
        format!("Deletes the row with this `{id}`; {who} may. Returns the rows deleted.");
    quote! {
        #model_impl

        #audit_access

        impl #ident {
            #[doc = #insert_doc]
            pub async fn insert(
                cx: &mut (dyn #p::WriteAccess<Self> + ::core::marker::Send),
                row: &Self,
            ) -> ::core::result::Result<::core::primitive::i64, #p::sqlx::Error> {
                let db = cx.write_db();
                #insert
            }

            #[doc = #update_doc]
            pub async fn update(
                cx: &mut (dyn #p::WriteAccess<Self> + ::core::marker::Send),
                row: &Self,
            ) -> ::core::result::Result<::core::primitive::u64, #p::sqlx::Error> {
                let db = cx.write_db();
                #update
            }

            #[doc = #delete_doc]
            pub async fn delete(
                cx: &mut (dyn #p::WriteAccess<Self> + ::core::marker::Send),
                id: ::core::primitive::i64,
            ) -> ::core::result::Result<::core::primitive::u64, #p::sqlx::Error> {
                let db = cx.write_db();
                #delete
            }

            /// Reads the row with this id; anyone may.
            pub async fn find(
                db: #p::Db<'_>,
                id: ::core::primitive::i64,
            ) -> ::core::result::Result<::core::option::Option<Self>, #p::sqlx::Error> {
                let sql = #select_sql;
                #find
            }

            /// Reads the row with this id and locks it until the transaction
            /// ends, so that what a command reads before changing the row (a
            /// `before` value) is still true when it commits: a concurrent
            /// command waits for this one (`SELECT ... FOR UPDATE` on
            /// PostgreSQL; SQLite runs one writer at a time). Needs the same
            /// right as a write.
            pub async fn find_for_update(
                cx: &mut (dyn #p::WriteAccess<Self> + ::core::marker::Send),
                id: ::core::primitive::i64,
            ) -> ::core::result::Result<::core::option::Option<Self>, #p::sqlx::Error> {
                let db = cx.write_db();
                let sql = #p::sql_for(db.backend(), #select_sql, #select_for_update_sql);
                #find
            }
        }
    }
}

/// The methods of a model that could not be read in full: the same
/// signatures (so calls to them type-check), bodies that never run.
fn stub_methods(model: &Model, who: &str) -> TokenStream {
    let p = model.runtime.private();
    let never = format!(
        "model `{}` did not compile: its `#[derive(Model)]` reported an error",
        model.ident
    );
    let insert_doc = format!("Inserts `row` and returns its new id; {who} may.");
    let update_doc =
        format!("Updates the row with `row`'s id; {who} may. Returns the rows changed.");
    let delete_doc = format!("Deletes the row with this id; {who} may. Returns the rows deleted.");
    quote! {
        #[doc = #insert_doc]
        pub async fn insert(
            _cx: &mut (dyn #p::WriteAccess<Self> + ::core::marker::Send),
            _row: &Self,
        ) -> ::core::result::Result<::core::primitive::i64, #p::sqlx::Error> {
            ::core::unreachable!(#never)
        }

        #[doc = #update_doc]
        pub async fn update(
            _cx: &mut (dyn #p::WriteAccess<Self> + ::core::marker::Send),
            _row: &Self,
        ) -> ::core::result::Result<::core::primitive::u64, #p::sqlx::Error> {
            ::core::unreachable!(#never)
        }

        #[doc = #delete_doc]
        pub async fn delete(
            _cx: &mut (dyn #p::WriteAccess<Self> + ::core::marker::Send),
            _id: ::core::primitive::i64,
        ) -> ::core::result::Result<::core::primitive::u64, #p::sqlx::Error> {
            ::core::unreachable!(#never)
        }

        /// Reads the row with this id; anyone may.
        pub async fn find(
            _db: #p::Db<'_>,
            _id: ::core::primitive::i64,
        ) -> ::core::result::Result<::core::option::Option<Self>, #p::sqlx::Error> {
            ::core::unreachable!(#never)
        }

        /// Reads the row with this id and locks it until the transaction ends.
        pub async fn find_for_update(
            _cx: &mut (dyn #p::WriteAccess<Self> + ::core::marker::Send),
            _id: ::core::primitive::i64,
        ) -> ::core::result::Result<::core::option::Option<Self>, #p::sqlx::Error> {
            ::core::unreachable!(#never)
        }
    }
}
