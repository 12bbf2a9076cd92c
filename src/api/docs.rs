//! The OpenAPI document, generated from the handlers and types, and the offline Swagger UI.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{applications, banks, consents, financing, firms, health, import, matches, pool, problem, products};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "srdi-capital",
        description = "Financing and listing service for Shandong's 专精特新 (SRDI) firms: the listing reserve pool, \
            readiness against every venue's standards, bank loan matching, webhooks to partner banks and fund roadshows. \
            Authenticate with `Authorization: Bearer <api key>`. Errors are `application/problem+json`.",
        license(name = "Apache-2.0")
    ),
    paths(
        health::healthz, health::readyz, health::metrics,
        firms::list_firms, firms::create_firm, firms::get_firm, firms::patch_firm, firms::list_financials, firms::put_financials,
        import::import_firms,
        pool::list_pool, pool::admit, pool::get_entry, pool::remove,
        banks::create_bank, banks::list_banks, banks::get_bank, banks::issue_key, banks::list_lpr, banks::put_lpr,
        products::create_product, products::list_products, products::get_product, products::patch_product, products::delete_product,
        consents::grant, consents::list, consents::revoke,
        matches::list_matches, matches::get_match, matches::get_firm_matches, financing::rematch,
        applications::apply, applications::list, applications::get, applications::transition,
        financing::financing_status, financing::put_lead_bank, financing::put_tutoring,
    ),
    components(schemas(problem::Problem, crate::domain::validate::FieldError)),
    modifiers(&SecurityAddon),
    tags(
        (name = "firms", description = "Firm registry (企业库) and yearly financials"),
        (name = "reserve-pool", description = "Listing reserve pool (上市后备资源库)"),
        (name = "banks", description = "Partner banks (合作银行) and their API keys"),
        (name = "products", description = "Loan products (专精特新贷, 小巨人贷, …) and the LPR table"),
        (name = "consents", description = "Data-sharing consent: a bank sees a firm only while a consent covers it"),
        (name = "matches", description = "Firm × product matches, kept current; bank pull with incremental sync"),
        (name = "applications", description = "Financing applications (融资申请) and the enterprise's financing status"),
        (name = "operations", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("API key").build()),
        );
    }
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as committed in `openapi/openapi.json` (pretty, trailing newline).
pub fn openapi_pretty() -> String {
    let mut s = openapi().to_pretty_json().unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

pub async fn openapi_json() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().content_type("application/json").body(openapi_pretty())
}

pub fn swagger_ui() -> utoipa_swagger_ui::SwaggerUi {
    utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::from("/openapi.json"))
}
