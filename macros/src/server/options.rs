//! The options of `#[gen_server(...)]`: `key = value` pairs, Elixir's `use GenServer, opts`.

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Ident, LitStr, Path, Token};

use crate::attr::Attr;
use crate::ctxt::Ctxt;
use crate::shared::{self, Restart, Shutdown, Syntax};
use crate::suggest::{did_you_mean, one_of};
use crate::value::{Value, skip_past_comma};

pub(crate) const KEYS: [&str; 5] = ["restart", "shutdown", "id", "name", "crate"];

/// Where the attribute sits decides which options it takes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// On the server struct: every option.
    Struct,
    /// On `impl GenServer for T`: only `crate`.
    Callbacks,
    /// On `impl T` with `#[call]`, `#[cast]` and `#[info]` handlers: every option.
    Typed,
}

pub(crate) struct Options {
    pub(crate) restart: Attr<Restart>,
    pub(crate) shutdown: Attr<Shutdown>,
    pub(crate) id: Attr<LitStr>,
    pub(crate) name: Attr<LitStr>,
    pub(crate) krate: Attr<Path>,
}

impl Options {
    fn new() -> Options {
        Options {
            restart: Attr::new("restart"),
            shutdown: Attr::new("shutdown"),
            id: Attr::new("id"),
            name: Attr::new("name"),
            krate: Attr::new("crate"),
        }
    }

    /// The root path of the generated code.
    pub(crate) fn krate(&self) -> Path {
        shared::default_crate(self.krate.get())
    }
}

pub(crate) fn parse(args: TokenStream, place: Place, cx: &mut Ctxt) -> Options {
    let mut options = Options::new();
    let parser = |input: ParseStream| -> syn::Result<()> {
        while !input.is_empty() {
            let key = match Ident::parse_any(input) {
                Ok(key) => key,
                Err(_) => {
                    let stray: proc_macro2::TokenTree = input.parse()?;
                    cx.error(
                        stray,
                        "expected an option, such as `restart = \"transient\"`",
                    );
                    skip_past_comma(input)?;
                    continue;
                }
            };
            if input.peek(Token![:]) && !input.peek(Token![::]) {
                cx.error(
                    &key,
                    format!(
                        "write `{key} = ...`: #[gen_server] options take `=`, as in \
                         `#[gen_server(restart = \"transient\")]`"
                    ),
                );
                skip_past_comma(input)?;
                continue;
            }
            if !input.peek(Token![=]) {
                let name = key.unraw().to_string();
                cx.error(&key, format!("`{name}` needs a value: {}", example(&name)));
                skip_past_comma(input)?;
                continue;
            }
            input.parse::<Token![=]>()?;
            let value = Value::parse(input)?;
            option(&mut options, place, key, value, cx);
            skip_past_comma(input)?;
        }
        Ok(())
    };
    if let Err(error) = parser.parse2(args) {
        cx.push(error);
    }
    options
}

fn example(key: &str) -> &'static str {
    match key {
        "restart" => "`restart = \"transient\"`",
        "shutdown" => "`shutdown = 5000`",
        "id" => "`id = \"loader\"`",
        "name" => "`name = \"my_server\"`",
        "crate" => "`crate = \"my_bough\"`",
        _ => "`key = value`",
    }
}

fn option(options: &mut Options, place: Place, key: Ident, value: Value, cx: &mut Ctxt) {
    let name = key.unraw().to_string();
    let syntax = Syntax::Attribute;
    if place == Place::Callbacks && KEYS.contains(&name.as_str()) && name != "crate" {
        cx.error(
            &key,
            format!(
                "`{name}` belongs on the server struct: `#[gen_server({name} = ...)] struct ...`; \
                 on the `impl GenServer` block #[gen_server] takes only `crate`"
            ),
        );
        return;
    }
    match name.as_str() {
        "restart" => {
            if let Some(restart) = shared::restart(cx, &key, &value, syntax) {
                options.restart.set(cx, &key, restart);
            }
        }
        "shutdown" => {
            if let Some(shutdown) = shared::shutdown(cx, &key, &value, syntax) {
                options.shutdown.set(cx, &key, shutdown);
            }
        }
        "id" => {
            if let Some(id) = shared::string(cx, &key, &value, syntax) {
                options.id.set(cx, &key, id);
            }
        }
        "name" => {
            if let Some(name) = shared::string(cx, &key, &value, syntax) {
                options.name.set(cx, &key, name);
            }
        }
        "crate" => {
            if let Some(path) = shared::crate_path(cx, &key, &value, syntax) {
                options.krate.set(cx, &key, path);
            }
        }
        _ => {
            let accepted: &[&str] = match place {
                Place::Struct | Place::Typed => &KEYS,
                Place::Callbacks => &["crate"],
            };
            cx.error(
                &key,
                format!(
                    "unknown option `{name}`{}; #[gen_server] takes {}",
                    did_you_mean(&name, accepted),
                    one_of(accepted)
                ),
            );
        }
    }
}
