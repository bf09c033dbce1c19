//! Thin handlers: parse → service (in a blocking task, one transaction) → respond.

pub mod accounts;
pub mod audit;
pub mod groups;
pub mod invitations;
pub mod invitee;
pub mod licenses;
pub mod mail_events;
pub mod operations;
pub mod paths;
pub mod scim;
pub mod sessions;
pub mod users;
pub mod webhooks;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde::Serialize;

/// Room for a typical answer up front: a page of 50 invitations is about
/// 30 KiB, and growing a buffer from serde_json's 128 bytes copies it ten times.
const ANSWER_CAPACITY: usize = 16 * 1024;

/// A JSON answer, `application/json; charset=utf-8` as the contract says.
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> HttpResponse {
    let mut text = Vec::with_capacity(ANSWER_CAPACITY);
    match serde_json::to_writer(&mut text, body) {
        Ok(()) => HttpResponse::build(status)
            .content_type("application/json; charset=utf-8")
            .body(text),
        Err(e) => crate::error::AppError::internal(format!("cannot serialise a response: {e}"))
            .to_response(None),
    }
}

/// A JSON answer that carries a credential or an invitee's details: no
/// browser or proxy may keep a copy (`Cache-Control: no-store`).
pub fn json_no_store<T: Serialize>(status: StatusCode, body: &T) -> HttpResponse {
    let mut response = json(status, body);
    response.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    response
}

/// `201 Created` with the new resource and its `Location`.
pub fn created<T: Serialize>(location: &str, body: &T) -> HttpResponse {
    let mut response = json(StatusCode::CREATED, body);
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(location) {
        response
            .headers_mut()
            .insert(actix_web::http::header::LOCATION, value);
    }
    response
}
