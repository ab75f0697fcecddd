//! `#[gen_server]` on `impl GenServer for T { ... }`: the callbacks block.
//!
//! Elixir modules declare no message types; their callbacks say it all. So does this block:
//! every associated type it leaves out is read off the callback that takes it, and a kind
//! of message with no callback gets `Never`.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{
    FnArg, GenericArgument, ImplItem, ImplItemFn, ItemImpl, Path, PathArguments, ReceiverKind, Type,
};

use crate::ctxt::Ctxt;
use crate::suggest::{did_you_mean, one_of};

pub(crate) const CALLBACKS: [&str; 6] = [
    "init",
    "handle_call",
    "handle_cast",
    "handle_info",
    "handle_continue",
    "terminate",
];

const TYPES: [&str; 6] = ["Args", "Call", "Reply", "Cast", "Info", "Continue"];

/// What each associated type is, once known.
#[derive(Default)]
struct Types {
    args: Option<Type>,
    call: Option<Type>,
    reply: Option<Type>,
    cast: Option<Type>,
    info: Option<Type>,
    continuation: Option<Type>,
}

/// Checks the block and fills in the associated types it does not declare.
pub(crate) fn complete(block: &mut ItemImpl, krate: &Path, cx: &mut Ctxt) {
    match &block.trait_ {
        None => {
            cx.error(
                &block.self_ty,
                "#[gen_server] goes on the struct, or on its `impl GenServer for ... { ... }` \
                 block; this is an inherent impl",
            );
            return;
        }
        Some((path, _)) if path.segments.last().is_none_or(|s| s.ident != "GenServer") => {
            cx.error(
                path,
                "#[gen_server] goes on `impl GenServer for ...`, not on an impl of another trait",
            );
            return;
        }
        Some(_) => {}
    }

    let mut declared: Vec<String> = Vec::new();
    for item in &block.items {
        if let ImplItem::Type(ty) = item {
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
            declared.push(name);
        }
    }
    let is_declared = |name: &str| declared.iter().any(|d| d == name);

    let mut inferred = Types::default();
    let mut callbacks: Vec<String> = Vec::new();
    // Callbacks we reported an error about are left out of the expansion, so rustc does not
    // report the same mistake a second time in its own words.
    let mut rejected: Vec<String> = Vec::new();
    for item in &block.items {
        let ImplItem::Fn(f) = item else { continue };
        let name = f.sig.ident.to_string();
        let errors_before = cx.len();
        match name.as_str() {
            "init" => inferred.args = init_args(f, cx),
            "handle_call" => {
                if let Some([request, from]) =
                    message_params::<2>(f, "request: Req, from: ReplyTo<Resp>", cx)
                {
                    inferred.call = owned(request, "Call", &is_declared, cx);
                    inferred.reply = reply_type(from);
                    if inferred.reply.is_none() && !is_declared("Reply") {
                        cx.error(
                            from,
                            "cannot tell the reply type from this: write the parameter as \
                             `from: ReplyTo<YourReply>`, or declare `type Reply = YourReply;`",
                        );
                    }
                }
            }
            "handle_cast" => {
                if let Some([message]) = message_params::<1>(f, "message: Msg", cx) {
                    inferred.cast = owned(message, "Cast", &is_declared, cx);
                }
            }
            "handle_info" => {
                if let Some([message]) = message_params::<1>(f, "message: Msg", cx) {
                    inferred.info = owned(message, "Info", &is_declared, cx);
                }
            }
            "handle_continue" => {
                if let Some([continuation]) = message_params::<1>(f, "continuation: Cont", cx) {
                    inferred.continuation = owned(continuation, "Continue", &is_declared, cx);
                }
            }
            "terminate" => {
                message_params::<1>(f, "reason: &ExitReason", cx);
            }
            _ => cx.error(
                &f.sig.ident,
                format!(
                    "`{name}` is not a GenServer callback{}; the callbacks are {}",
                    did_you_mean(&name, &CALLBACKS),
                    one_of(&CALLBACKS)
                ),
            ),
        }
        if cx.len() > errors_before {
            rejected.push(name.clone());
        }
        callbacks.push(name);
    }
    let has = |name: &str| callbacks.iter().any(|c| c == name);
    block.items.retain(|item| match item {
        ImplItem::Fn(f) => !rejected.contains(&f.sig.ident.to_string()),
        _ => true,
    });
    if !has("init") || rejected.iter().any(|r| r == "init") {
        // A stand-in, so the missing `init` is reported once, by us.
        block.items.push(syn::parse_quote! {
            #[allow(unreachable_code)]
            fn init(
                _: Self::Args,
            ) -> impl ::core::future::Future<Output = #krate::__private::Init<Self>> + ::core::marker::Send {
                async {
                    let missing: #krate::__private::Init<Self> = ::core::unreachable!();
                    missing
                }
            }
        });
        if !is_declared("Args") && inferred.args.is_none() {
            inferred.args = Some(syn::parse_quote!(()));
        }
    }

    if !has("init") {
        cx.error(
            &block.self_ty,
            "missing `init`: every GenServer builds its state in \
             `async fn init(args: Args) -> Init<Self> { ... }`",
        );
    }
    for (ty, callback) in [
        ("Call", "handle_call"),
        ("Reply", "handle_call"),
        ("Cast", "handle_cast"),
        ("Info", "handle_info"),
        ("Continue", "handle_continue"),
    ] {
        if is_declared(ty) && !has(callback) {
            let span = block.items.iter().find_map(|item| match item {
                ImplItem::Type(t) if t.ident == ty => Some(t.ident.clone()),
                _ => None,
            });
            cx.error(
                span,
                format!(
                    "`type {ty}` is declared but there is no `{callback}` to take it; \
                     write `{callback}` or remove the type"
                ),
            );
        }
    }

    let never = quote!(#krate::__private::Never);
    let mut fill = |name: &str, ty: Option<Type>| {
        if is_declared(name) {
            return;
        }
        let ident = syn::Ident::new(name, proc_macro2::Span::call_site());
        let ty = ty.map_or_else(|| never.clone(), |ty| ty.into_token_stream());
        block.items.insert(0, syn::parse_quote!(type #ident = #ty;));
    };
    fill("Continue", inferred.continuation);
    fill("Info", inferred.info);
    fill("Cast", inferred.cast);
    fill("Reply", inferred.reply);
    fill("Call", inferred.call);
    if let Some(args) = inferred.args {
        fill("Args", Some(args));
    }
}

fn init_args(f: &ImplItemFn, cx: &mut Ctxt) -> Option<Type> {
    let inputs = &f.sig.inputs;
    if let Some(FnArg::Receiver(receiver)) = inputs.first() {
        cx.error(
            receiver,
            "`init` builds the server from its start argument and takes no `self`: \
             `async fn init(args: Args) -> Init<Self>`",
        );
        return None;
    }
    match inputs.iter().collect::<Vec<_>>().as_slice() {
        [FnArg::Typed(arg)] => Some((*arg.ty).clone()),
        _ => {
            cx.error(
                &f.sig.ident,
                "`init` takes exactly one argument, the start argument: \
                 `async fn init(args: Args) -> Init<Self>` (write `_: ()` when there is none)",
            );
            None
        }
    }
}

/// The message parameters after `&mut self`, when the signature is right.
fn message_params<'a, const N: usize>(
    f: &'a ImplItemFn,
    shape: &str,
    cx: &mut Ctxt,
) -> Option<[&'a Type; N]> {
    let name = &f.sig.ident;
    let mut inputs = f.sig.inputs.iter();
    let mutable_ref = match inputs.next() {
        Some(FnArg::Receiver(receiver)) => {
            matches!(receiver.kind, ReceiverKind::Reference(_, _, Some(_)))
        }
        _ => false,
    };
    let rest: Vec<&Type> = inputs
        .filter_map(|arg| match arg {
            FnArg::Typed(arg) => Some(&*arg.ty),
            FnArg::Receiver(_) => None,
        })
        .collect();
    if !mutable_ref || rest.len() != N {
        cx.error(
            &f.sig,
            format!("`{name}` is written `async fn {name}(&mut self, {shape})`"),
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

fn mentions_self(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tree| match tree {
        proc_macro2::TokenTree::Ident(ident) => ident == "Self",
        proc_macro2::TokenTree::Group(group) => mentions_self(group.stream()),
        _ => false,
    })
}

/// `R` in `ReplyTo<R>` (however the path to `ReplyTo` is written).
fn reply_type(from: &Type) -> Option<Type> {
    let Type::Path(path) = from else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "ReplyTo" {
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
