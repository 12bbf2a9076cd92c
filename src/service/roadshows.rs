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
use crate::domain::ids::FirmId;
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

mod caller;
mod mail;
pub use caller::*;
pub use mail::Letterhead;
use mail::{enqueue_registration_mail, mail_presenter, mail_registration};

async fn record_event(
    conn: &mut Conn,
    kind: EventKind,
    firm_id: Option<FirmId>,
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
    firm_id: FirmId,
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
