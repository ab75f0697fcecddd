//! What `supervisor!` generates: a unit struct, its `SupervisorModule` or
//! `DynamicSupervisorModule` impl (name and `init`), and its `Child` impl.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Path;
use syn::spanned::Spanned;

use super::parse::{ChildEntry, Strategy, Supervisor};
use crate::server::{restart_builder, shutdown_builder};

pub(crate) fn supervisor(sup: &Supervisor) -> TokenStream {
    let krate: Path = sup
        .krate
        .get()
        .cloned()
        .unwrap_or_else(|| syn::parse_quote!(::bough));
    let private = quote!(#krate::__private);
    let attrs = &sup.attrs;
    let vis = &sup.vis;
    let ident = &sup.ident;
    let name = match sup.name.get() {
        Some(name) => quote!(#name),
        None => quote!(::core::concat!(
            ::core::module_path!(),
            "::",
            ::core::stringify!(#ident)
        )),
    };

    let module = if sup.dynamic {
        let mut options = vec![quote!(#private::DynamicSupervisorOptions::new())];
        options.extend(sup.max_restarts.get().map(|n| quote!(.max_restarts(#n))));
        options.extend(sup.max_seconds.get().map(|n| quote!(.max_seconds(#n))));
        options.extend(sup.max_children.get().map(|n| quote!(.max_children(#n))));
        options.extend(
            sup.extra_arguments
                .get()
                .map(|e| quote!(.extra_arguments(#e))),
        );
        quote! {
            #[automatically_derived]
            #[allow(unused_qualifications)]
            impl #private::DynamicSupervisorModule for #ident {
                fn name() -> #private::Name {
                    #private::Name::local(#name)
                }

                fn init() -> #private::DynamicSupervisorOptions {
                    #(#options)*
                }
            }
        }
    } else {
        let strategy = sup.strategy.get().map_or(Strategy::OneForOne, |(_, s)| *s);
        let strategy = syn::Ident::new(strategy.variant(), proc_macro2::Span::call_site());
        let mut options =
            vec![quote!(#private::SupervisorOptions::new(#private::Strategy::#strategy))];
        options.extend(sup.max_restarts.get().map(|n| quote!(.max_restarts(#n))));
        options.extend(sup.max_seconds.get().map(|n| quote!(.max_seconds(#n))));
        let children = sup
            .children
            .get()
            .into_iter()
            .flatten()
            .map(|c| child(c, &krate));
        quote! {
            #[automatically_derived]
            #[allow(unused_qualifications)]
            impl #private::SupervisorModule for #ident {
                fn name() -> #private::Name {
                    #private::Name::local(#name)
                }

                fn init() -> (
                    ::std::vec::Vec<#private::ChildSpec>,
                    #private::SupervisorOptions,
                ) {
                    (::std::vec![#(#children),*], #(#options)*)
                }
            }
        }
    };
    let spec = if sup.dynamic {
        quote!(#private::dynamic_supervisor_module_spec::<Self>())
    } else {
        quote!(#private::supervisor_module_spec::<Self>())
    };

    quote! {
        #(#attrs)*
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::marker::Copy)]
        #vis struct #ident;

        #module

        #[automatically_derived]
        #[allow(unused_qualifications)]
        impl #private::Child for #ident {
            type Arg = ();

            fn child_spec(_: ()) -> #private::ChildSpec {
                #spec
            }
        }
    }
}

/// One child: `Type::child_spec(arg)`, or the argument-less form for a bare type, with its
/// overrides. Spanned at the type, so "not a child" and "needs an argument" point at it.
fn child(child: &ChildEntry, krate: &Path) -> TokenStream {
    let private = quote!(#krate::__private);
    let ty = &child.ty;
    let mut spec = match &child.arg {
        None => quote_spanned!(ty.span()=>
            <#ty as #private::Child>::child_spec(
                <<#ty as #private::Child>::Arg as #private::NoArgument>::none()
            )
        ),
        Some(arg) => quote_spanned!(ty.span()=> <#ty as #private::Child>::child_spec(#arg)),
    };
    if let Some(restart) = child.restart.get() {
        spec.extend(restart_builder(*restart, krate));
    }
    if let Some(shutdown) = child.shutdown.get() {
        spec.extend(shutdown_builder(*shutdown, krate));
    }
    if let Some(id) = child.id.get() {
        spec.extend(quote!(.id(#id)));
    }
    spec
}
