//! `GET /metrics`: Prometheus/OpenMetrics text an operator can scrape.

use serde_json::json;

use crate::db_tests;
use crate::helpers::{AccountSpec, TestApp};

db_tests!(metrics_count_requests_by_route_template_and_deliveries);

async fn metrics_count_requests_by_route_template_and_deliveries(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (_, token) = app
        .invite_and_read_token(
            &owner,
            json!({"email": "seen@example.com", "subscriber_type": "attorney"}),
        )
        .await;
    app.request("GET", &format!("/invitations/{token}"), None, None)
        .await
        .ok(200);
    let response = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = response.text().await.unwrap();
    assert!(
        text.contains(r#"invitations_http_requests_total{method="POST",route="/accounts/{account_id}/invitations",status="201"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"route="/invitations/{token}""#), "{text}");
    assert!(!text.contains(&token), "no token in metrics");
    assert!(
        text.contains(r#"invitations_email_deliveries_total{outcome="sent"} 1"#),
        "{text}"
    );
    assert!(text.contains("invitations_outbox_queued 0"), "{text}");
    assert!(
        text.contains("invitations_http_request_duration_seconds_bucket"),
        "{text}"
    );
}
