//! Bad input from clients: every refusal is a JSON error with a stable code,
//! counted in `app_errors_total`; no metric label takes client input, so
//! fuzzed methods, paths and headers add no series, and a made-up method is
//! `_OTHER` on the server span.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use storeops_contract::metrics;

use crate::harness::{ADMIN_TOKEN, Client, Collector, Server, sample, wait_until};

/// A small xorshift generator: reproducible from the seed printed on failure.
struct Fuzz(u64);

/// RFC 9110 `tchar`s: what a method token may be made of.
const TCHARS: &[u8] =
    b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const HEADERS: [&str; 9] = [
    "user-agent",
    "accept",
    "accept-language",
    "content-type",
    "authorization",
    "x-request-id",
    "x-forwarded-for",
    "traceparent",
    "tracestate",
];

impl Fuzz {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn token(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len)
            .map(|_| alphabet[self.below(alphabet.len())] as char)
            .collect()
    }

    /// A made-up method: a random token, or a known method in the wrong case.
    fn method(&mut self) -> String {
        match self.below(4) {
            0 => ["get", "Post", "pUT", "delete", "Patch", "options"][self.below(6)].to_string(),
            _ => {
                let len = 1 + self.below(12);
                format!("FZ{}", self.token(TCHARS, len))
            }
        }
    }

    /// A path: one that matches no route, or a real route with random segments.
    fn path(&mut self) -> String {
        let seg = |f: &mut Fuzz| {
            let len = 6 + f.below(10);
            f.token(b"abcdefghijklmnopqrstuvwxyz0123456789-_.~", len)
        };
        let junk = |f: &mut Fuzz| format!("%{:02X}%{:02X}", f.next() as u8, f.next() as u8);
        match self.below(7) {
            0 => format!("/fz-{}/{}", seg(self), seg(self)),
            1 => format!("/products/{}/{}/{}", seg(self), seg(self), seg(self)),
            2 => format!("/fz-{}{}", seg(self), junk(self)),
            3 => "/products".to_string(),
            4 => format!("/products/fz-{}", seg(self)),
            5 => format!("/products/fz-{}/buy", seg(self)),
            _ => "/admin/faults".to_string(),
        }
    }

    /// A header value: visible ASCII, spaces and obs-text bytes.
    fn header_value(&mut self) -> HeaderValue {
        let len = 1 + self.below(40);
        let mut bytes: Vec<u8> = (0..len)
            .map(|_| match self.below(10) {
                0 => 0x80 + self.below(0x80) as u8,
                1 => b' ',
                _ => 0x21 + self.below(0x5e) as u8,
            })
            .collect();
        bytes[0] = b'v';
        HeaderValue::from_bytes(&bytes).unwrap()
    }
}

/// Sends `n` fuzzed requests; each must be refused with a JSON error.
/// Returns the method labels and path segments they would have made, to
/// check none appears.
async fn fuzz_round(c: &Client, f: &mut Fuzz, n: usize, seed: u64) -> Vec<String> {
    let mut used = Vec::new();
    for _ in 0..n {
        let (method, path) = if f.below(5) == 0 {
            (
                "GET".to_string(),
                format!("/fz-{}", f.token(b"abcdef0123456789", 12)),
            )
        } else {
            (f.method(), f.path())
        };
        let mut headers = HeaderMap::new();
        for _ in 0..4 {
            let name = HeaderName::from_static(HEADERS[f.below(HEADERS.len())]);
            headers.insert(name, f.header_value());
        }
        let r = c
            .http
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", c.base),
            )
            .headers(headers)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert!(
            (400..500).contains(&status) && body["error"]["code"].is_string(),
            "seed {seed}: {method} {path} answered {status} {body}"
        );
        used.push(format!("http_request_method=\"{method}\""));
        used.extend(
            path.split('/')
                .filter(|s| s.starts_with("fz-"))
                .map(str::to_string),
        );
    }
    used
}

/// Sample lines of the classic exposition: one per series.
fn series(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.rsplit_once(' ').map_or(l, |(s, _)| s))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn fuzzed_methods_paths_and_headers_add_no_series() {
    let server = Server::sqlite();
    let c = Client::new(&server);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut f = Fuzz(seed);
    c.metrics(false).await;

    let mut used = fuzz_round(&c, &mut f, 200, seed).await;
    let first = c.metrics(false).await;
    used.extend(fuzz_round(&c, &mut f, 200, seed).await);
    let second = c.metrics(false).await;

    let (a, b) = (series(&first), series(&second));
    let new: Vec<&&str> = b.iter().filter(|s| !a.contains(s)).collect();
    assert!(
        new.is_empty() && a.len() == b.len(),
        "seed {seed}: a second fuzz round added series ({} -> {}): {new:#?}",
        a.len(),
        b.len()
    );
    let count = format!("{}_count{{", metrics::HTTP_SERVER_REQUEST_DURATION_SECONDS);
    let other_unmatched = second.lines().any(|l| {
        l.starts_with(&count)
            && l.contains("http_request_method=\"_OTHER\"")
            && l.contains("http_route=\"\"")
            && l.contains("http_response_status_code=\"404\"")
    });
    assert!(
        other_unmatched,
        "no _OTHER series with an empty route:\n{second}"
    );
    let other_routed = second.lines().any(|l| {
        l.starts_with(&count)
            && l.contains("http_request_method=\"_OTHER\"")
            && l.contains("http_route=\"/products\"")
            && l.contains("http_response_status_code=\"405\"")
    });
    assert!(other_routed, "no _OTHER 405 series on /products:\n{second}");
    let leaks: Vec<&String> = used
        .iter()
        .filter(|input| second.contains(input.as_str()))
        .filter(|input| *input != "http_request_method=\"GET\"")
        .collect();
    assert!(
        leaks.is_empty(),
        "seed {seed}: client input became label values: {leaks:?}"
    );
}

/// One rejection: the request and the answer it must get.
struct Case {
    what: &'static str,
    method: &'static str,
    path: &'static str,
    headers: &'static [(&'static str, &'static [u8])],
    body: &'static [u8],
    status: u16,
    code: &'static str,
}

const JSON: (&str, &[u8]) = ("content-type", b"application/json");
const ADMIN: (&str, &[u8]) = ("authorization", b"Bearer test-admin-token-0123456789");

fn case(
    what: &'static str,
    method: &'static str,
    path: &'static str,
    headers: &'static [(&'static str, &'static [u8])],
    body: &'static [u8],
    answer: (u16, &'static str),
) -> Case {
    Case {
        what,
        method,
        path,
        headers,
        body,
        status: answer.0,
        code: answer.1,
    }
}

fn rejection_cases() -> Vec<Case> {
    let buy = "/products/apple/buy";
    let stock = "/products/apple/stock";
    vec![
        case(
            "path: invalid UTF-8",
            "GET",
            "/products/%FF",
            &[],
            b"",
            (400, "invalid_path"),
        ),
        case(
            "path: invalid UTF-8 on buy",
            "POST",
            "/products/%C3%28/buy",
            &[JSON],
            b"{\"quantity\":1}",
            (400, "invalid_path"),
        ),
        case(
            "path: invalid UTF-8 on stock",
            "PUT",
            "/products/%FF/stock",
            &[JSON, ADMIN],
            b"{\"stock\":1}",
            (400, "invalid_path"),
        ),
        case(
            "path: control character",
            "GET",
            "/products/%00",
            &[],
            b"",
            (400, "invalid_name"),
        ),
        case(
            "query: unknown field",
            "GET",
            "/products?colour=red",
            &[],
            b"",
            (400, "invalid_query"),
        ),
        case(
            "query: repeated field",
            "GET",
            "/products?category=a&category=b",
            &[],
            b"",
            (400, "invalid_query"),
        ),
        case(
            "header: no Authorization",
            "PUT",
            stock,
            &[JSON],
            b"{\"stock\":1}",
            (401, "missing_token"),
        ),
        case(
            "header: not Bearer",
            "PUT",
            stock,
            &[JSON, ("authorization", b"Basic YTpi")],
            b"{\"stock\":1}",
            (401, "invalid_token"),
        ),
        case(
            "header: non-ASCII token",
            "PUT",
            stock,
            &[JSON, ("authorization", b"Bearer \xff\xfe")],
            b"{\"stock\":1}",
            (401, "invalid_token"),
        ),
        case(
            "header: non-ASCII content type",
            "POST",
            buy,
            &[("content-type", b"application/json\xff")],
            b"{\"quantity\":1}",
            (415, "unsupported_media_type"),
        ),
        case(
            "body: wrong content type",
            "POST",
            buy,
            &[("content-type", b"text/plain")],
            b"{\"quantity\":1}",
            (415, "unsupported_media_type"),
        ),
        case(
            "body: no content type",
            "POST",
            buy,
            &[],
            b"{\"quantity\":1}",
            (415, "unsupported_media_type"),
        ),
        case(
            "body: malformed JSON",
            "POST",
            buy,
            &[JSON],
            b"{\"quantity\": ",
            (400, "malformed_json"),
        ),
        case(
            "body: empty",
            "POST",
            buy,
            &[JSON],
            b"",
            (400, "malformed_json"),
        ),
        case(
            "body: invalid UTF-8",
            "POST",
            buy,
            &[JSON],
            b"{\"quantity\": \"\xff\"}",
            (400, "malformed_json"),
        ),
        case(
            "body: wrong field type",
            "POST",
            buy,
            &[JSON],
            b"{\"quantity\": \"two\"}",
            (400, "invalid_body"),
        ),
        case(
            "body: unknown field",
            "POST",
            buy,
            &[JSON],
            b"{\"quantity\": 1, \"coupon\": 1}",
            (400, "invalid_body"),
        ),
        case(
            "body: not an object",
            "POST",
            buy,
            &[JSON],
            b"[1]",
            (400, "invalid_body"),
        ),
        case(
            "body: negative latency",
            "PUT",
            "/admin/faults",
            &[JSON, ADMIN],
            b"{\"latency_ms\": -1}",
            (400, "invalid_body"),
        ),
        case(
            "body: too large",
            "POST",
            buy,
            &[JSON],
            LARGE_BODY,
            (413, "payload_too_large"),
        ),
        case(
            "route: unknown path",
            "GET",
            "/nowhere",
            &[],
            b"",
            (404, "route_not_found"),
        ),
        case(
            "route: trailing slash",
            "GET",
            "/products/",
            &[],
            b"",
            (404, "route_not_found"),
        ),
        case(
            "route: too deep",
            "GET",
            "/products/apple/buy/now",
            &[],
            b"",
            (404, "route_not_found"),
        ),
        case(
            "route: made-up method, unknown path",
            "M1",
            "/nowhere",
            &[],
            b"",
            (404, "route_not_found"),
        ),
        case(
            "method: DELETE on a GET route",
            "DELETE",
            "/products",
            &[],
            b"",
            (405, "method_not_allowed"),
        ),
        case(
            "method: made-up",
            "M1",
            "/products",
            &[],
            b"",
            (405, "method_not_allowed"),
        ),
        case(
            "method: lowercase get",
            "get",
            "/products",
            &[],
            b"",
            (405, "method_not_allowed"),
        ),
        case(
            "method: POST on a probe",
            "POST",
            "/livez",
            &[],
            b"",
            (405, "method_not_allowed"),
        ),
        case(
            "method: PATCH on an admin route",
            "PATCH",
            "/admin/faults",
            &[ADMIN],
            b"",
            (405, "method_not_allowed"),
        ),
    ]
}

/// 64 KiB of JSON: over the default 16 KiB body limit.
const LARGE_BODY: &[u8] = &[b' '; 64 * 1024];

async fn send(c: &Client, case: &Case) -> reqwest::Response {
    let mut headers = HeaderMap::new();
    for (name, value) in case.headers {
        headers.append(*name, HeaderValue::from_bytes(value).unwrap());
    }
    c.http
        .request(
            Method::from_bytes(case.method.as_bytes()).unwrap(),
            format!("{}{}", c.base, case.path),
        )
        .headers(headers)
        .body(case.body.to_vec())
        .send()
        .await
        .unwrap()
}

fn errors_counted(text: &str, code: &str) -> f64 {
    sample(
        text,
        metrics::APP_ERRORS_TOTAL,
        &format!("app_error_code=\"{code}\""),
    )
    .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_rejection_is_a_counted_json_error() {
    let server = Server::sqlite();
    let c = Client::new(&server);
    let spec = c.get("/openapi.json").await.1.to_string();
    let mut failures = Vec::new();
    for case in rejection_cases() {
        let before = errors_counted(&c.metrics(false).await, case.code);
        let r = send(&c, &case).await;
        let status = r.status().as_u16();
        let content_type = r.headers().get("content-type").cloned();
        let text = r.text().await.unwrap();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let after = errors_counted(&c.metrics(false).await, case.code);
        let shape_ok = body.as_object().is_some_and(|o| o.len() == 1)
            && body["error"].as_object().is_some_and(|e| e.len() == 2)
            && body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty());
        let got = (status, body["error"]["code"].as_str().unwrap_or("-"));
        if got != (case.status, case.code)
            || !shape_ok
            || content_type
                .as_ref()
                .is_none_or(|t| t != "application/json")
            || after != before + 1.0
            || !spec.contains(case.code)
        {
            failures.push(format!(
                "{}: {} {} -> {status} {content_type:?} {text:?}; want {} {}; counted {before} -> {after}",
                case.what, case.method, case.path, case.status, case.code
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        c.stock("apple").await,
        100,
        "a refused request changed the stock"
    );
    assert_eq!(
        c.get("/admin/faults").await.0,
        401,
        "the admin routes still need the token"
    );
}

#[test]
fn the_admin_header_of_the_table_carries_the_test_token() {
    assert_eq!(ADMIN.1, format!("Bearer {ADMIN_TOKEN}").as_bytes());
}

/// A made-up method reaches the trace backend as `_OTHER`, with the original
/// only in `http.request.method_original` and `HTTP` in the span name.
#[tokio::test(flavor = "multi_thread")]
async fn made_up_methods_are_other_on_the_server_span() {
    let collector = Collector::start();
    let endpoint = collector.endpoint(false);
    let server = Server::sqlite_with(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
    ]);
    let c = Client::new(&server);
    for (method, path) in [
        ("M1", "/products"),
        ("get", "/fz-nowhere"),
        ("PATCH", "/products"),
    ] {
        let r = c
            .http
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", c.base),
            )
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{method} {path}");
    }
    let server_spans = || {
        collector
            .spans()
            .into_iter()
            .filter(|s| s["kind"] == 2)
            .collect::<Vec<_>>()
    };
    wait_until(
        "three server spans at the collector",
        Duration::from_secs(20),
        || server_spans().len() >= 3,
    );
    let spans = server_spans();
    let find = |name: &str, original: Option<&str>| {
        spans.iter().find(|s| {
            s["name"] == name && s["attrs"]["http.request.method_original"].as_str() == original
        })
    };
    let m1 = find("HTTP /products", Some("M1")).expect("M1 span");
    assert_eq!(m1["attrs"]["http.request.method"], "_OTHER");
    assert_eq!(m1["attrs"]["http.route"], "/products");
    let lower = find("HTTP", Some("get")).expect("lowercase get span, no route");
    assert_eq!(lower["attrs"]["http.request.method"], "_OTHER");
    let patch = find("PATCH /products", None).expect("PATCH span");
    assert_eq!(patch["attrs"]["http.request.method"], "PATCH");
}
