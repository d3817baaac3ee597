//! The repository as a whole, one claim per test: what a user installs (the
//! chart, the stack's Helm values, the Makefile's kind path, the
//! Dockerfiles), what CI guards (the licences of the test tooling, the
//! one-way module graph of every crate) and the telemetry reference.

mod chart;
mod dockerfiles;
mod docs_lists;
mod licences;
mod makefile;
mod modules;
mod stack;
mod telemetry_doc;
