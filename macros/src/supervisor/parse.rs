//! The syntax of `supervisor!`: one or more supervisors, each
//! `vis [dynamic | partition] Name [(arg: Type)] { key: value, ... }`.

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{
    Attribute, Expr, Ident, LitStr, Pat, Path, Token, Type, Visibility, braced, bracketed,
    parenthesized, token,
};

use crate::attr::Attr;
use crate::ctxt::Ctxt;
use crate::shared::{self, Restart, Shutdown, Syntax, Unit};
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
/// The options of a `partition` supervisor.
pub(crate) const PARTITION_KEYS: [&str; 7] = [
    "child",
    "partitions",
    "strategy",
    "max_restarts",
    "max_seconds",
    "name",
    "crate",
];
pub(crate) const STRATEGIES: [&str; 3] = ["one_for_one", "one_for_all", "rest_for_one"];
const CHILD_KEYS: [&str; 3] = ["restart", "shutdown", "id"];

mod kw {
    syn::custom_keyword!(dynamic);
    syn::custom_keyword!(partition);
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
    /// `partition Name { child: ..., partitions: n }`: a partition supervisor.
    pub(crate) partition: bool,
    pub(crate) ident: Ident,
    /// `(config: Config)`: what `start_link` passes to `init`.
    pub(crate) arg: Option<Arg>,
    pub(crate) strategy: Attr<(TokenStream, Strategy)>,
    /// `strategy` was written, even if its value was wrong (already reported).
    pub(crate) strategy_written: bool,
    pub(crate) max_restarts: Attr<u32>,
    pub(crate) max_seconds: Attr<u64>,
    pub(crate) max_children: Attr<usize>,
    pub(crate) extra_arguments: Attr<Expr>,
    pub(crate) name: Attr<LitStr>,
    pub(crate) children: Attr<Vec<ChildEntry>>,
    /// A partition supervisor's one child spec.
    pub(crate) child: Attr<ChildEntry>,
    /// `child` was written, even if its value was wrong (already reported).
    pub(crate) child_written: bool,
    /// How many partitions, at least 1.
    pub(crate) partitions: Attr<usize>,
    pub(crate) krate: Attr<Path>,
}

/// The argument of a supervisor: `init`'s parameter.
pub(crate) struct Arg {
    pub(crate) pat: Pat,
    pub(crate) ty: Type,
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
    // `partition` is a keyword only before a name: a supervisor may be called `partition`.
    let partition = !dynamic && input.peek(kw::partition) && input.peek2(Ident::peek_any);
    if partition {
        input.parse::<kw::partition>()?;
    }
    let ident: Ident = input.parse().map_err(|error| {
        syn::Error::new(error.span(), "expected a supervisor: `pub MyService { strategy: one_for_one, children: [...] }`, `pub dynamic MySup { strategy: one_for_one }` or `pub partition MyParts { child: MySup }`")
    })?;
    let arg = if input.peek(token::Paren) {
        let content;
        parenthesized!(content in input);
        argument(&ident, &content, cx)?
    } else {
        None
    };
    let mut sup = Supervisor {
        attrs,
        vis,
        dynamic,
        partition,
        ident,
        arg,
        strategy: Attr::new("strategy"),
        strategy_written: false,
        max_restarts: Attr::new("max_restarts"),
        max_seconds: Attr::new("max_seconds"),
        max_children: Attr::new("max_children"),
        extra_arguments: Attr::new("extra_arguments"),
        name: Attr::new("name"),
        children: Attr::new("children"),
        child: Attr::new("child"),
        child_written: false,
        partitions: Attr::new("partitions"),
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

/// `(config: Config)` after the name.
fn argument(ident: &Ident, input: ParseStream, cx: &mut Ctxt) -> syn::Result<Option<Arg>> {
    if input.is_empty() {
        cx.push(input.error(format!(
            "write `{ident}` without parentheses when it takes no argument, or name its \
             argument and type: `{ident}(config: Config)`"
        )));
        return Ok(None);
    }
    let pat = Pat::parse_single(input)?;
    if !input.peek(Token![:]) {
        cx.error(
            &pat,
            format!(
                "name the argument and give its type, as in a function's parameter: \
                 `{ident}(config: Config)`"
            ),
        );
        while !input.is_empty() {
            input.parse::<proc_macro2::TokenTree>()?;
        }
        return Ok(None);
    }
    input.parse::<Token![:]>()?;
    let ty: Type = input.parse()?;
    if input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
    }
    if !input.is_empty() {
        let rest: TokenStream = input.parse()?;
        cx.error(
            rest,
            format!(
                "a supervisor takes one argument, as Elixir's `init/1` does; pass several in \
                 a struct or a tuple: `{ident}((a, b): (A, B))`"
            ),
        );
    }
    Ok(Some(Arg { pat, ty }))
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
            let value = Value::parse(input)?;
            if let Some(n) = shared::number(cx, &key, &value, Syntax::Block, Unit::Count) {
                sup.max_restarts.set(cx, &key, n);
            }
        }
        "max_seconds" => {
            let value = Value::parse(input)?;
            if let Some(n) = shared::number(cx, &key, &value, Syntax::Block, Unit::Seconds) {
                sup.max_seconds.set(cx, &key, n);
            }
        }
        "max_children" => {
            let value = Value::parse(input)?;
            if let Some(n) = shared::number(cx, &key, &value, Syntax::Block, Unit::Count) {
                sup.max_children.set(cx, &key, n);
            }
        }
        "extra_arguments" => {
            let expr: Expr = input.parse()?;
            sup.extra_arguments.set(cx, &key, expr);
        }
        "name" => {
            let value = Value::parse(input)?;
            if let Some(name) = shared::string(cx, &key, &value, Syntax::Block) {
                sup.name.set(cx, &key, name);
            }
        }
        "crate" => {
            let value = Value::parse(input)?;
            if let Some(path) = shared::crate_path(cx, &key, &value, Syntax::Block) {
                sup.krate.set(cx, &key, path);
            }
        }
        "partitions" => {
            let value = Value::parse(input)?;
            match shared::number::<usize>(cx, &key, &value, Syntax::Block, Unit::Count) {
                Some(0) => cx.error(
                    crate::value::at(&key, &value),
                    "a partition supervisor needs at least one partition; leave `partitions` \
                     out for one per core",
                ),
                Some(n) => sup.partitions.set(cx, &key, n),
                None => {}
            }
        }
        "child" => {
            sup.child_written = true;
            if input.peek(token::Bracket) {
                let list: proc_macro2::Group = input.parse()?;
                cx.error(
                    &list,
                    "`child` takes one child, the spec of every partition: \
                     `child: Worker`, `child: (Cache, 100)` or `child: Jobs { shutdown: 1000 }`",
                );
                return Ok(());
            }
            if let Some(child) = child_entry(input, cx)? {
                sup.child.set(cx, &key, child);
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
            let (keys, what): (&[&str], _) = if sup.partition {
                (&PARTITION_KEYS, "a partition supervisor")
            } else {
                (&KEYS, "supervisor!")
            };
            cx.error(
                &key,
                format!(
                    "unknown option `{name}`{}; {what} takes {}",
                    did_you_mean(&name, keys),
                    one_of(keys)
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
        children.extend(child_entry(list, cx)?);
        if !list.is_empty() {
            list.parse::<Token![,]>()?;
        }
    }
    Ok(children)
}

/// One child: `Type`, `(Type, argument)`, either with `{ overrides }`; `None` for an
/// Elixir tuple, which is reported.
fn child_entry(list: ParseStream, cx: &mut Ctxt) -> syn::Result<Option<ChildEntry>> {
    if list.peek(token::Brace) {
        elixir_tuple(list, cx)?;
        return Ok(None);
    }
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
    Ok(Some(child))
}

/// `{Worker, 1}`, as Elixir writes a child with its argument: reported with the Rust
/// spelling, then skipped so the rest of the list is still checked.
fn elixir_tuple(list: ParseStream, cx: &mut Ctxt) -> syn::Result<()> {
    let group: proc_macro2::Group = list.parse()?;
    let inside = group.stream().to_string();
    let suggestion = if inside.trim().is_empty() {
        "(Worker, argument)".to_string()
    } else {
        format!("({})", inside.trim())
    };
    cx.error(
        &group,
        format!(
            "write `{suggestion}`: a child with an argument is a Rust tuple `(Child, argument)`, \
             Elixir's `{{Child, argument}}`; `Child::child_spec(argument)` builds its spec"
        ),
    );
    Ok(())
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
                if let Some(restart) = shared::restart(cx, &key, &value, Syntax::Block) {
                    child.restart.set(cx, &key, restart);
                }
            }
            "shutdown" => {
                if let Some(shutdown) = shared::shutdown(cx, &key, &value, Syntax::Block) {
                    child.shutdown.set(cx, &key, shutdown);
                }
            }
            "id" => {
                if let Some(id) = shared::string(cx, &key, &value, Syntax::Block) {
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

fn strategy(key: &Ident, value: &Value, cx: &mut Ctxt) -> Option<(TokenStream, Strategy)> {
    let (name, word) = shared::word(cx, key, value, Syntax::Block, &STRATEGIES)?;
    let strategy = match name.as_str() {
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
