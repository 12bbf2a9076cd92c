use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use srdi_capital::domain::access::Role;
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn admit_list_get_remove_with_history() {
    let app = spawn_app().await;
    let a = app.create_firm(firm_body(1)).await;
    let b = app.create_firm(json!({"credit_code": code(2), "name": "青岛乙有限公司", "city": "qingdao", "industry_code": "C2710", "tier": "little_giant"})).await;
    let a_id = a["id"].as_str().expect("id");
    let b_id = b["id"].as_str().expect("id");

    let resp = app
        .post_json(
            "/v1/reserve-pool",
            &app.admin_key,
            &json!({"firm_id": a_id, "target_venue": "bse", "key_firm": true, "sponsor_broker": "中泰证券"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let entry: Value = resp.json().await.expect("json");
    assert_eq!(entry["target_venue"], "bse");
    assert_eq!(entry["key_firm"], true);
    let resp =
        app.post_json("/v1/reserve-pool", &app.admin_key, &json!({"firm_id": b_id, "target_venue": "star"})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    // Admitting again updates the entry.
    let resp =
        app.post_json("/v1/reserve-pool", &app.admin_key, &json!({"firm_id": b_id, "target_venue": "chinext"})).await;
    assert_eq!(resp.status(), StatusCode::OK);

    let firm: Value = app.get(&format!("/v1/firms/{a_id}"), &app.admin_key).await.json().await.expect("json");
    assert_eq!(firm["in_reserve_pool"], true);

    let list: Value = app.get("/v1/reserve-pool?venue=chinext", &app.admin_key).await.json().await.expect("json");
    assert_eq!(list["items"].as_array().expect("items").len(), 1);
    assert_eq!(list["items"][0]["firm_id"], b_id);
    let list: Value =
        app.get("/v1/reserve-pool?key_firm=true&city=jinan", &app.admin_key).await.json().await.expect("json");
    assert_eq!(list["items"][0]["firm_id"], a_id);
    let list: Value = app.get("/v1/reserve-pool?tier=little_giant", &app.admin_key).await.json().await.expect("json");
    assert_eq!(list["items"][0]["firm_id"], b_id);
    let list: Value = app.get("/v1/firms?target_venue=bse", &app.admin_key).await.json().await.expect("json");
    assert_eq!(list["items"][0]["id"], a_id);

    let csv = app
        .req(Method::GET, "/v1/reserve-pool", Some(&app.admin_key))
        .header("Accept", "text/csv")
        .send()
        .await
        .expect("req");
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.headers()["content-type"].to_str().expect("ct").starts_with("text/csv"));
    let text = csv.text().await.expect("text");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("csv parses");
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().any(|r| &r[0] == a_id && &r[7] == "中泰证券" && &r[8] == "true"));

    let resp =
        app.req(Method::DELETE, &format!("/v1/reserve-pool/{a_id}"), Some(&app.admin_key)).send().await.expect("req");
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "a reason is required");
    let resp = app
        .req(Method::DELETE, &format!("/v1/reserve-pool/{a_id}"), Some(&app.admin_key))
        .json(&json!({"reason": "已在北交所上市"}))
        .send()
        .await
        .expect("req");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/v1/reserve-pool/{a_id}"), &app.admin_key).await.status(), StatusCode::NOT_FOUND);
    let firm: Value = app.get(&format!("/v1/firms/{a_id}"), &app.admin_key).await.json().await.expect("json");
    assert_eq!(firm["in_reserve_pool"], false);

    // Re-admission keeps the earlier history, including the removal's reason.
    app.post_json("/v1/reserve-pool", &app.admin_key, &json!({"firm_id": a_id, "target_venue": "neeq"})).await;
    let detail: Value = app.get(&format!("/v1/reserve-pool/{a_id}"), &app.admin_key).await.json().await.expect("json");
    let actions: Vec<&str> =
        detail["history"].as_array().expect("history").iter().map(|h| h["action"].as_str().expect("a")).collect();
    assert_eq!(actions, ["admitted", "removed", "admitted"]);
    assert_eq!(detail["history"][1]["reason"], "已在北交所上市");

    let events = srdi_capital::store::events::for_firm(
        &mut app.db.pool().acquire().await.expect("c"),
        a_id.parse().expect("uuid"),
    )
    .await
    .expect("events");
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["firm.created", "reserve_pool.admitted", "reserve_pool.removed", "reserve_pool.admitted"]);
    let seqs: Vec<i64> = events.iter().filter_map(|e| e.firm_seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
}

#[tokio::test]
async fn pool_is_admin_only_and_validates() {
    let app = spawn_app().await;
    let a = app.create_firm(firm_body(1)).await;
    let a_id: Uuid = a["id"].as_str().expect("id").parse().expect("uuid");
    let ent = app.key_for(Role::Enterprise, Some(a_id)).await;
    assert_eq!(app.get("/v1/reserve-pool", &ent).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.post_json("/v1/reserve-pool", &ent, &json!({"firm_id": a_id, "target_venue": "bse"})).await.status(),
        StatusCode::FORBIDDEN
    );
    let resp = app
        .post_json(
            "/v1/reserve-pool",
            &app.admin_key,
            &json!({"firm_id": a_id, "target_venue": "nasdaq", "admitted_on": "2099-01-01"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p = problem(resp).await;
    let fields: Vec<&str> =
        p["errors"].as_array().expect("e").iter().map(|e| e["field"].as_str().expect("f")).collect();
    assert_eq!(fields, ["target_venue", "admitted_on"]);
    let resp = app
        .post_json("/v1/reserve-pool", &app.admin_key, &json!({"firm_id": Uuid::now_v7(), "target_venue": "bse"}))
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let resp = app.get("/v1/reserve-pool?venue=nasdaq", &app.admin_key).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
