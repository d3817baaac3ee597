//! What the fleet shares, kept once in the operator's namespace by the
//! leader: the fleet dashboards (overview, APM, business insights,
//! workbench) and the fleet's PrometheusRule (the SLI recording rules and
//! alerts of every Store). Re-applied every few minutes so that a deleted or
//! edited one comes back. And once, the per-Store rules of earlier versions
//! retired.

use std::time::Duration;

use kube::Client;

use super::Error;
use super::apply;
use super::build::{Desired, Object, dashboard, prometheus_rule};
use crate::config::OperatorConfig;

/// How often the fleet's objects are checked.
pub const EVERY: Duration = Duration::from_secs(120);
/// The first wait after a failed apply (doubled on each failure up to
/// [`EVERY`]): monitoring CRDs installed after the operator get the fleet's
/// rules within seconds, and a cluster without them is not asked every few.
pub const RETRY: Duration = Duration::from_secs(5);

/// Applies the fleet dashboards in `namespace`; returns what changed.
pub async fn apply_fleet(
    client: &Client,
    namespace: &str,
    field_manager: &str,
) -> Result<Vec<String>, Error> {
    let desired = Desired {
        objects: dashboard::fleet_config_maps(namespace)
            .into_iter()
            .map(Object::ConfigMap)
            .collect(),
    };
    Ok(apply::apply(client, namespace, &desired, field_manager)
        .await?
        .changed)
}

/// Applies the fleet's PrometheusRule in the config's namespace, with its
/// labels; returns what changed. Errors where the monitoring.coreos.com
/// CRDs are not installed.
pub async fn apply_fleet_rules(
    client: &Client,
    config: &OperatorConfig,
) -> Result<Vec<String>, Error> {
    let namespace = &config.dashboard_namespace;
    let desired = Desired {
        objects: vec![Object::PrometheusRule(
            prometheus_rule::fleet_prometheus_rule(namespace, &config.fleet_rule_labels),
        )],
    };
    Ok(
        apply::apply(client, namespace, &desired, &config.field_manager)
            .await?
            .changed,
    )
}

/// Deletes the per-Store PrometheusRules of earlier versions (a Store's
/// objectives as two recording rules, labelled with its store id): the
/// operator serves the objectives at `/metrics` now, and a rule left in
/// place would record the same series as the fleet's, with the objectives
/// of its day. Once per leadership, in each scope (`None`: every
/// namespace), as the reconciles' sweep runs only on a new generation.
/// Returns `namespace/name` of each deleted; nothing where the
/// monitoring.coreos.com CRDs are not installed.
pub async fn retire_store_rules(
    client: &Client,
    scopes: &[Option<String>],
) -> Result<Vec<String>, Error> {
    use kube::ResourceExt;
    use kube::api::{Api, DeleteParams, DynamicObject, ListParams};
    let kind = &super::kinds::PROMETHEUS_RULE;
    let resource = super::kinds::api_resource(kind);
    let selector = format!(
        "{},app.kubernetes.io/managed-by={}",
        crate::api::STORE_ID_LABEL,
        super::identity::PART_OF
    );
    let fail = |name: String, source| Error::DeleteOrphan {
        kind: kind.kind,
        name,
        source,
    };
    let mut deleted = Vec::new();
    for scope in scopes {
        let api: Api<DynamicObject> = match scope {
            Some(namespace) => Api::namespaced_with(client.clone(), namespace, &resource),
            None => Api::all_with(client.clone(), &resource),
        };
        let rules = match api
            .list_metadata(&ListParams::default().labels(&selector))
            .await
        {
            Ok(rules) => rules,
            Err(kube::Error::Api(s)) if s.code == 404 => continue,
            Err(e) => return Err(fail(String::new(), e)),
        };
        for rule in rules.items {
            let (namespace, name) = (rule.namespace().unwrap_or_default(), rule.name_any());
            Api::<DynamicObject>::namespaced_with(client.clone(), &namespace, &resource)
                .delete(&name, &DeleteParams::background())
                .await
                .map_err(|e| fail(name.clone(), e))?;
            deleted.push(format!("{namespace}/{name}"));
        }
    }
    Ok(deleted)
}

/// Keeps the fleet's dashboards and rules in place until the task is dropped.
pub async fn keep_fleet(client: Client, config: OperatorConfig) {
    let namespace = config.dashboard_namespace.clone();
    let mut retry = RETRY;
    loop {
        let mut failed = false;
        match apply_fleet(&client, &namespace, &config.field_manager).await {
            Ok(changed) if !changed.is_empty() => {
                tracing::info!(namespace, ?changed, "applied the fleet dashboards")
            }
            Ok(_) => {}
            Err(error) => {
                failed = true;
                tracing::warn!(namespace, %error, "could not apply the fleet dashboards")
            }
        }
        match apply_fleet_rules(&client, &config).await {
            Ok(changed) if !changed.is_empty() => {
                tracing::info!(
                    namespace,
                    ?changed,
                    "applied the fleet's SLO rules and alerts"
                )
            }
            Ok(_) => {}
            Err(error) => {
                failed = true;
                tracing::warn!(
                    namespace,
                    %error,
                    "could not apply the fleet's PrometheusRule (are the monitoring.coreos.com CRDs installed?)"
                )
            }
        }
        if failed {
            tokio::time::sleep(retry).await;
            retry = (retry * 2).min(EVERY);
        } else {
            retry = RETRY;
            tokio::time::sleep(EVERY).await;
        }
    }
}
