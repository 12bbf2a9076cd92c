//! The LPR table (贷款市场报价利率), kept by the office.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;

use super::Conn;
use crate::db::row::RowExt;
use crate::db::types::{day, ts};
use crate::domain::product::LprFixing;
use crate::error::AppResult;

fn from_row(r: &AnyRow) -> Result<LprFixing, sqlx::Error> {
    let dec = |col: &str| {
        r.opt_decimal(col)?.ok_or_else(|| sqlx::Error::ColumnDecode { index: col.into(), source: "null rate".into() })
    };
    Ok(LprFixing { effective_on: r.day("effective_on")?, one_year: dec("one_year")?, five_year: dec("five_year")? })
}

/// Every fixing, newest first.
pub async fn list(conn: &mut Conn) -> AppResult<Vec<LprFixing>> {
    let rows = sqlx::query("SELECT effective_on, one_year, five_year FROM lpr_fixings ORDER BY effective_on DESC")
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Writes a fixing; returns whether it was new.
pub async fn put(conn: &mut Conn, f: &LprFixing, now: DateTime<Utc>) -> AppResult<bool> {
    let existed = sqlx::query("SELECT effective_on FROM lpr_fixings WHERE effective_on = $1")
        .bind(day(f.effective_on))
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
    sqlx::query(
        "INSERT INTO lpr_fixings (effective_on, one_year, five_year, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (effective_on) DO UPDATE SET one_year = excluded.one_year, five_year = excluded.five_year, \
         updated_at = excluded.updated_at",
    )
    .bind(day(f.effective_on))
    .bind(f.one_year.to_string())
    .bind(f.five_year.to_string())
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    Ok(!existed)
}
