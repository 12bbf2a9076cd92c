//! A firm's consent to share its data with partner banks for a stated purpose (征信业管理条例
//! Art. 18/20: an agreed purpose, revocable). Default deny: a bank sees a firm only while some
//! consent covers it.
//!
//! A consent is in force from `granted_at` (inclusive) until the earlier of `expires_at` and
//! `revoked_at` (both exclusive). `bank_id: null` covers every partner bank, including banks
//! onboarded after the grant; the firm chose that explicitly (see [`ConsentDraft`]).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::ids::{BankId, FirmId};

use crate::domain::firm::vocabulary;
use crate::domain::validate::{Errors, FieldError, nullable};

/// Longest consent accepted. Three years covers a loan cycle plus renewal; anything longer is
/// hard to call an informed, purpose-bound consent.
pub const MAX_CONSENT_DAYS: i64 = 3 * 366;

vocabulary!(
    ConsentPurpose {
        FinancingMatching = "financing_matching" / "融资对接（产品匹配与授信审查）",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Consent {
    pub id: Uuid,
    #[schema(value_type = Uuid)]
    pub firm_id: FirmId,
    /// `null`: every partner bank.
    #[schema(value_type = Option<Uuid>)]
    pub bank_id: Option<BankId>,
    pub purpose: ConsentPurpose,
    pub granted_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Consent {
    pub fn is_in_force(&self, now: DateTime<Utc>) -> bool {
        self.granted_at <= now && now < self.expires_at && self.revoked_at.is_none_or(|r| now < r)
    }

    /// Where the consent stands at `now`; `InForce` exactly when [`Consent::is_in_force`].
    pub fn state(&self, now: DateTime<Utc>) -> ConsentState {
        if self.is_in_force(now) {
            ConsentState::InForce
        } else if self.revoked_at.is_some_and(|r| r <= now) {
            ConsentState::Revoked
        } else if self.expires_at <= now {
            ConsentState::Expired
        } else {
            ConsentState::Pending
        }
    }

    fn reaches(&self, bank_id: BankId, purpose: ConsentPurpose) -> bool {
        self.purpose == purpose && self.bank_id.is_none_or(|b| b == bank_id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentState {
    /// Granted at a later instant than the one asked about.
    Pending,
    InForce,
    Expired,
    Revoked,
}

impl ConsentState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentState::Pending => "pending",
            ConsentState::InForce => "in_force",
            ConsentState::Expired => "expired",
            ConsentState::Revoked => "revoked",
        }
    }
}

/// Whether `consents` (one firm's) let `bank_id` see the firm for financing matching at `now`.
pub fn covers(consents: &[Consent], bank_id: BankId, now: DateTime<Utc>) -> bool {
    covers_for(consents, bank_id, ConsentPurpose::FinancingMatching, now)
}

pub fn covers_for(consents: &[Consent], bank_id: BankId, purpose: ConsentPurpose, now: DateTime<Utc>) -> bool {
    consents.iter().any(|c| c.reaches(bank_id, purpose) && c.is_in_force(now))
}

/// When the coverage in force at `now` lapses if nobody acts (the latest expiry among the
/// consents in force); `None` when not covered. The service schedules a re-evaluation of the
/// firm's matches for that bank at this instant.
pub fn coverage_ends_at(consents: &[Consent], bank_id: BankId, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    consents
        .iter()
        .filter(|c| c.reaches(bank_id, ConsentPurpose::FinancingMatching) && c.is_in_force(now))
        .map(|c| c.revoked_at.map_or(c.expires_at, |r| r.min(c.expires_at)))
        .max()
}

/// What an enterprise submits to grant consent. `bank_id` must be present: a bank id, or an
/// explicit `null` for all partner banks, so that "all banks" is never granted by omission.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ConsentDraft {
    #[serde(deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Uuid>, required = true)]
    pub bank_id: Option<Option<BankId>>,
    /// Omit for `financing_matching`.
    pub purpose: Option<ConsentPurpose>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConsent {
    pub bank_id: Option<BankId>,
    pub purpose: ConsentPurpose,
    pub expires_at: DateTime<Utc>,
}

impl ConsentDraft {
    pub fn validate(&self, now: DateTime<Utc>) -> Result<NewConsent, Vec<FieldError>> {
        let mut e = Errors::default();
        if self.bank_id.is_none() {
            e.add("bank_id", "required", "give a bank id, or null to consent for all partner banks");
        }
        let expires_at = e.required("expires_at", self.expires_at);
        if let Some(x) = expires_at {
            if x <= now {
                e.add("expires_at", "out_of_range", "must be in the future");
            } else if x > now + Duration::days(MAX_CONSENT_DAYS) {
                e.add("expires_at", "out_of_range", format!("must be at most {MAX_CONSENT_DAYS} days ahead"));
            }
        }
        match (self.bank_id, expires_at) {
            (Some(bank_id), Some(expires_at)) if e.is_empty() => Ok(NewConsent {
                bank_id,
                purpose: self.purpose.unwrap_or(ConsentPurpose::FinancingMatching),
                expires_at,
            }),
            _ => Err(e.list),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().expect("timestamp literal")
    }

    const A: BankId = BankId::from_uuid(Uuid::from_u128(0xa));
    const B: BankId = BankId::from_uuid(Uuid::from_u128(0xb));

    fn consent(bank: Option<BankId>, granted: &str, expires: &str, revoked: Option<&str>) -> Consent {
        Consent {
            id: Uuid::from_u128(1),
            firm_id: FirmId::from_uuid(Uuid::from_u128(2)),
            bank_id: bank,
            purpose: ConsentPurpose::FinancingMatching,
            granted_at: t(granted),
            expires_at: t(expires),
            revoked_at: revoked.map(t),
        }
    }

    #[test]
    fn coverage() {
        let g = "2025-01-01T00:00:00Z";
        let x = "2026-01-01T00:00:00Z";
        let now = t("2025-06-30T12:00:00Z");
        let cases: &[(&str, Vec<Consent>, BankId, &str, bool)] = &[
            ("none", vec![], A, "2025-06-30T12:00:00Z", false),
            ("specific bank", vec![consent(Some(A), g, x, None)], A, "2025-06-30T12:00:00Z", true),
            ("another bank's consent", vec![consent(Some(B), g, x, None)], A, "2025-06-30T12:00:00Z", false),
            ("all banks", vec![consent(None, g, x, None)], A, "2025-06-30T12:00:00Z", true),
            ("all banks, other bank", vec![consent(None, g, x, None)], B, "2025-06-30T12:00:00Z", true),
            ("at the grant instant", vec![consent(Some(A), g, x, None)], A, g, true),
            ("before the grant", vec![consent(Some(A), g, x, None)], A, "2024-12-31T23:59:59Z", false),
            ("a second before expiry", vec![consent(Some(A), g, x, None)], A, "2025-12-31T23:59:59Z", true),
            ("at expiry", vec![consent(Some(A), g, x, None)], A, x, false),
            ("revoked", vec![consent(Some(A), g, x, Some("2025-06-01T00:00:00Z"))], A, "2025-06-30T12:00:00Z", false),
            (
                "before revocation",
                vec![consent(Some(A), g, x, Some("2025-07-01T00:00:00Z"))],
                A,
                "2025-06-30T12:00:00Z",
                true,
            ),
            (
                "at revocation",
                vec![consent(Some(A), g, x, Some("2025-07-01T00:00:00Z"))],
                A,
                "2025-07-01T00:00:00Z",
                false,
            ),
            (
                "revoked all-banks, live specific",
                vec![consent(None, g, x, Some("2025-02-01T00:00:00Z")), consent(Some(A), g, x, None)],
                A,
                "2025-06-30T12:00:00Z",
                true,
            ),
            (
                "expired specific, live all-banks",
                vec![consent(Some(A), g, "2025-03-01T00:00:00Z", None), consent(None, g, x, None)],
                A,
                "2025-06-30T12:00:00Z",
                true,
            ),
        ];
        for (what, consents, bank, at, want) in cases {
            assert_eq!(covers(consents, *bank, t(at)), *want, "{what}");
        }
        assert!(covers_for(&[consent(Some(A), g, x, None)], A, ConsentPurpose::FinancingMatching, now));
    }

    #[test]
    fn coverage_end() {
        let now = t("2025-06-30T00:00:00Z");
        let consents = [
            consent(Some(A), "2025-01-01T00:00:00Z", "2025-09-01T00:00:00Z", None),
            consent(None, "2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z", Some("2025-10-01T00:00:00Z")),
            consent(Some(B), "2025-01-01T00:00:00Z", "2027-01-01T00:00:00Z", None),
        ];
        assert_eq!(coverage_ends_at(&consents, A, now), Some(t("2025-10-01T00:00:00Z")));
        assert_eq!(coverage_ends_at(&consents, B, now), Some(t("2027-01-01T00:00:00Z")));
        assert_eq!(coverage_ends_at(&consents[..1], B, now), None);
    }

    #[test]
    fn granting() {
        let now = t("2025-06-30T00:00:00Z");
        let parse = |body: &str| serde_json::from_str::<ConsentDraft>(body).expect("parses");
        let fields = |r: Result<NewConsent, Vec<FieldError>>| -> Vec<(String, String)> {
            r.err().unwrap_or_default().into_iter().map(|f| (f.field, f.code)).collect()
        };
        let all = parse(r#"{"bank_id":null,"expires_at":"2026-06-30T00:00:00Z"}"#).validate(now).expect("valid");
        assert_eq!((all.bank_id, all.purpose), (None, ConsentPurpose::FinancingMatching));
        let one = parse(r#"{"bank_id":"00000000-0000-0000-0000-00000000000a","expires_at":"2026-06-30T00:00:00Z"}"#);
        assert_eq!(one.validate(now).expect("valid").bank_id, Some(A));
        let cases: &[(&str, &[(&str, &str)])] = &[
            (r#"{"expires_at":"2026-06-30T00:00:00Z"}"#, &[("bank_id", "required")]),
            (r#"{"bank_id":null}"#, &[("expires_at", "required")]),
            (r#"{"bank_id":null,"expires_at":"2025-06-30T00:00:00Z"}"#, &[("expires_at", "out_of_range")]),
            (r#"{"bank_id":null,"expires_at":"2028-08-01T00:00:00Z"}"#, &[("expires_at", "out_of_range")]),
            (r#"{}"#, &[("bank_id", "required"), ("expires_at", "required")]),
        ];
        for (body, want) in cases {
            let want: Vec<(String, String)> = want.iter().map(|(f, c)| (f.to_string(), c.to_string())).collect();
            assert_eq!(fields(parse(body).validate(now)), want, "{body}");
        }
        assert!(serde_json::from_str::<ConsentDraft>(r#"{"bank_id":null,"purpose":"marketing"}"#).is_err());
    }
}
