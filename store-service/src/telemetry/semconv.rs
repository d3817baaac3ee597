//! OpenTelemetry HTTP semantic conventions that keep telemetry bounded: the
//! request method as a closed set (`_OTHER` for the rest) and the server span
//! name built from it.

/// The methods the HTTP semantic conventions know (RFC 9110 and RFC 5789),
/// compared case-sensitively: `get` is not `GET`.
pub const KNOWN_METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// `http.request.method` (and the `http_request_method` label) of any other method.
pub const OTHER_METHOD: &str = "_OTHER";

/// Span attribute with the method as the client sent it, set only when
/// `http.request.method` is `_OTHER`.
pub const ATTR_HTTP_REQUEST_METHOD_ORIGINAL: &str = "http.request.method_original";

/// `url.scheme` (and the `url_scheme` label) of every request: the service
/// serves plain HTTP (TLS, if any, ends before it).
pub const URL_SCHEME_HTTP: &str = "http";

/// `error.type` (and the `error_type` label) of a server response: the status
/// code as a string for a 5xx, none otherwise (a 4xx is the client's error,
/// not the server's).
pub fn server_error_type(status: u16) -> Option<String> {
    (status >= 500).then(|| status.to_string())
}

/// The method part of a server span name when the method is `_OTHER`: the
/// conventions say `HTTP`, so that span names stay a closed set too.
const OTHER_METHOD_SPAN_NAME: &str = "HTTP";

/// A request method reduced to the closed set of the conventions. Metric
/// labels take this type, not a string, so client input cannot reach them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestMethod(&'static str);

impl RequestMethod {
    /// `method` itself when known (exact case), `_OTHER` otherwise.
    pub fn of(method: &str) -> Self {
        let known = KNOWN_METHODS.iter().find(|known| **known == method);
        RequestMethod(known.copied().unwrap_or(OTHER_METHOD))
    }

    /// The value of `http.request.method` and of the `http_request_method` label.
    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// True for `_OTHER`: the original then goes to `http.request.method_original`.
    pub fn is_other(self) -> bool {
        self.0 == OTHER_METHOD
    }

    /// The server span name: `{method} {route}`, `{method}` without a route,
    /// and `HTTP` in place of the method when it is `_OTHER`.
    pub fn span_name(self, route: &str) -> String {
        let method = if self.is_other() {
            OTHER_METHOD_SPAN_NAME
        } else {
            self.0
        };
        if route.is_empty() {
            method.to_string()
        } else {
            format!("{method} {route}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_methods_are_kept_exactly() {
        for m in KNOWN_METHODS {
            assert_eq!(RequestMethod::of(m).as_str(), m);
            assert!(!RequestMethod::of(m).is_other());
        }
    }

    #[test]
    fn anything_else_is_other_case_sensitively() {
        for m in [
            "get",
            "Post",
            "M1",
            "PROPFIND",
            "QUERY",
            "",
            "GET ",
            "X".repeat(300).as_str(),
        ] {
            assert_eq!(RequestMethod::of(m).as_str(), OTHER_METHOD, "{m:?}");
        }
    }

    #[test]
    fn error_type_is_the_status_of_server_errors_only() {
        assert_eq!(server_error_type(500).as_deref(), Some("500"));
        assert_eq!(server_error_type(503).as_deref(), Some("503"));
        for ok in [200, 201, 304, 400, 404, 409, 499] {
            assert_eq!(server_error_type(ok), None, "{ok}");
        }
    }

    #[test]
    fn span_names_use_http_for_other_methods() {
        assert_eq!(
            RequestMethod::of("GET").span_name("/products"),
            "GET /products"
        );
        assert_eq!(RequestMethod::of("GET").span_name(""), "GET");
        assert_eq!(
            RequestMethod::of("M1").span_name("/products"),
            "HTTP /products"
        );
        assert_eq!(RequestMethod::of("M1").span_name(""), "HTTP");
    }
}
