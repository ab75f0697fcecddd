//! What `#[gen_server(...)]` on a struct generates: `Child` (the child spec) and
//! `GenServerModule` (`start_link`), each option one builder call into the core.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::{ItemStruct, Path};

use super::options::Options;
use crate::attr::{Restart, Shutdown};

pub(crate) fn server_struct(item: &ItemStruct, options: &Options, krate: &Path) -> TokenStream {
    let ident = &item.ident;
    let (impl_generics, ty_generics, where_clause) = item.generics.split_for_impl();
    let private = quote!(#krate::__private);

    // Spanned at the struct's name, so "`X` is not a GenServer" and "args must be Clone"
    // point at the struct the attribute is on.
    let span = ident.span();
    let mut predicates: Vec<TokenStream> = where_clause
        .map(|w| w.predicates.iter().map(|p| quote!(#p)).collect())
        .unwrap_or_default();
    predicates.push(quote_spanned!(span=> Self: #private::GenServer));
    predicates.push(quote_spanned!(span=>
        <Self as #private::GenServer>::Args: #private::RestartableArgs
    ));

    let mut builders = Vec::new();
    if let Some(id) = options.id.get() {
        builders.push(quote!(.id(#id)));
    }
    if let Some(restart) = options.restart.get() {
        builders.push(restart_builder(*restart, krate));
    }
    if let Some(shutdown) = options.shutdown.get() {
        builders.push(shutdown_builder(*shutdown, krate));
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
        #item

        #[automatically_derived]
        impl #impl_generics #private::Child for #ident #ty_generics
        where
            #(#predicates,)*
        {
            type Arg = <Self as #private::GenServer>::Args;

            fn child_spec(arg: Self::Arg) -> #private::ChildSpec {
                #private::ChildSpec::worker::<Self>(arg) #(#builders)*
            }
        }

        #[automatically_derived]
        impl #impl_generics #private::GenServerModule for #ident #ty_generics
        where
            #(#predicates,)*
        {
            #name_fn
        }
    }
}

pub(crate) fn restart_builder(restart: Restart, krate: &Path) -> TokenStream {
    let variant = syn::Ident::new(restart.variant(), Span::call_site());
    quote!(.restart(#krate::__private::Restart::#variant))
}

pub(crate) fn shutdown_builder(shutdown: Shutdown, krate: &Path) -> TokenStream {
    let private = quote!(#krate::__private);
    match shutdown {
        Shutdown::BrutalKill => quote!(.shutdown(#private::Shutdown::BrutalKill)),
        Shutdown::Infinity => quote!(.shutdown(#private::Shutdown::Infinity)),
        Shutdown::Millis(ms) => quote!(.shutdown(#private::Shutdown::millis(#ms))),
    }
}
