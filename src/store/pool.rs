//! The listing reserve pool and its history.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::{Conn, firms};
use crate::db::row::{Bind, Filter, RowExt};
use crate::db::types::{day, ts};
use crate::domain::access::Principal;
use crate::domain::firm::{City, Tier, Venue};
use crate::domain::ids::FirmId;
use crate::domain::pool::{Admission, PoolEntry, PoolHistoryEntry};
use crate::error::{AppError, AppResult};

const COLUMNS: &str = "rp.firm_id, f.credit_code, f.name, f.city, f.tier, f.industry_code, rp.target_venue, \
    rp.sponsor_broker, rp.key_firm, rp.admitted_on, rp.note, rp.updated_at";

fn from_row(r: &AnyRow) -> Result<PoolEntry, sqlx::Error> {
    Ok(PoolEntry {
        firm_id: r.id("firm_id")?,
        credit_code: r.text("credit_code")?,
        name: r.text("name")?,
        city: r.vocab("city")?,
        tier: r.opt_vocab("tier")?,
        industry_code: r.text("industry_code")?,
        target_venue: r.vocab("target_venue")?,
        sponsor_broker: r.opt_text("sponsor_broker")?,
        key_firm: r.flag("key_firm")?,
        admitted_on: r.day("admitted_on")?,
        note: r.opt_text("note")?,
        updated_at: r.ts("updated_at")?,
    })
}

pub async fn get(conn: &mut Conn, firm_id: FirmId) -> AppResult<Option<PoolEntry>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM reserve_pool rp JOIN firms f ON f.id = rp.firm_id WHERE rp.firm_id = $1"
    ))
    .bind(firm_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// Admits a firm, or updates its entry when it is already in the pool (the answer says which).
pub async fn admit(
    conn: &mut Conn,
    a: &Admission,
    actor: &Principal,
    now: DateTime<Utc>,
) -> AppResult<(PoolEntry, bool)> {
    if firms::get(conn, a.firm_id).await?.is_none() {
        return Err(AppError::field("firm_id", "not_found", format!("no firm with id {}", a.firm_id)));
    }
    let existing = get(conn, a.firm_id).await?;
    let created = existing.is_none();
    if created {
        sqlx::query(
            "INSERT INTO reserve_pool (firm_id, target_venue, sponsor_broker, key_firm, note, admitted_on, admitted_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(a.firm_id.to_string())
        .bind(a.target_venue.as_str())
        .bind(a.sponsor_broker.clone())
        .bind(a.key_firm)
        .bind(a.note.clone())
        .bind(day(a.admitted_on))
        .bind(ts(now))
        .execute(&mut *conn)
        .await?;
        firms::set_in_pool(conn, a.firm_id, true, now).await?;
    } else {
        sqlx::query(
            "UPDATE reserve_pool SET target_venue = $2, sponsor_broker = $3, key_firm = $4, note = $5, updated_at = $6 WHERE firm_id = $1",
        )
        .bind(a.firm_id.to_string())
        .bind(a.target_venue.as_str())
        .bind(a.sponsor_broker.clone())
        .bind(a.key_firm)
        .bind(a.note.clone())
        .bind(ts(now))
        .execute(&mut *conn)
        .await?;
    }
    let action = if created { "admitted" } else { "updated" };
    add_history(conn, a.firm_id, action, Some(a.target_venue), Some(a.key_firm), a.note.as_deref(), actor, now).await?;
    let entry = get(conn, a.firm_id).await?.ok_or(AppError::not_found("reserve pool entry"))?;
    Ok((entry, created))
}

pub async fn remove(
    conn: &mut Conn,
    firm_id: FirmId,
    reason: &str,
    actor: &Principal,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(entry) = get(conn, firm_id).await? else {
        return Err(AppError::not_found("reserve pool entry"));
    };
    sqlx::query("DELETE FROM reserve_pool WHERE firm_id = $1").bind(firm_id.to_string()).execute(&mut *conn).await?;
    firms::set_in_pool(conn, firm_id, false, now).await?;
    add_history(conn, firm_id, "removed", Some(entry.target_venue), Some(entry.key_firm), Some(reason), actor, now)
        .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn add_history(
    conn: &mut Conn,
    firm_id: FirmId,
    action: &str,
    venue: Option<Venue>,
    key_firm: Option<bool>,
    reason: Option<&str>,
    actor: &Principal,
    now: DateTime<Utc>,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO reserve_pool_history (id, firm_id, action, target_venue, key_firm, reason, actor_key_id, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(firm_id.to_string())
    .bind(action)
    .bind(venue.map(|v| v.as_str()))
    .bind(key_firm)
    .bind(reason)
    .bind(actor.key_id.to_string())
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn history(conn: &mut Conn, firm_id: FirmId) -> AppResult<Vec<PoolHistoryEntry>> {
    let rows = sqlx::query("SELECT action, target_venue, key_firm, reason, at FROM reserve_pool_history WHERE firm_id = $1 ORDER BY at, id")
        .bind(firm_id.to_string())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(PoolHistoryEntry {
                action: r.text("action")?,
                target_venue: r.opt_vocab("target_venue")?,
                key_firm: r.opt_flag("key_firm")?,
                reason: r.opt_text("reason")?,
                at: r.ts("at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

#[derive(Debug, Clone, Default)]
pub struct PoolFilter {
    pub venue: Option<Venue>,
    pub city: Option<City>,
    pub tier: Option<Tier>,
    pub key_firm: Option<bool>,
}

pub async fn list(conn: &mut Conn, filter: &PoolFilter, after: Option<Uuid>, limit: u32) -> AppResult<Vec<PoolEntry>> {
    let mut f = Filter::default();
    if let Some(v) = filter.venue {
        f.and("rp.target_venue = {}", Bind::Text(v.as_str().into()));
    }
    if let Some(c) = filter.city {
        f.and("f.city = {}", Bind::Text(c.as_str().into()));
    }
    if let Some(t) = filter.tier {
        f.and("f.tier = {}", Bind::Text(t.as_str().into()));
    }
    if let Some(k) = filter.key_firm {
        f.and("rp.key_firm = {}", Bind::Bool(k));
    }
    if let Some(a) = after {
        f.and("rp.firm_id > {}", Bind::Text(a.to_string()));
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM reserve_pool rp JOIN firms f ON f.id = rp.firm_id{} ORDER BY rp.firm_id LIMIT {limit}",
        f.where_sql()
    );
    let rows = f.apply(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}
