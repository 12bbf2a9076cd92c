//! A roadshow's writable fields: [`RoadshowInput`] as it arrives, [`RoadshowFields`] once
//! validated (create or PATCH), and where a presenter's slot goes when the roadshow moves.

use super::*;

/// Create (every required field) or change (PATCH: only the fields present) a roadshow. Times are
/// RFC 3339 with an offset, e.g. `2025-06-12T09:30:00+08:00`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoadshowInput {
    #[schema(example = "齐鲁企舞·济南站 高端装备专场")]
    pub title: Option<String>,
    #[schema(value_type = Option<Centre>)]
    pub centre: Option<String>,
    #[schema(example = "济南市历下区经十路 1 号 3 楼路演厅")]
    pub venue: Option<String>,
    #[schema(example = "2025-06-12T09:30:00+08:00")]
    pub starts_at: Option<String>,
    #[schema(example = "2025-06-12T12:00:00+08:00")]
    pub ends_at: Option<String>,
    /// Default: now.
    pub registration_opens_at: Option<String>,
    /// Default: the start.
    pub registration_closes_at: Option<String>,
    /// Default: 24 hours before the start.
    pub cancellation_deadline: Option<String>,
    #[schema(example = 80)]
    pub capacity: Option<i64>,
    #[schema(example = json!(["C35", "C3471"]))]
    pub industry_focus: Option<Vec<String>>,
    pub requires_approval: Option<bool>,
    /// PATCH only: what changed, in the office's words; shown in the change mail.
    pub change_note: Option<String>,
}

/// Where a presenter's slot goes when its roadshow moves: shifted by as much as the start moved,
/// so a slot keeps its place in the programme. `None` when the shifted slot would lie outside the
/// roadshow's new time (it was shortened): the move must then be refused, not leave a stale slot.
pub fn moved_slot(
    slot: (DateTime<Utc>, DateTime<Utc>),
    before: &RoadshowFields,
    after: &RoadshowFields,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let shift = after.starts_at - before.starts_at;
    let (start, end) = (slot.0 + shift, slot.1 + shift);
    (start >= after.starts_at && end <= after.ends_at).then_some((start, end))
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoadshowFields {
    pub title: String,
    pub centre: Centre,
    pub venue: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub registration_opens_at: DateTime<Utc>,
    pub registration_closes_at: DateTime<Utc>,
    pub cancellation_deadline: DateTime<Utc>,
    pub capacity: i64,
    pub industry_focus: Vec<String>,
    pub requires_approval: bool,
}

impl RoadshowFields {
    pub fn of(r: &Roadshow) -> RoadshowFields {
        RoadshowFields {
            title: r.title.clone(),
            centre: r.centre,
            venue: r.venue.clone(),
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            registration_opens_at: r.registration_opens_at,
            registration_closes_at: r.registration_closes_at,
            cancellation_deadline: r.cancellation_deadline,
            capacity: r.capacity,
            industry_focus: r.industry_focus.clone(),
            requires_approval: r.requires_approval,
        }
    }

    /// Whether what people put in their calendars changed (title, place or time): such a change
    /// raises the calendar SEQUENCE and mails every confirmed registration an updated invitation.
    pub fn calendar_changed(&self, other: &RoadshowFields) -> bool {
        self.title != other.title
            || self.centre != other.centre
            || self.venue != other.venue
            || self.starts_at != other.starts_at
            || self.ends_at != other.ends_at
    }
}

impl RoadshowInput {
    /// Validates a new roadshow, or the fields present over `base` (PATCH). Reports every bad field.
    pub fn validate_onto(
        &self,
        base: Option<&RoadshowFields>,
        now: DateTime<Utc>,
    ) -> Result<RoadshowFields, Vec<FieldError>> {
        let mut e = Errors::default();
        let req = |e: &mut Errors, field: &str, present: bool| {
            if !present && base.is_none() {
                e.add(field, "required", "is required");
            }
        };
        req(&mut e, "title", self.title.is_some());
        req(&mut e, "centre", self.centre.is_some());
        req(&mut e, "starts_at", self.starts_at.is_some());
        req(&mut e, "ends_at", self.ends_at.is_some());
        req(&mut e, "capacity", self.capacity.is_some());

        let title = match self.title.as_deref() {
            Some(t) => e.text("title", Some(t), 200),
            None => base.map(|b| b.title.clone()),
        };
        let centre = match self.centre.as_deref() {
            Some(c) => e.vocab::<Centre>("centre", Some(c)),
            None => base.map(|b| b.centre),
        };
        let venue = match self.venue.as_deref() {
            Some(v) if v.trim().is_empty() => None,
            Some(v) => e.text("venue", Some(v), 500),
            None => base.and_then(|b| b.venue.clone()),
        };
        let starts_at = match self.starts_at.as_deref() {
            Some(s) => instant(&mut e, "starts_at", Some(s)),
            None => base.map(|b| b.starts_at),
        };
        let ends_at = match self.ends_at.as_deref() {
            Some(s) => instant(&mut e, "ends_at", Some(s)),
            None => base.map(|b| b.ends_at),
        };
        let opens = match self.registration_opens_at.as_deref() {
            Some(s) => instant(&mut e, "registration_opens_at", Some(s)),
            None => Some(base.map(|b| b.registration_opens_at).unwrap_or(now)),
        };
        let closes = match self.registration_closes_at.as_deref() {
            Some(s) => instant(&mut e, "registration_closes_at", Some(s)),
            None => base.map(|b| b.registration_closes_at).or(starts_at),
        };
        let deadline = match self.cancellation_deadline.as_deref() {
            Some(s) => instant(&mut e, "cancellation_deadline", Some(s)),
            None => base.map(|b| b.cancellation_deadline).or(starts_at.map(|s| s - Duration::hours(24))),
        };
        let capacity = match self.capacity {
            Some(c) => e.int_range("capacity", Some(c), 1, MAX_CAPACITY),
            None => base.map(|b| b.capacity),
        };
        let industry_focus = match &self.industry_focus {
            Some(list) => {
                let mut out: Vec<String> = Vec::new();
                if list.len() > 20 {
                    e.add("industry_focus", "too_long", "at most 20 codes");
                }
                for (i, p) in list.iter().enumerate() {
                    let p = p.trim().to_ascii_uppercase();
                    if valid_industry_prefix(&p) {
                        if !out.contains(&p) {
                            out.push(p);
                        }
                    } else {
                        e.add(
                            &format!("industry_focus.{i}"),
                            "invalid",
                            "must be a GB/T 4754 code or prefix, e.g. C, C35, C3562",
                        );
                    }
                }
                out.sort();
                Some(out)
            }
            None => Some(base.map(|b| b.industry_focus.clone()).unwrap_or_default()),
        };
        let requires_approval = self.requires_approval.or(base.map(|b| b.requires_approval)).unwrap_or(false);
        if let Some(note) = self.change_note.as_deref() {
            e.text("change_note", Some(note), 500);
        }

        let mut span_ok = true;
        if let (Some(s), Some(en)) = (starts_at, ends_at) {
            if en <= s {
                e.add("ends_at", "out_of_range", "must be after starts_at");
                span_ok = false;
            } else if en - s > Duration::days(MAX_DURATION_DAYS) {
                e.add("ends_at", "out_of_range", format!("a roadshow lasts at most {MAX_DURATION_DAYS} days"));
            }
        }
        if let (Some(o), Some(c)) = (opens, closes)
            && c <= o
        {
            e.add("registration_closes_at", "out_of_range", "must be after registration_opens_at");
        }
        if let (Some(c), Some(en)) = (closes, ends_at)
            && span_ok
            && c > en
        {
            e.add("registration_closes_at", "out_of_range", "must not be after ends_at");
        }
        if let (Some(d), Some(s)) = (deadline, starts_at)
            && d > s
        {
            e.add("cancellation_deadline", "out_of_range", "must not be after starts_at");
        }
        match (title, centre, starts_at, ends_at, opens, closes, deadline, capacity, industry_focus, e.is_empty()) {
            (
                Some(title),
                Some(centre),
                Some(starts_at),
                Some(ends_at),
                Some(registration_opens_at),
                Some(registration_closes_at),
                Some(cancellation_deadline),
                Some(capacity),
                Some(industry_focus),
                true,
            ) => Ok(RoadshowFields {
                title,
                centre,
                venue,
                starts_at,
                ends_at,
                registration_opens_at,
                registration_closes_at,
                cancellation_deadline,
                capacity,
                industry_focus,
                requires_approval,
            }),
            _ => Err(e.list),
        }
    }
}
