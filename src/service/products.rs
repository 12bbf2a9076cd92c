//! Loan products as people are shown them: with the rate each gives today.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::ids::BankId;

use crate::db::Db;
use crate::domain::access::{Principal, Role};
use crate::domain::events::EventKind;
use crate::domain::product::{LoanProduct, LprFixing, ProductTerms, effective_rate, lpr_on};
use crate::error::{AppError, AppResult};
use crate::service::events::{self, NewEvent};
use crate::store::matches::Subject;
pub use crate::store::products::ProductFilter;
use crate::store::{Conn, banks, lpr, matches, products};

/// A product with the rate it gives today.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductView {
    #[serde(flatten)]
    pub product: LoanProduct,
    /// Annual percent today: the fixed rate, or the LPR in force plus the spread. `null` while the
    /// LPR table has no fixing on or before today.
    #[schema(value_type = Option<String>, example = "2.80")]
    pub indicative_rate: Option<Decimal>,
    /// The LPR fixing the indicative rate used.
    pub lpr_effective_on: Option<NaiveDate>,
}

pub fn view(product: LoanProduct, table: &[LprFixing], today: NaiveDate) -> ProductView {
    let fixing = lpr_on(table, today);
    let (indicative_rate, lpr_effective_on) = match (&product.terms(), product.fixed_rate) {
        (_, Some(rate)) => (Some(rate), None),
        (Ok(terms), None) => match fixing {
            Some(f) => (Some(effective_rate(&terms.pricing, f)), Some(f.effective_on)),
            None => (None, None),
        },
        (Err(_), None) => (None, None),
    };
    ProductView { product, indicative_rate, lpr_effective_on }
}

/// The product if the caller may see it: a bank only its own; others the published catalogue
/// (the office also withdrawn products).
async fn visible(conn: &mut Conn, caller: &Principal, id: Uuid) -> AppResult<LoanProduct> {
    let p = products::get(conn, id).await?.ok_or(AppError::not_found("product"))?;
    let ok = match caller.role() {
        Role::Admin => true,
        Role::Bank => caller.bank_id() == Some(p.bank_id),
        Role::Enterprise => p.active,
        Role::Fund => false,
    };
    if ok { Ok(p) } else { Err(AppError::not_found("product")) }
}

/// A product the caller may change: its bank, or the office.
async fn owned(conn: &mut Conn, caller: &Principal, id: Uuid) -> AppResult<LoanProduct> {
    let p = products::get(conn, id).await?.ok_or(AppError::not_found("product"))?;
    match caller.role() {
        Role::Admin => Ok(p),
        Role::Bank if caller.bank_id() == Some(p.bank_id) => Ok(p),
        Role::Bank => Err(AppError::not_found("product")),
        role => Err(AppError::Forbidden(format!("a {role} key cannot change loan products"))),
    }
}

async fn record_product_event(
    conn: &mut Conn,
    kind: EventKind,
    p: &LoanProduct,
    version: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let data = json!({ "product_id": p.id, "bank_id": p.bank_id, "version": version, "active": p.active });
    let key = format!("product:{}:v{version}", p.id);
    events::record(conn, NewEvent::fact(kind, None, Some(p.bank_id), key, data), now).await?;
    Ok(())
}

/// Publishes a product for a bank and queues its matching against every firm.
#[tracing::instrument(skip_all, fields(bank_id = %bank_id))]
pub async fn create(db: &Db, bank_id: BankId, terms: &ProductTerms, now: DateTime<Utc>) -> AppResult<ProductView> {
    let mut tx = db.begin().await?;
    if banks::get(&mut tx, bank_id).await?.is_none() {
        return Err(AppError::field("bank_id", "not_found", format!("no bank with id {bank_id}")));
    }
    let product = products::insert(&mut tx, bank_id, terms, now).await?;
    record_product_event(&mut tx, EventKind::ProductCreated, &product, 1, now).await?;
    matches::enqueue(&mut tx, Subject::Product, product.id, now).await?;
    let table = lpr::list(&mut tx).await?;
    tx.commit().await?;
    tracing::info!(product_id = %product.id, "product published");
    Ok(view(product, &table, now.date_naive()))
}

/// Products with today's rates, by the filter the caller's role allows.
#[tracing::instrument(skip_all)]
pub async fn list(
    conn: &mut Conn,
    filter: &ProductFilter,
    after: Option<Uuid>,
    limit: u32,
    today: NaiveDate,
) -> AppResult<Vec<ProductView>> {
    let rows = products::list(conn, filter, after, limit).await?;
    let table = lpr::list(conn).await?;
    Ok(rows.into_iter().map(|p| view(p, &table, today)).collect())
}

/// One product the caller may see, with today's rate.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, id = %id))]
pub async fn get_as(conn: &mut Conn, caller: &Principal, id: Uuid, today: NaiveDate) -> AppResult<ProductView> {
    let p = visible(conn, caller, id).await?;
    // Withdrawn is gone for a reader of the product itself (the record stays listed with
    // `active=false`, and the applications and matches that name it keep naming it).
    if !p.active {
        return Err(AppError::Gone {
            code: "product_withdrawn",
            detail: "the product was withdrawn; its record is listed by GET /v1/products?active=false".into(),
        });
    }
    let table = lpr::list(conn).await?;
    Ok(view(p, &table, today))
}

/// Changes a product the caller may change: `change` turns its current terms into the new ones
/// (validated whole); matching against every firm is queued again.
#[tracing::instrument(skip_all, fields(product_id = %id))]
pub async fn update_as(
    db: &Db,
    caller: &Principal,
    id: Uuid,
    change: impl FnOnce(&LoanProduct) -> AppResult<ProductTerms>,
    now: DateTime<Utc>,
) -> AppResult<ProductView> {
    let mut tx = db.begin().await?;
    let current = owned(&mut tx, caller, id).await?;
    if !current.active {
        return Err(AppError::conflict("product_withdrawn", "a withdrawn product cannot be changed"));
    }
    let terms = change(&current)?;
    let (product, version) = products::update(&mut tx, id, &terms, now).await?;
    record_product_event(&mut tx, EventKind::ProductUpdated, &product, version, now).await?;
    matches::enqueue(&mut tx, Subject::Product, id, now).await?;
    let table = lpr::list(&mut tx).await?;
    tx.commit().await?;
    Ok(view(product, &table, now.date_naive()))
}

/// Withdraws a product the caller may change (again: nothing happens); its matches follow in
/// the background.
#[tracing::instrument(skip_all, fields(product_id = %id))]
pub async fn withdraw_as(db: &Db, caller: &Principal, id: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    let mut tx = db.begin().await?;
    let current = owned(&mut tx, caller, id).await?;
    if let Some(version) = products::withdraw(&mut tx, id, now).await? {
        let withdrawn = LoanProduct { active: false, ..current };
        record_product_event(&mut tx, EventKind::ProductWithdrawn, &withdrawn, version, now).await?;
        matches::enqueue(&mut tx, Subject::Product, id, now).await?;
    }
    tx.commit().await?;
    Ok(())
}
