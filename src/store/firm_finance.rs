//! The financing flags of a firm that the office keeps: its lead bank (主办行) and its place on
//! the financial-tutoring whitelist (金融辅导白名单).

use chrono::{DateTime, Utc};

use super::Conn;
use crate::db::row::RowExt;
use crate::db::types::ts;
use crate::domain::ids::{BankId, FirmId};
use crate::error::{AppError, AppResult};

/// (lead bank, on the tutoring whitelist) of a firm; `None` if there is no such firm.
pub async fn flags(conn: &mut Conn, firm_id: FirmId) -> AppResult<Option<(Option<BankId>, bool)>> {
    let row = sqlx::query("SELECT lead_bank_id, tutoring_whitelist FROM firms WHERE id = $1")
        .bind(firm_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|r| Ok::<_, sqlx::Error>((r.opt_id("lead_bank_id")?, r.flag("tutoring_whitelist")?))).transpose()?)
}

pub async fn set_lead_bank(
    conn: &mut Conn,
    firm_id: FirmId,
    bank_id: Option<BankId>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let done = sqlx::query("UPDATE firms SET lead_bank_id = $2, updated_at = $3 WHERE id = $1")
        .bind(firm_id.to_string())
        .bind(bank_id.map(|b| b.to_string()))
        .bind(ts(now))
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 { Err(AppError::not_found("firm")) } else { Ok(()) }
}

pub async fn set_tutoring(conn: &mut Conn, firm_id: FirmId, on: bool, now: DateTime<Utc>) -> AppResult<()> {
    let done = sqlx::query("UPDATE firms SET tutoring_whitelist = $2, updated_at = $3 WHERE id = $1")
        .bind(firm_id.to_string())
        .bind(on)
        .bind(ts(now))
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 { Err(AppError::not_found("firm")) } else { Ok(()) }
}
