//! `invitations`: invite people to a law firm's account, hold and bill the
//! seat licenses they need, and turn accepted invitations into firm members.
//!
//! Layers, each depending only on those after it:
//! `http` (routes, extractors, handlers) → `services` (use-cases, one
//! transaction each) → `db` (repositories) and `mail` (outbox delivery) →
//! `domain` (pure types and rules). `contract` holds the public JSON shapes;
//! `error` maps every failure to HTTP in one place.

#[macro_use]
pub mod macros;

pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod contract;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod outbound;
pub mod services;
pub mod startup;
pub mod telemetry;
