//! Recommending presenters for a roadshow: reserve-pool firms ranked by how well their industry
//! fits the roadshow's focus.

use super::*;

/// What the ranking of presenters reads about one reserve-pool firm.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub firm_id: FirmId,
    pub name: String,
    pub city: City,
    pub tier: Option<Tier>,
    pub industry_code: String,
    pub target_venue: Venue,
    pub key_firm: bool,
}

/// A firm recommended as a presenter, with its score and the reasons for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Recommendation {
    #[schema(value_type = Uuid)]
    pub firm_id: FirmId,
    pub name: String,
    pub city: City,
    pub tier: Option<Tier>,
    pub industry_code: String,
    pub target_venue: Venue,
    pub key_firm: bool,
    /// 0–100; higher is a better fit.
    pub score: u32,
    /// Machine-readable reasons, e.g. `industry:C35`, `tier:little_giant`, `key_firm`, `venue:bse`.
    pub reasons: Vec<String>,
}

/// Points for the industry match: the longer the matching focus prefix, the closer the fit.
/// A roadshow without a focus gives every firm the same base.
fn industry_points(focus: &[String], industry_code: &str) -> Option<(u32, Option<String>)> {
    if focus.is_empty() {
        return Some((20, None));
    }
    let best = focus.iter().filter(|p| industry_code.starts_with(p.as_str())).max_by_key(|p| p.len())?;
    let points = match best.len() {
        1 => 25,
        2 | 3 => 35,
        _ => 40,
    };
    Some((points, Some(best.clone())))
}

/// Ranks reserve-pool firms as presenters for a roadshow. Only firms that opted in to investor
/// visibility are passed in (the caller filters); firms outside a non-empty industry focus are
/// dropped. Score (0–100): industry match (focus section 25, division/group 35, class 40; no focus
/// 20) + tier (little giant 30, provincial SRDI 20, innovative SME 10) + key reserve firm 15 +
/// target venue (BSE, STAR, ChiNext 15; NEEQ 8; regional board 4: firms closer to an exchange
/// listing are what equity investors look for). Ties: higher tier, then name, then id.
pub fn rank(focus: &[String], candidates: Vec<Candidate>) -> Vec<Recommendation> {
    let mut out: Vec<Recommendation> = candidates
        .into_iter()
        .filter_map(|c| {
            let (industry, matched) = industry_points(focus, &c.industry_code)?;
            let mut reasons = Vec::new();
            if let Some(p) = matched {
                reasons.push(format!("industry:{p}"));
            }
            let tier = match c.tier {
                Some(Tier::LittleGiant) => 30,
                Some(Tier::ProvincialSrdi) => 20,
                Some(Tier::InnovativeSme) => 10,
                None => 0,
            };
            if let Some(t) = c.tier {
                reasons.push(format!("tier:{t}"));
            }
            let key = if c.key_firm { 15 } else { 0 };
            if c.key_firm {
                reasons.push("key_firm".to_owned());
            }
            let venue = match c.target_venue {
                Venue::Bse | Venue::Star | Venue::Chinext => 15,
                Venue::Neeq => 8,
                Venue::RegionalSrdiBoard => 4,
            };
            reasons.push(format!("venue:{}", c.target_venue));
            Some(Recommendation {
                firm_id: c.firm_id,
                name: c.name,
                city: c.city,
                tier: c.tier,
                industry_code: c.industry_code,
                target_venue: c.target_venue,
                key_firm: c.key_firm,
                score: industry + tier + key + venue,
                reasons,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.score.cmp(&a.score).then(b.tier.cmp(&a.tier)).then(a.name.cmp(&b.name)).then(a.firm_id.cmp(&b.firm_id))
    });
    out
}
