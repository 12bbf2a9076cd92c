//! The roadshow mails: the office's letterhead and the registration and presenter mails queued in
//! the caller's transaction.

use super::*;

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
pub(super) async fn mail_registration(
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

pub(super) async fn enqueue_registration_mail(
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
pub(super) async fn mail_presenter(
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
