//! The rules that involve more than one option: what a static supervisor needs, what a
//! dynamic one refuses, and unique child ids.

use std::collections::HashMap;

use proc_macro2::Span;
use quote::ToTokens;

use super::parse::{Strategy, Supervisor};
use crate::ctxt::Ctxt;

fn error_at(cx: &mut Ctxt, span: Option<Span>, message: impl std::fmt::Display) {
    cx.push(syn::Error::new(
        span.unwrap_or_else(Span::call_site),
        message,
    ));
}

pub(crate) fn validate(sup: &Supervisor, cx: &mut Ctxt) {
    let name = &sup.ident;
    if !sup.partition {
        for (span, key) in [
            (sup.child.span(), "child"),
            (sup.partitions.span(), "partitions"),
        ] {
            if span.is_some() {
                error_at(
                    cx,
                    span,
                    format!(
                        "`{key}` is an option of partition supervisors: write `partition {name} {{ child: ..., partitions: ... }}`, or remove it"
                    ),
                );
            }
        }
    }
    if sup.partition {
        if let Some((word, strategy)) = sup.strategy.get()
            && *strategy != Strategy::OneForOne
        {
            cx.error(
                word,
                "a partition supervisor restarts only the partition that exited: its only \
                 strategy is `one_for_one`",
            );
        }
        if !sup.child_written {
            cx.error(
                name,
                format!(
                    "`{name}` needs a `child`: the spec every partition starts, as in \
                     `partition {name} {{ child: MyDynamicSupervisor, partitions: 8 }}`"
                ),
            );
        }
        for (span, key, hint) in [
            (
                sup.children.span(),
                "children",
                "every partition starts the one `child`",
            ),
            (
                sup.max_children.span(),
                "max_children",
                "set it on the dynamic supervisor each partition is",
            ),
            (
                sup.extra_arguments.span(),
                "extra_arguments",
                "set them on the dynamic supervisor each partition is",
            ),
        ] {
            if span.is_some() {
                error_at(
                    cx,
                    span,
                    format!("a partition supervisor takes no `{key}`: {hint}"),
                );
            }
        }
    } else if sup.dynamic {
        if let Some((word, strategy)) = sup.strategy.get()
            && *strategy != Strategy::OneForOne
        {
            cx.error(
                word,
                "a dynamic supervisor restarts only the child that exited: its only strategy \
                 is `one_for_one`",
            );
        }
        if sup.children.get().is_some() {
            error_at(
                cx,
                sup.children.span(),
                format!(
                    "a dynamic supervisor starts with no children; start them at run time with \
                     `{name}::start_child(spec)`, or drop `dynamic` to list them here"
                ),
            );
        }
    } else {
        if !sup.strategy_written {
            cx.error(
                name,
                format!(
                    "`{name}` needs a `strategy`: `one_for_one`, `one_for_all` or `rest_for_one`, \
                     as in `{name} {{ strategy: one_for_one, children: [...] }}`"
                ),
            );
        }
        for (span, key) in [
            (sup.max_children.span(), "max_children"),
            (sup.extra_arguments.span(), "extra_arguments"),
        ] {
            if span.is_some() {
                error_at(
                    cx,
                    span,
                    format!(
                        "`{key}` is an option of dynamic supervisors: write `dynamic {name} {{ ... }}`, or remove it"
                    ),
                );
            }
        }
    }

    let mut ids: HashMap<String, ()> = HashMap::new();
    for child in sup.children.get().into_iter().flatten() {
        let (id, tokens) = match child.id.get() {
            Some(id) => (id.value(), id.to_token_stream()),
            None => {
                let ty = child.ty.to_token_stream();
                (ty.to_string(), ty)
            }
        };
        if ids.insert(id.clone(), ()).is_some() {
            let hint = if child.id.get().is_some() {
                "ids must be unique within a supervisor".to_string()
            } else {
                format!("give one of them its own id: `{id} {{ id: \"...\" }}`")
            };
            cx.push(syn::Error::new_spanned(
                tokens,
                format!("duplicate child id `{id}`: {hint}"),
            ));
        }
    }
}
