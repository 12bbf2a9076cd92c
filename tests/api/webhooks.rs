//! Webhooks against a real HTTP receiver on loopback, on both backends.

#[path = "../support/webhook_receiver.rs"]
pub(crate) mod receiver;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use srdi_capital::clock::{ManualClock, SharedClock, SystemClock};
use srdi_capital::config::Config;
use srdi_capital::db::row::RowExt;
use srdi_capital::db::types::ts;
use srdi_capital::domain::access::Role;
use srdi_capital::domain::events::EventKind;
use srdi_capital::domain::ids::BankId;
use srdi_capital::service::events::{self, NewEvent};
use srdi_capital::service::webhook_dispatcher as dispatcher;
use srdi_capital::webhooks::signing::{self, WebhookSecret};
use uuid::Uuid;

use self::receiver::{Received, Receiver, Reply};
use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(15);

/// Webhook settings for tests: a sealing key, loopback 127.0.0.1 only, plain HTTP, a short
/// retry schedule, a 1 s request timeout and a fast poll.
pub(crate) fn hooks(c: &mut Config) {
    loopback_webhooks(c);
}

async fn hook_app() -> TestApp {
    spawn_app_with(hooks, Arc::new(SystemClock)).await
}

async fn hook_app_with(adjust: impl FnOnce(&mut Config), clock: SharedClock) -> TestApp {
    spawn_app_with(
        |c| {
            hooks(c);
            adjust(c);
        },
        clock,
    )
    .await
}

/// A bank with a bank key.
async fn bank(app: &TestApp, code: &str) -> (Uuid, String) {
    let id = app.insert_bank(code).await;
    let key = app.key_for(Role::Bank, Some(id)).await;
    (id, key)
}

/// Registers an endpoint; returns its id and signing secret.
async fn endpoint(app: &TestApp, key: &str, url: &str, types: &[&str]) -> (Uuid, String) {
    let resp = app
        .post_json("/v1/webhook-endpoints", key, &json!({"url": url, "event_types": types, "description": "测试"}))
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED, "create endpoint");
    let body: Value = resp.json().await.expect("json");
    (body["id"].as_str().expect("id").parse().expect("uuid"), body["secret"].as_str().expect("secret").to_owned())
}

async fn firm(app: &TestApp, n: usize) -> Uuid {
    app.create_firm(firm_body(n)).await["id"].as_str().expect("id").parse().expect("uuid")
}

/// Inserts a consent (the consent API is another capability's); `bank: None` = all banks.
async fn consent(app: &TestApp, firm: Uuid, bank: Option<Uuid>) -> Uuid {
    let id = Uuid::now_v7();
    let now = app.clock.now();
    sqlx::query("INSERT INTO consents (id, firm_id, bank_id, purpose, granted_at, expires_at) VALUES ($1, $2, $3, 'financing_matching', $4, $5)")
        .bind(id.to_string())
        .bind(firm.to_string())
        .bind(bank.map(|b| b.to_string()))
        .bind(ts(now - chrono::Duration::seconds(1)))
        .bind(ts(now + chrono::Duration::days(365)))
        .execute(app.db.pool())
        .await
        .expect("insert consent");
    id
}

/// Records an event of a hand-picked type through the service's one event path, in its own
/// transaction: for the delivery mechanics (retries, scope, limits) that need an event of a
/// given shape. What business changes send is proven from the public API in `events.rs`.
async fn record(app: &TestApp, event_type: &'static str, firm: Option<Uuid>, bank: Option<Uuid>, data: Value) -> Uuid {
    let mut tx = app.db.begin().await.expect("begin");
    let kind = event_type.parse().expect("a known event kind");
    let ev = events::record(
        &mut tx,
        NewEvent::fact(
            kind,
            firm.map(srdi_capital::domain::ids::FirmId::from_uuid),
            bank.map(BankId::from_uuid),
            Uuid::now_v7().to_string(),
            data,
        ),
        app.clock.now(),
    )
    .await
    .expect("record")
    .expect("new fact");
    tx.commit().await.expect("commit");
    ev.id
}

fn evt(id: Uuid) -> String {
    format!("evt_{}", id.simple())
}

/// Deliveries of an event: `(endpoint id, status, last_error)`.
async fn deliveries(app: &TestApp, event: Uuid) -> Vec<(Uuid, String, Option<String>)> {
    let rows = sqlx::query("SELECT endpoint_id, status, last_error FROM webhook_deliveries WHERE event_id = $1")
        .bind(event.to_string())
        .fetch_all(app.db.pool())
        .await
        .expect("deliveries");
    rows.iter()
        .map(|r| {
            (r.uuid("endpoint_id").expect("e"), r.text("status").expect("s"), r.opt_text("last_error").expect("l"))
        })
        .collect()
}

/// Polls the deliveries of an event until `done` holds; panics after [`WAIT`].
async fn wait_deliveries(
    app: &TestApp,
    event: Uuid,
    done: impl Fn(&[(Uuid, String, Option<String>)]) -> bool,
) -> Vec<(Uuid, String, Option<String>)> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let d = deliveries(app, event).await;
        if done(&d) {
            return d;
        }
        assert!(std::time::Instant::now() < deadline, "deliveries of {event} never reached the state: {d:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn attempts(app: &TestApp, key: &str, endpoint: Uuid) -> Vec<Value> {
    let resp = app.get(&format!("/v1/webhook-endpoints/{endpoint}/attempts"), key).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let page: Value = resp.json().await.expect("json");
    page["items"].as_array().expect("items").clone()
}

/// Verifies a received delivery with the independent Standard Webhooks reference library.
pub(crate) fn python_verifies(secret: &str, r: &Received) -> bool {
    r.verified_by_reference_library(secret)
}

/// Our own verifier, at the delivery's own timestamp (for deliveries made under a manual clock).
pub(crate) fn rust_verifies(secret: &str, r: &Received) -> bool {
    let secret = WebhookSecret::parse(secret).expect("secret");
    let ts: i64 = r.header("webhook-timestamp").parse().expect("timestamp");
    signing::verify(
        &secret,
        r.header("webhook-id"),
        r.header("webhook-timestamp"),
        r.header("webhook-signature"),
        &r.body,
        ts,
        signing::DEFAULT_TOLERANCE,
    )
    .is_ok()
}

#[tokio::test]
async fn endpoints_are_managed_by_their_bank_only() {
    let app = hook_app().await;
    let (a, key_a) = bank(&app, "A").await;
    let (_b, key_b) = bank(&app, "B").await;
    let f = firm(&app, 1).await;
    let ent = app.key_for(Role::Enterprise, Some(f)).await;
    let product = Uuid::now_v7();

    let resp = app
        .req(Method::POST, "/v1/webhook-endpoints", Some(&key_a))
        .header("Idempotency-Key", "ep-1")
        .json(&json!({"url": "https://hooks.bank-a.example/srdi", "event_types": ["match.created", "consent.revoked"],
            "product_ids": [product], "rate_limit_per_second": 10, "max_concurrency": 2}))
        .send()
        .await
        .expect("req");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let created: Value = resp.json().await.expect("json");
    let secret = created["secret"].as_str().expect("secret shown once");
    assert!(WebhookSecret::parse(secret).is_ok_and(|s| s.key_bytes().len() >= 24), "{secret}");
    assert_eq!(created["bank_id"], a.to_string());
    assert_eq!(created["event_types"], json!(["match.created", "consent.revoked"]));
    assert_eq!(created["product_ids"], json!([product]));
    assert_eq!(created["enabled"], true);
    let id = created["id"].as_str().expect("id").to_owned();
    // The secret is stored sealed, never in clear, not even in the idempotency record.
    let stored: Vec<String> = sqlx::query("SELECT sealed FROM webhook_secrets")
        .fetch_all(app.db.pool())
        .await
        .expect("secrets")
        .iter()
        .map(|r| r.text("sealed").expect("sealed"))
        .collect();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].starts_with("v1:") && !stored[0].contains(&secret[6..]));
    let replay = app
        .req(Method::POST, "/v1/webhook-endpoints", Some(&key_a))
        .header("Idempotency-Key", "ep-1")
        .json(&json!({"url": "https://hooks.bank-a.example/srdi", "event_types": ["match.created", "consent.revoked"],
            "product_ids": [product], "rate_limit_per_second": 10, "max_concurrency": 2}))
        .send()
        .await
        .expect("req");
    assert_eq!(replay.status(), StatusCode::CREATED);
    assert_eq!(replay.headers().get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    let replay: Value = replay.json().await.expect("json");
    assert_eq!(replay["id"], id.as_str());
    assert_eq!(replay["secret"], Value::Null);
    let all = sqlx::query("SELECT response_body FROM idempotency_keys").fetch_all(app.db.pool()).await.expect("idem");
    assert!(all.iter().all(|r| !r.opt_text("response_body").expect("t").unwrap_or_default().contains(&secret[6..])));

    let list: Value = app.get("/v1/webhook-endpoints", &key_a).await.json().await.expect("json");
    assert_eq!(list["items"].as_array().expect("items").len(), 1);
    let list: Value = app.get("/v1/webhook-endpoints", &key_b).await.json().await.expect("json");
    assert_eq!(list["items"], json!([]));
    let list: Value = app.get("/v1/webhook-endpoints", &app.admin_key).await.json().await.expect("json");
    assert_eq!(list["items"].as_array().expect("items").len(), 1);
    assert_eq!(app.get(&format!("/v1/webhook-endpoints/{id}"), &key_b).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/v1/webhook-endpoints/{id}"), &ent).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/v1/webhook-endpoints", &ent).await.status(), StatusCode::FORBIDDEN);
    let resp = app.patch_json(&format!("/v1/webhook-endpoints/{id}"), &key_b, &json!({"description": "x"})).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    let resp = app
        .patch_json(&format!("/v1/webhook-endpoints/{id}"), &key_a, &json!({"product_ids": null, "description": "新"}))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let patched: Value = resp.json().await.expect("json");
    assert_eq!(patched["product_ids"], Value::Null);
    assert_eq!(patched["description"], "新");
    assert_eq!(patched["event_types"], json!(["match.created", "consent.revoked"]));
    assert!(patched.get("secret").is_none());

    let resp = app.post_json(&format!("/v1/webhook-endpoints/{id}/disable"), &key_a, &json!({})).await;
    let body: Value = resp.json().await.expect("json");
    assert_eq!((body["enabled"].clone(), body["disabled_reason"].clone()), (json!(false), json!("manual")));
    let resp = app.post_json(&format!("/v1/webhook-endpoints/{id}/enable"), &key_a, &json!({})).await;
    let body: Value = resp.json().await.expect("json");
    assert_eq!((body["enabled"].clone(), body["disabled_reason"].clone()), (json!(true), Value::Null));

    // Admin registers for a named bank; a bank key cannot register for another bank.
    let resp = app
        .post_json(
            "/v1/webhook-endpoints",
            &app.admin_key,
            &json!({"bank_id": a, "url": "https://h2.bank-a.example/", "event_types": ["listing.stage_reached"]}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = app
        .post_json(
            "/v1/webhook-endpoints",
            &app.admin_key,
            &json!({"url": "https://h2.bank-a.example/", "event_types": ["listing.stage_reached"]}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let resp = app
        .post_json(
            "/v1/webhook-endpoints",
            &key_b,
            &json!({"bank_id": a, "url": "https://h.example/", "event_types": ["match.created"]}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    let resp = app.req(Method::DELETE, &format!("/v1/webhook-endpoints/{id}"), Some(&key_b)).send().await.expect("r");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = app.req(Method::DELETE, &format!("/v1/webhook-endpoints/{id}"), Some(&key_a)).send().await.expect("r");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/v1/webhook-endpoints/{id}"), &key_a).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn endpoint_input_is_validated_naming_every_field() {
    let app = hook_app().await;
    let (_a, key) = bank(&app, "A").await;
    let resp = app
        .post_json(
            "/v1/webhook-endpoints",
            &key,
            &json!({"url": "ftp://x.example/", "event_types": ["match.created", "nonsense"], "max_concurrency": 0}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p = problem(resp).await;
    let fields: Vec<&str> =
        p["errors"].as_array().expect("e").iter().map(|e| e["field"].as_str().expect("f")).collect();
    assert_eq!(fields, ["url", "event_types[1]", "max_concurrency"]);
    // Literal addresses the guard can never reach are refused at once, naming `url`.
    for url in ["http://127.0.0.2:9/hook", "http://[::1]:9/hook", "https://10.0.0.8/hook", "https://169.254.169.254/"] {
        let resp =
            app.post_json("/v1/webhook-endpoints", &key, &json!({"url": url, "event_types": ["match.created"]})).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let p = problem(resp).await;
        assert_eq!(
            (p["errors"][0]["field"].as_str(), p["errors"][0]["code"].as_str()),
            (Some("url"), Some("address_not_allowed")),
            "{url}"
        );
    }
    let resp = app
        .post_json(
            "/v1/webhook-endpoints",
            &key,
            &json!({"url": "https://h.example/", "event_types": ["match.created"], "secret": "x"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Without the sealing key no endpoint can be created: 503 naming the setting.
    let bare = spawn_app().await;
    let (_b, key) = bank(&bare, "B").await;
    let resp = bare
        .post_json(
            "/v1/webhook-endpoints",
            &key,
            &json!({"url": "https://h.example/", "event_types": ["match.created"]}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(problem(resp).await["detail"].as_str().expect("detail").contains("SRDI_WEBHOOKS_SECRET_KEY"));
}

#[tokio::test]
async fn deliveries_are_signed_per_standard_webhooks_and_verified_independently() {
    let rx = Receiver::start().await;
    let app = hook_app().await;
    let (a, key) = bank(&app, "A").await;
    let (ep, secret) = endpoint(&app, &key, &rx.url("/hook"), &["match.created"]).await;
    let f = firm(&app, 1).await;
    consent(&app, f, Some(a)).await;
    let product = Uuid::now_v7();
    let ev = record(&app, "match.created", Some(f), Some(a), json!({"firm_id": f, "product_id": product, "score": 87}))
        .await;

    let got = rx.wait_for("/hook", 1, WAIT).await;
    let r = &got[0];
    assert_eq!(r.header("webhook-id"), evt(ev));
    assert_eq!(r.header("webhook-event-type"), "match.created");
    assert_eq!(r.header("content-type"), "application/json");
    assert!(r.header("webhook-signature").starts_with("v1,"));
    assert_eq!(r.header("webhook-signature").split(' ').count(), 1);
    let ts: i64 = r.header("webhook-timestamp").parse().expect("unix seconds");
    assert!((ts - Utc::now().timestamp()).abs() < 60);
    assert!(python_verifies(&secret, r), "the reference library rejected our delivery");
    // It must be able to say no: a changed body or another secret fails.
    let mut altered = r.clone();
    altered.body = r.body.iter().map(|b| if *b == b'7' { b'8' } else { *b }).collect();
    assert!(!python_verifies(&secret, &altered));
    assert!(!python_verifies(&WebhookSecret::generate().expose(), r));

    let body = r.json();
    assert_eq!(body["id"], evt(ev));
    assert_eq!(body["type"], "match.created");
    assert_eq!(body["firm_seq"], 2, "firm.created was the firm's first event");
    assert_eq!(body["data"], json!({"firm_id": f, "product_id": product, "score": 87}));
    assert!(body["occurred_at"].as_str().expect("t").ends_with('Z'));
    // The bytes sent are the bytes stored (and signed) once, when the event was written.
    let stored = sqlx::query("SELECT body FROM webhook_messages WHERE event_id = $1")
        .bind(ev.to_string())
        .fetch_one(app.db.pool())
        .await
        .expect("message");
    assert_eq!(stored.text("body").expect("body").as_bytes(), r.body.as_slice());

    let d = wait_deliveries(&app, ev, |d| d.iter().all(|(_, s, _)| s == "succeeded")).await;
    assert_eq!(d.len(), 1);
    let log = attempts(&app, &key, ep).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["outcome"], "success");
    assert_eq!(log[0]["status_code"], 204);
    assert_eq!(log[0]["event_id"], evt(ev));
    assert_eq!(log[0]["event_type"], "match.created");
    assert_eq!(log[0]["delivery_status"], "succeeded");
    assert_eq!(log[0]["next_attempt_at"], Value::Null);
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_exactly_one_success_after_two_retries() {
    let rx = Receiver::start().await;
    rx.script("/flaky", [Reply::Status(500), Reply::Status(500)]);
    rx.set_default("/flaky", Reply::Status(200));
    let app = hook_app().await;
    let (a, key) = bank(&app, "A").await;
    let (ep, _) = endpoint(&app, &key, &rx.url("/flaky"), &["consent.granted"]).await;
    let f = firm(&app, 1).await;
    let ev = record(&app, "consent.granted", Some(f), Some(a), json!({"firm_id": f, "bank_id": a})).await;

    wait_deliveries(&app, ev, |d| d.iter().all(|(_, s, _)| s == "succeeded")).await;
    let got = rx.received("/flaky");
    assert_eq!(got.len(), 3, "two failures, then one success, nothing more");
    assert!(got.iter().all(|r| r.header("webhook-id") == evt(ev)), "webhook-id is stable across retries");
    // Each attempt is signed afresh at its own time.
    assert!(got.windows(2).all(|w| w[0].header("webhook-timestamp") <= w[1].header("webhook-timestamp")));
    let mut log = attempts(&app, &key, ep).await;
    log.reverse();
    let outcomes: Vec<(&str, i64)> =
        log.iter().map(|a| (a["outcome"].as_str().expect("o"), a["status_code"].as_i64().expect("c"))).collect();
    assert_eq!(outcomes, [("http_error", 500), ("http_error", 500), ("success", 200)]);
    assert!(log[0]["next_attempt_at"].is_string() && log[1]["next_attempt_at"].is_string());
    assert_eq!(log[0]["response_body"], "answer 500");
    let numbers: Vec<i64> = log.iter().map(|a| a["attempt_number"].as_i64().expect("n")).collect();
    assert_eq!(numbers, [1, 2, 3]);
    // A success clears the failure record.
    let e: Value = app.get(&format!("/v1/webhook-endpoints/{ep}"), &key).await.json().await.expect("json");
    assert_eq!(e["failing_since"], Value::Null);
}

#[tokio::test]
async fn gone_disables_the_endpoint_and_tells_the_bank() {
    let rx = Receiver::start().await;
    rx.set_default("/gone", Reply::Status(410));
    let app = hook_app().await;
    let (a, key) = bank(&app, "A").await;
    let (ep, _) = endpoint(&app, &key, &rx.url("/gone"), &["consent.granted"]).await;
    let (ops, _) = endpoint(&app, &key, &rx.url("/ops"), &["webhook.endpoint_disabled"]).await;
    let f = firm(&app, 1).await;
    let ev = record(&app, "consent.granted", Some(f), Some(a), json!({"firm_id": f})).await;

    let d = wait_deliveries(&app, ev, |d| d.iter().all(|(_, s, _)| s == "failed")).await;
    assert_eq!(d[0].2.as_deref(), Some("HTTP 410"));
    assert_eq!(rx.received("/gone").len(), 1, "410 is not retried");
    let e: Value = app.get(&format!("/v1/webhook-endpoints/{ep}"), &key).await.json().await.expect("json");
    assert_eq!((e["enabled"].clone(), e["disabled_reason"].clone()), (json!(false), json!("gone")));
    let log = attempts(&app, &key, ep).await;
    assert_eq!((log[0]["outcome"].as_str(), log[0]["status_code"].as_i64()), (Some("gone"), Some(410)));

    // The disable is an event (the bank's e-mail is sent from it) and reaches the bank's other endpoint.
    let rows = sqlx::query("SELECT bank_id, payload FROM events WHERE event_type = 'webhook.endpoint_disabled'")
        .fetch_all(app.db.pool())
        .await
        .expect("events");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].uuid("bank_id").expect("bank"), a);
    let data: Value = rows[0].json("payload").expect("payload");
    assert_eq!((data["endpoint_id"].as_str(), data["reason"].as_str()), (Some(ep.to_string().as_str()), Some("gone")));
    let got = rx.wait_for("/ops", 1, WAIT).await;
    assert_eq!(got[0].json()["data"]["endpoint_id"], ep.to_string());
    let _ = ops;

    // Later events are kept as failed (recoverable), and nothing is sent.
    let later = record(&app, "consent.granted", Some(f), Some(a), json!({"firm_id": f})).await;
    let d = deliveries(&app, later).await;
    assert_eq!(d, [(ep, "failed".to_owned(), Some("endpoint disabled".to_owned()))]);
}

#[tokio::test]
async fn timeouts_are_retried_no_sooner_than_a_minute_later() {
    let rx = Receiver::start().await;
    rx.script("/slow", [Reply::Slow(Duration::from_secs(3), 200)]);
    let clock = ManualClock::new(Utc::now());
    let app = hook_app_with(|_| {}, Arc::new(clock.clone())).await;
    let (a, key) = bank(&app, "A").await;
    let (ep, _) = endpoint(&app, &key, &rx.url("/slow"), &["consent.granted"]).await;
    let ev = record(&app, "consent.granted", None, Some(a), json!({"bank_id": a})).await;

    rx.wait_for("/slow", 1, WAIT).await;
    let deadline = std::time::Instant::now() + WAIT;
    let log = loop {
        let log = attempts(&app, &key, ep).await;
        if !log.is_empty() {
            break log;
        }
        assert!(std::time::Instant::now() < deadline, "no attempt recorded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(log[0]["outcome"], "timeout");
    assert_eq!(log[0]["status_code"], Value::Null);
    let at: chrono::DateTime<Utc> = log[0]["attempted_at"].as_str().expect("t").parse().expect("ts");
    let next: chrono::DateTime<Utc> = log[0]["next_attempt_at"].as_str().expect("t").parse().expect("ts");
    assert!(next - at >= chrono::Duration::seconds(60), "retry after a timeout waits at least 60 s: {at} → {next}");

    clock.set(next + chrono::Duration::seconds(1));
    dispatcher::wake();
    rx.wait_for("/slow", 2, WAIT).await;
    wait_deliveries(&app, ev, |d| d.iter().all(|(_, s, _)| s == "succeeded")).await;
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let rx = Receiver::start().await;
    rx.set_default("/moved", Reply::Redirect(302, "/elsewhere".into()));
    let app = hook_app_with(|c| c.webhooks_retry_schedule = retry_schedule(&[0]), Arc::new(SystemClock)).await;
    let (a, key) = bank(&app, "A").await;
    let (ep, _) = endpoint(&app, &key, &rx.url("/moved"), &["consent.granted"]).await;
    let ev = record(&app, "consent.granted", None, Some(a), json!({"bank_id": a})).await;

    let d = wait_deliveries(&app, ev, |d| d.iter().all(|(_, s, _)| s == "failed")).await;
    assert_eq!(d[0].2.as_deref(), Some("HTTP 302"));
    let log = attempts(&app, &key, ep).await;
    assert_eq!((log[0]["outcome"].as_str(), log[0]["status_code"].as_i64()), (Some("redirect"), Some(302)));
    assert_eq!(rx.received("/moved").len(), 1);
    assert!(rx.received("/elsewhere").is_empty(), "the redirect was followed");
}

#[tokio::test]
async fn rotation_signs_with_both_secrets_for_the_overlap_then_with_the_new_only() {
    let rx = Receiver::start().await;
    // Start a day in the past so that after the overlap the clock is near real time again and
    // the reference library (which checks timestamps against the real clock) can verify.
    let start = Utc::now() - chrono::Duration::hours(24) - chrono::Duration::minutes(2);
    let clock = ManualClock::new(start);
    let app = hook_app_with(|_| {}, Arc::new(clock.clone())).await;
    let (a, key) = bank(&app, "A").await;
    let (ep, old) = endpoint(&app, &key, &rx.url("/rot"), &["consent.granted"]).await;

    let resp = app.post_json(&format!("/v1/webhook-endpoints/{ep}/rotate-secret"), &key, &json!({})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let rotated: Value = resp.json().await.expect("json");
    let new = rotated["secret"].as_str().expect("new secret").to_owned();
    assert_ne!(new, old);
    let until: chrono::DateTime<Utc> = rotated["previous_secret_expires_at"].as_str().expect("t").parse().expect("ts");
    assert_eq!(until, start + chrono::Duration::hours(24));

    record(&app, "consent.granted", None, Some(a), json!({"n": 1})).await;
    let got = rx.wait_for("/rot", 1, WAIT).await;
    assert_eq!(got[0].header("webhook-signature").split(' ').count(), 2, "both signatures during the overlap");
    assert!(rust_verifies(&old, &got[0]) && rust_verifies(&new, &got[0]));

    clock.set(start + chrono::Duration::hours(24) + chrono::Duration::minutes(1));
    record(&app, "consent.granted", None, Some(a), json!({"n": 2})).await;
    let got = rx.wait_for("/rot", 2, WAIT).await;
    let second = &got[1];
    assert_eq!(second.header("webhook-signature").split(' ').count(), 1, "only the new secret after the overlap");
    assert!(python_verifies(&new, second), "the reference library rejected the new secret's signature");
    assert!(!python_verifies(&old, second), "the old secret still verifies after the overlap");
}

#[tokio::test]
async fn the_outbox_survives_a_restart() {
    let rx = Receiver::start().await;
    let first = hook_app_with(|c| c.workers_enabled = false, Arc::new(SystemClock)).await;
    let (a, key) = bank(&first, "A").await;
    endpoint(&first, &key, &rx.url("/after-restart"), &["consent.granted"]).await;
    let ev = record(&first, "consent.granted", None, Some(a), json!({"bank_id": a})).await;
    assert_eq!(deliveries(&first, ev).await.len(), 1, "the delivery committed with the event");
    let config = first.config.clone();
    let guard = first.guard();
    drop(first);

    let second = start_on(Config { workers_enabled: true, ..config }, Arc::new(SystemClock), guard).await;
    let got = second_delivery(&rx, "/after-restart").await;
    assert_eq!(got.header("webhook-id"), evt(ev));
    wait_deliveries(&second, ev, |d| d.iter().all(|(_, s, _)| s == "succeeded")).await;
}

async fn second_delivery(rx: &Receiver, path: &str) -> Received {
    rx.wait_for(path, 1, WAIT).await.remove(0)
}

#[tokio::test]
async fn a_delivery_claimed_by_a_process_that_died_is_retried_after_its_lease() {
    let rx = Receiver::start().await;
    let first = hook_app_with(|c| c.workers_enabled = false, Arc::new(SystemClock)).await;
    let (a, key) = bank(&first, "A").await;
    endpoint(&first, &key, &rx.url("/lease"), &["consent.granted"]).await;
    let ev = record(&first, "consent.granted", None, Some(a), json!({"bank_id": a})).await;
    // A dispatcher claims the delivery (committed) and dies before sending.
    let now = Utc::now();
    let lease_until = now + chrono::Duration::seconds(60);
    let mut conn = first.db.pool().acquire().await.expect("conn");
    let claimed =
        srdi_capital::store::webhooks::claim(&mut conn, first.db.dialect(), Uuid::now_v7(), lease_until, now, 10)
            .await
            .expect("claim");
    assert_eq!(claimed.len(), 1);
    drop(conn);
    let config = first.config.clone();
    let guard = first.guard();
    drop(first);

    let clock = ManualClock::new(now);
    let second = start_on(Config { workers_enabled: true, ..config }, Arc::new(clock.clone()), guard).await;
    // While the lease holds nobody else sends it (several poll rounds pass here).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(rx.received("/lease").is_empty(), "sent although another dispatcher's lease holds");
    assert_eq!(deliveries(&second, ev).await[0].1, "pending");
    clock.set(lease_until + chrono::Duration::seconds(1));
    dispatcher::wake();
    let got = rx.wait_for("/lease", 1, WAIT).await;
    assert_eq!(got[0].header("webhook-id"), evt(ev));
    wait_deliveries(&second, ev, |d| d.iter().all(|(_, s, _)| s == "succeeded")).await;
}

#[tokio::test]
async fn two_instances_on_one_postgres_deliver_each_event_once_per_endpoint() {
    if backend() != "postgres" {
        return;
    }
    let rx = Receiver::start().await;
    let one = hook_app().await;
    let two = start_on(one.config.clone(), Arc::new(SystemClock), one.guard()).await;
    let (a, key) = bank(&one, "A").await;
    endpoint(&one, &key, &rx.url("/p1"), &["consent.granted"]).await;
    endpoint(&two, &key, &rx.url("/p2"), &["consent.granted"]).await;
    const N: usize = 300;
    let mut ids = Vec::with_capacity(N);
    for i in 0..N {
        let app = if i % 2 == 0 { &one } else { &two };
        ids.push(record(app, "consent.granted", None, Some(a), json!({"n": i})).await);
    }
    for path in ["/p1", "/p2"] {
        rx.wait_for(path, N, Duration::from_secs(60)).await;
    }
    // Every delivery finished: every send has happened and been recorded.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status <> 'succeeded'")
            .fetch_one(one.db.pool())
            .await
            .expect("count");
        if row.int("n").expect("n") == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "deliveries left unfinished");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for path in ["/p1", "/p2"] {
        let mut seen: Vec<String> = rx.received(path).iter().map(|r| r.header("webhook-id").to_owned()).collect();
        assert_eq!(seen.len(), N, "{path}: an event was delivered twice");
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), N);
    }
    let row = sqlx::query("SELECT COUNT(*) AS n FROM webhook_attempts").fetch_one(one.db.pool()).await.expect("count");
    assert_eq!(row.int("n").expect("n"), 2 * N as i64, "one attempt per delivery");
}

#[tokio::test]
async fn the_ssrf_guard_refuses_loopback_outside_the_allow_list_and_records_it() {
    let rx = Receiver::start().await;
    // Only 127.0.0.1/32 is allowed.
    let app = hook_app_with(|c| c.webhooks_retry_schedule = retry_schedule(&[0]), Arc::new(SystemClock)).await;
    let (a, key) = bank(&app, "A").await;
    let port = rx.port();
    for url in [format!("http://127.0.0.2:{port}/x"), format!("http://[::1]:{port}/x")] {
        let resp = app
            .post_json("/v1/webhook-endpoints", &key, &json!({"url": url, "event_types": ["consent.granted"]}))
            .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{url}");
    }
    // Endpoints registered under a broader allow-list earlier (written directly) are refused
    // on every attempt, before any connection, and the refusal is in the attempt log.
    let (ep_v4, _) = endpoint(&app, &key, &rx.url("/v4"), &["consent.granted"]).await;
    let (ep_v6, _) = endpoint(&app, &key, &rx.url("/v6"), &["consent.granted"]).await;
    for (ep, url) in [(ep_v4, format!("http://127.0.0.2:{port}/v4")), (ep_v6, format!("http://[::1]:{port}/v6"))] {
        sqlx::query("UPDATE webhook_endpoints SET url = $2 WHERE id = $1")
            .bind(ep.to_string())
            .bind(url)
            .execute(app.db.pool())
            .await
            .expect("update");
    }
    let ev = record(&app, "consent.granted", None, Some(a), json!({"bank_id": a})).await;
    let d = wait_deliveries(&app, ev, |d| d.len() == 2 && d.iter().all(|(_, s, _)| s == "failed")).await;
    for (ep, class_text) in [(ep_v4, "127.0.0.2 is loopback"), (ep_v6, "::1 is loopback")] {
        let log = attempts(&app, &key, ep).await;
        assert_eq!(log[0]["outcome"], "refused", "{log:?}");
        assert!(log[0]["error"].as_str().expect("e").contains(class_text), "{log:?}");
    }
    assert!(d.iter().all(|(_, _, e)| e.as_deref().is_some_and(|e| e.starts_with("refused"))));
    assert!(rx.all_received().is_empty(), "a refused address was reached");

    // A name is judged by what it resolves to, on every attempt: with no allow-list, `localhost`
    // (loopback here) is refused and recorded as such.
    let strict = hook_app_with(
        |c| {
            c.webhooks_allow_networks = Vec::new();
            c.webhooks_retry_schedule = retry_schedule(&[0]);
        },
        Arc::new(SystemClock),
    )
    .await;
    let (b, key) = bank(&strict, "B").await;
    let (ep, _) = endpoint(&strict, &key, &format!("http://localhost:{port}/named"), &["consent.granted"]).await;
    let ev = record(&strict, "consent.granted", None, Some(b), json!({"bank_id": b})).await;
    wait_deliveries(&strict, ev, |d| d.iter().all(|(_, s, _)| s == "failed")).await;
    let log = attempts(&strict, &key, ep).await;
    assert_eq!(log[0]["outcome"], "refused");
    let err = log[0]["error"].as_str().expect("e");
    assert!(err.contains("localhost resolves to address") && err.contains("loopback"), "{err}");
    assert!(rx.all_received().is_empty(), "a refused name was reached");
}

#[tokio::test]
async fn bank_b_never_receives_bank_a_events() {
    let rx = Receiver::start().await;
    let app = hook_app().await;
    let (a, key_a) = bank(&app, "A").await;
    let (b, key_b) = bank(&app, "B").await;
    let all = [
        "match.created",
        "match.withdrawn",
        "application.submitted",
        "consent.granted",
        "consent.revoked",
        "listing.stage_reached",
    ];
    let (ep_a, _) = endpoint(&app, &key_a, &rx.url("/a"), &all).await;
    let (ep_b, _) = endpoint(&app, &key_b, &rx.url("/b"), &all).await;
    let shared = firm(&app, 1).await;
    consent(&app, shared, None).await;
    let only_a = firm(&app, 2).await;
    consent(&app, only_a, Some(a)).await;

    let p = Uuid::now_v7();
    let to_a = [
        record(&app, "match.created", Some(shared), Some(a), json!({"firm_id": shared, "product_id": p})).await,
        record(&app, "application.submitted", Some(only_a), Some(a), json!({"firm_id": only_a})).await,
        record(&app, "consent.granted", Some(only_a), Some(a), json!({"firm_id": only_a, "bank_id": a})).await,
        record(&app, "listing.stage_reached", Some(only_a), None, json!({"firm_id": only_a, "stage": "listed"})).await,
    ];
    let to_both = [
        record(&app, "listing.stage_reached", Some(shared), None, json!({"firm_id": shared, "stage": "inquiry"})).await,
        record(&app, "consent.revoked", Some(shared), None, json!({"firm_id": shared})).await,
    ];
    let to_b =
        [record(&app, "match.withdrawn", Some(shared), Some(b), json!({"firm_id": shared, "product_id": p})).await];

    let ids = |path: &str| -> Vec<String> {
        let mut v: Vec<String> = rx.received(path).iter().map(|r| r.header("webhook-id").to_owned()).collect();
        v.sort();
        v
    };
    rx.wait_for("/a", to_a.len() + to_both.len(), WAIT).await;
    rx.wait_for("/b", to_b.len() + to_both.len(), WAIT).await;
    let mut want_a: Vec<String> = to_a.iter().chain(&to_both).map(|e| evt(*e)).collect();
    want_a.sort();
    let mut want_b: Vec<String> = to_b.iter().chain(&to_both).map(|e| evt(*e)).collect();
    want_b.sort();
    // Fan-out decided at commit: no delivery row exists for the other bank, so none can follow.
    for e in to_a {
        assert!(deliveries(&app, e).await.iter().all(|(ep, _, _)| *ep == ep_a), "{e}");
    }
    for e in to_b {
        assert!(deliveries(&app, e).await.iter().all(|(ep, _, _)| *ep == ep_b), "{e}");
    }
    assert_eq!(ids("/a"), want_a);
    assert_eq!(ids("/b"), want_b);
}

#[tokio::test]
async fn after_consent_is_revoked_no_more_events_about_the_firm_reach_the_bank() {
    let rx = Receiver::start().await;
    let first = hook_app_with(|c| c.workers_enabled = false, Arc::new(SystemClock)).await;
    let (a, key) = bank(&first, "A").await;
    let types = ["match.created", "match.updated", "consent.revoked", "listing.stage_reached"];
    let (ep, _) = endpoint(&first, &key, &rx.url("/a"), &types).await;
    let f = firm(&first, 1).await;
    let c = consent(&first, f, Some(a)).await;
    let p = Uuid::now_v7();
    let before = record(&first, "match.created", Some(f), Some(a), json!({"firm_id": f, "product_id": p})).await;
    assert_eq!(deliveries(&first, before).await.len(), 1);

    // Revocation and its event, in one transaction, before the queued delivery was sent.
    let mut tx = first.db.begin().await.expect("begin");
    sqlx::query("UPDATE consents SET revoked_at = $2 WHERE id = $1")
        .bind(c.to_string())
        .bind(ts(Utc::now()))
        .execute(&mut *tx)
        .await
        .expect("revoke");
    let revoked = events::record(
        &mut tx,
        NewEvent::fact(
            EventKind::ConsentRevoked,
            Some(srdi_capital::domain::ids::FirmId::from_uuid(f)),
            Some(BankId::from_uuid(a)),
            format!("consent:{c}:revoked"),
            json!({"firm_id": f, "consent_id": c}),
        ),
        Utc::now(),
    )
    .await
    .expect("record")
    .expect("new");
    tx.commit().await.expect("commit");
    let after = [
        record(&first, "match.updated", Some(f), Some(a), json!({"firm_id": f, "product_id": p})).await,
        record(&first, "listing.stage_reached", Some(f), None, json!({"firm_id": f, "stage": "listed"})).await,
    ];
    for e in after {
        assert!(deliveries(&first, e).await.is_empty(), "an event after the revocation was queued");
    }
    let config = first.config.clone();
    let guard = first.guard();
    drop(first);

    let app = start_on(Config { workers_enabled: true, ..config }, Arc::new(SystemClock), guard).await;
    // The revocation itself reaches the bank…
    let got = rx.wait_for("/a", 1, WAIT).await;
    assert_eq!(got[0].header("webhook-id"), evt(revoked.id));
    // …the match queued before it is dropped at send time, since consent no longer covers the bank.
    let d = wait_deliveries(&app, before, |d| d.iter().all(|(_, s, _)| s == "failed")).await;
    assert_eq!(d[0].2.as_deref(), Some("consent no longer covers this bank"));
    assert_eq!(rx.received("/a").len(), 1);
    assert!(attempts(&app, &key, ep).await.iter().all(|a| a["event_id"] == evt(revoked.id)));
}

#[tokio::test]
async fn subscriptions_and_the_product_filter_decide_what_is_queued() {
    let rx = Receiver::start().await;
    let app = hook_app().await;
    let (a, key) = bank(&app, "A").await;
    let (p1, p2) = (Uuid::now_v7(), Uuid::now_v7());
    let resp = app
        .post_json(
            "/v1/webhook-endpoints",
            &key,
            &json!({"url": rx.url("/filtered"), "event_types": ["match.created", "consent.granted"], "product_ids": [p1]}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let f = firm(&app, 1).await;
    consent(&app, f, Some(a)).await;
    let other_product = record(&app, "match.created", Some(f), Some(a), json!({"firm_id": f, "product_id": p2})).await;
    let not_subscribed =
        record(&app, "application.submitted", Some(f), Some(a), json!({"firm_id": f, "product_id": p1})).await;
    let wanted = record(&app, "match.created", Some(f), Some(a), json!({"firm_id": f, "product_id": p1})).await;
    let no_product = record(&app, "consent.granted", Some(f), Some(a), json!({"firm_id": f})).await;
    assert!(deliveries(&app, other_product).await.is_empty());
    assert!(deliveries(&app, not_subscribed).await.is_empty());
    assert_eq!(deliveries(&app, wanted).await.len(), 1);
    assert_eq!(deliveries(&app, no_product).await.len(), 1, "events without a product are not filtered");
    let got = rx.wait_for("/filtered", 2, WAIT).await;
    let mut ids: Vec<&str> = got.iter().map(|r| r.header("webhook-id")).collect();
    ids.sort();
    let mut want = [evt(wanted), evt(no_product)];
    want.sort();
    assert_eq!(ids, want);
}

#[tokio::test]
async fn test_ping_resend_and_recover() {
    let rx = Receiver::start().await;
    let app = hook_app_with(|c| c.webhooks_retry_schedule = retry_schedule(&[0]), Arc::new(SystemClock)).await;
    let (a, key) = bank(&app, "A").await;
    let (_b, key_b) = bank(&app, "B").await;
    let (ep, secret) = endpoint(&app, &key, &rx.url("/ctl"), &["consent.granted"]).await;

    let resp = app.post_json(&format!("/v1/webhook-endpoints/{ep}/test"), &key, &json!({})).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let queued: Value = resp.json().await.expect("json");
    let ping = &rx.wait_for("/ctl", 1, WAIT).await[0];
    assert_eq!(ping.header("webhook-id"), queued["event_id"].as_str().expect("id"));
    assert_eq!(ping.json()["type"], "webhook.ping");
    assert_eq!(ping.header("webhook-event-type"), "webhook.ping");
    assert!(python_verifies(&secret, ping));

    // Resend: the same webhook-id again, freshly signed.
    let ev = record(&app, "consent.granted", None, Some(a), json!({"bank_id": a})).await;
    rx.wait_for("/ctl", 2, WAIT).await;
    wait_deliveries(&app, ev, |d| d.iter().all(|(_, s, _)| s == "succeeded")).await;
    let resp = app.post_json(&format!("/v1/webhook-events/{}/resend", evt(ev)), &key_b, &json!({})).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND, "another bank cannot resend it");
    let resp =
        app.post_json(&format!("/v1/webhook-events/{}/resend", evt(ev)), &key, &json!({"endpoint_id": ep})).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let got = rx.wait_for("/ctl", 3, WAIT).await;
    assert_eq!(got[2].header("webhook-id"), evt(ev));
    assert!(python_verifies(&secret, &got[2]));
    let resp = app.post_json(&format!("/v1/webhook-events/{}/resend", evt(Uuid::now_v7())), &key, &json!({})).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    // Recover: deliveries that failed (one attempt each here) are queued again since a time.
    let since = Utc::now() - chrono::Duration::seconds(1);
    rx.set_default("/ctl", Reply::Status(503));
    let lost = [
        record(&app, "consent.granted", None, Some(a), json!({"n": 1})).await,
        record(&app, "consent.granted", None, Some(a), json!({"n": 2})).await,
    ];
    for e in lost {
        wait_deliveries(&app, e, |d| d.iter().all(|(_, s, _)| s == "failed")).await;
    }
    rx.set_default("/ctl", Reply::Status(200));
    let resp = app.post_json(&format!("/v1/webhook-endpoints/{ep}/recover"), &key, &json!({"since": since})).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["queued"], 2);
    for e in lost {
        wait_deliveries(&app, e, |d| d.iter().all(|(_, s, _)| s == "succeeded")).await;
    }
    let log = attempts(&app, &key, ep).await;
    assert_eq!(log[0]["origin"], "recover");
    assert!(log.iter().any(|a| a["origin"] == "resend"));
    assert!(log.iter().any(|a| a["origin"] == "test"));
    let resp = app.post_json(&format!("/v1/webhook-endpoints/{ep}/recover"), &key, &json!({})).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Metrics: attempts by outcome and the queue gauges.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let metrics = app.scrape_metrics().await;
    assert!(metrics.contains(r#"webhook_delivery_attempts_total{outcome="success"}"#), "{metrics}");
    assert!(metrics.contains(r#"webhook_delivery_attempts_total{outcome="http_error"}"#), "{metrics}");
    assert!(metrics.contains("webhook_queue_depth"), "{metrics}");
    assert!(metrics.contains("webhook_oldest_due_age_seconds"), "{metrics}");
}

#[tokio::test]
async fn payloads_are_purged_after_the_retention_period() {
    let rx = Receiver::start().await;
    let app = hook_app().await;
    let (a, key) = bank(&app, "A").await;
    endpoint(&app, &key, &rx.url("/purge"), &["consent.granted"]).await;
    let ev = record(&app, "consent.granted", None, Some(a), json!({"bank_id": a})).await;
    wait_deliveries(&app, ev, |d| d.iter().all(|(_, s, _)| s == "succeeded")).await;

    let mut conn = app.db.pool().acquire().await.expect("conn");
    let now = Utc::now();
    // Within the retention period nothing goes.
    let kept = srdi_capital::store::webhooks::purge(&mut conn, now - chrono::Duration::days(30), now, 1000)
        .await
        .expect("purge");
    assert_eq!((kept.messages, kept.attempts), (0, 0));
    // Thirty-one days on, the payload, its delivery and the attempt log go.
    let later = now + chrono::Duration::days(31);
    let gone = srdi_capital::store::webhooks::purge(&mut conn, later - chrono::Duration::days(30), later, 1000)
        .await
        .expect("purge");
    assert_eq!((gone.messages, gone.attempts), (1, 1));
    drop(conn);
    assert!(deliveries(&app, ev).await.is_empty());
    let resp = app.post_json(&format!("/v1/webhook-events/{}/resend", evt(ev)), &key, &json!({})).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_endpoint_failing_for_five_days_is_disabled_and_the_bank_is_told() {
    let rx = Receiver::start().await;
    rx.set_default("/down", Reply::Status(500));
    let t0 = chrono::SubsecRound::trunc_subsecs(Utc::now() - chrono::Duration::days(6), 6);
    let clock = ManualClock::new(t0);
    let app = hook_app_with(|c| c.webhooks_retry_schedule = retry_schedule(&[0]), Arc::new(clock.clone())).await;
    let (a, key) = bank(&app, "A").await;
    let (ep, _) = endpoint(&app, &key, &rx.url("/down"), &["consent.granted"]).await;
    let mut sent = 0;
    for offset in [
        chrono::Duration::zero(),
        chrono::Duration::hours(13),
        chrono::Duration::days(5) + chrono::Duration::minutes(1),
    ] {
        clock.set(t0 + offset);
        let ev = record(&app, "consent.granted", None, Some(a), json!({"bank_id": a})).await;
        sent += 1;
        rx.wait_for("/down", sent, WAIT).await;
        wait_deliveries(&app, ev, |d| d.iter().all(|(_, s, _)| s == "failed")).await;
        let e: Value = app.get(&format!("/v1/webhook-endpoints/{ep}"), &key).await.json().await.expect("json");
        let since: chrono::DateTime<Utc> = e["failing_since"].as_str().expect("failing since").parse().expect("ts");
        assert_eq!(since, t0);
        if offset < chrono::Duration::days(5) {
            assert_eq!(e["enabled"], true, "disabled too early at +{offset}");
        }
    }
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let e: Value = app.get(&format!("/v1/webhook-endpoints/{ep}"), &key).await.json().await.expect("json");
        if e["enabled"] == false {
            assert_eq!(e["disabled_reason"], "failing");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never disabled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rows = sqlx::query("SELECT bank_id, payload FROM events WHERE event_type = 'webhook.endpoint_disabled'")
        .fetch_all(app.db.pool())
        .await
        .expect("events");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].uuid("bank_id").expect("bank"), a);
    let data: Value = rows[0].json("payload").expect("payload");
    assert_eq!(data["reason"], "failing");
    assert_eq!(data["failing_since"].as_str().map(|s| s.parse::<chrono::DateTime<Utc>>().expect("ts")), Some(t0));
}

#[tokio::test]
async fn an_endpoint_never_gets_more_concurrent_requests_than_its_cap() {
    let rx = Receiver::start().await;
    rx.set_default("/capped", Reply::Slow(Duration::from_millis(150), 200));
    rx.set_default("/wide", Reply::Slow(Duration::from_millis(150), 200));
    let app = hook_app().await;
    let (a, key) = bank(&app, "A").await;
    for (path, cap) in [("/capped", 1), ("/wide", 4)] {
        let resp = app
            .post_json(
                "/v1/webhook-endpoints",
                &key,
                &json!({"url": rx.url(path), "event_types": ["consent.granted"], "max_concurrency": cap}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    let mut tx = app.db.begin().await.expect("begin");
    for n in 0..8 {
        events::record(
            &mut tx,
            NewEvent::fact(
                EventKind::ConsentGranted,
                None,
                Some(BankId::from_uuid(a)),
                format!("cap:{n}"),
                json!({"n": n}),
            ),
            app.clock.now(),
        )
        .await
        .expect("record");
    }
    tx.commit().await.expect("commit");
    rx.wait_for("/capped", 8, WAIT).await;
    rx.wait_for("/wide", 8, WAIT).await;
    assert_eq!(rx.max_concurrent("/capped"), 1);
    let wide = rx.max_concurrent("/wide");
    assert!((2..=4).contains(&wide), "the wide endpoint had {wide} at once");
}

/// The document and the service agree on what can be subscribed to: every event type the
/// OpenAPI document offers for `event_types` is accepted, and `webhook.ping` is not offered.
#[tokio::test]
async fn the_documented_event_types_are_exactly_the_subscribable_ones() {
    let app = hook_app().await;
    let doc: Value = app.get("/openapi.json", &app.admin_key).await.json().await.expect("json");
    let schemas = &doc["components"]["schemas"];
    let items = &schemas["EndpointInput"]["properties"]["event_types"]["items"]["$ref"];
    assert_eq!(items, "#/components/schemas/SubscribableEventType");
    let offered: Vec<String> = schemas["SubscribableEventType"]["enum"]
        .as_array()
        .expect("an enum of event types")
        .iter()
        .map(|t| t.as_str().expect("type").to_owned())
        .collect();
    assert!(!offered.iter().any(|t| t == "webhook.ping"), "{offered:?}");
    assert!(offered.iter().any(|t| t == "match.created"));
    let (_, key) = bank(&app, "B1").await;
    let resp = app
        .post_json("/v1/webhook-endpoints", &key, &json!({"url": "http://127.0.0.1:9/h", "event_types": offered}))
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = app
        .post_json(
            "/v1/webhook-endpoints",
            &key,
            &json!({"url": "http://127.0.0.1:9/h", "event_types": ["webhook.ping"]}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
