//! Loan products: what a partner bank offers, on which terms, and to whom. Eligibility is data
//! (see [`Eligibility`]) so that banks can publish products without code changes and the
//! matching engine (`domain::matching`) can explain every verdict rule by rule.
//!
//! Conventions fixed here:
//! - money is yuan as `Decimal` with at most two decimal places (fen);
//! - `min_rd_ratio` is a **fraction** (`0.03` = 3 %), because the reference data and the
//!   专精特新 criteria state it as R&D expense ÷ revenue; a percent-looking value (> 1) is refused
//!   with a hint rather than guessed at;
//! - rates are annual **percent** (`3.45` = 3.45 % p.a.), as banks and the LPR fixings quote them;
//!   spreads are basis points (1 bp = 0.01 percentage point) and may be negative.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::firm::{City, TaxCreditGrade, Tier, Venue, vocabulary};
use crate::domain::ids::BankId;
use crate::domain::validate::{Errors, FieldError, MONEY_LIMIT};

mod validate;
pub use validate::*;

vocabulary!(
    /// Product families: the five named in the Shandong plan (task 19), receivables finance, and
    /// ordinary inclusive SME credit that SRDI firms also qualify for.
    ProductKind {
        SrdiLoan = "srdi_loan" / "专精特新贷",
        LittleGiantLoan = "little_giant_loan" / "\"小巨人\"贷",
        ProjectLoan = "project_loan" / "中长期项目贷",
        EmergencyCredit = "emergency_credit" / "信用应急贷",
        PatentLoan = "patent_loan" / "专利创新贷",
        Receivables = "receivables" / "应收账款融资",
        GeneralSme = "general_sme" / "普惠小微/中小企业贷",
    }
);

vocabulary!(
    /// A form of security a product accepts. Products list every form they accept, because real
    /// products do ("credit up to 100万, collateral above it"; "credit or IP pledge").
    Collateral {
        Credit = "credit" / "信用（免抵押担保）",
        Guarantee = "guarantee" / "保证担保",
        GovGuarantee = "gov_guarantee" / "政府性融资担保",
        IpPledge = "ip_pledge" / "知识产权质押",
        ReceivablesPledge = "receivables_pledge" / "应收账款质押",
        Mortgage = "mortgage" / "抵押",
    }
);

vocabulary!(
    /// Which Loan Prime Rate a floating price refers to.
    LprTenor {
        OneYear = "one_year" / "1年期LPR",
        FiveYear = "five_year" / "5年期以上LPR",
    }
);

/// Longest term accepted, in months (30 years): beyond any SME credit product.
pub const MAX_TERM_MONTHS: i32 = 360;
/// Spread bounds in basis points. Quoted SRDI rates sit up to ~100 bp under the 1-year LPR and
/// caps are "LPR + 30 %"; the bounds leave room for both while catching unit mistakes
/// (e.g. a percent typed as bp).
pub const MIN_SPREAD_BP: i32 = -300;
pub const MAX_SPREAD_BP: i32 = 1_000;
/// Highest annual rate in percent accepted for a fixed price or an approval: 24 % is the old
/// judicial protection line for private lending, far above any bank SME product.
pub const MAX_RATE_PERCENT: Decimal = Decimal::from_parts(24, 0, 0, false, 0);
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_YEARS_IN_OPERATION: i32 = 50;
pub const MAX_INVENTION_PATENTS: i32 = 100_000;

/// How a product is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "basis", rename_all = "snake_case")]
pub enum RatePricing {
    /// LPR of `tenor` on the loan's pricing date plus `spread_bp` (negative = below LPR).
    LprSpread { tenor: LprTenor, spread_bp: i32 },
    /// A fixed annual rate in percent.
    Fixed { rate_percent: Decimal },
}

impl RatePricing {
    /// The API spelling: `rate_spread_bp` + `lpr_tenor`, or `fixed_rate`.
    pub fn wire(self) -> (Option<i32>, Option<LprTenor>, Option<Decimal>) {
        match self {
            RatePricing::LprSpread { tenor, spread_bp } => (Some(spread_bp), Some(tenor), None),
            RatePricing::Fixed { rate_percent } => (None, None, Some(rate_percent)),
        }
    }
}

/// One published LPR fixing (the PBOC publishes both tenors together, monthly). Values in percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LprFixing {
    pub effective_on: NaiveDate,
    #[schema(value_type = String, example = "3.00")]
    pub one_year: Decimal,
    #[schema(value_type = String, example = "3.50")]
    pub five_year: Decimal,
}

/// The fixing in force on `date`: the latest one effective on or before it. The table may be in
/// any order; `None` when `date` precedes every fixing.
pub fn lpr_on(table: &[LprFixing], date: NaiveDate) -> Option<&LprFixing> {
    table.iter().filter(|f| f.effective_on <= date).max_by_key(|f| f.effective_on)
}

/// Annual rate in percent that `pricing` yields under `lpr`. Not clamped at zero: validated
/// spreads and real fixings cannot get there, and a silent clamp would hide bad table data.
pub fn effective_rate(pricing: &RatePricing, lpr: &LprFixing) -> Decimal {
    match *pricing {
        RatePricing::LprSpread { tenor, spread_bp } => {
            let base = match tenor {
                LprTenor::OneYear => lpr.one_year,
                LprTenor::FiveYear => lpr.five_year,
            };
            base + Decimal::new(i64::from(spread_bp), 2)
        }
        RatePricing::Fixed { rate_percent } => rate_percent,
    }
}

/// Who a product is for. Every field is optional: an empty list, `null` or `false` means "no
/// constraint". Tiers follow the MIIT ladder: a firm at a higher tier than a listed one also
/// qualifies, since each tier is recognised from the one below it (every 小巨人 is a 专精特新 firm).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Eligibility {
    /// Accepted tiers (any of; higher tiers implied).
    pub tiers: Vec<Tier>,
    /// Full years since `founded_on`, counted from the anniversary.
    #[schema(example = 2)]
    pub min_years_in_operation: Option<i32>,
    /// Latest fiscal year's revenue, yuan.
    #[schema(value_type = Option<String>, example = "10000000.00")]
    pub min_revenue: Option<Decimal>,
    /// R&D expense ÷ revenue of the latest fiscal year, as a fraction: `"0.03"` = 3 %.
    #[schema(value_type = Option<String>, example = "0.03")]
    pub min_rd_ratio: Option<Decimal>,
    #[schema(example = 1)]
    pub min_invention_patents: Option<i32>,
    /// Accepted 纳税信用等级 (any of; no ladder, since M is not ranked against B or C).
    pub tax_credit_grades: Vec<TaxCreditGrade>,
    pub cities: Vec<City>,
    /// GB/T 4754-2017 code prefixes: a section letter plus 0, 2, 3 or 4 digits, e.g. `C`, `C35`,
    /// `C3562`. A firm qualifies when its industry code starts with any of them.
    #[schema(example = json!(["C35", "I65"]))]
    pub industry_prefixes: Vec<String>,
    /// Only firms in the listing reserve pool (上市后备资源库).
    pub reserve_pool_only: bool,
    /// Only firms whose 主办行 (lead bank) is the bank offering the product.
    pub lead_bank_only: bool,
    /// Only firms targeting one of these listing venues (e.g. pre-IPO credit).
    pub target_venues: Vec<Venue>,
}

/// A product as a bank submits it (create or full replace). Everything is optional here so that
/// [`ProductDraft::validate`] can report every missing or bad field at once instead of failing
/// on the first one during deserialisation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ProductDraft {
    #[schema(example = "专精特新贷")]
    pub name: Option<String>,
    pub kind: Option<ProductKind>,
    /// Yuan; omit for no minimum.
    #[schema(value_type = Option<String>, example = "500000.00")]
    pub amount_min: Option<Decimal>,
    #[schema(value_type = Option<String>, example = "10000000.00")]
    pub amount_max: Option<Decimal>,
    /// Omit for 1.
    #[schema(example = 6)]
    pub term_months_min: Option<i32>,
    #[schema(example = 36)]
    pub term_months_max: Option<i32>,
    /// Spread over the LPR in basis points, may be negative. Give this or `fixed_rate`.
    #[schema(example = -20)]
    pub rate_spread_bp: Option<i32>,
    /// Which LPR the spread refers to; only with `rate_spread_bp`. Omit for `one_year`.
    pub lpr_tenor: Option<LprTenor>,
    /// Fixed annual rate in percent, e.g. `"3.45"`. Give this or `rate_spread_bp`.
    #[schema(value_type = Option<String>, example = "3.45")]
    pub fixed_rate: Option<Decimal>,
    /// Accepted forms of security, at least one.
    pub collateral: Vec<Collateral>,
    pub eligibility: Eligibility,
    /// First day the product may be matched and applied for (inclusive); omit for "already".
    pub valid_from: Option<NaiveDate>,
    /// Last day (inclusive); omit for open-ended.
    pub valid_to: Option<NaiveDate>,
}

/// A validated product, as the domain uses it. Money is rescaled to two decimal places, lists
/// are sorted and de-duplicated, industry prefixes upper-cased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductTerms {
    pub name: String,
    pub kind: ProductKind,
    pub amount_min: Option<Decimal>,
    pub amount_max: Decimal,
    pub term_months_min: Option<i32>,
    pub term_months_max: i32,
    pub pricing: RatePricing,
    pub collateral: Vec<Collateral>,
    pub eligibility: Eligibility,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

impl ProductTerms {
    /// Whether `date` lies in the validity window (both ends inclusive).
    pub fn is_open_on(&self, date: NaiveDate) -> bool {
        within(date, self.valid_from, self.valid_to)
    }

    /// Inclusive amount range in yuan; no minimum reads as zero.
    pub fn amount_range(&self) -> (Decimal, Decimal) {
        (self.amount_min.unwrap_or(Decimal::ZERO), self.amount_max)
    }

    /// Inclusive term range in months; no minimum reads as one month.
    pub fn term_range(&self) -> (i32, i32) {
        (self.term_months_min.unwrap_or(1), self.term_months_max)
    }
}

pub(crate) fn within(date: NaiveDate, from: Option<NaiveDate>, to: Option<NaiveDate>) -> bool {
    from.is_none_or(|f| f <= date) && to.is_none_or(|t| date <= t)
}

impl From<&ProductTerms> for ProductDraft {
    fn from(t: &ProductTerms) -> Self {
        let (rate_spread_bp, lpr_tenor, fixed_rate) = t.pricing.wire();
        ProductDraft {
            name: Some(t.name.clone()),
            kind: Some(t.kind),
            amount_min: t.amount_min,
            amount_max: Some(t.amount_max),
            term_months_min: t.term_months_min,
            term_months_max: Some(t.term_months_max),
            rate_spread_bp,
            lpr_tenor,
            fixed_rate,
            collateral: t.collateral.clone(),
            eligibility: t.eligibility.clone(),
            valid_from: t.valid_from,
            valid_to: t.valid_to,
        }
    }
}

/// A product as the API returns it (the brief's field names). The store builds it from
/// [`ProductTerms`] plus identity and lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LoanProduct {
    pub id: Uuid,
    #[schema(value_type = Uuid)]
    pub bank_id: BankId,
    pub name: String,
    pub kind: ProductKind,
    #[schema(value_type = Option<String>, example = "500000.00")]
    pub amount_min: Option<Decimal>,
    #[schema(value_type = String, example = "10000000.00")]
    pub amount_max: Decimal,
    pub term_months_min: Option<i32>,
    pub term_months_max: i32,
    #[schema(example = -20)]
    pub rate_spread_bp: Option<i32>,
    pub lpr_tenor: Option<LprTenor>,
    #[schema(value_type = Option<String>, example = "3.45")]
    pub fixed_rate: Option<Decimal>,
    pub collateral: Vec<Collateral>,
    pub eligibility: Eligibility,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    /// Withdrawn products (`false`) are kept for history but never match.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl LoanProduct {
    pub fn new(
        id: Uuid,
        bank_id: BankId,
        terms: ProductTerms,
        active: bool,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    ) -> Self {
        let (rate_spread_bp, lpr_tenor, fixed_rate) = terms.pricing.wire();
        LoanProduct {
            id,
            bank_id,
            name: terms.name,
            kind: terms.kind,
            amount_min: terms.amount_min,
            amount_max: terms.amount_max,
            term_months_min: terms.term_months_min,
            term_months_max: terms.term_months_max,
            rate_spread_bp,
            lpr_tenor,
            fixed_rate,
            collateral: terms.collateral,
            eligibility: terms.eligibility,
            valid_from: terms.valid_from,
            valid_to: terms.valid_to,
            active,
            created_at,
            updated_at,
        }
    }

    /// The terms again, re-validated: a stored row that no longer passes (rules tightened since)
    /// surfaces as field errors instead of being trusted.
    pub fn terms(&self) -> Result<ProductTerms, Vec<FieldError>> {
        ProductDraft {
            name: Some(self.name.clone()),
            kind: Some(self.kind),
            amount_min: self.amount_min,
            amount_max: Some(self.amount_max),
            term_months_min: self.term_months_min,
            term_months_max: Some(self.term_months_max),
            rate_spread_bp: self.rate_spread_bp,
            lpr_tenor: self.lpr_tenor,
            fixed_rate: self.fixed_rate,
            collateral: self.collateral.clone(),
            eligibility: self.eligibility.clone(),
            valid_from: self.valid_from,
            valid_to: self.valid_to,
        }
        .validate()
    }
}

#[cfg(test)]
mod tests;
