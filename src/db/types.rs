//! Column encodings shared by both backends. The `Any` driver carries only integers, floats,
//! text, bytes and booleans, so:
//! - ids are UUIDv7 text (time-ordered, so keyset pagination by id follows insertion order);
//! - timestamps are RFC 3339 UTC text with a fixed six-digit fraction, so text order is time order;
//! - dates are `YYYY-MM-DD` text;
//! - money is a 64-bit integer of fen (0.01 yuan): exact, summable and comparable in SQL on both;
//! - booleans are BOOLEAN on PostgreSQL and 0/1 on SQLite, read through [`Flag`];
//! - enums are their wire spelling; structured values are JSON text.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use sqlx::any::AnyTypeInfoKind;
use sqlx::error::BoxDynError;
use sqlx::{Any, Decode, Type, TypeInfo as _, ValueRef};

pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Yuan → fen. Callers validate scale and range first (see `domain::money`); this refuses
/// rather than rounds if they did not.
pub fn fen(amount: Decimal) -> Result<i64, MoneyOutOfRange> {
    let scaled = amount * Decimal::ONE_HUNDRED;
    if scaled.fract() != Decimal::ZERO {
        return Err(MoneyOutOfRange);
    }
    scaled.to_i64().ok_or(MoneyOutOfRange)
}

pub fn opt_fen(amount: Option<Decimal>) -> Result<Option<i64>, MoneyOutOfRange> {
    amount.map(fen).transpose()
}

pub fn yuan(fen: i64) -> Decimal {
    Decimal::new(fen, 2)
}

#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("amount has more than two decimal places or is out of range")]
pub struct MoneyOutOfRange;

/// A timestamp column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ts(pub DateTime<Utc>);

impl TryFrom<String> for Ts {
    type Error = chrono::ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        DateTime::parse_from_rfc3339(&s).map(|t| Ts(t.with_timezone(&Utc)))
    }
}

/// A date column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day(pub NaiveDate);

impl TryFrom<String> for Day {
    type Error = chrono::ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        NaiveDate::parse_from_str(&s, "%Y-%m-%d").map(Day)
    }
}

/// A boolean column: BOOLEAN on PostgreSQL, INTEGER 0/1 on SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag(pub bool);

impl Type<Any> for Flag {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <bool as Type<Any>>::type_info()
    }
    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        matches!(ty.kind(), AnyTypeInfoKind::Bool) || ty.kind().is_integer()
    }
}

impl<'r> Decode<'r, Any> for Flag {
    fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        if value.type_info().kind() == AnyTypeInfoKind::Bool {
            Ok(Flag(<bool as Decode<Any>>::decode(value)?))
        } else if value.type_info().name() == "NULL" {
            Err("unexpected NULL for a boolean column".into())
        } else {
            Ok(Flag(<i64 as Decode<Any>>::decode(value)? != 0))
        }
    }
}

/// A JSON text column.
#[derive(Debug, Clone)]
pub struct JsonText<T>(pub T);

impl<T: serde::de::DeserializeOwned> TryFrom<String> for JsonText<T> {
    type Error = serde_json::Error;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        serde_json::from_str(&s).map(JsonText)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_round_trips_exactly() {
        for s in ["0", "0.01", "12500000.00", "-3.5", "92233720368547758.07"] {
            let d: Decimal = s.parse().expect("decimal");
            assert_eq!(yuan(fen(d).expect("in range")), d);
        }
        assert!(fen("0.001".parse().expect("decimal")).is_err());
        assert!(fen("92233720368547758.08".parse().expect("decimal")).is_err());
    }

    #[test]
    fn timestamps_sort_as_text() {
        let a = ts(DateTime::from_timestamp(1_700_000_000, 5_000).expect("valid"));
        let b = ts(DateTime::from_timestamp(1_700_000_000, 50_000_000).expect("valid"));
        let c = ts(DateTime::from_timestamp(1_800_000_000, 0).expect("valid"));
        assert!(a < b && b < c, "{a} {b} {c}");
        assert_eq!(Ts::try_from(b.clone()).expect("parses").0.timestamp_subsec_micros(), 50_000);
    }
}
