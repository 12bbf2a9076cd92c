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

fn registration_mail(
    event: RegistrationEvent<'_>,
    method: Option<Method>,
    ctx: &MailContext,
    rs: &RoadshowInfo,
    reg: &RegistrationInfo,
) -> Doc {
    let title = &rs.title;
    let (subject_zh, subject_en, zh, en, partstat) = match event {
        RegistrationEvent::Waitlisted(position) => (
            format!("{ROADSHOW_TAG}已进入候补名单：{title}"),
            "Added to the waiting list".to_owned(),
            vec![
                format!("“{title}”路演活动名额已满，您的报名已进入候补名单，当前候补序号为第 {position} 位。"),
                "如有名额释放，系统将按候补顺序自动递补，并另行发送邮件和日历邀请通知您。".to_owned(),
            ],
            vec![
                format!("The roadshow \"{title}\" is fully booked. Your registration is on the waiting list at position {position}."),
                "If a seat becomes free, waitlisted registrations are promoted in order and you will receive another e-mail with a calendar invitation.".to_owned(),
            ],
            PartStat::NeedsAction,
        ),
        RegistrationEvent::Confirmed => (
            format!("{ROADSHOW_TAG}报名成功：{title}"),
            "Registration confirmed".to_owned(),
            vec![
                format!("您已成功报名“{title}”路演活动，欢迎届时参加。"),
                "日历邀请已附在本邮件中，可直接添加到您的日历。如需取消报名，请在取消截止时间前通过平台办理，以便名额递补给候补机构。".to_owned(),
            ],
            vec![
                format!("Your registration for the roadshow \"{title}\" is confirmed."),
                "A calendar invitation is attached. If you cannot attend, please cancel on the platform before the cancellation deadline so that the seat can go to the waiting list.".to_owned(),
            ],
            PartStat::Accepted,
        ),
        RegistrationEvent::Promoted => (
            format!("{ROADSHOW_TAG}候补转正，报名成功：{title}"),
            "Promoted from the waiting list".to_owned(),
            vec![
                format!("“{title}”路演活动有名额释放，您的候补报名已自动转为正式报名。"),
                "日历邀请已附在本邮件中。如无法参加，请尽早通过平台取消，以便名额递补给其他机构。".to_owned(),
            ],
            vec![
                format!("A seat became free at the roadshow \"{title}\": your waitlisted registration is now confirmed."),
                "A calendar invitation is attached. If you cannot attend, please cancel on the platform as early as possible so that the seat can go to the next in line.".to_owned(),
            ],
            PartStat::Accepted,
        ),
        RegistrationEvent::Cancelled => (
            format!("{ROADSHOW_TAG}报名已取消：{title}"),
            "Registration cancelled".to_owned(),
            vec![
                format!("您对“{title}”路演活动的报名已取消，日历中的该活动将被移除。"),
                "如需再次参加，可在报名截止前重新报名。".to_owned(),
            ],
            vec![
                format!("Your registration for the roadshow \"{title}\" has been cancelled; the entry will be removed from your calendar."),
                "You may register again before registration closes.".to_owned(),
            ],
            PartStat::Declined,
        ),
        RegistrationEvent::RoadshowChanged(note) => {
            let mut zh = vec![format!("您已报名的“{title}”路演活动安排有变更，以下为最新信息，日历邀请已同步更新。")];
            let mut en = vec![format!("The arrangements of the roadshow \"{title}\" you registered for have changed. The current details are below, and the attached invitation updates your calendar.")];
            if let Some(note) = note.filter(|n| !n.trim().is_empty()) {
                zh.push(format!("变更说明：{note}"));
                en.push(format!("What changed: {note}"));
            }
            (
                format!("{ROADSHOW_TAG}活动变更：{title}"),
                "Roadshow updated".to_owned(),
                zh,
                en,
                PartStat::Accepted,
            )
        }
        RegistrationEvent::RoadshowCancelled(reason) => {
            let mut zh = vec![format!("很抱歉，您已报名的“{title}”路演活动已取消，日历中的该活动将被移除。")];
            let mut en = vec![format!("We regret that the roadshow \"{title}\" you registered for has been cancelled; the entry will be removed from your calendar.")];
            if let Some(reason) = reason.filter(|r| !r.trim().is_empty()) {
                zh.push(format!("取消原因：{reason}"));
                en.push(format!("Reason: {reason}"));
            }
            (
                format!("{ROADSHOW_TAG}活动取消：{title}"),
                "Roadshow cancelled".to_owned(),
                zh,
                en,
                PartStat::Accepted,
            )
        }
    };

    let (mut details_zh, mut details_en) = roadshow_details(rs, rs.starts_at, rs.ends_at);
    details_zh.push(format!("报名编号：{}", reg.id));
    details_en.push(format!("Registration no.: {}", reg.id));
    if reg.party_size > 1 {
        details_zh.push(format!("登记人数：{}", reg.party_size));
        details_en.push(format!("Party size: {}", reg.party_size));
    }
    push_url(rs, &mut details_zh, &mut details_en);

    let calendar = method.map(|method| {
        let ev = CalendarEvent {
            uid: ics::registration_uid(reg.id),
            sequence: reg.sequence,
            summary: title.clone(),
            description: ics_description(&details_zh, &details_en),
            location: ics_location(rs),
            url: rs.url.clone(),
            starts_at: rs.starts_at,
            ends_at: rs.ends_at,
            organizer: ctx.organizer.clone(),
            attendee: Some(Attendee { party: ctx.recipient.clone(), partstat }),
            status: EventStatus::Confirmed,
            dtstamp: ctx.created_at,
        };
        (method, ev)
    });

    Doc {
        subject_zh,
        // The title is in the Chinese half already; repeating it makes the subject too long
        // for mobile clients to show the English half at all.
        subject_en,
        zh,
        en,
        details_zh,
        details_en,
        calendar,
    }
}

fn presenter_slot(
    ctx: &MailContext,
    rs: &RoadshowInfo,
    slot_id: Uuid,
    sequence: u32,
    firm_name: &str,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> Doc {
    let title = &rs.title;
    let zh = vec![
        format!("贵企业“{firm_name}”在“{title}”路演活动中的路演时段已确定：{}。", span_zh(starts_at, ends_at)),
        "请提前准备路演材料并在时段开始前到场（线上活动请提前进入会议室）。日历邀请已附在本邮件中；时段如有调整，将另行发送更新后的邀请。".to_owned(),
    ];
    let en = vec![
        format!("The presentation slot of \"{firm_name}\" at the roadshow \"{title}\" is scheduled for {}.", span_en(starts_at, ends_at)),
        "Please prepare your pitch materials and arrive (or join the online meeting) before the slot begins. A calendar invitation is attached; if the slot moves you will receive an updated one.".to_owned(),
    ];
    let (mut details_zh, mut details_en) = roadshow_details(rs, rs.starts_at, rs.ends_at);
    details_zh.push(format!("路演企业：{firm_name}"));
    details_en.push(format!("Presenting firm: {firm_name}"));
    details_zh.push(format!("路演时段：{}", span_zh(starts_at, ends_at)));
    details_en.push(format!("Your slot: {}", span_en(starts_at, ends_at)));
    push_url(rs, &mut details_zh, &mut details_en);

    let ev = CalendarEvent {
        uid: ics::presenter_slot_uid(slot_id),
        sequence,
        summary: format!("路演 Pitch：{firm_name} @ {title}"),
        description: ics_description(&details_zh, &details_en),
        location: ics_location(rs),
        url: rs.url.clone(),
        starts_at,
        ends_at,
        organizer: ctx.organizer.clone(),
        attendee: Some(Attendee { party: ctx.recipient.clone(), partstat: PartStat::Accepted }),
        status: EventStatus::Confirmed,
        dtstamp: ctx.created_at,
    };
    Doc {
        subject_zh: format!("{ROADSHOW_TAG}路演时段确认：{title}"),
        subject_en: "Presentation slot scheduled".to_owned(),
        zh,
        en,
        details_zh,
        details_en,
        calendar: Some((Method::Request, ev)),
    }
}

fn application_status_changed(
    application_id: Uuid,
    product_name: &str,
    bank_name: &str,
    from: &str,
    to: &str,
    remark: Option<&str>,
) -> Doc {
    let (from_zh, from_en) = application_status_labels(from);
    let (to_zh, to_en) = application_status_labels(to);
    let mut details_zh = vec![
        format!("申请编号：{application_id}"),
        format!("银行：{bank_name}"),
        format!("产品：{product_name}"),
        format!("状态：{from_zh} → {to_zh}"),
    ];
    let mut details_en = vec![
        format!("Application no.: {application_id}"),
        format!("Bank: {bank_name}"),
        format!("Product: {product_name}"),
        format!("Status: {from_en} → {to_en}"),
    ];
    if let Some(remark) = remark.filter(|r| !r.trim().is_empty()) {
        details_zh.push(format!("银行备注：{remark}"));
        details_en.push(format!("Bank's remark: {remark}"));
    }
    Doc {
        subject_zh: format!("{SERVICE_TAG}融资申请状态更新：{product_name}（{to_zh}）"),
        subject_en: format!("Financing application {to_en}: {product_name}"),
        zh: vec![
            format!("贵企业向{bank_name}申请的“{product_name}”融资申请状态已由“{from_zh}”变更为“{to_zh}”。"),
            "您可登录平台查看融资进度及全部申请记录。".to_owned(),
        ],
        en: vec![
            format!(
                "The status of your financing application for \"{product_name}\" with {bank_name} has changed from {from_en} to {to_en}."
            ),
            "You can follow your financing status and all applications on the platform.".to_owned(),
        ],
        details_zh,
        details_en,
        calendar: None,
    }
}

fn webhook_endpoint_disabled(endpoint_id: Uuid, endpoint_url: &str, reason: &str, since: DateTime<Utc>) -> Doc {
    Doc {
        subject_zh: format!("{SERVICE_TAG}Webhook 接收地址已停用"),
        subject_en: "Webhook endpoint disabled".to_owned(),
        zh: vec![
            format!("贵行配置的 Webhook 接收地址自{}起持续投递失败，系统已自动停用该地址，停用期间不再向其推送事件。", instant_zh(since)),
            "请排查接收服务后在平台重新启用该地址；启用后可申请补发（recover）停用期间的事件。".to_owned(),
        ],
        en: vec![
            format!("Deliveries to your webhook endpoint have failed continuously since {}, so the endpoint has been disabled automatically. No events are sent to it while it is disabled.", instant_en(since)),
            "Please fix the receiving service and re-enable the endpoint on the platform; you can then request a recovery of the events from the disabled period.".to_owned(),
        ],
        details_zh: vec![
            format!("地址编号：{endpoint_id}"),
            format!("地址：{endpoint_url}"),
            format!("原因：{reason}"),
        ],
        details_en: vec![
            format!("Endpoint id: {endpoint_id}"),
            format!("URL: {endpoint_url}"),
            format!("Reason: {reason}"),
        ],
        calendar: None,
    }
}

fn sign_in_link(links: &[SignInLinkEntry], valid_minutes: u32) -> Doc {
    let mut details_zh = Vec::new();
    let mut details_en = Vec::new();
    for l in links {
        details_zh.push(format!("{}：", l.name));
        details_zh.push(l.url.clone());
        details_en.push(format!("{}:", l.name));
        details_en.push(l.url.clone());
    }
    Doc {
        subject_zh: format!("{SERVICE_TAG}登录链接"),
        subject_en: "Your sign-in link".to_owned(),
        zh: vec![
            format!("您申请了登录平台。请在 {valid_minutes} 分钟内打开下面的链接完成登录；每个链接只能使用一次。"),
            "如果这不是您本人的操作，请忽略本邮件，您的账户不会有任何变化。".to_owned(),
        ],
        en: vec![
            format!(
                "You asked to sign in to the platform. Open the link below within {valid_minutes} minutes to sign in; each link works once."
            ),
            "If you did not ask for this, ignore this message: nothing changes.".to_owned(),
        ],
        details_zh,
        details_en,
        calendar: None,
    }
}

fn application_status_labels(status: &str) -> (String, String) {
    let (zh, en) = match status {
        "submitted" => ("已提交", "submitted"),
        "under_review" => ("审核中", "under review"),
        "approved" => ("已批准", "approved"),
        "disbursed" => ("已放款", "disbursed"),
        "declined" => ("未获批准", "declined"),
        "withdrawn" => ("已撤回", "withdrawn"),
        other => (other, other),
    };
    (zh.to_owned(), en.to_owned())
}

fn roadshow_details(rs: &RoadshowInfo, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> (Vec<String>, Vec<String>) {
    let mut zh = vec![format!("活动：{}", rs.title), format!("路演中心：{}", rs.centre.label_zh())];
    let mut en = vec![format!("Roadshow: {}", rs.title), format!("Centre: {}", rs.centre.label_en())];
    if let Some(venue) = rs.venue.as_deref().filter(|v| !v.trim().is_empty()) {
        zh.push(format!("地点：{venue}"));
        en.push(format!("Venue: {venue}"));
    }
    zh.push(format!("时间：{}", span_zh(starts_at, ends_at)));
    en.push(format!("Time: {}", span_en(starts_at, ends_at)));
    (zh, en)
}

fn push_url(rs: &RoadshowInfo, zh: &mut Vec<String>, en: &mut Vec<String>) {
    if let Some(url) = rs.url.as_deref().filter(|u| !u.trim().is_empty()) {
        zh.push(format!("活动页面：{url}"));
        en.push(format!("Roadshow page: {url}"));
    }
}

fn ics_location(rs: &RoadshowInfo) -> String {
    match rs.venue.as_deref().filter(|v| !v.trim().is_empty()) {
        Some(venue) => format!("{} · {venue}", rs.centre.label_zh()),
        None => format!("{} {}", rs.centre.label_zh(), rs.centre.label_en()),
    }
}

fn ics_description(zh: &[String], en: &[String]) -> String {
    format!("{}\n\n{}", zh.join("\n"), en.join("\n"))
}

/// China Standard Time. `east_opt` only fails for offsets beyond ±24 h.
fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

fn weekday_zh(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "周一",
        Weekday::Tue => "周二",
        Weekday::Wed => "周三",
        Weekday::Thu => "周四",
        Weekday::Fri => "周五",
        Weekday::Sat => "周六",
        Weekday::Sun => "周日",
    }
}

fn date_zh(t: DateTime<FixedOffset>) -> String {
    format!("{}年{}月{}日（{}）", t.year(), t.month(), t.day(), weekday_zh(t.weekday()))
}

/// "2025年3月1日（周六）09:30–12:00（北京时间）"; the end date is repeated only when it differs.
pub fn span_zh(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> String {
    let (s, e) = (starts_at.with_timezone(&cst()), ends_at.with_timezone(&cst()));
    if s.date_naive() == e.date_naive() {
        format!("{}{}–{}（北京时间）", date_zh(s), s.format("%H:%M"), e.format("%H:%M"))
    } else {
        format!("{}{} 至 {}{}（北京时间）", date_zh(s), s.format("%H:%M"), date_zh(e), e.format("%H:%M"))
    }
}

/// "Sat 1 Mar 2025, 09:30–12:00 China Standard Time (UTC+8)".
pub fn span_en(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> String {
    let (s, e) = (starts_at.with_timezone(&cst()), ends_at.with_timezone(&cst()));
    if s.date_naive() == e.date_naive() {
        format!("{}–{} China Standard Time (UTC+8)", s.format("%a %-d %b %Y, %H:%M"), e.format("%H:%M"))
    } else {
        format!("{} – {} China Standard Time (UTC+8)", s.format("%a %-d %b %Y, %H:%M"), e.format("%a %-d %b %Y, %H:%M"))
    }
}

fn instant_zh(t: DateTime<Utc>) -> String {
    let t = t.with_timezone(&cst());
    format!("{}{}（北京时间）", date_zh(t), t.format("%H:%M"))
}

fn instant_en(t: DateTime<Utc>) -> String {
    let t = t.with_timezone(&cst());
    format!("{} China Standard Time (UTC+8)", t.format("%a %-d %b %Y, %H:%M"))
}

/// Subjects come partly from user input (titles, product names); a line break in a header would
/// end it early, so fold all whitespace runs into single spaces.
fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
