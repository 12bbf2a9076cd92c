//! Firms, their yearly financials, and the closed vocabularies that describe them.
//! Enum values are the API / CSV / database spelling (snake_case); Chinese labels are for people.
//!
//! The vocabularies are in `vocabulary.rs`, the writable fields and their validation in `input.rs`,
//! the yearly financials in `financials.rs`.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::ids::{BankId, FirmId};

mod financials;
mod input;
mod vocabulary;

pub use financials::{FinancialYear, FinancialsInput};
pub use input::{FirmFields, FirmInput, parse_city, valid_industry_code};
pub(crate) use vocabulary::vocabulary;
pub use vocabulary::{City, NeeqLayer, TaxCreditGrade, Tier, Venue};

/// A firm as the registry holds it. Contact fields are confidential: never log them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Firm {
    #[schema(value_type = Uuid)]
    pub id: FirmId,
    pub credit_code: String,
    pub name: String,
    pub city: City,
    pub district: Option<String>,
    pub industry_code: String,
    pub tier: Option<Tier>,
    pub tier_recognized_year: Option<i32>,
    pub founded_on: Option<NaiveDate>,
    #[schema(value_type = Option<String>, example = "1500000000.00")]
    pub expected_market_value: Option<Decimal>,
    pub neeq_listed_on: Option<NaiveDate>,
    pub neeq_layer: Option<NeeqLayer>,
    pub tax_credit_grade: Option<TaxCreditGrade>,
    #[schema(value_type = Option<Uuid>)]
    pub lead_bank_id: Option<BankId>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub in_reserve_pool: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}
