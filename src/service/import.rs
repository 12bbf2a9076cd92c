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
use uuid::Uuid;

use crate::db::{Db, Dialect, Tx};
use crate::domain::credit_code::CreditCode;
use crate::domain::events::EventKind;
use crate::domain::firm::{FinancialYear, FinancialsInput, Firm, FirmFields, FirmInput};
use crate::domain::readiness::AttestationKey;
use crate::domain::validate::FieldError;
use crate::error::{AppError, AppResult};
use crate::service::events::{self, NewEvent, Numbering};
use crate::service::firm_inputs::{self, FirmInputsBatch, RawInputs};
use crate::service::firms::changed_fields;
use crate::store::{financials, firms};

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

fn cell(record: &csv::StringRecord, idx: Option<usize>) -> Option<String> {
    let v = record.get(idx?)?.trim();
    if v.is_empty() { None } else { Some(v.to_owned()) }
}

/// Reads CSV (UTF-8, optional BOM). A header problem rejects the whole file.
pub fn read_csv(bytes: &[u8]) -> AppResult<Vec<RawRow>> {
    Ok(CsvRows::new(utf8_csv(bytes)?)?.collect())
}

/// The bytes without their BOM, if they are UTF-8; otherwise a 400 naming the likely encoding.
fn utf8_csv(bytes: &[u8]) -> AppResult<&[u8]> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if std::str::from_utf8(bytes).is_err() {
        return Err(not_utf8(looks_like_gbk(bytes)));
    }
    Ok(bytes)
}

fn not_utf8(gbk: bool) -> AppError {
    let guess = if gbk {
        "it looks like GBK (GB18030), as Excel saves CSV on Chinese Windows"
    } else {
        "its encoding is unknown"
    };
    AppError::bad_request(
        "unsupported_encoding",
        format!("the file is not UTF-8 ({guess}); save it as \"CSV UTF-8\" and import it again"),
    )
}

/// The rows of an import CSV, read one at a time (blank rows skipped).
pub struct CsvRows<R: std::io::Read> {
    reader: csv::Reader<R>,
    index: HashMap<String, usize>,
    record: csv::StringRecord,
    read: usize,
}

impl<R: std::io::Read> CsvRows<R> {
    /// Reads the header; a header problem rejects the whole file.
    pub fn new(source: R) -> AppResult<CsvRows<R>> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(source);
        let headers = reader
            .headers()
            .map_err(|e| AppError::bad_request("invalid_csv", format!("the header row cannot be read: {e}")))?
            .clone();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut unknown = Vec::new();
        for (i, h) in headers.iter().enumerate() {
            let name = h.trim().to_ascii_lowercase();
            if FIRM_CSV_COLUMNS.contains(&name.as_str())
                || FINANCIAL_CSV_COLUMNS.contains(&name.as_str())
                || firm_inputs::YEAR_CSV_COLUMNS.contains(&name.as_str())
                || firm_inputs::FIRM_CSV_COLUMNS.contains(&name.as_str())
            {
                if index.insert(name.clone(), i).is_some() {
                    unknown.push(FieldError::new(
                        format!("columns.{name}"),
                        "duplicate",
                        "appears twice in the header; which one holds the value would be a guess",
                    ));
                }
            } else if h.chars().any(char::is_control) {
                // Named by position: the name itself is not text an answer may repeat.
                unknown.push(FieldError::new(
                    format!("columns[{}]", i + 1),
                    "invalid_character",
                    "the column name contains a control character",
                ));
            } else if !name.is_empty() {
                unknown.push(FieldError::new(
                    format!("columns.{h}"),
                    "unknown_column",
                    "is not a known column; see the import documentation",
                ));
            }
        }
        for required in ["credit_code", "name", "industry_code"] {
            if !index.contains_key(required) {
                unknown.push(FieldError::new(format!("columns.{required}"), "required", "the column is missing"));
            }
        }
        if !unknown.is_empty() {
            return Err(AppError::Validation(unknown));
        }
        Ok(CsvRows { reader, index, record: csv::StringRecord::new(), read: 0 })
    }
}

impl<R: std::io::Read> Iterator for CsvRows<R> {
    type Item = RawRow;

    fn next(&mut self) -> Option<RawRow> {
        loop {
            let i = self.read;
            let row_no = i + 2;
            let record = match self.reader.read_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => {
                    self.read += 1;
                    &self.record
                }
                Err(e) => {
                    self.read += 1;
                    // A row that cannot be read at all (not UTF-8 in a streamed file, bad quoting).
                    return Some(RawRow {
                        row: row_no,
                        read_errors: vec![FieldError::new(
                            "row",
                            "invalid_csv",
                            format!("the row cannot be read: {e}"),
                        )],
                        ..RawRow::default()
                    });
                }
            };
            if record.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let index = &self.index;
            let col = |name: &str| index.get(name).copied();
            let mut read_errors = Vec::new();
            let mut int = |name: &str| -> Option<i64> {
                let v = cell(record, col(name))?;
                match v.parse::<i64>() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        read_errors.push(FieldError::new(name, "invalid", format!("{v:?} is not a whole number")));
                        None
                    }
                }
            };
            let tier_recognized_year = int("tier_recognized_year").map(|y| y as i32);
            let fiscal_year = int("fiscal_year");
            let invention_patents = int("invention_patents");
            let employees = int("employees");
            let rd_staff = int("rd_staff");
            let text = |name: &str| cell(record, col(name));
            let firm = FirmInput {
                credit_code: text("credit_code"),
                name: text("name"),
                city: text("city"),
                district: text("district"),
                industry_code: text("industry_code"),
                tier: text("tier"),
                tier_recognized_year,
                founded_on: text("founded_on"),
                expected_market_value: text("expected_market_value"),
                neeq_listed_on: text("neeq_listed_on"),
                neeq_layer: text("neeq_layer"),
                tax_credit_grade: text("tax_credit_grade"),
                contact_name: text("contact_name"),
                contact_email: text("contact_email"),
                contact_phone: text("contact_phone"),
            };
            let fin = FinancialsInput {
                revenue: text("revenue"),
                main_business_revenue: text("main_business_revenue"),
                net_profit: text("net_profit"),
                net_profit_deducted: text("net_profit_deducted"),
                rd_expense: text("rd_expense"),
                operating_cash_flow: text("operating_cash_flow"),
                total_assets: text("total_assets"),
                total_liabilities: text("total_liabilities"),
                net_assets: text("net_assets"),
                weighted_roe: text("weighted_roe"),
                weighted_roe_deducted: text("weighted_roe_deducted"),
                invention_patents,
                employees,
                rd_staff,
                audited_on: text("audited_on"),
            };
            let year = match fiscal_year {
                Some(y) => Some((y, fin)),
                None if !fin.is_empty() => {
                    read_errors.push(FieldError::new(
                        "fiscal_year",
                        "required",
                        "is required when the row carries financial figures",
                    ));
                    None
                }
                None => None,
            };
            let inputs = RawInputs::from_csv(|name| cell(record, col(name)), fiscal_year, &mut read_errors);
            return Some(RawRow { row: row_no, firm, year, financial_years: Vec::new(), inputs, read_errors });
        }
    }
}

/// Whether bytes that are not UTF-8 read as GBK: ASCII, plus two-byte characters whose lead byte
/// is 0x81–0xFE and trail byte 0x40–0xFE (not 0x7F). Enough to name the likely encoding.
fn looks_like_gbk(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            0x00..=0x7F => i += 1,
            0x81..=0xFE if matches!(bytes.get(i + 1), Some(0x40..=0x7E | 0x80..=0xFE)) => i += 2,
            _ => return false,
        }
    }
    true
}

#[derive(Deserialize)]
struct JsonYear {
    fiscal_year: i64,
    #[serde(flatten)]
    figures: serde_json::Map<String, serde_json::Value>,
}

/// Reads a JSON array of firms, each with an optional `financials` array.
pub fn read_json(bytes: &[u8]) -> AppResult<Vec<RawRow>> {
    let items: Vec<serde_json::Value> = serde_json::from_slice(bytes)
        .map_err(|e| AppError::bad_request("invalid_json", format!("the body must be a JSON array of firms: {e}")))?;
    let mut rows = Vec::with_capacity(items.len());
    for (i, mut item) in items.into_iter().enumerate() {
        let mut raw = RawRow { row: i + 1, ..RawRow::default() };
        let years = item.as_object_mut().and_then(|o| o.remove("financials"));
        raw.inputs = RawInputs::take_from_json(&mut item, &mut raw.read_errors);
        match serde_json::from_value::<FirmInput>(item) {
            Ok(f) => raw.firm = f,
            Err(e) => raw.read_errors.push(FieldError::new("firm", "invalid", e.to_string())),
        }
        if let Some(years) = years {
            match serde_json::from_value::<Vec<JsonYear>>(years) {
                Ok(ys) => {
                    for (j, y) in ys.into_iter().enumerate() {
                        match serde_json::from_value::<FinancialsInput>(serde_json::Value::Object(y.figures)) {
                            Ok(f) => raw.financial_years.push((y.fiscal_year, f)),
                            Err(e) => raw.read_errors.push(FieldError::new(
                                format!("financials[{j}]"),
                                "invalid",
                                e.to_string(),
                            )),
                        }
                    }
                }
                Err(e) => raw.read_errors.push(FieldError::new("financials", "invalid", e.to_string())),
            }
        }
        rows.push(raw);
    }
    Ok(rows)
}

/// Rows per window of a streamed import; a window closes at the first firm boundary after this.
pub const WINDOW_ROWS: usize = 6_000;

/// The import key of a row's firm (its normalised credit code), empty when it has none.
fn firm_key(raw: &RawRow) -> String {
    match raw.firm.credit_code.as_deref() {
        Some(c) => CreditCode::parse(c).map(|c| c.to_string()).unwrap_or_else(|_| c.to_owned()),
        None => String::new(),
    }
}

/// Where each firm's rows end, from a first pass over the rows: a window must not close before
/// a firm's last row, or the firm's rows would be validated and written apart.
#[derive(Debug, Default)]
pub struct FirmSpans {
    last_row: HashMap<String, usize>,
    /// Rows in the file (for progress).
    pub rows: u64,
}

pub fn firm_spans(rows: impl Iterator<Item = RawRow>) -> FirmSpans {
    let mut spans = FirmSpans::default();
    for raw in rows {
        spans.rows += 1;
        let key = firm_key(&raw);
        if !key.is_empty() {
            spans.last_row.insert(key, raw.row);
        }
    }
    spans
}

/// Cuts rows (the same rows, in the same order, as `spans` saw) into windows of about
/// [`WINDOW_ROWS`] rows that never split a firm. In the worst case, a file whose firms' rows are
/// interleaved throughout, that is one window: correct, only not streamed.
pub fn firm_windows(
    mut rows: impl Iterator<Item = RawRow>,
    spans: FirmSpans,
) -> impl Iterator<Item = AppResult<Vec<RawRow>>> {
    std::iter::from_fn(move || {
        let mut window = Vec::new();
        let mut reach = 0;
        for raw in rows.by_ref() {
            let row = raw.row;
            reach = reach.max(spans.last_row.get(&firm_key(&raw)).copied().unwrap_or(row));
            window.push(raw);
            if window.len() >= WINDOW_ROWS && reach <= row {
                break;
            }
        }
        (!window.is_empty()).then_some(Ok(window))
    })
}

/// Checks that a CSV stream is UTF-8 without holding it; the 400 names the likely encoding.
pub fn check_utf8(mut source: impl std::io::Read) -> AppResult<()> {
    let mut buf = vec![0u8; 1 << 20];
    let mut kept = 0;
    loop {
        let n = source.read(&mut buf[kept..]).map_err(|e| AppError::Internal(e.into()))?;
        let filled = kept + n;
        match std::str::from_utf8(&buf[..filled]) {
            Ok(_) => kept = 0,
            // A character cut at the end of the buffer: carry its bytes over.
            Err(e) if e.error_len().is_none() && n > 0 => {
                let start = e.valid_up_to();
                buf.copy_within(start..filled, 0);
                kept = filled - start;
            }
            Err(_) => {
                // The buffer may end inside a two-byte character.
                let sample = &buf[..filled];
                let gbk = looks_like_gbk(sample) || looks_like_gbk(&sample[..filled.saturating_sub(1)]);
                return Err(not_utf8(gbk));
            }
        }
        if n == 0 {
            return Ok(());
        }
    }
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
    let existing_ids: Vec<Uuid> = existing.values().map(|f| f.id).collect();
    let existing_years: HashMap<(Uuid, i32), FinancialYear> = financials::of_firms(tx, dialect, &existing_ids)
        .await?
        .into_iter()
        .map(|(id, fy)| ((id, fy.fiscal_year), fy))
        .collect();

    let mut new_firms: Vec<(Uuid, &FirmFields)> = Vec::new();
    let mut year_writes: Vec<(Uuid, &FinancialYear)> = Vec::new();
    let mut new_events: Vec<NewEvent> = Vec::new();
    for g in groups {
        match existing.get(&g.fields.credit_code) {
            None => {
                let id = Uuid::now_v7();
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

/// Accepts an import body by media type.
pub fn read_body(content_type: &str, bytes: &[u8]) -> AppResult<Vec<RawRow>> {
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match mime.as_str() {
        _ if is_csv(content_type) => read_csv(bytes),
        "application/json" => read_json(bytes),
        other => Err(AppError::UnsupportedMediaType(format!(
            "import takes text/csv or application/json, not {:?}",
            if other.is_empty() { "(none)" } else { other }
        ))),
    }
}

fn is_csv(content_type: &str) -> bool {
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    matches!(mime.as_str(), "text/csv" | "application/csv")
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
