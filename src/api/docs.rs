//! The OpenAPI document, generated from the handlers and types, and the offline Swagger UI.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{firms, funds, health, import, investments, pool, problem, roadshows};

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
        funds::create_fund, funds::list_funds, funds::get_fund, funds::issue_key,
        roadshows::create_roadshow, roadshows::list_roadshows, roadshows::get_roadshow, roadshows::patch_roadshow,
        roadshows::set_status, roadshows::calendar, roadshows::recommended_firms, roadshows::outcome,
        roadshows::list_presenters, roadshows::put_presenter, roadshows::delete_presenter,
        roadshows::register, roadshows::list_registrations, roadshows::get_registration, roadshows::cancel_registration,
        roadshows::decide, roadshows::check_in, roadshows::firm_slots, roadshows::get_visibility, roadshows::put_visibility,
        investments::create_investment, investments::list_investments, investments::get_investment, investments::patch_investment,
    ),
    components(schemas(problem::Problem, crate::domain::validate::FieldError)),
    modifiers(&SecurityAddon),
    tags(
        (name = "firms", description = "Firm registry (企业库) and yearly financials"),
        (name = "reserve-pool", description = "Listing reserve pool (上市后备资源库)"),
        (name = "funds", description = "Fund organisations (基金) and their managers' keys"),
        (name = "roadshows", description = "Fund roadshows (齐鲁企舞路演): centres, presenters, calendar, outcome"),
        (name = "registrations", description = "Fund managers' roadshow registrations, waitlist and check-in"),
        (name = "investments", description = "Investment intentions and closed investments (基金投资项目)"),
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
