//! The HTTP API and every error code, on SQLite and on PostgreSQL.

use serde_json::{Value, json};

use crate::harness::{ADMIN_TOKEN, Client, Postgres, Server};

/// The same assertions against any backend.
async fn api_contract(server: &Server) {
    let c = Client::new(server);

    // Listing, filtering, one product.
    let (s, all) = c.get("/products").await;
    assert_eq!(s, 200);
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["apple", "laptop", "pear"]);
    let (s, fruit) = c.get("/products?category=fruit").await;
    assert_eq!((s, fruit.as_array().unwrap().len()), (200, 2));
    let (s, laptop) = c.get("/products/laptop").await;
    assert_eq!(s, 200);
    assert_eq!(
        laptop,
        json!({"name": "laptop", "category": "electronics", "price": 999.99, "currency": "USD", "stock": 5})
    );

    // A purchase: one transaction, exact money.
    let (s, p) = c.buy("laptop", json!(2)).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(
        (
            p["quantity"].clone(),
            p["total"].clone(),
            p["product"]["stock"].clone()
        ),
        (json!(2), json!(1999.98), json!(3))
    );
    assert_eq!(p["purchase_id"].as_str().unwrap().len(), 32);

    // Every refusal has its status and code, and changes nothing.
    let expect = |got: (u16, Value), status: u16, code: &str| {
        assert_eq!(got.0, status, "{}", got.1);
        assert_eq!(got.1["error"]["code"], code, "{}", got.1);
        assert!(
            got.1["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    };
    expect(c.buy("laptop", json!(4)).await, 409, "insufficient_stock");
    expect(c.buy("laptop", json!(0)).await, 400, "invalid_quantity");
    expect(c.buy("laptop", json!(-1)).await, 400, "invalid_quantity");
    expect(
        c.buy("laptop", json!(1_000_000)).await,
        400,
        "invalid_quantity",
    );
    expect(c.buy("laptop", json!("two")).await, 400, "invalid_body");
    expect(c.buy("laptop", json!(1.5)).await, 400, "invalid_body");
    expect(c.buy("ghost", json!(1)).await, 404, "product_not_found");
    expect(c.get("/products/ghost").await, 404, "product_not_found");
    expect(c.get("/nowhere").await, 404, "route_not_found");
    expect(c.get("/products?colour=red").await, 400, "invalid_query");

    let raw = |body: &'static str, content_type: &'static str| {
        let c = c.clone();
        async move {
            let r = c
                .http
                .post(format!("{}/products/laptop/buy", c.base))
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    expect(
        raw("{\"quantity\": ", "application/json").await,
        400,
        "malformed_json",
    );
    expect(
        raw("{\"quantity\": 1, \"coupon\": \"x\"}", "application/json").await,
        400,
        "invalid_body",
    );
    expect(
        raw("quantity=1", "text/plain").await,
        415,
        "unsupported_media_type",
    );
    let huge = format!(
        "{{\"quantity\": 1, \"pad\": \"{}\"}}",
        "x".repeat(64 * 1024)
    );
    let r = c
        .http
        .post(format!("{}/products/laptop/buy", c.base))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert_eq!(
        r.headers()["connection"],
        "close",
        "413 must close the half-read connection"
    );
    expect((status, r.json().await.unwrap()), 413, "payload_too_large");
    let r = c
        .http
        .delete(format!("{}/products", c.base))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    expect((status, r.json().await.unwrap()), 405, "method_not_allowed");
    assert_eq!(
        c.stock("laptop").await,
        3,
        "a refused request changed the stock"
    );

    // Restock needs the admin token.
    expect(
        c.set_stock("laptop", json!(10), None).await,
        401,
        "missing_token",
    );
    expect(
        c.set_stock("laptop", json!(10), Some("wrong-token-wrong-token"))
            .await,
        401,
        "invalid_token",
    );
    expect(
        c.set_stock("laptop", json!(-5), Some(ADMIN_TOKEN)).await,
        400,
        "invalid_stock",
    );
    expect(
        c.set_stock("ghost", json!(5), Some(ADMIN_TOKEN)).await,
        404,
        "product_not_found",
    );
    assert_eq!(c.stock("laptop").await, 3);
    let (s, p) = c.set_stock("laptop", json!(10), Some(ADMIN_TOKEN)).await;
    assert_eq!((s, p["stock"].clone()), (200, json!(10)));

    // Fault injection, behind the same token.
    let faults = format!("{}/admin/faults", c.base);
    let r = c
        .http
        .put(&faults)
        .json(&json!({"error_ratio": 1.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = c
        .http
        .put(&faults)
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"error_ratio": 2.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = c
        .http
        .put(&faults)
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"error_ratio": 1.0, "latency_ms": 50}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let started = std::time::Instant::now();
    expect(c.buy("laptop", json!(1)).await, 500, "injected_fault");
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(50),
        "latency was not injected"
    );
    let r = c
        .http
        .delete(&faults)
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"latency_ms": 0, "error_ratio": 0.0})
    );
    assert_eq!(
        c.stock("laptop").await,
        10,
        "an injected fault must not sell"
    );
    assert_eq!(c.buy("laptop", json!(1)).await.0, 200);

    // Probes and the API description.
    assert_eq!(c.get("/livez").await.0, 200);
    assert_eq!(c.get("/readyz").await, (200, json!({"status": "ready"})));
    let (s, spec) = c.get("/openapi.json").await;
    assert_eq!((s, spec["openapi"].as_str()), (200, Some("3.1.0")));
    assert!(spec["paths"]["/products/{name}/buy"]["post"]["responses"]["409"].is_object());
}

#[tokio::test(flavor = "multi_thread")]
async fn api_on_sqlite() {
    let server = Server::sqlite();
    api_contract(&server).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn api_on_postgres() {
    let pg = Postgres::start().unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let server = Server::with_db(dir, pg.database("store_api").unwrap(), &[]);
    api_contract(&server).await;
}

/// The catalog seeds the first start only: a restart keeps sold stock.
#[tokio::test(flavor = "multi_thread")]
async fn restart_keeps_stock_and_does_not_reseed() {
    let mut server = Server::sqlite();
    let c = Client::new(&server);
    assert_eq!(c.buy("apple", json!(7)).await.0, 200);
    server.kill9();
    server.start();
    let c = Client::new(&server);
    assert_eq!(c.stock("apple").await, 93);
    let seeded: Vec<_> = server
        .log_lines()
        .into_iter()
        .filter(|l| l["msg"] == "catalog loaded")
        .map(|l| l["seeded"].as_i64().unwrap())
        .collect();
    assert_eq!(seeded, [3, 0], "seeded on first start only");
}
