//! Composition of every mail the service sends: pure functions from a stored [`MailRequest`]
//! to a subject, a text body and, for roadshow mails, a calendar object.
//!
//! The outbox stores a [`MailRequest`] as JSON when the business change happens and renders it
//! when sending. Everything a mail shows therefore travels in the JSON (names, titles, times):
//! rendering needs no database, a retry renders byte-identical content, and a mail says what
//! was true when the change happened even if the roadshow is edited again before delivery.
//!
//! Body layout: one `text/plain` part, Chinese first, then a line `---- English ----`, then the
//! English text. Not two `multipart/alternative` parts: alternatives are different *formats*
//! of the same content and a client shows exactly one of them, so a reader would never see the
//! second language; and in invitation mails the alternative slot is already taken by the
//! `text/calendar` part that calendar clients look for (see `message.rs`).
//!
//! Times are shown in China Standard Time (UTC+8); calendar objects carry UTC.

use chrono::{DateTime, Datelike, FixedOffset, Utc, Weekday};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::roadshow;
use crate::mail::ics::{self, Attendee, CalendarEvent, EventStatus, Method, PartStat, Party};

mod texts;
pub use texts::*;
use texts::{
    application_status_changed, one_line, presenter_slot, registration_mail, sign_in_link, webhook_endpoint_disabled,
};

/// The line between the Chinese and the English text.
pub const ENGLISH_SEPARATOR: &str = "---- English ----";

/// Roadshow centre (齐鲁企舞 venues). Wire spelling as in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Centre {
    Jinan,
    Beijing,
    Shanghai,
    Shenzhen,
    Online,
}

impl From<roadshow::Centre> for Centre {
    fn from(c: roadshow::Centre) -> Self {
        match c {
            roadshow::Centre::Jinan => Centre::Jinan,
            roadshow::Centre::Beijing => Centre::Beijing,
            roadshow::Centre::Shanghai => Centre::Shanghai,
            roadshow::Centre::Shenzhen => Centre::Shenzhen,
            roadshow::Centre::Online => Centre::Online,
        }
    }
}

impl Centre {
    pub fn label_zh(self) -> &'static str {
        match self {
            Centre::Jinan => "济南",
            Centre::Beijing => "北京",
            Centre::Shanghai => "上海",
            Centre::Shenzhen => "深圳",
            Centre::Online => "线上",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Centre::Jinan => "Jinan",
            Centre::Beijing => "Beijing",
            Centre::Shanghai => "Shanghai",
            Centre::Shenzhen => "Shenzhen",
            Centre::Online => "Online",
        }
    }
}

/// What happened, with the data specific to that event. Serialised internally tagged:
/// `{"type": "registration_waitlisted", "position": 3}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MailKind {
    RegistrationConfirmed,
    RegistrationWaitlisted {
        position: u32,
    },
    RegistrationPromoted,
    RegistrationCancelled,
    RoadshowChanged {
        /// What changed, in the operator's words; the body always shows the new details.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    RoadshowCancelled {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    PresenterSlot {
        /// Stable id of the slot: the calendar UID is derived from it.
        slot_id: Uuid,
        /// Raised by the caller each time the slot moves.
        sequence: u32,
        firm_name: String,
        slot_starts_at: DateTime<Utc>,
        slot_ends_at: DateTime<Utc>,
    },
    ApplicationStatusChanged {
        application_id: Uuid,
        product_name: String,
        bank_name: String,
        /// Application status wire values (`submitted`, `under_review`, `approved`,
        /// `disbursed`, `declined`, `withdrawn`); unknown values are shown verbatim.
        from: String,
        to: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        remark: Option<String>,
    },
    WebhookEndpointDisabled {
        endpoint_id: Uuid,
        endpoint_url: String,
        reason: String,
        /// Start of the uninterrupted failure period that led to the disable.
        since: DateTime<Utc>,
    },
    /// One-time sign-in links for the web pages, one per firm or fund whose contact this address
    /// is. The outbox blanks the stored request once the mail is sent or given up, so the
    /// database keeps no usable link.
    SignInLink {
        links: Vec<SignInLinkEntry>,
        valid_minutes: u32,
    },
}

/// Whom one sign-in link signs in as, and the link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInLinkEntry {
    /// The firm's or fund's name.
    pub name: String,
    pub url: String,
}

impl MailKind {
    /// The iTIP method of the calendar object this kind carries, if any.
    pub fn ics_method(&self) -> Option<Method> {
        match self {
            MailKind::RegistrationConfirmed
            | MailKind::RegistrationPromoted
            | MailKind::RoadshowChanged { .. }
            | MailKind::PresenterSlot { .. } => Some(Method::Request),
            MailKind::RegistrationCancelled | MailKind::RoadshowCancelled { .. } => Some(Method::Cancel),
            MailKind::RegistrationWaitlisted { .. }
            | MailKind::ApplicationStatusChanged { .. }
            | MailKind::WebhookEndpointDisabled { .. }
            | MailKind::SignInLink { .. } => None,
        }
    }
}

/// The roadshow as it was when the mail was requested.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoadshowInfo {
    pub id: Uuid,
    pub title: String,
    pub centre: Centre,
    /// Address, room, or meeting link for `online`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Public page of the roadshow. Put in the body as well as in the calendar object, because
    /// Outlook shows the mail body for invitations, not the iCalendar DESCRIPTION.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The recipient's registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationInfo {
    pub id: Uuid,
    /// Calendar SEQUENCE for this mail; the caller raises it on every calendar change it sends
    /// for this registration (promotion, roadshow change, cancellation).
    pub sequence: u32,
    #[serde(default = "one")]
    pub party_size: u32,
}

fn one() -> u32 {
    1
}

/// Everything besides the kind that a mail shows. Which parts are required depends on the kind:
/// roadshow and registration mails need `roadshow` and `registration`, a presenter slot needs
/// `roadshow`, the others need neither.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailContext {
    pub recipient: Party,
    /// The office as it appears in the signature and as calendar ORGANIZER.
    pub organizer: Party,
    /// When the mail was requested (the outbox row's creation). Used as the calendar DTSTAMP,
    /// so every retry of the same row renders the same bytes.
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roadshow: Option<RoadshowInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<RegistrationInfo>,
}

impl MailContext {
    /// A mail that is about no roadshow: a plain notice to one recipient.
    pub fn notice(recipient: Party, organizer: Party, created_at: DateTime<Utc>) -> Self {
        MailContext { recipient, organizer, created_at, roadshow: None, registration: None }
    }
}

/// The JSON stored in an outbox row: `{"kind": {"type": ...}, "context": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailRequest {
    pub kind: MailKind,
    pub context: MailContext,
}

impl MailRequest {
    pub fn render(&self) -> Result<RenderedMail, RenderError> {
        render(&self.kind, &self.context)
    }
}

/// A calendar object to send along with the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarPart {
    pub method: Method,
    pub ics: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    pub subject: String,
    pub text_body: String,
    pub ics: Option<CalendarPart>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The stored context lacks a part this kind needs. Render once when enqueueing, so this
    /// surfaces as a bug at the call site instead of as a mail that can never be sent.
    #[error("mail kind `{kind}` needs `{missing}` in its context")]
    MissingContext { kind: &'static str, missing: &'static str },
}

/// Renders one mail. Pure: same input, same output.
pub fn render(kind: &MailKind, ctx: &MailContext) -> Result<RenderedMail, RenderError> {
    let doc = compose(kind, ctx)?;
    let mut text = String::new();
    text.push_str(&format!("{}，您好：\n\n", ctx.recipient.name));
    push_paragraphs(&mut text, &doc.zh, &doc.details_zh);
    text.push_str("此邮件由系统自动发送，请勿直接回复。\n");
    text.push_str(&ctx.organizer.name);
    text.push_str("\n\n");
    text.push_str(ENGLISH_SEPARATOR);
    text.push_str("\n\n");
    text.push_str(&format!("Dear {},\n\n", ctx.recipient.name));
    push_paragraphs(&mut text, &doc.en, &doc.details_en);
    text.push_str("This message was sent automatically; please do not reply to it.\n");
    text.push_str(&ctx.organizer.name);
    text.push('\n');

    let subject = one_line(&format!("{} | {}", doc.subject_zh, doc.subject_en));
    let ics = doc.calendar.map(|(method, ev)| CalendarPart { method, ics: ics::invitation(&ev, method) });
    Ok(RenderedMail { subject, text_body: text, ics })
}

/// Everything one kind contributes, before layout.
struct Doc {
    subject_zh: String,
    subject_en: String,
    zh: Vec<String>,
    en: Vec<String>,
    details_zh: Vec<String>,
    details_en: Vec<String>,
    calendar: Option<(Method, CalendarEvent)>,
}

fn push_paragraphs(out: &mut String, paragraphs: &[String], details: &[String]) {
    for p in paragraphs {
        out.push_str(p);
        out.push_str("\n\n");
    }
    if !details.is_empty() {
        for d in details {
            out.push_str(d);
            out.push('\n');
        }
        out.push('\n');
    }
}

fn kind_name(kind: &MailKind) -> &'static str {
    match kind {
        MailKind::RegistrationConfirmed => "registration_confirmed",
        MailKind::RegistrationWaitlisted { .. } => "registration_waitlisted",
        MailKind::RegistrationPromoted => "registration_promoted",
        MailKind::RegistrationCancelled => "registration_cancelled",
        MailKind::RoadshowChanged { .. } => "roadshow_changed",
        MailKind::RoadshowCancelled { .. } => "roadshow_cancelled",
        MailKind::PresenterSlot { .. } => "presenter_slot",
        MailKind::ApplicationStatusChanged { .. } => "application_status_changed",
        MailKind::WebhookEndpointDisabled { .. } => "webhook_endpoint_disabled",
        MailKind::SignInLink { .. } => "sign_in_link",
    }
}

const ROADSHOW_TAG: &str = "【齐鲁企舞】";
const SERVICE_TAG: &str = "【专精特新融资服务】";

fn compose(kind: &MailKind, ctx: &MailContext) -> Result<Doc, RenderError> {
    let missing = |missing| RenderError::MissingContext { kind: kind_name(kind), missing };
    let with_registration = |event: RegistrationEvent<'_>| {
        let rs = ctx.roadshow.as_ref().ok_or_else(|| missing("roadshow"))?;
        let reg = ctx.registration.as_ref().ok_or_else(|| missing("registration"))?;
        Ok(registration_mail(event, kind.ics_method(), ctx, rs, reg))
    };
    match kind {
        MailKind::ApplicationStatusChanged { application_id, product_name, bank_name, from, to, remark } => {
            Ok(application_status_changed(*application_id, product_name, bank_name, from, to, remark.as_deref()))
        }
        MailKind::WebhookEndpointDisabled { endpoint_id, endpoint_url, reason, since } => {
            Ok(webhook_endpoint_disabled(*endpoint_id, endpoint_url, reason, *since))
        }
        MailKind::SignInLink { links, valid_minutes } => Ok(sign_in_link(links, *valid_minutes)),
        MailKind::PresenterSlot { slot_id, sequence, firm_name, slot_starts_at, slot_ends_at } => {
            let rs = ctx.roadshow.as_ref().ok_or_else(|| missing("roadshow"))?;
            Ok(presenter_slot(ctx, rs, *slot_id, *sequence, firm_name, *slot_starts_at, *slot_ends_at))
        }
        MailKind::RegistrationConfirmed => with_registration(RegistrationEvent::Confirmed),
        MailKind::RegistrationWaitlisted { position } => with_registration(RegistrationEvent::Waitlisted(*position)),
        MailKind::RegistrationPromoted => with_registration(RegistrationEvent::Promoted),
        MailKind::RegistrationCancelled => with_registration(RegistrationEvent::Cancelled),
        MailKind::RoadshowChanged { note } => with_registration(RegistrationEvent::RoadshowChanged(note.as_deref())),
        MailKind::RoadshowCancelled { reason } => {
            with_registration(RegistrationEvent::RoadshowCancelled(reason.as_deref()))
        }
    }
}

/// The kinds sent to one registered fund manager, with the data each adds.
#[derive(Clone, Copy)]
enum RegistrationEvent<'a> {
    Confirmed,
    Waitlisted(u32),
    Promoted,
    Cancelled,
    RoadshowChanged(Option<&'a str>),
    RoadshowCancelled(Option<&'a str>),
}

#[cfg(test)]
mod tests;
