use super::*;
use chrono::TimeZone;

fn event() -> CalendarEvent {
    CalendarEvent {
        uid: registration_uid(uuid::Uuid::nil()),
        sequence: 2,
        summary: "齐鲁企舞·济南站：专精特新企业股权融资路演（第三期），高端装备与新材料专场".into(),
        description: "地点：济南; 报名编号 42\n请提前 15 分钟签到\\谢谢".into(),
        location: "济南市历下区经十路 1 号, 3 楼路演厅".into(),
        url: Some("https://srdi.example/roadshows/1".into()),
        starts_at: Utc.with_ymd_and_hms(2025, 3, 1, 1, 30, 0).unwrap(),
        ends_at: Utc.with_ymd_and_hms(2025, 3, 1, 4, 0, 0).unwrap(),
        organizer: Party { name: "山东省中小企业服务中心".into(), email: "roadshow@srdi.example".into() },
        attendee: Some(Attendee {
            party: Party { name: "张三, 齐鲁资本".into(), email: "zhang@fund.example".into() },
            partstat: PartStat::Accepted,
        }),
        status: EventStatus::Confirmed,
        dtstamp: Utc.with_ymd_and_hms(2025, 2, 1, 0, 0, 0).unwrap(),
    }
}

#[test]
fn every_physical_line_is_crlf_terminated_and_at_most_75_octets() {
    let ics = invitation(&event(), Method::Request);
    assert!(ics.ends_with("END:VCALENDAR\r\n"));
    let without_crlf = ics.replace("\r\n", "");
    assert!(!without_crlf.contains('\n') && !without_crlf.contains('\r'));
    for line in ics.split_terminator("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
}

#[test]
fn folding_never_splits_a_multibyte_character() {
    // 3-octet characters after a 8-octet prefix: 75 is not on a char boundary for any
    // alignment of the continuation lines, so each fold has to step back.
    for prefix in ["SUMMARY:", "SUMMARY:x", "SUMMARY:xy"] {
        let line = format!("{prefix}{}", "专精特新".repeat(40));
        let mut out = String::new();
        fold_into(&mut out, &line);
        for (i, physical) in out.split_terminator("\r\n").enumerate() {
            assert!(physical.len() <= 75);
            // Each physical line is a &str, so a split char would have failed to build;
            // also check nothing was lost or duplicated.
            if i > 0 {
                assert!(physical.starts_with(' '));
            }
        }
        assert_eq!(unfold(&out), vec![line]);
    }
}

#[test]
fn short_lines_are_not_folded_and_exact_75_fits() {
    let line = format!("SUMMARY:{}", "a".repeat(67));
    assert_eq!(line.len(), 75);
    let mut out = String::new();
    fold_into(&mut out, &line);
    assert_eq!(out, format!("{line}\r\n"));
    let mut out = String::new();
    fold_into(&mut out, &format!("{line}b"));
    assert_eq!(out, format!("{line}\r\n b\r\n"));
}

#[test]
fn text_escaping_round_trips() {
    let s = "a\\b;c,d\ne\r\nf";
    assert_eq!(escape_text(s), "a\\\\b\\;c\\,d\\ne\\nf");
    assert_eq!(unescape_text(&escape_text(s)), "a\\b;c,d\ne\nf");
    assert_eq!(escape_text("bell\u{7}"), "bell");
}

#[test]
fn request_carries_method_uid_sequence_and_escaped_fields() {
    let ics = invitation(&event(), Method::Request);
    let cal = parse(&ics);
    assert_eq!(cal.method.as_deref(), Some("REQUEST"));
    assert_eq!(cal.events.len(), 1);
    let ev = &cal.events[0];
    assert_eq!(ev.uid().as_deref(), Some("registration-00000000-0000-0000-0000-000000000000@srdi-capital"));
    assert_eq!(ev.sequence(), Some(2));
    assert_eq!(ev.status().as_deref(), Some("CONFIRMED"));
    assert_eq!(ev.text("SUMMARY"), Some(event().summary));
    assert_eq!(ev.text("DESCRIPTION"), Some(event().description));
    assert_eq!(ev.text("LOCATION"), Some(event().location));
    let start = ev.get("DTSTART").unwrap();
    assert_eq!((start.param("TZID"), start.value.as_str()), (Some("Asia/Shanghai"), "20250301T093000"));
    let end = ev.get("DTEND").unwrap();
    assert_eq!((end.param("TZID"), end.value.as_str()), (Some("Asia/Shanghai"), "20250301T120000"));
    assert!(ics.contains("BEGIN:VTIMEZONE\r\nTZID:Asia/Shanghai\r\n"), "{ics}");
    assert!(ics.contains("TZOFFSETTO:+0800\r\n"));
    assert!(ics.find("END:VTIMEZONE").unwrap() < ics.find("BEGIN:VEVENT").unwrap());
    assert_eq!(ev.get("DTSTAMP").unwrap().value, "20250201T000000Z");
    let att = ev.get("ATTENDEE").unwrap();
    assert_eq!(att.param("CN"), Some("张三, 齐鲁资本"));
    assert_eq!(att.param("PARTSTAT"), Some("ACCEPTED"));
    assert_eq!(att.value, "mailto:zhang@fund.example");
    assert_eq!(ev.get("ORGANIZER").unwrap().value, "mailto:roadshow@srdi.example");
    assert!(ics.contains("ATTENDEE;CN=\"张三, 齐鲁资本\";"));
    assert!(ics.contains("\\, 3 楼路演厅"));
}

#[test]
fn cancel_forces_status_cancelled_and_keeps_uid_and_sequence() {
    let mut ev = event();
    ev.sequence = 3;
    let cal = parse(&invitation(&ev, Method::Cancel));
    assert_eq!(cal.method.as_deref(), Some("CANCEL"));
    let parsed = &cal.events[0];
    assert_eq!(parsed.uid(), Some(ev.uid.clone()));
    assert_eq!(parsed.sequence(), Some(3));
    assert_eq!(parsed.status().as_deref(), Some("CANCELLED"));
}

#[test]
fn publish_feed_lists_all_events_without_attendees() {
    let mut a = event();
    a.attendee = None;
    a.uid = roadshow_uid(uuid::Uuid::nil());
    let mut b = a.clone();
    b.uid = roadshow_uid(uuid::Uuid::max());
    b.status = EventStatus::Cancelled;
    let ics = calendar(&[a, b]);
    let cal = parse(&ics);
    assert_eq!(cal.method.as_deref(), Some("PUBLISH"));
    assert_eq!(cal.events.len(), 2);
    assert!(!ics.contains("ATTENDEE"));
    assert_eq!(cal.events[1].status().as_deref(), Some("CANCELLED"));
    assert_eq!(calendar(&[]).matches("VEVENT").count(), 0);
}

#[test]
fn parser_skips_nested_components_and_accepts_lf_and_tab_folding() {
    let ics = "BEGIN:VCALENDAR\nMETHOD:REQUEST\nBEGIN:VEVENT\nUID:a\n\tbc\nSEQUENCE:7\n\
                   BEGIN:VALARM\nUID:alarm\nEND:VALARM\nEND:VEVENT\nEND:VCALENDAR\n";
    let cal = parse(ics);
    assert_eq!(cal.method.as_deref(), Some("REQUEST"));
    assert_eq!(cal.events[0].uid().as_deref(), Some("abc"));
    assert_eq!(cal.events[0].sequence(), Some(7));
}

#[test]
fn parameter_values_with_quotes_or_separators_stay_well_formed() {
    assert_eq!(param_value("Plain Name"), "Plain Name");
    assert_eq!(param_value("a;b"), "\"a;b\"");
    assert_eq!(param_value("say \"hi\": ok"), "\"say 'hi': ok\"");
    let p = parse_property("ATTENDEE;CN=\"a:b;c\";PARTSTAT=ACCEPTED:mailto:x@y").unwrap();
    assert_eq!(p.param("cn"), Some("a:b;c"));
    assert_eq!(p.value, "mailto:x@y");
}
