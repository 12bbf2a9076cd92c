//! Yearly financials, one row per firm and fiscal year.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;

use super::Conn;
use crate::db::Dialect;
use crate::db::row::{RowExt, list_placeholders, values_placeholders};
use crate::db::types::{day, opt_fen, ts};
use crate::domain::firm::FinancialYear;
use crate::domain::ids::FirmId;
use crate::error::{AppError, AppResult};

pub const COLUMNS: &str = "fiscal_year, revenue, main_business_revenue, net_profit, net_profit_deducted, rd_expense, \
    operating_cash_flow, total_assets, total_liabilities, net_assets, weighted_roe, invention_patents, employees, rd_staff, \
    weighted_roe_deducted, audited_on";

pub fn from_row(r: &AnyRow) -> Result<FinancialYear, sqlx::Error> {
    from_row_prefixed(r, "")
}

/// A fiscal year read from columns named `{prefix}{column}` (a year joined to another table's row).
pub fn from_row_prefixed(r: &AnyRow, prefix: &str) -> Result<FinancialYear, sqlx::Error> {
    let c = |name: &str| format!("{prefix}{name}");
    Ok(FinancialYear {
        fiscal_year: r.int(&c("fiscal_year"))? as i32,
        revenue: r.opt_money(&c("revenue"))?,
        main_business_revenue: r.opt_money(&c("main_business_revenue"))?,
        net_profit: r.opt_money(&c("net_profit"))?,
        net_profit_deducted: r.opt_money(&c("net_profit_deducted"))?,
        rd_expense: r.opt_money(&c("rd_expense"))?,
        operating_cash_flow: r.opt_money(&c("operating_cash_flow"))?,
        total_assets: r.opt_money(&c("total_assets"))?,
        total_liabilities: r.opt_money(&c("total_liabilities"))?,
        net_assets: r.opt_money(&c("net_assets"))?,
        weighted_roe: r.opt_decimal(&c("weighted_roe"))?,
        invention_patents: r.opt_int(&c("invention_patents"))?,
        employees: r.opt_int(&c("employees"))?,
        rd_staff: r.opt_int(&c("rd_staff"))?,
        weighted_roe_deducted: r.opt_decimal(&c("weighted_roe_deducted"))?,
        audited_on: r.opt_day(&c("audited_on"))?,
    })
}

fn money(v: Option<rust_decimal::Decimal>, field: &str) -> AppResult<Option<i64>> {
    opt_fen(v).map_err(|e| AppError::field(field, "out_of_range", e.to_string()))
}

/// Writes a fiscal year whole (PUT semantics). Returns whether anything changed.
pub async fn upsert(conn: &mut Conn, firm_id: FirmId, fy: &FinancialYear, now: DateTime<Utc>) -> AppResult<bool> {
    let existing = get_year(conn, firm_id, fy.fiscal_year).await?;
    if existing.as_ref() == Some(fy) {
        return Ok(false);
    }
    write_years(conn, &[(firm_id, fy)], now).await?;
    Ok(true)
}

pub async fn get_year(conn: &mut Conn, firm_id: FirmId, year: i32) -> AppResult<Option<FinancialYear>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM financials WHERE firm_id = $1 AND fiscal_year = $2"))
        .bind(firm_id.to_string())
        .bind(i64::from(year))
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// All years of a firm, oldest first.
pub async fn list(conn: &mut Conn, firm_id: FirmId) -> AppResult<Vec<FinancialYear>> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM financials WHERE firm_id = $1 ORDER BY fiscal_year"))
        .bind(firm_id.to_string())
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Every stored year of the firms `ids`, each with its firm, read in batches as large as the
/// dialect's parameter limit allows.
pub async fn of_firms(conn: &mut Conn, dialect: Dialect, ids: &[FirmId]) -> AppResult<Vec<(FirmId, FinancialYear)>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(dialect.batch_rows(1)) {
        let sql = format!(
            "SELECT firm_id, {COLUMNS} FROM financials WHERE firm_id IN ({})",
            list_placeholders(chunk.len(), 1)
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id.to_string());
        }
        for row in q.fetch_all(&mut *conn).await? {
            out.push((row.id("firm_id")?, from_row(&row)?));
        }
    }
    Ok(out)
}

/// Writes fiscal years whole (as [`upsert`], without reading first: the caller has compared them),
/// in multi-row batches.
pub async fn upsert_many(
    conn: &mut Conn,
    dialect: Dialect,
    years: &[(FirmId, &FinancialYear)],
    now: DateTime<Utc>,
) -> AppResult<()> {
    for chunk in years.chunks(dialect.batch_rows(YEAR_COLUMNS)) {
        write_years(conn, chunk, now).await?;
    }
    Ok(())
}

const YEAR_COLUMNS: usize = 18;

/// One statement writing `years` whole.
async fn write_years(conn: &mut Conn, years: &[(FirmId, &FinancialYear)], now: DateTime<Utc>) -> AppResult<()> {
    let sql = format!(
        "INSERT INTO financials (firm_id, fiscal_year, revenue, main_business_revenue, net_profit, net_profit_deducted, \
         rd_expense, operating_cash_flow, total_assets, total_liabilities, net_assets, weighted_roe, invention_patents, \
         employees, rd_staff, weighted_roe_deducted, audited_on, updated_at) VALUES {} \
         ON CONFLICT (firm_id, fiscal_year) DO UPDATE SET revenue = excluded.revenue, \
         main_business_revenue = excluded.main_business_revenue, net_profit = excluded.net_profit, \
         net_profit_deducted = excluded.net_profit_deducted, rd_expense = excluded.rd_expense, \
         operating_cash_flow = excluded.operating_cash_flow, total_assets = excluded.total_assets, \
         total_liabilities = excluded.total_liabilities, net_assets = excluded.net_assets, \
         weighted_roe = excluded.weighted_roe, invention_patents = excluded.invention_patents, \
         employees = excluded.employees, rd_staff = excluded.rd_staff, \
         weighted_roe_deducted = excluded.weighted_roe_deducted, audited_on = excluded.audited_on, \
         updated_at = excluded.updated_at",
        values_placeholders(years.len(), YEAR_COLUMNS, 1)
    );
    let mut q = sqlx::query(&sql);
    for (id, y) in years {
        q = q
            .bind(id.to_string())
            .bind(i64::from(y.fiscal_year))
            .bind(money(y.revenue, "revenue")?)
            .bind(money(y.main_business_revenue, "main_business_revenue")?)
            .bind(money(y.net_profit, "net_profit")?)
            .bind(money(y.net_profit_deducted, "net_profit_deducted")?)
            .bind(money(y.rd_expense, "rd_expense")?)
            .bind(money(y.operating_cash_flow, "operating_cash_flow")?)
            .bind(money(y.total_assets, "total_assets")?)
            .bind(money(y.total_liabilities, "total_liabilities")?)
            .bind(money(y.net_assets, "net_assets")?)
            .bind(y.weighted_roe.map(|d| d.normalize().to_string()))
            .bind(y.invention_patents)
            .bind(y.employees)
            .bind(y.rd_staff)
            .bind(y.weighted_roe_deducted.map(|d| d.normalize().to_string()))
            .bind(y.audited_on.map(day))
            .bind(ts(now));
    }
    q.execute(&mut *conn).await?;
    Ok(())
}
