//! An enterprise's journey: imported by the office from a spreadsheet, given its key by the
//! operator, it reads its readiness, its matches and near misses, grants and revokes consent
//! (the bank's view follows), applies for a loan and withdraws the application.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;
use crate::ok;

#[tokio::test]
async fn an_enterprise_reads_its_prospects_shares_its_data_and_applies() {
    let app = spawn_app().await;
    let admin = app.admin_key.clone();
    let bank = ok(app
        .post_json(
            "/v1/banks",
            &admin,
            &json!({"name": "泰山银行", "code": "TAISHAN", "contact_email": "sme@ts.example.cn"}),
        )
        .await)
    .await;
    let bank_id = bank["id"].as_str().expect("id").to_owned();
    let bank_key = ok(app.post_json(&format!("/v1/banks/{bank_id}/keys"), &admin, &json!({"label": "k"})).await).await
        ["key"]
        .as_str()
        .expect("key")
        .to_owned();
    let product = |name: &str, min_revenue: &str| {
        json!({"name": name, "kind": "srdi_loan", "amount_min": "500000.00", "amount_max": "10000000.00",
            "term_months_min": 6, "term_months_max": 36, "rate_spread_bp": -20, "collateral": ["credit"],
            "eligibility": {"tiers": ["provincial_srdi"], "min_revenue": min_revenue, "min_years_in_operation": 2}})
    };
    let reachable = ok(app.post_json("/v1/products", &bank_key, &product("专精特新贷", "10000000.00")).await).await;
    let reachable_id = reachable["id"].as_str().expect("id").to_owned();
    ok(app.post_json("/v1/products", &bank_key, &product("小巨人贷", "80000000.00")).await).await;

    // Imported by the office, then keyed by the operator with the command line.
    let csv = format!(
        "credit_code,name,city,industry_code,tier,founded_on,fiscal_year,revenue,net_profit,rd_expense,invention_patents\n\
         {},济南精工有限公司,jinan,C3562,provincial_srdi,2012-05-18,2024,60000000.00,6000000.00,3600000.00,8\n",
        code(5)
    );
    let report = ok(app
        .req(Method::POST, "/v1/firms/import", Some(&admin))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("import"))
    .await;
    assert_eq!(report["created"], 1, "{report}");
    let firms = ok(app.get("/v1/firms?limit=5", &admin).await).await;
    let firm_id = firms["items"][0]["id"].as_str().expect("id").to_owned();

    // Matches and near misses (once matching has run; it runs in the background).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let prospects = loop {
        let p = ok(app.get(&format!("/v1/firms/{firm_id}/matches"), &admin).await).await;
        if p["matches"].as_array().is_some_and(|m| !m.is_empty())
            && p["near_misses"].as_array().is_some_and(|n| !n.is_empty())
        {
            break p;
        }
        assert!(std::time::Instant::now() < deadline, "no matches yet: {p}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(prospects["matches"][0]["product"]["id"], reachable_id, "{prospects}");
    assert_eq!(prospects["near_misses"].as_array().expect("near").len(), 1);
    // The operator issues the firm its key once it is registered.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_srdi-capital"))
        .args(["keys", "create", "--role", "enterprise", "--subject", &firm_id])
        .env("SRDI_DATABASE_URL", &app.database_url)
        .output()
        .expect("cli");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ent = String::from_utf8(out.stdout).expect("utf-8").trim().to_owned();
    // Readiness on every venue, its own record only.
    let readiness = ok(app.get(&format!("/v1/firms/{firm_id}/readiness"), &ent).await).await;
    assert!(readiness["venues"].as_array().expect("venues").len() >= 4);
    let other = app.create_firm(firm_body(6)).await;
    let other_id = other["id"].as_str().expect("id");
    assert_eq!(app.get(&format!("/v1/firms/{other_id}/readiness"), &ent).await.status(), StatusCode::FORBIDDEN);

    let own = ok(app.get(&format!("/v1/firms/{firm_id}/matches"), &ent).await).await;
    assert_eq!(own["matches"], prospects["matches"], "the firm sees what the office sees");

    // Consent shows the firm to the bank; revoking hides it again.
    let consent =
        ok(app.post_json(&format!("/v1/firms/{firm_id}/consents"), &ent, &json!({"bank_id": bank_id})).await).await;
    let consent_id = consent["id"].as_str().expect("id").to_owned();
    let seen = ok(app.get("/v1/matches", &bank_key).await).await;
    assert_eq!(seen["items"].as_array().expect("items").len(), 1);
    let resp = app
        .req(Method::DELETE, &format!("/v1/firms/{firm_id}/consents/{consent_id}"), Some(&ent))
        .send()
        .await
        .expect("revoke");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(ok(app.get("/v1/matches", &bank_key).await).await["items"].as_array().expect("items").is_empty());
    assert_eq!(
        app.get(&format!("/v1/matches/{firm_id}/{reachable_id}"), &bank_key).await.status(),
        StatusCode::NOT_FOUND,
        "without consent the bank cannot read the firm"
    );

    // Applying grants consent to that bank again; the firm then withdraws its application.
    let application = ok(app
        .post_json(
            "/v1/applications",
            &ent,
            &json!({"product_id": reachable_id, "amount": "2000000", "term_months": 12, "purpose": "扩产"}),
        )
        .await)
    .await;
    let id = application["id"].as_str().expect("id").to_owned();
    assert_eq!(application["status"], "submitted");
    let withdrawn =
        ok(app.post_json(&format!("/v1/applications/{id}/transitions"), &ent, &json!({"status": "withdrawn"})).await)
            .await;
    assert_eq!(withdrawn["status"], "withdrawn");
    let status = ok(app.get(&format!("/v1/firms/{firm_id}/financing-status"), &ent).await).await;
    assert_eq!(status["applications"][0]["status"], "withdrawn");
}
