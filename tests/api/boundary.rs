//! The input boundary: text carrying U+0000 is a 422 naming its field wherever it arrives (JSON
//! body, query string, CSV cell, page form) and is never stored; a query parameter an operation
//! does not declare is a 400 naming it; every error, actix's own included, is a problem document.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use srdi_capital::clock::SystemClock;
use srdi_capital::domain::access::Role;

use crate::helpers::*;
use crate::roadshows::{new_fund, published, roadshow_body};

const NUL: &str = "\u{0}";

async fn fields_of(resp: reqwest::Response) -> Vec<String> {
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p = problem(resp).await;
    p["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .inspect(|e| assert_eq!(e["code"], "invalid_character"))
        .map(|e| e["field"].as_str().expect("field").to_owned())
        .collect()
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(app.db.pool()).await.expect("count")
}

#[tokio::test]
async fn nul_in_any_free_text_field_is_422_naming_it_and_nothing_is_stored() {
    let app = spawn_app_with(crate::webhooks::hooks, Arc::new(SystemClock)).await;
    let firm = app.create_firm(firm_body(1)).await;
    let firm_id = firm["id"].as_str().expect("id").to_owned();
    let (fund_id, fund_key) = new_fund(&app, "甲基金").await;
    let bank_id = app.insert_bank("B1").await;
    let bank_key = app.key_for(Role::Bank, Some(bank_id)).await;
    let ent_key = app.key_for(Role::Enterprise, Some(firm_id.parse().expect("uuid"))).await;
    let rs = published(&app, roadshow_body(chrono::Utc::now(), 10)).await;
    let rs_id = rs["id"].as_str().expect("id");
    let firms_before = count(&app, "firms").await;

    let mut body = firm_body(2);
    body["name"] = json!(format!("坏{NUL}企业"));
    body["contact_name"] = json!(format!("王{NUL}"));
    body["contact_email"] = json!(format!("a{NUL}@firm.example.cn"));
    let mut got = fields_of(app.post_json("/v1/firms", &app.admin_key, &body).await).await;
    got.sort();
    assert_eq!(got, ["contact_email", "contact_name", "name"]);
    assert_eq!(count(&app, "firms").await, firms_before);

    let resp = app.patch_json(&format!("/v1/firms/{firm_id}"), &ent_key, &json!({"name": format!("x{NUL}")})).await;
    assert_eq!(fields_of(resp).await, ["name"]);
    let stored: Value = app.get(&format!("/v1/firms/{firm_id}"), &app.admin_key).await.json().await.expect("json");
    assert_eq!(stored["name"], firm["name"]);

    let registrations = format!("/v1/roadshows/{rs_id}/registrations");
    let cases = [
        (
            "/v1/webhook-endpoints",
            &bank_key,
            json!({"url": "http://127.0.0.1:9/h", "event_types": ["match.created"], "description": format!("d{NUL}")}),
            "description",
        ),
        (
            registrations.as_str(),
            &fund_key,
            json!({"attendee_name": format!("王{NUL}"), "attendee_email": "w@fund.example.cn", "fund_id": fund_id}),
            "attendee_name",
        ),
        (
            "/v1/investments",
            &fund_key,
            json!({"firm_id": firm_id, "amount": "1000000", "round": "series_a", "note": format!("n{NUL}")}),
            "note",
        ),
        (
            "/v1/applications",
            &ent_key,
            json!({"product_id": uuid::Uuid::now_v7(), "amount": "1000000", "term_months": 12, "purpose": format!("p{NUL}")}),
            "purpose",
        ),
    ];
    for (path, key, body, field) in cases {
        assert_eq!(fields_of(app.post_json(path, key, &body).await).await, [field], "{path}");
    }
    for table in ["webhook_endpoints", "roadshow_registrations", "investments", "applications"] {
        assert_eq!(count(&app, table).await, 0, "{table}");
    }

    // The search filter and any other query value.
    let resp = app.get("/v1/firms?q=%E6%B5%8B%00", &app.admin_key).await;
    assert_eq!(fields_of(resp).await, ["q"]);
    let resp = app.get("/v1/investments?firm_id=%00", &fund_key).await;
    assert_eq!(fields_of(resp).await, ["firm_id"]);

    // A CSV cell.
    let csv = format!(
        "credit_code,name,city,industry_code,tier,founded_on\n{},坏{NUL}企业,jinan,C3562,provincial_srdi,2012-05-18\n",
        code(3)
    );
    let resp = app
        .req(Method::POST, "/v1/firms/import", Some(&app.admin_key))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("import");
    let report: Value = resp.json().await.expect("json");
    assert_eq!(report["rejected"], 1, "{report}");
    assert_eq!(report["errors"][0]["field"], "name", "{report}");
    assert_eq!(report["errors"][0]["code"], "invalid_character", "{report}");
    assert_eq!(count(&app, "firms").await, firms_before);
}

#[tokio::test]
async fn unknown_query_parameters_are_400_naming_them() {
    let app = spawn_app().await;
    for path in ["/v1/firms?citty=jinan", "/v1/reserve-pool?limit=5&target_venue=bse", "/v1/matches?product=x"] {
        let resp = app.get(path, &app.admin_key).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{path}");
        let p = problem(resp).await;
        assert_eq!(p["code"], "unknown_query_parameter");
        let name = path.rsplit(['?', '&']).next().expect("pair").split('=').next().expect("name");
        assert!(p["detail"].as_str().expect("detail").contains(&format!("`{name}`")), "{p}");
    }
    let resp = app.get("/v1/firms?city=jinan&limit=5", &app.admin_key).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

/// Blank means the empty string, as an HTML form sends an unset filter and as the document allows;
/// a value of spaces is not blank, and is refused where the field does not take it.
#[tokio::test]
async fn blank_filters_are_no_filter_and_spaces_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let firm = app.create_firm(firm_body(1)).await;
    let id = firm["id"].as_str().expect("id");
    let all = app.get("/v1/firms?limit=50", &app.admin_key).await.json::<Value>().await.expect("json");
    let blank = app.get("/v1/firms?limit=50&city=&tier=&target_venue=&industry=", &app.admin_key).await;
    assert_eq!(blank.status(), StatusCode::OK);
    assert_eq!(blank.json::<Value>().await.expect("json")["items"], all["items"]);
    for path in [
        "/v1/roadshows?from=&to=&status=&industry=".to_owned(),
        "/v1/applications?status=".to_owned(),
        "/v1/products?kind=".to_owned(),
        format!("/v1/firms/{id}/readiness?venue=&as_of="),
        "/v1/matches?updated_since=&city=".to_owned(),
    ] {
        assert_eq!(app.get(&path, &app.admin_key).await.status(), StatusCode::OK, "{path}");
    }
    for (path, field) in [
        ("/v1/firms?city=%20".to_owned(), "city"),
        ("/v1/firms?tier=%09".to_owned(), "tier"),
        ("/v1/firms?industry=%20C".to_owned(), "industry"),
        ("/v1/roadshows?from=%20".to_owned(), "from"),
        ("/v1/roadshows?status=%20".to_owned(), "status"),
        (format!("/v1/firms/{id}/readiness?venue=%20"), "venue"),
        (format!("/v1/firms/{id}/readiness?as_of=%202026-01-01"), "as_of"),
    ] {
        let resp = app.get(&path, &app.admin_key).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        let p = problem(resp).await;
        assert_eq!(p["errors"][0]["field"], field, "{path}: {p}");
    }
    let resp = app.get("/v1/matches?updated_since=%20", &app.admin_key).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(problem(resp).await["code"], "invalid_updated_since");
}

/// Every body is a JSON object: serde alone would also read a struct from an array of its
/// fields in order, so `[]` created a bank key and `[null, null]` patched an endpoint.
#[tokio::test]
async fn a_body_that_is_not_an_object_is_422_naming_the_body_and_changes_nothing() {
    let app = spawn_app().await;
    let bank = app.insert_bank("ARRB").await;
    let keys_before = count(&app, "api_keys").await;
    for (method, path, body) in [
        (Method::POST, format!("/v1/banks/{bank}/keys"), "[]"),
        (Method::PATCH, format!("/v1/webhook-endpoints/{}", uuid::Uuid::now_v7()), "[null, null]"),
        (Method::POST, "/v1/firms".to_owned(), "[\"91370100MA3C0LXU1K\", \"x\"]"),
        (Method::POST, "/v1/funds".to_owned(), "\"fund\""),
        (Method::PATCH, format!("/v1/products/{}", uuid::Uuid::now_v7()), "[1]"),
    ] {
        let resp = app
            .req(method.clone(), &path, Some(&app.admin_key))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{method} {path} {body}");
        assert_eq!(problem(resp).await["errors"][0]["field"], "body", "{method} {path}");
    }
    assert_eq!(count(&app, "api_keys").await, keys_before);
    // An optional body may still be absent or JSON null.
    for body in ["", "null"] {
        let resp = app
            .req(Method::POST, &format!("/v1/banks/{bank}/keys"), Some(&app.admin_key))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), StatusCode::CREATED, "{body:?}");
    }
}

/// The key is taken as sent, with the document's pattern: a space inside it is refused, not
/// trimmed or accepted, on every operation that honours it.
#[tokio::test]
async fn an_idempotency_key_outside_its_pattern_is_refused_everywhere() {
    let app = spawn_app_with(loopback_webhooks, Arc::new(SystemClock)).await;
    let bank = app.insert_bank("IDEM").await;
    let endpoint = json!({"url": "http://127.0.0.1:9/hooks", "event_types": ["match.created"], "bank_id": bank});
    for (path, body) in [("/v1/webhook-endpoints", endpoint), ("/v1/firms", firm_body(7))] {
        for key in ["a b", "tab\tkey"] {
            let resp = app
                .req(Method::POST, path, Some(&app.admin_key))
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
                .await
                .expect("request");
            assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{path} {key:?}");
            assert_eq!(problem(resp).await["code"], "invalid_idempotency_key");
        }
    }
    assert_eq!(count(&app, "webhook_endpoints").await, 0);
}

#[tokio::test]
async fn actix_errors_are_problems_and_wrong_methods_name_the_allowed_ones() {
    let app = spawn_app_with(|c| c.max_body_bytes = 64 * 1024, Arc::new(SystemClock)).await;
    let big = json!({"name": "x".repeat(100 * 1024)}).to_string();
    for path in ["/v1/firms", "/v1/firms/import"] {
        let resp = app
            .req(Method::POST, path, Some(&app.admin_key))
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .expect("req");
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        assert_eq!(problem(resp).await["status"], 413);
    }

    for (method, path, allow) in [
        (Method::DELETE, "/v1/firms", "GET, HEAD, POST"),
        (Method::PUT, "/v1/firms/00000000-0000-0000-0000-000000000000", "GET, HEAD, PATCH"),
        (Method::POST, "/v1/reserve-pool/00000000-0000-0000-0000-000000000000", "GET, HEAD, DELETE"),
        (Method::PATCH, "/healthz", "GET, HEAD"),
    ] {
        let resp = app.req(method.clone(), path, Some(&app.admin_key)).send().await.expect("req");
        assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(resp.headers()["allow"], allow, "{method} {path}");
        assert_eq!(problem(resp).await["code"], "method_not_allowed");
    }

    let long_cursor = "A".repeat(20_000);
    let resp = app.get(&format!("/v1/firms?cursor={long_cursor}"), &app.admin_key).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(problem(resp).await["code"], "invalid_cursor");
    let resp = app.get(&format!("/v1/firms/{}", "9".repeat(20_000)), &app.admin_key).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    problem(resp).await;
}
