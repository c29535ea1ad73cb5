//! Checking each event template at expansion time, before askama compiles it.
//!
//! askama reports a template mistake as a Rust error on the generated view
//! (`no field `actor` on type `&ThingRemovedView<'a>``) or, for a syntax
//! error, on the whole macro call, and never names the template file. Here
//! each template is parsed with `askama_parser`, pinned to the version askama
//! itself uses, and the mistakes a template can make against its view are
//! reported on the event, naming the file and line:
//!
//! - a syntax error (askama's own reason);
//! - a name the view lacks, listing the values it has;
//! - a field of a value that is shown as text (`project.name` where
//!   `project` is a `Shown`), with the way to the raw value;
//! - a field the raw payload lacks (`payload.actor`);
//! - an `{% include %}`, `{% import %}` or `{% extends %}` whose file does
//!   not exist.
//!
//! The check only refuses what askama would refuse too: a name bound anywhere
//! in the template (or in a template it reaches) is never reported, nor one
//! tested with `is defined`, nor what a call or a path names (methods, macros,
//! `caller`, `super`, `crate::X`, `Some`), nor anything in a part askama does
//! not compile (a macro never called, the top level of an imported template,
//! an `if` decided at compile time, what `{% extends %}` replaces). What it
//! does not refuse is left to askama, whose error then still stops the build.
//! An event with errors gets no askama derive, so nothing is reported twice.
//!
//! Paths in `{% include %}`, `{% import %}` and `{% extends %}` are relative
//! to the template that contains them. askama resolves the paths of files it
//! reads that way itself; an event template reaches askama as `source = ".."`,
//! which has no directory, so its own paths are handed to askama absolute.

use std::collections::{BTreeSet, HashSet};
use std::path::{Component, Path, PathBuf};

use askama_parser::expr::{AssociatedItem, Expr};
use askama_parser::node::{CondTest, Node};
use askama_parser::{Ast, Filter, LetValueOrBlock, Span, Syntax, Target, WithSpan};

use super::model::{Event, RESERVED_VIEW_FIELD};
use super::template::Template;
use crate::diagnostics::Diagnostics;

/// The values one event's view offers its template.
pub struct View {
    /// The event's name (`ThingRemoved`).
    pub event: String,
    /// The payload fields, each a view field shown as text.
    pub fields: Vec<String>,
}

impl View {
    /// The view of `event`.
    pub fn of(event: &Event) -> Self {
        View {
            event: event.ident.to_string(),
            fields: event.fields.iter().map(|f| unraw(&f.ident)).collect(),
        }
    }

    /// The payload fields that are also view fields (all but the reserved name).
    fn shown_fields(&self) -> impl Iterator<Item = &str> {
        self.fields
            .iter()
            .map(String::as_str)
            .filter(|f| *f != RESERVED_VIEW_FIELD)
    }

    fn is_shown_field(&self, name: &str) -> bool {
        self.shown_fields().any(|f| f == name)
    }

    /// "`payload` (the raw `ThingRemoved` payload), `name`".
    pub fn available(&self) -> String {
        let mut list = vec![format!(
            "`{RESERVED_VIEW_FIELD}` (the raw `{}` payload)",
            self.event
        )];
        list.extend(self.shown_fields().map(|f| format!("`{f}`")));
        list.join(", ")
    }
}

fn unraw(ident: &syn::Ident) -> String {
    let name = ident.to_string();
    match name.strip_prefix("r#") {
        Some(bare) => bare.to_owned(),
        None => name,
    }
}

/// One template file: the event's own, or one it includes.
#[derive(Clone)]
pub struct TemplateFile {
    /// The path as the user writes it, relative to the crate root
    /// (`templates/audit/projects/project_created.html`).
    pub relative: String,
    /// Where it was read.
    pub path: PathBuf,
    pub source: String,
}

/// Where in which template a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The template's path relative to the crate root.
    pub file: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
}

/// One mistake in a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The template does not parse; `reason` is askama's.
    Syntax { reason: String, snippet: String },
    /// A name that is not a value of the view.
    UnknownName { name: String },
    /// `field.member`, where `field` is shown as text.
    ShownFieldAccess { field: String, member: String },
    /// `payload.member`, where the payload has no such field.
    UnknownPayloadField { member: String },
    /// An included, imported or extended template that does not exist.
    MissingReference {
        tag: &'static str,
        written: String,
        relative: String,
        looked_at: PathBuf,
    },
    /// A referenced path that cannot be handed to askama.
    UnusableReference {
        tag: &'static str,
        written: String,
        reason: String,
    },
}

/// A problem and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub at: Location,
    pub problem: Problem,
}

impl Found {
    /// The error message, for the event whose view is `view`.
    pub fn message(&self, view: &View) -> String {
        let Location { file, line, column } = &self.at;
        let event = &view.event;
        match &self.problem {
            Problem::Syntax { reason, snippet } => format!(
                "template `{file}` of event `{event}` does not parse: line {line}, column \
                 {column}: {reason}{snippet}"
            ),
            Problem::UnknownName { name } => format!(
                "template `{file}` (line {line}) uses `{name}`, which is not a value of event \
                 `{event}`; available: {}",
                view.available()
            ),
            Problem::ShownFieldAccess { field, member } => format!(
                "template `{file}` (line {line}) reads `{field}.{member}`, but `{field}` is \
                 shown as text (`Shown`), so it has no fields: write \
                 `{{{{ {RESERVED_VIEW_FIELD}.{field}.{member} }}}}` to reach the raw value, or \
                 show it through a presenter"
            ),
            Problem::UnknownPayloadField { member } => {
                let fields: Vec<String> = view.fields.iter().map(|f| format!("`{f}`")).collect();
                let has = if fields.is_empty() {
                    "it has no fields".to_owned()
                } else {
                    format!("its fields: {}", fields.join(", "))
                };
                format!(
                    "template `{file}` (line {line}) reads `{RESERVED_VIEW_FIELD}.{member}`, but \
                     the raw `{event}` payload has no field `{member}`; {has}"
                )
            }
            Problem::MissingReference {
                tag,
                written,
                relative,
                looked_at,
            } => format!(
                "template `{file}` (line {line}): `{{% {tag} \"{written}\" %}}` names \
                 `{relative}`, which does not exist (looked for `{}`); paths in \
                 `{{% {tag} %}}` are relative to the template that contains them",
                looked_at.display()
            ),
            Problem::UnusableReference {
                tag,
                written,
                reason,
            } => {
                format!("template `{file}` (line {line}): `{{% {tag} \"{written}\" %}}`: {reason}")
            }
        }
    }
}

/// The outcome of checking one event's template.
pub struct Checked {
    /// Every problem, at most one per distinct mistake, in template order.
    pub problems: Vec<Found>,
    /// The source askama compiles: the template with the paths it includes,
    /// imports or extends made absolute (unchanged when it has none).
    pub source_for_askama: String,
}

/// Reads a referenced template (injected so that tests need no files).
pub type Reader<'r> = &'r dyn Fn(&Path) -> std::io::Result<String>;

/// Checks `top` and the templates it reaches against `view`.
pub fn check(view: &View, top: &TemplateFile, read: Reader<'_>) -> Checked {
    let mut walk = Walk::default();
    let mut problems = Vec::new();
    let mut rewrites = Vec::new();
    // The event's own template first, then each template it reaches, once.
    let mut files = vec![top.clone()];
    let mut reached = vec![Reached::Top];
    // The event's template, the one it extends, the one that one extends...
    let mut chain = vec![0];
    let mut seen: HashSet<PathBuf> = HashSet::from([top.path.clone()]);
    let mut index = 0;
    while index < files.len() {
        let Some(references) = walk.file(&files[index], index, &mut problems) else {
            if index == 0 {
                // The event's own template does not parse: nothing else to say.
                return Checked {
                    problems,
                    source_for_askama: top.source.clone(),
                };
            }
            index += 1;
            continue;
        };
        for reference in references {
            let from = &files[index];
            let path = from.path.with_file_name(&reference.written);
            let relative = join_relative(&from.relative, &reference.written);
            let at = location(from, reference.offset);
            if index == 0 {
                // askama reads the event's template from a string, which has
                // no directory to resolve against: hand it the path found here.
                match askama_path(&path) {
                    Ok(absolute) => {
                        rewrites.push((reference.offset, reference.written.len(), absolute));
                    }
                    Err(reason) => {
                        problems.push(Found {
                            at,
                            problem: Problem::UnusableReference {
                                tag: reference.tag,
                                written: reference.written,
                                reason,
                            },
                        });
                        continue;
                    }
                }
            }
            if !seen.insert(path.clone()) {
                continue;
            }
            match read(&path) {
                Ok(source) => {
                    let how = match reference.tag {
                        "extends" if chain.last() == Some(&index) => {
                            chain.push(files.len());
                            Reached::Extended
                        }
                        "import" => Reached::Imported,
                        _ => Reached::Included(reference.site),
                    };
                    reached.push(how);
                    files.push(TemplateFile {
                        relative,
                        path,
                        source,
                    });
                }
                Err(_) => problems.push(Found {
                    at,
                    problem: Problem::MissingReference {
                        tag: reference.tag,
                        written: reference.written,
                        relative,
                        looked_at: path,
                    },
                }),
            }
        }
        index += 1;
    }

    let rendered = Rendered {
        walk: &walk,
        reached: &reached,
        chain: &chain,
    };
    problems.extend(walk.problems(view, &rendered, |file, offset| {
        location(&files[file], offset)
    }));
    Checked {
        problems,
        source_for_askama: rewrite(&top.source, rewrites),
    }
}

/// Checks a template given as a string, for tests: referenced files never exist.
#[cfg(test)]
pub fn check_source(view: &View, source: &str) -> Vec<Found> {
    let top = TemplateFile {
        relative: "t.html".to_owned(),
        path: PathBuf::from("/nowhere/t.html"),
        source: source.to_owned(),
    };
    check(view, &top, &|_| {
        Err(std::io::Error::from(std::io::ErrorKind::NotFound))
    })
    .problems
}

/// Checks `template`, the template of `event` found at `relative`, reporting
/// its problems on the event (its `template = "..."` if given). Returns the
/// template askama is to compile, or `None` when it has errors, so that askama
/// does not report them a second time.
pub fn check_event(
    event: &Event,
    relative: &str,
    template: Template,
    diag: &mut Diagnostics,
) -> Option<Template> {
    if custom_askama_syntax() {
        // The template may not be in the default syntax this check parses.
        return Some(template);
    }
    let view = View::of(event);
    let top = TemplateFile {
        relative: relative.to_owned(),
        path: template.path,
        source: template.source,
    };
    let checked = check(&view, &top, &|path| std::fs::read_to_string(path));
    let span = event
        .template
        .as_ref()
        .map_or(event.ident.span(), |t| t.span);
    for found in &checked.problems {
        diag.error(span, found.message(&view));
    }
    checked.problems.is_empty().then_some(Template {
        path: top.path,
        source: checked.source_for_askama,
    })
}

/// Whether the crate's `askama.toml` may change the template syntax, in
/// which case this check, which parses the default syntax, stands aside.
fn custom_askama_syntax() -> bool {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(|dir| Path::new(&dir).join("askama.toml"))
        .and_then(|path| std::fs::read_to_string(path).ok())
        .is_some_and(|config| config.contains("syntax"))
}

/// An `{% include %}`, `{% import %}` or `{% extends %}` in one template.
struct Reference {
    tag: &'static str,
    /// The path as written.
    written: String,
    /// Byte offset of the written path in the template.
    offset: usize,
    /// Where it is.
    site: Site,
}

/// Where in the templates something is: which file, inside which macro and
/// which block (askama does not compile every part of every template).
#[derive(Clone, Debug, Default)]
struct Site {
    file: usize,
    in_macro: Option<String>,
    in_block: Option<String>,
}

/// How a template was reached.
enum Reached {
    /// The event's own template.
    Top,
    /// `{% extends %}` from the event's template or from one it extends.
    Extended,
    /// `{% include %}` at this site (or an `{% extends %}` from elsewhere).
    Included(Site),
    /// `{% import %}`: only its macros are used.
    Imported,
}

/// Which sites askama compiles into the view's rendering.
struct Rendered<'w> {
    walk: &'w Walk,
    reached: &'w [Reached],
    chain: &'w [usize],
}

impl Rendered<'_> {
    /// Whether what is at `site` is compiled: a macro only when it is called,
    /// an imported template only in its macros, an included one where it is
    /// included, and along `{% extends %}` only the topmost template's content
    /// and the most derived definition of each of its blocks. Unsure cases
    /// count as not compiled, so that nothing valid is refused.
    fn compiled(&self, site: &Site) -> bool {
        if let Some(name) = &site.in_macro {
            return self.walk.called.contains(name);
        }
        match &self.reached[site.file] {
            Reached::Imported => false,
            Reached::Included(from) => self.compiled(from),
            Reached::Top | Reached::Extended => {
                let Some(at) = self.chain.iter().position(|&f| f == site.file) else {
                    return false;
                };
                let last = self.chain.len() - 1;
                match &site.in_block {
                    _ if last == 0 => true,
                    None => at == last,
                    Some(block) => {
                        let defines =
                            |i: usize| self.walk.blocks.contains(&(self.chain[i], block.clone()));
                        !(0..at).any(defines) && (at == last || (at + 1..=last).any(defines))
                    }
                }
            }
        }
    }
}

/// A name or field the templates use, found at `site`, byte `offset`.
struct Use {
    site: Site,
    offset: usize,
    kind: UseKind,
}

enum UseKind {
    /// A bare name: a local, or else a field of the view.
    Name(String),
    /// `self.name`: a field of the view.
    SelfField(String),
    /// `field.member`, not called; `via_name` when `field` is a bare name
    /// (which a local could shadow) rather than `self.field`.
    Member {
        field: String,
        member: String,
        via_name: bool,
    },
}

/// What the walk over every template learned.
#[derive(Default)]
struct Walk {
    /// Names bound anywhere: `let`, `set`, `decl`, `for`, `if let`, `match`
    /// arms, macro parameters, `call` parameters.
    bound: HashSet<String>,
    /// Names tested with `is defined` / `is not defined`.
    tested: HashSet<String>,
    uses: Vec<Use>,
    /// Macros called anywhere (by name, whatever their scope).
    called: HashSet<String>,
    /// Blocks defined: (file, name).
    blocks: HashSet<(usize, String)>,
    /// Where the walk is, and the references found in the file so far.
    site: Site,
    /// Above zero inside branches askama may drop at compile time (`{% if
    /// false %}`, `is defined`): uses there are not reported.
    unsure: usize,
    references: Vec<Reference>,
    /// The source being walked, to place references.
    source_start: usize,
    source_len: usize,
}

/// Names askama gives a meaning of its own (`super` and `caller` are only
/// ever called, but a `{% set c = caller %}` names one).
const BUILT_IN_NAMES: [&str; 4] = ["self", "loop", "caller", "super"];

impl Walk {
    /// Walks one template; `None` (and a problem) when it does not parse.
    fn file(
        &mut self,
        file: &TemplateFile,
        index: usize,
        problems: &mut Vec<Found>,
    ) -> Option<Vec<Reference>> {
        let ast = match Ast::from_str(&file.source, None, &Syntax::default()) {
            Ok(ast) => ast,
            Err(e) => {
                let reason = e
                    .message
                    .map_or_else(|| "askama cannot read it".to_owned(), |m| m.into_owned());
                problems.push(Found {
                    at: location(file, e.offset),
                    problem: Problem::Syntax {
                        reason,
                        snippet: snippet(&file.source, e.offset),
                    },
                });
                return None;
            }
        };
        self.site = Site {
            file: index,
            ..Site::default()
        };
        self.source_start = file.source.as_ptr() as usize;
        self.source_len = file.source.len();
        self.nodes(ast.nodes());
        Some(std::mem::take(&mut self.references))
    }

    fn bind(&mut self, name: &str) {
        self.bound.insert(name.to_owned());
    }

    fn used(&mut self, span: Span, kind: UseKind) {
        if self.unsure > 0 {
            return;
        }
        let offset = span.byte_range().map_or(0, |r| r.start);
        self.uses.push(Use {
            site: self.site.clone(),
            offset,
            kind,
        });
    }

    fn reference(&mut self, tag: &'static str, written: &str) {
        // The parser hands the path as a slice of the template source; where
        // it is not (it always is, in askama_parser 0.16), the line is unknown.
        let start = written.as_ptr() as usize;
        let offset = start
            .checked_sub(self.source_start)
            .filter(|o| o + written.len() <= self.source_len)
            .unwrap_or(0);
        self.references.push(Reference {
            tag,
            written: written.to_owned(),
            offset,
            site: self.site.clone(),
        });
    }

    fn nodes(&mut self, nodes: &[Box<Node<'_>>]) {
        for node in nodes {
            self.node(node);
        }
    }

    fn node(&mut self, node: &Node<'_>) {
        match node {
            Node::Lit(_) | Node::Comment(_) | Node::Raw(_) | Node::Break(_) | Node::Continue(_) => {
            }
            Node::Expr(_, expr) => self.expr(expr),
            Node::Call(call) => {
                self.called.insert((*call.name).to_owned());
                for name in &call.caller_args {
                    self.bind(name);
                }
                for arg in call.args.iter().flatten() {
                    self.expr(arg);
                }
                self.nodes(&call.nodes);
            }
            Node::Let(l) => {
                self.target(&l.var);
                match &l.val {
                    LetValueOrBlock::Value(value) => self.expr(value),
                    LetValueOrBlock::Block { nodes, .. } => self.nodes(nodes),
                }
            }
            Node::Compound(compound) => {
                self.expr(&compound.op.lhs);
                self.expr(&compound.op.rhs);
            }
            Node::Declare(declare) => self.bind(&declare.var_name),
            Node::If(i) => {
                // askama decides such an `if` at compile time, and compiles
                // only the branch it takes.
                let decided = i.branches.iter().any(|b| {
                    b.cond
                        .as_ref()
                        .is_some_and(|c| c.contains_bool_lit_or_is_defined)
                });
                self.unsure += usize::from(decided);
                for branch in &i.branches {
                    if let Some(cond) = &branch.cond {
                        self.cond(cond);
                    }
                    self.nodes(&branch.nodes);
                }
                self.unsure -= usize::from(decided);
            }
            Node::Match(m) => {
                self.expr(&m.expr);
                for arm in &m.arms {
                    for target in &arm.target {
                        self.target(target);
                    }
                    self.nodes(&arm.nodes);
                }
            }
            Node::Loop(l) => {
                self.target(&l.var);
                self.expr(&l.iter);
                if let Some(cond) = &l.cond {
                    self.expr(cond);
                }
                self.nodes(&l.body);
                self.nodes(&l.else_nodes);
            }
            Node::Extends(e) => self.reference("extends", e.path),
            Node::Include(i) => self.reference("include", i.path),
            Node::Import(i) => self.reference("import", i.path),
            Node::BlockDef(block) => {
                let name = (*block.name).to_owned();
                self.blocks.insert((self.site.file, name.clone()));
                let outer = self.site.in_block.replace(name);
                self.nodes(&block.nodes);
                self.site.in_block = outer;
            }
            Node::Macro(m) => {
                let outer = self.site.in_macro.replace((*m.name).to_owned());
                for arg in &m.args {
                    self.bind(&arg.name);
                    if let Some(default) = &arg.default {
                        self.expr(default);
                    }
                }
                self.nodes(&m.nodes);
                self.site.in_macro = outer;
            }
            Node::FilterBlock(block) => {
                self.filter(&block.filters);
                self.nodes(&block.nodes);
            }
        }
    }

    fn cond(&mut self, cond: &CondTest<'_>) {
        if let Some(target) = &cond.target {
            self.target(target);
        }
        self.expr(&cond.expr);
    }

    fn target(&mut self, target: &Target<'_>) {
        match target {
            Target::Name(name) => self.bind(name),
            Target::Tuple(tuple) => tuple.1.iter().for_each(|t| self.target(t)),
            Target::Array(items) | Target::OrChain(items) => {
                items.iter().for_each(|t| self.target(t));
            }
            Target::Struct(fields) => fields.1.iter().for_each(|f| self.target(&f.dest)),
            Target::Rest(rest) => {
                if let Some(name) = &**rest {
                    self.bind(name);
                }
            }
            Target::NumLit(..)
            | Target::StrLit(_)
            | Target::CharLit(_)
            | Target::BoolLit(_)
            | Target::Path(_)
            | Target::Placeholder(_) => {}
        }
    }

    fn filter(&mut self, filter: &Filter<'_>) {
        // The filter's name is a filter, not a value; its arguments are values.
        for arg in &filter.arguments {
            self.expr(arg);
        }
    }

    fn expr(&mut self, expr: &WithSpan<Box<Expr<'_>>>) {
        self.expr_at(expr, false);
    }

    /// `called`: `expr` is what a call calls (a method, a macro, `caller`,
    /// `super`, a function), which is not looked up as a value.
    fn expr_at(&mut self, expr: &WithSpan<Box<Expr<'_>>>, called: bool) {
        let span = expr.span();
        match &***expr {
            Expr::BoolLit(_)
            | Expr::NumLit(..)
            | Expr::StrLit(_)
            | Expr::CharLit(_)
            | Expr::Path(_)
            | Expr::RustMacro(..)
            | Expr::FilterSource
            | Expr::ArgumentPlaceholder => {}
            Expr::Var(name) => {
                if !called {
                    self.used(span, UseKind::Name((*name).to_owned()));
                }
            }
            Expr::IsDefined(name) | Expr::IsNotDefined(name) => {
                self.tested.insert((*name).to_owned());
            }
            Expr::Array(items) | Expr::Tuple(items) | Expr::Concat(items) => {
                items.iter().for_each(|e| self.expr(e));
            }
            Expr::ArrayRepeat(a, b) | Expr::Index(a, b) => {
                self.expr(a);
                self.expr(b);
            }
            Expr::AssociatedItem(obj, item) => self.member(span, obj, item, called),
            Expr::Filter(filter) => self.filter(filter),
            Expr::As(e, _)
            | Expr::Unary(_, e)
            | Expr::Group(e)
            | Expr::Try(e)
            | Expr::NamedArgument(_, e) => self.expr(e),
            Expr::BinOp(op) => {
                self.expr(&op.lhs);
                self.expr(&op.rhs);
            }
            Expr::Range(range) => {
                for side in [&range.lhs, &range.rhs].into_iter().flatten() {
                    self.expr(side);
                }
            }
            Expr::Call(call) => {
                // `{{ name() }}` and `{{ scope::name() }}` may call a macro.
                match &**call.path {
                    Expr::Var(name) => {
                        self.called.insert((*name).to_owned());
                    }
                    Expr::Path(path) => {
                        if let Some(last) = path.last() {
                            self.called.insert((*last.name).to_owned());
                        }
                    }
                    _ => {}
                }
                self.expr_at(&call.path, true);
                call.args.iter().for_each(|a| self.expr(a));
            }
            Expr::Struct(s) => {
                self.expr_at(&s.path, true);
                for value in s.fields.iter().filter_map(|f| f.value.as_ref()) {
                    self.expr(value);
                }
                if let Some(base) = &s.base {
                    self.expr(base);
                }
            }
            Expr::LetCond(cond) => self.cond(cond),
        }
    }

    /// `obj.item`: a field when not `called`, else a method.
    fn member(
        &mut self,
        span: Span,
        obj: &WithSpan<Box<Expr<'_>>>,
        item: &AssociatedItem<'_>,
        called: bool,
    ) {
        let member = (*item.name).to_owned();
        match &***obj {
            Expr::Var("self") => {
                if !called {
                    self.used(span, UseKind::SelfField(member));
                }
                return;
            }
            Expr::Var(name) if !called => self.used(
                span,
                UseKind::Member {
                    field: (*name).to_owned(),
                    member,
                    via_name: true,
                },
            ),
            Expr::AssociatedItem(inner, field)
                if !called && matches!(***inner, Expr::Var("self")) =>
            {
                self.used(
                    span,
                    UseKind::Member {
                        field: (*field.name).to_owned(),
                        member,
                        via_name: false,
                    },
                );
            }
            _ => {}
        }
        self.expr(obj);
    }

    /// The problems the uses make, one per distinct mistake, in order.
    fn problems(
        &self,
        view: &View,
        rendered: &Rendered<'_>,
        locate: impl Fn(usize, usize) -> Location,
    ) -> Vec<Found> {
        let mut reported = BTreeSet::new();
        let mut found = Vec::new();
        for u in self.uses.iter().filter(|u| rendered.compiled(&u.site)) {
            let problem = match &u.kind {
                UseKind::Name(name) => {
                    let known = name == RESERVED_VIEW_FIELD
                        || view.is_shown_field(name)
                        || BUILT_IN_NAMES.contains(&name.as_str())
                        || self.bound.contains(name)
                        || self.tested.contains(name);
                    (!known).then(|| Problem::UnknownName { name: name.clone() })
                }
                UseKind::SelfField(name) => {
                    let known = name == RESERVED_VIEW_FIELD
                        || view.is_shown_field(name)
                        || self.tested.contains(name);
                    (!known).then(|| Problem::UnknownName { name: name.clone() })
                }
                UseKind::Member {
                    field,
                    member,
                    via_name,
                } => {
                    if *via_name && self.bound.contains(field) {
                        None
                    } else if field == RESERVED_VIEW_FIELD {
                        (!view.fields.contains(member)).then(|| Problem::UnknownPayloadField {
                            member: member.clone(),
                        })
                    } else if view.is_shown_field(field) {
                        Some(Problem::ShownFieldAccess {
                            field: field.clone(),
                            member: member.clone(),
                        })
                    } else {
                        // Not a view field: its own use reports it.
                        None
                    }
                }
            };
            if let Some(problem) = problem
                && reported.insert(format!("{problem:?}"))
            {
                found.push(Found {
                    at: locate(u.site.file, u.offset),
                    problem,
                });
            }
        }
        found
    }
}

/// Line and column of byte `offset` in `file`.
fn location(file: &TemplateFile, offset: usize) -> Location {
    let (line, column) = line_column(&file.source, offset);
    Location {
        file: file.relative.clone(),
        line,
        column,
    }
}

/// 1-based line and column (in characters) of byte `offset`.
fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..floor_char_boundary(source, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn floor_char_boundary(source: &str, offset: usize) -> usize {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The line holding `offset` with a caret under it, to follow a message.
fn snippet(source: &str, offset: usize) -> String {
    let offset = floor_char_boundary(source, offset);
    let (line, column) = line_column(source, offset);
    let start = source[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = source[offset..]
        .find('\n')
        .map_or(source.len(), |i| offset + i);
    let text = source[start..end].trim_end_matches('\r');
    let number = line.to_string();
    let pad = " ".repeat(number.len());
    let caret_pad: String = text
        .chars()
        .take(column - 1)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    format!("\n{pad} |\n{number} | {text}\n{pad} | {caret_pad}^")
}

/// `relative` of a template written as `written` in the template at `from`
/// (both relative to the crate root), with `.` and `..` resolved.
fn join_relative(from: &str, written: &str) -> String {
    let mut parts: Vec<String> = Path::new(from)
        .parent()
        .map(|dir| {
            dir.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    for component in Path::new(written).components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.pop().is_none() {
                    parts.push("..".to_owned());
                }
            }
            other => parts.push(other.as_os_str().to_string_lossy().into_owned()),
        }
    }
    parts.join("/")
}

/// `path` as askama reads it inside a string literal of the template.
fn askama_path(path: &Path) -> Result<String, String> {
    let Some(text) = path.to_str() else {
        return Err(format!(
            "the template path `{}` is not valid UTF-8",
            path.display()
        ));
    };
    let text = if cfg!(windows) {
        text.replace('\\', "/")
    } else {
        text.to_owned()
    };
    if text.contains(['"', '\\']) {
        return Err(format!(
            "askama cannot be handed the path `{text}`, which holds a `\"` or `\\`; move the \
             templates to a directory without them"
        ));
    }
    Ok(text)
}

/// `source` with each `(offset, len, text)` range replaced, in order.
fn rewrite(source: &str, mut rewrites: Vec<(usize, usize, String)>) -> String {
    rewrites.sort_by_key(|r| r.0);
    let mut out = String::with_capacity(source.len());
    let mut at = 0;
    for (offset, len, text) in rewrites {
        if offset < at || source.get(offset..offset + len).is_none() {
            continue;
        }
        out.push_str(&source[at..offset]);
        out.push_str(&text);
        at = offset + len;
    }
    out.push_str(&source[at..]);
    out
}

#[cfg(test)]
mod tests;
