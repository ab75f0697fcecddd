//! Implementation detail of the `bough` crate: the `#[gen_server]` attribute and the
//! `supervisor!` macro. Depend on `bough`, which re-exports them.

mod attr;
mod ctxt;
mod server;
mod suggest;
mod supervisor;
mod value;

use proc_macro::TokenStream;

/// Makes a struct a GenServer that supervisors can start: Elixir's `use GenServer`.
///
/// Put it in two places:
///
/// - **on the struct** (the server's state), with the child spec options Elixir's
///   `use GenServer, ...` takes. It implements [`Child`] (so supervisors and children lists
///   can start the server: `Loader::child_spec(args)`) and [`GenServerModule`]
///   (`Loader::start_link(args)`, `Loader::whereis()`);
/// - **on its `impl GenServer` block** (the callbacks), where it fills in every associated
///   type you leave out, read off the callback that takes it: `Args` from `init`'s
///   argument, `Call` and `Reply` from `handle_call(&mut self, request: Call, from:
///   ReplyTo<Reply>)`, `Cast`, `Info` and `Continue` from the message of `handle_cast`,
///   `handle_info` and `handle_continue`; a kind of message with no callback gets `Never`.
///   Types you write yourself win.
///
/// ```
/// use bough::prelude::*;
///
/// #[gen_server(restart = "transient")]
/// pub struct AuthDataLoader {
///     url: String,
/// }
///
/// pub struct DelayedInit;
///
/// #[gen_server]
/// impl GenServer for AuthDataLoader {
///     async fn init(url: String) -> Init<Self> {
///         Init::Continue(AuthDataLoader { url }, DelayedInit)
///     }
///
///     async fn handle_continue(&mut self, _: DelayedInit) -> NoReply<Self> {
///         // load the rules from self.url, save them
///         NoReply::Stop(ExitReason::Normal)
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let spec = AuthDataLoader::child_spec("http://rules".to_string());
/// assert_eq!(spec.restart_type(), Restart::Transient);
/// # }
/// ```
///
/// # Options (on the struct)
///
/// Each option is one call on the [`ChildSpec`] the generated `child_spec` returns, as you
/// would write it by hand:
///
/// | option                       | Elixir                | equivalent code                          |
/// |------------------------------|-----------------------|------------------------------------------|
/// | `restart = "transient"`      | `restart: :transient` | `.restart(Restart::Transient)`           |
/// | `restart = "temporary"`      | `restart: :temporary` | `.restart(Restart::Temporary)`           |
/// | `shutdown = 10000`           | `shutdown: 10_000`    | `.shutdown(Shutdown::millis(10_000))`    |
/// | `shutdown = "brutal_kill"`   | `shutdown: :brutal_kill` | `.shutdown(Shutdown::BrutalKill)`     |
/// | `shutdown = "infinity"`      | `shutdown: :infinity` | `.shutdown(Shutdown::Infinity)`          |
/// | `id = "loader"`              | `id: :loader`         | `.id("loader")`                          |
/// | `name = "loader"`            | `name:` in `start_link` | `.name("loader")`, and `start_link` registers it |
/// | `crate = "my_bough"`         |                       | generated code names `my_bough` instead of `bough` |
///
/// Without options the defaults are OTP's: permanent, 5000 ms, id = the type's name.
///
/// The generated code is, for `#[gen_server(restart = "transient")] struct Loader`:
///
/// ```
/// # use bough::prelude::*;
/// # struct Loader;
/// # impl GenServer for Loader {
/// #     type Args = String; type Call = Never; type Reply = Never; type Cast = Never;
/// #     type Info = Never; type Continue = Never;
/// #     async fn init(_: String) -> Init<Self> { Init::Ok(Loader) }
/// # }
/// impl Child for Loader {
///     type Arg = String;
///     fn child_spec(arg: String) -> ChildSpec {
///         ChildSpec::worker::<Loader>(arg).restart(Restart::Transient)
///     }
/// }
/// impl GenServerModule for Loader {}
/// ```
///
/// # Mistakes it reports
///
/// Every mistake is a compile error at the token at fault that says what to write: an
/// unknown or repeated option (with "did you mean"), a value of the wrong kind (including
/// Elixir's `:transient`), the attribute on an enum, a union or a struct that borrows, a
/// struct with no `impl GenServer`, arguments that cannot be cloned for a restart, a
/// callbacks block without `init`, a misspelt callback, a callback with the wrong
/// receiver, a borrowed message type, a declared message type no callback takes.
///
/// [`Child`]: https://docs.rs/bough/latest/bough/trait.Child.html
/// [`GenServerModule`]: https://docs.rs/bough/latest/bough/trait.GenServerModule.html
/// [`ChildSpec`]: https://docs.rs/bough/latest/bough/struct.ChildSpec.html
#[proc_macro_attribute]
pub fn gen_server(args: TokenStream, input: TokenStream) -> TokenStream {
    server::expand(args.into(), input.into()).into()
}

/// Declares supervisors as types, registered under their own name: Elixir's
/// `use Supervisor` / `use DynamicSupervisor` started with `name: __MODULE__`.
///
/// ```
/// use bough::prelude::*;
///
/// #[gen_server]
/// pub struct Cache;
///
/// #[gen_server]
/// impl GenServer for Cache {
///     async fn init(capacity: usize) -> Init<Self> {
///         Init::Ok(Cache)
///     }
/// }
///
/// supervisor! {
///     /// Starts a loader on demand.
///     pub dynamic Loaders { strategy: one_for_one, max_children: 10 }
///
///     /// The service's tree.
///     pub MyService {
///         strategy: one_for_one,
///         max_restarts: 3,
///         max_seconds: 5,
///         children: [Loaders, (Cache, 1000) { shutdown: brutal_kill }],
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// MyService::start_link().await?;
/// assert_eq!(MyService::count_children().await?.active, 2);
/// assert_eq!(Loaders::count_children().await?.active, 0);
/// MyService::stop(ExitReason::Shutdown).await?;
/// # Ok(()) }
/// ```
///
/// Each item is `[attributes] [visibility] [dynamic] Name { key: value, ... }`. It becomes a
/// unit struct `Name` implementing [`SupervisorModule`] (or [`DynamicSupervisorModule`])
/// and [`Child`], so `Name::start_link()`, `Name::which_children()`, `Name::start_child(spec)`
/// and the rest reach the running supervisor by its name, and `Name` can be a child of
/// another supervisor. Its name is its path, `concat!(module_path!(), "::Name")`, unless
/// `name:` says otherwise. Define your own functions of the same names on it to wrap them,
/// as Elixir modules often do: yours win, and the generated one stays reachable as
/// `<Name as DynamicSupervisorModule>::start_child(spec)`.
///
/// # Options
///
/// | option                       | static | dynamic | equivalent code                         |
/// |------------------------------|--------|---------|-----------------------------------------|
/// | `strategy: one_for_one`      | required | optional, only `one_for_one` | `SupervisorOptions::new(Strategy::OneForOne)` |
/// | `strategy: one_for_all` / `rest_for_one` | yes | no | `Strategy::OneForAll` / `Strategy::RestForOne` |
/// | `max_restarts: 3`            | yes    | yes     | `.max_restarts(3)`                      |
/// | `max_seconds: 5`             | yes    | yes     | `.max_seconds(5)`                       |
/// | `max_children: 100`          | no     | yes     | `.max_children(100)`                    |
/// | `extra_arguments: expr`      | no     | yes     | `.extra_arguments(expr)`                |
/// | `name: "my_sup"`             | yes    | yes     | registers under `"my_sup"`              |
/// | `children: [...]`            | yes    | no      | the `Vec<ChildSpec>` of `init`          |
/// | `crate: "my_bough"`          | yes    | yes     | generated code names `my_bough`         |
///
/// # Children
///
/// | child                              | Elixir              | equivalent code                   |
/// |------------------------------------|---------------------|-----------------------------------|
/// | `Worker`                           | `Worker`            | `Worker::child_spec(())`          |
/// | `(Cache, 1000)`                    | `{Cache, 1000}`     | `Cache::child_spec(1000)`         |
/// | `Worker { restart: transient }`    | `Supervisor.child_spec(Worker, restart: :transient)` | `.restart(Restart::Transient)` |
/// | `Worker { shutdown: brutal_kill }` | `shutdown: :brutal_kill` | `.shutdown(Shutdown::BrutalKill)` |
/// | `Worker { shutdown: 2000 }`        | `shutdown: 2000`    | `.shutdown(Shutdown::millis(2000))` |
/// | `Worker { id: "second" }`          | `id: :second`       | `.id("second")`                   |
///
/// # Mistakes it reports
///
/// Unknown or repeated options (with "did you mean"), values of the wrong kind (including
/// `:one_for_one` and `"one_for_one"`), an unknown strategy, restart or shutdown, a static
/// supervisor without a strategy, `one_for_all` or `children` on a dynamic supervisor,
/// `max_children` or `extra_arguments` on a static one, duplicate child ids, a child that
/// is not a server or supervisor, a child listed alone that needs an argument. All
/// mistakes of one invocation are reported together.
///
/// [`SupervisorModule`]: https://docs.rs/bough/latest/bough/trait.SupervisorModule.html
/// [`DynamicSupervisorModule`]: https://docs.rs/bough/latest/bough/trait.DynamicSupervisorModule.html
/// [`Child`]: https://docs.rs/bough/latest/bough/trait.Child.html
#[proc_macro]
pub fn supervisor(input: TokenStream) -> TokenStream {
    supervisor::expand(input.into()).into()
}

#[cfg(test)]
mod never_panic {
    use std::str::FromStr;

    use proc_macro2::TokenStream;

    fn tokens(text: &str) -> TokenStream {
        TokenStream::from_str(text).unwrap_or_else(|_| panic!("test input {text:?} lexes"))
    }

    /// Odd inputs of every kind: each must expand (to code or to compile errors), not panic.
    #[test]
    fn odd_inputs_expand_without_panicking() {
        let attribute_args = [
            "",
            "restart",
            "restart =",
            "restart = ",
            "= \"transient\"",
            "restart = \"transient\" restart",
            "restart = \"transient\",,",
            ",",
            "restart: :transient",
            "restart = [1, 2]",
            "shutdown = 99999999999999999999999",
            "shutdown = -1",
            "shutdown = 1.5",
            "crate = \"\"",
            "crate = \"a::\"",
            "crate = 5",
            "id = \"\", name = \"\"",
            "r#restart = \"transient\"",
            "123 = 4",
            "restart = \"transient\" = \"x\"",
        ];
        let items = [
            "struct S;",
            "pub struct S<T>(T);",
            "struct S<'a, T: 'a>(&'a T);",
            "enum E { A }",
            "union U { a: u8 }",
            "fn f() {}",
            "impl GenServer for S {}",
            "impl S {}",
            "impl Other for S { fn init() {} }",
            "impl GenServer for S { async fn init() {} async fn handle_call(self) {} }",
            "impl GenServer for S { fn init(&self, a: u8, b: u8) {} fn handle_cast(&mut self) {} }",
            "impl GenServer for S { type Call = u8; type Bogus = u8; fn handle_info(&mut self, x: &'static str) {} }",
            "impl GenServer for S { fn handle_call(&mut self, r: Self::Call, f: ReplyTo) {} }",
            "impl GenServer for S { fn handle_call(&mut self, r: u8, f: ReplyTo<u8, u16>) {} }",
            "struct",
            "",
        ];
        for args in attribute_args {
            for item in items {
                let _ = crate::server::expand(tokens(args), tokens(item));
            }
        }
        let supervisors = [
            "",
            "pub",
            "pub S",
            "pub S { }",
            "pub S { strategy }",
            "pub S { strategy: }",
            "pub S { strategy: one_for_one, }",
            "pub S { strategy: one_for_one,, }",
            "pub S { children: [,] }",
            "pub S { children: [()] }",
            "pub S { children: [(A)] }",
            "pub S { children: [(A, 1, 2)] }",
            "pub S { children: [A { }] }",
            "pub S { children: [A { restart }] }",
            "pub S { children: [A { restart: }] }",
            "pub S { children: [A {restart: transient} {id: \"x\"}] }",
            "pub S { children: A }",
            "pub S { max_restarts: 99999999999999999999 }",
            "pub S { max_restarts: -3, max_seconds: 1.5 }",
            "pub S { extra_arguments: }",
            "pub dynamic { }",
            "dynamic dynamic S { }",
            "pub S { crate: \"not a path\" } pub T { crate: 3 }",
            "#[attr] pub S { name: \"\" } #[attr]",
            "pub S { strategy: one_for_one } garbage",
        ];
        for input in supervisors {
            let _ = crate::supervisor::expand(tokens(input));
        }
    }
}
