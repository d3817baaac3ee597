//! The reconciler of a Store:
//!
//! ```text
//! dereference -> build -> apply -> status
//! ```
//!
//! - dereference: read what the Store points at (the admin token already
//!   issued, a referenced catalog ConfigMap). Touches the API.
//! - [`build`]: turn the Store, the operator's configuration and what was
//!   dereferenced into every object the Store wants. Pure.
//! - apply: server-side apply each object with one field manager, then delete
//!   the objects with the Store's labels that were not applied. Touches the API.
//! - status: write conditions and counts. Touches the API.

pub mod build;
