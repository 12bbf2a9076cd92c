use super::*;

#[test]
fn milestones_set_the_firm_neeq_record() {
    let today = date("2026-01-01");
    let progress_of =
        |events: &[ListingEvent]| -> Vec<Progress> { Venue::ALL.iter().map(|v| progress(*v, events, today)).collect() };
    let quoted = [ev(1, Venue::Neeq, NeeqListed, "2022-03-01")];
    let innovation = [quoted[0].clone(), ev(2, Venue::Neeq, NeeqInnovationLayer, "2023-05-01")];
    let mut bse = innovation.to_vec();
    for (n, stage, on) in [
        (3, TutoringFiled, "2023-06-01"),
        (4, TutoringAccepted, "2023-09-01"),
        (5, ApplicationAccepted, "2024-06-01"),
        (6, Inquiry, "2024-07-01"),
        (7, CommitteeApproved, "2024-09-01"),
        (8, Registered, "2024-10-01"),
        (9, Listed, "2024-11-01"),
    ] {
        bse.push(ev(n, Venue::Bse, stage, on));
    }
    let imported = (Some(date("2020-01-01")), Some(NeeqLayer::Basic));
    type Record = (Option<NaiveDate>, Option<NeeqLayer>);
    let cases: &[(&str, &[ListingEvent], Record, Record)] = &[
        ("nothing recorded keeps the record", &[], imported, imported),
        ("nothing recorded, nothing known", &[], (None, None), (None, None)),
        ("quoted", &quoted, (None, None), (Some(date("2022-03-01")), Some(NeeqLayer::Basic))),
        ("innovation layer", &innovation, (None, None), (Some(date("2022-03-01")), Some(NeeqLayer::Innovation))),
        ("listed on the BSE leaves NEEQ", &bse, (None, None), (Some(date("2022-03-01")), None)),
    ];
    for (what, events, current, want) in cases {
        assert_eq!(neeq_record(&progress_of(events), *current), *want, "{what}");
    }
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn ev(n: u128, venue: Venue, stage: ListingStage, on: &str) -> ListingEvent {
    ListingEvent {
        id: id(n),
        venue,
        stage,
        layer: None,
        reached_on: date(on),
        document_ref: None,
        remark: None,
        corrects: None,
        retracts: false,
    }
}

fn correction(n: u128, of: u128, venue: Venue, stage: ListingStage, on: &str) -> ListingEvent {
    ListingEvent { corrects: Some(id(of)), ..ev(n, venue, stage, on) }
}

/// The whole machine, as the reference describes it: (venue, from, allowed next).
fn expected_table() -> Vec<(Venue, Option<ListingStage>, Vec<ListingStage>)> {
    let mut t = Vec::new();
    for v in [Venue::Bse, Venue::Star, Venue::Chinext] {
        t.extend([
            (
                v,
                None,
                vec![
                    Reserve,
                    ShareholdingReform,
                    TutoringFiled,
                    TutoringAccepted,
                    ApplicationAccepted,
                    Inquiry,
                    CommitteeApproved,
                    Registered,
                    Listed,
                ],
            ),
            (v, Some(Reserve), vec![ShareholdingReform, TutoringFiled]),
            (v, Some(ShareholdingReform), vec![TutoringFiled]),
            (v, Some(TutoringFiled), vec![TutoringAccepted]),
            (v, Some(TutoringAccepted), vec![ApplicationAccepted]),
            (v, Some(ApplicationAccepted), vec![Inquiry, Terminated, Withdrawn]),
            (v, Some(Inquiry), vec![CommitteeApproved, Terminated, Withdrawn]),
            (v, Some(CommitteeApproved), vec![Registered, Terminated, Withdrawn]),
            (v, Some(Registered), vec![Listed, Terminated, Withdrawn]),
            (v, Some(Listed), vec![]),
            (v, Some(Terminated), vec![TutoringFiled, ApplicationAccepted]),
            (v, Some(Withdrawn), vec![TutoringFiled, ApplicationAccepted]),
        ]);
    }
    t.extend([
        (
            Venue::Neeq,
            None,
            vec![Reserve, ShareholdingReform, NeeqApplied, NeeqAccepted, NeeqListed, NeeqInnovationLayer],
        ),
        (Venue::Neeq, Some(Reserve), vec![ShareholdingReform, NeeqApplied]),
        (Venue::Neeq, Some(ShareholdingReform), vec![NeeqApplied]),
        (Venue::Neeq, Some(NeeqApplied), vec![NeeqAccepted, Terminated, Withdrawn]),
        (Venue::Neeq, Some(NeeqAccepted), vec![NeeqListed, Terminated, Withdrawn]),
        (Venue::Neeq, Some(NeeqListed), vec![NeeqInnovationLayer]),
        (Venue::Neeq, Some(NeeqInnovationLayer), vec![NeeqListed]),
        (Venue::Neeq, Some(Terminated), vec![NeeqApplied]),
        (Venue::Neeq, Some(Withdrawn), vec![NeeqApplied]),
        (Venue::RegionalSrdiBoard, None, vec![RegionalListed]),
        (Venue::RegionalSrdiBoard, Some(RegionalListed), vec![RegionalListed, Withdrawn]),
        (Venue::RegionalSrdiBoard, Some(Withdrawn), vec![RegionalListed]),
    ]);
    t
}

#[test]
fn every_legal_transition_is_allowed_and_every_other_is_refused() {
    let table = expected_table();
    for venue in Venue::ALL {
        let froms = std::iter::once(None).chain(stages_of(*venue).iter().map(|s| Some(*s)));
        for from in froms {
            let expected = table
                .iter()
                .find(|(v, f, _)| v == venue && *f == from)
                .map(|(_, _, n)| n.clone())
                .unwrap_or_else(|| panic!("table lacks {venue} {from:?}"));
            assert_eq!(allowed_next(*venue, from), expected, "{venue} from {from:?}");
            for to in ListingStage::ALL {
                let r = check_transition(*venue, from, *to);
                if expected.contains(to) {
                    assert_eq!(r, Ok(()), "{venue}: {from:?} → {to}");
                } else {
                    let e = r.expect_err("must be refused");
                    assert_eq!(e.allowed, expected, "{venue}: {from:?} → {to}");
                }
            }
        }
    }
}

#[test]
fn some_illegal_jumps() {
    let cases = [
        (Venue::Star, Some(Reserve), Listed),
        (Venue::Star, Some(TutoringFiled), ApplicationAccepted),
        (Venue::Chinext, Some(Inquiry), TutoringFiled),
        (Venue::Bse, Some(Listed), Withdrawn),
        (Venue::Bse, Some(TutoringAccepted), Terminated),
        (Venue::Bse, None, Terminated),
        (Venue::Bse, Some(Reserve), NeeqApplied),
        (Venue::Neeq, Some(NeeqApplied), NeeqListed),
        (Venue::Neeq, Some(NeeqListed), Listed),
        (Venue::RegionalSrdiBoard, None, Reserve),
    ];
    for (venue, from, to) in cases {
        let e = check_transition(venue, from, to).unwrap_err();
        assert_eq!(e.allowed, allowed_next(venue, from));
        assert!(e.to_string().contains("allowed next"), "{e}");
    }
    let e = check_transition(Venue::Star, Some(Reserve), Listed).unwrap_err();
    assert_eq!(
        e.to_string(),
        "star: cannot go from reserve to listed; allowed next: shareholding_reform, tutoring_filed"
    );
}

#[test]
fn fold_gives_current_stage_and_days_per_stage() {
    let events = vec![
        ev(1, Venue::Star, Reserve, "2023-01-01"),
        ev(2, Venue::Star, ShareholdingReform, "2023-03-01"),
        ev(9, Venue::Neeq, Reserve, "2023-02-01"), // another venue: ignored
        ev(3, Venue::Star, TutoringFiled, "2023-06-01"),
        ev(4, Venue::Star, TutoringAccepted, "2023-09-15"),
    ];
    let p = progress(Venue::Star, &events, date("2024-01-01"));
    assert_eq!(p.current, Some(TutoringAccepted));
    assert_eq!(p.since, Some(date("2023-09-15")));
    assert!(p.issues.is_empty());
    let days: Vec<(ListingStage, i64)> = p.history.iter().map(|s| (s.stage, s.days)).collect();
    assert_eq!(days, vec![(Reserve, 59), (ShareholdingReform, 92), (TutoringFiled, 106), (TutoringAccepted, 108)]);
    assert_eq!(p.history[3].left_on, None);
    assert_eq!(p.allowed_next, vec![ApplicationAccepted]);
    let empty = progress(Venue::Bse, &events, date("2024-01-01"));
    assert_eq!(empty.current, None);
    assert_eq!(empty.allowed_next, allowed_next(Venue::Bse, None));
}

#[test]
fn full_paths_through_each_venue() {
    let star = [
        Reserve,
        ShareholdingReform,
        TutoringFiled,
        TutoringAccepted,
        ApplicationAccepted,
        Inquiry,
        CommitteeApproved,
        Registered,
        Listed,
    ];
    let neeq = [Reserve, ShareholdingReform, NeeqApplied, NeeqAccepted, NeeqListed, NeeqInnovationLayer, NeeqListed];
    for (venue, path) in
        [(Venue::Star, &star[..]), (Venue::Bse, &star[..]), (Venue::Chinext, &star[..]), (Venue::Neeq, &neeq[..])]
    {
        let mut events = Vec::new();
        let mut on = date("2020-01-01");
        for (i, stage) in path.iter().enumerate() {
            let e = ListingEvent { reached_on: on, ..ev(i as u128 + 1, venue, *stage, "2020-01-01") };
            check_append(venue, &events, &e, date("2030-01-01")).unwrap();
            events.push(e);
            on += chrono::TimeDelta::days(30);
        }
        let p = progress(venue, &events, date("2030-01-01"));
        assert_eq!(p.current, path.last().copied());
        assert_eq!(p.history.len(), path.len());
    }
}

#[test]
fn exits_and_restart() {
    let v = Venue::Chinext;
    let mut events = vec![
        ev(1, v, TutoringAccepted, "2022-01-01"), // imported mid-way
        ev(2, v, ApplicationAccepted, "2022-03-01"),
        ev(3, v, Inquiry, "2022-04-01"),
        ev(4, v, Withdrawn, "2023-01-10"),
    ];
    let p = progress(v, &events, date("2023-06-01"));
    assert_eq!(p.current, Some(Withdrawn));
    assert_eq!(p.allowed_next, vec![TutoringFiled, ApplicationAccepted]);
    let refile = ev(5, v, ApplicationAccepted, "2023-05-01");
    check_append(v, &events, &refile, date("2023-06-01")).unwrap();
    events.push(refile);
    assert_eq!(progress(v, &events, date("2023-06-01")).current, Some(ApplicationAccepted));
}

#[test]
fn append_checks_transition_date_and_layer() {
    let v = Venue::Star;
    let events = vec![ev(1, v, Reserve, "2023-01-01")];
    let today = date("2024-01-01");
    let e = check_append(v, &events, &ev(2, v, Inquiry, "2023-02-01"), today).unwrap_err();
    assert!(matches!(&e, StageError::Illegal(t) if t.allowed == vec![ShareholdingReform, TutoringFiled]), "{e:?}");
    // Skipping the reform is allowed (a firm founded as a 股份有限公司).
    check_append(v, &events, &ev(2, v, TutoringFiled, "2023-02-01"), today).unwrap();
    let e = check_append(v, &events, &ev(2, v, ShareholdingReform, "2022-12-31"), today).unwrap_err();
    assert!(matches!(e, StageError::BeforeCurrentStage { .. }), "{e:?}");
    // Same day is fine.
    check_append(v, &events, &ev(2, v, ShareholdingReform, "2023-01-01"), today).unwrap();
    let e = check_append(v, &events, &ev(2, v, ShareholdingReform, "2024-01-02"), today).unwrap_err();
    assert!(matches!(e, StageError::InFuture { .. }), "{e:?}");
    let e = check_append(Venue::Bse, &events, &ev(2, v, ShareholdingReform, "2023-02-01"), today).unwrap_err();
    assert!(matches!(e, StageError::WrongVenue { .. }), "{e:?}");
    let mut with_layer = ev(2, v, ShareholdingReform, "2023-02-01");
    with_layer.layer = Some(RegionalLayer::Incubation);
    assert_eq!(check_append(v, &events, &with_layer, today).unwrap_err(), StageError::LayerNotAllowed);
}

#[test]
fn regional_board_layers() {
    let v = Venue::RegionalSrdiBoard;
    let today = date("2025-01-01");
    let no_layer = ev(1, v, RegionalListed, "2023-09-13");
    assert_eq!(check_append(v, &[], &no_layer, today).unwrap_err(), StageError::LayerRequired);
    let first = ListingEvent { layer: Some(RegionalLayer::Incubation), ..no_layer };
    check_append(v, &[], &first, today).unwrap();
    let events = vec![first];
    let same = ListingEvent { id: id(2), reached_on: date("2024-09-13"), ..events[0].clone() };
    assert_eq!(check_append(v, &events, &same, today).unwrap_err(), StageError::SameLayer(RegionalLayer::Incubation));
    let promoted = ListingEvent { layer: Some(RegionalLayer::Standardization), ..same };
    let p = check_append(v, &events, &promoted, today).unwrap();
    assert_eq!((p.current, p.current_layer), (Some(RegionalListed), Some(RegionalLayer::Standardization)));
    assert_eq!(p.history[0].days, 366);
}

#[test]
fn correction_replaces_an_event_in_place() {
    let v = Venue::Bse;
    let mut events = vec![
        ev(1, v, Reserve, "2023-01-01"),
        ev(2, v, ShareholdingReform, "2023-05-01"),
        ev(3, v, TutoringFiled, "2023-08-01"),
    ];
    // The reform was in fact on 2023-04-01.
    let fix = correction(4, 2, v, ShareholdingReform, "2023-04-01");
    let p = check_append(v, &events, &fix, date("2024-01-01")).unwrap();
    events.push(fix);
    assert_eq!(p.history.len(), 3);
    assert_eq!(p.history[1].event_id, id(4));
    assert!(p.history[1].corrected);
    assert_eq!(p.history[0].days, 90);
    assert_eq!(p.history[1].days, 122);
    // Correcting the correction: the last one wins.
    let again = correction(5, 4, v, ShareholdingReform, "2023-04-15");
    let p = check_append(v, &events, &again, date("2024-01-01")).unwrap();
    events.push(again);
    assert_eq!(p.history[1].reached_on, date("2023-04-15"));
    assert_eq!(p.history[1].event_id, id(5));
    // Retracting the tutoring filing.
    let retract = ListingEvent { retracts: true, ..correction(6, 3, v, TutoringFiled, "2023-08-01") };
    let p = check_append(v, &events, &retract, date("2024-01-01")).unwrap();
    assert_eq!(p.current, Some(ShareholdingReform));
    assert_eq!(p.history.len(), 2);
    assert!(p.issues.is_empty());
}

#[test]
fn correction_that_breaks_the_history_is_refused() {
    let v = Venue::Star;
    let events = vec![
        ev(1, v, Reserve, "2023-01-01"),
        ev(2, v, TutoringFiled, "2023-05-01"),
        ev(3, v, TutoringAccepted, "2023-09-01"),
    ];
    // Moving the filing after the acceptance would put acceptance before filing.
    let bad = correction(4, 2, v, TutoringFiled, "2023-10-01");
    let e = check_append(v, &events, &bad, date("2024-01-01")).unwrap_err();
    assert!(matches!(e, StageError::CorrectionBreaksHistory(ref i) if i.len() == 1), "{e:?}");
    // Retracting the filing leaves reserve → tutoring_accepted: refused too.
    let retract = ListingEvent { retracts: true, ..correction(5, 2, v, TutoringFiled, "2023-05-01") };
    assert!(matches!(
        check_append(v, &events, &retract, date("2024-01-01")),
        Err(StageError::CorrectionBreaksHistory(_))
    ));
    let e = check_append(v, &events, &correction(6, 99, v, Reserve, "2023-01-01"), date("2024-01-01")).unwrap_err();
    assert_eq!(e, StageError::UnknownCorrectionTarget(id(99)));
    // The fold itself is total: a stored bad correction is reported, not fatal.
    let mut stored = events.clone();
    stored.push(bad);
    let p = progress(v, &stored, date("2024-01-01"));
    assert_eq!(p.current, Some(TutoringFiled));
    assert_eq!(p.issues.len(), 1);
    assert_eq!(p.issues[0].event_id, id(3));
}

#[test]
fn openapi_schemas_generate() {
    use utoipa::OpenApi;
    #[derive(OpenApi)]
    #[openapi(components(schemas(Progress, ListingEvent, IllegalTransition)))]
    struct Doc;
    let json = Doc::openapi().to_json().unwrap();
    assert!(json.contains("\"StageSpan\"") && json.contains("\"ListingStage\""));
}

#[test]
fn vocabulary_wire_names() {
    for s in ListingStage::ALL {
        assert_eq!(serde_json::to_string(s).unwrap(), format!("\"{}\"", s.as_str()));
        assert_eq!(s.as_str().parse::<ListingStage>().unwrap(), *s);
    }
    for l in RegionalLayer::ALL {
        assert_eq!(serde_json::to_string(l).unwrap(), format!("\"{}\"", l.as_str()));
    }
}
