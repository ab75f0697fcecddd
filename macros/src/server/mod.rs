//! `#[gen_server]`: on the server struct (its child spec) or on its `impl GenServer` block
//! (its callbacks).

mod callbacks;
mod expand;
mod options;

pub(crate) use expand::{restart_builder, shutdown_builder};

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{GenericParam, Item, ItemStruct, Path};

use crate::ctxt::Ctxt;
use options::Place;

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut cx = Ctxt::new();
    let item = match syn::parse2::<Item>(input.clone()) {
        Ok(item) => item,
        // Not an item at all: let rustc report the syntax error on the user's tokens.
        Err(_) => return input,
    };
    let output = match item {
        Item::Struct(item) => {
            let options = options::parse(args, Place::Struct, &mut cx);
            let krate = krate(options.krate.get());
            check_generics(&item, &mut cx);
            if cx.is_empty() {
                expand::server_struct(&item, &options, &krate)
            } else {
                // Still generate the impls, without the options, so code that names this
                // server does not fail a second time.
                let plain = options::parse(TokenStream::new(), Place::Struct, &mut Ctxt::new());
                if lifetimes(&item).next().is_some() {
                    item.into_token_stream()
                } else {
                    expand::server_struct(&item, &plain, &krate)
                }
            }
        }
        Item::Impl(mut block) => {
            let options = options::parse(args, Place::Impl, &mut cx);
            let krate = krate(options.krate.get());
            callbacks::complete(&mut block, &krate, &mut cx);
            block.into_token_stream()
        }
        Item::Enum(item) => {
            cx.error(
                item.enum_token,
                "#[gen_server] goes on a struct: a server's state is one value; \
                 wrap the enum in a struct, such as `struct Machine { state: State }`",
            );
            item.into_token_stream()
        }
        Item::Union(item) => {
            cx.error(
                item.union_token,
                "#[gen_server] goes on a struct, not on a union",
            );
            item.into_token_stream()
        }
        other => {
            cx.error(
                &other,
                "#[gen_server] goes on the server struct or on its `impl GenServer` block",
            );
            other.into_token_stream()
        }
    };
    let errors = cx.into_compile_errors();
    quote!(#output #errors)
}

fn krate(path: Option<&Path>) -> Path {
    path.cloned().unwrap_or_else(|| syn::parse_quote!(::bough))
}

fn lifetimes(item: &ItemStruct) -> impl Iterator<Item = &syn::LifetimeParam> {
    item.generics.params.iter().filter_map(|param| match param {
        GenericParam::Lifetime(lifetime) => Some(lifetime),
        _ => None,
    })
}

fn check_generics(item: &ItemStruct, cx: &mut Ctxt) {
    for lifetime in lifetimes(item) {
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
