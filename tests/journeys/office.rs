//! The SME office's journey: it imports firms from a spreadsheet, admits some to the listing
//! reserve pool, records one firm's NEEQ quotation and its BSE listing, and reads programme
//! statistics that moved accordingly.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::ok;

async fn stats(app: &TestApp) -> Value {
    ok(app.get("/v1/stats/programme?year=2025", &app.admin_key).await).await
}

fn neeq_firms(stats: &Value) -> i64 {
    stats["by_venue"]
        .as_array()
        .expect("venues")
        .iter()
        .filter(|v| v["venue"] == "neeq")
        .flat_map(|v| v["stages"].as_array().expect("stages").iter())
        .map(|s| s["firms"].as_i64().expect("n"))
        .sum()
}

#[tokio::test]
async fn the_office_imports_admits_records_milestones_and_sees_the_statistics_move() {
    let app = spawn_app().await;
    let admin = app.admin_key.clone();
    let before = stats(&app).await;
    assert_eq!(before["actual"]["reserve_pool_size"], 0);

    // A spreadsheet of three firms with a fiscal year each.
    let mut csv =
        String::from("credit_code,name,city,industry_code,tier,fiscal_year,revenue,rd_expense,invention_patents\n");
    for (n, tier) in [(1, "little_giant"), (2, "provincial_srdi"), (3, "innovative_sme")] {
        csv.push_str(&format!("{},企业{n}有限公司,jinan,C3562,{tier},2024,150000000.00,9000000.00,12\n", code(n)));
    }
    let report = ok(app
        .req(Method::POST, "/v1/firms/import", Some(&admin))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("import"))
    .await;
    assert_eq!(report["created"], 3, "{report}");
    let firms = ok(app.get("/v1/firms?limit=50", &admin).await).await;
    let ids: Vec<String> =
        firms["items"].as_array().expect("items").iter().map(|f| f["id"].as_str().expect("id").to_owned()).collect();
    assert_eq!(ids.len(), 3);

    // Two firms enter the pool.
    for id in &ids[..2] {
        let resp = app.post_json("/v1/reserve-pool", &admin, &json!({"firm_id": id, "target_venue": "bse"})).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    let pooled = stats(&app).await;
    assert_eq!(pooled["actual"]["reserve_pool_size"], 2);

    // The first is quoted on the NEEQ and reaches the innovation layer, then lists on the BSE.
    let path = format!("/v1/firms/{}/listing-events", ids[0]);
    let record = |venue: &'static str, stage: &'static str, on: &'static str| {
        let body = json!({"venue": venue, "stage": stage, "reached_on": on});
        let (app, path, admin) = (&app, path.clone(), admin.clone());
        async move {
            let resp = app.post_json(&path, &admin, &body).await;
            assert_eq!(resp.status(), StatusCode::CREATED, "{venue} {stage}");
        }
    };
    record("neeq", "neeq_listed", "2022-03-01").await;
    record("neeq", "neeq_innovation_layer", "2023-05-01").await;
    let firm = ok(app.get(&format!("/v1/firms/{}", ids[0]), &admin).await).await;
    assert_eq!(
        (firm["neeq_listed_on"].as_str(), firm["neeq_layer"].as_str()),
        (Some("2022-03-01"), Some("innovation"))
    );
    assert_eq!(neeq_firms(&stats(&app).await), 1);
    for (stage, on) in [
        ("tutoring_filed", "2024-01-10"),
        ("tutoring_accepted", "2024-04-10"),
        ("application_accepted", "2024-06-01"),
        ("inquiry", "2024-07-01"),
        ("committee_approved", "2024-09-01"),
        ("registered", "2024-10-01"),
        ("listed", "2025-01-15"),
    ] {
        record("bse", stage, on).await;
    }
    let listed = stats(&app).await;
    assert_eq!(
        listed["actual"]["new_listings_since_2022"],
        before["actual"]["new_listings_since_2022"].as_i64().expect("n") + 1
    );
    assert_eq!(listed["actual"]["new_listings_in_year"], 1, "listed in 2025");
    assert_eq!(neeq_firms(&listed), 0, "a BSE-listed firm leaves the NEEQ counts");
    let firm = ok(app.get(&format!("/v1/firms/{}", ids[0]), &admin).await).await;
    assert!(firm["neeq_layer"].is_null());

    // The second firm cannot apply to the BSE without the innovation layer.
    let path = format!("/v1/firms/{}/listing-events", ids[1]);
    for (stage, on) in [("tutoring_filed", "2024-01-10"), ("tutoring_accepted", "2024-04-10")] {
        let resp = app.post_json(&path, &admin, &json!({"venue": "bse", "stage": stage, "reached_on": on})).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    let resp = app
        .post_json(&path, &admin, &json!({"venue": "bse", "stage": "application_accepted", "reached_on": "2024-06-01"}))
        .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(ok_problem(resp).await["code"], "neeq_innovation_layer_required");
}

async fn ok_problem(resp: reqwest::Response) -> Value {
    resp.json().await.expect("problem json")
}
