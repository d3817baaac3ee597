//! Whether the monitoring.coreos.com CRDs are served: one poller for the
//! whole process (discovery every [`POLL`]), read by the reconciler (no API
//! call per reconcile: 1,000 Stores used to cost 1,000 discovery calls per
//! resync), by the monitoring drift watches (started once the CRDs are
//! served) and by the controllers (every Store reconciled when it changes).
//! "Served" means every monitoring kind of the managed-kinds table.
//! Discovery is a read anyone may do: no extra RBAC.

use std::time::Duration;

use futures::Stream;
use kube::Client;
use tokio::sync::watch;

use crate::reconcile::kinds;

/// The API group of ServiceMonitor and PrometheusRule.
pub const MONITORING_API: &str = "monitoring.coreos.com/v1";

/// How often the poller asks.
pub const POLL: Duration = Duration::from_secs(5);

/// Asks the API server whether monitoring.coreos.com/v1 serves every kind
/// the operator makes there (see [`serves_every_monitoring_kind`]).
/// Errors: discovery failed (other than a 404, which means the group is not
/// served).
pub async fn monitoring_crds_installed(client: &Client) -> Result<bool, kube::Error> {
    match client.list_api_group_resources(MONITORING_API).await {
        Ok(list) => Ok(serves_every_monitoring_kind(
            list.resources.iter().map(|r| r.kind.as_str()),
        )),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
        Err(error) => Err(error),
    }
}

/// Whether the `served` kinds of monitoring.coreos.com/v1 include every row
/// of [`kinds::ALL`] that needs the monitoring CRDs (ServiceMonitor and
/// PrometheusRule). A half-installed prometheus-operator (one CRD of the
/// two) reads as not installed: neither is applied and the Store says
/// `MonitoringCRDsMissing`, instead of an apply that fails on every retry.
pub fn serves_every_monitoring_kind<'a>(served: impl IntoIterator<Item = &'a str>) -> bool {
    let served: Vec<&str> = served.into_iter().collect();
    kinds::ALL
        .iter()
        .filter(|k| k.needs_monitoring_crds)
        .all(|k| served.contains(&k.kind))
}

/// The last answer of the poller (`None` until discovery first answered).
#[derive(Debug, Clone)]
pub struct MonitoringCrds(watch::Receiver<Option<bool>>);

impl MonitoringCrds {
    /// Asks once now, then every `every` in a task that ends when every
    /// handle is dropped.
    pub async fn start(client: Client, every: Duration) -> MonitoringCrds {
        let (tx, rx) = watch::channel(monitoring_crds_installed(&client).await.ok());
        tokio::spawn(async move {
            while !tx.is_closed() {
                tokio::time::sleep(every).await;
                match monitoring_crds_installed(&client).await {
                    Ok(now) => {
                        tx.send_if_modified(|was| {
                            let changed = *was != Some(now);
                            *was = Some(now);
                            changed
                        });
                    }
                    Err(error) => {
                        tracing::debug!(%error, "discovery of monitoring.coreos.com failed")
                    }
                }
            }
        });
        MonitoringCrds(rx)
    }

    /// A fixed answer, for tests and tools without a cluster.
    pub fn fixed(installed: bool) -> MonitoringCrds {
        MonitoringCrds(watch::channel(Some(installed)).1)
    }

    /// Whether the CRDs were served at the last answer; `None` before the
    /// first answer.
    pub fn installed(&self) -> Option<bool> {
        *self.0.borrow()
    }

    /// Returns once the CRDs are served (at once if they are); `false` if
    /// the poller ended first.
    pub async fn served(&mut self) -> bool {
        self.0.wait_for(|v| *v == Some(true)).await.is_ok()
    }

    /// Fires on each change of the answer after the first one (a change
    /// from "unknown" is not one): what `Controller::reconcile_all_on` takes.
    pub fn changes(&self) -> impl Stream<Item = ()> + Send + 'static {
        let rx = self.0.clone();
        let first = *rx.borrow();
        futures::stream::unfold((rx, first), |(mut rx, mut was)| async move {
            loop {
                rx.changed().await.ok()?;
                let now = *rx.borrow_and_update();
                let changed = was.is_some() && now != was;
                was = now;
                if changed {
                    tracing::info!(
                        installed = now,
                        "monitoring.coreos.com CRDs changed: reconciling every Store"
                    );
                    return Some(((), (rx, was)));
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;

    #[tokio::test]
    async fn changes_fire_once_per_change_after_the_first_answer() {
        let (tx, rx) = watch::channel(None);
        let crds = MonitoringCrds(rx);
        let changes = tokio::spawn(crds.changes().count());
        assert_eq!(crds.installed(), None);
        for answer in [false, true, true, false] {
            tx.send(Some(answer)).unwrap(); // the first answer is no change
            tokio::task::yield_now().await; // the stream sees each answer
        }
        assert_eq!(crds.installed(), Some(false));
        drop(tx);
        assert_eq!(changes.await.unwrap(), 2, "false→true, true→false");
    }

    #[test]
    fn every_monitoring_kind_must_be_served() {
        assert!(serves_every_monitoring_kind([
            "Alertmanager",
            "PrometheusRule",
            "ServiceMonitor"
        ]));
        assert!(!serves_every_monitoring_kind(["ServiceMonitor"]));
        assert!(!serves_every_monitoring_kind(["PrometheusRule"]));
        assert!(!serves_every_monitoring_kind([]));
    }

    #[test]
    fn the_monitoring_kinds_are_in_the_polled_group() {
        for kind in kinds::ALL.iter().filter(|k| k.needs_monitoring_crds) {
            assert_eq!(format!("{}/{}", kind.group, kind.version), MONITORING_API);
        }
    }

    #[tokio::test]
    async fn served_waits_for_the_crds() {
        let (tx, rx) = watch::channel(Some(false));
        let mut crds = MonitoringCrds(rx);
        let waiting = tokio::spawn(async move { crds.served().await });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        tx.send(Some(true)).unwrap();
        assert!(waiting.await.unwrap());
        assert!(MonitoringCrds::fixed(true).served().await);
    }
}
