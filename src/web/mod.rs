//! What the two web faces, the API and the pages, share: the application state every handler
//! reads, the strict query-string extractor, admission control in front of both, and CSV answers.

pub mod admission;
pub mod query;

use std::sync::Arc;

use actix_web::HttpResponse;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::Db;

pub struct AppState {
    pub db: Db,
    pub clock: SharedClock,
    pub config: Arc<Config>,
    pub rules: crate::service::listing::RulesCache,
    pub admission: admission::Admission,
    pub keys: Arc<crate::service::api_keys::KeyCache>,
}

/// A CSV download.
pub fn csv_response(filename: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{filename}\"")))
        .body(body)
}
