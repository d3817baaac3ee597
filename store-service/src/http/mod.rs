//! The HTTP API: routes, handlers and the middleware stack.
//!
//! ```text
//! request -> observe (span, RED metrics, traceparent out)
//!         -> [admin routes] require_admin   [product routes] inject_faults
//!         -> handler -> ProductService
//! ```

mod error;
mod handlers;
mod middleware;
pub mod openapi;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post, put};

pub use error::{ApiError, ErrorCode};
pub use middleware::Faults;

use crate::service::ProductService;
use crate::telemetry::metrics::Metrics;

/// What every handler can reach; one `Arc`, so the per-request clones of the
/// middleware stack cost one increment.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The state behind [`AppState`].
pub struct Shared {
    pub service: ProductService,
    pub metrics: Metrics,
    pub admin_token: Option<Arc<str>>,
    pub currency: Arc<str>,
    pub faults: Arc<Faults>,
    /// Set on SIGTERM: readiness fails so traffic moves away while requests drain.
    pub shutting_down: Arc<AtomicBool>,
}

/// The whole API.
pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    let products = Router::new()
        .route("/products", get(handlers::list_products))
        .route("/products/{name}", get(handlers::get_product))
        .route("/products/{name}/buy", post(handlers::buy))
        .route_layer(from_fn_with_state(state.clone(), middleware::inject_faults));
    let admin = Router::new()
        .route("/products/{name}/stock", put(handlers::set_stock))
        .route(
            "/admin/faults",
            get(handlers::get_faults)
                .put(handlers::set_faults)
                .delete(handlers::clear_faults),
        )
        .route_layer(from_fn_with_state(state.clone(), middleware::require_admin));
    let observe = from_fn_with_state(state.clone(), middleware::observe);
    Router::new()
        .merge(products)
        .merge(admin)
        .route("/livez", get(handlers::livez))
        .route("/readyz", get(handlers::readyz))
        .route("/metrics", get(handlers::metrics))
        .route("/openapi.json", get(handlers::openapi))
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .route_layer(observe.clone())
        // Unmatched paths are observed too, with an empty route label.
        .fallback(handlers::route_not_found.layer(observe))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
}
