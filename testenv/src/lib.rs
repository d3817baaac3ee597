//! A real Kubernetes control plane on loopback, for tests and for people.
//!
//! ```text
//!  etcd <- kube-apiserver <- kube-controller-manager (GC, Deployments, PVs)
//!               ^  ^-------- kube-scheduler
//!               '----------- kwok (fake Nodes: Pods reach Running)
//! ```
//!
//! Every program is built from source by `testbin/k8s.sh` and found through an
//! environment variable ([`programs`]). [`ControlPlane::start`] generates fresh
//! credentials ([`certs`]), picks free ports, starts each program with its
//! output in a log file and waits until the cluster can run Pods. Dropping it
//! stops everything; a test binary that dies leaves nothing behind either
//! ([`process`]). The API server writes an audit log of every write, so a test
//! can read who changed what from the server itself.
//!
//! Beside it, what the tests and tools of every crate share: Stores as JSON
//! and the invalid-Store table ([`fixtures`]), waiting and free ports
//! ([`wait`]), child processes tied to the test ([`process`]), and the real
//! programs on loopback the tests run against, each started by one launcher:
//! the [`store_service`], [`postgres`], a [`collector`] (read back through
//! [`otlp`]), [`prometheus`] and a metrics page for it to scrape ([`exporter`]).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audit;
pub mod certs;
mod cluster;
pub mod collector;
pub mod exporter;
pub mod fixtures;
pub mod manifests;
pub mod operator;
pub mod otlp;
pub mod postgres;
pub mod process;
pub mod programs;
pub mod prometheus;
pub mod store_service;
pub mod wait;

pub use cluster::{ControlPlane, Options, client_from};

use std::path::PathBuf;

/// Why the control plane could not start or answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A program is not built or not named by its variable.
    #[error("{program} is missing: {why}; {fix}")]
    MissingProgram {
        /// The program.
        program: &'static str,
        /// What is missing.
        why: String,
        /// The command that gets it.
        fix: String,
    },
    /// A program could not be started.
    #[error("starting {name}: {reason}")]
    Start {
        /// The program.
        name: String,
        /// Why.
        reason: String,
    },
    /// A program exited while it should run.
    #[error("{name} exited ({status}); its log {log:?} ends with:\n{tail}")]
    Exited {
        /// The program.
        name: String,
        /// Its exit status.
        status: String,
        /// Its log file.
        log: PathBuf,
        /// The last lines of the log.
        tail: String,
    },
    /// A program did not become ready in time.
    #[error("{what} not ready after {seconds} s: {last}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        seconds: u64,
        /// The last error seen.
        last: String,
    },
    /// Generating the credentials failed.
    #[error("generating certificates: {0}")]
    Certificates(#[from] rcgen::Error),
    /// A file could not be written or read.
    #[error("{what}: {source}")]
    Io {
        /// The operation.
        what: String,
        /// Why.
        source: std::io::Error,
    },
    /// A request to the API server failed.
    #[error("{what}: {source}")]
    Kube {
        /// The request.
        what: String,
        /// Why.
        source: kube::Error,
    },
    /// A manifest could not be read.
    #[error("manifest {what}: {reason}")]
    Manifest {
        /// Which document.
        what: String,
        /// Why.
        reason: String,
    },
}

impl Error {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            what: what.into(),
            source,
        }
    }

    pub(crate) fn kube(what: impl Into<String>, source: kube::Error) -> Self {
        Error::Kube {
            what: what.into(),
            source,
        }
    }
}
