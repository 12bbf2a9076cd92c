#![forbid(unsafe_code)]
//! srdi-capital: the financing and listing service for Shandong's 专精特新 firms.

pub mod api;
pub mod cli;
pub mod clock;
pub mod config;
pub mod csv_out;
pub mod db;
pub mod domain;
pub mod error;
pub mod mail;
pub mod pages;
pub mod runtime;
pub mod seed;
pub mod service;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
pub mod webhooks;
pub mod workers;
