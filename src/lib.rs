//! Elixir/OTP-style supervision trees for Rust, on tokio.
//!
//! (Crate documentation is written with the README; see `README.md`.)

pub use bough_core::*;

/// What most programs import: `use bough::prelude::*;`.
pub mod prelude {
    pub use bough_core::prelude::*;
}

#[doc(hidden)]
pub mod __private {
    //! What generated code uses. Not public API: it changes without notice.
    pub use bough_core::{
        Child, ChildSpec, DynamicSupervisorModule, DynamicSupervisorOptions, GenServer,
        GenServerModule, Name, Restart, RestartableArgs, Shutdown, StartsWithoutArg, Strategy,
        SupervisorModule, SupervisorOptions, dynamic_supervisor_module_spec,
        supervisor_module_spec,
    };
}
