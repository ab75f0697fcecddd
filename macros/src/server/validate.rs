//! The rules of a `#[gen_server]` impl block, all checked before anything is generated,
//! every error collected: callback signatures, message types that own their data, one
//! `init`, one clause per callback, and, in the typed form, handlers whose arguments can
//! travel in a message and whose names leave room for the generated functions.
//!
//! What passes is summed up in a [`Verdict`]: which items to keep and the message types
//! read off them.

use std::collections::HashMap;

use quote::ToTokens;
use syn::{GenericParam, ReceiverKind, ReturnType, Type};

use super::parse::{
    Block, CALLBACKS, Callback, CallbackKind, Form, Handler, HandlerKind, Sig, TYPES,
    mentions_self, reply_to_argument,
};
use crate::ctxt::Ctxt;
use crate::suggest::{did_you_mean, one_of};

/// What expansion needs from validation.
pub(crate) struct Verdict {
    /// Whether each of `block.callbacks` is kept.
    pub(crate) callbacks_ok: Vec<bool>,
    /// Whether each of `block.handlers` is kept.
    pub(crate) handlers_ok: Vec<bool>,
    /// The block has an `init`, good or bad.
    pub(crate) has_init: bool,
    /// The message types read off the callbacks (the callbacks form) and `init` and
    /// `handle_continue` (both forms).
    pub(crate) inferred: Inferred,
}

#[derive(Default)]
pub(crate) struct Inferred {
    pub(crate) args: Option<Type>,
    pub(crate) call: Option<Type>,
    pub(crate) reply: Option<Type>,
    pub(crate) cast: Option<Type>,
    pub(crate) info: Option<Type>,
    pub(crate) continuation: Option<Type>,
}

/// Names the typed form generates on the server type, so no request may take them.
const RESERVED: [&str; 13] = [
    "init",
    "start_link",
    "child_spec",
    "whereis",
    "name",
    "handle_call",
    "handle_cast",
    "handle_info",
    "handle_continue",
    "handle_down",
    "handle_exit",
    "handle_timeout",
    "terminate",
];

pub(crate) fn validate(block: &Block, cx: &mut Ctxt) -> Verdict {
    let declared: Vec<String> = block.types.iter().map(|t| t.ident.to_string()).collect();
    let is_declared = |name: &str| declared.iter().any(|d| d == name);
    match block.form {
        Form::Callbacks => {
            for ty in &block.types {
                let name = ty.ident.to_string();
                if !TYPES.contains(&name.as_str()) {
                    cx.error(
                        &ty.ident,
                        format!(
                            "`{name}` is not a type of GenServer{}; its types are {}",
                            did_you_mean(&name, &TYPES),
                            one_of(&TYPES)
                        ),
                    );
                }
            }
        }
        Form::Typed => {
            check_self_type(block, cx);
            for ty in &block.types {
                cx.error(
                    ty,
                    format!(
                        "the typed form reads every message type off its handlers: remove `type {}`",
                        ty.ident
                    ),
                );
            }
        }
    }

    let mut inferred = Inferred::default();
    let mut seen: HashMap<CallbackKind, ()> = HashMap::new();
    let mut callbacks_ok = Vec::new();
    for callback in &block.callbacks {
        let before = cx.len();
        if let Some(kind) = callback.kind
            && seen.insert(kind, ()).is_some()
        {
            duplicate_callback(callback, cx);
        } else {
            check_callback(block, callback, &is_declared, &mut inferred, cx);
        }
        callbacks_ok.push(cx.len() == before);
    }
    let has = |kind: CallbackKind| seen.contains_key(&kind);
    let has_init = has(CallbackKind::Init);
    if !has_init {
        cx.error(
            &block.item.self_ty,
            "missing `init`: a GenServer builds its state in \
             `async fn init(args: Args) -> Init<Self> { ... }`, in this block: all of a \
             server's callbacks go in one `#[gen_server]` block",
        );
    }
    if block.form == Form::Callbacks {
        for (ty, callback, kind) in [
            ("Call", "handle_call", CallbackKind::HandleCall),
            ("Reply", "handle_call", CallbackKind::HandleCall),
            ("Cast", "handle_cast", CallbackKind::HandleCast),
            ("Info", "handle_info", CallbackKind::HandleInfo),
            ("Continue", "handle_continue", CallbackKind::HandleContinue),
        ] {
            if is_declared(ty) && !has(kind) {
                let span = block.types.iter().find(|t| t.ident == ty).map(|t| &t.ident);
                cx.error(
                    span,
                    format!(
                        "`type {ty}` is declared but there is no `{callback}` to take it; \
                         write `{callback}` or remove the type"
                    ),
                );
            }
        }
    }

    let handlers_ok = check_handlers(block, cx);
    Verdict {
        callbacks_ok,
        handlers_ok,
        has_init,
        inferred,
    }
}

/// The typed form implements traits for the block's type: it must be a plain type that
/// owns its data.
fn check_self_type(block: &Block, cx: &mut Ctxt) {
    if !matches!(*block.item.self_ty, Type::Path(_)) {
        cx.error(
            &block.item.self_ty,
            "#[gen_server] goes on the `impl` block of the server's struct, such as `impl Room { ... }`",
        );
    }
    for param in &block.item.generics.params {
        if let GenericParam::Lifetime(lifetime) = param {
            cx.error(
                lifetime,
                format!(
                    "a GenServer cannot borrow: remove `{}`; a process outlives any borrow, so \
                     own the data or share it with `Arc`",
                    lifetime.lifetime
                ),
            );
        }
    }
}

fn duplicate_callback(callback: &Callback, cx: &mut Ctxt) {
    let name = &callback.f.sig.ident;
    let message = match callback.kind {
        Some(CallbackKind::Init) | Some(CallbackKind::Terminate) | None => {
            format!("a GenServer has one `{name}`: remove this second one")
        }
        Some(_) => format!(
            "a GenServer has one `{name}`: Elixir's clauses of `{name}` become the arms of \
             one `match` on the message, as in `async fn {name}(&mut self, message: Msg) ... \
             {{ match message {{ Msg::A => ..., Msg::B(n) => ... }} }}`, with one enum `Msg` \
             for every kind of message"
        ),
    };
    cx.error(name, message);
}

fn check_callback(
    block: &Block,
    callback: &Callback,
    is_declared: &dyn Fn(&str) -> bool,
    inferred: &mut Inferred,
    cx: &mut Ctxt,
) {
    let f = callback.f;
    let name = f.sig.ident.to_string();
    let Some(kind) = callback.kind else {
        cx.error(
            &f.sig.ident,
            format!(
                "`{name}` is not a GenServer callback{}; the callbacks are {}",
                did_you_mean(&name, &CALLBACKS),
                one_of(&CALLBACKS)
            ),
        );
        return;
    };
    if block.form == Form::Typed
        && matches!(
            kind,
            CallbackKind::HandleCall | CallbackKind::HandleCast | CallbackKind::HandleInfo
        )
    {
        let attribute = match kind {
            CallbackKind::HandleCall => "call",
            CallbackKind::HandleCast => "cast",
            _ => "info",
        };
        cx.error(
            &f.sig.ident,
            format!(
                "in the typed form `{name}` is generated: mark the function of each request \
                 `#[{attribute}]`, as in `#[{attribute}] async fn join(&mut self, user: String)`; \
                 to write `{name}` yourself, put the callbacks in \
                 `#[gen_server] impl GenServer for {} {{ ... }}`",
                block.item.self_ty.to_token_stream()
            ),
        );
        return;
    }
    if !callback.sig.is_async && !callback.sig.returns_impl {
        cx.error(
            f.sig.fn_token,
            format!(
                "`{name}` is an `async fn`: write `async fn {name}(...)`; a callback may wait, \
                 and the runtime awaits it"
            ),
        );
    }
    let sig = &callback.sig;
    match kind {
        CallbackKind::Init => {
            if let Some(receiver) = sig.receiver {
                cx.error(
                    receiver,
                    "`init` builds the server from its start argument and takes no `self`: \
                     `async fn init(args: Args) -> Init<Self>`",
                );
                return;
            }
            match sig.params.as_slice() {
                [arg] => inferred.args = Some((*arg.ty).clone()),
                _ => cx.error(
                    &f.sig.ident,
                    "`init` takes exactly one argument, the start argument: \
                     `async fn init(args: Args) -> Init<Self>` (write `_: ()` when there is none)",
                ),
            }
        }
        CallbackKind::HandleCall => {
            if let Some([request, from]) =
                message_params::<2>(callback, "request: Req, from: ReplyTo<Resp>", cx)
            {
                inferred.call = owned(request, "Call", is_declared, cx);
                inferred.reply = reply_to_argument(from, "ReplyTo");
                if inferred.reply.is_none() && !is_declared("Reply") {
                    cx.error(
                        from,
                        "cannot tell the reply type from this: write the parameter as \
                         `from: ReplyTo<YourReply>`, or declare `type Reply = YourReply;`",
                    );
                }
            }
        }
        CallbackKind::HandleCast => {
            if let Some([message]) = message_params::<1>(callback, "message: Msg", cx) {
                inferred.cast = owned(message, "Cast", is_declared, cx);
            }
        }
        CallbackKind::HandleInfo => {
            if let Some([message]) = message_params::<1>(callback, "message: Msg", cx) {
                inferred.info = owned(message, "Info", is_declared, cx);
            }
        }
        CallbackKind::HandleContinue => {
            if let Some([continuation]) = message_params::<1>(callback, "continuation: Cont", cx) {
                inferred.continuation = owned(continuation, "Continue", is_declared, cx);
            }
        }
        CallbackKind::HandleDown => {
            message_params::<1>(callback, "down: Down", cx);
        }
        CallbackKind::HandleExit => {
            message_params::<2>(callback, "pid: Pid, reason: ExitReason", cx);
        }
        CallbackKind::HandleTimeout => {
            message_params::<0>(callback, "", cx);
        }
        CallbackKind::Terminate => {
            message_params::<1>(callback, "reason: &ExitReason", cx);
        }
    }
}

/// The message parameters after `&mut self`, when the signature is right.
fn message_params<'a, const N: usize>(
    callback: &Callback<'a>,
    shape: &str,
    cx: &mut Ctxt,
) -> Option<[&'a Type; N]> {
    let name = &callback.f.sig.ident;
    let mutable_ref = callback
        .sig
        .receiver
        .is_some_and(|r| matches!(r.kind, ReceiverKind::Reference(_, _, Some(_))));
    let rest: Vec<&Type> = callback.sig.params.iter().map(|p| &*p.ty).collect();
    if !mutable_ref || rest.len() != N {
        cx.error(
            &callback.f.sig,
            if shape.is_empty() {
                format!("`{name}` is written `async fn {name}(&mut self)`")
            } else {
                format!("`{name}` is written `async fn {name}(&mut self, {shape})`")
            },
        );
        return None;
    }
    rest.try_into().ok()
}

/// A message type the block may use as an associated type: it must own its data, and it
/// cannot be the associated type itself.
fn owned(ty: &Type, name: &str, is_declared: &dyn Fn(&str) -> bool, cx: &mut Ctxt) -> Option<Type> {
    if is_declared(name) {
        return None;
    }
    if !owns_its_data(ty, cx) {
        return None;
    }
    if mentions_self(ty.to_token_stream()) {
        cx.error(
            ty,
            format!(
                "write the {} type itself here, or declare `type {name} = ...;` in this block",
                name.to_lowercase()
            ),
        );
        return None;
    }
    Some(ty.clone())
}

/// Messages are moved into the server's task: a borrowed type is an error.
fn owns_its_data(ty: &Type, cx: &mut Ctxt) -> bool {
    if let Type::Reference(reference) = ty
        && reference
            .lifetime
            .as_ref()
            .is_none_or(|l| l.ident != "static")
    {
        cx.error(
            ty,
            "messages are moved into the server, so they must own their data: \
             take an owned type, such as `String` rather than `&str`",
        );
        return false;
    }
    true
}

/// The handlers of the typed form (or handler attributes where they do not belong).
fn check_handlers(block: &Block, cx: &mut Ctxt) -> Vec<bool> {
    let mut names: HashMap<String, ()> = HashMap::new();
    for callback in &block.callbacks {
        names.insert(callback.f.sig.ident.to_string(), ());
    }
    for other in &block.others {
        if let syn::ImplItem::Fn(f) = other {
            names.insert(f.sig.ident.to_string(), ());
        }
    }
    let mut variants: HashMap<(HandlerKind, String), ()> = HashMap::new();
    let mut ok = Vec::new();
    for handler in &block.handlers {
        let before = cx.len();
        if block.form == Form::Callbacks {
            cx.error(
                handler.attr,
                format!(
                    "`#[{}]` marks a request of the typed form, `#[gen_server] impl {} {{ ... }}` \
                     (without `GenServer for`); in `impl GenServer for ...` write the callbacks \
                     `handle_call`, `handle_cast` and `handle_info`",
                    handler.kind.attribute(),
                    block.item.self_ty.to_token_stream()
                ),
            );
            ok.push(false);
            continue;
        }
        check_handler(handler, cx);
        let name = handler.f.sig.ident.to_string();
        if RESERVED.contains(&name.as_str()) {
            cx.error(
                &handler.f.sig.ident,
                format!(
                    "`{name}` is taken by a generated function or callback of the server; \
                     name this request otherwise"
                ),
            );
        } else if names.insert(name.clone(), ()).is_some() {
            cx.error(
                &handler.f.sig.ident,
                format!(
                    "a second function named `{name}`: each request's handler gives its name to \
                     its client function, `{}::{name}(..)`, so names must be unique",
                    self_name(block)
                ),
            );
        } else if variants
            .insert(
                (handler.kind, variant_name(&handler.f.sig.ident.to_string())),
                (),
            )
            .is_some()
        {
            cx.error(
                &handler.f.sig.ident,
                format!(
                    "`{name}` differs from another request only in its underscores; \
                     name it otherwise"
                ),
            );
        }
        ok.push(cx.len() == before);
    }
    ok
}

fn self_name(block: &Block) -> String {
    match &*block.item.self_ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .map_or_else(String::new, |s| s.ident.to_string()),
        other => other.to_token_stream().to_string(),
    }
}

/// `join_room` → `JoinRoom`: the message variant of a handler. A name with nothing but
/// underscores, or one that would make `Self`, gets a prefix to stay a valid variant.
pub(crate) fn variant_name(handler: &str) -> String {
    let name: String = handler
        .trim_start_matches("r#")
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect();
    if name.is_empty() || name == "Self" {
        format!("Request{name}")
    } else {
        name
    }
}

fn check_handler(handler: &Handler, cx: &mut Ctxt) {
    let f = handler.f;
    let name = &f.sig.ident;
    let attribute = handler.kind.attribute();
    if let Some(extra) = handler.extra_attr {
        cx.error(
            extra,
            format!("a function handles one kind of request: it is already `#[{attribute}]`"),
        );
    }
    let sig: &Sig = &handler.sig;
    match sig.receiver.map(|r| &r.kind) {
        Some(ReceiverKind::Reference(..)) => {}
        _ => cx.error(
            &f.sig,
            format!(
                "a request handler takes `&mut self` (or `&self`) first: \
                 `async fn {name}(&mut self, ...)`"
            ),
        ),
    }
    if !f.sig.generics.params.is_empty() {
        cx.error(
            &f.sig.generics,
            "a request handler cannot be generic: its arguments travel to the server in a \
             message of one type",
        );
    }
    for param in handler.message_params() {
        check_message_type(&param.ty, cx);
    }
    if let Some(from) = &handler.from {
        match (&from.answer, handler.kind) {
            (None, HandlerKind::Call) => cx.error(
                &from.param.ty,
                "a `#[call]` that answers later takes `from: TypedReplyTo<Answer>`, typed by its \
                 answer; `ReplyTo` belongs to `handle_call` in `impl GenServer for ...`",
            ),
            (_, HandlerKind::Cast | HandlerKind::Info) => cx.error(
                &from.param.ty,
                format!(
                    "a `#[{attribute}]` has no caller to answer; make it a `#[call]` to answer"
                ),
            ),
            (Some(answer), HandlerKind::Call) => check_message_type(answer, cx),
        }
    }
    let answers_later = handler.from.is_some() || handler.kind != HandlerKind::Call;
    match &f.sig.output {
        ReturnType::Default => {}
        ReturnType::Type(_, ty) if answers_later => {
            if reply_to_argument(ty, "NoReply").is_none() {
                let what = match handler.kind {
                    HandlerKind::Call => "a `#[call]` that answers through `from`".to_string(),
                    _ => format!("a `#[{attribute}]` handler"),
                };
                cx.error(
                    ty,
                    format!(
                        "{what} returns nothing, or `NoReply<Self>` to continue or stop the server"
                    ),
                );
            }
        }
        ReturnType::Type(_, ty) => {
            if reply_to_argument(ty, "NoReply").is_some() {
                cx.error(
                    ty,
                    "a `#[call]` returns its answer; to answer later (or stop without one), \
                     take `from: TypedReplyTo<Answer>` as the last argument and return \
                     nothing or `NoReply<Self>`",
                );
            } else {
                check_message_type(ty, cx);
            }
        }
    }
}

/// A type that travels in a message: owned, named without `Self`, not `impl Trait`.
fn check_message_type(ty: &Type, cx: &mut Ctxt) {
    if !owns_its_data(ty, cx) {
        return;
    }
    if let Type::ImplTrait(_) = ty {
        cx.error(
            ty,
            "a request's arguments and answer travel in a message, so their types are named: \
             write a concrete type instead of `impl ...`",
        );
        return;
    }
    if mentions_self(ty.to_token_stream()) {
        cx.error(
            ty,
            "a request's arguments and answer travel in a message type of their own, where \
             `Self` means nothing: name the type itself",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::variant_name;

    #[test]
    fn handler_names_become_variants() {
        assert_eq!(variant_name("join"), "Join");
        assert_eq!(variant_name("join_room"), "JoinRoom");
        assert_eq!(variant_name("r#move"), "Move");
        assert_eq!(variant_name("a__b"), "AB");
        assert_eq!(variant_name("__"), "Request");
        assert_eq!(variant_name("self_"), "RequestSelf");
    }
}
