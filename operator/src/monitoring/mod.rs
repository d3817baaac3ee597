//! What users come for: the alert rules and dashboards of the Stores, as pure
//! functions of their specs. The operator applies them (the fleet's
//! PrometheusRule, dashboard ConfigMaps) and serves each Store's objectives
//! at its `/metrics`; `operator render` prints them; the tests run them
//! through promtool and a real Prometheus.
//!
//! Modules use each other one way: `rules` (types, SLIs, objectives) <- `alerts` (with
//! their `proof`) <- [`fleet_groups`] <- `check`, `promtool`.
//!
//! ```text
//! Store ─> rules::Target ─> Target::exported ─> the operator's /metrics: its objectives and facts as series
//! operator ─> fleet_groups ─────────────────> the fleet's PrometheusRule: the objectives recorded, SLI recording
//!                                              rules, alerts joined to the objectives (check::check: would
//!                                              Prometheus load them?)
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

/// The fleet's rule group, the same for every Store: the SLI recording
/// rules, then the alerts. Applied once, in the operator's namespace. One
/// group, because Prometheus evaluates a group's rules in order at one
/// timestamp: the alerts read the ratios of this very evaluation, where
/// alerts in a group of their own would read them up to an interval late.
pub fn fleet_groups() -> Vec<rules::RuleGroup> {
    let mut rules = rules::fleet_sli_rules();
    rules.extend(alerts::alerts().into_iter().flat_map(|a| a.rules));
    vec![rules::RuleGroup {
        name: "storeops.fleet".into(),
        rules,
    }]
}

#[cfg(test)]
mod tests {
    use promql_parser::parser::{Expr, parse};

    /// The range selectors of `e`: (metric name, range in seconds).
    fn ranges(e: &Expr, out: &mut Vec<(String, u64)>) {
        match e {
            Expr::MatrixSelector(m) => {
                out.push((m.vs.name.clone().unwrap_or_default(), m.range.as_secs()))
            }
            Expr::Aggregate(a) => ranges(&a.expr, out),
            Expr::Unary(u) => ranges(&u.expr, out),
            Expr::Binary(b) => {
                ranges(&b.lhs, out);
                ranges(&b.rhs, out);
            }
            Expr::Paren(p) => ranges(&p.expr, out),
            Expr::Subquery(s) => ranges(&s.expr, out),
            Expr::Call(c) => c.args.args.iter().for_each(|a| ranges(a, out)),
            _ => {}
        }
    }

    /// Field case: `serviceMonitor.interval: 5m` left every 5-minute SLI
    /// empty (a `rate()` over one scrape has no two samples). The longest
    /// interval admission lets in still gives every `rate()` over a store's
    /// own (scraped, not recorded) series 4 scrapes.
    #[test]
    fn every_rate_over_scraped_series_spans_four_of_the_longest_scrape_interval() {
        let mut all = Vec::new();
        for rule in super::fleet_groups().iter().flat_map(|g| &g.rules) {
            ranges(&parse(&rule.expr).unwrap(), &mut all);
        }
        let scraped: Vec<_> = all
            .iter()
            .filter(|(name, _)| !name.starts_with("storeops"))
            .collect();
        let shortest = scraped.iter().map(|(_, s)| *s).min().unwrap();
        assert!(
            shortest >= 4 * crate::api::syntax::MAX_INTERVAL_SECONDS,
            "{shortest} s: {scraped:?}"
        );
        // The recorded series are read over 5 minutes at the shortest: the
        // evaluation interval (Prometheus' own, 30 s by default) gives 10.
        assert_eq!(all.iter().map(|(_, s)| *s).min(), Some(300));
    }

    proptest::proptest! {
        /// Over the admitted ranges: a Store admission accepts gets finite
        /// objectives, every burn-rate threshold above 0 (never firing on a
        /// healthy store), and for each SLO a critical row below 100 % (a
        /// total outage pages); the scrape interval gives every rate() over
        /// its series 4 scrapes. promtool runs draws of it end to end
        /// (tests/operator/promtool.rs).
        #[test]
        fn every_admitted_store_gets_rules_that_load_and_alerts_that_can_fire(
            availability in 0.9f64..=0.99999,
            latency in 0.9f64..=0.99999,
            bucket in 0usize..14,
            window_days in 7u32..=90,
            min_events in 0u32..=1_000_000,
            low_stock in 0i64..=1_000_000_000,
            interval in 1u64..=120,
        ) {
            let mut store = crate::api::Store::test();
            let slo = &mut store.spec.monitoring.alerts.slo;
            slo.availability_target = availability;
            slo.latency_target = latency;
            slo.latency_threshold_seconds =
                storeops_contract::metrics::HTTP_SERVER_REQUEST_DURATION_BUCKETS[bucket];
            slo.window_days = window_days;
            slo.min_events = min_events;
            store.spec.monitoring.alerts.low_stock_threshold = low_stock;
            store.spec.monitoring.service_monitor.interval = if interval % 60 == 0 {
                format!("{}m", interval / 60)
            } else if interval > 60 {
                format!("1m{}s", interval - 60)
            } else {
                format!("{interval}s")
            };
            proptest::prop_assume!(crate::api::validation::validate(&store).is_ok());
            let t = store.resolved().monitored;
            // Every objective is a number Prometheus keeps as it is.
            proptest::prop_assert!(t.exported().iter().all(|e| e.value.is_finite()));
            for budget in [1.0 - t.availability_target, 1.0 - t.latency_target] {
                let thresholds: Vec<(f64, &str)> = super::rules::BURN_RATES
                    .iter()
                    .map(|b| (b.factor(t.window_days) * budget, b.severity))
                    .collect();
                proptest::prop_assert!(thresholds.iter().all(|(th, _)| *th > 0.0));
                proptest::prop_assert!(
                    thresholds.iter().any(|(th, sev)| *sev == "critical" && *th < 1.0),
                    "{thresholds:?}"
                );
            }
        }
    }
}
