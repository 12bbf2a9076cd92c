//! API keys: revocation through the API, and the key cache of each instance. The cache is shown
//! to be warm by revoking a key behind the service's back (a direct UPDATE that, on PostgreSQL,
//! fires no trigger); the key then still works, until it is revoked through the API.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use srdi_capital::clock::SystemClock;
use srdi_capital::db::row::RowExt;
use uuid::Uuid;

use crate::helpers::*;
use crate::roadshows::new_fund;

async fn key_id_of(app: &TestApp, label: &str) -> Uuid {
    let row = sqlx::query("SELECT id FROM api_keys WHERE label = $1")
        .bind(label)
        .fetch_one(app.db.pool())
        .await
        .expect("key row");
    row.uuid("id").expect("id")
}

/// Revokes or restores the key without the service knowing: on PostgreSQL with triggers off for
/// this session only, so no notification is sent.
async fn revoke_behind_the_back(app: &TestApp, key_id: Uuid, revoked: bool) {
    let mut tx = app.db.pool().begin().await.expect("tx");
    if backend() == "postgres" {
        sqlx::query("SET LOCAL session_replication_role = replica").execute(&mut *tx).await.expect("replica role");
    }
    let at = revoked.then(|| "2026-01-01T00:00:00.000000Z".to_owned());
    sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1")
        .bind(key_id.to_string())
        .bind(at)
        .execute(&mut *tx)
        .await
        .expect("update");
    tx.commit().await.expect("commit");
}

async fn status_with(app: &TestApp, key: &str) -> StatusCode {
    app.get("/v1/roadshows", key).await.status()
}

/// Whether the key is refused within `bound`. A PostgreSQL notification reaches another
/// instance's listener a moment after the revoking commit returns, so "at once" is checked as
/// "within a bound far below the cache's TTL", not as the very next request.
async fn refused_within(app: &TestApp, key: &str, bound: std::time::Duration) -> bool {
    let start = std::time::Instant::now();
    loop {
        if status_with(app, key).await == StatusCode::UNAUTHORIZED {
            return true;
        }
        if start.elapsed() > bound {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_revoked_key_is_refused_at_once_by_every_instance_while_the_cache_is_warm() {
    let a = spawn_app_with(|c| c.api_key_cache_ttl_secs = 600, Arc::new(SystemClock)).await;
    // On PostgreSQL a second instance serves the same database; a SQLite file has one instance.
    let b = if backend() == "postgres" {
        Some(start_on(a.config.clone(), Arc::new(SystemClock), a.guard()).await)
    } else {
        None
    };
    let (_, key) = new_fund(&a, "甲基金").await;
    let key_id = key_id_of(&a, "manager").await;
    let instances: Vec<&TestApp> = std::iter::once(&a).chain(b.as_ref()).collect();
    for app in &instances {
        assert_eq!(status_with(app, &key).await, StatusCode::OK);
    }
    revoke_behind_the_back(&a, key_id, true).await;
    for app in &instances {
        assert_eq!(status_with(app, &key).await, StatusCode::OK, "served from the warm cache");
    }
    revoke_behind_the_back(&a, key_id, false).await;

    // Only the office revokes.
    let resp = a.req(Method::DELETE, &format!("/v1/api-keys/{key_id}"), Some(&key)).send().await.expect("request");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp =
        a.req(Method::DELETE, &format!("/v1/api-keys/{key_id}"), Some(&a.admin_key)).send().await.expect("request");
    assert_eq!(resp.status(), StatusCode::OK);
    let revoked: Value = resp.json().await.expect("json");
    assert_eq!(revoked["id"], key_id.to_string());
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    assert!(revoked.get("key_hash").is_none());
    // The instance that revoked drops the key before answering; the other hears it by NOTIFY.
    let resp = a.get("/v1/roadshows", &key).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "refused at once by the revoking instance");
    assert_eq!(problem(resp).await["code"], "unauthorized");
    if let Some(b) = &b {
        assert!(
            refused_within(b, &key, std::time::Duration::from_secs(2)).await,
            "refused by the other instance long before the 600 s TTL"
        );
    }
    // Revoking again answers the revoked key; an unknown id is 404.
    let again =
        a.req(Method::DELETE, &format!("/v1/api-keys/{key_id}"), Some(&a.admin_key)).send().await.expect("request");
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["revoked_at"], revoked["revoked_at"]);
    let unknown = a
        .req(Method::DELETE, &format!("/v1/api-keys/{}", Uuid::now_v7()), Some(&a.admin_key))
        .send()
        .await
        .expect("request");
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

/// A revocation by another process (the CLI, a direct UPDATE): on PostgreSQL as soon as the
/// trigger's notification arrives (the TTL there is 600 s, so the notification is what refuses it);
/// on SQLite no later than the cache's TTL.
#[tokio::test]
async fn a_key_revoked_by_another_process_is_refused_within_the_ttl_at_the_latest() {
    let ttl = if backend() == "postgres" { 600 } else { 1 };
    let app = spawn_app_with(|c| c.api_key_cache_ttl_secs = ttl, Arc::new(SystemClock)).await;
    let (_, key) = new_fund(&app, "甲基金").await;
    let key_id = key_id_of(&app, "manager").await;
    assert_eq!(status_with(&app, &key).await, StatusCode::OK);
    let mut conn = app.db.pool().acquire().await.expect("conn");
    srdi_capital::store::keys::revoke(&mut conn, &key_id.to_string(), chrono::Utc::now()).await.expect("revoke");
    drop(conn);
    assert!(refused_within(&app, &key, std::time::Duration::from_secs(3)).await, "still accepted well past the TTL");
}
