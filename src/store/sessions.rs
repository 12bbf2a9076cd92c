//! Web sessions and one-time sign-in links. Only SHA-256 digests of the secrets are stored.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Conn;
use crate::db::row::RowExt;
use crate::db::types::ts;
use crate::domain::access::Role;
use crate::error::AppResult;

/// How a session was opened: with an API key, or with a sign-in link sent to a contact address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Key(Uuid),
    Link { link_id: Uuid },
}

pub struct NewSession<'a> {
    pub id: Uuid,
    pub token_hash: &'a str,
    pub role: Role,
    pub subject_id: Option<Uuid>,
    pub credential: Credential,
    /// For link sessions: the digest of the address the link went to.
    pub email_hash: Option<&'a str>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut Conn, s: &NewSession<'_>, now: DateTime<Utc>) -> AppResult<()> {
    let (key_id, link_id) = match s.credential {
        Credential::Key(k) => (Some(k), None),
        Credential::Link { link_id } => (None, Some(link_id)),
    };
    sqlx::query(
        "INSERT INTO web_sessions (id, token_hash, role, subject_id, key_id, link_id, email_hash, created_at, \
         last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)",
    )
    .bind(s.id.to_string())
    .bind(s.token_hash)
    .bind(s.role.as_str())
    .bind(s.subject_id.map(|u| u.to_string()))
    .bind(key_id.map(|u| u.to_string()))
    .bind(link_id.map(|u| u.to_string()))
    .bind(s.email_hash)
    .bind(ts(now))
    .bind(ts(s.expires_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A stored session with what is needed to re-check its credential.
#[derive(Debug, Clone)]
pub struct StoredSession {
    pub id: Uuid,
    pub role: Role,
    pub subject_id: Option<Uuid>,
    pub credential: Credential,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Key sessions: whether the key still exists and is not revoked.
    pub key_live: bool,
    pub email_hash: Option<String>,
    /// Link sessions: the subject's contact address now (compared by digest, never shown).
    pub current_contact: Option<String>,
}

/// One statement: the session, its key's state, and the contact address of its subject.
pub async fn find(conn: &mut Conn, token_hash: &str) -> AppResult<Option<StoredSession>> {
    let row = sqlx::query(
        "SELECT s.id, s.role, s.subject_id, s.key_id, s.link_id, s.email_hash, s.last_seen_at, s.expires_at, \
                k.id AS live_key, COALESCE(f.contact_email, u.contact_email) AS contact \
         FROM web_sessions s \
         LEFT JOIN api_keys k ON k.id = s.key_id AND k.revoked_at IS NULL \
         LEFT JOIN firms f ON s.link_id IS NOT NULL AND s.role = 'enterprise' AND f.id = s.subject_id \
         LEFT JOIN funds u ON s.link_id IS NOT NULL AND s.role = 'fund' AND u.id = s.subject_id \
         WHERE s.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let credential = match (r.opt_uuid("key_id")?, r.opt_uuid("link_id")?) {
        (Some(k), _) => Credential::Key(k),
        (None, Some(link_id)) => Credential::Link { link_id },
        (None, None) => return Ok(None),
    };
    Ok(Some(StoredSession {
        id: r.uuid("id")?,
        role: r.vocab("role")?,
        subject_id: r.opt_uuid("subject_id")?,
        credential,
        last_seen_at: r.ts("last_seen_at")?,
        expires_at: r.ts("expires_at")?,
        key_live: r.opt_text("live_key")?.is_some(),
        email_hash: r.opt_text("email_hash")?,
        current_contact: r.opt_text("contact")?,
    }))
}

pub async fn touch(conn: &mut Conn, id: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    sqlx::query("UPDATE web_sessions SET last_seen_at = $2 WHERE id = $1")
        .bind(id.to_string())
        .bind(ts(now))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: &mut Conn, token_hash: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *conn).await?;
    Ok(())
}

/// Removes sessions past their absolute expiry and links past theirs (used or not).
pub async fn purge_expired(conn: &mut Conn, now: DateTime<Utc>) -> AppResult<()> {
    sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1").bind(ts(now)).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM sign_in_links WHERE expires_at <= $1").bind(ts(now)).execute(&mut *conn).await?;
    Ok(())
}

/// A firm or fund whose contact address is the one asked for.
#[derive(Debug, Clone)]
pub struct ContactOwner {
    pub role: Role,
    pub subject_id: Uuid,
    pub name: String,
    /// The address as stored (the mail goes there).
    pub email: String,
}

/// Firms and funds whose contact address equals `email_lower` ignoring ASCII case (at most `limit`).
pub async fn contact_owners(conn: &mut Conn, email_lower: &str, limit: i64) -> AppResult<Vec<ContactOwner>> {
    let sql = format!(
        "SELECT 'enterprise' AS role, id, name, contact_email FROM firms WHERE lower(contact_email) = $1 \
         UNION ALL SELECT 'fund' AS role, id, name, contact_email FROM funds WHERE lower(contact_email) = $1 \
         ORDER BY role, id LIMIT {limit}"
    );
    let rows = sqlx::query(&sql).bind(email_lower).fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            Ok(ContactOwner {
                role: r.vocab("role")?,
                subject_id: r.uuid("id")?,
                name: r.text("name")?,
                email: r.text("contact_email")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// The contact address of a firm (`enterprise`) or fund now.
pub async fn contact_of(conn: &mut Conn, role: Role, subject_id: Uuid) -> AppResult<Option<String>> {
    let sql = match role {
        Role::Enterprise => "SELECT contact_email FROM firms WHERE id = $1",
        Role::Fund => "SELECT contact_email FROM funds WHERE id = $1",
        Role::Admin | Role::Bank => return Ok(None),
    };
    let row = sqlx::query(sql).bind(subject_id.to_string()).fetch_optional(&mut *conn).await?;
    Ok(match row {
        Some(r) => r.opt_text("contact_email")?,
        None => None,
    })
}

/// Links issued for a subject since `since` (to cap how many mails one address can be sent).
pub async fn links_since(conn: &mut Conn, subject_id: Uuid, since: DateTime<Utc>) -> AppResult<i64> {
    let r = sqlx::query("SELECT COUNT(*) AS n FROM sign_in_links WHERE subject_id = $1 AND created_at >= $2")
        .bind(subject_id.to_string())
        .bind(ts(since))
        .fetch_one(&mut *conn)
        .await?;
    Ok(r.int("n")?)
}

pub struct NewLink<'a> {
    pub id: Uuid,
    pub token_hash: &'a str,
    pub role: Role,
    pub subject_id: Uuid,
    pub email_hash: &'a str,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_link(conn: &mut Conn, l: &NewLink<'_>, now: DateTime<Utc>) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO sign_in_links (id, token_hash, role, subject_id, email_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(l.id.to_string())
    .bind(l.token_hash)
    .bind(l.role.as_str())
    .bind(l.subject_id.to_string())
    .bind(l.email_hash)
    .bind(ts(now))
    .bind(ts(l.expires_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A link that was just used up.
#[derive(Debug, Clone)]
pub struct RedeemedLink {
    pub id: Uuid,
    pub role: Role,
    pub subject_id: Uuid,
    pub email_hash: String,
}

/// Marks an unused, unexpired link used and returns it; `None` when it is unknown, used or
/// expired. One conditional update, so two concurrent uses cannot both succeed.
pub async fn redeem_link(conn: &mut Conn, token_hash: &str, now: DateTime<Utc>) -> AppResult<Option<RedeemedLink>> {
    let row = sqlx::query(
        "UPDATE sign_in_links SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
         RETURNING id, role, subject_id, email_hash",
    )
    .bind(token_hash)
    .bind(ts(now))
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(RedeemedLink {
        id: r.uuid("id")?,
        role: r.vocab("role")?,
        subject_id: r.uuid("subject_id")?,
        email_hash: r.text("email_hash")?,
    }))
}
