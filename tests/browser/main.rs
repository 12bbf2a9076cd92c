//! Browser tests: each role signs in and does its journey by clicking and typing in Chromium,
//! against the real service over a fresh database (SQLite; `SRDI_TEST_DATABASE=postgres` for
//! PostgreSQL). axe-core checks every page; `SRDI_SCREENSHOT_DIR` keeps screenshots of them.

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;
// Shared with other test binaries and formatted by its owner: rustfmt leaves it alone here.
#[rustfmt::skip]
#[path = "../support/smtp_sink.rs"]
mod smtp_sink;

mod harness;

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use srdi_capital::domain::access::Role;
use srdi_capital::seed::DemoSubjects;
use uuid::Uuid;

use harness::{Browser, http, start, zh};

/// Firms in the test population: enough for every list, small enough to seed in a second or two.
const FIRMS: usize = 40;

async fn demo(b: &Browser) -> DemoSubjects {
    let (_, subjects) = srdi_capital::seed::demo_data(&b.app.db, FIRMS, Utc::now()).await.expect("demo data");
    subjects
}

async fn api_json(b: &Browser, path: &str, key: &str) -> Value {
    let resp = b.app.get(path, key).await;
    assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
    resp.json().await.expect("json")
}

async fn firm_contact(b: &Browser, firm: Uuid) -> String {
    let firm = api_json(b, &format!("/v1/firms/{firm}"), &b.app.admin_key).await;
    firm["contact_email"].as_str().expect("the demo firm has a contact address").to_owned()
}

/// The first product the firm qualifies for, with an amount and term inside its ranges.
async fn a_matched_product(b: &Browser, firm: Uuid, bank: Option<Uuid>) -> (Uuid, String, String) {
    let key = b.app.key_for(Role::Enterprise, Some(firm)).await;
    let fm = api_json(b, &format!("/v1/firms/{firm}/matches"), &key).await;
    let p = fm["matches"]
        .as_array()
        .expect("matches")
        .iter()
        .map(|m| &m["product"])
        .find(|p| bank.is_none_or(|bank| p["bank_id"].as_str() == Some(bank.to_string().as_str())))
        .expect("the demo firm qualifies for a product")
        .clone();
    let amount = p["amount_min"].as_str().map(str::to_owned).unwrap_or_else(|| "1000000".into());
    let term = p["term_months_max"].as_i64().expect("term").to_string();
    (p["id"].as_str().expect("id").parse().expect("uuid"), amount, term)
}

/// The page shows this text (a message from the catalogue, or data).
async fn shows(b: &Browser, text: &str) {
    let body = b.body().await;
    assert!(body.contains(text), "expected {text:?} on {}; the page says:\n{body}", b.path().await);
}

#[tokio::test]
async fn enterprise_signs_in_by_mailed_link_applies_grants_consent_and_sees_field_errors() {
    let b = start().await;
    let s = demo(&b).await;
    let contact = firm_contact(&b, s.firm_id).await;

    let link = b.sign_in_by_mail(&contact, 0).await;
    assert_eq!(b.path().await, format!("/app/firms/{}", s.firm_id));
    b.check_page("enterprise-overview").await;

    // The link works once.
    b.client.delete_all_cookies().await.expect("forget the session");
    b.client.goto(&link).await.expect("open the link again");
    b.click_and_wait("form[action='/signin/link'] button").await;
    assert!(b.path().await.starts_with("/signin?refused"), "a used link is refused");
    shows(&b, zh("signin.link_refused")).await;
    b.check_page("signin-link-refused").await;
    b.sign_in_by_mail(&contact, b.sink.messages().len()).await;

    // Matched products, an application with a bad amount (422 next to the field), then a good one.
    let (product, amount, term) = a_matched_product(&b, s.firm_id, None).await;
    b.goto(&format!("/app/firms/{}/matches", s.firm_id)).await;
    b.check_page("enterprise-matches").await;
    b.fill(&format!("#amount-{product}"), "一百万").await;
    b.fill(&format!("#term-{product}"), &term).await;
    b.fill(&format!("#purpose-{product}"), "采购研发设备").await;
    b.click_and_wait(&format!("#p-{product} ~ form button[type=submit]")).await;
    assert_eq!(b.status().await, 422);
    let error = b.text(&format!("#amount-{product}-error")).await;
    assert!(error.contains("一百万"), "the error names the value typed: {error}");
    let invalid = b.client.find(fantoccini::Locator::Css(&format!("#amount-{product}"))).await.expect("amount");
    assert_eq!(invalid.attr("aria-invalid").await.expect("attr").as_deref(), Some("true"));
    b.check_page("enterprise-apply-error").await;
    b.fill(&format!("#amount-{product}"), &amount).await;
    b.fill(&format!("#term-{product}"), &term).await;
    b.fill(&format!("#purpose-{product}"), "采购研发设备").await;
    b.click_and_wait(&format!("#p-{product} ~ form button[type=submit]")).await;
    assert!(b.path().await.starts_with("/app/applications/"), "the answer is the new application");
    assert_eq!(b.text("#application-status").await, "已提交");
    b.check_page("enterprise-application").await;

    // Consents: grant one to a bank, see it in force, revoke it.
    b.goto(&format!("/app/firms/{}/consents", s.firm_id)).await;
    let rows_before = b.client.find_all(fantoccini::Locator::Css("tbody tr")).await.expect("rows").len();
    b.select("#bank_id", &s.bank_id.to_string()).await;
    b.click_and_wait(&format!("form[action='/app/firms/{}/consents'] button", s.firm_id)).await;
    let rows = b.client.find_all(fantoccini::Locator::Css("tbody tr")).await.expect("rows");
    assert_eq!(rows.len(), rows_before + 1, "the new consent is listed");
    b.check_page("enterprise-consents").await;
    b.click_and_wait("form[action$='/revoke'] button").await;
    shows(&b, zh("consents.revoked")).await;

    // Readiness per venue and listing progress.
    b.goto(&format!("/app/firms/{}/readiness", s.firm_id)).await;
    shows(&b, zh("readiness.shortfall")).await;
    b.check_page("enterprise-readiness").await;
    b.goto(&format!("/app/firms/{}/listing", s.firm_id)).await;
    b.check_page("enterprise-listing").await;

    // Profile: a bad date is refused next to its field; a good change is saved.
    b.goto(&format!("/app/firms/{}/profile", s.firm_id)).await;
    b.fill("#founded_on", "去年").await;
    b.click_and_wait(&format!("form[action='/app/firms/{}/profile'] button", s.firm_id)).await;
    assert_eq!(b.status().await, 422);
    assert!(b.exists("#founded_on-error").await, "the error sits next to the field");
    b.check_page("enterprise-profile-error").await;
    b.fill("#founded_on", "2012-05-18").await;
    b.fill("#district", "历下区").await;
    b.click_and_wait(&format!("form[action='/app/firms/{}/profile'] button", s.firm_id)).await;
    shows(&b, zh("profile.saved")).await;
    let firm = api_json(&b, &format!("/v1/firms/{}", s.firm_id), &b.app.admin_key).await;
    assert_eq!(firm["district"], "历下区");

    // Withdraw the application from its page.
    b.goto("/app").await;
    b.click_and_wait("table a[href^='/app/applications/']").await;
    b.click_and_wait("form input[value='withdrawn'] ~ button").await;
    assert_eq!(b.text("#application-status").await, "已撤回");
    b.close().await;
}

async fn roadshow_with_capacity(b: &Browser, capacity: i64) -> Uuid {
    let start = Utc::now() + Duration::days(10);
    let body = json!({
        "title": "齐鲁企舞·浏览器测试专场", "centre": "jinan", "venue": "济南市历下区",
        "starts_at": start.to_rfc3339(), "ends_at": (start + Duration::hours(2)).to_rfc3339(),
        "capacity": capacity,
    });
    let resp = b.app.post_json("/v1/roadshows", &b.app.admin_key, &body).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let rs: Value = resp.json().await.expect("json");
    let id: Uuid = rs["id"].as_str().expect("id").parse().expect("uuid");
    let resp =
        b.app.post_json(&format!("/v1/roadshows/{id}/status"), &b.app.admin_key, &json!({"status": "published"})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    id
}

async fn register_in_page(b: &Browser, roadshow: Uuid, name: &str, email: &str) {
    b.goto(&format!("/app/roadshows/{roadshow}")).await;
    b.fill("#attendee_name", name).await;
    b.fill("#attendee_email", email).await;
    b.fill("#party_size", "1").await;
    b.click_and_wait("#register-heading ~ form button").await;
    assert!(b.path().await.starts_with("/app/registrations?new="), "the answer is my registrations");
}

#[tokio::test]
async fn fund_manager_registers_is_waitlisted_when_full_cancels_and_records_an_intention() {
    let b = start().await;
    let s = demo(&b).await;
    let full = roadshow_with_capacity(&b, 1).await;
    let fund = api_json(&b, &format!("/v1/funds/{}", s.fund_id), &b.app.admin_key).await;
    let contact = fund["contact_email"].as_str().expect("fund contact").to_owned();

    b.sign_in_by_mail(&contact, 0).await;
    assert_eq!(b.path().await, "/app/roadshows");
    b.check_page("fund-calendar").await;
    b.select("#centre", "jinan").await;
    b.click_and_wait("form.filters button").await;
    assert!(b.path().await.contains("centre=jinan"));
    shows(&b, "齐鲁企舞·浏览器测试专场").await;

    b.goto(&format!("/app/roadshows/{full}")).await;
    b.check_page("fund-roadshow").await;
    register_in_page(&b, full, "王经理", "wang@fund.example.cn").await;
    assert!(b.text("#registration-result").await.contains(zh("registration.confirmed_notice")));
    b.check_page("fund-registrations").await;
    register_in_page(&b, full, "李经理", "li@fund.example.cn").await;
    let waitlisted = b.text("#registration-result").await;
    assert!(waitlisted.contains("第 1 位"), "the answer gives the waitlist place: {waitlisted}");

    // The .ics download is a calendar.
    let ics: Value = b
        .client
        .execute_async(
            &format!(
                "const done = arguments[0]; fetch('/app/roadshows/{full}/calendar.ics').then(async r => done([r.status, r.headers.get('content-type'), await r.text()]));"
            ),
            vec![],
        )
        .await
        .expect("fetch the .ics");
    assert_eq!(ics[0], 200);
    assert!(ics[1].as_str().unwrap_or("").starts_with("text/calendar"));
    assert!(ics[2].as_str().unwrap_or("").contains("BEGIN:VCALENDAR"));

    // Cancelling the confirmed registration promotes the waitlisted one.
    b.goto("/app/registrations").await;
    let cancel =
        b.client.find_all(fantoccini::Locator::Css("form[action$='/cancel'] button")).await.expect("cancel buttons");
    assert_eq!(cancel.len(), 2, "both active registrations can be cancelled before the deadline");
    let rows = b.client.find_all(fantoccini::Locator::Css("tbody tr")).await.expect("rows");
    let mut wang_row = None;
    for (i, r) in rows.iter().enumerate() {
        if r.text().await.expect("row").contains("王经理") {
            wang_row = Some(i + 1);
        }
    }
    let wang_row = wang_row.expect("王经理 is listed");
    b.click_and_wait(&format!("tbody tr:nth-child({wang_row}) form[action$='/cancel'] button")).await;
    let page = b.body().await;
    let li_line = page.lines().find(|l| l.contains("李经理")).expect("李经理 is listed").to_owned();
    assert!(li_line.contains("报名成功"), "the waitlisted registration was promoted: {li_line}");

    // An investment intention for the demo firm presenting at the Jinan roadshow.
    let listed = api_json(&b, "/v1/roadshows?centre=jinan", &b.app.admin_key).await;
    let demo_roadshow = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|r| r["id"].as_str() != Some(full.to_string().as_str()))
        .and_then(|r| r["id"].as_str())
        .expect("the demo roadshow in Jinan")
        .to_owned();
    b.goto(&format!("/app/roadshows/{demo_roadshow}")).await;
    b.fill(&format!("#amount-{}", s.firm_id), "30000000").await;
    b.select(&format!("#round-{}", s.firm_id), "series_a").await;
    b.click_and_wait(&format!("#amount-{} ~ button", s.firm_id)).await;
    assert_eq!(b.path().await, "/app/investments");
    shows(&b, "¥30,000,000.00").await;
    b.check_page("fund-investments").await;
    b.close().await;
}
