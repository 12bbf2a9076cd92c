//! API keys: random 256-bit secrets shown once, stored as SHA-256 digests.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use rand::RngCore as _;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Conn;
use crate::db::row::RowExt;
use crate::db::types::ts;
use crate::domain::access::{Principal, Role};
use crate::error::{AppError, AppResult};

const KEY_PREFIX: &str = "srdi_";

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyInfo {
    pub id: Uuid,
    /// The first characters of the key, to recognise it; the key itself is never stored.
    pub prefix: String,
    pub role: Role,
    pub subject_id: Option<Uuid>,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub fn hash_key(plaintext: &str) -> String {
    hex::encode(Sha256::digest(plaintext.as_bytes()))
}

fn generate_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{KEY_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

fn from_row(r: &AnyRow) -> Result<ApiKeyInfo, sqlx::Error> {
    Ok(ApiKeyInfo {
        id: r.uuid("id")?,
        prefix: r.text("prefix")?,
        role: r.vocab("role")?,
        subject_id: r.opt_uuid("subject_id")?,
        label: r.text("label")?,
        created_at: r.ts("created_at")?,
        revoked_at: r.opt_ts("revoked_at")?,
    })
}

/// Checks that the subject exists for the role, then stores a new key. Returns the key info and
/// the plaintext key, which is not kept.
pub async fn create(
    conn: &mut Conn,
    role: Role,
    subject_id: Option<Uuid>,
    label: &str,
    now: DateTime<Utc>,
) -> AppResult<(ApiKeyInfo, String)> {
    let table = match (role, subject_id) {
        (Role::Admin, None) => None,
        (Role::Admin, Some(_)) => {
            return Err(AppError::field("subject_id", "invalid", "an admin key has no subject"));
        }
        (_, None) => {
            return Err(AppError::field(
                "subject_id",
                "required",
                format!("a {role} key needs the id of its {}", subject_noun(role)),
            ));
        }
        (Role::Bank, Some(_)) => Some("banks"),
        (Role::Fund, Some(_)) => Some("funds"),
        (Role::Enterprise, Some(_)) => Some("firms"),
    };
    if let (Some(table), Some(id)) = (table, subject_id) {
        let found = sqlx::query(&format!("SELECT id FROM {table} WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
        if found.is_none() {
            return Err(AppError::field("subject_id", "not_found", format!("no {} with id {id}", subject_noun(role))));
        }
    }
    let plaintext = generate_key();
    let info = ApiKeyInfo {
        id: Uuid::now_v7(),
        prefix: plaintext.chars().take(KEY_PREFIX.len() + 6).collect(),
        role,
        subject_id,
        label: label.to_owned(),
        created_at: now,
        revoked_at: None,
    };
    sqlx::query(
        "INSERT INTO api_keys (id, key_hash, prefix, role, subject_id, label, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(info.id.to_string())
    .bind(hash_key(&plaintext))
    .bind(&info.prefix)
    .bind(role.as_str())
    .bind(subject_id.map(|s| s.to_string()))
    .bind(label)
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    Ok((info, plaintext))
}

fn subject_noun(role: Role) -> &'static str {
    match role {
        Role::Bank => "bank",
        Role::Fund => "fund",
        Role::Enterprise => "firm",
        Role::Admin => "subject",
    }
}

/// The principal of a live (not revoked) key.
pub async fn authenticate(conn: &mut Conn, plaintext: &str) -> AppResult<Option<Principal>> {
    principal_by_hash(conn, &hash_key(plaintext)).await
}

/// The principal of the live key with this digest ([`hash_key`]).
pub async fn principal_by_hash(conn: &mut Conn, key_hash: &str) -> AppResult<Option<Principal>> {
    let row = sqlx::query("SELECT id, role, subject_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL")
        .bind(key_hash)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some(r) => {
            let key_id = r.uuid("id")?;
            let principal = Principal::new(key_id, r.vocab("role")?, r.opt_uuid("subject_id")?);
            if principal.is_none() {
                tracing::warn!(%key_id, "an API key whose role and subject do not fit together is refused");
            }
            principal
        }
        None => None,
    })
}

pub async fn list(conn: &mut Conn) -> AppResult<Vec<ApiKeyInfo>> {
    let rows = sqlx::query("SELECT * FROM api_keys ORDER BY id").fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Revokes a key by id or by its shown prefix. Revoking twice is harmless.
pub async fn revoke(conn: &mut Conn, id_or_prefix: &str, now: DateTime<Utc>) -> AppResult<ApiKeyInfo> {
    let row = sqlx::query("SELECT * FROM api_keys WHERE id = $1 OR prefix = $1")
        .bind(id_or_prefix)
        .fetch_all(&mut *conn)
        .await?;
    let info = match row.as_slice() {
        [one] => from_row(one)?,
        [] => return Err(AppError::not_found("API key")),
        _ => return Err(AppError::conflict("ambiguous_key", "several keys share that prefix; give the key id")),
    };
    sqlx::query("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1")
        .bind(info.id.to_string())
        .bind(ts(now))
        .execute(&mut *conn)
        .await?;
    // As stored (the column keeps microseconds), so that revoking again answers the same time.
    let stored_now = crate::db::types::Ts::try_from(ts(now)).map(|t| t.0).unwrap_or(now);
    Ok(ApiKeyInfo { revoked_at: info.revoked_at.or(Some(stored_now)), ..info })
}
