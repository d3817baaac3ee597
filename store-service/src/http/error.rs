//! JSON errors with stable codes: `{"error": {"code": "...", "message": "..."}}`.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::db::WriteError;
use crate::domain::DomainError;
use crate::service::{ServiceError, error_code};

/// The code of an error response, left in the response's extensions so the
/// telemetry middleware can count it and put it on the span.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub &'static str);

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::PAYLOAD_TOO_LARGE {
            // The unread rest of the body makes the connection unusable: say
            // so, or a client may send its next request into a closing socket.
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        response.extensions_mut().insert(ErrorCode(self.code));
        response
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let code = error_code(&e);
        let status = match &e {
            WriteError::Domain(DomainError::ProductNotFound) => StatusCode::NOT_FOUND,
            WriteError::Domain(DomainError::InsufficientStock { .. }) => StatusCode::CONFLICT,
            WriteError::Domain(_) => StatusCode::BAD_REQUEST,
            WriteError::Db(db) => {
                tracing::error!(error = %db, "request failed on the database");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let message = match &e {
            // Database errors can reveal internals; the log has the detail.
            WriteError::Db(_) => "the database could not complete the request".to_string(),
            WriteError::Domain(d) => d.to_string(),
        };
        ApiError::new(status, code, message)
    }
}

/// A JSON object body, decoded into `T`; rejections are JSON errors with
/// stable codes: `malformed_json`, `invalid_body` (400), `payload_too_large`
/// (413), `unsupported_media_type` (415).
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<Value>::from_request(req, state).await?;
        // serde fills a struct from an array too (`[1]` would buy one item):
        // the API takes objects only.
        if !value.is_object() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                "the body must be a JSON object",
            ));
        }
        serde_json::from_value(value).map(JsonBody).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                format!("the JSON body does not fit: {e}"),
            )
        })
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let (status, code) = match &rejection {
            JsonRejection::JsonSyntaxError(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            JsonRejection::JsonDataError(_) => (StatusCode::BAD_REQUEST, "invalid_body"),
            JsonRejection::MissingJsonContentType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
            }
            _ => (StatusCode::BAD_REQUEST, "invalid_body"),
        };
        ApiError::new(status, code, rejection.body_text())
    }
}

/// `Path<T>` whose rejections are JSON errors: `invalid_path` (400) for a
/// segment that does not decode (bad percent-encoding, invalid UTF-8, wrong
/// type), `internal_error` (500) for a route that does not fit its handler.
pub struct PathParam<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathParam<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(value) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(PathParam(value))
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        if rejection.status().is_server_error() {
            // A route template and its handler disagree: our bug, not the client's.
            tracing::error!(error = %rejection.body_text(), "path parameters do not fit the handler");
            return ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "the service failed to answer",
            );
        }
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_path",
            rejection.body_text(),
        )
    }
}

/// `Query<T>` whose rejections are JSON errors: `invalid_query` (400).
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(value) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(QueryParams(value))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            rejection.body_text(),
        )
    }
}

/// The stable code and message of an error status that has no code of its own.
fn fallback_code(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::NOT_FOUND => ("route_not_found", "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("method_not_allowed", "method not allowed on this route")
        }
        StatusCode::REQUEST_TIMEOUT => ("request_timeout", "the request took too long"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "the content type is not supported",
        ),
        s if s.is_client_error() => ("bad_request", "the request was refused"),
        _ => ("internal_error", "the service failed to answer"),
    }
}

/// Puts an error response made outside [`ApiError`] (axum's own 404 and 405,
/// a layer's refusal, an extractor not wrapped yet) into the contract: the
/// JSON body with a stable code, so it is also counted. Other responses, and
/// errors that already have a code, pass unchanged.
pub fn into_contract(response: Response) -> Response {
    let status = response.status();
    let is_error = status.is_client_error() || status.is_server_error();
    if !is_error || response.extensions().get::<ErrorCode>().is_some() {
        return response;
    }
    let (code, message) = fallback_code(status);
    tracing::debug!(
        status = status.as_u16(),
        code,
        "error response without a code"
    );
    let mut mapped = ApiError::new(status, code, message).into_response();
    // Keep what the original said besides its body (e.g. `Allow` on a 405).
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            mapped.headers_mut().append(name.clone(), value.clone());
        }
    }
    mapped
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The codes [`into_contract`] gives error responses that carry none.
    const FALLBACK_CODES: [&str; 7] = [
        "route_not_found",
        "method_not_allowed",
        "request_timeout",
        "payload_too_large",
        "unsupported_media_type",
        "bad_request",
        "internal_error",
    ];

    fn code(r: &Response) -> Option<&'static str> {
        r.extensions().get::<ErrorCode>().map(|c| c.0)
    }

    #[test]
    fn bare_error_responses_get_a_code_and_keep_their_headers() {
        let bare = (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET,HEAD")],
            "plain text",
        )
            .into_response();
        let r = into_contract(bare);
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(code(&r), Some("method_not_allowed"));
        assert_eq!(r.headers()[header::ALLOW], "GET,HEAD");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
    }

    #[test]
    fn every_error_status_maps_to_a_fallback_code() {
        for status in (400..600).filter_map(|s| StatusCode::from_u16(s).ok()) {
            let (code, _) = fallback_code(status);
            assert!(FALLBACK_CODES.contains(&code), "{status}: {code}");
        }
        for code in FALLBACK_CODES {
            assert!(
                crate::http::openapi::ERROR_CODES.contains(&code),
                "{code} is not in the OpenAPI document"
            );
        }
    }

    #[test]
    fn successes_and_coded_errors_pass_unchanged() {
        let ok = into_contract(StatusCode::OK.into_response());
        assert_eq!((ok.status(), code(&ok)), (StatusCode::OK, None));
        let coded = into_contract(
            ApiError::new(StatusCode::NOT_FOUND, "product_not_found", "no").into_response(),
        );
        assert_eq!(code(&coded), Some("product_not_found"));
    }
}
