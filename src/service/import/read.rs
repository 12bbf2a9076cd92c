//! Reading an import body: CSV (streamed, with the UTF-8 and GBK checks) or JSON into raw rows,
//! and the windows of whole firms the writer takes one at a time.

use super::*;

fn cell(record: &csv::StringRecord, idx: Option<usize>) -> Option<String> {
    let v = record.get(idx?)?.trim();
    if v.is_empty() { None } else { Some(v.to_owned()) }
}

/// Reads CSV (UTF-8, optional BOM). A header problem rejects the whole file.
pub fn read_csv(bytes: &[u8]) -> AppResult<Vec<RawRow>> {
    Ok(CsvRows::new(utf8_csv(bytes)?)?.collect())
}

/// The bytes without their BOM, if they are UTF-8; otherwise a 400 naming the likely encoding.
pub(super) fn utf8_csv(bytes: &[u8]) -> AppResult<&[u8]> {
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

pub(super) fn is_csv(content_type: &str) -> bool {
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    matches!(mime.as_str(), "text/csv" | "application/csv")
}
