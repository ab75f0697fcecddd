//! Implementation detail of the `bough` crate: the `#[gen_server]` attribute and the
//! `supervisor!` macro. Depend on `bough`, not on this crate.
