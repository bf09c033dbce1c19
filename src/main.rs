fn main() -> std::process::ExitCode {
    invitations::cli::main()
}
