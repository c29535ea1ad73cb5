//! Running an application's commands in tests and asserting what they
//! emitted: [`Harness`] and [`Emitted`].

use std::fmt::Write as _;
use std::marker::PhantomData;
use std::ops::Deref;

use crate::actor::Actor;
use crate::catalog::{EventCatalog, EventType};
use crate::decode::Decoded;
use crate::present::{PresentContext, Resolver, plain_text};
use crate::reference::{EntityRef, References};
use crate::store::{Audit, AuditError, Auditor, StoredEvent};

/// Runs an application's commands on a test database with its
/// migrations, one transaction per [`run`](Harness::run), and returns the
/// events each committed, read back from the database, to assert on
/// ([`Emitted`]).
///
/// ```no_run
/// # audit_core::declare_events! {
/// #     #[events(templates = "tests/templates")]
/// #     pub enum DocEvent {
/// #         #[event(code = "project_created", label = "Project created", group = "Projects")]
/// #         ProjectCreated { name: String },
/// #     }
/// # }
/// # #[audit_core::auditable(emits(ProjectCreated))]
/// # async fn add_project(cx: &mut audit_core::Audit<DocEvent>, name: &str) -> Result<(), audit_core::AuditError> {
/// #     cx.emit(ProjectCreated { name: name.into() })
/// # }
/// # async fn migrate(auditor: &audit_core::Auditor) -> Result<(), audit_core::AuditError> { auditor.migrate().await }
/// use audit_core::testing::Harness;
///
/// # async fn test() {
/// let mut harness = Harness::<DocEvent>::sqlite("add_project", migrate).await;
/// let events = harness.run(async |cx| add_project(cx, "Apollo").await).await.unwrap();
/// events.assert_emitted([ProjectCreated { name: "Apollo".into() }]);
/// assert_eq!(events.rendered(), ["created project Apollo"]);
/// # }
/// ```
///
/// The harness is the only writer of its database: it reads back the
/// events a run committed by id, which is commit order only then.
pub struct Harness<E: EventCatalog> {
    auditor: Auditor,
    actor: Actor,
    seen: i64,
    _catalog: PhantomData<fn() -> E>,
}

impl<E: EventCatalog> std::fmt::Debug for Harness<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("backend", &self.auditor.backend())
            .field("actor", &self.actor)
            .field("seen", &self.seen)
            .finish()
    }
}

impl<E: EventCatalog> Harness<E> {
    /// A harness on `auditor`, whose database has its migrations; runs act
    /// for the system process `test` until [`act_as`](Self::act_as).
    /// Events already in the database are not reported.
    ///
    /// # Panics
    ///
    /// When the database cannot be read.
    pub async fn new(auditor: Auditor) -> Self {
        let mut harness = Harness {
            auditor,
            actor: Actor::system("test"),
            seen: 0,
            _catalog: PhantomData,
        };
        harness.new_events().await;
        harness
    }

    /// The auditor, for set-up and reads of the application's own.
    pub fn auditor(&self) -> &Auditor {
        &self.auditor
    }

    /// `"sqlite"` or `"postgres"`, for assertion messages.
    pub fn label(&self) -> &'static str {
        self.auditor.backend().name()
    }

    /// Whom the runs act for.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Makes the following runs act for `actor`.
    pub fn act_as(&mut self, actor: Actor) -> &mut Self {
        self.actor = actor;
        self
    }

    /// Runs `command` in a new audited transaction acting for the
    /// harness's actor, commits it when it returns `Ok` (rolls it back
    /// otherwise, returning its error), and returns its value with the
    /// events the transaction committed, in order:
    ///
    /// ```
    /// # audit_core::declare_events! {
    /// #     #[events(templates = "tests/templates")]
    /// #     pub enum DocEvent {
    /// #         #[event(code = "project_created", label = "Project created", group = "Projects")]
    /// #         ProjectCreated { name: String },
    /// #     }
    /// # }
    /// # use audit_core::{Audit, AuditError, Auditor, auditable};
    /// # use audit_core::testing::Harness;
    /// /// Records a project. Given an empty name it emits nothing, and fails:
    /// /// `ProjectCreated` is required.
    /// #[auditable(emits(ProjectCreated))]
    /// async fn add_project(cx: &mut Audit<DocEvent>, name: &str) -> Result<(), AuditError> {
    ///     if !name.is_empty() {
    ///         cx.emit(ProjectCreated { name: name.into() })?;
    ///     }
    ///     Ok(())
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), AuditError> {
    /// # let mut harness = Harness::<DocEvent>::sqlite("run", Auditor::migrate).await;
    /// let events = harness.run(async |cx| add_project(cx, "Apollo").await).await?;
    /// assert_eq!(events.codes(), ["project_created"]);
    ///
    /// // A command that fails is rolled back: it recorded nothing.
    /// let failed = harness.run(async |cx| add_project(cx, "").await).await;
    /// assert!(matches!(failed, Err(AuditError::MissingEvent { .. })));
    /// harness.new_events().await.assert_none();
    /// # Ok(()) }
    /// ```
    ///
    /// # Panics
    ///
    /// When the transaction cannot begin, or the events cannot be read back.
    pub async fn run<T, Er, F>(&mut self, command: F) -> Result<Emitted<E, T>, Er>
    where
        F: AsyncFnOnce(&mut Audit<E>) -> Result<T, Er>,
        Er: From<AuditError>,
    {
        let mut audit = self
            .auditor
            .begin::<E>(self.actor.clone())
            .await
            .unwrap_or_else(|e| panic!("beginning a transaction on {}: {e}", self.label()));
        match command(&mut audit).await {
            Ok(value) => {
                audit.commit().await?;
                let events = self.new_events().await.events;
                Ok(Emitted { value, events })
            }
            Err(error) => {
                drop(audit);
                Err(error)
            }
        }
    }

    /// The events committed since the last run or call, in order (none
    /// after a run that failed, when it left nothing behind).
    ///
    /// # Panics
    ///
    /// When the events cannot be read.
    pub async fn new_events(&mut self) -> Emitted<E, ()> {
        let events = crate::store::after_id::<E>(self.auditor.pool(), self.seen)
            .await
            .unwrap_or_else(|e| panic!("reading the events on {}: {e}", self.label()));
        if let Some(last) = events.last() {
            self.seen = last.id;
        }
        Emitted { value: (), events }
    }
}

/// What one run committed: the command's value and its events, oldest
/// first. It dereferences to the events (`events[0].actor`,
/// `events.len()`); its assertions panic with a readable diff.
#[derive(Debug, Clone)]
pub struct Emitted<E, T = ()> {
    value: T,
    events: Vec<StoredEvent<E>>,
}

impl<E, T> Deref for Emitted<E, T> {
    type Target = [StoredEvent<E>];
    fn deref(&self) -> &[StoredEvent<E>] {
        &self.events
    }
}

impl<E: EventCatalog, T> Emitted<E, T> {
    /// What the command returned.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// What the command returned, taken out.
    pub fn into_value(self) -> T {
        self.value
    }

    /// The events as stored, oldest first.
    pub fn events(&self) -> &[StoredEvent<E>] {
        &self.events
    }

    /// The type codes, in order.
    pub fn codes(&self) -> Vec<&str> {
        self.events.iter().map(|e| e.event.code()).collect()
    }

    /// The stored references (target, parent, subject), in order.
    pub fn references(&self) -> Vec<&References> {
        self.events.iter().map(|e| &e.references).collect()
    }

    /// The typed events, in order.
    ///
    /// # Panics
    ///
    /// When one is unknown to the catalog, naming it and why.
    #[track_caller]
    pub fn known(&self) -> Vec<&E> {
        self.events
            .iter()
            .map(|e| match &e.event {
                Decoded::Known(event) => event,
                Decoded::Unknown(unknown) => panic!(
                    "event {} (`{}`) is unknown: {}",
                    e.id, unknown.code, unknown.reason
                ),
            })
            .collect()
    }

    /// The events as text, rendered with nothing looked up (what each
    /// template shows from its payload alone), markup removed.
    pub fn rendered(&self) -> Vec<String> {
        self.html(&PresentContext::new())
            .iter()
            .map(|html| plain_text(html))
            .collect()
    }

    /// The events as text, rendered as a page shows them: references looked
    /// up through `resolver` ([`PresentContext::for_page`]), markup removed.
    ///
    /// # Panics
    ///
    /// When the resolver fails.
    pub async fn rendered_with<R>(&self, resolver: &R) -> Vec<String>
    where
        R: Resolver,
        R::Error: std::fmt::Debug,
    {
        let cx = PresentContext::for_page(&self.events, resolver)
            .await
            .unwrap_or_else(|e| panic!("resolving the events' references: {e:?}"));
        self.html(&cx).iter().map(|html| plain_text(html)).collect()
    }

    /// The events as HTML, rendered with `cx` ([`StoredEvent::render`]).
    pub fn html(&self, cx: &PresentContext) -> Vec<String> {
        self.events.iter().map(|e| e.render(cx)).collect()
    }

    /// Asserts that the run emitted exactly `expected`, in order: the same
    /// payloads (so the same types), and stored references that are the
    /// ones those payloads make. Takes events of the catalog or payloads
    /// that convert into it (`[ProjectCreated { .. }]`; mix types with
    /// `StaffEvent::from(..)`).
    ///
    /// # Panics
    ///
    /// When they differ, with a diff (`-` expected, `+` emitted, one line
    /// per event) and the fields that differ between events at the same place.
    #[track_caller]
    pub fn assert_emitted<I>(&self, expected: I)
    where
        I: IntoIterator,
        I::Item: Into<E>,
    {
        let expected: Vec<E> = expected.into_iter().map(Into::into).collect();
        let same = expected.len() == self.events.len()
            && expected.iter().zip(&self.events).all(|(want, got)| {
                got.event.known() == Some(want) && got.references == want.references()
            });
        if same {
            return;
        }
        let want: Vec<Line> = expected.iter().map(Line::expected).collect();
        let got: Vec<Line> = self.events.iter().map(Line::stored).collect();
        panic!("{}", report(&want, &got));
    }

    /// Asserts the type codes of the events, in order.
    ///
    /// # Panics
    ///
    /// When they differ, with a diff.
    #[track_caller]
    pub fn assert_codes<S: AsRef<str>>(&self, expected: impl IntoIterator<Item = S>) {
        let want: Vec<String> = expected
            .into_iter()
            .map(|s| s.as_ref().to_owned())
            .collect();
        let got: Vec<String> = self.codes().into_iter().map(str::to_owned).collect();
        if want != got {
            panic!(
                "the event types differ (- expected, + emitted):\n{}",
                diff(&want, &got)
            );
        }
    }

    /// Asserts that no event was committed.
    ///
    /// # Panics
    ///
    /// When one was, listing them.
    #[track_caller]
    pub fn assert_none(&self) {
        if !self.events.is_empty() {
            let got: Vec<Line> = self.events.iter().map(Line::stored).collect();
            panic!("{}", report(&[], &got));
        }
    }
}

/// One event as an assertion shows it: its code, its payload as JSON and
/// its references, on one line; and the payload's fields, to compare.
struct Line {
    code: String,
    fields: serde_json::Value,
    text: String,
}

impl Line {
    fn new(code: &str, payload: &str, refs: &References, unknown: Option<&str>) -> Line {
        let fields: serde_json::Value = serde_json::from_str(payload)
            .unwrap_or_else(|_| serde_json::Value::String(payload.to_owned()));
        let mut text = format!("{code} {fields}");
        for (name, entity) in [
            ("target", &refs.target),
            ("parent", &refs.parent),
            ("subject", &refs.subject),
        ] {
            if let Some(EntityRef { kind, id }) = entity {
                let _ = write!(text, " {name}={kind}:{id}");
            }
        }
        if let Some(reason) = unknown {
            let _ = write!(text, " (unknown: {reason})");
        }
        Line {
            code: code.to_owned(),
            fields,
            text,
        }
    }

    /// A typed event with the references it is compared with.
    fn known<E: EventCatalog>(event: &E, references: &References) -> Line {
        let payload = event
            .payload_json()
            .unwrap_or_else(|e| format!("(cannot serialize: {e})"));
        Line::new(event.event_type().code(), &payload, references, None)
    }

    fn expected<E: EventCatalog>(event: &E) -> Line {
        Line::known(event, &event.references())
    }

    fn stored<E: EventCatalog>(stored: &StoredEvent<E>) -> Line {
        match &stored.event {
            Decoded::Known(event) => Line::known(event, &stored.references),
            Decoded::Unknown(unknown) => Line::new(
                &unknown.code,
                &unknown.raw,
                &stored.references,
                Some(&unknown.reason.to_string()),
            ),
        }
    }
}

/// The whole failure message of `assert_emitted`: the diff, then, for each
/// place where both have an event of the same type, the fields that differ.
fn report(want: &[Line], got: &[Line]) -> String {
    let texts = |lines: &[Line]| lines.iter().map(|l| l.text.clone()).collect::<Vec<_>>();
    let mut out = format!(
        "the emitted events differ from the expected ones: {} expected, {} emitted \
         (- expected, + emitted):\n{}",
        want.len(),
        got.len(),
        diff(&texts(want), &texts(got))
    );
    for (i, (w, g)) in want.iter().zip(got).enumerate() {
        if w.code != g.code || w.text == g.text {
            continue;
        }
        let _ = writeln!(out, "event {} (`{}`) differs:", i + 1, w.code);
        let (serde_json::Value::Object(wf), serde_json::Value::Object(gf)) = (&w.fields, &g.fields)
        else {
            continue;
        };
        let mut names: Vec<&String> = wf.keys().chain(gf.keys()).collect();
        names.sort();
        names.dedup();
        for name in names {
            let (a, b) = (wf.get(name), gf.get(name));
            if a != b {
                let show = |v: Option<&serde_json::Value>| {
                    v.map_or_else(|| "(absent)".to_owned(), |v| v.to_string())
                };
                let _ = writeln!(out, "    {name}: expected {}, emitted {}", show(a), show(b));
            }
        }
    }
    out
}

/// A line diff of `want` and `got` (longest common subsequence): common
/// lines start with two spaces, missing ones with `- `, extra ones with `+ `.
fn diff(want: &[String], got: &[String]) -> String {
    let (n, m) = (want.len(), got.len());
    // lcs[i][j]: the longest common subsequence of want[i..] and got[j..].
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if want[i] == got[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = String::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && want[i] == got[j] {
            let _ = writeln!(out, "  {}", want[i]);
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            let _ = writeln!(out, "- {}", want[i]);
            i += 1;
        } else {
            let _ = writeln!(out, "+ {}", got[j]);
            j += 1;
        }
    }
    if n == 0 && m == 0 {
        out.push_str("  (no events)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::diff;

    fn lines(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_diff_keeps_common_lines_and_marks_the_others() {
        assert_eq!(
            diff(&lines(&["a", "b", "c"]), &lines(&["a", "x", "c", "d"])),
            "  a\n- b\n+ x\n  c\n+ d\n"
        );
        assert_eq!(diff(&lines(&["a"]), &[]), "- a\n");
        assert_eq!(diff(&[], &[]), "  (no events)\n");
    }
}
