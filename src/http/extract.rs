//! Extractors for request bodies and query strings: JSON bodies with this service's error
//! rules (400 for non-JSON, 413 over 1 MiB, 422 listing every bad field).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::domain::field_error::{FieldError, Partial};
use crate::domain::paging::PageRequest;
use crate::error::AppError;
use crate::http::json_fields::{parse_partially, parse_value};

pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A JSON request body of type `T`. Its errors (400, 413, 422) are held until
/// the handler asks, so that 401/403/404 are decided first: a caller who may
/// not use an endpoint learns nothing from how it validates bodies.
pub struct JsonBody<T>(Result<T, AppError>);

impl<T> JsonBody<T> {
    pub fn parse(self) -> Result<T, AppError> {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_json(req, payload);
        Box::pin(async move { Ok(JsonBody(body.await.and_then(parse_value))) })
    }
}

/// Like `JsonBody`, but fields of the wrong type are handed over as errors
/// (`Partial`) so the service can list them with its own rule violations.
pub struct JsonFields<T>(Result<Partial<T>, AppError>);

impl<T> JsonFields<T> {
    pub fn parse(self) -> Result<Partial<T>, AppError> {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonFields<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_json(req, payload);
        Box::pin(async move { Ok(JsonFields(body.await.and_then(parse_partially))) })
    }
}

fn has_json_content_type(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Reads at most 1 MiB of a body declared as JSON and parses it as JSON.
fn read_json(
    req: &HttpRequest,
    payload: &mut Payload,
) -> impl Future<Output = Result<Value, AppError>> + 'static {
    let is_json = has_json_content_type(req);
    let mut payload = payload.take();
    async move {
        if !is_json {
            return Err(AppError::MalformedJson(
                "Content-Type must be application/json".into(),
            ));
        }
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| AppError::MalformedJson(e.to_string()))?;
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(AppError::PayloadTooLarge(
                    "The request body is larger than 1 MiB.".into(),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| AppError::MalformedJson(e.to_string()))
    }
}

/// Query parameters of type `T`; a bad value is a 422 naming the parameter,
/// held (like `JsonBody`'s errors) until the handler has authorised the caller.
pub struct QueryParams<T>(Result<T, AppError>);

impl<T> QueryParams<T> {
    pub fn parse(self) -> Result<T, AppError> {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for QueryParams<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(QueryParams(parse_query(req.query_string()))))
    }
}

/// `limit` and `cursor`, the paging parameters of every listing.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1–100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl QueryParams<PageParams> {
    pub fn page(self) -> Result<PageRequest, AppError> {
        let params = self.parse()?;
        PageRequest::parse(params.limit, params.cursor.as_deref()).map_err(AppError::Validation)
    }
}

/// Both results, with the field errors of either (or both) in one 422.
pub fn both<A, B>(a: Result<A, AppError>, b: Result<B, AppError>) -> Result<(A, B), AppError> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(AppError::Validation(mut first)), Err(AppError::Validation(second))) => {
            first.extend(second);
            Err(AppError::Validation(first))
        }
        (Err(error), _) | (_, Err(error)) => Err(error),
    }
}

pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, AppError> {
    match web::Query::<T>::from_query(query) {
        Ok(parsed) => Ok(parsed.into_inner()),
        Err(whole) => {
            let mut errors: Vec<FieldError> = query
                .split('&')
                .filter(|pair| !pair.is_empty())
                .filter_map(|pair| {
                    let name = pair.split('=').next().unwrap_or_default();
                    web::Query::<T>::from_query(pair)
                        .err()
                        .map(|e| FieldError::new(name, "invalid_value", format!("{name}: {e}")))
                })
                .collect();
            if errors.is_empty() {
                errors.push(FieldError::new("", "invalid_value", whole.to_string()));
            }
            Err(AppError::Validation(errors))
        }
    }
}
