//! Business changes reach banks as signed webhooks through the one event path, proven from the
//! public API: a bank registers an endpoint, a firm consents, the bank publishes a product the
//! firm qualifies for, and a real receiver gets `match.created`, verified with the Standard
//! Webhooks reference library; a financials change that breaks eligibility sends
//! `match.withdrawn`; consent changes send match events for the bank concerned only.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use srdi_capital::clock::SystemClock;

use crate::webhooks::receiver::{Received, Receiver};
use srdi_capital::service::matches::sync_token;

use crate::financing::{bank, consent_to, firm, json_of, publish, revoke, set_revenue, srdi_product};
use crate::helpers::*;
use crate::webhooks::{hooks, python_verifies};

const WAIT: Duration = Duration::from_secs(20);
const MATCH_TYPES: [&str; 3] = ["match.created", "match.updated", "match.withdrawn"];

/// Registers an endpoint through the API; returns its signing secret.
async fn endpoint(app: &TestApp, key: &str, url: &str, types: &[&str]) -> String {
    let resp = app.post_json("/v1/webhook-endpoints", key, &json!({"url": url, "event_types": types})).await;
    assert_eq!(resp.status(), StatusCode::CREATED, "create endpoint");
    json_of(resp).await["secret"].as_str().expect("secret").to_owned()
}

/// Waits for the `n`-th delivery on `path`, checks its signature with the reference library
/// and returns its body.
async fn delivery(rx: &Receiver, path: &str, n: usize, secret: &str) -> Value {
    let got: Vec<Received> = rx.wait_for(path, n, WAIT).await;
    let r = &got[n - 1];
    assert!(python_verifies(secret, r), "standardwebhooks verifies delivery {n} on {path}");
    r.json()
}

#[tokio::test]
async fn a_product_the_firm_qualifies_for_reaches_the_bank_as_a_signed_match_created() {
    let app = spawn_app_with(hooks, Arc::new(SystemClock)).await;
    let rx = Receiver::start().await;
    let (bank_id, key) = bank(&app, "EVA").await;
    let secret = endpoint(&app, &key, &rx.url("/a"), &MATCH_TYPES).await;
    let f = firm(&app, 1).await;
    set_revenue(&app, f, "20000000.00").await;
    consent_to(&app, f, Some(bank_id)).await;

    // The bank publishes; the matching worker evaluates every firm against it.
    let product = publish(&app, &key, &srdi_product("专精特新贷", "10000000.00")).await;
    let created = delivery(&rx, "/a", 1, &secret).await;
    assert_eq!(created["type"], "match.created");
    assert_eq!(created["data"]["firm_id"], f.to_string());
    assert_eq!(created["data"]["product_id"], product.to_string());
    assert_eq!(created["data"]["reason"], "eligibility");
    let pulled = json_of(app.get("/v1/matches", &key).await).await;
    assert_eq!(pulled["items"].as_array().expect("items").len(), 1, "the pull agrees");

    // A financials change that breaks eligibility withdraws the match, within that request.
    set_revenue(&app, f, "5000000.00").await;
    let withdrawn = delivery(&rx, "/a", 2, &secret).await;
    assert_eq!(withdrawn["type"], "match.withdrawn");
    assert_eq!(withdrawn["data"]["product_id"], product.to_string());
    assert_eq!(withdrawn["data"]["reason"], "eligibility");
    assert!(withdrawn["data"]["seq"].as_i64() > created["data"]["seq"].as_i64(), "seq orders a pair's events");
    let pulled = json_of(app.get("/v1/matches", &key).await).await;
    assert!(pulled["items"].as_array().expect("items").is_empty());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.received("/a").len(), 2, "nothing else was sent");
}

#[tokio::test]
async fn consent_changes_send_match_events_to_the_bank_concerned_only() {
    let app = spawn_app_with(hooks, Arc::new(SystemClock)).await;
    let rx = Receiver::start().await;
    let (a, key_a) = bank(&app, "EVB").await;
    let (_b, key_b) = bank(&app, "EVC").await;
    let secret_a = endpoint(&app, &key_a, &rx.url("/a"), &MATCH_TYPES).await;
    let _secret_b = endpoint(&app, &key_b, &rx.url("/b"), &MATCH_TYPES).await;
    let f = firm(&app, 2).await;
    set_revenue(&app, f, "20000000.00").await;
    let pa = publish(&app, &key_a, &srdi_product("A 贷", "10000000.00")).await;
    let _pb = publish(&app, &key_b, &srdi_product("B 贷", "10000000.00")).await;
    // Matches exist for both banks, but no consent covers either: nothing is sent.
    crate::financing::drain(&app).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(rx.all_received().is_empty(), "no consent, no delivery");

    // A consent to bank A shows it the match it could not see.
    let consent = consent_to(&app, f, Some(a)).await;
    let shown = delivery(&rx, "/a", 1, &secret_a).await;
    assert_eq!(shown["type"], "match.created");
    assert_eq!(
        (shown["data"]["product_id"].as_str(), shown["data"]["reason"].as_str()),
        (Some(&*pa.to_string()), Some("consent_granted"))
    );
    assert!(shown["data"]["score"].is_number());

    // Revoking it withdraws the match from A's view: ids and the reason, nothing else.
    let ent = app.key_for(srdi_capital::domain::access::Role::Enterprise, Some(f)).await;
    revoke(&app, &ent, f, consent).await;
    let hidden = delivery(&rx, "/a", 2, &secret_a).await;
    assert_eq!(hidden["type"], "match.withdrawn");
    assert_eq!(hidden["data"]["reason"], "consent_revoked");
    assert!(hidden["data"].get("score").is_none(), "a withdrawal for lost consent carries ids only");
    assert!(hidden["data"]["seq"].as_i64() > shown["data"]["seq"].as_i64());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(rx.received("/b").is_empty(), "bank B was never covered and heard nothing");
    assert_eq!(rx.received("/a").len(), 2);
}

/// A firm whose consent never covered a bank does not exist for it, even in an incremental
/// pull from the beginning, and filters cannot be used to learn anything about it.
#[tokio::test]
async fn an_incremental_pull_never_shows_a_firm_that_never_consented() {
    let app = spawn_app_with(hooks, Arc::new(SystemClock)).await;
    let (a, key_a) = bank(&app, "EVD").await;
    let never = firm(&app, 3).await;
    let once = firm(&app, 4).await;
    for f in [never, once] {
        set_revenue(&app, f, "20000000.00").await;
    }
    publish(&app, &key_a, &srdi_product("A 贷", "10000000.00")).await;
    let consent = consent_to(&app, once, Some(a)).await;
    crate::financing::drain(&app).await;
    let ent = app.key_for(srdi_capital::domain::access::Role::Enterprise, Some(once)).await;
    revoke(&app, &ent, once, consent).await;

    for query in ["", "&min_score=0", "&min_score=100", "&city=jinan", "&tier=provincial_srdi", "&tutoring=false"] {
        let since = urlencoding(&sync_token(0));
        let page = json_of(app.get(&format!("/v1/matches?updated_since={since}{query}"), &key_a).await).await;
        let firms: Vec<&str> =
            page["items"].as_array().expect("items").iter().map(|i| i["firm_id"].as_str().expect("f")).collect();
        assert!(!firms.contains(&&*never.to_string()), "{query}: a firm that never consented is invisible");
        assert_eq!(firms, [once.to_string()], "{query}: the once-covered firm's withdrawal shows whatever the filter");
    }
    let page = json_of(app.get("/v1/matches", &key_a).await).await;
    assert!(page["items"].as_array().expect("items").is_empty(), "the full pull shows covered firms only");
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
