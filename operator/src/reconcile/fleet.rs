//! The fleet dashboards (overview, APM, business insights, workbench): kept
//! once in the operator's namespace by the leader, re-applied every few
//! minutes so that a deleted or edited one comes back.

use std::time::Duration;

use kube::Client;

use super::Error;
use super::apply;
use super::build::{Desired, Object, dashboard};

/// How often the fleet dashboards are checked.
pub const EVERY: Duration = Duration::from_secs(120);

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

/// Keeps the fleet dashboards in place until the task is dropped.
pub async fn keep_fleet(client: Client, namespace: String, field_manager: String) {
    loop {
        match apply_fleet(&client, &namespace, &field_manager).await {
            Ok(changed) if !changed.is_empty() => {
                tracing::info!(namespace, ?changed, "applied the fleet dashboards")
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(namespace, %error, "could not apply the fleet dashboards"),
        }
        tokio::time::sleep(EVERY).await;
    }
}
