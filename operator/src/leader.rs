//! Leader election on a `coordination.k8s.io/v1` Lease, so that several
//! replicas can run and exactly one reconciles. The holder renews every
//! `renew`; a candidate takes the Lease once it has not been renewed for
//! `duration`. Writes carry the resourceVersion they read, so two candidates
//! cannot both win.
//!
//! Why not `kube-lease-manager` (0.13.1, MIT, on kube 5 and k8s-openapi
//! 0.29, read 2026-12-05): when renewing fails (the API server unreachable),
//! its watch loop logs the error and retries but never tells the holder it
//! may have lost the Lease, so after `duration` a candidate takes over while
//! the old holder still reconciles. The renew deadline here (client-go's
//! RenewDeadline, `Timing::renew_deadline`, tested with paused time) is what
//! keeps two replicas from reconciling at once. Nor kubert's `lease`
//! (0.25.0, Apache-2.0, read 2026-12-06): it is built on kube 1.1 and
//! k8s-openapi 0.25, and its `Lease` is not the type of ours (0.29).

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, ObjectMeta, PostParams};

/// Timing of the election.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// How long an unrenewed Lease stays held before a candidate may take it.
    pub duration: Duration,
    /// How often the holder renews the Lease.
    pub renew: Duration,
    /// How long the holder goes on leading without a successful renewal.
    /// Shorter than `duration`, so it stops before a candidate may take over
    /// and two never reconcile at once (client-go's RenewDeadline).
    pub renew_deadline: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            duration: Duration::from_secs(15),
            renew: Duration::from_secs(5),
            renew_deadline: Duration::from_secs(10),
        }
    }
}

/// Whether `me` may take or keep a Lease as it stands at `now`.
pub fn may_hold(spec: Option<&LeaseSpec>, me: &str, now: Timestamp) -> bool {
    let Some(spec) = spec else { return true };
    match spec.holder_identity.as_deref() {
        None | Some("") => true,
        Some(holder) if holder == me => true,
        Some(_) => {
            let Some(renewed) = spec.renew_time.as_ref().or(spec.acquire_time.as_ref()) else {
                return true;
            };
            let duration =
                SignedDuration::from_secs(spec.lease_duration_seconds.unwrap_or(15).into());
            renewed.0 + duration < now
        }
    }
}

fn spec_for(me: &str, timing: Timing, previous: Option<&LeaseSpec>, now: Timestamp) -> LeaseSpec {
    let kept = previous.filter(|s| s.holder_identity.as_deref() == Some(me));
    let transitions = previous.and_then(|s| s.lease_transitions).unwrap_or(0);
    LeaseSpec {
        holder_identity: Some(me.to_string()),
        lease_duration_seconds: Some(timing.duration.as_secs() as i32),
        acquire_time: kept
            .and_then(|s| s.acquire_time.clone())
            .or(Some(MicroTime(now))),
        renew_time: Some(MicroTime(now)),
        lease_transitions: Some(if kept.is_some() {
            transitions
        } else {
            transitions + 1
        }),
        ..LeaseSpec::default()
    }
}

/// Takes or renews the Lease once. `Ok(true)`: `me` holds it now.
pub async fn try_acquire(
    api: &Api<Lease>,
    name: &str,
    me: &str,
    timing: Timing,
) -> Result<bool, kube::Error> {
    let now = Timestamp::now();
    match api.get_opt(name).await? {
        None => {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(name.to_string()),
                    ..ObjectMeta::default()
                },
                spec: Some(spec_for(me, timing, None, now)),
            };
            match api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                Err(e) => Err(e),
            }
        }
        Some(mut lease) => {
            if !may_hold(lease.spec.as_ref(), me, now) {
                return Ok(false);
            }
            lease.spec = Some(spec_for(me, timing, lease.spec.as_ref(), now));
            // replace() sends the resourceVersion we read: a concurrent winner makes this 409.
            match api.replace(name, &PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                Err(e) => Err(e),
            }
        }
    }
}

/// Renews the Lease every `timing.renew` until a renewal is refused or none
/// succeeded for `timing.renew_deadline` (a hung request counts as failed
/// once the deadline passes); then returns, and the caller stops leading.
pub async fn keep(api: &Api<Lease>, name: &str, me: &str, timing: Timing) {
    let mut last_ok = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(timing.renew).await;
        let left = timing.renew_deadline.saturating_sub(last_ok.elapsed());
        let attempt = tokio::time::timeout(left, try_acquire(api, name, me, timing)).await;
        match attempt {
            Ok(Ok(true)) => last_ok = tokio::time::Instant::now(),
            Ok(Ok(false)) => {
                tracing::error!("another replica holds the Lease");
                return;
            }
            Ok(Err(error)) if last_ok.elapsed() < timing.renew_deadline => {
                tracing::warn!(%error, "Lease renewal failed; retrying");
            }
            Ok(Err(error)) => {
                tracing::error!(%error, "could not renew the Lease before the deadline");
                return;
            }
            Err(_) => {
                tracing::error!("Lease renewal hung past the deadline");
                return;
            }
        }
    }
}

/// Gives the Lease up on shutdown so a standby takes over at once.
pub async fn release(api: &Api<Lease>, name: &str, me: &str) -> Result<(), kube::Error> {
    if let Some(mut lease) = api.get_opt(name).await?
        && lease
            .spec
            .as_ref()
            .and_then(|s| s.holder_identity.as_deref())
            == Some(me)
    {
        if let Some(spec) = lease.spec.as_mut() {
            spec.holder_identity = None;
            spec.lease_duration_seconds = Some(1);
        }
        api.replace(name, &PostParams::default(), &lease).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    fn held_by(holder: &str, renewed: i64) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(holder.into()),
            lease_duration_seconds: Some(15),
            renew_time: Some(MicroTime(at(renewed))),
            ..LeaseSpec::default()
        }
    }

    #[test]
    fn a_free_or_own_lease_may_be_held() {
        assert!(may_hold(None, "a", at(100)));
        assert!(may_hold(Some(&LeaseSpec::default()), "a", at(100)));
        assert!(may_hold(Some(&held_by("a", 99)), "a", at(100)));
    }

    #[test]
    fn another_holder_keeps_it_until_it_expires() {
        assert!(!may_hold(Some(&held_by("b", 90)), "a", at(100)));
        assert!(may_hold(Some(&held_by("b", 80)), "a", at(100)));
    }

    #[test]
    fn taking_over_counts_a_transition_and_renewing_does_not() {
        let timing = Timing::default();
        let taken = spec_for("a", timing, Some(&held_by("b", 80)), at(100));
        assert_eq!(
            (taken.holder_identity.as_deref(), taken.lease_transitions),
            (Some("a"), Some(1))
        );
        let renewed = spec_for("a", timing, Some(&taken), at(105));
        assert_eq!(renewed.lease_transitions, Some(1));
        assert_eq!(renewed.acquire_time, taken.acquire_time);
    }

    /// A client of an API server that accepts connections and never answers.
    async fn hung_api_server() -> Api<Lease> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let config = kube::Config::new(url.parse().unwrap());
        Api::namespaced(kube::Client::try_from(config).unwrap(), "ns")
    }

    #[tokio::test(start_paused = true)]
    async fn a_leader_that_cannot_renew_stops_before_its_lease_expires() {
        let timing = Timing::default();
        let api = hung_api_server().await;
        let started = tokio::time::Instant::now();
        keep(&api, "lease", "a", timing).await;
        let led = started.elapsed();
        // Its last renewal was at `started`: a candidate may take the Lease
        // at started + duration, by which time this one has stopped.
        assert!(led < timing.duration, "led {led:?} without renewing");
        assert!(led >= timing.renew_deadline, "gave up after {led:?}");
    }
}
