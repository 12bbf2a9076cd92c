//! Data-sharing consents. Rows are never deleted; revoking sets `revoked_at` and who did it.
//!
//! Consent scoping is enforced in SQL through [`covered_sql`]: every query that shows a bank a
//! firm (match pull, single match, applications) carries that predicate, evaluated at read time.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Conn;
use crate::db::row::RowExt;
use crate::db::types::ts;
use crate::domain::consent::{Consent, ConsentPurpose, NewConsent};
use crate::domain::ids::{BankId, FirmId};
use crate::error::{AppError, AppResult};

/// A consent with who granted and revoked it and its state at the time of reading.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsentRecord {
    #[serde(flatten)]
    pub consent: Consent,
    /// `in_force`, `expired` or `revoked` at the time of the answer (`pending` if granted later).
    #[schema(example = "in_force")]
    pub state: &'static str,
    /// The API key that granted it (`null` when granted by the system, e.g. seeding).
    pub granted_by_key_id: Option<Uuid>,
    pub revoked_by_key_id: Option<Uuid>,
}

/// The one spelling of "consent in force" in SQL, the twin of `Consent::is_in_force`: the consent
/// (table alias `c`) is for financing matching, granted at or before `now_p`, and neither revoked
/// nor expired at `now_p` (both ends exclusive, so a revocation dated later has not yet taken
/// effect). Timestamps compare as text: fixed-width RFC 3339 UTC.
pub fn in_force_sql(c: &str, now_p: &str) -> String {
    format!(
        "{c}.purpose = 'financing_matching' AND {c}.granted_at <= {now_p} \
         AND ({c}.revoked_at IS NULL OR {c}.revoked_at > {now_p}) \
         AND ({c}.expires_at IS NULL OR {c}.expires_at > {now_p})"
    )
}

/// Whether the consent (alias `c`) names the bank `bank` (a placeholder or a column) or all banks.
fn reaches_sql(c: &str, bank: &str) -> String {
    format!("({c}.bank_id IS NULL OR {c}.bank_id = {bank})")
}

/// SQL that is true when a consent in force at `now_p` lets the bank `bank` (placeholder or
/// column) see the firm whose id is the column `firm_col`. Every query that gates a bank's reads
/// or deliveries uses this.
pub fn covered_sql(firm_col: &str, bank: &str, now_p: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM consents c WHERE c.firm_id = {firm_col} AND {} AND {})",
        reaches_sql("c", bank),
        in_force_sql("c", now_p)
    )
}

/// SQL that is true when some consent granted at or before `now_p` ever let the bank see the
/// firm: the bank may then learn that a match it could see is gone, and nothing more. A firm
/// that never consented to the bank does not exist for it, not even as a withdrawn id.
pub fn ever_covered_sql(firm_col: &str, bank: &str, now_p: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM consents c WHERE c.firm_id = {firm_col} AND {} \
         AND c.purpose = 'financing_matching' AND c.granted_at <= {now_p})",
        reaches_sql("c", bank)
    )
}

fn from_row(r: &AnyRow, now: DateTime<Utc>) -> Result<ConsentRecord, sqlx::Error> {
    let consent = Consent {
        id: r.uuid("id")?,
        firm_id: r.id("firm_id")?,
        bank_id: r.opt_id("bank_id")?,
        purpose: r.vocab("purpose")?,
        granted_at: r.ts("granted_at")?,
        // Every consent this service writes has an expiry; a legacy open-ended row reads as far future.
        expires_at: r.opt_ts("expires_at")?.unwrap_or(DateTime::<Utc>::MAX_UTC),
        revoked_at: r.opt_ts("revoked_at")?,
    };
    let state = consent.state(now).as_str();
    Ok(ConsentRecord {
        consent,
        state,
        granted_by_key_id: r.opt_uuid("granted_by_key")?,
        revoked_by_key_id: r.opt_uuid("revoked_by_key")?,
    })
}

const COLUMNS: &str =
    "id, firm_id, bank_id, purpose, granted_at, granted_by_key, expires_at, revoked_at, revoked_by_key";

pub async fn insert(
    conn: &mut Conn,
    firm_id: FirmId,
    c: &NewConsent,
    by_key: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<ConsentRecord> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO consents (id, firm_id, bank_id, purpose, granted_at, granted_by_key, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id.to_string())
    .bind(firm_id.to_string())
    .bind(c.bank_id.map(|b| b.to_string()))
    .bind(c.purpose.as_str())
    .bind(ts(now))
    .bind(by_key.map(|k| k.to_string()))
    .bind(ts(c.expires_at))
    .execute(&mut *conn)
    .await?;
    get(conn, firm_id, id, now).await?.ok_or_else(|| AppError::Internal(anyhow::anyhow!("consent {id} not found")))
}

pub async fn get(conn: &mut Conn, firm_id: FirmId, id: Uuid, now: DateTime<Utc>) -> AppResult<Option<ConsentRecord>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM consents WHERE id = $1 AND firm_id = $2"))
        .bind(id.to_string())
        .bind(firm_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(|r| from_row(r, now)).transpose()?)
}

/// A firm's consents, oldest first.
pub async fn for_firm(conn: &mut Conn, firm_id: FirmId, now: DateTime<Utc>) -> AppResult<Vec<ConsentRecord>> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM consents WHERE firm_id = $1 ORDER BY id"))
        .bind(firm_id.to_string())
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(|r| from_row(r, now)).collect::<Result<_, _>>()?)
}

/// Revokes; `false` when it was already revoked (nothing changes then).
pub async fn revoke(conn: &mut Conn, firm_id: FirmId, id: Uuid, by_key: Uuid, now: DateTime<Utc>) -> AppResult<bool> {
    let done = sqlx::query(
        "UPDATE consents SET revoked_at = $3, revoked_by_key = $4 WHERE id = $1 AND firm_id = $2 AND revoked_at IS NULL",
    )
    .bind(id.to_string())
    .bind(firm_id.to_string())
    .bind(ts(now))
    .bind(by_key.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether a consent in force covers `bank_id` for this firm at `now`.
pub async fn covers(conn: &mut Conn, firm_id: FirmId, bank_id: BankId, now: DateTime<Utc>) -> AppResult<bool> {
    let sql = format!("SELECT 1 AS x FROM firms f WHERE f.id = $1 AND {}", covered_sql("f.id", "$2", "$3"));
    let row = sqlx::query(&sql)
        .bind(firm_id.to_string())
        .bind(bank_id.to_string())
        .bind(ts(now))
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}

/// Of these firms, the ones a consent in force lets `bank_id` see at `now` (one indexed query).
pub async fn covered_firms(
    conn: &mut Conn,
    bank_id: BankId,
    firm_ids: &[FirmId],
    now: DateTime<Utc>,
) -> AppResult<std::collections::HashSet<FirmId>> {
    let mut out = std::collections::HashSet::new();
    let mut ids = firm_ids.to_vec();
    ids.sort();
    ids.dedup();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT DISTINCT c.firm_id FROM consents c WHERE c.firm_id IN ({}) AND c.purpose = 'financing_matching' \
             AND c.revoked_at IS NULL AND c.granted_at <= $1 AND (c.expires_at IS NULL OR c.expires_at > $1) \
             AND (c.bank_id IS NULL OR c.bank_id = $2)",
            crate::db::row::list_placeholders(chunk.len(), 3)
        );
        let mut q = sqlx::query(&sql).bind(ts(now)).bind(bank_id.to_string());
        for id in chunk {
            q = q.bind(id.to_string());
        }
        for r in q.fetch_all(&mut *conn).await? {
            out.insert(r.id("firm_id")?);
        }
    }
    Ok(out)
}

/// Consents that ran out in `(from, to]` while not yet revoked: (firm, bank or all banks, expiry).
pub async fn expired_between(
    conn: &mut Conn,
    from: &str,
    to: DateTime<Utc>,
) -> AppResult<Vec<(FirmId, Option<BankId>, DateTime<Utc>)>> {
    let rows = sqlx::query(
        "SELECT firm_id, bank_id, expires_at FROM consents WHERE expires_at > $1 AND expires_at <= $2 \
         AND (revoked_at IS NULL OR revoked_at > expires_at) ORDER BY expires_at, id",
    )
    .bind(from)
    .bind(ts(to))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.id("firm_id")?, r.opt_id("bank_id")?, r.ts("expires_at")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Purpose of every consent the financing module writes.
pub const PURPOSE: ConsentPurpose = ConsentPurpose::FinancingMatching;
