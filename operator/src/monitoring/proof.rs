//! The proof an alert carries: input series (in promtool's notation), when
//! to look, and what must fire then. Data only: [`super::alerts`] builds the
//! cases, [`super::promtool`] writes them as `promtool test rules` files.
//! [`render`] renders annotations as Prometheus does, for the expectations.

use std::collections::BTreeMap;

/// One input series in promtool's expanding notation (`0+60x300`: from 0,
/// up 60 per minute, for 300 minutes).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Metric name.
    pub metric: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Values, one per evaluation interval (1m).
    pub values: String,
}

impl Series {
    /// A series.
    pub fn new(metric: &str, labels: BTreeMap<String, String>, values: &str) -> Series {
        Series {
            metric: metric.to_string(),
            labels,
            values: values.to_string(),
        }
    }

    /// `metric{a="b",...}`.
    pub fn selector(&self) -> String {
        let labels: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        format!("{}{{{}}}", self.metric, labels.join(","))
    }
}

/// An alert expected to fire: its labels, the value of its expression and
/// its annotations as Prometheus renders them.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    /// Every label of the firing alert but `alertname`.
    pub labels: BTreeMap<String, String>,
    /// The expression's value, rendered into the annotations.
    pub value: f64,
    /// summary, description, runbook_url, rendered.
    pub annotations: BTreeMap<String, String>,
}

/// Input series, when to look, and which alerts of the name fire then.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The input.
    pub series: Vec<Series>,
    /// When to evaluate, e.g. `4h`.
    pub eval_time: String,
    /// What fires; empty: nothing.
    pub expected: Vec<Expected>,
}

/// What proves one alert: a case that fires every rule of it, one where
/// nothing of its name fires, and more where some rules fire and others not.
#[derive(Debug, Clone, PartialEq)]
pub struct Proof {
    /// Series under which it fires, and what fires.
    pub fires: Case,
    /// Series under which nothing of this name fires.
    pub quiet: Case,
    /// More cases, where some rules of the alert fire and others not (the
    /// burn-rate factors told apart).
    pub more: Vec<Case>,
}

/// Renders the template functions our annotations use, as Prometheus does:
/// `{{ $labels.x }}`, `{{ $value | humanize }}`, `{{ $value |
/// humanizePercentage }}`; any other action is rendered by `lookup` (the
/// alerts' queries of a Store's objectives), or left as it is.
pub fn render(
    template: &str,
    labels: &BTreeMap<String, String>,
    value: f64,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .map_or(rest.len(), |e| start + e + 2);
        let action = rest[start + 2..end.saturating_sub(2)].trim();
        out.push_str(&match action {
            "$value | humanize" => humanize(value),
            "$value | humanizePercentage" => humanize_percentage(value),
            a if a.starts_with("$labels.") => labels.get(&a[8..]).cloned().unwrap_or_default(),
            other => lookup(other).unwrap_or_else(|| format!("{{{{ {other} }}}}")),
        });
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Prometheus's `humanizePercentage`: times 100, four significant digits, `%`.
pub fn humanize_percentage(v: f64) -> String {
    format!("{}%", go_g4(v * 100.0))
}

/// Prometheus's `humanize`: SI prefixes and four significant digits.
pub fn humanize(mut v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return go_g4(v);
    }
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", go_g4(v))
}

/// Go's `%.4g`: four significant digits, no trailing zeros, exponent form
/// below 1e-4 and from 1e4.
pub fn go_g4(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let sci = format!("{v:.3e}");
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("an integer exponent");
    let trim = |s: &str| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if !(-4..4).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{}e{sign}{:02}", trim(mantissa), exp.abs());
    }
    trim(&format!("{v:.*}", (3 - exp) as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_prometheus_prints_them() {
        assert_eq!(go_g4(50.0), "50");
        assert_eq!(go_g4(33.33333), "33.33");
        assert_eq!(go_g4(0.4875), "0.4875");
        assert_eq!(go_g4(12345.0), "1.234e+04");
        assert_eq!(go_g4(0.00001234), "1.234e-05");
        assert_eq!(humanize(0.4875), "487.5m");
        assert_eq!(humanize(1234.0), "1.234k");
        assert_eq!(humanize(15.0), "15");
        assert_eq!(humanize(0.0), "0");
    }

    #[test]
    fn templates_render_labels_and_values() {
        let labels = BTreeMap::from([("pod".to_string(), "p-1".to_string())]);
        assert_eq!(
            render(
                "{{ $labels.pod }} at {{ $value | humanizePercentage }}",
                &labels,
                0.5,
                &|_| None
            ),
            "p-1 at 50%"
        );
    }
}
