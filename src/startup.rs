//! Builds the application: database, migrations, HTTP server on a bound listener (port 0 in
//! tests), background workers, and graceful shutdown.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, middleware::from_fn, web};
use tokio_util::sync::CancellationToken;

use crate::api::{self, AppState, observe};
use crate::clock::{SharedClock, SystemClock};
use crate::config::Config;
use crate::db::Db;

pub struct Application {
    port: u16,
    server: Server,
    db: Db,
    shutdown: CancellationToken,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(config: Config, clock: SharedClock) -> anyhow::Result<Application> {
        let db = Db::from_config(&config).await?;
        db.migrate().await?;
        let listener = TcpListener::bind(config.listen)?;
        Self::with_listener(config, clock, db, listener).await
    }

    pub async fn with_listener(
        config: Config,
        clock: SharedClock,
        db: Db,
        listener: TcpListener,
    ) -> anyhow::Result<Application> {
        let port = listener.local_addr()?.port();
        let _ = observe::metrics_handle();
        let config = Arc::new(config);
        let shutdown = CancellationToken::new();
        let workers = crate::workers::spawn_all(&crate::workers::WorkerContext {
            db: db.clone(),
            clock: clock.clone(),
            config: config.clone(),
            shutdown: shutdown.clone(),
        });
        crate::service::listing::ensure_builtin_rules(&db, clock.now()).await?;
        let state = web::Data::new(AppState {
            db: db.clone(),
            clock,
            config: config.clone(),
            rules: crate::service::listing::RulesCache::default(),
        });
        let max_body = config.max_body_bytes;
        let base_url =
            config.public_base_url.clone().unwrap_or_else(|| format!("http://{}:{port}", config.listen.ip()));
        let pages = web::Data::new(crate::pages::PageState::new(&config, base_url));
        let server =
            HttpServer::new(move || {
                App::new()
                    .wrap(from_fn(api::problem::errors_as_problems))
                    .wrap(from_fn(observe::observe))
                    .app_data(state.clone())
                    .app_data(pages.clone())
                    .app_data(web::PayloadConfig::default().limit(max_body))
                    .configure(api::routes)
                    .configure(crate::pages::routes)
                    .service(api::docs::swagger_ui())
                    .service(web::resource("/docs").route(web::get().to(|| async {
                        actix_web::HttpResponse::Found().insert_header(("Location", "/docs/")).finish()
                    })))
                    .default_service(web::to(api::problem::not_found))
            })
            .listen(listener)?
            .shutdown_timeout(20)
            .run();
        Ok(Application { port, server, db, shutdown, workers })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until the server stops (SIGINT/SIGTERM are graceful), then stops the workers.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let result = self.server.await;
        self.shutdown.cancel();
        for w in self.workers {
            let _ = w.await;
        }
        self.db.close().await;
        result.map_err(Into::into)
    }
}
