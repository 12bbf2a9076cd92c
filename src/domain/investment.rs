//! Investment intentions and closed investments that funds record in firms, usually after a
//! roadshow. Closed investments feed the programme statistics (≥100 fund projects and ≥200亿 a year).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::ids::FirmId;

use crate::domain::firm::vocabulary;
use crate::domain::validate::{Errors, FieldError};

vocabulary!(
    /// Where an investment stands.
    InvestmentStatus {
        Intention = "intention" / "投资意向",
        Closed = "closed" / "已完成投资",
        Withdrawn = "withdrawn" / "已放弃",
    }
);

impl InvestmentStatus {
    /// Intentions close or are withdrawn; closed and withdrawn records are final (the office can
    /// still correct amounts and dates).
    pub fn allowed_next(self) -> &'static [InvestmentStatus] {
        match self {
            InvestmentStatus::Intention => &[InvestmentStatus::Closed, InvestmentStatus::Withdrawn],
            InvestmentStatus::Closed | InvestmentStatus::Withdrawn => &[],
        }
    }
}

vocabulary!(
    /// Financing round.
    InvestmentRound {
        Angel = "angel" / "天使轮",
        Seed = "seed" / "种子轮",
        PreA = "pre_a" / "Pre-A轮",
        SeriesA = "series_a" / "A轮",
        SeriesB = "series_b" / "B轮",
        SeriesC = "series_c" / "C轮及以后",
        PreIpo = "pre_ipo" / "Pre-IPO轮",
        Strategic = "strategic" / "战略投资",
        Other = "other" / "其他",
    }
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Investment {
    pub id: Uuid,
    pub fund_id: Uuid,
    #[schema(value_type = Uuid)]
    pub firm_id: FirmId,
    /// The roadshow it came from, if any.
    pub roadshow_id: Option<Uuid>,
    pub status: InvestmentStatus,
    /// Yuan, decimal string.
    #[schema(value_type = String, example = "30000000.00")]
    pub amount: Decimal,
    pub round: InvestmentRound,
    /// Date of the intention, or of the closing once `closed`; statistics count closed
    /// investments in the year of this date.
    pub decided_on: NaiveDate,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Record (POST: `firm_id`, `amount`, `round` required) or change (PATCH) an investment.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvestmentInput {
    /// Admin keys only (a fund key records for its own fund).
    pub fund_id: Option<Uuid>,
    #[schema(value_type = Option<Uuid>)]
    pub firm_id: Option<FirmId>,
    pub roadshow_id: Option<Uuid>,
    /// Default `intention`.
    #[schema(value_type = Option<InvestmentStatus>)]
    pub status: Option<String>,
    #[schema(example = "30000000.00")]
    pub amount: Option<String>,
    #[schema(value_type = Option<InvestmentRound>)]
    pub round: Option<String>,
    /// Default: today.
    #[schema(example = "2025-06-20")]
    pub decided_on: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InvestmentFields {
    pub firm_id: FirmId,
    pub roadshow_id: Option<Uuid>,
    pub status: InvestmentStatus,
    pub amount: Decimal,
    pub round: InvestmentRound,
    pub decided_on: NaiveDate,
    pub note: Option<String>,
}

impl InvestmentFields {
    pub fn of(i: &Investment) -> InvestmentFields {
        InvestmentFields {
            firm_id: i.firm_id,
            roadshow_id: i.roadshow_id,
            status: i.status,
            amount: i.amount,
            round: i.round,
            decided_on: i.decided_on,
            note: i.note.clone(),
        }
    }
}

impl InvestmentInput {
    /// Validates a new record, or the fields present over `base`. On a change, `firm_id`,
    /// `fund_id` and `roadshow_id` are fixed, and the status may only move along
    /// [`InvestmentStatus::allowed_next`].
    pub fn validate_onto(
        &self,
        base: Option<&InvestmentFields>,
        today: NaiveDate,
    ) -> Result<InvestmentFields, Vec<FieldError>> {
        let mut e = Errors::default();
        let firm_id = match (base, self.firm_id) {
            (None, None) => {
                e.add("firm_id", "required", "is required");
                None
            }
            (None, Some(f)) => Some(f),
            (Some(b), None) => Some(b.firm_id),
            (Some(b), Some(f)) => {
                if f != b.firm_id {
                    e.add("firm_id", "immutable", "cannot change; record a new investment");
                }
                Some(b.firm_id)
            }
        };
        let roadshow_id = match base {
            Some(b) => {
                if self.roadshow_id.is_some_and(|r| Some(r) != b.roadshow_id) {
                    e.add("roadshow_id", "immutable", "cannot change");
                }
                b.roadshow_id
            }
            None => self.roadshow_id,
        };
        if base.is_some() && self.fund_id.is_some() {
            e.add("fund_id", "immutable", "cannot change");
        }
        let status = match self.status.as_deref() {
            Some(s) => e.vocab::<InvestmentStatus>("status", Some(s)),
            None => Some(base.map(|b| b.status).unwrap_or(InvestmentStatus::Intention)),
        };
        if let (Some(b), Some(s)) = (base, status)
            && s != b.status
            && !b.status.allowed_next().contains(&s)
        {
            e.add("status", "illegal_transition", format!("cannot move from {} to {s}", b.status));
        }
        let amount = match self.amount.as_deref() {
            Some(a) => e.money("amount", Some(a), false),
            None if base.is_none() => {
                e.add("amount", "required", "is required");
                None
            }
            None => base.map(|b| b.amount),
        };
        if amount.is_some_and(|a| a.is_zero()) {
            e.add("amount", "out_of_range", "must be more than zero");
        }
        let round = match self.round.as_deref() {
            Some(r) => e.vocab::<InvestmentRound>("round", Some(r)),
            None if base.is_none() => {
                e.add("round", "required", "is required");
                None
            }
            None => base.map(|b| b.round),
        };
        let decided_on = match self.decided_on.as_deref() {
            Some(d) => e.date("decided_on", Some(d)),
            None => Some(base.map(|b| b.decided_on).unwrap_or(today)),
        };
        if decided_on.is_some_and(|d| d > today) {
            e.add("decided_on", "out_of_range", "must not be in the future");
        }
        let note = match self.note.as_deref() {
            Some(n) if n.trim().is_empty() => None,
            Some(n) => e.text("note", Some(n), 2000),
            None => base.and_then(|b| b.note.clone()),
        };
        match (firm_id, status, amount, round, decided_on, e.is_empty()) {
            (Some(firm_id), Some(status), Some(amount), Some(round), Some(decided_on), true) => {
                Ok(InvestmentFields { firm_id, roadshow_id, status, amount, round, decided_on, note })
            }
            _ => Err(e.list),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, 30).unwrap()
    }

    fn new() -> InvestmentInput {
        InvestmentInput {
            firm_id: Some(FirmId::from_uuid(Uuid::from_u128(1))),
            amount: Some("30000000.00".into()),
            round: Some("series_a".into()),
            ..InvestmentInput::default()
        }
    }

    #[test]
    fn new_records_default_to_an_intention_today() {
        let f = new().validate_onto(None, today()).unwrap();
        assert_eq!(f.status, InvestmentStatus::Intention);
        assert_eq!(f.decided_on, today());
        assert_eq!(f.amount, Decimal::new(3_000_000_000, 2));
    }

    #[test]
    fn every_bad_field_is_named() {
        let cases: Vec<(InvestmentInput, Vec<&str>)> = vec![
            (InvestmentInput::default(), vec!["firm_id", "amount", "round"]),
            (InvestmentInput { amount: Some("0".into()), ..new() }, vec!["amount"]),
            (
                InvestmentInput { amount: Some("-5".into()), round: Some("series_z".into()), ..new() },
                vec!["amount", "round"],
            ),
            (
                InvestmentInput { decided_on: Some("2025-07-01".into()), status: Some("done".into()), ..new() },
                vec!["status", "decided_on"],
            ),
        ];
        for (input, fields) in cases {
            let got: Vec<String> =
                input.validate_onto(None, today()).unwrap_err().into_iter().map(|e| e.field).collect();
            assert_eq!(got, fields);
        }
    }

    #[test]
    fn changes_follow_the_status_machine_and_keep_the_firm() {
        let base = new().validate_onto(None, today()).unwrap();
        let closed = InvestmentInput { status: Some("closed".into()), ..InvestmentInput::default() }
            .validate_onto(Some(&base), today())
            .unwrap();
        assert_eq!((closed.status, closed.amount), (InvestmentStatus::Closed, base.amount));
        let back = InvestmentInput { status: Some("intention".into()), ..InvestmentInput::default() }
            .validate_onto(Some(&closed), today())
            .unwrap_err();
        assert_eq!(back[0].code, "illegal_transition");
        let moved = InvestmentInput {
            firm_id: Some(FirmId::from_uuid(Uuid::from_u128(2))),
            fund_id: Some(Uuid::nil()),
            ..InvestmentInput::default()
        }
        .validate_onto(Some(&base), today())
        .unwrap_err();
        let fields: Vec<&str> = moved.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["firm_id", "fund_id"]);
    }
}
