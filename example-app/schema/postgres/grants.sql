-- The application role's rights on the staff area's own tables: what the
-- commands, the start and the web pages do with them, and nothing more.
-- `example-app grant-application-role ROLE` runs this, `{role}` replaced by
-- the checked role name, after `Auditor::grant_application_role` (the audit
-- log's tables). A migration that adds a table or a column changes this
-- file too: a column missing below is one the role cannot write.
--
-- Everything is revoked first, so that running it again leaves the role
-- with exactly these rights. Never granted: TRUNCATE, REFERENCES, TRIGGER,
-- UPDATE of an `id`, DELETE of users or projects (no command removes one),
-- and no DDL (the role owns nothing; the schema owner migrates).
--
-- No sequence is granted: every `id` is an identity column, whose sequence
-- an INSERT advances without any right on it; the role cannot `setval` one.

REVOKE ALL ON staff_schema, users, projects, memberships,
    web_sessions, web_sign_in_attempts, web_secrets FROM {role};

-- A start reads the staff area's schema version.
GRANT SELECT ON staff_schema TO {role};

-- Users (immutable, written by commands only): `add-user` inserts,
-- `update-user-roles`, `set-password` and `clear-user-roles` lock the row
-- (`SELECT ... FOR UPDATE`, which needs UPDATE) and rewrite every column
-- but the id (`Model::update`). Lookups, sign-in and the pages read them.
GRANT SELECT ON users TO {role};
GRANT INSERT (username, roles, password_hash), UPDATE (username, roles, password_hash)
    ON users TO {role};

-- Projects (mutable, but no command changes or removes one): `add-project`
-- inserts; lookups, `backfill` and the pages read them.
GRANT SELECT ON projects TO {role};
GRANT INSERT (name, created_by, created_at) ON projects TO {role};

-- Memberships (immutable): `add-member` inserts, `update-member-roles` locks
-- and rewrites, `remove-member` deletes.
GRANT SELECT, DELETE ON memberships TO {role};
GRANT INSERT (project_id, user_id, roles), UPDATE (project_id, user_id, roles)
    ON memberships TO {role};

-- The web area's state: sessions are made, read and ended (expired ones
-- deleted); the form secret is made once and read.
GRANT SELECT, INSERT, DELETE ON web_sessions TO {role};
GRANT SELECT, INSERT ON web_secrets TO {role};
-- Sign-in attempts are recorded (the id comes back), counted, and deleted
-- when old, refused or followed by a successful sign-in.
GRANT SELECT, DELETE ON web_sign_in_attempts TO {role};
GRANT INSERT (username, address, at) ON web_sign_in_attempts TO {role};
