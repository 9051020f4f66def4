//! Practika: a video practice platform. See README.md for the tour.

pub mod accounts;
pub mod cli;
pub mod comments;
pub mod config;
pub mod db;
pub mod demo;
pub mod digest;
pub mod email;
pub mod error;
pub mod exercises;
pub mod exports;
pub mod health;
pub mod inbox;
pub mod jobs;
pub mod media;
pub mod practice;
pub mod security;
pub mod staff;
pub mod startup;
pub mod telemetry;
pub mod videos;
pub mod web;
