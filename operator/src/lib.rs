//! storeops: a Kubernetes operator that turns a `Store` resource into a
//! running, observed store.
//!
//! ```text
//!            +-------------+   +----------+   +-------+   +-------+   +--------+
//!  Store --> | dereference |-->| validate |-->| build |-->| apply |-->| status |
//!            +-------------+   +----------+   +-------+   +-------+   +--------+
//!             reads Secrets,    admission      pure:       server-side  conditions,
//!             ConfigMaps        rules, once    objects     apply, then  replicas,
//!                                                          orphans      service URL
//! ```
//!
//! - [`api`]: the Store types, defaults and admission rules (`crdgen` prints
//!   them as the CRD and, through [`api::reference`], as
//!   `docs/reference/store.md`).
//! - [`reconcile`]: the pipeline above; [`reconcile::build`] holds one pure
//!   builder per kind of object.
//! - [`monitoring`]: the Store's alert rules (with their promtool proofs) and
//!   dashboards, pure.
//! - [`render`]: `operator render`, the build step printed as YAML, without a
//!   cluster.
//! - [`config`]: the operator's own settings; [`drift`]: watches of the
//!   monitoring objects, which may appear and go with their CRDs.
//! - [`backoff`]: the short, shared backoff of the Controller's watches.
//! - [`leader`]: leader election on a Lease; [`metrics`] and [`telemetry`]:
//!   what the process reports about itself.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod backoff;
pub mod config;
pub mod discovery;
pub mod drift;
pub mod leader;
pub mod metrics;
pub mod monitoring;
pub mod reconcile;
pub mod render;
pub mod telemetry;

#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
