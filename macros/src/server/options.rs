//! The options of `#[gen_server(...)]`: `key = value` pairs, Elixir's `use GenServer, opts`.

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Ident, LitStr, Path, Token};

use crate::attr::{Attr, RESTARTS, Restart, SHUTDOWNS, Shutdown};
use crate::ctxt::Ctxt;
use crate::suggest::{did_you_mean, one_of};
use crate::value::{Value, at, skip_past_comma};

pub(crate) const KEYS: [&str; 5] = ["restart", "shutdown", "id", "name", "crate"];

/// Where the attribute sits decides which options it takes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// On the server struct: every option.
    Struct,
    /// On `impl GenServer for T`: only `crate`.
    Impl,
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
                cx.error(
                    &key,
                    format!("`{key}` needs a value: {}", example(&key.to_string())),
                );
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
        "name" => "`name = \"loader\"`",
        "crate" => "`crate = \"my_bough\"`",
        _ => "`key = value`",
    }
}

fn option(options: &mut Options, place: Place, key: Ident, value: Value, cx: &mut Ctxt) {
    let name = key.unraw().to_string();
    if place == Place::Impl && KEYS.contains(&name.as_str()) && name != "crate" {
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
            if let Some(restart) = restart(&key, &value, cx) {
                options.restart.set(cx, &key, restart);
            }
        }
        "shutdown" => {
            if let Some(shutdown) = shutdown(&key, &value, cx) {
                options.shutdown.set(cx, &key, shutdown);
            }
        }
        "id" => {
            if let Some(id) = string(&key, &value, cx) {
                options.id.set(cx, &key, id);
            }
        }
        "name" => {
            if let Some(name) = string(&key, &value, cx) {
                options.name.set(cx, &key, name);
            }
        }
        "crate" => {
            if let Some(path) = string(&key, &value, cx).and_then(|s| path(&s, cx)) {
                options.krate.set(cx, &key, path);
            }
        }
        _ => {
            let accepted: &[&str] = match place {
                Place::Struct => &KEYS,
                Place::Impl => &["crate"],
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

fn restart(key: &Ident, value: &Value, cx: &mut Ctxt) -> Option<Restart> {
    let accepted = one_of(&RESTARTS);
    match value {
        Value::Str(s) => {
            let found = Restart::from_name(&s.value());
            if found.is_none() {
                cx.error(
                    s,
                    format!(
                        "unknown restart type `{}`{}; expected {accepted}",
                        s.value(),
                        did_you_mean(&s.value(), &RESTARTS)
                    ),
                );
            }
            found
        }
        Value::Atom(_, atom) | Value::Ident(atom) => {
            let word = atom.to_string();
            let suggestion = Restart::from_name(&word).map_or("transient", |_| word.as_str());
            cx.error(
                value,
                format!("write `restart = \"{suggestion}\"`: the restart type is a string here"),
            );
            None
        }
        _ => {
            cx.error(
                at(key, value),
                format!("expected a restart type: {accepted}, in quotes"),
            );
            None
        }
    }
}

fn shutdown(key: &Ident, value: &Value, cx: &mut Ctxt) -> Option<Shutdown> {
    let expected = "expected a time-out in milliseconds such as `shutdown = 5000`, \
                    `shutdown = \"brutal_kill\"` or `shutdown = \"infinity\"`";
    match value {
        Value::Int(n) => match n.base10_parse::<u64>() {
            Ok(ms) => Some(Shutdown::Millis(ms)),
            Err(_) => {
                cx.error(
                    n,
                    "the shutdown time-out must fit in a u64 number of milliseconds",
                );
                None
            }
        },
        Value::Str(s) => match s.value().as_str() {
            "brutal_kill" => Some(Shutdown::BrutalKill),
            "infinity" => Some(Shutdown::Infinity),
            text if text.parse::<u64>().is_ok() => {
                cx.error(
                    s,
                    format!("write the time-out as a number: `shutdown = {text}`"),
                );
                None
            }
            text => {
                cx.error(
                    s,
                    format!(
                        "unknown shutdown `{text}`{}; {expected}",
                        did_you_mean(text, &SHUTDOWNS)
                    ),
                );
                None
            }
        },
        Value::Atom(_, atom) | Value::Ident(atom)
            if SHUTDOWNS.contains(&atom.to_string().as_str()) =>
        {
            cx.error(
                value,
                format!("write `shutdown = \"{atom}\"`: it is a string here"),
            );
            None
        }
        _ => {
            cx.error(at(key, value), expected);
            None
        }
    }
}

fn string(key: &Ident, value: &Value, cx: &mut Ctxt) -> Option<LitStr> {
    match value {
        Value::Str(s) if s.value().is_empty() => {
            cx.error(s, format!("`{key}` cannot be empty"));
            None
        }
        Value::Str(s) => Some(s.clone()),
        Value::Missing => {
            cx.error(
                key,
                format!(
                    "`{key}` needs a value: {}",
                    example(&key.unraw().to_string())
                ),
            );
            None
        }
        other => {
            cx.error(
                other,
                format!(
                    "`{key}` takes a string: {}",
                    example(&key.unraw().to_string())
                ),
            );
            None
        }
    }
}

fn path(s: &LitStr, cx: &mut Ctxt) -> Option<Path> {
    match s.parse::<Path>() {
        Ok(path) => Some(path),
        Err(_) => {
            cx.error(
                s,
                format!(
                    "`{}` is not a path; write the crate's name, such as `crate = \"my_bough\"`",
                    s.value()
                ),
            );
            None
        }
    }
}
