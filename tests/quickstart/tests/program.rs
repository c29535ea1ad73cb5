//! The quickstart program run as a user runs it, on each backend: SQLite,
//! and PostgreSQL when `AUDIT_TEST_POSTGRES_URL` names a server (with
//! `CI=true`, it must). Twice on one database: the second start migrates
//! nothing new and the log keeps the first run's event.

use std::process::Command;

#[tokio::test]
async fn the_program_runs_on_each_backend() {
    for auditor in audit_core::testing::all("quickstart_program").await {
        let backend = audit_core::testing::label(&auditor);
        // The database stays while `auditor` lives.
        let url = audit_core::testing::database_url(&auditor).await;
        for run in 1..=2 {
            let out = Command::new(env!("CARGO_BIN_EXE_audit-quickstart"))
                .env("DATABASE_URL", &url)
                .output()
                .expect("the quickstart program starts");
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success(),
                "run {run} on {backend} failed: {}\n{stdout}{stderr}",
                out.status
            );
            let lines: Vec<&str> = stdout.lines().collect();
            assert_eq!(lines.len(), run, "run {run} on {backend}:\n{stdout}");
            for line in lines {
                assert!(
                    line.ends_with("  alice  created project Apollo"),
                    "run {run} on {backend}: {line}"
                );
            }
        }
    }
}
