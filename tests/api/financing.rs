//! Banks, products, consent, matching kept current, the bank pull, applications and the
//! enterprise's financing status. Runs on SQLite and PostgreSQL (`SRDI_TEST_DATABASE=postgres`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use srdi_capital::clock::{Clock, SystemClock};
use srdi_capital::domain::access::Role;
use srdi_capital::domain::events::EventKind;
use srdi_capital::service::matching;
use srdi_capital::store::events;
use uuid::Uuid;

use crate::helpers::*;

// ------------------------------------------------------------------ support

/// Onboards a bank through the API and issues its key.
pub(crate) async fn bank(app: &TestApp, code: &str) -> (Uuid, String) {
    let resp = app
        .post_json(
            "/v1/banks",
            &app.admin_key,
            &json!({"name": format!("{code} 银行"), "code": code, "contact_email": "sme@bank.example.cn"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED, "onboard bank");
    let b: Value = resp.json().await.expect("json");
    let id: Uuid = b["id"].as_str().expect("id").parse().expect("uuid");
    let resp = app.post_json(&format!("/v1/banks/{id}/keys"), &app.admin_key, &json!({"label": "test"})).await;
    assert_eq!(resp.status(), StatusCode::CREATED, "issue key");
    let k: Value = resp.json().await.expect("json");
    assert_eq!(k["role"], "bank");
    assert_eq!(k["subject_id"], id.to_string());
    (id, k["key"].as_str().expect("key").to_owned())
}

/// A 专精特新贷-style product: provincial tier or above, revenue at least `min_revenue`.
pub(crate) fn srdi_product(name: &str, min_revenue: &str) -> Value {
    json!({
        "name": name,
        "kind": "srdi_loan",
        "amount_min": "500000.00",
        "amount_max": "10000000.00",
        "term_months_min": 6,
        "term_months_max": 36,
        "rate_spread_bp": -20,
        "collateral": ["credit"],
        "eligibility": {"tiers": ["provincial_srdi"], "min_revenue": min_revenue, "min_years_in_operation": 2},
    })
}

pub(crate) async fn publish(app: &TestApp, key: &str, body: &Value) -> Uuid {
    let resp = app.post_json("/v1/products", key, body).await;
    assert_eq!(resp.status(), StatusCode::CREATED, "publish product");
    let p: Value = resp.json().await.expect("json");
    p["id"].as_str().expect("id").parse().expect("uuid")
}

pub(crate) async fn firm(app: &TestApp, n: usize) -> Uuid {
    let f = app.create_firm(firm_body(n)).await;
    f["id"].as_str().expect("id").parse().expect("uuid")
}

pub(crate) async fn set_revenue(app: &TestApp, firm: Uuid, revenue: &str) {
    let resp = app
        .put_json(
            &format!("/v1/firms/{firm}/financials/2024"),
            &app.admin_key,
            &json!({"revenue": revenue, "rd_expense": "600000.00", "invention_patents": 3}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK, "put financials");
}

pub(crate) async fn consent_all(app: &TestApp, firm: Uuid) -> Uuid {
    consent_to(app, firm, None).await
}

pub(crate) async fn consent_to(app: &TestApp, firm: Uuid, bank: Option<Uuid>) -> Uuid {
    let resp = app.post_json(&format!("/v1/firms/{firm}/consents"), &app.admin_key, &json!({"bank_id": bank})).await;
    assert_eq!(resp.status(), StatusCode::CREATED, "grant consent");
    let c: Value = resp.json().await.expect("json");
    c["id"].as_str().expect("id").parse().expect("uuid")
}

pub(crate) async fn revoke(app: &TestApp, key: &str, firm: Uuid, consent: Uuid) {
    let resp =
        app.req(Method::DELETE, &format!("/v1/firms/{firm}/consents/{consent}"), Some(key)).send().await.expect("req");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT, "revoke");
}

/// Processes every queued re-evaluation (waits for work a worker holds) — no blind sleeps.
pub(crate) async fn drain(app: &TestApp) {
    matching::drain(&app.db, &*app.clock).await.expect("drain");
}

pub(crate) async fn json_of(resp: reqwest::Response) -> Value {
    let status = resp.status();
    let text = resp.text().await.expect("text");
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).expect("json")
}

/// Every page of a pull; returns the items and the sync token.
pub(crate) async fn pull_all(app: &TestApp, key: &str, query: &str) -> (Vec<Value>, String) {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    let mut token;
    loop {
        let mut path = format!("/v1/matches?limit=2{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = json_of(app.get(&path, key).await).await;
        items.extend(page["items"].as_array().expect("items").iter().cloned());
        token = page["sync_token"].as_str().expect("token").to_owned();
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return (items, token),
        }
    }
}

pub(crate) fn pairs(items: &[Value]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = items
        .iter()
        .map(|i| (i["firm_id"].as_str().expect("f").to_owned(), i["product_id"].as_str().expect("p").to_owned()))
        .collect();
    v.sort();
    v
}

async fn event_types_for(app: &TestApp, firm: Uuid, prefix: &str) -> Vec<(String, Option<Uuid>, Value)> {
    let mut conn = app.db.pool().acquire().await.expect("conn");
    let mut evs: Vec<_> = events::for_firm(&mut conn, srdi_capital::domain::ids::FirmId::from_uuid(firm))
        .await
        .expect("events")
        .into_iter()
        .filter(|e| e.kind.as_str().starts_with(prefix))
        .collect();
    evs.sort_by_key(|e| (e.occurred_at, e.data["version"].as_i64()));
    evs.into_iter().map(|e| (e.kind.as_str().to_owned(), e.bank_id.map(|b| b.uuid()), e.data)).collect()
}

async fn queue_len(app: &TestApp) -> i64 {
    let mut conn = app.db.pool().acquire().await.expect("conn");
    srdi_capital::store::matches::queue_len(&mut conn).await.expect("len")
}

async fn apply_for(app: &TestApp, key: &str, product: Uuid, amount: &str) -> reqwest::Response {
    app.post_json(
        "/v1/applications",
        key,
        &json!({"product_id": product, "amount": amount, "term_months": 12, "purpose": "采购研发设备"}),
    )
    .await
}

async fn move_app(app: &TestApp, key: &str, id: &str, body: Value) -> reqwest::Response {
    app.post_json(&format!("/v1/applications/{id}/transitions"), key, &body).await
}

// ------------------------------------------------------------------ tests

#[tokio::test]
async fn banks_are_onboarded_with_keys_that_act_only_for_them() {
    let app = spawn_app().await;
    let (a, key_a) = bank(&app, "QILU-BANK").await;
    let (b, _) = bank(&app, "BOC-SD").await;
    let resp = app
        .post_json("/v1/banks", &app.admin_key, &json!({"name": "x", "code": "qilu-bank", "contact_email": "a@b.cn"}))
        .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(problem(resp).await["existing_bank_id"], a.to_string());
    let resp = app.post_json("/v1/banks", &app.admin_key, &json!({"code": "-", "contact_email": "nope"})).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = problem(resp).await["errors"]
        .as_array()
        .expect("e")
        .iter()
        .map(|e| e["field"].as_str().expect("f").to_owned())
        .collect();
    assert_eq!(fields, ["name", "code", "contact_email"]);
    assert_eq!(app.post_json("/v1/banks", &key_a, &json!({})).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.post_json(&format!("/v1/banks/{b}/keys"), &key_a, &json!({})).await.status(), StatusCode::FORBIDDEN);

    // A bank sees itself only; an enterprise sees the partner list without contact mailboxes.
    let own = json_of(app.get("/v1/banks", &key_a).await).await;
    assert_eq!(own["items"].as_array().expect("items").len(), 1);
    assert_eq!(own["items"][0]["contact_email"], "sme@bank.example.cn");
    assert_eq!(app.get(&format!("/v1/banks/{b}"), &key_a).await.status(), StatusCode::NOT_FOUND);
    let f = firm(&app, 1).await;
    let ent = app.key_for(Role::Enterprise, Some(f)).await;
    let list = json_of(app.get("/v1/banks", &ent).await).await;
    assert_eq!(list["items"].as_array().expect("items").len(), 2);
    assert!(list["items"][0].get("contact_email").is_none());
}

#[tokio::test]
async fn invalid_products_are_422_naming_every_field() {
    let app = spawn_app().await;
    let (_, key) = bank(&app, "QILU-BANK").await;
    let resp = app
        .post_json(
            "/v1/products",
            &key,
            &json!({
                "name": "专精特新贷", "kind": "srdi_loan", "amount_min": "20000000", "amount_max": "10000000",
                "term_months_max": 400, "rate_spread_bp": -20, "fixed_rate": "3.45", "collateral": [],
                "eligibility": {"min_rd_ratio": "3", "industry_prefixes": ["C35", "X12"], "tiers": ["little_giant"]},
            }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p = problem(resp).await;
    let fields: Vec<&str> =
        p["errors"].as_array().expect("e").iter().map(|e| e["field"].as_str().expect("f")).collect();
    assert_eq!(
        fields,
        [
            "amount_min",
            "term_months_max",
            "fixed_rate",
            "collateral",
            "eligibility.min_rd_ratio",
            "eligibility.industry_prefixes.1"
        ]
    );
    // Unknown rule names and values are named too.
    let resp = app.post_json("/v1/products", &key, &json!({"name": "x", "eligibility": {"min_revnue": "1"}})).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem(resp).await["errors"][0]["message"].as_str().expect("m").contains("min_revnue"));
    let resp = app.post_json("/v1/products", &key, &json!({"name": "x", "kind": "mortgage_loan"})).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A merge patch that breaks a rule is refused whole, naming the field.
    let id = publish(&app, &key, &srdi_product("专精特新贷", "10000000")).await;
    let resp = app
        .patch_json(&format!("/v1/products/{id}"), &key, &json!({"eligibility": {"min_years_in_operation": 99}}))
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(resp).await["errors"][0]["field"], "eligibility.min_years_in_operation");
    // Admin must name the bank; enterprises and funds cannot publish.
    let resp = app.post_json("/v1/products", &app.admin_key, &srdi_product("x", "1")).await;
    assert_eq!(problem(resp).await["errors"][0]["field"], "bank_id");
}

#[tokio::test]
async fn revenue_crossing_a_minimum_makes_the_match_appear_then_disappear_with_events() {
    let app = spawn_app().await;
    let (bank_id, key) = bank(&app, "QILU-BANK").await;
    let product = publish(&app, &key, &srdi_product("专精特新贷", "10000000")).await;
    let f = firm(&app, 1).await;
    consent_all(&app, f).await;
    set_revenue(&app, f, "8000000.00").await;
    drain(&app).await;
    let (items, _) = pull_all(&app, &key, "").await;
    assert!(items.is_empty(), "below the minimum: no match");

    // Crossing the minimum: the match is there when the request returns (same transaction).
    set_revenue(&app, f, "12000000.00").await;
    let (items, token) = pull_all(&app, &key, "").await;
    assert_eq!(pairs(&items), [(f.to_string(), product.to_string())]);
    let item = &items[0];
    assert_eq!(item["status"], "active");
    assert!(item["score"].as_u64().expect("score") >= 60);
    assert_eq!(item["version"], 1);
    let rules: Vec<&str> =
        item["reasons"].as_array().expect("r").iter().map(|r| r["rule"].as_str().expect("rule")).collect();
    assert_eq!(rules, ["tiers", "min_years_in_operation", "min_revenue"]);
    let revenue_rule = &item["reasons"][2];
    assert_eq!(
        (revenue_rule["actual"].as_str(), revenue_rule["required"].as_str()),
        (Some("12000000.00"), Some("10000000.00"))
    );
    assert_eq!(item["firm"]["credit_code"], code(1));
    assert_eq!(item["latest_financials"]["revenue"], "12000000.00");

    // Falling below again withdraws it.
    set_revenue(&app, f, "9999999.99").await;
    let (items, _) = pull_all(&app, &key, "").await;
    assert!(items.is_empty());
    let (changes, _) = pull_all(&app, &key, &format!("&updated_since={token}")).await;
    assert_eq!(changes.len(), 1);
    assert_eq!(
        (changes[0]["status"].as_str(), changes[0]["withdrawn_reason"].as_str()),
        (Some("withdrawn"), Some("no_longer_eligible"))
    );
    assert_eq!(changes[0]["unmet"][0]["rule"], "min_revenue");

    let evs = event_types_for(&app, f, "match.").await;
    let kinds: Vec<&str> = evs.iter().map(|(t, _, _)| t.as_str()).collect();
    assert_eq!(kinds, ["match.created", "match.withdrawn"]);
    assert!(evs.iter().all(|(_, b, d)| *b == Some(bank_id) && d["product_id"] == product.to_string()));
    // Deterministic fact keys: the event id is derived from match:<firm>:<product>:v<n>.
    let mut conn = app.db.pool().acquire().await.expect("conn");
    let ids: Vec<Uuid> = events::for_firm(&mut conn, srdi_capital::domain::ids::FirmId::from_uuid(f))
        .await
        .expect("ev")
        .iter()
        .filter(|e| e.kind.as_str().starts_with("match."))
        .map(|e| e.id)
        .collect();
    assert!(ids.contains(&events::event_id(EventKind::MatchCreated, &format!("match:{f}:{product}:v1"))));
    assert!(ids.contains(&events::event_id(EventKind::MatchWithdrawn, &format!("match:{f}:{product}:v2"))));

    // A score-only change is an update, not a new match.
    set_revenue(&app, f, "15000000.00").await;
    set_revenue(&app, f, "19000000.00").await;
    let kinds: Vec<String> = event_types_for(&app, f, "match.").await.into_iter().map(|(t, _, _)| t).collect();
    assert_eq!(kinds, ["match.created", "match.withdrawn", "match.created", "match.updated"]);
}

#[tokio::test]
async fn bulk_imports_are_matched_by_the_worker_from_the_durable_queue() {
    let app = spawn_app().await;
    let (_, key) = bank(&app, "QILU-BANK").await;
    publish(&app, &key, &srdi_product("专精特新贷", "10000000")).await;
    let rows: Vec<String> = (10..14)
        .map(|n| {
            format!(
                "{},批量{n}有限公司,jinan,C3562,provincial_srdi,2012-05-18,2024,{}",
                code(n),
                if n % 2 == 0 { "20000000" } else { "100" }
            )
        })
        .collect();
    let body =
        format!("credit_code,name,city,industry_code,tier,founded_on,fiscal_year,revenue\n{}\n", rows.join("\n"));
    let resp = app
        .req(Method::POST, "/v1/firms/import", Some(&app.admin_key))
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .expect("req");
    assert_eq!(resp.status(), StatusCode::OK);
    let firms: Value = json_of(app.get("/v1/firms?limit=50", &app.admin_key).await).await;
    for f in firms["items"].as_array().expect("items") {
        consent_all(&app, f["id"].as_str().expect("id").parse().expect("uuid")).await;
    }
    // The running worker drains the queue; poll with a deadline instead of sleeping blindly.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (items, _) = pull_all(&app, &key, "").await;
        if items.len() == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "the worker did not match the imported firms: {items:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while queue_len(&app).await > 0 {
        assert!(Instant::now() < deadline, "queue not drained");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn queued_work_survives_a_restart() {
    // First instance: no workers (as if it crashed before processing the queue).
    let app = spawn_app_with(|c| c.workers_enabled = false, Arc::new(SystemClock)).await;
    let (_, key) = bank(&app, "QILU-BANK").await;
    publish(&app, &key, &srdi_product("专精特新贷", "10000000")).await;
    let rows = format!(
        "credit_code,name,city,industry_code,tier,founded_on,fiscal_year,revenue\n{},重启有限公司,jinan,C3562,little_giant,2010-01-01,2024,50000000\n",
        code(30)
    );
    let resp = app
        .req(Method::POST, "/v1/firms/import", Some(&app.admin_key))
        .header("content-type", "text/csv")
        .body(rows)
        .send()
        .await
        .expect("req");
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(queue_len(&app).await >= 2, "the product and the imported firm are queued");
    let (items, _) = pull_all(&app, &key, "").await;
    assert!(items.is_empty());
    // A second instance on the same database, with its worker, finds the queue and does the work.
    let mut config = app.config.clone();
    config.workers_enabled = true;
    let second = start_on(config, app.clock.clone(), app.guard()).await;
    let f: Value = json_of(second.get("/v1/firms", &second.admin_key).await).await;
    let firm_id: Uuid = f["items"][0]["id"].as_str().expect("id").parse().expect("uuid");
    consent_all(&second, firm_id).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while queue_len(&second).await > 0 {
        assert!(Instant::now() < deadline, "queue not drained after restart");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (items, _) = pull_all(&second, &key, "").await;
    assert_eq!(items.len(), 1);
}

#[tokio::test]
async fn consent_decides_what_a_bank_sees() {
    let app = spawn_app().await;
    let (bank_id, key) = bank(&app, "QILU-BANK").await;
    let product = publish(&app, &key, &srdi_product("专精特新贷", "10000000")).await;
    let f = firm(&app, 1).await;
    set_revenue(&app, f, "20000000.00").await;
    drain(&app).await;
    let ent = app.key_for(Role::Enterprise, Some(f)).await;

    // No consent: absent from the pull, and direct reads are 404 (the firm does not exist for the bank).
    let (items, token0) = pull_all(&app, &key, "").await;
    assert!(items.is_empty());
    assert_eq!(app.get(&format!("/v1/matches/{f}/{product}"), &key).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/v1/firms/{f}/matches"), &key).await.status(), StatusCode::NOT_FOUND);
    // The office and the enterprise itself see the match all the same.
    assert_eq!(app.get(&format!("/v1/matches/{f}/{product}"), &app.admin_key).await.status(), StatusCode::OK);
    assert_eq!(app.get(&format!("/v1/matches/{f}/{product}"), &ent).await.status(), StatusCode::OK);

    // Grant (by the enterprise, to this bank): it appears, also in incremental sync.
    let resp = app.post_json(&format!("/v1/firms/{f}/consents"), &ent, &json!({"bank_id": bank_id})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let consent: Value = resp.json().await.expect("json");
    assert_eq!(consent["state"], "in_force");
    let consent_id: Uuid = consent["id"].as_str().expect("id").parse().expect("uuid");
    let (items, token1) = pull_all(&app, &key, "").await;
    assert_eq!(pairs(&items), [(f.to_string(), product.to_string())]);
    let (changes, _) = pull_all(&app, &key, &format!("&updated_since={token0}")).await;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["status"], "active");
    assert_eq!(app.get(&format!("/v1/matches/{f}/{product}"), &key).await.status(), StatusCode::OK);
    let fm = json_of(app.get(&format!("/v1/firms/{f}/matches"), &key).await).await;
    assert_eq!(fm["matches"].as_array().expect("m").len(), 1);

    // The enterprise applies; the bank sees the application.
    let resp = app
        .post_json(
            "/v1/applications",
            &ent,
            &json!({"product_id": product, "amount": "3000000.00", "term_months": 12, "purpose": "采购研发设备"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let application: Value = resp.json().await.expect("json");
    let app_id = application["id"].as_str().expect("id").to_owned();
    assert_eq!(app.get(&format!("/v1/applications/{app_id}"), &key).await.status(), StatusCode::OK);

    // Revoke: gone at once, everywhere; incremental sync reports it withdrawn, ids only.
    revoke(&app, &ent, f, consent_id).await;
    let (items, _) = pull_all(&app, &key, "").await;
    assert!(items.is_empty());
    assert_eq!(app.get(&format!("/v1/matches/{f}/{product}"), &key).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/v1/applications/{app_id}"), &key).await.status(), StatusCode::NOT_FOUND);
    let list = json_of(app.get("/v1/applications", &key).await).await;
    assert!(list["items"].as_array().expect("items").is_empty());
    let resp = app
        .post_json(&format!("/v1/applications/{app_id}/transitions"), &key, &json!({"status": "under_review"}))
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let (changes, _) = pull_all(&app, &key, &format!("&updated_since={token1}")).await;
    assert_eq!(changes.len(), 1);
    let c = &changes[0];
    assert_eq!(
        (c["status"].as_str(), c["withdrawn_reason"].as_str()),
        (Some("withdrawn"), Some("consent_not_in_force"))
    );
    assert!(c["firm"].is_null() && c["latest_financials"].is_null() && c["score"].is_null());
    assert!(c["reasons"].as_array().expect("r").is_empty());
    // Revoking twice is harmless; the record keeps who and when.
    revoke(&app, &ent, f, consent_id).await;
    let list = json_of(app.get(&format!("/v1/firms/{f}/consents"), &ent).await).await;
    let rec = &list["items"][0];
    assert_eq!(rec["state"], "revoked");
    assert!(
        rec["revoked_at"].is_string() && rec["revoked_by_key_id"].is_string() && rec["granted_by_key_id"].is_string()
    );
    let evs = event_types_for(&app, f, "consent.").await;
    let kinds: Vec<&str> = evs.iter().map(|(t, _, _)| t.as_str()).collect();
    assert_eq!(kinds, ["consent.granted", "consent.revoked"]);
    assert!(evs.iter().all(|(_, b, _)| *b == Some(bank_id)));
    // A bank cannot grant or read consents; another firm's key cannot either.
    assert_eq!(app.get(&format!("/v1/firms/{f}/consents"), &key).await.status(), StatusCode::FORBIDDEN);
    let other = firm(&app, 2).await;
    let other_key = app.key_for(Role::Enterprise, Some(other)).await;
    assert_eq!(
        app.post_json(&format!("/v1/firms/{f}/consents"), &other_key, &json!({"bank_id": null})).await.status(),
        StatusCode::FORBIDDEN
    );
    // "All banks" must be said explicitly; unknown banks are named.
    let resp = app.post_json(&format!("/v1/firms/{f}/consents"), &ent, &json!({})).await;
    assert_eq!(problem(resp).await["errors"][0]["field"], "bank_id");
    let resp = app.post_json(&format!("/v1/firms/{f}/consents"), &ent, &json!({"bank_id": Uuid::now_v7()})).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn bank_a_never_sees_bank_b_products_matches_or_applications() {
    let app = spawn_app().await;
    let (a, key_a) = bank(&app, "BANK-A").await;
    let (_b, key_b) = bank(&app, "BANK-B").await;
    let pa = publish(&app, &key_a, &srdi_product("A 专精特新贷", "1000000")).await;
    let pb = publish(&app, &key_b, &srdi_product("B 小巨人贷", "1000000")).await;
    let f = firm(&app, 1).await;
    set_revenue(&app, f, "20000000.00").await;
    consent_all(&app, f).await;
    drain(&app).await;

    let list = json_of(app.get("/v1/products", &key_a).await).await;
    let ids: Vec<&str> = list["items"].as_array().expect("i").iter().map(|p| p["id"].as_str().expect("id")).collect();
    assert_eq!(ids, [pa.to_string()]);
    assert_eq!(app.get(&format!("/v1/products/{pb}"), &key_a).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.patch_json(&format!("/v1/products/{pb}"), &key_a, &json!({"name": "mine now"})).await.status(),
        StatusCode::NOT_FOUND
    );
    let resp = app.req(Method::DELETE, &format!("/v1/products/{pb}"), Some(&key_a)).send().await.expect("req");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("/v1/matches?bank_id={}", Uuid::now_v7()), &key_a).await.status(),
        StatusCode::FORBIDDEN
    );

    let (items, _) = pull_all(&app, &key_a, "").await;
    assert_eq!(pairs(&items), [(f.to_string(), pa.to_string())]);
    let (items, _) = pull_all(&app, &key_a, &format!("&product_id={pb}")).await;
    assert!(items.is_empty());
    assert_eq!(app.get(&format!("/v1/matches/{f}/{pb}"), &key_a).await.status(), StatusCode::NOT_FOUND);
    let fm = json_of(app.get(&format!("/v1/firms/{f}/matches"), &key_a).await).await;
    let seen: Vec<&str> =
        fm["matches"].as_array().expect("m").iter().map(|m| m["product"]["id"].as_str().expect("id")).collect();
    assert_eq!(seen, [pa.to_string()]);
    // The enterprise and the office see both banks' products.
    let ent = app.key_for(Role::Enterprise, Some(f)).await;
    let list = json_of(app.get("/v1/products", &ent).await).await;
    assert_eq!(list["items"].as_array().expect("i").len(), 2);
    let fm = json_of(app.get(&format!("/v1/firms/{f}/matches"), &ent).await).await;
    assert_eq!(fm["matches"].as_array().expect("m").len(), 2);

    let resp = app
        .post_json(
            "/v1/applications",
            &ent,
            &json!({"product_id": pb, "amount": "1000000", "term_months": 12, "purpose": "流动资金"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let app_b: Value = resp.json().await.expect("json");
    let id_b = app_b["id"].as_str().expect("id");
    assert_eq!(app.get(&format!("/v1/applications/{id_b}"), &key_a).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/v1/applications/{id_b}"), &key_b).await.status(), StatusCode::OK);
    let list = json_of(app.get("/v1/applications", &key_a).await).await;
    assert!(list["items"].as_array().expect("items").is_empty());
    let resp = app
        .post_json(&format!("/v1/applications/{id_b}/transitions"), &key_a, &json!({"status": "under_review"}))
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    // Events carry the product's bank, so bank A's webhooks never see bank B's facts.
    let evs = event_types_for(&app, f, "application.").await;
    assert_eq!(evs.len(), 1);
    assert_ne!(evs[0].1, Some(a));
}

#[tokio::test]
async fn incremental_sync_converges_to_the_full_list() {
    let app = spawn_app().await;
    let (_, key) = bank(&app, "QILU-BANK").await;
    let p1 = publish(&app, &key, &srdi_product("专精特新贷", "10000000")).await;
    let p2 = publish(&app, &key, &srdi_product("小巨人贷", "30000000")).await;
    let mut firms = Vec::new();
    let mut consents = Vec::new();
    for (n, revenue) in [(1, "20000000"), (2, "40000000"), (3, "5000000"), (4, "35000000"), (5, "12000000")] {
        let f = firm(&app, n).await;
        set_revenue(&app, f, revenue).await;
        consents.push(consent_all(&app, f).await);
        firms.push(f);
    }
    drain(&app).await;

    // The bank's copy: a full pull, page by page.
    let (items, mut token) = pull_all(&app, &key, "").await;
    let mut copy: BTreeMap<(String, String), Value> = items
        .into_iter()
        .map(|i| {
            ((i["firm_id"].as_str().unwrap_or("").to_owned(), i["product_id"].as_str().unwrap_or("").to_owned()), i)
        })
        .collect();
    assert_eq!(copy.len(), 6, "{:?}", copy.keys());

    // Changes of every kind.
    set_revenue(&app, firms[0], "9000000").await; // drops out of p1
    set_revenue(&app, firms[2], "50000000").await; // joins both
    set_revenue(&app, firms[1], "45000000").await; // score changes
    revoke(&app, &app.admin_key, firms[3], consents[3]).await; // invisible to the bank
    let resp =
        app.patch_json(&format!("/v1/products/{p2}"), &key, &json!({"eligibility": {"min_revenue": "42000000"}})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let p3 = publish(&app, &key, &srdi_product("科创贷", "1000000")).await;
    let f6 = firm(&app, 6).await;
    set_revenue(&app, f6, "8000000").await;
    consent_all(&app, f6).await;
    drain(&app).await;

    for round in 0..2 {
        let (changes, next) = pull_all(&app, &key, &format!("&updated_since={token}")).await;
        if round == 1 {
            assert!(changes.is_empty(), "nothing changed since the last sync: {changes:?}");
        }
        for c in changes {
            let k = (c["firm_id"].as_str().unwrap_or("").to_owned(), c["product_id"].as_str().unwrap_or("").to_owned());
            if c["status"] == "active" {
                copy.insert(k, c);
            } else {
                copy.remove(&k);
            }
        }
        token = next;
        let (full, _) = pull_all(&app, &key, "").await;
        let full_map: BTreeMap<(String, String), Value> = full
            .into_iter()
            .map(|i| {
                ((i["firm_id"].as_str().unwrap_or("").to_owned(), i["product_id"].as_str().unwrap_or("").to_owned()), i)
            })
            .collect();
        assert_eq!(copy.keys().collect::<Vec<_>>(), full_map.keys().collect::<Vec<_>>(), "round {round}");
        for (k, v) in &full_map {
            assert_eq!(copy[k]["score"], v["score"], "{k:?}");
            assert_eq!(copy[k]["version"], v["version"], "{k:?}");
        }
        let ps: Vec<&str> = full_map.keys().map(|(_, p)| p.as_str()).collect();
        assert!(ps.contains(&p3.to_string().as_str()) && ps.contains(&p1.to_string().as_str()));
    }
    // An RFC 3339 instant works too (approximate mode), and a bad value is named.
    assert_eq!(app.get("/v1/matches?updated_since=2000-01-01T00:00:00Z", &key).await.status(), StatusCode::OK);
    let resp = app.get("/v1/matches?updated_since=yesterday", &key).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(problem(resp).await["code"], "invalid_updated_since");
}

#[tokio::test]
async fn csv_export_parses_back_to_the_same_rows() {
    let app = spawn_app().await;
    let (_, key) = bank(&app, "QILU-BANK").await;
    publish(&app, &key, &srdi_product("专精特新贷", "1000000")).await;
    publish(&app, &key, &srdi_product("科创贷, 含逗号", "5000000")).await;
    for n in 1..=3 {
        let f = firm(&app, n).await;
        set_revenue(&app, f, &format!("{}000000", n * 4)).await;
        consent_all(&app, f).await;
    }
    drain(&app).await;
    let (items, token) = pull_all(&app, &key, "").await;
    assert_eq!(items.len(), 5);
    let resp = app.req(Method::GET, "/v1/matches", Some(&key)).header("Accept", "text/csv").send().await.expect("req");
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"].to_str().expect("ct").starts_with("text/csv"));
    assert_eq!(resp.headers()["x-sync-token"].to_str().expect("token"), token);
    let text = resp.text().await.expect("text");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("header").clone();
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("csv parses");
    assert_eq!(rows.len(), items.len());
    for (row, item) in rows.iter().zip(&items) {
        assert_eq!(&row[col("firm_id")], item["firm_id"].as_str().expect("f"));
        assert_eq!(&row[col("product_id")], item["product_id"].as_str().expect("p"));
        assert_eq!(&row[col("product_name")], item["product_name"].as_str().expect("n"));
        assert_eq!(&row[col("score")], item["score"].to_string());
        assert_eq!(&row[col("status")], "active");
        assert_eq!(&row[col("name")], item["firm"]["name"].as_str().expect("name"));
        assert_eq!(&row[col("credit_code")], item["firm"]["credit_code"].as_str().expect("cc"));
        assert_eq!(&row[col("contact_email")], item["firm"]["contact_email"].as_str().expect("mail"));
        assert_eq!(&row[col("revenue")], item["latest_financials"]["revenue"].as_str().expect("rev"));
        assert!(row[col("reasons")].contains("min_revenue="));
    }
    // The same filters apply.
    let resp = app
        .req(Method::GET, "/v1/matches?min_score=101", Some(&key))
        .header("Accept", "text/csv")
        .send()
        .await
        .expect("req");
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn rematch_rebuilds_and_reports_counts() {
    let app = spawn_app_with(|c| c.workers_enabled = false, Arc::new(SystemClock)).await;
    let (_, key) = bank(&app, "QILU-BANK").await;
    publish(&app, &key, &srdi_product("专精特新贷", "10000000")).await;
    publish(&app, &key, &srdi_product("小巨人贷", "30000000")).await;
    let rows: Vec<String> = (1..=6)
        .map(|n| format!("{},重建{n}有限公司,jinan,C3562,provincial_srdi,2012-05-18,2024,{}", code(n), n * 8_000_000))
        .collect();
    let body =
        format!("credit_code,name,city,industry_code,tier,founded_on,fiscal_year,revenue\n{}\n", rows.join("\n"));
    let resp = app
        .req(Method::POST, "/v1/firms/import", Some(&app.admin_key))
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .expect("req");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(queue_len(&app).await, 8, "6 imported firms and 2 products queued");
    let resp = app.post_json("/v1/admin/rematch", &key, &json!({})).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    let r = json_of(app.post_json("/v1/admin/rematch", &app.admin_key, &json!({})).await).await;
    // Revenues 8,16,24,32,40,48 million: p1 (≥10M) takes 5, p2 (≥30M) takes 3.
    assert_eq!((r["firms"].as_u64(), r["products"].as_u64(), r["pairs"].as_u64()), (Some(6), Some(2), Some(12)));
    assert_eq!(
        (r["eligible"].as_u64(), r["created"].as_u64(), r["updated"].as_u64(), r["withdrawn"].as_u64()),
        (Some(8), Some(8), Some(0), Some(0))
    );
    assert_eq!(queue_len(&app).await, 0, "the rebuild covered the queued work");
    // Progress is exposed to monitoring while (and after) a rebuild runs.
    let metrics = app.scrape_metrics().await;
    for gauge in ["matching_rematch_firms_done", "matching_rematch_firms_planned"] {
        assert!(metrics.lines().any(|l| l.starts_with(gauge)), "{gauge} missing from {metrics}");
    }
    let r = json_of(app.post_json("/v1/admin/rematch", &app.admin_key, &json!({})).await).await;
    assert_eq!((r["created"].as_u64(), r["unchanged"].as_u64()), (Some(0), Some(8)));
    // A drifted row (deleted behind the engine's back) is restored by the next rebuild.
    sqlx::query("DELETE FROM matches WHERE score >= 0 AND firm_id = (SELECT MIN(firm_id) FROM matches)")
        .execute(app.db.pool())
        .await
        .expect("delete");
    let r = json_of(app.post_json("/v1/admin/rematch", &app.admin_key, &json!({})).await).await;
    assert!(r["created"].as_u64().expect("created") >= 1);
    assert_eq!(r["eligible"].as_u64(), Some(8));
}

#[tokio::test]
async fn application_transitions_legal_and_illegal() {
    let app = spawn_app().await;
    let (bank_id, key) = bank(&app, "QILU-BANK").await;
    let product = publish(&app, &key, &srdi_product("专精特新贷", "1000000")).await;
    let f = firm(&app, 1).await;
    set_revenue(&app, f, "20000000").await;
    let ent = app.key_for(Role::Enterprise, Some(f)).await;
    // Out of the product's range: 422 naming the field.
    let resp = apply_for(&app, &ent, product, "20000000").await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(resp).await["errors"][0]["field"], "amount");
    assert_eq!(app.post_json("/v1/applications", &key, &json!({})).await.status(), StatusCode::FORBIDDEN);

    let resp = apply_for(&app, &ent, product, "3000000.00").await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let a: Value = resp.json().await.expect("json");
    assert_eq!((a["status"].as_str(), a["allowed_next"][0].as_str()), (Some("submitted"), Some("withdrawn")));
    let id = a["id"].as_str().expect("id").to_owned();
    // Applying granted consent to the product's bank (there was none).
    let consents = json_of(app.get(&format!("/v1/firms/{f}/consents"), &ent).await).await;
    assert_eq!(consents["items"][0]["bank_id"], bank_id.to_string());
    // One open application per product.
    let resp = apply_for(&app, &ent, product, "1000000").await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(problem(resp).await["existing_application_id"], id);

    let resp = move_app(&app, &key, &id, json!({"status": "approved", "approved_amount": "3000000", "approved_term_months": 12, "approved_rate": "3.10"})).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT, "approval needs review first");
    let p = problem(resp).await;
    assert_eq!(p["code"], "illegal_transition");
    assert_eq!(p["allowed_next"], json!(["under_review", "declined"]));
    assert_eq!(
        move_app(&app, &ent, &id, json!({"status": "under_review"})).await.status(),
        StatusCode::FORBIDDEN,
        "the bank's move"
    );
    let r = json_of(move_app(&app, &key, &id, json!({"status": "under_review", "remark": "材料齐全"})).await).await;
    assert_eq!(r["status"], "under_review");
    let resp = move_app(
        &app,
        &key,
        &id,
        json!({"status": "approved", "approved_amount": "30000000", "approved_term_months": 12}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = problem(resp).await["errors"]
        .as_array()
        .expect("e")
        .iter()
        .map(|e| e["field"].as_str().expect("f").to_owned())
        .collect();
    assert_eq!(fields, ["approved_amount", "approved_rate"]);
    let r = json_of(move_app(&app, &key, &id, json!({"status": "approved", "approved_amount": "2500000", "approved_term_months": 12, "approved_rate": "3.10"})).await).await;
    assert_eq!(r["approval"]["amount"], "2500000.00");
    assert_eq!(r["allowed_next"], json!(["disbursed"]));
    let resp = move_app(&app, &ent, &id, json!({"status": "withdrawn"})).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT, "no withdrawing after a decision");
    assert_eq!(problem(resp).await["allowed_next"], json!([]));
    let resp = move_app(&app, &key, &id, json!({"status": "disbursed", "disbursed_amount": "2600000"})).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "more than approved");
    let r =
        json_of(move_app(&app, &key, &id, json!({"status": "disbursed", "disbursed_amount": "2500000"})).await).await;
    assert_eq!(r["status"], "disbursed");
    let history: Vec<(String, String)> = r["history"]
        .as_array()
        .expect("h")
        .iter()
        .map(|h| (h["to_status"].as_str().expect("to").to_owned(), h["actor_role"].as_str().expect("role").to_owned()))
        .collect();
    let want: Vec<(String, String)> =
        [("submitted", "enterprise"), ("under_review", "bank"), ("approved", "bank"), ("disbursed", "bank")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
    assert_eq!(history, want);
    assert_eq!(r["history"][1]["remark"], "材料齐全");
    assert_eq!(r["history"][1]["actor_subject_id"], bank_id.to_string());
    let resp = move_app(&app, &key, &id, json!({"status": "declined", "reason_code": "other"})).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT, "final");

    // Decline and withdraw paths.
    let second = json_of(apply_for(&app, &ent, product, "1000000").await).await;
    let sid = second["id"].as_str().expect("id").to_owned();
    let resp = app
        .post_json(
            &format!("/v1/applications/{sid}/transitions"),
            &key,
            &json!({"status": "declined", "reason_code": "other"}),
        )
        .await;
    assert_eq!(problem(resp).await["errors"][0]["field"], "reason_text");
    let r = json_of(
        app.post_json(
            &format!("/v1/applications/{sid}/transitions"),
            &app.admin_key,
            &json!({"status": "declined", "reason_code": "credit_record"}),
        )
        .await,
    )
    .await;
    assert_eq!(r["decline"]["reason_code"], "credit_record");
    let third = json_of(apply_for(&app, &ent, product, "1000000").await).await;
    let tid = third["id"].as_str().expect("id").to_owned();
    let r = json_of(
        app.post_json(&format!("/v1/applications/{tid}/transitions"), &ent, &json!({"status": "withdrawn"})).await,
    )
    .await;
    assert_eq!(r["status"], "withdrawn");

    let kinds: Vec<String> = event_types_for(&app, f, "application.").await.into_iter().map(|(t, _, _)| t).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "application.submitted").count(), 3);
    assert_eq!(kinds.iter().filter(|k| *k == "application.status_changed").count(), 4);
    assert_eq!(kinds.iter().filter(|k| *k == "application.withdrawn").count(), 1);

    // The financing status adds it all up.
    let s = json_of(app.get(&format!("/v1/firms/{f}/financing-status"), &ent).await).await;
    assert_eq!(s["totals"]["applications"], 3);
    assert_eq!(
        (s["totals"]["approved"].as_str(), s["totals"]["disbursed"].as_str()),
        (Some("2500000.00"), Some("2500000.00"))
    );
    assert_eq!(s["totals"]["by_status"]["declined"], 1);
    assert_eq!(s["applications"][0]["status_label"], "已放款");
    assert_eq!(s["matched_products"].as_array().expect("m").len(), 1);
    assert_eq!(s["consents"].as_array().expect("c").len(), 1);
    // No roadshow slot and no listing milestone recorded for this firm: both lists are empty.
    assert_eq!(s["roadshow_slots"], serde_json::json!([]));
    assert_eq!(s["listing_stage"], serde_json::json!([]));
    assert_eq!(app.get(&format!("/v1/firms/{f}/financing-status"), &key).await.status(), StatusCode::FORBIDDEN);
    let list = json_of(app.get("/v1/applications?status=disbursed", &app.admin_key).await).await;
    assert_eq!(list["items"].as_array().expect("i").len(), 1);
}

#[tokio::test]
async fn products_changes_and_withdrawal_reevaluate_their_matches() {
    let app = spawn_app().await;
    let (_, key) = bank(&app, "QILU-BANK").await;
    let product = publish(&app, &key, &srdi_product("专精特新贷", "10000000")).await;
    let f = firm(&app, 1).await;
    set_revenue(&app, f, "20000000").await;
    consent_all(&app, f).await;
    drain(&app).await;
    assert_eq!(pull_all(&app, &key, "").await.0.len(), 1);
    // Raising the minimum above the firm's revenue withdraws the match.
    let p = json_of(
        app.patch_json(&format!("/v1/products/{product}"), &key, &json!({"eligibility": {"min_revenue": "25000000"}}))
            .await,
    )
    .await;
    assert_eq!(p["eligibility"]["tiers"], json!(["provincial_srdi"]), "a merge patch keeps the other rules");
    drain(&app).await;
    assert!(pull_all(&app, &key, "").await.0.is_empty());
    // Switching to a fixed rate drops the spread; the indicative rate follows.
    let p = json_of(
        app.patch_json(
            &format!("/v1/products/{product}"),
            &key,
            &json!({"fixed_rate": "3.45", "eligibility": {"min_revenue": null}}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (p["rate_spread_bp"].is_null(), p["fixed_rate"].as_str(), p["indicative_rate"].as_str()),
        (true, Some("3.45"), Some("3.45"))
    );
    drain(&app).await;
    assert_eq!(pull_all(&app, &key, "").await.0.len(), 1);
    // Soft delete: the product is gone from its own address (its bank reads the record in the
    // withdrawn listing), stops matching, takes no applications.
    let resp = app.req(Method::DELETE, &format!("/v1/products/{product}"), Some(&key)).send().await.expect("req");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    drain(&app).await;
    let gone = app.get(&format!("/v1/products/{product}"), &key).await;
    assert_eq!(gone.status(), StatusCode::GONE);
    assert_eq!(problem(gone).await["code"], "product_withdrawn");
    let withdrawn = json_of(app.get("/v1/products?active=false", &key).await).await;
    assert_eq!(
        (withdrawn["items"][0]["id"].as_str(), withdrawn["items"][0]["active"].as_bool()),
        (Some(&*product.to_string()), Some(false))
    );
    let ent = app.key_for(Role::Enterprise, Some(f)).await;
    assert_eq!(app.get(&format!("/v1/products/{product}"), &ent).await.status(), StatusCode::NOT_FOUND);
    let (items, _) = pull_all(&app, &key, "").await;
    assert!(items.is_empty());
    let item = json_of(app.get(&format!("/v1/matches/{f}/{product}"), &key).await).await;
    assert_eq!(
        (item["status"].as_str(), item["withdrawn_reason"].as_str()),
        (Some("withdrawn"), Some("product_withdrawn"))
    );
    let resp = app
        .post_json(
            "/v1/applications",
            &ent,
            &json!({"product_id": product, "amount": "1000000", "term_months": 12, "purpose": "x"}),
        )
        .await;
    assert_eq!(problem(resp).await["errors"][0]["code"], "unavailable");
    let kinds: Vec<String> = event_types_for(&app, f, "match.").await.into_iter().map(|(t, _, _)| t).collect();
    // The second `match.created` is the consent: it showed the bank a match it could not see.
    assert_eq!(kinds, ["match.created", "match.created", "match.withdrawn", "match.created", "match.withdrawn"]);
}

#[tokio::test]
async fn lead_bank_only_products_and_the_lead_bank_and_tutoring_filters() {
    let app = spawn_app().await;
    let (bank_id, key) = bank(&app, "QILU-BANK").await;
    let (other_bank, _) = bank(&app, "BANK-B").await;
    let mut exclusive = srdi_product("主办行专属贷", "1000000");
    exclusive["eligibility"]["lead_bank_only"] = json!(true);
    let exclusive = publish(&app, &key, &exclusive).await;
    let general = publish(&app, &key, &srdi_product("普惠贷", "1000000")).await;
    let f1 = firm(&app, 1).await;
    let f2 = firm(&app, 2).await;
    for f in [f1, f2] {
        set_revenue(&app, f, "20000000").await;
        consent_all(&app, f).await;
    }
    drain(&app).await;
    let (items, _) = pull_all(&app, &key, "").await;
    assert_eq!(items.len(), 2, "only the general product matches");
    assert!(items.iter().all(|i| i["product_id"] == general.to_string()));

    // The office designates the lead bank: the exclusive product matches at once.
    let resp = app.put_json(&format!("/v1/firms/{f1}/lead-bank"), &key, &json!({"bank_id": bank_id})).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let r =
        json_of(app.put_json(&format!("/v1/firms/{f1}/lead-bank"), &app.admin_key, &json!({"bank_id": bank_id})).await)
            .await;
    assert_eq!(r["lead_bank_id"], bank_id.to_string());
    let (items, _) = pull_all(&app, &key, "&lead_bank=true").await;
    assert_eq!(pairs(&items), {
        let mut v = vec![(f1.to_string(), exclusive.to_string()), (f1.to_string(), general.to_string())];
        v.sort();
        v
    });
    assert!(items.iter().all(|i| i["firm"]["lead_bank"] == true));
    let (items, _) = pull_all(&app, &key, "&lead_bank=false").await;
    assert_eq!(pairs(&items), [(f2.to_string(), general.to_string())]);
    // Another bank as lead bank: the exclusive product drops, and bank A is not told who it is.
    app.put_json(&format!("/v1/firms/{f1}/lead-bank"), &app.admin_key, &json!({"bank_id": other_bank})).await;
    let (items, _) = pull_all(&app, &key, "").await;
    assert_eq!(items.len(), 2);
    let item = items.iter().find(|i| i["firm_id"] == f1.to_string()).expect("f1");
    assert_eq!(item["firm"]["lead_bank"], false);
    assert!(!item.to_string().contains(&other_bank.to_string()));
    let resp = app.put_json(&format!("/v1/firms/{f1}/lead-bank"), &app.admin_key, &json!({})).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let resp =
        app.put_json(&format!("/v1/firms/{f1}/lead-bank"), &app.admin_key, &json!({"bank_id": Uuid::now_v7()})).await;
    assert_eq!(problem(resp).await["errors"][0]["field"], "bank_id");

    // Tutoring whitelist filter.
    assert!(pull_all(&app, &key, "&tutoring=true").await.0.is_empty());
    let r =
        json_of(app.put_json(&format!("/v1/firms/{f2}/tutoring"), &app.admin_key, &json!({"whitelisted": true})).await)
            .await;
    assert_eq!(r["tutoring_whitelist"], true);
    let (items, _) = pull_all(&app, &key, "&tutoring=true").await;
    assert_eq!(pairs(&items), [(f2.to_string(), general.to_string())]);
    assert_eq!(items[0]["firm"]["tutoring_whitelist"], true);
    // Other filters.
    assert_eq!(pull_all(&app, &key, "&city=qingdao").await.0.len(), 0);
    assert_eq!(pull_all(&app, &key, "&city=jinan&tier=provincial_srdi").await.0.len(), 2);
    assert_eq!(pull_all(&app, &key, "&min_score=100").await.0.len(), 2, "ample headroom on every rule");
    assert_eq!(app.get("/v1/matches?min_score=101", &key).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let resp = app.get("/v1/matches?city=lhasa", &key).await;
    assert_eq!(problem(resp).await["errors"][0]["field"], "city");
}

#[tokio::test]
async fn the_enterprise_sees_its_matches_and_near_misses_with_advice() {
    let app = spawn_app().await;
    let (_, key) = bank(&app, "QILU-BANK").await;
    publish(&app, &key, &srdi_product("专精特新贷", "10000000")).await;
    let mut patent = srdi_product("专利创新贷", "10000000");
    patent["kind"] = json!("patent_loan");
    patent["collateral"] = json!(["ip_pledge"]);
    patent["eligibility"]["min_invention_patents"] = json!(5);
    publish(&app, &key, &patent).await;
    let mut far = srdi_product("上市后备贷", "500000000");
    far["eligibility"]["reserve_pool_only"] = json!(true);
    far["eligibility"]["tiers"] = json!(["little_giant"]);
    publish(&app, &key, &far).await;
    let f = firm(&app, 1).await;
    set_revenue(&app, f, "20000000").await; // 3 invention patents
    drain(&app).await;
    let ent = app.key_for(Role::Enterprise, Some(f)).await;
    let v = json_of(app.get(&format!("/v1/firms/{f}/matches"), &ent).await).await;
    let m = v["matches"].as_array().expect("m");
    assert_eq!(m.len(), 1);
    assert_eq!(m[0]["product"]["name"], "专精特新贷");
    assert_eq!(m[0]["product"]["bank_name"], "QILU-BANK 银行");
    let near = v["near_misses"].as_array().expect("n");
    assert_eq!(near.len(), 1, "the patent loan is one rule away; the pre-IPO loan three");
    assert_eq!(near[0]["unmet"][0]["rule"], "min_invention_patents");
    assert_eq!(near[0]["unmet"][0]["actual"], "3");
    assert!(near[0]["unmet"][0]["advice"]["zh"].as_str().expect("zh").contains("还需 2 件"));
    let other = firm(&app, 2).await;
    let other_key = app.key_for(Role::Enterprise, Some(other)).await;
    assert_eq!(app.get(&format!("/v1/firms/{f}/matches"), &other_key).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn lpr_table_prices_products() {
    let app = spawn_app().await;
    let (_, key) = bank(&app, "QILU-BANK").await;
    let id = publish(&app, &key, &srdi_product("专精特新贷", "1")).await;
    let p = json_of(app.get(&format!("/v1/products/{id}"), &key).await).await;
    assert!(p["indicative_rate"].is_null(), "no fixing yet");
    assert_eq!(
        app.put_json("/v1/lpr/2024-10-21", &key, &json!({"one_year": "3.10", "five_year": "3.60"})).await.status(),
        StatusCode::FORBIDDEN
    );
    let resp =
        app.put_json("/v1/lpr/2024-10-21", &app.admin_key, &json!({"one_year": "3.10", "five_year": "3.60"})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp =
        app.put_json("/v1/lpr/2025-05-20", &app.admin_key, &json!({"one_year": "3.0", "five_year": "3.5"})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp =
        app.put_json("/v1/lpr/2025-05-20", &app.admin_key, &json!({"one_year": "3.00", "five_year": "3.50"})).await;
    assert_eq!(resp.status(), StatusCode::OK, "replaced");
    let resp = app.put_json("/v1/lpr/2025-13-01", &app.admin_key, &json!({"one_year": "3", "five_year": "3"})).await;
    assert_eq!(problem(resp).await["errors"][0]["field"], "effective_on");
    let resp = app.put_json("/v1/lpr/2025-06-01", &app.admin_key, &json!({"one_year": "-1"})).await;
    let fields: Vec<String> = problem(resp).await["errors"]
        .as_array()
        .expect("e")
        .iter()
        .map(|e| e["field"].as_str().expect("f").to_owned())
        .collect();
    assert_eq!(fields, ["one_year", "five_year"]);
    let table = json_of(app.get("/v1/lpr", &key).await).await;
    assert_eq!(table["items"][0]["effective_on"], "2025-05-20");
    assert_eq!(table["items"][0]["one_year"], "3.00");
    // LPR 3.00 − 20 bp.
    let p = json_of(app.get(&format!("/v1/products/{id}"), &key).await).await;
    assert_eq!((p["indicative_rate"].as_str(), p["lpr_effective_on"].as_str()), (Some("2.80"), Some("2025-05-20")));
}

#[tokio::test]
async fn a_lapsed_consent_is_reported_as_withdrawn_in_incremental_sync() {
    let clock = manual_clock();
    let app = spawn_app_with(|c| c.workers_enabled = false, Arc::new(clock.clone())).await;
    let (_, key) = bank(&app, "QILU-BANK").await;
    publish(&app, &key, &srdi_product("专精特新贷", "1000000")).await;
    let f = firm(&app, 1).await;
    set_revenue(&app, f, "20000000").await;
    let expires = clock.now() + chrono::Duration::days(1);
    let resp = app
        .post_json(&format!("/v1/firms/{f}/consents"), &app.admin_key, &json!({"bank_id": null, "expires_at": expires}))
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    drain(&app).await;
    let (items, token) = pull_all(&app, &key, "").await;
    assert_eq!(items.len(), 1);
    clock.advance(chrono::Duration::days(2));
    // The full list hides the firm the moment the consent lapses ...
    assert!(pull_all(&app, &key, "").await.0.is_empty());
    // ... and once the matching pass has seen the expiry, incremental sync reports it.
    drain(&app).await;
    let (changes, _) = pull_all(&app, &key, &format!("&updated_since={token}")).await;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["withdrawn_reason"], "consent_not_in_force");
    let list = json_of(app.get(&format!("/v1/firms/{f}/consents"), &app.admin_key).await).await;
    assert_eq!(list["items"][0]["state"], "expired");
}
