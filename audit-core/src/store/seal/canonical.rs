//! TEMPORARY shim until the RFC 8785 module lands.

use std::cmp::Ordering;

/// `value` in canonical form.
pub(crate) fn to_string(value: &serde_json::Value) -> String {
    super::encoding::canonical_json(&value.to_string())
}

/// RFC 8785's order of keys: by UTF-16 code units.
pub(crate) fn compare_keys(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}
