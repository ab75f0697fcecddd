//! What `#[gen_server]` generates for a struct (`Child`, the child spec, and
//! `GenServerModule`, `start_link`, each option one builder call into the core) and for the
//! callbacks form (the user's `impl GenServer` with the associated types it left out).

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Generics, ImplItem, ItemImpl, ItemStruct, Path, Type};

use super::options::Options;
use super::parse::{Block, CallbackKind, mentions_any, mentions_self};
use super::validate::Verdict;
use crate::shared::{restart_builder, shutdown_builder};

/// `#[gen_server]` on a struct.
pub(crate) fn server_struct(item: &ItemStruct, options: &Options) -> TokenStream {
    let ident = &item.ident;
    let (_, ty_generics, _) = item.generics.split_for_impl();
    let impls = child_impls(
        &quote!(#ident #ty_generics),
        &item.generics,
        options,
        ident.span(),
    );
    quote!(#item #impls)
}

/// `Child` and `GenServerModule` for the server `self_ty`, with `generics`; `span` is where
/// "not a GenServer" errors point.
pub(crate) fn child_impls(
    self_ty: &TokenStream,
    generics: &Generics,
    options: &Options,
    span: Span,
) -> TokenStream {
    let krate = options.krate();
    let private = quote!(#krate::__private);
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    let mut predicates: Vec<TokenStream> = where_clause
        .map(|w| w.predicates.iter().map(ToTokens::to_token_stream).collect())
        .unwrap_or_default();
    predicates.push(quote_spanned!(span=> Self: #private::GenServer));
    // Behind a `for<'_>`, the bound is checked where the child spec is used rather than
    // here, where rustc would report it as a bare `Clone` bound; the impl block asserts it
    // with our own message, pointing at the argument's type.
    predicates.push(quote_spanned!(span=>
        for<'__bough> <Self as #private::GenServer>::Args: #private::RestartableArgs
    ));

    let mut builders = Vec::new();
    if let Some(id) = options.id.get() {
        builders.push(quote!(.id(#id)));
    }
    if let Some(restart) = options.restart.get() {
        builders.push(restart_builder(*restart, &krate));
    }
    if let Some(shutdown) = options.shutdown.get() {
        builders.push(shutdown_builder(*shutdown, &krate));
    }
    if let Some(name) = options.name.get() {
        builders.push(quote!(.name(#name)));
    }
    let name_fn = options.name.get().map(|name| {
        quote! {
            fn name() -> ::core::option::Option<#private::Name> {
                ::core::option::Option::Some(#private::Name::local(#name))
            }
        }
    });

    quote! {
        #[automatically_derived]
        impl #impl_generics #private::Child for #self_ty
        where
            #(#predicates,)*
        {
            type Arg = <Self as #private::GenServer>::Args;

            fn child_spec(arg: Self::Arg) -> #private::ChildSpec {
                #private::ChildSpec::worker::<Self>(arg) #(#builders)*
            }
        }

        #[automatically_derived]
        impl #impl_generics #private::GenServerModule for #self_ty
        where
            #(#predicates,)*
        {
            #name_fn
        }
    }
}

/// Asserts, with an error at `ty`, that a server's start argument can be cloned for
/// restarts. Skipped when the type depends on the block's generics or on `Self`: there the
/// `Child` impl's own bound decides, at each use.
pub(crate) fn restartable_assertion(ty: &Type, generics: &Generics, krate: &Path) -> TokenStream {
    let params: Vec<syn::Ident> = generics
        .params
        .iter()
        .filter_map(|param| match param {
            syn::GenericParam::Type(t) => Some(t.ident.clone()),
            syn::GenericParam::Const(c) => Some(c.ident.clone()),
            _ => None,
        })
        .collect();
    let tokens = ty.to_token_stream();
    if mentions_self(tokens.clone()) || mentions_any(tokens, &params) {
        return TokenStream::new();
    }
    let check = quote_spanned!(ty.span()=> #krate::__private::assert_restartable::<#ty>());
    quote! {
        const _: () = #check;
    }
}

/// The callbacks form: the user's block, with the associated types it left out filled in
/// and the callbacks that failed validation left out (so rustc does not report them a
/// second time). Without an `init` nothing is generated: the block is most likely the
/// second half of callbacks split over two blocks, and a second `impl GenServer` would
/// only add a conflicting-impls error to ours.
pub(crate) fn callbacks(block: &Block, verdict: &Verdict, krate: &Path) -> TokenStream {
    if !verdict.has_init {
        return TokenStream::new();
    }
    let mut item: ItemImpl = block.item.clone();
    let declared: Vec<String> = block.types.iter().map(|t| t.ident.to_string()).collect();
    let is_declared = |name: &str| declared.iter().any(|d| d == name);
    // Handlers are the typed form's, reported as misplaced here.
    let rejected: Vec<&syn::ImplItemFn> = block
        .callbacks
        .iter()
        .zip(&verdict.callbacks_ok)
        .filter(|(_, ok)| !**ok)
        .map(|(callback, _)| callback.f)
        .chain(block.handlers.iter().map(|handler| handler.f))
        .collect();
    item.items = block
        .item
        .items
        .iter()
        .filter(|impl_item| match impl_item {
            ImplItem::Fn(f) => !rejected.iter().any(|r| std::ptr::eq(*r, f)),
            _ => true,
        })
        .cloned()
        .collect();
    let init_ok = block
        .callbacks
        .iter()
        .zip(&verdict.callbacks_ok)
        .any(|(c, ok)| *ok && c.kind == Some(CallbackKind::Init));
    let inferred = &verdict.inferred;
    let mut args = inferred.args.clone();
    if !init_ok {
        // A stand-in, so the broken `init` is reported once, by us.
        item.items.push(syn::parse_quote! {
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
        if !is_declared("Args") && args.is_none() {
            args = Some(syn::parse_quote!(()));
        }
    }

    let assertion = block
        .types
        .iter()
        .find(|t| t.ident == "Args")
        .map(|t| &t.ty)
        .or(args.as_ref())
        .map(|ty| restartable_assertion(ty, &block.item.generics, krate));

    let never = quote!(#krate::__private::Never);
    let mut fill = |name: &str, ty: Option<&Type>| {
        if is_declared(name) {
            return;
        }
        let ident = syn::Ident::new(name, Span::call_site());
        let ty = ty.map_or_else(|| never.clone(), ToTokens::to_token_stream);
        item.items.insert(0, syn::parse_quote!(type #ident = #ty;));
    };
    fill("Continue", inferred.continuation.as_ref());
    fill("Info", inferred.info.as_ref());
    fill("Cast", inferred.cast.as_ref());
    fill("Reply", inferred.reply.as_ref());
    fill("Call", inferred.call.as_ref());
    if let Some(args) = &args {
        fill("Args", Some(args));
    }
    quote!(#item #assertion)
}
