//! The model of a `#[gen_server]` impl block: which items are callbacks, which are request
//! handlers, and what their signatures say. It borrows the user's syntax tree and keeps its
//! tokens for error spans; [`validate`](super::validate) checks it and
//! [`expand`](super::expand) turns it into code.
//!
//! Two forms share it:
//!
//! - the callbacks form, `#[gen_server] impl GenServer for T { .. }`: Elixir's callbacks,
//!   with the message types read off their parameters;
//! - the typed form, `#[gen_server(..)] impl T { .. }`: one handler per request, marked
//!   `#[call]`, `#[cast]` or `#[info]`, from which the message types, `handle_call`,
//!   `handle_cast`, `handle_info` and the client functions are generated.

use proc_macro2::TokenStream;
use syn::parse::{ParseStream, Parser};
use syn::{
    Attribute, FnArg, GenericArgument, Ident, ImplItem, ImplItemFn, ImplItemType, ItemImpl, Meta,
    PatType, PathArguments, Receiver, ReturnType, Token, Type,
};

use crate::attr::Attr;
use crate::ctxt::Ctxt;
use crate::shared::{self, Syntax, Unit};
use crate::suggest::did_you_mean;
use crate::value::{Value, skip_past_comma};

/// Which form the block is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// `impl GenServer for T`.
    Callbacks,
    /// `impl T`, with request handlers.
    Typed,
}

pub(crate) const CALLBACKS: [&str; 9] = [
    "init",
    "handle_call",
    "handle_cast",
    "handle_info",
    "handle_continue",
    "handle_down",
    "handle_exit",
    "handle_timeout",
    "terminate",
];

pub(crate) const TYPES: [&str; 6] = ["Args", "Call", "Reply", "Cast", "Info", "Continue"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum CallbackKind {
    Init,
    HandleCall,
    HandleCast,
    HandleInfo,
    HandleContinue,
    HandleDown,
    HandleExit,
    HandleTimeout,
    Terminate,
}

impl CallbackKind {
    fn from_name(name: &str) -> Option<CallbackKind> {
        Some(match name {
            "init" => CallbackKind::Init,
            "handle_call" => CallbackKind::HandleCall,
            "handle_cast" => CallbackKind::HandleCast,
            "handle_info" => CallbackKind::HandleInfo,
            "handle_continue" => CallbackKind::HandleContinue,
            "handle_down" => CallbackKind::HandleDown,
            "handle_exit" => CallbackKind::HandleExit,
            "handle_timeout" => CallbackKind::HandleTimeout,
            "terminate" => CallbackKind::Terminate,
            _ => return None,
        })
    }
}

/// The impl block.
pub(crate) struct Block<'a> {
    pub(crate) item: &'a ItemImpl,
    pub(crate) form: Form,
    /// `type X = ...;` items.
    pub(crate) types: Vec<&'a ImplItemType>,
    /// Functions named after a callback, and in the callbacks form every other function too
    /// (with no kind).
    pub(crate) callbacks: Vec<Callback<'a>>,
    /// `#[call]`, `#[cast]` and `#[info]` functions.
    pub(crate) handlers: Vec<Handler<'a>>,
    /// Everything else: in the typed form, the server's own functions and constants.
    pub(crate) others: Vec<&'a ImplItem>,
}

/// A function of the block that is (or is named like) a GenServer callback.
pub(crate) struct Callback<'a> {
    pub(crate) f: &'a ImplItemFn,
    /// `None` when the name is no callback's.
    pub(crate) kind: Option<CallbackKind>,
    pub(crate) sig: Sig<'a>,
}

/// What a function's signature says, as far as the macro cares.
pub(crate) struct Sig<'a> {
    pub(crate) receiver: Option<&'a Receiver>,
    /// The arguments after the receiver.
    pub(crate) params: Vec<&'a PatType>,
    pub(crate) is_async: bool,
    /// `-> impl Future<..>`, the desugared form of an `async fn`.
    pub(crate) returns_impl: bool,
}

impl<'a> Sig<'a> {
    fn of(f: &'a ImplItemFn) -> Sig<'a> {
        let mut receiver = None;
        let mut params = Vec::new();
        for input in &f.sig.inputs {
            match input {
                FnArg::Receiver(r) => receiver = Some(r),
                FnArg::Typed(p) => params.push(p),
            }
        }
        Sig {
            receiver,
            params,
            is_async: f.sig.asyncness.is_some(),
            returns_impl: matches!(&f.sig.output, ReturnType::Type(_, ty) if matches!(**ty, Type::ImplTrait(_))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum HandlerKind {
    Call,
    Cast,
    Info,
}

impl HandlerKind {
    pub(crate) fn attribute(self) -> &'static str {
        match self {
            HandlerKind::Call => "call",
            HandlerKind::Cast => "cast",
            HandlerKind::Info => "info",
        }
    }

    fn from_attribute(attr: &Attribute) -> Option<HandlerKind> {
        let ident = attr.path().get_ident()?;
        Some(match ident.to_string().as_str() {
            "call" => HandlerKind::Call,
            "cast" => HandlerKind::Cast,
            "info" => HandlerKind::Info,
            _ => return None,
        })
    }
}

/// How long a `#[call]` client function waits: `#[call(timeout = ..)]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallTimeout {
    Millis(u64),
    Infinity,
}

/// A request handler of the typed form.
pub(crate) struct Handler<'a> {
    pub(crate) f: &'a ImplItemFn,
    pub(crate) kind: HandlerKind,
    /// The `#[call]`, `#[cast]` or `#[info]` attribute.
    pub(crate) attr: &'a Attribute,
    /// A second handler attribute on the same function, if any (a mistake).
    pub(crate) extra_attr: Option<&'a Attribute>,
    pub(crate) timeout: Option<CallTimeout>,
    pub(crate) sig: Sig<'a>,
    /// The last argument when its type is a `TypedReplyTo<T>` or a `ReplyTo<T>`.
    pub(crate) from: Option<FromParam<'a>>,
}

/// The `from` argument of a handler that answers later.
pub(crate) struct FromParam<'a> {
    pub(crate) param: &'a PatType,
    /// `T` of `TypedReplyTo<T>`; `None` for a `ReplyTo`, which the typed form does not take.
    pub(crate) answer: Option<Type>,
}

impl<'a> Handler<'a> {
    /// The arguments that travel in the message: all but `from`.
    pub(crate) fn message_params(&self) -> &[&'a PatType] {
        match self.from {
            Some(_) => &self.sig.params[..self.sig.params.len() - 1],
            None => &self.sig.params,
        }
    }

    /// The type of the answer, for a `#[call]`.
    pub(crate) fn answer(&self) -> Option<Type> {
        if self.kind != HandlerKind::Call {
            return None;
        }
        match &self.from {
            Some(from) => from.answer.clone(),
            None => Some(match &self.f.sig.output {
                ReturnType::Default => syn::parse_quote!(()),
                ReturnType::Type(_, ty) => (**ty).clone(),
            }),
        }
    }
}

pub(crate) fn parse<'a>(item: &'a ItemImpl, cx: &mut Ctxt) -> Block<'a> {
    let form = if item.trait_.is_some() {
        Form::Callbacks
    } else {
        Form::Typed
    };
    let mut block = Block {
        item,
        form,
        types: Vec::new(),
        callbacks: Vec::new(),
        handlers: Vec::new(),
        others: Vec::new(),
    };
    for impl_item in &item.items {
        match impl_item {
            ImplItem::Type(ty) => block.types.push(ty),
            ImplItem::Fn(f) => {
                let mut kinds = f
                    .attrs
                    .iter()
                    .filter_map(|attr| HandlerKind::from_attribute(attr).map(|kind| (kind, attr)));
                if let Some((kind, attr)) = kinds.next() {
                    block
                        .handlers
                        .push(handler(f, kind, attr, kinds.next().map(|(_, a)| a), cx));
                    continue;
                }
                let kind = CallbackKind::from_name(&f.sig.ident.to_string());
                if kind.is_some() || form == Form::Callbacks {
                    block.callbacks.push(Callback {
                        f,
                        kind,
                        sig: Sig::of(f),
                    });
                } else {
                    block.others.push(impl_item);
                }
            }
            other => block.others.push(other),
        }
    }
    block
}

fn handler<'a>(
    f: &'a ImplItemFn,
    kind: HandlerKind,
    attr: &'a Attribute,
    extra_attr: Option<&'a Attribute>,
    cx: &mut Ctxt,
) -> Handler<'a> {
    let sig = Sig::of(f);
    let from = sig.params.last().and_then(|param| {
        let answer = reply_to_argument(&param.ty, "TypedReplyTo");
        if answer.is_some() {
            return Some(FromParam { param, answer });
        }
        reply_to_argument(&param.ty, "ReplyTo").map(|_| FromParam {
            param,
            answer: None,
        })
    });
    Handler {
        f,
        kind,
        attr,
        extra_attr,
        timeout: handler_options(attr, kind, cx),
        sig,
        from,
    }
}

/// The options inside `#[call(..)]`: only `timeout`.
fn handler_options(attr: &Attribute, kind: HandlerKind, cx: &mut Ctxt) -> Option<CallTimeout> {
    let name = kind.attribute();
    let args = match &attr.meta {
        Meta::Path(_) => return None,
        Meta::List(list) => list.tokens.clone(),
        Meta::NameValue(nv) => {
            cx.error(
                nv,
                format!("write `#[{name}]`, or `#[call(timeout = 10000)]` for a call's time-out"),
            );
            return None;
        }
    };
    if kind != HandlerKind::Call {
        if !args.is_empty() {
            cx.error(
                &attr.meta,
                format!("`#[{name}]` takes no options: a {name} does not wait for an answer"),
            );
        }
        return None;
    }
    let mut timeout: Attr<CallTimeout> = Attr::new("timeout");
    let parser = |input: ParseStream| -> syn::Result<()> {
        while !input.is_empty() {
            let key: Ident = match input.parse() {
                Ok(key) => key,
                Err(_) => {
                    let stray: proc_macro2::TokenTree = input.parse()?;
                    cx.error(stray, "expected `timeout = 10000`");
                    skip_past_comma(input)?;
                    continue;
                }
            };
            if key != "timeout" {
                cx.error(
                    &key,
                    format!(
                        "unknown option `{key}`{}; `#[call]` takes `timeout`, in milliseconds or \"infinity\"",
                        did_you_mean(&key.to_string(), &["timeout"])
                    ),
                );
                skip_past_comma(input)?;
                continue;
            }
            let value = if input.peek(Token![=]) {
                input.parse::<Token![=]>()?;
                Value::parse(input)?
            } else {
                Value::Missing
            };
            let parsed = match &value {
                Value::Str(s) if s.value() == "infinity" => Some(CallTimeout::Infinity),
                Value::Str(s) => {
                    cx.error(
                        s,
                        "`timeout` is a number of milliseconds, such as `timeout = 10000`, or \"infinity\"",
                    );
                    None
                }
                Value::Ident(word) if word == "infinity" => {
                    cx.error(word, "write `timeout = \"infinity\"`: it is a string here");
                    None
                }
                _ => shared::number::<u64>(cx, &key, &value, Syntax::Attribute, Unit::Millis)
                    .map(CallTimeout::Millis),
            };
            if let Some(parsed) = parsed {
                timeout.set(cx, &key, parsed);
            }
            skip_past_comma(input)?;
        }
        Ok(())
    };
    if let Err(error) = parser.parse2(args) {
        cx.push(error);
    }
    timeout.get().copied()
}

/// `R` in `ReplyTo<R>` (or whichever `wrapper` is named), however the path is written.
pub(crate) fn reply_to_argument(ty: &Type, wrapper: &str) -> Option<Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != wrapper {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.iter().collect::<Vec<_>>().as_slice() {
        [GenericArgument::Type(reply)] => Some(reply.clone()),
        _ => None,
    }
}

/// Whether `tokens` name `Self` anywhere.
pub(crate) fn mentions_self(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tree| match tree {
        proc_macro2::TokenTree::Ident(ident) => ident == "Self",
        proc_macro2::TokenTree::Group(group) => mentions_self(group.stream()),
        _ => false,
    })
}

/// Whether `tokens` name any of `idents` anywhere.
pub(crate) fn mentions_any(tokens: TokenStream, idents: &[Ident]) -> bool {
    tokens.into_iter().any(|tree| match tree {
        proc_macro2::TokenTree::Ident(ident) => idents.contains(&ident),
        proc_macro2::TokenTree::Group(group) => mentions_any(group.stream(), idents),
        _ => false,
    })
}
