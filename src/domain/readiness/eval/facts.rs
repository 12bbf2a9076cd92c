//! Yes/no facts about the firm (its tier, NEEQ layer, financing record, whether it meets an
//! exchange's financial standard) and scorecard thresholds.

use std::borrow::Cow;
use std::cell::Cell;

use rust_decimal::Decimal;

use super::value::{Outcome, verdict_only};
use super::{Ctx, any_of};
use crate::domain::firm::{NeeqLayer, Tier, Venue};
use crate::domain::firm_inputs::InvestorKind;
use crate::domain::investment::InvestmentRound;
use crate::domain::readiness::Verdict;
use crate::domain::readiness::input::EquityFinancing;
use crate::domain::readiness::rules::{Comparison, Fact, RuleScope};

impl Ctx<'_> {
    /// A fact read from the financing record: met when a recorded round shows it, not met when
    /// the record is complete and none does, unknown otherwise.
    fn financing_fact(&self, shows: impl Fn(&EquityFinancing) -> bool) -> Outcome {
        let Some(rounds) = &self.input.equity_financings else {
            return Outcome {
                verdict: Some(Verdict::Unknown),
                missing: vec!["equity_financings".to_owned()],
                ..Outcome::default()
            };
        };
        if rounds.iter().any(shows) {
            verdict_only(Verdict::Met)
        } else if self.input.equity_financings_partial {
            Outcome {
                verdict: Some(Verdict::Unknown),
                missing: vec![format!("equity_financings complete through {}", self.input.evaluation_date)],
                ..Outcome::default()
            }
        } else {
            verdict_only(Verdict::NotMet)
        }
    }

    pub(super) fn fact(&self, f: Fact) -> Outcome {
        let tier = self.input.tier;
        let yes = |b: bool| verdict_only(if b { Verdict::Met } else { Verdict::NotMet });
        match f {
            Fact::NeeqInnovationLayer => yes(self.input.neeq_layer == Some(NeeqLayer::Innovation)),
            Fact::InReservePool => yes(self.input.in_reserve_pool),
            Fact::TierInnovativeSmeOrAbove => yes(tier.is_some()),
            Fact::TierProvincialSrdiOrAbove => yes(tier.is_some_and(|t| t >= Tier::ProvincialSrdi)),
            Fact::TierLittleGiant => yes(tier == Some(Tier::LittleGiant)),
            Fact::FundBacked => self
                .financing_fact(|r| matches!(r.investor_kind, Some(InvestorKind::GovernmentFund | InvestorKind::VcPe))),
            Fact::EquityRoundBOrLater => self.financing_fact(|r| {
                matches!(r.round, Some(InvestmentRound::SeriesB | InvestmentRound::SeriesC | InvestmentRound::PreIpo))
            }),
            Fact::MeetsExchangeFinancialStandard => {
                let v = self.exchange_verdict();
                let mut o = verdict_only(v);
                if v == Verdict::Unknown {
                    o.missing.push("financial data for the BSE/STAR/ChiNext standards".to_owned());
                }
                o
            }
        }
    }

    /// Whether any BSE, STAR or ChiNext financial standard in force is met (entry conditions
    /// aside), as the 专精特新专板 cultivation layer asks.
    fn exchange_verdict(&self) -> Verdict {
        if let Some(v) = self.exchange.get() {
            return v;
        }
        let Some(book) = self.book else {
            return Verdict::Unknown;
        };
        let inner = Ctx { book: None, exchange: Cell::new(Some(Verdict::Unknown)), ..*self };
        let mut verdicts = Vec::new();
        for venue in [Venue::Bse, Venue::Star, Venue::Chinext] {
            if let Some(set) = book.select(venue, RuleScope::Listing, self.input.evaluation_date) {
                let date = self.input.evaluation_date;
                verdicts
                    .extend(set.standards.iter().filter(|s| s.in_force_on(date)).map(|s| inner.standard(s).verdict));
            }
        }
        let v = any_of(verdicts.into_iter());
        self.exchange.set(Some(v));
        v
    }

    pub(super) fn score(&self, card: usize, category: Option<usize>, op: Comparison, t: Decimal) -> Outcome {
        let Some(range) = self.scores.get(card) else {
            return Outcome {
                verdict: Some(Verdict::Unknown),
                missing: vec!["scorecard".to_owned()],
                ..Outcome::default()
            };
        };
        let ((lo, hi), missing) = match category {
            None => (range.total, &range.missing),
            Some(i) => match (range.categories.get(i), range.category_missing.get(i)) {
                (Some(r), Some(m)) => (*r, m),
                _ => ((Decimal::ZERO, Decimal::ZERO), &range.missing),
            },
        };
        let at_lo = op.holds(lo, t);
        let at_hi = op.holds(hi, t);
        let mut o = Outcome { actual: Some(lo), ..Outcome::default() };
        o.verdict = Some(if at_lo && at_hi {
            Verdict::Met
        } else if !at_lo && !at_hi {
            Verdict::NotMet
        } else {
            o.missing = missing.clone();
            o.notes.push(Cow::Owned(format!("score between {lo} and {hi} until the missing inputs are known")));
            Verdict::Unknown
        });
        o
    }
}
