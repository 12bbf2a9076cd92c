//! Readiness and tier inputs end to end: written through the API (or the import), stored, and read
//! back in the readiness and tier-check answers; scoped to the office and the firm itself.

use reqwest::StatusCode;
use serde_json::{Value, json};
use srdi_capital::clock::ManualClock;
use srdi_capital::domain::access::Role;

use crate::helpers::*;

/// The service's "today" in these tests: fiscal 2024 is the latest year, its audit is out.
fn mid_2025() -> ManualClock {
    ManualClock::new("2025-07-01T02:00:00Z".parse().expect("time"))
}

async fn json_of(resp: reqwest::Response) -> Value {
    let status = resp.status();
    let body: Value = resp.json().await.expect("json");
    assert!(status.is_success(), "{status}: {body}");
    body
}

/// The report for one venue and scope.
fn venue<'a>(report: &'a Value, venue: &str, scope: &str) -> &'a Value {
    report["venues"]
        .as_array()
        .expect("venues")
        .iter()
        .find(|v| v["venue"] == venue && v["scope"] == scope)
        .unwrap_or_else(|| panic!("{venue} {scope} missing in {report}"))
}

fn standard<'a>(v: &'a Value, code: &str) -> &'a Value {
    v["entry_conditions"]
        .as_array()
        .expect("entry")
        .iter()
        .chain(v["standards"].as_array().expect("standards"))
        .find(|s| s["code"] == code)
        .unwrap_or_else(|| panic!("{code} missing in {v}"))
}

/// A criterion of a standard, searched in its best variant, its other variants and any-of options.
fn criterion<'a>(s: &'a Value, name: &str) -> &'a Value {
    let mut all: Vec<&Value> = s["criteria"].as_array().expect("criteria").iter().collect();
    for v in s["other_variants"].as_array().expect("variants") {
        all.extend(v["criteria"].as_array().expect("criteria"));
    }
    let options: Vec<&Value> = all.iter().flat_map(|c| c["any_of"].as_array().expect("any_of")).collect();
    all.into_iter().chain(options).find(|c| c["name"] == name).unwrap_or_else(|| panic!("{name} missing in {s}"))
}

async fn put_year(app: &TestApp, key: &str, firm: &str, year: i32, body: Value) {
    let resp = app.put_json(&format!("/v1/firms/{firm}/financials/{year}"), key, &body).await;
    assert_eq!(resp.status(), StatusCode::OK, "{year}: {:?}", resp.text().await);
}

/// A NEEQ candidate's figures: profits above 1,000万 both years, ROE 18% before and 17% after 扣非,
/// audited in April of the following year.
async fn neeq_candidate(app: &TestApp, n: usize) -> (String, String) {
    let firm = app.create_firm(firm_body(n)).await;
    let id = firm["id"].as_str().expect("id").to_owned();
    for (year, profit) in [(2023, "11000000.00"), (2024, "12000000.00")] {
        let body = json!({
            "revenue": "90000000.00", "net_profit": profit, "net_profit_deducted": profit,
            "net_assets": "60000000.00", "weighted_roe": "18", "weighted_roe_deducted": "17",
            "audited_on": format!("{}-04-20", year + 1),
        });
        put_year(app, &app.admin_key, &id, year, body).await;
    }
    let key = app.key_for(Role::Enterprise, Some(id.parse().expect("uuid"))).await;
    (id, key)
}

/// Share capital written by the firm takes it to `met` on the NEEQ listing and innovation-layer
/// standards; readiness on a date before the capital increase reads the older figure.
#[tokio::test]
async fn share_capital_takes_a_neeq_candidate_to_met() {
    let app = spawn_app_with_clock(mid_2025()).await;
    let (id, ent) = neeq_candidate(&app, 1).await;
    let readiness = |as_of: &'static str| {
        let (app, id) = (&app, id.clone());
        async move {
            json_of(app.get(&format!("/v1/firms/{id}/readiness?venue=neeq&as_of={as_of}"), &app.admin_key).await).await
        }
    };
    let before = readiness("2025-06-30").await;
    let general = standard(venue(&before, "neeq", "listing"), "neeq_general");
    assert_eq!(general["verdict"], "unknown", "{general}");
    assert_eq!(criterion(general, "share_capital")["missing"], json!(["share_capital"]));

    let patch = json!({"share_capital": [
        {"effective_on": "2020-06-01", "amount": "10000000.00", "document_ref": "鲁市监登字〔2020〕1号"},
        {"effective_on": "2024-11-01", "amount": "30000000.00"}
    ]});
    let doc = json_of(app.patch_json(&format!("/v1/firms/{id}/readiness-inputs"), &ent, &patch).await).await;
    assert_eq!(doc["share_capital"][1]["source"], "firm", "an enterprise key writes as the firm: {doc}");

    let after = readiness("2025-06-30").await;
    for scope in ["listing", "innovation_layer"] {
        let v = venue(&after, "neeq", scope);
        assert_eq!(v["eligible"], true, "{scope}: {v}");
        assert_eq!((v["latest_fiscal_year"].as_i64(), &v["latest_fiscal_year_basis"]), (Some(2024), &json!("audited")));
    }
    let inn = venue(&after, "neeq", "innovation_layer");
    assert_eq!(inn["eligible_standards"], json!(["neeq_innovation_1"]));
    let roe = criterion(standard(inn, "neeq_innovation_1"), "weighted_roe_average_2y");
    assert_eq!(roe["actual"], "17", "the lower of 18% and 17%: {roe}");
    let capital = criterion(standard(inn, "neeq_innovation_1"), "share_capital");
    assert_eq!(capital["actual"], "30000000.00");
    // On 2024-10-31 the capital was still 1,000万: below the innovation layer's 2,000万.
    let earlier = readiness("2024-10-31").await;
    let capital =
        criterion(standard(venue(&earlier, "neeq", "innovation_layer"), "neeq_innovation_1"), "share_capital");
    assert_eq!((&capital["verdict"], &capital["actual"]), (&json!("not_met"), &json!("10000000.00")));

    // Every bad field is named with its path.
    let bad = json!({
        "share_capital": [{"effective_on": "2026-01-01", "amount": "0"}],
        "equity_financings": {"rounds": [{"amount": "abc", "investor_kind": "uncle"}]},
        "market_value_estimates": [{"estimated_on": "2025-01-01"}]
    });
    let resp = app.patch_json(&format!("/v1/firms/{id}/readiness-inputs"), &ent, &bad).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p = problem(resp).await;
    let fields: Vec<&str> =
        p["errors"].as_array().expect("errors").iter().map(|e| e["field"].as_str().expect("f")).collect();
    for f in [
        "share_capital[0].effective_on",
        "share_capital[0].amount",
        "market_value_estimates[0].amount",
        "equity_financings.rounds[0].paid_in_on",
        "equity_financings.rounds[0].amount",
        "equity_financings.rounds[0].investor_kind",
    ] {
        assert!(fields.contains(&f), "{f} not named in {p}");
    }
    // Nothing of the bad patch was stored.
    let doc = json_of(app.get(&format!("/v1/firms/{id}/readiness-inputs"), &ent).await).await;
    assert_eq!(doc["share_capital"].as_array().map(Vec::len), Some(2));
}

/// An evaluation on a past date uses the estimate valid then, never a later one.
#[tokio::test]
async fn market_value_estimates_are_read_as_of_the_date() {
    let app = spawn_app_with_clock(mid_2025()).await;
    let mut body = firm_body(2);
    body["expected_market_value"] = json!("1200000000.00");
    let firm = app.create_firm(body).await;
    let id = firm["id"].as_str().expect("id").to_owned();
    for year in [2023, 2024] {
        put_year(&app, &app.admin_key, &id, year, json!({"revenue": "250000000.00", "rd_expense": "25000000.00"}))
            .await;
    }
    // The firm record's figure is kept as an estimate dated the day it was written.
    let doc = json_of(app.get(&format!("/v1/firms/{id}/readiness-inputs"), &app.admin_key).await).await;
    assert_eq!(
        doc["market_value_estimates"],
        json!([{"estimated_on": "2025-07-01", "amount": "1200000000.00", "basis": null, "document_ref": null, "source": "firm_record"}])
    );
    let bse3 =
        |report: &Value| criterion(standard(venue(report, "bse", "listing"), "bse_3"), "expected_market_value").clone();
    let on = |date: &'static str| {
        let (app, id) = (&app, id.clone());
        async move {
            json_of(app.get(&format!("/v1/firms/{id}/readiness?venue=bse&as_of={date}"), &app.admin_key).await).await
        }
    };
    // Before that day there was no estimate: unknown, where today's figure used to be applied.
    let c = bse3(&on("2025-06-30").await);
    assert_eq!((&c["verdict"], &c["missing"]), (&json!("unknown"), &json!(["expected_market_value"])));

    let patch = json!({"market_value_estimates": [
        {"estimated_on": "2025-03-01", "amount": "300000000.00", "basis": "可比公司法"},
        {"estimated_on": "2025-06-01", "amount": "900000000.00", "basis": "保荐机构预估", "document_ref": "券商估值报告2025-06"}
    ]});
    json_of(app.patch_json(&format!("/v1/firms/{id}/readiness-inputs"), &app.admin_key, &patch).await).await;
    let c = bse3(&on("2025-05-31").await);
    assert_eq!((&c["verdict"], &c["actual"]), (&json!("not_met"), &json!("300000000.00")), "{c}");
    assert!(c["note"].as_str().expect("note").contains("estimate of 2025-03-01"), "{c}");
    let c = bse3(&on("2025-06-30").await);
    assert_eq!((&c["verdict"], &c["actual"]), (&json!("met"), &json!("900000000.00")), "{c}");
}

/// Attestations are dated and attributed: the firm's own are marked self-declared, office-only
/// keys refuse the firm, unknown keys are named.
#[tokio::test]
async fn attestations_are_attributed_and_office_only_keys_refuse_the_firm() {
    let app = spawn_app_with_clock(mid_2025()).await;
    let firm = app.create_firm(firm_body(3)).await;
    let id = firm["id"].as_str().expect("id").to_owned();
    let ent = app.key_for(Role::Enterprise, Some(id.parse().expect("uuid"))).await;
    let path = format!("/v1/firms/{id}/attestations");
    let resp = app
        .post_json(
            &path,
            &ent,
            &json!({"key": "star5_major_business_approved", "holds": true, "document_ref": "药临批〔2025〕7号"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let s: Value = resp.json().await.expect("json");
    assert_eq!((&s["source"], &s["stated_on"]), (&json!("self_declared"), &json!("2025-07-01")));

    let resp = app.post_json(&path, &ent, &json!({"key": "srdi_potential", "holds": true})).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "the office's judgement");
    let resp = app.post_json(&path, &app.admin_key, &json!({"key": "srdi_potential", "holds": true})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = app
        .post_json(&path, &ent, &json!({"key": "made_up_condition", "holds": true, "stated_on": "2030-01-01"}))
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p = problem(resp).await;
    let fields: Vec<&str> =
        p["errors"].as_array().expect("e").iter().map(|e| e["field"].as_str().expect("f")).collect();
    assert_eq!(fields, ["key", "stated_on"]);

    let list = json_of(app.get(&path, &ent).await).await;
    assert_eq!(list["statements"].as_array().map(Vec::len), Some(2));
    let key = |k: &str| list["keys"].as_array().expect("keys").iter().find(|x| x["key"] == k).cloned().expect("key");
    assert_eq!(key("srdi_potential")["office_only"], true);
    assert_eq!(key("lg_own_brand")["office_only"], false);

    // The verdict that rests on the firm's statement says so.
    let report = json_of(app.get(&format!("/v1/firms/{id}/readiness?venue=star&as_of=2025-07-01"), &ent).await).await;
    let c = criterion(standard(venue(&report, "star", "listing"), "star_5"), "major_business_approved");
    assert_eq!(c["verdict"], "met");
    assert_eq!(c["attestation"]["source"], "self_declared");
    assert!(c["note"].as_str().expect("note").contains("self-declared"), "{c}");
    // Before it was stated, it was unknown.
    let report = json_of(app.get(&format!("/v1/firms/{id}/readiness?venue=star&as_of=2025-06-30"), &ent).await).await;
    let c = criterion(standard(venue(&report, "star", "listing"), "star_5"), "major_business_approved");
    assert_eq!(c["verdict"], "unknown");
    // The office's later denial supersedes it.
    let resp =
        app.post_json(&path, &app.admin_key, &json!({"key": "star5_major_business_approved", "holds": false})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let report = json_of(app.get(&format!("/v1/firms/{id}/readiness?venue=star&as_of=2025-07-01"), &ent).await).await;
    let c = criterion(standard(venue(&report, "star", "listing"), "star_5"), "major_business_approved");
    assert_eq!((&c["verdict"], &c["attestation"]["source"]), (&json!("not_met"), &json!("office")));
}

/// Only the office and the firm itself see or write a firm's inputs; a bank sees none of them,
/// even with the firm's consent (consent opens the match data, not these records).
#[tokio::test]
async fn inputs_are_scoped_to_the_office_and_the_firm() {
    let app = spawn_app_with_clock(mid_2025()).await;
    let a = app.create_firm(firm_body(4)).await["id"].as_str().expect("id").to_owned();
    let b = app.create_firm(firm_body(5)).await["id"].as_str().expect("id").to_owned();
    let ent_a = app.key_for(Role::Enterprise, Some(a.parse().expect("uuid"))).await;
    let bank = app.insert_bank("SCOPE").await;
    let bank_key = app.key_for(Role::Bank, Some(bank)).await;
    let (_, fund_key) = crate::roadshows::new_fund(&app, "范围测试基金").await;
    let resp = app.post_json(&format!("/v1/firms/{b}/consents"), &app.admin_key, &json!({"bank_id": bank})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);

    let patch = json!({"share_capital": [{"effective_on": "2024-01-01", "amount": "5000000.00"}]});
    let attest = json!({"key": "lg_own_brand", "holds": true});
    let year = json!({"digitalisation_level": 3});
    for (key, firm, expected) in [
        (&ent_a, &a, StatusCode::OK),
        (&ent_a, &b, StatusCode::FORBIDDEN),
        (&bank_key, &b, StatusCode::FORBIDDEN),
        (&fund_key, &b, StatusCode::FORBIDDEN),
    ] {
        let get = app.get(&format!("/v1/firms/{firm}/readiness-inputs"), key).await.status();
        let list = app.get(&format!("/v1/firms/{firm}/attestations"), key).await.status();
        let patched = app.patch_json(&format!("/v1/firms/{firm}/readiness-inputs"), key, &patch).await.status();
        let put = app.put_json(&format!("/v1/firms/{firm}/tier-inputs/2024"), key, &year).await.status();
        assert_eq!([get, list, patched, put], [expected; 4], "{firm}");
        let posted = app.post_json(&format!("/v1/firms/{firm}/attestations"), key, &attest).await.status();
        let created = if expected == StatusCode::OK { StatusCode::CREATED } else { expected };
        assert_eq!(posted, created);
    }
    // Recognitions are the office's to record.
    let rec = json!({"tier_recognitions": [{"tier": "provincial_srdi", "recognized_year": 2021}]});
    let resp = app.patch_json(&format!("/v1/firms/{a}/readiness-inputs"), &ent_a, &rec).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let doc = json_of(app.patch_json(&format!("/v1/firms/{a}/readiness-inputs"), &app.admin_key, &rec).await).await;
    assert_eq!(doc["tier_recognitions"][0]["recognized_year"], 2021);
    // Firm B's record is untouched by the refused writes.
    let doc = json_of(app.get(&format!("/v1/firms/{b}/readiness-inputs"), &app.admin_key).await).await;
    assert_eq!(
        (doc["share_capital"].as_array().map(Vec::len), doc["attestations"].as_array().map(Vec::len)),
        (Some(0), Some(0))
    );
}

/// The scoring inputs of the latest fiscal year, the qualitative attestations and a complete (empty)
/// financing record take a firm to 省级专精特新 and 小巨人 `met`; an unknown yes/no indicator shows
/// its two possible scores.
#[tokio::test]
async fn tier_inputs_take_a_firm_to_provincial_srdi_and_little_giant() {
    let app = spawn_app_with_clock(mid_2025()).await;
    let firm = app.create_firm(firm_body(6)).await;
    let id = firm["id"].as_str().expect("id").to_owned();
    let ent = app.key_for(Role::Enterprise, Some(id.parse().expect("uuid"))).await;
    for (year, revenue, main, rd) in [
        (2022, "100000000.00", "95000000.00", "6000000.00"),
        (2023, "120000000.00", "114000000.00", "7000000.00"),
        (2024, "150000000.00", "142500000.00", "9000000.00"),
    ] {
        let body = json!({
            "revenue": revenue, "main_business_revenue": main, "rd_expense": rd,
            "net_profit": "20000000.00", "net_profit_deducted": "19000000.00",
            "total_assets": "200000000.00", "total_liabilities": "60000000.00", "net_assets": "140000000.00",
            "employees": 200, "rd_staff": 50, "invention_patents": 12,
        });
        put_year(&app, &app.admin_key, &id, year, body).await;
    }
    let inputs = json!({
        "ip_best_class": "high_value_class_i", "class_i_ip_in_use": 5, "niche_market_years": "12",
        "product_chain_role": "fills_chain_gap", "digitalisation_level": 3, "quality_items": 3,
        "rd_institution_level": "national", "national_niche_market_share": "15",
        "provincial_key_industry": "provincial_plan_and_chain", "innovative_operation_items": 2,
        "niche_share_rank": "national_top3", "cloud_migrated": true, "key_chain_supplier": true
    });
    let resp = app.put_json(&format!("/v1/firms/{id}/tier-inputs/2024"), &ent, &inputs).await;
    assert_eq!(resp.status(), StatusCode::OK, "{:?}", resp.text().await);
    let bad = app
        .put_json(
            &format!("/v1/firms/{id}/tier-inputs/2024"),
            &ent,
            &json!({"digitalisation_level": 9, "niche_share_rank": "first"}),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p = problem(bad).await;
    assert_eq!(p["errors"].as_array().map(Vec::len), Some(2), "{p}");

    for key in ["lg_strategy_governance_credit", "lg_key_chain_link"] {
        let resp = app
            .post_json(&format!("/v1/firms/{id}/attestations"), &app.admin_key, &json!({"key": key, "holds": true}))
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    for (key, holds) in [
        ("lg_core_business_information_system", true),
        ("lg_management_or_product_certification", true),
        ("lg_own_brand", true),
        ("lg_priority_product_field", true),
        ("lg_not_single_champion_or_group_member", true),
        ("lg_national_st_award_top3_3y", false),
        ("lg_maker_china_top50_3y", false),
    ] {
        let resp =
            app.post_json(&format!("/v1/firms/{id}/attestations"), &ent, &json!({"key": key, "holds": holds})).await;
        assert_eq!(resp.status(), StatusCode::CREATED, "{key}");
    }
    let none = json!({"equity_financings": {"complete_through": "2025-06-30", "rounds": []}});
    json_of(app.patch_json(&format!("/v1/firms/{id}/readiness-inputs"), &ent, &none).await).await;

    let check = json_of(app.get(&format!("/v1/firms/{id}/tier-check?as_of=2025-07-01"), &ent).await).await;
    assert_eq!(check["scheme_status"], "in_force");
    let tier = |t: &str| {
        check["check"]["tiers"].as_array().expect("tiers").iter().find(|x| x["tier"] == t).cloned().expect("tier")
    };
    assert_eq!(tier("provincial_srdi")["verdict"], "met", "{}", tier("provincial_srdi"));
    assert_eq!(tier("little_giant")["verdict"], "met", "{}", tier("little_giant"));
    assert_eq!(check["check"]["highest_met"], "little_giant");
    // The strategic-emerging-industry answer was left out: 5 or 10 points, nothing in between.
    let field = check["check"]["scorecards"][0]["categories"]
        .as_array()
        .expect("categories")
        .iter()
        .flat_map(|c| c["indicators"].as_array().expect("indicators"))
        .find(|i| i["name"] == "field")
        .cloned()
        .expect("field");
    assert_eq!((&field["points"], &field["possible_points"]), (&Value::Null, &json!(["5", "10"])));
    // Shandong item 12 reads the listing record: nothing recorded, no points.
    let progress = check["check"]["scorecards"][1]["categories"]
        .as_array()
        .expect("categories")
        .iter()
        .flat_map(|c| c["indicators"].as_array().expect("indicators"))
        .find(|i| i["name"] == "listing_progress")
        .cloned()
        .expect("listing_progress");
    assert_eq!((&progress["choice"], &progress["points"]), (&json!("no_progress"), &json!("0")));
    // After 2026-04-01 the revised 办法 applies but is not loaded as data: the answer says so.
    let later = json_of(app.get(&format!("/v1/firms/{id}/tier-check?as_of=2026-04-01"), &ent).await).await;
    assert_eq!(later["scheme_status"], "superseded");
    assert!(later["note"].as_str().expect("note").contains("miit-2022-08-01"), "{later}");
}

/// Equity rounds: an incomplete record is a lower bound; completing it decides; the placement
/// valuations feed NEEQ innovation standard 3, the investors the regional board's layers.
#[tokio::test]
async fn equity_rounds_count_by_date_and_completeness() {
    let app = spawn_app_with_clock(mid_2025()).await;
    let firm = app
        .create_firm(json!({
            "credit_code": code(7), "name": "测试企业7有限公司", "industry_code": "C3562", "founded_on": "2012-05-18"
        }))
        .await;
    let id = firm["id"].as_str().expect("id").to_owned();
    for year in [2023, 2024] {
        put_year(&app, &app.admin_key, &id, year, json!({"revenue": "30000000.00", "rd_expense": "6000000.00"})).await;
    }
    let rounds = |amount: &str, complete: Option<&str>| {
        json!({"equity_financings": {"complete_through": complete, "rounds": [
            {"paid_in_on": "2024-03-15", "amount": amount, "post_money_valuation": "320000000.00",
             "round": "series_b", "investor": "齐鲁创投", "investor_kind": "vc_pe", "by_qualified_institution": true}
        ]}})
    };
    let neeq4 = |report: &Value| {
        criterion(standard(venue(report, "neeq", "listing"), "neeq_4"), "equity_financing_24m").clone()
    };
    let path = format!("/v1/firms/{id}/readiness?as_of=2025-06-30");
    let report = || {
        let fut = app.get(&path, &app.admin_key);
        async move { json_of(fut.await).await }
    };
    // (amount, complete through, NEEQ 4 financing verdict)
    for (amount, complete, verdict) in
        [("20000000.00", None, "met"), ("19999999.99", None, "unknown"), ("19999999.99", Some("2025-06-30"), "not_met")]
    {
        json_of(
            app.patch_json(&format!("/v1/firms/{id}/readiness-inputs"), &app.admin_key, &rounds(amount, complete))
                .await,
        )
        .await;
        let r = report().await;
        assert_eq!(neeq4(&r)["verdict"], verdict, "{amount} {complete:?}: {}", neeq4(&r));
    }
    let r = report().await;
    let valuation = criterion(
        standard(venue(&r, "neeq", "innovation_layer"), "neeq_innovation_3"),
        "lowest_post_money_valuation_24m",
    );
    assert_eq!((&valuation["verdict"], &valuation["actual"]), (&json!("met"), &json!("320000000.00")));
    let regional = venue(&r, "regional_srdi_board", "listing");
    assert_eq!(
        regional["eligible_standards"],
        json!(["regional_incubation", "regional_standardization"]),
        "{regional}"
    );
}

/// The import takes the new optional columns (CSV) and sections (JSON); a bad cell is named.
#[tokio::test]
async fn import_carries_the_new_inputs() {
    let app = spawn_app_with_clock(mid_2025()).await;
    let c = code(8);
    let csv = format!(
        "credit_code,name,industry_code,tier,provincial_srdi_recognized_year,little_giant_recognized_year,fiscal_year,revenue,weighted_roe,weighted_roe_deducted,audited_on,share_capital,digitalisation_level,cloud_migrated,rd_institution_level\n\
         {c},导入企业有限公司,C3562,little_giant,2020,2023,2023,50000000,12,11.5,2024-04-18,20000000,2,是,provincial\n\
         {c},导入企业有限公司,C3562,little_giant,2020,2023,2024,60000000,13,12.5,2025-04-18,30000000,3,yes,national\n"
    );
    let resp = app
        .req(reqwest::Method::POST, "/v1/firms/import", Some(&app.admin_key))
        .header("Content-Type", "text/csv")
        .body(csv.clone())
        .send()
        .await
        .expect("req");
    let report = json_of(resp).await;
    assert_eq!((report["created"].as_i64(), report["rejected"].as_i64()), (Some(1), Some(0)), "{report}");
    assert!(report["inputs_written"].as_i64().unwrap_or(0) >= 6, "{report}");
    let firms: Value = json_of(app.get("/v1/firms?q=导入企业", &app.admin_key).await).await;
    let id = firms["items"][0]["id"].as_str().expect("id").to_owned();
    let doc = json_of(app.get(&format!("/v1/firms/{id}/readiness-inputs"), &app.admin_key).await).await;
    assert_eq!(
        doc["share_capital"][1],
        json!({"effective_on": "2024-12-31", "amount": "30000000.00", "document_ref": null, "source": "office"})
    );
    assert_eq!(doc["tier_recognitions"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        (&doc["tier_inputs"][1]["digitalisation_level"], &doc["tier_inputs"][1]["cloud_migrated"]),
        (&json!(3), &json!(true))
    );
    let fin = json_of(app.get(&format!("/v1/firms/{id}/financials"), &app.admin_key).await).await;
    assert_eq!(
        (&fin["items"][1]["weighted_roe_deducted"], &fin["items"][1]["audited_on"]),
        (&json!("12.5"), &json!("2025-04-18"))
    );

    // A bad cell is named with its row; nothing of that firm's row is written.
    let bad = format!(
        "credit_code,name,industry_code,fiscal_year,digitalisation_level,cloud_migrated\n{},坏企业有限公司,C3562,2024,7,maybe\n",
        code(9)
    );
    let resp = app
        .req(reqwest::Method::POST, "/v1/firms/import", Some(&app.admin_key))
        .header("Content-Type", "text/csv")
        .body(bad)
        .send()
        .await
        .expect("req");
    let report = json_of(resp).await;
    let fields: Vec<&str> =
        report["errors"].as_array().expect("errors").iter().map(|e| e["field"].as_str().expect("f")).collect();
    assert!(
        fields.contains(&"cloud_migrated") && fields.contains(&"tier_inputs.2024.digitalisation_level"),
        "{report}"
    );

    // JSON: the same sections as the API, plus attestations (as the office).
    let items = json!([{
        "credit_code": code(10), "name": "导入企业十有限公司", "industry_code": "C3562",
        "financials": [{"fiscal_year": 2024, "revenue": "80000000"}],
        "share_capital": [{"effective_on": "2023-05-01", "amount": "25000000"}],
        "market_value_estimates": [{"estimated_on": "2025-05-01", "amount": "600000000", "basis": "定向发行价格"}],
        "equity_financings": {"complete_through": "2025-06-30", "rounds": [{"paid_in_on": "2024-08-01", "amount": "30000000", "investor_kind": "industrial_capital"}]},
        "attestations": [{"key": "lg_own_brand", "holds": true, "stated_on": "2025-01-02"}],
        "tier_inputs": [{"fiscal_year": 2024, "key_chain_supplier": true}]
    }]);
    for run in 0..2 {
        let report = json_of(app.post_json("/v1/firms/import", &app.admin_key, &items).await).await;
        assert_eq!(report["rejected"], 0, "{report}");
        let firms: Value = json_of(app.get("/v1/firms?q=导入企业十", &app.admin_key).await).await;
        let id = firms["items"][0]["id"].as_str().expect("id").to_owned();
        let doc = json_of(app.get(&format!("/v1/firms/{id}/readiness-inputs"), &app.admin_key).await).await;
        assert_eq!(doc["attestations"].as_array().map(Vec::len), Some(1), "run {run}: once, however often imported");
        assert_eq!(doc["attestations"][0]["source"], "office");
        assert_eq!(doc["equity_financings"]["rounds"][0]["investor_kind"], "industrial_capital");
        assert_eq!(doc["market_value_estimates"][0]["basis"], "定向发行价格");
    }
}
