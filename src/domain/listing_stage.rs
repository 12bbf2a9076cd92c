//! Listing stages per venue as a state machine, and the pure fold of a firm's dated stage events
//! into its current stage and history.
//!
//! Rules (reference §5 for the exchanges, §4.3 for NEEQ, §7.4 for the regional board):
//! * **First record.** A venue's first event may be any non-exit stage: firms are imported
//!   mid-way, and their history starts where the registry first knew them.
//! * **Then no skipping,** with one exception: `shareholding_reform` may be skipped, because a
//!   firm founded as a 股份有限公司 never converts.
//! * **Exits** (`terminated` 终止, `withdrawn` 撤回) exist only once there is a proceeding to end:
//!   for the exchanges from `application_accepted` up to `registered` (review terminated, committee
//!   rejection, registration refused or lapsed after its one-year validity, or the applicant
//!   withdraws); for NEEQ from `neeq_applied` and `neeq_accepted`; for the regional board,
//!   `withdrawn` records removal from the board (layers are reassessed yearly with removals).
//!   An exit is not final: a new attempt restarts at `tutoring_filed` (tutoring redone) or
//!   `application_accepted` (re-filed while the tutoring completion letter is still valid), and
//!   at `neeq_applied` / `regional_listed` for the other venues.
//! * `listed` is final. On NEEQ a firm may move between the innovation layer and the basic layer
//!   (`neeq_listed`) at the yearly adjustment. On the regional board `regional_listed` carries a
//!   layer and can be recorded again with a different layer.
//! * Dates never go backwards: an event is dated on or after the current stage's date, and not
//!   after "today".
//! * **Corrections.** An event with `corrects: Some(id)` replaces the event `id` (its stage, date,
//!   layer, notes) in that event's place in the history; with `retracts: true` it voids it
//!   instead. Corrections can be corrected in turn; the last recorded one wins. Nothing is
//!   deleted, so the record of what was believed when stays in the store.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::firm::{NeeqLayer, Venue, vocabulary};

vocabulary!(
    /// A listing milestone. Which stages a venue uses: see `stages_of`.
    ListingStage {
        Reserve = "reserve" / "入库",
        ShareholdingReform = "shareholding_reform" / "股改",
        TutoringFiled = "tutoring_filed" / "辅导备案",
        TutoringAccepted = "tutoring_accepted" / "辅导验收",
        ApplicationAccepted = "application_accepted" / "申报受理",
        Inquiry = "inquiry" / "审核问询",
        CommitteeApproved = "committee_approved" / "上市委审议通过",
        Registered = "registered" / "注册生效",
        Listed = "listed" / "发行上市",
        Terminated = "terminated" / "终止",
        Withdrawn = "withdrawn" / "撤回",
        NeeqApplied = "neeq_applied" / "挂牌申请",
        NeeqAccepted = "neeq_accepted" / "挂牌申请受理",
        NeeqListed = "neeq_listed" / "新三板挂牌",
        NeeqInnovationLayer = "neeq_innovation_layer" / "进入创新层",
        RegionalListed = "regional_listed" / "专精特新专板挂牌",
    }
);

vocabulary!(
    /// Layer of the regional equity market's 专精特新专板.
    RegionalLayer {
        Incubation = "incubation" / "孵化层",
        Standardization = "standardization" / "规范层",
        Cultivation = "cultivation" / "培育层",
    }
);

use ListingStage::*;

const EXCHANGE_STAGES: &[ListingStage] = &[
    Reserve,
    ShareholdingReform,
    TutoringFiled,
    TutoringAccepted,
    ApplicationAccepted,
    Inquiry,
    CommitteeApproved,
    Registered,
    Listed,
    Terminated,
    Withdrawn,
];
const NEEQ_STAGES: &[ListingStage] =
    &[Reserve, ShareholdingReform, NeeqApplied, NeeqAccepted, NeeqListed, NeeqInnovationLayer, Terminated, Withdrawn];
const REGIONAL_STAGES: &[ListingStage] = &[RegionalListed, Withdrawn];

/// The stages a venue uses, in their normal order (exits last).
pub fn stages_of(venue: Venue) -> &'static [ListingStage] {
    match venue {
        Venue::Bse | Venue::Star | Venue::Chinext => EXCHANGE_STAGES,
        Venue::Neeq => NEEQ_STAGES,
        Venue::RegionalSrdiBoard => REGIONAL_STAGES,
    }
}

impl ListingStage {
    /// Exit stages end an attempt; they are not milestones a firm is imported at.
    pub fn is_exit(self) -> bool {
        matches!(self, Terminated | Withdrawn)
    }
}

/// The stages that may follow `current` (None: no event recorded yet for this venue).
pub fn allowed_next(venue: Venue, current: Option<ListingStage>) -> Vec<ListingStage> {
    let Some(current) = current else {
        return stages_of(venue).iter().copied().filter(|s| !s.is_exit()).collect();
    };
    let next: &[ListingStage] = match venue {
        Venue::Bse | Venue::Star | Venue::Chinext => match current {
            Reserve => &[ShareholdingReform, TutoringFiled],
            ShareholdingReform => &[TutoringFiled],
            TutoringFiled => &[TutoringAccepted],
            TutoringAccepted => &[ApplicationAccepted],
            ApplicationAccepted => &[Inquiry, Terminated, Withdrawn],
            Inquiry => &[CommitteeApproved, Terminated, Withdrawn],
            CommitteeApproved => &[Registered, Terminated, Withdrawn],
            Registered => &[Listed, Terminated, Withdrawn],
            Terminated | Withdrawn => &[TutoringFiled, ApplicationAccepted],
            _ => &[],
        },
        Venue::Neeq => match current {
            Reserve => &[ShareholdingReform, NeeqApplied],
            ShareholdingReform => &[NeeqApplied],
            NeeqApplied => &[NeeqAccepted, Terminated, Withdrawn],
            NeeqAccepted => &[NeeqListed, Terminated, Withdrawn],
            NeeqListed => &[NeeqInnovationLayer],
            NeeqInnovationLayer => &[NeeqListed],
            Terminated | Withdrawn => &[NeeqApplied],
            _ => &[],
        },
        Venue::RegionalSrdiBoard => match current {
            RegionalListed => &[RegionalListed, Withdrawn],
            Withdrawn => &[RegionalListed],
            _ => &[],
        },
    };
    next.to_vec()
}

/// A stage change the state machine does not allow. The API answers 409 with `allowed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, thiserror::Error)]
#[error("{venue}: cannot go from {} to {to}; allowed next: {}", from.map_or("(no stage)", ListingStage::as_str), join(allowed))]
pub struct IllegalTransition {
    pub venue: Venue,
    pub from: Option<ListingStage>,
    pub to: ListingStage,
    pub allowed: Vec<ListingStage>,
}

fn join(stages: &[ListingStage]) -> String {
    if stages.is_empty() {
        return "none".to_owned();
    }
    stages.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

pub fn check_transition(
    venue: Venue,
    current: Option<ListingStage>,
    next: ListingStage,
) -> Result<(), IllegalTransition> {
    let allowed = allowed_next(venue, current);
    if allowed.contains(&next) { Ok(()) } else { Err(IllegalTransition { venue, from: current, to: next, allowed }) }
}

/// One recorded milestone (or a correction of one). Stored append-only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ListingEvent {
    pub id: Uuid,
    pub venue: Venue,
    pub stage: ListingStage,
    /// Required for `regional_listed`, absent otherwise.
    #[serde(default)]
    pub layer: Option<RegionalLayer>,
    pub reached_on: NaiveDate,
    #[serde(default)]
    pub document_ref: Option<String>,
    #[serde(default)]
    pub remark: Option<String>,
    /// The event this one replaces.
    #[serde(default)]
    pub corrects: Option<Uuid>,
    /// With `corrects`: void the corrected event instead of replacing it.
    #[serde(default)]
    pub retracts: bool,
}

/// One stage in a firm's history for a venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StageSpan {
    /// The event in force for this stage (a correction's id when corrected).
    pub event_id: Uuid,
    pub stage: ListingStage,
    pub layer: Option<RegionalLayer>,
    pub reached_on: NaiveDate,
    /// When the next stage was reached; `None` for the current stage.
    pub left_on: Option<NaiveDate>,
    /// Days spent in the stage: to `left_on`, or to the `as_of` date for the current stage.
    pub days: i64,
    pub corrected: bool,
    pub document_ref: Option<String>,
    pub remark: Option<String>,
}

/// An event the fold could not apply (only possible through corrections or bad imports, since
/// new events are checked before they are stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProgressIssue {
    pub event_id: Uuid,
    pub problem: String,
}

/// A firm's listing progress on one venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Progress {
    pub venue: Venue,
    pub current: Option<ListingStage>,
    pub current_layer: Option<RegionalLayer>,
    pub since: Option<NaiveDate>,
    pub history: Vec<StageSpan>,
    pub allowed_next: Vec<ListingStage>,
    pub issues: Vec<ProgressIssue>,
}

/// Why a new event cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StageError {
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    #[error("event is for {got}, not {expected}")]
    WrongVenue { expected: Venue, got: Venue },
    #[error("reached_on {reached_on} is before the current stage's date {since}")]
    BeforeCurrentStage { reached_on: NaiveDate, since: NaiveDate },
    #[error("reached_on {reached_on} is after today ({today})")]
    InFuture { reached_on: NaiveDate, today: NaiveDate },
    #[error("regional_listed needs a layer (incubation, standardization, cultivation)")]
    LayerRequired,
    #[error("only regional_listed takes a layer")]
    LayerNotAllowed,
    #[error("already on the {0} layer")]
    SameLayer(RegionalLayer),
    #[error("retracts is only meaningful with corrects")]
    RetractWithoutTarget,
    #[error("corrects {0}, which is not an event of this firm and venue")]
    UnknownCorrectionTarget(Uuid),
    #[error("the correction would leave the history inconsistent: {}", .0.iter().map(|i| i.problem.as_str()).collect::<Vec<_>>().join("; "))]
    CorrectionBreaksHistory(Vec<ProgressIssue>),
}

/// The layer rule of a single step, on top of `check_transition`.
fn check_layer(
    stage: ListingStage,
    layer: Option<RegionalLayer>,
    current_layer: Option<RegionalLayer>,
    current: Option<ListingStage>,
) -> Result<(), StageError> {
    match (stage, layer) {
        (RegionalListed, None) => Err(StageError::LayerRequired),
        (RegionalListed, Some(l)) if current == Some(RegionalListed) && current_layer == Some(l) => {
            Err(StageError::SameLayer(l))
        }
        (RegionalListed, Some(_)) | (_, None) => Ok(()),
        (_, Some(_)) => Err(StageError::LayerNotAllowed),
    }
}

/// Folds a venue's events (in recorded order; other venues' events are ignored) into the
/// current stage and the dated history, `as_of` being "today" for the open stage's days.
pub fn progress(venue: Venue, events: &[ListingEvent], as_of: NaiveDate) -> Progress {
    let mut issues = Vec::new();
    // Slots in recorded order; a correction takes over its target's slot.
    let mut slots: Vec<Option<(&ListingEvent, bool)>> = Vec::new();
    let mut slot_of: HashMap<Uuid, usize> = HashMap::new();
    for e in events.iter().filter(|e| e.venue == venue) {
        match e.corrects {
            None => {
                if e.retracts {
                    issues.push(ProgressIssue {
                        event_id: e.id,
                        problem: "retracts without corrects; ignored".to_owned(),
                    });
                    continue;
                }
                slot_of.insert(e.id, slots.len());
                slots.push(Some((e, false)));
            }
            Some(target) => match slot_of.get(&target).copied() {
                Some(slot) => {
                    slots[slot] = if e.retracts { None } else { Some((e, true)) };
                    slot_of.insert(e.id, slot);
                }
                None => issues.push(ProgressIssue {
                    event_id: e.id,
                    problem: format!("corrects unknown event {target}; ignored"),
                }),
            },
        }
    }
    let mut effective: Vec<(&ListingEvent, bool)> = slots.into_iter().flatten().collect();
    // Stable: same-day events keep their recorded order.
    effective.sort_by_key(|(e, _)| e.reached_on);

    let mut history: Vec<StageSpan> = Vec::with_capacity(effective.len());
    let mut current: Option<ListingStage> = None;
    let mut current_layer: Option<RegionalLayer> = None;
    for (e, corrected) in effective {
        let step = check_transition(venue, current, e.stage)
            .map_err(StageError::from)
            .and_then(|()| check_layer(e.stage, e.layer, current_layer, current));
        if let Err(why) = step {
            issues.push(ProgressIssue {
                event_id: e.id,
                problem: format!("{} on {}: {why}; ignored", e.stage, e.reached_on),
            });
            continue;
        }
        if let Some(prev) = history.last_mut() {
            prev.left_on = Some(e.reached_on);
            prev.days = (e.reached_on - prev.reached_on).num_days();
        }
        history.push(StageSpan {
            event_id: e.id,
            stage: e.stage,
            layer: e.layer,
            reached_on: e.reached_on,
            left_on: None,
            days: 0,
            corrected,
            document_ref: e.document_ref.clone(),
            remark: e.remark.clone(),
        });
        current = Some(e.stage);
        current_layer = e.layer;
    }
    if let Some(open) = history.last_mut() {
        open.days = (as_of - open.reached_on).num_days().max(0);
    }
    Progress {
        venue,
        current,
        current_layer,
        since: history.last().map(|s| s.reached_on),
        allowed_next: allowed_next(venue, current),
        history,
        issues,
    }
}

/// Checks that `new` may be appended to a venue's stored `events` on `today`, and returns the
/// progress with it. A correction is accepted when the corrected history folds without new
/// issues.
pub fn check_append(
    venue: Venue,
    events: &[ListingEvent],
    new: &ListingEvent,
    today: NaiveDate,
) -> Result<Progress, StageError> {
    if new.venue != venue {
        return Err(StageError::WrongVenue { expected: venue, got: new.venue });
    }
    if new.reached_on > today && !new.retracts {
        return Err(StageError::InFuture { reached_on: new.reached_on, today });
    }
    let before = progress(venue, events, today);
    let mut all = events.to_vec();
    all.push(new.clone());
    match new.corrects {
        None => {
            if new.retracts {
                return Err(StageError::RetractWithoutTarget);
            }
            check_transition(venue, before.current, new.stage)?;
            check_layer(new.stage, new.layer, before.current_layer, before.current)?;
            if let Some(since) = before.since
                && new.reached_on < since
            {
                return Err(StageError::BeforeCurrentStage { reached_on: new.reached_on, since });
            }
        }
        Some(target) => {
            if !events.iter().any(|e| e.id == target && e.venue == venue) {
                return Err(StageError::UnknownCorrectionTarget(target));
            }
            if !new.retracts {
                check_layer(new.stage, new.layer, None, None)?;
            }
        }
    }
    let after = progress(venue, &all, today);
    let fresh: Vec<ProgressIssue> = after.issues.iter().filter(|i| !before.issues.contains(i)).cloned().collect();
    if !fresh.is_empty() {
        return Err(StageError::CorrectionBreaksHistory(fresh));
    }
    Ok(after)
}

/// The firm record's NEEQ quotation (date, layer) that its milestones imply, from the firm's
/// progress on every venue and what the record says now (kept where the milestones say nothing,
/// e.g. a quotation imported from a spreadsheet). A recorded `neeq_listed` sets the date; the
/// current NEEQ stage sets the layer (`neeq_innovation_layer`: innovation, `neeq_listed`: basic);
/// a listing on an exchange ends the quotation, so the firm has no NEEQ layer any more.
pub fn neeq_record(
    progress: &[Progress],
    current: (Option<NaiveDate>, Option<NeeqLayer>),
) -> (Option<NaiveDate>, Option<NeeqLayer>) {
    let exchange_listed = progress
        .iter()
        .any(|p| matches!(p.venue, Venue::Bse | Venue::Star | Venue::Chinext) && p.current == Some(Listed));
    let neeq = progress.iter().find(|p| p.venue == Venue::Neeq);
    let quoted_on = neeq.and_then(|p| p.history.iter().find(|s| s.stage == NeeqListed)).map(|s| s.reached_on);
    let listed_on = quoted_on.or(current.0);
    let layer = if exchange_listed {
        None
    } else {
        match neeq.and_then(|p| p.current) {
            Some(NeeqInnovationLayer) => Some(NeeqLayer::Innovation),
            Some(NeeqListed) => Some(NeeqLayer::Basic),
            _ => current.1,
        }
    };
    (listed_on, layer.filter(|_| listed_on.is_some()))
}

#[cfg(test)]
mod tests;
