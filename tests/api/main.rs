//! The integration suite: one binary (link time matters on two cores).
//! Every test runs against SQLite; with `PRACTIKA_TEST_DATABASE_URL` set it
//! runs against PostgreSQL instead, each test in a database of its own.

mod accounts;
mod atomic_jobs;
mod browser;
mod database;
mod demo;
mod digest;
mod double_submit;
mod exercises;
mod export;
mod exports;
mod helpers;
mod inbox;
mod invitations;
mod jobs;
mod lifecycle;
mod mail;
mod media_fixtures;
mod outage;
mod plans;
mod practice;
mod s3;
mod scale;
mod search;
mod sessions;
mod slow_upload;
mod spans;
mod staff;
mod staff_tools;
mod studio;
mod tus;
mod uploads;
mod videos;
mod voice;
mod web;
