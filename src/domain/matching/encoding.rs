//! The compact encodings the compiled views use: bit positions of enum values, money in whole
//! fen, ratios in parts per million, whole months, and industry codes packed into a `u64`.

use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::domain::firm::{City, TaxCreditGrade, Tier, Venue};
use crate::domain::product::industry_section;

pub(super) fn tier_bit(t: Tier) -> u8 {
    1 << (t as u8)
}

pub(super) fn grade_bit(g: TaxCreditGrade) -> u8 {
    1 << (g as u8)
}

pub(super) fn venue_bit(v: Venue) -> u8 {
    1 << (v as u8)
}

pub(super) fn city_bit(c: City) -> u16 {
    1 << (c as u16)
}

/// Firm figures round down and thresholds up, so imprecise data can only make a rule harder.
pub(super) fn fen_floor(yuan: Decimal) -> i64 {
    to_i64(yuan.checked_mul(Decimal::ONE_HUNDRED).map(|d| d.floor()), yuan.is_sign_negative())
}

pub(super) fn fen_ceil(yuan: Decimal) -> i64 {
    to_i64(yuan.checked_mul(Decimal::ONE_HUNDRED).map(|d| d.ceil()), yuan.is_sign_negative())
}

pub(super) fn ppm_ceil(fraction: Decimal) -> i64 {
    to_i64(fraction.checked_mul(Decimal::from(1_000_000)).map(|d| d.ceil()), fraction.is_sign_negative())
}

fn to_i64(d: Option<Decimal>, negative: bool) -> i64 {
    d.and_then(|d| d.to_i64()).unwrap_or(if negative { i64::MIN } else { i64::MAX })
}

/// Whole months from `from` to `to`: the largest `m` with `from + m months ≤ to`, where chrono
/// clamps month ends (a firm founded on 02-29 has its anniversary on 02-28). A founding date
/// after `to` counts as zero.
pub(super) fn full_months(from: NaiveDate, to: NaiveDate) -> i64 {
    if from >= to {
        return 0;
    }
    let guess = i64::from(to.year() - from.year()) * 12 + i64::from(to.month()) - i64::from(from.month());
    let reached =
        |m: i64| u32::try_from(m).ok().and_then(|m| from.checked_add_months(Months::new(m))).is_some_and(|d| d <= to);
    if reached(guess) { guess } else { guess - 1 }
}

/// Trims and upper-cases; a bare division code (`3562`) gets its section letter (`C3562`).
pub(super) fn normalise_industry(raw: &str) -> Option<String> {
    let code = raw.trim().to_ascii_uppercase();
    let b = code.as_bytes();
    if let [d1, d2, ..] = b
        && b.len() <= 4
        && b.iter().all(u8::is_ascii_digit)
    {
        let division = (d1 - b'0') * 10 + (d2 - b'0');
        return industry_section(division).map(|s| format!("{s}{code}"));
    }
    (!code.is_empty()).then_some(code)
}

pub(super) fn pack(code: &str) -> Option<u64> {
    let b = code.as_bytes();
    if b.is_empty() || b.len() > 8 || !b.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    Some(b.iter().enumerate().fold(0u64, |acc, (i, byte)| acc | u64::from(*byte) << (56 - 8 * i)))
}

pub(super) fn unpack(value: u64) -> String {
    value.to_be_bytes().iter().take_while(|b| **b != 0).map(|b| char::from(*b)).collect()
}
