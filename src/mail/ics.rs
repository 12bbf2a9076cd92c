//! RFC 5545 calendar objects for roadshow invitations, written by hand.
//!
//! Why not the `icalendar` crate: we emit one small, fixed shape (one VEVENT per invitation, UTC
//! times only, no recurrence), and owning the writer lets us guarantee the two details calendar
//! clients are strict about: content lines folded at 75 *octets* without ever splitting a UTF-8
//! sequence (Chinese titles are 3 octets a character), and TEXT escaping. It also keeps the build
//! lean. The iTIP semantics (RFC 5546) that matter to clients:
//!
//! - a registration's calendar entry keeps one `UID` for its whole life, so a later `REQUEST`
//!   updates the entry and a `CANCEL` removes it instead of adding a second one;
//! - the caller raises `SEQUENCE` on every change it sends, because clients ignore an update
//!   whose sequence is not higher than the one they already hold;
//! - event times are Beijing wall-clock time with `TZID=Asia/Shanghai`, and the calendar carries
//!   the matching VTIMEZONE (UTC+8, no daylight saving since 1991): Chinese calendar clients and
//!   Outlook show such events best, and a client without a time-zone database still gets the
//!   offset from the VTIMEZONE. `DTSTAMP` stays UTC, as RFC 5545 requires.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The `PRODID` of everything we publish (RFC 5545 §3.7.3: globally unique product identifier).
pub const PRODID: &str = "-//SRDI Capital//srdi-capital roadshows//ZH";

/// Right-hand side of every `UID` we generate, so ids never collide with other producers'.
pub const UID_DOMAIN: &str = "srdi-capital";

/// RFC 5545 §3.1: a content line should not be longer than 75 octets, excluding the line break.
const MAX_LINE_OCTETS: usize = 75;

/// The stable calendar UID of one roadshow registration.
pub fn registration_uid(registration_id: uuid::Uuid) -> String {
    format!("registration-{registration_id}@{UID_DOMAIN}")
}

/// The stable calendar UID of one presenter slot.
pub fn presenter_slot_uid(slot_id: uuid::Uuid) -> String {
    format!("presenter-slot-{slot_id}@{UID_DOMAIN}")
}

/// The stable UID of a roadshow in the public (PUBLISH) calendar feed. Differs from the
/// registration UID on purpose: a subscriber to the feed who also registered must not see the
/// feed entry and the invitation merged or overwriting each other.
pub fn roadshow_uid(roadshow_id: uuid::Uuid) -> String {
    format!("roadshow-{roadshow_id}@{UID_DOMAIN}")
}

/// iTIP method of an invitation mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// New entry or update of an existing one (same UID, higher SEQUENCE).
    Request,
    /// Removal of the entry with this UID.
    Cancel,
}

impl Method {
    /// The spelling used in `METHOD:` and in the `method=` parameter of `text/calendar`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person with a display name and an address (organizer, attendee, mail recipient).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub name: String,
    pub email: String,
}

/// Participation status of the attendee (RFC 5545 §3.2.12, the VEVENT subset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartStat {
    NeedsAction,
    Accepted,
    Declined,
    Tentative,
}

impl PartStat {
    pub fn as_str(self) -> &'static str {
        match self {
            PartStat::NeedsAction => "NEEDS-ACTION",
            PartStat::Accepted => "ACCEPTED",
            PartStat::Declined => "DECLINED",
            PartStat::Tentative => "TENTATIVE",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendee {
    pub party: Party,
    pub partstat: PartStat,
}

/// `STATUS` of a VEVENT (RFC 5545 §3.8.1.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStatus {
    Confirmed,
    Tentative,
    Cancelled,
}

impl EventStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Confirmed => "CONFIRMED",
            EventStatus::Tentative => "TENTATIVE",
            EventStatus::Cancelled => "CANCELLED",
        }
    }
}

/// One VEVENT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEvent {
    /// Stable for the life of the entry, e.g. [`registration_uid`].
    pub uid: String,
    /// Raised by the caller on every change it sends.
    pub sequence: u32,
    pub summary: String,
    pub description: String,
    pub location: String,
    /// Link to the roadshow page; Outlook shows the mail body and some clients only the URL.
    pub url: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub organizer: Party,
    /// `None` in the public feed: the feed must not disclose who registered.
    pub attendee: Option<Attendee>,
    pub status: EventStatus,
    /// When this calendar object was created. Taken from the stored mail request rather than
    /// the clock, so a retried mail carries a byte-identical calendar.
    pub dtstamp: DateTime<Utc>,
}

/// An invitation (`METHOD:REQUEST`) or cancellation (`METHOD:CANCEL`) for one event.
///
/// A `CANCEL` always carries `STATUS:CANCELLED`, whatever `ev.status` says: RFC 5546 §3.2.5
/// requires it and some clients (Outlook) only remove the entry when both are present.
pub fn invitation(ev: &CalendarEvent, method: Method) -> String {
    let mut w = Writer::default();
    w.begin_calendar(method.as_str());
    let status = match method {
        Method::Request => ev.status,
        Method::Cancel => EventStatus::Cancelled,
    };
    w.event(ev, status);
    w.end_calendar();
    w.out
}

/// A `METHOD:PUBLISH` feed of many events, for `GET /v1/roadshows/{id}/calendar.ics`.
pub fn calendar(events: &[CalendarEvent]) -> String {
    let mut w = Writer::default();
    w.begin_calendar("PUBLISH");
    for ev in events {
        w.event(ev, ev.status);
    }
    w.end_calendar();
    w.out
}

#[derive(Default)]
struct Writer {
    out: String,
}

impl Writer {
    fn line(&mut self, content: &str) {
        fold_into(&mut self.out, content);
    }

    fn begin_calendar(&mut self, method: &str) {
        self.line("BEGIN:VCALENDAR");
        self.line("VERSION:2.0");
        self.line(&format!("PRODID:{PRODID}"));
        self.line("CALSCALE:GREGORIAN");
        self.line(&format!("METHOD:{method}"));
        for line in [
            "BEGIN:VTIMEZONE",
            &format!("TZID:{TZID}"),
            &format!("X-LIC-LOCATION:{TZID}"),
            "BEGIN:STANDARD",
            "TZOFFSETFROM:+0800",
            "TZOFFSETTO:+0800",
            "TZNAME:CST",
            "DTSTART:19700101T000000",
            "END:STANDARD",
            "END:VTIMEZONE",
        ] {
            self.line(line);
        }
    }

    fn end_calendar(&mut self) {
        self.line("END:VCALENDAR");
    }

    fn event(&mut self, ev: &CalendarEvent, status: EventStatus) {
        self.line("BEGIN:VEVENT");
        self.line(&format!("UID:{}", escape_text(&ev.uid)));
        self.line(&format!("SEQUENCE:{}", ev.sequence));
        self.line(&format!("DTSTAMP:{}", utc_stamp(ev.dtstamp)));
        self.line(&format!("DTSTART;TZID={TZID}:{}", beijing_time(ev.starts_at)));
        self.line(&format!("DTEND;TZID={TZID}:{}", beijing_time(ev.ends_at)));
        self.line(&format!("SUMMARY:{}", escape_text(&ev.summary)));
        if !ev.description.is_empty() {
            self.line(&format!("DESCRIPTION:{}", escape_text(&ev.description)));
        }
        if !ev.location.is_empty() {
            self.line(&format!("LOCATION:{}", escape_text(&ev.location)));
        }
        if let Some(url) = ev.url.as_deref().filter(|u| !u.is_empty()) {
            // URL is of value type URI, not TEXT: escaping would corrupt it, so only strip
            // what could break the line structure.
            self.line(&format!("URL:{}", strip_controls(url)));
        }
        self.line(&format!(
            "ORGANIZER;CN={}:mailto:{}",
            param_value(&ev.organizer.name),
            strip_controls(&ev.organizer.email)
        ));
        if let Some(att) = &ev.attendee {
            // RSVP=FALSE: registration is managed through the service, a calendar reply
            // would go to a mailbox nobody reads and change nothing.
            self.line(&format!(
                "ATTENDEE;CN={};ROLE=REQ-PARTICIPANT;CUTYPE=INDIVIDUAL;PARTSTAT={};RSVP=FALSE:mailto:{}",
                param_value(&att.party.name),
                att.partstat.as_str(),
                strip_controls(&att.party.email)
            ));
        }
        self.line(&format!("STATUS:{}", status.as_str()));
        let transp = if status == EventStatus::Cancelled { "TRANSPARENT" } else { "OPAQUE" };
        self.line(&format!("TRANSP:{transp}"));
        self.line("END:VEVENT");
    }
}

fn utc_stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The time zone of every event: roadshows happen in Shandong.
pub const TZID: &str = "Asia/Shanghai";

/// Local time in Beijing (UTC+8 all year), in the form `DTSTART;TZID=…` takes.
fn beijing_time(t: DateTime<Utc>) -> String {
    let beijing = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    t.with_timezone(&beijing).format("%Y%m%dT%H%M%S").to_string()
}

/// TEXT escaping (RFC 5545 §3.3.11). Other control characters are not allowed in TEXT at all,
/// so they are dropped rather than passed through to break a client's parser.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Reverses [`escape_text`].
pub fn unescape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') | Some('N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// A parameter value (e.g. `CN`). Parameter values cannot be escaped, only quoted, and a quoted
/// value cannot contain `"`: quote when needed and replace the quote character.
fn param_value(s: &str) -> String {
    let clean: String = strip_controls(s).replace('"', "'");
    if clean.contains([':', ';', ',']) { format!("\"{clean}\"") } else { clean }
}

fn strip_controls(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

/// Appends `line` folded into physical lines of at most 75 octets, each ended by CRLF.
/// Continuation lines start with one space, which counts toward their 75 octets. Splits only at
/// char boundaries, so a physical line may be shorter than 75 octets but never longer.
fn fold_into(out: &mut String, line: &str) {
    let mut rest = line;
    let mut limit = MAX_LINE_OCTETS;
    loop {
        if rest.len() <= limit {
            out.push_str(rest);
            out.push_str("\r\n");
            return;
        }
        let mut cut = limit;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n ");
        rest = &rest[cut..];
        limit = MAX_LINE_OCTETS - 1;
    }
}

/// Undoes folding: a line break followed by one space or tab joins the lines (RFC 5545 §3.1).
/// Accepts bare LF too, since some tools rewrite line ends.
pub fn unfold(ics: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for raw in ics.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match (raw.strip_prefix([' ', '\t']), lines.last_mut()) {
            (Some(cont), Some(last)) => last.push_str(cont),
            _ if raw.is_empty() => {}
            _ => lines.push(raw.to_owned()),
        }
    }
    lines
}

/// One content line split into name, parameters and raw (still escaped) value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub name: String,
    pub params: Vec<(String, String)>,
    pub value: String,
}

impl Property {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The value read as TEXT (escapes undone).
    pub fn text(&self) -> String {
        unescape_text(&self.value)
    }
}

/// Splits a content line at the first `:` that is not inside a quoted parameter value.
pub fn parse_property(line: &str) -> Option<Property> {
    let mut in_quotes = false;
    let mut colon = None;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            ':' if !in_quotes => {
                colon = Some(i);
                break;
            }
            _ => {}
        }
    }
    let colon = colon?;
    let (head, value) = (&line[..colon], &line[colon + 1..]);
    let mut segments = split_unquoted(head, ';').into_iter();
    let name = segments.next()?.to_ascii_uppercase();
    let params = segments
        .map(|seg| match seg.split_once('=') {
            Some((k, v)) => (k.to_ascii_uppercase(), v.trim_matches('"').to_owned()),
            None => (seg.to_ascii_uppercase(), String::new()),
        })
        .collect();
    Some(Property { name, params, value: value.to_owned() })
}

fn split_unquoted(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut in_quotes = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if c == '"' {
            in_quotes = !in_quotes;
        } else if c == sep && !in_quotes {
            parts.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&s[start..]);
    parts
}

/// What tests (and a curious operator) need to read back from a calendar object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedCalendar {
    pub method: Option<String>,
    pub events: Vec<ParsedEvent>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedEvent {
    pub properties: Vec<Property>,
}

impl ParsedEvent {
    pub fn get(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name.eq_ignore_ascii_case(name))
    }

    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(Property::text)
    }

    pub fn uid(&self) -> Option<String> {
        self.text("UID")
    }

    pub fn sequence(&self) -> Option<u32> {
        self.get("SEQUENCE")?.value.trim().parse().ok()
    }

    pub fn status(&self) -> Option<String> {
        self.get("STATUS").map(|p| p.value.clone())
    }
}

/// Minimal reader: METHOD of the VCALENDAR and the properties of each VEVENT. Nested
/// components inside a VEVENT (VALARM) are skipped, unknown lines ignored.
pub fn parse(ics: &str) -> ParsedCalendar {
    let mut cal = ParsedCalendar::default();
    let mut current: Option<ParsedEvent> = None;
    let mut nested = 0usize;
    for line in unfold(ics) {
        let Some(prop) = parse_property(&line) else {
            continue;
        };
        match (prop.name.as_str(), prop.value.to_ascii_uppercase().as_str()) {
            ("BEGIN", "VEVENT") if current.is_none() => current = Some(ParsedEvent::default()),
            ("END", "VEVENT") if nested == 0 => cal.events.extend(current.take()),
            ("BEGIN", _) if current.is_some() => nested += 1,
            ("END", _) if current.is_some() => nested = nested.saturating_sub(1),
            _ => match current.as_mut() {
                Some(ev) if nested == 0 => ev.properties.push(prop),
                Some(_) => {}
                None if prop.name == "METHOD" => cal.method = Some(prop.value),
                None => {}
            },
        }
    }
    cal
}

#[cfg(test)]
mod tests;
