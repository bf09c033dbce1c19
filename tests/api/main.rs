//! Black-box HTTP tests. Every scenario runs twice: on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod helpers;

mod accept_page;
mod audit;
mod billing;
mod cli;
mod concurrency;
mod config_table;
mod error_codes;
mod external_keys;
mod first_contact;
mod invitations;
mod lifecycle;
mod limits;
mod mail_events;
mod mail_providers;
mod management;
mod metrics;
mod migrations;
mod openapi;
mod precedence;
mod readme_examples;
mod reference;
mod resilience;
mod retention;
mod retries;
mod scim;
mod scim_like_rest;
mod scim_people;
mod security_cli;
mod security_ops;
mod security_web;
mod users_and_auth;
mod webhooks;
