//! The e2e crate's tests, one binary in four groups (modules). `make e2e`
//! runs one group at a time, in this order, and stops at the first that
//! fails (`bash hack/e2e-test.sh <group>::`):
//!
//! - [`any_cluster`]: what any cluster shows (`make e2e-local` runs only this
//!   group, on kwok's fake nodes);
//! - [`kind`]: what only real pods allow;
//! - [`failover`]: the operator's leader taken away, which pauses reconciling
//!   for everyone, so never beside another group;
//! - [`stack`]: the observability stack of `make up`.
//!
//! A group is picked by its name as a filter on test paths: no module is
//! named so that one group's name is part of another's paths.

mod any_cluster;
mod failover;
mod kind;
mod stack;
