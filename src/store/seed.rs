//! Bulk writes of the demo and load-test data: the seeder batches them itself (its firms are
//! generated window by window), and the demo's own bank, fund and firm are found or made by name.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::Conn;
use crate::db::row::{RowExt, list_placeholders, values_placeholders};
use crate::db::types::{day, ts};
use crate::domain::firm::Venue;
use crate::domain::ids::{BankId, FirmId};
use crate::error::AppResult;

/// A firm outside the reserve pool, with its current event sequence.
pub struct Unpooled {
    pub id: FirmId,
    pub event_seq: i64,
}

/// The firms among `codes` that are not in the reserve pool yet.
pub async fn unpooled_by_credit_code(conn: &mut Conn, codes: &[String]) -> AppResult<Vec<Unpooled>> {
    let sql = format!(
        "SELECT id, event_seq FROM firms WHERE in_reserve_pool = $1 AND credit_code IN ({})",
        list_placeholders(codes.len(), 2)
    );
    let mut q = sqlx::query(&sql).bind(false);
    for c in codes {
        q = q.bind(c.clone());
    }
    let rows = q.fetch_all(&mut *conn).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(Unpooled { id: r.id("id")?, event_seq: r.int("event_seq")? });
    }
    Ok(out)
}

/// One admission to the reserve pool.
pub struct Admission {
    pub firm_id: FirmId,
    pub venue: Venue,
    pub key_firm: bool,
    pub admitted_on: NaiveDate,
}

/// Writes the pool rows and their history rows of `admissions`, one statement each; the firm rows
/// are flagged by [`mark_pooled`] once the admission events are recorded.
pub async fn insert_admissions(conn: &mut Conn, admissions: &[Admission], now: DateTime<Utc>) -> AppResult<()> {
    let sql = format!(
        "INSERT INTO reserve_pool (firm_id, target_venue, sponsor_broker, key_firm, note, admitted_on, admitted_at, updated_at) VALUES {}",
        values_placeholders(admissions.len(), 8, 1)
    );
    let mut q = sqlx::query(&sql);
    for a in admissions {
        q = q
            .bind(a.firm_id.to_string())
            .bind(a.venue.as_str())
            .bind(None::<String>)
            .bind(a.key_firm)
            .bind(None::<String>)
            .bind(day(a.admitted_on))
            .bind(ts(now))
            .bind(ts(now));
    }
    q.execute(&mut *conn).await?;
    let sql = format!(
        "INSERT INTO reserve_pool_history (id, firm_id, action, target_venue, key_firm, reason, actor_key_id, at) VALUES {}",
        values_placeholders(admissions.len(), 8, 1)
    );
    let mut q = sqlx::query(&sql);
    for a in admissions {
        q = q
            .bind(Uuid::now_v7().to_string())
            .bind(a.firm_id.to_string())
            .bind("admitted")
            .bind(a.venue.as_str())
            .bind(a.key_firm)
            .bind(Some("seed".to_owned()))
            .bind(None::<String>)
            .bind(ts(now));
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

/// Flags the firms as pooled and counts the admission as each firm's next change.
pub async fn mark_pooled(conn: &mut Conn, firm_ids: &[FirmId]) -> AppResult<()> {
    let sql = format!(
        "UPDATE firms SET in_reserve_pool = $1, event_seq = event_seq + 1 WHERE id IN ({})",
        list_placeholders(firm_ids.len(), 2)
    );
    let mut q = sqlx::query(&sql).bind(true);
    for id in firm_ids {
        q = q.bind(id.to_string());
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

/// The demo bank's id, registered under `code` when it is missing.
pub async fn demo_bank(conn: &mut Conn, code: &str, name: &str, email: &str, now: DateTime<Utc>) -> AppResult<BankId> {
    let bank = sqlx::query("SELECT id FROM banks WHERE code = $1").bind(code).fetch_optional(&mut *conn).await?;
    if let Some(r) = bank {
        return Ok(r.id("id")?);
    }
    let id = BankId::new();
    sqlx::query("INSERT INTO banks (id, code, name, contact_email, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id.to_string())
        .bind(code)
        .bind(name)
        .bind(email)
        .bind(ts(now))
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

/// The demo fund's id, registered under `name` when it is missing.
pub async fn demo_fund(conn: &mut Conn, name: &str, kind: &str, email: &str, now: DateTime<Utc>) -> AppResult<Uuid> {
    let fund = sqlx::query("SELECT id FROM funds WHERE name = $1").bind(name).fetch_optional(&mut *conn).await?;
    if let Some(r) = fund {
        return Ok(r.uuid("id")?);
    }
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO funds (id, name, kind, contact_email, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id.to_string())
        .bind(name)
        .bind(kind)
        .bind(email)
        .bind(ts(now))
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

/// The firm the demo's enterprise key acts for: the oldest firm of the reserve pool.
pub async fn demo_firm(conn: &mut Conn) -> AppResult<Option<FirmId>> {
    let row = sqlx::query("SELECT id FROM firms WHERE in_reserve_pool = $1 ORDER BY id LIMIT 1")
        .bind(true)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|r| r.id("id")).transpose()?)
}

/// Opts the key firms of the pool and `demo_firm` in to investor visibility, leaving any existing
/// choice alone.
pub async fn show_key_firms_to_investors(conn: &mut Conn, demo_firm: FirmId, now: DateTime<Utc>) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO firm_investor_visibility (firm_id, visible, updated_by_key, updated_at) \
         SELECT firm_id, $1, NULL, $2 FROM reserve_pool WHERE key_firm = $1 OR firm_id = $3 ON CONFLICT DO NOTHING",
    )
    .bind(true)
    .bind(ts(now))
    .bind(demo_firm.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn count_products(conn: &mut Conn) -> AppResult<usize> {
    Ok(sqlx::query("SELECT COUNT(*) AS n FROM products").fetch_one(&mut *conn).await?.int("n")? as usize)
}

/// A firm as the financing seeder sees it.
pub struct FinancingState {
    pub id: FirmId,
    pub lead_bank_id: Option<BankId>,
    pub consents: i64,
}

/// Every firm in id order, with its lead bank and how many consents it has.
pub async fn financing_states(conn: &mut Conn) -> AppResult<Vec<FinancingState>> {
    let rows = sqlx::query(
        "SELECT f.id, f.lead_bank_id, (SELECT COUNT(*) FROM consents c WHERE c.firm_id = f.id) AS consents \
         FROM firms f ORDER BY f.id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(FinancingState {
            id: r.id("id")?,
            lead_bank_id: r.opt_id("lead_bank_id")?,
            consents: r.int("consents")?,
        });
    }
    Ok(out)
}

/// A consent to write: its id, the firm, and the bank it names (none: every partner bank).
pub type NewConsent = (Uuid, FirmId, Option<BankId>);

/// Inserts financing-matching consents granted now by no key, in one statement.
pub async fn insert_consents(
    conn: &mut Conn,
    consents: &[NewConsent],
    now: DateTime<Utc>,
    expires: &str,
) -> AppResult<()> {
    let sql = format!(
        "INSERT INTO consents (id, firm_id, bank_id, purpose, granted_at, granted_by_key, expires_at) VALUES {}",
        values_placeholders(consents.len(), 7, 1)
    );
    let mut q = sqlx::query(&sql);
    for (cid, firm, bank) in consents {
        q = q
            .bind(cid.to_string())
            .bind(firm.to_string())
            .bind(bank.map(|b| b.to_string()))
            .bind("financing_matching")
            .bind(ts(now))
            .bind(None::<String>)
            .bind(expires.to_owned());
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

pub async fn set_lead_bank(conn: &mut Conn, firm: FirmId, bank: BankId) -> AppResult<()> {
    sqlx::query("UPDATE firms SET lead_bank_id = $2 WHERE id = $1")
        .bind(firm.to_string())
        .bind(bank.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Puts the firms on the tutoring whitelist, in one statement.
pub async fn whitelist_for_tutoring(conn: &mut Conn, firms: &[FirmId]) -> AppResult<()> {
    let sql = format!("UPDATE firms SET tutoring_whitelist = $1 WHERE id IN ({})", list_placeholders(firms.len(), 2));
    let mut q = sqlx::query(&sql).bind(true);
    for id in firms {
        q = q.bind(id.to_string());
    }
    q.execute(&mut *conn).await?;
    Ok(())
}
