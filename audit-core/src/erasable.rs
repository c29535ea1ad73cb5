//! What a `#[personal]` payload field reads back as once its value was
//! erased from the log.

/// The text a personal `String` field reads back as once erased.
pub const ERASED_TEXT: &str = "[erased]";

/// What a `#[personal]` field reads back as once its value was erased from
/// the log.
///
/// Erasing a person's data leaves `null` where a personal field's value was
/// stored; decoding reads that `null` as [`erased`](Self::erased) (any other
/// stored value reads as before), so that an erased event still decodes and
/// renders. The type of every `#[personal]` field of a catalog implements it:
/// audit-core does for `String` ([`ERASED_TEXT`]), `Option<T>` (`None`) and
/// `Vec<T>` (empty); an application implements it for its own types (a
/// reference to a user might read back as a user with no id and a name
/// saying it was erased).
///
/// ```
/// use audit_core::events::{ERASED_TEXT, Erasable};
///
/// assert_eq!(String::erased(), ERASED_TEXT);
/// assert_eq!(<Option<u32>>::erased(), None);
/// assert!(<Vec<String>>::erased().is_empty());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a `#[personal]` field",
    label = "a `#[personal]` field's type must say what it reads back as once erased",
    note = "implement `audit_core::events::Erasable` for `{Self}`: what the field reads back as once erased"
)]
pub trait Erasable {
    /// The value the field reads back as once erased.
    fn erased() -> Self;
}

impl Erasable for String {
    /// [`ERASED_TEXT`].
    fn erased() -> Self {
        ERASED_TEXT.to_owned()
    }
}

impl<T> Erasable for Option<T> {
    /// `None`.
    fn erased() -> Self {
        None
    }
}

impl<T> Erasable for Vec<T> {
    /// Empty.
    fn erased() -> Self {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erased_values() {
        assert_eq!(String::erased(), "[erased]");
        assert_eq!(<Option<String>>::erased(), None);
        assert_eq!(<Vec<u8>>::erased(), Vec::<u8>::new());
    }
}
