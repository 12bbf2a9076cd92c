use super::*;
use chrono::TimeZone;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 5, 1, 0, 0, 0).unwrap()
}

fn full() -> RoadshowInput {
    RoadshowInput {
        title: Some("齐鲁企舞·济南站".into()),
        centre: Some("jinan".into()),
        starts_at: Some("2025-06-12T09:30:00+08:00".into()),
        ends_at: Some("2025-06-12T12:00:00+08:00".into()),
        capacity: Some(80),
        industry_focus: Some(vec!["c35".into(), "C3471".into(), "C35".into()]),
        ..RoadshowInput::default()
    }
}

#[test]
fn roadshow_defaults_and_normalisation() {
    let f = full().validate_onto(None, now()).unwrap();
    assert_eq!(f.starts_at, Utc.with_ymd_and_hms(2025, 6, 12, 1, 30, 0).unwrap());
    assert_eq!(f.registration_opens_at, now());
    assert_eq!(f.registration_closes_at, f.starts_at);
    assert_eq!(f.cancellation_deadline, f.starts_at - Duration::hours(24));
    assert_eq!(f.industry_focus, vec!["C3471".to_owned(), "C35".to_owned()]);
    assert!(!f.requires_approval);
}

#[test]
fn roadshow_validation_names_every_bad_field() {
    let cases: Vec<(RoadshowInput, Vec<&str>)> = vec![
        (RoadshowInput::default(), vec!["title", "centre", "starts_at", "ends_at", "capacity"]),
        (RoadshowInput { centre: Some("qingdao".into()), capacity: Some(0), ..full() }, vec!["centre", "capacity"]),
        (RoadshowInput { ends_at: Some("2025-06-12T09:00:00+08:00".into()), ..full() }, vec!["ends_at"]),
        (RoadshowInput { ends_at: Some("2025-06-30T09:00:00+08:00".into()), ..full() }, vec!["ends_at"]),
        (RoadshowInput { starts_at: Some("12 June".into()), ..full() }, vec!["starts_at"]),
        (
            RoadshowInput { cancellation_deadline: Some("2025-06-12T10:00:00+08:00".into()), ..full() },
            vec!["cancellation_deadline"],
        ),
        (
            RoadshowInput {
                registration_opens_at: Some("2025-06-01T00:00:00Z".into()),
                registration_closes_at: Some("2025-05-30T00:00:00Z".into()),
                ..full()
            },
            vec!["registration_closes_at"],
        ),
        (
            RoadshowInput { registration_closes_at: Some("2025-06-13T00:00:00+08:00".into()), ..full() },
            vec!["registration_closes_at"],
        ),
        (
            RoadshowInput { industry_focus: Some(vec!["Z9".into(), "C12345".into()]), ..full() },
            vec!["industry_focus.0", "industry_focus.1"],
        ),
    ];
    for (input, fields) in cases {
        let errs = input.validate_onto(None, now()).expect_err("invalid");
        let got: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(got, fields);
    }
}

#[test]
fn patch_keeps_absent_fields_and_detects_calendar_changes() {
    let base = full().validate_onto(None, now()).unwrap();
    let same =
        RoadshowInput { capacity: Some(90), ..RoadshowInput::default() }.validate_onto(Some(&base), now()).unwrap();
    assert_eq!(same.capacity, 90);
    assert_eq!(same.title, base.title);
    assert!(!same.calendar_changed(&base));
    let moved = RoadshowInput { venue: Some("新会场".into()), ..RoadshowInput::default() }
        .validate_onto(Some(&base), now())
        .unwrap();
    assert!(moved.calendar_changed(&base));
    let cleared = RoadshowInput { venue: Some(" ".into()), ..RoadshowInput::default() }
        .validate_onto(Some(&moved), now())
        .unwrap();
    assert_eq!(cleared.venue, None);
}

#[test]
fn status_machine() {
    use RoadshowStatus::*;
    let table = [
        (Draft, vec![Published, Cancelled]),
        (Published, vec![Closed, Cancelled, Completed]),
        (Closed, vec![Published, Cancelled, Completed]),
        (Cancelled, vec![]),
        (Completed, vec![]),
    ];
    for (from, to) in table {
        assert_eq!(from.allowed_next(), to.as_slice(), "{from}");
        assert_eq!(from.editable(), !to.is_empty(), "{from}");
    }
    assert!(!Draft.public() && Published.public() && Cancelled.public());
}

#[test]
fn registration_input_rules() {
    let ok = RegistrationInput {
        attendee_name: Some(" 王经理 ".into()),
        attendee_email: Some("Wang@Fund.example.cn".into()),
        party_size: None,
        fund_id: None,
    };
    let f = ok.validate().unwrap();
    assert_eq!((f.attendee_name.as_str(), f.party_size), ("王经理", 1));
    assert_eq!(email_key(&f.attendee_email), "wang@fund.example.cn");
    let bad = RegistrationInput {
        attendee_name: None,
        attendee_email: Some("not-an-address".into()),
        party_size: Some(11),
        fund_id: None,
    };
    let fields: Vec<String> = bad.validate().unwrap_err().into_iter().map(|e| e.field).collect();
    assert_eq!(fields, ["attendee_name", "attendee_email", "party_size"]);
    for (addr, ok) in [("a@b.cn", true), ("a b@c.cn", false), ("a@", false), ("@b.cn", false), ("x@y\n.cn", false)] {
        assert_eq!(valid_email(addr), ok, "{addr}");
    }
}

#[test]
fn industry_prefixes_and_matching() {
    for (p, ok) in [
        ("C", true),
        ("C3", true),
        ("C35", true),
        ("C3562", true),
        ("C35621", false),
        ("U1", false),
        ("", false),
        ("c3", false),
    ] {
        assert_eq!(valid_industry_prefix(p), ok, "{p}");
    }
    assert!(industry_matches(&[], "I6513"));
    assert!(industry_matches(&["C35".into()], "C3562"));
    assert!(!industry_matches(&["C35".into()], "C3471"));
}

fn candidate(n: u128, tier: Option<Tier>, industry: &str, venue: Venue, key_firm: bool) -> Candidate {
    Candidate {
        firm_id: FirmId::from_uuid(Uuid::from_u128(n)),
        name: format!("企业{n}"),
        city: City::Jinan,
        tier,
        industry_code: industry.into(),
        target_venue: venue,
        key_firm,
    }
}

#[test]
fn ranking_orders_by_fit_and_explains_it() {
    let focus = vec!["C".to_owned(), "C35".to_owned(), "C3562".to_owned()];
    let ranked = rank(
        &focus,
        vec![
            candidate(1, Some(Tier::InnovativeSme), "C3562", Venue::Neeq, false), // 40+10+0+8 = 58
            candidate(2, Some(Tier::LittleGiant), "C3511", Venue::Bse, true),     // 35+30+15+15 = 95
            candidate(3, None, "I6513", Venue::Star, true),                       // outside the focus
            candidate(4, Some(Tier::ProvincialSrdi), "C2710", Venue::Chinext, false), // 25+20+0+15 = 60
        ],
    );
    let got: Vec<(u128, u32)> = ranked.iter().map(|r| (r.firm_id.uuid().as_u128(), r.score)).collect();
    assert_eq!(got, [(2, 95), (4, 60), (1, 58)]);
    assert_eq!(ranked[0].reasons, ["industry:C35", "tier:little_giant", "key_firm", "venue:bse"]);
    assert_eq!(ranked[2].reasons, ["industry:C3562", "tier:innovative_sme", "venue:neeq"]);
    // No focus: everyone is a candidate with the same industry base.
    let all = rank(&[], vec![candidate(3, None, "I6513", Venue::RegionalSrdiBoard, false)]);
    assert_eq!((all[0].score, all[0].reasons.clone()), (24, vec!["venue:regional_srdi_board".to_owned()]));
}

#[test]
fn ties_break_by_tier_then_name() {
    let ranked = rank(
        &[],
        vec![
            candidate(2, Some(Tier::InnovativeSme), "C1", Venue::Bse, true), // 20+10+15+15 = 60
            candidate(1, Some(Tier::ProvincialSrdi), "C1", Venue::Bse, false), // 20+20+0+15 = 55
            candidate(3, Some(Tier::InnovativeSme), "C1", Venue::Bse, true),
        ],
    );
    let ids: Vec<u128> = ranked.iter().map(|r| r.firm_id.uuid().as_u128()).collect();
    assert_eq!(ids, [2, 3, 1]);
}

#[test]
fn registration_window() {
    let f = full().validate_onto(None, now()).unwrap();
    let rs = Roadshow {
        id: Uuid::nil(),
        title: f.title,
        centre: f.centre,
        venue: None,
        starts_at: f.starts_at,
        ends_at: f.ends_at,
        registration_opens_at: now(),
        registration_closes_at: f.registration_closes_at,
        cancellation_deadline: f.cancellation_deadline,
        capacity: 1,
        seats_taken: 0,
        seats_left: 1,
        industry_focus: vec![],
        requires_approval: false,
        status: RoadshowStatus::Published,
        sequence: 0,
        cancel_reason: None,
        created_at: now(),
        updated_at: now(),
    };
    assert_eq!(registration_refusal(&rs, now() - Duration::seconds(1)).map(|r| r.0), Some("registration_not_open"));
    assert_eq!(registration_refusal(&rs, now()), None);
    assert_eq!(registration_refusal(&rs, rs.registration_closes_at).map(|r| r.0), Some("registration_closed"));
    let draft = Roadshow { status: RoadshowStatus::Draft, ..rs };
    assert_eq!(registration_refusal(&draft, now()).map(|r| r.0), Some("roadshow_not_open"));
}
