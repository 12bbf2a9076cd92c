//! Partner banks as the office onboards them, and the LPR fixings the office keeps.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::ids::BankId;
use crate::domain::product::{LprFixing, rate_percent};
use crate::domain::validate::{Errors, FieldError};

pub const MAX_BANK_NAME_CHARS: usize = 100;
pub const MAX_BANK_CODE_CHARS: usize = 32;

/// A partner bank (合作银行).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Bank {
    #[schema(value_type = Uuid)]
    pub id: BankId,
    /// Short stable code, e.g. `QILU-BANK`.
    pub code: String,
    pub name: String,
    /// The bank's functional mailbox (webhook failure notices go there). Shown to the admin and
    /// to the bank itself only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What the admin submits to onboard a bank.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct BankDraft {
    #[schema(example = "齐鲁银行", required = true, nullable = false, pattern = "\\S", max_length = 100)]
    pub name: Option<String>,
    /// Upper-case letters, digits and hyphens, 2 to 32 characters, e.g. `QILU-BANK` (lower case
    /// is read as upper case).
    #[schema(
        example = "QILU-BANK",
        required = true,
        nullable = false,
        pattern = "^[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])$"
    )]
    pub code: Option<String>,
    #[schema(example = "sme-finance@qlbchina.example.cn", required = true, nullable = false, format = Email, max_length = 254)]
    pub contact_email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBank {
    pub name: String,
    pub code: String,
    pub contact_email: String,
}

impl BankDraft {
    pub fn validate(&self) -> Result<NewBank, Vec<FieldError>> {
        let mut e = Errors::default();
        let name = match self.name.as_deref() {
            None => {
                e.add("name", "required", "is required");
                None
            }
            n => e.text("name", n, MAX_BANK_NAME_CHARS),
        };
        let code = match self.code.as_deref().map(|c| c.trim().to_ascii_uppercase()) {
            None => {
                e.add("code", "required", "is required");
                None
            }
            Some(c) if valid_code(&c) => Some(c),
            Some(_) => {
                e.add(
                    "code",
                    "invalid",
                    format!("must be 2 to {MAX_BANK_CODE_CHARS} letters, digits or hyphens, e.g. QILU-BANK"),
                );
                None
            }
        };
        let contact_email = match self.contact_email.as_deref().map(str::trim) {
            None => {
                e.add("contact_email", "required", "is required");
                None
            }
            Some(m) if valid_email(m) && m.len() <= 254 => Some(m.to_owned()),
            Some(_) => {
                e.add("contact_email", "invalid", "is not an e-mail address");
                None
            }
        };
        match (name, code, contact_email) {
            (Some(name), Some(code), Some(contact_email)) if e.is_empty() => Ok(NewBank { name, code, contact_email }),
            _ => Err(e.list),
        }
    }
}

fn valid_code(c: &str) -> bool {
    (2..=MAX_BANK_CODE_CHARS).contains(&c.len())
        && c.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
        && !c.starts_with('-')
        && !c.ends_with('-')
}

fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !s.chars().any(char::is_whitespace)
}

/// Body of `PUT /v1/lpr/{effective_on}`: both tenors, annual percent as decimal strings.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct LprDraft {
    #[schema(value_type = String, example = "3.00", required = true)]
    pub one_year: Option<Decimal>,
    #[schema(value_type = String, example = "3.50", required = true)]
    pub five_year: Option<Decimal>,
}

impl LprDraft {
    pub fn validate(&self, effective_on: NaiveDate) -> Result<LprFixing, Vec<FieldError>> {
        let mut e = Errors::default();
        let mut rate = |field: &str, v: Option<Decimal>| match v {
            None => {
                e.add(field, "required", "is required");
                None
            }
            Some(r) => rate_percent(&mut e, field, r).map(|mut r| {
                // Fixings are quoted to two decimals; keep them that way on the wire.
                if r.scale() < 2 {
                    r.rescale(2);
                }
                r
            }),
        };
        let one_year = rate("one_year", self.one_year);
        let five_year = rate("five_year", self.five_year);
        match (one_year, five_year) {
            (Some(one_year), Some(five_year)) if e.is_empty() => Ok(LprFixing { effective_on, one_year, five_year }),
            _ => Err(e.list),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(r: Result<impl Sized, Vec<FieldError>>) -> Vec<(String, String)> {
        r.err().unwrap_or_default().into_iter().map(|f| (f.field, f.code)).collect()
    }

    #[test]
    fn bank_drafts() {
        let ok = BankDraft {
            name: Some(" 齐鲁银行 ".into()),
            code: Some("qilu-bank".into()),
            contact_email: Some("sme@qilu.example.cn".into()),
        };
        let b = ok.validate().expect("valid");
        assert_eq!((b.name.as_str(), b.code.as_str()), ("齐鲁银行", "QILU-BANK"));
        let cases: &[(BankDraft, &[(&str, &str)])] = &[
            (BankDraft::default(), &[("name", "required"), ("code", "required"), ("contact_email", "required")]),
            (
                BankDraft { code: Some("-X".into()), contact_email: Some("no-at-sign".into()), ..ok.clone() },
                &[("code", "invalid"), ("contact_email", "invalid")],
            ),
            (BankDraft { code: Some("A".into()), ..ok.clone() }, &[("code", "invalid")]),
            (BankDraft { code: Some("工行".into()), ..ok.clone() }, &[("code", "invalid")]),
            (BankDraft { name: Some("  ".into()), ..ok.clone() }, &[("name", "invalid")]),
        ];
        for (draft, want) in cases {
            let want: Vec<(String, String)> = want.iter().map(|(f, c)| (f.to_string(), c.to_string())).collect();
            assert_eq!(fields(draft.validate()), want, "{draft:?}");
        }
    }

    #[test]
    fn lpr_drafts() {
        let on = NaiveDate::from_ymd_opt(2025, 5, 20).expect("date");
        let d = |s: &str| Some(s.parse::<Decimal>().expect("decimal"));
        let f = LprDraft { one_year: d("3"), five_year: d("3.5") }.validate(on).expect("valid");
        assert_eq!((f.one_year.to_string(), f.five_year.to_string()), ("3.00".into(), "3.50".into()));
        assert_eq!(fields(LprDraft::default().validate(on)).len(), 2);
        assert_eq!(
            fields(LprDraft { one_year: d("0"), five_year: d("3.123456") }.validate(on)),
            [("one_year".to_owned(), "out_of_range".to_owned()), ("five_year".to_owned(), "invalid".to_owned())]
        );
    }
}
