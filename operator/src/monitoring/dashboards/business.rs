//! Business insights across stores: revenue by store and category, top
//! products, average order value, conversion, stock-outs, refused purchases,
//! restocks.

use super::FLEET_SOURCE;
use super::names::{count, l, m};
use super::overview::{FLEET, fleet_variables};
use super::{Dashboard, Kind, Panel, prom, prom_now, row};

/// The dashboard.
pub fn dashboard() -> Dashboard {
    let (count, f) = (count(), FLEET);
    let (p, c) = (l::PRODUCT_NAME, l::PRODUCT_CATEGORY);
    let buys = format!(
        r#"{count}{{{f},{}="/products/{{name}}/buy",{}="200"}}"#,
        l::HTTP_ROUTE,
        l::HTTP_RESPONSE_STATUS_CODE
    );
    let views = format!(
        r#"{count}{{{f},{}=~"/products|/products/\\{{name\\}}",{}="GET"}}"#,
        l::HTTP_ROUTE,
        l::HTTP_REQUEST_METHOD
    );
    Dashboard {
        source: FLEET_SOURCE.into(),
        uid: "storeops-business".into(),
        title: "storeops / Business insights".into(),
        tags: vec!["fleet".into()],
        variables: fleet_variables(),
        rows: vec![
            row(
                "Revenue",
                vec![
                    Panel::new(
                        Kind::TimeSeries,
                        "Revenue per hour by store",
                        vec![prom(
                            format!(
                                "sum by (store_id) (rate({}{{{f}}}[$__rate_interval])) * 3600",
                                m::APP_REVENUE_TOTAL
                            ),
                            "{{store_id}}",
                        )],
                    ),
                    Panel::new(
                        Kind::TimeSeries,
                        "Revenue per hour by category",
                        vec![prom(
                            format!(
                                "sum by ({c}) (rate({}{{{f}}}[$__rate_interval])) * 3600",
                                m::APP_REVENUE_TOTAL
                            ),
                            "{{product_category}}",
                        )],
                    ),
                    Panel::new(
                        Kind::Stat,
                        "Average order value (1h)",
                        vec![prom_now(
                            format!(
                                "sum(increase({}{{{f}}}[1h]))\n/\nsum(increase({buys}[1h]))",
                                m::APP_REVENUE_TOTAL
                            ),
                            "",
                        )],
                    )
                    .size(6, 5),
                    Panel::new(
                        Kind::Stat,
                        "Conversion: purchases per product view (1h)",
                        vec![prom_now(
                            format!("sum(increase({buys}[1h]))\n/\nsum(increase({views}[1h]))"),
                            "",
                        )],
                    )
                    .unit("percentunit")
                    .size(6, 5),
                    Panel::new(
                        Kind::Stat,
                        "Products out of stock",
                        vec![prom_now(
                            format!(
                                "count(max by (store_id, {p}) ({}{{{f}}}) == 0) or vector(0)",
                                m::APP_PRODUCT_STOCK
                            ),
                            "",
                        )],
                    )
                    .size(6, 5),
                    Panel::new(
                        Kind::Stat,
                        "Refused for stock (1h)",
                        vec![prom_now(
                            format!(
                                "sum(increase({}{{{f}}}[1h]))",
                                m::APP_STOCK_INSUFFICIENT_EVENTS_TOTAL
                            ),
                            "",
                        )],
                    )
                    .size(6, 5),
                ],
            ),
            row(
                "Products",
                vec![
                    Panel::new(
                        Kind::BarGauge,
                        "Top products by revenue in range",
                        vec![prom_now(
                            format!(
                                "topk(10, sum by (store_id, {p}) (increase({}{{{f}}}[$__range])))",
                                m::APP_REVENUE_TOTAL
                            ),
                            "{{store_id}} {{product_name}}",
                        )],
                    ),
                    Panel::new(
                        Kind::PieChart,
                        "Items sold by category in range",
                        vec![prom_now(
                            format!(
                                "sum by ({c}) (increase({}{{{f}}}[$__range]))",
                                m::APP_ITEMS_SOLD_TOTAL
                            ),
                            "{{product_category}}",
                        )],
                    ),
                    Panel::new(
                        Kind::TimeSeries,
                        "Refused purchases per hour by product",
                        vec![prom(
                            format!(
                                "sum by (store_id, {p}) (rate({}{{{f}}}[$__rate_interval])) * 3600",
                                m::APP_STOCK_INSUFFICIENT_EVENTS_TOTAL
                            ),
                            "{{store_id}} {{product_name}}",
                        )],
                    ),
                    Panel::new(
                        Kind::TimeSeries,
                        "Stock updates by type",
                        vec![prom(
                            format!(
                                "sum by (store_id, {u}) (increase({}{{{f}}}[$__rate_interval]))",
                                m::APP_PRODUCT_STOCK_UPDATES_TOTAL,
                                u = l::UPDATE_TYPE
                            ),
                            "{{store_id}} {{update_type}}",
                        )],
                    ),
                ],
            ),
        ],
    }
}
