//! The query string of every handler, API and pages alike: read into the handler's parameter
//! type, with a parameter the type does not declare a 400 naming it (a misspelt filter must not
//! silently widen a result), and a value carrying U+0000 a 422 naming its parameter.

use std::ops::Deref;

use actix_web::{FromRequest, HttpRequest, dev::Payload};
use serde::de::DeserializeOwned;

use crate::domain::validate::nul_errors;
use crate::error::AppError;

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
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let nul =
        nul_errors(pairs.iter().map(|(k, v)| (k.as_str(), if k.contains('\0') { k.as_str() } else { v.as_str() })));
    if !nul.is_empty() {
        return Err(AppError::Validation(nul));
    }
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
}
