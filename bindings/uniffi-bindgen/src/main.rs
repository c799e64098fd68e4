//! `uniffi-bindgen`: generates the Kotlin, Swift and Python sources for `haven-ffi` from its compiled library
//! (`uniffi-bindgen generate LIB --language kotlin|swift|python --out-dir DIR`). Kept out of the workspace's
//! default members so that its `cli` feature never reaches the shared library apps ship.

fn main() {
    uniffi::uniffi_bindgen_main()
}
