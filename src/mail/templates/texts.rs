//! The texts of each kind of mail, Chinese first and English below, and the date, time and place
//! wording they share.

use super::*;

pub(super) fn registration_mail(
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

pub(super) fn presenter_slot(
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

pub(super) fn application_status_changed(
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

pub(super) fn webhook_endpoint_disabled(
    endpoint_id: Uuid,
    endpoint_url: &str,
    reason: &str,
    since: DateTime<Utc>,
) -> Doc {
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

pub(super) fn sign_in_link(links: &[SignInLinkEntry], valid_minutes: u32) -> Doc {
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
pub(super) fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}
