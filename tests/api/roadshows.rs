//! Funds, roadshows, registration (capacity, waitlist, duplicates, deadlines, check-in),
//! presenters, and the mails that a real SMTP server on loopback receives.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use srdi_capital::clock::{Clock, ManualClock, SharedClock, SystemClock};
use srdi_capital::db::row::RowExt;
use srdi_capital::domain::access::Role;
use srdi_capital::mail::ics;
use uuid::Uuid;

use crate::helpers::*;
use crate::smtp_sink::{ParsedMail, SmtpSink};

pub const WAIT: Duration = Duration::from_secs(30);

/// An app whose mails go to a real SMTP server on loopback, polled often, retried after 1 s.
pub async fn app_with_sink(clock: SharedClock) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start();
    let url = sink.url();
    let app = spawn_app_with(
        move |c| {
            c.smtp_url = Some(srdi_capital::config::smtp::parse_smtp_url(&url).expect("sink url"));
            c.mail_poll_interval_ms = 50;
            c.mail_retry_schedule = vec![1; 60];
            c.smtp_timeout_secs = 5;
        },
        clock,
    )
    .await;
    (app, sink)
}

pub async fn new_fund(app: &TestApp, name: &str) -> (Uuid, String) {
    let resp = app
        .post_json(
            "/v1/funds",
            &app.admin_key,
            &json!({"name": name, "kind": "vc", "contact_email": format!("office@{}.example.cn", name.len())}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let fund: Value = resp.json().await.expect("json");
    let id: Uuid = fund["id"].as_str().expect("id").parse().expect("uuid");
    let resp = app.post_json(&format!("/v1/funds/{id}/keys"), &app.admin_key, &json!({"label": "manager"})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let issued: Value = resp.json().await.expect("json");
    (id, issued["key"].as_str().expect("key").to_owned())
}

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

pub fn roadshow_body(now: DateTime<Utc>, capacity: i64) -> Value {
    let start = now + chrono::Duration::days(10);
    json!({
        "title": "齐鲁企舞·济南站 高端装备专场",
        "centre": "jinan",
        "venue": "济南市历下区经十路 1 号",
        "starts_at": rfc(start),
        "ends_at": rfc(start + chrono::Duration::hours(3)),
        "registration_opens_at": rfc(now - chrono::Duration::hours(1)),
        "capacity": capacity,
        "industry_focus": ["C35"],
    })
}

/// Creates and publishes a roadshow.
pub async fn published(app: &TestApp, body: Value) -> Value {
    let resp = app.post_json("/v1/roadshows", &app.admin_key, &body).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let rs: Value = resp.json().await.expect("json");
    assert_eq!(rs["status"], "draft");
    let id = rs["id"].as_str().expect("id");
    let resp =
        app.post_json(&format!("/v1/roadshows/{id}/status"), &app.admin_key, &json!({"status": "published"})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.expect("json")
}

pub async fn register(app: &TestApp, key: &str, rs: &str, email: &str, party: i64) -> Response {
    app.post_json(
        &format!("/v1/roadshows/{rs}/registrations"),
        key,
        &json!({"attendee_name": "王经理", "attendee_email": email, "party_size": party}),
    )
    .await
}

async fn registered(app: &TestApp, key: &str, rs: &str, email: &str) -> Value {
    let resp = register(app, key, rs, email, 1).await;
    assert_eq!(resp.status(), StatusCode::CREATED, "register {email}");
    resp.json().await.expect("json")
}

async fn delete(app: &TestApp, path: &str, key: &str) -> Response {
    app.req(Method::DELETE, path, Some(key)).send().await.expect("request")
}

fn mails_to(sink: &SmtpSink, address: &str) -> Vec<ParsedMail> {
    sink.messages()
        .into_iter()
        .filter(|m| m.envelope_to == [address.to_owned()])
        .map(|m| {
            let parsed = m.parsed();
            assert_eq!(parsed.to, vec![address.to_owned()]);
            parsed
        })
        .collect()
}

/// The inline calendar part: its `method` parameter, the METHOD inside, and its one event.
fn calendar(m: &ParsedMail) -> (String, ics::ParsedEvent) {
    let part = m.calendar.as_ref().expect("an inline text/calendar part");
    let cal = ics::parse(&part.text);
    assert_eq!(part.method.as_deref(), cal.method.as_deref(), "content-type method matches METHOD");
    assert!(m.attachments.iter().any(|a| a.filename.as_deref() == Some("invite.ics")), "invite.ics attached");
    assert_eq!(cal.events.len(), 1);
    (cal.method.expect("METHOD"), cal.events[0].clone())
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn funds_are_onboarded_and_keys_act_only_for_their_fund() {
    let app = spawn_app().await;
    let resp =
        app.post_json("/v1/funds", &app.admin_key, &json!({"name": "", "kind": "hedge", "contact_email": "x"})).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p = problem(resp).await;
    let fields: Vec<&str> =
        p["errors"].as_array().expect("errors").iter().map(|e| e["field"].as_str().expect("f")).collect();
    assert_eq!(fields, ["name", "kind", "contact_email"]);

    let (a, key_a) = new_fund(&app, "齐鲁前沿创投").await;
    let (b, _) = new_fund(&app, "泰山产业引导基金").await;
    let list: Value = app.get("/v1/funds", &app.admin_key).await.json().await.expect("json");
    assert_eq!(list["items"].as_array().expect("items").len(), 2);
    let own: Value = app.get("/v1/funds", &key_a).await.json().await.expect("json");
    assert_eq!(own["items"].as_array().expect("items").len(), 1);
    assert_eq!(own["items"][0]["id"], a.to_string());
    assert_eq!(app.get(&format!("/v1/funds/{a}"), &key_a).await.status(), StatusCode::OK);
    assert_eq!(app.get(&format!("/v1/funds/{b}"), &key_a).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.post_json(&format!("/v1/funds/{b}/keys"), &key_a, &json!({})).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.post_json(&format!("/v1/funds/{}/keys", Uuid::now_v7()), &app.admin_key, &json!({})).await.status(),
        StatusCode::NOT_FOUND
    );
    let firm = app.create_firm(firm_body(1)).await;
    let ent = app.key_for(Role::Enterprise, Some(id_of(&firm).parse().expect("uuid"))).await;
    assert_eq!(app.get("/v1/funds", &ent).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn roadshows_are_drafted_published_filtered_and_changed_by_the_rules() {
    let app = spawn_app().await;
    let (_, fund) = new_fund(&app, "甲基金").await;
    let now = Utc::now();
    let resp = app
        .post_json(
            "/v1/roadshows",
            &app.admin_key,
            &json!({"centre": "qingdao", "capacity": 0, "industry_focus": ["X1"]}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p = problem(resp).await;
    let fields: Vec<&str> =
        p["errors"].as_array().expect("errors").iter().map(|e| e["field"].as_str().expect("f")).collect();
    for f in ["title", "starts_at", "ends_at", "centre", "capacity", "industry_focus.0"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    assert_eq!(app.post_json("/v1/roadshows", &fund, &roadshow_body(now, 10)).await.status(), StatusCode::FORBIDDEN);

    let draft: Value =
        app.post_json("/v1/roadshows", &app.admin_key, &roadshow_body(now, 10)).await.json().await.expect("json");
    let draft_id = id_of(&draft);
    assert_eq!(app.get(&format!("/v1/roadshows/{draft_id}"), &fund).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(register(&app, &fund, &draft_id, "a@f.example.cn", 1).await.status(), StatusCode::NOT_FOUND);

    let mut sz = roadshow_body(now + chrono::Duration::days(30), 50);
    sz["centre"] = json!("shenzhen");
    sz["industry_focus"] = json!(["I65"]);
    let shenzhen = published(&app, sz).await;
    let jinan = published(&app, roadshow_body(now, 10)).await;
    let mut online = roadshow_body(now + chrono::Duration::days(60), 500);
    online["centre"] = json!("online");
    online["industry_focus"] = json!([]);
    let online = published(&app, online).await;

    let ids = |v: Value| -> Vec<String> { v["items"].as_array().expect("items").iter().map(id_of).collect() };
    let all = ids(app.get("/v1/roadshows", &fund).await.json().await.expect("json"));
    assert_eq!(all, [id_of(&shenzhen), id_of(&jinan), id_of(&online)], "drafts are not listed for funds");
    let admin_all = ids(app.get("/v1/roadshows", &app.admin_key).await.json().await.expect("json"));
    assert_eq!(admin_all.len(), 4);
    let by_centre = ids(app.get("/v1/roadshows?centre=shenzhen", &fund).await.json().await.expect("json"));
    assert_eq!(by_centre, [id_of(&shenzhen)]);
    // Industry: the C35 roadshow and the one without a focus.
    let by_industry = ids(app.get("/v1/roadshows?industry=C3562", &fund).await.json().await.expect("json"));
    assert_eq!(by_industry, [id_of(&jinan), id_of(&online)]);
    let day = |d: i64| (now + chrono::Duration::days(d)).format("%Y-%m-%d").to_string();
    let by_dates = ids(app
        .get(&format!("/v1/roadshows?from={}&to={}", day(20), day(45)), &fund)
        .await
        .json()
        .await
        .expect("json"));
    assert_eq!(by_dates, [id_of(&shenzhen)]);
    assert_eq!(app.get("/v1/roadshows?from=tomorrow", &fund).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get("/v1/roadshows?centre=qingdao", &fund).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bank = app.insert_bank("B1").await;
    let bank_key = app.key_for(Role::Bank, Some(bank)).await;
    assert_eq!(app.get("/v1/roadshows", &bank_key).await.status(), StatusCode::FORBIDDEN);

    // State machine: a published roadshow cannot go back to draft.
    let jid = id_of(&jinan);
    let resp = app.post_json(&format!("/v1/roadshows/{jid}/status"), &app.admin_key, &json!({"status": "draft"})).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let p = problem(resp).await;
    assert_eq!(p["code"], "illegal_transition");
    assert_eq!(p["allowed_next"], json!(["closed", "cancelled", "completed"]));
    // Capacity cannot drop below the seats taken.
    registered(&app, &fund, &jid, "one@f.example.cn").await;
    registered(&app, &fund, &jid, "two@f.example.cn").await;
    // A duplicate takes a seat before the unique index refuses it; the rollback gives it back.
    assert_eq!(register(&app, &fund, &jid, "Two@F.example.cn", 3).await.status(), StatusCode::CONFLICT);
    let resp = app.patch_json(&format!("/v1/roadshows/{jid}"), &app.admin_key, &json!({"capacity": 1})).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(problem(resp).await["seats_taken"], 2);
    let resp = app
        .patch_json(&format!("/v1/roadshows/{jid}"), &app.admin_key, &json!({"ends_at": "2020-01-01T00:00:00Z"}))
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Closing stops registration; reopening allows it again.
    app.post_json(&format!("/v1/roadshows/{jid}/status"), &app.admin_key, &json!({"status": "closed"})).await;
    let resp = register(&app, &fund, &jid, "three@f.example.cn", 1).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(problem(resp).await["code"], "roadshow_not_open");
    app.post_json(&format!("/v1/roadshows/{jid}/status"), &app.admin_key, &json!({"status": "published"})).await;
    assert_eq!(register(&app, &fund, &jid, "three@f.example.cn", 1).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn seats_then_waitlist_duplicates_and_the_mails_with_invitations() {
    let (app, sink) = app_with_sink(Arc::new(SystemClock)).await;
    let (_, key_a) = new_fund(&app, "甲基金").await;
    let (_, key_b) = new_fund(&app, "乙基金").await;
    let rs = published(&app, roadshow_body(Utc::now(), 3)).await;
    let rid = id_of(&rs);

    let a = registered(&app, &key_a, &rid, "a@fund-a.example.cn").await;
    assert_eq!(a["status"], "confirmed");
    assert_eq!(a["waitlist_position"], Value::Null);
    assert!(a["checkin_token"].as_str().expect("token").len() >= 20);
    let resp = register(&app, &key_a, &rid, "b@fund-a.example.cn", 2).await;
    let b: Value = resp.json().await.expect("json");
    assert_eq!(b["status"], "confirmed");
    let c = registered(&app, &key_b, &rid, "c@fund-b.example.cn").await;
    assert_eq!((c["status"].as_str(), c["waitlist_position"].as_i64()), (Some("waitlisted"), Some(1)));
    let resp = register(&app, &key_a, &rid, "d@fund-a.example.cn", 2).await;
    let d: Value = resp.json().await.expect("json");
    assert_eq!((d["status"].as_str(), d["waitlist_position"].as_i64()), (Some("waitlisted"), Some(2)));

    // One active registration per address (case does not matter); the 409 shows the existing
    // registration to its own fund only.
    let resp = register(&app, &key_a, &rid, "A@Fund-A.example.cn", 1).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let p = problem(resp).await;
    assert_eq!(p["code"], "already_registered");
    assert_eq!(p["existing_registration"]["id"], a["id"]);
    let resp = register(&app, &key_b, &rid, "a@fund-a.example.cn", 1).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let p = problem(resp).await;
    assert!(p.get("existing_registration").is_none(), "fund B learns nothing about fund A's registration: {p}");

    let roadshow: Value = app.get(&format!("/v1/roadshows/{rid}"), &key_b).await.json().await.expect("json");
    assert_eq!((roadshow["seats_taken"].as_i64(), roadshow["seats_left"].as_i64()), (Some(3), Some(0)));
    // The answer to the POST is the registration as stored.
    for (reg, key) in [(&a, &key_a), (&c, &key_b), (&d, &key_a)] {
        let stored: Value = app
            .get(&format!("/v1/roadshows/{rid}/registrations/{}", id_of(reg)), key)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(&stored, reg);
    }

    sink.wait_for(4, WAIT).await;
    let to_a = mails_to(&sink, "a@fund-a.example.cn");
    assert_eq!(to_a.len(), 1);
    let subject = to_a[0].subject.clone().expect("subject");
    assert!(subject.contains("报名成功") && subject.contains("Registration confirmed"), "{subject}");
    let body = to_a[0].text_body.clone().expect("text");
    assert!(body.contains("---- English ----") && body.contains("王经理，您好"), "{body}");
    assert!(body.contains(&format!("报名编号：{}", id_of(&a))), "{body}");
    let (method, ev) = calendar(&to_a[0]);
    assert_eq!(method, "REQUEST");
    assert_eq!(ev.uid(), Some(format!("registration-{}@srdi-capital", id_of(&a))));
    assert_eq!(ev.sequence(), Some(0));
    assert_eq!(ev.status().as_deref(), Some("CONFIRMED"));
    let to_c = mails_to(&sink, "c@fund-b.example.cn");
    assert_eq!(to_c.len(), 1);
    assert!(to_c[0].subject.as_deref().expect("subject").contains("候补"));
    assert!(to_c[0].calendar.is_none(), "a waitlisted registration gets no invitation");
    assert!(to_c[0].text_body.as_deref().expect("text").contains("第 1 位"));
    let to_d = mails_to(&sink, "d@fund-a.example.cn");
    assert!(to_d[0].text_body.as_deref().expect("text").contains("第 2 位"));
    assert!(to_d[0].text_body.as_deref().expect("text").contains("登记人数：2"));
    // The Message-ID is stable per outbox row.
    assert!(to_a[0].message_id.as_deref().expect("message id").ends_with("@srdi-capital.local"));
}

#[tokio::test]
async fn cancellation_promotes_the_first_waitlisted_and_mails_both() {
    let (app, sink) = app_with_sink(Arc::new(SystemClock)).await;
    let (_, key) = new_fund(&app, "甲基金").await;
    let rs = published(&app, roadshow_body(Utc::now(), 1)).await;
    let rid = id_of(&rs);
    let a = registered(&app, &key, &rid, "a@f.example.cn").await;
    let b = registered(&app, &key, &rid, "b@f.example.cn").await;
    let c = registered(&app, &key, &rid, "c@f.example.cn").await;
    assert_eq!((b["waitlist_position"].as_i64(), c["waitlist_position"].as_i64()), (Some(1), Some(2)));
    sink.wait_for(3, WAIT).await;

    let resp = delete(&app, &format!("/v1/roadshows/{rid}/registrations/{}", id_of(&a)), &key).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let cancelled: Value = resp.json().await.expect("json");
    assert_eq!((cancelled["status"].as_str(), cancelled["cancel_reason"].as_str()), (Some("cancelled"), Some("fund")));
    let get = |id: String| {
        let app = &app;
        let key = key.clone();
        let rid = rid.clone();
        async move {
            app.get(&format!("/v1/roadshows/{rid}/registrations/{id}"), &key).await.json::<Value>().await.expect("json")
        }
    };
    let b_now = get(id_of(&b)).await;
    assert_eq!((b_now["status"].as_str(), b_now["waitlist_position"].as_i64()), (Some("confirmed"), None));
    let c_now = get(id_of(&c)).await;
    assert_eq!((c_now["status"].as_str(), c_now["waitlist_position"].as_i64()), (Some("waitlisted"), Some(1)));
    // Cancelling again changes nothing.
    let again = delete(&app, &format!("/v1/roadshows/{rid}/registrations/{}", id_of(&a)), &key).await;
    assert_eq!(again.status(), StatusCode::OK);
    let roadshow: Value = app.get(&format!("/v1/roadshows/{rid}"), &key).await.json().await.expect("json");
    assert_eq!(roadshow["seats_taken"], 1);

    sink.wait_for(5, WAIT).await;
    let to_a = mails_to(&sink, "a@f.example.cn");
    assert_eq!(to_a.len(), 2);
    let cancel =
        to_a.iter().find(|m| m.subject.as_deref().is_some_and(|s| s.contains("报名已取消"))).expect("cancel mail");
    let (method, ev) = calendar(cancel);
    assert_eq!(method, "CANCEL");
    assert_eq!(ev.uid(), Some(format!("registration-{}@srdi-capital", id_of(&a))));
    assert_eq!(ev.sequence(), Some(1), "the cancellation raises the SEQUENCE of the confirmation");
    assert_eq!(ev.status().as_deref(), Some("CANCELLED"));
    let to_b = mails_to(&sink, "b@f.example.cn");
    let promoted =
        to_b.iter().find(|m| m.subject.as_deref().is_some_and(|s| s.contains("候补转正"))).expect("promotion");
    let (method, ev) = calendar(promoted);
    assert_eq!((method.as_str(), ev.uid()), ("REQUEST", Some(format!("registration-{}@srdi-capital", id_of(&b)))));
}

#[tokio::test]
async fn deadlines_for_registration_and_cancellation() {
    let clock = ManualClock::new(Utc::now());
    let app = spawn_app_with_clock(clock.clone()).await;
    let (_, key) = new_fund(&app, "甲基金").await;
    let now = clock.now();
    let mut later = roadshow_body(now, 5);
    later["registration_opens_at"] = json!(rfc(now + chrono::Duration::days(1)));
    let later = published(&app, later).await;
    let resp = register(&app, &key, &id_of(&later), "a@f.example.cn", 1).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(problem(resp).await["code"], "registration_not_open");

    let rs = published(&app, roadshow_body(now, 5)).await;
    let rid = id_of(&rs);
    let a = registered(&app, &key, &rid, "a@f.example.cn").await;
    let b = registered(&app, &key, &rid, "b@f.example.cn").await;
    // The default cancellation deadline is 24 hours before the start (10 days ahead).
    clock.advance(chrono::Duration::days(9) + chrono::Duration::hours(1));
    let resp = delete(&app, &format!("/v1/roadshows/{rid}/registrations/{}", id_of(&a)), &key).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let p = problem(resp).await;
    assert_eq!(p["code"], "cancellation_deadline_passed");
    assert!(p["cancellation_deadline"].is_string());
    // The office may still cancel (a known no-show), until the roadshow ends.
    let resp = delete(&app, &format!("/v1/roadshows/{rid}/registrations/{}", id_of(&b)), &app.admin_key).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.json::<Value>().await.expect("json")["cancel_reason"], "office");
    clock.advance(chrono::Duration::days(1));
    let resp = register(&app, &key, &rid, "c@f.example.cn", 1).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(problem(resp).await["code"], "registration_closed");
}

#[tokio::test]
async fn a_fund_cannot_see_or_cancel_another_funds_registrations() {
    let app = spawn_app().await;
    let (fund_a, key_a) = new_fund(&app, "甲基金").await;
    let (_, key_b) = new_fund(&app, "乙基金").await;
    let rid = id_of(&published(&app, roadshow_body(Utc::now(), 10)).await);
    let a = registered(&app, &key_a, &rid, "a@fund-a.example.cn").await;
    let b = registered(&app, &key_b, &rid, "b@fund-b.example.cn").await;
    let path_a = format!("/v1/roadshows/{rid}/registrations/{}", id_of(&a));
    assert_eq!(app.get(&path_a, &key_b).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(delete(&app, &path_a, &key_b).await.status(), StatusCode::NOT_FOUND);
    let still: Value = app.get(&path_a, &key_a).await.json().await.expect("json");
    assert_eq!(still["status"], "confirmed");
    let list_b: Value =
        app.get(&format!("/v1/roadshows/{rid}/registrations"), &key_b).await.json().await.expect("json");
    let ids: Vec<String> = list_b["items"].as_array().expect("items").iter().map(id_of).collect();
    assert_eq!(ids, [id_of(&b)]);
    let list_b_asks_for_a: Value = app
        .get(&format!("/v1/roadshows/{rid}/registrations?fund_id={fund_a}"), &key_b)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        list_b_asks_for_a["items"].as_array().expect("items").len(),
        1,
        "the fund filter cannot widen the scope"
    );
    let all: Value =
        app.get(&format!("/v1/roadshows/{rid}/registrations"), &app.admin_key).await.json().await.expect("json");
    assert_eq!(all["items"].as_array().expect("items").len(), 2);
    // A fund key cannot register for another fund, and enterprises cannot register.
    let resp = app
        .post_json(
            &format!("/v1/roadshows/{rid}/registrations"),
            &key_b,
            &json!({"attendee_name": "x", "attendee_email": "x@f.example.cn", "fund_id": fund_a}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "another fund is a foreign subject");
    let firm = app.create_firm(firm_body(1)).await;
    let ent = app.key_for(Role::Enterprise, Some(id_of(&firm).parse().expect("uuid"))).await;
    assert_eq!(register(&app, &ent, &rid, "e@firm.example.cn", 1).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn check_in_is_idempotent_and_refuses_with_a_reason() {
    let app = spawn_app().await;
    let (_, key) = new_fund(&app, "甲基金").await;
    let rid = id_of(&published(&app, roadshow_body(Utc::now(), 1)).await);
    let a = registered(&app, &key, &rid, "a@f.example.cn").await;
    let w = registered(&app, &key, &rid, "w@f.example.cn").await;
    let x = registered(&app, &key, &rid, "x@f.example.cn").await;
    delete(&app, &format!("/v1/roadshows/{rid}/registrations/{}", id_of(&x)), &key).await;
    let check = |token: Value| {
        let app = &app;
        let rid = rid.clone();
        async move {
            app.post_json(&format!("/v1/roadshows/{rid}/check-in"), &app.admin_key, &json!({"token": token})).await
        }
    };
    let first = check(a["checkin_token"].clone()).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.expect("json");
    assert_eq!(first["first_check_in"], true);
    let checked_at = first["registration"]["checked_in_at"].clone();
    assert!(checked_at.is_string());
    let again: Value = check(a["checkin_token"].clone()).await.json().await.expect("json");
    assert_eq!(
        (again["first_check_in"].clone(), again["registration"]["checked_in_at"].clone()),
        (json!(false), checked_at)
    );

    let resp = check(w["checkin_token"].clone()).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(problem(resp).await["code"], "registration_waitlisted");
    let resp = check(x["checkin_token"].clone()).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let p = problem(resp).await;
    assert_eq!((p["code"].as_str(), p["status"].as_u64()), (Some("registration_cancelled"), Some(409)));
    assert_eq!(check(json!("no-such-token")).await.status(), StatusCode::NOT_FOUND);
    let resp =
        app.post_json(&format!("/v1/roadshows/{rid}/check-in"), &key, &json!({"token": a["checkin_token"]})).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    let rows =
        sqlx::query("SELECT outcome FROM roadshow_checkins ORDER BY id").fetch_all(app.db.pool()).await.expect("rows");
    let outcomes: Vec<String> = rows.iter().map(|r| r.text("outcome").expect("outcome")).collect();
    assert_eq!(
        outcomes,
        ["checked_in", "already_checked_in", "registration_waitlisted", "registration_cancelled", "unknown_token"]
    );
    let outcome: Value =
        app.get(&format!("/v1/roadshows/{rid}/outcome"), &app.admin_key).await.json().await.expect("json");
    assert_eq!(outcome["checked_in"], 1);
}

#[tokio::test]
async fn a_changed_then_cancelled_roadshow_updates_and_removes_the_invitations() {
    let (app, sink) = app_with_sink(Arc::new(SystemClock)).await;
    let (_, key) = new_fund(&app, "甲基金").await;
    let rs = published(&app, roadshow_body(Utc::now(), 1)).await;
    let rid = id_of(&rs);
    let a = registered(&app, &key, &rid, "a@f.example.cn").await;
    registered(&app, &key, &rid, "w@f.example.cn").await;
    sink.wait_for(2, WAIT).await;
    let uid = format!("registration-{}@srdi-capital", id_of(&a));

    let resp = app
        .patch_json(
            &format!("/v1/roadshows/{rid}"),
            &app.admin_key,
            &json!({"venue": "济南市高新区舜华路 2000 号", "change_note": "会场调整"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.json::<Value>().await.expect("json")["sequence"], 1);
    // A capacity change moves no calendar entry: no mail for it (but a promotion).
    let resp = app.patch_json(&format!("/v1/roadshows/{rid}"), &app.admin_key, &json!({"capacity": 2})).await;
    assert_eq!(resp.json::<Value>().await.expect("json")["sequence"], 1);
    sink.wait_for(4, WAIT).await;
    let changed = mails_to(&sink, "a@f.example.cn")
        .into_iter()
        .find(|m| m.subject.as_deref().is_some_and(|s| s.contains("活动变更")))
        .expect("change mail");
    assert!(changed.text_body.as_deref().expect("text").contains("会场调整"));
    let (method, ev) = calendar(&changed);
    assert_eq!((method.as_str(), ev.uid(), ev.sequence()), ("REQUEST", Some(uid.clone()), Some(1)));
    assert!(ev.text("LOCATION").expect("location").contains("舜华路"));
    assert!(
        mails_to(&sink, "w@f.example.cn").iter().any(|m| m.subject.as_deref().is_some_and(|s| s.contains("候补转正")))
    );

    let resp = app
        .post_json(
            &format!("/v1/roadshows/{rid}/status"),
            &app.admin_key,
            &json!({"status": "cancelled", "reason": "场地原因"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let cancelled: Value = resp.json().await.expect("json");
    assert_eq!((cancelled["seats_taken"].as_i64(), cancelled["sequence"].as_i64()), (Some(0), Some(2)));
    sink.wait_for(6, WAIT).await;
    let removal = mails_to(&sink, "a@f.example.cn")
        .into_iter()
        .find(|m| m.subject.as_deref().is_some_and(|s| s.contains("活动取消")))
        .expect("cancellation mail");
    assert!(removal.text_body.as_deref().expect("text").contains("场地原因"));
    let (method, ev) = calendar(&removal);
    assert_eq!((method.as_str(), ev.uid(), ev.sequence()), ("CANCEL", Some(uid), Some(2)));
    let reg: Value =
        app.get(&format!("/v1/roadshows/{rid}/registrations/{}", id_of(&a)), &key).await.json().await.expect("json");
    assert_eq!(
        (reg["status"].as_str(), reg["cancel_reason"].as_str()),
        (Some("cancelled"), Some("roadshow_cancelled"))
    );
    let n = sqlx::query("SELECT COUNT(*) AS n FROM mail_outbox").fetch_one(app.db.pool()).await.expect("count");
    assert_eq!(n.int("n").expect("n"), 6, "confirm, waitlist, change, promotion, two cancellations");

    let resp = app.get(&format!("/v1/roadshows/{rid}/calendar.ics"), &key).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"].to_str().expect("ct").starts_with("text/calendar"));
    let feed = ics::parse(&resp.text().await.expect("text"));
    assert_eq!(feed.method.as_deref(), Some("PUBLISH"));
    assert_eq!(feed.events[0].uid(), Some(format!("roadshow-{rid}@srdi-capital")));
    assert_eq!((feed.events[0].sequence(), feed.events[0].status().as_deref()), (Some(2), Some("CANCELLED")));
    assert!(feed.events[0].get("ATTENDEE").is_none());
    let resp = app.patch_json(&format!("/v1/roadshows/{rid}"), &app.admin_key, &json!({"capacity": 3})).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
}

async fn outbox(app: &TestApp) -> Vec<(String, i64)> {
    sqlx::query("SELECT status, attempts FROM mail_outbox ORDER BY id")
        .fetch_all(app.db.pool())
        .await
        .expect("rows")
        .iter()
        .map(|r| (r.text("status").expect("status"), r.int("attempts").expect("attempts")))
        .collect()
}

async fn wait_until<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + WAIT;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn smtp_down_then_up_delivers_the_mail_once_late_not_lost() {
    let (app, sink) = app_with_sink(Arc::new(SystemClock)).await;
    sink.set_down(true);
    let (_, key) = new_fund(&app, "甲基金").await;
    let rid = id_of(&published(&app, roadshow_body(Utc::now(), 5)).await);
    registered(&app, &key, &rid, "a@f.example.cn").await;
    wait_until("two failed attempts", || async { outbox(&app).await.first().is_some_and(|(_, n)| *n >= 2) }).await;
    assert!(sink.messages().is_empty());
    assert_eq!(outbox(&app).await[0].0, "pending");
    let error: Option<String> = sqlx::query("SELECT last_error FROM mail_outbox")
        .fetch_one(app.db.pool())
        .await
        .expect("row")
        .opt_text("last_error")
        .expect("text");
    assert!(error.as_deref().is_some_and(|e| e.contains("421") && !e.contains('@')), "{error:?}");

    sink.set_down(false);
    let mails = sink.wait_for(1, WAIT).await;
    wait_until("the row marked sent", || async { outbox(&app).await[0].0 == "sent" }).await;
    assert_eq!(sink.messages().len(), 1, "delivered exactly once");
    assert_eq!(mails[0].envelope_to, ["a@f.example.cn"]);
    let (method, _) = calendar(&mails[0].parsed());
    assert_eq!(method, "REQUEST");
}

#[tokio::test]
async fn without_smtp_mails_are_written_as_parseable_eml_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mail_dir = dir.path().join("mail");
    let md = mail_dir.clone();
    let app = spawn_app_with(
        move |c| {
            c.smtp_url = None;
            c.mail_dir = md;
            c.mail_poll_interval_ms = 50;
        },
        Arc::new(SystemClock),
    )
    .await;
    let (_, key) = new_fund(&app, "甲基金").await;
    let rid = id_of(&published(&app, roadshow_body(Utc::now(), 5)).await);
    let a = registered(&app, &key, &rid, "a@f.example.cn").await;
    let eml = || {
        std::fs::read_dir(&mail_dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_else(|_| Vec::<std::path::PathBuf>::new())
    };
    wait_until("an .eml file", || async { !eml().is_empty() }).await;
    let files = eml();
    assert_eq!(files.len(), 1);
    let parsed = ParsedMail::parse(&std::fs::read(&files[0]).expect("read eml"));
    assert_eq!(parsed.to, ["a@f.example.cn"]);
    assert!(parsed.subject.as_deref().expect("subject").contains("报名成功"));
    let (method, ev) = calendar(&parsed);
    assert_eq!((method.as_str(), ev.uid()), ("REQUEST", Some(format!("registration-{}@srdi-capital", id_of(&a)))));
    wait_until("the row marked sent", || async { outbox(&app).await[0].0 == "sent" }).await;
}

#[tokio::test]
async fn concurrent_registrations_never_oversell_and_waitlist_in_order() {
    let (n, capacity) = if backend() == "postgres" { (200usize, 50usize) } else { (40, 10) };
    let app = spawn_app_with(
        |c| {
            c.workers_enabled = false;
            c.database_max_connections = 10;
            // Exactness under contention is the point here, not the admission queue's deadline.
            c.admission_queue_timeout_ms = 60_000;
        },
        Arc::new(SystemClock),
    )
    .await;
    let (_, key) = new_fund(&app, "甲基金").await;
    let rid = id_of(&published(&app, roadshow_body(Utc::now(), capacity as i64)).await);
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = Vec::new();
    for i in 0..n {
        let client = app.client.clone();
        let url = format!("{}/v1/roadshows/{rid}/registrations", app.base);
        let key = key.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let resp = client
                .post(url)
                .bearer_auth(key)
                .json(&json!({"attendee_name": format!("经理{i}"), "attendee_email": format!("m{i}@f.example.cn")}))
                .send()
                .await
                .expect("request");
            (resp.status(), resp.json::<Value>().await.expect("json"))
        }));
    }
    let mut regs = Vec::new();
    for t in tasks {
        let (status, body) = t.await.expect("task");
        assert_eq!(status, StatusCode::CREATED, "{body}");
        regs.push(body);
    }
    regs.sort_by_key(id_of);
    let confirmed: Vec<&Value> = regs.iter().filter(|r| r["status"] == "confirmed").collect();
    let waitlisted: Vec<&Value> = regs.iter().filter(|r| r["status"] == "waitlisted").collect();
    assert_eq!((confirmed.len(), waitlisted.len()), (capacity, n - capacity));
    // Ids are made under the roadshow lock, so id order is lock order: every confirmed came
    // before every waitlisted, and the waitlist is numbered 1, 2, … in that order.
    assert!(regs[..capacity].iter().all(|r| r["status"] == "confirmed"));
    let positions: Vec<i64> = waitlisted.iter().map(|r| r["waitlist_position"].as_i64().expect("position")).collect();
    assert_eq!(positions, (1..=(n - capacity) as i64).collect::<Vec<_>>());
    let roadshow: Value = app.get(&format!("/v1/roadshows/{rid}"), &key).await.json().await.expect("json");
    assert_eq!(roadshow["seats_taken"], capacity);
    let row = sqlx::query("SELECT COUNT(*) AS n FROM roadshow_registrations WHERE status = 'confirmed'")
        .fetch_one(app.db.pool())
        .await
        .expect("count");
    assert_eq!(row.int("n").expect("n"), capacity as i64);

    // Cancelling one confirmed promotes waitlist position 1.
    delete(&app, &format!("/v1/roadshows/{rid}/registrations/{}", id_of(confirmed[0])), &key).await;
    let first_waiting = id_of(waitlisted[0]);
    let now: Value =
        app.get(&format!("/v1/roadshows/{rid}/registrations/{first_waiting}"), &key).await.json().await.expect("json");
    assert_eq!(now["status"], "confirmed");
}

/// A burst far larger than the connection pool and the admission queue: every answer is 201, 409
/// (the same address twice) or 429 with `Retry-After`, never a 5xx; the seats are exactly the
/// capacity and the waitlist places of the created registrations are 1, 2, … without a gap.
#[tokio::test]
async fn a_burst_larger_than_the_pool_gets_only_201_409_or_429() {
    let (n, distinct, capacity, queue) = (400usize, 300usize, 50usize, 100u32);
    let app = spawn_app_with(
        |c| {
            c.workers_enabled = false;
            c.database_max_connections = 5;
            c.admission_queue = queue;
            c.admission_queue_timeout_ms = 60_000;
        },
        Arc::new(SystemClock),
    )
    .await;
    let (_, key) = new_fund(&app, "甲基金").await;
    let rid = id_of(&published(&app, roadshow_body(Utc::now(), capacity as i64)).await);
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = Vec::new();
    for i in 0..n {
        let client = app.client.clone();
        let url = format!("{}/v1/roadshows/{rid}/registrations", app.base);
        let key = key.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let email = format!("m{}@f.example.cn", i % distinct);
            barrier.wait().await;
            let resp = client
                .post(url)
                .bearer_auth(key)
                .json(&json!({"attendee_name": format!("经理{i}"), "attendee_email": email}))
                .send()
                .await
                .expect("request");
            let retry_after = resp.headers().get("retry-after").map(|v| v.to_str().expect("ascii").to_owned());
            let ctype = resp.headers().get("content-type").map(|v| v.to_str().expect("ascii").to_owned());
            (resp.status(), retry_after, ctype, resp.json::<Value>().await.expect("json"))
        }));
    }
    let (mut created, mut duplicates, mut refused) = (Vec::new(), 0usize, 0usize);
    for t in tasks {
        let (status, retry_after, ctype, body) = t.await.expect("task");
        match status {
            StatusCode::CREATED => created.push(body),
            StatusCode::CONFLICT => {
                assert_eq!(body["code"], "already_registered", "{body}");
                duplicates += 1;
            }
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(body["code"], "overloaded", "{body}");
                assert_eq!(ctype.as_deref(), Some("application/problem+json"));
                assert!(retry_after.and_then(|s| s.parse::<u64>().ok()).is_some_and(|s| s >= 1), "Retry-After");
                refused += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    // Five run and a hundred wait; four hundred at once cannot all fit, and those who got in
    // were more than the seats.
    assert!(
        refused > 0 && created.len() > capacity,
        "{} created, {duplicates} duplicates, {refused} refused",
        created.len()
    );
    let mut emails: Vec<&str> = created.iter().map(|r| r["attendee_email"].as_str().expect("email")).collect();
    emails.sort_unstable();
    emails.dedup();
    assert_eq!(emails.len(), created.len(), "one active registration per address");
    let confirmed = created.iter().filter(|r| r["status"] == "confirmed").count();
    assert_eq!(confirmed, capacity.min(created.len()));
    let mut positions: Vec<i64> = created
        .iter()
        .filter(|r| r["status"] == "waitlisted")
        .map(|r| r["waitlist_position"].as_i64().expect("position"))
        .collect();
    positions.sort_unstable();
    assert_eq!(positions, (1..=(created.len() - confirmed) as i64).collect::<Vec<_>>());
    let roadshow: Value = app.get(&format!("/v1/roadshows/{rid}"), &key).await.json().await.expect("json");
    assert_eq!(roadshow["seats_taken"], confirmed);
    let row = sqlx::query("SELECT COUNT(*) AS n FROM roadshow_registrations WHERE roadshow_id = $1")
        .bind(&rid)
        .fetch_one(app.db.pool())
        .await
        .expect("count");
    assert_eq!(row.int("n").expect("n"), created.len() as i64, "nothing written for a refused request");
    // The same request sent again after a 429 is served.
    let resp = register(&app, &key, &rid, "late@f.example.cn", 1).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn approval_step_takes_seats_only_when_approved() {
    let app = spawn_app().await;
    let (_, key) = new_fund(&app, "甲基金").await;
    let mut body = roadshow_body(Utc::now(), 1);
    body["requires_approval"] = json!(true);
    let rid = id_of(&published(&app, body).await);
    let r1 = registered(&app, &key, &rid, "a@f.example.cn").await;
    let r2 = registered(&app, &key, &rid, "b@f.example.cn").await;
    let r3 = registered(&app, &key, &rid, "c@f.example.cn").await;
    assert_eq!(r1["status"], "pending_approval");
    let roadshow: Value = app.get(&format!("/v1/roadshows/{rid}"), &key).await.json().await.expect("json");
    assert_eq!(roadshow["seats_taken"], 0);
    let decide = |rid: &str, reg: &Value, decision: &str, k: &str| {
        let path = format!("/v1/roadshows/{rid}/registrations/{}/decision", id_of(reg));
        let body = json!({"decision": decision});
        let app = &app;
        let k = k.to_owned();
        async move { app.post_json(&path, &k, &body).await }
    };
    assert_eq!(decide(&rid, &r1, "approve", &key).await.status(), StatusCode::FORBIDDEN);
    let a1: Value = decide(&rid, &r1, "approve", &app.admin_key).await.json().await.expect("json");
    assert_eq!(a1["status"], "confirmed");
    let a2: Value = decide(&rid, &r2, "approve", &app.admin_key).await.json().await.expect("json");
    assert_eq!((a2["status"].as_str(), a2["waitlist_position"].as_i64()), (Some("waitlisted"), Some(1)));
    let a3: Value = decide(&rid, &r3, "reject", &app.admin_key).await.json().await.expect("json");
    assert_eq!(a3["status"], "rejected");
    let resp = decide(&rid, &r1, "approve", &app.admin_key).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(problem(resp).await["code"], "not_pending_approval");
    assert_eq!(decide(&rid, &r2, "maybe", &app.admin_key).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let resp = app
        .post_json(&format!("/v1/roadshows/{rid}/check-in"), &app.admin_key, &json!({"token": r3["checkin_token"]}))
        .await;
    assert_eq!(problem(resp).await["code"], "registration_rejected");
    // A rejected address may register again (it is no longer active).
    assert_eq!(register(&app, &key, &rid, "c@f.example.cn", 1).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn presenters_are_recommended_by_fit_scheduled_and_see_their_slot() {
    let (app, sink) = app_with_sink(Arc::new(SystemClock)).await;
    let (_, fund) = new_fund(&app, "甲基金").await;
    let firm = |n: usize, industry: &str, tier: &str| {
        json!({"credit_code": code(n), "name": format!("路演企业{n}有限公司"), "city": "jinan", "industry_code": industry,
               "tier": tier, "contact_name": format!("联系人{n}"), "contact_email": format!("cfo{n}@firm.example.cn")})
    };
    let f1 = id_of(&app.create_firm(firm(1, "C3562", "little_giant")).await);
    let f2 = id_of(&app.create_firm(firm(2, "C3511", "provincial_srdi")).await);
    let f3 = id_of(&app.create_firm(firm(3, "C3562", "little_giant")).await);
    let f4 = id_of(&app.create_firm(firm(4, "I6513", "little_giant")).await);
    for (f, venue, key_firm) in [(&f1, "bse", true), (&f2, "star", false), (&f3, "bse", true), (&f4, "bse", true)] {
        let resp = app
            .post_json(
                "/v1/reserve-pool",
                &app.admin_key,
                &json!({"firm_id": f, "target_venue": venue, "key_firm": key_firm}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    let ent1 = app.key_for(Role::Enterprise, Some(f1.parse().expect("uuid"))).await;
    let ent2 = app.key_for(Role::Enterprise, Some(f2.parse().expect("uuid"))).await;
    let vis = |f: &str| format!("/v1/firms/{f}/investor-visibility");
    let v: Value = app.get(&vis(&f1), &ent1).await.json().await.expect("json");
    assert_eq!(v["visible"], false, "off until the firm opts in");
    assert_eq!(app.put_json(&vis(&f1), &ent1, &json!({"visible": true})).await.status(), StatusCode::OK);
    assert_eq!(app.put_json(&vis(&f2), &ent1, &json!({"visible": true})).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.put_json(&vis(&f2), &ent2, &json!({"visible": true})).await.status(), StatusCode::OK);
    assert_eq!(app.put_json(&vis(&f4), &app.admin_key, &json!({"visible": true})).await.status(), StatusCode::OK);

    let rs = published(&app, roadshow_body(Utc::now(), 20)).await;
    let rid = id_of(&rs);
    let rec: Value =
        app.get(&format!("/v1/roadshows/{rid}/recommended-firms"), &app.admin_key).await.json().await.expect("json");
    let got: Vec<(String, u64)> = rec["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| (r["firm_id"].as_str().expect("id").to_owned(), r["score"].as_u64().expect("score")))
        .collect();
    // f3 has not opted in; f4 is outside the C35 focus.
    assert_eq!(got, [(f1.clone(), 95), (f2.clone(), 70)]);
    assert_eq!(rec["items"][0]["reasons"], json!(["industry:C35", "tier:little_giant", "key_firm", "venue:bse"]));
    assert_eq!(app.get(&format!("/v1/roadshows/{rid}/recommended-firms"), &fund).await.status(), StatusCode::FORBIDDEN);

    let starts: DateTime<Utc> = rs["starts_at"].as_str().expect("start").parse().expect("time");
    let slot = |from_min: i64, to_min: i64| {
        json!({"slot_starts_at": rfc(starts + chrono::Duration::minutes(from_min)),
               "slot_ends_at": rfc(starts + chrono::Duration::minutes(to_min))})
    };
    let path = |f: &str| format!("/v1/roadshows/{rid}/presenters/{f}");
    let resp = app.put_json(&path(&f1), &app.admin_key, &slot(30, 50)).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let p1: Value = resp.json().await.expect("json");
    assert_eq!(app.put_json(&path(&f1), &app.admin_key, &slot(30, 50)).await.status(), StatusCode::OK);
    let resp = app.put_json(&path(&f2), &app.admin_key, &slot(40, 60)).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(problem(resp).await["code"], "slot_overlap");
    assert_eq!(
        app.put_json(&path(&f2), &app.admin_key, &slot(-30, 10)).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(app.put_json(&path(&f2), &app.admin_key, &slot(50, 70)).await.status(), StatusCode::CREATED);
    let moved: Value = app.put_json(&path(&f1), &app.admin_key, &slot(0, 20)).await.json().await.expect("json");
    assert_eq!((moved["id"].clone(), moved["sequence"].as_i64()), (p1["id"].clone(), Some(1)));

    sink.wait_for(3, WAIT).await;
    let to_f1 = mails_to(&sink, "cfo1@firm.example.cn");
    assert_eq!(to_f1.len(), 2, "one invitation, one update; the unchanged PUT sent nothing");
    let uid = format!("presenter-slot-{}@srdi-capital", id_of(&p1));
    let mut seqs: Vec<u32> = to_f1
        .iter()
        .map(|m| {
            assert!(m.subject.as_deref().expect("subject").contains("路演时段确认"));
            let (method, ev) = calendar(m);
            assert_eq!((method.as_str(), ev.uid()), ("REQUEST", Some(uid.clone())));
            ev.sequence().expect("sequence")
        })
        .collect();
    seqs.sort();
    assert_eq!(seqs, [0, 1]);

    // The presenting firm sees its own slot only; funds see the schedule.
    let own: Value = app.get(&format!("/v1/roadshows/{rid}/presenters"), &ent1).await.json().await.expect("json");
    let firms: Vec<&str> =
        own["items"].as_array().expect("items").iter().map(|p| p["firm_id"].as_str().expect("f")).collect();
    assert_eq!(firms, [f1.as_str()]);
    let all: Value = app.get(&format!("/v1/roadshows/{rid}/presenters"), &fund).await.json().await.expect("json");
    assert_eq!(all["items"].as_array().expect("items").len(), 2);
    let slots: Value = app.get(&format!("/v1/firms/{f1}/roadshow-slots"), &ent1).await.json().await.expect("json");
    assert_eq!(slots["items"][0]["roadshow"]["id"], rid.as_str());
    assert_eq!(slots["items"][0]["slot"]["sequence"], 1);
    assert_eq!(app.get(&format!("/v1/firms/{f1}/roadshow-slots"), &ent2).await.status(), StatusCode::FORBIDDEN);
    let rec: Value =
        app.get(&format!("/v1/roadshows/{rid}/recommended-firms"), &app.admin_key).await.json().await.expect("json");
    assert!(rec["items"].as_array().expect("items").is_empty(), "presenting firms are not recommended again");
    let feed = app.get(&format!("/v1/roadshows/{rid}/calendar.ics"), &fund).await.text().await.expect("ics");
    assert!(ics::parse(&feed).events[0].text("DESCRIPTION").expect("description").contains("路演企业1有限公司"));
    let resp = app.req(Method::DELETE, &path(&f2), Some(&app.admin_key)).send().await.expect("req");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn other_engineers_mail_kinds_go_through_enqueue() {
    use srdi_capital::mail::ics::Party;
    use srdi_capital::mail::outbox;
    use srdi_capital::mail::templates::{MailContext, MailKind, MailRequest};
    let (app, sink) = app_with_sink(Arc::new(SystemClock)).await;
    let now = Utc::now();
    let context = MailContext {
        recipient: Party { name: "李总".into(), email: "li@firm.example.cn".into() },
        organizer: outbox::organizer(&app.config),
        created_at: now,
        roadshow: None,
        registration: None,
    };
    let req = MailRequest {
        kind: MailKind::ApplicationStatusChanged {
            application_id: Uuid::now_v7(),
            product_name: "专精特新贷".into(),
            bank_name: "齐鲁银行".into(),
            from: "under_review".into(),
            to: "approved".into(),
            remark: None,
        },
        context: context.clone(),
    };
    let mut tx = app.db.begin().await.expect("tx");
    let id = outbox::enqueue(&mut tx, &req, now).await.expect("enqueued");
    tx.commit().await.expect("commit");
    // A request that cannot be rendered fails at enqueue and writes nothing.
    let mut tx = app.db.begin().await.expect("tx");
    let bad = MailRequest { kind: MailKind::RegistrationConfirmed, context: context.clone() };
    assert!(outbox::enqueue(&mut tx, &bad, now).await.is_err());
    let undeliverable = MailRequest {
        context: MailContext { recipient: Party { name: "x".into(), email: "not an address".into() }, ..context },
        ..req
    };
    assert!(outbox::enqueue(&mut tx, &undeliverable, now).await.is_err());
    drop(tx);

    let mails = sink.wait_for(1, WAIT).await;
    let parsed = mails[0].parsed();
    assert_eq!(mails[0].envelope_to, ["li@firm.example.cn"]);
    assert!(parsed.subject.as_deref().expect("subject").contains("融资申请状态更新"));
    assert!(parsed.calendar.is_none() && parsed.attachments.is_empty());
    assert_eq!(parsed.message_id.as_deref(), Some(format!("{id}@srdi-capital.local").as_str()));
    wait_until("sent", || async { outbox(&app).await == [("sent".to_owned(), 1)] }).await;
    let mut conn = app.db.pool().acquire().await.expect("conn");
    let entry = outbox::get(&mut conn, id).await.expect("get").expect("row");
    assert_eq!((entry.kind.as_str(), entry.status.as_str()), ("application_status_changed", "sent"));
}

#[tokio::test]
async fn demo_data_has_published_roadshows_at_every_centre_that_the_demo_fund_can_join() {
    let app = spawn_app().await;
    let now = Utc::now();
    srdi_capital::seed::seed(&app.db, 40, 30, 2022, now).await.expect("seed");
    let subjects = srdi_capital::seed::demo_subjects(&app.db, now).await.expect("subjects");
    srdi_capital::seed::demo_subjects(&app.db, now).await.expect("again: no second set of roadshows");
    let fund = app.key_for(Role::Fund, Some(subjects.fund_id)).await;
    let list: Value = app.get("/v1/roadshows", &fund).await.json().await.expect("json");
    let mut centres: Vec<&str> =
        list["items"].as_array().expect("items").iter().map(|r| r["centre"].as_str().expect("centre")).collect();
    centres.sort();
    assert_eq!(centres, ["beijing", "jinan", "online", "shanghai", "shenzhen"]);
    let jinan = list["items"].as_array().expect("items").iter().find(|r| r["centre"] == "jinan").expect("jinan");
    let reg = registered(&app, &fund, &id_of(jinan), "demo@fund.example.cn").await;
    assert_eq!(reg["status"], "confirmed");
    let ent = app.key_for(Role::Enterprise, Some(subjects.firm_id.uuid())).await;
    let slots: Value =
        app.get(&format!("/v1/firms/{}/roadshow-slots", subjects.firm_id), &ent).await.json().await.expect("json");
    assert_eq!(slots["items"][0]["roadshow"]["id"], jinan["id"]);
    // Beijing has no industry focus: every opted-in pool firm is a candidate, the demo firm included.
    let beijing = list["items"].as_array().expect("items").iter().find(|r| r["centre"] == "beijing").expect("beijing");
    let rec: Value = app
        .get(&format!("/v1/roadshows/{}/recommended-firms?limit=200", id_of(beijing)), &app.admin_key)
        .await
        .json()
        .await
        .expect("json");
    let firms: Vec<&str> =
        rec["items"].as_array().expect("items").iter().map(|r| r["firm_id"].as_str().expect("id")).collect();
    assert!(firms.contains(&subjects.firm_id.to_string().as_str()), "{rec}");
}

/// Moving a roadshow moves its presenter slots with it, in the same transaction, and the updated
/// invitation carries the new time; a move that would leave a slot outside is refused whole.
#[tokio::test]
async fn moving_a_roadshow_moves_its_presenter_slots_and_mails_the_new_time() {
    let (app, sink) = app_with_sink(Arc::new(SystemClock)).await;
    let firm = id_of(&app.create_firm(firm_body(1)).await);
    let rs = published(&app, roadshow_body(Utc::now(), 20)).await;
    let rid = id_of(&rs);
    let starts: DateTime<Utc> = rs["starts_at"].as_str().expect("start").parse().expect("time");
    let ends: DateTime<Utc> = rs["ends_at"].as_str().expect("end").parse().expect("time");
    let at = |t: DateTime<Utc>, minutes: i64| t + chrono::Duration::minutes(minutes);
    let slot = json!({"slot_starts_at": rfc(at(starts, 30)), "slot_ends_at": rfc(at(starts, 50))});
    let resp = app.put_json(&format!("/v1/roadshows/{rid}/presenters/{firm}"), &app.admin_key, &slot).await;
    assert_eq!(resp.status(), StatusCode::CREATED);

    let day = 24 * 60;
    let moved = json!({"starts_at": rfc(at(starts, day)), "ends_at": rfc(at(ends, day)), "change_note": "改期一天"});
    let resp = app.patch_json(&format!("/v1/roadshows/{rid}"), &app.admin_key, &moved).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let presenters: Value =
        app.get(&format!("/v1/roadshows/{rid}/presenters"), &app.admin_key).await.json().await.expect("json");
    let p = &presenters["items"][0];
    let slot_start: DateTime<Utc> = p["slot_starts_at"].as_str().expect("start").parse().expect("time");
    let slot_end: DateTime<Utc> = p["slot_ends_at"].as_str().expect("end").parse().expect("time");
    assert_eq!((slot_start, slot_end), (at(starts, day + 30), at(starts, day + 50)), "the slot keeps its place");

    sink.wait_for(2, WAIT).await;
    let mails = mails_to(&sink, "cfo1@firm.example.cn");
    let latest = mails.iter().map(|m| calendar(m).1).max_by_key(|ev| ev.sequence()).expect("an invitation");
    assert_eq!(latest.sequence(), Some(1));
    let dtstart = latest.get("DTSTART").expect("DTSTART");
    let shown =
        chrono::NaiveDateTime::parse_from_str(dtstart.value.trim_end_matches('Z'), "%Y%m%dT%H%M%S").expect("time");
    let offset = if dtstart.params.iter().any(|(k, v)| k == "TZID" && v == "Asia/Shanghai") { 8 } else { 0 };
    let shown_utc = (shown - chrono::Duration::hours(offset)).and_utc();
    assert_eq!(shown_utc.timestamp(), at(starts, day + 30).timestamp(), "the mail carries the new time");

    // Shortening the roadshow past the slot is refused, and nothing of the PATCH is kept.
    let short = json!({"ends_at": rfc(at(starts, day + 40))});
    let resp = app.patch_json(&format!("/v1/roadshows/{rid}"), &app.admin_key, &short).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let p = problem(resp).await;
    assert_eq!((p["code"].as_str(), p["firm_id"].as_str()), (Some("slot_outside_roadshow"), Some(firm.as_str())));
    let now: Value = app.get(&format!("/v1/roadshows/{rid}"), &app.admin_key).await.json().await.expect("json");
    assert_eq!(now["ends_at"].as_str().expect("end").parse::<DateTime<Utc>>().expect("time"), at(ends, day));
}
