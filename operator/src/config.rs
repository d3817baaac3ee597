//! What the operator is configured with, as opposed to what a Store asks for.

/// The field manager of every server-side apply.
pub const FIELD_MANAGER: &str = "storeops";

/// The store-service image of this release.
pub const DEFAULT_IMAGE: &str = concat!("storeops/store-service:", env!("CARGO_PKG_VERSION"));

/// Operator-wide settings that a Store's spec may override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorConfig {
    /// Image of the store-service when `spec.image` is unset.
    pub default_image: String,
    /// OTLP endpoint when `spec.telemetry.otlpEndpoint` is unset; `None`:
    /// no export.
    pub default_otlp_endpoint: Option<String>,
    /// Namespace of the fleet dashboards.
    pub dashboard_namespace: String,
    /// Field manager of server-side apply.
    pub field_manager: String,
}

impl Default for OperatorConfig {
    fn default() -> Self {
        OperatorConfig {
            default_image: DEFAULT_IMAGE.to_string(),
            default_otlp_endpoint: None,
            dashboard_namespace: "storeops-system".to_string(),
            field_manager: FIELD_MANAGER.to_string(),
        }
    }
}
