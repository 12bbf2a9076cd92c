//! Authorisation comes first and covers every subject: a caller who may not act learns that (403)
//! whatever the body holds; a fund key naming another fund is refused like any foreign subject;
//! recognitions are the office's to record.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use srdi_capital::domain::access::Role;
use uuid::Uuid;

use crate::helpers::*;
use crate::roadshows::{new_fund, published, roadshow_body};

async fn status_and_code(resp: reqwest::Response) -> (StatusCode, String) {
    let status = resp.status();
    let p = problem(resp).await;
    (status, p["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_fund_naming_another_fund_is_403_and_its_own_is_fine() {
    let app = spawn_app().await;
    let (fund_a, key_a) = new_fund(&app, "甲基金").await;
    let (fund_b, _) = new_fund(&app, "乙基金").await;
    let firm = app.create_firm(firm_body(1)).await;
    let rs = published(&app, roadshow_body(chrono::Utc::now(), 10)).await;
    let registrations = format!("/v1/roadshows/{}/registrations", rs["id"].as_str().expect("id"));
    let attendee =
        |fund: Uuid| json!({"attendee_name": "王经理", "attendee_email": "w@fund.example.cn", "fund_id": fund});
    let investment =
        |fund: Uuid| json!({"firm_id": firm["id"], "amount": "1000000", "round": "series_a", "fund_id": fund});

    let resp = app.post_json(&registrations, &key_a, &attendee(fund_b)).await;
    assert_eq!(status_and_code(resp).await, (StatusCode::FORBIDDEN, "forbidden".into()));
    let resp = app.post_json("/v1/investments", &key_a, &investment(fund_b)).await;
    assert_eq!(status_and_code(resp).await, (StatusCode::FORBIDDEN, "forbidden".into()));

    let resp = app.post_json(&registrations, &key_a, &attendee(fund_a)).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = app.post_json("/v1/investments", &key_a, &investment(fund_a)).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let got: Value = resp.json().await.expect("json");
    assert_eq!(got["fund_id"], fund_a.to_string());
}

#[tokio::test]
async fn a_forbidden_caller_with_a_bad_body_learns_only_403() {
    let app = spawn_app().await;
    let a = app.create_firm(firm_body(1)).await;
    let b = app.create_firm(firm_body(2)).await;
    let key_a = app.key_for(Role::Enterprise, Some(a["id"].as_str().expect("id").parse().expect("uuid"))).await;
    let bank = app.insert_bank("B1").await;
    let bank_key = app.key_for(Role::Bank, Some(bank)).await;
    let send = |method: Method, path: String, key: String, body: &'static str| {
        app.req(method, &path, Some(&key)).header("content-type", "application/json").body(body).send()
    };
    let b_path = format!("/v1/firms/{}", b["id"].as_str().expect("id"));
    for body in ["{not json", r#"{"founded_on": "yesterday"}"#, r#"{"nonsense": 1}"#] {
        let resp = send(Method::PATCH, b_path.clone(), key_a.clone(), body).await.expect("req");
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "PATCH another firm with {body}");
        let resp = send(Method::POST, "/v1/applications".into(), bank_key.clone(), body).await.expect("req");
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "a bank applying with {body}");
        let resp = send(Method::POST, "/v1/applications".into(), app.admin_key.clone(), body).await.expect("req");
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "the office applying with {body}");
    }
}

#[tokio::test]
async fn recognitions_are_the_offices_to_record() {
    let app = spawn_app().await;
    let firm = app.create_firm(firm_body(1)).await;
    let id = firm["id"].as_str().expect("id");
    let key = app.key_for(Role::Enterprise, Some(id.parse().expect("uuid"))).await;
    let path = format!("/v1/firms/{id}");
    for change in
        [json!({"tier": "little_giant"}), json!({"tier_recognized_year": 2020}), json!({"tax_credit_grade": "A"})]
    {
        let resp = app.patch_json(&path, &key, &change).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{change}");
        let detail = problem(resp).await["detail"].as_str().expect("detail").to_owned();
        let field = change.as_object().expect("object").keys().next().expect("key").clone();
        assert!(detail.contains(&field), "{detail}");
    }
    // Sending back what is recorded changes nothing and is fine, beside a field the firm owns.
    let resp = app.patch_json(&path, &key, &json!({"tier": firm["tier"], "contact_phone": "0531-88888888"})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let stored: Value = app.get(&path, &app.admin_key).await.json().await.expect("json");
    assert_eq!((&stored["tier"], &stored["tax_credit_grade"]), (&firm["tier"], &firm["tax_credit_grade"]));
    let resp = app.patch_json(&path, &app.admin_key, &json!({"tier": "little_giant", "tax_credit_grade": "A"})).await;
    assert_eq!(resp.status(), StatusCode::OK, "the office records recognitions");
}
