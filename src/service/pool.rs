//! Browsing the listing reserve pool (the office): pages and the CSV export.

use crate::csv_out::CsvWriter;
use crate::domain::ids::FirmId;
use uuid::Uuid;

use crate::domain::access::Principal;
use crate::domain::events::EventKind;
use crate::domain::pool::Admission;
use crate::domain::pool::PoolEntry;
use crate::domain::pool::PoolHistoryEntry;
use crate::error::{AppError, AppResult};
use crate::service::events::{self, NewEvent};
use crate::store::Conn;
use crate::store::pool;
pub use crate::store::pool::PoolFilter;
use chrono::{DateTime, Utc};

const CSV_HEADER: &[&str] = &[
    "firm_id",
    "credit_code",
    "name",
    "city",
    "tier",
    "industry_code",
    "target_venue",
    "sponsor_broker",
    "key_firm",
    "admitted_on",
    "note",
];

/// Admits a firm to the pool, or updates its entry; returns the entry and whether it is new.
#[tracing::instrument(skip_all)]
pub async fn admit(
    conn: &mut Conn,
    a: &Admission,
    actor: &Principal,
    now: DateTime<Utc>,
) -> AppResult<(PoolEntry, bool)> {
    let (entry, created) = pool::admit(conn, a, actor, now).await?;
    let kind = if created { EventKind::ReservePoolAdmitted } else { EventKind::ReservePoolUpdated };
    let data = serde_json::json!({ "firm_id": a.firm_id, "target_venue": a.target_venue, "key_firm": a.key_firm });
    events::record(conn, NewEvent::firm_change(kind, a.firm_id, data), now).await?;
    Ok((entry, created))
}

/// Takes a firm out of the pool, with the reason.
#[tracing::instrument(skip_all, fields(firm_id = %firm_id))]
pub async fn remove(
    conn: &mut Conn,
    firm_id: FirmId,
    reason: &str,
    actor: &Principal,
    now: DateTime<Utc>,
) -> AppResult<()> {
    pool::remove(conn, firm_id, reason, actor, now).await?;
    let data = serde_json::json!({ "firm_id": firm_id, "reason": reason });
    events::record(conn, NewEvent::firm_change(EventKind::ReservePoolRemoved, firm_id, data), now).await?;
    Ok(())
}

/// A pool entry with its history, oldest first (the office only).
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, firm_id = %firm_id))]
pub async fn entry(
    conn: &mut Conn,
    caller: &Principal,
    firm_id: FirmId,
) -> AppResult<(PoolEntry, Vec<PoolHistoryEntry>)> {
    caller.require_admin()?;
    let entry = pool::get(conn, firm_id).await?.ok_or(AppError::not_found("reserve pool entry"))?;
    let history = pool::history(conn, firm_id).await?;
    Ok((entry, history))
}

#[tracing::instrument(skip_all, fields(key_id = %caller.key_id))]
pub async fn list(
    conn: &mut Conn,
    caller: &Principal,
    filter: &PoolFilter,
    after: Option<Uuid>,
    limit: u32,
) -> AppResult<Vec<PoolEntry>> {
    caller.require_admin()?;
    pool::list(conn, filter, after, limit).await
}

/// The filtered pool from `after` on, every page, as CSV.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id))]
pub async fn csv(
    conn: &mut Conn,
    caller: &Principal,
    filter: &PoolFilter,
    mut after: Option<Uuid>,
) -> AppResult<Vec<u8>> {
    caller.require_admin()?;
    let mut w = CsvWriter::in_memory();
    let csv_err = |e: csv::Error| AppError::Internal(e.into());
    w.row(CSV_HEADER).map_err(csv_err)?;
    loop {
        let rows = pool::list(conn, filter, after, 1000).await?;
        for e in &rows {
            w.row([
                e.firm_id.to_string(),
                e.credit_code.clone(),
                e.name.clone(),
                e.city.to_string(),
                e.tier.map(|t| t.to_string()).unwrap_or_default(),
                e.industry_code.clone(),
                e.target_venue.to_string(),
                e.sponsor_broker.clone().unwrap_or_default(),
                e.key_firm.to_string(),
                e.admitted_on.to_string(),
                e.note.clone().unwrap_or_default(),
            ])
            .map_err(csv_err)?;
        }
        match rows.last() {
            Some(last) if rows.len() == 1000 => after = Some(last.firm_id.uuid()),
            _ => break,
        }
    }
    w.finish().map_err(AppError::Internal)
}
