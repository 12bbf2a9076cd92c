//! Roadshow use cases: each runs inside the caller's transaction and writes its mails to the
//! outbox (and its events to the event outbox) in that same transaction, so a mail exists exactly
//! when the change it reports committed.
//!
//! Capacity: every use case that changes registrations starts with `roadshows::lock` (the row lock
//! on PostgreSQL; SQLite's `BEGIN IMMEDIATE` already serialises writers), then takes seats only
//! through the conditional `roadshows::take_seats`. So under any concurrency the seats given out
//! never exceed the capacity, waitlist places come from the roadshow's counter in lock order, and
//! seats freed by a cancellation go to the waitlist before the transaction commits.

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use rand::RngCore as _;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::config::Config;
use crate::db::Db;
use crate::domain::access::{ActsFor, Principal, Role};
use crate::domain::events::EventKind;
use crate::domain::roadshow::{
    InvestorVisibility, Presenter, Recommendation, Registration, RegistrationFields, RegistrationInput,
    RegistrationStatus, Roadshow, RoadshowFields, RoadshowInput, RoadshowStatus, email_key, moved_slot, rank,
    registration_refusal, valid_industry_prefix,
};
use crate::error::{AppError, AppResult};
use crate::mail::ics::Party;
use crate::mail::ics::{self, CalendarEvent, EventStatus};
use crate::mail::outbox;
use crate::mail::templates::{MailContext, MailKind, MailRequest, RegistrationInfo, RoadshowInfo};
use crate::mail::templates::{span_en, span_zh};
use crate::service::events::{self, NewEvent};
use crate::service::paging::{given, query_vocab};
use crate::store::{Conn, firms, funds, registrations, roadshows};

/// What every roadshow mail needs besides its recipient: the office as sender and organizer,
/// and where the roadshow can be looked at.
#[derive(Debug, Clone)]
pub struct Letterhead {
    pub organizer: Party,
    /// `{public_base_url}/v1/roadshows/{id}` when a public base URL is configured.
    pub link_base: Option<String>,
}

impl Letterhead {
    pub fn from_config(config: &Config) -> Letterhead {
        Letterhead {
            organizer: outbox::organizer(config),
            link_base: config.public_base_url.as_ref().map(|b| b.trim_end_matches('/').to_owned()),
        }
    }

    fn roadshow_info(&self, rs: &Roadshow) -> RoadshowInfo {
        RoadshowInfo {
            id: rs.id,
            title: rs.title.clone(),
            centre: rs.centre.into(),
            venue: rs.venue.clone(),
            starts_at: rs.starts_at,
            ends_at: rs.ends_at,
            url: self.link_base.as_ref().map(|b| format!("{b}/v1/roadshows/{}", rs.id)),
        }
    }
}

/// Mails one registration; calendar-carrying kinds raise the registration's SEQUENCE first.
async fn mail_registration(
    conn: &mut Conn,
    lh: &Letterhead,
    rs: &Roadshow,
    reg: &Registration,
    kind: MailKind,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let sequence = if kind.ics_method().is_some() { registrations::next_ics_sequence(conn, reg.id).await? } else { 0 };
    enqueue_registration_mail(conn, lh, rs, reg, kind, sequence, now).await
}

async fn enqueue_registration_mail(
    conn: &mut Conn,
    lh: &Letterhead,
    rs: &Roadshow,
    reg: &Registration,
    kind: MailKind,
    sequence: u32,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let req = MailRequest {
        kind,
        context: MailContext {
            recipient: Party { name: reg.attendee_name.clone(), email: reg.attendee_email.clone() },
            organizer: lh.organizer.clone(),
            created_at: now,
            roadshow: Some(lh.roadshow_info(rs)),
            registration: Some(RegistrationInfo {
                id: reg.id,
                sequence,
                party_size: u32::try_from(reg.party_size).unwrap_or(1),
            }),
        },
    };
    outbox::enqueue(conn, &req, now).await
}

/// Mails a presenting firm's contact its slot, if the firm has a deliverable contact address.
async fn mail_presenter(
    conn: &mut Conn,
    lh: &Letterhead,
    rs: &Roadshow,
    p: &Presenter,
    now: DateTime<Utc>,
) -> AppResult<Option<Uuid>> {
    let Some(firm) = firms::get(conn, p.firm_id).await? else { return Ok(None) };
    let Some(email) = firm.contact_email.clone().filter(|e| outbox::deliverable(e)) else {
        tracing::warn!(firm_id = %firm.id, roadshow_id = %rs.id, "presenter slot not mailed: the firm has no deliverable contact address");
        return Ok(None);
    };
    let req = MailRequest {
        kind: MailKind::PresenterSlot {
            slot_id: p.id,
            sequence: u32::try_from(p.sequence).unwrap_or(0),
            firm_name: firm.name.clone(),
            slot_starts_at: p.slot_starts_at,
            slot_ends_at: p.slot_ends_at,
        },
        context: MailContext {
            recipient: Party { name: firm.contact_name.clone().unwrap_or_else(|| firm.name.clone()), email },
            organizer: lh.organizer.clone(),
            created_at: now,
            roadshow: Some(lh.roadshow_info(rs)),
            registration: None,
        },
    };
    outbox::enqueue(conn, &req, now).await.map(Some)
}

async fn record_event(
    conn: &mut Conn,
    kind: EventKind,
    firm_id: Option<Uuid>,
    fact: String,
    data: serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    events::record(conn, NewEvent::fact(kind, firm_id, None, fact, data), now).await?;
    Ok(())
}

fn conflict(code: &'static str, detail: impl Into<String>, extra: Option<serde_json::Value>) -> AppError {
    AppError::Conflict { code, detail: detail.into(), extra }
}

async fn locked(conn: &mut Conn, id: Uuid) -> AppResult<Roadshow> {
    roadshows::lock(conn, id, true).await?.ok_or(AppError::not_found("roadshow"))
}

async fn reload(conn: &mut Conn, id: Uuid) -> AppResult<Registration> {
    registrations::get(conn, id).await?.ok_or_else(|| anyhow::anyhow!("registration {id} vanished").into())
}

#[tracing::instrument(skip_all)]
pub async fn create_roadshow(conn: &mut Conn, f: &RoadshowFields, now: DateTime<Utc>) -> AppResult<Roadshow> {
    let rs = roadshows::insert(conn, f, RoadshowStatus::Draft, now).await?;
    record_event(
        conn,
        EventKind::RoadshowCreated,
        None,
        format!("roadshow:{}:created", rs.id),
        json!({ "roadshow_id": rs.id }),
        now,
    )
    .await?;
    Ok(rs)
}

/// Applies a PATCH. A change of title, place or time raises the calendar SEQUENCE and mails every
/// confirmed registration (and every presenter) an updated invitation; a larger capacity promotes
/// from the waitlist at once.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn update_roadshow(
    conn: &mut Conn,
    lh: &Letterhead,
    id: Uuid,
    input: &RoadshowInput,
    now: DateTime<Utc>,
) -> AppResult<Roadshow> {
    let rs = locked(conn, id).await?;
    if !rs.status.editable() {
        return Err(conflict("roadshow_not_editable", format!("a {} roadshow cannot change", rs.status), None));
    }
    let before = RoadshowFields::of(&rs);
    let after = input.validate_onto(Some(&before), now)?;
    if after == before {
        return Ok(rs);
    }
    let calendar_changed = after.calendar_changed(&before);
    // Presenter slots move with the roadshow, all or none, in this transaction.
    let times_moved = after.starts_at != before.starts_at || after.ends_at != before.ends_at;
    let mut slot_moves = Vec::new();
    if times_moved {
        for p in roadshows::presenters(conn, id, None).await? {
            let Some(slot) = moved_slot((p.slot_starts_at, p.slot_ends_at), &before, &after) else {
                return Err(conflict(
                    "slot_outside_roadshow",
                    "a presenter's slot would fall outside the roadshow's new time; move or remove it first",
                    Some(json!({ "firm_id": p.firm_id })),
                ));
            };
            slot_moves.push((p.firm_id, slot));
        }
    }
    if !roadshows::update(conn, id, &after, calendar_changed, now).await? {
        return Err(conflict(
            "capacity_below_seats_taken",
            format!("{} seats are taken; the capacity cannot be lower", rs.seats_taken),
            Some(json!({ "seats_taken": rs.seats_taken })),
        ));
    }
    for (firm_id, (start, end)) in &slot_moves {
        roadshows::move_presenter(conn, id, *firm_id, *start, *end, now).await?;
    }
    let rs = roadshows::get(conn, id).await?.ok_or(AppError::not_found("roadshow"))?;
    if calendar_changed && rs.status.public() {
        let note = input.change_note.clone().map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        for reg in registrations::with_status(conn, id, &[RegistrationStatus::Confirmed]).await? {
            mail_registration(conn, lh, &rs, &reg, MailKind::RoadshowChanged { note: note.clone() }, now).await?;
        }
        for p in roadshows::presenters(conn, id, None).await? {
            if !times_moved {
                // Same slot, new title or place: a higher SEQUENCE makes clients take the update.
                roadshows::move_presenter(conn, id, p.firm_id, p.slot_starts_at, p.slot_ends_at, now).await?;
            }
            if let Some(p) = roadshows::presenter(conn, id, p.firm_id).await? {
                mail_presenter(conn, lh, &rs, &p, now).await?;
            }
        }
    }
    if after.capacity > before.capacity {
        promote(conn, lh, &rs, now).await?;
    }
    record_event(
        conn,
        EventKind::RoadshowChanged,
        None,
        format!("roadshow:{id}:changed:{}", crate::db::types::ts(now)),
        json!({ "roadshow_id": id, "calendar_changed": calendar_changed }),
        now,
    )
    .await?;
    roadshows::get(conn, id).await?.ok_or(AppError::not_found("roadshow"))
}

/// Moves a roadshow along its state machine. Cancelling cancels every active registration, frees
/// the seats and mails each registrant a calendar cancellation.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn change_status(
    conn: &mut Conn,
    lh: &Letterhead,
    id: Uuid,
    to: RoadshowStatus,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Roadshow> {
    let rs = locked(conn, id).await?;
    if rs.status == to {
        return Ok(rs);
    }
    if !rs.status.allowed_next().contains(&to) {
        return Err(conflict(
            "illegal_transition",
            format!("a {} roadshow cannot become {to}", rs.status),
            Some(json!({ "allowed_next": rs.status.allowed_next() })),
        ));
    }
    let from = rs.status;
    let cancelling = to == RoadshowStatus::Cancelled;
    roadshows::set_status(conn, id, to, reason.filter(|_| cancelling), cancelling, now).await?;
    let rs = roadshows::get(conn, id).await?.ok_or(AppError::not_found("roadshow"))?;
    if from == RoadshowStatus::Draft && to == RoadshowStatus::Published {
        mail_all_presenters(conn, lh, &rs, now).await?;
    }
    if cancelling {
        let active =
            [RegistrationStatus::Confirmed, RegistrationStatus::Waitlisted, RegistrationStatus::PendingApproval];
        for reg in registrations::with_status(conn, id, &active).await? {
            if registrations::transition(
                conn,
                reg.id,
                reg.status,
                RegistrationStatus::Cancelled,
                None,
                Some("roadshow_cancelled"),
                now,
            )
            .await?
            {
                let kind = MailKind::RoadshowCancelled { reason: reason.map(str::to_owned) };
                mail_registration(conn, lh, &rs, &reg, kind, now).await?;
            }
        }
        roadshows::clear_seats(conn, id).await?;
    }
    record_event(
        conn,
        EventKind::RoadshowStatusChanged,
        None,
        format!("roadshow:{id}:{to}:{}", crate::db::types::ts(now)),
        json!({ "roadshow_id": id, "from": from, "to": to }),
        now,
    )
    .await?;
    roadshows::get(conn, id).await?.ok_or(AppError::not_found("roadshow"))
}

fn checkin_token() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 18];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The 409 for a second active registration of the same address. The existing registration is
/// shown only to its own fund (and the office): another fund learns nothing about it.
fn already_registered(existing: &Registration, caller: &Principal) -> AppError {
    let visible = caller.is_admin() || caller.fund_id() == Some(existing.fund_id);
    let extra = visible.then(|| json!({ "existing_registration": existing }));
    conflict("already_registered", "this e-mail address already has an active registration for the roadshow", extra)
}

/// Registers a fund manager: confirmed while seats remain (the conditional seat update decides),
/// otherwise waitlisted at the next place; on roadshows with an approval step, pending approval.
///
/// The roadshow lock is held from the first statement to commit, so the path is kept short: lock,
/// seat update (and waitlist counter), insert, mail row. A duplicate address is detected by the
/// insert itself (the partial unique index); the caller's rollback then returns the seat.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, fund_id = %fund_id, roadshow_id = %roadshow_id))]
pub async fn register(
    conn: &mut Conn,
    lh: &Letterhead,
    roadshow_id: Uuid,
    fund_id: Uuid,
    f: &RegistrationFields,
    caller: &Principal,
    now: DateTime<Utc>,
) -> AppResult<Registration> {
    let Some((rs, admitted)) = roadshows::admit(conn, roadshow_id, f.party_size, now).await? else {
        return Err(why_not_admitted(conn, roadshow_id, caller, now).await);
    };
    let key = email_key(&f.attendee_email);
    let (status, waitlist_seq) = match admitted {
        roadshows::Admitted::Confirmed => (RegistrationStatus::Confirmed, None),
        roadshows::Admitted::Waitlisted(seq) => (RegistrationStatus::Waitlisted, Some(seq)),
        roadshows::Admitted::PendingApproval => (RegistrationStatus::PendingApproval, None),
    };
    let confirmed = status == RegistrationStatus::Confirmed;
    let id = Uuid::now_v7();
    let token = checkin_token();
    let inserted = registrations::insert(
        conn,
        &registrations::NewRegistration {
            id,
            roadshow_id,
            fund_id,
            status,
            attendee_name: &f.attendee_name,
            attendee_email: &f.attendee_email,
            email_key: &key,
            party_size: f.party_size,
            waitlist_seq,
            checkin_token: &token,
            ics_sequence: confirmed.then_some(0),
            created_by_key: caller.key_id,
        },
        now,
    )
    .await?;
    if !inserted {
        let existing = registrations::find_active_by_email(conn, roadshow_id, &key).await?;
        return Err(match existing {
            Some(existing) => already_registered(&existing, caller),
            None => conflict("already_registered", "this e-mail address already has an active registration", None),
        });
    }
    let waitlist_position = match waitlist_seq {
        Some(seq) => Some(registrations::waitlist_position(conn, roadshow_id, seq).await?),
        None => None,
    };
    // As stored (timestamps at the column's microsecond precision), without reading it back.
    let at = crate::db::types::Ts::try_from(crate::db::types::ts(now)).map(|t| t.0).unwrap_or(now);
    let reg = Registration {
        id,
        roadshow_id,
        fund_id,
        status,
        waitlist_position,
        attendee_name: f.attendee_name.clone(),
        attendee_email: f.attendee_email.clone(),
        party_size: f.party_size,
        checkin_token: token,
        checked_in_at: None,
        confirmed_at: confirmed.then_some(at),
        cancelled_at: None,
        cancel_reason: None,
        created_at: at,
        updated_at: at,
    };
    match status {
        RegistrationStatus::Confirmed => {
            enqueue_registration_mail(conn, lh, &rs, &reg, MailKind::RegistrationConfirmed, 0, now).await?;
        }
        RegistrationStatus::Waitlisted => {
            let position = u32::try_from(waitlist_position.unwrap_or(1)).unwrap_or(u32::MAX);
            let kind = MailKind::RegistrationWaitlisted { position };
            enqueue_registration_mail(conn, lh, &rs, &reg, kind, 0, now).await?;
        }
        _ => {}
    }
    Ok(reg)
}

/// Why a roadshow took no registration (read only on that path): not found, not visible to the
/// caller, or closed for registration.
async fn why_not_admitted(conn: &mut Conn, roadshow_id: Uuid, caller: &Principal, now: DateTime<Utc>) -> AppError {
    let rs = match roadshows::get(conn, roadshow_id).await {
        Ok(Some(rs)) => rs,
        Ok(None) => return AppError::not_found("roadshow"),
        Err(e) => return e,
    };
    if !rs.status.public() && !caller.is_admin() {
        return AppError::not_found("roadshow");
    }
    match registration_refusal(&rs, now) {
        Some((code, detail)) => conflict(code, detail, None),
        // Opened or reopened since the decision a moment ago: the caller may simply try again.
        None => conflict("registration_not_open", "the roadshow's registration changed meanwhile; try again", None),
    }
}

/// Gives free seats to the waitlist, in waitlist order: each waitlisted registration whose party
/// fits in the seats still free is promoted (a large party that does not fit keeps its place for
/// the next release, and does not block smaller parties behind it). Returns the promoted.
#[tracing::instrument(skip_all)]
pub async fn promote(
    conn: &mut Conn,
    lh: &Letterhead,
    rs: &Roadshow,
    now: DateTime<Utc>,
) -> AppResult<Vec<Registration>> {
    let mut promoted = Vec::new();
    if !matches!(rs.status, RoadshowStatus::Published | RoadshowStatus::Closed) || now >= rs.ends_at {
        return Ok(promoted);
    }
    let current = roadshows::get(conn, rs.id).await?.ok_or(AppError::not_found("roadshow"))?;
    let mut free = current.seats_left;
    for (id, party) in registrations::waitlist(conn, rs.id).await? {
        if free <= 0 {
            break;
        }
        if party > free || !roadshows::take_seats(conn, rs.id, party).await? {
            continue;
        }
        if !registrations::transition(
            conn,
            id,
            RegistrationStatus::Waitlisted,
            RegistrationStatus::Confirmed,
            None,
            None,
            now,
        )
        .await?
        {
            roadshows::release_seats(conn, rs.id, party).await?;
            continue;
        }
        free -= party;
        let reg = reload(conn, id).await?;
        mail_registration(conn, lh, &current, &reg, MailKind::RegistrationPromoted, now).await?;
        promoted.push(reg);
    }
    Ok(promoted)
}

/// Cancels a registration. A fund may cancel its own until the cancellation deadline; the office
/// may cancel any until the roadshow ends. Cancelling a cancelled registration changes nothing.
/// Seats it held go to the waitlist in the same transaction.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, roadshow_id = %roadshow_id, registration_id = %registration_id))]
pub async fn cancel(
    conn: &mut Conn,
    lh: &Letterhead,
    roadshow_id: Uuid,
    registration_id: Uuid,
    caller: &Principal,
    now: DateTime<Utc>,
) -> AppResult<Registration> {
    let rs = locked(conn, roadshow_id).await?;
    let reg = visible_registration(conn, roadshow_id, registration_id, caller).await?;
    if !reg.status.active() {
        return Ok(reg);
    }
    if caller.is_admin() {
        if now >= rs.ends_at {
            return Err(conflict("roadshow_over", "the roadshow has ended", None));
        }
    } else if now >= rs.cancellation_deadline {
        return Err(conflict(
            "cancellation_deadline_passed",
            format!("registrations could be cancelled until {}", rs.cancellation_deadline),
            Some(json!({ "cancellation_deadline": rs.cancellation_deadline })),
        ));
    }
    let reason = if caller.is_admin() { "office" } else { "fund" };
    if !registrations::transition(conn, reg.id, reg.status, RegistrationStatus::Cancelled, None, Some(reason), now)
        .await?
    {
        return reload(conn, reg.id).await;
    }
    if reg.status == RegistrationStatus::Confirmed {
        roadshows::release_seats(conn, roadshow_id, reg.party_size).await?;
    }
    let cancelled = reload(conn, reg.id).await?;
    mail_registration(conn, lh, &rs, &cancelled, MailKind::RegistrationCancelled, now).await?;
    if reg.status == RegistrationStatus::Confirmed {
        promote(conn, lh, &rs, now).await?;
    }
    reload(conn, reg.id).await
}

/// The office approves (the registration then takes seats or joins the waitlist) or rejects a
/// registration that waits for approval.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, roadshow_id = %roadshow_id, registration_id = %registration_id))]
pub async fn decide(
    conn: &mut Conn,
    lh: &Letterhead,
    roadshow_id: Uuid,
    registration_id: Uuid,
    approve: bool,
    caller: &Principal,
    now: DateTime<Utc>,
) -> AppResult<Registration> {
    let rs = locked(conn, roadshow_id).await?;
    let reg = visible_registration(conn, roadshow_id, registration_id, caller).await?;
    if reg.status != RegistrationStatus::PendingApproval {
        return Err(conflict(
            "not_pending_approval",
            format!("the registration is {}, not pending approval", reg.status),
            None,
        ));
    }
    if !approve {
        registrations::transition(conn, reg.id, reg.status, RegistrationStatus::Rejected, None, Some("rejected"), now)
            .await?;
        let reg = reload(conn, reg.id).await?;
        return Ok(reg);
    }
    let (to, seq) = if roadshows::take_seats(conn, roadshow_id, reg.party_size).await? {
        (RegistrationStatus::Confirmed, None)
    } else {
        (RegistrationStatus::Waitlisted, Some(roadshows::next_waitlist_seq(conn, roadshow_id).await?))
    };
    registrations::transition(conn, reg.id, reg.status, to, seq, None, now).await?;
    let reg = reload(conn, reg.id).await?;
    let kind = match to {
        RegistrationStatus::Confirmed => MailKind::RegistrationConfirmed,
        _ => MailKind::RegistrationWaitlisted {
            position: u32::try_from(reg.waitlist_position.unwrap_or(1)).unwrap_or(u32::MAX),
        },
    };
    mail_registration(conn, lh, &rs, &reg, kind, now).await?;
    Ok(reg)
}

/// A registration of this roadshow that the caller may see: the office sees all, a fund only its
/// own. Anything else is "not found", so a fund cannot probe other funds' registrations.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, roadshow_id = %roadshow_id, registration_id = %registration_id))]
pub async fn visible_registration(
    conn: &mut Conn,
    roadshow_id: Uuid,
    registration_id: Uuid,
    caller: &Principal,
) -> AppResult<Registration> {
    let reg = registrations::get(conn, registration_id).await?.filter(|r| r.roadshow_id == roadshow_id);
    match reg {
        Some(r) if caller.is_admin() || caller.fund_id() == Some(r.fund_id) => Ok(r),
        _ => Err(AppError::not_found("registration")),
    }
}

/// Schedules (or moves) a presenting firm's slot and mails the firm its invitation.
#[tracing::instrument(skip_all, fields(firm_id = %firm_id, roadshow_id = %roadshow_id))]
pub async fn set_presenter(
    conn: &mut Conn,
    lh: &Letterhead,
    roadshow_id: Uuid,
    firm_id: Uuid,
    slot: (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
) -> AppResult<(Presenter, bool)> {
    let rs = locked(conn, roadshow_id).await?;
    if !rs.status.editable() {
        return Err(conflict("roadshow_not_editable", format!("a {} roadshow cannot change", rs.status), None));
    }
    if firms::get(conn, firm_id).await?.is_none() {
        return Err(AppError::not_found("firm"));
    }
    let (start, end) = slot;
    if let Some(other) = roadshows::overlapping_slot(conn, roadshow_id, firm_id, start, end).await? {
        return Err(conflict(
            "slot_overlap",
            "the slot overlaps another presenter's slot",
            Some(json!({ "overlapping_firm_id": other })),
        ));
    }
    let created = match roadshows::presenter(conn, roadshow_id, firm_id).await? {
        Some(p) if p.slot_starts_at == start && p.slot_ends_at == end => return Ok((p, false)),
        Some(_) => {
            roadshows::move_presenter(conn, roadshow_id, firm_id, start, end, now).await?;
            false
        }
        None => {
            roadshows::insert_presenter(conn, roadshow_id, firm_id, start, end, now).await?;
            true
        }
    };
    let p = roadshows::presenter(conn, roadshow_id, firm_id)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("presenter vanished")))?;
    if rs.status.public() {
        mail_presenter(conn, lh, &rs, &p, now).await?;
    }
    events::record(
        conn,
        NewEvent::firm_change(
            EventKind::RoadshowPresenterScheduled,
            firm_id,
            json!({ "roadshow_id": roadshow_id, "firm_id": firm_id, "slot_id": p.id, "sequence": p.sequence }),
        ),
        now,
    )
    .await?;
    Ok((p, created))
}

/// Publishing a roadshow with presenters already scheduled (while a draft) mails them their slots.
#[tracing::instrument(skip_all)]
pub async fn mail_all_presenters(conn: &mut Conn, lh: &Letterhead, rs: &Roadshow, now: DateTime<Utc>) -> AppResult<()> {
    for p in roadshows::presenters(conn, rs.id, None).await? {
        mail_presenter(conn, lh, rs, &p, now).await?;
    }
    Ok(())
}

// ---- reading, and the caller-facing steps the API and the pages share ------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct FirmSlot {
    pub roadshow: Roadshow,
    pub slot: Presenter,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FirmSlots {
    pub firm_id: Uuid,
    pub items: Vec<FirmSlot>,
}

/// Roadshows are for the office, funds and enterprises.
fn require_roadshow_reader(caller: &Principal) -> AppResult<()> {
    match caller.role() {
        Role::Admin | Role::Fund | Role::Enterprise => Ok(()),
        role => Err(AppError::Forbidden(format!("a {role} key cannot read roadshows"))),
    }
}

/// The roadshow if the caller may see it (drafts are the office's alone; to others they do not exist).
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, id = %id))]
pub async fn visible_roadshow(conn: &mut Conn, caller: &Principal, id: Uuid) -> AppResult<Roadshow> {
    require_roadshow_reader(caller)?;
    match roadshows::get(conn, id).await? {
        Some(rs) if caller.is_admin() || rs.status.public() => Ok(rs),
        _ => Err(AppError::not_found("roadshow")),
    }
}

fn cst_day_start(field: &str, value: &str) -> AppResult<DateTime<Utc>> {
    let d = crate::domain::validate::parse_day(value)
        .ok_or_else(|| AppError::field(field, "invalid", format!("{value:?} is not a date (YYYY-MM-DD)")))?;
    let cst = FixedOffset::east_opt(8 * 3600).ok_or_else(|| anyhow::anyhow!("UTC+8"))?;
    let local = d.and_hms_opt(0, 0, 0).ok_or_else(|| anyhow::anyhow!("midnight"))?;
    cst.from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| AppError::field(field, "invalid", "not a day"))
}

/// Roadshow search as people type it (dates `YYYY-MM-DD` in China Standard Time).
#[derive(Debug, Clone, Default)]
pub struct RoadshowSearch {
    pub centre: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub industry: Option<String>,
    pub status: Option<String>,
}

/// Roadshows a reader may list: the office every status (by default), funds and enterprises the
/// published ones; `None` is the public, who see published roadshows only.
#[tracing::instrument(skip_all)]
pub async fn list_roadshows(
    conn: &mut Conn,
    caller: Option<&Principal>,
    q: &RoadshowSearch,
    after: Option<Uuid>,
    limit: u32,
) -> AppResult<Vec<Roadshow>> {
    if let Some(c) = caller {
        require_roadshow_reader(c)?;
    }
    let is_admin = caller.is_some_and(|c| c.is_admin());
    let status: Option<RoadshowStatus> = query_vocab("status", q.status.as_deref())?;
    let statuses = match (status, is_admin) {
        (Some(RoadshowStatus::Draft), false) => return Ok(Vec::new()),
        (Some(s), true) => vec![s],
        (Some(s), false) if caller.is_some() => vec![s],
        (Some(_), false) => vec![RoadshowStatus::Published],
        (None, true) => Vec::new(),
        (None, false) => vec![RoadshowStatus::Published],
    };
    let industry = match given(q.industry.as_deref()).map(str::to_ascii_uppercase) {
        Some(p) if valid_industry_prefix(&p) => Some(p),
        Some(_) => {
            return Err(AppError::field(
                "industry",
                "invalid",
                "must be a GB/T 4754 code or prefix, e.g. C, C35, C3562",
            ));
        }
        None => None,
    };
    let from = given(q.from.as_deref()).map(|d| cst_day_start("from", d)).transpose()?;
    let until = given(q.to.as_deref()).map(|d| cst_day_start("to", d).map(|t| t + Duration::days(1))).transpose()?;
    let filter = roadshows::RoadshowFilter {
        statuses,
        centre: query_vocab("centre", q.centre.as_deref())?,
        from,
        until,
        industry,
    };
    roadshows::list(conn, &filter, after, limit).await
}

/// Presenters and their slots: the office and funds see all; an enterprise only its own slot.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id))]
pub async fn presenters(conn: &mut Conn, caller: &Principal, rs: &Roadshow) -> AppResult<Vec<Presenter>> {
    let only = caller.firm_id();
    roadshows::presenters(conn, rs.id, only).await
}

/// Registers for a roadshow as the caller: a fund for itself, the office on a named fund's behalf.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, roadshow_id = %roadshow_id))]
pub async fn register_as(
    conn: &mut Conn,
    lh: &Letterhead,
    roadshow_id: Uuid,
    input: &RegistrationInput,
    caller: &Principal,
    now: DateTime<Utc>,
) -> AppResult<Registration> {
    let fund_id = caller
        .acting_fund(input.fund_id)?
        .ok_or_else(|| AppError::field("fund_id", "required", "say which fund registers"))?;
    let fields = input.validate()?;
    if caller.is_admin() && funds::get(conn, fund_id).await?.is_none() {
        return Err(AppError::field("fund_id", "not_found", format!("no fund with id {fund_id}")));
    }
    register(conn, lh, roadshow_id, fund_id, &fields, caller, now).await
}

/// Registrations of a roadshow: the office sees all (or one fund's), a fund its own.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, roadshow_id = %roadshow_id))]
pub async fn registrations_of(
    conn: &mut Conn,
    caller: &Principal,
    roadshow_id: Uuid,
    fund_filter: Option<Uuid>,
    status: Option<RegistrationStatus>,
    after: Option<Uuid>,
    limit: u32,
) -> AppResult<Vec<Registration>> {
    let fund_id = match caller.acts_for {
        ActsFor::Admin => fund_filter,
        ActsFor::Fund(own) => Some(own),
        _ => return Err(AppError::Forbidden(format!("a {} key cannot read registrations", caller.role()))),
    };
    let rs = visible_roadshow(conn, caller, roadshow_id).await?;
    let filter = registrations::RegistrationFilter { fund_id, status };
    registrations::list(conn, rs.id, &filter, after, limit).await
}

/// A fund's own registrations across roadshows, newest first, each with its roadshow.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id))]
pub async fn registrations_of_fund(
    conn: &mut Conn,
    caller: &Principal,
    limit: u32,
) -> AppResult<Vec<(Registration, Roadshow)>> {
    let fund_id = caller.fund_id().ok_or_else(|| AppError::Forbidden("only a fund has registrations".into()))?;
    let mut out = Vec::new();
    for reg in registrations::of_fund(conn, fund_id, limit).await? {
        if let Some(rs) = roadshows::get(conn, reg.roadshow_id).await? {
            out.push((reg, rs));
        }
    }
    Ok(out)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckInResult {
    pub registration: Registration,
    /// `false` when the registration had already checked in (the call changes nothing then).
    pub first_check_in: bool,
}

/// Checks a registration in at the door by its token (the office). Every attempt is logged, the
/// refused ones too (they commit their log line and then fail).
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, roadshow_id = %roadshow_id))]
pub async fn check_in(
    db: &crate::db::Db,
    caller: &Principal,
    roadshow_id: Uuid,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<CheckInResult> {
    caller.require_admin()?;
    let token = token.trim();
    if token.is_empty() || token.len() > 100 {
        return Err(AppError::field("token", "invalid", "must be a registration's check-in token"));
    }
    let id = roadshow_id;
    let mut tx = db.begin().await?;
    roadshows::get(&mut tx, id).await?.ok_or(AppError::not_found("roadshow"))?;
    let Some(reg) = registrations::find_by_token(&mut tx, id, token).await? else {
        registrations::log_checkin(&mut tx, id, None, "unknown_token", caller.key_id, now).await?;
        tx.commit().await?;
        return Err(AppError::not_found("registration"));
    };
    let refusal = match reg.status {
        RegistrationStatus::Confirmed => None,
        RegistrationStatus::Cancelled => Some(("registration_cancelled", "the registration was cancelled")),
        RegistrationStatus::Waitlisted => Some(("registration_waitlisted", "the registration is on the waitlist")),
        RegistrationStatus::PendingApproval => {
            Some(("registration_pending_approval", "the registration still waits for approval"))
        }
        RegistrationStatus::Rejected => Some(("registration_rejected", "the registration was not approved")),
    };
    if let Some((code, detail)) = refusal {
        registrations::log_checkin(&mut tx, id, Some(reg.id), code, caller.key_id, now).await?;
        tx.commit().await?;
        return Err(AppError::Conflict {
            code,
            detail: detail.into(),
            extra: Some(serde_json::json!({ "registration_id": reg.id, "registration_status": reg.status })),
        });
    }
    let first = registrations::check_in(&mut tx, reg.id, now).await?.unwrap_or(false);
    registrations::log_checkin(
        &mut tx,
        id,
        Some(reg.id),
        if first { "checked_in" } else { "already_checked_in" },
        caller.key_id,
        now,
    )
    .await?;
    let registration = registrations::get(&mut tx, reg.id).await?.ok_or(AppError::not_found("registration"))?;
    tx.commit().await?;
    Ok(CheckInResult { registration, first_check_in: first })
}

/// A firm's presenter slots with their roadshows (the firm itself: published roadshows only; the office: all).
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, firm_id = %firm_id))]
pub async fn firm_slots(conn: &mut Conn, caller: &Principal, firm_id: Uuid) -> AppResult<FirmSlots> {
    caller.require_firm(firm_id)?;
    if firms::get(conn, firm_id).await?.is_none() {
        return Err(AppError::not_found("firm"));
    }
    let items = roadshows::slots_of_firm(conn, firm_id, !caller.is_admin())
        .await?
        .into_iter()
        .map(|(slot, roadshow)| FirmSlot { roadshow, slot })
        .collect();
    Ok(FirmSlots { firm_id, items })
}

/// The roadshow as an iCalendar feed (METHOD:PUBLISH, one VEVENT with the presenter schedule in
/// its description). The UID differs from the registration invitations' UIDs on purpose.
#[tracing::instrument(skip_all)]
pub async fn calendar_ics(conn: &mut Conn, lh: &Letterhead, rs: &Roadshow) -> AppResult<String> {
    let presenters = roadshows::presenters(conn, rs.id, None).await?;
    let mut zh =
        vec![format!("路演中心：{}", rs.centre.label_zh()), format!("时间：{}", span_zh(rs.starts_at, rs.ends_at))];
    let mut en = vec![
        format!("Centre: {}", crate::mail::templates::Centre::from(rs.centre).label_en()),
        format!("Time: {}", span_en(rs.starts_at, rs.ends_at)),
    ];
    if !presenters.is_empty() {
        zh.push("路演企业：".to_owned());
        en.push("Presenting firms:".to_owned());
        for p in &presenters {
            let cst = FixedOffset::east_opt(8 * 3600).ok_or_else(|| anyhow::anyhow!("UTC+8"))?;
            let line = format!(
                "{}–{} {}",
                p.slot_starts_at.with_timezone(&cst).format("%H:%M"),
                p.slot_ends_at.with_timezone(&cst).format("%H:%M"),
                p.firm_name
            );
            zh.push(line.clone());
            en.push(line);
        }
    }
    let location = match rs.venue.as_deref() {
        Some(v) => format!("{} · {v}", rs.centre.label_zh()),
        None => rs.centre.label_zh().to_owned(),
    };
    let event = CalendarEvent {
        uid: ics::roadshow_uid(rs.id),
        sequence: u32::try_from(rs.sequence).unwrap_or(0),
        summary: rs.title.clone(),
        description: format!("{}\n\n{}", zh.join("\n"), en.join("\n")),
        location,
        url: lh.link_base.as_ref().map(|b| format!("{b}/v1/roadshows/{}", rs.id)),
        starts_at: rs.starts_at,
        ends_at: rs.ends_at,
        organizer: lh.organizer.clone(),
        attendee: None,
        status: if rs.status == RoadshowStatus::Cancelled { EventStatus::Cancelled } else { EventStatus::Confirmed },
        dtstamp: rs.updated_at,
    };
    Ok(ics::calendar(&[event]))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusCount {
    #[schema(value_type = RegistrationStatus)]
    pub status: RegistrationStatus,
    pub registrations: i64,
    pub seats: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MoneyCount {
    pub count: i64,
    #[schema(value_type = String, example = "30000000.00")]
    pub amount: rust_decimal::Decimal,
}

/// What came of a roadshow.
#[derive(Debug, Serialize, ToSchema)]
pub struct Outcome {
    pub roadshow_id: Uuid,
    pub status: RoadshowStatus,
    pub capacity: i64,
    pub seats_taken: i64,
    pub registrations: Vec<StatusCount>,
    pub checked_in: i64,
    pub presenters: i64,
    /// Open investment intentions recorded against this roadshow.
    pub intentions: MoneyCount,
    /// Closed investments recorded against this roadshow.
    pub closed_investments: MoneyCount,
}

/// One roadshow (any state).
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn get(conn: &mut Conn, id: Uuid) -> AppResult<Roadshow> {
    roadshows::get(conn, id).await?.ok_or(AppError::not_found("roadshow"))
}

/// The roadshow with the `limit` best-fitting firms that could present at it, best first.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn recommendations(conn: &mut Conn, id: Uuid, limit: usize) -> AppResult<(Roadshow, Vec<Recommendation>)> {
    let rs = get(conn, id).await?;
    let candidates = roadshows::candidates(conn, rs.id, &rs.industry_focus).await?;
    let mut items = rank(&rs.industry_focus, candidates);
    items.truncate(limit);
    Ok((rs, items))
}

/// Takes a firm off the roadshow's presenters.
#[tracing::instrument(skip_all, fields(roadshow_id = %roadshow_id, firm_id = %firm_id))]
pub async fn remove_presenter(db: &Db, roadshow_id: Uuid, firm_id: Uuid) -> AppResult<()> {
    let mut tx = db.begin().await?;
    if !roadshows::delete_presenter(&mut tx, roadshow_id, firm_id).await? {
        return Err(AppError::not_found("presenter"));
    }
    tx.commit().await?;
    Ok(())
}

/// What came of a roadshow: registrations by status, attendance, presenters, investments.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn outcome(conn: &mut Conn, id: Uuid) -> AppResult<Outcome> {
    let rs = get(conn, id).await?;
    let (by_status, checked_in) = registrations::counts(conn, rs.id).await?;
    let presenters = roadshows::presenters(conn, rs.id, None).await?.len() as i64;
    let ((ni, ai), (nc, ac)) = crate::store::investments::totals_for_roadshow(conn, rs.id).await?;
    Ok(Outcome {
        roadshow_id: rs.id,
        status: rs.status,
        capacity: rs.capacity,
        seats_taken: rs.seats_taken,
        registrations: by_status
            .into_iter()
            .map(|(status, registrations, seats)| StatusCount { status, registrations, seats })
            .collect(),
        checked_in,
        presenters,
        intentions: MoneyCount { count: ni, amount: ai },
        closed_investments: MoneyCount { count: nc, amount: ac },
    })
}

/// Whether the firm has opted in to being shown to fund managers.
#[tracing::instrument(skip_all, fields(firm_id = %firm_id))]
pub async fn investor_visibility(conn: &mut Conn, firm_id: Uuid) -> AppResult<InvestorVisibility> {
    if firms::get(conn, firm_id).await?.is_none() {
        return Err(AppError::not_found("firm"));
    }
    roadshows::visibility(conn, firm_id).await
}

/// Opts the firm in to (or out of) being recommended to fund managers.
#[tracing::instrument(skip_all, fields(firm_id = %firm_id, key_id = %key_id))]
pub async fn set_investor_visibility(
    db: &Db,
    firm_id: Uuid,
    visible: bool,
    key_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<InvestorVisibility> {
    let mut tx = db.begin().await?;
    if firms::get(&mut tx, firm_id).await?.is_none() {
        return Err(AppError::not_found("firm"));
    }
    let v = roadshows::set_visibility(&mut tx, firm_id, visible, key_id, now).await?;
    tx.commit().await?;
    tracing::info!(visible = v.visible, "investor visibility set");
    Ok(v)
}
