//! Logging to stderr (stdout stays clean for commands whose output scripts capture), as text or
//! JSON lines. `RUST_LOG` overrides the level. Long command-line jobs draw a progress bar on stderr
//! when it is a terminal; log lines are printed above the bar instead of through it.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,actix_server=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(StderrBesideBar);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// The bar on screen, if any: log lines suspend it while they are written.
static SHOWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

fn shown() -> Option<ProgressBar> {
    SHOWN.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Writes each log line to stderr in one piece, above the progress bar when one is shown.
#[derive(Clone, Copy)]
struct StderrBesideBar;

struct LineBuffer(Vec<u8>);

impl<'a> MakeWriter<'a> for StderrBesideBar {
    type Writer = LineBuffer;
    fn make_writer(&'a self) -> LineBuffer {
        LineBuffer(Vec::new())
    }
}

impl Write for LineBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineBuffer {
    fn drop(&mut self) {
        let line = std::mem::take(&mut self.0);
        let write = || {
            let _ = std::io::stderr().write_all(&line);
        };
        match shown() {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}

/// A progress bar on stderr for a command-line job of `unit`s (firms, rows); a no-op when stderr
/// is not a terminal, where the job's log lines report its progress instead.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    pub fn start(what: &str, unit: &str) -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let template = format!("{{msg}} {{bar:40}} {{human_pos}}/{{human_len}} {unit} ({{per_sec}}, {{eta}} left)");
        let bar = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style);
        }
        bar.set_message(what.to_owned());
        *SHOWN.lock().unwrap_or_else(|p| p.into_inner()) = Some(bar.clone());
        Progress(Some(bar))
    }

    pub fn update(&self, done: u64, total: u64) {
        if let Some(bar) = &self.0 {
            bar.set_length(total.max(done));
            bar.set_position(done);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
            *SHOWN.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
    }
}
