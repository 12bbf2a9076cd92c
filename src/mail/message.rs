//! Turns a rendered mail into a MIME message for lettre.
//!
//! Invitation mails copy the structure Google Calendar sends, which Gmail, Outlook (desktop,
//! web, mobile) and Apple Mail all turn into an accept/decline-style calendar card:
//!
//! ```text
//! multipart/mixed
//! ├── multipart/alternative
//! │   ├── text/plain; charset=utf-8                      (the bilingual body)
//! │   └── text/calendar; method=REQUEST; charset=UTF-8   (the iTIP object, inline)
//! └── application/ics; name="invite.ics"                 (same object as an attachment)
//! ```
//!
//! Clients that understand iTIP act on the inline `text/calendar` part; they find it only inside
//! `multipart/alternative` and only when the `method` parameter matches the `METHOD:` inside.
//! The attachment is for everyone else (webmail without calendar support, forwarding, saving to
//! disk): it must not be `text/calendar`, or some clients (older Outlook) would process the same
//! invitation twice. Mails without a calendar object are a single `text/plain` part.

use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use uuid::Uuid;

use crate::mail::templates::RenderedMail;

/// File name of the attached copy of the calendar object.
pub const INVITE_FILENAME: &str = "invite.ics";

#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error("invalid Message-ID domain {0:?}")]
    InvalidMessageIdDomain(String),
    #[error("building the message: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("invalid content type: {0}")]
    ContentType(#[from] lettre::message::header::ContentTypeErr),
}

/// `<outbox-row-id@domain>`. Derived from the outbox row, not random, so every retry of one row
/// carries the same Message-ID and a receiver that deduplicates on it (Gmail does) shows one
/// mail even when a retry follows a send whose acknowledgement was lost.
pub fn message_id(outbox_id: Uuid, domain: &str) -> Result<String, MessageError> {
    let valid = !domain.is_empty() && domain.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
    if !valid {
        return Err(MessageError::InvalidMessageIdDomain(domain.to_owned()));
    }
    Ok(format!("<{outbox_id}@{domain}>"))
}

/// Builds the message for one outbox row.
pub fn build_message(
    from: &Mailbox,
    to: &Mailbox,
    rendered: &RenderedMail,
    outbox_id: Uuid,
    message_id_domain: &str,
) -> Result<Message, MessageError> {
    let builder = Message::builder()
        .from(from.clone())
        .to(to.clone())
        .subject(rendered.subject.clone())
        .message_id(Some(message_id(outbox_id, message_id_domain)?))
        // RFC 3834: tells auto-responders (out-of-office) not to answer, so a fund manager's
        // vacation reply does not land in the office's no-reply mailbox for every mail.
        .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Auto-Submitted"), "auto-generated".to_owned()));

    let text = SinglePart::plain(rendered.text_body.clone());
    let Some(cal) = &rendered.ics else {
        return Ok(builder.singlepart(text)?);
    };

    let method = cal.method.as_str();
    let inline = SinglePart::builder()
        .header(ContentType::parse(&format!("text/calendar; method={method}; charset=UTF-8"))?)
        .body(cal.ics.clone());
    let attachment = Attachment::new(INVITE_FILENAME.to_owned())
        .body(cal.ics.clone(), ContentType::parse(&format!("application/ics; name=\"{INVITE_FILENAME}\""))?);
    let body = MultiPart::mixed()
        .multipart(MultiPart::alternative().singlepart(text).singlepart(inline))
        .singlepart(attachment);
    Ok(builder.multipart(body)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::ics::Method;
    use crate::mail::templates::CalendarPart;

    fn mailbox(s: &str) -> Mailbox {
        s.parse().unwrap()
    }

    fn rendered(ics: Option<CalendarPart>) -> RenderedMail {
        RenderedMail {
            subject: "【齐鲁企舞】报名成功 | Registration confirmed".into(),
            text_body: "您好\n\n---- English ----\n\nHello\n".into(),
            ics,
        }
    }

    #[test]
    fn message_id_is_stable_and_validated() {
        let id = Uuid::from_u128(1);
        assert_eq!(message_id(id, "srdi.example").unwrap(), "<00000000-0000-0000-0000-000000000001@srdi.example>");
        assert!(message_id(id, "").is_err());
        assert!(message_id(id, "a b>").is_err());
    }

    #[test]
    fn plain_mail_is_one_text_part() {
        let msg = build_message(
            &mailbox("Office <noreply@srdi.example>"),
            &mailbox("wang@fund.example"),
            &rendered(None),
            Uuid::from_u128(1),
            "srdi.example",
        )
        .unwrap();
        let raw = String::from_utf8(msg.formatted()).unwrap();
        assert!(raw.contains("Content-Type: text/plain; charset=utf-8"));
        assert!(!raw.contains("multipart"));
        assert!(raw.contains("Auto-Submitted: auto-generated"));
        assert!(raw.contains("Message-ID: <00000000-0000-0000-0000-000000000001@srdi.example>"));
    }

    #[test]
    fn invitation_has_inline_calendar_with_method_and_an_attachment() {
        let msg = build_message(
            &mailbox("Office <noreply@srdi.example>"),
            &mailbox("wang@fund.example"),
            &rendered(Some(CalendarPart {
                method: Method::Cancel,
                ics: "BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nEND:VCALENDAR\r\n".into(),
            })),
            Uuid::from_u128(2),
            "srdi.example",
        )
        .unwrap();
        let raw = String::from_utf8(msg.formatted()).unwrap();
        let mixed = raw.find("multipart/mixed").unwrap();
        let alt = raw.find("multipart/alternative").unwrap();
        let cal = raw
            // The mime crate lower-cases the charset value; charset names are case-insensitive.
            .find("Content-Type: text/calendar; method=CANCEL; charset=utf-8")
            .unwrap();
        let att = raw.find("Content-Type: application/ics; name=\"invite.ics\"").unwrap();
        assert!(mixed < alt && alt < cal && cal < att, "{raw}");
        assert!(raw.contains("Content-Disposition: attachment; filename=\"invite.ics\""));
    }
}
