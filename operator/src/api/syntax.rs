//! The syntax of the Store's string fields: each pattern the schema gives
//! the API server, its message, and the Rust predicate `operator render`
//! checks it with (the tests run both on the same inputs). A leaf: it uses
//! nothing else of the crate, so every module of `api` may use it.

/// Pattern of `spec.storeId`: it becomes a label value and a metric label.
pub const STORE_ID_PATTERN: &str = "^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$";
/// Pattern of `spec.currency` (ISO 4217).
pub const CURRENCY_PATTERN: &str = "^[A-Z]{3}$";
/// Pattern of an http(s) URL field.
///
/// Only the characters RFC 3986 allows in a URL (anything else is
/// percent-encoded): a URL reaches alert annotations, which Prometheus
/// expands as Go templates, so `{{`, quotes, backslashes, spaces and
/// newlines are refused at admission instead of breaking every rule.
pub const URL_PATTERN: &str = "^https?://[-A-Za-z0-9._~:/?#@!$&'()*+,;=%\\[\\]]+$";

/// A dashboard folder: one directory name.
pub const FOLDER_PATTERN: &str = r"^[^./\\\p{Cc}][^/\\\p{Cc}]*$";

/// Pattern of a scrape interval from 1s to 2m ([`MAX_INTERVAL_SECONDS`]),
/// written as the Prometheus Operator's own Duration pattern takes it
/// (minutes before seconds): 1s to 120s, 1m, 2m, 1m1s to 1m59s.
pub const INTERVAL_PATTERN: &str =
    "^(([1-9]|[1-9][0-9]|1[01][0-9]|120)s|[12]m|1m([1-9]|[1-5][0-9])s)$";
/// Longest scrape interval: every `rate()` the fleet's rules take over a
/// store's own series (10 minutes at the shortest) spans at least 4 scrapes
/// (`monitoring::rules` tests it), and the per-pod sums see every scrape
/// within Prometheus' 5-minute lookback.
pub const MAX_INTERVAL_SECONDS: u64 = 120;
/// Pattern of a label key: an optional DNS-subdomain prefix and `/`, then a
/// name of at most 63 letters, digits, '-', '_' or '.'.
pub const LABEL_KEY_PATTERN: &str = "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$";
/// Pattern of a label value: empty, or at most 63 letters, digits, '-', '_'
/// or '.', starting and ending with a letter or digit.
pub const LABEL_VALUE_PATTERN: &str = "^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$";
/// Most extra labels on one object (also bounds the rules' CEL cost).
pub const MAX_LABELS: usize = 16;
/// Message of the label key rule (after the field).
pub const MSG_LABEL_KEY: &str = "keys must be an optional DNS prefix and '/', then at most 63 \
     letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
/// Message of the label value rule (after the field).
pub const MSG_LABEL_VALUE: &str = "values must be at most 63 letters, digits, '-', '_' or '.', \
     starting and ending with a letter or digit";

/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$` of at most `max` characters.
pub fn is_dns_label(s: &str, max: usize) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    !s.is_empty()
        && s.len() <= max
        && s.starts_with(alnum)
        && s.ends_with(alnum)
        && s.chars().all(|c| alnum(c) || c == '-')
}

/// [`STORE_ID_PATTERN`].
pub fn is_store_id(s: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    !s.is_empty()
        && s.len() <= 63
        && s.starts_with(alnum)
        && s.ends_with(alnum)
        && s.chars().all(|c| alnum(c) || c == '-' || c == '_')
}

/// [`CURRENCY_PATTERN`].
pub fn is_currency(s: &str) -> bool {
    s.len() == 3 && s.chars().all(|c| c.is_ascii_uppercase())
}

/// [`FOLDER_PATTERN`] (the length is checked apart).
pub fn is_folder(s: &str) -> bool {
    let bad = |c: char| c == '/' || c == '\\' || c.is_control();
    !s.is_empty() && !s.starts_with('.') && !s.chars().any(bad)
}

/// [`URL_PATTERN`].
pub fn is_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"));
    let url_char = |c: char| c.is_ascii_alphanumeric() || "-._~:/?#@!$&'()*+,;=%[]".contains(c);
    rest.is_some_and(|r| !r.is_empty() && r.chars().all(url_char))
}

/// The seconds of an interval written as [`INTERVAL_PATTERN`] allows
/// (`<m>m`, `<s>s` or `<m>m<s>s`), whatever its value; `None` otherwise.
pub fn interval_seconds(s: &str) -> Option<u64> {
    let number = |t: &str| -> Option<u64> {
        (!t.is_empty()
            && t.len() <= 4
            && t.bytes().all(|b| b.is_ascii_digit())
            && !t.starts_with('0'))
        .then(|| t.parse().ok())
        .flatten()
    };
    let (minutes, rest) = match s.split_once('m') {
        Some((m, rest)) => (number(m)?, rest),
        None => (0, s),
    };
    let seconds = match rest {
        "" => 0,
        r => number(r.strip_suffix('s')?)?,
    };
    (minutes > 0 || seconds > 0).then_some(minutes * 60 + seconds)
}

/// [`INTERVAL_PATTERN`]: a duration from 1s to 2m, minutes before seconds,
/// seconds below 60 after minutes.
pub fn is_interval(s: &str) -> bool {
    let seconds_part_ok = s.split_once('m').is_none_or(|(_, r)| {
        r.is_empty() || r.trim_end_matches('s').parse::<u64>().is_ok_and(|v| v < 60)
    });
    interval_seconds(s).is_some_and(|v| (1..=MAX_INTERVAL_SECONDS).contains(&v)) && seconds_part_ok
}

/// Whether a key and value are valid Kubernetes label syntax (the Rust
/// mirror of the CEL rules of the extra-labels maps, for `operator render`).
pub fn is_label(key: &str, value: &str) -> bool {
    let (prefix, name) = key
        .rsplit_once('/')
        .map_or((None, key), |(p, n)| (Some(p), n));
    let name_ok = |s: &str, allow_empty: bool| {
        (allow_empty && s.is_empty())
            || (s.len() <= 63
                && s.starts_with(|c: char| c.is_ascii_alphanumeric())
                && s.ends_with(|c: char| c.is_ascii_alphanumeric())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
    };
    let prefix_ok =
        prefix.is_none_or(|p| !p.is_empty() && p.split('.').all(|l| is_dns_label(l, 63)));
    prefix_ok && name_ok(name, false) && name_ok(value, true)
}
