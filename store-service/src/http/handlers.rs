//! Handlers: decode the request, call the service, encode the answer.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::error::{ApiError, JsonBody, PathParam, QueryParams};
use super::middleware::FaultSettings;
use super::{AppState, openapi};
use crate::domain::{Product, Purchase};
use crate::telemetry::exposition::wants_openmetrics;

#[derive(Serialize)]
pub struct ProductView {
    name: String,
    category: String,
    price: f64,
    currency: String,
    stock: i64,
}

impl ProductView {
    fn new(p: Product, currency: &str) -> Self {
        ProductView {
            price: p.price.as_decimal(),
            currency: currency.to_string(),
            name: p.name,
            category: p.category,
            stock: p.stock,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    category: Option<String>,
}

pub async fn list_products(
    State(s): State<AppState>,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<Vec<ProductView>>, ApiError> {
    let products = s.service.list(q.category.as_deref()).await?;
    Ok(Json(
        products
            .into_iter()
            .map(|p| ProductView::new(p, &s.currency))
            .collect(),
    ))
}

pub async fn get_product(
    State(s): State<AppState>,
    PathParam(name): PathParam<String>,
) -> Result<Json<ProductView>, ApiError> {
    let product = s.service.get(&name).await?;
    Ok(Json(ProductView::new(product, &s.currency)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuyRequest {
    quantity: i64,
}

#[derive(Serialize)]
pub struct PurchaseView {
    purchase_id: String,
    product: ProductView,
    quantity: i64,
    total: f64,
    currency: String,
}

impl PurchaseView {
    fn new(p: Purchase, currency: &str) -> Self {
        PurchaseView {
            purchase_id: p.id,
            product: ProductView::new(p.product, currency),
            quantity: p.quantity,
            total: p.total.as_decimal(),
            currency: currency.to_string(),
        }
    }
}

pub async fn buy(
    State(s): State<AppState>,
    PathParam(name): PathParam<String>,
    JsonBody(body): JsonBody<BuyRequest>,
) -> Result<Json<PurchaseView>, ApiError> {
    let purchase = s.service.buy(&name, body.quantity).await?;
    Ok(Json(PurchaseView::new(purchase, &s.currency)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockRequest {
    stock: i64,
}

pub async fn set_stock(
    State(s): State<AppState>,
    PathParam(name): PathParam<String>,
    JsonBody(body): JsonBody<StockRequest>,
) -> Result<Json<ProductView>, ApiError> {
    let product = s.service.set_stock(&name, body.stock).await?;
    Ok(Json(ProductView::new(product, &s.currency)))
}

pub async fn get_faults(State(s): State<AppState>) -> Json<FaultSettings> {
    Json(s.faults.get())
}

pub async fn set_faults(
    State(s): State<AppState>,
    JsonBody(settings): JsonBody<FaultSettings>,
) -> Result<Json<FaultSettings>, ApiError> {
    s.faults
        .set(settings)
        .map_err(|why| ApiError::new(StatusCode::BAD_REQUEST, "invalid_fault", why))?;
    tracing::warn!(
        latency_ms = settings.latency_ms,
        error_ratio = settings.error_ratio,
        "fault injection changed"
    );
    Ok(Json(s.faults.get()))
}

pub async fn clear_faults(State(s): State<AppState>) -> Json<FaultSettings> {
    s.faults.clear();
    tracing::info!("fault injection cleared");
    Json(s.faults.get())
}

pub async fn livez() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

pub async fn readyz(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    if s.shutting_down.load(Ordering::Relaxed) {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the service is shutting down",
        ));
    }
    match tokio::time::timeout(Duration::from_secs(1), s.service.ping()).await {
        Ok(Ok(())) => Ok(Json(json!({"status": "ready"}))),
        _ => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "the database does not answer",
        )),
    }
}

pub async fn metrics(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let openmetrics = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(wants_openmetrics);
    let content_type = if openmetrics {
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    } else {
        "text/plain; version=0.0.4; charset=utf-8"
    };
    (
        [(header::CONTENT_TYPE, content_type)],
        s.metrics.encode(openmetrics),
    )
        .into_response()
}

pub async fn openapi() -> Json<serde_json::Value> {
    Json(openapi::spec())
}

pub async fn route_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "route_not_found", "no such route")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this route",
    )
}
