//! The command line: serve | demo | migrate | seed | import | keys | openapi.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use uuid::Uuid;

use crate::config::Config;
use crate::db::Db;
use crate::domain::access::Role;
use crate::service::api_keys as keys;
use crate::startup::Application;

#[derive(Debug, Parser)]
#[command(name = "srdi-capital", version, about = "Financing and listing service for Shandong's 专精特新 firms")]
pub struct Cli {
    /// Configuration file (TOML); `SRDI_*` environment variables override it.
    #[arg(long, global = true, env = "SRDI_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (migrates first).
    Serve,
    /// Migrate, seed demo data into an empty database, create one key per role, print them, serve.
    Demo {
        #[arg(long, default_value_t = 1200)]
        firms: usize,
    },
    /// Apply database migrations.
    Migrate,
    /// Write a deterministic synthetic population of Shandong firms.
    Seed {
        #[arg(long, default_value_t = 1200)]
        firms: usize,
        /// How many of them to admit to the listing reserve pool (default: 7 in 8).
        #[arg(long)]
        pool: Option<usize>,
        /// Random seed; the same seed gives the same firms.
        #[arg(long, default_value_t = 2022)]
        seed: u64,
        /// Write the firms as an import CSV to this file instead of the database.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Loan products to have at least (the realistic set, topped up with variants).
        #[arg(long, default_value_t = 0)]
        products: usize,
    },
    /// Rebuild every firm × product match and print the counts. An interrupted rebuild continues
    /// where it stopped when run again.
    Rematch {
        /// Firms per step (each step is one transaction).
        #[arg(long, default_value_t = crate::service::matching::REMATCH_STEP)]
        step: u32,
    },
    /// Import firms from a CSV or JSON file (by extension).
    /// Exits non-zero when any row is rejected.
    Import {
        file: PathBuf,
        #[arg(long)]
        dry_run: bool,
        /// Write nothing if any row is rejected.
        #[arg(long)]
        atomic: bool,
    },
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Print the OpenAPI document.
    Openapi,
}

#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Create a key; prints the key alone on stdout.
    Create {
        #[arg(long)]
        role: String,
        /// The bank, fund or firm id the key acts for (not for admin).
        #[arg(long)]
        subject: Option<Uuid>,
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List keys (never the keys themselves).
    List,
    /// Revoke a key by id or shown prefix.
    Revoke { key: String },
}

async fn open_db(config: &Config) -> anyhow::Result<Db> {
    let db = Db::from_config(config).await.context("cannot open the database")?;
    db.migrate().await.context("migrations failed")?;
    Ok(db)
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    crate::telemetry::init(config.log_format);
    match cli.command {
        Command::Serve => {
            let app = Application::build(config.clone()).await?;
            tracing::info!(port = app.port(), "serving");
            app.run_until_stopped().await
        }
        Command::Demo { firms } => demo(config, firms).await,
        Command::Migrate => {
            open_db(&config).await?;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::Seed { firms, csv: Some(path), seed, .. } => {
            let rows = crate::seed::synthetic_firms(firms, seed, chrono::Utc::now().date_naive()).flatten();
            let file = std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
            let written = crate::seed::write_csv(rows, std::io::BufWriter::new(file))?;
            eprintln!("wrote {written} rows for {firms} firms to {}", path.display());
            Ok(())
        }
        Command::Seed { firms, pool, seed, products, csv: None } => {
            let db = open_db(&config).await?;
            let pool = pool.unwrap_or(firms * 7 / 8);
            let bar = crate::telemetry::Progress::start("seed", "firms");
            let report = crate::seed::seed_with(&db, firms, pool, seed, chrono::Utc::now(), &|done, total| {
                bar.update(done, total)
            })
            .await?;
            drop(bar);
            eprintln!("seeded: {report}");
            let demo_firm = crate::seed::financing::demo_firm(&db).await?;
            let report = crate::seed::financing::seed(&db, products, seed, demo_firm, chrono::Utc::now()).await?;
            eprintln!("seeded: {report}");
            Ok(())
        }
        Command::Rematch { step } => {
            let db = open_db(&config).await?;
            let bar = crate::telemetry::Progress::start("rematch", "firms");
            let report = crate::service::matching::rematch_with(&db, &crate::clock::SystemClock, step, &|p| {
                bar.update(p.done, p.total)
            })
            .await
            .map_err(|e| anyhow::anyhow!("{}", problem_text(&e)))?;
            drop(bar);
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Import { file, dry_run, atomic } => {
            let db = open_db(&config).await?;
            let mode = crate::service::import::ImportMode { dry_run, atomic };
            let json = file.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("json"));
            let report = if json {
                let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
                let rows = crate::service::import::read_body("application/json", &bytes)
                    .map_err(|e| anyhow::anyhow!("{}", e.to_problem().detail))?;
                crate::service::import::run(&db, rows, mode, chrono::Utc::now()).await
            } else {
                // Streamed: a first pass finds where each firm's rows end, the second imports in
                // windows that never split a firm; the file is never held in memory.
                let opened = std::fs::File::open(&file).with_context(|| format!("cannot read {}", file.display()))?;
                crate::service::import::check_utf8(opened).map_err(|e| anyhow::anyhow!("{}", e.to_problem().detail))?;
                let spans = crate::service::import::firm_spans(csv_rows(&file)?);
                let total = spans.rows;
                let bar = crate::telemetry::Progress::start("import", "rows");
                let windows = crate::service::import::firm_windows(csv_rows(&file)?, spans);
                crate::service::import::run_windows(&db, windows, mode, chrono::Utc::now(), total, &|done, total| {
                    bar.update(done, total)
                })
                .await
            }
            .map_err(|e| anyhow::anyhow!("import failed: {}", problem_text(&e)))?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            // A script must not take a partial import for a clean one.
            if report.rejected > 0 {
                anyhow::bail!("{} of {} rows rejected (listed under `errors` above)", report.rejected, report.rows);
            }
            Ok(())
        }
        Command::Keys { action } => {
            let db = open_db(&config).await?;
            let mut conn = db.pool().acquire().await?;
            match action {
                KeysAction::Create { role, subject, label } => {
                    let role: Role = role.parse().map_err(|e| anyhow::anyhow!("--role: {e}"))?;
                    let label = if label.is_empty() { format!("{role} key") } else { label };
                    let (_, plaintext) = keys::issue(&mut conn, role, subject, &label, chrono::Utc::now())
                        .await
                        .map_err(|e| anyhow::anyhow!("{}", problem_text(&e)))?;
                    println!("{plaintext}");
                }
                KeysAction::List => {
                    for k in keys::list(&mut conn).await.map_err(|e| anyhow::anyhow!("{e}"))? {
                        println!(
                            "{}\t{}\t{}\t{}\t{}\t{}",
                            k.id,
                            k.prefix,
                            k.role,
                            k.subject_id.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                            if k.revoked_at.is_some() { "revoked" } else { "active" },
                            k.label
                        );
                    }
                }
                KeysAction::Revoke { key } => {
                    let k = keys::revoke_by_id_or_prefix(&mut conn, &key, chrono::Utc::now())
                        .await
                        .map_err(|e| anyhow::anyhow!("{}", problem_text(&e)))?;
                    eprintln!("revoked key {} ({})", k.id, k.prefix);
                }
            }
            Ok(())
        }
        Command::Openapi => {
            print!("{}", crate::api::docs::openapi_pretty());
            Ok(())
        }
    }
}

/// A CSV file's rows, read as they are needed (a UTF-8 byte-order mark is skipped).
fn csv_rows(
    path: &std::path::Path,
) -> anyhow::Result<crate::service::import::CsvRows<std::io::BufReader<std::fs::File>>> {
    use std::io::BufRead as _;
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut reader = std::io::BufReader::new(file);
    if reader.fill_buf()?.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
    }
    crate::service::import::CsvRows::new(reader).map_err(|e| anyhow::anyhow!("{}", e.to_problem().detail))
}

fn problem_text(e: &crate::error::AppError) -> String {
    let p = e.to_problem();
    match p.errors {
        Some(errors) => errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "),
        None => p.detail,
    }
}

async fn demo(mut config: Config, firms: usize) -> anyhow::Result<()> {
    if config.webhooks_secret_key.is_none() {
        // Webhook signing secrets are sealed with this key; the demo keeps one under ./data so
        // endpoints survive restarts. Production sets SRDI_WEBHOOKS_SECRET_KEY instead.
        let path = std::path::Path::new("./data/webhooks-secret.key");
        config.webhooks_secret_key = Some(crate::service::webhooks::load_or_create_key_file(path)?);
        eprintln!(
            "webhook secrets are sealed with the key in {} (set SRDI_WEBHOOKS_SECRET_KEY in production)",
            path.display()
        );
    }
    let db = open_db(&config).await?;
    let now = chrono::Utc::now();
    eprintln!("preparing demo data ({firms} firms on first start)…");
    let (seeded, subjects) = crate::seed::demo_data(&db, firms, now).await?;
    if let Some((firms, financing)) = seeded {
        eprintln!("seeded: {firms}");
        eprintln!("seeded: {financing}");
    }
    let mut conn = db.pool().acquire().await?;
    let mut lines = Vec::new();
    for (role, subject) in [
        (Role::Admin, None),
        (Role::Bank, Some(subjects.bank_id.uuid())),
        (Role::Fund, Some(subjects.fund_id)),
        (Role::Enterprise, Some(subjects.firm_id.uuid())),
    ] {
        let (_, key) = keys::issue(&mut conn, role, subject, &format!("demo {role}"), now)
            .await
            .map_err(|e| anyhow::anyhow!("{}", problem_text(&e)))?;
        lines.push(format!("  {:<10} {key}", role.as_str()));
    }
    let firm_contact = crate::service::firms::get(&mut conn, subjects.firm_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .contact_email;
    let fund_contact = Some(
        crate::service::funds::get(&mut conn, subjects.fund_id)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .contact_email,
    );
    drop(conn);
    db.close().await;
    let app = Application::build(config.clone()).await?;
    let base =
        config.public_base_url.clone().unwrap_or_else(|| format!("http://{}:{}", config.listen.ip(), app.port()));
    println!("srdi-capital demo is serving at {base}");
    println!("Web pages: {base}/  (sign in at {base}/signin with a key below, or by e-mail link)");
    println!("API docs: {base}/docs/");
    println!("API keys (send as `Authorization: Bearer <key>`):");
    for l in &lines {
        println!("{l}");
    }
    println!("enterprise key acts for firm {}", subjects.firm_id);
    let mail_to = match &config.smtp_url {
        Some(_) => "your SMTP server".to_owned(),
        None => format!("{}/*.eml", config.mail_dir.display()),
    };
    for (who, address) in [("the demo firm's contact", firm_contact), ("the demo fund's contact", fund_contact)] {
        if let Some(a) = address {
            println!("e-mail sign-in for {who}: {a} (the link arrives in {mail_to})");
        }
    }
    println!("try: curl -H 'Authorization: Bearer <admin key>' '{base}/v1/reserve-pool?limit=5'");
    println!("     curl -H 'Authorization: Bearer <bank key>' '{base}/v1/matches?limit=5'");
    println!(
        "     curl -H 'Authorization: Bearer <enterprise key>' '{base}/v1/firms/{}/financing-status'",
        subjects.firm_id
    );
    app.run_until_stopped().await
}
