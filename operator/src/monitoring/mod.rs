//! What users come for: the alert rules and dashboards of a Store, as pure
//! functions of its spec. The reconcile loop applies them (a PrometheusRule,
//! dashboard ConfigMaps); `operator render` prints them; the tests run them
//! through promtool and a real Prometheus.
//!
//! ```text
//! Store ─> rules::Target ─┬─> rules::groups ──> PrometheusRule: SLI recording rules, alerts
//!                         │                    (check::check: would Prometheus load them?)
//!                         └─> alerts::alerts ─> each alert with a case that fires it and
//!                                               one that keeps it quiet (promtool::unit_tests)
//! Store ─> dashboards::store ──> the Store's Grafana dashboard
//! operator ─> dashboards::fleet ─> overview, APM, business insights, workbench
//! ```

pub mod alerts;
pub mod check;
pub mod dashboards;
pub mod promtool;
pub mod rules;
