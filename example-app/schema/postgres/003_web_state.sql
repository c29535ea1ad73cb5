-- Version 3: the web area's state, shared by every instance over the
-- database and kept across restarts (see `web::session` and
-- `web::throttle`): sessions by the SHA-256 of their token, sign-in attempts
-- by username and client address, and the secret that signs sign-in form
-- tokens. Times are seconds since the Unix epoch, UTC. Mutable state, not
-- models, and not audited.

CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    csrf TEXT NOT NULL,
    credential TEXT,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
CREATE TABLE web_sign_in_attempts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username TEXT NOT NULL,
    address TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX web_sign_in_attempts_address ON web_sign_in_attempts (address, at);
CREATE INDEX web_sign_in_attempts_username ON web_sign_in_attempts (username, address, at);
CREATE INDEX web_sign_in_attempts_at ON web_sign_in_attempts (at);
CREATE TABLE web_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
