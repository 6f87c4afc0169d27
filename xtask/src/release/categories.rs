//! The category slugs crates.io accepts in a manifest's `categories`.
//!
//! crates.io rejects a publish whose categories are not on its list (it is curated in
//! crates.io's `src/boot/categories.toml`); checking here fails before anything is changed
//! rather than halfway through publishing. The list is a snapshot: when crates.io adds a
//! category that a crate here wants, add its slug (<https://crates.io/category_slugs>).

/// Every slug crates.io knows, in byte order (so that lookup is a binary search).
const SLUGS: &[&str] = &[
    "accessibility",
    "aerospace",
    "aerospace::drones",
    "aerospace::protocols",
    "aerospace::simulation",
    "aerospace::space-protocols",
    "aerospace::unmanned-aerial-vehicles",
    "algorithms",
    "api-bindings",
    "artificial-intelligence",
    "asynchronous",
    "authentication",
    "caching",
    "command-line-interface",
    "command-line-utilities",
    "compilers",
    "compression",
    "computer-vision",
    "concurrency",
    "config",
    "cryptography",
    "cryptography::cryptocurrencies",
    "data-structures",
    "database",
    "database-implementations",
    "date-and-time",
    "development-tools",
    "development-tools::build-utils",
    "development-tools::cargo-plugins",
    "development-tools::debugging",
    "development-tools::ffi",
    "development-tools::procedural-macro-helpers",
    "development-tools::profiling",
    "development-tools::testing",
    "email",
    "embedded",
    "emulators",
    "encoding",
    "external-ffi-bindings",
    "filesystem",
    "finance",
    "game-development",
    "game-engines",
    "games",
    "graphics",
    "gui",
    "hardware-support",
    "internationalization",
    "localization",
    "mathematics",
    "memory-management",
    "multimedia",
    "multimedia::audio",
    "multimedia::encoding",
    "multimedia::images",
    "multimedia::video",
    "network-programming",
    "no-std",
    "no-std::no-alloc",
    "os",
    "os::android-apis",
    "os::freebsd-apis",
    "os::linux-apis",
    "os::macos-apis",
    "os::unix-apis",
    "os::windows-apis",
    "parser-implementations",
    "parsing",
    "rendering",
    "rendering::data-formats",
    "rendering::engine",
    "rendering::graphics-api",
    "rust-patterns",
    "science",
    "science::bioinformatics",
    "science::geo",
    "science::neuroscience",
    "science::robotics",
    "simulation",
    "template-engine",
    "text-editors",
    "text-processing",
    "value-formatting",
    "virtualization",
    "visualization",
    "wasm",
    "web-programming",
    "web-programming::http-client",
    "web-programming::http-server",
    "web-programming::websocket",
];

/// At most this many categories per crate (crates.io's limit).
pub(crate) const MAX_CATEGORIES: usize = 5;

/// Whether crates.io knows `slug` as a category.
pub(crate) fn is_category(slug: &str) -> bool {
    SLUGS.binary_search(&slug).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_sorted_without_duplicates() {
        for pair in SLUGS.windows(2) {
            assert!(pair[0] < pair[1], "{pair:?} out of order");
        }
    }

    #[test]
    fn known_and_unknown_slugs() {
        for slug in [
            "network-programming",
            "parser-implementations",
            "command-line-utilities",
            "asynchronous",
            "multimedia::audio",
            "accessibility",
            "web-programming::websocket",
        ] {
            assert!(is_category(slug), "{slug}");
        }
        // Display names, keywords and near misses are not slugs.
        for slug in [
            "Network programming",
            "sip",
            "network",
            "multimedia::sound",
            "",
        ] {
            assert!(!is_category(slug), "{slug}");
        }
    }
}
