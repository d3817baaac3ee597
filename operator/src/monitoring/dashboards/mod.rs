//! Grafana dashboards as code. Each dashboard is built from [`Panel`]s whose
//! queries are data ([`Query`]), so the tests can run every PromQL, LogQL and
//! TraceQL expression against real backends, and the JSON is written in one
//! place ([`Dashboard::json`]).
//!
//! Datasources are chosen by variables (`${prometheus}`, `${loki}`,
//! `${tempo}`), never by uid; every dashboard links to the others through the
//! `storeops` tag.
//!
//! - [`store`]: the deep-dive of one Store (a ConfigMap next to it);
//! - [`overview`], [`apm`], [`business`], [`workbench`]: the fleet, once in
//!   the operator's namespace.

pub mod apm;
pub mod business;
pub mod overview;
pub mod store;
pub mod workbench;

use serde_json::{Value, json};

/// The tag every storeops dashboard carries (links find each other by it).
pub const TAG: &str = "storeops";
/// Folder of the fleet dashboards.
pub const FLEET_FOLDER: &str = "storeops";
/// The source named in the fleet dashboards' descriptions.
pub const FLEET_SOURCE: &str = "its fleet dashboards (every Store it manages)";

/// Which backend answers a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PromQL.
    Prometheus,
    /// LogQL.
    Loki,
    /// TraceQL.
    Tempo,
}

impl Backend {
    fn datasource(self) -> Value {
        match self {
            Backend::Prometheus => json!({"type": "prometheus", "uid": "${prometheus}"}),
            Backend::Loki => json!({"type": "loki", "uid": "${loki}"}),
            Backend::Tempo => json!({"type": "tempo", "uid": "${tempo}"}),
        }
    }
}

/// One query of a panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Who answers it.
    pub backend: Backend,
    /// The expression, with Grafana variables (`$store_id`, `$__rate_interval`, ...).
    pub expr: String,
    /// Legend, e.g. `{{http_route}}`.
    pub legend: String,
    /// An instant query (tables, stats) rather than a range.
    pub instant: bool,
}

/// A PromQL range query.
pub fn prom(expr: impl Into<String>, legend: &str) -> Query {
    Query {
        backend: Backend::Prometheus,
        expr: expr.into(),
        legend: legend.into(),
        instant: false,
    }
}

/// A PromQL instant query (stats, tables, bar gauges).
pub fn prom_now(expr: impl Into<String>, legend: &str) -> Query {
    Query {
        instant: true,
        ..prom(expr, legend)
    }
}

/// A LogQL query.
pub fn logql(expr: impl Into<String>) -> Query {
    Query {
        backend: Backend::Loki,
        expr: expr.into(),
        legend: String::new(),
        instant: false,
    }
}

/// A TraceQL search.
pub fn traceql(expr: impl Into<String>) -> Query {
    Query {
        backend: Backend::Tempo,
        expr: expr.into(),
        legend: String::new(),
        instant: false,
    }
}

/// Panel types we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A time series graph.
    TimeSeries,
    /// One big number.
    Stat,
    /// A table.
    Table,
    /// Horizontal bars.
    BarGauge,
    /// A pie chart.
    PieChart,
    /// A latency heatmap.
    Heatmap,
    /// Log lines.
    Logs,
    /// A trace, or a table of traces.
    Traces,
    /// A service graph.
    NodeGraph,
}

impl Kind {
    fn grafana_type(self) -> &'static str {
        match self {
            Kind::TimeSeries => "timeseries",
            Kind::Stat => "stat",
            Kind::Table => "table",
            Kind::BarGauge => "bargauge",
            Kind::PieChart => "piechart",
            Kind::Heatmap => "heatmap",
            Kind::Logs => "logs",
            Kind::Traces => "traces",
            Kind::NodeGraph => "nodeGraph",
        }
    }
}

/// A panel: what it shows and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Title.
    pub title: String,
    /// Type.
    pub kind: Kind,
    /// Its queries.
    pub queries: Vec<Query>,
    /// Unit (Grafana's ids: `currencyUSD`, `s`, `percentunit`, `reqps`, ...).
    pub unit: String,
    /// Width in grid columns (of 24) and height in rows.
    pub size: (u32, u32),
    /// Show exemplars (latency panels: a dot opens the trace in Tempo).
    pub exemplars: bool,
    /// What the panel says when it is empty, and why that is fine.
    pub description: String,
    /// Data links: (title, URL with Grafana's `${__...}` variables).
    pub links: Vec<(String, String)>,
}

impl Panel {
    /// A panel of `kind` with `queries`, 12 x 8.
    pub fn new(kind: Kind, title: &str, queries: Vec<Query>) -> Panel {
        Panel {
            title: title.into(),
            kind,
            queries,
            unit: String::new(),
            size: (12, 8),
            exemplars: false,
            description: String::new(),
            links: Vec::new(),
        }
    }

    /// With a data link on its values.
    pub fn link(mut self, title: &str, url: &str) -> Panel {
        self.links.push((title.into(), url.into()));
        self
    }

    /// With a unit.
    pub fn unit(mut self, unit: &str) -> Panel {
        self.unit = unit.into();
        self
    }

    /// With a size.
    pub fn size(mut self, width: u32, height: u32) -> Panel {
        self.size = (width, height);
        self
    }

    /// With exemplars.
    pub fn exemplars(mut self) -> Panel {
        self.exemplars = true;
        self
    }

    /// With a description.
    pub fn describe(mut self, text: &str) -> Panel {
        self.description = text.into();
        self
    }

    fn json(&self, id: usize, x: u32, y: u32) -> Value {
        let datasource = self
            .queries
            .first()
            .map_or(Backend::Prometheus, |q| q.backend)
            .datasource();
        let targets: Vec<Value> = self
            .queries
            .iter()
            .enumerate()
            .map(|(i, q)| target(q, i, self.exemplars))
            .collect();
        let mut panel = json!({
            "id": id,
            "type": self.kind.grafana_type(),
            "title": self.title,
            "description": self.description,
            "datasource": datasource,
            "gridPos": {"x": x, "y": y, "w": self.size.0, "h": self.size.1},
            "targets": targets,
            "fieldConfig": {"defaults": {"unit": self.unit, "links": self.links.iter()
                // Grafana reads title and url; the rest is the DashboardLink
                // shape its schema gives fieldConfig links.
                .map(|(title, url)| json!({"title": title, "url": url, "type": "link", "icon": "dashboard",
                    "tooltip": "", "tags": [], "asDropdown": false, "targetBlank": false,
                    "includeVars": false, "keepTime": true})).collect::<Vec<_>>()}, "overrides": []},
            "options": {},
        });
        match self.kind {
            Kind::Logs => {
                panel["options"] = json!({"showTime": true, "wrapLogMessage": true, "sortOrder": "Descending", "enableLogDetails": true,
                    "showLabels": false, "showCommonLabels": false, "showLogContextToggle": true,
                    "prettifyLogMessage": false, "dedupStrategy": "none"})
            }
            Kind::Stat => {
                panel["options"] = json!({"reduceOptions": {"calcs": ["lastNotNull"]}, "colorMode": "value", "graphMode": "area", "orientation": "auto"})
            }
            Kind::BarGauge => {
                panel["options"] = json!({"orientation": "horizontal", "displayMode": "gradient", "reduceOptions": {"calcs": ["lastNotNull"], "values": false}})
            }
            Kind::Heatmap => {
                panel["options"] = json!({"calculate": false, "yAxis": {"unit": "s"}, "exemplars": {"color": "rgba(255,0,255,0.7)"}})
            }
            Kind::PieChart => {
                panel["options"] = json!({"pieType": "pie", "orientation": "auto", "reduceOptions": {"calcs": ["lastNotNull"], "values": false}})
            }
            _ => {}
        }
        if self.kind == Kind::Table {
            panel["transformations"] = json!([{"id": "merge", "options": {}}]);
        }
        panel
    }
}

fn target(q: &Query, i: usize, exemplar: bool) -> Value {
    let ref_id = ((b'A' + i as u8) as char).to_string();
    match q.backend {
        Backend::Prometheus => json!({
            "refId": ref_id,
            "datasource": q.backend.datasource(),
            "expr": q.expr,
            "legendFormat": q.legend,
            "instant": q.instant,
            "range": !q.instant,
            "format": if q.instant { "table" } else { "time_series" },
            "exemplar": exemplar,
        }),
        Backend::Loki => json!({
            "refId": ref_id,
            "datasource": q.backend.datasource(),
            "expr": q.expr,
            "queryType": "range",
        }),
        Backend::Tempo => json!({
            "refId": ref_id,
            "datasource": q.backend.datasource(),
            "queryType": if q.expr.starts_with('{') { "traceql" } else if q.expr == "serviceMap" { "serviceMap" } else { "traceId" },
            "query": q.expr,
            "limit": 20,
            "tableType": "traces",
        }),
    }
}

/// A row of panels under a heading.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Heading.
    pub title: String,
    /// Panels, laid out left to right, wrapping at 24 columns.
    pub panels: Vec<Panel>,
}

/// A row.
pub fn row(title: &str, panels: Vec<Panel>) -> Row {
    Row {
        title: title.into(),
        panels,
    }
}

/// A template variable.
#[derive(Debug, Clone, PartialEq)]
pub enum Variable {
    /// A datasource of a type: `prometheus`, `loki`, `tempo`.
    Datasource(&'static str),
    /// Values of a label, from Prometheus: (name, label, metric selector, multi).
    LabelValues(&'static str, &'static str, String, bool),
    /// A free text box: (name, label).
    Text(&'static str, &'static str),
    /// A hidden constant: (name, value). The store dashboard's `store_id`,
    /// carried by the links (`includeVars`) to the fleet dashboards.
    Constant(&'static str, String),
}

impl Variable {
    fn json(&self) -> Value {
        match self {
            Variable::Datasource(kind) => json!({
                "name": kind, "label": kind, "type": "datasource", "query": kind,
                "hide": 0, "refresh": 1,
            }),
            Variable::LabelValues(name, label, selector, multi) => json!({
                "name": name, "label": name, "type": "query",
                "datasource": Backend::Prometheus.datasource(),
                "query": {"query": format!("label_values({selector}, {label})"), "refId": "vars"},
                "definition": format!("label_values({selector}, {label})"),
                "refresh": 2, "multi": multi, "includeAll": multi,
                "allValue": if *multi { Value::from(".*") } else { Value::Null },
                "hide": 0, "sort": 1,
            }),
            Variable::Text(name, label) => json!({
                "name": name, "label": label, "type": "textbox", "query": "", "current": {"text": "", "value": ""}, "hide": 0,
            }),
            Variable::Constant(name, value) => json!({
                "name": name, "label": name, "type": "constant", "query": value,
                "current": {"text": value, "value": value}, "hide": 2,
            }),
        }
    }
}

/// A whole dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    /// Stable uid (at most 40 characters), the key of links and of the Store's status.
    pub uid: String,
    /// Title.
    pub title: String,
    /// What the operator made it from, e.g. `Store shop/alpha`; goes into
    /// the dashboard's description with the note that edits do not last.
    pub source: String,
    /// Tags besides [`TAG`].
    pub tags: Vec<String>,
    /// Variables, after the datasource ones.
    pub variables: Vec<Variable>,
    /// Rows of panels.
    pub rows: Vec<Row>,
}

impl Dashboard {
    /// Every panel, row after row.
    pub fn panels(&self) -> impl Iterator<Item = &Panel> {
        self.rows.iter().flat_map(|r| &r.panels)
    }

    /// Every query with the title of its panel.
    pub fn queries(&self) -> Vec<(&str, &Query)> {
        self.panels()
            .flat_map(|p| p.queries.iter().map(move |q| (p.title.as_str(), q)))
            .collect()
    }

    /// The dashboard as Grafana's JSON model.
    pub fn json(&self) -> Value {
        let mut panels = Vec::new();
        let (mut id, mut y) = (1, 0);
        for row in &self.rows {
            panels.push(
                json!({"id": id, "type": "row", "title": row.title, "collapsed": false,
                "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}, "panels": []}),
            );
            id += 1;
            y += 1;
            let (mut x, mut height) = (0, 0);
            for panel in &row.panels {
                if x + panel.size.0 > 24 {
                    (x, y, height) = (0, y + height, 0);
                }
                panels.push(panel.json(id, x, y));
                id += 1;
                x += panel.size.0;
                height = height.max(panel.size.1);
            }
            y += height;
        }
        let mut variables = vec![
            Variable::Datasource("prometheus").json(),
            Variable::Datasource("loki").json(),
            Variable::Datasource("tempo").json(),
        ];
        variables.extend(self.variables.iter().map(Variable::json));
        let mut tags = vec![TAG.to_string()];
        tags.extend(self.tags.iter().cloned());
        json!({
            "uid": self.uid,
            "title": self.title,
            "tags": tags,
            "timezone": "browser",
            // Read-only: the next reconcile would overwrite any edit.
            "editable": false,
            "description": format!(
                "Generated by the storeops operator from {}. Read-only: the operator overwrites edits at its next reconcile; save a copy to experiment.",
                self.source
            ),
            "graphTooltip": 1,
            "schemaVersion": 39,
            "version": 1,
            "refresh": "30s",
            "time": {"from": "now-1h", "to": "now"},
            "templating": {"list": variables},
            "annotations": {"list": [{
                "name": "Store alerts", "enable": true, "iconColor": "red",
                "datasource": Backend::Prometheus.datasource(),
                "expr": "ALERTS{alertstate=\"firing\", alertname=~\"Store.*\"}",
                "titleFormat": "{{alertname}}", "textFormat": "{{store_id}} {{severity}}",
            }]},
            "links": [{"type": "dashboards", "tags": [TAG], "asDropdown": true, "title": "storeops", "includeVars": true, "keepTime": true, "icon": "external link", "tooltip": "", "targetBlank": false}],
            "panels": panels,
        })
    }
}

/// The request-duration histogram and its companions, by name.
pub(crate) mod names {
    pub use storeops_contract::labels as l;
    pub use storeops_contract::metrics as m;

    /// `http_server_request_duration_seconds_count`.
    pub fn count() -> String {
        format!("{}_count", m::HTTP_SERVER_REQUEST_DURATION_SECONDS)
    }

    /// `http_server_request_duration_seconds_bucket`.
    pub fn bucket() -> String {
        format!("{}_bucket", m::HTTP_SERVER_REQUEST_DURATION_SECONDS)
    }
}

/// The fleet dashboards, kept once in the operator's namespace.
pub fn fleet() -> Vec<Dashboard> {
    vec![
        overview::dashboard(),
        apm::dashboard(),
        business::dashboard(),
        workbench::dashboard(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Dashboard> {
        let store = crate::api::Store::test();
        let mut all = vec![store::dashboard(&store::StoreView {
            target: store.resolved().monitored,
            display_name: "Alpha".into(),
            currency: "USD".into(),
            name: "alpha".into(),
        })];
        all.extend(fleet());
        all
    }

    #[test]
    fn dashboards_are_read_only_and_say_where_they_come_from() {
        for d in all() {
            let model = d.json();
            assert_eq!(model["editable"], false, "{}", d.uid);
            let description = model["description"].as_str().unwrap();
            assert!(description.contains("storeops operator"), "{description}");
            assert!(description.contains("overwrites edits"), "{description}");
        }
        let store = &all()[0];
        assert!(
            store.json()["description"]
                .as_str()
                .unwrap()
                .contains("Store shop/alpha")
        );
    }

    #[test]
    fn uids_are_unique_and_fit_grafana() {
        let uids: std::collections::BTreeSet<String> = all().into_iter().map(|d| d.uid).collect();
        assert_eq!(uids.len(), 5);
        assert!(uids.iter().all(|u| u.len() <= 40));
        assert!(store::uid(&"n".repeat(63), &"s".repeat(57)).len() <= 40);
    }

    #[test]
    fn panels_fit_the_grid_and_name_their_datasource_by_variable() {
        for d in all() {
            let model = d.json();
            let panels = model["panels"].as_array().unwrap();
            let mut ids = std::collections::BTreeSet::new();
            for p in panels {
                assert!(
                    ids.insert(p["id"].as_u64().unwrap()),
                    "{}: duplicate panel id",
                    d.title
                );
                let grid = &p["gridPos"];
                let (x, w) = (grid["x"].as_u64().unwrap(), grid["w"].as_u64().unwrap());
                assert!(x + w <= 24, "{} / {}: beyond the grid", d.title, p["title"]);
                if p["type"] != "row" {
                    let uid = p["datasource"]["uid"].as_str().unwrap();
                    assert!(
                        uid.starts_with("${"),
                        "{} / {}: hard-coded datasource {uid}",
                        d.title,
                        p["title"]
                    );
                    assert!(
                        !p["targets"].as_array().unwrap().is_empty(),
                        "{} / {}: no query",
                        d.title,
                        p["title"]
                    );
                }
            }
            let vars: Vec<&str> = model["templating"]["list"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["name"].as_str().unwrap())
                .collect();
            assert!(
                vars.starts_with(&["prometheus", "loki", "tempo"]),
                "{vars:?}"
            );
            assert_eq!(model["links"][0]["tags"][0], TAG);
        }
    }

    #[test]
    fn every_store_query_selects_the_store() {
        let d = &all()[0];
        for (panel, q) in d.queries() {
            let scoped = q.expr.contains("alpha") || q.expr.contains(r#"namespace="shop""#);
            assert!(scoped, "{panel}: {}", q.expr);
        }
    }

    #[test]
    fn latency_panels_show_exemplars() {
        let d = &all()[0];
        let model = d.json();
        let latency = model["panels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["title"] == "Latency percentiles")
            .unwrap();
        assert_eq!(latency["targets"].as_array().unwrap().len(), 4);
        assert!(
            d.panels()
                .any(|p| p.title == "Latency percentiles" && p.exemplars)
        );
    }

    #[test]
    fn the_overview_links_each_store_to_its_dashboard_by_its_tags() {
        let store = &all()[0];
        assert!(store.tags.iter().any(|t| t == "store") && store.tags.iter().any(|t| t == "alpha"));
        let overview = fleet()
            .into_iter()
            .find(|d| d.uid == "storeops-overview")
            .unwrap();
        let links: Vec<&str> = overview
            .panels()
            .flat_map(|p| p.links.iter().map(|(_, url)| url.as_str()))
            .collect();
        assert!(
            links.contains(&"/dashboards?tag=store&tag=${__data.fields.store_id}"),
            "{links:?}"
        );
        let json = overview.json();
        let table = json["panels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["title"] == "Instances")
            .unwrap();
        assert_eq!(
            table["fieldConfig"]["defaults"]["links"][0]["title"],
            "Store dashboard"
        );
    }

    #[test]
    fn every_percentile_of_every_route_is_shown_without_probes() {
        let d = &all()[0];
        let by_route = d
            .panels()
            .find(|p| p.title == "Latency percentiles by route")
            .unwrap();
        let quantiles: Vec<&str> = by_route
            .queries
            .iter()
            .map(|q| q.expr.split(',').next().unwrap())
            .collect();
        assert_eq!(
            quantiles,
            [
                "histogram_quantile(0.5",
                "histogram_quantile(0.9",
                "histogram_quantile(0.95",
                "histogram_quantile(0.99"
            ]
        );
        for q in &by_route.queries {
            assert!(q.expr.contains("sum by (le, http_route)"), "{}", q.expr);
            assert!(
                q.expr.contains(crate::monitoring::rules::NOT_API),
                "probes not left out: {}",
                q.expr
            );
        }
    }

    #[test]
    fn the_store_dashboard_carries_its_store_id_to_the_fleet_dashboards() {
        let model = all()[0].json();
        let vars = model["templating"]["list"].as_array().unwrap();
        let store_id = vars.iter().find(|v| v["name"] == "store_id").unwrap();
        assert_eq!(
            (store_id["type"].as_str(), store_id["query"].as_str()),
            (Some("constant"), Some("alpha"))
        );
        assert_eq!(model["links"][0]["includeVars"], true);
        let fleet = fleet();
        assert!(fleet.iter().all(|d| {
            d.variables
                .iter()
                .any(|v| matches!(v, Variable::LabelValues("store_id", ..)))
        }));
    }
}
