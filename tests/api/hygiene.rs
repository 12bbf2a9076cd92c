use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use srdi_capital::clock::SystemClock;

use crate::helpers::*;

#[tokio::test]
async fn keys_missing_unknown_and_revoked_are_401() {
    let app = spawn_app().await;
    let resp = app.req(Method::GET, "/v1/firms", None).send().await.expect("req");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(resp.headers().get("www-authenticate").and_then(|v| v.to_str().ok()), Some("Bearer"));
    assert_eq!(problem(resp).await["code"], "unauthorized");
    assert_eq!(app.get("/v1/firms", "srdi_not-a-key").await.status(), StatusCode::UNAUTHORIZED);
    let resp = app.req(Method::GET, "/v1/firms", None).header("Authorization", "Basic abc").send().await.expect("req");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    let key = app.key_for(srdi_capital::domain::access::Role::Admin, None).await;
    assert_eq!(app.get("/v1/firms", &key).await.status(), StatusCode::OK);
    let mut conn = app.db.pool().acquire().await.expect("conn");
    let prefix: String = key.chars().take(11).collect();
    let id = srdi_capital::store::keys::list(&mut conn).await.expect("keys").into_iter().find(|k| k.prefix == prefix);
    drop(conn);
    let path = format!("/v1/api-keys/{}", id.expect("the key").id);
    let resp = app.req(Method::DELETE, &path, Some(&app.admin_key)).send().await.expect("revoke");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(app.get("/v1/firms", &key).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn malformed_bodies_and_unknown_routes_are_4xx_problems() {
    let app = spawn_app().await;
    let send = |method: Method, path: &'static str, ct: &'static str, body: &'static str| {
        app.req(method, path, Some(&app.admin_key)).header("content-type", ct).body(body).send()
    };
    let resp = send(Method::POST, "/v1/firms", "application/json", "{not json").await.expect("req");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(problem(resp).await["code"], "invalid_json");
    let resp = send(Method::POST, "/v1/firms", "text/plain", "{}").await.expect("req");
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let resp = send(Method::POST, "/v1/firms", "application/json", "[1,2]").await.expect("req");
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let resp =
        send(Method::POST, "/v1/reserve-pool", "application/json", r#"{"firm_id": "nope", "target_venue": "bse"}"#)
            .await
            .expect("req");
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let resp = app.get("/v1/nothing-here", &app.admin_key).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    problem(resp).await;
    let resp = app.get("/v1/firms/not-a-uuid", &app.admin_key).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = app.req(Method::DELETE, "/v1/firms", Some(&app.admin_key)).send().await.expect("req");
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    problem(resp).await;
    let resp = app.get("/v1/reserve-pool?cursor=%%%", &app.admin_key).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn oversize_bodies_are_413() {
    let app =
        spawn_app_with(|c| c.max_body_bytes = 64 * 1024, std::sync::Arc::new(srdi_capital::clock::SystemClock)).await;
    let big = "x".repeat(200 * 1024);
    let resp = app
        .req(Method::POST, "/v1/firms/import", Some(&app.admin_key))
        .header("content-type", "text/csv")
        .body(big)
        .send()
        .await
        .expect("req");
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn idempotency_key_replays_the_first_answer() {
    let app = spawn_app().await;
    let post = |key: &'static str, body: Value| {
        app.req(Method::POST, "/v1/firms", Some(&app.admin_key)).header("Idempotency-Key", key).json(&body).send()
    };
    let first = post("k-1", firm_body(1)).await.expect("req");
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.expect("json");
    let again = post("k-1", firm_body(1)).await.expect("req");
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers().get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["id"], first["id"]);
    let other = post("k-1", firm_body(2)).await.expect("req");
    assert_eq!(other.status(), StatusCode::CONFLICT);
    assert_eq!(problem(other).await["code"], "idempotency_key_reused");
    // Without the key a repeat is a real second request: the duplicate guard answers.
    let resp = app.post_json("/v1/firms", &app.admin_key, &firm_body(1)).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn request_ids_health_readiness_and_metrics() {
    let app = spawn_app().await;
    let resp =
        app.client.get(format!("{}/healthz", app.base)).header("x-request-id", "abc-123").send().await.expect("req");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers().get("x-request-id").and_then(|v| v.to_str().ok()), Some("abc-123"));
    let resp = app.client.get(format!("{}/readyz", app.base)).send().await.expect("req");
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().get("x-request-id").is_some());
    app.get("/v1/firms", &app.admin_key).await;
    let metrics = app.scrape_metrics().await;
    assert!(metrics.contains(r#"http_requests_total{method="GET",route="/v1/firms",status="200"}"#), "{metrics}");
    assert!(metrics.contains("http_request_duration_seconds_bucket"), "{metrics}");
    let spec: Value =
        app.client.get(format!("{}/openapi.json", app.base)).send().await.expect("req").json().await.expect("json");
    assert!(spec["paths"]["/v1/firms"].is_object());
    assert!(spec["paths"]["/metrics"].is_null(), "the public document does not offer the metrics");
    let docs = app.client.get(format!("{}/docs/", app.base)).send().await.expect("req");
    assert_eq!(docs.status(), StatusCode::OK);
    let docs = app.client.get(format!("{}/docs/swagger-ui-bundle.js", app.base)).send().await.expect("req");
    assert_eq!(docs.status(), StatusCode::OK, "the docs page works without the internet");
}

#[tokio::test]
async fn committed_openapi_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
        .expect("openapi/openapi.json");
    let generated = srdi_capital::api::docs::openapi_pretty();
    assert!(committed == generated, "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json`");
    let _ = json!({});
}

/// The metrics are read on their own listener, which serves nothing else; the public port does
/// not show them, and `off` leaves no listener at all.
#[tokio::test]
async fn metrics_are_served_on_their_own_listener_only() {
    let app = spawn_app().await;
    app.get("/v1/firms", &app.admin_key).await;
    let resp = app.client.get(format!("{}/metrics", app.base)).send().await.expect("req");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let body = resp.text().await.expect("body");
    assert!(!body.contains("http_requests_total"), "{body}");
    let metrics_base = app.metrics_base.clone().expect("on by default");
    assert_ne!(metrics_base, app.base);
    let resp =
        app.client.get(format!("{metrics_base}/v1/firms")).bearer_auth(&app.admin_key).send().await.expect("req");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND, "the metrics listener serves the metrics alone");
    assert!(app.scrape_metrics().await.contains("http_requests_total"));

    let off = spawn_app_with(|c| c.metrics_listen = None, Arc::new(SystemClock)).await;
    assert!(off.metrics_base.is_none());
    let resp = off.client.get(format!("{}/metrics", off.base)).send().await.expect("req");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

/// The operator's form of the settings: environment variables, lists comma-separated, an empty
/// value meaning "not set". Read through the command line as a deployment reads them; a value that
/// does not parse stops it, naming the variable and never repeating a password.
#[tokio::test]
async fn settings_from_the_environment_are_parsed_once_and_named_when_wrong() {
    let (url, _guard) = fresh_database().await;
    let migrate = |settings: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_srdi-capital"));
        cmd.arg("migrate").env("SRDI_DATABASE_URL", &url).envs(settings.iter().copied());
        cmd.output().expect("run the command line")
    };
    let good = migrate(&[
        ("SRDI_WEBHOOKS_ALLOW_NETWORKS", "127.0.0.1/32, 10.0.0.0/8"),
        ("SRDI_WEBHOOKS_RETRY_SCHEDULE", "0"),
        ("SRDI_MAIL_RETRY_SCHEDULE", "60,300"),
        ("SRDI_MAIL_FROM", "Office <office@srdi.example>"),
        ("SRDI_SMTP_URL", ""),
        ("SRDI_WEBHOOKS_SECRET_KEY", ""),
        ("SRDI_METRICS_LISTEN", "off"),
    ]);
    assert!(good.status.success(), "{}", String::from_utf8_lossy(&good.stderr));
    for (setting, value) in [
        ("SRDI_WEBHOOKS_ALLOW_NETWORKS", "127.0.0.1/32,nonsense"),
        ("SRDI_WEBHOOKS_RETRY_SCHEDULE", "0,soon"),
        ("SRDI_MAIL_RETRY_SCHEDULE", "60,later"),
        ("SRDI_METRICS_LISTEN", "localhost"),
        ("SRDI_SMTP_URL", "smtp://u:hunter2@mail.example.cn"),
    ] {
        let out = migrate(&[(setting, value)]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{setting}={value} was accepted");
        assert!(stderr.contains(setting) && !stderr.contains("hunter2"), "{setting}: {stderr}");
    }
}
