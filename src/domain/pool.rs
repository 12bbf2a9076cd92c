//! The listing reserve pool (上市后备资源库): which firms the office is preparing for which venue.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::ids::FirmId;

use crate::domain::firm::{City, Tier, Venue};
use crate::domain::validate::{Errors, FieldError};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdmitRequest {
    #[schema(value_type = Uuid)]
    pub firm_id: FirmId,
    #[schema(value_type = Venue)]
    pub target_venue: String,
    /// Sponsor broker (保荐机构 / 主办券商), if chosen.
    pub sponsor_broker: Option<String>,
    /// Key reserve firm (重点后备企业).
    #[serde(default)]
    pub key_firm: bool,
    /// Date of admission; defaults to today.
    pub admitted_on: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Admission {
    pub firm_id: FirmId,
    pub target_venue: Venue,
    pub sponsor_broker: Option<String>,
    pub key_firm: bool,
    pub admitted_on: NaiveDate,
    pub note: Option<String>,
}

impl AdmitRequest {
    pub fn validate(&self, today: NaiveDate) -> Result<Admission, Vec<FieldError>> {
        let mut e = Errors::default();
        let target_venue = e.vocab::<Venue>("target_venue", Some(&self.target_venue));
        let sponsor_broker = self.sponsor_broker.as_deref().and_then(|s| e.text("sponsor_broker", Some(s), 200));
        let note = self.note.as_deref().and_then(|s| e.text("note", Some(s), 2000));
        let admitted_on = match self.admitted_on.as_deref() {
            Some(d) => e.date("admitted_on", Some(d)),
            None => Some(today),
        };
        if let Some(d) = admitted_on
            && d > today
        {
            e.add("admitted_on", "out_of_range", "must not be in the future");
        }
        match (target_venue, admitted_on, e.is_empty()) {
            (Some(target_venue), Some(admitted_on), true) => Ok(Admission {
                firm_id: self.firm_id,
                target_venue,
                sponsor_broker,
                key_firm: self.key_firm,
                admitted_on,
                note,
            }),
            _ => Err(e.list),
        }
    }
}

/// A pool entry with the firm facts operators filter and sort by.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PoolEntry {
    #[schema(value_type = Uuid)]
    pub firm_id: FirmId,
    pub credit_code: String,
    pub name: String,
    pub city: City,
    pub tier: Option<Tier>,
    pub industry_code: String,
    pub target_venue: Venue,
    pub sponsor_broker: Option<String>,
    pub key_firm: bool,
    pub admitted_on: NaiveDate,
    pub note: Option<String>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PoolHistoryEntry {
    pub action: String,
    pub target_venue: Option<Venue>,
    pub key_firm: Option<bool>,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}
