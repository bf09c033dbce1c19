//! Thin handlers: parse → service (in a blocking task, one transaction) → respond.

pub mod accounts;
pub mod audit;
pub mod groups;
pub mod invitations;
pub mod invitee;
pub mod licenses;
pub mod operations;
pub mod sessions;
pub mod users;
pub mod webhooks;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde::Serialize;

pub fn json<T: Serialize>(status: StatusCode, body: &T) -> HttpResponse {
    HttpResponse::build(status).json(body)
}
