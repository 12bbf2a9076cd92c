//! Fund roadshows (齐鲁企舞), their registrations and presenters, and the funds that attend them.
//! Pure types and rules: validation of what arrives, the roadshow state machine, and the ranking of
//! reserve-pool firms as presenters.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::ids::FirmId;

use crate::domain::firm::{City, Tier, Venue, vocabulary};
use crate::domain::validate::{Errors, FieldError};

mod recommend;
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

/// Create (every required field) or change (PATCH: only the fields present) a roadshow. Times are
/// RFC 3339 with an offset, e.g. `2025-06-12T09:30:00+08:00`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoadshowInput {
    #[schema(example = "齐鲁企舞·济南站 高端装备专场")]
    pub title: Option<String>,
    #[schema(value_type = Option<Centre>)]
    pub centre: Option<String>,
    #[schema(example = "济南市历下区经十路 1 号 3 楼路演厅")]
    pub venue: Option<String>,
    #[schema(example = "2025-06-12T09:30:00+08:00")]
    pub starts_at: Option<String>,
    #[schema(example = "2025-06-12T12:00:00+08:00")]
    pub ends_at: Option<String>,
    /// Default: now.
    pub registration_opens_at: Option<String>,
    /// Default: the start.
    pub registration_closes_at: Option<String>,
    /// Default: 24 hours before the start.
    pub cancellation_deadline: Option<String>,
    #[schema(example = 80)]
    pub capacity: Option<i64>,
    #[schema(example = json!(["C35", "C3471"]))]
    pub industry_focus: Option<Vec<String>>,
    pub requires_approval: Option<bool>,
    /// PATCH only: what changed, in the office's words; shown in the change mail.
    pub change_note: Option<String>,
}

/// Where a presenter's slot goes when its roadshow moves: shifted by as much as the start moved,
/// so a slot keeps its place in the programme. `None` when the shifted slot would lie outside the
/// roadshow's new time (it was shortened): the move must then be refused, not leave a stale slot.
pub fn moved_slot(
    slot: (DateTime<Utc>, DateTime<Utc>),
    before: &RoadshowFields,
    after: &RoadshowFields,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let shift = after.starts_at - before.starts_at;
    let (start, end) = (slot.0 + shift, slot.1 + shift);
    (start >= after.starts_at && end <= after.ends_at).then_some((start, end))
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoadshowFields {
    pub title: String,
    pub centre: Centre,
    pub venue: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub registration_opens_at: DateTime<Utc>,
    pub registration_closes_at: DateTime<Utc>,
    pub cancellation_deadline: DateTime<Utc>,
    pub capacity: i64,
    pub industry_focus: Vec<String>,
    pub requires_approval: bool,
}

impl RoadshowFields {
    pub fn of(r: &Roadshow) -> RoadshowFields {
        RoadshowFields {
            title: r.title.clone(),
            centre: r.centre,
            venue: r.venue.clone(),
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            registration_opens_at: r.registration_opens_at,
            registration_closes_at: r.registration_closes_at,
            cancellation_deadline: r.cancellation_deadline,
            capacity: r.capacity,
            industry_focus: r.industry_focus.clone(),
            requires_approval: r.requires_approval,
        }
    }

    /// Whether what people put in their calendars changed (title, place or time): such a change
    /// raises the calendar SEQUENCE and mails every confirmed registration an updated invitation.
    pub fn calendar_changed(&self, other: &RoadshowFields) -> bool {
        self.title != other.title
            || self.centre != other.centre
            || self.venue != other.venue
            || self.starts_at != other.starts_at
            || self.ends_at != other.ends_at
    }
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

impl RoadshowInput {
    /// Validates a new roadshow, or the fields present over `base` (PATCH). Reports every bad field.
    pub fn validate_onto(
        &self,
        base: Option<&RoadshowFields>,
        now: DateTime<Utc>,
    ) -> Result<RoadshowFields, Vec<FieldError>> {
        let mut e = Errors::default();
        let req = |e: &mut Errors, field: &str, present: bool| {
            if !present && base.is_none() {
                e.add(field, "required", "is required");
            }
        };
        req(&mut e, "title", self.title.is_some());
        req(&mut e, "centre", self.centre.is_some());
        req(&mut e, "starts_at", self.starts_at.is_some());
        req(&mut e, "ends_at", self.ends_at.is_some());
        req(&mut e, "capacity", self.capacity.is_some());

        let title = match self.title.as_deref() {
            Some(t) => e.text("title", Some(t), 200),
            None => base.map(|b| b.title.clone()),
        };
        let centre = match self.centre.as_deref() {
            Some(c) => e.vocab::<Centre>("centre", Some(c)),
            None => base.map(|b| b.centre),
        };
        let venue = match self.venue.as_deref() {
            Some(v) if v.trim().is_empty() => None,
            Some(v) => e.text("venue", Some(v), 500),
            None => base.and_then(|b| b.venue.clone()),
        };
        let starts_at = match self.starts_at.as_deref() {
            Some(s) => instant(&mut e, "starts_at", Some(s)),
            None => base.map(|b| b.starts_at),
        };
        let ends_at = match self.ends_at.as_deref() {
            Some(s) => instant(&mut e, "ends_at", Some(s)),
            None => base.map(|b| b.ends_at),
        };
        let opens = match self.registration_opens_at.as_deref() {
            Some(s) => instant(&mut e, "registration_opens_at", Some(s)),
            None => Some(base.map(|b| b.registration_opens_at).unwrap_or(now)),
        };
        let closes = match self.registration_closes_at.as_deref() {
            Some(s) => instant(&mut e, "registration_closes_at", Some(s)),
            None => base.map(|b| b.registration_closes_at).or(starts_at),
        };
        let deadline = match self.cancellation_deadline.as_deref() {
            Some(s) => instant(&mut e, "cancellation_deadline", Some(s)),
            None => base.map(|b| b.cancellation_deadline).or(starts_at.map(|s| s - Duration::hours(24))),
        };
        let capacity = match self.capacity {
            Some(c) => e.int_range("capacity", Some(c), 1, MAX_CAPACITY),
            None => base.map(|b| b.capacity),
        };
        let industry_focus = match &self.industry_focus {
            Some(list) => {
                let mut out: Vec<String> = Vec::new();
                if list.len() > 20 {
                    e.add("industry_focus", "too_long", "at most 20 codes");
                }
                for (i, p) in list.iter().enumerate() {
                    let p = p.trim().to_ascii_uppercase();
                    if valid_industry_prefix(&p) {
                        if !out.contains(&p) {
                            out.push(p);
                        }
                    } else {
                        e.add(
                            &format!("industry_focus.{i}"),
                            "invalid",
                            "must be a GB/T 4754 code or prefix, e.g. C, C35, C3562",
                        );
                    }
                }
                out.sort();
                Some(out)
            }
            None => Some(base.map(|b| b.industry_focus.clone()).unwrap_or_default()),
        };
        let requires_approval = self.requires_approval.or(base.map(|b| b.requires_approval)).unwrap_or(false);
        if let Some(note) = self.change_note.as_deref() {
            e.text("change_note", Some(note), 500);
        }

        let mut span_ok = true;
        if let (Some(s), Some(en)) = (starts_at, ends_at) {
            if en <= s {
                e.add("ends_at", "out_of_range", "must be after starts_at");
                span_ok = false;
            } else if en - s > Duration::days(MAX_DURATION_DAYS) {
                e.add("ends_at", "out_of_range", format!("a roadshow lasts at most {MAX_DURATION_DAYS} days"));
            }
        }
        if let (Some(o), Some(c)) = (opens, closes)
            && c <= o
        {
            e.add("registration_closes_at", "out_of_range", "must be after registration_opens_at");
        }
        if let (Some(c), Some(en)) = (closes, ends_at)
            && span_ok
            && c > en
        {
            e.add("registration_closes_at", "out_of_range", "must not be after ends_at");
        }
        if let (Some(d), Some(s)) = (deadline, starts_at)
            && d > s
        {
            e.add("cancellation_deadline", "out_of_range", "must not be after starts_at");
        }
        match (title, centre, starts_at, ends_at, opens, closes, deadline, capacity, industry_focus, e.is_empty()) {
            (
                Some(title),
                Some(centre),
                Some(starts_at),
                Some(ends_at),
                Some(registration_opens_at),
                Some(registration_closes_at),
                Some(cancellation_deadline),
                Some(capacity),
                Some(industry_focus),
                true,
            ) => Ok(RoadshowFields {
                title,
                centre,
                venue,
                starts_at,
                ends_at,
                registration_opens_at,
                registration_closes_at,
                cancellation_deadline,
                capacity,
                industry_focus,
                requires_approval,
            }),
            _ => Err(e.list),
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
