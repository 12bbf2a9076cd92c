//! Black-box API tests: each starts the real application on 127.0.0.1:0 over a fresh database
//! (SQLite by default; `SRDI_TEST_DATABASE=postgres` for PostgreSQL).

mod helpers;

mod financing;
mod firms;
mod hygiene;
mod import;
mod pool;
