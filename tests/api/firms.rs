use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use srdi_capital::domain::access::Role;
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn create_get_patch_round_trip() {
    let app = spawn_app().await;
    let created = app
        .create_firm(json!({
            "credit_code": " 9111-0000-6000 37341l ",
            "name": "北京示例科技有限公司",
            "city": "济南市",
            "industry_code": "c3562",
            "tier": "little_giant",
            "tier_recognized_year": 2023,
            "expected_market_value": "1500000000.5",
            "tax_credit_grade": "a",
            "contact_email": "ir@example.cn"
        }))
        .await;
    assert_eq!(created["credit_code"], "91110000600037341L");
    assert_eq!(created["city"], "jinan");
    assert_eq!(created["industry_code"], "C3562");
    assert_eq!(created["expected_market_value"], "1500000000.50");
    assert_eq!(created["tax_credit_grade"], "A");
    assert_eq!(created["in_reserve_pool"], false);
    let id = created["id"].as_str().expect("id");
    assert_eq!(Uuid::parse_str(id).expect("uuid").get_version_num(), 7);

    let got: Value = app.get(&format!("/v1/firms/{id}"), &app.admin_key).await.json().await.expect("json");
    assert_eq!(got, created);

    let resp = app
        .patch_json(&format!("/v1/firms/{id}"), &app.admin_key, &json!({"name": "新名称有限公司", "contact_email": ""}))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let patched: Value = resp.json().await.expect("json");
    assert_eq!(patched["name"], "新名称有限公司");
    assert_eq!(patched["contact_email"], Value::Null);
    assert_eq!(patched["tier"], "little_giant", "absent fields keep their value");
}

#[tokio::test]
async fn city_comes_from_the_credit_code_and_laiwu_is_jinan() {
    let app = spawn_app().await;
    let laiwu_code =
        srdi_capital::domain::credit_code::CreditCode::complete("91371200MA3C00001").expect("body").to_string();
    let f = app
        .create_firm(json!({"credit_code": laiwu_code, "name": "莱芜钢铁配件有限公司", "industry_code": "C3130"}))
        .await;
    assert_eq!(f["city"], "jinan");
    let f = app
        .create_firm(json!({"credit_code": code(2), "name": "X有限公司", "industry_code": "C35", "city": "371202"}))
        .await;
    assert_eq!(f["city"], "jinan");
    let resp = app
        .post_json(
            "/v1/firms",
            &app.admin_key,
            &json!({"credit_code": "91110000600037341L", "name": "Y", "industry_code": "C35"}),
        )
        .await;
    let p = problem(resp).await;
    assert_eq!(p["errors"][0]["field"], "city", "a Beijing code names no Shandong city: {p}");
}

#[tokio::test]
async fn invalid_and_duplicate_credit_codes() {
    let app = spawn_app().await;
    let resp = app
        .post_json(
            "/v1/firms",
            &app.admin_key,
            &json!({"credit_code": "91350100M000100Y43", "name": "A", "industry_code": "C35", "city": "qingdao"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED, "91350100M000100Y43 carries the right check character");
    let resp = app
        .post_json(
            "/v1/firms",
            &app.admin_key,
            &json!({"credit_code": "91350100M000100Y44", "name": "A", "industry_code": "C35", "city": "qingdao"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p = problem(resp).await;
    assert_eq!(p["errors"][0]["field"], "credit_code");

    let first = app.create_firm(firm_body(1)).await;
    let resp = app.post_json("/v1/firms", &app.admin_key, &firm_body(1)).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let p = problem(resp).await;
    assert_eq!(p["code"], "duplicate_credit_code");
    assert_eq!(p["existing_firm_id"], first["id"]);

    // Changing another firm's code onto an existing one is the same conflict.
    let second = app.create_firm(firm_body(2)).await;
    let resp = app
        .patch_json(
            &format!("/v1/firms/{}", second["id"].as_str().expect("id")),
            &app.admin_key,
            &json!({"credit_code": code(1)}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn validation_names_every_bad_field() {
    let app = spawn_app().await;
    let resp = app
        .post_json(
            "/v1/firms",
            &app.admin_key,
            &json!({"credit_code": "123", "name": " ", "city": "beijing", "industry_code": "Z99", "tier": "giant",
                    "founded_on": "2012-13-01", "expected_market_value": "1.234", "neeq_layer": "top", "contact_email": "nope"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p = problem(resp).await;
    let fields: Vec<&str> =
        p["errors"].as_array().expect("errors").iter().map(|e| e["field"].as_str().expect("field")).collect();
    for f in [
        "credit_code",
        "name",
        "city",
        "industry_code",
        "tier",
        "founded_on",
        "expected_market_value",
        "neeq_layer",
        "contact_email",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    let resp = app.post_json("/v1/firms", &app.admin_key, &json!({"credit_code": code(1), "surprise": 1})).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(resp).await["errors"][0]["field"], "surprise");
    let resp = app.post_json("/v1/firms", &app.admin_key, &json!({"credit_code": 12})).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn enterprise_reads_and_edits_only_its_own_firm() {
    let app = spawn_app().await;
    let a = app.create_firm(firm_body(1)).await;
    let b = app.create_firm(firm_body(2)).await;
    let a_id: Uuid = a["id"].as_str().expect("id").parse().expect("uuid");
    let b_id = b["id"].as_str().expect("id");
    let key_a = app.key_for(Role::Enterprise, Some(a_id)).await;

    assert_eq!(app.get(&format!("/v1/firms/{a_id}"), &key_a).await.status(), StatusCode::OK);
    assert_eq!(app.get(&format!("/v1/firms/{b_id}"), &key_a).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.patch_json(&format!("/v1/firms/{b_id}"), &key_a, &json!({"name": "hijack"})).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.get(&format!("/v1/firms/{b_id}/financials"), &key_a).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.put_json(&format!("/v1/firms/{b_id}/financials/2024"), &key_a, &json!({"revenue": "1.00"})).await.status(),
        StatusCode::FORBIDDEN
    );
    let resp = app.patch_json(&format!("/v1/firms/{a_id}"), &key_a, &json!({"contact_phone": "0531-88888888"})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = app.patch_json(&format!("/v1/firms/{a_id}"), &key_a, &json!({"credit_code": code(3)})).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "an enterprise cannot change its credit code");

    let list: Value = app.get("/v1/firms", &key_a).await.json().await.expect("json");
    let ids: Vec<&str> =
        list["items"].as_array().expect("items").iter().map(|f| f["id"].as_str().expect("id")).collect();
    assert_eq!(ids, [a_id.to_string()]);
    assert_eq!(app.post_json("/v1/firms", &key_a, &firm_body(9)).await.status(), StatusCode::FORBIDDEN);

    let bank = app.insert_bank("B1").await;
    let bank_key = app.key_for(Role::Bank, Some(bank)).await;
    assert_eq!(app.get(&format!("/v1/firms/{a_id}"), &bank_key).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/v1/firms", &bank_key).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn financials_put_and_list_exactly() {
    let app = spawn_app().await;
    let f = app.create_firm(firm_body(1)).await;
    let id = f["id"].as_str().expect("id");
    let body = json!({
        "revenue": "123456789012.34", "net_profit": "-1500000.00", "net_profit_deducted": "-1600000", "rd_expense": "5000000.1",
        "weighted_roe": "8.2500", "invention_patents": 12, "employees": 300, "rd_staff": 45
    });
    let resp = app.put_json(&format!("/v1/firms/{id}/financials/2024"), &app.admin_key, &body).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp =
        app.put_json(&format!("/v1/firms/{id}/financials/2023"), &app.admin_key, &json!({"revenue": "100.00"})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let list: Value = app.get(&format!("/v1/firms/{id}/financials"), &app.admin_key).await.json().await.expect("json");
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["fiscal_year"], 2023);
    assert_eq!(items[1]["revenue"], "123456789012.34");
    assert_eq!(items[1]["net_profit_deducted"], "-1600000.00");
    assert_eq!(items[1]["rd_expense"], "5000000.10");
    assert_eq!(items[1]["weighted_roe"], "8.25");
    assert_eq!(items[1]["main_business_revenue"], Value::Null);

    let resp = app
        .put_json(
            &format!("/v1/firms/{id}/financials/2024"),
            &app.admin_key,
            &json!({"revenue": "1.001", "employees": 5, "rd_staff": 6}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p = problem(resp).await;
    let fields: Vec<&str> =
        p["errors"].as_array().expect("errors").iter().map(|e| e["field"].as_str().expect("f")).collect();
    assert_eq!(fields, ["revenue", "rd_staff"]);
    let resp = app.put_json(&format!("/v1/firms/{id}/financials/2999"), &app.admin_key, &json!({})).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "a future fiscal year");
    let resp = app.put_json(&format!("/v1/firms/{}/financials/2024", Uuid::now_v7()), &app.admin_key, &json!({})).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn list_filters() {
    let app = spawn_app().await;
    let mk = |n: usize, city: &str, tier: &str, industry: &str, name: &str| json!({"credit_code": code(n), "name": name, "city": city, "tier": tier, "industry_code": industry});
    app.create_firm(mk(1, "jinan", "little_giant", "C3562", "甲半导体有限公司")).await;
    app.create_firm(mk(2, "jinan", "innovative_sme", "C3562", "乙半导体有限公司")).await;
    app.create_firm(mk(3, "qingdao", "little_giant", "C2710", "丙生物医药有限公司")).await;
    app.create_firm(mk(4, "qingdao", "little_giant", "I6513", "丁软件100%有限公司")).await;
    let names = |v: Value| -> Vec<String> {
        v["items"].as_array().expect("items").iter().map(|f| f["name"].as_str().expect("name").to_owned()).collect()
    };
    let q = |path: &'static str| {
        let app = &app;
        async move { app.get(path, &app.admin_key).await.json::<Value>().await.expect("json") }
    };
    assert_eq!(names(q("/v1/firms?city=jinan&tier=little_giant").await), ["甲半导体有限公司"]);
    assert_eq!(names(q("/v1/firms?industry=C35").await).len(), 2);
    assert_eq!(names(q("/v1/firms?industry=c").await).len(), 3);
    assert_eq!(names(q("/v1/firms?q=生物").await), ["丙生物医药有限公司"]);
    assert_eq!(names(q("/v1/firms?q=100%25").await), ["丁软件100%有限公司"]);
    assert_eq!(names(q("/v1/firms?q=_").await).len(), 0, "LIKE wildcards are literal");
    assert_eq!(names(q("/v1/firms?in_reserve_pool=true").await).len(), 0);
    let resp = app.get("/v1/firms?city=beijing", &app.admin_key).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(resp).await["errors"][0]["field"], "city");
    let resp = app.get("/v1/firms?limit=abc", &app.admin_key).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = app.get("/v1/firms?industry=99", &app.admin_key).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn pagination_neither_skips_nor_repeats_while_rows_are_inserted() {
    let app = spawn_app().await;
    for n in 0..30 {
        app.create_firm(firm_body(n)).await;
    }
    // A writer keeps registering firms while a reader pages through.
    let writer = {
        let base = app.base.clone();
        let key = app.admin_key.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            for n in 100..140 {
                let resp = client
                    .post(format!("{base}/v1/firms"))
                    .bearer_auth(&key)
                    .json(&firm_body(n))
                    .send()
                    .await
                    .expect("post");
                assert_eq!(resp.status(), StatusCode::CREATED);
            }
        })
    };
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/firms?limit=7&cursor={c}"),
            None => "/v1/firms?limit=7".to_owned(),
        };
        let page: Value = app.get(&path, &app.admin_key).await.json().await.expect("json");
        for f in page["items"].as_array().expect("items") {
            seen.push(f["credit_code"].as_str().expect("code").to_owned());
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    writer.await.expect("writer");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no firm repeated");
    for n in 0..30 {
        assert!(seen.contains(&code(n)), "firm {n}, present before paging began, was skipped");
    }
    let resp = app.req(Method::GET, "/v1/firms?limit=0", Some(&app.admin_key)).send().await.expect("req");
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
