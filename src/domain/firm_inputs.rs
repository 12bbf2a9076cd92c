//! Facts about a firm that the registry keeps beside its record and yearly financials because the
//! listing standards, the MIIT tier scheme and the programme statistics read them:
//!
//! * share capital (股本总额) and market-value estimates (预计市值), each a dated history, so that
//!   an evaluation on a past date uses the figure valid then;
//! * equity financing rounds (dated, with amount and, where known, the post-money valuation), and
//!   the date through which the list of rounds is known to be complete;
//! * attestations: dated statements that a qualitative condition holds or not, attributed to the
//!   office or, when a firm makes them, marked self-declared;
//! * the tier scheme's scoring inputs, per fiscal year;
//! * the year each tier was first recognised (the office records these).
//!
//! This module holds the stored shapes, the validation of what arrives (every bad field named,
//! with its path), and the pure rules that pick the value in force on a date.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::firm::{Tier, vocabulary};
use crate::domain::investment::InvestmentRound;
use crate::domain::readiness::{IpClass, NicheShareRank, ProductChainRole, ProvincialKeyIndustry, RdInstitutionLevel};
use crate::domain::validate::{Errors, FieldError};

mod input;
pub use input::*;

/// Longest document reference (a filing number, a registry extract id, a file name).
const DOCUMENT_REF_CHARS: usize = 200;
const REMARK_CHARS: usize = 2000;
/// More rounds or dated entries than any SME has; bounds the work one request can ask for.
const MAX_ENTRIES: usize = 200;

vocabulary!(
    /// Who recorded a figure: the office, the firm itself, or (for market-value estimates) the
    /// `expected_market_value` field of the firm record, dated the day it was written.
    InputSource {
        Office = "office" / "主管部门录入",
        Firm = "firm" / "企业填报",
        FirmRecord = "firm_record" / "企业档案字段",
    }
);

vocabulary!(
    /// Who made an attestation. A firm's own statement counts but is marked as self-declared
    /// until the office states on the same key.
    AttestationSource {
        Office = "office" / "主管部门确认",
        SelfDeclared = "self_declared" / "企业自我声明（未经确认）",
    }
);

vocabulary!(
    /// Kind of investor in an equity round.
    InvestorKind {
        GovernmentFund = "government_fund" / "政府投资基金",
        VcPe = "vc_pe" / "创业投资/私募股权基金",
        IndustrialCapital = "industrial_capital" / "产业资本",
        Individual = "individual" / "个人投资者",
        EmployeeVehicle = "employee_vehicle" / "员工持股平台",
        Other = "other" / "其他",
    }
);

/// Share capital from a date on (a capital increase or decrease starts a new entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ShareCapitalEntry {
    pub effective_on: NaiveDate,
    /// Yuan.
    #[schema(value_type = String, example = "30000000.00")]
    pub amount: Decimal,
    pub document_ref: Option<String>,
    pub source: InputSource,
}

/// An estimate of the firm's market value (预计市值) made on a date, e.g. by a sponsor broker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MarketValueEstimate {
    pub estimated_on: NaiveDate,
    #[schema(value_type = String, example = "800000000.00")]
    pub amount: Decimal,
    /// How it was estimated (sponsor's estimate, placement price, comparable firms …).
    pub basis: Option<String>,
    pub document_ref: Option<String>,
    pub source: InputSource,
}

/// One equity financing round as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EquityRound {
    pub id: Uuid,
    pub paid_in_on: NaiveDate,
    #[schema(value_type = String, example = "20000000.00")]
    pub amount: Decimal,
    /// Post-money valuation at the round's price, where known.
    #[schema(value_type = Option<String>, example = "300000000.00")]
    pub post_money_valuation: Option<Decimal>,
    pub round: Option<InvestmentRound>,
    pub investor: Option<String>,
    pub investor_kind: Option<InvestorKind>,
    /// Paid in by qualified institutional investors (合格机构投资者), as the MIIT scheme counts.
    pub by_qualified_institution: bool,
    pub document_ref: Option<String>,
    pub source: InputSource,
}

/// The firm's equity rounds, and the date through which the list is known to be complete.
/// Without that date the rounds are a lower bound: a financing test they already pass is met,
/// one they fail is unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EquityFinancingRecord {
    pub complete_through: Option<NaiveDate>,
    pub rounds: Vec<EquityRound>,
}

/// The year a tier was first recognised (认定年份); renewals do not change it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TierRecognition {
    pub tier: Tier,
    pub recognized_year: i32,
    pub document_ref: Option<String>,
}

/// A dated statement that a qualitative condition (a key the rule data names) holds or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AttestationStatement {
    pub id: Uuid,
    pub key: String,
    pub holds: bool,
    /// The statement speaks from this date on.
    pub stated_on: NaiveDate,
    /// Last day it speaks for (inclusive), e.g. a certificate's expiry; `null`: until superseded.
    pub valid_until: Option<NaiveDate>,
    pub document_ref: Option<String>,
    pub remark: Option<String>,
    pub source: AttestationSource,
    pub recorded_at: DateTime<Utc>,
}

/// The tier scheme's scoring inputs for one fiscal year (上年度 in the scheme's wording).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TierInputs {
    pub fiscal_year: i32,
    pub ip_best_class: Option<IpClass>,
    /// Class-I IPs related to the main product, in use and earning (小巨人 needs ≥ 2).
    pub class_i_ip_in_use: Option<i64>,
    pub strategic_emerging_industry: Option<bool>,
    /// Years in the specific niche market at the end of the fiscal year.
    #[schema(value_type = Option<String>, example = "6")]
    pub niche_market_years: Option<Decimal>,
    pub product_chain_role: Option<ProductChainRole>,
    /// MIIT SME digitalisation level (中小企业数字化水平评测), 1–4.
    pub digitalisation_level: Option<i64>,
    /// How many of: provincial quality award, ISO9001-type certification, own brand,
    /// standard-setting participation (0–4).
    pub quality_items: Option<i64>,
    pub rd_institution_level: Option<RdInstitutionLevel>,
    /// Main product's national niche market share, percent.
    #[schema(value_type = Option<String>, example = "12.5")]
    pub national_niche_market_share: Option<Decimal>,
    /// Shandong 特色化 item 9.
    pub provincial_key_industry: Option<ProvincialKeyIndustry>,
    /// Shandong 特色化 item 10: how many of the six "innovative production & operation" items (0–6).
    pub innovative_operation_items: Option<i64>,
    /// Shandong 特色化 item 11.
    pub niche_share_rank: Option<NicheShareRank>,
    /// Core business systems migrated to the cloud (业务系统上云), for the plan's 上云率.
    pub cloud_migrated: Option<bool>,
    /// Supplies a provincial key industrial chain (为省重点产业链配套), for the plan's 配套率.
    pub key_chain_supplier: Option<bool>,
    pub source: Option<InputSource>,
}

/// Everything a firm has on record beyond its registry fields and financials.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FirmRecords {
    /// Oldest first.
    pub share_capital: Vec<ShareCapitalEntry>,
    /// Oldest first.
    pub market_value_estimates: Vec<MarketValueEstimate>,
    /// `null` while nothing is recorded about equity financing.
    pub equity_financings: Option<EquityFinancingRecord>,
    pub tier_recognitions: Vec<TierRecognition>,
    /// Every statement ever made, oldest first; the one in force on a date is picked by
    /// [`attestation_in_force`].
    pub attestations: Vec<AttestationStatement>,
    /// Oldest fiscal year first.
    pub tier_inputs: Vec<TierInputs>,
}

/// The latest entry dated on or before `date` (entries in any order).
pub fn share_capital_on(entries: &[ShareCapitalEntry], date: NaiveDate) -> Option<&ShareCapitalEntry> {
    entries.iter().filter(|e| e.effective_on <= date).max_by_key(|e| e.effective_on)
}

/// The latest estimate made on or before `date`: an evaluation on a past date never sees a
/// later estimate.
pub fn estimate_on(estimates: &[MarketValueEstimate], date: NaiveDate) -> Option<&MarketValueEstimate> {
    estimates.iter().filter(|e| e.estimated_on <= date).max_by_key(|e| e.estimated_on)
}

/// The statement on `key` that speaks for `date`: among those stated on or before it and not
/// expired, the latest; on the same day the office's word wins over a self-declaration, then the
/// later recorded.
pub fn attestation_in_force<'a>(
    statements: &'a [AttestationStatement],
    key: &str,
    date: NaiveDate,
) -> Option<&'a AttestationStatement> {
    statements
        .iter()
        .filter(|s| s.key == key && s.stated_on <= date && s.valid_until.is_none_or(|u| date <= u))
        .max_by_key(|s| (s.stated_on, s.source == AttestationSource::Office, s.recorded_at))
}

/// A registry record for tests of what is evaluated from records.
#[cfg(test)]
pub(crate) fn test_firm(tier: Option<Tier>, founded_on: &str, in_reserve_pool: bool) -> crate::domain::firm::Firm {
    crate::domain::firm::Firm {
        id: crate::domain::ids::FirmId::from_uuid(Uuid::nil()),
        credit_code: "91370100MA3C00001H".to_owned(),
        name: "济南示例科技股份有限公司".to_owned(),
        city: crate::domain::firm::City::Jinan,
        district: None,
        industry_code: "C3562".to_owned(),
        tier,
        tier_recognized_year: tier.map(|_| 2021),
        founded_on: founded_on.parse().ok(),
        expected_market_value: None,
        neeq_listed_on: None,
        neeq_layer: None,
        tax_credit_grade: None,
        lead_bank_id: None,
        contact_name: None,
        contact_email: None,
        contact_phone: None,
        in_reserve_pool,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

#[cfg(test)]
mod tests;
