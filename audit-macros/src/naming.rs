//! Case conversions shared by the macros.

/// `ProjectMemberAdded` -> `project_member_added`; `HTTPError` -> `http_error`.
pub fn snake_case(ident: &str) -> String {
    let chars: Vec<char> = ident.chars().collect();
    let mut out = String::with_capacity(ident.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_uppercase();
            if i > 0 && (prev_lower || (prev_upper && next_lower)) && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A group label as a directory name: `"Project members"` -> `project_members`.
pub fn slug(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    for c in label.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_splits_words_and_acronyms() {
        assert_eq!(snake_case("ProjectMemberAdded"), "project_member_added");
        assert_eq!(snake_case("HTTPError"), "http_error");
        assert_eq!(snake_case("User2FaEnabled"), "user2_fa_enabled");
        assert_eq!(snake_case("Created"), "created");
    }

    #[test]
    fn slug_keeps_alphanumerics_and_collapses_the_rest() {
        assert_eq!(slug("Project members"), "project_members");
        assert_eq!(slug("  Users & roles! "), "users_roles");
        assert_eq!(slug("Jobs"), "jobs");
    }
}
