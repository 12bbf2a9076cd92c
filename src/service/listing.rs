//! Readiness, tier checks and listing progress: the pure evaluators fed from the registry, with the
//! rule books loaded from the database (so operators' corrections apply without a code change).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::Db;
use crate::domain::events::EventKind;
use crate::domain::firm::{NeeqLayer, Venue};
use crate::domain::ids::FirmId;
use crate::domain::listing_stage::{self, ListingEvent, ListingStage, Progress, RegionalLayer, StageError};
use crate::domain::readiness::input::ReadinessInput;
use crate::domain::readiness::rules::RuleSet;
use crate::domain::readiness::{AttestationKey, RuleBook, VenueReadiness, builtin_rule_sets, listing_progress_of};
use crate::domain::tier_check::{TierBook, TierCheck, TierScheme, builtin_tier_schemes};
use crate::domain::validate::{Errors, FieldError};
use crate::error::{AppError, AppResult};
use crate::service::events::{self, NewEvent};
use crate::store::{Conn, financials, firm_inputs, firms, listing};

/// The books built from the stored rules, with the stamp of the rules they were built from.
type CachedBooks = (String, Arc<RuleBook>, Arc<TierBook>);

/// The rule books of this process, reloaded when the stored rules change.
#[derive(Default)]
pub struct RulesCache {
    inner: RwLock<Option<CachedBooks>>,
}

impl RulesCache {
    pub async fn books(&self, conn: &mut Conn) -> AppResult<(Arc<RuleBook>, Arc<TierBook>)> {
        let stamp = listing::rules_stamp(conn).await?;
        if let Some((s, book, tiers)) = self.inner.read().await.as_ref()
            && *s == stamp
        {
            return Ok((book.clone(), tiers.clone()));
        }
        let sets = listing::rule_bodies(conn, "listing")
            .await?
            .iter()
            .map(|b| serde_json::from_str::<RuleSet>(b))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow::anyhow!("a stored listing rule set does not parse: {e}"))?;
        let schemes = listing::rule_bodies(conn, "tier")
            .await?
            .iter()
            .map(|b| serde_json::from_str::<TierScheme>(b))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow::anyhow!("a stored tier scheme does not parse: {e}"))?;
        let book = Arc::new(RuleBook::new(sets).map_err(|e| anyhow::anyhow!("stored listing rules: {e}"))?);
        let tiers = Arc::new(TierBook::new(schemes).map_err(|e| anyhow::anyhow!("stored tier schemes: {e}"))?);
        *self.inner.write().await = Some((stamp, book.clone(), tiers.clone()));
        Ok((book, tiers))
    }
}

/// Stores an operator's version of a listing standard (never refreshed from the shipped data);
/// the caller has checked it against the rule book it joins.
#[tracing::instrument(skip_all, fields(key_id = %key_id, version = %set.version))]
pub async fn put_operator_rule_set(conn: &mut Conn, set: &RuleSet, key_id: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    listing::put_rule_set(conn, set, false, Some(key_id), now).await
}

/// Stores an operator's version of the tier scheme, like [`put_operator_rule_set`].
#[tracing::instrument(skip_all, fields(key_id = %key_id, version = %scheme.version))]
pub async fn put_operator_tier_scheme(
    conn: &mut Conn,
    scheme: &TierScheme,
    key_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    listing::put_tier_scheme(conn, scheme, false, Some(key_id), now).await
}

/// Stores the built-in rule versions the database does not have yet (at start-up).
#[tracing::instrument(skip_all)]
pub async fn ensure_builtin_rules(db: &Db, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let sets = builtin_rule_sets().map_err(|e| anyhow::anyhow!("built-in listing rules: {e}"))?;
    let schemes = builtin_tier_schemes().map_err(|e| anyhow::anyhow!("built-in tier schemes: {e}"))?;
    let mut tx = db.begin().await?;
    let added = listing::seed_builtin(&mut tx, &sets, &schemes, now).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    tx.commit().await?;
    Ok(added)
}

/// The attestation keys the stored rules read (the built-in rules when none are stored yet,
/// e.g. for the command-line import before the service first started).
#[tracing::instrument(skip_all)]
pub async fn attestation_catalogue(conn: &mut Conn) -> AppResult<BTreeMap<String, AttestationKey>> {
    let (book, tiers) = RulesCache::default().books(conn).await?;
    let keys = crate::service::firm_inputs::attestation_keys(&book, &tiers);
    if !keys.is_empty() {
        return Ok(keys);
    }
    let book = RuleBook::builtin().map_err(|e| anyhow::anyhow!("built-in listing rules: {e}"))?;
    let tiers = TierBook::builtin().map_err(|e| anyhow::anyhow!("built-in tier schemes: {e}"))?;
    Ok(crate::service::firm_inputs::attestation_keys(&book, &tiers))
}

/// What the registry knows of a firm for the evaluators, as it stood on `as_of`: the record,
/// financials, the dated inputs in force then, and the listing milestones reached by then.
#[tracing::instrument(skip_all, fields(firm_id = %firm_id))]
pub async fn readiness_input(conn: &mut Conn, firm_id: FirmId, as_of: NaiveDate) -> AppResult<ReadinessInput> {
    let firm = firms::get(conn, firm_id).await?.ok_or(AppError::not_found("firm"))?;
    let years = financials::list(conn, firm_id).await?;
    let records = firm_inputs::load(conn, firm_id).await?;
    let mut input = ReadinessInput::from_records(&firm, years, &records, as_of);
    let events: Vec<ListingEvent> =
        listing::events(conn, firm_id, None).await?.into_iter().filter(|e| e.reached_on <= as_of).collect();
    let progress: Vec<Progress> = Venue::ALL.iter().map(|v| listing_stage::progress(*v, &events, as_of)).collect();
    // The NEEQ innovation-layer entry date comes from the recorded milestones, when there are any.
    input.neeq_innovation_layer_since = progress
        .iter()
        .filter(|p| p.venue == Venue::Neeq)
        .flat_map(|p| p.history.iter().rev())
        .find(|s| s.stage == ListingStage::NeeqInnovationLayer && s.left_on.is_none())
        .map(|s| s.reached_on);
    input.sme.listing_progress = Some(listing_progress_of(&progress, firm.neeq_listed_on, as_of));
    Ok(input)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessReport {
    #[schema(value_type = Uuid)]
    pub firm_id: FirmId,
    pub as_of: NaiveDate,
    /// One entry per venue and scope whose rules are in force on `as_of` (NEEQ has two scopes:
    /// listing, and entry to the innovation layer).
    pub venues: Vec<VenueReadiness>,
}

#[tracing::instrument(skip_all, fields(firm_id = %firm_id))]
pub async fn readiness(
    book: &RuleBook,
    input: &ReadinessInput,
    firm_id: FirmId,
    venue: Option<Venue>,
) -> AppResult<ReadinessReport> {
    let venues = match venue {
        None => book.evaluate_all(input),
        Some(v) => book.evaluate_venue(v, input).map_err(|e| AppError::Conflict {
            code: "no_rules_in_force",
            detail: e.to_string(),
            extra: Some(serde_json::json!({ "venue": v, "as_of": input.evaluation_date })),
        })?,
    };
    Ok(ReadinessReport { firm_id, as_of: input.evaluation_date, venues })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TierCheckReport {
    #[schema(value_type = Uuid)]
    pub firm_id: FirmId,
    pub as_of: NaiveDate,
    /// `in_force`: the scheme in force on `as_of` was applied. `superseded`: no scheme loaded for
    /// that date (e.g. the 2026-04-01 revision has not been entered as data yet), so the latest
    /// earlier scheme was applied and `note` says which.
    pub scheme_status: String,
    pub note: Option<String>,
    pub check: TierCheck,
}

pub fn tier_check(tiers: &TierBook, input: &ReadinessInput, firm_id: FirmId) -> AppResult<TierCheckReport> {
    if let Ok(check) = tiers.check(input) {
        return Ok(TierCheckReport {
            firm_id,
            as_of: input.evaluation_date,
            scheme_status: "in_force".into(),
            note: None,
            check,
        });
    }
    let date = input.evaluation_date;
    let latest = tiers.schemes().filter(|s| s.effective_from <= date).max_by_key(|s| s.effective_from).cloned();
    let Some(mut scheme) = latest else {
        return Err(AppError::Conflict {
            code: "no_rules_in_force",
            detail: format!("no SME tier scheme applies on {date}"),
            extra: None,
        });
    };
    let ended = scheme.effective_to;
    scheme.effective_to = None;
    let book = TierBook::new(vec![scheme]).map_err(|e| anyhow::anyhow!("{e}"))?;
    let check = book.check(input).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(TierCheckReport {
        firm_id,
        as_of: date,
        scheme_status: "superseded".into(),
        note: Some(format!(
            "no tier scheme is loaded for {date}; evaluated under {} (in force until {}). The scheme that replaced it \
             (for the MIIT scheme: the 2026-04-01 revised 办法) stays a placeholder until its figures are confirmed; \
             load it as data to evaluate under it.",
            check.scheme_version,
            ended.map(|d| d.to_string()).unwrap_or_default()
        )),
        check,
    })
}

/// A milestone as it arrives.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListingEventInput {
    #[schema(value_type = Venue)]
    pub venue: String,
    #[schema(value_type = ListingStage)]
    pub stage: String,
    /// Date the stage was reached (not in the future).
    #[schema(example = "2025-06-30")]
    pub reached_on: String,
    /// For `regional_listed` only: `incubation`, `standardization` or `cultivation`.
    #[schema(value_type = Option<RegionalLayer>)]
    pub layer: Option<String>,
    /// Reference of the supporting document (e.g. a CSRC filing number).
    pub document_ref: Option<String>,
    pub remark: Option<String>,
    /// The id of an earlier event this one corrects (history is never edited).
    pub corrects: Option<Uuid>,
    /// With `corrects`: void the corrected event instead of replacing it.
    #[serde(default)]
    pub retracts: bool,
}

impl ListingEventInput {
    pub fn validate(&self) -> Result<ListingEvent, Vec<FieldError>> {
        let mut e = Errors::default();
        let venue = e.vocab::<Venue>("venue", Some(&self.venue));
        let stage = e.vocab::<ListingStage>("stage", Some(&self.stage));
        let reached_on = e.date("reached_on", Some(&self.reached_on));
        let layer = self.layer.as_deref().and_then(|l| e.vocab::<RegionalLayer>("layer", Some(l)));
        let document_ref = self.document_ref.as_deref().and_then(|s| e.text("document_ref", Some(s), 200));
        let remark = self.remark.as_deref().and_then(|s| e.text("remark", Some(s), 2000));
        match (venue, stage, reached_on, e.is_empty()) {
            (Some(venue), Some(stage), Some(reached_on), true) => Ok(ListingEvent {
                id: Uuid::now_v7(),
                venue,
                stage,
                layer,
                reached_on,
                document_ref,
                remark,
                corrects: self.corrects,
                retracts: self.retracts,
            }),
            _ => Err(e.list),
        }
    }
}

fn stage_error(err: StageError) -> AppError {
    match err {
        StageError::Illegal(illegal) => AppError::Conflict {
            code: "illegal_stage_transition",
            detail: format!(
                "{} cannot follow {} on {}; allowed next: {}",
                illegal.to,
                illegal.from.map(|s| s.to_string()).unwrap_or_else(|| "nothing".into()),
                illegal.venue,
                if illegal.allowed.is_empty() {
                    "none (final stage)".to_owned()
                } else {
                    illegal.allowed.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                }
            ),
            extra: Some(serde_json::json!({ "allowed_next": illegal.allowed })),
        },
        StageError::InFuture { .. } | StageError::BeforeCurrentStage { .. } => {
            AppError::field("reached_on", "out_of_range", err.to_string())
        }
        StageError::LayerRequired | StageError::LayerNotAllowed | StageError::SameLayer(_) => {
            AppError::field("layer", "invalid", err.to_string())
        }
        StageError::RetractWithoutTarget | StageError::UnknownCorrectionTarget(_) => {
            AppError::field("corrects", "invalid", err.to_string())
        }
        StageError::CorrectionBreaksHistory(_) => {
            AppError::Conflict { code: "correction_breaks_history", detail: err.to_string(), extra: None }
        }
        StageError::WrongVenue { .. } => AppError::field("venue", "invalid", err.to_string()),
    }
}

/// Records a milestone (checked against the venue's stage machine), refreshes the venue's stored
/// status and writes `listing.stage_reached`, all in the caller's transaction.
#[tracing::instrument(skip_all, fields(firm_id = %firm_id))]
pub async fn record_event(
    conn: &mut Conn,
    firm_id: FirmId,
    event: &ListingEvent,
    actor: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Progress> {
    let firm = firms::get(conn, firm_id).await?.ok_or(AppError::not_found("firm"))?;
    let stored = listing::events(conn, firm_id, Some(event.venue)).await?;
    let today = now.date_naive();
    let progress = listing_stage::check_append(event.venue, &stored, event, today).map_err(stage_error)?;
    // The BSE admits companies quoted on the NEEQ innovation layer (北交所上市规则 2.1.1).
    if event.venue == Venue::Bse
        && event.stage == ListingStage::ApplicationAccepted
        && event.corrects.is_none()
        && firm.neeq_layer != Some(NeeqLayer::Innovation)
    {
        return Err(AppError::Conflict {
            code: "neeq_innovation_layer_required",
            detail: "a BSE listing application needs the firm quoted on the NEEQ innovation layer; record its \
                     neeq_listed and neeq_innovation_layer milestones first"
                .into(),
            extra: Some(serde_json::json!({ "neeq_layer": firm.neeq_layer })),
        });
    }
    listing::insert_event(conn, firm_id, event, actor, now).await?;
    listing::put_status(conn, firm_id, &progress, now).await?;
    // Keep the firm record's NEEQ quotation, which readiness and statistics read, in step.
    let all = listing::events(conn, firm_id, None).await?;
    let every_venue: Vec<Progress> = Venue::ALL.iter().map(|v| listing_stage::progress(*v, &all, today)).collect();
    let neeq = listing_stage::neeq_record(&every_venue, (firm.neeq_listed_on, firm.neeq_layer));
    if neeq != (firm.neeq_listed_on, firm.neeq_layer) {
        firms::set_neeq(conn, firm_id, neeq.0, neeq.1, now).await?;
    }
    events::record(
        conn,
        NewEvent::fact(
            EventKind::ListingStageReached,
            Some(firm_id),
            None,
            format!("listing_event:{}", event.id),
            serde_json::json!({
                "firm_id": firm_id,
                "venue": event.venue,
                "stage": event.stage,
                "layer": event.layer,
                "reached_on": event.reached_on,
                "listing_event_id": event.id,
                "corrects": event.corrects,
                "current_stage": progress.current,
            }),
        ),
        now,
    )
    .await?;
    Ok(progress)
}

/// Progress on every venue, as of `today`.
#[tracing::instrument(skip_all, fields(firm_id = %firm_id))]
pub async fn progress_all(conn: &mut Conn, firm_id: FirmId, today: NaiveDate) -> AppResult<Vec<Progress>> {
    if firms::get(conn, firm_id).await?.is_none() {
        return Err(AppError::not_found("firm"));
    }
    let all = listing::events(conn, firm_id, None).await?;
    Ok(Venue::ALL.iter().map(|v| listing_stage::progress(*v, &all, today)).collect())
}

/// Readiness of a firm as the caller may see it (the enterprise itself, the office).
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, firm_id = %firm_id))]
pub async fn readiness_as(
    conn: &mut Conn,
    rules: &RulesCache,
    caller: &crate::domain::access::Principal,
    firm_id: FirmId,
    venue: Option<Venue>,
    as_of: NaiveDate,
) -> AppResult<ReadinessReport> {
    caller.require_firm(firm_id)?;
    let (book, _) = rules.books(conn).await?;
    let input = readiness_input(conn, firm_id, as_of).await?;
    readiness(&book, &input, firm_id, venue).await
}

/// Listing progress on every venue, as the caller may see it (the enterprise itself, the office).
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, firm_id = %firm_id))]
pub async fn progress_as(
    conn: &mut Conn,
    caller: &crate::domain::access::Principal,
    firm_id: FirmId,
    today: NaiveDate,
) -> AppResult<Vec<Progress>> {
    caller.require_firm(firm_id)?;
    progress_all(conn, firm_id, today).await
}
