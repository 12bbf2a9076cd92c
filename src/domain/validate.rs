//! Field-level validation that reports every problem at once, each naming its field.

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// Largest money amount accepted, in yuan: far above any SME figure, well inside an i64 of fen.
pub const MONEY_LIMIT: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0); // 1e15 yuan

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// Dotted path of the offending field, e.g. `financials.2024.revenue`.
    pub field: String,
    /// Stable machine-readable reason: `required`, `invalid`, `unknown_value`, `out_of_range`, …
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), code: code.to_owned(), message: message.into() }
    }
}

/// Collects field errors while a value is being validated.
#[derive(Debug, Default)]
pub struct Errors {
    prefix: String,
    pub list: Vec<FieldError>,
}

impl Errors {
    pub fn with_prefix(prefix: impl Into<String>) -> Self {
        Errors { prefix: prefix.into(), list: Vec::new() }
    }

    fn path(&self, field: &str) -> String {
        if self.prefix.is_empty() { field.to_owned() } else { format!("{}.{field}", self.prefix) }
    }

    pub fn add(&mut self, field: &str, code: &str, message: impl Into<String>) {
        let path = self.path(field);
        self.list.push(FieldError::new(path, code, message));
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn finish<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.list.is_empty() { Ok(value) } else { Err(self.list) }
    }

    pub fn required<T>(&mut self, field: &str, value: Option<T>) -> Option<T> {
        if value.is_none() {
            self.add(field, "required", "is required");
        }
        value
    }

    pub fn text(&mut self, field: &str, value: Option<&str>, max_chars: usize) -> Option<String> {
        let v = value?.trim();
        if v.contains('\0') {
            self.add(field, NUL_CODE, NUL_MESSAGE);
            return None;
        }
        if v.is_empty() {
            self.add(field, "invalid", "must not be blank");
            return None;
        }
        if v.chars().count() > max_chars {
            self.add(field, "too_long", format!("must be at most {max_chars} characters"));
            return None;
        }
        Some(v.to_owned())
    }

    pub fn vocab<T>(&mut self, field: &str, value: Option<&str>) -> Option<T>
    where
        T: FromStr<Err = crate::domain::UnknownValue>,
    {
        let v = value?.trim();
        match v.parse::<T>() {
            Ok(t) => Some(t),
            Err(e) => {
                self.add(field, "unknown_value", format!("{v:?} is not allowed; {e}"));
                None
            }
        }
    }

    /// Money in yuan as a decimal string with at most two decimal places.
    pub fn money(&mut self, field: &str, value: Option<&str>, allow_negative: bool) -> Option<Decimal> {
        let v = value?.trim();
        let parsed = match Decimal::from_str_exact(v) {
            Ok(d) => d,
            Err(_) => {
                self.add(field, "invalid", format!("{v:?} is not a decimal amount in yuan, e.g. \"12500000.00\""));
                return None;
            }
        };
        if parsed.normalize().scale() > 2 {
            self.add(field, "invalid", "must have at most two decimal places (fen)");
            return None;
        }
        if !allow_negative && parsed.is_sign_negative() && !parsed.is_zero() {
            self.add(field, "out_of_range", "must not be negative");
            return None;
        }
        if parsed.abs() > MONEY_LIMIT {
            self.add(field, "out_of_range", "is implausibly large");
            return None;
        }
        Some(parsed.round_dp(2))
    }

    /// A decimal (ratios, percentages) with bounds and at most `max_scale` decimal places.
    pub fn decimal(
        &mut self,
        field: &str,
        value: Option<&str>,
        min: Decimal,
        max: Decimal,
        max_scale: u32,
    ) -> Option<Decimal> {
        let v = value?.trim();
        let parsed = match Decimal::from_str_exact(v) {
            Ok(d) => d.normalize(),
            Err(_) => {
                self.add(field, "invalid", format!("{v:?} is not a decimal number"));
                return None;
            }
        };
        if parsed.scale() > max_scale {
            self.add(field, "invalid", format!("must have at most {max_scale} decimal places"));
            return None;
        }
        if parsed < min || parsed > max {
            self.add(field, "out_of_range", format!("must be between {min} and {max}"));
            return None;
        }
        Some(parsed)
    }

    pub fn date(&mut self, field: &str, value: Option<&str>) -> Option<NaiveDate> {
        let v = value?.trim();
        match parse_day(v) {
            Some(d) => Some(d),
            None => {
                self.add(field, "invalid", format!("{v:?} is not a date (YYYY-MM-DD)"));
                None
            }
        }
    }

    pub fn int_range(&mut self, field: &str, value: Option<i64>, min: i64, max: i64) -> Option<i64> {
        let v = value?;
        if v < min || v > max {
            self.add(field, "out_of_range", format!("must be between {min} and {max}"));
            return None;
        }
        Some(v)
    }
}

/// The field code and message for text carrying U+0000. No field of the service can hold it:
/// PostgreSQL refuses it in `TEXT`, and in SQLite it would truncate what C-string readers see.
pub const NUL_CODE: &str = "invalid_character";
pub const NUL_MESSAGE: &str = "must not contain the NUL character (U+0000)";

/// The dotted paths of every string in a JSON document (keys included) that carries U+0000,
/// e.g. `contacts.0.name`; empty when there is none.
pub fn nul_paths(value: &serde_json::Value) -> Vec<String> {
    fn walk(value: &serde_json::Value, path: &mut Vec<String>, found: &mut Vec<String>) {
        let here = |path: &[String]| if path.is_empty() { "body".to_owned() } else { path.join(".") };
        match value {
            serde_json::Value::String(s) if s.contains('\0') => found.push(here(path)),
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(i.to_string());
                    walk(item, path, found);
                    path.pop();
                }
            }
            serde_json::Value::Object(members) => {
                for (key, member) in members {
                    path.push(key.replace('\0', "\\u0000"));
                    if key.contains('\0') {
                        found.push(here(path));
                    }
                    walk(member, path, found);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(value, &mut Vec::new(), &mut found);
    found
}

/// Field errors for the named values that carry U+0000 (query parameters, form fields, CSV cells).
pub fn nul_errors<'a>(named: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<FieldError> {
    named
        .into_iter()
        .filter(|(_, value)| value.contains('\0'))
        .map(|(name, _)| FieldError::new(name.replace('\0', "\\u0000"), NUL_CODE, NUL_MESSAGE))
        .collect()
}

/// For PATCH bodies: distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A day written as RFC 3339's full-date, `YYYY-MM-DD` and nothing else (chrono alone would also
/// take leading spaces and short fields, which the document's `format: date` does not).
pub fn parse_day(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
    if shaped { NaiveDate::parse_from_str(s, "%Y-%m-%d").ok() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_a_full_date_and_nothing_else() {
        assert_eq!(parse_day("2026-02-28"), NaiveDate::from_ymd_opt(2026, 2, 28));
        for bad in [" 2026-02-28", "2026-02-28 ", "2026-2-28", "+2026-02-28", "2026-02-30", "2026/02/28", ""] {
            assert_eq!(parse_day(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn money_rules() {
        let mut e = Errors::default();
        assert_eq!(e.money("a", Some("12.50"), false), Some(Decimal::new(1250, 2)));
        assert_eq!(e.money("b", Some("12.505"), false), None);
        assert_eq!(e.money("c", Some("-1"), false), None);
        assert_eq!(e.money("d", Some("-1"), true), Some(Decimal::NEGATIVE_ONE));
        assert_eq!(e.money("e", Some("1e5"), false), None);
        assert_eq!(e.money("f", Some("2000000000000000"), false), None);
        assert_eq!(e.money("g", Some("12.5000"), false), Some(Decimal::new(1250, 2)));
        let fields: Vec<_> = e.list.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["b", "c", "e", "f"]);
    }

    #[test]
    fn nul_is_found_wherever_it_hides() {
        let doc = serde_json::json!({
            "name": "ok", "note": "a\u{0}b", "contacts": [{"email": "x"}, {"email": "\u{0}"}], "n": 3,
            "k\u{0}": 1,
        });
        let mut found = nul_paths(&doc);
        found.sort();
        assert_eq!(found, ["contacts.1.email", "k\\u0000", "note"]);
        assert_eq!(nul_paths(&serde_json::json!("\u{0}")), ["body"]);
        assert!(nul_paths(&serde_json::json!({"a": "\\u0000 written out"})).is_empty());
        let mut e = Errors::default();
        assert_eq!(e.text("name", Some("a\u{0}"), 10), None);
        assert_eq!(e.list[0].code, NUL_CODE);
        assert_eq!(nul_errors([("q", "x\u{0}"), ("city", "jinan")])[0].field, "q");
    }
}
