//! Investment intentions and closed investments, and their totals for the programme statistics.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::Conn;
use crate::db::row::{Bind, Filter, RowExt};
use crate::db::types::{day, fen, ts, yuan};
use crate::domain::ids::FirmId;
use crate::domain::investment::{Investment, InvestmentFields, InvestmentStatus};
use crate::error::{AppError, AppResult};

const COLUMNS: &str =
    "id, fund_id, firm_id, roadshow_id, status, amount, round, decided_on, note, created_at, updated_at";

fn from_row(r: &AnyRow) -> Result<Investment, sqlx::Error> {
    Ok(Investment {
        id: r.uuid("id")?,
        fund_id: r.uuid("fund_id")?,
        firm_id: r.id("firm_id")?,
        roadshow_id: r.opt_uuid("roadshow_id")?,
        status: r.vocab("status")?,
        amount: r.money("amount")?,
        round: r.vocab("round")?,
        decided_on: r.day("decided_on")?,
        note: r.opt_text("note")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

fn amount_fen(a: Decimal) -> AppResult<i64> {
    fen(a).map_err(|e| AppError::field("amount", "out_of_range", e.to_string()))
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds what insert and update both write, in this column order: status, amount, round,
/// decided_on, note.
fn bind_decision<'q>(q: Query<'q>, f: &'q InvestmentFields) -> AppResult<Query<'q>> {
    Ok(q.bind(f.status.as_str())
        .bind(amount_fen(f.amount)?)
        .bind(f.round.as_str())
        .bind(day(f.decided_on))
        .bind(f.note.clone()))
}

pub async fn insert(conn: &mut Conn, fund_id: Uuid, f: &InvestmentFields, now: DateTime<Utc>) -> AppResult<Investment> {
    let id = Uuid::now_v7();
    let insert = sqlx::query(
        "INSERT INTO investments (id, fund_id, firm_id, roadshow_id, status, amount, round, decided_on, note, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(id.to_string())
    .bind(fund_id.to_string())
    .bind(f.firm_id.to_string())
    .bind(f.roadshow_id.map(|r| r.to_string()));
    bind_decision(insert, f)?.bind(ts(now)).execute(&mut *conn).await?;
    get(conn, id).await?.ok_or_else(|| anyhow::anyhow!("inserted investment {id} not found").into())
}

pub async fn update(conn: &mut Conn, id: Uuid, f: &InvestmentFields, now: DateTime<Utc>) -> AppResult<Investment> {
    let update = sqlx::query(
        "UPDATE investments SET status = $2, amount = $3, round = $4, decided_on = $5, note = $6, updated_at = $7 \
         WHERE id = $1",
    )
    .bind(id.to_string());
    bind_decision(update, f)?.bind(ts(now)).execute(&mut *conn).await?;
    get(conn, id).await?.ok_or(AppError::not_found("investment"))
}

pub async fn get(conn: &mut Conn, id: Uuid) -> AppResult<Option<Investment>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM investments WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

#[derive(Debug, Clone, Default)]
pub struct InvestmentFilter {
    pub fund_id: Option<Uuid>,
    pub firm_id: Option<FirmId>,
    pub roadshow_id: Option<Uuid>,
    pub status: Option<InvestmentStatus>,
    pub year: Option<i32>,
}

pub async fn list(
    conn: &mut Conn,
    filter: &InvestmentFilter,
    after: Option<Uuid>,
    limit: u32,
) -> AppResult<Vec<Investment>> {
    let mut f = Filter::default();
    if let Some(v) = filter.fund_id {
        f.and("fund_id = {}", Bind::Text(v.to_string()));
    }
    if let Some(v) = filter.firm_id {
        f.and("firm_id = {}", Bind::Text(v.to_string()));
    }
    if let Some(v) = filter.roadshow_id {
        f.and("roadshow_id = {}", Bind::Text(v.to_string()));
    }
    if let Some(v) = filter.status {
        f.and("status = {}", Bind::Text(v.as_str().into()));
    }
    if let Some((from, to)) = filter.year.and_then(year_bounds) {
        f.and("decided_on >= {}", Bind::Text(from));
        f.and("decided_on < {}", Bind::Text(to));
    }
    if let Some(a) = after {
        f.and("id > {}", Bind::Text(a.to_string()));
    }
    let sql = format!("SELECT {COLUMNS} FROM investments{} ORDER BY id LIMIT {limit}", f.where_sql());
    let rows = f.apply(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

fn year_bounds(year: i32) -> Option<(String, String)> {
    let from = NaiveDate::from_ymd_opt(year, 1, 1)?;
    let to = NaiveDate::from_ymd_opt(year + 1, 1, 1)?;
    Some((day(from), day(to)))
}

/// Count and sum of investments in one status, optionally of one year and/or one roadshow.
async fn totals(
    conn: &mut Conn,
    status: InvestmentStatus,
    year: Option<i32>,
    roadshow_id: Option<Uuid>,
) -> AppResult<(i64, Decimal)> {
    let mut f = Filter::default();
    f.and("status = {}", Bind::Text(status.as_str().into()));
    if let Some((from, to)) = year.and_then(year_bounds) {
        f.and("decided_on >= {}", Bind::Text(from));
        f.and("decided_on < {}", Bind::Text(to));
    }
    if let Some(r) = roadshow_id {
        f.and("roadshow_id = {}", Bind::Text(r.to_string()));
    }
    let sql = format!(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS total FROM investments{}",
        f.where_sql()
    );
    let row = f.apply(sqlx::query(&sql)).fetch_one(&mut *conn).await?;
    Ok((row.int("n")?, yuan(row.int("total")?)))
}

/// Programme statistics (plan target: ≥100 fund-investment projects and ≥200亿 yuan a year):
/// the number of closed investments whose `decided_on` falls in `year`, and their total in yuan.
/// Intentions and withdrawn records do not count.
pub async fn investment_totals_by_year(conn: &mut Conn, year: i32) -> AppResult<(i64, Decimal)> {
    totals(conn, InvestmentStatus::Closed, Some(year), None).await
}

/// Intentions (still open) and closed investments that came from one roadshow.
pub async fn totals_for_roadshow(conn: &mut Conn, roadshow_id: Uuid) -> AppResult<((i64, Decimal), (i64, Decimal))> {
    let intentions = totals(conn, InvestmentStatus::Intention, None, Some(roadshow_id)).await?;
    let closed = totals(conn, InvestmentStatus::Closed, None, Some(roadshow_id)).await?;
    Ok((intentions, closed))
}
