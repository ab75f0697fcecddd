//! A real auth-rules service, built like the seed: the rules come from an auth service over
//! HTTP, a short-lived loader fetches them at start and whenever the auth service says they
//! changed, and request handlers read them from a lock-free store. Copy it as the template
//! for a service of your own.
//!
//! The library holds the service; `src/main.rs` runs it against a stand-in auth service
//! (`cargo run -p bough-auth-service`), and `tests/service.rs` drives every failure mode
//! over HTTP.

pub mod events;
pub mod health;
pub mod http;
pub mod loader;
pub mod rules;
pub mod service;
pub mod stand_in;
pub mod store;
