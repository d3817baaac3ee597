//! The OpenAPI 3.1 description served at `/openapi.json`.

use serde_json::{Value, json};

/// Every error code a response can carry.
pub const ERROR_CODES: &[&str] = &[
    "malformed_json",
    "invalid_body",
    "invalid_query",
    "invalid_path",
    "invalid_quantity",
    "invalid_stock",
    "invalid_name",
    "invalid_fault",
    "unsupported_media_type",
    "missing_token",
    "invalid_token",
    "admin_disabled",
    "product_not_found",
    "route_not_found",
    "method_not_allowed",
    "insufficient_stock",
    "payload_too_large",
    "injected_fault",
    "database_error",
    "database_unavailable",
    "shutting_down",
    "bad_request",
    "request_timeout",
    "internal_error",
];

/// What any operation may also answer: refusals made before a handler runs,
/// always with the `Error` body.
const DEFAULT_ERRORS: &str = "Any other refusal, always an Error body: route_not_found (404, a path \
    that matches no route), method_not_allowed (405, another method on a known path), \
    payload_too_large (413), unsupported_media_type (415), request_timeout (408), \
    bad_request (other 4xx), internal_error (other 5xx)";

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn ok(description: &str, schema: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

fn name_param() -> Value {
    json!({"name": "name", "in": "path", "required": true,
           "schema": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[^\\u0000-\\u001f\\u007f]+$"}})
}

/// The document, each operation with a `default` response for [`DEFAULT_ERRORS`].
pub fn spec() -> Value {
    let mut spec = paths();
    for path in spec["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut())
    {
        for operation in path
            .as_object_mut()
            .into_iter()
            .flat_map(|o| o.values_mut())
        {
            operation["responses"]["default"] = json!({"$ref": "#/components/responses/Error"});
        }
    }
    spec
}

fn paths() -> Value {
    let admin = json!([{"bearer": []}]);
    json!({
        "openapi": "3.1.0",
        "info": {"title": "store-service", "version": env!("CARGO_PKG_VERSION"),
                 "description": "The product service of one store."},
        "paths": {
            "/products": {"get": {
                "operationId": "listProducts",
                "parameters": [{"name": "category", "in": "query", "required": false, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "Products, ordered by name", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Product"}}}}},
                              "400": error_response("invalid_query, invalid_name")}}},
            "/products/{name}": {"get": {
                "operationId": "getProduct", "parameters": [name_param()],
                "responses": {"200": ok("The product", "Product"), "400": error_response("invalid_path, invalid_name"), "404": error_response("product_not_found")}}},
            "/products/{name}/buy": {"post": {
                "operationId": "buyProduct", "parameters": [name_param()],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BuyRequest"}}}},
                "responses": {"200": ok("The purchase, committed", "Purchase"),
                              "400": error_response("invalid_path, malformed_json, invalid_body, invalid_quantity, invalid_name"),
                              "404": error_response("product_not_found"),
                              "409": error_response("insufficient_stock"),
                              "413": error_response("payload_too_large"),
                              "415": error_response("unsupported_media_type"),
                              "500": error_response("database_error, injected_fault")}}},
            "/products/{name}/stock": {"put": {
                "operationId": "setStock", "parameters": [name_param()], "security": admin,
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StockRequest"}}}},
                "responses": {"200": ok("The product with its new stock", "Product"),
                              "400": error_response("invalid_path, malformed_json, invalid_body, invalid_stock, invalid_name"),
                              "401": error_response("missing_token, invalid_token, admin_disabled"),
                              "404": error_response("product_not_found"),
                              "413": error_response("payload_too_large"),
                              "415": error_response("unsupported_media_type")}}},
            "/admin/faults": {
                "get": {"operationId": "getFaults", "security": admin, "responses": {"200": ok("Current faults", "Faults"), "401": error_response("missing_token, invalid_token")}},
                "put": {"operationId": "setFaults", "security": admin,
                        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Faults"}}}},
                        "responses": {"200": ok("Faults now in force", "Faults"),
                                      "400": error_response("malformed_json, invalid_body, invalid_fault"),
                                      "401": error_response("missing_token, invalid_token, admin_disabled"),
                                      "413": error_response("payload_too_large"),
                                      "415": error_response("unsupported_media_type")}},
                "delete": {"operationId": "clearFaults", "security": admin, "responses": {"200": ok("No faults", "Faults"), "401": error_response("missing_token, invalid_token")}}},
            "/livez": {"get": {"operationId": "livez", "responses": {"200": {"description": "The process is alive"}}}},
            "/readyz": {"get": {"operationId": "readyz", "responses": {"200": {"description": "The database answers"}, "503": error_response("database_unavailable, shutting_down")}}},
            "/metrics": {"get": {"operationId": "metrics", "responses": {"200": {"description": "Prometheus metrics; OpenMetrics with exemplars when asked by Accept"}}}},
            "/openapi.json": {"get": {"operationId": "openapi", "responses": {"200": {"description": "This document"}}}}
        },
        "components": {
            "responses": {"Error": error_response(DEFAULT_ERRORS)},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Product": {"type": "object", "required": ["name", "category", "price", "currency", "stock"], "properties": {
                    "name": {"type": "string"}, "category": {"type": "string"}, "price": {"type": "number", "minimum": 0},
                    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}, "stock": {"type": "integer", "minimum": 0}}},
                "BuyRequest": {"type": "object", "required": ["quantity"], "additionalProperties": false, "properties": {
                    "quantity": {"type": "integer", "minimum": 1, "maximum": crate::domain::MAX_PURCHASE_QUANTITY}}},
                "StockRequest": {"type": "object", "required": ["stock"], "additionalProperties": false, "properties": {
                    "stock": {"type": "integer", "minimum": 0, "maximum": crate::domain::MAX_STOCK}}},
                "Purchase": {"type": "object", "required": ["purchase_id", "product", "quantity", "total", "currency"], "properties": {
                    "purchase_id": {"type": "string"}, "product": {"$ref": "#/components/schemas/Product"},
                    "quantity": {"type": "integer"}, "total": {"type": "number"}, "currency": {"type": "string"}}},
                "Faults": {"type": "object", "additionalProperties": false, "properties": {
                    "latency_ms": {"type": "integer", "minimum": 0, "maximum": 30000},
                    "error_ratio": {"type": "number", "minimum": 0, "maximum": 1}}},
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                    "code": {"type": "string", "enum": ERROR_CODES}, "message": {"type": "string"}}}}}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_route_is_described() {
        let spec = super::spec();
        for path in [
            "/products",
            "/products/{name}",
            "/products/{name}/buy",
            "/products/{name}/stock",
            "/admin/faults",
            "/livez",
            "/readyz",
            "/metrics",
            "/openapi.json",
        ] {
            assert!(spec["paths"].get(path).is_some(), "{path} missing");
        }
    }

    /// Every code a response can carry is named in some response description.
    #[test]
    fn every_error_code_is_described() {
        let spec = super::spec();
        let mut descriptions = String::new();
        collect_descriptions(&spec, &mut descriptions);
        for code in super::ERROR_CODES {
            assert!(descriptions.contains(code), "{code} is in no response");
        }
        let list = &spec["paths"]["/products"]["get"]["responses"]["default"]["$ref"];
        assert_eq!(list, "#/components/responses/Error");
    }

    fn collect_descriptions(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v.as_str()) {
                        ("description", Some(d)) => out.push_str(d),
                        _ => collect_descriptions(v, out),
                    }
                }
            }
            serde_json::Value::Array(items) => {
                items.iter().for_each(|v| collect_descriptions(v, out))
            }
            _ => {}
        }
    }
}
