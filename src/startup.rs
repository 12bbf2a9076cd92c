//! Builds the application: database, migrations, HTTP server on a bound listener (port 0 in
//! tests), background workers, and graceful shutdown.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, middleware::from_fn, web};
use tokio_util::sync::CancellationToken;

use std::time::Duration;

use crate::api::{self, AppState, observe};
use crate::clock::{SharedClock, SystemClock};
use crate::config::Config;
use crate::db::{Db, Dialect};
use crate::service::api_keys::{self, KeyCache};
use crate::web::admission::{self, Admission};

pub struct Application {
    port: u16,
    server: Server,
    /// The Prometheus scrape listener (`SRDI_METRICS_LISTEN`), apart from the public port.
    metrics: Option<(u16, Server)>,
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
        let metrics = match config.metrics_listen {
            Some(addr) => {
                let listener = TcpListener::bind(addr)
                    .map_err(|e| anyhow::anyhow!("SRDI_METRICS_LISTEN: cannot listen on {addr}: {e}"))?;
                Some((listener.local_addr()?.port(), metrics_server(listener)?))
            }
            None => None,
        };
        let config = Arc::new(config);
        let shutdown = CancellationToken::new();
        let workers = crate::workers::spawn_all(&crate::workers::WorkerContext {
            db: db.clone(),
            clock: clock.clone(),
            config: config.clone(),
            shutdown: shutdown.clone(),
        });
        crate::service::listing::ensure_builtin_rules(&db, clock.now()).await?;
        let keys = Arc::new(KeyCache::new(db.dialect(), Duration::from_secs(config.api_key_cache_ttl_secs)));
        let mut workers = workers;
        if db.dialect() == Dialect::Postgres && config.api_key_cache_ttl_secs > 0 {
            // Serving needs it whether or not this instance runs the background workers.
            workers.push(tokio::spawn(api_keys::listen(
                config.database_url.expose().to_owned(),
                keys.clone(),
                shutdown.clone(),
            )));
            if !keys.wait_until_listening(Duration::from_secs(5)).await {
                tracing::warn!("not yet receiving API key changes; keys are checked in the database until then");
            }
        }
        let state = web::Data::new(AppState {
            db: db.clone(),
            clock,
            config: config.clone(),
            rules: crate::service::listing::RulesCache::default(),
            admission: Admission::from_config(&config),
            keys,
        });
        let max_body = config.max_body_bytes;
        let base_url =
            config.public_base_url.clone().unwrap_or_else(|| format!("http://{}:{port}", config.listen.ip()));
        let pages = web::Data::new(crate::pages::PageState::new(&config, base_url));
        let server =
            HttpServer::new(move || {
                App::new()
                    .wrap(from_fn(api::problem::errors_as_problems))
                    .wrap(from_fn(admission::admit))
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
        Ok(Application { port, server, metrics, db, shutdown, workers })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port Prometheus scrapes `/metrics` on, when the metrics listener is on.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Serves until the server stops (SIGINT/SIGTERM are graceful), then stops the workers.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let metrics = self.metrics.map(|(_, server)| {
            let handle = server.handle();
            (handle, tokio::spawn(server))
        });
        let result = self.server.await;
        if let Some((handle, task)) = metrics {
            handle.stop(true).await;
            let _ = task.await;
        }
        self.shutdown.cancel();
        for w in self.workers {
            let _ = w.await;
        }
        self.db.close().await;
        result.map_err(Into::into)
    }
}

/// Serves `GET /metrics` and nothing else; one worker is plenty for a scraper.
fn metrics_server(listener: TcpListener) -> anyhow::Result<Server> {
    Ok(HttpServer::new(|| {
        App::new()
            .route("/metrics", web::get().to(observe::metrics))
            .default_service(web::to(actix_web::HttpResponse::NotFound))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .shutdown_timeout(5)
    .run())
}
