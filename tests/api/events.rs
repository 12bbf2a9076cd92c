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
use srdi_capital::domain::ids::BankId;

use crate::webhooks::receiver::{Received, Receiver};
use srdi_capital::service::matches::sync_token;
use uuid::Uuid;

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
        let since = url_encode(&sync_token(0));
        let page = json_of(app.get(&format!("/v1/matches?updated_since={since}{query}"), &key_a).await).await;
        let firms: Vec<&str> =
            page["items"].as_array().expect("items").iter().map(|i| i["firm_id"].as_str().expect("f")).collect();
        assert!(!firms.contains(&&*never.to_string()), "{query}: a firm that never consented is invisible");
        assert_eq!(firms, [once.to_string()], "{query}: the once-covered firm's withdrawal shows whatever the filter");
    }
    let page = json_of(app.get("/v1/matches", &key_a).await).await;
    assert!(page["items"].as_array().expect("items").is_empty(), "the full pull shows covered firms only");
}

/// "Consent in force" has one SQL spelling (for reads and deliveries) and one Rust rule (for
/// consent changes); the same cases run through both and must agree, on both backends.
#[tokio::test]
async fn consent_in_force_is_the_same_rule_in_sql_and_in_rust() {
    use chrono::{DateTime, Utc};
    use srdi_capital::db::types::ts;
    use srdi_capital::domain::consent::{Consent, ConsentPurpose, covers};
    use srdi_capital::store::{consents, webhooks as hook_store};

    let app = spawn_app().await;
    let (a, b) = (app.insert_bank("RULE-A").await, app.insert_bank("RULE-B").await);
    let t = |s: &str| -> DateTime<Utc> { s.parse().expect("timestamp") };
    let now = t("2026-06-30T12:00:00Z");
    let (g, x) = ("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
    // (what, bank named (None: all banks), granted, expires, revoked, bank asked, covered at `now`)
    type Case<'a> = (&'a str, Option<Uuid>, &'a str, &'a str, Option<&'a str>, Uuid, bool);
    let cases: &[Case] = &[
        ("named bank", Some(a), g, x, None, a, true),
        ("another bank", Some(b), g, x, None, a, false),
        ("all banks", None, g, x, None, b, true),
        ("granted later", Some(a), "2026-07-01T00:00:00Z", x, None, a, false),
        ("granted at that instant", Some(a), "2026-06-30T12:00:00Z", x, None, a, true),
        ("expired", Some(a), g, "2026-06-30T11:59:59Z", None, a, false),
        ("expires at that instant", Some(a), g, "2026-06-30T12:00:00Z", None, a, false),
        ("expires a second later", Some(a), g, "2026-06-30T12:00:01Z", None, a, true),
        ("revoked", Some(a), g, x, Some("2026-03-01T00:00:00Z"), a, false),
        ("revoked at that instant", Some(a), g, x, Some("2026-06-30T12:00:00Z"), a, false),
        ("revocation dated later", Some(a), g, x, Some("2026-07-01T00:00:00Z"), a, true),
        ("all banks, revoked", None, g, x, Some("2026-03-01T00:00:00Z"), a, false),
        ("all banks, expired", None, g, "2026-05-01T00:00:00Z", None, b, false),
    ];
    let mut conn = app.db.pool().acquire().await.expect("conn");
    for (n, (what, named, granted, expires, revoked, asked, want)) in cases.iter().enumerate() {
        let firm: srdi_capital::domain::ids::FirmId =
            app.create_firm(firm_body(100 + n)).await["id"].as_str().expect("id").parse().expect("uuid");
        let consent = Consent {
            id: Uuid::now_v7(),
            firm_id: firm,
            bank_id: named.map(BankId::from_uuid),
            purpose: ConsentPurpose::FinancingMatching,
            granted_at: t(granted),
            expires_at: t(expires),
            revoked_at: revoked.map(t),
        };
        sqlx::query(
            "INSERT INTO consents (id, firm_id, bank_id, purpose, granted_at, expires_at, revoked_at) \
             VALUES ($1, $2, $3, 'financing_matching', $4, $5, $6)",
        )
        .bind(consent.id.to_string())
        .bind(firm.to_string())
        .bind(named.map(|b| b.to_string()))
        .bind(ts(consent.granted_at))
        .bind(ts(consent.expires_at))
        .bind(consent.revoked_at.map(ts))
        .execute(&mut *conn)
        .await
        .expect("insert consent");
        let asked = BankId::from_uuid(*asked);
        let rust = covers(std::slice::from_ref(&consent), asked, now);
        let read_gate = consents::covers(&mut conn, firm, asked, now).await.expect("sql");
        let coverage = hook_store::consent_coverage(&mut conn, &[firm], now).await.expect("coverage");
        let delivery_gate = coverage.get(&firm).is_some_and(|banks| banks.iter().any(|x| x.is_none_or(|x| x == asked)));
        assert_eq!((rust, read_gate, delivery_gate), (*want, *want, *want), "{what}");
        let state = consents::get(&mut conn, firm, consent.id, now).await.expect("get").expect("found").state;
        assert_eq!(state == "in_force", consent.is_in_force(now), "{what}: the answer's state follows the rule too");
    }
}

/// Waits until the matching queue is empty and no webhook delivery is pending, so that what a
/// step caused has been decided and sent before the next step.
async fn settle(app: &TestApp) {
    crate::financing::drain(app).await;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'")
            .fetch_one(app.db.pool())
            .await
            .expect("pending deliveries");
        if pending == 0 {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{pending} deliveries still pending");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A random sequence of business changes, all through the API, under an injected clock: after
/// it, each bank's mirror built only from the verified webhooks it received equals its full
/// pull, and every delivery that carried a firm's data went to a bank the firm's consent
/// covered at that moment (the only exception is the ids-only withdrawal sent because that
/// coverage ended).
#[tokio::test]
async fn a_mirror_kept_from_webhooks_equals_the_pull_after_a_random_sequence() {
    use std::collections::{BTreeMap, BTreeSet};

    use chrono::{SubsecRound as _, Utc};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use srdi_capital::clock::{Clock as _, ManualClock};
    use srdi_capital::domain::consent::{Consent, covers};

    const STEPS: usize = 220;
    const FIRMS: usize = 5;
    let clock = ManualClock::new(Utc::now().trunc_subsecs(0));
    let app = spawn_app_with(hooks, Arc::new(clock.clone())).await;
    let rx = Receiver::start().await;
    let mut rng = StdRng::seed_from_u64(0x5eed_2026);
    let admin = app.admin_key.clone();

    let mut banks = Vec::new();
    for (code, path) in [("MIR-A", "/a"), ("MIR-B", "/b")] {
        let (id, key) = bank(&app, code).await;
        let secret = endpoint(&app, &key, &rx.url(path), &MATCH_TYPES).await;
        banks.push((id, key, path, secret));
    }
    let product_body = |n: usize, min_revenue: &str| -> Value {
        let mut p = srdi_product(&format!("产品{n}"), min_revenue);
        match n % 3 {
            0 => p["eligibility"]["tiers"] = json!(["little_giant"]),
            1 => p["eligibility"]["reserve_pool_only"] = json!(true),
            _ => {}
        }
        p
    };
    let revenues = ["5000000.00", "9000000.00", "12000000.00", "20000000.00"];
    // (product, its bank's index, active)
    let mut products: Vec<(Uuid, usize, bool)> = Vec::new();
    for n in 0..4 {
        let b = n % 2;
        let id = publish(&app, &banks[b].1, &product_body(n, revenues[rng.random_range(0..3)])).await;
        products.push((id, b, true));
    }
    let mut firms = Vec::new();
    for n in 0..FIRMS {
        let f = firm(&app, 300 + n).await;
        set_revenue(&app, f, revenues[rng.random_range(0..revenues.len())]).await;
        firms.push(f);
    }
    settle(&app).await;
    // (firm, consent) not yet revoked
    let mut live: Vec<(Uuid, Uuid)> = Vec::new();
    let mut in_pool: BTreeSet<Uuid> = BTreeSet::new();
    // Per step: its instant and how many deliveries each path had received after it.
    let mut marks: Vec<(chrono::DateTime<Utc>, [usize; 2])> = Vec::new();
    for step in 0..STEPS {
        clock.advance(chrono::Duration::seconds(1));
        let f = firms[rng.random_range(0..FIRMS)];
        match rng.random_range(0..100) {
            0..=24 => set_revenue(&app, f, revenues[rng.random_range(0..revenues.len())]).await,
            25..=34 => {
                let tier = ["innovative_sme", "provincial_srdi", "little_giant"][rng.random_range(0..3)];
                let resp = app.patch_json(&format!("/v1/firms/{f}"), &admin, &json!({"tier": tier})).await;
                assert_eq!(resp.status(), StatusCode::OK, "step {step}: tier");
            }
            35..=44 => {
                let i = rng.random_range(0..products.len());
                let (p, b, active) = products[i];
                if active && rng.random_bool(0.3) {
                    let resp = app
                        .req(reqwest::Method::DELETE, &format!("/v1/products/{p}"), Some(&banks[b].1))
                        .send()
                        .await
                        .expect("withdraw");
                    assert_eq!(resp.status(), StatusCode::NO_CONTENT, "step {step}: withdraw product");
                    products[i].2 = false;
                    let n = products.len();
                    let id = publish(&app, &banks[b].1, &product_body(n, revenues[rng.random_range(0..3)])).await;
                    products.push((id, b, true));
                } else if active {
                    let min = revenues[rng.random_range(0..revenues.len())];
                    let patch = json!({"eligibility": {"min_revenue": min}});
                    let resp = app.patch_json(&format!("/v1/products/{p}"), &banks[b].1, &patch).await;
                    assert_eq!(resp.status(), StatusCode::OK, "step {step}: update product");
                }
            }
            45..=69 => {
                let to = match rng.random_range(0..3) {
                    0 => None,
                    i => Some(banks[i - 1].0),
                };
                // Some consents run for two minutes, so the clock lets them lapse.
                let expires = if rng.random_bool(0.4) {
                    clock.now() + chrono::Duration::minutes(2)
                } else {
                    clock.now() + chrono::Duration::days(300)
                };
                let resp = app
                    .post_json(
                        &format!("/v1/firms/{f}/consents"),
                        &admin,
                        &json!({"bank_id": to, "expires_at": expires}),
                    )
                    .await;
                assert_eq!(resp.status(), StatusCode::CREATED, "step {step}: grant");
                let c = json_of(resp).await;
                live.push((f, c["id"].as_str().expect("id").parse().expect("uuid")));
            }
            70..=84 if !live.is_empty() => {
                let (f, c) = live.swap_remove(rng.random_range(0..live.len()));
                revoke(&app, &admin, f, c).await;
            }
            70..=89 => clock.advance(chrono::Duration::minutes(3)),
            _ => {
                if in_pool.remove(&f) {
                    let path = format!("/v1/reserve-pool/{f}?reason=%E8%B0%83%E6%95%B4");
                    let resp = app.req(reqwest::Method::DELETE, &path, Some(&admin)).send().await.expect("remove");
                    assert_eq!(resp.status(), StatusCode::NO_CONTENT, "step {step}: leave pool");
                } else {
                    let resp =
                        app.post_json("/v1/reserve-pool", &admin, &json!({"firm_id": f, "target_venue": "bse"})).await;
                    assert!(resp.status().is_success(), "step {step}: admit");
                    in_pool.insert(f);
                }
            }
        }
        settle(&app).await;
        marks.push((clock.now(), [rx.received("/a").len(), rx.received("/b").len()]));
    }

    let mut consents: BTreeMap<Uuid, Vec<Consent>> = BTreeMap::new();
    for f in &firms {
        let list = json_of(app.get(&format!("/v1/firms/{f}/consents"), &admin).await).await;
        let parsed = serde_json::from_value::<Vec<Consent>>(list["items"].clone()).expect("consents");
        consents.insert(*f, parsed);
    }
    let mut total = 0;
    let mut shown_by_consent = 0;
    for (i, (bank_id, key, path, secret)) in banks.iter().enumerate() {
        let got = rx.received(path);
        // pair -> (seq, visible)
        let mut mirror: BTreeMap<(String, String), (i64, bool)> = BTreeMap::new();
        let mut from = 0;
        for (at, counts) in &marks {
            for r in &got[from..counts[i]] {
                assert!(crate::webhooks::rust_verifies(secret, r), "a delivery that does not verify");
                let body = r.json();
                let data = &body["data"];
                let firm: Uuid = data["firm_id"].as_str().expect("firm").parse().expect("uuid");
                let reason = data["reason"].as_str().expect("reason");
                let lost_sight = body["type"] == "match.withdrawn" && reason.starts_with("consent_");
                assert!(
                    lost_sight || covers(&consents[&firm], BankId::from_uuid(*bank_id), *at),
                    "{path}: {} about {firm} at {at} while its consent did not cover the bank",
                    body["type"]
                );
                shown_by_consent += usize::from(reason == "consent_granted");
                let pair = (firm.to_string(), data["product_id"].as_str().expect("product").to_owned());
                let seq = data["seq"].as_i64().expect("seq");
                let visible = body["type"] != "match.withdrawn";
                if mirror.get(&pair).is_none_or(|(s, _)| *s < seq) {
                    mirror.insert(pair, (seq, visible));
                }
            }
            from = counts[i];
        }
        assert_eq!(got.len(), from, "{path}: nothing arrived after the last step settled");
        total += got.len();
        let mirrored: Vec<(String, String)> =
            mirror.into_iter().filter(|(_, (_, visible))| *visible).map(|(pair, _)| pair).collect();
        let (items, _) = crate::financing::pull_all(&app, key, "").await;
        assert_eq!(mirrored, crate::financing::pairs(&items), "{path}: the webhook mirror equals the full pull");
    }
    eprintln!("mirror test: {total} deliveries, {shown_by_consent} shown by consent");
    assert!(total > 40 && shown_by_consent > 0, "the sequence exercised the stream: {total} deliveries");
}
