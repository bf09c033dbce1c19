//! The two HTML pages served from the binary — the invitee's accept page and
//! the API reference (`/docs`, Swagger UI) — and the headers that keep them
//! from being framed, sniffed, or made to run scripts they do not carry.

use std::sync::LazyLock;

use actix_web::HttpResponse;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

pub const ACCEPT_PATH: &str = "/invitations/accept";
pub const DOCS_PATH: &str = "/docs";

const ACCEPT_HTML: &str = include_str!("../../templates/accept.html");
const DOCS_HTML: &str = include_str!("../../templates/docs.html");

/// The accept page runs only its own inline script and style, allowed by
/// hash; it talks to this origin only and cannot be framed.
static ACCEPT_CSP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "default-src 'none'; script-src {}; style-src {}; connect-src 'self'; \
         img-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
        hashes(ACCEPT_HTML, "script"),
        hashes(ACCEPT_HTML, "style"),
    )
});

/// Swagger UI loads its scripts as files from `/docs/` (no inline script);
/// it sets `style` attributes, hence inline styles, and embeds data: images.
const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
    connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
    frame-ancestors 'none'";

/// `'sha256-…'` of every inline `<tag>…</tag>` element (without attributes) of `page`.
fn hashes(page: &str, tag: &str) -> String {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut sources = Vec::new();
    let mut rest = page;
    while let Some(start) = rest.find(&open) {
        let body = &rest[start + open.len()..];
        let Some(end) = body.find(&close) else { break };
        let digest = Sha256::digest(&body.as_bytes()[..end]);
        sources.push(format!("'sha256-{}'", STANDARD.encode(digest)));
        rest = &body[end + close.len()..];
    }
    if sources.is_empty() {
        "'none'".to_owned()
    } else {
        sources.join(" ")
    }
}

fn html(page: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page)
}

pub async fn accept_page() -> HttpResponse {
    html(ACCEPT_HTML)
}

pub async fn docs_page() -> HttpResponse {
    html(DOCS_HTML)
}

/// `X-Content-Type-Options: nosniff` on every answer; on the HTML pages (and
/// Swagger UI's files) also a Content-Security-Policy that forbids framing;
/// the accept page, whose address holds the token, is never cached nor sent
/// as a referrer.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let path = req.path().to_owned();
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let csp = if path == ACCEPT_PATH {
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        HeaderValue::from_str(&ACCEPT_CSP).ok()
    } else if path == DOCS_PATH || path.starts_with("/docs/") {
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        Some(HeaderValue::from_static(DOCS_CSP))
    } else {
        None
    };
    if let Some(csp) = csp {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        headers.insert(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        );
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_inline_script_and_style_is_hashed() {
        let page = "<style>a{}</style><script>one()</script><p></p><script>two()</script>";
        let scripts = hashes(page, "script");
        assert_eq!(scripts.matches("'sha256-").count(), 2);
        assert_eq!(
            hashes("<script>one()</script>", "script"),
            format!(
                "'sha256-{}'",
                STANDARD.encode(Sha256::digest(b"one()".as_slice()))
            )
        );
        assert_eq!(hashes("<p>no script</p>", "script"), "'none'");
        assert!(!ACCEPT_CSP.contains("unsafe"));
        assert!(ACCEPT_CSP.contains("script-src 'sha256-"));
        assert!(ACCEPT_CSP.contains("style-src 'sha256-"));
    }
}
