//! Fund roadshows (齐鲁企舞), their registrations and presenters, and the funds that attend them.
//! Pure types and rules: validation of what arrives, the roadshow state machine, and the ranking of
//! reserve-pool firms as presenters.
//!
//! A roadshow's writable fields and their validation are in `input.rs`, the ranking of presenters in
//! `recommend.rs`.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::ids::FirmId;

use crate::domain::firm::{City, Tier, Venue, vocabulary};
use crate::domain::validate::{Errors, FieldError};

mod input;
mod recommend;
pub use input::{RoadshowFields, RoadshowInput, moved_slot};
pub use recommend::*;

vocabulary!(
    /// Roadshow centres of the 齐鲁企舞 platform.
    Centre {
        Jinan = "jinan" / "济南",
        Beijing = "beijing" / "北京",
        Shanghai = "shanghai" / "上海",
        Shenzhen = "shenzhen" / "深圳",
        Online = "online" / "线上",
    }
);

vocabulary!(
    /// Life of a roadshow.
    RoadshowStatus {
        Draft = "draft" / "草稿",
        Published = "published" / "已发布",
        Closed = "closed" / "报名已截止",
        Cancelled = "cancelled" / "已取消",
        Completed = "completed" / "已举办",
    }
);

impl RoadshowStatus {
    /// The statuses an admin may move a roadshow to from this one.
    pub fn allowed_next(self) -> &'static [RoadshowStatus] {
        use RoadshowStatus::*;
        match self {
            Draft => &[Published, Cancelled],
            Published => &[Closed, Cancelled, Completed],
            Closed => &[Published, Cancelled, Completed],
            Cancelled | Completed => &[],
        }
    }

    /// Whether details (time, venue, capacity…) may still change.
    pub fn editable(self) -> bool {
        matches!(self, RoadshowStatus::Draft | RoadshowStatus::Published | RoadshowStatus::Closed)
    }

    /// Whether funds and enterprises may see the roadshow at all.
    pub fn public(self) -> bool {
        self != RoadshowStatus::Draft
    }
}

vocabulary!(
    /// A fund manager's registration for a roadshow. `pending_approval` and `rejected` exist only
    /// for roadshows with an approval step.
    RegistrationStatus {
        PendingApproval = "pending_approval" / "待审核",
        Confirmed = "confirmed" / "报名成功",
        Waitlisted = "waitlisted" / "候补",
        Cancelled = "cancelled" / "已取消",
        Rejected = "rejected" / "未通过审核",
    }
);

impl RegistrationStatus {
    /// Active registrations count for the one-per-e-mail rule.
    pub fn active(self) -> bool {
        matches!(
            self,
            RegistrationStatus::PendingApproval | RegistrationStatus::Confirmed | RegistrationStatus::Waitlisted
        )
    }
}

vocabulary!(
    /// Kind of fund organisation.
    FundKind {
        Vc = "vc" / "创业投资基金",
        Pe = "pe" / "私募股权基金",
        GuidanceFund = "guidance_fund" / "政府引导基金",
        BankInvestment = "bank_investment" / "银行投资机构",
    }
);

/// Largest party one registration may bring (the fund manager and colleagues).
pub const MAX_PARTY_SIZE: i64 = 10;
/// Largest roadshow capacity accepted.
pub const MAX_CAPACITY: i64 = 100_000;
/// Longest roadshow accepted.
pub const MAX_DURATION_DAYS: i64 = 7;

/// A fund organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Fund {
    pub id: Uuid,
    pub name: String,
    pub kind: FundKind,
    /// Confidential: never logged.
    pub contact_email: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FundInput {
    #[schema(example = "齐鲁前沿创投基金", required = true, nullable = false, pattern = "\\S", max_length = 200)]
    pub name: Option<String>,
    #[schema(value_type = FundKind, required = true)]
    pub kind: Option<String>,
    #[schema(example = "deals@fund.example.cn", required = true, nullable = false, format = Email, max_length = 254)]
    pub contact_email: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FundFields {
    pub name: String,
    pub kind: FundKind,
    pub contact_email: String,
}

impl FundInput {
    pub fn validate(&self) -> Result<FundFields, Vec<FieldError>> {
        let mut e = Errors::default();
        let name = e.required("name", self.name.as_deref()).and_then(|n| e.text("name", Some(n), 200));
        let kind = e.required("kind", self.kind.as_deref()).and_then(|k| e.vocab::<FundKind>("kind", Some(k)));
        let contact_email = email(&mut e, "contact_email", self.contact_email.as_deref(), true);
        match (name, kind, contact_email, e.is_empty()) {
            (Some(name), Some(kind), Some(contact_email), true) => Ok(FundFields { name, kind, contact_email }),
            _ => Err(e.list),
        }
    }
}

/// An e-mail address that a mail server will accept (`lettre` parses it), at most 254 characters.
pub fn valid_email(s: &str) -> bool {
    s.len() <= 254 && !s.chars().any(|c| c.is_whitespace() || c.is_control()) && s.parse::<lettre::Address>().is_ok()
}

/// The key of an address for the one-registration-per-e-mail rule.
pub fn email_key(s: &str) -> String {
    s.trim().to_lowercase()
}

fn email(e: &mut Errors, field: &str, value: Option<&str>, required: bool) -> Option<String> {
    let v = if required { e.required(field, value)? } else { value? };
    let v = v.trim();
    if !valid_email(v) {
        e.add(field, "invalid", "is not an e-mail address");
        return None;
    }
    Some(v.to_owned())
}

/// A GB/T 4754 code or code prefix: a section letter A–T, optionally followed by 1 to 4 digits.
pub fn valid_industry_prefix(p: &str) -> bool {
    let mut chars = p.chars();
    let Some(section) = chars.next() else { return false };
    let digits: Vec<char> = chars.collect();
    ('A'..='T').contains(&section) && digits.len() <= 4 && digits.iter().all(|c| c.is_ascii_digit())
}

/// Whether a firm's industry code falls under one of the focus prefixes (none = every industry).
pub fn industry_matches(focus: &[String], industry_code: &str) -> bool {
    focus.is_empty() || focus.iter().any(|p| industry_code.starts_with(p.as_str()))
}

/// A roadshow as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Roadshow {
    pub id: Uuid,
    pub title: String,
    pub centre: Centre,
    /// Address and room, or the meeting link for `online`.
    pub venue: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub registration_opens_at: DateTime<Utc>,
    pub registration_closes_at: DateTime<Utc>,
    /// Fund managers may cancel their own registration until this instant.
    pub cancellation_deadline: DateTime<Utc>,
    /// Seats. A registration takes `party_size` seats.
    pub capacity: i64,
    pub seats_taken: i64,
    pub seats_left: i64,
    /// GB/T 4754 codes or prefixes the roadshow is about; empty = every industry.
    pub industry_focus: Vec<String>,
    /// Registrations wait for the office's approval before they take a seat.
    pub requires_approval: bool,
    pub status: RoadshowStatus,
    /// Calendar SEQUENCE: raised on every change of title, centre, venue or time.
    pub sequence: i64,
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn instant(e: &mut Errors, field: &str, value: Option<&str>) -> Option<DateTime<Utc>> {
    let v = value?.trim();
    match DateTime::parse_from_rfc3339(v) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(_) => {
            e.add(field, "invalid", format!("{v:?} is not an RFC 3339 time, e.g. 2025-06-12T09:30:00+08:00"));
            None
        }
    }
}

/// A change of a roadshow's status, with an optional reason (shown in the cancellation mail).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    #[schema(value_type = RoadshowStatus)]
    pub status: String,
    /// Not blank when given.
    #[schema(pattern = "\\S", max_length = 500)]
    pub reason: Option<String>,
}

/// A fund manager's registration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Registration {
    pub id: Uuid,
    pub roadshow_id: Uuid,
    pub fund_id: Uuid,
    pub status: RegistrationStatus,
    /// Current place on the waitlist (1 = next to be promoted); `null` unless waitlisted.
    pub waitlist_position: Option<i64>,
    pub attendee_name: String,
    pub attendee_email: String,
    pub party_size: i64,
    /// Shown at the door (e.g. as a QR code) and sent to `POST /v1/roadshows/{id}/check-in`.
    pub checkin_token: String,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// `fund`, `office`, `roadshow_cancelled` or `rejected`.
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationInput {
    #[schema(example = "王经理")]
    pub attendee_name: Option<String>,
    #[schema(example = "wang@fund.example.cn")]
    pub attendee_email: Option<String>,
    /// Seats taken, the attendee included (1 to 10); default 1.
    #[schema(minimum = 1, maximum = 10)]
    pub party_size: Option<i64>,
    /// Admin keys only: the fund the registration is for.
    pub fund_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RegistrationFields {
    pub attendee_name: String,
    pub attendee_email: String,
    pub party_size: i64,
}

impl RegistrationInput {
    pub fn validate(&self) -> Result<RegistrationFields, Vec<FieldError>> {
        let mut e = Errors::default();
        let attendee_name = e
            .required("attendee_name", self.attendee_name.as_deref())
            .and_then(|n| e.text("attendee_name", Some(n), 100));
        let attendee_email = email(&mut e, "attendee_email", self.attendee_email.as_deref(), true);
        let party_size = e.int_range("party_size", Some(self.party_size.unwrap_or(1)), 1, MAX_PARTY_SIZE);
        match (attendee_name, attendee_email, party_size, e.is_empty()) {
            (Some(attendee_name), Some(attendee_email), Some(party_size), true) => {
                Ok(RegistrationFields { attendee_name, attendee_email, party_size })
            }
            _ => Err(e.list),
        }
    }
}

/// Why a registration may not be created now, if it may not.
pub fn registration_refusal(rs: &Roadshow, now: DateTime<Utc>) -> Option<(&'static str, String)> {
    if rs.status != RoadshowStatus::Published {
        return Some(("roadshow_not_open", format!("the roadshow is {}, not open for registration", rs.status)));
    }
    if now < rs.registration_opens_at {
        return Some(("registration_not_open", format!("registration opens at {}", rs.registration_opens_at)));
    }
    if now >= rs.registration_closes_at {
        return Some(("registration_closed", format!("registration closed at {}", rs.registration_closes_at)));
    }
    None
}

/// The office's decision on a registration that waits for approval.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// `approve` (the registration then takes seats or joins the waitlist) or `reject`.
    #[schema(example = "approve", pattern = "^(approve|reject)$")]
    pub decision: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInRequest {
    /// The registration's `checkin_token`.
    pub token: String,
}

/// A presenting firm's slot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Presenter {
    /// The slot id (stable: the calendar UID of the firm's invitation derives from it).
    pub id: Uuid,
    pub roadshow_id: Uuid,
    #[schema(value_type = Uuid)]
    pub firm_id: FirmId,
    pub firm_name: String,
    pub industry_code: String,
    pub slot_starts_at: DateTime<Utc>,
    pub slot_ends_at: DateTime<Utc>,
    /// Raised each time the slot moves.
    pub sequence: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotInput {
    #[schema(example = "2025-06-12T10:00:00+08:00", required = true, nullable = false, format = DateTime)]
    pub slot_starts_at: Option<String>,
    #[schema(example = "2025-06-12T10:20:00+08:00", required = true, nullable = false, format = DateTime)]
    pub slot_ends_at: Option<String>,
}

impl SlotInput {
    /// A slot lies within the roadshow's time.
    pub fn validate(&self, rs: &Roadshow) -> Result<(DateTime<Utc>, DateTime<Utc>), Vec<FieldError>> {
        let mut e = Errors::default();
        let s = e
            .required("slot_starts_at", self.slot_starts_at.as_deref())
            .and_then(|v| instant(&mut e, "slot_starts_at", Some(v)));
        let en = e
            .required("slot_ends_at", self.slot_ends_at.as_deref())
            .and_then(|v| instant(&mut e, "slot_ends_at", Some(v)));
        if let (Some(s), Some(en)) = (s, en) {
            if en <= s {
                e.add("slot_ends_at", "out_of_range", "must be after slot_starts_at");
            }
            if s < rs.starts_at || en > rs.ends_at {
                e.add("slot_starts_at", "out_of_range", "the slot must lie within the roadshow's start and end");
            }
        }
        match (s, en, e.is_empty()) {
            (Some(s), Some(en), true) => Ok((s, en)),
            _ => Err(e.list),
        }
    }
}

/// A firm's opt-in to be shown to fund managers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InvestorVisibility {
    #[schema(value_type = Uuid)]
    pub firm_id: FirmId,
    /// `true`: the firm may be recommended to the office as a roadshow presenter and shown to funds.
    pub visible: bool,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisibilityInput {
    pub visible: bool,
}

#[cfg(test)]
mod tests;
