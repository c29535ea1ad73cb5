//! Finding each event's template file at compile time.

use std::path::{Path, PathBuf};

use super::model::{Catalog, Event};
use crate::naming::{slug, snake_case};

/// Environment variable naming an extra directory searched for templates
/// before the crate root (used by test harnesses that build the crate elsewhere).
pub const ROOT_OVERRIDE_VAR: &str = "AUDIT_TEMPLATE_ROOT";

/// The directories a template path is resolved against, in order.
pub struct TemplateRoots {
    roots: Vec<PathBuf>,
}

/// A template found on disk.
pub struct Template {
    /// Absolute path, for `include_str!` (so editing the file rebuilds the crate).
    pub path: PathBuf,
    pub source: String,
}

impl TemplateRoots {
    /// `$AUDIT_TEMPLATE_ROOT` (if set), then `$CARGO_MANIFEST_DIR`.
    pub fn from_env() -> Self {
        let roots = [ROOT_OVERRIDE_VAR, "CARGO_MANIFEST_DIR"]
            .into_iter()
            .filter_map(std::env::var_os)
            .map(PathBuf::from)
            .collect();
        TemplateRoots { roots }
    }

    /// Explicit roots, for tests.
    #[cfg(test)]
    pub fn new(roots: Vec<PathBuf>) -> Self {
        TemplateRoots { roots }
    }

    /// Where `relative` is: the first root that has it, and every path looked at.
    pub fn locate(&self, relative: &str) -> Located {
        let searched: Vec<PathBuf> = self.roots.iter().map(|root| root.join(relative)).collect();
        let existing = searched
            .iter()
            .find(|path| path.is_file())
            .map(|path| std::fs::canonicalize(path).unwrap_or_else(|_| path.clone()));
        Located { existing, searched }
    }

    /// Finds `relative` under the first root that has it, or explains where it looked.
    pub fn find(&self, relative: &str) -> Result<Template, String> {
        let mut searched = Vec::new();
        for root in &self.roots {
            let path = root.join(relative);
            match std::fs::read_to_string(&path) {
                Ok(mut source) => {
                    // Like Jinja, drop the one newline that ends the file.
                    if source.ends_with('\n') {
                        source.pop();
                        if source.ends_with('\r') {
                            source.pop();
                        }
                    }
                    let path = std::fs::canonicalize(&path).unwrap_or(path);
                    return Ok(Template { path, source });
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => searched.push(path),
                Err(e) => return Err(format!("cannot read template `{}`: {e}", path.display())),
            }
        }
        if searched.is_empty() {
            return Err(format!(
                "cannot look for template `{relative}`: neither `CARGO_MANIFEST_DIR` nor \
                 `{ROOT_OVERRIDE_VAR}` is set"
            ));
        }
        let list: Vec<String> = searched.iter().map(|p| display(p)).collect();
        Err(format!(
            "template `{relative}` not found; looked for {}",
            list.join(" and ")
        ))
    }
}

/// A file looked for under the roots.
pub struct Located {
    /// The file, under the first root that has it.
    pub existing: Option<PathBuf>,
    /// Where it was looked for, one path per root, in order.
    pub searched: Vec<PathBuf>,
}

impl Located {
    /// Every path looked at, for messages.
    pub fn searched_text(&self) -> String {
        let list: Vec<String> = self.searched.iter().map(|p| display(p)).collect();
        list.join(" and ")
    }
}

fn display(path: &Path) -> String {
    format!("`{}`", path.display())
}

/// The template path of `event`, relative to a template root: the catalog's
/// templates directory joined with either the event's `template = "..."` or
/// `<group>/<variant>.html` (`Projects`, `ProjectCreated` -> `projects/project_created.html`).
pub fn relative_path(catalog: &Catalog, event: &Event) -> String {
    let file = match &event.template {
        Some(explicit) => explicit.value.clone(),
        None => format!(
            "{}/{}.html",
            slug(&event.group.value),
            snake_case(&event.ident.to_string())
        ),
    };
    format!(
        "{}/{}",
        catalog.templates_dir.value.trim_end_matches('/'),
        file
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Diagnostics;
    use crate::events::parse::parse_catalog;
    use syn::parse_quote;

    #[test]
    fn default_path_is_group_then_variant() {
        let mut diag = Diagnostics::default();
        let catalog = parse_catalog(
            parse_quote! {
                #[events(templates = "t/audit/")]
                enum E {
                    #[event(code = "a", label = "A", group = "Project members")] MemberAdded,
                    #[event(code = "b", label = "B", group = "G", template = "custom/b.txt")] B,
                }
            },
            &mut diag,
        );
        assert!(diag.is_empty());
        assert_eq!(
            relative_path(&catalog, &catalog.events[0]),
            "t/audit/project_members/member_added.html"
        );
        assert_eq!(
            relative_path(&catalog, &catalog.events[1]),
            "t/audit/custom/b.txt"
        );
    }

    #[test]
    fn finds_in_first_root_that_has_the_file_and_lists_all_when_missing() {
        let base = std::env::temp_dir().join(format!("audit-macros-tpl-{}", std::process::id()));
        let (first, second) = (base.join("first"), base.join("second"));
        std::fs::create_dir_all(second.join("g")).unwrap();
        std::fs::create_dir_all(&first).unwrap();
        std::fs::write(second.join("g/a.html"), "hello {{ x }}").unwrap();
        let roots = TemplateRoots::new(vec![first.clone(), second.clone()]);

        let found = roots.find("g/a.html").unwrap();
        assert_eq!(found.source, "hello {{ x }}");
        assert!(found.path.is_absolute());

        let missing = roots.find("g/b.html").err().unwrap();
        assert!(
            missing.starts_with("template `g/b.html` not found; looked for"),
            "{missing}"
        );
        assert!(missing.contains(&first.join("g/b.html").display().to_string()));
        assert!(missing.contains(&second.join("g/b.html").display().to_string()));
        std::fs::remove_dir_all(base).unwrap();
    }
}
