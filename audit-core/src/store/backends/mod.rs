//! One module per backend, each with all of that backend's own SQL (its
//! migrations and the objects a sound schema holds, appending, import
//! keys, retention, locks, reads in commit order, seal entries) behind one
//! trait, [`Storage`], so that the store's logic is written once and
//! dispatches once per call, through [`with_storage!`].
//!
//! What differs between backends lives here and in `crate::backend` (the
//! pools and connections, and `Dialect`, the SQL text that the shared
//! statements splice in); nowhere else in the store. A third backend is a
//! module here implementing [`Storage`] (see `ARCHITECTURE.md`, "One
//! backend abstraction").

// This file only declares, re-exports and dispatches; the backends import
// the trait from `storage`, so that no file here imports its parent.

mod storage;

#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;

pub(crate) use storage::{ImportBatch, PruneBatch, Storage};

/// Runs `$body` with `$storage` naming the [`Storage`] of the backend that
/// `$value` (a [`Pool`](crate::backend::Pool), a [`Db`](crate::backend::Db),
/// a borrowed one) belongs to, and `$bound` matched against that backend's
/// own value (its pool or connection; `_` when the body needs neither).
/// Built on `match_backend!`: `$body` is compiled once per backend in the
/// build, with that backend's types, and a call site needs no `#[cfg]`.
///
/// ```ignore
/// with_storage!(tx.db(), conn, S => S::lock(conn, MIGRATION_LOCK).await)?;
/// ```
macro_rules! with_storage {
    ($value:expr, $bound:pat, $storage:ident => $body:expr) => {
        $crate::backend::match_backend!($value,
            Sqlite($bound) => {
                use $crate::store::backends::Storage as _;
                type $storage = $crate::store::backends::sqlite::Sqlite;
                $body
            },
            Postgres($bound) => {
                use $crate::store::backends::Storage as _;
                type $storage = $crate::store::backends::postgres::Postgres;
                $body
            },
        )
    };
}
pub(crate) use with_storage;
