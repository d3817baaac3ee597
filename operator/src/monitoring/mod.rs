//! What users come for: the alert rules and dashboards of a Store, as pure
//! functions of its spec. The reconcile loop applies them (a PrometheusRule,
//! dashboard ConfigMaps); `operator render` prints them; the tests run them
//! through promtool and a real Prometheus.
//!
//! Modules use each other one way: `rules` (types, SLIs) <- `alerts` (with
//! their `proof`) <- [`groups`] <- `check`, `promtool`.
//!
//! ```text
//! Store ─> rules::Target ─┬─> groups ───────> PrometheusRule: SLI recording rules, alerts
//!                         │                    (check::check: would Prometheus load them?)
//!                         └─> alerts::alerts ─> each alert, proven (feature `proofs`, the tests': Alert::prove) by a case that fires it and
//!                                               one that keeps it quiet (promtool::unit_tests)
//! Store ─> dashboards::store ──> the Store's Grafana dashboard
//! operator ─> dashboards::fleet ─> overview, APM, business insights, workbench
//! ```

pub mod alerts;
pub mod check;
pub mod dashboards;
#[cfg(feature = "proofs")]
pub mod promtool;
pub mod proof;
pub mod rules;

/// Every rule group of the Store: SLIs, then alerts.
pub fn groups(t: &rules::Target) -> Vec<rules::RuleGroup> {
    vec![
        rules::RuleGroup {
            name: format!("storeops.{}.{}.sli", t.namespace, t.store_id),
            rules: rules::sli_rules(t),
        },
        rules::RuleGroup {
            name: format!("storeops.{}.{}.alerts", t.namespace, t.store_id),
            rules: alerts::alerts(t)
                .into_iter()
                .flat_map(|a| a.rules)
                .collect(),
        },
    ]
}
