//! The part of protoc's command line that prost-build uses, on protox:
//!
//! `protoc --include_imports [--include_source_info] -o OUT -I DIR... [--experimental_allow_proto3_optional] FILE...`
//!
//! It writes the `FileDescriptorSet` of FILE (and, with `--include_imports`, of what they
//! import) to OUT. Anything else on the command line is an error that names the argument,
//! so that a newer prost-build asking for more fails loudly rather than building wrong code.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Default)]
struct Args {
    includes: Vec<PathBuf>,
    files: Vec<PathBuf>,
    output: Option<PathBuf>,
    include_imports: bool,
    include_source_info: bool,
}

fn parse(mut argv: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut args = Args::default();
    while let Some(arg) = argv.next() {
        let mut value = |flag: &str| argv.next().ok_or_else(|| format!("{flag} needs a value"));
        match arg.as_str() {
            "--version" => return Ok(None),
            "--include_imports" => args.include_imports = true,
            "--include_source_info" => args.include_source_info = true,
            // protox accepts proto3 `optional` fields without being asked.
            "--experimental_allow_proto3_optional" => {}
            "-o" => args.output = Some(value("-o")?.into()),
            "-I" | "--proto_path" => args.includes.push(value(&arg)?.into()),
            _ => {
                if let Some(path) = arg.strip_prefix("--descriptor_set_out=") {
                    args.output = Some(path.into());
                } else if let Some(path) = arg.strip_prefix("--proto_path=") {
                    args.includes.push(path.into());
                } else if let Some(path) = arg.strip_prefix("-o") {
                    args.output = Some(path.into());
                } else if let Some(path) = arg.strip_prefix("-I") {
                    args.includes.push(path.into());
                } else if arg.starts_with('-') {
                    return Err(format!(
                        "unsupported argument {arg:?}: this protoc (protox) takes -I, -o, \
                         --include_imports, --include_source_info and .proto files"
                    ));
                } else {
                    args.files.push(arg.into());
                }
            }
        }
    }
    Ok(Some(args))
}

fn run() -> Result<(), String> {
    let Some(args) = parse(std::env::args().skip(1))? else {
        // prost-build does not ask, but other build scripts do before they compile.
        println!("libprotoc 30.0 (protox {})", env!("CARGO_PKG_VERSION"));
        return Ok(());
    };
    let output = args
        .output
        .ok_or("missing -o FILE: where to write the descriptor set")?;
    if args.files.is_empty() {
        return Err("no .proto files given".into());
    }
    let includes = if args.includes.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.includes
    };
    let mut compiler = protox::Compiler::new(includes).map_err(|e| format!("{e:?}"))?;
    compiler
        .include_imports(args.include_imports)
        .include_source_info(args.include_source_info);
    compiler
        .open_files(&args.files)
        .map_err(|e| format!("{e:?}"))?;
    std::fs::write(&output, compiler.encode_file_descriptor_set())
        .map_err(|e| format!("cannot write {}: {e}", output.display()))
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("protoc (protox): {message}");
            ExitCode::FAILURE
        }
    }
}
