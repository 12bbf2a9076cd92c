use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use srdi_capital::domain::access::Role;

use crate::helpers::*;

async fn firm_with_profits(app: &TestApp, n: usize, profits: &[(i32, &str)]) -> String {
    let f = app.create_firm(firm_body(n)).await;
    let id = f["id"].as_str().expect("id").to_owned();
    for (year, profit) in profits {
        let body = json!({"revenue": "300000000.00", "net_profit": profit, "net_profit_deducted": profit, "rd_expense": "15000000.00"});
        let resp = app.put_json(&format!("/v1/firms/{id}/financials/{year}"), &app.admin_key, &body).await;
        assert_eq!(resp.status(), StatusCode::OK);
    }
    id
}

fn standard<'a>(report: &'a Value, venue: &str, code: &str) -> &'a Value {
    report["venues"]
        .as_array()
        .expect("venues")
        .iter()
        .filter(|v| v["venue"] == venue && v["scope"] == "listing")
        .flat_map(|v| v["standards"].as_array().expect("standards").iter())
        .find(|s| s["code"] == code)
        .unwrap_or_else(|| panic!("{code} missing in {report}"))
}

/// A firm with 2,500万 and 3,000万 net profit passes ChiNext standard 1 under the 2020 rules and
/// fails it under the 2024 revision (cumulative ≥1亿, latest ≥6,000万), by evaluation date.
#[tokio::test]
async fn chinext_rule_change_applies_by_date() {
    let app = spawn_app().await;
    let id = firm_with_profits(&app, 1, &[(2022, "25000000.00"), (2023, "30000000.00")]).await;
    let before: Value = app
        .get(&format!("/v1/firms/{id}/readiness?venue=chinext&as_of=2024-04-29"), &app.admin_key)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(standard(&before, "chinext", "chinext_1")["verdict"], "met", "{before}");
    let after: Value = app
        .get(&format!("/v1/firms/{id}/readiness?venue=chinext&as_of=2024-04-30"), &app.admin_key)
        .await
        .json()
        .await
        .expect("json");
    let s = standard(&after, "chinext", "chinext_1");
    assert_eq!(s["verdict"], "not_met", "{after}");
    let sum = s["criteria"]
        .as_array()
        .expect("criteria")
        .iter()
        .find(|c| c["name"] == "net_profit_sum_2y")
        .expect("sum criterion");
    assert_eq!(sum["verdict"], "not_met");
    assert_eq!(sum["fiscal_years"], json!([2022, 2023]));
    assert_ne!(before["venues"][0]["rule_set_version"], after["venues"][0]["rule_set_version"]);
}

#[tokio::test]
async fn missing_years_are_unknown_and_all_venues_are_evaluated() {
    let app = spawn_app().await;
    let id = firm_with_profits(&app, 2, &[(2023, "30000000.00")]).await;
    let report: Value = app
        .get(&format!("/v1/firms/{id}/readiness?as_of=2024-06-30"), &app.admin_key)
        .await
        .json()
        .await
        .expect("json");
    let venues: Vec<&str> =
        report["venues"].as_array().expect("v").iter().map(|v| v["venue"].as_str().expect("venue")).collect();
    for v in ["bse", "star", "chinext", "neeq", "regional_srdi_board"] {
        assert!(venues.contains(&v), "{v} missing: {venues:?}");
    }
    let c1 = standard(&report, "chinext", "chinext_1");
    let sum =
        c1["criteria"].as_array().expect("criteria").iter().find(|c| c["name"] == "net_profit_sum_2y").expect("sum");
    assert_eq!(sum["verdict"], "unknown", "2022 is missing: {c1}");
    assert_eq!(
        sum["missing"],
        json!(["net_profit 2022", "net_profit_deducted 2022"]),
        "the missing field and year are named"
    );
    // One criterion already fails on known data, so the standard is not met whatever 2022 holds.
    assert_eq!(c1["verdict"], "not_met");
    let resp = app.get(&format!("/v1/firms/{id}/readiness?venue=nasdaq"), &app.admin_key).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let resp = app.get(&format!("/v1/firms/{id}/readiness?as_of=yesterday"), &app.admin_key).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let tier: Value = app
        .get(&format!("/v1/firms/{id}/tier-check?as_of=2024-06-30"), &app.admin_key)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(tier["scheme_status"], "in_force", "{tier}");
    assert!(tier["check"]["tiers"].as_array().is_some_and(|t| t.len() == 3), "{tier}");
}

/// Correcting a figure in the rule data changes the verdict without a code change.
#[tokio::test]
async fn operators_correct_rule_figures_as_data() {
    let app = spawn_app().await;
    let id = firm_with_profits(&app, 3, &[(2022, "25000000.00"), (2023, "30000000.00")]).await;
    let rules: Value = app.get("/v1/listing-rules", &app.admin_key).await.json().await.expect("json");
    let mut set = rules["listing"]
        .as_array()
        .expect("listing")
        .iter()
        .find(|s| s["venue"] == "chinext" && s["effective_to"].is_null())
        .expect("current chinext set")
        .clone();
    let c1 =
        set["standards"].as_array_mut().expect("standards").iter_mut().find(|s| s["code"] == "chinext_1").expect("c1");
    for c in c1["criteria"].as_array_mut().expect("criteria") {
        if c["name"] == "net_profit_sum_2y" {
            c["threshold"] = json!("50000000");
        }
        if c["name"] == "net_profit_latest" {
            c["threshold"] = json!("30000000");
        }
    }
    let resp = app.put_json("/v1/listing-rules", &app.admin_key, &json!({"listing": set})).await;
    assert_eq!(resp.status(), StatusCode::OK, "{:?}", resp.text().await);
    let after: Value = app
        .get(&format!("/v1/firms/{id}/readiness?venue=chinext&as_of=2025-01-15"), &app.admin_key)
        .await
        .json()
        .await
        .expect("json");
    // fiscal years 2023 and 2024: 2024 is missing, so the set must first be evaluated where data exists.
    let _ = after;
    let after: Value = app
        .get(&format!("/v1/firms/{id}/readiness?venue=chinext&as_of=2024-12-31"), &app.admin_key)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(standard(&after, "chinext", "chinext_1")["verdict"], "met", "{after}");

    let mut broken = set.clone();
    broken["standards"][0]["criteria"][0]["threshold"] = json!("lots");
    let resp = app.put_json("/v1/listing-rules", &app.admin_key, &json!({"listing": broken})).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let ent = app.key_for(Role::Enterprise, Some(id.parse().expect("uuid"))).await;
    assert_eq!(app.put_json("/v1/listing-rules", &ent, &json!({"listing": set})).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn listing_events_follow_the_stage_machine_with_corrections() {
    let app = spawn_app().await;
    let f = app.create_firm(firm_body(4)).await;
    let id = f["id"].as_str().expect("id");
    let post = |body: Value| {
        let app = &app;
        let path = format!("/v1/firms/{id}/listing-events");
        async move { app.post_json(&path, &app.admin_key, &body).await }
    };
    let ok = |stage: &str, on: &str| json!({"venue": "bse", "stage": stage, "reached_on": on});
    assert_eq!(post(ok("reserve", "2023-01-10")).await.status(), StatusCode::CREATED);
    assert_eq!(post(ok("shareholding_reform", "2023-05-01")).await.status(), StatusCode::CREATED);
    // Skipping from 股改 straight to 申报受理 is refused, naming what may come next.
    let resp = post(ok("application_accepted", "2023-06-01")).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let p = problem(resp).await;
    assert_eq!(p["code"], "illegal_stage_transition");
    assert!(p["allowed_next"].as_array().expect("allowed").contains(&json!("tutoring_filed")), "{p}");
    let resp = post(ok("tutoring_filed", "2099-01-01")).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "future dates are refused");
    let resp = post(ok("tutoring_filed", "2023-07-01")).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let wrong: Value = resp.json().await.expect("json");
    // The date was wrong: a correction event replaces it; history is not edited.
    let resp = post(
        json!({"venue": "bse", "stage": "tutoring_filed", "reached_on": "2023-07-15", "corrects": wrong["event_id"]}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let progress: Value =
        app.get(&format!("/v1/firms/{id}/listing-progress"), &app.admin_key).await.json().await.expect("json");
    let bse = progress["venues"].as_array().expect("venues").iter().find(|v| v["venue"] == "bse").expect("bse");
    assert_eq!(bse["current"], "tutoring_filed");
    assert_eq!(bse["since"], "2023-07-15");
    let history = bse["history"].as_array().expect("history");
    assert_eq!(history.len(), 3);
    assert_eq!(history[1]["stage"], "shareholding_reform");
    assert_eq!(history[1]["days"], 75, "2023-05-01 to the corrected 2023-07-15");
    assert_eq!(history[2]["corrected"], true);
    // The enterprise's financing status shows the same listing stage.
    let status: Value =
        app.get(&format!("/v1/firms/{id}/financing-status"), &app.admin_key).await.json().await.expect("json");
    assert!(
        status["listing_stage"]
            .as_array()
            .expect("stages")
            .iter()
            .any(|p| p["venue"] == "bse" && p["current"] == "tutoring_filed"),
        "{status}"
    );
    // The regional board needs a layer.
    let resp =
        post(json!({"venue": "regional_srdi_board", "stage": "regional_listed", "reached_on": "2023-03-01"})).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let resp = post(json!({"venue": "regional_srdi_board", "stage": "regional_listed", "reached_on": "2023-03-01", "layer": "cultivation"})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);

    // Each milestone is an outbox event for webhooks and mail.
    let firm_id: srdi_capital::domain::ids::FirmId = id.parse().expect("uuid");
    let events = srdi_capital::store::events::for_firm(&mut app.db.pool().acquire().await.expect("c"), firm_id)
        .await
        .expect("events");
    assert_eq!(events.iter().filter(|e| e.kind.as_str() == "listing.stage_reached").count(), 5);

    let ent = app.key_for(Role::Enterprise, Some(firm_id.uuid())).await;
    assert_eq!(app.get(&format!("/v1/firms/{id}/listing-progress"), &ent).await.status(), StatusCode::OK);
    assert_eq!(app.get(&format!("/v1/firms/{id}/readiness"), &ent).await.status(), StatusCode::OK);
    assert_eq!(
        app.post_json(&format!("/v1/firms/{id}/listing-events"), &ent, &ok("tutoring_accepted", "2023-09-01"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let other = app.create_firm(firm_body(5)).await;
    let other_id = other["id"].as_str().expect("id");
    assert_eq!(app.get(&format!("/v1/firms/{other_id}/readiness"), &ent).await.status(), StatusCode::FORBIDDEN);
    let bank = app.insert_bank("B1").await;
    let bank_key = app.key_for(Role::Bank, Some(bank)).await;
    assert_eq!(app.get(&format!("/v1/firms/{id}/tier-check"), &bank_key).await.status(), StatusCode::FORBIDDEN);
}

/// The statistics agree with counts the test makes itself from the API's own lists.
#[tokio::test]
async fn programme_statistics_match_independent_counts() {
    let app = spawn_app().await;
    let now = chrono::Utc::now();
    srdi_capital::seed::seed(&app.db, 120, 100, 5, now).await.expect("seed");
    // Page through every firm and count by tier and pool membership.
    let mut firms = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/firms?limit=50&cursor={c}"),
            None => "/v1/firms?limit=50".into(),
        };
        let page: Value = app.get(&path, &app.admin_key).await.json().await.expect("json");
        firms.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.into()),
            None => break,
        }
    }
    let count = |f: &dyn Fn(&Value) -> bool| firms.iter().filter(|x| f(x)).count() as i64;
    // Listing milestones for a few firms: two 股改 this year, one listed on BSE, one on the 专精特新板.
    let ids: Vec<String> = firms.iter().take(3).map(|f| f["id"].as_str().expect("id").to_owned()).collect();
    let this_year = now.date_naive().format("%Y").to_string();
    let today = now.date_naive().to_string();
    for (i, id) in ids.iter().enumerate() {
        let path = format!("/v1/firms/{id}/listing-events");
        let ev = |stage: &str, venue: &str| json!({"venue": venue, "stage": stage, "reached_on": today});
        if i < 2 {
            assert_eq!(
                app.post_json(&path, &app.admin_key, &ev("shareholding_reform", "bse")).await.status(),
                StatusCode::CREATED
            );
        }
        if i == 0 {
            for stage in ["neeq_listed", "neeq_innovation_layer"] {
                assert_eq!(
                    app.post_json(&path, &app.admin_key, &ev(stage, "neeq")).await.status(),
                    StatusCode::CREATED,
                    "{stage}"
                );
            }
            for stage in [
                "tutoring_filed",
                "tutoring_accepted",
                "application_accepted",
                "inquiry",
                "committee_approved",
                "registered",
                "listed",
            ] {
                assert_eq!(
                    app.post_json(&path, &app.admin_key, &ev(stage, "bse")).await.status(),
                    StatusCode::CREATED,
                    "{stage}"
                );
            }
        }
        if i == 2 {
            let body = json!({"venue": "regional_srdi_board", "stage": "regional_listed", "reached_on": today, "layer": "incubation"});
            assert_eq!(app.post_json(&path, &app.admin_key, &body).await.status(), StatusCode::CREATED);
        }
    }
    let stats: Value =
        app.get(&format!("/v1/stats/programme?year={this_year}"), &app.admin_key).await.json().await.expect("json");
    let a = &stats["actual"];
    assert_eq!(a["firms"], json!(firms.len()));
    assert_eq!(a["reserve_pool_size"], json!(count(&|f| f["in_reserve_pool"] == true)));
    assert_eq!(a["little_giant"], json!(count(&|f| f["tier"] == "little_giant")));
    assert_eq!(a["provincial_srdi"], json!(count(&|f| f["tier"] == "provincial_srdi")));
    assert_eq!(a["innovative_sme"], json!(count(&|f| f["tier"] == "innovative_sme")));
    assert_eq!(a["shareholding_reforms_in_year"], 2);
    assert_eq!(a["new_listings_since_2022"], 1);
    assert_eq!(a["new_listings_in_year"], 1);
    assert_eq!(a["srdi_board_firms"], 1);
    assert!(a["roadshows_in_year"].is_null() || a["roadshows_in_year"].is_number());
    // The pool target counts 专精特新 firms (provincial or 小巨人); every pool firm is shown beside it.
    let pool =
        stats["targets"].as_array().expect("targets").iter().find(|t| t["id"] == "srdi_reserve_pool").expect("pool");
    let srdi_in_pool =
        count(&|f| f["in_reserve_pool"] == true && (f["tier"] == "provincial_srdi" || f["tier"] == "little_giant"));
    assert_eq!((&pool["target"], &pool["actual"]), (&json!("1000"), &json!(srdi_in_pool.to_string())));
    assert_eq!(pool["actual_all_firms"], json!(a["reserve_pool_size"].to_string()));
    let qingdao =
        stats["by_city"].as_array().expect("cities").iter().find(|c| c["city"] == "qingdao").expect("qingdao");
    assert_eq!(qingdao["firms"], json!(count(&|f| f["city"] == "qingdao")));

    // The little giants' mean R&D ratio, computed here from their financials.
    let year = now.date_naive().format("%Y").to_string().parse::<i32>().expect("year") - 1;
    let mut ratios = Vec::new();
    for f in firms.iter().filter(|f| f["tier"] == "little_giant") {
        let fin: Value = app
            .get(&format!("/v1/firms/{}/financials", f["id"].as_str().expect("id")), &app.admin_key)
            .await
            .json()
            .await
            .expect("json");
        if let Some(y) = fin["items"].as_array().expect("items").iter().find(|y| y["fiscal_year"] == year) {
            let rd: f64 = y["rd_expense"].as_str().expect("rd").parse().expect("num");
            let rev: f64 = y["revenue"].as_str().expect("rev").parse().expect("num");
            ratios.push(rd / rev * 100.0);
        }
    }
    let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
    let reported: f64 = a["little_giant_avg_rd_ratio_pct"].as_str().expect("pct").parse().expect("num");
    assert!((mean - reported).abs() < 0.01, "computed {mean}, reported {reported}");

    let csv = app
        .req(Method::GET, "/v1/stats/programme", Some(&app.admin_key))
        .header("Accept", "text/csv")
        .send()
        .await
        .expect("req");
    let text = csv.text().await.expect("text");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("parses");
    assert!(rows.iter().any(|r| &r[2] == "reserve_pool_size" && r[3] == *a["reserve_pool_size"].to_string()));
    assert!(rows.iter().any(|r| &r[0] == "target"
        && &r[2] == "srdi_reserve_pool"
        && r[3] == srdi_in_pool.to_string()
        && &r[4] == "1000"));
    let ent = app.key_for(Role::Enterprise, Some(ids[0].parse().expect("uuid"))).await;
    assert_eq!(app.get("/v1/stats/programme", &ent).await.status(), StatusCode::FORBIDDEN);
}

/// NEEQ milestones update the firm record that readiness and statistics read; a BSE application
/// needs the innovation layer; a firm listed on the BSE leaves the NEEQ counts.
#[tokio::test]
async fn neeq_and_exchange_milestones_update_the_firm_record() {
    let app = spawn_app().await;
    let f = app.create_firm(firm_body(7)).await;
    let id = f["id"].as_str().expect("id").to_owned();
    assert!(f["neeq_listed_on"].is_null() && f["neeq_layer"].is_null());
    let path = format!("/v1/firms/{id}/listing-events");
    let post = |venue: &str, stage: &str, on: &str| {
        let body = json!({"venue": venue, "stage": stage, "reached_on": on});
        let (app, path) = (&app, path.clone());
        async move { app.post_json(&path, &app.admin_key, &body).await }
    };
    let created = |resp: reqwest::Response| {
        assert_eq!(resp.status(), StatusCode::CREATED);
    };
    let neeq_missing = |report: &Value| -> bool { report["venues"].to_string().contains("not quoted on NEEQ") };
    let bse = || {
        let app = &app;
        let path = format!("/v1/firms/{id}/readiness?venue=bse");
        let key = app.admin_key.clone();
        async move { app.get(&path, &key).await.json::<Value>().await.expect("json") }
    };
    let firm = || {
        let app = &app;
        let path = format!("/v1/firms/{id}");
        let key = app.admin_key.clone();
        async move { app.get(&path, &key).await.json::<Value>().await.expect("json") }
    };
    let neeq_stage_count = || {
        let app = &app;
        let key = app.admin_key.clone();
        async move {
            let stats: Value = app.get("/v1/stats/programme?year=2025", &key).await.json().await.expect("json");
            stats["by_venue"]
                .as_array()
                .expect("venues")
                .iter()
                .filter(|v| v["venue"] == "neeq")
                .flat_map(|v| v["stages"].as_array().expect("stages").iter())
                .map(|s| s["firms"].as_i64().expect("n"))
                .sum::<i64>()
        }
    };
    assert!(neeq_missing(&bse().await), "before: the BSE rules ask for the NEEQ quotation");

    // A BSE application before the innovation layer is refused, saying why.
    created(post("bse", "tutoring_filed", "2023-01-10").await);
    created(post("bse", "tutoring_accepted", "2023-04-10").await);
    let resp = post("bse", "application_accepted", "2023-05-10").await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let p = problem(resp).await;
    assert_eq!(p["code"], "neeq_innovation_layer_required");
    assert!(p["detail"].as_str().expect("detail").contains("innovation layer"), "{p}");

    created(post("neeq", "neeq_listed", "2022-03-01").await);
    let rec = firm().await;
    assert_eq!((rec["neeq_listed_on"].as_str(), rec["neeq_layer"].as_str()), (Some("2022-03-01"), Some("basic")));
    assert!(!neeq_missing(&bse().await), "readiness reads the recorded quotation");
    created(post("neeq", "neeq_innovation_layer", "2023-05-01").await);
    assert_eq!(firm().await["neeq_layer"], "innovation");
    assert_eq!(neeq_stage_count().await, 1, "counted on the NEEQ while quoted");

    for (stage, on) in [
        ("application_accepted", "2023-06-01"),
        ("inquiry", "2023-07-01"),
        ("committee_approved", "2023-09-01"),
        ("registered", "2023-10-01"),
        ("listed", "2023-11-01"),
    ] {
        created(post("bse", stage, on).await);
    }
    let rec = firm().await;
    assert!(rec["neeq_layer"].is_null(), "a BSE-listed firm is no longer on a NEEQ layer: {rec}");
    assert_eq!(neeq_stage_count().await, 0, "and leaves the NEEQ counts");
}
