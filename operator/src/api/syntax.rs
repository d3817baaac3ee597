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

/// Pattern of a Prometheus scrape interval, e.g. 30s or 1m30s.
pub const INTERVAL_PATTERN: &str = "^([0-9]+(ms|s|m|h))+$";
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

/// [`INTERVAL_PATTERN`]: one or more `<digits><unit>`.
pub fn is_interval(s: &str) -> bool {
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ms", "s", "m", "h"]
            .into_iter()
            .find(|u| rest.starts_with(u));
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
    }
    !s.is_empty()
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
