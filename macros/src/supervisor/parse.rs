//! The syntax of `supervisor!`: one or more supervisors, each `vis [dynamic] Name { key: value, ... }`.

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{
    Attribute, Expr, Ident, LitStr, Path, Token, Type, Visibility, braced, bracketed,
    parenthesized, token,
};

use crate::attr::{Attr, RESTARTS, Restart, SHUTDOWNS, Shutdown};
use crate::ctxt::Ctxt;
use crate::suggest::{did_you_mean, one_of};
use crate::value::{Value, skip_past_comma};

pub(crate) const KEYS: [&str; 8] = [
    "strategy",
    "max_restarts",
    "max_seconds",
    "max_children",
    "extra_arguments",
    "name",
    "children",
    "crate",
];
pub(crate) const STRATEGIES: [&str; 3] = ["one_for_one", "one_for_all", "rest_for_one"];
const CHILD_KEYS: [&str; 3] = ["restart", "shutdown", "id"];

mod kw {
    syn::custom_keyword!(dynamic);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strategy {
    OneForOne,
    OneForAll,
    RestForOne,
}

impl Strategy {
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Strategy::OneForOne => "OneForOne",
            Strategy::OneForAll => "OneForAll",
            Strategy::RestForOne => "RestForOne",
        }
    }
}

pub(crate) struct Supervisor {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) dynamic: bool,
    pub(crate) ident: Ident,
    pub(crate) strategy: Attr<(Ident, Strategy)>,
    /// `strategy` was written, even if its value was wrong (already reported).
    pub(crate) strategy_written: bool,
    pub(crate) max_restarts: Attr<u32>,
    pub(crate) max_seconds: Attr<u64>,
    pub(crate) max_children: Attr<usize>,
    pub(crate) extra_arguments: Attr<Expr>,
    pub(crate) name: Attr<LitStr>,
    pub(crate) children: Attr<Vec<ChildEntry>>,
    pub(crate) krate: Attr<Path>,
}

pub(crate) struct ChildEntry {
    pub(crate) ty: Type,
    pub(crate) arg: Option<Expr>,
    pub(crate) restart: Attr<Restart>,
    pub(crate) shutdown: Attr<Shutdown>,
    pub(crate) id: Attr<LitStr>,
}

pub(crate) fn parse(input: TokenStream, cx: &mut Ctxt) -> Vec<Supervisor> {
    let mut supervisors = Vec::new();
    let parser = |input: ParseStream| -> syn::Result<()> {
        while !input.is_empty() {
            supervisors.push(supervisor(input, cx)?);
        }
        Ok(())
    };
    if let Err(error) = parser.parse2(input) {
        cx.push(error);
    }
    supervisors
}

fn supervisor(input: ParseStream, cx: &mut Ctxt) -> syn::Result<Supervisor> {
    let attrs = input.call(Attribute::parse_outer)?;
    let vis: Visibility = input.parse()?;
    let dynamic = input.parse::<Option<kw::dynamic>>()?.is_some();
    let ident: Ident = input.parse().map_err(|error| {
        syn::Error::new(error.span(), "expected a supervisor: `pub MyService { strategy: one_for_one, children: [...] }` or `pub dynamic MySup { strategy: one_for_one }`")
    })?;
    let mut sup = Supervisor {
        attrs,
        vis,
        dynamic,
        ident,
        strategy: Attr::new("strategy"),
        strategy_written: false,
        max_restarts: Attr::new("max_restarts"),
        max_seconds: Attr::new("max_seconds"),
        max_children: Attr::new("max_children"),
        extra_arguments: Attr::new("extra_arguments"),
        name: Attr::new("name"),
        children: Attr::new("children"),
        krate: Attr::new("crate"),
    };
    if !input.peek(token::Brace) {
        return Err(input.error(format!(
            "expected `{{ ... }}` with the options of `{}`, such as `{{ strategy: one_for_one }}`",
            sup.ident
        )));
    }
    let body;
    braced!(body in input);
    while !body.is_empty() {
        let key = Ident::parse_any(&body)?;
        if body.peek(Token![=]) {
            cx.error(
                &key,
                format!("write `{key}: ...`: supervisor! options take `:`"),
            );
            body.parse::<Token![=]>()?;
        } else if body.peek(Token![:]) && !body.peek(Token![::]) {
            body.parse::<Token![:]>()?;
        } else {
            cx.error(&key, format!("`{key}` needs a value: `{key}: ...`"));
            skip_past_comma(&body)?;
            continue;
        }
        option(&mut sup, key, &body, cx)?;
        if !body.is_empty() {
            body.parse::<Token![,]>()?;
        }
    }
    Ok(sup)
}

fn option(sup: &mut Supervisor, key: Ident, input: ParseStream, cx: &mut Ctxt) -> syn::Result<()> {
    let name = key.unraw().to_string();
    match name.as_str() {
        "strategy" => {
            sup.strategy_written = true;
            let value = Value::parse(input)?;
            if let Some(strategy) = strategy(&key, &value, cx) {
                sup.strategy.set(cx, &key, strategy);
            }
        }
        "max_restarts" => {
            if let Some(n) = number(&key, &Value::parse(input)?, cx) {
                sup.max_restarts.set(cx, &key, n);
            }
        }
        "max_seconds" => {
            if let Some(n) = number(&key, &Value::parse(input)?, cx) {
                sup.max_seconds.set(cx, &key, n);
            }
        }
        "max_children" => {
            if let Some(n) = number(&key, &Value::parse(input)?, cx) {
                sup.max_children.set(cx, &key, n);
            }
        }
        "extra_arguments" => {
            let expr: Expr = input.parse()?;
            sup.extra_arguments.set(cx, &key, expr);
        }
        "name" => {
            if let Some(name) = string(&key, &Value::parse(input)?, cx) {
                sup.name.set(cx, &key, name);
            }
        }
        "crate" => {
            if let Some(s) = string(&key, &Value::parse(input)?, cx) {
                match s.parse::<Path>() {
                    Ok(path) => sup.krate.set(cx, &key, path),
                    Err(_) => cx.error(&s, format!("`{}` is not a path; write the crate's name, such as `crate: \"my_bough\"`", s.value())),
                }
            }
        }
        "children" => {
            if !input.peek(token::Bracket) {
                let value = Value::parse(input)?;
                cx.error(
                    crate::value::at(&key, &value),
                    "`children` takes a list: `children: [Worker, (Cache, 100), Loader { restart: transient }]`",
                );
                return Ok(());
            }
            let list;
            bracketed!(list in input);
            let children = children(&list, cx)?;
            sup.children.set(cx, &key, children);
        }
        _ => {
            cx.error(
                &key,
                format!(
                    "unknown option `{name}`{}; supervisor! takes {}",
                    did_you_mean(&name, &KEYS),
                    one_of(&KEYS)
                ),
            );
            skip_to_comma_keeping_it(input)?;
        }
    }
    Ok(())
}

/// Like `skip_past_comma`, but leaves the comma for the caller.
fn skip_to_comma_keeping_it(input: ParseStream) -> syn::Result<()> {
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<proc_macro2::TokenTree>()?;
    }
    Ok(())
}

fn children(list: ParseStream, cx: &mut Ctxt) -> syn::Result<Vec<ChildEntry>> {
    let mut children = Vec::new();
    while !list.is_empty() {
        let (ty, arg) = if list.peek(token::Paren) {
            let pair;
            parenthesized!(pair in list);
            let ty: Type = pair.parse()?;
            if !pair.peek(Token![,]) {
                return Err(pair.error(
                    "expected `(Type, argument)`: the child and the argument of its `child_spec`",
                ));
            }
            pair.parse::<Token![,]>()?;
            let arg: Expr = pair.parse()?;
            if !pair.is_empty() {
                pair.parse::<Token![,]>()?;
            }
            if !pair.is_empty() {
                return Err(pair.error("a child takes one argument: `(Type, argument)`; group several in a tuple or struct"));
            }
            (ty, Some(arg))
        } else {
            (list.parse::<Type>()?, None)
        };
        let mut child = ChildEntry {
            ty,
            arg,
            restart: Attr::new("restart"),
            shutdown: Attr::new("shutdown"),
            id: Attr::new("id"),
        };
        if list.peek(token::Brace) {
            let overrides;
            braced!(overrides in list);
            child_overrides(&mut child, &overrides, cx)?;
        }
        children.push(child);
        if !list.is_empty() {
            list.parse::<Token![,]>()?;
        }
    }
    Ok(children)
}

fn child_overrides(child: &mut ChildEntry, input: ParseStream, cx: &mut Ctxt) -> syn::Result<()> {
    while !input.is_empty() {
        let key = Ident::parse_any(input)?;
        if input.peek(Token![:]) || input.peek(Token![=]) {
            if input.peek(Token![=]) {
                cx.error(&key, format!("write `{key}: ...`: child options take `:`"));
            }
            input.parse::<proc_macro2::TokenTree>()?;
        } else {
            cx.error(&key, format!("`{key}` needs a value: `{key}: ...`"));
            skip_past_comma(input)?;
            continue;
        }
        let value = Value::parse(input)?;
        let name = key.unraw().to_string();
        match name.as_str() {
            "restart" => {
                if let Some(restart) = restart(&key, &value, cx) {
                    child.restart.set(cx, &key, restart);
                }
            }
            "shutdown" => {
                if let Some(shutdown) = shutdown(&key, &value, cx) {
                    child.shutdown.set(cx, &key, shutdown);
                }
            }
            "id" => {
                if let Some(id) = string(&key, &value, cx) {
                    child.id.set(cx, &key, id);
                }
            }
            _ => cx.error(
                &key,
                format!(
                    "unknown child option `{name}`{}; a child takes {}",
                    did_you_mean(&name, &CHILD_KEYS),
                    one_of(&CHILD_KEYS)
                ),
            ),
        }
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }
    Ok(())
}

/// A bare word, as Elixir writes atoms without their colon.
fn word(key: &Ident, value: &Value, accepted: &[&str], cx: &mut Ctxt) -> Option<Ident> {
    let list = one_of(accepted);
    match value {
        Value::Ident(ident) => Some(ident.clone()),
        Value::Atom(_, atom) => {
            cx.error(value, format!("write `{key}: {atom}` without the colon"));
            None
        }
        Value::Str(s) => {
            cx.error(
                value,
                format!("write `{key}: {}` without quotes", s.value()),
            );
            None
        }
        _ => {
            cx.error(
                crate::value::at(key, value),
                format!("`{key}` takes {list}"),
            );
            None
        }
    }
}

fn strategy(key: &Ident, value: &Value, cx: &mut Ctxt) -> Option<(Ident, Strategy)> {
    let word = word(key, value, &STRATEGIES, cx)?;
    let strategy = match word.to_string().as_str() {
        "one_for_one" => Strategy::OneForOne,
        "one_for_all" => Strategy::OneForAll,
        "rest_for_one" => Strategy::RestForOne,
        "simple_one_for_one" => {
            cx.error(&word, "`simple_one_for_one` is a dynamic supervisor here: write `pub dynamic Name { strategy: one_for_one }`");
            return None;
        }
        other => {
            cx.error(
                &word,
                format!(
                    "unknown strategy `{other}`{}; expected {}",
                    did_you_mean(other, &STRATEGIES),
                    one_of(&STRATEGIES)
                ),
            );
            return None;
        }
    };
    Some((word, strategy))
}

fn restart(key: &Ident, value: &Value, cx: &mut Ctxt) -> Option<Restart> {
    let word = word(key, value, &RESTARTS, cx)?;
    let found = Restart::from_name(&word.to_string());
    if found.is_none() {
        cx.error(
            &word,
            format!(
                "unknown restart type `{word}`{}; expected {}",
                did_you_mean(&word.to_string(), &RESTARTS),
                one_of(&RESTARTS)
            ),
        );
    }
    found
}

fn shutdown(key: &Ident, value: &Value, cx: &mut Ctxt) -> Option<Shutdown> {
    let expected =
        "expected a time-out in milliseconds such as `shutdown: 5000`, `brutal_kill` or `infinity`";
    if let Value::Int(n) = value {
        return match n.base10_parse::<u64>() {
            Ok(ms) => Some(Shutdown::Millis(ms)),
            Err(_) => {
                cx.error(
                    n,
                    "the shutdown time-out must fit in a u64 number of milliseconds",
                );
                None
            }
        };
    }
    let word = word(key, value, &SHUTDOWNS, cx)?;
    match word.to_string().as_str() {
        "brutal_kill" => Some(Shutdown::BrutalKill),
        "infinity" => Some(Shutdown::Infinity),
        other => {
            cx.error(
                &word,
                format!(
                    "unknown shutdown `{other}`{}; {expected}",
                    did_you_mean(other, &SHUTDOWNS)
                ),
            );
            None
        }
    }
}

fn number<N: std::str::FromStr>(key: &Ident, value: &Value, cx: &mut Ctxt) -> Option<N>
where
    N::Err: std::fmt::Display,
{
    match value {
        Value::Int(n) => match n.base10_parse::<N>() {
            Ok(n) => Some(n),
            Err(error) => {
                cx.error(n, format!("`{key}`: {error}"));
                None
            }
        },
        _ => {
            cx.error(
                crate::value::at(key, value),
                format!("`{key}` takes a whole number, such as `{key}: 3`"),
            );
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
        _ => {
            cx.error(
                crate::value::at(key, value),
                format!("`{key}` takes a string, such as `{key}: \"loader\"`"),
            );
            None
        }
    }
}
