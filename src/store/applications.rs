//! Financing applications and their dated, attributed history.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::any::AnyRow;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Conn;
use super::consents::covered_sql;
use crate::db::row::{Bind, Filter, RowExt};
use crate::db::types::{day, fen, ts};
use crate::domain::access::{Principal, Role};
use crate::domain::application::{ApplicationStatus, Approval, Decline, Disbursal, NewApplication, StatusChange};
use crate::domain::ids::{BankId, FirmId};
use crate::error::{AppError, AppResult};

/// An application as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Application {
    pub id: Uuid,
    #[schema(value_type = Uuid)]
    pub firm_id: FirmId,
    pub firm_name: String,
    pub product_id: Uuid,
    pub product_name: String,
    #[schema(value_type = Uuid)]
    pub bank_id: BankId,
    #[schema(value_type = String, example = "3000000.00")]
    pub amount: Decimal,
    pub term_months: i32,
    pub purpose: String,
    pub status: ApplicationStatus,
    /// Chinese label of the stage, for people.
    #[schema(example = "审核中")]
    pub status_label: &'static str,
    pub approval: Option<Approval>,
    pub disbursal: Option<Disbursal>,
    pub decline: Option<Decline>,
    pub submitted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One move of an application.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryEntry {
    /// `null` for the submission itself.
    pub from_status: Option<ApplicationStatus>,
    pub to_status: ApplicationStatus,
    /// Who moved it: `enterprise`, `bank` or `admin`.
    pub actor_role: Role,
    /// The bank or firm the actor's key acts for (`null` for the office).
    pub actor_subject_id: Option<Uuid>,
    pub actor_key_id: Option<Uuid>,
    /// The approval, disbursal or decline recorded with this move.
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
    pub remark: Option<String>,
    pub at: DateTime<Utc>,
}

const COLUMNS: &str = "a.id, a.firm_id, f.name AS firm_name, a.product_id, p.name AS product_name, a.bank_id, \
    a.amount, a.term_months, a.purpose, a.status, a.approved_amount, a.approved_term_months, a.approved_rate, \
    a.approved_on, a.disbursed_amount, a.disbursed_on, a.decline_reason_code, a.decline_reason_text, \
    a.submitted_at, a.updated_at";
const FROM: &str = "applications a JOIN firms f ON f.id = a.firm_id JOIN products p ON p.id = a.product_id";

fn from_row(r: &AnyRow) -> Result<Application, sqlx::Error> {
    let status: ApplicationStatus = r.vocab("status")?;
    let approval = match (
        r.opt_money("approved_amount")?,
        r.opt_int("approved_term_months")?,
        r.opt_decimal("approved_rate")?,
        r.opt_day("approved_on")?,
    ) {
        (Some(amount), Some(term), Some(rate), Some(on)) => {
            Some(Approval { amount, term_months: term as i32, rate_percent: rate, approved_on: on })
        }
        _ => None,
    };
    let disbursal = match (r.opt_money("disbursed_amount")?, r.opt_day("disbursed_on")?) {
        (Some(amount), Some(on)) => Some(Disbursal { amount, disbursed_on: on }),
        _ => None,
    };
    let decline = r
        .opt_vocab("decline_reason_code")?
        .map(|code| {
            Ok::<_, sqlx::Error>(Decline { reason_code: code, reason_text: r.opt_text("decline_reason_text")? })
        })
        .transpose()?;
    Ok(Application {
        id: r.uuid("id")?,
        firm_id: r.id("firm_id")?,
        firm_name: r.text("firm_name")?,
        product_id: r.uuid("product_id")?,
        product_name: r.text("product_name")?,
        bank_id: r.id("bank_id")?,
        amount: r.money("amount")?,
        term_months: r.int("term_months")? as i32,
        purpose: r.text("purpose")?,
        status,
        status_label: status.label_zh(),
        approval,
        disbursal,
        decline,
        submitted_at: r.ts("submitted_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

fn money(v: Decimal, field: &'static str) -> AppResult<i64> {
    fen(v).map_err(|e| AppError::field(field, "out_of_range", e.to_string()))
}

/// Inserts a submitted application. `Err(existing id)` when the firm already has an open
/// application (submitted, under review or approved) for this product.
pub async fn insert(
    conn: &mut Conn,
    firm_id: FirmId,
    bank_id: BankId,
    a: &NewApplication,
    now: DateTime<Utc>,
) -> AppResult<Result<Uuid, Uuid>> {
    let id = Uuid::now_v7();
    let done = sqlx::query(
        "INSERT INTO applications (id, firm_id, product_id, bank_id, amount, term_months, purpose, status, \
         submitted_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT DO NOTHING",
    )
    .bind(id.to_string())
    .bind(firm_id.to_string())
    .bind(a.product_id.to_string())
    .bind(bank_id.to_string())
    .bind(money(a.amount, "amount")?)
    .bind(i64::from(a.term_months))
    .bind(&a.purpose)
    .bind(ApplicationStatus::Submitted.as_str())
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 1 {
        return Ok(Ok(id));
    }
    let row = sqlx::query(
        "SELECT id FROM applications WHERE firm_id = $1 AND product_id = $2 \
         AND status IN ('submitted', 'under_review', 'approved')",
    )
    .bind(firm_id.to_string())
    .bind(a.product_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(r) => Ok(Err(r.uuid("id")?)),
        None => Err(AppError::Internal(anyhow::anyhow!("application insert conflicted with nothing"))),
    }
}

pub async fn get(conn: &mut Conn, id: Uuid) -> AppResult<Option<Application>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM {FROM} WHERE a.id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// Applies a validated move, only if the application is still in `from` (a concurrent move
/// makes this return `false`).
pub async fn apply_change(
    conn: &mut Conn,
    id: Uuid,
    from: ApplicationStatus,
    change: &StatusChange,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let mut f = Filter::default();
    let status_p = f.bind(Bind::Text(change.status().as_str().into()));
    let now_p = f.bind(Bind::Text(ts(now)));
    let mut sets = vec![format!("status = {status_p}"), format!("updated_at = {now_p}")];
    match change {
        StatusChange::Approved(a) => {
            for (col, b) in [
                ("approved_amount", Bind::Int(money(a.amount, "approved_amount")?)),
                ("approved_term_months", Bind::Int(i64::from(a.term_months))),
                ("approved_rate", Bind::Text(a.rate_percent.normalize().to_string())),
                ("approved_on", Bind::Text(day(a.approved_on))),
            ] {
                let p = f.bind(b);
                sets.push(format!("{col} = {p}"));
            }
        }
        StatusChange::Disbursed(d) => {
            for (col, b) in [
                ("disbursed_amount", Bind::Int(money(d.amount, "disbursed_amount")?)),
                ("disbursed_on", Bind::Text(day(d.disbursed_on))),
            ] {
                let p = f.bind(b);
                sets.push(format!("{col} = {p}"));
            }
        }
        StatusChange::Declined(d) => {
            let p = f.bind(Bind::Text(d.reason_code.as_str().into()));
            sets.push(format!("decline_reason_code = {p}"));
            let p = f.bind(Bind::OptText(d.reason_text.clone()));
            sets.push(format!("decline_reason_text = {p}"));
        }
        StatusChange::UnderReview | StatusChange::Withdrawn => {}
    }
    let id_p = f.bind(Bind::Text(id.to_string()));
    let from_p = f.bind(Bind::Text(from.as_str().into()));
    let sql = format!("UPDATE applications SET {} WHERE id = {id_p} AND status = {from_p}", sets.join(", "));
    let done = f.apply(sqlx::query(&sql)).execute(&mut *conn).await?;
    Ok(done.rows_affected() == 1)
}

#[allow(clippy::too_many_arguments)]
pub async fn add_history(
    conn: &mut Conn,
    application_id: Uuid,
    from: Option<ApplicationStatus>,
    to: ApplicationStatus,
    actor: &Principal,
    detail: Option<serde_json::Value>,
    remark: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO application_history (id, application_id, from_status, to_status, actor_role, actor_key_id, \
         actor_subject, detail, remark, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(application_id.to_string())
    .bind(from.map(|s| s.as_str()))
    .bind(to.as_str())
    .bind(actor.role().as_str())
    .bind(actor.key_id.to_string())
    .bind(actor.subject().map(|s| s.to_string()))
    .bind(detail.map(|d| d.to_string()))
    .bind(remark)
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn history(conn: &mut Conn, application_id: Uuid) -> AppResult<Vec<HistoryEntry>> {
    let rows = sqlx::query(
        "SELECT from_status, to_status, actor_role, actor_key_id, actor_subject, detail, remark, at \
         FROM application_history WHERE application_id = $1 ORDER BY at, id",
    )
    .bind(application_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(HistoryEntry {
                from_status: r.opt_vocab("from_status")?,
                to_status: r.vocab("to_status")?,
                actor_role: r.vocab("actor_role")?,
                actor_subject_id: r.opt_uuid("actor_subject")?,
                actor_key_id: r.opt_uuid("actor_key_id")?,
                detail: r.opt_text("detail")?.and_then(|d| serde_json::from_str(&d).ok()),
                remark: r.opt_text("remark")?,
                at: r.ts("at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Whose applications a caller may list or read.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    All,
    /// This bank's products, only firms whose consent covers the bank at `now`.
    Bank {
        bank_id: BankId,
        now: DateTime<Utc>,
    },
    Firm(FirmId),
}

#[derive(Debug, Clone, Default)]
pub struct AppFilter {
    pub status: Option<ApplicationStatus>,
    pub product_id: Option<Uuid>,
    pub firm_id: Option<FirmId>,
}

fn scope_clause(f: &mut Filter, scope: Scope) {
    match scope {
        Scope::All => {}
        Scope::Firm(id) => f.and("a.firm_id = {}", Bind::Text(id.to_string())),
        Scope::Bank { bank_id, now } => {
            let b = f.bind(Bind::Text(bank_id.to_string()));
            let n = f.bind(Bind::Text(ts(now)));
            f.and_raw(&format!("a.bank_id = {b}"));
            f.and_raw(&covered_sql("a.firm_id", &b, &n));
        }
    }
}

/// One application if the scope may see it.
pub async fn get_scoped(conn: &mut Conn, id: Uuid, scope: Scope) -> AppResult<Option<Application>> {
    let mut f = Filter::default();
    f.and("a.id = {}", Bind::Text(id.to_string()));
    scope_clause(&mut f, scope);
    let sql = format!("SELECT {COLUMNS} FROM {FROM}{}", f.where_sql());
    let row = f.apply(sqlx::query(&sql)).fetch_optional(&mut *conn).await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

pub async fn list(
    conn: &mut Conn,
    scope: Scope,
    filter: &AppFilter,
    after: Option<Uuid>,
    limit: u32,
) -> AppResult<Vec<Application>> {
    let mut f = Filter::default();
    scope_clause(&mut f, scope);
    if let Some(s) = filter.status {
        f.and("a.status = {}", Bind::Text(s.as_str().into()));
    }
    if let Some(p) = filter.product_id {
        f.and("a.product_id = {}", Bind::Text(p.to_string()));
    }
    if let Some(id) = filter.firm_id {
        f.and("a.firm_id = {}", Bind::Text(id.to_string()));
    }
    if let Some(a) = after {
        f.and("a.id > {}", Bind::Text(a.to_string()));
    }
    let sql = format!("SELECT {COLUMNS} FROM {FROM}{} ORDER BY a.id LIMIT {limit}", f.where_sql());
    let rows = f.apply(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// The submission date of an application (the earliest date a decision may carry).
pub fn submitted_on(a: &Application) -> NaiveDate {
    a.submitted_at.date_naive()
}
