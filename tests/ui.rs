//! Compile-fail and compile-pass cases of `#[gen_server]` and `supervisor!`: every mistake
//! the macros report has a case in `tests/ui/fail`, with the message a user reads.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
