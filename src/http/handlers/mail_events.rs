use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::contract::Problem;
use crate::error::{AppError, AuthFailure};
use crate::http::handlers::json;
use crate::http::state::AppState;
use crate::mail::events::ses::SnsOutcome;
use crate::mail::events::{self, EventError, EventRequest};
use crate::services::mail_events::Applied;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ProviderPath {
    /// `postmark`, `mailgun`, `sendgrid`, `resend` or `ses`.
    pub provider: String,
}

/// What became of a request's delivery events.
#[derive(Debug, Serialize, ToSchema)]
pub struct MailEventsRecorded {
    /// Delivery events (delivered, bounced, complained) in the request; other
    /// kinds (opens, clicks, deferrals) are left out.
    pub received: usize,
    /// Those that changed an invitation's `delivery`.
    pub changed: usize,
    /// Those about messages this service does not know (e.g. another
    /// application's mail on the same provider account).
    pub unknown: usize,
}

/// Receive a mail provider's delivery events
///
/// Point the provider's delivery webhook here. Each provider's own
/// authentication is checked (see the README): Postmark's basic auth,
/// Mailgun's and Resend's HMAC signatures, SendGrid's ECDSA signature,
/// Amazon SNS's RSA message signature (SES events; a subscription
/// confirmation is confirmed and answers `200` with nothing received).
/// Delivered, bounced and complained events move the invitation's
/// `delivery` forward, never backwards; a bounce or complaint is recorded in
/// the audit trail and sent to webhooks as `invitation.bounced`.
#[utoipa::path(
    operation_id = "receive_mail_events",
    tag = "mail-events",
    params(ProviderPath),
    request_body(content = String, description = "The provider's webhook payload, as it sends it", content_type = "application/json"),
    responses(
        (status = 200, description = "Recorded", body = MailEventsRecorded),
        (status = 400, description = "`malformed_json`: authenticated, but not the provider's payload",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`: not signed, badly signed, too old, or the provider's key is not configured; nothing changes",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: not a provider this service takes events from",
            body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`unavailable`: an SNS subscription confirmation could not be confirmed now; SNS retries",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/mail-events/{provider}")]
pub async fn receive_mail_events(
    state: web::Data<AppState>,
    path: web::Path<ProviderPath>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let provider = path.into_inner().provider;
    let Some(provider) = events::PROVIDERS.iter().copied().find(|p| *p == provider) else {
        return Err(AppError::NotFound);
    };
    let event_request = EventRequest {
        headers: request
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect(),
        body: body.to_vec(),
    };
    let refused = |error: EventError| match error {
        EventError::UnknownProvider => AppError::NotFound,
        EventError::Unauthorized(why) => {
            tracing::warn!(provider, why, "mail event refused");
            AppError::Unauthorized(AuthFailure::UnsignedEvent)
        }
        EventError::Malformed(why) => AppError::MalformedJson(why),
        EventError::Unavailable(why) => AppError::Unavailable(why),
    };
    let keys = &state.config.mail_event_keys;
    let parsed = if provider == "ses" {
        match events::ses::verify(&event_request, keys)
            .await
            .map_err(refused)?
        {
            SnsOutcome::Events(events) => events,
            SnsOutcome::SubscriptionConfirmed { topic_arn } => {
                tracing::info!(topic_arn, "SNS subscription confirmed");
                Vec::new()
            }
            SnsOutcome::Unsubscribed { topic_arn } => {
                tracing::warn!(topic_arn, "SNS subscription ended");
                Vec::new()
            }
        }
    } else {
        events::verify(provider, &event_request, keys, state.clock.now()).map_err(refused)?
    };
    for event in &parsed {
        state
            .metrics
            .observe_mail_event(provider, event.kind.as_str());
    }
    let clock = state.clock.clone();
    let events = parsed.clone();
    let applied = state
        .db(move |conn| crate::services::mail_events::record(conn, &clock, provider, &events))
        .await?;
    let count = |wanted: Applied| applied.iter().filter(|a| **a == wanted).count();
    Ok(json(
        StatusCode::OK,
        &MailEventsRecorded {
            received: parsed.len(),
            changed: count(Applied::Changed),
            unknown: count(Applied::Unknown),
        },
    ))
}
