//! The document and the service agree: a request the OpenAPI document allows is accepted, one it
//! forbids is refused with a 4xx naming the field, and a deleted resource is gone. Each test here
//! is a class of disagreement that contract fuzzing found.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use srdi_capital::domain::access::Role;

use crate::financing::{bank, firm, json_of, publish, srdi_product};
use crate::helpers::*;

async fn document(app: &TestApp) -> Value {
    let resp = app.req(Method::GET, "/openapi.json", None).send().await.expect("req");
    resp.json().await.expect("json")
}

fn parameter<'a>(doc: &'a Value, path: &str, method: &str, name: &str) -> &'a Value {
    doc["paths"][path][method]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{method} {path} has no parameter {name}"))
}

#[tokio::test]
async fn schema_valid_requests_are_accepted() {
    let app = spawn_app().await;
    for n in 1..=3 {
        app.create_firm(firm_body(n)).await;
    }
    let doc = document(&app).await;

    // A page cursor has a stated shape, and every cursor of that shape continues a listing: the
    // one the service issues, and one a client builds to that shape.
    let pattern = parameter(&doc, "/v1/firms", "get", "cursor")["schema"]["pattern"].as_str().expect("pattern");
    assert_eq!(pattern, "^([A-Za-z0-9_-]{21}[AQgw])?$");
    let first = json_of(app.get("/v1/firms?limit=1", &app.admin_key).await).await;
    let issued = first["next_cursor"].as_str().expect("a next page");
    assert_eq!(issued.len(), 22);
    assert!(issued.ends_with(['A', 'Q', 'g', 'w']), "{issued}");
    let next = json_of(app.get(&format!("/v1/firms?limit=1&cursor={issued}"), &app.admin_key).await).await;
    assert_ne!(next["items"][0]["id"], first["items"][0]["id"]);
    for shaped in ["AAAAAAAAAAAAAAAAAAAAAA", "_____________________w", ""] {
        let resp = app.get(&format!("/v1/firms?cursor={shaped}"), &app.admin_key).await;
        assert_eq!(resp.status(), StatusCode::OK, "cursor {shaped:?}");
    }
    let matches_cursor = "A".repeat(64);
    let bank_key = bank(&app, "QILU-BANK").await.1;
    let resp = app.get(&format!("/v1/matches?cursor={matches_cursor}"), &bank_key).await;
    assert_eq!(resp.status(), StatusCode::OK, "a pull cursor of the stated shape");

    // An optional body may be JSON null: the defaults apply, as with no body at all.
    let (bank_id, _) = bank(&app, "BANK-B").await;
    let resp = app
        .req(Method::POST, &format!("/v1/banks/{bank_id}/keys"), Some(&app.admin_key))
        .header("content-type", "application/json")
        .body("null")
        .send()
        .await
        .expect("req");
    assert_eq!(resp.status(), StatusCode::CREATED);

    // 2.0 is an integer to JSON Schema, so it is one to the service too.
    let resp = app
        .req(Method::POST, "/v1/banks", Some(&app.admin_key))
        .header("content-type", "application/json")
        .header("Idempotency-Key", "onboard-bank-c-2026")
        .body(r#"{"name": "丙银行", "code": "bank-c", "contact_email": "sme@bank-c.example.cn"}"#)
        .send()
        .await
        .expect("req");
    assert_eq!(resp.status(), StatusCode::CREATED, "a lower-case code is read as upper case");
    let (_, fund_key) = crate::roadshows::new_fund(&app, "甲基金").await;
    let rs = crate::roadshows::published(&app, crate::roadshows::roadshow_body(chrono::Utc::now(), 50)).await;
    let rs = rs["id"].as_str().expect("id");
    let resp = app
        .req(Method::POST, &format!("/v1/roadshows/{rs}/registrations"), Some(&fund_key))
        .header("content-type", "application/json")
        .body(r#"{"attendee_name": "王经理", "attendee_email": "wang@fund.example.cn", "party_size": 2.0}"#)
        .send()
        .await
        .expect("req");
    assert_eq!(resp.status(), StatusCode::CREATED, "party_size 2.0");
    assert_eq!(json_of(resp).await["party_size"], 2);
}

#[tokio::test]
async fn schema_violating_requests_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let doc = document(&app).await;

    // The page size is 1 to 500, as stated; 501 is refused, not quietly cut to 500.
    let limit = &parameter(&doc, "/v1/firms", "get", "limit")["schema"];
    assert_eq!((limit["minimum"].as_u64(), limit["maximum"].as_u64()), (Some(1), Some(500)));
    for path in ["/v1/firms?limit=501", "/v1/banks?limit=501", "/v1/products?limit=0"] {
        let p = problem(app.get(path, &app.admin_key).await).await;
        assert_eq!((p["status"].as_u64(), p["errors"][0]["field"].as_str()), (Some(422), Some("limit")), "{path}");
    }

    // An Idempotency-Key is 1 to 255 visible ASCII characters: a space is not one.
    let key = &parameter(&doc, "/v1/banks", "post", "Idempotency-Key")["schema"];
    assert_eq!((key["pattern"].as_str(), key["maxLength"].as_u64()), (Some("^[!-~]+$"), Some(255)));
    let resp = app
        .req(Method::POST, "/v1/banks", Some(&app.admin_key))
        .header("Idempotency-Key", "two words")
        .json(&json!({"name": "丁银行", "code": "BANK-D", "contact_email": "sme@bank-d.example.cn"}))
        .send()
        .await
        .expect("req");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(problem(resp).await["code"], "invalid_idempotency_key");

    // What the service requires, the document requires, and a request without it is refused.
    assert_eq!(doc["components"]["schemas"]["BankDraft"]["required"], json!(["name", "code", "contact_email"]));
    let p = problem(app.post_json("/v1/banks", &app.admin_key, &json!({})).await).await;
    let fields: Vec<&str> =
        p["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["name", "code", "contact_email"]);

    // Text carrying U+0000 is refused wherever it arrives; the document says so of free text.
    let description = &doc["components"]["schemas"]["EndpointInput"]["properties"]["description"];
    assert_eq!(description["pattern"], "^[^\\u0000]*$");
    let p = problem(app.post_json("/v1/banks", &app.admin_key, &json!({"name": "戊\u{0}银行"})).await).await;
    assert_eq!(
        (p["errors"][0]["field"].as_str(), p["errors"][0]["code"].as_str()),
        (Some("name"), Some("invalid_character"))
    );

    // A cursor not of the stated shape, and an industry filter that is no GB/T 4754 prefix.
    let resp = app.get("/v1/firms?cursor=AAAAAAAAAAAAAAAAAAAAAB", &app.admin_key).await;
    assert_eq!(
        (resp.status(), problem(resp).await["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_cursor"))
    );
    let industry = parameter(&doc, "/v1/firms", "get", "industry")["schema"]["pattern"].as_str().expect("pattern");
    assert_eq!(industry, "^([A-Ta-t][0-9]{0,4})?$");
    let p = problem(app.get("/v1/firms?industry=C35621", &app.admin_key).await).await;
    assert_eq!(p["errors"][0]["field"], "industry");
}

/// Along the bank's path: a withdrawn product is gone from its address, and the bank finds its
/// record among its withdrawn products.
#[tokio::test]
async fn a_withdrawn_product_is_gone_and_listed_among_the_withdrawn() {
    let app = spawn_app().await;
    let (_, key) = bank(&app, "QILU-BANK").await;
    let product = publish(&app, &key, &srdi_product("专精特新贷", "10000000")).await;
    let kept = publish(&app, &key, &srdi_product("小巨人贷", "10000000")).await;
    assert_eq!(app.get(&format!("/v1/products/{product}"), &key).await.status(), StatusCode::OK);

    let resp = app.req(Method::DELETE, &format!("/v1/products/{product}"), Some(&key)).send().await.expect("req");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    for caller in [&key, &app.admin_key] {
        let resp = app.get(&format!("/v1/products/{product}"), caller).await;
        assert_eq!(resp.status(), StatusCode::GONE);
        let p = problem(resp).await;
        assert_eq!(p["code"], "product_withdrawn");
        assert!(p["detail"].as_str().expect("detail").contains("active=false"), "{p}");
    }
    let f = firm(&app, 1).await;
    let ent = app.key_for(Role::Enterprise, Some(f)).await;
    assert_eq!(app.get(&format!("/v1/products/{product}"), &ent).await.status(), StatusCode::NOT_FOUND);
    let withdrawn = json_of(app.get("/v1/products?active=false", &key).await).await;
    let ids: Vec<&str> =
        withdrawn["items"].as_array().expect("items").iter().filter_map(|p| p["id"].as_str()).collect();
    assert_eq!(ids, [product.to_string()]);
    let active = json_of(app.get("/v1/products?active=true", &key).await).await;
    assert_eq!(active["items"][0]["id"], kept.to_string());
    // Withdrawing again is still a success: the product is withdrawn.
    let resp = app.req(Method::DELETE, &format!("/v1/products/{product}"), Some(&key)).send().await.expect("req");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let doc = document(&app).await;
    assert!(doc["paths"]["/v1/products/{id}"]["get"]["responses"]["410"].is_object());
}

/// A merge patch names members of the product; one it does not have (even set to `null`, which
/// would remove nothing) is refused naming it, and the product is unchanged.
#[tokio::test]
async fn a_product_patch_naming_a_member_the_product_lacks_is_refused() {
    let app = spawn_app().await;
    let (_, key) = bank(&app, "QILU-BANK").await;
    let product = publish(&app, &key, &srdi_product("专精特新贷", "10000000")).await;
    let path = format!("/v1/products/{product}");
    let before = json_of(app.get(&path, &key).await).await;
    for patch in [json!({"": null}), json!({"colour": "blue"}), json!({"name": "新名称", "colour": null})] {
        let resp = app.patch_json(&path, &key, &patch).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{patch}");
        let p = problem(resp).await;
        let field = p["errors"][0]["field"].as_str().expect("field");
        assert!(["", "colour"].contains(&field), "{patch}: {p}");
    }
    assert_eq!(json_of(app.get(&path, &key).await).await, before);
    // A member the product has is still changed.
    let resp = app.patch_json(&path, &key, &json!({"name": "新名称"})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json_of(app.get(&path, &key).await).await["name"], "新名称");
}
