//! Long work and slow queries do not turn into server errors: requests made while a full rematch
//! runs are served, and a query that outlives PostgreSQL's statement timeout is a 503.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;
use srdi_capital::clock::SystemClock;
use srdi_capital::db::Db;
use srdi_capital::error::AppError;

use crate::financing::{bank, publish, srdi_product};
use crate::helpers::*;

#[tokio::test]
async fn requests_during_a_full_rematch_are_served_not_locked_out() {
    let app = spawn_app_with(|c| c.workers_enabled = false, Arc::new(SystemClock)).await;
    let (_, key) = bank(&app, "QILU").await;
    for n in 0..3 {
        publish(&app, &key, &srdi_product(&format!("贷款{n}"), "1000000")).await;
    }
    let firms = 2500;
    let mut csv = String::from("credit_code,name,city,industry_code,tier,founded_on,fiscal_year,revenue\n");
    for n in 1..=firms {
        csv.push_str(&format!(
            "{},并发{n}有限公司,jinan,C3562,provincial_srdi,2012-05-18,2024,{}\n",
            code(n),
            5_000_000 + n
        ));
    }
    let resp = app
        .req(Method::POST, "/v1/firms/import", Some(&app.admin_key))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("import");
    assert_eq!(resp.status(), StatusCode::OK);
    let listed: serde_json::Value = app.get("/v1/firms?limit=40", &app.admin_key).await.json().await.expect("json");
    let ids: Vec<String> =
        listed["items"].as_array().expect("items").iter().map(|f| f["id"].as_str().expect("id").to_owned()).collect();

    let empty = json!({});
    let rematch = app.post_json("/v1/admin/rematch", &app.admin_key, &empty);
    let writes = async {
        let mut statuses = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let resp = app
                .patch_json(
                    &format!("/v1/firms/{id}"),
                    &app.admin_key,
                    &json!({"contact_phone": format!("0531-8800{i:04}")}),
                )
                .await;
            statuses.push(resp.status());
            let resp =
                app.post_json(&format!("/v1/firms/{id}/consents"), &app.admin_key, &json!({"bank_id": null})).await;
            let status = resp.status();
            statuses.push(status);
            if status == StatusCode::CREATED {
                let consent: serde_json::Value = resp.json().await.expect("json");
                let path = format!("/v1/firms/{id}/consents/{}", consent["id"].as_str().expect("id"));
                statuses.push(app.req(Method::DELETE, &path, Some(&app.admin_key)).send().await.expect("req").status());
            }
        }
        statuses
    };
    let (rematched, statuses) = tokio::join!(rematch, writes);
    assert_eq!(rematched.status(), StatusCode::OK);
    let failed: Vec<_> = statuses.iter().filter(|s| !s.is_success()).collect();
    assert!(failed.is_empty(), "requests during the rematch failed: {failed:?}");
}

#[tokio::test]
async fn a_query_past_the_statement_timeout_is_unavailable() {
    if backend() != "postgres" {
        return; // statement_timeout is PostgreSQL's; SQLite runs in-process.
    }
    let app = spawn_app().await;
    let db = Db::connect_with(&app.database_url, 2, Some(Duration::from_millis(300))).await.expect("connect");
    let slow = sqlx::query("SELECT pg_sleep(2)").execute(db.pool()).await.expect_err("cancelled by the timeout");
    assert!(matches!(AppError::from(slow), AppError::Unavailable(_)));
    let fine = sqlx::query("SELECT pg_sleep(0.01)").execute(db.pool()).await;
    assert!(fine.is_ok(), "{fine:?}");
}
