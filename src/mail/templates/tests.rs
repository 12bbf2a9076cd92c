use super::*;
use chrono::TimeZone;

fn ctx() -> MailContext {
    MailContext {
        recipient: Party { name: "王经理".into(), email: "wang@fund.example".into() },
        organizer: Party {
            name: "山东省中小企业发展促进中心".into(), email: "roadshow@srdi.example".into()
        },
        created_at: Utc.with_ymd_and_hms(2025, 2, 20, 8, 0, 0).unwrap(),
        roadshow: Some(RoadshowInfo {
            id: Uuid::from_u128(7),
            title: "齐鲁企舞·北京站 高端装备专场".into(),
            centre: Centre::Beijing,
            venue: Some("北京市西城区金融大街 1 号".into()),
            starts_at: Utc.with_ymd_and_hms(2025, 3, 1, 1, 30, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2025, 3, 1, 4, 0, 0).unwrap(),
            url: Some("https://srdi.example/roadshows/7".into()),
        }),
        registration: Some(RegistrationInfo { id: Uuid::from_u128(42), sequence: 3, party_size: 2 }),
    }
}

fn all_kinds() -> Vec<MailKind> {
    vec![
        MailKind::RegistrationConfirmed,
        MailKind::RegistrationWaitlisted { position: 4 },
        MailKind::RegistrationPromoted,
        MailKind::RegistrationCancelled,
        MailKind::RoadshowChanged { note: Some("开始时间提前半小时".into()) },
        MailKind::RoadshowCancelled { reason: Some("场地原因".into()) },
        MailKind::PresenterSlot {
            slot_id: Uuid::from_u128(9),
            sequence: 1,
            firm_name: "济南精工科技有限公司".into(),
            slot_starts_at: Utc.with_ymd_and_hms(2025, 3, 1, 2, 0, 0).unwrap(),
            slot_ends_at: Utc.with_ymd_and_hms(2025, 3, 1, 2, 20, 0).unwrap(),
        },
        MailKind::ApplicationStatusChanged {
            application_id: Uuid::from_u128(5),
            product_name: "专精特新贷".into(),
            bank_name: "齐鲁银行".into(),
            from: "under_review".into(),
            to: "approved".into(),
            remark: Some("额度 500 万元".into()),
        },
        MailKind::WebhookEndpointDisabled {
            endpoint_id: Uuid::from_u128(11),
            endpoint_url: "https://bank.example/hooks".into(),
            reason: "HTTP 503 for 5 days".into(),
            since: Utc.with_ymd_and_hms(2025, 2, 10, 16, 0, 0).unwrap(),
        },
    ]
}

fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[test]
fn every_kind_renders_chinese_then_english() {
    for kind in all_kinds() {
        let mail = render(&kind, &ctx()).unwrap();
        let (zh, en) = mail
            .text_body
            .split_once(&format!("\n{ENGLISH_SEPARATOR}\n"))
            .unwrap_or_else(|| panic!("{kind:?}: no separator"));
        assert!(zh.starts_with("王经理，您好："), "{kind:?}");
        assert!(has_cjk(zh), "{kind:?}");
        assert!(en.trim_start().starts_with("Dear 王经理,"), "{kind:?}");
        assert!(en.contains("please do not reply"), "{kind:?}");
        assert!(has_cjk(&mail.subject) && mail.subject.contains(" | "));
        assert!(!mail.subject.contains('\n'));
        assert_eq!(mail.ics.as_ref().map(|c| c.method), kind.ics_method());
    }
}

#[test]
fn calendar_kinds_carry_the_right_method_uid_and_sequence() {
    let reg_uid = "registration-00000000-0000-0000-0000-00000000002a@srdi-capital";
    let cases = [
        (MailKind::RegistrationConfirmed, Some(("REQUEST", reg_uid, 3))),
        (MailKind::RegistrationWaitlisted { position: 1 }, None),
        (MailKind::RegistrationPromoted, Some(("REQUEST", reg_uid, 3))),
        (MailKind::RegistrationCancelled, Some(("CANCEL", reg_uid, 3))),
        (MailKind::RoadshowChanged { note: None }, Some(("REQUEST", reg_uid, 3))),
        (MailKind::RoadshowCancelled { reason: None }, Some(("CANCEL", reg_uid, 3))),
    ];
    for (kind, expected) in cases {
        let mail = render(&kind, &ctx()).unwrap();
        let got = mail.ics.map(|c| {
            let cal = ics::parse(&c.ics);
            assert_eq!(cal.method.as_deref(), Some(c.method.as_str()));
            let ev = &cal.events[0];
            let status = ev.status().unwrap();
            assert_eq!(status == "CANCELLED", c.method == Method::Cancel);
            (cal.method.unwrap(), ev.uid().unwrap(), ev.sequence().unwrap())
        });
        assert_eq!(got, expected.map(|(m, u, s)| (m.to_owned(), u.to_owned(), s)), "{kind:?}");
    }
}

#[test]
fn presenter_slot_invitation_covers_the_slot_not_the_roadshow() {
    let kind = &all_kinds()[6];
    let mail = render(kind, &ctx()).unwrap();
    let cal = ics::parse(&mail.ics.unwrap().ics);
    let ev = &cal.events[0];
    assert_eq!(ev.uid().unwrap(), "presenter-slot-00000000-0000-0000-0000-000000000009@srdi-capital");
    assert_eq!(ev.get("DTSTART").unwrap().value, "20250301T100000");
    assert_eq!(ev.get("DTEND").unwrap().value, "20250301T102000");
    assert_eq!(ev.get("DTSTART").unwrap().param("TZID"), Some("Asia/Shanghai"));
    assert!(mail.text_body.contains("10:00–10:20（北京时间）"));
}

#[test]
fn body_shows_china_standard_time() {
    let mail = render(&MailKind::RegistrationConfirmed, &ctx()).unwrap();
    assert!(mail.text_body.contains("时间：2025年3月1日（周六）09:30–12:00（北京时间）"), "{}", mail.text_body);
    assert!(mail.text_body.contains("Time: Sat 1 Mar 2025, 09:30–12:00 China Standard Time (UTC+8)"));
    assert!(mail.text_body.contains("路演中心：北京"));
    assert!(mail.text_body.contains("登记人数：2"));
    assert!(mail.text_body.contains("https://srdi.example/roadshows/7"));
}

#[test]
fn spans_crossing_midnight_in_beijing_repeat_the_date() {
    let s = Utc.with_ymd_and_hms(2025, 3, 1, 14, 0, 0).unwrap(); // 22:00 CST
    let e = Utc.with_ymd_and_hms(2025, 3, 1, 17, 0, 0).unwrap(); // 01:00 CST next day
    assert_eq!(span_zh(s, e), "2025年3月1日（周六）22:00 至 2025年3月2日（周日）01:00（北京时间）");
    assert_eq!(span_en(s, e), "Sat 1 Mar 2025, 22:00 – Sun 2 Mar 2025, 01:00 China Standard Time (UTC+8)");
}

#[test]
fn every_centre_has_its_chinese_name() {
    let names: Vec<_> = [Centre::Jinan, Centre::Beijing, Centre::Shanghai, Centre::Shenzhen, Centre::Online]
        .iter()
        .map(|c| c.label_zh())
        .collect();
    assert_eq!(names, ["济南", "北京", "上海", "深圳", "线上"]);
}

#[test]
fn stored_json_shape_and_round_trip() {
    let json = serde_json::to_value(MailKind::RegistrationWaitlisted { position: 3 }).unwrap();
    assert_eq!(json, serde_json::json!({"type": "registration_waitlisted", "position": 3}));
    let json = serde_json::to_value(MailKind::RegistrationConfirmed).unwrap();
    assert_eq!(json, serde_json::json!({"type": "registration_confirmed"}));
    let parsed: MailKind = serde_json::from_str(r#"{"type":"roadshow_cancelled"}"#).unwrap();
    assert_eq!(parsed, MailKind::RoadshowCancelled { reason: None });

    for kind in all_kinds() {
        let req = MailRequest { kind, context: ctx() };
        let text = serde_json::to_string(&req).unwrap();
        let back: MailRequest = serde_json::from_str(&text).unwrap();
        assert_eq!(back, req);
        assert_eq!(back.render().unwrap(), req.render().unwrap());
    }
}

#[test]
fn stored_context_without_optional_parts_parses() {
    let json = r#"{
            "kind": {"type": "application_status_changed", "application_id": "00000000-0000-0000-0000-000000000005",
                     "product_name": "小巨人贷", "bank_name": "齐鲁银行", "from": "submitted", "to": "declined"},
            "context": {"recipient": {"name": "李总", "email": "li@firm.example"},
                        "organizer": {"name": "SME Office", "email": "noreply@srdi.example"},
                        "created_at": "2025-02-20T08:00:00Z"}
        }"#;
    let req: MailRequest = serde_json::from_str(json).unwrap();
    let mail = req.render().unwrap();
    assert!(mail.text_body.contains("由“已提交”变更为“未获批准”"));
    assert!(mail.subject.contains("declined"));
    assert!(mail.ics.is_none());
}

#[test]
fn missing_context_is_an_error_not_a_panic() {
    let mut c = ctx();
    c.registration = None;
    assert_eq!(
        render(&MailKind::RegistrationConfirmed, &c),
        Err(RenderError::MissingContext { kind: "registration_confirmed", missing: "registration" })
    );
    c.roadshow = None;
    let err = render(&all_kinds()[6], &c).unwrap_err();
    assert_eq!(err.to_string(), "mail kind `presenter_slot` needs `roadshow` in its context");
}

#[test]
fn rendering_is_deterministic_for_retries() {
    let a = render(&MailKind::RegistrationConfirmed, &ctx()).unwrap();
    let b = render(&MailKind::RegistrationConfirmed, &ctx()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn subject_line_breaks_from_titles_are_flattened() {
    let mut c = ctx();
    if let Some(rs) = c.roadshow.as_mut() {
        rs.title = "第一行\r\nBcc: evil@example.com".into();
    }
    let mail = render(&MailKind::RegistrationConfirmed, &c).unwrap();
    assert!(!mail.subject.contains(['\r', '\n']));
    assert!(mail.subject.contains("第一行 Bcc: evil@example.com"));
}
