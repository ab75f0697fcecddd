//! What `supervisor!` generates: a unit struct, its `SupervisorModule`,
//! `DynamicSupervisorModule` or `PartitionSupervisorModule` impl (name and `init`), its
//! `Child` impl and its `start_link` (`StartLink`, or `StartLinkArg` for a supervisor with
//! an argument).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Path;
use syn::spanned::Spanned;

use super::parse::{ChildEntry, Strategy, Supervisor};
use crate::shared::{default_crate, restart_builder, shutdown_builder};

pub(crate) fn supervisor(sup: &Supervisor) -> TokenStream {
    let krate = default_crate(sup.krate.get());
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
    // `init`'s parameter and the argument's type; `_: ()` without one.
    let (param, arg_ty) = match &sup.arg {
        Some(arg) => {
            let (pat, ty) = (&arg.pat, &arg.ty);
            (quote!(#pat: #ty), quote!(#ty))
        }
        None => (quote!(_: ()), quote!(())),
    };
    // Behind a `for<'_>`, "the argument must be Clone" is checked where the supervisor is
    // used, not on these impls, where rustc would report it as a bare `Clone` bound; the
    // assertion below reports it once, at the argument's type.
    let bound = sup.arg.as_ref().map(|arg| {
        let ty = &arg.ty;
        quote!(where for<'__bough> #ty: #private::SupervisorArg)
    });

    let (module, running, spec, start) = if sup.partition {
        let body = match sup.child.get() {
            Some(c) => {
                let child = child(c, &krate);
                let mut options = vec![quote!(#private::PartitionSupervisorOptions::new(#child))];
                options.extend(sup.partitions.get().map(|n| quote!(.partitions(#n))));
                options.extend(sup.max_restarts.get().map(|n| quote!(.max_restarts(#n))));
                options.extend(sup.max_seconds.get().map(|n| quote!(.max_seconds(#n))));
                quote!(#(#options)*)
            }
            // The missing child is reported; this keeps code that names the supervisor typed.
            None => quote!(::core::unreachable!(
                "supervisor! reported the missing `child`"
            )),
        };
        let module = quote! {
            #[automatically_derived]
            #[allow(unused_qualifications)]
            impl #private::PartitionSupervisorModule for #ident #bound {
                fn name() -> #private::Name {
                    #private::Name::local(#name)
                }

                #[allow(unused_variables)]
                fn init(#param) -> #private::PartitionSupervisorOptions {
                    #body
                }
            }
        };
        (
            module,
            quote!(#private::PartitionSupervisor),
            quote!(partition_supervisor_module_spec),
            quote!(start_partition_supervisor_module),
        )
    } else if sup.dynamic {
        let mut options = vec![quote!(#private::DynamicSupervisorOptions::new())];
        options.extend(sup.max_restarts.get().map(|n| quote!(.max_restarts(#n))));
        options.extend(sup.max_seconds.get().map(|n| quote!(.max_seconds(#n))));
        options.extend(sup.max_children.get().map(|n| quote!(.max_children(#n))));
        options.extend(
            sup.extra_arguments
                .get()
                .map(|e| quote!(.extra_arguments(#e))),
        );
        let module = quote! {
            #[automatically_derived]
            #[allow(unused_qualifications)]
            impl #private::DynamicSupervisorModule for #ident #bound {
                fn name() -> #private::Name {
                    #private::Name::local(#name)
                }

                fn init(#param) -> #private::DynamicSupervisorOptions {
                    #(#options)*
                }
            }
        };
        (
            module,
            quote!(#private::DynamicSupervisor),
            quote!(dynamic_supervisor_module_spec),
            quote!(start_dynamic_supervisor_module),
        )
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
        let module = quote! {
            #[automatically_derived]
            #[allow(unused_qualifications)]
            impl #private::SupervisorModule for #ident #bound {
                fn name() -> #private::Name {
                    #private::Name::local(#name)
                }

                fn init(#param) -> (
                    ::std::vec::Vec<#private::ChildSpec>,
                    #private::SupervisorOptions,
                ) {
                    (::std::vec![#(#children),*], #(#options)*)
                }
            }
        };
        (
            module,
            quote!(#private::Supervisor),
            quote!(supervisor_module_spec),
            quote!(start_supervisor_module),
        )
    };

    let (child_spec, start_link) = match &sup.arg {
        Some(arg) => {
            let ty = &arg.ty;
            let spec = quote!(#private::#spec::<Self>(arg));
            let start_link = quote! {
                #[automatically_derived]
                #[allow(unused_qualifications)]
                impl #private::StartLinkArg for #ident #bound {
                    type Running = #running;

                    fn start_link(
                        arg: #ty,
                    ) -> impl ::core::future::Future<
                        Output = ::core::result::Result<Self::Running, #private::StartError>,
                    > + ::core::marker::Send {
                        #private::#start::<Self>(arg)
                    }
                }
            };
            (spec, start_link)
        }
        None => (
            quote!(#private::#spec::<Self>(arg)),
            quote! {
                #[automatically_derived]
                #[allow(unused_qualifications)]
                impl #private::StartLink for #ident {
                    type Running = #running;

                    fn start_link() -> impl ::core::future::Future<
                        Output = ::core::result::Result<Self::Running, #private::StartError>,
                    > + ::core::marker::Send {
                        #private::#start::<Self>(())
                    }
                }
            },
        ),
    };
    let assertion = sup.arg.as_ref().map(|arg| {
        let ty = &arg.ty;
        let check = quote_spanned!(ty.span()=> #private::assert_supervisor_arg::<#ty>());
        quote!(const _: () = #check;)
    });

    quote! {
        #(#attrs)*
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::marker::Copy)]
        #vis struct #ident;

        #module

        #[automatically_derived]
        #[allow(unused_qualifications)]
        impl #private::Child for #ident #bound {
            type Arg = #arg_ty;

            fn child_spec(arg: #arg_ty) -> #private::ChildSpec {
                #child_spec
            }
        }

        #start_link

        #assertion
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
