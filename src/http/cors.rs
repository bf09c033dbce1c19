//! CORS for the SPA origins in `INVITATIONS_CORS_ORIGINS` (none: no CORS
//! headers, browsers allow same-origin calls only; `*`: any origin).

use actix_cors::Cors;
use actix_web::http::{Method, header};

pub fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static("x-request-id"),
            // Sent by common tracing and error-reporting tools in SPAs.
            header::HeaderName::from_static("traceparent"),
            header::HeaderName::from_static("tracestate"),
            header::HeaderName::from_static("baggage"),
            header::HeaderName::from_static("sentry-trace"),
        ])
        .expose_headers([
            header::LOCATION,
            header::RETRY_AFTER,
            header::HeaderName::from_static("x-request-id"),
            header::HeaderName::from_static("idempotent-replayed"),
        ])
        .max_age(3_600);
    for origin in origins {
        cors = if origin == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(origin)
        };
    }
    cors
}
