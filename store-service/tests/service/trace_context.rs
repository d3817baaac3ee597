//! Incoming W3C trace context, parsed strictly: each case either continues the
//! caller's trace or starts a new one, as the response's `traceparent` shows.

use reqwest::header::{HeaderMap, HeaderValue};

use crate::harness::{Client, Server};

const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const PARENT: &str = "b7ad6b7169203331";

/// What the service must do with a request's trace context.
#[derive(Debug, PartialEq)]
enum Want {
    /// Continue `TRACE`, echoing this `tracestate` (empty: none).
    Continue(String),
    /// Start a new trace, with no `tracestate`.
    NewTrace,
}

fn valid() -> String {
    format!("00-{TRACE}-{PARENT}-01")
}

fn cases() -> Vec<(&'static str, Vec<String>, Vec<String>, Want)> {
    use Want::*;
    let tp = |v: &str, t: &str, p: &str, f: &str| vec![format!("{v}-{t}-{p}-{f}")];
    let members = |n: usize| {
        vec![
            (0..n)
                .map(|i| format!("k{i}=v"))
                .collect::<Vec<_>>()
                .join(","),
        ]
    };
    let thirty_two = members(32)[0].clone();
    let none = Vec::new;
    let ts = |s: &str| vec![s.to_string()];
    let keep = |s: &str| Continue(s.to_string());
    vec![
        ("valid, sampled", vec![valid()], none(), keep("")),
        (
            "valid, not sampled",
            tp("00", TRACE, PARENT, "00"),
            none(),
            keep(""),
        ),
        (
            "13-digit parent id (issue 16)",
            ts("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203-01"),
            none(),
            NewTrace,
        ),
        (
            "31-digit trace id",
            tp("00", &TRACE[..31], PARENT, "01"),
            none(),
            NewTrace,
        ),
        (
            "uppercase trace id",
            tp("00", &TRACE.to_uppercase(), PARENT, "01"),
            none(),
            NewTrace,
        ),
        (
            "uppercase parent id",
            tp("00", TRACE, &PARENT.to_uppercase(), "01"),
            none(),
            NewTrace,
        ),
        (
            "uppercase flags",
            tp("00", TRACE, PARENT, "0A"),
            none(),
            NewTrace,
        ),
        (
            "non-hex flags",
            tp("00", TRACE, PARENT, "zz"),
            none(),
            NewTrace,
        ),
        (
            "all-zero trace id",
            tp("00", &"0".repeat(32), PARENT, "01"),
            none(),
            NewTrace,
        ),
        (
            "all-zero parent id",
            tp("00", TRACE, &"0".repeat(16), "01"),
            none(),
            NewTrace,
        ),
        (
            "version ff",
            tp("ff", TRACE, PARENT, "01"),
            none(),
            NewTrace,
        ),
        (
            "uppercase version",
            tp("0A", TRACE, PARENT, "01"),
            none(),
            NewTrace,
        ),
        (
            "one-digit version",
            tp("0", TRACE, PARENT, "01"),
            none(),
            NewTrace,
        ),
        (
            "version 00 with a trailing dash",
            vec![format!("{}-", valid())],
            none(),
            NewTrace,
        ),
        (
            "version 00 with a fifth field",
            vec![format!("{}-xyz", valid())],
            none(),
            NewTrace,
        ),
        (
            "future version, 55 characters",
            tp("cc", TRACE, PARENT, "01"),
            none(),
            keep(""),
        ),
        (
            "future version, extra fields",
            vec![format!(
                "cc-{TRACE}-{PARENT}-01-what-the-future-will-be-like"
            )],
            none(),
            keep(""),
        ),
        (
            "future version, no dash after flags",
            vec![format!("cc-{TRACE}-{PARENT}-01what")],
            none(),
            NewTrace,
        ),
        (
            "wrong delimiter",
            vec![format!("00_{TRACE}_{PARENT}_01")],
            none(),
            NewTrace,
        ),
        ("empty", ts(""), none(), NewTrace),
        (
            "two traceparent fields",
            vec![valid(), valid()],
            none(),
            NewTrace,
        ),
        (
            "valid tracestate",
            vec![valid()],
            ts("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"),
            keep("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"),
        ),
        (
            "tracestate in two fields",
            vec![valid()],
            vec!["congo=a".into(), "rojo=b".into()],
            keep("congo=a,rojo=b"),
        ),
        (
            "tracestate field not ASCII",
            vec![valid()],
            vec!["congo=a".into(), "rojo=caf\u{e9}".into()],
            keep(""),
        ),
        (
            "multi-tenant key",
            vec![valid()],
            ts("fw529a3039@dt=x"),
            keep("fw529a3039@dt=x"),
        ),
        (
            "32 list-members",
            vec![valid()],
            vec![thirty_two.clone()],
            Continue(thirty_two),
        ),
        ("33 list-members", vec![valid()], members(33), keep("")),
        ("uppercase key", vec![valid()], ts("Congo=x"), keep("")),
        ("value with =", vec![valid()], ts("congo=a=b"), keep("")),
        (
            "duplicate key",
            vec![valid()],
            ts("congo=a,congo=b"),
            keep(""),
        ),
        ("empty value", vec![valid()], ts("congo="), keep("")),
        (
            "system id over 14 characters",
            vec![valid()],
            ts("t@abcdefghijklmno=x"),
            keep(""),
        ),
        (
            "tracestate under a bad traceparent",
            ts("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203-01"),
            ts("congo=x"),
            NewTrace,
        ),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_trace_context_starts_a_new_trace() {
    let server = Server::sqlite();
    let c = Client::new(&server);
    let mut failures = Vec::new();
    for (what, parents, states, want) in cases() {
        let mut headers = HeaderMap::new();
        for p in &parents {
            headers.append("traceparent", HeaderValue::from_str(p).unwrap());
        }
        for s in &states {
            headers.append("tracestate", HeaderValue::from_str(s).unwrap());
        }
        let r = c
            .http
            .get(format!("{}/products", c.base))
            .headers(headers)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{what}");
        let out = r.headers()["traceparent"].to_str().unwrap().to_string();
        let state = r
            .headers()
            .get("tracestate")
            .map_or("", |v| v.to_str().unwrap())
            .to_string();
        let fields: Vec<&str> = out.split('-').collect();
        assert!(
            fields.len() == 4 && fields[1].len() == 32 && fields[2].len() == 16,
            "{what}: traceparent out {out}"
        );
        let got = match fields[1] == TRACE {
            true => Want::Continue(state),
            false if state.is_empty() => Want::NewTrace,
            false => Want::Continue(format!("<{state} on a new trace>")),
        };
        if got != want {
            failures.push(format!(
                "{what}: in {parents:?} {states:?}, out {out}; got {got:?}, want {want:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A request's W3C baggage is taken in (the propagator extracts it) but not
/// echoed: the response carries the trace context only.
#[tokio::test(flavor = "multi_thread")]
async fn baggage_is_not_echoed_to_the_client() {
    let server = Server::sqlite();
    let c = Client::new(&server);
    let r = c
        .http
        .get(format!("{}/products", c.base))
        .header("traceparent", valid())
        .header("baggage", "tenant=acme,region=eu")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers().contains_key("traceparent"));
    assert!(r.headers().get("baggage").is_none(), "{:?}", r.headers());
}
