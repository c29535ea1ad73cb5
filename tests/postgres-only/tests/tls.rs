//! TLS to PostgreSQL, for real: the local server has a certificate signed by
//! a test CA, and a role that pg_hba.conf refuses without TLS
//! (`scripts/ci-postgres-tls.sh` sets both up; `.ci/run` runs it).
//!
//! The tests read `AUDIT_TEST_POSTGRES_TLS_URL` (that role's URL, without
//! TLS parameters) and `AUDIT_TEST_POSTGRES_TLS_CA` (the CA's PEM file; an
//! unrelated CA, `wrong-ca.pem`, lies beside it). Unset, they skip with a
//! notice; under `CI=true` that fails them.

use audit_core::{AuditError, Auditor};

/// The TLS role's URL and the CA file, or `None` (with a notice) outside CI.
fn tls_server(test: &str) -> Option<(String, String)> {
    let url = std::env::var("AUDIT_TEST_POSTGRES_TLS_URL")
        .ok()
        .filter(|v| !v.is_empty());
    let ca = std::env::var("AUDIT_TEST_POSTGRES_TLS_CA")
        .ok()
        .filter(|v| !v.is_empty());
    match (url, ca) {
        (Some(url), Some(ca)) => Some((url, ca)),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => panic!(
            "AUDIT_TEST_POSTGRES_TLS_URL and AUDIT_TEST_POSTGRES_TLS_CA must be set when CI=true \
             (scripts/ci-postgres-tls.sh prints them; test `{test}`)"
        ),
        _ => {
            eprintln!("notice: AUDIT_TEST_POSTGRES_TLS_URL/_CA are not set; skipping `{test}`");
            None
        }
    }
}

/// Whether the connection `auditor`'s pool hands out is encrypted.
async fn uses_tls(auditor: &Auditor) -> bool {
    audit_core::on_backend!(auditor.pool(), pool => {
        sqlx::query_scalar::<_, bool>("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(pool)
            .await
            .expect("pg_stat_ssl is readable by every role")
    })
}

#[tokio::test]
async fn verify_full_against_the_servers_ca_connects_encrypted() {
    let Some((url, ca)) = tls_server("verify_full") else {
        return;
    };
    let auditor = Auditor::connect(&format!("{url}?sslmode=verify-full&sslrootcert={ca}"))
        .await
        .expect("a server whose certificate the CA signed, for the name connected to");
    assert!(uses_tls(&auditor).await, "the connection is not encrypted");
    // The library works over it: the start's schema check reads the catalog.
    auditor
        .schema_status()
        .await
        .expect("schema status over TLS");
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused() {
    let Some((url, ca)) = tls_server("wrong_ca") else {
        return;
    };
    let wrong = std::path::Path::new(&ca).with_file_name("wrong-ca.pem");
    let result = Auditor::connect(&format!(
        "{url}?sslmode=verify-full&sslrootcert={}",
        wrong.display()
    ))
    .await;
    assert!(
        matches!(result, Err(AuditError::Database(_))),
        "a server certificate the given CA did not sign was accepted: {result:?}"
    );
}

#[tokio::test]
async fn the_tls_only_role_is_refused_without_tls() {
    let Some((url, _)) = tls_server("plain_refused") else {
        return;
    };
    let result = Auditor::connect(&format!("{url}?sslmode=disable")).await;
    let Err(error) = result else {
        panic!("a connection without TLS was accepted");
    };
    assert!(
        error.to_string().contains("no encryption"),
        "refused for another reason than the missing TLS: {error}"
    );
}
