//! The query string of every handler, API and pages alike: read into the handler's parameter
//! type, with a parameter the type does not declare a 400 naming it (a misspelt filter must not
//! silently widen a result), and a value carrying U+0000 a 422 naming its parameter.

use std::ops::Deref;

use actix_web::{FromRequest, HttpRequest, dev::Payload};
use serde::de::DeserializeOwned;

use crate::domain::validate::nul_errors;
use crate::error::{AppError, AppResult};
use crate::service::paging::{PageQuery, Paging};

/// A handler's query parameters, read strictly.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// Reads a query string into `T`; see the module documentation for the rules.
pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, AppError> {
    refuse_nul(&pairs(query))?;
    deserialize(query)
}

/// Reads a query string already checked for U+0000 into `T`.
fn deserialize<T: DeserializeOwned>(query: &str) -> Result<T, AppError> {
    let mut unknown = Vec::new();
    let deserializer = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
    // Each unknown key is reported by the callback while the declared ones are read.
    let parsed = serde_ignored::deserialize(deserializer, |path| unknown.push(path.to_string()));
    if let Some(name) = unknown.first() {
        return Err(AppError::bad_request(
            "unknown_query_parameter",
            format!("the query parameter `{name}` is not one this operation takes"),
        ));
    }
    parsed.map_err(|e| AppError::bad_request("invalid_query", format!("the query string is invalid: {e}")))
}

fn pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

/// Every parameter carrying U+0000 is named at once.
fn refuse_nul(pairs: &[(String, String)]) -> Result<(), AppError> {
    let nul =
        nul_errors(pairs.iter().map(|(k, v)| (k.as_str(), if k.contains('\0') { k.as_str() } else { v.as_str() })));
    if nul.is_empty() { Ok(()) } else { Err(AppError::Validation(nul)) }
}

/// A listing's query parameters: its filters `F` and the page it asks for (`limit`, `cursor`),
/// read by the rules of [`Query`]. They are read apart because serde cannot flatten one struct
/// into another from a query string (every value is a string there, so the numbers would fail).
#[derive(Debug)]
pub struct Paged<F> {
    pub filter: F,
    pub page: PageQuery,
}

impl<F> Paged<F> {
    /// See [`PageQuery::paging`].
    pub fn paging(&self) -> AppResult<Paging> {
        self.page.paging()
    }
}

impl<F> Deref for Paged<F> {
    type Target = F;

    fn deref(&self) -> &F {
        &self.filter
    }
}

/// Reads a listing's query string: the page's parameters into [`PageQuery`], the others into `F`.
/// The string is split as it came, parameter by parameter, so each half is read once.
pub fn parse_paged<F: DeserializeOwned>(query: &str) -> Result<Paged<F>, AppError> {
    refuse_nul(&pairs(query))?;
    let (page, filter): (Vec<&str>, Vec<&str>) = query.split('&').filter(|p| !p.is_empty()).partition(|p| {
        url::form_urlencoded::parse(p.as_bytes())
            .next()
            .is_some_and(|(name, _)| PageQuery::PARAMETERS.contains(&name.as_ref()))
    });
    Ok(Paged { filter: deserialize(&filter.join("&"))?, page: deserialize(&page.join("&"))? })
}

impl<F: DeserializeOwned> FromRequest for Paged<F> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_paged(req.query_string()))
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse(req.query_string()).map(Query))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Filter {
        city: Option<String>,
        limit: Option<u32>,
    }

    #[test]
    fn declared_parameters_are_read_and_others_named() {
        let f: Filter = parse("city=jinan&limit=5").expect("valid");
        assert_eq!((f.city.as_deref(), f.limit), (Some("jinan"), Some(5)));
        let e = parse::<Filter>("city=jinan&citty=qingdao").expect_err("unknown");
        assert!(
            matches!(&e, AppError::BadRequest { code: "unknown_query_parameter", detail } if detail.contains("`citty`"))
        );
        let e = parse::<Filter>("limit=x").expect_err("bad number");
        assert!(matches!(e, AppError::BadRequest { code: "invalid_query", .. }));
        let e = parse::<Filter>("city=ji%00nan").expect_err("nul");
        assert!(matches!(&e, AppError::Validation(list) if list.len() == 1 && list[0].field == "city"));
    }

    #[derive(Debug, Deserialize)]
    struct CityFilter {
        city: Option<String>,
        min_score: Option<u8>,
    }

    #[test]
    fn a_listing_reads_its_filters_and_its_page_apart() {
        let q: Paged<CityFilter> = parse_paged("city=ji+nan&limit=5&min_score=7&cursor=").expect("valid");
        assert_eq!((q.city.as_deref(), q.min_score), (Some("ji nan"), Some(7)));
        assert_eq!((q.page.limit, q.page.cursor.as_deref()), (Some(5), Some("")));
        let e = parse_paged::<CityFilter>("limit=5&citty=qingdao").expect_err("unknown");
        assert!(
            matches!(&e, AppError::BadRequest { code: "unknown_query_parameter", detail } if detail.contains("`citty`"))
        );
        let e = parse_paged::<CityFilter>("limit=x").expect_err("bad number");
        assert!(matches!(e, AppError::BadRequest { code: "invalid_query", .. }));
        let e = parse_paged::<CityFilter>("city=%00&cursor=%00").expect_err("nul");
        assert!(matches!(&e, AppError::Validation(list) if list.len() == 2), "{e:?}");
        let e = parse_paged::<CityFilter>("limit=0").expect("read").paging().expect_err("out of range");
        assert!(matches!(&e, AppError::Validation(list) if list[0].field == "limit"), "{e:?}");
    }
}
