//! Loan products as people are shown them: with the rate each gives today.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::product::{LoanProduct, LprFixing, effective_rate, lpr_on};

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
