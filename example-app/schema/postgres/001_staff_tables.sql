-- Version 1: the staff area's users, projects and project memberships.
-- A database made before versions were recorded has these tables already,
-- which `CREATE TABLE IF NOT EXISTS` leaves as they are.

CREATE TABLE IF NOT EXISTS users (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    roles TEXT NOT NULL DEFAULT '[]',
    password_hash TEXT
);
CREATE TABLE IF NOT EXISTS projects (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS memberships (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    roles TEXT NOT NULL DEFAULT '[]',
    UNIQUE (project_id, user_id)
);
