//! Background jobs, run by one worker per process beside the HTTP server:
//! sending the email outbox, delivering webhooks, and the periodic sweeps
//! (expiry, retention). Like HTTP handlers, they are an entry point: they
//! call services and repositories, never the other way round.

pub mod webhook_delivery;
pub mod worker;
