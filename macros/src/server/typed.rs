//! What the typed form, `#[gen_server(..)] impl Room { .. }`, generates.
//!
//! For `#[call] async fn join(&mut self, user: String) -> Vec<String>`:
//!
//! - a variant `Join(String)` of the server's call enum and `Join(Vec<String>)` of its
//!   reply enum (enums the user never names: they live in an anonymous `const` block);
//! - an arm of `handle_call` that runs the handler, renamed `__bough_call_join`, and
//!   answers with its result;
//! - the client function `Room::join(server, user) -> Result<Vec<String>, CallError>`,
//!   which calls and unwraps the reply. A reply of another variant cannot come from the
//!   generated `handle_call`; the client maps it to `CallError::NoReply` rather than
//!   panicking. A server with a `name` gets `Room::join(user)`, which goes by the name.
//!
//! Casts and infos work the same way, without a reply. `init`, `handle_continue` and
//! `terminate` move into the generated `impl GenServer`; the block's other items stay in
//! an inherent `impl`, as written.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{GenericParam, Ident, ImplItem, ImplItemFn, LitStr, Pat, ReturnType, Type, Visibility};

use super::expand::{child_impls, restartable_assertion};
use super::options::Options;
use super::parse::{Block, CallTimeout, CallbackKind, Handler, HandlerKind};
use super::validate::{Verdict, variant_name};

pub(crate) fn typed(block: &Block, verdict: &Verdict, options: &Options) -> TokenStream {
    let item = block.item;
    let self_ty = &item.self_ty;
    let generics = &item.generics;
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    let handlers: Vec<&Handler> = block
        .handlers
        .iter()
        .zip(&verdict.handlers_ok)
        .filter(|(_, ok)| **ok)
        .map(|(handler, _)| handler)
        .collect();

    // The server's own items, and the handlers under their new names.
    let others = block.others.iter().map(|other| (*other).clone());
    let renamed = handlers
        .iter()
        .map(|handler| ImplItem::Fn(renamed(handler)));
    let attrs = &item.attrs;
    let inherent = quote! {
        #(#attrs)*
        impl #impl_generics #self_ty #where_clause {
            #(#others)*
            #(#renamed)*
        }
    };
    let plain_type = matches!(**self_ty, Type::Path(_))
        && !generics
            .params
            .iter()
            .any(|p| matches!(p, GenericParam::Lifetime(_)));
    if !verdict.has_init || !plain_type {
        // Validation said why; generating a GenServer would only add errors to its own.
        return inherent;
    }

    let krate = options.krate();
    let private = quote!(#krate::__private);
    let never = quote!(#private::Never);
    let (_, ty_generics, _) = generics.split_for_impl();
    let type_params: Vec<&Ident> = generics
        .params
        .iter()
        .filter_map(|p| match p {
            GenericParam::Type(t) => Some(&t.ident),
            _ => None,
        })
        .collect();

    let kinds = [HandlerKind::Call, HandlerKind::Cast, HandlerKind::Info];
    let of_kind = |kind: HandlerKind| -> Vec<&Handler> {
        handlers
            .iter()
            .copied()
            .filter(|h| h.kind == kind)
            .collect()
    };
    let enum_ident = |what: &str| format_ident!("__Bough{}", what);
    let enum_decl = |ident: &Ident, variants: Vec<TokenStream>| -> TokenStream {
        let phantom = (!type_params.is_empty()).then(|| {
            quote! {
                #[doc(hidden)]
                __Phantom(#never, ::core::marker::PhantomData<fn() -> (#(#type_params,)*)>),
            }
        });
        quote! {
            #[doc(hidden)]
            pub enum #ident #generics #where_clause {
                #(#variants,)*
                #phantom
            }
        }
    };

    let mut decls = Vec::new();
    let mut assoc = Vec::new();
    for kind in kinds {
        let list = of_kind(kind);
        let (name, what) = match kind {
            HandlerKind::Call => ("Call", "Call"),
            HandlerKind::Cast => ("Cast", "Cast"),
            HandlerKind::Info => ("Info", "Info"),
        };
        let assoc_ident = Ident::new(name, Span::call_site());
        if list.is_empty() {
            assoc.push(quote!(type #assoc_ident = #never;));
            if kind == HandlerKind::Call {
                assoc.push(quote!(type Reply = #never;));
            }
            continue;
        }
        let ident = enum_ident(what);
        let variants = list
            .iter()
            .map(|h| {
                let variant = variant(h);
                let types = h.message_params().iter().map(|p| &p.ty);
                if h.message_params().is_empty() {
                    quote!(#variant)
                } else {
                    quote!(#variant(#(#types),*))
                }
            })
            .collect();
        decls.push(enum_decl(&ident, variants));
        assoc.push(quote!(type #assoc_ident = #ident #ty_generics;));
        if kind == HandlerKind::Call {
            let reply = enum_ident("Reply");
            let variants = list
                .iter()
                .map(|h| {
                    let variant = variant(h);
                    let answer = h.answer().map(ToTokens::into_token_stream);
                    quote!(#variant(#answer))
                })
                .collect();
            decls.push(enum_decl(&reply, variants));
            assoc.push(quote!(type Reply = #reply #ty_generics;));
        }
    }

    // `init`, `handle_continue` and `terminate`, as written.
    let mut callbacks = Vec::new();
    let mut args: Option<Type> = verdict.inferred.args.clone();
    let mut init_ok = false;
    for (callback, ok) in block.callbacks.iter().zip(&verdict.callbacks_ok) {
        if !*ok {
            continue;
        }
        if callback.kind == Some(CallbackKind::Init) {
            init_ok = true;
        }
        let mut f = callback.f.clone();
        f.vis = Visibility::Inherited;
        callbacks.push(f);
    }
    if !init_ok {
        callbacks.push(syn::parse_quote! {
            #[allow(unreachable_code)]
            fn init(
                _: Self::Args,
            ) -> impl ::core::future::Future<Output = #private::Init<Self>> + ::core::marker::Send {
                async {
                    let missing: #private::Init<Self> = ::core::unreachable!();
                    missing
                }
            }
        });
        args.get_or_insert_with(|| syn::parse_quote!(()));
    }
    let args = args.unwrap_or_else(|| syn::parse_quote!(()));
    let continuation = verdict
        .inferred
        .continuation
        .as_ref()
        .map_or_else(|| never.clone(), ToTokens::to_token_stream);

    let dispatch = kinds
        .iter()
        .filter_map(|kind| dispatcher(*kind, &of_kind(*kind), !type_params.is_empty(), &private));
    let clients = handlers.iter().map(|h| {
        client(
            h,
            options.name.get(),
            &of_kind(h.kind),
            !type_params.is_empty(),
            &private,
        )
    });
    let children = child_impls(
        &self_ty.to_token_stream(),
        generics,
        options,
        self_ty.span(),
    );
    let assertion = restartable_assertion(&args, generics, &krate);

    quote! {
        #inherent

        const _: () = {
            #(#decls)*

            #[automatically_derived]
            impl #impl_generics #private::GenServer for #self_ty #where_clause {
                type Args = #args;
                #(#assoc)*
                type Continue = #continuation;

                #(#callbacks)*
                #(#dispatch)*
            }

            impl #impl_generics #self_ty #where_clause {
                #(#clients)*
            }

            #children
        };

        #assertion
    }
}

fn variant(handler: &Handler) -> Ident {
    let ident = &handler.f.sig.ident;
    Ident::new(&variant_name(&ident.to_string()), ident.span())
}

fn renamed_ident(handler: &Handler) -> Ident {
    let ident = &handler.f.sig.ident;
    let name = ident.to_string();
    format_ident!(
        "__bough_{}_{}",
        handler.kind.attribute(),
        name.trim_start_matches("r#"),
        span = ident.span()
    )
}

/// The handler as a private method under a name of its own, so that its own name is free
/// for the client function.
fn renamed(handler: &Handler) -> ImplItemFn {
    let mut f = handler.f.clone();
    f.attrs
        .retain(|attr| !matches!(attr.path().get_ident(), Some(i) if i == "call" || i == "cast" || i == "info"));
    f.attrs.retain(|attr| !attr.path().is_ident("doc"));
    f.attrs.push(syn::parse_quote!(#[doc(hidden)]));
    f.vis = Visibility::Inherited;
    f.sig.ident = renamed_ident(handler);
    f
}

/// Bindings for a handler's message arguments: `__bough_0, __bough_1, ..`.
fn bindings(handler: &Handler) -> Vec<Ident> {
    (0..handler.message_params().len())
        .map(|i| format_ident!("__bough_{}", i))
        .collect()
}

/// `handle_call`, `handle_cast` or `handle_info`: one arm per handler.
fn dispatcher(
    kind: HandlerKind,
    handlers: &[&Handler],
    generic: bool,
    private: &TokenStream,
) -> Option<TokenStream> {
    if handlers.is_empty() {
        return None;
    }
    let what = match kind {
        HandlerKind::Call => "Call",
        HandlerKind::Cast => "Cast",
        HandlerKind::Info => "Info",
    };
    let message_enum = format_ident!("__Bough{}", what);
    let reply_enum = format_ident!("__BoughReply");
    let arms = handlers.iter().map(|h| {
        let variant = variant(h);
        let method = renamed_ident(h);
        let bound = bindings(h);
        let pattern = if bound.is_empty() {
            quote!(#message_enum::#variant)
        } else {
            quote!(#message_enum::#variant(#(#bound),*))
        };
        let mut call_args: Vec<TokenStream> = bound.iter().map(ToTokens::to_token_stream).collect();
        if h.from.is_some() {
            call_args.push(quote!(#private::typed_reply_to(__bough_from, #reply_enum::#variant)));
        }
        let awaited = if h.sig.is_async {
            quote!(.await)
        } else {
            TokenStream::new()
        };
        let run = quote!(self.#method(#(#call_args),*) #awaited);
        let result_span = match &h.f.sig.output {
            ReturnType::Type(_, ty) => ty.span(),
            ReturnType::Default => h.f.sig.ident.span(),
        };
        let body = match (kind, h.from.is_some()) {
            (HandlerKind::Call, false) => {
                quote!(#private::Reply::Reply(#reply_enum::#variant(#run)))
            }
            (HandlerKind::Call, true) => {
                quote_spanned!(result_span=> #private::HandlerResult::<Self>::into_reply(#run))
            }
            _ => quote_spanned!(result_span=> #private::HandlerResult::<Self>::into_no_reply(#run)),
        };
        quote!(#pattern => #body,)
    });
    let phantom = generic
        .then(|| quote!(#message_enum::__Phantom(__bough_never, _) => match __bough_never {},));
    Some(match kind {
        HandlerKind::Call => {
            let from = if handlers.iter().any(|h| h.from.is_some()) {
                quote!(__bough_from)
            } else {
                quote!(_)
            };
            quote! {
                async fn handle_call(
                    &mut self,
                    __bough_request: Self::Call,
                    #from: #private::ReplyTo<Self::Reply>,
                ) -> #private::Reply<Self> {
                    match __bough_request {
                        #(#arms)*
                        #phantom
                    }
                }
            }
        }
        HandlerKind::Cast => quote! {
            async fn handle_cast(&mut self, __bough_message: Self::Cast) -> #private::NoReply<Self> {
                match __bough_message {
                    #(#arms)*
                    #phantom
                }
            }
        },
        HandlerKind::Info => quote! {
            async fn handle_info(&mut self, __bough_message: Self::Info) -> #private::NoReply<Self> {
                match __bough_message {
                    #(#arms)*
                    #phantom
                }
            }
        },
    })
}

/// The client function of one handler: `Room::join(server, user)`, or `Stats::get()` for
/// a server with a name.
fn client(
    handler: &Handler,
    name: Option<&LitStr>,
    same_kind: &[&Handler],
    generic: bool,
    private: &TokenStream,
) -> TokenStream {
    let f = handler.f;
    let ident = &f.sig.ident;
    let vis = &f.vis;
    let docs = f.attrs.iter().filter(|attr| attr.path().is_ident("doc"));
    let params = handler.message_params();
    let mut idents: Vec<Ident> = params
        .iter()
        .enumerate()
        .map(|(i, param)| match &*param.pat {
            Pat::Ident(pat) if pat.subpat.is_none() && pat.ident != "self" => pat.ident.clone(),
            _ => format_ident!("arg{}", i),
        })
        .collect();
    // Two parameters may bind the same name through patterns; keep them apart.
    for i in 0..idents.len() {
        if idents[..i].contains(&idents[i]) {
            idents[i] = format_ident!("arg{}", i);
        }
    }
    let dest_ident = if idents.iter().any(|i| i == "server") {
        format_ident!("__bough_server")
    } else {
        format_ident!("server")
    };
    let types = params.iter().map(|p| &p.ty);
    let (lifetime, dest_param, dest) = match name {
        Some(name) => (TokenStream::new(), TokenStream::new(), quote!(#name)),
        None => (
            quote!(<'__bough>),
            quote!(#dest_ident: impl ::core::convert::Into<#private::Dest<'__bough, Self>>,),
            quote!(#dest_ident),
        ),
    };
    let what = match handler.kind {
        HandlerKind::Call => "Call",
        HandlerKind::Cast => "Cast",
        HandlerKind::Info => "Info",
    };
    let message_enum = format_ident!("__Bough{}", what);
    let variant = variant(handler);
    let message = if idents.is_empty() {
        quote!(#message_enum::#variant)
    } else {
        quote!(#message_enum::#variant(#(#idents),*))
    };
    let signature_params = quote!(#dest_param #(#idents: #types),*);
    match handler.kind {
        HandlerKind::Call => {
            let answer = handler.answer();
            let send = match handler.timeout {
                None => quote!(#private::call::<Self>(#dest, #message)),
                Some(CallTimeout::Millis(ms)) => quote!(
                    #private::call_timeout::<Self>(
                        #dest,
                        #message,
                        ::core::time::Duration::from_millis(#ms),
                    )
                ),
                Some(CallTimeout::Infinity) => quote!(
                    #private::call_timeout::<Self>(#dest, #message, #private::Timeout::Infinity)
                ),
            };
            // With one variant (and no phantom one), the match is already complete.
            let other = (same_kind.len() > 1 || generic).then(|| {
                quote! {
                    ::core::result::Result::Ok(_) => {
                        ::core::result::Result::Err(#private::CallError::NoReply)
                    }
                }
            });
            quote! {
                #(#docs)*
                #[allow(dead_code)]
                #vis async fn #ident #lifetime(#signature_params)
                    -> ::core::result::Result<#answer, #private::CallError>
                {
                    match #send.await {
                        ::core::result::Result::Ok(__BoughReply::#variant(__bough_answer)) => {
                            ::core::result::Result::Ok(__bough_answer)
                        }
                        #other
                        ::core::result::Result::Err(__bough_error) => {
                            ::core::result::Result::Err(__bough_error)
                        }
                    }
                }
            }
        }
        HandlerKind::Cast => quote! {
            #(#docs)*
            #[allow(dead_code)]
            #vis fn #ident #lifetime(#signature_params) {
                #private::cast::<Self>(#dest, #message)
            }
        },
        HandlerKind::Info => quote! {
            #(#docs)*
            #[allow(dead_code)]
            #vis fn #ident #lifetime(#signature_params) {
                #private::send::<Self>(#dest, #message)
            }
        },
    }
}
