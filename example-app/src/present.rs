//! How the staff area looks up the references of a page of events: one query
//! per kind, whatever the number of events.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use audit_core::Auditor;
use audit_core::present::{Resolved, Resolver};

/// Looks up users and projects in the staff area's tables.
#[derive(Debug)]
pub struct StaffResolver {
    auditor: Auditor,
    queries: AtomicUsize,
}

impl StaffResolver {
    /// A resolver reading through `auditor`'s pool.
    pub fn new(auditor: Auditor) -> Self {
        StaffResolver {
            auditor,
            queries: AtomicUsize::new(0),
        }
    }

    /// How many lookup queries it has run.
    pub fn queries(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }

    async fn names(&self, sql_head: &str, ids: &[i64]) -> Result<Vec<(i64, String)>, sqlx::Error> {
        let placeholders: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!("{sql_head} IN ({})", placeholders.join(", "));
        self.queries.fetch_add(1, Ordering::SeqCst);
        macro_rules! fetch {
            ($pool:expr) => {{
                // Our own fragment and numbered placeholders; the ids are bound.
                let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
                for id in ids {
                    query = query.bind(*id);
                }
                query.fetch_all($pool).await?
            }};
        }
        let rows: Vec<(i64, String)> =
            audit_core::on_backend!(self.auditor.pool(), pool => fetch!(pool));
        Ok(rows)
    }
}

impl Resolver for StaffResolver {
    type Error = sqlx::Error;

    async fn resolve(
        &self,
        kind: &str,
        ids: &[String],
    ) -> Result<HashMap<String, Resolved>, sqlx::Error> {
        let (sql, path) = match kind {
            "user" => ("SELECT id, username FROM users WHERE id", "users"),
            "project" => ("SELECT id, name FROM projects WHERE id", "projects"),
            _ => return Ok(HashMap::new()),
        };
        let ids: Vec<i64> = ids.iter().filter_map(|id| id.parse().ok()).collect();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = self.names(sql, &ids).await?;
        Ok(rows
            .into_iter()
            .map(|(id, label)| {
                (
                    id.to_string(),
                    Resolved {
                        label,
                        href: Some(format!("/{path}/{id}")),
                    },
                )
            })
            .collect())
    }
}
