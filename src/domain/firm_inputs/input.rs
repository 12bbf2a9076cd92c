//! What arrives: the input shapes of the dated records, each value as text so that validation
//! names each bad field, and their validation into the records of the parent module.

use super::*;

// ---------------------------------------------------------------------------------------------
// What arrives. Every value comes as text so that validation names each bad field.

/// One share-capital entry.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareCapitalInput {
    #[schema(example = "2024-12-31")]
    pub effective_on: Option<String>,
    #[schema(example = "30000000.00")]
    pub amount: Option<String>,
    pub document_ref: Option<String>,
}

/// One market-value estimate.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarketValueEstimateInput {
    #[schema(example = "2025-03-01")]
    pub estimated_on: Option<String>,
    #[schema(example = "800000000.00")]
    pub amount: Option<String>,
    pub basis: Option<String>,
    pub document_ref: Option<String>,
}

/// One equity round.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EquityRoundInput {
    #[schema(example = "2024-09-30")]
    pub paid_in_on: Option<String>,
    #[schema(example = "20000000.00")]
    pub amount: Option<String>,
    #[schema(example = "300000000.00")]
    pub post_money_valuation: Option<String>,
    #[schema(value_type = Option<InvestmentRound>)]
    pub round: Option<String>,
    pub investor: Option<String>,
    #[schema(value_type = Option<InvestorKind>)]
    pub investor_kind: Option<String>,
    /// Default `false`.
    pub by_qualified_institution: Option<bool>,
    pub document_ref: Option<String>,
}

/// The rounds (replacing those recorded) and the date through which they are complete.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EquityFinancingsInput {
    /// Every round paid in up to this date is in `rounds`. Omitted: the list may be incomplete.
    #[schema(example = "2025-06-30")]
    pub complete_through: Option<String>,
    #[serde(default)]
    pub rounds: Vec<EquityRoundInput>,
}

/// A tier's first recognition year.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierRecognitionInput {
    #[schema(value_type = Option<Tier>)]
    pub tier: Option<String>,
    pub recognized_year: Option<i64>,
    pub document_ref: Option<String>,
}

/// `PATCH /v1/firms/{id}/readiness-inputs`: each section present replaces that section whole;
/// sections left out stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadinessInputsPatch {
    pub share_capital: Option<Vec<ShareCapitalInput>>,
    pub market_value_estimates: Option<Vec<MarketValueEstimateInput>>,
    pub equity_financings: Option<EquityFinancingsInput>,
    /// Office only: recognitions are the office's to record.
    pub tier_recognitions: Option<Vec<TierRecognitionInput>>,
}

/// A validated patch: `None` leaves a section unchanged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValidPatch {
    pub share_capital: Option<Vec<ShareCapitalEntry>>,
    pub market_value_estimates: Option<Vec<MarketValueEstimate>>,
    pub equity_financings: Option<EquityFinancingRecord>,
    pub tier_recognitions: Option<Vec<TierRecognition>>,
}

impl ValidPatch {
    pub fn is_empty(&self) -> bool {
        self.share_capital.is_none()
            && self.market_value_estimates.is_none()
            && self.equity_financings.is_none()
            && self.tier_recognitions.is_none()
    }
}

fn not_future(e: &mut Errors, field: &str, d: Option<NaiveDate>, today: NaiveDate) -> Option<NaiveDate> {
    let d = d?;
    if d > today {
        e.add(field, "out_of_range", "must not be in the future");
        return None;
    }
    Some(d)
}

fn opt_text(e: &mut Errors, field: &str, v: Option<&str>, max: usize) -> Option<String> {
    v.filter(|s| !s.trim().is_empty()).and_then(|s| e.text(field, Some(s), max))
}

/// A required amount in yuan, greater than zero.
fn positive_amount(e: &mut Errors, field: &str, v: Option<&str>) -> Option<Decimal> {
    let Some(raw) = v.filter(|s| !s.trim().is_empty()) else {
        e.add(field, "required", "is required");
        return None;
    };
    let amount = e.money(field, Some(raw), false)?;
    if amount.is_zero() {
        e.add(field, "out_of_range", "must be greater than zero");
        return None;
    }
    Some(amount)
}

fn required_date(e: &mut Errors, field: &str, v: Option<&str>, today: NaiveDate) -> Option<NaiveDate> {
    match v.filter(|s| !s.trim().is_empty()) {
        None => {
            e.add(field, "required", "is required");
            None
        }
        Some(s) => {
            let d = e.date(field, Some(s));
            not_future(e, field, d, today)
        }
    }
}

fn too_many(e: &mut Errors, field: &str, n: usize) -> bool {
    if n > MAX_ENTRIES {
        e.add(field, "too_long", format!("at most {MAX_ENTRIES} entries"));
        return true;
    }
    false
}

/// A dated amount as validated (share capital, market-value estimate).
struct DatedAmount {
    on: NaiveDate,
    amount: Decimal,
    document_ref: Option<String>,
    basis: Option<String>,
}

/// Validates a list of (date, amount, document, basis-if-the-section-has-one): each date required,
/// not in the future and given once, each amount positive. Sorted by date; `None` if too long.
fn dated_amounts<'a>(
    e: &mut Errors,
    section: &str,
    date_field: &str,
    items: impl ExactSizeIterator<Item = (Option<&'a str>, Option<&'a str>, Option<&'a str>, Option<Option<&'a str>>)>,
    today: NaiveDate,
) -> Option<Vec<DatedAmount>> {
    if too_many(e, section, items.len()) {
        return None;
    }
    let mut out: Vec<DatedAmount> = Vec::new();
    for (i, (date, amount, document_ref, basis)) in items.enumerate() {
        let mut ie = Errors::with_prefix(format!("{section}[{i}]"));
        let on = required_date(&mut ie, date_field, date, today);
        let amount = positive_amount(&mut ie, "amount", amount);
        let basis = basis.and_then(|b| opt_text(&mut ie, "basis", b, DOCUMENT_REF_CHARS));
        let document_ref = opt_text(&mut ie, "document_ref", document_ref, DOCUMENT_REF_CHARS);
        if let Some(on) = on
            && out.iter().any(|x| x.on == on)
        {
            ie.add(date_field, "duplicate", format!("{on} appears twice"));
        }
        if let (Some(on), Some(amount), true) = (on, amount, ie.is_empty()) {
            out.push(DatedAmount { on, amount, document_ref, basis });
        }
        e.list.extend(ie.list);
    }
    out.sort_by_key(|x| x.on);
    Some(out)
}

impl ReadinessInputsPatch {
    /// Validates every section present; `source` is who is writing. Paths name the entry, e.g.
    /// `equity_financings.rounds[2].amount`.
    pub fn validate(&self, source: InputSource, today: NaiveDate) -> Result<ValidPatch, Vec<FieldError>> {
        let mut e = Errors::default();
        let mut out = ValidPatch::default();
        if let Some(list) = &self.share_capital {
            let items =
                list.iter().map(|i| (i.effective_on.as_deref(), i.amount.as_deref(), i.document_ref.as_deref(), None));
            out.share_capital = dated_amounts(&mut e, "share_capital", "effective_on", items, today).map(|v| {
                v.into_iter()
                    .map(|d| ShareCapitalEntry {
                        effective_on: d.on,
                        amount: d.amount,
                        document_ref: d.document_ref,
                        source,
                    })
                    .collect()
            });
        }
        if let Some(list) = &self.market_value_estimates {
            let items = list.iter().map(|i| {
                (i.estimated_on.as_deref(), i.amount.as_deref(), i.document_ref.as_deref(), Some(i.basis.as_deref()))
            });
            out.market_value_estimates = dated_amounts(&mut e, "market_value_estimates", "estimated_on", items, today)
                .map(|v| {
                    v.into_iter()
                        .map(|d| MarketValueEstimate {
                            estimated_on: d.on,
                            amount: d.amount,
                            basis: d.basis,
                            document_ref: d.document_ref,
                            source,
                        })
                        .collect()
                });
        }
        if let Some(fin) = &self.equity_financings {
            out.equity_financings = fin.validate(&mut e, source, today);
        }
        if let Some(list) = &self.tier_recognitions
            && !too_many(&mut e, "tier_recognitions", list.len())
        {
            let mut entries: Vec<TierRecognition> = Vec::with_capacity(list.len());
            for (i, item) in list.iter().enumerate() {
                let mut ie = Errors::with_prefix(format!("tier_recognitions[{i}]"));
                let tier = match item.tier.as_deref() {
                    None => {
                        ie.add("tier", "required", "is required");
                        None
                    }
                    t => ie.vocab::<Tier>("tier", t),
                };
                let year = match item.recognized_year {
                    None => {
                        ie.add("recognized_year", "required", "is required");
                        None
                    }
                    y => ie.int_range("recognized_year", y, 2011, i64::from(today.year())).map(|y| y as i32),
                };
                let document_ref = opt_text(&mut ie, "document_ref", item.document_ref.as_deref(), DOCUMENT_REF_CHARS);
                if let Some(t) = tier
                    && entries.iter().any(|x| x.tier == t)
                {
                    ie.add("tier", "duplicate", format!("{t} appears twice"));
                }
                if let (Some(tier), Some(recognized_year), true) = (tier, year, ie.is_empty()) {
                    entries.push(TierRecognition { tier, recognized_year, document_ref });
                }
                e.list.extend(ie.list);
            }
            // A 小巨人 must hold the provincial title first (reference §6.3).
            let year_of = |t: Tier| entries.iter().find(|x| x.tier == t).map(|x| x.recognized_year);
            if let (Some(lg), Some(p)) = (year_of(Tier::LittleGiant), year_of(Tier::ProvincialSrdi))
                && lg < p
                && let Some(i) = entries.iter().position(|x| x.tier == Tier::LittleGiant)
            {
                e.add(
                    &format!("tier_recognitions[{i}].recognized_year"),
                    "out_of_range",
                    format!("a little giant is recognised after its provincial title ({p}), not in {lg}"),
                );
            }
            entries.sort_by_key(|x| x.tier);
            out.tier_recognitions = Some(entries);
        }
        e.finish(out)
    }
}

impl EquityFinancingsInput {
    fn validate(&self, e: &mut Errors, source: InputSource, today: NaiveDate) -> Option<EquityFinancingRecord> {
        let before = e.list.len();
        let complete_through = match self.complete_through.as_deref().filter(|s| !s.trim().is_empty()) {
            None => None,
            Some(s) => {
                let d = e.date("equity_financings.complete_through", Some(s));
                not_future(e, "equity_financings.complete_through", d, today)
            }
        };
        if too_many(e, "equity_financings.rounds", self.rounds.len()) {
            return None;
        }
        let mut rounds = Vec::with_capacity(self.rounds.len());
        for (i, r) in self.rounds.iter().enumerate() {
            let mut ie = Errors::with_prefix(format!("equity_financings.rounds[{i}]"));
            let paid_in_on = required_date(&mut ie, "paid_in_on", r.paid_in_on.as_deref(), today);
            let amount = positive_amount(&mut ie, "amount", r.amount.as_deref());
            let post_money_valuation = match r.post_money_valuation.as_deref().filter(|s| !s.trim().is_empty()) {
                None => None,
                v => positive_amount(&mut ie, "post_money_valuation", v),
            };
            if let (Some(a), Some(v)) = (amount, post_money_valuation)
                && v < a
            {
                ie.add("post_money_valuation", "out_of_range", "must not be below the round's amount");
            }
            let round = r.round.as_deref().filter(|s| !s.trim().is_empty()).and_then(|s| ie.vocab("round", Some(s)));
            let investor_kind = r
                .investor_kind
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .and_then(|s| ie.vocab("investor_kind", Some(s)));
            let investor = opt_text(&mut ie, "investor", r.investor.as_deref(), DOCUMENT_REF_CHARS);
            let document_ref = opt_text(&mut ie, "document_ref", r.document_ref.as_deref(), DOCUMENT_REF_CHARS);
            if let (Some(paid_in_on), Some(amount), true) = (paid_in_on, amount, ie.is_empty()) {
                rounds.push(EquityRound {
                    id: Uuid::now_v7(),
                    paid_in_on,
                    amount,
                    post_money_valuation,
                    round,
                    investor,
                    investor_kind,
                    by_qualified_institution: r.by_qualified_institution.unwrap_or(false),
                    document_ref,
                    source,
                });
            }
            e.list.extend(ie.list);
        }
        rounds.sort_by_key(|r| r.paid_in_on);
        (e.list.len() == before).then_some(EquityFinancingRecord { complete_through, rounds })
    }
}

/// `POST /v1/firms/{id}/attestations`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttestationInput {
    /// A key the rules in force read (see `GET /v1/firms/{id}/attestations`).
    #[schema(example = "star5_major_business_approved")]
    pub key: Option<String>,
    /// Whether the condition holds.
    #[schema(required = true, nullable = false)]
    pub holds: Option<bool>,
    /// Default: today. Not in the future.
    #[schema(example = "2025-06-30")]
    pub stated_on: Option<String>,
    /// Last day the statement speaks for (inclusive).
    pub valid_until: Option<String>,
    /// Supporting document (approval number, certificate, award notice …).
    pub document_ref: Option<String>,
    pub remark: Option<String>,
}

/// An attestation as validated, before it gets an id and a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidAttestation {
    pub key: String,
    pub holds: bool,
    pub stated_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub document_ref: Option<String>,
    pub remark: Option<String>,
}

impl AttestationInput {
    /// `known_key` says whether the rules read the key (the rule books decide; see the service).
    pub fn validate(
        &self,
        today: NaiveDate,
        known_key: impl Fn(&str) -> bool,
    ) -> Result<ValidAttestation, Vec<FieldError>> {
        let mut e = Errors::default();
        let key = match self.key.as_deref().map(str::trim) {
            None | Some("") => {
                e.add("key", "required", "is required");
                None
            }
            Some(k) if !known_key(k) => {
                e.add(
                    "key",
                    "unknown_value",
                    format!("{k:?} is not a condition any rule in force reads; see GET /v1/firms/{{id}}/attestations"),
                );
                None
            }
            Some(k) => Some(k.to_owned()),
        };
        let holds = e.required("holds", self.holds);
        let stated_on = match self.stated_on.as_deref().filter(|s| !s.trim().is_empty()) {
            None => Some(today),
            Some(s) => {
                let d = e.date("stated_on", Some(s));
                not_future(&mut e, "stated_on", d, today)
            }
        };
        let valid_until =
            self.valid_until.as_deref().filter(|s| !s.trim().is_empty()).and_then(|s| e.date("valid_until", Some(s)));
        if let (Some(from), Some(until)) = (stated_on, valid_until)
            && until < from
        {
            e.add("valid_until", "out_of_range", "must not be before stated_on");
        }
        let document_ref = opt_text(&mut e, "document_ref", self.document_ref.as_deref(), DOCUMENT_REF_CHARS);
        let remark = opt_text(&mut e, "remark", self.remark.as_deref(), REMARK_CHARS);
        match (key, holds, stated_on, e.is_empty()) {
            (Some(key), Some(holds), Some(stated_on), true) => {
                Ok(ValidAttestation { key, holds, stated_on, valid_until, document_ref, remark })
            }
            _ => Err(e.list),
        }
    }
}

/// `PUT /v1/firms/{id}/tier-inputs/{year}`: the year's scoring inputs, whole (fields left out
/// become unknown).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierInputsInput {
    #[schema(value_type = Option<IpClass>)]
    pub ip_best_class: Option<String>,
    pub class_i_ip_in_use: Option<i64>,
    pub strategic_emerging_industry: Option<bool>,
    #[schema(example = "6")]
    pub niche_market_years: Option<String>,
    #[schema(value_type = Option<ProductChainRole>)]
    pub product_chain_role: Option<String>,
    /// 1–4.
    #[schema(minimum = 1, maximum = 4)]
    pub digitalisation_level: Option<i64>,
    /// 0–4.
    #[schema(minimum = 0, maximum = 4)]
    pub quality_items: Option<i64>,
    #[schema(value_type = Option<RdInstitutionLevel>)]
    pub rd_institution_level: Option<String>,
    /// Percent, 0–100.
    #[schema(example = "12.5")]
    pub national_niche_market_share: Option<String>,
    #[schema(value_type = Option<ProvincialKeyIndustry>)]
    pub provincial_key_industry: Option<String>,
    /// 0–6.
    pub innovative_operation_items: Option<i64>,
    #[schema(value_type = Option<NicheShareRank>)]
    pub niche_share_rank: Option<String>,
    pub cloud_migrated: Option<bool>,
    pub key_chain_supplier: Option<bool>,
}

impl TierInputsInput {
    pub fn is_empty(&self) -> bool {
        self.ip_best_class.is_none()
            && self.class_i_ip_in_use.is_none()
            && self.strategic_emerging_industry.is_none()
            && self.niche_market_years.is_none()
            && self.product_chain_role.is_none()
            && self.digitalisation_level.is_none()
            && self.quality_items.is_none()
            && self.rd_institution_level.is_none()
            && self.national_niche_market_share.is_none()
            && self.provincial_key_industry.is_none()
            && self.innovative_operation_items.is_none()
            && self.niche_share_rank.is_none()
            && self.cloud_migrated.is_none()
            && self.key_chain_supplier.is_none()
    }

    /// `prefix` names the path (empty for the API body, `tier_inputs.2024` in an import).
    pub fn validate(
        &self,
        fiscal_year: i64,
        prefix: &str,
        source: InputSource,
        today: NaiveDate,
    ) -> Result<TierInputs, Vec<FieldError>> {
        let mut e = Errors::with_prefix(prefix);
        let year = e.int_range("fiscal_year", Some(fiscal_year), 1990, i64::from(today.year()));
        fn text(v: &Option<String>) -> Option<&str> {
            v.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        let pct = |e: &mut Errors, f: &str, v: &Option<String>, max: i64| {
            text(v).and_then(|s| e.decimal(f, Some(s), Decimal::ZERO, Decimal::from(max), 2))
        };
        let out = TierInputs {
            fiscal_year: year.unwrap_or_default() as i32,
            ip_best_class: text(&self.ip_best_class).and_then(|s| e.vocab("ip_best_class", Some(s))),
            class_i_ip_in_use: e.int_range("class_i_ip_in_use", self.class_i_ip_in_use, 0, 10_000),
            strategic_emerging_industry: self.strategic_emerging_industry,
            niche_market_years: pct(&mut e, "niche_market_years", &self.niche_market_years, 200),
            product_chain_role: text(&self.product_chain_role).and_then(|s| e.vocab("product_chain_role", Some(s))),
            digitalisation_level: e.int_range("digitalisation_level", self.digitalisation_level, 1, 4),
            quality_items: e.int_range("quality_items", self.quality_items, 0, 4),
            rd_institution_level: text(&self.rd_institution_level)
                .and_then(|s| e.vocab("rd_institution_level", Some(s))),
            national_niche_market_share: pct(
                &mut e,
                "national_niche_market_share",
                &self.national_niche_market_share,
                100,
            ),
            provincial_key_industry: text(&self.provincial_key_industry)
                .and_then(|s| e.vocab("provincial_key_industry", Some(s))),
            innovative_operation_items: e.int_range(
                "innovative_operation_items",
                self.innovative_operation_items,
                0,
                6,
            ),
            niche_share_rank: text(&self.niche_share_rank).and_then(|s| e.vocab("niche_share_rank", Some(s))),
            cloud_migrated: self.cloud_migrated,
            key_chain_supplier: self.key_chain_supplier,
            source: Some(source),
        };
        if let (Some(n), Some(class)) = (out.class_i_ip_in_use, out.ip_best_class)
            && n > 0
            && matches!(class, IpClass::ClassIi | IpClass::NoIp)
        {
            e.add(
                "class_i_ip_in_use",
                "invalid",
                format!("{n} Class-I IPs contradict ip_best_class {class}; the best class is then at least class_i"),
            );
        }
        e.finish(out)
    }
}
