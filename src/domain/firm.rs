//! Firms, their yearly financials, and the closed vocabularies that describe them.
//! Enum values are the API / CSV / database spelling (snake_case); Chinese labels are for people.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::ids::{BankId, FirmId};

/// Declares a closed vocabulary once: the Rust enum, its wire spelling and its Chinese label.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $wire:literal / $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name { $(#[serde(rename = $wire)] $variant),+ }

        // Written by hand: the derive does not see serde renames that come from macro arguments.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($wire),+]))
                    .description(Some(concat!($($wire, " = ", $label, "; "),+)))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
        }

        impl crate::domain::Vocabulary for $name {
            const NAME: &'static str = stringify!($name);
            fn all() -> &'static [Self] {
                Self::ALL
            }
            fn wire(self) -> &'static str {
                self.as_str()
            }
            fn zh(self) -> &'static str {
                self.label_zh()
            }
        }

        impl crate::domain::VocabularyValue for $name {
            type Value = $name;
            fn vocabulary_value(&self) -> $name {
                *self
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::domain::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    _ => Err(crate::domain::UnknownValue {
                        allowed: &[$($wire),+],
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use vocabulary;

vocabulary!(
    /// Shandong's 16 prefecture-level cities.
    City {
        Jinan = "jinan" / "济南",
        Qingdao = "qingdao" / "青岛",
        Zibo = "zibo" / "淄博",
        Zaozhuang = "zaozhuang" / "枣庄",
        Dongying = "dongying" / "东营",
        Yantai = "yantai" / "烟台",
        Weifang = "weifang" / "潍坊",
        Jining = "jining" / "济宁",
        Taian = "taian" / "泰安",
        Weihai = "weihai" / "威海",
        Rizhao = "rizhao" / "日照",
        Linyi = "linyi" / "临沂",
        Dezhou = "dezhou" / "德州",
        Liaocheng = "liaocheng" / "聊城",
        Binzhou = "binzhou" / "滨州",
        Heze = "heze" / "菏泽",
    }
);

impl City {
    /// GB/T 2260 prefecture code (first four digits, e.g. 3701 for 济南).
    pub fn region_prefix(self) -> &'static str {
        match self {
            City::Jinan => "3701",
            City::Qingdao => "3702",
            City::Zibo => "3703",
            City::Zaozhuang => "3704",
            City::Dongying => "3705",
            City::Yantai => "3706",
            City::Weifang => "3707",
            City::Jining => "3708",
            City::Taian => "3709",
            City::Weihai => "3710",
            City::Rizhao => "3711",
            City::Linyi => "3713",
            City::Dezhou => "3714",
            City::Liaocheng => "3715",
            City::Binzhou => "3716",
            City::Heze => "3717",
        }
    }

    /// The city of a GB/T 2260 region code. 莱芜 (3712xx) was merged into 济南 in 2019, and codes
    /// issued before then never change, so they still name 济南.
    pub fn from_region_code(code: &str) -> Option<City> {
        let prefix = code.get(0..4)?;
        if prefix == "3712" {
            return Some(City::Jinan);
        }
        City::ALL.iter().copied().find(|c| c.region_prefix() == prefix)
    }
}

vocabulary!(
    /// MIIT quality-SME ladder (梯度培育).
    Tier {
        InnovativeSme = "innovative_sme" / "创新型中小企业",
        ProvincialSrdi = "provincial_srdi" / "省级专精特新中小企业",
        LittleGiant = "little_giant" / "国家级专精特新\"小巨人\"企业",
    }
);

vocabulary!(
    /// Listing venues a firm can target.
    Venue {
        Bse = "bse" / "北京证券交易所",
        Star = "star" / "上交所科创板",
        Chinext = "chinext" / "深交所创业板",
        Neeq = "neeq" / "全国股转系统(新三板)",
        RegionalSrdiBoard = "regional_srdi_board" / "齐鲁股权交易中心专精特新专板",
    }
);

vocabulary!(
    /// NEEQ layer of a quoted firm.
    NeeqLayer {
        Basic = "basic" / "基础层",
        Innovation = "innovation" / "创新层",
    }
);

vocabulary!(
    /// Tax credit grade (纳税信用等级), published yearly.
    TaxCreditGrade {
        A = "A" / "A级",
        B = "B" / "B级",
        M = "M" / "M级",
        C = "C" / "C级",
        D = "D" / "D级",
    }
);

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

/// One fiscal year of a firm's financials. Money in yuan; every figure may be unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FinancialYear {
    pub fiscal_year: i32,
    #[schema(value_type = Option<String>, example = "125000000.00")]
    pub revenue: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub main_business_revenue: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub net_profit: Option<Decimal>,
    /// Net profit after deducting non-recurring items (扣除非经常性损益后).
    #[schema(value_type = Option<String>)]
    pub net_profit_deducted: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub rd_expense: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub operating_cash_flow: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub total_assets: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub total_liabilities: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub net_assets: Option<Decimal>,
    /// Weighted average return on equity, in percent (e.g. "8.25").
    #[schema(value_type = Option<String>, example = "8.25")]
    pub weighted_roe: Option<Decimal>,
    /// Weighted average ROE after deducting non-recurring items (扣除非经常性损益后), in percent.
    #[schema(value_type = Option<String>, example = "7.90")]
    pub weighted_roe_deducted: Option<Decimal>,
    pub invention_patents: Option<i64>,
    pub employees: Option<i64>,
    pub rd_staff: Option<i64>,
    /// Date of the audit report on this year (审计报告日); absent while the year is unaudited.
    /// Readiness takes the latest year audited by the evaluation date as "the latest year".
    pub audited_on: Option<NaiveDate>,
}

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

use chrono::Datelike as _;

/// One fiscal year of financials as it arrives; money as decimal strings.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinancialsInput {
    #[schema(example = "125000000.00")]
    pub revenue: Option<String>,
    pub main_business_revenue: Option<String>,
    pub net_profit: Option<String>,
    pub net_profit_deducted: Option<String>,
    pub rd_expense: Option<String>,
    pub operating_cash_flow: Option<String>,
    pub total_assets: Option<String>,
    pub total_liabilities: Option<String>,
    pub net_assets: Option<String>,
    #[schema(example = "8.25")]
    pub weighted_roe: Option<String>,
    #[schema(example = "7.90")]
    pub weighted_roe_deducted: Option<String>,
    pub invention_patents: Option<i64>,
    pub employees: Option<i64>,
    pub rd_staff: Option<i64>,
    /// Date of the audit report (after the fiscal year's end, not in the future).
    #[schema(example = "2025-04-20")]
    pub audited_on: Option<String>,
}

impl FinancialsInput {
    pub fn is_empty(&self) -> bool {
        self.revenue.is_none()
            && self.main_business_revenue.is_none()
            && self.net_profit.is_none()
            && self.net_profit_deducted.is_none()
            && self.rd_expense.is_none()
            && self.operating_cash_flow.is_none()
            && self.total_assets.is_none()
            && self.total_liabilities.is_none()
            && self.net_assets.is_none()
            && self.weighted_roe.is_none()
            && self.weighted_roe_deducted.is_none()
            && self.invention_patents.is_none()
            && self.employees.is_none()
            && self.rd_staff.is_none()
            && self.audited_on.is_none()
    }

    /// `prefix` names the field path (e.g. `financials.2024`); `today` bounds the fiscal year.
    pub fn validate(
        &self,
        fiscal_year: i64,
        prefix: &str,
        today: NaiveDate,
    ) -> Result<FinancialYear, Vec<crate::domain::validate::FieldError>> {
        use crate::domain::validate::Errors;
        let mut e = Errors::with_prefix(prefix);
        let year = e.int_range("fiscal_year", Some(fiscal_year), 1990, i64::from(today.year()));
        let money = |e: &mut Errors, f: &str, v: &Option<String>, neg: bool| {
            v.as_deref().filter(|s| !s.trim().is_empty()).and_then(|s| e.money(f, Some(s), neg))
        };
        let percent = |e: &mut Errors, f: &str, v: &Option<String>| {
            v.as_deref()
                .filter(|s| !s.trim().is_empty())
                .and_then(|s| e.decimal(f, Some(s), Decimal::from(-1000), Decimal::from(1000), 4))
        };
        let fy = FinancialYear {
            fiscal_year: year.unwrap_or_default() as i32,
            revenue: money(&mut e, "revenue", &self.revenue, false),
            main_business_revenue: money(&mut e, "main_business_revenue", &self.main_business_revenue, false),
            net_profit: money(&mut e, "net_profit", &self.net_profit, true),
            net_profit_deducted: money(&mut e, "net_profit_deducted", &self.net_profit_deducted, true),
            rd_expense: money(&mut e, "rd_expense", &self.rd_expense, false),
            operating_cash_flow: money(&mut e, "operating_cash_flow", &self.operating_cash_flow, true),
            total_assets: money(&mut e, "total_assets", &self.total_assets, false),
            total_liabilities: money(&mut e, "total_liabilities", &self.total_liabilities, false),
            net_assets: money(&mut e, "net_assets", &self.net_assets, true),
            weighted_roe: percent(&mut e, "weighted_roe", &self.weighted_roe),
            weighted_roe_deducted: percent(&mut e, "weighted_roe_deducted", &self.weighted_roe_deducted),
            invention_patents: e.int_range("invention_patents", self.invention_patents, 0, 1_000_000),
            employees: e.int_range("employees", self.employees, 0, 10_000_000),
            rd_staff: e.int_range("rd_staff", self.rd_staff, 0, 10_000_000),
            audited_on: self
                .audited_on
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .and_then(|s| e.date("audited_on", Some(s))),
        };
        if let (Some(on), Some(y)) = (fy.audited_on, year) {
            if on.year() <= y as i32 {
                e.add("audited_on", "out_of_range", format!("must be after the end of fiscal year {y}"));
            } else if on > today {
                e.add("audited_on", "out_of_range", "must not be in the future");
            }
        }
        if let (Some(staff), Some(all)) = (fy.rd_staff, fy.employees)
            && staff > all
        {
            e.add("rd_staff", "out_of_range", "must not exceed employees");
        }
        if let (Some(main), Some(all)) = (fy.main_business_revenue, fy.revenue)
            && main > all
        {
            e.add("main_business_revenue", "out_of_range", "must not exceed revenue");
        }
        e.finish(fy)
    }
}

impl FinancialYear {
    /// R&D expense as a fraction of revenue, when both are known and revenue is positive.
    pub fn rd_ratio(&self) -> Option<Decimal> {
        match (self.rd_expense, self.revenue) {
            (Some(rd), Some(rev)) if rev > Decimal::ZERO => Some(rd / rev),
            _ => None,
        }
    }
}
