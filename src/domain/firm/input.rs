//! A firm's writable fields as they arrive ([`FirmInput`]) and validated ([`FirmFields`]), and the
//! parsers validation uses for cities, industry codes and e-mail addresses.

use chrono::Datelike as _;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{City, Firm, NeeqLayer, TaxCreditGrade, Tier};

/// The writable fields of a firm as they arrive (API body, CSV row, JSON import item). Enums,
/// dates and money arrive as text so that validation can name every bad field at once.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FirmInput {
    #[schema(example = "91370100MA3C5X1U2K")]
    pub credit_code: Option<String>,
    pub name: Option<String>,
    /// One of the 16 city names, its Chinese name, or a GB/T 2260 code (3712xx, former 莱芜, is 济南).
    /// Omitted: taken from the credit code's region.
    #[schema(example = "jinan")]
    pub city: Option<String>,
    pub district: Option<String>,
    #[schema(example = "C3562")]
    pub industry_code: Option<String>,
    #[schema(example = "provincial_srdi")]
    pub tier: Option<String>,
    pub tier_recognized_year: Option<i32>,
    #[schema(example = "2012-05-18")]
    pub founded_on: Option<String>,
    #[schema(example = "1500000000.00")]
    pub expected_market_value: Option<String>,
    pub neeq_listed_on: Option<String>,
    pub neeq_layer: Option<String>,
    pub tax_credit_grade: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
}

/// A firm's validated writable fields.
#[derive(Debug, Clone, PartialEq)]
pub struct FirmFields {
    pub credit_code: String,
    pub name: String,
    pub city: City,
    pub district: Option<String>,
    pub industry_code: String,
    pub tier: Option<Tier>,
    pub tier_recognized_year: Option<i32>,
    pub founded_on: Option<NaiveDate>,
    pub expected_market_value: Option<Decimal>,
    pub neeq_listed_on: Option<NaiveDate>,
    pub neeq_layer: Option<NeeqLayer>,
    pub tax_credit_grade: Option<TaxCreditGrade>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
}

impl FirmFields {
    /// The recognitions that differ from `before`: the tier, its year and the tax credit grade
    /// are the office's to record (banks read them as fact), so an enterprise may not change them.
    pub fn changed_recognitions(&self, before: &FirmFields) -> Vec<&'static str> {
        [
            (self.tier != before.tier, "tier"),
            (self.tier_recognized_year != before.tier_recognized_year, "tier_recognized_year"),
            (self.tax_credit_grade != before.tax_credit_grade, "tax_credit_grade"),
        ]
        .into_iter()
        .filter_map(|(changed, name)| changed.then_some(name))
        .collect()
    }

    pub fn of(firm: &Firm) -> FirmFields {
        FirmFields {
            credit_code: firm.credit_code.clone(),
            name: firm.name.clone(),
            city: firm.city,
            district: firm.district.clone(),
            industry_code: firm.industry_code.clone(),
            tier: firm.tier,
            tier_recognized_year: firm.tier_recognized_year,
            founded_on: firm.founded_on,
            expected_market_value: firm.expected_market_value,
            neeq_listed_on: firm.neeq_listed_on,
            neeq_layer: firm.neeq_layer,
            tax_credit_grade: firm.tax_credit_grade,
            contact_name: firm.contact_name.clone(),
            contact_email: firm.contact_email.clone(),
            contact_phone: firm.contact_phone.clone(),
        }
    }
}

/// City from a wire name (`jinan`), a Chinese name (`济南`/`济南市`) or a GB/T 2260 code.
pub fn parse_city(input: &str) -> Option<City> {
    let s = input.trim();
    if let Ok(c) = s.parse::<City>() {
        return Some(c);
    }
    let lower = s.to_ascii_lowercase();
    if let Ok(c) = lower.parse::<City>() {
        return Some(c);
    }
    let zh = s.trim_end_matches('市');
    if zh == "莱芜" {
        return Some(City::Jinan);
    }
    if let Some(c) = City::ALL.iter().copied().find(|c| c.label_zh() == zh) {
        return Some(c);
    }
    if s.len() >= 4 && s.chars().all(|c| c.is_ascii_digit()) {
        return City::from_region_code(s);
    }
    None
}

/// GB/T 4754-2017 code: a section letter A–T, optionally followed by 2, 3 or 4 digits.
pub fn valid_industry_code(code: &str) -> bool {
    let mut chars = code.chars();
    let Some(section) = chars.next() else { return false };
    let digits: Vec<char> = chars.collect();
    ('A'..='T').contains(&section) && matches!(digits.len(), 0 | 2 | 3 | 4) && digits.iter().all(|c| c.is_ascii_digit())
}

fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

impl FirmInput {
    /// Validates a complete firm (create, import). `today` bounds dates that cannot be in the future.
    pub fn validate(&self, today: NaiveDate) -> Result<FirmFields, Vec<crate::domain::validate::FieldError>> {
        self.validate_onto(None, today)
    }

    /// Validates the fields present over `base` (PATCH semantics: an absent field keeps its value;
    /// an empty string clears an optional field).
    pub fn validate_onto(
        &self,
        base: Option<&FirmFields>,
        today: NaiveDate,
    ) -> Result<FirmFields, Vec<crate::domain::validate::FieldError>> {
        use crate::domain::credit_code::CreditCode;
        use crate::domain::validate::Errors;
        let mut e = Errors::default();

        let credit_code = match (&self.credit_code, base) {
            (Some(raw), _) => match CreditCode::parse(raw) {
                Ok(c) => Some(c),
                Err(err) => {
                    e.add("credit_code", "invalid", format!("not a valid unified social credit code: {err}"));
                    None
                }
            },
            (None, Some(b)) => CreditCode::parse(&b.credit_code).ok(),
            (None, None) => {
                e.add("credit_code", "required", "is required");
                None
            }
        };

        let name = match (&self.name, base) {
            (Some(n), _) => e.text("name", Some(n), 200),
            (None, Some(b)) => Some(b.name.clone()),
            (None, None) => e.required("name", None::<String>),
        };

        let city = match (&self.city, base) {
            (Some(c), _) if !c.trim().is_empty() => match parse_city(c) {
                Some(city) => Some(city),
                None => {
                    e.add(
                        "city",
                        "unknown_value",
                        format!(
                            "{c:?} is not one of Shandong's 16 cities ({})",
                            City::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
                        ),
                    );
                    None
                }
            },
            (_, Some(b)) if self.credit_code.is_none() => Some(b.city),
            _ => match &credit_code {
                Some(code) => match City::from_region_code(code.region_code()) {
                    Some(c) => Some(c),
                    None => {
                        e.add("city", "required", "is required: the credit code's region is not in Shandong");
                        None
                    }
                },
                None => None,
            },
        };

        let industry_code = match (&self.industry_code, base) {
            (Some(code), _) => {
                let code = code.trim().to_ascii_uppercase();
                if valid_industry_code(&code) {
                    Some(code)
                } else {
                    e.add(
                        "industry_code",
                        "invalid",
                        format!("{code:?} is not a GB/T 4754 code (section letter A–T and 2–4 digits, e.g. C3562)"),
                    );
                    None
                }
            }
            (None, Some(b)) => Some(b.industry_code.clone()),
            (None, None) => e.required("industry_code", None::<String>),
        };

        let opt_text = |e: &mut Errors,
                        field: &str,
                        v: &Option<String>,
                        keep: Option<&Option<String>>,
                        max: usize|
         -> Option<String> {
            match v {
                Some(s) if s.trim().is_empty() => None,
                Some(s) => e.text(field, Some(s), max),
                None => keep.cloned().flatten(),
            }
        };
        let district = opt_text(&mut e, "district", &self.district, base.map(|b| &b.district), 100);
        let contact_name = opt_text(&mut e, "contact_name", &self.contact_name, base.map(|b| &b.contact_name), 100);
        let contact_phone = opt_text(&mut e, "contact_phone", &self.contact_phone, base.map(|b| &b.contact_phone), 40);
        let contact_email = opt_text(&mut e, "contact_email", &self.contact_email, base.map(|b| &b.contact_email), 254);
        if let (Some(_), Some(email)) = (&self.contact_email, &contact_email)
            && !valid_email(email)
        {
            e.add("contact_email", "invalid", "is not an e-mail address");
        }

        macro_rules! optional {
            ($field:ident, $parse:expr) => {
                match self.$field.as_deref() {
                    Some(s) if s.trim().is_empty() => None,
                    Some(s) => $parse(&mut e, stringify!($field), Some(s)),
                    None => base.and_then(|b| b.$field.clone()),
                }
            };
        }
        let tier: Option<Tier> = optional!(tier, |e: &mut Errors, f, v| e.vocab(f, v));
        let neeq_layer: Option<NeeqLayer> = optional!(neeq_layer, |e: &mut Errors, f, v| e.vocab(f, v));
        let tax_credit_grade: Option<TaxCreditGrade> =
            optional!(tax_credit_grade, |e: &mut Errors, f, v: Option<&str>| {
                let upper = v.map(|s| s.trim().to_ascii_uppercase());
                e.vocab(f, upper.as_deref())
            });
        let founded_on: Option<NaiveDate> = optional!(founded_on, |e: &mut Errors, f, v| e.date(f, v));
        let neeq_listed_on: Option<NaiveDate> = optional!(neeq_listed_on, |e: &mut Errors, f, v| e.date(f, v));
        let expected_market_value: Option<Decimal> =
            optional!(expected_market_value, |e: &mut Errors, f, v| e.money(f, v, false));

        for (field, d) in [("founded_on", founded_on), ("neeq_listed_on", neeq_listed_on)] {
            if let Some(d) = d
                && d > today
            {
                e.add(field, "out_of_range", "must not be in the future");
            }
        }
        let tier_recognized_year = match self.tier_recognized_year {
            Some(y) => {
                e.int_range("tier_recognized_year", Some(y.into()), 2011, i64::from(today.year())).map(|y| y as i32)
            }
            None => base.and_then(|b| b.tier_recognized_year),
        };
        if tier_recognized_year.is_some() && tier.is_none() && self.tier_recognized_year.is_some() {
            e.add("tier_recognized_year", "invalid", "needs a tier");
        }
        if neeq_layer.is_some() && neeq_listed_on.is_none() {
            e.add("neeq_layer", "invalid", "needs neeq_listed_on: only a quoted firm has a NEEQ layer");
        }

        if !e.is_empty() {
            return Err(e.list);
        }
        match (credit_code, name, city, industry_code) {
            (Some(credit_code), Some(name), Some(city), Some(industry_code)) => Ok(FirmFields {
                credit_code: credit_code.as_str().to_owned(),
                name,
                city,
                district,
                industry_code,
                tier,
                tier_recognized_year,
                founded_on,
                expected_market_value,
                neeq_listed_on,
                neeq_layer,
                tax_credit_grade,
                contact_name,
                contact_email,
                contact_phone,
            }),
            _ => Err(e.list),
        }
    }
}
