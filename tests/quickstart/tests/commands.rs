//! The command, run by the `Harness` on a fresh database per backend
//! (SQLite; PostgreSQL too when `AUDIT_TEST_POSTGRES_URL` names a server).

use audit_core::testing::Harness;
use audit_quickstart::{Names, ProjectCreated, StaffEvent, add_project, migrate};

#[tokio::test]
async fn add_project_records_project_created() {
    for mut harness in Harness::<StaffEvent>::all("add_project", migrate).await {
        let events = harness
            .run(async |cx| add_project(cx, "Apollo").await)
            .await
            .unwrap();
        let project = events.value().clone();
        events.assert_emitted([ProjectCreated { project }]);

        let names = Names {
            auditor: harness.auditor().clone(),
        };
        assert_eq!(
            events.rendered_with(&names).await,
            ["created project Apollo"]
        );
    }
}
