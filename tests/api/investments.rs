//! Investment intentions and closed investments, scoped by role, and their totals.

use chrono::{Datelike, Utc};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use srdi_capital::domain::access::Role;

use crate::helpers::*;
use crate::roadshows::{new_fund, published, roadshow_body};

fn ids(v: &Value) -> Vec<String> {
    v["items"].as_array().expect("items").iter().map(|i| i["id"].as_str().expect("id").to_owned()).collect()
}

#[tokio::test]
async fn funds_record_investments_scoped_by_role_and_totals_count_closed_ones() {
    let app = spawn_app().await;
    let (fund_a, key_a) = new_fund(&app, "甲基金").await;
    let (fund_b, key_b) = new_fund(&app, "乙基金").await;
    let f1 = app.create_firm(firm_body(1)).await["id"].as_str().expect("id").to_owned();
    let f2 = app.create_firm(firm_body(2)).await["id"].as_str().expect("id").to_owned();
    let ent1 = app.key_for(Role::Enterprise, Some(f1.parse().expect("uuid"))).await;
    let rs = published(&app, roadshow_body(Utc::now(), 10)).await;
    let rid = rs["id"].as_str().expect("id");

    let post = |key: &str, body: Value| {
        let app = &app;
        let key = key.to_owned();
        async move { app.post_json("/v1/investments", &key, &body).await }
    };
    let resp =
        post(&key_a, json!({"firm_id": f1, "roadshow_id": rid, "amount": "30000000.00", "round": "series_a"})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let intention: Value = resp.json().await.expect("json");
    assert_eq!((intention["status"].as_str(), intention["amount"].as_str()), (Some("intention"), Some("30000000.00")));
    assert_eq!(intention["fund_id"], fund_a.to_string());
    let closed_a: Value =
        post(&key_a, json!({"firm_id": f2, "amount": "50000000", "round": "pre_ipo", "status": "closed"}))
            .await
            .json()
            .await
            .expect("json");
    let closed_b: Value =
        post(&key_b, json!({"firm_id": f1, "amount": "20000000.00", "round": "strategic", "status": "closed"}))
            .await
            .json()
            .await
            .expect("json");

    // Validation and who may record.
    let resp = post(&key_a, json!({"firm_id": uuid::Uuid::now_v7(), "amount": "-1", "round": "series_z"})).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = problem(resp).await["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("f").to_owned())
        .collect();
    assert_eq!(fields, ["amount", "round"]);
    let resp = post(&key_a, json!({"firm_id": uuid::Uuid::now_v7(), "amount": "1", "round": "seed"})).await;
    assert_eq!(problem(resp).await["errors"][0]["field"], "firm_id");
    assert_eq!(
        post(&key_a, json!({"fund_id": fund_b, "firm_id": f1, "amount": "1", "round": "seed"})).await.status(),
        StatusCode::FORBIDDEN,
        "another fund is a foreign subject"
    );
    assert_eq!(
        post(&ent1, json!({"firm_id": f1, "amount": "1", "round": "seed"})).await.status(),
        StatusCode::FORBIDDEN
    );
    let by_admin = post(
        &app.admin_key,
        json!({"fund_id": fund_b, "firm_id": f2, "amount": "1.00", "round": "seed", "status": "withdrawn"}),
    )
    .await;
    assert_eq!(by_admin.status(), StatusCode::CREATED);

    // Scopes: a fund its own, an enterprise its firm's, the office all.
    let list = |key: &str, q: &str| {
        let app = &app;
        let path = format!("/v1/investments{q}");
        let key = key.to_owned();
        async move { app.get(&path, &key).await.json::<Value>().await.expect("json") }
    };
    assert_eq!(ids(&list(&key_a, "").await).len(), 2);
    assert_eq!(ids(&list(&key_b, "").await).len(), 2);
    assert_eq!(ids(&list(&key_b, &format!("?fund_id={fund_a}")).await).len(), 2, "a fund cannot widen its scope");
    let for_firm = ids(&list(&ent1, "").await);
    assert_eq!(for_firm, [intention["id"].as_str().expect("id"), closed_b["id"].as_str().expect("id")]);
    assert_eq!(ids(&list(&app.admin_key, "").await).len(), 4);
    assert_eq!(ids(&list(&app.admin_key, "?status=closed").await).len(), 2);
    assert_eq!(ids(&list(&app.admin_key, &format!("?roadshow_id={rid}")).await).len(), 1);
    let year = Utc::now().year();
    assert_eq!(ids(&list(&app.admin_key, &format!("?year={}", year - 1)).await).len(), 0);
    let a_id = intention["id"].as_str().expect("id");
    assert_eq!(app.get(&format!("/v1/investments/{a_id}"), &key_b).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/v1/investments/{a_id}"), &ent1).await.status(), StatusCode::OK);
    let bank = app.insert_bank("B1").await;
    let bank_key = app.key_for(Role::Bank, Some(bank)).await;
    assert_eq!(app.get("/v1/investments", &bank_key).await.status(), StatusCode::FORBIDDEN);

    // Changes: another fund cannot touch it; an intention closes; a closed one cannot reopen.
    let path = format!("/v1/investments/{a_id}");
    assert_eq!(app.patch_json(&path, &key_b, &json!({"status": "closed"})).await.status(), StatusCode::NOT_FOUND);
    let closed: Value = app.patch_json(&path, &key_a, &json!({"status": "closed"})).await.json().await.expect("json");
    assert_eq!(closed["status"], "closed");
    let resp = app.patch_json(&path, &key_a, &json!({"status": "intention"})).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(resp).await["errors"][0]["code"], "illegal_transition");
    assert_eq!(app.patch_json(&path, &key_a, &json!({"firm_id": f2})).await.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Programme statistics: closed investments this year, 30m + 50m + 20m.
    let mut conn = app.db.pool().acquire().await.expect("conn");
    let totals = srdi_capital::store::investments::investment_totals_by_year(&mut conn, year).await.expect("totals");
    assert_eq!(totals, (3, Decimal::new(100_000_000, 0)));
    let last_year =
        srdi_capital::store::investments::investment_totals_by_year(&mut conn, year - 1).await.expect("totals");
    assert_eq!(last_year, (0, Decimal::ZERO));
    let outcome: Value =
        app.get(&format!("/v1/roadshows/{rid}/outcome"), &app.admin_key).await.json().await.expect("json");
    assert_eq!(outcome["closed_investments"], json!({"count": 1, "amount": "30000000.00"}));
    assert_eq!(outcome["intentions"]["count"], 0);
    let _ = closed_a;
}
