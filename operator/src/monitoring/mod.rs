//! What users come for: the alert rules and dashboards of a Store, as pure
//! functions of its spec. The reconcile loop applies them (a PrometheusRule,
//! dashboard ConfigMaps); `operator render` prints them; the tests run them
//! through promtool and a real Prometheus.
//!
//! Modules use each other one way: `rules` (types, SLIs, objectives) <- `alerts` (with
//! their `proof`) <- [`fleet_groups`], [`store_group`] <- `check`, `promtool`.
//!
//! ```text
//! Store ─> rules::Target ─> store_group ──> the Store's PrometheusRule: its objectives and facts as series
//! operator ─> fleet_groups ─────────────> the fleet's PrometheusRule: SLI recording rules, alerts joined
//!                                          to the objectives (check::check: would Prometheus load them?)
//! alerts::alerts ─> each alert, proven (feature `proofs`, the tests': Alert::prove) over several
//!                   Stores by cases that fire it for some and keep it quiet for others (promtool)
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

/// The fleet's rule groups, the same for every Store: the SLI recording
/// rules, then the alerts. Applied once, in the operator's namespace.
pub fn fleet_groups() -> Vec<rules::RuleGroup> {
    vec![
        rules::RuleGroup {
            name: "storeops.fleet.sli".into(),
            rules: rules::fleet_sli_rules(),
        },
        rules::RuleGroup {
            name: "storeops.fleet.alerts".into(),
            rules: alerts::alerts().into_iter().flat_map(|a| a.rules).collect(),
        },
    ]
}

/// The Store's own rule group: its objectives and facts (2 rules).
pub fn store_group(t: &rules::Target) -> rules::RuleGroup {
    rules::RuleGroup {
        name: format!("storeops.{}.{}.objectives", t.namespace, t.store_id),
        rules: rules::objective_rules(t),
    }
}

/// The rule groups of the fleet and of `stores`: what Prometheus loads from
/// the fleet's PrometheusRule and theirs.
pub fn groups(stores: &[rules::Target]) -> Vec<rules::RuleGroup> {
    let mut groups = fleet_groups();
    groups.extend(stores.iter().map(store_group));
    groups
}
