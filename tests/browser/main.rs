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
    let contact = firm_contact(&b, s.firm_id.uuid()).await;

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
    let (product, amount, term) = a_matched_product(&b, s.firm_id.uuid(), None).await;
    b.goto(&format!("/app/firms/{}/matches", s.firm_id)).await;
    b.check_page("enterprise-matches").await;
    b.fill(&format!("#amount-{product}"), "一百万").await;
    b.fill(&format!("#term-{product}"), &term).await;
    b.fill(&format!("#purpose-{product}"), "采购研发设备").await;
    b.click_and_wait(&format!("#p-{product} ~ form button[type=submit]")).await;
    assert_eq!(b.status().await, 422);
    let error = b.text(&format!("#amount-{product}-error")).await;
    assert!(error.contains("一百万"), "the error names the value typed: {error}");
    assert!(error.starts_with("格式不正确"), "the error is worded in the reader's language: {error}");
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

/// An application of the demo firm for a product of `bank`, made through the API.
async fn application_for(b: &Browser, firm: Uuid, bank: Uuid) -> Uuid {
    let (product, amount, term) = a_matched_product(b, firm, Some(bank)).await;
    let key = b.app.key_for(Role::Enterprise, Some(firm)).await;
    let body = json!({"product_id": product, "amount": amount, "term_months": term.parse::<i64>().expect("term"),
        "purpose": "流动资金"});
    let resp = b.app.post_json("/v1/applications", &key, &body).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let a: Value = resp.json().await.expect("json");
    a["id"].as_str().expect("id").parse().expect("uuid")
}

async fn fetch_in_page(b: &Browser, path: &str) -> Value {
    b.client
        .execute_async(
            &format!(
                "const done = arguments[0]; fetch('{path}').then(async r => done([r.status, r.headers.get('content-type'), await r.text()]));"
            ),
            vec![],
        )
        .await
        .expect("fetch")
}

#[tokio::test]
async fn bank_filters_matched_firms_downloads_csv_moves_an_application_and_manages_webhooks() {
    let b = start().await;
    let s = demo(&b).await;
    let application = application_for(&b, s.firm_id.uuid(), s.bank_id.uuid()).await;
    let bank_key = b.app.key_for(Role::Bank, Some(s.bank_id.uuid())).await;
    let endpoint = b
        .app
        .post_json(
            "/v1/webhook-endpoints",
            &bank_key,
            &json!({"url": "https://hooks.bank.example.cn/srdi", "event_types": ["match.created"]}),
        )
        .await;
    assert_eq!(endpoint.status(), StatusCode::CREATED);
    let endpoint: Value = endpoint.json().await.expect("json");

    b.sign_in_with_key(&bank_key).await;
    assert_eq!(b.path().await, "/app/matches");
    b.check_page("bank-matches").await;
    let all = b.client.find_all(fantoccini::Locator::Css("#results tbody tr")).await.expect("rows").len();
    assert!(all > 0, "the demo bank has matched firms");
    // Filter by the city of a matched firm the API pull shows.
    let pulled = api_json(&b, "/v1/matches?limit=200", &bank_key).await;
    let item = pulled["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["firm_id"].as_str() != Some(s.firm_id.to_string().as_str()))
        .expect("a matched firm besides the demo firm")
        .clone();
    let city: srdi_capital::domain::firm::City =
        item["firm"]["city"].as_str().expect("a matched firm's city").parse().expect("city");
    b.fill("#min_score", "60").await;
    b.select("#city", city.as_str()).await;
    b.click("form.filters button").await;
    // htmx swaps the results in place and puts the filters in the address.
    let started = std::time::Instant::now();
    while !b.path().await.contains(&format!("city={}", city.as_str())) {
        assert!(started.elapsed() < harness::WAIT, "the filtered list did not arrive");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let filtered = b.client.find_all(fantoccini::Locator::Css("#results tbody tr")).await.expect("rows");
    assert!(!filtered.is_empty() && filtered.len() <= all, "the city's matches are listed");
    for row in &filtered {
        assert!(row.text().await.expect("row").contains(city.label_zh()), "only firms in {city} remain");
    }
    let csv = fetch_in_page(&b, &format!("/app/matches.csv?min_score=60&city={}", city.as_str())).await;
    assert_eq!(csv[0], 200);
    assert!(csv[1].as_str().unwrap_or("").starts_with("text/csv"));
    let text = csv[2].as_str().unwrap_or("");
    assert!(text.starts_with("firm_id,product_id"), "the pull's CSV columns");
    assert_eq!(text.lines().count() - 1, filtered.len(), "the CSV holds the filtered rows");

    // The firm withdraws its consent: the bank's next page load no longer shows it.
    let shown_firm = item["firm"]["name"].as_str().expect("name").to_owned();
    let shown_id: Uuid = item["firm_id"].as_str().expect("id").parse().expect("uuid");
    assert!(b.body().await.contains(&shown_firm));
    let firm_key = b.app.key_for(Role::Enterprise, Some(shown_id)).await;
    let consents = api_json(&b, &format!("/v1/firms/{shown_id}/consents"), &firm_key).await;
    for c in consents["items"].as_array().expect("items").iter().filter(|c| c["state"] == "in_force") {
        let resp = b
            .app
            .req(
                reqwest::Method::DELETE,
                &format!("/v1/firms/{shown_id}/consents/{}", c["id"].as_str().expect("id")),
                Some(&firm_key),
            )
            .send()
            .await
            .expect("revoke");
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    }
    b.goto(&format!("/app/matches?city={}", city.as_str())).await;
    assert!(!b.body().await.contains(&shown_firm), "a firm without consent is gone at the next page load");

    b.goto("/app/applications").await;
    b.check_page("bank-applications").await;
    b.click_and_wait(&format!("#app-{application} form button")).await;
    assert_eq!(b.path().await, "/app/applications");
    assert!(b.text(&format!("#app-{application}")).await.contains("审核中"));
    b.goto(&format!("/app/applications/{application}")).await;
    b.fill("#approved_rate", "3.10").await;
    b.click_and_wait("button[value='approved']").await;
    assert_eq!(b.text("#application-status").await, "已批准");
    b.check_page("bank-application").await;

    b.goto("/app/webhooks").await;
    b.check_page("bank-webhooks").await;
    b.click_and_wait(&format!("a[href='/app/webhooks/{}']", endpoint["id"].as_str().expect("id"))).await;
    b.click_and_wait("form[action$='/test'] button").await;
    shows(&b, zh("webhooks.ping_queued")).await;
    b.click_and_wait("form[action$='/rotate-secret'] button").await;
    assert!(b.text("#new-secret").await.starts_with("whsec_"), "the new secret is shown once");
    b.check_page("bank-webhook").await;
    b.close().await;
}

#[tokio::test]
async fn office_sees_targets_exports_the_pool_imports_a_csv_with_a_bad_row_and_runs_a_roadshow() {
    let b = start().await;
    let s = demo(&b).await;
    b.sign_in_with_key(&b.app.admin_key).await;
    assert_eq!(b.path().await, "/app/office");
    assert!(b.exists("figure.chart svg").await, "the targets are drawn");
    assert!(b.exists("figure.chart details table").await, "each chart has its data table");
    let targets = b.text("table.targets").await;
    assert!(
        targets.contains("入库培育创新型中小企业2万家以上") && targets.contains("本系统不统计"),
        "every quantified target of the plan is listed, those the service cannot count marked so"
    );
    b.check_page("office-dashboard").await;

    b.goto("/app/pool").await;
    b.check_page("office-pool").await;
    let csv = fetch_in_page(&b, "/app/pool.csv").await;
    assert_eq!(csv[0], 200);
    assert!(csv[2].as_str().unwrap_or("").starts_with("firm_id,credit_code,name"));

    // An import with one good row and one with a broken credit code: the bad row is named.
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("firms.csv");
    let good = crate::helpers::code(9001);
    std::fs::write(
        &file,
        format!(
            "credit_code,name,city,industry_code\n{good},浏览器导入测试有限公司,jinan,C3562\n91370100MA3C00001X,坏代码企业有限公司,jinan,C3562\n"
        ),
    )
    .expect("write csv");
    b.goto("/app/import").await;
    b.client
        .find(fantoccini::Locator::Css("#file"))
        .await
        .expect("file input")
        .send_keys(file.to_str().expect("path"))
        .await
        .expect("choose the file");
    b.click_and_wait("form[action='/app/import'] button").await;
    let rejected = b.text("#rejected-rows").await;
    assert!(
        rejected.contains("credit_code") && rejected.contains("91370100MA3C00001X"),
        "the bad row is named: {rejected}"
    );
    assert!(rejected.contains('3'), "with its line number: {rejected}");
    b.check_page("office-import").await;

    // A roadshow: create (draft), publish, check a registration in.
    b.goto("/app/roadshows/new").await;
    b.check_page("office-roadshow-new").await;
    b.fill("#title", "齐鲁企舞·办公室创建专场").await;
    b.select("#centre", "online").await;
    let day = (Utc::now() + Duration::days(20)).format("%Y-%m-%d").to_string();
    b.client
        .execute(
            &format!(
                "document.getElementById('starts_at').value = '{day}T09:30'; document.getElementById('ends_at').value = '{day}T11:30';"
            ),
            vec![],
        )
        .await
        .expect("set the times");
    b.fill("#capacity", "30").await;
    b.click_and_wait("form[action='/app/roadshows'] button").await;
    let path = b.path().await;
    let roadshow: Uuid = path.trim_start_matches("/app/roadshows/").parse().expect("the new roadshow's page");
    b.click_and_wait("form[action$='/status'] input[value='published'] ~ button").await;
    assert!(b.body().await.contains("已发布"));
    b.check_page("office-roadshow").await;

    let fund_key = b.app.key_for(Role::Fund, Some(s.fund_id)).await;
    let reg = b
        .app
        .post_json(
            &format!("/v1/roadshows/{roadshow}/registrations"),
            &fund_key,
            &json!({"attendee_name": "赵经理", "attendee_email": "zhao@fund.example.cn"}),
        )
        .await;
    assert_eq!(reg.status(), StatusCode::CREATED);
    let reg: Value = reg.json().await.expect("json");
    b.goto(&format!("/app/roadshows/{roadshow}/check-in")).await;
    b.fill("#token", reg["checkin_token"].as_str().expect("token")).await;
    b.click_and_wait("form[action$='/check-in'] button").await;
    shows(&b, zh("checkin.done")).await;
    b.check_page("office-checkin").await;
    b.close().await;
}

#[tokio::test]
async fn other_tenants_pages_are_403_or_404_roles_stay_apart_and_revoked_keys_end_sessions() {
    let b = start().await;
    let s = demo(&b).await;
    let other = b.app.create_firm(crate::helpers::firm_body(7)).await;
    let other_id = other["id"].as_str().expect("id").to_owned();
    let theirs = application_for(&b, s.firm_id.uuid(), s.bank_id.uuid()).await;

    let own_key = b.app.key_for(Role::Enterprise, Some(other_id.parse().expect("uuid"))).await;
    b.sign_in_with_key(&own_key).await;
    assert_eq!(b.path().await, format!("/app/firms/{other_id}"));

    // Editing the firm id in the address: 403, as a page.
    for page in ["", "/matches", "/consents", "/readiness", "/profile"] {
        b.goto(&format!("/app/firms/{}{page}", s.firm_id)).await;
        assert_eq!(b.status().await, 403, "/app/firms/<other>{page}");
        shows(&b, zh("error.forbidden.title")).await;
    }
    b.check_page("error-403").await;
    // Another firm's application does not exist for this firm.
    b.goto(&format!("/app/applications/{theirs}")).await;
    assert_eq!(b.status().await, 404);
    b.check_page("error-404").await;
    // A bank's page is not an enterprise's.
    b.goto("/app/matches").await;
    assert_eq!(b.status().await, 403);
    // Nor is the office's dashboard, whose figures the page keeps for a minute.
    b.goto("/app/office").await;
    assert_eq!(b.status().await, 403);

    // The enterprise session cookie cannot act as a bank, even with a valid CSRF token.
    b.goto(&format!("/app/firms/{other_id}/consents")).await;
    let csrf = b
        .client
        .find(fantoccini::Locator::Css("input[name=csrf_token]"))
        .await
        .expect("token")
        .attr("value")
        .await
        .expect("attr")
        .expect("value");
    let cookie = b.session_cookie().await;
    let resp = http()
        .post(b.url(&format!("/app/applications/{theirs}/transitions")))
        .header("Cookie", format!("srdi_session={cookie}"))
        .form(&[("csrf_token", csrf.as_str()), ("status", "under_review")])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND, "another firm's application is not found for this session");
    assert!(resp.headers()["content-type"].to_str().unwrap_or("").starts_with("text/html"));
    let app = api_json(&b, &format!("/v1/applications/{theirs}"), &b.app.admin_key).await;
    assert_eq!(app["status"], "submitted", "nothing moved");

    // A revoked key ends its session at the next page load.
    let mut conn = b.app.db.pool().acquire().await.expect("conn");
    let listed = srdi_capital::store::keys::list(&mut conn).await.expect("keys");
    let id = listed.iter().rfind(|k| k.subject_id.map(|s| s.to_string()) == Some(other_id.clone())).expect("key").id;
    srdi_capital::store::keys::revoke(&mut conn, &id.to_string(), Utc::now()).await.expect("revoke");
    drop(conn);
    b.goto(&format!("/app/firms/{other_id}")).await;
    assert!(b.path().await.starts_with("/signin?next="), "back to the sign-in page");
    b.check_page("signin").await;
    b.close().await;
}

#[tokio::test]
async fn form_posts_without_their_csrf_token_are_refused_and_the_public_list_shows_no_firm() {
    let b = start().await;
    let s = demo(&b).await;
    let firm = api_json(&b, &format!("/v1/firms/{}", s.firm_id), &b.app.admin_key).await;
    let firm_name = firm["name"].as_str().expect("name").to_owned();

    // The public list: published roadshows, no sign-in, no firm named.
    b.goto("/roadshows").await;
    assert_eq!(b.status().await, 200);
    shows(&b, "齐鲁企舞·济南站").await;
    assert!(!b.body().await.contains(&firm_name), "no presenting firm on the public page");
    b.check_page("public-roadshows").await;
    b.click_and_wait("a[lang='en']").await;
    shows(&b, srdi_capital::pages::i18n::t(srdi_capital::pages::i18n::Lang::En, "public.title")).await;
    b.check_page("public-roadshows-en").await;
    b.click_and_wait("a[lang='zh-CN']").await;

    let key = b.app.key_for(Role::Enterprise, Some(s.firm_id.uuid())).await;
    b.sign_in_with_key(&key).await;
    b.goto(&format!("/app/firms/{}/consents", s.firm_id)).await;
    let before = api_json(&b, &format!("/v1/firms/{}/consents", s.firm_id), &b.app.admin_key).await["items"]
        .as_array()
        .expect("items")
        .len();
    // A form whose token was removed (as a forged cross-site form would lack it) is refused.
    b.client
        .execute(
            "document.querySelectorAll('form[action$=\"/consents\"] input[name=csrf_token]').forEach(e => e.remove());",
            vec![],
        )
        .await
        .expect("remove the token");
    b.click_and_wait(&format!("form[action='/app/firms/{}/consents'] button", s.firm_id)).await;
    assert_eq!(b.status().await, 403);
    shows(&b, zh("error.csrf.title")).await;
    b.check_page("error-csrf").await;
    let after = api_json(&b, &format!("/v1/firms/{}/consents", s.firm_id), &b.app.admin_key).await["items"]
        .as_array()
        .expect("items")
        .len();
    assert_eq!(before, after, "nothing was granted");

    // The same with the session cookie alone, from outside the browser, and with a wrong token.
    let cookie = b.session_cookie().await;
    for token in [None, Some("forged")] {
        let mut form = vec![("bank_id", "all")];
        if let Some(t) = token {
            form.push(("csrf_token", t));
        }
        let resp = http()
            .post(b.url(&format!("/app/firms/{}/consents", s.firm_id)))
            .header("Cookie", format!("srdi_session={cookie}"))
            .form(&form)
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "token {token:?}");
    }
    // A sign-in form posted without the pre-session cookie it is bound to is refused too.
    let resp = http().post(b.url("/signin/key")).form(&[("key", key.as_str())]).send().await.expect("post");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    b.close().await;
}
