// The migrations are embedded when this crate compiles (`sqlx::migrate!`): rebuild it when one
// is added or changed, or a binary would carry an older schema.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
