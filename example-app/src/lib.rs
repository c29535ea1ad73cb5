//! A small staff area in the image of the reference system: users with
//! global roles, projects, and project memberships with roles, every change
//! recorded in an audit log declared with `#[audit_core::events]`.
#![warn(missing_docs)]

pub mod auth;
pub mod backfill;
pub mod changes;
pub mod commands;
pub mod crash;
pub mod demo;
pub mod directory;
pub mod domain;
pub mod events;
pub mod export;
pub mod grants;
pub mod log_text;
pub mod logs;
pub mod models;
pub mod names;
pub mod natural;
pub mod present;
pub mod schema;
pub mod sealing;
pub mod web;
