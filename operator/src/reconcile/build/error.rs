//! What can stop the resolve and build steps (the resolve step returns it
//! without using the build step).

use crate::api::validation::InvalidStore;
use crate::reconcile::status::Reason;

/// What can stop the resolve or build step.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Store lacks metadata every object needs.
    #[error("Store {name:?} has no metadata.{field}")]
    MissingMetadata {
        /// The Store's name, if any.
        name: String,
        /// `name` or `namespace`.
        field: &'static str,
    },
    /// The Store breaks an admission rule (it skipped admission: read from a file).
    #[error(transparent)]
    InvalidStore(#[from] InvalidStore),
    /// The inline catalog could not be written as JSON.
    #[error("writing the catalog of Store {store:?} as JSON: {source}")]
    SerializeCatalog {
        /// The Store's name.
        store: String,
        /// Why.
        source: serde_json::Error,
    },
}

impl Error {
    /// A short, bounded label for metrics and events.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::MissingMetadata { .. } => "missing_metadata",
            Error::InvalidStore(_) => "invalid_store",
            Error::SerializeCatalog { .. } => "serialize_catalog",
        }
    }

    /// The condition reason and event reason of the failure.
    pub fn reason(&self) -> Reason {
        Reason::InvalidSpec
    }
}
