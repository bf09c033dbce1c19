//! The `Idempotency-Key` middleware, outermost so that it stores (and replays)
//! exactly the bytes a client received.
//!
//! It applies to POSTs under `/accounts/{id}/…` made with a valid token of
//! that account; keys are scoped per account. Anything else passes through
//! and is answered by the handlers as usual (401, 404, …).

use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::db;
use crate::error::AppError;
use crate::http::extract::MAX_BODY_BYTES;
use crate::http::middleware::{REQUEST_ID, ensure_request_id};
use crate::http::state::AppState;
use crate::services::idempotency::{self, Claim, MAX_KEY_LEN};

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";

fn problem(error: AppError, request_id: &str) -> HttpResponse {
    let mut response = error.to_response(Some(request_id));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID), value);
    }
    response
}

/// The account a valid bearer token speaks for, when the path is that account's.
fn scoped_account(req: &ServiceRequest, state: &AppState) -> Option<i64> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim()
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))?
        .1
        .trim()
        .to_owned();
    let claims = state.jwt.verify(&token, state.clock.now()).ok()?;
    req.path()
        .starts_with(&format!("/accounts/{}/", claims.account_id))
        .then_some(claims.account_id)
}

pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(raw_key) = req.headers().get(IDEMPOTENCY_KEY).cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let (Some(state), true) = (state, req.method() == Method::POST) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let request_id = ensure_request_id(&mut req);
    let key = match raw_key.to_str() {
        Ok(key) if !key.is_empty() && key.len() <= MAX_KEY_LEN => key.to_owned(),
        _ => {
            let error = AppError::validation_one(
                "Idempotency-Key",
                "invalid_value",
                format!("Idempotency-Key must be 1–{MAX_KEY_LEN} visible ASCII characters"),
            );
            return Ok(req.into_response(problem(error, &request_id)));
        }
    };
    let Some(account_id) = scoped_account(&req, &state) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };

    // The body is part of what makes a request "the same".
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            let error = AppError::PayloadTooLarge("The request body is larger than 1 MiB.".into());
            return Ok(req.into_response(problem(error, &request_id)));
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let mut hasher = Sha256::new();
    hasher.update(req.path().as_bytes());
    hasher.update(b"?");
    hasher.update(req.query_string().as_bytes());
    hasher.update(b"\n");
    hasher.update(&body);
    let fingerprint: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();

    let now = state.clock.now();
    let claim = {
        let (key, fingerprint) = (key.clone(), fingerprint.clone());
        state
            .db(move |conn| idempotency::begin(conn, account_id, &key, &fingerprint, now))
            .await
    };
    match claim {
        Err(error) => Ok(req.into_response(problem(error, &request_id))),
        Ok(Claim::Reused) => {
            Ok(req.into_response(problem(AppError::IdempotencyKeyReused, &request_id)))
        }
        Ok(Claim::InProgress) => {
            Ok(req.into_response(problem(AppError::RequestInProgress, &request_id)))
        }
        Ok(Claim::Replay(row)) => {
            let status = u16::try_from(row.status.unwrap_or(200))
                .ok()
                .and_then(|s| StatusCode::from_u16(s).ok())
                .unwrap_or(StatusCode::OK);
            let mut response = HttpResponse::build(status);
            if let Some(content_type) = row.content_type {
                response.insert_header((header::CONTENT_TYPE, content_type));
            }
            if let Some(location) = row.location {
                response.insert_header((header::LOCATION, location));
            }
            response.insert_header((REPLAYED, "true"));
            response.insert_header((REQUEST_ID, request_id));
            Ok(req.into_response(response.body(row.body.unwrap_or_default())))
        }
        Ok(Claim::Proceed) => {
            req.set_payload(Payload::from(body));
            let response = next.call(req).await?;
            let (http_request, response) = response.into_parts();
            let status = response.status();
            let headers = response.headers().clone();
            let bytes = to_bytes(response.into_body())
                .await
                .map_err(|_| AppError::internal("cannot read the response body"))?;
            let text = String::from_utf8_lossy(&bytes).into_owned();
            // Failures a retry may cure are not kept: the key stays usable.
            let keep = !(status.is_server_error()
                || status == StatusCode::UNAUTHORIZED
                || status == StatusCode::FORBIDDEN
                || status == StatusCode::TOO_MANY_REQUESTS);
            let header_text = |name| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let (content_type, location) = (
                header_text(header::CONTENT_TYPE),
                header_text(header::LOCATION),
            );
            let stored = state
                .db(move |conn| {
                    if keep {
                        db::idempotency::complete(
                            conn,
                            account_id,
                            &key,
                            i32::from(status.as_u16()),
                            content_type.as_deref(),
                            location.as_deref(),
                            &text,
                        )?;
                    } else {
                        db::idempotency::release(conn, account_id, &key)?;
                    }
                    Ok(())
                })
                .await;
            if let Err(error) = stored {
                tracing::warn!(error = %error, "could not store an idempotent response");
            }
            let mut rebuilt = HttpResponse::build(status);
            for (name, value) in &headers {
                rebuilt.append_header((name.clone(), value.clone()));
            }
            Ok(ServiceResponse::new(http_request, rebuilt.body(bytes)))
        }
    }
}
