//! A partner bank's journey: onboarding, key, endpoint, product; a firm consents and the signed
//! `match.created` arrives; the firm applies and `application.submitted` arrives; the bank
//! approves and disburses and the firm's financing status shows it; a financials change that
//! breaks eligibility sends `match.withdrawn`; the bank's incremental pull converges.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use srdi_capital::clock::SystemClock;

use crate::helpers::*;
use crate::ok;
use crate::receiver::Receiver;

const WAIT: Duration = Duration::from_secs(20);

/// `srdi-capital keys create` against the service's database, as an operator would run it.
fn cli_key(app: &TestApp, role: &str, subject: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_srdi-capital"))
        .args(["keys", "create", "--role", role, "--subject", subject, "--label", "journey"])
        .env("SRDI_DATABASE_URL", &app.database_url)
        .env("SRDI_LOG_FORMAT", "json")
        .output()
        .expect("the command line runs");
    assert!(out.status.success(), "keys create: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8").trim().to_owned()
}

/// Waits for the `n`-th delivery, verifies it with the reference library and returns its body.
async fn delivered(rx: &Receiver, n: usize, secret: &str) -> Value {
    let got = rx.wait_for("/hooks", n, WAIT).await;
    assert!(got[n - 1].verified_by_reference_library(secret), "delivery {n} verifies");
    got[n - 1].json()
}

#[tokio::test]
async fn a_bank_learns_of_matches_and_applications_and_its_pull_converges() {
    let app = spawn_app_with(loopback_webhooks, Arc::new(SystemClock)).await;
    let rx = Receiver::start().await;
    let admin = app.admin_key.clone();

    // The office onboards the bank and issues its key.
    let bank = ok(app
        .post_json(
            "/v1/banks",
            &admin,
            &json!({"name": "齐鲁银行", "code": "QILU", "contact_email": "sme@qilu.example.cn"}),
        )
        .await)
    .await;
    let bank_id = bank["id"].as_str().expect("id").to_owned();
    let key =
        ok(app.post_json(&format!("/v1/banks/{bank_id}/keys"), &admin, &json!({"label": "core"})).await).await["key"]
            .as_str()
            .expect("key")
            .to_owned();

    // The bank registers its endpoint and publishes a product.
    let types =
        ["match.created", "match.updated", "match.withdrawn", "application.submitted", "application.status_changed"];
    let endpoint =
        ok(app.post_json("/v1/webhook-endpoints", &key, &json!({"url": rx.url("/hooks"), "event_types": types})).await)
            .await;
    let secret = endpoint["secret"].as_str().expect("secret").to_owned();
    let product = ok(app
        .post_json(
            "/v1/products",
            &key,
            &json!({"name": "专精特新贷", "kind": "srdi_loan", "amount_min": "500000.00", "amount_max": "10000000.00",
                "term_months_min": 6, "term_months_max": 36, "rate_spread_bp": -20, "collateral": ["credit"],
                "eligibility": {"tiers": ["provincial_srdi"], "min_revenue": "10000000.00", "min_years_in_operation": 2}}),
        )
        .await)
    .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let first = ok(app.get("/v1/matches", &key).await).await;
    assert!(first["items"].as_array().expect("items").is_empty());
    let token = first["sync_token"].as_str().expect("token").to_owned();

    // The office registers a firm with its financials; the firm gets its key from the operator.
    let firm = app.create_firm(firm_body(1)).await;
    let firm_id = firm["id"].as_str().expect("id").to_owned();
    let financials = |revenue: &str| json!({"revenue": revenue, "rd_expense": "900000.00", "invention_patents": 4});
    ok(app.put_json(&format!("/v1/firms/{firm_id}/financials/2024"), &admin, &financials("20000000.00")).await).await;
    let ent = cli_key(&app, "enterprise", &firm_id);

    // The firm consents to this bank: the match it qualifies for reaches the bank, signed.
    ok(app.post_json(&format!("/v1/firms/{firm_id}/consents"), &ent, &json!({"bank_id": bank_id})).await).await;
    let created = delivered(&rx, 1, &secret).await;
    assert_eq!(created["type"], "match.created");
    assert_eq!(
        (created["data"]["firm_id"].as_str(), created["data"]["product_id"].as_str()),
        (Some(&*firm_id), Some(&*product))
    );

    // The firm applies; the bank hears of it.
    let application = ok(app
        .post_json(
            "/v1/applications",
            &ent,
            &json!({"product_id": product, "amount": "3000000", "term_months": 12, "purpose": "采购研发设备"}),
        )
        .await)
    .await;
    let application_id = application["id"].as_str().expect("id").to_owned();
    let submitted = delivered(&rx, 2, &secret).await;
    assert_eq!(submitted["type"], "application.submitted");
    assert_eq!(submitted["data"]["application_id"], application_id);

    // The bank reviews, approves and disburses.
    let path = format!("/v1/applications/{application_id}/transitions");
    for step in [
        json!({"status": "under_review"}),
        json!({"status": "approved", "approved_amount": "2500000", "approved_term_months": 12, "approved_rate": "3.10"}),
        json!({"status": "disbursed", "disbursed_amount": "2500000"}),
    ] {
        ok(app.post_json(&path, &key, &step).await).await;
    }
    let status = ok(app.get(&format!("/v1/firms/{firm_id}/financing-status"), &ent).await).await;
    let applications = status["applications"].as_array().expect("applications");
    assert_eq!(applications.len(), 1);
    assert_eq!(applications[0]["status"], "disbursed", "the firm sees the loan: {status}");

    // A smaller revenue breaks eligibility: the match is withdrawn, and the bank hears of it.
    ok(app.put_json(&format!("/v1/firms/{firm_id}/financials/2024"), &admin, &financials("5000000.00")).await).await;
    let deadline = std::time::Instant::now() + WAIT;
    let withdrawn = loop {
        let bodies: Vec<Value> = rx.received("/hooks").iter().map(|r| r.json()).collect();
        if let Some(w) = bodies.iter().find(|b| b["type"] == "match.withdrawn") {
            break w.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no match.withdrawn: {bodies:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(withdrawn["data"]["product_id"], product);
    assert!(rx.received("/hooks").iter().all(|r| r.verified_by_reference_library(&secret)));

    // The incremental pull from the first token reports the same end state as the webhooks.
    let since = ok(app.get(&format!("/v1/matches?updated_since={}", url_encode(&token)), &key).await).await;
    let items = since["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!((items[0]["firm_id"].as_str(), items[0]["status"].as_str()), (Some(&*firm_id), Some("withdrawn")));
    assert!(ok(app.get("/v1/matches", &key).await).await["items"].as_array().expect("items").is_empty());
    let unauthorised = app.req(Method::GET, "/v1/matches", None).send().await.expect("req");
    assert_eq!(unauthorised.status(), StatusCode::UNAUTHORIZED);
}
