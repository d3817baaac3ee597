//! The proof an alert carries: input series (in promtool's notation), when
//! to look, and what must fire then. Data only: [`super::alerts`] builds the
//! cases, [`super::promtool`] writes them as `promtool test rules` files.

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

/// An alert expected to fire: its labels and the value of its expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    /// Every label of the firing alert but `alertname`.
    pub labels: BTreeMap<String, String>,
    /// The expression's value, rendered into the annotations.
    pub value: f64,
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
