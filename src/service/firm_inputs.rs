//! Recording the inputs kept beside a firm's record (share capital, market-value estimates, equity
//! rounds, tier recognitions, attestations, tier scoring inputs), shared by the API and the bulk
//! import. Who writes decides the source: an admin key writes as the office, an enterprise key as
//! the firm, and a firm's attestation is marked self-declared.
//!
//! These inputs feed readiness, the tier check and the programme statistics only; they change no
//! loan match, so they write no outbox event.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::db::Dialect;
use crate::domain::access::{Principal, Role};
use crate::domain::firm::Tier;
use crate::domain::firm_inputs::{
    AttestationInput, AttestationSource, AttestationStatement, EquityFinancingRecord, EquityFinancingsInput,
    FirmRecords, InputSource, MarketValueEstimate, MarketValueEstimateInput, ReadinessInputsPatch, ShareCapitalEntry,
    ShareCapitalInput, TierInputs, TierInputsInput, TierRecognition, TierRecognitionInput, ValidPatch,
};
use crate::domain::ids::FirmId;
use crate::domain::readiness::{AttestationKey, RuleBook};
use crate::domain::tier_check::TierBook;
use crate::domain::validate::FieldError;
use crate::error::{AppError, AppResult};
use crate::store::firm_inputs::Section;
use crate::store::{Conn, firm_inputs as store, firms};

/// The source a caller writes as.
pub fn source_of(caller: &Principal) -> InputSource {
    if caller.role() == Role::Enterprise { InputSource::Firm } else { InputSource::Office }
}

/// Every attestation key the loaded rules read, with who may state it.
pub fn attestation_keys(book: &RuleBook, tiers: &TierBook) -> BTreeMap<String, AttestationKey> {
    let mut keys = book.attestation_keys();
    tiers.collect_attestation_keys(&mut keys);
    keys
}

async fn require_firm_exists(conn: &mut Conn, firm_id: FirmId) -> AppResult<()> {
    if firms::get(conn, firm_id).await?.is_none() {
        return Err(AppError::not_found("firm"));
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(firm_id = %firm_id))]
pub async fn records(conn: &mut Conn, firm_id: FirmId) -> AppResult<FirmRecords> {
    require_firm_exists(conn, firm_id).await?;
    store::load(conn, firm_id).await
}

/// Applies a validated patch: each section present replaces that section.
#[tracing::instrument(skip_all, fields(firm_id = %firm_id))]
pub async fn patch(
    conn: &mut Conn,
    dialect: Dialect,
    firm_id: FirmId,
    patch: &ValidPatch,
    source: InputSource,
    now: DateTime<Utc>,
) -> AppResult<()> {
    require_firm_exists(conn, firm_id).await?;
    fn of_firm<T>(firm_id: FirmId, entries: &[T]) -> Vec<(FirmId, &T)> {
        entries.iter().map(|e| (firm_id, e)).collect()
    }
    if let Some(entries) = &patch.share_capital {
        store::clear(conn, Section::ShareCapital, firm_id).await?;
        store::upsert_share_capital(conn, dialect, &of_firm(firm_id, entries), now).await?;
    }
    if let Some(entries) = &patch.market_value_estimates {
        store::clear(conn, Section::MarketValueEstimates, firm_id).await?;
        store::upsert_estimates(conn, dialect, &of_firm(firm_id, entries), now).await?;
    }
    if let Some(record) = &patch.equity_financings {
        store::replace_financings(conn, dialect, &[(firm_id, record)], source, now).await?;
    }
    if let Some(entries) = &patch.tier_recognitions {
        store::clear(conn, Section::TierRecognitions, firm_id).await?;
        store::upsert_recognitions(conn, dialect, &of_firm(firm_id, entries), now).await?;
    }
    Ok(())
}

/// Records an attestation. Office-only keys refuse a firm's statement (403).
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, firm_id = %firm_id))]
pub async fn attest(
    conn: &mut Conn,
    dialect: Dialect,
    keys: &BTreeMap<String, AttestationKey>,
    firm_id: FirmId,
    input: &AttestationInput,
    caller: &Principal,
    now: DateTime<Utc>,
) -> AppResult<AttestationStatement> {
    let valid = input.validate(now.date_naive(), |k| keys.contains_key(k))?;
    let source = match caller.role() {
        Role::Enterprise => {
            if keys.get(&valid.key).is_some_and(|k| k.office_only) {
                return Err(AppError::Forbidden(format!(
                    "{} is the office's judgement; a firm cannot state it",
                    valid.key
                )));
            }
            AttestationSource::SelfDeclared
        }
        _ => AttestationSource::Office,
    };
    require_firm_exists(conn, firm_id).await?;
    let statement = AttestationStatement {
        id: Uuid::now_v7(),
        key: valid.key,
        holds: valid.holds,
        stated_on: valid.stated_on,
        valid_until: valid.valid_until,
        document_ref: valid.document_ref,
        remark: valid.remark,
        source,
        recorded_at: now,
    };
    store::insert_attestations(conn, dialect, &[(firm_id, &statement, Some(caller.key_id))]).await?;
    Ok(statement)
}

#[tracing::instrument(skip_all, fields(firm_id = %firm_id))]
pub async fn put_tier_inputs(
    conn: &mut Conn,
    dialect: Dialect,
    firm_id: FirmId,
    inputs: &TierInputs,
    now: DateTime<Utc>,
) -> AppResult<()> {
    require_firm_exists(conn, firm_id).await?;
    store::upsert_tier_inputs(conn, dialect, &[(firm_id, inputs)], now).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The bulk import's share: optional columns (CSV) and keys (JSON) beside a firm's rows.

/// CSV columns per fiscal-year row: the year-end share capital and the tier scoring inputs.
pub const YEAR_CSV_COLUMNS: &[&str] = &[
    "share_capital",
    "ip_best_class",
    "class_i_ip_in_use",
    "strategic_emerging_industry",
    "niche_market_years",
    "product_chain_role",
    "digitalisation_level",
    "quality_items",
    "rd_institution_level",
    "national_niche_market_share",
    "provincial_key_industry",
    "innovative_operation_items",
    "niche_share_rank",
    "cloud_migrated",
    "key_chain_supplier",
];

/// CSV columns per firm (repeated on each of its rows): first recognition years by tier.
pub const FIRM_CSV_COLUMNS: &[&str] =
    &["innovative_sme_recognized_year", "provincial_srdi_recognized_year", "little_giant_recognized_year"];

/// The inputs one import row (CSV) or item (JSON) carries, before validation.
#[derive(Debug, Clone, Default)]
pub struct RawInputs {
    /// (fiscal year, year-end share capital): recorded as the share capital on 31 December.
    pub year_end_share_capital: Vec<(i64, String)>,
    pub share_capital: Vec<ShareCapitalInput>,
    pub market_value_estimates: Vec<MarketValueEstimateInput>,
    pub equity_financings: Option<EquityFinancingsInput>,
    pub tier_recognitions: Vec<TierRecognitionInput>,
    pub attestations: Vec<AttestationInput>,
    pub tier_inputs: Vec<(i64, TierInputsInput)>,
}

impl RawInputs {
    pub fn is_empty(&self) -> bool {
        self.year_end_share_capital.is_empty()
            && self.share_capital.is_empty()
            && self.market_value_estimates.is_empty()
            && self.equity_financings.is_none()
            && self.tier_recognitions.is_empty()
            && self.attestations.is_empty()
            && self.tier_inputs.is_empty()
    }

    /// Reads this module's CSV cells of one row; `cell` returns a trimmed non-empty cell.
    pub fn from_csv(
        cell: impl Fn(&str) -> Option<String>,
        fiscal_year: Option<i64>,
        read_errors: &mut Vec<FieldError>,
    ) -> RawInputs {
        let mut out = RawInputs::default();
        let int = |name: &str, errors: &mut Vec<FieldError>| -> Option<i64> {
            let v = cell(name)?;
            match v.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errors.push(FieldError::new(name, "invalid", format!("{v:?} is not a whole number")));
                    None
                }
            }
        };
        let flag = |name: &str, errors: &mut Vec<FieldError>| -> Option<bool> {
            let v = cell(name)?;
            match v.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" | "是" => Some(true),
                "false" | "no" | "0" | "否" => Some(false),
                _ => {
                    errors.push(FieldError::new(name, "invalid", format!("{v:?} is not yes/no (true, false, 是, 否)")));
                    None
                }
            }
        };
        for (tier, column) in
            [Tier::InnovativeSme, Tier::ProvincialSrdi, Tier::LittleGiant].iter().zip(FIRM_CSV_COLUMNS)
        {
            if let Some(year) = int(column, read_errors) {
                out.tier_recognitions.push(TierRecognitionInput {
                    tier: Some(tier.as_str().to_owned()),
                    recognized_year: Some(year),
                    document_ref: None,
                });
            }
        }
        let year_inputs = TierInputsInput {
            ip_best_class: cell("ip_best_class"),
            class_i_ip_in_use: int("class_i_ip_in_use", read_errors),
            strategic_emerging_industry: flag("strategic_emerging_industry", read_errors),
            niche_market_years: cell("niche_market_years"),
            product_chain_role: cell("product_chain_role"),
            digitalisation_level: int("digitalisation_level", read_errors),
            quality_items: int("quality_items", read_errors),
            rd_institution_level: cell("rd_institution_level"),
            national_niche_market_share: cell("national_niche_market_share"),
            provincial_key_industry: cell("provincial_key_industry"),
            innovative_operation_items: int("innovative_operation_items", read_errors),
            niche_share_rank: cell("niche_share_rank"),
            cloud_migrated: flag("cloud_migrated", read_errors),
            key_chain_supplier: flag("key_chain_supplier", read_errors),
        };
        let share_capital = cell("share_capital");
        match fiscal_year {
            Some(y) => {
                if let Some(amount) = share_capital {
                    out.year_end_share_capital.push((y, amount));
                }
                if !year_inputs.is_empty() {
                    out.tier_inputs.push((y, year_inputs));
                }
            }
            None if share_capital.is_some() || !year_inputs.is_empty() => read_errors.push(FieldError::new(
                "fiscal_year",
                "required",
                "is required when the row carries share capital or tier inputs",
            )),
            None => {}
        }
        out
    }

    /// Takes this module's keys out of a JSON import item (the rest is the firm).
    pub fn take_from_json(item: &mut serde_json::Value, read_errors: &mut Vec<FieldError>) -> RawInputs {
        let mut out = RawInputs::default();
        let Some(obj) = item.as_object_mut() else {
            return out;
        };
        fn take<T: serde::de::DeserializeOwned>(
            obj: &mut serde_json::Map<String, serde_json::Value>,
            key: &str,
            errors: &mut Vec<FieldError>,
        ) -> Option<T> {
            let v = obj.remove(key)?;
            match serde_json::from_value(v) {
                Ok(t) => Some(t),
                Err(e) => {
                    errors.push(FieldError::new(key, "invalid", e.to_string()));
                    None
                }
            }
        }
        out.share_capital = take(obj, "share_capital", read_errors).unwrap_or_default();
        out.market_value_estimates = take(obj, "market_value_estimates", read_errors).unwrap_or_default();
        out.equity_financings = take(obj, "equity_financings", read_errors);
        out.tier_recognitions = take(obj, "tier_recognitions", read_errors).unwrap_or_default();
        out.attestations = take(obj, "attestations", read_errors).unwrap_or_default();
        let years: Vec<serde_json::Value> = take(obj, "tier_inputs", read_errors).unwrap_or_default();
        for (i, mut y) in years.into_iter().enumerate() {
            let fiscal_year = y.as_object_mut().and_then(|o| o.remove("fiscal_year")).and_then(|v| v.as_i64());
            match (fiscal_year, serde_json::from_value::<TierInputsInput>(y)) {
                (Some(fy), Ok(t)) => out.tier_inputs.push((fy, t)),
                (None, _) => read_errors.push(FieldError::new(
                    format!("tier_inputs[{i}].fiscal_year"),
                    "required",
                    "is required",
                )),
                (_, Err(e)) => read_errors.push(FieldError::new(format!("tier_inputs[{i}]"), "invalid", e.to_string())),
            }
        }
        out
    }

    /// Validates as the office writes (the import is the office's), naming each field with its
    /// place in the item. Attestation keys are checked against `keys`.
    pub fn validate(
        &self,
        keys: &BTreeMap<String, AttestationKey>,
        today: NaiveDate,
        firm_key: &str,
    ) -> Result<FirmInputsBatch, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut out = FirmInputsBatch::default();
        let mut share_capital = self.share_capital.clone();
        for (y, amount) in &self.year_end_share_capital {
            share_capital.push(ShareCapitalInput {
                effective_on: Some(format!("{y:04}-12-31")),
                amount: Some(amount.clone()),
                document_ref: None,
            });
        }
        let patch = ReadinessInputsPatch {
            share_capital: (!share_capital.is_empty()).then_some(share_capital),
            market_value_estimates: (!self.market_value_estimates.is_empty())
                .then(|| self.market_value_estimates.clone()),
            equity_financings: self.equity_financings.clone(),
            tier_recognitions: (!self.tier_recognitions.is_empty()).then(|| self.tier_recognitions.clone()),
        };
        match patch.validate(InputSource::Office, today) {
            Ok(v) => {
                out.share_capital = v.share_capital.unwrap_or_default();
                out.market_value_estimates = v.market_value_estimates.unwrap_or_default();
                out.equity_financings = v.equity_financings;
                out.tier_recognitions = v.tier_recognitions.unwrap_or_default();
            }
            Err(es) => errors.extend(es),
        }
        for (i, a) in self.attestations.iter().enumerate() {
            match a.validate(today, |k| keys.contains_key(k)) {
                Ok(v) => {
                    // Named by its content, so that importing the same file twice records it once.
                    let name = format!(
                        "{firm_key}/{}/{}/{}/{:?}/{:?}",
                        v.key, v.holds, v.stated_on, v.valid_until, v.document_ref
                    );
                    out.attestations.push(AttestationStatement {
                        id: Uuid::new_v5(&Uuid::NAMESPACE_OID, name.as_bytes()),
                        key: v.key,
                        holds: v.holds,
                        stated_on: v.stated_on,
                        valid_until: v.valid_until,
                        document_ref: v.document_ref,
                        remark: v.remark,
                        source: AttestationSource::Office,
                        recorded_at: DateTime::<Utc>::MIN_UTC,
                    })
                }
                Err(es) => errors.extend(es.into_iter().map(|mut e| {
                    e.field = format!("attestations[{i}].{}", e.field);
                    e
                })),
            }
        }
        for (y, t) in &self.tier_inputs {
            match t.validate(*y, &format!("tier_inputs.{y}"), InputSource::Office, today) {
                Ok(v) => out.tier_inputs.push(v),
                Err(es) => errors.extend(es),
            }
        }
        if errors.is_empty() { Ok(out) } else { Err(errors) }
    }
}

/// One firm's validated inputs from an import.
#[derive(Debug, Clone, Default)]
pub struct FirmInputsBatch {
    pub share_capital: Vec<ShareCapitalEntry>,
    pub market_value_estimates: Vec<MarketValueEstimate>,
    pub equity_financings: Option<EquityFinancingRecord>,
    pub tier_recognitions: Vec<TierRecognition>,
    pub attestations: Vec<AttestationStatement>,
    pub tier_inputs: Vec<TierInputs>,
}

impl FirmInputsBatch {
    pub fn is_empty(&self) -> bool {
        self.share_capital.is_empty()
            && self.market_value_estimates.is_empty()
            && self.equity_financings.is_none()
            && self.tier_recognitions.is_empty()
            && self.attestations.is_empty()
            && self.tier_inputs.is_empty()
    }

    /// Adds another row's inputs of the same firm. Firm-level values repeated on each row (the
    /// CSV layout) are taken once; a date, tier or fiscal year given again with another value (or
    /// a second financing record) is refused, naming it.
    pub fn merge(&mut self, other: FirmInputsBatch) -> Result<(), Vec<FieldError>> {
        fn add<T: PartialEq>(
            into: &mut Vec<T>,
            items: Vec<T>,
            same_key: impl Fn(&T, &T) -> bool,
            field: &str,
            what: impl Fn(&T) -> String,
            errors: &mut Vec<FieldError>,
        ) {
            for item in items {
                match into.iter().find(|x| same_key(x, &item)) {
                    Some(x) if *x == item => {}
                    Some(_) => errors.push(FieldError::new(
                        field,
                        "conflict",
                        format!("{} is given twice for this firm with different values", what(&item)),
                    )),
                    None => into.push(item),
                }
            }
        }
        let mut errors = Vec::new();
        let mut merged = self.clone();
        add(
            &mut merged.share_capital,
            other.share_capital,
            |a, b| a.effective_on == b.effective_on,
            "share_capital",
            |e| e.effective_on.to_string(),
            &mut errors,
        );
        add(
            &mut merged.market_value_estimates,
            other.market_value_estimates,
            |a, b| a.estimated_on == b.estimated_on,
            "market_value_estimates",
            |e| e.estimated_on.to_string(),
            &mut errors,
        );
        add(
            &mut merged.tier_recognitions,
            other.tier_recognitions,
            |a, b| a.tier == b.tier,
            "tier_recognitions",
            |e| e.tier.to_string(),
            &mut errors,
        );
        add(
            &mut merged.tier_inputs,
            other.tier_inputs,
            |a, b| a.fiscal_year == b.fiscal_year,
            "tier_inputs",
            |e| e.fiscal_year.to_string(),
            &mut errors,
        );
        add(
            &mut merged.attestations,
            other.attestations,
            |a, b| a.id == b.id,
            "attestations",
            |e| e.key.clone(),
            &mut errors,
        );
        match (&merged.equity_financings, other.equity_financings) {
            (Some(_), Some(_)) => errors.push(FieldError::new(
                "equity_financings",
                "conflict",
                "the financing record is given twice for this firm",
            )),
            (None, Some(r)) => merged.equity_financings = Some(r),
            _ => {}
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        *self = merged;
        Ok(())
    }
}

/// Writes the imported inputs of firms known by credit code, in the import's transaction.
/// Dated entries and years are upserted; a financing record given replaces the firm's.
/// Returns how many rows were written.
#[tracing::instrument(skip_all)]
pub async fn write_imported(
    conn: &mut Conn,
    dialect: Dialect,
    batches: &[(&str, &FirmInputsBatch)],
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let batches: Vec<&(&str, &FirmInputsBatch)> = batches.iter().filter(|(_, b)| !b.is_empty()).collect();
    if batches.is_empty() {
        return Ok(0);
    }
    let codes: Vec<&str> = batches.iter().map(|(c, _)| *c).collect();
    let ids: HashMap<String, FirmId> = store::ids_by_code(conn, dialect, &codes).await?;
    let mut share_capital = Vec::new();
    let mut estimates = Vec::new();
    let mut financings = Vec::new();
    let mut recognitions = Vec::new();
    let mut attestations = Vec::new();
    let mut tier_inputs = Vec::new();
    let stamped: Vec<(FirmId, AttestationStatement)> = batches
        .iter()
        .filter_map(|(code, b)| ids.get(*code).map(|id| (*id, b)))
        .flat_map(|(id, b)| {
            b.attestations.iter().map(move |s| (id, AttestationStatement { recorded_at: now, ..s.clone() }))
        })
        .collect();
    for (code, b) in &batches {
        let Some(id) = ids.get(*code).copied() else { continue };
        share_capital.extend(b.share_capital.iter().map(|e| (id, e)));
        estimates.extend(b.market_value_estimates.iter().map(|e| (id, e)));
        if let Some(r) = &b.equity_financings {
            financings.push((id, r));
        }
        recognitions.extend(b.tier_recognitions.iter().map(|e| (id, e)));
        tier_inputs.extend(b.tier_inputs.iter().map(|e| (id, e)));
    }
    attestations.extend(stamped.iter().map(|(id, s)| (*id, s, None)));
    let mut written = 0;
    written += store::upsert_share_capital(conn, dialect, &share_capital, now).await?;
    written += store::upsert_estimates(conn, dialect, &estimates, now).await?;
    written += store::replace_financings(conn, dialect, &financings, InputSource::Office, now).await?;
    written += store::upsert_recognitions(conn, dialect, &recognitions, now).await?;
    written += store::insert_attestations(conn, dialect, &attestations).await?;
    written += store::upsert_tier_inputs(conn, dialect, &tier_inputs, now).await?;
    Ok(written)
}
