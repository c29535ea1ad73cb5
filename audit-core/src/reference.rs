//! References from events to application objects: what the `#[target]`,
//! `#[parent]` and `#[subject]` fields store in the indexed columns.

use std::borrow::Cow;
use std::fmt::Display;

/// The indexed references of one event, taken from its `#[target]`,
/// `#[parent]` and `#[subject]` fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct References {
    /// The object the event changed.
    pub target: Option<EntityRef>,
    /// The object the target belongs to (a membership's project, say).
    pub parent: Option<EntityRef>,
    /// The person the event is about.
    pub subject: Option<EntityRef>,
}

/// A reference to one application object: its kind and its id, both as stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityRef {
    /// What kind of object (`project`, `user`); stable, as it is stored.
    pub kind: Cow<'static, str>,
    /// The object's id within its kind.
    pub id: String,
}

impl EntityRef {
    /// A reference to the object of `kind` with `id`.
    pub fn new(kind: impl Into<Cow<'static, str>>, id: impl Into<String>) -> Self {
        EntityRef {
            kind: kind.into(),
            id: id.into(),
        }
    }
}

impl Display for EntityRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind, self.id)
    }
}

/// A type that can be a `#[target]`, `#[parent]` or `#[subject]` field.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an event's target, parent or subject",
    label = "marked field of type `{Self}`",
    note = "implement `audit_core::events::Reference` for `{Self}` to say which object it refers to"
)]
pub trait Reference {
    /// The referenced object's kind and id.
    fn entity_ref(&self) -> EntityRef;
}

impl<T: Reference + ?Sized> Reference for &T {
    fn entity_ref(&self) -> EntityRef {
        (**self).entity_ref()
    }
}

impl Reference for EntityRef {
    fn entity_ref(&self) -> EntityRef {
        self.clone()
    }
}
