//! A release build embeds the compiled site (see `src/site.rs`): rebuild when files come or go
//! there, not only when an embedded file changes (cargo tracks those by itself). Debug builds
//! read the site from disk while they run, so they need no rebuild.
fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("PROFILE").is_ok_and(|p| p == "release") {
        println!("cargo::rerun-if-changed=../target/site");
    }
}
