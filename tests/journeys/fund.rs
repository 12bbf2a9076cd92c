//! A fund manager's journey: the office onboards the fund and publishes a roadshow; the manager
//! browses roadshows, registers (confirmed), a colleague registers once it is full (waitlisted),
//! the confirmation mail carries a parseable `.ics` REQUEST, and when the office cancels the
//! roadshow the `.ics` CANCEL for the same invitation arrives, through a real SMTP server.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::json;
use srdi_capital::clock::SystemClock;
use srdi_capital::mail::ics;

use crate::helpers::*;
use crate::ok;
use crate::smtp_sink::{ParsedMail, SmtpSink};

const WAIT: Duration = Duration::from_secs(30);

fn mails_to(sink: &SmtpSink, address: &str) -> Vec<ParsedMail> {
    sink.messages().into_iter().filter(|m| m.envelope_to == [address.to_owned()]).map(|m| m.parsed()).collect()
}

/// The invitation of a mail: METHOD, UID, SEQUENCE and STATUS of its one event.
fn invitation(m: &ParsedMail) -> (String, Option<String>, Option<u32>, Option<String>) {
    let part = m.calendar.as_ref().expect("an inline text/calendar part");
    let cal = ics::parse(&part.text);
    assert_eq!(cal.events.len(), 1);
    let ev = &cal.events[0];
    (cal.method.clone().expect("METHOD"), ev.uid(), ev.sequence(), ev.status())
}

#[tokio::test]
async fn a_fund_manager_registers_is_invited_and_learns_of_the_cancellation() {
    let sink = SmtpSink::start();
    let url = sink.url();
    let app = spawn_app_with(
        move |c| {
            c.smtp_url = Some(srdi_capital::config::smtp::parse_smtp_url(&url).expect("sink url"));
            c.mail_poll_interval_ms = 50;
            c.mail_retry_schedule = vec![1; 60];
        },
        Arc::new(SystemClock),
    )
    .await;
    let admin = app.admin_key.clone();

    let fund = ok(app
        .post_json(
            "/v1/funds",
            &admin,
            &json!({"name": "泉城创投", "kind": "vc", "contact_email": "office@quancheng.example.cn"}),
        )
        .await)
    .await;
    let fund_id = fund["id"].as_str().expect("id").to_owned();
    let key = ok(app.post_json(&format!("/v1/funds/{fund_id}/keys"), &admin, &json!({"label": "manager"})).await).await
        ["key"]
        .as_str()
        .expect("key")
        .to_owned();

    let start = Utc::now() + chrono::Duration::days(10);
    let draft = ok(app
        .post_json(
            "/v1/roadshows",
            &admin,
            &json!({"title": "齐鲁企舞·济南站", "centre": "jinan", "venue": "济南市历下区经十路 1 号",
                "starts_at": start.to_rfc3339(), "ends_at": (start + chrono::Duration::hours(3)).to_rfc3339(),
                "registration_opens_at": (Utc::now() - chrono::Duration::hours(1)).to_rfc3339(),
                "capacity": 1, "industry_focus": ["C35"]}),
        )
        .await)
    .await;
    let rid = draft["id"].as_str().expect("id").to_owned();
    ok(app.post_json(&format!("/v1/roadshows/{rid}/status"), &admin, &json!({"status": "published"})).await).await;

    // The manager browses and finds it by centre.
    let list = ok(app.get("/v1/roadshows?centre=jinan", &key).await).await;
    assert!(list["items"].as_array().expect("items").iter().any(|r| r["id"] == rid));

    // One seat: the manager is confirmed, the colleague waitlisted.
    let register = |email: &'static str| {
        let (app, key, path) = (&app, key.clone(), format!("/v1/roadshows/{rid}/registrations"));
        async move {
            ok(app
                .post_json(&path, &key, &json!({"attendee_name": "王经理", "attendee_email": email, "party_size": 1}))
                .await)
            .await
        }
    };
    let mine = register("wang@quancheng.example.cn").await;
    assert_eq!(mine["status"], "confirmed");
    let colleague = register("li@quancheng.example.cn").await;
    assert_eq!(colleague["status"], "waitlisted");

    sink.wait_for(2, WAIT).await;
    let confirmation = mails_to(&sink, "wang@quancheng.example.cn");
    assert_eq!(confirmation.len(), 1);
    let (method, uid, sequence, _) = invitation(&confirmation[0]);
    assert_eq!(method, "REQUEST");
    assert!(uid.is_some());

    // The office cancels: the same invitation is cancelled in the manager's calendar.
    let cancelled = ok(app
        .post_json(
            &format!("/v1/roadshows/{rid}/status"),
            &admin,
            &json!({"status": "cancelled", "reason": "场地原因"}),
        )
        .await)
    .await;
    assert_eq!(cancelled["status"], "cancelled");
    let deadline = std::time::Instant::now() + WAIT;
    let cancel = loop {
        let mails = mails_to(&sink, "wang@quancheng.example.cn");
        if mails.len() >= 2 {
            break mails
                .into_iter()
                .find(|m| m.calendar.as_ref().is_some_and(|c| c.method.as_deref() == Some("CANCEL")));
        }
        assert!(std::time::Instant::now() < deadline, "no cancellation mail");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    .expect("a CANCEL invitation");
    let (method, cancel_uid, cancel_sequence, status) = invitation(&cancel);
    assert_eq!((method.as_str(), cancel_uid, status.as_deref()), ("CANCEL", uid, Some("CANCELLED")));
    assert!(cancel_sequence > sequence, "a later SEQUENCE replaces the invitation");
    let reg =
        ok(app.get(&format!("/v1/roadshows/{rid}/registrations/{}", mine["id"].as_str().expect("id")), &key).await)
            .await;
    assert_eq!(reg["status"], "cancelled");
    assert_eq!(app.get(&format!("/v1/roadshows/{rid}"), &key).await.status(), StatusCode::OK);
}
