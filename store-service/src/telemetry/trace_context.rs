//! W3C Trace Context, parsed strictly.
//!
//! The SDK's `TraceContextPropagator` accepts ids of the wrong length (a
//! 13-digit parent id becomes a span id) and a few other malformed headers, so
//! a caller's garbage could join our traces. [`StrictTraceContext`] follows the
//! "traceparent header" and "tracestate header" parsing rules of W3C Trace
//! Context: a malformed `traceparent` is ignored (a new trace starts, and its
//! `tracestate` is ignored too); a malformed `tracestate` is dropped while a
//! valid `traceparent` is still used. Injection is the SDK's.

use opentelemetry::Context;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry_sdk::propagation::TraceContextPropagator;

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";
/// Length of a version-00 `traceparent`, and the minimum of any version.
const TRACEPARENT_LEN: usize = 55;
/// Most list-members a `tracestate` may carry.
const MAX_TRACESTATE_MEMBERS: usize = 32;

/// The fields of a valid `traceparent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Traceparent {
    /// 16 bytes, never all zeros.
    pub trace_id: u128,
    /// 8 bytes, never all zeros.
    pub parent_id: u64,
    /// All eight bits as sent; only `sampled` (bit 0) is acted on.
    pub flags: u8,
}

/// Why a `traceparent` is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TraceparentError {
    #[error("the version is not 2 lowercase hex digits")]
    Version,
    #[error("version ff is invalid")]
    ForbiddenVersion,
    #[error("version 00 takes exactly 55 characters, other versions at least 55")]
    Length,
    #[error("a longer future version needs `-` right after the flags")]
    FutureSuffix,
    #[error("fields are not separated by `-`")]
    Delimiter,
    #[error("the trace-id is not 32 lowercase hex digits")]
    TraceId,
    #[error("the trace-id is all zeros")]
    ZeroTraceId,
    #[error("the parent-id is not 16 lowercase hex digits")]
    ParentId,
    #[error("the parent-id is all zeros")]
    ZeroParentId,
    #[error("the trace-flags are not 2 lowercase hex digits")]
    Flags,
}

/// Why a `tracestate` is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TracestateError {
    #[error("more than 32 list-members")]
    TooManyMembers,
    #[error("a list-member has no `=`")]
    MissingEquals,
    #[error("a key does not follow the key grammar")]
    Key,
    #[error("a value does not follow the value grammar")]
    Value,
    #[error("a key appears twice")]
    DuplicateKey,
}

/// Parses one `traceparent` value (`version-traceid-parentid-flags`).
///
/// Version `00` must be exactly 55 characters; a higher version at least 55,
/// with `-` right after the flags when longer (its extra fields are ignored).
/// Every hex digit must be lowercase.
pub fn parse_traceparent(value: &str) -> Result<Traceparent, TraceparentError> {
    use TraceparentError as E;
    let b = value.as_bytes();
    let version = b.get(..2).and_then(lower_hex).ok_or(E::Version)?;
    match (version, b.len()) {
        (0xff, _) => return Err(E::ForbiddenVersion),
        (0, TRACEPARENT_LEN) => {}
        (0, _) => return Err(E::Length),
        (_, n) if n < TRACEPARENT_LEN => return Err(E::Length),
        (_, n) if n > TRACEPARENT_LEN && b[TRACEPARENT_LEN] != b'-' => {
            return Err(E::FutureSuffix);
        }
        _ => {}
    }
    if [2, 35, 52].iter().any(|&i| b[i] != b'-') {
        return Err(E::Delimiter);
    }
    let trace_id = lower_hex(&b[3..35]).ok_or(E::TraceId)?;
    let parent_id = lower_hex(&b[36..52]).ok_or(E::ParentId)? as u64;
    let flags = lower_hex(&b[53..55]).ok_or(E::Flags)? as u8;
    if trace_id == 0 {
        return Err(E::ZeroTraceId);
    }
    if parent_id == 0 {
        return Err(E::ZeroParentId);
    }
    Ok(Traceparent {
        trace_id,
        parent_id,
        flags,
    })
}

/// The value of at most 32 lowercase hex digits; `None` for anything else
/// (uppercase included: the spec refuses it).
fn lower_hex(digits: &[u8]) -> Option<u128> {
    if digits.is_empty() || digits.len() > 32 {
        return None;
    }
    digits.iter().try_fold(0u128, |acc, &d| {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            _ => return None,
        };
        Some(acc << 4 | u128::from(v))
    })
}

/// Parses the `tracestate` header fields (several are joined with `,`, as
/// RFC 9110 combines them) into its key/value list-members, in order.
/// Empty list-members are skipped; at most 32 members, unique keys.
pub fn parse_tracestate(fields: &[&str]) -> Result<Vec<(String, String)>, TracestateError> {
    let mut members: Vec<(String, String)> = Vec::new();
    for member in fields.iter().flat_map(|f| f.split(',')) {
        let member = member.trim_matches([' ', '\t']);
        if member.is_empty() {
            continue;
        }
        let (key, value) = member
            .split_once('=')
            .ok_or(TracestateError::MissingEquals)?;
        if !valid_key(key) {
            return Err(TracestateError::Key);
        }
        if !valid_value(value) {
            return Err(TracestateError::Value);
        }
        if members.iter().any(|(k, _)| k == key) {
            return Err(TracestateError::DuplicateKey);
        }
        if members.len() == MAX_TRACESTATE_MEMBERS {
            return Err(TracestateError::TooManyMembers);
        }
        members.push((key.to_string(), value.to_string()));
    }
    Ok(members)
}

/// `key = simple-key / multi-tenant-key`:
/// `simple-key = lcalpha 0*255(keychar)`,
/// `multi-tenant-key = (lcalpha / DIGIT) 0*240(keychar) "@" lcalpha 0*13(keychar)`,
/// `keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/"`.
fn valid_key(key: &str) -> bool {
    let keychars = |s: &str, max: usize| {
        s.len() <= max
            && s.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"_-*/".contains(&c))
    };
    match key.split_once('@') {
        None => match key.as_bytes().first() {
            Some(c) if c.is_ascii_lowercase() => keychars(&key[1..], 255),
            _ => false,
        },
        Some((tenant, system)) => {
            let tenant_ok = tenant
                .as_bytes()
                .first()
                .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && keychars(&tenant[1..], 240);
            let system_ok = system
                .as_bytes()
                .first()
                .is_some_and(u8::is_ascii_lowercase)
                && keychars(&system[1..], 13);
            tenant_ok && system_ok
        }
    }
}

/// `value = 0*255(chr) nblk-chr`: 1 to 256 printable ASCII characters other
/// than `,` and `=`, not ending with a space.
fn valid_value(value: &str) -> bool {
    let nblk = |c: u8| (0x21..=0x7e).contains(&c) && c != b',' && c != b'=';
    let b = value.as_bytes();
    (1..=256).contains(&b.len())
        && b.iter().all(|&c| c == b' ' || nblk(c))
        && b.last().is_some_and(|&c| nblk(c))
}

/// The caller's span context, when its trace context is valid.
///
/// Several `traceparent` fields are ambiguous and ignored, like a malformed one.
pub fn remote_span_context(extractor: &dyn Extractor) -> Option<SpanContext> {
    let parents = extractor.get_all(TRACEPARENT)?;
    let [parent] = parents.as_slice() else {
        return None;
    };
    let parent = parse_traceparent(parent).ok()?;
    let state = extractor
        .get_all(TRACESTATE)
        .and_then(|fields| parse_tracestate(&fields).ok())
        .and_then(|members| TraceState::from_key_value(members).ok())
        .unwrap_or_default();
    Some(SpanContext::new(
        TraceId::from(parent.trace_id),
        SpanId::from(parent.parent_id),
        TraceFlags::new(parent.flags) & TraceFlags::SAMPLED,
        true,
        state,
    ))
}

/// W3C Trace Context propagation with strict extraction (see the module).
#[derive(Debug, Default)]
pub struct StrictTraceContext {
    inner: TraceContextPropagator,
}

impl TextMapPropagator for StrictTraceContext {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        self.inner.inject_context(cx, injector);
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        match remote_span_context(extractor) {
            Some(sc) => cx.with_remote_span_context(sc),
            None => cx.clone(),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        self.inner.fields()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
    const PARENT: &str = "b7ad6b7169203331";

    fn tp(version: &str, trace: &str, parent: &str, flags: &str) -> String {
        format!("{version}-{trace}-{parent}-{flags}")
    }

    #[test]
    fn valid_traceparents() {
        let ok = parse_traceparent(&tp("00", TRACE, PARENT, "01")).unwrap();
        assert_eq!(
            ok,
            Traceparent {
                trace_id: 0x0af7651916cd43dd8448eb211c80319c,
                parent_id: 0xb7ad6b7169203331,
                flags: 1
            }
        );
        for v in [
            tp("00", TRACE, PARENT, "00"),
            tp("00", TRACE, PARENT, "ff"),
            tp("01", TRACE, PARENT, "01"),
            tp("cc", TRACE, PARENT, "01"),
            format!(
                "{}-what-the-future-will-be-like",
                tp("cc", TRACE, PARENT, "01")
            ),
            format!("{}-", tp("fe", TRACE, PARENT, "09")),
        ] {
            assert!(parse_traceparent(&v).is_ok(), "{v}");
        }
    }

    #[test]
    fn malformed_traceparents_are_refused() {
        use TraceparentError as E;
        let zeros32 = "0".repeat(32);
        let cases = [
            (
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203-01".to_string(),
                E::Length,
            ),
            (tp("0", TRACE, PARENT, "01"), E::Version),
            (tp("0g", TRACE, PARENT, "01"), E::Version),
            (tp("0A", TRACE, PARENT, "01"), E::Version),
            (tp("ff", TRACE, PARENT, "01"), E::ForbiddenVersion),
            (format!("{}-", tp("00", TRACE, PARENT, "01")), E::Length),
            (
                format!("{}-extra", tp("00", TRACE, PARENT, "01")),
                E::Length,
            ),
            (tp("00", TRACE, PARENT, "1"), E::Length),
            (tp("cc", TRACE, PARENT, "1"), E::Length),
            (
                format!("{}what", tp("cc", TRACE, PARENT, "01")),
                E::FutureSuffix,
            ),
            (format!("00_{TRACE}-{PARENT}-01"), E::Delimiter),
            (format!("00-{TRACE}_{PARENT}-01"), E::Delimiter),
            (tp("00", &TRACE.to_uppercase(), PARENT, "01"), E::TraceId),
            (
                tp("00", &format!("{}x", &TRACE[..31]), PARENT, "01"),
                E::TraceId,
            ),
            (tp("00", TRACE, &PARENT.to_uppercase(), "01"), E::ParentId),
            (tp("00", TRACE, PARENT, "0A"), E::Flags),
            (tp("00", TRACE, PARENT, "zz"), E::Flags),
            (tp("00", &zeros32, PARENT, "01"), E::ZeroTraceId),
            (tp("00", TRACE, "0000000000000000", "01"), E::ZeroParentId),
            (String::new(), E::Version),
            ("00-é".to_string(), E::Length),
        ];
        for (value, want) in cases {
            assert_eq!(parse_traceparent(&value), Err(want), "{value}");
        }
    }

    #[test]
    fn tracestate_grammar() {
        use TracestateError as E;
        assert_eq!(
            parse_tracestate(&["congo=t61rcWkgMzE, rojo=00f067aa0ba902b7"]).unwrap(),
            [
                ("congo".into(), "t61rcWkgMzE".into()),
                ("rojo".into(), "00f067aa0ba902b7".into())
            ]
        );
        assert_eq!(parse_tracestate(&["a=1", "b=2"]).unwrap().len(), 2);
        assert_eq!(parse_tracestate(&["", " , ,a=1,"]).unwrap().len(), 1);
        for ok in ["t0@sys=1", "0t@s=1", "a_-*/9=x y", "k=!\"#+-<>~"] {
            assert!(parse_tracestate(&[ok]).is_ok(), "{ok}");
        }
        let n = |count: usize| {
            (0..count)
                .map(|i| format!("k{i}=v"))
                .collect::<Vec<_>>()
                .join(",")
        };
        assert!(parse_tracestate(&[&n(32)]).is_ok());
        let cases = [
            (n(33), E::TooManyMembers),
            ("novalue".to_string(), E::MissingEquals),
            ("Foo=bar".to_string(), E::Key),
            ("1abc=bar".to_string(), E::Key),
            ("t@Sys=1".to_string(), E::Key),
            ("t@abcdefghijklmno=1".to_string(), E::Key),
            ("a@b@c=1".to_string(), E::Key),
            (format!("a{}=1", "b".repeat(256)), E::Key),
            ("=1".to_string(), E::Key),
            ("a=".to_string(), E::Value),
            ("a=b=c".to_string(), E::Value),
            (format!("a={}", "v".repeat(257)), E::Value),
            ("a=caf\u{e9}".to_string(), E::Value),
            ("a=1,a=2".to_string(), E::DuplicateKey),
        ];
        for (value, want) in cases {
            assert_eq!(parse_tracestate(&[&value]), Err(want), "{value}");
        }
    }

    fn extract(headers: &[(&str, &str)]) -> Option<SpanContext> {
        // A HashMap holds one value per key; duplicates are tested in the service tests.
        let map: HashMap<String, String> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let cx = StrictTraceContext::default().extract(&map);
        let sc = cx.span().span_context().clone();
        sc.is_valid().then_some(sc)
    }

    #[test]
    fn extraction_keeps_a_valid_parent_without_a_bad_tracestate() {
        let parent = tp("00", TRACE, PARENT, "01");
        let sc = extract(&[("traceparent", &parent), ("tracestate", "a=1")]).unwrap();
        assert_eq!(sc.trace_id().to_string(), TRACE);
        assert_eq!(sc.span_id().to_string(), PARENT);
        assert!(sc.is_sampled() && sc.is_remote());
        assert_eq!(sc.trace_state().header(), "a=1");
        let sc = extract(&[("traceparent", &parent), ("tracestate", "A=1")]).unwrap();
        assert_eq!(sc.trace_state().header(), "");
        assert!(
            extract(&[
                (
                    "traceparent",
                    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203-01"
                ),
                ("tracestate", "a=1")
            ])
            .is_none()
        );
        assert!(extract(&[("tracestate", "a=1")]).is_none());
    }
}
