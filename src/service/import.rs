//! Bulk import of firms and their yearly financials from CSV or JSON.
//!
//! CSV layout: one row per firm and fiscal year. Firm columns (`credit_code`, `name`, `city`, …)
//! repeat on each of a firm's rows; `fiscal_year` and the financial columns carry that year. A row
//! with an empty `fiscal_year` carries the firm alone. Rows are numbered as a spreadsheet shows
//! them: the header is row 1. JSON: an array of firm objects, each with an optional `financials`
//! array of `{fiscal_year, …}`; items are numbered from 1.
//!
//! Upsert by credit code. Every row is validated first and each rejected row is reported with its
//! number, field and reason; the accepted rows are then written in ONE transaction (a dry run rolls
//! it back), so a database failure leaves nothing half-written. Reads and writes are batched so that
//! a 10,000-firm file costs a few hundred statements, not a hundred thousand.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::{Db, Dialect, Tx};
use crate::domain::credit_code::CreditCode;
use crate::domain::events::EventKind;
use crate::domain::firm::{FinancialYear, FinancialsInput, Firm, FirmFields, FirmInput};
use crate::domain::ids::FirmId;
use crate::domain::readiness::AttestationKey;
use crate::domain::validate::FieldError;
use crate::error::{AppError, AppResult};
use crate::service::events::{self, NewEvent, Numbering};
use crate::service::firm_inputs::{self, FirmInputsBatch, RawInputs};
use crate::service::firms::changed_fields;
use crate::store::{financials, firms};

mod read;
pub use read::*;
use read::{is_csv, utf8_csv};

pub const FIRM_CSV_COLUMNS: &[&str] = &[
    "credit_code",
    "name",
    "city",
    "district",
    "industry_code",
    "tier",
    "tier_recognized_year",
    "founded_on",
    "expected_market_value",
    "neeq_listed_on",
    "neeq_layer",
    "tax_credit_grade",
    "contact_name",
    "contact_email",
    "contact_phone",
];
pub const FINANCIAL_CSV_COLUMNS: &[&str] = &[
    "fiscal_year",
    "revenue",
    "main_business_revenue",
    "net_profit",
    "net_profit_deducted",
    "rd_expense",
    "operating_cash_flow",
    "total_assets",
    "total_liabilities",
    "net_assets",
    "weighted_roe",
    "invention_patents",
    "employees",
    "rd_staff",
    "weighted_roe_deducted",
    "audited_on",
];

/// One input row before validation.
#[derive(Debug, Clone, Default)]
pub struct RawRow {
    pub row: usize,
    pub firm: FirmInput,
    pub year: Option<(i64, FinancialsInput)>,
    pub financial_years: Vec<(i64, FinancialsInput)>,
    /// Share capital, tier recognitions and scoring inputs, financing and attestations
    /// (see `service::firm_inputs`).
    pub inputs: RawInputs,
    /// Problems found while reading the row (bad numbers, unknown fields).
    pub read_errors: Vec<FieldError>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RejectedRow {
    pub row: usize,
    pub credit_code: Option<String>,
    pub field: String,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Input rows read (CSV data rows or JSON items).
    pub rows: usize,
    /// Firms created, updated (firm fields or any fiscal year changed) and unchanged.
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Rows rejected; each problem is listed in `errors`.
    pub rejected: usize,
    pub financial_years_written: usize,
    /// Rows of share capital, market-value estimates, financing records, tier recognitions,
    /// attestations and tier inputs written.
    pub inputs_written: usize,
    pub errors: Vec<RejectedRow>,
}

/// A firm's accepted input, merged over its rows.
struct Group {
    first_row: usize,
    rows: Vec<usize>,
    fields: FirmFields,
    years: BTreeMap<i32, FinancialYear>,
    inputs: FirmInputsBatch,
}

fn reject(report: &mut ImportReport, row: usize, code: Option<&str>, errors: Vec<FieldError>) {
    report.rejected += 1;
    for e in errors {
        report.errors.push(RejectedRow {
            row,
            credit_code: code.map(str::to_owned),
            field: e.field,
            code: e.code,
            message: e.message,
        });
    }
}

/// How an import treats rejected rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportMode {
    /// Validate and count, write nothing.
    pub dry_run: bool,
    /// Any rejected row rejects the whole file (422, nothing written). Otherwise the firms whose
    /// rows are all valid are written and the others reported; a firm's rows never split.
    pub atomic: bool,
}

/// Validates, groups and writes. One transaction; rolled back when `dry_run`.
pub async fn run(db: &Db, rows: Vec<RawRow>, mode: ImportMode, now: DateTime<Utc>) -> AppResult<ImportReport> {
    let total = rows.len() as u64;
    run_windows(db, std::iter::once(Ok(rows)), mode, now, total, &|_, _| {}).await
}

/// [`run`] over rows that arrive in windows, each holding every row of its firms (see
/// [`firm_windows`]): validated, grouped and written window by window in ONE transaction, so a
/// file of any size is imported with the memory of one window, and still all or nothing. `total`
/// (rows) is for `progress`, which hears (rows done, total) after every window.
pub async fn run_windows(
    db: &Db,
    windows: impl Iterator<Item = AppResult<Vec<RawRow>>>,
    mode: ImportMode,
    now: DateTime<Utc>,
    total: u64,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> AppResult<ImportReport> {
    let dry_run = mode.dry_run;
    let today = now.date_naive();
    let mut report = ImportReport { dry_run, ..ImportReport::default() };
    let mut attestation_keys = None;
    let mut tx = db.begin().await?;
    for window in windows {
        let rows = window?;
        report.rows += rows.len();
        if attestation_keys.is_none() && rows.iter().any(|r| !r.inputs.attestations.is_empty()) {
            attestation_keys = Some(crate::service::listing::attestation_catalogue(&mut tx).await?);
        }
        let no_keys = BTreeMap::new();
        let groups = validate_window(rows, attestation_keys.as_ref().unwrap_or(&no_keys), today, &mut report);
        // With `atomic`, one rejected row means nothing is written: the rest is only validated.
        if !(mode.atomic && report.rejected > 0) {
            write_groups(&mut tx, db.dialect(), &groups, &mut report, now).await?;
            let inputs: Vec<(&str, &FirmInputsBatch)> =
                groups.iter().map(|g| (g.fields.credit_code.as_str(), &g.inputs)).collect();
            report.inputs_written += firm_inputs::write_imported(&mut tx, db.dialect(), &inputs, now).await?;
        }
        tracing::info!(rows = report.rows, total, rejected = report.rejected, "import progress");
        progress(report.rows as u64, total.max(report.rows as u64));
    }
    report.errors.sort_by_key(|e| e.row);
    if mode.atomic && report.rejected > 0 {
        tx.rollback().await?;
        let errors = report
            .errors
            .iter()
            .map(|e| FieldError::new(format!("rows.{}.{}", e.row, e.field), &e.code, e.message.clone()))
            .collect();
        return Err(AppError::Validation(errors));
    }
    if dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
        if report.created + report.updated > 0 {
            db.refresh_statistics().await?;
        }
    }
    Ok(report)
}

/// Validates one window's rows and groups them by firm; rejected rows go to `report`, and a firm
/// with any rejected row is dropped whole.
fn validate_window(
    rows: Vec<RawRow>,
    attestation_keys: &BTreeMap<String, AttestationKey>,
    today: chrono::NaiveDate,
    report: &mut ImportReport,
) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let mut by_code: HashMap<String, usize> = HashMap::new();
    let errors_before = report.errors.len();
    for mut raw in rows {
        let code_hint = raw
            .firm
            .credit_code
            .as_deref()
            .map(|c| CreditCode::parse(c).map(|c| c.to_string()).unwrap_or_else(|_| c.to_owned()));
        let mut errors = std::mem::take(&mut raw.read_errors);
        let fields = match raw.firm.validate(today) {
            Ok(f) => Some(f),
            Err(es) => {
                errors.extend(es);
                None
            }
        };
        let mut years = Vec::new();
        for (y, input) in raw.year.iter().chain(raw.financial_years.iter()) {
            let prefix = format!("financials.{y}");
            match input.validate(*y, &prefix, today) {
                Ok(fy) => years.push(fy),
                Err(es) => errors.extend(es),
            }
        }
        let inputs = match raw.inputs.validate(attestation_keys, today, code_hint.as_deref().unwrap_or_default()) {
            Ok(i) => i,
            Err(es) => {
                errors.extend(es);
                FirmInputsBatch::default()
            }
        };
        let Some(fields) = fields.filter(|_| errors.is_empty()) else {
            reject(report, raw.row, code_hint.as_deref(), errors);
            continue;
        };
        match by_code.get(&fields.credit_code) {
            Some(&gi) => {
                let group = &mut groups[gi];
                let differs = changed_fields(&group.fields, &fields);
                if !differs.is_empty() {
                    let errs = differs
                        .iter()
                        .map(|f| {
                            FieldError::new(
                                *f,
                                "conflict",
                                format!("differs from row {} of the same firm", group.first_row),
                            )
                        })
                        .collect();
                    reject(report, raw.row, Some(&fields.credit_code), errs);
                    continue;
                }
                if let Some(dup) = years.iter().find(|y| group.years.contains_key(&y.fiscal_year)) {
                    let errs = vec![FieldError::new(
                        "fiscal_year",
                        "duplicate",
                        format!("{} appears twice for this firm", dup.fiscal_year),
                    )];
                    reject(report, raw.row, Some(&fields.credit_code), errs);
                    continue;
                }
                if let Err(errs) = group.inputs.merge(inputs) {
                    reject(report, raw.row, Some(&fields.credit_code), errs);
                    continue;
                }
                group.years.extend(years.into_iter().map(|y| (y.fiscal_year, y)));
                group.rows.push(raw.row);
            }
            None => {
                by_code.insert(fields.credit_code.clone(), groups.len());
                groups.push(Group {
                    first_row: raw.row,
                    rows: vec![raw.row],
                    fields,
                    years: years.into_iter().map(|y| (y.fiscal_year, y)).collect(),
                    inputs,
                });
            }
        }
    }

    // A firm stands or falls whole: a valid 2023 and 2025 beside a rejected 2024 would store a
    // history with a hole that reads as fact.
    let fallen: std::collections::HashSet<String> =
        report.errors[errors_before..].iter().filter_map(|e| e.credit_code.clone()).collect();
    let (kept, dropped): (Vec<Group>, Vec<Group>) =
        groups.into_iter().partition(|g| !fallen.contains(&g.fields.credit_code));
    for g in dropped {
        let code = g.fields.credit_code.clone();
        for row in g.rows {
            let first_bad =
                report.errors.iter().find(|e| e.credit_code.as_deref() == Some(code.as_str())).map(|e| e.row);
            let why = FieldError::new(
                "credit_code",
                "firm_rejected",
                format!(
                    "row {} of the same firm was rejected, and a firm's rows are imported together",
                    first_bad.unwrap_or_default()
                ),
            );
            reject(report, row, Some(&code), vec![why]);
        }
    }
    kept
}

async fn write_groups(
    tx: &mut Tx,
    dialect: Dialect,
    groups: &[Group],
    report: &mut ImportReport,
    now: DateTime<Utc>,
) -> AppResult<()> {
    // What exists already, in a few batched reads.
    let codes: Vec<&str> = groups.iter().map(|g| g.fields.credit_code.as_str()).collect();
    let existing: HashMap<String, Firm> = firms::get_many_by_credit_code(tx, dialect, &codes)
        .await?
        .into_iter()
        .map(|f| (f.credit_code.clone(), f))
        .collect();
    let existing_ids: Vec<FirmId> = existing.values().map(|f| f.id).collect();
    let existing_years: HashMap<(FirmId, i32), FinancialYear> = financials::of_firms(tx, dialect, &existing_ids)
        .await?
        .into_iter()
        .map(|(id, fy)| ((id, fy.fiscal_year), fy))
        .collect();

    let mut new_firms: Vec<(FirmId, &FirmFields)> = Vec::new();
    let mut year_writes: Vec<(FirmId, &FinancialYear)> = Vec::new();
    let mut new_events: Vec<NewEvent> = Vec::new();
    for g in groups {
        match existing.get(&g.fields.credit_code) {
            None => {
                let id = FirmId::new();
                new_firms.push((id, &g.fields));
                year_writes.extend(g.years.values().map(|y| (id, y)));
                report.created += 1;
                let data = serde_json::json!({
                    "firm_id": id, "city": g.fields.city, "tier": g.fields.tier, "industry_code": g.fields.industry_code,
                });
                // A new firm's first event is number 1: the firm row is inserted with that sequence.
                new_events.push(NewEvent {
                    numbering: Numbering::Given(1),
                    ..NewEvent::fact(EventKind::FirmCreated, Some(id), None, format!("firm:{id}:created"), data)
                });
            }
            Some(firm) => {
                let changed = changed_fields(&FirmFields::of(firm), &g.fields);
                if !changed.is_empty() {
                    firms::update(tx, firm.id, &g.fields, now).await?;
                }
                let changed_years: Vec<&FinancialYear> =
                    g.years.values().filter(|y| existing_years.get(&(firm.id, y.fiscal_year)) != Some(*y)).collect();
                year_writes.extend(changed_years.iter().map(|y| (firm.id, *y)));
                if changed.is_empty() && changed_years.is_empty() {
                    report.unchanged += 1;
                } else {
                    report.updated += 1;
                    let years: Vec<i32> = changed_years.iter().map(|y| y.fiscal_year).collect();
                    let data = serde_json::json!({ "firm_id": firm.id, "changed": changed, "fiscal_years": years });
                    new_events.push(NewEvent::firm_change(EventKind::FirmUpdated, firm.id, data));
                }
            }
        }
    }

    firms::insert_many(tx, dialect, &new_firms, now).await?;
    financials::upsert_many(tx, dialect, &year_writes, now).await?;
    report.financial_years_written = year_writes.len();

    events::record_many(tx, new_events, now).await?;
    Ok(())
}

/// Imports an uploaded file (CSV or JSON by content type) as the office.
pub async fn run_as(
    db: &Db,
    caller: &crate::domain::access::Principal,
    content_type: &str,
    bytes: &[u8],
    mode: ImportMode,
    now: DateTime<Utc>,
) -> AppResult<ImportReport> {
    caller.require_admin()?;
    let report = if is_csv(content_type) {
        let bytes = utf8_csv(bytes)?;
        let spans = firm_spans(CsvRows::new(bytes)?);
        let total = spans.rows;
        run_windows(db, firm_windows(CsvRows::new(bytes)?, spans), mode, now, total, &|_, _| {}).await?
    } else {
        run(db, read_body(content_type, bytes)?, mode, now).await?
    };
    tracing::info!(
        rows = report.rows,
        created = report.created,
        updated = report.updated,
        unchanged = report.unchanged,
        rejected = report.rejected,
        dry_run = report.dry_run,
        "import finished"
    );
    Ok(report)
}
