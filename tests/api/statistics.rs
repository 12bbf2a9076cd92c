//! Programme statistics against the plan's targets, from a small population built through the API,
//! so that every figure can be worked out by hand.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use srdi_capital::clock::ManualClock;
use srdi_capital::domain::access::Role;
use uuid::Uuid;

use crate::helpers::*;

async fn ok(resp: reqwest::Response) -> Value {
    let status = resp.status();
    let text = resp.text().await.expect("text");
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// A firm with one fiscal-2024 year: revenue 1亿, the given R&D and main-business revenue.
async fn firm(app: &TestApp, n: usize, tier: Option<(&str, i32)>, rd: &str, main: &str, patents: i64) -> String {
    let mut body = firm_body(n);
    match tier {
        Some((t, year)) => {
            body["tier"] = json!(t);
            body["tier_recognized_year"] = json!(year);
        }
        None => {
            body.as_object_mut().expect("object").remove("tier");
        }
    }
    let id = app.create_firm(body).await["id"].as_str().expect("id").to_owned();
    let year = json!({"revenue": "100000000.00", "rd_expense": rd, "main_business_revenue": main, "invention_patents": patents,
                      "net_profit": "8000000.00", "net_profit_deducted": "7500000.00"});
    ok(app.put_json(&format!("/v1/firms/{id}/financials/2024"), &app.admin_key, &year).await).await;
    id
}

async fn milestones(app: &TestApp, id: &str, venue: &str, stages: &[(&str, &str)]) {
    for (stage, on) in stages {
        let mut body = json!({"venue": venue, "stage": stage, "reached_on": on});
        if *stage == "regional_listed" {
            body["layer"] = json!("standardization");
        }
        let resp = app.post_json(&format!("/v1/firms/{id}/listing-events"), &app.admin_key, &body).await;
        assert_eq!(resp.status(), StatusCode::CREATED, "{venue} {stage}");
    }
}

async fn tier_inputs(app: &TestApp, id: &str, year: i32, body: Value) {
    ok(app.put_json(&format!("/v1/firms/{id}/tier-inputs/{year}"), &app.admin_key, &body).await).await;
}

/// A loan of `amount` disbursed to the firm through the application path, dated on the clock's day.
async fn disbursed_loan(app: &TestApp, firm: &str, amount: &str) {
    let resp = app
        .post_json(
            "/v1/banks",
            &app.admin_key,
            &json!({"name": "统计银行", "code": "STATS", "contact_email": "sme@bank.example.cn"}),
        )
        .await;
    let bank: Uuid = ok(resp).await["id"].as_str().expect("id").parse().expect("uuid");
    let bank_key = ok(app.post_json(&format!("/v1/banks/{bank}/keys"), &app.admin_key, &json!({"label": "t"})).await)
        .await["key"]
        .as_str()
        .expect("key")
        .to_owned();
    let product = json!({
        "name": "专精特新贷", "kind": "srdi_loan", "amount_min": "500000.00", "amount_max": "10000000.00",
        "term_months_min": 6, "term_months_max": 36, "rate_spread_bp": -20, "collateral": ["credit"],
        "eligibility": {"tiers": ["provincial_srdi"], "min_revenue": "10000000", "min_years_in_operation": 2},
    });
    let product =
        ok(app.post_json("/v1/products", &bank_key, &product).await).await["id"].as_str().expect("id").to_owned();
    srdi_capital::service::matching::drain(&app.db, &*app.clock).await.expect("drain");
    let ent = app.key_for(Role::Enterprise, Some(firm.parse().expect("uuid"))).await;
    let application = json!({"product_id": product, "amount": amount, "term_months": 12, "purpose": "采购研发设备"});
    let id =
        ok(app.post_json("/v1/applications", &ent, &application).await).await["id"].as_str().expect("id").to_owned();
    for step in [
        json!({"status": "under_review"}),
        json!({"status": "approved", "approved_amount": amount, "approved_term_months": 12, "approved_rate": "3.10"}),
        json!({"status": "disbursed", "disbursed_amount": amount}),
    ] {
        ok(app.post_json(&format!("/v1/applications/{id}/transitions"), &bank_key, &step).await).await;
    }
}

fn target<'a>(stats: &'a Value, id: &str) -> &'a Value {
    stats["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("{id} missing"))
}

/// (actual, target, status) of a target, as strings for comparison.
fn row(stats: &Value, id: &str) -> (String, String, String) {
    let t = target(stats, id);
    let s = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    (s(&t["actual"]), s(&t["target"]), s(&t["status"]))
}

fn r(actual: &str, target: &str, status: &str) -> (String, String, String) {
    (actual.to_owned(), target.to_owned(), status.to_owned())
}

/// Every counting decision on a population small enough to work out by hand:
/// * A (provincial 2023), B (provincial 2021), C (小巨人 2023, provincial 2020), D (小巨人 2024,
///   provincial year unknown), E (创新型), F (no tier);
/// * R&D 3% / 2.99% / 7% / 7%, main business 80% / 79.99% / 90% / 90%, patents 10 / – / 20 / 10.
#[tokio::test]
async fn targets_are_counted_as_documented() {
    let app = spawn_app_with_clock(ManualClock::new("2025-07-01T02:00:00Z".parse().expect("time"))).await;
    let a = firm(&app, 1, Some(("provincial_srdi", 2023)), "3000000.00", "80000000.00", 10).await;
    let b = firm(&app, 2, Some(("provincial_srdi", 2021)), "2990000.00", "79990000.00", 4).await;
    let c = firm(&app, 3, Some(("little_giant", 2023)), "7000000.00", "90000000.00", 20).await;
    let _d = firm(&app, 4, Some(("little_giant", 2024)), "7000000.00", "90000000.00", 10).await;
    let _e = firm(&app, 5, Some(("innovative_sme", 2022)), "1000000.00", "50000000.00", 0).await;
    let f = firm(&app, 6, None, "1000000.00", "50000000.00", 0).await;
    let rec = json!({"tier_recognitions": [{"tier": "provincial_srdi", "recognized_year": 2020}, {"tier": "little_giant", "recognized_year": 2023}]});
    ok(app.patch_json(&format!("/v1/firms/{c}/readiness-inputs"), &app.admin_key, &rec).await).await;

    // Tier inputs for fiscal 2024 (and 2023 for the cloud migration of the year).
    tier_inputs(&app, &a, 2023, json!({"cloud_migrated": false})).await;
    tier_inputs(&app, &a, 2024, json!({"digitalisation_level": 2, "cloud_migrated": true, "key_chain_supplier": true, "rd_institution_level": "municipal"})).await;
    tier_inputs(
        &app,
        &b,
        2024,
        json!({"digitalisation_level": 1, "cloud_migrated": false, "rd_institution_level": "no_institution"}),
    )
    .await;
    tier_inputs(&app, &c, 2024, json!({"digitalisation_level": 3, "cloud_migrated": true, "key_chain_supplier": true, "rd_institution_level": "national"})).await;

    // Pool: A, C and F. Listings: C on the BSE in 2025, F on STAR in 2024. Board: A and F.
    // 股改 in 2025: A and F.
    for id in [&a, &c, &f] {
        ok(app.post_json("/v1/reserve-pool", &app.admin_key, &json!({"firm_id": id, "target_venue": "bse"})).await)
            .await;
    }
    let listing = [
        ("tutoring_filed", "2025-01-05"),
        ("tutoring_accepted", "2025-02-05"),
        ("application_accepted", "2025-02-20"),
        ("inquiry", "2025-03-01"),
        ("committee_approved", "2025-04-01"),
        ("registered", "2025-05-01"),
        ("listed", "2025-06-01"),
    ];
    milestones(&app, &c, "neeq", &[("neeq_listed", "2022-03-01"), ("neeq_innovation_layer", "2023-05-01")]).await;
    milestones(&app, &c, "bse", &listing).await;
    let mut star = vec![
        ("tutoring_filed", "2023-06-01"),
        ("tutoring_accepted", "2023-09-01"),
        ("application_accepted", "2023-10-01"),
        ("inquiry", "2023-11-01"),
        ("committee_approved", "2024-02-01"),
        ("registered", "2024-03-01"),
        ("listed", "2024-04-01"),
    ];
    star.insert(0, ("shareholding_reform", "2023-01-10"));
    milestones(&app, &f, "star", &star).await;
    milestones(&app, &a, "regional_srdi_board", &[("regional_listed", "2024-05-01")]).await;
    milestones(&app, &f, "regional_srdi_board", &[("regional_listed", "2024-05-01")]).await;
    milestones(&app, &a, "neeq", &[("shareholding_reform", "2025-03-01")]).await;
    milestones(&app, &b, "neeq", &[("shareholding_reform", "2024-03-01")]).await;
    let f_reform = json!({"venue": "neeq", "stage": "shareholding_reform", "reached_on": "2025-04-01"});
    assert_eq!(
        app.post_json(&format!("/v1/firms/{f}/listing-events"), &app.admin_key, &f_reform).await.status(),
        StatusCode::CREATED
    );

    // Industrial capital: A in 2025 (counted), B in 2024 (the year before).
    for (id, on) in [(&a, "2025-02-01"), (&b, "2024-06-01")] {
        let rounds = json!({"equity_financings": {"rounds": [{"paid_in_on": on, "amount": "30000000.00", "investor_kind": "industrial_capital"}]}});
        ok(app.patch_json(&format!("/v1/firms/{id}/readiness-inputs"), &app.admin_key, &rounds).await).await;
    }
    disbursed_loan(&app, &a, "2000000.00").await;

    let stats = ok(app.get("/v1/stats/programme?year=2025", &app.admin_key).await).await;
    assert_eq!((stats["year"].as_i64(), stats["fiscal_year"].as_i64()), (Some(2025), Some(2024)));
    // A 小巨人 holds the provincial title: 4 toward the 10,000; the exact-tier count stays 2.
    assert_eq!(row(&stats, "provincial_srdi_cumulative"), r("4", "10000", "not_met"));
    assert_eq!(stats["actual"]["provincial_srdi"], 2);
    assert_eq!(row(&stats, "innovative_sme_in_pool"), r("5", "20000", "not_met"));
    // New provincial titles since 2022: A only; D's provincial year is not recorded.
    assert_eq!(row(&stats, "provincial_srdi_new"), r("1", "4000", "not_met"));
    assert_eq!(target(&stats, "provincial_srdi_new")["firms_year_unknown"], 1);
    assert_eq!(row(&stats, "little_giant_new"), r("2", "400", "not_met"));
    // 普遍 ≥ 3%: the share of firms at or above 3% (A, C, D of four), not the mean.
    assert_eq!(row(&stats, "provincial_srdi_rd_ratio"), r("75", "100", "not_met"));
    assert_eq!(target(&stats, "provincial_srdi_rd_ratio")["firms_counted"], 4);
    assert_eq!(row(&stats, "srdi_main_business_share"), r("75", "100", "not_met"));
    // 平均超过7%: a mean of exactly 7% is not above it; 平均15项以上: a mean of 15 is.
    assert_eq!(row(&stats, "little_giant_rd_ratio"), r("7", "7", "not_met"));
    assert_eq!(row(&stats, "little_giant_invention_patents"), r("15", "15", "met"));
    // Shares over the firms whose tier inputs say: 3 of the 4 have them.
    assert_eq!(row(&stats, "provincial_srdi_digital_transformation"), r("66.6666", "80", "not_met"));
    assert_eq!(row(&stats, "srdi_digital_application"), r("100", "80", "met"));
    assert_eq!(row(&stats, "srdi_cloud_migration"), r("66.6666", "80", "not_met"));
    assert_eq!(row(&stats, "provincial_srdi_rd_institution_coverage"), r("66.6666", "100", "not_met"));
    assert_eq!(row(&stats, "little_giant_rd_platform_coverage"), r("100", "100", "met"));
    assert_eq!(row(&stats, "little_giant_digital_transformation"), r("100", "100", "met"));
    assert_eq!(row(&stats, "provincial_srdi_key_chain_supply"), r("100", "80", "met"));
    assert_eq!(target(&stats, "provincial_srdi_key_chain_supply")["population"], 4);
    assert_eq!(row(&stats, "cloud_migrations_per_year"), r("1", "1000", "not_met"));
    // 专精特新 firms and all firms, separately.
    assert_eq!(row(&stats, "srdi_reserve_pool"), r("2", "1000", "not_met"));
    assert_eq!(target(&stats, "srdi_reserve_pool")["actual_all_firms"], "3");
    assert_eq!(row(&stats, "srdi_new_listings"), r("1", "80", "not_met"));
    assert_eq!(target(&stats, "srdi_new_listings")["actual_all_firms"], "2");
    assert_eq!(row(&stats, "srdi_board"), r("1", "400", "not_met"));
    assert_eq!(target(&stats, "srdi_board")["actual_all_firms"], "2");
    assert_eq!(row(&stats, "srdi_shareholding_reforms_per_year"), r("1", "100", "not_met"));
    assert_eq!(target(&stats, "srdi_shareholding_reforms_per_year")["actual_all_firms"], "2");
    // Task 20: industrial-capital rounds of the year; task 19: more credit than last year.
    assert_eq!(row(&stats, "industrial_capital_projects_per_year"), r("1", "10", "not_met"));
    assert_eq!(row(&stats, "industrial_capital_amount_per_year"), r("30000000.00", "5000000000", "not_met"));
    assert_eq!(row(&stats, "srdi_credit_growth"), r("2000000.00", "0.00", "met"));
    // What the service cannot count says why.
    let platforms = target(&stats, "provincial_service_platforms_new");
    assert_eq!((&platforms["status"], &platforms["actual"]), (&json!("not_tracked"), &Value::Null));
    assert!(platforms["not_tracked_reason"].as_str().is_some_and(|s| !s.is_empty()));
    for t in stats["targets"].as_array().expect("targets") {
        let tracked = t["status"] != "not_tracked";
        assert_eq!(tracked, t["counting"].is_string(), "{t}");
        assert_eq!(!tracked, t["not_tracked_reason"].is_string(), "{t}");
        assert!(t["wording_zh"].as_str().is_some_and(|w| !w.is_empty()) && t["section"].is_string());
    }

    // The CSV carries the same rows.
    let csv = app
        .req(Method::GET, "/v1/stats/programme?year=2025", Some(&app.admin_key))
        .header("Accept", "text/csv")
        .send()
        .await
        .expect("req")
        .text()
        .await
        .expect("text");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(
        reader.headers().expect("header").iter().collect::<Vec<_>>(),
        ["section", "dimension", "metric", "actual", "target", "status", "note"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("parses");
    let find = |metric: &str| rows.iter().find(|r| &r[0] == "target" && &r[2] == metric).cloned().expect(metric);
    let little = find("little_giant_rd_ratio");
    assert_eq!((&little[1], &little[3], &little[4], &little[5]), ("三(二)", "7", "7", "not_met"));
    assert!(little[6].contains("平均超过7%"));
    assert_eq!(&find("srdi_reserve_pool:all_firms")[3], "3");
    assert_eq!(&find("vocational_schools")[5], "not_tracked");
}
