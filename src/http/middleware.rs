//! Request id, access log, and the guarantee that every error leaves as
//! problem+json (including the router's and actix's own errors).

use std::time::Instant;

use actix_web::HttpMessage;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

use crate::error::AppError;

pub const REQUEST_ID: &str = "x-request-id";

/// The request's id, available to handlers through request extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn accepted_request_id(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    let ok = !text.is_empty() && text.len() <= 128 && text.bytes().all(|b| b.is_ascii_graphic());
    ok.then(|| text.to_owned())
}

fn new_request_id() -> String {
    use rand::RngExt;
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The request's id: the client's `X-Request-Id` when acceptable, else a new
/// one written into the request so every later layer sees the same id.
pub fn ensure_request_id(req: &mut ServiceRequest) -> String {
    if let Some(id) = req.headers().get(REQUEST_ID).and_then(accepted_request_id) {
        return id;
    }
    let id = new_request_id();
    if let Ok(value) = HeaderValue::from_str(&id) {
        req.headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID), value);
    }
    id
}

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let mut req = req;
    let request_id = ensure_request_id(&mut req);
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().to_string();
    let started = Instant::now();
    let span = tracing::info_span!("request", request_id = %request_id);

    // Handlers' and extractors' errors arrive as responses carrying the error;
    // an `Err` here would come from actix itself and is rendered by `AppError`'s
    // `ResponseError` fallback when it is ours.
    let mut response = next
        .call(req)
        .instrument(span.clone())
        .await?
        .map_into_boxed_body();

    let status = response.status();
    let already_problem = response
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .is_some_and(|v| {
            // SCIM errors are rendered the SCIM way (`http::scim_edge`).
            v.as_bytes().starts_with(b"application/problem+json")
                || v.as_bytes().starts_with(b"application/scim+json")
        });
    let app_error = response
        .response()
        .error()
        .and_then(|e| e.as_error::<AppError>())
        .is_some();
    // Problems rendered (and maybe stored for replay) by an inner layer stay as they are.
    if (status.is_client_error() || status.is_server_error()) && (app_error || !already_problem) {
        let error = response.response().error();
        let app_error = error.and_then(|e| e.as_error::<AppError>());
        if status.is_server_error() {
            let cause = error
                .map(|e| e.to_string())
                .unwrap_or_else(|| status.to_string());
            span.in_scope(|| tracing::error!(cause = %cause, "request failed"));
        }
        let rendered = match app_error {
            Some(app_error) => app_error.to_response(Some(&request_id)),
            None => AppError::from_status(status).to_response(Some(&request_id)),
        };
        response = response.into_response(rendered);
    }
    response.headers_mut().insert(
        HeaderName::from_static(REQUEST_ID),
        HeaderValue::from_str(&request_id).unwrap_or_else(|_| HeaderValue::from_static("invalid")),
    );

    // The route template, never the raw path: the invitee's paths carry the token.
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "(unmatched)".to_owned());
    if let Some(state) = response
        .request()
        .app_data::<actix_web::web::Data<crate::http::state::AppState>>()
    {
        state.metrics.observe_request(
            &method,
            &route,
            response.status().as_u16(),
            started.elapsed(),
        );
    }
    span.in_scope(|| {
        tracing::info!(
            method = %method,
            route = %route,
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "request"
        )
    });
    Ok(response)
}
