//! What both macros read and write: the values of their options (strings, crate paths,
//! restart types, shutdowns, numbers in their units) and the builder calls they become.
//!
//! The two macros spell options differently (`#[gen_server(restart = "transient")]`,
//! `supervisor! { .. restart: transient .. }`); [`Syntax`] says which spelling a message
//! should show, so one validator serves both.

use std::fmt::Display;
use std::str::FromStr;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::ext::IdentExt;
use syn::{Ident, LitInt, LitStr, Path};

use crate::ctxt::Ctxt;
use crate::suggest::{closest, did_you_mean, one_of};
use crate::value::{Value, at};

/// How the macro at hand writes an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syntax {
    /// `key = "word"`, in `#[gen_server(...)]`: words are strings.
    Attribute,
    /// `key: word`, in `supervisor!`: words are bare, as Elixir atoms without the colon.
    Block,
}

impl Syntax {
    /// `key = value` or `key: value`, in backticks.
    pub(crate) fn example(self, key: &str, value: impl Display) -> String {
        match self {
            Syntax::Attribute => format!("`{key} = {value}`"),
            Syntax::Block => format!("`{key}: {value}`"),
        }
    }

    /// A word as this macro spells it: `"transient"` or `transient`.
    fn word(self, word: &str) -> String {
        match self {
            Syntax::Attribute => format!("\"{word}\""),
            Syntax::Block => word.to_string(),
        }
    }
}

/// When a supervisor restarts a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Restart {
    Permanent,
    Transient,
    Temporary,
}

pub(crate) const RESTARTS: [&str; 3] = ["permanent", "transient", "temporary"];

impl Restart {
    fn from_name(name: &str) -> Option<Restart> {
        match name {
            "permanent" => Some(Restart::Permanent),
            "transient" => Some(Restart::Transient),
            "temporary" => Some(Restart::Temporary),
            _ => None,
        }
    }

    fn variant(self) -> &'static str {
        match self {
            Restart::Permanent => "Permanent",
            Restart::Transient => "Transient",
            Restart::Temporary => "Temporary",
        }
    }
}

/// How a supervisor stops a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shutdown {
    BrutalKill,
    Infinity,
    Millis(u64),
}

pub(crate) const SHUTDOWNS: [&str; 2] = ["brutal_kill", "infinity"];

/// What a number option counts, which decides what its literal may look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    /// Milliseconds, as OTP writes time-outs: `shutdown`, a call's `timeout`.
    Millis,
    /// Whole seconds: `max_seconds`.
    Seconds,
    /// A plain count: `max_restarts`, `max_children`.
    Count,
}

/// The root path generated code names: `crate = "..."` or `::bough`.
pub(crate) fn default_crate(path: Option<&Path>) -> Path {
    path.cloned().unwrap_or_else(|| syn::parse_quote!(::bough))
}

/// The example value shown for a string option.
fn string_example(key: &str) -> &'static str {
    match key {
        "crate" => "\"my_bough\"",
        "name" => "\"my_server\"",
        _ => "\"loader\"",
    }
}

/// A non-empty string: `id`, `name`, `crate`.
pub(crate) fn string(cx: &mut Ctxt, key: &Ident, value: &Value, syntax: Syntax) -> Option<LitStr> {
    let name = key.unraw().to_string();
    let example = syntax.example(&name, string_example(&name));
    match value {
        Value::Str(s) if s.value().is_empty() => {
            cx.error(s, format!("`{name}` cannot be empty: {example}"));
            None
        }
        Value::Str(s) => Some(s.clone()),
        Value::Missing => {
            cx.error(key, format!("`{name}` needs a value: {example}"));
            None
        }
        other => {
            cx.error(other, format!("`{name}` takes a string, such as {example}"));
            None
        }
    }
}

/// `crate = "my_bough"`: a string holding a path.
pub(crate) fn crate_path(
    cx: &mut Ctxt,
    key: &Ident,
    value: &Value,
    syntax: Syntax,
) -> Option<Path> {
    let s = string(cx, key, value, syntax)?;
    match s.parse::<Path>() {
        Ok(path) => Some(path),
        Err(_) => {
            cx.error(
                &s,
                format!(
                    "`{}` is not a path; write the crate's name, such as {}",
                    s.value(),
                    syntax.example("crate", "\"my_bough\"")
                ),
            );
            None
        }
    }
}

/// A word of this macro's spelling (its text and tokens), with a hint when it is spelt the
/// other macro's way or Elixir's.
pub(crate) fn word(
    cx: &mut Ctxt,
    key: &Ident,
    value: &Value,
    syntax: Syntax,
    accepted: &[&str],
) -> Option<(String, TokenStream)> {
    let key = key.unraw();
    let hint = |word: &str| {
        let word = closest(word, accepted).unwrap_or(word);
        syntax.example(&key.to_string(), syntax.word(word))
    };
    match (syntax, value) {
        (Syntax::Attribute, Value::Str(s)) => Some((s.value(), quote!(#s))),
        (Syntax::Block, Value::Ident(ident)) => Some((ident.to_string(), quote!(#ident))),
        (Syntax::Attribute, Value::Atom(_, atom) | Value::Ident(atom)) => {
            let word = atom.to_string();
            cx.error(
                value,
                format!("write {}: `{key}` takes a string here", hint(&word)),
            );
            None
        }
        (Syntax::Block, Value::Atom(_, atom)) => {
            cx.error(
                value,
                format!("write {} without the colon", hint(&atom.to_string())),
            );
            None
        }
        (Syntax::Block, Value::Str(s)) => {
            cx.error(value, format!("write {} without quotes", hint(&s.value())));
            None
        }
        _ => {
            let list = match syntax {
                Syntax::Attribute => format!("{}, in quotes", one_of(accepted)),
                Syntax::Block => one_of(accepted),
            };
            cx.error(at(&key, value), format!("`{key}` takes {list}"));
            None
        }
    }
}

/// `restart`: `permanent`, `transient` or `temporary`.
pub(crate) fn restart(
    cx: &mut Ctxt,
    key: &Ident,
    value: &Value,
    syntax: Syntax,
) -> Option<Restart> {
    let (word, tokens) = word(cx, key, value, syntax, &RESTARTS)?;
    let found = Restart::from_name(&word);
    if found.is_none() {
        cx.error(
            tokens,
            format!(
                "unknown restart type `{word}`{}; expected {}",
                did_you_mean(&word, &RESTARTS),
                one_of(&RESTARTS)
            ),
        );
    }
    found
}

/// `shutdown`: milliseconds, `brutal_kill` or `infinity`.
pub(crate) fn shutdown(
    cx: &mut Ctxt,
    key: &Ident,
    value: &Value,
    syntax: Syntax,
) -> Option<Shutdown> {
    let expected = format!(
        "expected a time-out in milliseconds such as {}, {} or {}",
        syntax.example("shutdown", 5000),
        syntax.example("shutdown", syntax.word("brutal_kill")),
        syntax.example("shutdown", syntax.word("infinity")),
    );
    match value {
        Value::Int(_) => number(cx, key, value, syntax, Unit::Millis).map(Shutdown::Millis),
        Value::Str(s) if syntax == Syntax::Attribute && s.value().parse::<u64>().is_ok() => {
            cx.error(
                s,
                format!(
                    "write the time-out as a number: {}",
                    syntax.example("shutdown", s.value())
                ),
            );
            None
        }
        Value::Missing | Value::Other(_) => {
            cx.error(at(key, value), expected);
            None
        }
        _ => {
            let (word, tokens) = word(cx, key, value, syntax, &SHUTDOWNS)?;
            match word.as_str() {
                "brutal_kill" => Some(Shutdown::BrutalKill),
                "infinity" => Some(Shutdown::Infinity),
                _ => {
                    cx.error(
                        tokens,
                        format!(
                            "unknown shutdown `{word}`{}; {expected}",
                            did_you_mean(&word, &SHUTDOWNS)
                        ),
                    );
                    None
                }
            }
        }
    }
}

/// A whole number in `unit`. A literal with a suffix (`5s`, `5ms`, `5u64`) is refused with
/// the number to write instead, since the macro would otherwise read `5s` as 5 of its own
/// unit; so is a number out of the option's range.
pub(crate) fn number<N: Whole>(
    cx: &mut Ctxt,
    key: &Ident,
    value: &Value,
    syntax: Syntax,
    unit: Unit,
) -> Option<N> {
    let name = key.unraw().to_string();
    let Value::Int(n) = value else {
        let what = match unit {
            Unit::Millis => "a whole number of milliseconds",
            Unit::Seconds => "a whole number of seconds",
            Unit::Count => "a whole number",
        };
        cx.error(
            at(key, value),
            format!(
                "`{name}` takes {what}, such as {}",
                syntax.example(&name, example(&name))
            ),
        );
        return None;
    };
    if !n.suffix().is_empty() {
        cx.error(n, suffix_message(&name, n, syntax, unit));
        return None;
    }
    let min = match unit {
        Unit::Seconds => N::ONE,
        Unit::Millis | Unit::Count => N::ZERO,
    };
    match n.base10_parse::<N>() {
        Ok(parsed) if parsed >= min => Some(parsed),
        _ => {
            let why = match unit {
                Unit::Seconds => "; OTP refuses a period of 0 seconds",
                Unit::Millis | Unit::Count => "",
            };
            cx.error(
                n,
                format!(
                    "`{name}` must be a whole number from {min} to {}{why}",
                    N::MAX
                ),
            );
            None
        }
    }
}

/// The number types options are read into.
pub(crate) trait Whole: FromStr<Err: Display> + PartialOrd + Copy + Display {
    const ZERO: Self;
    const ONE: Self;
    const MAX: Self;
}

macro_rules! whole {
    ($($ty:ty),*) => {$(
        impl Whole for $ty {
            const ZERO: $ty = 0;
            const ONE: $ty = 1;
            const MAX: $ty = <$ty>::MAX;
        }
    )*};
}

whole!(u32, u64, usize);

fn example(key: &str) -> &'static str {
    match key {
        "shutdown" => "5000",
        "timeout" => "10000",
        "max_seconds" => "5",
        "max_children" => "100",
        _ => "3",
    }
}

/// What to write instead of a suffixed literal such as `5s`.
fn suffix_message(key: &str, n: &LitInt, syntax: Syntax, unit: Unit) -> String {
    let suffix = n.suffix();
    let digits: Option<u128> = n.base10_digits().parse().ok();
    let in_millis: Option<u128> = match suffix {
        "ms" => Some(1),
        "s" | "sec" | "secs" | "second" | "seconds" => Some(1000),
        "m" | "min" | "mins" | "minute" | "minutes" => Some(60_000),
        "h" | "hour" | "hours" => Some(3_600_000),
        _ => None,
    };
    let written = format!("{}{suffix}", n.base10_digits());
    match (unit, in_millis, digits) {
        (Unit::Millis, Some(factor), Some(digits)) => {
            let ms = digits.saturating_mul(factor);
            format!(
                "`{key}` is in milliseconds, written as a plain number: for {written} write {}",
                syntax.example(key, ms)
            )
        }
        (Unit::Seconds, Some(factor), Some(digits)) => {
            let ms = digits.saturating_mul(factor);
            if ms % 1000 == 0 && ms > 0 {
                format!(
                    "`{key}` is in whole seconds, written as a plain number: for {written} write {}",
                    syntax.example(key, ms / 1000)
                )
            } else {
                format!(
                    "`{key}` is in whole seconds, written as a plain number such as {}; {written} is not a whole number of seconds",
                    syntax.example(key, 5)
                )
            }
        }
        (Unit::Millis, _, _) => format!(
            "`{key}` is in milliseconds, written as a plain number without a suffix, such as {}",
            syntax.example(key, example(key))
        ),
        (Unit::Seconds, _, _) => format!(
            "`{key}` is in whole seconds, written as a plain number without a suffix, such as {}",
            syntax.example(key, example(key))
        ),
        (Unit::Count, _, _) => format!(
            "`{key}` is a plain count, written without a suffix, such as {}",
            syntax.example(key, example(key))
        ),
    }
}

/// `.restart(Restart::X)`.
pub(crate) fn restart_builder(restart: Restart, krate: &Path) -> TokenStream {
    let variant = Ident::new(restart.variant(), Span::call_site());
    quote!(.restart(#krate::__private::Restart::#variant))
}

/// `.shutdown(Shutdown::X)`.
pub(crate) fn shutdown_builder(shutdown: Shutdown, krate: &Path) -> TokenStream {
    let private = quote!(#krate::__private);
    match shutdown {
        Shutdown::BrutalKill => quote!(.shutdown(#private::Shutdown::BrutalKill)),
        Shutdown::Infinity => quote!(.shutdown(#private::Shutdown::Infinity)),
        Shutdown::Millis(ms) => quote!(.shutdown(#private::Shutdown::millis(#ms))),
    }
}

#[cfg(test)]
mod tests {
    use proc_macro2::Span;
    use syn::{Ident, LitInt};

    use super::{Syntax, Unit, number, suffix_message};
    use crate::ctxt::Ctxt;
    use crate::value::Value;

    fn literal(text: &str) -> LitInt {
        syn::parse_str(text).expect("an integer literal")
    }

    fn read(key: &str, text: &str, unit: Unit) -> (Option<u64>, Vec<String>) {
        let mut cx = Ctxt::new();
        let key = Ident::new(key, Span::call_site());
        let value = Value::Int(literal(text));
        let n = number::<u64>(&mut cx, &key, &value, Syntax::Block, unit);
        let errors = match cx.check() {
            Ok(()) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        };
        (n, errors)
    }

    #[test]
    fn a_unit_is_converted_into_the_options_unit() {
        let millis =
            |text| suffix_message("shutdown", &literal(text), Syntax::Attribute, Unit::Millis);
        assert!(millis("5s").ends_with("for 5s write `shutdown = 5000`"));
        assert!(millis("5ms").ends_with("for 5ms write `shutdown = 5`"));
        assert!(millis("2min").ends_with("`shutdown = 120000`"));
        assert!(millis("1h").ends_with("`shutdown = 3600000`"));
        assert!(millis("5000u64").contains("without a suffix"));
        let seconds =
            |text| suffix_message("max_seconds", &literal(text), Syntax::Block, Unit::Seconds);
        assert!(seconds("2000ms").ends_with("for 2000ms write `max_seconds: 2`"));
        assert!(seconds("5ms").ends_with("5ms is not a whole number of seconds"));
        assert!(seconds("1h").ends_with("`max_seconds: 3600`"));
        let count = suffix_message("max_restarts", &literal("3u32"), Syntax::Block, Unit::Count);
        assert!(count.contains("plain count"), "{count}");
    }

    #[test]
    fn plain_numbers_in_range_are_read() {
        assert_eq!(
            read("max_seconds", "5", Unit::Seconds),
            (Some(5), Vec::new())
        );
        assert_eq!(
            read("max_restarts", "0", Unit::Count),
            (Some(0), Vec::new())
        );
        assert_eq!(read("shutdown", "0", Unit::Millis), (Some(0), Vec::new()));
    }

    #[test]
    fn suffixed_zero_and_out_of_range_numbers_are_errors() {
        let (n, errors) = read("max_seconds", "5ms", Unit::Seconds);
        assert_eq!((n, errors.len()), (None, 1));
        let (n, errors) = read("max_seconds", "0", Unit::Seconds);
        assert_eq!(n, None);
        assert!(errors[0].contains("from 1 to"), "{errors:?}");
        let (n, errors) = read("shutdown", "99999999999999999999999", Unit::Millis);
        assert_eq!(n, None);
        assert!(
            errors[0].contains("from 0 to 18446744073709551615"),
            "{errors:?}"
        );
    }
}
