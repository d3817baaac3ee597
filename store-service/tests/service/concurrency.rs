//! Concurrent buyers never oversell; a crash loses no committed sale.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use serde_json::json;

use crate::harness::{ADMIN_TOKEN, Client, Postgres, Server, sample};

/// 64 buyers race for the 40 pears: exactly 40 sold, exact revenue, 24 refused.
async fn no_oversell(server: &Server) {
    let c = Client::new(server);
    let buyers: Vec<_> = (0..64)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.buy("pear", json!(1)).await })
        })
        .collect();
    let mut ok = 0;
    let mut conflicts = 0;
    let mut revenue_cents = 0;
    for b in buyers {
        let (status, body) = b.await.unwrap();
        match status {
            200 => {
                ok += 1;
                revenue_cents += (body["total"].as_f64().unwrap() * 100.0).round() as i64;
            }
            409 => {
                conflicts += 1;
                assert_eq!(body["error"]["code"], "insufficient_stock");
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((ok, conflicts), (40, 24));
    assert_eq!(revenue_cents, 40 * 75);
    assert_eq!(c.stock("pear").await, 0);
    let m = c.metrics(false).await;
    assert_eq!(
        sample(&m, "app_items_sold_total", "product_name=\"pear\""),
        Some(40.0)
    );
    assert_eq!(
        sample(&m, "app_revenue_total", "product_name=\"pear\""),
        Some(30.0)
    );
    assert_eq!(
        sample(
            &m,
            "app_stock_insufficient_events_total",
            "product_name=\"pear\""
        ),
        Some(24.0)
    );
    assert_eq!(
        sample(&m, "app_product_stock", "product_name=\"pear\""),
        Some(0.0)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_buyers_never_oversell_on_sqlite() {
    no_oversell(&Server::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_buyers_never_oversell_on_postgres() {
    let pg = Postgres::start().unwrap_or_else(|e| panic!("{e}"));
    let server = Server::with_db(
        tempfile::tempdir().unwrap(),
        pg.database("store_race").unwrap(),
        &[],
    );
    no_oversell(&server).await;
}

/// Restocks race a purchase load: every restock succeeds (none is refused
/// as "database is locked"), and no sale is lost or refused wrongly.
async fn restock_under_load(server: &Server) {
    let c = Client::new(server);
    const STOCK: i64 = 1_000_000;
    let (status, body) = c.set_stock("apple", json!(STOCK), Some(ADMIN_TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    let buyers: Vec<_> = (0..8)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move {
                let mut sold = 0;
                for _ in 0..60 {
                    let (status, body) = c.buy("apple", json!(1)).await;
                    assert_eq!(status, 200, "a purchase failed: {body}");
                    sold += 1;
                }
                sold
            })
        })
        .collect();
    for _ in 0..40 {
        let (status, body) = c.set_stock("apple", json!(STOCK), Some(ADMIN_TOKEN)).await;
        assert_eq!(status, 200, "a restock under load failed: {body}");
    }
    for b in buyers {
        assert_eq!(b.await.unwrap(), 60);
    }
    let (status, body) = c.set_stock("apple", json!(STOCK), Some(ADMIN_TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(c.stock("apple").await, STOCK);
}

#[tokio::test(flavor = "multi_thread")]
async fn restocks_succeed_under_purchase_load_on_sqlite() {
    restock_under_load(&Server::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn restocks_succeed_under_purchase_load_on_postgres() {
    let pg = Postgres::start().unwrap_or_else(|e| panic!("{e}"));
    let server = Server::with_db(
        tempfile::tempdir().unwrap(),
        pg.database("store_restock").unwrap(),
        &[],
    );
    restock_under_load(&server).await;
}

/// kill -9 in the middle of a purchase load: every 200 is in the stock, once.
#[tokio::test(flavor = "multi_thread")]
async fn kill_nine_loses_no_committed_sale() {
    let mut server = Server::sqlite();
    let c = Client::new(&server);
    const INITIAL: i64 = 1_000_000;
    assert_eq!(
        c.set_stock("apple", json!(INITIAL), Some(ADMIN_TOKEN))
            .await
            .0,
        200
    );

    let confirmed = Arc::new(AtomicI64::new(0)); // units in 200 responses
    let unknown = Arc::new(AtomicI64::new(0)); // units whose answer never came
    let workers: Vec<_> = (0..16)
        .map(|i| {
            let (c, confirmed, unknown) = (c.clone(), confirmed.clone(), unknown.clone());
            tokio::spawn(async move {
                let quantity = 1 + (i % 3);
                loop {
                    let sent = c
                        .http
                        .post(format!("{}/products/apple/buy", c.base))
                        .json(&json!({ "quantity": quantity }))
                        .timeout(Duration::from_secs(5))
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status().as_u16() == 200 => {
                            confirmed.fetch_add(quantity, Ordering::SeqCst);
                        }
                        Ok(r) => panic!("unexpected status {}", r.status()),
                        Err(_) => {
                            // The server died with this purchase in flight.
                            unknown.fetch_add(quantity, Ordering::SeqCst);
                            return;
                        }
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill9();
    for w in workers {
        w.await.unwrap();
    }
    let (confirmed, unknown) = (
        confirmed.load(Ordering::SeqCst),
        unknown.load(Ordering::SeqCst),
    );
    assert!(
        confirmed > 50,
        "the load was too light to prove anything: {confirmed} units"
    );

    server.start();
    let stock = Client::new(&server).stock("apple").await;
    let sold = INITIAL - stock;
    assert!(
        sold >= confirmed,
        "lost committed sales: {confirmed} confirmed, {sold} in the database"
    );
    assert!(
        sold <= confirmed + unknown,
        "sales counted twice: {confirmed} confirmed + {unknown} in flight < {sold} sold"
    );
}
