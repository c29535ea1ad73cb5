use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::*;

/// The view of `ProjectCreated { project, owner }`.
fn view() -> View {
    View {
        event: "ProjectCreated".to_owned(),
        fields: vec!["project".to_owned(), "owner".to_owned()],
    }
}

fn problems(source: &str) -> Vec<Found> {
    check_source(&view(), source)
}

#[track_caller]
fn accepts(source: &str) {
    let found = problems(source);
    assert!(found.is_empty(), "refused {source:?}: {found:#?}");
}

#[track_caller]
fn only_problem(source: &str) -> Found {
    let mut found = problems(source);
    assert_eq!(found.len(), 1, "{source:?}: {found:#?}");
    found.remove(0)
}

#[test]
fn accepts_fields_payload_and_nested_payload_values() {
    accepts("created {{ project }} for {{ owner }}");
    accepts("{{ payload.project.name }} ({{ payload.owner.id.0 }})");
    accepts("{{ self.project }} {{ self.payload.project }}");
}

#[test]
fn accepts_names_bound_inside_the_template() {
    accepts("{% let who = owner %}{{ who }}{% set n = 3 %}{{ n }}");
    accepts("{% let (a, b) = (project, owner) %}{{ a }}{{ b }}");
    accepts("{% decl x %}{% if true %}{% let x = 1 %}{% endif %}");
    accepts("{% let mut total = 0 %}{% mut total += 1 %}{{ total }}");
    accepts("{% let block %}text {{ owner }}{% endlet %}{{ block }}");
    accepts(
        "{% for (i, m) in payload.project.members.iter().enumerate() %}{{ i }}{{ m.name }}\
         {% if loop.first %}first{% endif %}{{ loop.index }}{% else %}none{% endfor %}",
    );
    accepts("{% for m in payload.project.members if m.active %}{{ m }}{% endfor %}");
    accepts("{% if let Some(note) = payload.owner.note %}{{ note }}{% endif %}");
    accepts("{% if payload.project.x && let Some(y) = payload.owner.note %}{{ y }}{% endif %}");
    accepts(
        "{% match payload.project.role %}{% when Role::Admin { level } %}{{ level }}\
         {% when Some(name) | Other(name) %}{{ name }}{% when [first, rest @ ..] %}{{ first }}{{ rest }}\
         {% else %}other{% endmatch %}",
    );
    accepts(
        "{% macro item(label, value = 1) %}<b>{{ label }}</b>{{ value }}{{ project }}{% endmacro %}\
         {% call item(owner) %}{% endcall %}{{ item(project, value = 2) }}",
    );
    accepts(
        "{% macro wrap() %}[{{ caller(1) }}]{% endmacro %}\
         {% call(n) wrap() %}{{ n }}{% endcall %}",
    );
}

#[test]
fn accepts_filters_paths_calls_and_askama_syntax() {
    accepts(
        "{{ project|lower }} {{ owner|truncate(10)|safe }} {{ payload.owner.n|fmt(\"{:02}\") }}",
    );
    accepts("{% filter upper %}{{ project }}{% endfilter %}");
    accepts("{{ crate::LABEL }} {{ Some(1).is_some() }} {{ MY_CONST }} {{ format!(\"{}\", x) }}");
    accepts("{{ project.as_str() }} {{ project.href().unwrap_or_default() }} {{ helper() }}");
    accepts("{% block title %}{{ owner }}{% endblock %}");
    accepts("{%- if payload.project.ok -%} {{ project }} {%+ endif ~%}");
    accepts("{# {{ actor }} is a comment #}{% raw %}{{ actor }}{% endraw %}");
    accepts("{% if actor is defined %}{{ actor }}{% endif %}");
    accepts("{% if when is not defined %}{{ owner }}{% else %}{{ when }}{% endif %}");
    accepts("{{ [project, owner]|join(\", \") }} {{ (1..3).len() }} {{ -payload.owner.n as i64 }}");
    accepts("{{ payload.project.name ~ \"!\" }}");
    accepts("");
}

#[test]
fn refuses_an_unknown_name_with_its_line_and_the_available_values() {
    let found = only_problem("created {{ project }}\nby {{ actor }}");
    assert_eq!(
        found.problem,
        Problem::UnknownName {
            name: "actor".to_owned()
        }
    );
    assert_eq!((found.at.line, found.at.column), (2, 7));
    assert_eq!(
        found.message(&view()),
        "template `t.html` (line 2) uses `actor`, which is not a value of event \
         `ProjectCreated`; available: `payload` (the raw `ProjectCreated` payload), \
         `project`, `owner`"
    );
}

#[test]
fn reports_each_unknown_name_once() {
    let found =
        problems("{{ actor }} {{ when }} {{ actor }}\n{% if actor %}{{ self.when }}{% endif %}");
    let names: Vec<_> = found
        .iter()
        .map(|f| match &f.problem {
            Problem::UnknownName { name } => name.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(names, ["actor", "when"]);
}

#[test]
fn refuses_unknown_names_in_expressions_tags_and_filters() {
    for source in [
        "{{ actor.name }}",
        "{{ actor|upper }}",
        "{{ project|truncate(actor) }}",
        "{% if actor %}{% endif %}",
        "{% for x in actor %}{{ x }}{% endfor %}",
        "{% match actor %}{% else %}{% endmatch %}",
        "{% let x = actor %}{{ x }}",
        "{{ helper(actor) }}",
        "{{ project.as_str().replace(actor, \"\") }}",
        "{{ self.actor }}",
        "{% filter truncate(actor) %}x{% endfilter %}",
        "{% macro m(a = actor) %}{{ a }}{% endmacro %}{{ m() }}",
    ] {
        let found = only_problem(source);
        assert_eq!(
            found.problem,
            Problem::UnknownName {
                name: "actor".to_owned()
            },
            "{source}"
        );
    }
}

#[test]
fn refuses_a_field_of_a_shown_value() {
    let found = only_problem("created {{ project.name }}");
    assert_eq!(
        found.problem,
        Problem::ShownFieldAccess {
            field: "project".to_owned(),
            member: "name".to_owned()
        }
    );
    assert_eq!(
        found.message(&view()),
        "template `t.html` (line 1) reads `project.name`, but `project` is shown as text \
         (`Shown`), so it has no fields: write `{{ payload.project.name }}` to reach the raw \
         value, or show it through a presenter"
    );
    assert_eq!(
        only_problem("{{ self.owner.id }}").problem,
        Problem::ShownFieldAccess {
            field: "owner".to_owned(),
            member: "id".to_owned()
        }
    );
    // A local of the same name is not the shown value.
    accepts("{% let project = payload.project %}{{ project.name }}");
}

#[test]
fn refuses_a_field_the_raw_payload_lacks() {
    let found = only_problem("{{ payload.actor }}");
    assert_eq!(
        found.message(&view()),
        "template `t.html` (line 1) reads `payload.actor`, but the raw `ProjectCreated` \
         payload has no field `actor`; its fields: `project`, `owner`"
    );
    accepts("{{ payload.to_string() }}");
}

#[test]
fn refuses_a_syntax_error_with_its_line_column_and_reason() {
    let found = only_problem("first line\ncreated {{ project");
    let Problem::Syntax { reason, snippet } = &found.problem else {
        panic!("{found:?}");
    };
    assert_eq!(found.at.line, 2, "{found:?}");
    assert!(!reason.is_empty());
    assert!(snippet.contains("2 | created {{ project"), "{snippet}");
    let message = found.message(&view());
    assert!(
        message.starts_with(
            "template `t.html` of event `ProjectCreated` does not parse: line 2, column "
        ),
        "{message}"
    );

    let found = only_problem("{% if project %}\nyes\n{% endfor %}");
    assert_eq!(found.at.line, 3, "{found:?}");
    // Nothing else is reported on a template that does not parse.
    assert_eq!(problems("{{ actor }} {% if %}").len(), 1);
}

#[test]
fn line_and_column_count_characters() {
    assert_eq!(line_column("ab\ncé{{", 6), (2, 3));
    assert_eq!(line_column("x", 1), (1, 2));
    assert_eq!(line_column("é", 1), (1, 1));
}

/// A checker whose referenced files live in `files` (absolute path -> source).
fn check_with(source: &str, files: &[(&str, &str)]) -> Checked {
    let files: HashMap<PathBuf, String> = files
        .iter()
        .map(|(p, s)| (PathBuf::from(p), (*s).to_owned()))
        .collect();
    let top = TemplateFile {
        relative: "templates/audit/projects/created.html".to_owned(),
        path: PathBuf::from("/crate/templates/audit/projects/created.html"),
        source: source.to_owned(),
    };
    check(&view(), &top, &move |path: &Path| {
        files
            .get(path)
            .cloned()
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
    })
}

#[test]
fn includes_are_resolved_next_to_the_template_checked_and_made_absolute() {
    let checked = check_with(
        "a {% include \"_who.html\" %} b {%- import \"../shared/m.html\" as m -%}",
        &[
            ("/crate/templates/audit/projects/_who.html", "{{ owner }}"),
            (
                "/crate/templates/audit/projects/../shared/m.html",
                "{% macro link(x) %}{{ x }}{% endmacro %}",
            ),
        ],
    );
    assert!(checked.problems.is_empty(), "{:#?}", checked.problems);
    assert_eq!(
        checked.source_for_askama,
        "a {% include \"/crate/templates/audit/projects/_who.html\" %} b {%- import \
         \"/crate/templates/audit/projects/../shared/m.html\" as m -%}"
    );
}

#[test]
fn names_in_included_templates_are_checked_where_they_are() {
    let checked = check_with(
        "{% include \"parts/a.html\" %}",
        &[
            (
                "/crate/templates/audit/projects/parts/a.html",
                "x\n{% include \"b.html\" %}",
            ),
            (
                "/crate/templates/audit/projects/parts/b.html",
                "\n\n{{ actor }}",
            ),
        ],
    );
    let [found] = checked.problems.as_slice() else {
        panic!("{:#?}", checked.problems);
    };
    assert_eq!(found.at.file, "templates/audit/projects/parts/b.html");
    assert_eq!(found.at.line, 3);
    assert_eq!(
        found.problem,
        Problem::UnknownName {
            name: "actor".to_owned()
        }
    );
}

#[test]
fn a_missing_include_names_the_file_and_where_it_was_looked_for() {
    let checked = check_with(
        "{# a comment may come first #}\n{% extends \"../base.html\" %}",
        &[],
    );
    let [found] = checked.problems.as_slice() else {
        panic!("{:#?}", checked.problems);
    };
    assert_eq!(found.at.line, 2);
    assert_eq!(
        found.message(&view()),
        "template `templates/audit/projects/created.html` (line 2): `{% extends \"../base.html\" %}` \
         names `templates/audit/base.html`, which does not exist (looked for \
         `/crate/templates/audit/projects/../base.html`); paths in `{% extends %}` are relative \
         to the template that contains them"
    );
}

#[test]
fn a_syntax_error_in_an_included_template_names_that_template() {
    let checked = check_with(
        "{% include \"p.html\" %}",
        &[("/crate/templates/audit/projects/p.html", "ok\n{{ owner")],
    );
    let [found] = checked.problems.as_slice() else {
        panic!("{:#?}", checked.problems);
    };
    assert_eq!(found.at.file, "templates/audit/projects/p.html");
    assert_eq!(found.at.line, 2);
}

#[test]
fn include_cycles_end() {
    let checked = check_with(
        "{% include \"a.html\" %}",
        &[
            (
                "/crate/templates/audit/projects/a.html",
                "{% include \"b.html\" %}",
            ),
            (
                "/crate/templates/audit/projects/b.html",
                "{% include \"a.html\" %}{{ nope }}",
            ),
        ],
    );
    assert_eq!(checked.problems.len(), 1, "{:#?}", checked.problems);
}

#[test]
fn relative_paths_are_joined_lexically() {
    assert_eq!(join_relative("t/a/x.html", "y.html"), "t/a/y.html");
    assert_eq!(join_relative("t/a/x.html", "../b/./y.html"), "t/b/y.html");
    assert_eq!(join_relative("x.html", "../y.html"), "../y.html");
}

#[test]
fn available_values_list_payload_first_and_skip_the_reserved_name() {
    let view = View {
        event: "E".to_owned(),
        fields: vec!["payload".to_owned(), "a".to_owned()],
    };
    assert_eq!(view.available(), "`payload` (the raw `E` payload), `a`");
}

#[test]
fn what_askama_does_not_compile_is_not_checked() {
    // A macro that is never called.
    accepts("{% macro unused() %}{{ actor }}{% endmacro %}{{ project }}");
    // Branches askama decides at compile time.
    accepts("{% if false %}{{ actor }}{% else %}{{ project }}{% endif %}");
    // A called macro is checked, whichever way it is called.
    for call in ["{% call shown() %}{% endcall %}", "{{ shown() }}"] {
        let source = format!("{{% macro shown() %}}{{{{ actor }}}}{{% endmacro %}}{call}");
        assert_eq!(
            only_problem(&source).problem,
            Problem::UnknownName {
                name: "actor".to_owned()
            },
            "{source}"
        );
    }
}

#[test]
fn only_called_macros_of_an_imported_template_are_checked() {
    let library = "{% macro who() %}{{ owner }}{% endmacro %}\
                   {% macro elsewhere() %}{{ actor }}{% endmacro %}\
                   top-level text of an import is not rendered {{ nothing }}";
    let files = [("/crate/templates/audit/projects/lib.html", library)];
    let checked = check_with(
        "{% import \"lib.html\" as lib %}{% call lib::who() %}{% endcall %}",
        &files,
    );
    assert!(checked.problems.is_empty(), "{:#?}", checked.problems);

    let checked = check_with(
        "{% import \"lib.html\" as lib %}{{ lib::elsewhere() }}",
        &files,
    );
    let [found] = checked.problems.as_slice() else {
        panic!("{:#?}", checked.problems);
    };
    assert_eq!(found.at.file, "templates/audit/projects/lib.html");
}

#[test]
fn along_extends_only_the_rendered_blocks_are_checked() {
    let frame = "<p>{% block body %}{{ overridden }}{% endblock %}\
                 {% block tail %}{{ owner }}{% endblock %}</p>";
    let files = [("/crate/templates/audit/projects/frame.html", frame)];
    // Text outside blocks in the extending template, the parent's overridden
    // block and a block the parent never shows are not rendered.
    let checked = check_with(
        "{% extends \"frame.html\" %}{{ outside }}\
         {% block body %}{{ project }}{% endblock %}{% block unused %}{{ unshown }}{% endblock %}",
        &files,
    );
    assert!(checked.problems.is_empty(), "{:#?}", checked.problems);

    let checked = check_with(
        "{% extends \"frame.html\" %}{% block body %}{{ actor }}{% endblock %}",
        &files,
    );
    let [found] = checked.problems.as_slice() else {
        panic!("{:#?}", checked.problems);
    };
    assert_eq!(found.at.file, "templates/audit/projects/created.html");

    // The parent's own content and the blocks it keeps are checked.
    let checked = check_with(
        "{% extends \"frame.html\" %}{% block body %}{% endblock %}",
        &[(
            "/crate/templates/audit/projects/frame.html",
            "{{ actor }}{% block body %}{% endblock %}{% block tail %}{{ when }}{% endblock %}",
        )],
    );
    let names: Vec<_> = checked.problems.iter().map(|f| &f.problem).collect();
    assert_eq!(
        names,
        [
            &Problem::UnknownName {
                name: "actor".to_owned()
            },
            &Problem::UnknownName {
                name: "when".to_owned()
            }
        ]
    );
}
