-- Version 1: the staff area's users, projects and project memberships.
-- A database made before versions were recorded has these tables already,
-- which `CREATE TABLE IF NOT EXISTS` leaves as they are.

CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    roles TEXT NOT NULL DEFAULT '[]',
    password_hash TEXT
);
CREATE TABLE IF NOT EXISTS projects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS memberships (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    roles TEXT NOT NULL DEFAULT '[]',
    UNIQUE (project_id, user_id)
);
