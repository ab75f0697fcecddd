//! Implementation detail of the `bough` crate: the `#[gen_server]` attribute and the
//! `supervisor!` macro. Depend on `bough`, which re-exports them with their documentation.

mod attr;
mod ctxt;
mod server;
mod suggest;
mod supervisor;
mod value;

use proc_macro::TokenStream;

/// Marks a GenServer: on the struct, it generates the child spec and `start_link`
/// (Elixir's `use GenServer, restart: :transient`); on its `impl GenServer` block, it fills in
/// the message types from the callbacks.
///
/// See the `bough` crate's documentation for the options and examples.
#[proc_macro_attribute]
pub fn gen_server(args: TokenStream, input: TokenStream) -> TokenStream {
    server::expand(args.into(), input.into()).into()
}

/// Declares named supervisors as types: `pub MyService { strategy: one_for_one, children:
/// [...] }` and `pub dynamic Loaders { ... }`.
///
/// See the `bough` crate's documentation for the options and examples.
#[proc_macro]
pub fn supervisor(input: TokenStream) -> TokenStream {
    supervisor::expand(input.into()).into()
}
