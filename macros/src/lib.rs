//! Implementation detail of the `bough` crate: the `#[gen_server]` attribute and the
//! `supervisor!` macro. Depend on `bough`, which re-exports them.

mod attr;
mod ctxt;
#[cfg(test)]
mod fuzz;
mod server;
mod shared;
mod suggest;
mod supervisor;
mod value;

use proc_macro::TokenStream;

/// Makes a type a GenServer that supervisors can start: Elixir's `use GenServer`.
///
/// It comes in two forms, which give the server the same things: a child spec
/// (`Room::child_spec(arg)`, from [`Child`]), `Room::start_link(arg)` and `Room::whereis()`
/// (from [`GenServerModule`]).
///
/// - **The typed form**: one function per request, each with its own arguments and answer
///   type, and a client function for each, the way Elixir modules wrap `GenServer.call`.
///   The attribute goes on the server's own `impl` block, with the options.
/// - **The callbacks form**: Elixir's callbacks as they are (`handle_call(request, from)`
///   matching on one request type). The attribute goes on the struct, with the options, and
///   on its `impl GenServer` block.
///
/// # The typed form
///
/// ```
/// use bough::prelude::*;
///
/// pub struct Room {
///     members: Vec<String>,
///     waiting: Vec<TypedReplyTo<String>>,
/// }
///
/// #[gen_server(restart = "transient")]
/// impl Room {
///     async fn init(members: Vec<String>) -> Init<Self> {
///         Init::Ok(Room { members, waiting: Vec::new() })
///     }
///
///     /// Joins the room; answers who is in it.
///     #[call]
///     pub async fn join(&mut self, user: String) -> Vec<String> {
///         self.members.push(user);
///         self.members.clone()
///     }
///
///     /// Answers with the next post, whenever it comes.
///     #[call]
///     pub async fn next_post(&mut self, from: TypedReplyTo<String>) {
///         self.waiting.push(from);
///     }
///
///     /// Posts to everyone waiting.
///     #[cast]
///     pub async fn post(&mut self, text: String) {
///         for from in self.waiting.drain(..) {
///             from.reply(text.clone());
///         }
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let room = Room::start_link(Vec::new()).await?;
/// let members: Vec<String> = Room::join(&room, "joe".to_string()).await?;
/// assert_eq!(members, ["joe"]);
/// let (post, ()) = tokio::join!(Room::next_post(&room), async {
///     Room::post(&room, "hello".to_string());
/// });
/// assert_eq!(post?, "hello");
/// # Ok(()) }
/// ```
///
/// | Elixir                                                   | typed form                                             |
/// |----------------------------------------------------------|--------------------------------------------------------|
/// | `use GenServer, restart: :transient`                     | `#[gen_server(restart = "transient")] impl Room { .. }` |
/// | `def init(members), do: {:ok, state}`                    | `async fn init(members: Vec<String>) -> Init<Self>`     |
/// | `def join(room, user), do: GenServer.call(room, {:join, user})` and `def handle_call({:join, user}, _from, state)` | `#[call] async fn join(&mut self, user: String) -> Vec<String>`, called as `Room::join(&room, user).await?` |
/// | `GenServer.call(room, request, 10_000)`                  | `#[call(timeout = 10000)]`; `timeout = "infinity"`     |
/// | `{:noreply, state}`, then `GenServer.reply(from, answer)` | `#[call] async fn f(&mut self, .., from: TypedReplyTo<Answer>)`, then `from.reply(answer)` |
/// | `def post(room, text), do: GenServer.cast(room, {:post, text})` and `handle_cast` | `#[cast] async fn post(&mut self, text: String)`, sent as `Room::post(&room, text)` |
/// | `def handle_info(:tick, state)`                          | `#[info] async fn tick(&mut self)`, sent as `Room::tick(&room)` |
/// | `{:stop, reason, state}`, `{:noreply, state, {:continue, c}}` | a cast, info or answer-later call returns `NoReply<Self>` |
/// | `handle_continue`, `terminate`                           | written as in the callbacks form, in the same block    |
/// | `name: :stats` and `def get, do: GenServer.call(:stats, :get)` | `#[gen_server(name = "stats")]`: `Stats::get().await` |
///
/// - **Client functions.** Each handler's name becomes a function of the server type with
///   the handler's visibility and doc comments. Its first argument says where the request
///   goes: a `&Server<Room>`, a [`Name`] (a [`Registry`] key, say) or a name string,
///   anything that converts into a [`Dest`]. A call answers `Result<Answer, CallError>`
///   and waits 5 s unless `timeout` says otherwise; a cast or an info returns nothing, as
///   `GenServer.cast` returns `:ok`. A server with a `name` gets client functions without
///   that first argument, which go by the name.
/// - **Handlers** take `&mut self` or `&self`, may be `async fn` or plain `fn`, and take
///   owned arguments: they travel to the server in a message. A `#[call]` answers with what
///   it returns; one whose last argument is `from: TypedReplyTo<Answer>` answers through
///   it instead, now or later, and returns nothing or `NoReply<Self>`. A handler turns into
///   a private method under another name (its own name is the client function's), so
///   share code between handlers through ordinary methods.
/// - The block's other functions and constants stay ordinary items of the type.
/// - Generic servers work: `impl<T: Clone + Send + Sync + 'static> Stack<T> { .. }`.
/// - The message types are generated, out of sight; the client functions are the API. A
///   reply of the wrong kind cannot come from the generated `handle_call`; if one ever did,
///   the client function would answer `Err(CallError::NoReply)`, not panic.
/// - The struct takes no attribute in this form: `#[gen_server]` on both the struct and the
///   typed block implements `Child` twice.
///
/// # The callbacks form
///
/// Put the attribute in two places:
///
/// - **on the struct** (the server's state), with the child spec options Elixir's
///   `use GenServer, ...` takes;
/// - **on its `impl GenServer` block** (the callbacks), where it fills in every associated
///   type you leave out, read off the callback that takes it: `Args` from `init`'s
///   argument, `Call` and `Reply` from `handle_call(&mut self, request: Call, from:
///   ReplyTo<Reply>)`, `Cast`, `Info` and `Continue` from the message of `handle_cast`,
///   `handle_info` and `handle_continue`; a kind of message with no callback gets `Never`.
///   Types you write yourself win. All of a server's callbacks go in that one block, and
///   each callback is written once: Elixir's several clauses of `handle_cast` become the
///   arms of one `match`.
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
/// # Options
///
/// On the struct in the callbacks form, on the `impl` block in the typed form. Each option
/// is one call on the [`ChildSpec`] the generated `child_spec` returns, as you would write
/// it by hand:
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
/// Numbers are plain: `shutdown = 5000`, not `5s` or `5000ms`, which are errors that say
/// what to write.
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
/// Elixir's `:transient`, and a number with a unit such as `5s`), the attribute on an enum,
/// a union or a type that borrows, a struct with no `impl GenServer`, a start argument
/// that cannot be cloned for a restart, a block without `init`, callbacks split over two
/// blocks, a callback written twice (Elixir's clauses), a callback that is not `async`, a
/// misspelt callback, a callback with the wrong receiver, a borrowed message type, a
/// declared message type no callback takes; in the typed form, a hand-written
/// `handle_call`, a handler without `self`, a generic one, one that borrows or names
/// `Self` or `impl Trait` in its message, a cast that returns a value, a call that
/// returns `NoReply`, `ReplyTo` where `TypedReplyTo` belongs, two handlers of one name or
/// one named like a generated function. The catalogue, with the message of each, is
/// `tests/ui/fail` in the repository.
///
/// [`Child`]: https://docs.rs/bough/latest/bough/trait.Child.html
/// [`GenServerModule`]: https://docs.rs/bough/latest/bough/trait.GenServerModule.html
/// [`ChildSpec`]: https://docs.rs/bough/latest/bough/struct.ChildSpec.html
/// [`Name`]: https://docs.rs/bough/latest/bough/struct.Name.html
/// [`Registry`]: https://docs.rs/bough/latest/bough/struct.Registry.html
/// [`Dest`]: https://docs.rs/bough/latest/bough/enum.Dest.html
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
/// Each item is `[attributes] [visibility] [dynamic] Name [(arg: Type)] { key: value, ... }`.
/// It becomes a unit struct `Name` implementing [`SupervisorModule`] (or
/// [`DynamicSupervisorModule`]) and [`Child`], so `Name::start_link()`,
/// `Name::which_children()`, `Name::start_child(spec)` and the rest reach the running
/// supervisor by its name, and `Name` can be a child of another supervisor. Its name is its
/// path, `concat!(module_path!(), "::Name")`, unless `name:` says otherwise. Define your own
/// functions of the same names on it to wrap them, as Elixir modules often do: yours win,
/// and the generated one stays reachable as
/// `<Name as DynamicSupervisorModule>::start_child(spec)` (`start_link` comes from
/// [`StartLink`], or [`StartLinkArg`] for a supervisor with an argument).
///
/// # An argument: `start_link(arg)` → `init(arg)`
///
/// A supervisor declared with an argument gets it in its `init`, which builds the children
/// (and a dynamic supervisor's options) from it, at every start: the first one, and each
/// restart by the supervisor above, which keeps a copy of the argument for that (so it
/// must be `Clone`; wrap what cannot be cloned in an `Arc`).
///
/// ```
/// use bough::prelude::*;
///
/// #[derive(Clone)]
/// pub struct Config {
///     pub capacity: usize,
/// }
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
///     /// `init(config)` runs at every start of the supervisor.
///     pub Service(config: Config) {
///         strategy: one_for_one,
///         children: [(Cache, config.capacity)],
///     }
///
///     pub Top {
///         strategy: one_for_one,
///         children: [(Service, Config { capacity: 100 })],
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let service = Service::start_link(Config { capacity: 10 }).await?;
/// assert_eq!(Service::count_children().await?.active, 1);
/// service.stop(ExitReason::Shutdown).await?;
/// # Ok(()) }
/// ```
///
/// | Elixir                                                              | `supervisor!`                         |
/// |---------------------------------------------------------------------|---------------------------------------|
/// | `def start_link(config), do: Supervisor.start_link(__MODULE__, config, name: __MODULE__)` | `Service::start_link(config)` |
/// | `def init(config), do: Supervisor.init([{Cache, config.capacity}], strategy: :one_for_one)` | `pub Service(config: Config) { strategy: one_for_one, children: [(Cache, config.capacity)] }` |
/// | `{Service, config}` in a children list                              | `(Service, config)`                   |
/// | `DynamicSupervisor.init(strategy: :one_for_one, extra_arguments: [prefix])` | `pub dynamic Jobs(prefix: String) { extra_arguments: prefix }` |
///
/// Without an argument, `init` takes `()`: `Service::start_link()`, and the supervisor is
/// listed by its name alone in a children list.
///
/// # Options
///
/// | option                       | static | dynamic | equivalent code                         |
/// |------------------------------|--------|---------|-----------------------------------------|
/// | `strategy: one_for_one`      | required | optional, only `one_for_one` | `SupervisorOptions::new(Strategy::OneForOne)` |
/// | `strategy: one_for_all` / `rest_for_one` | yes | no | `Strategy::OneForAll` / `Strategy::RestForOne` |
/// | `max_restarts: 3`            | yes    | yes     | `.max_restarts(3)`                      |
/// | `max_seconds: 5` (at least 1) | yes   | yes     | `.max_seconds(5)`                       |
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
/// Numbers are plain, in the option's unit: `max_seconds: 5`, `shutdown: 2000` (ms); `5ms`
/// or `2s` are errors that say what to write.
///
/// # Mistakes it reports
///
/// Unknown or repeated options (with "did you mean"), values of the wrong kind (including
/// `:one_for_one` and `"one_for_one"`), numbers with a unit or out of range, an unknown
/// strategy, restart or shutdown, a static supervisor without a strategy, `one_for_all`
/// or `children` on a dynamic supervisor, `max_children` or `extra_arguments` on a static
/// one, duplicate child ids, a child that is not a server or supervisor, a child listed
/// alone that needs an argument, an Elixir tuple `{Worker, 1}` as a child, an argument
/// without a name or type, two arguments, an argument that cannot be cloned for restarts.
/// All mistakes of one invocation are reported together.
///
/// [`SupervisorModule`]: https://docs.rs/bough/latest/bough/trait.SupervisorModule.html
/// [`DynamicSupervisorModule`]: https://docs.rs/bough/latest/bough/trait.DynamicSupervisorModule.html
/// [`StartLink`]: https://docs.rs/bough/latest/bough/trait.StartLink.html
/// [`StartLinkArg`]: https://docs.rs/bough/latest/bough/trait.StartLinkArg.html
/// [`Child`]: https://docs.rs/bough/latest/bough/trait.Child.html
#[proc_macro]
pub fn supervisor(input: TokenStream) -> TokenStream {
    supervisor::expand(input.into()).into()
}
