//! Elixir/OTP-style supervision trees for Rust, on tokio.
//!
//! (Crate documentation is written with the README; see `README.md`.)

pub use bough_core::*;
pub use bough_macros::{gen_server, supervisor};

/// What most programs import: `use bough::prelude::*;`.
pub mod prelude {
    pub use bough_core::prelude::*;
    pub use bough_macros::{gen_server, supervisor};
}

#[doc(hidden)]
pub mod __private {
    //! What generated code uses. Not public API: it changes without notice.
    pub use bough_core::{
        Child, ChildSpec, DynamicSupervisorModule, DynamicSupervisorOptions, GenServer,
        GenServerModule, Init, Name, Never, NoArgument, Restart, RestartableArgs, Shutdown,
        Strategy, SupervisorModule, SupervisorOptions, dynamic_supervisor_module_spec,
        supervisor_module_spec,
    };
}
