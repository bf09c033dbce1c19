//! The `Idempotency-Key` middleware. It applies to POSTs under
//! `/accounts/{id}/…` by an active manager of that account (checked against
//! the database, as the handlers do), and to POSTs under `/scim/v2/…` with a
//! valid SCIM token; anything else passes through untouched and the handlers
//! answer it (401, 403, 404, …). Keys belong to the user who sent them,
//! within their account, or to the SCIM token that sent them (never shared
//! with its creator's own keys). On SCIM paths its refusals are SCIM errors.
//!
//! It runs inside `observe` (request id, access log, metrics) and stores the
//! final bytes of a response, so a replay is the first answer byte for byte
//! (unless its handler left out a secret with `ReplayBody`).

use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::db;
use crate::error::AppError;
use crate::http::extract::MAX_BODY_BYTES;
use crate::http::gate;
use crate::http::middleware::ensure_request_id;
use crate::http::scim_edge::{self, ScimResolved};
use crate::http::state::AppState;
use crate::services::context::Manager;
use crate::services::idempotency::{self, Claim, MAX_KEY_LEN};

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

pub const REPLAYED: &str = "idempotent-replayed";

/// Put in a response's extensions by a handler whose answer must not be
/// replayed (e.g. a bulk result with an item that may succeed on retry, or
/// a secret shown once, which is never stored in clear).
#[derive(Debug, Clone, Copy)]
pub struct DoNotStore;

/// Put in a response's extensions by a handler whose answer holds a secret
/// shown once but must still be replayed (a retry may not create a second
/// one): this body is stored and replayed instead of the one sent, which is
/// the same answer without the secret.
#[derive(Debug, Clone)]
pub struct ReplayBody(pub String);

/// Who keeps keys on a request, and how its refusals are rendered.
#[derive(Debug, Clone, Copy)]
enum Keeper {
    /// A manager under `/accounts/{id}/…`: problem+json.
    Rest(Manager),
    /// A SCIM token under `/scim/v2/…`: SCIM errors.
    Scim(Manager),
}

impl Keeper {
    /// The keeper of a POST, if its keys are kept: anything else is for the
    /// handlers' own gates to answer (401, 403, 404, …).
    async fn of(req: &ServiceRequest, state: &AppState) -> Option<Keeper> {
        if scim_edge::is_scim_path(req.path()) {
            scim_edge::scim_caller(req.request(), state)
                .await
                .ok()
                .map(Keeper::Scim)
        } else {
            gate::manager_of_path(req.request(), state)
                .await
                .ok()
                .map(Keeper::Rest)
        }
    }

    fn manager(self) -> Manager {
        match self {
            Keeper::Rest(manager) | Keeper::Scim(manager) => manager,
        }
    }

    /// The stored key: a SCIM token's keys are its own, not its creator's.
    fn scoped(self, key: &str) -> String {
        match self {
            Keeper::Scim(Manager {
                scim_token: Some(token),
                ..
            }) => format!("scim:{token}:{key}"),
            other => format!("{}:{key}", other.manager().user_id),
        }
    }

    fn render(self, error: &AppError, request_id: &str) -> HttpResponse {
        match self {
            Keeper::Rest(_) => error.to_response(Some(request_id)),
            Keeper::Scim(_) => scim_edge::render(error),
        }
    }

    /// Saves the extractors a second look-up.
    fn resolve(self, req: &ServiceRequest) {
        let mut extensions = req.extensions_mut();
        match self {
            Keeper::Rest(manager) => {
                extensions.insert(gate::Resolved(manager));
            }
            Keeper::Scim(manager) => {
                extensions.insert(ScimResolved(manager));
            }
        }
    }
}

pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let raw_key = req.headers().get(IDEMPOTENCY_KEY).cloned();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let (Some(raw_key), Some(state), true) = (raw_key, state, req.method() == Method::POST) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some(keeper) = Keeper::of(&req, &state).await else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let request_id = ensure_request_id(&mut req);
    let key = match raw_key.to_str() {
        Ok(key) if !key.is_empty() && key.len() <= MAX_KEY_LEN => keeper.scoped(key),
        _ => {
            let error = AppError::validation_one(
                "Idempotency-Key",
                "invalid_value",
                format!("Idempotency-Key must be 1–{MAX_KEY_LEN} visible ASCII characters"),
            );
            return Ok(req.into_response(keeper.render(&error, &request_id)));
        }
    };
    let account_id = keeper.manager().account_id;

    // The body is part of what makes a request "the same".
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            let error = AppError::PayloadTooLarge("The request body is larger than 1 MiB.".into());
            return Ok(req.into_response(keeper.render(&error, &request_id)));
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
    let refuse = |req: ServiceRequest, error: AppError| {
        if error.status().is_server_error() {
            tracing::error!(cause = %error, request_id = %request_id, "idempotency check failed");
        }
        Ok(req.into_response(keeper.render(&error, &request_id)))
    };
    let claimed_at = match claim {
        Err(error) => return refuse(req, error),
        Ok(Claim::Reused) => return refuse(req, AppError::IdempotencyKeyReused),
        Ok(Claim::InProgress) => return refuse(req, AppError::RequestInProgress),
        Ok(Claim::Replay(row)) => {
            // Only a completed row (status and body stored together) is replayed.
            let Some(status) = row
                .status
                .and_then(|s| u16::try_from(s).ok())
                .and_then(|s| StatusCode::from_u16(s).ok())
            else {
                return refuse(
                    req,
                    AppError::internal("stored response without a valid status"),
                );
            };
            let mut response = HttpResponse::build(status);
            if let Some(content_type) = row.content_type {
                response.insert_header((header::CONTENT_TYPE, content_type));
            }
            if let Some(location) = row.location {
                response.insert_header((header::LOCATION, location));
            }
            response.insert_header((REPLAYED, "true"));
            return Ok(req.into_response(response.body(row.body.unwrap_or_default())));
        }
        Ok(Claim::Proceed { claimed_at }) => claimed_at,
    };

    req.set_payload(Payload::from(body));
    let claim = db::idempotency::ClaimRef {
        account_id,
        key: key.clone(),
        claimed_at,
    };
    req.extensions_mut().insert(claim);
    keeper.resolve(&req);
    let response = next.call(req).await?;
    let (http_request, response) = response.into_parts();
    // Render errors here, with this request's id, so what is stored is what the client gets.
    let response = match response.error().and_then(|e| e.as_error::<AppError>()) {
        Some(error) => keeper.render(error, &request_id),
        None => response.map_into_boxed_body(),
    };
    let status = response.status();
    let headers = response.headers().clone();
    let do_not_store = response.extensions().get::<DoNotStore>().is_some();
    let replay_body = response
        .extensions()
        .get::<ReplayBody>()
        .map(|replay| replay.0.clone());
    let bytes = to_bytes(response.into_body())
        .await
        .map_err(|_| AppError::internal("cannot read the response body"))?;
    // Failures a retry may cure are not kept: the key stays usable.
    let keep = !(do_not_store
        || status.is_server_error()
        || status == StatusCode::UNAUTHORIZED
        || status == StatusCode::FORBIDDEN
        || status == StatusCode::TOO_MANY_REQUESTS);
    let header_text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let (content_type, location) = (
        header_text(header::CONTENT_TYPE),
        header_text(header::LOCATION),
    );
    let text = replay_body.unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
    let stored = state
        .db(move |conn| {
            if keep {
                db::idempotency::complete(
                    conn,
                    account_id,
                    &key,
                    claimed_at,
                    i32::from(status.as_u16()),
                    content_type.as_deref(),
                    location.as_deref(),
                    &text,
                )?;
            } else {
                db::idempotency::release(conn, account_id, &key, claimed_at)?;
            }
            Ok(())
        })
        .await;
    if let Err(error) = stored {
        tracing::warn!(error = %error, request_id = %request_id, "could not store an idempotent response");
    }
    let mut rebuilt = HttpResponse::build(status);
    for (name, value) in &headers {
        rebuilt.append_header((name.clone(), value.clone()));
    }
    Ok(ServiceResponse::new(http_request, rebuilt.body(bytes)))
}
