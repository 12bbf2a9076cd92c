//! Validating a product draft and its eligibility into terms, with the industry-code and money
//! checks they share.

use super::*;

impl ProductDraft {
    /// Checks every field and returns the normalised terms, or every problem found, each naming
    /// its field (`eligibility.industry_prefixes.1`, …) with a stable `code`.
    pub fn validate(&self) -> Result<ProductTerms, Vec<FieldError>> {
        let mut e = Errors::default();

        let name = match self.name.as_deref().map(str::trim) {
            None => {
                e.add("name", "required", "is required");
                None
            }
            Some("") => {
                e.add("name", "invalid", "must not be blank");
                None
            }
            Some(n) if n.chars().count() > MAX_NAME_CHARS => {
                e.add("name", "too_long", format!("must be at most {MAX_NAME_CHARS} characters"));
                None
            }
            Some(n) => Some(n.to_owned()),
        };
        if self.kind.is_none() {
            e.add("kind", "required", "is required");
        }

        let amount_min = self.amount_min.and_then(|a| positive_money(&mut e, "amount_min", a));
        let amount_max = match self.amount_max {
            None => {
                e.add("amount_max", "required", "is required");
                None
            }
            Some(a) => positive_money(&mut e, "amount_max", a),
        };
        if let (Some(lo), Some(hi)) = (amount_min, amount_max)
            && lo > hi
        {
            e.add("amount_min", "out_of_range", format!("must not exceed amount_max ({hi})"));
        }

        let term_min = self.term_months_min.and_then(|t| term(&mut e, "term_months_min", t));
        let term_max = match self.term_months_max {
            None => {
                e.add("term_months_max", "required", "is required");
                None
            }
            Some(t) => term(&mut e, "term_months_max", t),
        };
        if let (Some(lo), Some(hi)) = (term_min, term_max)
            && lo > hi
        {
            e.add("term_months_min", "out_of_range", format!("must not exceed term_months_max ({hi})"));
        }

        let pricing = self.pricing(&mut e);

        if self.collateral.is_empty() {
            e.add("collateral", "required", "list at least one accepted form, e.g. [\"credit\"]");
        }
        let collateral = sorted_unique(&self.collateral);

        let eligibility = self.eligibility.validated(&mut e, "eligibility");

        if let (Some(from), Some(to)) = (self.valid_from, self.valid_to)
            && from > to
        {
            e.add("valid_to", "out_of_range", format!("must not be before valid_from ({from})"));
        }

        match (name, self.kind, amount_max, term_max, pricing) {
            (Some(name), Some(kind), Some(amount_max), Some(term_months_max), Some(pricing)) if e.is_empty() => {
                Ok(ProductTerms {
                    name,
                    kind,
                    amount_min,
                    amount_max,
                    term_months_min: term_min,
                    term_months_max,
                    pricing,
                    collateral,
                    eligibility,
                    valid_from: self.valid_from,
                    valid_to: self.valid_to,
                })
            }
            _ => Err(e.list),
        }
    }

    fn pricing(&self, e: &mut Errors) -> Option<RatePricing> {
        match (self.rate_spread_bp, self.fixed_rate) {
            (None, None) => {
                e.add("rate_spread_bp", "required", "give rate_spread_bp (over the LPR) or fixed_rate");
                if self.lpr_tenor.is_some() {
                    e.add("lpr_tenor", "not_allowed", "only applies with rate_spread_bp");
                }
                None
            }
            (Some(_), Some(_)) => {
                e.add("fixed_rate", "conflict", "give either rate_spread_bp or fixed_rate, not both");
                None
            }
            (Some(bp), None) => {
                if !(MIN_SPREAD_BP..=MAX_SPREAD_BP).contains(&bp) {
                    e.add(
                        "rate_spread_bp",
                        "out_of_range",
                        format!("must be between {MIN_SPREAD_BP} and {MAX_SPREAD_BP} basis points (1 bp = 0.01 %)"),
                    );
                    return None;
                }
                let tenor = self.lpr_tenor.unwrap_or(LprTenor::OneYear);
                Some(RatePricing::LprSpread { tenor, spread_bp: bp })
            }
            (None, Some(rate)) => {
                if self.lpr_tenor.is_some() {
                    e.add("lpr_tenor", "not_allowed", "only applies with rate_spread_bp");
                }
                rate_percent(e, "fixed_rate", rate).map(|rate_percent| RatePricing::Fixed { rate_percent })
            }
        }
    }
}

impl Eligibility {
    /// Adds any problems under `prefix` and returns the normalised rules (checked or not: the
    /// caller only uses them when no error was added).
    pub fn validated(&self, e: &mut Errors, prefix: &str) -> Eligibility {
        let field = |name: &str| format!("{prefix}.{name}");

        if let Some(y) = self.min_years_in_operation
            && !(0..=MAX_YEARS_IN_OPERATION).contains(&y)
        {
            e.add(
                &field("min_years_in_operation"),
                "out_of_range",
                format!("must be between 0 and {MAX_YEARS_IN_OPERATION}"),
            );
        }
        let min_revenue = self.min_revenue.and_then(|r| {
            let r = money(e, &field("min_revenue"), r)?;
            if r.is_sign_negative() && !r.is_zero() {
                e.add(&field("min_revenue"), "out_of_range", "must not be negative");
                return None;
            }
            Some(r)
        });
        if let Some(r) = self.min_rd_ratio {
            let r = r.normalize();
            if r.scale() > 6 {
                e.add(&field("min_rd_ratio"), "invalid", "must have at most 6 decimal places");
            } else if r > Decimal::ONE && r <= Decimal::ONE_HUNDRED {
                e.add(
                    &field("min_rd_ratio"),
                    "out_of_range",
                    format!(
                        "is a fraction between 0 and 1: for {r} % give \"{}\"",
                        (r / Decimal::ONE_HUNDRED).normalize()
                    ),
                );
            } else if r.is_sign_negative() || r > Decimal::ONE {
                e.add(&field("min_rd_ratio"), "out_of_range", "must be between 0 and 1 (e.g. \"0.03\" for 3 %)");
            }
        }
        if let Some(p) = self.min_invention_patents
            && !(0..=MAX_INVENTION_PATENTS).contains(&p)
        {
            e.add(
                &field("min_invention_patents"),
                "out_of_range",
                format!("must be between 0 and {MAX_INVENTION_PATENTS}"),
            );
        }

        let mut prefixes = Vec::with_capacity(self.industry_prefixes.len());
        for (i, raw) in self.industry_prefixes.iter().enumerate() {
            let p = raw.trim().to_ascii_uppercase();
            match industry_prefix_problem(&p) {
                Some(msg) => e.add(&format!("{prefix}.industry_prefixes.{i}"), "invalid", format!("{raw:?} {msg}")),
                None => prefixes.push(p),
            }
        }
        prefixes.sort();
        prefixes.dedup();

        Eligibility {
            tiers: sorted_unique(&self.tiers),
            min_years_in_operation: self.min_years_in_operation,
            min_revenue: min_revenue.or(self.min_revenue),
            min_rd_ratio: self.min_rd_ratio.map(|r| r.normalize()),
            min_invention_patents: self.min_invention_patents,
            tax_credit_grades: sorted_unique(&self.tax_credit_grades),
            cities: sorted_unique(&self.cities),
            industry_prefixes: prefixes,
            reserve_pool_only: self.reserve_pool_only,
            lead_bank_only: self.lead_bank_only,
            target_venues: sorted_unique(&self.target_venues),
        }
    }
}

/// GB/T 4754-2017 sections and the two-digit divisions each spans.
const SECTIONS: [(u8, u8, u8); 20] = [
    (b'A', 1, 5),
    (b'B', 6, 12),
    (b'C', 13, 43),
    (b'D', 44, 46),
    (b'E', 47, 50),
    (b'F', 51, 52),
    (b'G', 53, 60),
    (b'H', 61, 62),
    (b'I', 63, 65),
    (b'J', 66, 69),
    (b'K', 70, 70),
    (b'L', 71, 72),
    (b'M', 73, 75),
    (b'N', 76, 79),
    (b'O', 80, 82),
    (b'P', 83, 83),
    (b'Q', 84, 85),
    (b'R', 86, 90),
    (b'S', 91, 96),
    (b'T', 97, 97),
];

/// The section letter of a GB/T 4754-2017 division (`35` → `C`).
pub fn industry_section(division: u8) -> Option<char> {
    SECTIONS.iter().find(|(_, lo, hi)| (*lo..=*hi).contains(&division)).map(|(s, _, _)| char::from(*s))
}

/// `None` when `p` (already trimmed and upper-cased) is a usable prefix, else why not.
/// One digit is refused: "C3" is no level of the classification and is almost always a typo.
fn industry_prefix_problem(p: &str) -> Option<String> {
    let b = p.as_bytes();
    let Some((&section, digits)) = b.split_first() else {
        return Some("must not be blank".to_owned());
    };
    if !SECTIONS.iter().any(|(s, _, _)| *s == section) {
        return Some("must start with a GB/T 4754 section letter A–T, e.g. \"C35\"".to_owned());
    }
    if !digits.iter().all(u8::is_ascii_digit) || !matches!(digits.len(), 0 | 2 | 3 | 4) {
        return Some(
            "must be a section letter followed by 2, 3 or 4 digits (or none), e.g. \"C\", \"C35\", \"C3562\""
                .to_owned(),
        );
    }
    if let [d1, d2, ..] = digits {
        let division = (d1 - b'0') * 10 + (d2 - b'0');
        match industry_section(division) {
            Some(s) if s == char::from(section) => {}
            Some(s) => {
                return Some(format!(
                    "names division {division:02}, which belongs to section {s}, not {}",
                    char::from(section)
                ));
            }
            None => {
                return Some(format!("names division {division:02}, which does not exist"));
            }
        }
    }
    None
}

fn sorted_unique<T: Ord + Copy>(items: &[T]) -> Vec<T> {
    let mut v = items.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

/// Money in yuan: at most two decimal places and within the service-wide limit; rescaled so it
/// always serialises as `"12500000.00"`.
pub(super) fn money(e: &mut Errors, field: &str, amount: Decimal) -> Option<Decimal> {
    if amount.normalize().scale() > 2 {
        e.add(field, "invalid", "must have at most two decimal places (fen)");
        return None;
    }
    if amount.abs() > MONEY_LIMIT {
        e.add(field, "out_of_range", "is implausibly large");
        return None;
    }
    let mut a = amount.normalize();
    a.rescale(2);
    Some(a)
}

pub(crate) fn positive_money(e: &mut Errors, field: &str, amount: Decimal) -> Option<Decimal> {
    let a = money(e, field, amount)?;
    if a <= Decimal::ZERO {
        e.add(field, "out_of_range", "must be greater than zero");
        return None;
    }
    Some(a)
}

pub(super) fn term(e: &mut Errors, field: &str, months: i32) -> Option<i32> {
    if (1..=MAX_TERM_MONTHS).contains(&months) {
        Some(months)
    } else {
        e.add(field, "out_of_range", format!("must be between 1 and {MAX_TERM_MONTHS} months"));
        None
    }
}

/// An annual rate in percent: above zero, at most [`MAX_RATE_PERCENT`], at most 4 decimals.
pub(crate) fn rate_percent(e: &mut Errors, field: &str, rate: Decimal) -> Option<Decimal> {
    let r = rate.normalize();
    if r.scale() > 4 {
        e.add(field, "invalid", "must have at most 4 decimal places");
        return None;
    }
    if r <= Decimal::ZERO || r > MAX_RATE_PERCENT {
        e.add(
            field,
            "out_of_range",
            format!("is an annual rate in percent, above 0 and at most {MAX_RATE_PERCENT} (e.g. \"3.45\")"),
        );
        return None;
    }
    Some(r)
}
